//! Scenario files of one's own (`run --catalogue PATH`, `--catalogue-only`, `fuzz --save-case`):
//! loaded with the catalogue's checks, clashes named, and a saved fuzz case replayed.

use super::common::{kit, path, scratch_dir, text, BIN};

use alipay_cancel_kit::scenario::Catalogue;

/// A group file with one scenario: a signed F the client must surface as FAILED.
fn group_file(group: &str, name: &str) -> String {
    serde_json::json!({
        "group": group,
        "scenarios": [{
            "id": format!("{group}/{name}"),
            "title": "a signed F: FAILED with the code",
            "rule": "docs/contract.md#outcome-rules",
            "request": {"paymentId": "P-1"},
            "answers": [{
                "body": {"result": {"resultCode": "ORDER_NOT_EXIST", "resultStatus": "F", "resultMessage": "no order"}},
                "accept": ["FAILED"]
            }]
        }]
    })
    .to_string()
}

#[test]
fn a_case_saved_by_fuzz_fails_the_client_it_was_found_on_and_passes_a_correct_one() {
    let dir = scratch_dir("catalogue", "save-case");
    let case = dir.join("case.json");
    let page = dir.join("fuzz.html");
    // Arrange: fuzz a client that takes a U for a failure, saving the shrunk case.
    let out = kit(&[
        "fuzz",
        "--defect",
        "unknown-as-failure",
        "--seed",
        "7",
        "--cases",
        "500",
        "--save-case",
        path(&case),
        "--html",
        path(&page),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("the shrunk case is saved in"),
        "{}",
        text(&out.stdout)
    );
    // The file loads as it is, with the catalogue's checks.
    let saved = std::fs::read_to_string(&case).unwrap();
    let loaded = Catalogue::from_sources([(path(&case).to_owned(), saved)]).unwrap();
    let id = loaded.scenarios()[0].id.clone();
    assert!(id.starts_with("fuzz/seed-7-case-"), "{id}");
    // The fuzz run's page shows the shrunk case failing, with its transcript.
    let page = std::fs::read_to_string(&page).unwrap();
    assert!(page.contains("1 scenarios: 0 PASS, 0 NON_STRICT, 1 FAIL"));
    assert!(page.contains("<h3>Transcript</h3>"));

    // Act and assert: through `run --catalogue`, the defective client fails it...
    let defective = format!("'{BIN}' reference-adapter --defect unknown-as-failure");
    let out = kit(&[
        "run",
        "--client",
        &defective,
        "--catalogue",
        path(&case),
        "--catalogue-only",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains(&format!("FAIL        {id}")), "{stdout}");
    assert!(stdout.contains("1 scenarios: 0 PASS"), "{stdout}");
    // ... and the correct one passes it (in process and through its adapter).
    let out = kit(&["run", "--catalogue", path(&case), "--catalogue-only"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains(&format!("PASS        {id}")));
    let correct = format!("'{BIN}' reference-adapter");
    let out = kit(&[
        "run",
        "--client",
        &correct,
        "--catalogue",
        path(&case),
        "--catalogue-only",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    // A baseline may name the saved scenario: listed, the failure no longer fails the run.
    let baseline = dir.join("baseline.json");
    std::fs::write(
        &baseline,
        serde_json::json!({"expectedFailures": [{"id": id, "reason": "takes U for F"}]})
            .to_string(),
    )
    .unwrap();
    let out = kit(&[
        "run",
        "--client",
        &defective,
        "--catalogue",
        path(&case),
        "--catalogue-only",
        "--baseline",
        path(&baseline),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    // `scenarios --catalogue` lists it beside (or, with --catalogue-only, instead of) the kit's.
    let out = kit(&["scenarios", "--catalogue", path(&case)]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&id) && stdout.contains("result/SUCCESS"),
        "{stdout}"
    );
    let built_in = alipay_cancel_kit::scenario::Catalogue::embedded()
        .unwrap()
        .scenarios()
        .len();
    let listed = format!("{} scenarios", built_in + 1);
    assert!(stdout.contains(&listed), "{stdout}");
    let out = kit(&["scenarios", "--catalogue", path(&case), "--catalogue-only"]);
    assert!(
        text(&out.stdout).ends_with("1 scenarios\n"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn fuzz_save_case_writes_nothing_when_no_case_fails() {
    let dir = scratch_dir("catalogue", "no-failure");
    let case = dir.join("case.json");
    let out = kit(&[
        "fuzz",
        "--seed",
        "1",
        "--cases",
        "20",
        "--save-case",
        path(&case),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("no case failed: nothing saved"));
    assert!(!case.exists());
}

#[test]
fn a_directory_of_group_files_adds_every_file_in_name_order() {
    let dir = scratch_dir("catalogue", "directory");
    std::fs::write(dir.join("b.json"), group_file("mine", "second")).unwrap();
    std::fs::write(dir.join("a.json"), group_file("mine", "first")).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a scenario file").unwrap();
    let catalogue = Catalogue::with_files(std::slice::from_ref(&dir)).unwrap();
    let n = catalogue.scenarios().len();
    let last: Vec<&str> = catalogue.scenarios()[n - 2..]
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(last, ["mine/first", "mine/second"]);
    assert!(catalogue.is_builtin("result/SUCCESS"));
    assert!(!catalogue.is_builtin("mine/first"));
    assert_eq!(
        catalogue.file_of("mine/second"),
        Some(path(&dir.join("b.json")))
    );

    let out = kit(&["run", "--catalogue", path(&dir), "--catalogue-only"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("2 scenarios: 2 PASS"));

    let empty = scratch_dir("catalogue", "empty-directory");
    let err = Catalogue::with_files(std::slice::from_ref(&empty)).unwrap_err();
    assert_eq!(err.file, path(&empty));
    assert!(err.message.contains("no `*.json` scenario file"), "{err}");
}

#[test]
fn an_id_that_clashes_with_a_built_in_one_is_an_error_naming_both_files() {
    let dir = scratch_dir("catalogue", "clash");
    let file = dir.join("mine.json");
    std::fs::write(&file, group_file("result", "SUCCESS")).unwrap();
    let out = kit(&["run", "--catalogue", path(&file)]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains(path(&file)), "{stderr}");
    assert!(
        stderr.contains("conformance/scenarios/result.json"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`result/SUCCESS` appears twice"),
        "{stderr}"
    );

    // Two files of one's own that clash: both named too.
    let other = dir.join("other.json");
    std::fs::write(&other, group_file("mine", "x")).unwrap();
    std::fs::write(&file, group_file("mine", "x")).unwrap();
    let err = Catalogue::with_files(&[file.clone(), other.clone()]).unwrap_err();
    assert_eq!(err.file, path(&other));
    assert!(err.message.contains(path(&file)), "{err}");
}

#[test]
fn a_scenario_file_gets_the_load_time_checks_of_the_catalogue() {
    let dir = scratch_dir("catalogue", "checks");
    let cases = [
        (
            group_file("mine", "x").replace("\"accept\":[\"FAILED\"]", "\"accept\":[]"),
            "answers[0].accept must not be empty",
        ),
        (
            group_file("mine", "x").replace("\"title\"", "\"titel\""),
            "unknown field `titel`",
        ),
        (
            group_file("other", "x").replace("\"group\":\"other\"", "\"group\":\"mine\""),
            "id must start with `mine/`",
        ),
        ("{\"group\": ".to_owned(), "EOF"),
    ];
    for (i, (body, rule)) in cases.iter().enumerate() {
        let file = dir.join(format!("broken-{i}.json"));
        std::fs::write(&file, body).unwrap();
        let out = kit(&["run", "--catalogue", path(&file)]);
        assert_eq!(out.status.code(), Some(2), "{body}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(path(&file)), "{stderr}");
        assert!(stderr.contains(rule), "{rule}: {stderr}");
    }
    let missing = dir.join("missing.json");
    let out = kit(&["scenarios", "--catalogue", path(&missing)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains(path(&missing)));
    // --catalogue-only alone is a usage error.
    assert_eq!(kit(&["run", "--catalogue-only"]).status.code(), Some(2));
}
