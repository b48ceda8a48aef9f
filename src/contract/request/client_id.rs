//! Request check 3, `client-id`: `Client-Id` is exactly the instruction's.

use super::RecordedRequest;
use crate::contract::check::{Check, CheckId, Failure};
use crate::spec::endpoint::header;

/// `request[n].client-id` (MUST): `Client-Id` equals `expected` exactly, and is not empty.
///
/// An empty `expected` is a session that knows no client id (`serve` without `--client-id`,
/// `proxy`, which take the request's own): a request that carries none, or an empty one, then
/// fails as having no client id, never holds by matching its own emptiness.
pub fn client_id(req: &RecordedRequest, n: usize, expected: &str) -> Check {
    let seen = req.header(header::CLIENT_ID);
    CheckId::ClientId.judged_on(
        n,
        match seen {
            Some(v) if v == expected && !expected.is_empty() => Ok(format!("Client-Id {v}")),
            _ if expected.is_empty() => Err(Failure::new(
                "Client-Id is required: the API names the merchant by it",
                "a client id",
                seen.unwrap_or("(absent)"),
            )),
            _ => Err(Failure::new(
                "Client-Id must be the instruction's client id",
                expected,
                seen.unwrap_or("(absent)"),
            )),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{self, with_header, CLIENT_ID};
    use super::*;
    use crate::contract::Level;

    #[test]
    fn the_instructions_client_id_holds_whatever_the_header_names_case() {
        let mut req = fixture::request();
        for (name, _) in &mut req.headers {
            if name == header::CLIENT_ID {
                *name = "Client-Id".into();
            }
        }
        assert!(client_id(&req, 1, CLIENT_ID).held);
    }

    #[test]
    fn another_client_id_fails() {
        let check = client_id(&fixture::request(), 1, "TEST_OTHER");
        assert_eq!(check.id, "request[1].client-id");
        assert_eq!((check.level, check.held), (Level::Must, false));
        assert_eq!(
            check.message,
            "Client-Id must be the instruction's client id"
        );
        assert_eq!(check.expected.as_deref(), Some("TEST_OTHER"));
        assert_eq!(check.seen.as_deref(), Some(CLIENT_ID));
        assert_eq!(check.rule, "docs/contract.md#request-checks 3");
    }

    /// "Exactly": the value is compared byte for byte, case and surrounding space included.
    #[test]
    fn a_client_id_differing_only_in_case_or_space_fails() {
        for sent in [
            "test_5ybz1",
            "Test_5YBZ1",
            "TEST_5YBZ1 ",
            " TEST_5YBZ1",
            "TEST_5YBZ",
            "",
        ] {
            let req = with_header(fixture::request(), header::CLIENT_ID, Some(sent));
            let check = client_id(&req, 1, CLIENT_ID);
            assert_eq!((check.level, check.held), (Level::Must, false), "{sent:?}");
            assert_eq!(check.seen.as_deref(), Some(sent));
        }
        let check = client_id(&fixture::request(), 1, CLIENT_ID);
        assert_eq!(check.message, format!("Client-Id {CLIENT_ID}"));
    }

    /// A session that knows no client id takes the request's own: none, or an empty one, is
    /// no client id, and fails saying so (it used to hold, empty matching empty).
    #[test]
    fn without_a_known_client_id_an_absent_or_empty_one_fails_as_required() {
        for sent in [None, Some("")] {
            let req = with_header(fixture::request(), header::CLIENT_ID, sent);
            let check = client_id(&req, 2, "");
            assert_eq!(check.id, "request[2].client-id");
            assert_eq!((check.level, check.held), (Level::Must, false), "{sent:?}");
            assert_eq!(
                check.message,
                "Client-Id is required: the API names the merchant by it"
            );
            assert_eq!(check.expected.as_deref(), Some("a client id"));
            assert_eq!(check.seen.as_deref(), Some(sent.unwrap_or("(absent)")));
        }
    }

    #[test]
    fn no_client_id_fails_as_absent() {
        let req = with_header(fixture::request(), header::CLIENT_ID, None);
        let check = client_id(&req, 1, CLIENT_ID);
        assert!(!check.held);
        assert_eq!(check.seen.as_deref(), Some("(absent)"));
    }
}
