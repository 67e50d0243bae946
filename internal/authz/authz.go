// Package authz decides API calls: it gathers the caller's policies from the store, builds the
// request context AWS's global condition keys describe, and asks the policy evaluator.
package authz

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/policy"
	"github.com/allot-dev/allot/internal/store"
)

// Origin is where a request came from: the parts of the request context that the HTTP layer
// knows and operations do not.
type Origin struct {
	SourceIP string
	Region   string // the SigV4 credential scope's region
	Secure   bool   // TLS was used
}

type originKey struct{}

// WithOrigin returns a context carrying o; Decide fills a request's origin from it.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the Origin ctx carries, if any.
func OriginFrom(ctx context.Context) (Origin, bool) {
	o, ok := ctx.Value(originKey{}).(Origin)
	return o, ok
}

// Request is one call to decide.
type Request struct {
	Principal       *identity.Principal
	Action          string // "service:Operation"
	Resource        string // ARN; "" means "*"
	ResourceAccount string // owner of Resource; "" means the principal's account
	// ResourcePolicy is the resource's resource-based policy, or a role's trust policy.
	ResourcePolicy *policy.Document
	Origin         *Origin             // nil: the Origin carried by the context
	Context        map[string][]string // operation-specific condition keys (sts:ExternalId, …)
	Time           time.Time           // zero: now
}

// Authorizer decides requests. Safe for concurrent use. It caches parsed policy documents by
// content, and each principal's stored policies and each account's organization context
// (parsed) in store.Caches: they are dropped whenever this process commits a change to IAM or
// Organizations (store.Generation), so a change made through this node applies to the next
// request, and one made through another node sharing the database within the store's cache
// TTL.
type Authorizer struct {
	db   *store.DB
	now  func() time.Time
	docs docCache
	pols *store.Cache[principalKey, *storedPolicies]
	orgs *store.Cache[string, *orgInfo]
}

// maxCachedPrincipals bounds the caches of principals' policies and of organization contexts.
const maxCachedPrincipals = 1 << 14

// New returns an authorizer reading policies from db.
func New(db *store.DB, now func() time.Time) *Authorizer {
	if now == nil {
		now = time.Now
	}
	return &Authorizer{db: db, now: now, docs: docCache{max: 4096},
		pols: store.NewCache[principalKey, *storedPolicies](db, maxCachedPrincipals),
		orgs: store.NewCache[string, *orgInfo](db, maxCachedPrincipals)}
}

// principalKey names the IAM user or role whose stored policies a principal has.
type principalKey struct {
	kind            identity.Kind
	account, entity string
}

// storedPolicies are the parsed identity policies and boundary of a user or role, shared by
// every request of theirs: never modified once made.
type storedPolicies struct {
	identity []*policy.Document
	boundary *policy.Document
}

// orgInfo is an account's organization context with its SCPs parsed, shared by every request
// from or to the account: never modified once made.
type orgInfo struct {
	ctx    *store.OrgContext
	levels [][]*policy.Document // nil unless SCPs are enabled
}

// orgInfo returns the organization context of an account.
func (a *Authorizer) orgInfo(ctx context.Context, accountID string) (*orgInfo, error) {
	return a.orgs.Get(ctx, accountID, func(ctx context.Context) (*orgInfo, error) {
		oc, err := a.db.OrgContext(ctx, accountID)
		if err != nil {
			return nil, fmt.Errorf("authz: organization of %s: %w", accountID, err)
		}
		info := &orgInfo{ctx: oc}
		if oc.SCPsEnabled {
			info.levels = make([][]*policy.Document, 0, len(oc.Levels))
			for _, level := range oc.Levels {
				docs := make([]*policy.Document, 0, len(level))
				for _, t := range level {
					d, err := a.docs.parse(t.Document, policy.KindSCP, t.Name)
					if err != nil {
						return nil, fmt.Errorf("authz: service control policy %s: %w", t.Name, err)
					}
					docs = append(docs, d)
				}
				info.levels = append(info.levels, docs)
			}
		}
		return info, nil
	})
}

// Authorize returns nil when r is allowed and an AccessDenied *awserr.Error naming the cause
// otherwise.
func (a *Authorizer) Authorize(ctx context.Context, r *Request) error {
	res, preq, err := a.Decide(ctx, r)
	if err != nil {
		return err
	}
	if res.Decision != policy.Allow {
		if st, ok := scopedAllow(res, r.Action); ok {
			return awserr.New(CodeScopedToResource, "%s: %s supports no resource-level permissions, so statement %s of %s, which allows it only on named resources, grants nothing. Allow it on \"Resource\": \"*\".",
				res.Message(preq), r.Action, st.name(), st.Policy)
		}
		return awserr.New("AccessDenied", "%s", res.Message(preq))
	}
	return nil
}

