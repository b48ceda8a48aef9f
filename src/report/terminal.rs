//! The human summary on the terminal: a line per scenario, failed checks under it, totals last.
//!
//! ```text
//! FAIL        result/ORDER_NOT_EXIST  F, signed: the client surfaces FAILED
//!     MUST   outcome.kind: the client surfaced SUCCESS for an F answer
//!            expected: FAILED
//!            seen:     SUCCESS
//!            rule:     contract: outcome table, row F
//! ```
//!
//! Colour (ANSI escapes) only when the caller says so; the command line decides from whether
//! standard output is a terminal. Text that came from the adapter (its standard error, values it
//! sent) is defanged: control characters print as escapes, never reach the terminal raw.

use std::fmt::Write as _;

use super::{defang, one_line, stderr_tail, BaselineOutcome, RunReport};
use crate::verdict::{Check, Level, ScenarioResult, Verdict};

/// How many trailing lines of an adapter's standard error an `ERROR` shows.
pub const STDERR_LINES: usize = 10;

/// Width of the verdict column: the longest word, `NON_STRICT`, and two spaces.
const VERDICT_WIDTH: usize = 12;

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";

fn verdict_colour(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "\x1b[32m",
        Verdict::NonStrict => "\x1b[33m",
        Verdict::Fail => "\x1b[31m",
        Verdict::Error => "\x1b[1;31m",
        Verdict::Skipped => "\x1b[36m",
    }
}

/// Wraps `text` in `code` when colour is on.
fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("{code}{text}{RESET}")
    } else {
        text.to_owned()
    }
}

/// The whole summary: a header, a block per scenario, the baseline's verdict, totals last.
///
/// # Example
/// ```
/// use alipay_cancel_kit::report::{terminal, RunReport};
/// let report = RunReport::new("./my-adapter", "exec", Vec::new());
/// let text = terminal::render(&report, false);
/// assert!(text.ends_with("0 scenarios: 0 PASS, 0 NON_STRICT, 0 FAIL, 0 ERROR, 0 SKIPPED in 0 ms\n"));
/// ```
pub fn render(report: &RunReport, color: bool) -> String {
    let mut out = header(report, color);
    for scenario in &report.scenarios {
        out.push_str(&self::scenario(scenario, report.baseline.as_ref(), color));
    }
    out.push('\n');
    out.push_str(&totals(report, color));
    out
}

/// What the terminal shows of a report: every scenario, or (`quiet`) only what is not `PASS`,
/// then the totals.
pub fn text(report: &RunReport, color: bool, quiet: bool) -> String {
    if !quiet {
        return render(report, color);
    }
    let mut text = header(report, color);
    for s in report
        .scenarios
        .iter()
        .filter(|s| s.verdict != Verdict::Pass)
    {
        text.push_str(&scenario(s, report.baseline.as_ref(), color));
    }
    text.push('\n');
    text.push_str(&totals(report, color));
    text
}

/// Colour on the terminal (`--color`): `auto` (on a terminal, unless `NO_COLOR` is set),
/// `always` or `never`.
// The variants go undocumented on purpose: clap would print their doc comments in `--help`,
// which lists the bare values.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    #[default]
    Auto,
    Always,
    Never,
}

impl Color {
    /// Whether to paint what goes to standard output.
    pub fn enabled(self) -> bool {
        use std::io::IsTerminal;
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        }
    }
}

/// The lines before the scenarios: tool, client, mode, capabilities and the ids the client sends.
pub fn header(report: &RunReport, color: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", paint(&report.tool, BOLD, color));
    let _ = writeln!(
        out,
        "client: {} ({} mode)",
        defang(&report.client),
        report.mode
    );
    let capabilities = if report.capabilities.is_empty() {
        "none".to_owned()
    } else {
        report.capabilities.join(", ")
    };
    match &report.capabilities_note {
        Some(note) => {
            let _ = writeln!(out, "capabilities: {capabilities} ({})", defang(note));
        }
        None => {
            let _ = writeln!(out, "capabilities: {capabilities}");
        }
    }
    let _ = writeln!(out, "ids: {}", report.id_set().describe());
    out.push('\n');
    out
}

