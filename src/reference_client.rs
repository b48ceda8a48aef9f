//! The built-in reference client: a cancel client that is correct by the contract.
//!
//! `run` uses it when no `--client` is given, in process; `alipay-cancel-kit
//! reference-adapter` exposes the same client through the adapter protocol, so the exec and
//! persistent paths are exercised end to end. Each [`Defect`] switches on one deliberate bug,
//! for the kit's own sensitivity test: a conformance kit is only as good as the bugs it catches.
//! Each [`Style`] switches on a way real, correct clients differ (absent members written as
//! `null`, a time type that holds only milliseconds or microseconds), for the other half of that
//! test: a kit is trusted only while a correct client never fails.

use std::collections::BTreeSet;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value};

use crate::capability::Ids;
use crate::protocol::{Instruction, Outcome, OutcomeKind};
use crate::signature::{self, SignatureHeader, SigningKey, VerifyingKey};
use crate::spec::endpoint::{self, header};
use crate::spec::{CancelRequest, CancelResponse, ResultStatus};

/// The adapter capabilities the reference client declares: it speaks HTTPS, trusting exactly
/// the instruction's `caCertificatePem` and checking the host name.
pub const CAPABILITIES: &[&str] = &["tls"];

/// The capabilities the reference client declares when it can send only `ids`: [`CAPABILITIES`]
/// and, unless it sends all three undeclared, the id capabilities.
pub fn capabilities(ids: Ids) -> Vec<String> {
    let mut list: Vec<String> = CAPABILITIES.iter().map(|c| c.to_string()).collect();
    if ids.declared() {
        list.extend(ids.kinds().map(|k| k.capability().to_owned()));
    }
    list
}

/// The instruction as a client that can send only `ids` sees it: the id members it has no
/// way to express are left out, as a client built on such an SDK leaves them out (so a kit
/// that instructed an undeclared id would see the request lack it, and fail the scenario).
pub fn narrowed(instruction: &Instruction, ids: Ids) -> std::borrow::Cow<'_, Instruction> {
    let missing = ids.missing(&instruction.request);
    if missing.is_empty() {
        return std::borrow::Cow::Borrowed(instruction);
    }
    let mut narrow = instruction.clone();
    for kind in missing {
        narrow.request.remove(kind.member());
    }
    std::borrow::Cow::Owned(narrow)
}

/// How many times the reference client calls in all when the answer leaves the result open
/// (`U`, or no usable answer). The contract allows up to 5.
pub const MAX_ATTEMPTS: usize = 3;

/// One deliberate bug of the reference client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Defect {
    /// Sends an all-digit `paymentId` as a JSON number.
    NumberForString,
    /// Leaves the `/ams` prefix out of the path it signs.
    WrongStringToSign,
    /// Sends no `Signature` header.
    NoRequestSignature,
    /// Believes every response without verifying its signature.
    NoResponseVerification,
    /// Treats an empty response signature as a valid one.
    AcceptEmptySignature,
    /// Surfaces `U` as `FAILED`.
    UnknownAsFailure,
    /// Surfaces a timeout or an HTTP error status as `FAILED`.
    TransportErrorAsFailure,
    /// Calls again after an `F`.
    RetryFailure,
    /// Calls again after a `U` with only the first id of the instruction.
    RetryWithOtherIds,
    /// Reports `cancelTime`'s wall-clock digits as UTC, dropping the offset.
    IgnoreCancelTimeOffset,
    /// Crashes on a response member it does not know.
    CrashOnUnknownField,
    /// Crashes on a result code missing from the table.
    CrashOnUnknownCode,
    /// Sends ids longer than 64 characters without complaint.
    NoLocalValidation,
    /// Speaks HTTPS without checking the certificate or the host name (trusts all).
    NoCertificateCheck,
    /// Signs the compact body, then sends it re-serialised (a space after each `:` and `,`),
    /// as a client that signs one serialisation and lets its HTTP library write another: every
    /// request's signature fails.
    ReserializeAfterSigning,
    /// Sends the request's `signature` value as raw base64 (a bare `+`, `/`, `=`), not
    /// URL-encoded.
    RawBase64Signature,
    /// Counts id lengths in bytes, not characters, when it validates locally: refuses a
    /// 64-character id of multi-byte characters.
    CountIdBytes,
    /// Drops the minutes of a `cancelTime` offset when they are 45 (`+05:45` read as
    /// `+05:00`): broken on one rare input only, which the fuzzer must find and shrink to.
    MisreadOddOffset,
}

