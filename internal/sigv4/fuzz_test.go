package sigv4

import (
	"context"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// The AWS documentation's example key, which the aws-c-auth suite signs with.
const (
	exampleAKID   = "AKIDEXAMPLE"
	exampleSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// fuzzSeed is one hand-copied request from the aws-c-auth suite (a few lines, not the files).
type fuzzSeed struct {
	method, uri, authz, headers string
	body                        []byte
}

// fuzzSeeds are small valid requests (at 2015-08-30T12:36:00Z, key exampleAKID) plus a few
// broken ones, so that the fuzzer starts deep inside the verifier.
var fuzzSeeds = []fuzzSeed{
	{ // get-vanilla, header
		"GET", "/",
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		"Host:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", nil,
	},
	{ // post-x-www-form-urlencoded, header, with x-amz-content-sha256
		"POST", "/",
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
		"Content-Type:application/x-www-form-urlencoded\nHost:example.amazonaws.com\nContent-Length:13\nX-Amz-Date:20150830T123600Z\nx-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
		[]byte("Param1=value1"),
	},
	{ // get-vanilla-query-order-encoded, presigned
		"GET", "/?Param-3=Value3&Param=Value2&%E1%88%B4=Value1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature=c5f1848ceec943ac2ca68ee720460c23aaae30a2300586597ada94c4a65e4787",
		"", "Host:example.amazonaws.com", nil,
	},
	{ // get-vanilla-with-session-token, header (the lookup has no token: rejected)
		"GET", "/",
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
		"Host:example.amazonaws.com\nX-Amz-Security-Token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267\nX-Amz-Date:20150830T123600Z", nil,
	},
	{"GET", "/example/..//./a%2F b?a=1;2&b&=c&%zz", "AWS4-HMAC-SHA256 Credential=A/b/c/d/e,SignedHeaders=host;;x,Signature=", "Host:h\nDate:Sun, 30 Aug 2015 12:36:00 GMT", nil},
	{"POST", "/?X-Amz-Algorithm=x&X-Amz-Expires=-1&X-Amz-Expires=604801", "", "Host:h", []byte("{}")},
	{"GET", "http://h/a?X-Amz-Signature=1", "Basic abc", "", nil},
}

// fuzzRequest builds a server-side request from fuzz inputs. headers holds "Name:value"
// lines; a Host line goes to r.Host; authz lines separated by "\n" become repeated
// Authorization headers.
func fuzzRequest(method, uri, authz, headers string, body []byte) *http.Request {
	path, query, _ := strings.Cut(uri, "?")
	r := &http.Request{
		Method:        method,
		RequestURI:    uri,
		URL:           &url.URL{Path: path, RawQuery: query},
		Header:        http.Header{},
		ContentLength: int64(len(body)),
	}
	if authz != "" {
		r.Header["Authorization"] = strings.Split(authz, "\n")
	}
	for line := range strings.SplitSeq(headers, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if strings.EqualFold(k, "host") {
			r.Host = v
			continue
		}
		k = textproto.CanonicalMIMEHeaderKey(k)
		r.Header[k] = append(r.Header[k], v)
	}
	return r
}

// fuzzVerifier knows the example key and the test keys, at the suite's timestamp.
func fuzzVerifier() *Verifier {
	keys := testKeys()
	keys[exampleAKID] = Credentials{SecretAccessKey: exampleSecret}
	now := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	return NewVerifier(keys.lookup, fixedClock(&now), 0)
}

// TestFuzzSeedsVerify checks that the valid seeds do verify, so the fuzzer starts from
// requests that reach the signature comparison.
func TestFuzzSeedsVerify(t *testing.T) {
	v := fuzzVerifier()
	for i, s := range fuzzSeeds[:3] {
		_, err := v.Verify(context.Background(), fuzzRequest(s.method, s.uri, s.authz, s.headers, s.body), s.body)
		if err != nil {
			t.Errorf("seed %d: %v", i, err)
		}
	}
	_, err := v.Verify(context.Background(), fuzzRequest(fuzzSeeds[3].method, fuzzSeeds[3].uri, fuzzSeeds[3].authz, fuzzSeeds[3].headers, nil), nil)
	wantKind(t, err, ErrInvalidToken)
}

// FuzzVerify feeds arbitrary methods, request targets, Authorization headers, headers and
// bodies to Verify: it must not panic, and must answer with a scope or an *Error.
func FuzzVerify(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.method, s.uri, s.authz, s.headers, s.body)
	}
	v := fuzzVerifier()
	f.Fuzz(func(t *testing.T, method, uri, authz, headers string, body []byte) {
		r := fuzzRequest(method, uri, authz, headers, body)
		scope, err := v.Verify(context.Background(), r, body)
		if err == nil {
			if scope == nil {
				t.Fatal("no scope and no error")
			}
			return
		}
		e, ok := err.(*Error)
		if !ok {
			t.Fatalf("error %T %v; want *Error", err, err)
		}
		switch e.Kind {
		case ErrMissingAuthentication, ErrIncompleteSignature, ErrUnknownAccessKey, ErrInvalidToken,
			ErrExpiredToken, ErrSignatureDoesNotMatch, ErrRequestExpired:
		default:
			t.Fatalf("unexpected kind %v", e.Kind)
		}
		if e.Message == "" {
			t.Fatal("empty message")
		}
	})
}

