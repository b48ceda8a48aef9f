package cancel

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The committed TEST-ONLY keys of conformance/keys/.
func testKey(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "keys", name))
	if err != nil {
		t.Fatalf("reading the test key: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// The golden vector of docs/adapter-protocol.md#golden-vector.
func TestSignMatchesTheGoldenVector(t *testing.T) {
	key, err := ParsePrivateKey(testKey(t, "TEST-ONLY-merchant-private.pkcs8.b64"))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"paymentId":"2019061218401080010018882020035XXXX"}`)
	sig, err := Sign(key, CancelPath, "TEST_5YBZ1", "1685599933871", body)
	if err != nil {
		t.Fatal(err)
	}
	want := "algorithm=RSA256,keyVersion=1,signature=eNaC6gPFZYAXNLYGgHJvyxwqUIoG5qr73fiHdDq3GjK5QGy8%2BtH1y3fAhI8GNgAM2teopoME%2FhvTmujJsUE1TExe%2FjoPQgp80wrRov7X9ZRzVKZWsZYoCLxBmG8kpBxpAdzPeoPZ54GT4RZxpTijDON3FO7HvTEV50T27XDm4GxO5lrkwXsvVBICryQypibXo9QqZeSgAmMEpEfd3qETWlHzLzNCXb%2FMrcp%2FwazB5TbiUZBWPZzNbtvsyQndMdE8ZXXHP1stqxwb7FHLdXHegr1xG5KDE7qoBAAdwJiujVerA1MvlrKYkAXcSLN9GOGy7uxi3snAo0kXioxyLn4cUw%3D%3D"
	if got := SignatureHeader("1", sig); got != want {
		t.Fatalf("header\n got %s\nwant %s", got, want)
	}
}

// The answer direction of the golden vector: raw base64 (bare `+` and `=`), URL-encoded with
// upper- and lower-case escapes; a `+` read as a space, or another time, does not verify.
func TestVerifyTheAnswerVector(t *testing.T) {
	key, err := ParsePublicKey(testKey(t, "TEST-ONLY-vendor-public.spki.b64"))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}`)
	raw := "qxoEemBDFRrNq52zWSa1x+SBbGMz9rtu4KQXyQfrkGLk9iS/bzu9RRe98EYTgI9XbZN0VOdt3mze6bLGkwXH9rR34/0ysuMceMOjTJtW4R8e6H3peOurS+BekgxVxN+gQPwWkLNRq0suSyzXLbyNLcG7dYGONVSS6OGX5gARiSonSk0y9rAspDNnvxcWpZMRAxaI2RwBcUBFkTXnQ83sTxFtWHEj0qcS0waOwapeJv4FUud31jY6musEvP2TQA4dUw81x4+T5J9D+K6ER8dbRwrxq5hrz8zzbZYQPoDEeFJ9hbLGY8+GTTt8+F0gfZ2RRAwzgA5ZV2Q4QiOAMU8ycA=="
	when := "2019-06-12T19:07:11+08:00"
	upper := strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(raw)
	lower := strings.NewReplacer("+", "%2b", "/", "%2f", "=", "%3d").Replace(raw)
	for name, value := range map[string]string{"raw": raw, "upper": upper, "lower": lower} {
		if err := Verify(key, CancelPath, "TEST_5YBZ1", when, body, value); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, value := range map[string]string{
		"plus as space": strings.ReplaceAll(raw, "+", " "),
		"line break":    raw[:40] + "\n" + raw[40:],
		"truncated":     raw[:len(raw)-4],
	} {
		if err := Verify(key, CancelPath, "TEST_5YBZ1", when, body, value); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	if err := Verify(key, CancelPath, "TEST_5YBZ1", "2019-06-12T19:07:12+08:00", body, raw); err == nil {
		t.Error("another response-time verified")
	}
}

func TestParseSignatureHeaderIsTolerantButNotLoose(t *testing.T) {
	pairs, err := ParseSignatureHeader(" signature=ab+c==, keyVersion=1 ,algorithm=RSA256,extra=x")
	if err != nil {
		t.Fatal(err)
	}
	if pairs["signature"] != "ab+c==" || pairs["algorithm"] != "RSA256" || pairs["keyVersion"] != "1" {
		t.Fatalf("pairs %v", pairs)
	}
	for _, bad := range []string{"", "algorithm", "algorithm=RSA256,,signature=x", "signature=a,signature=b"} {
		if _, err := ParseSignatureHeader(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParseTimestampKeepsEveryDigitAndTheInstant(t *testing.T) {
	cases := map[string]time.Time{
		"2019-06-12T19:07:11+08:00":         time.Date(2019, 6, 12, 11, 7, 11, 0, time.UTC),
		"2019-06-12t11:07:11z":              time.Date(2019, 6, 12, 11, 7, 11, 0, time.UTC),
		"2019-06-12T16:52:11+05:45":         time.Date(2019, 6, 12, 11, 7, 11, 0, time.UTC),
		"2019-06-12T07:37:11.120-03:30":     time.Date(2019, 6, 12, 11, 7, 11, 120000000, time.UTC),
		"2019-06-12T11:07:11.123456789123Z": time.Date(2019, 6, 12, 11, 7, 11, 123456789, time.UTC),
		"2024-02-29T23:59:59.9999999-12:00": time.Date(2024, 3, 1, 11, 59, 59, 999999900, time.UTC),
	}
	for text, want := range cases {
		ts, err := ParseTimestamp(text)
		if err != nil {
			t.Errorf("%s: %v", text, err)
			continue
		}
		if !ts.Time().Equal(want) {
			t.Errorf("%s: instant %v, want %v", text, ts.Time().UTC(), want)
		}
		if ts.String() != text {
			t.Errorf("%s: text %q", text, ts.String())
		}
	}
	for _, bad := range []string{
		"2019-06-12 19:07:11+08:00", "2019-06-12T19:07:11+0800", "2019-06-12T19:07:11",
		"2019-06-12T19:07:11UTC", "2019-04-31T00:00:00Z", "2019-13-01T00:00:00Z",
		"2019-06-12T24:00:00Z", "2019-06-12T19:07:11.+08:00", "2019-06-12T19:07:11+24:00",
		"2019-06-12T9:07:11Z", "２０19-06-12T19:07:11Z",
	} {
		if _, err := ParseTimestamp(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestValidateCountsCodePointsNotBytes(t *testing.T) {
	cjk64 := strings.Repeat("支", 64)
	ok := []CancelRequest{
		{PaymentRequestID: String(cjk64)},
		{PaymentID: String(strings.Repeat("9", 64)), MerchantAccountID: String(strings.Repeat("m", 32))},
	}
	for _, r := range ok {
		if err := r.Validate(); err != nil {
			t.Errorf("refused: %v", err)
		}
	}
	bad := map[string]CancelRequest{
		"paymentRequestId: expected 1 to 64 characters, found 65":   {PaymentRequestID: String(cjk64 + "支")},
		"paymentId: expected 1 to 64 characters, found 0":           {PaymentID: String("")},
		"merchantAccountId: expected 1 to 32 characters, found 33":  {PaymentID: String("1"), MerchantAccountID: String(strings.Repeat("m", 33))},
		"paymentId or paymentRequestId: at least one must be given": {MerchantAccountID: String("m")},
		"paymentId: not valid UTF-8":                                {PaymentID: String("\xff")},
	}
	for want, r := range bad {
		err := r.Validate()
		if err == nil || err.Error() != want {
			t.Errorf("got %v, want %q", err, want)
		}
	}
}

// The body is written once, compact, `<>&` as themselves, no trailing line feed.
func TestEncodeWritesTheBytesThatAreSigned(t *testing.T) {
	body, err := CancelRequest{PaymentID: String("a<b>&c"), PaymentRequestID: String("支付")}.encode()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"paymentId":"a<b>&c","paymentRequestId":"支付"}`; string(body) != want {
		t.Fatalf("body %s, want %s", body, want)
	}
}

// Which answers are believed: docs/adapter-protocol.md#verifying-an-answer, one row each.
func TestUntrustedFollowsTheBeliefTable(t *testing.T) {
	c := &Client{clientID: "TEST_5YBZ1", path: CancelPath}
	var err error
	if c.alipay, err = ParsePublicKey(testKey(t, "TEST-ONLY-vendor-public.spki.b64")); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}`)
	good := "algorithm=RSA256, keyVersion=1, signature=qxoEemBDFRrNq52zWSa1x%2BSBbGMz9rtu4KQXyQfrkGLk9iS%2Fbzu9RRe98EYTgI9XbZN0VOdt3mze6bLGkwXH9rR34%2F0ysuMceMOjTJtW4R8e6H3peOurS%2BBekgxVxN%2BgQPwWkLNRq0suSyzXLbyNLcG7dYGONVSS6OGX5gARiSonSk0y9rAspDNnvxcWpZMRAxaI2RwBcUBFkTXnQ83sTxFtWHEj0qcS0waOwapeJv4FUud31jY6musEvP2TQA4dUw81x4%2BT5J9D%2BK6ER8dbRwrxq5hrz8zzbZYQPoDEeFJ9hbLGY8%2BGTTt8%2BF0gfZ2RRAwzgA5ZV2Q4QiOAMU8ycA%3D%3D"
	when := "2019-06-12T19:07:11+08:00"
	h := func(kv ...string) http.Header {
		header := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			header.Add(kv[i], kv[i+1])
		}
		return header
	}
	cases := []struct {
		name    string
		header  http.Header
		status  string
		believe bool
	}{
		{"signed", h("signature", good, "response-time", when, "client-id", "TEST_5YBZ1"), "S", true},
		{"signed, no client-id", h("signature", good, "response-time", when), "S", true},
		{"another client id", h("signature", good, "response-time", when, "client-id", "OTHER"), "S", false},
		{"empty signature", h("signature", "", "response-time", when), "F", false},
		{"not RSA256", h("signature", strings.Replace(good, "RSA256", "RSA", 1), "response-time", when), "S", false},
		{"only signature", h("signature", good), "F", false},
		{"only response-time", h("response-time", when), "U", false},
		{"unsigned F", h(), "F", true},
		{"unsigned U", h(), "U", true},
		{"unsigned S", h(), "S", false},
	}
	for _, tc := range cases {
		why := c.untrusted(tc.header, body, tc.status)
		if (why == "") != tc.believe {
			t.Errorf("%s: believed %v (%s), want %v", tc.name, why == "", why, tc.believe)
		}
	}
}
