package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	v4signer "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// v4Signer returns the SDK's SigV4 signer.
func v4Signer() *v4signer.Signer { return v4signer.NewSigner() }

// replaceAuth rewrites the Authorization header of r with f.
func replaceAuth(r *http.Request, f func(string) string) {
	r.Header.Set("Authorization", f(r.Header.Get("Authorization")))
}

// setQuery replaces the raw query of a server-side request (URL and RequestURI).
func setQuery(r *http.Request, q string) {
	r.URL.RawQuery = q
	path, _, _ := strings.Cut(r.RequestURI, "?")
	r.RequestURI = path + "?" + q
}

// TestMutations changes one thing at a time in a valid SDK-signed request and checks the
// kind of failure (or that the request still verifies).
func TestMutations(t *testing.T) {
	type mutation struct {
		name string
		// sign builds the request; nil means the long-term key, signed at testNow.
		sign func(t *testing.T) (*http.Request, []byte)
		// mutate changes the request (a copy) and may return a replacement body.
		mutate func(r *http.Request, body []byte) []byte
		keys   keyTable // nil: testKeys()
		now    time.Time
		want   error
		// wantMsg, when set, must equal the error message.
		wantMsg string
	}
	longTerm := func(t *testing.T) (*http.Request, []byte) { return signedLM(t, testAKID, testSecret, "", testNow) }
	session := func(t *testing.T) (*http.Request, []byte) {
		return signedLM(t, testASIA, testASIASec, testToken, testNow)
	}
	signedAt := func(d time.Duration) func(t *testing.T) (*http.Request, []byte) {
		return func(t *testing.T) (*http.Request, []byte) {
			return signedLM(t, testAKID, testSecret, "", testNow.Add(d))
		}
	}
	presigned := func(expires string) func(t *testing.T) (*http.Request, []byte) {
		return func(t *testing.T) (*http.Request, []byte) {
			return presignedSTS(t, testAKID, testSecret, "", testNow, expires)
		}
	}
	scopePart := func(i int, val string) func(*http.Request, []byte) []byte {
		return func(r *http.Request, b []byte) []byte {
			replaceAuth(r, func(a string) string {
				pre, rest, _ := strings.Cut(a, "Credential=")
				cred, post, _ := strings.Cut(rest, ",")
				parts := strings.Split(cred, "/")
				parts[i] = val
				return pre + "Credential=" + strings.Join(parts, "/") + "," + post
			})
			return b
		}
	}
	signedHeaders := func(list string) func(*http.Request, []byte) []byte {
		return func(r *http.Request, b []byte) []byte {
			replaceAuth(r, func(a string) string {
				pre, rest, _ := strings.Cut(a, "SignedHeaders=")
				_, post, _ := strings.Cut(rest, ",")
				return pre + "SignedHeaders=" + list + "," + post
			})
			return b
		}
	}
	const allSigned = "amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-target"

	cases := []mutation{
		{name: "unchanged", want: nil},
		{name: "body byte flipped", want: ErrSignatureDoesNotMatch, wantMsg: msgSignature,
			mutate: func(r *http.Request, b []byte) []byte { c := append([]byte(nil), b...); c[2] ^= 1; return c }},
		{name: "signed header value changed", want: ErrSignatureDoesNotMatch,
			mutate: func(r *http.Request, b []byte) []byte {
				r.Header.Set("X-Amz-Target", "AWSLicenseManager.DeleteLicenseConfiguration")
				return b
			}},
		{name: "signed header value with extra spaces still verifies", want: nil,
			mutate: func(r *http.Request, b []byte) []byte {
				r.Header.Set("Amz-Sdk-Request", "  attempt=1;   max=3  ")
				return b
			}},
		{name: "signed header name in other case still verifies", want: nil,
			mutate: func(r *http.Request, b []byte) []byte {
				v := r.Header["X-Amz-Target"]
				delete(r.Header, "X-Amz-Target")
				r.Header["x-amz-TARGET"] = v // a map filled by hand
				return b
			}},
		{name: "signed header removed", want: ErrIncompleteSignature,
			wantMsg: "Header 'x-amz-target' is listed in SignedHeaders but is missing from the request.",
			mutate:  func(r *http.Request, b []byte) []byte { r.Header.Del("X-Amz-Target"); return b }},
		{name: "signed header repeated", want: ErrSignatureDoesNotMatch,
			mutate: func(r *http.Request, b []byte) []byte { r.Header.Add("Content-Type", "text/plain"); return b }},
		{name: "unsigned header added", want: nil,
			mutate: func(r *http.Request, b []byte) []byte { r.Header.Set("X-Forwarded-For", "10.0.0.1"); return b }},
		{name: "host changed", want: ErrSignatureDoesNotMatch,
			mutate: func(r *http.Request, b []byte) []byte { r.Host = "127.0.0.1:40522"; return b }},
		{name: "method changed", want: ErrSignatureDoesNotMatch,
			mutate: func(r *http.Request, b []byte) []byte { r.Method = http.MethodPut; return b }},
		{name: "path changed", want: ErrSignatureDoesNotMatch,
			mutate: func(r *http.Request, b []byte) []byte { r.RequestURI = "/x"; r.URL.Path = "/x"; return b }},
		{name: "path normalised to the same", want: nil,
			mutate: func(r *http.Request, b []byte) []byte { r.RequestURI = "/./a/.."; r.URL.Path = "/./a/.."; return b }},
		{name: "query added", want: ErrSignatureDoesNotMatch,
			mutate: func(r *http.Request, b []byte) []byte { setQuery(r, "a=1"); return b }},
		{name: "scope date changed", want: ErrSignatureDoesNotMatch,
			wantMsg: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261122' != '20261123', from '20261123T145006Z'.",
			mutate:  scopePart(1, "20261122")},
		{name: "scope region changed", want: ErrSignatureDoesNotMatch, wantMsg: msgSignature, mutate: scopePart(2, "eu-west-1")},
		{name: "scope region empty", want: ErrSignatureDoesNotMatch, wantMsg: msgRegion, mutate: scopePart(2, "")},
		{name: "scope service changed", want: ErrSignatureDoesNotMatch, wantMsg: msgSignature, mutate: scopePart(3, "sts")},
		{name: "scope terminator changed", want: ErrSignatureDoesNotMatch,
			wantMsg: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reques'.",
			mutate:  scopePart(4, "aws4_reques")},
		{name: "credential with 4 elements", want: ErrIncompleteSignature,
			mutate: func(r *http.Request, b []byte) []byte {
				replaceAuth(r, func(a string) string { return strings.Replace(a, "/aws4_request", "", 1) })
				return b
			}},
		{name: "unknown access key", want: ErrUnknownAccessKey, wantMsg: msgInvalidToken, mutate: scopePart(0, "AKIAUNKNOWN000000000")},
		{name: "ASIA key without token", want: ErrInvalidToken, wantMsg: msgInvalidToken,
			sign: func(t *testing.T) (*http.Request, []byte) { return signedLM(t, testASIA, testASIASec, "", testNow) }},
		{name: "AKIA key with token", want: ErrInvalidToken, wantMsg: msgInvalidToken,
			sign: func(t *testing.T) (*http.Request, []byte) {
				return signedLM(t, testAKID, testSecret, testToken, testNow)
			}},
		{name: "AKIA key with unsigned token header", want: ErrInvalidToken,
			mutate: func(r *http.Request, b []byte) []byte { r.Header.Set("X-Amz-Security-Token", testToken); return b }},
		{name: "session key", sign: session, want: nil},
		{name: "session key, wrong token", want: ErrInvalidToken,
			sign: func(t *testing.T) (*http.Request, []byte) {
				return signedLM(t, testASIA, testASIASec, testToken[:len(testToken)-1]+"x", testNow)
			}},
		{name: "session key, token header repeated", sign: session, want: ErrInvalidToken,
			mutate: func(r *http.Request, b []byte) []byte { r.Header.Add("X-Amz-Security-Token", testToken); return b }},
		{name: "session key, expired token", sign: session, want: ErrExpiredToken, wantMsg: msgExpiredToken,
			keys: keyTable{testASIA: {SecretAccessKey: testASIASec, SessionToken: testToken, Expires: testNow.Add(-time.Second)}}},
		{name: "session key, token expires exactly now", sign: session, want: ErrExpiredToken,
			keys: keyTable{testASIA: {SecretAccessKey: testASIASec, SessionToken: testToken, Expires: testNow}}},
		{name: "signed 5 min ago", sign: signedAt(-5 * time.Minute), want: nil},
		{name: "signed 5 min 1 s ago", sign: signedAt(-5*time.Minute - time.Second), want: ErrRequestExpired,
			wantMsg: "Signature expired: 20261123T144505Z is now earlier than 20261123T144506Z (20261123T145006Z - 5 min.)"},
		{name: "signed 5 min ahead", sign: signedAt(5 * time.Minute), want: nil},
		{name: "signed 5 min 1 s ahead", sign: signedAt(5*time.Minute + time.Second), want: ErrRequestExpired,
			wantMsg: "Signature not yet current: 20261123T145507Z is still later than 20261123T145506Z (20261123T145006Z + 5 min.)"},
		{name: "X-Amz-Date malformed", want: ErrIncompleteSignature, wantMsg: msgAmzDateFormat,
			mutate: func(r *http.Request, b []byte) []byte { r.Header.Set("X-Amz-Date", "2026-11-23T14:50:06Z"); return b }},
		{name: "no date at all", want: ErrIncompleteSignature, wantMsg: msgNoDate,
			mutate: func(r *http.Request, b []byte) []byte { r.Header.Del("X-Amz-Date"); return b }},
		{name: "Authorization repeated", want: ErrIncompleteSignature,
			mutate: func(r *http.Request, b []byte) []byte {
				r.Header.Add("Authorization", r.Header.Get("Authorization"))
				return b
			}},
		{name: "Authorization and presigned query", want: ErrIncompleteSignature, wantMsg: msgBothAuth,
			mutate: func(r *http.Request, b []byte) []byte { setQuery(r, "X-Amz-Algorithm=AWS4-HMAC-SHA256"); return b }},
		{name: "no authentication", want: ErrMissingAuthentication, wantMsg: msgMissingAuth,
			mutate: func(r *http.Request, b []byte) []byte { r.Header.Del("Authorization"); return b }},
		{name: "no Signature", want: ErrIncompleteSignature, wantMsg: "Authorization header requires 'Signature' parameter.",
			mutate: func(r *http.Request, b []byte) []byte {
				replaceAuth(r, func(a string) string { pre, _, _ := strings.Cut(a, ", Signature="); return pre })
				return b
			}},
		{name: "only the algorithm", want: ErrIncompleteSignature,
			wantMsg: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter.",
			mutate:  func(r *http.Request, b []byte) []byte { r.Header.Set("Authorization", "AWS4-HMAC-SHA256"); return b }},
		{name: "component without '='", want: ErrIncompleteSignature,
			mutate: func(r *http.Request, b []byte) []byte {
				replaceAuth(r, func(a string) string { return a + ", Foo" })
				return b
			}},
		{name: "other algorithm", want: ErrIncompleteSignature, wantMsg: "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'.",
			mutate: func(r *http.Request, b []byte) []byte {
				replaceAuth(r, func(a string) string { return strings.Replace(a, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1) })
				return b
			}},
		{name: "signed headers unsorted", want: ErrIncompleteSignature, wantMsg: msgSignedHeaders,
			mutate: signedHeaders("amz-sdk-request;amz-sdk-invocation-id;content-length;content-type;host;x-amz-date;x-amz-target")},
		{name: "signed headers uppercase", want: ErrIncompleteSignature, wantMsg: msgSignedHeaders,
			mutate: signedHeaders("amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;Host;x-amz-date;x-amz-target")},
		{name: "signed headers repeated", want: ErrIncompleteSignature, wantMsg: msgSignedHeaders,
			mutate: signedHeaders("amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;host;x-amz-date;x-amz-target")},
		{name: "signed headers without host", want: ErrIncompleteSignature, wantMsg: msgHostNotSigned,
			mutate: signedHeaders("amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;x-amz-date;x-amz-target")},
		{name: "signed headers with an empty name", want: ErrIncompleteSignature, wantMsg: msgSignedHeaders,
			mutate: signedHeaders("amz-sdk-invocation-id;;host")},
		{name: "signed headers too many", want: ErrIncompleteSignature, wantMsg: msgTooManyHeaders,
			mutate: signedHeaders(manyHeaderNames(maxSignedHeaders + 1))},
		{name: "signed headers subset", want: ErrSignatureDoesNotMatch, mutate: signedHeaders("host;x-amz-date")},
		{name: "signature uppercase", want: ErrSignatureDoesNotMatch,
			mutate: func(r *http.Request, b []byte) []byte {
				replaceAuth(r, func(a string) string {
					pre, sig, _ := strings.Cut(a, "Signature=")
					return pre + "Signature=" + strings.ToUpper(sig)
				})
				return b
			}},
		{name: "signature truncated", want: ErrSignatureDoesNotMatch,
			mutate: func(r *http.Request, b []byte) []byte {
				replaceAuth(r, func(a string) string { return a[:len(a)-1] })
				return b
			}},
		{name: "x-amz-content-sha256 not matching the body", want: ErrSignatureDoesNotMatch, wantMsg: msgContentSHA256,
			mutate: func(r *http.Request, b []byte) []byte { r.Header.Set("X-Amz-Content-Sha256", testEmptyHash); return b }},
		{name: "x-amz-content-sha256 matching the body, unsigned", want: nil,
			mutate: func(r *http.Request, b []byte) []byte { r.Header.Set("X-Amz-Content-Sha256", hashHex(b)); return b }},
		{name: "x-amz-content-sha256 UNSIGNED-PAYLOAD", want: ErrSignatureDoesNotMatch, wantMsg: msgContentSHA256,
			mutate: func(r *http.Request, b []byte) []byte {
				r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
				return b
			}},
		{name: "all signed headers reordered", want: ErrIncompleteSignature, mutate: signedHeaders(reverseList(allSigned))},

		// Presigned.
		{name: "presigned", sign: presigned("60"), want: nil},
		{name: "presigned, query reordered", sign: presigned("60"), want: nil,
			mutate: func(r *http.Request, b []byte) []byte { setQuery(r, reverseList2(r.URL.RawQuery, "&")); return b }},
		{name: "presigned, query value changed", sign: presigned("60"), want: ErrSignatureDoesNotMatch,
			mutate: func(r *http.Request, b []byte) []byte {
				setQuery(r, strings.Replace(r.URL.RawQuery, "GetCallerIdentity", "GetSessionToken", 1))
				return b
			}},
		{name: "presigned, query parameter added", sign: presigned("60"), want: ErrSignatureDoesNotMatch,
			mutate: func(r *http.Request, b []byte) []byte { setQuery(r, r.URL.RawQuery+"&a=b"); return b }},
		{name: "presigned, body added", sign: presigned("60"), want: ErrSignatureDoesNotMatch,
			mutate: func(r *http.Request, b []byte) []byte { return []byte("x") }},
		{name: "presigned, Expires 0", sign: presigned("0"), want: ErrIncompleteSignature},
		{name: "presigned, Expires 604800", sign: presigned("604800"), want: nil},
		{name: "presigned, Expires 604801", sign: presigned("604801"), want: ErrIncompleteSignature},
		{name: "presigned, Expires negative", sign: presigned("-1"), want: ErrIncompleteSignature},
		{name: "presigned, Expires not a number", sign: presigned("1e3"), want: ErrIncompleteSignature},
		{name: "presigned without Expires", sign: presigned(""), want: nil},
		{name: "presigned without Expires, 5 min later", sign: presigned(""), now: testNow.Add(5 * time.Minute), want: nil},
		{name: "presigned without Expires, 5 min 1 s later", sign: presigned(""), now: testNow.Add(5*time.Minute + time.Second),
			want: ErrRequestExpired},
		{name: "presigned, at expiry", sign: presigned("60"), now: testNow.Add(time.Minute), want: nil},
		{name: "presigned, after expiry", sign: presigned("60"), now: testNow.Add(time.Minute + time.Second),
			want: ErrRequestExpired, wantMsg: msgRequestExpired},
		{name: "presigned, 5 min before signing", sign: presigned("60"), now: testNow.Add(-5 * time.Minute), want: nil},
		{name: "presigned, 5 min 1 s before signing", sign: presigned("60"), now: testNow.Add(-5*time.Minute - time.Second),
			want: ErrRequestExpired},
		{name: "presigned, signature removed", sign: presigned("60"), want: ErrIncompleteSignature,
			wantMsg: "AWS query-string parameters must include 'X-Amz-Signature'. Re-examine the query-string parameters.",
			mutate: func(r *http.Request, b []byte) []byte {
				q, _, _ := strings.Cut(r.URL.RawQuery, "&X-Amz-Signature=")
				setQuery(r, q)
				return b
			}},
		{name: "presigned, signature repeated", sign: presigned("60"), want: ErrIncompleteSignature,
			mutate: func(r *http.Request, b []byte) []byte {
				setQuery(r, r.URL.RawQuery+"&X-Amz-Signature=00")
				return b
			}},
		{name: "presigned, other algorithm", sign: presigned("60"), want: ErrIncompleteSignature,
			mutate: func(r *http.Request, b []byte) []byte {
				setQuery(r, strings.Replace(r.URL.RawQuery, "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", 1))
				return b
			}},
		{name: "presigned with session token", want: nil,
			sign: func(t *testing.T) (*http.Request, []byte) {
				return presignedSTS(t, testASIA, testASIASec, testToken, testNow, "60")
			}},
		{name: "presigned with session token, token removed", want: ErrInvalidToken,
			sign: func(t *testing.T) (*http.Request, []byte) {
				return presignedSTS(t, testASIA, testASIASec, testToken, testNow, "60")
			},
			mutate: func(r *http.Request, b []byte) []byte {
				var kept []string
				for _, p := range strings.Split(r.URL.RawQuery, "&") {
					if !strings.HasPrefix(p, "X-Amz-Security-Token=") {
						kept = append(kept, p)
					}
				}
				setQuery(r, strings.Join(kept, "&"))
				return b
			}},
		{name: "presigned with session token, header copy differs", want: ErrInvalidToken,
			sign: func(t *testing.T) (*http.Request, []byte) {
				return presignedSTS(t, testASIA, testASIASec, testToken, testNow, "60")
			},
			mutate: func(r *http.Request, b []byte) []byte { r.Header.Set("X-Amz-Security-Token", "other"); return b }},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sign := tc.sign
			if sign == nil {
				sign = longTerm
			}
			base, body := sign(t)
			r := cloneRequest(base)
			if tc.mutate != nil {
				body = tc.mutate(r, body)
			}
			keys := tc.keys
			if keys == nil {
				keys = testKeys()
			}
			now := tc.now
			if now.IsZero() {
				now = testNow
			}
			v := NewVerifier(keys.lookup, fixedClock(&now), 0)
			scope, err := v.Verify(context.Background(), r, body)
			wantKind(t, err, tc.want)
			if err == nil {
				if scope == nil {
					t.Fatal("Verify returned neither a scope nor an error")
				}
				return
			}
			e := err.(*Error)
			if tc.wantMsg != "" && e.Message != tc.wantMsg {
				t.Errorf("message:\ngot  %q\nwant %q", e.Message, tc.wantMsg)
			}
			if !errors.Is(tc.want, ErrMissingAuthentication) && e.AccessKeyID == "" && tc.name != "only the algorithm" {
				t.Errorf("Error.AccessKeyID is empty; want the key the request named")
			}
		})
	}
}

