//! The RSA256 signing scheme of the cancel API, both directions (`docs/api.md#signing`).
//!
//! - The string to sign is `POST <path>\n<Client-Id>.<time>.<body>`: the URI path only, a single
//!   line feed, the client id, the `Request-Time` (for a request) or `response-time` (for a
//!   response), and the body's exact bytes, never re-serialised ([`string_to_sign`]).
//! - It is signed with RSASSA-PKCS1-v1_5 over SHA-256, encoded as standard base64 with padding,
//!   then URL-encoded (`+` → `%2B`, `/` → `%2F`, `=` → `%3D`) ([`sign`]).
//! - It travels in a `Signature` header of comma-separated `key=value` pairs:
//!   `algorithm=RSA256,keyVersion=1,signature=<value>` ([`header_value`], [`SignatureHeader`]).
//! - Keys come in the vendor's formats: a private key is base64 of PKCS#8 DER, a public key is
//!   base64 of X.509 SubjectPublicKeyInfo DER, both without PEM armour ([`SigningKey`],
//!   [`VerifyingKey`]).
//!
//! Parsing is tolerant where the official SDKs differ: spaces around pairs, any key order,
//! percent-escapes of either case (.NET sends `%2b`), and a raw base64 value that was never
//! URL-encoded still decodes; [`SignatureHeader::is_url_encoded`] tells the two apart so the
//! kit can report it.
//!
//! The scheme is deterministic: the same key and input always give the same signature, which is
//! what makes golden vectors possible.
//!
//! # Example
//! ```
//! use alipay_cancel_kit::signature::{header_value, sign, verify, SignatureHeader, TestKeys};
//!
//! let keys = TestKeys::fixed();
//! let path = "/ams/api/v1/payments/cancel";
//! let body = br#"{"paymentId":"2019061218401080010018882020035XXXX"}"#;
//! let value = sign(&keys.merchant, path, "TEST_5YBZ1", "1685599933871", body);
//! let header = header_value("1", &value);
//!
//! let parsed = SignatureHeader::parse(&header)?;
//! assert!(parsed.is_url_encoded());
//! let public = keys.merchant.verifying_key();
//! verify(&public, path, "TEST_5YBZ1", "1685599933871", body, &parsed.signature)?;
//! # Ok::<(), alipay_cancel_kit::signature::SignatureError>(())
//! ```

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use openssl::pkey::{PKey, Private, Public};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rsa::sha2::{Digest, Sha256};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};

/// The only algorithm name the API defines for the `Signature` header.
pub const ALGORITHM: &str = "RSA256";

/// The key size the vendor uses in practice, and the size [`SigningKey::generate`] makes.
pub const KEY_BITS: usize = 2048;

