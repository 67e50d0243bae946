package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
	"github.com/google/uuid"
)

// State is where a lease stands.
type State int

// The states of a lease.
const (
	// StateHeld: the checkout is current.
	StateHeld State = iota + 1
	// StateExpiring: extending has failed and the checkout expires within
	// Config.WarnBefore; still licensed.
	StateExpiring
	// StateGrace: the checkout expired while the server could not be reached, and the
	// grace policy keeps the license; still licensed.
	StateGrace
	// StateLost: the checkout expired; the lease keeps trying to check out again.
	StateLost
	// StateClosed: Close was called.
	StateClosed
)

// String returns the state's name: held, expiring, grace, lost or closed.
func (s State) String() string {
	switch s {
	case StateHeld:
		return "held"
	case StateExpiring:
		return "expiring"
	case StateGrace:
		return "grace"
	case StateLost:
		return "lost"
	case StateClosed:
		return "closed"
	}
	return "none"
}

// Licensed reports whether the product may run in this state: held, expiring or in grace.
func (s State) Licensed() bool { return s == StateHeld || s == StateExpiring || s == StateGrace }

// EventType is what happened to a lease.
type EventType int

// The events a lease reports to Config.OnEvent.
const (
	// EventHeld: Checkout succeeded.
	EventHeld EventType = iota + 1
	// EventExtended: the checkout was extended, or renewed with a new checkout (Renewed).
	EventExtended
	// EventAboutToExpire: extending has failed and the checkout expires within
	// Config.WarnBefore. Err says why.
	EventAboutToExpire
	// EventGrace: the checkout expired while the server could not be reached; the grace
	// policy keeps the license (until GraceUntil, or indefinitely with GraceWarn).
	EventGrace
	// EventUnreachable: in grace, another attempt could not reach the server.
	EventUnreachable
	// EventLost: the license is lost: the checkout expired (and any grace ran out). Err
	// says why. The lease keeps trying to check out again.
	EventLost
	// EventRegained: after expiring, lost or in grace, the lease holds a checkout again.
	EventRegained
	// EventClosed: Close checked the license in (Err when that failed).
	EventClosed
)

// String returns the event's name, such as "held" or "about-to-expire".
func (t EventType) String() string {
	return [...]string{"none", "held", "extended", "about-to-expire", "grace", "unreachable", "lost", "regained", "closed"}[max(0, min(int(t), 8))]
}

// Event tells Config.OnEvent of a change of a lease.
type Event struct {
	Type       EventType
	State      State // the lease's state after the event
	Time       time.Time
	ProductSKU string
	LicenseARN string
	// ExpiresAt is when the current checkout expires, by the lease's clock.
	ExpiresAt time.Time
	// GraceUntil is when grace ends (EventGrace with GraceContinue).
	GraceUntil time.Time
	// Renewed is set on EventExtended and EventRegained when a new checkout replaced the
	// old one instead of an extension.
	Renewed bool
	// Err is the failure behind EventAboutToExpire, EventGrace, EventUnreachable,
	// EventLost and a failed EventClosed.
	Err error
}

// Info is a snapshot of a lease.
type Info struct {
	State            State
	ProductSKU       string
	KeyFingerprint   string
	LicenseARN       string
	ConsumptionToken string // LicenseConsumptionToken
	SignedToken      string // the checkout's token, verifiable offline
	Entitlements     []Entitlement
	// IssuedAt and Expiration are the server's times for the current checkout; Expiration
	// is the latest extension's.
	IssuedAt, Expiration time.Time
	// ExpiresAt is the same expiry by the lease's clock: the time the request that set it
	// was sent plus the checkout's lifetime, so it never runs later than the server's,
	// whatever the clocks' skew.
	ExpiresAt  time.Time
	GraceUntil time.Time
	// Err is the last failure since the last success, or nil.
	Err error
}

