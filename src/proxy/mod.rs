//! `proxy`: a checking proxy in front of any gateway, the vendor's sandbox included.
//!
//! Every request is forwarded to the upstream and its answer back, byte for byte (only
//! hop-by-hop headers change, and `host` names the upstream). On the way, both directions are
//! checked: the request by the request checks of `run` (`docs/contract.md#request-checks`;
//! the signature only with the merchant's public key, otherwise reported as not run), the
//! answer by the response schema and the signature rules, and the answer is classified as the
//! outcome rules do ([`crate::contract`]): what a correct client may conclude from it. The
//! failed checks travel back in `x-kit-violations`; the journal, the reports and the exit code
//! are those of every standing session ([`crate::standing`]). `--record DIR` writes each exchange as a scenario file that
//! `run --catalogue` and `serve --catalogue` replay (docs/proxy.md).

pub mod record;
pub mod upstream;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::contract::request::{self, Expected};
use crate::contract::{
    self, AnswerClass, Check, CheckId, Classified, Level, RawAnswer, RecordedRequest,
};
use crate::gateway::raw::{Answering, Limits, RawServer, Responder};
use crate::gateway::tls::TlsFront;
use crate::gateway::HttpAnswer;
use crate::report::RunReport;
use crate::schema::Schema;
use crate::signature::VerifyingKey;
use crate::spec::endpoint::header;
use crate::standing::journal::{
    cut, journal_text, kept_check, kept_headers, split, BodyIds, Entry, Kept, FIELD_BYTES,
};
use crate::standing::{
    listen, violations_header, JournalRequest, ListenError, Ready, Session, TlsSetting, Totals,
    TrafficLine, VIOLATIONS_HEADER,
};
use crate::verdict::{self, ScenarioResult};
pub use upstream::Upstream;

/// The port `proxy` listens on unless told otherwise (`--port`; `0` picks a free one).
pub const DEFAULT_PORT: u16 = 8641;

const ANSWER_RULE: &str = "docs/contract.md#signed-answers-and-which-unsigned-ones-to-believe";
const BODY_RULE: &str = "docs/api.md#response-body";

/// Everything `proxy` is started with.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    /// Where to listen.
    pub bind: SocketAddr,
    /// Plain or HTTPS towards the clients.
    pub tls: TlsSetting,
    /// Where requests go.
    pub upstream: Upstream,
    /// Verifies request signatures; without it check 5 is reported as not run.
    pub merchant_public: Option<VerifyingKey>,
    /// Verifies answer signatures; without it signed answers are classified as not checked.
    pub alipay_public: Option<VerifyingKey>,
    /// Send failed checks back in `x-kit-violations`.
    pub violations_header: bool,
    /// Append every exchange to this file as a captured-traffic NDJSON line.
    pub journal_file: Option<PathBuf>,
    /// Write every exchange as a scenario file into this directory.
    pub record_dir: Option<PathBuf>,
    /// Exchanges kept in memory.
    pub journal_bound: usize,
    /// The token `/__kit/` calls must carry (`--admin-token`); `None`: loopback callers only.
    pub admin_token: Option<String>,
}

impl ProxyConfig {
    /// In front of `upstream`: loopback, a free port, plain HTTP, no keys (the signature checks
    /// reported as not run), the violations header on, nothing written, 10,000 exchanges kept:
    /// the twin of [`crate::serve::ServeConfig::loopback`].
    pub fn loopback(upstream: Upstream) -> ProxyConfig {
        ProxyConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: TlsSetting::Off,
            upstream,
            merchant_public: None,
            alipay_public: None,
            violations_header: true,
            journal_file: None,
            record_dir: None,
            journal_bound: 10_000,
            admin_token: None,
        }
    }
}

/// The most bytes of a request or answer body one journal entry keeps; more is cut, saying so.
pub const JOURNAL_BODY_BYTES: usize = 4 * 1024;

/// The most bytes the journal keeps in all; the oldest entries go first past it.
pub const JOURNAL_BYTES: usize = 32 << 20;

