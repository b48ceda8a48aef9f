//! `report merge`: the JSON reports of a sharded run (`run --shard K/N`) put back together
//! into the report the whole run would have written.
//!
//! The reports must come from one kit version (`tool`) and one selection (`catalogue`, the
//! fingerprint of the selected scenarios), be shards of one `N`, and together hold every shard
//! exactly once; anything else is refused, naming the files. Since a shard holds every `N`-th
//! scenario of the selection ([`crate::shard`]), interleaving the shards restores catalogue
//! order exactly. The merged report takes the client, mode and capabilities of the first
//! report, the longest shard's wall time (the shards ran side by side), and the baselines'
//! outcomes combined as one baseline over the whole run would have judged it.

use std::collections::{HashMap, HashSet};

use super::baseline::{BaselineMatch, BaselineOutcome};
use super::{RunReport, Summary};
use crate::shard::Shard;

/// Why reports cannot be merged: names the files and the rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeError(pub String);

impl std::fmt::Display for MergeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MergeError {}

/// Reads the shard reports to merge, each with its file name (for messages).
///
/// # Errors
/// A file that cannot be read, or is not a JSON report.
pub fn read(paths: &[std::path::PathBuf]) -> Result<Vec<(String, RunReport)>, MergeError> {
    paths
        .iter()
        .map(|path| {
            let file = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|e| MergeError(format!("cannot read {file}: {e}")))?;
            let report = serde_json::from_str::<RunReport>(&text).map_err(|e| {
                MergeError(format!(
                    "{file}: not a JSON report (schema/report.schema.json): {e}"
                ))
            })?;
            Ok((file, report))
        })
        .collect()
}

/// Merges the shard reports (each with the file it was read from, for messages).
///
/// # Errors
/// A report without a catalogue fingerprint, reports of different kit versions, selections or
/// shard counts, a shard given twice or missing, a scenario in two reports, or a shard that does
/// not hold the scenarios its position says.
pub fn merge(reports: &[(String, RunReport)]) -> Result<RunReport, MergeError> {
    let err = |m: String| Err(MergeError(m));
    let unmarked = |file: &str| {
        err(format!(
            "{file}: no `catalogue` fingerprint (a report of an older kit, or of `fuzz`): cannot tell which run it belongs to"
        ))
    };
    let Some((first_file, first)) = reports.first() else {
        return err("no report to merge".into());
    };
    let Some(selection) = &first.catalogue else {
        return unmarked(first_file);
    };
    let whole = Shard { index: 1, count: 1 };
    let count = first.shard.unwrap_or(whole).count;
    let mut by_index: HashMap<usize, &(String, RunReport)> = HashMap::new();
    let mut owner: HashMap<&str, &str> = HashMap::new();
    for pair in reports {
        let (file, report) = pair;
        if report.tool != first.tool {
            return err(format!(
                "{file} was written by {}, {first_file} by {}: merge reports of one kit version",
                report.tool, first.tool
            ));
        }
        if report.transport != first.transport {
            return err(format!(
                "{file} ran over {}, {first_file} over {}: merge shards of one run (all with --tls or none)",
                report.transport.describe(),
                first.transport.describe()
            ));
        }
        match &report.catalogue {
            Some(s) if s == selection => {}
            Some(s) => {
                return err(format!(
                    "{file} ran another selection of scenarios than {first_file} ({} scenarios, {}; not {}, {}): merge shards of one run",
                    s.scenarios, s.fingerprint, selection.scenarios, selection.fingerprint
                ))
            }
            None => return unmarked(file),
        }
        let shard = report.shard.unwrap_or(whole);
        if shard.count != count {
            return err(format!(
                "{file} is shard {shard}, {first_file} a shard of {count}: merge shards of one split"
            ));
        }
        if let Some((other, _)) = by_index.insert(shard.index, pair) {
            return err(format!(
                "{file} and {other} are both shard {shard}: each shard once"
            ));
        }
        let expected = shard.len_of(selection.scenarios);
        if report.scenarios.len() != expected {
            return err(format!(
                "{file} holds {} scenarios; shard {shard} of {} holds {expected}",
                report.scenarios.len(),
                selection.scenarios
            ));
        }
        for s in &report.scenarios {
            if let Some(other) = owner.insert(&s.id, file) {
                return err(format!(
                    "scenario `{}` is in both {other} and {file}: the reports overlap",
                    s.id
                ));
            }
        }
    }
    if let Some(missing) = (1..=count).find(|i| !by_index.contains_key(i)) {
        return err(format!(
            "shard {missing}/{count} is missing: merge every shard of the run"
        ));
    }
    // Interleave: position i of the selection is the (i / N)-th scenario of shard i mod N + 1.
    let scenarios: Vec<_> = (0..selection.scenarios)
        .map(|i| by_index[&(i % count + 1)].1.scenarios[i / count].clone())
        .collect();
    let shards: Vec<&RunReport> = (1..=count).map(|i| &by_index[&i].1).collect();
    let baseline = merge_baselines(&shards, &scenarios)?;
    Ok(RunReport {
        summary: Summary::of(&scenarios),
        interrupted: merge_interruptions(&shards, &scenarios),
        scenarios,
        shard: None,
        baseline,
        duration_ms: shards.iter().map(|r| r.duration_ms).fold(0.0, f64::max),
        ..first.clone()
    })
}

