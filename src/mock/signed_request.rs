//! [`SignedRequest`], the matcher: a cancel request the gateway accepts, by the contract's
//! request checks.

use super::{keys, recorded};
use crate::contract::request::{self, Expected};
use crate::contract::{Check, Level};
use crate::scenario::DEFAULT_CLIENT_ID;
use crate::signature::VerifyingKey;

/// A [`wiremock::Match`] for a cancel request that every MUST request check of
/// `docs/contract.md#request-checks` passes: method `POST`; the cancel path (the sandbox path
/// for a `SANDBOX_` client id); a JSON `content-type`; the merchant's client id; a
/// `request-time` in an SDK's format; a `signature` that names `RSA256`, carries a
/// `keyVersion` and verifies with the merchant's public key over
/// `POST <path>\n<client id>.<request time>.<raw body>`; a body valid against the request
/// schema. That covers every refusal of the gateway
/// (`docs/contract.md#the-gateways-refusals`), and is stricter in two places: the method, and
/// the MUST checks the gateway reports without refusing (`content-type`, `request-time`).
///
/// SHOULD checks (`charset`, `request-time-skew`, `signature-encoding`, `unknown-members`) never
/// stop a match; [`SignedRequest::check`] shows them. The `ids` check needs an instruction and
/// is not made. Defaults: the committed test-only merchant key ([`keys::merchant`]) and the
/// client id `TEST_5YBZ1`.
///
/// # Example
/// ```
/// use alipay_cancel_kit::mock::SignedRequest;
/// let unsigned = wiremock::Request {
///     url: "http://127.0.0.1/ams/api/v1/payments/cancel".parse().unwrap(),
///     method: "POST".parse().unwrap(),
///     headers: Default::default(),
///     body: br#"{"paymentId":"p1"}"#.to_vec(),
/// };
/// let reasons = SignedRequest::new().reasons(&unsigned);
/// let ids: Vec<&str> = reasons.iter().map(|c| c.id.as_str()).collect();
/// assert_eq!(
///     ids,
///     ["request[1].content-type", "request[1].client-id", "request[1].request-time",
///      "request[1].signature"]
/// );
/// assert_eq!(reasons[3].message, "a Signature header must be sent");
/// assert_eq!(reasons[3].rule, "docs/contract.md#request-checks 5");
/// ```
#[derive(Clone, Debug)]
pub struct SignedRequest {
    merchant_public: VerifyingKey,
    client_id: String,
}

impl Default for SignedRequest {
    fn default() -> Self {
        SignedRequest::new()
    }
}

impl SignedRequest {
    /// Requests from the client id `TEST_5YBZ1`, signed with the committed test-only merchant key.
    pub fn new() -> SignedRequest {
        SignedRequest {
            merchant_public: keys::merchant().verifying_key(),
            client_id: DEFAULT_CLIENT_ID.to_owned(),
        }
    }

    /// Requests signed with the private half of `key` instead.
    pub fn merchant_key(mut self, key: VerifyingKey) -> SignedRequest {
        self.merchant_public = key;
        self
    }

    /// Requests from `client_id` instead (a `SANDBOX_` one must call the sandbox path).
    pub fn client_id(mut self, client_id: impl Into<String>) -> SignedRequest {
        self.client_id = client_id.into();
        self
    }

    /// Every request check the kit makes on `request`, held or not, in the contract's order,
    /// numbered as a first request (`request[1].…`).
    pub fn check(&self, request: &wiremock::Request) -> Vec<Check> {
        let expected = Expected {
            client_id: &self.client_id,
            instructed: None,
            local_validation: false,
        };
        request::check_request(&recorded(request), 1, &expected, &self.merchant_public)
    }

    /// Why `request` does not match: its failed MUST checks, each with its message, what was
    /// expected and seen, and its rule (a signature mismatch quotes the `stringToSign` the kit
    /// expected in `values`). Empty when it matches.
    pub fn reasons(&self, request: &wiremock::Request) -> Vec<Check> {
        self.check(request)
            .into_iter()
            .filter(|c| !c.held && c.level == Level::Must)
            .collect()
    }
}

