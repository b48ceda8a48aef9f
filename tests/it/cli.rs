//! The command line as CI uses it: exit codes, report files, the baseline.

use super::common::{kit, scratch_file, text, BIN};

use alipay_cancel_kit::schema::Schema;

fn broken_adapter() -> String {
    format!("'{BIN}' reference-adapter --defect no-response-verification")
}

#[test]
fn a_passing_run_exits_0_and_writes_reports_that_match_their_schemas() {
    let json = scratch_file("cli", "pass.json");
    let junit = scratch_file("cli", "pass.xml");
    let out = kit(&[
        "run",
        "-s",
        "result",
        "-s",
        "fault/truncated-json",
        "--report-json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("PASS        result/ORDER_NOT_EXIST"),
        "{stdout}"
    );
    assert!(
        stdout.contains("18 scenarios: 18 PASS, 0 NON_STRICT, 0 FAIL, 0 ERROR, 0 SKIPPED"),
        "{stdout}"
    );

    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let violations = Schema::Report.violations(&report);
    assert!(violations.is_empty(), "{violations:?}");
    assert_eq!(report["summary"]["PASS"], 18);
    assert_eq!(report["scenarios"][0]["id"], "result/SUCCESS");

    let xml = std::fs::read_to_string(&junit).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut cases = 0;
    loop {
        match reader.read_event().expect("well-formed JUnit XML") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)
                if e.name().as_ref() == b"testcase" =>
            {
                cases += 1
            }
            quick_xml::events::Event::Start(e) if e.name().as_ref() == b"failure" => {
                panic!("no failure expected: {e:?}")
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(cases, 18);
}

#[test]
fn a_failing_client_exits_1_and_junit_lists_the_failures() {
    let junit = scratch_file("cli", "fail.xml");
    let out = kit(&[
        "run",
        "--client",
        &broken_adapter(),
        "-s",
        "signature/tampered-success",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("FAIL"), "{stdout}");
    assert!(stdout.contains("outcome.kind"), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<failure"), "{xml}");
}

#[test]
fn the_baseline_absorbs_listed_failures_and_fails_on_stale_entries() {
    let baseline = scratch_file("cli", "baseline.json");
    std::fs::write(
        &baseline,
        r#"{"description": "test", "expectedFailures": [
            {"id": "signature/tampered-success", "reason": "believes responses without verifying them"}]}"#,
    )
    .unwrap();
    let listed = kit(&[
        "run",
        "--client",
        &broken_adapter(),
        "-s",
        "signature/tampered-success",
        "--baseline",
        baseline.to_str().unwrap(),
    ]);
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed.stdout));
    // The correct client passes it now: the entry is stale, and a stale entry fails the run.
    let stale = kit(&[
        "run",
        "-s",
        "signature/tampered-success",
        "--baseline",
        baseline.to_str().unwrap(),
    ]);
    assert_eq!(stale.status.code(), Some(1), "{}", text(&stale.stdout));
}

