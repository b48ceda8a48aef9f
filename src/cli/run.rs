//! `run` (the catalogue against a client) and `scenarios` (the catalogue listed).

use std::io::Write as _;
use std::path::PathBuf;

use alipay_cancel_kit::exit::Exit;
use alipay_cancel_kit::harness::{cores, HarnessArgs};
use alipay_cancel_kit::reference_client::Behaviour;
use alipay_cancel_kit::report::terminal;
use alipay_cancel_kit::run::{self, Plan, Stop};
use alipay_cancel_kit::shard::Shard;

use super::{catalogue, fail, print, runtime};

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
    mut_arg("markdown", |a| a.display_order(11)),
    mut_arg("html", |a| a.display_order(12)),
    mut_arg("tls", |a| a.display_order(15)),
    mut_arg("time_limit_margin_ms", |a| a.display_order(16)),
    mut_arg("color", |a| a.display_order(17)),
)]
pub(crate) struct RunArgs {
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
    /// Known failures, each with a reason: listed failures do not fail the run; stale entries do.
    #[arg(long, value_name = "FILE", display_order = 13)]
    baseline: Option<PathBuf>,
    /// Write this run's failures as a baseline to FILE (reasons to be filled in).
    #[arg(long, value_name = "FILE", display_order = 14)]
    write_baseline: Option<PathBuf>,
    /// Print only what is not PASS, and the totals.
    #[arg(long, short = 'q', display_order = 18)]
    quiet: bool,
}

#[derive(clap::Args)]
pub(crate) struct ScenariosArgs {
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

pub(crate) fn run_command(args: RunArgs) -> Exit {
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
        alipay_cancel_kit::harness::stop_on_signals(stop.clone());
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
    if let Err(e) = harness.reports.write(&report) {
        return fail(e);
    }
    if let Some(path) = &args.write_baseline {
        if let Err(e) = run::write_baseline(&report, path) {
            return fail(e);
        }
    }
    report.exit()
}

pub(crate) fn scenarios_command(args: &ScenariosArgs) -> Exit {
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
