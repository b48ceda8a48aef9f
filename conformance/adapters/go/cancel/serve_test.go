package cancel_test

// The serve suite: package cancel against `alipay-cancel-kit serve`, the way an SDK's own
// tests run against a mock gateway that CI started (docs/serve.md). Magic ids
// (`kit:<scenario>:<unique suffix>`) choose the answers; any other id is cancelled once and
// remembered. Every test first checks that the gateway found nothing wrong with the requests
// (no `x-kit-violations` header on any answer), then what the client surfaced.
//
//	alipay-cancel-kit serve --port 0 --exec "cd conformance/adapters/go && go test -count=1 ./..."
//	alipay-cancel-kit serve --tls --port 0 --exec "cd conformance/adapters/go && go test -count=1 ./..."
//
// Without serve's environment (ALIPAY_KIT_URL ...) the suite starts `serve --tls --port 0`
// itself when it finds the kit (ALIPAY_KIT_BIN, `alipay-cancel-kit` on PATH, or the
// repository's target/release or target/debug build), and stops it at the end. With no kit
// at all the serve tests fail and say so; `go test -short` skips them instead.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"alipay-cancel-kit.example/adapters/go/cancel"
)

// gateway is serve's ready line (docs/serve.md#starting), from the environment --exec gives
// or from a serve this suite started.
type gateway struct {
	URL                string `json:"url"`
	ClientID           string `json:"clientId"`
	MerchantPrivateKey string `json:"merchantPrivateKey"`
	AlipayPublicKey    string `json:"alipayPublicKey"`
	KeyVersion         string `json:"keyVersion"`
	CACertificatePEM   string `json:"caCertificatePem"`
}

var (
	kit      *gateway // nil when there is none
	noKitWhy string   // why kit is nil
	kitBin   string   // the kit's binary, when found
	admin    *http.Client
)

// The repository's root, from conformance/adapters/go/cancel.
var repoRoot = filepath.Join("..", "..", "..", "..")

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	kitBin = findKit()
	var stop func() error
	switch {
	case os.Getenv("ALIPAY_KIT_URL") != "":
		kit = fromEnvironment()
	case testing.Short():
		noKitWhy = "-short: not starting alipay-cancel-kit serve"
	case kitBin == "":
		noKitWhy = "no gateway: ALIPAY_KIT_URL is not set (run under `alipay-cancel-kit serve --exec`), " +
			"and no kit binary was found (set ALIPAY_KIT_BIN, put alipay-cancel-kit on PATH, or build target/release)"
	default:
		var err error
		if kit, stop, err = startServe(kitBin); err != nil {
			fmt.Fprintln(os.Stderr, "serve suite:", err)
			return 1
		}
	}
	if kit != nil {
		admin = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: trusting(kit.CACertificatePEM)}}
	}
	code := m.Run()
	if stop != nil {
		// serve exits 1 when a request broke a MUST check: the gate --exec would apply.
		if err := stop(); err != nil && code == 0 {
			fmt.Fprintln(os.Stderr, "serve suite: the serve this suite started:", err)
			code = 1
		}
	}
	return code
}

func fromEnvironment() *gateway {
	g := &gateway{
		URL:                os.Getenv("ALIPAY_KIT_URL"),
		ClientID:           os.Getenv("ALIPAY_KIT_CLIENT_ID"),
		MerchantPrivateKey: os.Getenv("ALIPAY_KIT_MERCHANT_PRIVATE_KEY"),
		AlipayPublicKey:    os.Getenv("ALIPAY_KIT_ALIPAY_PUBLIC_KEY"),
		KeyVersion:         os.Getenv("ALIPAY_KIT_KEY_VERSION"),
		CACertificatePEM:   os.Getenv("ALIPAY_KIT_CA_CERTIFICATE_PEM"),
	}
	if g.CACertificatePEM == "" && os.Getenv("ALIPAY_KIT_CA_FILE") != "" {
		if pem, err := os.ReadFile(os.Getenv("ALIPAY_KIT_CA_FILE")); err == nil {
			g.CACertificatePEM = string(pem)
		}
	}
	return g
}

