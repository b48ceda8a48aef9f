//! What the standing gateway remembers and how it picks an answer: the ordinary ids it has
//! cancelled, the magic ids' places in their scenarios, the armed answers, and the journal.
//!
//! Every store is bounded ([`Bounds`]): a test suite that runs for hours, or a client that
//! floods the gateway, cannot make the kit grow without limit. When a store is full the
//! oldest entry goes first.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::contract::AnswerClass;
use crate::contract::{Check, Level, RecordedRequest};
use crate::gateway::answer::Served;
use crate::protocol::OutcomeKind;
use crate::scenario::{Answer, Catalogue, Signing, Transport};
use crate::spec::endpoint::member;
pub use crate::standing::journal::BodyIds;
use crate::standing::journal::{
    journal_text, kept_check, kept_headers, split, Entry, JournalRequest, Kept, Totals,
};

/// How much the gateway keeps at most.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// Exchanges kept in the journal (`GET /__kit/requests`, the reports).
    pub journal: usize,
    /// Bytes the journal keeps in all (its entries' JSON text); the oldest go first past it.
    pub journal_bytes: usize,
    /// Bytes of each request and answer body kept in the journal.
    pub journal_body_bytes: usize,
    /// Ordinary ids remembered (each id cancelled keeps its first answer).
    pub memory: usize,
    /// Magic ids whose place in their scenario is remembered.
    pub magic: usize,
    /// Armed entries waiting, and answers in all of them together.
    pub armed_answers: usize,
    /// Bytes of armed answers held in all (each entry's answers once, whatever its `times`).
    pub armed_bytes: usize,
}

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds {
            journal: 10_000,
            journal_bytes: 32 << 20,
            journal_body_bytes: 4 * 1024,
            memory: 100_000,
            magic: 100_000,
            armed_answers: 10_000,
            armed_bytes: 4 << 20,
        }
    }
}

/// The prefix of a magic id: `kit:<scenario id>[:<anything>]`.
pub const MAGIC_PREFIX: &str = "kit:";

/// The magic id that selects a scenario, as `scenarios --magic` prints it.
pub fn magic_id(scenario_id: &str) -> String {
    format!("{MAGIC_PREFIX}{scenario_id}")
}

impl BodyIds {
    /// The magic id among them (`paymentId` first, as the API gives it precedence) and the
    /// scenario id it names.
    pub fn magic(&self) -> Option<(&str, &str)> {
        [&self.payment_id, &self.payment_request_id]
            .into_iter()
            .flatten()
            .find_map(|id| {
                let rest = id.strip_prefix(MAGIC_PREFIX)?;
                Some((id.as_str(), rest.split(':').next().unwrap_or(rest)))
            })
    }
}

/// Answers armed by `POST /__kit/arm`, served to the next requests that match.
#[derive(Clone, Debug)]
pub struct Armed {
    /// Only requests with this `Client-Id`, if set.
    pub client_id: Option<String>,
    /// Only requests naming this id (as `paymentId` or `paymentRequestId`), if set.
    pub id: Option<String>,
    /// What armed them, for the journal: a scenario id, or `answers`.
    pub label: String,
    /// The answers, once: served in order, `times` over.
    pub answers: Vec<Answer>,
    /// How many answers are left to serve (at most `answers.len()` times `times`).
    pub left: usize,
    /// The size of `answers` as JSON, counted against [`Bounds::armed_bytes`].
    pub bytes: usize,
}

impl Armed {
    /// Takes the next answer; `None` once all are served.
    fn next(&mut self, total: usize) -> Option<Answer> {
        let served = total.checked_sub(self.left)?;
        self.left = self.left.checked_sub(1)?;
        Some(self.answers[served % self.answers.len()].clone())
    }

    fn matches(&self, client_id: Option<&str>, ids: &BodyIds) -> bool {
        self.client_id
            .as_deref()
            .is_none_or(|c| Some(c) == client_id)
            && self.id.as_deref().is_none_or(|id| ids.contains(id))
    }
}

