package cancel

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Timestamp is an RFC 3339 date-time as served: the text, kept whole, and the instant.
//
// time.Time holds nanoseconds, so a fraction of more than nine digits loses its tail; and
// time.Time.Format(time.RFC3339Nano) drops trailing zeros. Text keeps every digit served, so
// a caller that needs the value exactly as the gateway wrote it uses String, and one that
// computes with it uses Time.
type Timestamp struct {
	text    string
	instant time.Time
}

// RFC 3339's date-time: `T`/`Z` of either case, a fraction of any length, `Z` or `±hh:mm`.
// RE2's \d is ASCII-only, so no other script's digits slip in.
var rfc3339 = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$`)

// ParseTimestamp parses RFC 3339 strictly. It exists because time.Parse(time.RFC3339, s)
// rejects a lower-case `t` or `z`, which RFC 3339 allows, and Go 1.19 accepts text RFC 3339
// does not (a one-digit hour, a comma before the fraction, an offset hour of 24).
func ParseTimestamp(text string) (Timestamp, error) {
	m := rfc3339.FindStringSubmatch(text)
	if m == nil {
		return Timestamp{}, fmt.Errorf("cancelTime %q is not RFC 3339 (YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm))", text)
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	year, month, day, hour, minute, second := n(1), n(2), n(3), n(4), n(5), n(6)
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59 {
		return Timestamp{}, fmt.Errorf("cancelTime %q: a field is out of range", text)
	}
	offset := 0
	if m[8] == "" { // not Z: ±hh:mm
		oh, om := n(10), n(11)
		if oh > 23 || om > 59 {
			return Timestamp{}, fmt.Errorf("cancelTime %q: the offset is out of range", text)
		}
		offset = oh*3600 + om*60
		if m[9] == "-" {
			offset = -offset
		}
	}
	nanos := 0
	if frac := m[7]; frac != "" {
		digits := (frac + "000000000")[:9] // nanoseconds; digits past the ninth stay in the text
		nanos, _ = strconv.Atoi(digits)
	}
	instant := time.Date(year, time.Month(month), day, hour, minute, second, nanos, time.FixedZone("", offset))
	if instant.Day() != day { // time.Date normalises 31 April into 1 May
		return Timestamp{}, fmt.Errorf("cancelTime %q: no such day", text)
	}
	return Timestamp{text: text, instant: instant}, nil
}

// String is the text as served, every fraction digit kept.
func (t Timestamp) String() string { return t.text }

// Time is the instant, to the nanosecond, in the offset served.
func (t Timestamp) Time() time.Time { return t.instant }

// IsZero reports whether the timestamp was never set.
func (t Timestamp) IsZero() bool { return t.text == "" }

// UnmarshalJSON reads a JSON string through ParseTimestamp.
func (t *Timestamp) UnmarshalJSON(data []byte) error {
	var text string
	if err := json.Unmarshal(data, &text); err != nil {
		return fmt.Errorf("cancelTime: expected a string: %w", err)
	}
	parsed, err := ParseTimestamp(text)
	if err != nil {
		return err
	}
	*t = parsed
	return nil
}

// MarshalJSON writes the text as served.
func (t Timestamp) MarshalJSON() ([]byte, error) { return json.Marshal(t.text) }
