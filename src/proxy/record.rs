//! `proxy --record DIR`: each exchange as a scenario file in the catalogue's format, so an
//! answer captured from the sandbox replays with `run --catalogue DIR` or `serve --catalogue`.
//!
//! The instruction is the request's fields; the answer is the status and body as received,
//! with the signing policy that reproduces its class under the kit's keys (a correctly signed
//! answer is re-signed, an unsigned one stays unsigned, a broken signature is broken the same
//! way), and the outcomes its class accepts.

use std::path::Path;

use serde_json::{json, Map, Value};

use super::Forwarded;
use crate::contract::AnswerClass;
use crate::contract::RecordedRequest;
use crate::gateway::HttpAnswer;
use crate::spec::endpoint::{header, member};

/// The group recorded scenarios belong to.
pub const GROUP: &str = "recorded";

/// The signing policy (`docs/scenarios.md#answer`) that gives a replayed answer the class of
/// the recorded one.
fn signing(class: AnswerClass, headers: &[(String, String)]) -> &'static str {
    let has = |name: &str| headers.iter().any(|(n, _)| n == name);
    match class {
        AnswerClass::UnsignedFailure
        | AnswerClass::UnsignedUnknown
        | AnswerClass::UnsignedSuccess => "unsigned",
        AnswerClass::SignatureHalfMissing if has(header::SIGNATURE) => "no-response-time",
        AnswerClass::SignatureHalfMissing => "empty-signature",
        AnswerClass::SignatureInvalid => "tampered",
        AnswerClass::ForeignClientId => "foreign-client-id",
        _ => "signed",
    }
}

/// The scenario of one exchange.
pub fn scenario(
    exchange: &Forwarded,
    request: &RecordedRequest,
    http: &HttpAnswer,
    id: &str,
) -> Value {
    let sent: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let fields: Map<String, Value> = member::IDS
        .into_iter()
        .filter_map(|m| Some((m.to_owned(), sent.get(m)?.clone())))
        .filter(|(_, v)| !v.is_null())
        .collect();
    let mut answer = json!({
        "status": if http.status == 0 { 200 } else { http.status },
        "signing": signing(exchange.classified.class, &http.headers),
        "accept": exchange.classified.accepts,
    });
    if !exchange.classified.prefer.is_empty() {
        answer["prefer"] = json!(exchange.classified.prefer);
    }
    if exchange.upstream_error.is_some() {
        answer["fault"] = json!("close-before-response");
    } else {
        match serde_json::from_slice::<Value>(&http.body) {
            Ok(body) => answer["body"] = body,
            Err(_) => answer["rawBody"] = json!(String::from_utf8_lossy(&http.body)),
        }
    }
    json!({
        "id": id,
        "title": format!(
            "recorded {}: {} ({})",
            exchange.request.received_at,
            exchange.classified.class.as_str(),
            exchange.classified.why
        ),
        "rule": "docs/contract.md#outcome-rules",
        "clientId": request.header(header::CLIENT_ID).unwrap_or("TEST_5YBZ1"),
        "request": fields,
        "answers": [answer],
    })
}

/// Writes the exchange as `DIR/<id>.json`, one group file each, ids unique across sessions.
///
/// # Errors
/// When the file cannot be written.
pub fn write(
    dir: &Path,
    exchange: &Forwarded,
    request: &RecordedRequest,
    http: &HttpAnswer,
) -> std::io::Result<()> {
    let stamp = request.received_at.format("%Y%m%dT%H%M%S%3fZ");
    let name = format!("{stamp}-{}", exchange.request.seq);
    let file = json!({
        "$comment": "Recorded by alipay-cancel-kit proxy --record; replay with run --catalogue or serve --catalogue.",
        "group": GROUP,
        "scenarios": [scenario(exchange, request, http, &format!("{GROUP}/{name}"))],
    });
    let text = serde_json::to_string_pretty(&file).expect("a scenario serialises");
    std::fs::write(dir.join(format!("{name}.json")), text + "\n")
}
