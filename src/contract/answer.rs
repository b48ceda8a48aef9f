//! The classes of answer of the outcome rules (`docs/contract.md#outcome-rules`), read off the
//! raw bytes of an answer, and what a correct client may conclude from each. This is the one
//! place that says which outcomes each class accepts: the gateway's refusals, `fuzz`'s
//! generated answers and the catalogue's scripted ones (by a test) agree with it.
//!
//! `proxy` classifies live answers with it (the real gateway's, or the sandbox's), where no
//! scenario says what was meant: the class comes from the status, the body and the signature
//! headers alone, by the same rules the catalogue's scripted answers follow.
//!
//! # Example
//! ```
//! use alipay_cancel_kit::contract::{classify, AnswerClass, RawAnswer};
//! use alipay_cancel_kit::protocol::OutcomeKind;
//! let body = br#"{"result":{"resultCode":"ORDER_NOT_EXIST","resultStatus":"F"}}"#;
//! let answer = RawAnswer {
//!     path: "/ams/api/v1/payments/cancel",
//!     request_client_id: "TEST_5YBZ1",
//!     status: 200,
//!     headers: &[("client-id".into(), "TEST_5YBZ1".into())],
//!     body,
//! };
//! // Neither `signature` nor `response-time`: an unsigned F, which a client may believe.
//! let classified = classify(&answer, None);
//! assert_eq!(classified.class, AnswerClass::UnsignedFailure);
//! assert_eq!(classified.accepts, vec![OutcomeKind::Failed, OutcomeKind::Unknown]);
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::protocol::OutcomeKind;
use crate::scenario::{Answer, Signing, Transport};
use crate::signature::{self, VerifyingKey};
use crate::spec::endpoint::header;
use crate::spec::ResultStatus;

/// The classes of answer of the outcome rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnswerClass {
    /// `S`, correctly signed: `SUCCESS`, definitive.
    SignedSuccess,
    /// `F`, correctly signed: `FAILED` with its code, definitive.
    SignedFailure,
    /// `U`, correctly signed: `UNKNOWN`; calling again is allowed.
    SignedUnknown,
    /// `F` with neither `signature` nor `response-time`: `FAILED` or `UNKNOWN`.
    UnsignedFailure,
    /// `U` with neither `signature` nor `response-time`: `UNKNOWN`.
    UnsignedUnknown,
    /// `S` with neither: never believed, `UNKNOWN`.
    UnsignedSuccess,
    /// Only one of `signature` and `response-time`: believe nothing, `UNKNOWN`.
    SignatureHalfMissing,
    /// A signature that is empty, does not parse, or does not verify (another key, another
    /// body): `UNKNOWN`.
    SignatureInvalid,
    /// Signed, and verifying, but for another client id: `UNKNOWN` preferred.
    ForeignClientId,
    /// No usable answer: a status other than 200, a body that is not JSON, `result` missing,
    /// `resultStatus` not `S`, `F` or `U`: `UNKNOWN`.
    NoUsableAnswer,
    /// Signed, but not verified: no vendor public key was given. Believable if it verifies.
    SignatureNotChecked,
}

