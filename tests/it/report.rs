//! Reports and the baseline (`docs/contract.md`, "Reports", "Baseline", exit codes), on a
//! small synthetic run: one scenario per verdict.

use alipay_cancel_kit::report::{
    apply, exit_code, json, junit, markdown, markdown_matrix, terminal, Baseline, RunReport,
};
use alipay_cancel_kit::verdict::{Check, Level, ScenarioResult, Verdict};

fn scenario(id: &str, title: &str, verdict: Verdict, checks: Vec<Check>) -> ScenarioResult {
    ScenarioResult {
        id: id.to_owned(),
        title: title.to_owned(),
        rule: "contract: outcome table".to_owned(),
        verdict,
        reason: None,
        checks,
        requests: 1,
        outcome: Some(serde_json::json!({"outcome": "SUCCESS"})),
        stderr: String::new(),
        duration_ms: 12.5,
        adapter_ms: 10.0,
        transcript: Vec::new(),
    }
}

/// One scenario per verdict, with the awkward text a real run produces: a multi-line string to
/// sign, markup characters, control characters in an adapter's standard error.
fn synthetic_run() -> RunReport {
    let pass = scenario(
        "result/SUCCESS",
        "S, signed: the client surfaces SUCCESS",
        Verdict::Pass,
        vec![Check::pass(
            "outcome.kind",
            Level::Must,
            "contract: outcome table, row S",
            "SUCCESS surfaced",
        )],
    );
    let fail = scenario(
        "result/ORDER_NOT_EXIST",
        "F, signed: the client surfaces FAILED with the code",
        Verdict::Fail,
        vec![
            Check::fail(
                "request.signature",
                Level::Must,
                "contract: request check 5",
                "signature does not verify over the expected string to sign",
                "POST /ams/api/v1/payments/cancel\nTEST_5YBZ1.1685599933871.{\"paymentId\":\"1\"}",
                "algorithm=RSA256,keyVersion=1,signature=abc%3D",
            ),
            Check::fail(
                "outcome.kind",
                Level::Must,
                "contract: outcome table, row F",
                "the client surfaced SUCCESS for an F answer",
                "FAILED",
                "SUCCESS",
            ),
            Check::pass("requests.count", Level::Must, "contract", "1 request"),
        ],
    );
    let non_strict = scenario(
        "request/id-too-long",
        "a 65-character id: refuse locally, or surface PARAM_ILLEGAL",
        Verdict::NonStrict,
        vec![Check::fail(
            "request.local-validation",
            Level::Should,
            "contract: local validation",
            "the client sent an id of 65 characters <too long> & did not refuse it",
            "INVALID_REQUEST, no request",
            "1 request, FAILED with PARAM_ILLEGAL",
        )],
    );
    let mut error = scenario(
        "fault/timeout",
        "no answer within timeoutMs: UNKNOWN",
        Verdict::Error,
        Vec::new(),
    );
    error.reason = Some("the adapter ran past the hard time limit (2500 ms) and was killed".into());
    error.stderr =
        "starting\nTraceback (most recent call last):\n  \u{1b}[31mboom\u{1b}[0m\u{0}\n".into();
    error.outcome = None;
    let mut skipped = scenario(
        "tls/trusted-certificate",
        "a trusted certificate: the call goes through",
        Verdict::Skipped,
        Vec::new(),
    );
    skipped.reason = Some("needs capability `tls`".into());
    skipped.requests = 0;
    skipped.outcome = None;

    let mut report = RunReport::new(
        "python3 adapter.py",
        "exec",
        vec![pass, fail, non_strict, error, skipped],
    );
    report.capabilities_note = Some("the probe exited with status 2".into());
    report.duration_ms = 1234.0;
    report
}

fn baseline(text: &str) -> Baseline {
    Baseline::parse(text, "baseline.json").unwrap()
}

// --- terminal -----------------------------------------------------------------------------

