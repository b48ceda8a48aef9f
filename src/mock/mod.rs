//! The gateway as wiremock mocks, for Rust client authors: mount the kit's request rules and
//! its signed answers on your own [`wiremock::MockServer`].
//!
//! - [`SignedRequest`]: a [`wiremock::Match`] that accepts a cancel request only when every
//!   MUST request check of the contract holds (`docs/contract.md#request-checks`): `POST`, the
//!   cancel path, a JSON body by the request schema, the client id, a `request-time`, and an
//!   RSA256 signature by the merchant's key over the bytes sent. [`SignedRequest::reasons`]
//!   says why a request did not match, in the kit's own words.
//! - [`Reply`]: a [`wiremock::Respond`] that plays a row of the result-code table
//!   ([`Reply::result_code`]) or any scenario of the catalogue ([`Reply::scenario`]), signed
//!   with the vendor's test key the way the gateway signs, or with the signature broken the
//!   way [`Reply::signing`] says.
//! - [`Refusal`]: a [`wiremock::Respond`] to mount below them for every other request: the
//!   real gateway's refusal (an unsigned `INVALID_SIGNATURE`, a signed `PARAM_ILLEGAL`, ...).
//! - [`keys`]: the committed TEST-ONLY keys: the merchant's private key (your client signs with
//!   it) and the vendor's public key (your client verifies answers with it).
//!
//! The checks and the signing are the kit's own ([`crate::contract::request`],
//! [`crate::gateway::answer::render`]): a client that passes these mocks meets the same rules
//! as under `alipay-cancel-kit run`. `docs/mock.md` walks through a whole client.
//!
//! # Example
//! ```
//! use alipay_cancel_kit::mock::{self, Reply, SignedRequest};
//! use alipay_cancel_kit::signature;
//! use alipay_cancel_kit::spec::endpoint;
//! use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
//! use wiremock::{Mock, MockServer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = MockServer::start().await;
//! Mock::given(SignedRequest::new())
//!     .respond_with(Reply::result_code("ORDER_NOT_EXIST")?)
//!     .expect(1)
//!     .mount(&server)
//!     .await;
//!
//! // What your client does: sign `POST <path>\n<client id>.<request time>.<body>` and send it.
//! let body = r#"{"paymentRequestId":"pay_1"}"#;
//! let time = chrono::Utc::now().timestamp_millis().to_string();
//! let value = signature::sign(mock::keys::merchant(), endpoint::PATH, "TEST_5YBZ1", &time, body.as_bytes());
//! let mut stream = tokio::net::TcpStream::connect(server.address()).await?;
//! stream.write_all(format!(
//!     "POST {} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json; charset=UTF-8\r\n\
//!      client-id: TEST_5YBZ1\r\nrequest-time: {time}\r\nsignature: {}\r\n\
//!      content-length: {}\r\nconnection: close\r\n\r\n{body}",
//!     endpoint::PATH, signature::header_value("1", &value), body.len(),
//! ).as_bytes()).await?;
//! let mut answer = String::new();
//! stream.read_to_string(&mut answer).await?;
//! assert!(answer.starts_with("HTTP/1.1 200"));
//! assert!(answer.contains("signature: algorithm=RSA256,keyVersion=1,signature="));
//! assert!(answer.contains(r#"{"result":{"resultCode":"ORDER_NOT_EXIST","resultStatus":"F""#));
//!
//! // The same request with another body under the same signature does not match, and says why.
//! let mut tampered = server.received_requests().await.unwrap().remove(0);
//! tampered.body = br#"{"paymentRequestId":"pay_2"}"#.to_vec();
//! let reasons = SignedRequest::new().reasons(&tampered);
//! assert_eq!(reasons.len(), 1);
//! assert_eq!(reasons[0].id, "request[1].signature");
//! assert!(reasons[0].values["stringToSign"].ends_with(r#"{"paymentRequestId":"pay_2"}"#));
//! # Ok(())
//! # }
//! ```

pub mod keys;
mod refusal;
mod reply;
mod signed_request;

use std::fmt;
use std::time::Duration;

pub use refusal::Refusal;
pub use reply::Reply;
pub use signed_request::SignedRequest;

use crate::contract::RecordedRequest;
use crate::gateway::{GatewayKeys, HttpAnswer};

/// A [`Reply`] the kit cannot build.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MockError {
    /// No scenario of the embedded catalogue has this id.
    UnknownScenario {
        /// The id asked for.
        id: String,
    },
    /// The result-code table (`schema/result-codes.json`) has no row with this code.
    UnknownResultCode {
        /// The code asked for.
        code: String,
    },
    /// The scenario needs more than an HTTP answer: a TLS listener, or a fault below HTTP (a
    /// connection closed early, a body cut short), which wiremock cannot produce.
    /// `alipay-cancel-kit run` and `serve` play these.
    Unplayable {
        /// The scenario's id.
        id: String,
        /// What it needs.
        needs: &'static str,
    },
}

impl fmt::Display for MockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MockError::UnknownScenario { id } => {
                write!(
                    f,
                    "scenario `{id}`: no such scenario in the embedded catalogue"
                )
            }
            MockError::UnknownResultCode { code } => write!(
                f,
                "result code `{code}`: not a row of schema/result-codes.json \
                 (the catalogue's `response/unknown-code-f` and `-u` play unknown codes)"
            ),
            MockError::Unplayable { id, needs } => write!(
                f,
                "scenario `{id}`: needs {needs}, which a wiremock answer cannot give \
                 (`alipay-cancel-kit run` or `serve` plays it)"
            ),
        }
    }
}

impl std::error::Error for MockError {}

/// A request as wiremock parsed it, recorded as the kit's checks read it.
fn recorded(request: &wiremock::Request) -> RecordedRequest {
    RecordedRequest {
        method: request.method.as_str().to_owned(),
        path: request.url.path().to_owned(),
        query: request.url.query().map(str::to_owned),
        headers: request
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: request.body.clone(),
        received_at: chrono::Utc::now(),
    }
}

/// The gateway's keys: the committed test-only ones.
fn gateway_keys() -> GatewayKeys {
    GatewayKeys {
        merchant_public: keys::merchant().verifying_key(),
        vendor: keys::all().vendor.clone(),
        other: keys::all().other_vendor.clone(),
    }
}

/// An answer the gateway rendered, as wiremock sends it.
fn template(http: HttpAnswer) -> wiremock::ResponseTemplate {
    let mut template = wiremock::ResponseTemplate::new(http.status);
    for (name, value) in &http.headers {
        template = template.append_header(name.as_str(), value.as_str());
    }
    template = template.set_body_bytes(http.body);
    if http.delay > Duration::ZERO {
        template = template.set_delay(http.delay);
    }
    template
}
