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

/// The whole summary: a header, a block per scenario, the causes several scenarios share,
/// the baseline's verdict, totals last.
///
/// A failed check that several scenarios fail alike (the same check id, level, message,
/// expectation and rule: one cause) is printed once, after the scenarios, with the count and
/// the scenario ids; each scenario's line names it (`[cause 1]`). The JSON, JUnit and HTML
/// reports keep every scenario's checks in full.
///
/// # Example
/// ```
/// use alipay_cancel_kit::report::{terminal, RunReport};
/// let report = RunReport::new("./my-adapter", "exec", Vec::new());
/// let text = terminal::render(&report, false);
/// assert!(text.ends_with("0 scenarios: 0 PASS, 0 NON_STRICT, 0 FAIL, 0 ERROR, 0 SKIPPED in 0 ms\n"));
/// ```
pub fn render(report: &RunReport, color: bool) -> String {
    text(report, color, false)
}

/// What the terminal shows of a report: every scenario, or (`quiet`) only what is not `PASS`,
/// the causes several scenarios share, then the totals.
pub fn text(report: &RunReport, color: bool, quiet: bool) -> String {
    let shown: Vec<&ScenarioResult> = report
        .scenarios
        .iter()
        .filter(|s| !quiet || s.verdict != Verdict::Pass)
        .collect();
    let causes = Causes::of(&shown);
    let mut out = header(report, color);
    for s in &shown {
        out.push_str(&scenario_with(s, report.baseline.as_ref(), &causes, color));
    }
    out.push_str(&causes.render(color));
    out.push('\n');
    out.push_str(&totals(report, color));
    out
}

/// A failed check as far as it is one cause: what must be equal for two scenarios' failures
/// to print once. What was seen, and the values quoted, may differ (each request carries its
/// own signature and string to sign): the block shows the first scenario's.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct CauseKey {
    id: String,
    level: Level,
    message: String,
    expected: Option<String>,
    rule: String,
}

impl CauseKey {
    fn of(check: &Check) -> CauseKey {
        CauseKey {
            id: check.id.clone(),
            level: check.level,
            message: check.message.clone(),
            expected: check.expected.clone(),
            rule: check.rule.clone(),
        }
    }
}

/// One cause several scenarios share: the first check seen (to print) and the scenarios.
struct Cause<'r> {
    check: &'r Check,
    scenarios: Vec<&'r str>,
}

/// The causes of a report's failed checks that two or more scenarios share, numbered from 1
/// in the order they first appear.
struct Causes<'r> {
    shared: Vec<Cause<'r>>,
    index: std::collections::BTreeMap<CauseKey, usize>,
}

impl<'r> Causes<'r> {
    fn of(scenarios: &[&'r ScenarioResult]) -> Causes<'r> {
        let mut all: Vec<Cause<'r>> = Vec::new();
        let mut index = std::collections::BTreeMap::new();
        for s in scenarios {
            for check in s.failed_checks() {
                let at = *index.entry(CauseKey::of(check)).or_insert_with(|| {
                    all.push(Cause {
                        check,
                        scenarios: Vec::new(),
                    });
                    all.len() - 1
                });
                if all[at].scenarios.last() != Some(&s.id.as_str()) {
                    all[at].scenarios.push(&s.id);
                }
            }
        }
        // Keep only the shared ones, renumbered in order of first appearance.
        let mut shared = Vec::new();
        let mut numbers = vec![None; all.len()];
        for (i, cause) in all.into_iter().enumerate() {
            if cause.scenarios.len() > 1 {
                numbers[i] = Some(shared.len());
                shared.push(cause);
            }
        }
        let index = index
            .into_iter()
            .filter_map(|(key, i)| numbers[i].map(|n| (key, n)))
            .collect();
        Causes { shared, index }
    }

    /// The number (from 0) of the shared cause this check is, if it is one.
    fn number(&self, check: &Check) -> Option<usize> {
        self.index.get(&CauseKey::of(check)).copied()
    }

    /// Each shared cause once: the count, the check as its first scenario failed it, and the
    /// scenario ids, a line per group.
    fn render(&self, color: bool) -> String {
        let mut out = String::new();
        for (n, cause) in self.shared.iter().enumerate() {
            let _ = writeln!(
                out,
                "\ncause {}: {} scenarios: {} (as in {})",
                n + 1,
                cause.scenarios.len(),
                cause.check.id,
                cause.scenarios[0]
            );
            out.push_str(&failed_check(cause.check, color));
            for line in compact_ids(&cause.scenarios) {
                let _ = writeln!(out, "    {line}");
            }
        }
        out
    }
}

/// Scenario ids, compactly: one line per group, `result/{SUCCESS, ORDER_NOT_EXIST}`, groups
/// in first-appearance order.
fn compact_ids(ids: &[&str]) -> Vec<String> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for id in ids {
        let (group, name) = id.split_once('/').unwrap_or(("", id));
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, names)) => names.push(name),
            None => groups.push((group, vec![name])),
        }
    }
    groups
        .into_iter()
        .map(|(group, names)| match (group, names.as_slice()) {
            ("", names) => names.join(", "),
            (group, [one]) => format!("{group}/{one}"),
            (group, names) => format!("{group}/{{{}}}", names.join(", ")),
        })
        .collect()
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
    let _ = writeln!(out, "transport: {}", report.transport.describe());
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
    scenario_with(result, baseline, &Causes::of(&[]), color)
}

