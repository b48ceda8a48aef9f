//! `fuzz`: the strategies generate only valid bodies (and every shape the issue asks for), the
//! reference client passes, each parsing or retry defect is caught by generated cases alone,
//! and a client broken on one rare input is shrunk to exactly that input.

use std::collections::BTreeSet;

use alipay_cancel_kit::fuzz::{self, FuzzConfig, FuzzRun, Timing};
use alipay_cancel_kit::protocol::OutcomeKind;
use alipay_cancel_kit::reference_client::Defect;
use alipay_cancel_kit::run::{Client, RunConfig};
use alipay_cancel_kit::scenario::{Catalogue, Scenario, Signing};
use alipay_cancel_kit::schema::Schema;
use alipay_cancel_kit::spec::{result_code_table, CancelResponse, ResultStatus};
use alipay_cancel_kit::verdict::Verdict;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::Value;

use crate::common::{config, in_process, run_scenarios, runtime, BIN};

/// The seed of every fuzz run below: fixed, so CI sees the same cases each time.
const SEED: u64 = 20_240_601;

fn run_config(client: Client, jobs: usize) -> RunConfig {
    RunConfig {
        jobs,
        ..config(client)
    }
}

fn fuzz_with(client: Client, cases: u32, max_shrink_iters: u32) -> FuzzRun {
    let config = FuzzConfig {
        cases,
        seed: SEED,
        max_shrink_iters,
        timing: Timing::default(),
    };
    runtime()
        .block_on(fuzz::fuzz(&config, &run_config(client, 8)))
        .expect("the run starts")
}

fn body_errors(body: &Value) -> Vec<String> {
    let mut errors: Vec<String> = Schema::Response
        .violations(body)
        .iter()
        .map(|v| format!("schema: {v}"))
        .collect();
    if let Err(e) = CancelResponse::from_slice(&serde_json::to_vec(body).unwrap()) {
        errors.push(format!("types: {e}"));
    }
    errors
}

fn draw<T>(strategy: &BoxedStrategy<T>, runner: &mut proptest::test_runner::TestRunner) -> T
where
    T: std::fmt::Debug,
{
    strategy.new_tree(runner).expect("draws").current()
}

#[test]
fn prop_every_generated_body_is_valid_for_the_schema_and_the_types() {
    // Arrange
    let strategy = fuzz::response_body(None);
    let mut runner = fuzz::runner(1, 0);
    // Act / Assert
    for i in 0..4000 {
        let body = draw(&strategy, &mut runner);
        let errors = body_errors(&body);
        assert!(errors.is_empty(), "body {i}: {errors:?}\n{body}");
    }
}

#[test]
fn prop_every_generated_scenario_keeps_the_catalogue_rules_and_the_retry_rules() {
    let strategy = fuzz::scenario(Timing::default());
    let mut runner = fuzz::runner(2, 0);
    for i in 0..1500 {
        let scenario = draw(&strategy, &mut runner);
        let json = serde_json::to_value(&scenario).unwrap();
        let file = serde_json::json!({"group": "fuzz", "scenarios": [json]});
        let violations = Schema::Scenario.violations(&file);
        assert!(
            violations.is_empty(),
            "scenario {i}: {violations:?}\n{json}"
        );
        // Every retry ends within 5 requests; only the last answer may be definitive.
        assert!((1..=4).contains(&scenario.answers.len()), "{json}");
        for (n, answer) in scenario.answers.iter().enumerate() {
            let body = answer.body.as_ref().expect("a JSON body");
            assert!(
                body_errors(body).is_empty(),
                "scenario {i}, answer {n}: {body}"
            );
            let last = n + 1 == scenario.answers.len();
            assert!(
                last || !answer.is_final(),
                "scenario {i}: answer {n} is final\n{json}"
            );
            let status = alipay_cancel_kit::scenario::served_status(body).unwrap();
            let expected = match status {
                ResultStatus::S => OutcomeKind::Success,
                ResultStatus::F => OutcomeKind::Failed,
                ResultStatus::U => OutcomeKind::Unknown,
            };
            let trustworthy = answer.status == 200
                && answer.fault.is_none()
                && matches!(
                    answer.signing,
                    Signing::Signed | Signing::SignedLowercaseEscapes | Signing::SignedSpaced
                );
            if answer.delay_ms > 0 {
                assert!(answer.delay_ms > scenario.timeout_ms);
                assert_eq!(answer.accept[0], OutcomeKind::Unknown);
                assert!(answer.accept.contains(&expected));
            } else if trustworthy {
                assert_eq!(answer.accept, vec![expected], "{json}");
            } else {
                // An answer no client may believe: UNKNOWN, or for an unsigned F also FAILED.
                assert!(!last, "an unusable answer only opens a sequence\n{json}");
                let unsigned_failure =
                    answer.signing == Signing::Unsigned && status == ResultStatus::F;
                let allowed = if unsigned_failure {
                    vec![OutcomeKind::Failed, OutcomeKind::Unknown]
                } else {
                    vec![OutcomeKind::Unknown]
                };
                assert_eq!(answer.accept, allowed, "{json}");
            }
        }
        // The request is valid: the client must send it.
        let request = serde_json::to_vec(&scenario.request).unwrap();
        assert!(
            alipay_cancel_kit::spec::CancelRequest::from_slice(&request).is_ok(),
            "{json}"
        );
    }
}

