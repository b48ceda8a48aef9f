// Package cancel is a small client for Alipay's (Antom's) payment cancel call,
// POST /ams/api/v1/payments/cancel, written the way the vendor's Go SDK is: a Client holding
// an *http.Client, RSA256 signing of every request and verification of every answer.
//
// Unlike a bare SDK it settles what the contract of alipay-cancel-kit asks of a correct
// client: the ids are validated before anything is sent, an answer is believed only when it
// is correctly signed (or an unsigned F or U), anything it cannot believe or read leaves the
// result open, and an open result is asked again, with the same body, a few times.
package cancel

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The API paths; the path called is the path signed.
const (
	CancelPath        = "/ams/api/v1/payments/cancel"
	SandboxCancelPath = "/ams/sandbox/api/v1/payments/cancel"
)

// DefaultMaxAttempts is how many calls one Cancel makes at most while the result stays open
// (a U answer, or no answer to believe). The contract allows 5.
const DefaultMaxAttempts = 3

// maxAnswerBytes bounds the answer body read: a cancel answer is well under a kilobyte.
const maxAnswerBytes = 1 << 20

// Config is what a merchant configures: the gateway, its credentials, and a timeout.
type Config struct {
	// GatewayURL is scheme, host and port, no path: https://open-na-global.alipay.com.
	GatewayURL string
	// ClientID is sent as Client-Id and signed; a SANDBOX_ prefix selects the sandbox path.
	ClientID string
	// MerchantPrivateKey is base64 of PKCS#8 DER, no PEM armour, as the vendor's console gives it.
	MerchantPrivateKey string
	// AlipayPublicKey is base64 of X.509 SubjectPublicKeyInfo DER, no PEM armour.
	AlipayPublicKey string
	// KeyVersion goes into the Signature header; "1" when empty.
	KeyVersion string
	// CACertificatePEM, when set, is the only CA trusted for the gateway's certificate;
	// otherwise the system's roots are.
	CACertificatePEM string
	// Timeout bounds one HTTP exchange: connect, send, and the whole answer read.
	Timeout time.Duration
}

// Client cancels payments. Build it with NewClient; it is safe for concurrent use.
type Client struct {
	// HTTPClient does the exchanges. Its Transport has a tls.Config of its own, so trusting
	// a CA here changes nothing else in the process. Tests may wrap its Transport.
	HTTPClient *http.Client
	// MaxAttempts is the most calls one Cancel makes while the result stays open.
	MaxAttempts int
	// RetryPause is the pause before the second call, doubled before each later one.
	RetryPause time.Duration
	// Logf, when set, is told about every attempt.
	Logf func(format string, args ...any)

	baseURL    string
	clientID   string
	keyVersion string
	path       string
	merchant   *rsa.PrivateKey
	alipay     *rsa.PublicKey
}

