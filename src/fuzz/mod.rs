//! Generated conformance cases: `alipay-cancel-kit fuzz`.
//!
//! The fixed catalogue catches the defects someone thought of; generated cases catch the
//! rest. This module holds two things:
//!
//! - **Strategies** (public, so Rust client authors can reuse them in their own proptests):
//!   valid cancel instructions ([`cancel_request`]), valid gateway bodies for every row of the
//!   result-code table and for unknown codes with each status ([`response_body`]), signed
//!   answers ([`answer`]), answer sequences within the retry rules ([`answer_sequence`]) and
//!   whole cases as catalogue [`Scenario`](crate::scenario::Scenario)s ([`scenario`]). Every body they generate is valid
//!   against `schema/cancel-response.schema.json`; the test suite proves it on thousands of
//!   cases.
//! - **The runner** ([`fuzz`]): draws cases from a seeded proptest [`TestRunner`](proptest::test_runner::TestRunner), runs each
//!   through the same gateway, adapter runner and checks as `run` (a [`Harness`](crate::harness::Harness) session),
//!   several at once; on the first case that ends `FAIL` or `ERROR` it stops drawing and
//!   shrinks that case, one run at a time, as proptest does (`simplify` while it still
//!   fails, `complicate` when it passes), to the smallest case that still fails.
//!
//! The rooms: `text` (characters, texts, optional values, ids),
//! `instruction`, `cancel_time`, `body` (response bodies), `answer` (signed answers and
//! sequences), `case` (a whole case as a scenario); then `cases` (drawing and running them),
//! `shrink` and `report` (what a run came to). Everything public is re-exported here, so
//! `fuzz::scenario`, `fuzz::FuzzRun` and the rest are reached from this module.
//!
//! A run is replayed exactly by its seed: case *n* of seed *s* is the same case whatever
//! `--cases` or `--jobs` says, so `--seed s --cases n` replays a failure found at case *n*.
//!
//! # Example
//! ```
//! use alipay_cancel_kit::fuzz::{self, Timing};
//! use alipay_cancel_kit::spec::CancelResponse;
//! use proptest::strategy::{Strategy, ValueTree};
//! use proptest::test_runner::TestRunner;
//!
//! let mut runner = TestRunner::deterministic();
//! let scenario = fuzz::scenario(Timing::default()).new_tree(&mut runner).unwrap().current();
//! for answer in &scenario.answers {
//!     assert!(CancelResponse::from_slice(&answer.body_bytes()).is_ok());
//! }
//! ```

mod answer;
mod body;
mod cancel_time;
mod case;
mod cases;
mod instruction;
mod report;
mod shrink;
mod text;

pub use answer::{answer, answer_sequence, delayed, signing, unusable_answer};
pub use body::{
    body_is_valid, response_body, result_code, result_message, unknown_code, unknown_members,
    unknown_value,
};
pub use cancel_time::{cancel_time, offset, ODD_OFFSETS};
pub use case::{scenario, scenario_within};
pub use cases::{default_jobs, fuzz, fuzz_in, fuzz_until, runner, FuzzConfig};
pub use instruction::{cancel_request, cancel_request_within};
pub use report::{FuzzRun, Replay};
pub use shrink::FuzzFailure;
pub use text::{
    id_text, maybe, message_char, script_char, text, Chars, CharsTree, Maybe, MaybeTree, Text,
    TextTree,
};

/// The scenario group of generated cases; case *n* is `fuzz/case-n`.
pub const GROUP: &str = "fuzz";

/// The rule a generated case enforces.
pub const RULE: &str =
    "docs/contract.md#outcome-rules; docs/contract.md#robustness (a generated case)";

/// Cases per run unless `--cases` says otherwise: about a minute with a fast client.
pub const DEFAULT_CASES: u32 = 10_000;

/// Shrinking steps (cases re-run) at most, unless configured otherwise.
pub const DEFAULT_MAX_SHRINK_ITERS: u32 = 1024;

/// The timing of the cases with a timeout in them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// The instruction's `timeoutMs` in a case where an answer is delayed (other cases use
    /// [`DEFAULT_TIMEOUT_MS`](crate::scenario::DEFAULT_TIMEOUT_MS)).
    pub timeout_ms: u64,
    /// How long a delayed answer waits: past `timeout_ms`, so a client sees a timeout.
    pub delay_ms: u64,
}

impl Default for Timing {
    /// 200 ms allowed, answers delayed 600 ms: short enough for thousands of cases.
    fn default() -> Timing {
        Timing {
            timeout_ms: 200,
            delay_ms: 600,
        }
    }
}
