//! The identifiers of the cancel API: length-checked strings, counted in Unicode code
//! points as JSON Schema's `maxLength` counts them, never in bytes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{Rule, SpecError};

/// Checks that `s` holds `min..=max` code points; the error names `pointer` and `rule`.
///
/// # Errors
/// [`SpecError::TooShort`] or [`SpecError::TooLong`], with the count found.
pub fn check_length(
    s: &str,
    pointer: &str,
    rule: Rule,
    min: usize,
    max: usize,
) -> Result<(), SpecError> {
    // Counted every time, in code points: counting costs what reading the string costs, and a
    // fast path by byte length only added branches no test could tell from the count.
    let found = s.chars().count();
    if found < min {
        Err(SpecError::TooShort {
            pointer: pointer.to_owned(),
            rule,
            min,
            found,
        })
    } else if found > max {
        Err(SpecError::TooLong {
            pointer: pointer.to_owned(),
            rule,
            max,
            found,
        })
    } else {
        Ok(())
    }
}

macro_rules! bounded_id {
    ($(#[$doc:meta])* $name:ident, member = $member:literal, max = $max:literal, rule = $rule:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The fewest characters (code points) allowed.
            pub const MIN_CHARS: usize = 1;
            /// The most characters (code points) allowed.
            pub const MAX_CHARS: usize = $max;
            /// The member name on the wire.
            pub const MEMBER: &'static str = $member;

            /// Checks the length rule, naming `pointer` in the error.
            ///
            /// # Errors
            /// [`SpecError::TooShort`] for an empty string, [`SpecError::TooLong`] past the maximum.
            pub fn at(s: &str, pointer: &str) -> Result<Self, SpecError> {
                check_length(s, pointer, $rule, Self::MIN_CHARS, Self::MAX_CHARS)?;
                Ok(Self(s.to_owned()))
            }

            /// The id as sent.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = SpecError;

            fn try_from(s: String) -> Result<Self, SpecError> {
                check_length(&s, concat!("/", $member), $rule, Self::MIN_CHARS, Self::MAX_CHARS)?;
                Ok(Self(s))
            }
        }

        impl TryFrom<&str> for $name {
            type Error = SpecError;

            fn try_from(s: &str) -> Result<Self, SpecError> {
                Self::try_from(s.to_owned())
            }
        }

        impl FromStr for $name {
            type Err = SpecError;

            fn from_str(s: &str) -> Result<Self, SpecError> {
                Self::try_from(s.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

bounded_id!(
    /// `paymentId`: the vendor-assigned id of the original payment, 1 to 64 characters (seed).
    ///
    /// # Example
    /// ```
    /// use alipay_cancel_kit::spec::PaymentId;
    /// let id: PaymentId = "2019061218401080010018882020035XXXX".parse().unwrap();
    /// assert_eq!(id.as_str().len(), 35);
    /// assert!(PaymentId::try_from(String::new()).is_err());
    /// ```
    PaymentId, member = "paymentId", max = 64, rule = Rule::IdLength
);

bounded_id!(
    /// `paymentRequestId`: the merchant-assigned id of the original payment request, 1 to 64
    /// characters (seed).
    ///
    /// # Example
    /// ```
    /// use alipay_cancel_kit::spec::PaymentRequestId;
    /// assert!("é".repeat(64).parse::<PaymentRequestId>().is_ok());
    /// assert!("é".repeat(65).parse::<PaymentRequestId>().is_err());
    /// ```
    PaymentRequestId, member = "paymentRequestId", max = 64, rule = Rule::IdLength
);

bounded_id!(
    /// `merchantAccountId`: one client id used across several locations, 1 to 32 characters
    /// (SDKs; not in the seed page).
    ///
    /// # Example
    /// ```
    /// use alipay_cancel_kit::spec::MerchantAccountId;
    /// assert!("m".repeat(32).parse::<MerchantAccountId>().is_ok());
    /// assert!("m".repeat(33).parse::<MerchantAccountId>().is_err());
    /// ```
    MerchantAccountId, member = "merchantAccountId", max = 32, rule = Rule::MerchantAccountIdLength
);

#[cfg(test)]
mod tests {
    use super::check_length;
    use crate::spec::{Rule, SpecError};

    fn check(s: &str, min: usize, max: usize) -> Result<(), SpecError> {
        check_length(s, "/paymentId", Rule::IdLength, min, max)
    }

    /// The bounds hold in code points, inclusive at both ends, as JSON Schema's
    /// `minLength`/`maxLength` count them.
    #[test]
    fn a_length_is_checked_in_code_points_inclusive_at_both_ends() {
        assert!(check("a", 1, 4).is_ok());
        assert!(check("abcd", 1, 4).is_ok());
        assert!(check("支付宝取", 1, 4).is_ok(), "12 bytes, 4 code points");
        assert!(check("ab", 2, 4).is_ok());
        assert!(matches!(
            check("abcde", 1, 4),
            Err(SpecError::TooLong {
                max: 4,
                found: 5,
                ..
            })
        ));
        assert!(matches!(
            check("支付宝取消", 1, 4),
            Err(SpecError::TooLong { found: 5, .. })
        ));
        assert!(matches!(
            check("", 1, 4),
            Err(SpecError::TooShort {
                min: 1,
                found: 0,
                ..
            })
        ));
        assert!(matches!(
            check("a", 2, 4),
            Err(SpecError::TooShort {
                min: 2,
                found: 1,
                ..
            })
        ));
        assert!(check("", 0, 4).is_ok());
    }
}
