package awsproto

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
)

// FuzzObjectMembers checks the non-validating splitter against encoding/json on valid JSON
// objects: the same members, the same values (white space aside), and the same decoded
// strings.
func FuzzObjectMembers(f *testing.F) {
	for _, seed := range []string{
		`{}`, ` { "a" : 1 , "b":[1, {"c":"}"}], "d":{"e":"\"]"} } `, `{"a":1,"a":2}`,
		`{"k\u00e9y":"v\\u00e9","x":"\ud83d\ude00","y":"\n\t","z":true,"n":null,"f":-1.5e3}`,
		"{\"bad\":\"\xff\"}", `{"deep":[[[{"a":[]}]],{}],"s":"a,b]c}"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		raw = bytes.TrimSpace(raw)
		var want map[string]json.RawMessage
		if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &want) != nil {
			return
		}
		got, keys, err := objectMembers(raw)
		if err != nil {
			t.Fatalf("objectMembers(%q): %v", raw, err)
		}
		wantKeys := make([]string, 0, len(want))
		for k := range want {
			wantKeys = append(wantKeys, k)
		}
		slices.Sort(wantKeys)
		if !slices.Equal(keys, wantKeys) {
			t.Fatalf("objectMembers(%q) keys = %q, want %q", raw, keys, wantKeys)
		}
		for k, v := range want {
			if !bytes.Equal(got[k], bytes.TrimSpace(v)) {
				t.Errorf("objectMembers(%q)[%q] = %q, want %q", raw, k, got[k], bytes.TrimSpace(v))
			}
			if len(v) > 0 && v[0] == '"' {
				var ws string
				json.Unmarshal(v, &ws)
				if gs, err := decodeString(got[k]); err != nil || gs != ws {
					t.Errorf("decodeString(%q) = %q, %v; want %q", got[k], gs, err, ws)
				}
			}
			if len(v) > 0 && v[0] == '[' {
				var elems []json.RawMessage
				json.Unmarshal(v, &elems)
				ge, err := arrayElements(got[k])
				if err != nil || len(ge) != len(elems) {
					t.Fatalf("arrayElements(%q) = %q, %v; want %q", got[k], ge, err, elems)
				}
				for i := range elems {
					if !bytes.Equal(ge[i], bytes.TrimSpace(elems[i])) {
						t.Errorf("arrayElements(%q)[%d] = %q, want %q", got[k], i, ge[i], elems[i])
					}
				}
			}
		}
	})
}