impl AnswerClass {
    /// The id reports use, e.g. `signed-success`.
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerClass::SignedSuccess => "signed-success",
            AnswerClass::SignedFailure => "signed-failure",
            AnswerClass::SignedUnknown => "signed-unknown",
            AnswerClass::UnsignedFailure => "unsigned-failure",
            AnswerClass::UnsignedUnknown => "unsigned-unknown",
            AnswerClass::UnsignedSuccess => "unsigned-success",
            AnswerClass::SignatureHalfMissing => "signature-half-missing",
            AnswerClass::SignatureInvalid => "signature-invalid",
            AnswerClass::ForeignClientId => "foreign-client-id",
            AnswerClass::NoUsableAnswer => "no-usable-answer",
            AnswerClass::SignatureNotChecked => "signature-not-checked",
        }
    }

    /// A correctly signed answer with `status`.
    pub const fn signed(status: ResultStatus) -> AnswerClass {
        match status {
            ResultStatus::S => AnswerClass::SignedSuccess,
            ResultStatus::F => AnswerClass::SignedFailure,
            ResultStatus::U => AnswerClass::SignedUnknown,
        }
    }

    /// An answer with `status` and neither `signature` nor `response-time`.
    pub const fn unsigned(status: ResultStatus) -> AnswerClass {
        match status {
            ResultStatus::S => AnswerClass::UnsignedSuccess,
            ResultStatus::F => AnswerClass::UnsignedFailure,
            ResultStatus::U => AnswerClass::UnsignedUnknown,
        }
    }

    /// The outcomes a correct client may surface when an answer of this class is the last it
    /// received. `status` is the answer's `resultStatus`: the two classes whose outcomes depend
    /// on it (a foreign client id, a signature not checked) accept what it says besides
    /// `UNKNOWN`.
    ///
    /// # Example
    /// ```
    /// use alipay_cancel_kit::contract::AnswerClass;
    /// use alipay_cancel_kit::protocol::OutcomeKind::{Failed, Unknown};
    /// use alipay_cancel_kit::spec::ResultStatus;
    /// assert_eq!(AnswerClass::UnsignedFailure.accepts(ResultStatus::F), [Failed, Unknown]);
    /// assert_eq!(AnswerClass::SignedFailure.accepts(ResultStatus::F), [Failed]);
    /// ```
    pub fn accepts(self, status: ResultStatus) -> Vec<OutcomeKind> {
        use OutcomeKind::{Failed, Success, Unknown};
        let said = match status {
            ResultStatus::S => Success,
            ResultStatus::F => Failed,
            ResultStatus::U => Unknown,
        };
        let mut accepts = match self {
            AnswerClass::SignedSuccess => vec![Success],
            AnswerClass::SignedFailure => vec![Failed],
            AnswerClass::UnsignedFailure => vec![Failed, Unknown],
            AnswerClass::ForeignClientId => vec![Unknown, said],
            AnswerClass::SignatureNotChecked => vec![said, Unknown],
            AnswerClass::SignedUnknown
            | AnswerClass::UnsignedUnknown
            | AnswerClass::UnsignedSuccess
            | AnswerClass::SignatureHalfMissing
            | AnswerClass::SignatureInvalid
            | AnswerClass::NoUsableAnswer => vec![Unknown],
        };
        accepts.dedup();
        accepts
    }

    /// Among [`AnswerClass::accepts`], the outcomes a client should prefer (empty: any).
    pub fn prefers(self) -> Vec<OutcomeKind> {
        match self {
            AnswerClass::ForeignClientId => vec![OutcomeKind::Unknown],
            _ => Vec::new(),
        }
    }

    /// Whether the client must not call again after an answer of this class (no `UNKNOWN`
    /// accepted).
    pub fn is_definitive(self, status: ResultStatus) -> bool {
        !self.accepts(status).contains(&OutcomeKind::Unknown)
    }
}

/// An answer as it came over the wire, with the request facts it is judged against.
#[derive(Clone, Copy, Debug)]
pub struct RawAnswer<'a> {
    /// The path the request called (the string to sign uses it).
    pub path: &'a str,
    /// The request's `Client-Id`.
    pub request_client_id: &'a str,
    /// HTTP status.
    pub status: u16,
    /// Header fields, names in lower case.
    pub headers: &'a [(String, String)],
    /// The raw body.
    pub body: &'a [u8],
}

impl RawAnswer<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An answer's class and what a correct client may conclude from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Classified {
    /// The class.
    pub class: AnswerClass,
    /// `resultStatus` and `resultCode`, when the body has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<(String, String)>,
    /// Why it is in that class, for humans.
    pub why: String,
    /// The outcomes a correct client may surface when this is the last answer it received.
    pub accepts: Vec<OutcomeKind>,
    /// Among them, the ones it should prefer (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefer: Vec<OutcomeKind>,
}

