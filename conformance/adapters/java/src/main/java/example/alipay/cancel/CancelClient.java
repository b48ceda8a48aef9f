package example.alipay.cancel;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SignatureException;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A client for Alipay's (Antom's) payment cancel call, {@code POST /ams/api/v1/payments/cancel},
 * written as a Java SDK would: {@code java.net.http} for the transport, {@code java.security} for
 * the RSA256 signatures, Jackson for JSON.
 *
 * <p>It validates the ids before sending, signs every request, believes an answer only when it
 * is correctly signed (or an unsigned F or U: the gateway does not sign a refusal of a request
 * it could not authenticate), treats every other answer as leaving the result open, and calls
 * again with the very same body bytes after U or no usable answer, at most {@code maxAttempts}
 * times in all. Never after a believed S or F.
 */
public final class CancelClient {
    public static final String CANCEL_PATH = "/ams/api/v1/payments/cancel";
    public static final String SANDBOX_CANCEL_PATH = "/ams/sandbox/api/v1/payments/cancel";

    /**
     * Strict where Jackson's defaults are lenient: {@code {"result":{}} trailing} is not a JSON
     * document (readTree would otherwise stop after the first value and say nothing).
     */
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final URI endpoint;
    private final String path;
    private final String clientId;
    private final String keyVersion;
    private final PrivateKey merchantKey;
    private final PublicKey alipayKey;
    private final Duration timeout;
    private final int maxAttempts;
    private final Duration retryPause;
    private final HttpClient http;

    private CancelClient(Builder b) throws GeneralSecurityException {
        URI base = URI.create(Objects.requireNonNull(b.gatewayUrl, "gatewayUrl"));
        if (!"http".equals(base.getScheme()) && !"https".equals(base.getScheme())) {
            throw new IllegalArgumentException("gateway URL: expected http or https, found " + b.gatewayUrl);
        }
        this.clientId = Objects.requireNonNull(b.clientId, "clientId");
        // A SANDBOX_ client id calls, and signs, the sandbox path.
        this.path = clientId.startsWith("SANDBOX_") ? SANDBOX_CANCEL_PATH : CANCEL_PATH;
        String basePath = base.getRawPath() == null ? "" : base.getRawPath().replaceAll("/+$", "");
        this.endpoint = base.resolve(basePath + path);
        this.keyVersion = b.keyVersion == null ? "1" : b.keyVersion;
        this.merchantKey = AlipaySignature.privateKey(Objects.requireNonNull(b.merchantPrivateKey, "merchantPrivateKey"));
        this.alipayKey = AlipaySignature.publicKey(Objects.requireNonNull(b.alipayPublicKey, "alipayPublicKey"));
        this.timeout = b.timeout;
        this.maxAttempts = b.maxAttempts;
        this.retryPause = b.retryPause;

        HttpClient.Builder http = HttpClient.newBuilder()
                // The default, HTTP_2, makes a cleartext request carry `Upgrade: h2c` and
                // `Connection: Upgrade, HTTP2-Settings`: pin HTTP/1.1 as the gateway speaks it.
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(timeout);
        if (b.caCertificatePem != null) {
            http.sslContext(trusting(b.caCertificatePem));
        }
        this.http = http.build();
    }

