//! `alipay-cancel-kit health URL`: asks a standing `serve` or `proxy` whether it is up, for
//! places with no `curl` (a `FROM scratch` container's `HEALTHCHECK`, a CI wait loop).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Why a health probe failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum HealthError {
    /// The URL is not `http://host:port` (TLS is not probed: the container serves plain HTTP).
    Url(String),
    /// The address did not resolve, the connection failed or timed out.
    Io(std::io::Error),
    /// An answer came, but not `200` with `"status":"ok"`.
    Unhealthy(String),
}

impl std::fmt::Display for HealthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HealthError::Url(url) => write!(
                f,
                "`{url}`: expected a plain `http://HOST:PORT` URL (health does not speak TLS)"
            ),
            HealthError::Io(e) => write!(f, "{e}"),
            HealthError::Unhealthy(answer) => write!(f, "not healthy: {answer}"),
        }
    }
}

impl std::error::Error for HealthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HealthError::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// `GET /__kit/health` of the server at `url`, within `timeout`; the answer's body when it
/// says `ok`.
///
/// # Errors
/// [`HealthError`]: a URL that is not plain HTTP, a connection that fails, or any answer but
/// a `200` whose body says `"status":"ok"`.
pub fn probe(url: &str, timeout: Duration) -> Result<String, HealthError> {
    let authority = url
        .strip_prefix("http://")
        .map(|rest| rest.trim_end_matches('/'))
        .filter(|a| !a.is_empty() && !a.contains('/'))
        .ok_or_else(|| HealthError::Url(url.to_owned()))?;
    let address = authority
        .to_socket_addrs()
        .map_err(HealthError::Io)?
        .next()
        .ok_or_else(|| HealthError::Url(url.to_owned()))?;
    let mut stream = TcpStream::connect_timeout(&address, timeout).map_err(HealthError::Io)?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(HealthError::Io)?;
    write!(
        stream,
        "GET /__kit/health HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\n\r\n"
    )
    .map_err(HealthError::Io)?;
    let mut answer = Vec::new();
    // A bounded read: a health answer is a few dozen bytes.
    stream
        .take(64 * 1024)
        .read_to_end(&mut answer)
        .map_err(HealthError::Io)?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let ok = head.starts_with("HTTP/1.1 200") && body.replace(' ', "").contains(r#""status":"ok""#);
    if ok {
        Ok(body.trim().to_owned())
    } else {
        Err(HealthError::Unhealthy(
            head.lines().next().unwrap_or("no answer").to_owned(),
        ))
    }
}
