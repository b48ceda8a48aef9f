//! The `alipay-cancel-kit` command line. Thin: every command is a library call.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use alipay_cancel_kit::capability::{IdKind, Ids};
use alipay_cancel_kit::fuzz::{self, FuzzConfig, Timing};
use alipay_cancel_kit::reference_client::{self, Behaviour, Defect, Style};
use alipay_cancel_kit::report::{self, baseline::Baseline};
use alipay_cancel_kit::run::{self, Client, RunConfig, RunKeys, Stop};
use alipay_cancel_kit::scenario::Catalogue;
use alipay_cancel_kit::serve::{session, ServeConfig, Server, Session, TlsSetting, Totals};
use alipay_cancel_kit::shard::{Selection, Shard};
use alipay_cancel_kit::validate;
use alipay_cancel_kit::verdict::Verdict;
use clap::{Parser, Subcommand, ValueEnum};

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
    /// Give up on the upstream after this many seconds (the client then gets no answer).
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
    /// Colour on the terminal.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Print only what is not PASS, and the totals.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(clap::Args)]
struct FuzzArgs {
    /// The adapter command of the client under test, run by `sh -c`. Default: the built-in
    /// reference client, in process.
    #[arg(long, value_name = "COMMAND")]
    client: Option<String>,
    /// One adapter process serves many cases (one process per job).
    #[arg(long)]
    persistent: bool,
    /// Cases to draw; the run stops at the first failing one.
    #[arg(long, value_name = "N", default_value_t = fuzz::DEFAULT_CASES)]
    cases: u32,
    /// The generator's seed (printed by every run): the same seed draws the same cases.
    /// Default: a fresh random seed.
    #[arg(long, value_name = "SEED")]
    seed: Option<u64>,
    /// Cases run at once. Default: 16 in process, 12 per core for an adapter.
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// At most this many cases are re-run while shrinking a failure.
    #[arg(long, value_name = "N", default_value_t = fuzz::DEFAULT_MAX_SHRINK_ITERS)]
    max_shrink_iters: u32,
    /// `timeoutMs` of the cases with a delayed answer (delayed 3 × this).
    #[arg(long, value_name = "MS", default_value_t = fuzz::Timing::default().timeout_ms)]
    timeout_ms: u64,
    /// Switch on a deliberate defect of the built-in client (no --client). Repeatable.
    #[arg(long = "defect", value_enum, conflicts_with = "client")]
    defects: Vec<Defect>,
    /// Have the built-in client (no --client) write its outcome as some correct clients do:
    /// `nulls` (absent members as null), `millis` or `micros` (cancelTime kept to that). Repeatable.
    #[arg(long = "style", value_enum, conflicts_with = "client")]
    styles: Vec<Style>,
    /// Make the built-in client (no --client) send only this kind of id, and declare it.
    /// Repeatable.
    #[arg(
        long = "id",
        value_enum,
        value_name = "KIND",
        conflicts_with_all = ["client", "styles"]
    )]
    ids: Vec<IdKind>,
    /// Serve every case over HTTPS, as `run --tls` does.
    #[arg(long)]
    tls: bool,
    /// Write the JSON report (the shrunk failing case, or a summary) to FILE.
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write a self-contained HTML report (the shrunk case with its transcript) to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Write the shrunk failing case to FILE as a catalogue group file, for `run --catalogue`.
    #[arg(long, value_name = "FILE")]
    save_case: Option<PathBuf>,
    /// Milliseconds added to `timeoutMs × 5` for a case's hard time limit.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    time_limit_margin_ms: u64,
    /// Colour on the terminal.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(clap::Args)]
