//! The `alipay-cancel-kit` command line: parses the arguments and hands each command to its
//! room under `cli/`; every command is a library call.

mod cli;

use std::process::ExitCode;

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
    Run(cli::run::RunArgs),
    /// List the scenarios of the catalogue.
    Scenarios(cli::run::ScenariosArgs),
    /// Check cancel request and response bodies (files, `-`, NDJSON, captured traffic).
    Validate(validate::ValidateArgs),
    /// Serve the built-in reference client through the adapter protocol (stdin/stdout).
    ReferenceAdapter(cli::reference::ReferenceAdapterArgs),
    /// Run the catalogue against the reference client and other clients, and write their
    /// verdicts side by side (markdown) into a document, between the report card markers.
    ReportCard(cli::report::ReportCardArgs),
    /// Check a client against generated cases; shrink the first failing one (README, "Fuzzing").
    Fuzz(cli::fuzz::FuzzArgs),
    /// Work with JSON reports: `report merge` puts the reports of a sharded run together.
    Report(cli::report::ReportArgs),
    /// Run one standing, signing mock gateway that an SDK's own tests call (docs/serve.md).
    Serve(cli::serve::ServeArgs),
    /// Forward to a gateway (the vendor's sandbox, or serve), checking both directions
    /// (docs/proxy.md).
    Proxy(cli::proxy::ProxyArgs),
    /// Ask a standing serve or proxy whether it is up (GET /__kit/health): exit 0 when it
    /// answers ok, 1 when not (a container's HEALTHCHECK, a CI wait loop).
    Health(cli::serve::HealthArgs),
}

fn main() -> ExitCode {
    let exit = match Cli::parse().command {
        Command::Run(args) => cli::run::run_command(args),
        Command::Scenarios(args) => cli::run::scenarios_command(&args),
        Command::Health(args) => cli::serve::health_command(&args),
        Command::Validate(args) => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            validate::run(&args, &mut out, &mut std::io::stderr().lock())
        }
        Command::ReferenceAdapter(args) => cli::reference::reference_adapter(&args),
        Command::ReportCard(args) => cli::report::report_card_command(&args),
        Command::Fuzz(args) => cli::fuzz::fuzz_command(args),
        Command::Report(args) => cli::report::report_command(&args),
        Command::Serve(args) => cli::serve::serve_command(args),
        Command::Proxy(args) => cli::proxy::proxy_command(args),
    };
    exit.into()
}
