//! The cancel request body.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::endpoint;
use super::member::{checked, object_at, parse_json, StringMember};
use super::{
    join_pointer, MerchantAccountId, PaymentId, PaymentRequestId, SpecError, SpecErrors,
    SpecWarning,
};

/// The body of `POST /v1/payments/cancel`.
///
/// Rules (seed, SDKs): every field a string; `paymentId` and `paymentRequestId` 1 to 64
/// characters and not both absent or null; `merchantAccountId` 1 to 32; an explicit `null`
/// for an optional field is legal (the .NET SDK sends one); an unknown member is a
/// warning ([`CancelRequest::from_slice_with_warnings`]), not an error. Serialises compactly
/// with `None` fields left out, as the Java SDK does.
///
/// # Example
/// ```
/// use alipay_cancel_kit::spec::CancelRequest;
/// let req = CancelRequest::from_slice(br#"{"paymentId":"2019061218401080010018882020035XXXX","paymentRequestId":null}"#).unwrap();
/// assert_eq!(req.payment_id.unwrap().as_str(), "2019061218401080010018882020035XXXX");
///
/// let err = CancelRequest::from_slice(br#"{"paymentRequestId":20,"merchantAccountId":""}"#).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "paymentRequestId: expected a string, found 20\nmerchantAccountId: expected at least 1 character, found 0"
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelRequest {
    /// `paymentId`: the vendor's id of the payment; takes precedence over `paymentRequestId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<PaymentId>,
    /// `paymentRequestId`: the merchant's id of the payment request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_request_id: Option<PaymentRequestId>,
    /// `merchantAccountId`: optional (SDKs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_account_id: Option<MerchantAccountId>,
}

impl CancelRequest {
    /// The members the spec defines, in the seed's order.
    pub const MEMBERS: [&'static str; 3] = endpoint::member::IDS;

    /// A request naming the payment by `paymentId`.
    pub fn by_payment_id(id: PaymentId) -> CancelRequest {
        CancelRequest {
            payment_id: Some(id),
            ..CancelRequest::default()
        }
    }

    /// A request naming the payment by `paymentRequestId`.
    pub fn by_payment_request_id(id: PaymentRequestId) -> CancelRequest {
        CancelRequest {
            payment_request_id: Some(id),
            ..CancelRequest::default()
        }
    }

    /// Parses and checks a body.
    ///
    /// # Errors
    /// Every rule broken, each with its JSON pointer (or one [`SpecError::NotJson`]).
    pub fn from_slice(bytes: &[u8]) -> Result<CancelRequest, SpecErrors> {
        Self::from_slice_with_warnings(bytes).map(|(request, _)| request)
    }

    /// Parses and checks a body, and lists its warnings (unknown members).
    ///
    /// # Errors
    /// Every rule broken, each with its JSON pointer (or one [`SpecError::NotJson`]).
    pub fn from_slice_with_warnings(
        bytes: &[u8],
    ) -> Result<(CancelRequest, Vec<SpecWarning>), SpecErrors> {
        let value = parse_json(bytes)?;
        Self::check_value(&value)
    }

    /// Checks a parsed body.
    ///
    /// # Errors
    /// Every rule broken, each with its JSON pointer.
    pub fn from_value(value: &Value) -> Result<CancelRequest, SpecErrors> {
        Self::check_value(value).map(|(request, _)| request)
    }

    /// Checks a parsed body, and lists its warnings (unknown members).
    ///
    /// # Errors
    /// Every rule broken, each with its JSON pointer.
    pub fn check_value(value: &Value) -> Result<(CancelRequest, Vec<SpecWarning>), SpecErrors> {
        let mut errors = Vec::new();
        let Some(object) = object_at(value, "", &mut errors) else {
            return Err(SpecErrors::from_vec(errors).expect("object_at records its error"));
        };
        let payment_id = StringMember::read(object, "", endpoint::member::PAYMENT_ID, &mut errors);
        let payment_request_id = StringMember::read(
            object,
            "",
            endpoint::member::PAYMENT_REQUEST_ID,
            &mut errors,
        );
        let merchant_account_id = StringMember::read(
            object,
            "",
            endpoint::member::MERCHANT_ACCOUNT_ID,
            &mut errors,
        );
        let request = CancelRequest {
            payment_id: checked(payment_id, "/paymentId", PaymentId::at, &mut errors),
            payment_request_id: checked(
                payment_request_id,
                "/paymentRequestId",
                PaymentRequestId::at,
                &mut errors,
            ),
            merchant_account_id: checked(
                merchant_account_id,
                "/merchantAccountId",
                MerchantAccountId::at,
                &mut errors,
            ),
        };
        let absent = |m: StringMember<'_>| matches!(m, StringMember::Absent | StringMember::Null);
        if absent(payment_id) && absent(payment_request_id) {
            errors.push(SpecError::NoPaymentId);
        }
        match SpecErrors::from_vec(errors) {
            Some(errors) => Err(errors),
            None => Ok((request, Self::warnings(value))),
        }
    }

    /// The warnings of a body: one per member the spec does not define.
    pub fn warnings(value: &Value) -> Vec<SpecWarning> {
        let Value::Object(object) = value else {
            return Vec::new();
        };
        object
            .keys()
            .filter(|name| !Self::MEMBERS.contains(&name.as_str()))
            .map(|name| SpecWarning::UnknownMember {
                pointer: join_pointer("", name),
            })
            .collect()
    }

    /// Checks a request built in code: it names at least one id.
    ///
    /// # Errors
    /// [`SpecError::NoPaymentId`] when both ids are `None`.
    pub fn check(&self) -> Result<(), SpecErrors> {
        if self.payment_id.is_none() && self.payment_request_id.is_none() {
            return Err(SpecError::NoPaymentId.into());
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for CancelRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        CancelRequest::from_value(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::CancelRequest;

    /// Each constructor names the payment by its own id and no other.
    #[test]
    fn a_request_names_the_payment_by_the_id_it_was_made_with() {
        let by_request = CancelRequest::by_payment_request_id("pay_1".parse().unwrap());
        assert_eq!(
            by_request.payment_request_id.as_ref().map(|id| id.as_str()),
            Some("pay_1")
        );
        assert!(by_request.payment_id.is_none() && by_request.merchant_account_id.is_none());
        let by_payment = CancelRequest::by_payment_id("2024A".parse().unwrap());
        assert_eq!(
            by_payment.payment_id.as_ref().map(|id| id.as_str()),
            Some("2024A")
        );
        assert!(by_payment.payment_request_id.is_none());
    }
}
