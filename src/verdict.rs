//! Checks and their grading: how recorded requests and a surfaced outcome become a verdict.
//!
//! The levels and verdict words are those of the contract (`docs/contract.md`): a failed
//! `MUST` check fails the scenario, a failed `SHOULD` check makes it `NON_STRICT`, an
//! `INFO` check is reported only.

use serde::{Deserialize, Serialize};

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
    pub transcript: Vec<crate::transcript::Exchange>,
}

impl ScenarioResult {
    /// The checks that failed.
    pub fn failed_checks(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.held)
    }
}

/// The most requests a client may send for one instruction.
pub const MAX_REQUESTS: usize = 5;

const OUTCOME_RULE: &str = "docs/contract.md#outcome-rules";

/// Every check of the contract for one scenario: each request the gateway received (checked
/// by the gateway as it arrived), the request sequence, and the outcome the client surfaced
/// (`None` when the adapter broke the protocol, in which case only the request checks are made).
pub fn judge(
    scenario: &crate::scenario::Scenario,
    exchanges: &[crate::gateway::Exchange],
    outcome: Option<&crate::protocol::Outcome>,
) -> Vec<Check> {
    use crate::scenario::Transport;

    let mut checks: Vec<Check> = exchanges
        .iter()
        .flat_map(|e| e.checks.iter().cloned())
        .collect();
    let n = exchanges.len();

    // The request sequence.
    if n == 0 {
        // Without an outcome the adapter broke the protocol; "no request" would blame the client.
        if scenario.accept_without_request.is_empty() && outcome.is_some() {
            checks.push(Check::fail(
                "requests.count",
                Level::Must,
                OUTCOME_RULE,
                "the client must send the cancel request",
                "1 to 5 requests",
                "no request reached the gateway",
            ));
        }
    } else {
        if matches!(
            scenario.transport,
            Transport::TlsUntrusted | Transport::TlsWrongHostname
        ) {
            checks.push(Check::fail(
                "requests.tls-refused",
                Level::Must,
                "docs/contract.md#outcome-rules (TLS)",
                "no request may be sent over a connection whose certificate is not trusted",
                "0 requests",
                format!("{n} request(s)"),
            ));
        }
        if scenario.local_validation {
            checks.push(Check::fail(
                "requests.local-validation",
                Level::Should,
                "docs/contract.md#local-validation",
                "the instruction breaks the request rules: the client should refuse it locally (INVALID_REQUEST) and send nothing",
                "0 requests",
                format!("{n} request(s)"),
            ));
        }
        checks.push(if n <= MAX_REQUESTS {
            Check::pass(
                "requests.count",
                Level::Must,
                OUTCOME_RULE,
                format!("{n} request(s), at most {MAX_REQUESTS}"),
            )
        } else {
            Check::fail(
                "requests.count",
                Level::Must,
                OUTCOME_RULE,
                "a client may call at most 5 times for one cancel",
                format!("at most {MAX_REQUESTS} requests"),
                format!("{n} requests"),
            )
        });
        let after_final = exchanges[..n - 1]
            .iter()
            .position(|e| e.served.answer.is_final());
        checks.push(match after_final {
            None => Check::pass(
                "requests.no-retry-after-final",
                Level::Must,
                OUTCOME_RULE,
                "no call after a definitive answer",
            ),
            Some(i) => Check::fail(
                "requests.no-retry-after-final",
                Level::Must,
                OUTCOME_RULE,
                format!(
                    "request {} got a definitive answer ({}); the client must not call again",
                    i + 1,
                    describe_answer(&exchanges[i].served)
                ),
                format!("{} request(s)", i + 1),
                format!("{n} requests"),
            ),
        });
        if n > 1 {
            let ids = |e: &crate::gateway::Exchange| {
                let body: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_slice(&e.request.body).unwrap_or_default();
                crate::contract::request::ID_FIELDS
                    .iter()
                    .map(|f| body.get(*f).cloned().unwrap_or(serde_json::Value::Null))
                    .collect::<Vec<_>>()
            };
            let first = ids(&exchanges[0]);
            let differs = exchanges[1..].iter().position(|e| ids(e) != first);
            checks.push(match differs {
                None => Check::pass(
                    "requests.same-ids",
                    Level::Must,
                    OUTCOME_RULE,
                    "every retry carries the ids of the first request",
                ),
                Some(i) => Check::fail(
                    "requests.same-ids",
                    Level::Must,
                    OUTCOME_RULE,
                    format!(
                        "retry {} must carry the same ids as the first request",
                        i + 2
                    ),
                    serde_json::Value::Array(first.clone()).to_string(),
                    serde_json::Value::Array(ids(&exchanges[i + 1])).to_string(),
                ),
            });
        }
    }

    let Some(outcome) = outcome else {
        return checks;
    };
    // The outcome, judged against the last answer the client received.
    let (accept, prefer, what) = match exchanges.last() {
        None => (
            scenario.accept_without_request.clone(),
            Vec::new(),
            "no request was sent".to_owned(),
        ),
        Some(e) => (
            e.served.answer.accept.clone(),
            e.served.answer.prefer.clone(),
            format!("the last answer was {}", describe_answer(&e.served)),
        ),
    };
    let words = |list: &[crate::protocol::OutcomeKind]| {
        list.iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let kind = outcome.outcome;
    if accept.is_empty() || accept.contains(&kind) {
        if !accept.is_empty() {
            checks.push(Check::pass(
                "outcome.kind",
                Level::Must,
                OUTCOME_RULE,
                format!("{kind}: {what}"),
            ));
        }
    } else {
        checks.push(Check::fail(
            "outcome.kind",
            Level::Must,
            OUTCOME_RULE,
            format!("{what}: the client must surface {}", words(&accept)),
            words(&accept),
            outcome_summary(outcome),
        ));
    }
    if accept.contains(&kind) && !prefer.is_empty() {
        checks.push(if prefer.contains(&kind) {
            Check::pass(
                "outcome.preferred",
                Level::Should,
                OUTCOME_RULE,
                format!("{kind} preferred"),
            )
        } else {
            Check::fail(
                "outcome.preferred",
                Level::Should,
                OUTCOME_RULE,
                format!("{what}: the client should surface {}", words(&prefer)),
                words(&prefer),
                kind.as_str(),
            )
        });
    }
    let served_body = exchanges.last().and_then(|e| e.served.answer.body.as_ref());
    if let Some(body) = served_body {
        if kind == crate::protocol::OutcomeKind::Success {
            checks.extend(success_echo(outcome, body));
        }
        if kind == crate::protocol::OutcomeKind::Failed {
            if let Some(code) = body.pointer("/result/resultCode").and_then(|v| v.as_str()) {
                let seen = outcome.result_code.as_deref().unwrap_or("(absent)");
                checks.push(if seen == code {
                    Check::pass(
                        "outcome.result-code",
                        Level::Must,
                        OUTCOME_RULE,
                        format!("resultCode {code} as served"),
                    )
                } else {
                    Check::fail(
                        "outcome.result-code",
                        Level::Must,
                        OUTCOME_RULE,
                        "FAILED must carry the resultCode as served",
                        code,
                        seen,
                    )
                });
            }
        }
    }
    checks
}

fn success_echo(outcome: &crate::protocol::Outcome, body: &serde_json::Value) -> Vec<Check> {
    let mut checks = Vec::new();
    for (field, seen) in [
        ("paymentId", &outcome.payment_id),
        ("paymentRequestId", &outcome.payment_request_id),
    ] {
        let served = body.get(field).and_then(|v| v.as_str());
        let seen_text = seen.as_deref().unwrap_or("(absent)");
        let id = format!("outcome.{field}");
        checks.push(if served.is_some_and(|s| Some(s) == seen.as_deref()) {
            Check::pass(&id, Level::Must, OUTCOME_RULE, format!("{field} as served"))
        } else {
            Check::fail(
                &id,
                Level::Must,
                OUTCOME_RULE,
                format!("SUCCESS must carry {field} as served"),
                served.unwrap_or("(not served)"),
                seen_text,
            )
        });
    }
    let served = body
        .get("cancelTime")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    checks.extend(cancel_time_checks(served, outcome.cancel_time.as_deref()));
    checks
}

/// The check of the surfaced `cancelTime` against the served one: the same instant to the
/// millisecond (MUST).
pub const CANCEL_TIME: &str = "outcome.cancelTime";

/// The check that the surfaced `cancelTime` keeps every fraction digit served (SHOULD): a
/// client whose time type holds milliseconds (JavaScript's `Date`) or microseconds (Python's
/// `datetime`) cannot keep a seventh digit, and is `NON_STRICT`, not failed, for it.
pub const CANCEL_TIME_PRECISION: &str = "outcome.cancelTime-precision";

/// [`CANCEL_TIME`] and, when it holds, [`CANCEL_TIME_PRECISION`]. Both compare instants
/// exactly, digit by digit, whatever the offsets: within a millisecond passes the MUST (a
/// client that truncates or rounds to milliseconds), the same instant to every digit the SHOULD.
fn cancel_time_checks(served: &str, seen: Option<&str>) -> Vec<Check> {
    use crate::spec::CancelTime;
    let served_at = CancelTime::parse(served).ok();
    let seen_at = seen.and_then(|t| CancelTime::parse(t).ok());
    let seen = seen.unwrap_or("(absent)");
    let (Some(a), Some(b)) = (&served_at, &seen_at) else {
        return vec![Check::fail(
            CANCEL_TIME,
            Level::Must,
            OUTCOME_RULE,
            "SUCCESS must carry cancelTime as RFC 3339 text",
            served,
            seen,
        )];
    };
    if !a.within_millisecond(b) {
        return vec![Check::fail(
            CANCEL_TIME,
            Level::Must,
            OUTCOME_RULE,
            "cancelTime must denote the instant served, to the millisecond (mind the offset)",
            format!("{served} (= {})", utc_text(a)),
            format!("{seen} (= {})", utc_text(b)),
        )];
    }
    if a.same_instant(b) {
        return vec![
            Check::pass(
                CANCEL_TIME,
                Level::Must,
                OUTCOME_RULE,
                format!("cancelTime {seen} is the instant served ({served})"),
            ),
            Check::pass(
                CANCEL_TIME_PRECISION,
                Level::Should,
                OUTCOME_RULE,
                "every fraction digit served is kept",
            ),
        ];
    }
    let fraction = |t: &CancelTime| match t.fraction() {
        "" => "no fraction".to_owned(),
        digits => format!(".{digits}"),
    };
    vec![
        Check::pass(
            CANCEL_TIME,
            Level::Must,
            OUTCOME_RULE,
            format!("cancelTime {seen} is the instant served ({served}) to the millisecond"),
        ),
        Check::fail(
            CANCEL_TIME_PRECISION,
            Level::Should,
            OUTCOME_RULE,
            format!(
                "cancelTime should keep every fraction digit served: served {}, surfaced {}",
                fraction(a),
                fraction(b)
            ),
            format!("{served} (= {})", utc_text(a)),
            format!("{seen} (= {})", utc_text(b)),
        ),
    ]
}

/// The instant in UTC with every fraction digit of its text (chrono would stop at nine).
fn utc_text(t: &crate::spec::CancelTime) -> String {
    let utc = t.instant().with_timezone(&chrono::Utc);
    let fraction = match t.fraction() {
        "" => String::new(),
        digits => format!(".{digits}"),
    };
    format!("{}{fraction}Z", utc.format("%Y-%m-%dT%H:%M:%S"))
}

/// A short description of a served answer, for messages.
pub fn describe_answer(served: &crate::gateway::Served) -> String {
    let a = &served.answer;
    let mut parts = Vec::new();
    if let Some(fault) = a.fault {
        parts.push(format!("{fault:?}"));
    }
    if a.delay_ms > 0 {
        parts.push(format!("delayed {} ms", a.delay_ms));
    }
    parts.push(format!("HTTP {}", a.status));
    if let Some(body) = &a.body {
        let code = body.pointer("/result/resultCode").and_then(|v| v.as_str());
        // A string status shows bare (`F`); anything else as JSON (`1`), since that is the fault.
        let status = body
            .pointer("/result/resultStatus")
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
        if let (Some(code), Some(status)) = (code, status) {
            parts.push(format!("{code} ({status})"));
        }
    } else if a.raw_body.as_deref().is_some_and(|b| !b.is_empty()) {
        parts.push("a body that is not JSON".into());
    } else {
        parts.push("an empty body".into());
    }
    parts.push(format!("{:?}", a.signing).to_lowercase());
    if let Some(note) = &served.note {
        parts.push(note.clone());
    }
    parts.join(", ")
}

fn outcome_summary(o: &crate::protocol::Outcome) -> String {
    let mut s = o.outcome.as_str().to_owned();
    if let Some(code) = &o.result_code {
        s.push_str(&format!(" ({code})"));
    }
    if let Some(e) = o.error.as_deref().filter(|e| !e.is_empty()) {
        s.push_str(&format!(": {e}"));
    }
    s
}
