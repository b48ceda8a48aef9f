//! The committed TEST-ONLY keys (`conformance/keys/`) the mocks use by default: the merchant's
//! private key, which your client signs requests with, and the vendor's public key, which it
//! verifies answers with. They are public: never use them, or anything signed with them,
//! outside tests.
//!
//! # Example
//! ```
//! use alipay_cancel_kit::mock::keys;
//! use alipay_cancel_kit::signature::{sign, verify};
//! // In the vendor's formats, as an SDK's configuration takes them.
//! assert!(keys::MERCHANT_PRIVATE_PKCS8.starts_with("MII"));
//! assert!(keys::VENDOR_PUBLIC_SPKI.starts_with("MII"));
//! // The merchant's public half is what `SignedRequest::new` verifies requests with.
//! let value = sign(keys::merchant(), "/p", "C", "1", b"{}");
//! assert_eq!(verify(&keys::merchant().verifying_key(), "/p", "C", "1", b"{}", &value), Ok(()));
//! assert_eq!(keys::vendor_public(), keys::all().vendor.verifying_key());
//! ```

use std::sync::OnceLock;

use crate::signature::{SigningKey, TestKeys, VerifyingKey};

/// The merchant's private key, base64 of PKCS#8 DER without PEM armour (the form the vendor's
/// SDKs take as `merchantPrivateKey`). TEST-ONLY.
pub const MERCHANT_PRIVATE_PKCS8: &str = trim_newline(include_str!(
    "../../conformance/keys/TEST-ONLY-merchant-private.pkcs8.b64"
));

/// The vendor's public key, base64 of X.509 SubjectPublicKeyInfo DER without PEM armour (the
/// form the vendor's SDKs take as `alipayPublicKey`). TEST-ONLY.
pub const VENDOR_PUBLIC_SPKI: &str = trim_newline(include_str!(
    "../../conformance/keys/TEST-ONLY-vendor-public.spki.b64"
));

/// The three committed key pairs (merchant, vendor, another vendor nobody trusts), loaded once.
pub fn all() -> &'static TestKeys {
    static KEYS: OnceLock<TestKeys> = OnceLock::new();
    KEYS.get_or_init(TestKeys::fixed)
}

/// The merchant's private key: your client signs its requests with it.
pub fn merchant() -> &'static SigningKey {
    &all().merchant
}

/// The vendor's public key: your client verifies the mocks' answers with it.
pub fn vendor_public() -> VerifyingKey {
    all().vendor.verifying_key()
}

/// The committed files end in a newline; the key text does not.
const fn trim_newline(text: &str) -> &str {
    match text.as_bytes() {
        [rest @ .., b'\n'] => match std::str::from_utf8(rest) {
            Ok(trimmed) => trimmed,
            Err(_) => text,
        },
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_texts_are_the_keys_the_kit_signs_with() {
        assert_eq!(
            SigningKey::from_base64_pkcs8(MERCHANT_PRIVATE_PKCS8).unwrap(),
            *merchant()
        );
        assert_eq!(
            VerifyingKey::from_base64_spki(VENDOR_PUBLIC_SPKI).unwrap(),
            vendor_public()
        );
        assert!(!VENDOR_PUBLIC_SPKI.ends_with('\n'));
    }
}
