//! The docs the kit's data cites: every reference in a scenario's `rule` (and a fixture's
//! `source`, and `Rule::source`) names a file of the repository and, after `#`, a heading of
//! that file, so a dangling reference fails here. And `docs/api.md` shows the result-code table
//! exactly as `schema/result-codes.json` renders.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use alipay_cancel_kit::spec::{render_result_code_table, Rule};
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The anchor GitHub gives a heading: lower case, punctuation dropped (except `-` and `_`),
/// each space a `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown file's headings (ATX headings outside code fences); a repeated
/// heading gets `-1`, `-2`, ... as on GitHub.
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut in_fence = false;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let hashes = trimmed.chars().take_while(|&c| c == '#').count();
        if !(1..=6).contains(&hashes) || !trimmed[hashes..].starts_with(' ') {
            continue;
        }
        let base = slug(trimmed[hashes..].trim().trim_end_matches('#'));
        let mut anchor = base.clone();
        let mut n = 0;
        while found.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        found.insert(anchor);
    }
    found
}

/// The file references in a text: every token naming a `.md` file, bare
/// (`docs/contract.md#outcome-rules (TLS)`) or as a Markdown link target
/// (`[outcome rules](docs/contract.md#outcome-rules)`), as (path, anchor).
fn references(text: &str) -> Vec<(String, Option<String>)> {
    text.split(|c: char| c.is_whitespace() || ";,()[]<>`\"'".contains(c))
        .filter(|token| token.contains(".md"))
        .map(|token| {
            let (path, anchor) = match token.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor.trim_end_matches(['.', ':']))),
                None => (token.trim_end_matches(['.', ':']), None),
            };
            (path.to_owned(), anchor.map(str::to_owned))
        })
        .collect()
}

/// What is wrong with each reference of `text` (paths relative to the repository root).
fn dangling(text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, anchor) in references(text) {
        let file: PathBuf = root().join(&path);
        if !path.ends_with(".md") || path.starts_with('/') || path.contains("..") {
            problems.push(format!("{path}: not a Markdown file of the repository"));
            continue;
        }
        let Ok(markdown) = std::fs::read_to_string(&file) else {
            problems.push(format!("{path}: no such file in the repository"));
            continue;
        };
        if let Some(anchor) = anchor {
            if !anchors(&markdown).contains(&anchor) {
                problems.push(format!("{path}#{anchor}: no such heading in {path}"));
            }
        }
    }
    problems
}

/// Every string under a key named `key`, at any depth.
fn strings_under(value: &Value, key: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            for (name, member) in members {
                match member {
                    Value::String(text) if name == key => out.push(text.clone()),
                    _ => strings_under(member, key, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| strings_under(item, key, out)),
        _ => {}
    }
}

/// (file, text) of every `key` string in the JSON files of `dir`.
fn cited_in(dir: &str, key: &str) -> Vec<(String, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no JSON files under {dir}");
    let mut cited = Vec::new();
    for file in files {
        let value: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mut texts = Vec::new();
        strings_under(&value, key, &mut texts);
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        cited.extend(texts.into_iter().map(|text| (name.clone(), text)));
    }
    cited
}

#[test]
fn slugs_follow_github() {
    assert_eq!(
        slug("Wire rule for every field"),
        "wire-rule-for-every-field"
    );
    assert_eq!(
        slug("Signed answers, and which unsigned ones to believe"),
        "signed-answers-and-which-unsigned-ones-to-believe"
    );
    assert_eq!(slug("Exec mode (the default)"), "exec-mode-the-default");
    assert_eq!(
        slug("Persistent mode (`--persistent`)"),
        "persistent-mode---persistent"
    );
    let found = anchors("# A\n## Twice\n```\n## Not a heading\n```\n## Twice\n#hashtag\n");
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["a", "twice", "twice-1"]
    );
}

#[test]
fn a_dangling_reference_is_caught() {
    assert!(dangling("docs/contract.md#outcome-rules (TLS); docs/api.md#signing").is_empty());
    assert!(dangling("see [the rules](docs/contract.md#request-checks)").is_empty());
    assert_eq!(
        dangling("docs/api.md#no-such-heading"),
        ["docs/api.md#no-such-heading: no such heading in docs/api.md"]
    );
    assert_eq!(
        dangling("docs/contract.md#robustness; cancel-api.md#endpoint (sandbox)"),
        ["cancel-api.md: no such file in the repository"]
    );
    assert_eq!(
        dangling("seed-cancel-api.zh.md#结果/错误代码").len(),
        1,
        "a file outside the repository"
    );
    assert_eq!(dangling("../shared/spec/cancel-api.md").len(), 1);
}

#[test]
fn every_scenario_rule_resolves_to_a_heading_of_the_repo() {
    let rules = cited_in("conformance/scenarios", "rule");
    assert!(rules.len() > 50, "only {} rules found", rules.len());
    let mut problems = Vec::new();
    for (file, rule) in &rules {
        if references(rule).is_empty() {
            problems.push(format!("{file}: rule {rule:?} cites no document"));
        }
        problems.extend(
            dangling(rule)
                .into_iter()
                .map(|p| format!("{file}: {p} (rule {rule:?})")),
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_fixture_source_and_rule_source_resolves() {
    let mut problems = Vec::new();
    for (file, source) in cited_in("conformance/fixtures", "source") {
        problems.extend(
            dangling(&source)
                .into_iter()
                .map(|p| format!("{file}: {p}")),
        );
    }
    for rule in Rule::ALL {
        assert!(!references(rule.source()).is_empty(), "{rule}");
        problems.extend(
            dangling(rule.source())
                .into_iter()
                .map(|p| format!("{rule}: {p}")),
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_api_page_has_its_sections() {
    let markdown = std::fs::read_to_string(root().join("docs/api.md")).unwrap();
    let found = anchors(&markdown);
    for anchor in [
        "endpoint",
        "wire-rule-for-every-field",
        "request-body",
        "response-body",
        "result-and-error-codes",
        "headers",
        "signing",
        "what-the-official-sdks-do",
    ] {
        assert!(found.contains(anchor), "docs/api.md lacks #{anchor}");
    }
}

#[test]
fn the_api_page_shows_the_result_code_table_as_rendered() {
    let markdown = std::fs::read_to_string(root().join("docs/api.md")).unwrap();
    assert!(
        markdown.contains(&render_result_code_table()),
        "docs/api.md#result-and-error-codes drifted from schema/result-codes.json; paste:\n{}",
        render_result_code_table()
    );
}
