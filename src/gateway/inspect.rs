//! The checks on every request the gateway receives (contract, "Checks on every request").
//!
//! The same findings serve twice: the gateway uses them at once to answer as the real one
//! would (refusing what it would refuse), and the verdict reports them as checks.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::answer::Served;
use super::{Script, CANCEL_PATH, SANDBOX_CANCEL_PATH};
use crate::schema::Schema;
use crate::signature::{self, SignatureHeader, VerifyingKey};
use crate::verdict::{Check, Level};

/// The instructed fields the body must carry exactly (rule 7).
pub const ID_FIELDS: [&str; 3] = ["paymentId", "paymentRequestId", "merchantAccountId"];

/// How far `Request-Time` may stray from the kit's clock before a SHOULD fails.
pub const REQUEST_TIME_WINDOW_SECS: i64 = 300;

const RULE: &str = "docs/contract.md#request-checks";

/// A request as the gateway received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The method.
    pub method: String,
    /// The URI path (taken from the URI, whatever the form of the request target).
    pub path: String,
    /// The query string after `?`, if the target had one (undecoded).
    pub query: Option<String>,
    /// Header fields in arrival order, names in lower case, duplicates kept.
    pub headers: Vec<(String, String)>,
    /// The body, byte for byte.
    pub body: Vec<u8>,
    /// When it arrived, by the kit's clock.
    pub received_at: DateTime<Utc>,
}

impl RecordedRequest {
    /// The value of a query parameter, percent-decoded (`+` is not a space here: ids may
    /// hold one).
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.as_deref()?.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded = crate::signature::percent_decode(value).ok()?;
            (key == name).then(|| String::from_utf8_lossy(&decoded).into_owned())
        })
    }

    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn from_wiremock(request: &wiremock::Request) -> RecordedRequest {
        let headers = request
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        RecordedRequest {
            method: request.method.as_str().to_owned(),
            path: request.url.path().to_owned(),
            query: request.url.query().map(str::to_owned),
            headers,
            body: request.body.clone(),
            received_at: Utc::now(),
        }
    }
}

/// Decides, from a request's checks, whether the real gateway would refuse it, and how;
/// `None` means serve the script. The checks are computed once, when the request arrives,
/// and serve both this decision and the verdict.
pub fn refusal(req: &RecordedRequest, checks: &[Check]) -> Option<Served> {
    let failed = |name: &str| {
        checks
            .iter()
            .find(|c| !c.held && c.id.rsplit('.').next() == Some(name))
    };
    if failed("client-id").is_some() {
        Some(Served::unauthenticated(
            "CLIENT_INVALID",
            format!(
                "Client-Id {} is not the merchant's",
                req.header("client-id")
                    .map_or("absent".into(), |v| format!("`{v}`"))
            ),
        ))
    } else if let Some(signature) = failed("signature") {
        Some(Served::unauthenticated(
            "INVALID_SIGNATURE",
            signature.message.clone(),
        ))
    } else if !is_cancel_path(&req.path) {
        Some(Served::refused(
            "NO_INTERFACE_DEF",
            format!("no API at `{}`", req.path),
        ))
    } else {
        failed("body")
            .map(|body| Served::refused("PARAM_ILLEGAL", body.seen.clone().unwrap_or_default()))
    }
}

fn is_cancel_path(path: &str) -> bool {
    path == CANCEL_PATH || path == SANDBOX_CANCEL_PATH
}

