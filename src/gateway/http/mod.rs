//! HTTP/1.1 as the kit reads it: one reader for every listener, relay and client.
//!
//! The run gateway's front door ([`super::limit`]), the raw responder of `serve` and `proxy`
//! ([`super::raw`]), the relay to the shared wiremock servers (`shared`) and the
//! proxy's client to its upstream ([`crate::proxy::upstream`]) all read through this module,
//! so the same bytes meet the same rules whichever command receives them:
//!
//! - a request head is parsed by httparse, after a scan for the byte-level faults RFC 9112
//!   refuses (a bare CR or LF inside a line, white space before a field's colon), and its body
//!   length is told by [`RequestHead::framing`] or refused as ambiguous: [`FramingError`] names the
//!   rule, and the caller answers 400 with the `request[N].framing` check;
//! - a body is read by `Content-Length` or chunked, at most [`MAX_BODY_BYTES`]; past it the
//!   request is cut there and refused with 413 (request check 8);
//! - an answer is read back whole: interim answers, then the final one to the end its framing
//!   gives (length, chunked, or the end of the connection).
//!
//! Writing stays with the callers: the raw responder writes its scripted faults (a connection
//! closed before any answer, a body cut short) below HTTP, which no HTTP library would.

mod error;
mod reader;
pub mod request;
pub mod response;

pub use error::{FramingError, HttpError};
pub use reader::Reader;
pub use request::{Body, Framing, Incoming, RequestHead};
pub use response::Response;

/// The largest request body the kit reads, in bytes (1 MiB). A cancel body is well under a
/// kilobyte; a larger one is refused with HTTP 413.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The largest request or answer head (start line and header fields) read; past it the
/// connection is closed.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The longest line of a chunked body (a chunk size with its extensions, a trailer).
const MAX_LINE_BYTES: usize = 4096;

/// `text` with every control character but tab left out: what may stand in a header value,
/// and in a message that quotes what a client sent.
pub fn visible(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .collect()
}

#[cfg(test)]
mod tests;
