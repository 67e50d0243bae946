package sigv4

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4signer "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/licensemanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Building blocks of the random requests.
var (
	randMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch}
	// randPathParts are path segment pieces: plain, UTF-8, spaces, sub-delims, a literal '%'.
	// No piece is "." or ".." and segments are never empty: the SDK does not normalise paths
	// while AWS (and we) do, so such paths only verify when the client normalised them itself;
	// the normalisation is covered by the test-suite vectors.
	randPathParts = []string{"a", "Example", "x-y_z~1", "ü", "ሴ", "日本", "a b", "!$&'()*+,;=:@", "%", "é.json", "v1.2", "~user"}
	randQueryKeys = []string{"Action", "Version", "a", "a b", "é", "k;1", "Filter.1.Name", "x/y", "-", "~", "X-Amz-Meta"}
	randValues    = []string{"", "1", "value", "a b", "a  b", "a+b", "a;b", "ü=ß", "ሴ", "/path/../x", "%", "a&b", "  spaced  ", "2011-06-15", "*", "a/b", "a-b"}
	randHdrValues = []string{"v", "a  b   c", "  leading", "trailing  ", "tab\there", "ütf-8 ✓", "x,y", "\"quoted  value\"", "12345", "a;b=c"}
	randBodies    = []string{"", "{}", `{"MaxResults":10}`, "Action=GetCallerIdentity&Version=2011-06-15", "ü\x00\xff binary"}
)

// randomRequest builds an unsigned client request with random method, path, query, headers
// and body, and returns it with its body.
func randomRequest(t *testing.T, rng *rand.Rand) (*http.Request, []byte) {
	t.Helper()
	method := randMethods[rng.IntN(len(randMethods))]

	var path strings.Builder
	for range rng.IntN(4) {
		path.WriteByte('/')
		for range 1 + rng.IntN(2) {
			path.WriteString(randPathParts[rng.IntN(len(randPathParts))])
		}
	}
	if path.Len() == 0 || rng.IntN(4) == 0 {
		path.WriteByte('/')
	}

	// The query is encoded here so that every pair survives url.ParseQuery, which the SDK
	// uses; ';' is therefore always sent as %3B (TestCanonicalQuerySemicolon covers a literal
	// ';'). Spaces go out as '+' or %20 at random, duplicates keys occur often.
	var query []string
	for range rng.IntN(6) {
		k := randQueryKeys[rng.IntN(len(randQueryKeys))]
		v := randValues[rng.IntN(len(randValues))]
		enc := url.QueryEscape
		if rng.IntN(2) == 0 {
			enc = func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
		}
		if rng.IntN(8) == 0 {
			query = append(query, enc(k)) // a name without '='
		} else {
			query = append(query, enc(k)+"="+enc(v))
		}
	}

	body := []byte(randBodies[rng.IntN(len(randBodies))])
	if rng.IntN(3) == 0 {
		body = make([]byte, rng.IntN(2048))
		for i := range body {
			body[i] = byte(rng.IntN(256))
		}
	}

	u := &url.URL{Scheme: "http", Host: testHost, Path: path.String(), RawQuery: strings.Join(query, "&")}
	req, err := http.NewRequest(method, u.String(), bytes.NewReader(body))
	if err != nil {
		t.Fatalf("NewRequest(%s): %v", u, err)
	}
	for range rng.IntN(5) {
		name := fmt.Sprintf("X-Test-%d", rng.IntN(3))
		v := randHdrValues[rng.IntN(len(randHdrValues))]
		switch rng.IntN(3) {
		case 0:
			req.Header.Add(name, v) // may duplicate an earlier one
		case 1:
			// Sent with a lowercase name, which the server canonicalises. The name differs
			// from the X-Test ones: the SDK joins the values of "X-A" and "x-a" in map
			// iteration order, which no server can reproduce.
			lower := fmt.Sprintf("x-lower-%d", rng.IntN(2))
			req.Header[lower] = append(req.Header[lower], v)
		default:
			req.Header.Set("X-Amz-Target", "AWSLicenseManager.ListLicenseConfigurations")
		}
	}
	if rng.IntN(2) == 0 {
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	}
	return req, body
}