impl Classified {
    /// The class's outcomes, for an answer with `status` (`U` where no status was usable).
    fn new(class: AnswerClass, why: impl Into<String>, status: &str) -> Classified {
        let status = status.parse().unwrap_or(ResultStatus::U);
        Classified {
            class,
            result: None,
            why: why.into(),
            accepts: class.accepts(status),
            prefer: class.prefers(),
        }
    }

    /// Whether the client must not call again after it (no `UNKNOWN` accepted).
    pub fn is_definitive(&self) -> bool {
        !self.accepts.contains(&OutcomeKind::Unknown)
    }
}

/// Classifies an answer by the outcome rules. `vendor` verifies the signature; without it a
/// signed answer is [`AnswerClass::SignatureNotChecked`].
pub fn classify(answer: &RawAnswer<'_>, vendor: Option<&VerifyingKey>) -> Classified {
    let Some((status, code)) = usable(answer) else {
        let why = unusable_why(answer);
        return Classified::new(AnswerClass::NoUsableAnswer, why, "U");
    };
    let mut classified = signed_class(answer, &status, vendor);
    if classified.class == AnswerClass::SignedSuccess {
        // A verified signature still has to be this merchant's.
        let echoed = answer.header(header::CLIENT_ID).unwrap_or_default();
        if echoed != answer.request_client_id {
            classified = Classified::new(
                AnswerClass::ForeignClientId,
                format!(
                    "signed for client id `{echoed}`, not the request's `{}`",
                    answer.request_client_id
                ),
                &status,
            );
        }
    }
    classified.result = Some((status, code));
    classified
}

/// `resultStatus` and `resultCode` of a usable answer: HTTP 200, a JSON object with a `result`
/// whose `resultStatus` is one of the strings `S`, `F`, `U`.
fn usable(answer: &RawAnswer<'_>) -> Option<(String, String)> {
    if answer.status != 200 {
        return None;
    }
    let body: Value = serde_json::from_slice(answer.body).ok()?;
    let result = body.get("result")?;
    let status = result.get("resultStatus")?.as_str()?;
    if !matches!(status, "S" | "F" | "U") {
        return None;
    }
    let code = result
        .get("resultCode")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Some((status.to_owned(), code.to_owned()))
}

fn unusable_why(answer: &RawAnswer<'_>) -> String {
    if answer.status != 200 {
        return format!("HTTP {}", answer.status);
    }
    match serde_json::from_slice::<Value>(answer.body) {
        Err(_) if answer.body.is_empty() => "an empty body".into(),
        Err(e) => format!("a body that is not JSON ({e})"),
        Ok(body) => match body.get("result") {
            None => "no `result`".into(),
            Some(result) => format!(
                "`resultStatus` {} is not S, F or U",
                result.get("resultStatus").unwrap_or(&Value::Null)
            ),
        },
    }
}

