//! The `alipay-cancel-kit` command line. Thin: every command is a library call.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use alipay_cancel_kit::capability::{IdKind, Ids};
use alipay_cancel_kit::exit::{Exit, Signal};
use alipay_cancel_kit::fuzz::{self, FuzzConfig, Replay, Timing};
use alipay_cancel_kit::harness::{cores, HarnessArgs};
use alipay_cancel_kit::reference_client::{self, Behaviour, Defect, Style};
use alipay_cancel_kit::report::terminal::{self, Color};
use alipay_cancel_kit::report::{self, baseline::Baseline, card, ReportFiles};
use alipay_cancel_kit::run::{self, Column, Plan, Stop};
use alipay_cancel_kit::scenario::Catalogue;
use alipay_cancel_kit::serve::{self, session, ServeConfig, Server, Session, TlsSetting, Totals};
use alipay_cancel_kit::shard::Shard;
use alipay_cancel_kit::validate;
use clap::{Parser, Subcommand};

/// The static binary (feature `static`) allocates through mimalloc: musl's own allocator is
/// the slowest part of a gateway exchange there (`benches/static.sh` measures both).
#[cfg(feature = "static")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Spec as code and conformance kit for Alipay's (Antom's) payment cancel API.
#[derive(Parser)]
#[command(name = "alipay-cancel-kit", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the conformance catalogue against a client (the built-in reference client by default).
    Run(RunArgs),
    /// List the scenarios of the catalogue.
    Scenarios(ScenariosArgs),
    /// Check cancel request and response bodies (files, `-`, NDJSON, captured traffic).
    Validate(validate::ValidateArgs),
    /// Serve the built-in reference client through the adapter protocol (stdin/stdout).
    ReferenceAdapter(ReferenceAdapterArgs),
    /// Run the catalogue against the reference client and other clients, and write their
    /// verdicts side by side (markdown) into a document, between the report card markers.
    ReportCard(ReportCardArgs),
    /// Check a client against generated cases; shrink the first failing one (README, "Fuzzing").
    Fuzz(FuzzArgs),
    /// Work with JSON reports: `report merge` puts the reports of a sharded run together.
    Report(ReportArgs),
    /// Run one standing, signing mock gateway that an SDK's own tests call (docs/serve.md).
    Serve(ServeArgs),
    /// Forward to a gateway (the vendor's sandbox, or serve), checking both directions
    /// (docs/proxy.md).
    Proxy(ProxyArgs),
    /// Ask a standing serve or proxy whether it is up (GET /__kit/health): exit 0 when it
    /// answers ok, 1 when not (a container's HEALTHCHECK, a CI wait loop).
    Health(HealthArgs),
}

#[derive(clap::Args)]
struct HealthArgs {
    /// The server's base URL (plain HTTP).
    #[arg(default_value = "http://127.0.0.1:8640")]
    url: String,
    /// How long to wait for the answer, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    timeout_ms: u64,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// The address to listen on. Loopback by default; anything else exposes test keys.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// The port to listen on; 0 picks a free one (the ready line says which).
    #[arg(long, default_value_t = alipay_cancel_kit::serve::DEFAULT_PORT)]
    port: u16,
    /// Serve HTTPS with a CA made for this run (its certificate is in the ready line).
    #[arg(long)]
    tls: bool,
    /// Serve HTTPS with this certificate chain (PEM) instead of a run CA; needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Keys from DIR (merchant-private.pkcs8.b64, vendor-private.pkcs8.b64). Default: the
    /// committed test-only keys of conformance/keys/.
    #[arg(long, value_name = "DIR")]
    keys: Option<PathBuf>,
    /// Serve only this client id; other client ids get CLIENT_INVALID.
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
    /// With --keys: put your merchant private key in the ready line (stdout, --ready-file, the
    /// --exec environment) all the same. The committed test-only key is always there.
    #[arg(long, requires = "keys")]
    expose_private_key: bool,
    #[command(flatten)]
    standing: StandingArgs,
    /// Add the scenario group files at PATH (a file or a directory) to the catalogue, so their
    /// magic ids and armed names work too. Repeatable.
    #[arg(long = "catalogue", value_name = "PATH")]
    catalogues: Vec<PathBuf>,
}