impl Defect {
    /// Every defect, in declaration order.
    pub fn all() -> Vec<Defect> {
        use clap::ValueEnum;
        Defect::value_variants().to_vec()
    }

    /// The defect's command-line name, e.g. `retry-failure`.
    pub fn name(self) -> String {
        use clap::ValueEnum;
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}

/// A set of defects; empty for the correct client.
pub type Defects = BTreeSet<Defect>;

/// One way a correct client may write its outcome, as real clients differ: not a defect (with
/// any styles the client still passes every scenario: no `FAIL`, no `ERROR`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Style {
    /// Writes every outcome member it has no value for as `null`, as Jackson's default, .NET's
    /// and Go's serializers do (a served `"resultMessage": null` passes through as `null`).
    Nulls,
    /// Keeps `cancelTime` to the millisecond, truncating, and writes it in UTC with three
    /// digits, as JavaScript's `Date` does (`new Date(text).toISOString()`).
    Millis,
    /// Keeps `cancelTime` to the microsecond, truncating, and writes it in the served offset
    /// (`+00:00` for `Z`) with six digits when there is a fraction, as Python's `datetime` does
    /// (`datetime.fromisoformat(text).isoformat()`).
    Micros,
}

impl Style {
    /// Every style, in declaration order.
    pub fn all() -> Vec<Style> {
        use clap::ValueEnum;
        Style::value_variants().to_vec()
    }

    /// The style's command-line name, e.g. `millis`.
    pub fn name(self) -> String {
        use clap::ValueEnum;
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }

    /// How many fraction digits of `cancelTime` a client of this style keeps, if it drops some.
    pub fn fraction_digits(self) -> Option<usize> {
        match self {
            Style::Nulls => None,
            Style::Millis => Some(3),
            Style::Micros => Some(6),
        }
    }
}

/// A set of styles; empty for the plain client (absent members left out, every digit kept).
/// With both `millis` and `micros`, the coarser wins: milliseconds.
pub type Styles = BTreeSet<Style>;

/// How the built-in client behaves: the deliberate defects switched on (none for the correct
/// client) and the styles it writes its outcome in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Behaviour {
    /// The deliberate bugs.
    pub defects: Defects,
    /// The ways of writing an outcome, all correct.
    pub styles: Styles,
}

impl Behaviour {
    /// The correct client writing in these styles.
    pub fn styled(styles: impl IntoIterator<Item = Style>) -> Behaviour {
        Behaviour {
            defects: Defects::new(),
            styles: styles.into_iter().collect(),
        }
    }

    /// Whether this defect is switched on.
    pub fn has(&self, defect: Defect) -> bool {
        self.defects.contains(&defect)
    }
}

impl From<Defects> for Behaviour {
    fn from(defects: Defects) -> Behaviour {
        Behaviour {
            defects,
            styles: Styles::new(),
        }
    }
}

impl FromIterator<Defect> for Behaviour {
    fn from_iter<I: IntoIterator<Item = Defect>>(defects: I) -> Behaviour {
        Behaviour::from(defects.into_iter().collect::<Defects>())
    }
}

/// The client crashed (a defect that models a crash); the adapter protocol sees no outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash(pub String);

/// Why the built-in client cannot set up TLS for an `https://` gateway; the outcome is
/// `UNKNOWN` with this text as its `error`.
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsSetupError {
    /// rustls offers none of its safe protocol versions with this provider.
    Protocols(rustls::Error),
    /// The instruction has no `caCertificatePem`: nothing to trust.
    NoCa,
    /// `caCertificatePem` is not PEM.
    CaPem(rustls::pki_types::pem::Error),
    /// A certificate of `caCertificatePem` cannot be trusted as a root.
    CaCertificate(rustls::Error),
}

