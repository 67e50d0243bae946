package pagetoken_test

import (
	"errors"
	"regexp"
	"testing"

	"github.com/allot-dev/allot/internal/pagetoken"
)

func TestToken_RoundTrip(t *testing.T) {
	type position struct {
		After string
		Seq   int64
	}
	tests := []any{
		position{After: "lic-0f1e2d3c", Seq: 1 << 62},
		position{},
		"role/ü",
		int64(42),
	}
	for _, v := range tests {
		tok := pagetoken.Encode(v)
		if !regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(tok) {
			t.Errorf("Encode(%#v) = %q, want URL-safe characters only", v, tok)
		}
		if got, again := tok, pagetoken.Encode(v); got != again {
			t.Errorf("Encode(%#v) not stable: %q then %q", v, got, again)
		}
		switch want := v.(type) {
		case position:
			var got position
			if err := pagetoken.Decode(tok, &got); err != nil || got != want {
				t.Errorf("Decode(%q) = %+v, %v; want %+v", tok, got, err, want)
			}
		case string:
			var got string
			if err := pagetoken.Decode(tok, &got); err != nil || got != want {
				t.Errorf("Decode(%q) = %q, %v; want %q", tok, got, err, want)
			}
		case int64:
			var got int64
			if err := pagetoken.Decode(tok, &got); err != nil || got != want {
				t.Errorf("Decode(%q) = %d, %v; want %d", tok, got, err, want)
			}
		}
	}
}

func TestToken_Invalid(t *testing.T) {
	good := pagetoken.Encode(map[string]string{"after": "x"})
	flipped := []byte(good)
	flipped[len(flipped)/2] ^= 1
	tests := map[string]string{
		"Empty":       "",
		"Garbage":     "not-a-token",
		"PrefixOnly":  "AT1",
		"BadBase64":   "AT1!!!!",
		"Tampered":    string(flipped),
		"Truncated":   good[:len(good)-2],
		"OtherPrefix": "XX1" + good[3:],
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			var v map[string]string
			if err := pagetoken.Decode(tok, &v); !errors.Is(err, pagetoken.ErrInvalid) {
				t.Errorf("Decode(%q) = %v, want ErrInvalid", tok, err)
			}
		})
	}
	t.Run("WrongType", func(t *testing.T) {
		var v int
		if err := pagetoken.Decode(good, &v); !errors.Is(err, pagetoken.ErrInvalid) {
			t.Errorf("Decode into int = %v, want ErrInvalid", err)
		}
	})
}
