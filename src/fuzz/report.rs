//! What a fuzz run came to: the report, what the terminal says, the shrunk case as a
//! catalogue file, and the command that replays it.

use std::time::Duration;

use crate::adapter::Capabilities;
use crate::reference_client::{Defect, Style};
use crate::report::{RunReport, WriteError};
use crate::run::{self, Client};
use crate::scenario::Scenario;
use crate::verdict::{Check, Level, ScenarioResult, Verdict};

use super::{FuzzFailure, Timing, GROUP, RULE};

/// What a fuzz run came to.
#[derive(Clone, Debug)]
pub struct FuzzRun {
    /// The seed that replays the run.
    pub seed: u64,
    /// Cases asked for.
    pub cases: u32,
    /// Cases run to a verdict (shrinking not counted).
    pub cases_run: u32,
    /// Cases that ended `NON_STRICT` (a `SHOULD` broken), up to 20 of them kept.
    pub non_strict: Vec<ScenarioResult>,
    /// How many cases ended `NON_STRICT` in all.
    pub non_strict_count: u32,
    /// Cases that failed among many jobs but passed when run again alone (a timeout under
    /// load, or a client that is not deterministic); reported, not failing the run.
    pub flaky: Vec<ScenarioResult>,
    /// The first failing case that failed again alone, shrunk; `None` when no case did.
    pub failure: Option<FuzzFailure>,
    /// What the adapter declared.
    pub capabilities: Capabilities,
    /// Wall time drawing and running the cases (shrinking excluded).
    pub cases_duration: Duration,
    /// Wall time of the whole run.
    pub duration: Duration,
    /// Set when a signal cut the run short (`SIGINT`, `SIGTERM`): the report says so, and
    /// lists the cases under way as not run.
    pub interrupted: Option<crate::exit::Signal>,
    /// The cases under way when the run was interrupted; they ran to no verdict.
    pub not_run: Vec<Scenario>,
}

impl FuzzRun {
    /// Cases per second, shrinking excluded.
    pub fn cases_per_second(&self) -> f64 {
        f64::from(self.cases_run) / self.cases_duration.as_secs_f64().max(1e-9)
    }

    /// The run as a report: the failing case, shrunk, when there is one; otherwise one
    /// `fuzz/summary` entry (and the cases that ended `NON_STRICT`).
    pub fn report(&self, client: &Client) -> RunReport {
        let scenarios = match &self.failure {
            Some(f) => vec![f.result.clone()],
            None => {
                let mut list = vec![self.summary_result()];
                list.extend(self.non_strict.iter().cloned());
                list
            }
        };
        let mut report = RunReport::new(client.describe(), client.mode(), scenarios);
        if let Some(signal) = &self.interrupted {
            report
                .scenarios
                .extend(self.not_run.iter().map(|case| run::not_run(case, *signal)));
            report.summary = crate::report::Summary::of(&report.scenarios);
            report.interrupted = Some(crate::report::Interrupted {
                signal: *signal,
                not_run: self.not_run.iter().map(|case| case.id.clone()).collect(),
            });
        }
        report.set_capabilities(&self.capabilities);
        report.duration_ms = self.duration.as_secs_f64() * 1000.0;
        report
    }

    fn summary_result(&self) -> ScenarioResult {
        let mut message = format!(
            "{} generated cases (seed {}) ended PASS or NON_STRICT ({} NON_STRICT)",
            self.cases_run, self.seed, self.non_strict_count
        );
        if let Some(signal) = &self.interrupted {
            message.push_str(&format!(
                "; interrupted ({signal}) before the {} cases asked for",
                self.cases
            ));
        }
        let mut checks = vec![Check::pass("fuzz.cases", Level::Must, RULE, message)];
        for f in &self.flaky {
            let why: Vec<String> = f
                .failed_checks()
                .map(|c| c.message.clone())
                .chain(f.reason.clone())
                .collect();
            checks.push(Check::fail(
                "fuzz.flaky",
                Level::Info,
                RULE,
                format!(
                    "{} ended {} among the other jobs but passed alone: {}",
                    f.id,
                    f.verdict,
                    why.join("; ")
                ),
                "the same verdict alone",
                "PASS alone",
            ));
        }
        ScenarioResult {
            id: format!("{GROUP}/summary"),
            title: format!("{} generated cases, seed {}", self.cases_run, self.seed),
            rule: RULE.to_owned(),
            verdict: Verdict::Pass,
            reason: None,
            checks,
            requests: 0,
            outcome: None,
            stderr: String::new(),
            duration_ms: self.cases_duration.as_secs_f64() * 1000.0,
            adapter_ms: 0.0,
            transcript: Vec::new(),
        }
    }

