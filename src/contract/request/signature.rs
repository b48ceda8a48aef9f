//! Request check 5, `signature`: the `Signature` header parses, names `RSA256`, carries a
//! `keyVersion`, and verifies with the merchant's public key over the request as sent.

use super::RecordedRequest;
use crate::contract::check::{Check, CheckId, Failure};
use crate::signature::{self as scheme, SignatureHeader, VerifyingKey};
use crate::spec::endpoint::header;

/// `request[n].signature` (MUST).
pub fn signature(req: &RecordedRequest, n: usize, key: &VerifyingKey) -> Check {
    CheckId::Signature.judged_on(
        n,
        signature_finding(req, key).map(|()| "signature verifies over the raw body".into()),
    )
}

/// Checks the `Signature` header of a request; on failure says why, showing the exact
/// string that should have been signed.
pub fn signature_finding(req: &RecordedRequest, key: &VerifyingKey) -> Result<(), Failure> {
    let Some(raw) = req.header(header::SIGNATURE) else {
        return Err(Failure::new(
            "a Signature header must be sent",
            "algorithm=RSA256,keyVersion=1,signature=<URL-encoded base64>",
            "(absent)",
        ));
    };
    let parsed = SignatureHeader::parse(raw).map_err(|e| {
        Failure::new(
            format!("the Signature header must parse: {e}"),
            "algorithm=RSA256,keyVersion=<n>,signature=<URL-encoded base64>",
            raw,
        )
    })?;
    if parsed.algorithm != "RSA256" {
        return Err(Failure::new(
            "the Signature header must name algorithm=RSA256",
            "RSA256",
            &parsed.algorithm,
        ));
    }
    if parsed.key_version.is_none() {
        return Err(Failure::new(
            "the Signature header must carry a keyVersion",
            "keyVersion=1",
            raw,
        ));
    }
    let client_id = req.header(header::CLIENT_ID).unwrap_or_default();
    let time = req.header(header::REQUEST_TIME).unwrap_or_default();
    scheme::verify(
        key,
        &req.path,
        client_id,
        time,
        &req.body,
        &parsed.signature,
    )
    .map_err(|e| {
        let expected = scheme::string_to_sign(&req.path, client_id, time, &req.body);
        Failure::new(
            format!("the signature must verify with the merchant public key: {e}"),
            "a signature by the merchant key over stringToSign",
            raw,
        )
        .with("stringToSign", String::from_utf8_lossy(&expected))
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, merchant_public, with_header};
    use super::*;
    use crate::contract::Level;

    fn failed(req: &RecordedRequest) -> Check {
        let check = signature(req, 1, &merchant_public());
        assert_eq!(check.id, "request[1].signature");
        assert_eq!((check.level, check.held), (Level::Must, false), "{check:?}");
        assert_eq!(check.rule, "docs/contract.md#request-checks 5");
        check
    }

    #[test]
    fn a_correct_signature_holds() {
        assert!(signature(&fixture::request(), 1, &merchant_public()).held);
    }

    #[test]
    fn an_absent_header_fails() {
        let check = failed(&with_header(fixture::request(), header::SIGNATURE, None));
        assert_eq!(check.message, "a Signature header must be sent");
        assert_eq!(check.seen.as_deref(), Some("(absent)"));
    }

    #[test]
    fn a_header_that_does_not_parse_fails() {
        let check = failed(&with_header(
            fixture::request(),
            header::SIGNATURE,
            Some("nonsense"),
        ));
        assert!(
            check
                .message
                .starts_with("the Signature header must parse: "),
            "{}",
            check.message
        );
        assert_eq!(check.seen.as_deref(), Some("nonsense"));
    }

    #[test]
    fn another_algorithm_fails() {
        let check = failed(&with_header(
            fixture::request(),
            header::SIGNATURE,
            Some("algorithm=RSA,keyVersion=1,signature=abc"),
        ));
        assert_eq!(
            check.message,
            "the Signature header must name algorithm=RSA256"
        );
        assert_eq!(check.expected.as_deref(), Some("RSA256"));
        assert_eq!(check.seen.as_deref(), Some("RSA"));
    }

    #[test]
    fn no_key_version_fails() {
        let value = "algorithm=RSA256,signature=abc";
        let check = failed(&with_header(
            fixture::request(),
            header::SIGNATURE,
            Some(value),
        ));
        assert_eq!(
            check.message,
            "the Signature header must carry a keyVersion"
        );
        assert_eq!(check.seen.as_deref(), Some(value));
    }

    #[test]
    fn a_signature_over_other_bytes_fails_and_shows_the_string_to_sign() {
        let mut req = fixture::request();
        req.body = br#"{"paymentRequestId":"pay_2"}"#.to_vec();
        let check = failed(&req);
        assert!(
            check
                .message
                .starts_with("the signature must verify with the merchant public key"),
            "{}",
            check.message
        );
        let time = req.header(header::REQUEST_TIME).unwrap();
        let expected = format!(
            "POST /ams/api/v1/payments/cancel\n{}.{time}.{{\"paymentRequestId\":\"pay_2\"}}",
            fixture::CLIENT_ID
        );
        assert_eq!(check.values["stringToSign"], expected);
        assert_eq!(
            check.expected.as_deref(),
            Some("a signature by the merchant key over stringToSign")
        );
    }
}
