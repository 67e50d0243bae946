// Package awstime holds the two ways AWS JSON APIs put a time on the wire: epoch seconds as a
// JSON number (smithy timestamp members of awsJson1_1) and ISO 8601 strings (License Manager's
// ISO8601DateTime members). Both types embed time.Time, so all its methods work on them.
package awstime

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Range of times the codecs accept and produce: years 0001 to 9999, as ISO 8601 allows.
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// Epoch is a time sent as JSON epoch seconds: a number, with a fraction when the time has one
// (1740823200 or 1740823200.25). The zero value marshals as null, which AWS SDKs read as unset;
// use it in pointer fields with omitempty or value fields with omitzero to leave it out.
type Epoch struct{ time.Time }

// MarshalJSON returns the time as epoch seconds, without trailing zeros in the fraction, or
// null for the zero time.
func (t Epoch) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return AppendEpoch(nil, t.Time), nil
}

// UnmarshalJSON reads epoch seconds from a JSON number; null leaves t unchanged. A string or any
// other JSON type fails with a *json.UnmarshalTypeError.
func (t *Epoch) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return nil
	}
	v, err := ParseEpoch(string(data))
	if err != nil {
		return &json.UnmarshalTypeError{Value: jsonKind(data), Type: reflect.TypeFor[Epoch]()}
	}
	t.Time = v
	return nil
}

// AppendEpoch appends t as decimal epoch seconds, with a fraction only when t has one.
func AppendEpoch(b []byte, t time.Time) []byte {
	sec, ns := t.Unix(), int64(t.Nanosecond())
	if sec < 0 && ns > 0 {
		// t = sec + ns/1e9 with sec rounded down; print it rounded toward zero instead.
		sec++
		ns = 1e9 - ns
		if sec == 0 {
			b = append(b, '-')
		}
	}
	b = strconv.AppendInt(b, sec, 10)
	if ns > 0 {
		frac := strconv.FormatInt(ns+1e9, 10)[1:] // nine digits, zero-padded
		b = append(b, '.')
		b = append(b, strings.TrimRight(frac, "0")...)
	}
	return b
}

// ParseEpoch parses decimal epoch seconds such as "1740823200", "1568825118.617" or "1.7e9" as a
// UTC time. It keeps nanosecond precision for plain decimals and rejects times outside years
// 0001 to 9999.
func ParseEpoch(s string) (time.Time, error) {
	if !validNumber(s) {
		return time.Time{}, &time.ParseError{Layout: "epoch seconds", Value: s, Message: ": not a number"}
	}
	var t time.Time
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Abs(f) > 1e12 {
			return time.Time{}, &time.ParseError{Layout: "epoch seconds", Value: s, Message: ": out of range"}
		}
		sec := math.Floor(f)
		t = time.Unix(int64(sec), int64(math.Round((f-sec)*1e9)))
	} else {
		intPart, frac, _ := strings.Cut(s, ".")
		neg := strings.HasPrefix(intPart, "-")
		sec, err := strconv.ParseInt(intPart, 10, 64)
		if err != nil || sec > 1e12 || sec < -1e12 {
			return time.Time{}, &time.ParseError{Layout: "epoch seconds", Value: s, Message: ": out of range"}
		}
		var ns int64
		if frac != "" {
			if len(frac) > 9 {
				frac = frac[:9]
			}
			ns, _ = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		}
		if neg {
			ns = -ns
		}
		t = time.Unix(sec, ns)
	}
	t = t.UTC()
	if t.Before(minTime) || t.After(maxTime) {
		return time.Time{}, &time.ParseError{Layout: "epoch seconds", Value: s, Message: ": out of range"}
	}
	return t, nil
}

// validNumber reports whether s is a JSON number.
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	start := i
	if n := digits(); n == 0 || (n > 1 && s[start] == '0') {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// ISO8601 is a time sent as an ISO 8601 string in JSON, such as "2025-03-01T10:15:00Z", as
// License Manager's ISO8601DateTime members are. It marshals in UTC, with fractional seconds
// only when non-zero; the zero value marshals as null.
type ISO8601 struct{ time.Time }

// MarshalJSON returns the time as a quoted ISO 8601 UTC string, or null for the zero time.
func (t ISO8601) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return strconv.AppendQuote(nil, FormatISO8601(t.Time)), nil
}

// UnmarshalJSON reads an ISO 8601 string (see ParseISO8601); null leaves t unchanged. A number,
// any other JSON type or an unparsable string fails with a *json.UnmarshalTypeError.
func (t *ISO8601) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if string(data) == "null" {
		return nil
	}
	typeErr := &json.UnmarshalTypeError{Value: jsonKind(data), Type: reflect.TypeFor[ISO8601]()}
	var s string
	if len(data) == 0 || data[0] != '"' || json.Unmarshal(data, &s) != nil {
		return typeErr
	}
	v, err := ParseISO8601(s)
	if err != nil {
		return typeErr
	}
	t.Time = v
	return nil
}

// MarshalText returns the time as an ISO 8601 UTC string; the zero time gives an empty text.
func (t ISO8601) MarshalText() ([]byte, error) {
	if t.IsZero() {
		return nil, nil
	}
	return []byte(FormatISO8601(t.Time)), nil
}

// UnmarshalText parses an ISO 8601 string (see ParseISO8601); an empty text gives the zero time.
func (t *ISO8601) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		t.Time = time.Time{}
		return nil
	}
	v, err := ParseISO8601(string(text))
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// isoLayout is ISO 8601 in UTC with a fraction only when non-zero.
const isoLayout = "2006-01-02T15:04:05.999999999Z"

// FormatISO8601 returns t in UTC as "2006-01-02T15:04:05Z", with fractional seconds (trailing
// zeros dropped) only when t has them.
func FormatISO8601(t time.Time) string {
	return t.UTC().Format(isoLayout)
}

// ParseISO8601 parses an ISO 8601 date-time: RFC 3339 with or without fractional seconds and
// with "Z" or a numeric offset, or without any zone (taken as UTC). The result is in UTC.
func ParseISO8601(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		var err2 error
		if t, err2 = time.Parse("2006-01-02T15:04:05.999999999", s); err2 != nil {
			return time.Time{}, err
		}
	}
	return t.UTC(), nil
}

// jsonKind names the JSON type of a raw value, for *json.UnmarshalTypeError.
func jsonKind(data []byte) string {
	if len(data) == 0 {
		return "empty"
	}
	switch data[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	default:
		return "number"
	}
}
