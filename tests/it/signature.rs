//! The signing scheme (`docs/api.md#signing`): golden vectors with the fixed test-only
//! keys, round trips, tolerant header parsing, and the failures the kit must tell apart.

use alipay_cancel_kit::signature::{
    header_value, percent_decode, sign, sign_base64, string_to_sign, url_encode, verify,
    SignatureError, SignatureHeader, SigningKey, TestKeys, VerifyingKey,
};

const PATH: &str = "/ams/api/v1/payments/cancel";
const CLIENT_ID: &str = "TEST_5YBZ1";
const TIME: &str = "1685599933871";
const BODY: &[u8] = br#"{"paymentId":"2019061218401080010018882020035XXXX"}"#;

#[test]
fn string_to_sign_is_exactly_method_path_newline_client_time_body() {
    // Arrange: a body with bytes a re-serialiser would change (indent, escaped slash, non-ASCII).
    let body =
        "{\n   \"paymentId\": \"a\\/b\",\n   \"merchantAccountId\": null, \"m\": \"成功\"\n}";

    // Act
    let bytes = string_to_sign(PATH, CLIENT_ID, TIME, body.as_bytes());

    // Assert
    let mut expected = b"POST /ams/api/v1/payments/cancel\nTEST_5YBZ1.1685599933871.".to_vec();
    expected.extend_from_slice(body.as_bytes());
    assert_eq!(bytes, expected);
}

#[test]
fn string_to_sign_keeps_non_utf8_body_bytes() {
    let bytes = string_to_sign("/p", "C", "T", &[0xff, 0x00, b'\n']);
    assert_eq!(bytes, b"POST /p\nC.T.\xff\x00\n");
}

#[test]
fn golden_vector_request_header() {
    // The fixed merchant key, fixed inputs: the exact header value. PKCS#1 v1.5 is
    // deterministic, so any conforming implementation produces these bytes.
    let keys = TestKeys::fixed();
    let value = sign(&keys.merchant, PATH, CLIENT_ID, TIME, BODY);
    insta::assert_snapshot!(header_value("1", &value), @"algorithm=RSA256,keyVersion=1,signature=eNaC6gPFZYAXNLYGgHJvyxwqUIoG5qr73fiHdDq3GjK5QGy8%2BtH1y3fAhI8GNgAM2teopoME%2FhvTmujJsUE1TExe%2FjoPQgp80wrRov7X9ZRzVKZWsZYoCLxBmG8kpBxpAdzPeoPZ54GT4RZxpTijDON3FO7HvTEV50T27XDm4GxO5lrkwXsvVBICryQypibXo9QqZeSgAmMEpEfd3qETWlHzLzNCXb%2FMrcp%2FwazB5TbiUZBWPZzNbtvsyQndMdE8ZXXHP1stqxwb7FHLdXHegr1xG5KDE7qoBAAdwJiujVerA1MvlrKYkAXcSLN9GOGy7uxi3snAo0kXioxyLn4cUw%3D%3D");
}

#[test]
fn golden_vector_response_signature_raw_base64() {
    // A response is signed over the request path, the client id and the response-time.
    let keys = TestKeys::fixed();
    let body =
        br#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}"#;
    let raw = sign_base64(
        &keys.vendor,
        PATH,
        CLIENT_ID,
        "2019-06-12T19:07:11+08:00",
        body,
    );
    insta::assert_snapshot!(raw, @"qxoEemBDFRrNq52zWSa1x+SBbGMz9rtu4KQXyQfrkGLk9iS/bzu9RRe98EYTgI9XbZN0VOdt3mze6bLGkwXH9rR34/0ysuMceMOjTJtW4R8e6H3peOurS+BekgxVxN+gQPwWkLNRq0suSyzXLbyNLcG7dYGONVSS6OGX5gARiSonSk0y9rAspDNnvxcWpZMRAxaI2RwBcUBFkTXnQ83sTxFtWHEj0qcS0waOwapeJv4FUud31jY6musEvP2TQA4dUw81x4+T5J9D+K6ER8dbRwrxq5hrz8zzbZYQPoDEeFJ9hbLGY8+GTTt8+F0gfZ2RRAwzgA5ZV2Q4QiOAMU8ycA==");
}

