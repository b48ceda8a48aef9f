//! The wiremock servers every gateway shares, and the kept-alive connections to them.
//!
//! `fuzz` starts a gateway per case, thousands a run, a few dozen at once. Giving each its own
//! wiremock server cost a thread with a runtime of its own, a port, and a connection from the
//! front door to it per client connection, opened and closed again: as much CPU as a
//! signature (README, "Fuzzing"). So a few wiremock servers, one per core, serve every
//! gateway of the process. The front door ([`super::limit`]) is still each gateway's own, on
//! a port of its own: a client connects to exactly what it connected to before.
//!
//! Which gateway a request is for travels with it: the front door adds a [`ROUTE_HEADER`]
//! line to the request head, the last line, and the server's responder hands the request to
//! the core registered under that route ([`core_for`]), the line taken off again before
//! anything is recorded or checked. A route is registered while its gateway lives; a request
//! still in flight when it ends finds none and gets a 503 that nobody reads.
//!
//! The front door sends each request on a kept-alive connection to a server ([`Server::send`])
//! and reads the answer back whole before it passes it on, so a connection goes back to the
//! idle set only between answers, never with one half read.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wiremock::{Mock, MockServer};

use super::{bind_loopback, Core, GatewayError, WiremockFront};

/// The request header that carries a request's route from the front door to the server.
pub(crate) const ROUTE_HEADER: &str = "x-alipay-cancel-kit-route";

/// Idle connections kept per server: more than the jobs of any run.
const MAX_IDLE: usize = 256;

/// An idle connection older than this is closed rather than used: hyper closes a connection
/// idle for 30 s, and a request sent on one it is closing would be lost.
const MAX_IDLE_AGE: Duration = Duration::from_secs(20);

/// The largest answer read back from a server. The kit's own answers are a few kilobytes;
/// this only bounds a broken one.
const MAX_ANSWER_BYTES: usize = 16 << 20;

/// The shared servers, started by the first gateway that needs one.
static SERVERS: tokio::sync::OnceCell<Vec<Server>> = tokio::sync::OnceCell::const_new();

/// The cores of the gateways alive, by route.
static ROUTES: LazyLock<RwLock<HashMap<u64, Arc<Core>>>> = LazyLock::new(Default::default);

static NEXT_ROUTE: AtomicU64 = AtomicU64::new(1);

/// One shared wiremock server and its idle connections.
pub(crate) struct Server {
    _server: MockServer,
    addr: SocketAddr,
    /// Deregistered from any runtime while idle: a gateway may run on a runtime other than
    /// the one that opened the connection (each test has its own).
    idle: Mutex<Vec<(std::net::TcpStream, Instant)>>,
}

/// A gateway's registration: its core answers the requests that carry `id`, on `server`,
/// until the route is dropped.
pub(crate) struct Route {
    id: u64,
    server: &'static Server,
}

impl Route {
    /// Registers `core` under a fresh route on one of the shared servers (started on first
    /// use), taken in turn.
    pub(crate) async fn register(core: &Arc<Core>) -> Result<Route, GatewayError> {
        let servers = SERVERS.get_or_try_init(start_servers).await?;
        let id = NEXT_ROUTE.fetch_add(1, Ordering::Relaxed);
        let server = &servers[(id % servers.len() as u64) as usize];
        ROUTES
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, core.clone());
        Ok(Route { id, server })
    }

    /// The header line the front door adds to each request head it passes on.
    pub(crate) fn header_line(&self) -> String {
        format!("{ROUTE_HEADER}: {}\r\n", self.id)
    }

    /// The server the route's requests go to.
    pub(crate) fn server(&self) -> &'static Server {
        self.server
    }
}

impl Drop for Route {
    fn drop(&mut self) {
        ROUTES
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
    }
}

/// The core a request is for, by its route header's last value; `None` for a route that has
/// ended (or a request that carries none).
pub(crate) fn core_for(request: &wiremock::Request) -> Option<Arc<Core>> {
    let id: u64 = request
        .headers
        .get_all(ROUTE_HEADER)
        .iter()
        .next_back()?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    ROUTES
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(&id)
        .cloned()
}

async fn start_servers() -> Result<Vec<Server>, GatewayError> {
    let count = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    let mut servers = Vec::with_capacity(count);
    for _ in 0..count {
        servers.push(Server::start().await?);
    }
    Ok(servers)
}

/// What came back for one request.
pub(crate) struct Answer {
    /// The answer's bytes as the server sent them: interim answers, head, body.
    pub(crate) bytes: Vec<u8>,
    /// The server closes the connection after it (`connection: close`, or a body that ends
    /// with the connection): so must the front door's connection to the client.
    pub(crate) close: bool,
}

