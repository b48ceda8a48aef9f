//! `fuzz`: generated cases against a client, the first failure shrunk.

use std::path::PathBuf;

use alipay_cancel_kit::exit::Exit;
use alipay_cancel_kit::fuzz::{self, FuzzConfig, Replay, Timing};
use alipay_cancel_kit::harness::HarnessArgs;
use alipay_cancel_kit::reference_client::{Defect, Style};
use alipay_cancel_kit::report::{self, terminal};
use alipay_cancel_kit::run::Stop;

use super::reference::behaviour;
use super::{fail, print, runtime};

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
    // A fuzz run's markdown would hold one case; the shrunk case reads best in the HTML page
    // and the terminal, so the option stays out of fuzz's help (it still writes one).
    mut_arg("markdown", |a| a.hide(true)),
    mut_arg("time_limit_margin_ms", |a| a
        .help("Milliseconds added to `timeoutMs × 5` for a case's hard time limit")
        .display_order(15)),
    mut_arg("color", |a| a.display_order(16)),
)]
pub(crate) struct FuzzArgs {
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

pub(crate) fn fuzz_command(args: FuzzArgs) -> Exit {
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
        alipay_cancel_kit::harness::stop_on_signals(stop.clone());
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
    if let Err(e) = harness.reports.write(&report) {
        return fail(e);
    }
    report.exit()
}