/// What `serve` and `proxy` share: the readiness handshake, the journal, the session's end.
#[derive(clap::Args)]
struct StandingArgs {
    /// Also write the ready line to FILE (atomically) once connections are accepted.
    #[arg(long, value_name = "FILE")]
    ready_file: Option<PathBuf>,
    /// Do not send failed checks back in the x-kit-violations header.
    #[arg(long)]
    no_violations_header: bool,
    /// Append every exchange to FILE as a captured-traffic NDJSON line (`validate` reads it).
    #[arg(long, value_name = "FILE")]
    journal: Option<PathBuf>,
    /// Run COMMAND (sh -c) with the ready line in its environment; stop when it ends.
    #[arg(long, value_name = "COMMAND")]
    exec: Option<String>,
    /// When the session stops, write the JSON report (one test case per request) to FILE.
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
    /// When the session stops, write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// When the session stops, write a markdown report to FILE.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Require TOKEN (`authorization: Bearer TOKEN` or `x-kit-admin-token`) on every /__kit/
    /// call but GET /__kit/health. Needed with a --host other than loopback.
    #[arg(long, value_name = "TOKEN")]
    admin_token: Option<String>,
    /// With a --host other than loopback, leave /__kit/ open to anyone who can reach it.
    #[arg(long, conflicts_with = "admin_token")]
    insecure_admin: bool,
}

impl StandingArgs {
    /// The admin token, after the rule for a --host off loopback: a warning, and a token or
    /// an explicit --insecure-admin.
    fn admin_token(&self, name: &str, host: std::net::IpAddr) -> Result<Option<String>, Exit> {
        if self.admin_token.as_deref() == Some("") {
            eprintln!("error: --admin-token: expected a token, found an empty string");
            return Err(Exit::Usage);
        }
        if host.is_loopback() {
            return Ok(self.admin_token.clone());
        }
        eprintln!(
            "{name}: warning: --host {host} reaches beyond this machine: anyone who can connect gets test keys and answers"
        );
        if self.admin_token.is_none() && !self.insecure_admin {
            eprintln!(
                "error: --host {host}: /__kit/ (the journal with every signature, arm, shutdown) would be open to anyone; give --admin-token TOKEN, or --insecure-admin to leave it open"
            );
            return Err(Exit::Usage);
        }
        if self.insecure_admin {
            eprintln!(
                "{name}: warning: --insecure-admin: /__kit/ is open to anyone who can connect"
            );
        }
        Ok(self.admin_token.clone())
    }
}

#[derive(clap::Args)]
struct ProxyArgs {
    /// The gateway to forward to: http://HOST[:PORT] or https://HOST[:PORT] (the vendor's
    /// sandbox, or `serve`).
    #[arg(long, value_name = "URL")]
    upstream: String,
    /// The CA certificates (PEM) to verify an https upstream with, instead of the system's.
    #[arg(long, value_name = "FILE")]
    upstream_ca: Option<PathBuf>,
    /// Verify request signatures with this merchant public key (PEM or base64 DER); without
    /// it the signature check is reported as not run.
    #[arg(long, value_name = "KEY")]
    merchant_public_key: Option<PathBuf>,
    /// Verify answer signatures with this vendor public key (PEM or base64 DER).
    #[arg(long, value_name = "KEY")]
    alipay_public_key: Option<PathBuf>,
    /// Give up on the upstream after this many seconds (the client then gets a 502 saying so).
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    upstream_timeout: u64,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// The port to listen on; 0 picks a free one (the ready line says which).
    #[arg(long, default_value_t = alipay_cancel_kit::proxy::DEFAULT_PORT)]
    port: u16,
    /// Listen with HTTPS, with a CA made for this run (its certificate is in the ready line).
    #[arg(long)]
    tls: bool,
    /// Write each exchange into DIR as a scenario file (`run --catalogue DIR` replays them).
    #[arg(long, value_name = "DIR")]
    record: Option<PathBuf>,
    #[command(flatten)]
    standing: StandingArgs,
}

#[derive(clap::Args)]
struct ReportArgs {
    #[command(subcommand)]
    command: ReportCommand,
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Merge the JSON reports of `run --shard K/N` into the whole run's report, and exit as
    /// the whole run would have.
    Merge(MergeArgs),
}

