//! `serve`: one standing mock gateway that an SDK's own test suite drives.
//!
//! Where `run` starts a gateway per scenario and drives the client through an adapter, `serve`
//! starts one gateway and lets the SDK's tests call it, as they would call stripe-mock or
//! Prism. It signs its answers like the real gateway and checks every request by the very
//! checks `run` makes (`docs/contract.md#request-checks`). What it answers
//! (`docs/serve.md`):
//!
//! - an **ordinary id** gets a signed `S` echoing the ids sent, and the same answer (the same
//!   `cancelTime`) when it is cancelled again;
//! - a **magic id** `kit:<scenario id>[:<anything>]` gets that scenario's scripted answers in
//!   order, the last repeating ([`state::magic_id`]);
//! - **armed answers** (`POST /__kit/arm`) go to the next matching requests;
//! - a request the real gateway refuses gets its refusal, as in `run`.
//!
//! The failed checks travel back in an `x-kit-violations` header; the journal
//! (`GET /__kit/requests`, `--journal FILE`) keeps every exchange; the reports and the exit
//! code judge the whole session when it stops.
//!
//! # Example
//! ```
//! use alipay_cancel_kit::serve::{ServeConfig, Server, Session};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let server = Server::start(ServeConfig::loopback()).await.unwrap();
//! let ready = server.ready();
//! assert!(ready["url"].as_str().unwrap().starts_with("http://127.0.0.1:"));
//! assert_eq!(ready["keyVersion"], "1");
//! # });
//! ```

pub mod admin;
pub mod health;
pub mod session;
pub mod state;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::contract::request::{self, Expected};
use crate::contract::{Check, Level, RecordedRequest};
use crate::gateway::raw::{Answering, Limits, RawServer, Responder};
use crate::gateway::tls::{self, TestPki, TlsFront};
use crate::gateway::{refusal, GatewayError, GatewayKeys, HttpAnswer};
use crate::report::RunReport;
use crate::scenario::{Catalogue, Signing};
use crate::signature::TestKeys;
use crate::spec::endpoint::header;
use crate::verdict::{self, ScenarioResult};
pub use session::Session;
pub use state::{Bounds, Ids, JournalEntry, Totals};

/// The port `serve` listens on unless told otherwise (`--port`; `0` picks a free one).
pub const DEFAULT_PORT: u16 = 8640;

/// The header that carries a request's failed checks back to the client.
pub const VIOLATIONS_HEADER: &str = "x-kit-violations";

/// The most bytes of the violations header; longer lists are cut, saying so.
pub const VIOLATIONS_HEADER_BYTES: usize = 8 * 1024;

/// The client id the ready line offers when any client id is served.
pub const DEFAULT_CLIENT_ID: &str = "TEST_5YBZ1";

/// How the gateway is reached.
#[derive(Clone, Debug, Default)]
pub enum TlsSetting {
    /// Plain HTTP.
    #[default]
    Off,
    /// HTTPS with a CA made for this run; the ready line carries its certificate.
    RunCa,
    /// HTTPS with the user's own certificate chain and key (PEM files).
    Files {
        /// The certificate chain.
        cert: PathBuf,
        /// Its private key.
        key: PathBuf,
    },
}

/// Everything `serve` is started with.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Where to listen.
    pub bind: SocketAddr,
    /// Plain or HTTPS.
    pub tls: TlsSetting,
    /// The merchant, vendor and other-vendor keys (the committed test-only keys by default).
    pub keys: TestKeys,
    /// Serve only this client id; others get `CLIENT_INVALID`. `None` serves any.
    pub client_id: Option<String>,
    /// Send failed checks back in [`VIOLATIONS_HEADER`].
    pub violations_header: bool,
    /// Append every exchange to this file as a captured-traffic NDJSON line.
    pub journal_file: Option<PathBuf>,
    /// How much the gateway keeps.
    pub bounds: Bounds,
    /// Connections served at once.
    pub connections: usize,
    /// The scenarios magic ids and armed answers select.
    pub catalogue: Catalogue,
    /// The token `/__kit/` calls must carry (`--admin-token`); `None`: loopback callers only,
    /// by their `Host`.
    pub admin_token: Option<String>,
    /// Put the merchant's private key in the ready line even when it is the user's own
    /// (`--keys` with `--expose-private-key`); the committed test-only key is always there.
    pub expose_private_key: bool,
}

