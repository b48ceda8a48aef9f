//! A minimal Rust client of Alipay's (Antom's) cancel API, `POST /ams/api/v1/payments/cancel`,
//! and how to test one against the kit's wiremock mocks (`alipay_cancel_kit::mock`).
//!
//! The client signs its request (RSA256 over `POST <path>\n<client id>.<request time>.<body>`
//! with the merchant's key), sends it over HTTP/1.1 (hyper), and concludes SUCCESS, FAILED or
//! UNKNOWN from the answer by the contract's outcome rules (`docs/contract.md#outcome-rules`):
//! an answer is believed only when its `signature` verifies with the vendor's public key (an
//! unsigned `F` is the one exception), and anything not believed leaves the result UNKNOWN.
//! It never calls again by itself, which the contract allows (UNKNOWN is always accepted where
//! calling again is).
//!
//! `cargo run --example cancel_client` plays three rows of the result-code table on a fresh
//! `MockServer` and prints what the client concludes; `tests/it/mock.rs` runs it against all
//! seventeen rows and the broken signatures of the catalogue.

use std::net::SocketAddr;
use std::time::Duration;

use alipay_cancel_kit::signature::{self, SignatureHeader, SigningKey, VerifyingKey};
use alipay_cancel_kit::spec::endpoint::{self, header};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value};

/// What the client concludes from one cancel call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Conclusion {
    /// A correctly signed `S`: the payment is cancelled.
    Success {
        /// `paymentId` as served.
        payment_id: Option<String>,
        /// `paymentRequestId` as served.
        payment_request_id: Option<String>,
        /// `cancelTime` as served (RFC 3339 text, kept whole so no fraction digit is lost).
        cancel_time: String,
    },
    /// A correctly signed `F`, or an unsigned one: the cancel was refused.
    Failed {
        /// The `resultCode` as served.
        result_code: String,
    },
    /// Anything else: the client cannot tell whether the payment was cancelled.
    Unknown {
        /// Why, for the log.
        why: String,
    },
}

/// One merchant's cancel client.
pub struct CancelClient {
    /// The gateway's address (a `MockServer`'s in tests; loopback only here).
    pub gateway: SocketAddr,
    /// The merchant's client id, sent as `client-id`.
    pub client_id: String,
    /// Signs requests.
    pub merchant_key: SigningKey,
    /// Verifies answers.
    pub vendor_public: VerifyingKey,
    /// How long to wait for one answer.
    pub timeout: Duration,
}

/// An answer as it came off the wire.
struct Received {
    status: u16,
    headers: hyper::HeaderMap,
    body: Bytes,
}

impl CancelClient {
    /// Cancels the payment named by `ids` (body members, e.g. `paymentRequestId`) and says
    /// what became of it.
    pub async fn cancel(&self, ids: &Map<String, Value>) -> Conclusion {
        let body = Value::Object(ids.clone()).to_string().into_bytes();
        let path = endpoint::path_for(&self.client_id);
        let time = chrono::Utc::now().timestamp_millis().to_string();
        let signed = signature::sign(&self.merchant_key, path, &self.client_id, &time, &body);
        let request = hyper::Request::post(path)
            .header("host", self.gateway.to_string())
            .header(header::CONTENT_TYPE, "application/json; charset=UTF-8")
            .header(header::CLIENT_ID, &self.client_id)
            .header(header::REQUEST_TIME, &time)
            .header(header::SIGNATURE, signature::header_value("1", &signed))
            .body(Full::new(Bytes::from(body)));
        let request = match request {
            Ok(request) => request,
            Err(e) => return unknown(format!("building the request: {e}")),
        };
        match tokio::time::timeout(self.timeout, send(self.gateway, request)).await {
            Ok(Ok(received)) => self.conclude(path, &received),
            Ok(Err(why)) => unknown(why),
            Err(_) => unknown(format!("no answer within {:?}", self.timeout)),
        }
    }