#[test]
fn terminal_summary_of_a_small_run() {
    let text = terminal::render(&synthetic_run(), false);
    insta::assert_snapshot!(text, @r#"
alipay-cancel-kit 0.1.0
client: python3 adapter.py (exec mode)
capabilities: none (the probe exited with status 2)
ids: paymentId, paymentRequestId, merchantAccountId (none declared, so all)
transport: plain HTTP (TLS only in tls/ scenarios)

PASS        result/SUCCESS  S, signed: the client surfaces SUCCESS
FAIL        result/ORDER_NOT_EXIST  F, signed: the client surfaces FAILED with the code
    MUST   request.signature: signature does not verify over the expected string to sign
           expected: POST /ams/api/v1/payments/cancel\nTEST_5YBZ1.1685599933871.{"paymentId":"1"}
           seen:     algorithm=RSA256,keyVersion=1,signature=abc%3D
           rule:     contract: request check 5
    MUST   outcome.kind: the client surfaced SUCCESS for an F answer
           expected: FAILED
           seen:     SUCCESS
           rule:     contract: outcome table, row F
NON_STRICT  request/id-too-long  a 65-character id: refuse locally, or surface PARAM_ILLEGAL
    SHOULD request.local-validation: the client sent an id of 65 characters <too long> & did not refuse it
           expected: INVALID_REQUEST, no request
           seen:     1 request, FAILED with PARAM_ILLEGAL
           rule:     contract: local validation
ERROR       fault/timeout  the adapter ran past the hard time limit (2500 ms) and was killed
    stderr (last 10 lines):
    | starting
    | Traceback (most recent call last):
    |   \u{1b}[31mboom\u{1b}[0m\u{0}
SKIPPED     tls/trusted-certificate  needs capability `tls`

5 scenarios: 1 PASS, 1 NON_STRICT, 1 FAIL, 1 ERROR, 1 SKIPPED in 1234 ms
"#);
}

#[test]
fn terminal_marks_baseline_matches() {
    let report = synthetic_run().with_baseline(&baseline(
        r#"{"expectedFailures": [
            {"id": "fault/timeout", "reason": "the adapter cannot time out yet"},
            {"id": "result/SUCCESS", "reason": "fixed since"}
        ]}"#,
    ));
    let text = terminal::render(&report, false);
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("  [")).collect();
    insta::assert_snapshot!(lines.join("\n"), @r#"
PASS        result/SUCCESS  S, signed: the client surfaces SUCCESS  [stale baseline entry: remove it]
ERROR       fault/timeout  the adapter ran past the hard time limit (2500 ms) and was killed  [expected failure: the adapter cannot time out yet]
"#);
    insta::assert_snapshot!(terminal::totals(&report, false), @r#"
baseline `baseline.json`: 1 expected failure(s), 1 regression(s), 1 stale entry, 0 not run
    regression: result/ORDER_NOT_EXIST
    stale:      result/SUCCESS (now PASS)
5 scenarios: 1 PASS, 1 NON_STRICT, 1 FAIL, 1 ERROR, 1 SKIPPED in 1234 ms
"#);
}

#[test]
fn terminal_colour_only_when_told() {
    let report = synthetic_run();
    let plain = terminal::render(&report, false);
    let coloured = terminal::render(&report, true);
    assert!(!plain.contains('\u{1b}'), "no escape codes without colour");
    assert!(coloured.contains("\u{1b}[31mFAIL"));
    assert!(coloured.contains("\u{1b}[32mPASS"));
}

#[test]
fn terminal_never_passes_adapter_control_characters_through() {
    let text = terminal::render(&synthetic_run(), false);
    assert!(!text.contains('\u{1b}'));
    assert!(!text.contains('\u{0}'));
    assert!(text.contains("\\u{1b}[31mboom"));
}

#[test]
fn terminal_shows_stderr_tail_for_error_only() {
    let mut report = synthetic_run();
    report.scenarios[1].stderr = "noise from a failing client\n".into();
    let text = terminal::render(&report, false);
    assert!(!text.contains("noise from a failing client"));
    let long: String = (1..=30).map(|i| format!("line {i}\n")).collect();
    report.scenarios[3].stderr = long;
    let text = terminal::render(&report, false);
    assert!(text.contains("| line 30") && text.contains("| line 21"));
    assert!(!text.contains("| line 20\n"));
}

// --- JSON ---------------------------------------------------------------------------------

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(json::SCHEMA).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .expect("the report schema compiles")
}

fn assert_valid(instance: &serde_json::Value) {
    let validator = validator();
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn json_report_validates_against_the_schema() {
    let text = json::to_string(&synthetic_run());
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_valid(&value);
}

#[test]
fn json_report_with_baseline_validates_against_the_schema() {
    let report = synthetic_run().with_baseline(&baseline(
        r#"{"expectedFailures": [{"id": "fault/timeout", "reason": "r"},
                                 {"id": "result/SUCCESS", "reason": "r"},
                                 {"id": "retry/u-then-success", "reason": "r"}]}"#,
    ));
    assert_valid(&json::to_value(&report));
}

