// Command licensed-product is a reference licensed product: a small HTTP service that uses
// the client package to check out its license at start-up, serves only while it holds it,
// shows a license status page, and checks the license in when it stops (SIGTERM or
// SIGINT). It works against AWS License Manager or an Allot server.
//
//	licensed-product --endpoint-url http://127.0.0.1:7373 --mode assume-role \
//	    --role-arn arn:aws:iam::111122223333:role/DataMasqueLicenseRole \
//	    --product-sku DM-ENT --key-fingerprint aws:444455556666:DataMasque:issuer-fingerprint
//
// Its own credentials come from the usual AWS chain (environment, profile, instance role).
// Pages: / (the product: 503 unless licensed), /license (the status page), /license.json
// (the same for scripts), /healthz.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/allot-dev/allot/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(ctx, os.Args[1:], log); err != nil {
		log.Error("licensed-product stopped", "err", err)
		os.Exit(1)
	}
}

type options struct {
	listen, endpoint, region, mode, roleARN, sku, fingerprint, entitlement, jwksURL, grace string
	gracePeriod, extendBefore, retry                                                       time.Duration
	wait                                                                                   bool
}

func run(ctx context.Context, args []string, log *slog.Logger) error {
	var o options
	fs := flag.NewFlagSet("licensed-product", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to serve on")
	fs.StringVar(&o.endpoint, "endpoint-url", "", "License Manager and STS endpoint (Allot: http://127.0.0.1:7373); default AWS's")
	fs.StringVar(&o.region, "region", "us-east-1", "region")
	fs.StringVar(&o.mode, "mode", "same-account", "same-account, assume-role or grants")
	fs.StringVar(&o.roleARN, "role-arn", "", "billing account role to assume (assume-role mode)")
	fs.StringVar(&o.sku, "product-sku", "", "product SKU to check out")
	fs.StringVar(&o.fingerprint, "key-fingerprint", "", "the issuer's key fingerprint")
	fs.StringVar(&o.entitlement, "entitlement", "Seats", "counted entitlement to check out one unit of")
	fs.StringVar(&o.jwksURL, "jwks-url", "", "verify each checkout's signed token with this JWKS (Allot: ENDPOINT/.well-known/jwks.json)")
	fs.StringVar(&o.grace, "grace", "stop", "when the server cannot be reached at expiry: stop, warn or continue (for --grace-period)")
	fs.DurationVar(&o.gracePeriod, "grace-period", 30*time.Minute, "how long --grace continue keeps running")
	fs.DurationVar(&o.extendBefore, "extend-before", 0, "extend this long before the checkout expires (default half its lifetime)")
	fs.BoolVar(&o.wait, "wait-for-seat", false, "when every seat is in use, keep trying instead of exiting")
	fs.DurationVar(&o.retry, "retry-interval", 30*time.Second, "how often --wait-for-seat tries again")
	if err := fs.Parse(args); err != nil {
		return err
	}
	mode, err := client.ParseMode(o.mode)
	if err != nil {
		return err
	}
	grace := map[string]client.GracePolicy{"stop": client.GraceStop, "warn": client.GraceWarn, "continue": client.GraceContinue}
	g, ok := grace[o.grace]
	if !ok {
		return fmt.Errorf("--grace %q: want stop, warn or continue", o.grace)
	}

	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(o.region))
	if err != nil {
		return err
	}
	if o.endpoint != "" {
		awsCfg.BaseEndpoint = aws.String(o.endpoint)
	}
	p := &product{log: log}
	cfg := client.Config{
		AWS: awsCfg, Mode: mode, RoleARN: o.roleARN, ProductSKU: o.sku, KeyFingerprint: o.fingerprint,
		Entitlements: []client.Entitlement{{Name: o.entitlement, Value: "1"}},
		ExtendBefore: o.extendBefore, Grace: g, GracePeriod: o.gracePeriod,
		OnEvent: p.event, Logger: log,
	}
	if o.jwksURL != "" {
		if cfg.Verifier, err = client.NewVerifier(client.VerifierConfig{JWKSURL: o.jwksURL, Issuer: o.fingerprint}); err != nil {
			return err
		}
	}
	c, err := client.New(cfg) // refuses an invalid role ARN before any call
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: p.routes(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	log.Info("licensed-product listening", "addr", ln.Addr().String())

	// Check out, or wait for a seat when asked to.
	for {
		lease, err := c.Checkout(ctx)
		if err == nil {
			p.setLease(lease)
			break
		}
		p.setError(err)
		var none *client.NoEntitlementsError
		if !o.wait || !errors.As(err, &none) {
			srv.Close()
			return err // the message says the cause and the fix
		}
		log.Warn("waiting for a seat", "err", err, "retry_in", o.retry)
		select {
		case <-ctx.Done():
			return srv.Close()
		case <-time.After(o.retry):
		}
	}
	log.Info("licensed: serving")

	<-ctx.Done()
	// Stop serving first, then give the seat back.
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	if err := p.lease().Close(shutdown); err != nil {
		return fmt.Errorf("check in: %w", err)
	}
	log.Info("checked in; bye")
	return nil
}

// product is the licensed service's state.
type product struct {
	log        *slog.Logger
	mu         sync.Mutex
	l          *client.Lease
	lastErr    error
	extensions int
}

func (p *product) setLease(l *client.Lease) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.l, p.lastErr = l, nil
}

