//! Errors and warnings about bodies: each names the JSON pointer, the [`Rule`], the limit
//! and what was found.

use std::fmt;

use serde_json::Value;

use super::{ResultStatus, Rule};

/// One way a body breaks the spec.
///
/// `Display` reads `paymentId: expected at most 64 characters, found 65`: the field path
/// (the JSON pointer without its leading `/`, or `body` for the whole body), then what the
/// rule expects and what was found. [`SpecError::pointer`] and [`SpecError::rule`] give the
/// parts for machines.
///
/// # Example
/// ```
/// use alipay_cancel_kit::spec::{PaymentId, Rule};
/// let err = PaymentId::try_from("x".repeat(65)).unwrap_err();
/// assert_eq!(err.to_string(), "paymentId: expected at most 64 characters, found 65");
/// assert_eq!(err.rule(), Rule::IdLength);
/// assert_eq!(err.pointer(), "/paymentId");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpecError {
    /// The bytes are not a JSON document (or not UTF-8).
    NotJson {
        /// 1-based line of the syntax error inside the body.
        line: usize,
        /// 1-based column of the syntax error.
        column: usize,
        /// serde_json's description of the error.
        message: String,
    },
    /// The bytes are not UTF-8 (JSON text is UTF-8, RFC 8259).
    NotUtf8 {
        /// 1-based line of the first bad byte inside the body.
        line: usize,
        /// 1-based byte column of the first bad byte.
        column: usize,
        /// The first bad byte.
        byte: u8,
    },
    /// The body is larger than a reader accepts; it was not parsed.
    TooLarge {
        /// The body's size in bytes.
        bytes: usize,
        /// The largest size accepted.
        limit: usize,
    },
    /// A value has the wrong JSON type.
    WrongType {
        /// Where the value is.
        pointer: String,
        /// The rule broken: [`Rule::String`] or [`Rule::Object`].
        rule: Rule,
        /// The expected type, with its article: `a string`, `an object`.
        expected: &'static str,
        /// The value found, abbreviated.
        found: String,
    },
    /// A string is shorter than its minimum (in code points).
    TooShort {
        /// Where the string is.
        pointer: String,
        /// The length rule.
        rule: Rule,
        /// The minimum number of characters.
        min: usize,
        /// The number of characters found.
        found: usize,
    },
    /// A string is longer than its maximum (in code points).
    TooLong {
        /// Where the string is.
        pointer: String,
        /// The length rule.
        rule: Rule,
        /// The maximum number of characters.
        max: usize,
        /// The number of characters found.
        found: usize,
    },
    /// A required member is absent.
    Missing {
        /// Where the member belongs.
        pointer: String,
        /// The rule that requires it.
        rule: Rule,
    },
    /// A request names neither `paymentId` nor `paymentRequestId` (absent or null).
    NoPaymentId,
    /// `resultStatus` is not `S`, `F` or `U`.
    NotAStatus {
        /// Where the status is.
        pointer: String,
        /// The text found.
        found: String,
    },
    /// A code of the result-code table came with another status than the table's.
    StatusMismatch {
        /// Where the status is.
        pointer: String,
        /// The known code.
        code: String,
        /// The status the table gives the code.
        expected: ResultStatus,
        /// The status found.
        found: ResultStatus,
    },
    /// A timestamp is not an RFC 3339 date-time with an offset.
    NotRfc3339 {
        /// Where the timestamp is.
        pointer: String,
        /// The text found, abbreviated.
        found: String,
    },
    /// A member that a successful (`S`) response returns is absent or null.
    MissingOnSuccess {
        /// Where the member belongs.
        pointer: String,
        /// Whether it was an explicit `null` (else it was absent).
        null: bool,
    },
}

impl SpecError {
    /// The JSON pointer of the offending value (`""` for the whole body). For a missing
    /// member it points where the member belongs.
    pub fn pointer(&self) -> &str {
        match self {
            SpecError::NotJson { .. }
            | SpecError::NotUtf8 { .. }
            | SpecError::TooLarge { .. }
            | SpecError::NoPaymentId => "",
            SpecError::WrongType { pointer, .. }
            | SpecError::TooShort { pointer, .. }
            | SpecError::TooLong { pointer, .. }
            | SpecError::Missing { pointer, .. }
            | SpecError::NotAStatus { pointer, .. }
            | SpecError::StatusMismatch { pointer, .. }
            | SpecError::NotRfc3339 { pointer, .. }
            | SpecError::MissingOnSuccess { pointer, .. } => pointer,
        }
    }