impl ServeConfig {
    /// Loopback, a free port, plain HTTP, the committed test-only keys, the built-in catalogue.
    ///
    /// # Panics
    /// If the built-in catalogue does not load (a test loads it).
    pub fn loopback() -> ServeConfig {
        ServeConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: TlsSetting::Off,
            keys: TestKeys::fixed(),
            client_id: None,
            violations_header: true,
            journal_file: None,
            bounds: Bounds::default(),
            connections: 1024,
            catalogue: Catalogue::embedded().expect("the built-in catalogue loads"),
            admin_token: None,
            expose_private_key: false,
        }
    }
}

/// `serve` could not start.
#[derive(Debug)]
pub enum ServeError {
    /// The address cannot be listened on (in use, not local), or the TLS front failed.
    Listen(GatewayError),
    /// The TLS material cannot be made or read.
    Tls(tls::PkiError),
    /// The journal file cannot be opened.
    Journal(PathBuf, std::io::Error),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Listen(e) => write!(f, "serve: {e}"),
            ServeError::Tls(e) => write!(f, "serve: {e}"),
            ServeError::Journal(path, e) => {
                write!(f, "serve: cannot open the journal {}: {e}", path.display())
            }
        }
    }
}

impl std::error::Error for ServeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ServeError::Listen(e) => Some(e),
            ServeError::Tls(e) => Some(e),
            ServeError::Journal(_, e) => Some(e),
        }
    }
}

/// The gateway's shared state: what answers every request.
pub(crate) struct Gateway {
    catalogue: Catalogue,
    keys: GatewayKeys,
    client_id: Option<String>,
    violations_header: bool,
    bounds: Bounds,
    memory: Mutex<state::Memory>,
    journal_file: Option<Mutex<std::fs::File>>,
    stop: tokio::sync::Notify,
    guard: admin::Guard,
}

pub use crate::gateway::raw::{framing_check, FRAMING_RULE};

impl Responder for Gateway {
    fn answer(&self, request: RecordedRequest) -> Answering<'_> {
        let answer = if request.path.starts_with(admin::PREFIX) {
            admin::answer(self, &request)
        } else {
            self.cancel(request)
        };
        Box::pin(std::future::ready(answer))
    }

    fn too_large(&self, request: RecordedRequest, seen: String) -> HttpAnswer {
        let seq = self.next_seq();
        let http = crate::gateway::limit::payload_too_large();
        let decision = state::Decision {
            ids: Ids::default(),
            checks: vec![crate::gateway::limit::body_size_check(seq as usize, seen)],
            source: state::Source::Refused,
            served: crate::gateway::answer::Served::too_large(),
        };
        self.journal(state::entry(seq, &request, decision, &http, &self.bounds));
        http
    }

    fn bad_request(&self, request: RecordedRequest, why: String) -> HttpAnswer {
        let seq = self.next_seq();
        let http = crate::gateway::raw::bad_request_answer(&why);
        let mut served = crate::gateway::answer::Served::too_large();
        served.answer.status = 400;
        served.answer.raw_body = Some(String::from_utf8_lossy(&http.body).into_owned());
        served.note = Some(format!("gateway refused the request (HTTP 400): {why}"));
        let decision = state::Decision {
            ids: Ids::default(),
            checks: vec![framing_check(seq, &why)],
            source: state::Source::Refused,
            served,
        };
        self.journal(state::entry(seq, &request, decision, &http, &self.bounds));
        http
    }
}