struct RunArgs {
    /// The adapter command of the client under test, run by `sh -c`. Default: the built-in
    /// reference client, in process.
    #[arg(long, value_name = "COMMAND")]
    client: Option<String>,
    /// One adapter process serves many scenarios (one process per job).
    #[arg(long)]
    persistent: bool,
    /// Make the built-in client (no --client) send only this kind of id, and declare it.
    /// Repeatable.
    #[arg(
        long = "id",
        value_enum,
        value_name = "KIND",
        conflicts_with = "client"
    )]
    ids: Vec<IdKind>,
    /// Scenarios run at once. Default: the number of cores.
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// Run only scenarios matching PATTERN (an id, a group such as `fault`, or a `*` glob). Repeatable.
    #[arg(long = "scenario", short = 's', value_name = "PATTERN")]
    scenarios: Vec<String>,
    /// Leave out scenarios matching PATTERN. Repeatable.
    #[arg(long, value_name = "PATTERN")]
    exclude: Vec<String>,
    /// Add the scenario group files at PATH (a file, or a directory of `*.json` files) to the
    /// catalogue. Repeatable.
    #[arg(long = "catalogue", value_name = "PATH")]
    catalogues: Vec<PathBuf>,
    /// Select only scenarios of the `--catalogue` files, none of the kit's own.
    #[arg(long, requires = "catalogues")]
    catalogue_only: bool,
    /// Run shard K of N: every N-th selected scenario in catalogue order, from the K-th on
    /// (merge the shards' JSON reports with `report merge`).
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
    /// Write the JSON report (schema/report.schema.json) to FILE.
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write a markdown report to FILE.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Write a self-contained HTML report (checks and transcripts) to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Known failures, each with a reason: listed failures do not fail the run; stale entries do.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write this run's failures as a baseline to FILE (reasons to be filled in).
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Serve every scenario over HTTPS (`https://localhost:PORT`, with `caCertificatePem`), not
    /// only the `tls/` ones: for clients that cannot speak plain HTTP, such as the Python SDK.
    #[arg(long)]
    tls: bool,
    /// Milliseconds added to `timeoutMs × 5` for a scenario's hard time limit.
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    time_limit_margin_ms: u64,
    /// Colour on the terminal.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Print only failures and the totals.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
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
    let code = match cli.command {
        Command::Run(args) => run_command(args),
        Command::Scenarios(args) => scenarios_command(&args),
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
    ExitCode::from(u8::try_from(code).unwrap_or(2))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts")
}

/// The exit code of a run cut short by a signal: 128 + its number, as shells report it.
fn signal_exit_code(signal: &str) -> i32 {
    match signal {
        "SIGINT" => 130,
        _ => 143,
    }
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
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            alipay_cancel_kit::adapter::kill_every_group();
            if !stop.request(name) {
                eprintln!("{name} again: exiting now, without the reports");
                std::process::exit(signal_exit_code(name));
            }
            eprintln!(
                "\n{name}: stopping; adapters killed, writing the reports (a second signal exits at once)"
            );
        }
    });
}

/// The embedded catalogue, extended with the `--catalogue` files.
fn catalogue(files: &[PathBuf]) -> Result<Catalogue, i32> {
    if files.is_empty() {
        return Catalogue::embedded().map_err(|e| {
            eprintln!("error: the scenario catalogue is broken: {e}");
            2
        });
    }
    Catalogue::with_files(files).map_err(|e| {
        eprintln!("error: {e}");
        2
    })
}

/// The scenarios the patterns select, only those of `--catalogue` files when `only`.
fn select<'a>(
    catalogue: &'a Catalogue,
    include: &[String],
    exclude: &[String],
    only: bool,
) -> Vec<&'a alipay_cancel_kit::scenario::Scenario> {
    let mut selected = catalogue.select(include, exclude);
    if only {
        selected.retain(|s| !catalogue.is_builtin(&s.id));
    }
    selected
}

/// How the terminal shows a report: every scenario, or (`quiet`) only what is not `PASS`.
fn terminal_text(report: &report::RunReport, color: Color, quiet: bool) -> String {
    let color = match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    if !quiet {
        return report::terminal::render(report, color);
    }
    // Only what needs attention: everything but PASS, then the totals.
    let mut text = report::terminal::header(report, color);
    for s in report
        .scenarios
        .iter()
        .filter(|s| s.verdict != Verdict::Pass)
    {
        text.push_str(&report::terminal::scenario(
            s,
            report.baseline.as_ref(),
            color,
        ));
    }
    text.push('\n');
    text.push_str(&report::terminal::totals(report, color));
    text
}

/// A report renderer: the JSON, JUnit or markdown form of a run.
type Render = fn(&report::RunReport) -> String;