/// The class by the signature headers, for a usable answer with `status`.
fn signed_class(answer: &RawAnswer<'_>, status: &str, vendor: Option<&VerifyingKey>) -> Classified {
    let signature = answer.header(header::SIGNATURE);
    let time = answer.header(header::RESPONSE_TIME);
    let (signature, time) = match (signature, time) {
        (None, None) => return match status {
            "F" => Classified::new(
                AnswerClass::UnsignedFailure,
                "F with neither signature nor response-time (a refusal the gateway cannot sign)",
                status,
            ),
            "U" => Classified::new(AnswerClass::UnsignedUnknown, "U, unsigned", status),
            _ => Classified::new(
                AnswerClass::UnsignedSuccess,
                "S without a signature: never believed",
                status,
            ),
        },
        (Some(signature), Some(time)) => (signature, time),
        (signature, _) => {
            let missing = if signature.is_none() {
                header::SIGNATURE
            } else {
                header::RESPONSE_TIME
            };
            return Classified::new(
                AnswerClass::SignatureHalfMissing,
                format!("{missing} is missing while the other is present: believe nothing"),
                status,
            );
        }
    };
    let Some(vendor) = vendor else {
        // Believable if it verifies, which cannot be told: what the status says, or UNKNOWN.
        return Classified::new(
            AnswerClass::SignatureNotChecked,
            "signed, not verified: no --alipay-public-key",
            status,
        );
    };
    let verifies = |client_id: &str| {
        signature::SignatureHeader::parse(signature)
            .map_err(|e| e.to_string())
            .and_then(|header| {
                let (path, body) = (answer.path, answer.body);
                signature::verify(vendor, path, client_id, time, body, &header.signature)
                    .map_err(|e| e.to_string())
            })
    };
    if let Err(why) = verifies(answer.request_client_id) {
        // Signed for the client id it echoes (as Python and Go verify), not the request's?
        let echoed = answer.header(header::CLIENT_ID).unwrap_or_default();
        if echoed != answer.request_client_id && verifies(echoed).is_ok() {
            return Classified::new(
                AnswerClass::ForeignClientId,
                format!(
                    "signed for client id `{echoed}`, not the request's `{}`",
                    answer.request_client_id
                ),
                status,
            );
        }
        return Classified::new(
            AnswerClass::SignatureInvalid,
            format!("the signature does not verify with the vendor key: {why}"),
            status,
        );
    }
    match status {
        "S" => Classified::new(AnswerClass::SignedSuccess, "S, correctly signed", status),
        "F" => Classified::new(AnswerClass::SignedFailure, "F, correctly signed", status),
        _ => Classified::new(AnswerClass::SignedUnknown, "U, correctly signed", status),
    }
}

/// The class of a scripted answer (one the mock gateway renders), with the `resultStatus` it
/// serves: the class [`classify`] gives the bytes the gateway sends for it. A transport fault,
/// a status other than 200 or a body without a usable `resultStatus` is no usable answer;
/// otherwise the signing policy decides.
pub fn scripted_class(answer: &Answer) -> (AnswerClass, ResultStatus) {
    let status = answer
        .body
        .as_ref()
        .and_then(crate::scenario::served_status);
    let status = match status {
        Some(status) if answer.fault.is_none() && answer.status == 200 => status,
        _ => return (AnswerClass::NoUsableAnswer, ResultStatus::U),
    };
    let class = match answer.signing {
        Signing::Signed | Signing::SignedLowercaseEscapes | Signing::SignedSpaced => {
            AnswerClass::signed(status)
        }
        Signing::Unsigned => AnswerClass::unsigned(status),
        Signing::NoResponseTime => AnswerClass::SignatureHalfMissing,
        Signing::ForeignClientId => AnswerClass::ForeignClientId,
        // Both headers present; the signature is empty, or over other bytes, or by another key
        // (an empty `response-time` is signed over a tampered body).
        Signing::EmptySignature
        | Signing::Tampered
        | Signing::OtherKey
        | Signing::RawBase64Tampered
        | Signing::EmptyResponseTime => AnswerClass::SignatureInvalid,
    };
    (class, status)
}

