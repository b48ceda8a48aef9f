//! A `serve` session from start to stop: until a signal, `POST /__kit/shutdown`, or the end of
//! the command given with `--exec`, which runs with the ready line's facts in its environment.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use serde_json::Value;
use tokio::process::Command;
use tokio::signal::unix::{signal, SignalKind};

use crate::exit::Exit;
use crate::signature::{SigningKey, TestKeys};

/// A standing server, `serve` or `proxy`, as a session sees it: its ready line, its stop
/// signal, what it counted and what it reports.
pub trait Session {
    /// The ready line.
    fn ready(&self) -> &Value;

    /// Counts over every request since the start.
    fn totals(&self) -> super::Totals;

    /// The session as a report: one test case per exchange the journal keeps.
    fn report(&self) -> crate::report::RunReport;

    /// What `POST /__kit/shutdown` notifies.
    fn stop_signal(&self) -> &tokio::sync::Notify;

    /// The base URL clients call.
    fn url(&self) -> &str {
        self.ready()["url"].as_str().unwrap_or_default()
    }

    /// Resolves when a client asks the server to stop (`POST /__kit/shutdown`).
    fn stop_requested(&self) -> impl std::future::Future<Output = ()> + '_ {
        self.stop_signal().notified()
    }

    /// [`Exit::Failures`] when any request since the start broke a MUST check (in either
    /// direction, for `proxy`), else [`Exit::Ok`].
    fn exit_code(&self) -> Exit {
        Exit::from_failures(self.totals().must_failed > 0)
    }
}

/// Why the session ended.
#[derive(Debug)]
pub enum Stop {
    /// SIGINT or SIGTERM.
    Signal(&'static str),
    /// `POST /__kit/shutdown`.
    Shutdown,
    /// The `--exec` command ended.
    Exec(ExitStatus),
}

impl std::fmt::Display for Stop {
    /// What the stop line says: `SIGTERM`, `POST /__kit/shutdown`, `the command exited 1`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Signal(name) => f.write_str(name),
            Stop::Shutdown => f.write_str("POST /__kit/shutdown"),
            Stop::Exec(status) => match (status.code(), status.signal()) {
                (Some(code), _) => write!(f, "the command exited {code}"),
                (None, Some(signal)) => write!(f, "the command was killed by signal {signal}"),
                (None, None) => f.write_str("the command ended"),
            },
        }
    }
}

impl Stop {
    /// The exit code of the session: the command's failure first, then `checks` (failures
    /// when a request broke a MUST check).
    pub fn exit_code(&self, checks: Exit) -> Exit {
        match self {
            Stop::Exec(status) if !status.success() => {
                let code = status.code().unwrap_or(1).clamp(1, 125);
                Exit::Command(u8::try_from(code).unwrap_or(1))
            }
            _ => checks,
        }
    }
}

/// The environment `--exec` gives its command: every fact of the ready line, under
/// `ALIPAY_KIT_*` names, and the whole line as `ALIPAY_KIT_READY`.
pub fn exec_environment(ready: &Value) -> Vec<(String, String)> {
    let mut env = vec![("ALIPAY_KIT_READY".to_owned(), ready.to_string())];
    if let Some(object) = ready.as_object() {
        for (name, value) in object {
            if let Some(text) = value.as_str() {
                env.push((format!("ALIPAY_KIT_{}", screaming(name)), text.to_owned()));
            }
        }
    }
    env
}

/// `merchantPrivateKey` → `MERCHANT_PRIVATE_KEY`.
fn screaming(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() && !out.is_empty() {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Waits until the session should stop, running `exec` (through `sh -c`, in its own process
/// group) if given. A signal during `exec` stops the command's whole group (SIGTERM, then
/// SIGKILL after 3 s) before the session ends.
///
/// # Errors
/// When the signal handlers cannot be installed or `sh` cannot be started.
pub async fn run_until_stopped(
    ready: &Value,
    stop_requested: impl std::future::Future<Output = ()>,
    exec: Option<&str>,
) -> std::io::Result<Stop> {
    let stop_requested = std::pin::pin!(stop_requested);
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let Some(command) = exec else {
        return Ok(tokio::select! {
            _ = interrupt.recv() => Stop::Signal("SIGINT"),
            _ = terminate.recv() => Stop::Signal("SIGTERM"),
            () = stop_requested => Stop::Shutdown,
        });
    };
    let ca_file = ca_file(ready)?;
    let mut child = Command::new("sh");
    child
        .arg("-c")
        .arg(command)
        .process_group(0)
        .kill_on_drop(true);
    for (name, value) in exec_environment(ready) {
        child.env(name, value);
    }
    if let Some(path) = &ca_file {
        child.env("ALIPAY_KIT_CA_FILE", path);
    }
    let mut child = child.spawn()?;
    let pid = child.id();
    let stop = tokio::select! {
        status = child.wait() => Stop::Exec(status?),
        _ = interrupt.recv() => Stop::Signal("SIGINT"),
        _ = terminate.recv() => Stop::Signal("SIGTERM"),
        () = stop_requested => Stop::Shutdown,
    };
    if !matches!(stop, Stop::Exec(_)) {
        crate::adapter::signal_child_group(pid, libc::SIGTERM);
        if tokio::time::timeout(Duration::from_secs(3), child.wait())
            .await
            .is_err()
        {
            crate::adapter::signal_child_group(pid, libc::SIGKILL);
            let _ = child.wait().await;
        }
    }
    if let Some(path) = ca_file {
        let _ = std::fs::remove_file(path);
    }
    Ok(stop)
}

/// With TLS, the run's CA certificate in a file, for clients that want a path (`requests`'
/// `verify=`, `SSL_CERT_FILE`, `NODE_EXTRA_CA_CERTS`).
fn ca_file(ready: &Value) -> std::io::Result<Option<PathBuf>> {
    let Some(pem) = ready["caCertificatePem"].as_str() else {
        return Ok(None);
    };
    let path =
        std::env::temp_dir().join(format!("alipay-cancel-kit-ca-{}.pem", std::process::id()));
    std::fs::write(&path, pem)?;
    Ok(Some(path))
}

/// Keys from a directory: `merchant-private.pkcs8.b64` and `vendor-private.pkcs8.b64`
/// (base64 PKCS#8 DER, as the vendor's formats), optionally `other-vendor-private.pkcs8.b64`
/// (fresh when absent); the committed `TEST-ONLY-` names are read too, so
/// `--keys conformance/keys` works.
///
/// # Errors
/// A message naming the file that is missing or does not hold a key.
pub fn keys_from_dir(dir: &Path) -> Result<TestKeys, String> {
    let read = |name: &str| -> Result<Option<SigningKey>, String> {
        for candidate in [name.to_owned(), format!("TEST-ONLY-{name}")] {
            let path = dir.join(&candidate);
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    return SigningKey::from_base64_pkcs8(text.trim())
                        .map(Some)
                        .map_err(|e| format!("{}: {e}", path.display()));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("{}: {e}", path.display())),
            }
        }
        Ok(None)
    };
    let required = |name: &str| {
        read(name)?.ok_or_else(|| format!("{}: no {name} (nor TEST-ONLY-{name})", dir.display()))
    };
    Ok(TestKeys {
        merchant: required("merchant-private.pkcs8.b64")?,
        vendor: required("vendor-private.pkcs8.b64")?,
        other_vendor: match read("other-vendor-private.pkcs8.b64")? {
            Some(key) => key,
            None => SigningKey::generate(),
        },
    })
}
