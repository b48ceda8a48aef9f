//! The full catalogue's JSON report, held still: for the reference client and two broken ones,
//! the report of a whole run must stay what it was, check for check and word for word, while
//! the harness beneath it is rebuilt. Only what differs from run to run is masked: timings,
//! ports, clock readings and the signatures over them.
//!
//! After a change that is meant to alter reports, write them anew and read the diff:
//! `ACK_UPDATE_GOLDEN=1 cargo test --test it golden`.

use std::path::PathBuf;

use alipay_cancel_kit::reference_client::{Behaviour, Defect, Defects};
use alipay_cancel_kit::report::json;
use alipay_cancel_kit::run::Client;
use serde_json::Value;

use crate::common::run_with;

/// The clients whose reports are held, each with the file that holds its report.
fn clients() -> Vec<(&'static str, Client)> {
    let broken = |defects: &[Defect]| {
        let defects: Defects = defects.iter().copied().collect();
        Client::InProcess(defects.into())
    };
    vec![
        ("reference", Client::InProcess(Behaviour::default())),
        // Wrong about what it sends (its ids, its local checks, though it signs them well,
        // so that the gateway answers as scripted) and a little about what it reads.
        (
            "broken-requests",
            broken(&[
                Defect::NumberForString,
                Defect::AcceptEmptySignature,
                Defect::CrashOnUnknownField,
                Defect::RetryWithOtherIds,
                Defect::NoLocalValidation,
            ]),
        ),
        // Wrong about what it concludes: believing what it must not, misreading what it must.
        (
            "broken-conclusions",
            broken(&[
                Defect::NoResponseVerification,
                Defect::UnknownAsFailure,
                Defect::TransportErrorAsFailure,
                Defect::RetryFailure,
                Defect::IgnoreCancelTimeOffset,
                Defect::CrashOnUnknownCode,
                Defect::NoCertificateCheck,
            ]),
        ),
    ]
}

#[test]
fn the_full_catalogue_reports_are_unchanged() {
    let update = std::env::var_os("ACK_UPDATE_GOLDEN").is_some();
    let mut differences = Vec::new();
    for (name, client) in clients() {
        let report = run_with(client, &["*"]);
        let lines = golden_lines(&json::to_value(&report));
        let file = golden_file(name);
        if update {
            std::fs::write(&file, lines.join("\n") + "\n").unwrap();
            continue;
        }
        let held = std::fs::read_to_string(&file).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (write it with ACK_UPDATE_GOLDEN=1)",
                file.display()
            )
        });
        let held: Vec<&str> = held.lines().collect();
        if held.len() != lines.len() {
            differences.push(format!(
                "{name}: {} lines held, {} now",
                held.len(),
                lines.len()
            ));
        }
        for (was, now) in held.iter().zip(&lines) {
            if was != now {
                differences.push(format!("{name}: {}", first_difference(was, now)));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "the full-catalogue reports changed ({} lines); if that is meant, run with ACK_UPDATE_GOLDEN=1 and read the diff:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

/// Where two lines part, with some context on both sides.
fn first_difference(was: &str, now: &str) -> String {
    let at = was
        .char_indices()
        .zip(now.chars())
        .find(|((_, a), b)| a != b)
        .map_or(was.len().min(now.len()), |((i, _), _)| i);
    let window = |line: &str| {
        let chars: Vec<(usize, char)> = line.char_indices().collect();
        let i = chars.partition_point(|(j, _)| *j < at);
        chars[i.saturating_sub(60)..(i + 60).min(chars.len())]
            .iter()
            .map(|(_, c)| c)
            .collect::<String>()
    };
    let id = was.split("\"title\"").next().unwrap_or_default();
    format!(
        "{id} at byte {at}\n  was …{}…\n  now …{}…",
        window(was),
        window(now)
    )
}

fn golden_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/golden")
        .join(format!("{name}.jsonl"))
}

/// The report as lines: its head first (without the scenarios), then one scenario a line, in
/// catalogue order, everything that differs from run to run masked.
fn golden_lines(report: &Value) -> Vec<String> {
    let mut head = report.clone();
    let scenarios = head
        .as_object_mut()
        .and_then(|o| o.remove("scenarios"))
        .unwrap_or_default();
    let mut lines = vec![masked(head).to_string()];
    for scenario in scenarios.as_array().into_iter().flatten() {
        lines.push(masked(scenario.clone()).to_string());
    }
    lines
}

/// Headers whose values are the clock's, the port's or a signature over them.
const VARYING_HEADERS: [&str; 4] = ["host", "request-time", "response-time", "signature"];

fn masked(value: Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .filter(|(k, _)| !matches!(k.as_str(), "durationMs" | "adapterMs" | "atMs"))
                .map(|(k, v)| {
                    let v = if k == "headers" { masked_headers(v) } else { v };
                    (k, masked(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(masked).collect()),
        Value::String(text) => Value::String(masked_text(&text)),
        other => other,
    }
}

fn masked_headers(headers: Value) -> Value {
    let Value::Array(pairs) = headers else {
        return headers;
    };
    Value::Array(
        pairs
            .into_iter()
            .map(|pair| match pair.as_array().map(Vec::as_slice) {
                Some([Value::String(name), _])
                    if VARYING_HEADERS.contains(&name.to_ascii_lowercase().as_str()) =>
                {
                    serde_json::json!([name, "<varies>"])
                }
                _ => pair,
            })
            .collect(),
    )
}

/// Masks, in free text, what a run's clock and ports put there: `host:port`, epoch
/// milliseconds, today's instants, signatures and the skew in seconds.
fn masked_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some((skip, replacement)) = varying_at(rest) {
            out.push_str(replacement.unwrap_or(&rest[..skip]));
            rest = &rest[skip..];
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// What varies at the start of `text`, if anything: how many bytes, and what stands for them
/// (`None`: a number that does not vary, kept as it is).
fn varying_at(text: &str) -> Option<(usize, Option<&'static str>)> {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    for host in ["127.0.0.1:", "localhost:"] {
        if let Some(after) = text.strip_prefix(host) {
            let n = digits(after);
            if n > 0 {
                return Some((host.len() + n, Some("<host:port>")));
            }
        }
    }
    if let Some(after) = text.strip_prefix("signature=") {
        let n = after
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || b"%+/=".contains(b))
            .count();
        return Some(("signature=".len() + n, Some("signature=<varies>")));
    }
    if let Some(after) = text.strip_prefix("within ") {
        let n = after
            .strip_prefix('-')
            .map_or(digits(after), |a| 1 + digits(a));
        if n > 0 && after[n..].starts_with(" s of") {
            return Some(("within ".len() + n, Some("within <n>")));
        }
    }
    // Epoch milliseconds of this century's clock: thirteen digits, not part of a longer number.
    match digits(text) {
        0 => None,
        13 => Some((13, Some("<epoch-ms>"))),
        n => Some((n, None)),
    }
}
