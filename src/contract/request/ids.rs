//! Request check 7, `ids`: the body carries exactly the instruction's ids (absent and `null`
//! count as the same).

use serde_json::{Map, Value};

use super::RecordedRequest;
use crate::contract::check::{Check, CheckId, Failure};
use crate::spec::endpoint::member;

/// `request[n].ids` (MUST).
pub fn ids(req: &RecordedRequest, n: usize, instructed: &Map<String, Value>) -> Check {
    let body: Option<Map<String, Value>> = serde_json::from_slice(&req.body).ok();
    CheckId::Ids.judged_on(
        n,
        match &body {
            None => Err(Failure::new(
                "the body must be a JSON object carrying the instructed ids",
                Value::Object(instructed.clone()).to_string(),
                String::from_utf8_lossy(&req.body),
            )),
            Some(body) => ids_finding(body, instructed),
        },
    )
}

/// The fields of `body` that differ from the instruction (absent and `null` are the same).
pub fn ids_finding(
    body: &Map<String, Value>,
    instructed: &Map<String, Value>,
) -> Result<String, Failure> {
    let mut wrong = Vec::new();
    for field in member::IDS {
        let sent = body.get(field).unwrap_or(&Value::Null);
        let asked = instructed.get(field).unwrap_or(&Value::Null);
        if sent != asked {
            wrong.push((field, asked.to_string(), sent.to_string()));
        }
    }
    if wrong.is_empty() {
        Ok("the body carries exactly the instructed ids".into())
    } else {
        let show = |pick: fn(&(&str, String, String)) -> String| {
            wrong.iter().map(pick).collect::<Vec<_>>().join(", ")
        };
        Err(Failure::new(
            "the body must carry exactly the instructed ids (absent or null when not instructed)",
            show(|(f, a, _)| format!("{f}={a}")),
            show(|(f, _, s)| format!("{f}={s}")),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;
    use crate::contract::Level;
    use serde_json::json;

    fn instruction(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn the_instructed_ids_hold_null_counting_as_absent() {
        let asked = instruction(json!({"paymentRequestId": "pay_1", "paymentId": null}));
        assert!(ids(&fixture::request(), 1, &asked).held);
    }

    #[test]
    fn another_id_fails_naming_the_fields() {
        let asked = instruction(json!({"paymentRequestId": "pay_2", "paymentId": "p"}));
        let check = ids(&fixture::request(), 2, &asked);
        assert_eq!(check.id, "request[2].ids");
        assert_eq!((check.level, check.held), (Level::Must, false));
        assert_eq!(
            check.expected.as_deref(),
            Some(r#"paymentId="p", paymentRequestId="pay_2""#)
        );
        assert_eq!(
            check.seen.as_deref(),
            Some(r#"paymentId=null, paymentRequestId="pay_1""#)
        );
        assert_eq!(check.rule, "docs/contract.md#request-checks 7");
    }

    #[test]
    fn a_body_that_is_no_object_fails() {
        let mut req = fixture::request();
        req.body = b"[]".to_vec();
        let check = ids(&req, 1, &instruction(json!({"paymentId": "p"})));
        assert!(!check.held);
        assert_eq!(check.seen.as_deref(), Some("[]"));
        assert_eq!(check.expected.as_deref(), Some(r#"{"paymentId":"p"}"#));
    }
}
