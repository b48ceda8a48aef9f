//! The HTML report (`--html FILE`) and the transcripts behind it: self-contained, everything
//! from the client escaped, the checks and the exchange of a failing scenario on the page.
//! A failing run's page is also opened in headless Chromium when `chromium` is on `PATH`
//! (`ALIPAY_KIT_REQUIRE_BROWSER=1` makes that part required, as CI does).

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use alipay_cancel_kit::contract::RecordedRequest;
use alipay_cancel_kit::gateway::{Exchange, HttpAnswer, Served};
use alipay_cancel_kit::report::{html, RunReport};
use alipay_cancel_kit::schema::Schema;
use alipay_cancel_kit::transcript;
use alipay_cancel_kit::verdict::{Check, Level, ScenarioResult, Verdict};
use base64::Engine as _;

use crate::common::{scratch_dir, BIN};

const HOSTILE: &str =
    "</pre></td><script>document.title='pwned'</script><img src=x onerror=alert(1)>";

/// The tags the page is allowed to hold: the renderer's own.
const TAGS: &[&str] = &[
    "!doctype", "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "br",
    "table", "thead", "tbody", "tr", "th", "td", "code", "pre", "div", "span", "b", "a", "details",
    "summary", "label", "select", "option", "input", "ul", "li", "script", "dl", "dt", "dd",
];

/// Every tag name opened or closed in the page.
fn tags(page: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let bytes = page.as_bytes();
    for (i, _) in page.match_indices('<') {
        let rest = &page[i + 1..];
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect();
        assert!(
            !name.is_empty() || bytes.get(i + 1).is_none(),
            "a bare `<` at {i}: {}",
            &page[i..(i + 40).min(page.len())]
        );
        found.insert(name.to_lowercase());
    }
    found
}

/// An exchange of a cancel request with these headers and body, answered with `sent` in
/// place of `result/ORDER_NOT_EXIST`'s first answer.
fn exchange(headers: Vec<(String, String)>, body: Vec<u8>, sent: HttpAnswer) -> Exchange {
    let request = RecordedRequest {
        method: "POST".into(),
        path: "/ams/api/v1/payments/cancel".into(),
        query: None,
        headers,
        body,
        received_at: chrono::Utc::now(),
    };
    let scenario = crate::common::catalogue()
        .get("result/ORDER_NOT_EXIST")
        .unwrap();
    Exchange {
        request,
        checks: Vec::new(),
        served: Served::scripted(0, scenario.answers[0].clone()),
        sent,
    }
}

fn hostile_result() -> ScenarioResult {
    let exchange = exchange(
        vec![("x-note".into(), HOSTILE.into())],
        format!("{{\"paymentId\": \"{HOSTILE}\"}}").into_bytes(),
        HttpAnswer {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: HOSTILE.as_bytes().to_vec(),
            delay: Duration::ZERO,
            fault: None,
        },
    );
    ScenarioResult {
        id: format!("probe/{HOSTILE}"),
        title: HOSTILE.into(),
        rule: format!("docs/contract.md#robustness {HOSTILE}"),
        verdict: Verdict::Fail,
        reason: Some(HOSTILE.into()),
        checks: vec![Check::fail(
            "outcome.kind",
            Level::Must,
            "docs/contract.md#outcome-rules",
            HOSTILE,
            HOSTILE,
            HOSTILE,
        )],
        requests: 1,
        outcome: Some(serde_json::json!({ "outcome": "FAILED", "error": HOSTILE })),
        stderr: format!("{HOSTILE}\n\u{1b}[31mred"),
        duration_ms: 5.0,
        adapter_ms: 4.0,
        transcript: transcript::of(
            &[exchange],
            chrono::Utc::now() - chrono::Duration::milliseconds(3),
        ),
    }
}

