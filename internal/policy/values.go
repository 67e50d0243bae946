package policy

import (
	"strings"
	"time"
)

// decimal is an exact decimal number: sign, integer digits without leading zeros and fraction
// digits without trailing zeros. Comparing two decimals needs no arithmetic and no allocation.
type decimal struct {
	neg  bool
	int  string
	frac string
}

// parseDecimal parses [+-]digits[.digits] (either side of the point may be empty, not both).
func parseDecimal(s string) (decimal, bool) {
	var d decimal
	if s == "" {
		return d, false
	}
	switch s[0] {
	case '-':
		d.neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	ip, fp, _ := strings.Cut(s, ".")
	if ip == "" && fp == "" || !allDigits(ip) || !allDigits(fp) {
		return decimal{}, false
	}
	d.int = strings.TrimLeft(ip, "0")
	d.frac = strings.TrimRight(fp, "0")
	if d.int == "" && d.frac == "" {
		d.neg = false // -0 == 0
	}
	return d, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cmp returns -1, 0 or +1 as d is less than, equal to or greater than e.
func (d decimal) cmp(e decimal) int {
	if d.neg != e.neg {
		if d.neg {
			return -1
		}
		return 1
	}
	c := d.cmpAbs(e)
	if d.neg {
		return -c
	}
	return c
}

func (d decimal) cmpAbs(e decimal) int {
	if len(d.int) != len(e.int) {
		if len(d.int) < len(e.int) {
			return -1
		}
		return 1
	}
	if c := strings.Compare(d.int, e.int); c != 0 {
		return c
	}
	// Without trailing zeros, fraction digit strings order lexicographically.
	return strings.Compare(d.frac, e.frac)
}

// instant is a point in time with nanosecond precision over any year time.Time supports.
type instant struct {
	sec  int64
	nsec int32
}

func instantOf(t time.Time) instant { return instant{sec: t.Unix(), nsec: int32(t.Nanosecond())} }

func (a instant) cmp(b instant) int {
	switch {
	case a.sec < b.sec:
		return -1
	case a.sec > b.sec:
		return 1
	case a.nsec < b.nsec:
		return -1
	case a.nsec > b.nsec:
		return 1
	}
	return 0
}

// dateLayouts are the W3C profile of ISO 8601 (https://www.w3.org/TR/NOTE-datetime), with
// fractional seconds accepted after the seconds by time.Parse; plus times without a zone
// (read as UTC) and the basic format. A bare year is not accepted: digits alone are epoch seconds.
var dateLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04Z07:00",
	"2006-01-02",
	"2006-01",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"20060102T150405Z0700",
	"20060102T150405Z",
}

// parseDate parses an ISO 8601 date or date-time, or a number of seconds since the Unix epoch.
func parseDate(s string) (instant, bool) {
	if s == "" {
		return instant{}, false
	}
	digits := s
	if digits[0] == '-' {
		digits = digits[1:]
	}
	// Any run of digits is epoch seconds (so a bare year is not a date).
	if digits != "" && allDigits(digits) {
		if len(digits) > 18 {
			return instant{}, false
		}
		var n int64
		for i := 0; i < len(digits); i++ {
			n = n*10 + int64(digits[i]-'0')
		}
		if s[0] == '-' {
			n = -n
		}
		return instant{sec: n}, true
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return instantOf(t), true
		}
	}
	return instant{}, false
}
