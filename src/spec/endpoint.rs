//! The cancel endpoint's facts, written once: its method, its two paths and the rule that picks
//! between them, the header names of both directions, and the body members that carry the ids.
//!
//! The gateway, the request checks, the reference client, `serve` and `proxy` all read these
//! constants, so a path or a header name cannot differ between the side that sends and the
//! side that checks.
//!
//! # Example
//! ```
//! use alipay_cancel_kit::spec::endpoint;
//! assert_eq!(endpoint::path_for("SANDBOX_5YBZ1"), "/ams/sandbox/api/v1/payments/cancel");
//! assert_eq!(endpoint::path_for("TEST_5YBZ1"), endpoint::PATH);
//! assert!(endpoint::is_cancel_path(endpoint::SANDBOX_PATH));
//! ```

/// The method of the cancel call.
pub const METHOD: &str = "POST";

/// The gateway path of the cancel API.
pub const PATH: &str = "/ams/api/v1/payments/cancel";

/// The path the official SDKs call (and sign) for a client id starting with
/// [`SANDBOX_PREFIX`].
pub const SANDBOX_PATH: &str = "/ams/sandbox/api/v1/payments/cancel";

/// A client id starting with this calls [`SANDBOX_PATH`].
pub const SANDBOX_PREFIX: &str = "SANDBOX_";

/// Header names, in lower case as the real gateway writes them (they compare
/// case-insensitively).
pub mod header {
    /// The merchant's client id, sent by the client and echoed by the gateway.
    pub const CLIENT_ID: &str = "client-id";
    /// When the client made the request.
    pub const REQUEST_TIME: &str = "request-time";
    /// When the gateway made the answer.
    pub const RESPONSE_TIME: &str = "response-time";
    /// `algorithm=RSA256,keyVersion=…,signature=…`, both directions.
    pub const SIGNATURE: &str = "signature";
    /// The media type of the body.
    pub const CONTENT_TYPE: &str = "content-type";
}

/// Body member names.
pub mod member {
    /// The payment's id, as Alipay gave it.
    pub const PAYMENT_ID: &str = "paymentId";
    /// The merchant's id of the payment request.
    pub const PAYMENT_REQUEST_ID: &str = "paymentRequestId";
    /// The merchant account, for merchants with several.
    pub const MERCHANT_ACCOUNT_ID: &str = "merchantAccountId";
    /// When the payment was cancelled (answers only).
    pub const CANCEL_TIME: &str = "cancelTime";
    /// The three ids a request carries, in the order checks report them.
    pub const IDS: [&str; 3] = [PAYMENT_ID, PAYMENT_REQUEST_ID, MERCHANT_ACCOUNT_ID];
}

/// Whether a client id selects the sandbox path.
pub fn is_sandbox(client_id: &str) -> bool {
    client_id.starts_with(SANDBOX_PREFIX)
}

/// The path a client with this client id calls: [`SANDBOX_PATH`] or [`PATH`].
pub fn path_for(client_id: &str) -> &'static str {
    if is_sandbox(client_id) {
        SANDBOX_PATH
    } else {
        PATH
    }
}

/// Whether the gateway serves the cancel API at this path (either of the two).
pub fn is_cancel_path(path: &str) -> bool {
    path == PATH || path == SANDBOX_PATH
}
