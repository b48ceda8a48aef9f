// Command adapter drives the cancel client of package cancel for alipay-cancel-kit: it speaks
// the adapter protocol v1 (docs/adapter-protocol.md), reading one instruction per line on
// standard input and printing one outcome line per instruction on standard output, flushed,
// so the same loop serves exec mode (one line, then end of input) and persistent mode.
// Logs go to standard error only.
//
//	adapter                  serve instructions from standard input
//	adapter --capabilities   print the capabilities as a JSON array
//
// To wrap another Go client, replace newClient and cancelOnce; the rest is the protocol.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"sort"
	"strings"
	"time"

	"alipay-cancel-kit.example/adapters/go/cancel"
)

const protocol = "alipay-cancel-kit/1"

// capabilities: HTTPS trusting the instruction's CA (cancel.Config.CACertificatePEM). No id
// capability is declared, which means all three ids can be sent.
var capabilities = []string{"tls"}

// instruction is one line from the kit (schema/adapter-instruction.schema.json). The request
// stays raw: its fields may break the rules on purpose, a number for an id included.
type instruction struct {
	Protocol string                     `json:"protocol"`
	Scenario string                     `json:"scenario"`
	Gateway  gateway                    `json:"gateway"`
	Request  map[string]json.RawMessage `json:"request"`
	// A pointer, so a missing timeoutMs is told apart from 0.
	TimeoutMs *int64 `json:"timeoutMs"`
}

type gateway struct {
	URL                string `json:"url"`
	ClientID           string `json:"clientId"`
	MerchantPrivateKey string `json:"merchantPrivateKey"`
	AlipayPublicKey    string `json:"alipayPublicKey"`
	KeyVersion         string `json:"keyVersion"`
	CACertificatePEM   string `json:"caCertificatePem"`
}

// outcome is one line to the kit (schema/adapter-outcome.schema.json); nil members are left out.
type outcome struct {
	Outcome          string  `json:"outcome"`
	ResultCode       *string `json:"resultCode,omitempty"`
	ResultStatus     *string `json:"resultStatus,omitempty"`
	ResultMessage    *string `json:"resultMessage,omitempty"`
	PaymentID        *string `json:"paymentId,omitempty"`
	PaymentRequestID *string `json:"paymentRequestId,omitempty"`
	CancelTime       *string `json:"cancelTime,omitempty"`
	Error            *string `json:"error,omitempty"`
}

func unknown(reason string) outcome { return outcome{Outcome: "UNKNOWN", Error: &reason} }

func withResult(o outcome, r *cancel.Result) outcome {
	if r != nil {
		o.ResultCode, o.ResultStatus, o.ResultMessage = &r.ResultCode, &r.ResultStatus, r.ResultMessage
	}
	return o
}

var logger = log.New(os.Stderr, "", log.Lmicroseconds)

func main() {
	for _, arg := range os.Args[1:] {
		if arg == "--capabilities" {
			out, _ := json.Marshal(capabilities)
			fmt.Println(string(out))
			return
		}
	}
	if err := serve(os.Stdin, os.Stdout); err != nil {
		logger.Printf("adapter: %v", err)
		os.Exit(1)
	}
}

