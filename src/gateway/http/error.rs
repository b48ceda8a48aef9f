//! What can go wrong reading HTTP/1.1, each error naming the rule it breaks.

use super::{MAX_HEAD_BYTES, MAX_LINE_BYTES};

/// A message that cannot be read whole: the connection is closed rather than answered.
#[derive(Debug)]
#[non_exhaustive]
pub enum HttpError {
    /// The connection failed.
    Io(std::io::Error),
    /// The connection ended inside a message (a head, a body short of its length).
    CutShort,
    /// A head larger than [`MAX_HEAD_BYTES`].
    HeadTooLarge,
    /// A line of a chunked body longer than 4 KiB.
    LineTooLong,
    /// A chunk size that is not hexadecimal (RFC 9112, section 7.1).
    BadChunkSize(String),
    /// An answer head httparse cannot parse.
    BadAnswerHead(httparse::Error),
    /// An answer body over the reader's limit, in bytes.
    AnswerTooLarge(usize),
    /// Bytes after an answer on a connection that was to carry nothing more.
    BytesPastEnd,
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Io(e) => e.fmt(f),
            HttpError::CutShort => f.write_str("the connection ended inside a message"),
            HttpError::HeadTooLarge => write!(f, "a head larger than {MAX_HEAD_BYTES} bytes"),
            HttpError::LineTooLong => {
                write!(f, "a chunk line longer than {MAX_LINE_BYTES} bytes")
            }
            HttpError::BadChunkSize(line) => write!(
                f,
                "chunk size `{line}` is not hexadecimal (RFC 9112, section 7.1)"
            ),
            HttpError::BadAnswerHead(e) => write!(f, "a broken answer head: {e}"),
            HttpError::AnswerTooLarge(limit) => {
                write!(f, "an answer body larger than {limit} bytes")
            }
            HttpError::BytesPastEnd => f.write_str("bytes past the end of the answer"),
        }
    }
}

impl std::error::Error for HttpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HttpError::Io(e) => Some(e),
            HttpError::BadAnswerHead(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for HttpError {
    fn from(e: std::io::Error) -> HttpError {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            HttpError::CutShort
        } else {
            HttpError::Io(e)
        }
    }
}

/// Why a request is refused before its body is read: its head breaks a rule of RFC 9112 that
/// a server in front of the kit might read otherwise (header injection, request smuggling).
/// The caller answers 400 and records the `request[N].framing` check.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FramingError {
    /// A bare CR or LF inside a header line (`name`: the field's, lowercased). Echoed into an
    /// answer it would forge a header.
    CrOrLfInHeader {
        /// The field name, lowercased.
        name: String,
    },
    /// A bare CR or LF inside the request line.
    CrOrLfInRequestLine,
    /// White space between a field name and its colon.
    SpaceBeforeColon {
        /// The field name, lowercased.
        name: String,
    },
    /// A head httparse cannot parse as an HTTP/1.1 request.
    NotHttp(httparse::Error),
    /// Both `Transfer-Encoding` and `Content-Length`.
    LengthAndChunked,
    /// A `Transfer-Encoding` whose last coding is not `chunked` (the codings as given).
    NotChunkedLast(String),
    /// A `Content-Length` that is not a decimal length (the value as given).
    BadLength(String),
    /// `Content-Length` given more than once with different values (the values as given).
    LengthsDiffer(String),
}

impl std::fmt::Display for FramingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FramingError::CrOrLfInHeader { name } => write!(
                f,
                "header `{name}`: a CR or LF inside a header line (RFC 9112, section 2.2)"
            ),
            FramingError::CrOrLfInRequestLine => {
                f.write_str("a CR or LF inside the request line (RFC 9112, section 2.2)")
            }
            FramingError::SpaceBeforeColon { name } => write!(
                f,
                "header `{name}`: white space between the field name and the colon (RFC 9112, section 5.1)"
            ),
            FramingError::NotHttp(e) => {
                write!(f, "not an HTTP/1.1 request head: {e} (RFC 9112, section 2.1)")
            }
            FramingError::LengthAndChunked => {
                f.write_str("both Transfer-Encoding and Content-Length (RFC 9112, section 6.3)")
            }
            FramingError::NotChunkedLast(codings) => write!(
                f,
                "Transfer-Encoding `{codings}` does not end in chunked (RFC 9112, section 6.3)"
            ),
            FramingError::BadLength(value) => write!(
                f,
                "Content-Length `{value}` is not a decimal length (RFC 9112, section 6.3)"
            ),
            FramingError::LengthsDiffer(values) => write!(
                f,
                "Content-Length given twice, differently: {values} (RFC 9112, section 6.3)"
            ),
        }
    }
}

impl std::error::Error for FramingError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_names_its_rule() {
        let name = || "client-id".to_owned();
        insta::assert_snapshot!(FramingError::CrOrLfInHeader { name: name() }, @"header `client-id`: a CR or LF inside a header line (RFC 9112, section 2.2)");
        insta::assert_snapshot!(FramingError::SpaceBeforeColon { name: name() }, @"header `client-id`: white space between the field name and the colon (RFC 9112, section 5.1)");
        insta::assert_snapshot!(FramingError::LengthsDiffer("2, 3".into()), @"Content-Length given twice, differently: 2, 3 (RFC 9112, section 6.3)");
        insta::assert_snapshot!(HttpError::BadChunkSize("zz".into()), @"chunk size `zz` is not hexadecimal (RFC 9112, section 7.1)");
    }
}
