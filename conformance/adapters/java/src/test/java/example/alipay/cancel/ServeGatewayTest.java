package example.alipay.cancel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link CancelClient} against {@code alipay-cancel-kit serve}: every row of the result-code
 * table, answers that must not be believed, a timeout, a sequence, an armed answer and the
 * journal. Magic ids ({@code kit:<scenario>:<unique suffix>}) choose the answers; any other id
 * is cancelled successfully, once, and remembered.
 *
 * <p>Every test first checks that the gateway found nothing wrong with the requests (no
 * {@code x-kit-violations} header on any answer), then what the client concluded.
 */
class ServeGatewayTest {
    private static KitGateway gateway;

    @BeforeAll
    static void startGateway() throws Exception {
        gateway = KitGateway.open();
    }

    @AfterAll
    static void stopGateway() throws Exception {
        if (gateway != null) {
            gateway.stop();
        }
    }

    /** A magic id of its own for each test, so that sequences start afresh. */
    private static String magic(String scenario) {
        return "kit:" + scenario + ":" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static CancelResult cancelByRequestId(String id) throws Exception {
        return gateway.client().build().cancel(new CancelRequest(null, id, null));
    }

    /** The gateway's request checks held for every request that got an answer. */
    private static void assertNoViolations(CancelResult result) {
        assertFalse(result.exchanges().isEmpty(), "no exchange at all");
        for (Exchange exchange : result.exchanges()) {
            assertTrue(exchange.headers().firstValue("x-kit-violations").isEmpty(),
                    () -> "the gateway found violations: " + exchange.headers().firstValue("x-kit-violations").get());
        }
    }

    /** The rows of the result-code table, from its single source in the repository. */
    static Stream<Arguments> resultCodes() throws IOException {
        List<Arguments> rows = new ArrayList<>();
        for (JsonNode row : KitGateway.JSON.readTree(resultCodesFile().toFile()).path("rows")) {
            rows.add(Arguments.of(row.path("resultCode").asText(), row.path("resultStatus").asText()));
        }
        if (rows.isEmpty()) {
            throw new IllegalStateException(resultCodesFile() + ": no rows");
        }
        return rows.stream();
    }

    private static Path resultCodesFile() {
        String repo = System.getProperty("kit.repo");
        Path dir = Path.of(repo != null ? repo : "").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            Path candidate = d.resolve("schema/result-codes.json");
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("schema/result-codes.json not found from " + dir + " (set -Dkit.repo)");
    }

    @ParameterizedTest(name = "{0} ({1})")
    @MethodSource("resultCodes")
    void everyResultCode(String code, String status) throws Exception {
        String sent = magic("result/" + code);
        CancelResult result = cancelByRequestId(sent);
        assertNoViolations(result);
        assertEquals(code, result.resultCode());
        assertEquals(status, result.resultStatus());
        switch (status) {
            case "S" -> {
                assertEquals(CancelResult.Status.SUCCESS, result.status());
                assertEquals(sent, result.paymentRequestId());
                assertNotNull(result.cancelTime());
                assertEquals(1, result.exchanges().size());
            }
            case "F" -> {
                assertEquals(CancelResult.Status.FAILED, result.status());
                assertEquals(1, result.exchanges().size(), "an F is never retried");
            }
            case "U" -> {
                assertEquals(CancelResult.Status.UNKNOWN, result.status());
                assertEquals(3, result.exchanges().size(), "a U is retried, 3 calls in all");
            }
            default -> throw new AssertionError("a row with status " + status);
        }
    }

    @Test
    void theKitPlaysEveryRowOfTheTable() throws Exception {
        Set<String> served = new TreeSet<>();
        for (String line : gateway.kit("scenarios", "--magic", "--scenario", "result/*").split("\n")) {
            if (line.startsWith("kit:result/")) {
                served.add(line.split("\\s+")[0].substring("kit:result/".length()));
            }
        }
        Set<String> table = new TreeSet<>();
        resultCodes().forEach(row -> table.add((String) row.get()[0]));
        assertEquals(table, served);
    }

    @Test
    void anOrdinaryIdIsCancelledOnceAndRemembered() throws Exception {
        String sent = "order-" + UUID.randomUUID();
        CancelResult first = cancelByRequestId(sent);
        assertNoViolations(first);
        assertEquals(CancelResult.Status.SUCCESS, first.status());
        assertEquals(sent, first.paymentRequestId());
        CancelResult again = cancelByRequestId(sent);
        assertNoViolations(again);
        assertEquals(first.cancelTime(), again.cancelTime());
    }

    @Test
    void anUnsignedSuccessIsNotBelieved() throws Exception {
        CancelResult result = gateway.client().build()
                .cancel(new CancelRequest(magic("signature/missing-on-success"), null, null));
        assertNoViolations(result);
        assertEquals(CancelResult.Status.UNKNOWN, result.status());
        assertTrue(result.error().contains("unsigned success"), result.error());
        assertEquals(3, result.exchanges().size(), "an answer not believed leaves the result open: called again");
    }

    @Test
    void aTamperedSignatureIsNotBelieved() throws Exception {
        CancelResult result = gateway.client().build()
                .cancel(new CancelRequest(magic("signature/tampered-success"), null, null));
        assertNoViolations(result);
        assertEquals(CancelResult.Status.UNKNOWN, result.status());
        assertTrue(result.error().contains("does not verify"), result.error());
    }

    @Test
    void lowerCaseEscapesAndSpacedHeadersVerify() throws Exception {
        for (String scenario : List.of("signature/lowercase-escapes", "signature/spaced-header")) {
            CancelResult result = gateway.client().build().cancel(new CancelRequest(magic(scenario), null, null));
            assertNoViolations(result);
            assertEquals(CancelResult.Status.SUCCESS, result.status(), scenario + ": " + result.error());
        }
    }

    @Test
    void noAnswerInTimeIsUnknownNotAResult() throws Exception {
        String sent = magic("fault/timeout");
        CancelResult result = gateway.client().maxAttempts(2).build().cancel(new CancelRequest(sent, null, null));
        // No answer came back to carry x-kit-violations: the journal holds the checks instead.
        List<JsonNode> journal = gateway.journal(sent);
        assertEquals(2, journal.size(), "two calls reached the gateway");
        for (JsonNode exchange : journal) {
            assertTrue(exchange.path("checks").isEmpty(), () -> "failed checks: " + exchange.path("checks"));
        }
        assertEquals(CancelResult.Status.UNKNOWN, result.status());
        assertEquals(0, result.exchanges().get(0).status(), "no answer");
        assertTrue(result.error().contains("no complete answer within 1000 ms"), result.error());
    }

    @Test
    void uThenSuccessSettlesWhenCalledAgain() throws Exception {
        String sent = magic("retry/u-then-success");
        CancelResult result = gateway.client().build().cancel(new CancelRequest(sent, null, null));
        assertNoViolations(result);
        assertEquals(CancelResult.Status.SUCCESS, result.status());
        assertEquals(2, result.exchanges().size());
        assertEquals(sent, result.paymentId());
        // The same body bytes on both calls: the journal has what arrived.
        List<JsonNode> journal = gateway.journal(sent);
        assertEquals(2, journal.size());
        assertEquals(journal.get(0).path("body").asText(), journal.get(1).path("body").asText());
    }

    @Test
    void anArmedAnswerIsServedOnceToItsId() throws Exception {
        String id = "order-" + UUID.randomUUID();
        assertEquals(200, gateway.arm(KitGateway.JSON.createObjectNode()
                .put("scenario", "result/PROCESS_FAIL").put("times", 1).put("id", id)));
        CancelResult armed = cancelByRequestId(id);
        assertNoViolations(armed);
        assertEquals(CancelResult.Status.FAILED, armed.status());
        assertEquals("PROCESS_FAIL", armed.resultCode());
        CancelResult next = cancelByRequestId(id);
        assertNoViolations(next);
        assertEquals(CancelResult.Status.SUCCESS, next.status(), "armed once: the next call is an ordinary cancel");
    }

    @Test
    void theJournalHoldsTheExactBytesSent() throws Exception {
        String id = "order-支付-" + UUID.randomUUID();
        CancelResult result = gateway.client().build().cancel(new CancelRequest(null, id, "M_ACCT_0001"));
        assertNoViolations(result);
        List<JsonNode> journal = gateway.journal(id);
        assertEquals(1, journal.size());
        JsonNode exchange = journal.get(0);
        assertTrue(exchange.path("checks").isEmpty(), () -> "failed checks: " + exchange.path("checks"));
        assertArrayEquals(result.requestBody(), exchange.path("body").asText().getBytes(StandardCharsets.UTF_8));
        assertEquals(CancelClient.CANCEL_PATH, exchange.path("path").asText());
        Set<String> headers = new TreeSet<>();
        exchange.path("headers").forEach(h -> headers.add(h.get(0).asText().toLowerCase(java.util.Locale.ROOT)));
        assertTrue(headers.containsAll(Set.of("client-id", "request-time", "signature", "content-type")), headers::toString);
        assertEquals(200, exchange.path("answer").path("status").asInt());
    }

    @Test
    void anIdTooLongIsRefusedLocallyAndNeverSent() throws Exception {
        String id = "kit:result/SUCCESS:" + "x".repeat(64);
        CancelClient client = gateway.client().build();
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> client.cancel(new CancelRequest(id, null, null)));
        assertEquals("paymentId: expected 1 to 64 characters, found 83", e.getMessage());
        assertTrue(gateway.journal(id).isEmpty(), "nothing reached the gateway");
    }
}
