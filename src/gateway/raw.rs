//! A small HTTP/1.1 responder of our own, for the faults wiremock cannot express: a
//! connection closed before any response, and a body cut short of its `Content-Length`.
//!
//! It reads requests through [`super::http`], as every listener of the kit does, and answers
//! through the same core as the wiremock front, so recording, checks and signing are
//! identical; only its writing is its own, as a fault is written below HTTP. The
//! standing gateway of `serve` answers through it too (any [`Responder`]): it needs the
//! faults on every connection, and a bound on connections that wiremock does not offer.

use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::answer::HttpAnswer;
use super::http::response::answer_head;
use super::http::{Body, Incoming, Reader};
use super::listener::{Door, IDLE_TIME};
use super::GatewayError;
use crate::contract::RecordedRequest;
use crate::scenario::Fault;

/// An answer being worked out: at once (a gateway), or after a trip upstream (`proxy`).
pub type Answering<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = HttpAnswer> + Send + 'a>>;

/// Whatever decides the answer to a request: a scenario's gateway, `serve`'s, or `proxy`.
pub trait Responder: Send + Sync + 'static {
    /// Records the request and decides its answer.
    fn answer(&self, request: RecordedRequest) -> Answering<'_>;

    /// Records a request whose body is over [`super::http::MAX_BODY_BYTES`] (its body cut there; `seen`
    /// says what gave the size away) and returns the 413 it gets.
    fn too_large(&self, request: RecordedRequest, seen: String) -> HttpAnswer;

    /// A request refused unread for its framing or its header bytes (`why` says which rule of
    /// RFC 9112 it breaks): the 400 it gets. `serve` and `proxy` journal it; by default it
    /// is only answered.
    fn bad_request(&self, request: RecordedRequest, why: String) -> HttpAnswer {
        let _ = request;
        bad_request_answer(&why)
    }
}

/// The rule a request refused for its framing or header bytes breaks.
pub const FRAMING_RULE: &str = "docs/serve.md#what-serve-refuses-before-reading";

/// The check a request refused for its framing or header bytes fails: `request[N].framing`
/// (MUST), saying which rule of RFC 9112 it breaks.
pub fn framing_check(seq: u64, why: &str) -> crate::contract::Check {
    crate::contract::Check::fail(
        &format!("request[{seq}].framing"),
        crate::contract::Level::Must,
        FRAMING_RULE,
        format!("refused with HTTP 400: {why}"),
        "header lines without CR or LF, and one unambiguous body length (RFC 9112)",
        why,
    )
}

/// The 400 a request with ambiguous framing or a CR or LF inside a header gets, closing the
/// connection (what follows its head cannot be told apart from the next request).
pub fn bad_request_answer(why: &str) -> HttpAnswer {
    HttpAnswer {
        status: 400,
        headers: vec![
            (
                "content-type".to_owned(),
                "text/plain; charset=UTF-8".to_owned(),
            ),
            ("connection".to_owned(), "close".to_owned()),
            ("x-kit-error".to_owned(), visible(why)),
        ],
        body: format!("bad request: {why}\n").into_bytes(),
        delay: std::time::Duration::ZERO,
        fault: None,
    }
}

/// Limits on what one server holds at once, so no client can exhaust the kit.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Connections served at once; further ones are accepted and closed at once.
    pub connections: usize,
    /// How long a connection may take to deliver one whole request (idle or dribbling).
    pub request_timeout: std::time::Duration,
}

impl Limits {
    /// A scenario's gateway: one client, which the scenario's time limit bounds already.
    pub const SCENARIO: Limits = Limits {
        connections: 64,
        request_timeout: std::time::Duration::from_secs(60),
    };
}

