//! The gateway's front door: a relay that bounds what a request may make the kit hold.
//!
//! Every connection to the gateway comes here first and is relayed, byte for byte, to
//! whichever server plays the scenario (wiremock or [`super::raw`]). wiremock reads a whole
//! request body into memory before it answers, so the bound is kept here, before it sees
//! anything: a body declared larger than [`MAX_BODY_BYTES`] by `Content-Length`, or a chunked
//! body that grows past it, is never relayed. The request is recorded with its body cut to
//! the limit, fails request check 8 (`docs/contract.md#request-checks`), and gets HTTP 413
//! with `connection: close`. What the client goes on sending is read and dropped, so it sees
//! the 413 rather than a reset connection.
//!
//! A request within the limit is read whole (at most the limit, so at most 1 MiB held) and
//! passed on: to the gateway's own raw responder on a connection of the client's own, its
//! answers relayed back byte for byte as they come (so its scripted faults reach the client
//! as made); or to a shared wiremock server ([`super::shared`]) on a kept-alive connection,
//! with the gateway's route added, its answer read back whole and passed on. A client that
//! waits for `100 Continue` gets it from here, and the server behind sees no `Expect`: the
//! body is read here before the server sees the request.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use super::listener::{Door, HEAD_TIME};
use super::shared::Route;
use super::{Core, GatewayError};
use crate::contract::{Check, CheckId, Failure, RecordedRequest};

/// The largest request body the gateway reads, in bytes (1 MiB). A cancel body is well under
/// a kilobyte; a larger one is refused with HTTP 413.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The check a request over the limit fails: request check 8, `body-size` (MUST).
pub fn body_size_check(n: usize, seen: String) -> Check {
    CheckId::BodySize.fail_on(
        n,
        Failure::new(
            format!("{}; refused with HTTP 413", too_large_message()),
            format!("at most {MAX_BODY_BYTES} bytes"),
            seen,
        ),
    )
}

/// Why a request over the limit is refused.
pub fn too_large_message() -> String {
    format!("the request body is larger than {MAX_BODY_BYTES} bytes (1 MiB), the gateway's limit")
}

/// The 413 a request over the limit gets, closing the connection.
pub fn payload_too_large() -> super::HttpAnswer {
    super::HttpAnswer {
        status: 413,
        headers: vec![
            (
                "content-type".to_owned(),
                "text/plain; charset=UTF-8".to_owned(),
            ),
            ("connection".to_owned(), "close".to_owned()),
        ],
        body: too_large_message().into_bytes(),
        delay: Duration::ZERO,
        fault: None,
    }
}

/// The buffer a client connection is read through: a request is a kilobyte or so, and a
/// larger one is read in more turns.
const REQUEST_BUFFER: usize = 4096;

/// The largest request head (request line and header fields) read; past it the connection
/// is closed.
const MAX_HEAD_BYTES: u64 = 64 * 1024;

/// Connections one gateway's front door holds at once; a scenario has one client.
const MAX_CONNECTIONS: usize = 256;

/// How long a client connection may stay idle before its next request: long, as a client
/// waiting for a delayed answer is idle here too.
const IDLE_TIME: Duration = Duration::from_secs(120);

/// A running front; stops (with every relayed connection) when dropped.
pub(crate) struct LimitFront {
    task: JoinHandle<()>,
}

impl Drop for LimitFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Where the front door passes requests on.
pub(crate) enum Upstream {
    /// The gateway's own raw responder, on a connection per client connection.
    Raw(SocketAddr),
    /// A shared wiremock server, the requests carrying the gateway's route.
    Shared(Arc<Route>),
}

impl LimitFront {
    /// Accepts on `listener` and passes each connection's requests to `upstream`.
    pub(crate) fn start(
        listener: std::net::TcpListener,
        upstream: Upstream,
        core: Arc<Core>,
    ) -> Result<LimitFront, GatewayError> {
        listener
            .set_nonblocking(true)
            .map_err(GatewayError::Socket)?;
        let listener = TcpListener::from_std(listener).map_err(GatewayError::Socket)?;
        let door = Door::new(MAX_CONNECTIONS);
        let task = tokio::spawn(async move {
            // Dropping the set (when the front is aborted) aborts every relay.
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let (stream, slot) = door.admit(&listener).await;
                while connections.try_join_next().is_some() {}
                let (core, door) = (core.clone(), door.clone());
                match &upstream {
                    Upstream::Raw(addr) => {
                        let addr = *addr;
                        connections.spawn(async move {
                            relay(stream, addr, core, &door).await;
                            drop(slot);
                        })
                    }
                    Upstream::Shared(route) => {
                        let route = route.clone();
                        connections.spawn(async move {
                            relay_shared(stream, route, core, &door).await;
                            drop(slot);
                        })
                    }
                };
            }
        });
        Ok(LimitFront { task })
    }
}