/// Prints a run's terminal report, then writes the JSON, JUnit, markdown and HTML reports
/// asked for; `Err(2)` when one cannot be written.
fn print_and_write(
    report: &report::RunReport,
    color: Color,
    quiet: bool,
    [json, junit, markdown, html]: [&Option<PathBuf>; 4],
) -> Result<(), i32> {
    let text = terminal_text(report, color, quiet);
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    write_reports(
        report,
        [
            (json, report::json::to_string as Render),
            (junit, report::junit::render),
            (markdown, report::markdown::render),
            (html, report::html::render),
        ],
    )
}

/// Writes each report asked for (`--report-json`, `--junit`, ...); `Err(2)` when one cannot be
/// written, after saying which.
fn write_reports<const N: usize>(
    report: &report::RunReport,
    reports: [(&Option<PathBuf>, Render); N],
) -> Result<(), i32> {
    for (path, render) in reports {
        if let Some(path) = path {
            if let Err(e) = std::fs::write(path, render(report)) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return Err(2);
            }
        }
    }
    Ok(())
}

fn scenarios_command(args: &ScenariosArgs) -> i32 {
    let Ok(catalogue) = catalogue(&args.catalogues) else {
        return 2;
    };
    let selected = select(&catalogue, &args.scenarios, &[], args.catalogue_only);
    if selected.is_empty() {
        eprintln!("error: no scenario matches {:?}", args.scenarios);
        return 2;
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
    0
}

fn run_command(args: RunArgs) -> i32 {
    let Ok(catalogue) = catalogue(&args.catalogues) else {
        return 2;
    };
    let selected = select(
        &catalogue,
        &args.scenarios,
        &args.exclude,
        args.catalogue_only,
    );
    if selected.is_empty() {
        eprintln!(
            "error: no scenario matches --scenario {:?} --exclude {:?} (see `alipay-cancel-kit scenarios`)",
            args.scenarios, args.exclude
        );
        return 2;
    }
    // The fingerprint is of the whole selection, so that the shards of one run, and only
    // they, merge.
    let selection = Selection::of(&selected);
    let selected = match args.shard {
        None => selected,
        Some(shard) => shard.select(selected),
    };
    if selected.is_empty() {
        eprintln!(
            "note: shard {} holds no scenario of the {} selected",
            args.shard.map(|s| s.to_string()).unwrap_or_default(),
            selection.scenarios
        );
    }
    // Read the baseline first: a broken one is a usage error before any work is done.
    let baseline = match &args.baseline {
        None => None,
        Some(path) => match Baseline::load(path).and_then(|b| {
            b.check_known(catalogue.scenarios().iter().map(|s| s.id.as_str()))?;
            Ok(b)
        }) {
            Ok(b) => Some(b),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        },
    };
    if args.persistent && args.client.is_none() {
        eprintln!(
            "note: --persistent applies to --client adapters; the built-in client runs in process"
        );
    }
    let client = match &args.client {
        None if args.ids.is_empty() => Client::InProcess(Default::default()),
        None => Client::InProcessWithIds {
            defects: Default::default(),
            ids: Ids::only(args.ids.iter().copied()),
        },
        Some(command) => Client::Adapter {
            command: command.clone(),
            persistent: args.persistent,
        },
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let config = RunConfig {
        client,
        jobs,
        time_limit_margin: Duration::from_millis(args.time_limit_margin_ms),
        keys: RunKeys::generate(),
        tls: args.tls,
    };
    // A progress bar on standard error, drawn only on a terminal (indicatif hides it
    // otherwise), so CI logs and piped output stay clean.
    let progress = indicatif::ProgressBar::with_draw_target(
        Some(selected.len() as u64),
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
        run::run_until(&selected, &config, &stop, on_done).await
    });
    progress.finish_and_clear();
    let mut report = match outcome {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    report.catalogue = Some(selection);
    report.shard = args.shard;
    if let Some(baseline) = &baseline {
        report.baseline = Some(report::baseline::apply(baseline, &report.scenarios));
    }
    let files = [&args.report_json, &args.junit, &args.markdown, &args.html];
    if let Err(code) = print_and_write(&report, args.color, args.quiet, files) {
        return code;
    }
    if let Some(path) = &args.write_baseline {
        let text = Baseline::from_results(
            &report.scenarios,
            format!("failures of {} (fill in a reason per entry)", report.client),
        )
        .to_json();
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return 2;
        }
    }
    if let Some(interrupted) = &report.interrupted {
        return signal_exit_code(&interrupted.signal);
    }
    report::baseline::exit_code(&report.scenarios, report.baseline.as_ref())
}

fn reference_adapter(args: &ReferenceAdapterArgs) -> i32 {
    let ids = Ids::only(args.ids.iter().copied());
    if args.capabilities {
        println!(
            "{}",
            serde_json::to_string(&reference_client::capabilities(ids)).unwrap_or_default()
        );
        return 0;
    }
    let behaviour = behaviour(&args.defects, &args.styles);
    // One instruction at a time: a single-threaded runtime spares the context switches of a
    // worker pool, which adds up when a persistent run keeps a process per job.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    match runtime.block_on(reference_client::serve_adapter(&behaviour, ids)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("reference adapter: {e}");
            1
        }
    }
}