impl std::fmt::Display for TlsSetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsSetupError::Protocols(e) => write!(f, "TLS: {e}"),
            TlsSetupError::NoCa => {
                f.write_str("an https:// gateway without `caCertificatePem`: nothing to trust")
            }
            TlsSetupError::CaPem(e) => write!(f, "caCertificatePem: {e}"),
            TlsSetupError::CaCertificate(e) => write!(f, "caCertificatePem: {e}"),
        }
    }
}

impl std::error::Error for TlsSetupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TlsSetupError::Protocols(e) | TlsSetupError::CaCertificate(e) => Some(e),
            TlsSetupError::CaPem(e) => Some(e),
            TlsSetupError::NoCa => None,
        }
    }
}

/// Why an HTTP exchange brought no whole answer; the outcome is `UNKNOWN` (or, with the
/// [`Defect::TransportErrorAsFailure`] defect, `FAILED`) with this text as its `error`.
#[derive(Debug)]
#[non_exhaustive]
pub enum TransportError {
    /// The gateway URL is neither `http://` nor `https://` (with TLS set up).
    UnsupportedUrl(String),
    /// The TCP connection failed.
    Connect {
        /// `host:port`.
        authority: String,
        /// Why.
        source: std::io::Error,
    },
    /// The host is not a valid TLS server name.
    HostName {
        /// The host.
        host: String,
        /// Why.
        source: rustls::pki_types::InvalidDnsNameError,
    },
    /// The TLS handshake failed (a refused certificate ends here).
    Handshake {
        /// `host:port`.
        authority: String,
        /// Why.
        source: std::io::Error,
    },
    /// The request cannot be built.
    Request(hyper::http::Error),
    /// The HTTP/1.1 handshake failed.
    HttpHandshake(hyper::Error),
    /// The request was sent, no response came.
    NoResponse(hyper::Error),
    /// The body was cut short.
    Body(hyper::Error),
    /// No whole answer within the instruction's timeout.
    Timeout(Duration),
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::UnsupportedUrl(base) => write!(
                f,
                "unsupported gateway URL `{base}` (expected http://host:port or https://host:port)"
            ),
            TransportError::Connect { authority, source } => {
                write!(f, "connect to {authority}: {source}")
            }
            TransportError::HostName { host, source } => {
                write!(f, "TLS: host name `{host}`: {source}")
            }
            TransportError::Handshake { authority, source } => {
                write!(f, "TLS handshake with {authority}: {source}")
            }
            TransportError::Request(e) => write!(f, "building the request: {e}"),
            TransportError::HttpHandshake(e) => write!(f, "HTTP handshake: {e}"),
            TransportError::NoResponse(e) => write!(f, "no response: {e}"),
            TransportError::Body(e) => write!(f, "reading the body: {e}"),
            TransportError::Timeout(limit) => {
                write!(f, "no answer within {} ms", limit.as_millis())
            }
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TransportError::Connect { source, .. } | TransportError::Handshake { source, .. } => {
                Some(source)
            }
            TransportError::HostName { source, .. } => Some(source),
            TransportError::Request(e) => Some(e),
            TransportError::HttpHandshake(e)
            | TransportError::NoResponse(e)
            | TransportError::Body(e) => Some(e),
            TransportError::UnsupportedUrl(_) | TransportError::Timeout(_) => None,
        }
    }
}

/// Why `reference-adapter` stopped serving instructions.
#[derive(Debug)]
#[non_exhaustive]
pub enum AdapterError {
    /// Standard input or output failed.
    Io(std::io::Error),
    /// The client crashed on purpose (a crash defect): the adapter exits as a panicking Rust
    /// program does, without an outcome.
    Crash(Crash),
}

impl std::fmt::Display for AdapterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdapterError::Io(e) => e.fmt(f),
            AdapterError::Crash(Crash(why)) => {
                write!(f, "reference client crashed (deliberate defect): {why}")
            }
        }
    }
}

impl std::error::Error for AdapterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AdapterError::Io(e) => Some(e),
            AdapterError::Crash(_) => None,
        }
    }
}

impl From<std::io::Error> for AdapterError {
    fn from(e: std::io::Error) -> AdapterError {
        AdapterError::Io(e)
    }
}

/// What one HTTP exchange came to.
enum Exchange {
    /// A conclusion to surface at once.
    Final(Outcome),
    /// The result is still open: call again if attempts remain.
    Open(Outcome),
}

