//! Reading an answer back whole, and writing an answer's head.

use tokio::io::AsyncRead;

use super::{HttpError, Reader};

/// An answer as read back: the final one's status, headers and body, and its bytes as sent.
#[derive(Clone, Debug)]
pub struct Response {
    /// The final answer's status.
    pub status: u16,
    /// Its header fields in order, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Its body, chunk framing taken off.
    pub body: Vec<u8>,
    /// Every byte as sent: interim (1xx) answers, the head, the body with its framing.
    pub wire: Vec<u8>,
    /// The connection ends after it (`connection: close`, HTTP/1.0, or a body that ends with
    /// the connection).
    pub close: bool,
}

/// How an answer's body ends.
enum Length {
    Bytes(usize),
    Chunked,
    UntilClose,
}

impl<S: AsyncRead + Unpin> Reader<S> {
    /// Reads one answer whole: interim answers, then the final one to the end of its body,
    /// at most `max_body` bytes of it. `head_only`: the answer to a `HEAD`, which has no body.
    ///
    /// # Errors
    /// The connection fails or ends inside the answer, its head is not HTTP/1.1, its chunks
    /// are broken, or its body passes `max_body`.
    pub async fn response(
        &mut self,
        head_only: bool,
        max_body: usize,
    ) -> Result<Response, HttpError> {
        let mut start = 0;
        loop {
            let Some(end) = self.head_end(start).await? else {
                return Err(HttpError::CutShort);
            };
            let lines = self.unread()[start..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            let mut slots = vec![httparse::EMPTY_HEADER; lines];
            let mut parsed = httparse::Response::new(&mut slots);
            parsed
                .parse(&self.unread()[start..end])
                .map_err(HttpError::BadAnswerHead)?;
            let status = parsed.code.unwrap_or(0);
            if (100..200).contains(&status) && status != 101 {
                // An interim answer: kept with the bytes, and the final one follows.
                start = end;
                continue;
            }
            let headers: Vec<(String, String)> = parsed
                .headers
                .iter()
                .map(|h| {
                    let value = String::from_utf8_lossy(h.value).trim().to_owned();
                    (h.name.to_ascii_lowercase(), value)
                })
                .collect();
            let http10 = parsed.version == Some(0);
            let values = |name: &str| -> Vec<String> {
                headers
                    .iter()
                    .filter(|(n, _)| n == name)
                    .map(|(_, v)| v.to_ascii_lowercase())
                    .collect()
            };
            let connection = values("connection");
            let mut close = connection.iter().any(|v| v.contains("close"))
                || (http10 && !connection.iter().any(|v| v.contains("keep-alive")));
            let length = if head_only || status == 204 || status == 304 {
                Length::Bytes(0)
            } else if values("transfer-encoding")
                .iter()
                .any(|v| v.contains("chunked"))
            {
                Length::Chunked
            } else if let Some(n) = values("content-length").first() {
                Length::Bytes(
                    n.parse()
                        .map_err(|_| HttpError::BadAnswerHead(httparse::Error::HeaderValue))?,
                )
            } else {
                Length::UntilClose
            };
            let (body, wire_end) = match length {
                Length::Bytes(n) if n > max_body => {
                    return Err(HttpError::AnswerTooLarge(max_body))
                }
                Length::Bytes(n) => {
                    self.fill(end + n).await?;
                    (self.unread()[end..end + n].to_vec(), end + n)
                }
                Length::Chunked => self.chunked_answer(end, max_body).await?,
                Length::UntilClose => {
                    close = true;
                    while self.more().await? > 0 {
                        if self.unread().len() - end > max_body {
                            return Err(HttpError::AnswerTooLarge(max_body));
                        }
                    }
                    (self.unread()[end..].to_vec(), self.unread().len())
                }
            };
            return Ok(Response {
                status,
                headers,
                body,
                wire: self.take(wire_end),
                close,
            });
        }
    }

    /// A chunked answer body starting at `from`: its bytes, and where it ends.
    async fn chunked_answer(
        &mut self,
        from: usize,
        max_body: usize,
    ) -> Result<(Vec<u8>, usize), HttpError> {
        let mut body = Vec::new();
        let mut at = from;
        loop {
            let size;
            (size, at) = self.chunk_head(at).await?;
            if size == 0 {
                return Ok((body, self.trailers(at).await?));
            }
            if body.len() + size > max_body {
                return Err(HttpError::AnswerTooLarge(max_body));
            }
            self.fill(at + size).await?;
            body.extend_from_slice(&self.unread()[at..at + size]);
            at = self.line(at + size).await?.1;
        }
    }
}

/// The head of an answer with a body of `length` bytes. A header value never carries a CR,
/// an LF or another control character onto the wire, wherever it came from (an echoed
/// request header, an upstream's answer): they are left out.
pub fn answer_head(status: u16, headers: &[(String, String)], length: usize) -> String {
    let reason = match status {
        100 => "Continue",
        200 => "OK",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        400 => "Bad Request",
        404 => "Not Found",
        413 => "Payload Too Large",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    };
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        head.push_str(&format!(
            "{}: {}\r\n",
            super::visible(name),
            super::visible(value)
        ));
    }
    head.push_str(&format!("content-length: {length}\r\n\r\n"));
    head
}