/// Why a key, a `Signature` header or a signature was refused.
///
/// Each message is lowercase, names the rule that broke and what was found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// A key is wrapped in PEM armour (`-----BEGIN ...`); the vendor format is bare base64.
    KeyArmoured {
        /// `private key` or `public key`.
        which: &'static str,
    },
    /// A key is not standard base64.
    KeyNotBase64 {
        /// `private key` or `public key`.
        which: &'static str,
        /// What the base64 decoder said.
        detail: String,
    },
    /// The private key's bytes are not a PKCS#8 DER RSA private key.
    PrivateKeyNotPkcs8 {
        /// What the DER decoder said.
        detail: String,
    },
    /// The public key's bytes are not an X.509 SubjectPublicKeyInfo DER RSA public key.
    PublicKeyNotSpki {
        /// What the DER decoder said.
        detail: String,
    },
    /// A `Signature` header part is not of the form `key=value` (or is empty).
    HeaderMalformedPair {
        /// The part as found.
        found: String,
    },
    /// A `Signature` header names the same key twice.
    HeaderDuplicateKey {
        /// The key named twice.
        key: String,
    },
    /// A `Signature` header lacks a required key (`algorithm` or `signature`).
    HeaderMissingKey {
        /// The missing key.
        key: &'static str,
    },
    /// A `Signature` header carries an empty value for a key that needs one.
    HeaderEmptyValue {
        /// The key with the empty value.
        key: &'static str,
    },
    /// A signature value holds a `%` not followed by two hex digits.
    BadPercentEscape {
        /// The offending escape as found (at most three characters).
        found: String,
    },
    /// A signature value, once percent-decoded, is not standard base64 with padding.
    SignatureNotBase64 {
        /// What the base64 decoder said.
        detail: String,
    },
    /// The signature decodes but does not verify with the key over the string to sign.
    Mismatch,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureError::KeyArmoured { which } => write!(
                f,
                "{which}: expected bare base64 of DER without PEM armour, found `-----BEGIN`"
            ),
            SignatureError::KeyNotBase64 { which, detail } => {
                write!(f, "{which}: expected standard base64, {detail}")
            }
            SignatureError::PrivateKeyNotPkcs8 { detail } => write!(
                f,
                "private key: expected base64 of PKCS#8 DER holding an RSA key (decoder: {detail})"
            ),
            SignatureError::PublicKeyNotSpki { detail } => write!(
                f,
                "public key: expected base64 of X.509 SubjectPublicKeyInfo DER holding an RSA key (decoder: {detail})"
            ),
            SignatureError::HeaderMalformedPair { found } if found.is_empty() => f.write_str(
                "signature header: expected comma-separated `key=value` pairs, found an empty part",
            ),
            SignatureError::HeaderMalformedPair { found } => write!(
                f,
                "signature header: expected comma-separated `key=value` pairs, found `{found}`"
            ),
            SignatureError::HeaderDuplicateKey { key } => {
                write!(f, "signature header: `{key}` given more than once")
            }
            SignatureError::HeaderMissingKey { key } => {
                write!(f, "signature header: missing `{key}`")
            }
            SignatureError::HeaderEmptyValue { key } => {
                write!(f, "signature header: `{key}` is empty")
            }
            SignatureError::BadPercentEscape { found } => write!(
                f,
                "signature: expected `%` followed by two hex digits, found `{found}`"
            ),
            SignatureError::SignatureNotBase64 { detail } => write!(
                f,
                "signature: expected standard base64 with padding after URL-decoding, {detail}"
            ),
            SignatureError::Mismatch => {
                f.write_str("signature does not verify over the expected string to sign")
            }
        }
    }
}

impl std::error::Error for SignatureError {}

/// Decodes a vendor-format key: bare standard base64, ASCII whitespace (line breaks) ignored.
fn decode_key_base64(which: &'static str, text: &str) -> Result<Vec<u8>, SignatureError> {
    if text.contains("-----BEGIN") {
        return Err(SignatureError::KeyArmoured { which });
    }
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| SignatureError::KeyNotBase64 {
            which,
            detail: describe_base64_error(e),
        })
}

/// Says what a base64 decoder found, in the house's words.
fn describe_base64_error(error: base64::DecodeError) -> String {
    match error {
        base64::DecodeError::InvalidByte(offset, byte) => {
            format!("found {:?} at offset {offset}", byte as char)
        }
        base64::DecodeError::InvalidLength(length) => {
            format!("found {length} symbols, a length no padded base64 has")
        }
        base64::DecodeError::InvalidLastSymbol(offset, byte) => format!(
            "found {:?} at offset {offset}, a last symbol with stray bits",
            byte as char
        ),
        base64::DecodeError::InvalidPadding => "found missing or misplaced `=` padding".to_owned(),
    }
}

