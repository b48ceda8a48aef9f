//! The gateway's own endpoints under `/__kit/`: health, the journal, arming answers, stopping.
//! They are not the API: they are never checked, journaled or signed.
//!
//! They can stop the session and show every signature received, so they are guarded
//! ([`Guard`]): a request from a web page in the developer's browser (DNS rebinding, a
//! cross-site form) and, off loopback, anyone without the admin token, is refused.
//! `GET /__kit/health` stays open, for readiness probes.

use std::net::SocketAddr;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{json, Value};

use super::state::Armed;
use super::ServeGateway;
use crate::contract::RecordedRequest;
use crate::gateway::HttpAnswer;
use crate::scenario::{Answer, Transport};
use crate::standing::journal::{Kept, Totals};

/// Every admin path starts with this.
pub const PREFIX: &str = "/__kit/";

/// The most times one `POST /__kit/arm` may repeat its answers.
const MAX_TIMES: usize = 1_000;

/// The longest `delayMs` an armed answer may have: a minute, more than any client's timeout
/// worth testing, and the gateway holds the connection meanwhile.
pub const MAX_DELAY_MS: u64 = 60_000;

/// Who may use the `/__kit/` endpoints of one `serve` or `proxy`.
#[derive(Debug, Default)]
pub struct Guard {
    /// The token every admin request must carry (`authorization: Bearer TOKEN` or
    /// `x-kit-admin-token: TOKEN`), `--admin-token`. With it the `Host` is not checked.
    pub token: Option<String>,
    /// The address clients reach the gateway at (the TLS front's, with TLS): set once
    /// listening.
    pub public: OnceLock<SocketAddr>,
}

impl Guard {
    /// A guard with `token` (none: the `Host` check alone, for loopback).
    pub fn new(token: Option<String>) -> Guard {
        Guard {
            token,
            public: OnceLock::new(),
        }
    }

    /// `Err` with the refusal when `request` may not use the endpoint it calls: a `Host` that
    /// is neither the listening address nor `localhost` (without a token), a missing or wrong
    /// token (with one), or a `POST` whose body is not declared JSON (a cross-site form
    /// cannot declare it).
    pub fn admit(&self, request: &RecordedRequest) -> Result<(), HttpAnswer> {
        if request.method == "GET" && request.path == format!("{PREFIX}health") {
            return Ok(());
        }
        match &self.token {
            Some(token) => {
                let given = request
                    .header("x-kit-admin-token")
                    .or_else(|| request.header("authorization")?.strip_prefix("Bearer "));
                if given != Some(token.as_str()) {
                    return Err(reply(
                        401,
                        json!({"error": format!("{PREFIX}: this gateway needs its admin token (--admin-token) in `authorization: Bearer TOKEN` or `x-kit-admin-token`")}),
                    ));
                }
            }
            None => {
                if let Some(host) = request.header("host") {
                    if !self.host_allowed(host) {
                        return Err(reply(
                            403,
                            json!({"error": format!("{PREFIX}: Host `{}` is neither this gateway's address nor localhost (a web page may not use these endpoints)", crate::gateway::raw::visible(host))}),
                        ));
                    }
                }
            }
        }
        if request.method == "POST" && !is_json(request.header("content-type")) {
            return Err(reply(
                415,
                json!({"error": format!("{PREFIX}: a POST here needs `content-type: application/json` (a cross-site form cannot send it)")}),
            ));
        }
        Ok(())
    }

    /// `localhost`, or an IP literal that is the listening address (any, when listening on
    /// all addresses) or loopback; with a port, the listening port.
    fn host_allowed(&self, host: &str) -> bool {
        let Some(public) = self.public.get() else {
            return true;
        };
        let (name, port) = match host.rsplit_once(':') {
            Some((name, port)) if !name.is_empty() && !port.contains(']') => (name, Some(port)),
            _ => (host, None),
        };
        if port.is_some_and(|p| p.parse::<u16>().ok() != Some(public.port())) {
            return false;
        }
        let name = name.trim_start_matches('[').trim_end_matches(']');
        if name.eq_ignore_ascii_case("localhost") {
            return true;
        }
        match name.parse::<std::net::IpAddr>() {
            Ok(ip) => ip == public.ip() || ip.is_loopback() || public.ip().is_unspecified(),
            Err(_) => false,
        }
    }
}

/// A media type of `application/json` (parameters aside).
fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

