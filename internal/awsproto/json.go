package awsproto

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awstime"
)

// serializationCode is the error code of every JSON 1.1 decoding failure.
const serializationCode = "SerializationException"

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonNumberType      = reflect.TypeFor[json.Number]()
)

// DecodeJSON strictly decodes a JSON 1.1 request body into v, a pointer to a struct (or map).
//
// An empty or all-whitespace body counts as {}. Members match struct fields by their json tag
// name, else the field name, case-sensitively. The body must be one JSON object; unknown
// members, wrong JSON types (including 1.0 or "5" for an integer) and out-of-range numbers fail.
// JSON null leaves a member unset. Fields whose pointer implements json.Unmarshaler (such as
// awstime.Epoch) decode themselves. Every failure is an *awserr.Error with code
// "SerializationException" and a message naming the member path, like
// `Value at "Entitlements[0].MaxCount" must be an integer`.
func DecodeJSON(body []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &awserr.Error{Code: internalCode, Message: "An internal error occurred.",
			Err: fmt.Errorf("awsproto: DecodeJSON needs a non-nil pointer, got %T", v)}
	}
	raw := bytes.TrimSpace(body)
	if len(raw) == 0 {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var top json.RawMessage
	if err := dec.Decode(&top); err != nil {
		return syntaxError(err)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		return awserr.New(serializationCode, "Request body must contain a single JSON object; found more data after byte %d", end)
	}
	if top[0] != '{' {
		return awserr.New(serializationCode, "Request body must be a JSON object, not %s", jsonKind(top))
	}
	d := jsonDecoder{}
	return d.value(top, rv.Elem(), "")
}

// syntaxError turns a JSON syntax error into a SerializationException.
func syntaxError(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return awserr.Wrap(err, serializationCode, "Request body is not valid JSON: %s (at byte %d)", se.Error(), se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return awserr.Wrap(err, serializationCode, "Request body is not valid JSON: unexpected end of input")
	default:
		return awserr.Wrap(err, serializationCode, "Request body is not valid JSON: %s", err.Error())
	}
}

// jsonDecoder decodes already-validated JSON onto Go values.
type jsonDecoder struct{}

// value decodes raw (valid JSON, no surrounding space) into v, which is settable. path names
// v for messages ("" at the top).
func (d *jsonDecoder) value(raw []byte, v reflect.Value, path string) error {
	if string(raw) == "null" {
		return nil // leave unset
	}
	t := v.Type()
	// Types that decode themselves: awstime.Epoch, awstime.ISO8601, json.RawMessage, ….
	if t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(jsonUnmarshalerType) {
		err := v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(raw)
		if err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return typeError(path, describe(t))
			}
			return awserr.Wrap(err, serializationCode, "Value at %q is invalid: %s", pathOrBody(path), err.Error())
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			n := reflect.New(t.Elem())
			if err := d.value(raw, n.Elem(), path); err != nil {
				return err
			}
			v.Set(n)
			return nil
		}
		return d.value(raw, v.Elem(), path)
	case reflect.Interface:
		if t.NumMethod() != 0 {
			return unsupported(path, t)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var x any
		if err := dec.Decode(&x); err != nil {
			return syntaxError(err)
		}
		v.Set(reflect.ValueOf(x))
		return nil
	case reflect.Struct:
		if raw[0] != '{' {
			return typeError(path, describe(t))
		}
		members, keys, err := objectMembers(raw)
		if err != nil {
			return err
		}
		fields := fieldsOf(t, "json")
		for _, k := range keys {
			f := fields.byName[k]
			if f == nil {
				return awserr.New(serializationCode, "Unknown member %q", join(path, k))
			}
			if err := d.value(members[k], fieldForSet(v, f.index), join(path, k)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if raw[0] != '{' {
			return typeError(path, describe(t))
		}
		kt := t.Key()
		if kt.Kind() != reflect.String && !reflect.PointerTo(kt).Implements(textUnmarshalerType) {
			return unsupported(path, t)
		}
		members, keys, err := objectMembers(raw)
		if err != nil {
			return err
		}
		if v.IsNil() {
			v.Set(reflect.MakeMapWithSize(t, len(keys)))
		}
		for _, k := range keys {
			p := path + "[" + k + "]"
			kv := reflect.New(kt).Elem()
			if kt.Kind() == reflect.String && !reflect.PointerTo(kt).Implements(textUnmarshalerType) {
				kv.SetString(k)
			} else if err := kv.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(k)); err != nil {
				return awserr.Wrap(err, serializationCode, "Key %q at %q is invalid", k, pathOrBody(path))
			}
			ev := reflect.New(t.Elem()).Elem()
			if err := d.value(members[k], ev, p); err != nil {
				return err
			}
			v.SetMapIndex(kv, ev)
		}
		return nil
	case reflect.Slice:
		if raw[0] != '[' {
			return typeError(path, describe(t))
		}
		elems, err := arrayElements(raw)
		if err != nil {
			return err
		}
		s := reflect.MakeSlice(t, len(elems), len(elems))
		for i, e := range elems {
			if err := d.value(e, s.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.String:
		if t == jsonNumberType {
			if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
				return typeError(path, describe(t))
			}
			v.SetString(string(raw))
			return nil
		}
		if raw[0] != '"' {
			return typeError(path, describe(t))
		}
		s, err := decodeString(raw)
		if err != nil {
			return err
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		switch string(raw) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return typeError(path, describe(t))
		}
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !isNumber(raw) {
			return typeError(path, describe(t))
		}
		n, err := strconv.ParseInt(string(raw), 10, t.Bits())
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return awserr.New(serializationCode, "Value %s at %q is out of range for %s", raw, pathOrBody(path), describe(t))
			}
			return typeError(path, describe(t))
		}
		v.SetInt(n)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if !isNumber(raw) {
			return typeError(path, describe(t))
		}
		n, err := strconv.ParseUint(string(raw), 10, t.Bits())
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return awserr.New(serializationCode, "Value %s at %q is out of range for %s", raw, pathOrBody(path), describe(t))
			}
			return typeError(path, describe(t))
		}
		v.SetUint(n)
		return nil
	case reflect.Float32, reflect.Float64:
		if !isNumber(raw) {
			return typeError(path, describe(t))
		}
		f, err := strconv.ParseFloat(string(raw), t.Bits())
		if err != nil {
			return awserr.New(serializationCode, "Value %s at %q is out of range for %s", raw, pathOrBody(path), describe(t))
		}
		v.SetFloat(f)
		return nil
	}
	return unsupported(path, t)
}

