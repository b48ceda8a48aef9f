//! Request check 4: `request-time` (MUST, present and in a format an official SDK sends) and
//! `request-time-skew` (SHOULD, within 5 minutes of the kit's clock).

use chrono::{DateTime, Utc};

use super::RecordedRequest;
use crate::contract::check::{Check, CheckId, Failure};
use crate::spec::endpoint::header;

/// How far `Request-Time` may stray from the kit's clock before a SHOULD fails.
pub const REQUEST_TIME_WINDOW_SECS: i64 = 300;

/// `request[n].request-time` (MUST).
pub fn request_time(req: &RecordedRequest, n: usize) -> Check {
    let time = req.header(header::REQUEST_TIME);
    CheckId::RequestTime.judged_on(
        n,
        match (time, time.and_then(parse_request_time)) {
            (Some(t), Some(_)) => Ok(format!("Request-Time {t}")),
            (seen, _) => Err(Failure::new(
                "Request-Time must be epoch milliseconds or an ISO 8601 date-time with an offset",
                "e.g. 1685599933871 or 2023-06-01T12:00:00+08:00",
                seen.unwrap_or("(absent)"),
            )),
        },
    )
}

/// `request[n].request-time-skew` (SHOULD), made only when `Request-Time` parses: skew is
/// measured against the moment the request arrived.
pub fn request_time_skew(req: &RecordedRequest, n: usize) -> Option<Check> {
    let time = req.header(header::REQUEST_TIME)?;
    let at = parse_request_time(time)?;
    let skew = (at - req.received_at).num_seconds();
    Some(CheckId::RequestTimeSkew.judged_on(
        n,
        if skew.abs() <= REQUEST_TIME_WINDOW_SECS {
            Ok(format!("Request-Time within {skew} s of the kit's clock"))
        } else {
            Err(Failure::new(
                "Request-Time should be within 5 minutes of the kit's clock",
                format!(
                    "within ±{REQUEST_TIME_WINDOW_SECS} s of {}",
                    req.received_at.to_rfc3339()
                ),
                format!("{time} ({skew:+} s)"),
            ))
        },
    ))
}

/// Parses `Request-Time` in any format the official SDKs send: epoch milliseconds, or an
/// ISO 8601 date-time with `Z` or an offset (with or without colon), with or without fraction.
///
/// # Example
/// ```
/// use alipay_cancel_kit::contract::request::parse_request_time;
/// assert!(parse_request_time("1685599933871").is_some());
/// assert!(parse_request_time("2023-06-01T06:12:13+00:00").is_some());
/// assert!(parse_request_time("2023-06-01T14:12:13+0800").is_some());
/// assert!(parse_request_time("2023-06-01T06:12:13.1234567Z").is_some());
/// assert!(parse_request_time("yesterday").is_none());
/// ```
pub fn parse_request_time(text: &str) -> Option<DateTime<Utc>> {
    if !text.is_empty() && text.len() <= 16 && text.bytes().all(|b| b.is_ascii_digit()) {
        let millis: i64 = text.parse().ok()?;
        return DateTime::from_timestamp_millis(millis);
    }
    let bytes = text.as_bytes();
    // `+hhmm` → `+hh:mm`, so one strict RFC 3339 parse covers every SDK's format.
    let normalised = match bytes.len().checked_sub(5).map(|i| (i, bytes[i])) {
        Some((i, b'+' | b'-')) if bytes[i + 1..].iter().all(u8::is_ascii_digit) => {
            format!("{}:{}", &text[..i + 3], &text[i + 3..])
        }
        _ => text.to_owned(),
    };
    if normalised.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    DateTime::parse_from_rfc3339(&normalised)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, with_header};
    use super::*;
    use crate::contract::Level;

    fn sent_at(text: Option<&str>, received: &str) -> RecordedRequest {
        let mut req = with_header(fixture::request(), header::REQUEST_TIME, text);
        req.received_at = received.parse().unwrap();
        req
    }

    const ARRIVED: &str = "2023-06-01T06:12:13Z";

    #[test]
    fn every_sdk_format_holds_and_denotes_its_instant() {
        let instant: DateTime<Utc> = ARRIVED.parse().unwrap();
        for text in [
            "1685599933000",
            "2023-06-01T06:12:13Z",
            "2023-06-01T14:12:13+08:00",
            "2023-06-01T14:12:13+0800",
            "2023-06-01T01:12:13-0500",
            "2023-06-01T06:12:13.000Z",
            "2023-06-01T06:12:13.0000000+00:00",
        ] {
            assert_eq!(parse_request_time(text), Some(instant), "{text}");
            let req = sent_at(Some(text), ARRIVED);
            assert!(request_time(&req, 1).held, "{text}");
            let skew = request_time_skew(&req, 1).unwrap();
            assert!(skew.held, "{text}: {skew:?}");
        }
    }

    #[test]
    fn text_that_is_no_sdks_format_fails() {
        for text in [
            "",
            "yesterday",
            "2023-06-01 06:12:13Z",
            "2023-06-01T06:12:13",
            "2023-06-01",
            "12345678901234567",
        ] {
            let check = request_time(&sent_at(Some(text), ARRIVED), 2);
            assert_eq!(check.id, "request[2].request-time");
            assert_eq!((check.level, check.held), (Level::Must, false), "{text}");
            assert_eq!(check.seen.as_deref(), Some(text));
            assert_eq!(check.rule, "docs/contract.md#request-checks 4");
            assert!(request_time_skew(&sent_at(Some(text), ARRIVED), 2).is_none());
        }
    }

    #[test]
    fn an_absent_request_time_fails_and_skips_the_skew() {
        let req = sent_at(None, ARRIVED);
        let check = request_time(&req, 1);
        assert!(!check.held);
        assert_eq!(check.seen.as_deref(), Some("(absent)"));
        assert!(request_time_skew(&req, 1).is_none());
    }

    #[test]
    fn five_minutes_off_holds_a_second_more_fails() {
        assert!(
            request_time_skew(&sent_at(Some("2023-06-01T06:17:13Z"), ARRIVED), 1)
                .unwrap()
                .held
        );
        let check = request_time_skew(&sent_at(Some("2023-06-01T06:06:12Z"), ARRIVED), 1).unwrap();
        assert_eq!(check.id, "request[1].request-time-skew");
        assert_eq!((check.level, check.held), (Level::Should, false));
        assert_eq!(
            check.message,
            "Request-Time should be within 5 minutes of the kit's clock"
        );
        assert_eq!(
            check.expected.as_deref(),
            Some("within ±300 s of 2023-06-01T06:12:13+00:00")
        );
        assert_eq!(check.seen.as_deref(), Some("2023-06-01T06:06:12Z (-361 s)"));
        assert_eq!(check.rule, "docs/contract.md#request-checks 4 (clock)");
    }
}
