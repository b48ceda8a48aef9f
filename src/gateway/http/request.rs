//! Reading a request: its head (httparse, after a scan for the byte faults RFC 9112
//! refuses), how its body is framed, and the body itself within [`MAX_BODY_BYTES`].

use chrono::Utc;
use tokio::io::AsyncRead;

use super::{FramingError, HttpError, Reader, MAX_BODY_BYTES};
use crate::contract::RecordedRequest;
use crate::gateway::listener::HEAD_TIME;

/// A request head as received.
#[derive(Clone, Debug)]
pub struct RequestHead {
    /// The head's bytes as sent, through its empty line (blank lines before it left out).
    pub bytes: Vec<u8>,
    /// The method, as sent.
    pub method: String,
    /// The request target: origin form (`/a?b`) or absolute form (`https://h/a?b`).
    pub target: String,
    /// The request line says HTTP/1.0.
    pub http10: bool,
    /// The header fields in order, names lowercased, values trimmed.
    pub headers: Vec<(String, String)>,
    /// A rule of RFC 9112 the head's bytes break, found while parsing them.
    fault: Option<FramingError>,
}

/// How a request's body is framed (RFC 9112, section 6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length` bytes (0 when none is given).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A request body as read.
#[derive(Debug)]
pub enum Body {
    /// The whole body: its bytes, and the bytes as sent (chunk framing included) when they
    /// differ, for a relay to pass on.
    Whole {
        /// The body.
        data: Vec<u8>,
        /// The body as sent, when chunked.
        framed: Option<Vec<u8>>,
    },
    /// A body over [`MAX_BODY_BYTES`], cut there.
    TooLarge {
        /// Its first bytes, at most the limit.
        data: Vec<u8>,
        /// What gave the size away, for request check 8's `seen`.
        seen: String,
        /// Bytes of it still to read and drop (`None`: until the client closes).
        left: Option<u64>,
    },
}

/// What one request on a connection came to.
#[derive(Debug)]
pub enum Incoming {
    /// A whole request: its head and body.
    Request(RequestHead, Body),
    /// A request refused before its body: its head breaks a rule of RFC 9112.
    Bad(RecordedRequest, FramingError),
}

impl RequestHead {
    /// Parses a head (the bytes through its empty line). Never fails: what breaks the rules is
    /// kept for [`RequestHead::framing`], and the head is read leniently for the record.
    pub fn parse(bytes: Vec<u8>) -> RequestHead {
        let fault = byte_fault(&bytes);
        let lines = bytes.iter().filter(|&&b| b == b'\n').count();
        let mut slots = vec![httparse::EMPTY_HEADER; lines];
        let mut request = httparse::Request::new(&mut slots);
        let parsed = match (&fault, request.parse(&bytes)) {
            (None, Ok(httparse::Status::Complete(_))) => Ok(RequestHead {
                method: request.method.unwrap_or_default().to_owned(),
                target: request.path.unwrap_or_default().to_owned(),
                http10: request.version == Some(0),
                headers: request
                    .headers
                    .iter()
                    .map(|h| {
                        let value = String::from_utf8_lossy(h.value).trim().to_owned();
                        (h.name.to_ascii_lowercase(), value)
                    })
                    .collect(),
                bytes: Vec::new(),
                fault: None,
            }),
            (None, Ok(httparse::Status::Partial)) => {
                Err(Some(FramingError::NotHttp(httparse::Error::NewLine)))
            }
            (None, Err(e)) => Err(Some(FramingError::NotHttp(e))),
            (Some(_), _) => Err(None),
        };
        match parsed {
            Ok(head) => RequestHead { bytes, ..head },
            Err(httparse_fault) => {
                let mut head = lenient(bytes);
                head.fault = fault.or(httparse_fault);
                head
            }
        }
    }

    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// How the body is framed, or the rule of RFC 9112 the head breaks (its bytes, or an
    /// ambiguous length: refused rather than guessed, as a proxy in front of the kit might
    /// guess otherwise).
    ///
    /// # Errors
    /// The rule broken, first found first.
    pub fn framing(&self) -> Result<Framing, FramingError> {
        match &self.fault {
            Some(fault) => Err(fault.clone()),
            None => framing(&self.headers),
        }
    }

    /// The client waits for `100 Continue` before it sends the body.
    pub fn expects_continue(&self) -> bool {
        self.header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }

    /// The client wants the connection closed after the answer: `Connection: close`, or
    /// HTTP/1.0 without `Connection: keep-alive`.
    pub fn wants_close(&self) -> bool {
        let connection = self.header("connection").unwrap_or("").to_ascii_lowercase();
        connection.contains("close") || (self.http10 && !connection.contains("keep-alive"))
    }

    /// The request as the checks read it, with `body`.
    pub fn record(&self, body: Vec<u8>) -> RecordedRequest {
        RecordedRequest {
            method: self.method.clone(),
            path: path_of(&self.target),
            query: self.target.split_once('?').map(|(_, q)| q.to_owned()),
            headers: self.headers.clone(),
            body,
            received_at: Utc::now(),
        }
    }
}

/// The first byte-level fault of a head, by RFC 9112: a CR or LF that does not end a line
/// (section 2.2; echoed into an answer it would forge a header), or white space between a
/// field name and its colon (section 5.1).
fn byte_fault(head: &[u8]) -> Option<FramingError> {
    for (i, line) in head.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() || line == b"\r" {
            // The empty line that ends the head.
            break;
        }
        let bare = line
            .split_last()
            .is_none_or(|(last, text)| *last != b'\r' || text.contains(&b'\r'));
        if i == 0 {
            if bare {
                return Some(FramingError::CrOrLfInRequestLine);
            }
            continue;
        }
        let text = String::from_utf8_lossy(line);
        let name = text.split(':').next().unwrap_or_default();
        let lower = || super::visible(&name.trim().to_ascii_lowercase());
        if bare {
            return Some(FramingError::CrOrLfInHeader { name: lower() });
        }
        if text.contains(':') && (name != name.trim_start() || name != name.trim_end()) {
            return Some(FramingError::SpaceBeforeColon { name: lower() });
        }
    }
    None
}

/// A head read leniently, for the record of a request refused for it: lines split at CRLF,
/// each field at its first colon.
fn lenient(bytes: Vec<u8>) -> RequestHead {
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default().to_owned();
    let http10 = request_line.next() == Some("HTTP/1.0");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    RequestHead {
        bytes,
        method,
        target,
        http10,
        headers,
        fault: None,
    }
}

/// How a request's body is framed: chunked, or its length. `Err` says why it cannot be told
/// for sure (RFC 9112, section 6.3).
fn framing(headers: &[(String, String)]) -> Result<Framing, FramingError> {
    let values = |name: &str| {
        headers
            .iter()
            .filter(|(n, _)| n == name)
            .flat_map(|(_, v)| v.split(','))
            .map(|v| v.trim().to_ascii_lowercase())
            .collect::<Vec<String>>()
    };
    let codings = values("transfer-encoding");
    let lengths = values("content-length");
    if !codings.is_empty() {
        if !lengths.is_empty() {
            return Err(FramingError::LengthAndChunked);
        }
        if codings.last().map(String::as_str) != Some("chunked") {
            return Err(FramingError::NotChunkedLast(super::visible(
                &codings.join(", "),
            )));
        }
        return Ok(Framing::Chunked);
    }
    let mut length = None;
    for value in &lengths {
        let parsed =
            (!value.is_empty() && value.len() <= 19 && value.bytes().all(|b| b.is_ascii_digit()))
                .then(|| value.parse::<u64>().ok())
                .flatten()
                .ok_or_else(|| FramingError::BadLength(super::visible(value)))?;
        if length.is_some_and(|l| l != parsed) {
            return Err(FramingError::LengthsDiffer(lengths.join(", ")));
        }
        length = Some(parsed);
    }
    Ok(Framing::Length(length.unwrap_or(0)))
}

/// The path of a request target in origin form (`/a?b`) or absolute form (`https://h/a?b`).
pub fn path_of(target: &str) -> String {
    let without_scheme = target.split_once("://").map_or(target, |(_, rest)| {
        rest.find('/').map_or("/", |i| &rest[i..])
    });
    without_scheme.split('?').next().unwrap_or("/").to_owned()
}

impl<S: AsyncRead + Unpin> Reader<S> {
    /// Reads the next request head; `None` at a clean end of the connection. Blank lines
    /// before the request line are tolerated (RFC 9112, section 2.2).
    ///
    /// # Errors
    /// The connection fails or ends inside the head, or the head passes [`super::MAX_HEAD_BYTES`].
    pub async fn request_head(&mut self) -> Result<Option<RequestHead>, HttpError> {
        loop {
            let blank = self
                .unread()
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            self.consume(blank);
            if !self.unread().is_empty() {
                break;
            }
            if self.more().await? == 0 {
                return Ok(None);
            }
        }
        match self.head_end(0).await? {
            Some(end) => Ok(Some(RequestHead::parse(self.take(end)))),
            None => Ok(None),
        }
    }

