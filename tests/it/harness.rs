//! The conformance harness end to end: the reference client passes, every broken client is
//! caught with the verdict the contract gives its defect, and broken adapters end as ERROR.

use super::common::{
    catalogue, config, explain, in_process, keys, result_of as verdict_of, run_with, runtime, BIN,
};
use std::time::Duration;

use alipay_cancel_kit::adapter;
use alipay_cancel_kit::gateway::{Gateway, Script};
use alipay_cancel_kit::reference_client::Defect;
use alipay_cancel_kit::report::RunReport;
use alipay_cancel_kit::run::{self, Client};
use alipay_cancel_kit::scenario::{Catalogue, Scenario};
use alipay_cancel_kit::schema::Schema;
use alipay_cancel_kit::verdict::{ScenarioResult, Verdict};

fn failures(report: &RunReport) -> Vec<String> {
    report
        .scenarios
        .iter()
        .filter(|s| s.verdict.is_failure() || s.verdict == Verdict::NonStrict)
        .map(explain)
        .collect()
}

#[test]
fn reference_client_passes_every_scenario_in_process() {
    let report = run_with(in_process(&[]), &[]);
    assert_eq!(failures(&report), Vec::<String>::new());
    for s in &report.scenarios {
        let judged_elsewhere = s.id.starts_with("tls/") && s.verdict == Verdict::Skipped;
        assert!(
            s.verdict == Verdict::Pass || judged_elsewhere,
            "{} ended {} ({:?})",
            s.id,
            s.verdict,
            s.reason
        );
        if s.verdict == Verdict::Pass {
            assert!(!s.checks.is_empty(), "{} passed with no check", s.id);
        }
    }
    assert_eq!(report.summary.total, catalogue().scenarios().len());
}

#[test]
fn reference_adapter_passes_in_exec_and_persistent_mode() {
    for persistent in [false, true] {
        let client = Client::Adapter {
            command: format!("'{BIN}' reference-adapter"),
            persistent,
        };
        let report = run_with(
            client,
            &[
                "result",
                "request",
                "retry",
                "fault/connection-closed",
                "signature/tampered-success",
            ],
        );
        assert_eq!(
            failures(&report),
            Vec::<String>::new(),
            "persistent={persistent}"
        );
        assert_eq!(report.mode, if persistent { "persistent" } else { "exec" });
        assert!(report.summary.pass >= 30);
    }
}

/// Each deliberately broken client, the scenario that targets its defect, and the verdict the
/// contract gives that defect there.
const SENSITIVITY: &[(Defect, &str, Verdict)] = &[
    (
        Defect::NumberForString,
        "request/numeric-looking-id",
        Verdict::Fail,
    ),
    (Defect::WrongStringToSign, "result/SUCCESS", Verdict::Fail),
    (Defect::NoRequestSignature, "result/SUCCESS", Verdict::Fail),
    (
        Defect::NoResponseVerification,
        "signature/tampered-success",
        Verdict::Fail,
    ),
    (
        Defect::AcceptEmptySignature,
        "signature/empty-on-success",
        Verdict::Fail,
    ),
    (
        Defect::UnknownAsFailure,
        "result/UNKNOWN_EXCEPTION",
        Verdict::Fail,
    ),
    (
        Defect::TransportErrorAsFailure,
        "fault/timeout",
        Verdict::Fail,
    ),
    (
        Defect::TransportErrorAsFailure,
        "fault/http-500",
        Verdict::Fail,
    ),
    (
        Defect::RetryFailure,
        "result/ORDER_NOT_EXIST",
        Verdict::Fail,
    ),
    (
        Defect::RetryWithOtherIds,
        "retry/u-then-success",
        Verdict::Fail,
    ),
    (
        Defect::IgnoreCancelTimeOffset,
        "result/SUCCESS",
        Verdict::Fail,
    ),
    (
        Defect::CrashOnUnknownField,
        "response/unknown-fields",
        Verdict::Error,
    ),
    (
        Defect::CrashOnUnknownCode,
        "response/unknown-code-f",
        Verdict::Error,
    ),
    (
        Defect::NoLocalValidation,
        "request/id-too-long",
        Verdict::NonStrict,
    ),
    (
        Defect::NoCertificateCheck,
        "tls/untrusted-certificate",
        Verdict::Fail,
    ),
    (
        Defect::ReserializeAfterSigning,
        "result/SUCCESS",
        Verdict::Fail,
    ),
    (
        Defect::RawBase64Signature,
        "result/SUCCESS",
        Verdict::NonStrict,
    ),
    (
        Defect::CountIdBytes,
        "request/max-length-unicode-ids",
        Verdict::Fail,
    ),
    (
        Defect::MisreadOddOffset,
        "response/cancel-time-odd-offset",
        Verdict::Fail,
    ),
];

