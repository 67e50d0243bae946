package sigv4

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCanonicalURI(t *testing.T) {
	cases := []struct {
		path       string
		normalized string
		raw        string // normalisation off
	}{
		{"", "/", "/"},
		{"/", "/", "/"},
		{"//", "/", "//"},
		{"/./", "/", "/./"},
		{"/example/..", "/", "/example/.."},
		{"/a/b/..", "/a/", "/a/b/.."},
		{"/a/b/.", "/a/b/", "/a/b/."},
		{"/a/./b", "/a/b", "/a/./b"},
		{"/../../a", "/a", "/../../a"},
		{"//example//", "/example/", "//example//"},
		{"/a%20b/", "/a%2520b/", "/a%2520b/"},                         // wire-encoded space, encoded again
		{"/example space/", "/example%20space/", "/example%20space/"}, // raw space (test-suite style)
		{"/%E1%88%B4", "/%25E1%2588%25B4", "/%25E1%2588%25B4"},
		{"/\xe1\x88\xb4", "/%E1%88%B4", "/%E1%88%B4"},
		{"/a%2Fb", "/a%252Fb", "/a%252Fb"},
		{"/!$&'()*+,;=:@", "/%21%24%26%27%28%29%2A%2B%2C%3B%3D%3A%40", "/%21%24%26%27%28%29%2A%2B%2C%3B%3D%3A%40"},
		{"/-._~AZaz09", "/-._~AZaz09", "/-._~AZaz09"},
		{"/a/%2E%2E", "/a/%252E%252E", "/a/%252E%252E"}, // encoded dots are data, not dot segments
		{"/...", "/...", "/..."},
	}
	for _, tc := range cases {
		var s scratch
		if got := string(s.appendCanonicalURI(nil, tc.path, true)); got != tc.normalized {
			t.Errorf("normalised %q: got %q, want %q", tc.path, got, tc.normalized)
		}
		if got := string(s.appendCanonicalURI(nil, tc.path, false)); got != tc.raw {
			t.Errorf("unnormalised %q: got %q, want %q", tc.path, got, tc.raw)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	cases := []struct {
		raw, want string
	}{
		{"", ""},
		{"a=1", "a=1"},
		{"b=2&a=1", "a=1&b=2"},
		{"a=2&a=1&a=10", "a=1&a=10&a=2"},
		{"a", "a="},
		{"a=", "a="},
		{"=v", "=v"},
		{"a=1&&b=2&", "a=1&b=2"},
		{"a=b=c", "a=b%3Dc"},
		{"a=x+y", "a=x%20y"},
		{"a=x%20y", "a=x%20y"},
		{"a=x%2By", "a=x%2By"},
		{"a=%7e%2d", "a=~-"},
		{"a=%zz", "a=%25zz"},
		{"a=%", "a=%25"},
		{"a=%4", "a=%254"},
		{"\xe1\x88\xb4=bar", "%E1%88%B4=bar"},
		{"%E1%88%B4=1&Param=2&Param-3=3", "%E1%88%B4=1&Param=2&Param-3=3"},
		// Sorting is by encoded form: '/' encodes to %2F, which sorts before '-'.
		{"k=a-b&k=a/b", "k=a%2Fb&k=a-b"},
		{"a=1&%C3%A9=2", "%C3%A9=2&a=1"},
	}
	for _, tc := range cases {
		var s scratch
		if got := string(s.appendCanonicalQuery(nil, tc.raw, false, false)); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.raw, got, tc.want)
		}
	}
}

// TestCanonicalQuerySemicolon checks that ';' is data, as AWS treats it, although Go's
// url.ParseQuery (and so the Go SDK's signer) drops a pair holding a literal ';'.
func TestCanonicalQuerySemicolon(t *testing.T) {
	raw := "b=x;y&a=1;2&c;d=3"
	var s scratch
	got := string(s.appendCanonicalQuery(nil, raw, false, false))
	if want := "a=1%3B2&b=x%3By&c%3Bd=3"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// For contrast: url.ParseQuery reports an error and keeps none of these pairs.
	if parsed, err := url.ParseQuery(raw); err == nil || len(parsed) != 0 {
		t.Errorf("url.ParseQuery(%q) = %v, %v; expected it to drop every pair with ';'", raw, parsed, err)
	}
}

