//! The `x-kit-violations` header: a request's failed checks, sent back with its answer so the
//! test that made the request reads why it broke the contract (`docs/serve.md`).

use serde_json::{json, Value};

use crate::contract::Check;

/// The header that carries a request's failed checks back to the client.
pub const VIOLATIONS_HEADER: &str = "x-kit-violations";

/// The most bytes of the violations header; longer lists are cut, saying so.
pub const VIOLATIONS_HEADER_BYTES: usize = 8 * 1024;

/// The failed checks as compact JSON in visible ASCII, cut to [`VIOLATIONS_HEADER_BYTES`]
/// (the last element then says how many were left out); `None` when every check held.
pub fn violations_header(checks: &[Check]) -> Option<String> {
    let failed: Vec<Value> = checks
        .iter()
        .filter(|c| !c.held)
        .map(|c| {
            let mut v = json!({
                "id": c.id, "level": c.level, "message": c.message,
                "expected": c.expected, "seen": c.seen, "rule": c.rule,
            });
            // The quoted values by name (`stringToSign`), so a test reads them whole.
            if !c.values.is_empty() {
                v["values"] = json!(c.values);
            }
            v
        })
        .collect();
    if failed.is_empty() {
        return None;
    }
    // The most checks that fit, the last element then saying how many were left out.
    let mut kept = failed.len();
    loop {
        let mut list = failed[..kept].to_vec();
        if kept < failed.len() {
            list.push(json!({"truncated": true, "omitted": failed.len() - kept}));
        }
        let text = ascii_only(&Value::Array(list).to_string());
        if text.len() <= VIOLATIONS_HEADER_BYTES || kept == 0 {
            return Some(text);
        }
        kept -= 1;
    }
}

/// JSON text with every character outside visible ASCII escaped as `\uXXXX`, fit for a header.
pub(crate) fn ascii_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if (' '..='~').contains(&c) {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}
