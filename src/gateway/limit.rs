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
//! as made); or to a shared wiremock server (`shared`) on a kept-alive connection,
//! with the gateway's route added, its answer read back whole and passed on. A client that
//! waits for `100 Continue` gets it from here, and the server behind sees no `Expect`: the
//! body is read here before the server sees the request.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use super::http::response::answer_head;
use super::http::{Body, FramingError, HttpError, Incoming, Reader};
use super::listener::Door;
use super::shared::Route;
use super::{Core, GatewayError};
use crate::contract::{Check, CheckId, Failure, RecordedRequest};

pub use super::http::MAX_BODY_BYTES;

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
pub(crate) enum PassOn {
    /// The gateway's own raw responder, on a connection per client connection.
    Raw(SocketAddr),
    /// A shared wiremock server, the requests carrying the gateway's route.
    Shared(Arc<Route>),
}

impl LimitFront {
    /// Accepts on `listener` and passes each connection's requests to `upstream`.
    pub(crate) fn start(
        listener: std::net::TcpListener,
        upstream: PassOn,
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
                    PassOn::Raw(addr) => {
                        let addr = *addr;
                        connections.spawn(async move {
                            relay(stream, addr, core, &door).await;
                            drop(slot);
                        })
                    }
                    PassOn::Shared(route) => {
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
    Bad(RecordedRequest, FramingError),
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
    let mut reader = Reader::new(client_in);
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
    let mut reader = Reader::new(client_in);
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
    reader: &mut Reader<OwnedReadHalf>,
) {
    let message = core.refuse_too_large(too_large.request, too_large.seen);
    let head = answer_head(413, &payload_too_large().headers, message.len());
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
    reader.discard(too_large.left).await;
    let _ = out.shutdown().await;
}

/// Records a request refused for its framing and writes its 400, closing the connection.
async fn refuse_bad(
    core: &Core,
    request: RecordedRequest,
    why: &FramingError,
    client_out: &Mutex<OwnedWriteHalf>,
) {
    let answer = core.refuse_bad_request(request, &why.to_string());
    let head = answer_head(answer.status, &answer.headers, answer.body.len());
    let mut out = client_out.lock().await;
    let _ = out
        .write_all(&[head.as_bytes(), &answer.body].concat())
        .await;
    let _ = out.shutdown().await;
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

/// Reads one request from the client, whole, unless its body is over the limit or its
/// framing is refused.
async fn next_request(
    reader: &mut Reader<OwnedReadHalf>,
    client_out: &Mutex<OwnedWriteHalf>,
    door: &Door,
) -> Result<Next, HttpError> {
    // Idle until the request's first byte (a client that waits for a delayed answer is idle
    // here too, so the limit is generous; a full door closes idle connections sooner).
    if !matches!(door.idle(IDLE_TIME, reader.ready()).await, Some(Ok(true))) {
        return Ok(Next::Closed);
    }
    // The body is read here before the server sees the request, so a client's wait for
    // `100 Continue` is answered here; the server must not answer it again.
    let send_continue = async |_: &mut OwnedReadHalf| {
        let mut out = client_out.lock().await;
        out.write_all(&super::raw::continue_head()).await
    };
    let next = match reader.request(true, send_continue).await? {
        None => Next::Closed,
        Some(Incoming::Bad(request, why)) => Next::Bad(request, why),
        Some(Incoming::Request(head, Body::TooLarge { data, seen, left })) => {
            Next::TooLarge(TooLarge {
                request: head.record(data),
                seen,
                left,
            })
        }
        Some(Incoming::Request(head, Body::Whole { data, framed })) => Next::Request(Request {
            head_only: head.method.eq_ignore_ascii_case("HEAD"),
            close: head.wants_close(),
            head: if head.expects_continue() {
                without_expect(&head.bytes)
            } else {
                head.bytes
            },
            body: framed.unwrap_or(data),
        }),
    };
    Ok(next)
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