pub(super) fn answer(gateway: &ServeGateway, request: &RecordedRequest) -> HttpAnswer {
    if let Err(refusal) = gateway.guard.admit(request) {
        return refusal;
    }
    let route = request.path.strip_prefix(PREFIX).unwrap_or_default();
    match (request.method.as_str(), route) {
        ("GET", "health") => health(),
        ("GET", "requests") => {
            let memory = gateway.lock();
            requests(&memory.journal, &memory.totals, request)
        }
        ("DELETE", "requests") => {
            let cleared = gateway.lock().clear();
            reply(200, json!({"cleared": cleared}))
        }
        ("POST", "arm") => match arm(gateway, &request.body) {
            Ok(armed) => reply(200, armed),
            Err(error) => reply(400, json!({"error": error.to_string()})),
        },
        ("POST", "shutdown") => shutdown(&gateway.stop),
        (method, _) => reply(
            404,
            json!({"error": format!(
                "no kit endpoint {method} {}; there are GET {PREFIX}health, GET and DELETE {PREFIX}requests, POST {PREFIX}arm, POST {PREFIX}shutdown",
                request.path
            )}),
        ),
    }
}

/// `GET /__kit/health`.
pub(crate) fn health() -> HttpAnswer {
    reply(
        200,
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}),
    )
}

/// `POST /__kit/shutdown`: wakes whoever waits on `stop`, and leaves a permit for whoever
/// comes to wait later.
pub(crate) fn shutdown(stop: &tokio::sync::Notify) -> HttpAnswer {
    stop.notify_waiters();
    stop.notify_one();
    reply(200, json!({"status": "stopping"}))
}

/// `GET /__kit/requests`: journal entries, kept as JSON text, spliced in as they are (never
/// parsed again), with the totals and how many entries are kept in all.
pub(crate) fn journal_page<'a>(
    entries: impl Iterator<Item = &'a str>,
    totals: &Totals,
    kept: usize,
) -> HttpAnswer {
    let entries: Vec<&str> = entries.collect();
    let totals = serde_json::to_string(totals).expect("totals serialise");
    let body = format!(
        r#"{{"requests":[{}],"totals":{totals},"kept":{kept}}}"#,
        entries.join(",")
    );
    reply_text(200, body)
}

pub(crate) fn reply(status: u16, body: Value) -> HttpAnswer {
    reply_text(status, body.to_string())
}

fn reply_text(status: u16, json: String) -> HttpAnswer {
    HttpAnswer {
        status,
        headers: vec![(
            crate::spec::endpoint::header::CONTENT_TYPE.to_owned(),
            "application/json".to_owned(),
        )],
        body: json.into_bytes(),
        delay: std::time::Duration::ZERO,
        fault: None,
    }
}

/// `GET /__kit/requests[?id=ID]` of `serve` and `proxy`: the journal, oldest first,
/// optionally only the exchanges naming `ID` as `paymentId` or `paymentRequestId`.
pub(crate) fn requests(journal: &Kept, totals: &Totals, request: &RecordedRequest) -> HttpAnswer {
    let filter = request.query_param("id");
    journal_page(journal.naming(filter.as_deref()), totals, journal.len())
}

/// The body of `POST /__kit/arm`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ArmRequest {
    scenario: Option<String>,
    answers: Option<Vec<Value>>,
    times: Option<usize>,
    client_id: Option<String>,
    id: Option<String>,
}

fn arm(gateway: &ServeGateway, body: &[u8]) -> Result<Value, ArmError> {
    let arm: ArmRequest = serde_json::from_slice(body).map_err(ArmError::Body)?;
    let times = arm.times.unwrap_or(1);
    if times == 0 || times > MAX_TIMES {
        return Err(ArmError::Times(times));
    }
    let (label, answers) = match (arm.scenario, arm.answers) {
        (Some(id), None) => {
            let scenario = gateway
                .catalogue
                .get(&id)
                .ok_or_else(|| ArmError::NoScenario(id.clone()))?;
            if scenario.transport != Transport::Plain {
                return Err(ArmError::NeedsItsOwnListener(id));
            }
            (id, scenario.answers.clone())
        }
        (None, Some(answers)) if !answers.is_empty() => {
            let parsed = answers
                .into_iter()
                .enumerate()
                .map(|(i, a)| parse_answer(i, a))
                .collect::<Result<Vec<_>, _>>()?;
            ("answers".to_owned(), parsed)
        }
        _ => return Err(ArmError::NotOneOf),
    };
    // `times` is a count: the answers are held once, however often they are served.
    let count = answers.len() * times;
    let bytes = serde_json::to_string(&answers).map_or(0, |json| json.len());
    let mut memory = gateway.lock();
    if memory.armed_answers() + count > gateway.bounds.armed_answers {
        return Err(ArmError::TooManyAnswers {
            bound: gateway.bounds.armed_answers,
            armed: memory.armed_answers(),
        });
    }
    if memory.armed_bytes() + bytes > gateway.bounds.armed_bytes {
        return Err(ArmError::TooManyBytes {
            bound: gateway.bounds.armed_bytes,
            held: memory.armed_bytes(),
            asked: bytes,
        });
    }
    memory.arm(Armed {
        client_id: arm.client_id,
        id: arm.id,
        label: label.clone(),
        answers,
        left: count,
        bytes,
    });
    Ok(json!({"armed": label, "answers": count, "waiting": memory.armed_answers()}))
}