// manyHeaderNames returns a valid sorted SignedHeaders list of n names including host.
func manyHeaderNames(n int) string {
	names := []string{"host"}
	for i := 1; i < n; i++ {
		names = append(names, "x-h"+strings.Repeat("a", i))
	}
	return strings.Join(names, ";")
}

// reverseList reverses a ';'-separated list.
func reverseList(s string) string { return reverseList2(s, ";") }

// reverseList2 reverses a sep-separated list.
func reverseList2(s, sep string) string {
	parts := strings.Split(s, sep)
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, sep)
}

// TestDateHeaderFallback checks a request authenticated by the Date header alone (no
// X-Amz-Date), signed here by hand since the SDK always sends X-Amz-Date. The canonical
// request is written out literally so that the test does not share code with the verifier.
func TestDateHeaderFallback(t *testing.T) {
	const (
		date    = "Mon, 23 Nov 2026 14:50:06 GMT"
		amzDate = "20261123T145006Z"
		scope   = "20261123/us-east-1/iam/aws4_request"
		body    = "Action=ListUsers&Version=2010-05-08"
	)
	creq := "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\ndate:" + date + "\nhost:" + testHost +
		"\n\ncontent-type;date;host\n" + hashHex([]byte(body))
	sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hashHex([]byte(creq))
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	k := mac([]byte("AWS4"+testSecret), "20261123")
	k = mac(k, "us-east-1")
	k = mac(k, "iam")
	k = mac(k, "aws4_request")
	sig := hex.EncodeToString(mac(k, sts))

	req, err := http.NewRequest(http.MethodPost, "http://"+testHost+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Date", date)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testAKID+"/"+scope+", SignedHeaders=content-type;date;host, Signature="+sig)
	r, b := serverView(t, req)

	v := newTestVerifier()
	var tr trace
	scopeGot, err := v.verify(context.Background(), r, b, &tr)
	if tr.canonicalRequest != creq {
		t.Errorf("canonical request:\ngot:\n%s\nwant:\n%s", tr.canonicalRequest, creq)
	}
	wantKind(t, err, nil)
	if !scopeGot.SignedAt.Equal(testNow) {
		t.Errorf("SignedAt: got %s, want %s", scopeGot.SignedAt, testNow)
	}

	r2 := cloneRequest(r)
	r2.Header.Set("Date", "Mon, 23 Nov 2026 14:50:07 GMT")
	_, err = v.Verify(context.Background(), r2, b)
	wantKind(t, err, ErrSignatureDoesNotMatch)

	r3 := cloneRequest(r)
	r3.Header.Set("Date", "yesterday")
	_, err = v.Verify(context.Background(), r3, b)
	wantKind(t, err, ErrIncompleteSignature)
}

// TestLookupFailure checks that a lookup failing for another reason than an unknown key is
// passed on as that error, not as an authentication failure.
func TestLookupFailure(t *testing.T) {
	dbDown := errors.New("database is down")
	now := testNow
	v := NewVerifier(func(context.Context, string) (Credentials, error) { return Credentials{}, dbDown }, fixedClock(&now), 0)
	r, body := signedLM(t, testAKID, testSecret, "", testNow)
	_, err := v.Verify(context.Background(), r, body)
	if !errors.Is(err, dbDown) {
		t.Fatalf("got %v, want an error wrapping %v", err, dbDown)
	}
	var e *Error
	if errors.As(err, &e) {
		t.Fatalf("got *Error %v; want a plain wrapped error so that the server answers 500", e)
	}

	// A lookup returning the bare sentinel (as the server's does) is an unknown key.
	v = NewVerifier(func(context.Context, string) (Credentials, error) { return Credentials{}, ErrUnknownAccessKey }, fixedClock(&now), 0)
	_, err = v.Verify(context.Background(), r, body)
	wantKind(t, err, ErrUnknownAccessKey)
	if got := err.(*Error).AccessKeyID; got != testAKID {
		t.Errorf("AccessKeyID: got %q, want %q", got, testAKID)
	}
}

// TestLimits checks that oversized input is refused before it costs much work.
func TestLimits(t *testing.T) {
	base, body := signedLM(t, testAKID, testSecret, "", testNow)
	cases := []struct {
		name    string
		mutate  func(r *http.Request)
		wantMsg string
	}{
		{"Authorization too long", func(r *http.Request) {
			r.Header.Set("Authorization", r.Header.Get("Authorization")+", X="+strings.Repeat("a", maxAuthorizationLen))
		}, "Authorization header is too long."},
		{"signed header too large", func(r *http.Request) {
			r.Header.Set("X-Amz-Target", strings.Repeat("a", maxHeaderBytes))
		}, msgHeadersTooLarge},
		{"too many query parameters", func(r *http.Request) {
			setQuery(r, strings.Repeat("a=1&", maxQueryParams+1))
		}, msgQueryTooLarge},
		{"query too long", func(r *http.Request) {
			setQuery(r, "a="+strings.Repeat("b", maxQueryLen))
		}, msgQueryTooLarge},
		{"path too long", func(r *http.Request) {
			r.RequestURI = "/" + strings.Repeat("a", maxPathLen)
		}, msgPathTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := cloneRequest(base)
			tc.mutate(r)
			_, err := newTestVerifier().Verify(context.Background(), r, body)
			wantKind(t, err, ErrIncompleteSignature)
			if got := err.(*Error).Message; got != tc.wantMsg {
				t.Errorf("message: got %q, want %q", got, tc.wantMsg)
			}
		})
	}
}

