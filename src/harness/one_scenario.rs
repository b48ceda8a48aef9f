//! One scenario, played: a fresh gateway (and TLS front) on its own loopback port, the
//! instruction handed to the client, the exchanges it made judged, the verdict.

use std::time::{Duration, Instant};

use super::{time_limit, Client, Pool, RunConfig};
use crate::adapter::{self, AdapterFault, AdapterRun, Capabilities};
use crate::exit::Signal;
use crate::gateway::tls::{self, TlsFront};
use crate::gateway::{Gateway, Script};
use crate::protocol::{GatewayInfo, Instruction, PROTOCOL};
use crate::reference_client::{self, Behaviour, Crash};
use crate::scenario::{Scenario, Transport};
use crate::verdict::{self, ScenarioResult, Verdict};

/// The reason a scenario that did not finish carries in an interrupted run's report.
pub fn not_run_reason(signal: Signal) -> String {
    format!("not run: the run was interrupted ({signal}) before this scenario finished")
}

/// A `SKIPPED` result for a scenario an interrupted run did not finish.
pub fn not_run(scenario: &Scenario, signal: Signal) -> ScenarioResult {
    ScenarioResult {
        verdict: Verdict::Skipped,
        reason: Some(not_run_reason(signal)),
        ..unjudged(scenario)
    }
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
    drop(tls_front);
    let exchanges = gateway.finish();
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