#[test]
fn markup_from_the_client_is_inert_and_the_page_runs_only_its_own_script() {
    let mut report = RunReport::new(HOSTILE, HOSTILE, vec![hostile_result()]);
    report.capabilities = vec![HOSTILE.into()];
    let page = html::render(&report);

    // Only the renderer's own tags, one script, and the hostile text shown as text.
    let found = tags(&page);
    let unexpected: Vec<&String> = found
        .iter()
        .filter(|t| !TAGS.contains(&t.as_str()))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
    assert_eq!(page.matches("<script").count(), 1);
    assert!(!page.contains("<img"));
    assert!(page.contains("&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"));
    assert!(!page.contains('\u{1b}'), "control characters are escaped");

    // The Content-Security-Policy fetches nothing and runs only the page's script, by hash.
    let csp_start = page.find("Content-Security-Policy\" content=\"").unwrap();
    let csp = &page[csp_start..page[csp_start..].find("\">").unwrap() + csp_start];
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let script_start = page.find("<script>").unwrap() + "<script>".len();
    let script = &page[script_start..page.find("</script>").unwrap()];
    let digest = ring::digest::digest(&ring::digest::SHA256, script.as_bytes());
    let hash = base64::engine::general_purpose::STANDARD.encode(digest.as_ref());
    assert!(csp.contains(&format!("'sha256-{hash}'")), "{csp}");
}

