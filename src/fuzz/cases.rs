//! The runner: cases drawn from a seeded proptest runner, run several at once through a
//! [`Harness`] session, until one fails or all ran.

use std::collections::HashMap;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::adapter::StartError;
use crate::capability::{IdKind, Ids};
use crate::harness::Harness;
use crate::run::{Client, RunConfig, RunError, Stop};
use crate::scenario::Scenario;
use crate::verdict::{ScenarioResult, Verdict};

use super::shrink::{shrink, Failing};
use super::{scenario_within, FuzzRun, Timing, DEFAULT_CASES, DEFAULT_MAX_SHRINK_ITERS, GROUP};

/// What one fuzz run does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuzzConfig {
    /// How many cases to draw (at most; the run stops at the first failing one).
    pub cases: u32,
    /// The seed of the case generator: the same seed draws the same cases.
    pub seed: u64,
    /// At most this many cases are re-run while shrinking.
    pub max_shrink_iters: u32,
    /// Timeouts and delays of the cases that have one.
    pub timing: Timing,
}

impl Default for FuzzConfig {
    fn default() -> FuzzConfig {
        FuzzConfig {
            cases: DEFAULT_CASES,
            seed: 0,
            max_shrink_iters: DEFAULT_MAX_SHRINK_ITERS,
            timing: Timing::default(),
        }
    }
}

/// Cases run at once by default: 16 in process; for an adapter, 12 per core, since a delayed
/// case holds its job for the whole delay while using no CPU, so the CPU stays busy only
/// with many jobs (12 per core measured fastest; README, "Fuzzing").
pub fn default_jobs(client: &Client) -> usize {
    match client {
        Client::InProcess(_) | Client::InProcessWithIds { .. } => 16,
        Client::Adapter { .. } => 12 * crate::harness::cores(),
    }
}

/// The generator of a seed: proptest's ChaCha RNG, keyed by the seed's 8 bytes.
pub fn runner(seed: u64, max_shrink_iters: u32) -> TestRunner {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        max_shrink_iters,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &key))
}

pub(super) fn case_id(n: u32) -> String {
    format!("{GROUP}/case-{n}")
}

/// Runs up to `config.cases` generated cases against the client of `run_config`, `jobs` at
/// a time, stops at the first that ends `FAIL` or `ERROR` and shrinks it.
///
/// # Errors
/// [`RunError::Adapter`] when the adapter command cannot be started at all.
pub async fn fuzz(config: &FuzzConfig, run_config: &RunConfig) -> Result<FuzzRun, RunError> {
    fuzz_until(config, run_config, &Stop::new()).await
}

/// [`fuzz`] that ends early when `stop` is requested: no case starts after it, the cases under
/// way are dropped (their adapters' process groups killed) and listed as not run, and a
/// failure being shrunk is reported as shrunk so far.
///
/// # Errors
/// [`RunError::Adapter`] when the adapter command cannot be started at all.
pub async fn fuzz_until(
    config: &FuzzConfig,
    run_config: &RunConfig,
    stop: &Stop,
) -> Result<FuzzRun, RunError> {
    let harness = Harness::start(run_config.clone(), stop.clone()).await?;
    let run = fuzz_in(&harness, config).await;
    harness.shutdown().await;
    run
}

/// A fuzz run in a started session.
///
/// # Errors
/// [`RunError::Adapter`] when the client declares no id an instruction can name alone.
pub async fn fuzz_in(harness: &Harness, config: &FuzzConfig) -> Result<FuzzRun, RunError> {
    let ids = harness.ids();
    if !ids.contains(IdKind::PaymentId) && !ids.contains(IdKind::PaymentRequestId) {
        return Err(RunError::Adapter(StartError::NoUsableId(ids)));
    }
    let mut cases = Cases::new(config, ids);
    let mut cases_duration;
    let failure = loop {
        cases.run(harness, config.cases).await;
        cases_duration = harness.elapsed();
        let Some(failing) = cases.first_failure() else {
            break None;
        };
        // Confirm alone, off the load of the other jobs: a timeout case can fail only
        // because the machine was busy. A failure that does not repeat is reported as flaky
        // and the run goes on.
        let again = tokio::select! {
            biased;
            // Interrupted before the confirmation: the failure stands as first seen.
            _ = harness.stop().requested() => failing.result.clone(),
            again = harness.run_scenario(&failing.case) => again,
        };
        if !again.verdict.is_failure() {
            cases.flaky.push(failing.result);
            continue;
        }
        break Some(shrink(harness, failing, config.max_shrink_iters).await);
    };
    let interrupted = harness.stopped();
    let mut not_run: Vec<(u32, Scenario)> = cases.under_way.into_iter().collect();
    not_run.sort_by_key(|(n, _)| *n);
    Ok(FuzzRun {
        seed: config.seed,
        cases: config.cases,
        cases_run: cases.cases_run,
        non_strict: cases.non_strict,
        non_strict_count: cases.non_strict_count,
        flaky: cases.flaky,
        failure,
        capabilities: harness.capabilities().clone(),
        cases_duration,
        duration: harness.elapsed(),
        not_run: match interrupted {
            Some(_) => not_run.into_iter().map(|(_, case)| case).collect(),
            None => Vec::new(),
        },
        interrupted,
    })
}

