//! Shrinking a failing case, one run at a time, as proptest does.

use proptest::strategy::ValueTree;

use crate::harness::Harness;
use crate::scenario::Scenario;
use crate::verdict::ScenarioResult;

use super::cases::case_id;

/// The first failing case of a run, and what shrinking made of it.
#[derive(Clone, Debug)]
pub struct FuzzFailure {
    /// The case's number (1-based): `--seed S --cases N` replays up to it.
    pub case: u32,
    /// The case as drawn.
    pub original: Scenario,
    /// Its verdict as drawn.
    pub original_result: ScenarioResult,
    /// The smallest case found that still fails.
    pub shrunk: Scenario,
    /// The shrunk case's result: its verdict and the failed checks.
    pub result: ScenarioResult,
    /// Cases run while shrinking.
    pub shrink_runs: u32,
    /// Of which failed (each made the case smaller).
    pub shrink_steps: u32,
}

/// A case that failed among the other jobs, with the tree it was drawn from.
pub(super) struct Failing {
    pub(super) n: u32,
    pub(super) tree: Box<dyn ValueTree<Value = Scenario>>,
    pub(super) case: Scenario,
    pub(super) result: ScenarioResult,
}

/// proptest's shrinking loop, one run at a time: `simplify` while the case still fails,
/// `complicate` once it passes, until neither moves or `max_runs` cases were run.
pub(super) async fn shrink(harness: &Harness, failing: Failing, max_runs: u32) -> FuzzFailure {
    let Failing {
        n,
        mut tree,
        case: original,
        result: original_result,
    } = failing;
    let mut best = (original.clone(), original_result.clone());
    let (mut runs, mut steps) = (0u32, 0u32);
    if tree.simplify() {
        while runs < max_runs {
            runs += 1;
            let mut case = tree.current();
            case.id = case_id(n);
            let result = tokio::select! {
                biased;
                // Interrupted: the failure stands as shrunk so far.
                _ = harness.stop().requested() => break,
                result = harness.run_scenario(&case) => result,
            };
            if result.verdict.is_failure() {
                steps += 1;
                best = (case, result);
                if !tree.simplify() {
                    break;
                }
            } else if !tree.complicate() {
                break;
            }
        }
    }
    let (shrunk, result) = best;
    FuzzFailure {
        case: n,
        original,
        original_result,
        shrunk,
        result,
        shrink_runs: runs,
        shrink_steps: steps,
    }
}