/// One scenario: its line, then its failed checks, then (for `ERROR`) its standard error.
/// Printable on its own, so a run can stream scenarios as they finish.
pub fn scenario(
    result: &ScenarioResult,
    baseline: Option<&BaselineOutcome>,
    color: bool,
) -> String {
    let mut out = String::new();
    let word = format!("{:<VERDICT_WIDTH$}", result.verdict.as_str());
    let _ = write!(
        out,
        "{}{}",
        paint(&word, verdict_colour(result.verdict), color),
        result.id
    );
    // ERROR and SKIPPED say why; the others say what the scenario is about.
    let short = result.reason.as_deref().unwrap_or(&result.title);
    if !short.is_empty() {
        let _ = write!(out, "  {}", one_line(short));
    }
    if let Some(b) = baseline {
        if let Some(reason) = b.expected_reason(&result.id) {
            let note = format!("[expected failure: {}]", one_line(reason));
            let _ = write!(out, "  {}", paint(&note, DIM, color));
        } else if b.is_stale(&result.id) {
            let note = "[stale baseline entry: remove it]";
            let _ = write!(
                out,
                "  {}",
                paint(note, verdict_colour(Verdict::Fail), color)
            );
        }
    }
    out.push('\n');
    for check in result.failed_checks() {
        out.push_str(&failed_check(check, color));
    }
    if result.verdict == Verdict::Error && !result.stderr.trim().is_empty() {
        let _ = writeln!(out, "    stderr (last {STDERR_LINES} lines):");
        for line in stderr_tail(&result.stderr, STDERR_LINES) {
            let _ = writeln!(out, "    | {line}");
        }
    }
    out
}

/// A failed check: level and message, then expected, seen and rule, indented.
fn failed_check(check: &Check, color: bool) -> String {
    let mut out = String::new();
    let level = format!("{:<7}", check.level.as_str());
    let code = match check.level {
        Level::Must => verdict_colour(Verdict::Fail),
        Level::Should => verdict_colour(Verdict::NonStrict),
        Level::Info => DIM,
    };
    let _ = writeln!(
        out,
        "    {}{}: {}",
        paint(&level, code, color),
        check.id,
        one_line(&check.message)
    );
    let pad = " ".repeat(4 + 7);
    if let Some(expected) = &check.expected {
        let _ = writeln!(out, "{pad}expected: {}", one_line(expected));
    }
    if let Some(seen) = &check.seen {
        let _ = writeln!(out, "{pad}seen:     {}", one_line(seen));
    }
    let _ = writeln!(out, "{pad}rule:     {}", one_line(&check.rule));
    out
}

/// The closing lines: the baseline's verdict (when one was given), then the counts.
pub fn totals(report: &RunReport, color: bool) -> String {
    let mut out = String::new();
    if let Some(i) = &report.interrupted {
        let _ = writeln!(
            out,
            "interrupted by {}: {} scenario(s) not run (SKIPPED)",
            i.signal,
            i.not_run.len()
        );
    }
    if let Some(b) = &report.baseline {
        let _ = writeln!(
            out,
            "baseline `{}`: {} expected failure(s), {} regression(s), {} stale entr{}, {} not run",
            b.file,
            b.expected_failures.len(),
            b.regressions.len(),
            b.stale.len(),
            if b.stale.len() == 1 { "y" } else { "ies" },
            b.not_run.len(),
        );
        for id in &b.regressions {
            let _ = writeln!(out, "    regression: {id}");
        }
        for m in &b.stale {
            let _ = writeln!(out, "    stale:      {} (now {})", m.id, m.verdict);
        }
    }
    let counts: Vec<String> = Verdict::ALL
        .iter()
        .map(|&v| {
            let text = format!("{} {}", report.summary.count(v), v.as_str());
            if report.summary.count(v) > 0 {
                paint(&text, verdict_colour(v), color)
            } else {
                text
            }
        })
        .collect();
    let _ = writeln!(
        out,
        "{} scenarios: {} in {:.0} ms",
        report.summary.total,
        counts.join(", "),
        report.duration_ms
    );
    out
}
