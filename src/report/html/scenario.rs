//! One scenario's section of the page: its verdict, what the client surfaced, its checks (each
//! with the rule it cites and that rule's text) and the full transcript, every request and
//! answer with headers and body.

use std::fmt::Write as _;

use super::{data_attrs, escape, rule_refs, rule_text, Options, Rules};
use crate::report::terminal;
use crate::scenario::Fault;
use crate::verdict::{Check, ScenarioResult, Verdict};

pub(super) fn scenario(
    out: &mut String,
    k: usize,
    i: usize,
    s: &ScenarioResult,
    rules: &mut Rules,
    options: &Options,
) {
    let v = s.verdict.as_str();
    // Failures open by default: they are what the reader came for.
    let open = if s.verdict == Verdict::Pass || s.verdict == Verdict::Skipped {
        ""
    } else {
        " open"
    };
    let _ = writeln!(
        out,
        "<details class=\"scenario\" id=\"c{k}s{i}\" {}{open}>\n<summary><span class=\"v {v}\">{v}</span> \
         <code>{}</code> {}</summary>",
        data_attrs(s),
        escape(&s.id),
        escape(&s.title)
    );
    let _ = writeln!(
        out,
        "<p>rule: {}<br>{} request(s); {:.1} ms in all, of which the adapter {:.1} ms</p>",
        rule_refs(&s.rule, None, rules, options),
        s.requests,
        s.duration_ms,
        s.adapter_ms
    );
    if let Some(reason) = &s.reason {
        let _ = writeln!(out, "<p class=\"{v}\">{}</p>", escape(reason));
    }
    if !s.checks.is_empty() {
        out.push_str(
            "<table class=\"checks\"><thead><tr><th></th><th>level</th><th>check</th><th>message</th>\
             <th>expected</th><th>seen</th><th>rule</th></tr></thead><tbody>\n",
        );
        let surfaced = surfaced(s);
        for c in &s.checks {
            check(out, c, surfaced.as_deref(), rules, options);
        }
        out.push_str("</tbody></table>\n");
    }
    if let Some(outcome) = &s.outcome {
        let text = serde_json::to_string_pretty(outcome).unwrap_or_default();
        let _ = writeln!(
            out,
            "<p>outcome surfaced by the client:</p><pre>{}</pre>",
            escape(&text)
        );
    }
    if !s.transcript.is_empty() {
        let _ = writeln!(out, "<h3>Transcript</h3>");
    }
    for (n, e) in s.transcript.iter().enumerate() {
        exchange(out, n + 1, e);
    }
    if s.transcript.len() < s.requests {
        let _ = writeln!(
            out,
            "<p class=\"dim\">{} more request(s) not kept (the transcript keeps {})</p>",
            s.requests - s.transcript.len(),
            crate::transcript::MAX_EXCHANGES
        );
    }
    if !s.stderr.is_empty() {
        let _ = writeln!(
            out,
            "<p>adapter standard error:</p><pre>{}</pre>",
            escape(&s.stderr)
        );
    }
    out.push_str("</details>\n");
}

/// What the client surfaced, in a line: `FAILED (ORDER_NOT_EXIST)`, `UNKNOWN: why`.
fn surfaced(s: &ScenarioResult) -> Option<String> {
    let outcome = s.outcome.as_ref()?;
    let mut text = outcome.get("outcome")?.as_str()?.to_owned();
    if let Some(code) = outcome.get("resultCode").and_then(|v| v.as_str()) {
        text.push_str(&format!(" ({code})"));
    }
    if let Some(error) = outcome.get("error").and_then(|v| v.as_str()) {
        text.push_str(&format!(": {error}"));
    }
    Some(text)
}

fn check(
    out: &mut String,
    c: &Check,
    surfaced: Option<&str>,
    rules: &mut Rules,
    options: &Options,
) {
    let (mark, class) = if c.held {
        ("&#10003;", "held")
    } else {
        ("&#10007;", "broken")
    };
    let cell = |t: &Option<String>| {
        t.as_deref()
            .map(|t| format!("<code>{}</code>", escape(t)))
            .unwrap_or_default()
    };
    let mut seen = cell(&c.seen);
    // A failed outcome rule: what the client surfaced, beside what it should have.
    if !c.held && c.id.starts_with("outcome.") {
        if let Some(surfaced) = surfaced {
            let _ = write!(
                seen,
                "<div class=\"surfaced\">the client surfaced <code>{}</code></div>",
                escape(surfaced)
            );
        }
    }
    let mut message = escape(&c.message);
    for (name, value) in terminal::quoted_values(c) {
        let _ = write!(
            message,
            "<div class=\"value\">{}:<pre>{}</pre></div>",
            escape(name),
            escape(value)
        );
    }
    let mut rule = rule_refs(&c.rule, Some(&c.id), rules, options);
    if !c.held {
        if let Some(text) = rule_text(&c.rule, &c.id) {
            let _ = write!(rule, "<div class=\"rule-text\">{}</div>", escape(&text));
        }
    }
    let _ = writeln!(
        out,
        "<tr class=\"{class}\"><td>{mark}</td><td>{}</td><td><code>{}</code></td><td>{message}</td>\
         <td>{}</td><td>{seen}</td><td>{rule}</td></tr>",
        c.level.as_str(),
        escape(&c.id),
        cell(&c.expected),
    );
}

fn headers(list: &[[String; 2]]) -> String {
    list.iter()
        .map(|[n, v]| format!("{}: {}", escape(n), escape(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn exchange(out: &mut String, n: usize, e: &crate::transcript::Turn) {
    let r = &e.request;
    let a = &e.answer;
    let _ = writeln!(
        out,
        "<div class=\"x\"><p><b>request {n}</b> at {:.1} ms: <code>{} {}</code> ({} bytes)</p>\
         <pre>{}</pre><pre>{}</pre>",
        e.at_ms,
        escape(&r.method),
        escape(&r.path),
        r.body_bytes,
        headers(&r.headers),
        escape(&r.body)
    );
    let mut how = Vec::new();
    if a.delay_ms > 0 {
        how.push(format!("after {} ms", a.delay_ms));
    }
    match (a.script_index, &a.note) {
        (_, Some(note)) => how.push(escape(note)),
        (Some(i), None) => how.push(format!("scripted answer {}", i + 1)),
        (None, None) => {}
    }
    let how = if how.is_empty() {
        String::new()
    } else {
        format!("; {}", how.join("; "))
    };
    // A fault replaces (part of) the answer: say what went on the wire.
    let what = match a.fault {
        Some(Fault::CloseBeforeResponse) => {
            let _ = writeln!(
                out,
                "<p><b>answer {n}</b>: none: the connection was closed before any response (fault <code>close-before-response</code>){how}</p></div>"
            );
            return;
        }
        Some(Fault::TruncateBody) => format!(
            "HTTP {}, {} bytes announced, half of them sent, then the connection closed (fault <code>truncate-body</code>)",
            a.status, a.body_bytes
        ),
        None => format!("HTTP {} ({} bytes)", a.status, a.body_bytes),
    };
    let _ = writeln!(
        out,
        "<p><b>answer {n}</b>: {what}{how}</p><pre>{}</pre><pre>{}</pre></div>",
        headers(&a.headers),
        escape(&a.body)
    );
}
