//! `cancelTime`: a strict RFC 3339 date-time with an offset that keeps its original text.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone};
use serde::{Deserialize, Serialize};

use super::{error::quote_abbreviated, SpecError};

/// An RFC 3339 `date-time` with an offset, as JSON Schema's `format: date-time` reads it.
///
/// Accepts `YYYY-MM-DDTHH:MM:SS`, an optional fraction of any length, then `Z` or
/// `±HH:MM`; `t` and `z` may be lower case; a leap second `:60` only where it falls on
/// 23:59:60 UTC. Rejects what chrono's lenient parsers let through: a space for `T`,
/// `+0800`, no offset, `UTC`. The text is kept as sent, so a body round-trips byte for
/// byte, and [`CancelTime::instant`] gives the instant it denotes.
///
/// # Errors
/// [`CancelTime::parse`] fails with [`SpecError::NotRfc3339`].
///
/// # Example
/// ```
/// use alipay_cancel_kit::spec::CancelTime;
/// let t = CancelTime::parse("2019-06-12T19:07:11+08:00").unwrap();
/// assert_eq!(t.as_str(), "2019-06-12T19:07:11+08:00");
/// assert_eq!(t.instant().timestamp(), 1_560_337_631);
/// assert!(CancelTime::parse("2019-06-12 19:07:11+08:00").is_err());
/// assert!(CancelTime::parse("2019-06-12T19:07:11+0800").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CancelTime {
    text: String,
    instant: DateTime<FixedOffset>,
}

impl CancelTime {
    /// Parses `text`, naming `/cancelTime` in the error.
    ///
    /// # Errors
    /// [`SpecError::NotRfc3339`] when the text is not an RFC 3339 date-time with offset.
    pub fn parse(text: &str) -> Result<CancelTime, SpecError> {
        Self::at(text, "/cancelTime")
    }

    /// Parses `text`, naming `pointer` in the error.
    ///
    /// # Errors
    /// [`SpecError::NotRfc3339`] when the text is not an RFC 3339 date-time with offset.
    pub fn at(text: &str, pointer: &str) -> Result<CancelTime, SpecError> {
        match parse_rfc3339(text.as_bytes()) {
            Some(instant) => Ok(CancelTime {
                text: text.to_owned(),
                instant,
            }),
            None => Err(SpecError::NotRfc3339 {
                pointer: pointer.to_owned(),
                found: quote_abbreviated(text),
            }),
        }
    }

    /// The text as sent.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The instant, with the offset the text gave. A leap second is chrono's
    /// `:59` with a nanosecond of a billion or more.
    pub fn instant(&self) -> DateTime<FixedOffset> {
        self.instant
    }

    /// The fraction's digits as written (`1234567` for `2019-06-12T19:07:11.1234567+08:00`),
    /// empty when the text has no fraction.
    pub fn fraction(&self) -> &str {
        // The text is valid: `YYYY-MM-DDTHH:MM:SS` is 19 bytes, then `.` and the digits if any.
        let rest = self.text.get(19..).unwrap_or_default();
        let digits = rest.strip_prefix('.').unwrap_or_default();
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        &digits[..end]
    }

    /// Whether both denote the same instant to every fraction digit either text has (not
    /// only to chrono's nanosecond), whatever their offsets or text.
    ///
    /// # Example
    /// ```
    /// use alipay_cancel_kit::spec::CancelTime;
    /// let served = CancelTime::parse("2019-06-12T19:07:11.1234567+08:00").unwrap();
    /// assert!(served.same_instant(&CancelTime::parse("2019-06-12T11:07:11.123456700Z").unwrap()));
    /// assert!(!served.same_instant(&CancelTime::parse("2019-06-12T11:07:11.123Z").unwrap()));
    /// ```
    pub fn same_instant(&self, other: &CancelTime) -> bool {
        Exact::of(self) == Exact::of(other)
    }

    /// Whether the two instants are less than a millisecond apart, exactly (to every fraction
    /// digit either text has): what a client whose time type holds milliseconds, truncating or
    /// rounding, keeps of an instant served with more digits.
    ///
    /// # Example
    /// ```
    /// use alipay_cancel_kit::spec::CancelTime;
    /// let served = CancelTime::parse("2019-06-12T19:07:11.1239999+08:00").unwrap();
    /// let at = |t: &str| CancelTime::parse(t).unwrap();
    /// assert!(served.within_millisecond(&at("2019-06-12T11:07:11.123Z"))); // truncated
    /// assert!(served.within_millisecond(&at("2019-06-12T11:07:11.124Z"))); // rounded
    /// assert!(!served.within_millisecond(&at("2019-06-12T11:07:11.122Z"))); // 1.9999 ms off
    /// assert!(!served.within_millisecond(&at("2019-06-12T19:07:11.123Z"))); // offset dropped
    /// ```
    pub fn within_millisecond(&self, other: &CancelTime) -> bool {
        let (a, b) = (Exact::of(self), Exact::of(other));
        a.moved_one_milli(false) < b && b < a.moved_one_milli(true)
    }
}

