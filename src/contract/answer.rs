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
    /// `resultStatus` not `S`, `F` or `U`, `resultCode` missing or not a string: `UNKNOWN`.
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

/// `resultStatus` and `resultCode` of a usable answer: HTTP 200, a JSON body whose `result` is
/// [usable](usable_result).
fn usable(answer: &RawAnswer<'_>) -> Option<(String, String)> {
    if answer.status != 200 {
        return None;
    }
    let body: Value = serde_json::from_slice(answer.body).ok()?;
    let (status, code) = usable_result(&body)?;
    Some((status.as_str().to_owned(), code.to_owned()))
}

/// The status and code of a body's `result` a client can act on, live ([`classify`]) or
/// scripted ([`scripted_class`]): `resultStatus` one of the strings `S`, `F`, `U` and
/// `resultCode` a string. The result schema requires both, and no client can act on a result
/// without them: a `FAILED` outcome carries the code, and every client the kit knows reads
/// such an answer as unusable.
fn usable_result(body: &Value) -> Option<(ResultStatus, &str)> {
    let result = body.get("result")?;
    let status = result_status(result)?;
    Some((status, result.get("resultCode")?.as_str()?))
}

/// `resultStatus`, when it is one of the strings `S`, `F`, `U`.
fn result_status(result: &Value) -> Option<ResultStatus> {
    ResultStatus::from_wire(result.get("resultStatus")?.as_str()?)
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
            Some(result) => match result_status(result) {
                Some(_) => format!(
                    "`resultCode` {} is not a string",
                    result.get("resultCode").unwrap_or(&Value::Null)
                ),
                None => format!(
                    "`resultStatus` {} is not S, F or U",
                    result.get("resultStatus").unwrap_or(&Value::Null)
                ),
            },
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
        .and_then(usable_result)
        .map(|(status, _)| status);
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
        assert_eq!(late(&[Unknown]), (vec![Unknown], vec![]));
        assert_eq!(late(&[Failed]), (vec![Unknown, Failed], vec![Unknown]));
    }

    /// A scripted HTTP 200 answer with `body`, correctly signed, served after `delay_ms`.
    fn signed_answer(body: Value, delay_ms: u64) -> Answer {
        Answer {
            status: 200,
            body: Some(body),
            raw_body: None,
            signing: Signing::Signed,
            delay_ms,
            fault: None,
            accept: vec![],
            prefer: vec![],
        }
    }

    /// An answer delayed to the client's timeout or past it may not have been seen: `UNKNOWN`
    /// is accepted and preferred. Over a connection the client must not trust, nothing is
    /// believed.
    #[test]
    fn late_answers_and_untrusted_connections() {
        use OutcomeKind::{Success, Unknown};
        let answer = |delay_ms| {
            let body =
                serde_json::json!({"result": {"resultCode": "SUCCESS", "resultStatus": "S"}});
            signed_answer(body, delay_ms)
        };
        let plain = Transport::Plain;
        assert_eq!(
            scripted_accepts(&answer(999), 1000, plain),
            (vec![Success], vec![])
        );
        for delay in [1000, 1001] {
            assert_eq!(
                scripted_accepts(&answer(delay), 1000, plain),
                (vec![Unknown, Success], vec![Unknown]),
                "{delay}"
            );
        }
        assert_eq!(
            scripted_accepts(&answer(0), 1000, Transport::TlsTrusted),
            (vec![Success], vec![])
        );
        for transport in [Transport::TlsUntrusted, Transport::TlsWrongHostname] {
            assert_eq!(
                scripted_accepts(&answer(0), 1000, transport),
                (vec![Unknown], vec![])
            );
        }
    }

    /// Every class, in the order of the outcome rules' table.
    const EVERY_CLASS: [AnswerClass; 11] = [
        AnswerClass::SignedSuccess,
        AnswerClass::SignedFailure,
        AnswerClass::SignedUnknown,
        AnswerClass::UnsignedFailure,
        AnswerClass::UnsignedUnknown,
        AnswerClass::UnsignedSuccess,
        AnswerClass::SignatureHalfMissing,
        AnswerClass::SignatureInvalid,
        AnswerClass::ForeignClientId,
        AnswerClass::NoUsableAnswer,
        AnswerClass::SignatureNotChecked,
    ];

    /// The class ids `proxy` journals and reports, and the JSON spelling of each class: the
    /// same text, pinned.
    #[test]
    fn every_class_has_its_report_id() {
        let ids: Vec<&str> = EVERY_CLASS.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            ids,
            [
                "signed-success",
                "signed-failure",
                "signed-unknown",
                "unsigned-failure",
                "unsigned-unknown",
                "unsigned-success",
                "signature-half-missing",
                "signature-invalid",
                "foreign-client-id",
                "no-usable-answer",
                "signature-not-checked",
            ]
        );
        for class in EVERY_CLASS {
            assert_eq!(serde_json::to_value(class).unwrap(), class.as_str());
        }
    }

    /// The outcome rules' table, class by class and status by status; `UNKNOWN` is accepted
    /// (the answer is not definitive) everywhere but after a correctly signed `S` or `F`.
    #[test]
    fn every_class_accepts_what_the_outcome_rules_say() {
        use OutcomeKind::{Failed, Success, Unknown};
        use ResultStatus::{F, S, U};
        let table: [(AnswerClass, [&[OutcomeKind]; 3]); 11] = [
            (
                AnswerClass::SignedSuccess,
                [&[Success], &[Success], &[Success]],
            ),
            (
                AnswerClass::SignedFailure,
                [&[Failed], &[Failed], &[Failed]],
            ),
            (
                AnswerClass::SignedUnknown,
                [&[Unknown], &[Unknown], &[Unknown]],
            ),
            (AnswerClass::UnsignedFailure, [&[Failed, Unknown]; 3]),
            (AnswerClass::UnsignedUnknown, [&[Unknown]; 3]),
            (AnswerClass::UnsignedSuccess, [&[Unknown]; 3]),
            (AnswerClass::SignatureHalfMissing, [&[Unknown]; 3]),
            (AnswerClass::SignatureInvalid, [&[Unknown]; 3]),
            (
                AnswerClass::ForeignClientId,
                [&[Unknown, Success], &[Unknown, Failed], &[Unknown]],
            ),
            (AnswerClass::NoUsableAnswer, [&[Unknown]; 3]),
            (
                AnswerClass::SignatureNotChecked,
                [&[Success, Unknown], &[Failed, Unknown], &[Unknown]],
            ),
        ];
        for (class, by_status) in table {
            for (status, accepts) in [S, F, U].into_iter().zip(by_status) {
                assert_eq!(class.accepts(status), accepts, "{class:?} {status:?}");
            }
            let prefers: &[OutcomeKind] = if class == AnswerClass::ForeignClientId {
                &[Unknown]
            } else {
                &[]
            };
            assert_eq!(class.prefers(), prefers, "{class:?}");
        }
    }

    const REQUEST_CLIENT_ID: &str = "TEST_5YBZ1";
    const FOREIGN_CLIENT_ID: &str = "TEST_OTHER";
    const PATH: &str = "/ams/api/v1/payments/cancel";
    const TIME: &str = "2023-06-01T14:12:13+08:00";

    fn body(status: &str) -> Vec<u8> {
        format!(r#"{{"result":{{"resultCode":"CODE_{status}","resultStatus":"{status}"}}}}"#)
            .into_bytes()
    }

    fn keys() -> &'static signature::TestKeys {
        crate::contract::request::fixture::keys()
    }

    /// The headers of an answer signed by `key` for `signed_for`, echoing `echoed`.
    fn signed(
        key: &signature::SigningKey,
        signed_for: &str,
        echoed: &str,
        body: &[u8],
    ) -> Vec<(String, String)> {
        let value = signature::sign(key, PATH, signed_for, TIME, body);
        vec![
            (header::CLIENT_ID.into(), echoed.into()),
            (header::RESPONSE_TIME.into(), TIME.into()),
            (
                header::SIGNATURE.into(),
                signature::header_value("1", &value),
            ),
        ]
    }

    fn classified(status: u16, headers: &[(String, String)], body: &[u8]) -> Classified {
        let vendor = keys().vendor.verifying_key();
        let answer = RawAnswer {
            path: PATH,
            request_client_id: REQUEST_CLIENT_ID,
            status,
            headers,
            body,
        };
        classify(&answer, Some(&vendor))
    }

    /// `(class, why)` of a classified answer: the text `proxy` journals beside the class id.
    fn class_and_why(classified: &Classified) -> (&'static str, &str) {
        (classified.class.as_str(), classified.why.as_str())
    }

    #[test]
    fn correctly_signed_answers_are_believed_with_their_status_and_code() {
        for (status, class, why) in [
            ("S", "signed-success", "S, correctly signed"),
            ("F", "signed-failure", "F, correctly signed"),
            ("U", "signed-unknown", "U, correctly signed"),
        ] {
            let body = body(status);
            let headers = signed(&keys().vendor, REQUEST_CLIENT_ID, REQUEST_CLIENT_ID, &body);
            let got = classified(200, &headers, &body);
            assert_eq!(class_and_why(&got), (class, why));
            assert_eq!(got.result, Some((status.into(), format!("CODE_{status}"))));
        }
    }

    /// The result schema requires `resultCode`, and a `FAILED` outcome carries it: a result
    /// without a string code is no usable answer however well signed, live (`proxy`) and
    /// scripted (a scenario file) alike, so a correct client's `UNKNOWN` passes.
    #[test]
    fn a_correctly_signed_result_without_a_string_code_is_no_usable_answer() {
        for result in [
            serde_json::json!({"resultStatus": "F"}),
            serde_json::json!({"resultStatus": "S", "resultCode": null}),
            serde_json::json!({"resultStatus": "U", "resultCode": ["X"]}),
        ] {
            let body = serde_json::json!({ "result": result });
            let bytes = body.to_string().into_bytes();
            let headers = signed(&keys().vendor, REQUEST_CLIENT_ID, REQUEST_CLIENT_ID, &bytes);
            let got = classified(200, &headers, &bytes);
            assert_eq!(got.class, AnswerClass::NoUsableAnswer, "{body}");
            assert_eq!(got.accepts, [OutcomeKind::Unknown], "{body}");
            let scripted = signed_answer(body.clone(), 0);
            assert_eq!(
                scripted_class(&scripted),
                (AnswerClass::NoUsableAnswer, ResultStatus::U),
                "{body}"
            );
            let mut with_code = scripted;
            with_code.body.as_mut().unwrap()["result"]["resultCode"] = "ANY_CODE".into();
            assert_ne!(
                scripted_class(&with_code).0,
                AnswerClass::NoUsableAnswer,
                "{body}"
            );
        }
    }

    /// A signature that verifies for the request's client id, on an `S` that echoes another
    /// merchant's client id, is still not this merchant's answer.
    #[test]
    fn a_verified_success_echoing_another_client_id_is_foreign() {
        let body = body("S");
        let headers = signed(&keys().vendor, REQUEST_CLIENT_ID, FOREIGN_CLIENT_ID, &body);
        let got = classified(200, &headers, &body);
        assert_eq!(
            class_and_why(&got),
            (
                "foreign-client-id",
                "signed for client id `TEST_OTHER`, not the request's `TEST_5YBZ1`"
            )
        );
        assert_eq!(got.accepts, [OutcomeKind::Unknown, OutcomeKind::Success]);
        assert_eq!(got.prefer, [OutcomeKind::Unknown]);
        assert_eq!(got.result, Some(("S".into(), "CODE_S".into())));
    }

    /// Signed for the client id it echoes (another merchant's), as Python and Go verify.
    #[test]
    fn an_answer_signed_for_the_client_id_it_echoes_is_foreign() {
        for status in ["S", "F", "U"] {
            let body = body(status);
            let headers = signed(&keys().vendor, FOREIGN_CLIENT_ID, FOREIGN_CLIENT_ID, &body);
            let got = classified(200, &headers, &body);
            assert_eq!(
                class_and_why(&got),
                (
                    "foreign-client-id",
                    "signed for client id `TEST_OTHER`, not the request's `TEST_5YBZ1`"
                ),
                "{status}"
            );
        }
    }

    /// A signature that verifies for no client id is invalid, whatever client id the answer
    /// echoes: a foreign echo does not make a broken signature "foreign".
    #[test]
    fn an_unverified_answer_is_invalid_whichever_client_id_it_echoes() {
        let mismatch = "the signature does not verify with the vendor key: \
                        signature does not verify over the expected string to sign";
        for echoed in [REQUEST_CLIENT_ID, FOREIGN_CLIENT_ID] {
            for signed_for in [REQUEST_CLIENT_ID, FOREIGN_CLIENT_ID] {
                // Signed over an `F`, served as an `S`: tampered.
                let headers = signed(&keys().vendor, signed_for, echoed, &body("F"));
                let got = classified(200, &headers, &body("S"));
                assert_eq!(
                    class_and_why(&got),
                    ("signature-invalid", mismatch),
                    "echoing {echoed}, signed for {signed_for}"
                );
                assert_eq!(got.accepts, [OutcomeKind::Unknown]);
                // By a key nobody trusts.
                let headers = signed(&keys().other_vendor, signed_for, echoed, &body("S"));
                let got = classified(200, &headers, &body("S"));
                assert_eq!(class_and_why(&got), ("signature-invalid", mismatch));
            }
        }
        let mut headers = signed(
            &keys().vendor,
            REQUEST_CLIENT_ID,
            FOREIGN_CLIENT_ID,
            &body("S"),
        );
        headers[2].1 = "algorithm=RSA256,keyVersion=1".into();
        assert_eq!(
            class_and_why(&classified(200, &headers, &body("S"))),
            (
                "signature-invalid",
                "the signature does not verify with the vendor key: signature header: missing `signature`"
            )
        );
    }

    #[test]
    fn unsigned_and_half_signed_answers() {
        for (status, class, why) in [
            (
                "F",
                "unsigned-failure",
                "F with neither signature nor response-time (a refusal the gateway cannot sign)",
            ),
            ("U", "unsigned-unknown", "U, unsigned"),
            (
                "S",
                "unsigned-success",
                "S without a signature: never believed",
            ),
        ] {
            let echo = [(header::CLIENT_ID.to_owned(), REQUEST_CLIENT_ID.to_owned())];
            let got = classified(200, &echo, &body(status));
            assert_eq!(class_and_why(&got), (class, why));
            assert_eq!(got.result, Some((status.into(), format!("CODE_{status}"))));
        }
        let body = body("S");
        let full = signed(&keys().vendor, REQUEST_CLIENT_ID, REQUEST_CLIENT_ID, &body);
        for (dropped, why) in [
            (
                header::SIGNATURE,
                "signature is missing while the other is present: believe nothing",
            ),
            (
                header::RESPONSE_TIME,
                "response-time is missing while the other is present: believe nothing",
            ),
        ] {
            let half: Vec<_> = full.iter().filter(|(n, _)| n != dropped).cloned().collect();
            let got = classified(200, &half, &body);
            assert_eq!(class_and_why(&got), ("signature-half-missing", why));
        }
    }

    #[test]
    fn without_the_vendor_key_a_signed_answer_is_not_checked() {
        let body = body("F");
        let headers = signed(
            &keys().other_vendor,
            FOREIGN_CLIENT_ID,
            REQUEST_CLIENT_ID,
            &body,
        );
        let answer = RawAnswer {
            path: PATH,
            request_client_id: REQUEST_CLIENT_ID,
            status: 200,
            headers: &headers,
            body: &body,
        };
        let got = classify(&answer, None);
        assert_eq!(
            class_and_why(&got),
            (
                "signature-not-checked",
                "signed, not verified: no --alipay-public-key"
            )
        );
        assert_eq!(got.accepts, [OutcomeKind::Failed, OutcomeKind::Unknown]);
    }

    /// Each way an answer is unusable, with the reason `proxy` journals for it.
    #[test]
    fn every_unusable_answer_says_why() {
        let good = body("S");
        let headers = signed(&keys().vendor, REQUEST_CLIENT_ID, REQUEST_CLIENT_ID, &good);
        for (status, body, why) in [
            (500, &good[..], "HTTP 500"),
            (201, &good[..], "HTTP 201"),
            (200, &b""[..], "an empty body"),
            (
                200,
                &b"<html>"[..],
                "a body that is not JSON (expected value at line 1 column 1)",
            ),
            (200, &b"{}"[..], "no `result`"),
            (200, &b"[]"[..], "no `result`"),
            (
                200,
                &br#"{"result":{"resultCode":"X"}}"#[..],
                "`resultStatus` null is not S, F or U",
            ),
            (
                200,
                &br#"{"result":{"resultStatus":"s"}}"#[..],
                r#"`resultStatus` "s" is not S, F or U"#,
            ),
            (
                200,
                &br#"{"result":{"resultStatus":1}}"#[..],
                "`resultStatus` 1 is not S, F or U",
            ),
            (
                200,
                &br#"{"result":{"resultStatus":"F"}}"#[..],
                "`resultCode` null is not a string",
            ),
            (
                200,
                &br#"{"result":{"resultCode":null,"resultStatus":"S"}}"#[..],
                "`resultCode` null is not a string",
            ),
            (
                200,
                &br#"{"result":{"resultCode":7,"resultStatus":"U"}}"#[..],
                "`resultCode` 7 is not a string",
            ),
        ] {
            let got = classified(status, &headers, body);
            assert_eq!(class_and_why(&got), ("no-usable-answer", why));
            assert_eq!(got.accepts, [OutcomeKind::Unknown]);
            assert_eq!(got.result, None);
        }
    }
}
