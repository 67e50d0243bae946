package sts

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/store"
)

// KeyFetcher fetches the signing keys of OpenID Connect issuers. The server's implementation
// speaks HTTP; tests give their own.
type KeyFetcher interface {
	// FetchKeys returns the JSON Web Key Set document that issuer (a URL with its scheme)
	// publishes at the jwks_uri of its discovery document,
	// ISSUER/.well-known/openid-configuration.
	FetchKeys(ctx context.Context, issuer string) ([]byte, error)
}

// Web identity token checks.
const (
	// TokenClockSkew is how far exp, nbf and iat may be off the server's clock.
	TokenClockSkew = 5 * time.Minute
	// DefaultKeyCacheTTL is how long an issuer's keys are used before they are fetched again.
	DefaultKeyCacheTTL = 10 * time.Minute
	// minKeyRefetch is the least time between two fetches of one issuer's keys prompted by
	// tokens signed with a key the cache does not know (a rotation), so that tokens naming
	// made-up key IDs cannot make the server hammer the issuer.
	minKeyRefetch = 15 * time.Second
	// maxCachedIssuers bounds the key cache; past it the oldest issuer is dropped.
	maxCachedIssuers = 256
)

// tokenAlgorithms are the signature algorithms accepted in web identity tokens: asymmetric
// only (never "none" or HMAC, whose secret the issuer would have to share).
var tokenAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// webToken is a verified web identity token.
type webToken struct {
	Issuer         string   // iss as the token has it
	Subject        string   // sub
	Audience       string   // the client ID of the provider the token was issued to
	AMR            []string // amr: authentication methods
	SourceIdentity string   // the https://aws.amazon.com/source_identity claim, if any
	Expiry         time.Time
}

// invalidToken returns InvalidIdentityToken with a reason.
func invalidToken(format string, args ...any) error {
	return awserr.New("InvalidIdentityToken", format, args...)
}

// parseWebToken parses a compact JWS and returns it with its unverified issuer.
func parseWebToken(raw string) (*jwt.JSONWebToken, string, error) {
	tok, err := jwt.ParseSigned(raw, tokenAlgorithms)
	if err != nil {
		if strings.Contains(err.Error(), "unexpected signature algorithm") {
			alg := ""
			if h, ok := tokenHeader(raw); ok {
				alg = h
			}
			return nil, "", invalidToken("The web identity token is signed with algorithm %q, which is not accepted (use RS256, ES256 or another asymmetric algorithm).", alg)
		}
		return nil, "", invalidToken("The web identity token is not a signed JWT: %v.", err)
	}
	if len(tok.Headers) != 1 {
		return nil, "", invalidToken("The web identity token must have exactly one signature.")
	}
	var c jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return nil, "", invalidToken("The web identity token's claims cannot be read: %v.", err)
	}
	if c.Issuer == "" {
		return nil, "", invalidToken("The web identity token has no issuer (iss).")
	}
	return tok, c.Issuer, nil
}