// TestSDKRoundTrip signs random requests with aws-sdk-go-v2's SignHTTP and PresignHTTP, sends
// them through net/http's wire format and verifies them: every one must verify with the
// right key, and fail with ErrSignatureDoesNotMatch with a wrong secret.
func TestSDKRoundTrip(t *testing.T) {
	const n = 2000
	rng := rand.New(rand.NewPCG(20261123, 1))
	signer := v4signer.NewSigner()
	now := testNow
	v := NewVerifier(testKeys().lookup, fixedClock(&now), 0)
	wrong := NewVerifier(keyTable{
		testAKID: {SecretAccessKey: testSecret + "x"},
		testASIA: {SecretAccessKey: testASIASec + "x", SessionToken: testToken},
	}.lookup, fixedClock(&now), 0)

	var header, presigned, withToken int
	for i := range n {
		req, body := randomRequest(t, rng)
		creds := sdkCreds(testAKID, testSecret, "")
		if rng.IntN(2) == 0 {
			creds = sdkCreds(testASIA, testASIASec, testToken)
			withToken++
		}
		service := []string{"sts", "iam", "license-manager", "organizations", "service"}[rng.IntN(5)]
		region := []string{"us-east-1", "eu-west-1", "ap-southeast-2"}[rng.IntN(3)]
		signedAt := testNow.Add(time.Duration(rng.IntN(9*60)-4*60) * time.Second) // within ±4 min
		desc := fmt.Sprintf("#%d %s %s", i, req.Method, req.URL.RequestURI())

		if rng.IntN(2) == 0 {
			header++
			if err := signer.SignHTTP(context.Background(), creds, req, hashHex(body), service, region, signedAt); err != nil {
				t.Fatal(err)
			}
		} else {
			presigned++
			q := req.URL.RawQuery
			if q != "" {
				q += "&"
			}
			req.URL.RawQuery = q + "X-Amz-Expires=" + strconv.Itoa(300+rng.IntN(3600))
			hoist := rng.IntN(2) == 0
			signedURL, hdr, err := signer.PresignHTTP(context.Background(), creds, req, hashHex(body), service, region, signedAt,
				func(o *v4signer.SignerOptions) { o.DisableHeaderHoisting = !hoist })
			if err != nil {
				t.Fatal(err)
			}
			out, err := http.NewRequest(req.Method, signedURL, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			for k, vals := range hdr {
				if k != "Host" {
					out.Header[k] = vals
				}
			}
			req = out
		}
		sr, gotBody := serverView(t, req)
		if !bytes.Equal(gotBody, body) {
			t.Fatalf("%s: body changed on the wire", desc)
		}
		scope, err := v.Verify(context.Background(), sr, gotBody)
		if err != nil {
			t.Errorf("%s: Verify: %v\nAuthorization: %s", desc, err, sr.Header.Get("Authorization"))
			continue
		}
		if scope.AccessKeyID != creds.AccessKeyID || scope.Service != service || scope.Region != region || !scope.SignedAt.Equal(signedAt.Truncate(time.Second)) {
			t.Errorf("%s: scope %+v, want key %s service %s region %s at %s", desc, scope, creds.AccessKeyID, service, region, signedAt)
		}
		_, err = wrong.Verify(context.Background(), sr, gotBody)
		if !errorsIsKind(err, ErrSignatureDoesNotMatch) {
			t.Errorf("%s: Verify with a wrong secret: got %v, want ErrSignatureDoesNotMatch", desc, err)
		}
	}
	t.Logf("%d requests (%d header-signed, %d presigned, %d with a session token)", n, header, presigned, withToken)
}

// TestServiceClients points the real STS and License Manager clients at an httptest server
// whose handler verifies each request: with the right key the call succeeds, with a wrong
// secret the handler sees ErrSignatureDoesNotMatch and the client gets an error.
func TestServiceClients(t *testing.T) {
	keys := testKeys()
	keys[testASIA] = Credentials{SecretAccessKey: testASIASec, SessionToken: testToken, Expires: time.Now().Add(time.Hour)}
	v := NewVerifier(keys.lookup, nil, 0)

	var mu sync.Mutex
	var lastErr error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		scope, err := v.Verify(r.Context(), r, body)
		mu.Lock()
		lastErr = err
		mu.Unlock()
		if err != nil {
			var e *Error
			errors.As(err, &e)
			if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json") {
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"__type":"InvalidSignatureException","message":%q}`, e.Message)
				return
			}
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>%s</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`, e.Message)
			return
		}
		switch scope.Service {
		case "sts":
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprint(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/test</Arn><UserId>AIDAALLOTTEST</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
		case "license-manager":
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			fmt.Fprint(w, `{"LicenseConfigurations":[]}`)
		default:
			http.Error(w, "unexpected service "+scope.Service, http.StatusBadRequest)
		}
	}))
	defer srv.Close()

	provider := func(akid, secret, token string) aws.CredentialsProvider {
		return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return sdkCreds(akid, secret, token), nil
		})
	}
	calls := map[string]func(aws.CredentialsProvider) error{
		"sts.GetCallerIdentity": func(p aws.CredentialsProvider) error {
			c := sts.New(sts.Options{Region: testRegion, Credentials: p, BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1})
			out, err := c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if err == nil && aws.ToString(out.Account) != "111122223333" {
				return fmt.Errorf("account %q", aws.ToString(out.Account))
			}
			return err
		},
		"licensemanager.ListLicenseConfigurations": func(p aws.CredentialsProvider) error {
			c := licensemanager.New(licensemanager.Options{Region: "eu-west-1", Credentials: p, BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1})
			_, err := c.ListLicenseConfigurations(context.Background(), &licensemanager.ListLicenseConfigurationsInput{MaxResults: aws.Int32(10)})
			return err
		},
	}
	cases := []struct {
		name                string
		akid, secret, token string
		want                error
	}{
		{"long-term key", testAKID, testSecret, "", nil},
		{"session credentials", testASIA, testASIASec, testToken, nil},
		{"wrong secret", testAKID, "not-the-secret", "", ErrSignatureDoesNotMatch},
		{"wrong session secret", testASIA, "not-the-secret", testToken, ErrSignatureDoesNotMatch},
	}
	for callName, call := range calls {
		for _, tc := range cases {
			t.Run(callName+"/"+tc.name, func(t *testing.T) {
				err := call(provider(tc.akid, tc.secret, tc.token))
				mu.Lock()
				seen := lastErr
				mu.Unlock()
				if tc.want == nil {
					if err != nil || seen != nil {
						t.Fatalf("client error %v, handler error %v; want success", err, seen)
					}
					return
				}
				if err == nil {
					t.Fatalf("client call succeeded; want an error")
				}
				if !errorsIsKind(seen, tc.want) {
					t.Fatalf("handler saw %v; want %v", seen, tc.want)
				}
			})
		}
	}
}
