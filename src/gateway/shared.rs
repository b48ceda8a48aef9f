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
//! The front door sends each request on a kept-alive connection to a server ([`SharedServer::send`])
//! and reads the answer back whole before it passes it on, so a connection goes back to the
//! idle set only between answers, never with one half read.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use wiremock::{Mock, MockServer};

use super::http::{HttpError, Reader};
use super::{bind_loopback, Core, GatewayError, WiremockFront};

/// The request header that carries a request's route from the front door to the server.
pub(crate) const ROUTE_HEADER: &str = "x-alipay-cancel-kit-route";

/// Idle connections kept per server: more than the jobs of any run.
const MAX_IDLE: usize = 256;

/// An idle connection older than this is closed rather than used: hyper closes a connection
/// idle for 30 s, and a request sent on one it is closing would be lost.
const MAX_IDLE_AGE: Duration = Duration::from_secs(20);

/// The largest answer body read back from a server. The kit's own answers are a few
/// kilobytes; this only bounds a broken one.
const MAX_ANSWER_BYTES: usize = 16 << 20;

/// The shared servers, started by the first gateway that needs one.
static SERVERS: tokio::sync::OnceCell<Vec<SharedServer>> = tokio::sync::OnceCell::const_new();

/// The cores of the gateways alive, by route.
static ROUTES: LazyLock<RwLock<HashMap<u64, Arc<Core>>>> = LazyLock::new(Default::default);

static NEXT_ROUTE: AtomicU64 = AtomicU64::new(1);

/// One shared wiremock server and its idle connections.
pub(crate) struct SharedServer {
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
    server: &'static SharedServer,
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
    pub(crate) fn server(&self) -> &'static SharedServer {
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

async fn start_servers() -> Result<Vec<SharedServer>, GatewayError> {
    let count = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    let mut servers = Vec::with_capacity(count);
    for _ in 0..count {
        servers.push(SharedServer::start().await?);
    }
    Ok(servers)
}

/// What came back for one request.
pub(crate) struct RelayedAnswer {
    /// The answer's bytes as the server sent them: interim answers, head, body.
    pub(crate) bytes: Vec<u8>,
    /// The server closes the connection after it (`connection: close`, or a body that ends
    /// with the connection): so must the front door's connection to the client.
    pub(crate) close: bool,
}

impl SharedServer {
    async fn start() -> Result<SharedServer, GatewayError> {
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
        Ok(SharedServer {
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
    pub(crate) async fn send(
        &self,
        request: &[u8],
        head_only: bool,
    ) -> Result<RelayedAnswer, HttpError> {
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
        let _ = stream.set_nodelay(true);
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
    fn keep(&self, answer: RelayedAnswer, stream: TcpStream) -> RelayedAnswer {
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
    error: HttpError,
    /// Not one byte came back.
    nothing_back: bool,
}

/// One request and its answer on `stream`: interim (1xx) answers, then the final one, read
/// to the end of its body (`Content-Length`, chunked, or the end of the connection).
async fn exchange(
    mut stream: TcpStream,
    request: &[u8],
    head_only: bool,
) -> Result<(RelayedAnswer, TcpStream), Failed> {
    if let Err(e) = stream.write_all(request).await {
        return Err(Failed {
            error: e.into(),
            nothing_back: true,
        });
    }
    let mut reader = Reader::new(stream);
    let response = match reader.response(head_only, MAX_ANSWER_BYTES).await {
        Ok(response) => response,
        Err(error) => {
            let nothing_back = !reader.received();
            return Err(Failed {
                error,
                nothing_back,
            });
        }
    };
    let (stream, leftover) = reader.into_inner();
    if leftover {
        // Nothing is asked of the server but this answer: more is a broken server, and the
        // connection cannot be used again.
        return Err(Failed {
            error: HttpError::BytesPastEnd,
            nothing_back: false,
        });
    }
    let answer = RelayedAnswer {
        bytes: response.wire,
        close: response.close,
    };
    Ok((answer, stream))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// Plays `answer` to one request on a loopback connection and reads it back as the front
    /// door does.
    fn exchanged(answer: &'static [u8], head_only: bool) -> Result<RelayedAnswer, HttpError> {
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
}
