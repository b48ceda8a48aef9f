//! The conformance catalogue: scenarios as data under `conformance/scenarios/`.
//!
//! Each group file holds scenarios written out in full, except `result.json`, which is a
//! template instantiated once per row of the result-code table (`schema/result-codes.json`),
//! so the 17 `result/` scenarios can never drift from the table.
//!
//! A scenario is the instruction to hand the client, the gateway's scripted answers in order
//! (the last one repeats for any further request), and for every answer the outcomes a client
//! may surface when that answer is the last it received. A scenario whose subject is not the
//! kind of id also lists other forms of its request (`requestAlternatives`), so that a client
//! that cancels by one kind of id is instructed with one it can send ([`Scenario::request_for`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::capability::{IdKind, Ids};
use crate::protocol::OutcomeKind;
use crate::spec::{result_code_table, ResultStatus};

mod rules;

use rules::check_scenario;
pub use rules::ScenarioError;

/// The client id instructions carry unless a scenario says otherwise. Test-only.
pub const DEFAULT_CLIENT_ID: &str = "TEST_5YBZ1";

/// The default time a client should allow one exchange, in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u64 = 1500;

/// One scenario of the catalogue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    /// Stable id, `group/name`.
    pub id: String,
    /// One line saying what is being checked.
    pub title: String,
    /// The rule the scenario enforces: a reference into the contract or the API spec.
    pub rule: String,
    /// Adapter capabilities the scenario needs (e.g. `tls`); without them it is `SKIPPED`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<String>,
    /// The client id of the instruction; defaults to [`DEFAULT_CLIENT_ID`].
    #[serde(default = "default_client_id")]
    pub client_id: String,
    /// The body fields the client is told to send, exactly (they may break the rules on purpose).
    pub request: Map<String, Value>,
    /// Other forms of `request`, in order of preference, for a client that cannot send an id
    /// `request` names: the same payment named by other ids (see [`Scenario::request_for`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_alternatives: Vec<Map<String, Value>>,
    /// The instruction's `timeoutMs`.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// How the gateway is reached (plain HTTP unless a TLS mode is named).
    #[serde(default, skip_serializing_if = "Transport::is_plain")]
    pub transport: Transport,
    /// The instruction breaks the request rules: the client SHOULD refuse it locally.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub local_validation: bool,
    /// What a client may conclude when no request reaches the gateway (empty: it must send one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept_without_request: Vec<OutcomeKind>,
    /// The gateway's scripted answers, in order; the last repeats.
    pub answers: Vec<Answer>,
}

impl Scenario {
    /// The request to instruct a client that can send `ids`: `request` when the client can
    /// send every id it names, else the first of `requestAlternatives` it can.
    ///
    /// # Errors
    /// When the client can send none of the forms, the id it lacks for the `SKIPPED` reason:
    /// of the ids it cannot send, the one the most forms need (the scenario's subject).
    ///
    /// # Example
    /// ```
    /// use alipay_cancel_kit::capability::{IdKind, Ids};
    /// use alipay_cancel_kit::scenario::Catalogue;
    /// let catalogue = Catalogue::embedded().unwrap();
    /// let by_request_id = Ids::only([IdKind::PaymentRequestId]);
    /// let s = catalogue.get("result/ORDER_NOT_EXIST").unwrap();
    /// assert!(s.request_for(by_request_id).unwrap().contains_key("paymentRequestId"));
    /// let s = catalogue.get("request/payment-id-only").unwrap();
    /// assert_eq!(s.request_for(by_request_id), Err(IdKind::PaymentId));
    /// ```
    pub fn request_for(&self, ids: Ids) -> Result<&Map<String, Value>, IdKind> {
        let forms = || std::iter::once(&self.request).chain(&self.request_alternatives);
        if let Some(form) = forms().find(|f| ids.missing(f).is_empty()) {
            return Ok(form);
        }
        let mut lacking: Vec<(usize, IdKind)> = Vec::new();
        for kind in forms().flat_map(|f| ids.missing(f)) {
            match lacking.iter_mut().find(|(_, k)| *k == kind) {
                Some((n, _)) => *n += 1,
                None => lacking.push((1, kind)),
            }
        }
        // Most forms first; among equals, IdKind::ALL order (`missing` yields it).
        lacking.sort_by_key(|(n, k)| (std::cmp::Reverse(*n), *k));
        Err(lacking.first().map_or(IdKind::PaymentId, |(_, k)| *k))
    }
}

