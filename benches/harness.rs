//! `cargo bench --bench harness`: the speed of a conformance run.
//!
//! Measures, against the built-in reference client:
//! - the whole catalogue's wall time in process, through `reference-adapter` in persistent
//!   mode and in exec mode (target: under 5 s);
//! - the harness's own cost per scenario (gateway start, request and outcome checks, verdict:
//!   a scenario's wall time less the adapter's time), and the cost of rendering the terminal,
//!   JSON (transcripts included), JUnit and HTML reports per scenario (target: under 2 ms
//!   together).
//!
//! Exec and persistent mode need the release binary: run `cargo build --release` first.

use std::time::{Duration, Instant};

use alipay_cancel_kit::report::{html, json, junit, terminal, RunReport};
use alipay_cancel_kit::run::{self, Client, RunConfig, RunKeys};
use alipay_cancel_kit::scenario::Catalogue;

const ROUNDS: usize = 5;

fn main() {
    let catalogue = Catalogue::embedded().expect("catalogue");
    let scenarios: Vec<_> = catalogue.select(&[], &[]);
    let keys = RunKeys::fixed();
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let binary = std::env::current_dir()
        .expect("cwd")
        .join("target/release/alipay-cancel-kit");
    let mut clients = vec![("in process", Client::InProcess(Default::default()))];
    if binary.exists() {
        let command = format!("'{}' reference-adapter", binary.display());
        clients.push((
            "persistent",
            Client::Adapter {
                command: command.clone(),
                persistent: true,
            },
        ));
        clients.push((
            "exec",
            Client::Adapter {
                command,
                persistent: false,
            },
        ));
    } else {
        eprintln!(
            "note: {} not found; exec and persistent mode skipped (cargo build --release)",
            binary.display()
        );
    }
    println!(
        "{} scenarios, {jobs} jobs, {ROUNDS} rounds each (median)",
        scenarios.len()
    );
    for (name, client) in clients {
        let config = RunConfig {
            client,
            jobs,
            time_limit_margin: Duration::from_secs(5),
            keys: keys.clone(),
            tls: false,
        };
        let mut walls = Vec::new();
        let mut overheads = Vec::new();
        let mut renders = Vec::new();
        let mut last: Option<RunReport> = None;
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let report = runtime
                .block_on(run::run(&scenarios, &config))
                .expect("run");
            walls.push(started.elapsed().as_secs_f64() * 1000.0);
            let judged: Vec<_> = report
                .scenarios
                .iter()
                .filter(|s| s.duration_ms > 0.0)
                .collect();
            let overhead: f64 = judged
                .iter()
                .map(|s| s.duration_ms - s.adapter_ms)
                .sum::<f64>()
                / judged.len() as f64;
            overheads.push(overhead);
            let started = Instant::now();
            let text = terminal::render(&report, false);
            let json = json::to_string(&report);
            let xml = junit::render(&report);
            let page = html::render(&report);
            std::hint::black_box((text, json, xml, page));
            renders.push(started.elapsed().as_secs_f64() * 1000.0 / report.scenarios.len() as f64);
            last = Some(report);
        }
        let report = last.expect("a round ran");
        println!(
            "{name:>10}: catalogue wall {:7.1} ms | harness per scenario {:.3} ms + reports {:.3} ms | {} PASS, {} FAIL, {} ERROR, {} SKIPPED",
            median(&mut walls),
            median(&mut overheads),
            median(&mut renders),
            report.summary.pass,
            report.summary.fail,
            report.summary.error,
            report.summary.skipped,
        );
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
