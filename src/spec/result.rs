//! The `result` object and the result-code table: [`ResultStatus`], the open
//! [`ResultCode`], and [`result_code_table`], parsed once from `schema/result-codes.json`.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::ids::check_length;
use super::member::{object_at, StringMember};
use super::{join_pointer, Rule, SpecError, SpecErrors};

/// `resultStatus`: `S` success, `F` failure, `U` unknown (call cancel again with the same
/// request).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ResultStatus {
    /// The cancel succeeded.
    S,
    /// The cancel failed; act on the code.
    F,
    /// The result is unknown; call again with the same parameters.
    U,
}

impl ResultStatus {
    /// Every status.
    pub const ALL: [ResultStatus; 3] = [ResultStatus::S, ResultStatus::F, ResultStatus::U];

    /// The wire string.
    pub const fn as_str(self) -> &'static str {
        match self {
            ResultStatus::S => "S",
            ResultStatus::F => "F",
            ResultStatus::U => "U",
        }
    }

    /// The status for an exact wire string.
    pub fn from_wire(s: &str) -> Option<ResultStatus> {
        match s {
            "S" => Some(ResultStatus::S),
            "F" => Some(ResultStatus::F),
            "U" => Some(ResultStatus::U),
            _ => None,
        }
    }
}

impl fmt::Display for ResultStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ResultStatus {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<Self, SpecError> {
        ResultStatus::from_wire(s).ok_or_else(|| SpecError::NotAStatus {
            pointer: "/result/resultStatus".to_owned(),
            found: super::error::quote_abbreviated(s),
        })
    }
}

/// What the vendor's further-action column says about calling again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RetryAdvice {
    /// Success: nothing to retry.
    None,
    /// Call again (the `U` rows).
    CallAgain,
    /// Call again only once the stated condition is fixed.
    CallAgainAfterFix,
    /// Do not retry.
    DoNotRetry,
    /// The vendor says nothing about calling again.
    NotStated,
}

impl RetryAdvice {
    /// The data file's spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            RetryAdvice::None => "none",
            RetryAdvice::CallAgain => "call-again",
            RetryAdvice::CallAgainAfterFix => "call-again-after-fix",
            RetryAdvice::DoNotRetry => "do-not-retry",
            RetryAdvice::NotStated => "not-stated",
        }
    }
}

/// One row of the result-code table (`schema/result-codes.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResultCodeRow {
    /// The code, e.g. `ORDER_NOT_EXIST`.
    pub result_code: String,
    /// The status the vendor gives the code.
    pub result_status: ResultStatus,
    /// The vendor's message (Chinese, as on the seed page).
    pub message: String,
    /// The message in English.
    pub message_en: String,
    /// The vendor's further action (Chinese).
    pub further_action: String,
    /// The further action in English.
    pub further_action_en: String,
    /// Whether to call again.
    pub retry: RetryAdvice,
}

#[derive(Deserialize)]
struct ResultCodeFile {
    rows: Vec<ResultCodeRow>,
}

/// The text of `schema/result-codes.json`, embedded.
pub const RESULT_CODES_JSON: &str = include_str!("../../schema/result-codes.json");

/// The 17 rows of the seed's result-code table, in the seed's order, parsed once from
/// `schema/result-codes.json`.
///
/// # Example
/// ```
/// use alipay_cancel_kit::spec::{result_code_table, ResultStatus};
/// let table = result_code_table();
/// assert_eq!(table.len(), 17);
/// assert_eq!(table[0].result_code, "SUCCESS");
/// assert_eq!(table[0].result_status, ResultStatus::S);
/// ```
pub fn result_code_table() -> &'static [ResultCodeRow] {
    static TABLE: OnceLock<Vec<ResultCodeRow>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let file: ResultCodeFile = serde_json::from_str(RESULT_CODES_JSON)
            .expect("schema/result-codes.json is embedded and checked by tests");
        file.rows
    })
}

/// The table as a Markdown table (code, status, message, further action, retry), for docs.
pub fn render_result_code_table() -> String {
    let mut out = String::from(
        "| resultCode | resultStatus | message | further action | retry |\n|---|---|---|---|---|\n",
    );
    for row in result_code_table() {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            row.result_code,
            row.result_status,
            row.message_en,
            row.further_action_en,
            row.retry.as_str()
        ));
    }
    out
}

