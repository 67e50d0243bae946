package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The errors of Verify, which wraps them with details; test for them with errors.Is.
var (
	ErrTokenMalformed   = errors.New("client: token is not a signed JWT (ES256 or PS384)")
	ErrTokenSignature   = errors.New("client: token signature does not verify: it was altered, or signed by another key")
	ErrTokenUnknownKey  = errors.New("client: token is signed by a key the issuer does not publish (retired, or not the issuer's)")
	ErrTokenExpired     = errors.New("client: token has expired")
	ErrTokenNotYetValid = errors.New("client: token is not valid yet")
	ErrTokenIssuer      = errors.New("client: token is not for this issuer or product")
	ErrKeysUnavailable  = errors.New("client: the issuer's public keys (JWKS) cannot be fetched")
)

// VerifierConfig configures a Verifier. JWKSURL is needed; the rest have defaults.
type VerifierConfig struct {
	// JWKSURL is where the issuers' public keys are published: for Allot,
	// <endpoint>/.well-known/jwks.json.
	JWKSURL string
	// HTTPClient fetches the keys; default http.DefaultClient with a 10-second timeout.
	HTTPClient *http.Client
	// Issuer, when set, is the only iss accepted: the issuer's key fingerprint,
	// aws:<account>:<issuer>:issuer-fingerprint.
	Issuer string
	// Leeway is the clock skew allowed on exp, nbf and iat; default one minute.
	Leeway time.Duration
	// CacheFor is how long fetched keys are used before they are fetched again; default an
	// hour. When the fetch fails the keys already fetched stay in use (offline operation).
	CacheFor time.Duration
	// MinRefetch is the least time between two fetches caused by unknown key IDs (a key
	// rotation); default 15 seconds.
	MinRefetch time.Duration
	// Clock replaces the system clock, for tests of expiry.
	Clock Clock
}

// Verifier verifies checkouts' signed tokens offline, with the issuers' public keys fetched
// from a JWKS URL and cached; a token signed by a key it has not seen makes it fetch the
// keys again (a rotation), at most every MinRefetch. It is safe for concurrent use; make one
// with NewVerifier.
type Verifier struct {
	cfg   VerifierConfig
	clock Clock

	mu        sync.Mutex
	set       *jose.JSONWebKeySet
	fetchedAt time.Time
}

// NewVerifier returns a Verifier for cfg. It fetches nothing until the first Verify.
func NewVerifier(cfg VerifierConfig) (*Verifier, error) {
	if cfg.JWKSURL == "" {
		return nil, errors.New("client: VerifierConfig.JWKSURL is empty: for Allot, <endpoint>/.well-known/jwks.json")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Leeway <= 0 {
		cfg.Leeway = time.Minute
	}
	if cfg.CacheFor <= 0 {
		cfg.CacheFor = time.Hour
	}
	if cfg.MinRefetch <= 0 {
		cfg.MinRefetch = 15 * time.Second
	}
	return &Verifier{cfg: cfg, clock: clockOr(cfg.Clock)}, nil
}

// Claims are a verified token's claims (see docs/licenses.md, "Signed tokens").
type Claims struct {
	Issuer       string // iss: the issuer's key fingerprint
	Subject      string // sub: the beneficiary
	ID           string // jti: the LicenseConsumptionToken
	KeyID        string // the signing key's kid
	IssuedAt     time.Time
	NotBefore    time.Time
	Expiry       time.Time // zero for a perpetual checkout of a license without an end
	LicenseARN   string
	ProductSKU   string
	ProductName  string
	IssuerName   string
	CheckoutType string
	NodeID       string
	Entitlements []Entitlement
}

type rawClaims struct {
	Iss          string        `json:"iss"`
	Sub          string        `json:"sub"`
	Jti          string        `json:"jti"`
	Iat          *json.Number  `json:"iat"`
	Nbf          *json.Number  `json:"nbf"`
	Exp          *json.Number  `json:"exp"`
	LicenseARN   string        `json:"licenseArn"`
	ProductSKU   string        `json:"productSKU"`
	ProductName  string        `json:"productName"`
	IssuerName   string        `json:"issuerName"`
	CheckoutType string        `json:"checkoutType"`
	NodeID       string        `json:"nodeId"`
	Entitlements []Entitlement `json:"entitlements"`
}

func unix(n *json.Number) time.Time {
	if n == nil {
		return time.Time{}
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}
	}
	return time.Unix(int64(f), 0)
}

