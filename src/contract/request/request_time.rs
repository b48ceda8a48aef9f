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
/// measured against the moment the request arrived, to the millisecond (300.001 s is outside
/// the window, though it rounds down to 300 whole seconds).
pub fn request_time_skew(req: &RecordedRequest, n: usize) -> Option<Check> {
    let time = req.header(header::REQUEST_TIME)?;
    let at = parse_request_time(time)?;
    let skew = at - req.received_at;
    Some(CheckId::RequestTimeSkew.judged_on(
        n,
        if skew.num_milliseconds().abs() <= REQUEST_TIME_WINDOW_SECS * 1000 {
            Ok(format!(
                "Request-Time within {} s of the kit's clock",
                skew.num_seconds()
            ))
        } else {
            Err(Failure::new(
                "Request-Time should be within 5 minutes of the kit's clock",
                format!(
                    "within ±{REQUEST_TIME_WINDOW_SECS} s of {}",
                    req.received_at.to_rfc3339()
                ),
                format!("{time} ({} s)", signed_seconds(skew.num_milliseconds())),
            ))
        },
    ))
}

/// `+301`, `-300.001`: a skew in seconds, with milliseconds only where it has some (the
/// shortest decimal that reads back as the same number).
fn signed_seconds(millis: i64) -> String {
    format!("{:+}", millis as f64 / 1000.0)
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
            // An offset that is not four ASCII digits is not given a colon (nor split inside
            // a character).
            "2023-06-01T06:12:13+0é0",
            "2023-06-01T06:12:13+08:0",
        ] {
            let check = request_time(&sent_at(Some(text), ARRIVED), 2);
            assert_eq!(check.id, "request[2].request-time");
            assert_eq!((check.level, check.held), (Level::Must, false), "{text}");
            assert_eq!(check.seen.as_deref(), Some(text));
            assert_eq!(check.rule, "docs/contract.md#request-checks 4");
            assert!(request_time_skew(&sent_at(Some(text), ARRIVED), 2).is_none());
        }
    }

    /// Epoch milliseconds are 1 to 16 ASCII digits and nothing else: a sign, or a 17th digit
    /// (even a leading zero), is no SDK's format.
    #[test]
    fn epoch_milliseconds_are_sixteen_digits_at_most_and_unsigned() {
        let at = |millis: i64| DateTime::from_timestamp_millis(millis);
        assert_eq!(parse_request_time("1685599933871"), at(1_685_599_933_871));
        assert_eq!(parse_request_time("0"), at(0));
        assert_eq!(
            parse_request_time("0001685599933871"),
            at(1_685_599_933_871)
        );
        assert_eq!(
            parse_request_time("1685599933871000"),
            at(1_685_599_933_871_000)
        );
        for text in [
            "+1685599933871",
            "-1685599933871",
            "00001685599933871",
            "10000000000000000",
            "1685599933871 ",
            " 1685599933871",
            "1685599933871.5",
            "0x1F",
        ] {
            assert_eq!(parse_request_time(text), None, "{text}");
            let check = request_time(&sent_at(Some(text), ARRIVED), 1);
            assert_eq!((check.level, check.held), (Level::Must, false), "{text}");
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

    /// The window is ±300 s exactly, to the millisecond, ahead of the kit's clock and behind.
    #[test]
    fn the_skew_window_is_three_hundred_seconds_each_way_to_the_millisecond() {
        let skew = |text: &str| request_time_skew(&sent_at(Some(text), ARRIVED), 1).unwrap();
        // ARRIVED is 2023-06-01T06:12:13Z = 1685599933000 ms.
        for held in [
            "2023-06-01T06:17:13Z",
            "2023-06-01T06:07:13Z",
            "1685600233000",
            "1685599633000",
            "2023-06-01T06:17:12.999Z",
        ] {
            assert!(skew(held).held, "{held}: {:?}", skew(held));
        }
        for (failed, seen) in [
            ("2023-06-01T06:17:14Z", "2023-06-01T06:17:14Z (+301 s)"),
            ("2023-06-01T06:07:12Z", "2023-06-01T06:07:12Z (-301 s)"),
            ("1685600233001", "1685600233001 (+300.001 s)"),
            ("1685599632999", "1685599632999 (-300.001 s)"),
            (
                "2023-06-01T06:17:13.5Z",
                "2023-06-01T06:17:13.5Z (+300.5 s)",
            ),
            ("2023-06-01T06:42:13Z", "2023-06-01T06:42:13Z (+1800 s)"),
        ] {
            let check = skew(failed);
            assert_eq!(
                (check.level, check.held),
                (Level::Should, false),
                "{failed}"
            );
            assert_eq!(check.seen.as_deref(), Some(seen));
        }
    }
}
