//! A standing session: one server that runs until it is stopped, while a test suite or live
//! traffic drives it. [`serve`](crate::serve) is the signing mock gateway an SDK's own tests
//! call; [`proxy`](crate::proxy) checks the traffic between a client and any gateway. What
//! they share lives here, each in its room:
//!
//! - [`listen`]: where it listens (plain, or behind a TLS front), and why it could not start;
//! - [`ready`]: the ready line, printed, written to `--ready-file`, and handed to `--exec`;
//! - [`exec`]: running until a signal, `POST /__kit/shutdown`, or the end of `--exec`;
//! - [`ending`]: why the session ended, and its exit code;
//! - [`journal`]: what is kept of every exchange, and the `--journal` traffic line;
//! - [`violations`]: the failed checks sent back in `x-kit-violations`;
//! - [`command`]: the command-line options both share, and the session from its ready
//!   line to its reports.
//!
//! Each request is checked by the contract's request checks (`docs/contract.md`), the same
//! as `run` checks them; the session as a whole is judged when it stops (the reports, the
//! exit code).

pub mod command;
pub mod ending;
pub mod exec;
pub mod journal;
pub mod listen;
pub mod ready;
pub mod violations;

pub use ending::Ending;
pub use journal::{JournalRequest, Totals, TrafficLine};
pub use listen::{ListenError, TlsSetting};
pub use ready::{Ready, ReadyError};
pub use violations::{violations_header, VIOLATIONS_HEADER, VIOLATIONS_HEADER_BYTES};

use crate::exit::Exit;

/// A standing server, `serve` or `proxy`, as a session sees it: its ready line, its stop
/// signal, what it counted and what it reports.
pub trait Session {
    /// The ready line.
    fn ready(&self) -> &Ready;

    /// Counts over every request since the start.
    fn totals(&self) -> Totals;

    /// The session as a report: one test case per exchange the journal keeps.
    fn report(&self) -> crate::report::RunReport;

    /// What `POST /__kit/shutdown` notifies.
    fn stop_signal(&self) -> &tokio::sync::Notify;

    /// The base URL clients call.
    fn url(&self) -> &str {
        &self.ready().url
    }

    /// Resolves when a client asks the server to stop (`POST /__kit/shutdown`).
    fn stop_requested(&self) -> impl std::future::Future<Output = ()> + '_ {
        self.stop_signal().notified()
    }

    /// Why the session as a whole failed, beyond any request's checks (`proxy`: the upstream
    /// answered none of the requests); `None` for most sessions.
    fn failure(&self) -> Option<String> {
        None
    }

    /// [`Exit::Failures`] when any request since the start broke a MUST check (in either
    /// direction, for `proxy`) or the session failed as a whole ([`Session::failure`]), else
    /// [`Exit::Ok`].
    fn exit_code(&self) -> Exit {
        Exit::from_failures(self.totals().must_failed > 0 || self.failure().is_some())
    }
}