#[test]
fn every_broken_client_is_caught_with_the_contracts_verdict() {
    let ids: Vec<&str> = SENSITIVITY.iter().map(|(_, id, _)| *id).collect();
    // The correct client passes every targeted scenario, so each verdict below is the defect's.
    let clean = run_with(in_process(&[]), &ids);
    for id in &ids {
        assert_eq!(verdict_of(&clean, id).verdict, Verdict::Pass, "{id}");
    }
    let mut caught = 0;
    for (defect, id, expected) in SENSITIVITY {
        let report = run_with(in_process(&[*defect]), &[id]);
        let result = verdict_of(&report, id);
        assert_eq!(
            result.verdict,
            *expected,
            "{defect:?} on {id}: {:?}",
            failures(&report)
        );
        if *expected != Verdict::Error {
            assert!(
                result.failed_checks().next().is_some(),
                "{defect:?}: no failed check says why"
            );
        }
        caught += 1;
    }
    let defects: std::collections::BTreeSet<_> = SENSITIVITY.iter().map(|(d, _, _)| *d).collect();
    assert_eq!(caught, SENSITIVITY.len());
    assert_eq!(
        defects.len(),
        Defect::all().len(),
        "every defect has a scenario that targets it"
    );
    assert!(
        defects.len() >= 13,
        "the sensitivity table covers {} defects",
        defects.len()
    );
}

#[test]
fn a_broken_client_fails_the_whole_catalogue_run_with_exit_code_1() {
    let report = run_with(
        in_process(&[Defect::NoResponseVerification]),
        &["signature"],
    );
    assert_eq!(report.exit_code(), alipay_cancel_kit::exit::Exit::Failures);
    assert!(report.summary.fail >= 5, "{:?}", report.summary);
}