/// A running raw responder; stops when dropped.
pub struct RawServer {
    task: JoinHandle<()>,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawServer {
    /// Serves `listener` until dropped, every request answered by `responder`.
    ///
    /// # Errors
    /// When the listener cannot be handed to the runtime.
    pub fn start(
        listener: std::net::TcpListener,
        responder: Arc<dyn Responder>,
        limits: Limits,
    ) -> Result<RawServer, GatewayError> {
        listener
            .set_nonblocking(true)
            .map_err(GatewayError::Socket)?;
        let listener = TcpListener::from_std(listener).map_err(GatewayError::Socket)?;
        let door = Door::new(limits.connections);
        let task = tokio::spawn(async move {
            // Dropping the set (when the server is aborted) aborts every connection.
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let (stream, slot) = door.admit(&listener).await;
                // Reap finished connections so the set does not grow with every one served.
                while connections.try_join_next().is_some() {}
                let (responder, door) = (responder.clone(), door.clone());
                connections.spawn(async move {
                    serve(stream, responder, limits.request_timeout, &door).await;
                    drop(slot);
                });
            }
        });
        Ok(RawServer { task })
    }
}

async fn serve(
    stream: TcpStream,
    responder: Arc<dyn Responder>,
    timeout: std::time::Duration,
    door: &Door,
) {
    let _ = stream.set_nodelay(true);
    let mut reader = Reader::new(stream);
    loop {
        // Idle between requests (or before the first): closed after IDLE_TIME, or at once when
        // the server needs the slot for a newcomer.
        if !matches!(door.idle(IDLE_TIME, reader.ready()).await, Some(Ok(true))) {
            return;
        }
        let send_continue = async |stream: &mut TcpStream| stream.write_all(&continue_head()).await;
        let incoming = tokio::time::timeout(timeout, reader.request(false, send_continue)).await;
        let (request, close) = match incoming {
            Ok(Ok(Some(Incoming::Request(head, Body::Whole { data, .. })))) => {
                (head.record(data), head.wants_close())
            }
            Ok(Ok(Some(Incoming::Bad(request, why)))) => {
                let answer = responder.bad_request(request, why.to_string());
                let _ = reader.get_mut().write_all(&whole(&answer)).await;
                return;
            }
            Ok(Ok(Some(Incoming::Request(head, Body::TooLarge { data, seen, left })))) => {
                let answer = responder.too_large(head.record(data), seen);
                let _ = reader.get_mut().write_all(&whole(&answer)).await;
                // Read and drop what the client goes on sending (for a while), so it reads the
                // 413 instead of a reset connection; nothing of it is kept.
                let drain = reader.discard(left);
                let _ = tokio::time::timeout(std::time::Duration::from_secs(5), drain).await;
                return;
            }
            _ => return,
        };
        let answer = responder.answer(request).await;
        if !answer.delay.is_zero() {
            tokio::time::sleep(answer.delay).await;
        }
        let stream = reader.get_mut();
        match answer.fault {
            Some(Fault::CloseBeforeResponse) => return,
            Some(Fault::TruncateBody) => {
                let head = answer_head(answer.status, &answer.headers, answer.body.len());
                let half = &answer.body[..answer.body.len() / 2];
                let _ = stream.write_all(&[head.as_bytes(), half].concat()).await;
                let _ = stream.flush().await;
                return;
            }
            None => {
                if stream.write_all(&whole(&answer)).await.is_err() {
                    return;
                }
            }
        }
        if close {
            return;
        }
    }
}

/// An answer's bytes, head and whole body.
fn whole(answer: &HttpAnswer) -> Vec<u8> {
    let head = answer_head(answer.status, &answer.headers, answer.body.len());
    [head.as_bytes(), &answer.body].concat()
}

/// What a client waiting to send its body is told: go on.
pub(crate) fn continue_head() -> Vec<u8> {
    b"HTTP/1.1 100 Continue\r\n\r\n".to_vec()
}

pub(crate) use super::http::visible;

#[cfg(test)]
mod tests {
    #[test]
    fn a_request_over_the_limit_fails_check_8() {
        let check = super::super::limit::body_size_check(3, "Content-Length: 2000000".into());
        assert_eq!(check.id, "request[3].body-size");
        assert_eq!(
            (check.level, check.held),
            (crate::contract::Level::Must, false)
        );
        assert_eq!(check.expected.as_deref(), Some("at most 1048576 bytes"));
        assert_eq!(check.seen.as_deref(), Some("Content-Length: 2000000"));
        assert_eq!(check.rule, "docs/contract.md#request-checks 8");
    }
}
