//! An input read through a bounded window: memory stays a little over [`MAX_BODY_BYTES`]
//! whatever the input, even an endless line without a line break.

use std::io::{self, Read};

use super::MAX_BODY_BYTES;

/// How much input is read at a time.
const CHUNK: usize = 64 * 1024;

/// An input seen through a window: what is held is the rest of the current line or document,
/// at most a little over [`MAX_BODY_BYTES`] ahead, however long the input or its lines.
pub(super) struct Window<R> {
    reader: R,
    buf: Vec<u8>,
    /// Where the unread part of `buf` starts.
    pos: usize,
    eof: bool,
    /// The 1-based line number at `pos`.
    pub(super) line: usize,
    /// Whether any non-whitespace byte was seen (an all-blank input is no input).
    pub(super) seen_any: bool,
}

impl<R: Read> Window<R> {
    pub(super) fn new(reader: R) -> Window<R> {
        Window {
            reader,
            buf: Vec::new(),
            pos: 0,
            eof: false,
            line: 1,
            seen_any: false,
        }
    }

    /// The unread bytes held.
    pub(super) fn rest(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Reads one more chunk; `false` at the end of the input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        // Drop what was read before growing: the window never holds more than it must.
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let start = self.buf.len();
        self.buf.resize(start + CHUNK, 0);
        let n = loop {
            match self.reader.read(&mut self.buf[start..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(start);
                    return Err(e);
                }
            }
        };
        self.buf.truncate(start + n);
        self.eof = n == 0;
        Ok(n > 0)
    }

    /// Reads until the window holds `MAX_BODY_BYTES + 1` unread bytes or the input ends: a
    /// document that fits the limit is then held whole.
    pub(super) fn fill_window(&mut self) -> io::Result<()> {
        while self.rest().len() <= MAX_BODY_BYTES && self.fill()? {}
        Ok(())
    }

    /// Moves past `n` unread bytes, counting lines.
    pub(super) fn consume(&mut self, n: usize) {
        let n = n.min(self.rest().len());
        self.line += self.buf[self.pos..self.pos + n]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.pos += n;
    }

    /// Skips whitespace; `false` when the input ends first.
    pub(super) fn skip_whitespace(&mut self) -> io::Result<bool> {
        loop {
            match self.rest().iter().position(|b| !b.is_ascii_whitespace()) {
                Some(skip) => {
                    self.consume(skip);
                    self.seen_any = true;
                    return Ok(true);
                }
                None => {
                    let all = self.rest().len();
                    self.consume(all);
                    if !self.fill()? {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// The length of the current line (up to its line feed or the end of input), or `None`
    /// when it is longer than [`MAX_BODY_BYTES`].
    pub(super) fn line_len(&mut self) -> io::Result<Option<usize>> {
        let mut scanned = 0;
        loop {
            if let Some(p) = self.rest()[scanned..].iter().position(|&b| b == b'\n') {
                let len = scanned + p;
                return Ok((len <= MAX_BODY_BYTES).then_some(len));
            }
            scanned = self.rest().len();
            if scanned > MAX_BODY_BYTES {
                return Ok(None);
            }
            if !self.fill()? {
                return Ok(Some(scanned));
            }
        }
    }

    /// Reads past the current line without keeping it; returns its length in bytes.
    pub(super) fn discard_line(&mut self) -> io::Result<usize> {
        let mut length = 0;
        loop {
            match self.rest().iter().position(|&b| b == b'\n') {
                Some(p) => {
                    self.pos += p;
                    return Ok(length + p);
                }
                None => {
                    length += self.rest().len();
                    self.pos = self.buf.len();
                    if !self.fill()? {
                        return Ok(length);
                    }
                }
            }
        }
    }
}
