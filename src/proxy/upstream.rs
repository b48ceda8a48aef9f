//! The proxy's way to the upstream gateway: HTTP/1.1, plain or over TLS verified against the
//! system's roots or a CA the user names. Nothing is ever trusted blindly.
//!
//! A client of the proxy's own: the request is written as the kit writes any message, and the
//! answer read back through the kit's one HTTP/1.1 reader ([`crate::gateway::http`]), as the
//! gateway reads its clients' requests. One connection per exchange, closed after it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::contract::RecordedRequest;
use crate::gateway::http::{visible, HttpError, Reader};
use crate::gateway::HttpAnswer;

/// Header fields that belong to one connection, not to the message: never forwarded.
pub const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

/// Where requests go.
#[derive(Clone)]
pub struct Upstream {
    /// `http://host:port` or `https://host:port`, as given (no trailing slash).
    pub url: String,
    authority: String,
    host: String,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream").field("url", &self.url).finish()
    }
}

impl Upstream {
    /// An upstream from its URL; `https://` needs `ca` (PEM) or the system's roots
    /// (`SSL_CERT_FILE`, else `/etc/ssl/certs/ca-certificates.crt`).
    ///
    /// # Errors
    /// What is wrong: the URL, or the CA file.
    pub fn new(url: &str, ca: Option<&Path>, timeout: Duration) -> Result<Upstream, UpstreamError> {
        let (rest, tls) = if let Some(rest) = url.strip_prefix("http://") {
            (rest, false)
        } else if let Some(rest) = url.strip_prefix("https://") {
            (rest, true)
        } else {
            return Err(UpstreamError::Scheme(url.to_owned()));
        };
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            return Err(UpstreamError::Path(url.to_owned()));
        }
        let host = match authority.rsplit_once(':') {
            Some((host, port)) if port.parse::<u16>().is_ok() => host,
            _ => authority,
        }
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
        let default_port = if tls { 443 } else { 80 };
        let authority = if authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            authority.to_owned()
        } else {
            format!("{authority}:{default_port}")
        };
        let tls = if tls { Some(client_config(ca)?) } else { None };
        Ok(Upstream {
            url: url.trim_end_matches('/').to_owned(),
            authority,
            host,
            tls,
            timeout,
        })
    }

    /// Forwards `request` and returns the answer as it came: status, end-to-end headers, body
    /// byte for byte.
    ///
    /// # Errors
    /// No whole answer came (refused, closed, cut short, timed out): [`UpstreamError`] says
    /// why, as the journal and the client's 502 carry it.
    pub async fn forward(&self, request: &RecordedRequest) -> Result<HttpAnswer, UpstreamError> {
        let exchange = async {
            let stream = tokio::net::TcpStream::connect(&self.authority)
                .await
                .map_err(|e| UpstreamError::Connect(self.authority.clone(), e))?;
            let _ = stream.set_nodelay(true);
            let outgoing = self.outgoing(request);
            let head_only = request.method.eq_ignore_ascii_case("HEAD");
            match &self.tls {
                None => send(stream, &outgoing, head_only).await,
                Some(config) => {
                    let name = ServerName::try_from(self.host.clone())
                        .map_err(|e| UpstreamError::HostName(self.host.clone(), e.to_string()))?;
                    let stream = tokio_rustls::TlsConnector::from(config.clone())
                        .connect(name, stream)
                        .await
                        .map_err(|e| UpstreamError::Handshake(self.authority.clone(), e))?;
                    send(stream, &outgoing, head_only).await
                }
            }
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| UpstreamError::Timeout(self.timeout))?
    }

    /// The request as sent upstream: the same method, path and query, end-to-end headers and
    /// body; `host` names the upstream, `content-length` the body.
    fn outgoing(&self, request: &RecordedRequest) -> Vec<u8> {
        let target = match &request.query {
            Some(query) => format!("{}?{query}", request.path),
            None => request.path.clone(),
        };
        let host = self
            .authority
            .trim_end_matches(":443")
            .trim_end_matches(":80");
        let mut head = format!("{} {target} HTTP/1.1\r\nhost: {host}\r\n", request.method);
        for (name, value) in &request.headers {
            if name != "host" && !HOP_BY_HOP.contains(&name.as_str()) {
                // As read by the kit's reader, a field holds no CR or LF; `visible` keeps it so.
                head.push_str(&format!("{}: {}\r\n", visible(name), visible(value)));
            }
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", request.body.len()));
        [head.as_bytes(), &request.body].concat()
    }
}

