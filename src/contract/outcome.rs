//! The outcome rules (`docs/contract.md#outcome-rules`), one function per check: the request
//! sequence (`requests.*`) and the outcome the client surfaced, judged against the last answer
//! it received (`outcome.*`).
//!
//! They read the sequence as [`Answered`] pairs (a request body and the answer served to it),
//! so they stand below the gateway: `verdict::judge` composes them over the gateway's log.

use serde_json::Value;

use super::check::{Check, CheckId, Failure};
use crate::protocol::{Outcome, OutcomeKind};
use crate::scenario::{Answer, Scenario, Transport};
use crate::spec::endpoint::member;
use crate::spec::CancelTime;

/// The most requests a client may send for one instruction.
pub const MAX_REQUESTS: usize = 5;

/// One request that reached the gateway and the answer served to it.
#[derive(Clone, Copy, Debug)]
pub struct Answered<'a> {
    /// The request body, byte for byte.
    pub request_body: &'a [u8],
    /// The answer served, with the outcomes it accepts.
    pub answer: &'a Answer,
    /// Why the gateway answered other than scripted (a refusal), for messages.
    pub note: Option<&'a str>,
}

impl Answered<'_> {
    /// A short description of the answer, for messages.
    pub fn describe(&self) -> String {
        describe_answer(self.answer, self.note)
    }
}

