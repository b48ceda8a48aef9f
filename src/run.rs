//! A conformance run over a selection of the catalogue: the scenarios run in a [`Harness`]
//! session (`jobs` at a time, each on a fresh gateway of its own) and are reported in
//! catalogue order; the run's plan (selection, shard, baseline); the report card's columns.
//!
//! The session's own types (the client, the keys, the configuration) are the harness's,
//! re-exported here where every caller has always found them.

use std::path::Path;
use std::time::Duration;

pub use crate::harness::{
    not_run, not_run_reason, run_scenario, time_limit, Client, Harness, Pool, RunConfig, RunError,
    RunKeys, Stop,
};
use crate::report::{Baseline, BaselineError, RunReport, WriteError};
use crate::scenario::{Catalogue, Scenario};
use crate::shard::{Selection, Shard};
use crate::verdict::ScenarioResult;

/// Runs the scenarios against the client and reports in catalogue order.
///
/// # Errors
/// [`RunError::Adapter`] when the adapter command cannot be started at all.
pub async fn run(scenarios: &[&Scenario], config: &RunConfig) -> Result<RunReport, RunError> {
    run_with_progress(scenarios, config, |_| {}).await
}

/// [`run`], calling `on_done` as each scenario finishes (in finishing order), for progress output.
///
/// # Errors
/// [`RunError::Adapter`] when the adapter command cannot be started at all.
pub async fn run_with_progress(
    scenarios: &[&Scenario],
    config: &RunConfig,
    on_done: impl FnMut(&ScenarioResult),
) -> Result<RunReport, RunError> {
    run_until(scenarios, config, &Stop::new(), on_done).await
}

/// [`run_with_progress`] that ends early when `stop` is requested: no scenario starts after
/// it, the ones under way are dropped (their adapters' process groups killed), and the report
/// lists every scenario that did not finish as `SKIPPED` "not run", with
/// [`RunReport::interrupted`] set (`docs/contract.md`, "Interrupted runs").
///
/// # Errors
/// [`RunError::Adapter`] when the adapter command cannot be started at all.
pub async fn run_until(
    scenarios: &[&Scenario],
    config: &RunConfig,
    stop: &Stop,
    on_done: impl FnMut(&ScenarioResult),
) -> Result<RunReport, RunError> {
    let harness = Harness::start(config.clone(), stop.clone()).await?;
    let report = harness.run(scenarios, on_done).await;
    harness.shutdown().await;
    Ok(report)
}

/// One column of the report card: a heading and the client behind it.
#[derive(Clone, Debug)]
pub struct Column {
    /// The heading, e.g. `Python SDK 1.7.1`.
    pub name: String,
    /// The client under test.
    pub client: Client,
}

/// The configuration the report card runs every column with (its client replaced per
/// column): `jobs` at a time, a 5 s margin, fresh keys, HTTPS for every scenario with `tls`.
pub fn card_template(jobs: usize, tls: bool) -> RunConfig {
    RunConfig {
        client: Client::InProcess(Default::default()),
        jobs,
        time_limit_margin: Duration::from_secs(5),
        keys: RunKeys::generate(),
        tls,
    }
}

/// Runs the scenarios against every column in turn (each run as `template` says, with its
/// client replaced), in column order: the report card's runs, with one set of keys and one
/// test PKI ([`crate::report::card`] renders them).
///
/// # Errors
/// [`RunError`] when a column's adapter cannot be started at all.
pub async fn run_columns(
    scenarios: &[&Scenario],
    columns: &[Column],
    template: &RunConfig,
) -> Result<Vec<(String, RunReport)>, RunError> {
    let mut reports = Vec::with_capacity(columns.len());
    for column in columns {
        let config = RunConfig {
            client: column.client.clone(),
            ..template.clone()
        };
        reports.push((column.name.clone(), run(scenarios, &config).await?));
    }
    Ok(reports)
}

/// The scenarios the patterns select, only those of `--catalogue` files when `only`.
pub fn select<'c>(
    catalogue: &'c Catalogue,
    include: &[String],
    exclude: &[String],
    only: bool,
) -> Vec<&'c Scenario> {
    let mut selected = catalogue.select(include, exclude);
    if only {
        selected.retain(|s| !catalogue.is_builtin(&s.id));
    }
    selected
}

/// What `run` was asked to run: the scenarios selected (and sharded), the fingerprint of the
/// whole selection, and the baseline to judge them by.
#[derive(Debug)]
pub struct Plan<'c> {
    /// The scenarios this run (or shard) runs, in catalogue order.
    pub scenarios: Vec<&'c Scenario>,
    /// The fingerprint of the whole selection: the shards of one run, and only they, merge.
    pub selection: Selection,
    /// The shard, for a sharded run.
    pub shard: Option<Shard>,
    /// The known failures.
    pub baseline: Option<Baseline>,
}

