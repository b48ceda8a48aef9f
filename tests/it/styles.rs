//! Correct clients that write like real ones never fail: the built-in client writing every
//! absent outcome member as `null` (Jackson, .NET, Go), or keeping `cancelTime` only to the
//! millisecond (JavaScript's `Date`) or microsecond (Python's `datetime`), passes the whole
//! catalogue and 2,000 fuzz cases, in process and through `reference-adapter`; losing digits
//! is `NON_STRICT` exactly where more are served than kept. And the lines next to them still
//! fail: a millisecond off, a `null` where a kind needs a value.

use super::common::{
    catalogue, config, explain, result_of, run_with as run_catalogue, runtime, BIN,
};
use std::collections::BTreeSet;

use alipay_cancel_kit::fuzz::{self, FuzzConfig, Timing};
use alipay_cancel_kit::protocol::Outcome;
use alipay_cancel_kit::reference_client::{Behaviour, Style};
use alipay_cancel_kit::report::RunReport;
use alipay_cancel_kit::run::Client;
use alipay_cancel_kit::scenario::Scenario;
use alipay_cancel_kit::schema::Schema;
use alipay_cancel_kit::spec::CancelTime;
use alipay_cancel_kit::verdict::{ScenarioResult, Verdict, CANCEL_TIME, CANCEL_TIME_PRECISION};
use serde_json::Value;

/// The seed of the fuzz runs: fixed, so CI sees the same cases each time.
const SEED: u64 = 20_261_201;

fn styled_adapter(styles: &[Style], persistent: bool) -> Client {
    let flags: String = styles
        .iter()
        .map(|s| format!(" --style {}", s.name()))
        .collect();
    Client::Adapter {
        command: format!("'{BIN}' reference-adapter{flags}"),
        persistent,
    }
}

/// The fraction digits a client of these styles keeps, if it drops some.
fn kept_digits(styles: &[Style]) -> Option<usize> {
    styles.iter().filter_map(|s| s.fraction_digits()).min()
}

/// The scenarios whose answers serve a `cancelTime` with more fraction digits than `kept`.
fn serving_more_digits_than(kept: Option<usize>) -> BTreeSet<String> {
    let Some(kept) = kept else {
        return BTreeSet::new();
    };
    catalogue()
        .scenarios()
        .iter()
        .filter(|s| {
            s.answers.iter().any(|a| {
                a.body
                    .as_ref()
                    .and_then(|b| b.get("cancelTime"))
                    .and_then(Value::as_str)
                    .and_then(|t| CancelTime::parse(t).ok())
                    .is_some_and(|t| t.fraction().len() > kept)
            })
        })
        .map(|s: &Scenario| s.id.clone())
        .collect()
}

/// The served text's fraction, as the precision check's `expected` starts with it.
fn served_fraction(result: &ScenarioResult) -> String {
    let check = result
        .failed_checks()
        .find(|c| c.id == CANCEL_TIME_PRECISION)
        .unwrap_or_else(|| panic!("no precision check failed: {}", explain(result)));
    let served = check.expected.as_deref().unwrap_or_default();
    let text = served.split(' ').next().unwrap_or_default();
    CancelTime::parse(text)
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
        .fraction()
        .to_owned()
}

/// A `NON_STRICT` result of a styled client: only the precision SHOULD failed, on a served
/// `cancelTime` with more digits than the client keeps, and the message says what was lost.
fn assert_only_digits_lost(result: &ScenarioResult, styles: &[Style]) {
    let failed: Vec<&str> = result.failed_checks().map(|c| c.id.as_str()).collect();
    assert_eq!(failed, [CANCEL_TIME_PRECISION], "{}", explain(result));
    let kept = kept_digits(styles).unwrap_or_else(|| panic!("{styles:?} keep every digit"));
    let served = served_fraction(result);
    assert!(served.len() > kept, "{}", explain(result));
    // The digits kept, truncated; Python writes no fraction when its microseconds are 0.
    let surfaced = match &served[..kept] {
        digits if kept == 6 && digits.bytes().all(|b| b == b'0') => "no fraction".to_owned(),
        digits => format!(".{digits}"),
    };
    let check = result.failed_checks().next().unwrap();
    assert!(
        check
            .message
            .contains(&format!("served .{served}, surfaced {surfaced}")),
        "{}",
        check.message
    );
    // The MUST beside it held: the instant is right to the millisecond.
    assert!(result.checks.iter().any(|c| c.id == CANCEL_TIME && c.held));
}

