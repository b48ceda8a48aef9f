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
    let files = ExecFiles::write(ready, std::env::var_os("NODE_EXTRA_CA_CERTS"))?;
    let mut child = Command::new("sh");
    child
        .arg("-c")
        .arg(command)
        .process_group(0)
        .kill_on_drop(true);
    for (name, value) in exec_environment(ready) {
        child.env(name, value);
    }
    if let Ok(bin) = std::env::current_exe() {
        child.env("ALIPAY_KIT_BIN", bin);
    }
    if let Some(files) = &files {
        child.env("ALIPAY_KIT_CA_FILE", &files.ca);
        child.env("NODE_EXTRA_CA_CERTS", &files.node);
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
    drop(files);
    Ok(stop)
}

/// With TLS, the run's CA certificate in files for the `--exec` command, in a directory of
/// their own that only this user can enter (0700), made fresh under `$TMPDIR` with a name
/// nobody can guess, each file created new (never written through a planted file or link).
/// The directory goes when this is dropped.
#[derive(Debug)]
pub struct ExecFiles {
    dir: PathBuf,
    /// The run's CA certificate (`ALIPAY_KIT_CA_FILE`).
    pub ca: PathBuf,
    /// What `NODE_EXTRA_CA_CERTS` names: the CA file, or, when the environment named a bundle
    /// already, that bundle with the run's CA after it.
    pub node: PathBuf,
}

impl ExecFiles {
    /// The files for `ready`'s CA certificate; `None` without TLS. `node_extra` is the
    /// `NODE_EXTRA_CA_CERTS` the kit itself was given, kept in the bundle.
    ///
    /// # Errors
    /// When the directory or a file cannot be made, or the given bundle cannot be read
    /// (the message names it).
    pub fn write(
        ready: &Value,
        node_extra: Option<std::ffi::OsString>,
    ) -> std::io::Result<Option<ExecFiles>> {
        use rand::Rng as _;
        use std::os::unix::fs::DirBuilderExt as _;
        let Some(pem) = ready["caCertificatePem"].as_str() else {
            return Ok(None);
        };
        let dir = std::env::temp_dir().join(format!(
            "alipay-cancel-kit-{}-{:016x}",
            std::process::id(),
            rand::thread_rng().gen::<u64>()
        ));
        // `create` fails if anything (a link included) is there already.
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        let files = ExecFiles {
            ca: dir.join("ca.pem"),
            node: dir.join("ca.pem"),
            dir,
        };
        create_new(&files.ca, pem.as_bytes())?;
        let Some(given) = node_extra.filter(|p| !p.is_empty()) else {
            return Ok(Some(files));
        };
        let given = PathBuf::from(given);
        let mut bundle = std::fs::read(&given).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("NODE_EXTRA_CA_CERTS {}: {e}", given.display()),
            )
        })?;
        if !bundle.ends_with(b"\n") {
            bundle.push(b'\n');
        }
        bundle.extend_from_slice(pem.as_bytes());
        let mut files = files;
        files.node = files.dir.join("node-extra-ca-certs.pem");
        create_new(&files.node, &bundle)?;
        Ok(Some(files))
    }
}

impl Drop for ExecFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Writes a file that must not exist yet, readable by its owner only.
fn create_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .write_all(bytes)
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
