//! Judging and grading: how recorded requests and a surfaced outcome become a verdict.
//!
//! The checks themselves are the contract's ([`crate::contract`]); [`judge`] composes them over
//! the gateway's log, and [`grade`] turns them into a verdict. [`Check`] and [`Level`] are
//! re-exported here for the reports, which read them beside [`Verdict`].
//!
//! The levels and verdict words are those of the contract (`docs/contract.md`): a failed
//! `MUST` check fails the scenario, a failed `SHOULD` check makes it `NON_STRICT`, an
//! `INFO` check is reported only.

use serde::{Deserialize, Serialize};

use crate::contract::outcome::Answered;
use crate::contract::CheckId;
pub use crate::contract::{Check, Level};

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
    /// Every request the gateway received and the answer it sent (bounded, see
    /// [`crate::transcript`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcript: Vec<crate::transcript::Turn>,
}

impl ScenarioResult {
    /// The checks that failed.
    pub fn failed_checks(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.held)
    }
}

pub use crate::contract::outcome::MAX_REQUESTS;

/// Every check of the contract for one scenario: each request the gateway received (checked
/// by the gateway as it arrived), then the outcome rules on the request sequence and on the
/// outcome the client surfaced (`None` when the adapter broke the protocol, in which case only
/// the request checks and the sequence's are made).
pub fn judge(
    scenario: &crate::scenario::Scenario,
    exchanges: &[crate::gateway::Exchange],
    outcome: Option<&crate::protocol::Outcome>,
) -> Vec<Check> {
    let answered: Vec<Answered<'_>> = exchanges.iter().map(answered).collect();
    let mut checks: Vec<Check> = exchanges
        .iter()
        .flat_map(|e| e.checks.iter().cloned())
        .collect();
    checks.extend(crate::contract::outcome::check_outcome(
        scenario, &answered, outcome,
    ));
    checks
}

/// An exchange as the outcome rules read it.
fn answered(exchange: &crate::gateway::Exchange) -> Answered<'_> {
    Answered {
        request_body: &exchange.request.body,
        answer: &exchange.served.answer,
        note: exchange.served.note.as_deref(),
    }
}

/// The check of the surfaced `cancelTime` against the served one: the same instant to the
/// millisecond (MUST).
pub const CANCEL_TIME: &str = CheckId::CancelTime.name();

/// The check that the surfaced `cancelTime` keeps every fraction digit served (SHOULD): a
/// client whose time type holds milliseconds (JavaScript's `Date`) or microseconds (Python's
/// `datetime`) cannot keep a seventh digit, and is `NON_STRICT`, not failed, for it.
pub const CANCEL_TIME_PRECISION: &str = CheckId::CancelTimePrecision.name();

/// A short description of a served answer, for messages.
pub fn describe_answer(served: &crate::gateway::Served) -> String {
    crate::contract::outcome::describe_answer(&served.answer, served.note.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::request::fixture;
    use crate::gateway::{answer::HttpAnswer, Exchange, Served};
    use crate::scenario::Catalogue;

    #[test]
    fn every_verdict_has_its_word_and_only_fail_and_error_fail_a_run() {
        let words = Verdict::ALL.map(Verdict::as_str);
        assert_eq!(words, ["PASS", "NON_STRICT", "FAIL", "ERROR", "SKIPPED"]);
        for verdict in Verdict::ALL {
            assert_eq!(verdict.to_string(), verdict.as_str());
            assert_eq!(serde_json::to_value(verdict).unwrap(), verdict.as_str());
        }
        let failing: Vec<Verdict> = Verdict::ALL
            .into_iter()
            .filter(|v| v.is_failure())
            .collect();
        assert_eq!(failing, [Verdict::Fail, Verdict::Error]);
    }

    /// A failed MUST fails the scenario, a failed SHOULD (alone) makes it `NON_STRICT`, a
    /// failed INFO is reported only; checks that held weigh nothing.
    #[test]
    fn grading_weighs_each_failed_check_by_its_level() {
        let held = |level| Check::pass("held", level, "r", "ok");
        let failed = |level| Check::fail("failed", level, "r", "m", "e", "s");
        let cases = [
            (vec![], Verdict::Pass),
            (
                vec![held(Level::Must), held(Level::Should), held(Level::Info)],
                Verdict::Pass,
            ),
            (vec![held(Level::Must), failed(Level::Info)], Verdict::Pass),
            (
                vec![held(Level::Must), failed(Level::Should)],
                Verdict::NonStrict,
            ),
            (
                vec![failed(Level::Must), held(Level::Should)],
                Verdict::Fail,
            ),
            (
                vec![failed(Level::Should), failed(Level::Must)],
                Verdict::Fail,
            ),
        ];
        for (checks, verdict) in cases {
            assert_eq!(grade(&checks), verdict, "{checks:?}");
        }
    }

    /// The request checks as the gateway made them, then the outcome rules.
    #[test]
    fn judging_puts_the_request_checks_before_the_outcome_rules() {
        let catalogue = Catalogue::embedded().expect("the catalogue loads");
        let scenario = catalogue
            .get("result/ORDER_NOT_EXIST")
            .expect("in the catalogue");
        let served = Served::scripted(0, scenario.answers[0].clone());
        let request_check =
            CheckId::Charset.fail_on(1, crate::contract::Failure::new("m", "e", "s"));
        let exchange = Exchange {
            request: fixture::request(),
            checks: vec![request_check.clone()],
            served: served.clone(),
            sent: HttpAnswer {
                status: 200,
                headers: vec![],
                body: vec![],
                delay: std::time::Duration::ZERO,
                fault: None,
            },
        };
        let checks = judge(scenario, &[exchange], None);
        let ids: Vec<&str> = checks.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "request[1].charset",
                "requests.count",
                "requests.no-retry-after-final"
            ]
        );
        assert_eq!(checks[0], request_check);
        assert!(judge(scenario, &[], None).is_empty());
        let result = ScenarioResult {
            id: scenario.id.clone(),
            title: String::new(),
            rule: String::new(),
            verdict: grade(&checks),
            reason: None,
            checks,
            requests: 1,
            outcome: None,
            stderr: String::new(),
            duration_ms: 0.0,
            adapter_ms: 0.0,
            transcript: vec![],
        };
        assert_eq!(result.verdict, Verdict::NonStrict);
        let failed: Vec<&str> = result.failed_checks().map(|c| c.id.as_str()).collect();
        assert_eq!(failed, ["request[1].charset"]);
        assert_eq!(
            describe_answer(&served),
            "HTTP 200, ORDER_NOT_EXIST (F), signed"
        );
    }
}
