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