    /// The outcome rules: what the answer lets the client believe.
    fn conclude(&self, path: &str, answer: &Received) -> Conclusion {
        if answer.status != 200 {
            return unknown(format!("HTTP {}", answer.status));
        }
        let Ok(json) = serde_json::from_slice::<Value>(&answer.body) else {
            return unknown("the body is not JSON".into());
        };
        let text = |pointer: &str| json.pointer(pointer).and_then(Value::as_str);
        let status = text("/result/resultStatus");
        let code = text("/result/resultCode").unwrap_or_default().to_owned();
        let header = |name: &str| {
            answer
                .headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        match (header(header::SIGNATURE), header(header::RESPONSE_TIME)) {
            // The gateway cannot sign a refusal of a request it could not authenticate: an
            // unsigned F (or U) may be believed, an unsigned S never.
            (None, None) => {
                return match status {
                    Some("F") => Conclusion::Failed { result_code: code },
                    _ => unknown(format!("an unsigned answer with resultStatus {status:?}")),
                }
            }
            (Some(value), Some(time)) => {
                if header(header::CLIENT_ID).as_deref() != Some(self.client_id.as_str()) {
                    return unknown("the answer is for another client id".into());
                }
                if let Err(why) = self.verify(path, &time, &value, &answer.body) {
                    return unknown(format!("the signature does not verify: {why}"));
                }
            }
            _ => return unknown("only one of signature and response-time".into()),
        }
        match status {
            Some("S") => match text("/cancelTime") {
                Some(cancel_time) => Conclusion::Success {
                    payment_id: text("/paymentId").map(str::to_owned),
                    payment_request_id: text("/paymentRequestId").map(str::to_owned),
                    cancel_time: cancel_time.to_owned(),
                },
                None => unknown("an S without cancelTime".into()),
            },
            Some("F") => Conclusion::Failed { result_code: code },
            Some("U") => unknown(format!("U, {code}: call again with the same ids")),
            _ => unknown("no resultStatus S, F or U".into()),
        }
    }

    /// Verifies the answer's `signature` header over the request's path and client id.
    fn verify(&self, path: &str, time: &str, value: &str, body: &[u8]) -> Result<(), String> {
        let parsed = SignatureHeader::parse(value).map_err(|e| e.to_string())?;
        if !parsed.is_rsa256() {
            return Err(format!("algorithm {}", parsed.algorithm));
        }
        signature::verify(
            &self.vendor_public,
            path,
            &self.client_id,
            time,
            body,
            &parsed.signature,
        )
        .map_err(|e| e.to_string())
    }
}

fn unknown(why: String) -> Conclusion {
    Conclusion::Unknown { why }
}

/// One HTTP/1.1 exchange on a fresh connection.
async fn send(
    gateway: SocketAddr,
    request: hyper::Request<Full<Bytes>>,
) -> Result<Received, String> {
    let stream = tokio::net::TcpStream::connect(gateway)
        .await
        .map_err(|e| format!("connecting to {gateway}: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP handshake: {e}"))?;
    tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("no response: {e}"))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading the body: {e}"))?
        .to_bytes();
    Ok(Received {
        status,
        headers,
        body,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use alipay_cancel_kit::mock::{self, Reply, SignedRequest};
    use wiremock::{Mock, MockServer};

    let server = MockServer::start().await;
    let client = CancelClient {
        gateway: *server.address(),
        client_id: "TEST_5YBZ1".into(),
        merchant_key: mock::keys::merchant().clone(),
        vendor_public: mock::keys::vendor_public(),
        timeout: Duration::from_secs(5),
    };
    let mut ids = Map::new();
    ids.insert("paymentRequestId".into(), "pay_1".into());
    for code in ["SUCCESS", "ORDER_NOT_EXIST", "UNKNOWN_EXCEPTION"] {
        server.reset().await;
        Mock::given(SignedRequest::new())
            .respond_with(Reply::result_code(code)?)
            .expect(1)
            .mount(&server)
            .await;
        println!("{code}: {:?}", client.cancel(&ids).await);
        server.verify().await;
    }
    Ok(())
}
