package awsproto

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awstime"
)

var (
	xmlNameType         = reflect.TypeFor[xml.Name]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	epochType           = reflect.TypeFor[awstime.Epoch]()
	isoType             = reflect.TypeFor[awstime.ISO8601]()
	errXMLTooDeep       = errors.New("awsproto: XML value nested too deeply (a pointer cycle?)")
	maxXMLDepth         = 100
	internalQueryFormat = `<ErrorResponse xmlns="%s"><Error><Type>Receiver</Type><Code>` + internalCode +
		`</Code><Message>` + internalMessage + `</Message></Error><RequestId>%s</RequestId></ErrorResponse>`
)

// WriteQuery writes a successful Query response:
//
//	<ActionResponse xmlns="ns"><ActionResult>…</ActionResult><ResponseMetadata><RequestId>id</RequestId></ResponseMetadata></ActionResponse>
//
// A nil result (or nil pointer) omits the ActionResult element, as for operations without
// output members. Otherwise result is a struct or a pointer to one, and each field becomes an
// element (see EncodeXML for the rules). If result cannot be encoded it writes a 500
// InternalFailure error instead.
func WriteQuery(w http.ResponseWriter, requestID, xmlns, action string, result any) {
	if !validXMLName(action) {
		writeInternalQueryError(w, requestID, xmlns)
		return
	}
	var b bytes.Buffer
	b.WriteString("<" + action + "Response xmlns=\"")
	escapeXML(&b, xmlns)
	b.WriteString("\">")
	if err := encodeResult(&b, action+"Result", result); err != nil {
		writeInternalQueryError(w, requestID, xmlns)
		return
	}
	b.WriteString("<ResponseMetadata><RequestId>")
	escapeXML(&b, requestID)
	b.WriteString("</RequestId></ResponseMetadata></" + action + "Response>")
	writeXMLBody(w, requestID, http.StatusOK, b.Bytes())
}

// encodeResult writes the result element: nothing for a nil result, an error for a result
// that is not a struct.
func encodeResult(b *bytes.Buffer, name string, result any) error {
	v := reflect.ValueOf(result)
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		return nil
	}
	if v.Kind() != reflect.Struct || isTimeType(v.Type()) {
		return fmt.Errorf("awsproto: Query result must be a struct, got %s", v.Type())
	}
	return EncodeXML(b, name, result)
}

// EncodeXML appends v to b as the element <name>, with the rules WriteQuery applies to results:
//
//   - A struct field is the element named by its `xml:"Name"` tag, else its Go name; `xml:"-"`
//     and xml.Name fields are skipped. A tag name "A>B" nests: <A><B>…</B></A>. Only the
//     omitempty option is supported.
//   - Nil pointers and interfaces are omitted. Scalars, time and structs are written even when
//     zero, unless the field has omitempty and the value is zero.
//   - Slices are wrapped by AWS's rule: <Name><member>…</member><member>…</member></Name>. With a
//     tag "A>B", the items are B elements inside A instead (so `xml:"Tags>member"` equals the
//     default). A nil slice is omitted; an empty non-nil slice is written as <Name/>
//     unless the field has omitempty. []byte is one base64 text instead.
//   - Maps with string keys become <Name><entry><key>k</key><value>v</value></entry>…</Name>, in
//     key order; nil maps are omitted.
//   - time.Time, awstime.Epoch and awstime.ISO8601 are ISO 8601 in UTC ("2025-03-01T10:15:00Z",
//     fraction only when non-zero); other encoding.TextMarshaler types write their text; bools
//     are true/false, numbers decimal.
func EncodeXML(b *bytes.Buffer, name string, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("awsproto: encoding %T panicked: %v", v, r)
		}
	}()
	enc := xmlEncoder{b: b}
	return enc.element(name, reflect.ValueOf(v), false, 0)
}

// xmlEncoder writes Go values as Query protocol XML.
type xmlEncoder struct {
	b *bytes.Buffer
}