/// [`scenario`], with the checks that are shared `causes` named on its line instead of
/// printed under it.
fn scenario_with(
    result: &ScenarioResult,
    baseline: Option<&BaselineOutcome>,
    causes: &Causes<'_>,
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
    let mut shared: Vec<usize> = result
        .failed_checks()
        .filter_map(|c| causes.number(c))
        .collect();
    shared.dedup();
    if !shared.is_empty() {
        let numbers: Vec<String> = shared.iter().map(|n| (n + 1).to_string()).collect();
        let word = if numbers.len() == 1 {
            "cause"
        } else {
            "causes"
        };
        let _ = write!(out, "  [{word} {}]", numbers.join(", "));
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
    for check in result
        .failed_checks()
        .filter(|c| causes.number(c).is_none())
    {
        out.push_str(&failed_check(check, color));
    }
    // With no request at the gateway, what the client surfaced is the only clue to why.
    if result.requests == 0 && result.verdict.is_failure() {
        if let Some(surfaced) = surfaced(result) {
            let _ = writeln!(
                out,
                "    no request reached the gateway; the client surfaced {surfaced}"
            );
        }
    }
    if result.verdict == Verdict::Error && !result.stderr.trim().is_empty() {
        let _ = writeln!(out, "    stderr (last {STDERR_LINES} lines):");
        for line in stderr_tail(&result.stderr, STDERR_LINES) {
            let _ = writeln!(out, "    | {line}");
        }
    }
    out
}

/// The outcome the adapter printed, as one line: `INVALID_REQUEST: refused locally: ...`
/// (its word, result code and error text).
fn surfaced(result: &ScenarioResult) -> Option<String> {
    let outcome = result.outcome.as_ref()?;
    let word = outcome.get("outcome")?.as_str()?;
    let mut text = word.to_owned();
    if let Some(code) = outcome.get("resultCode").and_then(|v| v.as_str()) {
        text.push_str(&format!(" ({code})"));
    }
    if let Some(error) = outcome.get("error").and_then(|v| v.as_str()) {
        text.push_str(&format!(": {error}"));
    }
    Some(one_line(&defang(&text)))
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
    for (name, value) in quoted_values(check) {
        let _ = writeln!(out, "{pad}{name}: {}", one_line(value));
    }
    let _ = writeln!(out, "{pad}rule:     {}", one_line(&check.rule));
    out
}

/// The values a failed check quotes that its expected and seen texts do not already show
/// (the string to sign, say; not a `served` code that is the expectation itself).
pub(crate) fn quoted_values(check: &Check) -> impl Iterator<Item = (&String, &String)> {
    check.values.iter().filter(move |(_, v)| {
        let shown = |t: &Option<String>| t.as_deref().is_some_and(|t| t.contains(v.as_str()));
        !shown(&check.expected) && !shown(&check.seen)
    })
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
