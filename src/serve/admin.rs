//! The gateway's own endpoints under `/__kit/`: health, the journal, arming answers, stopping.
//! They are not the API: they are never checked, journaled or signed.

use std::collections::VecDeque;

use serde::Deserialize;
use serde_json::{json, Value};

use super::state::Armed;
use super::Gateway;
use crate::contract::RecordedRequest;
use crate::gateway::HttpAnswer;
use crate::scenario::{Answer, Transport};

/// Every admin path starts with this.
pub const PREFIX: &str = "/__kit/";

/// The most times one `POST /__kit/arm` may repeat its answers.
const MAX_TIMES: usize = 1_000;

pub(super) fn answer(gateway: &Gateway, request: &RecordedRequest) -> HttpAnswer {
    let route = request.path.strip_prefix(PREFIX).unwrap_or_default();
    match (request.method.as_str(), route) {
        ("GET", "health") => health(),
        ("GET", "requests") => requests(gateway, request),
        ("DELETE", "requests") => {
            let cleared = gateway.lock().clear();
            reply(200, json!({"cleared": cleared}))
        }
        ("POST", "arm") => match arm(gateway, &request.body) {
            Ok(armed) => reply(200, armed),
            Err(error) => reply(400, json!({"error": error})),
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
    totals: &super::Totals,
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

/// `GET /__kit/requests[?id=ID]`: the journal, oldest first, optionally only the exchanges
/// naming `ID`.
fn requests(gateway: &Gateway, request: &RecordedRequest) -> HttpAnswer {
    let filter = request.query_param("id");
    let memory = gateway.lock();
    let entries = memory
        .journal
        .iter()
        .filter(|e| filter.as_deref().is_none_or(|id| e.ids.contains(id)))
        .map(|e| &*e.json);
    journal_page(entries, &memory.totals, memory.journal.len())
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

fn arm(gateway: &Gateway, body: &[u8]) -> Result<Value, String> {
    let arm: ArmRequest =
        serde_json::from_slice(body).map_err(|e| format!("{PREFIX}arm: body: {e}"))?;
    let times = arm.times.unwrap_or(1);
    if times == 0 || times > MAX_TIMES {
        return Err(format!(
            "{PREFIX}arm: times: expected 1 to {MAX_TIMES}, found {times}"
        ));
    }
    let (label, answers) = match (arm.scenario, arm.answers) {
        (Some(id), None) => {
            let scenario = gateway
                .catalogue
                .get(&id)
                .ok_or_else(|| format!("{PREFIX}arm: scenario: no scenario `{id}`"))?;
            if scenario.transport != Transport::Plain {
                return Err(format!(
                    "{PREFIX}arm: scenario: `{id}` needs its own TLS listener and cannot be armed"
                ));
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
        _ => {
            return Err(format!(
                "{PREFIX}arm: expected exactly one of `scenario` and a non-empty `answers`"
            ))
        }
    };
    let answers: VecDeque<Answer> = std::iter::repeat_n(answers, times).flatten().collect();
    let count = answers.len();
    let mut memory = gateway.lock();
    if memory.armed_answers() + count > gateway.bounds.armed_answers {
        return Err(format!(
            "{PREFIX}arm: at most {} answers may wait at once ({} already armed)",
            gateway.bounds.armed_answers,
            memory.armed_answers()
        ));
    }
    memory.armed.push_back(Armed {
        client_id: arm.client_id,
        id: arm.id,
        label: label.clone(),
        answers,
    });
    Ok(json!({"armed": label, "answers": count, "waiting": memory.armed_answers()}))
}

/// An answer in the catalogue's format; `accept` may be left out (`serve` judges no outcome).
fn parse_answer(index: usize, mut value: Value) -> Result<Answer, String> {
    if let Some(object) = value.as_object_mut() {
        object
            .entry("accept")
            .or_insert_with(|| json!(["SUCCESS", "FAILED", "UNKNOWN"]));
    }
    let answer: Answer =
        serde_json::from_value(value).map_err(|e| format!("{PREFIX}arm: answers[{index}]: {e}"))?;
    if answer.body.is_some() && answer.raw_body.is_some() {
        return Err(format!(
            "{PREFIX}arm: answers[{index}]: at most one of `body` and `rawBody`"
        ));
    }
    Ok(answer)
}
