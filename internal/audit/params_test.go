package audit

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParams checks that Params, which rewrites the encoded JSON, gives what decoding it
// into interface values, recasing and encoding again gives (paramsGeneric).
func FuzzParams(f *testing.F) {
	for _, seed := range []string{
		`null`, `{}`, `[]`, `{"A":1}`, `{"SecretAccessKey":"x","Name":"<b>&"}`, `{"B":[{"Z":1,"Y":2.50}],"a":true}`,
		`{"N":12345678901234567890,"F":1e21,"G":0.0000001,"H":-0,"I":1.0}`, `{"K\u00e9y":"\u2028"}`,
		`{"Dup":1,"Dup":2}`, `[1,"x",null,{"Token":{"A":1}}]`, `"just a string"`, `{"Ü":1,"_x":2,"1":3}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		// Inputs a decode into interface values refuses (numbers beyond float64) and objects
		// whose members collide once recased have no single expected form; the API's own
		// values never are either.
		var generic any
		if json.Unmarshal(raw, &generic) != nil || collides(raw) {
			return
		}
		enc, err := json.Marshal(json.RawMessage(raw))
		if err != nil {
			return
		}
		got, want := Params(json.RawMessage(raw)), paramsGeneric(enc)
		if !bytes.Equal(got, want) {
			t.Errorf("Params(%s) = %s, want %s", raw, got, want)
		}
	})
}

// collides reports whether two members of an object in raw have the same recased name
// (paramsGeneric then keeps either, as Go's map order has it).
func collides(raw []byte) bool {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch t := v.(type) {
		case map[string]any:
			seen := map[string]bool{}
			for k, x := range t {
				if seen[lowerFirst(k)] || walk(x) {
					return true
				}
				seen[lowerFirst(k)] = true
			}
		case []any:
			for _, x := range t {
				if walk(x) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

// BenchmarkParams records a CheckoutLicense answer as responseElements.
func BenchmarkParams(b *testing.B) {
	v := struct {
		CheckoutType, LicenseConsumptionToken string
		EntitlementsAllowed                   []struct{ Name, Unit, Value string }
		SignedToken, NodeId, IssuedAt         string
		Expiration, LicenseArn                string
	}{"PROVISIONAL", "0192f3a4b5c6d7e8f90a1b2c3d4e5f60", []struct{ Name, Unit, Value string }{{"Seats", "Count", "1"}}, "",
		"node-1", "2026-11-23T10:00:00Z", "2026-11-23T11:00:00Z", "arn:aws:license-manager::123456789012:license:l-0123456789abcdef0123456789abcdef"}
	b.ReportAllocs()
	for b.Loop() {
		Params(v)
	}
}

// BenchmarkParamsGeneric is BenchmarkParams the way Params used to work, for comparison.
func BenchmarkParamsGeneric(b *testing.B) {
	v := struct {
		CheckoutType, LicenseConsumptionToken string
		EntitlementsAllowed                   []struct{ Name, Unit, Value string }
		SignedToken, NodeId, IssuedAt         string
		Expiration, LicenseArn                string
	}{"PROVISIONAL", "0192f3a4b5c6d7e8f90a1b2c3d4e5f60", []struct{ Name, Unit, Value string }{{"Seats", "Count", "1"}}, "",
		"node-1", "2026-11-23T10:00:00Z", "2026-11-23T11:00:00Z", "arn:aws:license-manager::123456789012:license:l-0123456789abcdef0123456789abcdef"}
	b.ReportAllocs()
	for b.Loop() {
		raw, _ := json.Marshal(v)
		paramsGeneric(raw)
	}
}