/// The most bytes of an upstream's answer body the proxy reads (1 MiB, the gateway's own
/// request limit; a cancel answer is a few hundred bytes): past it the exchange fails, the
/// client gets a 502 and the journal says so.
pub const MAX_ANSWER_BYTES: usize = 1 << 20;

/// One exchange on `stream`: the request written, its answer read back whole (the body to at
/// most [`MAX_ANSWER_BYTES`]) with the connection's own headers left out.
async fn send<S>(
    mut stream: S,
    request: &[u8],
    head_only: bool,
) -> Result<HttpAnswer, UpstreamError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    stream
        .write_all(request)
        .await
        .map_err(UpstreamError::Send)?;
    let mut reader = Reader::new(stream);
    let response = reader
        .response(head_only, MAX_ANSWER_BYTES)
        .await
        .map_err(|e| match e {
            HttpError::CutShort if !reader.received() => UpstreamError::NoResponse,
            e => UpstreamError::Answer(e),
        })?;
    Ok(HttpAnswer {
        status: response.status,
        headers: response
            .headers
            .into_iter()
            .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
            .collect(),
        body: response.body,
        delay: Duration::ZERO,
        fault: None,
    })
}

/// Why the proxy cannot use its upstream, or got no whole answer from it.
#[derive(Debug)]
#[non_exhaustive]
pub enum UpstreamError {
    /// `--upstream` names no `http://` or `https://` URL (the URL as given).
    Scheme(String),
    /// `--upstream` has a path (the URL as given).
    Path(String),
    /// The CA file cannot be read (its path, why).
    Ca(PathBuf, String),
    /// The CA file holds no certificate rustls accepts.
    NoCa(PathBuf),
    /// rustls refuses the TLS settings.
    Tls(rustls::Error),
    /// The upstream cannot be reached (its `host:port`).
    Connect(String, std::io::Error),
    /// The upstream's host is no name TLS can verify.
    HostName(String, String),
    /// The TLS handshake failed (the upstream's `host:port`).
    Handshake(String, std::io::Error),
    /// The request cannot be written.
    Send(std::io::Error),
    /// The connection closed before a byte of an answer.
    NoResponse,
    /// The answer was not whole: cut short, broken, or over [`MAX_ANSWER_BYTES`].
    Answer(HttpError),
    /// No whole answer within the time limit.
    Timeout(Duration),
}

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpstreamError::Scheme(url) => write!(
                f,
                "--upstream {url}: expected http://HOST[:PORT] or https://HOST[:PORT]"
            ),
            UpstreamError::Path(url) => {
                write!(f, "--upstream {url}: expected a scheme and host, no path")
            }
            UpstreamError::Ca(path, e) => {
                write!(f, "{}: cannot read CA certificates: {e}", path.display())
            }
            UpstreamError::NoCa(path) => {
                write!(f, "{}: holds no usable CA certificate", path.display())
            }
            UpstreamError::Tls(e) => write!(f, "TLS: {e}"),
            UpstreamError::Connect(authority, e) => write!(f, "connect to {authority}: {e}"),
            UpstreamError::HostName(host, e) => write!(f, "TLS: host name `{host}`: {e}"),
            UpstreamError::Handshake(authority, e) => {
                write!(f, "TLS handshake with {authority}: {e}")
            }
            UpstreamError::Send(e) => write!(f, "the request cannot be sent: {e}"),
            UpstreamError::NoResponse => {
                f.write_str("no response: the connection closed before any answer")
            }
            UpstreamError::Answer(HttpError::AnswerTooLarge(limit)) => write!(
                f,
                "the upstream's answer body is larger than {limit} bytes (1 MiB), the proxy's limit; cut there"
            ),
            UpstreamError::Answer(HttpError::CutShort) => {
                f.write_str("the answer was cut short: the connection ended inside it")
            }
            UpstreamError::Answer(e) => write!(f, "no whole answer: {e}"),
            UpstreamError::Timeout(limit) => {
                write!(f, "no answer from upstream within {} s", limit.as_secs())
            }
        }
    }
}

impl std::error::Error for UpstreamError {}

/// TLS to the upstream, verified against `ca` or the system's roots.
fn client_config(ca: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, UpstreamError> {
    let path = match ca {
        Some(path) => path.to_owned(),
        None => std::env::var_os("SSL_CERT_FILE")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| "/etc/ssl/certs/ca-certificates.crt".into()),
    };
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(&path)
        .map_err(|e| UpstreamError::Ca(path.clone(), e.to_string()))?;
    for cert in certs {
        let cert = cert.map_err(|e| UpstreamError::Ca(path.clone(), e.to_string()))?;
        // A system bundle may hold a certificate rustls refuses; the others still count.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err(UpstreamError::NoCa(path));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(UpstreamError::Tls)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