#[test]
fn a_signature_mismatch_shows_the_exact_string_that_should_have_been_signed() {
    let report = run_with(
        in_process(&[Defect::WrongStringToSign]),
        &["result/SUCCESS"],
    );
    let check = verdict_of(&report, "result/SUCCESS")
        .failed_checks()
        .find(|c| c.id == "request[1].signature")
        .expect("the signature check fails");
    // The string to sign as it is: no quoting, its line feed a line feed.
    let expected = &check.values["stringToSign"];
    assert!(
        expected.starts_with("POST /ams/api/v1/payments/cancel\nTEST_5YBZ1."),
        "{expected}"
    );
    assert!(
        expected.ends_with(r#".{"paymentId":"2019061218401080010018882020035XXXX"}"#),
        "{expected}"
    );
}

/// A scenario with a short hard limit, for adapters that misbehave.
fn quick_scenario() -> Scenario {
    let mut s = catalogue().get("result/ORDER_NOT_EXIST").unwrap().clone();
    s.timeout_ms = 40;
    s
}

fn run_adapter(command: &str, persistent: bool) -> ScenarioResult {
    let scenario = quick_scenario();
    let mut config = config(Client::Adapter {
        command: command.to_owned(),
        persistent,
    });
    config.time_limit_margin = Duration::from_millis(600);
    let report = runtime()
        .block_on(run::run(&[&scenario], &config))
        .expect("the adapter starts");
    report.scenarios.into_iter().next().unwrap()
}

#[test]
fn broken_adapters_end_as_error_with_the_reason() {
    let cases: &[(&str, &str)] = &[
        (
            "exit 3",
            "printed no outcome and exited with exit status: 3",
        ),
        ("echo hello", "not JSON"),
        (
            "echo '{\"outcome\":\"MAYBE\"}'",
            "breaks schema/adapter-outcome.schema.json",
        ),
        (
            "echo '{\"outcome\":\"SUCCESS\"}'",
            "breaks schema/adapter-outcome.schema.json",
        ),
        (
            "printf '{\"outcome\":\"UNKNOWN\"}\\n{\"outcome\":\"UNKNOWN\"}\\n'",
            "printed 2 lines",
        ),
        (
            "echo '{\"outcome\":\"UNKNOWN\"}'; exit 4",
            "printed an outcome but exited with exit status: 4",
        ),
        ("sleep 5", "hard time limit"),
    ];
    for (command, reason) in cases {
        let result = run_adapter(command, false);
        assert_eq!(
            result.verdict,
            Verdict::Error,
            "{command}: {:?}",
            result.reason
        );
        let why = result.reason.unwrap_or_default();
        assert!(why.contains(reason), "{command}: {why}");
    }
}

#[test]
fn what_a_hung_adapter_said_on_stderr_reaches_the_report() {
    for persistent in [false, true] {
        let result = run_adapter("echo said-before-hanging >&2; sleep 5", persistent);
        assert_eq!(result.verdict, Verdict::Error);
        assert!(
            result.stderr.contains("said-before-hanging"),
            "persistent={persistent}: {:?}",
            result.stderr
        );
        assert!(
            result.checks.iter().all(|c| c.held),
            "an adapter fault blames no check on the client"
        );
    }
}

#[test]
fn a_persistent_adapter_that_hangs_or_dies_is_error_not_a_hang() {
    for (command, reason) in [
        ("read line; sleep 5", "hard time limit"),
        ("read line; exit 0", "before printing an outcome"),
    ] {
        let result = run_adapter(command, true);
        assert_eq!(result.verdict, Verdict::Error, "{command}");
        assert!(
            result.reason.unwrap_or_default().contains(reason),
            "{command}"
        );
    }
}

fn assert_no_process_left(pattern: &str) {
    std::thread::sleep(Duration::from_millis(100));
    let left = std::process::Command::new("pgrep")
        .args(["-f", pattern])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    assert_eq!(left, "", "processes left behind");
}

#[test]
fn processes_an_adapter_leaves_behind_are_killed_after_a_clean_exit() {
    // The adapter answers and exits at once, leaving a child in its group that does not
    // hold standard output: the kit still kills the group after the scenario.
    let marker = "27.1828";
    let result = run_adapter(
        &format!("sleep {marker} >/dev/null 2>&1 & echo '{{\"outcome\":\"UNKNOWN\"}}'"),
        false,
    );
    assert_eq!(result.verdict, Verdict::Fail, "{:?}", result.reason);
    assert_no_process_left(&format!("sleep {marker}"));
}

#[test]
fn the_time_limit_kills_the_adapters_whole_process_group() {
    // The backgrounded sleep keeps standard output open: only killing the group ends it.
    let marker = "31.4159";
    let result = run_adapter(
        &format!("sleep {marker} & echo '{{\"outcome\":\"UNKNOWN\"}}'"),
        false,
    );
    assert_eq!(result.verdict, Verdict::Error);
    assert_no_process_left(&format!("sleep {marker}"));
}

#[test]
fn stderr_is_captured_into_the_report() {
    let result = run_adapter("echo 'diagnostics for humans' >&2; echo '{\"outcome\":\"FAILED\",\"resultCode\":\"ORDER_NOT_EXIST\"}'", false);
    assert!(
        result.stderr.contains("diagnostics for humans"),
        "{:?}",
        result.stderr
    );
    // FAILED without a request: the client never called the gateway.
    assert_eq!(result.verdict, Verdict::Fail);
    assert!(result
        .checks
        .iter()
        .any(|c| c.id == "requests.count" && !c.held));
}

#[test]
fn an_adapter_that_cannot_start_is_a_start_error() {
    let rt = runtime();
    let err = rt
        .block_on(adapter::probe_capabilities("/nonexistent/adapter-xyz"))
        .unwrap_err();
    assert!(
        matches!(err, adapter::StartError::Command { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("cannot be started"), "{err}");
    let caps = rt
        .block_on(adapter::probe_capabilities("echo not-json #"))
        .unwrap();
    assert!(caps.list.is_empty());
    assert!(caps.note.unwrap().contains("not a JSON array"));
    let caps = rt
        .block_on(adapter::probe_capabilities("echo '[\"tls\"]' #"))
        .unwrap();
    assert_eq!(caps.list, vec!["tls"]);
}

#[test]
fn a_port_already_in_use_is_a_clear_error() {
    let rt = runtime();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let k = keys();
    let gateway_keys = k.gateway_keys().clone();
    let result = rt.block_on(Gateway::start_on(
        Script::of(&quick_scenario()),
        gateway_keys,
        addr,
    ));
    let message = result
        .err()
        .expect("binding a taken port fails")
        .to_string();
    assert!(message.contains(&addr.to_string()), "{message}");
    assert!(message.contains("cannot listen"), "{message}");
}

#[test]
fn gateway_errors_read_as_before_and_keep_the_os_error_as_their_source() {
    use alipay_cancel_kit::gateway::GatewayError;
    use std::error::Error as _;
    let os = || std::io::Error::from(std::io::ErrorKind::AddrInUse);
    let cases = [
        (
            GatewayError::listen("127.0.0.1:9", os()),
            format!("gateway: cannot listen on 127.0.0.1:9: {}", os()),
        ),
        (
            GatewayError::ListenTls {
                addr: "127.0.0.1".into(),
                source: os(),
            },
            format!("gateway: cannot listen for TLS on 127.0.0.1: {}", os()),
        ),
        (GatewayError::Socket(os()), format!("gateway: {}", os())),
        (
            GatewayError::Bind {
                addr: "127.0.0.1:9".parse().unwrap(),
                source: os(),
            },
            format!("cannot listen on 127.0.0.1:9: {}", os()),
        ),
    ];
    for (error, text) in cases {
        assert_eq!(error.to_string(), text);
        assert_eq!(error.source().unwrap().to_string(), os().to_string());
    }
}

#[test]
fn unusable_certificate_files_are_named_in_pki_errors() {
    use alipay_cancel_kit::gateway::tls::{server_config_from_pem_files, PkiError};
    use std::error::Error as _;
    let dir = crate::common::scratch_dir("harness", "pki");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, "no certificate here\n").unwrap();
    std::fs::write(&key, "no key here\n").unwrap();
    let err = server_config_from_pem_files(&cert, &key).unwrap_err();
    assert!(matches!(err, PkiError::NoCertificate(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("test PKI: {}: holds no certificate", cert.display())
    );
    assert!(err.source().is_none());
    let missing = dir.join("missing.pem");
    let err = server_config_from_pem_files(&missing, &key).unwrap_err();
    assert!(matches!(err, PkiError::CertificateFile { .. }), "{err:?}");
    assert!(err.to_string().starts_with(&format!(
        "test PKI: {}: no PEM certificate chain: ",
        missing.display()
    )));
    assert!(err.source().is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_reference_client_words_a_dead_gateway_as_before() {
    use alipay_cancel_kit::protocol::OutcomeKind;
    use alipay_cancel_kit::reference_client::{self, TransportError};
    use std::error::Error as _;
    let addr = crate::common::closed_port();
    let mut scenario = quick_scenario();
    scenario.timeout_ms = 2000;
    let k = keys();
    let instruction = alipay_cancel_kit::protocol::Instruction {
        protocol: alipay_cancel_kit::protocol::PROTOCOL.to_owned(),
        scenario: scenario.id.clone(),
        gateway: alipay_cancel_kit::protocol::GatewayInfo {
            url: format!("http://{addr}"),
            client_id: scenario.client_id.clone(),
            merchant_private_key: k.merchant.to_base64_pkcs8(),
            alipay_public_key: k.vendor.verifying_key().to_base64_spki(),
            key_version: "1".to_owned(),
            ca_certificate_pem: None,
        },
        request: scenario.request.clone(),
        timeout_ms: scenario.timeout_ms,
    };
    let outcome = runtime()
        .block_on(reference_client::cancel(&instruction, &Default::default()))
        .unwrap();
    assert_eq!(outcome.outcome, OutcomeKind::Unknown);
    let error = outcome.error.unwrap_or_default();
    assert!(
        error.starts_with(&format!("connect to {addr}: ")),
        "{error}"
    );
    let timeout = TransportError::Timeout(Duration::from_millis(1500));
    assert_eq!(timeout.to_string(), "no answer within 1500 ms");
    assert!(timeout.source().is_none());
}

#[test]
fn the_catalogue_is_valid_data_and_covers_the_minimum_catalogue() {
    for (file, text) in alipay_cancel_kit::scenario::EMBEDDED {
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let violations = Schema::Scenario.violations(&value);
        assert!(violations.is_empty(), "{file}: {violations:?}");
    }
    let minimum = [
        "retry/u-then-success",
        "retry/timeout-then-success",
        "request/payment-id-only",
        "request/payment-request-id-only",
        "request/both-ids",
        "request/merchant-account-id",
        "request/max-length-ids",
        "request/missing-ids",
        "request/id-too-long",
        "request/empty-id",
        "request/sandbox-client",
        "response/cancel-time-utc",
        "response/cancel-time-negative-offset",
        "response/cancel-time-fraction",
        "response/cancel-time-odd-offset",
        "response/unknown-fields",
        "response/unknown-code-f",
        "response/unknown-code-u",
        "response/long-unicode-message",
        "response/member-order",
        "fault/http-500",
        "fault/http-502-empty",
        "fault/http-429",
        "fault/timeout",
        "fault/connection-closed",
        "fault/not-json",
        "fault/truncated-json",
        "fault/empty-body",
        "fault/missing-result",
        "fault/bad-result-status",
        "signature/missing-on-success",
        "signature/empty-on-success",
        "signature/tampered-success",
        "signature/wrong-key-success",
        "signature/missing-response-time",
        "signature/raw-base64-tampered",
        "signature/unsigned-failure",
        "signature/tampered-failure",
        "signature/foreign-client-id",
        "signature/unsigned-unknown",
        "tls/trusted-certificate",
        "tls/untrusted-certificate",
        "tls/wrong-hostname",
    ];
    for id in minimum {
        assert!(catalogue().get(id).is_some(), "{id} is missing");
    }
}

#[test]
fn the_result_scenarios_are_the_result_code_table() {
    let table = alipay_cancel_kit::spec::result_code_table();
    let results: Vec<&Scenario> = catalogue().select(&["result".into()], &[]);
    assert_eq!(results.len(), table.len());
    assert_eq!(table.len(), 17);
    for (row, scenario) in table.iter().zip(results) {
        assert_eq!(scenario.id, format!("result/{}", row.result_code));
        let body = scenario.answers[0].body.as_ref().unwrap();
        assert_eq!(body["result"]["resultCode"], row.result_code.to_string());
        assert_eq!(
            body["result"]["resultStatus"],
            row.result_status.to_string()
        );
    }
}

#[test]
fn a_broken_catalogue_file_names_the_file_and_the_rule() {
    let bad = r#"{"group":"fault","scenarios":[{"id":"fault/x","title":"t","rule":"r","request":{},"answers":[{"accept":[]}]}]}"#;
    let err =
        Catalogue::from_sources([("conformance/scenarios/bad.json".to_owned(), bad.to_owned())])
            .unwrap_err();
    insta::assert_snapshot!(err, @"conformance/scenarios/bad.json: scenario `fault/x`: answers[0].accept must not be empty");
    let err = Catalogue::from_sources([("x.json".to_owned(), "{".to_owned())]).unwrap_err();
    assert!(
        err.to_string().starts_with("x.json: EOF while parsing"),
        "{err}"
    );
}
