//! Generated conformance cases: `alipay-cancel-kit fuzz`.
//!
//! The fixed catalogue catches the defects someone thought of; generated cases catch the
//! rest. This module holds two things:
//!
//! - **Strategies** (public, so Rust client authors can reuse them in their own proptests):
//!   valid cancel instructions ([`cancel_request`]), valid gateway bodies for every row of the
//!   result-code table and for unknown codes with each status ([`response_body`]), signed
//!   answers ([`answer`]), answer sequences within the retry rules ([`answer_sequence`]) and
//!   whole cases as catalogue [`Scenario`]s ([`scenario`]). Every body they generate is valid
//!   against `schema/cancel-response.schema.json`; the test suite proves it on thousands of
//!   cases.
//! - **The runner** ([`fuzz`]): draws cases from a seeded proptest [`TestRunner`], runs each
//!   through the same gateway, adapter runner and checks as `run` (a [`Harness`] session),
//!   several at once; on the first case that ends `FAIL` or `ERROR` it stops drawing and
//!   shrinks that case, one run at a time, as proptest does (`simplify` while it still
//!   fails, `complicate` when it passes), to the smallest case that still fails.
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

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use proptest::char as pchar;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Select, SelectValueTree};
use proptest::strategy::ValueTree;
use proptest::string::{string_regex, RegexGeneratorStrategy};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Map, Number, Value};

use crate::adapter::{Capabilities, StartError};
use crate::capability::{IdKind, Ids};
use crate::contract;
use crate::harness::Harness;
use crate::protocol::OutcomeKind;
use crate::reference_client::{Defect, Style};
use crate::report::{RunReport, WriteError};
use crate::run::{self, Client, RunConfig, RunError, Stop};
use crate::scenario::{
    Answer, Fault, Scenario, Signing, Transport, DEFAULT_CLIENT_ID, DEFAULT_TIMEOUT_MS,
};
use crate::spec::endpoint::member;
use crate::spec::{result_code_table, CancelResponse, ResultStatus};
use crate::verdict::{Check, Level, ScenarioResult, Verdict};

/// The scenario group of generated cases; case *n* is `fuzz/case-n`.
pub const GROUP: &str = "fuzz";

/// The rule a generated case enforces.
pub const RULE: &str =
    "docs/contract.md#outcome-rules; docs/contract.md#robustness (a generated case)";

/// Cases per run unless `--cases` says otherwise: about a minute with a fast client.
pub const DEFAULT_CASES: u32 = 10_000;

/// Shrinking steps (cases re-run) at most, unless configured otherwise.
pub const DEFAULT_MAX_SHRINK_ITERS: u32 = 1024;

/// The members of a response body the spec defines, at either level; generated unknown
/// members never take one of these names (in any case).
const KNOWN_MEMBERS: [&str; 7] = [
    "result",
    member::PAYMENT_ID,
    member::PAYMENT_REQUEST_ID,
    member::CANCEL_TIME,
    "resultCode",
    "resultStatus",
    "resultMessage",
];

/// Codes the vendor uses across its APIs that the cancel table lacks (docs/api.md#result-and-error-codes): an open set.
const CODES_FROM_OTHER_APIS: [&str; 6] = [
    "CLIENT_INVALID",
    "INVALID_CLIENT",
    "INVALID_SIGNATURE",
    "METHOD_NOT_SUPPORTED",
    "MEDIA_TYPE_NOT_ACCEPTABLE",
    "REPEAT_REQ_INCONSISTENT",
];

/// Offsets in use somewhere on Earth that are not whole hours, or are at the range's ends.
pub const ODD_OFFSETS: [&str; 14] = [
    "+05:30", "+05:45", "-03:30", "+09:30", "-09:30", "+03:30", "+04:30", "+06:30", "+08:45",
    "+10:30", "+12:45", "+13:45", "-12:00", "+14:00",
];

/// The timing of the cases with a timeout in them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// The instruction's `timeoutMs` in a case where an answer is delayed (other cases use
    /// [`DEFAULT_TIMEOUT_MS`]).
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

// ---------------------------------------------------------------------------------------
// Text.

/// A character strategy that draws exactly what the `prop_oneof!` of [`proptest::char::range`]s
/// and [`select`]s it stands for draws, for far less.
///
/// proptest's unions build, for every option before the one picked, a lazy tree holding a
/// clone of the runner (the config, a fresh RNG seeded from the runner's, ...), and drop it
/// unused; drawn once per character of every text, that was most of the time spent drawing
/// cases. A `Chars` union makes the same draws (the weighted pick, one
/// [`TestRunner::new_rng`] per option before the picked one, then the picked option's own
/// draws) and builds nothing else, so a seed draws the same cases as with `prop_oneof!`.
///
/// As a [`Strategy`], its tree is the picked range's or selection's own tree: a character
/// shrinks within the option it was drawn from, never to an earlier option (which a
/// `prop_oneof!` tree also tried). Cheap to clone.
#[derive(Clone, Debug)]
pub struct Chars(Arc<CharsKind>);

#[derive(Debug)]
enum CharsKind {
    /// `proptest::char::range(lo, hi)`.
    Range(pchar::CharStrategy<'static>),
    /// `proptest::sample::select(chars)`.
    Select(Select<char>),
    /// `prop_oneof![w0 => a, w1 => b, ...]`, with the weights' sum.
    OneOf(Vec<(u32, Chars)>, u64),
}

impl Chars {
    /// `proptest::char::range(lo, hi)`: a character of `lo..=hi`, biased as proptest biases it.
    pub fn range(lo: char, hi: char) -> Chars {
        Chars(Arc::new(CharsKind::Range(pchar::range(lo, hi))))
    }

    /// `proptest::sample::select(chars)`: one of `chars`, uniformly.
    ///
    /// # Panics
    /// When `chars` is empty.
    pub fn select(chars: Vec<char>) -> Chars {
        Chars(Arc::new(CharsKind::Select(select(chars))))
    }

    /// `prop_oneof![w0 => a, w1 => b, ...]`: one of `options`, each with its weight.
    ///
    /// # Panics
    /// When `options` is empty or a weight is 0 (as `prop_oneof!`).
    pub fn one_of(options: Vec<(u32, Chars)>) -> Chars {
        assert!(!options.is_empty(), "no option to pick");
        assert!(options.iter().all(|(w, _)| *w > 0), "an option of weight 0");
        let total = options.iter().map(|(w, _)| u64::from(*w)).sum();
        Chars(Arc::new(CharsKind::OneOf(options, total)))
    }

    /// Draws a character: the same draws, in the same order, as the `prop_oneof!` tree.
    pub fn draw(&self, runner: &mut TestRunner) -> char {
        self.leaf_tree(runner).current()
    }

