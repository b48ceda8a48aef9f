//! The public wiremock mocks (`alipay_cancel_kit::mock`) on a fresh `MockServer`, driving the
//! worked example client (`examples/cancel_client.rs`): every row of the result-code table,
//! the catalogue's signature and response scenarios, and a request the gateway would refuse.

#[path = "../../examples/cancel_client.rs"]
#[allow(dead_code)] // its `main` is for `cargo run --example cancel_client`
mod cancel_client;

use std::time::Duration;

use alipay_cancel_kit::mock::{self, MockError, Refusal, Reply, SignedRequest};
use alipay_cancel_kit::protocol::OutcomeKind;
use alipay_cancel_kit::scenario::{Scenario, Signing};
use alipay_cancel_kit::signature::SigningKey;
use alipay_cancel_kit::spec::{result_code_table, ResultStatus};
use cancel_client::{CancelClient, Conclusion};
use serde_json::Value;
use wiremock::{Mock, MockServer};

use crate::common::catalogue;

/// The example client against `server`, with the committed test keys. The timeout is generous:
/// no answer here is delayed, and a loaded CI machine must not turn a SUCCESS into UNKNOWN.
fn client(server: &MockServer, merchant_key: &SigningKey) -> CancelClient {
    CancelClient {
        gateway: *server.address(),
        client_id: "TEST_5YBZ1".into(),
        merchant_key: merchant_key.clone(),
        vendor_public: mock::keys::vendor_public(),
        timeout: Duration::from_secs(30),
    }
}

/// The outcome kind the contract's tables speak of.
fn kind(conclusion: &Conclusion) -> OutcomeKind {
    match conclusion {
        Conclusion::Success { .. } => OutcomeKind::Success,
        Conclusion::Failed { .. } => OutcomeKind::Failed,
        Conclusion::Unknown { .. } => OutcomeKind::Unknown,
    }
}

/// Mounts `reply` behind the signature-checking matcher on a reset `server`, lets the client
/// cancel the payment `scenario` names, checks exactly one request matched, and returns the
/// conclusion with the outcomes the contract accepts after that answer.
async fn play(
    server: &MockServer,
    reply: Reply,
    scenario: &Scenario,
) -> (Conclusion, Vec<OutcomeKind>) {
    server.reset().await;
    let accept = reply.answers()[0].accept.clone();
    Mock::given(SignedRequest::new())
        .respond_with(reply)
        .expect(1)
        .named(scenario.id.as_str())
        .mount(server)
        .await;
    let conclusion = client(server, mock::keys::merchant())
        .cancel(&scenario.request)
        .await;
    server.verify().await;
    (conclusion, accept)
}

/// The served body of a scenario's first answer.
fn served(scenario: &Scenario) -> &Value {
    scenario.answers[0].body.as_ref().expect("a JSON body")
}

#[tokio::test]
async fn the_client_concludes_what_the_contract_demands_for_every_row_of_the_table() {
    // Arrange
    let server = MockServer::start().await;
    let table = result_code_table();
    assert_eq!(table.len(), 17);
    for row in table {
        let code = row.result_code.as_str();
        let scenario = catalogue().get(&format!("result/{code}")).unwrap();
        // Act
        let (conclusion, accept) = play(&server, Reply::result_code(code).unwrap(), scenario).await;
        // Assert: S, F and U, each signed, as docs/contract.md#outcome-rules maps them.
        let expected = match row.result_status {
            ResultStatus::S => Conclusion::Success {
                payment_id: served(scenario)["paymentId"].as_str().map(Into::into),
                payment_request_id: served(scenario)["paymentRequestId"]
                    .as_str()
                    .map(Into::into),
                cancel_time: served(scenario)["cancelTime"].as_str().unwrap().into(),
            },
            ResultStatus::F => Conclusion::Failed {
                result_code: code.into(),
            },
            ResultStatus::U => match &conclusion {
                Conclusion::Unknown { why } if why.starts_with(&format!("U, {code}")) => {
                    conclusion.clone()
                }
                other => panic!("{code}: expected UNKNOWN for a signed U, got {other:?}"),
            },
        };
        assert_eq!(conclusion, expected, "{code}");
        assert!(accept.contains(&kind(&conclusion)), "{code}: {accept:?}");
    }
}

