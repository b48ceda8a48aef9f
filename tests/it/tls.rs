//! The TLS gateway: the reference client passes the `tls/` scenarios over real HTTPS, and a
//! client that skips certificate verification is caught (contract, outcome rules, TLS row).

use alipay_cancel_kit::reference_client::Defect;
use alipay_cancel_kit::report::RunReport;
use alipay_cancel_kit::run::RunConfig;
use alipay_cancel_kit::verdict::Verdict;

use crate::common::{catalogue, config, in_process, run_scenarios};

/// Runs the scenarios matching `patterns` with the fixed TEST-ONLY RSA keys (the test PKI is
/// cheap, ECDSA P-256, and made per run), over TLS for every scenario when `tls_everywhere`.
fn run_with(defects: &[Defect], patterns: &[&str], tls_everywhere: bool) -> RunReport {
    let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
    let selected = catalogue().select(&patterns, &[]);
    assert!(!selected.is_empty(), "no scenario matches {patterns:?}");
    let config = RunConfig {
        jobs: 3,
        tls: tls_everywhere,
        ..config(in_process(defects))
    };
    run_scenarios(&selected, &config)
}

fn verdict(report: &RunReport, id: &str) -> (Verdict, usize) {
    let s = crate::common::result_of(report, id);
    (s.verdict, s.requests)
}

#[test]
fn reference_client_passes_the_tls_scenarios() {
    // Arrange: the correct client, which trusts exactly `caCertificatePem` and checks the name.
    // Act
    let report = run_with(&[], &["tls"], false);
    // Assert
    assert_eq!(report.capabilities, vec!["tls".to_owned()]);
    assert_eq!(
        verdict(&report, "tls/trusted-certificate"),
        (Verdict::Pass, 1)
    );
    assert_eq!(
        verdict(&report, "tls/untrusted-certificate"),
        (Verdict::Pass, 0)
    );
    assert_eq!(verdict(&report, "tls/wrong-hostname"), (Verdict::Pass, 0));
}

#[test]
fn a_client_that_skips_certificate_checks_fails() {
    // Arrange: a client that trusts any certificate for any name.
    // Act
    let report = run_with(&[Defect::NoCertificateCheck], &["tls"], false);
    // Assert: its requests reach the gateway over the untrusted connections.
    assert_eq!(
        verdict(&report, "tls/trusted-certificate"),
        (Verdict::Pass, 1)
    );
    for id in ["tls/untrusted-certificate", "tls/wrong-hostname"] {
        let (v, requests) = verdict(&report, id);
        assert_eq!(v, Verdict::Fail, "{id}");
        assert!(requests >= 1, "{id}: the request went through");
        let result = crate::common::result_of(&report, id);
        assert!(
            result
                .failed_checks()
                .any(|c| c.id == "requests.tls-refused"),
            "{id}: the failed checks name the TLS rule"
        );
    }
}

#[test]
fn tls_everywhere_serves_plain_scenarios_over_https() {
    // Arrange: `--tls`, as the Python SDK adapters need (they can only speak HTTPS).
    // Act: scenarios served by wiremock and by the raw responder alike.
    let report = run_with(
        &[],
        &[
            "result/SUCCESS",
            "fault/connection-closed",
            "fault/truncated-json",
            "retry/u-then-success",
        ],
        true,
    );
    // Assert
    for s in &report.scenarios {
        assert_eq!(
            s.verdict,
            Verdict::Pass,
            "{} over HTTPS: {:?}",
            s.id,
            s.checks
        );
    }
    assert_eq!(verdict(&report, "result/SUCCESS").1, 1);
}