// tokenHeader returns the alg of a compact JWS's header without verifying anything.
func tokenHeader(raw string) (string, bool) {
	head, _, ok := strings.Cut(raw, ".")
	if !ok {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(head, "="))
	if err != nil {
		return "", false
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(b, &h) != nil {
		return "", false
	}
	return h.Alg, true
}

// issuerURL returns an iss claim as a provider URL is stored: host and path without the
// scheme and trailing slash, the host lower-cased; and the scheme ("" when iss has none, as
// some issuers write it).
func issuerURL(iss string) (url, scheme string) {
	scheme, rest, ok := strings.Cut(iss, "://")
	if !ok {
		scheme, rest = "", iss
	}
	host, path, _ := strings.Cut(rest, "/")
	url = strings.ToLower(host)
	if path = strings.TrimRight(path, "/"); path != "" {
		url += "/" + path
	}
	return url, strings.ToLower(scheme)
}

// verifyWebToken checks tok (issued by iss) against the provider p: the signature with the
// issuer's keys, the audience against p's client IDs, and the times. now is the request time.
func (s *Service) verifyWebToken(ctx context.Context, tok *jwt.JSONWebToken, p *store.OIDCProvider, now time.Time) (*webToken, error) {
	kid := tok.Headers[0].KeyID
	keys, err := s.tokenKeys(ctx, p.Issuer, kid, now)
	if err != nil {
		return nil, err
	}
	var claims jwt.Claims
	var extra map[string]any
	verified := false
	for _, k := range keys {
		if err := tok.Claims(k.Key, &claims, &extra); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, invalidToken("The web identity token's signature does not verify with the keys of %s.", p.Issuer)
	}
	if claims.Subject == "" {
		return nil, invalidToken("The web identity token has no subject (sub).")
	}
	if claims.Expiry == nil {
		return nil, invalidToken("The web identity token has no expiration time (exp).")
	}
	exp := claims.Expiry.Time().UTC()
	if now.After(exp.Add(TokenClockSkew)) {
		return nil, awserr.New("ExpiredTokenException", "Token expired: current date/time %s must be before the expiration date/time %s",
			now.UTC().Format(time.RFC3339), exp.Format(time.RFC3339))
	}
	if claims.NotBefore != nil && claims.NotBefore.Time().After(now.Add(TokenClockSkew)) {
		return nil, invalidToken("The web identity token is not valid yet: its nbf is %s.", claims.NotBefore.Time().UTC().Format(time.RFC3339))
	}
	if claims.IssuedAt != nil && claims.IssuedAt.Time().After(now.Add(TokenClockSkew)) {
		return nil, invalidToken("The web identity token was issued in the future: its iat is %s.", claims.IssuedAt.Time().UTC().Format(time.RFC3339))
	}
	aud := ""
	for _, a := range claims.Audience {
		for _, id := range p.ClientIDs {
			if a == id {
				aud = a
				break
			}
		}
		if aud != "" {
			break
		}
	}
	if aud == "" {
		return nil, invalidToken("Incorrect token audience: none of %q is a client ID of the OpenID Connect provider %s.", []string(claims.Audience), p.ARN)
	}
	t := &webToken{Issuer: claims.Issuer, Subject: claims.Subject, Audience: aud, Expiry: exp}
	switch amr := extra["amr"].(type) {
	case string:
		t.AMR = []string{amr}
	case []any:
		for _, v := range amr {
			if s, ok := v.(string); ok {
				t.AMR = append(t.AMR, s)
			}
		}
	}
	if si, ok := extra["https://aws.amazon.com/source_identity"].(string); ok {
		t.SourceIdentity = si
	}
	return t, nil
}

// keyCache keeps issuers' signing keys: each issuer's set for KeyCacheTTL, at most
// maxCachedIssuers issuers. The zero value is an empty cache. Safe for concurrent use.
type keyCache struct {
	mu      sync.Mutex
	issuers map[string]*issuerKeys
}

type issuerKeys struct {
	keys    []jose.JSONWebKey
	fetched time.Time
}

func (s *Service) keyTTL() time.Duration {
	if s.KeyCacheTTL > 0 {
		return s.KeyCacheTTL
	}
	return DefaultKeyCacheTTL
}

// tokenKeys returns the keys of issuer that may have signed a token with key ID kid (every
// key when kid is ""): from the cache while it is fresh and knows kid, else fetched. A kid the
// fetched set lacks is InvalidIdentityToken; a failed fetch IDPCommunicationError.
func (s *Service) tokenKeys(ctx context.Context, issuer, kid string, now time.Time) ([]jose.JSONWebKey, error) {
	c := &s.keys
	c.mu.Lock()
	e := c.issuers[issuer]
	c.mu.Unlock()

	fresh := e != nil && now.Sub(e.fetched) < s.keyTTL()
	if fresh {
		if ks := matchKeys(e.keys, kid); len(ks) > 0 {
			return ks, nil
		}
		if now.Sub(e.fetched) < minKeyRefetch {
			return nil, unknownKey(issuer, kid)
		}
	}
	keys, err := s.fetchKeys(ctx, issuer)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.issuers == nil {
		c.issuers = make(map[string]*issuerKeys)
	}
	if _, ok := c.issuers[issuer]; !ok && len(c.issuers) >= maxCachedIssuers {
		oldest := ""
		for iss, ie := range c.issuers {
			if oldest == "" || ie.fetched.Before(c.issuers[oldest].fetched) {
				oldest = iss
			}
		}
		delete(c.issuers, oldest)
	}
	c.issuers[issuer] = &issuerKeys{keys: keys, fetched: now}
	c.mu.Unlock()
	if ks := matchKeys(keys, kid); len(ks) > 0 {
		return ks, nil
	}
	return nil, unknownKey(issuer, kid)
}

func unknownKey(issuer, kid string) error {
	if kid == "" {
		return invalidToken("The issuer %s publishes no signing key for the web identity token.", issuer)
	}
	return invalidToken("The web identity token's signing key (kid %q) is not among the keys %s publishes.", kid, issuer)
}

// matchKeys returns the signature keys of a set with the given key ID (all when kid is "").
func matchKeys(keys []jose.JSONWebKey, kid string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range keys {
		if kid == "" || k.KeyID == kid {
			out = append(out, k)
		}
	}
	return out
}

// fetchKeys fetches and parses an issuer's key set, keeping the public signature keys it can
// read and skipping the others (encryption keys, unknown key types).
func (s *Service) fetchKeys(ctx context.Context, issuer string) ([]jose.JSONWebKey, error) {
	if s.Keys == nil {
		return nil, awserr.New("IDPCommunicationError", "Couldn't retrieve verification key from your identity provider: this server fetches no OpenID Connect keys.")
	}
	doc, err := s.Keys.FetchKeys(ctx, issuer)
	if err != nil {
		return nil, awserr.New("IDPCommunicationError", "Couldn't retrieve verification key from your identity provider %s: %v", issuer, err)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		return nil, awserr.New("IDPCommunicationError", "Couldn't retrieve verification key from your identity provider %s: the key set is not JSON: %v", issuer, err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil || !k.Valid() || !k.IsPublic() || k.Use == "enc" {
			continue
		}
		keys = append(keys, k)
	}
	return keys, nil
}
