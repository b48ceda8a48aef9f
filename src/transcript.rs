//! The transcript of a scenario: every request the gateway received and the answer it sent,
//! headers and bodies, as the JSON and HTML reports show them (`docs/contract.md#reports`).
//!
//! Bounded, since a broken client may send without end or send huge bodies: at most
//! [`MAX_EXCHANGES`] exchanges, [`MAX_HEADERS`] headers of [`MAX_TEXT`] bytes each, and bodies
//! cut at [`MAX_TEXT`] bytes (each cut said so in the text and in `bodyBytes`).

use serde::{Deserialize, Serialize};

use crate::scenario::Fault;

/// Exchanges kept per scenario (a conforming client sends at most 5).
pub const MAX_EXCHANGES: usize = 8;

/// Headers kept per request or answer.
pub const MAX_HEADERS: usize = 64;

/// Bytes kept of a body or a header value.
pub const MAX_TEXT: usize = 8 * 1024;

/// One turn of the transcript: a request and the answer it got.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Turn {
    /// When the request arrived, in milliseconds after the scenario started.
    pub at_ms: f64,
    /// The request as received.
    pub request: TurnRequest,
    /// The answer as sent.
    pub answer: TurnAnswer,
}

/// A request as the gateway received it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnRequest {
    /// The method.
    pub method: String,
    /// The path.
    pub path: String,
    /// Header fields in arrival order, names in lower case: `[name, value]`.
    pub headers: Vec<[String; 2]>,
    /// The body as text (bytes that are not UTF-8 replaced by U+FFFD), cut at [`MAX_TEXT`].
    pub body: String,
    /// The body's length in bytes, as received.
    pub body_bytes: usize,
}

/// An answer as the gateway sent it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnAnswer {
    /// The HTTP status (not sent when `fault` is `close-before-response`).
    pub status: u16,
    /// Header fields as sent: `[name, value]`.
    pub headers: Vec<[String; 2]>,
    /// The body as text, cut at [`MAX_TEXT`].
    pub body: String,
    /// The body's length in bytes.
    pub body_bytes: usize,
    /// How long the gateway waited before answering, in milliseconds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_ms: u64,
    /// The transport fault produced instead of (part of) the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// Which scripted answer (0-based); absent when the gateway refused the request itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_index: Option<usize>,
    /// Why the gateway answered other than scripted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The transcript of a scenario's exchanges, `started` being when the scenario began.
pub fn of(
    exchanges: &[crate::gateway::Exchange],
    started: chrono::DateTime<chrono::Utc>,
) -> Vec<Turn> {
    exchanges
        .iter()
        .take(MAX_EXCHANGES)
        .map(|e| {
            let at = e.request.received_at - started;
            Turn {
                at_ms: at.num_microseconds().unwrap_or(0) as f64 / 1000.0,
                request: TurnRequest {
                    method: clip(e.request.method.as_bytes()),
                    path: clip(e.request.path.as_bytes()),
                    headers: headers(&e.request.headers),
                    body: clip(&e.request.body),
                    body_bytes: e.request.body.len(),
                },
                answer: TurnAnswer {
                    status: e.sent.status,
                    headers: headers(&e.sent.headers),
                    body: clip(&e.sent.body),
                    body_bytes: e.sent.body.len(),
                    delay_ms: e.sent.delay.as_millis() as u64,
                    fault: e.sent.fault,
                    script_index: e.served.script_index,
                    note: e.served.note.clone(),
                },
            }
        })
        .collect()
}

fn headers(list: &[(String, String)]) -> Vec<[String; 2]> {
    list.iter()
        .take(MAX_HEADERS)
        .map(|(n, v)| [clip(n.as_bytes()), clip(v.as_bytes())])
        .collect()
}

/// The bytes as text, at most [`MAX_TEXT`] of them, a cut said so at the end.
fn clip(bytes: &[u8]) -> String {
    if bytes.len() <= MAX_TEXT {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut text = String::from_utf8_lossy(&bytes[..MAX_TEXT]).into_owned();
    text.push_str(&format!(
        "\u{2026} [cut: {} of {} bytes shown]",
        MAX_TEXT,
        bytes.len()
    ));
    text
}