    /// The tree of the leaf picked (proptest's `Union::new_tree`, less the trees it drops).
    fn leaf_tree(&self, runner: &mut TestRunner) -> CharsTree {
        match &*self.0 {
            CharsKind::Range(range) => {
                CharsTree::Range(range.new_tree(runner).expect("a char range never rejects"))
            }
            CharsKind::Select(chars) => {
                CharsTree::Select(chars.new_tree(runner).expect("select never rejects"))
            }
            CharsKind::OneOf(options, total) => {
                // proptest's pick_weighted: `Uniform::new(0, total)`, which rand makes
                // `Uniform::new_inclusive(0, total - 1)` for integers; the pick is how many
                // cumulative weights are at or below the draw.
                let drawn = proptest::num::sample_uniform_incl(runner, 0u64, total - 1);
                let mut cumulative = 0u64;
                let mut pick = 0;
                for (weight, _) in options {
                    cumulative += u64::from(*weight);
                    if cumulative > drawn {
                        break;
                    }
                    pick += 1;
                }
                // A union's lazy tree for each option before the pick takes
                // `runner.partial_clone()`, whose only draw is this new RNG.
                for _ in 0..pick {
                    drop(runner.new_rng());
                }
                options[pick].1.leaf_tree(runner)
            }
        }
    }
}

impl Strategy for Chars {
    type Tree = CharsTree;
    type Value = char;

    fn new_tree(&self, runner: &mut TestRunner) -> proptest::strategy::NewTree<Self> {
        Ok(self.leaf_tree(runner))
    }
}

/// The value tree of [`Chars`]: the picked option's own tree.
#[derive(Clone, Debug)]
pub enum CharsTree {
    /// A character of a range.
    Range(pchar::CharValueTree),
    /// A character of a selection.
    Select(SelectValueTree<char>),
}

impl ValueTree for CharsTree {
    type Value = char;

    fn current(&self) -> char {
        match self {
            CharsTree::Range(t) => t.current(),
            CharsTree::Select(t) => t.current(),
        }
    }

    fn simplify(&mut self) -> bool {
        match self {
            CharsTree::Range(t) => t.simplify(),
            CharsTree::Select(t) => t.simplify(),
        }
    }

    fn complicate(&mut self) -> bool {
        match self {
            CharsTree::Range(t) => t.complicate(),
            CharsTree::Select(t) => t.complicate(),
        }
    }
}

/// A character of some script: ASCII, Latin, Greek, Cyrillic, Hebrew, Arabic, Devanagari,
/// Thai, CJK, Hangul, emoji (outside the Basic Multilingual Plane, two UTF-16 units) and
/// combining marks. No control characters.
///
/// Draws what `prop_oneof![6 => pchar::range(' ', '~'), 1 => pchar::range('\u{a1}',
/// '\u{24f}'), ...]` drew (see [`Chars`]).
pub fn script_char() -> Chars {
    static SCRIPT: LazyLock<Chars> = LazyLock::new(|| {
        Chars::one_of(vec![
            (6, Chars::range(' ', '~')),
            (1, Chars::range('\u{a1}', '\u{24f}')),
            (1, Chars::range('\u{391}', '\u{3c9}')),
            (1, Chars::range('\u{410}', '\u{44f}')),
            (1, Chars::range('\u{5d0}', '\u{5ea}')),
            (1, Chars::range('\u{627}', '\u{64a}')),
            (1, Chars::range('\u{905}', '\u{939}')),
            (1, Chars::range('\u{e01}', '\u{e30}')),
            (2, Chars::range('\u{4e00}', '\u{9fff}')),
            (1, Chars::range('\u{ac00}', '\u{d7a3}')),
            (1, Chars::range('\u{1f300}', '\u{1f64f}')),
            (1, Chars::range('\u{300}', '\u{36f}')),
        ])
    });
    SCRIPT.clone()
}

/// A character of a `resultMessage`: any [`script_char`], or one JSON must escape or that
/// trips naive line-based code (`"`, `\`, line feed, tab, U+2028).
///
/// Draws what `prop_oneof![12 => script_char(), 1 => select(vec!['"', ...])]` drew (see
/// [`Chars`]).
pub fn message_char() -> Chars {
    static MESSAGE: LazyLock<Chars> = LazyLock::new(|| {
        Chars::one_of(vec![
            (12, script_char()),
            (
                1,
                Chars::select(vec!['"', '\\', '/', '\n', '\t', '\u{2028}']),
            ),
        ])
    });
    MESSAGE.clone()
}

/// Text of `min..=max` characters drawn from `chars`, the lengths `min` and `max` weighted
/// (a uniform length would almost never hit them). It shrinks fast: first the length, by
/// binary search, then every character at once to `simplest`, then one character at a time;
/// so a failure that needs a long text shrinks to `simplest` repeated just long enough.
///
/// `chars` is a [`Chars`] (a `BoxedStrategy<char>` before): the text draws each character
/// through [`Chars::draw`], building no tree for it.
pub fn text(chars: Chars, min: usize, max: usize, simplest: char) -> Text {
    Text {
        chars,
        min,
        max,
        simplest,
    }
}

/// The strategy of [`text`].
#[derive(Clone, Debug)]
pub struct Text {
    chars: Chars,
    min: usize,
    max: usize,
    simplest: char,
}

impl Strategy for Text {
    type Tree = TextTree;
    type Value = String;

    fn new_tree(&self, runner: &mut TestRunner) -> proptest::strategy::NewTree<Self> {
        let len = match (0u8..6).new_tree(runner)?.current() {
            0 => self.max,
            1 => self.min,
            _ => (self.min..=self.max).new_tree(runner)?.current(),
        };
        let mut chars = Vec::with_capacity(len);
        for _ in 0..len {
            chars.push(self.chars.draw(runner));
        }
        Ok(TextTree {
            chars,
            len,
            lo: self.min,
            hi: len,
            simplest: self.simplest,
            phase: TextPhase::Length,
            pending: None,
        })
    }
}

#[derive(Clone, Copy, Debug)]
enum TextPhase {
    Length,
    AllSimplest,
    Each(usize),
    Done,
}

#[derive(Clone, Debug)]
enum TextUndo {
    Length,
    Chars(Vec<char>),
}

/// The value tree of [`text`].
#[derive(Clone, Debug)]
pub struct TextTree {
    chars: Vec<char>,
    len: usize,
    /// Binary search on the length: `hi` fails, below `lo` passed.
    lo: usize,
    hi: usize,
    simplest: char,
    phase: TextPhase,
    pending: Option<TextUndo>,
}

impl TextTree {
    /// Moves to the next simpler candidate, if any.
    fn propose(&mut self) -> bool {
        loop {
            match self.phase {
                TextPhase::Length if self.lo < self.hi => {
                    self.len = self.lo + (self.hi - self.lo) / 2;
                    self.pending = Some(TextUndo::Length);
                    return true;
                }
                TextPhase::Length => {
                    self.len = self.hi;
                    self.phase = TextPhase::AllSimplest;
                }
                TextPhase::AllSimplest => {
                    self.phase = TextPhase::Each(0);
                    let live = &mut self.chars[..self.len];
                    if live.iter().filter(|c| **c != self.simplest).count() > 1 {
                        self.pending = Some(TextUndo::Chars(live.to_vec()));
                        live.fill(self.simplest);
                        return true;
                    }
                }
                TextPhase::Each(i) => {
                    let Some(j) = (i..self.len).find(|j| self.chars[*j] != self.simplest) else {
                        self.phase = TextPhase::Done;
                        return false;
                    };
                    self.pending = Some(TextUndo::Chars(self.chars[..self.len].to_vec()));
                    self.chars[j] = self.simplest;
                    self.phase = TextPhase::Each(j + 1);
                    return true;
                }
                TextPhase::Done => return false,
            }
        }
    }
}

impl ValueTree for TextTree {
    type Value = String;