// held is one checkout.
type held struct {
	token, signed, licenseARN string
	entitlements              []Entitlement
	issuedAt, expiration      time.Time // the server's
	ttl                       time.Duration
	expiresAt, extendAt       time.Time // by the lease's clock
}

// Lease is a checked-out license kept current in the background: extended before it
// expires, retried on throttling and transient errors, reported through Config.OnEvent,
// and checked in by Close. Its methods are safe for concurrent use.
type Lease struct {
	c                *Client
	sku, fingerprint string
	ctx              context.Context // the background loop's calls; cancelled by Close
	cancel           context.CancelFunc
	stop, done       chan struct{}
	closeOnce        sync.Once
	closeErr         error

	mu          sync.Mutex
	cur         *held // nil once given up
	state       State
	graceUntil  time.Time
	lastErr     error
	warned      bool      // EventAboutToExpire sent for the current checkout
	noExtend    bool      // ExtendLicenseConsumption was denied: renew by checking out
	clientToken string    // of the checkout being attempted, kept across transient retries
	next        time.Time // the next attempt
	attempts    int       // failed attempts in a row
}

// Checkout checks out Config.Entitlements of the license for Config.ProductSKU and
// Config.KeyFingerprint ("automatic" checkout) and returns the lease, kept current in the
// background until Close. A failure is typed where the troubleshooting table has a row for
// it: *AssumeRoleDeniedError, *PermissionDeniedError, *ScopedPolicyError,
// *LicenseNotFoundError, *GrantNotActiveError, *NoEntitlementsError; a token refused by
// Config.Verifier wraps one of the ErrToken errors.
func (c *Client) Checkout(ctx context.Context) (*Lease, error) {
	return c.checkout(ctx, c.cfg.ProductSKU, c.cfg.KeyFingerprint)
}

// CheckoutProduct is Checkout for a product chosen from Products ("specific" checkout):
// it checks out Config.Entitlements of p's SKU from p's issuer.
func (c *Client) CheckoutProduct(ctx context.Context, p Product) (*Lease, error) {
	return c.checkout(ctx, p.SKU, p.KeyFingerprint)
}