fn behaviour(defects: &[Defect], styles: &[Style]) -> Behaviour {
    Behaviour {
        defects: defects.iter().copied().collect(),
        styles: styles.iter().copied().collect(),
    }
}

fn fuzz_command(args: FuzzArgs) -> i32 {
    if args.persistent && args.client.is_none() {
        eprintln!(
            "note: --persistent applies to --client adapters; the built-in client runs in process"
        );
    }
    let client = match &args.client {
        None if args.ids.is_empty() => Client::InProcess(behaviour(&args.defects, &args.styles)),
        None => Client::InProcessWithIds {
            defects: args.defects.iter().copied().collect(),
            ids: Ids::only(args.ids.iter().copied()),
        },
        Some(command) => Client::Adapter {
            command: command.clone(),
            persistent: args.persistent,
        },
    };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let jobs = args.jobs.unwrap_or(match client {
        Client::InProcess(_) | Client::InProcessWithIds { .. } => 16,
        // A delayed case holds its job for the whole delay while using no CPU, so the CPU
        // stays busy only with many jobs: 12 per core measured fastest (README, "Fuzzing").
        Client::Adapter { .. } => 12 * cores,
    });
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
    let run_config = RunConfig {
        client,
        jobs,
        time_limit_margin: Duration::from_millis(args.time_limit_margin_ms),
        keys: RunKeys::generate(),
        tls: args.tls,
    };
    // Written, not `println!`: a closed pipe (`| head`) must not panic the run.
    let _ = writeln!(
        std::io::stdout(),
        "fuzz: seed {seed}, up to {} cases against {} ({}), {jobs} at a time",
        args.cases,
        run_config.client.describe(),
        run_config.client.mode()
    );
    let runtime = runtime();
    let stop = Stop::new();
    let outcome = runtime.block_on(async {
        watch_signals(stop.clone());
        fuzz::fuzz_until(&config, &run_config, &stop).await
    });
    let run = match outcome {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let report = run.report(&run_config.client);
    let mut out = std::io::stdout().lock();
    if run.failure.is_none() {
        // A failure prints the whole report, header and ids included.
        let _ = writeln!(out, "ids: {}", report.id_set().describe());
    }
    match &run.failure {
        None if run.interrupted.is_some() => {
            let _ = writeln!(
                out,
                "INTERRUPTED ({}): {} cases passed ({} NON_STRICT), {} under way not run, of {} asked for; seed {seed}",
                run.interrupted.as_deref().unwrap_or_default(),
                run.cases_run,
                run.non_strict_count,
                run.not_run.len(),
                run.cases
            );
        }
        None => {
            let _ = writeln!(
                out,
                "PASS: {} cases ({} NON_STRICT) in {:.1} s, {:.0} cases/s; seed {seed}",
                run.cases_run,
                run.non_strict_count,
                run.cases_duration.as_secs_f64(),
                run.cases_per_second()
            );
            for f in &run.flaky {
                let _ = writeln!(
                    out,
                    "warning: {} ended {} among the other jobs but passed alone (flaky; a timeout under load?): {}",
                    f.id,
                    f.verdict,
                    f.failed_checks()
                        .map(|c| c.message.as_str())
                        .chain(f.reason.as_deref())
                        .collect::<Vec<_>>()
                        .join("; ")
                );
            }
        }
        Some(failure) => {
            let color = match args.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => out.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            };
            let _ = writeln!(
                out,
                "case {} of seed {seed} ended {}; shrunk in {} steps ({} runs) to:\n",
                failure.case,
                failure.original_result.verdict,
                failure.shrink_steps,
                failure.shrink_runs
            );
            let _ = out.write_all(report::terminal::render(&report, color).as_bytes());
            let _ = writeln!(out, "\nthe shrunk case, as a catalogue file:\n");
            let _ = out.write_all(run.scenario_file().unwrap_or_default().as_bytes());
            let mut replay = format!(
                "alipay-cancel-kit fuzz --seed {seed} --cases {}",
                failure.case
            );
            if let Some(command) = &args.client {
                replay.push_str(&format!(" --client '{}'", command.replace('\'', r"'\''")));
            }
            if args.persistent {
                replay.push_str(" --persistent");
            }
            for d in &args.defects {
                replay.push_str(&format!(" --defect {}", d.name()));
            }
            for s in &args.styles {
                replay.push_str(&format!(" --style {}", s.name()));
            }
            if args.timeout_ms != Timing::default().timeout_ms {
                replay.push_str(&format!(" --timeout-ms {}", args.timeout_ms));
            }
            let _ = writeln!(out, "\nreplay: {replay}");
        }
    }
    drop(out);
    if let Some(path) = &args.save_case {
        match run.scenario_file() {
            Some(file) => {
                if let Err(e) = std::fs::write(path, file) {
                    eprintln!("error: cannot write {}: {e}", path.display());
                    return 2;
                }
                println!(
                    "the shrunk case is saved in {0}: `alipay-cancel-kit run --catalogue {0} --catalogue-only ...` replays it",
                    path.display()
                );
            }
            None => println!("no case failed: nothing saved in {}", path.display()),
        }
    }
    let written = write_reports(
        &report,
        [
            (&args.report_json, report::json::to_string as Render),
            (&args.junit, report::junit::render),
            (&args.html, report::html::render),
        ],
    );
    if let Err(code) = written {
        return code;
    }
    if let Some(interrupted) = &report.interrupted {
        return signal_exit_code(&interrupted.signal);
    }
    report.exit_code()
}

