// Package server is Allot's HTTP front: middleware, SigV4 authentication, protocol dispatch,
// authorisation and auditing of every API call, health and metrics endpoints.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/allot-dev/allot/internal/authz"
	"github.com/allot-dev/allot/internal/sigv4"
	"github.com/allot-dev/allot/internal/store"
)

// DefaultMaxBodyBytes is the default limit on request bodies.
const DefaultMaxBodyBytes = 1 << 20

// Config tunes the server. The zero value is usable.
type Config struct {
	MaxBodyBytes int64            // request body limit; DefaultMaxBodyBytes when 0
	AccessLog    bool             // log one line per API request
	Logger       *slog.Logger     // slog.Default() when nil
	Now          func() time.Time // time.Now when nil
	// Authorizer decides whether a call is allowed; required.
	Authorizer Authorizer
}

// Authorizer decides whether a call is allowed. It returns nil to allow and an error (an
// *awserr.Error with code AccessDenied naming the cause) to deny.
type Authorizer interface {
	Authorize(ctx context.Context, r *authz.Request) error
}

// Server serves every Allot API on one handler. Safe for concurrent use.
type Server struct {
	cfg      Config
	log      *slog.Logger
	db       *store.DB
	verifier *sigv4.Verifier
	keys     *store.Cache[string, *keyInfo] // access keys (keys.go)
	byTarget map[string]*Service            // JSON services by X-Amz-Target prefix
	bySigner map[string]*Service            // Query services by credential-scope service
	metrics  *metrics
	jwks     func(context.Context) ([]byte, error) // the issuers' public keys; nil: none
	draining atomic.Bool
}

// New returns a server over db exposing svcs.
func New(db *store.DB, svcs Services, cfg Config) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		db:       db,
		byTarget: map[string]*Service{},
		bySigner: map[string]*Service{},
		metrics:  newMetrics(),
	}
	if svcs.LicenseManager != nil {
		s.jwks = svcs.LicenseManager.JWKS
	}
	s.keys = newKeyCache(db)
	if db != nil {
		s.metrics.registerStore(db)
	}
	s.verifier = sigv4.NewVerifier(s.lookupKey, cfg.Now, 5*time.Minute)
	for _, svc := range services(svcs) {
		switch svc.Protocol {
		case ProtocolJSON:
			s.byTarget[svc.TargetPrefix] = svc
			for _, alias := range svc.TargetAliases {
				s.byTarget[alias] = svc
			}
		case ProtocolQuery, ProtocolEC2:
			s.bySigner[svc.SigningName] = svc
		}
	}
	return s
}

// Handler returns the HTTP handler: /healthz, /metrics, the license issuers' public keys at
// /.well-known/jwks.json (all three unauthenticated) and the AWS APIs on every other path.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("GET /.well-known/jwks.json", s.serveJWKS)
	mux.HandleFunc("/", s.serveAPI)
	return recoverPanics(s.log, mux)
}

// Serve accepts connections on ln until ctx is cancelled, then stops accepting, waits up to
// drain for in-flight requests and returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener, drain time.Duration) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("server: drain: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("draining\n"))
		return
	}
	w.Write([]byte("ok\n"))
}

// serveJWKS serves the JSON Web Key Set of every license issuer's public keys.
func (s *Server) serveJWKS(w http.ResponseWriter, r *http.Request) {
	body := []byte(`{"keys":[]}`)
	if s.jwks != nil {
		var err error
		if body, err = s.jwks(r.Context()); err != nil {
			s.log.Error("jwks", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Write(body)
}

func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
