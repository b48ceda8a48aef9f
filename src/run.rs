//! One conformance run, end to end: for each selected scenario a fresh gateway on its own
//! loopback port, the instruction handed to the client, the checks, the verdict.
//! Scenarios run concurrently (`jobs` at a time, in a [`Harness`] session) and are reported
//! in catalogue order.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::adapter::{self, AdapterFault, AdapterRun, Capabilities, StartError};
use crate::capability::Ids;
use crate::gateway::tls::{self, TestPki, TlsFront};
use crate::gateway::{Gateway, GatewayKeys, Script};
pub use crate::harness::{Harness, Pool, Stop};
use crate::protocol::{GatewayInfo, Instruction, PROTOCOL};
use crate::reference_client::{self, Behaviour, Crash, Defects};
use crate::report::{Baseline, BaselineError, RunReport, WriteError};
use crate::scenario::{Catalogue, Scenario, Transport};
use crate::shard::{Selection, Shard};
use crate::signature::SigningKey;
use crate::verdict::{self, ScenarioResult, Verdict};

/// The client under test.
#[derive(Clone, Debug)]
pub enum Client {
    /// The built-in reference client, called in process (with deliberate defects or styles,
    /// if any). Its outcome goes through the adapter protocol's JSON, as an adapter's does.
    InProcess(Behaviour),
    /// The built-in reference client, called in process, able to send only some of the ids
    /// and declaring them: a client that cancels by one kind of id (with defects, if any).
    InProcessWithIds {
        /// Its deliberate defects.
        defects: Defects,
        /// The ids it can send and declares.
        ids: Ids,
    },
    /// Any client, through an adapter command run by `sh -c`.
    Adapter {
        /// The command line.
        command: String,
        /// One process for all scenarios (per job) instead of one per scenario.
        persistent: bool,
    },
}

impl Client {
    /// How reports name the client: the adapter command, or the built-in client with its
    /// defects and styles.
    pub fn describe(&self) -> String {
        match self {
            Client::InProcess(b) => {
                let mut name = String::from("built-in reference client");
                if !b.defects.is_empty() {
                    let names: Vec<String> = b.defects.iter().map(|d| d.name()).collect();
                    name.push_str(&format!(" with defects: {}", names.join(", ")));
                }
                if !b.styles.is_empty() {
                    let names: Vec<String> = b.styles.iter().map(|s| s.name()).collect();
                    name.push_str(&format!(" in styles: {}", names.join(", ")));
                }
                name
            }
            Client::InProcessWithIds { defects, ids } => format!(
                "{} sending {} only",
                Client::InProcess(defects.clone().into()).describe(),
                ids.kinds()
                    .map(|k| k.member())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            Client::Adapter { command, .. } => command.clone(),
        }
    }

    /// What the client can do: the adapter's answer to `--capabilities`, or the built-in
    /// client's own list.
    ///
    /// # Errors
    /// [`RunError::Adapter`] when the adapter command cannot be started at all.
    pub async fn capabilities(&self) -> Result<Capabilities, RunError> {
        match self {
            Client::Adapter { command, .. } => adapter::probe_capabilities(command)
                .await
                .map_err(RunError::Adapter),
            Client::InProcess(_) => Ok(Capabilities {
                list: reference_client::CAPABILITIES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                note: None,
            }),
            Client::InProcessWithIds { ids, .. } => Ok(Capabilities {
                list: reference_client::capabilities(*ids),
                note: None,
            }),
        }
    }

    /// The adapter command a pool of persistent processes runs, for a persistent adapter.
    pub fn pool_command(&self) -> Option<&str> {
        match self {
            Client::Adapter {
                command,
                persistent: true,
            } => Some(command),
            _ => None,
        }
    }

    /// How the client runs: `in-process`, `exec` or `persistent`.
    pub fn mode(&self) -> &'static str {
        match self {
            Client::InProcess(_) | Client::InProcessWithIds { .. } => "in-process",
            Client::Adapter {
                persistent: true, ..
            } => "persistent",
            Client::Adapter { .. } => "exec",
        }
    }
}