/// `run` cannot start: nothing selected, or a broken baseline (exit code 2).
#[derive(Debug)]
#[non_exhaustive]
pub enum PlanError {
    /// No scenario matches the patterns.
    NoMatch {
        /// `--scenario` patterns.
        include: Vec<String>,
        /// `--exclude` patterns.
        exclude: Vec<String>,
    },
    /// The baseline cannot be read or breaks its rules.
    Baseline(BaselineError),
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::NoMatch { include, exclude } => write!(
                f,
                "no scenario matches --scenario {include:?} --exclude {exclude:?} (see `alipay-cancel-kit scenarios`)"
            ),
            PlanError::Baseline(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for PlanError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PlanError::Baseline(e) => Some(e),
            PlanError::NoMatch { .. } => None,
        }
    }
}

impl<'c> Plan<'c> {
    /// Selects the scenarios (`include`, `exclude`, and only the `--catalogue` files' when
    /// `only`), then the shard's.
    ///
    /// # Errors
    /// [`PlanError::NoMatch`] when nothing is selected.
    pub fn new(
        catalogue: &'c Catalogue,
        (include, exclude, only): (&[String], &[String], bool),
        shard: Option<Shard>,
    ) -> Result<Plan<'c>, PlanError> {
        let selected = select(catalogue, include, exclude, only);
        if selected.is_empty() {
            return Err(PlanError::NoMatch {
                include: include.to_vec(),
                exclude: exclude.to_vec(),
            });
        }
        let selection = Selection::of(&selected);
        let scenarios = match shard {
            None => selected,
            Some(shard) => shard.select(selected),
        };
        Ok(Plan {
            scenarios,
            selection,
            shard,
            baseline: None,
        })
    }

    /// Reads the baseline, before any work is done: a broken one is a usage error.
    ///
    /// # Errors
    /// [`PlanError::Baseline`] when it cannot be read, breaks its rules, or names a scenario
    /// the catalogue lacks.
    pub fn load_baseline(&mut self, catalogue: &Catalogue, path: &Path) -> Result<(), PlanError> {
        let baseline = Baseline::load(path)
            .and_then(|b| {
                b.check_known(catalogue.scenarios().iter().map(|s| s.id.as_str()))?;
                Ok(b)
            })
            .map_err(PlanError::Baseline)?;
        self.baseline = Some(baseline);
        Ok(())
    }

    /// A note when the shard holds none of the selected scenarios.
    pub fn note(&self) -> Option<String> {
        let shard = self.shard.filter(|_| self.scenarios.is_empty())?;
        Some(format!(
            "shard {shard} holds no scenario of the {} selected",
            self.selection.scenarios
        ))
    }

    /// The plan's facts in the run's report: the selection, the shard, the baseline's
    /// outcome.
    pub fn complete(&self, report: &mut RunReport) {
        report.catalogue = Some(self.selection.clone());
        report.shard = self.shard;
        if let Some(baseline) = &self.baseline {
            report.baseline = Some(crate::report::baseline::apply(baseline, &report.scenarios));
        }
    }
}

/// Writes the run's failures to `path` as a baseline (reasons to be filled in).
///
/// # Errors
/// [`WriteError`] when the file cannot be written.
pub fn write_baseline(report: &RunReport, path: &Path) -> Result<(), WriteError> {
    let text = Baseline::from_results(
        &report.scenarios,
        format!("failures of {} (fill in a reason per entry)", report.client),
    )
    .to_json();
    crate::report::files::write(path, text)
}

impl Column {
    /// The report card's columns: the reference client's first, then one per `NAME=COMMAND`.
    ///
    /// # Errors
    /// [`ColumnSpecError`] naming the first spec without an `=`.
    pub fn card(specs: &[String]) -> Result<Vec<Column>, ColumnSpecError> {
        let reference = Column {
            name: "reference client".to_owned(),
            client: Client::InProcess(Default::default()),
        };
        std::iter::once(Ok(reference))
            .chain(specs.iter().map(|spec| Column::parse(spec)))
            .collect()
    }

    /// A column from `NAME=COMMAND` (`--column`): an adapter, run in exec mode.
    ///
    /// # Errors
    /// [`ColumnSpecError`] when there is no `=`.
    pub fn parse(spec: &str) -> Result<Column, ColumnSpecError> {
        let Some((name, command)) = spec.split_once('=') else {
            return Err(ColumnSpecError {
                spec: spec.to_owned(),
            });
        };
        Ok(Column {
            name: name.trim().to_owned(),
            client: Client::Adapter {
                command: command.to_owned(),
                persistent: false,
            },
        })
    }
}

/// A `--column` value without the `=` of `NAME=COMMAND`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ColumnSpecError {
    /// The value as given.
    pub spec: String,
}

impl std::fmt::Display for ColumnSpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "--column {:?}: expected NAME=COMMAND", self.spec)
    }
}

impl std::error::Error for ColumnSpecError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_without_an_equals_sign_is_refused_naming_the_value() {
        let err = Column::card(&["a=run-a".into(), "just-a-command".into()]).unwrap_err();
        assert_eq!(err.spec, "just-a-command");
        insta::assert_snapshot!(err, @r#"--column "just-a-command": expected NAME=COMMAND"#);
    }
}
