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
//! assert!(ready.url.starts_with("http://127.0.0.1:"));
//! assert_eq!(ready.key_version.as_deref(), Some("1"));
//! # });
//! ```

pub mod admin;
pub mod health;
pub mod keys;
pub mod state;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::contract::request::{self, Expected};
use crate::contract::{Check, Level, RecordedRequest};
use crate::gateway::raw::{Answering, Limits, RawServer, Responder};
use crate::gateway::tls::TlsFront;
use crate::gateway::{refusal, GatewayKeys, HttpAnswer};
use crate::report::RunReport;
use crate::scenario::{Catalogue, Signing};
use crate::signature::TestKeys;
use crate::spec::endpoint::header;
use crate::standing::journal::{Entry, TrafficLine};
use crate::standing::violations::ascii_only;
use crate::standing::{listen, Ready};
pub use crate::standing::{
    violations_header, ListenError as ServeError, Session, TlsSetting, Totals, VIOLATIONS_HEADER,
    VIOLATIONS_HEADER_BYTES,
};
use crate::verdict::{self, ScenarioResult};
pub use state::{BodyIds, Bounds, JournalEntry};

/// The port `serve` listens on unless told otherwise (`--port`; `0` picks a free one).
pub const DEFAULT_PORT: u16 = 8640;

/// The client id the ready line offers when any client id is served.
pub const DEFAULT_CLIENT_ID: &str = "TEST_5YBZ1";

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

/// The gateway's shared state: what answers every request.
pub(crate) struct ServeGateway {
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

impl Responder for ServeGateway {
    fn answer(&self, request: RecordedRequest) -> Answering<'_> {
        let answer = if request.path.starts_with(admin::PREFIX) {
            admin::answer(self, &request)
        } else {
            self.cancel(request)
        };
        Box::pin(std::future::ready(answer))
    }

    fn too_large(&self, request: RecordedRequest, seen: String) -> HttpAnswer {
        let http = crate::gateway::limit::payload_too_large();
        let served = crate::gateway::answer::Served::too_large();
        self.refused(request, http, served, |seq| {
            crate::gateway::limit::body_size_check(seq as usize, seen)
        })
    }

    fn bad_request(&self, request: RecordedRequest, why: String) -> HttpAnswer {
        let http = crate::gateway::raw::bad_request_answer(&why);
        let served = crate::gateway::answer::Served::bad_request(&http, &why);
        self.refused(request, http, served, |seq| framing_check(seq, &why))
    }
}

impl ServeGateway {
    /// A request refused unread with `http` (`served` as the journal tells it): journaled
    /// with the one check it fails (`check` of its `seq`).
    fn refused(
        &self,
        request: RecordedRequest,
        http: HttpAnswer,
        served: crate::gateway::answer::Served,
        check: impl FnOnce(u64) -> Check,
    ) -> HttpAnswer {
        let seq = self.next_seq();
        let decision = state::Decision {
            ids: BodyIds::default(),
            checks: vec![check(seq)],
            source: state::Source::Refused,
            served,
        };
        self.journal(state::entry(seq, &request, decision, &http, &self.bounds));
        http
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, state::Memory> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A request to the API: checked, answered, journaled. The RSA work (verifying the
    /// request, signing the answer) happens outside the lock, so requests are served in
    /// parallel.
    fn cancel(&self, request: RecordedRequest) -> HttpAnswer {
        let seq = self.next_seq();
        let ids = BodyIds::of_body(&request.body);
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
            let line = traffic_line(&entry).to_line();
            let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
            // A full disk must not take the gateway down; the in-memory journal still has it.
            let _ = writeln!(file, "{line}");
        }
        let kept = Entry::of(&entry.request, &entry);
        let mut memory = self.lock();
        memory.totals.count(&entry.checks);
        memory.keep(kept, &self.bounds);
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

/// What `serve`'s traffic line says about an answer beside its body.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServeFacts {
    /// The signing policy applied.
    pub signing: Signing,
    /// Why the answer was chosen.
    pub source: state::Source,
}

/// The journal line `validate` reads: the raw bodies as strings (exactly as sent), with the
/// checks and the answer's facts beside them.
fn traffic_line(entry: &JournalEntry) -> TrafficLine<ServeFacts> {
    TrafficLine {
        request: entry.request.body.clone(),
        response: entry.answer.body.clone(),
        seq: entry.request.seq,
        received_at: Some(entry.request.received_at.clone()),
        path: entry.request.path.clone(),
        status: entry.answer.status,
        facts: ServeFacts {
            signing: entry.answer.signing,
            source: entry.source.clone(),
        },
        checks: entry.checks.clone(),
        passed: entry.passed.clone(),
    }
}

/// A running `serve` gateway; stops when dropped.
pub struct Server {
    gateway: Arc<ServeGateway>,
    ready: Ready,
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
        let journal_file = listen::open_journal(config.journal_file.as_ref())?;
        let keys = GatewayKeys {
            merchant_public: config.keys.merchant.verifying_key(),
            vendor: config.keys.vendor.clone(),
            other: config.keys.other_vendor.clone(),
        };
        let gateway = Arc::new(ServeGateway {
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
        let listening = listen::listen(config.bind, &config.tls, gateway.clone(), limits).await?;
        let _ = gateway.guard.public.set(listening.public);
        let ready = ready_line(&config, &listening.url, listening.ca);
        Ok(Server {
            gateway,
            ready,
            _plain: listening.plain,
            tls_front: listening.tls,
        })
    }

    /// Every exchange the journal still keeps, oldest first.
    pub fn journal(&self) -> Vec<JournalEntry> {
        let memory = self.gateway.lock();
        memory.journal.read()
    }
}

impl Session for Server {
    /// The ready line: the URL, the client id, the keys and (with TLS) the CA certificate.
    fn ready(&self) -> &Ready {
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

fn ready_line(config: &ServeConfig, url: &str, ca: Option<String>) -> Ready {
    // The committed test-only key is no secret; a user's own key (`--keys`) is only handed
    // out when asked for, as the ready line lands in files, logs and environments.
    let private_key =
        config.expose_private_key || config.keys.merchant == TestKeys::fixed().merchant;
    Ready {
        client_id: Some(
            config
                .client_id
                .as_deref()
                .unwrap_or(DEFAULT_CLIENT_ID)
                .to_owned(),
        ),
        merchant_private_key: private_key.then(|| config.keys.merchant.to_base64_pkcs8()),
        merchant_public_key: Some(config.keys.merchant.verifying_key().to_base64_spki()),
        alipay_public_key: Some(config.keys.vendor.verifying_key().to_base64_spki()),
        key_version: Some(crate::gateway::answer::KEY_VERSION.to_owned()),
        ca_certificate_pem: ca,
        ..Ready::new(url)
    }
}

/// One journaled request as a report's test case, named by what was asked and what was
/// answered: `serve/3 kit:result/ORDER_NOT_EXIST -> F ORDER_NOT_EXIST`.
fn request_result(entry: &JournalEntry) -> ScenarioResult {
    let ids = [
        &entry.request.ids.payment_id,
        &entry.request.ids.payment_request_id,
    ]
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
            entry.request.seq,
            answer_summary(&entry.answer)
        ),
        title: format!(
            "{} {} -> HTTP {}",
            entry.request.method, entry.request.path, entry.answer.status
        ),
        rule: "docs/contract.md#request-checks".to_owned(),
        verdict: verdict::grade(&entry.checks),
        reason: None,
        checks: crate::standing::journal::rejoin(
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
