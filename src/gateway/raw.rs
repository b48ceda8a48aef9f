//! A small HTTP/1.1 responder of our own, for the faults wiremock cannot express: a
//! connection closed before any response, and a body cut short of its `Content-Length`.
//!
//! It reads requests (`Content-Length` or chunked bodies, keep-alive) and answers through
//! the same core as the wiremock front, so recording, checks and signing are identical. The
//! standing gateway of `serve` answers through it too (any [`Responder`]): it needs the
//! faults on every connection, and a bound on connections that wiremock does not offer.

use std::sync::Arc;

use chrono::Utc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::answer::HttpAnswer;
use super::listener::{Door, HEAD_TIME, IDLE_TIME};
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

    /// Records a request whose body is over [`MAX_BODY_BYTES`] (its body cut there; `seen`
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

/// The largest request head the responder reads; more is a broken client.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The largest request body read: the gateway's limit, as in front of wiremock.
use super::limit::MAX_BODY_BYTES;

/// What a connection delivered.
enum Incoming {
    /// A whole request.
    Request(RecordedRequest),
    /// A request whose body is over [`MAX_BODY_BYTES`], its body cut there.
    TooLarge(RecordedRequest, String),
    /// A request refused for its framing or header bytes, before its body; why.
    Bad(RecordedRequest, String),
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
    let mut reader = BufReader::new(stream);
    loop {
        // Idle between requests (or before the first): closed after IDLE_TIME, or at once when
        // the server needs the slot for a newcomer.
        let first_byte = async { reader.fill_buf().await.map(|bytes| !bytes.is_empty()) };
        if !matches!(door.idle(IDLE_TIME, first_byte).await, Some(Ok(true))) {
            return;
        }
        let request = match tokio::time::timeout(timeout, read_request(&mut reader)).await {
            Ok(Ok(Some(Incoming::Request(request)))) => request,
            Ok(Ok(Some(Incoming::Bad(request, why)))) => {
                let answer = responder.bad_request(request, why);
                let head = response_head(answer.status, &answer.headers, answer.body.len());
                let _ = reader
                    .get_mut()
                    .write_all(&[head.as_bytes(), &answer.body].concat())
                    .await;
                return;
            }
            Ok(Ok(Some(Incoming::TooLarge(request, seen)))) => {
                let answer = responder.too_large(request, seen);
                let head = response_head(answer.status, &answer.headers, answer.body.len());
                let stream = reader.get_mut();
                let _ = stream
                    .write_all(&[head.as_bytes(), &answer.body].concat())
                    .await;
                // Read and drop what the client goes on sending (for a while), so it reads the
                // 413 instead of a reset connection; nothing of it is kept.
                let mut sink = tokio::io::sink();
                let drain = tokio::io::copy(&mut reader, &mut sink);
                let _ = tokio::time::timeout(std::time::Duration::from_secs(5), drain).await;
                return;
            }
            _ => return,
        };
        let keep_alive = request
            .header("connection")
            .is_none_or(|v| !v.eq_ignore_ascii_case("close"));
        let answer = responder.answer(request).await;
        if !answer.delay.is_zero() {
            tokio::time::sleep(answer.delay).await;
        }
        let stream = reader.get_mut();
        match answer.fault {
            Some(Fault::CloseBeforeResponse) => return,
            Some(Fault::TruncateBody) => {
                let head = response_head(answer.status, &answer.headers, answer.body.len());
                let half = &answer.body[..answer.body.len() / 2];
                let _ = stream.write_all(&[head.as_bytes(), half].concat()).await;
                let _ = stream.flush().await;
                return;
            }
            None => {
                let head = response_head(answer.status, &answer.headers, answer.body.len());
                if stream
                    .write_all(&[head.as_bytes(), &answer.body].concat())
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
        if !keep_alive {
            return;
        }
    }
}

/// `text` with every control character but tab left out: what may stand in a header value.
pub(crate) fn visible(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .collect()
}

/// The head of an answer. A header value never carries a CR, an LF or another control
/// character onto the wire, wherever it came from (an echoed request header, an upstream's
/// answer): they are left out.
fn response_head(status: u16, headers: &[(String, String)], length: usize) -> String {
    let reason = match status {
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
        head.push_str(&format!("{}: {}\r\n", visible(name), visible(value)));
    }
    head.push_str(&format!("content-length: {length}\r\n\r\n"));
    head
}

/// Reads one request; `Ok(None)` at a clean end of the connection. Its head must come within
/// [`HEAD_TIME`].
async fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Incoming>> {
    let head = match tokio::time::timeout(HEAD_TIME, read_head(reader)).await {
        Ok(head) => head?,
        Err(_) => return Err(std::io::ErrorKind::TimedOut.into()),
    };
    let Some(head) = head else { return Ok(None) };
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default();
    let mut request = RecordedRequest {
        method,
        path: path_of(target),
        query: target.split_once('?').map(|(_, q)| q.to_owned()),
        headers: Vec::new(),
        body: Vec::new(),
        received_at: Utc::now(),
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut broken = None;
    for line in lines.filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name_lower = name.trim().to_ascii_lowercase();
        if broken.is_none() {
            broken = header_fault(name, value, &name_lower);
        }
        headers.push((name_lower, value.trim().to_owned()));
    }
    request.headers = headers;
    let framing = match broken {
        Some(why) => Err(why),
        None => framing(&request.headers),
    };
    let (chunked, length) = match framing {
        Ok(framing) => framing,
        Err(why) => return Ok(Some(Incoming::Bad(request, why))),
    };
    if chunked {
        let (body, complete) = read_chunked(reader).await?;
        request.body = body;
        if !complete {
            let seen = format!("a chunked body past {MAX_BODY_BYTES} bytes");
            return Ok(Some(Incoming::TooLarge(request, seen)));
        }
    } else if length > MAX_BODY_BYTES as u64 {
        let seen = format!("content-length: {length}");
        return Ok(Some(Incoming::TooLarge(request, seen)));
    } else {
        request.body = vec![0; length as usize];
        reader.read_exact(&mut request.body).await?;
    }
    Ok(Some(Incoming::Request(request)))
}

/// A request head, up to and with its empty line; `None` when the connection ends first.
async fn read_head(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Vec<u8>>> {
    let mut head = Vec::new();
    loop {
        let mut byte = [0u8; 1];
        if reader.read(&mut byte).await? == 0 {
            return Ok(None);
        }
        head.push(byte[0]);
        if head.ends_with(b"\r\n\r\n") {
            return Ok(Some(head));
        }
        if head.len() > MAX_HEAD_BYTES {
            return Err(std::io::Error::other("request head too large"));
        }
    }
}

/// What is wrong with one header line, by RFC 9112: a CR or LF inside it (a bare one, as the
/// head is split at CRLF; echoed into an answer it would forge a header), or white space
/// between the name and its colon (section 5.1).
fn header_fault(name: &str, value: &str, lower: &str) -> Option<String> {
    if name.contains(['\r', '\n']) || value.contains(['\r', '\n']) {
        return Some(format!(
            "header `{}`: a CR or LF inside a header line (RFC 9112, section 2.2)",
            visible(lower)
        ));
    }
    if name != name.trim_start() || name != name.trim_end() {
        return Some(format!(
            "header `{}`: white space between the field name and the colon (RFC 9112, section 5.1)",
            visible(lower)
        ));
    }
    None
}

/// How a request's body is framed: chunked, or its length. `Err` says why it cannot be told
/// for sure (RFC 9112, section 6.3), which is refused rather than guessed, as a proxy
/// in front of the kit might guess otherwise (request smuggling).
pub(crate) fn framing(headers: &[(String, String)]) -> Result<(bool, u64), String> {
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
            return Err("both Transfer-Encoding and Content-Length (RFC 9112, section 6.3)".into());
        }
        if codings.last().map(String::as_str) != Some("chunked") {
            return Err(format!(
                "Transfer-Encoding `{}` does not end in chunked (RFC 9112, section 6.3)",
                visible(&codings.join(", "))
            ));
        }
        return Ok((true, 0));
    }
    let mut length = None;
    for value in &lengths {
        let parsed =
            (!value.is_empty() && value.len() <= 19 && value.bytes().all(|b| b.is_ascii_digit()))
                .then(|| value.parse::<u64>().ok())
                .flatten()
                .ok_or_else(|| {
                    format!(
                        "Content-Length `{}` is not a decimal length (RFC 9112, section 6.3)",
                        visible(value)
                    )
                })?;
        if length.is_some_and(|l| l != parsed) {
            return Err(format!(
                "Content-Length given twice, differently: {} (RFC 9112, section 6.3)",
                lengths.join(", ")
            ));
        }
        length = Some(parsed);
    }
    Ok((false, length.unwrap_or(0)))
}

/// The path of a request target in origin form (`/a?b`) or absolute form (`https://h/a?b`).
pub(crate) fn path_of(target: &str) -> String {
    let without_scheme = target.split_once("://").map_or(target, |(_, rest)| {
        rest.find('/').map_or("/", |i| &rest[i..])
    });
    without_scheme.split('?').next().unwrap_or("/").to_owned()
}

/// A chunked body, and whether it ended within [`MAX_BODY_BYTES`] (if not, it is cut there and
/// the rest is left unread).
async fn read_chunked(reader: &mut BufReader<TcpStream>) -> std::io::Result<(Vec<u8>, bool)> {
    let mut body = Vec::new();
    loop {
        let size_line = read_line(reader).await?;
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| std::io::Error::other("bad chunk size"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !read_line(reader).await?.is_empty() {}
            return Ok((body, true));
        }
        let start = body.len();
        let take = size.min(MAX_BODY_BYTES + 1 - start);
        body.resize(start + take, 0);
        reader.read_exact(&mut body[start..]).await?;
        if body.len() > MAX_BODY_BYTES {
            body.truncate(MAX_BODY_BYTES);
            return Ok((body, false));
        }
        read_line(reader).await?;
    }
}

async fn read_line(reader: &mut BufReader<TcpStream>) -> std::io::Result<String> {
    let mut line = Vec::new();
    loop {
        let byte = reader.read_u8().await?;
        if byte == b'\n' {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(String::from_utf8_lossy(&line).into_owned());
        }
        line.push(byte);
        if line.len() > 4096 {
            return Err(std::io::Error::other("line too long"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the responder reads from a connection that sends `bytes`.
    async fn read(bytes: Vec<u8>) -> Incoming {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        // Written from a task of its own: a body past the limit outgrows the socket buffers.
        let writer = tokio::spawn(async move {
            let _ = client.write_all(&bytes).await;
            client
        });
        let (server, _) = listener.accept().await.unwrap();
        let incoming = read_request(&mut BufReader::new(server))
            .await
            .unwrap()
            .unwrap();
        drop(writer);
        incoming
    }

    fn whole(incoming: Incoming) -> RecordedRequest {
        match incoming {
            Incoming::Request(request) => request,
            Incoming::TooLarge(_, seen) => panic!("refused as too large: {seen}"),
            Incoming::Bad(_, why) => panic!("refused: {why}"),
        }
    }

    #[tokio::test]
    async fn a_chunked_body_is_read_whole_with_extensions_and_trailers() {
        let bytes = b"POST /ams/api/v1/payments/cancel HTTP/1.1\r\nhost: x\r\nTransfer-Encoding: Chunked\r\n\r\n\
            5;ext=1\r\n{\"pay\r\nA\r\nmentId\":\"1\r\n2\r\n\"}\r\n0\r\ntrailer: t\r\n\r\n";
        let request = whole(read(bytes.to_vec()).await);
        assert_eq!(request.body, br#"{"paymentId":"1"}"#);
        assert_eq!(request.path, "/ams/api/v1/payments/cancel");
        assert_eq!(request.header("transfer-encoding"), Some("Chunked"));
    }

    #[tokio::test]
    async fn a_chunked_body_past_the_limit_is_cut_there_and_refused() {
        let mut bytes =
            b"POST /ams/api/v1/payments/cancel HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n"
                .to_vec();
        let chunk = vec![b'a'; 600 * 1024];
        for _ in 0..2 {
            bytes.extend(format!("{:x}\r\n", chunk.len()).bytes());
            bytes.extend(&chunk);
            bytes.extend(b"\r\n");
        }
        bytes.extend(b"0\r\n\r\n");
        match read(bytes).await {
            Incoming::TooLarge(request, seen) => {
                assert_eq!(seen, format!("a chunked body past {MAX_BODY_BYTES} bytes"));
                assert_eq!(request.body.len(), MAX_BODY_BYTES);
            }
            _ => panic!("a body over the limit was read whole"),
        }
    }

    #[tokio::test]
    async fn a_declared_length_past_the_limit_is_refused_unread() {
        let bytes =
            b"POST /ams/api/v1/payments/cancel HTTP/1.1\r\ncontent-length: 2000000\r\n\r\n{}";
        match read(bytes.to_vec()).await {
            Incoming::TooLarge(request, seen) => {
                assert_eq!(seen, "content-length: 2000000");
                assert!(request.body.is_empty());
            }
            _ => panic!("a body over the limit was read"),
        }
    }

    #[tokio::test]
    async fn an_absolute_form_target_is_recorded_by_its_path_and_query() {
        let bytes = b"POST https://open-sea-global.alipay.com:443/ams/api/v1/payments/cancel?trace=a%2Bb HTTP/1.1\r\n\
            content-length: 2\r\n\r\n{}";
        let request = whole(read(bytes.to_vec()).await);
        assert_eq!(request.path, "/ams/api/v1/payments/cancel");
        assert_eq!(request.query.as_deref(), Some("trace=a%2Bb"));
        assert_eq!(request.query_param("trace").as_deref(), Some("a+b"));
        assert_eq!(request.body, b"{}");
        let path = crate::contract::request::path(&request, 1, "TEST_5YBZ1");
        assert!(path.held, "{path:?}");
    }

    #[tokio::test]
    async fn a_cr_or_lf_inside_a_header_or_ambiguous_framing_is_refused_unread() {
        let cases: [(&[u8], &str); 6] = [
            (
                b"POST / HTTP/1.1\r\nclient-id: A\nset-cookie: x=1\r\ncontent-length: 0\r\n\r\n",
                "CR or LF",
            ),
            (
                b"POST / HTTP/1.1\r\ncontent-length: -1\r\n\r\n",
                "`-1` is not a decimal length",
            ),
            (
                b"POST / HTTP/1.1\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}",
                "given twice, differently",
            ),
            (
                b"POST / HTTP/1.1\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n{}",
                "both Transfer-Encoding and Content-Length",
            ),
            (
                b"POST / HTTP/1.1\r\ntransfer-encoding: chunked, gzip\r\n\r\n",
                "does not end in chunked",
            ),
            (
                b"POST / HTTP/1.1\r\ncontent-length : 2\r\n\r\n{}",
                "white space between",
            ),
        ];
        for (bytes, why) in cases {
            match read(bytes.to_vec()).await {
                Incoming::Bad(_, said) => assert!(said.contains(why), "{said} (wanted {why})"),
                _ => panic!("read leniently: {}", String::from_utf8_lossy(bytes)),
            }
        }
        // The same length twice is one length.
        let bytes = b"POST / HTTP/1.1\r\ncontent-length: 2, 2\r\n\r\n{}";
        assert_eq!(whole(read(bytes.to_vec()).await).body, b"{}");
    }

    #[test]
    fn no_control_character_reaches_an_answer_head() {
        let head = response_head(
            200,
            &[("client-id".into(), "A\nset-cookie: x=1\r".into())],
            0,
        );
        assert!(head.contains("client-id: Aset-cookie: x=1\r\n"), "{head}");
        assert_eq!(head.matches('\n').count(), 4, "{head}");
    }

    #[test]
    fn path_of_takes_the_path_from_either_form() {
        assert_eq!(path_of("/a/b?c=d"), "/a/b");
        assert_eq!(path_of("http://host:80/a/b"), "/a/b");
        assert_eq!(path_of("https://host"), "/");
        assert_eq!(path_of("https://host?x"), "/");
    }

    #[test]
    fn a_request_over_the_limit_fails_check_8() {
        let check = super::super::limit::body_size_check(3, "content-length: 2000000".into());
        assert_eq!(check.id, "request[3].body-size");
        assert_eq!(
            (check.level, check.held),
            (crate::contract::Level::Must, false)
        );
        assert_eq!(check.expected.as_deref(), Some("at most 1048576 bytes"));
        assert_eq!(check.seen.as_deref(), Some("content-length: 2000000"));
        assert_eq!(check.rule, "docs/contract.md#request-checks 8");
    }
}