    /// The rule the body breaks.
    pub fn rule(&self) -> Rule {
        match self {
            SpecError::NotJson { .. } | SpecError::NotUtf8 { .. } | SpecError::TooLarge { .. } => {
                Rule::Json
            }
            SpecError::WrongType { rule, .. }
            | SpecError::TooShort { rule, .. }
            | SpecError::TooLong { rule, .. }
            | SpecError::Missing { rule, .. } => *rule,
            SpecError::NoPaymentId => Rule::OneIdRequired,
            SpecError::NotAStatus { .. } => Rule::ResultStatus,
            SpecError::StatusMismatch { .. } => Rule::KnownCodeStatus,
            SpecError::NotRfc3339 { .. } => Rule::CancelTime,
            SpecError::MissingOnSuccess { .. } => Rule::RequiredOnSuccess,
        }
    }

    /// What the rule expects and what was found, without the field path.
    pub fn message(&self) -> String {
        match self {
            SpecError::NotJson {
                line,
                column,
                message,
            } => format!("expected a JSON document, found a syntax error at line {line} column {column}: {message}"),
            SpecError::NotUtf8 { line, column, byte } => format!(
                "expected UTF-8 text, found byte 0x{byte:02X} at line {line} column {column}"
            ),
            SpecError::TooLarge { bytes, limit } => {
                format!("expected a body of at most {limit} bytes, found {bytes} bytes (not parsed)")
            }
            SpecError::WrongType {
                expected, found, ..
            } => format!("expected {expected}, found {found}"),
            SpecError::TooShort { min, found, .. } => {
                format!("expected at least {min} {}, found {found}", characters(*min))
            }
            SpecError::TooLong { max, found, .. } => {
                format!("expected at most {max} {}, found {found}", characters(*max))
            }
            SpecError::Missing { .. } => "expected a member here, found none".to_owned(),
            SpecError::NoPaymentId => {
                "expected paymentId or paymentRequestId not null, found neither".to_owned()
            }
            SpecError::NotAStatus { found, .. } => {
                format!("expected one of \"S\", \"F\", \"U\", found {found}")
            }
            SpecError::StatusMismatch {
                code,
                expected,
                found,
                ..
            } => format!(
                "expected \"{expected}\" for resultCode {code} (result-code table), found \"{found}\""
            ),
            SpecError::NotRfc3339 { found, .. } => {
                format!("expected an RFC 3339 date-time with offset, found {found}")
            }
            SpecError::MissingOnSuccess { null, .. } => format!(
                "expected a string when resultStatus is \"S\", found {}",
                if *null { "null" } else { "none" }
            ),
        }
    }
}

fn characters(n: usize) -> &'static str {
    if n == 1 {
        "character"
    } else {
        "characters"
    }
}

/// The field path of a JSON pointer as messages print it: no leading `/`, `body` for `""`.
pub fn field_path(pointer: &str) -> &str {
    match pointer.strip_prefix('/') {
        Some(path) => path,
        None if pointer.is_empty() => "body",
        None => pointer,
    }
}

/// Appends one member name to a JSON pointer, escaping `~` and `/` (RFC 6901).
pub fn join_pointer(parent: &str, member: &str) -> String {
    let mut pointer = String::with_capacity(parent.len() + member.len() + 1);
    pointer.push_str(parent);
    pointer.push('/');
    for c in member.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
    pointer
}

/// How a value found is shown in a message: scalars as JSON text (long ones cut at 60
/// characters), containers by their kind.
pub fn describe_value(value: &Value) -> String {
    match value {
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
        Value::String(s) => quote_abbreviated(s),
        other => other.to_string(),
    }
}

/// A string as a JSON literal, cut at 60 characters so a 50 MB value stays readable.
pub fn quote_abbreviated(s: &str) -> String {
    const KEEP: usize = 60;
    match s.char_indices().nth(KEEP) {
        None => serde_json::to_string(s).unwrap_or_default(),
        Some((cut, _)) => {
            let shown = serde_json::to_string(&s[..cut]).unwrap_or_default();
            format!(
                "{}...\" ({} characters)",
                &shown[..shown.len() - 1],
                s.chars().count()
            )
        }
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", field_path(self.pointer()), self.message())
    }
}

