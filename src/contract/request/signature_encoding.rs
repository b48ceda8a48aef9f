//! Request check 5, `signature-encoding` (SHOULD): the `signature` value of the `Signature`
//! header is URL-encoded, not raw base64. Every official SDK percent-encodes it; a gateway
//! that form-decodes the value reads each bare `+` as a space, and the signature then fails.

use super::RecordedRequest;
use crate::contract::check::{Check, CheckId, Failure};
use crate::signature::{self as scheme, SignatureHeader};
use crate::spec::endpoint::header;

/// `request[n].signature-encoding` (SHOULD); `None` when there is no `signature` value to
/// judge (no header, or one that does not parse: `request[n].signature` fails for that).
pub fn signature_encoding(req: &RecordedRequest, n: usize) -> Option<Check> {
    let parsed = SignatureHeader::parse(req.header(header::SIGNATURE)?).ok()?;
    Some(CheckId::SignatureEncoding.judged_on(
        n,
        if parsed.is_url_encoded() {
            Ok("the signature value is URL-encoded".into())
        } else {
            let bare: String = ['+', '/', '=']
                .into_iter()
                .filter(|c| parsed.signature.contains(*c))
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ");
            Err(Failure::new(
                format!(
                    "the signature value should be URL-encoded, but it carries a bare {bare} (raw base64): every official SDK URL-encodes it, and a gateway that form-decodes the value reads each `+` as a space"
                ),
                "the base64 value URL-encoded (`+` as %2B, `/` as %2F, `=` as %3D)",
                "raw base64",
            )
            .with("signature", &parsed.signature)
            .with("urlEncoded", scheme::url_encode(&parsed.signature)))
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, with_header};
    use super::*;
    use crate::contract::Level;

    #[test]
    fn a_url_encoded_value_holds() {
        let check = signature_encoding(&fixture::request(), 1).unwrap();
        assert_eq!(check.id, "request[1].signature-encoding");
        assert!(check.held, "{check:?}");
    }

    #[test]
    fn raw_base64_is_a_should_failure_that_says_why() {
        let value = "algorithm=RSA256,keyVersion=1,signature=ab+c/d==";
        let req = with_header(fixture::request(), header::SIGNATURE, Some(value));
        let check = signature_encoding(&req, 2).unwrap();
        assert_eq!(check.id, "request[2].signature-encoding");
        assert_eq!((check.level, check.held), (Level::Should, false));
        assert_eq!(check.rule, "docs/contract.md#request-checks 5 (encoding)");
        assert!(
            check.message.contains("bare `+`, `/`, `=` (raw base64)")
                && check.message.contains("reads each `+` as a space"),
            "{}",
            check.message
        );
        assert_eq!(check.values["signature"], "ab+c/d==");
        assert_eq!(check.values["urlEncoded"], "ab%2Bc%2Fd%3D%3D");
    }

    #[test]
    fn no_value_to_judge_makes_no_check() {
        let absent = with_header(fixture::request(), header::SIGNATURE, None);
        assert_eq!(signature_encoding(&absent, 1), None);
        let broken = with_header(fixture::request(), header::SIGNATURE, Some("nonsense"));
        assert_eq!(signature_encoding(&broken, 1), None);
    }
}