#[tokio::test]
async fn an_answer_whose_signature_cannot_be_believed_is_unknown() {
    let server = MockServer::start().await;
    let success = catalogue().get("result/SUCCESS").unwrap();
    let broken = [
        Signing::Unsigned,
        Signing::EmptySignature,
        Signing::Tampered,
        Signing::OtherKey,
        Signing::NoResponseTime,
        Signing::EmptyResponseTime,
        Signing::RawBase64Tampered,
        Signing::ForeignClientId,
    ];
    for signing in broken {
        let reply = Reply::result_code("SUCCESS").unwrap().signing(signing);
        let (conclusion, accept) = play(&server, reply, success).await;
        assert_eq!(kind(&conclusion), OutcomeKind::Unknown, "{signing:?}");
        assert!(accept.contains(&OutcomeKind::Unknown), "{signing:?}");
        assert!(!accept.contains(&OutcomeKind::Success) || signing == Signing::ForeignClientId);
    }
    // An unsigned F may be believed: the gateway cannot sign a refusal of a request it could
    // not authenticate.
    let refused = catalogue().get("result/ORDER_NOT_EXIST").unwrap();
    let reply = Reply::result_code("ORDER_NOT_EXIST")
        .unwrap()
        .signing(Signing::Unsigned);
    let (conclusion, accept) = play(&server, reply, refused).await;
    assert_eq!(accept, [OutcomeKind::Failed, OutcomeKind::Unknown]);
    assert_eq!(
        conclusion,
        Conclusion::Failed {
            result_code: "ORDER_NOT_EXIST".into()
        }
    );
}

/// Every scenario of the catalogue that wiremock can play (all but the TLS ones and the two
/// faults below HTTP) and that instructs a valid request (all but `request/`, whose invalid
/// requests a client should refuse before sending) plays on the mocks, and the example client
/// concludes one of the outcomes the catalogue accepts after the answer it got. The client
/// never calls again, so that answer is the first.
#[tokio::test]
async fn every_playable_scenario_plays_and_the_client_concludes_what_the_catalogue_accepts() {
    let server = MockServer::start().await;
    let mut played = Vec::new();
    let mut unplayable = Vec::new();
    for scenario in catalogue().scenarios() {
        if scenario.id.starts_with("request/") || scenario.id.starts_with("result/") {
            continue; // `request/`: see above; `result/`: the table's own test
        }
        let reply = match Reply::scenario(&scenario.id) {
            Ok(reply) => reply,
            Err(MockError::Unplayable { id, .. }) => {
                unplayable.push(id);
                continue;
            }
            Err(e) => panic!("{e}"),
        };
        assert_eq!(reply.answers(), scenario.answers);
        let (conclusion, accept) = play(&server, reply, scenario).await;
        assert!(
            accept.contains(&kind(&conclusion)),
            "{}: {conclusion:?} not in {accept:?}",
            scenario.id
        );
        if let Conclusion::Success { payment_id, .. } = &conclusion {
            assert_eq!(
                payment_id.as_deref(),
                served(scenario)["paymentId"].as_str()
            );
        }
        played.push(scenario.id.clone());
    }
    assert_eq!(
        unplayable,
        [
            "fault/connection-closed",
            "fault/truncated-json",
            "tls/trusted-certificate",
            "tls/untrusted-certificate",
            "tls/wrong-hostname"
        ]
    );
    assert_eq!(played.len(), 38, "{played:?}");
}