/// A merchant's (or, for responses, the vendor's) RSA private key.
///
/// Its `Debug` output never shows key material.
#[derive(Clone)]
pub struct SigningKey {
    inner: RsaPrivateKey,
    /// The same key parsed once into OpenSSL's RSA object, which signs at the hardware's pace
    /// (README, "Speed"): signing is most of a conformance run's CPU, each exchange being
    /// signed twice. Signing through the RSA object skips the provider lookups
    /// `EVP_DigestSign` makes on every call, under locks every thread of a run shares (a
    /// tenth of OpenSSL's time in a profiled `fuzz`). An `Rsa` is reference-counted: cloning
    /// the key does not copy or re-parse it. `rsa` stays for the vendor's key formats and as
    /// the second oracle.
    fast: openssl::rsa::Rsa<Private>,
}

impl PartialEq for SigningKey {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

impl Eq for SigningKey {}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("bits", &self.bits())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads a private key in the vendor format: base64 of PKCS#8 DER, no PEM armour.
    ///
    /// ASCII whitespace inside the text (line breaks from copying) is ignored.
    ///
    /// # Errors
    /// [`SignatureError::KeyArmoured`] for PEM text, [`SignatureError::KeyNotBase64`] for text
    /// that is not base64, [`SignatureError::PrivateKeyNotPkcs8`] for bytes that are not a
    /// PKCS#8 RSA key (a PKCS#1 `RSA PRIVATE KEY` is refused too).
    ///
    /// # Example
    /// ```
    /// use alipay_cancel_kit::signature::{SigningKey, TestKeys};
    /// let text = TestKeys::fixed().merchant.to_base64_pkcs8();
    /// let key = SigningKey::from_base64_pkcs8(&text)?;
    /// assert_eq!(key.bits(), 2048);
    /// assert!(SigningKey::from_base64_pkcs8("not a key").is_err());
    /// # Ok::<(), alipay_cancel_kit::signature::SignatureError>(())
    /// ```
    pub fn from_base64_pkcs8(text: &str) -> Result<Self, SignatureError> {
        let der = decode_key_base64("private key", text)?;
        let inner = RsaPrivateKey::from_pkcs8_der(&der).map_err(|e| {
            SignatureError::PrivateKeyNotPkcs8 {
                detail: e.to_string(),
            }
        })?;
        SigningKey::with_fast(inner)
    }

    /// Writes the key in the vendor format: base64 of PKCS#8 DER, no armour, no line breaks.
    pub fn to_base64_pkcs8(&self) -> String {
        let der = self
            .inner
            .to_pkcs8_der()
            .expect("an RSA private key always encodes as PKCS#8");
        STANDARD.encode(der.as_bytes())
    }

