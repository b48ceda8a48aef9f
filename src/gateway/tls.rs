//! TLS in front of the gateway: a per-run test PKI and a front that terminates TLS on its own
//! loopback port and relays the decrypted bytes to the plain gateway.
//!
//! The plain gateway (wiremock or the raw responder) is unchanged: it sees the same HTTP/1.1
//! bytes whichever way the client came in, so recording, checks and signing are identical
//! over HTTPS. A client that refuses the certificate never completes the handshake, so
//! nothing is relayed and the gateway records no request, which is what the `tls/` scenarios
//! judge.
//!
//! The instruction names the gateway as `https://localhost:<port>`, not by address: a host
//! *name* is what real gateways are reached by, what clients check against a certificate's DNS
//! names, and what they send as SNI (an IP literal is matched against IP addresses instead,
//! and many clients skip SNI for it). The certificate of the wrong-hostname mode names only
//! [`WRONG_HOST`], so a client that checks the host name refuses it. Only loopback is ever
//! bound (`localhost` resolves to 127.0.0.1, where the front listens).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::listener::{Door, HEAD_TIME};
use super::GatewayError;

/// The host name the instruction's URL carries and the trusted certificate names.
pub const GATEWAY_HOST: &str = "localhost";

/// The only name on the wrong-hostname certificate; never resolved.
pub const WRONG_HOST: &str = "wrong.example.test";

/// Which certificate the TLS front presents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Issued by the instruction's CA for `localhost` and 127.0.0.1: the normal path.
    Trusted,
    /// Issued for `localhost` and 127.0.0.1 by a CA the instruction does not carry.
    Untrusted,
    /// Issued by the instruction's CA, for [`WRONG_HOST`] only.
    WrongHostname,
}

/// The TLS material of one run: the CA the instructions carry, a second CA they never carry,
/// and a server configuration per [`Mode`]. All keys are fresh ECDSA P-256 keys. Test-only.
pub struct TestPki {
    ca_pem: String,
    trusted: Arc<ServerConfig>,
    untrusted: Arc<ServerConfig>,
    wrong_hostname: Arc<ServerConfig>,
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki").finish_non_exhaustive()
    }
}

/// The test PKI could not be made, or the user's certificate files cannot be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum PkiError {
    /// A key or certificate cannot be generated or signed.
    Certificate(rcgen::Error),
    /// rustls refuses the generated certificate or its key.
    Tls(rustls::Error),
    /// rustls offers none of its safe protocol versions with this provider.
    Protocols(rustls::Error),
    /// The certificate file cannot be read or holds no PEM certificate chain.
    CertificateFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: rustls::pki_types::pem::Error,
    },
    /// The certificate file holds no certificate.
    NoCertificate(PathBuf),
    /// The key file cannot be read or holds no PEM private key.
    KeyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: rustls::pki_types::pem::Error,
    },
    /// rustls refuses the certificate chain with the key (they do not match, or are unusable).
    Pair {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// Why.
        source: rustls::Error,
    },
}

impl std::fmt::Display for PkiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("test PKI: ")?;
        match self {
            PkiError::Certificate(e) => e.fmt(f),
            PkiError::Tls(e) => e.fmt(f),
            PkiError::Protocols(e) => write!(f, "TLS: {e}"),
            PkiError::CertificateFile { path, source } => {
                write!(f, "{}: no PEM certificate chain: {source}", path.display())
            }
            PkiError::NoCertificate(path) => write!(f, "{}: holds no certificate", path.display()),
            PkiError::KeyFile { path, source } => {
                write!(f, "{}: no PEM private key: {source}", path.display())
            }
            PkiError::Pair { cert, key, source } => {
                write!(f, "{} and {}: {source}", cert.display(), key.display())
            }
        }
    }
}

impl std::error::Error for PkiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PkiError::Certificate(e) => Some(e),
            PkiError::Tls(e) | PkiError::Protocols(e) | PkiError::Pair { source: e, .. } => Some(e),
            PkiError::CertificateFile { source, .. } | PkiError::KeyFile { source, .. } => {
                Some(source)
            }
            PkiError::NoCertificate(_) => None,
        }
    }
}

impl From<rcgen::Error> for PkiError {
    fn from(e: rcgen::Error) -> PkiError {
        PkiError::Certificate(e)
    }
}

impl From<rustls::Error> for PkiError {
    fn from(e: rustls::Error) -> PkiError {
        PkiError::Tls(e)
    }
}

impl TestPki {
    /// Makes two CAs and the three server certificates, valid from yesterday for 30 days.
    ///
    /// # Errors
    /// Only if key generation or certificate signing fails, which `ring` does not do in practice.
    pub fn generate() -> Result<TestPki, PkiError> {
        let (ca_pem, ca) = new_ca("alipay-cancel-kit test CA (TEST ONLY)")?;
        let (_, other_ca) = new_ca("alipay-cancel-kit untrusted CA (TEST ONLY)")?;
        let local = vec![GATEWAY_HOST.to_owned(), "127.0.0.1".to_owned()];
        let trusted = server_config(&local, &ca)?;
        let untrusted = server_config(&local, &other_ca)?;
        let wrong_hostname = server_config(&[WRONG_HOST.to_owned()], &ca)?;
        Ok(TestPki {
            ca_pem,
            trusted,
            untrusted,
            wrong_hostname,
        })
    }

    /// The instruction's CA certificate, PEM (`caCertificatePem`).
    pub fn ca_certificate_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The server configuration of a mode.
    pub fn server_config(&self, mode: Mode) -> Arc<ServerConfig> {
        match mode {
            Mode::Trusted => self.trusted.clone(),
            Mode::Untrusted => self.untrusted.clone(),
            Mode::WrongHostname => self.wrong_hostname.clone(),
        }
    }
}

