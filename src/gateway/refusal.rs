//! The real gateway's refusals (`docs/contract.md#the-gateways-refusals`): which failed request
//! check makes it refuse a request, and with which code, in the contract's order.

use super::answer::Served;
use crate::contract::{Check, CheckId, RecordedRequest};
use crate::spec::endpoint::{self, header};

/// Decides, from a request's checks, whether the real gateway would refuse it, and how;
/// `None` means serve the script. The checks are computed once, when the request arrives,
/// and serve both this decision and the verdict.
pub fn decide(req: &RecordedRequest, checks: &[Check]) -> Option<Served> {
    let failed = |wanted: CheckId| {
        checks
            .iter()
            .filter(|c| !c.held)
            .find(|c| CheckId::from_report_id(&c.id) == Some(wanted))
    };
    if failed(CheckId::ClientId).is_some() {
        let client_id = req
            .header(header::CLIENT_ID)
            .map_or("absent".into(), |v| format!("`{v}`"));
        return Some(Served::unauthenticated(
            "CLIENT_INVALID",
            format!("Client-Id {client_id} is not the merchant's"),
        ));
    }
    if let Some(signature) = failed(CheckId::Signature) {
        return Some(Served::unauthenticated(
            "INVALID_SIGNATURE",
            signature.message.clone(),
        ));
    }
    if !endpoint::is_cancel_path(&req.path) {
        return Some(Served::refused(
            "NO_INTERFACE_DEF",
            format!("no API at `{}`", req.path),
        ));
    }
    failed(CheckId::Body)
        .map(|body| Served::refused("PARAM_ILLEGAL", body.seen.clone().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::request::fixture::{self, merchant_public, CLIENT_ID};
    use crate::contract::request::{check_request, Expected};
    use crate::protocol::OutcomeKind::{Failed, Unknown};
    use crate::scenario::Signing;

    /// The gateway's decision on `req`, checked as a scenario with `client_id` checks it.
    fn decided(req: &RecordedRequest, client_id: &str) -> Option<Served> {
        let expected = Expected {
            client_id,
            instructed: None,
            local_validation: false,
        };
        decide(req, &check_request(req, 1, &expected, &merchant_public()))
    }

    /// The refusal's code, message, signing and accepted outcomes.
    fn refusal(served: &Served) -> (&str, &str, Signing, &[crate::protocol::OutcomeKind]) {
        let body = served.answer.body.as_ref().expect("a refusal has a body");
        let code = body.pointer("/result/resultCode").and_then(|v| v.as_str());
        let message = body
            .pointer("/result/resultMessage")
            .and_then(|v| v.as_str());
        assert_eq!(
            body.pointer("/result/resultStatus")
                .and_then(|v| v.as_str()),
            Some("F")
        );
        assert_eq!(served.script_index, None);
        (
            code.unwrap(),
            message.unwrap(),
            served.answer.signing,
            &served.answer.accept,
        )
    }

    #[test]
    fn a_correct_request_is_served_the_script() {
        assert_eq!(decided(&fixture::request(), CLIENT_ID), None);
    }

    #[test]
    fn another_client_id_is_an_unsigned_client_invalid() {
        let served = decided(&fixture::request(), "TEST_OTHER").expect("refused");
        let (code, message, signing, accept) = refusal(&served);
        assert_eq!(code, "CLIENT_INVALID");
        assert_eq!(
            message,
            format!("Client-Id `{CLIENT_ID}` is not the merchant's")
        );
        assert_eq!(
            (signing, accept),
            (Signing::Unsigned, &[Failed, Unknown][..])
        );
    }

    #[test]
    fn an_absent_client_id_is_an_unsigned_client_invalid() {
        let req = fixture::with_header(fixture::request(), header::CLIENT_ID, None);
        let served = decided(&req, CLIENT_ID).expect("refused");
        let (code, message, signing, _) = refusal(&served);
        assert_eq!(code, "CLIENT_INVALID");
        assert_eq!(message, "Client-Id absent is not the merchant's");
        assert_eq!(signing, Signing::Unsigned);
    }

    /// The contract's order: client id, then signature, then path, then body; a request that
    /// breaks several is refused for the first.
    #[test]
    fn the_signature_is_refused_before_the_path_and_the_path_before_the_body() {
        let mut req = fixture::signed("/ams/api/v1/payments/pay", CLIENT_ID, b"{}");
        assert_eq!(
            refusal(&decided(&req, CLIENT_ID).unwrap()).0,
            "NO_INTERFACE_DEF"
        );
        req.body = br#"{"paymentId":20}"#.to_vec();
        assert_eq!(
            refusal(&decided(&req, CLIENT_ID).unwrap()).0,
            "INVALID_SIGNATURE"
        );
    }

    #[test]
    fn a_signature_that_does_not_verify_is_an_unsigned_invalid_signature() {
        let mut req = fixture::request();
        req.body = br#"{"paymentRequestId":"pay_2"}"#.to_vec();
        let served = decided(&req, CLIENT_ID).expect("refused");
        let (code, message, signing, accept) = refusal(&served);
        assert_eq!(code, "INVALID_SIGNATURE");
        assert!(
            message.starts_with("the signature must verify"),
            "{message}"
        );
        assert_eq!(
            (signing, accept),
            (Signing::Unsigned, &[Failed, Unknown][..])
        );
    }

    #[test]
    fn the_client_id_is_refused_before_the_signature() {
        let mut req = fixture::request();
        req.body = b"{}".to_vec();
        let served = decided(&req, "TEST_OTHER").expect("refused");
        assert_eq!(refusal(&served).0, "CLIENT_INVALID");
    }

    #[test]
    fn another_path_is_a_signed_no_interface_def() {
        let req = fixture::signed(
            "/ams/api/v1/payments/pay",
            CLIENT_ID,
            b"{\"paymentId\":\"1\"}",
        );
        let served = decided(&req, CLIENT_ID).expect("refused");
        let (code, message, signing, accept) = refusal(&served);
        assert_eq!(code, "NO_INTERFACE_DEF");
        assert_eq!(message, "no API at `/ams/api/v1/payments/pay`");
        assert_eq!((signing, accept), (Signing::Signed, &[Failed][..]));
    }

    #[test]
    fn a_body_that_breaks_check_6_is_a_signed_param_illegal_listing_the_violations() {
        let req = fixture::signed(endpoint::PATH, CLIENT_ID, br#"{"paymentId":20}"#);
        let served = decided(&req, CLIENT_ID).expect("refused");
        let (code, message, signing, accept) = refusal(&served);
        assert_eq!(code, "PARAM_ILLEGAL");
        assert!(message.contains("/paymentId"), "{message}");
        assert_eq!((signing, accept), (Signing::Signed, &[Failed][..]));
        assert!(served
            .note
            .as_deref()
            .unwrap()
            .starts_with("gateway refused the request (PARAM_ILLEGAL)"));
    }

    #[test]
    fn a_sandbox_client_on_the_ordinary_path_is_served() {
        let req = fixture::signed(endpoint::PATH, "SANDBOX_5YBZ1", br#"{"paymentId":"1"}"#);
        assert_eq!(decided(&req, "SANDBOX_5YBZ1"), None);
    }
}
