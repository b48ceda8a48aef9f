//! What a newcomer reads and sees, held to what the kit does: every mistake the adapter
//! protocol says the catalogue catches is caught (by a deliberate defect of the built-in client
//! and the scenario the docs name), a raw base64 request signature is `NON_STRICT` with the
//! reason said, one cause failing every scenario is reported once, and every report says
//! whether the run was plain HTTP or TLS.

use alipay_cancel_kit::reference_client::Defect;
use alipay_cancel_kit::report::{html, json, junit, terminal, RunTransport};
use alipay_cancel_kit::run::Client;
use alipay_cancel_kit::verdict::Verdict;

use crate::common::{explain, in_process, result_of, run_with, runtime};

/// The deliberate defect that makes each mistake the docs list: the claim's words, exactly as
/// `docs/adapter-protocol.md` writes them, and the defect, with the verdict the contract gives
/// it. A line of the docs' list missing here fails the test: a claim needs a defect.
const MISTAKES: &[(&str, Defect, Verdict)] = &[
    (
        "a body re-serialised after signing",
        Defect::ReserializeAfterSigning,
        Verdict::Fail,
    ),
    (
        "the request signature sent as raw base64, not URL-encoded",
        Defect::RawBase64Signature,
        Verdict::NonStrict,
    ),
    (
        "an HTTP 500 carrying an `F` body surfaced as `FAILED`",
        Defect::TransportErrorAsFailure,
        Verdict::Fail,
    ),
    (
        "an unsigned `S` believed",
        Defect::NoResponseVerification,
        Verdict::Fail,
    ),
    (
        "a badly signed `S` believed",
        Defect::NoResponseVerification,
        Verdict::Fail,
    ),
    ("retrying an `F`", Defect::RetryFailure, Verdict::Fail),
    (
        "`cancelTime`'s offset dropped",
        Defect::IgnoreCancelTimeOffset,
        Verdict::Fail,
    ),
    (
        "a crash on an unknown member",
        Defect::CrashOnUnknownField,
        Verdict::Error,
    ),
    (
        "a crash on an unknown result code",
        Defect::CrashOnUnknownCode,
        Verdict::Error,
    ),
    (
        "ids counted in bytes instead of characters",
        Defect::CountIdBytes,
        Verdict::Fail,
    ),
];

/// The docs' list: each `- <mistake>: `<scenario>`` line after "Common mistakes the catalogue
/// catches", up to the blank line that ends the list.
fn claimed_mistakes() -> Vec<(String, String)> {
    let page = include_str!("../../docs/adapter-protocol.md");
    let start = page
        .find("Common mistakes the catalogue catches")
        .expect("docs/adapter-protocol.md lists the mistakes the catalogue catches");
    page[start..]
        .lines()
        .skip_while(|l| !l.starts_with("- "))
        .take_while(|l| l.starts_with("- "))
        .map(|l| {
            let (mistake, rest) = l[2..]
                .rsplit_once(": `")
                .unwrap_or_else(|| panic!("{l:?}: no `: \\`scenario\\`` after the mistake"));
            let scenario = rest.split('`').next().unwrap();
            (mistake.to_owned(), scenario.to_owned())
        })
        .collect()
}

#[test]
fn every_mistake_the_docs_say_the_catalogue_catches_is_caught_by_its_scenario() {
    let claims = claimed_mistakes();
    assert!(claims.len() >= 8, "{claims:?}");
    let scenarios: Vec<&str> = claims.iter().map(|(_, s)| s.as_str()).collect();
    // The correct client passes each named scenario: the verdicts below are the defects'.
    let clean = run_with(in_process(&[]), &scenarios);
    for id in &scenarios {
        let s = result_of(&clean, id);
        assert_eq!(s.verdict, Verdict::Pass, "{}", explain(s));
    }
    for (mistake, scenario) in &claims {
        let Some((_, defect, verdict)) = MISTAKES.iter().find(|(m, _, _)| m == mistake) else {
            panic!(
                "docs/adapter-protocol.md says the catalogue catches {mistake:?}, but no deliberate defect of the built-in client backs the claim: add one (and its row in MISTAKES) or drop the claim"
            );
        };
        let report = run_with(in_process(&[*defect]), &[scenario]);
        let s = result_of(&report, scenario);
        assert_eq!(
            s.verdict,
            *verdict,
            "{mistake} ({defect:?}): {}",
            explain(s)
        );
        if *verdict != Verdict::Error {
            assert!(
                s.failed_checks().next().is_some(),
                "{mistake}: no check says why"
            );
        }
    }
    // And the docs' words are not a hand-kept copy drifting from the table above.
    for (mistake, _, _) in MISTAKES {
        assert!(
            claims.iter().any(|(m, _)| m == mistake),
            "{mistake:?} is no longer in the docs' list: drop its row"
        );
    }
}

