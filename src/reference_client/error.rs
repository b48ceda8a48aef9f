//! What goes wrong in the reference client: a modelled [`Crash`], TLS set-up, the transport,
//! and the adapter's standard streams.

use std::time::Duration;

/// The client crashed (a defect that models a crash); the adapter protocol sees no outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash(pub String);

/// Why the built-in client cannot set up TLS for an `https://` gateway; the outcome is
/// `UNKNOWN` with this text as its `error`.
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsSetupError {
    /// rustls offers none of its safe protocol versions with this provider.
    Protocols(rustls::Error),
    /// The instruction has no `caCertificatePem`: nothing to trust.
    NoCa,
    /// `caCertificatePem` is not PEM.
    CaPem(rustls::pki_types::pem::Error),
    /// A certificate of `caCertificatePem` cannot be trusted as a root.
    CaCertificate(rustls::Error),
}

impl std::fmt::Display for TlsSetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsSetupError::Protocols(e) => write!(f, "TLS: {e}"),
            TlsSetupError::NoCa => {
                f.write_str("an https:// gateway without `caCertificatePem`: nothing to trust")
            }
            TlsSetupError::CaPem(e) => write!(f, "caCertificatePem: {e}"),
            TlsSetupError::CaCertificate(e) => write!(f, "caCertificatePem: {e}"),
        }
    }
}

impl std::error::Error for TlsSetupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TlsSetupError::Protocols(e) | TlsSetupError::CaCertificate(e) => Some(e),
            TlsSetupError::CaPem(e) => Some(e),
            TlsSetupError::NoCa => None,
        }
    }
}

/// Why an HTTP exchange brought no whole answer; the outcome is `UNKNOWN` (or, with the
/// [`Defect::TransportErrorAsFailure`](super::Defect::TransportErrorAsFailure) defect, `FAILED`) with this text as its `error`.
#[derive(Debug)]
#[non_exhaustive]
pub enum TransportError {
    /// The gateway URL is neither `http://` nor `https://` (with TLS set up).
    UnsupportedUrl(String),
    /// The TCP connection failed.
    Connect {
        /// `host:port`.
        authority: String,
        /// Why.
        source: std::io::Error,
    },
    /// The host is not a valid TLS server name.
    HostName {
        /// The host.
        host: String,
        /// Why.
        source: rustls::pki_types::InvalidDnsNameError,
    },
    /// The TLS handshake failed (a refused certificate ends here).
    Handshake {
        /// `host:port`.
        authority: String,
        /// Why.
        source: std::io::Error,
    },
    /// The request cannot be built.
    Request(hyper::http::Error),
    /// The HTTP/1.1 handshake failed.
    HttpHandshake(hyper::Error),
    /// The request was sent, no response came.
    NoResponse(hyper::Error),
    /// The body was cut short.
    Body(hyper::Error),
    /// No whole answer within the instruction's timeout.
    Timeout(Duration),
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::UnsupportedUrl(base) => write!(
                f,
                "unsupported gateway URL `{base}` (expected http://host:port or https://host:port)"
            ),
            TransportError::Connect { authority, source } => {
                write!(f, "connect to {authority}: {source}")
            }
            TransportError::HostName { host, source } => {
                write!(f, "TLS: host name `{host}`: {source}")
            }
            TransportError::Handshake { authority, source } => {
                write!(f, "TLS handshake with {authority}: {source}")
            }
            TransportError::Request(e) => write!(f, "building the request: {e}"),
            TransportError::HttpHandshake(e) => write!(f, "HTTP handshake: {e}"),
            TransportError::NoResponse(e) => write!(f, "no response: {e}"),
            TransportError::Body(e) => write!(f, "reading the body: {e}"),
            TransportError::Timeout(limit) => {
                write!(f, "no answer within {} ms", limit.as_millis())
            }
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TransportError::Connect { source, .. } | TransportError::Handshake { source, .. } => {
                Some(source)
            }
            TransportError::HostName { source, .. } => Some(source),
            TransportError::Request(e) => Some(e),
            TransportError::HttpHandshake(e)
            | TransportError::NoResponse(e)
            | TransportError::Body(e) => Some(e),
            TransportError::UnsupportedUrl(_) | TransportError::Timeout(_) => None,
        }
    }
}

/// Why `reference-adapter` stopped serving instructions.
#[derive(Debug)]
#[non_exhaustive]
pub enum AdapterError {
    /// Standard input or output failed.
    Io(std::io::Error),
    /// The client crashed on purpose (a crash defect): the adapter exits as a panicking Rust
    /// program does, without an outcome.
    Crash(Crash),
}

impl std::fmt::Display for AdapterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdapterError::Io(e) => e.fmt(f),
            AdapterError::Crash(Crash(why)) => {
                write!(f, "reference client crashed (deliberate defect): {why}")
            }
        }
    }
}

impl std::error::Error for AdapterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AdapterError::Io(e) => Some(e),
            AdapterError::Crash(_) => None,
        }
    }
}

impl From<std::io::Error> for AdapterError {
    fn from(e: std::io::Error) -> AdapterError {
        AdapterError::Io(e)
    }
}
