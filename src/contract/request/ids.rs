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

    /// Each of the three ids on its own decides: one wrong, missing or unasked-for member
    /// fails the check and is the only one named.
    #[test]
    fn each_id_member_is_compared_on_its_own() {
        let all =
            json!({"paymentId": "p_1", "paymentRequestId": "r_1", "merchantAccountId": "m_1"});
        let asked = instruction(all.clone());
        assert!(ids_finding(&instruction(all.clone()), &asked).is_ok());
        for field in ["paymentId", "paymentRequestId", "merchantAccountId"] {
            let mut wrong = instruction(all.clone());
            wrong.insert(field.into(), json!("other"));
            let mut missing = instruction(all.clone());
            missing.remove(field);
            let mut null = instruction(all.clone());
            null.insert(field.into(), Value::Null);
            for (body, seen) in [(wrong, r#""other""#), (missing, "null"), (null, "null")] {
                let failure = ids_finding(&body, &asked).unwrap_err();
                let asked_value = asked[field].to_string();
                assert_eq!(
                    failure.expected,
                    format!("{field}={asked_value}"),
                    "{field}"
                );
                assert_eq!(failure.seen, format!("{field}={seen}"), "{field}");
            }
            // Sent though the instruction leaves it out.
            let mut unasked = asked.clone();
            unasked.remove(field);
            let failure = ids_finding(&instruction(all.clone()), &unasked).unwrap_err();
            assert_eq!(failure.expected, format!("{field}=null"));
        }
    }

    #[test]
    fn a_wrong_merchant_account_id_fails_the_whole_request() {
        let mut req = fixture::request();
        req.body = br#"{"paymentRequestId":"pay_1","merchantAccountId":"M_OTHER"}"#.to_vec();
        let asked = instruction(json!({"paymentRequestId": "pay_1", "merchantAccountId": "M_1"}));
        let check = ids(&req, 3, &asked);
        assert_eq!((check.level, check.held), (Level::Must, false));
        assert_eq!(
            check.expected.as_deref(),
            Some(r#"merchantAccountId="M_1""#)
        );
        assert_eq!(
            check.seen.as_deref(),
            Some(r#"merchantAccountId="M_OTHER""#)
        );
        req.body = br#"{"paymentRequestId":"pay_1"}"#.to_vec();
        assert_eq!(
            ids(&req, 3, &asked).seen.as_deref(),
            Some("merchantAccountId=null")
        );
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
