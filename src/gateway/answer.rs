//! Turning a scripted answer into the bytes the gateway sends, signature policy included.

use std::time::Duration;

use serde_json::json;

use super::GatewayKeys;
use crate::contract::{AnswerClass, RecordedRequest};
use crate::scenario::{Answer, Fault, Signing};
use crate::signature::{self, SigningKey};
use crate::spec::endpoint::header;
use crate::spec::ResultStatus;

/// The client id a `foreign-client-id` answer is signed for and echoes. Test-only.
pub const FOREIGN_CLIENT_ID: &str = "FOREIGN_9ZZZ9";

/// The key version the gateway puts in its `signature` header.
pub const KEY_VERSION: &str = "1";

/// The answer the gateway served to one request, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Served {
    /// Which scripted answer, or `None` when the gateway refused the request itself.
    pub script_index: Option<usize>,
    /// The answer, with the outcomes a client may conclude from it.
    pub answer: Answer,
    /// Why the gateway answered other than scripted (a refused request).
    pub note: Option<String>,
}

impl Served {
    /// The scripted answer at `index`.
    pub fn scripted(index: usize, answer: Answer) -> Served {
        Served {
            script_index: Some(index),
            answer,
            note: None,
        }
    }

    /// The real gateway's refusal of a request it could not authenticate: an unsigned `F`,
    /// which a client may surface as `FAILED` or `UNKNOWN`.
    pub fn unauthenticated(code: &str, why: String) -> Served {
        Served::refusal(code, why, Signing::Unsigned, AnswerClass::UnsignedFailure)
    }

    /// The real gateway's signed `F` for a request whose body or path breaks the rules.
    pub fn refused(code: &str, why: String) -> Served {
        Served::refusal(code, why, Signing::Signed, AnswerClass::SignedFailure)
    }

    /// The gateway's HTTP 413 for a request body over its limit: no usable answer.
    pub fn too_large() -> Served {
        let message = super::limit::too_large_message();
        Served {
            script_index: None,
            answer: Answer {
                status: 413,
                body: None,
                raw_body: Some(message.clone()),
                signing: Signing::Unsigned,
                delay_ms: 0,
                fault: None,
                // An HTTP status other than 200 is no usable answer.
                accept: AnswerClass::NoUsableAnswer.accepts(ResultStatus::U),
                prefer: vec![],
            },
            note: Some(format!("gateway refused the request (HTTP 413): {message}")),
        }
    }

    /// The gateway's HTTP 400 (`http`, from [`super::raw::bad_request_answer`]) for a request
    /// refused unread for its framing or header bytes (`why`): no usable answer.
    pub fn bad_request(http: &HttpAnswer, why: &str) -> Served {
        let mut served = Served::too_large();
        served.answer.status = http.status;
        served.answer.raw_body = Some(String::from_utf8_lossy(&http.body).into_owned());
        served.note = Some(format!("gateway refused the request (HTTP 400): {why}"));
        served
    }

    /// `serve`'s answer to a magic id it cannot play (no such scenario, or one that needs a
    /// listener of its own): HTTP 404, unsigned, so that no client can believe it. A signed
    /// `F` would let a test that asserts only `FAILED` pass on a mistyped scenario id.
    pub fn unplayable(code: &str, why: String) -> Served {
        Served {
            script_index: None,
            answer: Answer {
                status: 404,
                body: Some(json!({"result": {
                    "resultCode": code,
                    "resultStatus": "U",
                    "resultMessage": why,
                }})),
                raw_body: None,
                signing: Signing::Unsigned,
                delay_ms: 0,
                fault: None,
                // An HTTP status other than 200 is no usable answer.
                accept: AnswerClass::NoUsableAnswer.accepts(ResultStatus::U),
                prefer: vec![],
            },
            note: Some(format!("kit: {why}")),
        }
    }

