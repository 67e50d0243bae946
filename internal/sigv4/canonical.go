package sigv4

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// scratch holds the per-request buffers of a verification; Verifier pools them so that a
// verification does not allocate them afresh.
type scratch struct {
	// buf receives the canonical request, then 64 spare bytes and the string to sign (see
	// hmacInPlace).
	buf []byte
	// arena receives the encoded names and values of the query parameters, which pairs index.
	arena []byte
	pairs []queryPair
	// segs holds the [start, end) offsets of the path segments kept by normalisation.
	segs []int
}

// maxPooledScratch is the largest buffer capacity returned to the pool; bigger buffers, from
// unusually large requests, are left to the garbage collector.
const maxPooledScratch = 256 << 10

// queryPair locates one encoded query parameter in scratch.arena.
type queryPair struct {
	nameStart, nameEnd, valueEnd int
}

const upperHex = "0123456789ABCDEF"

// unreserved reports whether c is an RFC 3986 unreserved character (A-Z a-z 0-9 - _ . ~),
// the only bytes SigV4 leaves unencoded.
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// appendEscaped appends c, percent-encoded unless it is unreserved.
func appendEscaped(b []byte, c byte) []byte {
	if unreserved(c) {
		return append(b, c)
	}
	return append(b, '%', upperHex[c>>4], upperHex[c&15])
}

// rawPath returns the path of r as it was on the wire, still percent-encoded: the path part of
// r.RequestURI for server requests, r.URL.EscapedPath() for requests built in-process.
func rawPath(r *http.Request) string {
	if u := r.RequestURI; u != "" {
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		if u != "" && u[0] != '/' {
			// Absolute form ("http://host/path"): drop the scheme and authority.
			if i := strings.Index(u, "://"); i >= 0 {
				u = u[i+len("://"):]
				if j := strings.IndexByte(u, '/'); j >= 0 {
					u = u[j:]
				} else {
					u = "/"
				}
			}
		}
		return u
	}
	if r.URL == nil {
		return "/"
	}
	if o := r.URL.Opaque; o != "" {
		// Same reading as the SDK's signer: "//host/path" or "/path", query cut off.
		if i := strings.IndexByte(o, '?'); i >= 0 {
			o = o[:i]
		}
		o = strings.TrimPrefix(o, "//")
		if i := strings.IndexByte(o, '/'); i >= 0 {
			return o[i:]
		}
		return "/"
	}
	return r.URL.EscapedPath()
}

// rawQuery returns the query of r as it was on the wire.
func rawQuery(r *http.Request) string {
	if r.URL != nil {
		return r.URL.RawQuery
	}
	if _, q, ok := strings.Cut(r.RequestURI, "?"); ok {
		return q
	}
	return ""
}

// appendCanonicalURI appends the canonical URI of a non-S3 request: the wire path with dot
// segments and empty segments removed (when normalize is set), each byte outside the
// unreserved set and '/' percent-encoded once more ("double encoding"), and "/" for an empty
// result.
func (s *scratch) appendCanonicalURI(b []byte, path string, normalize bool) []byte {
	if !normalize {
		if path == "" {
			return append(b, '/')
		}
		for i := 0; i < len(path); i++ {
			if c := path[i]; c == '/' {
				b = append(b, c)
			} else {
				b = appendEscaped(b, c)
			}
		}
		return b
	}

	// RFC 3986 §5.2.4 dot-segment removal plus collapsing of empty segments, over the
	// segments of the still-encoded path. segs is a stack of [start, end) offsets.
	segs := s.segs[:0]
	trailing := false
	for i := 0; i <= len(path); {
		j := strings.IndexByte(path[i:], '/')
		if j < 0 {
			j = len(path)
		} else {
			j += i
		}
		seg := path[i:j]
		switch seg {
		case "":
			trailing = true
		case ".":
			trailing = true
		case "..":
			trailing = true
			if len(segs) >= 2 {
				segs = segs[:len(segs)-2]
			}
		default:
			trailing = false
			segs = append(segs, i, j)
		}
		i = j + 1
	}
	s.segs = segs
	if len(segs) == 0 {
		return append(b, '/')
	}
	for k := 0; k < len(segs); k += 2 {
		b = append(b, '/')
		for _, c := range []byte(path[segs[k]:segs[k+1]]) {
			b = appendEscaped(b, c)
		}
	}
	if trailing {
		b = append(b, '/')
	}
	return b
}

// appendQueryComponent appends a raw query name or value in canonical form: decoded (see
// nextQueryByte), then RFC 3986-encoded with uppercase hex.
func appendQueryComponent(b []byte, raw string) []byte {
	for i := 0; i < len(raw); {
		var c byte
		c, i = nextQueryByte(raw, i)
		b = appendEscaped(b, c)
	}
	return b
}