#[test]
fn json_report_shape_is_the_contracts() {
    let value = json::to_value(&synthetic_run());
    let ids: Vec<&str> = value["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "result/SUCCESS",
            "result/ORDER_NOT_EXIST",
            "request/id-too-long",
            "fault/timeout",
            "tls/trusted-certificate"
        ]
    );
    assert_eq!(value["scenarios"][1]["verdict"], "FAIL");
    let check = &value["scenarios"][1]["checks"][1];
    assert_eq!(check["id"], "outcome.kind");
    assert_eq!(check["level"], "MUST");
    assert_eq!(check["held"], false);
    insta::assert_json_snapshot!(value["summary"], @r#"
{
  "PASS": 1,
  "NON_STRICT": 1,
  "FAIL": 1,
  "ERROR": 1,
  "SKIPPED": 1,
  "total": 5
}
"#);
}

#[test]
fn json_report_round_trips() {
    let report = synthetic_run().with_baseline(&baseline(
        r#"{"expectedFailures": [{"id": "fault/timeout", "reason": "r"}]}"#,
    ));
    let back: RunReport = serde_json::from_str(&json::to_string(&report)).unwrap();
    assert_eq!(back, report);
}

#[test]
fn schema_rejects_a_wrong_verdict() {
    let mut value = json::to_value(&synthetic_run());
    value["scenarios"][0]["verdict"] = "PASSED".into();
    assert!(!validator().is_valid(&value));
}

// --- JUnit --------------------------------------------------------------------------------

/// A test case as read back: its attributes and the names of its child elements.
#[derive(Debug, Default)]
struct Case {
    classname: String,
    name: String,
    children: Vec<String>,
    text: String,
}

fn attr(e: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .map(|a| a.unwrap())
        .find(|a| a.key.as_ref() == name.as_bytes())
        .map(|a| {
            a.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                .unwrap()
                .into_owned()
        })
}

/// Reads the JUnit XML back with a real parser: the `<testsuites>` attributes and the cases.
fn read_junit(xml: &str) -> (Vec<(String, String)>, Vec<Case>) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut suites_attrs = Vec::new();
    let mut cases: Vec<Case> = Vec::new();
    let mut depth_in_case = false;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testsuites" => {
                suites_attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        (
                            String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                            a.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                                .unwrap()
                                .into_owned(),
                        )
                    })
                    .collect();
            }
            Event::Start(e) if e.name().as_ref() == b"testcase" => {
                cases.push(Case {
                    classname: attr(&e, "classname").unwrap(),
                    name: attr(&e, "name").unwrap(),
                    ..Case::default()
                });
                depth_in_case = true;
            }
            Event::Empty(e) if e.name().as_ref() == b"testcase" => cases.push(Case {
                classname: attr(&e, "classname").unwrap(),
                name: attr(&e, "name").unwrap(),
                ..Case::default()
            }),
            Event::End(e) if e.name().as_ref() == b"testcase" => depth_in_case = false,
            Event::Start(e) | Event::Empty(e) if depth_in_case => {
                let case = cases.last_mut().unwrap();
                case.children
                    .push(String::from_utf8(e.name().as_ref().to_vec()).unwrap());
                if let Some(message) = attr(&e, "message") {
                    case.text.push_str(&message);
                    case.text.push('\n');
                }
            }
            Event::Text(t) if depth_in_case => {
                let text = t.decode().unwrap();
                cases.last_mut().unwrap().text.push_str(&text);
            }
            // quick-xml hands entity and character references over as events of their own.
            Event::GeneralRef(r) if depth_in_case => {
                let resolved = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().unwrap();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .expect("only predefined entities")
                            .to_owned()
                    }
                };
                cases.last_mut().unwrap().text.push_str(&resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (suites_attrs, cases)
}