fn merge_command(args: &MergeArgs) -> i32 {
    let mut reports = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        let file = path.display().to_string();
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {file}: {e}"))
            .and_then(|text| {
                serde_json::from_str::<report::RunReport>(&text).map_err(|e| {
                    format!("{file}: not a JSON report (schema/report.schema.json): {e}")
                })
            });
        match parsed {
            Ok(r) => reports.push((file, r)),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    let mut merged = match report::merge::merge(&reports) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if let Some(path) = &args.baseline {
        match Baseline::load(path) {
            Ok(b) => merged = merged.with_baseline(&b),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    let files = [&args.report_json, &args.junit, &args.markdown, &args.html];
    if let Err(code) = print_and_write(&merged, args.color, args.quiet, files) {
        return code;
    }
    merged.exit_code()
}

fn report_card_command(args: &ReportCardArgs) -> i32 {
    use alipay_cancel_kit::report::card;
    use alipay_cancel_kit::run::Column;
    let Ok(catalogue) = catalogue(&[]) else {
        return 2;
    };
    let mut columns = vec![Column {
        name: "reference client".to_owned(),
        client: Client::InProcess(Default::default()),
    }];
    for spec in &args.columns {
        let Some((name, command)) = spec.split_once('=') else {
            eprintln!("error: --column {spec:?}: expected NAME=COMMAND");
            return 2;
        };
        columns.push(Column {
            name: name.trim().to_owned(),
            client: Client::Adapter {
                command: command.to_owned(),
                persistent: false,
            },
        });
    }
    let template = RunConfig {
        client: Client::InProcess(Default::default()),
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        time_limit_margin: Duration::from_secs(5),
        keys: RunKeys::generate(),
        tls: args.tls,
    };
    let selected = catalogue.select(&[], &[]);
    let reports = match runtime().block_on(run::run_columns(&selected, &columns, &template)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    for (name, report) in &reports {
        let counts: Vec<String> = Verdict::ALL
            .iter()
            .map(|&v| format!("{} {v}", report.summary.count(v)))
            .collect();
        println!("{name}: {}", counts.join(", "));
    }
    let pairs: Vec<(&str, &report::RunReport)> =
        reports.iter().map(|(n, r)| (n.as_str(), r)).collect();
    if let Some(path) = &args.html {
        if let Err(e) = std::fs::write(path, report::html::render_columns(&pairs)) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return 2;
        }
    }
    let table = report::markdown_matrix(&pairs);
    let existing = match std::fs::read_to_string(&args.out) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", args.out.display());
            return 2;
        }
    };
    let text = match card::splice(&existing, &table) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}: {e}", args.out.display());
            return 2;
        }
    };
    if let Err(e) = std::fs::write(&args.out, text) {
        eprintln!("error: cannot write {}: {e}", args.out.display());
        return 2;
    }
    println!("report card written to {}", args.out.display());
    0
}

