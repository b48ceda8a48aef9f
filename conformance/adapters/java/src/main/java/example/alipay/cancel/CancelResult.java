package example.alipay.cancel;

import java.util.List;

/**
 * What one cancel concluded, with every exchange it took.
 *
 * @param status SUCCESS (a believed S), FAILED (a believed F) or UNKNOWN (still open)
 * @param resultCode the {@code result.resultCode} the conclusion rests on, or null
 * @param resultStatus the {@code result.resultStatus} as served (S, F, U), or null
 * @param resultMessage the {@code result.resultMessage} as served, or null
 * @param paymentId on SUCCESS, as served
 * @param paymentRequestId on SUCCESS, as served
 * @param cancelTime on SUCCESS, the served time with every fraction digit
 * @param error why the result is UNKNOWN, for humans
 * @param requestBody the exact bytes sent (and signed) on every attempt
 * @param exchanges every attempt in order
 */
public record CancelResult(
        Status status,
        String resultCode,
        String resultStatus,
        String resultMessage,
        String paymentId,
        String paymentRequestId,
        CancelTime cancelTime,
        String error,
        byte[] requestBody,
        List<Exchange> exchanges) {

    /** The three conclusions a cancel can reach once a request was sent. */
    public enum Status { SUCCESS, FAILED, UNKNOWN }
}