/// Why a request got the answer it got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Source {
    /// The gateway refused the request, as the real one would.
    Refused,
    /// An ordinary id, cancelled now or remembered from its first cancel.
    Ordinary {
        /// Whether the id was cancelled before (the same answer is served again).
        repeated: bool,
    },
    /// A magic id: the scenario's answer at `index` (the last repeats).
    Magic {
        /// The scenario.
        scenario: String,
        /// Which of its answers, from 0.
        index: usize,
    },
    /// An armed answer.
    Armed {
        /// What armed it.
        label: String,
    },
    /// A magic id the gateway cannot serve: no such scenario, or one that needs its own
    /// listener (`tls/`).
    Unservable {
        /// Why.
        why: String,
    },
}

/// One exchange as the journal keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    /// The request, its body cut at [`Bounds::journal_body_bytes`].
    #[serde(flatten)]
    pub request: JournalRequest,
    /// The request checks (`docs/contract.md#request-checks`) that failed, in full.
    pub checks: Vec<Check>,
    /// The request checks that held, by id and level (kept short: the journal holds
    /// thousands of exchanges).
    pub passed: Vec<(String, Level)>,
    /// Why the answer was chosen.
    pub source: Source,
    /// The answer given.
    pub answer: JournalAnswer,
}

/// The answer part of a journal entry.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalAnswer {
    /// HTTP status (a fault still records the status it would have had).
    pub status: u16,
    /// Header lines sent.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8), cut at [`Bounds::journal_body_bytes`].
    pub body: String,
    /// The signing policy applied.
    pub signing: Signing,
    /// The delay before answering, in milliseconds.
    pub delay_ms: u64,
    /// A transport fault produced instead of (part of) the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<crate::scenario::Fault>,
    /// The outcomes a correct client may surface from it.
    pub accept: Vec<OutcomeKind>,
}

/// Everything the gateway remembers.
#[derive(Debug, Default)]
pub struct Memory {
    pub(crate) seq: u64,
    pub(crate) totals: Totals,
    pub(crate) journal: Kept,
    cancelled: HashMap<String, Arc<Cancelled>>,
    cancelled_order: VecDeque<String>,
    magic: HashMap<String, usize>,
    magic_order: VecDeque<String>,
    pub(crate) armed: VecDeque<(Armed, usize)>,
}

impl Memory {
    /// Forgets everything but the totals: journal, cancelled ids, magic places, armed answers.
    pub fn clear(&mut self) -> usize {
        let cleared = self.journal.len();
        let totals = self.totals;
        *self = Memory::default();
        self.totals = totals;
        cleared
    }

    /// Answers waiting in armed entries.
    pub fn armed_answers(&self) -> usize {
        self.armed.iter().map(|(a, _)| a.left).sum()
    }

    /// Bytes held by armed entries.
    pub fn armed_bytes(&self) -> usize {
        self.armed.iter().map(|(a, _)| a.bytes).sum()
    }

    /// Arms an entry that serves `left` answers in all.
    pub fn arm(&mut self, armed: Armed) {
        let total = armed.left;
        self.armed.push_back((armed, total));
    }

    /// Keeps a journal entry, forgetting the oldest past either bound (entries, bytes).
    pub fn keep(&mut self, entry: Entry, bounds: &Bounds) {
        self.journal
            .keep(entry, bounds.journal, bounds.journal_bytes);
    }

    /// The answer for a request that passed the gateway's own checks.
    pub fn choose(
        &mut self,
        catalogue: &Catalogue,
        client_id: Option<&str>,
        ids: &BodyIds,
        bounds: &Bounds,
    ) -> (Served, Source) {
        if let Some((magic, scenario)) = ids.magic() {
            return self.magic(catalogue, magic, scenario, ids, bounds);
        }
        if let Some(position) = self
            .armed
            .iter()
            .position(|(a, _)| a.matches(client_id, ids))
        {
            let (armed, total) = &mut self.armed[position];
            let label = armed.label.clone();
            let answer = armed.next(*total).expect("armed entries are never empty");
            if armed.left == 0 {
                self.armed.remove(position);
            }
            let answer = echo(answer, ids);
            return (Served::scripted(0, answer), Source::Armed { label });
        }
        self.ordinary(ids, bounds)
    }

