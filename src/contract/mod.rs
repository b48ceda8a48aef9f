//! The conformance contract (`docs/contract.md`) as code: the lowest layer of the checking
//! side, which the gateway, `serve`, `proxy` and the verdict all stand on.
//!
//! - [`check`]: [`Check`], [`Level`], and [`CheckId`], one variant per check of the contract
//!   with its report id, level and anchor; [`Exception`], where the contract lowers a check.
//! - [`request`]: the request as recorded ([`RecordedRequest`]) and the request checks, one
//!   function per check.
//! - [`outcome`]: the outcome rules, one function per check.
//! - [`answer`]: the classes of answer and the outcomes each accepts; the gateway's refusals,
//!   `fuzz` and `proxy` take them from here.
//!
//! # Example
//! ```
//! use alipay_cancel_kit::contract::request::{self, RecordedRequest};
//! use alipay_cancel_kit::contract::{CheckId, Level};
//! let req = RecordedRequest {
//!     method: "GET".into(),
//!     path: "/ams/api/v1/payments/cancel".into(),
//!     query: None,
//!     headers: vec![],
//!     body: vec![],
//!     received_at: chrono::Utc::now(),
//! };
//! let check = request::method(&req, 1);
//! assert_eq!(check.id, CheckId::Method.report_id(1));
//! assert_eq!((check.level, check.held), (Level::Must, false));
//! assert_eq!(check.seen.as_deref(), Some("GET"));
//! ```

pub mod answer;
pub mod check;
pub mod outcome;
pub mod request;

pub use answer::{classify, AnswerClass, Classified, RawAnswer};
pub use check::{Check, CheckId, Exception, Failure, Level, Values};
pub use request::RecordedRequest;