    /** A builder; every setter but the optional ones is required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * An SSLContext that trusts the given CA certificates (PEM) and no others. Host names are
     * still checked: java.net.http sets the endpoint identification algorithm to HTTPS itself.
     */
    static SSLContext trusting(String caPem) throws GeneralSecurityException {
        CertificateFactory x509 = CertificateFactory.getInstance("X.509");
        Collection<? extends Certificate> certificates =
                x509.generateCertificates(new ByteArrayInputStream(caPem.getBytes(StandardCharsets.US_ASCII)));
        if (certificates.isEmpty()) {
            throw new GeneralSecurityException("caCertificatePem holds no certificate");
        }
        KeyStore anchors = KeyStore.getInstance(KeyStore.getDefaultType());
        try {
            anchors.load(null, null);
        } catch (IOException e) {
            throw new GeneralSecurityException("cannot make an empty key store", e);
        }
        int n = 0;
        for (Certificate certificate : certificates) {
            anchors.setCertificateEntry("gateway-ca-" + n++, certificate);
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(anchors);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }

    /**
     * Cancels a payment. Never throws for what the gateway does: an answer that cannot be
     * believed, a timeout or a broken connection is an UNKNOWN result.
     *
     * @throws InvalidRequestException when the request breaks the API's rules (nothing is sent)
     */
    public CancelResult cancel(CancelRequest request) throws InvalidRequestException {
        request.validate();
        byte[] body;
        try {
            // These bytes are sent and signed on every attempt: never serialise twice.
            body = JSON.writeValueAsBytes(request);
        } catch (JsonProcessingException e) {
            throw new InvalidRequestException("the request cannot be written as JSON: " + e.getOriginalMessage());
        }
        List<Exchange> exchanges = new ArrayList<>();
        Answer last = null;
        for (int attempt = 1; attempt <= maxAttempts; attempt++) {
            if (attempt > 1 && !pause(retryPause.multipliedBy(attempt - 1))) {
                break;
            }
            last = exchange(body);
            exchanges.add(last.exchange);
            if (last.definitive) {
                break;
            }
        }
        JsonNode result = last.result;
        return new CancelResult(last.status, text(result, "resultCode"), text(result, "resultStatus"),
                text(result, "resultMessage"), last.paymentId, last.paymentRequestId, last.cancelTime,
                last.status == CancelResult.Status.UNKNOWN ? last.exchange.problem() : null,
                body, List.copyOf(exchanges));
    }

    private static boolean pause(Duration d) {
        try {
            Thread.sleep(d.toMillis());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** One exchange and what it settles. */
    private static final class Answer {
        Exchange exchange;
        CancelResult.Status status = CancelResult.Status.UNKNOWN;
        /** A believed S or F: calling again is not allowed. */
        boolean definitive;
        JsonNode result;
        String paymentId;
        String paymentRequestId;
        CancelTime cancelTime;
    }

    private Answer exchange(byte[] body) {
        Answer answer = new Answer();
        String requestTime = Long.toString(System.currentTimeMillis());
        String signature;
        try {
            signature = AlipaySignature.sign(merchantKey, path, clientId, requestTime, body);
        } catch (GeneralSecurityException e) {
            answer.exchange = new Exchange(0, none(), new byte[0], "cannot sign the request: " + e);
            return answer;
        }
        HttpRequest request = HttpRequest.newBuilder(endpoint)
                .timeout(timeout)
                // java.net.http refuses to set Host, Content-Length, Connection, Expect and
                // Upgrade (IllegalArgumentException "restricted header name"); it writes Host and
                // Content-Length itself. Content-Type is ours to set, and must be.
                .header("Content-Type", "application/json; charset=UTF-8")
                .header("Client-Id", clientId)
                .header("Request-Time", requestTime)
                .header("Signature", AlipaySignature.header(keyVersion, signature))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        // HttpRequest.timeout() stops the clock once the headers are in; the body may still
        // trickle. The future's deadline covers the whole exchange, body included.
        CompletableFuture<HttpResponse<byte[]>> pending = http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray());
        HttpResponse<byte[]> response;
        try {
            response = pending.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            pending.cancel(true); // aborts the exchange (JDK 16+)
            answer.exchange = open("no complete answer within " + timeout.toMillis() + " ms");
            return answer;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            // HttpRequest.timeout() and connectTimeout() race the deadline above: one timeout.
            answer.exchange = open(cause instanceof HttpTimeoutException
                    ? "no complete answer within " + timeout.toMillis() + " ms (" + cause.getMessage() + ")"
                    : "no answer: " + cause); // the class name says what: ConnectException's message may be null
            return answer;
        } catch (InterruptedException e) {
            pending.cancel(true);
            Thread.currentThread().interrupt();
            answer.exchange = open("interrupted while waiting for the answer");
            return answer;
        }
        interpret(response, answer);
        return answer;
    }

    private static Exchange open(String why) {
        return new Exchange(0, none(), new byte[0], why);
    }

    private static HttpHeaders none() {
        return HttpHeaders.of(Map.of(), (a, b) -> true);
    }

    /** Reads one answer in the order of docs/adapter-protocol.md#reading-an-answer. */
    private void interpret(HttpResponse<byte[]> response, Answer answer) {
        byte[] body = response.body();
        HttpHeaders headers = response.headers();
        String problem = reading(response, answer);
        answer.exchange = new Exchange(response.statusCode(), headers, body, problem);
    }

    /** Fills in what the answer settles; returns why it leaves the result open, or null. */
    private String reading(HttpResponse<byte[]> response, Answer answer) {
        if (response.statusCode() != 200) {
            return "HTTP status " + response.statusCode() + ": a transport error, whatever the body says";
        }
        JsonNode doc;
        try {
            doc = JSON.readTree(response.body());
        } catch (IOException e) {
            return "the body is not JSON: " + e.getMessage().lines().findFirst().orElse("");
        }
        // readTree of an empty body is a MissingNode, not an error.
        JsonNode result = doc == null ? null : doc.get("result");
        if (doc == null || !doc.isObject() || result == null || !result.isObject()) {
            return "the answer has no `result` object";
        }
        JsonNode status = result.get("resultStatus");
        JsonNode code = result.get("resultCode");
        String s = status != null && status.isTextual() ? status.textValue() : null;
        if (s == null || !(s.equals("S") || s.equals("F") || s.equals("U")) || code == null || !code.isTextual()) {
            return "unusable result: resultStatus " + status + ", resultCode " + code;
        }
        answer.result = result;

        String untrusted = untrusted(response, s);
        if (untrusted != null) {
            return "cannot believe the answer: " + untrusted;
        }
        if (s.equals("U")) {
            return "the result is unknown (U)";
        }
        if (s.equals("F")) {
            answer.status = CancelResult.Status.FAILED;
            answer.definitive = true;
            return null;
        }
        JsonNode paymentId = doc.get("paymentId");
        JsonNode paymentRequestId = doc.get("paymentRequestId");
        JsonNode cancelTime = doc.get("cancelTime");
        CancelTime time = cancelTime != null && cancelTime.isTextual() ? CancelTime.parse(cancelTime.textValue()) : null;
        if (paymentId == null || !paymentId.isTextual() || paymentRequestId == null || !paymentRequestId.isTextual()
                || time == null) {
            // A believed S is definitive: calling again is not allowed, but without its ids and
            // time it cannot be surfaced as a success either.
            answer.definitive = true;
            return "a success answer without usable paymentId, paymentRequestId or cancelTime";
        }
        answer.status = CancelResult.Status.SUCCESS;
        answer.definitive = true;
        answer.paymentId = paymentId.textValue();
        answer.paymentRequestId = paymentRequestId.textValue();
        answer.cancelTime = time;
        return null;
    }

    /**
     * Why the answer cannot be believed, or null. Both {@code signature} and {@code
     * response-time} absent: only an F or U is believed. One of them absent: nothing is.
     */
    private String untrusted(HttpResponse<byte[]> response, String status) {
        HttpHeaders headers = response.headers();
        Optional<String> signature = headers.firstValue("signature");
        Optional<String> responseTime = headers.firstValue("response-time");
        if (signature.isEmpty() && responseTime.isEmpty()) {
            return status.equals("S") ? "an unsigned success answer" : null;
        }
        if (signature.isEmpty() || responseTime.isEmpty()) {
            return "only one of `signature` and `response-time` is present";
        }
        Optional<String> echoed = headers.firstValue("client-id");
        if (echoed.isPresent() && !echoed.get().equals(clientId)) {
            return "the answer is for client id '" + echoed.get() + "', not '" + clientId + "'";
        }
        try {
            Map<String, String> pairs = AlipaySignature.parseHeader(signature.get());
            if (!AlipaySignature.ALGORITHM.equals(pairs.get("algorithm"))) {
                return "signature header: algorithm " + pairs.get("algorithm") + ", expected RSA256";
            }
            String value = pairs.get("signature");
            if (value == null || value.isEmpty()) {
                return "signature header: empty or missing `signature`";
            }
            // The request's path and client id: the answer is verified as an answer to it.
            AlipaySignature.verify(alipayKey, path, clientId, responseTime.get(), response.body(), value);
            return null;
        } catch (SignatureException e) {
            return e.getMessage();
        }
    }

    private static String text(JsonNode node, String member) {
        JsonNode value = node == null ? null : node.get(member);
        return value != null && value.isTextual() ? value.textValue() : null;
    }

    /** Configuration, in the style of the SDKs' client builders. */
    public static final class Builder {
        private String gatewayUrl;
        private String clientId;
        private String merchantPrivateKey;
        private String alipayPublicKey;
        private String keyVersion;
        private String caCertificatePem;
        private Duration timeout = Duration.ofSeconds(15);
        private int maxAttempts = 3;
        private Duration retryPause = Duration.ofMillis(50);

        private Builder() {}

        /** The gateway's base URL: scheme, host, port; the client appends the API path. */
        public Builder gatewayUrl(String url) {
            this.gatewayUrl = url;
            return this;
        }

        public Builder clientId(String clientId) {
            this.clientId = clientId;
            return this;
        }

        /** Base64 of PKCS#8 DER, no PEM armour. */
        public Builder merchantPrivateKey(String base64Der) {
            this.merchantPrivateKey = base64Der;
            return this;
        }

        /** Base64 of X.509 SubjectPublicKeyInfo DER, no PEM armour. */
        public Builder alipayPublicKey(String base64Der) {
            this.alipayPublicKey = base64Der;
            return this;
        }

        /** The {@code keyVersion} of the Signature header; 1 when unset. */
        public Builder keyVersion(String keyVersion) {
            this.keyVersion = keyVersion;
            return this;
        }

        /** Optional: trust only this CA (PEM) for HTTPS, instead of the JDK's trust store. */
        public Builder caCertificatePem(String pem) {
            this.caCertificatePem = pem;
            return this;
        }

        /** How long one exchange may take: connect, send, and the whole answer read. */
        public Builder timeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout: expected a positive duration, found " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /** Calls in all for one cancel while the result stays open, 1 to 5 (the contract's cap). */
        public Builder maxAttempts(int maxAttempts) {
            if (maxAttempts < 1 || maxAttempts > 5) {
                throw new IllegalArgumentException("maxAttempts: expected 1 to 5, found " + maxAttempts);
            }
            this.maxAttempts = maxAttempts;
            return this;
        }

        /** The pause before the second call; it grows linearly after that. */
        public Builder retryPause(Duration pause) {
            this.retryPause = pause;
            return this;
        }

        /**
         * @throws GeneralSecurityException when a key or the CA certificate cannot be read
         */
        public CancelClient build() throws GeneralSecurityException {
            return new CancelClient(this);
        }
    }
}
