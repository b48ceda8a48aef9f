//! The JUnit XML report, for CI dashboards: one `<testcase>` per scenario.
//!
//! - `classname` is the scenario's group (`result` for `result/ORDER_NOT_EXIST`), `name` its id;
//! - `FAIL` is a `<failure>`, `ERROR` an `<error>`, each with the failed checks (or the reason)
//!   as text; `SKIPPED` is `<skipped message="...">` with the reason (a scenario an
//!   interrupted run did not finish says so there, and the suite's `interrupted` property
//!   names the signal);
//! - `NON_STRICT` passes, with a `<system-out>` naming the `SHOULD` checks that failed;
//! - an adapter's standard error goes to `<system-err>`;
//! - the values a failed check quotes are the test case's `<property>`s, named
//!   `<check id>.<value>` (`request[1].signature.stringToSign`), whole.
//!
//! A failure the baseline lists is still a `<failure>` (the report tells what happened) and
//! says so in its message. All text is escaped for XML 1.0, and the characters XML 1.0 forbids
//! (most control characters) are replaced by visible escapes such as `\u{1b}`.

use std::fmt::Write as _;

use super::{group_of, RunReport};
use crate::verdict::{Check, Level, ScenarioResult, Verdict};

/// Escapes text for XML 1.0 element content: `& < > " '` become entities, and the characters
/// XML 1.0 does not allow at all (most control characters) a visible escape. Line feeds and
/// tabs stay as they are; a carriage return becomes `&#13;` so parsers keep it.
///
/// # Example
/// ```
/// use alipay_cancel_kit::report::junit::escape;
/// assert_eq!(escape("a<b & \"c\"\u{1b}[31m\n"), "a&lt;b &amp; &quot;c&quot;\\u{1b}[31m\n");
/// ```
pub fn escape(text: &str) -> String {
    escape_xml(text, false)
}

/// Escapes text for an XML 1.0 attribute value: as [`escape`], and line feeds and tabs become
/// character references too, since a parser would turn them into spaces.
///
/// # Example
/// ```
/// use alipay_cancel_kit::report::junit::escape_attribute;
/// assert_eq!(escape_attribute("a\tb\nc"), "a&#9;b&#10;c");
/// ```
pub fn escape_attribute(text: &str) -> String {
    escape_xml(text, true)
}

fn escape_xml(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' | '\t' => out.push(c),
            c if is_xml_char(c) => out.push(c),
            c => out.push_str(&c.escape_unicode().to_string()),
        }
    }
    out
}

/// XML 1.0's `Char` production, less what [`escape`] handles before.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn seconds(ms: f64) -> String {
    format!("{:.3}", ms / 1000.0)
}

/// Failed checks as plain text, a block per check.
fn checks_text<'a>(checks: impl Iterator<Item = &'a Check>) -> String {
    let mut text = String::new();
    for check in checks {
        let _ = writeln!(
            text,
            "{} {}: {}",
            check.level.as_str(),
            check.id,
            check.message
        );
        if let Some(expected) = &check.expected {
            let _ = writeln!(text, "  expected: {expected}");
        }
        if let Some(seen) = &check.seen {
            let _ = writeln!(text, "  seen:     {seen}");
        }
        for (name, value) in &check.values {
            let _ = writeln!(text, "  {name}: {}", super::one_line(value));
        }
        let _ = writeln!(text, "  rule:     {}", check.rule);
    }
    text
}

