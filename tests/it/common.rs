//! What many test modules need: the kit's binary, fixed keys, the catalogue, a run, a runtime,
//! scratch directories, a closed port, raw bytes over a connection. One place, so that a test
//! module holds only what its own tests mean.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use alipay_cancel_kit::reference_client::{Defect, Defects};
use alipay_cancel_kit::report::RunReport;
use alipay_cancel_kit::run::{self, Client, RunConfig, RunKeys};
use alipay_cancel_kit::scenario::{Catalogue, Scenario};
use alipay_cancel_kit::verdict::ScenarioResult;

/// The kit's binary, as cargo built it for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_alipay-cancel-kit");

/// Runs the kit's binary with `args` to its end.
pub fn kit(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A path as the `&str` a command line takes.
pub fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A fresh directory of one test's own, `group` naming the module.
pub fn scratch_dir(group: &str, test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ack-{group}-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fresh directory of its own on each call, for helpers that several tests call at once.
pub fn fresh_dir(group: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    scratch_dir(group, &NEXT.fetch_add(1, Ordering::Relaxed).to_string())
}

/// A file named `name` in a fresh directory of its own, `group` naming the module.
pub fn scratch_file(group: &str, name: &str) -> PathBuf {
    scratch_dir(group, name).join(name)
}

/// The fixed TEST-ONLY keys: generating 2048-bit keys per test would dominate the run time.
pub fn keys() -> RunKeys {
    static KEYS: OnceLock<RunKeys> = OnceLock::new();
    KEYS.get_or_init(RunKeys::fixed).clone()
}

/// The shipped catalogue, loaded once.
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| Catalogue::embedded().expect("the shipped catalogue loads"))
}

/// A run of `client` with the fixed keys, 4 jobs, plain HTTP.
pub fn config(client: Client) -> RunConfig {
    RunConfig {
        client,
        jobs: 4,
        time_limit_margin: Duration::from_secs(5),
        keys: keys(),
        tls: false,
    }
}

/// The built-in reference client, in process, with `defects`.
pub fn in_process(defects: &[Defect]) -> Client {
    Client::InProcess(defects.iter().copied().collect::<Defects>().into())
}

/// Runs the scenarios matching `patterns` against `client`.
pub fn run_with(client: Client, patterns: &[&str]) -> RunReport {
    let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
    let selected = catalogue().select(&patterns, &[]);
    assert!(!selected.is_empty(), "no scenario matches {patterns:?}");
    run_scenarios(&selected, &config(client))
}

/// Runs `scenarios` as `config` says, on a runtime of its own.
pub fn run_scenarios(scenarios: &[&Scenario], config: &RunConfig) -> RunReport {
    runtime()
        .block_on(run::run(scenarios, config))
        .expect("the run starts")
}

/// The result of scenario `id` in `report`.
pub fn result_of<'a>(report: &'a RunReport, id: &str) -> &'a ScenarioResult {
    report
        .scenarios
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("{id} was not run"))
}

/// What a result shows when an assertion on it fails: its verdict, id, reason and failed
/// checks with what was expected and seen.
pub fn explain(s: &ScenarioResult) -> String {
    let checks: Vec<String> = s
        .failed_checks()
        .map(|c| {
            format!(
                "{}: {} (expected {:?}, seen {:?})",
                c.id, c.message, c.expected, c.seen
            )
        })
        .collect();
    format!(
        "{} {} {:?} {}",
        s.verdict,
        s.id,
        s.reason,
        checks.join(" | ")
    )
}

/// A runtime of two workers, for tests that start servers in process.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A loopback address nothing listens on: bound to find a free port, then let go.
pub fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// Raw bytes to `addr` (`host:port`, or a URL `http://host:port`) on a fresh connection; the
/// answer as it came, read until the other side ends the connection or `timeout` passes
/// without a byte.
pub fn raw_exchange(addr: &str, request: &[u8], timeout: Duration) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(timeout)).unwrap();
    stream.write_all(request).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    answer
}
