//! A standing session from start to stop: until a signal, `POST /__kit/shutdown`, or the end
//! of the command given with `--exec`, which runs with the ready line's members in its
//! environment ([`Ready::environment`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;

use super::{Ending, Ready};
use crate::signals::Signals;

/// Waits until the session should stop, running `exec` (through `sh -c`, in its own process
/// group) if given. A signal during `exec` stops the command's whole group (SIGTERM, then
/// SIGKILL after 3 s) before the session ends.
///
/// # Errors
/// When the signal handlers cannot be installed or `sh` cannot be started.
pub async fn run_until_stopped(
    ready: &Ready,
    stop_requested: impl std::future::Future<Output = ()>,
    exec: Option<&str>,
) -> std::io::Result<Ending> {
    let stop_requested = std::pin::pin!(stop_requested);
    let mut signals = Signals::install()?;
    let Some(command) = exec else {
        return Ok(tokio::select! {
            signal = signals.next() => Ending::Signal(signal),
            () = stop_requested => Ending::Shutdown,
        });
    };
    let files = ExecFiles::write(ready, std::env::var_os("NODE_EXTRA_CA_CERTS"))?;
    let mut child = Command::new("sh");
    child
        .arg("-c")
        .arg(command)
        .process_group(0)
        .kill_on_drop(true);
    for (name, value) in ready.environment() {
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
        status = child.wait() => Ending::Exec(status?),
        signal = signals.next() => Ending::Signal(signal),
        () = stop_requested => Ending::Shutdown,
    };
    if !matches!(stop, Ending::Exec(_)) {
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
        ready: &Ready,
        node_extra: Option<std::ffi::OsString>,
    ) -> std::io::Result<Option<ExecFiles>> {
        use rand::Rng as _;
        use std::os::unix::fs::DirBuilderExt as _;
        let Some(pem) = ready.ca_certificate_pem.as_deref() else {
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