/// The keys of one run: the merchant's and the vendor's, generated per run. Test-only.
///
/// Built by [`RunKeys::new`] (or `generate`, `fixed`), which also encodes, once, what every
/// scenario hands out: the keys in the vendor's text formats and the gateway's key set.
#[derive(Clone)]
pub struct RunKeys {
    /// The merchant key: the client signs requests with it.
    pub merchant: SigningKey,
    /// The vendor key: the gateway signs answers with it.
    pub vendor: SigningKey,
    /// A key that is not the vendor's.
    pub other: SigningKey,
    /// The test CAs and the gateway's TLS certificates.
    pub tls: Arc<TestPki>,
    /// `merchant` as base64 PKCS#8 and the vendor's public key as base64 SPKI.
    instruction_keys: (String, String),
    gateway_keys: GatewayKeys,
}

impl RunKeys {
    /// The keys of a run, with their encodings made once.
    pub fn new(
        merchant: SigningKey,
        vendor: SigningKey,
        other: SigningKey,
        tls: Arc<TestPki>,
    ) -> RunKeys {
        let instruction_keys = (
            merchant.to_base64_pkcs8(),
            vendor.verifying_key().to_base64_spki(),
        );
        let gateway_keys = GatewayKeys {
            merchant_public: merchant.verifying_key(),
            vendor: vendor.clone(),
            other: other.clone(),
        };
        RunKeys {
            merchant,
            vendor,
            other,
            tls,
            instruction_keys,
            gateway_keys,
        }
    }

    /// Generates three fresh 2048-bit keys, on as many threads.
    pub fn generate() -> RunKeys {
        let spawn = || std::thread::spawn(SigningKey::generate);
        let (a, b, c) = (spawn(), spawn(), spawn());
        let join = |h: std::thread::JoinHandle<SigningKey>| h.join().expect("key generation");
        RunKeys::new(
            join(a),
            join(b),
            join(c),
            Arc::new(TestPki::generate().expect("the test PKI generates")),
        )
    }

    /// The fixed TEST-ONLY keys of [`TestKeys::fixed`] with a fresh test PKI: for tests and
    /// benchmarks, where generating RSA keys would dominate the time.
    ///
    /// [`TestKeys::fixed`]: crate::signature::TestKeys::fixed
    pub fn fixed() -> RunKeys {
        let fixed = crate::signature::TestKeys::fixed();
        RunKeys::new(
            fixed.merchant,
            fixed.vendor,
            fixed.other_vendor,
            Arc::new(TestPki::generate().expect("the test PKI generates")),
        )
    }
}

/// Everything a run needs besides the scenarios.
#[derive(Clone)]
pub struct RunConfig {
    /// The client under test.
    pub client: Client,
    /// How many scenarios run at once.
    pub jobs: usize,
    /// Added to `timeoutMs × 5` to make the hard time limit of a scenario.
    pub time_limit_margin: Duration,
    /// The run's keys.
    pub keys: RunKeys,
    /// Serve every scenario over HTTPS (plain ones with the trusted certificate), for clients
    /// that cannot speak plain HTTP, such as the official Python SDK.
    pub tls: bool,
}

/// A run could not be carried out at all (exit code 2).
#[derive(Debug)]
pub enum RunError {
    /// The adapter command cannot be started.
    Adapter(StartError),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Adapter(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunError::Adapter(e) => Some(e),
        }
    }
}

impl From<StartError> for RunError {
    fn from(e: StartError) -> RunError {
        RunError::Adapter(e)
    }
}

/// The hard time limit of a scenario: room for 5 exchanges of `timeoutMs` plus the margin.
pub fn time_limit(timeout_ms: u64, margin: Duration) -> Duration {
    Duration::from_millis(timeout_ms.saturating_mul(verdict::MAX_REQUESTS as u64)) + margin
}

/// The reason a scenario that did not finish carries in an interrupted run's report.
pub fn not_run_reason(stop_reason: &str) -> String {
    format!("not run: the run was interrupted ({stop_reason}) before this scenario finished")
}

