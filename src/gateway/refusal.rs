//! The real gateway's refusals (`docs/contract.md#the-gateways-refusals`): which failed request
//! check makes it refuse a request, and with which code, in the contract's order.

use super::answer::Served;
use crate::contract::{Check, CheckId, RecordedRequest};
use crate::spec::endpoint::{self, header};

/// Decides, from a request's checks, whether the real gateway would refuse it, and how;
/// `None` means serve the script. The checks are computed once, when the request arrives,
/// and serve both this decision and the verdict.
pub fn decide(req: &RecordedRequest, checks: &[Check]) -> Option<Served> {
    let failed = |wanted: CheckId| {
        checks
            .iter()
            .filter(|c| !c.held)
            .find(|c| CheckId::from_report_id(&c.id) == Some(wanted))
    };
    if failed(CheckId::ClientId).is_some() {
        let client_id = req
            .header(header::CLIENT_ID)
            .map_or("absent".into(), |v| format!("`{v}`"));
        return Some(Served::unauthenticated(
            "CLIENT_INVALID",
            format!("Client-Id {client_id} is not the merchant's"),
        ));
    }
    if let Some(signature) = failed(CheckId::Signature) {
        return Some(Served::unauthenticated(
            "INVALID_SIGNATURE",
            signature.message.clone(),
        ));
    }
    if !endpoint::is_cancel_path(&req.path) {
        return Some(Served::refused(
            "NO_INTERFACE_DEF",
            format!("no API at `{}`", req.path),
        ));
    }
    failed(CheckId::Body)
        .map(|body| Served::refused("PARAM_ILLEGAL", body.seen.clone().unwrap_or_default()))
}