/// An instant to every fraction digit: whole seconds since the Unix epoch, then the fraction's
/// digits (0 to 9 each) without trailing zeros, so that the derived order is the order in time
/// (fractions in `[0, 1)` written without trailing zeros compare as their digit strings do). A
/// leap second counts as the first second of the next minute, as POSIX time counts it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Exact {
    seconds: i64,
    fraction: Vec<u8>,
}

impl Exact {
    fn of(t: &CancelTime) -> Exact {
        let leap = t.instant.timestamp_subsec_nanos() >= 1_000_000_000;
        let fraction: Vec<u8> = t
            .fraction()
            .trim_end_matches('0')
            .bytes()
            .map(|b| b - b'0')
            .collect();
        Exact {
            seconds: t.instant.timestamp() + i64::from(leap),
            fraction,
        }
    }

    /// This instant one millisecond later (or earlier), in decimal, so no digit is lost.
    fn moved_one_milli(&self, later: bool) -> Exact {
        let mut digits = self.fraction.clone();
        digits.resize(digits.len().max(3), 0);
        let mut seconds = self.seconds;
        // Add (or take) one at the third digit, carrying (or borrowing) to the left; past the
        // first digit the carry moves the whole second.
        let mut i = 3;
        loop {
            if i == 0 {
                seconds += if later { 1 } else { -1 };
                break;
            }
            i -= 1;
            match (later, digits[i]) {
                (true, 9) => digits[i] = 0,
                (false, 0) => digits[i] = 9,
                (true, d) => {
                    digits[i] = d + 1;
                    break;
                }
                (false, d) => {
                    digits[i] = d - 1;
                    break;
                }
            }
        }
        while let Some(&0) = digits.last() {
            digits.pop();
        }
        Exact {
            seconds,
            fraction: digits,
        }
    }
}

fn two_digits(b: &[u8]) -> Option<u32> {
    match b {
        [h @ b'0'..=b'9', l @ b'0'..=b'9'] => Some(u32::from(h - b'0') * 10 + u32::from(l - b'0')),
        _ => None,
    }
}

/// The grammar of jsonschema's `is_valid_datetime` (RFC 3339 section 5.6 with `t`/`z`
/// lower case allowed), then the instant.
fn parse_rfc3339(b: &[u8]) -> Option<DateTime<FixedOffset>> {
    // date-fullyear "-" date-month "-" date-mday ("T" / "t")
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    let year = two_digits(&b[0..2])? * 100 + two_digits(&b[2..4])?;
    let month = two_digits(&b[5..7])?;
    let day = two_digits(&b[8..10])?;
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    // partial-time: HH ":" MM ":" SS ["." 1*DIGIT]
    let t = &b[11..];
    if t[2] != b':' || t[5] != b':' {
        return None;
    }
    let (hour, minute, second) = (
        two_digits(&t[0..2])?,
        two_digits(&t[3..5])?,
        two_digits(&t[6..8])?,
    );
    // RFC 3339's ranges, one at a time (a leap second's 60 is placed below). chrono would
    // refuse an hour or a minute out of range again; the grammar refuses it first.
    if hour > 23 {
        return None;
    }
    if minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut i = 8;
    let mut nanos: u32 = 0;
    if t.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < t.len() && t[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(t[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..9 {
            nanos *= 10;
        }
    }
    // time-offset: "Z" / "z" / ("+" / "-") HH ":" MM
    let offset_seconds: i32 = match t.get(i)? {
        b'Z' | b'z' if i + 1 == t.len() => 0,
        sign @ (b'+' | b'-') if t.len() - i == 6 && t[i + 3] == b':' => {
            let (oh, om) = (two_digits(&t[i + 1..i + 3])?, two_digits(&t[i + 4..i + 6])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let magnitude = i32::try_from(oh * 3600 + om * 60).ok()?;
            if *sign == b'+' {
                magnitude
            } else {
                -magnitude
            }
        }
        _ => return None,
    };
    if second == 60 {
        // A leap second is inserted at 23:59:60 UTC only.
        let local = i32::try_from(hour * 60 + minute).ok()?;
        let utc = (local - offset_seconds / 60).rem_euclid(24 * 60);
        if utc != 23 * 60 + 59 {
            return None;
        }
    }
    let time = if second == 60 {
        NaiveTime::from_hms_nano_opt(hour, minute, 59, 1_000_000_000 + nanos)?
    } else {
        NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?
    };
    let offset = FixedOffset::east_opt(offset_seconds)?;
    offset.from_local_datetime(&date.and_time(time)).single()
}

impl FromStr for CancelTime {
    type Err = SpecError;

    fn from_str(s: &str) -> Result<Self, SpecError> {
        CancelTime::parse(s)
    }
}

impl TryFrom<String> for CancelTime {
    type Error = SpecError;

    fn try_from(text: String) -> Result<Self, SpecError> {
        match parse_rfc3339(text.as_bytes()) {
            Some(instant) => Ok(CancelTime { text, instant }),
            None => Err(SpecError::NotRfc3339 {
                pointer: "/cancelTime".to_owned(),
                found: quote_abbreviated(&text),
            }),
        }
    }
}

impl From<CancelTime> for String {
    fn from(t: CancelTime) -> String {
        t.text
    }
}

impl fmt::Display for CancelTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