fn default_client_id() -> String {
    DEFAULT_CLIENT_ID.to_owned()
}

fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}

/// How the client reaches the gateway.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    /// Plain HTTP on loopback.
    #[default]
    Plain,
    /// HTTPS with a certificate from the CA the instruction carries.
    TlsTrusted,
    /// HTTPS with a certificate from a CA the instruction does not carry.
    TlsUntrusted,
    /// HTTPS with a trusted certificate for another host name.
    TlsWrongHostname,
}

impl Transport {
    fn is_plain(&self) -> bool {
        *self == Transport::Plain
    }
}

/// How the gateway signs (or fails to sign) an answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Signing {
    /// Signed with the vendor key over the request path, the request's client id, `response-time` and the body.
    #[default]
    Signed,
    /// No `signature` and no `response-time` header.
    Unsigned,
    /// `signature` present with an empty value.
    EmptySignature,
    /// A valid signature of a different body.
    Tampered,
    /// Signed with a key that is not the vendor's.
    OtherKey,
    /// Signed, but the `response-time` header left out.
    NoResponseTime,
    /// `response-time` sent empty, with a signature of another body: only a client that skips
    /// verification when the time is empty believes it.
    EmptyResponseTime,
    /// An invalid signature sent as raw base64 (with `+` and `=`), not URL-encoded.
    RawBase64Tampered,
    /// Signed for, and echoing, another merchant's client id.
    ForeignClientId,
    /// Correctly signed, with lower-case percent escapes (`%2b`), as .NET emits them.
    SignedLowercaseEscapes,
    /// Correctly signed, with a space after each comma of the header, as in the docs' example.
    SignedSpaced,
}

/// A fault below HTTP that the raw responder produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// Read the request, then close the connection without a byte of response.
    CloseBeforeResponse,
    /// Announce the full `Content-Length`, send half the body, close.
    TruncateBody,
}

/// One scripted answer of the gateway.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Answer {
    /// HTTP status.
    #[serde(default = "default_status")]
    pub status: u16,
    /// A JSON body, served compact with its members in the order written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// A body served byte for byte (for bodies that are not JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_body: Option<String>,
    /// The header policy.
    #[serde(default)]
    pub signing: Signing,
    /// Wait this long before answering.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_ms: u64,
    /// A transport fault instead of (part of) the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// Outcomes a client MUST choose among when this is the last answer it got.
    pub accept: Vec<OutcomeKind>,
    /// Outcomes a client SHOULD choose among (a subset of `accept`); empty means any of `accept`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefer: Vec<OutcomeKind>,
}

fn default_status() -> u16 {
    200
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Answer {
    /// An answer after which the client must not call again: only `SUCCESS` or `FAILED` accepted.
    pub fn is_final(&self) -> bool {
        !self.accept.contains(&OutcomeKind::Unknown)
    }

    /// The body bytes as served.
    pub fn body_bytes(&self) -> Vec<u8> {
        match (&self.raw_body, &self.body) {
            (Some(raw), _) => raw.as_bytes().to_vec(),
            (None, Some(json)) => serde_json::to_vec(json).unwrap_or_default(),
            (None, None) => Vec::new(),
        }
    }
}

/// An error in the catalogue's data: names the file, the scenario and the rule broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueError {
    /// The file the data came from.
    pub file: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CatalogueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

impl std::error::Error for CatalogueError {}

/// The catalogue files shipped in the binary, in catalogue order.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "conformance/scenarios/result.json",
        include_str!("../../conformance/scenarios/result.json"),
    ),
    (
        "conformance/scenarios/request.json",
        include_str!("../../conformance/scenarios/request.json"),
    ),
    (
        "conformance/scenarios/response.json",
        include_str!("../../conformance/scenarios/response.json"),
    ),
    (
        "conformance/scenarios/retry.json",
        include_str!("../../conformance/scenarios/retry.json"),
    ),
    (
        "conformance/scenarios/fault.json",
        include_str!("../../conformance/scenarios/fault.json"),
    ),
    (
        "conformance/scenarios/signature.json",
        include_str!("../../conformance/scenarios/signature.json"),
    ),
    (
        "conformance/scenarios/tls.json",
        include_str!("../../conformance/scenarios/tls.json"),
    ),
];

