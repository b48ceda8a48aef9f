//! Checks and their grading: how recorded requests and a surfaced outcome become a verdict.
//!
//! The levels and verdict words are those of the contract (`docs/contract.md`): a failed
//! `MUST` check fails the scenario, a failed `SHOULD` check makes it `NON_STRICT`, an
//! `INFO` check is reported only.

use serde::{Deserialize, Serialize};

/// How much a failed check weighs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// Its failure makes the scenario `FAIL`.
    Must,
    /// Its failure makes the scenario `NON_STRICT`.
    Should,
    /// Reported only.
    Info,
}

/// The verdict of one scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// Every check held.
    Pass,
    /// Only `SHOULD` or `INFO` checks failed; does not fail a run.
    NonStrict,
    /// A `MUST` check failed.
    Fail,
    /// The adapter broke the protocol: crashed, printed no valid outcome, or ran past the limit.
    Error,
    /// The adapter lacks a capability the scenario needs.
    Skipped,
}

impl Verdict {
    /// All verdicts, in report order.
    pub const ALL: [Verdict; 5] = [
        Verdict::Pass,
        Verdict::NonStrict,
        Verdict::Fail,
        Verdict::Error,
        Verdict::Skipped,
    ];

    /// The word used on the wire and on the terminal (`NON_STRICT`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::NonStrict => "NON_STRICT",
            Verdict::Fail => "FAIL",
            Verdict::Error => "ERROR",
            Verdict::Skipped => "SKIPPED",
        }
    }

    /// Whether this verdict fails a run (before the baseline is applied).
    pub fn is_failure(self) -> bool {
        matches!(self, Verdict::Fail | Verdict::Error)
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One check and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// Stable id, e.g. `request.signature` or `outcome.kind`.
    pub id: String,
    /// How much a failure weighs.
    pub level: Level,
    /// Whether the check held.
    pub held: bool,
    /// One line for humans: what was checked and, when it failed, what went wrong.
    pub message: String,
    /// The rule it enforces, as a reference into the contract or the API spec.
    pub rule: String,
    /// What the kit expected, when that is not obvious from the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What the kit saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<String>,
}

impl Check {
    /// A check that held.
    pub fn pass(id: &str, level: Level, rule: &str, message: impl Into<String>) -> Check {
        Check {
            id: id.to_owned(),
            level,
            held: true,
            message: message.into(),
            rule: rule.to_owned(),
            expected: None,
            seen: None,
        }
    }

    /// A check that failed, with what was expected and what was seen.
    pub fn fail(
        id: &str,
        level: Level,
        rule: &str,
        message: impl Into<String>,
        expected: impl Into<String>,
        seen: impl Into<String>,
    ) -> Check {
        Check {
            id: id.to_owned(),
            level,
            held: false,
            message: message.into(),
            rule: rule.to_owned(),
            expected: Some(expected.into()),
            seen: Some(seen.into()),
        }
    }
}

/// Grades a list of checks: `FAIL` if a `MUST` failed, `NON_STRICT` if only a `SHOULD` did.
///
/// # Example
/// ```
/// use alipay_cancel_kit::verdict::{grade, Check, Level, Verdict};
/// let checks = vec![
///     Check::pass("a", Level::Must, "r", "ok"),
///     Check::fail("b", Level::Should, "r", "charset missing", "charset=UTF-8", "none"),
/// ];
/// assert_eq!(grade(&checks), Verdict::NonStrict);
/// ```
pub fn grade(checks: &[Check]) -> Verdict {
    let failed = |level| checks.iter().any(|c| !c.held && c.level == level);
    if failed(Level::Must) {
        Verdict::Fail
    } else if failed(Level::Should) {
        Verdict::NonStrict
    } else {
        Verdict::Pass
    }
}

/// What one scenario came to: its verdict, its checks and what the kit saw on the way.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioResult {
    /// The scenario id, e.g. `result/ORDER_NOT_EXIST`.
    pub id: String,
    /// The scenario's one-line title.
    pub title: String,
    /// The rule the scenario as a whole targets.
    pub rule: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Why the scenario is `ERROR` or `SKIPPED`; empty otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Every check run, held or not, in the order run.
    pub checks: Vec<Check>,
    /// How many requests reached the gateway.
    pub requests: usize,
    /// The outcome the adapter printed, as printed (when it printed valid JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<serde_json::Value>,
    /// What the adapter wrote to standard error during this scenario (truncated).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stderr: String,
    /// Wall time of the whole scenario, in milliseconds.
    pub duration_ms: f64,
    /// Of which the adapter's time (instruction written to outcome read), in milliseconds.
    pub adapter_ms: f64,
}

impl ScenarioResult {
    /// The checks that failed.
    pub fn failed_checks(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.held)
    }
}