    /// The matching public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey::with_fast(self.inner.to_public_key())
    }

    /// Makes a fresh 2048-bit key from OpenSSL's random generator. For tests: a run
    /// generates its keys once, since each takes a noticeable fraction of a second.
    pub fn generate() -> SigningKey {
        // OpenSSL finds the primes several times faster than the `rsa` crate: every `run` and
        // `fuzz` starts by generating three keys. The key then passes through PKCS#8, the
        // format both read.
        let der = openssl::rsa::Rsa::generate(KEY_BITS as u32)
            .and_then(PKey::from_rsa)
            .and_then(|key| key.private_key_to_pkcs8())
            .expect("generating a 2048-bit RSA key does not fail");
        let inner = RsaPrivateKey::from_pkcs8_der(&der)
            .expect("the rsa crate reads the PKCS#8 OpenSSL writes");
        SigningKey::with_fast(inner).expect("OpenSSL accepts a fresh 2048-bit key")
    }

    fn with_fast(inner: RsaPrivateKey) -> Result<SigningKey, SignatureError> {
        let der = inner
            .to_pkcs8_der()
            .map_err(|e| SignatureError::PrivateKeyNotPkcs8 {
                detail: e.to_string(),
            })?;
        let fast = PKey::private_key_from_pkcs8(der.as_bytes())
            .and_then(|key| key.rsa())
            .map_err(|e| SignatureError::PrivateKeyNotPkcs8 {
                detail: e.to_string(),
            })?;
        Ok(SigningKey { inner, fast })
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.inner.size() * 8
    }

    /// Signs arbitrary bytes with RSASSA-PKCS1-v1_5 over SHA-256; the raw signature bytes.
    ///
    /// [`sign`] is this over [`string_to_sign`], encoded; this lower level lets a test gateway
    /// sign a string of its own making (a deliberately wrong one, say).
    pub fn sign_message(&self, message: &[u8]) -> Vec<u8> {
        // PKCS#1 v1.5 is deterministic: OpenSSL and `rsa` give the same bytes (a test says
        // so); OpenSSL blinds the private-key operation on its own. PKCS#1 v1.5 is its default
        // padding for an RSA key.
        // The signature is the DigestInfo of the SHA-256 digest, padded as PKCS#1 v1.5 type 1
        // and raised to the private exponent: exactly RSA_sign's work, without the EVP layer.
        let info = digest_info(message);
        let mut out = vec![0; self.fast.size() as usize];
        let n = self
            .fast
            .private_encrypt(&info, &mut out, openssl::rsa::Padding::PKCS1)
            .expect("PKCS#1 v1.5 signing with a parsed RSA key does not fail");
        out.truncate(n);
        out
    }

    /// [`SigningKey::sign_message`] through the `rsa` crate alone: the slower second oracle
    /// that proves the fast path signs the same bytes.
    pub fn sign_message_reference(&self, message: &[u8]) -> Vec<u8> {
        let digest = Sha256::digest(message);
        self.inner
            .sign(Pkcs1v15Sign::new::<Sha256>(), &digest)
            .expect("PKCS#1 v1.5 signing of a SHA-256 digest with a 2048-bit key does not fail")
    }
}

/// An RSA public key, used to verify signatures (the merchant's for requests, the vendor's for
/// responses).
#[derive(Clone)]
pub struct VerifyingKey {
    inner: RsaPublicKey,
    /// The same key for OpenSSL, built once: every exchange is verified up to three times
    /// (gateway, client, verdict).
    fast: openssl::rsa::Rsa<Public>,
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

impl Eq for VerifyingKey {}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("bits", &(self.inner.size() * 8))
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// Reads a public key in the vendor format: base64 of X.509 SubjectPublicKeyInfo DER, no
    /// PEM armour. ASCII whitespace inside the text is ignored.
    ///
    /// # Errors
    /// [`SignatureError::KeyArmoured`], [`SignatureError::KeyNotBase64`] or
    /// [`SignatureError::PublicKeyNotSpki`].
    ///
    /// # Example
    /// ```
    /// use alipay_cancel_kit::signature::{TestKeys, VerifyingKey};
    /// let public = TestKeys::fixed().vendor.verifying_key();
    /// let again = VerifyingKey::from_base64_spki(&public.to_base64_spki())?;
    /// assert_eq!(public, again);
    /// # Ok::<(), alipay_cancel_kit::signature::SignatureError>(())
    /// ```
    pub fn from_base64_spki(text: &str) -> Result<Self, SignatureError> {
        let der = decode_key_base64("public key", text)?;
        let inner = RsaPublicKey::from_public_key_der(&der).map_err(|e| {
            SignatureError::PublicKeyNotSpki {
                detail: e.to_string(),
            }
        })?;
        Ok(VerifyingKey::with_fast(inner))
    }

    fn with_fast(inner: RsaPublicKey) -> VerifyingKey {
        // From the modulus and exponent: no second DER decoder in the way.
        let fast = (|| {
            let n = openssl::bn::BigNum::from_slice(&inner.n().to_bytes_be())?;
            let e = openssl::bn::BigNum::from_slice(&inner.e().to_bytes_be())?;
            openssl::rsa::Rsa::from_public_components(n, e)
        })()
        .expect("OpenSSL takes any RSA modulus and exponent the rsa crate accepted");
        VerifyingKey { inner, fast }
    }

