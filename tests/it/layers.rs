//! The kit's modules stand in layers, and no `use` climbs back up: the spec and the signing
//! scheme at the bottom, the contract on them, the gateway on the contract, the verdict on
//! the gateway's log, the harness on all of those, and the commands on the harness. An import
//! circle, or a lower module reaching for a higher one, fails here with the file, the line and
//! the two layers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The top-level modules of `src/`, bottom layer first. A module may use only modules of
/// lower layers (and its own submodules); modules of one layer do not use each other.
const LAYERS: &[&[&str]] = &[
    &["signature", "exit", "spec"],
    &["schema", "protocol", "capability", "signals"],
    &[
        "scenario",
        "openapi",
        "validate",
        "adapter",
        "reference_client",
    ],
    &["contract", "shard"],
    &["gateway"],
    &["transcript", "mock"],
    &["verdict"],
    &["report"],
    &["harness"],
    &["run", "standing"],
    &["fuzz", "serve"],
    &["proxy"],
    // The binary's commands (main.rs's `cli/`), on everything.
    &["cli"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`None` for the crate root and `main`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

/// The modules named by `crate::<module>` on a line of code (comments and doc text aside).
fn crate_paths(line: &str) -> Vec<&str> {
    let code = line.trim_start();
    if code.starts_with("//") {
        return Vec::new();
    }
    let code = code.split("//").next().unwrap_or_default();
    let mut used = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        // `crate::{a::x, b}`: the first segment of each path in the group.
        let paths: Vec<&str> = match rest.strip_prefix('{') {
            Some(group) => group
                .split('}')
                .next()
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .collect(),
            None => vec![rest],
        };
        for path in paths {
            let end = path
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(path.len());
            if end > 0 {
                used.push(&path[..end]);
            }
        }
    }
    used
}

#[test]
fn no_module_uses_one_of_its_own_layer_or_above() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let (unplaced, climbing) = violations(&src);
    assert!(
        unplaced.is_empty(),
        "modules in no layer of tests/it/layers.rs (place each, bottom first): {unplaced:?}"
    );
    assert!(climbing.is_empty(), "{}", climbing.join("\n"));
}

/// The modules of `src` in no layer (with a file of theirs), and every use that climbs.
fn violations(src: &Path) -> (BTreeMap<String, String>, Vec<String>) {
    let mut files = Vec::new();
    sources(src, &mut files);
    files.sort();
    let mut unplaced = BTreeMap::new();
    let mut climbing = Vec::new();
    for file in &files {
        let Some(module) = module_of(src, file) else {
            continue;
        };
        let Some(layer) = layer_of(&module) else {
            unplaced.insert(module, file.display().to_string());
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for used in crate_paths(line) {
                if used == module {
                    continue;
                }
                match layer_of(used) {
                    Some(l) if l < layer => {}
                    Some(l) => climbing.push(format!(
                        "{}:{}: `{module}` (layer {layer}) uses `{used}` (layer {l}): a module uses only lower layers",
                        file.strip_prefix(src).unwrap().display(),
                        n + 1
                    )),
                    None => {} // Reported as the module's own file.
                }
            }
        }
    }
    (unplaced, climbing)
}

#[test]
fn a_use_that_climbs_and_a_module_in_no_layer_are_named() {
    let src = crate::common::scratch_dir("layers", "climb");
    std::fs::create_dir_all(src.join("gateway")).unwrap();
    std::fs::write(
        src.join("gateway/answer.rs"),
        "use crate::contract::Check;\nuse crate::{verdict::grade, spec};\n",
    )
    .unwrap();
    std::fs::write(src.join("newcomer.rs"), "use crate::spec;\n").unwrap();
    std::fs::write(src.join("lib.rs"), "use crate::proxy;\n").unwrap();
    let (unplaced, climbing) = violations(&src);
    assert_eq!(unplaced.keys().collect::<Vec<_>>(), ["newcomer"]);
    assert_eq!(
        climbing,
        ["gateway/answer.rs:2: `gateway` (layer 4) uses `verdict` (layer 6): a module uses only lower layers"]
    );
}

#[test]
fn every_layer_names_modules_that_exist() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    for module in LAYERS.iter().flat_map(|l| l.iter()) {
        let exists =
            src.join(format!("{module}.rs")).is_file() || src.join(module).join("mod.rs").is_file();
        assert!(
            exists,
            "layer module `{module}` has no src/{module}.rs or src/{module}/mod.rs"
        );
    }
}

#[test]
fn the_layer_check_sees_what_a_line_uses() {
    assert_eq!(
        crate_paths("use crate::gateway::{Gateway, Script};"),
        ["gateway"]
    );
    assert_eq!(
        crate_paths("    let x = crate::verdict::grade(&c); // crate::run"),
        ["verdict"]
    );
    assert_eq!(
        crate_paths("use crate::{contract::Check, spec};"),
        ["contract", "spec"]
    );
    assert!(crate_paths("/// see [`crate::run`]").is_empty());
    assert!(crate_paths("//! crate::harness").is_empty());
}
