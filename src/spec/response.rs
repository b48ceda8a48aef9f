//! The cancel response body.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::endpoint;
use super::member::{checked, object_at, parse_json, StringMember};
use super::{CancelTime, PaymentId, PaymentRequestId, ResultInfo, Rule, SpecError, SpecErrors};

/// The body the gateway answers a cancel with (HTTP 200 for S, F and U alike).
///
/// Rules (seed, SDKs): `result` required (see [`ResultInfo`]); `paymentId` and
/// `paymentRequestId` 1 to 64 characters; `cancelTime` an RFC 3339 date-time with offset;
/// all three returned, as strings, when `resultStatus` is `S`. Otherwise each may be absent
/// or `null` (SDKs omit unset fields, .NET sends `null`; both read as `None`). Unknown
/// members, here and in `result`, are allowed (forward compatibility) and dropped.
///
/// # Example
/// ```
/// use alipay_cancel_kit::spec::{CancelResponse, ResultCode, ResultStatus};
/// let body = r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"成功"},"paymentRequestId":"pay_2089760038715669_20277574507XXXX","paymentId":"2019061218401080010018882020035XXXX","cancelTime":"2019-06-12T19:07:11+08:00"}"#;
/// let res = CancelResponse::from_slice(body.as_bytes()).unwrap();
/// assert_eq!(res.result.result_code, ResultCode::Success);
/// assert_eq!(res.cancel_time.unwrap().as_str(), "2019-06-12T19:07:11+08:00");
///
/// let err = CancelResponse::from_slice(br#"{"result":{"resultCode":"ORDER_NOT_EXIST","resultStatus":"U"}}"#).unwrap_err();
/// assert_eq!(err.to_string(), r#"result/resultStatus: expected "F" for resultCode ORDER_NOT_EXIST (result-code table), found "U""#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelResponse {
    /// `result`: code, status, message.
    pub result: ResultInfo,
    /// `paymentId`, returned on success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<PaymentId>,
    /// `paymentRequestId`, returned on success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_request_id: Option<PaymentRequestId>,
    /// `cancelTime`, returned on success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_time: Option<CancelTime>,
}

impl CancelResponse {
    /// The members the spec defines.
    pub const MEMBERS: [&'static str; 4] = [
        "result",
        endpoint::member::PAYMENT_ID,
        endpoint::member::PAYMENT_REQUEST_ID,
        endpoint::member::CANCEL_TIME,
    ];

    /// Parses and checks a body.
    ///
    /// # Errors
    /// Every rule broken, each with its JSON pointer (or one [`SpecError::NotJson`]).
    pub fn from_slice(bytes: &[u8]) -> Result<CancelResponse, SpecErrors> {
        let value = parse_json(bytes)?;
        Self::from_value(&value)
    }

    /// Checks a parsed body.
    ///
    /// # Errors
    /// Every rule broken, each with its JSON pointer.
    pub fn from_value(value: &Value) -> Result<CancelResponse, SpecErrors> {
        let mut errors = Vec::new();
        let Some(object) = object_at(value, "", &mut errors) else {
            return Err(SpecErrors::from_vec(errors).expect("object_at records its error"));
        };
        let result = match object.get("result") {
            None => {
                errors.push(SpecError::Missing {
                    pointer: "/result".to_owned(),
                    rule: Rule::ResultRequired,
                });
                None
            }
            Some(result) => ResultInfo::read(result, "/result", &mut errors),
        };
        // The success rule keys on the status text alone, as the schema's `if` does, so a
        // result broken elsewhere still reports missing success members.
        let success = object
            .get("result")
            .and_then(|r| r.get("resultStatus"))
            .is_some_and(|s| s == "S");
        let payment_id = StringMember::read(object, "", endpoint::member::PAYMENT_ID, &mut errors);
        let payment_request_id = StringMember::read(
            object,
            "",
            endpoint::member::PAYMENT_REQUEST_ID,
            &mut errors,
        );
        let cancel_time = StringMember::read(object, "", "cancelTime", &mut errors);
        if success {
            for (member, pointer) in [
                (payment_id, "/paymentId"),
                (payment_request_id, "/paymentRequestId"),
                (cancel_time, "/cancelTime"),
            ] {
                if let StringMember::Absent | StringMember::Null = member {
                    errors.push(SpecError::MissingOnSuccess {
                        pointer: pointer.to_owned(),
                        null: member == StringMember::Null,
                    });
                }
            }
        }
        let payment_id = checked(payment_id, "/paymentId", PaymentId::at, &mut errors);
        let payment_request_id = checked(
            payment_request_id,
            "/paymentRequestId",
            PaymentRequestId::at,
            &mut errors,
        );
        let cancel_time = checked(cancel_time, "/cancelTime", CancelTime::at, &mut errors);
        match (SpecErrors::from_vec(errors), result) {
            (None, Some(result)) => Ok(CancelResponse {
                result,
                payment_id,
                payment_request_id,
                cancel_time,
            }),
            (Some(errors), _) => Err(errors),
            (None, None) => unreachable!("a missing result records an error"),
        }
    }
}

impl<'de> Deserialize<'de> for CancelResponse {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        CancelResponse::from_value(&value).map_err(serde::de::Error::custom)
    }
}