// CodeScopedToResource is the error code of a denial of a License Manager action that
// supports no resource-level permissions (CheckoutLicense, CheckInLicense,
// ExtendLicenseConsumption, …) when an identity policy allows it only on named resources:
// AWS reports that case as AuthorizationException, as seed 000's troubleshooting table says.
const CodeScopedToResource = "AuthorizationException"

// scopedStep is a statement that allowed the action but not the resource.
type scopedStep struct{ policy.Step }

func (s scopedStep) name() string {
	if s.Sid != "" {
		return strconv.Quote(s.Sid)
	}
	return "#" + strconv.Itoa(s.Statement+1)
}

// scopedAllow returns the identity-policy statement that would have allowed a wildcard-only
// action had it named "*" as its resource, when the decision is an implicit deny.
func scopedAllow(res *policy.Result, action string) (scopedStep, bool) {
	if res.Decision != policy.ImplicitDeny || !policy.WildcardOnly(action) {
		return scopedStep{}, false
	}
	for _, st := range res.Trace {
		if st.Type == policy.TypeIdentity && st.Effect == "Allow" && !st.Matched && st.Why == "resource" {
			return scopedStep{st}, true
		}
	}
	return scopedStep{}, false
}

// Decide evaluates r and returns the result with the evaluator's request (for messages and
// traces).
func (a *Authorizer) Decide(ctx context.Context, r *Request) (*policy.Result, *policy.Request, error) {
	p := r.Principal
	pols, err := a.principalPolicies(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	pols.Resource = r.ResourcePolicy
	origin := r.Origin
	if origin == nil {
		if o, ok := ctx.Value(originKey{}).(Origin); ok {
			origin = &o
		} else {
			origin = &Origin{}
		}
	}
	now := r.Time
	if now.IsZero() {
		now = a.now()
	}
	resource := r.Resource
	if resource == "" {
		resource = "*"
	}
	info, err := a.orgInfo(ctx, p.AccountID)
	if err != nil {
		return nil, nil, err
	}
	org := info.ctx
	pols.SCPs = scps(p, info)
	c := a.context(r, origin, now)
	if org.OrgID != "" && p.Kind != identity.KindWebIdentity {
		c["aws:principalorgid"] = []string{org.OrgID}
		c["aws:principalorgpaths"] = []string{org.Path}
	}
	if owner := r.ResourceAccount; owner != "" && owner != p.AccountID {
		ri, err := a.orgInfo(ctx, owner)
		if err != nil {
			return nil, nil, err
		}
		if ro := ri.ctx; ro.OrgID != "" {
			c["aws:resourceorgid"] = []string{ro.OrgID}
			c["aws:resourceorgpaths"] = []string{ro.Path}
		}
	} else if org.OrgID != "" {
		c["aws:resourceorgid"] = []string{org.OrgID}
		c["aws:resourceorgpaths"] = []string{org.Path}
	}
	req := &policy.Request{
		Principal:       p,
		Action:          r.Action,
		Resource:        resource,
		ResourceAccount: r.ResourceAccount,
		Context:         c,
		Time:            now,
	}
	return policy.Evaluate(req, pols), req, nil
}

// SCPs returns the service control policies that bound p, one list per level of its
// account's organization path (root first), or nil when none apply: p's account is in no
// organization or is its management account, SCPs are not enabled, or p is a service-linked
// role.
func (a *Authorizer) SCPs(ctx context.Context, p *identity.Principal) ([][]*policy.Document, error) {
	info, err := a.orgInfo(ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	return scps(p, info), nil
}

// scps returns the SCP levels that bound p, nil when none do.
func scps(p *identity.Principal, info *orgInfo) [][]*policy.Document {
	if !info.ctx.SCPsEnabled || !policy.SCPsApply(p, info.ctx.ManagementAccount) {
		return nil
	}
	return info.levels
}

// Parse parses a policy document, caching the result by content.
func (a *Authorizer) Parse(doc string, kind policy.Kind) (*policy.Document, error) {
	return a.docs.parse(doc, kind, "")
}

// principalPolicies gathers the identity policies, boundary and session policies of p.
func (a *Authorizer) principalPolicies(ctx context.Context, p *identity.Principal) (*policy.Policies, error) {
	pols := &policy.Policies{}
	var key principalKey
	switch p.Kind {
	case identity.KindRoot, identity.KindWebIdentity:
		// Root needs no policies in its account; a web identity has none (only the role's
		// trust policy, the request's resource policy, can allow it).
		return pols, nil
	case identity.KindIAMUser:
		key = principalKey{p.Kind, p.AccountID, p.UserName}
	case identity.KindAssumedRole:
		key = principalKey{p.Kind, p.AccountID, p.RoleName}
	default:
		return nil, fmt.Errorf("authz: unknown principal kind %q", p.Kind)
	}
	stored, err := a.pols.Get(ctx, key, func(ctx context.Context) (*storedPolicies, error) { return a.loadPolicies(ctx, p) })
	if err != nil {
		return nil, err
	}
	pols.Identity, pols.Boundary = stored.identity, stored.boundary
	for i, doc := range p.SessionPolicy {
		d, err := a.docs.parse(doc, policy.KindSession, "session policy "+strconv.Itoa(i+1))
		if err != nil {
			return nil, fmt.Errorf("authz: session policy of %s: %w", p.ARN, err)
		}
		pols.Session = append(pols.Session, d)
	}
	return pols, nil
}

// loadPolicies reads and parses the stored identity policies and boundary of the user or
// role behind p.
func (a *Authorizer) loadPolicies(ctx context.Context, p *identity.Principal) (*storedPolicies, error) {
	var stored *store.PrincipalPolicies
	var err error
	if p.Kind == identity.KindIAMUser {
		stored, err = a.db.UserPolicies(ctx, p.AccountID, p.UserName)
	} else {
		stored, err = a.db.RolePolicies(ctx, p.AccountID, p.RoleName)
	}
	if errors.Is(err, store.ErrNotFound) {
		// The user or role was deleted while its credentials were still in use: nothing allows.
		return &storedPolicies{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("authz: policies of %s: %w", p.ARN, err)
	}
	out := &storedPolicies{identity: make([]*policy.Document, 0, len(stored.Identity))}
	for _, t := range stored.Identity {
		d, err := a.docs.parse(t.Document, policy.KindIdentity, t.Name)
		if err != nil {
			return nil, fmt.Errorf("authz: stored policy %s of %s: %w", t.Name, p.ARN, err)
		}
		out.identity = append(out.identity, d)
	}
	if stored.Boundary != nil {
		d, err := a.docs.parse(stored.Boundary.Document, policy.KindIdentity, stored.Boundary.Name)
		if err != nil {
			return nil, fmt.Errorf("authz: boundary %s of %s: %w", stored.Boundary.Name, p.ARN, err)
		}
		out.boundary = d
	}
	return out, nil
}

// context builds the global condition keys of a request.
func (a *Authorizer) context(r *Request, o *Origin, now time.Time) map[string][]string {
	p := r.Principal
	c := make(map[string][]string, 16+len(r.Context))
	set := func(k, v string) { c[strings.ToLower(k)] = []string{v} }
	if p.Kind != identity.KindWebIdentity { // a web identity belongs to no account
		set("aws:PrincipalAccount", p.AccountID)
	}
	set("aws:userid", p.PrincipalID)
	set("aws:CurrentTime", now.UTC().Format(time.RFC3339))
	set("aws:EpochTime", strconv.FormatInt(now.Unix(), 10))
	set("aws:SecureTransport", strconv.FormatBool(o.Secure))
	if o.SourceIP != "" {
		set("aws:SourceIp", o.SourceIP)
	}
	if o.Region != "" {
		set("aws:RequestedRegion", o.Region)
	}
	switch p.Kind {
	case identity.KindRoot:
		set("aws:PrincipalArn", p.ARN)
		set("aws:PrincipalType", "Account")
	case identity.KindIAMUser:
		set("aws:PrincipalArn", p.ARN)
		set("aws:PrincipalType", "User")
		set("aws:username", p.UserName)
	case identity.KindAssumedRole:
		set("aws:PrincipalArn", p.RoleARN)
		set("aws:PrincipalType", "AssumedRole")
	}
	if p.Temporary {
		set("aws:TokenIssueTime", p.IssuedAt.UTC().Format(time.RFC3339))
		set("aws:MultiFactorAuthPresent", "false")
		if p.SourceIdentity != "" {
			set("aws:SourceIdentity", p.SourceIdentity)
		}
	}
	if p.FederatedProvider != "" {
		set("aws:FederatedProvider", p.FederatedProvider)
	}
	for _, t := range p.Tags {
		set("aws:PrincipalTag/"+t.Key, t.Value)
	}
	if r.ResourceAccount != "" {
		set("aws:ResourceAccount", r.ResourceAccount)
	} else {
		set("aws:ResourceAccount", p.AccountID)
	}
	for k, v := range r.Context {
		c[strings.ToLower(k)] = v
	}
	return c
}

// docCache keeps parsed policy documents by content. Stored policies change by being replaced,
// so a document's text is its identity; the cache is cleared when it grows past max.
type docCache struct {
	mu   sync.Mutex
	max  int
	docs map[[32]byte]*policy.Document
}

func (c *docCache) parse(text string, kind policy.Kind, name string) (*policy.Document, error) {
	key := sha256.Sum256([]byte(strconv.Itoa(int(kind)) + "\x00" + name + "\x00" + text))
	c.mu.Lock()
	d, ok := c.docs[key]
	c.mu.Unlock()
	if ok {
		return d, nil
	}
	d, err := policy.Parse(text, kind)
	if err != nil {
		return nil, err
	}
	d.Name = name
	c.mu.Lock()
	if c.docs == nil || len(c.docs) >= c.max {
		c.docs = make(map[[32]byte]*policy.Document, c.max)
	}
	c.docs[key] = d
	c.mu.Unlock()
	return d, nil
}
