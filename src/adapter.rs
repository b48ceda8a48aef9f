//! Running a client through the adapter protocol: exec and persistent mode, the
//! `--capabilities` probe, a hard time limit that kills the adapter's whole process group,
//! standard error captured, and every outcome checked against the published outcome schema.
//!
//! The adapter command is run by `sh -c`, so it may be any shell command line (`cd dir &&
//! python3 adapter.py`, environment assignments, pipes). Extra arguments such as
//! `--capabilities` are appended as `"$@"`, that is to the command's last simple command.

use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::protocol::{Outcome, OutcomeError};
use crate::schema::Schema;

/// How much of an adapter's standard error a report keeps per scenario (the tail).
pub const STDERR_KEEP: usize = 4096;

/// How long the `--capabilities` probe may take.
pub const PROBE_LIMIT: Duration = Duration::from_secs(15);

/// The longest outcome line read; anything longer is a broken adapter.
const MAX_LINE: usize = 1024 * 1024;

/// What an adapter run produced for one scenario.
#[derive(Debug, Clone)]
pub struct AdapterRun {
    /// The outcome, or why the adapter broke the protocol.
    pub outcome: Result<Outcome, AdapterFault>,
    /// The outcome line as printed, when it was JSON.
    pub printed: Option<Value>,
    /// The tail of standard error.
    pub stderr: String,
    /// Time from the instruction written to the outcome read.
    pub elapsed: Duration,
}

/// How an adapter broke the protocol; the scenario is `ERROR` with this reason.
///
/// `Display` gives the reason as reports print it (`reason` in the JSON report).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AdapterFault {
    /// The adapter process could not be spawned.
    Spawn(Arc<std::io::Error>),
    /// The adapter ran past the hard time limit; its process group was killed.
    TimedOut {
        /// The hard time limit.
        limit: Duration,
    },
    /// The built-in client, run in process, ran past the hard time limit.
    ClientTimedOut {
        /// The hard time limit.
        limit: Duration,
    },
    /// The built-in client, run in process, crashed (a deliberate defect).
    Crashed(String),
    /// Reading the exec adapter's output failed.
    Read(Arc<std::io::Error>),
    /// Writing to or reading from a persistent adapter failed.
    Pipes(Arc<std::io::Error>),
    /// The outcome line is longer than the protocol's 1 MiB.
    LineTooLong,
    /// The exec adapter exited without printing an outcome.
    NoOutcome(ExitStatus),
    /// The persistent adapter exited (with this status, when known) or closed its standard
    /// output before printing an outcome.
    EndedEarly(Option<ExitStatus>),
    /// The exec adapter printed an outcome but exited non-zero.
    ExitedAfterOutcome(ExitStatus),
    /// The exec adapter printed more than one line.
    ManyLines {
        /// How many non-empty lines.
        count: usize,
        /// The first of them.
        first: String,
    },
    /// The outcome line is not JSON.
    NotJson {
        /// The parser's complaint.
        error: Arc<serde_json::Error>,
        /// The line as printed.
        line: String,
    },
    /// The outcome is JSON but breaks `schema/adapter-outcome.schema.json`.
    Schema(Vec<String>),
    /// The outcome passes the schema but its typed reading refuses it.
    Unreadable(OutcomeError),
    /// In persistent mode, a line was waiting on standard output before the instruction was
    /// sent: it cannot answer it (no request had reached the gateway), so an earlier scenario
    /// got two lines. It is set aside, and the scenario's own outcome read after it, so the
    /// scenarios after this one are in step again.
    StrayLine {
        /// The line that arrived early.
        line: String,
    },
}

