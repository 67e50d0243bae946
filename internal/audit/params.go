package audit

import (
	"encoding/json"
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
// null for nil or empty values.
func Params(v any) json.RawMessage {
	if v == nil {
		return json.RawMessage("null")
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
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