    /// Writes the key in the vendor format: base64 of SubjectPublicKeyInfo DER, no armour.
    pub fn to_base64_spki(&self) -> String {
        let der = self
            .inner
            .to_public_key_der()
            .expect("an RSA public key always encodes as SubjectPublicKeyInfo");
        STANDARD.encode(der.as_bytes())
    }

    /// Verifies raw signature bytes over arbitrary bytes (RSASSA-PKCS1-v1_5, SHA-256).
    ///
    /// # Errors
    /// [`SignatureError::Mismatch`] when the signature does not verify.
    pub fn verify_message(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        // Undo the public operation, check the type 1 padding (OpenSSL does), and compare
        // what it carried with the DigestInfo expected, whole: RSA_verify's check. A signature
        // of the wrong length, or a value not below the modulus, is an error: a mismatch too.
        let size = self.fast.size() as usize;
        if signature.len() != size {
            return Err(SignatureError::Mismatch);
        }
        let mut out = vec![0; size];
        match self
            .fast
            .public_decrypt(signature, &mut out, openssl::rsa::Padding::PKCS1)
        {
            Ok(n) if out[..n] == digest_info(message)[..] => Ok(()),
            _ => Err(SignatureError::Mismatch),
        }
    }

    /// [`VerifyingKey::verify_message`] through the `rsa` crate alone: the second oracle.
    pub fn verify_message_reference(
        &self,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let digest = Sha256::digest(message);
        self.inner
            .verify(Pkcs1v15Sign::new::<Sha256>(), &digest, signature)
            .map_err(|_| SignatureError::Mismatch)
    }
}

/// The DER `DigestInfo` of a message's SHA-256 digest, as RSASSA-PKCS1-v1_5 signs it
/// (RFC 8017, section 9.2, note 1: the fixed prefix, then the 32 digest bytes).
fn digest_info(message: &[u8]) -> [u8; 51] {
    const SHA256_PREFIX: [u8; 19] = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
    let mut info = [0u8; 51];
    info[..19].copy_from_slice(&SHA256_PREFIX);
    info[19..].copy_from_slice(&Sha256::digest(message));
    info
}

/// The exact bytes signed: `POST <path>\n<client_id>.<time>.<body>`.
///
/// `path` is the URI path only (no host, no query; the sandbox path in sandbox mode). `time` is
/// the request's `Request-Time`, or the response's `response-time` when a response is signed;
/// it is an opaque string. `body` is used as sent, byte for byte.
///
/// # Example
/// ```
/// use alipay_cancel_kit::signature::string_to_sign;
/// let bytes = string_to_sign("/ams/api/v1/payments/cancel", "TEST_5YBZ1", "1685599933871", b"{}");
/// assert_eq!(bytes, b"POST /ams/api/v1/payments/cancel\nTEST_5YBZ1.1685599933871.{}");
/// ```
pub fn string_to_sign(path: &str, client_id: &str, time: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + path.len() + client_id.len() + time.len() + body.len());
    out.extend_from_slice(b"POST ");
    out.extend_from_slice(path.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(client_id.as_bytes());
    out.push(b'.');
    out.extend_from_slice(time.as_bytes());
    out.push(b'.');
    out.extend_from_slice(body);
    out
}

/// Signs and encodes as standard base64 with padding, *without* URL-encoding: the raw form.
///
/// The wire form is [`sign`]; the raw form is what a non-conforming peer sends, and what the
/// kit's gateway sends on purpose in its raw-base64 scenarios.
pub fn sign_base64(
    key: &SigningKey,
    path: &str,
    client_id: &str,
    time: &str,
    body: &[u8],
) -> String {
    STANDARD.encode(key.sign_message(&string_to_sign(path, client_id, time, body)))
}

