package example.alipay.cancel;

import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The vendor's signing scheme (docs/adapter-protocol.md#the-signing-scheme), both directions:
 * RSASSA-PKCS1-v1_5 over SHA-256 ({@code SHA256withRSA}) of
 * {@code POST <path>\n<client id>.<time>.<body bytes>}, standard base64, URL-encoded.
 */
public final class AlipaySignature {
    /** The only algorithm name the header may carry. */
    public static final String ALGORITHM = "RSA256";

    private AlipaySignature() {}

    /**
     * The merchant private key: base64 of PKCS#8 {@code PrivateKeyInfo} DER, no PEM armour.
     * The MIME decoder tolerates line breaks, as keys pasted from a console often have them.
     *
     * @throws InvalidKeySpecException when the text is not base64 of an RSA PKCS#8 key
     */
    public static PrivateKey privateKey(String base64Der) throws InvalidKeySpecException {
        try {
            byte[] der = Base64.getMimeDecoder().decode(base64Der);
            return rsa().generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (IllegalArgumentException e) {
            throw new InvalidKeySpecException("merchant private key: not base64: " + e.getMessage(), e);
        }
    }

    /**
     * The vendor public key: base64 of X.509 {@code SubjectPublicKeyInfo} DER, no PEM armour.
     *
     * @throws InvalidKeySpecException when the text is not base64 of an RSA SPKI key
     */
    public static PublicKey publicKey(String base64Der) throws InvalidKeySpecException {
        try {
            byte[] der = Base64.getMimeDecoder().decode(base64Der);
            return rsa().generatePublic(new X509EncodedKeySpec(der));
        } catch (IllegalArgumentException e) {
            throw new InvalidKeySpecException("alipay public key: not base64: " + e.getMessage(), e);
        }
    }

    private static KeyFactory rsa() {
        try {
            return KeyFactory.getInstance("RSA");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no RSA KeyFactory", e);
        }
    }

    /**
     * The bytes signed: {@code POST <path>\n<clientId>.<time>.} as UTF-8, then the body's
     * bytes exactly as they go on (or came off) the wire. Never a re-serialised body.
     */
    public static byte[] stringToSign(String path, String clientId, String time, byte[] body) {
        byte[] head = ("POST " + path + "\n" + clientId + "." + time + ".").getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[head.length + body.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(body, 0, all, head.length, body.length);
        return all;
    }

    /**
     * Signs a request and returns the header's {@code signature} value: base64 (with padding),
     * then {@code URLEncoder.encode}, which turns {@code + / =} into {@code %2B %2F %3D} and
     * leaves the rest of the base64 alphabet alone.
     */
    public static String sign(PrivateKey key, String path, String clientId, String time, byte[] body)
            throws GeneralSecurityException {
        Signature signer = Signature.getInstance("SHA256withRSA");
        signer.initSign(key);
        signer.update(stringToSign(path, clientId, time, body));
        String base64 = Base64.getEncoder().encodeToString(signer.sign());
        return URLEncoder.encode(base64, StandardCharsets.UTF_8);
    }

    /** The whole request header value. */
    public static String header(String keyVersion, String urlEncodedSignature) {
        return "algorithm=" + ALGORITHM + ",keyVersion=" + keyVersion + ",signature=" + urlEncodedSignature;
    }

    /**
     * Parses a {@code signature} header tolerantly: comma-separated {@code key=value} pairs, spaces
     * around them allowed, any order, each split at its first {@code =} (raw base64 keeps its
     * padding), unknown keys kept (and ignored by the caller).
     *
     * @throws SignatureException naming the malformed pair
     */
    public static Map<String, String> parseHeader(String value) throws SignatureException {
        Map<String, String> pairs = new LinkedHashMap<>();
        for (String part : value.split(",", -1)) {
            String pair = part.strip();
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new SignatureException("signature header: malformed pair '" + pair + "'");
            }
            String key = pair.substring(0, eq).strip();
            if (pairs.put(key, pair.substring(eq + 1).strip()) != null) {
                throw new SignatureException("signature header: '" + key + "' appears twice");
            }
        }
        return pairs;
    }

    /**
     * Verifies an answer's signature value (URL-encoded with escapes of either case, or raw
     * base64) over {@code POST <path>\n<clientId>.<responseTime>.<raw body>}.
     *
     * @throws SignatureException saying why it does not verify
     */
    public static void verify(PublicKey key, String path, String clientId, String responseTime, byte[] body,
            String signatureValue) throws SignatureException {
        byte[] raw = decodeValue(signatureValue);
        try {
            Signature verifier = Signature.getInstance("SHA256withRSA");
            verifier.initVerify(key);
            verifier.update(stringToSign(path, clientId, responseTime, body));
            // verify() returns false for a wrong signature, but throws SignatureException for
            // one of the wrong length: both mean "not verified".
            if (!verifier.verify(raw)) {
                throw new SignatureException("the signature does not verify with the alipay public key");
            }
        } catch (InvalidKeyException e) {
            throw new SignatureException("the alipay public key cannot verify: " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            if (e instanceof SignatureException) {
                throw (SignatureException) e;
            }
            throw new SignatureException(e.getMessage(), e);
        }
    }

    /**
     * Percent-decodes (either case) and base64-decodes strictly. Deliberately not
     * {@code URLDecoder.decode}: that is a form decoder, and turns a bare {@code +} (a base64
     * digit) into a space.
     */
    static byte[] decodeValue(String value) throws SignatureException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '%') {
                int hi = i + 2 < value.length() ? Character.digit(value.charAt(i + 1), 16) : -1;
                int lo = hi >= 0 ? Character.digit(value.charAt(i + 2), 16) : -1;
                if (lo < 0) {
                    throw new SignatureException("signature value: a bad percent escape at " + i);
                }
                out.write(hi << 4 | lo);
                i += 2;
            } else if (c < 0x80) {
                out.write(c);
            } else {
                throw new SignatureException("signature value: a non-ASCII character at " + i);
            }
        }
        byte[] base64 = out.toByteArray();
        // java.util.Base64's basic decoder rejects line breaks and foreign characters, but not
        // missing padding: the length check makes it strict.
        if (base64.length % 4 != 0) {
            throw new SignatureException("signature value: base64 of length " + base64.length + ", not a multiple of 4");
        }
        try {
            return Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            throw new SignatureException("signature value is not base64: " + e.getMessage(), e);
        }
    }
}