impl Gateway {
    fn lock(&self) -> std::sync::MutexGuard<'_, state::Memory> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A request to the API: checked, answered, journaled. The RSA work (verifying the
    /// request, signing the answer) happens outside the lock, so requests are served in
    /// parallel.
    fn cancel(&self, request: RecordedRequest) -> HttpAnswer {
        let seq = self.next_seq();
        let ids = Ids::of_body(&request.body);
        let request_client_id = request.header(header::CLIENT_ID).map(str::to_owned);
        let client_id = self.client_id.as_ref().or(request_client_id.as_ref());
        let key = &self.keys.merchant_public;
        // The request checks of `run` on a request no instruction describes: the client id
        // served (or the request's own) is the one it must carry, and check 7, the ids against
        // an instruction, is left out, as it would prove nothing.
        let expected = Expected {
            client_id: client_id.map_or("", |c| c.as_str()),
            instructed: None,
            local_validation: false,
        };
        let checks = request::check_request(&request, seq as usize, &expected, key);
        let mut checks = checks;
        let (served, source) = match refusal::decide(&request, &checks) {
            Some(refusal) => (refusal, state::Source::Refused),
            None => self.lock().choose(
                &self.catalogue,
                request_client_id.as_deref(),
                &ids,
                &self.bounds,
            ),
        };
        if let state::Source::Unservable { why } = &source {
            checks.push(magic_id_check(why));
        }
        let mut http = crate::gateway::answer::render(&served, &request, &self.keys);
        if self.violations_header {
            if let Some(value) = violations_header(&checks) {
                http.headers.push((VIOLATIONS_HEADER.to_owned(), value));
            }
        }
        if let state::Source::Unservable { why } = &source {
            http.headers
                .push(("x-kit-error".to_owned(), ascii_only(why)));
        }
        let decision = state::Decision {
            ids,
            checks,
            source,
            served,
        };
        let entry = state::entry(seq, &request, decision, &http, &self.bounds);
        self.journal(entry);
        http
    }

    fn next_seq(&self) -> u64 {
        let mut memory = self.lock();
        memory.seq += 1;
        memory.seq
    }

    fn journal(&self, entry: JournalEntry) {
        if let Some(file) = &self.journal_file {
            let line = traffic_line(&entry);
            let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
            // A full disk must not take the gateway down; the in-memory journal still has it.
            let _ = writeln!(file, "{line}");
        }
        let stored = state::Stored::of(&entry);
        let mut memory = self.lock();
        memory.totals.count(&entry.checks);
        memory.keep(stored, &self.bounds);
    }
}

/// What an answer was, in a few words: `F ORDER_NOT_EXIST`, `S SUCCESS (unsigned)`,
/// `HTTP 500`, `timeout`.
fn answer_summary(answer: &state::JournalAnswer) -> String {
    // The wire names of faults and signing policies: `close-before-response`, `tampered`.
    let wire = |value: Value| value.as_str().unwrap_or("?").to_owned();
    if let Some(fault) = answer.fault {
        return wire(json!(fault));
    }
    let result = serde_json::from_str::<Value>(&answer.body).ok();
    let result = result.as_ref().map(|body| &body["result"]);
    let text = |name: &str| {
        result
            .and_then(|r| r[name].as_str())
            .unwrap_or("?")
            .to_owned()
    };
    let mut summary = if answer.status == 200 && result.is_some_and(Value::is_object) {
        format!("{} {}", text("resultStatus"), text("resultCode"))
    } else {
        format!("HTTP {}", answer.status)
    };
    match answer.signing {
        Signing::Signed | Signing::SignedLowercaseEscapes | Signing::SignedSpaced => {}
        other => summary.push_str(&format!(" ({})", wire(json!(other)))),
    }
    summary
}

/// The report id of `serve`'s own check that a magic id names a scenario it can play.
pub const MAGIC_ID_CHECK: &str = "serve.magic-id";

/// The failed MUST check for a magic id `serve` cannot play: a test that used it proved
/// nothing, so the session fails (exit 1) and the test's answer carries it in
/// `x-kit-violations`.
fn magic_id_check(why: &str) -> Check {
    Check::fail(
        MAGIC_ID_CHECK,
        Level::Must,
        "docs/serve.md#what-it-answers",
        format!("the magic id names no scenario serve can play: {why}"),
        "a scenario id of the catalogue, other than tls/ (`alipay-cancel-kit scenarios --magic`)",
        why.split(';').next().unwrap_or(why).to_owned(),
    )
}

/// The journal line `validate` reads: the raw bodies as strings (exactly as sent), with the
/// checks and the answer's facts beside them.
fn traffic_line(entry: &JournalEntry) -> Value {
    json!({
        "request": entry.body,
        "response": entry.answer.body,
        "seq": entry.seq,
        "receivedAt": entry.received_at,
        "path": entry.path,
        "status": entry.answer.status,
        "signing": entry.answer.signing,
        "source": entry.source,
        "checks": entry.checks,
        "passed": entry.passed,
    })
}