#[test]
fn junit_has_one_testcase_per_scenario_with_the_right_element() {
    let xml = junit::render(&synthetic_run());
    let (suites, cases) = read_junit(&xml);

    let get = |k: &str| suites.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("tests"), Some("5"));
    assert_eq!(get("failures"), Some("1"));
    assert_eq!(get("errors"), Some("1"));
    assert_eq!(get("skipped"), Some("1"));
    assert_eq!(get("time"), Some("1.234"));
    let shape: Vec<(&str, &str, Vec<&str>)> = cases
        .iter()
        .map(|c| {
            (
                c.classname.as_str(),
                c.name.as_str(),
                c.children.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("result", "result/SUCCESS", vec![]),
            ("result", "result/ORDER_NOT_EXIST", vec!["failure"]),
            ("request", "request/id-too-long", vec!["system-out"]),
            ("fault", "fault/timeout", vec!["error", "system-err"]),
            ("tls", "tls/trusted-certificate", vec!["skipped"]),
        ]
    );
}

#[test]
fn junit_failure_text_carries_the_failed_checks() {
    let xml = junit::render(&synthetic_run());
    let (_, cases) = read_junit(&xml);

    let fail = &cases[1].text;
    assert!(fail.contains("2 MUST check(s) failed"), "{fail}");
    assert!(fail.contains("MUST outcome.kind: the client surfaced SUCCESS for an F answer"));
    assert!(fail.contains("expected: POST /ams/api/v1/payments/cancel\nTEST_5YBZ1."));
    assert!(fail.contains("rule:     contract: outcome table, row F"));
    let non_strict = &cases[2].text;
    assert!(non_strict.contains("SHOULD request.local-validation"));
    assert!(
        non_strict.contains("<too long> & did not"),
        "escaped and read back"
    );
    assert!(cases[3].text.contains("hard time limit"));
    assert!(cases[4].text.contains("needs capability `tls`"));
}

#[test]
fn junit_replaces_characters_illegal_in_xml() {
    let xml = junit::render(&synthetic_run());
    assert!(!xml.contains('\u{0}') && !xml.contains('\u{1b}'));
    let (_, cases) = read_junit(&xml);
    assert!(cases[3].text.contains("\\u{1b}[31mboom\\u{1b}[0m\\u{0}"));
}

#[test]
fn junit_escapes_attribute_line_breaks() {
    let mut report = synthetic_run();
    report.scenarios[3].reason = Some("line one\nline \"two\"".into());
    let (_, cases) = read_junit(&junit::render(&report));
    assert!(
        cases[3]
            .text
            .trim_start()
            .starts_with("line one\nline \"two\""),
        "{:?}",
        cases[3].text
    );
}

// --- markdown -----------------------------------------------------------------------------

