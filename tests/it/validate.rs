//! `alipay-cancel-kit validate`: the shipped examples, the output formats, and bad input.

use alipay_cancel_kit::validate::{run_with_stdin, ValidateArgs};
use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: ValidateArgs,
}

/// Runs `validate ARGS` with `stdin`; returns (exit status, stdout, stderr).
fn validate(argv: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let cli = Cli::try_parse_from(std::iter::once("validate").chain(argv.iter().copied()))
        .unwrap_or_else(|e| panic!("{e}"));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = i32::from(run_with_stdin(&cli.args, stdin, &mut out, &mut err).code());
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

const EXAMPLES: &str = "conformance/examples";

#[test]
fn every_shipped_example_gives_its_documented_exit_status() {
    // The table in docs/validate.md, "Shipped examples".
    let expected = [
        ("request-seed.json", 0),
        ("request-python-sdk.json", 0),
        ("request-dotnet-sdk.json", 0),
        ("request-unknown-member.json", 0),
        ("response-seed-success.json", 0),
        ("bodies.ndjson", 0),
        ("traffic.ndjson", 0),
        ("invalid.ndjson", 1),
        ("not-json.txt", 1),
        ("not-utf8.json", 1),
        ("empty.json", 2),
    ];
    let mut shipped: Vec<String> = std::fs::read_dir(EXAMPLES)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    shipped.sort();
    let mut listed: Vec<String> = expected.iter().map(|(f, _)| (*f).to_owned()).collect();
    listed.sort();
    assert_eq!(
        shipped, listed,
        "every example is listed here and in docs/validate.md"
    );
    for (file, status) in expected {
        let path = format!("{EXAMPLES}/{file}");
        let (code, out, err) = validate(&[&path], b"");
        assert_eq!(code, status, "{file}:\n{out}{err}");
    }
}

#[test]
fn invalid_bodies_print_file_line_pointer_rule_and_value() {
    let (code, out, err) = validate(&["conformance/examples/invalid.ndjson"], b"");
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @r#"
    conformance/examples/invalid.ndjson:1: /paymentId: id-length: expected at most 64 characters, found 65
    conformance/examples/invalid.ndjson:2: /paymentRequestId: string: expected a string, found 20
    conformance/examples/invalid.ndjson:3: (root): one-id-required: expected paymentId or paymentRequestId not null, found neither
    conformance/examples/invalid.ndjson:4: /merchantAccountId: merchant-account-id-length: expected at least 1 character, found 0
    conformance/examples/invalid.ndjson:5: /result/resultStatus: known-code-status: expected "F" for resultCode ORDER_NOT_EXIST (result-code table), found "U"
    conformance/examples/invalid.ndjson:6: /paymentRequestId: required-on-success: expected a string when resultStatus is "S", found none
    conformance/examples/invalid.ndjson:6: /cancelTime: cancel-time: expected an RFC 3339 date-time with offset, found "2019-06-12 19:07:11+08:00"
    conformance/examples/invalid.ndjson:7: /result: result-required: expected a member here, found none
    conformance/examples/invalid.ndjson:8: /result/resultMessage: result-message-length: expected at most 256 characters, found 257
    conformance/examples/invalid.ndjson:9: (root): json: expected a JSON document, found a syntax error at line 1 column 13: EOF while parsing a value
    conformance/examples/invalid.ndjson:10: /request/paymentId: id-length: expected at least 1 character, found 0
    conformance/examples/invalid.ndjson:10: /response/result/resultCode: result-code: expected a member here, found none
    conformance/examples/invalid.ndjson:10: /response/result/resultStatus: result-status: expected one of "S", "F", "U", found "X"
    "#);
    insta::assert_snapshot!(err, @"11 bodies, 11 invalid, 0 warnings");
}

#[test]
fn warnings_do_not_fail() {
    let (code, out, _) = validate(&["conformance/examples/request-unknown-member.json"], b"");
    assert_eq!(code, 0);
    insta::assert_snapshot!(out, @"conformance/examples/request-unknown-member.json:1: /amount: unknown-member: warning: unknown member: the spec defines paymentId, paymentRequestId and merchantAccountId only; SHOULD not be sent");
}

#[test]
fn json_format_for_machines() {
    let input = b"{\"paymentId\":\"p\"}\n{\"paymentId\":5,\"extra\":1}\n{\"result\":{}}\n";
    let (code, out, err) = validate(&["--format", "json", "-"], input);
    assert_eq!(code, 1);
    assert_eq!(err, "");
    for line in out.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
    insta::assert_snapshot!(out, @r#"
    {"file":"-","line":2,"kind":"request","valid":false,"errors":[{"pointer":"/paymentId","rule":"string","message":"expected a string, found 5"}],"warnings":[]}
    {"file":"-","line":3,"kind":"response","valid":false,"errors":[{"pointer":"/result/resultCode","rule":"result-code","message":"expected a member here, found none"},{"pointer":"/result/resultStatus","rule":"result-status","message":"expected a member here, found none"}],"warnings":[]}
    {"summary":{"bodies":3,"valid":1,"invalid":2,"warnings":0,"unreadable":0}}
    "#);
}

#[test]
fn stdin_traffic_and_kind() {
    let (code, out, _) = validate(&["-"], br#"{"request":{"paymentId":"p"},"response":"{\"result\":{\"resultCode\":\"ORDER_NOT_EXIST\",\"resultStatus\":\"S\"}}"}"#);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @r#"
    -:1: /response/result/resultStatus: known-code-status: expected "F" for resultCode ORDER_NOT_EXIST (result-code table), found "S"
    -:1: /response/paymentId: required-on-success: expected a string when resultStatus is "S", found none
    -:1: /response/paymentRequestId: required-on-success: expected a string when resultStatus is "S", found none
    -:1: /response/cancelTime: required-on-success: expected a string when resultStatus is "S", found none
    "#);
    let (code, _, _) = validate(
        &["--kind", "request", "-"],
        br#"{"request":{"paymentId":"p"},"response":{"result":7}}"#,
    );
    assert_eq!(code, 0, "--kind request checks only the request part");
    let (code, out, _) = validate(&["--kind", "response", "-"], br#"{"paymentId":"p"}"#);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @"-:1: /result: result-required: expected a member here, found none");
}

#[test]
fn schema_flag_adds_the_schema_s_violations() {
    let (code, out, _) = validate(
        &["--schema", "-"],
        br#"{"paymentId":"","merchantAccountId":5}"#,
    );
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @r#"
    -:1: /merchantAccountId: string: expected a string, found 5
    -:1: /paymentId: id-length: expected at least 1 character, found 0
    -:1: /paymentId: id-length (schema minLength): "" is shorter than 1 character
    -:1: /merchantAccountId: string (schema type): 5 is not of types "null", "string"
    "#);
}

#[test]
fn a_50_mb_line_is_reported_not_parsed_and_the_stream_goes_on() {
    let mut input = Vec::with_capacity(50 * 1024 * 1024 + 64);
    input.extend_from_slice(br#"{"paymentId":""#);
    input.resize(50 * 1024 * 1024, b'a');
    input.extend_from_slice(b"\"}\n{\"paymentId\":\"p\"}\n");
    let (code, out, err) = validate(&["-"], &input);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @"-:1: (root): json: expected a body of at most 1048576 bytes, found 52428802 bytes (not parsed)");
    assert!(err.starts_with("2 bodies, 1 invalid"), "{err}");
}

#[test]
fn not_utf8_and_not_json_are_clear() {
    let (code, out, _) = validate(
        &[
            "conformance/examples/not-utf8.json",
            "conformance/examples/not-json.txt",
        ],
        b"",
    );
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @r"
    conformance/examples/not-utf8.json:1: (root): json: expected UTF-8 text, found byte 0xFF at line 1 column 15
    conformance/examples/not-json.txt:1: (root): json: expected a JSON document, found a syntax error at line 1 column 1: expected value
    ");
}

#[test]
fn unreadable_inputs_exit_2() {
    let (code, out, err) = validate(
        &[
            "conformance/examples/no-such-file.json",
            "conformance/examples/empty.json",
            "conformance",
        ],
        b"",
    );
    assert_eq!(code, 2);
    assert_eq!(out, "");
    insta::assert_snapshot!(err, @r"
    conformance/examples/no-such-file.json: cannot read: no such file
    conformance/examples/empty.json: empty input: no body to validate
    conformance: cannot read: is a directory
    0 bodies, 0 invalid, 0 warnings, 3 unreadable inputs
    ");
    let (code, _, err) = validate(&["-"], b"  \n\n");
    assert_eq!(code, 2);
    assert!(err.starts_with("-: empty input"), "{err}");
}

#[test]
fn pretty_bodies_and_broken_ndjson_lines_resync() {
    let input = b"{\n   \"paymentId\": \"p\"\n}\n{\"paymentId\":\n{\"paymentRequestId\":\"q\"}\n{\"paymentId\":\"r\"} trailing\n";
    let (code, out, err) = validate(&["-"], input);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out, @r"
    -:4: (root): json: expected a JSON document, found a syntax error at line 1 column 13: EOF while parsing a value
    -:6: (root): json: expected a JSON document, found a syntax error at line 1 column 19: trailing characters
    ");
    insta::assert_snapshot!(err, @"4 bodies, 2 invalid, 0 warnings");
}

#[test]
fn usage_errors_are_clap_s() {
    assert!(Cli::try_parse_from(["validate"]).is_err());
    assert!(Cli::try_parse_from(["validate", "--kind", "both", "x"]).is_err());
}
