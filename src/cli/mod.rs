//! The commands, one room each: the options a command takes (clap) and the library calls it
//! makes; `main.rs` parses and hands each command here. What they share is below: the
//! runtime, how an error ends a command, writing to standard output, and the catalogue.

pub(crate) mod fuzz;
pub(crate) mod proxy;
pub(crate) mod reference;
pub(crate) mod report;
pub(crate) mod run;
pub(crate) mod serve;

use std::io::Write as _;
use std::path::PathBuf;

use alipay_cancel_kit::exit::Exit;
use alipay_cancel_kit::scenario::Catalogue;

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts")
}

/// Says what went wrong; a command that cannot go on ends with the usage exit (2).
pub(crate) fn fail(e: impl std::fmt::Display) -> Exit {
    eprintln!("error: {e}");
    Exit::Usage
}

/// Writes to standard output, not `print!`: a closed pipe (`| head`) must not panic the run.
pub(crate) fn print(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// The embedded catalogue, extended with the `--catalogue` files.
pub(crate) fn catalogue(files: &[PathBuf]) -> Result<Catalogue, Exit> {
    if files.is_empty() {
        return Catalogue::embedded()
            .map_err(|e| fail(format!("the scenario catalogue is broken: {e}")));
    }
    Catalogue::with_files(files).map_err(fail)
}