    fn current(&self) -> String {
        self.chars[..self.len].iter().collect()
    }

    fn simplify(&mut self) -> bool {
        // The last candidate still failed: keep it.
        if let Some(TextUndo::Length) = self.pending.take() {
            self.hi = self.len;
        }
        self.propose()
    }

    fn complicate(&mut self) -> bool {
        match self.pending.take() {
            None => false,
            Some(undo) => {
                match undo {
                    TextUndo::Length => {
                        self.lo = self.len + 1;
                        self.len = self.hi;
                    }
                    TextUndo::Chars(old) => self.chars[..old.len()].copy_from_slice(&old),
                }
                // Try the next candidate at once; failing that, the last failing value again.
                self.propose();
                true
            }
        }
    }
}

/// `Some` of `inner` with probability `some`, else `None`. Shrinks to `None` first (one run
/// tells whether the member matters at all), and only then shrinks the inner value.
pub fn maybe<S: Strategy>(some: f64, inner: S) -> Maybe<S> {
    Maybe { some, inner }
}

/// The strategy of [`maybe`].
#[derive(Clone, Debug)]
pub struct Maybe<S> {
    some: f64,
    inner: S,
}

impl<S: Strategy> Strategy for Maybe<S> {
    type Tree = MaybeTree<S::Tree>;
    type Value = Option<S::Value>;

