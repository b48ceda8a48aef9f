package example.alipay.cancel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The {@code alipay-cancel-kit serve} gateway the suite runs against: the one {@code serve
 * --exec} started (its ready line is in the environment), or, when the suite runs on its own,
 * one started here on a free port ({@code --tls} when {@code ALIPAY_KIT_TLS=1}) and stopped at
 * the end. With neither a gateway in the environment nor a kit binary to start one, it throws:
 * the suite fails, it never passes without a gateway.
 */
final class KitGateway {
    static final ObjectMapper JSON = new ObjectMapper();

    final String url;
    final String clientId;
    final String merchantPrivateKey;
    final String alipayPublicKey;
    final String keyVersion;
    /** The CA to trust with HTTPS, or null over HTTP. */
    final String caPem;
    /** The kit binary: {@code ALIPAY_KIT_BIN}, else {@code alipay-cancel-kit} on the PATH. */
    final String kitBin;
    private final Process started;
    private final HttpClient http;

    private KitGateway(JsonNode ready, String caPem, String kitBin, Process started) throws GeneralSecurityException {
        this.url = text(ready, "url");
        this.clientId = text(ready, "clientId");
        this.merchantPrivateKey = text(ready, "merchantPrivateKey");
        this.alipayPublicKey = text(ready, "alipayPublicKey");
        this.keyVersion = ready.path("keyVersion").asText("1");
        this.caPem = caPem;
        this.kitBin = kitBin;
        this.started = started;
        HttpClient.Builder http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5));
        if (caPem != null) {
            http.sslContext(CancelClient.trusting(caPem));
        }
        this.http = http.build();
    }

    /** The gateway of the environment, or a fresh one. */
    static KitGateway open() throws Exception {
        String kitBin = kitBin();
        Map<String, String> env = System.getenv();
        if (env.containsKey("ALIPAY_KIT_URL")) {
            JsonNode ready = JSON.createObjectNode()
                    .put("url", env.get("ALIPAY_KIT_URL"))
                    .put("clientId", required(env, "ALIPAY_KIT_CLIENT_ID"))
                    .put("merchantPrivateKey", required(env, "ALIPAY_KIT_MERCHANT_PRIVATE_KEY"))
                    .put("alipayPublicKey", required(env, "ALIPAY_KIT_ALIPAY_PUBLIC_KEY"))
                    .put("keyVersion", env.getOrDefault("ALIPAY_KIT_KEY_VERSION", "1"));
            String ca = null;
            if (env.containsKey("ALIPAY_KIT_CA_FILE")) {
                ca = Files.readString(Path.of(env.get("ALIPAY_KIT_CA_FILE")), StandardCharsets.US_ASCII);
            } else if (env.containsKey("ALIPAY_KIT_CA_CERTIFICATE_PEM")) {
                ca = env.get("ALIPAY_KIT_CA_CERTIFICATE_PEM");
            }
            if (env.get("ALIPAY_KIT_URL").startsWith("https:") && ca == null) {
                throw new IllegalStateException("ALIPAY_KIT_URL is https, but neither ALIPAY_KIT_CA_FILE nor "
                        + "ALIPAY_KIT_CA_CERTIFICATE_PEM is set");
            }
            return new KitGateway(ready, ca, kitBin, null);
        }
        List<String> command = new ArrayList<>(List.of(kitBin, "serve", "--port", "0"));
        if ("1".equals(env.get("ALIPAY_KIT_TLS"))) {
            command.add("--tls");
        }
        Process serve;
        try {
            serve = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            throw new IllegalStateException("no gateway: ALIPAY_KIT_URL is not set (run the suite under "
                    + "`alipay-cancel-kit serve --exec`), and `" + kitBin + " serve` cannot be started: " + e.getMessage(), e);
        }
        String line = new BufferedReader(new InputStreamReader(serve.getInputStream(), StandardCharsets.UTF_8)).readLine();
        if (line == null) {
            serve.destroy();
            throw new IllegalStateException("`" + String.join(" ", command) + "` printed no ready line (exit "
                    + serve.waitFor() + ")");
        }
        JsonNode ready = JSON.readTree(line);
        return new KitGateway(ready, ready.path("caCertificatePem").textValue(), kitBin, serve);
    }

    private static String kitBin() {
        String bin = System.getenv("ALIPAY_KIT_BIN");
        if (bin != null && !bin.isEmpty()) {
            return bin;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, "alipay-cancel-kit");
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return "alipay-cancel-kit";
    }

    /** A client of the code under test against this gateway. */
    CancelClient.Builder client() {
        return CancelClient.builder()
                .gatewayUrl(url)
                .clientId(clientId)
                .merchantPrivateKey(merchantPrivateKey)
                .alipayPublicKey(alipayPublicKey)
                .keyVersion(keyVersion)
                .caCertificatePem(caPem)
                // Well under the 2.5 s kit:fault/timeout keeps the answer back.
                .timeout(Duration.ofMillis(1000));
    }

    /** {@code POST /__kit/arm} with a JSON body; returns the status. */
    int arm(JsonNode body) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url + "/__kit/arm"))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** {@code GET /__kit/requests?id=ID}: the journal's exchanges naming ID, oldest first. */
    List<JsonNode> journal(String id) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(
                        URI.create(url + "/__kit/requests?id=" + URLEncoder.encode(id, StandardCharsets.UTF_8)))
                .timeout(Duration.ofSeconds(10))
                .GET()
                .build();
        HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) {
            throw new IOException("GET /__kit/requests: HTTP " + response.statusCode());
        }
        List<JsonNode> out = new ArrayList<>();
        JSON.readTree(response.body()).path("requests").forEach(out::add);
        return out;
    }

    /** The output of {@code <kit> ARGS...}, which must exit 0. */
    String kit(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(kitBin));
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run the kit: set ALIPAY_KIT_BIN or put alipay-cancel-kit on the PATH ("
                    + e.getMessage() + ")", e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed");
        }
        return out;
    }

    /** Stops the gateway this suite started, if it did. */
    void stop() throws InterruptedException {
        if (started != null) {
            started.destroy(); // SIGTERM: serve stops and exits
            if (!started.waitFor(10, TimeUnit.SECONDS)) {
                started.destroyForcibly();
            }
        }
    }

    private static String required(Map<String, String> env, String name) {
        String value = env.get(name);
        if (value == null) {
            throw new IllegalStateException("ALIPAY_KIT_URL is set but " + name + " is not");
        }
        return value;
    }

    private static String text(JsonNode ready, String member) {
        JsonNode value = ready.get(member);
        if (value == null || !value.isTextual()) {
            throw new IllegalStateException("the ready line has no `" + member + "`: " + ready);
        }
        return value.textValue();
    }
}
