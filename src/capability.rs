//! The id capabilities of the adapter protocol: which of the request's ids a client can send.
//!
//! Many clients cancel by one kind of id only (a merchant whose payment result never came
//! back holds just its own `paymentRequestId`). An adapter says so by declaring
//! `payment-id`, `payment-request-id` and `merchant-account-id` with `--capabilities`, like
//! `tls`; one that declares none of the three is taken to support all three, so adapters
//! written before the id capabilities keep working unchanged. The kit then instructs only
//! with ids the client declared, and `SKIPPED`s a scenario that is about an id it lacks.

use std::fmt;

use serde_json::{Map, Value};

use crate::spec::endpoint::member;

/// One of the request members a client may or may not be able to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum IdKind {
    /// `paymentId`: the vendor's id of the payment.
    PaymentId,
    /// `paymentRequestId`: the merchant's own id of the payment.
    PaymentRequestId,
    /// `merchantAccountId`: the merchant account the payment belongs to.
    MerchantAccountId,
}

impl IdKind {
    /// The three kinds, in the order reports list them.
    pub const ALL: [IdKind; 3] = [
        IdKind::PaymentId,
        IdKind::PaymentRequestId,
        IdKind::MerchantAccountId,
    ];

    /// The capability an adapter declares for it, e.g. `payment-request-id`.
    pub fn capability(self) -> &'static str {
        match self {
            IdKind::PaymentId => "payment-id",
            IdKind::PaymentRequestId => "payment-request-id",
            IdKind::MerchantAccountId => "merchant-account-id",
        }
    }

    /// The request member it names, e.g. `paymentRequestId`.
    pub fn member(self) -> &'static str {
        match self {
            IdKind::PaymentId => member::PAYMENT_ID,
            IdKind::PaymentRequestId => member::PAYMENT_REQUEST_ID,
            IdKind::MerchantAccountId => member::MERCHANT_ACCOUNT_ID,
        }
    }

    /// The kind a request member names, if it is one of the three.
    pub fn of_member(member: &str) -> Option<IdKind> {
        IdKind::ALL.into_iter().find(|k| k.member() == member)
    }

    /// The kind a capability declares, if it is one of the three.
    pub fn of_capability(capability: &str) -> Option<IdKind> {
        IdKind::ALL
            .into_iter()
            .find(|k| k.capability() == capability)
    }
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.capability())
    }
}

/// The ids a client can send: the ones it declared, or all three when it declared none.
///
/// # Example
/// ```
/// use alipay_cancel_kit::capability::{IdKind, Ids};
/// let legacy = Ids::from_capabilities(&["tls".to_owned()]);
/// assert!(legacy.contains(IdKind::PaymentId) && !legacy.declared());
/// let narrow = Ids::from_capabilities(&["payment-request-id".to_owned()]);
/// assert_eq!(narrow.kinds().collect::<Vec<_>>(), [IdKind::PaymentRequestId]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ids {
    /// One bit per [`IdKind::ALL`] entry.
    bits: u8,
    declared: bool,
}

impl Default for Ids {
    fn default() -> Ids {
        Ids::all()
    }
}

impl Ids {
    /// All three, as for a client that declared none.
    pub fn all() -> Ids {
        Ids {
            bits: 0b111,
            declared: false,
        }
    }

    /// Exactly these kinds, as declared; none at all reads as all three, as in the protocol.
    pub fn only(kinds: impl IntoIterator<Item = IdKind>) -> Ids {
        let bits = kinds.into_iter().fold(0, |bits, k| bits | bit(k));
        if bits == 0 {
            Ids::all()
        } else {
            Ids {
                bits,
                declared: true,
            }
        }
    }

    /// The ids of a capability list (`["tls", "payment-request-id"]`); other names are ignored.
    pub fn from_capabilities(list: &[String]) -> Ids {
        Ids::only(list.iter().filter_map(|c| IdKind::of_capability(c)))
    }

    /// Whether the client can send this kind of id.
    pub fn contains(self, kind: IdKind) -> bool {
        self.bits & bit(kind) != 0
    }

    /// Whether the client declared its ids (`false`: it declared none and is taken to support all).
    pub fn declared(self) -> bool {
        self.declared
    }

    /// The kinds the client can send, in [`IdKind::ALL`] order.
    pub fn kinds(self) -> impl Iterator<Item = IdKind> {
        IdKind::ALL.into_iter().filter(move |k| self.contains(*k))
    }

    /// The id members of `request` the client cannot send, in [`IdKind::ALL`] order.
    pub fn missing(self, request: &Map<String, Value>) -> Vec<IdKind> {
        IdKind::ALL
            .into_iter()
            .filter(|k| request.contains_key(k.member()) && !self.contains(*k))
            .collect()
    }

    /// One line for reports: `paymentRequestId (declared)`, or all three `(none declared)`.
    pub fn describe(self) -> String {
        let members: Vec<&str> = self.kinds().map(IdKind::member).collect();
        let how = if self.declared {
            "declared"
        } else {
            "none declared, so all"
        };
        format!("{} ({how})", members.join(", "))
    }
}

fn bit(kind: IdKind) -> u8 {
    match kind {
        IdKind::PaymentId => 1,
        IdKind::PaymentRequestId => 2,
        IdKind::MerchantAccountId => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_declared_means_all_three_and_any_declared_means_exactly_those() {
        assert_eq!(Ids::from_capabilities(&[]), Ids::all());
        let both = Ids::from_capabilities(&[
            "tls".to_owned(),
            "payment-id".to_owned(),
            "merchant-account-id".to_owned(),
        ]);
        assert!(both.declared());
        assert_eq!(
            both.kinds().collect::<Vec<_>>(),
            [IdKind::PaymentId, IdKind::MerchantAccountId]
        );
        assert_eq!(both.describe(), "paymentId, merchantAccountId (declared)");
        assert_eq!(
            Ids::all().describe(),
            "paymentId, paymentRequestId, merchantAccountId (none declared, so all)"
        );
    }

    #[test]
    fn missing_names_the_members_a_client_cannot_send() {
        let request: Map<String, Value> =
            serde_json::from_str(r#"{"paymentId":"1","merchantAccountId":"M","x":"y"}"#).unwrap();
        let narrow = Ids::only([IdKind::PaymentRequestId]);
        assert_eq!(
            narrow.missing(&request),
            [IdKind::PaymentId, IdKind::MerchantAccountId]
        );
        assert!(Ids::all().missing(&request).is_empty());
    }
}
