//! The adapter protocol (v1): the instruction the kit hands a client and the outcome it reads back.
//!
//! Both are single JSON lines; their shapes are published as `schema/adapter-instruction.schema.json`
//! and `schema/adapter-outcome.schema.json`, and `docs/adapter-protocol.md` states the contract in full.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::spec::describe_value;

/// The protocol version string every instruction carries.
pub const PROTOCOL: &str = "alipay-cancel-kit/1";

/// What a client concluded from a cancel call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutcomeKind {
    /// The gateway confirmed the cancel (`S`, correctly signed).
    Success,
    /// The gateway refused the cancel (`F`).
    Failed,
    /// The client cannot tell whether the payment was cancelled.
    Unknown,
    /// The client refused the instruction locally and sent nothing.
    InvalidRequest,
}

impl OutcomeKind {
    /// Every kind, in the order the protocol lists them.
    pub const ALL: [OutcomeKind; 4] = [
        OutcomeKind::Success,
        OutcomeKind::Failed,
        OutcomeKind::Unknown,
        OutcomeKind::InvalidRequest,
    ];

    /// The kind a wire word names, if it names one (exact case).
    pub fn from_wire(word: &str) -> Option<OutcomeKind> {
        OutcomeKind::ALL.into_iter().find(|k| k.as_str() == word)
    }

    /// The wire word, e.g. `INVALID_REQUEST`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Success => "SUCCESS",
            OutcomeKind::Failed => "FAILED",
            OutcomeKind::Unknown => "UNKNOWN",
            OutcomeKind::InvalidRequest => "INVALID_REQUEST",
        }
    }
}

impl std::fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the client finds the gateway and the keys it needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayInfo {
    /// Base URL, e.g. `http://127.0.0.1:40123` (no path).
    pub url: String,
    /// The merchant's client id, sent as `Client-Id`.
    pub client_id: String,
    /// The merchant private key: base64 of PKCS#8 DER, no armour. Test-only.
    pub merchant_private_key: String,
    /// The vendor public key: base64 of X.509 SubjectPublicKeyInfo DER, no armour. Test-only.
    pub alipay_public_key: String,
    /// The key version to put in the `Signature` header.
    pub key_version: String,
    /// The CA that signed the gateway's certificate (TLS scenarios only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificate_pem: Option<String>,
}

/// One instruction: cancel exactly these fields against this gateway.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instruction {
    /// Always [`PROTOCOL`].
    pub protocol: String,
    /// The scenario id, for the adapter's logs.
    pub scenario: String,
    /// The gateway to call.
    pub gateway: GatewayInfo,
    /// Exactly the body fields to send; they may break the request rules on purpose.
    pub request: Map<String, Value>,
    /// How long the client should allow one HTTP exchange.
    pub timeout_ms: u64,
}