/// A request whose body is over the limit, as far as it was read.
struct TooLarge {
    request: RecordedRequest,
    /// What gave the size away, for the check's `seen`.
    seen: String,
    /// Body bytes still to read and drop after the 413 (`None`: until the client closes).
    left: Option<u64>,
}

enum Next {
    /// A whole request, to pass on.
    Request(Request),
    /// The client closed the connection (or broke it).
    Closed,
    /// Refuse this one with 413 and close.
    TooLarge(TooLarge),
    /// Refuse this one with 400 and close: its framing is ambiguous (RFC 9112, section 6.3),
    /// so the server behind might read it otherwise.
    Bad(RecordedRequest, String),
}

async fn relay(client: TcpStream, upstream: SocketAddr, core: Arc<Core>, door: &Door) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = (client.set_nodelay(true), server.set_nodelay(true));
    let (client_in, client_out) = client.into_split();
    let (mut server_in, mut server_out) = server.into_split();
    let client_out = Arc::new(Mutex::new(client_out));
    // Set before the server side is closed for a 413: the client must then stay open for it.
    let refusing = Arc::new(AtomicBool::new(false));
    let answers = tokio::spawn({
        let (client_out, refusing) = (client_out.clone(), refusing.clone());
        async move {
            let mut buf = vec![0u8; 16 * 1024];
            while let Ok(n) = server_in.read(&mut buf).await {
                if n == 0 || client_out.lock().await.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
            // The server closed (after its answer, or as a scripted fault): so does the relay.
            if !refusing.load(Ordering::SeqCst) {
                let _ = client_out.lock().await.shutdown().await;
            }
        }
    });
    let mut reader = BufReader::with_capacity(REQUEST_BUFFER, client_in);
    loop {
        match next_request(&mut reader, &client_out, door).await {
            Ok(Next::Request(request)) => {
                if server_out.write_all(&request.wire(None)).await.is_err() {
                    return;
                }
            }
            Ok(Next::Closed) | Err(_) => {
                let _ = server_out.shutdown().await;
                return;
            }
            Ok(Next::Bad(request, why)) => {
                refusing.store(true, Ordering::SeqCst);
                let _ = server_out.shutdown().await;
                let _ = tokio::time::timeout(Duration::from_secs(2), answers).await;
                refuse_bad(&core, request, &why, &client_out).await;
                return;
            }
            Ok(Next::TooLarge(too_large)) => {
                refusing.store(true, Ordering::SeqCst);
                // Let the server finish the answers it owes (none, unless the client pipelines)
                // and close, so the 413 cannot overtake them.
                let _ = server_out.shutdown().await;
                let _ = tokio::time::timeout(Duration::from_secs(2), answers).await;
                refuse(too_large, &core, &client_out, &mut reader).await;
                return;
            }
        }
    }
}

/// A client connection's requests, each passed to the shared server with the gateway's route
/// and its answer passed back whole.
async fn relay_shared(client: TcpStream, route: Arc<Route>, core: Arc<Core>, door: &Door) {
    let _ = client.set_nodelay(true);
    let (client_in, client_out) = client.into_split();
    let client_out = Mutex::new(client_out);
    let mut reader = BufReader::with_capacity(REQUEST_BUFFER, client_in);
    loop {
        match next_request(&mut reader, &client_out, door).await {
            Ok(Next::Request(request)) => {
                let bytes = request.wire(Some(&route.header_line()));
                let Ok(answer) = route.server().send(&bytes, request.head_only).await else {
                    break;
                };
                let mut out = client_out.lock().await;
                if out.write_all(&answer.bytes).await.is_err() || answer.close || request.close {
                    break;
                }
            }
            Ok(Next::TooLarge(too_large)) => {
                refuse(too_large, &core, &client_out, &mut reader).await;
                return;
            }
            Ok(Next::Bad(request, why)) => {
                refuse_bad(&core, request, &why, &client_out).await;
                return;
            }
            Ok(Next::Closed) | Err(_) => break,
        }
    }
    let _ = client_out.lock().await.shutdown().await;
}

