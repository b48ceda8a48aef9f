//! Text strategies: characters as a `prop_oneof!` would draw them for less, texts that
//! shrink towards a simplest character, optional values, and ids.

use std::sync::{Arc, LazyLock};

use proptest::char as pchar;
use proptest::prelude::*;
use proptest::sample::{select, Select, SelectValueTree};
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

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
