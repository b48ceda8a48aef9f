//! Request check 6: `body` (MUST, valid against `schema/cancel-request.schema.json`; SHOULD in
//! a local-validation scenario) and `unknown-members` (SHOULD, no member the schema lacks).

use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::RecordedRequest;
use crate::contract::check::{Check, CheckId, Exception, Failure};
use crate::schema::Schema;

/// `request[n].body`. An instruction that breaks the rules on purpose (`local_validation`)
/// makes a rule-breaking body a SHOULD: the client should have refused locally, and the
/// gateway's `PARAM_ILLEGAL` is then judged.
pub fn body(req: &RecordedRequest, n: usize, local_validation: bool) -> Check {
    let violations = body_violations(&req.body);
    let check = CheckId::Body.judged_on(
        n,
        if violations.is_empty() {
            Ok("body valid against schema/cancel-request.schema.json".into())
        } else {
            Err(Failure::new(
                "the body must be valid against schema/cancel-request.schema.json",
                "a JSON object of string fields within their limits",
                violations.join("; "),
            ))
        },
    );
    if local_validation {
        Exception::LocalValidation.apply(check)
    } else {
        check
    }
}

/// `request[n].unknown-members` (SHOULD), made only on a body that is a JSON object.
pub fn unknown_members(req: &RecordedRequest, n: usize) -> Option<Check> {
    let body: Map<String, Value> = serde_json::from_slice(&req.body).ok()?;
    let known = known_request_members();
    let unknown: Vec<&str> = body
        .keys()
        .map(String::as_str)
        .filter(|k| !known.iter().any(|m| m == k))
        .collect();
    Some(CheckId::UnknownMembers.judged_on(
        n,
        if unknown.is_empty() {
            Ok("no unknown members".into())
        } else {
            Err(Failure::new(
                "the body should carry no member the API does not define",
                known.join(", "),
                unknown.join(", "),
            ))
        },
    ))
}

/// The body's violations of the request schema, each as `pointer: message`.
pub fn body_violations(body: &[u8]) -> Vec<String> {
    match serde_json::from_slice::<Value>(body) {
        Err(e) => vec![format!("the body is not JSON: {e}")],
        Ok(value) => Schema::Request
            .violations(&value)
            .iter()
            .map(ToString::to_string)
            .collect(),
    }
}

/// The members the request schema defines, read from the schema itself.
pub fn known_request_members() -> &'static [String] {
    static KNOWN: OnceLock<Vec<String>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        let schema: Value = serde_json::from_str(Schema::Request.source()).unwrap_or_default();
        schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;
    use crate::contract::Level;

    fn with_body(body: &str) -> RecordedRequest {
        let mut req = fixture::request();
        req.body = body.as_bytes().to_vec();
        req
    }

    #[test]
    fn a_valid_body_holds() {
        let check = body(&fixture::request(), 1, false);
        assert!(check.held);
        assert_eq!(check.level, Level::Must);
    }

    #[test]
    fn a_number_for_an_id_fails() {
        let check = body(&with_body(r#"{"paymentId":2019}"#), 2, false);
        assert_eq!(check.id, "request[2].body");
        assert_eq!((check.level, check.held), (Level::Must, false));
        assert_eq!(
            check.message,
            "the body must be valid against schema/cancel-request.schema.json"
        );
        assert_eq!(
            check.expected.as_deref(),
            Some("a JSON object of string fields within their limits")
        );
        assert!(
            check.seen.as_deref().unwrap().contains("/paymentId"),
            "{check:?}"
        );
        assert_eq!(check.rule, "docs/contract.md#request-checks 6");
    }

    #[test]
    fn a_body_that_is_not_json_fails() {
        let check = body(&with_body("{"), 1, false);
        assert!(!check.held);
        assert!(check
            .seen
            .as_deref()
            .unwrap()
            .starts_with("the body is not JSON: "));
        assert!(unknown_members(&with_body("{"), 1).is_none());
    }

    #[test]
    fn in_local_validation_a_broken_body_is_a_should_failure() {
        let check = body(&with_body("{}"), 1, true);
        assert_eq!((check.level, check.held), (Level::Should, false));
        assert_eq!(check.rule, "docs/contract.md#request-checks 6");
    }

    #[test]
    fn an_unknown_member_is_a_should_failure() {
        let check = unknown_members(&with_body(r#"{"paymentId":"1","amount":"2"}"#), 3).unwrap();
        assert_eq!(check.id, "request[3].unknown-members");
        assert_eq!((check.level, check.held), (Level::Should, false));
        assert_eq!(check.seen.as_deref(), Some("amount"));
        assert_eq!(
            check.expected.as_deref(),
            Some(known_request_members().join(", ").as_str())
        );
        assert_eq!(
            check.rule,
            "docs/contract.md#request-checks 6 (unknown fields)"
        );
        assert!(unknown_members(&fixture::request(), 1).unwrap().held);
    }
}
