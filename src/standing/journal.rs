//! The journal of a standing session: what `serve` and `proxy` keep of every exchange, in
//! memory (`GET /__kit/requests`), in the `--journal` file (a [`TrafficLine`] per exchange,
//! which `validate` reads), and in the reports.
//!
//! Both keep the request the same way ([`JournalRequest`], flattened into their entries) and
//! cut what they keep alike, so a flood of large requests cannot make either grow without
//! limit: bodies to a bound, each header value, id and check field to [`FIELD_BYTES`].

use std::collections::VecDeque;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::contract::{Check, Level, RecordedRequest};
use crate::spec::endpoint::member;

/// The request half of a journal entry, kept alike by `serve` and `proxy`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalRequest {
    /// 1 for the first request since the start (or the last clear).
    pub seq: u64,
    /// When the request arrived, RFC 3339.
    pub received_at: String,
    /// The method.
    pub method: String,
    /// The path, from the request target.
    pub path: String,
    /// The headers as received, names in lower case, cut as [`kept_headers`] says.
    pub headers: Vec<(String, String)>,
    /// The body as text (lossy UTF-8), cut at the session's body bound.
    pub body: String,
    /// The ids the body carries, each cut at [`FIELD_BYTES`]: what `?id=` filters by.
    pub ids: BodyIds,
}

impl JournalRequest {
    /// `request`, the `seq`-th, as a journal keeps it: its body cut at `body_bytes`, and `ids`
    /// read from the body by the caller (`serve` has read them to choose its answer, and its
    /// body is not parsed twice for them).
    pub fn of(
        seq: u64,
        request: &RecordedRequest,
        body_bytes: usize,
        ids: BodyIds,
    ) -> JournalRequest {
        JournalRequest {
            seq,
            received_at: request
                .received_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            method: request.method.clone(),
            path: cut(&request.path, FIELD_BYTES),
            headers: kept_headers(&request.headers),
            body: journal_text(&request.body, body_bytes),
            ids: ids.kept(),
        }
    }
}

/// The ids a request body carries (strings only; anything else counts as absent): what a
/// test finds its own exchanges by in a journal many share (`GET /__kit/requests?id=ID`).
/// `merchantAccountId` is not one: many requests share it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BodyIds {
    /// `paymentId`, when a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    /// `paymentRequestId`, when a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_request_id: Option<String>,
}

impl BodyIds {
    /// The ids of a raw request body; none when it is not a JSON object.
    ///
    /// ```
    /// use alipay_cancel_kit::standing::journal::BodyIds;
    /// let ids = BodyIds::of_body(br#"{"paymentId": "p-1", "paymentRequestId": 7}"#);
    /// assert!(ids.contains("p-1"));
    /// assert_eq!(ids.payment_request_id, None, "a number is not an id");
    /// ```
    pub fn of_body(body: &[u8]) -> BodyIds {
        let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let get = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
        BodyIds {
            payment_id: get(member::PAYMENT_ID),
            payment_request_id: get(member::PAYMENT_REQUEST_ID),
        }
    }

    /// Whether either id equals `id`.
    pub fn contains(&self, id: &str) -> bool {
        self.payment_id.as_deref() == Some(id) || self.payment_request_id.as_deref() == Some(id)
    }

    /// The ids as a journal keeps them: cut to [`FIELD_BYTES`] (a valid id is 64 characters).
    pub fn kept(self) -> BodyIds {
        let keep = |id: Option<String>| id.map(|id| cut(&id, FIELD_BYTES));
        BodyIds {
            payment_id: keep(self.payment_id),
            payment_request_id: keep(self.payment_request_id),
        }
    }
}

/// The exchanges a session keeps in memory for `GET /__kit/requests` and its reports, oldest
/// first, the oldest forgotten past either bound. Each is kept as its JSON text (one
/// allocation instead of dozens, so 10,000 exchanges cost a few megabytes) beside the ids the
/// journal is filtered by.
#[derive(Debug, Default)]
pub struct Kept {
    entries: VecDeque<(BodyIds, Box<str>)>,
    bytes: usize,
}

/// One entry made ready to keep: serialised outside the session's lock.
#[derive(Debug)]
pub struct Entry {
    ids: BodyIds,
    json: Box<str>,
}

impl Entry {
    /// `entry`, whose request half is `request`.
    pub fn of<T: Serialize>(request: &JournalRequest, entry: &T) -> Entry {
        Entry {
            ids: request.ids.clone(),
            json: serde_json::to_string(entry)
                .expect("a journal entry always serialises")
                .into_boxed_str(),
        }
    }
}

impl Kept {
    /// Keeps `entry`, forgetting the oldest while more than `most` entries or (of two or more)
    /// `most_bytes` of text are kept.
    pub fn keep(&mut self, entry: Entry, most: usize, most_bytes: usize) {
        self.bytes += entry.json.len();
        self.entries.push_back((entry.ids, entry.json));
        while self.entries.len() > most || (self.bytes > most_bytes && self.entries.len() > 1) {
            if let Some((_, old)) = self.entries.pop_front() {
                self.bytes -= old.len();
            }
        }
    }

