//! One harness session: what `run`, `fuzz` and `report-card` share, set up once.
//!
//! A [`Harness`] owns the run's configuration, the client's capabilities (the
//! `--capabilities` probe, and from it the id capabilities), the pool of persistent adapter
//! processes and the stop signal. It runs one scenario ([`Harness::run_scenario`]) or a
//! selection of them `jobs` at a time ([`Harness::run`]), collects results into a report
//! ([`Harness::report`]) and shuts down ([`Harness::shutdown`]): persistent adapters closed
//! politely, or killed at once when the session was interrupted (`docs/contract.md`,
//! "Interrupted runs").
//!
//! Beneath it: [`config`]'s client, keys and configuration (what a session is given) and
//! [`one_scenario`] (one scenario played on a fresh gateway). The harness depends on the
//! gateway, the contract, the verdict and the report, never on `run` or `fuzz`, which stand on it.
//!
//! Handles are cheap to clone (the session is shared, not copied: it holds RSA keys), so a
//! task per scenario can own one. `serve` and `proxy` do not use it yet; their standing
//! sessions already share [`crate::exit::Exit`], and can take a `Harness` for their keys,
//! stop signal and report next.
//!
//! # Example
//! ```
//! use alipay_cancel_kit::harness::Harness;
//! use alipay_cancel_kit::harness::{Client, RunConfig, RunKeys, Stop};
//! use alipay_cancel_kit::scenario::Catalogue;
//! use alipay_cancel_kit::verdict::Verdict;
//! use std::time::Duration;
//!
//! let catalogue = Catalogue::embedded().unwrap();
//! let config = RunConfig {
//!     client: Client::InProcess(Default::default()),
//!     jobs: 2,
//!     time_limit_margin: Duration::from_secs(5),
//!     keys: RunKeys::fixed(),
//!     tls: false,
//! };
//! let runtime = tokio::runtime::Runtime::new().unwrap();
//! let report = runtime.block_on(async {
//!     let harness = Harness::start(config, Stop::new()).await?;
//!     let scenario = catalogue.get("result/ORDER_NOT_EXIST").unwrap();
//!     let report = harness.run(&[scenario], |_| {}).await;
//!     harness.shutdown().await;
//!     Ok::<_, alipay_cancel_kit::harness::RunError>(report)
//! })?;
//! assert_eq!(report.scenarios[0].verdict, Verdict::Pass);
//! # Ok::<(), alipay_cancel_kit::harness::RunError>(())
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, Semaphore};

use crate::adapter::{AdapterRun, Capabilities, Persistent};
use crate::capability::{IdKind, Ids};
use crate::exit::Signal;
use crate::reference_client::Behaviour;
use crate::report::terminal::Color;
use crate::report::{Interrupted, ReportFiles, RunReport};
use crate::scenario::Scenario;
use crate::verdict::ScenarioResult;

pub mod config;
pub mod one_scenario;

pub use config::{time_limit, Client, RunConfig, RunError, RunKeys};
pub use one_scenario::{not_run, not_run_reason, run_scenario};

/// One harness session: configuration, capabilities, adapter pool and stop signal.
///
/// Cloning gives another handle on the same session.
#[derive(Clone)]
pub struct Harness(Arc<Session>);

struct Session {
    config: RunConfig,
    capabilities: Capabilities,
    pool: Option<Pool>,
    stop: Stop,
    started: Instant,
}

impl Harness {
    /// Starts a session: probes the client's capabilities; persistent adapter processes
    /// start on first use, one per job.
    ///
    /// # Errors
    /// [`RunError::Adapter`] when the adapter command cannot be started at all.
    pub async fn start(config: RunConfig, stop: Stop) -> Result<Harness, RunError> {
        // The probe counts in the run's time, as it did before there was a session.
        let started = Instant::now();
        let capabilities = config.client.capabilities().await?;
        Ok(Harness::assemble(config, capabilities, stop, started))
    }

    /// A session for a client whose capabilities are already known (no probe).
    pub fn with_capabilities(config: RunConfig, capabilities: Capabilities, stop: Stop) -> Harness {
        Harness::assemble(config, capabilities, stop, Instant::now())
    }

    fn assemble(
        config: RunConfig,
        capabilities: Capabilities,
        stop: Stop,
        started: Instant,
    ) -> Harness {
        let pool = config.client.pool_command().map(Pool::new);
        Harness(Arc::new(Session {
            config,
            capabilities,
            pool,
            stop,
            started,
        }))
    }