func (c *Client) checkout(ctx context.Context, sku, fingerprint string) (*Lease, error) {
	if sku == "" || fingerprint == "" {
		return nil, errors.New("client: a checkout needs a product SKU and the issuer's key fingerprint (Config.ProductSKU and Config.KeyFingerprint, or a Product)")
	}
	if len(c.cfg.Entitlements) == 0 {
		return nil, errors.New("client: Config.Entitlements is empty: name what to check out, such as {Name: \"Seats\", Value: \"1\"}")
	}
	lctx, cancel := context.WithCancel(context.Background())
	l := &Lease{c: c, sku: sku, fingerprint: fingerprint, ctx: lctx, cancel: cancel, stop: make(chan struct{}), done: make(chan struct{}),
		clientToken: uuid.NewString()}
	h, err := l.checkoutOnce(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	l.cur, l.state, l.next, l.clientToken = h, StateHeld, h.extendAt, uuid.NewString()
	l.emit(l.event(EventHeld, nil))
	go l.run()
	return l, nil
}

// checkoutOnce makes one CheckoutLicense call with the lease's current ClientToken (so a
// retry after a lost answer takes nothing more) and verifies the token if configured.
func (l *Lease) checkoutOnce(ctx context.Context) (*held, error) {
	c := l.c
	in := &lm.CheckoutLicenseInput{ProductSKU: aws.String(l.sku), KeyFingerprint: aws.String(l.fingerprint),
		CheckoutType: lmtypes.CheckoutTypeProvisional, ClientToken: aws.String(l.token())}
	for _, e := range c.cfg.Entitlements {
		unit := e.Unit
		if unit == "" {
			unit = string(lmtypes.EntitlementDataUnitCount)
		}
		d := lmtypes.EntitlementData{Name: aws.String(e.Name), Unit: lmtypes.EntitlementDataUnit(unit)}
		if e.Value != "" {
			d.Value = aws.String(e.Value)
		}
		in.Entitlements = append(in.Entitlements, d)
	}
	if c.cfg.Beneficiary != "" {
		in.Beneficiary = aws.String(c.cfg.Beneficiary)
	}
	if c.cfg.NodeID != "" {
		in.NodeId = aws.String(c.cfg.NodeID)
	}
	sent := c.clock.Now()
	out, err := c.lm.CheckoutLicense(ctx, in)
	if err != nil {
		return nil, c.explainCheckout(ctx, l.sku, l.fingerprint, c.mapError("CheckoutLicense", l.sku, l.fingerprint, err))
	}
	h := &held{token: aws.ToString(out.LicenseConsumptionToken), signed: aws.ToString(out.SignedToken), licenseARN: aws.ToString(out.LicenseArn),
		issuedAt: parseTime(out.IssuedAt), expiration: parseTime(out.Expiration)}
	for _, e := range out.EntitlementsAllowed {
		h.entitlements = append(h.entitlements, Entitlement{Name: aws.ToString(e.Name), Unit: string(e.Unit), Value: aws.ToString(e.Value)})
	}
	h.ttl = h.expiration.Sub(h.issuedAt)
	if h.ttl < time.Minute {
		h.ttl = time.Minute
	}
	if v := c.cfg.Verifier; v != nil {
		if err := l.verify(ctx, v, h); err != nil {
			l.checkIn(ctx, h) // give the units back; the token is not to be trusted
			return nil, err
		}
	}
	l.schedule(h, sent)
	return h, nil
}

// verify checks a checkout's signed token: signature, times, issuer and product.
func (l *Lease) verify(ctx context.Context, v *Verifier, h *held) error {
	cl, err := v.Verify(ctx, h.signed)
	if err != nil {
		return fmt.Errorf("client: the checkout's signed token: %w", err)
	}
	switch {
	case cl.Issuer != l.fingerprint:
		return fmt.Errorf("client: the checkout's signed token: %w: issued by %q, want %q", ErrTokenIssuer, cl.Issuer, l.fingerprint)
	case cl.ProductSKU != l.sku:
		return fmt.Errorf("client: the checkout's signed token: %w: product SKU %q, want %q", ErrTokenIssuer, cl.ProductSKU, l.sku)
	case cl.ID != h.token:
		return fmt.Errorf("client: the checkout's signed token: %w: it is for checkout %q, not %q", ErrTokenIssuer, cl.ID, h.token)
	}
	return nil
}

// schedule sets a checkout's expiry and next extension by the lease's clock.
func (l *Lease) schedule(h *held, sent time.Time) {
	before := l.c.cfg.ExtendBefore
	if before <= 0 || before >= h.ttl {
		before = h.ttl / 2
	}
	interval := h.ttl - before
	jitter := time.Duration(rand.Int64N(int64(interval/10) + 1))
	h.expiresAt = sent.Add(h.ttl)
	h.extendAt = sent.Add(interval - jitter)
}

func (l *Lease) token() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.clientToken
}

// run keeps the lease current until Close.
func (l *Lease) run() {
	defer close(l.done)
	for {
		select {
		case <-l.stop:
			return
		default:
		}
		now := l.c.clock.Now()
		events, wake := l.deadlines(now)
		for _, ev := range events {
			l.emit(ev)
		}
		if !now.Before(wake.attempt) {
			l.attempt()
			continue
		}
		wait := wake.attempt
		if !wake.deadline.IsZero() && wake.deadline.Before(wait) {
			wait = wake.deadline
		}
		select {
		case <-l.stop:
			return
		case <-l.c.clock.After(wait.Sub(now)):
		}
	}
}

type wakeup struct{ attempt, deadline time.Time }