// NewClient checks the configuration, loads the keys and builds the HTTP client.
func NewClient(cfg Config) (*Client, error) {
	base, err := url.Parse(cfg.GatewayURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("gateway URL %q: expected http(s)://host[:port]", cfg.GatewayURL)
	}
	if cfg.ClientID == "" {
		return nil, errors.New("client id: empty")
	}
	if cfg.Timeout <= 0 {
		return nil, fmt.Errorf("timeout: expected more than 0, found %v", cfg.Timeout)
	}
	merchant, err := ParsePrivateKey(cfg.MerchantPrivateKey)
	if err != nil {
		return nil, err
	}
	alipay, err := ParsePublicKey(cfg.AlipayPublicKey)
	if err != nil {
		return nil, err
	}
	// A tls.Config per client: the CA given trusts this gateway only, for this client only
	// (never the process-wide http.DefaultTransport). The host name is checked against the
	// certificate and sent as SNI from the URL, as crypto/tls does whenever ServerName is empty.
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CACertificatePEM != "" {
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM([]byte(cfg.CACertificatePEM)) {
			return nil, errors.New("CA certificate: no PEM certificate found")
		}
		tlsConfig.RootCAs = roots
	}
	transport := &http.Transport{
		// Proxy stays nil: a payment client does not follow HTTP_PROXY by accident.
		DialContext:           (&net.Dialer{Timeout: cfg.Timeout}).DialContext,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		// The answer's signature covers the body's bytes as sent: no transparent gzip.
		DisableCompression:  true,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}
	keyVersion := cfg.KeyVersion
	if keyVersion == "" {
		keyVersion = "1"
	}
	path := CancelPath
	if strings.HasPrefix(cfg.ClientID, "SANDBOX_") {
		path = SandboxCancelPath
	}
	return &Client{
		HTTPClient: &http.Client{
			Transport: transport,
			// Client.Timeout covers the whole exchange, the body read included.
			Timeout: cfg.Timeout,
			// A redirect is not an answer (an HTTP status other than 200): never follow it,
			// which would send the signed body to a path it was not signed for.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		MaxAttempts: DefaultMaxAttempts,
		RetryPause:  50 * time.Millisecond,
		baseURL:     strings.TrimSuffix(base.String(), "/"),
		clientID:    cfg.ClientID,
		keyVersion:  keyVersion,
		path:        path,
		merchant:    merchant,
		alipay:      alipay,
	}, nil
}

// Close releases the idle connections of the client's transport.
func (c *Client) Close() { c.HTTPClient.CloseIdleConnections() }

// Result is the `result` object of an answer, as served.
type Result struct {
	ResultCode    string
	ResultStatus  string  // S, F or U
	ResultMessage *string // nil when absent or null
}

// CancelResponse is a believed, definitive answer: a success (ResultStatus S, with the ids
// and CancelTime) or a failure (ResultStatus F; act on ResultCode, and do not call again).
type CancelResponse struct {
	Result           Result
	PaymentID        string
	PaymentRequestID string
	CancelTime       Timestamp
	// Attempts is how many calls this Cancel made.
	Attempts int
}

// Succeeded reports whether the payment was cancelled.
func (r *CancelResponse) Succeeded() bool { return r.Result.ResultStatus == "S" }

// UnknownResultError means the client cannot tell whether the payment was cancelled: the
// last answer was U, or there was none it could read or believe. Calling Cancel again with
// the same request is the way to settle it.
type UnknownResultError struct {
	// Reason says why the last attempt left the result open.
	Reason string
	// Last is the last answer's result, when it had one.
	Last *Result
	// Attempts is how many calls this Cancel made.
	Attempts int
	// Err is the transport error of the last attempt, when it had one (a timeout is a
	// net.Error whose Timeout() is true).
	Err error
}

func (e *UnknownResultError) Error() string {
	return fmt.Sprintf("the result is unknown after %d call(s): %s", e.Attempts, e.Reason)
}

// Unwrap gives errors.As and errors.Is the transport error.
func (e *UnknownResultError) Unwrap() error { return e.Err }

// open is one attempt that settled nothing. final marks a believed S that cannot be used:
// calling again after a definitive answer is not allowed, so the result stays unknown.
type open struct {
	reason string
	result *Result
	err    error
	final  bool
}

// Cancel cancels the payment req names. It returns the definitive answer (S or F), an
// *UnknownResultError when the result stays open, or a *ValidationError when req breaks the
// request rules (then nothing was sent).
func (c *Client) Cancel(ctx context.Context, req CancelRequest) (*CancelResponse, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	// One body for every attempt: a retry must carry the same request.
	body, err := req.encode()
	if err != nil {
		return nil, fmt.Errorf("encoding the request: %w", err)
	}
	attempts := c.MaxAttempts
	if attempts < 1 {
		attempts = 1
	}
	pause := c.RetryPause
	var last *open
	for attempt := 1; attempt <= attempts; attempt++ {
		if attempt > 1 {
			select {
			case <-time.After(pause):
			case <-ctx.Done():
				return nil, &UnknownResultError{Reason: ctx.Err().Error(), Last: last.result, Attempts: attempt - 1, Err: ctx.Err()}
			}
			pause *= 2
		}
		resp, why, err := c.exchange(ctx, body)
		if err != nil {
			return nil, err
		}
		if resp != nil {
			resp.Attempts = attempt
			c.logf("attempt %d: %s %s", attempt, resp.Result.ResultStatus, resp.Result.ResultCode)
			return resp, nil
		}
		c.logf("attempt %d: result open: %s", attempt, why.reason)
		last = why
		if why.final {
			return nil, &UnknownResultError{Reason: why.reason, Last: why.result, Attempts: attempt, Err: why.err}
		}
	}
	return nil, &UnknownResultError{Reason: last.reason, Last: last.result, Attempts: attempts, Err: last.err}
}

func (c *Client) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
	}
}

// exchange makes one call: a definitive answer, or why the result is still open. The error is
// for a request that could not even be built or signed.
func (c *Client) exchange(ctx context.Context, body []byte) (*CancelResponse, *open, error) {
	requestTime := strconv.FormatInt(time.Now().UnixMilli(), 10)
	signature, err := Sign(c.merchant, c.path, c.clientID, requestTime, body)
	if err != nil {
		return nil, nil, err
	}
	// bytes.NewReader: net/http sets Content-Length and can replay the body; the bytes on the
	// wire are exactly the bytes signed.
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+c.path, bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("building the request: %w", err)
	}
	httpReq.Header.Set("Content-Type", "application/json; charset=UTF-8")
	httpReq.Header.Set("Client-Id", c.clientID)
	httpReq.Header.Set("Request-Time", requestTime)
	httpReq.Header.Set("Signature", SignatureHeader(c.keyVersion, signature))

	httpResp, err := c.HTTPClient.Do(httpReq)
	if err != nil {
		return nil, &open{reason: "no answer: " + err.Error(), err: err}, nil
	}
	defer httpResp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(httpResp.Body, maxAnswerBytes+1))
	if err != nil {
		return nil, &open{reason: "the answer was cut short: " + err.Error(), err: err}, nil
	}
	if len(raw) > maxAnswerBytes {
		return nil, &open{reason: fmt.Sprintf("the answer is over %d bytes", maxAnswerBytes)}, nil
	}
	resp, why := c.read(httpResp.StatusCode, httpResp.Header, raw)
	return resp, why, nil
}

