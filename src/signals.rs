//! SIGINT and SIGTERM, as the commands hear them: a run or fuzz stops in order and writes its
//! reports (`docs/contract.md`, "Interrupted runs"); a standing session ends and judges what
//! it saw. One place installs the handlers and names what arrived as a [`Signal`], so the
//! name travels typed from the handler to the report and the exit code.

use tokio::signal::unix::{signal, SignalKind};

pub use crate::exit::Signal;

/// The handlers for SIGINT and SIGTERM, installed. From the moment this exists, neither
/// signal ends the process by default: each arrives here instead.
#[derive(Debug)]
pub struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs both handlers. Call inside the runtime.
    ///
    /// # Errors
    /// When a handler cannot be installed.
    pub fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// The next signal to arrive.
    pub async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.interrupt.recv() => Signal::Interrupt,
            _ = self.terminate.recv() => Signal::Terminate,
        }
    }
}

/// Takes over SIGINT and SIGTERM for a run or fuzz (`docs/contract.md`, "Interrupted runs").
/// The first kills every adapter's process group and asks `stop` to end the run, which then
/// writes its reports; a second exits at once. Call inside the runtime: the handlers are
/// installed before this returns, so no signal falls between.
pub fn stop_runs_on_signals(stop: crate::harness::Stop) {
    let Ok(mut signals) = Signals::install() else {
        eprintln!("warning: cannot watch SIGINT and SIGTERM; an interrupted run writes no report");
        return;
    };
    tokio::spawn(async move {
        loop {
            let signal = signals.next().await;
            let name = signal.name();
            // The stop first, then the kill: a scenario about to start sees the stop and
            // starts no adapter the kill would miss.
            let first = stop.request(name);
            crate::adapter::kill_every_group();
            if !first {
                eprintln!("{name} again: exiting now, without the reports");
                std::process::exit(i32::from(crate::exit::Exit::Interrupted(signal).code()));
            }
            eprintln!(
                "\n{name}: stopping; adapters killed, writing the reports (a second signal exits at once)"
            );
        }
    });
}
