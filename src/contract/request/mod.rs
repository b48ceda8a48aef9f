//! The request checks (`docs/contract.md#request-checks`), one function per check, on a
//! request as recorded.
//!
//! The same findings serve twice: the mock gateway uses them at once to answer as the real one
//! would (refusing what it would refuse), and the verdict reports them. `serve` and `proxy`
//! run them too, `proxy` on traffic it only forwards, which is why they stand below the
//! gateway.

mod body;
mod client_id;
mod content_type;
mod ids;
mod method;
mod path;
mod request_time;
mod signature;
mod signature_encoding;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

pub use body::{body, body_violations, known_request_members, unknown_members};
pub use client_id::client_id;
pub use content_type::{charset, content_type};
pub use ids::{ids, ids_finding};
pub use method::method;
pub use path::path;
pub use request_time::{
    parse_request_time, request_time, request_time_skew, REQUEST_TIME_WINDOW_SECS,
};
pub use signature::{signature, signature_finding};
pub use signature_encoding::signature_encoding;

use super::check::Check;
use crate::signature::VerifyingKey;

/// A request as the gateway (or `proxy`) received it.
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
}

/// What a request is checked against: the instruction's facts.
#[derive(Clone, Copy, Debug)]
pub struct Expected<'a> {
    /// The client id the request must carry.
    pub client_id: &'a str,
    /// The ids the instruction gave (check 7); `None` where no instruction describes the
    /// request (`serve`, `proxy`), and check 7 would prove nothing.
    pub instructed: Option<&'a Map<String, Value>>,
    /// The instruction breaks the request rules on purpose (check 6 is then SHOULD).
    pub local_validation: bool,
}

/// Every request check on one request, in the contract's order. `n` numbers the request in
/// check ids.
pub fn check_request(
    req: &RecordedRequest,
    n: usize,
    expected: &Expected<'_>,
    key: &VerifyingKey,
) -> Vec<Check> {
    let mut checks = vec![
        method(req, n),
        path(req, n, expected.client_id),
        content_type(req, n),
        charset(req, n),
        client_id(req, n, expected.client_id),
        request_time(req, n),
    ];
    checks.extend(request_time_skew(req, n));
    checks.push(signature(req, n, key));
    checks.extend(signature_encoding(req, n));
    checks.push(body(req, n, expected.local_validation));
    checks.extend(unknown_members(req, n));
    if let Some(instructed) = expected.instructed {
        checks.push(ids(req, n, instructed));
    }
    checks
}

/// "`x`, `y`" or `(absent)`: the values of a header as a failure shows them.
fn show_list(values: &[&str]) -> String {
    if values.is_empty() {
        "(absent)".into()
    } else {
        values.join(", ")
    }
}

/// A hand-built request for the checks' unit tests: a correct one, signed with the test key.
#[cfg(test)]
pub(crate) mod fixture {
    use super::RecordedRequest;
    use crate::signature::{self, TestKeys, VerifyingKey};
    use crate::spec::endpoint::{self, header};

    /// The client id the fixture sends.
    pub const CLIENT_ID: &str = "TEST_5YBZ1";

    /// A correct request: the cancel path, JSON with charset, the client id, a fresh
    /// Request-Time, a signature over all of it, `{"paymentRequestId":"pay_1"}`.
    pub fn request() -> RecordedRequest {
        signed(
            endpoint::PATH,
            CLIENT_ID,
            br#"{"paymentRequestId":"pay_1"}"#,
        )
    }

    /// A request signed over `path`, `client_id` and `body`.
    pub fn signed(path: &str, client_id: &str, body: &[u8]) -> RecordedRequest {
        let now = chrono::Utc::now();
        let time = now.timestamp_millis().to_string();
        let sig = signature::sign(&keys().merchant, path, client_id, &time, body);
        RecordedRequest {
            method: "POST".into(),
            path: path.into(),
            query: None,
            headers: vec![
                (
                    header::CONTENT_TYPE.into(),
                    "application/json; charset=UTF-8".into(),
                ),
                (header::CLIENT_ID.into(), client_id.into()),
                (header::REQUEST_TIME.into(), time),
                (header::SIGNATURE.into(), signature::header_value("1", &sig)),
            ],
            body: body.to_vec(),
            received_at: now,
        }
    }

    /// The fixed test-only keys, loaded once.
    pub fn keys() -> &'static TestKeys {
        static KEYS: std::sync::OnceLock<TestKeys> = std::sync::OnceLock::new();
        KEYS.get_or_init(TestKeys::fixed)
    }

    /// The merchant's public key, which verifies the fixture's requests.
    pub fn merchant_public() -> VerifyingKey {
        keys().merchant.verifying_key()
    }

    /// The request with one header replaced (or removed, for `None`).
    pub fn with_header(
        mut req: RecordedRequest,
        name: &str,
        value: Option<&str>,
    ) -> RecordedRequest {
        req.headers.retain(|(n, _)| n != name);
        if let Some(value) = value {
            req.headers.push((name.into(), value.into()));
        }
        req
    }
}

#[cfg(test)]
mod tests {
    use super::fixture;

    /// `GET /__kit/requests?id=` filters the journal by this: the named parameter, its value
    /// percent-decoded with `+` kept (ids may hold one), nothing for a missing one.
    #[test]
    fn a_query_parameter_is_found_by_name_and_percent_decoded() {
        let mut request = fixture::request();
        request.query = Some("trace=x&id=pay%201+2&empty=&bare".into());
        assert_eq!(request.query_param("id").as_deref(), Some("pay 1+2"));
        assert_eq!(request.query_param("trace").as_deref(), Some("x"));
        assert_eq!(request.query_param("empty").as_deref(), Some(""));
        assert_eq!(request.query_param("bare").as_deref(), Some(""));
        assert_eq!(request.query_param("missing"), None);
        assert_eq!(request.query_param("i"), None, "a prefix is not the name");
        request.query = None;
        assert_eq!(request.query_param("id"), None);
    }
}