async fn refuse(
    too_large: TooLarge,
    core: &Core,
    client_out: &Mutex<OwnedWriteHalf>,
    reader: &mut BufReader<OwnedReadHalf>,
) {
    let message = core.refuse_too_large(too_large.request, too_large.seen);
    let head = format!(
        "HTTP/1.1 413 Payload Too Large\r\ncontent-type: text/plain; charset=UTF-8\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        message.len()
    );
    let mut out = client_out.lock().await;
    if out
        .write_all(&[head.as_bytes(), message.as_bytes()].concat())
        .await
        .is_err()
    {
        return;
    }
    // Read and drop the rest of the body, so the client, still sending, is not reset before it
    // reads the answer.
    let mut sink = tokio::io::sink();
    let _ = match too_large.left {
        Some(n) => tokio::io::copy(&mut reader.take(n), &mut sink).await,
        None => tokio::io::copy(reader, &mut sink).await,
    };
    let _ = out.shutdown().await;
}

/// Records a request refused for its framing and writes its 400, closing the connection.
async fn refuse_bad(
    core: &Core,
    request: RecordedRequest,
    why: &str,
    client_out: &Mutex<OwnedWriteHalf>,
) {
    let answer = core.refuse_bad_request(request, why);
    let mut head = "HTTP/1.1 400 Bad Request\r\n".to_owned();
    for (name, value) in &answer.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", answer.body.len()));
    let mut out = client_out.lock().await;
    let _ = out
        .write_all(&[head.as_bytes(), &answer.body].concat())
        .await;
    let _ = out.shutdown().await;
}

/// A request head: the raw bytes and what the relay needs from them.
struct Head {
    bytes: Vec<u8>,
    method: String,
    target: String,
    /// The request line says HTTP/1.0.
    http10: bool,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The client wants the connection closed after the answer: `Connection: close`, or
    /// HTTP/1.0 without `Connection: keep-alive`.
    fn wants_close(&self) -> bool {
        let connection = self.header("connection").unwrap_or("").to_ascii_lowercase();
        connection.contains("close") || (self.http10 && !connection.contains("keep-alive"))
    }

    fn record(&self, body: Vec<u8>) -> RecordedRequest {
        RecordedRequest {
            method: self.method.clone(),
            path: super::raw::path_of(&self.target),
            query: self.target.split_once('?').map(|(_, q)| q.to_owned()),
            headers: self.headers.clone(),
            body,
            received_at: Utc::now(),
        }
    }
}

/// A whole request within the limit, as the client sent it (less any `Expect`).
struct Request {
    /// The head, up to and with its empty line.
    head: Vec<u8>,
    /// The body as sent, chunked framing included.
    body: Vec<u8>,
    /// A `HEAD` request: its answer has no body.
    head_only: bool,
    /// The client asked for the connection to end after this answer (`Connection: close`,
    /// or HTTP/1.0 without keep-alive).
    close: bool,
}

impl Request {
    /// The bytes to pass on: head and body, with `line` (a header line) added last to the
    /// head when given.
    fn wire(&self, line: Option<&str>) -> Vec<u8> {
        let line = line.unwrap_or_default();
        // Before the empty line that ends the head: `\r\n` or a bare `\n`.
        let at = self.head.len()
            - if self.head.ends_with(b"\r\n\r\n") {
                2
            } else {
                1
            };
        let mut out = Vec::with_capacity(self.head.len() + line.len() + self.body.len());
        out.extend_from_slice(&self.head[..at]);
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(&self.head[at..]);
        out.extend_from_slice(&self.body);
        out
    }
}