/// A `SKIPPED` result for a scenario an interrupted run did not finish.
pub fn not_run(scenario: &Scenario, stop_reason: &str) -> ScenarioResult {
    ScenarioResult {
        verdict: Verdict::Skipped,
        reason: Some(not_run_reason(stop_reason)),
        ..unjudged(scenario)
    }
}

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

/// Runs one scenario: gateway, instruction, adapter, checks, verdict.
pub async fn run_scenario(
    scenario: &Scenario,
    config: &RunConfig,
    capabilities: &Capabilities,
    pool: Option<&Pool>,
) -> ScenarioResult {
    let started = Instant::now();
    let started_utc = chrono::Utc::now();
    let result = |verdict: Verdict, reason: String| ScenarioResult {
        verdict,
        reason: Some(reason),
        ..unjudged(scenario)
    };
    let scenario = match playable(scenario, capabilities) {
        Ok(scenario) => scenario,
        Err(why) => return result(Verdict::Skipped, why),
    };
    let gateway =
        match Gateway::start(Script::of(&scenario), config.keys.gateway_keys.clone()).await {
            Ok(g) => g,
            Err(e) => {
                return result(
                    Verdict::Error,
                    format!("the kit's gateway could not start: {e}"),
                )
            }
        };
    let tls_front = match tls_mode(scenario.transport, config.tls) {
        None => None,
        Some(mode) => {
            match TlsFront::start(config.keys.tls.server_config(mode), gateway.addr()).await {
                Ok(front) => Some(front),
                Err(e) => {
                    return result(
                        Verdict::Error,
                        format!("the kit's TLS front could not start: {e}"),
                    )
                }
            }
        }
    };
    let url = tls_front
        .as_ref()
        .map_or_else(|| gateway.url(), TlsFront::url);
    let ca = tls_front
        .as_ref()
        .map(|_| config.keys.tls.ca_certificate_pem());
    let instruction = instruction(&scenario, config, url, ca);
    let limit = time_limit(scenario.timeout_ms, config.time_limit_margin);
    let run = run_client(&config.client, pool, &instruction, limit).await;
    let exchanges = gateway.exchanges();
    drop(tls_front);
    drop(gateway);
    let checks = verdict::judge(&scenario, &exchanges, run.outcome.as_ref().ok());
    let (verdict, reason) = match &run.outcome {
        Err(fault) => (Verdict::Error, Some(fault.to_string())),
        Ok(_) => (verdict::grade(&checks), None),
    };
    ScenarioResult {
        verdict,
        reason,
        checks,
        requests: exchanges.len(),
        outcome: run.printed,
        stderr: run.stderr,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        adapter_ms: run.elapsed.as_secs_f64() * 1000.0,
        transcript: crate::transcript::of(&exchanges, started_utc),
        ..unjudged(&scenario)
    }
}

/// A scenario's result before any judging: its names, no checks, `PASS`.
fn unjudged(scenario: &Scenario) -> ScenarioResult {
    ScenarioResult {
        id: scenario.id.clone(),
        title: scenario.title.clone(),
        rule: scenario.rule.clone(),
        verdict: Verdict::Pass,
        reason: None,
        checks: Vec::new(),
        requests: 0,
        outcome: None,
        stderr: String::new(),
        duration_ms: 0.0,
        adapter_ms: 0.0,
        transcript: Vec::new(),
    }
}

/// The scenario as this client can play it, or why it is skipped: a capability it needs is
/// not declared, or no form of its request names only ids the client can send.
fn playable<'a>(
    scenario: &'a Scenario,
    capabilities: &Capabilities,
) -> Result<std::borrow::Cow<'a, Scenario>, String> {
    use std::borrow::Cow;
    if let Some(missing) = scenario.needs.iter().find(|n| !capabilities.has(n)) {
        return Err(format!(
            "the adapter does not declare the `{missing}` capability"
        ));
    }
    // A client that cannot send an id of `request` gets another form of it, if the scenario
    // has one it can send; the instruction, the gateway's checks and the verdict all use it.
    match scenario.request_for(capabilities.ids()) {
        Ok(request) if std::ptr::eq(request, &scenario.request) => Ok(Cow::Borrowed(scenario)),
        Ok(request) => Ok(Cow::Owned(Scenario {
            request: request.clone(),
            ..scenario.clone()
        })),
        Err(lacking) => Err(format!("the client declares no `{lacking}`")),
    }
}