/// What `proxy`'s traffic line says about an answer beside its body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyFacts {
    /// The class of the answer.
    pub class: AnswerClass,
    /// What a correct client may conclude from it.
    pub accepts: Vec<crate::protocol::OutcomeKind>,
}

/// One exchange forwarded through the proxy, as its journal keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Forwarded {
    /// The request as received, its body cut at [`JOURNAL_BODY_BYTES`].
    #[serde(flatten)]
    pub request: JournalRequest,
    /// The answer's status (0 when none came).
    pub status: u16,
    /// The answer's headers as received from the upstream.
    pub answer_headers: Vec<(String, String)>,
    /// The answer's body (lossy UTF-8).
    pub answer_body: String,
    /// Why no answer came, when none did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_error: Option<String>,
    /// The class of the answer and what a correct client may conclude.
    pub classified: Classified,
    /// Checks of both directions that failed, in full.
    pub checks: Vec<Check>,
    /// Checks that held, by id and level.
    pub passed: Vec<(String, Level)>,
    /// Time spent upstream, in milliseconds.
    pub upstream_ms: f64,
}

struct Shared {
    config: ProxyConfig,
    /// Any key, for the request checks to run on when no merchant key was given (their
    /// signature check is then replaced by a not-run one): made once, not per request.
    stand_in_key: VerifyingKey,
    state: Mutex<State>,
    journal_file: Option<Mutex<std::fs::File>>,
    stop: tokio::sync::Notify,
    guard: crate::serve::admin::Guard,
}

#[derive(Default)]
struct State {
    seq: u64,
    totals: Totals,
    journal: Kept,
    /// Exchanges the upstream answered, and why the last one it did not answer got none.
    answered: u64,
    last_error: Option<String>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn exchange(&self, request: RecordedRequest) -> HttpAnswer {
        let seq = {
            let mut state = self.lock();
            state.seq += 1;
            state.seq
        };
        let mut checks = self.request_checks(&request, seq);
        let started = std::time::Instant::now();
        let forwarded = self.config.upstream.forward(&request).await;
        let upstream_ms = started.elapsed().as_secs_f64() * 1000.0;
        let client_id = request
            .header(header::CLIENT_ID)
            .unwrap_or_default()
            .to_owned();
        let (mut http, upstream_error) = match forwarded {
            Ok(http) => (http, None),
            // No whole answer came: judged as none (status 0), and the client gets a 502 that
            // says why.
            Err(why) => (
                HttpAnswer {
                    status: 0,
                    headers: Vec::new(),
                    body: Vec::new(),
                    delay: std::time::Duration::ZERO,
                    fault: Some(crate::scenario::Fault::CloseBeforeResponse),
                },
                Some(why.to_string()),
            ),
        };
        {
            let mut state = self.lock();
            match &upstream_error {
                None => state.answered += 1,
                Some(why) => state.last_error = Some(why.clone()),
            }
        }
        let raw = RawAnswer {
            path: &request.path,
            request_client_id: &client_id,
            status: http.status,
            headers: &http.headers,
            body: &http.body,
        };
        let classified = contract::classify(&raw, self.config.alipay_public.as_ref());
        checks.extend(answer_checks(
            seq,
            &raw,
            &classified,
            upstream_error.as_deref(),
        ));
        let violations = violations_header(&checks).filter(|_| self.config.violations_header);
        if upstream_error.is_none() {
            if let Some(value) = &violations {
                http.headers
                    .push((VIOLATIONS_HEADER.to_owned(), value.clone()));
            }
        }
        let mut exchange =
            self.exchange_of(seq, &request, &http, upstream_error, classified, checks);
        exchange.upstream_ms = upstream_ms;
        if let Some(dir) = &self.config.record_dir {
            if let Err(e) = record::write(dir, &exchange, &request, &http) {
                eprintln!("proxy: --record: {e}");
            }
        }
        self.journal(&exchange);
        match &exchange.upstream_error {
            None => http,
            Some(why) => {
                let mut answer = bad_gateway(why);
                if let Some(value) = violations {
                    answer.headers.push((VIOLATIONS_HEADER.to_owned(), value));
                }
                answer
            }
        }
    }

