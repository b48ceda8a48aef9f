//! A whole generated case as a catalogue scenario, and its one-line title.

use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::capability::Ids;
use crate::contract;
use crate::scenario::{Answer, Scenario, Transport, DEFAULT_CLIENT_ID, DEFAULT_TIMEOUT_MS};
use crate::spec::endpoint::member;
use crate::spec::ResultStatus;

use super::answer::status_of;
use super::{answer_sequence, cancel_request_within, Timing, GROUP, RULE};

/// A whole case as a catalogue scenario (`fuzz/case`): a [`cancel_request`](super::cancel_request), an
/// [`answer_sequence`], and, half the time, success bodies that echo the instructed ids.
pub fn scenario(timing: Timing) -> BoxedStrategy<Scenario> {
    scenario_within(timing, Ids::all())
}

/// [`scenario`] for a client that can send only `ids` (see [`cancel_request_within`]).
pub fn scenario_within(timing: Timing, ids: Ids) -> BoxedStrategy<Scenario> {
    (
        cancel_request_within(ids),
        answer_sequence(timing),
        any::<bool>(),
    )
        .prop_map(move |(request, mut answers, echo)| {
            if echo {
                for body in answers.iter_mut().filter_map(|a| a.body.as_mut()) {
                    if status_of(body) != ResultStatus::S {
                        continue;
                    }
                    let Value::Object(members) = body else {
                        continue;
                    };
                    for field in [member::PAYMENT_ID, member::PAYMENT_REQUEST_ID] {
                        if let Some(id) = request.get(field) {
                            members.insert(field.to_owned(), id.clone());
                        }
                    }
                }
            }
            let delayed = answers.iter().any(|a| a.delay_ms > 0);
            Scenario {
                id: format!("{GROUP}/case"),
                title: describe(&request, &answers),
                rule: RULE.to_owned(),
                needs: Vec::new(),
                client_id: DEFAULT_CLIENT_ID.to_owned(),
                request,
                request_alternatives: Vec::new(),
                timeout_ms: if delayed {
                    timing.timeout_ms
                } else {
                    DEFAULT_TIMEOUT_MS
                },
                transport: Transport::Plain,
                local_validation: false,
                accept_without_request: Vec::new(),
                answers,
            }
        })
        .boxed()
}

/// A one-line title: the request's fields, then each answer by its HTTP status, its kind (the
/// contract's class of answer) and its result (`HTTP 200 signed-unknown U UNKNOWN_EXCEPTION,
/// then HTTP 200 signed-success S SUCCESS at 2019-06-12T16:52:11+05:45`): an unsigned `S` or an
/// HTTP 500 carrying an `F` reads as what it is, not as its result code alone.
fn describe(request: &Map<String, Value>, answers: &[Answer]) -> String {
    let fields: Vec<&str> = request.keys().map(String::as_str).collect();
    let steps: Vec<String> = answers
        .iter()
        .map(|a| {
            let body = a.body.as_ref();
            let (class, _) = contract::answer::scripted_class(a);
            let mut s = format!("HTTP {} {}", a.status, class.as_str());
            if let Some(code) = body
                .and_then(|b| b.pointer("/result/resultCode"))
                .and_then(Value::as_str)
            {
                s.push_str(&format!(
                    " {} {code}",
                    body.map_or(ResultStatus::U, status_of)
                ));
            }
            if let Some(t) = body
                .and_then(|b| b.get("cancelTime"))
                .and_then(Value::as_str)
            {
                s.push_str(&format!(" at {t}"));
            }
            if a.delay_ms > 0 {
                s = format!("{s} delayed past the timeout");
            }
            s
        })
        .collect();
    format!(
        "generated: {} sent; {}",
        fields.join("+"),
        steps.join(", then ")
    )
}
