//! The HTML report (`--html FILE`): one self-contained page that fetches nothing. The totals,
//! a table of scenarios filterable by group and verdict, and for each scenario its checks
//! (expected, seen, the rule and its text, carried in the page) and the full transcript: each request
//! and answer with headers and body, the timings, the adapter's standard error.
//!
//! Everything from a run is escaped ([`escape`]): bodies and standard error come from the
//! client under test. Defence in depth: the page's Content-Security-Policy allows no fetch and
//! only the page's own script, by its SHA-256, so even markup that slipped through could not
//! run. Without script the page still shows everything; the script only filters.

use std::fmt::Write as _;

use base64::Engine as _;

mod scenario;

use super::{group_of, RunReport};
use crate::verdict::{ScenarioResult, Verdict};
use scenario::scenario;

/// The page's one script: hides the rows and sections the filters leave out, and says how many
/// are shown; `#verdict=FAIL&group=result` in the link presets the filters. It reads the
/// `data-` attributes of the rows; it evaluates nothing from the run.
const SCRIPT: &str = include_str!("page.js");

const STYLE: &str = include_str!("page.css");

/// Escapes text for HTML content and attribute values: `&`, `<`, `>`, `"` and `'` become
/// entities, and control characters other than line feed and tab visible escapes.
///
/// # Example
/// ```
/// use alipay_cancel_kit::report::html::escape;
/// assert_eq!(escape("<script>\"x\" & 'y'</script>"),
///            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

/// How the page is made: where, if anywhere, rule references link to. Also the `--docs-url`
/// option of every command that writes the page.
#[derive(clap::Args, Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Link the HTML report's rule references to the kit's docs published under URL
    /// (`URL/docs/contract.md#...`). Without it the page carries each rule's text and links
    /// nowhere outside itself.
    // E.g. `https://example.test/alipay-cancel-kit`: each rule reference then also links to
    // `<base>/docs/contract.md#request-checks`. A relative link into `docs/` would be dead in
    // a CI artifact.
    #[arg(long, value_name = "URL")]
    pub docs_url: Option<String>,
}

/// The rules the page cites, each once: its reference and its text, for the list at the end
/// of the page that every rule reference jumps to (`#rule-3`).
#[derive(Default)]
struct Rules {
    cited: Vec<(String, String)>,
}

impl Rules {
    /// The in-page anchor of a rule reference with this text, added to the list if new.
    fn anchor(&mut self, reference: &str, text: &str) -> String {
        // Two checks may cite one reference (`method` and `path`, check 1): each its own text.
        let at = match self
            .cited
            .iter()
            .position(|(r, t)| r == reference && t == text)
        {
            Some(at) => at,
            None => {
                self.cited.push((reference.to_owned(), text.to_owned()));
                self.cited.len() - 1
            }
        };
        format!("rule-{}", at + 1)
    }
}

/// A rule reference (`docs/contract.md#outcome-rules (signatures); docs/api.md#signing`) as
/// the page shows it: the reference as text, each `docs/<page>.md#<anchor>` in it jumping to
/// its text in the page's list of rules, and (with [`Options::docs_url`]) linking out.
fn rule_refs(rule: &str, check_id: Option<&str>, rules: &mut Rules, options: &Options) -> String {
    let mut out = String::new();
    let own = check_id.and_then(super::rules::check_text);
    let (found, rest) = super::rules::scan(rule);
    let any = !found.is_empty();
    for (before, target) in found {
        out.push_str(&escape(before));
        let text = own.clone().or_else(|| {
            super::rules::references(target)
                .into_iter()
                .next()
                .and_then(|(_, t)| t)
        });
        match text {
            Some(text) => {
                // A check's rule is one reference: the whole of it names the row.
                let reference = if own.is_some() { rule } else { target };
                let anchor = rules.anchor(reference, &text);
                let _ = write!(out, "<a href=\"#{anchor}\">{}</a>", escape(target));
            }
            None => out.push_str(&escape(target)),
        }
        if let Some(base) = &options.docs_url {
            if target.contains(".md") {
                let _ = write!(
                    out,
                    " <a class=\"out\" href=\"{}/{}\">docs</a>",
                    escape(base.trim_end_matches('/')),
                    escape(target)
                );
            }
        }
    }
    out.push_str(&escape(rest));
    if !any {
        return escape(rule);
    }
    out
}

/// The text of a rule, for a failed check's row: what the rule demands, in the page.
fn rule_text(rule: &str, check_id: &str) -> Option<String> {
    super::rules::check_text(check_id).or_else(|| {
        super::rules::references(rule)
            .into_iter()
            .find_map(|(_, text)| text)
    })
}

