package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4signer "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Test credentials. The secrets are made up.
const (
	testAKID      = "AKIAALLOTTEST0000001"
	testSecret    = "allot/test/SECRET/key+0123456789abcdefghij"
	testASIA      = "ASIAALLOTTEST0000001"
	testASIASec   = "allot/test/SESSION/secret+9876543210zyxwvu"
	testToken     = "IQoJb3JpZ2luX2VjEAllotTestSessionToken//////////wEaCXVzLWVhc3QtMSJHMEUCIQ=="
	testRegion    = "us-east-1"
	testService   = "license-manager"
	testHost      = "127.0.0.1:40521"
	testEmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// testNow is the fixed "current time" of most tests.
var testNow = time.Date(2026, 11, 23, 14, 50, 6, 0, time.UTC)

// keyTable is a LookupFunc over a fixed set of credentials.
type keyTable map[string]Credentials

// lookup implements LookupFunc.
func (k keyTable) lookup(_ context.Context, id string) (Credentials, error) {
	c, ok := k[id]
	if !ok {
		return Credentials{}, fmt.Errorf("no key %s: %w", id, ErrUnknownAccessKey)
	}
	return c, nil
}

// testKeys is the usual key table: one long-term and one temporary key.
func testKeys() keyTable {
	return keyTable{
		testAKID: {SecretAccessKey: testSecret},
		testASIA: {SecretAccessKey: testASIASec, SessionToken: testToken, Expires: testNow.Add(time.Hour)},
	}
}

// fixedClock returns a clock function reading *t.
func fixedClock(t *time.Time) func() time.Time { return func() time.Time { return *t } }

// newTestVerifier returns a verifier over testKeys at testNow.
func newTestVerifier() *Verifier {
	now := testNow
	return NewVerifier(testKeys().lookup, fixedClock(&now), 0)
}

// hashHex returns the hex SHA-256 of b.
func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// serverView sends req through net/http's wire format and parses it back as a server does
// (http.ReadRequest is what net/http's server uses), returning the request and its body.
func serverView(t testing.TB, req *http.Request) (*http.Request, []byte) {
	t.Helper()
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		t.Fatalf("writing request: %v", err)
	}
	sr, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		t.Fatalf("reading request back: %v\n%s", err, wire.String())
	}
	body, err := io.ReadAll(sr.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return sr, body
}

// cloneRequest copies a server-side request deeply enough to mutate its header and URL.
func cloneRequest(r *http.Request) *http.Request {
	c := r.Clone(context.Background())
	u := *r.URL
	c.URL = &u
	return c
}

// sdkCreds returns aws.Credentials for the SDK signer.
func sdkCreds(akid, secret, token string) aws.Credentials {
	return aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret, SessionToken: token, Source: "test"}
}

// lmRequest builds an unsigned License Manager ListLicenseConfigurations request shaped like
// the one the Go SDK sends (see api-reference.md §1.12), with the given body.
func lmRequest(t testing.TB, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+testHost+"/", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Amz-Sdk-Invocation-Id", "954b665c-26e6-499c-ab73-8909f0923321")
	req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSLicenseManager.ListLicenseConfigurations")
	return req
}

// signedLM returns the server view of a License Manager request signed by the SDK at signedAt.
func signedLM(t testing.TB, akid, secret, token string, signedAt time.Time) (*http.Request, []byte) {
	t.Helper()
	body := `{"MaxResults":10}`
	req := lmRequest(t, body)
	err := v4signer.NewSigner().SignHTTP(context.Background(), sdkCreds(akid, secret, token), req,
		hashHex([]byte(body)), testService, testRegion, signedAt)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "gzip") // added after signing, as Go's transport does
	req.Header.Set("User-Agent", "aws-sdk-go-v2/1.48.0")
	return serverView(t, req)
}

// presignedSTS returns the server view of an STS GetCallerIdentity URL presigned by the SDK.
func presignedSTS(t testing.TB, akid, secret, token string, signedAt time.Time, expires string) (*http.Request, []byte) {
	t.Helper()
	target := "http://" + testHost + "/?Action=GetCallerIdentity&Version=2011-06-15"
	if expires != "" { // "" leaves X-Amz-Expires out, as the Go SDK's STS presigner does
		target += "&X-Amz-Expires=" + expires
	}
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	signedURL, hdr, err := v4signer.NewSigner().PresignHTTP(context.Background(), sdkCreds(akid, secret, token), req,
		testEmptyHash, "sts", testRegion, signedAt)
	if err != nil {
		t.Fatal(err)
	}
	out, err := http.NewRequest(http.MethodGet, signedURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k != "Host" {
			out.Header[k] = v
		}
	}
	return serverView(t, out)
}

// wantKind fails the test unless err is an *Error of the given kind (nil: no error).
func wantKind(t testing.TB, err, kind error) {
	t.Helper()
	if kind == nil {
		if err != nil {
			t.Fatalf("Verify: got error %v, want success", err)
		}
		return
	}
	if !errorsIsKind(err, kind) {
		t.Fatalf("Verify: got error %v, want kind %v", err, kind)
	}
}

// errorsIsKind reports whether err is an *Error whose Kind is kind.
func errorsIsKind(err, kind error) bool {
	e, ok := err.(*Error)
	return ok && e.Kind == kind && errors.Is(err, kind)
}