/// Whether (and how) the gateway is served over TLS: as the scenario's transport says, and
/// plain scenarios with the trusted certificate when the run is `--tls`.
fn tls_mode(transport: Transport, run_tls: bool) -> Option<tls::Mode> {
    match transport {
        Transport::Plain if run_tls => Some(tls::Mode::Trusted),
        Transport::Plain => None,
        Transport::TlsTrusted => Some(tls::Mode::Trusted),
        Transport::TlsUntrusted => Some(tls::Mode::Untrusted),
        Transport::TlsWrongHostname => Some(tls::Mode::WrongHostname),
    }
}

/// The instruction the client gets for a scenario, its gateway at `url` (with the test CA's
/// certificate `ca`, over TLS).
fn instruction(
    scenario: &Scenario,
    config: &RunConfig,
    url: String,
    ca: Option<&str>,
) -> Instruction {
    Instruction {
        protocol: PROTOCOL.to_owned(),
        scenario: scenario.id.clone(),
        gateway: GatewayInfo {
            url,
            client_id: scenario.client_id.clone(),
            merchant_private_key: config.keys.instruction_keys.0.clone(),
            alipay_public_key: config.keys.instruction_keys.1.clone(),
            key_version: "1".to_owned(),
            ca_certificate_pem: ca.map(str::to_owned),
        },
        request: scenario.request.clone(),
        timeout_ms: scenario.timeout_ms,
    }
}

/// Hands the instruction to the client: in process, or to its adapter (exec, or a process of
/// the persistent pool).
async fn run_client(
    client: &Client,
    pool: Option<&Pool>,
    instruction: &Instruction,
    limit: Duration,
) -> AdapterRun {
    match client {
        Client::InProcess(behaviour) => in_process(instruction, behaviour, limit).await,
        Client::InProcessWithIds { defects, ids } => {
            in_process(
                &reference_client::narrowed(instruction, *ids),
                &Behaviour::from(defects.clone()),
                limit,
            )
            .await
        }
        Client::Adapter {
            command,
            persistent,
        } => {
            let line = serde_json::to_string(instruction).expect("instruction serialises");
            match (persistent, pool) {
                (true, Some(pool)) => pool.run(&line, limit).await,
                _ => adapter::exec(command, &line, limit).await,
            }
        }
    }
}

async fn in_process(
    instruction: &Instruction,
    behaviour: &Behaviour,
    limit: Duration,
) -> AdapterRun {
    let started = Instant::now();
    let done = tokio::time::timeout(limit, reference_client::cancel(instruction, behaviour)).await;
    // The outcome is printed and read back as an adapter's is (schema and all), so the styles
    // that change only the JSON, such as `nulls`, are judged in process too.
    let (printed, outcome) = match done {
        Err(_) => (None, Err(AdapterFault::ClientTimedOut { limit })),
        Ok(Err(Crash(why))) => (None, Err(AdapterFault::Crashed(why))),
        Ok(Ok(o)) => adapter::parse_outcome(&reference_client::outcome_line(&o, &behaviour.styles)),
    };
    AdapterRun {
        printed,
        outcome,
        stderr: String::new(),
        elapsed: started.elapsed(),
    }
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
    /// A message naming the first spec without an `=`.
    pub fn card(specs: &[String]) -> Result<Vec<Column>, String> {
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
    /// A message when there is no `=`.
    pub fn parse(spec: &str) -> Result<Column, String> {
        let Some((name, command)) = spec.split_once('=') else {
            return Err(format!("--column {spec:?}: expected NAME=COMMAND"));
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