/// The whole page.
///
/// # Example
/// ```
/// use alipay_cancel_kit::report::{html, RunReport};
/// let page = html::render(&RunReport::new("./adapter", "exec", Vec::new()));
/// assert!(page.starts_with("<!doctype html>"));
/// assert!(page.contains("0 scenarios: 0 PASS, 0 NON_STRICT, 0 FAIL, 0 ERROR, 0 SKIPPED"));
/// ```
pub fn render(report: &RunReport) -> String {
    render_with(report, &Options::default())
}

/// The whole page, made as `options` say.
pub fn render_with(report: &RunReport, options: &Options) -> String {
    render_columns_with(&[("", report)], options)
}

/// One page of several runs (`report-card --html`): each run under its name, in order, with
/// one set of filters over all of them.
pub fn render_columns(columns: &[(&str, &RunReport)]) -> String {
    render_columns_with(columns, &Options::default())
}

/// [`render_columns`], made as `options` say.
pub fn render_columns_with(columns: &[(&str, &RunReport)], options: &Options) -> String {
    let mut rules = Rules::default();
    let Some((_, first)) = columns.first() else {
        return render(&RunReport::new("", "", Vec::new()));
    };
    let scenarios: usize = columns.iter().map(|(_, r)| r.scenarios.len()).sum();
    let digest = ring::digest::digest(&ring::digest::SHA256, SCRIPT.as_bytes());
    let script_hash = base64::engine::general_purpose::STANDARD.encode(digest.as_ref());
    let mut out = String::with_capacity(4096 + scenarios * 4096);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&first.tool),
        escape(
            &columns
                .iter()
                .map(|(_, r)| r.client.as_str())
                .collect::<Vec<_>>()
                .join(" | ")
        )
    );
    let _ = writeln!(out, "<h1>{}</h1>", escape(&first.tool));
    filters(&mut out, columns);
    for (k, (name, report)) in columns.iter().enumerate() {
        if columns.len() > 1 {
            let _ = writeln!(out, "<h2 class=\"column\">{}</h2>", escape(name));
        }
        header(&mut out, report);
        totals(&mut out, report);
        if let Some(b) = &report.baseline {
            baseline(&mut out, b);
        }
        first_failure(&mut out, k, report);
        table(&mut out, k, report);
        out.push_str("<h2>Scenarios</h2>\n");
        // Failures first: they are what the reader came for; the rest in catalogue order.
        let (failed, others): (Vec<_>, Vec<_>) = report
            .scenarios
            .iter()
            .enumerate()
            .partition(|(_, s)| s.verdict.is_failure());
        for (i, s) in failed.into_iter().chain(others) {
            scenario(&mut out, k, i, s, &mut rules, options);
        }
    }
    rules_list(&mut out, &rules);
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    out
}

/// A jump to the first failing scenario, when there is one.
fn first_failure(out: &mut String, k: usize, report: &RunReport) {
    if let Some((i, s)) = report
        .scenarios
        .iter()
        .enumerate()
        .find(|(_, s)| s.verdict.is_failure())
    {
        let _ = writeln!(
            out,
            "<p class=\"jump\"><a href=\"#c{k}s{i}\">first failure: <code>{}</code></a> ({} failing; failing scenarios are listed first below)</p>",
            escape(&s.id),
            report.summary.fail + report.summary.error
        );
    }
}

/// Every rule the page cited, with its text, each under the anchor its references jump to.
fn rules_list(out: &mut String, rules: &Rules) {
    if rules.cited.is_empty() {
        return;
    }
    out.push_str("<h2 id=\"rules\">Rules cited</h2>\n<dl class=\"rules\">\n");
    for (n, (reference, text)) in rules.cited.iter().enumerate() {
        let _ = writeln!(
            out,
            "<dt id=\"rule-{}\"><code>{}</code></dt><dd>{}</dd>",
            n + 1,
            escape(reference),
            escape(text)
        );
    }
    out.push_str("</dl>\n");
}

fn header(out: &mut String, report: &RunReport) {
    out.push_str("<table class=\"meta\">\n");
    let mut row = |k: &str, v: String| {
        let _ = writeln!(out, "<tr><td>{k}</td><td>{v}</td></tr>");
    };
    row(
        "client",
        format!(
            "<code>{}</code> ({} mode)",
            escape(&report.client),
            escape(&report.mode)
        ),
    );
    let capabilities = if report.capabilities.is_empty() {
        "none".to_owned()
    } else {
        escape(&report.capabilities.join(", "))
    };
    let note = report
        .capabilities_note
        .as_deref()
        .map(|n| format!(" ({})", escape(n)))
        .unwrap_or_default();
    row("capabilities", format!("{capabilities}{note}"));
    row("transport", escape(report.transport.describe()));
    if let Some(c) = &report.catalogue {
        row(
            "selection",
            format!(
                "{} scenarios, <code>{}</code>",
                c.scenarios,
                escape(&c.fingerprint)
            ),
        );
    }
    if let Some(s) = &report.shard {
        row("shard", s.to_string());
    }
    row("wall time", format!("{:.0} ms", report.duration_ms));
    out.push_str("</table>\n");
}