/// The cases of a run: drawn in order, run `jobs` at a time, their trees kept until they pass
/// (a failing one is shrunk from its tree).
struct Cases {
    strategy: BoxedStrategy<Scenario>,
    runner: TestRunner,
    trees: HashMap<u32, Box<dyn ValueTree<Value = Scenario>>>,
    failing: HashMap<u32, (Scenario, ScenarioResult)>,
    tasks: tokio::task::JoinSet<(u32, Scenario, ScenarioResult)>,
    /// The cases started and not yet finished, for an interrupted run's report.
    under_way: HashMap<u32, Scenario>,
    next: u32,
    cases_run: u32,
    non_strict: Vec<ScenarioResult>,
    non_strict_count: u32,
    flaky: Vec<ScenarioResult>,
}

impl Cases {
    fn new(config: &FuzzConfig, ids: Ids) -> Cases {
        Cases {
            strategy: scenario_within(config.timing, ids),
            runner: runner(config.seed, config.max_shrink_iters),
            trees: HashMap::new(),
            failing: HashMap::new(),
            tasks: tokio::task::JoinSet::new(),
            under_way: HashMap::new(),
            next: 1,
            cases_run: 0,
            non_strict: Vec::new(),
            non_strict_count: 0,
            flaky: Vec::new(),
        }
    }

    /// Draws and runs cases until one fails (and those under way have finished), all
    /// `cases` ran, or a stop is requested (the cases under way are then dropped).
    async fn run(&mut self, harness: &Harness, cases: u32) {
        loop {
            while self.failing.is_empty()
                && self.next <= cases
                && self.tasks.len() < harness.config().jobs.max(1)
                && harness.stopped().is_none()
            {
                self.start_next(harness);
            }
            let joined = tokio::select! {
                biased;
                _ = harness.stop().requested() => break,
                joined = self.tasks.join_next() => joined,
            };
            let Some(joined) = joined else {
                break;
            };
            let (n, case, result) =
                joined.unwrap_or_else(|e| panic!("a fuzz case task failed: {e}"));
            self.finished(n, case, result);
        }
        if harness.stopped().is_some() {
            // Dropping a case's future kills its adapter's process group; waiting for the
            // aborted tasks makes sure every one is gone before the report is written.
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
        }
    }

    fn start_next(&mut self, harness: &Harness) {
        let tree = self
            .strategy
            .new_tree(&mut self.runner)
            .expect("the fuzz strategies reject almost nothing");
        let mut case = tree.current();
        let n = self.next;
        case.id = case_id(n);
        self.trees.insert(n, tree);
        self.under_way.insert(n, case.clone());
        self.tasks.spawn(run_case(harness.clone(), n, case));
        self.next += 1;
    }

    fn finished(&mut self, n: u32, case: Scenario, result: ScenarioResult) {
        self.under_way.remove(&n);
        self.cases_run += 1;
        if result.verdict.is_failure() {
            self.failing.insert(n, (case, result));
            return;
        }
        self.trees.remove(&n);
        if result.verdict == Verdict::NonStrict {
            self.non_strict_count += 1;
            if self.non_strict.len() < 20 {
                self.non_strict.push(result);
            }
        }
    }

    /// The first failing case in drawing order: every case before it ran, so the choice does
    /// not depend on which job finished first.
    fn first_failure(&mut self) -> Option<Failing> {
        let n = self.failing.keys().min().copied()?;
        let (case, result) = self.failing.remove(&n).expect("present");
        let tree = self.trees.remove(&n).expect("kept until it passes");
        Some(Failing {
            n,
            tree,
            case,
            result,
        })
    }
}

/// Runs case `n`: the one path every generated case takes.
async fn run_case(harness: Harness, n: u32, case: Scenario) -> (u32, Scenario, ScenarioResult) {
    let result = harness.run_scenario(&case).await;
    (n, case, result)
}
