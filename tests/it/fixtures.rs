//! The fixtures under `conformance/fixtures/`, run against both oracles: the JSON Schema
//! and the Rust types. Each case cites the rule it exercises; an invalid case must be
//! rejected by both, each naming that rule.

use std::collections::BTreeSet;
use std::path::Path;

use alipay_cancel_kit::schema::Schema;
use alipay_cancel_kit::spec::{CancelRequest, CancelResponse, Rule};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureFile {
    #[allow(dead_code)]
    description: String,
    kind: String,
    schema: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    description: String,
    rule: String,
    #[serde(default)]
    source: Option<String>,
    data: Value,
    valid: bool,
    #[serde(default)]
    warnings: Vec<String>,
}

fn load() -> Vec<(String, FixtureFile)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/fixtures");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let file: FixtureFile =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.display().to_string(), file)
        })
        .collect()
}

/// Both oracles' verdicts on one body: the rules each names, `None` when it accepts.
fn judge(
    kind: &str,
    data: &Value,
) -> (Option<BTreeSet<Rule>>, Option<BTreeSet<Rule>>, Vec<String>) {
    let (schema, typed, warnings) = match kind {
        "request" => {
            let (typed, warnings) = match CancelRequest::check_value(data) {
                Ok((_, w)) => (None, w.iter().map(|w| w.pointer().to_owned()).collect()),
                Err(e) => (Some(e.rules().into_iter().collect()), Vec::new()),
            };
            (Schema::Request, typed, warnings)
        }
        "response" => {
            let typed = CancelResponse::from_value(data)
                .err()
                .map(|e| e.rules().into_iter().collect());
            (Schema::Response, typed, Vec::new())
        }
        other => panic!("unknown fixture kind {other}"),
    };
    let violations = schema.violations(data);
    let schema_rules = (!violations.is_empty()).then(|| {
        violations
            .iter()
            .map(|v| {
                v.rule()
                    .unwrap_or_else(|| panic!("violation maps to no rule: {v:?}"))
            })
            .collect()
    });
    assert_eq!(
        schema.is_valid(data),
        violations.is_empty(),
        "is_valid and iter_errors disagree"
    );
    (schema_rules, typed, warnings)
}

#[test]
fn fixtures_agree_with_both_oracles() {
    let mut failures = Vec::new();
    for (path, file) in load() {
        assert!(
            Schema::ALL.iter().any(|s| s.path() == file.schema),
            "{path}: {}",
            file.schema
        );
        for case in &file.cases {
            let rule: Rule = case
                .rule
                .parse()
                .unwrap_or_else(|e| panic!("{path}: {}: {e}", case.description));
            let (schema, typed, warnings) = judge(&file.kind, &case.data);
            let name = format!("{path}: {} [{rule}]", case.description);
            if case.valid {
                if schema.is_some() || typed.is_some() {
                    failures.push(format!(
                        "{name}: expected valid; schema {schema:?}, types {typed:?}"
                    ));
                }
                if warnings != case.warnings {
                    failures.push(format!(
                        "{name}: warnings {warnings:?}, expected {:?}",
                        case.warnings
                    ));
                }
            } else {
                let named = |rules: &Option<BTreeSet<Rule>>| {
                    rules.as_ref().is_some_and(|r| r.contains(&rule))
                };
                if !named(&schema) || !named(&typed) {
                    failures.push(format!(
                        "{name}: expected both to reject naming the rule; schema {schema:?}, types {typed:?}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_rule_has_an_invalid_fixture() {
    let mut invalid = BTreeSet::new();
    let mut warned = BTreeSet::new();
    for (_, file) in load() {
        for case in file.cases {
            let rule: Rule = case.rule.parse().unwrap();
            if !case.valid {
                invalid.insert(rule);
            }
            if !case.warnings.is_empty() {
                warned.insert(rule);
            }
        }
    }
    for rule in Rule::ALL {
        match rule {
            // Bodies that are not JSON cannot be fixtures' `data`: see tests/it/validate.rs
            // and conformance/examples/.
            Rule::Json => {}
            // A warning, never an error.
            Rule::UnknownMember => assert!(warned.contains(&rule), "no fixture warns {rule}"),
            _ => assert!(invalid.contains(&rule), "no invalid fixture for {rule}"),
        }
    }
}

#[test]
fn the_seed_s_own_examples_are_fixtures() {
    let cited: Vec<String> = load()
        .into_iter()
        .flat_map(|(_, f)| f.cases)
        .filter_map(|c| c.source)
        .collect();
    // The vendor page's request example, response example and result-code table, as
    // docs/api.md quotes them.
    for section in [
        "docs/api.md#request-body",
        "docs/api.md#response-body",
        "docs/api.md#result-and-error-codes",
    ] {
        assert!(cited.iter().any(|s| s.ends_with(section)), "{section}");
    }
}
