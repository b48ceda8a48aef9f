//! Reports of a conformance run, and the baseline (`docs/contract.md`, "Reports", "Baseline").
//!
//! A run becomes a [`RunReport`]: who ran what (tool, client, mode, capabilities), every
//! [`ScenarioResult`] in catalogue order, the counts per verdict ([`Summary`]) and, when a
//! baseline was given, what it made of the failures ([`BaselineOutcome`]). The report renders as:
//!
//! - [`terminal`]: the human summary, a line per scenario, failed checks under it, totals last;
//! - [`json`]: the JSON report, whose shape `schema/report.schema.json` publishes;
//! - [`junit`]: JUnit XML, one test case per scenario, for CI dashboards;
//! - [`markdown`]: a table, and a report card comparing several clients side by side;
//! - [`html`]: one self-contained page, filterable, with every check and transcript.
//!
//! [`merge`] puts the reports of a sharded run (`run --shard K/N`) back together.
//!
//! [`baseline`] reads and writes the expected-failures file and decides the exit code.
//! [`card`] runs several clients and splices their side-by-side table into a document.
//!
//! # Example
//! ```
//! use alipay_cancel_kit::report::{terminal, RunReport};
//! use alipay_cancel_kit::verdict::{Check, Level, ScenarioResult, Verdict};
//!
//! let pass = ScenarioResult {
//!     id: "result/SUCCESS".into(),
//!     title: "S, signed: the client surfaces SUCCESS".into(),
//!     rule: "contract: outcome table, row S".into(),
//!     verdict: Verdict::Pass,
//!     reason: None,
//!     checks: vec![Check::pass("outcome.kind", Level::Must, "contract", "SUCCESS surfaced")],
//!     requests: 1,
//!     outcome: None,
//!     stderr: String::new(),
//!     duration_ms: 3.0,
//!     adapter_ms: 2.0,
//!     transcript: Vec::new(),
//! };
//! let report = RunReport::new("built-in reference client", "exec", vec![pass]);
//! assert_eq!(report.summary.pass, 1);
//! assert_eq!(report.exit_code(), alipay_cancel_kit::exit::Exit::Ok);
//! assert!(terminal::render(&report, false).contains("PASS        result/SUCCESS"));
//! ```

pub mod baseline;
pub mod card;
pub mod files;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod rules;
pub mod terminal;

use serde::{Deserialize, Serialize};

use crate::adapter::Capabilities;
use crate::capability::{IdKind, Ids};
use crate::exit::Exit;

pub use baseline::{apply, exit_code, Baseline, BaselineEntry, BaselineError, BaselineOutcome};
pub use files::{ReportFiles, WriteError};
pub use markdown::markdown_matrix;

use crate::shard::{Selection, Shard};
use crate::verdict::{ScenarioResult, Verdict};

/// The tool's name and version as reports print it, e.g. `alipay-cancel-kit 0.1.0`.
pub const TOOL: &str = concat!(env!("CARGO_PKG_NAME"), " ", env!("CARGO_PKG_VERSION"));