/// Cancels as instructed and returns the outcome to surface.
///
/// # Errors
/// Only a [`Crash`], when a crash defect is switched on and triggered.
pub async fn cancel(instruction: &Instruction, behaviour: &Behaviour) -> Result<Outcome, Crash> {
    let has = |d| behaviour.has(d);
    // Refuse locally what the gateway would refuse: no request is better than a doomed one.
    // Once the fields pass, they are sent as given.
    if let Err(e) =
        CancelRequest::from_slice(&serde_json::to_vec(&instruction.request).unwrap_or_default())
    {
        if !has(Defect::NoLocalValidation) {
            return Ok(Outcome::bare(
                OutcomeKind::InvalidRequest,
                format!("refused locally: {e}"),
            ));
        }
    }
    if has(Defect::CountIdBytes) {
        if let Some(why) = too_many_bytes(&instruction.request) {
            return Ok(Outcome::bare(OutcomeKind::InvalidRequest, why));
        }
    }
    let (merchant, vendor) = match load_keys(&instruction.gateway) {
        Ok(keys) => keys,
        Err(e) => {
            return Ok(Outcome::bare(
                OutcomeKind::Unknown,
                format!("cannot load the keys: {e}"),
            ))
        }
    };
    let tls = match client_tls(instruction, has(Defect::NoCertificateCheck)) {
        Ok(t) => t,
        Err(e) => return Ok(Outcome::bare(OutcomeKind::Unknown, e.to_string())),
    };
    let client_id = &instruction.gateway.client_id;
    let path = endpoint::path_for(client_id);
    let mut last = Outcome::bare(OutcomeKind::Unknown, "no attempt made");
    let attempts = if has(Defect::RetryFailure) {
        MAX_ATTEMPTS.max(2)
    } else {
        MAX_ATTEMPTS
    };
    for attempt in 0..attempts {
        let fields = if attempt > 0 && has(Defect::RetryWithOtherIds) {
            first_field_only(&instruction.request)
        } else {
            instruction.request.clone()
        };
        let body = body_bytes(fields, has(Defect::NumberForString));
        let time = chrono::Utc::now().timestamp_millis().to_string();
        let signed_path = if has(Defect::WrongStringToSign) {
            path.trim_start_matches("/ams")
        } else {
            path
        };
        let sig = if has(Defect::RawBase64Signature) {
            signature::sign_base64(&merchant, signed_path, client_id, &time, &body)
        } else {
            signature::sign(&merchant, signed_path, client_id, &time, &body)
        };
        let body = if has(Defect::ReserializeAfterSigning) {
            reserialized(&body)
        } else {
            body
        };
        let mut headers = vec![
            (
                header::CONTENT_TYPE,
                "application/json; charset=UTF-8".to_owned(),
            ),
            (header::CLIENT_ID, client_id.clone()),
            (header::REQUEST_TIME, time),
        ];
        if !has(Defect::NoRequestSignature) {
            headers.push((
                header::SIGNATURE,
                signature::header_value(&instruction.gateway.key_version, &sig),
            ));
        }
        let timeout = Duration::from_millis(instruction.timeout_ms);
        let sent = post(
            &instruction.gateway.url,
            tls.as_ref(),
            path,
            &headers,
            body,
            timeout,
        )
        .await;
        let exchange = match sent {
            Err(e) => {
                let kind = if has(Defect::TransportErrorAsFailure) {
                    OutcomeKind::Failed
                } else {
                    OutcomeKind::Unknown
                };
                let mut o = Outcome::bare(kind, e.to_string());
                if kind == OutcomeKind::Failed {
                    o.result_code = Some("TRANSPORT_ERROR".into());
                    return Ok(o);
                }
                Exchange::Open(o)
            }
            Ok(response) => interpret(&response, path, client_id, &vendor, behaviour)?,
        };
        match exchange {
            Exchange::Final(outcome) => {
                if has(Defect::RetryFailure)
                    && outcome.outcome == OutcomeKind::Failed
                    && attempt == 0
                {
                    last = outcome;
                    continue;
                }
                return Ok(outcome);
            }
            Exchange::Open(outcome) => last = outcome,
        }
    }
    Ok(last)
}