// deadlines moves the lease to the state the time puts it in and returns the events and
// the next times to wake up.
func (l *Lease) deadlines(now time.Time) ([]Event, wakeup) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var events []Event
	cfg := &l.c.cfg
	h := l.cur
	var dl time.Time
	switch l.state {
	case StateHeld, StateExpiring:
		if h == nil {
			break
		}
		warn := cfg.WarnBefore
		if warn <= 0 || warn >= h.ttl {
			warn = h.ttl / 4
		}
		switch {
		case !now.Before(h.expiresAt):
			if transient(l.lastErr) && cfg.Grace != GraceStop {
				l.state = StateGrace
				if cfg.Grace == GraceContinue {
					l.graceUntil = h.expiresAt.Add(cfg.GracePeriod)
					dl = l.graceUntil
				}
				events = append(events, l.eventLocked(EventGrace, l.lastErr))
			} else {
				l.state = StateLost
				events = append(events, l.eventLocked(EventLost, l.lastErr))
			}
		case l.lastErr != nil && !l.warned && !now.Before(h.expiresAt.Add(-warn)):
			l.state, l.warned = StateExpiring, true
			events = append(events, l.eventLocked(EventAboutToExpire, l.lastErr))
			dl = h.expiresAt
		case l.lastErr != nil && !l.warned:
			dl = h.expiresAt.Add(-warn)
		default:
			dl = h.expiresAt
		}
	case StateGrace:
		if cfg.Grace == GraceContinue {
			if !now.Before(l.graceUntil) {
				l.state = StateLost
				events = append(events, l.eventLocked(EventLost, l.lastErr))
			} else {
				dl = l.graceUntil
			}
		}
	}
	return events, wakeup{attempt: l.next, deadline: dl}
}

// attempt extends the checkout, or checks out anew when there is none (or it is gone, or
// extending is not allowed), and records the outcome.
func (l *Lease) attempt() {
	ctx, cancel := context.WithTimeout(l.ctx, 30*time.Second)
	defer cancel()
	c := l.c
	l.mu.Lock()
	h, noExtend := l.cur, l.noExtend
	l.mu.Unlock()

	renewed := h != nil && noExtend
	var err error
	if h != nil && !noExtend {
		sent := c.clock.Now()
		var out *lm.ExtendLicenseConsumptionOutput
		out, err = c.lm.ExtendLicenseConsumption(ctx, &lm.ExtendLicenseConsumptionInput{LicenseConsumptionToken: aws.String(h.token)})
		if err == nil {
			nh := *h
			if exp := parseTime(out.Expiration); !exp.IsZero() {
				nh.expiration = exp
			}
			l.schedule(&nh, sent)
			l.succeeded(&nh, false)
			return
		}
		err = c.mapError("ExtendLicenseConsumption", l.sku, l.fingerprint, err)
		var denied *PermissionDeniedError
		switch code, _ := apiError(err); {
		case errors.As(err, &denied) && denied.DeniedBy != DeniedBySCP:
			// Without license-manager:ExtendLicenseConsumption (the guide's policy lacks
			// it), renew from now on: a new checkout, then check the old one in.
			c.log.Info("license lease: ExtendLicenseConsumption is not allowed; renewing with new checkouts instead", "product_sku", l.sku, "err", err)
			l.mu.Lock()
			l.noExtend = true
			l.mu.Unlock()
			renewed = true
		case code == "ResourceNotFoundException":
			// The checkout expired or was checked in on the server: check out anew.
			h, renewed = nil, true
		default:
			l.failed(err)
			return
		}
	}
	if l.ctx.Err() != nil {
		return
	}
	nh, err := l.checkoutOnce(ctx)
	var none *NoEntitlementsError
	if err != nil && h != nil && errors.As(err, &none) && none.InUse() {
		// Our own units block the renewal (all are in use, ours included): give them
		// back, then check out again.
		l.checkIn(ctx, h)
		l.mu.Lock()
		l.cur, l.clientToken = nil, uuid.NewString()
		l.mu.Unlock()
		h = nil
		nh, err = l.checkoutOnce(ctx)
	}
	if err != nil {
		l.failed(err)
		return
	}
	if h != nil {
		l.checkIn(ctx, h)
	}
	l.succeeded(nh, renewed)
}

