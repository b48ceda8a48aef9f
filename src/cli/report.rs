//! `report merge` (the shards of a run as one) and `report-card` (several clients side by
//! side).

use std::path::PathBuf;

use alipay_cancel_kit::exit::Exit;
use alipay_cancel_kit::harness::cores;
use alipay_cancel_kit::report::terminal::{self, Color};
use alipay_cancel_kit::report::{self, baseline::Baseline, card, ReportFiles};
use alipay_cancel_kit::run::{self, Column};
use clap::Subcommand;

use super::{catalogue, fail, print, runtime};

#[derive(clap::Args)]
pub(crate) struct ReportArgs {
    #[command(subcommand)]
    command: ReportCommand,
}

#[derive(Subcommand)]
pub(crate) enum ReportCommand {
    /// Merge the JSON reports of `run --shard K/N` into the whole run's report, and exit as
    /// the whole run would have.
    Merge(MergeArgs),
}

#[derive(clap::Args)]
#[command(mut_arg("report_json", |a| a.help("Write the merged JSON report to FILE")))]
pub(crate) struct MergeArgs {
    /// The shard reports (`run --shard K/N --report-json FILE`), every shard once.
    #[arg(required = true, value_name = "REPORT")]
    reports: Vec<PathBuf>,
    /// Apply this baseline to the merged run (instead of combining the shards' own).
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// The report files to write.
    #[command(flatten)]
    files: ReportFiles,
    /// Colour on the terminal.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Print only what is not PASS, and the totals.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(clap::Args)]
pub(crate) struct ReportCardArgs {
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

pub(crate) fn report_command(args: &ReportArgs) -> Exit {
    match &args.command {
        ReportCommand::Merge(args) => merge_command(args),
    }
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
    if let Err(e) = args.files.write(&merged) {
        return fail(e);
    }
    merged.exit()
}

pub(crate) fn report_card_command(args: &ReportCardArgs) -> Exit {
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