/// A group file: either scenarios written out, or a template over the result-code table.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GroupFile {
    #[serde(rename = "$comment", default)]
    _comment: Option<String>,
    group: String,
    #[serde(default)]
    scenarios: Vec<Scenario>,
    /// Per result status (`S`, `F`, `U`), a scenario with `${resultCode}`, `${resultStatus}`
    /// and `${resultMessage}` placeholders, instantiated for every row of the table.
    #[serde(default)]
    per_result_status: Option<Map<String, Value>>,
}

/// The whole catalogue, in order.
#[derive(Clone, Debug)]
pub struct Catalogue {
    scenarios: Vec<Scenario>,
    /// The file each scenario came from, index for index.
    files: Vec<String>,
}

impl Catalogue {
    /// The catalogue shipped with the kit.
    ///
    /// # Errors
    /// Only if the shipped data is broken, which the test suite rules out.
    ///
    /// # Example
    /// ```
    /// let catalogue = alipay_cancel_kit::scenario::Catalogue::embedded().unwrap();
    /// assert!(catalogue.get("result/ORDER_NOT_EXIST").is_some());
    /// ```
    pub fn embedded() -> Result<Catalogue, CatalogueError> {
        Catalogue::from_sources(EMBEDDED.iter().map(|(f, t)| (f.to_string(), t.to_string())))
    }

    /// Loads a catalogue from `(file name, text)` pairs.
    ///
    /// # Errors
    /// Malformed JSON, a scenario that breaks a catalogue rule, or a duplicate id, each naming the file.
    pub fn from_sources(
        sources: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Catalogue, CatalogueError> {
        let mut scenarios = Vec::new();
        let mut files = Vec::new();
        for (file, text) in sources {
            let err = |message: String| CatalogueError {
                file: file.clone(),
                message,
            };
            let group: GroupFile = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
            let mut found = group.scenarios;
            if let Some(templates) = &group.per_result_status {
                found.extend(instantiate_result_rows(templates).map_err(|e| err(e.to_string()))?);
            }
            for s in &found {
                check_scenario(s, &group.group).map_err(|e| err(e.to_string()))?;
            }
            files.extend(std::iter::repeat_n(file.clone(), found.len()));
            scenarios.extend(found);
        }
        // Ids are what baselines and dashboards name, so a clash is an error, naming both files.
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for (s, file) in scenarios.iter().zip(&files) {
            if let Some(first) = seen.insert(&s.id, file) {
                return Err(CatalogueError {
                    file: file.clone(),
                    message: format!(
                        "scenario id `{}` appears twice: already defined in {first}",
                        s.id
                    ),
                });
            }
        }
        Ok(Catalogue { scenarios, files })
    }

    /// The embedded catalogue extended with the group files at `paths` (each a file, or a
    /// directory whose `*.json` files are read in name order), with the same load-time checks.
    ///
    /// # Errors
    /// A path that cannot be read, a directory without `*.json` files, a file that breaks a
    /// catalogue rule, or an id already defined (by the kit or another file), naming the files.
    pub fn with_files(paths: &[PathBuf]) -> Result<Catalogue, CatalogueError> {
        let mut sources: Vec<(String, String)> = EMBEDDED
            .iter()
            .map(|(f, t)| (f.to_string(), t.to_string()))
            .collect();
        for path in paths {
            for file in group_files(path)? {
                let text = std::fs::read_to_string(&file).map_err(|e| CatalogueError {
                    file: file.display().to_string(),
                    message: format!("cannot read the scenario file: {e}"),
                })?;
                sources.push((file.display().to_string(), text));
            }
        }
        Catalogue::from_sources(sources)
    }

    /// Whether the scenario `id` is one of the kit's own (embedded), not from a `--catalogue` file.
    pub fn is_builtin(&self, id: &str) -> bool {
        self.file_of(id)
            .is_some_and(|f| EMBEDDED.iter().any(|(name, _)| *name == f))
    }

    /// The file the scenario `id` was loaded from.
    pub fn file_of(&self, id: &str) -> Option<&str> {
        let index = self.scenarios.iter().position(|s| s.id == id)?;
        Some(&self.files[index])
    }

    /// Every scenario, in catalogue order.
    pub fn scenarios(&self) -> &[Scenario] {
        &self.scenarios
    }

    /// The scenario with this id.
    pub fn get(&self, id: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.id == id)
    }

