package cancel

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// StringToSign is the string both directions sign: `POST <path>\n<client id>.<time>.<body>`,
// with the body's bytes exactly as sent or received (never re-serialised).
func StringToSign(path, clientID, timeText string, body []byte) []byte {
	head := "POST " + path + "\n" + clientID + "." + timeText + "."
	out := make([]byte, 0, len(head)+len(body))
	return append(append(out, head...), body...)
}

// Sign signs a request with RSASSA-PKCS1-v1_5 over SHA-256 and returns the value of the
// `signature=` pair: standard base64 with padding, then URL-encoded.
//
// url.QueryEscape turns `+`, `/` and `=` into `%2B`, `%2F` and `%3D`, which is exactly the
// escaping every official SDK applies; the base64 alphabet has nothing else to escape.
func Sign(key *rsa.PrivateKey, path, clientID, timeText string, body []byte) (string, error) {
	digest := sha256.Sum256(StringToSign(path, clientID, timeText, body))
	raw, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("signing the request: %w", err)
	}
	return url.QueryEscape(base64.StdEncoding.EncodeToString(raw)), nil
}

// SignatureHeader is the whole `Signature` header value of a request.
func SignatureHeader(keyVersion, urlEncodedSignature string) string {
	return "algorithm=RSA256,keyVersion=" + keyVersion + ",signature=" + urlEncodedSignature
}

// ParseSignatureHeader reads `algorithm=RSA256, keyVersion=1, signature=...` tolerantly:
// comma-separated pairs in any order, spaces around them allowed, each split at its first
// `=` (a raw base64 value keeps its padding). A pair without `=` or a key given twice is an
// error.
func ParseSignatureHeader(value string) (map[string]string, error) {
	pairs := map[string]string{}
	for _, part := range strings.Split(value, ",") {
		part = strings.TrimSpace(part)
		key, val, found := strings.Cut(part, "=")
		key = strings.TrimSpace(key)
		if !found || key == "" {
			return nil, fmt.Errorf("malformed pair %q", part)
		}
		if _, twice := pairs[key]; twice {
			return nil, fmt.Errorf("%q appears twice", key)
		}
		pairs[key] = strings.TrimSpace(val)
	}
	return pairs, nil
}

// Verify checks the `signature=` value of an answer (URL-encoded with escapes of either case,
// or raw base64) against the string to sign, with the vendor's public key.
func Verify(key *rsa.PublicKey, path, clientID, timeText string, body []byte, value string) error {
	// url.PathUnescape, not url.QueryUnescape: the query decoder reads a bare `+` as a space,
	// and in base64 `+` is a digit.
	unescaped, err := url.PathUnescape(value)
	if err != nil {
		return fmt.Errorf("signature is not URL-encoded base64: %w", err)
	}
	// Go's base64 decoders skip \r and \n even in Strict mode; a header value never holds them.
	if strings.ContainsAny(unescaped, "\r\n") {
		return errors.New("signature is not base64: it holds a line break")
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(unescaped)
	if err != nil {
		return fmt.Errorf("signature is not base64: %w", err)
	}
	digest := sha256.Sum256(StringToSign(path, clientID, timeText, body))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], raw); err != nil {
		return errors.New("signature does not verify with the vendor public key")
	}
	return nil
}

// ParsePrivateKey reads the merchant private key: base64 of PKCS#8 DER, no PEM armour
// (whitespace tolerated), which must hold an RSA key.
func ParsePrivateKey(b64 string) (*rsa.PrivateKey, error) {
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
	if err != nil {
		return nil, fmt.Errorf("merchant private key: not base64: %w", err)
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("merchant private key: not PKCS#8 DER: %w", err)
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("merchant private key: a %T, expected an RSA key", key)
	}
	return rsaKey, nil
}

// ParsePublicKey reads the vendor public key: base64 of X.509 SubjectPublicKeyInfo DER, no
// PEM armour (whitespace tolerated), which must hold an RSA key.
func ParsePublicKey(b64 string) (*rsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
	if err != nil {
		return nil, fmt.Errorf("alipay public key: not base64: %w", err)
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("alipay public key: not SubjectPublicKeyInfo DER: %w", err)
	}
	rsaKey, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("alipay public key: a %T, expected an RSA key", key)
	}
	return rsaKey, nil
}