// succeeded records a current checkout and reports it.
func (l *Lease) succeeded(h *held, renewed bool) {
	l.mu.Lock()
	prev := l.state
	if prev == StateClosed {
		l.mu.Unlock()
		return
	}
	l.clientToken = uuid.NewString() // the next checkout is a new one
	l.cur, l.state, l.lastErr, l.warned, l.attempts, l.next, l.graceUntil = h, StateHeld, nil, false, 0, h.extendAt, time.Time{}
	typ := EventExtended
	if prev == StateGrace || prev == StateLost {
		typ = EventRegained
	}
	ev := l.eventLocked(typ, nil)
	ev.Renewed = renewed
	l.mu.Unlock()
	l.emit(ev)
}

// failed records a failed attempt and schedules the next, backing off.
func (l *Lease) failed(err error) {
	if l.ctx.Err() != nil {
		return
	}
	l.mu.Lock()
	l.lastErr = err
	l.attempts++
	if !transient(err) {
		l.clientToken = uuid.NewString() // the call was answered: a retry is a new request
	}
	retryMax := l.c.cfg.RetryMax
	if retryMax <= 0 {
		retryMax = time.Minute
	}
	backoff := min(time.Second<<min(l.attempts-1, 20), retryMax)
	backoff = time.Duration(float64(backoff) * (0.8 + 0.4*rand.Float64()))
	now := l.c.clock.Now()
	l.next = now.Add(backoff)
	var ev *Event
	if l.state == StateGrace && transient(err) {
		e := l.eventLocked(EventUnreachable, err)
		ev = &e
	}
	l.mu.Unlock()
	l.c.log.Warn("license lease: attempt failed", "product_sku", l.sku, "attempt", l.attempts, "retry_in", backoff, "err", err)
	if ev != nil {
		l.emit(*ev)
	}
}

// checkIn checks a checkout in, best effort; a checkout already gone is no error.
func (l *Lease) checkIn(ctx context.Context, h *held) error {
	in := &lm.CheckInLicenseInput{LicenseConsumptionToken: aws.String(h.token)}
	if l.c.cfg.Beneficiary != "" {
		in.Beneficiary = aws.String(l.c.cfg.Beneficiary)
	}
	_, err := l.c.lm.CheckInLicense(ctx, in)
	if code, _ := apiError(err); code == "ResourceNotFoundException" {
		return nil
	}
	if err != nil {
		err = l.c.mapError("CheckInLicense", l.sku, l.fingerprint, err)
		l.c.log.Warn("license lease: check-in failed; the units return when the checkout expires", "product_sku", l.sku, "expiration", h.expiration, "err", err)
	}
	return err
}

func (l *Lease) event(t EventType, err error) Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.eventLocked(t, err)
}

func (l *Lease) eventLocked(t EventType, err error) Event {
	ev := Event{Type: t, State: l.state, Time: l.c.clock.Now(), ProductSKU: l.sku, GraceUntil: l.graceUntil, Err: err}
	if l.cur != nil {
		ev.LicenseARN, ev.ExpiresAt = l.cur.licenseARN, l.cur.expiresAt
	}
	return ev
}

func (l *Lease) emit(ev Event) {
	attrs := []any{"product_sku", ev.ProductSKU, "license_arn", ev.LicenseARN, "state", ev.State.String()}
	if !ev.ExpiresAt.IsZero() {
		attrs = append(attrs, "expires_at", ev.ExpiresAt)
	}
	if ev.Err != nil {
		attrs = append(attrs, "err", ev.Err)
	}
	switch ev.Type {
	case EventAboutToExpire, EventGrace, EventUnreachable, EventLost:
		l.c.log.Warn("license "+ev.Type.String(), attrs...)
	default:
		l.c.log.Info("license "+ev.Type.String(), attrs...)
	}
	if f := l.c.cfg.OnEvent; f != nil {
		f(ev)
	}
}