    fn magic(
        &mut self,
        catalogue: &Catalogue,
        magic: &str,
        scenario_id: &str,
        ids: &BodyIds,
        bounds: &Bounds,
    ) -> (Served, Source) {
        let Some(scenario) = catalogue.get(scenario_id) else {
            let why = unknown_scenario(catalogue, scenario_id, magic);
            return (
                Served::unplayable("KIT_UNKNOWN_SCENARIO", why.clone()),
                Source::Unservable { why },
            );
        };
        if scenario.transport != Transport::Plain {
            let why = format!(
                "`{scenario_id}` needs its own TLS listener; serve --tls covers the trusted case for every request, `run` plays the others"
            );
            return (
                Served::unplayable("KIT_SCENARIO_NOT_SERVABLE", why.clone()),
                Source::Unservable { why },
            );
        }
        let served = match self.magic.get_mut(magic) {
            Some(n) => {
                *n += 1;
                *n
            }
            None => {
                remember(
                    &mut self.magic,
                    &mut self.magic_order,
                    magic,
                    0,
                    bounds.magic,
                );
                0
            }
        };
        let index = served.min(scenario.answers.len() - 1);
        let answer = echo(scenario.answers[index].clone(), ids);
        let source = Source::Magic {
            scenario: scenario_id.to_owned(),
            index,
        };
        (Served::scripted(index, answer), source)
    }

    fn ordinary(&mut self, ids: &BodyIds, bounds: &Bounds) -> (Served, Source) {
        let known = [&ids.payment_id, &ids.payment_request_id]
            .into_iter()
            .zip([member::PAYMENT_ID, member::PAYMENT_REQUEST_ID])
            .find_map(|(id, kind)| self.cancelled.get(&memory_key(kind, id.as_deref()?)));
        let (cancelled, repeated) = match known {
            Some(cancelled) => (cancelled.clone(), true),
            None => {
                let cancelled = Arc::new(Cancelled::first(ids));
                for (kind, id) in [
                    (member::PAYMENT_ID, &cancelled.payment_id),
                    (member::PAYMENT_REQUEST_ID, &cancelled.payment_request_id),
                ] {
                    let key = memory_key(kind, id);
                    let (map, order) = (&mut self.cancelled, &mut self.cancelled_order);
                    remember(map, order, &key, cancelled.clone(), bounds.memory);
                }
                (cancelled, false)
            }
        };
        let answer = Answer {
            status: 200,
            body: Some(cancelled.body()),
            raw_body: None,
            signing: Signing::Signed,
            delay_ms: 0,
            fault: None,
            // A correctly signed S: the contract's class decides.
            accept: AnswerClass::SignedSuccess.accepts(crate::spec::ResultStatus::S),
            prefer: vec![],
        };
        (Served::scripted(0, answer), Source::Ordinary { repeated })
    }
}

/// An ordinary id's first cancel, remembered under both its ids.
#[derive(Debug)]
struct Cancelled {
    payment_id: String,
    payment_request_id: String,
    cancel_time: String,
}

impl Cancelled {
    /// The first cancel: the ids sent, a stable made-up id for the one not sent, and
    /// `cancelTime` now, in Beijing time with milliseconds.
    fn first(ids: &BodyIds) -> Cancelled {
        let payment_id = ids.payment_id.clone().unwrap_or_else(|| {
            made_up(
                "kit-pid-",
                ids.payment_request_id.as_deref().unwrap_or_default(),
            )
        });
        let payment_request_id = ids
            .payment_request_id
            .clone()
            .unwrap_or_else(|| made_up("kit-prid-", ids.payment_id.as_deref().unwrap_or_default()));
        let beijing = chrono::FixedOffset::east_opt(8 * 3600).expect("a valid offset");
        let cancel_time = chrono::Utc::now()
            .with_timezone(&beijing)
            .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
            .to_string();
        Cancelled {
            payment_id,
            payment_request_id,
            cancel_time,
        }
    }

