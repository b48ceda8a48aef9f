//! The built-in reference client: a cancel client that is correct by the contract.
//!
//! `run` uses it when no `--client` is given, in process; `alipay-cancel-kit
//! reference-adapter` exposes the same client through the adapter protocol, so the exec and
//! persistent paths are exercised end to end. Each [`Defect`] switches on one deliberate bug,
//! for the kit's own sensitivity test: a conformance kit is only as good as the bugs it catches.
//! Each [`Style`] switches on a way real, correct clients differ (absent members written as
//! `null`, a time type that holds only milliseconds or microseconds), for the other half of that
//! test: a kit is trusted only while a correct client never fails.
//!
//! The rooms: `defect` (the switches and the [`Behaviour`] holding them), `error`, `cancel`
//! (the cancel loop), `answer` (reading the gateway's answer into an outcome), `transport`
//! (HTTP/1.1, plain or TLS) and `adapter` (the adapter protocol on standard streams).

mod adapter;
mod answer;
mod cancel;
mod defect;
mod error;
mod transport;

pub use adapter::serve_adapter;
pub use answer::outcome_line;
pub use cancel::cancel;
pub use defect::{Behaviour, Defect, Defects, Style, Styles};
pub use error::{AdapterError, Crash, TlsSetupError, TransportError};

use crate::capability::Ids;
use crate::protocol::Instruction;

/// The adapter capabilities the reference client declares: it speaks HTTPS, trusting exactly
/// the instruction's `caCertificatePem` and checking the host name.
pub const CAPABILITIES: &[&str] = &["tls"];

/// The capabilities the reference client declares when it can send only `ids`: [`CAPABILITIES`]
/// and, unless it sends all three undeclared, the id capabilities.
pub fn capabilities(ids: Ids) -> Vec<String> {
    let mut list: Vec<String> = CAPABILITIES.iter().map(|c| c.to_string()).collect();
    if ids.declared() {
        list.extend(ids.kinds().map(|k| k.capability().to_owned()));
    }
    list
}

/// The instruction as a client that can send only `ids` sees it: the id members it has no
/// way to express are left out, as a client built on such an SDK leaves them out (so a kit
/// that instructed an undeclared id would see the request lack it, and fail the scenario).
pub fn narrowed(instruction: &Instruction, ids: Ids) -> std::borrow::Cow<'_, Instruction> {
    let missing = ids.missing(&instruction.request);
    if missing.is_empty() {
        return std::borrow::Cow::Borrowed(instruction);
    }
    let mut narrow = instruction.clone();
    for kind in missing {
        narrow.request.remove(kind.member());
    }
    std::borrow::Cow::Owned(narrow)
}

/// How many times the reference client calls in all when the answer leaves the result open
/// (`U`, or no usable answer). The contract allows up to 5.
pub const MAX_ATTEMPTS: usize = 3;