macro_rules! result_codes {
    ($($variant:ident => $wire:literal,)*) => {
        /// `resultCode`: a variant per row of the result-code table, and [`ResultCode::Other`]
        /// for the open rest (codes are an open set: act on `resultStatus` for an unknown one).
        ///
        /// The variants' wire strings are checked against `schema/result-codes.json` by a test,
        /// row for row; statuses and advice come from the data via [`ResultCode::row`].
        ///
        /// # Example
        /// ```
        /// use alipay_cancel_kit::spec::{ResultCode, ResultStatus};
        /// let code = ResultCode::from("ORDER_NOT_EXIST");
        /// assert_eq!(code, ResultCode::OrderNotExist);
        /// assert_eq!(code.known_status(), Some(ResultStatus::F));
        /// assert_eq!(ResultCode::from("INVALID_SIGNATURE").known_status(), None);
        /// ```
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum ResultCode {
            $(
                #[doc = concat!("`", $wire, "`")]
                $variant,
            )*
            /// A code the table lacks, kept as sent. [`ResultCode::from`] never builds it for a
            /// code of the table.
            Other(String),
        }

        impl ResultCode {
            /// The wire strings of the known variants, in table order.
            pub const KNOWN: &'static [&'static str] = &[$($wire,)*];

            /// The wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    $(ResultCode::$variant => $wire,)*
                    ResultCode::Other(code) => code,
                }
            }
        }

        impl From<&str> for ResultCode {
            fn from(code: &str) -> ResultCode {
                match code {
                    $($wire => ResultCode::$variant,)*
                    other => ResultCode::Other(other.to_owned()),
                }
            }
        }
    };
}

result_codes! {
    Success => "SUCCESS",
    AccessDenied => "ACCESS_DENIED",
    InvalidApi => "INVALID_API",
    CancelWindowExceed => "CANCEL_WINDOW_EXCEED",
    KeyNotFound => "KEY_NOT_FOUND",
    MerchantBalanceNotEnough => "MERCHANT_BALANCE_NOT_ENOUGH",
    NoInterfaceDef => "NO_INTERFACE_DEF",
    OrderNotExist => "ORDER_NOT_EXIST",
    OrderStatusInvalid => "ORDER_STATUS_INVALID",
    ParamIllegal => "PARAM_ILLEGAL",
    ProcessFail => "PROCESS_FAIL",
    SystemError => "SYSTEM_ERROR",
    RequestTrafficExceedLimit => "REQUEST_TRAFFIC_EXCEED_LIMIT",
    PaymentMethodNotSupported => "PAYMENT_METHOD_NOT_SUPPORTED",
    UnknownException => "UNKNOWN_EXCEPTION",
    UserNotExist => "USER_NOT_EXIST",
    UserStatusAbnormal => "USER_STATUS_ABNORMAL",
}

impl ResultCode {
    /// The most characters a code may hold.
    pub const MAX_CHARS: usize = 64;

    /// The table row of a known code.
    pub fn row(&self) -> Option<&'static ResultCodeRow> {
        if let ResultCode::Other(_) = self {
            return None;
        }
        let code = self.as_str();
        result_code_table()
            .iter()
            .find(|row| row.result_code == code)
    }

    /// The status the table gives a known code; `None` for an unknown one.
    pub fn known_status(&self) -> Option<ResultStatus> {
        self.row().map(|row| row.result_status)
    }

    /// Whether the code is a row of the table.
    pub fn is_known(&self) -> bool {
        !matches!(self, ResultCode::Other(_))
    }
}

impl From<String> for ResultCode {
    fn from(code: String) -> ResultCode {
        match ResultCode::from(code.as_str()) {
            ResultCode::Other(_) => ResultCode::Other(code),
            known => known,
        }
    }
}

impl FromStr for ResultCode {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(ResultCode::from(s))
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ResultCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ResultCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(ResultCode::from)
    }
}

/// The `result` object of a response.
///
/// Deserialisation checks every rule ([`ResultInfo::from_value`]); unknown members are
/// allowed and dropped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultInfo {
    /// `resultCode`, 1 to 64 characters.
    pub result_code: ResultCode,
    /// `resultStatus`.
    pub result_status: ResultStatus,
    /// `resultMessage`, at most 256 characters; absent or null is `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_message: Option<String>,
}

impl ResultInfo {
    /// The most characters `resultMessage` may hold.
    pub const MESSAGE_MAX_CHARS: usize = 256;

    /// Checks a standalone `result` object (pointers relative to it).
    ///
    /// # Errors
    /// Every rule broken, each with its pointer.
    pub fn from_value(value: &Value) -> Result<ResultInfo, SpecErrors> {
        let mut errors = Vec::new();
        // `read` gives `None` whenever it recorded an error.
        let read = ResultInfo::read(value, "", &mut errors);
        read.ok_or_else(|| SpecErrors::from_vec(errors).expect("a failed read records an error"))
    }