    /// An exchange as the journal keeps it: bodies cut to [`JOURNAL_BODY_BYTES`], header values
    /// and check texts to a few hundred bytes (`serve`'s journal bounds).
    fn exchange_of(
        &self,
        seq: u64,
        request: &RecordedRequest,
        http: &HttpAnswer,
        upstream_error: Option<String>,
        classified: Classified,
        checks: Vec<Check>,
    ) -> Forwarded {
        let (failed, passed) = split(checks.into_iter().map(kept_check).collect());
        Forwarded {
            request: JournalRequest::of(
                seq,
                request,
                JOURNAL_BODY_BYTES,
                BodyIds::of_body(&request.body),
            ),
            status: http.status,
            answer_headers: kept_headers(&http.headers),
            answer_body: journal_text(&http.body, JOURNAL_BODY_BYTES),
            upstream_error: upstream_error.map(|why| cut(&why, FIELD_BYTES)),
            classified,
            checks: failed,
            passed,
            // Set by the caller for a forwarded request.
            upstream_ms: 0.0,
        }
    }

    /// The request checks of `run`, on traffic no instruction describes: the client id the
    /// request carries is the one it must carry, and check 7 (the ids against an instruction)
    /// is left out. Without the merchant's key, check 5 is reported as not run (INFO), never as
    /// passed.
    fn request_checks(&self, request: &RecordedRequest, seq: u64) -> Vec<Check> {
        let expected = Expected {
            client_id: request.header(header::CLIENT_ID).unwrap_or_default(),
            instructed: None,
            local_validation: false,
        };
        let key = self
            .config
            .merchant_public
            .as_ref()
            .unwrap_or(&self.stand_in_key);
        let mut checks = request::check_request(request, seq as usize, &expected, key);
        if self.config.merchant_public.is_none() {
            let signature =
                |c: &&mut Check| CheckId::from_report_id(&c.id) == Some(CheckId::Signature);
            for check in checks.iter_mut().filter(signature) {
                *check = Check {
                    id: check.id.clone(),
                    level: Level::Info,
                    held: false,
                    message:
                        "not run: no --merchant-public-key to verify the request signature with"
                            .into(),
                    rule: check.rule.clone(),
                    expected: Some("a merchant public key".into()),
                    seen: Some("none given".into()),
                    values: Default::default(),
                };
            }
        }
        checks
    }

    fn journal(&self, exchange: &Forwarded) {
        let kept = Entry::of(&exchange.request, exchange);
        if let Some(file) = &self.journal_file {
            let traffic = TrafficLine {
                request: exchange.request.body.clone(),
                response: exchange.answer_body.clone(),
                seq: exchange.request.seq,
                received_at: None,
                path: exchange.request.path.clone(),
                status: exchange.status,
                facts: ProxyFacts {
                    class: exchange.classified.class,
                    accepts: exchange.classified.accepts.clone(),
                },
                checks: exchange.checks.clone(),
                passed: exchange.passed.clone(),
            };
            let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
            let _ = writeln!(file, "{}", traffic.to_line());
        }
        let mut state = self.lock();
        state.totals.count(&exchange.checks);
        state
            .journal
            .keep(kept, self.config.journal_bound, JOURNAL_BYTES);
    }

    fn admin(&self, request: &RecordedRequest) -> HttpAnswer {
        use crate::serve::admin;
        if let Err(refusal) = self.guard.admit(request) {
            return refusal;
        }
        match (request.method.as_str(), request.path.as_str()) {
            ("GET", "/__kit/health") => admin::health(),
            ("GET", "/__kit/requests") => {
                let state = self.lock();
                admin::requests(&state.journal, &state.totals, request)
            }
            ("POST", "/__kit/shutdown") => admin::shutdown(&self.stop),
            _ => admin::reply(
                404,
                json!({"error": format!("no kit endpoint {} {}", request.method, request.path)}),
            ),
        }
    }
}