/// Reads a request head, up to its empty line; `None` at a clean end of the connection.
async fn read_head(reader: &mut BufReader<OwnedReadHalf>) -> std::io::Result<Option<Head>> {
    let mut bytes = Vec::new();
    loop {
        let room = MAX_HEAD_BYTES.saturating_sub(bytes.len() as u64);
        if room == 0 {
            return Err(std::io::Error::other("request head too large"));
        }
        let n = (&mut *reader)
            .take(room)
            .read_until(b'\n', &mut bytes)
            .await?;
        if n == 0 {
            return if bytes.is_empty() {
                Ok(None)
            } else {
                Err(std::io::ErrorKind::UnexpectedEof.into())
            };
        }
        if bytes == b"\r\n" || bytes == b"\n" {
            // Blank lines before a request line are tolerated (RFC 9112, 2.2).
            bytes.clear();
        } else if bytes.ends_with(b"\n\r\n") || bytes.ends_with(b"\n\n") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let mut lines = text.lines();
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default().to_owned();
    let http10 = request_line.next() == Some("HTTP/1.0");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(Some(Head {
        bytes,
        method,
        target,
        http10,
        headers,
    }))
}

/// Reads one request from the client, whole, unless its body is over the limit.
async fn next_request(
    reader: &mut BufReader<OwnedReadHalf>,
    client_out: &Mutex<OwnedWriteHalf>,
    door: &Door,
) -> std::io::Result<Next> {
    // Idle until the request's first byte (a client that waits for a delayed answer is idle
    // here too, so the limit is generous; a full door closes idle connections sooner), then
    // the head within HEAD_TIME.
    let first_byte = async { reader.fill_buf().await.map(|bytes| !bytes.is_empty()) };
    if !matches!(door.idle(IDLE_TIME, first_byte).await, Some(Ok(true))) {
        return Ok(Next::Closed);
    }
    let head = tokio::time::timeout(HEAD_TIME, read_head(reader))
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?;
    let Some(mut head) = head? else {
        return Ok(Next::Closed);
    };
    if let Err(why) = super::raw::framing(&head.headers) {
        return Ok(Next::Bad(head.record(Vec::new()), why));
    }
    let chunked = head
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let expects_continue = head
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
    let length: u64 = head
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if !chunked && length > MAX_BODY_BYTES as u64 {
        // Refused on the declared length, before the body is read. A client waiting for
        // `100 Continue` sends none; any other gets its first MiB recorded.
        let mut body = Vec::new();
        if !expects_continue {
            (&mut *reader)
                .take(MAX_BODY_BYTES as u64)
                .read_to_end(&mut body)
                .await?;
        }
        return Ok(Next::TooLarge(TooLarge {
            seen: format!("Content-Length: {length}"),
            left: (!expects_continue).then(|| length - body.len() as u64),
            request: head.record(body),
        }));
    }
    if expects_continue {
        // The body is read here before the server sees the request, so the client's wait
        // for `100 Continue` is answered here; the server must not answer it again.
        client_out
            .lock()
            .await
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .await?;
        head.bytes = without_expect(&head.bytes);
    }
    let body = if chunked {
        match chunked_body(reader, &head).await? {
            Ok(raw) => raw,
            Err(next) => return Ok(next),
        }
    } else {
        let mut body = Vec::with_capacity(length as usize);
        (&mut *reader).take(length).read_to_end(&mut body).await?;
        if body.len() as u64 != length {
            return Ok(Next::Closed);
        }
        body
    };
    Ok(Next::Request(Request {
        head_only: head.method.eq_ignore_ascii_case("HEAD"),
        close: head.wants_close(),
        head: head.bytes,
        body,
    }))
}

/// Reads a chunked body whole (at most the limit): its bytes as sent, framing included, or
/// what to do instead (the body is over the limit, or cut short).
async fn chunked_body(
    reader: &mut BufReader<OwnedReadHalf>,
    head: &Head,
) -> std::io::Result<Result<Vec<u8>, Next>> {
    let mut raw = Vec::new();
    let mut body = Vec::new();
    loop {
        let size_line = read_line(reader, &mut raw).await?;
        let size = u64::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| std::io::Error::other("bad chunk size"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !read_line(reader, &mut raw).await?.is_empty() {}
            return Ok(Ok(raw));
        }
        let room = (MAX_BODY_BYTES - body.len()) as u64;
        if size > room {
            (&mut *reader).take(room).read_to_end(&mut body).await?;
            return Ok(Err(Next::TooLarge(TooLarge {
                seen: format!("a chunked body past {MAX_BODY_BYTES} bytes"),
                left: None,
                request: head.record(body),
            })));
        }
        let start = body.len();
        (&mut *reader).take(size).read_to_end(&mut body).await?;
        if body.len() - start != size as usize {
            return Ok(Err(Next::Closed));
        }
        raw.extend_from_slice(&body[start..]);
        read_line(reader, &mut raw).await?;
    }
}

/// Reads one line of a chunked body (at most 4 KiB), appends it to `raw` and returns it
/// without its line end.
async fn read_line(
    reader: &mut BufReader<OwnedReadHalf>,
    raw: &mut Vec<u8>,
) -> std::io::Result<String> {
    let mut line = Vec::new();
    (&mut *reader)
        .take(4096)
        .read_until(b'\n', &mut line)
        .await?;
    if !line.ends_with(b"\n") {
        return Err(std::io::Error::other("chunk line too long or cut short"));
    }
    raw.extend_from_slice(&line);
    Ok(String::from_utf8_lossy(&line).trim_end().to_owned())
}

/// The head without its `Expect` field.
fn without_expect(head: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.len());
    for line in head.split_inclusive(|&b| b == b'\n') {
        let name = line.split(|&b| b == b':').next().unwrap_or_default();
        if line.contains(&b':') && name.trim_ascii().eq_ignore_ascii_case(b"expect") {
            continue;
        }
        out.extend_from_slice(line);
    }
    out
}