    fn new_tree(&self, runner: &mut TestRunner) -> proptest::strategy::NewTree<Self> {
        let draw = (0.0f64..1.0).new_tree(runner)?.current();
        let inner = if draw < self.some {
            Some(self.inner.new_tree(runner)?)
        } else {
            None
        };
        Ok(MaybeTree {
            inner,
            dropped: false,
            state: MaybeState::Start,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MaybeState {
    Start,
    TriedDrop,
    Inner,
    Done,
}

/// The value tree of [`maybe`].
#[derive(Clone, Debug)]
pub struct MaybeTree<T> {
    inner: Option<T>,
    dropped: bool,
    state: MaybeState,
}

impl<T: ValueTree> ValueTree for MaybeTree<T> {
    type Value = Option<T::Value>;

    fn current(&self) -> Option<T::Value> {
        match &self.inner {
            Some(t) if !self.dropped => Some(t.current()),
            _ => None,
        }
    }

    fn simplify(&mut self) -> bool {
        match (self.state, &mut self.inner) {
            (MaybeState::Start, Some(_)) => {
                self.dropped = true;
                self.state = MaybeState::TriedDrop;
                true
            }
            (MaybeState::Inner, Some(t)) => t.simplify(),
            _ => {
                self.state = MaybeState::Done;
                false
            }
        }
    }

    fn complicate(&mut self) -> bool {
        match (self.state, &mut self.inner) {
            (MaybeState::TriedDrop, Some(t)) => {
                self.dropped = false;
                self.state = MaybeState::Inner;
                // Try a simpler inner value at once; failing that, the last failing value again.
                t.simplify();
                true
            }
            (MaybeState::Inner, Some(t)) => t.complicate(),
            _ => false,
        }
    }
}

/// An id of 1 to `max` characters (code points) from one of three alphabets: digits (the
/// vendor's `paymentId` style), `[A-Za-z0-9_-]` (the merchants' style) or any script.
/// The lengths 1 and `max` are weighted, so the extremes come up often.
pub fn id_text(max: usize) -> BoxedStrategy<String> {
    let token = Chars::select(
        ('0'..='9')
            .chain('A'..='Z')
            .chain('a'..='z')
            .chain(['_', '-'])
            .collect::<Vec<char>>(),
    );
    prop_oneof![
        text(Chars::range('0', '9'), 1, max, '0'),
        text(token, 1, max, 'a'),
        text(script_char(), 1, max, 'a'),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------------------
// Instructions.

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
/// `paymentId` ones (which [`fuzz`] refuses to run).
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

// ---------------------------------------------------------------------------------------
// cancelTime.

fn offset_text(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

/// A UTC offset as RFC 3339 writes it: `Z` or `z`, a whole hour from `-12:00` to `+14:00`,
/// one of the [`ODD_OFFSETS`] in real use (`+05:45`, `-03:30`, ...), or any minute of the range.
pub fn offset() -> BoxedStrategy<String> {
    prop_oneof![
        2 => select(vec!["Z", "z"]).prop_map(str::to_owned),
        3 => (-12i32..=14).prop_map(|h| offset_text(h * 60)),
        2 => select(ODD_OFFSETS.to_vec()).prop_map(str::to_owned),
        1 => (-720i32..=840).prop_map(offset_text),
    ]
    .boxed()
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A valid RFC 3339 `cancelTime`: a real date of 2000..2099, any time of day, no fraction or
/// 1 to 9 fraction digits, `T` (or, rarely, `t`), and any [`offset`].
pub fn cancel_time() -> BoxedStrategy<String> {
    let fraction = prop_oneof![
        2 => Just(String::new()),
        1 => vec(Chars::range('0', '9'), 1..=9).prop_map(|d| format!(".{}", d.into_iter().collect::<String>())),
    ];
    let t = prop_oneof![9 => Just('T'), 1 => Just('t')];
    (
        (2000i32..=2099, 1u32..=12, 0u32..31),
        (0u32..24, 0u32..60, 0u32..60),
        fraction,
        t,
        offset(),
    )
        .prop_map(|((year, month, day), (h, m, s), fraction, t, offset)| {
            let day = 1 + day % days_in_month(year, month);
            format!("{year:04}-{month:02}-{day:02}{t}{h:02}:{m:02}:{s:02}{fraction}{offset}")
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------
// Response bodies.

/// A result code with its status: a row of the result-code table, or a code the table lacks
/// (from the vendor's other APIs, or made up, up to 64 characters) with any status. With
/// `status`, only codes with that status.
pub fn result_code(status: Option<ResultStatus>) -> BoxedStrategy<(String, ResultStatus)> {
    let rows: Vec<(String, ResultStatus)> = result_code_table()
        .iter()
        .filter(|r| status.is_none_or(|s| r.result_status == s))
        .map(|r| (r.result_code.clone(), r.result_status))
        .collect();
    let statuses = status.map_or_else(|| ResultStatus::ALL.to_vec(), |s| vec![s]);
    prop_oneof![
        3 => select(rows),
        1 => (unknown_code(), select(statuses)),
    ]
    .boxed()
}

/// A result code the table lacks: one of the vendor's other APIs, or made up (1..64 characters).
pub fn unknown_code() -> BoxedStrategy<String> {
    let known = |c: &String| !result_code_table().iter().any(|r| &r.result_code == c);
    // Regexes parsed once here: a `&str` strategy parses its regex again at every draw (and
    // draws the same).
    prop_oneof![
        2 => regex("[A-Z][A-Z0-9_]{0,30}"),
        1 => select(CODES_FROM_OTHER_APIS.to_vec()).prop_map(str::to_owned),
        1 => regex("[A-Z][A-Z_]{63}"),
    ]
    .prop_filter("a code of the table", known)
    .boxed()
}

/// A `resultMessage` text of 0..256 characters of any script (256 weighted), or a message of
/// the table (Chinese, as the seed has them).
pub fn result_message() -> BoxedStrategy<String> {
    let table: Vec<String> = result_code_table()
        .iter()
        .map(|r| r.message.clone())
        .collect();
    prop_oneof![
        4 => text(message_char(), 0, 64, 'a'),
        2 => text(message_char(), 0, 256, 'a'),
        1 => select(table),
    ]
    .boxed()
}

/// `resultMessage` as a body has it: a text, or (rarely) `null`.
fn message_value() -> BoxedStrategy<Value> {
    prop_oneof![
        6 => result_message().prop_map(Value::String),
        1 => Just(Value::Null),
    ]
    .boxed()
}

/// The strategy of `pattern`, parsed once: it draws what `pattern` as a `&str` strategy draws.
fn regex(pattern: &str) -> RegexGeneratorStrategy<String> {
    string_regex(pattern).expect("a valid regex")
}

fn member_name() -> BoxedStrategy<String> {
    regex("[a-z][A-Za-z0-9_]{0,15}")
        .prop_filter("a member the spec defines", |n: &String| {
            !KNOWN_MEMBERS.iter().any(|k| k.eq_ignore_ascii_case(n))
        })
        .boxed()
}

/// Any JSON value, nested up to three levels: what an unknown member may hold.
pub fn unknown_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        (-1.0e12f64..1.0e12).prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        // A character of these strings shrinks within the script range (or selection) it was
        // drawn from, no longer to an earlier option of message_char's union (see Chars); what
        // a seed draws is unchanged.
        vec(message_char(), 0..16).prop_map(|c| Value::String(c.into_iter().collect())),
    ];
    // prop_recursive calls its closure at every draw: the names' regex is parsed here, once.
    let name = member_name();
    leaf.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((name.clone(), inner), 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// None to three members the spec does not define, with any values (none two times in three).
pub fn unknown_members() -> BoxedStrategy<Vec<(String, Value)>> {
    maybe(0.35, vec((member_name(), unknown_value()), 1..=3))
        .prop_map(Option::unwrap_or_default)
        .boxed()
}

/// Sort keys that put members in any order; `None` (where shrinking goes first) is the
/// spec's order.
fn member_order() -> BoxedStrategy<Vec<u8>> {
    maybe(0.5, vec(any::<u8>(), 8))
        .prop_map(Option::unwrap_or_default)
        .boxed()
}

fn ordered(members: Vec<(String, Value)>, order: &[u8]) -> Map<String, Value> {
    let mut keyed: Vec<(u8, usize, String, Value)> = Vec::new();
    for (i, (k, v)) in members.into_iter().enumerate() {
        if keyed
            .iter()
            .any(|(_, _, seen, _)| seen.eq_ignore_ascii_case(&k))
        {
            continue;
        }
        keyed.push((order.get(i).copied().unwrap_or(0), i, k, v));
    }
    keyed.sort_by_key(|(key, i, _, _)| (*key, *i));
    keyed.into_iter().map(|(_, _, k, v)| (k, v)).collect()
}

/// Members as drawn: names and values, in the spec's order.
type Members = Vec<(String, Value)>;

/// A body from its parts: `result` (code, message, unknown members, their order), then the
/// top-level members (the success ones, unknown ones), in `order`.
fn assemble(
    (code, status): (String, ResultStatus),
    message: Option<Value>,
    (result_extra, result_order): (Members, Vec<u8>),
    (members, extra): (Members, Members),
    order: &[u8],
) -> Value {
    let mut result = vec![
        ("resultCode".to_owned(), Value::String(code)),
        (
            "resultStatus".to_owned(),
            Value::String(status.as_str().to_owned()),
        ),
    ];
    if let Some(message) = message {
        result.push(("resultMessage".to_owned(), message));
    }
    result.extend(result_extra);
    let mut top = vec![(
        "result".to_owned(),
        Value::Object(ordered(result, &result_order)),
    )];
    top.extend(members);
    top.extend(extra);
    Value::Object(ordered(top, order))
}

/// A valid cancel response body: a result code of the table with its status or an unknown
/// code (with `status` when given, else any status), a message absent, `null` or up to 256
/// characters of any script, `paymentId`, `paymentRequestId` and `cancelTime` on `S` (and
/// absent, `null` or present otherwise), unknown members at any depth, members in any order.
///
/// Shrinking goes from the structure (unknown members, order, message, optional members) to
/// the texts, so a shrunk body keeps only what the failure needs.
pub fn response_body(status: Option<ResultStatus>) -> BoxedStrategy<Value> {
    let Some(status) = status else {
        return prop_oneof![
            response_body(Some(ResultStatus::S)),
            response_body(Some(ResultStatus::F)),
            response_body(Some(ResultStatus::U)),
        ]
        .boxed();
    };
    // Returned when resultStatus is S (seed); otherwise absent, null or, rarely, present.
    let members = if status == ResultStatus::S {
        (id_text(64), id_text(64), cancel_time())
            .prop_map(|(p, r, t)| {
                vec![
                    (member::PAYMENT_ID.to_owned(), Value::String(p)),
                    (member::PAYMENT_REQUEST_ID.to_owned(), Value::String(r)),
                    (member::CANCEL_TIME.to_owned(), Value::String(t)),
                ]
            })
            .boxed()
    } else {
        let optional = |s: BoxedStrategy<String>| {
            maybe(
                0.35,
                prop_oneof![2 => s.prop_map(Value::String), 1 => Just(Value::Null)],
            )
        };
        (
            optional(id_text(64)),
            optional(id_text(64)),
            optional(cancel_time()),
        )
            .prop_map(|(p, r, t)| {
                [
                    (member::PAYMENT_ID, p),
                    (member::PAYMENT_REQUEST_ID, r),
                    (member::CANCEL_TIME, t),
                ]
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
                .collect()
            })
            .boxed()
    };
    (
        (unknown_members(), unknown_members()),
        (member_order(), member_order()),
        maybe(0.85, message_value()),
        result_code(Some(status)),
        members,
    )
        .prop_map(
            |((result_extra, extra), (result_order, order), message, code, members)| {
                assemble(
                    code,
                    message,
                    (result_extra, result_order),
                    (members, extra),
                    &order,
                )
            },
        )
        .boxed()
}

// ---------------------------------------------------------------------------------------
// Answers and sequences.

fn status_of(body: &Value) -> ResultStatus {
    crate::scenario::served_status(body).unwrap_or(ResultStatus::U)
}

/// What a client must surface when this answer, served at once, is the last it got: the
/// contract's word for its class.
fn contract_accepts(answer: &Answer) -> Vec<OutcomeKind> {
    let (class, status) = contract::answer::scripted_class(answer);
    class.accepts(status)
}

/// A correct signing policy: the plain one mostly, sometimes with lower-case percent
/// escapes (.NET) or spaces after the commas (the docs' example).
pub fn signing() -> BoxedStrategy<Signing> {
    prop_oneof![
        6 => Just(Signing::Signed),
        1 => Just(Signing::SignedLowercaseEscapes),
        1 => Just(Signing::SignedSpaced),
    ]
    .boxed()
}

/// A correctly signed HTTP 200 answer with a [`response_body`], answered at once, with the
/// outcome the contract requires for it.
pub fn answer(status: Option<ResultStatus>) -> BoxedStrategy<Answer> {
    (response_body(status), signing())
        .prop_map(|(body, signing)| {
            let mut answer = Answer {
                status: 200,
                body: Some(body),
                raw_body: None,
                signing,
                delay_ms: 0,
                fault: None,
                accept: Vec::new(),
                prefer: Vec::new(),
            };
            answer.accept = contract_accepts(&answer);
            answer
        })
        .boxed()
}

/// An answer delayed past the instruction's timeout: a client that gave up sees no answer
/// (`UNKNOWN`, preferred); one that waited may surface the answer itself, as the catalogue's
/// `retry/timeout-then-success` allows.
pub fn delayed(mut answer: Answer, delay_ms: u64) -> Answer {
    answer.delay_ms = delay_ms;
    (answer.accept, answer.prefer) = contract::answer::late(&answer.accept);
    answer
}

/// An answer no client may believe, so it must surface `UNKNOWN` (and may call again): a
/// signature made over another body or with another key, or sent as raw base64; a success
/// or unknown answer without signature; an HTTP error status; the connection closed before
/// any response, or the body cut short. An unsigned `F` may also be surfaced as `FAILED`.
pub fn unusable_answer() -> BoxedStrategy<Answer> {
    let bad_signature = prop_oneof![
        Just(Signing::Tampered),
        Just(Signing::OtherKey),
        Just(Signing::RawBase64Tampered),
        Just(Signing::EmptySignature),
    ];
    prop_oneof![
        (answer(None), bad_signature).prop_map(|(mut a, signing)| {
            a.signing = signing;
            a.accept = contract_accepts(&a);
            a
        }),
        answer(None).prop_map(|mut a| {
            a.signing = Signing::Unsigned;
            a.accept = contract_accepts(&a);
            a
        }),
        (
            answer(None),
            prop_oneof![Just(500u16), Just(502), Just(429)]
        )
            .prop_map(|(mut a, status)| {
                a.status = status;
                a.accept = contract_accepts(&a);
                a
            }),
        (
            answer(None),
            prop_oneof![Just(Fault::CloseBeforeResponse), Just(Fault::TruncateBody)]
        )
            .prop_map(|(mut a, fault)| {
                a.fault = Some(fault);
                a.accept = contract_accepts(&a);
                a
            }),
    ]
    .boxed()
}

/// The gateway's answers for one case, within the retry rules (at most 4, so a client calling
/// up to 5 times reaches the last): none to three answers that leave the result open (`U`,
/// an [`unusable_answer`], or, rarely, any answer delayed past the timeout), then a final
/// `S`, `F` or `U`.
/// So: S; F; U; U then S; U then F; timeout then S; and longer mixes.
pub fn answer_sequence(timing: Timing) -> BoxedStrategy<Vec<Answer>> {
    let open = prop_oneof![
        12 => answer(Some(ResultStatus::U)),
        1 => answer(None).prop_map(move |a| delayed(a, timing.delay_ms)),
        4 => unusable_answer(),
    ];
    let prefix = maybe(0.4, vec(open, 1..=3)).prop_map(Option::unwrap_or_default);
    let last = prop_oneof![
        3 => answer(Some(ResultStatus::S)),
        3 => answer(Some(ResultStatus::F)),
        1 => answer(Some(ResultStatus::U)),
    ];
    (prefix, last)
        .prop_map(|(mut answers, last)| {
            answers.push(last);
            answers
        })
        .boxed()
}

/// A whole case as a catalogue scenario (`fuzz/case`): a [`cancel_request`], an
/// [`answer_sequence`], and, half the time, success bodies that echo the instructed ids.
pub fn scenario(timing: Timing) -> BoxedStrategy<Scenario> {
    scenario_within(timing, Ids::all())
}

/// [`scenario`] for a client that can send only `ids` (see [`cancel_request_within`]).
pub fn scenario_within(timing: Timing, ids: Ids) -> BoxedStrategy<Scenario> {
    (
        cancel_request_within(ids),
        answer_sequence(timing),
        any::<bool>(),
    )
        .prop_map(move |(request, mut answers, echo)| {
            if echo {
                for body in answers.iter_mut().filter_map(|a| a.body.as_mut()) {
                    if status_of(body) != ResultStatus::S {
                        continue;
                    }
                    let Value::Object(members) = body else {
                        continue;
                    };
                    for field in [member::PAYMENT_ID, member::PAYMENT_REQUEST_ID] {
                        if let Some(id) = request.get(field) {
                            members.insert(field.to_owned(), id.clone());
                        }
                    }
                }
            }
            let delayed = answers.iter().any(|a| a.delay_ms > 0);
            Scenario {
                id: format!("{GROUP}/case"),
                title: describe(&request, &answers),
                rule: RULE.to_owned(),
                needs: Vec::new(),
                client_id: DEFAULT_CLIENT_ID.to_owned(),
                request,
                request_alternatives: Vec::new(),
                timeout_ms: if delayed {
                    timing.timeout_ms
                } else {
                    DEFAULT_TIMEOUT_MS
                },
                transport: Transport::Plain,
                local_validation: false,
                accept_without_request: Vec::new(),
                answers,
            }
        })
        .boxed()
}

/// A one-line title: the request's fields, then each answer by its HTTP status, its kind (the
/// contract's class of answer) and its result (`HTTP 200 signed-unknown U UNKNOWN_EXCEPTION,
/// then HTTP 200 signed-success S SUCCESS at 2019-06-12T16:52:11+05:45`): an unsigned `S` or an
/// HTTP 500 carrying an `F` reads as what it is, not as its result code alone.
fn describe(request: &Map<String, Value>, answers: &[Answer]) -> String {
    let fields: Vec<&str> = request.keys().map(String::as_str).collect();
    let steps: Vec<String> = answers
        .iter()
        .map(|a| {
            let body = a.body.as_ref();
            let (class, _) = contract::answer::scripted_class(a);
            let mut s = format!("HTTP {} {}", a.status, class.as_str());
            if let Some(code) = body
                .and_then(|b| b.pointer("/result/resultCode"))
                .and_then(Value::as_str)
            {
                s.push_str(&format!(
                    " {} {code}",
                    body.map_or(ResultStatus::U, status_of)
                ));
            }
            if let Some(t) = body
                .and_then(|b| b.get("cancelTime"))
                .and_then(Value::as_str)
            {
                s.push_str(&format!(" at {t}"));
            }
            if a.delay_ms > 0 {
                s = format!("{s} delayed past the timeout");
            }
            s
        })
        .collect();
    format!(
        "generated: {} sent; {}",
        fields.join("+"),
        steps.join(", then ")
    )
}

// ---------------------------------------------------------------------------------------
// The runner.

/// What one fuzz run does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuzzConfig {
    /// How many cases to draw (at most; the run stops at the first failing one).
    pub cases: u32,
    /// The seed of the case generator: the same seed draws the same cases.
    pub seed: u64,
    /// At most this many cases are re-run while shrinking.
    pub max_shrink_iters: u32,
    /// Timeouts and delays of the cases that have one.
    pub timing: Timing,
}

impl Default for FuzzConfig {
    fn default() -> FuzzConfig {
        FuzzConfig {
            cases: DEFAULT_CASES,
            seed: 0,
            max_shrink_iters: DEFAULT_MAX_SHRINK_ITERS,
            timing: Timing::default(),
        }
    }
}

/// The first failing case of a run, and what shrinking made of it.
#[derive(Clone, Debug)]
pub struct FuzzFailure {
    /// The case's number (1-based): `--seed S --cases N` replays up to it.
    pub case: u32,
    /// The case as drawn.
    pub original: Scenario,
    /// Its verdict as drawn.
    pub original_result: ScenarioResult,
    /// The smallest case found that still fails.
    pub shrunk: Scenario,
    /// The shrunk case's result: its verdict and the failed checks.
    pub result: ScenarioResult,
    /// Cases run while shrinking.
    pub shrink_runs: u32,
    /// Of which failed (each made the case smaller).
    pub shrink_steps: u32,
}

/// What a fuzz run came to.
#[derive(Clone, Debug)]
pub struct FuzzRun {
    /// The seed that replays the run.
    pub seed: u64,
    /// Cases asked for.
    pub cases: u32,
    /// Cases run to a verdict (shrinking not counted).
    pub cases_run: u32,
    /// Cases that ended `NON_STRICT` (a `SHOULD` broken), up to 20 of them kept.
    pub non_strict: Vec<ScenarioResult>,
    /// How many cases ended `NON_STRICT` in all.
    pub non_strict_count: u32,
    /// Cases that failed among many jobs but passed when run again alone (a timeout under
    /// load, or a client that is not deterministic); reported, not failing the run.
    pub flaky: Vec<ScenarioResult>,
    /// The first failing case that failed again alone, shrunk; `None` when no case did.
    pub failure: Option<FuzzFailure>,
    /// What the adapter declared.
    pub capabilities: Capabilities,
    /// Wall time drawing and running the cases (shrinking excluded).
    pub cases_duration: Duration,
    /// Wall time of the whole run.
    pub duration: Duration,
    /// Set when a signal cut the run short (`SIGINT`, `SIGTERM`): the report says so, and
    /// lists the cases under way as not run.
    pub interrupted: Option<String>,
    /// The cases under way when the run was interrupted; they ran to no verdict.
    pub not_run: Vec<Scenario>,
}

impl FuzzRun {
    /// Cases per second, shrinking excluded.
    pub fn cases_per_second(&self) -> f64 {
        f64::from(self.cases_run) / self.cases_duration.as_secs_f64().max(1e-9)
    }

    /// The run as a report: the failing case, shrunk, when there is one; otherwise one
    /// `fuzz/summary` entry (and the cases that ended `NON_STRICT`).
    pub fn report(&self, client: &Client) -> RunReport {
        let scenarios = match &self.failure {
            Some(f) => vec![f.result.clone()],
            None => {
                let mut list = vec![self.summary_result()];
                list.extend(self.non_strict.iter().cloned());
                list
            }
        };
        let mut report = RunReport::new(client.describe(), client.mode(), scenarios);
        if let Some(signal) = &self.interrupted {
            report
                .scenarios
                .extend(self.not_run.iter().map(|case| run::not_run(case, signal)));
            report.summary = crate::report::Summary::of(&report.scenarios);
            report.interrupted = Some(crate::report::Interrupted {
                signal: signal.clone(),
                not_run: self.not_run.iter().map(|case| case.id.clone()).collect(),
            });
        }
        report.set_capabilities(&self.capabilities);
        report.duration_ms = self.duration.as_secs_f64() * 1000.0;
        report
    }

    fn summary_result(&self) -> ScenarioResult {
        let mut message = format!(
            "{} generated cases (seed {}) ended PASS or NON_STRICT ({} NON_STRICT)",
            self.cases_run, self.seed, self.non_strict_count
        );
        if let Some(signal) = &self.interrupted {
            message.push_str(&format!(
                "; interrupted ({signal}) before the {} cases asked for",
                self.cases
            ));
        }
        let mut checks = vec![Check::pass("fuzz.cases", Level::Must, RULE, message)];
        for f in &self.flaky {
            let why: Vec<String> = f
                .failed_checks()
                .map(|c| c.message.clone())
                .chain(f.reason.clone())
                .collect();
            checks.push(Check::fail(
                "fuzz.flaky",
                Level::Info,
                RULE,
                format!(
                    "{} ended {} among the other jobs but passed alone: {}",
                    f.id,
                    f.verdict,
                    why.join("; ")
                ),
                "the same verdict alone",
                "PASS alone",
            ));
        }
        ScenarioResult {
            id: format!("{GROUP}/summary"),
            title: format!("{} generated cases, seed {}", self.cases_run, self.seed),
            rule: RULE.to_owned(),
            verdict: Verdict::Pass,
            reason: None,
            checks,
            requests: 0,
            outcome: None,
            stderr: String::new(),
            duration_ms: self.cases_duration.as_secs_f64() * 1000.0,
            adapter_ms: 0.0,
            transcript: Vec::new(),
        }
    }

    /// The shrunk failing case as a catalogue group file (`{"group": "fuzz", "scenarios":
    /// [...]}`), loadable by [`crate::scenario::Catalogue::from_sources`] and `run --catalogue`.
    /// Its id, `fuzz/seed-<seed>-case-<n>`, names where it was found, so cases saved from
    /// several runs load side by side.
    pub fn scenario_file(&self) -> Option<String> {
        let f = self.failure.as_ref()?;
        let mut shrunk = f.shrunk.clone();
        shrunk.id = format!("{GROUP}/seed-{}-case-{}", self.seed, f.case);
        let file = serde_json::json!({
            "$comment": format!(
                "found by fuzz: seed {}, case {} of {}, shrunk in {} steps ({} runs); replay with --seed {} --cases {}",
                self.seed, f.case, self.cases, f.shrink_steps, f.shrink_runs, self.seed, f.case
            ),
            "group": GROUP,
            "scenarios": [shrunk],
        });
        Some(serde_json::to_string_pretty(&file).expect("a scenario serialises") + "\n")
    }
}

impl FuzzRun {
    /// What the terminal says of a run without a failure: the ids, then how it ended (passed,
    /// or interrupted), then a warning per flaky case.
    pub fn passed_text(&self, report: &RunReport) -> String {
        let seed = self.seed;
        let mut out = format!("ids: {}\n", report.id_set().describe());
        if let Some(signal) = &self.interrupted {
            out.push_str(&format!(
                "INTERRUPTED ({signal}): {} cases passed ({} NON_STRICT), {} under way not run, of {} asked for; seed {seed}\n",
                self.cases_run,
                self.non_strict_count,
                self.not_run.len(),
                self.cases
            ));
            return out;
        }
        out.push_str(&format!(
            "PASS: {} cases ({} NON_STRICT) in {:.1} s, {:.0} cases/s; seed {seed}\n",
            self.cases_run,
            self.non_strict_count,
            self.cases_duration.as_secs_f64(),
            self.cases_per_second()
        ));
        for f in &self.flaky {
            out.push_str(&format!(
                "warning: {} ended {} among the other jobs but passed alone (flaky; a timeout under load?): {}\n",
                f.id,
                f.verdict,
                f.failed_checks()
                    .map(|c| c.message.as_str())
                    .chain(f.reason.as_deref())
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        out
    }

    /// What the terminal says of a failure: how it was found and shrunk, the shrunk case's
    /// report (`terminal`), the case as a catalogue file, the command that replays it.
    pub fn failure_text(&self, terminal: &str, replay: &Replay<'_>) -> Option<String> {
        let failure = self.failure.as_ref()?;
        let seed = self.seed;
        Some(format!(
            "case {} of seed {seed} ended {}; shrunk in {} steps ({} runs) to:\n\n{terminal}\nthe shrunk case, as a catalogue file:\n\n{}\nreplay: {}\n",
            failure.case,
            failure.original_result.verdict,
            failure.shrink_steps,
            failure.shrink_runs,
            self.scenario_file().unwrap_or_default(),
            replay.command(seed, failure.case)
        ))
    }

    /// Saves the shrunk failing case to `path` (`--save-case`); says what was done.
    ///
    /// # Errors
    /// [`WriteError`] when the file cannot be written.
    pub fn save_case(&self, path: &std::path::Path) -> Result<String, WriteError> {
        match self.scenario_file() {
            Some(file) => {
                crate::report::files::write(path, file)?;
                Ok(format!(
                    "the shrunk case is saved in {0}: `alipay-cancel-kit run --catalogue {0} --catalogue-only ...` replays it",
                    path.display()
                ))
            }
            None => Ok(format!(
                "no case failed: nothing saved in {}",
                path.display()
            )),
        }
    }
}

/// What a fuzz run was started with, as far as replaying its failure needs it.
#[derive(Clone, Copy, Debug)]
pub struct Replay<'a> {
    /// The adapter command, if any.
    pub client: Option<&'a str>,
    /// `--persistent`.
    pub persistent: bool,
    /// The built-in client's defects.
    pub defects: &'a [Defect],
    /// The built-in client's styles.
    pub styles: &'a [Style],
    /// `--timeout-ms`.
    pub timeout_ms: u64,
}

impl Replay<'_> {
    /// The command line that replays case `case` of `seed`.
    pub fn command(&self, seed: u64, case: u32) -> String {
        let mut replay = format!("alipay-cancel-kit fuzz --seed {seed} --cases {case}");
        if let Some(command) = self.client {
            replay.push_str(&format!(" --client '{}'", command.replace('\'', r"'\''")));
        }
        if self.persistent {
            replay.push_str(" --persistent");
        }
        for d in self.defects {
            replay.push_str(&format!(" --defect {}", d.name()));
        }
        for s in self.styles {
            replay.push_str(&format!(" --style {}", s.name()));
        }
        if self.timeout_ms != Timing::default().timeout_ms {
            replay.push_str(&format!(" --timeout-ms {}", self.timeout_ms));
        }
        replay
    }
}

/// Cases run at once by default: 16 in process; for an adapter, 12 per core, since a delayed
/// case holds its job for the whole delay while using no CPU, so the CPU stays busy only
/// with many jobs (12 per core measured fastest; README, "Fuzzing").
pub fn default_jobs(client: &Client) -> usize {
    match client {
        Client::InProcess(_) | Client::InProcessWithIds { .. } => 16,
        Client::Adapter { .. } => 12 * crate::harness::cores(),
    }
}

/// The generator of a seed: proptest's ChaCha RNG, keyed by the seed's 8 bytes.
pub fn runner(seed: u64, max_shrink_iters: u32) -> TestRunner {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        max_shrink_iters,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &key))
}

fn case_id(n: u32) -> String {
    format!("{GROUP}/case-{n}")
}

/// Runs up to `config.cases` generated cases against the client of `run_config`, `jobs` at
/// a time, stops at the first that ends `FAIL` or `ERROR` and shrinks it.
///
/// # Errors
/// [`RunError::Adapter`] when the adapter command cannot be started at all.
pub async fn fuzz(config: &FuzzConfig, run_config: &RunConfig) -> Result<FuzzRun, RunError> {
    fuzz_until(config, run_config, &Stop::new()).await
}

/// [`fuzz`] that ends early when `stop` is requested: no case starts after it, the cases under
/// way are dropped (their adapters' process groups killed) and listed as not run, and a
/// failure being shrunk is reported as shrunk so far.
///
/// # Errors
/// [`RunError::Adapter`] when the adapter command cannot be started at all.
pub async fn fuzz_until(
    config: &FuzzConfig,
    run_config: &RunConfig,
    stop: &Stop,
) -> Result<FuzzRun, RunError> {
    let harness = Harness::start(run_config.clone(), stop.clone()).await?;
    let run = fuzz_in(&harness, config).await;
    harness.shutdown().await;
    run
}

/// A fuzz run in a started session.
///
/// # Errors
/// [`RunError::Adapter`] when the client declares no id an instruction can name alone.
pub async fn fuzz_in(harness: &Harness, config: &FuzzConfig) -> Result<FuzzRun, RunError> {
    let ids = harness.ids();
    if !ids.contains(IdKind::PaymentId) && !ids.contains(IdKind::PaymentRequestId) {
        return Err(RunError::Adapter(StartError::NoUsableId(ids)));
    }
    let mut cases = Cases::new(config, ids);
    let mut cases_duration;
    let failure = loop {
        cases.run(harness, config.cases).await;
        cases_duration = harness.elapsed();
        let Some(failing) = cases.first_failure() else {
            break None;
        };
        // Confirm alone, off the load of the other jobs: a timeout case can fail only
        // because the machine was busy. A failure that does not repeat is reported as flaky
        // and the run goes on.
        let again = tokio::select! {
            biased;
            // Interrupted before the confirmation: the failure stands as first seen.
            _ = harness.stop().requested() => failing.result.clone(),
            again = harness.run_scenario(&failing.case) => again,
        };
        if !again.verdict.is_failure() {
            cases.flaky.push(failing.result);
            continue;
        }
        break Some(shrink(harness, failing, config.max_shrink_iters).await);
    };
    let interrupted = harness.stopped();
    let mut not_run: Vec<(u32, Scenario)> = cases.under_way.into_iter().collect();
    not_run.sort_by_key(|(n, _)| *n);
    Ok(FuzzRun {
        seed: config.seed,
        cases: config.cases,
        cases_run: cases.cases_run,
        non_strict: cases.non_strict,
        non_strict_count: cases.non_strict_count,
        flaky: cases.flaky,
        failure,
        capabilities: harness.capabilities().clone(),
        cases_duration,
        duration: harness.elapsed(),
        not_run: match interrupted {
            Some(_) => not_run.into_iter().map(|(_, case)| case).collect(),
            None => Vec::new(),
        },
        interrupted,
    })
}

/// The cases of a run: drawn in order, run `jobs` at a time, their trees kept until they pass
/// (a failing one is shrunk from its tree).
struct Cases {
    strategy: BoxedStrategy<Scenario>,
    runner: TestRunner,
    trees: HashMap<u32, Box<dyn ValueTree<Value = Scenario>>>,
    failing: HashMap<u32, (Scenario, ScenarioResult)>,
    tasks: tokio::task::JoinSet<(u32, Scenario, ScenarioResult)>,
    /// The cases started and not yet finished, for an interrupted run's report.
    under_way: HashMap<u32, Scenario>,
    next: u32,
    cases_run: u32,
    non_strict: Vec<ScenarioResult>,
    non_strict_count: u32,
    flaky: Vec<ScenarioResult>,
}

/// A case that failed among the other jobs, with the tree it was drawn from.
struct Failing {
    n: u32,
    tree: Box<dyn ValueTree<Value = Scenario>>,
    case: Scenario,
    result: ScenarioResult,
}

impl Cases {
    fn new(config: &FuzzConfig, ids: Ids) -> Cases {
        Cases {
            strategy: scenario_within(config.timing, ids),
            runner: runner(config.seed, config.max_shrink_iters),
            trees: HashMap::new(),
            failing: HashMap::new(),
            tasks: tokio::task::JoinSet::new(),
            under_way: HashMap::new(),
            next: 1,
            cases_run: 0,
            non_strict: Vec::new(),
            non_strict_count: 0,
            flaky: Vec::new(),
        }
    }

    /// Draws and runs cases until one fails (and those under way have finished), all
    /// `cases` ran, or a stop is requested (the cases under way are then dropped).
    async fn run(&mut self, harness: &Harness, cases: u32) {
        loop {
            while self.failing.is_empty()
                && self.next <= cases
                && self.tasks.len() < harness.config().jobs.max(1)
                && harness.stopped().is_none()
            {
                self.start_next(harness);
            }
            let joined = tokio::select! {
                biased;
                _ = harness.stop().requested() => break,
                joined = self.tasks.join_next() => joined,
            };
            let Some(joined) = joined else {
                break;
            };
            let (n, case, result) =
                joined.unwrap_or_else(|e| panic!("a fuzz case task failed: {e}"));
            self.finished(n, case, result);
        }
        if harness.stopped().is_some() {
            // Dropping a case's future kills its adapter's process group; waiting for the
            // aborted tasks makes sure every one is gone before the report is written.
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
        }
    }

    fn start_next(&mut self, harness: &Harness) {
        let tree = self
            .strategy
            .new_tree(&mut self.runner)
            .expect("the fuzz strategies reject almost nothing");
        let mut case = tree.current();
        let n = self.next;
        case.id = case_id(n);
        self.trees.insert(n, tree);
        self.under_way.insert(n, case.clone());
        self.tasks.spawn(run_case(harness.clone(), n, case));
        self.next += 1;
    }

    fn finished(&mut self, n: u32, case: Scenario, result: ScenarioResult) {
        self.under_way.remove(&n);
        self.cases_run += 1;
        if result.verdict.is_failure() {
            self.failing.insert(n, (case, result));
            return;
        }
        self.trees.remove(&n);
        if result.verdict == Verdict::NonStrict {
            self.non_strict_count += 1;
            if self.non_strict.len() < 20 {
                self.non_strict.push(result);
            }
        }
    }

    /// The first failing case in drawing order: every case before it ran, so the choice does
    /// not depend on which job finished first.
    fn first_failure(&mut self) -> Option<Failing> {
        let n = self.failing.keys().min().copied()?;
        let (case, result) = self.failing.remove(&n).expect("present");
        let tree = self.trees.remove(&n).expect("kept until it passes");
        Some(Failing {
            n,
            tree,
            case,
            result,
        })
    }
}

/// Runs case `n`: the one path every generated case takes.
async fn run_case(harness: Harness, n: u32, case: Scenario) -> (u32, Scenario, ScenarioResult) {
    let result = harness.run_scenario(&case).await;
    (n, case, result)
}

/// proptest's shrinking loop, one run at a time: `simplify` while the case still fails,
/// `complicate` once it passes, until neither moves or `max_runs` cases were run.
async fn shrink(harness: &Harness, failing: Failing, max_runs: u32) -> FuzzFailure {
    let Failing {
        n,
        mut tree,
        case: original,
        result: original_result,
    } = failing;
    let mut best = (original.clone(), original_result.clone());
    let (mut runs, mut steps) = (0u32, 0u32);
    if tree.simplify() {
        while runs < max_runs {
            runs += 1;
            let mut case = tree.current();
            case.id = case_id(n);
            let result = tokio::select! {
                biased;
                // Interrupted: the failure stands as shrunk so far.
                _ = harness.stop().requested() => break,
                result = harness.run_scenario(&case) => result,
            };
            if result.verdict.is_failure() {
                steps += 1;
                best = (case, result);
                if !tree.simplify() {
                    break;
                }
            } else if !tree.complicate() {
                break;
            }
        }
    }
    let (shrunk, result) = best;
    FuzzFailure {
        case: n,
        original,
        original_result,
        shrunk,
        result,
        shrink_runs: runs,
        shrink_steps: steps,
    }
}

/// Whether a generated body is what the strategies promise: the response schema and the
/// Rust types both accept it. Used by the tests; public so adapters' authors can check their
/// own generators the same way.
pub fn body_is_valid(body: &Value) -> bool {
    crate::schema::Schema::Response.is_valid(body)
        && CancelResponse::from_slice(&serde_json::to_vec(body).unwrap_or_default()).is_ok()
}