/// Every check of the contract on one request. `n` numbers the request in check ids.
pub fn check_request(
    req: &RecordedRequest,
    n: usize,
    script: &Script,
    key: &VerifyingKey,
) -> Vec<Check> {
    let id = |name: &str| format!("request[{n}].{name}");
    let rule = |k: &str| format!("{RULE} {k}");
    let mut checks = Vec::new();
    let mut push = |name: &str, level: Level, rule: String, result: Result<String, Failure>| {
        checks.push(match result {
            Ok(message) => Check::pass(&id(name), level, &rule, message),
            Err(f) => Check::fail(&id(name), level, &rule, f.message, f.expected, f.seen),
        });
    };

    // 1. Method and path.
    push(
        "method",
        Level::Must,
        rule("1"),
        expect_eq("method", "POST", &req.method),
    );
    let sandbox = script.client_id.starts_with("SANDBOX_");
    let wanted = if sandbox {
        SANDBOX_CANCEL_PATH
    } else {
        CANCEL_PATH
    };
    if sandbox && req.path == CANCEL_PATH {
        push(
            "path",
            Level::Should,
            rule("1 (sandbox)"),
            Err(Failure::new(
                "a SANDBOX_ client id should call the sandbox path",
                wanted,
                &req.path,
            )),
        );
    } else {
        push(
            "path",
            Level::Must,
            rule("1"),
            expect_eq("path", wanted, &req.path),
        );
    }

    // 2. Content-Type.
    let types: Vec<&str> = req.header_values("content-type").collect();
    let json = types.iter().any(|t| media_type(t) == "application/json");
    push(
        "content-type",
        Level::Must,
        rule("2"),
        if json {
            Ok(format!("Content-Type {}", types.join(", ")))
        } else {
            Err(Failure::new(
                "Content-Type must be JSON",
                "application/json; charset=UTF-8",
                &show_list(&types),
            ))
        },
    );
    let charset = types.iter().any(|t| {
        t.split(';').skip(1).any(|p| {
            let p = p.trim().to_ascii_lowercase().replace('"', "");
            p == "charset=utf-8"
        })
    });
    push(
        "charset",
        Level::Should,
        rule("2 (charset)"),
        if charset {
            Ok("charset=UTF-8 declared".into())
        } else {
            Err(Failure::new(
                "Content-Type should declare charset=UTF-8",
                "application/json; charset=UTF-8",
                &show_list(&types),
            ))
        },
    );

    // 3. Client-Id.
    push(
        "client-id",
        Level::Must,
        rule("3"),
        match req.header("client-id") {
            Some(v) if v == script.client_id => Ok(format!("Client-Id {v}")),
            seen => Err(Failure::new(
                "Client-Id must be the instruction's client id",
                &script.client_id,
                seen.unwrap_or("(absent)"),
            )),
        },
    );

    // 4. Request-Time.
    let time = req.header("request-time");
    let parsed = time.and_then(parse_request_time);
    push(
        "request-time",
        Level::Must,
        rule("4"),
        match (time, parsed) {
            (Some(t), Some(_)) => Ok(format!("Request-Time {t}")),
            (seen, _) => Err(Failure::new(
                "Request-Time must be epoch milliseconds or an ISO 8601 date-time with an offset",
                "e.g. 1685599933871 or 2023-06-01T12:00:00+08:00",
                seen.unwrap_or("(absent)"),
            )),
        },
    );
    if let Some(at) = parsed {
        let skew = (at - req.received_at).num_seconds();
        push(
            "request-time-skew",
            Level::Should,
            rule("4 (clock)"),
            if skew.abs() <= REQUEST_TIME_WINDOW_SECS {
                Ok(format!("Request-Time within {skew} s of the kit's clock"))
            } else {
                Err(Failure::new(
                    "Request-Time should be within 5 minutes of the kit's clock",
                    &format!(
                        "within ±{REQUEST_TIME_WINDOW_SECS} s of {}",
                        req.received_at.to_rfc3339()
                    ),
                    &format!("{} ({skew:+} s)", time.unwrap_or_default()),
                ))
            },
        );
    }

    // 5. Signature.
    push(
        "signature",
        Level::Must,
        rule("5"),
        signature_finding(req, key).map(|()| "signature verifies over the raw body".into()),
    );

    // 6. The body against the request schema.
    let violations = body_violations(&req.body);
    // An instruction that breaks the rules on purpose makes a rule-breaking body a SHOULD:
    // the client should have refused locally, and the gateway's PARAM_ILLEGAL is then judged.
    let body_level = if script.local_validation {
        Level::Should
    } else {
        Level::Must
    };
    push(
        "body",
        body_level,
        rule("6"),
        if violations.is_empty() {
            Ok("body valid against schema/cancel-request.schema.json".into())
        } else {
            Err(Failure::new(
                "the body must be valid against schema/cancel-request.schema.json",
                "a JSON object of string fields within their limits",
                &violations.join("; "),
            ))
        },
    );
    let body: Option<Map<String, Value>> = serde_json::from_slice(&req.body).ok();
    if let Some(body) = &body {
        let unknown: Vec<&str> = body
            .keys()
            .map(String::as_str)
            .filter(|k| !known_request_members().iter().any(|m| m == k))
            .collect();
        push(
            "unknown-members",
            Level::Should,
            rule("6 (unknown fields)"),
            if unknown.is_empty() {
                Ok("no unknown members".into())
            } else {
                Err(Failure::new(
                    "the body should carry no member the API does not define",
                    &known_request_members().join(", "),
                    &unknown.join(", "),
                ))
            },
        );
    }

    // 7. Exactly the instructed ids.
    push(
        "ids",
        Level::Must,
        rule("7"),
        match &body {
            None => Err(Failure::new(
                "the body must be a JSON object carrying the instructed ids",
                &Value::Object(script.instructed.clone()).to_string(),
                &String::from_utf8_lossy(&req.body),
            )),
            Some(body) => ids_finding(body, &script.instructed),
        },
    );
    checks
}

/// The fields of `body` that differ from the instruction (absent and `null` are the same).
pub fn ids_finding(
    body: &Map<String, Value>,
    instructed: &Map<String, Value>,
) -> Result<String, Failure> {
    let mut wrong = Vec::new();
    for field in ID_FIELDS {
        let sent = body.get(field).unwrap_or(&Value::Null);
        let asked = instructed.get(field).unwrap_or(&Value::Null);
        if sent != asked {
            wrong.push((field, asked.to_string(), sent.to_string()));
        }
    }
    if wrong.is_empty() {
        Ok("the body carries exactly the instructed ids".into())
    } else {
        let show = |pick: fn(&(&str, String, String)) -> String| {
            wrong.iter().map(pick).collect::<Vec<_>>().join(", ")
        };
        Err(Failure::new(
            "the body must carry exactly the instructed ids (absent or null when not instructed)",
            &show(|(f, a, _)| format!("{f}={a}")),
            &show(|(f, _, s)| format!("{f}={s}")),
        ))
    }
}