/// The outcomes a correct client may surface, and those it should prefer, when `answer` is the
/// last it received, given the instruction's `timeout_ms` and the scenario's `transport`: its
/// class's; for an answer delayed past the timeout, [`late`] ones; and over a connection the
/// client must not trust (an untrusted certificate, a wrong host name), only `UNKNOWN`, as for
/// no usable answer.
///
/// # Example
/// ```
/// use alipay_cancel_kit::contract::answer::scripted_accepts;
/// use alipay_cancel_kit::protocol::OutcomeKind::{Success, Unknown};
/// use alipay_cancel_kit::scenario::{Answer, Signing, Transport};
/// let answer = Answer {
///     status: 200,
///     body: Some(serde_json::json!({"result": {"resultCode": "SUCCESS", "resultStatus": "S"}})),
///     raw_body: None,
///     signing: Signing::Signed,
///     delay_ms: 3000,
///     fault: None,
///     accept: vec![],
///     prefer: vec![],
/// };
/// let plain = Transport::Plain;
/// assert_eq!(scripted_accepts(&answer, 5000, plain), (vec![Success], vec![]));
/// assert_eq!(scripted_accepts(&answer, 2000, plain), (vec![Unknown, Success], vec![Unknown]));
/// let untrusted = Transport::TlsUntrusted;
/// assert_eq!(scripted_accepts(&answer, 5000, untrusted), (vec![Unknown], vec![]));
/// ```
pub fn scripted_accepts(
    answer: &Answer,
    timeout_ms: u64,
    transport: Transport,
) -> (Vec<OutcomeKind>, Vec<OutcomeKind>) {
    let (class, status) = match transport {
        Transport::TlsUntrusted | Transport::TlsWrongHostname => {
            (AnswerClass::NoUsableAnswer, ResultStatus::U)
        }
        Transport::Plain | Transport::TlsTrusted => scripted_class(answer),
    };
    let accepts = class.accepts(status);
    if answer.delay_ms >= timeout_ms {
        late(&accepts)
    } else {
        (accepts, class.prefers())
    }
}

/// The outcomes for an answer delayed past the client's timeout: a client that gave up saw no
/// answer (`UNKNOWN`, preferred); one that waited may surface what the answer itself accepts
/// (`NON_STRICT`). Returns the accepted outcomes and the preferred ones.
pub fn late(accepts: &[OutcomeKind]) -> (Vec<OutcomeKind>, Vec<OutcomeKind>) {
    let mut accept = vec![OutcomeKind::Unknown];
    accept.extend(accepts.iter().filter(|k| **k != OutcomeKind::Unknown));
    let prefer = if accept.len() > 1 {
        vec![OutcomeKind::Unknown]
    } else {
        Vec::new()
    };
    (accept, prefer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Catalogue;
    use std::collections::BTreeSet;

    /// The catalogue's data cannot drift from the contract: every scripted answer accepts
    /// (and prefers) exactly what the contract's class for it does. Order is the data's own
    /// (reports print it), so the lists compare as sets.
    #[test]
    fn every_scripted_answer_of_the_catalogue_accepts_what_its_class_does() {
        let catalogue = Catalogue::embedded().expect("the catalogue loads");
        let set = |list: &[OutcomeKind]| list.iter().map(|k| k.as_str()).collect::<BTreeSet<_>>();
        let mut drift = Vec::new();
        for scenario in catalogue.scenarios() {
            for (i, answer) in scenario.answers.iter().enumerate() {
                let (accept, prefer) =
                    scripted_accepts(answer, scenario.timeout_ms, scenario.transport);
                if set(&accept) != set(&answer.accept) || set(&prefer) != set(&answer.prefer) {
                    drift.push(format!(
                        "{} answers[{i}] ({:?}): accept {:?} prefer {:?}, the contract says {:?} {:?}",
                        scenario.id,
                        scripted_class(answer).0,
                        answer.accept,
                        answer.prefer,
                        accept,
                        prefer
                    ));
                }
            }
        }
        assert!(drift.is_empty(), "{}", drift.join("\n"));
    }

    #[test]
    fn refusals_and_late_answers() {
        use OutcomeKind::{Failed, Unknown};
        assert_eq!(
            AnswerClass::UnsignedFailure.accepts(ResultStatus::F),
            [Failed, Unknown]
        );
        assert!(!AnswerClass::UnsignedFailure.is_definitive(ResultStatus::F));
        assert!(AnswerClass::SignedFailure.is_definitive(ResultStatus::F));
        assert_eq!(late(&[Unknown]), (vec![Unknown], vec![]));
        assert_eq!(late(&[Failed]), (vec![Unknown, Failed], vec![Unknown]));
    }
}
