package policy

import (
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/identity"
)

// evalCtx is the per-evaluation state shared by the matchers.
type evalCtx struct {
	req     *Request
	missing *[]string
	now     time.Time
	hasNow  bool
}

// lookup returns the context values of key, matching its name case-insensitively.
func (ec *evalCtx) lookup(key string) ([]string, bool) {
	if ec == nil || ec.req == nil || ec.req.Context == nil {
		return nil, false
	}
	if v, ok := ec.req.Context[key]; ok {
		return v, true
	}
	for k, v := range ec.req.Context {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// time returns the request time.
func (ec *evalCtx) time() time.Time {
	if !ec.hasNow {
		ec.now, ec.hasNow = ec.req.Time, true
		if ec.now.IsZero() {
			ec.now = time.Now()
		}
	}
	return ec.now
}

// timeValue supplies aws:CurrentTime and aws:EpochTime from Request.Time.
func (ec *evalCtx) timeValue(k timeKey) ([]string, bool) {
	switch k {
	case timeCurrent:
		return []string{ec.time().UTC().Format(time.RFC3339Nano)}, true
	case timeEpoch:
		return []string{strconv.FormatInt(ec.time().Unix(), 10)}, true
	}
	return nil, false
}

// variable resolves a policy variable: the key's single value, else its default. Multivalued
// keys cannot be variables (reference_policies_variables.html), so they resolve like absent ones.
func (ec *evalCtx) variable(t *token) (string, bool) {
	vals, ok := ec.lookup(t.text)
	if !ok {
		if tk := timeKeyOf(t.text); tk != timeNone {
			vals, ok = ec.timeValue(tk)
		} else {
			ec.missingKey(t.text)
		}
	}
	if ok && len(vals) == 1 {
		return vals[0], true
	}
	if t.hasDef {
		return t.def, true
	}
	return "", false
}

func timeKeyOf(key string) timeKey {
	switch {
	case strings.EqualFold(key, "aws:CurrentTime"):
		return timeCurrent
	case strings.EqualFold(key, "aws:EpochTime"):
		return timeEpoch
	}
	return timeNone
}

// missingKey records a condition key the request lacked, once.
func (ec *evalCtx) missingKey(key string) {
	if ec == nil || ec.missing == nil {
		return
	}
	for _, k := range *ec.missing {
		if strings.EqualFold(k, key) {
			return
		}
	}
	*ec.missing = append(*ec.missing, key)
}

// Why values of a Step that did not match.
const (
	whyAction    = "action"
	whyResource  = "resource"
	whyPrincipal = "principal"
)

// match evaluates s against the request. It returns whether the statement applies, how the
// principal matched (MatchNone for statements without a Principal element), and when it does
// not apply, which element failed.
func (s *Statement) match(ec *evalCtx, boundaryQuirk bool) (bool, PrincipalMatch, string) {
	req := ec.req
	if !s.matchAction(req.Action) {
		return false, MatchNone, whyAction
	}
	if !s.matchResource(req.Resource, ec) {
		return false, MatchNone, whyResource
	}
	pm := MatchNone
	if s.hasPrincipal {
		switch {
		case !s.notPrincipal:
			pm = s.principals.match(req.Principal)
		case s.deny && boundaryQuirk:
			// A Deny with NotPrincipal always denies a principal that has a permissions
			// boundary, whatever NotPrincipal lists (access_policies_boundaries.html).
			pm = MatchEveryone
		case !s.principals.excludes(req.Principal):
			pm = MatchEveryone
		}
		if pm == MatchNone {
			return false, MatchNone, whyPrincipal
		}
	}
	why := ""
	for i := range s.Condition {
		// Evaluate every condition so that MissingContextKeys lists them all.
		if !s.Condition[i].eval(ec) && why == "" {
			why = s.Condition[i].why
		}
	}
	if why != "" {
		return false, MatchNone, why
	}
	return true, pm, ""
}

func (s *Statement) matchAction(action string) bool {
	found := false
	for i := range s.actions {
		g := &s.actions[i]
		if lit, ok := g.static(); ok {
			if strings.EqualFold(action, lit) {
				found = true
				break
			}
			continue
		}
		if g.match(action, nil) {
			found = true
			break
		}
	}
	return found != s.notAction
}

func (s *Statement) matchResource(resource string, ec *evalCtx) bool {
	if s.anyResource {
		return true
	}
	found := false
	for i := range s.resources {
		if s.resources[i].match(resource, ec) {
			found = true
			break
		}
	}
	return found != s.notResource
}

// docResult summarises one document's statements.
type docResult struct {
	allow     bool
	deny      bool
	principal PrincipalMatch // strongest principal match among matching Allow statements
}

// evalDoc evaluates every statement of d, appending one Step each.
func evalDoc(ec *evalCtx, res *Result, typ PolicyType, d *Document, boundaryQuirk bool) docResult {
	var dr docResult
	if d == nil {
		return dr
	}
	for i := range d.Statements {
		s := &d.Statements[i]
		ok, pm, why := s.match(ec, boundaryQuirk)
		res.Trace = append(res.Trace, Step{
			Type:      typ,
			Policy:    d.Name,
			Statement: i,
			Sid:       s.Sid,
			Effect:    s.Effect,
			Matched:   ok,
			Why:       why,
			Principal: pm,
		})
		if !ok {
			continue
		}
		if s.deny {
			dr.deny = true
		} else {
			dr.allow = true
			if pm > dr.principal {
				dr.principal = pm
			}
		}
	}
	return dr
}

func countStatements(p *Policies) int {
	n := 0
	for _, level := range p.SCPs {
		for _, d := range level {
			if d != nil {
				n += len(d.Statements)
			}
		}
	}
	if p.Resource != nil {
		n += len(p.Resource.Statements)
	}
	for _, d := range p.Identity {
		if d != nil {
			n += len(d.Statements)
		}
	}
	if p.Boundary != nil {
		n += len(p.Boundary.Statements)
	}
	for _, d := range p.Session {
		if d != nil {
			n += len(d.Statements)
		}
	}
	return n
}

// Evaluate decides req against p following AWS's policy evaluation logic
// (reference_policies_evaluation-logic.html and the pages it links):
//
//  1. an explicit Deny in any policy wins;
//  2. when p.SCPs is not nil, every level of the organization path needs a matching Allow;
//  3. the root user of the resource account needs no identity policy;
//  4. across accounts, the resource policy and the principal's side (identity policies, limited
//     by the boundary and the session policies) must both allow;
//  5. within an account, a resource-policy Allow naming the user or session ARN (or "*") is
//     enough; one naming the role ARN is still limited by the boundary and session policies; one
//     naming the account delegates to the identity side. Otherwise identity ∧ boundary ∧
//     session. Role trust policies (a Resource parsed as KindTrust) and KMS key policies must
//     themselves allow.
//
// Every statement is evaluated and recorded in the trace, in the order SCPs (root level first),
// resource policy, identity policies, boundary, session policies (AWS's enforcement order).
// sts:GetCallerIdentity is always allowed, as in AWS.
func Evaluate(req *Request, p *Policies) *Result {
	if p == nil {
		p = &Policies{}
	}
	res := &Result{Trace: make([]Step, 0, countStatements(p))}
	ec := &evalCtx{req: req, missing: &res.MissingContextKeys}
	pr := req.Principal
	boundaryQuirk := p.Boundary != nil

	explicit := PolicyType("")
	deny := func(dr docResult, typ PolicyType) {
		if dr.deny && explicit == "" {
			explicit = typ
		}
	}

	scpOK := true
	for _, level := range p.SCPs {
		levelOK := false
		for _, d := range level {
			dr := evalDoc(ec, res, TypeSCP, d, false)
			deny(dr, TypeSCP)
			levelOK = levelOK || dr.allow
		}
		scpOK = scpOK && levelOK
	}

	resType := TypeResource
	if p.Resource != nil && p.Resource.kind == KindTrust {
		resType = TypeTrust
	}
	rd := evalDoc(ec, res, resType, p.Resource, boundaryQuirk)
	deny(rd, resType)
	resMatch := MatchNone
	if rd.allow {
		resMatch = rd.principal
	}

	idAllow := false
	for _, d := range p.Identity {
		dr := evalDoc(ec, res, TypeIdentity, d, false)
		deny(dr, TypeIdentity)
		idAllow = idAllow || dr.allow
	}

	pbOK := true
	if p.Boundary != nil {
		dr := evalDoc(ec, res, TypeBoundary, p.Boundary, false)
		deny(dr, TypeBoundary)
		pbOK = dr.allow
	}

	// Session policies (inline and managed) together form the session policy: any of them
	// allowing is enough; having none limits nothing.
	sessOK, haveSession := false, false
	for _, d := range p.Session {
		if d == nil {
			continue
		}
		haveSession = true
		dr := evalDoc(ec, res, TypeSession, d, false)
		deny(dr, TypeSession)
		sessOK = sessOK || dr.allow
	}
	if !haveSession {
		sessOK = true
	}

	decide := func(d Decision, by PolicyType) *Result {
		res.Decision, res.DecidedBy = d, by
		return res
	}

	if strings.EqualFold(req.Action, "sts:GetCallerIdentity") {
		return decide(Allow, "")
	}
	if explicit != "" {
		return decide(ExplicitDeny, explicit)
	}
	if !scpOK {
		return decide(ImplicitDeny, TypeSCP)
	}

	if pr == nil {
		// Anonymous: only a resource policy can allow.
		if resMatch != MatchNone {
			return decide(Allow, resType)
		}
		return decide(ImplicitDeny, resType)
	}
	if pr.Kind == identity.KindRoot {
		// The root user has every permission in its own account: no identity policy, boundary
		// or session policy applies to it.
		idAllow, pbOK, sessOK = true, true, true
	}
	resourceAccount := req.ResourceAccount
	if resourceAccount == "" {
		resourceAccount = pr.AccountID
	}

	if resourceAccount != pr.AccountID {
		// Cross-account: both sides (reference_policies_evaluation-logic-cross-account.html).
		switch {
		case resMatch == MatchNone:
			return decide(ImplicitDeny, resType)
		case !idAllow:
			return decide(ImplicitDeny, TypeIdentity)
		case !pbOK:
			return decide(ImplicitDeny, TypeBoundary)
		case !sessOK:
			return decide(ImplicitDeny, TypeSession)
		}
		return decide(Allow, resType)
	}

	// Same account: union, by which principal the resource policy named.
	switch {
	case resMatch.direct():
		return decide(Allow, resType)
	case resMatch == MatchRole && pbOK && sessOK:
		return decide(Allow, resType)
	}
	if resMatch == MatchNone && (resType == TypeTrust || isKMSKey(req.Resource)) {
		return decide(ImplicitDeny, resType)
	}
	switch {
	case !idAllow:
		return decide(ImplicitDeny, TypeIdentity)
	case !pbOK:
		return decide(ImplicitDeny, TypeBoundary)
	case !sessOK:
		return decide(ImplicitDeny, TypeSession)
	}
	if pr.Kind == identity.KindRoot {
		return decide(Allow, "")
	}
	return decide(Allow, TypeIdentity)
}

// SCPsApply reports whether service control policies restrict pr, given the organization's
// management account: they do not restrict the management account's principals, service-linked
// roles (path /aws-service-role/), web identities (which belong to no account), or callers
// outside the organization (pass "" as
// managementAccount when pr's account is in no organization). Callers set Policies.SCPs to nil
// when it returns false.
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
func SCPsApply(pr *identity.Principal, managementAccount string) bool {
	if pr == nil || managementAccount == "" || pr.AccountID == managementAccount || pr.Kind == identity.KindWebIdentity {
		return false
	}
	if pr.Kind == identity.KindAssumedRole {
		parts, ok := splitARN(pr.RoleARN)
		if ok && strings.HasPrefix(parts[5], "role/aws-service-role/") {
			return false
		}
	}
	return true
}

// isKMSKey reports whether arn names a KMS key, whose key policy must itself allow access.
func isKMSKey(arn string) bool {
	parts, ok := splitARN(arn)
	return ok && parts[2] == "kms" && strings.HasPrefix(parts[5], "key/")
}

// Message returns AWS's denial message for a denied result, e.g. "User: arn:… is not authorized
// to perform: license-manager:CheckoutLicense on resource: * because no identity-based policy
// allows the license-manager:CheckoutLicense action", or "… with an explicit deny in a service
// control policy". For a session the user shown is the assumed-role session ARN. It returns ""
// for an allowed result.
func (r *Result) Message(req *Request) string {
	if r == nil || r.Decision == Allow {
		return ""
	}
	user := "anonymous"
	if req.Principal != nil {
		user = req.Principal.ARN
	}
	var b strings.Builder
	b.WriteString("User: ")
	b.WriteString(user)
	b.WriteString(" is not authorized to perform: ")
	b.WriteString(req.Action)
	if req.Resource != "" {
		b.WriteString(" on resource: ")
		b.WriteString(req.Resource)
	}
	typ := r.DecidedBy
	if typ == "" {
		typ = TypeIdentity
	}
	if r.Decision == ExplicitDeny {
		b.WriteString(" with an explicit deny in ")
		b.WriteString(article(typ))
		b.WriteString(" ")
		b.WriteString(string(typ))
	} else {
		b.WriteString(" because no ")
		b.WriteString(string(typ))
		b.WriteString(" allows the ")
		b.WriteString(req.Action)
		b.WriteString(" action")
	}
	return b.String()
}

func article(t PolicyType) string {
	if t == TypeIdentity {
		return "an"
	}
	return "a"
}