fn serve_command(args: ServeArgs) -> i32 {
    let Ok(catalogue) = catalogue(&args.catalogues) else {
        return 2;
    };
    let keys = match &args.keys {
        Some(dir) => match session::keys_from_dir(dir) {
            Ok(keys) => keys,
            Err(e) => {
                eprintln!("error: --keys: {e}");
                return 2;
            }
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
) -> i32 {
    let session = match started {
        Ok(session) => session,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let end = stand(name, session.ready(), session.stop_requested(), args).await;
    let outcome = (session.totals(), session.exit_code());
    finish(end, name, args, &session.report(), outcome)
}

/// How a `serve` or `proxy` session ended, or the exit code it ended with early.
type Ended = Result<session::Stop, i32>;

/// Writes the reports asked for, says how the session went, and gives its exit code.
fn finish(
    end: Ended,
    name: &str,
    args: &StandingArgs,
    report: &report::RunReport,
    (totals, checks): (Totals, i32),
) -> i32 {
    let stop = match end {
        Ok(stop) => stop,
        Err(code) => return code,
    };
    if let Err(code) = write_reports(
        report,
        [
            (&args.report_json, report::json::to_string as Render),
            (&args.junit, report::junit::render),
            (&args.markdown, report::markdown::render),
        ],
    ) {
        return code;
    }
    eprintln!(
        "{name}: stopped ({stop:?}): {} requests, {} broke a MUST check, {} only a SHOULD check",
        totals.requests, totals.must_failed, totals.should_failed
    );
    stop.exit_code(checks)
}

/// Announces a ready `serve` or `proxy` (the ready line on standard output and in
/// `--ready-file`), then runs until stopped.
async fn stand(
    name: &str,
    ready: &serde_json::Value,
    stopping: impl std::future::Future<Output = ()>,
    args: &StandingArgs,
) -> Ended {
    let line = ready.to_string();
    if let Some(path) = &args.ready_file {
        let partial = path.with_extension("partial");
        let written = std::fs::write(&partial, format!("{line}\n"))
            .and_then(|()| std::fs::rename(&partial, path));
        if let Err(e) = written {
            eprintln!("error: cannot write the ready file {}: {e}", path.display());
            return Err(2);
        }
    }
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    let url = ready["url"].as_str().unwrap_or_default();
    eprintln!("{name}: listening on {url} (stop with Ctrl-C or POST /__kit/shutdown)");
    session::run_until_stopped(ready, stopping, args.exec.as_deref())
        .await
        .map_err(|e| {
            eprintln!("error: {name} --exec: {e}");
            2
        })
}

fn proxy_command(args: ProxyArgs) -> i32 {
    use alipay_cancel_kit::proxy::{read_public_key, Proxy, ProxyConfig, Upstream};
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
        return 2;
    };
    let timeout = Duration::from_secs(args.upstream_timeout);
    let upstream = match Upstream::new(&args.upstream, args.upstream_ca.as_deref(), timeout) {
        Ok(upstream) => upstream,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
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
    };
    runtime().block_on(async move {
        run_session("proxy", Proxy::start(config).await, &args.standing).await
    })
}