/// Why `POST /__kit/arm` was refused (HTTP 400, the message in the body).
#[derive(Debug)]
#[non_exhaustive]
pub enum ArmError {
    /// The body is not an arm request.
    Body(serde_json::Error),
    /// `times` out of range.
    Times(usize),
    /// `scenario` names no scenario of the catalogue.
    NoScenario(String),
    /// `scenario` names one that needs its own TLS listener (`tls/`).
    NeedsItsOwnListener(String),
    /// Neither or both of `scenario` and a non-empty `answers`.
    NotOneOf,
    /// More answers would wait than [`super::Bounds::armed_answers`].
    TooManyAnswers {
        /// The bound.
        bound: usize,
        /// Answers armed already.
        armed: usize,
    },
    /// Armed answers would hold more than [`super::Bounds::armed_bytes`].
    TooManyBytes {
        /// The bound.
        bound: usize,
        /// Bytes held already.
        held: usize,
        /// Bytes this request asks for.
        asked: usize,
    },
    /// `answers[i]` is not an answer in the catalogue's format.
    Answer(usize, serde_json::Error),
    /// `answers[i]` has both `body` and `rawBody`.
    BodyAndRawBody(usize),
    /// `answers[i].status` is not an HTTP status.
    Status(usize, u16),
    /// `answers[i].delayMs` is over [`MAX_DELAY_MS`].
    Delay(usize, u64),
}

impl std::fmt::Display for ArmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{PREFIX}arm: ")?;
        match self {
            ArmError::Body(e) => write!(f, "body: {e}"),
            ArmError::Times(times) => {
                write!(f, "times: expected 1 to {MAX_TIMES}, found {times}")
            }
            ArmError::NoScenario(id) => write!(f, "scenario: no scenario `{id}`"),
            ArmError::NeedsItsOwnListener(id) => write!(
                f,
                "scenario: `{id}` needs its own TLS listener and cannot be armed"
            ),
            ArmError::NotOneOf => write!(
                f,
                "expected exactly one of `scenario` and a non-empty `answers`"
            ),
            ArmError::TooManyAnswers { bound, armed } => write!(
                f,
                "at most {bound} answers may wait at once ({armed} already armed)"
            ),
            ArmError::TooManyBytes { bound, held, asked } => write!(
                f,
                "armed answers may hold at most {bound} bytes at once ({held} held, {asked} more asked)"
            ),
            ArmError::Answer(index, e) => write!(f, "answers[{index}]: {e}"),
            ArmError::BodyAndRawBody(index) => {
                write!(f, "answers[{index}]: at most one of `body` and `rawBody`")
            }
            ArmError::Status(index, status) => write!(
                f,
                "answers[{index}].status: expected 100 to 599, found {status}"
            ),
            ArmError::Delay(index, delay) => write!(
                f,
                "answers[{index}].delayMs: expected at most {MAX_DELAY_MS}, found {delay}"
            ),
        }
    }
}

impl std::error::Error for ArmError {}

/// An answer in the catalogue's format; `accept` may be left out (`serve` judges no outcome).
fn parse_answer(index: usize, mut value: Value) -> Result<Answer, ArmError> {
    if let Some(object) = value.as_object_mut() {
        object
            .entry("accept")
            .or_insert_with(|| json!(["SUCCESS", "FAILED", "UNKNOWN"]));
    }
    let answer: Answer = serde_json::from_value(value).map_err(|e| ArmError::Answer(index, e))?;
    if answer.body.is_some() && answer.raw_body.is_some() {
        return Err(ArmError::BodyAndRawBody(index));
    }
    if !(100..=599).contains(&answer.status) {
        return Err(ArmError::Status(index, answer.status));
    }
    if answer.delay_ms > MAX_DELAY_MS {
        return Err(ArmError::Delay(index, answer.delay_ms));
    }
    Ok(answer)
}
