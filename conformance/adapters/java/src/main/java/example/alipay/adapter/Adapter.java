package example.alipay.adapter;

import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import example.alipay.cancel.CancelClient;
import example.alipay.cancel.CancelRequest;
import example.alipay.cancel.CancelResult;
import example.alipay.cancel.Exchange;
import example.alipay.cancel.InvalidRequestException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * The adapter of docs/adapter-protocol.md around {@link CancelClient}: one instruction line in,
 * one outcome line out, flushed, for as many lines as standard input holds. Exec mode (one line,
 * then end of input) and persistent mode (many lines) are the same loop. Logs go to standard
 * error; standard output carries outcome lines only.
 *
 * <pre>
 * java example.alipay.adapter.Adapter                  # serve instructions from standard input
 * java example.alipay.adapter.Adapter --capabilities   # print the capabilities
 * </pre>
 */
public final class Adapter {
    static final String PROTOCOL = "alipay-cancel-kit/1";

    /** HTTPS trusting the instruction's CA, with host name checks; all three ids. */
    static final String CAPABILITIES = "[\"tls\"]";

    /** The request members a cancel has; any other in an instruction is refused locally. */
    private static final Set<String> REQUEST_MEMBERS = Set.of("paymentId", "paymentRequestId", "merchantAccountId");

    /** Outcome lines in ASCII (non-ASCII as \\u escapes): one line whatever the platform encoding. */
    private static final JsonMapper JSON = JsonMapper.builder().enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();

    private Adapter() {}

    public static void main(String[] args) throws Exception {
        for (String arg : args) {
            if (arg.equals("--capabilities")) {
                System.out.println(CAPABILITIES);
                System.out.flush();
                return;
            }
        }
        // System.out is a PrintStream over a buffer; this one flushes only when told, after
        // each whole line: exactly one write per outcome.
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.US_ASCII);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (line.isBlank()) {
                continue;
            }
            out.print(JSON.writeValueAsString(handle(line)) + "\n");
            out.flush();
        }
        // java.net.http's selector threads are daemons, but one left waiting on a dead
        // connection must not hold an exec-mode scenario open: the outcomes are written.
        System.exit(0);
    }

    /** One instruction line to one outcome; never throws. */
    static ObjectNode handle(String line) {
        JsonNode instruction;
        try {
            instruction = JSON.readTree(line);
        } catch (Exception e) {
            return outcome("UNKNOWN", "unreadable instruction: " + e.getMessage());
        }
        if (instruction == null || !PROTOCOL.equals(instruction.path("protocol").asText(null))) {
            return outcome("UNKNOWN", "not an " + PROTOCOL + " instruction");
        }
        String tag = "[" + instruction.path("scenario").asText("?") + "]";
        CancelClient client;
        try {
            JsonNode gateway = instruction.get("gateway");
            client = CancelClient.builder()
                    .gatewayUrl(required(gateway, "url"))
                    .clientId(required(gateway, "clientId"))
                    .merchantPrivateKey(required(gateway, "merchantPrivateKey"))
                    .alipayPublicKey(required(gateway, "alipayPublicKey"))
                    .keyVersion(gateway.path("keyVersion").asText("1"))
                    .caCertificatePem(gateway.path("caCertificatePem").textValue())
                    .timeout(Duration.ofMillis(instruction.path("timeoutMs").asLong(0)))
                    .build();
        } catch (Exception e) { // a broken instruction: nothing to call
            return outcome("UNKNOWN", "unusable instruction: " + e);
        }
        try {
            CancelResult result = client.cancel(request(instruction.get("request")));
            int n = 0;
            for (Exchange exchange : result.exchanges()) {
                n++;
                if (exchange.problem() != null) {
                    log(tag + " attempt " + n + ": result open: " + exchange.problem());
                }
            }
            ObjectNode out = toOutcome(result);
            log(tag + " -> " + out);
            return out;
        } catch (InvalidRequestException e) {
            log(tag + " -> INVALID_REQUEST " + e.getMessage());
            return outcome("INVALID_REQUEST", "refused locally: " + e.getMessage());
        } catch (RuntimeException e) { // a bug of ours: say so, but still answer this instruction
            e.printStackTrace();
            return outcome("UNKNOWN", "adapter error: " + e);
        }
    }

    /**
     * The instruction's {@code request} as the client's typed request. The SDK's request type
     * holds strings: a member that is not a string (or null), or one the cancel call does not
     * have, is refused here as the SDK's own types would refuse it.
     */
    static CancelRequest request(JsonNode fields) throws InvalidRequestException {
        if (fields == null || !fields.isObject()) {
            throw new InvalidRequestException("`request` is not an object");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = fields.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> member = it.next();
            if (!REQUEST_MEMBERS.contains(member.getKey())) {
                throw new InvalidRequestException(member.getKey() + ": the cancel call has no such parameter");
            }
            JsonNode value = member.getValue();
            if (!value.isTextual() && !value.isNull()) {
                throw new InvalidRequestException(member.getKey() + ": expected a string, found " + value.getNodeType());
            }
        }
        return new CancelRequest(fields.path("paymentId").textValue(), fields.path("paymentRequestId").textValue(),
                fields.path("merchantAccountId").textValue());
    }

    static ObjectNode toOutcome(CancelResult result) {
        ObjectNode out = outcome(result.status().name(), result.error());
        out.put("resultCode", result.resultCode());
        out.put("resultStatus", result.resultStatus());
        out.put("resultMessage", result.resultMessage());
        if (result.status() == CancelResult.Status.SUCCESS) {
            out.put("paymentId", result.paymentId());
            out.put("paymentRequestId", result.paymentRequestId());
            // The served text (checked RFC 3339), not OffsetDateTime.toString(): every digit kept.
            out.put("cancelTime", result.cancelTime().text());
        }
        return out;
    }

    private static ObjectNode outcome(String kind, String error) {
        ObjectNode out = JSON.createObjectNode();
        out.put("outcome", kind);
        if (error != null) {
            out.put("error", error);
        }
        return out;
    }

    private static String required(JsonNode gateway, String member) {
        JsonNode value = gateway == null ? null : gateway.get(member);
        if (value == null || !value.isTextual()) {
            throw new IllegalArgumentException("gateway." + member + ": expected a string");
        }
        return value.textValue();
    }

    private static void log(String message) {
        System.err.println(message);
    }
}
