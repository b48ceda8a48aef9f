//! The text of the rules reports cite, from the kit's own docs as built in: a report read far
//! from the repository (a CI artifact) still says what `docs/contract.md#request-checks 5`
//! demands.
//!
//! A check's rule is its row of the contract's tables (`` `signature` | MUST | ... ``); any
//! other reference, `docs/<page>.md#<anchor>`, is the first paragraph under that heading.

use crate::contract::CheckId;

/// The pages rules cite, by their path in the repository.
const PAGES: [(&str, &str); 3] = [
    ("docs/contract.md", include_str!("../../docs/contract.md")),
    ("docs/api.md", include_str!("../../docs/api.md")),
    (
        "docs/adapter-protocol.md",
        include_str!("../../docs/adapter-protocol.md"),
    ),
];

/// What the contract says of the check a report id names (`request[2].signature`): its row of
/// the request checks' or the outcome rules' table, as `` `signature` (MUST): ... ``. `None`
/// for an id that is not the contract's (`proxy`'s `answer[1].body`).
///
/// # Example
/// ```
/// use alipay_cancel_kit::report::rules::check_text;
/// let text = check_text("request[1].signature-encoding").unwrap();
/// assert!(text.starts_with("`signature-encoding` (SHOULD): "), "{text}");
/// ```
pub fn check_text(report_id: &str) -> Option<String> {
    let id = CheckId::from_report_id(report_id)?;
    let quoted = format!("`{}`", id.name());
    let (_, contract) = PAGES[0];
    contract.lines().find_map(|line| {
        let cells: Vec<&str> = line
            .strip_prefix('|')?
            .strip_suffix('|')?
            .split(" | ")
            .map(str::trim)
            .collect();
        // Request checks: | number | name | level | rule |; outcome rules: | name | level | rule |.
        let (names, level, text) = match cells.as_slice() {
            [_, names, level, text] | [names, level, text] => (*names, *level, *text),
            _ => return None,
        };
        let named = names.split(", ").any(|n| n == quoted);
        (named && matches!(level, "MUST" | "SHOULD" | "INFO"))
            .then(|| format!("{quoted} ({level}): {text}"))
    })
}

/// Every `docs/<page>.md#<anchor>` a rule reference holds, with the first paragraph under that
/// heading (when the page is one the kit carries and has the heading).
///
/// # Example
/// ```
/// use alipay_cancel_kit::report::rules::references;
/// let refs = references("docs/contract.md#local-validation; docs/api.md#nowhere");
/// assert_eq!(refs[0].0, "docs/contract.md#local-validation");
/// assert!(refs[0].1.as_deref().unwrap().contains("INVALID_REQUEST"));
/// assert_eq!(refs[1], ("docs/api.md#nowhere".to_owned(), None));
/// ```
pub fn references(rule: &str) -> Vec<(String, Option<String>)> {
    let (found, _) = scan(rule);
    found
        .into_iter()
        .filter_map(|(_, target)| {
            let (page, anchor) = target.split_once('#')?;
            Some((target.to_owned(), section_text(page, anchor)))
        })
        .collect()
}

/// Each `docs/...` reference in a rule, with the text before it: `(before, target)` pairs in
/// order, then the text after the last. A target ends at white space or `;,()`, a closing `.`
/// left out.
pub(super) fn scan(rule: &str) -> (Vec<(&str, &str)>, &str) {
    let mut found = Vec::new();
    let mut rest = rule;
    while let Some(start) = rest.find("docs/") {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, ';' | ',' | ')' | '('))
            .unwrap_or(tail.len());
        found.push((&rest[..start], tail[..end].trim_end_matches('.')));
        rest = &tail[end..];
    }
    (found, rest)
}

/// The first paragraph under the heading of `page` whose slug is `anchor`.
fn section_text(page: &str, anchor: &str) -> Option<String> {
    let (_, text) = PAGES.iter().find(|(p, _)| *p == page)?;
    let mut lines = text
        .lines()
        .skip_while(|l| !(l.starts_with('#') && slug(l) == anchor));
    lines.next()?;
    let paragraph: Vec<&str> = lines
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    (!paragraph.is_empty()).then(|| paragraph.join(" "))
}

/// The slug GitHub gives a markdown heading line: lower case, spaces as `-`, punctuation gone.
fn slug(heading: &str) -> String {
    heading
        .trim_start_matches('#')
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_of_the_contract_has_its_text() {
        for id in CheckId::ALL {
            let text = check_text(&id.report_id(1)).unwrap_or_else(|| panic!("{id}: no row"));
            assert!(
                text.starts_with(&format!("`{}` ({}): ", id.name(), id.level().as_str())),
                "{text}"
            );
        }
        assert_eq!(check_text("answer[1].body"), None);
    }

    #[test]
    fn every_reference_of_the_catalogue_finds_its_section() {
        let catalogue = crate::scenario::Catalogue::embedded().unwrap();
        for s in catalogue.scenarios() {
            for (target, text) in references(&s.rule) {
                assert!(text.is_some(), "{}: {target} has no section text", s.id);
            }
        }
    }
}