#[test]
fn markdown_table_of_a_run() {
    insta::assert_snapshot!(markdown::render(&synthetic_run()), @r#"
# Conformance report: alipay-cancel-kit 0.1.0

Client: `python3 adapter.py` (exec mode). Capabilities: none. Ids: paymentId, paymentRequestId, merchantAccountId (none declared, so all).

**5 scenarios**: 1 PASS, 1 NON_STRICT, 1 FAIL, 1 ERROR, 1 SKIPPED.

| verdict | scenario | about | failed checks |
|---|---|---|---|
| PASS | `result/SUCCESS` | S, signed: the client surfaces SUCCESS |  |
| FAIL | `result/ORDER_NOT_EXIST` | F, signed: the client surfaces FAILED with the code | MUST `request.signature`: signature does not verify over the expected string to sign (expected POST /ams/api/v1/payments/cancel\nTEST_5YBZ1.1685599933871.{"paymentId":"1"}, seen algorithm=RSA256,keyVersion=1,signature=abc%3D)<br>MUST `outcome.kind`: the client surfaced SUCCESS for an F answer (expected FAILED, seen SUCCESS) |
| NON_STRICT | `request/id-too-long` | a 65-character id: refuse locally, or surface PARAM_ILLEGAL | SHOULD `request.local-validation`: the client sent an id of 65 characters &lt;too long&gt; & did not refuse it (expected INVALID_REQUEST, no request, seen 1 request, FAILED with PARAM_ILLEGAL) |
| ERROR | `fault/timeout` | the adapter ran past the hard time limit (2500 ms) and was killed |  |
| SKIPPED | `tls/trusted-certificate` | needs capability `tls` |  |
"#);
}

#[test]
fn markdown_matrix_one_column_per_client() {
    let a = synthetic_run();
    let mut b = synthetic_run();
    b.scenarios.truncate(2);
    b.scenarios[1].verdict = Verdict::Pass;
    b.summary = alipay_cancel_kit::report::Summary::of(&b.scenarios);
    insta::assert_snapshot!(markdown_matrix(&[("Python 1.7.1", &a), ("Go | 1.3.5", &b)]), @r#"
| scenario | Python 1.7.1 | Go \| 1.3.5 |
|---|---|---|
| `result/SUCCESS` | PASS | PASS |
| `result/ORDER_NOT_EXIST` | FAIL | PASS |
| `request/id-too-long` | NON_STRICT | – |
| `fault/timeout` | ERROR | – |
| `tls/trusted-certificate` | SKIPPED | – |
| **PASS** | 1/5 | 2/2 |
| **NON_STRICT** | 1/5 | 0/2 |
| **FAIL** | 1/5 | 0/2 |
| **ERROR** | 1/5 | 0/2 |
| **SKIPPED** | 1/5 | 0/2 |
"#);
}

// --- baseline -----------------------------------------------------------------------------

#[test]
fn no_baseline_fail_or_error_exits_1() {
    let report = synthetic_run();
    assert_eq!(
        exit_code(&report.scenarios, None),
        alipay_cancel_kit::exit::Exit::Failures
    );
    let clean: Vec<_> = report
        .scenarios
        .into_iter()
        .filter(|s| !s.verdict.is_failure())
        .collect();
    assert_eq!(
        exit_code(&clean, None),
        alipay_cancel_kit::exit::Exit::Ok,
        "NON_STRICT and SKIPPED do not fail a run"
    );
}

#[test]
fn baseline_listing_every_failure_exits_0() {
    let report = synthetic_run().with_baseline(&baseline(
        r#"{"description": "python adapter",
            "expectedFailures": [
              {"id": "result/ORDER_NOT_EXIST", "reason": "signs the re-serialised body"},
              {"id": "fault/timeout", "reason": "hangs on a silent gateway"}]}"#,
    ));
    let outcome = report.baseline.as_ref().unwrap();
    assert!(outcome.regressions.is_empty());
    let expected: Vec<&str> = outcome
        .expected_failures
        .iter()
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(expected, ["result/ORDER_NOT_EXIST", "fault/timeout"]);
    assert_eq!(outcome.expected_failures[1].verdict, Verdict::Error);
    assert!(outcome.is_clean());
    assert_eq!(report.exit_code(), alipay_cancel_kit::exit::Exit::Ok);
}

#[test]
fn unlisted_failure_is_a_regression() {
    let b = baseline(r#"{"expectedFailures": [{"id": "fault/timeout", "reason": "hangs"}]}"#);
    let run = synthetic_run();
    let outcome = apply(&b, &run.scenarios);
    assert_eq!(outcome.regressions, ["result/ORDER_NOT_EXIST"]);
    assert_eq!(
        exit_code(&run.scenarios, Some(&outcome)),
        alipay_cancel_kit::exit::Exit::Failures
    );
}

#[test]
fn listed_scenario_that_passes_is_stale() {
    let b = baseline(
        r#"{"expectedFailures": [
            {"id": "result/ORDER_NOT_EXIST", "reason": "r"},
            {"id": "fault/timeout", "reason": "r"},
            {"id": "request/id-too-long", "reason": "now NON_STRICT"},
            {"id": "result/SUCCESS", "reason": "now PASS"}]}"#,
    );
    let run = synthetic_run();
    let outcome = apply(&b, &run.scenarios);
    assert!(outcome.regressions.is_empty());
    let stale: Vec<(&str, Verdict)> = outcome
        .stale
        .iter()
        .map(|m| (m.id.as_str(), m.verdict))
        .collect();
    assert_eq!(
        stale,
        [
            ("result/SUCCESS", Verdict::Pass),
            ("request/id-too-long", Verdict::NonStrict)
        ]
    );
    assert_eq!(
        exit_code(&run.scenarios, Some(&outcome)),
        alipay_cancel_kit::exit::Exit::Failures
    );
}