#[test]
fn fixed_keys_are_distinct_2048_bit_and_match_committed_public_keys() {
    let keys = TestKeys::fixed();
    for (key, public) in [
        (
            &keys.merchant,
            include_str!("../../conformance/keys/TEST-ONLY-merchant-public.spki.b64"),
        ),
        (
            &keys.vendor,
            include_str!("../../conformance/keys/TEST-ONLY-vendor-public.spki.b64"),
        ),
        (
            &keys.other_vendor,
            include_str!("../../conformance/keys/TEST-ONLY-other-vendor-public.spki.b64"),
        ),
    ] {
        assert_eq!(key.bits(), 2048);
        assert_eq!(key.verifying_key().to_base64_spki(), public.trim());
    }
    assert_ne!(keys.merchant, keys.vendor);
    assert_ne!(keys.vendor, keys.other_vendor);
    // Public halves compare by the key, not by identity: `--alipay-public-key` of another
    // vendor is another key.
    assert_ne!(
        keys.vendor.verifying_key(),
        keys.other_vendor.verifying_key()
    );
    assert_eq!(keys.vendor.verifying_key(), keys.vendor.verifying_key());
}

#[test]
fn keys_round_trip_through_vendor_formats() {
    let key = TestKeys::fixed().merchant;

    let private = key.to_base64_pkcs8();
    let public = key.verifying_key().to_base64_spki();

    assert_eq!(SigningKey::from_base64_pkcs8(&private).unwrap(), key);
    assert_eq!(
        VerifyingKey::from_base64_spki(&public).unwrap(),
        key.verifying_key()
    );
    assert!(!private.contains(['\n', '-']));
}

#[test]
fn keys_tolerate_line_breaks() {
    let key = TestKeys::fixed().vendor;
    let wrapped: String = key
        .to_base64_pkcs8()
        .as_bytes()
        .chunks(64)
        .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
        .collect();
    assert_eq!(SigningKey::from_base64_pkcs8(&wrapped).unwrap(), key);
}

#[test]
fn key_errors_name_the_format() {
    let armoured = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----";
    insta::assert_snapshot!(SigningKey::from_base64_pkcs8(armoured).unwrap_err(), @"private key: expected bare base64 of DER without PEM armour, found `-----BEGIN`");
    insta::assert_snapshot!(SigningKey::from_base64_pkcs8("not base64!").unwrap_err(), @"private key: expected standard base64, found '!' at offset 9");
    // A public key where a private one belongs, and the other way round.
    let keys = TestKeys::fixed();
    let public = keys.merchant.verifying_key().to_base64_spki();
    insta::assert_snapshot!(SigningKey::from_base64_pkcs8(&public).unwrap_err(), @"private key: expected base64 of PKCS#8 DER holding an RSA key (decoder: PKCS#8 ASN.1 error: unexpected ASN.1 DER tag: expected INTEGER, got SEQUENCE)");
    let private = keys.merchant.to_base64_pkcs8();
    insta::assert_snapshot!(VerifyingKey::from_base64_spki(&private).unwrap_err(), @"public key: expected base64 of X.509 SubjectPublicKeyInfo DER holding an RSA key (decoder: ASN.1 error: unexpected ASN.1 DER tag: expected SEQUENCE, got INTEGER at DER byte 2)");
}

#[test]
fn generated_key_signs_and_verifies() {
    let key = SigningKey::generate();
    assert_eq!(key.bits(), 2048);
    let value = sign(&key, PATH, CLIENT_ID, TIME, BODY);
    let public = VerifyingKey::from_base64_spki(&key.verifying_key().to_base64_spki()).unwrap();
    assert_eq!(verify(&public, PATH, CLIENT_ID, TIME, BODY, &value), Ok(()));
}

#[test]
fn round_trip_through_header() {
    let keys = TestKeys::fixed();
    let header = header_value("1", &sign(&keys.merchant, PATH, CLIENT_ID, TIME, BODY));

    let parsed = SignatureHeader::parse(&header).unwrap();

    assert!(parsed.is_rsa256());
    assert!(parsed.is_url_encoded());
    assert_eq!(parsed.key_version.as_deref(), Some("1"));
    assert_eq!(parsed.decoded().unwrap().len(), 256);
    let public = keys.merchant.verifying_key();
    assert_eq!(
        verify(&public, PATH, CLIENT_ID, TIME, BODY, &parsed.signature),
        Ok(())
    );
}

