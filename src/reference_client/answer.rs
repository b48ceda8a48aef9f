//! Reading the gateway's answer: the signature checked, the body parsed, and the outcome a
//! correct client surfaces (or the one a defect makes it surface), printed in its styles.

use serde_json::{Map, Value};

use crate::protocol::{Outcome, OutcomeKind};
use crate::signature::{self, SignatureHeader, VerifyingKey};
use crate::spec::endpoint::header;
use crate::spec::{CancelResponse, ResultStatus};

use super::transport::Received;
use super::{Behaviour, Crash, Defect, Defects, Style, Styles};

/// What one attempt (one HTTP exchange) came to.
pub(super) enum Attempt {
    /// A conclusion to surface at once.
    Final(Outcome),
    /// The result is still open: call again if attempts remain.
    Open(Outcome),
}

pub(super) fn interpret(
    r: &Received,
    path: &str,
    client_id: &str,
    vendor: &VerifyingKey,
    behaviour: &Behaviour,
) -> Result<Attempt, Crash> {
    let has = |d| behaviour.has(d);
    let open = |why: String| {
        let kind = if has(Defect::TransportErrorAsFailure) {
            OutcomeKind::Failed
        } else {
            OutcomeKind::Unknown
        };
        Ok(if kind == OutcomeKind::Failed {
            let mut o = Outcome::bare(kind, why);
            o.result_code = Some("TRANSPORT_ERROR".into());
            Attempt::Final(o)
        } else {
            Attempt::Open(Outcome::bare(kind, why))
        })
    };
    if r.status != 200 {
        return open(format!("HTTP status {}: a transport error", r.status));
    }
    if has(Defect::CrashOnUnknownField) || has(Defect::CrashOnUnknownCode) {
        crash_checks(&r.body, &behaviour.defects)?;
    }
    let response = match CancelResponse::from_slice(&r.body) {
        Ok(resp) => resp,
        Err(e) => {
            return Ok(Attempt::Open(Outcome::bare(
                OutcomeKind::Unknown,
                format!("no usable answer: {e}"),
            )))
        }
    };
    if !has(Defect::NoResponseVerification) {
        let status = response.result.result_status;
        if let Some(why) = unverified(r, status, (path, client_id, vendor), behaviour) {
            return Ok(Attempt::Open(with_result(
                Outcome::bare(OutcomeKind::Unknown, why),
                &response,
            )));
        }
    }
    Ok(conclude(&response, behaviour))
}

/// Why the answer cannot be believed, if it cannot: unsigned success, another client's
/// answer, a broken or wrong signature, half the signing headers.
fn unverified(
    r: &Received,
    status: ResultStatus,
    (path, client_id, vendor): (&str, &str, &VerifyingKey),
    behaviour: &Behaviour,
) -> Option<String> {
    match (r.header(header::SIGNATURE), r.header(header::RESPONSE_TIME)) {
        // The gateway may refuse an unauthenticated request without signing; only a refusal
        // can be believed unsigned, never a success.
        (None, None) if status == ResultStatus::S => {
            Some("an unsigned success answer cannot be trusted".into())
        }
        (None, None) => None,
        (Some(sig), Some(time)) => {
            if r.header(header::CLIENT_ID).is_some_and(|c| c != client_id) {
                return Some(format!(
                    "the answer is for client id `{}`, not `{client_id}`",
                    r.header(header::CLIENT_ID).unwrap_or_default()
                ));
            }
            // The defect: a client that treats "nothing to verify" as "verified".
            if behaviour.has(Defect::AcceptEmptySignature) && sig.trim_end().ends_with("signature=")
            {
                return None;
            }
            let header = match SignatureHeader::parse(sig) {
                Ok(h) => h,
                Err(e) => return Some(format!("response signature header: {e}")),
            };
            signature::verify(vendor, path, client_id, time, &r.body, &header.signature)
                .err()
                .map(|e| format!("response signature: {e}"))
        }
        _ => Some("the answer carries only one of `signature` and `response-time`".into()),
    }
}