#[test]
fn listed_but_skipped_or_not_selected_is_not_judged() {
    let b = baseline(
        r#"{"expectedFailures": [
            {"id": "result/ORDER_NOT_EXIST", "reason": "r"},
            {"id": "fault/timeout", "reason": "r"},
            {"id": "tls/trusted-certificate", "reason": "no TLS"},
            {"id": "retry/u-then-success", "reason": "not selected this time"}]}"#,
    );
    let run = synthetic_run();
    let outcome = apply(&b, &run.scenarios);
    assert_eq!(
        outcome.not_run,
        ["tls/trusted-certificate", "retry/u-then-success"]
    );
    assert_eq!(
        exit_code(&run.scenarios, Some(&outcome)),
        alipay_cancel_kit::exit::Exit::Ok
    );
}

#[test]
fn baseline_entry_errors_name_file_entry_line_and_rule() {
    let err = |text: &str| {
        Baseline::parse(text, "ci/python.baseline.json")
            .unwrap_err()
            .to_string()
    };
    let missing = "{\"expectedFailures\": [\n  {\"id\": \"fault/timeout\", \"reason\": \"r\"},\n  {\"id\": \"result/SUCCESS\"}\n]}";
    insta::assert_snapshot!(err(missing), @"baseline `ci/python.baseline.json`: /expectedFailures/1 (`result/SUCCESS`, line 3): `reason` is missing or empty; every expected failure carries a reason");
    let blank = r#"{"expectedFailures": [{"id": "fault/timeout", "reason": "  "}]}"#;
    insta::assert_snapshot!(err(blank), @"baseline `ci/python.baseline.json`: /expectedFailures/0 (`fault/timeout`, line 1): `reason` is missing or empty; every expected failure carries a reason");
    let empty_id = r#"{"expectedFailures": [{"id": "", "reason": "r"}]}"#;
    insta::assert_snapshot!(err(empty_id), @"baseline `ci/python.baseline.json`: /expectedFailures/0 (line 1): `id` is empty; every entry names a scenario");
    let twice = "{\"expectedFailures\": [\n {\"id\": \"a/b\", \"reason\": \"r\"},\n {\"id\": \"a/b\", \"reason\": \"r\"}]}";
    insta::assert_snapshot!(err(twice), @"baseline `ci/python.baseline.json`: /expectedFailures/1 (`a/b`, line 3): listed more than once; each scenario appears once");
}