/// The outcome an adapter printed, after it passed the outcome schema.
///
/// Every member but `outcome` is optional, and an explicit `null` reads as absent: the
/// serializers of Java (Jackson's default), .NET and Go write absent members as `null`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// What the client concluded.
    pub outcome: OutcomeKind,
    /// The result code the client surfaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_code: Option<String>,
    /// The result status the client surfaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_status: Option<String>,
    /// The result message the client surfaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_message: Option<String>,
    /// The vendor's payment id, on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    /// The merchant's payment request id, on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_request_id: Option<String>,
    /// RFC 3339 text of the instant the client parsed from `cancelTime`, in any offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_time: Option<String>,
    /// Free text for humans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Outcome {
    /// The members the protocol defines, in the order the reference adapter writes them.
    pub const MEMBERS: [&'static str; 8] = [
        "outcome",
        "resultCode",
        "resultStatus",
        "resultMessage",
        "paymentId",
        "paymentRequestId",
        "cancelTime",
        "error",
    ];

    /// Reads a printed outcome by the rules of `schema/adapter-outcome.schema.json`, which it
    /// states again in Rust (a property test holds the two equal): an object whose `outcome`
    /// is one of the four words; every other member the protocol defines a string or `null`
    /// (`null` reads as absent); `cancelTime` RFC 3339; `SUCCESS` carrying `paymentId`,
    /// `paymentRequestId` and `cancelTime`, `FAILED` carrying `resultCode`, not `null`.
    /// Members the protocol does not define are ignored.
    ///
    /// # Errors
    /// The first rule broken, naming the member.
    ///
    /// # Example
    /// ```
    /// use alipay_cancel_kit::protocol::{Outcome, OutcomeKind};
    /// let line = serde_json::json!({"outcome": "FAILED", "resultCode": "ORDER_NOT_EXIST", "resultMessage": null});
    /// let outcome = Outcome::from_value(&line).unwrap();
    /// assert_eq!(outcome.outcome, OutcomeKind::Failed);
    /// assert_eq!(outcome.result_message, None);
    /// let err = Outcome::from_value(&serde_json::json!({"outcome": "FAILED", "resultCode": null})).unwrap_err();
    /// assert_eq!(err.to_string(), "/resultCode: FAILED must carry resultCode (a string, not null)");
    /// ```
    pub fn from_value(value: &Value) -> Result<Outcome, OutcomeError> {
        let Some(object) = value.as_object() else {
            return Err(OutcomeError::new("", "an outcome must be a JSON object"));
        };
        let kind = match object.get("outcome") {
            None => return Err(OutcomeError::new("/outcome", "the member is required")),
            Some(word) => word
                .as_str()
                .and_then(OutcomeKind::from_wire)
                .ok_or_else(|| {
                    OutcomeError::new(
                        "/outcome",
                        format!(
                            "expected SUCCESS, FAILED, UNKNOWN or INVALID_REQUEST, found {}",
                            describe_value(word)
                        ),
                    )
                })?,
        };
        let text = |name: &str| match object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(OutcomeError::new(
                &format!("/{name}"),
                format!("expected a string or null, found {}", describe_value(other)),
            )),
        };
        let outcome = Outcome {
            outcome: kind,
            result_code: text("resultCode")?,
            result_status: text("resultStatus")?,
            result_message: text("resultMessage")?,
            payment_id: text("paymentId")?,
            payment_request_id: text("paymentRequestId")?,
            cancel_time: text("cancelTime")?,
            error: text("error")?,
        };
        if let Some(t) = &outcome.cancel_time {
            crate::spec::CancelTime::parse(t)
                .map_err(|e| OutcomeError::new("/cancelTime", e.message()))?;
        }
        let required: &[(&str, &Option<String>)] = match kind {
            OutcomeKind::Success => &[
                ("paymentId", &outcome.payment_id),
                ("paymentRequestId", &outcome.payment_request_id),
                ("cancelTime", &outcome.cancel_time),
            ],
            OutcomeKind::Failed => &[("resultCode", &outcome.result_code)],
            OutcomeKind::Unknown | OutcomeKind::InvalidRequest => &[],
        };
        if let Some((name, _)) = required.iter().find(|(_, v)| v.is_none()) {
            return Err(OutcomeError::new(
                &format!("/{name}"),
                format!("{kind} must carry {name} (a string, not null)"),
            ));
        }
        Ok(outcome)
    }

    /// An outcome with only its kind and a message for humans.
    pub fn bare(kind: OutcomeKind, error: impl Into<String>) -> Outcome {
        Outcome {
            outcome: kind,
            result_code: None,
            result_status: None,
            result_message: None,
            payment_id: None,
            payment_request_id: None,
            cancel_time: None,
            error: Some(error.into()),
        }
    }
}

/// Why a printed outcome cannot be read: the member, as a JSON pointer, and the rule broken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcomeError {
    /// The member (`/cancelTime`), or empty for the whole outcome.
    pub pointer: String,
    /// What is wrong with it.
    pub message: String,
}

impl OutcomeError {
    fn new(pointer: &str, message: impl Into<String>) -> OutcomeError {
        OutcomeError {
            pointer: pointer.to_owned(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for OutcomeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "(root)"
        } else {
            &self.pointer
        };
        write!(f, "{pointer}: {}", self.message)
    }
}

impl std::error::Error for OutcomeError {}