#[derive(clap::Args)]
struct MergeArgs {
    /// The shard reports (`run --shard K/N --report-json FILE`), every shard once.
    #[arg(required = true, value_name = "REPORT")]
    reports: Vec<PathBuf>,
    /// Apply this baseline to the merged run (instead of combining the shards' own).
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write the merged JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write a markdown report to FILE.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Write a self-contained HTML report to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Link the HTML report's rule references to the kit's docs published under URL.
    #[arg(long, value_name = "URL")]
    docs_url: Option<String>,
    /// Colour on the terminal.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Print only what is not PASS, and the totals.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// `fuzz`: the options shared with `run` ([`HarnessArgs`]), reworded for cases, and its own.
/// Every option has its place in `--help` as before the options were shared.
#[derive(clap::Args)]
#[command(
    mut_arg("client", |a| a.display_order(0)),
    mut_arg("persistent", |a| a
        .help("One adapter process serves many cases (one process per job)")
        .display_order(1)),
    mut_arg("jobs", |a| a
        .help("Cases run at once. Default: 16 in process, 12 per core for an adapter")
        .display_order(4)),
    mut_arg("ids", |a| a.conflicts_with("styles").display_order(9)),
    mut_arg("tls", |a| a.help("Serve every case over HTTPS, as `run --tls` does").display_order(10)),
    mut_arg("report_json", |a| a
        .help("Write the JSON report (the shrunk failing case, or a summary) to FILE")
        .display_order(11)),
    mut_arg("junit", |a| a.display_order(12)),
    mut_arg("html", |a| a
        .help("Write a self-contained HTML report (the shrunk case with its transcript) to FILE")
        .display_order(13)),
    mut_arg("time_limit_margin_ms", |a| a
        .help("Milliseconds added to `timeoutMs × 5` for a case's hard time limit")
        .display_order(15)),
    mut_arg("color", |a| a.display_order(16)),
)]
struct FuzzArgs {
    #[command(flatten)]
    harness: HarnessArgs,
    /// Cases to draw; the run stops at the first failing one.
    #[arg(long, value_name = "N", default_value_t = fuzz::DEFAULT_CASES, display_order = 2)]
    cases: u32,
    /// The generator's seed (printed by every run): the same seed draws the same cases.
    /// Default: a fresh random seed.
    #[arg(long, value_name = "SEED", display_order = 3)]
    seed: Option<u64>,
    /// At most this many cases are re-run while shrinking a failure.
    #[arg(long, value_name = "N", default_value_t = fuzz::DEFAULT_MAX_SHRINK_ITERS, display_order = 5)]
    max_shrink_iters: u32,
    /// `timeoutMs` of the cases with a delayed answer (delayed 3 × this).
    #[arg(long, value_name = "MS", default_value_t = fuzz::Timing::default().timeout_ms, display_order = 6)]
    timeout_ms: u64,
    /// Switch on a deliberate defect of the built-in client (no --client). Repeatable.
    #[arg(
        long = "defect",
        value_enum,
        conflicts_with = "client",
        display_order = 7
    )]
    defects: Vec<Defect>,
    /// Have the built-in client (no --client) write its outcome as some correct clients do:
    /// `nulls` (absent members as null), `millis` or `micros` (cancelTime kept to that). Repeatable.
    #[arg(
        long = "style",
        value_enum,
        conflicts_with = "client",
        display_order = 8
    )]
    styles: Vec<Style>,
    /// Write the shrunk failing case to FILE as a catalogue group file, for `run --catalogue`.
    #[arg(long, value_name = "FILE", display_order = 14)]
    save_case: Option<PathBuf>,
}