// objectMembers splits a JSON object into its members, with keys sorted so the first problem
// reported does not depend on map order. A repeated key keeps its last value. raw is valid
// JSON (DecodeJSON validated the whole body), so it is split without a second validation.
func objectMembers(raw []byte) (map[string]json.RawMessage, []string, error) {
	members := make(map[string]json.RawMessage)
	keys := make([]string, 0, 8)
	i := skipSpace(raw, 1)
	for i < len(raw) && raw[i] != '}' {
		end := skipValue(raw, i) // the key, a string
		key, err := decodeString(raw[i:end])
		if err != nil {
			return nil, nil, err
		}
		i = skipSpace(raw, end)
		i = skipSpace(raw, i+1) // ':'
		end = skipValue(raw, i)
		if end <= i || end > len(raw) {
			return nil, nil, awserr.New(serializationCode, "Request body is not valid JSON")
		}
		if _, dup := members[key]; !dup {
			keys = append(keys, key)
		}
		members[key] = raw[i:end]
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	slices.Sort(keys)
	return members, keys, nil
}

// arrayElements splits a JSON array, valid JSON, into its elements.
func arrayElements(raw []byte) ([][]byte, error) {
	var elems [][]byte
	i := skipSpace(raw, 1)
	for i < len(raw) && raw[i] != ']' {
		end := skipValue(raw, i)
		if end <= i || end > len(raw) {
			return nil, awserr.New(serializationCode, "Request body is not valid JSON")
		}
		elems = append(elems, raw[i:end])
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return elems, nil
}

// skipSpace returns the index of the first byte of raw at or after i that is not JSON white
// space.
func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just past the JSON value (valid JSON) that starts at raw[i].
func skipValue(raw []byte, i int) int {
	if i >= len(raw) {
		return i
	}
	switch raw[i] {
	case '"':
		for j := i + 1; j < len(raw); j++ {
			switch raw[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return len(raw)
	case '{', '[':
		depth := 0
		for j := i; j < len(raw); j++ {
			switch raw[j] {
			case '"':
				j = skipValue(raw, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(raw)
	}
	j := i
	for j < len(raw) && raw[j] != ',' && raw[j] != '}' && raw[j] != ']' && raw[j] != ' ' && raw[j] != '\t' && raw[j] != '\n' && raw[j] != '\r' {
		j++
	}
	return j
}

// decodeString decodes a JSON string (valid JSON): without escapes and in valid UTF-8, its
// bytes are the string, as encoding/json would decode it.
func decodeString(raw []byte) (string, error) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		inner := raw[1 : len(raw)-1]
		if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
			return string(inner), nil
		}
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", syntaxError(err)
	}
	return s, nil
}

// isNumber reports whether raw starts like a JSON number.
func isNumber(raw []byte) bool {
	return raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')
}

// typeError reports a member of the wrong JSON type.
func typeError(path, want string) error {
	if path == "" {
		return awserr.New(serializationCode, "Request body must be %s", want)
	}
	return awserr.New(serializationCode, "Value at %q must be %s", path, want)
}

// unsupported reports a Go type the decoder cannot fill: a programming error, not bad input.
func unsupported(path string, t reflect.Type) error {
	return &awserr.Error{Code: internalCode, Message: "An internal error occurred.",
		Err: fmt.Errorf("awsproto: cannot decode %q into Go type %s", pathOrBody(path), t)}
}

// describe names the JSON a Go type expects, for messages.
func describe(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[awstime.Epoch]():
		return "a timestamp in epoch seconds (a number)"
	case reflect.TypeFor[awstime.ISO8601]():
		return "an ISO 8601 timestamp string"
	case jsonNumberType:
		return "a number"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return describe(t.Elem())
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a value of type " + t.String()
}

// jsonKind names the JSON type of a raw value.
func jsonKind(raw []byte) string {
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// join appends a member name to a path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// pathOrBody names the top level in messages.
func pathOrBody(path string) string {
	if path == "" {
		return "request body"
	}
	return path
}

// WriteJSON writes a successful JSON 1.1 response: status 200, v encoded as JSON (nil, or a nil
// pointer, writes {}). If v cannot be encoded it writes a 500 InternalFailure error instead.
func WriteJSON(w http.ResponseWriter, requestID string, v any) {
	body, err := encodeJSON(v)
	if err != nil {
		writeJSONBody(w, requestID, http.StatusInternalServerError, internalCode, internalJSONBody)
		return
	}
	writeJSONBody(w, requestID, http.StatusOK, "", body)
}

// internalJSONBody is the fallback error body.
var internalJSONBody = []byte(`{"__type":"` + internalCode + `","message":"` + internalMessage + `"}`)

// WriteJSONError writes a JSON 1.1 error: status Status(e.Code), header X-Amzn-ErrorType: <Code>
// and body {"__type":"<Code>","message":"…"} plus e.Fields as further string members (fields
// named __type, message or code, in any case, are dropped). A nil e or one without a code writes InternalFailure.
func WriteJSONError(w http.ResponseWriter, requestID string, e *awserr.Error) {
	if e == nil || e.Code == "" {
		writeJSONBody(w, requestID, http.StatusInternalServerError, internalCode, internalJSONBody)
		return
	}
	m := make(map[string]string, len(e.Fields)+2)
	for k, f := range e.Fields {
		// Clients match these names case-insensitively; a second "Message" would compete.
		if !strings.EqualFold(k, "message") && !strings.EqualFold(k, "__type") && !strings.EqualFold(k, "code") {
			m[k] = f
		}
	}
	m["__type"] = e.Code
	m["message"] = e.Message
	body, err := encodeJSON(m)
	if err != nil {
		writeJSONBody(w, requestID, http.StatusInternalServerError, internalCode, internalJSONBody)
		return
	}
	writeJSONBody(w, requestID, Status(e.Code), e.Code, body)
}

// encodeJSON encodes v without HTML escaping; nil and null become {}. Panics in custom
// marshalers become errors.
func encodeJSON(v any) (body []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			body, err = nil, fmt.Errorf("awsproto: encoding %T panicked: %v", v, r)
		}
	}()
	if v == nil {
		return []byte("{}"), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	body = bytes.TrimRight(buf.Bytes(), "\n")
	if string(body) == "null" {
		return []byte("{}"), nil
	}
	if !utf8.Valid(body) {
		return nil, errors.New("awsproto: encoded JSON is not valid UTF-8")
	}
	return body, nil
}

// writeJSONBody writes the headers and body of a JSON 1.1 response; errorType is set for errors.
func writeJSONBody(w http.ResponseWriter, requestID string, status int, errorType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", JSONContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if requestID != "" {
		h.Set(RequestIDHeader, requestID)
	}
	if errorType != "" {
		h.Set("X-Amzn-ErrorType", errorType)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
