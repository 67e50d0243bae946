package awsproto

import (
	"encoding"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awstime"
)

// validationCode is the error code of every Query decoding failure.
const validationCode = "ValidationError"

var timeType = reflect.TypeFor[time.Time]()

// DecodeQuery decodes Query protocol parameters (an already parsed form) into v, a pointer to a
// struct. The parameters Action and Version are ignored, and so are the X-Amz-* query-string
// authentication parameters of presigned requests (X-Amz-Signature, X-Amz-Credential, …).
//
// A struct field takes the parameter named by its `query:"Name"` tag, else its Go name; names
// are case-sensitive and `query:"-"` skips a field. Supported field types, and pointers to them:
//
//   - string; bool ("true"/"false", any case); int and uint types; float types
//   - time.Time as ISO 8601 (RFC 3339, or no zone meaning UTC); types whose pointer implements
//     encoding.TextUnmarshaler (such as awstime.ISO8601)
//   - structs: Name.Field
//   - slices of any of these: Name.member.N (N counts 1, 2, 3, … without gaps); an empty value,
//     Name=, is an empty non-nil list
//   - maps with string keys: Name.entry.N.key and Name.entry.N.value
//
// Unknown or repeated parameters, bad list indices and values of the wrong type fail with an
// *awserr.Error with code "ValidationError" naming the parameter. Checking required members and
// constraints is the caller's job.
func DecodeQuery(form url.Values, v any) error {
	return queryDecoder{code: validationCode, unknownCode: validationCode}.decode(form, v)
}

// queryDecoder holds what differs between the Query protocol and EC2's variant of it.
type queryDecoder struct {
	code        string // the code of a malformed parameter
	unknownCode string // the code of a parameter the operation does not have
	flat        bool   // lists are Name.N (EC2), not Name.member.N
}

func (d queryDecoder) decode(form url.Values, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &awserr.Error{Code: internalCode, Message: "An internal error occurred.",
			Err: fmt.Errorf("awsproto: decoding needs a non-nil pointer, got %T", v)}
	}
	root := &qnode{}
	for k, vals := range form {
		if ignoredParameters[k] {
			continue
		}
		n := root
		for part := range strings.SplitSeq(k, ".") {
			c := n.children[part]
			if c == nil {
				c = &qnode{name: join(n.name, part)}
				if n.children == nil {
					n.children = map[string]*qnode{}
				}
				n.children[part] = c
			}
			n = c
		}
		n.values = append(n.values, vals...)
		n.set = true
	}
	return d.value(root, rv.Elem())
}

// ignoredParameters are not members of any operation: the operation selector and the SigV4
// query-string authentication parameters of presigned requests (verified by package sigv4).
var ignoredParameters = map[string]bool{
	"Action": true, "Version": true,
	"X-Amz-Algorithm": true, "X-Amz-Credential": true, "X-Amz-Date": true, "X-Amz-Expires": true,
	"X-Amz-SignedHeaders": true, "X-Amz-Signature": true, "X-Amz-Security-Token": true,
}

// qnode is one dotted segment of the parameter names: Tags.member.1.Key is four nested nodes.
type qnode struct {
	name     string   // full parameter name up to this node
	set      bool     // a parameter with exactly this name was given
	values   []string // its values
	children map[string]*qnode
}