    /// How many entries are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries' JSON texts, oldest first; with `id`, only those whose ids name it exactly.
    pub fn naming<'a>(&'a self, id: Option<&'a str>) -> impl Iterator<Item = &'a str> {
        self.entries
            .iter()
            .filter(move |(ids, _)| id.is_none_or(|id| ids.contains(id)))
            .map(|(_, json)| &**json)
    }

    /// Every entry read back, oldest first.
    pub fn read<T: DeserializeOwned>(&self) -> Vec<T> {
        self.naming(None)
            .map(|json| serde_json::from_str(json).expect("a kept journal entry reads back"))
            .collect()
    }
}

/// One line of the `--journal` file: the raw bodies as strings (exactly as sent), which
/// `validate` checks, with the exchange's facts beside them: `F`, what the session adds
/// (`serve`: the answer's signing policy and why it was chosen; `proxy`: the answer's class
/// and what a client may conclude from it), flattened between the path and the checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficLine<F> {
    /// The request body.
    pub request: String,
    /// The answer body.
    pub response: String,
    /// The exchange's `seq`.
    pub seq: u64,
    /// `serve`: when the request arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<String>,
    /// The request's path.
    pub path: String,
    /// The answer's HTTP status (`proxy`: 0 when none came).
    pub status: u16,
    /// What the session adds.
    #[serde(flatten)]
    pub facts: F,
    /// The checks that failed, in full.
    pub checks: Vec<Check>,
    /// The checks that held, by id and level.
    pub passed: Vec<(String, Level)>,
}

impl<F: Serialize> TrafficLine<F> {
    /// The line as written: compact JSON.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("a traffic line always serialises")
    }
}

/// Counts over every request since the start, journal bounds notwithstanding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    /// Requests answered (the admin endpoints not counted).
    pub requests: u64,
    /// Requests that broke a MUST check.
    pub must_failed: u64,
    /// Requests that broke only SHOULD checks.
    pub should_failed: u64,
}

impl Totals {
    /// Counts one request by its failed checks.
    pub fn count(&mut self, failed: &[Check]) {
        self.requests += 1;
        match crate::verdict::grade(failed) {
            crate::verdict::Verdict::Fail => self.must_failed += 1,
            crate::verdict::Verdict::NonStrict => self.should_failed += 1,
            _ => {}
        }
    }
}

/// Checks as a journal keeps them: the failed ones in full, the held ones by id and level.
pub fn split(checks: Vec<Check>) -> (Vec<Check>, Vec<(String, Level)>) {
    let (held, failed): (Vec<Check>, Vec<Check>) = checks.into_iter().partition(|c| c.held);
    (failed, held.into_iter().map(|c| (c.id, c.level)).collect())
}

/// The checks of a journal entry for a report: the held ones (as `held`, by id and level,
/// citing `rule`) first, then the failed ones in full.
pub fn rejoin(failed: &[Check], passed: &[(String, Level)], rule: &str) -> Vec<Check> {
    passed
        .iter()
        .map(|(id, level)| Check::pass(id, *level, rule, "held"))
        .chain(failed.iter().cloned())
        .collect()
}

/// Cuts a body for the journal.
pub fn journal_text(bytes: &[u8], bound: usize) -> String {
    if bytes.len() <= bound {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    format!(
        "{}... ({} bytes in all)",
        String::from_utf8_lossy(&bytes[..bound]),
        bytes.len()
    )
}

/// The most bytes of one header value, id, or check message, `expected` or `seen` a journal
/// entry keeps (a signature header is about 400): longer ones are cut, saying so.
pub const FIELD_BYTES: usize = 512;

/// The most bytes of header lines one journal entry keeps; the rest are left out, saying so.
pub const HEADER_BYTES: usize = 4 * 1024;

/// `text` cut to about `bound` bytes (on a character boundary), saying how long it was.
pub fn cut(text: &str, bound: usize) -> String {
    if text.len() <= bound {
        return text.to_owned();
    }
    let mut end = bound;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes in all)", &text[..end], text.len())
}

/// Header lines as a journal keeps them: each value cut to [`FIELD_BYTES`], and the lines
/// past [`HEADER_BYTES`] left out, a last line saying how many.
pub fn kept_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    let mut kept = Vec::new();
    let mut bytes = 0;
    for (i, (name, value)) in headers.iter().enumerate() {
        let line = (cut(name, FIELD_BYTES), cut(value, FIELD_BYTES));
        bytes += line.0.len() + line.1.len();
        if bytes > HEADER_BYTES {
            kept.push((
                "(cut)".to_owned(),
                format!("{} more header lines left out", headers.len() - i),
            ));
            break;
        }
        kept.push(line);
    }
    kept
}

/// The bytes a journal keeps of each structured value of a check (`values.stringToSign`):
/// an ordinary request's whole string to sign fits, a megabyte body's does not.
pub const VALUE_BYTES: usize = 2048;

/// A check as a journal keeps it: message, `expected` and `seen` cut to [`FIELD_BYTES`], each
/// of its `values` to [`VALUE_BYTES`] (a signature check quotes the whole string to sign,
/// body and all).
pub fn kept_check(mut check: Check) -> Check {
    check.message = cut(&check.message, FIELD_BYTES);
    for text in [&mut check.expected, &mut check.seen].into_iter().flatten() {
        *text = cut(text, FIELD_BYTES);
    }
    for value in check.values.values_mut() {
        *value = cut(value, VALUE_BYTES);
    }
    check
}
