//! The adapter protocol (v1): the instruction the kit hands a client and the outcome it reads back.
//!
//! Both are single JSON lines; their shapes are published as `schema/adapter-instruction.schema.json`
//! and `schema/adapter-outcome.schema.json`, and `docs/adapter-protocol.md` states the contract in full.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