// sortedKeys returns the names of n's children in order, so errors are deterministic.
func (n *qnode) sortedKeys() []string {
	keys := make([]string, 0, len(n.children))
	for k := range n.children {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// value decodes the parameters under n into v, which is settable.
func (d queryDecoder) value(n *qnode, v reflect.Value) error {
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		if v.IsNil() {
			p := reflect.New(t.Elem())
			if err := d.value(n, p.Elem()); err != nil {
				return err
			}
			v.Set(p)
			return nil
		}
		return d.value(n, v.Elem())
	}
	if t == timeType {
		s, err := d.scalar(n)
		if err != nil {
			return err
		}
		tm, err := awstime.ParseISO8601(s)
		if err != nil {
			return d.invalidValue(n, s, "Member must be a timestamp in ISO 8601 format")
		}
		v.Set(reflect.ValueOf(tm))
		return nil
	}
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		s, err := d.scalar(n)
		if err != nil {
			return err
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			return d.invalidValue(n, s, "Member must be "+queryDescribe(t))
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if err := d.noValue(n, "a structure"); err != nil {
			return err
		}
		fields := fieldsOf(t, "query")
		for _, k := range n.sortedKeys() {
			c := n.children[k]
			f := fields.byName[k]
			if f == nil {
				return d.unknownParameter(c)
			}
			if err := d.value(c, fieldForSet(v, f.index)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		items, err := d.indexed(n, "member")
		if err != nil {
			return err
		}
		s := reflect.MakeSlice(t, len(items), len(items))
		for i, item := range items {
			if err := d.value(item, s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return queryUnsupported(n, t)
		}
		entries, err := d.indexed(n, "entry")
		if err != nil {
			return err
		}
		m := reflect.MakeMapWithSize(t, len(entries))
		for _, e := range entries {
			if err := d.noValue(e, "a map entry"); err != nil {
				return err
			}
			for _, k := range e.sortedKeys() {
				if k != "key" && k != "value" {
					return d.unknownParameter(e.children[k])
				}
			}
			kn := e.children["key"]
			if kn == nil {
				return awserr.New(d.code, "1 validation error detected: Value null at '%s.key' failed to satisfy constraint: Member must not be null", e.name)
			}
			key, err := d.scalar(kn)
			if err != nil {
				return err
			}
			kv := reflect.New(t.Key()).Elem()
			kv.SetString(key)
			if m.MapIndex(kv).IsValid() {
				return awserr.New(d.code, "Map '%s' has the key '%s' more than once", n.name, clip(key))
			}
			ev := reflect.New(t.Elem()).Elem()
			if vn := e.children["value"]; vn != nil {
				if err := d.value(vn, ev); err != nil {
					return err
				}
			}
			m.SetMapIndex(kv, ev)
		}
		v.Set(m)
		return nil
	case reflect.String:
		s, err := d.scalar(n)
		if err != nil {
			return err
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		s, err := d.scalar(n)
		if err != nil {
			return err
		}
		switch strings.ToLower(s) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return d.invalidValue(n, s, "Member must be a boolean (true or false)")
		}
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s, err := d.scalar(n)
		if err != nil {
			return err
		}
		i, err := strconv.ParseInt(s, 10, t.Bits())
		if errors.Is(err, strconv.ErrRange) {
			lo := int64(-1) << (t.Bits() - 1)
			hi := -(lo + 1)
			return d.invalidValue(n, s, fmt.Sprintf("Member must have value between %d and %d", lo, hi))
		} else if err != nil {
			return d.invalidValue(n, s, "Member must be a number")
		}
		v.SetInt(i)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		s, err := d.scalar(n)
		if err != nil {
			return err
		}
		u, err := strconv.ParseUint(s, 10, t.Bits())
		if errors.Is(err, strconv.ErrRange) {
			return d.invalidValue(n, s, fmt.Sprintf("Member must have value between 0 and %d", ^uint64(0)>>(64-t.Bits())))
		} else if err != nil {
			return d.invalidValue(n, s, "Member must be a non-negative number")
		}
		v.SetUint(u)
		return nil
	case reflect.Float32, reflect.Float64:
		s, err := d.scalar(n)
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(s, t.Bits())
		if err != nil {
			return d.invalidValue(n, s, "Member must be a number")
		}
		v.SetFloat(f)
		return nil
	}
	return queryUnsupported(n, t)
}

// scalar returns the one value of a parameter that must be a plain value.
func (d queryDecoder) scalar(n *qnode) (string, error) {
	if len(n.children) > 0 {
		return "", d.unknownParameter(n.children[n.sortedKeys()[0]])
	}
	if len(n.values) > 1 {
		return "", awserr.New(d.code, "Parameter '%s' was given more than once", n.name)
	}
	if len(n.values) == 0 {
		return "", nil
	}
	return n.values[0], nil
}

// noValue checks that a structure-like node carries no value of its own; an empty value is
// accepted and ignored.
func (d queryDecoder) noValue(n *qnode, what string) error {
	if !n.set || n.name == "" {
		return nil
	}
	if len(n.values) > 1 {
		return awserr.New(d.code, "Parameter '%s' was given more than once", n.name)
	}
	if len(n.values) == 1 && n.values[0] != "" {
		return d.invalidValue(n, n.values[0], "Member must be "+what+", given as "+n.name+".<name> parameters")
	}
	return nil
}

// indexed returns the nodes Name.<word>.1, Name.<word>.2, … in order (Name.1, Name.2, … for
// EC2's lists). An empty value (Name=) with no members gives an empty, non-nil list.
func (d queryDecoder) indexed(n *qnode, word string) ([]*qnode, error) {
	if err := d.noValue(n, "a list"); err != nil {
		return nil, err
	}
	if len(n.children) == 0 {
		return []*qnode{}, nil
	}
	w := n
	if !d.flat || word != "member" {
		for _, k := range n.sortedKeys() {
			if k != word {
				return nil, d.unknownParameter(n.children[k])
			}
		}
		w = n.children[word]
		if w.set {
			return nil, awserr.New(d.code, "Parameter '%s' needs an index: use %s.1, %s.2, …", w.name, w.name, w.name)
		}
	}
	items := make([]*qnode, len(w.children))
	for _, k := range w.sortedKeys() {
		c := w.children[k]
		i, ok := listIndex(k)
		if !ok {
			return nil, awserr.New(d.code, "Parameter '%s' has an invalid index '%s': indices are 1, 2, 3, … without gaps", c.name, clip(k))
		}
		if i > len(items) {
			// Some index up to len(items) is missing: name the first.
			for j := 1; j <= len(items); j++ {
				if _, ok := w.children[strconv.Itoa(j)]; !ok {
					return nil, awserr.New(d.code, "Parameter '%s.%d' is missing: indices are 1, 2, 3, … without gaps", w.name, j)
				}
			}
		}
		items[i-1] = c
	}
	return items, nil
}

// listIndex parses a 1-based list index written without sign or leading zeros.
func listIndex(s string) (int, bool) {
	if s == "" || len(s) > 9 || s[0] == '0' {
		return 0, false
	}
	i := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		i = i*10 + int(c-'0')
	}
	return i, true
}

// unknownParameter reports a parameter the operation does not have: the shortest given
// parameter under n.
func (d queryDecoder) unknownParameter(n *qnode) error {
	name := n.name
	for !n.set && len(n.children) > 0 {
		n = n.children[n.sortedKeys()[0]]
		name = n.name
	}
	return awserr.New(d.unknownCode, "Unknown parameter '%s'", clip(name))
}

// invalidValue reports a value that does not fit its member, in AWS's words.
func (d queryDecoder) invalidValue(n *qnode, value, constraint string) error {
	return awserr.New(d.code, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s",
		clip(value), n.name, constraint)
}

// queryUnsupported reports a Go type DecodeQuery cannot fill: a programming error.
func queryUnsupported(n *qnode, t reflect.Type) error {
	return &awserr.Error{Code: internalCode, Message: "An internal error occurred.",
		Err: fmt.Errorf("awsproto: cannot decode parameter %q into Go type %s", n.name, t)}
}

// queryDescribe names what a text-decoded type expects.
func queryDescribe(t reflect.Type) string {
	if t == reflect.TypeFor[awstime.ISO8601]() || t == reflect.TypeFor[awstime.Epoch]() {
		return "a timestamp in ISO 8601 format"
	}
	return "a valid " + t.Name()
}

// clip shortens long values quoted in messages.
func clip(s string) string {
	const max = 256
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