#[test]
fn the_page_of_a_failing_run_shows_totals_checks_rules_and_the_transcript() {
    let dir = scratch_dir("html", "failing");
    let (page_file, json_file) = (dir.join("failing.html"), dir.join("failing.json"));
    let out = Command::new(BIN)
        .args([
            "run",
            "-q",
            "--client",
            &format!("'{BIN}' reference-adapter --defect unknown-as-failure"),
            "-s",
            "result",
            "-s",
            "fault/http-500",
            "--html",
            page_file.to_str().unwrap(),
            "--report-json",
            json_file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let page = std::fs::read_to_string(&page_file).unwrap();

    // One scenario a row of the result-code table, and fault/http-500: the defect fails the
    // two whose last answer is open (`U`, and HTTP 500), where it surfaces FAILED.
    let scenarios = alipay_cancel_kit::spec::result_code_table().len() + 1;
    assert!(page.contains(&format!(
        "{scenarios} scenarios: {} PASS, 0 NON_STRICT, 2 FAIL, 0 ERROR, 0 SKIPPED",
        scenarios - 2
    )));
    assert!(page.contains("exit code <b class=\"FAIL\">1</b>"));
    // The failing check: message, expected, seen, the rule as a link into the docs.
    assert!(page.contains(
        "the last answer was HTTP 200, UNKNOWN_EXCEPTION (U), signed: the client must surface UNKNOWN"
    ));
    assert!(page.contains("<code>FAILED (UNKNOWN_EXCEPTION)</code>"));
    // The rule: a jump to its text in the page, never a relative link into docs/.
    assert!(page.contains("<a href=\"#rule-"));
    assert!(!page.contains("href=\"docs/"));
    assert!(page.contains("The outcome is one of those accepted for the last answer."));
    // The transcript: the request line, a signed request header, the answer and its status.
    assert!(page.contains("<code>POST /ams/api/v1/payments/cancel</code>"));
    assert!(page.contains("signature: algorithm=RSA256,keyVersion=1,signature="));
    assert!(page.contains("HTTP 500"));
    assert!(page.contains("&quot;resultCode&quot;:&quot;UNKNOWN_EXCEPTION&quot;"));
    // Filters over every group and verdict, one row and one section per scenario.
    assert!(page.contains("<option value=\"result\">result</option>"));
    assert!(page.contains("<option value=\"FAIL\">FAIL</option>"));
    assert_eq!(page.matches("<tr data-id=").count(), scenarios);
    assert_eq!(
        page.matches("<details class=\"scenario\"").count(),
        scenarios
    );
    // Self-contained: nothing to fetch.
    for fetch in [" src=", "<link", "href=\"http", "@import", "url("] {
        assert!(!page.contains(fetch), "{fetch}");
    }

    // The JSON report carries the same transcripts, within the schema.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json_file).unwrap()).unwrap();
    assert!(Schema::Report.violations(&report).is_empty());
    let exchange = &report["scenarios"][0]["transcript"][0];
    assert_eq!(exchange["request"]["path"], "/ams/api/v1/payments/cancel");
    assert_eq!(exchange["answer"]["status"], 200);
    assert_eq!(exchange["answer"]["scriptIndex"], 0);
    assert!(exchange["answer"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h[0] == "signature"));
}

#[test]
fn a_transcript_is_bounded_in_exchanges_headers_and_body_size() {
    let big = vec![b'a'; transcript::MAX_TEXT * 3];
    let exchange = exchange(
        (0..200).map(|i| (format!("x-{i}"), "v".into())).collect(),
        big.clone(),
        HttpAnswer {
            status: 200,
            headers: Vec::new(),
            body: big,
            delay: Duration::from_millis(20),
            fault: None,
        },
    );
    let exchanges = vec![exchange; 20];
    let kept = transcript::of(&exchanges, chrono::Utc::now());
    assert_eq!(kept.len(), transcript::MAX_EXCHANGES);
    let first = &kept[0];
    assert_eq!(first.request.headers.len(), transcript::MAX_HEADERS);
    assert_eq!(first.request.body_bytes, transcript::MAX_TEXT * 3);
    assert!(first.request.body.len() < transcript::MAX_TEXT + 100);
    assert!(first.request.body.ends_with(&format!(
        "[cut: {} of {} bytes shown]",
        transcript::MAX_TEXT,
        transcript::MAX_TEXT * 3
    )));
    assert_eq!(first.answer.delay_ms, 20);

    let mut result = hostile_result();
    result.transcript = kept;
    result.requests = 20;
    let report = RunReport::new("c", "exec", vec![result]);
    let value = serde_json::to_value(&report).unwrap();
    assert!(Schema::Report.violations(&value).is_empty());
    let page = html::render(&report);
    assert!(page.contains("12 more request(s) not kept (the transcript keeps 8)"));
}

#[test]
fn the_report_card_page_shows_every_column_with_its_totals() {
    let dir = scratch_dir("html", "card");
    let (card, page) = (dir.join("card.md"), dir.join("card.html"));
    let out = Command::new(BIN)
        .args([
            "report-card",
            "--out",
            card.to_str().unwrap(),
            "--html",
            page.to_str().unwrap(),
            "--column",
            &format!("broken={BIN} reference-adapter --defect unknown-as-failure"),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&page).unwrap();
    assert!(page.contains("<h2 class=\"column\">reference client</h2>"));
    assert!(page.contains("<h2 class=\"column\">broken</h2>"));
    let n = alipay_cancel_kit::scenario::Catalogue::embedded()
        .unwrap()
        .scenarios()
        .len();
    assert!(page.contains(&format!("{n} scenarios: {n} PASS, 0 NON_STRICT, 0 FAIL")));
    // The defect takes U for F: the seven scenarios whose last answer is a signed U fail.
    assert!(page.contains(&format!(
        "{n} scenarios: {} PASS, 0 NON_STRICT, 7 FAIL",
        n - 7
    )));
    // One filter bar over both columns, and anchors unique per column.
    assert_eq!(page.matches("id=\"f-group\"").count(), 1);
    assert!(page.contains("id=\"c1s0\""));
}

/// A scenario of the test's own whose answer carries markup: the page must show it as text.
const PROBE_CATALOGUE: &str = r#"{"group": "probe", "scenarios": [{"id": "probe/markup-in-answer",
  "title": "an F answer whose message is markup <script>document.title='pwned'</script>",
  "rule": "docs/contract.md#robustness", "request": {"paymentId": "P-1"},
  "answers": [{"body": {"result": {"resultCode": "ORDER_NOT_EXIST", "resultStatus": "F",
    "resultMessage": "</pre><script>document.title='pwned'</script><img src=x onerror=alert(1)>"}},
    "accept": ["FAILED"]}]}]}"#;

/// Set to `1` where the browser half of the HTML check must run (CI): without Chromium on
/// `PATH` the test then fails instead of checking the static page alone.
const REQUIRE_BROWSER: &str = "ALIPAY_KIT_REQUIRE_BROWSER";

/// How long one Chromium call may take before it is killed.
const BROWSER_TIME_LIMIT: Duration = Duration::from_secs(60);

