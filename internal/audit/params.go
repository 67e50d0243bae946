package audit

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Hidden replaces secret values in recorded parameters, as CloudTrail does.
const Hidden = "HIDDEN_DUE_TO_SECURITY_REASONS"

// secretKeys are the (CloudTrail-cased) member names whose values are never recorded.
var secretKeys = map[string]bool{
	"secretAccessKey":  true,
	"sessionToken":     true,
	"password":         true,
	"privateKey":       true,
	"signedToken":      true,
	"token":            true, // License Manager refresh tokens (CreateToken, GetAccessToken)
	"accessToken":      true, // License Manager access tokens (GetAccessToken)
	"tokenCode":        true,
	"webIdentityToken": true,
}

// Params converts an API input or output into CloudTrail's requestParameters/responseElements
// form: member names start lower-case and secrets are replaced by Hidden. It returns JSON
// null for nil or empty values. Objects come out with their members in name order and
// numbers as float64 values, as a decode into interface values and a re-encode would give
// them (paramsGeneric, the reference the tests compare it with); it rewrites the encoded
// JSON in one pass instead, since every API call records two of these.
func Params(v any) json.RawMessage {
	if v == nil {
		return json.RawMessage("null")
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	out, ok := recaseJSON(make([]byte, 0, len(raw)+16), raw)
	if !ok {
		return paramsGeneric(raw)
	}
	if string(out) == "{}" {
		return json.RawMessage("null")
	}
	return out
}

// paramsGeneric is Params by decoding raw into interface values, recasing them and encoding
// them again.
func paramsGeneric(raw []byte) json.RawMessage {
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return json.RawMessage("null")
	}
	generic = recase(generic)
	if m, ok := generic.(map[string]any); ok && len(m) == 0 {
		return json.RawMessage("null")
	}
	out, err := json.Marshal(generic)
	if err != nil {
		return json.RawMessage("null")
	}
	return out
}

// member is an object member met by recaseJSON.
type member struct {
	key string // recased
	raw []byte // its value, as encoded
}

// recaseJSON appends to out the recased form of raw, JSON as json.Marshal writes it (no
// white space, strings escaped its way). ok is false for anything it does not expect.
func recaseJSON(out, raw []byte) (_ []byte, ok bool) {
	if len(raw) == 0 {
		return out, false
	}
	switch raw[0] {
	case '{':
		var ms []member
		for i := 1; i < len(raw) && raw[i] != '}'; {
			kend := endOfString(raw, i)
			if kend < 0 || kend >= len(raw) || raw[kend] != ':' {
				return out, false
			}
			key, ok := plainString(raw[i:kend])
			if !ok {
				if err := json.Unmarshal(raw[i:kend], &key); err != nil {
					return out, false
				}
			}
			vend := endOfValue(raw, kend+1)
			if vend < 0 {
				return out, false
			}
			key = lowerFirst(key)
			val := raw[kend+1 : vend]
			if j := slices.IndexFunc(ms, func(m member) bool { return m.key == key }); j >= 0 {
				ms[j].raw = val
			} else {
				ms = append(ms, member{key, val})
			}
			i = vend
			if i < len(raw) && raw[i] == ',' {
				i++
			}
		}
		slices.SortFunc(ms, func(a, b member) int { return strings.Compare(a.key, b.key) })
		out = append(out, '{')
		for i, m := range ms {
			if i > 0 {
				out = append(out, ',')
			}
			if _, plain := plainString([]byte(`"` + m.key + `"`)); plain {
				out = append(append(append(out, '"'), m.key...), '"')
			} else {
				k, err := json.Marshal(m.key)
				if err != nil {
					return out, false
				}
				out = append(out, k...)
			}
			out = append(out, ':')
			if secretKeys[m.key] {
				out = append(out, `"`+Hidden+`"`...)
				continue
			}
			if out, ok = recaseJSON(out, m.raw); !ok {
				return out, false
			}
		}
		return append(out, '}'), true
	case '[':
		out = append(out, '[')
		for i := 1; i < len(raw) && raw[i] != ']'; {
			end := endOfValue(raw, i)
			if end < 0 {
				return out, false
			}
			if i > 1 {
				out = append(out, ',')
			}
			if out, ok = recaseJSON(out, raw[i:end]); !ok {
				return out, false
			}
			i = end
			if i < len(raw) && raw[i] == ',' {
				i++
			}
		}
		return append(out, ']'), true
	case '"':
		// json.Marshal encodes a string the same way whether it came from a field or an
		// interface value: its bytes stand (unless a json.RawMessage brought invalid UTF-8).
		if !utf8.Valid(raw) {
			return out, false
		}
		if bytes.IndexByte(raw, '\\') >= 0 { // re-encode: a json.RawMessage may escape its own way
			var str string
			if json.Unmarshal(raw, &str) != nil {
				return out, false
			}
			b, err := json.Marshal(str)
			if err != nil {
				return out, false
			}
			return append(out, b...), true
		}
		return append(out, raw...), true
	case 't', 'f', 'n':
		return append(out, raw...), true
	default:
		// A number goes through float64, as a decode into an interface value takes it.
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return out, false
		}
		if isSmallInt(raw) {
			return append(out, raw...), true
		}
		b, err := json.Marshal(f)
		if err != nil {
			return out, false
		}
		return append(out, b...), true
	}
}

// plainString returns the JSON string raw decoded when it holds only printable ASCII that
// json.Marshal writes as is (no quote, backslash, <, > or &), so that its bytes are its
// encoding.
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return "", false
		}
	}
	return string(inner), true
}

// isSmallInt reports whether raw is an integer of at most 15 digits: one that float64 holds
// exactly and that encoding/json writes back unchanged.
func isSmallInt(raw []byte) bool {
	d := raw
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 15 || (d[0] == '0' && len(d) > 1) || (len(raw) > 1 && raw[0] == '-' && string(d) == "0") {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// endOfString returns the index just past the JSON string that starts at raw[i], or -1.
func endOfString(raw []byte, i int) int {
	if i >= len(raw) || raw[i] != '"' {
		return -1
	}
	for j := i + 1; j < len(raw); j++ {
		switch raw[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// endOfValue returns the index just past the JSON value that starts at raw[i], or -1.
func endOfValue(raw []byte, i int) int {
	if i >= len(raw) {
		return -1
	}
	switch raw[i] {
	case '"':
		return endOfString(raw, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(raw); j++ {
			switch raw[j] {
			case '"':
				if j = endOfString(raw, j); j < 0 {
					return -1
				}
				j--
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(raw) && raw[j] != ',' && raw[j] != '}' && raw[j] != ']' {
		j++
	}
	return j
}

func recase(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, val := range t {
			k = lowerFirst(k)
			if secretKeys[k] {
				m[k] = Hidden
				continue
			}
			m[k] = recase(val)
		}
		return m
	case []any:
		for i := range t {
			t[i] = recase(t[i])
		}
		return t
	default:
		return v
	}
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || unicode.IsLower(r) {
		return s
	}
	return strings.ToLower(s[:n]) + s[n:]
}