/// Signs as the API does and returns the wire value: URL-encoded standard base64.
///
/// # Example
/// ```
/// use alipay_cancel_kit::signature::{sign, TestKeys};
/// let value = sign(&TestKeys::fixed().merchant, "/ams/api/v1/payments/cancel", "C", "1", b"{}");
/// assert!(value.ends_with("%3D"));
/// assert!(!value.contains(['+', '/', '=']));
/// ```
pub fn sign(key: &SigningKey, path: &str, client_id: &str, time: &str, body: &[u8]) -> String {
    url_encode(&sign_base64(key, path, client_id, time, body))
}

/// URL-encodes the three base64 characters that need it, with upper-case hex as the SDKs (but
/// .NET) send: `+` → `%2B`, `/` → `%2F`, `=` → `%3D`. Other characters pass unchanged, which is
/// exactly form URL-encoding for the base64 alphabet.
///
/// # Example
/// ```
/// use alipay_cancel_kit::signature::url_encode;
/// assert_eq!(url_encode("ab+/=="), "ab%2B%2F%3D%3D");
/// ```
pub fn url_encode(base64: &str) -> String {
    let mut out = String::with_capacity(base64.len() + 8);
    for c in base64.chars() {
        match c {
            '+' => out.push_str("%2B"),
            '/' => out.push_str("%2F"),
            '=' => out.push_str("%3D"),
            other => out.push(other),
        }
    }
    out
}

/// Decodes `%XX` escapes (hex digits of either case); every other character passes unchanged.
///
/// A `+` stays a `+`: in a raw base64 value it is a base64 digit, not a form-encoded space.
///
/// # Errors
/// [`SignatureError::BadPercentEscape`] for a `%` not followed by two hex digits.
///
/// # Example
/// ```
/// use alipay_cancel_kit::signature::percent_decode;
/// assert_eq!(percent_decode("ab%2b%2F%3d+")?, b"ab+/=+");
/// # Ok::<(), alipay_cancel_kit::signature::SignatureError>(())
/// ```
pub fn percent_decode(text: &str) -> Result<Vec<u8>, SignatureError> {
    let mut out = Vec::with_capacity(text.len());
    // An iterator, not an index: every step takes a byte, so no change to this loop can make
    // it run forever (an index moved back by a mutant did, filling memory).
    let mut bytes = text.bytes().enumerate();
    let hex = |next: Option<(usize, u8)>| next.and_then(|(_, b)| (b as char).to_digit(16));
    while let Some((at, byte)) = bytes.next() {
        if byte != b'%' {
            out.push(byte);
            continue;
        }
        match (hex(bytes.next()), hex(bytes.next())) {
            (Some(high), Some(low)) => out.push((high * 16 + low) as u8),
            _ => {
                let found: String = text[at..].chars().take(3).collect();
                return Err(SignatureError::BadPercentEscape { found });
            }
        }
    }
    Ok(out)
}

/// Turns a signature value, URL-encoded or raw base64, into the signature bytes.
///
/// # Errors
/// [`SignatureError::BadPercentEscape`] or [`SignatureError::SignatureNotBase64`].
pub fn decode_signature(value: &str) -> Result<Vec<u8>, SignatureError> {
    let base64 = percent_decode(value)?;
    STANDARD
        .decode(&base64)
        .map_err(|e| SignatureError::SignatureNotBase64 {
            detail: describe_base64_error(e),
        })
}

/// The `Signature` header value: `algorithm=RSA256,keyVersion=<key_version>,signature=<signature>`.
///
/// `signature` goes in as given; pass the output of [`sign`] for the wire form.
///
/// # Example
/// ```
/// use alipay_cancel_kit::signature::header_value;
/// assert_eq!(header_value("1", "abc%3D"), "algorithm=RSA256,keyVersion=1,signature=abc%3D");
/// ```
pub fn header_value(key_version: &str, signature: &str) -> String {
    format!("algorithm={ALGORITHM},keyVersion={key_version},signature={signature}")
}