/// The page of a failing run (the result group and the probe, the reference adapter taking U
/// for F), read twice: as written, and as headless Chromium leaves it after the page's script
/// ran with `#verdict=FAIL` in the link. The totals and what the filter shows are the run's own
/// JSON report's; nothing is counted by hand.
#[test]
fn a_failing_runs_page_shows_markup_as_text_and_in_a_browser_filters_to_its_failures() {
    // Arrange: the run, its page, its JSON report and the screenshot, kept (until the next
    // run) under target/tmp for a look.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-failing-run");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let probe = dir.join("probe.json");
    std::fs::write(&probe, PROBE_CATALOGUE).unwrap();
    let (page_file, json_file) = (dir.join("failing.html"), dir.join("failing.json"));
    let out = Command::new(BIN)
        .args([
            "run",
            "-q",
            "--client",
            &format!("'{BIN}' reference-adapter --defect unknown-as-failure"),
            "-s",
            "result",
            "-s",
            "probe",
            "--catalogue",
            probe.to_str().unwrap(),
            "--html",
            page_file.to_str().unwrap(),
            "--report-json",
            json_file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the failing run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json_file).unwrap()).unwrap();
    let expected = ExpectedPage::of(&report);
    assert!(
        expected.failing > 0 && expected.failing < expected.total,
        "the run must have failures and passes for the filter to show anything: {}",
        expected.totals
    );
    let page = std::fs::read_to_string(&page_file).unwrap();

    // Assert, without a browser: the page as written.
    expected.assert_on(&page, "the page as written");
    assert!(!page.contains("<img"), "markup from an answer became a tag");

    // Assert, in a browser when there is one: the page after its script ran.
    let Some(chromium) = on_path("chromium") else {
        assert!(
            std::env::var(REQUIRE_BROWSER).as_deref() != Ok("1"),
            "{REQUIRE_BROWSER}=1 but `chromium` is not on PATH: install it \
             (Debian/Ubuntu: `apt-get install chromium`) or unset {REQUIRE_BROWSER} to check \
             the static page only"
        );
        eprintln!(
            "html: chromium is not on PATH; the page was checked as written, not in a browser"
        );
        return;
    };
    let url = format!("file://{}#verdict=FAIL", page_file.display());
    let profile = dir.join("chromium-profile");
    let headless = |extra: &[&str], stdout: std::fs::File| {
        let mut command = Command::new(&chromium);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(&url)
            .stdout(stdout)
            .stderr(std::process::Stdio::null());
        run_killed_after(command, BROWSER_TIME_LIMIT);
    };
    let dom_file = dir.join("dom.html");
    headless(&["--dump-dom"], std::fs::File::create(&dom_file).unwrap());
    let screenshot = dir.join("failing.png");
    headless(
        &[
            "--window-size=1280,1600",
            &format!("--screenshot={}", screenshot.display()),
        ],
        std::fs::File::create(dir.join("screenshot.log")).unwrap(),
    );
    let dom = std::fs::read_to_string(&dom_file).unwrap();
    let _ = std::fs::remove_dir_all(&profile);

    expected.assert_on(&dom, "the page in Chromium");
    // The script ran (it wrote the count) and only its filter changed the page: the title is
    // the renderer's, not the one the markup in the answer would have set.
    assert!(
        dom.contains(&format!(
            "showing {} of {} scenarios",
            expected.failing, expected.total
        )),
        "the filter `#verdict=FAIL` should show the {} failures of {}",
        expected.failing,
        expected.total
    );
    for (tag, verdict) in verdict_tags(&dom) {
        assert_eq!(
            tag.contains(" hidden"),
            verdict != "FAIL",
            "under `#verdict=FAIL` only failures are shown: {tag}"
        );
    }
    let screenshot = std::fs::read(&screenshot).unwrap_or_default();
    assert!(
        screenshot.starts_with(b"\x89PNG"),
        "no screenshot written ({} bytes)",
        screenshot.len()
    );
    eprintln!(
        "html: screenshot of the failing run's page: {}/failing.png",
        dir.display()
    );
}

