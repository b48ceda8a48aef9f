//! Splitting an input into JSON documents: one body a line (NDJSON), a pretty-printed body over
//! several lines, or a captured-traffic record holding a request and a response.

use serde_json::Value;

use super::{Kind, MAX_BODY_BYTES};
use crate::spec::SpecError;

/// The first JSON document of `bytes`, whose first line is `line_len` bytes long, and the
/// bytes it takes. A line that is a whole document is one (NDJSON); a line that ends
/// mid-document may continue on the next lines (a pretty-printed body). On a syntax error,
/// the error and the bytes to skip: the first line.
pub(super) fn next_document(
    bytes: &[u8],
    line_len: usize,
) -> Result<(Value, usize), (SpecError, usize)> {
    let line = &bytes[..line_len];
    let single = serde_json::from_slice::<Value>(line);
    match single {
        Ok(value) => Ok((value, line_len)),
        Err(e) if e.is_eof() && line_len < bytes.len() => {
            let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<Value>();
            match stream.next() {
                Some(Ok(value)) => Ok((value, stream.byte_offset())),
                // Report the first line and resume on the next: in a stream of one body a
                // line, a line cut short must not swallow the bodies after it.
                Some(Err(_)) => Err((not_json(&e), line_len.max(1))),
                None => Err((not_json(&e), line_len.max(1))),
            }
        }
        Err(e) => Err((not_json(&e), line_len.max(1))),
    }
}

pub(super) fn too_large(found: usize) -> SpecError {
    SpecError::TooLarge {
        bytes: found,
        limit: MAX_BODY_BYTES,
    }
}

fn not_json(e: &serde_json::Error) -> SpecError {
    let message = e.to_string();
    let message = match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_owned(),
        None => message,
    };
    SpecError::NotJson {
        line: e.line(),
        column: e.column(),
        message,
    }
}

/// The parts of a captured-traffic record: an object whose members are `request` and/or
/// `response` only (beside optional metadata members that are not body members).
pub(super) fn traffic_parts(value: &Value) -> Option<Vec<(Kind, &Value)>> {
    let object = value.as_object()?;
    use crate::spec::endpoint::member;
    const BODY_MEMBERS: [&str; 5] = [
        "result",
        member::PAYMENT_ID,
        member::PAYMENT_REQUEST_ID,
        member::MERCHANT_ACCOUNT_ID,
        member::CANCEL_TIME,
    ];
    if BODY_MEMBERS.iter().any(|m| object.contains_key(*m)) {
        return None;
    }
    let parts: Vec<(Kind, &Value)> = [Kind::Request, Kind::Response]
        .into_iter()
        .filter_map(|kind| object.get(kind.as_str()).map(|v| (kind, v)))
        .filter(|(_, v)| !v.is_null())
        .collect();
    (!parts.is_empty()).then_some(parts)
}
