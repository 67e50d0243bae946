package audit

import (
	"context"
	"encoding/json"
	"sync"
)

type pendingKey struct{}

// Pending is the audit event of the request in progress. The request path creates it, the store
// writes it in the same transaction as the operation's changes, and the request path writes it
// on its own when the operation made no change (a read, a denial or a failure).
// Safe for concurrent use; its Set methods do nothing on a nil *Pending, so operations may call
// PendingFrom(ctx).SetResponse(out) whether or not the context carries one.
type Pending struct {
	mu       sync.Mutex
	event    Event
	recorded bool
	body     []byte // the event serialised by Encode; nil once it changed since
}

// NewPending returns a pending event.
func NewPending(ev Event) *Pending { return &Pending{event: ev} }

// WithPending returns a context that carries p.
func WithPending(ctx context.Context, p *Pending) context.Context {
	return context.WithValue(ctx, pendingKey{}, p)
}

// PendingFrom returns the pending event carried by ctx, or nil.
func PendingFrom(ctx context.Context) *Pending {
	p, _ := ctx.Value(pendingKey{}).(*Pending)
	return p
}

// SetRequest records the operation's request parameters (redacted, CloudTrail-cased).
func (p *Pending) SetRequest(v any) {
	if p == nil {
		return
	}
	raw := Params(v)
	p.mu.Lock()
	p.event.RequestParameters = raw
	p.body = nil
	p.mu.Unlock()
}

// SetResponse records the operation's response elements (redacted, CloudTrail-cased). Call it
// inside the store transaction that makes the change, before it commits.
func (p *Pending) SetResponse(v any) {
	if p == nil {
		return
	}
	raw := Params(v)
	p.mu.Lock()
	p.event.ResponseElements = raw
	p.body = nil
	p.mu.Unlock()
}

// SetResources records the resources the call touched.
func (p *Pending) SetResources(rs ...Resource) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.event.Resources = append(p.event.Resources[:0:0], rs...)
	p.body = nil
	p.mu.Unlock()
}

// SetUserIdentity replaces the event's userIdentity and the account whose trail it belongs
// to (recipientAccountId): AssumeRoleWithWebIdentity records the web identity, in the role's
// account, rather than the request's signer.
func (p *Pending) SetUserIdentity(u UserIdentity, recipientAccountID string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.event.UserIdentity, p.event.RecipientAccountID = u, recipientAccountID
	p.body = nil
	p.mu.Unlock()
}

// SetError records the failure of the call.
func (p *Pending) SetError(code, message string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.event.ErrorCode, p.event.ErrorMessage = code, message
	p.body = nil
	p.mu.Unlock()
}

// Claim returns a record of the event for writing, or nil when it has been written already.
// The caller must call Done(true) once the record is durable, or Done(false) when its
// transaction was rolled back.
func (p *Pending) Claim() (*Record, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.recorded {
		return nil, nil
	}
	ev := p.event
	if p.body != nil {
		return recordFromEvent(&ev, p.body)
	}
	return NewRecord(&ev)
}

// Encode serialises the event as it stands, so that Claim need not: the store calls it before
// handing a write to its writer goroutine, which every write waits for. A later Set call
// discards the encoding. It does nothing on a nil *Pending.
func (p *Pending) Encode() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.body != nil || p.recorded {
		return
	}
	if body, err := json.Marshal(&p.event); err == nil {
		p.body = body
	}
}

// Done marks the event written (ok) or still to be written (!ok).
func (p *Pending) Done(ok bool) {
	p.mu.Lock()
	p.recorded = ok
	p.mu.Unlock()
}

// Recorded reports whether the event has been written.
func (p *Pending) Recorded() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.recorded
}

// Event returns a copy of the event as it stands.
func (p *Pending) Event() Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.event
}