// FuzzParseAuthorization checks the Authorization parser: no panic, errors are
// ErrIncompleteSignature, and a parsed header re-assembled in the standard layout parses to the
// same components.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.authz)
	}
	f.Add("AWS4-HMAC-SHA256 Credential=A/b/c/d/e,,SignedHeaders=host , Signature=s, X=")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseAuthorization(s)
		if err != nil {
			if err.Kind != ErrIncompleteSignature || err.Message == "" {
				t.Fatalf("error %+v", err)
			}
			return
		}
		if a.credential == "" || a.signedHeaders == "" || a.signature == "" {
			t.Fatalf("accepted with an empty component: %+v", a)
		}
		again, err := parseAuthorization(algorithm + " Credential=" + a.credential + ", SignedHeaders=" + a.signedHeaders + ", Signature=" + a.signature)
		if err != nil || again != a {
			t.Fatalf("re-assembled header parsed to %+v, %v; want %+v", again, err, a)
		}
	})
}

// FuzzCanonicalQuery compares the canonical query with a reference built on url.ParseQuery,
// for queries that url.ParseQuery accepts in full (no ';', valid escapes).
func FuzzCanonicalQuery(f *testing.F) {
	for _, s := range fuzzSeeds {
		_, q, _ := strings.Cut(s.uri, "?")
		f.Add(q)
	}
	f.Add("a=1&a=2&b=%20+&k=a/b&k=a-b&%C3%A9=x&=&&")
	f.Fuzz(func(t *testing.T, raw string) {
		var s scratch
		got := string(s.appendCanonicalQuery(nil, raw, false, false))
		for i := 0; i < len(got); i++ {
			if c := got[i]; !unreserved(c) && c != '%' && c != '=' && c != '&' {
				t.Fatalf("unexpected byte %q in %q", c, got)
			}
		}
		parsed, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		enc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
		var pairs []string
		for k, vs := range parsed {
			for _, v := range vs {
				pairs = append(pairs, enc(k)+"="+enc(v))
			}
		}
		// Sort by name, then value (sorting the joined "name=value" strings would not).
		slices.SortFunc(pairs, func(x, y string) int {
			xk, xv, _ := strings.Cut(x, "=")
			yk, yv, _ := strings.Cut(y, "=")
			if c := strings.Compare(xk, yk); c != 0 {
				return c
			}
			return strings.Compare(xv, yv)
		})
		if want := strings.Join(pairs, "&"); got != want {
			t.Fatalf("query %q:\ngot  %q\nwant %q", raw, got, want)
		}
	})
}

// FuzzCanonicalURI checks the canonical path: no panic, only encoded bytes, and when
// normalised, no empty, "." or ".." segments.
func FuzzCanonicalURI(f *testing.F) {
	for _, s := range fuzzSeeds {
		p, _, _ := strings.Cut(s.uri, "?")
		f.Add(p)
	}
	f.Add("/a/./b/../../c//d/")
	f.Fuzz(func(t *testing.T, path string) {
		var s scratch
		raw := string(s.appendCanonicalURI(nil, path, false))
		norm := string(s.appendCanonicalURI(nil, path, true))
		for _, out := range []string{raw, norm} {
			if out == "" || out[0] != '/' && path != "" && path[0] == '/' {
				t.Fatalf("path %q: canonical %q does not start with '/'", path, out)
			}
			for i := 0; i < len(out); i++ {
				if c := out[i]; !unreserved(c) && c != '%' && c != '/' {
					t.Fatalf("path %q: unexpected byte %q in %q", path, c, out)
				}
			}
		}
		if norm[0] != '/' {
			t.Fatalf("path %q: normalised %q does not start with '/'", path, norm)
		}
		segs := strings.Split(strings.TrimSuffix(norm[1:], "/"), "/")
		for _, seg := range segs {
			if norm != "/" && (seg == "" || seg == "." || seg == "..") {
				t.Fatalf("path %q: normalised %q keeps segment %q", path, norm, seg)
			}
		}
	})
}