// element writes v as <name>…</name>. name may be a path "A>B" (see EncodeXML).
func (e *xmlEncoder) element(name string, v reflect.Value, omitEmpty bool, depth int) error {
	if depth > maxXMLDepth {
		return errXMLTooDeep
	}
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		return nil
	}
	path := strings.Split(name, ">")
	for _, p := range path {
		if !validXMLName(p) {
			return fmt.Errorf("awsproto: invalid XML element name %q", name)
		}
	}
	t := v.Type()
	if (t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8) || t.Kind() == reflect.Array {
		if t.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		if omitEmpty && v.Len() == 0 {
			return nil
		}
		item := "member"
		if len(path) > 1 {
			item, path = path[len(path)-1], path[:len(path)-1]
		}
		if v.Len() == 0 {
			e.empty(path)
			return nil
		}
		e.open(path)
		for i := range v.Len() {
			if err := e.element(item, v.Index(i), false, depth+1); err != nil {
				return err
			}
		}
		e.close(path)
		return nil
	}
	if t.Kind() == reflect.Map {
		if v.IsNil() || (omitEmpty && v.Len() == 0) {
			return nil
		}
		if t.Key().Kind() != reflect.String {
			return fmt.Errorf("awsproto: cannot encode map with %s keys as XML", t.Key())
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		e.open(path)
		for _, k := range keys {
			e.b.WriteString("<entry><key>")
			escapeXML(e.b, k.String())
			e.b.WriteString("</key>")
			if err := e.element("value", v.MapIndex(k), false, depth+1); err != nil {
				return err
			}
			e.b.WriteString("</entry>")
		}
		e.close(path)
		return nil
	}
	if omitEmpty && v.IsZero() {
		return nil
	}
	if t.Kind() == reflect.Struct && !isTimeType(t) && !t.Implements(textMarshalerType) && !reflect.PointerTo(t).Implements(textMarshalerType) {
		e.open(path)
		fields := fieldsOf(t, "xml")
		for _, f := range fields.list {
			if f.typ == xmlNameType {
				continue
			}
			if err := checkXMLTag(t, f); err != nil {
				return err
			}
			fv, ok := fieldForGet(v, f.index)
			if !ok {
				continue
			}
			if err := e.element(f.name, fv, f.omitEmpty, depth+1); err != nil {
				return err
			}
		}
		e.close(path)
		return nil
	}
	text, err := xmlText(v)
	if err != nil {
		return err
	}
	e.open(path)
	escapeXML(e.b, text)
	e.close(path)
	return nil
}

// checkXMLTag rejects encoding/xml tag options this encoder does not implement.
func checkXMLTag(t reflect.Type, f field) error {
	sf := t.FieldByIndex(f.index)
	tag := sf.Tag.Get("xml")
	_, opts, _ := strings.Cut(tag, ",")
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o != "omitempty" {
			return fmt.Errorf("awsproto: XML tag option %q of %s.%s is not supported", o, t, sf.Name)
		}
	}
	return nil
}

// xmlText returns the text of a scalar, time or TextMarshaler value.
func xmlText(v reflect.Value) (string, error) {
	t := v.Type()
	switch t {
	case timeType:
		return awstime.FormatISO8601(v.Interface().(time.Time)), nil
	case epochType:
		return awstime.FormatISO8601(v.Interface().(awstime.Epoch).Time), nil
	case isoType:
		return awstime.FormatISO8601(v.Interface().(awstime.ISO8601).Time), nil
	}
	if t.Implements(textMarshalerType) {
		b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		return string(b), err
	}
	if reflect.PointerTo(t).Implements(textMarshalerType) {
		p := reflect.New(t)
		p.Elem().Set(v)
		b, err := p.Interface().(encoding.TextMarshaler).MarshalText()
		return string(b), err
	}
	switch t.Kind() {
	case reflect.String:
		return v.String(), nil
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10), nil
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			return "NaN", nil
		case math.IsInf(f, 1):
			return "Infinity", nil
		case math.IsInf(f, -1):
			return "-Infinity", nil
		}
		return strconv.FormatFloat(f, 'f', -1, t.Bits()), nil
	case reflect.Slice: // []byte
		return base64.StdEncoding.EncodeToString(v.Bytes()), nil
	}
	return "", fmt.Errorf("awsproto: cannot encode %s as XML", t)
}

