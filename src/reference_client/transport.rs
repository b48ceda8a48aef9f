//! The transport: HTTP/1.1 over plain TCP, or over TLS trusting exactly the instruction's
//! certificate authority, the whole exchange within the instruction's timeout.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use crate::protocol::Instruction;

use super::{TlsSetupError, TransportError};

/// An HTTP answer as read: status, headers (names in lower case), body.
pub(crate) struct Received {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Bytes,
}

impl Received {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The TLS client configuration for an `https://` gateway: trusts exactly the instruction's
/// `caCertificatePem` (no system roots: the gateway is a test gateway), or, with the
/// [`Defect::NoCertificateCheck`] defect, any certificate for any name.
pub(super) fn client_tls(
    instruction: &Instruction,
    trust_all: bool,
) -> Result<Option<std::sync::Arc<rustls::ClientConfig>>, TlsSetupError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    if !instruction.gateway.url.starts_with("https://") {
        return Ok(None);
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(TlsSetupError::Protocols)?;
    let config = if trust_all {
        builder
            .dangerous()
            .with_custom_certificate_verifier(std::sync::Arc::new(TrustAll(provider)))
            .with_no_client_auth()
    } else {
        let pem = instruction
            .gateway
            .ca_certificate_pem
            .as_deref()
            .ok_or(TlsSetupError::NoCa)?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(TlsSetupError::CaPem)?;
            roots.add(cert).map_err(TlsSetupError::CaCertificate)?;
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(Some(std::sync::Arc::new(config)))
}

/// The [`Defect::NoCertificateCheck`] verifier: believes every certificate, as clients built
/// on "trust all" socket factories do.
#[derive(Debug)]
struct TrustAll(std::sync::Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for TrustAll {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// POSTs a body over HTTP/1.1, plain or (for an `https://` gateway, with `tls`) over TLS with
/// the certificate and host name checked, the whole exchange within `timeout`.
pub(super) async fn post(
    base: &str,
    tls: Option<&std::sync::Arc<rustls::ClientConfig>>,
    path: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
    timeout: Duration,
) -> Result<Received, TransportError> {
    let (authority, tls) = match (
        base.strip_prefix("http://"),
        base.strip_prefix("https://"),
        tls,
    ) {
        (Some(rest), _, _) => (rest, None),
        (_, Some(rest), Some(tls)) => (rest, Some(tls.clone())),
        _ => return Err(TransportError::UnsupportedUrl(base.to_owned())),
    };
    let authority = authority.trim_end_matches('/').to_owned();
    let exchange = async {
        let stream = tokio::net::TcpStream::connect(&authority)
            .await
            .map_err(|source| TransportError::Connect {
                authority: authority.clone(),
                source,
            })?;
        let request = build_request(&authority, path, headers, body)?;
        match tls {
            None => send(stream, request).await,
            Some(config) => {
                let host = authority
                    .rsplit_once(':')
                    .map_or(authority.as_str(), |(h, _)| h)
                    .trim_start_matches('[')
                    .trim_end_matches(']');
                let name =
                    rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|source| {
                        TransportError::HostName {
                            host: host.to_owned(),
                            source,
                        }
                    })?;
                // A refused certificate ends the exchange here, before any request byte is sent.
                let stream = tokio_rustls::TlsConnector::from(config)
                    .connect(name, stream)
                    .await
                    .map_err(|source| TransportError::Handshake {
                        authority: authority.clone(),
                        source,
                    })?;
                send(stream, request).await
            }
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| TransportError::Timeout(timeout))?
}

fn build_request(
    authority: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> Result<hyper::Request<Full<Bytes>>, TransportError> {
    let mut request = hyper::Request::post(path).header("host", authority);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request
        .body(Full::new(Bytes::from(body)))
        .map_err(TransportError::Request)
}

/// Sends one HTTP/1.1 request on `stream` and reads the whole answer (`proxy` forwards with it
/// too).
pub(crate) async fn send<S>(
    stream: S,
    request: hyper::Request<Full<Bytes>>,
) -> Result<Received, TransportError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(TransportError::HttpHandshake)?;
    tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(TransportError::NoResponse)?;
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
        .collect();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(TransportError::Body)?
        .to_bytes();
    Ok(Received {
        status,
        headers,
        body,
    })
}
