//! Why a standing session ended, and the exit code that follows from it.

use std::os::unix::process::ExitStatusExt as _;
use std::process::ExitStatus;

use crate::exit::{Exit, Signal};

/// Why the session ended.
#[derive(Debug)]
pub enum Ending {
    /// SIGINT or SIGTERM.
    Signal(Signal),
    /// `POST /__kit/shutdown`.
    Shutdown,
    /// The `--exec` command ended.
    Exec(ExitStatus),
}

impl std::fmt::Display for Ending {
    /// What the stop line says: `SIGTERM`, `POST /__kit/shutdown`, `the command exited 1`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ending::Signal(signal) => f.write_str(signal.name()),
            Ending::Shutdown => f.write_str("POST /__kit/shutdown"),
            Ending::Exec(status) => match (status.code(), status.signal()) {
                (Some(code), _) => write!(f, "the command exited {code}"),
                (None, Some(signal)) => write!(f, "the command was killed by signal {signal}"),
                (None, None) => f.write_str("the command ended"),
            },
        }
    }
}

impl Ending {
    /// The exit code of the session: the command's failure first, then `checks` (failures
    /// when a request broke a MUST check).
    pub fn exit_code(&self, checks: Exit) -> Exit {
        match self {
            Ending::Exec(status) if !status.success() => {
                let code = status.code().unwrap_or(1).clamp(1, 125);
                Exit::Command(u8::try_from(code).unwrap_or(1))
            }
            _ => checks,
        }
    }
}
