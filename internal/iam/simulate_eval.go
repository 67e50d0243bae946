package iam

import (
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/policy"
)

// simulation is one simulate call, ready to run: who calls, with which policies, on what.
type simulation struct {
	principal *identity.Principal
	identity  []*simPolicy // the principal's identity policies, then PolicyInputList
	boundary  *simPolicy
	resource  *simPolicy       // ResourcePolicy, parsed as a resource-based policy
	trust     *policy.Document // ResourcePolicy parsed as a role trust policy, when it is one
	scps      [][]*policy.Document
	owner     string // ResourceOwner's account; "" for the caller's
	actions   []string
	resources []string
	context   map[string][]string
	now       time.Time

	byName map[string]*simPolicy // Document.Name → policy, for the evaluator's trace
}

// simPolicy is a policy taking part in a simulation and how MatchedStatements name it.
type simPolicy struct {
	id    string // SourcePolicyId
	typ   string // SourcePolicyType
	doc   *policy.Document
	spans [][2]*SourcePosition // per statement, computed when first needed
}

// Keys of EvalDecisionDetails: the two sides of a cross-account decision.
const (
	detailIdentity = SourceIAMPolicy
	detailResource = SourceResourcePolicy
)

// run decides every action of the page on every resource.
func (sim *simulation) run(p *page) *SimulatePolicyOutput {
	sim.byName = make(map[string]*simPolicy)
	name := func(sp *simPolicy) {
		if sp != nil {
			sp.doc.Name = "simulated policy " + strconv.Itoa(len(sim.byName))
			sim.byName[sp.doc.Name] = sp
		}
	}
	for _, sp := range sim.identity {
		name(sp)
	}
	name(sim.boundary)
	name(sim.resource)
	if sim.trust != nil {
		sim.trust.Name = sim.resource.doc.Name
	}
	// Results are one per action, so a page is a range of actions.
	page, truncated, marker := pageOf(p, sim.actions)
	out := &SimulatePolicyOutput{EvaluationResults: make([]EvaluationResult, 0, len(page)), IsTruncated: truncated, Marker: marker}
	for _, a := range page {
		out.EvaluationResults = append(out.EvaluationResults, sim.action(a))
	}
	return out
}

// decided is the simulated decision of one action on one resource.
type decided struct {
	decision  string
	matched   []MatchedStatement
	missing   []string
	details   map[string]string // cross-account only
	scpDenied bool
	orgs      *OrganizationsDecisionDetail
	boundary  *PermissionsBoundaryDecisionDetail
}

// action simulates one action on every resource and shapes the result as IAM does: one
// resource ("*" by default) in the result itself, several in ResourceSpecificResults.
func (sim *simulation) action(action string) EvaluationResult {
	if len(sim.resources) == 1 && sim.resources[0] == "*" {
		d := sim.decide(action, "*")
		return EvaluationResult{
			EvalActionName: action, EvalResourceName: "*", EvalDecision: d.decision,
			MatchedStatements: d.matched, MissingContextValues: d.missing,
			OrganizationsDecisionDetail: d.orgs, PermissionsBoundaryDecisionDetail: d.boundary,
			EvalDecisionDetails: d.details,
		}
	}
	all := make([]decided, len(sim.resources))
	res := EvaluationResult{EvalActionName: action, EvalResourceName: "*", ResourceSpecificResults: make([]ResourceSpecificResult, len(sim.resources))}
	if len(sim.resources) == 1 {
		res.EvalResourceName = sim.resources[0]
	}
	for i, r := range sim.resources {
		d := sim.decide(action, r)
		all[i] = d
		res.ResourceSpecificResults[i] = ResourceSpecificResult{
			EvalResourceName: r, EvalResourceDecision: d.decision, MatchedStatements: d.matched,
			MissingContextValues: d.missing, EvalDecisionDetails: d.details, PermissionsBoundaryDecisionDetail: d.boundary,
		}
	}
	// The result itself: the most restrictive decision, with the statements that made it, and
	// what the resources have in common.
	res.EvalDecision = DecisionAllowed
	for _, d := range all {
		res.EvalDecision = stricter(res.EvalDecision, d.decision)
	}
	res.MatchedStatements = []MatchedStatement{}
	res.MissingContextValues = []string{}
	scpDenied := false
	for _, d := range all {
		if d.decision == res.EvalDecision {
			res.MatchedStatements = appendNew(res.MatchedStatements, d.matched...)
		}
		for _, k := range d.missing {
			if !hasKeyFold(res.MissingContextValues, k) {
				res.MissingContextValues = append(res.MissingContextValues, k)
			}
		}
		if d.orgs != nil {
			if res.OrganizationsDecisionDetail == nil {
				res.OrganizationsDecisionDetail = &OrganizationsDecisionDetail{AllowedByOrganizations: true}
			}
			res.OrganizationsDecisionDetail.AllowedByOrganizations = res.OrganizationsDecisionDetail.AllowedByOrganizations && d.orgs.AllowedByOrganizations
		}
		if d.boundary != nil {
			if res.PermissionsBoundaryDecisionDetail == nil {
				res.PermissionsBoundaryDecisionDetail = &PermissionsBoundaryDecisionDetail{AllowedByPermissionsBoundary: true}
			}
			res.PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary = res.PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary && d.boundary.AllowedByPermissionsBoundary
		}
		scpDenied = scpDenied || d.scpDenied
		for k, v := range d.details {
			if res.EvalDecisionDetails == nil {
				res.EvalDecisionDetails = map[string]string{}
			}
			if old, ok := res.EvalDecisionDetails[k]; ok {
				v = stricter(old, v)
			}
			res.EvalDecisionDetails[k] = v
		}
	}
	// Present but empty within one account; left out when the SCPs ended the evaluation.
	if res.EvalDecisionDetails == nil && !scpDenied {
		res.EvalDecisionDetails = map[string]string{}
	}
	return res
}