/// The answer's checks: `answer[N].class` (INFO, always held: the class and what a correct
/// client may conclude), then, for an answer that came, `answer[N].body`, `answer[N].signature`
/// and `answer[N].client-id`; for none, `answer[N].answer` (INFO).
fn answer_checks(
    seq: u64,
    raw: &RawAnswer<'_>,
    classified: &Classified,
    upstream_error: Option<&str>,
) -> Vec<Check> {
    let id = |name: &str| format!("answer[{seq}].{name}");
    let accepts: Vec<&str> = classified.accepts.iter().map(|o| o.as_str()).collect();
    let class = Check::pass(
        &id("class"),
        Level::Info,
        "docs/contract.md#outcome-rules",
        format!(
            "{}: {}; a correct client surfaces {}",
            classified.class.as_str(),
            classified.why,
            accepts.join(" or ")
        ),
    );
    if let Some(why) = upstream_error {
        let none = Check::fail(
            &id("answer"),
            Level::Info,
            "docs/contract.md#outcome-rules",
            format!("no answer from the upstream: {why}"),
            "an answer",
            why,
        );
        return vec![class, none];
    }
    let mut checks = vec![class];
    if raw.status == 200 {
        checks.push(answer_body(&id("body"), raw.body));
    }
    checks.push(answer_signature(&id("signature"), classified));
    if raw.status == 200 {
        checks.push(answer_client_id(&id("client-id"), raw));
    }
    checks
}

/// `answer[N].body` (MUST): a business answer is a JSON body the response schema accepts.
fn answer_body(id: &str, body: &[u8]) -> Check {
    let body = serde_json::from_slice::<Value>(body).map_err(|e| e.to_string());
    match body.map(|b| Schema::Response.violations(&b)) {
        Ok(violations) if violations.is_empty() => Check::pass(
            id,
            Level::Must,
            BODY_RULE,
            "the body is a valid cancel response",
        ),
        Ok(violations) => Check::fail(
            id,
            Level::Must,
            BODY_RULE,
            "the body breaks the response schema",
            "a body valid against schema/cancel-response.schema.json",
            violations
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Err(e) => Check::fail(
            id,
            Level::Must,
            BODY_RULE,
            "an HTTP 200 answer's body is not JSON",
            "a JSON body",
            e,
        ),
    }
}

/// `answer[N].signature` (MUST): an answer a client may not believe is the gateway's fault,
/// except the unsigned refusals the rules allow; not run (INFO) without the vendor's key.
fn answer_signature(id: &str, classified: &Classified) -> Check {
    let unbelievable = matches!(
        classified.class,
        AnswerClass::UnsignedSuccess
            | AnswerClass::SignatureHalfMissing
            | AnswerClass::SignatureInvalid
    );
    match classified.class {
        AnswerClass::SignatureNotChecked => Check::fail(
            id,
            Level::Info,
            ANSWER_RULE,
            "not run: no --alipay-public-key to verify the answer with",
            "the vendor public key",
            "none given",
        ),
        _ if unbelievable => Check::fail(
            id,
            Level::Must,
            ANSWER_RULE,
            format!("the answer cannot be believed: {}", classified.why),
            "a correctly signed answer (or an unsigned F or U)",
            classified.class.as_str(),
        ),
        _ => Check::pass(id, Level::Must, ANSWER_RULE, classified.why.clone()),
    }
}

/// `answer[N].client-id` (SHOULD): the answer echoes the request's client id.
fn answer_client_id(id: &str, raw: &RawAnswer<'_>) -> Check {
    let echoed = raw
        .headers
        .iter()
        .find(|(n, _)| n == header::CLIENT_ID)
        .map(|(_, v)| v.as_str());
    if echoed == Some(raw.request_client_id) {
        Check::pass(
            id,
            Level::Should,
            ANSWER_RULE,
            "client-id echoes the request's",
        )
    } else {
        Check::fail(
            id,
            Level::Should,
            ANSWER_RULE,
            "the answer's client-id should echo the request's",
            raw.request_client_id,
            echoed.unwrap_or("(absent)"),
        )
    }
}

impl Responder for Shared {
    fn answer(&self, request: RecordedRequest) -> Answering<'_> {
        Box::pin(async move {
            if request.path.starts_with("/__kit/") {
                return self.admin(&request);
            }
            self.exchange(request).await
        })
    }

    /// Not forwarded (the upstream would refuse it too, and the proxy holds at most 1 MiB):
    /// refused with 413 and journaled with the `request[N].body-size` check it fails, as
    /// `serve` journals it.
    fn too_large(&self, request: RecordedRequest, seen: String) -> HttpAnswer {
        let http = crate::gateway::limit::payload_too_large();
        self.refused(request, http, |seq| {
            crate::gateway::limit::body_size_check(seq as usize, seen)
        })
    }

    /// Not forwarded (the upstream might read its framing otherwise): refused with 400 and
    /// journaled with the `request[N].framing` check it fails.
    fn bad_request(&self, request: RecordedRequest, why: String) -> HttpAnswer {
        let http = crate::gateway::raw::bad_request_answer(&why);
        self.refused(request, http, |seq| {
            crate::gateway::raw::framing_check(seq, &why)
        })
    }
}

