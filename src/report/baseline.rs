//! The baseline: scenarios a client is known to fail, each with a reason, and the exit code.
//!
//! The file is JSON:
//! ```json
//! {"description": "what this baseline is for",
//!  "expectedFailures": [{"id": "signature/unsigned-unknown", "reason": "SDK 1.5.5 accepts it"}]}
//! ```
//! The rules (`docs/contract.md`, "Baseline"), after the expected-failures lists of conformance
//! suites such as rustls' BoGo runner:
//! - every entry carries a non-empty reason, and names a scenario once;
//! - a listed failure (`FAIL` or `ERROR`) does not fail the run ([`BaselineOutcome::expected_failures`]);
//! - a failure not listed fails the run ([`BaselineOutcome::regressions`]);
//! - a listed scenario that now passes (`PASS` or `NON_STRICT`) fails the run until its entry is
//!   removed ([`BaselineOutcome::stale`]), so the baseline only ever shrinks;
//! - a listed scenario that was not run (filtered out, or `SKIPPED`) is reported, not judged.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::exit::Exit;
use crate::verdict::{ScenarioResult, Verdict};

/// What a baseline file must look like, quoted in syntax errors.
const SHAPE: &str =
    r#"{"description": "...", "expectedFailures": [{"id": "<scenario id>", "reason": "<why>"}]}"#;

/// A parsed baseline file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Baseline {
    /// What the baseline is for (which client, which release).
    #[serde(default)]
    pub description: String,
    /// The scenarios known to fail, in file order.
    pub expected_failures: Vec<BaselineEntry>,
    /// Where it was read from, for error messages (`<memory>` when not from a file).
    #[serde(skip)]
    pub source: String,
}

/// One expected failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineEntry {
    /// The scenario id.
    pub id: String,
    /// Why the client fails it; never empty.
    pub reason: String,
    /// The line of the file where the entry's id stands, when known.
    #[serde(skip)]
    pub line: Option<usize>,
}

/// The shape on disk, looser than [`Baseline`] so that a missing reason gets its own message.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawBaseline {
    #[serde(default)]
    description: Option<String>,
    expected_failures: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: String,
    #[serde(default)]
    reason: Option<String>,
}

/// Why a baseline file was refused. Each message names the file, the entry (as a JSON pointer,
/// with its line when known) and the rule.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BaselineError {
    /// The file could not be read.
    Read {
        /// The file.
        file: String,
        /// What the system said.
        detail: String,
    },
    /// The file could not be written.
    Write {
        /// The file.
        file: String,
        /// What the system said.
        detail: String,
    },
    /// The file is not JSON of the baseline's shape.
    Syntax {
        /// The file.
        file: String,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What the JSON parser said.
        detail: String,
    },
    /// An entry breaks a rule of the baseline.
    Entry {
        /// The file.
        file: String,
        /// The entry's index in `expectedFailures`.
        index: usize,
        /// The entry's id (possibly empty).
        id: String,
        /// The line where the entry's id stands, when known.
        line: Option<usize>,
        /// Which rule it breaks.
        rule: EntryRule,
    },
}

/// The rule a baseline entry breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryRule {
    /// Every entry carries a non-empty reason.
    MissingReason,
    /// Every entry names a scenario.
    EmptyId,
    /// A scenario is listed once.
    Duplicate,
    /// The id names no scenario of the catalogue.
    UnknownId,
}

impl fmt::Display for BaselineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BaselineError::Read { file, detail } => {
                write!(f, "baseline `{file}`: cannot read: {detail}")
            }
            BaselineError::Write { file, detail } => {
                write!(f, "baseline `{file}`: cannot write: {detail}")
            }
            BaselineError::Syntax {
                file,
                line,
                column,
                detail,
            } => write!(
                f,
                "baseline `{file}`: line {line}, column {column}: {detail}; expected {SHAPE}"
            ),
            BaselineError::Entry {
                file,
                index,
                id,
                line,
                rule,
            } => {
                write!(f, "baseline `{file}`: /expectedFailures/{index}")?;
                match (id.is_empty(), line) {
                    (false, Some(line)) => write!(f, " (`{id}`, line {line})")?,
                    (false, None) => write!(f, " (`{id}`)")?,
                    (true, Some(line)) => write!(f, " (line {line})")?,
                    (true, None) => {}
                }
                f.write_str(match rule {
                    EntryRule::MissingReason => {
                        ": `reason` is missing or empty; every expected failure carries a reason"
                    }
                    EntryRule::EmptyId => ": `id` is empty; every entry names a scenario",
                    EntryRule::Duplicate => ": listed more than once; each scenario appears once",
                    EntryRule::UnknownId => {
                        ": no scenario has this id; remove the entry or fix the id"
                    }
                })
            }
        }
    }
}

impl std::error::Error for BaselineError {}

