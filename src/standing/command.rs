//! What `serve` and `proxy` share on the command line, and a session from its ready line to
//! its reports and exit code.

use std::io::Write as _;
use std::path::PathBuf;

use super::{Ending, ListenError, Session, Totals};
use crate::exit::Exit;
use crate::report::{ReportFiles, RunReport};

/// The options `serve` and `proxy` share: the readiness handshake, the journal, the
/// session's end, the reports, and who may use `/__kit/`.
#[derive(clap::Args, Clone, Debug)]
#[command(
    mut_arg("report_json", |a| a
        .help("When the session stops, write the JSON report (one test case per request) to FILE")),
    mut_arg("junit", |a| a.help("When the session stops, write a JUnit XML report to FILE")),
    mut_arg("markdown", |a| a.help("When the session stops, write a markdown report to FILE")),
    mut_arg("html", |a| a
        .help("When the session stops, write a self-contained HTML report to FILE")),
)]
pub struct StandingArgs {
    /// Also write the ready line to FILE (atomically) once connections are accepted.
    #[arg(long, value_name = "FILE")]
    pub ready_file: Option<PathBuf>,
    /// Do not send failed checks back in the x-kit-violations header.
    #[arg(long)]
    pub no_violations_header: bool,
    /// Append every exchange to FILE as a captured-traffic NDJSON line (`validate` reads it).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// Run COMMAND (sh -c) with the ready line in its environment; stop when it ends.
    #[arg(long, value_name = "COMMAND")]
    pub exec: Option<String>,
    /// The report files written when the session stops.
    #[command(flatten)]
    pub reports: ReportFiles,
    /// Require TOKEN (`authorization: Bearer TOKEN` or `x-kit-admin-token`) on every /__kit/
    /// call but GET /__kit/health. Needed with a --host other than loopback.
    #[arg(long, value_name = "TOKEN")]
    pub admin_token: Option<String>,
    /// With a --host other than loopback, leave /__kit/ open to anyone who can reach it.
    #[arg(long, conflicts_with = "admin_token")]
    pub insecure_admin: bool,
}

impl StandingArgs {
    /// The admin token, after the rule for a `--host` off loopback: a warning, and a token or
    /// an explicit `--insecure-admin`.
    ///
    /// # Errors
    /// [`Exit::Usage`] (said on standard error) for an empty token, or a host off loopback
    /// with neither a token nor `--insecure-admin`.
    pub fn admin_token(&self, name: &str, host: std::net::IpAddr) -> Result<Option<String>, Exit> {
        if self.admin_token.as_deref() == Some("") {
            eprintln!("error: --admin-token: expected a token, found an empty string");
            return Err(Exit::Usage);
        }
        if host.is_loopback() {
            return Ok(self.admin_token.clone());
        }
        eprintln!(
            "{name}: warning: --host {host} reaches beyond this machine: anyone who can connect gets test keys and answers"
        );
        if self.admin_token.is_none() && !self.insecure_admin {
            eprintln!(
                "error: --host {host}: /__kit/ (the journal with every signature, arm, shutdown) would be open to anyone; give --admin-token TOKEN, or --insecure-admin to leave it open"
            );
            return Err(Exit::Usage);
        }
        if self.insecure_admin {
            eprintln!(
                "{name}: warning: --insecure-admin: /__kit/ is open to anyone who can connect"
            );
        }
        Ok(self.admin_token.clone())
    }
}

/// Runs a started `serve` or `proxy` (`name`) from its ready line to its reports, and gives
/// its exit code. Says on standard error what it does; a session that cannot go on ends with
/// the usage exit (2), saying why.
pub async fn run_session<S: Session>(
    name: &str,
    started: Result<S, ListenError>,
    args: &StandingArgs,
) -> Exit {
    let session = match started {
        Ok(session) => session,
        Err(e) => return fail(e),
    };
    let ending = match stand(name, &session, args).await {
        Ok(ending) => ending,
        Err(exit) => return exit,
    };
    let verdict = (session.totals(), session.exit_code(), session.failure());
    finish(ending, name, args, &session.report(), verdict)
}

/// Says what went wrong; the session cannot go on.
fn fail(e: impl std::fmt::Display) -> Exit {
    eprintln!("error: {e}");
    Exit::Usage
}

/// Announces a ready session (the ready line on standard output and in `--ready-file`; with
/// `--exec`, only in the file and the command's environment, so it stays out of the
/// command's output), then runs until stopped.
async fn stand<S: Session>(name: &str, session: &S, args: &StandingArgs) -> Result<Ending, Exit> {
    let ready = session.ready();
    if let Some(path) = &args.ready_file {
        if let Err(e) = ready.write_file(path) {
            return Err(fail(format!(
                "cannot write the ready file {}: {e}",
                path.display()
            )));
        }
    }
    let url = &ready.url;
    if args.exec.is_none() {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", ready.to_line());
        let _ = out.flush();
        eprintln!("{name}: listening on {url} (stop with Ctrl-C or POST /__kit/shutdown)");
    } else {
        eprintln!(
            "{name}: listening on {url}; the ready line is in the command's environment (ALIPAY_KIT_READY){}",
            if args.ready_file.is_some() { " and --ready-file" } else { "" }
        );
    }
    super::exec::run_until_stopped(ready, session.stop_requested(), args.exec.as_deref())
        .await
        .map_err(|e| fail(format!("{name} --exec: {e}")))
}

/// Writes the reports asked for, says how the session went, and gives its exit code.
fn finish(
    ending: Ending,
    name: &str,
    args: &StandingArgs,
    report: &RunReport,
    (totals, checks, failure): (Totals, Exit, Option<String>),
) -> Exit {
    if let Err(e) = args.reports.write(report) {
        return fail(e);
    }
    eprintln!(
        "{name}: stopped ({ending}): {} requests, {} broke a MUST check, {} only a SHOULD check",
        totals.requests, totals.must_failed, totals.should_failed
    );
    if let Some(why) = failure {
        eprintln!("{name}: failed: {why}");
    }
    ending.exit_code(checks)
}
