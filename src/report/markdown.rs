//! Markdown reports: a table of one run ([`render`]), and a report card comparing several
//! clients side by side ([`markdown_matrix`]), e.g. for a README or a pull-request comment.
//!
//! Cells are escaped for GitHub-flavoured tables: `|` is escaped, `<` and `>` become entities,
//! line breaks become `<br>`, and control characters print as escapes.

use std::fmt::Write as _;

use super::{one_line, RunReport};
use crate::verdict::Verdict;

/// Escapes text for a table cell.
///
/// # Example
/// ```
/// use alipay_cancel_kit::report::markdown::cell;
/// assert_eq!(cell("a|b\n<c>"), "a\\|b<br>&lt;c&gt;");
/// ```
pub fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

fn counts(report: &RunReport) -> String {
    Verdict::ALL
        .iter()
        .map(|&v| format!("{} {}", report.summary.count(v), v.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One run as a markdown document: a heading, the client, the totals, and a table with a row
/// per scenario (verdict, id, what it is about or why it erred, the failed checks).
///
/// # Example
/// ```
/// use alipay_cancel_kit::report::{markdown, RunReport};
/// let text = markdown::render(&RunReport::new("./adapter", "persistent", Vec::new()));
/// assert!(text.contains("| verdict | scenario | about | failed checks |"));
/// ```
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Conformance report: {}\n", cell(&report.tool));
    let capabilities = if report.capabilities.is_empty() {
        "none".to_owned()
    } else {
        report.capabilities.join(", ")
    };
    let _ = writeln!(
        out,
        "Client: `{}` ({} mode). Capabilities: {}. Ids: {}.\n",
        report.client.replace('`', "'"),
        cell(&report.mode),
        cell(&capabilities),
        cell(&report.id_set().describe())
    );
    let _ = writeln!(
        out,
        "**{} scenarios**: {}.\n",
        report.summary.total,
        counts(report)
    );
    if let Some(i) = &report.interrupted {
        let _ = writeln!(
            out,
            "**Interrupted** by {}: {} scenario(s) not run (`SKIPPED`).\n",
            cell(i.signal.name()),
            i.not_run.len()
        );
    }
    out.push_str("| verdict | scenario | about | failed checks |\n");
    out.push_str("|---|---|---|---|\n");
    for s in &report.scenarios {
        let about = s.reason.as_deref().unwrap_or(&s.title);
        let checks: Vec<String> = s
            .failed_checks()
            .map(|c| {
                let mut text = format!("{} `{}`: {}", c.level.as_str(), c.id, c.message);
                if let (Some(expected), Some(seen)) = (&c.expected, &c.seen) {
                    let _ = write!(
                        text,
                        " (expected {}, seen {})",
                        one_line(expected),
                        one_line(seen)
                    );
                }
                for (name, value) in super::terminal::quoted_values(c) {
                    let _ = write!(text, "; {name}: {}", one_line(value));
                }
                cell(&text)
            })
            .collect();
        let mut verdict = s.verdict.as_str().to_owned();
        if let Some(b) = &report.baseline {
            if b.expected_reason(&s.id).is_some() {
                verdict.push_str(" (expected)");
            } else if b.is_stale(&s.id) {
                verdict.push_str(" (stale baseline entry)");
            }
        }
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} |",
            verdict,
            s.id.replace('`', "'"),
            cell(about),
            checks.join("<br>")
        );
    }
    out
}

/// A report card: one row per scenario, one column per client, the verdict in each cell, and a
/// row of counts per verdict at the bottom. Rows follow the first appearance of each id across
/// the columns; a scenario a client did not run shows `–`. When a client declared its ids (it
/// cancels by one kind of id, say), a last row says which ids each client sends; a card of
/// clients that all send every id has no such row.
///
/// # Example
/// ```
/// use alipay_cancel_kit::report::{markdown_matrix, RunReport};
/// let a = RunReport::new("a", "exec", Vec::new());
/// let card = markdown_matrix(&[("Java 2.2.8", &a), ("Go 1.3.5", &a)]);
/// assert!(card.starts_with("| scenario | Java 2.2.8 | Go 1.3.5 |\n|---|---|---|\n"));
/// ```
pub fn markdown_matrix(columns: &[(&str, &RunReport)]) -> String {
    let mut ids: Vec<&str> = Vec::new();
    for (_, report) in columns {
        for s in &report.scenarios {
            if !ids.contains(&s.id.as_str()) {
                ids.push(&s.id);
            }
        }
    }
    let mut out = String::from("| scenario |");
    for (name, _) in columns {
        let _ = write!(out, " {} |", cell(name));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(columns.len()));
    out.push('\n');
    for id in ids {
        let _ = write!(out, "| `{}` |", id.replace('`', "'"));
        for (_, report) in columns {
            let verdict = report
                .scenarios
                .iter()
                .find(|s| s.id == id)
                .map_or("–", |s| s.verdict.as_str());
            let _ = write!(out, " {verdict} |");
        }
        out.push('\n');
    }
    for verdict in Verdict::ALL {
        let _ = write!(out, "| **{}** |", verdict.as_str());
        for (_, report) in columns {
            let _ = write!(
                out,
                " {}/{} |",
                report.summary.count(verdict),
                report.summary.total
            );
        }
        out.push('\n');
    }
    if columns.iter().any(|(_, report)| report.ids_declared) {
        out.push_str("| **ids** |");
        for (_, report) in columns {
            let _ = write!(out, " {} |", cell(&report.id_set().describe()));
        }
        out.push('\n');
    }
    out
}
