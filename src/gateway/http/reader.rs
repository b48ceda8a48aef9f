//! A connection read through a buffer of the kit's own: heads found and parsed in place,
//! bodies taken by length or chunk, and the bytes as sent kept for a relay.

use tokio::io::{AsyncRead, AsyncReadExt};

use super::{HttpError, MAX_HEAD_BYTES, MAX_LINE_BYTES};

/// How much is asked of the connection per read: a request or an answer of the kit's is a
/// kilobyte or so, and a larger one is read in more turns.
const READ_SIZE: usize = 4096;

/// One side of a connection, read through a buffer. Positions below are counted from the
/// first unread byte, so a message can be looked at whole before it is taken.
pub struct Reader<S> {
    pub(super) stream: S,
    buf: Vec<u8>,
    /// Where the unread bytes of `buf` start.
    at: usize,
    /// Bytes ever read from the connection.
    received: u64,
}

impl<S> Reader<S> {
    /// A reader of `stream`, nothing read yet.
    pub fn new(stream: S) -> Reader<S> {
        Reader {
            stream,
            buf: Vec::with_capacity(READ_SIZE),
            at: 0,
            received: 0,
        }
    }

    /// The connection, to write answers on (reading it past the buffer loses bytes).
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The connection, and whether bytes were read that no message took.
    pub fn into_inner(self) -> (S, bool) {
        let leftover = self.at < self.buf.len();
        (self.stream, leftover)
    }

    /// Whether anything came from the connection at all.
    pub fn received(&self) -> bool {
        self.received > 0
    }

    /// The bytes read and not yet taken.
    pub(super) fn unread(&self) -> &[u8] {
        &self.buf[self.at..]
    }

    /// Takes the first `n` unread bytes.
    pub(super) fn consume(&mut self, n: usize) {
        self.at += n;
        if self.at >= self.buf.len() {
            self.buf.clear();
            self.at = 0;
        }
    }

    /// Takes the first `n` unread bytes and gives them.
    pub(super) fn take(&mut self, n: usize) -> Vec<u8> {
        let bytes = self.unread()[..n].to_vec();
        self.consume(n);
        bytes
    }
}

impl<S: AsyncRead + Unpin> Reader<S> {
    /// Reads what has come, after the unread bytes; 0 at the end of the connection.
    pub(super) async fn more(&mut self) -> std::io::Result<usize> {
        if self.at > 0 {
            // Taken bytes make room before the buffer grows.
            self.buf.drain(..self.at);
            self.at = 0;
        }
        self.buf.reserve(READ_SIZE);
        let n = self.stream.read_buf(&mut self.buf).await?;
        self.received += n as u64;
        Ok(n)
    }

    /// Waits for the first byte of the next message: `false` when the connection ends first.
    /// Safe to cancel (no byte is lost), so a caller may give up waiting.
    pub async fn ready(&mut self) -> std::io::Result<bool> {
        if !self.unread().is_empty() {
            return Ok(true);
        }
        Ok(self.more().await? > 0)
    }

    /// Reads until at least `len` bytes are unread; the connection ending first is
    /// [`HttpError::CutShort`].
    pub(super) async fn fill(&mut self, len: usize) -> Result<(), HttpError> {
        while self.unread().len() < len {
            if self.more().await? == 0 {
                return Err(HttpError::CutShort);
            }
        }
        Ok(())
    }

    /// Reads until at least `len` bytes are unread or the connection ends; how many are.
    pub(super) async fn fill_at_most(&mut self, len: usize) -> Result<usize, HttpError> {
        while self.unread().len() < len {
            if self.more().await? == 0 {
                break;
            }
        }
        Ok(self.unread().len().min(len))
    }

    /// Where the head that starts at `from` ends, past its empty line (a bare LF counts as a
    /// line end here, so a head that uses them is found and refused, not waited on).
    /// `None` when the connection ends before a byte of it.
    pub(super) async fn head_end(&mut self, from: usize) -> Result<Option<usize>, HttpError> {
        let mut searched = from;
        loop {
            let unread = self.unread();
            let mut i = searched;
            while let Some(lf) = unread[i..].iter().position(|&b| b == b'\n') {
                let lf = i + lf;
                // The line this LF ends is empty: nothing, or a lone CR, since the last LF.
                let empty = match lf - from {
                    0 => false,
                    1 => false,
                    _ => {
                        unread[lf - 1] == b'\n'
                            || (unread[lf - 1] == b'\r' && lf >= 2 && unread[lf - 2] == b'\n')
                    }
                };
                if empty {
                    return Ok(Some(lf + 1));
                }
                i = lf + 1;
            }
            searched = unread.len();
            if unread.len() - from > MAX_HEAD_BYTES {
                return Err(HttpError::HeadTooLarge);
            }
            if self.more().await? == 0 {
                return if self.unread().len() == from {
                    Ok(None)
                } else {
                    Err(HttpError::CutShort)
                };
            }
        }
    }

    /// The line that starts at `from` (a chunk size or a trailer): where its text ends and
    /// where the next line starts. A bare LF ends a line too.
    pub(super) async fn line(&mut self, from: usize) -> Result<(usize, usize), HttpError> {
        let mut searched = from;
        loop {
            let unread = self.unread();
            if let Some(lf) = unread[searched..].iter().position(|&b| b == b'\n') {
                let lf = searched + lf;
                let end = if lf > from && unread[lf - 1] == b'\r' {
                    lf - 1
                } else {
                    lf
                };
                return Ok((end, lf + 1));
            }
            searched = unread.len();
            if searched - from > MAX_LINE_BYTES {
                return Err(HttpError::LineTooLong);
            }
            if self.more().await? == 0 {
                return Err(HttpError::CutShort);
            }
        }
    }

    /// The size line of the chunk at `at` (RFC 9112, section 7.1): the chunk's size and where
    /// its data starts. Requests and answers walk their chunks by it alike.
    pub(super) async fn chunk_head(&mut self, at: usize) -> Result<(usize, usize), HttpError> {
        let (end, next) = self.line(at).await?;
        Ok((super::request::chunk_size(&self.unread()[at..end])?, next))
    }

    /// The trailers after the last chunk, read and dropped up to the empty line: where they
    /// end.
    pub(super) async fn trailers(&mut self, mut at: usize) -> Result<usize, HttpError> {
        loop {
            let (end, next) = self.line(at).await?;
            if end == at {
                return Ok(next);
            }
            at = next;
        }
    }

    /// Reads and drops what the connection still sends: `left` bytes, or all of it until it
    /// ends. The unread bytes count first.
    pub async fn discard(&mut self, left: Option<u64>) {
        let buffered = self.unread().len();
        let mut sink = tokio::io::sink();
        match left {
            Some(n) if n <= buffered as u64 => self.consume(n as usize),
            Some(n) => {
                self.consume(buffered);
                let _ =
                    tokio::io::copy(&mut (&mut self.stream).take(n - buffered as u64), &mut sink)
                        .await;
            }
            None => {
                self.consume(buffered);
                let _ = tokio::io::copy(&mut self.stream, &mut sink).await;
            }
        }
    }
}