impl Server {
    async fn start() -> Result<Server, GatewayError> {
        let listener = bind_loopback().map_err(|e| GatewayError::listen("127.0.0.1", e))?;
        let addr = listener.local_addr().map_err(GatewayError::Socket)?;
        // The cores record every request themselves; wiremock's own copy would be waste.
        let server = MockServer::builder()
            .listener(listener)
            .disable_request_recording()
            .start()
            .await;
        Mock::given(wiremock::matchers::any())
            .respond_with(WiremockFront)
            .mount(&server)
            .await;
        Ok(Server {
            _server: server,
            addr,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Sends one whole request (`head_only`: a `HEAD`, whose answer has no body) and reads
    /// its answer back whole.
    ///
    /// On a kept-alive connection the server may have closed meanwhile; a request that got
    /// not one byte back on one is sent again on a fresh connection (the server closes only
    /// a connection with no request on it, so it was not answered).
    pub(crate) async fn send(&self, request: &[u8], head_only: bool) -> std::io::Result<Answer> {
        if let Some(stream) = self.take_idle() {
            match exchange(stream, request, head_only).await {
                Ok((answer, stream)) => return Ok(self.keep(answer, stream)),
                Err(Failed {
                    nothing_back: true, ..
                }) => {}
                Err(Failed { error, .. }) => return Err(error),
            }
        }
        let stream = TcpStream::connect(self.addr).await?;
        stream.set_nodelay(true)?;
        match exchange(stream, request, head_only).await {
            Ok((answer, stream)) => Ok(self.keep(answer, stream)),
            Err(failed) => Err(failed.error),
        }
    }

    fn take_idle(&self) -> Option<TcpStream> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        while let Some((stream, since)) = idle.pop() {
            if since.elapsed() < MAX_IDLE_AGE {
                drop(idle);
                return TcpStream::from_std(stream).ok();
            }
        }
        None
    }

    /// Puts the connection back among the idle unless the answer closes it.
    fn keep(&self, answer: Answer, stream: TcpStream) -> Answer {
        if !answer.close {
            if let Ok(stream) = stream.into_std() {
                let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
                if idle.len() < MAX_IDLE {
                    idle.push((stream, Instant::now()));
                }
            }
        }
        answer
    }
}

/// A request that got no whole answer.
struct Failed {
    error: std::io::Error,
    /// Not one byte came back.
    nothing_back: bool,
}

/// One request and its answer on `stream`: interim (1xx) answers, then the final one, read
/// to the end of its body (`Content-Length`, chunked, or the end of the connection).
async fn exchange(
    mut stream: TcpStream,
    request: &[u8],
    head_only: bool,
) -> Result<(Answer, TcpStream), Failed> {
    let failed = |error: std::io::Error, nothing_back: bool| Failed {
        error,
        nothing_back,
    };
    stream
        .write_all(request)
        .await
        .map_err(|e| failed(e, true))?;
    // An answer of the kit's is a kilobyte or two.
    let mut bytes = Vec::with_capacity(4096);
    let mut start = 0;
    loop {
        let head = loop {
            if let Some(head) = parse_head(&bytes[start..]).map_err(|e| failed(e, false))? {
                break head;
            }
            if read_more(&mut stream, &mut bytes)
                .await
                .map_err(|e| failed(e, bytes.is_empty()))?
                == 0
            {
                let nothing_back = bytes.is_empty();
                return Err(failed(
                    std::io::ErrorKind::UnexpectedEof.into(),
                    nothing_back,
                ));
            }
        };
        let body_start = start + head.len;
        if (100..200).contains(&head.status) && head.status != 101 {
            // An interim answer: passed on, and the final one follows.
            start = body_start;
            continue;
        }
        let close = head.close;
        let body = if head_only || head.status == 204 || head.status == 304 {
            Body::Length(0)
        } else if head.chunked {
            Body::Chunked
        } else if let Some(n) = head.length {
            Body::Length(n)
        } else {
            Body::UntilClose
        };
        let closes = read_body(&mut stream, &mut bytes, body_start, body)
            .await
            .map_err(|e| failed(e, false))?;
        return Ok((
            Answer {
                bytes,
                close: close || closes,
            },
            stream,
        ));
    }
}

/// How an answer's body ends.
enum Body {
    Length(usize),
    Chunked,
    UntilClose,
}

/// Reads the body that starts at `start` of `bytes` to its end; true when it ended with the
/// connection.
async fn read_body(
    stream: &mut TcpStream,
    bytes: &mut Vec<u8>,
    start: usize,
    body: Body,
) -> std::io::Result<bool> {
    match body {
        Body::Length(n) => {
            fill_to(stream, bytes, start + n).await?;
            if bytes.len() > start + n {
                return Err(std::io::Error::other("bytes past the end of the answer"));
            }
            Ok(false)
        }
        Body::UntilClose => {
            while read_more(stream, bytes).await? > 0 {}
            Ok(true)
        }
        Body::Chunked => {
            let mut at = start;
            loop {
                let end = line_end(stream, bytes, at).await?;
                let line = String::from_utf8_lossy(&bytes[at..end]);
                let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                    .map_err(|_| std::io::Error::other("bad chunk size in an answer"))?;
                at = end + 2;
                if size == 0 {
                    // Trailers, up to the empty line.
                    loop {
                        let end = line_end(stream, bytes, at).await?;
                        let empty = end == at;
                        at = end + 2;
                        if empty {
                            return Ok(false);
                        }
                    }
                }
                at += size + 2;
                fill_to(stream, bytes, at).await?;
            }
        }
    }
}

/// Reads until `bytes` holds at least `len` bytes; the connection ending first is an error.
async fn fill_to(stream: &mut TcpStream, bytes: &mut Vec<u8>, len: usize) -> std::io::Result<()> {
    while bytes.len() < len {
        if read_more(stream, bytes).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok(())
}

/// Where the line that starts at `at` ends (its `\r\n`), reading until it has come.
async fn line_end(
    stream: &mut TcpStream,
    bytes: &mut Vec<u8>,
    at: usize,
) -> std::io::Result<usize> {
    loop {
        if let Some(i) = bytes[at..].windows(2).position(|w| w == b"\r\n") {
            return Ok(at + i);
        }
        if read_more(stream, bytes).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
    }
}

/// Reads what has come into the spare room of `bytes` (grown as needed, never zeroed).
async fn read_more(stream: &mut TcpStream, bytes: &mut Vec<u8>) -> std::io::Result<usize> {
    if bytes.len() >= MAX_ANSWER_BYTES {
        return Err(std::io::Error::other("an answer over 16 MiB"));
    }
    bytes.reserve(4096);
    stream.read_buf(bytes).await
}

/// An answer's head, as far as the front door needs it.
struct Head {
    /// Its length in bytes, the empty line included.
    len: usize,
    status: u16,
    length: Option<usize>,
    chunked: bool,
    close: bool,
}

/// Parses an answer head at the start of `bytes`; `None` while it is incomplete.
fn parse_head(bytes: &[u8]) -> std::io::Result<Option<Head>> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(std::io::Error::other(format!("a broken answer head: {e}"))),
    };
    let value = |name: &str| {
        response
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).to_ascii_lowercase())
            .collect::<Vec<_>>()
    };
    let length = value("content-length")
        .first()
        .and_then(|v| v.trim().parse().ok());
    let chunked = value("transfer-encoding")
        .iter()
        .any(|v| v.contains("chunked"));
    let connection = value("connection");
    let close = connection.iter().any(|v| v.contains("close"))
        || (response.version == Some(0) && !connection.iter().any(|v| v.contains("keep-alive")));
    Ok(Some(Head {
        len,
        status: response.code.unwrap_or(0),
        length,
        chunked,
        close,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plays `answer` to one request on a loopback connection and reads it back as the front
    /// door does.
    fn exchanged(answer: &'static [u8], head_only: bool) -> std::io::Result<Answer> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tokio::spawn(async move {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut request = [0u8; 64];
                let _ = stream.read(&mut request).await;
                stream.write_all(answer).await.unwrap();
                // Held open a moment: only a close-delimited answer may need its end.
                tokio::time::sleep(Duration::from_millis(50)).await;
            });
            let stream = TcpStream::connect(addr).await.unwrap();
            let result = exchange(stream, b"GET / HTTP/1.1\r\n\r\n", head_only).await;
            server.await.unwrap();
            result.map(|(answer, _)| answer).map_err(|f| f.error)
        })
    }

    #[test]
    fn answers_are_read_to_the_end_their_framing_gives() {
        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
        let read = exchanged(answer, false).unwrap();
        assert_eq!((read.bytes.as_slice(), read.close), (&answer[..], false));

        let answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n1\r\n!\r\n0\r\ntrailer: t\r\n\r\n";
        let read = exchanged(answer, false).unwrap();
        assert_eq!(
            read.bytes, answer,
            "interim answer, chunks, trailers: all passed on"
        );
        assert!(!read.close);

        let answer = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end";
        let read = exchanged(answer, false).unwrap();
        assert_eq!((read.bytes.as_slice(), read.close), (&answer[..], true));

        // A HEAD's answer has no body, whatever its length says.
        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 99\r\n\r\n";
        let read = exchanged(answer, true).unwrap();
        assert_eq!(read.bytes, answer);

        // Cut short of its length: an error, not a short answer passed on as whole.
        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 99\r\nconnection: close\r\n\r\nshort";
        assert!(exchanged(answer, false).is_err());
    }

    #[test]
    fn an_answer_head_gives_its_framing() {
        let head = parse_head(b"HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\n{\"result\":1}")
            .unwrap()
            .unwrap();
        assert_eq!(
            (head.status, head.length, head.chunked, head.close),
            (200, Some(12), false, false)
        );
        assert_eq!(head.len, 39);
        let head = parse_head(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: Close\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert!(head.chunked && head.close);
        let head = parse_head(b"HTTP/1.0 200 OK\r\n\r\n").unwrap().unwrap();
        assert!(head.close, "HTTP/1.0 closes unless kept alive");
        assert!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-le")
            .unwrap()
            .is_none());
        assert!(parse_head(b"NOT HTTP\r\n\r\n").is_err());
    }
}