// TestZeroVerifier checks that a Verifier not made by NewVerifier fails safely.
func TestZeroVerifier(t *testing.T) {
	r, body := signedLM(t, testAKID, testSecret, "", testNow)
	var v Verifier
	_, err := v.Verify(context.Background(), r, body)
	wantKind(t, err, ErrUnknownAccessKey)
	_, err = v.Verify(context.Background(), nil, nil)
	wantKind(t, err, ErrMissingAuthentication)
}

// TestVerifyConcurrent verifies requests for many scopes from many goroutines through a tiny
// key cache, so that lookups, derivations and evictions race (run with -race).
func TestVerifyConcurrent(t *testing.T) {
	now := testNow
	v := NewVerifier(testKeys().lookup, fixedClock(&now), 0)
	v.keys.init(3)
	type req struct {
		r    *http.Request
		body []byte
	}
	var reqs []req
	for _, region := range []string{"us-east-1", "eu-west-1", "eu-central-1", "ap-south-1", "sa-east-1"} {
		for _, service := range []string{"sts", "license-manager"} {
			body := `{"MaxResults":10}`
			hr := lmRequest(t, body)
			if err := v4Signer().SignHTTP(context.Background(), sdkCreds(testAKID, testSecret, ""), hr, hashHex([]byte(body)), service, region, testNow); err != nil {
				t.Fatal(err)
			}
			r, b := serverView(t, hr)
			reqs = append(reqs, req{r, b})
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				q := reqs[(g+i)%len(reqs)]
				if _, err := v.Verify(context.Background(), q.r, q.body); err != nil {
					t.Errorf("Verify: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := v.keys.len(); n > 3 {
		t.Errorf("key cache holds %d keys, want at most 3", n)
	}
}
