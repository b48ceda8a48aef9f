package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// One outcome line per non-blank instruction line, a last line without a line feed included;
// an unreadable line still gets its outcome.
func TestServeAnswersEveryLineOnce(t *testing.T) {
	in := "\n" + `{"protocol":"alipay-cancel-kit/1","scenario":"a","request":{},"timeoutMs":300}` + "\n  \nnot json\n" +
		`{"protocol":"alipay-cancel-kit/0","request":{}}`
	var out strings.Builder
	if err := serve(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{"UNKNOWN", "UNKNOWN", "UNKNOWN"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d: %q", len(lines), len(want), out.String())
	}
	for i, line := range lines {
		var o map[string]any
		if err := json.Unmarshal([]byte(line), &o); err != nil || o["outcome"] != want[i] {
			t.Errorf("line %d: %s", i+1, line)
		}
	}
}

func TestToRequestKeepsOnlyTheThreeFieldsAsStrings(t *testing.T) {
	fields := func(s string) map[string]json.RawMessage {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	req, err := toRequest(fields(`{"paymentId":null,"paymentRequestId":"a<&>","merchantAccountId":"m"}`))
	if err != nil || req.PaymentID != nil || *req.PaymentRequestID != "a<&>" || *req.MerchantAccountID != "m" {
		t.Fatalf("%+v, %v", req, err)
	}
	for body, want := range map[string]string{
		`{"paymentId":20190612}`:        "paymentId: expected a string, found 20190612",
		`{"paymentId":"1","z":1,"a":2}`: "a, z: the cancel call has no such parameter",
	} {
		if _, err := toRequest(fields(body)); err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %q", body, err, want)
		}
	}
}
