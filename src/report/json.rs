//! The JSON report: the [`RunReport`] as one JSON object, shaped as `schema/report.schema.json`
//! publishes ([`SCHEMA`]).
//!
//! Members: `tool`, `client`, `mode`, `capabilities`, `capabilitiesNote` (when the probe
//! failed), `ids` and `idsDeclared` (the ids the client sends), `scenarios` (catalogue order; each with `id`, `title`, `rule`, `verdict`, `reason`,
//! `checks` with `id`, `level`, `held`, `message`, `rule`, `expected`, `seen`, then `requests`,
//! `outcome`, `stderr`, `durationMs`, `adapterMs`), `summary` (counts keyed by verdict word, and
//! `total`), `baseline` (when one was given) and `durationMs`.

use super::RunReport;

/// The report's JSON Schema (draft 2020-12), as published under `schema/`.
pub const SCHEMA: &str = include_str!("../../schema/report.schema.json");

/// The report as pretty-printed JSON, with a final line feed.
///
/// # Example
/// ```
/// use alipay_cancel_kit::report::{json, RunReport};
/// let text = json::to_string(&RunReport::new("built-in reference client", "exec", Vec::new()));
/// let value: serde_json::Value = serde_json::from_str(&text).unwrap();
/// assert_eq!(value["summary"]["total"], 0);
/// assert_eq!(value["scenarios"], serde_json::json!([]));
/// ```
pub fn to_string(report: &RunReport) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("a run report always serialises");
    text.push('\n');
    text
}

/// The report as a JSON value.
pub fn to_value(report: &RunReport) -> serde_json::Value {
    serde_json::to_value(report).expect("a run report always serialises")
}