/// Reads the instruction's keys, remembering the last pair: a run hands every scenario the
/// same keys, and checking an RSA private key costs more than using it.
fn load_keys(
    gateway: &crate::protocol::GatewayInfo,
) -> Result<(SigningKey, VerifyingKey), signature::SignatureError> {
    type Cached = (String, String, SigningKey, VerifyingKey);
    static LAST: std::sync::Mutex<Option<Cached>> = std::sync::Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((private, public, m, v)) = last.as_ref() {
        if *private == gateway.merchant_private_key && *public == gateway.alipay_public_key {
            return Ok((m.clone(), v.clone()));
        }
    }
    let merchant = SigningKey::from_base64_pkcs8(&gateway.merchant_private_key)?;
    let vendor = VerifyingKey::from_base64_spki(&gateway.alipay_public_key)?;
    *last = Some((
        gateway.merchant_private_key.clone(),
        gateway.alipay_public_key.clone(),
        merchant.clone(),
        vendor.clone(),
    ));
    Ok((merchant, vendor))
}

/// The [`Defect::CountIdBytes`] defect: an id of more than 64 bytes (the limit is 64
/// characters) refused as too long.
fn too_many_bytes(request: &Map<String, Value>) -> Option<String> {
    request.iter().find_map(|(member, value)| {
        let id = value.as_str()?;
        (id.len() > 64).then(|| {
            format!(
                "refused locally: {member}: expected at most 64 characters, found {}",
                id.len()
            )
        })
    })
}

/// The [`Defect::ReserializeAfterSigning`] defect: the same JSON object written again with a
/// space after each `:` and `,` (as Python's `json.dumps` writes by default).
fn reserialized(body: &[u8]) -> Vec<u8> {
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return body.to_vec();
    };
    let members: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}: {v}", Value::String(k.clone())))
        .collect();
    format!("{{{}}}", members.join(", ")).into_bytes()
}

fn first_field_only(request: &Map<String, Value>) -> Map<String, Value> {
    request
        .iter()
        .take(1)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn body_bytes(mut fields: Map<String, Value>, numbers: bool) -> Vec<u8> {
    if numbers {
        for value in fields.values_mut() {
            if let Some(n) = value.as_str().and_then(|s| s.parse::<u128>().ok()) {
                // Written as a bare JSON number: the bug under test.
                *value = serde_json::from_str(&n.to_string()).unwrap_or(Value::Null);
            }
        }
    }
    serde_json::to_vec(&fields).unwrap_or_default()
}

/// A received HTTP response.
/// An HTTP answer as read: status, headers (names in lower case), body.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Bytes,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn interpret(
    r: &Response,
    path: &str,
    client_id: &str,
    vendor: &VerifyingKey,
    behaviour: &Behaviour,
) -> Result<Exchange, Crash> {
    let has = |d| behaviour.has(d);
    let open = |why: String| {
        let kind = if has(Defect::TransportErrorAsFailure) {
            OutcomeKind::Failed
        } else {
            OutcomeKind::Unknown
        };
        Ok(if kind == OutcomeKind::Failed {
            let mut o = Outcome::bare(kind, why);
            o.result_code = Some("TRANSPORT_ERROR".into());
            Exchange::Final(o)
        } else {
            Exchange::Open(Outcome::bare(kind, why))
        })
    };
    if r.status != 200 {
        return open(format!("HTTP status {}: a transport error", r.status));
    }
    if has(Defect::CrashOnUnknownField) || has(Defect::CrashOnUnknownCode) {
        crash_checks(&r.body, &behaviour.defects)?;
    }
    let response = match CancelResponse::from_slice(&r.body) {
        Ok(resp) => resp,
        Err(e) => {
            return Ok(Exchange::Open(Outcome::bare(
                OutcomeKind::Unknown,
                format!("no usable answer: {e}"),
            )))
        }
    };
    if !has(Defect::NoResponseVerification) {
        let status = response.result.result_status;
        if let Some(why) = unverified(r, status, (path, client_id, vendor), behaviour) {
            return Ok(Exchange::Open(with_result(
                Outcome::bare(OutcomeKind::Unknown, why),
                &response,
            )));
        }
    }
    Ok(conclude(&response, behaviour))
}