/// Verifies a signature value (URL-encoded or raw base64) over the string to sign.
///
/// # Errors
/// [`SignatureError::BadPercentEscape`] or [`SignatureError::SignatureNotBase64`] when the value
/// does not decode, [`SignatureError::Mismatch`] when it decodes but does not verify (another
/// key, another string to sign, tampered bytes).
///
/// # Example
/// ```
/// use alipay_cancel_kit::signature::{sign, verify, SignatureError, TestKeys};
/// let keys = TestKeys::fixed();
/// let value = sign(&keys.merchant, "/p", "C", "1", b"{}");
/// assert_eq!(verify(&keys.merchant.verifying_key(), "/p", "C", "1", b"{}", &value), Ok(()));
/// assert_eq!(
///     verify(&keys.merchant.verifying_key(), "/p", "C", "1", b"{ }", &value),
///     Err(SignatureError::Mismatch)
/// );
/// ```
pub fn verify(
    key: &VerifyingKey,
    path: &str,
    client_id: &str,
    time: &str,
    body: &[u8],
    signature: &str,
) -> Result<(), SignatureError> {
    let bytes = decode_signature(signature)?;
    key.verify_message(&string_to_sign(path, client_id, time, body), &bytes)
}

/// A parsed `Signature` header (request or response).
///
/// Parsing is tolerant as the SDKs and docs differ: pairs are comma-separated `key=value` with
/// spaces allowed around each pair and around the `=`, in any order; a value is split at the
/// first `=` only, so raw base64 padding survives; unknown keys are ignored. Keys are matched
/// exactly (`keyVersion`, not `keyversion`). Judging the values (is the algorithm `RSA256`, is
/// the signature URL-encoded) is left to the caller, so a checker can report each rule apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureHeader {
    /// The `algorithm` value as sent (the API defines only `RSA256`).
    pub algorithm: String,
    /// The `keyVersion` value as sent; absent means the default, 1.
    pub key_version: Option<String>,
    /// The `signature` value as sent, still URL-encoded (or raw, if the sender did not encode).
    pub signature: String,
}

impl SignatureHeader {
    /// Parses a `Signature` header value.
    ///
    /// # Errors
    /// [`SignatureError::HeaderMalformedPair`] for a part without `=` or with an empty key,
    /// [`SignatureError::HeaderDuplicateKey`], [`SignatureError::HeaderMissingKey`] when
    /// `algorithm` or `signature` is absent, [`SignatureError::HeaderEmptyValue`] when either is
    /// empty.
    ///
    /// # Example
    /// ```
    /// use alipay_cancel_kit::signature::SignatureHeader;
    /// let h = SignatureHeader::parse("signature=ab%2bc%3D, keyVersion=2, algorithm=RSA256")?;
    /// assert_eq!(h.algorithm, "RSA256");
    /// assert_eq!(h.key_version.as_deref(), Some("2"));
    /// assert_eq!(h.signature, "ab%2bc%3D");
    /// assert_eq!(h.decoded_base64()?, "ab+c=");
    /// let err = SignatureHeader::parse("keyVersion=1,signature=x").unwrap_err();
    /// assert_eq!(err.to_string(), "signature header: missing `algorithm`");
    /// # Ok::<(), alipay_cancel_kit::signature::SignatureError>(())
    /// ```
    pub fn parse(value: &str) -> Result<Self, SignatureError> {
        let mut algorithm = None;
        let mut key_version = None;
        let mut signature = None;
        for part in value.split(',') {
            let part = part.trim();
            let Some((key, val)) = part.split_once('=') else {
                return Err(SignatureError::HeaderMalformedPair {
                    found: part.to_owned(),
                });
            };
            let (key, val) = (key.trim(), val.trim());
            if key.is_empty() {
                return Err(SignatureError::HeaderMalformedPair {
                    found: part.to_owned(),
                });
            }
            let slot = match key {
                "algorithm" => &mut algorithm,
                "keyVersion" => &mut key_version,
                "signature" => &mut signature,
                _ => continue,
            };
            if slot.replace(val.to_owned()).is_some() {
                return Err(SignatureError::HeaderDuplicateKey {
                    key: key.to_owned(),
                });
            }
        }
        let algorithm = algorithm.ok_or(SignatureError::HeaderMissingKey { key: "algorithm" })?;
        if algorithm.is_empty() {
            return Err(SignatureError::HeaderEmptyValue { key: "algorithm" });
        }
        let signature = signature.ok_or(SignatureError::HeaderMissingKey { key: "signature" })?;
        if signature.is_empty() {
            return Err(SignatureError::HeaderEmptyValue { key: "signature" });
        }
        Ok(SignatureHeader {
            algorithm,
            key_version,
            signature,
        })
    }