// serve answers every non-blank line of in with one outcome line on out, flushed at once.
// bufio.Reader, not bufio.Scanner: a Scanner stops at lines over 64 KiB.
func serve(in io.Reader, out io.Writer) error {
	reader := bufio.NewReader(in)
	writer := bufio.NewWriter(out)
	enc := json.NewEncoder(writer) // Encode writes one line: the value and a line feed
	enc.SetEscapeHTML(false)
	for {
		line, err := reader.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			if encErr := enc.Encode(handle(line)); encErr != nil {
				return encErr
			}
			if flushErr := writer.Flush(); flushErr != nil {
				return flushErr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// handle turns one instruction into one outcome, whatever happens: a panic of the client
// becomes UNKNOWN with its message, never a missing line.
func handle(line []byte) (out outcome) {
	var ins instruction
	if err := json.Unmarshal(line, &ins); err != nil {
		return unknown("unreadable instruction: " + err.Error())
	}
	if ins.Protocol != protocol {
		return unknown(fmt.Sprintf("not an %s instruction (protocol %q)", protocol, ins.Protocol))
	}
	tag := "[" + ins.Scenario + "]"
	defer func() {
		if p := recover(); p != nil {
			logger.Printf("%s adapter panic: %v", tag, p)
			out = unknown(fmt.Sprintf("adapter error: %v", p))
		}
	}()
	if ins.TimeoutMs == nil || *ins.TimeoutMs < 1 {
		return unknown("unusable instruction: timeoutMs missing or below 1")
	}
	client, err := newClient(ins.Gateway, time.Duration(*ins.TimeoutMs)*time.Millisecond)
	if err != nil {
		return unknown("unusable instruction: " + err.Error())
	}
	defer client.Close()
	client.Logf = func(format string, args ...any) { logger.Printf(tag+" "+format, args...) }
	out = cancelOnce(client, ins.Request)
	logger.Printf("%s -> %s%s", tag, out.Outcome, describe(out))
	return out
}

// newClient configures the client from the instruction's gateway: one client per
// instruction, since every scenario has its own gateway, keys and CA.
func newClient(g gateway, timeout time.Duration) (*cancel.Client, error) {
	return cancel.NewClient(cancel.Config{
		GatewayURL:         g.URL,
		ClientID:           g.ClientID,
		MerchantPrivateKey: g.MerchantPrivateKey,
		AlipayPublicKey:    g.AlipayPublicKey,
		KeyVersion:         g.KeyVersion,
		CACertificatePEM:   g.CACertificatePEM,
		Timeout:            timeout,
	})
}

// cancelOnce makes the client cancel exactly the instruction's fields and maps what it
// surfaced to an outcome.
func cancelOnce(client *cancel.Client, fields map[string]json.RawMessage) outcome {
	req, err := toRequest(fields)
	if err != nil {
		return outcome{Outcome: "INVALID_REQUEST", Error: ptr("refused locally: " + err.Error())}
	}
	// No overall deadline beyond the client's own: each exchange is bounded by the timeout,
	// and the attempts by MaxAttempts.
	resp, err := client.Cancel(context.Background(), req)
	var invalid *cancel.ValidationError
	var open *cancel.UnknownResultError
	switch {
	case errors.As(err, &invalid):
		return outcome{Outcome: "INVALID_REQUEST", Error: ptr("refused locally: " + err.Error())}
	case errors.As(err, &open):
		return withResult(unknown(err.Error()), open.Last)
	case err != nil:
		return unknown(err.Error())
	case resp.Succeeded():
		return withResult(outcome{
			Outcome:          "SUCCESS",
			PaymentID:        &resp.PaymentID,
			PaymentRequestID: &resp.PaymentRequestID,
			// The text as served: every fraction digit kept, the offset as written.
			CancelTime: ptr(resp.CancelTime.String()),
		}, &resp.Result)
	default:
		return withResult(outcome{Outcome: "FAILED"}, &resp.Result)
	}
}

// toRequest maps the instruction's fields onto the client's request type. A field the type
// cannot carry (not a string, or a name the API does not define) is refused: the client
// would have to invent or drop something to send it.
func toRequest(fields map[string]json.RawMessage) (cancel.CancelRequest, error) {
	var req cancel.CancelRequest
	var unknown []string
	for name := range fields {
		if name != "paymentId" && name != "paymentRequestId" && name != "merchantAccountId" {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown) // the same message whatever the map's order
		return req, fmt.Errorf("%s: the cancel call has no such parameter", strings.Join(unknown, ", "))
	}
	for _, f := range []struct {
		name   string
		target **string
	}{
		{"paymentId", &req.PaymentID},
		{"paymentRequestId", &req.PaymentRequestID},
		{"merchantAccountId", &req.MerchantAccountID},
	} {
		raw, given := fields[f.name]
		if !given || string(raw) == "null" { // null means the same as absent
			continue
		}
		if len(raw) == 0 || raw[0] != '"' {
			return req, fmt.Errorf("%s: expected a string, found %s", f.name, raw)
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return req, fmt.Errorf("%s: %v", f.name, err)
		}
		*f.target = &s
	}
	return req, nil
}

func describe(o outcome) string {
	s := ""
	if o.ResultCode != nil {
		s += " " + *o.ResultCode
	}
	if o.Error != nil {
		s += " (" + *o.Error + ")"
	}
	return s
}

func ptr(s string) *string { return &s }