// decide simulates action on resource with policy.Evaluate.
func (sim *simulation) decide(action, resource string) decided {
	req := &policy.Request{
		Principal: sim.principal, Action: action, Resource: resource,
		ResourceAccount: sim.resourceAccount(resource), Context: sim.context, Time: sim.now,
	}
	if policy.WildcardOnly(action) {
		// Actions without a resource type are authorized against "*", whatever resource is
		// named, as real calls are: a statement naming a license ARN grants nothing for them.
		req.Resource = "*"
	}
	pols := &policy.Policies{SCPs: sim.scps}
	for _, sp := range sim.identity {
		pols.Identity = append(pols.Identity, sp.doc)
	}
	if sim.boundary != nil {
		pols.Boundary = sim.boundary.doc
	}
	if sim.resource != nil {
		pols.Resource = sim.resource.doc
		if sim.trust != nil && isAssumeRole(action) && namesRole(req.Resource) {
			pols.Resource = sim.trust
		}
	}
	r := policy.Evaluate(req, pols)

	d := decided{decision: decisionOf(r.Decision), matched: []MatchedStatement{}, missing: r.MissingContextKeys}
	if len(sim.scps) > 0 {
		// Context keys only SCPs refer to are not reported, and SCPs get a detail of their own.
		noSCPs := *pols
		noSCPs.SCPs = nil
		d.missing = policy.Evaluate(req, &noSCPs).MissingContextKeys
		orgs := policy.Evaluate(req, &policy.Policies{SCPs: sim.scps})
		d.scpDenied = orgs.DecidedBy == policy.TypeSCP
		d.orgs = &OrganizationsDecisionDetail{AllowedByOrganizations: !d.scpDenied}
	}
	if d.missing == nil {
		d.missing = []string{}
	}

	// What each kind of policy says, read from the trace, and the statements that decided:
	// of each identity or resource policy, its matching Denies, or when none its matching
	// Allows. (SCPs and the boundary have details of their own.)
	var idAllow, idDeny, pbAllow, pbDeny, resAllow, resDeny bool
	var allows, denies []policy.Step
	flush := func() {
		decisive := allows
		if len(denies) > 0 {
			decisive = denies
		}
		for _, st := range decisive {
			if sp := sim.byName[st.Policy]; sp != nil {
				d.matched = append(d.matched, sp.statement(st.Statement))
			}
		}
		allows, denies = allows[:0], denies[:0]
	}
	for i, st := range r.Trace {
		if i > 0 && (st.Policy != r.Trace[i-1].Policy || st.Type != r.Trace[i-1].Type) {
			flush()
		}
		if !st.Matched {
			continue
		}
		deny := st.Effect == "Deny"
		switch st.Type {
		case policy.TypeIdentity:
			idAllow, idDeny = idAllow || !deny, idDeny || deny
		case policy.TypeBoundary:
			pbAllow, pbDeny = pbAllow || !deny, pbDeny || deny
			continue
		case policy.TypeResource, policy.TypeTrust:
			resAllow, resDeny = resAllow || !deny, resDeny || deny
		default:
			continue
		}
		if deny {
			denies = append(denies, st)
		} else {
			allows = append(allows, st)
		}
	}
	flush()
	if sim.boundary != nil {
		d.boundary = &PermissionsBoundaryDecisionDetail{AllowedByPermissionsBoundary: pbAllow && !pbDeny}
	}
	if req.ResourceAccount != sim.principal.AccountID && !d.scpDenied {
		id := DecisionImplicitDeny
		switch {
		case idDeny || pbDeny:
			id = DecisionExplicitDeny
		case idAllow && (sim.boundary == nil || pbAllow):
			id = DecisionAllowed
		}
		res := DecisionImplicitDeny
		switch {
		case resDeny:
			res = DecisionExplicitDeny
		case resAllow:
			res = DecisionAllowed
		}
		d.details = map[string]string{detailIdentity: id, detailResource: res}
	}
	return d
}

