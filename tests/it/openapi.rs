//! `schema/openapi.json`: generated from the kit's schemas, never a hand-kept copy.

use alipay_cancel_kit::openapi::{self, LIVE_PATH, SANDBOX_PATH};
use alipay_cancel_kit::schema::Schema;
use alipay_cancel_kit::spec::result_code_table;
use serde_json::{json, Value};

fn repo_file(path: &str) -> String {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {full}: {e}"))
}

/// The committed file is exactly what the kit generates now; `UPDATE_OPENAPI=1` rewrites it.
#[test]
fn committed_document_is_generated() {
    let generated = openapi::render();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        let full = format!("{}/{}", env!("CARGO_MANIFEST_DIR"), openapi::PATH);
        std::fs::write(&full, &generated).unwrap();
    }
    let committed = repo_file(openapi::PATH);
    assert!(
        committed == generated,
        "{} drifted from the kit's schemas: regenerate it with UPDATE_OPENAPI=1 cargo test openapi",
        openapi::PATH
    );
}

/// A validator over the document's own components, resolving `#/components/...` references
/// inside the document: proves the rewritten references hold together without the kit's `$id`s.
fn component_validator(name: &str) -> jsonschema::Validator {
    let doc = openapi::document();
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/components/schemas/{name}"),
        "components": doc["components"].clone(),
    });
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("component {name} does not compile: {e}"))
}

#[test]
fn every_result_row_is_a_named_example_valid_against_the_document_and_the_kit() {
    let doc = openapi::document();
    let response = component_validator("CancelResponse");
    for path in [LIVE_PATH, SANDBOX_PATH] {
        let examples = &doc["paths"][path]["post"]["responses"]["200"]["content"]
            ["application/json"]["examples"];
        let names: Vec<&String> = examples.as_object().unwrap().keys().collect();
        let codes: Vec<&String> = result_code_table().iter().map(|r| &r.result_code).collect();
        assert_eq!(
            names, codes,
            "{path}: one example per row, in the table's order"
        );
        for row in result_code_table() {
            let value = &examples[&row.result_code]["value"];
            assert_eq!(value["result"]["resultStatus"], row.result_status.as_str());
            assert!(
                response.is_valid(value),
                "{path} {}: {value}",
                row.result_code
            );
            assert!(
                Schema::Response.is_valid(value),
                "{}: {value}",
                row.result_code
            );
        }
    }
}

/// The document's component schemas reject what the kit's schemas reject: a code with the
/// wrong status, a number where a string belongs, an S without its ids.
#[test]
fn components_keep_the_kits_rules() {
    let response = component_validator("CancelResponse");
    let request = component_validator("CancelRequest");
    let bad_responses = [
        json!({"result": {"resultCode": "ORDER_NOT_EXIST", "resultStatus": "U"}}),
        json!({"result": {"resultCode": "SUCCESS", "resultStatus": "S"}}),
        json!({"paymentId": "1"}),
    ];
    for body in &bad_responses {
        assert!(!Schema::Response.is_valid(body), "the kit rejects {body}");
        assert!(!response.is_valid(body), "the document rejects {body}");
    }
    let bad_requests = [
        json!({"paymentId": 20}),
        json!({}),
        json!({"paymentRequestId": "x".repeat(65)}),
    ];
    for body in &bad_requests {
        assert!(!Schema::Request.is_valid(body), "the kit rejects {body}");
        assert!(!request.is_valid(body), "the document rejects {body}");
    }
    assert!(request.is_valid(&json!({"paymentRequestId": "pay-1", "paymentId": null})));
}

#[test]
fn both_paths_need_the_signed_headers_and_say_openapi_cannot_check_them() {
    let doc = openapi::document();
    for path in [LIVE_PATH, SANDBOX_PATH] {
        let refs: Vec<&Value> = doc["paths"][path]["post"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| &p["$ref"])
            .collect();
        assert_eq!(refs.len(), 3, "{path}");
    }
    for name in ["Client-Id", "Request-Time", "Signature"] {
        let header = &doc["components"]["parameters"][name];
        assert_eq!(header["in"], "header");
        assert_eq!(header["required"], true, "{name}");
    }
    let signature = doc["components"]["parameters"]["Signature"]["description"]
        .as_str()
        .unwrap();
    assert!(signature.contains("OpenAPI cannot express this signature"));
    assert!(signature.contains("POST <path>\\n<Client-Id>.<Request-Time>.<body>"));
    for name in ["client-id", "response-time", "signature"] {
        assert!(doc["components"]["headers"][name].is_object(), "{name}");
    }
}