/// `run`: the options shared with `fuzz` ([`HarnessArgs`]) and its own, each in its place in
/// `--help` as before the options were shared.
#[derive(clap::Args)]
#[command(
    mut_arg("client", |a| a.display_order(0)),
    mut_arg("persistent", |a| a.display_order(1)),
    mut_arg("ids", |a| a.display_order(2)),
    mut_arg("jobs", |a| a.display_order(3)),
    mut_arg("report_json", |a| a.display_order(9)),
    mut_arg("junit", |a| a.display_order(10)),
    mut_arg("html", |a| a.display_order(12)),
    mut_arg("tls", |a| a.display_order(15)),
    mut_arg("time_limit_margin_ms", |a| a.display_order(16)),
    mut_arg("color", |a| a.display_order(17)),
)]
struct RunArgs {
    #[command(flatten)]
    harness: HarnessArgs,
    /// Run only scenarios matching PATTERN (an id, a group such as `fault`, or a `*` glob). Repeatable.
    #[arg(
        long = "scenario",
        short = 's',
        value_name = "PATTERN",
        display_order = 4
    )]
    scenarios: Vec<String>,
    /// Leave out scenarios matching PATTERN. Repeatable.
    #[arg(long, value_name = "PATTERN", display_order = 5)]
    exclude: Vec<String>,
    /// Add the scenario group files at PATH (a file, or a directory of `*.json` files) to the
    /// catalogue. Repeatable.
    #[arg(long = "catalogue", value_name = "PATH", display_order = 6)]
    catalogues: Vec<PathBuf>,
    /// Select only scenarios of the `--catalogue` files, none of the kit's own.
    #[arg(long, requires = "catalogues", display_order = 7)]
    catalogue_only: bool,
    /// Run shard K of N: every N-th selected scenario in catalogue order, from the K-th on
    /// (merge the shards' JSON reports with `report merge`).
    #[arg(long, value_name = "K/N", display_order = 8)]
    shard: Option<Shard>,
    /// Write a markdown report to FILE.
    #[arg(long, value_name = "FILE", display_order = 11)]
    markdown: Option<PathBuf>,
    /// Known failures, each with a reason: listed failures do not fail the run; stale entries do.
    #[arg(long, value_name = "FILE", display_order = 13)]
    baseline: Option<PathBuf>,
    /// Write this run's failures as a baseline to FILE (reasons to be filled in).
    #[arg(long, value_name = "FILE", display_order = 14)]
    write_baseline: Option<PathBuf>,
    /// Print only failures and the totals.
    #[arg(long, short = 'q', display_order = 18)]
    quiet: bool,
}

#[derive(clap::Args)]
struct ScenariosArgs {
    /// Only scenarios matching PATTERN. Repeatable.
    #[arg(long = "scenario", short = 's', value_name = "PATTERN")]
    scenarios: Vec<String>,
    /// Print the scenarios as JSON, in the catalogue's own format.
    #[arg(long)]
    json: bool,
    /// Add the scenario group files at PATH (a file or a directory) to the catalogue. Repeatable.
    #[arg(long = "catalogue", value_name = "PATH")]
    catalogues: Vec<PathBuf>,
    /// List only the scenarios of the `--catalogue` files.
    #[arg(long, requires = "catalogues")]
    catalogue_only: bool,
    /// Print each scenario's magic id for `serve` (and whether `serve` can play it).
    #[arg(long, conflicts_with = "json")]
    magic: bool,
}

#[derive(clap::Args)]
struct ReportCardArgs {
    /// A column after the reference client's: `NAME=COMMAND`, COMMAND an adapter command run
    /// by `sh -c`. Repeatable.
    #[arg(long = "column", value_name = "NAME=COMMAND")]
    columns: Vec<String>,
    /// The document to write the table into (created if missing).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Serve every scenario over HTTPS, as `run --tls` (the Python SDK needs it).
    #[arg(long)]
    tls: bool,
    /// Scenarios run at once. Default: the number of cores.
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// Also write every column's run, checks and transcripts, as one HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

#[derive(clap::Args)]
struct ReferenceAdapterArgs {
    /// Switch on a deliberate defect (for the kit's sensitivity tests). Repeatable.
    #[arg(long = "defect", value_enum)]
    defects: Vec<Defect>,
    /// Write outcomes as some correct clients do: `nulls` (absent members as null), `millis` or
    /// `micros` (cancelTime kept to that). Repeatable.
    #[arg(long = "style", value_enum)]
    styles: Vec<Style>,
    /// Print the adapter's capabilities as a JSON array and exit.
    #[arg(long)]
    capabilities: bool,
    /// Send only this kind of id, and declare it (a client that cancels by one kind of id).
    /// Repeatable; without it the client sends all three and declares none.
    #[arg(long = "id", value_enum, value_name = "KIND")]
    ids: Vec<IdKind>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let exit = match cli.command {
        Command::Run(args) => run_command(args),
        Command::Scenarios(args) => scenarios_command(&args),
        Command::Health(args) => {
            match serve::health::probe(&args.url, Duration::from_millis(args.timeout_ms)) {
                Ok(body) => {
                    println!("{body}");
                    Exit::Ok
                }
                Err(e) => {
                    eprintln!("health: {}: {e}", args.url);
                    Exit::Failures
                }
            }
        }
        Command::Validate(args) => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            validate::run(&args, &mut out, &mut std::io::stderr().lock())
        }
        Command::ReferenceAdapter(args) => reference_adapter(&args),
        Command::ReportCard(args) => report_card_command(&args),
        Command::Fuzz(args) => fuzz_command(args),
        Command::Report(ReportArgs {
            command: ReportCommand::Merge(args),
        }) => merge_command(&args),
        Command::Serve(args) => serve_command(args),
        Command::Proxy(args) => proxy_command(args),
    };
    exit.into()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts")
}