/// The whole run was cut short if any shard was: by the first shard's signal, with every
/// shard's unfinished scenarios in catalogue order. A merge must not turn an interrupted
/// shard's "not run" scenarios into a quiet pass.
fn merge_interruptions(
    shards: &[&RunReport],
    scenarios: &[crate::verdict::ScenarioResult],
) -> Option<super::Interrupted> {
    let cut: Vec<&super::Interrupted> = shards
        .iter()
        .filter_map(|r| r.interrupted.as_ref())
        .collect();
    let first = cut.first()?;
    let not_run: HashSet<&str> = cut
        .iter()
        .flat_map(|i| i.not_run.iter().map(String::as_str))
        .collect();
    Some(super::Interrupted {
        signal: first.signal,
        not_run: scenarios
            .iter()
            .filter(|s| not_run.contains(s.id.as_str()))
            .map(|s| s.id.clone())
            .collect(),
    })
}

/// One baseline's outcome over the whole run, from its outcomes over each shard: the lists in
/// the order [`super::baseline::apply`] gives them over the merged scenarios.
fn merge_baselines(
    shards: &[&RunReport],
    scenarios: &[crate::verdict::ScenarioResult],
) -> Result<Option<BaselineOutcome>, MergeError> {
    let outcomes: Vec<Option<&BaselineOutcome>> =
        shards.iter().map(|r| r.baseline.as_ref()).collect();
    let Some(first) = outcomes[0] else {
        if outcomes.iter().any(Option::is_some) {
            return Err(MergeError(
                "some shards were run with a baseline and others without: run every shard with the same --baseline".into(),
            ));
        }
        return Ok(None);
    };
    if outcomes
        .iter()
        .any(|o| o.is_none_or(|o| o.file != first.file))
    {
        return Err(MergeError(format!(
            "the shards were run with different baselines (not all {}): run every shard with the same --baseline",
            first.file
        )));
    }
    let outcomes: Vec<&BaselineOutcome> = outcomes.into_iter().flatten().collect();
    let find = |pick: fn(&BaselineOutcome) -> &Vec<BaselineMatch>, id: &str| {
        outcomes
            .iter()
            .flat_map(|o| pick(o).iter())
            .find(|m| m.id == id)
            .cloned()
    };
    let regressed: HashSet<&str> = outcomes
        .iter()
        .flat_map(|o| o.regressions.iter().map(String::as_str))
        .collect();
    let ran: HashSet<&str> = scenarios.iter().map(|s| s.id.as_str()).collect();
    let mut merged = BaselineOutcome {
        file: first.file.clone(),
        ..BaselineOutcome::default()
    };
    for s in scenarios {
        let id = s.id.as_str();
        if regressed.contains(id) {
            merged.regressions.push(s.id.clone());
        }
        merged
            .expected_failures
            .extend(find(|o| &o.expected_failures, id));
        merged.stale.extend(find(|o| &o.stale, id));
        // A listed scenario that ran SKIPPED: in its own shard's `notRun`.
        if s.verdict == crate::verdict::Verdict::Skipped
            && outcomes.iter().any(|o| o.not_run.iter().any(|n| n == id))
        {
            merged.not_run.push(s.id.clone());
        }
    }
    // Listed scenarios no shard ran, in the baseline's order (every shard lists them).
    merged.not_run.extend(
        first
            .not_run
            .iter()
            .filter(|id| !ran.contains(id.as_str()))
            .cloned(),
    );
    Ok(Some(merged))
}
