package awstime_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/awstime"
)

func TestEpoch_MarshalJSON(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"Whole", time.Unix(1740823200, 0), `1740823200`},
		{"Fraction", time.Unix(1740823200, 250_000_000), `1740823200.25`},
		{"Nanos", time.Unix(1740823200, 1), `1740823200.000000001`},
		{"Epoch", time.Unix(0, 0), `0`},
		{"NegativeWhole", time.Unix(-5, 0), `-5`},
		{"NegativeFraction", time.Unix(-2, 500_000_000), `-1.5`},
		{"NegativeBelowOne", time.Unix(-1, 750_000_000), `-0.25`},
		{"Zone", time.Date(2025, 3, 1, 11, 0, 0, 0, time.FixedZone("CET", 3600)), `1740823200`},
		{"Zero", time.Time{}, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(awstime.Epoch{Time: tt.t})
			if err != nil {
				t.Fatal(err)
			}
			if got := string(b); got != tt.want {
				t.Errorf("Marshal(%v) = %s, want %s", tt.t, got, tt.want)
			}
			if tt.t.IsZero() {
				return
			}
			var back awstime.Epoch
			if err := json.Unmarshal(b, &back); err != nil || !back.Equal(tt.t) {
				t.Errorf("Unmarshal(%s) = %v, %v; want %v", b, back.Time, err, tt.t)
			}
		})
	}
}

func TestEpoch_UnmarshalJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: `1568825118.617`, want: time.Unix(1568825118, 617_000_000)},
		{in: `1.7e9`, want: time.Unix(1_700_000_000, 0)},
		{in: `-0.5`, want: time.Unix(0, -500_000_000)},
		{in: `1740823200.1234567891`, want: time.Unix(1740823200, 123456789)},
		{in: `"1740823200"`, wantErr: true},
		{in: `"2025-03-01T10:15:00Z"`, wantErr: true},
		{in: `true`, wantErr: true},
		{in: `{}`, wantErr: true},
		{in: `1e400`, wantErr: true},
		{in: `99999999999999`, wantErr: true},
	}
	for _, tt := range tests {
		var got awstime.Epoch
		err := json.Unmarshal([]byte(tt.in), &got)
		if tt.wantErr {
			var te *json.UnmarshalTypeError
			if !errors.As(err, &te) {
				t.Errorf("Unmarshal(%s) = %v, %v; want *json.UnmarshalTypeError", tt.in, got.Time, err)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v UTC", tt.in, got.Time, err, tt.want)
		}
	}
	// null leaves the value alone.
	v := awstime.Epoch{Time: time.Unix(5, 0)}
	if err := json.Unmarshal([]byte(`null`), &v); err != nil || !v.Equal(time.Unix(5, 0)) {
		t.Errorf("Unmarshal(null) = %v, %v; want unchanged", v.Time, err)
	}
}

func TestISO8601_MarshalJSON(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"Whole", time.Date(2025, 3, 1, 11, 15, 0, 0, time.FixedZone("CET", 3600)), `"2025-03-01T10:15:00Z"`},
		{"Fraction", time.Date(2025, 3, 1, 10, 15, 0, 120_000_000, time.UTC), `"2025-03-01T10:15:00.12Z"`},
		{"Zero", time.Time{}, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(awstime.ISO8601{Time: tt.t})
			if err != nil {
				t.Fatal(err)
			}
			if got := string(b); got != tt.want {
				t.Errorf("Marshal(%v) = %s, want %s", tt.t, got, tt.want)
			}
		})
	}
	// Pointer fields with omitempty leave out nil; value fields with omitzero leave out zero.
	b, _ := json.Marshal(struct {
		P *awstime.ISO8601 `json:",omitempty"`
		V awstime.ISO8601  `json:",omitzero"`
		E *awstime.Epoch   `json:",omitempty"`
	}{})
	if got, want := string(b), `{}`; got != want {
		t.Errorf("Marshal(empty) = %s, want %s", got, want)
	}
}

func TestISO8601_UnmarshalJSON(t *testing.T) {
	want := time.Date(2025, 3, 1, 10, 15, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: `"2025-03-01T10:15:00Z"`, want: want},
		{in: `"2025-03-01T11:15:00+01:00"`, want: want},
		{in: `"2025-03-01T10:15:00.500Z"`, want: want.Add(500 * time.Millisecond)},
		{in: `"2025-03-01T10:15:00"`, want: want},
		{in: `"2025-03-01T10:15:00.25"`, want: want.Add(250 * time.Millisecond)},
		{in: `1740823200`, wantErr: true},
		{in: `"2025-03-01"`, wantErr: true},
		{in: `"Sat, 01 Mar 2025 10:15:00 GMT"`, wantErr: true},
		{in: `"tomorrow"`, wantErr: true},
	}
	for _, tt := range tests {
		var got awstime.ISO8601
		err := json.Unmarshal([]byte(tt.in), &got)
		if tt.wantErr {
			var te *json.UnmarshalTypeError
			if !errors.As(err, &te) {
				t.Errorf("Unmarshal(%s) = %v, %v; want *json.UnmarshalTypeError", tt.in, got.Time, err)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v UTC", tt.in, got.Time, err, tt.want)
		}
	}
}

func TestISO8601_Text(t *testing.T) {
	in := awstime.ISO8601{Time: time.Date(2025, 3, 1, 10, 15, 0, 0, time.UTC)}
	b, err := in.MarshalText()
	if err != nil || string(b) != "2025-03-01T10:15:00Z" {
		t.Fatalf("MarshalText = %q, %v; want 2025-03-01T10:15:00Z", b, err)
	}
	var out awstime.ISO8601
	if err := out.UnmarshalText(b); err != nil || !out.Equal(in.Time) {
		t.Errorf("UnmarshalText(%q) = %v, %v; want %v", b, out.Time, err, in.Time)
	}
	if err := out.UnmarshalText([]byte("x")); err == nil {
		t.Errorf("UnmarshalText(x) = nil, want error")
	}
}

func TestParseEpoch(t *testing.T) {
	for _, s := range []string{"", "-", "01", "1.", ".5", "1e", "+1", "1 ", "NaN", "0x10", "253402300800", "-62135596801"} {
		if got, err := awstime.ParseEpoch(s); err == nil {
			t.Errorf("ParseEpoch(%q) = %v, want error", s, got)
		}
	}
	for s, want := range map[string]time.Time{
		"0":            time.Unix(0, 0),
		"-0":           time.Unix(0, 0),
		"253402300799": time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		"-62135596800": time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		"1E3":          time.Unix(1000, 0),
	} {
		if got, err := awstime.ParseEpoch(s); err != nil || !got.Equal(want) {
			t.Errorf("ParseEpoch(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
}
