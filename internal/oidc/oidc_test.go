package oidc

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// issuer serves a discovery document naming issuer (its own URL when ""), and a key set.
func issuer(t *testing.T, name string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		iss := name
		if iss == "" {
			iss = srv.URL
		}
		w.Write([]byte(`{"issuer":"` + iss + `","jwks_uri":"` + srv.URL + `/keys"}`))
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"keys":[]}`)) })
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestOIDCFetchKeys(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		srv := issuer(t, "")
		got, err := NewFetcher(true).FetchKeys(ctx, srv.URL+"/")
		if err != nil || string(got) != `{"keys":[]}` {
			t.Fatalf("got %q, %v", got, err)
		}
	})
	t.Run("ErrHTTPNotAllowed", func(t *testing.T) {
		srv := issuer(t, "")
		_, err := NewFetcher(false).FetchKeys(ctx, srv.URL)
		if err == nil || !strings.Contains(err.Error(), "not https://") {
			t.Fatalf("got %v, want a refusal of http://", err)
		}
	})
	t.Run("ErrIssuerMismatch", func(t *testing.T) {
		srv := issuer(t, "https://someone-else.example.com")
		_, err := NewFetcher(true).FetchKeys(ctx, srv.URL)
		if err == nil || !strings.Contains(err.Error(), "names issuer") {
			t.Fatalf("got %v, want an issuer mismatch", err)
		}
	})
	t.Run("ErrStatus", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		defer srv.Close()
		_, err := NewFetcher(true).FetchKeys(ctx, srv.URL)
		if err == nil || !strings.Contains(err.Error(), "404") {
			t.Fatalf("got %v, want a 404", err)
		}
	})
	t.Run("ErrUnreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		if _, err := NewFetcher(true).FetchKeys(ctx, srv.URL); err == nil {
			t.Fatal("no error from a closed server")
		}
	})
}