/// Says what went wrong; a command that cannot go on ends with the usage exit (2).
fn fail(e: impl std::fmt::Display) -> Exit {
    eprintln!("error: {e}");
    Exit::Usage
}

/// Writes to standard output, not `print!`: a closed pipe (`| head`) must not panic the run.
fn print(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Takes over SIGINT and SIGTERM for a run or fuzz (`docs/contract.md`, "Interrupted runs").
/// The first kills every adapter's process group and asks `stop` to end the run, which then
/// writes its reports; a second exits at once. Call inside the runtime: the handlers are
/// installed before this returns, so no signal falls between.
fn watch_signals(stop: Stop) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        eprintln!("warning: cannot watch SIGINT and SIGTERM; an interrupted run writes no report");
        return;
    };
    tokio::spawn(async move {
        loop {
            let signal = tokio::select! {
                _ = interrupt.recv() => Signal::Interrupt,
                _ = terminate.recv() => Signal::Terminate,
            };
            let name = signal.name();
            // The stop first, then the kill: a scenario about to start sees the stop and
            // starts no adapter the kill would miss.
            let first = stop.request(name);
            alipay_cancel_kit::adapter::kill_every_group();
            if !first {
                eprintln!("{name} again: exiting now, without the reports");
                std::process::exit(i32::from(Exit::Interrupted(signal).code()));
            }
            eprintln!(
                "\n{name}: stopping; adapters killed, writing the reports (a second signal exits at once)"
            );
        }
    });
}

/// The embedded catalogue, extended with the `--catalogue` files.
fn catalogue(files: &[PathBuf]) -> Result<Catalogue, Exit> {
    if files.is_empty() {
        return Catalogue::embedded()
            .map_err(|e| fail(format!("the scenario catalogue is broken: {e}")));
    }
    Catalogue::with_files(files).map_err(fail)
}

fn scenarios_command(args: &ScenariosArgs) -> Exit {
    let catalogue = match catalogue(&args.catalogues) {
        Ok(catalogue) => catalogue,
        Err(exit) => return exit,
    };
    let selected = run::select(&catalogue, &args.scenarios, &[], args.catalogue_only);
    if selected.is_empty() {
        return fail(format!("no scenario matches {:?}", args.scenarios));
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let text = serde_json::to_string_pretty(&selected).unwrap_or_default();
        let _ = writeln!(out, "{text}");
    } else if args.magic {
        for s in &selected {
            let note = match s.transport {
                alipay_cancel_kit::scenario::Transport::Plain => "",
                _ => "  (not servable: needs its own TLS listener)",
            };
            let magic = alipay_cancel_kit::serve::state::magic_id(&s.id);
            let _ = writeln!(out, "{magic:<46} {}{note}", s.title);
        }
    } else {
        for s in &selected {
            let needs = if s.needs.is_empty() {
                String::new()
            } else {
                format!("  [needs {}]", s.needs.join(", "))
            };
            let _ = writeln!(out, "{:<42} {}{needs}", s.id, s.title);
        }
        let _ = writeln!(out, "{} scenarios", selected.len());
    }
    Exit::Ok
}