/// Why the answer cannot be believed, if it cannot: unsigned success, another client's
/// answer, a broken or wrong signature, half the signing headers.
fn unverified(
    r: &Response,
    status: ResultStatus,
    (path, client_id, vendor): (&str, &str, &VerifyingKey),
    behaviour: &Behaviour,
) -> Option<String> {
    match (r.header(header::SIGNATURE), r.header(header::RESPONSE_TIME)) {
        // The gateway may refuse an unauthenticated request without signing; only a refusal
        // can be believed unsigned, never a success.
        (None, None) if status == ResultStatus::S => {
            Some("an unsigned success answer cannot be trusted".into())
        }
        (None, None) => None,
        (Some(sig), Some(time)) => {
            if r.header(header::CLIENT_ID).is_some_and(|c| c != client_id) {
                return Some(format!(
                    "the answer is for client id `{}`, not `{client_id}`",
                    r.header(header::CLIENT_ID).unwrap_or_default()
                ));
            }
            // The defect: a client that treats "nothing to verify" as "verified".
            if behaviour.has(Defect::AcceptEmptySignature) && sig.trim_end().ends_with("signature=")
            {
                return None;
            }
            let header = match SignatureHeader::parse(sig) {
                Ok(h) => h,
                Err(e) => return Some(format!("response signature header: {e}")),
            };
            signature::verify(vendor, path, client_id, time, &r.body, &header.signature)
                .err()
                .map(|e| format!("response signature: {e}"))
        }
        _ => Some("the answer carries only one of `signature` and `response-time`".into()),
    }
}

/// What a believed answer concludes, by its `resultStatus` (and the defects that misread it).
fn conclude(response: &CancelResponse, behaviour: &Behaviour) -> Exchange {
    let has = |d| behaviour.has(d);
    match response.result.result_status {
        ResultStatus::S => {
            let mut o = with_result(Outcome::bare(OutcomeKind::Success, ""), response);
            o.error = None;
            o.payment_id = response.payment_id.as_ref().map(|p| p.as_str().to_owned());
            o.payment_request_id = response
                .payment_request_id
                .as_ref()
                .map(|p| p.as_str().to_owned());
            o.cancel_time = response.cancel_time.as_ref().map(|t| {
                if has(Defect::IgnoreCancelTimeOffset) {
                    t.instant().naive_local().and_utc().to_rfc3339()
                } else if has(Defect::MisreadOddOffset) {
                    misread_odd_offset(t.instant()).to_rfc3339()
                } else {
                    styled_cancel_time(t.instant(), &behaviour.styles)
                }
            });
            Exchange::Final(o)
        }
        ResultStatus::F => {
            let mut o = with_result(Outcome::bare(OutcomeKind::Failed, ""), response);
            o.error = None;
            Exchange::Final(o)
        }
        ResultStatus::U => {
            let kind = if has(Defect::UnknownAsFailure) {
                OutcomeKind::Failed
            } else {
                OutcomeKind::Unknown
            };
            let mut o = with_result(Outcome::bare(kind, "the result is unknown (U)"), response);
            if kind == OutcomeKind::Failed {
                o.error = None;
                Exchange::Final(o)
            } else {
                Exchange::Open(o)
            }
        }
    }
}

/// `cancelTime` as a client of these styles writes it: every digit chrono holds (nanoseconds,
/// 0, 3, 6 or 9 digits) in the served offset; or, for `millis`, JavaScript's
/// `toISOString()` of the instant truncated to the millisecond; or, for `micros`, Python's
/// `isoformat()` of the instant truncated to the microsecond, in the served offset.
fn styled_cancel_time(t: chrono::DateTime<chrono::FixedOffset>, styles: &Styles) -> String {
    use chrono::{SecondsFormat, Timelike};
    if styles.contains(&Style::Millis) {
        let millis = t.timestamp_millis();
        return chrono::DateTime::from_timestamp_millis(millis).map_or_else(String::new, |utc| {
            utc.to_rfc3339_opts(SecondsFormat::Millis, true)
        });
    }
    if styles.contains(&Style::Micros) {
        // A leap second's nanosecond is a billion or more; Python has no leap seconds.
        let micros = t.nanosecond() % 1_000_000_000 / 1_000;
        let fraction = if micros == 0 {
            String::new()
        } else {
            format!(".{micros:06}")
        };
        return format!(
            "{}{fraction}{}",
            t.format("%Y-%m-%dT%H:%M:%S"),
            t.format("%:z")
        );
    }
    t.to_rfc3339()
}

