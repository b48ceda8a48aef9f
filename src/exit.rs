//! How the kit's commands end: the exit codes of `docs/contract.md`, "Exit codes", as a type.
//!
//! The library returns an [`Exit`]; only `main` turns it into a process's
//! [`std::process::ExitCode`], so no bare integer travels between the two.
//!
//! # Example
//! ```
//! use alipay_cancel_kit::exit::{Exit, Signal};
//! assert_eq!(Exit::Ok.code(), 0);
//! assert_eq!(Exit::from_failures(true), Exit::Failures);
//! assert_eq!(Exit::Interrupted(Signal::Interrupt).code(), 130);
//! let _for_the_process: std::process::ExitCode = Exit::Usage.into();
//! ```

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: nothing failed (or every failure is listed in the baseline, none stale).
    Ok,
    /// 1: a scenario ended `FAIL` or `ERROR` unlisted, a baseline entry is stale, a request
    /// broke a MUST check (`serve`, `proxy`), or a body is invalid (`validate`).
    Failures,
    /// 2: a usage error, unreadable input, a report that cannot be written, or an adapter
    /// command that cannot be started at all.
    Usage,
    /// 130 or 143: a signal interrupted the run; the reports were written.
    Interrupted(Signal),
    /// 1..=125: the `--exec` command of `serve` or `proxy` failed with this code.
    Command(u8),
    /// 101: `reference-adapter` crashed on purpose (a crash defect), as a panicking Rust
    /// program exits, so the kit sees an adapter die without an outcome.
    Crashed,
}

/// A signal that stops a run in order (`docs/contract.md`, "Interrupted runs"). Typed from
/// the handler that hears it ([`crate::signals::Signals`]) to the report, which names it
/// (`SIGINT`, `SIGTERM`), and the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    #[serde(rename = "SIGINT")]
    Interrupt,
    /// SIGTERM (a cancelled CI job).
    #[serde(rename = "SIGTERM")]
    Terminate,
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Signal {
    /// The signal's name, as reports give it: `SIGINT`, `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// The signal's number (2, 15).
    pub fn number(self) -> u8 {
        match self {
            Signal::Interrupt => 2,
            Signal::Terminate => 15,
        }
    }
}

impl Exit {
    /// [`Exit::Failures`] when `failed`, else [`Exit::Ok`].
    pub fn from_failures(failed: bool) -> Exit {
        if failed {
            Exit::Failures
        } else {
            Exit::Ok
        }
    }

    /// The process's exit code: 128 + the signal's number after a signal, as shells report
    /// a process the signal ended.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failures => 1,
            Exit::Usage => 2,
            Exit::Interrupted(signal) => 128 + signal.number(),
            Exit::Command(code) => code.clamp(1, 125),
            Exit::Crashed => 101,
        }
    }

    /// Whether the command succeeded.
    pub fn is_ok(self) -> bool {
        self == Exit::Ok
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> std::process::ExitCode {
        std::process::ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codes_are_the_contracts() {
        let table = [
            (Exit::Ok, 0),
            (Exit::Failures, 1),
            (Exit::Usage, 2),
            (Exit::Interrupted(Signal::Interrupt), 130),
            (Exit::Interrupted(Signal::Terminate), 143),
            (Exit::Command(7), 7),
            (Exit::Command(0), 1),
            (Exit::Command(200), 125),
            (Exit::Crashed, 101),
        ];
        for (exit, code) in table {
            assert_eq!(exit.code(), code, "{exit:?}");
        }
    }

    #[test]
    fn a_signal_is_named_in_the_report_as_it_prints() {
        for (signal, name) in [
            (Signal::Interrupt, "SIGINT"),
            (Signal::Terminate, "SIGTERM"),
        ] {
            assert_eq!(signal.to_string(), name);
            let json = serde_json::to_string(&signal).unwrap();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<Signal>(&json).unwrap(), signal);
        }
        assert!(serde_json::from_str::<Signal>("\"SIGHUP\"").is_err());
    }

    #[test]
    fn failures_fail_and_nothing_else_does() {
        assert_eq!(Exit::from_failures(false), Exit::Ok);
        assert_eq!(Exit::from_failures(true), Exit::Failures);
        assert!(Exit::Ok.is_ok());
        assert!(!Exit::Failures.is_ok());
    }
}