/// Everything one run produced; serialises as the JSON report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    /// The tool and its version, e.g. `alipay-cancel-kit 0.1.0`.
    pub tool: String,
    /// The adapter command as given, or `built-in reference client`.
    pub client: String,
    /// How the adapter ran: `exec` (a process per scenario) or `persistent`.
    pub mode: String,
    /// How the client reached the gateway: plain HTTP (TLS only in the `tls/` scenarios), or
    /// TLS in every scenario (`run --tls`).
    #[serde(default)]
    pub transport: RunTransport,
    /// The capabilities the adapter declared (e.g. `tls`).
    pub capabilities: Vec<String>,
    /// Why the capability list is empty when the probe failed (non-zero exit, bad output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities_note: Option<String>,
    /// The selection the run was cut from (its fingerprint and size), so that `report merge`
    /// can tell which shard reports belong together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalogue: Option<Selection>,
    /// Which shard of the selection this run is (`run --shard K/N`); absent for a whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// The ids the client can send, as their capabilities (`payment-request-id`): those it
    /// declared, or all three when it declared none.
    #[serde(default = "all_ids")]
    pub ids: Vec<String>,
    /// Whether the client declared its ids (`false`: none declared, so all three).
    #[serde(default)]
    pub ids_declared: bool,
    /// Every scenario run, in catalogue order.
    pub scenarios: Vec<ScenarioResult>,
    /// Counts per verdict.
    pub summary: Summary,
    /// What the baseline made of the failures, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineOutcome>,
    /// Wall time of the whole run, in milliseconds.
    pub duration_ms: f64,
    /// Set when a signal cut the run short: the scenarios it did not finish are `SKIPPED`
    /// with a "not run" reason, and listed here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<Interrupted>,
}

/// How a run's client reached its gateways, as every report says (a `--tls` artifact must be
/// told from a plain one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunTransport {
    /// Plain HTTP; only the `tls/` scenarios speak HTTPS.
    #[default]
    Http,
    /// HTTPS in every scenario (`run --tls`, for clients that speak only HTTPS).
    Tls,
}

impl RunTransport {
    /// The transport of a run with `--tls` on or off.
    pub fn of(tls: bool) -> RunTransport {
        if tls {
            RunTransport::Tls
        } else {
            RunTransport::Http
        }
    }

    /// The word on the wire: `http` or `tls`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunTransport::Http => "http",
            RunTransport::Tls => "tls",
        }
    }

    /// What the reports' headers say: `plain HTTP (TLS only in tls/ scenarios)` or `TLS in
    /// every scenario (--tls)`.
    pub fn describe(self) -> &'static str {
        match self {
            RunTransport::Http => "plain HTTP (TLS only in tls/ scenarios)",
            RunTransport::Tls => "TLS in every scenario (--tls)",
        }
    }
}

/// How a run was cut short (`docs/contract.md`, "Interrupted runs").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Interrupted {
    /// What stopped the run: `SIGINT` or `SIGTERM`.
    pub signal: crate::exit::Signal,
    /// The scenarios that did not finish, in report order; each is `SKIPPED` in the report.
    pub not_run: Vec<String>,
}

impl RunReport {
    /// A report of `scenarios` with the summary counted, no capabilities, no baseline and a
    /// zero duration; set the other public fields as the run knows them.
    pub fn new(
        client: impl Into<String>,
        mode: impl Into<String>,
        scenarios: Vec<ScenarioResult>,
    ) -> RunReport {
        RunReport {
            tool: TOOL.to_owned(),
            client: client.into(),
            mode: mode.into(),
            transport: RunTransport::Http,
            capabilities: Vec::new(),
            capabilities_note: None,
            catalogue: None,
            shard: None,
            ids: all_ids(),
            ids_declared: false,
            summary: Summary::of(&scenarios),
            scenarios,
            baseline: None,
            duration_ms: 0.0,
            interrupted: None,
        }
    }

    /// Records what the client declared: its capabilities, the probe's note, and its ids.
    pub fn set_capabilities(&mut self, capabilities: &Capabilities) {
        let ids = capabilities.ids();
        self.capabilities = capabilities.list.clone();
        self.capabilities_note = capabilities.note.clone();
        self.ids = ids.kinds().map(|k| k.capability().to_owned()).collect();
        self.ids_declared = ids.declared();
    }

    /// Whether this is the report of a standing session (`serve` or `proxy`: one test case per
    /// request received) rather than of a run of scenarios through an adapter.
    pub fn is_standing(&self) -> bool {
        matches!(self.mode.as_str(), "serve" | "proxy")
    }

    /// The ids the client can send, as [`RunReport::ids`] and [`RunReport::ids_declared`] say.
    pub fn id_set(&self) -> Ids {
        if self.ids_declared {
            Ids::only(self.ids.iter().filter_map(|c| IdKind::of_capability(c)))
        } else {
            Ids::all()
        }
    }

