//! Where a standing server listens: a loopback or given address, plain or behind a TLS front
//! (a run CA or the user's own certificate), and the `--journal` file it appends to.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::gateway::raw::{Limits, RawServer, Responder};
use crate::gateway::tls::{self, TestPki, TlsFront};
use crate::gateway::GatewayError;

/// How the gateway is reached.
#[derive(Clone, Debug, Default)]
pub enum TlsSetting {
    /// Plain HTTP.
    #[default]
    Off,
    /// HTTPS with a CA made for this run; the ready line carries its certificate.
    RunCa,
    /// HTTPS with the user's own certificate chain and key (PEM files).
    Files {
        /// The certificate chain.
        cert: PathBuf,
        /// Its private key.
        key: PathBuf,
    },
}

/// A standing server (`serve` or `proxy`) could not start.
///
/// The messages keep the `serve:` prefix they always had, for `proxy` too (tests and users
/// match on them).
#[derive(Debug)]
pub enum ListenError {
    /// The address cannot be listened on (in use, not local), or the TLS front failed.
    Listen(GatewayError),
    /// The TLS material cannot be made or read.
    Tls(tls::PkiError),
    /// The journal file cannot be opened.
    Journal(PathBuf, std::io::Error),
}

impl std::fmt::Display for ListenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListenError::Listen(e) => write!(f, "serve: {e}"),
            ListenError::Tls(e) => write!(f, "serve: {e}"),
            ListenError::Journal(path, e) => {
                write!(f, "serve: cannot open the journal {}: {e}", path.display())
            }
        }
    }
}

impl std::error::Error for ListenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ListenError::Listen(e) => Some(e),
            ListenError::Tls(e) => Some(e),
            ListenError::Journal(_, e) => Some(e),
        }
    }
}

/// The `--journal` file, opened for appending (created if missing).
pub(crate) fn open_journal(
    path: Option<&PathBuf>,
) -> Result<Option<Mutex<std::fs::File>>, ListenError> {
    let Some(path) = path else { return Ok(None) };
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map(|file| Some(Mutex::new(file)))
        .map_err(|e| ListenError::Journal(path.clone(), e))
}

/// A standing server's listeners, and what its ready line says about them.
pub(crate) struct Listening {
    /// The plain HTTP server (behind the TLS front on a private loopback port, with TLS).
    pub plain: RawServer,
    /// The TLS front, with TLS.
    pub tls: Option<TlsFront>,
    /// The URL clients call.
    pub url: String,
    /// With a run CA: its certificate (PEM), for the ready line.
    pub ca: Option<String>,
    /// The address clients reach.
    pub public: SocketAddr,
}

/// Listens on `bind`, plain or behind a TLS front, every request answered by `responder`.
pub(crate) async fn listen(
    bind: SocketAddr,
    tls_setting: &TlsSetting,
    responder: Arc<dyn Responder>,
    limits: Limits,
) -> Result<Listening, ListenError> {
    let tls_config = match tls_setting {
        TlsSetting::Off => None,
        TlsSetting::RunCa => {
            let pki = TestPki::generate().map_err(ListenError::Tls)?;
            let ca = pki.ca_certificate_pem().to_owned();
            Some((pki.server_config(tls::Mode::Trusted), Some(ca)))
        }
        TlsSetting::Files { cert, key } => Some((
            tls::server_config_from_pem_files(cert, key).map_err(ListenError::Tls)?,
            None,
        )),
    };
    let plain_bind = match tls_config {
        // Behind TLS the plain gateway listens on a private loopback port.
        Some(_) => SocketAddr::from(([127, 0, 0, 1], 0)),
        None => bind,
    };
    let listener = std::net::TcpListener::bind(plain_bind).map_err(|source| {
        ListenError::Listen(GatewayError::Bind {
            addr: plain_bind,
            source,
        })
    })?;
    let plain_addr = listener
        .local_addr()
        .map_err(|e| ListenError::Listen(GatewayError::Address(e)))?;
    let plain = RawServer::start(listener, responder, limits).map_err(ListenError::Listen)?;
    match tls_config {
        None => Ok(Listening {
            plain,
            tls: None,
            url: format!("http://{plain_addr}"),
            ca: None,
            public: plain_addr,
        }),
        Some((server_config, ca)) => {
            let front = TlsFront::start_on(server_config, plain_addr, bind)
                .await
                .map_err(ListenError::Listen)?;
            let host = match (tls_setting, bind.ip().is_loopback()) {
                (TlsSetting::RunCa, true) => tls::GATEWAY_HOST.to_owned(),
                _ => bind.ip().to_string(),
            };
            let url = format!("https://{host}:{}", front.addr().port());
            let public = front.addr();
            Ok(Listening {
                plain,
                tls: Some(front),
                url,
                ca,
                public,
            })
        }
    }
}