/// What a believed answer concludes, by its `resultStatus` (and the defects that misread it).
fn conclude(response: &CancelResponse, behaviour: &Behaviour) -> Attempt {
    let has = |d| behaviour.has(d);
    match response.result.result_status {
        ResultStatus::S => {
            let mut o = with_result(Outcome::bare(OutcomeKind::Success, ""), response);
            o.error = None;
            o.payment_id = response.payment_id.as_ref().map(|p| p.as_str().to_owned());
            o.payment_request_id = response
                .payment_request_id
                .as_ref()
                .map(|p| p.as_str().to_owned());
            o.cancel_time = response.cancel_time.as_ref().map(|t| {
                if has(Defect::IgnoreCancelTimeOffset) {
                    t.instant().naive_local().and_utc().to_rfc3339()
                } else if has(Defect::MisreadOddOffset) {
                    misread_odd_offset(t.instant()).to_rfc3339()
                } else {
                    styled_cancel_time(t.instant(), &behaviour.styles)
                }
            });
            Attempt::Final(o)
        }
        ResultStatus::F => {
            let mut o = with_result(Outcome::bare(OutcomeKind::Failed, ""), response);
            o.error = None;
            Attempt::Final(o)
        }
        ResultStatus::U => {
            let kind = if has(Defect::UnknownAsFailure) {
                OutcomeKind::Failed
            } else {
                OutcomeKind::Unknown
            };
            let mut o = with_result(Outcome::bare(kind, "the result is unknown (U)"), response);
            if kind == OutcomeKind::Failed {
                o.error = None;
                Attempt::Final(o)
            } else {
                Attempt::Open(o)
            }
        }
    }
}

/// `cancelTime` as a client of these styles writes it: every digit chrono holds (nanoseconds,
/// 0, 3, 6 or 9 digits) in the served offset; or, for `millis`, JavaScript's
/// `toISOString()` of the instant truncated to the millisecond; or, for `micros`, Python's
/// `isoformat()` of the instant truncated to the microsecond, in the served offset.
fn styled_cancel_time(t: chrono::DateTime<chrono::FixedOffset>, styles: &Styles) -> String {
    use chrono::{SecondsFormat, Timelike};
    if styles.contains(&Style::Millis) {
        let millis = t.timestamp_millis();
        return chrono::DateTime::from_timestamp_millis(millis).map_or_else(String::new, |utc| {
            utc.to_rfc3339_opts(SecondsFormat::Millis, true)
        });
    }
    if styles.contains(&Style::Micros) {
        // A leap second's nanosecond is a billion or more; Python has no leap seconds.
        let micros = t.nanosecond() % 1_000_000_000 / 1_000;
        let fraction = if micros == 0 {
            String::new()
        } else {
            format!(".{micros:06}")
        };
        return format!(
            "{}{fraction}{}",
            t.format("%Y-%m-%dT%H:%M:%S"),
            t.format("%:z")
        );
    }
    t.to_rfc3339()
}

/// The outcome line as a client of these styles prints it (without the line break): the
/// members it has, or with `nulls` every member of the protocol, `null` where it has no value.
pub fn outcome_line(outcome: &Outcome, styles: &Styles) -> String {
    let value = serde_json::to_value(outcome).unwrap_or_default();
    if !styles.contains(&Style::Nulls) {
        return value.to_string();
    }
    let mut members = value.as_object().cloned().unwrap_or_default();
    let line: Map<String, Value> = Outcome::MEMBERS
        .iter()
        .map(|m| (m.to_string(), members.remove(*m).unwrap_or(Value::Null)))
        .collect();
    Value::Object(line).to_string()
}

/// The `MisreadOddOffset` defect: an offset whose minutes are 45 loses them.
fn misread_odd_offset(
    t: chrono::DateTime<chrono::FixedOffset>,
) -> chrono::DateTime<chrono::FixedOffset> {
    let seconds = t.offset().local_minus_utc();
    if seconds.abs() % 3600 != 45 * 60 {
        return t;
    }
    let hours_only = chrono::FixedOffset::east_opt(seconds / 3600 * 3600).expect("within a day");
    t.naive_local()
        .and_local_timezone(hours_only)
        .single()
        .unwrap_or(t)
}

fn with_result(mut outcome: Outcome, response: &CancelResponse) -> Outcome {
    outcome.result_code = Some(response.result.result_code.as_str().to_owned());
    outcome.result_status = Some(response.result.result_status.as_str().to_owned());
    outcome.result_message = response.result.result_message.clone();
    outcome
}

/// The crash defects: a brittle client that dies on what it does not know.
fn crash_checks(body: &[u8], defects: &Defects) -> Result<(), Crash> {
    let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(body) else {
        return Ok(());
    };
    if defects.contains(&Defect::CrashOnUnknownField) {
        let known = CancelResponse::MEMBERS;
        if let Some(k) = top.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(Crash(format!("unknown field `{k}`")));
        }
    }
    if defects.contains(&Defect::CrashOnUnknownCode) {
        if let Some(code) = top
            .get("result")
            .and_then(|r| r.get("resultCode"))
            .and_then(Value::as_str)
        {
            if crate::spec::ResultCode::from(code).row().is_none() {
                return Err(Crash(format!("unknown result code `{code}`")));
            }
        }
    }
    Ok(())
}