/// The whole JUnit document: one `<testsuites>` holding one `<testsuite>` for the run.
pub fn render(report: &RunReport) -> String {
    let s = &report.summary;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
        escape_attribute(&report.tool),
        s.total,
        s.fail,
        s.error,
        s.skipped,
        seconds(report.duration_ms)
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
        escape_attribute(&format!("{}: {}", report.tool, report.client)),
        s.total,
        s.fail,
        s.error,
        s.skipped,
        seconds(report.duration_ms)
    );
    out.push_str("    <properties>\n");
    let mut properties = vec![
        ("tool", report.tool.clone()),
        ("client", report.client.clone()),
        ("mode", report.mode.clone()),
        ("transport", report.transport.as_str().to_owned()),
    ];
    // A client's capabilities and ids belong to runs of an adapter; `serve` and `proxy`
    // report the requests they received, from clients that declared nothing.
    if !report.is_standing() {
        properties.push(("capabilities", report.capabilities.join(",")));
        properties.push(("ids", report.id_set().describe()));
    }
    if let Some(note) = &report.capabilities_note {
        properties.push(("capabilitiesNote", note.clone()));
    }
    if let Some(b) = &report.baseline {
        properties.push(("baseline", b.file.clone()));
    }
    if let Some(i) = &report.interrupted {
        properties.push(("interrupted", i.signal.name().to_owned()));
    }
    for (name, value) in properties {
        let _ = writeln!(
            out,
            "      <property name=\"{name}\" value=\"{}\"/>",
            escape_attribute(&value)
        );
    }
    out.push_str("    </properties>\n");
    for scenario in &report.scenarios {
        out.push_str(&testcase(report, scenario));
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn testcase(report: &RunReport, result: &ScenarioResult) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\"",
        escape_attribute(group_of(&result.id)),
        escape_attribute(&result.id),
        seconds(result.duration_ms)
    );
    let expected = report
        .baseline
        .as_ref()
        .and_then(|b| b.expected_reason(&result.id))
        .map(|reason| format!(" (expected failure in the baseline: {reason})"))
        .unwrap_or_default();
    let mut body = String::new();
    // The values failed checks quote, whole, one property each (`request[1].signature.stringToSign`):
    // attribute escaping keeps line feeds, so a test reads the exact string to sign back.
    let values: Vec<(String, &String)> = result
        .failed_checks()
        .flat_map(|c| {
            c.values
                .iter()
                .map(move |(k, v)| (format!("{}.{k}", c.id), v))
        })
        .collect();
    if !values.is_empty() {
        body.push_str("      <properties>\n");
        for (name, value) in values {
            let _ = writeln!(
                body,
                "        <property name=\"{}\" value=\"{}\"/>",
                escape_attribute(&name),
                escape_attribute(value)
            );
        }
        body.push_str("      </properties>\n");
    }
    match result.verdict {
        Verdict::Pass => {}
        Verdict::NonStrict => {
            let text = format!(
                "NON_STRICT: SHOULD checks failed; this does not fail the run.\n{}",
                checks_text(result.failed_checks())
            );
            let _ = writeln!(body, "      <system-out>{}</system-out>", escape(&text));
        }
        Verdict::Fail => {
            let must = result
                .failed_checks()
                .filter(|c| c.level == Level::Must)
                .count();
            let message = format!("{must} MUST check(s) failed{expected}");
            let _ = writeln!(
                body,
                "      <failure type=\"FAIL\" message=\"{}\">{}</failure>",
                escape_attribute(&message),
                escape(&checks_text(result.failed_checks()))
            );
        }
        Verdict::Error => {
            let reason = result
                .reason
                .as_deref()
                .unwrap_or("the adapter broke the protocol");
            let message = format!("{reason}{expected}");
            let mut text = format!("{reason}\n");
            text.push_str(&checks_text(result.failed_checks()));
            let _ = writeln!(
                body,
                "      <error type=\"ERROR\" message=\"{}\">{}</error>",
                escape_attribute(&message),
                escape(&text)
            );
        }
        Verdict::Skipped => {
            let reason = result.reason.as_deref().unwrap_or("skipped");
            let _ = writeln!(
                body,
                "      <skipped message=\"{}\"/>",
                escape_attribute(reason)
            );
        }
    }
    if !result.stderr.is_empty() {
        let _ = writeln!(
            body,
            "      <system-err>{}</system-err>",
            escape(&result.stderr)
        );
    }
    if body.is_empty() {
        out.push_str("/>\n");
    } else {
        out.push_str(">\n");
        out.push_str(&body);
        out.push_str("    </testcase>\n");
    }
    out
}
