package example.alipay.cancel;

/** The request breaks the API's rules and was not sent. The message names the field and the rule. */
public final class InvalidRequestException extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidRequestException(String message) {
        super(message);
    }
}