impl Shared {
    /// A request the proxy answers itself with `http`, never forwarded: journaled with the
    /// one check it fails (`check` of its `seq`) and the class of the refusal.
    fn refused(
        &self,
        request: RecordedRequest,
        http: HttpAnswer,
        check: impl FnOnce(u64) -> Check,
    ) -> HttpAnswer {
        let seq = {
            let mut state = self.lock();
            state.seq += 1;
            state.seq
        };
        let client_id = request
            .header(header::CLIENT_ID)
            .unwrap_or_default()
            .to_owned();
        let raw = RawAnswer {
            path: &request.path,
            request_client_id: &client_id,
            status: http.status,
            headers: &http.headers,
            body: &http.body,
        };
        let classified = contract::classify(&raw, None);
        let checks = vec![check(seq)];
        let exchange = self.exchange_of(seq, &request, &http, None, classified, checks);
        self.journal(&exchange);
        http
    }
}

/// What the client gets when the upstream gave no whole answer: 502, saying why in
/// `x-kit-error` and the body.
fn bad_gateway(why: &str) -> HttpAnswer {
    HttpAnswer {
        status: 502,
        headers: vec![
            (
                "content-type".to_owned(),
                "text/plain; charset=UTF-8".to_owned(),
            ),
            (
                "x-kit-error".to_owned(),
                crate::gateway::raw::visible(&cut(why, 1024)),
            ),
        ],
        body: format!("proxy: no answer from the upstream: {why}\n").into_bytes(),
        delay: std::time::Duration::ZERO,
        fault: None,
    }
}

/// A running proxy; stops when dropped.
pub struct Proxy {
    shared: Arc<Shared>,
    ready: Ready,
    _plain: RawServer,
    _tls: Option<TlsFront>,
}

impl Proxy {
    /// Starts the proxy and returns once it accepts connections.
    ///
    /// # Errors
    /// [`ListenError`] when the address cannot be listened on, the TLS material cannot be made
    /// or read, or the journal file cannot be opened.
    pub async fn start(config: ProxyConfig) -> Result<Proxy, ListenError> {
        let journal_file = listen::open_journal(config.journal_file.as_ref())?;
        if let Some(dir) = &config.record_dir {
            std::fs::create_dir_all(dir).map_err(|e| ListenError::Journal(dir.clone(), e))?;
        }
        let shared = Arc::new(Shared {
            stand_in_key: crate::signature::TestKeys::fixed().merchant.verifying_key(),
            config: config.clone(),
            state: Mutex::new(State::default()),
            journal_file,
            stop: tokio::sync::Notify::new(),
            guard: crate::serve::admin::Guard::new(config.admin_token.clone()),
        });
        let limits = Limits {
            connections: 1024,
            request_timeout: std::time::Duration::from_secs(30),
        };
        let listening = listen::listen(config.bind, &config.tls, shared.clone(), limits).await?;
        let _ = shared.guard.public.set(listening.public);
        let ready = Ready {
            upstream: Some(config.upstream.url.clone()),
            ca_certificate_pem: listening.ca,
            ..Ready::new(listening.url)
        };
        Ok(Proxy {
            shared,
            ready,
            _plain: listening.plain,
            _tls: listening.tls,
        })
    }

