//! The JSON Schemas: they compile, they cite their rules, and the parts derived from the
//! result-code table equal what the table dictates.

use alipay_cancel_kit::schema::{known_code_status_rules, Schema};
use alipay_cancel_kit::spec::Rule;
use serde_json::json;

const BODY_SCHEMAS: [Schema; 4] = [
    Schema::Request,
    Schema::Response,
    Schema::Result,
    Schema::ResultCodes,
];

#[test]
fn every_schema_compiles_and_names_its_file() {
    for schema in Schema::ALL {
        schema
            .try_compile()
            .unwrap_or_else(|e| panic!("{schema}: {e}"));
        let file = schema.path().rsplit('/').next().unwrap();
        assert!(
            schema.id().ends_with(&format!("/schema/{file}")),
            "{schema}: $id {}",
            schema.id()
        );
        assert_eq!(
            schema.value()["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
    }
}

#[test]
fn body_schemas_have_titles_and_descriptions_citing_rules() {
    for schema in BODY_SCHEMAS {
        let value = schema.value();
        assert!(value["title"].is_string(), "{schema}");
        assert!(value["description"].is_string(), "{schema}");
    }
    // Every property of the bodies cites the rule id it encodes.
    for schema in [Schema::Request, Schema::Response, Schema::Result] {
        for (name, property) in schema.value()["properties"].as_object().unwrap() {
            let description = property["description"].as_str().unwrap_or_default();
            let cited = Rule::ALL
                .iter()
                .any(|rule| description.contains(&format!("Rule {}", rule.as_str())));
            assert!(cited, "{schema} {name}: {description}");
        }
    }
}

#[test]
fn known_code_status_is_generated_from_the_table() {
    let committed = &Schema::Result.value()["allOf"];
    let generated = known_code_status_rules();
    assert_eq!(
        committed,
        &generated,
        "schema/result.schema.json allOf drifted from schema/result-codes.json; replace it with:\n{}",
        serde_json::to_string_pretty(&generated).unwrap()
    );
}

#[test]
fn the_response_refers_to_the_result_schema() {
    assert_eq!(
        Schema::Response.value()["properties"]["result"]["$ref"],
        Schema::Result.id()
    );
}

#[test]
fn formats_are_checked() {
    let bad_day = json!({"result": {"resultCode": "X", "resultStatus": "F"}, "cancelTime": "2019-02-30T00:00:00Z"});
    let violations = Schema::Response.violations(&bad_day);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].keyword, "format");
    assert_eq!(violations[0].rule(), Some(Rule::CancelTime));
}

/// A validator that ignores `format` still rejects every non-RFC 3339 shape: the pattern.
#[test]
fn the_cancel_time_pattern_alone_rejects_wrong_shapes() {
    let subschema = Schema::Response.value()["properties"]["cancelTime"].clone();
    let no_formats = jsonschema::draft202012::options()
        .should_validate_formats(false)
        .build(&subschema)
        .unwrap();
    for bad in [
        "2019-06-12 19:07:11+08:00",
        "2019-06-12T19:07:11+0800",
        "2019-06-12T19:07:11",
        "2019-06-12T19:07:11 UTC",
        "2019-13-12T19:07:11Z",
        "2019-06-12T19:07:11+24:00",
        "2019-06-12T19:07:11.Z",
        "2019-06-12T19:07:11Z\n",
    ] {
        assert!(!no_formats.is_valid(&json!(bad)), "{bad}");
    }
    assert!(no_formats.is_valid(&json!("2019-06-12t19:07:11.123z")));
}

#[test]
fn violations_name_pointer_keyword_and_rule() {
    let body = json!({"paymentId": "x".repeat(65), "merchantAccountId": 5});
    let violations = Schema::Request.violations(&body);
    let shown: Vec<String> = violations
        .iter()
        .map(|v| format!("{} [{} -> {:?}]", v, v.keyword, v.rule()))
        .collect();
    insta::assert_snapshot!(shown.join("\n"), @r#"
    /paymentId: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" is longer than 64 characters [maxLength -> Some(IdLength)]
    /merchantAccountId: 5 is not of types "null", "string" [type -> Some(String)]
    "#);
}
