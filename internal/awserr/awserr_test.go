package awserr

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNewCutsLongMessages(t *testing.T) {
	tests := []struct {
		name  string
		value string
		cut   bool
	}{
		{"short", "m5.large", false},
		{"exactly the limit", strings.Repeat("a", MaxMessage-len("Invalid type: ")), false},
		{"300 KB", strings.Repeat("x", 300<<10), true},
		{"multi-byte characters across the cut", strings.Repeat("é", MaxMessage), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, e := range []*Error{New("InvalidParameterValue", "Invalid type: %s", tc.value), Wrap(nil, "InvalidParameterValue", "Invalid type: %s", tc.value)} {
				m := e.Message
				if len(m) > MaxMessage || !utf8.ValidString(m) {
					t.Fatalf("message of %d bytes (valid UTF-8: %v), want at most %d", len(m), utf8.ValidString(m), MaxMessage)
				}
				if got := strings.HasSuffix(m, "…"); got != tc.cut {
					t.Errorf("message ends with an ellipsis: %v, want %v", got, tc.cut)
				}
				if !tc.cut && m != "Invalid type: "+tc.value {
					t.Errorf("message %q changed though it fits", m)
				}
			}
		})
	}
}