impl std::fmt::Display for AdapterFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdapterFault::Spawn(e) => write!(f, "cannot start the adapter: {e}"),
            AdapterFault::TimedOut { limit } => write!(
                f,
                "the adapter ran past the hard time limit of {} ms and was killed with its process group",
                limit.as_millis()
            ),
            AdapterFault::ClientTimedOut { limit } => write!(
                f,
                "the client ran past the hard time limit of {} ms",
                limit.as_millis()
            ),
            AdapterFault::Crashed(why) => write!(f, "the client crashed: {why}"),
            AdapterFault::Read(e) => write!(f, "reading the adapter failed: {e}"),
            AdapterFault::Pipes(e) => write!(f, "the adapter's pipes failed: {e}"),
            AdapterFault::LineTooLong => write!(
                f,
                "the outcome line is longer than {MAX_LINE} bytes (1 MiB), the protocol's limit; the adapter was killed with its process group"
            ),
            AdapterFault::NoOutcome(status) => {
                write!(f, "the adapter printed no outcome and exited with {status}")
            }
            AdapterFault::EndedEarly(Some(status)) => {
                write!(f, "the adapter exited with {status} before printing an outcome")
            }
            AdapterFault::EndedEarly(None) => {
                f.write_str("the adapter closed its standard output before printing an outcome")
            }
            AdapterFault::ExitedAfterOutcome(status) => {
                write!(f, "the adapter printed an outcome but exited with {status}")
            }
            AdapterFault::ManyLines { count, first } => write!(
                f,
                "the adapter printed {count} lines on standard output; the protocol allows one outcome line (first: {:?})",
                truncate(first, 200)
            ),
            AdapterFault::NotJson { error, line } => write!(
                f,
                "the outcome line is not JSON ({error}): {:?}",
                truncate(line, 200)
            ),
            AdapterFault::StrayLine { line } => write!(
                f,
                "a line arrived on standard output before this scenario's instruction was sent, so before any request: {:?}. In persistent mode every line is an outcome: the adapter may be logging to standard output (log to standard error); an earlier scenario got two lines. The line was set aside and this scenario's own outcome read after it",
                truncate(line.trim_end(), 200)
            ),
            AdapterFault::Schema(violations) => write!(
                f,
                "the outcome breaks schema/adapter-outcome.schema.json: {}",
                violations.join("; ")
            ),
            AdapterFault::Unreadable(e) => write!(f, "the outcome cannot be read: {e}"),
        }
    }
}

impl std::error::Error for AdapterFault {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AdapterFault::Spawn(e) | AdapterFault::Read(e) | AdapterFault::Pipes(e) => Some(&**e),
            AdapterFault::NotJson { error, .. } => Some(&**error),
            AdapterFault::Unreadable(e) => Some(e),
            _ => None,
        }
    }
}

/// The adapter command could not be started at all (exit code 2 of a run).
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// `sh` itself could not be spawned to run the adapter.
    Shell(std::io::Error),
    /// `sh` reports the command not found (127) or not executable (126).
    Command {
        /// The adapter command.
        command: String,
        /// What `sh` said on standard error.
        stderr: String,
    },
    /// The client declares neither `payment-id` nor `payment-request-id`, so no instruction
    /// names only ids it can send (`fuzz`).
    NoUsableId(crate::capability::Ids),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Shell(e) => write!(f, "cannot start `sh` to run the adapter: {e}"),
            StartError::Command { command, stderr } => write!(
                f,
                "the adapter command `{command}` cannot be started: {}",
                stderr.trim()
            ),
            StartError::NoUsableId(ids) => write!(
                f,
                "the adapter declares neither `payment-id` nor `payment-request-id` (only {}): no valid instruction names only the ids it can send",
                ids.describe()
            ),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::Shell(e) => Some(e),
            _ => None,
        }
    }
}

/// What the `--capabilities` probe found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// The capabilities declared.
    pub list: Vec<String>,
    /// Why none were taken, when the probe failed (the report says so).
    pub note: Option<String>,
}

impl Capabilities {
    /// Whether the adapter has this capability: declared it or, for an id capability, declared
    /// no id at all (and so is taken to support all three).
    pub fn has(&self, name: &str) -> bool {
        match crate::capability::IdKind::of_capability(name) {
            Some(kind) => self.ids().contains(kind),
            None => self.list.iter().any(|c| c == name),
        }
    }