    /// Reads the body `framing` gives, at most [`MAX_BODY_BYTES`] of it. A body declared
    /// larger is refused on its length, its first MiB read for the record unless the client
    /// waits for `100 Continue` (`waits`), and so sends none; `framed` keeps a chunked body's
    /// bytes as sent too.
    ///
    /// # Errors
    /// The connection fails or ends inside the body, or its chunk framing is broken.
    pub async fn request_body(
        &mut self,
        framing: Framing,
        waits: bool,
        framed: bool,
    ) -> Result<Body, HttpError> {
        match framing {
            Framing::Length(length) if length > MAX_BODY_BYTES as u64 => {
                let data = if waits {
                    Vec::new()
                } else {
                    let n = self.fill_at_most(MAX_BODY_BYTES).await?;
                    self.take(n)
                };
                Ok(Body::TooLarge {
                    seen: format!("Content-Length: {length}"),
                    left: (!waits).then(|| length - data.len() as u64),
                    data,
                })
            }
            Framing::Length(length) => {
                self.fill(length as usize).await?;
                Ok(Body::Whole {
                    data: self.take(length as usize),
                    framed: None,
                })
            }
            Framing::Chunked => self.chunked(framed).await,
        }
    }

    /// A chunked body (RFC 9112, section 7.1), extensions and trailers read and dropped.
    async fn chunked(&mut self, keep_framed: bool) -> Result<Body, HttpError> {
        let mut data = Vec::new();
        let mut at = 0;
        loop {
            let size;
            (size, at) = self.chunk_head(at).await?;
            if size == 0 {
                at = self.trailers(at).await?;
                let framed = keep_framed.then(|| self.unread()[..at].to_vec());
                self.consume(at);
                return Ok(Body::Whole { data, framed });
            }
            let room = MAX_BODY_BYTES - data.len();
            if size > room {
                // Past the limit: the first MiB is kept for the record, the rest dropped.
                self.consume(at);
                let n = self.fill_at_most(room).await?;
                data.extend_from_slice(&self.take(n));
                return Ok(Body::TooLarge {
                    data,
                    seen: format!("a chunked body past {MAX_BODY_BYTES} bytes"),
                    left: None,
                });
            }
            self.fill(at + size).await?;
            data.extend_from_slice(&self.unread()[at..at + size]);
            at += size;
            // The chunk's CRLF.
            at = self.line(at).await?.1;
        }
    }
}

/// The size of a chunk from its size line (extensions after `;` left out).
pub(super) fn chunk_size(line: &[u8]) -> Result<usize, HttpError> {
    let text = String::from_utf8_lossy(line);
    let digits = text.split(';').next().unwrap_or("").trim();
    usize::from_str_radix(digits, 16).map_err(|_| HttpError::BadChunkSize(super::visible(digits)))
}

impl<S: AsyncRead + Unpin> Reader<S> {
    /// Reads the next request: its head within [`HEAD_TIME`], then its body unless the head
    /// breaks a rule. A client that waits for `100 Continue` is told to go on through
    /// `send_continue` (given the connection), unless its body is refused on its length.
    /// `framed` keeps a chunked body's bytes as sent, for a relay. `None` at a clean end of
    /// the connection.
    ///
    /// # Errors
    /// The connection fails, ends inside the request or is too slow with its head; the head
    /// is too large; the chunk framing is broken.
    pub async fn request(
        &mut self,
        framed: bool,
        send_continue: impl AsyncFnOnce(&mut S) -> std::io::Result<()>,
    ) -> Result<Option<Incoming>, HttpError> {
        let head = tokio::time::timeout(HEAD_TIME, self.request_head())
            .await
            .map_err(|_| HttpError::Io(std::io::ErrorKind::TimedOut.into()))?;
        let Some(head) = head? else { return Ok(None) };
        let framing = match head.framing() {
            Ok(framing) => framing,
            Err(why) => return Ok(Some(Incoming::Bad(head.record(Vec::new()), why))),
        };
        let waits = head.expects_continue();
        let refused = matches!(framing, Framing::Length(n) if n > MAX_BODY_BYTES as u64);
        if waits && !refused {
            send_continue(&mut self.stream).await?;
        }
        let body = self.request_body(framing, waits, framed).await?;
        Ok(Some(Incoming::Request(head, body)))
    }
}