/// A failed finding: what went wrong, what was expected, what was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// What the rule demands, in words.
    pub message: String,
    /// What the kit expected.
    pub expected: String,
    /// What the kit saw.
    pub seen: String,
}

impl Failure {
    fn new(message: &str, expected: &str, seen: &str) -> Failure {
        Failure {
            message: message.to_owned(),
            expected: expected.to_owned(),
            seen: seen.to_owned(),
        }
    }
}

fn expect_eq(what: &str, expected: &str, seen: &str) -> Result<String, Failure> {
    if expected == seen {
        Ok(format!("{what} {seen}"))
    } else {
        Err(Failure::new(
            &format!("{what} must be {expected}"),
            expected,
            seen,
        ))
    }
}

fn show_list(values: &[&str]) -> String {
    if values.is_empty() {
        "(absent)".into()
    } else {
        values.join(", ")
    }
}

fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Checks the `Signature` header of a request; on failure says why, showing the exact
/// string that should have been signed.
pub fn signature_finding(req: &RecordedRequest, key: &VerifyingKey) -> Result<(), Failure> {
    let Some(raw) = req.header("signature") else {
        return Err(Failure::new(
            "a Signature header must be sent",
            "algorithm=RSA256,keyVersion=1,signature=<URL-encoded base64>",
            "(absent)",
        ));
    };
    let header = SignatureHeader::parse(raw).map_err(|e| {
        Failure::new(
            &format!("the Signature header must parse: {e}"),
            "algorithm=RSA256,keyVersion=<n>,signature=<URL-encoded base64>",
            raw,
        )
    })?;
    if header.algorithm != "RSA256" {
        return Err(Failure::new(
            "the Signature header must name algorithm=RSA256",
            "RSA256",
            &header.algorithm,
        ));
    }
    if header.key_version.is_none() {
        return Err(Failure::new(
            "the Signature header must carry a keyVersion",
            "keyVersion=1",
            raw,
        ));
    }
    let client_id = req.header("client-id").unwrap_or_default();
    let time = req.header("request-time").unwrap_or_default();
    signature::verify(
        key,
        &req.path,
        client_id,
        time,
        &req.body,
        &header.signature,
    )
    .map_err(|e| {
        let expected = signature::string_to_sign(&req.path, client_id, time, &req.body);
        Failure::new(
            &format!("the signature must verify with the merchant public key: {e}"),
            &format!("a signature over {:?}", String::from_utf8_lossy(&expected)),
            raw,
        )
    })
}

/// The body's violations of the request schema, each as `pointer: message`.
pub fn body_violations(body: &[u8]) -> Vec<String> {
    match serde_json::from_slice::<Value>(body) {
        Err(e) => vec![format!("the body is not JSON: {e}")],
        Ok(value) => Schema::Request
            .violations(&value)
            .iter()
            .map(ToString::to_string)
            .collect(),
    }
}

/// The members the request schema defines, read from the schema itself.
pub fn known_request_members() -> &'static [String] {
    static KNOWN: OnceLock<Vec<String>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        let schema: Value = serde_json::from_str(Schema::Request.source()).unwrap_or_default();
        schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    })
}

/// Parses `Request-Time` in any format the official SDKs send: epoch milliseconds, or an
/// ISO 8601 date-time with `Z` or an offset (with or without colon), with or without fraction.
///
/// # Example
/// ```
/// use alipay_cancel_kit::gateway::inspect::parse_request_time;
/// assert!(parse_request_time("1685599933871").is_some());
/// assert!(parse_request_time("2023-06-01T06:12:13+00:00").is_some());
/// assert!(parse_request_time("2023-06-01T14:12:13+0800").is_some());
/// assert!(parse_request_time("2023-06-01T06:12:13.1234567Z").is_some());
/// assert!(parse_request_time("yesterday").is_none());
/// ```
pub fn parse_request_time(text: &str) -> Option<DateTime<Utc>> {
    if !text.is_empty() && text.len() <= 16 && text.bytes().all(|b| b.is_ascii_digit()) {
        let millis: i64 = text.parse().ok()?;
        return DateTime::from_timestamp_millis(millis);
    }
    let bytes = text.as_bytes();
    // `+hhmm` → `+hh:mm`, so one strict RFC 3339 parse covers every SDK's format.
    let normalised = match bytes.len().checked_sub(5).map(|i| (i, bytes[i])) {
        Some((i, b'+' | b'-')) if bytes[i + 1..].iter().all(u8::is_ascii_digit) => {
            format!("{}:{}", &text[..i + 3], &text[i + 3..])
        }
        _ => text.to_owned(),
    };
    if normalised.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    DateTime::parse_from_rfc3339(&normalised)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