/// The 1-based line of the `nth` occurrence (0-based) of `needle` in `text`.
fn line_of(text: &str, needle: &str, nth: usize) -> Option<usize> {
    let (offset, _) = text.match_indices(needle).nth(nth)?;
    Some(text[..offset].matches('\n').count() + 1)
}

impl Baseline {
    /// An empty baseline: every failure is a regression.
    pub fn empty(description: impl Into<String>) -> Baseline {
        Baseline {
            description: description.into(),
            expected_failures: Vec::new(),
            source: "<memory>".to_owned(),
        }
    }

    /// Reads and checks a baseline file.
    ///
    /// # Errors
    /// [`BaselineError::Read`] when the file cannot be read, otherwise as [`Baseline::parse`].
    pub fn load(path: impl AsRef<Path>) -> Result<Baseline, BaselineError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| BaselineError::Read {
            file: file.clone(),
            detail: e.to_string(),
        })?;
        Baseline::parse(&text, &file)
    }

    /// Parses and checks baseline text; `file` names it in errors.
    ///
    /// # Errors
    /// [`BaselineError::Syntax`] for text that is not JSON of the baseline's shape (unknown
    /// members included, so a misspelt `reasons` does not pass silently),
    /// [`BaselineError::Entry`] for an entry with an empty id, a missing or empty reason, or an
    /// id listed twice.
    ///
    /// # Example
    /// ```
    /// use alipay_cancel_kit::report::Baseline;
    /// let text = r#"{"expectedFailures": [{"id": "fault/timeout", "reason": ""}]}"#;
    /// let err = Baseline::parse(text, "ci/baseline.json").unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "baseline `ci/baseline.json`: /expectedFailures/0 (`fault/timeout`, line 1): \
    ///      `reason` is missing or empty; every expected failure carries a reason"
    /// );
    /// ```
    pub fn parse(text: &str, file: &str) -> Result<Baseline, BaselineError> {
        let raw: RawBaseline = serde_json::from_str(text).map_err(|e| BaselineError::Syntax {
            file: file.to_owned(),
            line: e.line(),
            column: e.column(),
            detail: e
                .to_string()
                .split(" at line ")
                .next()
                .unwrap_or("")
                .to_owned(),
        })?;
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut entries = Vec::with_capacity(raw.expected_failures.len());
        for (index, entry) in raw.expected_failures.into_iter().enumerate() {
            let quoted = serde_json::to_string(&entry.id).unwrap_or_default();
            let nth = seen.get(&entry.id).copied().unwrap_or(0);
            let line = line_of(text, &quoted, nth);
            let error = |rule| BaselineError::Entry {
                file: file.to_owned(),
                index,
                id: entry.id.clone(),
                line,
                rule,
            };
            if entry.id.trim().is_empty() {
                return Err(error(EntryRule::EmptyId));
            }
            let reason = match &entry.reason {
                Some(reason) if !reason.trim().is_empty() => reason.clone(),
                _ => return Err(error(EntryRule::MissingReason)),
            };
            if nth > 0 {
                return Err(error(EntryRule::Duplicate));
            }
            seen.insert(entry.id.clone(), nth + 1);
            entries.push(BaselineEntry {
                id: entry.id,
                reason,
                line,
            });
        }
        Ok(Baseline {
            description: raw.description.unwrap_or_default(),
            expected_failures: entries,
            source: file.to_owned(),
        })
    }

    /// Checks that every entry names a scenario of the catalogue.
    ///
    /// # Errors
    /// [`BaselineError::Entry`] with [`EntryRule::UnknownId`] for the first entry that does not.
    pub fn check_known<'a>(
        &self,
        catalogue: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), BaselineError> {
        let known: HashSet<&str> = catalogue.into_iter().collect();
        match self
            .expected_failures
            .iter()
            .enumerate()
            .find(|(_, e)| !known.contains(e.id.as_str()))
        {
            Some((index, entry)) => Err(BaselineError::Entry {
                file: self.source.clone(),
                index,
                id: entry.id.clone(),
                line: entry.line,
                rule: EntryRule::UnknownId,
            }),
            None => Ok(()),
        }
    }

    /// A baseline listing every `FAIL` and `ERROR` of a run (for `--write-baseline`). Each
    /// reason records the verdict and what failed first; replace it with the real why.
    pub fn from_results(results: &[ScenarioResult], description: impl Into<String>) -> Baseline {
        let expected_failures = results
            .iter()
            .filter(|r| r.verdict.is_failure())
            .map(|r| {
                let why = r
                    .reason
                    .clone()
                    .or_else(|| r.failed_checks().next().map(|c| c.message.clone()))
                    .unwrap_or_else(|| r.title.clone());
                BaselineEntry {
                    id: r.id.clone(),
                    reason: format!("{}: {}", r.verdict, super::one_line(&why)),
                    line: None,
                }
            })
            .collect();
        Baseline {
            description: description.into(),
            expected_failures,
            source: "<memory>".to_owned(),
        }
    }

    /// The file's text: pretty JSON, entries in order, a final line feed.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a baseline always serialises");
        text.push('\n');
        text
    }

    /// Writes the file's text to `path`.
    ///
    /// # Errors
    /// [`BaselineError::Write`] when the file cannot be written.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<(), BaselineError> {
        let path = path.as_ref();
        std::fs::write(path, self.to_json()).map_err(|e| BaselineError::Write {
            file: path.display().to_string(),
            detail: e.to_string(),
        })
    }

    /// The entry for `id`, if listed.
    pub fn entry(&self, id: &str) -> Option<&BaselineEntry> {
        self.expected_failures.iter().find(|e| e.id == id)
    }
}