    /// Applies `baseline` to the scenarios and keeps the outcome in the report.
    pub fn with_baseline(mut self, baseline: &Baseline) -> RunReport {
        self.baseline = Some(apply(baseline, &self.scenarios));
        self
    }

    /// The run's exit code by its verdicts: [`Exit::Ok`], or [`Exit::Failures`] for an
    /// unlisted `FAIL`/`ERROR` or a stale baseline entry. (2, for usage errors, is the
    /// command line's business.)
    pub fn exit_code(&self) -> Exit {
        exit_code(&self.scenarios, self.baseline.as_ref())
    }

    /// How the run ends: [`Exit::Interrupted`] when a signal cut it short, whatever the
    /// verdicts; otherwise [`RunReport::exit_code`].
    pub fn exit(&self) -> Exit {
        match &self.interrupted {
            Some(interrupted) => Exit::Interrupted(interrupted.signal),
            None => self.exit_code(),
        }
    }
}

/// Counts per verdict, keyed on the wire by the verdict words.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Scenarios that passed every check.
    #[serde(rename = "PASS")]
    pub pass: usize,
    /// Scenarios where only `SHOULD` (or `INFO`) checks failed.
    #[serde(rename = "NON_STRICT")]
    pub non_strict: usize,
    /// Scenarios where a `MUST` check failed.
    #[serde(rename = "FAIL")]
    pub fail: usize,
    /// Scenarios where the adapter broke the protocol.
    #[serde(rename = "ERROR")]
    pub error: usize,
    /// Scenarios not run for lack of a capability.
    #[serde(rename = "SKIPPED")]
    pub skipped: usize,
    /// All scenarios.
    pub total: usize,
}

impl Summary {
    /// Counts the verdicts of `scenarios`.
    pub fn of(scenarios: &[ScenarioResult]) -> Summary {
        let mut summary = Summary::default();
        for s in scenarios {
            *summary.slot(s.verdict) += 1;
            summary.total += 1;
        }
        summary
    }

    /// How many scenarios ended with `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        match verdict {
            Verdict::Pass => self.pass,
            Verdict::NonStrict => self.non_strict,
            Verdict::Fail => self.fail,
            Verdict::Error => self.error,
            Verdict::Skipped => self.skipped,
        }
    }

    fn slot(&mut self, verdict: Verdict) -> &mut usize {
        match verdict {
            Verdict::Pass => &mut self.pass,
            Verdict::NonStrict => &mut self.non_strict,
            Verdict::Fail => &mut self.fail,
            Verdict::Error => &mut self.error,
            Verdict::Skipped => &mut self.skipped,
        }
    }
}

/// The group of a scenario id: the part before the first `/` (`result` for
/// `result/ORDER_NOT_EXIST`), or the whole id when it has none.
pub fn group_of(id: &str) -> &str {
    id.split_once('/').map_or(id, |(group, _)| group)
}

/// Makes text from an adapter safe to print or embed: control characters other than line feed
/// and tab become visible escapes (`\u{1b}`), so an adapter cannot drive the terminal.
pub(crate) fn defang(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// One line of a value that may hold line feeds (a string to sign, say): line feeds, carriage
/// returns, tabs and other control characters become escapes, so the exact bytes stay visible.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

/// The last `max_lines` lines of an adapter's standard error, defanged.
pub(crate) fn stderr_tail(stderr: &str, max_lines: usize) -> Vec<String> {
    let lines: Vec<&str> = stderr.trim_end().lines().collect();
    let skip = lines.len().saturating_sub(max_lines);
    lines[skip..].iter().map(|l| defang(l)).collect()
}

fn all_ids() -> Vec<String> {
    IdKind::ALL
        .iter()
        .map(|k| k.capability().to_owned())
        .collect()
}