#[test]
fn usage_errors_and_unreadable_input_exit_2_with_a_clear_message() {
    let missing = kit(&["run", "--baseline", "/nonexistent/baseline.json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("/nonexistent/baseline.json"),
        "{}",
        text(&missing.stderr)
    );

    let unknown = scratch_file("cli", "unknown.json");
    std::fs::write(
        &unknown,
        r#"{"description": "x", "expectedFailures": [{"id": "fault/no-such", "reason": "r"}]}"#,
    )
    .unwrap();
    let out = kit(&["run", "--baseline", unknown.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("fault/no-such"),
        "{}",
        text(&out.stderr)
    );

    let no_adapter = kit(&["run", "--client", "/nonexistent/adapter-xyz"]);
    assert_eq!(no_adapter.status.code(), Some(2));
    assert!(
        text(&no_adapter.stderr).contains("cannot be started"),
        "{}",
        text(&no_adapter.stderr)
    );

    let no_match = kit(&["run", "-s", "no-such-group"]);
    assert_eq!(no_match.status.code(), Some(2));
    assert!(text(&no_match.stderr).contains("no scenario matches"));

    let bad_flag = kit(&["run", "--jobs", "many"]);
    assert_eq!(bad_flag.status.code(), Some(2));
}

#[test]
fn scenarios_lists_the_catalogue() {
    let out = kit(&["scenarios", "-s", "fault"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("fault/connection-closed"));
    assert!(stdout.trim_end().ends_with("11 scenarios"), "{stdout}");
}

#[test]
fn the_reference_adapter_declares_its_capabilities() {
    let out = kit(&["reference-adapter", "--capabilities"]);
    assert_eq!(out.status.code(), Some(0));
    let caps: Vec<String> = serde_json::from_slice(&out.stdout).expect("a JSON array of strings");
    assert!(caps.iter().all(|c| c == "tls"), "{caps:?}");
}

#[test]
fn fuzz_takes_the_built_in_clients_styles_and_passes_with_them() {
    // Seed 7's first 200 cases serve cancelTimes of more than three fraction digits.
    let out = kit(&[
        "fuzz", "--style", "millis", "--style", "nulls", "--cases", "200", "--seed", "7",
        "--color", "never",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("built-in reference client in styles: nulls, millis"),
        "{stdout}"
    );
    let non_strict: u32 = stdout
        .split_once(" NON_STRICT)")
        .and_then(|(before, _)| before.rsplit_once('(')?.1.parse().ok())
        .unwrap_or_else(|| panic!("no NON_STRICT count: {stdout}"));
    assert!(non_strict > 0, "{stdout}");
    // A style is the built-in client's: an adapter has its own.
    let out = kit(&["fuzz", "--style", "nulls", "--client", "true"]);
    assert_eq!(out.status.code(), Some(2));
}

/// `run` and `fuzz` share their common options (one flattened struct); each command still
/// lists every option in its own order, with its own wording.
#[test]
fn run_and_fuzz_list_their_shared_options_in_their_own_order_and_words() {
    let order = |help: &str, flags: &[&str]| {
        let at: Vec<usize> = flags
            .iter()
            .map(|f| {
                // The option's own line: `--catalogue` must not match `--catalogue-only`.
                help.lines()
                    .position(|l| {
                        let l = l.trim_start();
                        // After a short form (`-j, --jobs`), if any.
                        let l = match l.split_once(", ") {
                            Some((short, long)) if short.len() == 2 => long,
                            _ => l,
                        };
                        l == *f || l.starts_with(&format!("{f} "))
                    })
                    .unwrap_or_else(|| panic!("{f} missing:\n{help}"))
            })
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{flags:?}:\n{help}");
    };
    let run = text(&kit(&["run", "--help"]).stdout);
    order(
        &run,
        &[
            "--client",
            "--persistent",
            "--id",
            "--jobs",
            "--scenario",
            "--exclude",
            "--catalogue",
            "--catalogue-only",
            "--shard",
            "--report-json",
            "--junit",
            "--markdown",
            "--html",
            "--baseline",
            "--write-baseline",
            "--tls",
            "--time-limit-margin-ms",
            "--color",
            "--quiet",
        ],
    );
    assert!(run.contains("Scenarios run at once. Default: the number of cores"));
    let fuzz = text(&kit(&["fuzz", "--help"]).stdout);
    order(
        &fuzz,
        &[
            "--client",
            "--persistent",
            "--cases",
            "--seed",
            "--jobs",
            "--max-shrink-iters",
            "--timeout-ms",
            "--defect",
            "--style",
            "--id",
            "--tls",
            "--report-json",
            "--junit",
            "--html",
            "--save-case",
            "--time-limit-margin-ms",
            "--color",
        ],
    );
    assert!(fuzz.contains("Cases run at once. Default: 16 in process, 12 per core for an adapter"));
    assert!(fuzz.contains("Serve every case over HTTPS, as `run --tls` does"));
    assert!(!fuzz.contains("--quiet") && !fuzz.contains("--markdown"));
    let clash = kit(&["fuzz", "--id", "payment-id", "--style", "nulls"]);
    assert_eq!(
        clash.status.code(),
        Some(2),
        "--id still conflicts with --style"
    );
}

/// `serve` and `proxy` take the report-file options every reporting command takes (one
/// flattened struct): a session's HTML page is written when it stops, as `run`'s is.
#[test]
fn serve_writes_every_report_form_when_it_stops() {
    let dir = std::env::temp_dir().join(format!("kit-serve-forms-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let out = kit(&[
        "serve",
        "--port",
        "0",
        "--html",
        &path("s.html"),
        "--markdown",
        &path("s.md"),
        "--report-json",
        &path("s.json"),
        "--exec",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(path("s.html")).unwrap();
    assert!(
        html.contains("<title>alipay-cancel-kit") && html.contains("requests received by serve")
    );
    let markdown = std::fs::read_to_string(path("s.md")).unwrap();
    assert!(
        markdown.contains("requests received by serve"),
        "{markdown}"
    );
    assert!(std::fs::metadata(path("s.json")).unwrap().len() > 0);
    let _ = std::fs::remove_dir_all(&dir);
}
