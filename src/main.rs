//! The `alipay-cancel-kit` command line: thin; the work is in the library.

use std::io::{self, BufWriter};
use std::process::ExitCode;

use alipay_cancel_kit::validate::{self, ValidateArgs};
use clap::{Parser, Subcommand};

/// Spec as code and conformance kit for Alipay's (Antom's) payment cancel API.
#[derive(Parser)]
#[command(name = "alipay-cancel-kit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check cancel request and response bodies (files, `-`, NDJSON, captured traffic).
    Validate(ValidateArgs),
}

fn main() -> ExitCode {
    // clap prints usage errors and exits with status 2.
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Validate(args) => {
            let mut out = BufWriter::new(io::stdout().lock());
            validate::run(&args, &mut out, &mut io::stderr().lock())
        }
    };
    ExitCode::from(u8::try_from(status).unwrap_or(2))
}