/// The whole catalogue, for a client of `styles`: no `FAIL`, no `ERROR`, and `NON_STRICT`
/// exactly on the scenarios that serve more fraction digits than the client keeps.
fn assert_passes_the_catalogue(report: &RunReport, styles: &[Style]) {
    assert_eq!(report.summary.total, catalogue().scenarios().len());
    let kept = kept_digits(styles);
    let expected = serving_more_digits_than(kept);
    if kept.is_some() {
        assert!(
            !expected.is_empty(),
            "no scenario serves more than {kept:?} digits"
        );
    }
    let mut non_strict = BTreeSet::new();
    for s in &report.scenarios {
        match s.verdict {
            Verdict::Pass => {}
            Verdict::NonStrict => {
                assert_only_digits_lost(s, styles);
                non_strict.insert(s.id.clone());
            }
            _ => panic!("{styles:?}: {}", explain(s)),
        }
    }
    assert_eq!(non_strict, expected, "{styles:?}");
}

/// Every outcome line of a `nulls` client names every member, with `null` where it has no value.
fn assert_nulls_written(report: &RunReport) {
    let mut nulls = 0;
    for s in &report.scenarios {
        let printed = s.outcome.as_ref().and_then(Value::as_object);
        let printed = printed.unwrap_or_else(|| panic!("{}: no outcome", s.id));
        let members: Vec<&str> = printed.keys().map(String::as_str).collect();
        assert_eq!(members, Outcome::MEMBERS, "{}", s.id);
        nulls += printed.values().filter(|v| v.is_null()).count();
    }
    assert!(nulls > report.scenarios.len(), "{nulls} nulls");
    // The catalogue's own explicit-nulls answer passes through as null, and passes.
    let explicit = result_of(report, "response/explicit-nulls");
    assert_eq!(explicit.verdict, Verdict::Pass);
    assert_eq!(
        explicit.outcome.as_ref().unwrap()["resultMessage"],
        Value::Null
    );
}

const STYLES: [&[Style]; 3] = [&[Style::Nulls], &[Style::Millis], &[Style::Micros]];

#[test]
fn each_style_passes_the_whole_catalogue_in_process() {
    for styles in STYLES {
        let report = run_catalogue(Client::InProcess(Behaviour::styled(styles.to_vec())), &[]);
        assert_passes_the_catalogue(&report, styles);
        if styles.contains(&Style::Nulls) {
            assert_nulls_written(&report);
        }
    }
}

#[test]
fn each_style_passes_the_whole_catalogue_through_the_reference_adapter() {
    for styles in STYLES {
        let report = run_catalogue(styled_adapter(styles, true), &[]);
        assert_eq!(report.mode, "persistent");
        assert_eq!(report.exit_code(), alipay_cancel_kit::exit::Exit::Ok);
        let json = serde_json::to_value(&report).unwrap();
        assert!(
            Schema::Report.is_valid(&json),
            "{styles:?}: the JSON report"
        );
        assert_passes_the_catalogue(&report, styles);
        if styles.contains(&Style::Nulls) {
            assert_nulls_written(&report);
        }
    }
}