#[test]
fn wire_value_is_url_encoded_base64() {
    let keys = TestKeys::fixed();
    let raw = sign_base64(&keys.merchant, PATH, CLIENT_ID, TIME, BODY);
    let value = sign(&keys.merchant, PATH, CLIENT_ID, TIME, BODY);
    assert!(
        raw.ends_with("=="),
        "2048-bit signatures carry two padding characters"
    );
    assert_eq!(value, url_encode(&raw));
    assert!(value.ends_with("%3D%3D"));
    assert!(!value.contains(['+', '/', '=']));
    assert_eq!(percent_decode(&value).unwrap(), raw.as_bytes());
}

/// `%XY` is the byte XY, in either case of hex; anything else passes as it is; a `%` not
/// followed by two hex digits is refused, quoting it (up to three characters).
#[test]
fn percent_escapes_decode_to_their_byte_and_a_broken_one_is_quoted() {
    for byte in 0..=255u8 {
        for escape in [format!("%{byte:02X}"), format!("%{byte:02x}")] {
            let text = format!("ab{escape}c{escape}");
            assert_eq!(
                percent_decode(&text).unwrap(),
                [b'a', b'b', byte, b'c', byte],
                "{text}"
            );
        }
    }
    assert_eq!(percent_decode("a+b/=é").unwrap(), "a+b/=é".as_bytes());
    assert_eq!(percent_decode("").unwrap(), b"");
    for (text, found) in [
        ("%", "%"),
        ("ab%4", "%4"),
        ("abc%4g", "%4g"),
        ("%g4", "%g4"),
        ("xyz%é1", "%é1"),
        ("%41%", "%"),
        ("%41abc%%%", "%%%"),
    ] {
        match percent_decode(text) {
            Err(SignatureError::BadPercentEscape { found: quoted }) => {
                assert_eq!(quoted, found, "{text}")
            }
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn tolerant_parsing_spaces_order_and_unknown_keys() {
    let cases = [
        "algorithm=RSA256,keyVersion=1,signature=abc%3D",
        "algorithm=RSA256, keyVersion=1, signature=abc%3D",
        "  algorithm = RSA256 ,keyVersion= 1,signature =abc%3D  ",
        "signature=abc%3D,algorithm=RSA256,keyVersion=1",
        "keyVersion=1,signature=abc%3D,algorithm=RSA256,extra=whatever",
    ];
    for case in cases {
        let parsed = SignatureHeader::parse(case).unwrap_or_else(|e| panic!("{case}: {e}"));
        assert_eq!(
            parsed,
            SignatureHeader {
                algorithm: "RSA256".into(),
                key_version: Some("1".into()),
                signature: "abc%3D".into(),
            },
            "{case}"
        );
    }
}

#[test]
fn key_version_may_be_absent() {
    let parsed = SignatureHeader::parse("algorithm=RSA256,signature=abc%3D").unwrap();
    assert_eq!(parsed.key_version, None);
}

#[test]
fn algorithm_is_kept_as_sent_for_the_checker_to_judge() {
    let parsed = SignatureHeader::parse("algorithm=RSA2,signature=abc").unwrap();
    assert_eq!(parsed.algorithm, "RSA2");
    assert!(!parsed.is_rsa256());
}

#[test]
fn header_errors_name_the_rule() {
    let err = |s: &str| SignatureHeader::parse(s).unwrap_err().to_string();
    insta::assert_snapshot!(err("keyVersion=1,signature=abc"), @"signature header: missing `algorithm`");
    insta::assert_snapshot!(err("algorithm=RSA256,keyVersion=1"), @"signature header: missing `signature`");
    insta::assert_snapshot!(err("algorithm=RSA256,keyVersion=1,signature="), @"signature header: `signature` is empty");
    insta::assert_snapshot!(err("algorithm=RSA256;keyVersion=1;signature=abc"), @"signature header: missing `signature`");
    insta::assert_snapshot!(err("algorithm=RSA256,,signature=abc"), @"signature header: expected comma-separated `key=value` pairs, found an empty part");
    insta::assert_snapshot!(err("algorithm=RSA256,signature=a,signature=b"), @"signature header: `signature` given more than once");
    insta::assert_snapshot!(err(""), @"signature header: expected comma-separated `key=value` pairs, found an empty part");
    insta::assert_snapshot!(err("algorithm=RSA256,keyVersion,signature=abc"), @"signature header: expected comma-separated `key=value` pairs, found `keyVersion`");
}

#[test]
fn lower_case_percent_escapes_verify() {
    let keys = TestKeys::fixed();
    let value = sign(&keys.merchant, PATH, CLIENT_ID, TIME, BODY);
    let lower = value
        .replace("%2B", "%2b")
        .replace("%2F", "%2f")
        .replace("%3D", "%3d");
    assert!(lower.contains("%3d"));

    let parsed = SignatureHeader::parse(&header_value("1", &lower)).unwrap();

    assert!(parsed.is_url_encoded());
    assert_eq!(
        parsed.decoded().unwrap(),
        SignatureHeader::parse(&header_value("1", &value))
            .unwrap()
            .decoded()
            .unwrap()
    );
    let public = keys.merchant.verifying_key();
    assert_eq!(verify(&public, PATH, CLIENT_ID, TIME, BODY, &lower), Ok(()));
}

#[test]
fn raw_base64_decodes_and_is_told_apart() {
    let keys = TestKeys::fixed();
    let raw = sign_base64(&keys.merchant, PATH, CLIENT_ID, TIME, BODY);

    let parsed = SignatureHeader::parse(&header_value("1", &raw)).unwrap();

    assert_eq!(parsed.signature, raw, "split at the first `=` only");
    assert!(!parsed.is_url_encoded());
    assert_eq!(parsed.decoded_base64().unwrap(), raw);
    let public = keys.merchant.verifying_key();
    assert_eq!(verify(&public, PATH, CLIENT_ID, TIME, BODY, &raw), Ok(()));
}

#[test]
fn tampered_body_fails() {
    let keys = TestKeys::fixed();
    let value = sign(&keys.merchant, PATH, CLIENT_ID, TIME, BODY);
    let public = keys.merchant.verifying_key();
    let reserialised = br#"{"paymentId": "2019061218401080010018882020035XXXX"}"#;

    let result = verify(&public, PATH, CLIENT_ID, TIME, reserialised, &value);

    assert_eq!(result, Err(SignatureError::Mismatch));
    insta::assert_snapshot!(result.unwrap_err(), @"signature does not verify over the expected string to sign");
}

#[test]
fn any_other_signed_field_fails() {
    let keys = TestKeys::fixed();
    let value = sign(&keys.merchant, PATH, CLIENT_ID, TIME, BODY);
    let public = keys.merchant.verifying_key();
    let sandbox = "/ams/sandbox/api/v1/payments/cancel";
    assert!(verify(&public, sandbox, CLIENT_ID, TIME, BODY, &value).is_err());
    assert!(verify(&public, PATH, "TEST_5YBZ2", TIME, BODY, &value).is_err());
    assert!(verify(&public, PATH, CLIENT_ID, "1685599933872", BODY, &value).is_err());
}

#[test]
fn other_key_fails() {
    let keys = TestKeys::fixed();
    let value = sign(&keys.other_vendor, PATH, CLIENT_ID, TIME, BODY);
    let result = verify(
        &keys.vendor.verifying_key(),
        PATH,
        CLIENT_ID,
        TIME,
        BODY,
        &value,
    );
    assert_eq!(result, Err(SignatureError::Mismatch));
}

#[test]
fn tampered_signature_bytes_fail() {
    let keys = TestKeys::fixed();
    let mut raw = sign_base64(&keys.merchant, PATH, CLIENT_ID, TIME, BODY).into_bytes();
    raw[10] = if raw[10] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(raw).unwrap();
    let public = keys.merchant.verifying_key();
    assert_eq!(
        verify(&public, PATH, CLIENT_ID, TIME, BODY, &tampered),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn undecodable_values_say_why() {
    let public = TestKeys::fixed().merchant.verifying_key();
    let err = |v: &str| {
        verify(&public, PATH, CLIENT_ID, TIME, BODY, v)
            .unwrap_err()
            .to_string()
    };
    insta::assert_snapshot!(err("abc%2"), @"signature: expected `%` followed by two hex digits, found `%2`");
    insta::assert_snapshot!(err("abc%zz"), @"signature: expected `%` followed by two hex digits, found `%zz`");
    insta::assert_snapshot!(err("a b c"), @"signature: expected standard base64 with padding after URL-decoding, found ' ' at offset 1");
    // Decodes, but is not 256 bytes: still a plain mismatch.
    insta::assert_snapshot!(err("YWJj"), @"signature does not verify over the expected string to sign");
}

/// Writes fresh test-only keys to `conformance/keys/`. Run once by hand with
/// `cargo test --test it signature::write_fixed_test_keys -- --ignored`; the golden vectors
/// above then need re-pinning.
#[test]
#[ignore = "regenerates the committed test-only keys"]
fn write_fixed_test_keys() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/keys");
    for name in ["merchant", "vendor", "other-vendor"] {
        let key = SigningKey::generate();
        std::fs::write(
            dir.join(format!("TEST-ONLY-{name}-private.pkcs8.b64")),
            key.to_base64_pkcs8() + "\n",
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("TEST-ONLY-{name}-public.spki.b64")),
            key.verifying_key().to_base64_spki() + "\n",
        )
        .unwrap();
    }
}

#[test]
fn the_fast_signer_and_the_reference_signer_agree() {
    // OpenSSL signs and verifies; the `rsa` crate is the second oracle. PKCS#1 v1.5 is
    // deterministic, so the two must agree byte for byte, for every key a run can hold: the
    // fixed ones, a generated one, and one read back from its vendor-format text (the
    // reference client's path).
    let fixed = TestKeys::fixed();
    let generated = SigningKey::generate();
    let parsed = SigningKey::from_base64_pkcs8(&generated.to_base64_pkcs8()).unwrap();
    let keys = [
        &fixed.merchant,
        &fixed.vendor,
        &fixed.other_vendor,
        &generated,
        &parsed,
    ];
    let long = vec![0xff; 1000];
    let messages: [&[u8]; 3] = [b"", b"POST /ams/api/v1/payments/cancel\nTEST.1.{}", &long];
    for key in keys {
        let public = key.verifying_key();
        let public_parsed = VerifyingKey::from_base64_spki(&public.to_base64_spki()).unwrap();
        for message in messages {
            let signature = key.sign_message(message);
            assert_eq!(signature, key.sign_message_reference(message));
            assert_eq!(signature.len(), 256);
            for public in [&public, &public_parsed] {
                assert!(public.verify_message(message, &signature).is_ok());
                assert!(public.verify_message_reference(message, &signature).is_ok());
                let mut tampered = signature.clone();
                tampered[7] ^= 1;
                assert!(public.verify_message(message, &tampered).is_err());
                assert!(public.verify_message_reference(message, &tampered).is_err());
                // Cut short: OpenSSL reports an error rather than `false`; still a mismatch.
                assert_eq!(
                    public.verify_message(message, &signature[..255]),
                    Err(SignatureError::Mismatch)
                );
            }
        }
    }
    assert_eq!(generated, parsed);
    let signature = fixed.merchant.sign_message(b"x");
    assert!(fixed
        .vendor
        .verifying_key()
        .verify_message(b"x", &signature)
        .is_err());
}

/// What only the comparison of the whole `DigestInfo` refuses: a well-padded signature that
/// carries the bare SHA-256 digest (no algorithm prefix), and a value past the modulus.
#[test]
fn a_well_padded_signature_of_the_wrong_content_does_not_verify() {
    use base64::Engine as _;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::sha2::{Digest, Sha256};
    let fixed = TestKeys::fixed();
    let der = base64::engine::general_purpose::STANDARD
        .decode(fixed.merchant.to_base64_pkcs8())
        .unwrap();
    let raw = rsa::RsaPrivateKey::from_pkcs8_der(&der).unwrap();
    let message = b"POST /ams/api/v1/payments/cancel\nTEST.1.{}";
    let bare = raw
        .sign(
            rsa::Pkcs1v15Sign::new_unprefixed(),
            &Sha256::digest(message),
        )
        .unwrap();
    let public = fixed.merchant.verifying_key();
    assert_eq!(
        public.verify_message(message, &bare),
        Err(SignatureError::Mismatch)
    );
    assert!(public.verify_message_reference(message, &bare).is_err());
    assert_eq!(
        public.verify_message(message, &[0xff; 256]),
        Err(SignatureError::Mismatch)
    );
}