// isTimeType reports whether t is written as an ISO 8601 time.
func isTimeType(t reflect.Type) bool {
	return t == timeType || t == epochType || t == isoType
}

// open writes the start tags of a path; close writes its end tags.
func (e *xmlEncoder) open(path []string) {
	for _, p := range path {
		e.b.WriteString("<" + p + ">")
	}
}

// empty writes a path whose innermost element is empty, as <A><B/></A>.
func (e *xmlEncoder) empty(path []string) {
	last := len(path) - 1
	e.open(path[:last])
	e.b.WriteString("<" + path[last] + "/>")
	e.close(path[:last])
}

func (e *xmlEncoder) close(path []string) {
	for i := len(path) - 1; i >= 0; i-- {
		e.b.WriteString("</" + path[i] + ">")
	}
}

// validXMLName reports whether s is a plain XML element name (letters, digits, _ - . not
// starting with a digit, - or .).
func validXMLName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// escapeXML writes s as XML character data. Characters XML cannot hold become U+FFFD.
func escapeXML(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s))
}

// WriteQueryError writes a Query error with status Status(e.Code):
//
//	<ErrorResponse xmlns="ns"><Error><Type>Sender|Receiver</Type><Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>
//
// e.Fields become further elements of <Error>, in key order (keys that are not plain XML names
// are dropped). A nil e or one without a code writes InternalFailure.
func WriteQueryError(w http.ResponseWriter, requestID, xmlns string, e *awserr.Error) {
	if e == nil || e.Code == "" || !validXMLName(e.Code) {
		writeInternalQueryError(w, requestID, xmlns)
		return
	}
	var b bytes.Buffer
	b.WriteString(`<ErrorResponse xmlns="`)
	escapeXML(&b, xmlns)
	b.WriteString(`"><Error><Type>` + Fault(e.Code) + `</Type><Code>` + e.Code + `</Code><Message>`)
	escapeXML(&b, e.Message)
	b.WriteString("</Message>")
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		if validXMLName(k) && k != "Type" && k != "Code" && k != "Message" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString("<" + k + ">")
		escapeXML(&b, e.Fields[k])
		b.WriteString("</" + k + ">")
	}
	b.WriteString("</Error><RequestId>")
	escapeXML(&b, requestID)
	b.WriteString("</RequestId></ErrorResponse>")
	writeXMLBody(w, requestID, Status(e.Code), b.Bytes())
}

// writeInternalQueryError writes the 500 InternalFailure fallback.
func writeInternalQueryError(w http.ResponseWriter, requestID, xmlns string) {
	var ns, id bytes.Buffer
	escapeXML(&ns, xmlns)
	escapeXML(&id, requestID)
	body := fmt.Sprintf(internalQueryFormat, ns.String(), id.String())
	writeXMLBody(w, requestID, http.StatusInternalServerError, []byte(body))
}

// writeXMLBody writes the headers and body of a Query response.
func writeXMLBody(w http.ResponseWriter, requestID string, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", QueryContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if requestID != "" {
		h.Set(RequestIDHeader, requestID)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// URLEncodePolicy returns a policy document percent-encoded as IAM returns it: every byte
// except A–Z a–z 0–9 - _ . ~ becomes %XX, spaces included (%20, never +), because botocore
// decodes these members with urllib's unquote, which leaves + alone. url.QueryUnescape and
// url.PathUnescape both reverse it.
func URLEncodePolicy(doc string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(doc) * 3)
	for i := range len(doc) {
		c := doc[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