impl std::error::Error for SpecError {}

/// A non-empty list of [`SpecError`]s: every violation in one body, in document order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecErrors(Vec<SpecError>);

impl SpecErrors {
    /// Wraps a list; `None` when it is empty.
    pub fn from_vec(errors: Vec<SpecError>) -> Option<SpecErrors> {
        (!errors.is_empty()).then_some(SpecErrors(errors))
    }

    /// The first error.
    pub fn first(&self) -> &SpecError {
        &self.0[0]
    }

    /// The errors, in document order.
    pub fn iter(&self) -> std::slice::Iter<'_, SpecError> {
        self.0.iter()
    }

    /// How many errors (at least one).
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The errors as a vector.
    pub fn into_vec(self) -> Vec<SpecError> {
        self.0
    }

    /// The distinct rules broken, in catalogue order.
    pub fn rules(&self) -> Vec<Rule> {
        let mut rules: Vec<Rule> = self.0.iter().map(SpecError::rule).collect();
        rules.sort();
        rules.dedup();
        rules
    }
}

impl From<SpecError> for SpecErrors {
    fn from(error: SpecError) -> Self {
        SpecErrors(vec![error])
    }
}

impl<'a> IntoIterator for &'a SpecErrors {
    type Item = &'a SpecError;
    type IntoIter = std::slice::Iter<'a, SpecError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for SpecErrors {
    type Item = SpecError;
    type IntoIter = std::vec::IntoIter<SpecError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}

/// Something legal but discouraged in a body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpecWarning {
    /// A request member the spec does not define: SHOULD not be sent.
    UnknownMember {
        /// Where the member is.
        pointer: String,
    },
}

impl SpecWarning {
    /// The JSON pointer of the member.
    pub fn pointer(&self) -> &str {
        match self {
            SpecWarning::UnknownMember { pointer } => pointer,
        }
    }

    /// The rule ([`Rule::UnknownMember`]).
    pub fn rule(&self) -> Rule {
        Rule::UnknownMember
    }

    /// What the rule says, without the field path.
    pub fn message(&self) -> String {
        match self {
            SpecWarning::UnknownMember { .. } => {
                "unknown member: the spec defines paymentId, paymentRequestId and merchantAccountId only; SHOULD not be sent".to_owned()
            }
        }
    }
}

impl fmt::Display for SpecWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", field_path(self.pointer()), self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::{field_path, join_pointer, SpecError, SpecErrors};
    use crate::spec::Rule;

    /// Messages name a field by its pointer without the leading `/`, the body itself as
    /// `body`; a path given without a leading `/` is printed as given, never as `body`.
    #[test]
    fn a_field_is_named_by_its_pointer_and_the_body_as_body() {
        assert_eq!(field_path(""), "body");
        assert_eq!(field_path("/paymentId"), "paymentId");
        assert_eq!(field_path("/result/resultCode"), "result/resultCode");
        assert_eq!(field_path("paymentId"), "paymentId");
        assert_eq!(join_pointer("/result", "a/b~c"), "/result/a~1b~0c");
    }

    /// A body's errors are kept in document order, counted, and handed out whole.
    #[test]
    fn every_error_of_a_body_is_kept_in_order() {
        let error = |pointer: &str, found| SpecError::TooLong {
            pointer: pointer.to_owned(),
            rule: Rule::IdLength,
            max: 64,
            found,
        };
        assert_eq!(SpecErrors::from_vec(Vec::new()), None);
        let errors = SpecErrors::from_vec(vec![
            error("/paymentId", 65),
            error("/paymentRequestId", 66),
        ])
        .unwrap();
        assert_eq!(errors.len(), 2);
        assert_eq!(errors.first().pointer(), "/paymentId");
        assert_eq!(errors.rules(), vec![Rule::IdLength]);
        let by_ref: Vec<&str> = (&errors).into_iter().map(SpecError::pointer).collect();
        assert_eq!(by_ref, ["/paymentId", "/paymentRequestId"]);
        let owned: Vec<SpecError> = errors.clone().into_iter().collect();
        assert_eq!(owned, errors.clone().into_vec());
        assert_eq!(
            owned,
            [error("/paymentId", 65), error("/paymentRequestId", 66)]
        );
    }
}
