// Package oidc fetches OpenID Connect issuers' signing keys over HTTP: the discovery document
// ISSUER/.well-known/openid-configuration, then the JSON Web Key Set at its jwks_uri. It
// checks nothing in the keys; package sts parses, caches and uses them.
package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of a Fetcher.
const (
	DefaultTimeout  = 10 * time.Second // a whole fetch: discovery and key set
	DefaultMaxBytes = 1 << 20          // of each document
)

// Fetcher fetches issuers' key sets. Safe for concurrent use; make one with NewFetcher.
type Fetcher struct {
	client    *http.Client
	allowHTTP bool
	maxBytes  int64
}

// NewFetcher returns a fetcher with its own HTTP client: a timeout of DefaultTimeout per
// fetch, shorter ones for connecting, TLS and response headers, and at most three redirects.
// With allowHTTP, issuers and jwks_uri may be http:// URLs (for tests against an issuer on
// loopback); otherwise only https:// is fetched, redirects included.
func NewFetcher(allowHTTP bool) *Fetcher {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 5 * time.Second
	t.ResponseHeaderTimeout = 5 * time.Second
	t.MaxIdleConnsPerHost = 2
	f := &Fetcher{allowHTTP: allowHTTP, maxBytes: DefaultMaxBytes}
	f.client = &http.Client{
		Transport: t,
		Timeout:   DefaultTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			return f.checkScheme(req.URL)
		},
	}
	return f
}

func (f *Fetcher) checkScheme(u *url.URL) error {
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && f.allowHTTP:
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("%s is not https:// (this server does not allow http:// issuers)", u.Redacted())
	}
	return fmt.Errorf("%s is not an https:// URL", u.Redacted())
}

// FetchKeys returns the JSON Web Key Set document of issuer (a URL with its scheme): it
// reads ISSUER/.well-known/openid-configuration, checks that its issuer is issuer, and reads
// the document at its jwks_uri.
func (f *Fetcher) FetchKeys(ctx context.Context, issuer string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	iss := strings.TrimRight(issuer, "/")
	disco, err := f.get(ctx, iss+"/.well-known/openid-configuration")
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	var cfg struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(disco, &cfg); err != nil {
		return nil, fmt.Errorf("discovery: not JSON: %w", err)
	}
	if strings.TrimRight(cfg.Issuer, "/") != iss {
		return nil, fmt.Errorf("discovery: the document names issuer %q, not %q", cfg.Issuer, issuer)
	}
	if cfg.JWKSURI == "" {
		return nil, errors.New("discovery: the document has no jwks_uri")
	}
	keys, err := f.get(ctx, cfg.JWKSURI)
	if err != nil {
		return nil, fmt.Errorf("jwks_uri: %w", err)
	}
	return keys, nil
}

// get reads a document of at most maxBytes with status 200.
func (f *Fetcher) get(ctx context.Context, rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if err := f.checkScheme(u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u.Redacted(), resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u.Redacted(), err)
	}
	if int64(len(b)) > f.maxBytes {
		return nil, fmt.Errorf("GET %s: the document is larger than %d bytes", u.Redacted(), f.maxBytes)
	}
	return b, nil
}