#[test]
fn the_styles_write_cancel_time_as_javascript_and_python_do() {
    let report = run_catalogue(
        styled_adapter(&[Style::Millis], false),
        &["response/cancel-time-long-fraction", "result/SUCCESS"],
    );
    let surfaced = |report: &RunReport, id: &str| {
        let s = result_of(report, id);
        s.outcome.as_ref().unwrap()["cancelTime"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // `new Date("2019-06-12T19:07:11.1234567+08:00").toISOString()`
    assert_eq!(
        surfaced(&report, "response/cancel-time-long-fraction"),
        "2019-06-12T11:07:11.123Z"
    );
    assert_eq!(
        surfaced(&report, "result/SUCCESS"),
        "2019-06-12T11:07:11.000Z"
    );
    let report = run_catalogue(
        styled_adapter(&[Style::Micros], false),
        &[
            "response/cancel-time-long-fraction",
            "response/cancel-time-utc",
        ],
    );
    // `datetime.fromisoformat(...).isoformat()`
    assert_eq!(
        surfaced(&report, "response/cancel-time-long-fraction"),
        "2019-06-12T19:07:11.123456+08:00"
    );
    assert_eq!(
        surfaced(&report, "response/cancel-time-utc"),
        "2019-06-12T11:07:11+00:00"
    );
}

fn fuzz_run(client: Client, cases: u32) -> fuzz::FuzzRun {
    let fuzz_config = FuzzConfig {
        cases,
        seed: SEED,
        max_shrink_iters: 16,
        timing: Timing::default(),
    };
    let mut run_config = config(client);
    run_config.jobs = 8;
    runtime()
        .block_on(fuzz::fuzz(&fuzz_config, &run_config))
        .expect("the run starts")
}

/// A fuzz run of a styled client: no case failed, and every `NON_STRICT` case kept (those the
/// run records) only lost fraction digits beyond what the client keeps.
fn assert_passes_fuzz(run: &fuzz::FuzzRun, styles: &[Style], cases: u32) {
    eprintln!(
        "{styles:?}: {} cases, {} NON_STRICT, {:.0} cases/s",
        run.cases_run,
        run.non_strict_count,
        run.cases_per_second()
    );
    let failure = run.failure.as_ref().map(|f| explain(&f.result));
    assert_eq!(failure, None, "{styles:?}");
    assert_eq!(run.cases_run, cases);
    match kept_digits(styles) {
        None => assert_eq!(run.non_strict_count, 0, "{styles:?}: {:#?}", run.non_strict),
        Some(_) => {
            assert!(
                run.non_strict_count > 0,
                "{styles:?}: no case served more digits"
            );
            assert!(!run.non_strict.is_empty());
            for result in &run.non_strict {
                assert_only_digits_lost(result, styles);
            }
        }
    }
}

#[test]
fn each_style_passes_2000_fuzz_cases_in_process() {
    for styles in STYLES {
        let run = fuzz_run(Client::InProcess(Behaviour::styled(styles.to_vec())), 2000);
        assert_passes_fuzz(&run, styles, 2000);
    }
}

#[test]
fn a_styled_reference_adapter_passes_fuzz_in_persistent_mode() {
    // Nulls and milliseconds at once, through the adapter's JSON: a JavaScript client whose
    // serializer writes null for what it lacks.
    let styles = [Style::Nulls, Style::Millis];
    let run = fuzz_run(styled_adapter(&styles, true), 300);
    assert_passes_fuzz(&run, &styles, 300);
}

/// The reference adapter with its outcome line edited by `sed` (exec mode: `sed` prints
/// when the adapter's output ends), run on one scenario.
fn edited(scenario: &str, sed: &str) -> ScenarioResult {
    let client = Client::Adapter {
        command: format!("'{BIN}' reference-adapter | sed '{sed}'"),
        persistent: false,
    };
    let report = run_catalogue(client, &[scenario]);
    report.scenarios.into_iter().next().unwrap()
}

#[test]
fn a_cancel_time_a_millisecond_off_fails_the_must() {
    // Served 2019-06-12T19:07:11.123+08:00; the reference client writes it back as served.
    let result = edited(
        "response/cancel-time-fraction",
        r"s/11\.123+08:00/11.124+08:00/",
    );
    assert_eq!(result.verdict, Verdict::Fail, "{}", explain(&result));
    let check = result.failed_checks().next().unwrap();
    assert_eq!(check.id, CANCEL_TIME);
    assert!(
        check.message.contains("to the millisecond"),
        "{}",
        check.message
    );
    assert_eq!(
        check.seen.as_deref(),
        Some("2019-06-12T19:07:11.124+08:00 (= 2019-06-12T11:07:11.124Z)")
    );

    // Less than a millisecond off, in the other direction: the MUST holds, the SHOULD not.
    let result = edited(
        "response/cancel-time-fraction",
        r"s/11\.123+08:00/11.1229+08:00/",
    );
    assert_eq!(result.verdict, Verdict::NonStrict, "{}", explain(&result));
    let check = result.failed_checks().next().unwrap();
    assert_eq!(check.id, CANCEL_TIME_PRECISION);
    assert!(
        check.message.contains("served .123, surfaced .1229"),
        "{}",
        check.message
    );

    // The offset dropped is still a failure, whatever the digits.
    let result = edited("response/cancel-time-fraction", r"s/+08:00/Z/");
    assert_eq!(result.verdict, Verdict::Fail, "{}", explain(&result));
}

#[test]
fn a_null_where_the_outcome_needs_a_value_is_an_error() {
    for (scenario, sed, member) in [
        (
            "result/SUCCESS",
            r#"s/"cancelTime":"[^"]*"/"cancelTime":null/"#,
            "/cancelTime",
        ),
        (
            "result/SUCCESS",
            r#"s/"paymentId":"[^"]*"/"paymentId":null/"#,
            "/paymentId",
        ),
        (
            "result/ORDER_NOT_EXIST",
            r#"s/"resultCode":"[^"]*"/"resultCode":null/"#,
            "/resultCode",
        ),
    ] {
        let result = edited(scenario, sed);
        assert_eq!(
            result.verdict,
            Verdict::Error,
            "{sed}: {}",
            explain(&result)
        );
        let reason = result.reason.clone().unwrap_or_default();
        assert!(
            reason.contains("breaks schema/adapter-outcome.schema.json") && reason.contains(member),
            "{sed}: {reason}"
        );
        // The line as printed is kept for the report, null and all.
        let printed = result.outcome.as_ref().expect("the printed line is JSON");
        assert_eq!(printed[member.trim_start_matches('/')], Value::Null);
    }
    // The same nulls on members the kind does not need are fine.
    let result = edited(
        "result/ORDER_NOT_EXIST",
        r#"s/}$/,"paymentId":null,"cancelTime":null,"error":null}/"#,
    );
    assert_eq!(result.verdict, Verdict::Pass, "{}", explain(&result));
}