impl wiremock::Match for SignedRequest {
    fn matches(&self, request: &wiremock::Request) -> bool {
        self.reasons(request).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::request::fixture;
    use crate::gateway::refusal;
    use crate::spec::endpoint::{self, header};
    use wiremock::Match as _;

    /// The fixture's request (signed with the test merchant key) as wiremock hands it over.
    fn wiremock_request(recorded: &crate::contract::RecordedRequest) -> wiremock::Request {
        wiremock::Request {
            url: format!("http://127.0.0.1:1{}", recorded.path)
                .parse()
                .unwrap(),
            method: recorded.method.parse().unwrap(),
            headers: recorded
                .headers
                .iter()
                .map(|(n, v)| (n.parse().unwrap(), v.parse().unwrap()))
                .collect(),
            body: recorded.body.clone(),
        }
    }

    fn reason_ids(request: &crate::contract::RecordedRequest) -> Vec<String> {
        let matcher = SignedRequest::new().client_id(fixture::CLIENT_ID);
        matcher
            .reasons(&wiremock_request(request))
            .into_iter()
            .map(|c| c.id)
            .collect()
    }

    #[test]
    fn a_correct_request_matches() {
        let request = wiremock_request(&fixture::request());
        let matcher = SignedRequest::new().client_id(fixture::CLIENT_ID);
        assert!(matcher.matches(&request));
        let made: Vec<String> = matcher.check(&request).into_iter().map(|c| c.id).collect();
        let names = [
            "method",
            "path",
            "content-type",
            "charset",
            "client-id",
            "request-time",
            "request-time-skew",
            "signature",
            "signature-encoding",
            "body",
            "unknown-members",
        ];
        assert_eq!(made, names.map(|name| format!("request[1].{name}")));
    }

    #[test]
    fn each_refusal_of_the_gateway_is_a_reason() {
        let cases = [
            (
                fixture::with_header(fixture::request(), header::CLIENT_ID, Some("TEST_OTHER")),
                "request[1].client-id",
            ),
            (
                fixture::with_header(fixture::request(), header::SIGNATURE, None),
                "request[1].signature",
            ),
            (
                fixture::signed("/ams/api/v1/payments/pay", fixture::CLIENT_ID, b"{}"),
                "request[1].path",
            ),
            (
                fixture::signed(endpoint::PATH, fixture::CLIENT_ID, br#"{"paymentId":1}"#),
                "request[1].body",
            ),
        ];
        for (request, reason) in cases {
            let expected = Expected {
                client_id: fixture::CLIENT_ID,
                instructed: None,
                local_validation: false,
            };
            let checks =
                request::check_request(&request, 1, &expected, &fixture::merchant_public());
            assert!(refusal::decide(&request, &checks).is_some(), "{reason}");
            assert!(
                reason_ids(&request).contains(&reason.to_owned()),
                "{reason}"
            );
        }
    }

    #[test]
    fn another_method_does_not_match() {
        let mut request = fixture::request();
        request.method = "PUT".into();
        assert_eq!(reason_ids(&request), ["request[1].method"]);
    }

    #[test]
    fn a_should_failure_still_matches() {
        let request = fixture::with_header(
            fixture::request(),
            header::CONTENT_TYPE,
            Some("application/json"),
        );
        let matcher = SignedRequest::new().client_id(fixture::CLIENT_ID);
        let checks = matcher.check(&wiremock_request(&request));
        let charset = checks
            .iter()
            .find(|c| c.id == "request[1].charset")
            .unwrap();
        assert_eq!((charset.held, charset.level), (false, Level::Should));
        assert!(matcher.matches(&wiremock_request(&request)));
    }

    #[test]
    fn another_merchant_key_does_not_match() {
        let other = crate::contract::request::fixture::keys()
            .vendor
            .verifying_key();
        let matcher = SignedRequest::new()
            .client_id(fixture::CLIENT_ID)
            .merchant_key(other);
        let reasons = matcher.reasons(&wiremock_request(&fixture::request()));
        assert_eq!(reasons.len(), 1);
        assert_eq!(reasons[0].id, "request[1].signature");
    }
}