    /// The run's configuration.
    pub fn config(&self) -> &RunConfig {
        &self.0.config
    }

    /// What the client declared (or, for the built-in client, can do).
    pub fn capabilities(&self) -> &Capabilities {
        &self.0.capabilities
    }

    /// The ids the client can send.
    pub fn ids(&self) -> Ids {
        self.0.capabilities.ids()
    }

    /// The session's stop signal.
    pub fn stop(&self) -> &Stop {
        &self.0.stop
    }

    /// The signal that asked, once a stop was requested.
    pub fn stopped(&self) -> Option<Signal> {
        self.0.stop.reason()
    }

    /// Time since the session started.
    pub fn elapsed(&self) -> Duration {
        self.0.started.elapsed()
    }

    /// Runs one scenario: gateway, instruction, adapter, checks, verdict.
    pub async fn run_scenario(&self, scenario: &Scenario) -> ScenarioResult {
        let s = &*self.0;
        run_scenario(scenario, &s.config, &s.capabilities, s.pool.as_ref()).await
    }

    /// Runs the scenarios, `jobs` at a time, calling `on_done` as each finishes (in finishing
    /// order), and reports them in catalogue order.
    ///
    /// Ends early when a stop is requested: no scenario starts after it, the ones under way
    /// are dropped (their adapters' process groups killed), and the report lists every
    /// scenario that did not finish as `SKIPPED` "not run", with [`RunReport::interrupted`]
    /// set.
    pub async fn run(
        &self,
        scenarios: &[&Scenario],
        mut on_done: impl FnMut(&ScenarioResult),
    ) -> RunReport {
        let gate = Arc::new(Semaphore::new(self.0.config.jobs.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for (index, scenario) in scenarios.iter().enumerate() {
            let (scenario, harness, gate) = ((*scenario).clone(), self.clone(), gate.clone());
            tasks.spawn(async move {
                let _permit = gate.acquire_owned().await.expect("semaphore open");
                // No scenario starts after a stop: a scenario whose adapter the signal killed
                // frees its job at once, and the next must not start an adapter the run
                // would leave behind.
                if harness.stopped().is_some() {
                    return (index, None);
                }
                (index, Some(harness.run_scenario(&scenario).await))
            });
        }
        let mut results: Vec<Option<ScenarioResult>> = vec![None; scenarios.len()];
        let stopped = loop {
            let joined = tokio::select! {
                biased;
                reason = self.0.stop.requested() => break Some(reason),
                joined = tasks.join_next() => joined,
            };
            match joined {
                Some(Ok((index, Some(result)))) => {
                    on_done(&result);
                    results[index] = Some(result);
                }
                Some(Ok((_, None))) => {}
                Some(Err(e)) => panic!("a scenario task failed: {e}"),
                None => break None,
            }
        };
        if stopped.is_some() {
            // Dropping a scenario's future kills its adapter's process group; waiting for the
            // aborted tasks makes sure every one is gone before the report is written.
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
        }
        let mut not_run = Vec::new();
        let results = results
            .into_iter()
            .zip(scenarios)
            .map(|(result, scenario)| {
                result.unwrap_or_else(|| {
                    not_run.push(scenario.id.clone());
                    // A scenario goes unfinished only after a stop (no task skips one
                    // otherwise), so the signal is there; SIGTERM, the outside stop, if not.
                    one_scenario::not_run(scenario, stopped.unwrap_or(Signal::Terminate))
                })
            })
            .collect();
        let mut report = self.report(results);
        report.interrupted = stopped.map(|signal| Interrupted { signal, not_run });
        report
    }

    /// The results as a report of this session: the client, its mode and capabilities, and
    /// the time since the session started.
    pub fn report(&self, results: Vec<ScenarioResult>) -> RunReport {
        let client = &self.0.config.client;
        let mut report = RunReport::new(client.describe(), client.mode(), results);
        report.transport = crate::report::RunTransport::of(self.0.config.tls);
        report.set_capabilities(&self.0.capabilities);
        report.duration_ms = self.elapsed().as_secs_f64() * 1000.0;
        report
    }

    /// Ends the session: idle persistent adapters are closed politely, or killed at once when
    /// a stop was requested (there is no time for a polite close then).
    pub async fn shutdown(self) {
        let Some(pool) = &self.0.pool else {
            return;
        };
        match self.0.stop.reason() {
            Some(_) => pool.kill().await,
            None => pool.close().await,
        }
    }
}

/// A pool of persistent adapter processes, one per job, restarted after a fault.
pub struct Pool {
    command: String,
    idle: Mutex<Vec<Persistent>>,
}

impl Pool {
    /// An empty pool for the adapter command; processes start on first use, one per job.
    pub fn new(command: impl Into<String>) -> Pool {
        Pool {
            command: command.into(),
            idle: Mutex::new(Vec::new()),
        }
    }

    pub(crate) async fn run(&self, instruction: &str, limit: Duration) -> AdapterRun {
        let worker = self.idle.lock().await.pop();
        let mut worker = match worker {
            Some(w) => w,
            None => match Persistent::start(&self.command) {
                Ok(w) => w,
                Err(fault) => {
                    return AdapterRun {
                        outcome: Err(fault),
                        printed: None,
                        stderr: String::new(),
                        elapsed: Duration::ZERO,
                    }
                }
            },
        };
        let (run, healthy) = worker.run(instruction, limit).await;
        if healthy {
            self.idle.lock().await.push(worker);
        } else {
            worker.close().await;
        }
        run
    }

    /// Ends every idle process of the pool, each given a moment to exit on its own.
    pub async fn close(&self) {
        let workers: Vec<Persistent> = self.idle.lock().await.drain(..).collect();
        for w in workers {
            w.close().await;
        }
    }

    /// Kills every idle process of the pool at once (their process groups die with them).
    pub async fn kill(&self) {
        let workers: Vec<Persistent> = self.idle.lock().await.drain(..).collect();
        drop(workers);
    }
}

/// A request to stop a run early (SIGINT, SIGTERM), shared by everything that must notice it.
///
/// Cloning gives another handle on the same request. The first [`Stop::request`] wins; its
/// signal names the interruption in the report.
#[derive(Clone, Debug)]
pub struct Stop(Arc<tokio::sync::watch::Sender<Option<Signal>>>);

impl Default for Stop {
    fn default() -> Stop {
        Stop::new()
    }
}

impl Stop {
    /// A stop not yet requested.
    pub fn new() -> Stop {
        Stop(Arc::new(tokio::sync::watch::Sender::new(None)))
    }

    /// Asks the run to stop; returns whether this was the first request.
    pub fn request(&self, signal: Signal) -> bool {
        self.0.send_if_modified(|slot| {
            if slot.is_some() {
                return false;
            }
            *slot = Some(signal);
            true
        })
    }

    /// The signal that asked, once a stop was requested.
    pub fn reason(&self) -> Option<Signal> {
        *self.0.borrow()
    }

    /// Resolves, with the signal, once a stop is requested.
    pub async fn requested(&self) -> Signal {
        let mut watch = self.0.subscribe();
        let reason = match watch.wait_for(Option::is_some).await {
            Ok(reason) => *reason,
            // The sender lives in `self`, so it cannot have closed.
            Err(_) => None,
        };
        match reason {
            Some(reason) => reason,
            None => std::future::pending().await,
        }
    }
}

/// Takes over SIGINT and SIGTERM for a run or fuzz (`docs/contract.md`, "Interrupted runs").
/// The first kills every adapter's process group and asks `stop` to end the run, which then
/// writes its reports; a second exits at once. Call inside the runtime: the handlers are
/// installed before this returns, so no signal falls between.
pub fn stop_on_signals(stop: Stop) {
    let Ok(mut signals) = crate::signals::Signals::install() else {
        eprintln!("warning: cannot watch SIGINT and SIGTERM; an interrupted run writes no report");
        return;
    };
    tokio::spawn(async move {
        loop {
            let signal = signals.next().await;
            let name = signal.name();
            // The stop first, then the kill: a scenario about to start sees the stop and
            // starts no adapter the kill would miss.
            let first = stop.request(signal);
            crate::adapter::kill_every_group();
            if !first {
                eprintln!("{name} again: exiting now, without the reports");
                std::process::exit(i32::from(crate::exit::Exit::Interrupted(signal).code()));
            }
            eprintln!(
                "\n{name}: stopping; adapters killed, writing the reports (a second signal exits at once)"
            );
        }
    });
}

/// The command-line options `run` and `fuzz` share: the client, how it runs, the session's
/// time limits and transport, and the report files both write.
///
/// Flattened into both commands (`#[command(flatten)]`); where `fuzz` words an option for
/// cases rather than scenarios, it rewords the help with `mut_arg`.
#[derive(clap::Args, Clone, Debug)]
pub struct HarnessArgs {
    /// The adapter command of the client under test, run by `sh -c`. Default: the built-in
    /// reference client, in process.
    #[arg(long, value_name = "COMMAND")]
    pub client: Option<String>,
    /// One adapter process serves many scenarios (one process per job).
    #[arg(long)]
    pub persistent: bool,
    /// Make the built-in client (no --client) send only this kind of id, and declare it.
    /// Repeatable.
    #[arg(
        long = "id",
        value_enum,
        value_name = "KIND",
        conflicts_with = "client"
    )]
    pub ids: Vec<IdKind>,
    /// Scenarios run at once. Default: the number of cores.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// The report files to write (`--report-json`, `--junit`, `--markdown`, `--html`,
    /// `--docs-url`).
    #[command(flatten)]
    pub reports: ReportFiles,
    /// Serve every scenario over HTTPS (`https://localhost:PORT`, with `caCertificatePem`), not
    /// only the `tls/` ones: for clients that cannot speak plain HTTP, such as the Python SDK.
    #[arg(long)]
    pub tls: bool,
    /// Milliseconds added to `timeoutMs × 5` for a scenario's hard time limit.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub time_limit_margin_ms: u64,
    /// Colour on the terminal.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

impl HarnessArgs {
    /// The client under test: the adapter command, or the built-in client with `behaviour`
    /// (sending only the `--id` kinds, when given).
    pub fn client(&self, behaviour: Behaviour) -> Client {
        match &self.client {
            None if self.ids.is_empty() => Client::InProcess(behaviour),
            None => Client::InProcessWithIds {
                defects: behaviour.defects,
                ids: Ids::only(self.ids.iter().copied()),
            },
            Some(command) => Client::Adapter {
                command: command.clone(),
                persistent: self.persistent,
            },
        }
    }

