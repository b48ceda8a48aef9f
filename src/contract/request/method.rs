//! Request check 1, `method`: the cancel call is a `POST`.

use super::RecordedRequest;
use crate::contract::check::{Check, CheckId, Failure};
use crate::spec::endpoint;

/// `request[n].method` (MUST): the method is `POST`.
pub fn method(req: &RecordedRequest, n: usize) -> Check {
    CheckId::Method.judged_on(n, expect_eq("method", endpoint::METHOD, &req.method))
}

/// Held when `seen` is `expected`, with the message `<what> <seen>`.
pub(super) fn expect_eq(what: &str, expected: &str, seen: &str) -> Result<String, Failure> {
    if expected == seen {
        Ok(format!("{what} {seen}"))
    } else {
        Err(Failure::new(
            format!("{what} must be {expected}"),
            expected,
            seen,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;
    use crate::contract::Level;

    #[test]
    fn post_holds() {
        let check = method(&fixture::request(), 1);
        assert!(check.held, "{check:?}");
        assert_eq!(check.message, "method POST");
    }

    #[test]
    fn another_method_fails() {
        let mut req = fixture::request();
        req.method = "PUT".into();
        let check = method(&req, 2);
        assert_eq!(check.id, "request[2].method");
        assert_eq!(check.level, Level::Must);
        assert!(!check.held);
        assert_eq!(check.message, "method must be POST");
        assert_eq!(check.expected.as_deref(), Some("POST"));
        assert_eq!(check.seen.as_deref(), Some("PUT"));
        assert_eq!(check.rule, "docs/contract.md#request-checks 1");
    }
}