/// What the issue asks the strategies to reach, counted over generated bodies and cases.
#[test]
fn the_strategies_reach_every_shape_the_contract_names() {
    let bodies = fuzz::response_body(None);
    let requests = fuzz::cancel_request();
    let sequences = fuzz::answer_sequence(Timing::default());
    let mut runner = fuzz::runner(3, 0);
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut mark = |what: String| {
        seen.insert(what);
    };
    for _ in 0..3000 {
        let body = draw(&bodies, &mut runner);
        let code = body["result"]["resultCode"].as_str().unwrap().to_owned();
        let status = body["result"]["resultStatus"].as_str().unwrap().to_owned();
        match result_code_table().iter().find(|r| r.result_code == code) {
            Some(_) => mark(format!("code {code}")),
            None => mark(format!("unknown code with {status}")),
        }
        if code.chars().count() == 64 {
            mark("code of 64".into());
        }
        match body["result"].get("resultMessage") {
            None => mark("message absent".into()),
            Some(Value::Null) => mark("message null".into()),
            Some(Value::String(m)) if m.chars().count() == 256 => mark("message of 256".into()),
            Some(Value::String(m)) if m.chars().any(|c| c > '\u{ffff}') => {
                mark("message outside the BMP".into())
            }
            Some(_) => {}
        }
        let top: Vec<&String> = body.as_object().unwrap().keys().collect();
        if top[0] != "result" {
            mark("members in another order".into());
        }
        let known = CancelResponse::MEMBERS;
        if top.iter().any(|k| !known.contains(&k.as_str())) {
            mark("unknown top member".into());
        }
        if body["result"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| !k.starts_with("result"))
        {
            mark("unknown result member".into());
        }
        if depth(&body) >= 4 {
            mark("unknown member nested 2+ deep".into());
        }
        if let Some(t) = body.get("cancelTime").and_then(Value::as_str) {
            let offset = &t[t.len() - 6..];
            match t.as_bytes()[t.len() - 1] {
                b'Z' => mark("offset Z".into()),
                b'z' => mark("offset z".into()),
                _ if offset.ends_with(":45") => mark("offset :45".into()),
                _ if offset.ends_with(":30") => mark("offset :30".into()),
                _ if offset == "-12:00" => mark("offset -12:00".into()),
                _ if offset == "+14:00" => mark("offset +14:00".into()),
                _ if offset.starts_with('-') => mark("negative offset".into()),
                _ => {}
            }
            if let Some(fraction) = t
                .split_once('.')
                .map(|(_, f)| f.trim_end_matches(|c: char| !c.is_ascii_digit()))
            {
                let digits = fraction.chars().take_while(char::is_ascii_digit).count();
                mark(format!("fraction of {digits}"));
            }
        }
        if status != "S" && body.get("paymentId").is_some_and(Value::is_null) {
            mark("null paymentId on F/U".into());
        }
        let request = draw(&requests, &mut runner);
        let fields: Vec<&str> = request.keys().map(String::as_str).collect();
        mark(format!("request {}", fields.join("+")));
        for (field, value) in &request {
            let n = value.as_str().unwrap().chars().count();
            if n == 1 || n == 64 || (field == "merchantAccountId" && n == 32) {
                mark(format!("{field} of {n}"));
            }
        }
        let answers = draw(&sequences, &mut runner);
        let shape: Vec<String> = answers
            .iter()
            .map(|a| {
                let s = a.body.as_ref().unwrap()["result"]["resultStatus"]
                    .as_str()
                    .unwrap();
                if a.delay_ms > 0 {
                    "timeout".to_owned()
                } else {
                    s.to_owned()
                }
            })
            .collect();
        for a in &answers {
            if let Some(fault) = a.fault {
                mark(format!("fault {fault:?}"));
            }
            if a.status != 200 {
                mark("HTTP error status".to_owned());
            }
            mark(format!("signing {:?}", a.signing));
        }
        let shape = shape.join("→");
        for wanted in ["U→S", "U→F", "timeout→S"] {
            if shape.ends_with(wanted) {
                mark(wanted.to_owned());
            }
        }
    }
    let mut wanted: Vec<String> = result_code_table()
        .iter()
        .map(|r| format!("code {}", r.result_code))
        .collect();
    wanted.extend(
        [
            "unknown code with S",
            "unknown code with F",
            "unknown code with U",
            "code of 64",
            "message absent",
            "message null",
            "message of 256",
            "message outside the BMP",
            "members in another order",
            "unknown top member",
            "unknown result member",
            "unknown member nested 2+ deep",
            "offset Z",
            "offset z",
            "offset :45",
            "offset :30",
            "offset -12:00",
            "offset +14:00",
            "negative offset",
            "fraction of 1",
            "fraction of 9",
            "null paymentId on F/U",
            "request paymentId",
            "request paymentRequestId",
            "request paymentId+paymentRequestId",
            "request paymentId+merchantAccountId",
            "paymentId of 1",
            "paymentId of 64",
            "paymentRequestId of 64",
            "merchantAccountId of 32",
            "U→S",
            "U→F",
            "timeout→S",
            "fault CloseBeforeResponse",
            "fault TruncateBody",
            "HTTP error status",
            "signing Signed",
            "signing SignedLowercaseEscapes",
            "signing SignedSpaced",
            "signing Unsigned",
            "signing Tampered",
            "signing OtherKey",
            "signing RawBase64Tampered",
            "signing EmptySignature",
        ]
        .map(str::to_owned),
    );
    let missing: Vec<&String> = wanted.iter().filter(|w| !seen.contains(*w)).collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

#[test]
fn the_rule_of_a_generated_case_names_headings_of_the_contract() {
    let contract =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/contract.md")).unwrap();
    for heading in ["## Outcome rules", "## Robustness"] {
        assert!(contract.lines().any(|l| l == heading), "{heading}");
    }
    assert!(fuzz::RULE.contains("docs/contract.md#outcome-rules"));
    assert!(fuzz::RULE.contains("docs/contract.md#robustness"));
}

#[test]
fn the_same_seed_draws_the_same_cases() {
    let strategy = fuzz::scenario(Timing::default());
    let draw_all = |seed| {
        let mut runner = fuzz::runner(seed, 0);
        (0..50)
            .map(|_| draw(&strategy, &mut runner))
            .collect::<Vec<Scenario>>()
    };
    assert_eq!(draw_all(SEED), draw_all(SEED));
    assert_ne!(draw_all(SEED), draw_all(SEED + 1));
}

#[test]
fn the_reference_client_passes_fuzz_with_a_fixed_seed() {
    let run = fuzz_with(in_process(&[]), 400, 64);
    let failure = run
        .failure
        .as_ref()
        .map(|f| format!("{:#?}\n{:#?}", f.result, f.shrunk));
    assert_eq!(failure, None);
    assert_eq!(run.cases_run, 400);
    assert_eq!(run.non_strict_count, 0, "{:#?}", run.non_strict);
    let report = run.report(&in_process(&[]));
    assert_eq!(report.exit_code(), alipay_cancel_kit::exit::Exit::Ok);
    assert_eq!(report.scenarios[0].id, "fuzz/summary");
    assert!(Schema::Report.is_valid(&serde_json::to_value(&report).unwrap()));
}

#[test]
fn the_reference_adapter_passes_fuzz_in_persistent_and_exec_mode() {
    for (persistent, cases) in [(true, 150), (false, 30)] {
        let client = Client::Adapter {
            command: format!("'{BIN}' reference-adapter"),
            persistent,
        };
        let run = fuzz_with(client, cases, 16);
        assert!(
            run.failure.is_none(),
            "persistent={persistent}: {:#?}",
            run.failure.map(|f| f.result)
        );
        assert_eq!(run.cases_run, cases);
    }
}

/// Each defect of the harness's broken clients that is about parsing or retries, and the
/// verdict its shrunk case must end with. No catalogue scenario is involved: fuzz alone.
const CAUGHT: &[(Defect, Verdict)] = &[
    (Defect::IgnoreCancelTimeOffset, Verdict::Fail),
    (Defect::CrashOnUnknownField, Verdict::Error),
    (Defect::CrashOnUnknownCode, Verdict::Error),
    (Defect::UnknownAsFailure, Verdict::Fail),
    (Defect::RetryWithOtherIds, Verdict::Fail),
];

#[test]
fn each_parsing_and_retry_defect_is_caught_by_fuzz_alone() {
    for (defect, verdict) in CAUGHT {
        let run = fuzz_with(in_process(&[*defect]), 500, 256);
        let failure = run
            .failure
            .as_ref()
            .unwrap_or_else(|| panic!("{defect:?} passed {} generated cases", run.cases_run));
        assert_eq!(
            failure.result.verdict, *verdict,
            "{defect:?}: {:#?}",
            failure.result
        );
        assert!(failure.shrunk.id.starts_with("fuzz/case-"));
        let answers = &failure.shrunk.answers;
        let bodies: Vec<&Value> = answers.iter().map(|a| a.body.as_ref().unwrap()).collect();
        // The shrunk case shows the input the defect needs, and little else: the answer that
        // triggers it, after at most one U (a U cannot be the last answer and trigger it).
        assert!(answers.len() <= 2, "{defect:?}: {answers:#?}");
        match defect {
            Defect::IgnoreCancelTimeOffset => {
                let t = bodies[answers.len() - 1]["cancelTime"].as_str().unwrap();
                assert!(!t.ends_with(['Z', 'z']) && !t.ends_with("+00:00"), "{t}");
            }
            Defect::CrashOnUnknownField => {
                assert!(bodies.iter().any(|b| b
                    .as_object()
                    .unwrap()
                    .keys()
                    .any(|k| !CancelResponse::MEMBERS.contains(&k.as_str()))));
            }
            Defect::CrashOnUnknownCode => {
                assert!(bodies.iter().any(|b| {
                    let code = b["result"]["resultCode"].as_str().unwrap();
                    !result_code_table().iter().any(|r| r.result_code == code)
                }));
            }
            Defect::UnknownAsFailure => {
                assert!(bodies.iter().any(|b| b["result"]["resultStatus"] == "U"));
            }
            Defect::RetryWithOtherIds => {
                assert!(
                    failure.shrunk.request.len() >= 2,
                    "{:?}",
                    failure.shrunk.request
                );
                // One answer that leaves the result open, then the one the retry got.
                assert_eq!(answers.len(), 2);
                assert!(!answers[0].is_final(), "{answers:?}");
            }
            _ => unreachable!(),
        }
    }
}

#[test]
fn a_client_broken_on_one_rare_input_is_shrunk_to_exactly_that_input() {
    // Arrange: a client that misreads cancelTime only when the offset's minutes are 45.
    let client = in_process(&[Defect::MisreadOddOffset]);
    // Act
    let run = fuzz_with(client.clone(), 3000, 1024);
    // Assert: caught, and shrunk to one signed S whose only unusual part is the offset.
    let failure = run.failure.as_ref().expect("the rare input is found");
    assert_eq!(failure.result.verdict, Verdict::Fail);
    assert!(failure
        .result
        .failed_checks()
        .any(|c| c.id == "outcome.cancelTime"));
    let shrunk = &failure.shrunk;
    assert_eq!(shrunk.request.len(), 1, "{:?}", shrunk.request);
    assert_eq!(shrunk.answers.len(), 1);
    let body = shrunk.answers[0].body.as_ref().unwrap();
    let t = body["cancelTime"].as_str().unwrap();
    assert!(t.starts_with("2000-01-01T00:00:00"), "{t}");
    assert!(t.ends_with(":45"), "{t}");
    assert_eq!(
        body["result"],
        serde_json::json!({"resultCode": "SUCCESS", "resultStatus": "S"})
    );
    let members: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        members,
        ["result", "paymentId", "paymentRequestId", "cancelTime"]
    );
    for id in ["paymentId", "paymentRequestId"] {
        assert_eq!(body[id].as_str().unwrap().chars().count(), 1, "{body}");
    }

    // The printed case is a catalogue file, and running it alone fails the same way.
    let file = run.scenario_file().unwrap();
    let catalogue = Catalogue::from_sources([("fuzz.json".to_owned(), file)]).unwrap();
    let scenarios: Vec<&Scenario> = catalogue.scenarios().iter().collect();
    let replay = run_scenarios(&scenarios, &run_config(client.clone(), 1));
    assert_eq!(replay.scenarios[0].verdict, Verdict::Fail);

    // The seed replays the run: up to the failing case, the same case fails first.
    let again = fuzz_with(client.clone(), failure.case, 0);
    let refound = again.failure.expect("the seed replays the failure");
    assert_eq!(refound.case, failure.case);
    assert_eq!(refound.original, failure.original);

    // The reports carry the shrunk case and fail the run.
    let report = run.report(&client);
    assert_eq!(report.exit_code(), alipay_cancel_kit::exit::Exit::Failures);
    assert_eq!(report.scenarios.len(), 1);
    assert!(Schema::Report.is_valid(&serde_json::to_value(&report).unwrap()));
    let junit = alipay_cancel_kit::report::junit::render(&report);
    assert!(junit.contains(&shrunk.id), "{junit}");
}