#[test]
fn baseline_syntax_errors_give_line_and_shape() {
    let err = |text: &str| Baseline::parse(text, "b.json").unwrap_err().to_string();
    let misspelt = "{\"expectedFailures\": [\n  {\"id\": \"a/b\", \"reasons\": \"r\"}]}";
    insta::assert_snapshot!(err(misspelt), @r#"baseline `b.json`: line 2, column 25: unknown field `reasons`, expected `id` or `reason`; expected {"description": "...", "expectedFailures": [{"id": "<scenario id>", "reason": "<why>"}]}"#);
    insta::assert_snapshot!(err("{\"expectedFailures\": [}"), @r#"baseline `b.json`: line 1, column 23: expected value; expected {"description": "...", "expectedFailures": [{"id": "<scenario id>", "reason": "<why>"}]}"#);
    insta::assert_snapshot!(err("{}"), @r#"baseline `b.json`: line 1, column 2: missing field `expectedFailures`; expected {"description": "...", "expectedFailures": [{"id": "<scenario id>", "reason": "<why>"}]}"#);
}

#[test]
fn unknown_ids_are_a_clear_error() {
    let b = Baseline::parse(
        "{\"expectedFailures\": [\n {\"id\": \"fault/timeout\", \"reason\": \"r\"},\n {\"id\": \"fault/time-out\", \"reason\": \"typo\"}]}",
        "b.json",
    )
    .unwrap();
    let catalogue = ["fault/timeout", "fault/http-500"];
    let err = b.check_known(catalogue).unwrap_err();
    insta::assert_snapshot!(err, @"baseline `b.json`: /expectedFailures/1 (`fault/time-out`, line 3): no scenario has this id; remove the entry or fix the id");
    assert!(b.check_known(["fault/timeout", "fault/time-out"]).is_ok());
}

#[test]
fn load_names_the_file() {
    let dir = crate::common::scratch_dir("report", "baseline");
    let path = dir.join("baseline.json");
    std::fs::write(
        &path,
        r#"{"expectedFailures": [{"id": "fault/timeout", "reason": "r"}]}"#,
    )
    .unwrap();

    let loaded = Baseline::load(&path).unwrap();
    let missing = Baseline::load(dir.join("absent.json")).unwrap_err();

    assert_eq!(loaded.source, path.display().to_string());
    assert_eq!(loaded.expected_failures[0].line, Some(1));
    let text = missing.to_string();
    assert!(text.starts_with(&format!(
        "baseline `{}`: cannot read: ",
        dir.join("absent.json").display()
    )));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn baseline_written_from_a_run_lists_its_failures_and_reloads() {
    let run = synthetic_run();

    let written = Baseline::from_results(&run.scenarios, "python adapter, first run");
    let text = written.to_json();
    let reloaded = Baseline::parse(&text, "written.json").unwrap();

    insta::assert_snapshot!(text, @r#"
{
  "description": "python adapter, first run",
  "expectedFailures": [
    {
      "id": "result/ORDER_NOT_EXIST",
      "reason": "FAIL: signature does not verify over the expected string to sign"
    },
    {
      "id": "fault/timeout",
      "reason": "ERROR: the adapter ran past the hard time limit (2500 ms) and was killed"
    }
  ]
}
"#);
    assert_eq!(reloaded.expected_failures.len(), 2);
    let outcome = apply(&reloaded, &run.scenarios);
    assert!(outcome.is_clean());
    assert_eq!(
        exit_code(&run.scenarios, Some(&outcome)),
        alipay_cancel_kit::exit::Exit::Ok
    );
}

#[test]
fn an_interrupted_run_exits_by_its_signal_whatever_the_verdicts() {
    use alipay_cancel_kit::exit::{Exit, Signal};
    use alipay_cancel_kit::report::Interrupted;
    let mut report = synthetic_run();
    assert_eq!(report.exit(), Exit::Failures, "FAIL and ERROR fail the run");
    for (name, exit) in [
        ("SIGINT", Exit::Interrupted(Signal::Interrupt)),
        ("SIGTERM", Exit::Interrupted(Signal::Terminate)),
    ] {
        // As `report merge` reads it back from a shard's JSON report.
        let signal = serde_json::from_value(serde_json::json!(name)).unwrap();
        report.interrupted = Some(Interrupted {
            signal,
            not_run: Vec::new(),
        });
        assert_eq!(report.exit(), exit);
        assert_eq!(
            report.exit_code(),
            Exit::Failures,
            "the verdicts' own exit is unchanged"
        );
    }
    assert_eq!(Exit::Interrupted(Signal::Interrupt).code(), 130);
    assert_eq!(Exit::Interrupted(Signal::Terminate).code(), 143);
}

#[test]
fn a_clean_run_exits_ok_and_its_html_says_so() {
    use alipay_cancel_kit::exit::Exit;
    let report = RunReport::new("c", "exec", Vec::new());
    assert_eq!(report.exit(), Exit::Ok);
    let html = alipay_cancel_kit::report::html::render(&report);
    assert!(html.contains("exit code <b class=\"PASS\">0</b>"), "{html}");
    let failing = synthetic_run();
    let html = alipay_cancel_kit::report::html::render(&failing);
    assert!(html.contains("exit code <b class=\"FAIL\">1</b>"), "{html}");
}
