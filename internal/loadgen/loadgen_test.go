package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4signer "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/allot-dev/allot/internal/sigv4"
)

var testCreds = Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}

// signedRequest builds the request the load generator would send and parses it back as a
// server reads it.
func signedRequest(t testing.TB, c Credentials, date string, body []byte) *http.Request {
	t.Helper()
	s := newSigner(c, "us-east-1")
	hdrs := []header{{"content-type", contentJSON}, {"host", "127.0.0.1:7373"}, {"x-amz-date", date}}
	if c.SessionToken != "" {
		hdrs = append(hdrs, header{"x-amz-security-token", c.SessionToken})
	}
	hdrs = append(hdrs, header{"x-amz-target", "AWSLicenseManager.CheckoutLicense"})
	auth, _ := s.sign(nil, "license-manager", date, hdrs, body)
	head := appendHead(nil, "127.0.0.1:7373", hdrs, auth, len(body))
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(append(head, body...))))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSignerVerifies checks the load generator's signatures with the server's verifier.
func TestSignerVerifies(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	date := now.Format("20060102T150405Z")
	body := []byte(`{"ProductSKU":"X"}`)
	for _, c := range []Credentials{testCreds, {AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "s3cr3t", SessionToken: "tok/en+=="}} {
		v := sigv4.NewVerifier(func(_ context.Context, id string) (sigv4.Credentials, error) {
			if id != c.AccessKeyID {
				return sigv4.Credentials{}, sigv4.ErrUnknownAccessKey
			}
			return sigv4.Credentials{SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}, nil
		}, func() time.Time { return now }, 0)
		if _, err := v.Verify(context.Background(), signedRequest(t, c, date, body), body); err != nil {
			t.Errorf("%s: Verify = %v", c.AccessKeyID, err)
		}
		if _, err := v.Verify(context.Background(), signedRequest(t, c, date, body), []byte(`{"ProductSKU":"Y"}`)); !errors.Is(err, sigv4.ErrSignatureDoesNotMatch) {
			t.Errorf("%s: Verify of another body = %v, want a mismatch", c.AccessKeyID, err)
		}
	}
}

// TestSignerMatchesSDK checks the signature against the AWS SDK for Go's signer.
func TestSignerMatchesSDK(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	body := []byte(`{"ProductSKU":"X"}`)
	// The SDK signs Content-Length too; so does this comparison.
	hdrs := []header{{"content-length", "18"}, {"content-type", contentJSON}, {"host", "127.0.0.1:7373"},
		{"x-amz-date", now.Format("20060102T150405Z")}, {"x-amz-target", "AWSLicenseManager.CheckoutLicense"}}
	ours, _ := newSigner(testCreds, "us-east-1").sign(nil, "license-manager", now.Format("20060102T150405Z"), hdrs, body)

	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:7373/", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentJSON)
	req.Header.Set("X-Amz-Target", "AWSLicenseManager.CheckoutLicense")
	sum := sha256.Sum256(body)
	err := v4signer.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: testCreds.SecretAccessKey},
		req, hex.EncodeToString(sum[:]), "license-manager", "us-east-1", now)
	if err != nil {
		t.Fatal(err)
	}
	if sdk := req.Header.Get("Authorization"); sdk != ours {
		t.Errorf("Authorization\n got %s\nwant %s (the SDK's)", ours, sdk)
	}
}

// BenchmarkSign is the load generator's cost of signing one request: it must stay far below
// the server's cost of verifying and serving it.
func BenchmarkSign(b *testing.B) {
	s := newSigner(testCreds, "us-east-1")
	body := checkoutBody(nil, &license{SKU: "BENCH-HOT", Fingerprint: "aws:123456789012:AllotBench:issuer-fingerprint"}, "run-checkout-1-1", 1)
	hdrs := []header{{"content-type", contentJSON}, {"host", "127.0.0.1:7373"}, {"x-amz-date", "20261123T100000Z"}, {"x-amz-target", "AWSLicenseManager.CheckoutLicense"}}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		_, buf = s.sign(buf, "license-manager", "20261123T100000Z", hdrs, body)
	}
}

func TestJSONHelpers(t *testing.T) {
	body := checkoutBody(nil, &license{SKU: `S"K\U`, Fingerprint: "fp"}, "ct\n1", 7)
	if !strings.Contains(string(body), `"ProductSKU":"S\"K\\U"`) || !strings.Contains(string(body), `"ClientToken":"ct\u000a1"`) {
		t.Errorf("checkoutBody = %s", body)
	}
	resp := []byte(`{"CheckoutType":"PROVISIONAL","LicenseConsumptionToken":"0123abc","SignedToken":"x.y.z"}`)
	if got := jsonString(resp, "LicenseConsumptionToken"); got != "0123abc" {
		t.Errorf("jsonString = %q", got)
	}
	if got := jsonString(resp, "Missing"); got != "" {
		t.Errorf("jsonString(missing) = %q", got)
	}
}

func TestSummarize(t *testing.T) {
	var ns []int64
	for i := 100; i >= 1; i-- {
		ns = append(ns, int64(i)*int64(time.Millisecond))
	}
	l := summarize(ns)
	if l.Count != 100 || l.P50 != 50 || l.P90 != 90 || l.P99 != 99 || l.Max != 100 || l.Mean != 50.5 {
		t.Errorf("summarize = %+v", l)
	}
	if (summarize(nil) != Latency{}) {
		t.Error("summarize(nil) is not zero")
	}
}

func TestParseError(t *testing.T) {
	for _, c := range []struct {
		status  int
		errType string
		body    string
		code    string
	}{
		{400, "", `{"__type":"NoEntitlementsAllowedException","message":"no"}`, "NoEntitlementsAllowedException"},
		{400, "com.amazonaws#ValidationException", `{}`, "ValidationException"},
		{403, "", `<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>`, "AccessDenied"},
		{502, "", `bad gateway`, "HTTP502"},
	} {
		if got := parseError(c.status, c.errType, []byte(c.body)); got.Code != c.code || got.Status != c.status {
			t.Errorf("parseError(%d, %q, %s) = %+v, want code %s", c.status, c.errType, c.body, got, c.code)
		}
	}
}