// resourceAccount is the account that owns a simulated resource: the one its ARN names, else
// ResourceOwner, else the caller's.
func (sim *simulation) resourceAccount(resource string) string {
	parts := strings.SplitN(resource, ":", 6)
	if len(parts) == 6 && identity.ValidAccountID(parts[4]) {
		return parts[4]
	}
	if sim.owner != "" {
		return sim.owner
	}
	return sim.principal.AccountID
}

// statement returns the MatchedStatement of statement i of the policy, with its positions as
// IAM reports them: the start is where IAM's JSON parser stood before reading the statement
// (just after the [ of the Statement array, the } of the statement before, or the { of a lone
// statement object), the end just after the statement's }.
func (sp *simPolicy) statement(i int) MatchedStatement {
	if sp.spans == nil {
		sp.spans = make([][2]*SourcePosition, len(sp.doc.Statements))
		text := sp.doc.Text()
		for j, s := range sp.doc.Statements {
			start := positionAfter(s.Start) // a lone statement object
			k := s.Start.Offset - 1
			for k >= 0 && strings.IndexByte(" \t\r\n", text[k]) >= 0 {
				k--
			}
			switch {
			case j > 0:
				start = positionAfter(sp.doc.Statements[j-1].End)
			case k >= 0 && text[k] == '[':
				start = positionAfter(sp.doc.PositionAt(k))
			}
			sp.spans[j] = [2]*SourcePosition{start, positionAfter(s.End)}
		}
	}
	return MatchedStatement{SourcePolicyID: sp.id, SourcePolicyType: sp.typ, StartPosition: sp.spans[i][0], EndPosition: sp.spans[i][1]}
}

// after returns the position just after the character at p (a brace or a bracket, never a
// line break).
func positionAfter(p policy.Position) *SourcePosition {
	return &SourcePosition{Line: int32(p.Line), Column: int32(p.Column + 1)}
}

func decisionOf(d policy.Decision) string {
	switch d {
	case policy.Allow:
		return DecisionAllowed
	case policy.ExplicitDeny:
		return DecisionExplicitDeny
	}
	return DecisionImplicitDeny
}

// stricter returns the more restrictive of two decisions: explicitDeny, then implicitDeny.
func stricter(a, b string) string {
	rank := map[string]int{DecisionAllowed: 0, DecisionImplicitDeny: 1, DecisionExplicitDeny: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// appendNew appends the statements list does not hold yet.
func appendNew(list []MatchedStatement, add ...MatchedStatement) []MatchedStatement {
next:
	for _, m := range add {
		for _, o := range list {
			if o.SourcePolicyID == m.SourcePolicyID && *o.StartPosition == *m.StartPosition && *o.EndPosition == *m.EndPosition {
				continue next
			}
		}
		list = append(list, m)
	}
	return list
}

func hasKeyFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// isAssumeRole reports whether action is one of STS's AssumeRole actions, which a role's trust
// policy decides.
func isAssumeRole(action string) bool {
	prefix, name, _ := strings.Cut(action, ":")
	return strings.EqualFold(prefix, "sts") && len(name) >= 10 && strings.EqualFold(name[:10], "AssumeRole")
}

// isRoleARN reports whether arn names an IAM role.
func namesRole(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) == 6 && parts[2] == "iam" && strings.HasPrefix(parts[5], "role/")
}