    /// A refusal `F` of `class`, which decides the outcomes it accepts.
    fn refusal(code: &str, why: String, signing: Signing, class: AnswerClass) -> Served {
        Served {
            script_index: None,
            answer: Answer {
                status: 200,
                body: Some(json!({"result": {
                    "resultCode": code,
                    "resultStatus": "F",
                    "resultMessage": why,
                }})),
                raw_body: None,
                signing,
                delay_ms: 0,
                fault: None,
                accept: class.accepts(ResultStatus::F),
                prefer: class.prefers(),
            },
            note: Some(format!("gateway refused the request ({code}): {why}")),
        }
    }
}

/// An HTTP answer ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpAnswer {
    /// Status code.
    pub status: u16,
    /// Header lines, names in lower case as the real gateway sends them.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
    /// Wait this long before sending.
    pub delay: Duration,
    /// A transport fault to produce instead.
    pub fault: Option<Fault>,
}

/// Renders a served answer for a request: body bytes, `client-id`, `response-time`, `signature`.
pub fn render(served: &Served, request: &RecordedRequest, keys: &GatewayKeys) -> HttpAnswer {
    let answer = &served.answer;
    let body = answer.body_bytes();
    let request_client_id = request
        .header(header::CLIENT_ID)
        .unwrap_or_default()
        .to_owned();
    let response_time = chrono::Utc::now()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        .to_string();
    // The real gateway signs over the path the client called, sandbox path included.
    let path = request.path.as_str();
    let sign = |key: &SigningKey, client_id: &str, body: &[u8]| {
        signature::sign(key, path, client_id, &response_time, body)
    };
    let header = |value: &str| signature::header_value(KEY_VERSION, value);

    let mut headers = vec![(
        header::CONTENT_TYPE.to_owned(),
        "application/json; charset=UTF-8".to_owned(),
    )];
    let mut client_id = request_client_id.clone();
    let mut time = Some(response_time.clone());
    let signature = match answer.signing {
        Signing::Signed => Some(header(&sign(&keys.vendor, &client_id, &body))),
        Signing::Unsigned => {
            time = None;
            None
        }
        Signing::EmptySignature => Some(header("")),
        Signing::Tampered => Some(header(&sign(&keys.vendor, &client_id, &tampered(&body)))),
        Signing::OtherKey => Some(header(&sign(&keys.other, &client_id, &body))),
        Signing::NoResponseTime => {
            time = None;
            Some(header(&sign(&keys.vendor, &client_id, &body)))
        }
        Signing::EmptyResponseTime => {
            time = Some(String::new());
            Some(header(&sign(&keys.vendor, &client_id, &tampered(&body))))
        }
        Signing::RawBase64Tampered => Some(header(&signature::sign_base64(
            &keys.vendor,
            path,
            &client_id,
            &response_time,
            &tampered(&body),
        ))),
        Signing::ForeignClientId => {
            client_id = FOREIGN_CLIENT_ID.to_owned();
            Some(header(&sign(&keys.vendor, &client_id, &body)))
        }
        Signing::SignedLowercaseEscapes => {
            let value = sign(&keys.vendor, &client_id, &body);
            Some(header(&lowercase_escapes(&value)))
        }
        Signing::SignedSpaced => {
            Some(header(&sign(&keys.vendor, &client_id, &body)).replace(',', ", "))
        }
    };
    headers.push((header::CLIENT_ID.to_owned(), client_id));
    if let Some(time) = time {
        headers.push((header::RESPONSE_TIME.to_owned(), time));
    }
    if let Some(signature) = signature {
        headers.push((header::SIGNATURE.to_owned(), signature));
    }
    HttpAnswer {
        status: answer.status,
        headers,
        body,
        delay: Duration::from_millis(answer.delay_ms),
        fault: answer.fault,
    }
}

/// Another body, one byte longer: its signature is valid, just not for the body served.
fn tampered(body: &[u8]) -> Vec<u8> {
    let mut other = body.to_vec();
    other.push(b' ');
    other
}

/// `%2B` → `%2b`: the escapes .NET emits, which a client must accept.
fn lowercase_escapes(value: &str) -> String {
    value
        .replace("%2B", "%2b")
        .replace("%2F", "%2f")
        .replace("%3D", "%3d")
}