/// What the page of a run must hold, derived from the run's JSON report.
struct ExpectedPage {
    total: u64,
    /// Scenarios whose verdict is FAIL: what `#verdict=FAIL` shows.
    failing: u64,
    totals: String,
    /// Each failed check of each failing scenario, as the page writes it: id and message.
    failed_checks: Vec<(String, String)>,
}

impl ExpectedPage {
    fn of(report: &serde_json::Value) -> Self {
        let summary = &report["summary"];
        let count = |key: &str| {
            summary[key]
                .as_u64()
                .unwrap_or_else(|| panic!("summary.{key} in the JSON report"))
        };
        let totals = format!(
            "{} scenarios: {} PASS, {} NON_STRICT, {} FAIL, {} ERROR, {} SKIPPED",
            count("total"),
            count("PASS"),
            count("NON_STRICT"),
            count("FAIL"),
            count("ERROR"),
            count("SKIPPED")
        );
        let scenarios = report["scenarios"].as_array().unwrap();
        let failing = scenarios.iter().filter(|s| s["verdict"] == "FAIL");
        let failed_checks = failing
            .clone()
            .flat_map(|s| s["checks"].as_array().unwrap())
            .filter(|c| c["held"] == false)
            .map(|c| {
                (
                    html::escape(c["id"].as_str().unwrap()),
                    html::escape(c["message"].as_str().unwrap()),
                )
            })
            .collect();
        ExpectedPage {
            total: count("total"),
            failing: failing.count() as u64,
            totals,
            failed_checks,
        }
    }

    /// The assertions the page must pass both as written and after its script ran.
    fn assert_on(&self, page: &str, what: &str) {
        let mut wanted = vec![
            self.totals.clone(),
            "<title>alipay-cancel-kit".to_owned(),
            // The request line of a transcript; the probe's markup, escaped into text.
            "POST /ams/api/v1/payments/cancel".to_owned(),
            "&lt;script&gt;document.title=".to_owned(),
            "first failure: ".to_owned(),
            "Rules cited".to_owned(),
            "transport".to_owned(),
        ];
        assert!(
            !self.failed_checks.is_empty(),
            "a failure without a failed check"
        );
        for (id, message) in &self.failed_checks {
            wanted.push(id.clone());
            wanted.push(message.clone());
        }
        for want in wanted {
            assert!(page.contains(&want), "not on {what}: {want}");
        }
        assert!(
            !page.contains("href=\"docs/"),
            "{what}: a relative link to docs/ (dead once the page is a CI artifact)"
        );
        assert_eq!(
            page.matches("<script").count(),
            1,
            "{what}: markup from an answer became a script"
        );
    }
}

/// Each opening tag that carries a `data-verdict`, with that verdict.
fn verdict_tags(page: &str) -> Vec<(&str, &str)> {
    let tags: Vec<(&str, &str)> = page
        .match_indices("data-verdict=\"")
        .map(|(at, found)| {
            let start = page[..at].rfind('<').unwrap();
            let end = at + page[at..].find('>').unwrap();
            let value = &page[at + found.len()..];
            (&page[start..=end], &value[..value.find('"').unwrap()])
        })
        .collect();
    assert!(!tags.is_empty(), "no rows or sections with a verdict");
    tags
}

/// The first `program` on `PATH`, as a shell would find it.
fn on_path(program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Runs `command` in a process group of its own and waits for it, killing the whole group
/// (Chromium starts helpers) when the limit passes or when the test fails meanwhile.
fn run_killed_after(mut command: Command, limit: Duration) {
    use std::os::unix::process::CommandExt as _;

    /// Kills the group when dropped: on the way out of a panic as much as after a timeout.
    struct Group(std::process::Child);
    impl Drop for Group {
        fn drop(&mut self) {
            // `kill -- -PGID` signals the whole group (the crate forbids `unsafe`, so no
            // libc::kill); the child leads the group, so it is ours.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.0.id())])
                .stderr(std::process::Stdio::null())
                .status();
            let _ = self.0.wait();
        }
    }

    let mut child = Group(command.process_group(0).spawn().unwrap());
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            assert!(status.success(), "{command:?} exited with {status}");
            return;
        }
        assert!(
            start.elapsed() < limit,
            "{command:?} still running after {limit:?}: killed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