    /// The shrunk failing case as a catalogue group file (`{"group": "fuzz", "scenarios":
    /// [...]}`), loadable by [`crate::scenario::Catalogue::from_sources`] and `run --catalogue`.
    /// Its id, `fuzz/seed-<seed>-case-<n>`, names where it was found, so cases saved from
    /// several runs load side by side.
    pub fn scenario_file(&self) -> Option<String> {
        let f = self.failure.as_ref()?;
        let mut shrunk = f.shrunk.clone();
        shrunk.id = format!("{GROUP}/seed-{}-case-{}", self.seed, f.case);
        let file = serde_json::json!({
            "$comment": format!(
                "found by fuzz: seed {}, case {} of {}, shrunk in {} steps ({} runs); replay with --seed {} --cases {}",
                self.seed, f.case, self.cases, f.shrink_steps, f.shrink_runs, self.seed, f.case
            ),
            "group": GROUP,
            "scenarios": [shrunk],
        });
        Some(serde_json::to_string_pretty(&file).expect("a scenario serialises") + "\n")
    }
}

impl FuzzRun {
    /// What the terminal says of a run without a failure: the ids, then how it ended (passed,
    /// or interrupted), then a warning per flaky case.
    pub fn passed_text(&self, report: &RunReport) -> String {
        let seed = self.seed;
        let mut out = format!("ids: {}\n", report.id_set().describe());
        if let Some(signal) = &self.interrupted {
            out.push_str(&format!(
                "INTERRUPTED ({signal}): {} cases passed ({} NON_STRICT), {} under way not run, of {} asked for; seed {seed}\n",
                self.cases_run,
                self.non_strict_count,
                self.not_run.len(),
                self.cases
            ));
            return out;
        }
        out.push_str(&format!(
            "PASS: {} cases ({} NON_STRICT) in {:.1} s, {:.0} cases/s; seed {seed}\n",
            self.cases_run,
            self.non_strict_count,
            self.cases_duration.as_secs_f64(),
            self.cases_per_second()
        ));
        for f in &self.flaky {
            out.push_str(&format!(
                "warning: {} ended {} among the other jobs but passed alone (flaky; a timeout under load?): {}\n",
                f.id,
                f.verdict,
                f.failed_checks()
                    .map(|c| c.message.as_str())
                    .chain(f.reason.as_deref())
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        out
    }

    /// What the terminal says of a failure: how it was found and shrunk, the shrunk case's
    /// report (`terminal`), the case as a catalogue file, the command that replays it.
    pub fn failure_text(&self, terminal: &str, replay: &Replay<'_>) -> Option<String> {
        let failure = self.failure.as_ref()?;
        let seed = self.seed;
        Some(format!(
            "case {} of seed {seed} ended {}; shrunk in {} steps ({} runs) to:\n\n{terminal}\nthe shrunk case, as a catalogue file:\n\n{}\nreplay: {}\n",
            failure.case,
            failure.original_result.verdict,
            failure.shrink_steps,
            failure.shrink_runs,
            self.scenario_file().unwrap_or_default(),
            replay.command(seed, failure.case)
        ))
    }

    /// Saves the shrunk failing case to `path` (`--save-case`); says what was done.
    ///
    /// # Errors
    /// [`WriteError`] when the file cannot be written.
    pub fn save_case(&self, path: &std::path::Path) -> Result<String, WriteError> {
        match self.scenario_file() {
            Some(file) => {
                crate::report::files::write(path, file)?;
                Ok(format!(
                    "the shrunk case is saved in {0}: `alipay-cancel-kit run --catalogue {0} --catalogue-only ...` replays it",
                    path.display()
                ))
            }
            None => Ok(format!(
                "no case failed: nothing saved in {}",
                path.display()
            )),
        }
    }
}

/// What a fuzz run was started with, as far as replaying its failure needs it.
#[derive(Clone, Copy, Debug)]
pub struct Replay<'a> {
    /// The adapter command, if any.
    pub client: Option<&'a str>,
    /// `--persistent`.
    pub persistent: bool,
    /// The built-in client's defects.
    pub defects: &'a [Defect],
    /// The built-in client's styles.
    pub styles: &'a [Style],
    /// `--timeout-ms`.
    pub timeout_ms: u64,
}

impl Replay<'_> {
    /// The command line that replays case `case` of `seed`.
    pub fn command(&self, seed: u64, case: u32) -> String {
        let mut replay = format!("alipay-cancel-kit fuzz --seed {seed} --cases {case}");
        if let Some(command) = self.client {
            replay.push_str(&format!(" --client '{}'", command.replace('\'', r"'\''")));
        }
        if self.persistent {
            replay.push_str(" --persistent");
        }
        for d in self.defects {
            replay.push_str(&format!(" --defect {}", d.name()));
        }
        for s in self.styles {
            replay.push_str(&format!(" --style {}", s.name()));
        }
        if self.timeout_ms != Timing::default().timeout_ms {
            replay.push_str(&format!(" --timeout-ms {}", self.timeout_ms));
        }
        replay
    }
}