    /// A note for an option that does nothing here: `--persistent` without `--client`.
    pub fn note(&self) -> Option<&'static str> {
        (self.persistent && self.client.is_none()).then_some(
            "--persistent applies to --client adapters; the built-in client runs in process",
        )
    }

    /// The session's configuration for `client`, `jobs` at a time (`--jobs` wins), with
    /// fresh keys.
    pub fn config(&self, client: Client, jobs: usize) -> RunConfig {
        RunConfig {
            client,
            jobs: self.jobs.unwrap_or(jobs),
            time_limit_margin: Duration::from_millis(self.time_limit_margin_ms),
            keys: RunKeys::generate(),
            tls: self.tls,
        }
    }
}

/// The number of cores, the default of jobs that use CPU (2 when it cannot be told).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::path::PathBuf;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        harness: HarnessArgs,
    }

    fn parse(args: &[&str]) -> HarnessArgs {
        Cli::try_parse_from(std::iter::once("kit").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{e}"))
            .harness
    }

    #[test]
    fn the_options_name_the_client_and_how_it_runs() {
        let built_in = parse(&[]);
        assert_eq!(built_in.client(Behaviour::default()).mode(), "in-process");
        assert_eq!(built_in.note(), None);
        let narrow = parse(&["--id", "payment-id"]);
        assert!(matches!(
            narrow.client(Behaviour::default()),
            Client::InProcessWithIds { .. }
        ));
        let adapter = parse(&["--client", "./a", "--persistent", "-j", "3"]);
        let client = adapter.client(Behaviour::default());
        assert_eq!(client.mode(), "persistent");
        assert_eq!(client.pool_command(), Some("./a"));
        assert_eq!(
            parse(&["--persistent"]).note(),
            Some("--persistent applies to --client adapters; the built-in client runs in process")
        );
    }

    #[test]
    fn an_id_with_an_adapter_is_refused() {
        let refused = Cli::try_parse_from(["kit", "--client", "./a", "--id", "payment-id"]);
        assert!(refused.is_err());
    }

    #[test]
    fn the_report_files_are_those_asked_for() {
        let args = parse(&[
            "--report-json",
            "r.json",
            "--html",
            "r.html",
            "--markdown",
            "r.md",
        ]);
        let files = args.reports;
        assert_eq!(files.json, Some(PathBuf::from("r.json")));
        assert_eq!(files.junit, None);
        assert_eq!(files.markdown, Some(PathBuf::from("r.md")));
        assert_eq!(files.html, Some(PathBuf::from("r.html")));
    }
}
