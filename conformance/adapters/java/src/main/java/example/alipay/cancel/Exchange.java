package example.alipay.cancel;

import java.net.http.HttpHeaders;

/**
 * One HTTP exchange of a cancel, for callers that want to look at the wire (tests, logs):
 * the status, headers and raw body of the answer, or why there was none.
 *
 * @param status the HTTP status, or 0 when no complete answer arrived
 * @param headers the answer's headers (case-insensitive look-ups), empty when none arrived
 * @param body the answer's raw bytes, empty when none arrived
 * @param problem why the answer left the result open, or {@code null} when it settled it
 */
public record Exchange(int status, HttpHeaders headers, byte[] body, String problem) {
}
