//! The mock gateway: a loopback server that plays Alipay's gateway for one scenario.
//!
//! It serves the scenario's scripted answers in order (the last repeats), signs them the way
//! the real gateway does (or breaks the signature the way the script says), records every
//! request with its raw bytes, and checks each one by the contract's request checks
//! ([`crate::contract::request`]). A request the real gateway would refuse gets the real
//! gateway's refusal instead of the scripted answer ([`refusal`]): `PARAM_ILLEGAL` for a body
//! that breaks the rules, an unsigned `INVALID_SIGNATURE` for a request it cannot authenticate.
//!
//! Answers travel through wiremock; the faults wiremock cannot express (a connection closed
//! before any response, a body cut short) go through [`raw`], a small responder of our own
//! that speaks just enough HTTP/1.1. Either sits behind [`limit`], which holds the gateway's
//! port and refuses a request body over 1 MiB with HTTP 413 before it is read into memory.
//! The wiremock servers are shared by every gateway of the process (`shared`), each request
//! routed to its gateway's core. Whichever listener or relay a request meets, it is read by
//! the one HTTP/1.1 reader of the kit, [`http`], so the same bytes meet the same rules in
//! `run`, `serve` and `proxy`.
//! For HTTPS, [`tls`] terminates TLS on its own port and relays the bytes to the gateway.

pub mod answer;
pub mod http;
pub mod limit;
pub mod listener;
pub mod raw;
pub mod refusal;
mod shared;
pub mod tls;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wiremock::{Respond, ResponseTemplate};

use crate::contract::request::{self, Expected};
use crate::contract::{Check, RecordedRequest};
use crate::scenario::{Answer, Scenario};
use crate::signature::{SigningKey, VerifyingKey};
pub use answer::{HttpAnswer, Served};

/// The keys of one run. All test-only.
#[derive(Clone)]
pub struct GatewayKeys {
    /// Verifies the merchant's request signatures.
    pub merchant_public: VerifyingKey,
    /// Signs the gateway's answers, as the vendor would.
    pub vendor: SigningKey,
    /// A key that is not the vendor's, for the `other-key` policy.
    pub other: SigningKey,
}

/// One request and the answer it got.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// The request as received, raw bytes included.
    pub request: RecordedRequest,
    /// The contract's checks on the request, made once when it arrived.
    pub checks: Vec<Check>,
    /// The answer served to it.
    pub served: Served,
    /// The answer as sent: status, headers, body bytes.
    pub sent: HttpAnswer,
}

/// What the gateway needs to know about the scenario to answer and check.
#[derive(Clone)]
pub struct Script {
    /// The client id the instruction carries.
    pub client_id: String,
    /// The fields the instruction asked the client to send.
    pub instructed: serde_json::Map<String, serde_json::Value>,
    /// The scripted answers; the last repeats.
    pub answers: Vec<Answer>,
    /// The instruction breaks the request rules on purpose.
    pub local_validation: bool,
}

impl Script {
    /// The script of a scenario.
    pub fn of(scenario: &Scenario) -> Script {
        Script {
            client_id: scenario.client_id.clone(),
            instructed: scenario.request.clone(),
            answers: scenario.answers.clone(),
            local_validation: scenario.local_validation,
        }
    }

    /// What the request checks hold a request to under this script.
    pub fn expected(&self) -> Expected<'_> {
        Expected {
            client_id: &self.client_id,
            instructed: Some(&self.instructed),
            local_validation: self.local_validation,
        }
    }
}

/// The state shared by whichever server front is in use.
pub(crate) struct Core {
    script: Script,
    keys: GatewayKeys,
    log: Mutex<Log>,
}

#[derive(Default)]
struct Log {
    exchanges: Vec<Exchange>,
    scripted_served: usize,
}

impl Core {
    fn new(script: Script, keys: GatewayKeys) -> Core {
        Core {
            script,
            keys,
            log: Mutex::new(Log::default()),
        }
    }

    /// Records a request and decides its answer.
    pub(crate) fn answer(&self, request: RecordedRequest) -> HttpAnswer {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        let n = log.exchanges.len() + 1;
        let expected = self.script.expected();
        let checks = request::check_request(&request, n, &expected, &self.keys.merchant_public);
        let served = match refusal::decide(&request, &checks) {
            Some(refusal) => refusal,
            None => {
                let index = log.scripted_served.min(self.script.answers.len() - 1);
                log.scripted_served += 1;
                Served::scripted(index, self.script.answers[index].clone())
            }
        };
        let http = answer::render(&served, &request, &self.keys);
        log.exchanges.push(Exchange {
            request,
            checks,
            served,
            sent: http.clone(),
        });
        http
    }

    /// Records a request whose body is over [`limit::MAX_BODY_BYTES`] (its body cut there)
    /// with the one check it fails, and returns the text of the 413 it gets.
    pub(crate) fn refuse_too_large(&self, request: RecordedRequest, seen: String) -> String {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        let n = log.exchanges.len() + 1;
        log.exchanges.push(Exchange {
            request,
            checks: vec![limit::body_size_check(n, seen)],
            served: Served::too_large(),
            // What the limit front writes, recorded as sent.
            sent: limit::payload_too_large(),
        });
        limit::too_large_message()
    }

