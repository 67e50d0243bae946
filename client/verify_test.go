package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// fixedClock is a Clock whose time only moves when set.
type fixedClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}
func (c *fixedClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
func (c *fixedClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// issuer is a key pair published in a JWKS, as a license issuer's.
type issuer struct {
	mu      sync.Mutex
	keys    []jose.JSONWebKey // published
	fetches atomic.Int64
	down    atomic.Bool
}

func (is *issuer) newKey(t *testing.T, kid string) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	is.mu.Lock()
	is.keys = append(is.keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"})
	is.mu.Unlock()
	return k
}

func (is *issuer) retire(kid string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	var keep []jose.JSONWebKey
	for _, k := range is.keys {
		if k.KeyID != kid {
			keep = append(keep, k)
		}
	}
	is.keys = keep
}

func (is *issuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	is.fetches.Add(1)
	if is.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	is.mu.Lock()
	defer is.mu.Unlock()
	json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: is.keys})
}

func sign(t *testing.T, k *ecdsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, (&jose.SignerOptions{}).WithHeader("kid", kid).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func tokenClaims(now time.Time) map[string]any {
	return map[string]any{"iss": testFingerprint, "sub": "222233334444", "jti": "tok-1", "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(time.Hour).Unix(), "licenseArn": "arn:aws:license-manager::444455556666:license:l-1", "productSKU": "DM-ENT",
		"productName": "DataMasque", "issuerName": "DataMasque", "checkoutType": "PROVISIONAL",
		"entitlements": []map[string]string{{"Name": "Seats", "Unit": "Count", "Value": "1"}}}
}

func TestVerifier(t *testing.T) {
	ctx := context.Background()
	is := &issuer{}
	srv := httptest.NewServer(is)
	defer srv.Close()
	start := time.Unix(1_800_000_000, 0)
	clock := &fixedClock{now: start}
	v, err := NewVerifier(VerifierConfig{JWKSURL: srv.URL, Issuer: testFingerprint, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	k1 := is.newKey(t, "k1")
	var k2 *ecdsa.PrivateKey
	good := sign(t, k1, "k1", tokenClaims(start))

	t.Run("OK", func(t *testing.T) {
		cl, err := v.Verify(ctx, good)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if cl.Issuer != testFingerprint || cl.ProductSKU != "DM-ENT" || cl.ID != "tok-1" || cl.KeyID != "k1" || !cl.Expiry.Equal(start.Add(time.Hour)) ||
			len(cl.Entitlements) != 1 || cl.Entitlements[0] != (Entitlement{Name: "Seats", Unit: "Count", Value: "1"}) {
			t.Errorf("claims = %+v", cl)
		}
		if _, err := v.Verify(ctx, good); err != nil || is.fetches.Load() != 1 {
			t.Errorf("second Verify: %v after %d fetches; want the cached keys", err, is.fetches.Load())
		}
	})
	t.Run("ErrTampered", func(t *testing.T) {
		parts := strings.Split(good, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		tampered := strings.Replace(string(payload), `"DM-ENT"`, `"DM-PRO"`, 1)
		_, err := v.Verify(ctx, parts[0]+"."+base64.RawURLEncoding.EncodeToString([]byte(tampered))+"."+parts[2])
		if !errors.Is(err, ErrTokenSignature) {
			t.Errorf("Verify(tampered) = %v, want ErrTokenSignature", err)
		}
	})
	t.Run("ErrMalformed", func(t *testing.T) {
		if _, err := v.Verify(ctx, "not.a.token"); !errors.Is(err, ErrTokenMalformed) {
			t.Errorf("Verify(garbage) = %v, want ErrTokenMalformed", err)
		}
	})
	t.Run("ErrIssuer", func(t *testing.T) {
		c := tokenClaims(start)
		c["iss"] = "aws:999999999999:Other:issuer-fingerprint"
		if _, err := v.Verify(ctx, sign(t, k1, "k1", c)); !errors.Is(err, ErrTokenIssuer) {
			t.Errorf("Verify(other issuer) = %v, want ErrTokenIssuer", err)
		}
	})
	t.Run("Skew", func(t *testing.T) {
		// Within the minute's leeway either side, then beyond it.
		ahead := sign(t, k1, "k1", tokenClaims(start.Add(50*time.Second)))
		if _, err := v.Verify(ctx, ahead); err != nil {
			t.Errorf("Verify(issued 50s ahead) = %v, want accepted within the leeway", err)
		}
		future := sign(t, k1, "k1", tokenClaims(start.Add(5*time.Minute)))
		if _, err := v.Verify(ctx, future); !errors.Is(err, ErrTokenNotYetValid) {
			t.Errorf("Verify(issued 5m ahead) = %v, want ErrTokenNotYetValid", err)
		}
	})
	t.Run("ErrExpired", func(t *testing.T) {
		later := &fixedClock{now: start.Add(time.Hour + 30*time.Second)}
		ev, _ := NewVerifier(VerifierConfig{JWKSURL: srv.URL, Clock: later})
		if _, err := ev.Verify(ctx, good); err != nil {
			t.Errorf("Verify 30s after exp = %v, want accepted within the leeway", err)
		}
		later.add(time.Minute)
		if _, err := ev.Verify(ctx, good); !errors.Is(err, ErrTokenExpired) {
			t.Errorf("Verify 90s after exp = %v, want ErrTokenExpired", err)
		}
	})
	t.Run("Rotation", func(t *testing.T) {
		// A token of a new key makes the verifier fetch again, at most every MinRefetch.
		k2 = is.newKey(t, "k2")
		fresh := sign(t, k2, "k2", tokenClaims(start))
		before := is.fetches.Load()
		if _, err := v.Verify(ctx, fresh); !errors.Is(err, ErrTokenUnknownKey) || is.fetches.Load() != before {
			t.Errorf("Verify(new kid) right after a fetch = %v, %d fetches; want ErrTokenUnknownKey without a fetch", err, is.fetches.Load()-before)
		}
		clock.add(16 * time.Second)
		if _, err := v.Verify(ctx, fresh); err != nil || is.fetches.Load() != before+1 {
			t.Errorf("Verify(new kid) after MinRefetch = %v with %d fetches; want it verified after one fetch", err, is.fetches.Load()-before)
		}
		// The retired key's tokens fail once the set is fetched again.
		is.retire("k1")
		clock.add(16 * time.Second)
		old := sign(t, k1, "k1", tokenClaims(start))
		if _, err := v.Verify(ctx, old); err != nil {
			t.Errorf("Verify(k1 token) with the cached set = %v; the cache still has k1", err)
		}
		clock.add(time.Hour)
		c := tokenClaims(clock.Now())
		if _, err := v.Verify(ctx, sign(t, k1, "k1", c)); !errors.Is(err, ErrTokenUnknownKey) {
			t.Errorf("Verify(retired key) after the cache expired = %v, want ErrTokenUnknownKey", err)
		}
	})
	t.Run("Offline", func(t *testing.T) {
		// Keys already fetched stay in use when the JWKS cannot be reached.
		is.down.Store(true)
		defer is.down.Store(false)
		clock.add(2 * time.Hour)
		tok := sign(t, k2, "k2", tokenClaims(clock.Now()))
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Errorf("Verify with the JWKS down = %v, want the cached keys used", err)
		}
		cold, _ := NewVerifier(VerifierConfig{JWKSURL: srv.URL})
		if _, err := cold.Verify(ctx, tok); !errors.Is(err, ErrKeysUnavailable) {
			t.Errorf("Verify with no keys and the JWKS down = %v, want ErrKeysUnavailable", err)
		}
	})
}
