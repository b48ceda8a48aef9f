//! The catalogue of body rules: the stable ids that every error, schema violation and
//! fixture under `conformance/fixtures/` uses to say which rule of the spec broke.

use std::fmt;
use std::str::FromStr;

/// One rule of the cancel API's body format, named after the spec's own words.
///
/// The id ([`Rule::as_str`]) is stable: fixtures cite it, `validate` prints it, and
/// [`Rule::source`] says where in `docs/api.md` (or `docs/contract.md`) the rule is written.
///
/// # Example
/// ```
/// use alipay_cancel_kit::spec::Rule;
/// assert_eq!(Rule::IdLength.as_str(), "id-length");
/// assert_eq!("id-length".parse::<Rule>(), Ok(Rule::IdLength));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Rule {
    /// The body is a UTF-8 JSON document.
    Json,
    /// The body, and the response's `result`, are JSON objects.
    Object,
    /// Every field is a JSON string (an integer 20 is sent as `"20"`).
    String,
    /// `paymentId` and `paymentRequestId` hold 1 to 64 characters (code points).
    IdLength,
    /// `merchantAccountId` holds 1 to 32 characters (code points).
    MerchantAccountIdLength,
    /// A request names `paymentId` or `paymentRequestId`, not null.
    OneIdRequired,
    /// A request member the spec does not define (a warning: SHOULD not be sent).
    UnknownMember,
    /// A response carries the `result` object.
    ResultRequired,
    /// `result.resultCode` is present and holds 1 to 64 characters.
    ResultCode,
    /// `result.resultStatus` is present and one of `S`, `F`, `U`.
    ResultStatus,
    /// `result.resultMessage` holds at most 256 characters.
    ResultMessageLength,
    /// `cancelTime` is an RFC 3339 date-time with an offset.
    CancelTime,
    /// `paymentId`, `paymentRequestId` and `cancelTime` are returned when `resultStatus` is `S`.
    RequiredOnSuccess,
    /// A code in the result-code table comes with the status the table gives it.
    KnownCodeStatus,
}

impl Rule {
    /// Every rule, in catalogue order.
    pub const ALL: [Rule; 14] = [
        Rule::Json,
        Rule::Object,
        Rule::String,
        Rule::IdLength,
        Rule::MerchantAccountIdLength,
        Rule::OneIdRequired,
        Rule::UnknownMember,
        Rule::ResultRequired,
        Rule::ResultCode,
        Rule::ResultStatus,
        Rule::ResultMessageLength,
        Rule::CancelTime,
        Rule::RequiredOnSuccess,
        Rule::KnownCodeStatus,
    ];

    /// The stable id, as fixtures and `validate` write it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Rule::Json => "json",
            Rule::Object => "object",
            Rule::String => "string",
            Rule::IdLength => "id-length",
            Rule::MerchantAccountIdLength => "merchant-account-id-length",
            Rule::OneIdRequired => "one-id-required",
            Rule::UnknownMember => "unknown-member",
            Rule::ResultRequired => "result-required",
            Rule::ResultCode => "result-code",
            Rule::ResultStatus => "result-status",
            Rule::ResultMessageLength => "result-message-length",
            Rule::CancelTime => "cancel-time",
            Rule::RequiredOnSuccess => "required-on-success",
            Rule::KnownCodeStatus => "known-code-status",
        }
    }

    /// Where the rule is written: a section of `docs/api.md`, tagged seed (the vendor page) or SDKs.
    pub const fn source(self) -> &'static str {
        match self {
            Rule::Json => "docs/api.md#response-body: a JSON body (SDKs)",
            Rule::Object => "docs/api.md#request-body, #response-body: the body is a JSON object (seed)",
            Rule::String => "docs/api.md#wire-rule-for-every-field: every field except arrays is a JSON string (seed)",
            Rule::IdLength => "docs/api.md#request-body, #response-body: paymentId, paymentRequestId max 64 characters (seed)",
            Rule::MerchantAccountIdLength => "docs/api.md#request-body: merchantAccountId max 32 characters (SDKs)",
            Rule::OneIdRequired => "docs/api.md#request-body: paymentId and paymentRequestId must not both be null (seed)",
            Rule::UnknownMember => "docs/contract.md#request-checks 6: an unknown field SHOULD not be sent",
            Rule::ResultRequired => "docs/api.md#response-body: result, object, required (seed)",
            Rule::ResultCode => "docs/api.md#response-body: resultCode, string, max 64 (SDKs)",
            Rule::ResultStatus => "docs/api.md#response-body: resultStatus S, F or U (SDKs)",
            Rule::ResultMessageLength => "docs/api.md#response-body: resultMessage, string, max 256 (SDKs)",
            Rule::CancelTime => "docs/api.md#response-body: cancelTime, ISO 8601 date-time such as 2019-11-27T12:01:01+08:00 (seed)",
            Rule::RequiredOnSuccess => "docs/api.md#response-body: paymentId, paymentRequestId, cancelTime returned when resultStatus = S (seed)",
            Rule::KnownCodeStatus => "docs/api.md#result-and-error-codes: the table gives each code its resultStatus (seed)",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text is not the id of any [`Rule`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownRule(pub String);

impl fmt::Display for UnknownRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown rule id {:?}", self.0)
    }
}

impl std::error::Error for UnknownRule {}

impl FromStr for Rule {
    type Err = UnknownRule;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rule::ALL
            .into_iter()
            .find(|rule| rule.as_str() == s)
            .ok_or_else(|| UnknownRule(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::{Rule, UnknownRule};

    /// A rule prints as its id, the word reports and fixtures use; an unknown id is named.
    #[test]
    fn a_rule_prints_as_its_id_and_an_unknown_id_is_named() {
        for rule in Rule::ALL {
            assert_eq!(rule.to_string(), rule.as_str());
            assert_eq!(rule.as_str().parse::<Rule>(), Ok(rule));
        }
        assert_eq!(Rule::IdLength.to_string(), "id-length");
        let unknown = "id-lenght".parse::<Rule>().unwrap_err();
        assert_eq!(unknown, UnknownRule("id-lenght".into()));
        assert_eq!(unknown.to_string(), r#"unknown rule id "id-lenght""#);
    }
}
