//! The full catalogue's JSON report, held still: for the reference client and two broken ones,
//! the report of a whole run must stay what it was, check for check and word for word, while
//! the harness beneath it is rebuilt. Only what differs from run to run is masked: timings,
//! ports, clock readings and the signatures over them.
//!
//! Each run is held in `tests/it/golden/<run>/`, one pretty JSON file per scenario so that a
//! change reads as a diff of the scenarios it touched: `_run.json` is the report's head (client,
//! mode, capabilities, summary), and `<group>__<name>.json` the scenario `<group>/<name>` (its
//! `/` written `__`). A scenario run but not held, or held but not run, is named; a changed one
//! is named with the JSON pointer of each member that changed.
//!
//! The one way to update them, after a change that is meant to alter reports: write them anew
//! with `ACK_UPDATE_GOLDEN=1 cargo test --test it golden`, then read `git diff tests/it/golden`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use alipay_cancel_kit::reference_client::{Behaviour, Defect, Defects};
use alipay_cancel_kit::report::json;
use alipay_cancel_kit::run::Client;
use serde_json::Value;

use crate::common::{catalogue, run_with};

/// The variable that writes the held reports anew instead of comparing with them.
const UPDATE: &str = "ACK_UPDATE_GOLDEN";

/// The file that holds a report's head, beside its scenarios' files.
const HEAD_FILE: &str = "_run.json";

/// How many changed members are listed per scenario before the rest are counted.
const SHOWN_PER_FILE: usize = 8;

/// The clients whose reports are held, each with the directory that holds its report.
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
    let update = std::env::var_os(UPDATE).is_some();
    let in_catalogue_order: Vec<&str> = catalogue()
        .select(&["*".to_owned()], &[])
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    let mut differences = Vec::new();
    for (name, client) in clients() {
        let report = run_with(client, &["*"]);
        // One file per scenario no longer holds their order: the catalogue's is asserted here.
        let ids: Vec<&str> = report.scenarios.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids, in_catalogue_order,
            "{name}: scenarios out of catalogue order"
        );
        let files = golden_files(&json::to_value(&report));
        let dir = golden_dir(name);
        if update {
            write_held(&dir, &files);
        } else {
            differences.extend(compare(name, &dir, &files));
        }
    }
    assert!(
        differences.is_empty(),
        "the full-catalogue reports changed ({} files); if that is meant, run with {UPDATE}=1 and read `git diff tests/it/golden`:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

/// What a run's files say against what is held in `dir`: one entry per file that differs, is
/// missing or is left over, naming the run and the scenario.
fn compare(run: &str, dir: &Path, files: &BTreeMap<String, Value>) -> Vec<String> {
    let mut held = read_held(dir);
    let mut differences = Vec::new();
    for (file, now) in files {
        let what = describe(file);
        let Some(text) = held.remove(file) else {
            differences.push(format!(
                "{run}: {what} was run but is not held (no {run}/{file})"
            ));
            continue;
        };
        if text == pretty(now) {
            continue;
        }
        let was: Value = match serde_json::from_str(&text) {
            Ok(was) => was,
            Err(e) => {
                differences.push(format!("{run}/{file}: not JSON: {e}"));
                continue;
            }
        };
        let mut changed = Vec::new();
        changes("", &was, now, &mut changed);
        if changed.is_empty() {
            changed.push("the same values, written otherwise (member order or layout)".into());
        }
        let more = changed.len().saturating_sub(SHOWN_PER_FILE);
        changed.truncate(SHOWN_PER_FILE);
        if more > 0 {
            changed.push(format!("and {more} more"));
        }
        differences.push(format!(
            "{run}: {what} changed ({run}/{file}):\n    {}",
            changed.join("\n    ")
        ));
    }
    for file in held.keys() {
        differences.push(format!(
            "{run}: {} is held ({run}/{file}) but was not run",
            describe(file)
        ));
    }
    differences
}

/// The scenario (or the head) a held file stands for, as a reader names it.
fn describe(file: &str) -> String {
    if file == HEAD_FILE {
        "the report's head".to_owned()
    } else {
        format!(
            "scenario {}",
            file.trim_end_matches(".json").replace("__", "/")
        )
    }
}

/// Each member where `was` and `now` part, by its JSON pointer, with both values.
fn changes(pointer: &str, was: &Value, now: &Value, out: &mut Vec<String>) {
    match (was, now) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, old) in a {
                let at = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                match b.get(key) {
                    Some(new) => changes(&at, old, new, out),
                    None => out.push(format!("{at}: was {old}, now absent")),
                }
            }
            for (key, new) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                let at = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                out.push(format!("{at}: was absent, now {new}"));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (old, new)) in a.iter().zip(b).enumerate() {
                changes(&format!("{pointer}/{i}"), old, new, out);
            }
            for (i, old) in a.iter().enumerate().skip(b.len()) {
                out.push(format!("{pointer}/{i}: was {old}, now absent"));
            }
            for (i, new) in b.iter().enumerate().skip(a.len()) {
                out.push(format!("{pointer}/{i}: was absent, now {new}"));
            }
        }
        _ if was != now => out.push(format!("{}: was {was}, now {now}", or_root(pointer))),
        _ => {}
    }
}

fn or_root(pointer: &str) -> &str {
    if pointer.is_empty() {
        "(the whole file)"
    } else {
        pointer
    }
}

/// A value as its held file writes it: pretty JSON and a final line feed.
fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap() + "\n"
}

fn golden_dir(run: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/golden")
        .join(run)
}

/// Every `.json` file held in `dir`, by name, with its text.
fn read_held(dir: &Path) -> BTreeMap<String, String> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e} (write it with {UPDATE}=1)", dir.display()));
    entries
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let text =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (name, text)
        })
        .collect()
}

/// Writes `files` into `dir` and removes the files of scenarios no longer run.
fn write_held(dir: &Path, files: &BTreeMap<String, Value>) {
    std::fs::create_dir_all(dir).unwrap();
    for stale in read_held(dir).keys().filter(|f| !files.contains_key(*f)) {
        std::fs::remove_file(dir.join(stale)).unwrap();
    }
    for (file, value) in files {
        std::fs::write(dir.join(file), pretty(value)).unwrap();
    }
}

/// The report as files: its head (without the scenarios) and one file per scenario, named by
/// its id, everything that differs from run to run masked.
fn golden_files(report: &Value) -> BTreeMap<String, Value> {
    let mut head = report.clone();
    let scenarios = head
        .as_object_mut()
        .and_then(|o| o.remove("scenarios"))
        .unwrap_or_default();
    let mut files = BTreeMap::from([(HEAD_FILE.to_owned(), masked(head))]);
    for scenario in scenarios.as_array().into_iter().flatten() {
        let id = scenario["id"].as_str().expect("a scenario has an id");
        assert!(
            !id.contains("__"),
            "{id}: `__` stands for `/` in the golden file names"
        );
        let file = format!("{}.json", id.replace('/', "__"));
        let previous = files.insert(file, masked(scenario.clone()));
        assert!(previous.is_none(), "{id} is in the report twice");
    }
    files
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
