//! The instruction's `request`: which ids a generated case names, and their text.

use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::capability::{IdKind, Ids};
use crate::spec::endpoint::member;

use super::{id_text, maybe};

/// The `request` of a valid instruction: `paymentId`, `paymentRequestId` or both (1..64
/// characters each), with or without a `merchantAccountId` (1..32).
pub fn cancel_request() -> BoxedStrategy<Map<String, Value>> {
    cancel_request_within(Ids::all())
}

/// [`cancel_request`] for a client that can send only `ids`: the same forms, less those
/// naming an id it lacks. With all three it draws exactly what [`cancel_request`] draws, so
/// a seed replays the same cases.
///
/// A client with neither `paymentId` nor `paymentRequestId` has no valid request; it gets
/// `paymentId` ones (which [`fuzz`](super::fuzz) refuses to run).
pub fn cancel_request_within(ids: Ids) -> BoxedStrategy<Map<String, Value>> {
    let by_payment_id = ids.contains(IdKind::PaymentId);
    let by_request_id = ids.contains(IdKind::PaymentRequestId);
    let ids_drawn = match (by_payment_id, by_request_id) {
        (true, true) => prop_oneof![
            id_text(64).prop_map(|p| (Some(p), None)),
            id_text(64).prop_map(|r| (None, Some(r))),
            (id_text(64), id_text(64)).prop_map(|(p, r)| (Some(p), Some(r))),
        ]
        .boxed(),
        (false, true) => id_text(64).prop_map(|r| (None, Some(r))).boxed(),
        (_, false) => id_text(64).prop_map(|p| (Some(p), None)).boxed(),
    };
    let merchant_account = if ids.contains(IdKind::MerchantAccountId) {
        maybe(0.5, id_text(32)).boxed()
    } else {
        Just(None).boxed()
    };
    (ids_drawn, merchant_account)
        .prop_map(|((payment_id, payment_request_id), merchant_account_id)| {
            let mut m = Map::new();
            for (k, v) in [
                (member::PAYMENT_ID, payment_id),
                (member::PAYMENT_REQUEST_ID, payment_request_id),
                (member::MERCHANT_ACCOUNT_ID, merchant_account_id),
            ] {
                if let Some(v) = v {
                    m.insert(k.to_owned(), Value::String(v));
                }
            }
            m
        })
        .boxed()
}
