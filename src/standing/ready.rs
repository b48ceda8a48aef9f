//! The ready line: the one JSON line a standing server prints once it accepts connections,
//! with everything a test suite needs to call it (`docs/serve.md`, "The ready line").
//!
//! It goes to standard output, to `--ready-file`, and (with `--exec`) into the command's
//! environment, member by member (`ALIPAY_KIT_URL`, ...). One type serves all three and the
//! tests that read it back, so a member is named and ordered in one place.

use std::io::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// What a standing server says once it is ready. `serve` fills the keys and the client id;
/// `proxy` the upstream. Members that do not apply are left out of the line.
///
/// # Example
/// ```
/// use alipay_cancel_kit::standing::Ready;
/// let ready = Ready::new("http://127.0.0.1:8640");
/// let version = env!("CARGO_PKG_VERSION");
/// assert_eq!(ready.to_line(), format!(r#"{{"url":"http://127.0.0.1:8640","version":"{version}"}}"#));
/// assert_eq!(Ready::parse(&ready.to_line()).unwrap(), ready);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ready {
    /// The base URL clients call.
    pub url: String,
    /// `proxy`: the gateway it forwards to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// `serve`: the client id to send (the one served, or the default when any is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `serve`: the merchant's private key (base64 PKCS#8 DER), to sign requests with; left
    /// out for a user's own key unless `--expose-private-key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_private_key: Option<String>,
    /// `serve`: the merchant's public key (base64 SPKI DER), which verifies requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_public_key: Option<String>,
    /// `serve`: the vendor's public key (base64 SPKI DER), to verify answers with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alipay_public_key: Option<String>,
    /// `serve`: the `keyVersion` of the signature header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_version: Option<String>,
    /// The kit's version.
    pub version: String,
    /// With a run CA (`--tls`): its certificate (PEM), for the client to trust.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificate_pem: Option<String>,
}

/// A ready line that could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub struct ReadyError(serde_json::Error);

impl std::fmt::Display for ReadyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the ready line is not a ready line (docs/serve.md, \"The ready line\"): {}",
            self.0
        )
    }
}

impl std::error::Error for ReadyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl Ready {
    /// A ready line with only the URL and the kit's version.
    pub fn new(url: impl Into<String>) -> Ready {
        Ready {
            url: url.into(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            ..Ready::default()
        }
    }

    /// Reads a ready line (as printed, or from `--ready-file`).
    ///
    /// # Errors
    /// [`ReadyError`] when the text is not JSON or lacks `url` or `version`.
    pub fn parse(line: &str) -> Result<Ready, ReadyError> {
        serde_json::from_str(line.trim()).map_err(ReadyError)
    }

    /// The line as printed: compact JSON, members in a fixed order.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("a ready line always serialises")
    }

    /// Whether the line holds a private key (the ready file is then readable by its owner
    /// only).
    pub fn holds_secret(&self) -> bool {
        self.merchant_private_key.is_some()
    }

    /// The environment `--exec` gives its command: every member under an `ALIPAY_KIT_*` name
    /// (`merchantPrivateKey` → `ALIPAY_KIT_MERCHANT_PRIVATE_KEY`), and the whole line as
    /// `ALIPAY_KIT_READY`.
    pub fn environment(&self) -> Vec<(String, String)> {
        let mut env = vec![("ALIPAY_KIT_READY".to_owned(), self.to_line())];
        if let Ok(serde_json::Value::Object(members)) = serde_json::to_value(self) {
            for (name, value) in members {
                if let Some(text) = value.as_str() {
                    env.push((format!("ALIPAY_KIT_{}", screaming(&name)), text.to_owned()));
                }
            }
        }
        env
    }

    /// Writes the line to `path` atomically (a fresh file beside it, renamed over it);
    /// readable by its owner only (0600) when it holds a private key.
    ///
    /// # Errors
    /// When the file cannot be made or renamed into place.
    pub fn write_file(&self, path: &Path) -> std::io::Result<()> {
        use std::os::unix::fs::OpenOptionsExt as _;
        let partial = path.with_extension("partial");
        // A file left by an earlier run, or planted, is not written through.
        match std::fs::remove_file(&partial) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(if self.holds_secret() { 0o600 } else { 0o644 })
            .open(&partial)?;
        file.write_all(format!("{}\n", self.to_line()).as_bytes())?;
        drop(file);
        std::fs::rename(&partial, path)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_keep_the_order_of_the_line_as_documented() {
        let ready = Ready {
            client_id: Some("TEST_5YBZ1".into()),
            merchant_private_key: Some("k".into()),
            key_version: Some("1".into()),
            ca_certificate_pem: Some("pem".into()),
            ..Ready::new("https://localhost:1")
        };
        assert_eq!(
            ready.to_line(),
            format!(
                r#"{{"url":"https://localhost:1","clientId":"TEST_5YBZ1","merchantPrivateKey":"k","keyVersion":"1","version":"{}","caCertificatePem":"pem"}}"#,
                env!("CARGO_PKG_VERSION")
            )
        );
        assert!(ready.holds_secret());
        assert!(!Ready::new("u").holds_secret());
    }

    #[test]
    fn the_environment_names_each_member_and_the_whole_line() {
        let ready = Ready {
            merchant_private_key: Some("k".into()),
            ..Ready::new("u")
        };
        let env = ready.environment();
        assert_eq!(env[0], ("ALIPAY_KIT_READY".into(), ready.to_line()));
        assert!(env.contains(&("ALIPAY_KIT_URL".into(), "u".into())));
        assert!(env.contains(&("ALIPAY_KIT_MERCHANT_PRIVATE_KEY".into(), "k".into())));
        assert!(!env.iter().any(|(name, _)| name == "ALIPAY_KIT_UPSTREAM"));
    }

    #[test]
    fn a_line_without_a_url_is_refused_naming_the_member() {
        let e = Ready::parse(r#"{"version":"0.1.0"}"#).unwrap_err();
        assert!(e.to_string().contains("missing field `url`"), "{e}");
    }
}