/// A server configuration from a certificate chain and a private key in PEM files (for
/// `serve --tls-cert --tls-key`: the user's own certificate).
///
/// # Errors
/// A [`PkiError`] naming the file that cannot be read or holds no usable PEM.
pub fn server_config_from_pem_files(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<Arc<ServerConfig>, PkiError> {
    use rustls::pki_types::pem::PemObject;
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|source| PkiError::CertificateFile {
            path: cert.to_owned(),
            source,
        })?;
    if chain.is_empty() {
        return Err(PkiError::NoCertificate(cert.to_owned()));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|source| PkiError::KeyFile {
        path: key.to_owned(),
        source,
    })?;
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(PkiError::Protocols)?
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(|source| PkiError::Pair {
                cert: cert.to_owned(),
                key: key.to_owned(),
                source,
            })?;
    Ok(Arc::new(config))
}

fn validity(params: &mut CertificateParams) {
    use chrono::Datelike;
    let day = |d: chrono::NaiveDate| rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8);
    let today = chrono::Utc::now().date_naive();
    params.not_before = day(today - chrono::Days::new(1));
    params.not_after = day(today + chrono::Days::new(30));
}

fn new_ca(name: &str) -> Result<(String, Issuer<'static, KeyPair>), rcgen::Error> {
    let mut params = CertificateParams::new(Vec::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
    ];
    validity(&mut params);
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), Issuer::new(params, key)))
}

fn server_config(
    names: &[String],
    issuer: &Issuer<'static, KeyPair>,
) -> Result<Arc<ServerConfig>, PkiError> {
    let mut params = CertificateParams::new(names.to_vec())?;
    params
        .distinguished_name
        .push(DnType::CommonName, names[0].as_str());
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    validity(&mut params);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    let chain = vec![CertificateDer::from(cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
    Ok(Arc::new(config))
}

/// A running TLS front; stops (with every relayed connection) when dropped.
pub struct TlsFront {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TlsFront {
    /// Listens on a fresh loopback port; every connection whose handshake completes is relayed,
    /// byte for byte in both directions, to the plain gateway at `upstream`.
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub async fn start(
        config: Arc<ServerConfig>,
        upstream: SocketAddr,
    ) -> Result<TlsFront, GatewayError> {
        let listener = super::bind_loopback()
            .and_then(|l| {
                l.set_nonblocking(true)?;
                TcpListener::from_std(l)
            })
            .map_err(|source| GatewayError::ListenTls {
                addr: "127.0.0.1".to_owned(),
                source,
            })?;
        TlsFront::serve(config, upstream, listener)
    }

    /// Listens on `bind` (port 0 picks a free one), relaying as [`TlsFront::start`] does.
    ///
    /// # Errors
    /// When `bind` cannot be listened on (in use, not an address of this machine).
    pub async fn start_on(
        config: Arc<ServerConfig>,
        upstream: SocketAddr,
        bind: SocketAddr,
    ) -> Result<TlsFront, GatewayError> {
        let listener = TcpListener::bind(bind)
            .await
            .map_err(|source| GatewayError::ListenTls {
                addr: bind.to_string(),
                source,
            })?;
        TlsFront::serve(config, upstream, listener)
    }

    fn serve(
        config: Arc<ServerConfig>,
        upstream: SocketAddr,
        listener: TcpListener,
    ) -> Result<TlsFront, GatewayError> {
        let addr = listener.local_addr().map_err(GatewayError::Socket)?;
        let acceptor = TlsAcceptor::from(config);
        let door = Door::new(MAX_CONNECTIONS);
        let task = tokio::spawn(async move {
            // Dropping the set (when the front is aborted) aborts every relay.
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let (stream, slot) = door.admit(&listener).await;
                while connections.try_join_next().is_some() {}
                let (acceptor, door) = (acceptor.clone(), door.clone());
                connections.spawn(async move {
                    relay(acceptor, stream, upstream, &door).await;
                    drop(slot);
                });
            }
        });
        Ok(TlsFront { addr, task })
    }

    /// The URL the instruction carries: `https://localhost:<port>`.
    pub fn url(&self) -> String {
        format!("https://{GATEWAY_HOST}:{}", self.addr.port())
    }

    /// The address listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// TLS connections held at once: past it, those that have not completed their handshake are
/// closed to make room, then newcomers are turned away.
const MAX_CONNECTIONS: usize = 1024;

async fn relay(acceptor: TlsAcceptor, stream: TcpStream, upstream: SocketAddr, door: &Door) {
    // A client that never says hello is idle: closed after HEAD_TIME, or sooner when the slot
    // is needed. A refused handshake (the client did not trust the certificate) ends here too:
    // nothing reaches the gateway.
    let Some(Ok(mut tls)) = door.idle(HEAD_TIME, acceptor.accept(stream)).await else {
        return;
    };
    let Ok(mut plain) = TcpStream::connect(upstream).await else {
        return;
    };
    // Both ways until the gateway closes its side (its idle and head limits end a quiet
    // client's connection there); a client's half-close is passed on and the answer still
    // comes back.
    let (mut from_client, mut to_client) = tokio::io::split(&mut tls);
    let (mut from_gateway, mut to_gateway) = plain.split();
    let requests = async {
        let _ = tokio::io::copy(&mut from_client, &mut to_gateway).await;
        let _ = to_gateway.shutdown().await;
        std::future::pending::<()>().await
    };
    let answers = async {
        let _ = tokio::io::copy(&mut from_gateway, &mut to_client).await;
        let _ = to_client.shutdown().await;
    };
    tokio::select! {
        () = requests => {}
        () = answers => {}
    }
}
