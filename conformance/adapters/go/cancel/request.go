package cancel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// CancelRequest names the payment to cancel. A nil field is not sent; a non-nil one is sent
// as given, so an empty id is refused rather than silently dropped.
type CancelRequest struct {
	// PaymentID is the id Alipay assigned to the payment (1 to 64 characters).
	PaymentID *string `json:"paymentId,omitempty"`
	// PaymentRequestID is the merchant's id of the payment request (1 to 64 characters).
	PaymentRequestID *string `json:"paymentRequestId,omitempty"`
	// MerchantAccountID is optional (1 to 32 characters).
	MerchantAccountID *string `json:"merchantAccountId,omitempty"`
}

// String returns a pointer to s, for the fields of CancelRequest.
func String(s string) *string { return &s }

// ValidationError is a request refused before anything was sent: it names the field and the
// rule it breaks.
type ValidationError struct {
	Field string
	Rule  string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Rule }

// Validate checks the request rules of docs/api.md#request-body: each id 1 to 64 characters
// (merchantAccountId 1 to 32), counted in Unicode code points as JSON Schema's maxLength
// counts them, never in bytes; valid UTF-8 (encoding/json would otherwise replace bad bytes
// with U+FFFD, and the gateway would see another id); at least one of the two payment ids.
func (r CancelRequest) Validate() error {
	fields := []struct {
		name  string
		value *string
		max   int
	}{
		{"paymentId", r.PaymentID, 64},
		{"paymentRequestId", r.PaymentRequestID, 64},
		{"merchantAccountId", r.MerchantAccountID, 32},
	}
	for _, f := range fields {
		if f.value == nil {
			continue
		}
		if !utf8.ValidString(*f.value) {
			return &ValidationError{f.name, "not valid UTF-8"}
		}
		if n := utf8.RuneCountInString(*f.value); n < 1 || n > f.max {
			return &ValidationError{f.name, fmt.Sprintf("expected 1 to %d characters, found %d", f.max, n)}
		}
	}
	if r.PaymentID == nil && r.PaymentRequestID == nil {
		return &ValidationError{"paymentId or paymentRequestId", "at least one must be given"}
	}
	return nil
}

// encode writes the body once: compact JSON, `<`, `>` and `&` as themselves. json.Marshal
// would write them as \u003c, \u003e and \u0026 (still the same JSON value, but not the bytes
// a reader expects), and json.Encoder.Encode ends with a line feed that is part of the bytes
// signed if it is not cut off. These bytes are signed and sent as they are, on every attempt.
func (r CancelRequest) encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
