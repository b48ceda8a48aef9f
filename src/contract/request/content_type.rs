//! Request check 2: `content-type` (MUST, a JSON media type, compared case-insensitively, any
//! of a repeated header's values) and `charset` (SHOULD, `charset=UTF-8` declared).

use super::{show_list, RecordedRequest};
use crate::contract::check::{Check, CheckId, Failure};
use crate::spec::endpoint::header;

const WANTED: &str = "application/json; charset=UTF-8";

/// `request[n].content-type` (MUST).
pub fn content_type(req: &RecordedRequest, n: usize) -> Check {
    let types: Vec<&str> = req.header_values(header::CONTENT_TYPE).collect();
    let json = types.iter().any(|t| media_type(t) == "application/json");
    CheckId::ContentType.judged_on(
        n,
        if json {
            Ok(format!("Content-Type {}", types.join(", ")))
        } else {
            Err(Failure::new(
                "Content-Type must be JSON",
                WANTED,
                show_list(&types),
            ))
        },
    )
}

/// `request[n].charset` (SHOULD): a parameter `charset=UTF-8`, any case, quotes tolerated.
pub fn charset(req: &RecordedRequest, n: usize) -> Check {
    let types: Vec<&str> = req.header_values(header::CONTENT_TYPE).collect();
    let utf8 = types.iter().any(|t| {
        t.split(';').skip(1).any(|p| {
            let p = p.trim().to_ascii_lowercase().replace('"', "");
            p == "charset=utf-8"
        })
    });
    CheckId::Charset.judged_on(
        n,
        if utf8 {
            Ok("charset=UTF-8 declared".into())
        } else {
            Err(Failure::new(
                "Content-Type should declare charset=UTF-8",
                WANTED,
                show_list(&types),
            ))
        },
    )
}

fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, with_header};
    use super::*;
    use crate::contract::Level;

    fn typed(values: &[&str]) -> RecordedRequest {
        let mut req = with_header(fixture::request(), header::CONTENT_TYPE, None);
        for v in values {
            req.headers.push(("Content-Type".into(), (*v).into()));
        }
        req
    }

    #[test]
    fn json_in_any_case_with_parameters_holds() {
        assert!(content_type(&typed(&["Application/JSON; charset=utf-8"]), 1).held);
        assert!(content_type(&typed(&["text/plain", "application/json"]), 1).held);
    }

    #[test]
    fn a_type_that_is_not_json_fails() {
        let check = content_type(&typed(&["text/plain; charset=UTF-8"]), 2);
        assert_eq!(check.id, "request[2].content-type");
        assert_eq!((check.level, check.held), (Level::Must, false));
        assert_eq!(check.message, "Content-Type must be JSON");
        assert_eq!(check.expected.as_deref(), Some(WANTED));
        assert_eq!(check.seen.as_deref(), Some("text/plain; charset=UTF-8"));
        assert_eq!(check.rule, "docs/contract.md#request-checks 2");
    }

    /// The media type is `application/json` exactly: another `application/` type, one that
    /// merely starts with `application/json`, or JSON named only in a parameter is not JSON.
    #[test]
    fn only_the_media_type_application_json_holds() {
        for value in [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=UTF-8",
            "application/jsonx",
            "application/json-patch+json",
            "application/",
            "text/json",
            "json",
            "charset=UTF-8; application/json",
            "text/plain; type=application/json",
        ] {
            let check = content_type(&typed(&[value]), 1);
            assert_eq!((check.level, check.held), (Level::Must, false), "{value}");
            assert_eq!(check.seen.as_deref(), Some(value));
        }
        for value in [
            "application/json",
            " application/json ;charset=UTF-8",
            "APPLICATION/JSON",
        ] {
            let check = content_type(&typed(&[value]), 1);
            assert!(check.held, "{value}: {check:?}");
            assert_eq!(check.message, format!("Content-Type {value}"));
        }
    }

    #[test]
    fn no_content_type_fails_as_absent() {
        let check = content_type(&typed(&[]), 1);
        assert!(!check.held);
        assert_eq!(check.seen.as_deref(), Some("(absent)"));
    }

    #[test]
    fn charset_utf8_in_any_case_and_quoted_holds() {
        assert!(charset(&typed(&["application/json; charset=\"utf-8\""]), 1).held);
        assert!(charset(&typed(&["application/json;CHARSET=UTF-8"]), 1).held);
    }

    /// The charset is read from the parameters, any of them, and only from them: not from the
    /// media type, not from a parameter that merely ends in `charset`.
    #[test]
    fn the_charset_is_a_parameter_named_charset() {
        for value in [
            "application/json; version=2; charset=UTF-8",
            "application/json;charset=utf-8;version=2",
            "text/plain; charset=UTF-8",
        ] {
            assert!(charset(&typed(&[value]), 1).held, "{value}");
        }
        for value in [
            "charset=UTF-8",
            "charset=UTF-8; application/json",
            "application/json; xcharset=UTF-8",
            "application/json; charset=UTF-8x",
            "application/json; charset=UTF-16",
            "application/json",
        ] {
            let check = charset(&typed(&[value]), 1);
            assert_eq!((check.level, check.held), (Level::Should, false), "{value}");
        }
        assert_eq!(
            charset(&typed(&["application/json"]), 1).message,
            "Content-Type should declare charset=UTF-8"
        );
    }

    #[test]
    fn no_charset_is_a_should_failure() {
        let check = charset(
            &typed(&["application/json", "application/json; charset=latin1"]),
            4,
        );
        assert_eq!(check.id, "request[4].charset");
        assert_eq!((check.level, check.held), (Level::Should, false));
        assert_eq!(check.message, "Content-Type should declare charset=UTF-8");
        assert_eq!(
            check.seen.as_deref(),
            Some("application/json, application/json; charset=latin1")
        );
        assert_eq!(check.rule, "docs/contract.md#request-checks 2 (charset)");
    }
}