    /// The scenarios selected by the patterns (see [`matches()`]); all when `patterns` is empty.
    pub fn select(&self, include: &[String], exclude: &[String]) -> Vec<&Scenario> {
        self.scenarios
            .iter()
            .filter(|s| include.is_empty() || include.iter().any(|p| matches(p, &s.id)))
            .filter(|s| !exclude.iter().any(|p| matches(p, &s.id)))
            .collect()
    }
}

/// The group files a `--catalogue` path names: the file itself, or a directory's `*.json`
/// files in name order (not recursing, so a directory of fixtures beside them stays out).
fn group_files(path: &Path) -> Result<Vec<PathBuf>, CatalogueError> {
    let err = |message: String| CatalogueError {
        file: path.display().to_string(),
        message,
    };
    let meta =
        std::fs::metadata(path).map_err(|e| err(format!("cannot read the scenario file: {e}")))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| err(format!("cannot read the directory: {e}")))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(err("the directory holds no `*.json` scenario file".into()));
    }
    Ok(files)
}

/// Whether a scenario id matches a pattern: `*` matches any run of characters, and a pattern
/// without `*` matches the id itself or, as a prefix, a whole group (`fault` or `fault/`).
///
/// # Example
/// ```
/// use alipay_cancel_kit::scenario::matches;
/// assert!(matches("fault", "fault/http-500"));
/// assert!(matches("result/*_NOT_*", "result/ORDER_NOT_EXIST"));
/// assert!(!matches("fault/http", "fault/http-500"));
/// ```
pub fn matches(pattern: &str, id: &str) -> bool {
    if !pattern.contains('*') {
        let group = pattern.trim_end_matches('/');
        return id == pattern || id.strip_prefix(group).is_some_and(|r| r.starts_with('/'));
    }
    glob(pattern.as_bytes(), id.as_bytes())
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| glob(rest, &s[i..])),
        Some((c, rest)) => s.first() == Some(c) && glob(rest, &s[1..]),
    }
}

fn instantiate_result_rows(templates: &Map<String, Value>) -> Result<Vec<Scenario>, ScenarioError> {
    let mut out = Vec::new();
    for row in result_code_table() {
        let status = row.result_status.as_str();
        let template = templates.get(status).ok_or(ScenarioError::NoTemplate {
            status: row.result_status,
        })?;
        let filled = substitute(
            template,
            &[
                ("${resultCode}", row.result_code.as_str()),
                ("${resultStatus}", status),
                ("${resultMessage}", row.message.as_str()),
            ],
        );
        let scenario: Scenario =
            serde_json::from_value(filled).map_err(|source| ScenarioError::Template {
                status: row.result_status,
                source,
            })?;
        out.push(scenario);
    }
    Ok(out)
}

fn substitute(value: &Value, pairs: &[(&str, &str)]) -> Value {
    match value {
        Value::String(s) => {
            let mut s = s.clone();
            for (from, to) in pairs {
                s = s.replace(from, to);
            }
            Value::String(s)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, pairs)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute(v, pairs)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The `resultStatus` a served body carries, if it has one.
pub fn served_status(body: &Value) -> Option<ResultStatus> {
    body.pointer("/result/resultStatus")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
}
