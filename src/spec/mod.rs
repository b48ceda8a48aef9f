//! The cancel API's bodies as validated types, and the result-code table.
//!
//! The rules are those of `docs/api.md` (the vendor's page and the five official SDKs);
//! the same rules are written as JSON Schemas under `schema/` (see [`crate::schema`]), and
//! property tests prove both accept exactly the same bodies. Each broken rule is a
//! [`SpecError`] naming the JSON pointer, the [`Rule`], the limit and the value found.
//!
//! - [`ids`]: `paymentId`, `paymentRequestId`, `merchantAccountId` (length in code points).
//! - [`timestamp`]: `cancelTime`, strict RFC 3339 that keeps its text.
//! - [`result`]: `resultStatus`, the open `resultCode`, the `result` object, the table.
//! - [`request`], [`response`]: the two bodies.
//! - [`rule`], [`error`]: the rule catalogue, errors and warnings.
//! - [`endpoint`]: the method, paths, header names and id members of the cancel call.

pub mod endpoint;
pub mod error;
pub mod ids;
pub mod member;
pub mod request;
pub mod response;
pub mod result;
pub mod rule;
pub mod timestamp;

pub use error::*;
pub use ids::*;
pub use request::CancelRequest;
pub use response::CancelResponse;
pub use result::*;
pub use rule::Rule;
pub use timestamp::CancelTime;