/// Every outcome rule for one scenario, in report order: the request sequence, then (when the
/// adapter surfaced one) the outcome. Without an outcome the adapter broke the protocol, and
/// "no request" would blame the client, so `requests.count` is not made for an empty sequence.
pub fn check_outcome(
    scenario: &Scenario,
    answered: &[Answered<'_>],
    outcome: Option<&Outcome>,
) -> Vec<Check> {
    let n = answered.len();
    let mut checks = Vec::new();
    // Both are made only for a request sent (`None` for none).
    let untrusted = matches!(
        scenario.transport,
        Transport::TlsUntrusted | Transport::TlsWrongHostname
    );
    checks.extend(untrusted.then(|| tls_refused(n)).flatten());
    checks.extend(
        scenario
            .local_validation
            .then(|| local_validation(n))
            .flatten(),
    );
    if n > 0 || outcome.is_some() {
        checks.extend(requests_count(
            n,
            !scenario.accept_without_request.is_empty(),
        ));
    }
    checks.extend(no_retry_after_final(answered));
    checks.extend(same_ids(answered));
    let Some(outcome) = outcome else {
        return checks;
    };
    let judged = JudgedAgainst::last(answered, &scenario.accept_without_request);
    checks.extend(outcome_kind(&judged, outcome));
    checks.extend(outcome_preferred(&judged, outcome.outcome));
    if let Some(body) = answered.last().and_then(|a| a.answer.body.as_ref()) {
        if outcome.outcome == OutcomeKind::Success {
            checks.push(payment_id(outcome, body));
            checks.push(payment_request_id(outcome, body));
            let served = body
                .get(member::CANCEL_TIME)
                .and_then(Value::as_str)
                .unwrap_or("");
            checks.extend(cancel_time(served, outcome.cancel_time.as_deref()));
        }
        if outcome.outcome == OutcomeKind::Failed {
            checks.extend(result_code(outcome, body));
        }
    }
    checks
}

/// `requests.count` (MUST): at least one request unless the scenario allows none
/// (`without_request_allowed`), at most [`MAX_REQUESTS`]. `None` for no request where none is
/// allowed (nothing to report).
pub fn requests_count(n: usize, without_request_allowed: bool) -> Option<Check> {
    let id = CheckId::RequestsCount;
    match n {
        0 if without_request_allowed => None,
        0 => Some(id.fail(Failure::new(
            "the client must send the cancel request",
            "1 to 5 requests",
            "no request reached the gateway",
        ))),
        1..=MAX_REQUESTS => Some(id.pass(format!("{n} request(s), at most {MAX_REQUESTS}"))),
        _ => Some(id.fail(Failure::new(
            "a client may call at most 5 times for one cancel",
            format!("at most {MAX_REQUESTS} requests"),
            format!("{n} requests"),
        ))),
    }
}

/// `requests.tls-refused` (MUST), in a scenario whose certificate the client must not trust:
/// fails for any request that got through, `None` for none.
pub fn tls_refused(n: usize) -> Option<Check> {
    (n > 0).then(|| {
        CheckId::TlsRefused.fail(Failure::new(
            "no request may be sent over a connection whose certificate is not trusted",
            "0 requests",
            format!("{n} request(s)"),
        ))
    })
}

/// `requests.local-validation` (SHOULD), in a scenario whose instruction breaks the request
/// rules: fails for any request sent, `None` for none (the client refused locally).
pub fn local_validation(n: usize) -> Option<Check> {
    (n > 0).then(|| {
        CheckId::LocalValidation.fail(Failure::new(
                "the instruction breaks the request rules: the client should refuse it locally (INVALID_REQUEST) and send nothing",
                "0 requests",
                format!("{n} request(s)"),
            ),
        )
    })
}

/// `requests.no-retry-after-final` (MUST): no request after a definitive answer. `None` for
/// an empty sequence.
pub fn no_retry_after_final(answered: &[Answered<'_>]) -> Option<Check> {
    let (_, earlier) = answered.split_last()?;
    let n = answered.len();
    let id = CheckId::NoRetryAfterFinal;
    Some(match earlier.iter().position(|a| a.answer.is_final()) {
        None => id.pass("no call after a definitive answer"),
        Some(i) => id.fail(Failure::new(
            format!(
                "request {} got a definitive answer ({}); the client must not call again",
                i + 1,
                answered[i].describe()
            ),
            format!("{} request(s)", i + 1),
            format!("{n} requests"),
        )),
    })
}

/// `requests.same-ids` (MUST): every retry carries the ids of the first request (absent and
/// `null` the same). `None` for fewer than two requests.
pub fn same_ids(answered: &[Answered<'_>]) -> Option<Check> {
    let (first, retries) = answered.split_first()?;
    if retries.is_empty() {
        return None;
    }
    let ids = |a: &Answered<'_>| {
        let body: serde_json::Map<String, Value> =
            serde_json::from_slice(a.request_body).unwrap_or_default();
        member::IDS
            .iter()
            .map(|f| body.get(*f).cloned().unwrap_or(Value::Null))
            .collect::<Vec<_>>()
    };
    let first = ids(first);
    let id = CheckId::SameIds;
    Some(match retries.iter().position(|a| ids(a) != first) {
        None => id.pass("every retry carries the ids of the first request"),
        Some(i) => id.fail(Failure::new(
            format!(
                "retry {} must carry the same ids as the first request",
                i + 2
            ),
            Value::Array(first).to_string(),
            Value::Array(ids(&retries[i])).to_string(),
        )),
    })
}

/// What the outcome is judged against: the outcomes the last answer accepts and prefers (or
/// those the scenario allows without a request), and how to say which answer that was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JudgedAgainst {
    /// The accepted outcomes; empty when nothing is accepted or required.
    pub accept: Vec<OutcomeKind>,
    /// Among them, the preferred ones (empty: any).
    pub prefer: Vec<OutcomeKind>,
    /// `the last answer was …`, or `no request was sent`.
    pub what: String,
}

impl JudgedAgainst {
    /// The last answer of `answered`, or what the scenario accepts without a request.
    pub fn last(answered: &[Answered<'_>], without_request: &[OutcomeKind]) -> JudgedAgainst {
        match answered.last() {
            None => JudgedAgainst {
                accept: without_request.to_vec(),
                prefer: Vec::new(),
                what: "no request was sent".to_owned(),
            },
            Some(a) => JudgedAgainst {
                accept: a.answer.accept.clone(),
                prefer: a.answer.prefer.clone(),
                what: format!("the last answer was {}", a.describe()),
            },
        }
    }
}

/// `A or B`.
fn words(list: &[OutcomeKind]) -> String {
    list.iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// `outcome.kind` (MUST): the outcome is one the last answer accepts. `None` when nothing is
/// accepted (a scenario that allows no outcome without a request, which `requests.count`
/// already fails).
pub fn outcome_kind(judged: &JudgedAgainst, outcome: &Outcome) -> Option<Check> {
    let kind = outcome.outcome;
    let accept = &judged.accept;
    if accept.is_empty() {
        return None;
    }
    Some(if accept.contains(&kind) {
        CheckId::OutcomeKind.pass(format!("{kind}: {}", judged.what))
    } else {
        CheckId::OutcomeKind.fail(
            Failure::new(
                format!("{}: the client must surface {}", judged.what, words(accept)),
                words(accept),
                outcome_summary(outcome),
            )
            .with("surfaced", kind.as_str()),
        )
    })
}

/// `outcome.preferred` (SHOULD): an accepted outcome is a preferred one, where the answer
/// prefers some. `None` where it prefers none, or the outcome was not accepted at all.
pub fn outcome_preferred(judged: &JudgedAgainst, kind: OutcomeKind) -> Option<Check> {
    if !judged.accept.contains(&kind) || judged.prefer.is_empty() {
        return None;
    }
    Some(if judged.prefer.contains(&kind) {
        CheckId::OutcomePreferred.pass(format!("{kind} preferred"))
    } else {
        CheckId::OutcomePreferred.fail(Failure::new(
            format!(
                "{}: the client should surface {}",
                judged.what,
                words(&judged.prefer)
            ),
            words(&judged.prefer),
            kind.as_str(),
        ))
    })
}

/// `outcome.paymentId` (MUST), on `SUCCESS`: the string served.
pub fn payment_id(outcome: &Outcome, served: &Value) -> Check {
    echo(
        CheckId::OutcomePaymentId,
        member::PAYMENT_ID,
        served,
        outcome.payment_id.as_deref(),
    )
}

/// `outcome.paymentRequestId` (MUST), on `SUCCESS`: the string served.
pub fn payment_request_id(outcome: &Outcome, served: &Value) -> Check {
    echo(
        CheckId::OutcomePaymentRequestId,
        member::PAYMENT_REQUEST_ID,
        served,
        outcome.payment_request_id.as_deref(),
    )
}

fn echo(id: CheckId, field: &str, body: &Value, seen: Option<&str>) -> Check {
    let served = body.get(field).and_then(Value::as_str);
    if served.is_some_and(|s| Some(s) == seen) {
        id.pass(format!("{field} as served"))
    } else {
        let mut failure = Failure::new(
            format!("SUCCESS must carry {field} as served"),
            served.unwrap_or("(not served)"),
            seen.unwrap_or("(absent)"),
        );
        if let Some(served) = served {
            failure = failure.with("served", served);
        }
        if let Some(seen) = seen {
            failure = failure.with("surfaced", seen);
        }
        id.fail(failure)
    }
}

/// `outcome.cancelTime` (MUST) and, when it holds, `outcome.cancelTime-precision` (SHOULD).
/// Both compare instants exactly, digit by digit, whatever the offsets: within a millisecond
/// passes the MUST (a client that truncates or rounds to milliseconds), the same instant to
/// every digit the SHOULD.
pub fn cancel_time(served: &str, seen: Option<&str>) -> Vec<Check> {
    let served_at = CancelTime::parse(served).ok();
    let seen_at = seen.and_then(|t| CancelTime::parse(t).ok());
    let seen = seen.unwrap_or("(absent)");
    let (must, should) = (CheckId::CancelTime, CheckId::CancelTimePrecision);
    let (Some(a), Some(b)) = (&served_at, &seen_at) else {
        return vec![must.fail(
            Failure::new(
                "SUCCESS must carry cancelTime as RFC 3339 text",
                served,
                seen,
            )
            .with("served", served)
            .with("surfaced", seen),
        )];
    };
    let compared = |a: &CancelTime, b: &CancelTime| {
        (
            format!("{served} (= {})", utc_text(a)),
            format!("{seen} (= {})", utc_text(b)),
        )
    };
    if !a.within_millisecond(b) {
        let (expected, seen_text) = compared(a, b);
        return vec![must.fail(
            Failure::new(
                "cancelTime must denote the instant served, to the millisecond (mind the offset)",
                expected,
                seen_text,
            )
            .with("served", served)
            .with("surfaced", seen),
        )];
    }
    if a.same_instant(b) {
        return vec![
            must.pass(format!(
                "cancelTime {seen} is the instant served ({served})"
            )),
            should.pass("every fraction digit served is kept"),
        ];
    }
    let fraction = |t: &CancelTime| match t.fraction() {
        "" => "no fraction".to_owned(),
        digits => format!(".{digits}"),
    };
    let message = format!(
        "cancelTime should keep every fraction digit served: served {}, surfaced {}",
        fraction(a),
        fraction(b)
    );
    let (expected, seen_text) = compared(a, b);
    vec![
        must.pass(format!(
            "cancelTime {seen} is the instant served ({served}) to the millisecond"
        )),
        should.fail(
            Failure::new(message, expected, seen_text)
                .with("served", served)
                .with("surfaced", seen),
        ),
    ]
}

/// `outcome.result-code` (MUST), on `FAILED`: the `resultCode` as served. `None` when the
/// served body has none.
pub fn result_code(outcome: &Outcome, served: &Value) -> Option<Check> {
    let code = served
        .pointer("/result/resultCode")
        .and_then(Value::as_str)?;
    let seen = outcome.result_code.as_deref().unwrap_or("(absent)");
    Some(if seen == code {
        CheckId::ResultCode.pass(format!("resultCode {code} as served"))
    } else {
        CheckId::ResultCode.fail(
            Failure::new("FAILED must carry the resultCode as served", code, seen)
                .with("served", code)
                .with("surfaced", seen),
        )
    })
}

/// The instant in UTC with every fraction digit of its text (chrono would stop at nine).
fn utc_text(t: &CancelTime) -> String {
    let utc = t.instant().with_timezone(&chrono::Utc);
    let fraction = match t.fraction() {
        "" => String::new(),
        digits => format!(".{digits}"),
    };
    format!("{}{fraction}Z", utc.format("%Y-%m-%dT%H:%M:%S"))
}

/// A short description of a served answer, for messages: its fault, delay, status, code and
/// signing, and why the gateway answered other than scripted (`note`).
pub fn describe_answer(a: &Answer, note: Option<&str>) -> String {
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
    if let Some(note) = note {
        parts.push(note.to_owned());
    }
    parts.join(", ")
}

/// `SUCCESS`, `FAILED (CODE)`, `UNKNOWN: why`: the outcome as a failure shows it.
fn outcome_summary(o: &Outcome) -> String {
    let mut s = o.outcome.as_str().to_owned();
    if let Some(code) = &o.result_code {
        s.push_str(&format!(" ({code})"));
    }
    if let Some(e) = o.error.as_deref().filter(|e| !e.is_empty()) {
        s.push_str(&format!(": {e}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Level;
    use crate::scenario::Signing;
    use serde_json::json;
    use OutcomeKind::{Failed, Success, Unknown};

    fn answer(body: Value, accept: &[OutcomeKind], prefer: &[OutcomeKind]) -> Answer {
        Answer {
            status: 200,
            body: Some(body),
            raw_body: None,
            signing: Signing::Signed,
            delay_ms: 0,
            fault: None,
            accept: accept.to_vec(),
            prefer: prefer.to_vec(),
        }
    }

    fn f(code: &str) -> Answer {
        answer(
            json!({"result": {"resultCode": code, "resultStatus": "F"}}),
            &[Failed],
            &[],
        )
    }

    /// The description a failing check quotes names each fact of the answer that was served:
    /// a delay only when there was one, the code and status, a non-JSON body apart from an
    /// empty one, the signing policy, and the gateway's note.
    #[test]
    fn an_answer_is_described_by_what_was_served() {
        assert_eq!(
            describe_answer(&f("ORDER_NOT_EXIST"), None),
            "HTTP 200, ORDER_NOT_EXIST (F), signed"
        );
        let mut late = u();
        late.delay_ms = 2500;
        late.signing = Signing::Tampered;
        assert_eq!(
            describe_answer(&late, Some("kit: a note")),
            "delayed 2500 ms, HTTP 200, UNKNOWN_EXCEPTION (U), tampered, kit: a note"
        );
        let mut not_json = f("X");
        not_json.status = 500;
        not_json.body = None;
        not_json.raw_body = Some("<html>".into());
        assert_eq!(
            describe_answer(&not_json, None),
            "HTTP 500, a body that is not JSON, signed"
        );
        not_json.raw_body = Some(String::new());
        assert_eq!(
            describe_answer(&not_json, None),
            "HTTP 500, an empty body, signed"
        );
    }

    fn u() -> Answer {
        answer(
            json!({"result": {"resultCode": "UNKNOWN_EXCEPTION", "resultStatus": "U"}}),
            &[Unknown],
            &[],
        )
    }

    fn success_body() -> Value {
        json!({
            "result": {"resultCode": "SUCCESS", "resultStatus": "S"},
            "paymentId": "p1",
            "paymentRequestId": "r1",
            "cancelTime": "2019-06-12T19:07:11.1235+08:00",
        })
    }

    fn sent<'a>(body: &'a [u8], answer: &'a Answer) -> Answered<'a> {
        Answered {
            request_body: body,
            answer,
            note: None,
        }
    }

    fn outcome(kind: OutcomeKind) -> Outcome {
        let mut o = Outcome::bare(kind, "");
        o.error = None;
        o
    }

    /// The check failed, at its contract level, with these texts.
    fn assert_failed(check: &Check, id: CheckId, expected: &str, seen: &str) {
        assert_eq!(check.id, id.name());
        assert_eq!(check.level, id.level());
        assert!(!check.held, "{check:?}");
        assert_eq!(check.expected.as_deref(), Some(expected), "{check:?}");
        assert_eq!(check.seen.as_deref(), Some(seen), "{check:?}");
        assert_eq!(check.rule, id.rule());
    }

    #[test]
    fn count_holds_from_one_to_five() {
        for n in 1..=MAX_REQUESTS {
            assert!(requests_count(n, false).unwrap().held);
        }
        assert_eq!(requests_count(0, true), None);
    }

    #[test]
    fn count_fails_for_none_and_for_six() {
        let none = requests_count(0, false).unwrap();
        assert_failed(
            &none,
            CheckId::RequestsCount,
            "1 to 5 requests",
            "no request reached the gateway",
        );
        let six = requests_count(6, false).unwrap();
        assert_failed(
            &six,
            CheckId::RequestsCount,
            "at most 5 requests",
            "6 requests",
        );
        assert_eq!(six.level, Level::Must);
    }

    #[test]
    fn tls_refused_and_local_validation_fail_for_any_request() {
        assert_eq!(tls_refused(0), None);
        let tls = tls_refused(2).unwrap();
        assert_failed(&tls, CheckId::TlsRefused, "0 requests", "2 request(s)");
        assert_eq!(tls.rule, "docs/contract.md#outcome-rules (TLS)");
        assert_eq!(local_validation(0), None);
        let local = local_validation(1).unwrap();
        assert_failed(
            &local,
            CheckId::LocalValidation,
            "0 requests",
            "1 request(s)",
        );
        assert_eq!(
            (local.level, local.rule.as_str()),
            (Level::Should, "docs/contract.md#local-validation")
        );
    }

    #[test]
    fn a_retry_after_a_definitive_answer_fails() {
        let (final_f, open) = (f("ORDER_NOT_EXIST"), u());
        let body = br#"{"paymentId":"p1"}"#;
        assert!(
            no_retry_after_final(&[sent(body, &open), sent(body, &final_f)])
                .unwrap()
                .held
        );
        let check = no_retry_after_final(&[sent(body, &final_f), sent(body, &open)]).unwrap();
        assert_failed(
            &check,
            CheckId::NoRetryAfterFinal,
            "1 request(s)",
            "2 requests",
        );
        assert!(
            check.message.starts_with(
                "request 1 got a definitive answer (HTTP 200, ORDER_NOT_EXIST (F), signed)"
            ),
            "{}",
            check.message
        );
        assert_eq!(no_retry_after_final(&[]), None);
    }

    #[test]
    fn a_retry_with_other_ids_fails() {
        let open = u();
        let first = br#"{"paymentId":"p1","paymentRequestId":null}"#;
        let same = br#"{"paymentId":"p1"}"#;
        let other = br#"{"paymentId":"p2"}"#;
        assert_eq!(same_ids(&[sent(first, &open)]), None);
        assert!(
            same_ids(&[sent(first, &open), sent(same, &open)])
                .unwrap()
                .held
        );
        let check = same_ids(&[sent(first, &open), sent(same, &open), sent(other, &open)]).unwrap();
        assert_failed(
            &check,
            CheckId::SameIds,
            r#"["p1",null,null]"#,
            r#"["p2",null,null]"#,
        );
        assert_eq!(
            check.message,
            "retry 3 must carry the same ids as the first request"
        );
    }

    #[test]
    fn the_last_answer_decides_the_kind() {
        let (open, final_f) = (u(), f("ORDER_NOT_EXIST"));
        let body = b"{}";
        let judged = JudgedAgainst::last(&[sent(body, &open), sent(body, &final_f)], &[]);
        assert_eq!(judged.accept, [Failed]);
        assert!(outcome_kind(&judged, &outcome(Failed)).unwrap().held);
        let mut unknown = outcome(Unknown);
        unknown.error = Some("gave up".into());
        let check = outcome_kind(&judged, &unknown).unwrap();
        assert_failed(&check, CheckId::OutcomeKind, "FAILED", "UNKNOWN: gave up");
    }

    #[test]
    fn without_a_request_the_scenario_decides_the_kind() {
        let judged = JudgedAgainst::last(&[], &[OutcomeKind::InvalidRequest]);
        assert_eq!(judged.what, "no request was sent");
        assert!(
            outcome_kind(&judged, &outcome(OutcomeKind::InvalidRequest))
                .unwrap()
                .held
        );
        let check = outcome_kind(&judged, &outcome(Unknown)).unwrap();
        assert_failed(&check, CheckId::OutcomeKind, "INVALID_REQUEST", "UNKNOWN");
        assert_eq!(
            outcome_kind(&JudgedAgainst::last(&[], &[]), &outcome(Unknown)),
            None
        );
    }

    #[test]
    fn an_accepted_outcome_that_is_not_preferred_is_a_should_failure() {
        let foreign = answer(success_body(), &[Unknown, Success], &[Unknown]);
        let judged = JudgedAgainst::last(&[sent(b"{}", &foreign)], &[]);
        assert!(outcome_preferred(&judged, Unknown).unwrap().held);
        let check = outcome_preferred(&judged, Success).unwrap();
        assert_failed(&check, CheckId::OutcomePreferred, "UNKNOWN", "SUCCESS");
        assert_eq!(
            outcome_preferred(&judged, Failed),
            None,
            "not accepted: kind's to report"
        );
    }

    #[test]
    fn success_must_echo_the_ids_served() {
        let body = success_body();
        let mut o = outcome(Success);
        o.payment_id = Some("p1".into());
        assert!(payment_id(&o, &body).held);
        let check = payment_request_id(&o, &body);
        assert_failed(&check, CheckId::OutcomePaymentRequestId, "r1", "(absent)");
        o.payment_id = Some("p2".into());
        assert_failed(
            &payment_id(&o, &body),
            CheckId::OutcomePaymentId,
            "p1",
            "p2",
        );
        let unserved = payment_id(&o, &json!({}));
        assert_eq!(unserved.expected.as_deref(), Some("(not served)"));
    }

    #[test]
    fn cancel_time_the_same_instant_keeps_both() {
        let checks = cancel_time(
            "2019-06-12T19:07:11.1235+08:00",
            Some("2019-06-12T11:07:11.1235Z"),
        );
        assert_eq!(checks.len(), 2);
        assert!(checks.iter().all(|c| c.held), "{checks:?}");
        assert_eq!(checks[1].id, "outcome.cancelTime-precision");
    }

    #[test]
    fn cancel_time_to_the_millisecond_loses_only_the_should() {
        let checks = cancel_time(
            "2019-06-12T19:07:11.1235+08:00",
            Some("2019-06-12T11:07:11.123Z"),
        );
        assert!(checks[0].held);
        assert_failed(
            &checks[1],
            CheckId::CancelTimePrecision,
            "2019-06-12T19:07:11.1235+08:00 (= 2019-06-12T11:07:11.1235Z)",
            "2019-06-12T11:07:11.123Z (= 2019-06-12T11:07:11.123Z)",
        );
        assert_eq!(
            checks[1].message,
            "cancelTime should keep every fraction digit served: served .1235, surfaced .123"
        );
    }

    #[test]
    fn cancel_time_off_by_the_offset_or_absent_fails() {
        let checks = cancel_time("2019-06-12T19:07:11+08:00", Some("2019-06-12T19:07:11Z"));
        assert_eq!(checks.len(), 1);
        assert_failed(
            &checks[0],
            CheckId::CancelTime,
            "2019-06-12T19:07:11+08:00 (= 2019-06-12T11:07:11Z)",
            "2019-06-12T19:07:11Z (= 2019-06-12T19:07:11Z)",
        );
        let absent = cancel_time("2019-06-12T19:07:11+08:00", None);
        assert_failed(
            &absent[0],
            CheckId::CancelTime,
            "2019-06-12T19:07:11+08:00",
            "(absent)",
        );
    }

    #[test]
    fn failed_must_carry_the_code_served() {
        let body = json!({"result": {"resultCode": "ORDER_NOT_EXIST", "resultStatus": "F"}});
        let mut o = outcome(Failed);
        o.result_code = Some("ORDER_NOT_EXIST".into());
        assert!(result_code(&o, &body).unwrap().held);
        o.result_code = Some("PROCESS_FAIL".into());
        let check = result_code(&o, &body).unwrap();
        assert_failed(
            &check,
            CheckId::ResultCode,
            "ORDER_NOT_EXIST",
            "PROCESS_FAIL",
        );
        assert_eq!(result_code(&o, &json!({})), None);
    }

    fn scenario(id: &str) -> Scenario {
        let catalogue = crate::scenario::Catalogue::embedded().expect("the catalogue loads");
        catalogue.get(id).expect(id).clone()
    }

    #[test]
    fn a_local_validation_request_answered_param_illegal_is_judged_in_report_order() {
        let scenario = scenario("request/missing-ids");
        let refusal = answer(
            json!({"result": {"resultCode": "PARAM_ILLEGAL", "resultStatus": "F"}}),
            &[Failed],
            &[],
        );
        let mut o = outcome(Failed);
        o.result_code = Some("PARAM_ILLEGAL".into());
        let checks = check_outcome(&scenario, &[sent(b"{}", &refusal)], Some(&o));
        let ids: Vec<(&str, bool)> = checks.iter().map(|c| (c.id.as_str(), c.held)).collect();
        assert_eq!(
            ids,
            [
                ("requests.local-validation", false),
                ("requests.count", true),
                ("requests.no-retry-after-final", true),
                ("outcome.kind", true),
                ("outcome.result-code", true),
            ]
        );
    }

    #[test]
    fn without_an_outcome_no_request_blames_nobody_and_the_outcome_is_not_judged() {
        let scenario = scenario("retry/u-then-success");
        assert_eq!(check_outcome(&scenario, &[], None), []);
        let checks = check_outcome(&scenario, &[], Some(&outcome(Unknown)));
        let ids: Vec<&str> = checks.iter().map(|c| c.id.as_str()).collect();
        // Nothing is accepted without a request: the missing request is the one failure.
        assert_eq!(ids, ["requests.count"]);
        assert!(!checks[0].held);
    }

    #[test]
    fn a_request_over_untrusted_tls_fails_tls_refused_first() {
        let scenario = scenario("tls/untrusted-certificate");
        let s = answer(success_body(), &[Unknown], &[]);
        let checks = check_outcome(&scenario, &[sent(b"{}", &s)], None);
        assert_eq!(checks[0].id, "requests.tls-refused");
        assert!(!checks[0].held);
        assert_eq!(checks.len(), 3, "{checks:?}");
    }
}