/// The outcome line as a client of these styles prints it (without the line break): the
/// members it has, or with `nulls` every member of the protocol, `null` where it has no value.
pub fn outcome_line(outcome: &Outcome, styles: &Styles) -> String {
    let value = serde_json::to_value(outcome).unwrap_or_default();
    if !styles.contains(&Style::Nulls) {
        return value.to_string();
    }
    let mut members = value.as_object().cloned().unwrap_or_default();
    let line: Map<String, Value> = Outcome::MEMBERS
        .iter()
        .map(|m| (m.to_string(), members.remove(*m).unwrap_or(Value::Null)))
        .collect();
    Value::Object(line).to_string()
}

/// The `MisreadOddOffset` defect: an offset whose minutes are 45 loses them.
fn misread_odd_offset(
    t: chrono::DateTime<chrono::FixedOffset>,
) -> chrono::DateTime<chrono::FixedOffset> {
    let seconds = t.offset().local_minus_utc();
    if seconds.abs() % 3600 != 45 * 60 {
        return t;
    }
    let hours_only = chrono::FixedOffset::east_opt(seconds / 3600 * 3600).expect("within a day");
    t.naive_local()
        .and_local_timezone(hours_only)
        .single()
        .unwrap_or(t)
}

fn with_result(mut outcome: Outcome, response: &CancelResponse) -> Outcome {
    outcome.result_code = Some(response.result.result_code.as_str().to_owned());
    outcome.result_status = Some(response.result.result_status.as_str().to_owned());
    outcome.result_message = response.result.result_message.clone();
    outcome
}

/// The crash defects: a brittle client that dies on what it does not know.
fn crash_checks(body: &[u8], defects: &Defects) -> Result<(), Crash> {
    let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(body) else {
        return Ok(());
    };
    if defects.contains(&Defect::CrashOnUnknownField) {
        let known = CancelResponse::MEMBERS;
        if let Some(k) = top.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(Crash(format!("unknown field `{k}`")));
        }
    }
    if defects.contains(&Defect::CrashOnUnknownCode) {
        if let Some(code) = top
            .get("result")
            .and_then(|r| r.get("resultCode"))
            .and_then(Value::as_str)
        {
            if crate::spec::ResultCode::from(code).row().is_none() {
                return Err(Crash(format!("unknown result code `{code}`")));
            }
        }
    }
    Ok(())
}