// appendCanonicalQuery appends the canonical query string: every parameter of the raw query
// (pairs split on '&' only, so ';' is data) with its name and value re-encoded, sorted by
// encoded name and then encoded value, joined by '&'. X-Amz-Signature is left out when
// skipSignature is set and X-Amz-Security-Token when skipToken is.
func (s *scratch) appendCanonicalQuery(b []byte, raw string, skipSignature, skipToken bool) []byte {
	if raw == "" {
		return b
	}
	arena := s.arena[:0]
	pairs := s.pairs[:0]
	for rest := raw; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		start := len(arena)
		arena = appendQueryComponent(arena, name)
		nameEnd := len(arena)
		enc := arena[start:nameEnd]
		if skipSignature && string(enc) == qSignature || skipToken && string(enc) == qSecurityToken {
			arena = arena[:start]
			continue
		}
		arena = appendQueryComponent(arena, value)
		pairs = append(pairs, queryPair{nameStart: start, nameEnd: nameEnd, valueEnd: len(arena)})
	}
	slices.SortFunc(pairs, func(x, y queryPair) int {
		if c := bytes.Compare(arena[x.nameStart:x.nameEnd], arena[y.nameStart:y.nameEnd]); c != 0 {
			return c
		}
		return bytes.Compare(arena[x.nameEnd:x.valueEnd], arena[y.nameEnd:y.valueEnd])
	})
	for i, p := range pairs {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, arena[p.nameStart:p.nameEnd]...)
		b = append(b, '=')
		b = append(b, arena[p.nameEnd:p.valueEnd]...)
	}
	s.arena, s.pairs = arena, pairs
	return b
}

// appendCanonicalHeaders appends "name:value\n" for each header in the (already validated)
// signed-headers list. Values of repeated headers are joined with ',' in arrival order. A
// listed header missing from the request is an ErrIncompleteSignature.
func appendCanonicalHeaders(b []byte, r *http.Request, signed string) ([]byte, *Error) {
	start := len(b)
	for rest := signed; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		b = append(b, name...)
		b = append(b, ':')
		switch name {
		case "host":
			host := r.Host
			if host == "" && r.URL != nil {
				host = r.URL.Host
			}
			if host == "" {
				return b, missingHeader(name)
			}
			b = appendHeaderValue(b, host)
		case "content-length":
			if vals, ok := headerValues(r.Header, name); ok {
				b = appendHeaderValues(b, vals)
			} else if r.ContentLength > 0 {
				b = strconv.AppendInt(b, r.ContentLength, 10)
			} else {
				return b, missingHeader(name)
			}
		case "transfer-encoding":
			// net/http moves Transfer-Encoding out of the header map.
			if vals, ok := headerValues(r.Header, name); ok {
				b = appendHeaderValues(b, vals)
			} else if len(r.TransferEncoding) > 0 {
				b = appendHeaderValues(b, r.TransferEncoding)
			} else {
				return b, missingHeader(name)
			}
		default:
			vals, ok := headerValues(r.Header, name)
			if !ok {
				return b, missingHeader(name)
			}
			n := 0
			for _, v := range vals {
				n += len(v) + 1
			}
			if len(b)-start+n > maxHeaderBytes {
				return b, &Error{Kind: ErrIncompleteSignature, Message: msgHeadersTooLarge}
			}
			b = appendHeaderValues(b, vals)
		}
		b = append(b, '\n')
		if len(b)-start > maxHeaderBytes {
			return b, &Error{Kind: ErrIncompleteSignature, Message: msgHeadersTooLarge}
		}
	}
	return b, nil
}

// missingHeader reports a header that SignedHeaders lists but the request lacks.
func missingHeader(name string) *Error {
	return &Error{Kind: ErrIncompleteSignature, Message: fmt.Sprintf("Header '%s' is listed in SignedHeaders but is missing from the request.", name)}
}

// appendHeaderValues appends the canonical form of each value, separated by ','.
func appendHeaderValues(b []byte, vals []string) []byte {
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendHeaderValue(b, v)
	}
	return b
}

// appendHeaderValue appends v trimmed of surrounding white space, with each run of spaces
// collapsed into one and each line break (obsolete line folding, with the white space around
// it) turned into a single space. Tabs inside the value are kept, as the AWS SDKs keep them.
func appendHeaderValue(b []byte, v string) []byte {
	v = strings.TrimSpace(v)
	space := false // the last byte appended was a collapsed space
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch c {
		case ' ':
			if !space {
				b = append(b, ' ')
				space = true
			}
		case '\r', '\n':
			// Line folding: drop the break and the indentation after it, and the white
			// space before it; leave one space.
			for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
				b = b[:len(b)-1]
			}
			for i+1 < len(v) && (v[i+1] == ' ' || v[i+1] == '\t' || v[i+1] == '\r' || v[i+1] == '\n') {
				i++
			}
			b = append(b, ' ')
			space = true
		default:
			b = append(b, c)
			space = false
		}
	}
	return b
}

// headerValues returns the values of the header with the given lowercase name. It looks the
// name up under its canonical MIME form (as net/http stores it) without allocating, and falls
// back to a case-insensitive scan for maps filled by hand.
func headerValues(h http.Header, name string) ([]string, bool) {
	var kb [maxHeaderNameLen]byte
	if len(name) <= len(kb) {
		k := kb[:len(name)]
		upper := true
		for i := 0; i < len(name); i++ {
			c := name[i]
			if upper && 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			k[i] = c
			upper = c == '-'
		}
		if v, ok := h[string(k)]; ok {
			return v, true
		}
	}
	for key, v := range h {
		if strings.EqualFold(key, name) {
			return v, true
		}
	}
	return nil, false
}