// findKit is the kit's binary: ALIPAY_KIT_BIN (which `serve --exec` may export), then
// alipay-cancel-kit on PATH, then the repository's own builds.
func findKit() string {
	if bin := os.Getenv("ALIPAY_KIT_BIN"); bin != "" {
		return bin
	}
	if bin, err := exec.LookPath("alipay-cancel-kit"); err == nil {
		return bin
	}
	for _, profile := range []string{"release", "debug"} {
		bin, _ := filepath.Abs(filepath.Join(repoRoot, "target", profile, "alipay-cancel-kit"))
		if info, err := os.Stat(bin); err == nil && !info.IsDir() {
			return bin
		}
	}
	return ""
}

// startServe starts `serve --tls --port 0`, reads its ready line, and returns a stop function
// that ends it (SIGTERM) and reports its exit status.
func startServe(bin string) (*gateway, func() error, error) {
	cmd := exec.Command(bin, "serve", "--tls", "--port", "0")
	cmd.Stderr = os.Stderr
	stopWithParent(cmd) // a crashed test binary leaves no serve behind
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("starting %s serve: %w", bin, err)
	}
	stop := func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		return cmd.Wait()
	}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case line := <-lines:
		var g gateway
		if err := json.Unmarshal([]byte(line), &g); err != nil || g.URL == "" {
			_ = stop()
			return nil, nil, fmt.Errorf("%s serve printed no ready line (got %q)", bin, line)
		}
		return &g, stop, nil
	case <-time.After(30 * time.Second):
		_ = stop()
		return nil, nil, fmt.Errorf("%s serve was not ready within 30 s", bin)
	}
}

// needKit gives the gateway, or ends the test: skipped with -short, failed otherwise, so a
// suite that found no gateway never passes silently.
func needKit(t *testing.T) *gateway {
	t.Helper()
	if kit == nil {
		if testing.Short() {
			t.Skip("serve suite skipped: " + noKitWhy)
		}
		t.Fatal("serve suite: " + noKitWhy)
	}
	return kit
}

// trusting is a TLS configuration that trusts only the CA given (nil: the system's roots).
func trusting(caPEM string) *tls.Config {
	config := &tls.Config{MinVersion: tls.VersionTLS12}
	if caPEM != "" {
		config.RootCAs = x509.NewCertPool()
		config.RootCAs.AppendCertsFromPEM([]byte(caPEM))
	}
	return config
}

// recorder wraps the client's transport and keeps every answer's headers: the way to see
// what the gateway says about the requests (x-kit-violations) without touching the client.
type recorder struct {
	next    http.RoundTripper
	mu      sync.Mutex
	answers []http.Header
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil {
		r.mu.Lock()
		r.answers = append(r.answers, resp.Header.Clone())
		r.mu.Unlock()
	}
	return resp, err
}

// noViolations fails the test when any answer carried x-kit-violations: the client broke a
// request check, and the outcome would prove nothing.
func (r *recorder) noViolations(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, header := range r.answers {
		if _, present := header["X-Kit-Violations"]; present {
			t.Fatalf("answer %d: the gateway reports broken request checks: %s", i+1, header.Get("X-Kit-Violations"))
		}
	}
}