// Licensed reports whether the product may run: the lease is held, expiring or in grace.
func (l *Lease) Licensed() bool { return l.State().Licensed() }

// State returns the lease's state.
func (l *Lease) State() State {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state
}

// Info returns a snapshot of the lease.
func (l *Lease) Info() Info {
	l.mu.Lock()
	defer l.mu.Unlock()
	in := Info{State: l.state, ProductSKU: l.sku, KeyFingerprint: l.fingerprint, GraceUntil: l.graceUntil, Err: l.lastErr}
	if h := l.cur; h != nil {
		in.LicenseARN, in.ConsumptionToken, in.SignedToken = h.licenseARN, h.token, h.signed
		in.Entitlements = append([]Entitlement(nil), h.entitlements...)
		in.IssuedAt, in.Expiration, in.ExpiresAt = h.issuedAt, h.expiration, h.expiresAt
	}
	return in
}

// Status reads the license's status for the product's status area: LicenseStatus of the
// license checked out, with the lease's state and expiry. Without GetLicense the product
// name and SKU come from the checkout's signed token.
func (l *Lease) Status(ctx context.Context) Status {
	in := l.Info()
	st := Status{LicenseARN: in.LicenseARN}
	if in.LicenseARN != "" {
		st = l.c.LicenseStatus(ctx, in.LicenseARN)
	}
	st.State, st.Expiration = in.State, in.Expiration
	if st.ProductName == "" && in.SignedToken != "" {
		if cl, err := unverifiedClaims(in.SignedToken); err == nil {
			st.ProductName, st.ProductSKU, st.IssuerName = cl.ProductName, cl.ProductSKU, cl.IssuerName
		}
	}
	if st.ProductSKU == "" {
		st.ProductSKU = l.sku
	}
	return st
}

// unverifiedClaims decodes a token's claims without checking its signature, for display.
func unverifiedClaims(token string) (*Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, ErrTokenMalformed
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, ErrTokenMalformed
	}
	var raw rawClaims
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, ErrTokenMalformed
	}
	return raw.claims(), nil
}

// Close stops the background loop and checks the license in, so its units are free at
// once. It returns the check-in's error, typed like Checkout's (*PermissionDeniedError when
// license-manager:CheckInLicense is missing); the units then return when the checkout
// expires. Close is idempotent; later calls return the first result.
func (l *Lease) Close(ctx context.Context) error {
	l.closeOnce.Do(func() {
		close(l.stop)
		l.cancel()
		<-l.done
		l.mu.Lock()
		h := l.cur
		l.cur, l.state = nil, StateClosed
		l.mu.Unlock()
		if h != nil {
			l.closeErr = l.checkIn(ctx, h)
		}
		ev := l.event(EventClosed, l.closeErr)
		ev.LicenseARN = ""
		if h != nil {
			ev.LicenseARN = h.licenseARN
		}
		l.emit(ev)
	})
	return l.closeErr
}

// CloseOnSignal closes the lease — checking the license in — when the process receives
// one of signals (SIGTERM and SIGINT when none are given), and returns a context that is
// cancelled once it has, for the product to shut down on, like signal.NotifyContext. stop
// releases the signals without closing the lease.
func (l *Lease) CloseOnSignal(ctx context.Context, signals ...os.Signal) (_ context.Context, stop context.CancelFunc) {
	if len(signals) == 0 {
		signals = []os.Signal{syscall.SIGTERM, os.Interrupt}
	}
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, signals...)
	go func() {
		defer signal.Stop(ch)
		select {
		case sig := <-ch:
			l.c.log.Info("license lease: checking in on signal", "signal", sig.String(), "product_sku", l.sku)
			cctx, ccancel := context.WithTimeout(context.Background(), 15*time.Second)
			l.Close(cctx)
			ccancel()
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
