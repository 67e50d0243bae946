package sts

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/store"
)

const testIssuer = "https://issuer.example.com/tenant"

// testIdP is an OpenID Connect issuer in memory: its signing keys, and a KeyFetcher that
// serves them and counts fetches.
type testIdP struct {
	mu      sync.Mutex
	keys    map[string]crypto.Signer // by kid
	fetches int
	fail    error
}

func newTestIdP(t *testing.T) *testIdP {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &testIdP{keys: map[string]crypto.Signer{"rsa1": rk, "ec1": ek}}
}

func (p *testIdP) FetchKeys(_ context.Context, issuer string) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fetches++
	if p.fail != nil {
		return nil, p.fail
	}
	if issuer != testIssuer {
		return nil, errors.New("unknown issuer " + issuer)
	}
	var set jose.JSONWebKeySet
	for kid, k := range p.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public(), KeyID: kid, Use: "sig"})
	}
	return json.Marshal(set)
}

func (p *testIdP) fetchCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fetches
}

func (p *testIdP) addKey(t *testing.T, kid string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.keys[kid] = k
	p.mu.Unlock()
}

// sign returns a compact JWT of claims signed with key kid of signer (the IdP's own key
// when signer is nil).
func (p *testIdP) sign(t *testing.T, kid string, signer crypto.Signer, claims any) string {
	t.Helper()
	if signer == nil {
		p.mu.Lock()
		signer = p.keys[kid]
		p.mu.Unlock()
	}
	alg := jose.RS256
	if _, ok := signer.(*ecdsa.PrivateKey); ok {
		alg = jose.ES256
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: signer},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func testProvider() *store.OIDCProvider {
	return &store.OIDCProvider{
		ARN: store.OIDCProviderARN("111122223333", "issuer.example.com/tenant"), AccountID: "111122223333",
		URL: "issuer.example.com/tenant", Issuer: testIssuer, ClientIDs: []string{"sts.amazonaws.com", "my-app"},
	}
}

func goodClaims() map[string]any {
	return map[string]any{
		"iss": testIssuer, "sub": "repo:acme/app:ref:refs/heads/main", "aud": "my-app",
		"exp": testNow.Add(10 * time.Minute).Unix(), "nbf": testNow.Add(-time.Minute).Unix(),
		"iat": testNow.Add(-time.Minute).Unix(), "amr": []string{"pwd", "mfa"},
	}
}

func with(c map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(c))
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// verify parses and verifies raw as AssumeRoleWithWebIdentity does, at time now.
func verify(s *Service, raw string, now time.Time) (*webToken, error) {
	tok, iss, err := parseWebToken(raw)
	if err != nil {
		return nil, err
	}
	url, scheme := issuerURL(iss)
	p := testProvider()
	if !issuerMatches(scheme, url, p) {
		return nil, invalidToken("No OpenIDConnect provider found in your account for %s", iss)
	}
	return s.verifyWebToken(context.Background(), tok, p, now)
}

func wantCode(t *testing.T, err error, code, contains string) {
	t.Helper()
	e, ok := awserr.As(err)
	if !ok || e.Code != code {
		t.Fatalf("got error %v, want %s", err, code)
	}
	if !strings.Contains(e.Message, contains) {
		t.Fatalf("got message %q, want it to contain %q", e.Message, contains)
	}
}

func TestWebIdentityToken(t *testing.T) {
	idp := newTestIdP(t)
	s := &Service{Keys: idp}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("OK", func(t *testing.T) {
		for _, kid := range []string{"rsa1", "ec1"} {
			got, err := verify(s, idp.sign(t, kid, nil, goodClaims()), testNow)
			if err != nil {
				t.Fatalf("%s: %v", kid, err)
			}
			if got.Subject != "repo:acme/app:ref:refs/heads/main" || got.Audience != "my-app" || got.Issuer != testIssuer ||
				strings.Join(got.AMR, ",") != "pwd,mfa" {
				t.Fatalf("%s: got %+v", kid, got)
			}
		}
	})
	t.Run("OKAudienceList", func(t *testing.T) {
		got, err := verify(s, idp.sign(t, "rsa1", nil, with(goodClaims(), "aud", []string{"other", "sts.amazonaws.com"})), testNow)
		if err != nil || got.Audience != "sts.amazonaws.com" {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
	t.Run("OKWithinSkew", func(t *testing.T) {
		claims := with(goodClaims(), "exp", testNow.Add(-4*time.Minute).Unix(), "nbf", testNow.Add(4*time.Minute).Unix())
		if _, err := verify(s, idp.sign(t, "rsa1", nil, claims), testNow); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrWrongIssuer", func(t *testing.T) {
		_, err := verify(s, idp.sign(t, "rsa1", nil, with(goodClaims(), "iss", "https://evil.example.com/tenant")), testNow)
		wantCode(t, err, "InvalidIdentityToken", "No OpenIDConnect provider")
		_, err = verify(s, idp.sign(t, "rsa1", nil, with(goodClaims(), "iss", "http://issuer.example.com/tenant")), testNow)
		wantCode(t, err, "InvalidIdentityToken", "No OpenIDConnect provider")
	})
	t.Run("ErrAudience", func(t *testing.T) {
		_, err := verify(s, idp.sign(t, "rsa1", nil, with(goodClaims(), "aud", "someone-else")), testNow)
		wantCode(t, err, "InvalidIdentityToken", "Incorrect token audience")
	})
	t.Run("ErrExpired", func(t *testing.T) {
		_, err := verify(s, idp.sign(t, "rsa1", nil, with(goodClaims(), "exp", testNow.Add(-6*time.Minute).Unix())), testNow)
		wantCode(t, err, "ExpiredTokenException", "Token expired")
	})
	t.Run("ErrNoExpiry", func(t *testing.T) {
		_, err := verify(s, idp.sign(t, "rsa1", nil, with(goodClaims(), "exp", nil)), testNow)
		wantCode(t, err, "InvalidIdentityToken", "exp")
	})
	t.Run("ErrNotYetValid", func(t *testing.T) {
		_, err := verify(s, idp.sign(t, "rsa1", nil, with(goodClaims(), "nbf", testNow.Add(6*time.Minute).Unix())), testNow)
		wantCode(t, err, "InvalidIdentityToken", "not valid yet")
	})
	t.Run("ErrIssuedInFuture", func(t *testing.T) {
		_, err := verify(s, idp.sign(t, "rsa1", nil, with(goodClaims(), "iat", testNow.Add(time.Hour).Unix())), testNow)
		wantCode(t, err, "InvalidIdentityToken", "issued in the future")
	})
	t.Run("ErrNoSubject", func(t *testing.T) {
		_, err := verify(s, idp.sign(t, "rsa1", nil, with(goodClaims(), "sub", nil)), testNow)
		wantCode(t, err, "InvalidIdentityToken", "sub")
	})
	t.Run("ErrBadSignature", func(t *testing.T) {
		// Signed by another key under a kid the issuer publishes.
		_, err := verify(s, idp.sign(t, "rsa1", other, goodClaims()), testNow)
		wantCode(t, err, "InvalidIdentityToken", "signature")
		// A tampered payload.
		good := idp.sign(t, "rsa1", nil, goodClaims())
		parts := strings.Split(good, ".")
		payload, _ := json.Marshal(with(goodClaims(), "sub", "admin"))
		parts[1] = base64.RawURLEncoding.EncodeToString(payload)
		_, err = verify(s, strings.Join(parts, "."), testNow)
		wantCode(t, err, "InvalidIdentityToken", "signature")
	})
	t.Run("ErrUnknownKid", func(t *testing.T) {
		_, err := verify(s, idp.sign(t, "nobody", other, goodClaims()), testNow.Add(time.Minute))
		wantCode(t, err, "InvalidIdentityToken", `kid "nobody"`)
	})
	t.Run("ErrAlgNone", func(t *testing.T) {
		enc := base64.RawURLEncoding.EncodeToString
		payload, _ := json.Marshal(goodClaims())
		raw := enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(payload) + "."
		_, err := verify(s, raw, testNow)
		wantCode(t, err, "InvalidIdentityToken", `"none"`)
	})
	t.Run("ErrHMAC", func(t *testing.T) {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := jwt.Signed(signer).Claims(goodClaims()).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		_, err = verify(s, raw, testNow)
		wantCode(t, err, "InvalidIdentityToken", `"HS256"`)
	})
	t.Run("ErrNotAJWT", func(t *testing.T) {
		_, err := verify(s, "not.a.jwt", testNow)
		wantCode(t, err, "InvalidIdentityToken", "not a signed JWT")
	})
}

func TestWebIdentityKeyCache(t *testing.T) {
	idp := newTestIdP(t)
	s := &Service{Keys: idp, KeyCacheTTL: 10 * time.Minute}
	now := testNow
	check := func(kid string, at time.Time, wantFetches int) {
		t.Helper()
		if _, err := verify(s, idp.sign(t, kid, nil, with(goodClaims(), "exp", at.Add(time.Hour).Unix())), at); err != nil {
			t.Fatalf("kid %s: %v", kid, err)
		}
		if got := idp.fetchCount(); got != wantFetches {
			t.Fatalf("kid %s: %d fetches, want %d", kid, got, wantFetches)
		}
	}
	check("rsa1", now, 1)
	check("ec1", now.Add(time.Second), 1) // cached

	// The issuer rotates: a token signed with a new key triggers one refetch (once the last
	// fetch is minKeyRefetch old), after which both keys are cached.
	idp.addKey(t, "ec2")
	now = now.Add(time.Minute)
	check("ec2", now, 2)
	check("ec2", now.Add(time.Second), 2)
	check("rsa1", now.Add(2*time.Second), 2)

	// A made-up kid right after a fetch does not make the server fetch again.
	_, err := verify(s, idp.sign(t, "made-up", idp.keys["ec1"], goodClaims()), now.Add(3*time.Second))
	wantCode(t, err, "InvalidIdentityToken", `kid "made-up"`)
	if got := idp.fetchCount(); got != 2 {
		t.Fatalf("%d fetches after an unknown kid within %v of a fetch, want 2", got, minKeyRefetch)
	}

	// After the TTL the keys are fetched again.
	check("rsa1", now.Add(11*time.Minute), 3)

	// A fetch that fails is IDPCommunicationError, and the stale keys are not used.
	idp.mu.Lock()
	idp.fail = errors.New("connection refused")
	idp.mu.Unlock()
	at := now.Add(30 * time.Minute)
	_, err = verify(s, idp.sign(t, "rsa1", nil, with(goodClaims(), "exp", at.Add(time.Hour).Unix())), at)
	wantCode(t, err, "IDPCommunicationError", "connection refused")
}

func TestWebIdentityKeyCacheBounded(t *testing.T) {
	s := &Service{Keys: fetcherFunc(func(context.Context, string) ([]byte, error) { return []byte(`{"keys":[]}`), nil })}
	for i := range maxCachedIssuers + 10 {
		s.tokenKeys(context.Background(), "https://issuer"+strconv.Itoa(i)+".example.com", "", testNow.Add(time.Duration(i)*time.Second))
	}
	if n := len(s.keys.issuers); n != maxCachedIssuers {
		t.Fatalf("%d issuers cached, want %d", n, maxCachedIssuers)
	}
	if _, ok := s.keys.issuers["https://issuer0.example.com"]; ok {
		t.Fatal("the oldest issuer was kept")
	}
}

type fetcherFunc func(context.Context, string) ([]byte, error)

func (f fetcherFunc) FetchKeys(ctx context.Context, issuer string) ([]byte, error) {
	return f(ctx, issuer)
}

func TestIssuerURL(t *testing.T) {
	for _, c := range []struct{ iss, url, scheme string }{
		{"https://Token.Actions.GitHubUserContent.com", "token.actions.githubusercontent.com", "https"},
		{"https://issuer.example.com/tenant/", "issuer.example.com/tenant", "https"},
		{"accounts.google.com", "accounts.google.com", ""},
		{"http://127.0.0.1:8080/x", "127.0.0.1:8080/x", "http"},
	} {
		url, scheme := issuerURL(c.iss)
		if url != c.url || scheme != c.scheme {
			t.Errorf("issuerURL(%q) = %q, %q; want %q, %q", c.iss, url, scheme, c.url, c.scheme)
		}
	}
}
