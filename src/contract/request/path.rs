//! Request check 1, `path`: the cancel path, or for a `SANDBOX_` client id the sandbox path
//! (calling the ordinary one is then a SHOULD failure, any other path a MUST failure).

use super::method::expect_eq;
use super::RecordedRequest;
use crate::contract::check::{Check, CheckId, Exception, Failure};
use crate::spec::endpoint;

/// `request[n].path`: the path `client_id` must call.
pub fn path(req: &RecordedRequest, n: usize, client_id: &str) -> Check {
    let wanted = endpoint::path_for(client_id);
    if endpoint::is_sandbox(client_id) && req.path == endpoint::PATH {
        return Exception::SandboxPath.apply(CheckId::Path.fail_on(
            n,
            Failure::new(
                "a SANDBOX_ client id should call the sandbox path",
                wanted,
                &req.path,
            ),
        ));
    }
    CheckId::Path.judged_on(n, expect_eq("path", wanted, &req.path))
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;
    use crate::contract::Level;

    fn at(p: &str) -> super::super::RecordedRequest {
        let mut req = fixture::request();
        req.path = p.into();
        req
    }

    #[test]
    fn the_cancel_path_holds() {
        assert!(path(&at(endpoint::PATH), 1, "TEST_1").held);
        assert!(path(&at(endpoint::SANDBOX_PATH), 1, "SANDBOX_1").held);
    }

    #[test]
    fn another_path_is_a_must_failure() {
        let check = path(&at("/ams/api/v1/payments/pay"), 3, "TEST_1");
        assert_eq!(check.id, "request[3].path");
        assert_eq!(check.level, Level::Must);
        assert!(!check.held);
        assert_eq!(check.expected.as_deref(), Some(endpoint::PATH));
        assert_eq!(check.seen.as_deref(), Some("/ams/api/v1/payments/pay"));
        assert_eq!(check.rule, "docs/contract.md#request-checks 1");
    }

    #[test]
    fn the_sandbox_path_without_a_sandbox_client_id_is_a_must_failure() {
        let check = path(&at(endpoint::SANDBOX_PATH), 1, "TEST_1");
        assert_eq!((check.level, check.held), (Level::Must, false));
        assert_eq!(check.seen.as_deref(), Some(endpoint::SANDBOX_PATH));
    }

    #[test]
    fn a_sandbox_client_id_on_the_ordinary_path_is_a_should_failure() {
        let check = path(&at(endpoint::PATH), 1, "SANDBOX_5YBZ1");
        assert_eq!(check.id, "request[1].path");
        assert_eq!((check.level, check.held), (Level::Should, false));
        assert_eq!(check.rule, "docs/contract.md#request-checks 1 (sandbox)");
        assert_eq!(
            check.message,
            "a SANDBOX_ client id should call the sandbox path"
        );
        assert_eq!(check.expected.as_deref(), Some(endpoint::SANDBOX_PATH));
        assert_eq!(check.seen.as_deref(), Some(endpoint::PATH));
    }

    #[test]
    fn a_sandbox_client_id_elsewhere_is_a_must_failure() {
        let check = path(&at("/elsewhere"), 1, "SANDBOX_5YBZ1");
        assert_eq!((check.level, check.held), (Level::Must, false));
        assert_eq!(check.rule, "docs/contract.md#request-checks 1");
    }
}