/// The TLS client configuration for an `https://` gateway: trusts exactly the instruction's
/// `caCertificatePem` (no system roots: the gateway is a test gateway), or, with the
/// [`Defect::NoCertificateCheck`] defect, any certificate for any name.
fn client_tls(
    instruction: &Instruction,
    trust_all: bool,
) -> Result<Option<std::sync::Arc<rustls::ClientConfig>>, TlsSetupError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    if !instruction.gateway.url.starts_with("https://") {
        return Ok(None);
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(TlsSetupError::Protocols)?;
    let config = if trust_all {
        builder
            .dangerous()
            .with_custom_certificate_verifier(std::sync::Arc::new(TrustAll(provider)))
            .with_no_client_auth()
    } else {
        let pem = instruction
            .gateway
            .ca_certificate_pem
            .as_deref()
            .ok_or(TlsSetupError::NoCa)?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(TlsSetupError::CaPem)?;
            roots.add(cert).map_err(TlsSetupError::CaCertificate)?;
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(Some(std::sync::Arc::new(config)))
}

/// The [`Defect::NoCertificateCheck`] verifier: believes every certificate, as clients built
/// on "trust all" socket factories do.
#[derive(Debug)]
struct TrustAll(std::sync::Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for TrustAll {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// POSTs a body over HTTP/1.1, plain or (for an `https://` gateway, with `tls`) over TLS with
/// the certificate and host name checked, the whole exchange within `timeout`.
async fn post(
    base: &str,
    tls: Option<&std::sync::Arc<rustls::ClientConfig>>,
    path: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<Response, TransportError> {
    let (authority, tls) = match (
        base.strip_prefix("http://"),
        base.strip_prefix("https://"),
        tls,
    ) {
        (Some(rest), _, _) => (rest, None),
        (_, Some(rest), Some(tls)) => (rest, Some(tls.clone())),
        _ => return Err(TransportError::UnsupportedUrl(base.to_owned())),
    };
    let authority = authority.trim_end_matches('/').to_owned();
    let exchange = async {
        let stream = tokio::net::TcpStream::connect(&authority)
            .await
            .map_err(|source| TransportError::Connect {
                authority: authority.clone(),
                source,
            })?;
        let request = build_request(&authority, path, headers, body)?;
        match tls {
            None => send(stream, request).await,
            Some(config) => {
                let host = authority
                    .rsplit_once(':')
                    .map_or(authority.as_str(), |(h, _)| h)
                    .trim_start_matches('[')
                    .trim_end_matches(']');
                let name =
                    rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|source| {
                        TransportError::HostName {
                            host: host.to_owned(),
                            source,
                        }
                    })?;
                // A refused certificate ends the exchange here, before any request byte is sent.
                let stream = tokio_rustls::TlsConnector::from(config)
                    .connect(name, stream)
                    .await
                    .map_err(|source| TransportError::Handshake {
                        authority: authority.clone(),
                        source,
                    })?;
                send(stream, request).await
            }
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| TransportError::Timeout(timeout))?
}

fn build_request(
    authority: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> Result<hyper::Request<Full<Bytes>>, TransportError> {
    let mut request = hyper::Request::post(path).header("host", authority);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request
        .body(Full::new(Bytes::from(body)))
        .map_err(TransportError::Request)
}

/// Sends one HTTP/1.1 request on `stream` and reads the whole answer (`proxy` forwards with it
/// too).
pub(crate) async fn send<S>(
    stream: S,
    request: hyper::Request<Full<Bytes>>,
) -> Result<Response, TransportError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(TransportError::HttpHandshake)?;
    tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(TransportError::NoResponse)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(TransportError::Body)?
        .to_bytes();
    Ok(Response {
        status,
        headers,
        body,
    })
}

type Input = std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>>;
type Output = std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>>;

/// Standard input and output for the adapter protocol. tokio's `stdin` and `stdout` hand
/// every read and write to a thread of the blocking pool and back, a round trip per line each
/// way; when they are pipes (as the kit starts adapters) they are read and written in place,
/// like any socket, instead.
fn standard_streams() -> (Input, Output) {
    use std::os::fd::AsFd as _;
    use tokio::net::unix::pipe;
    let input = std::io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .and_then(pipe::Receiver::from_owned_fd);
    let output = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .and_then(pipe::Sender::from_owned_fd);
    (
        match input {
            Ok(pipe) => Box::pin(pipe),
            Err(_) => Box::pin(tokio::io::stdin()),
        },
        match output {
            Ok(pipe) => Box::pin(pipe),
            Err(_) => Box::pin(tokio::io::stdout()),
        },
    )
}

/// Serves the adapter protocol on standard input and output, for as many instructions as
/// arrive (so it works in exec and persistent mode alike), sending only the ids in `ids`.
///
/// # Errors
/// [`AdapterError::Io`] when standard input or output fails; [`AdapterError::Crash`] when a
/// crash defect is triggered (the caller exits with [`Exit::Crashed`], as a panic would).
///
/// [`Exit::Crashed`]: crate::exit::Exit::Crashed
pub async fn serve_adapter(behaviour: &Behaviour, ids: Ids) -> Result<(), AdapterError> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (input, mut stdout) = standard_streams();
    let mut lines = BufReader::new(input).lines();
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let outcome = match serde_json::from_str::<Instruction>(&line) {
            Ok(instruction) => match cancel(&narrowed(&instruction, ids), behaviour).await {
                Ok(o) => o,
                Err(crash) => return Err(AdapterError::Crash(crash)),
            },
            Err(e) => Outcome::bare(OutcomeKind::Unknown, format!("unreadable instruction: {e}")),
        };
        let mut text = outcome_line(&outcome, &behaviour.styles);
        text.push('\n');
        stdout.write_all(text.as_bytes()).await?;
        stdout.flush().await?;
    }
    Ok(())
}