    /// The ids the client can send: those it declared, or all three when it declared none.
    pub fn ids(&self) -> crate::capability::Ids {
        crate::capability::Ids::from_capabilities(&self.list)
    }
}

fn shell(command: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("{command} \"$@\""))
        .arg("alipay-cancel-kit-adapter")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a time limit kills the adapter and everything it started.
        .process_group(0)
        .kill_on_drop(true);
    cmd
}

/// An adapter's process group, killed (SIGKILL) when this guard is dropped or
/// [`kill_every_group`] is called, whichever comes first.
///
/// Holds the pid recorded at spawn: tokio forgets a child's pid once it has been waited on,
/// and the group must be killed after a clean exit too, for whatever the adapter left behind.
/// Being a guard, it also kills the group when the task running the scenario is dropped
/// mid-way, as an interrupted run does (`docs/contract.md`, "Interrupted runs"). The group id
/// cannot be reused while the group has members, so this never hits a stranger.
struct ProcessGroup(Option<i32>);

/// The process groups of every adapter alive, so an interrupted run can kill them all at once.
static LIVE_GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

impl ProcessGroup {
    fn new(pid: Option<u32>) -> ProcessGroup {
        let pgid = pid.and_then(|p| i32::try_from(p).ok()).filter(|p| *p > 0);
        if let Some(pgid) = pgid {
            LIVE_GROUPS
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(pgid);
        }
        ProcessGroup(pgid)
    }

