<?php

declare(strict_types=1);

namespace CancelKit\Example;

use OpenSSLAsymmetricKey;

/**
 * The vendor's signing scheme, both directions (docs/adapter-protocol.md#the-signing-scheme):
 * RSASSA-PKCS1-v1_5 over SHA-256 of `POST <path>\n<client id>.<time>.<body bytes>`, standard
 * base64, then URL-encoded.
 */
final class Signing
{
    /**
     * Keys already loaded, by their base64 text: parsing a PEM key costs more than a
     * signature, and a process that builds a client per call (an adapter in persistent mode,
     * a PHP-FPM worker) sees the same few keys again and again. Kept small.
     *
     * @var array<string, OpenSSLAsymmetricKey>
     */
    private static array $loaded = [];
    private const LOADED_MAX = 8;

    /** The exact bytes that are signed; `$body` is the body as sent or received, never re-encoded. */
    public static function stringToSign(string $path, string $clientId, string $time, string $body): string
    {
        return "POST {$path}\n{$clientId}.{$time}.{$body}";
    }

    /**
     * Loads the merchant private key: base64 of PKCS#8 DER, as the vendor's console gives it.
     * openssl_* reads PEM only, so the base64 is wrapped in PKCS#8's own armour
     * (`BEGIN PRIVATE KEY`; `BEGIN RSA PRIVATE KEY` would announce PKCS#1 and is refused).
     *
     * @throws \InvalidArgumentException when the text is not such a key
     */
    public static function privateKey(string $base64Der): OpenSSLAsymmetricKey
    {
        return self::$loaded["private:{$base64Der}"] ??= self::remember(self::rsa(
            openssl_pkey_get_private(self::pem($base64Der, 'PRIVATE KEY', 'merchantPrivateKey')),
            'merchantPrivateKey: not a PKCS#8 private key',
        ));
    }

    /**
     * Loads the vendor public key: base64 of X.509 SubjectPublicKeyInfo DER, wrapped in
     * `BEGIN PUBLIC KEY` armour (`BEGIN RSA PUBLIC KEY` would announce PKCS#1).
     *
     * @throws \InvalidArgumentException when the text is not such a key
     */
    public static function publicKey(string $base64Der): OpenSSLAsymmetricKey
    {
        return self::$loaded["public:{$base64Der}"] ??= self::remember(self::rsa(
            openssl_pkey_get_public(self::pem($base64Der, 'PUBLIC KEY', 'alipayPublicKey')),
            'alipayPublicKey: not a SubjectPublicKeyInfo public key',
        ));
    }

    /** Makes room for one more loaded key: the oldest goes. */
    private static function remember(OpenSSLAsymmetricKey $key): OpenSSLAsymmetricKey
    {
        if (count(self::$loaded) >= self::LOADED_MAX) {
            array_shift(self::$loaded);
        }
        return $key;
    }

    /**
     * Signs a request: the value of the `signature=` pair of the `Signature` header.
     *
     * `urlencode` escapes exactly `+`, `/` and `=` of the base64 alphabet (`%2B`, `%2F`,
     * `%3D`); `rawurlencode` would give the same here, the difference is only in decoding.
     *
     * @throws \RuntimeException when OpenSSL cannot sign
     */
    public static function sign(OpenSSLAsymmetricKey $key, string $path, string $clientId, string $time, string $body): string
    {
        if (!openssl_sign(self::stringToSign($path, $clientId, $time, $body), $raw, $key, OPENSSL_ALGO_SHA256)) {
            throw new \RuntimeException('openssl_sign failed: ' . self::opensslErrors());
        }
        return urlencode(base64_encode($raw));
    }

    /**
     * Checks an answer's signature value (URL-encoded with escapes of either case, or raw
     * base64). Returns null when it verifies, else why not.
     */
    public static function verify(OpenSSLAsymmetricKey $key, string $path, string $clientId, string $time, string $body, string $value): ?string
    {
        // rawurldecode, not urldecode: a bare `+` is a base64 digit, and urldecode makes it a space.
        $raw = base64_decode(rawurldecode($value), true);
        if ($raw === false || $raw === '') {
            return 'the signature is not base64';
        }
        // openssl_verify returns 1 (valid), 0 (invalid) or -1/false (error): only 1 is a yes,
        // so never `if (openssl_verify(...))`, which takes an error for a valid signature.
        $verified = openssl_verify(self::stringToSign($path, $clientId, $time, $body), $raw, $key, OPENSSL_ALGO_SHA256);
        if ($verified === 1) {
            return null;
        }
        $errors = self::opensslErrors();
        return 'the signature does not verify with the vendor public key' . ($errors === '' ? '' : " ({$errors})");
    }

    /**
     * Parses a `Signature` header tolerantly: comma-separated `key=value` pairs, spaces
     * around them allowed, any order, each split at its first `=` (raw base64 keeps its
     * padding).
     *
     * @return array<string, string>
     * @throws \UnexpectedValueException on a pair without `=` or a key given twice
     */
    public static function parseHeader(string $header): array
    {
        $pairs = [];
        foreach (explode(',', $header) as $part) {
            $part = trim($part);
            $eq = strpos($part, '=');
            if ($eq === false || $eq === 0) {
                throw new \UnexpectedValueException("malformed pair '{$part}'");
            }
            $key = trim(substr($part, 0, $eq));
            if (array_key_exists($key, $pairs)) {
                throw new \UnexpectedValueException("'{$key}' appears twice");
            }
            $pairs[$key] = trim(substr($part, $eq + 1));
        }
        return $pairs;
    }

    /** Base64 DER in PEM armour: 64 characters a line, as OpenSSL's PEM reader expects. */
    private static function pem(string $base64Der, string $label, string $field): string
    {
        $clean = preg_replace('/\s+/', '', $base64Der) ?? '';
        if ($clean === '' || base64_decode($clean, true) === false) {
            throw new \InvalidArgumentException("{$field}: not base64");
        }
        return "-----BEGIN {$label}-----\n" . chunk_split($clean, 64, "\n") . "-----END {$label}-----\n";
    }

    private static function rsa(OpenSSLAsymmetricKey|false $key, string $why): OpenSSLAsymmetricKey
    {
        if ($key === false) {
            throw new \InvalidArgumentException($why . ' (' . self::opensslErrors() . ')');
        }
        if ((openssl_pkey_get_details($key)['type'] ?? null) !== OPENSSL_KEYTYPE_RSA) {
            throw new \InvalidArgumentException($why . ' (not an RSA key)');
        }
        return $key;
    }

    /**
     * Drains OpenSSL's error queue. PHP keeps it per process: left alone, one call's errors
     * show up in the next call's message (persistent mode serves many cancels).
     */
    private static function opensslErrors(): string
    {
        $errors = [];
        while (($e = openssl_error_string()) !== false) {
            $errors[] = $e;
        }
        return implode('; ', $errors);
    }
}