    /// Records a request refused for its framing (RFC 9112, section 6.3) with the
    /// `request[N].framing` check it fails, and returns the 400 it gets.
    pub(crate) fn refuse_bad_request(&self, request: RecordedRequest, why: &str) -> HttpAnswer {
        let http = raw::bad_request_answer(why);
        let served = Served::bad_request(&http, why);
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        let n = log.exchanges.len() + 1;
        log.exchanges.push(Exchange {
            request,
            checks: vec![raw::framing_check(n as u64, why)],
            served,
            sent: http.clone(),
        });
        http
    }
}

impl raw::Responder for Core {
    fn answer(&self, request: RecordedRequest) -> raw::Answering<'_> {
        Box::pin(std::future::ready(Core::answer(self, request)))
    }

    fn too_large(&self, request: RecordedRequest, seen: String) -> HttpAnswer {
        self.refuse_too_large(request, seen);
        limit::payload_too_large()
    }

    fn bad_request(&self, request: RecordedRequest, why: String) -> HttpAnswer {
        self.refuse_bad_request(request, &why)
    }
}

/// A running gateway for one scenario.
pub struct Gateway {
    core: Arc<Core>,
    addr: SocketAddr,
    /// Holds `addr`; relays to `front` on a port of its own. Stops first when the gateway
    /// ends (`Option` only for that order).
    limit: Option<limit::LimitFront>,
    front: Option<Front>,
}

/// The server behind the front door, held while the gateway lives.
enum Front {
    /// The gateway's route on a shared wiremock server.
    Wiremock(#[allow(dead_code)] Arc<shared::Route>),
    Raw(#[allow(dead_code)] raw::RawServer),
}

impl Drop for Gateway {
    fn drop(&mut self) {
        // The door closes, with every connection through it, before the route ends.
        drop(self.limit.take());
        drop(self.front.take());
    }
}

/// The gateway could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum GatewayError {
    /// A gateway socket cannot be bound (`addr`: the address asked for).
    Listen {
        /// The address asked for.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS front's socket cannot be bound.
    ListenTls {
        /// The address asked for.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// A bound socket cannot be used: its address read, or it handed to the runtime.
    Socket(std::io::Error),
    /// `serve`'s listener cannot be bound.
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// `serve`'s listener's address cannot be read.
    Address(std::io::Error),
}

impl GatewayError {
    /// A socket that cannot be bound at `addr`.
    pub fn listen(addr: impl std::fmt::Display, source: std::io::Error) -> GatewayError {
        GatewayError::Listen {
            addr: addr.to_string(),
            source,
        }
    }
}

impl From<std::io::Error> for GatewayError {
    fn from(e: std::io::Error) -> GatewayError {
        GatewayError::Socket(e)
    }
}

impl std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GatewayError::Listen { addr, source } => {
                write!(f, "gateway: cannot listen on {addr}: {source}")
            }
            GatewayError::ListenTls { addr, source } => {
                write!(f, "gateway: cannot listen for TLS on {addr}: {source}")
            }
            GatewayError::Socket(e) => write!(f, "gateway: {e}"),
            GatewayError::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
            GatewayError::Address(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for GatewayError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GatewayError::Listen { source, .. }
            | GatewayError::ListenTls { source, .. }
            | GatewayError::Bind { source, .. } => Some(source),
            GatewayError::Socket(e) | GatewayError::Address(e) => Some(e),
        }
    }
}

impl Gateway {
    /// Starts a gateway on a fresh loopback port of 127.0.0.1, chosen at random (see
    /// `bind_loopback` in the source for why not port 0).
    ///
    /// Scripts with a raw fault are served by the raw responder, all others by wiremock.
    ///
    /// # Errors
    /// When no loopback port can be bound; the message names the address and the OS error.
    pub async fn start(script: Script, keys: GatewayKeys) -> Result<Gateway, GatewayError> {
        let listener = bind_loopback().map_err(|e| GatewayError::listen("127.0.0.1", e))?;
        Gateway::serve(script, keys, listener).await
    }

    /// Starts a gateway on the given loopback address.
    ///
    /// # Errors
    /// When the address cannot be bound (already in use, not local).
    pub async fn start_on(
        script: Script,
        keys: GatewayKeys,
        bind: SocketAddr,
    ) -> Result<Gateway, GatewayError> {
        let listener =
            std::net::TcpListener::bind(bind).map_err(|e| GatewayError::listen(bind, e))?;
        Gateway::serve(script, keys, listener).await
    }