/// The failed checks as compact JSON in visible ASCII, cut to [`VIOLATIONS_HEADER_BYTES`]
/// (the last element then says how many were left out); `None` when every check held.
pub fn violations_header(checks: &[Check]) -> Option<String> {
    let failed: Vec<Value> = checks
        .iter()
        .filter(|c| !c.held)
        .map(|c| {
            let mut v = json!({
                "id": c.id, "level": c.level, "message": c.message,
                "expected": c.expected, "seen": c.seen, "rule": c.rule,
            });
            // The quoted values by name (`stringToSign`), so a test reads them whole.
            if !c.values.is_empty() {
                v["values"] = json!(c.values);
            }
            v
        })
        .collect();
    if failed.is_empty() {
        return None;
    }
    // The most checks that fit, the last element then saying how many were left out.
    let mut kept = failed.len();
    loop {
        let mut list = failed[..kept].to_vec();
        if kept < failed.len() {
            list.push(json!({"truncated": true, "omitted": failed.len() - kept}));
        }
        let text = ascii_only(&Value::Array(list).to_string());
        if text.len() <= VIOLATIONS_HEADER_BYTES || kept == 0 {
            return Some(text);
        }
        kept -= 1;
    }
}

/// JSON text with every character outside visible ASCII escaped as `\uXXXX`, fit for a header.
fn ascii_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if (' '..='~').contains(&c) {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// A running `serve` gateway; stops when dropped.
pub struct Server {
    gateway: Arc<Gateway>,
    ready: Value,
    _plain: RawServer,
    tls_front: Option<TlsFront>,
}

impl Server {
    /// Starts the gateway and returns once it accepts connections.
    ///
    /// # Errors
    /// [`ServeError`] when the address cannot be listened on, the TLS material cannot be made
    /// or read, or the journal file cannot be opened.
    pub async fn start(config: ServeConfig) -> Result<Server, ServeError> {
        let journal_file = open_journal(config.journal_file.as_ref())?;
        let keys = GatewayKeys {
            merchant_public: config.keys.merchant.verifying_key(),
            vendor: config.keys.vendor.clone(),
            other: config.keys.other_vendor.clone(),
        };
        let gateway = Arc::new(Gateway {
            catalogue: config.catalogue.clone(),
            keys,
            client_id: config.client_id.clone(),
            violations_header: config.violations_header,
            bounds: config.bounds,
            memory: Mutex::new(state::Memory::default()),
            journal_file,
            stop: tokio::sync::Notify::new(),
            guard: admin::Guard::new(config.admin_token.clone()),
        });
        let limits = Limits {
            connections: config.connections,
            request_timeout: std::time::Duration::from_secs(30),
        };
        let (plain, tls, url, ca, public) =
            listen(config.bind, &config.tls, gateway.clone(), limits).await?;
        let _ = gateway.guard.public.set(public);
        let ready = ready_line(&config, &url, ca.as_deref());
        Ok(Server {
            gateway,
            ready,
            _plain: plain,
            tls_front: tls,
        })
    }

    /// Every exchange the journal still keeps, oldest first.
    pub fn journal(&self) -> Vec<JournalEntry> {
        let memory = self.gateway.lock();
        memory.journal.iter().map(state::Stored::entry).collect()
    }
}

impl Session for Server {
    /// The ready line: the URL, the client id, the keys and (with TLS) the CA certificate.
    fn ready(&self) -> &Value {
        &self.ready
    }

    fn totals(&self) -> Totals {
        self.gateway.lock().totals
    }

    /// One test case per request the journal keeps (`serve/<seq>`), failing on a broken MUST
    /// check.
    fn report(&self) -> RunReport {
        let results = self.journal().iter().map(request_result).collect();
        let mut report = RunReport::new("requests received by serve", "serve", results);
        report.transport = crate::report::RunTransport::of(self.tls_front.is_some());
        report
    }

    fn stop_signal(&self) -> &tokio::sync::Notify {
        &self.gateway.stop
    }
}

/// The `--journal` file, opened for appending (created if missing).
pub(crate) fn open_journal(
    path: Option<&PathBuf>,
) -> Result<Option<Mutex<std::fs::File>>, ServeError> {
    let Some(path) = path else { return Ok(None) };
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map(|file| Some(Mutex::new(file)))
        .map_err(|e| ServeError::Journal(path.clone(), e))
}

/// The listening servers, the URL clients call, (with a run CA) its certificate, and the
/// address clients reach.
pub(crate) type Listening = (
    RawServer,
    Option<TlsFront>,
    String,
    Option<String>,
    SocketAddr,
);

/// Listens on `bind`, plain or behind a TLS front, every request answered by `responder`.
pub(crate) async fn listen(
    bind: SocketAddr,
    tls_setting: &TlsSetting,
    responder: Arc<dyn Responder>,
    limits: Limits,
) -> Result<Listening, ServeError> {
    let tls_config = match tls_setting {
        TlsSetting::Off => None,
        TlsSetting::RunCa => {
            let pki = TestPki::generate().map_err(ServeError::Tls)?;
            let ca = pki.ca_certificate_pem().to_owned();
            Some((pki.server_config(tls::Mode::Trusted), Some(ca)))
        }
        TlsSetting::Files { cert, key } => Some((
            tls::server_config_from_pem_files(cert, key).map_err(ServeError::Tls)?,
            None,
        )),
    };
    let plain_bind = match tls_config {
        // Behind TLS the plain gateway listens on a private loopback port.
        Some(_) => SocketAddr::from(([127, 0, 0, 1], 0)),
        None => bind,
    };
    let listener = std::net::TcpListener::bind(plain_bind).map_err(|source| {
        ServeError::Listen(GatewayError::Bind {
            addr: plain_bind,
            source,
        })
    })?;
    let plain_addr = listener
        .local_addr()
        .map_err(|e| ServeError::Listen(GatewayError::Address(e)))?;
    let plain = RawServer::start(listener, responder, limits).map_err(ServeError::Listen)?;
    match tls_config {
        None => Ok((
            plain,
            None,
            format!("http://{plain_addr}"),
            None,
            plain_addr,
        )),
        Some((server_config, ca)) => {
            let front = TlsFront::start_on(server_config, plain_addr, bind)
                .await
                .map_err(ServeError::Listen)?;
            let host = match (tls_setting, bind.ip().is_loopback()) {
                (TlsSetting::RunCa, true) => tls::GATEWAY_HOST.to_owned(),
                _ => bind.ip().to_string(),
            };
            let url = format!("https://{host}:{}", front.addr().port());
            let public = front.addr();
            Ok((plain, Some(front), url, ca, public))
        }
    }
}

fn ready_line(config: &ServeConfig, url: &str, ca: Option<&str>) -> Value {
    let mut line = json!({
        "url": url,
        "clientId": config.client_id.as_deref().unwrap_or(DEFAULT_CLIENT_ID),
        "merchantPrivateKey": config.keys.merchant.to_base64_pkcs8(),
        "merchantPublicKey": config.keys.merchant.verifying_key().to_base64_spki(),
        "alipayPublicKey": config.keys.vendor.verifying_key().to_base64_spki(),
        "keyVersion": crate::gateway::answer::KEY_VERSION,
        "version": env!("CARGO_PKG_VERSION"),
    });
    // The committed test-only key is no secret; a user's own key (`--keys`) is only handed
    // out when asked for, as the ready line lands in files, logs and environments.
    if !config.expose_private_key && config.keys.merchant != TestKeys::fixed().merchant {
        if let Some(fields) = line.as_object_mut() {
            fields.shift_remove("merchantPrivateKey");
        }
    }
    if let Some(ca) = ca {
        line["caCertificatePem"] = Value::String(ca.to_owned());
    }
    line
}

/// One journaled request as a report's test case, named by what was asked and what was
/// answered: `serve/3 kit:result/ORDER_NOT_EXIST -> F ORDER_NOT_EXIST`.
fn request_result(entry: &JournalEntry) -> ScenarioResult {
    let ids = [&entry.ids.payment_id, &entry.ids.payment_request_id]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect::<Vec<_>>();
    let ids = if ids.is_empty() {
        "(no id)".to_owned()
    } else {
        ids.join(" ")
    };
    ScenarioResult {
        id: format!(
            "serve/{} {ids} -> {}",
            entry.seq,
            answer_summary(&entry.answer)
        ),
        title: format!(
            "{} {} -> HTTP {}",
            entry.method, entry.path, entry.answer.status
        ),
        rule: "docs/contract.md#request-checks".to_owned(),
        verdict: verdict::grade(&entry.checks),
        reason: None,
        checks: state::rejoin(
            &entry.checks,
            &entry.passed,
            "docs/contract.md#request-checks",
        ),
        requests: 1,
        outcome: None,
        stderr: String::new(),
        duration_ms: 0.0,
        adapter_ms: 0.0,
        transcript: Vec::new(),
    }
}