func TestCanonicalQueryExclusions(t *testing.T) {
	raw := "X-Amz-Signature=abc&X-Amz-Security-Token=t&a=1&X-Amz-Date=20150830T123600Z"
	var s scratch
	for _, tc := range []struct {
		sig, tok bool
		want     string
	}{
		{false, false, "X-Amz-Date=20150830T123600Z&X-Amz-Security-Token=t&X-Amz-Signature=abc&a=1"},
		{true, false, "X-Amz-Date=20150830T123600Z&X-Amz-Security-Token=t&a=1"},
		{true, true, "X-Amz-Date=20150830T123600Z&a=1"},
	} {
		if got := string(s.appendCanonicalQuery(nil, raw, tc.sig, tc.tok)); got != tc.want {
			t.Errorf("skipSignature=%v skipToken=%v: got %q, want %q", tc.sig, tc.tok, got, tc.want)
		}
	}
	// An encoded name is the same parameter.
	if got := string(s.appendCanonicalQuery(nil, "X%2DAmz-Signature=abc&a=1", true, false)); got != "a=1" {
		t.Errorf("encoded X-Amz-Signature: got %q, want %q", got, "a=1")
	}
}

func TestCanonicalHeaderValue(t *testing.T) {
	cases := []struct{ in, want string }{
		{"value", "value"},
		{"  value  ", "value"},
		{"\"a   b   c\"", "\"a b c\""},
		{"a\tb", "a\tb"},
		{"\ta b\t", "a b"},
		{"value1\n  value2\n     value3", "value1 value2 value3"},
		{"value1 \r\n\tvalue2", "value1 value2"},
		{"", ""},
		{"   ", ""},
	}
	for _, tc := range cases {
		if got := string(appendHeaderValue(nil, tc.in)); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCanonicalHeaders(t *testing.T) {
	r := &http.Request{
		Host:          "example.com:8080",
		ContentLength: 13,
		Header: http.Header{
			"My-Header1":   {"value4", "value1", " value3 "},
			"X-Amz-Date":   {"20150830T123600Z"},
			"x-lower-only": {"hand  built"},
		},
		TransferEncoding: []string{"chunked"},
	}
	got, e := appendCanonicalHeaders(nil, r, "content-length;host;my-header1;transfer-encoding;x-amz-date;x-lower-only")
	if e != nil {
		t.Fatal(e)
	}
	want := "content-length:13\nhost:example.com:8080\nmy-header1:value4,value1,value3\ntransfer-encoding:chunked\nx-amz-date:20150830T123600Z\nx-lower-only:hand built\n"
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if _, e := appendCanonicalHeaders(nil, r, "host;x-missing"); e == nil || e.Kind != ErrIncompleteSignature {
		t.Errorf("missing header: got %v, want ErrIncompleteSignature", e)
	}
	r.ContentLength = -1
	if _, e := appendCanonicalHeaders(nil, r, "content-length;host"); e == nil || e.Kind != ErrIncompleteSignature {
		t.Errorf("unknown content length: got %v, want ErrIncompleteSignature", e)
	}
}

func TestRawPath(t *testing.T) {
	cases := []struct {
		name string
		r    *http.Request
		want string
	}{
		{"origin form", &http.Request{RequestURI: "/a%20b/c?x=1", URL: &url.URL{Path: "/a b/c"}}, "/a%20b/c"},
		{"absolute form", &http.Request{RequestURI: "http://h:1/p/q?x", URL: &url.URL{}}, "/p/q"},
		{"absolute form, no path", &http.Request{RequestURI: "http://h:1", URL: &url.URL{}}, "/"},
		{"client request", &http.Request{URL: &url.URL{Path: "/ü b"}}, "/%C3%BC%20b"},
		{"client request, RawPath", &http.Request{URL: &url.URL{Path: "/a/b", RawPath: "/a%2Fb"}}, "/a%2Fb"},
		{"opaque", &http.Request{URL: &url.URL{Opaque: "//h/p%2Fq"}}, "/p%2Fq"},
		{"no URL", &http.Request{}, "/"},
	}
	for _, tc := range cases {
		if got := rawPath(tc.r); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestParseAuthorization(t *testing.T) {
	const good = "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
	cases := []struct {
		in      string
		want    authorization
		wantErr string
	}{
		{good, authorization{"AKID/20150830/us-east-1/iam/aws4_request", "host;x-amz-date", "abc"}, ""},
		{"AWS4-HMAC-SHA256 Credential=A/b/c/d/e,SignedHeaders=host,Signature=s", authorization{"A/b/c/d/e", "host", "s"}, ""},
		{"AWS4-HMAC-SHA256  Credential=A/b/c/d/e ,  SignedHeaders=host , Signature=s, Extra=1", authorization{"A/b/c/d/e", "host", "s"}, ""},
		{"AWS4-HMAC-SHA256 Credential=A/b/c/d/e, SignedHeaders=host", authorization{credential: "A/b/c/d/e", signedHeaders: "host"},
			"Authorization header requires 'Signature' parameter."},
		{"AWS4-HMAC-SHA256 Credential=A/b/c/d/e, Credential=B/b/c/d/e, SignedHeaders=host, Signature=s", authorization{credential: "A/b/c/d/e"},
			"Authorization header has more than one 'Credential' parameter."},
		{"AWS4-HMAC-SHA1 Credential=A/b/c/d/e, SignedHeaders=host, Signature=s", authorization{"A/b/c/d/e", "host", "s"},
			"Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1'."},
		{"", authorization{}, "Unsupported AWS 'algorithm': ''."},
		{"AWS4-HMAC-SHA256 Credential", authorization{},
			"'Credential' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential'."},
		{"AWS4-HMAC-SHA256 " + strings.Repeat("x", maxAuthorizationLen), authorization{}, "Authorization header is too long."},
	}
	for _, tc := range cases {
		got, err := parseAuthorization(tc.in)
		if got != tc.want {
			t.Errorf("%q: got %+v, want %+v", truncate(tc.in, 80), got, tc.want)
		}
		gotErr := ""
		if err != nil {
			gotErr = err.Message
			if err.Kind != ErrIncompleteSignature {
				t.Errorf("%q: kind %v, want ErrIncompleteSignature", truncate(tc.in, 80), err.Kind)
			}
		}
		if gotErr != tc.wantErr {
			t.Errorf("%q: error %q, want %q", truncate(tc.in, 80), gotErr, tc.wantErr)
		}
	}
}

func TestParseAmzDate(t *testing.T) {
	cases := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"20150830T123600Z", time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC), true},
		{"20240229T235959Z", time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC), true},
		{"20230229T000000Z", time.Time{}, false},
		{"20150431T000000Z", time.Time{}, false},
		{"20151330T000000Z", time.Time{}, false},
		{"20150830T243600Z", time.Time{}, false},
		{"20150830T123660Z", time.Time{}, false},
		{"20150830T123600", time.Time{}, false},
		{"2015-08-30T12:36:00Z", time.Time{}, false},
		{"2015083OT123600Z", time.Time{}, false},
		{"+0150830T123600Z", time.Time{}, false},
	}
	for _, tc := range cases {
		got, ok := parseAmzDate(tc.in)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("%q: got %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestKeyCacheBounded(t *testing.T) {
	var c keyCache
	c.init(8)
	first := c.get("secret", "20150830", "us-east-1", "iam")
	if want := deriveSigningKey("secret", "20150830", "us-east-1", "iam"); first != want {
		t.Fatalf("cached key differs from derived key")
	}
	for i := range 100 {
		c.get("secret", "20150830", "region-"+string(rune('a'+i%26))+string(rune('a'+i/26)), "iam")
	}
	if got := c.len(); got > 8 {
		t.Errorf("cache holds %d keys, want at most 8", got)
	}
	// A rotated secret must not reuse the old key.
	if c.get("secret2", "20150830", "us-east-1", "iam") == first {
		t.Errorf("key for a different secret equals the old key")
	}
}

// TestVerifyDoesNotMutate checks that Verify leaves the request as it found it.
func TestVerifyDoesNotMutate(t *testing.T) {
	r, body := signedLM(t, testAKID, testSecret, "", testNow)
	before := r.Header.Clone()
	uri, rawQuery := r.RequestURI, r.URL.RawQuery
	if _, err := newTestVerifier().Verify(t.Context(), r, body); err != nil {
		t.Fatal(err)
	}
	for k, v := range before {
		if !slices.Equal(r.Header[k], v) {
			t.Errorf("header %s changed: %q -> %q", k, v, r.Header[k])
		}
	}
	if len(r.Header) != len(before) || r.RequestURI != uri || r.URL.RawQuery != rawQuery {
		t.Errorf("request changed")
	}
}
