//! A run split across jobs (`run --shard K/N`) and put back together (`report merge`): the
//! shards cover the selection exactly once, and the merged report is the whole run's.

use super::common::{kit, path, scratch_dir, text, BIN};
use std::path::Path;

use alipay_cancel_kit::report::RunReport;
use alipay_cancel_kit::scenario::Catalogue;
use alipay_cancel_kit::schema::Schema;
use alipay_cancel_kit::shard::Shard;
use serde_json::Value;

fn read(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// `report merge A B --report-json MERGED`, run to its end.
fn merge_two(a: &Path, b: &Path, merged: &Path) -> std::process::Output {
    kit(&[
        "report",
        "merge",
        path(a),
        path(b),
        "--report-json",
        path(merged),
    ])
}

/// Loopback ports (`localhost:40423`) as `localhost:PORT`: every run gets fresh ones.
fn portless(value: &mut Value) {
    match value {
        Value::String(s) => {
            for host in ["localhost:", "127.0.0.1:"] {
                let mut out = String::new();
                let mut rest = s.as_str();
                while let Some(i) = rest.find(host) {
                    out.push_str(&rest[..i + host.len()]);
                    rest = rest[i + host.len()..].trim_start_matches(|c: char| c.is_ascii_digit());
                    out.push_str("PORT");
                }
                out.push_str(rest);
                *s = out;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(portless),
        Value::Object(members) => members.values_mut().for_each(portless),
        _ => {}
    }
}

/// A report with what differs between two runs of the same scenarios taken out: timings,
/// transcripts (fresh keys sign every run differently), loopback ports, and the
/// `Request-Time` a check quotes.
fn timeless(mut report: Value) -> Value {
    portless(&mut report);
    let top = report.as_object_mut().unwrap();
    top.remove("durationMs");
    for s in top["scenarios"].as_array_mut().unwrap() {
        let s = s.as_object_mut().unwrap();
        for key in ["durationMs", "adapterMs", "transcript"] {
            s.remove(key);
        }
        for c in s["checks"].as_array_mut().unwrap() {
            let id = c["id"].as_str().unwrap();
            if id.ends_with(".request-time") || id.ends_with(".request-time-skew") {
                c.as_object_mut().unwrap().remove("message");
            }
        }
    }
    report
}

#[test]
fn shard_parses_k_of_n_and_refuses_anything_else() {
    assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
    for bad in ["0/3", "4/3", "3", "a/b", "1/0", "-1/2", ""] {
        let err = bad.parse::<Shard>().unwrap_err().to_string();
        assert!(err.contains("expected K/N"), "{bad}: {err}");
    }
    let out = kit(&["run", "--shard", "4/3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("expected K/N"));
}

#[test]
fn the_n_shards_of_any_selection_are_the_selection_exactly_once() {
    let catalogue = Catalogue::embedded().unwrap();
    let all: Vec<&str> = catalogue
        .scenarios()
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    for n in 1..=7 {
        let mut union: Vec<&str> = Vec::new();
        for k in 1..=n {
            let shard = Shard { index: k, count: n };
            let part = shard.select(all.clone());
            // Balanced: within one of each other.
            assert!(part.len().abs_diff(all.len() / n) <= 1, "{shard}");
            assert_eq!(part.len(), shard.len_of(all.len()));
            union.extend(part);
        }
        union.sort_unstable();
        let mut expected = all.clone();
        expected.sort_unstable();
        assert_eq!(union, expected, "{n} shards");
    }
}

#[test]
fn the_merged_report_of_three_shards_is_the_whole_runs() {
    let dir = scratch_dir("shard", "merge");
    let whole = dir.join("whole.json");
    let out = kit(&["run", "-q", "--report-json", path(&whole)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let mut shards = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    for k in 1..=3 {
        let file = dir.join(format!("shard-{k}.json"));
        let out = kit(&[
            "run",
            "-q",
            "--shard",
            &format!("{k}/3"),
            "--report-json",
            path(&file),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
        let report = read(&file);
        assert_eq!(report["shard"], serde_json::json!({"index": k, "count": 3}));
        assert!(Schema::Report.violations(&report).is_empty());
        ids.extend(
            report["scenarios"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_owned()),
        );
        shards.push(file);
    }
    // The union of the shards is the catalogue, each scenario once.
    ids.sort();
    let mut catalogue: Vec<String> = Catalogue::embedded()
        .unwrap()
        .scenarios()
        .iter()
        .map(|s| s.id.clone())
        .collect();
    catalogue.sort();
    assert_eq!(ids, catalogue);

    // Merged (in any order of the files), the report is the whole run's, timings aside.
    let merged = dir.join("merged.json");
    let html = dir.join("merged.html");
    let out = kit(&[
        "report",
        "merge",
        path(&shards[2]),
        path(&shards[0]),
        path(&shards[1]),
        "--report-json",
        path(&merged),
        "--html",
        path(&html),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let n = alipay_cancel_kit::scenario::Catalogue::embedded()
        .unwrap()
        .scenarios()
        .len();
    let all_pass = format!("{n} scenarios: {n} PASS");
    assert!(text(&out.stdout).contains(&all_pass));
    let merged = read(&merged);
    assert!(Schema::Report.violations(&merged).is_empty());
    assert!(merged.get("shard").is_none());
    let whole = read(&whole);
    assert_eq!(merged["catalogue"], whole["catalogue"]);
    assert_eq!(timeless(merged), timeless(whole));
    assert!(std::fs::read_to_string(&html).unwrap().contains(&all_pass));
}

#[test]
fn a_merge_exits_as_the_whole_run_would_have_baseline_included() {
    let dir = scratch_dir("shard", "merge-baseline");
    let defective = format!("'{BIN}' reference-adapter --defect unknown-as-failure");
    // The defect fails the two U rows; the baseline lists one of them, one row that passes
    // (stale) and one scenario outside the selection (not run).
    let baseline = dir.join("baseline.json");
    std::fs::write(
        &baseline,
        serde_json::json!({"expectedFailures": [
            {"id": "fault/timeout", "reason": "not selected"},
            {"id": "result/UNKNOWN_EXCEPTION", "reason": "takes U for F"},
            {"id": "result/SUCCESS", "reason": "stale"}
        ]})
        .to_string(),
    )
    .unwrap();
    let run = |extra: &[&str], file: &Path| {
        let mut args = vec![
            "run",
            "-q",
            "--client",
            &defective,
            "-s",
            "result",
            "--baseline",
            path(&baseline),
            "--report-json",
            path(file),
        ];
        args.extend_from_slice(extra);
        kit(&args).status.code()
    };
    let whole = dir.join("whole.json");
    assert_eq!(run(&[], &whole), Some(1));
    let (a, b) = (dir.join("a.json"), dir.join("b.json"));
    run(&["--shard", "1/2"], &a);
    run(&["--shard", "2/2"], &b);
    let merged = dir.join("merged.json");
    let out = merge_two(&a, &b, &merged);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let (merged, whole) = (read(&merged), read(&whole));
    assert_eq!(merged["baseline"], whole["baseline"]);
    assert_eq!(
        whole["baseline"]["regressions"],
        serde_json::json!(["result/REQUEST_TRAFFIC_EXCEED_LIMIT"])
    );
    assert_eq!(timeless(merged), timeless(whole));

    // A baseline given to the merge applies to the merged run: listing both U rows and
    // nothing that passes, the merged run passes.
    let fixed = dir.join("fixed.json");
    std::fs::write(
        &fixed,
        serde_json::json!({"expectedFailures": [
            {"id": "result/UNKNOWN_EXCEPTION", "reason": "takes U for F"},
            {"id": "result/REQUEST_TRAFFIC_EXCEED_LIMIT", "reason": "takes U for F"}
        ]})
        .to_string(),
    )
    .unwrap();
    let out = kit(&[
        "report",
        "merge",
        path(&a),
        path(&b),
        "--baseline",
        path(&fixed),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn a_merge_refuses_overlaps_gaps_and_reports_of_other_runs() {
    let dir = scratch_dir("shard", "refusals");
    let shard = |spec: &str, select: &str| {
        let file = dir.join(format!("{}-{}.json", spec.replace('/', "of"), select));
        let out = kit(&[
            "run",
            "-q",
            "-s",
            select,
            "--shard",
            spec,
            "--report-json",
            path(&file),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
        file
    };
    let (one, two) = (shard("1/2", "fault"), shard("2/2", "fault"));
    let merge = |files: &[&Path]| {
        let mut args = vec!["report", "merge"];
        args.extend(files.iter().map(|f| path(f)));
        let out = kit(&args);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
        text(&out.stderr)
    };
    // The same shard twice.
    let err = merge(&[&one, &one]);
    assert!(err.contains("are both shard 1/2"), "{err}");
    // A shard missing.
    let err = merge(&[&one]);
    assert!(err.contains("shard 2/2 is missing"), "{err}");
    // A shard of another selection.
    let other = shard("2/2", "signature");
    let err = merge(&[&one, &other]);
    assert!(err.contains("another selection"), "{err}");
    assert!(err.contains(path(&other)), "{err}");
    // A shard of another split.
    let third = shard("3/3", "fault");
    let err = merge(&[&one, &third]);
    assert!(err.contains("a shard of 2"), "{err}");
    // Another kit version.
    let mut report: RunReport = serde_json::from_value(read(&two)).unwrap();
    report.tool = "alipay-cancel-kit 0.0.1".into();
    let older = dir.join("older.json");
    std::fs::write(&older, serde_json::to_string(&report).unwrap()).unwrap();
    let err = merge(&[&one, &older]);
    assert!(err.contains("alipay-cancel-kit 0.0.1"), "{err}");
    // A scenario in two reports (a shard edited to hold another's scenario).
    let mut report: RunReport = serde_json::from_value(read(&two)).unwrap();
    let first: RunReport = serde_json::from_value(read(&one)).unwrap();
    report.scenarios[0] = first.scenarios[0].clone();
    let overlapping = dir.join("overlapping.json");
    std::fs::write(&overlapping, serde_json::to_string(&report).unwrap()).unwrap();
    let err = merge(&[&one, &overlapping]);
    assert!(err.contains("the reports overlap"), "{err}");
    // A report without a fingerprint, and a file that is not a report.
    let mut bare = read(&two);
    bare.as_object_mut().unwrap().remove("catalogue");
    let bare_file = dir.join("bare.json");
    std::fs::write(&bare_file, bare.to_string()).unwrap();
    let err = merge(&[&bare_file, &one]);
    assert!(err.contains("no `catalogue` fingerprint"), "{err}");
    let junk = dir.join("junk.json");
    std::fs::write(&junk, "[1, 2]").unwrap();
    let err = merge(&[&junk]);
    assert!(err.contains("not a JSON report"), "{err}");
}

#[test]
fn a_merge_of_an_interrupted_shard_is_an_interrupted_run() {
    let dir = scratch_dir("shard", "merge-interrupted");
    let (a, b) = (dir.join("a.json"), dir.join("b.json"));
    for (k, file) in [(1, &a), (2, &b)] {
        let shard = format!("{k}/2");
        let out = kit(&[
            "run",
            "-q",
            "-s",
            "result",
            "--shard",
            &shard,
            "--report-json",
            path(file),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    }
    // Shard 2 as a SIGTERM would have left it: its last two scenarios not run.
    let mut cut = read(&b);
    let scenarios = cut["scenarios"].as_array_mut().unwrap();
    let n = scenarios.len();
    let mut not_run = Vec::new();
    for s in &mut scenarios[n - 2..] {
        s["verdict"] = "SKIPPED".into();
        s["reason"] = "not run: the run was interrupted (SIGTERM)".into();
        not_run.push(s["id"].clone());
    }
    cut["interrupted"] = serde_json::json!({"signal": "SIGTERM", "notRun": not_run});
    std::fs::write(&b, cut.to_string()).unwrap();

    let merged = dir.join("merged.json");
    let out = merge_two(&a, &b, &merged);
    // Not a quiet pass: the merged run exits as the interrupted shard did.
    assert_eq!(out.status.code(), Some(143), "{}", text(&out.stdout));
    let merged = read(&merged);
    assert!(Schema::Report.violations(&merged).is_empty());
    assert_eq!(merged["interrupted"]["signal"], "SIGTERM");
    let ids: Vec<&Value> = merged["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["verdict"] == "SKIPPED")
        .map(|s| &s["id"])
        .collect();
    assert_eq!(
        merged["interrupted"]["notRun"]
            .as_array()
            .unwrap()
            .iter()
            .collect::<Vec<_>>(),
        ids
    );
    assert_eq!(ids.len(), 2);
}