    /// Whether the algorithm is the one the API defines, `RSA256`.
    pub fn is_rsa256(&self) -> bool {
        self.algorithm == ALGORITHM
    }

    /// Whether the signature value is URL-encoded: none of the raw base64 characters `+`, `/`,
    /// `=` appears unescaped. (A 2048-bit signature always carries `==` padding, so a raw value
    /// from such a key is always told apart.)
    pub fn is_url_encoded(&self) -> bool {
        !self.signature.contains(['+', '/', '='])
    }

    /// The signature value with its percent-escapes decoded: the standard base64 text.
    ///
    /// # Errors
    /// [`SignatureError::BadPercentEscape`], or [`SignatureError::SignatureNotBase64`] when the
    /// decoded bytes are not ASCII.
    pub fn decoded_base64(&self) -> Result<String, SignatureError> {
        String::from_utf8(percent_decode(&self.signature)?).map_err(|_| {
            SignatureError::SignatureNotBase64 {
                detail: "found non-ASCII bytes".to_owned(),
            }
        })
    }

    /// The signature bytes (percent-decoded, then base64-decoded).
    ///
    /// # Errors
    /// [`SignatureError::BadPercentEscape`] or [`SignatureError::SignatureNotBase64`].
    pub fn decoded(&self) -> Result<Vec<u8>, SignatureError> {
        decode_signature(&self.signature)
    }
}

/// The three key pairs a test run needs: the merchant's (signs requests), the vendor's (signs
/// responses) and another vendor key (for the "signed with the wrong key" scenarios).
#[derive(Clone, Debug)]
pub struct TestKeys {
    /// Signs requests; its public half verifies them at the gateway.
    pub merchant: SigningKey,
    /// Signs the gateway's responses; clients get its public half as `alipayPublicKey`.
    pub vendor: SigningKey,
    /// A key nobody trusts: responses signed with it must not verify.
    pub other_vendor: SigningKey,
}

impl TestKeys {
    /// Three fresh 2048-bit keys. Takes a noticeable fraction of a second: generate once per run.
    pub fn generate() -> TestKeys {
        TestKeys {
            merchant: SigningKey::generate(),
            vendor: SigningKey::generate(),
            other_vendor: SigningKey::generate(),
        }
    }

    /// The fixed, committed, test-only keys under `conformance/keys/` (golden vectors, fast
    /// tests). They are public: never use them for anything but tests.
    pub fn fixed() -> TestKeys {
        let load = |text: &str| {
            SigningKey::from_base64_pkcs8(text).expect("the committed test-only keys parse")
        };
        TestKeys {
            merchant: load(include_str!(
                "../conformance/keys/TEST-ONLY-merchant-private.pkcs8.b64"
            )),
            vendor: load(include_str!(
                "../conformance/keys/TEST-ONLY-vendor-private.pkcs8.b64"
            )),
            other_vendor: load(include_str!(
                "../conformance/keys/TEST-ONLY-other-vendor-private.pkcs8.b64"
            )),
        }
    }
}