// read applies docs/adapter-protocol.md#reading-an-answer to one complete answer.
func (c *Client) read(status int, header http.Header, body []byte) (*CancelResponse, *open) {
	if status != http.StatusOK {
		return nil, &open{reason: fmt.Sprintf("HTTP status %d: a transport error, whatever the body says", status)}
	}
	// Members are looked up by their exact names: decoding into a struct would match them
	// case-insensitively (encoding/json takes "RESULTSTATUS" for ResultStatus).
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil || doc == nil {
		return nil, &open{reason: "the body is not a JSON object"}
	}
	var result map[string]json.RawMessage
	if err := json.Unmarshal(doc["result"], &result); err != nil || result == nil {
		return nil, &open{reason: "the answer has no `result` object"}
	}
	resultStatus, okStatus := stringMember(result, "resultStatus")
	resultCode, okCode := stringMember(result, "resultCode")
	if !okStatus || (resultStatus != "S" && resultStatus != "F" && resultStatus != "U") || !okCode {
		return nil, &open{reason: fmt.Sprintf("unusable result: resultStatus %s, resultCode %s",
			orAbsent(result["resultStatus"]), orAbsent(result["resultCode"]))}
	}
	res := &Result{ResultCode: resultCode, ResultStatus: resultStatus}
	if message, ok := stringMember(result, "resultMessage"); ok {
		res.ResultMessage = &message
	}

	if why := c.untrusted(header, body, resultStatus); why != "" {
		return nil, &open{reason: "cannot believe the answer: " + why, result: res}
	}
	switch resultStatus {
	case "F":
		return &CancelResponse{Result: *res}, nil
	case "U":
		return nil, &open{reason: "the result is unknown (U)", result: res}
	}
	paymentID, okPID := stringMember(doc, "paymentId")
	paymentRequestID, okPRID := stringMember(doc, "paymentRequestId")
	cancelText, _ := stringMember(doc, "cancelTime")
	cancelTime, err := ParseTimestamp(cancelText)
	if !okPID || !okPRID || err != nil {
		return nil, &open{reason: "a believed success without both ids and an RFC 3339 cancelTime", result: res, final: true}
	}
	return &CancelResponse{Result: *res, PaymentID: paymentID, PaymentRequestID: paymentRequestID, CancelTime: cancelTime}, nil
}

// untrusted says why an answer cannot be believed, or "" when it can. Only F and U may come
// unsigned: the gateway does not sign its refusal of a request it could not authenticate.
func (c *Client) untrusted(header http.Header, body []byte, resultStatus string) string {
	// Presence, not Header.Get: Get returns "" both for an absent header and an empty one,
	// and an empty signature is a broken signature, not a missing one.
	signature, hasSignature := headerValue(header, "signature")
	responseTime, hasTime := headerValue(header, "response-time")
	switch {
	case !hasSignature && !hasTime:
		if resultStatus == "S" {
			return "an unsigned success answer"
		}
		return ""
	case !hasSignature || !hasTime:
		return "only one of `signature` and `response-time` is present"
	}
	if echoed, ok := headerValue(header, "client-id"); ok && echoed != c.clientID {
		return fmt.Sprintf("the answer is for client id %q, not %q", echoed, c.clientID)
	}
	pairs, err := ParseSignatureHeader(signature)
	if err != nil {
		return "signature header: " + err.Error()
	}
	if pairs["algorithm"] != "RSA256" {
		return fmt.Sprintf("signature header: algorithm %q, expected RSA256", pairs["algorithm"])
	}
	if pairs["signature"] == "" {
		return "signature header: empty or missing `signature`"
	}
	// Over the request's client id and path, the answer's response-time and raw body.
	if err := Verify(c.alipay, c.path, c.clientID, responseTime, body, pairs["signature"]); err != nil {
		return err.Error()
	}
	return ""
}

// headerValue is the first value of a header, and whether the header is there at all.
func headerValue(header http.Header, name string) (string, bool) {
	values, ok := header[textproto.CanonicalMIMEHeaderKey(name)]
	if !ok || len(values) == 0 {
		return "", false
	}
	return values[0], true
}

// stringMember is a member that is a JSON string (not null, not a number).
func stringMember(object map[string]json.RawMessage, name string) (string, bool) {
	raw, ok := object[name]
	if !ok || len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

func orAbsent(raw json.RawMessage) string {
	if raw == nil {
		return "absent"
	}
	if len(raw) > 40 {
		return string(raw[:40]) + "..."
	}
	return string(raw)
}