    /// Reads the `result` object at `pointer`, recording every rule broken in `errors`.
    pub(crate) fn read(
        value: &Value,
        pointer: &str,
        errors: &mut Vec<SpecError>,
    ) -> Option<ResultInfo> {
        let object = object_at(value, pointer, errors)?;
        let before = errors.len();
        let code = match StringMember::read(object, pointer, "resultCode", errors) {
            StringMember::Present(code) => {
                let at = join_pointer(pointer, "resultCode");
                match check_length(code, &at, Rule::ResultCode, 1, ResultCode::MAX_CHARS) {
                    Ok(()) => Some(ResultCode::from(code)),
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                }
            }
            StringMember::Absent => {
                errors.push(SpecError::Missing {
                    pointer: join_pointer(pointer, "resultCode"),
                    rule: Rule::ResultCode,
                });
                None
            }
            StringMember::Null => {
                errors.push(null_for_string(join_pointer(pointer, "resultCode")));
                None
            }
            StringMember::WrongType => None,
        };
        let status = match StringMember::read(object, pointer, "resultStatus", errors) {
            StringMember::Present(s) => match ResultStatus::from_wire(s) {
                Some(status) => Some(status),
                None => {
                    errors.push(SpecError::NotAStatus {
                        pointer: join_pointer(pointer, "resultStatus"),
                        found: super::error::quote_abbreviated(s),
                    });
                    None
                }
            },
            StringMember::Absent => {
                errors.push(SpecError::Missing {
                    pointer: join_pointer(pointer, "resultStatus"),
                    rule: Rule::ResultStatus,
                });
                None
            }
            StringMember::Null => {
                errors.push(null_for_string(join_pointer(pointer, "resultStatus")));
                None
            }
            StringMember::WrongType => None,
        };
        let message = match StringMember::read(object, pointer, "resultMessage", errors) {
            StringMember::Present(m) => {
                let at = join_pointer(pointer, "resultMessage");
                match check_length(
                    m,
                    &at,
                    Rule::ResultMessageLength,
                    0,
                    Self::MESSAGE_MAX_CHARS,
                ) {
                    Ok(()) => Some(m.to_owned()),
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                }
            }
            _ => None,
        };
        if let (Some(code), Some(status)) = (&code, status) {
            if let Some(expected) = code.known_status() {
                if expected != status {
                    errors.push(SpecError::StatusMismatch {
                        pointer: join_pointer(pointer, "resultStatus"),
                        code: code.as_str().to_owned(),
                        expected,
                        found: status,
                    });
                }
            }
        }
        if errors.len() > before {
            return None;
        }
        Some(ResultInfo {
            result_code: code?,
            result_status: status?,
            result_message: message,
        })
    }
}

/// A required string member that is `null`: a [`Rule::String`] error.
fn null_for_string(pointer: String) -> SpecError {
    SpecError::WrongType {
        pointer,
        rule: Rule::String,
        expected: "a string",
        found: "null".to_owned(),
    }
}

impl<'de> Deserialize<'de> for ResultInfo {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        ResultInfo::from_value(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A code is known exactly when the table has its row, and prints as it is written on the
    /// wire, known or not (the open set).
    #[test]
    fn a_code_is_known_by_the_table_and_prints_as_on_the_wire() {
        let known = ResultCode::from("ORDER_NOT_EXIST");
        assert!(known.is_known());
        assert_eq!(known.to_string(), "ORDER_NOT_EXIST");
        let other = ResultCode::from("REPEAT_REQ_INCONSISTENT");
        assert!(!other.is_known());
        assert_eq!(other.known_status(), None);
        assert_eq!(other.to_string(), "REPEAT_REQ_INCONSISTENT");
    }

    /// A `result` that breaks a rule while it is read (a known code with another status, a
    /// message over 256 characters) is refused, naming the rule, never returned as read.
    #[test]
    fn a_result_that_breaks_a_rule_while_reading_is_refused() {
        let wrong_status =
            serde_json::json!({"resultCode": "ORDER_NOT_EXIST", "resultStatus": "U"});
        let errors = ResultInfo::from_value(&wrong_status).unwrap_err();
        assert_eq!(errors.rules(), vec![Rule::KnownCodeStatus]);
        let long = "x".repeat(ResultInfo::MESSAGE_MAX_CHARS + 1);
        let long_message = serde_json::json!(
            {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": long}
        );
        let errors = ResultInfo::from_value(&long_message).unwrap_err();
        assert_eq!(errors.rules(), vec![Rule::ResultMessageLength]);
        let fine = serde_json::json!({"resultCode": "SUCCESS", "resultStatus": "S"});
        assert!(ResultInfo::from_value(&fine).is_ok());
    }
}