#[tokio::test]
async fn a_request_signed_with_another_key_does_not_match_and_the_matcher_says_why() {
    // Arrange: the client signs with a key that is not the merchant's.
    let server = MockServer::start().await;
    Mock::given(SignedRequest::new())
        .respond_with(Reply::result_code("SUCCESS").unwrap())
        .expect(0)
        .mount(&server)
        .await;
    let wrong_key = &mock::keys::all().other_vendor;
    let scenario = catalogue().get("result/SUCCESS").unwrap();

    // Act
    let conclusion = client(&server, wrong_key).cancel(&scenario.request).await;

    // Assert: wiremock's 404 for an unmatched request, which the client cannot believe...
    assert_eq!(
        conclusion,
        Conclusion::Unknown {
            why: "HTTP 404".into()
        }
    );
    // ...and the matcher's one reason, quoting what should have been signed.
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let reasons = SignedRequest::new().reasons(&received[0]);
    assert_eq!(reasons.len(), 1, "{reasons:#?}");
    let reason = &reasons[0];
    assert_eq!(reason.id, "request[1].signature");
    assert_eq!(reason.rule, "docs/contract.md#request-checks 5");
    assert_eq!(
        reason.message,
        "the signature must verify with the merchant public key: signature does not verify over the expected string to sign"
    );
    let time = received[0].headers["request-time"].to_str().unwrap();
    let body = String::from_utf8(received[0].body.clone()).unwrap();
    assert_eq!(
        reason.values["stringToSign"],
        format!("POST /ams/api/v1/payments/cancel\nTEST_5YBZ1.{time}.{body}")
    );
    // The same request, checked against the key it was signed with, has no reason left.
    let its_own_key = SignedRequest::new().merchant_key(wrong_key.verifying_key());
    assert_eq!(its_own_key.reasons(&received[0]), vec![]);
    server.verify().await;
}

#[test]
fn what_the_mocks_cannot_play_is_a_typed_error_that_says_why() {
    let err = |r: Result<Reply, MockError>| r.unwrap_err().to_string();
    insta::assert_snapshot!(
        err(Reply::scenario("result/NOPE")),
        @"scenario `result/NOPE`: no such scenario in the embedded catalogue"
    );
    insta::assert_snapshot!(
        err(Reply::result_code("NOPE")),
        @"result code `NOPE`: not a row of schema/result-codes.json (the catalogue's `response/unknown-code-f` and `-u` play unknown codes)"
    );
    insta::assert_snapshot!(
        err(Reply::scenario("fault/connection-closed")),
        @"scenario `fault/connection-closed`: needs a fault below HTTP, which a wiremock answer cannot give (`alipay-cancel-kit run` or `serve` plays it)"
    );
    insta::assert_snapshot!(
        err(Reply::scenario("tls/trusted-certificate")),
        @"scenario `tls/trusted-certificate`: needs a TLS listener, which a wiremock answer cannot give (`alipay-cancel-kit run` or `serve` plays it)"
    );
}

/// With [`Refusal`] mounted below the matcher, a request the gateway refuses gets the real
/// gateway's refusal instead of wiremock's 404, and the client concludes what the contract
/// accepts after it.
#[tokio::test]
async fn below_the_matcher_the_refusals_answer_as_the_real_gateway_refuses() {
    // Arrange
    let server = MockServer::start().await;
    Mock::given(SignedRequest::new())
        .respond_with(Reply::result_code("SUCCESS").unwrap())
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(Refusal::new(SignedRequest::new()))
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    let scenario = catalogue().get("result/SUCCESS").unwrap();
    let wrong_key = client(&server, &mock::keys::all().other_vendor);
    let mut foreign = client(&server, mock::keys::merchant());
    foreign.client_id = "TEST_OTHER".into();
    let mut bad_body = scenario.request.clone();
    bad_body.insert("paymentId".into(), "x".repeat(65).into());

    // Act
    let wrongly_signed = wrong_key.cancel(&scenario.request).await;
    let from_another_merchant = foreign.cancel(&scenario.request).await;
    let too_long_an_id = client(&server, mock::keys::merchant())
        .cancel(&bad_body)
        .await;
    let correct = client(&server, mock::keys::merchant())
        .cancel(&scenario.request)
        .await;

    // Assert: unsigned F refusals may be believed (FAILED or UNKNOWN accepted), this client
    // believes them; the signed PARAM_ILLEGAL is definitive.
    let failed = |code: &str| Conclusion::Failed {
        result_code: code.into(),
    };
    assert_eq!(wrongly_signed, failed("INVALID_SIGNATURE"));
    assert_eq!(from_another_merchant, failed("CLIENT_INVALID"));
    assert_eq!(too_long_an_id, failed("PARAM_ILLEGAL"));
    assert_eq!(kind(&correct), OutcomeKind::Success);
}
