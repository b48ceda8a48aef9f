//! The proxy's way to the upstream gateway: HTTP/1.1, plain or over TLS verified against the
//! system's roots or a CA the user names. Nothing is ever trusted blindly.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

use crate::contract::RecordedRequest;
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
    /// A message naming what is wrong: the URL, or the CA file.
    pub fn new(url: &str, ca: Option<&Path>, timeout: Duration) -> Result<Upstream, String> {
        let (rest, tls) = if let Some(rest) = url.strip_prefix("http://") {
            (rest, false)
        } else if let Some(rest) = url.strip_prefix("https://") {
            (rest, true)
        } else {
            return Err(format!(
                "--upstream {url}: expected http://HOST[:PORT] or https://HOST[:PORT]"
            ));
        };
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            return Err(format!(
                "--upstream {url}: expected a scheme and host, no path"
            ));
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
    /// byte for byte. `Err` when no whole answer came (refused, closed, cut short, timed out).
    pub async fn forward(&self, request: &RecordedRequest) -> Result<HttpAnswer, String> {
        let exchange = async {
            let stream = tokio::net::TcpStream::connect(&self.authority)
                .await
                .map_err(|e| format!("connect to {}: {e}", self.authority))?;
            let _ = stream.set_nodelay(true);
            let outgoing = self.outgoing(request)?;
            match &self.tls {
                None => send(stream, outgoing).await,
                Some(config) => {
                    let name = ServerName::try_from(self.host.clone())
                        .map_err(|e| format!("TLS: host name `{}`: {e}", self.host))?;
                    let stream = tokio_rustls::TlsConnector::from(config.clone())
                        .connect(name, stream)
                        .await
                        .map_err(|e| format!("TLS handshake with {}: {e}", self.authority))?;
                    send(stream, outgoing).await
                }
            }
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| {
                format!(
                    "no answer from upstream within {} s",
                    self.timeout.as_secs()
                )
            })?
    }

    /// The request as sent upstream: the same method, path and query, end-to-end headers and
    /// body; `host` names the upstream.
    fn outgoing(&self, request: &RecordedRequest) -> Result<hyper::Request<Full<Bytes>>, String> {
        let target = match &request.query {
            Some(query) => format!("{}?{query}", request.path),
            None => request.path.clone(),
        };
        let mut outgoing = hyper::Request::builder()
            .method(request.method.as_str())
            .uri(target)
            .header(
                "host",
                self.authority
                    .trim_end_matches(":443")
                    .trim_end_matches(":80"),
            );
        for (name, value) in &request.headers {
            if name != "host" && !HOP_BY_HOP.contains(&name.as_str()) {
                outgoing = outgoing.header(name.as_str(), value.as_str());
            }
        }
        outgoing
            .body(Full::new(Bytes::from(request.body.clone())))
            .map_err(|e| format!("the request cannot be forwarded: {e}"))
    }
}

/// The most bytes of an upstream's answer body the proxy reads (1 MiB, the gateway's own
/// request limit; a cancel answer is a few hundred bytes): past it the exchange fails, the
/// client gets a 502 and the journal says so.
pub const MAX_ANSWER_BYTES: usize = 1 << 20;

/// One exchange on `stream`, with the connection's own headers left out of the answer; the
/// body read to at most [`MAX_ANSWER_BYTES`].
async fn send<S>(stream: S, request: hyper::Request<Full<Bytes>>) -> Result<HttpAnswer, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use http_body_util::BodyExt as _;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake: {e}"))?;
    // Ends with the exchange: the sender and the connection are dropped together.
    let connection = tokio::spawn(connection);
    let _abort = AbortOnDrop(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("no response: {e}"))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
        .collect();
    let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                format!(
                    "the upstream's answer body is larger than {MAX_ANSWER_BYTES} bytes (1 MiB), the proxy's limit; cut there"
                )
            } else {
                format!("the answer body was cut short: {e}")
            }
        })?
        .to_bytes();
    Ok(HttpAnswer {
        status,
        headers,
        body: body.to_vec(),
        delay: Duration::ZERO,
        fault: None,
    })
}

/// Aborts a task when dropped: the upstream connection's driver ends with its exchange.
struct AbortOnDrop(tokio::task::JoinHandle<Result<(), hyper::Error>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// TLS to the upstream, verified against `ca` or the system's roots.
fn client_config(ca: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let path = match ca {
        Some(path) => path.to_owned(),
        None => std::env::var_os("SSL_CERT_FILE")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| "/etc/ssl/certs/ca-certificates.crt".into()),
    };
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(&path)
        .map_err(|e| format!("{}: cannot read CA certificates: {e}", path.display()))?;
    for cert in certs {
        let cert = cert.map_err(|e| format!("{}: {e}", path.display()))?;
        // A system bundle may hold a certificate rustls refuses; the others still count.
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err(format!(
            "{}: holds no usable CA certificate",
            path.display()
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