fn totals(out: &mut String, report: &RunReport) {
    let counts: Vec<String> = Verdict::ALL
        .iter()
        .map(|&v| format!("{} {}", report.summary.count(v), v.as_str()))
        .collect();
    // The worst verdict colours the line.
    let worst = [Verdict::Error, Verdict::Fail, Verdict::NonStrict]
        .into_iter()
        .find(|&v| report.summary.count(v) > 0)
        .unwrap_or(Verdict::Pass);
    // The same words as the terminal's totals line, so one search finds both.
    let _ = writeln!(
        out,
        "<p class=\"totals {}\">{} scenarios: {}</p>",
        worst.as_str(),
        report.summary.total,
        counts.join(", ")
    );
    let exit = report.exit_code();
    let _ = writeln!(
        out,
        "<p>exit code <b class=\"{}\">{}</b>{}</p>",
        if exit.is_ok() { "PASS" } else { "FAIL" },
        exit.code(),
        if report.baseline.is_some() {
            " (with the baseline)"
        } else {
            ""
        }
    );
}

fn baseline(out: &mut String, b: &super::BaselineOutcome) {
    let _ = writeln!(
        out,
        "<h2>Baseline</h2>\n<p><code>{}</code>: {} expected failure(s), {} regression(s), {} stale, {} not run</p>",
        escape(&b.file),
        b.expected_failures.len(),
        b.regressions.len(),
        b.stale.len(),
        b.not_run.len()
    );
    if !b.regressions.is_empty() || !b.stale.is_empty() {
        out.push_str("<ul>\n");
        for id in &b.regressions {
            let _ = writeln!(out, "<li class=\"FAIL\">regression: {}</li>", escape(id));
        }
        for m in &b.stale {
            let _ = writeln!(
                out,
                "<li class=\"FAIL\">stale: {} (now {}; remove the entry)</li>",
                escape(&m.id),
                m.verdict
            );
        }
        out.push_str("</ul>\n");
    }
}

fn filters(out: &mut String, columns: &[(&str, &RunReport)]) {
    let mut groups: Vec<&str> = Vec::new();
    for s in columns.iter().flat_map(|(_, r)| &r.scenarios) {
        let g = group_of(&s.id);
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    out.push_str("<div class=\"filters\">\n<label>group <select id=\"f-group\"><option value=\"\">all</option>");
    for g in groups {
        let _ = write!(out, "<option value=\"{0}\">{0}</option>", escape(g));
    }
    out.push_str("</select></label>\n<label>verdict <select id=\"f-verdict\"><option value=\"\">all</option>");
    for v in Verdict::ALL {
        let _ = write!(out, "<option value=\"{0}\">{0}</option>", v.as_str());
    }
    out.push_str(
        "</select></label>\n<label>id <input id=\"f-text\" type=\"search\" placeholder=\"filter ids\"></label>\n\
         <span id=\"shown\" class=\"dim\"></span>\n</div>\n",
    );
}

fn data_attrs(s: &ScenarioResult) -> String {
    format!(
        "data-id=\"{}\" data-group=\"{}\" data-verdict=\"{}\"",
        escape(&s.id),
        escape(group_of(&s.id)),
        s.verdict.as_str()
    )
}

fn table(out: &mut String, k: usize, report: &RunReport) {
    out.push_str(
        "<table id=\"scenarios\">\n<thead><tr><th>verdict</th><th>scenario</th><th>about</th>\
         <th>requests</th><th>ms</th></tr></thead>\n<tbody>\n",
    );
    for (i, s) in report.scenarios.iter().enumerate() {
        let about = s.reason.as_deref().unwrap_or(&s.title);
        // The failed checks show in the table too: the first thing a reader looks for.
        let note: String = s
            .failed_checks()
            .map(|c| {
                format!(
                    "<div class=\"broken\">{} <code>{}</code>: {}</div>",
                    c.level.as_str(),
                    escape(&c.id),
                    escape(&c.message)
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "<tr {}><td class=\"v {v}\">{v}</td><td><a href=\"#c{k}s{i}\">{}</a></td><td>{}{note}</td>\
             <td>{}</td><td>{:.1}</td></tr>",
            data_attrs(s),
            escape(&s.id),
            escape(about),
            s.requests,
            s.duration_ms,
            v = s.verdict.as_str(),
        );
    }
    out.push_str("</tbody>\n</table>\n");
}