    /// The signed `S` it answers, every time.
    fn body(&self) -> Value {
        json!({
            "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
            "paymentRequestId": self.payment_request_id,
            "paymentId": self.payment_id,
            "cancelTime": self.cancel_time,
        })
    }
}

fn memory_key(kind: &str, id: &str) -> String {
    format!("{kind}\u{0}{id}")
}

/// Inserts into a bounded map, forgetting the oldest key when full.
fn remember<V>(
    map: &mut HashMap<String, V>,
    order: &mut VecDeque<String>,
    key: &str,
    value: V,
    bound: usize,
) {
    if map.insert(key.to_owned(), value).is_none() {
        order.push_back(key.to_owned());
        while order.len() > bound {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
    }
}

/// A stable id derived from the other one (FNV-1a, 64 bits): the same on every run.
fn made_up(prefix: &str, from: &str) -> String {
    let hash = from.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{prefix}{hash:016x}")
}

/// A scripted answer with its body's ids replaced by the ones the request sent, so a client
/// gets back the ids it asked about (the id it did not send keeps the script's value).
fn echo(mut answer: Answer, ids: &BodyIds) -> Answer {
    if let Some(Value::Object(body)) = answer.body.as_mut() {
        for (member, sent) in [
            (member::PAYMENT_ID, &ids.payment_id),
            (member::PAYMENT_REQUEST_ID, &ids.payment_request_id),
        ] {
            if let (Some(Value::String(served)), Some(sent)) = (body.get_mut(member), sent) {
                served.clone_from(sent);
            }
        }
    }
    answer
}

/// Why a magic id names no scenario, with the closest scenario ids (a typo is the usual
/// cause) and the groups that exist.
fn unknown_scenario(catalogue: &Catalogue, scenario_id: &str, magic: &str) -> String {
    let mut near: Vec<(usize, &str)> = catalogue
        .scenarios()
        .iter()
        .map(|s| (edit_distance(&s.id, scenario_id), s.id.as_str()))
        .filter(|(distance, id)| *distance <= id.chars().count().max(4) / 3)
        .collect();
    near.sort();
    let mut groups: Vec<&str> = Vec::new();
    for scenario in catalogue.scenarios() {
        let group = scenario.id.split('/').next().unwrap_or_default();
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    let hint = match near.first() {
        Some((_, id)) => format!("did you mean `{id}`? "),
        None => String::new(),
    };
    format!(
        "no scenario `{scenario_id}` (magic id `{magic}`); {hint}the groups are {}; `alipay-cancel-kit scenarios --magic` lists every id",
        groups.join(", ")
    )
}

/// Levenshtein distance over characters, for suggesting a scenario id.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// How the gateway decided one request: what it named, how it fared, what it got.
#[derive(Clone, Debug)]
pub struct Decision {
    /// The ids the body carries.
    pub ids: BodyIds,
    /// The request checks.
    pub checks: Vec<Check>,
    /// Why the answer was chosen.
    pub source: Source,
    /// The answer chosen.
    pub served: Served,
}

/// The journal entry of an exchange.
pub fn entry(
    seq: u64,
    request: &RecordedRequest,
    decision: Decision,
    http: &crate::gateway::HttpAnswer,
    bounds: &Bounds,
) -> JournalEntry {
    let answer = &decision.served.answer;
    let (checks, passed) = split(decision.checks.into_iter().map(kept_check).collect());
    JournalEntry {
        request: JournalRequest::of(seq, request, bounds.journal_body_bytes, decision.ids),
        answer: JournalAnswer {
            status: http.status,
            headers: kept_headers(&http.headers),
            body: journal_text(&http.body, bounds.journal_body_bytes),
            signing: answer.signing,
            delay_ms: answer.delay_ms,
            fault: answer.fault,
            accept: answer.accept.clone(),
        },
        checks,
        passed,
        source: decision.source,
    }
}