fn run_command(args: RunArgs) -> Exit {
    let catalogue = match catalogue(&args.catalogues) {
        Ok(catalogue) => catalogue,
        Err(exit) => return exit,
    };
    let patterns = (&args.scenarios[..], &args.exclude[..], args.catalogue_only);
    let mut plan = match Plan::new(&catalogue, patterns, args.shard) {
        Ok(plan) => plan,
        Err(e) => return fail(e),
    };
    if let Some(note) = plan.note() {
        eprintln!("note: {note}");
    }
    if let Some(path) = &args.baseline {
        if let Err(e) = plan.load_baseline(&catalogue, path) {
            return fail(e);
        }
    }
    let harness = &args.harness;
    if let Some(note) = harness.note() {
        eprintln!("note: {note}");
    }
    let config = harness.config(harness.client(Behaviour::default()), cores());
    // A progress bar on standard error, drawn only on a terminal (indicatif hides it
    // otherwise), so CI logs and piped output stay clean.
    let progress = indicatif::ProgressBar::with_draw_target(
        Some(plan.scenarios.len() as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    progress.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} scenarios  {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut failed = 0;
    let on_done = |s: &alipay_cancel_kit::verdict::ScenarioResult| {
        if s.verdict.is_failure() {
            failed += 1;
            progress.set_message(format!("{failed} failed; last: {}", s.id));
        }
        progress.inc(1);
    };
    // The runtime lives as long as the command, so a second signal still exits at once while
    // the reports are being written.
    let runtime = runtime();
    let stop = Stop::new();
    let outcome = runtime.block_on(async {
        watch_signals(stop.clone());
        run::run_until(&plan.scenarios, &config, &stop, on_done).await
    });
    progress.finish_and_clear();
    let mut report = match outcome {
        Ok(report) => report,
        Err(e) => return fail(e),
    };
    plan.complete(&mut report);
    print(&terminal::text(
        &report,
        harness.color.enabled(),
        args.quiet,
    ));
    if let Err(e) = harness.files(args.markdown.clone()).write(&report) {
        return fail(e);
    }
    if let Some(path) = &args.write_baseline {
        if let Err(e) = run::write_baseline(&report, path) {
            return fail(e);
        }
    }
    report.exit()
}

fn reference_adapter(args: &ReferenceAdapterArgs) -> Exit {
    let ids = Ids::only(args.ids.iter().copied());
    if args.capabilities {
        println!(
            "{}",
            serde_json::to_string(&reference_client::capabilities(ids)).unwrap_or_default()
        );
        return Exit::Ok;
    }
    let behaviour = behaviour(&args.defects, &args.styles);
    // One instruction at a time: a single-threaded runtime spares the context switches of a
    // worker pool, which adds up when a persistent run keeps a process per job.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    let served = runtime.block_on(reference_client::serve_adapter(&behaviour, ids));
    // A crash ends the adapter at once, as a panic would: no waiting on a read of standard
    // input the runtime may still have under way.
    runtime.shutdown_background();
    match served {
        Ok(()) => Exit::Ok,
        Err(crash @ reference_client::AdapterError::Crash(_)) => {
            eprintln!("{crash}");
            Exit::Crashed
        }
        Err(e) => {
            eprintln!("reference adapter: {e}");
            Exit::Failures
        }
    }
}

fn behaviour(defects: &[Defect], styles: &[Style]) -> Behaviour {
    Behaviour {
        defects: defects.iter().copied().collect(),
        styles: styles.iter().copied().collect(),
    }
}

fn fuzz_command(args: FuzzArgs) -> Exit {
    let harness = &args.harness;
    if let Some(note) = harness.note() {
        eprintln!("note: {note}");
    }
    let client = harness.client(behaviour(&args.defects, &args.styles));
    let jobs = fuzz::default_jobs(&client);
    let seed = args.seed.unwrap_or_else(rand::random);
    let config = FuzzConfig {
        cases: args.cases,
        seed,
        max_shrink_iters: args.max_shrink_iters,
        timing: Timing {
            timeout_ms: args.timeout_ms,
            delay_ms: args.timeout_ms.saturating_mul(3),
        },
    };
    let run_config = harness.config(client, jobs);
    print(&format!(
        "fuzz: seed {seed}, up to {} cases against {} ({}), {} at a time\n",
        args.cases,
        run_config.client.describe(),
        run_config.client.mode(),
        run_config.jobs
    ));
    let runtime = runtime();
    let stop = Stop::new();
    let outcome = runtime.block_on(async {
        watch_signals(stop.clone());
        fuzz::fuzz_until(&config, &run_config, &stop).await
    });
    let run = match outcome {
        Ok(run) => run,
        Err(e) => return fail(e),
    };
    let mut report = run.report(&run_config.client);
    report.transport = report::RunTransport::of(run_config.tls);
    let replay = Replay {
        client: harness.client.as_deref(),
        persistent: harness.persistent,
        defects: &args.defects,
        styles: &args.styles,
        timeout_ms: args.timeout_ms,
    };
    let failure = run.failure.as_ref().and_then(|_| {
        let terminal = terminal::render(&report, harness.color.enabled());
        run.failure_text(&terminal, &replay)
    });
    print(&failure.unwrap_or_else(|| run.passed_text(&report)));
    if let Some(path) = &args.save_case {
        match run.save_case(path) {
            Ok(said) => println!("{said}"),
            Err(e) => return fail(e),
        }
    }
    if let Err(e) = harness.files(None).write(&report) {
        return fail(e);
    }
    report.exit()
}

fn merge_command(args: &MergeArgs) -> Exit {
    let reports = match report::merge::read(&args.reports) {
        Ok(reports) => reports,
        Err(e) => return fail(e),
    };
    let mut merged = match report::merge::merge(&reports) {
        Ok(merged) => merged,
        Err(e) => return fail(e),
    };
    if let Some(path) = &args.baseline {
        match Baseline::load(path) {
            Ok(b) => merged = merged.with_baseline(&b),
            Err(e) => return fail(e),
        }
    }
    print(&terminal::text(&merged, args.color.enabled(), args.quiet));
    let files = ReportFiles {
        json: args.report_json.clone(),
        junit: args.junit.clone(),
        markdown: args.markdown.clone(),
        html: args.html.clone(),
        html_options: report::html::Options {
            docs_url: args.docs_url.clone(),
        },
    };
    if let Err(e) = files.write(&merged) {
        return fail(e);
    }
    merged.exit()
}

fn report_card_command(args: &ReportCardArgs) -> Exit {
    let catalogue = match catalogue(&[]) {
        Ok(catalogue) => catalogue,
        Err(exit) => return exit,
    };
    let columns = match Column::card(&args.columns) {
        Ok(columns) => columns,
        Err(e) => return fail(e),
    };
    let template = run::card_template(args.jobs.unwrap_or_else(cores), args.tls);
    let selected = catalogue.select(&[], &[]);
    let reports = match runtime().block_on(run::run_columns(&selected, &columns, &template)) {
        Ok(reports) => reports,
        Err(e) => return fail(e),
    };
    for (name, report) in &reports {
        println!("{name}: {}", card::counts(report));
    }
    if let Err(e) = card::write(&args.out, args.html.as_deref(), &reports) {
        return fail(e);
    }
    println!("report card written to {}", args.out.display());
    Exit::Ok
}

fn serve_command(args: ServeArgs) -> Exit {
    let admin_token = match args.standing.admin_token("serve", args.host) {
        Ok(token) => token,
        Err(exit) => return exit,
    };
    let catalogue = match catalogue(&args.catalogues) {
        Ok(catalogue) => catalogue,
        Err(exit) => return exit,
    };
    let keys = match &args.keys {
        Some(dir) => match session::keys_from_dir(dir) {
            Ok(keys) => keys,
            Err(e) => return fail(format!("--keys: {e}")),
        },
        None => alipay_cancel_kit::signature::TestKeys::fixed(),
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => TlsSetting::Files {
            cert: cert.clone(),
            key: key.clone(),
        },
        _ if args.tls => TlsSetting::RunCa,
        _ => TlsSetting::Off,
    };
    let config = ServeConfig {
        bind: std::net::SocketAddr::new(args.host, args.port),
        tls,
        keys,
        client_id: args.client_id.clone(),
        violations_header: !args.standing.no_violations_header,
        journal_file: args.standing.journal.clone(),
        catalogue,
        admin_token,
        expose_private_key: args.expose_private_key,
        ..ServeConfig::loopback()
    };
    runtime().block_on(async move {
        run_session("serve", Server::start(config).await, &args.standing).await
    })
}

/// A started `serve` or `proxy`, from its ready line to its reports and exit code.
async fn run_session<S: Session>(
    name: &str,
    started: Result<S, alipay_cancel_kit::serve::ServeError>,
    args: &StandingArgs,
) -> Exit {
    let session = match started {
        Ok(session) => session,
        Err(e) => return fail(e),
    };
    let end = stand(name, session.ready(), session.stop_requested(), args).await;
    let outcome = (session.totals(), session.exit_code(), session.failure());
    finish(end, name, args, &session.report(), outcome)
}

/// How a `serve` or `proxy` session ended, or the exit code it ended with early.
type Ended = Result<session::Stop, Exit>;

/// Writes the reports asked for, says how the session went, and gives its exit code.
fn finish(
    end: Ended,
    name: &str,
    args: &StandingArgs,
    report: &report::RunReport,
    (totals, checks, failure): (Totals, Exit, Option<String>),
) -> Exit {
    let stop = match end {
        Ok(stop) => stop,
        Err(exit) => return exit,
    };
    let files = ReportFiles {
        json: args.report_json.clone(),
        junit: args.junit.clone(),
        markdown: args.markdown.clone(),
        html: None,
        html_options: Default::default(),
    };
    if let Err(e) = files.write(report) {
        return fail(e);
    }
    eprintln!(
        "{name}: stopped ({stop}): {} requests, {} broke a MUST check, {} only a SHOULD check",
        totals.requests, totals.must_failed, totals.should_failed
    );
    if let Some(why) = failure {
        eprintln!("{name}: failed: {why}");
    }
    stop.exit_code(checks)
}

/// Announces a ready `serve` or `proxy` (the ready line on standard output and in
/// `--ready-file`; with `--exec`, only in the file and the command's environment, so it stays
/// out of the command's output), then runs until stopped.
async fn stand(
    name: &str,
    ready: &serde_json::Value,
    stopping: impl std::future::Future<Output = ()>,
    args: &StandingArgs,
) -> Ended {
    let line = ready.to_string();
    if let Some(path) = &args.ready_file {
        if let Err(e) = write_ready_file(path, &line, ready.get("merchantPrivateKey").is_some()) {
            return Err(fail(format!(
                "cannot write the ready file {}: {e}",
                path.display()
            )));
        }
    }
    let url = ready["url"].as_str().unwrap_or_default();
    if args.exec.is_none() {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
        eprintln!("{name}: listening on {url} (stop with Ctrl-C or POST /__kit/shutdown)");
    } else {
        eprintln!(
            "{name}: listening on {url}; the ready line is in the command's environment (ALIPAY_KIT_READY){}",
            if args.ready_file.is_some() { " and --ready-file" } else { "" }
        );
    }
    session::run_until_stopped(ready, stopping, args.exec.as_deref())
        .await
        .map_err(|e| fail(format!("{name} --exec: {e}")))
}

/// Writes the ready file atomically (a fresh file beside it, renamed over it); readable by
/// its owner only (0600) when the line holds a private key.
fn write_ready_file(path: &std::path::Path, line: &str, secret: bool) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let partial = path.with_extension("partial");
    // A file left by an earlier run, or planted, is not written through.
    match std::fs::remove_file(&partial) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if secret { 0o600 } else { 0o644 })
        .open(&partial)?;
    file.write_all(format!("{line}\n").as_bytes())?;
    drop(file);
    std::fs::rename(&partial, path)
}

