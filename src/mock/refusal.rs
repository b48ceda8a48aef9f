//! [`Refusal`], the fallback responder: what the real gateway answers a request
//! [`SignedRequest`] turns away.

use wiremock::ResponseTemplate;

use super::{gateway_keys, recorded, template, SignedRequest};
use crate::gateway::answer;
use crate::gateway::refusal;
use crate::gateway::GatewayKeys;

/// A [`wiremock::Respond`] for the requests a [`SignedRequest`] does not match, mounted below
/// it (`with_priority(u8::MAX)` on [`wiremock::matchers::any`]): the real gateway's refusal,
/// decided by the kit's own rules (`docs/contract.md#the-gateways-refusals`), in order:
/// another client id is an **unsigned** `F` `CLIENT_INVALID`; a signature that is absent or
/// does not verify, an unsigned `F` `INVALID_SIGNATURE`; another path, a signed `F`
/// `NO_INTERFACE_DEF`; a body that breaks the request schema, a signed `F` `PARAM_ILLEGAL`.
///
/// A request the gateway would serve but the matcher does not accept (another method, no
/// JSON `content-type`, no `request-time`) gets HTTP 400, unsigned, its body the failed checks
/// one a line: no usable answer, from which a correct client concludes `UNKNOWN`.
///
/// # Example
/// ```
/// use alipay_cancel_kit::mock::{Refusal, Reply, SignedRequest};
/// use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
/// use wiremock::{matchers::any, Mock, MockServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = MockServer::start().await;
/// Mock::given(SignedRequest::new())
///     .respond_with(Reply::result_code("SUCCESS")?)
///     .mount(&server)
///     .await;
/// Mock::given(any())
///     .respond_with(Refusal::new(SignedRequest::new()))
///     .with_priority(u8::MAX)
///     .mount(&server)
///     .await;
///
/// // A request without a signature.
/// let body = r#"{"paymentId":"p1"}"#;
/// let mut stream = tokio::net::TcpStream::connect(server.address()).await?;
/// stream.write_all(format!(
///     "POST /ams/api/v1/payments/cancel HTTP/1.1\r\nhost: localhost\r\n\
///      content-type: application/json\r\nclient-id: TEST_5YBZ1\r\nrequest-time: 1\r\n\
///      content-length: {}\r\nconnection: close\r\n\r\n{body}",
///     body.len(),
/// ).as_bytes()).await?;
/// let mut answer = String::new();
/// stream.read_to_string(&mut answer).await?;
/// // The real gateway's answer: an F it cannot sign, for it cannot authenticate the caller.
/// assert!(answer.starts_with("HTTP/1.1 200"));
/// assert!(answer.contains(r#""resultCode":"INVALID_SIGNATURE","resultStatus":"F""#));
/// assert!(!answer.contains("response-time") && !answer.contains("signature:"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Refusal {
    matcher: SignedRequest,
    keys: GatewayKeys,
}

impl Refusal {
    /// The refusals for requests `matcher` turns away, the signed ones signed with the
    /// committed test-only vendor key.
    pub fn new(matcher: SignedRequest) -> Refusal {
        Refusal {
            matcher,
            keys: gateway_keys(),
        }
    }
}

impl std::fmt::Debug for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Refusal")
            .field("matcher", &self.matcher)
            .finish_non_exhaustive()
    }
}

impl wiremock::Respond for Refusal {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let checks = self.matcher.check(request);
        let request = recorded(request);
        match refusal::decide(&request, &checks) {
            Some(served) => template(answer::render(&served, &request, &self.keys)),
            None => {
                let failed: String = checks
                    .iter()
                    .filter(|c| !c.held && c.level == crate::contract::Level::Must)
                    .map(|c| format!("{}: {}\n", c.id, c.message))
                    .collect();
                ResponseTemplate::new(400)
                    .insert_header("content-type", "text/plain; charset=UTF-8")
                    .set_body_string(failed)
            }
        }
    }
}
