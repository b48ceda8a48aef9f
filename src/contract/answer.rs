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
                "signature"
            } else {
                "response-time"
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