func (r *rawClaims) claims() *Claims {
	return &Claims{Issuer: r.Iss, Subject: r.Sub, ID: r.Jti, IssuedAt: unix(r.Iat), NotBefore: unix(r.Nbf), Expiry: unix(r.Exp),
		LicenseARN: r.LicenseARN, ProductSKU: r.ProductSKU, ProductName: r.ProductName, IssuerName: r.IssuerName,
		CheckoutType: r.CheckoutType, NodeID: r.NodeID, Entitlements: r.Entitlements}
}

// Verify checks a signed token offline: its signature with the issuer's published key named
// by its kid, then its times (with the Leeway) and, when configured, its issuer. It returns
// the claims, or an error wrapping ErrTokenMalformed, ErrTokenSignature,
// ErrTokenUnknownKey, ErrTokenExpired, ErrTokenNotYetValid, ErrTokenIssuer or
// ErrKeysUnavailable. A token extended by ExtendLicenseConsumption keeps its first exp (the
// server does not sign it again), so verify a token when it is checked out.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.PS384})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokenMalformed, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: %d signatures", ErrTokenMalformed, len(jws.Signatures))
	}
	h := jws.Signatures[0].Protected
	key, err := v.key(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	if key.Algorithm != "" && key.Algorithm != h.Algorithm {
		return nil, fmt.Errorf("%w: signed with %s, but key %s is for %s", ErrTokenSignature, h.Algorithm, h.KeyID, key.Algorithm)
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return nil, fmt.Errorf("%w (key %s)", ErrTokenSignature, h.KeyID)
	}
	var raw rawClaims
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrTokenMalformed, err)
	}
	cl := raw.claims()
	cl.KeyID = h.KeyID
	now, leeway := v.clock.Now(), v.cfg.Leeway
	switch {
	case !cl.Expiry.IsZero() && now.After(cl.Expiry.Add(leeway)):
		return nil, fmt.Errorf("%w: it expired at %s", ErrTokenExpired, cl.Expiry.UTC().Format(time.RFC3339))
	case !cl.NotBefore.IsZero() && now.Add(leeway).Before(cl.NotBefore):
		return nil, fmt.Errorf("%w: it is valid from %s", ErrTokenNotYetValid, cl.NotBefore.UTC().Format(time.RFC3339))
	case !cl.IssuedAt.IsZero() && now.Add(leeway).Before(cl.IssuedAt):
		return nil, fmt.Errorf("%w: it was issued in the future, at %s", ErrTokenNotYetValid, cl.IssuedAt.UTC().Format(time.RFC3339))
	case v.cfg.Issuer != "" && cl.Issuer != v.cfg.Issuer:
		return nil, fmt.Errorf("%w: issued by %q, want %q", ErrTokenIssuer, cl.Issuer, v.cfg.Issuer)
	}
	return cl, nil
}

// key returns the published key kid, fetching the set when the cache is stale or lacks kid.
func (v *Verifier) key(ctx context.Context, kid string) (*jose.JSONWebKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.clock.Now()
	stale := v.set == nil || now.Sub(v.fetchedAt) >= v.cfg.CacheFor
	if !stale {
		if k := find(v.set, kid); k != nil {
			return k, nil
		}
	}
	if stale || now.Sub(v.fetchedAt) >= v.cfg.MinRefetch {
		set, err := v.fetch(ctx)
		switch {
		case err == nil:
			v.set, v.fetchedAt = set, now
		case v.set == nil:
			return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
		}
	}
	if k := find(v.set, kid); k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: no key %q in %s", ErrTokenUnknownKey, kid, v.cfg.JWKSURL)
}

func find(set *jose.JSONWebKeySet, kid string) *jose.JSONWebKey {
	if set == nil || kid == "" {
		return nil
	}
	if ks := set.Key(kid); len(ks) > 0 {
		return &ks[0]
	}
	return nil
}

func (v *Verifier) fetch(ctx context.Context) (*jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", v.cfg.JWKSURL, resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("GET %s: not a JSON Web Key Set: %w", v.cfg.JWKSURL, err)
	}
	return &set, nil
}