/// A listed scenario and what it came to in this run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineMatch {
    /// The scenario id.
    pub id: String,
    /// Its verdict in this run.
    pub verdict: Verdict,
    /// The reason the baseline gives.
    pub reason: String,
}

/// What a baseline made of a run's failures; lists are in the run's (catalogue) order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BaselineOutcome {
    /// The baseline file.
    pub file: String,
    /// Scenarios that ended `FAIL` or `ERROR` and are not listed: they fail the run.
    pub regressions: Vec<String>,
    /// Scenarios that ended `FAIL` or `ERROR` and are listed: they do not fail the run.
    pub expected_failures: Vec<BaselineMatch>,
    /// Listed scenarios that now end `PASS` or `NON_STRICT`: they fail the run until removed.
    pub stale: Vec<BaselineMatch>,
    /// Listed scenarios this run did not judge (not selected, or `SKIPPED`).
    pub not_run: Vec<String>,
}

impl BaselineOutcome {
    /// Whether the baseline lets the run pass: no regression and no stale entry.
    pub fn is_clean(&self) -> bool {
        self.regressions.is_empty() && self.stale.is_empty()
    }

    /// The baseline's reason for `id`, when `id` is an expected failure of this run.
    pub fn expected_reason(&self, id: &str) -> Option<&str> {
        self.expected_failures
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.reason.as_str())
    }

    /// Whether `id` is a stale entry in this run.
    pub fn is_stale(&self, id: &str) -> bool {
        self.stale.iter().any(|m| m.id == id)
    }
}

/// Applies a baseline to a run's results.
///
/// # Example
/// ```
/// use alipay_cancel_kit::report::{apply, exit_code, Baseline};
/// let baseline = Baseline::parse(
///     r#"{"expectedFailures": [{"id": "fault/timeout", "reason": "no timeout yet"}]}"#,
///     "b.json",
/// )?;
/// let outcome = apply(&baseline, &[]);
/// assert_eq!(outcome.not_run, ["fault/timeout"]);
/// assert_eq!(exit_code(&[], Some(&outcome)), alipay_cancel_kit::exit::Exit::Ok);
/// # Ok::<(), alipay_cancel_kit::report::BaselineError>(())
/// ```
pub fn apply(baseline: &Baseline, results: &[ScenarioResult]) -> BaselineOutcome {
    let mut outcome = BaselineOutcome {
        file: baseline.source.clone(),
        ..BaselineOutcome::default()
    };
    for result in results {
        let listed = baseline.entry(&result.id);
        let matched = |entry: &BaselineEntry| BaselineMatch {
            id: result.id.clone(),
            verdict: result.verdict,
            reason: entry.reason.clone(),
        };
        match (result.verdict, listed) {
            (v, None) if v.is_failure() => outcome.regressions.push(result.id.clone()),
            (v, Some(entry)) if v.is_failure() => outcome.expected_failures.push(matched(entry)),
            (Verdict::Pass | Verdict::NonStrict, Some(entry)) => outcome.stale.push(matched(entry)),
            (Verdict::Skipped, Some(entry)) => outcome.not_run.push(entry.id.clone()),
            _ => {}
        }
    }
    let ran: HashSet<&str> = results.iter().map(|r| r.id.as_str()).collect();
    outcome.not_run.extend(
        baseline
            .expected_failures
            .iter()
            .filter(|e| !ran.contains(e.id.as_str()))
            .map(|e| e.id.clone()),
    );
    outcome
}

/// The run's exit code by the contract: [`Exit::Failures`] (1) when a scenario ended `FAIL` or `ERROR` and the
/// baseline does not list it, or when a baseline entry is stale; 0 otherwise.
///
/// # Example
/// ```
/// use alipay_cancel_kit::report::exit_code;
/// assert_eq!(exit_code(&[], None), alipay_cancel_kit::exit::Exit::Ok);
/// ```
pub fn exit_code(scenarios: &[ScenarioResult], baseline: Option<&BaselineOutcome>) -> Exit {
    let unlisted_failure = scenarios.iter().any(|s| {
        s.verdict.is_failure() && baseline.is_none_or(|b| b.expected_reason(&s.id).is_none())
    });
    let stale = baseline.is_some_and(|b| !b.stale.is_empty());
    Exit::from_failures(unlisted_failure || stale)
}