#[test]
fn a_raw_base64_request_signature_is_non_strict_and_the_check_says_why() {
    let report = run_with(in_process(&[Defect::RawBase64Signature]), &["result/*"]);
    for s in &report.scenarios {
        assert_eq!(s.verdict, Verdict::NonStrict, "{}", explain(s));
        // Every request's value (a `U` is called again): each the same SHOULD, nothing else.
        let failed: Vec<_> = s.failed_checks().collect();
        assert!(!failed.is_empty(), "{}", explain(s));
        assert!(
            failed
                .iter()
                .all(|c| c.id.ends_with("].signature-encoding")),
            "{}",
            explain(s)
        );
        let check = failed[0];
        assert_eq!(check.id, "request[1].signature-encoding");
        assert!(
            check.message.contains("raw base64")
                && check.message.contains("reads each `+` as a space"),
            "{}",
            check.message
        );
        let sent = &check.values["signature"];
        assert!(sent.ends_with("=="), "{sent}");
        assert!(check.values["urlEncoded"].ends_with("%3D%3D"));
    }
    assert_eq!(report.exit_code(), alipay_cancel_kit::exit::Exit::Ok);
}

#[test]
fn one_cause_failing_every_scenario_is_reported_once_under_120_lines() {
    let report = run_with(in_process(&[Defect::ReserializeAfterSigning]), &["*"]);
    let failing = report.summary.fail;
    assert!(failing >= 60, "{:?}", report.summary);
    let text = terminal::render(&report, false);
    let lines = text.lines().count();
    assert!(lines < 120, "{lines} lines:\n{text}");
    let heading = format!("cause 1: {failing} scenarios: request[1].signature");
    assert!(text.contains(&heading), "{text}");
    // The block once, with the string to sign as it is (one line, its line feed escaped).
    assert_eq!(
        text.matches("request[1].signature: the signature must verify")
            .count(),
        1
    );
    assert!(
        text.contains("stringToSign: POST /ams/api/v1/payments/cancel\\nTEST_"),
        "{text}"
    );
    assert!(text.contains("result/{SUCCESS, "), "{text}");
    // Every failing scenario's line points at the cause.
    for s in report
        .scenarios
        .iter()
        .filter(|s| s.verdict == Verdict::Fail)
    {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("FAIL        {}  ", s.id)))
            .unwrap();
        assert!(line.ends_with("[cause 1]"), "{line}");
    }
    // The other reports keep each scenario's checks whole, the string to sign as a value.
    let value = json::to_value(&report);
    let first_fail = value["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["verdict"] == "FAIL")
        .unwrap();
    let check = first_fail["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "request[1].signature")
        .unwrap();
    let string_to_sign = check["values"]["stringToSign"].as_str().unwrap();
    assert!(string_to_sign.starts_with("POST /ams/api/v1/payments/cancel\nTEST_"));
    // The body that was sent: re-serialised, a space after the colon.
    assert!(
        string_to_sign.contains("{\"paymentId\": \""),
        "{string_to_sign}"
    );
    let xml = junit::render(&report);
    assert!(xml.contains("<property name=\"request[1].signature.stringToSign\" value=\"POST /ams/api/v1/payments/cancel&#10;TEST_"));
    let page = html::render(&report);
    assert!(page.contains("stringToSign:<pre>POST /ams/api/v1/payments/cancel\nTEST_"));
}

#[test]
fn a_failure_with_no_request_shows_what_the_client_surfaced() {
    let report = run_with(
        in_process(&[Defect::CountIdBytes]),
        &["request/max-length-unicode-ids"],
    );
    let text = terminal::render(&report, false);
    assert!(
        text.contains("no request reached the gateway; the client surfaced INVALID_REQUEST: refused locally: paymentRequestId: expected at most 64 characters, found 192"),
        "{text}"
    );
}

#[test]
fn every_report_says_whether_the_run_was_plain_http_or_tls() {
    for tls in [false, true] {
        let mut config = crate::common::config(in_process(&[]));
        config.tls = tls;
        let selected = crate::common::catalogue().select(&["result/SUCCESS".to_owned()], &[]);
        let report = runtime()
            .block_on(alipay_cancel_kit::run::run(&selected, &config))
            .unwrap();
        let (word, said) = if tls {
            ("tls", "TLS in every scenario (--tls)")
        } else {
            ("http", "plain HTTP (TLS only in tls/ scenarios)")
        };
        assert_eq!(report.transport, RunTransport::of(tls));
        assert_eq!(json::to_value(&report)["transport"], word);
        assert!(terminal::render(&report, false).contains(&format!("transport: {said}")));
        assert!(junit::render(&report)
            .contains(&format!("<property name=\"transport\" value=\"{word}\"/>")));
        assert!(html::render(&report).contains(&format!("<td>transport</td><td>{said}</td>")));
    }
}

#[test]
fn the_html_report_carries_its_rules_and_links_nowhere_relative() {
    let report = run_with(
        in_process(&[Defect::UnknownAsFailure]),
        &["result/UNKNOWN_EXCEPTION", "result/SUCCESS"],
    );
    let page = html::render(&report);
    assert!(!page.contains("href=\"docs/"), "a relative link into docs/");
    assert!(!page.contains("href=\"../"), "a relative link");
    // The failing check's rule, in words, beside it; and what the client surfaced.
    assert!(page.contains("<div class=\"rule-text\">`outcome.kind` (MUST): The outcome is one of those accepted for the last answer.</div>"));
    assert!(page.contains("the client surfaced <code>FAILED (UNKNOWN_EXCEPTION)</code>"));
    // The first failure is a jump away, and listed first.
    let jump = page
        .find("first failure: <code>result/UNKNOWN_EXCEPTION</code>")
        .unwrap();
    let failing = page.find("<summary><span class=\"v FAIL\">").unwrap();
    let passing = page.find("<summary><span class=\"v PASS\">").unwrap();
    assert!(jump < failing && failing < passing);
    // Every rule cited, once, with its text, under the anchor its references jump to.
    assert!(page.contains("<h2 id=\"rules\">Rules cited</h2>"));
    assert!(page.contains("<a href=\"#rule-1\">"));
    // With a base URL, the references link out too.
    let options = html::Options {
        docs_url: Some("https://example.test/kit/".into()),
    };
    let linked = html::render_with(&report, &options);
    assert!(linked.contains("href=\"https://example.test/kit/docs/contract.md#outcome-rules\""));
    assert!(!linked.contains("href=\"docs/"));
}

#[test]
fn a_stray_stdout_line_in_persistent_mode_is_named_not_blamed_on_the_next_scenario() {
    // Logs one line to standard output before its first outcome, then answers in step; it
    // sends no request, and says so.
    let dir = crate::common::scratch_dir("newcomer", "stray-line");
    let script = dir.join("adapter.sh");
    std::fs::write(
        &script,
        // The log line and the first outcome go out in one write, so both are in the pipe
        // before the second instruction: what the kit then finds waiting does not depend on
        // how soon the shell is scheduled.
        "first=1\nwhile read -r line; do\n  if [ -n \"$first\" ]; then first=; printf 'adapter starting\\n{\"outcome\":\"UNKNOWN\",\"error\":\"sent nothing\"}\\n'; continue; fi\n  echo '{\"outcome\":\"UNKNOWN\",\"error\":\"sent nothing\"}'\ndone\n",
    )
    .unwrap();
    let mut config = crate::common::config(Client::Adapter {
        command: format!("sh '{}'", script.display()),
        persistent: true,
    });
    config.jobs = 1;
    let ids = ["fault/http-500", "fault/http-429", "fault/http-502-empty"];
    let patterns: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    let selected = crate::common::catalogue().select(&patterns, &[]);
    let report = runtime()
        .block_on(alipay_cancel_kit::run::run(&selected, &config))
        .unwrap();
    let verdicts: Vec<(&str, Verdict)> = report
        .scenarios
        .iter()
        .map(|s| (s.id.as_str(), s.verdict))
        .collect();
    // Whichever scenario the process served first read the log line (not JSON); the one it
    // served next would have read the first's outcome, and says so instead; the last is in
    // step again, judged on its own outcome (no request sent: FAIL, with why). The harness
    // may hand the three to the process in any order, so they are found by what they say.
    let with_reason = |needle: &str| {
        report
            .scenarios
            .iter()
            .filter(|s| s.reason.as_deref().is_some_and(|r| r.contains(needle)))
            .collect::<Vec<_>>()
    };
    let stray = with_reason("a line arrived on standard output before this scenario's instruction was sent, so before any request: ");
    assert_eq!(stray.len(), 1, "{verdicts:?}");
    assert_eq!(stray[0].verdict, Verdict::Error);
    assert!(
        stray[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("the adapter may be logging to standard output"),
        "{verdicts:?}"
    );
    assert_eq!(with_reason("\"adapter starting\"").len(), 1, "{verdicts:?}");
    let in_step: Vec<_> = report
        .scenarios
        .iter()
        .filter(|s| s.reason.is_none())
        .collect();
    assert_eq!(in_step.len(), 1, "{verdicts:?}");
    assert_eq!(in_step[0].verdict, Verdict::Fail, "{}", explain(in_step[0]));
    let text = terminal::render(&report, false);
    assert!(
        text.contains("the client surfaced UNKNOWN: sent nothing"),
        "{text}"
    );
}

#[test]
fn x_kit_violations_carries_the_quoted_values_by_name() {
    let report = run_with(
        in_process(&[Defect::WrongStringToSign]),
        &["result/ORDER_NOT_EXIST"],
    );
    let checks = &result_of(&report, "result/ORDER_NOT_EXIST").checks;
    let header = alipay_cancel_kit::serve::violations_header(checks).unwrap();
    assert!(header.is_ascii() && !header.contains('\n'));
    let list: serde_json::Value = serde_json::from_str(&header).unwrap();
    let signature = list
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "request[1].signature")
        .unwrap();
    let string_to_sign = signature["values"]["stringToSign"].as_str().unwrap();
    assert!(
        string_to_sign.starts_with("POST /ams/api/v1/payments/cancel\nTEST_5YBZ1."),
        "{string_to_sign}"
    );
}