    /// Every exchange the journal keeps, oldest first.
    pub fn journal(&self) -> Vec<Forwarded> {
        let state = self.shared.lock();
        state.journal.read()
    }
}

impl Session for Proxy {
    /// The ready line: `url`, `upstream`, `version` and, with `--tls`, `caCertificatePem`.
    fn ready(&self) -> &Ready {
        &self.ready
    }

    fn totals(&self) -> Totals {
        self.shared.lock().totals
    }

    /// The session as a report: one test case per exchange (`proxy/<seq>`).
    fn report(&self) -> RunReport {
        let results = self.journal().iter().map(exchange_result).collect();
        RunReport::new(
            format!(
                "traffic through proxy to {}",
                self.shared.config.upstream.url
            ),
            "proxy",
            results,
        )
    }

    fn stop_signal(&self) -> &tokio::sync::Notify {
        &self.shared.stop
    }

    /// Requests came but the upstream answered none of them: the session proved nothing
    /// about the gateway (down, unreachable, or the wrong address).
    fn failure(&self) -> Option<String> {
        let state = self.shared.lock();
        let requests = state.totals.requests;
        (requests > 0 && state.answered == 0).then(|| {
            format!(
                "none of the {requests} requests got an answer from the upstream {} (the last: {})",
                self.shared.config.upstream.url,
                state.last_error.as_deref().unwrap_or("no reason recorded")
            )
        })
    }
}

fn exchange_result(exchange: &Forwarded) -> ScenarioResult {
    ScenarioResult {
        id: format!("proxy/{}", exchange.request.seq),
        title: format!(
            "{} {} -> HTTP {}: {}",
            exchange.request.method,
            exchange.request.path,
            exchange.status,
            exchange.classified.class.as_str()
        ),
        rule: "docs/contract.md#request-checks".to_owned(),
        verdict: verdict::grade(&exchange.checks),
        reason: None,
        checks: crate::standing::journal::rejoin(
            &exchange.checks,
            &exchange.passed,
            "docs/contract.md",
        ),
        requests: 1,
        outcome: None,
        stderr: String::new(),
        duration_ms: exchange.upstream_ms,
        adapter_ms: 0.0,
        transcript: Vec::new(),
    }
}

/// A public key file that does not hold a key `proxy` can verify with.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file cannot be read.
    Unreadable(PathBuf, std::io::Error),
    /// A PKCS#1 `RSA PUBLIC KEY`, not the SubjectPublicKeyInfo form the vendor's consoles give.
    Pkcs1(PathBuf),
    /// Not a key.
    NotAKey(PathBuf, crate::signature::SignatureError),
}

impl std::fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyFileError::Unreadable(path, e) => write!(f, "{}: {e}", path.display()),
            KeyFileError::Pkcs1(path) => write!(
                f,
                "{}: a PKCS#1 `RSA PUBLIC KEY`; give the SubjectPublicKeyInfo form (`PUBLIC KEY`, base64 DER as the vendor's console shows it)",
                path.display()
            ),
            KeyFileError::NotAKey(path, e) => write!(f, "{}: {e}", path.display()),
        }
    }
}

impl std::error::Error for KeyFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KeyFileError::Unreadable(_, e) => Some(e),
            KeyFileError::Pkcs1(_) => None,
            KeyFileError::NotAKey(_, e) => Some(e),
        }
    }
}

/// A public key from a file holding a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) or its base64
/// DER, as the vendor's consoles give it.
///
/// # Errors
/// [`KeyFileError`] naming the file and what is wrong with it.
pub fn read_public_key(path: &std::path::Path) -> Result<VerifyingKey, KeyFileError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| KeyFileError::Unreadable(path.to_owned(), e))?;
    if text.contains("BEGIN RSA PUBLIC KEY") {
        return Err(KeyFileError::Pkcs1(path.to_owned()));
    }
    let base64: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.split_whitespace())
        .collect();
    VerifyingKey::from_base64_spki(&base64).map_err(|e| KeyFileError::NotAKey(path.to_owned(), e))
}