    async fn serve(
        script: Script,
        keys: GatewayKeys,
        listener: std::net::TcpListener,
    ) -> Result<Gateway, GatewayError> {
        let needs_raw = script.answers.iter().any(|a| a.fault.is_some());
        let core = Arc::new(Core::new(script, keys));
        let public = listener;
        let addr = public.local_addr().map_err(GatewayError::Socket)?;
        // The server behind the limit front: the gateway's route on a shared wiremock server,
        // or a raw responder of its own on a loopback port of its own (one task).
        let (front, upstream) = if needs_raw {
            let inner = SocketAddr::new(addr.ip(), 0);
            let listener = if inner.ip() == std::net::Ipv4Addr::LOCALHOST {
                bind_loopback()
            } else {
                std::net::TcpListener::bind(inner)
            }
            .map_err(|e| GatewayError::listen(inner, e))?;
            let upstream = listener.local_addr().map_err(GatewayError::Socket)?;
            let raw = raw::RawServer::start(listener, core.clone(), raw::Limits::SCENARIO)?;
            (Front::Raw(raw), limit::PassOn::Raw(upstream))
        } else {
            let route = Arc::new(shared::Route::register(&core).await?);
            (Front::Wiremock(route.clone()), limit::PassOn::Shared(route))
        };
        // Built before the front door, so a door that cannot start still ends the route (or
        // stops the raw responder) as the gateway's end does.
        let mut gateway = Gateway {
            core: core.clone(),
            addr,
            limit: None,
            front: Some(front),
        };
        gateway.limit = Some(limit::LimitFront::start(public, upstream, core)?);
        Ok(gateway)
    }

    /// The base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Which server front serves this gateway: `wiremock` or `raw`.
    pub fn front(&self) -> &'static str {
        match self.front {
            Some(Front::Raw(_)) => "raw",
            _ => "wiremock",
        }
    }

    /// Ends the gateway and gives its log: every request received, with the answer it got,
    /// in arrival order. The front door closes first, so nothing is recorded after.
    pub fn finish(mut self) -> Vec<Exchange> {
        drop(self.limit.take());
        let mut log = self.core.log.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut log.exchanges)
    }

    /// Every request received so far, with the answer it got, in arrival order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        let log = self.core.log.lock().unwrap_or_else(|p| p.into_inner());
        log.exchanges.clone()
    }
}

/// Listens on a fresh loopback port of the kit's choosing: a random odd port of the
/// system's ephemeral range (odd, as Linux leaves those to `bind` and the even ones to
/// `connect`), tried until one is free, else whatever port the system gives.
///
/// Why not simply port 0: every scenario starts a gateway, and each connection the gateway
/// closes first (a fault, a client that keeps its connections open) leaves a `TIME_WAIT`
/// socket on that port for a minute. With thousands of those (a `fuzz` run), Linux's search
/// for a free port costs milliseconds of kernel time per `bind`, more than the scenario's
/// own work. Binding a named port is one lookup, and the address-reuse option (which the
/// standard library sets) lets it share a port with `TIME_WAIT` sockets of earlier gateways.
pub(crate) fn bind_loopback() -> std::io::Result<std::net::TcpListener> {
    use rand::Rng as _;
    use std::net::{Ipv4Addr, TcpListener};
    static RANGE: std::sync::OnceLock<(u16, u16)> = std::sync::OnceLock::new();
    let (low, high) = *RANGE.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
            .ok()
            .and_then(|text| {
                let mut ports = text.split_whitespace().map(|p| p.parse::<u16>().ok());
                Some((ports.next()??, ports.next()??))
            })
            .filter(|(low, high)| low < high)
            .unwrap_or((32768, 60999))
    });
    let mut rng = rand::thread_rng();
    for _ in 0..32 {
        let port = rng.gen_range(low..=high) | 1;
        match TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
            Ok(listener) => return Ok(listener),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => break,
            Err(e) => return Err(e),
        }
    }
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
}

/// wiremock's side: every request, whatever its method or path, goes to the core of the
/// gateway its route names.
struct WiremockFront;

impl Respond for WiremockFront {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let Some(core) = shared::core_for(request) else {
            // A request still in flight when its gateway ended: its client connection is
            // closed, and nothing is left to record it in.
            return ResponseTemplate::new(503);
        };
        let recorded = recorded_from_wiremock(request);
        let http = core.answer(recorded);
        let mut template = ResponseTemplate::new(http.status);
        for (name, value) in &http.headers {
            template = template.append_header(name.as_str(), value.as_str());
        }
        template = template.set_body_bytes(http.body);
        if http.delay > Duration::ZERO {
            template = template.set_delay(http.delay);
        }
        template
    }
}

/// A request as wiremock parsed it, recorded as the checks read it: without the route line
/// the front door added (the last value of [`shared::ROUTE_HEADER`]).
fn recorded_from_wiremock(request: &wiremock::Request) -> RecordedRequest {
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    if let Some(i) = headers.iter().rposition(|(n, _)| n == shared::ROUTE_HEADER) {
        headers.remove(i);
    }
    RecordedRequest {
        method: request.method.as_str().to_owned(),
        path: request.url.path().to_owned(),
        query: request.url.query().map(str::to_owned),
        headers,
        body: request.body.clone(),
        received_at: chrono::Utc::now(),
    }
}