fn proxy_command(args: ProxyArgs) -> Exit {
    use alipay_cancel_kit::proxy::{read_public_key, Proxy, ProxyConfig, Upstream};
    let admin_token = match args.standing.admin_token("proxy", args.host) {
        Ok(token) => token,
        Err(exit) => return exit,
    };
    let key = |path: &Option<PathBuf>, option: &str| match path {
        Some(path) => read_public_key(path)
            .map(Some)
            .map_err(|e| eprintln!("error: {option}: {e}")),
        None => Ok(None),
    };
    let (Ok(merchant_public), Ok(alipay_public)) = (
        key(&args.merchant_public_key, "--merchant-public-key"),
        key(&args.alipay_public_key, "--alipay-public-key"),
    ) else {
        return Exit::Usage;
    };
    let timeout = Duration::from_secs(args.upstream_timeout);
    let upstream = match Upstream::new(&args.upstream, args.upstream_ca.as_deref(), timeout) {
        Ok(upstream) => upstream,
        Err(e) => return fail(e),
    };
    let config = ProxyConfig {
        bind: std::net::SocketAddr::new(args.host, args.port),
        tls: if args.tls {
            TlsSetting::RunCa
        } else {
            TlsSetting::Off
        },
        upstream,
        merchant_public,
        alipay_public,
        violations_header: !args.standing.no_violations_header,
        journal_file: args.standing.journal.clone(),
        record_dir: args.record.clone(),
        journal_bound: 10_000,
        admin_token,
    };
    runtime().block_on(async move {
        run_session("proxy", Proxy::start(config).await, &args.standing).await
    })
}
