package awsproto

import (
	"reflect"
	"strings"
	"sync"
)

// field is one wire member of a struct type.
type field struct {
	name      string // wire name
	index     []int  // path for reflect, through embedded structs
	typ       reflect.Type
	omitEmpty bool
}

// structFields lists a struct's wire members for one tag key ("json", "query" or "xml").
type structFields struct {
	list   []field
	byName map[string]*field
}

type fieldsKey struct {
	t   reflect.Type
	tag string
}

var fieldsCache sync.Map // fieldsKey → *structFields

// fieldsOf returns the wire members of struct type t under tag key tag. A member's name is the
// tag's name part, else the Go field name; tag "-" skips the field. Unexported fields are
// skipped and untagged embedded structs have their fields promoted; when two fields claim one
// name, the shallower wins, then the first declared.
func fieldsOf(t reflect.Type, tag string) *structFields {
	key := fieldsKey{t, tag}
	if f, ok := fieldsCache.Load(key); ok {
		return f.(*structFields)
	}
	sf := &structFields{byName: map[string]*field{}}
	depthOf := map[string]int{}
	var walk func(t reflect.Type, index []int, depth int, seen map[reflect.Type]bool)
	walk = func(t reflect.Type, index []int, depth int, seen map[reflect.Type]bool) {
		if seen[t] {
			return
		}
		seen[t] = true
		defer delete(seen, t)
		for i := range t.NumField() {
			f := t.Field(i)
			tv, hasTag := f.Tag.Lookup(tag)
			if tv == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tv, ",")
			idx := append(append([]int(nil), index...), i)
			ft := f.Type
			if f.Anonymous && name == "" {
				et := ft
				if et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if et.Kind() == reflect.Struct {
					if !f.IsExported() && ft.Kind() == reflect.Pointer {
						continue // cannot allocate through an unexported pointer
					}
					walk(et, idx, depth+1, seen)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if !hasTag || name == "" {
				name = f.Name
			}
			if d, ok := depthOf[name]; ok && d <= depth {
				continue
			}
			depthOf[name] = depth
			sf.list = append(sf.list, field{
				name:      name,
				index:     idx,
				typ:       ft,
				omitEmpty: hasOption(opts, "omitempty"),
			})
		}
	}
	walk(t, nil, 0, map[reflect.Type]bool{})
	// Drop fields shadowed by shallower ones found later.
	kept := sf.list[:0]
	for _, f := range sf.list {
		if depthOf[f.name] == len(f.index)-1 {
			kept = append(kept, f)
		}
	}
	sf.list = kept
	for i := range sf.list {
		if _, dup := sf.byName[sf.list[i].name]; !dup {
			sf.byName[sf.list[i].name] = &sf.list[i]
		}
	}
	f, _ := fieldsCache.LoadOrStore(key, sf)
	return f.(*structFields)
}

// hasOption reports whether a comma-separated tag option list contains opt.
func hasOption(opts, opt string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == opt {
			return true
		}
	}
	return false
}

// fieldForSet returns the field of struct value v at index, allocating nil embedded pointers
// on the way.
func fieldForSet(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

// fieldForGet returns the field of struct value v at index, or false when an embedded pointer
// on the way is nil.
func fieldForGet(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}