    /// Kills the group now (once).
    fn kill(&mut self) {
        if let Some(pgid) = self.0.take() {
            signal_group(pgid, libc::SIGKILL);
            LIVE_GROUPS
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|g| *g != pgid);
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Kills the process group of every adapter still alive (exec, persistent or probe), with
/// everything they started. For an interrupted run: the groups are killed at once, before
/// the tasks that own them have wound down.
pub fn kill_every_group() {
    let groups = std::mem::take(&mut *LIVE_GROUPS.lock().unwrap_or_else(|p| p.into_inner()));
    for pgid in groups {
        signal_group(pgid, libc::SIGKILL);
    }
}

/// Sends `signal` to the process group led by `pid` (a child spawned with `process_group(0)`).
pub(crate) fn signal_child_group(pid: Option<u32>, signal: i32) {
    if let Some(pgid) = pid.and_then(|p| i32::try_from(p).ok()).filter(|p| *p > 0) {
        signal_group(pgid, signal);
    }
}

/// Sends `signal` to the process group `pgid`.
#[allow(unsafe_code)]
fn signal_group(pgid: i32, signal: i32) {
    // SAFETY: kill(2) with a negative pid signals a process group; it has no memory effects
    // on this process, and the group is the one `process_group(0)` created for the child.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

/// Runs `command --capabilities` and reads the JSON array of strings it prints.
///
/// # Errors
/// When the command cannot be started at all: `sh` reports it not found (127) or not
/// executable (126). Any other failure is not an error: it means no capabilities, and the
/// note says why.
pub async fn probe_capabilities(command: &str) -> Result<Capabilities, StartError> {
    let mut child = shell(command, &["--capabilities"])
        .spawn()
        .map_err(StartError::Shell)?;
    let mut group = ProcessGroup::new(child.id());
    drop(child.stdin.take());
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let work = async {
        let mut out = Vec::new();
        let mut err = Vec::new();
        // Bounded: standard output up to the outcome line's limit (the group is killed
        // there, which ends the other read too), standard error only its tail.
        let (a, b) = tokio::join!(
            read_bounded(&mut stdout, &mut out, MAX_LINE, group.0),
            read_tail(&mut stderr, &mut err)
        );
        a.and(b)?;
        if out.len() >= MAX_LINE {
            return Err(std::io::Error::other(format!(
                "`--capabilities` printed {MAX_LINE} bytes or more"
            )));
        }
        let status = child.wait().await?;
        Ok::<_, std::io::Error>((status, out, err))
    };
    let (status, out, err) = match tokio::time::timeout(PROBE_LIMIT, work).await {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => {
            return Ok(none(format!("the capabilities probe failed: {e}")));
        }
        Err(_) => {
            group.kill();
            return Ok(none(format!(
                "`--capabilities` ran past {} s; assuming no capabilities",
                PROBE_LIMIT.as_secs()
            )));
        }
    };
    group.kill();
    let err = String::from_utf8_lossy(&err);
    match status.code() {
        Some(127) | Some(126) => {
            return Err(StartError::Command {
                command: command.to_owned(),
                stderr: err.into_owned(),
            })
        }
        Some(0) => {}
        _ => {
            return Ok(none(format!(
                "`--capabilities` exited with {status}; assuming no capabilities"
            )))
        }
    }
    let text = String::from_utf8_lossy(&out);
    match serde_json::from_str::<Vec<String>>(text.trim()) {
        Ok(list) => Ok(Capabilities { list, note: None }),
        Err(_) => Ok(none(format!(
            "`--capabilities` printed {:?}, not a JSON array of strings; assuming no capabilities",
            truncate(text.trim(), 200)
        ))),
    }
}

/// Reads `pipe` to its end or to `max` bytes; at `max`, kills the process group `pgid`, so a
/// probe that prints without end is stopped rather than left blocked on a full pipe.
async fn read_bounded(
    pipe: &mut (impl AsyncRead + Unpin),
    sink: &mut Vec<u8>,
    max: usize,
    pgid: Option<i32>,
) -> std::io::Result<usize> {
    let read = pipe.take(max as u64).read_to_end(sink).await;
    if sink.len() >= max {
        pgid.into_iter()
            .for_each(|g| signal_group(g, libc::SIGKILL));
    }
    read
}

/// Reads `pipe` to its end, keeping its last few [`STDERR_KEEP`]s in `sink`.
async fn read_tail(pipe: &mut (impl AsyncRead + Unpin), sink: &mut Vec<u8>) -> std::io::Result<()> {
    let mut buf = [0u8; 8192];
    loop {
        let n = pipe.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        sink.extend_from_slice(&buf[..n]);
        if sink.len() > 4 * STDERR_KEEP {
            let cut = sink.len() - STDERR_KEEP;
            sink.drain(..cut);
        }
    }
}

fn none(note: String) -> Capabilities {
    Capabilities {
        list: Vec::new(),
        note: Some(note),
    }
}

/// Reads an outcome line: JSON, valid against the outcome schema, then typed
/// ([`Outcome::from_value`]: an explicit `null` member reads as absent).
pub fn parse_outcome(line: &str) -> (Option<Value>, Result<Outcome, AdapterFault>) {
    let value: Value = match serde_json::from_str(line.trim()) {
        Ok(v) => v,
        Err(e) => {
            return (
                None,
                Err(AdapterFault::NotJson {
                    error: Arc::new(e),
                    line: line.trim().to_owned(),
                }),
            )
        }
    };
    let violations = Schema::AdapterOutcome.violations(&value);
    if !violations.is_empty() {
        let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
        return (Some(value), Err(AdapterFault::Schema(list)));
    }
    // The schema has spoken; the typed reading states the same rules (null reads as absent).
    let outcome = Outcome::from_value(&value).map_err(AdapterFault::Unreadable);
    (Some(value), outcome)
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

fn tail(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(STDERR_KEEP);
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

/// Appends what the adapter writes to standard error to `sink`, keeping memory bounded.
async fn drain_stderr(mut pipe: tokio::process::ChildStderr, sink: Arc<Mutex<Vec<u8>>>) {
    let mut buf = [0u8; 8192];
    while let Ok(n) = pipe.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let mut s = sink.lock().unwrap_or_else(|p| p.into_inner());
        s.extend_from_slice(&buf[..n]);
        // Keep memory bounded for chatty adapters: only the tail is reported.
        if s.len() > 4 * STDERR_KEEP {
            let cut = s.len() - STDERR_KEEP;
            s.drain(..cut);
        }
    }
}

/// Runs one scenario in exec mode: one process, one instruction line, one outcome line.
pub async fn exec(command: &str, instruction: &str, limit: Duration) -> AdapterRun {
    let started = Instant::now();
    let mut child = match shell(command, &[]).spawn() {
        Ok(c) => c,
        Err(e) => {
            return AdapterRun {
                outcome: Err(AdapterFault::Spawn(Arc::new(e))),
                printed: None,
                stderr: String::new(),
                elapsed: started.elapsed(),
            }
        }
    };
    let mut group = ProcessGroup::new(child.id());
    let mut stdin = child.stdin.take().expect("piped");
    let mut stdout = child.stdout.take().expect("piped");
    // Standard error is drained by its own task, so what the adapter said before it hung
    // survives the time limit and reaches the report.
    let stderr_sink = Arc::new(Mutex::new(Vec::new()));
    let drain = tokio::spawn(drain_stderr(
        child.stderr.take().expect("piped"),
        stderr_sink.clone(),
    ));
    let mut line = instruction.as_bytes().to_vec();
    line.push(b'\n');
    let work = async {
        // A broken pipe here means the adapter exited without reading: its exit says why.
        let _ = stdin.write_all(&line).await;
        drop(stdin);
        let mut out = Vec::new();
        // One byte past the limit tells an over-long line from one that fits: the scenario
        // ends at once, not when the adapter, blocked writing the rest, hits the time limit.
        (&mut stdout)
            .take(MAX_LINE as u64 + 1)
            .read_to_end(&mut out)
            .await?;
        if out.len() > MAX_LINE {
            return Ok(Err(out.len()));
        }
        let status = child.wait().await?;
        Ok::<_, std::io::Error>(Ok((status, out)))
    };
    let result = tokio::time::timeout(limit, work).await;
    let elapsed = started.elapsed();
    group.kill();
    // The group is dead, so the pipe closes; wait briefly for the last bytes.
    let _ = tokio::time::timeout(Duration::from_millis(200), drain).await;
    let err = {
        let s = stderr_sink.lock().unwrap_or_else(|p| p.into_inner());
        s.clone()
    };
    let (status, out) = match result {
        Err(_) => {
            return AdapterRun {
                outcome: Err(AdapterFault::TimedOut { limit }),
                printed: None,
                stderr: tail(&err),
                elapsed,
            }
        }
        Ok(Err(e)) => {
            return AdapterRun {
                outcome: Err(AdapterFault::Read(Arc::new(e))),
                printed: None,
                stderr: tail(&err),
                elapsed,
            }
        }
        Ok(Ok(Err(_))) => {
            return AdapterRun {
                outcome: Err(AdapterFault::LineTooLong),
                printed: None,
                stderr: tail(&err),
                elapsed,
            }
        }
        Ok(Ok(Ok(done))) => done,
    };
    let stderr = tail(&err);
    let text = String::from_utf8_lossy(&out);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let fault = |fault: AdapterFault| AdapterRun {
        outcome: Err(fault),
        printed: None,
        stderr: stderr.clone(),
        elapsed,
    };
    match lines.as_slice() {
        [] => fault(AdapterFault::NoOutcome(status)),
        [one] => {
            let (printed, outcome) = parse_outcome(one);
            let outcome = match outcome {
                Ok(_) if !status.success() => Err(AdapterFault::ExitedAfterOutcome(status)),
                other => other,
            };
            AdapterRun {
                outcome,
                printed,
                stderr,
                elapsed,
            }
        }
        many => fault(AdapterFault::ManyLines {
            count: many.len(),
            first: many[0].to_owned(),
        }),
    }
}

/// A persistent adapter process: one instruction line in, one outcome line out, in order.
pub struct Persistent {
    child: Child,
    group: ProcessGroup,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl Persistent {
    /// Starts the adapter command once, to serve many scenarios.
    ///
    /// # Errors
    /// When the process cannot be spawned.
    pub fn start(command: &str) -> Result<Persistent, AdapterFault> {
        let mut child = shell(command, &[])
            .spawn()
            .map_err(|e| AdapterFault::Spawn(Arc::new(e)))?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        tokio::spawn(drain_stderr(
            child.stderr.take().expect("piped"),
            stderr.clone(),
        ));
        let group = ProcessGroup::new(child.id());
        Ok(Persistent {
            child,
            group,
            stdin,
            stdout,
            stderr,
        })
    }

    fn take_stderr(&self) -> String {
        let mut s = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
        let text = tail(&s);
        s.clear();
        text
    }

    /// Sends one instruction and reads its outcome. After a fault the process is killed and
    /// must not be used again (`ok` false).
    pub async fn run(&mut self, instruction: &str, limit: Duration) -> (AdapterRun, bool) {
        let started = Instant::now();
        let mut line = instruction.as_bytes().to_vec();
        line.push(b'\n');
        // A line already there before the instruction is written cannot answer it: an earlier
        // instruction got two lines (a library logging to standard output, most often). Take
        // it now, so that this scenario is not judged by another's outcome.
        let mut early = Vec::new();
        let _ = tokio::time::timeout(
            Duration::ZERO,
            (&mut self.stdout)
                .take(MAX_LINE as u64)
                .read_until(b'\n', &mut early),
        )
        .await;
        let work = async {
            if !early.is_empty() && !early.ends_with(b"\n") {
                // Part of the early line was there: the rest of it is early too.
                (&mut self.stdout)
                    .take(MAX_LINE as u64)
                    .read_until(b'\n', &mut early)
                    .await?;
            }
            self.stdin.write_all(&line).await?;
            self.stdin.flush().await?;
            let mut out = Vec::new();
            (&mut self.stdout)
                .take(MAX_LINE as u64)
                .read_until(b'\n', &mut out)
                .await?;
            Ok::<_, std::io::Error>(out)
        };
        let result = tokio::time::timeout(limit, work).await;
        let elapsed = started.elapsed();
        let faulted = |this: &mut Persistent, fault: AdapterFault| {
            this.group.kill();
            (
                AdapterRun {
                    outcome: Err(fault),
                    printed: None,
                    stderr: this.take_stderr(),
                    elapsed,
                },
                false,
            )
        };
        match result {
            Err(_) => faulted(self, AdapterFault::TimedOut { limit }),
            Ok(Err(e)) => faulted(self, AdapterFault::Pipes(Arc::new(e))),
            Ok(Ok(out)) if out.is_empty() => {
                // Give a dying process a moment so its exit status can be reported.
                let status =
                    tokio::time::timeout(Duration::from_millis(200), self.child.wait()).await;
                let status = match status {
                    Ok(Ok(s)) => Some(s),
                    _ => None,
                };
                faulted(self, AdapterFault::EndedEarly(status))
            }
            Ok(Ok(out)) if !out.ends_with(b"\n") && out.len() >= MAX_LINE => {
                faulted(self, AdapterFault::LineTooLong)
            }
            Ok(Ok(out)) => {
                let text = String::from_utf8_lossy(&out);
                let (printed, mut outcome) = parse_outcome(&text);
                if !early.is_empty() {
                    outcome = Err(AdapterFault::StrayLine {
                        line: String::from_utf8_lossy(&early).into_owned(),
                    });
                }
                (
                    AdapterRun {
                        outcome,
                        printed,
                        stderr: self.take_stderr(),
                        elapsed,
                    },
                    true,
                )
            }
        }
    }

    /// Ends the process: closes its input, waits briefly, then kills its group.
    pub async fn close(mut self) {
        drop(self.stdin);
        let _ = tokio::time::timeout(Duration::from_secs(2), self.child.wait()).await;
        self.group.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;
    use std::os::unix::process::ExitStatusExt;

    // Reports print these texts as a scenario's `reason`: they are pinned word for word.
    #[test]
    fn faults_read_as_the_reports_have_always_printed_them() {
        let exited = ExitStatus::from_raw(3 << 8);
        let limit = Duration::from_millis(1500);
        let cases = [
            (
                AdapterFault::TimedOut { limit },
                "the adapter ran past the hard time limit of 1500 ms and was killed with its process group",
            ),
            (
                AdapterFault::ClientTimedOut { limit },
                "the client ran past the hard time limit of 1500 ms",
            ),
            (AdapterFault::Crashed("boom".into()), "the client crashed: boom"),
            (
                AdapterFault::LineTooLong,
                "the outcome line is longer than 1048576 bytes (1 MiB), the protocol's limit; the adapter was killed with its process group",
            ),
            (
                AdapterFault::NoOutcome(exited),
                "the adapter printed no outcome and exited with exit status: 3",
            ),
            (
                AdapterFault::EndedEarly(Some(exited)),
                "the adapter exited with exit status: 3 before printing an outcome",
            ),
            (
                AdapterFault::EndedEarly(None),
                "the adapter closed its standard output before printing an outcome",
            ),
            (
                AdapterFault::ExitedAfterOutcome(exited),
                "the adapter printed an outcome but exited with exit status: 3",
            ),
            (
                AdapterFault::ManyLines {
                    count: 2,
                    first: "{}".into(),
                },
                "the adapter printed 2 lines on standard output; the protocol allows one outcome line (first: \"{}\")",
            ),
            (
                AdapterFault::Schema(vec!["a".into(), "b".into()]),
                "the outcome breaks schema/adapter-outcome.schema.json: a; b",
            ),
        ];
        for (fault, text) in cases {
            assert_eq!(fault.to_string(), text);
            assert!(fault.source().is_none(), "{fault:?}");
        }
    }

    #[test]
    fn faults_with_an_underlying_error_give_it_as_their_source() {
        let io = || Arc::new(std::io::Error::other("pipe gone"));
        assert_eq!(
            AdapterFault::Spawn(io()).to_string(),
            "cannot start the adapter: pipe gone"
        );
        assert_eq!(
            AdapterFault::Read(io()).to_string(),
            "reading the adapter failed: pipe gone"
        );
        assert_eq!(
            AdapterFault::Pipes(io()).to_string(),
            "the adapter's pipes failed: pipe gone"
        );
        for fault in [
            AdapterFault::Spawn(io()),
            AdapterFault::Read(io()),
            AdapterFault::Pipes(io()),
        ] {
            assert_eq!(fault.source().unwrap().to_string(), "pipe gone");
        }
        let (printed, outcome) = parse_outcome("not json");
        assert!(printed.is_none());
        let fault = outcome.unwrap_err();
        assert!(matches!(fault, AdapterFault::NotJson { .. }));
        assert!(fault
            .to_string()
            .starts_with("the outcome line is not JSON (expected ident"));
        assert!(fault.to_string().ends_with(": \"not json\""));
        assert!(fault.source().is_some());
    }

    #[test]
    fn start_errors_read_as_before_and_keep_their_cause() {
        let shell = StartError::Shell(std::io::Error::other("no sh"));
        assert_eq!(
            shell.to_string(),
            "cannot start `sh` to run the adapter: no sh"
        );
        assert_eq!(shell.source().unwrap().to_string(), "no sh");
        let command = StartError::Command {
            command: "./a".into(),
            stderr: "sh: ./a: not found\n".into(),
        };
        assert_eq!(
            command.to_string(),
            "the adapter command `./a` cannot be started: sh: ./a: not found"
        );
        assert!(command.source().is_none());
        let ids = StartError::NoUsableId(crate::capability::Ids::only([
            crate::capability::IdKind::MerchantAccountId,
        ]));
        assert!(ids.to_string().starts_with(
            "the adapter declares neither `payment-id` nor `payment-request-id` (only "
        ));
    }
}
