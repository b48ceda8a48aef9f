package example.alipay.cancel;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * The cancel call's request body (docs/api.md#request-body). Jackson writes it; an unset
 * (null) field is left out of the body ({@code NON_NULL}), which the API reads the same as
 * an explicit {@code null}.
 *
 * @param paymentId the vendor's id of the payment, 1 to 64 code points
 * @param paymentRequestId the merchant's id of the payment request, 1 to 64 code points
 * @param merchantAccountId optional, 1 to 32 code points
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"paymentId", "paymentRequestId", "merchantAccountId"})
public record CancelRequest(String paymentId, String paymentRequestId, String merchantAccountId) {
    /** Longest {@code paymentId} and {@code paymentRequestId}, in code points. */
    public static final int MAX_ID = 64;
    /** Longest {@code merchantAccountId}, in code points. */
    public static final int MAX_MERCHANT_ACCOUNT_ID = 32;

    /**
     * Checks the request rules before anything is sent (docs/contract.md#local-validation).
     *
     * @throws InvalidRequestException naming the field and the rule it breaks
     */
    public void validate() throws InvalidRequestException {
        check("paymentId", paymentId, MAX_ID);
        check("paymentRequestId", paymentRequestId, MAX_ID);
        check("merchantAccountId", merchantAccountId, MAX_MERCHANT_ACCOUNT_ID);
        if (paymentId == null && paymentRequestId == null) {
            throw new InvalidRequestException("paymentId or paymentRequestId: at least one must be given");
        }
    }

    private static void check(String name, String value, int max) throws InvalidRequestException {
        if (value == null) {
            return;
        }
        // A lone surrogate (JSON "\ud800" decodes to one) is no Unicode text, and has no UTF-8.
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new InvalidRequestException(name + ": not valid Unicode (a lone surrogate at index " + i + ")");
            }
        }
        // length() counts UTF-16 units: an emoji is 2 of them but 1 character to the API.
        int n = value.codePointCount(0, value.length());
        if (n < 1 || n > max) {
            throw new InvalidRequestException(name + ": expected 1 to " + max + " characters, found " + n);
        }
    }
}
