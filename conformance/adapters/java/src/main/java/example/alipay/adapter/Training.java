package example.alipay.adapter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import example.alipay.cancel.AlipaySignature;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.Base64;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The class-data training run of {@code build.sh}: a few instructions through {@link
 * Adapter#handle}, against a signing gateway in this process, over HTTP and, when given a
 * key store, HTTPS. Run under {@code -XX:ArchiveClassesAtExit}, it leaves an archive of
 * every class an instruction loads. It asserts nothing about the client (the kit does that);
 * it fails only when an instruction did not reach the outcome its answer calls for, since an
 * archive trained on a broken path would miss the classes of the working one.
 *
 * <pre>
 * java example.alipay.adapter.Training [KEYSTORE.p12 PASSWORD CA.pem]
 * </pre>
 */
final class Training {
    private Training() {}

    public static void main(String[] args) throws Exception {
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        KeyPair merchant = rsa.generateKeyPair();
        KeyPair vendor = rsa.generateKeyPair();

        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        serve(http, vendor.getPrivate());
        String httpUrl = "http://127.0.0.1:" + http.getAddress().getPort();
        expect("SUCCESS", instruction(httpUrl, merchant, vendor, null, "order-1"));
        expect("FAILED", instruction(httpUrl, merchant, vendor, null, "unsigned-F"));
        expect("INVALID_REQUEST", instruction(httpUrl, merchant, vendor, null, ""));
        http.stop(0);

        if (args.length == 3) {
            char[] password = args[1].toCharArray();
            KeyStore store = KeyStore.getInstance("PKCS12");
            try (InputStream in = new FileInputStream(args[0])) {
                store.load(in, password);
            }
            KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, password);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(keys.getKeyManagers(), null, null);
            HttpsServer https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            https.setHttpsConfigurator(new HttpsConfigurator(tls));
            serve(https, vendor.getPrivate());
            String ca = Files.readString(Path.of(args[2]), StandardCharsets.US_ASCII);
            String httpsUrl = "https://localhost:" + https.getAddress().getPort();
            expect("SUCCESS", instruction(httpsUrl, merchant, vendor, ca, "order-2"));
            https.stop(0);
        }
    }

    /** A gateway that signs an S for every id but {@code unsigned-F}, which gets an unsigned F. */
    private static void serve(HttpServer server, PrivateKey vendorKey) {
        server.createContext("/", exchange -> answer(exchange, vendorKey));
        server.start();
    }

    private static void answer(HttpExchange exchange, PrivateKey vendorKey) throws IOException {
        JsonNode request = new ObjectMapper().readTree(exchange.getRequestBody());
        String id = request.path("paymentRequestId").asText();
        boolean refuse = id.equals("unsigned-F");
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        answer.putObject("result").put("resultCode", refuse ? "INVALID_SIGNATURE" : "SUCCESS")
                .put("resultStatus", refuse ? "F" : "S").put("resultMessage", "training");
        if (!refuse) {
            answer.put("paymentId", "p").put("paymentRequestId", id).put("cancelTime", "2019-06-12T19:07:11.1234567+08:00");
        }
        byte[] body = answer.toString().getBytes(StandardCharsets.UTF_8);
        if (!refuse) {
            String time = "2019-06-12T19:07:11+08:00";
            String clientId = exchange.getRequestHeaders().getFirst("Client-Id");
            try {
                String signature = AlipaySignature.sign(vendorKey, exchange.getRequestURI().getPath(), clientId, time, body);
                exchange.getResponseHeaders().add("client-id", clientId);
                exchange.getResponseHeaders().add("response-time", time);
                exchange.getResponseHeaders().add("signature", AlipaySignature.header("1", signature));
            } catch (GeneralSecurityException e) {
                throw new IOException(e);
            }
        }
        exchange.getResponseHeaders().add("content-type", "application/json; charset=UTF-8");
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }

    private static String instruction(String url, KeyPair merchant, KeyPair vendor, String ca, String id) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode gateway = f.objectNode()
                .put("url", url)
                .put("clientId", "TEST_TRAINING")
                .put("merchantPrivateKey", Base64.getEncoder().encodeToString(merchant.getPrivate().getEncoded()))
                .put("alipayPublicKey", Base64.getEncoder().encodeToString(vendor.getPublic().getEncoded()))
                .put("keyVersion", "1");
        if (ca != null) {
            gateway.put("caCertificatePem", ca);
        }
        ObjectNode instruction = f.objectNode().put("protocol", Adapter.PROTOCOL).put("scenario", "training");
        instruction.set("gateway", gateway);
        instruction.set("request", f.objectNode().put("paymentRequestId", id));
        instruction.put("timeoutMs", 10_000);
        return instruction.toString();
    }

    private static void expect(String kind, String instruction) {
        ObjectNode outcome = Adapter.handle(instruction);
        if (!kind.equals(outcome.path("outcome").asText())) {
            throw new IllegalStateException("training: expected " + kind + ", found " + outcome);
        }
    }
}