func (p *product) setError(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastErr = err
}

func (p *product) lease() *client.Lease {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.l
}

func (p *product) event(ev client.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ev.Type == client.EventExtended {
		p.extensions++
	}
	if ev.Err != nil {
		p.lastErr = ev.Err
	}
}

func (p *product) licensed() bool {
	l := p.lease()
	return l != nil && l.Licensed()
}

func (p *product) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if !p.licensed() {
			http.Error(w, "This product is not licensed: see /license.", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Hello from a licensed product.")
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /license.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(p.status(r.Context()))
	})
	mux.HandleFunc("GET /license", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := statusPage.Execute(w, p.status(r.Context())); err != nil {
			p.log.Error("status page", "err", err)
		}
	})
	return mux
}

// status is the status page's content.
type status struct {
	Licensed     bool         `json:"licensed"`
	State        string       `json:"state"`
	ProductName  string       `json:"productName,omitempty"`
	ProductSKU   string       `json:"productSku,omitempty"`
	LicenseARN   string       `json:"licenseArn,omitempty"`
	ContractEnd  string       `json:"contractEnd,omitempty"`
	Expiration   string       `json:"expiration,omitempty"`
	Extensions   int          `json:"extensions"`
	Entitlements []usage      `json:"entitlements,omitempty"`
	Unavailable  []string     `json:"unavailable,omitempty"`
	Problem      *explanation `json:"problem,omitempty"`
}

type usage struct {
	Name      string `json:"name"`
	Consumed  int64  `json:"consumed"`
	Max       int64  `json:"max"`
	Available int64  `json:"available"`
}

type explanation struct {
	Error string `json:"error"`
	Cause string `json:"cause,omitempty"`
	Fix   string `json:"fix,omitempty"`
}

func (p *product) status(ctx context.Context) status {
	p.mu.Lock()
	l, lastErr, ext := p.l, p.lastErr, p.extensions
	p.mu.Unlock()
	st := status{State: "not checked out", Extensions: ext}
	if l != nil {
		s := l.Status(ctx)
		st.Licensed, st.State = s.State.Licensed(), s.State.String()
		st.ProductName, st.ProductSKU, st.LicenseARN = s.ProductName, s.ProductSKU, s.LicenseARN
		if !s.End.IsZero() {
			st.ContractEnd = s.End.UTC().Format(time.RFC3339)
		}
		if !s.Expiration.IsZero() {
			st.Expiration = s.Expiration.UTC().Format(time.RFC3339)
		}
		for _, u := range s.Entitlements {
			st.Entitlements = append(st.Entitlements, usage{Name: u.Name, Consumed: u.Consumed, Max: u.Max, Available: u.Available()})
		}
		for _, u := range s.Unavailable {
			st.Unavailable = append(st.Unavailable, u.Lost+" (needs "+u.Action+")")
		}
		if s.State == client.StateHeld {
			lastErr = nil
		}
	}
	if lastErr != nil {
		st.Problem = &explanation{Error: lastErr.Error()}
		var d client.Diagnosis
		if errors.As(lastErr, &d) {
			st.Problem.Cause, st.Problem.Fix = d.Cause(), d.Fix()
		}
	}
	return st
}

var statusPage = template.Must(template.New("license").Funcs(template.FuncMap{"join": strings.Join}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>License</title></head><body>
<h1>License: {{if .Licensed}}licensed{{else}}not licensed{{end}} ({{.State}})</h1>
<table>
<tr><th>Product</th><td>{{or .ProductName "—"}} ({{or .ProductSKU "—"}})</td></tr>
<tr><th>License</th><td>{{or .LicenseARN "—"}}</td></tr>
<tr><th>Contract ends</th><td>{{or .ContractEnd "—"}}</td></tr>
<tr><th>Checkout expires</th><td>{{or .Expiration "—"}} (extended {{.Extensions}} times)</td></tr>
{{range .Entitlements}}<tr><th>{{.Name}}</th><td>{{.Consumed}} of {{.Max}} in use, {{.Available}} available</td></tr>
{{end}}</table>
{{if .Unavailable}}<p>Not shown, for want of optional permissions: {{join .Unavailable "; "}}.</p>{{end}}
{{with .Problem}}<h2>Problem</h2><p><b>Cause:</b> {{or .Cause .Error}}</p>{{with .Fix}}<p><b>Fix:</b> {{.}}</p>{{end}}{{end}}
</body></html>
`))
