//! `serve --keys DIR`: the merchant's and the vendor's keys from files of the user's own.

use std::path::{Path, PathBuf};

use crate::signature::{SignatureError, SigningKey, TestKeys};

/// A key directory that does not hold the keys `serve` needs.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeysError {
    /// The directory has neither `NAME` nor `TEST-ONLY-NAME`.
    Missing(PathBuf, String),
    /// The file cannot be read.
    Unreadable(PathBuf, std::io::Error),
    /// The file holds no base64 PKCS#8 key.
    NotAKey(PathBuf, SignatureError),
}

impl std::fmt::Display for KeysError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeysError::Missing(dir, name) => {
                write!(f, "{}: no {name} (nor TEST-ONLY-{name})", dir.display())
            }
            KeysError::Unreadable(path, e) => write!(f, "{}: {e}", path.display()),
            KeysError::NotAKey(path, e) => write!(f, "{}: {e}", path.display()),
        }
    }
}

impl std::error::Error for KeysError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KeysError::Missing(..) => None,
            KeysError::Unreadable(_, e) => Some(e),
            KeysError::NotAKey(_, e) => Some(e),
        }
    }
}

/// Keys from a directory: `merchant-private.pkcs8.b64` and `vendor-private.pkcs8.b64`
/// (base64 PKCS#8 DER, as the vendor's formats), optionally `other-vendor-private.pkcs8.b64`
/// (fresh when absent); the committed `TEST-ONLY-` names are read too, so
/// `--keys conformance/keys` works.
///
/// # Errors
/// [`KeysError`] naming the file that is missing, cannot be read or does not hold a key.
pub fn keys_from_dir(dir: &Path) -> Result<TestKeys, KeysError> {
    let read = |name: &str| -> Result<Option<SigningKey>, KeysError> {
        for candidate in [name.to_owned(), format!("TEST-ONLY-{name}")] {
            let path = dir.join(&candidate);
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    return SigningKey::from_base64_pkcs8(text.trim())
                        .map(Some)
                        .map_err(|e| KeysError::NotAKey(path, e));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(KeysError::Unreadable(path, e)),
            }
        }
        Ok(None)
    };
    let required =
        |name: &str| read(name)?.ok_or_else(|| KeysError::Missing(dir.to_owned(), name.to_owned()));
    Ok(TestKeys {
        merchant: required("merchant-private.pkcs8.b64")?,
        vendor: required("vendor-private.pkcs8.b64")?,
        other_vendor: match read("other-vendor-private.pkcs8.b64")? {
            Some(key) => key,
            None => SigningKey::generate(),
        },
    })
}