// newClient is the client under test against the gateway, with its transport recorded.
func newClient(t *testing.T, timeout time.Duration) (*cancel.Client, *recorder) {
	t.Helper()
	g := needKit(t)
	client, err := cancel.NewClient(cancel.Config{
		GatewayURL:         g.URL,
		ClientID:           g.ClientID,
		MerchantPrivateKey: g.MerchantPrivateKey,
		AlipayPublicKey:    g.AlipayPublicKey,
		KeyVersion:         g.KeyVersion,
		CACertificatePEM:   g.CACertificatePEM,
		Timeout:            timeout,
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	client.Logf = t.Logf
	rec := &recorder{next: client.HTTPClient.Transport}
	client.HTTPClient.Transport = rec
	t.Cleanup(client.Close)
	return client, rec
}

// cancelChecked cancels and checks x-kit-violations before the caller looks at the outcome.
func cancelChecked(t *testing.T, client *cancel.Client, rec *recorder, req cancel.CancelRequest) (*cancel.CancelResponse, error) {
	t.Helper()
	resp, err := client.Cancel(context.Background(), req)
	rec.noViolations(t)
	return resp, err
}

// unique is a suffix no other test (or run) uses, so each magic id's sequence starts afresh.
func unique() string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func magic(scenario string) string { return "kit:" + scenario + ":" + unique() }

// unknownResult is err as an *UnknownResultError, or fails the test.
func unknownResult(t *testing.T, resp *cancel.CancelResponse, err error) *cancel.UnknownResultError {
	t.Helper()
	var open *cancel.UnknownResultError
	if !errors.As(err, &open) {
		t.Fatalf("expected an unknown result, got response %+v, error %v", resp, err)
	}
	return open
}

// --- the journal ------------------------------------------------------------------------

type journalEntry struct {
	Seq     int          `json:"seq"`
	Method  string       `json:"method"`
	Path    string       `json:"path"`
	Headers [][2]string  `json:"headers"`
	Body    string       `json:"body"`
	Checks  []kitCheck   `json:"checks"`
	Passed  [][2]string  `json:"passed"`
	Source  journalWhy   `json:"source"`
	Answer  journalReply `json:"answer"`
}

type kitCheck struct {
	ID, Level, Message string
}

type journalWhy struct {
	Kind     string `json:"kind"`
	Scenario string `json:"scenario"`
	Index    int    `json:"index"`
	Label    string `json:"label"`
}

type journalReply struct {
	Status  int    `json:"status"`
	Signing string `json:"signing"`
}

func (e journalEntry) header(name string) string {
	for _, h := range e.Headers {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

// journal is every exchange the gateway kept that names id (GET /__kit/requests?id=...).
func journal(t *testing.T, id string) []journalEntry {
	t.Helper()
	resp, err := admin.Get(needKit(t).URL + "/__kit/requests?id=" + url.QueryEscape(id))
	if err != nil {
		t.Fatalf("GET /__kit/requests: %v", err)
	}
	defer resp.Body.Close()
	var doc struct {
		Requests []journalEntry `json:"requests"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /__kit/requests: HTTP %d, %v", resp.StatusCode, err)
	}
	return doc.Requests
}

// arm posts to /__kit/arm and fails the test unless the gateway took it.
func arm(t *testing.T, body map[string]any) {
	t.Helper()
	payload, _ := json.Marshal(body)
	resp, err := admin.Post(needKit(t).URL+"/__kit/arm", "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatalf("POST /__kit/arm: %v", err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /__kit/arm %s: HTTP %d %s", payload, resp.StatusCode, reply)
	}
}

// --- the result-code table ----------------------------------------------------------------

type resultRow struct{ Code, Status string }

// resultRows is the result-code table as the kit plays it: the `result/` scenarios of
// `alipay-cancel-kit scenarios --json`, or, without a kit binary, schema/result-codes.json,
// the table's single source. Never a copy in this file.
func resultRows(t *testing.T) []resultRow {
	t.Helper()
	if kitBin != "" {
		out, err := exec.Command(kitBin, "scenarios", "--scenario", "result/*", "--json").Output()
		if err != nil {
			t.Fatalf("%s scenarios --json: %v", kitBin, err)
		}
		var scenarios []struct {
			ID      string `json:"id"`
			Answers []struct {
				Body struct {
					Result struct {
						ResultCode   string `json:"resultCode"`
						ResultStatus string `json:"resultStatus"`
					} `json:"result"`
				} `json:"body"`
			} `json:"answers"`
		}
		if err := json.Unmarshal(out, &scenarios); err != nil {
			t.Fatalf("%s scenarios --json: %v", kitBin, err)
		}
		var rows []resultRow
		for _, s := range scenarios {
			if len(s.Answers) == 0 || "result/"+s.Answers[0].Body.Result.ResultCode != s.ID {
				t.Fatalf("scenario %s: expected one answer with its code", s.ID)
			}
			rows = append(rows, resultRow{s.Answers[0].Body.Result.ResultCode, s.Answers[0].Body.Result.ResultStatus})
		}
		return rows
	}
	data, err := os.ReadFile(filepath.Join(repoRoot, "schema", "result-codes.json"))
	if err != nil {
		t.Fatalf("the result-code table: %v", err)
	}
	var table struct {
		Rows []struct {
			ResultCode   string `json:"resultCode"`
			ResultStatus string `json:"resultStatus"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(data, &table); err != nil {
		t.Fatalf("schema/result-codes.json: %v", err)
	}
	var rows []resultRow
	for _, r := range table.Rows {
		rows = append(rows, resultRow{r.ResultCode, r.ResultStatus})
	}
	return rows
}

// --- the tests ----------------------------------------------------------------------------

func TestServeEveryResultCode(t *testing.T) {
	needKit(t)
	rows := resultRows(t)
	if len(rows) < 17 {
		t.Fatalf("the result-code table has %d rows, the vendor's has 17", len(rows))
	}
	for _, row := range rows {
		row := row
		t.Run(row.Code, func(t *testing.T) {
			t.Parallel()
			client, rec := newClient(t, 2*time.Second)
			client.RetryPause = time.Millisecond
			sent := magic("result/" + row.Code)
			resp, err := cancelChecked(t, client, rec, cancel.CancelRequest{PaymentRequestID: cancel.String(sent)})
			switch row.Status {
			case "S":
				if err != nil || !resp.Succeeded() {
					t.Fatalf("expected a success, got %+v, %v", resp, err)
				}
				if resp.PaymentRequestID != sent || resp.PaymentID == "" || resp.CancelTime.IsZero() {
					t.Fatalf("success without the ids sent and a cancelTime: %+v", resp)
				}
			case "F":
				if err != nil || resp.Result.ResultStatus != "F" || resp.Result.ResultCode != row.Code {
					t.Fatalf("expected F %s, got %+v, %v", row.Code, resp, err)
				}
				if resp.Attempts != 1 {
					t.Fatalf("an F is definitive: %d calls", resp.Attempts)
				}
			case "U":
				open := unknownResult(t, resp, err)
				if open.Last == nil || open.Last.ResultCode != row.Code || open.Last.ResultStatus != "U" {
					t.Fatalf("expected the U answer as the last result, got %+v", open.Last)
				}
				if open.Attempts != cancel.DefaultMaxAttempts {
					t.Fatalf("a U is asked again: %d calls, expected %d", open.Attempts, cancel.DefaultMaxAttempts)
				}
			default:
				t.Fatalf("the table has status %q for %s", row.Status, row.Code)
			}
		})
	}
}

func TestServeAnOrdinaryIdIsCancelledOnceAndRemembered(t *testing.T) {
	client, rec := newClient(t, 2*time.Second)
	sent := "order-" + unique()
	first, err := cancelChecked(t, client, rec, cancel.CancelRequest{PaymentRequestID: cancel.String(sent)})
	if err != nil || !first.Succeeded() || first.PaymentRequestID != sent || !strings.HasPrefix(first.PaymentID, "kit-pid-") {
		t.Fatalf("first cancel: %+v, %v", first, err)
	}
	again, err := cancelChecked(t, client, rec, cancel.CancelRequest{PaymentRequestID: cancel.String(sent)})
	if err != nil || !again.Succeeded() {
		t.Fatalf("second cancel: %+v, %v", again, err)
	}
	if again.CancelTime.String() != first.CancelTime.String() || !again.CancelTime.Time().Equal(first.CancelTime.Time()) {
		t.Fatalf("cancelTime changed: %s, then %s", first.CancelTime, again.CancelTime)
	}
}

func TestServeAnUnsignedSuccessIsNotBelieved(t *testing.T) {
	client, rec := newClient(t, 2*time.Second)
	client.RetryPause = time.Millisecond
	sent := magic("signature/missing-on-success")
	resp, err := cancelChecked(t, client, rec, cancel.CancelRequest{PaymentID: cancel.String(sent)})
	open := unknownResult(t, resp, err)
	if !strings.Contains(open.Reason, "unsigned success") {
		t.Fatalf("the reason does not say the success was unsigned: %s", open.Reason)
	}
	if n := len(journal(t, sent)); n != open.Attempts || n != cancel.DefaultMaxAttempts {
		t.Fatalf("%d requests in the journal, %d attempts", n, open.Attempts)
	}
}

func TestServeATamperedSignatureIsNotBelieved(t *testing.T) {
	client, rec := newClient(t, 2*time.Second)
	client.MaxAttempts = 1
	resp, err := cancelChecked(t, client, rec, cancel.CancelRequest{PaymentID: cancel.String(magic("signature/tampered-success"))})
	open := unknownResult(t, resp, err)
	if !strings.Contains(open.Reason, "does not verify") {
		t.Fatalf("the reason does not say the signature failed: %s", open.Reason)
	}
	if open.Last == nil || open.Last.ResultStatus != "S" {
		t.Fatalf("the tampered answer was an S: %+v", open.Last)
	}
}

func TestServeNoAnswerInTimeIsUnknown(t *testing.T) {
	// kit:fault/timeout holds its answer for 2.5 s; the client allows 300 ms a call.
	client, rec := newClient(t, 300*time.Millisecond)
	client.MaxAttempts = 2
	sent := magic("fault/timeout")
	resp, err := cancelChecked(t, client, rec, cancel.CancelRequest{PaymentID: cancel.String(sent)})
	open := unknownResult(t, resp, err)
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Fatalf("expected a timeout, got %v", err)
	}
	if open.Attempts != 2 {
		t.Fatalf("no answer is asked again: %d calls, expected 2", open.Attempts)
	}
	// No answer came, so no x-kit-violations header could: the journal has the checks. It
	// keeps an exchange once its (late) answer is written, so wait for both.
	var entries []journalEntry
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if entries = journal(t, sent); len(entries) == 2 {
			break
		}
	}
	if len(entries) != 2 {
		t.Fatalf("%d requests in the journal, expected 2", len(entries))
	}
	for _, e := range entries {
		if len(e.Checks) != 0 {
			t.Fatalf("request %d broke request checks: %+v", e.Seq, e.Checks)
		}
	}
	if entries[0].Body != entries[1].Body {
		t.Fatalf("the retry sent another body: %s, then %s", entries[0].Body, entries[1].Body)
	}
}

func TestServeUThenSuccessSettlesWhenCalledAgain(t *testing.T) {
	client, rec := newClient(t, 2*time.Second)
	sent := magic("retry/u-then-success")
	resp, err := cancelChecked(t, client, rec, cancel.CancelRequest{PaymentID: cancel.String(sent)})
	if err != nil || !resp.Succeeded() || resp.PaymentID != sent {
		t.Fatalf("expected the second call's success, got %+v, %v", resp, err)
	}
	if resp.Attempts != 2 {
		t.Fatalf("%d calls, expected 2 (U, then S)", resp.Attempts)
	}
	entries := journal(t, sent)
	if len(entries) != 2 || entries[0].Source.Index != 0 || entries[1].Source.Index != 1 {
		t.Fatalf("the journal does not show the two answers in order: %+v", entries)
	}
	if entries[0].Body != entries[1].Body {
		t.Fatalf("the retry sent another body: %s, then %s", entries[0].Body, entries[1].Body)
	}
}

func TestServeArmedAnswers(t *testing.T) {
	g := needKit(t)
	client, rec := newClient(t, 2*time.Second)
	client.RetryPause = time.Millisecond
	sent := "order-" + unique()
	// An armed scenario, scoped to this id and client: the next request gets it, once.
	arm(t, map[string]any{"scenario": "result/PROCESS_FAIL", "id": sent, "clientId": g.ClientID})
	resp, err := cancelChecked(t, client, rec, cancel.CancelRequest{PaymentRequestID: cancel.String(sent)})
	if err != nil || resp.Result.ResultCode != "PROCESS_FAIL" || resp.Result.ResultStatus != "F" {
		t.Fatalf("expected the armed F PROCESS_FAIL, got %+v, %v", resp, err)
	}
	// An armed answer of the catalogue's format: HTTP 503 is no answer, so the client calls
	// again and gets the ordinary success.
	arm(t, map[string]any{"answers": []any{map[string]any{"status": 503, "rawBody": "busy"}}, "id": sent})
	resp, err = cancelChecked(t, client, rec, cancel.CancelRequest{PaymentRequestID: cancel.String(sent)})
	if err != nil || !resp.Succeeded() || resp.Attempts != 2 {
		t.Fatalf("expected 503, then the ordinary success, got %+v, %v", resp, err)
	}
	var kinds []string
	for _, e := range journal(t, sent) {
		kinds = append(kinds, fmt.Sprintf("%s/%d", e.Source.Kind, e.Answer.Status))
	}
	if want := "armed/200 armed/503 ordinary/200"; strings.Join(kinds, " ") != want {
		t.Fatalf("the journal's sources: %v, expected %s", kinds, want)
	}
}

func TestServeTheJournalHoldsTheExactRequest(t *testing.T) {
	g := needKit(t)
	client, rec := newClient(t, 2*time.Second)
	// `<`, `>` and `&` are sent as themselves, never as encoding/json's \u003c escapes.
	sent := "order<&>-" + unique()
	resp, err := cancelChecked(t, client, rec, cancel.CancelRequest{PaymentRequestID: cancel.String(sent), MerchantAccountID: cancel.String("M_ACCT_0001")})
	if err != nil || !resp.Succeeded() {
		t.Fatalf("cancel: %+v, %v", resp, err)
	}
	entries := journal(t, sent)
	if len(entries) != 1 {
		t.Fatalf("%d requests in the journal, expected 1", len(entries))
	}
	e := entries[0]
	if want := `{"paymentRequestId":"` + sent + `","merchantAccountId":"M_ACCT_0001"}`; e.Body != want {
		t.Fatalf("body %s, expected %s", e.Body, want)
	}
	if e.Method != "POST" || e.Path != cancel.CancelPath || e.header("client-id") != g.ClientID {
		t.Fatalf("request line or client id: %s %s, client-id %q", e.Method, e.Path, e.header("client-id"))
	}
	if !strings.HasPrefix(e.header("signature"), "algorithm=RSA256,keyVersion=") {
		t.Fatalf("signature header %q", e.header("signature"))
	}
	if len(e.Checks) != 0 {
		t.Fatalf("failed checks: %+v", e.Checks)
	}
	held := map[string]bool{}
	for _, p := range e.Passed {
		held[p[0][strings.Index(p[0], ".")+1:]] = true
	}
	for _, check := range []string{"signature", "body", "client-id", "request-time", "content-type", "charset"} {
		if !held[check] {
			t.Errorf("check %s is not among those that held: %v", check, e.Passed)
		}
	}
	if e.Source.Kind != "ordinary" || e.Answer.Signing != "signed" {
		t.Fatalf("source %+v, answer %+v", e.Source, e.Answer)
	}
}
