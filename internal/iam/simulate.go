package iam

import (
	"context"
	"errors"
	"strings"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/policy"
	"github.com/allot-dev/allot/internal/store"
)

// The policy simulator: SimulatePrincipalPolicy and SimulateCustomPolicy decide each action on
// each resource with policy.Evaluate, the evaluator that decides real calls, so a simulation and
// the call it simulates never disagree. What differs is where the inputs come from: the policies
// are the ones given (and, for SimulatePrincipalPolicy, the principal's stored ones), and the
// request context holds only the ContextEntries given. Only aws:CurrentTime and aws:EpochTime
// fall back to the time of the simulation, as the evaluator does for every request.

// ContextEntry is a condition key and its values for a simulation.
type ContextEntry struct {
	ContextKeyName   string
	ContextKeyValues []string
	ContextKeyType   string
}

// SimulatePrincipalPolicyInput is the input of SimulatePrincipalPolicy.
type SimulatePrincipalPolicyInput struct {
	PolicySourceARN                    string `query:"PolicySourceArn" json:"PolicySourceArn"`
	PolicyInputList                    []string
	PermissionsBoundaryPolicyInputList []string
	ActionNames                        []string
	ResourceARNs                       []string `query:"ResourceArns" json:"ResourceArns"`
	ResourcePolicy                     string
	ResourceOwner                      string
	CallerARN                          string `query:"CallerArn" json:"CallerArn"`
	ContextEntries                     []ContextEntry
	ResourceHandlingOption             string
	MaxItems                           *int32
	Marker                             string
}

// SimulateCustomPolicyInput is the input of SimulateCustomPolicy.
type SimulateCustomPolicyInput struct {
	PolicyInputList                    []string
	PermissionsBoundaryPolicyInputList []string
	ActionNames                        []string
	ResourceARNs                       []string `query:"ResourceArns" json:"ResourceArns"`
	ResourcePolicy                     string
	ResourceOwner                      string
	CallerARN                          string `query:"CallerArn" json:"CallerArn"`
	ContextEntries                     []ContextEntry
	ResourceHandlingOption             string
	MaxItems                           *int32
	Marker                             string
}

// SimulatePolicyOutput is the output of SimulatePrincipalPolicy and SimulateCustomPolicy.
type SimulatePolicyOutput struct {
	EvaluationResults []EvaluationResult
	IsTruncated       bool
	Marker            string `xml:",omitempty" json:",omitempty"`
}

// EvaluationResult is the simulated decision of one action: on the one resource simulated, or
// on several with the decision of each in ResourceSpecificResults.
type EvaluationResult struct {
	EvalActionName string
	// EvalResourceName is the resource simulated, or "*" when several were (AWS shows the
	// resource type's ARN template there; Allot has no catalogue of them).
	EvalResourceName                  string
	EvalDecision                      string
	MatchedStatements                 []MatchedStatement
	MissingContextValues              []string
	OrganizationsDecisionDetail       *OrganizationsDecisionDetail
	PermissionsBoundaryDecisionDetail *PermissionsBoundaryDecisionDetail
	EvalDecisionDetails               map[string]string
	ResourceSpecificResults           []ResourceSpecificResult
}

// ResourceSpecificResult is the simulated decision of an action on one of several resources.
type ResourceSpecificResult struct {
	EvalResourceName                  string
	EvalResourceDecision              string
	MatchedStatements                 []MatchedStatement
	MissingContextValues              []string
	EvalDecisionDetails               map[string]string
	PermissionsBoundaryDecisionDetail *PermissionsBoundaryDecisionDetail
}

// MatchedStatement names a statement that decided a simulation and where it is in its policy.
type MatchedStatement struct {
	SourcePolicyID   string `xml:"SourcePolicyId" json:"SourcePolicyId"`
	SourcePolicyType string
	StartPosition    *SourcePosition
	EndPosition      *SourcePosition
}

// SourcePosition is a line and column in a policy document, both 1-based.
type SourcePosition struct {
	Line   int32
	Column int32
}

// OrganizationsDecisionDetail says whether the organization's SCPs allow the action.
type OrganizationsDecisionDetail struct {
	AllowedByOrganizations bool
}

// PermissionsBoundaryDecisionDetail says whether the permissions boundary allows the action.
type PermissionsBoundaryDecisionDetail struct {
	AllowedByPermissionsBoundary bool
}

// Decisions as the simulator names them.
const (
	DecisionAllowed      = "allowed"
	DecisionExplicitDeny = "explicitDeny"
	DecisionImplicitDeny = "implicitDeny"
)

// Policy source types as the simulator reports them in MatchedStatements. (The service model's
// enum lists user, role, aws-managed, …; the service itself answers with these.)
const (
	SourceIAMPolicy      = "IAM Policy"
	SourceResourcePolicy = "Resource Policy"
)

// simulatedSession is the session name of a role simulated as the caller: the evaluator sees
// the role as one of its sessions, as a real call would.
const simulatedSession = "SimulatedSession"

// SimulatePrincipalPolicy simulates the policies of a user or role of the caller's account
// (its inline and attached policies and its permissions boundary), with the policies of
// PolicyInputList added and the boundary replaced by PermissionsBoundaryPolicyInputList, for
// each action on each resource. The caller is the principal of PolicySourceArn unless CallerArn
// names another user or role, which may be in another account. Errors: NoSuchEntity,
// InvalidInput, MalformedPolicyDocument, ValidationError.
func (s *Service) SimulatePrincipalPolicy(ctx context.Context, caller *identity.Principal, in *SimulatePrincipalPolicyInput) (*SimulatePolicyOutput, error) {
	if in.PolicySourceARN == "" {
		return nil, missing("policySourceArn")
	}
	if err := checkLength("policySourceArn", in.PolicySourceARN, 20, 2048); err != nil {
		return nil, err
	}
	in2 := simulateInput{
		policies: in.PolicyInputList, boundaries: in.PermissionsBoundaryPolicyInputList, actions: in.ActionNames,
		resources: in.ResourceARNs, resourcePolicy: in.ResourcePolicy, owner: in.ResourceOwner, callerARN: in.CallerARN,
		context: in.ContextEntries, handling: in.ResourceHandlingOption, maxItems: in.MaxItems, marker: in.Marker,
	}
	sim, p, err := in2.check("SimulatePrincipalPolicy")
	if err != nil {
		return nil, err
	}
	src, err := parseEntityARN(in.PolicySourceARN)
	if err != nil {
		return nil, awserr.New(ErrInvalidInput, "Invalid policySourceArn: %s is not the ARN of a user, group or role.", in.PolicySourceARN)
	}
	stored, err := s.sourcePolicies(ctx, caller, src)
	if err != nil {
		return nil, err
	}
	if sim.principal == nil {
		sim.principal = stored.principal
	}
	sim.identity = append(stored.identity, sim.identity...)
	if sim.boundary == nil {
		sim.boundary = stored.boundary
	}
	if s.SCPs != nil {
		if sim.scps, err = s.SCPs(ctx, sim.principal); err != nil {
			return nil, err
		}
	}
	return sim.run(p), nil
}

// SimulateCustomPolicy simulates the identity policies of PolicyInputList, limited by the
// permissions boundary of PermissionsBoundaryPolicyInputList, for each action on each
// resource. CallerArn, a user or role of any account, is the caller a ResourcePolicy's
// Principal is matched against, and is required with one; without it the caller is a user of
// the caller's account. Errors: InvalidInput, MalformedPolicyDocument, ValidationError.
func (s *Service) SimulateCustomPolicy(ctx context.Context, caller *identity.Principal, in *SimulateCustomPolicyInput) (*SimulatePolicyOutput, error) {
	if len(in.PolicyInputList) == 0 {
		return nil, missing("policyInputList")
	}
	in2 := simulateInput{
		policies: in.PolicyInputList, boundaries: in.PermissionsBoundaryPolicyInputList, actions: in.ActionNames,
		resources: in.ResourceARNs, resourcePolicy: in.ResourcePolicy, owner: in.ResourceOwner, callerARN: in.CallerARN,
		context: in.ContextEntries, handling: in.ResourceHandlingOption, maxItems: in.MaxItems, marker: in.Marker,
	}
	sim, p, err := in2.check("SimulateCustomPolicy")
	if err != nil {
		return nil, err
	}
	if sim.principal == nil {
		if in.ResourcePolicy != "" {
			return nil, awserr.New(ErrInvalidInput, "CallerArn is required when ResourcePolicy is specified: it is the principal the resource policy's Principal element is evaluated against.")
		}
		// Nothing matches the caller's ARN without a resource policy: only its account matters.
		sim.principal = &identity.Principal{Kind: identity.KindIAMUser, AccountID: caller.AccountID, ARN: caller.ARN}
	}
	return sim.run(p), nil
}

// entityARN is a parsed user, role or group ARN.
type entityARN struct {
	arn, partition, account string
	kind                    string // "user", "role" or "group"
	path, name              string
}

// parseEntityARN parses arn:PARTITION:iam::ACCOUNT:user|role|group/PATH/NAME.
func parseEntityARN(arn string) (entityARN, error) {
	parts := strings.SplitN(arn, ":", 6)
	bad := errors.New("not an IAM user, role or group ARN")
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "iam" || parts[3] != "" || !identity.ValidAccountID(parts[4]) {
		return entityARN{}, bad
	}
	kind, rest, ok := strings.Cut(parts[5], "/")
	if !ok || kind != "user" && kind != "role" && kind != "group" {
		return entityARN{}, bad
	}
	i := strings.LastIndexByte(rest, '/')
	e := entityARN{arn: arn, partition: parts[1], account: parts[4], kind: kind, path: "/" + rest[:i+1], name: rest[i+1:]}
	if e.name == "" || len(e.name) > 128 {
		return entityARN{}, bad
	}
	for i := 0; i < len(e.name); i++ {
		if !isNameChar(e.name[i]) {
			return entityARN{}, bad
		}
	}
	return e, nil
}

// principal returns the principal a caller ARN stands for: a user, or a session of a role.
// Groups cannot sign requests; one simulated as the caller matches only its account.
func (e entityARN) principal() *identity.Principal {
	switch e.kind {
	case "role":
		return &identity.Principal{
			Kind: identity.KindAssumedRole, AccountID: e.account,
			ARN:     "arn:" + e.partition + ":sts::" + e.account + ":assumed-role/" + e.name + "/" + simulatedSession,
			RoleARN: e.arn, RoleName: e.name, SessionName: simulatedSession,
		}
	case "user":
		return &identity.Principal{Kind: identity.KindIAMUser, AccountID: e.account, ARN: e.arn, UserName: e.name}
	}
	return &identity.Principal{Kind: identity.KindIAMUser, AccountID: e.account, ARN: e.arn}
}

// sourced are a stored principal and its policies.
type sourced struct {
	principal *identity.Principal
	identity  []*simPolicy
	boundary  *simPolicy
}

// sourcePolicies reads the user or role a SimulatePrincipalPolicy names, in the caller's
// account, with its identity policies and permissions boundary.
func (s *Service) sourcePolicies(ctx context.Context, caller *identity.Principal, src entityARN) (*sourced, error) {
	notFound := awserr.New(ErrNoSuchEntity, "The %s with name %s cannot be found.", src.kind, src.name)
	if src.account != caller.AccountID || src.kind == "group" {
		// Allot has no groups; another account's entities are not the caller's to read.
		return nil, notFound
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*sourced, error) {
		var out sourced
		var stored *store.PrincipalPolicies
		var path string
		var err error
		switch src.kind {
		case "user":
			var u *store.User
			if u, err = tx.User(ctx, src.account, src.name); err == nil {
				path = u.Path
				out.principal = &identity.Principal{Kind: identity.KindIAMUser, AccountID: u.AccountID, ARN: u.ARN, PrincipalID: u.ID, UserName: u.Name}
				stored, err = tx.UserPolicies(ctx, src.account, u.Name)
			}
		case "role":
			var r *store.Role
			if r, err = tx.Role(ctx, src.account, src.name); err == nil {
				path = r.Path
				out.principal = &identity.Principal{
					Kind: identity.KindAssumedRole, AccountID: r.AccountID,
					ARN:         "arn:" + src.partition + ":sts::" + r.AccountID + ":assumed-role/" + r.Name + "/" + simulatedSession,
					PrincipalID: r.ID + ":" + simulatedSession, RoleARN: r.ARN, RoleName: r.Name, SessionName: simulatedSession,
				}
				stored, err = tx.RolePolicies(ctx, src.account, r.Name)
			}
		}
		if is(err, store.ErrNotFound) || err == nil && path != src.path {
			return nil, notFound
		}
		if err != nil {
			return nil, err
		}
		name := out.principal.UserName
		if src.kind == "role" {
			name = out.principal.RoleName
		}
		for _, t := range stored.Identity {
			id := src.kind + "_" + name + "_" + t.Name // an inline policy, as AWS names it
			if strings.HasPrefix(t.Name, "arn:") {
				id = t.Name[strings.LastIndexByte(t.Name, '/')+1:] // a managed policy: its name
			}
			sp, err := storedPolicy(id, t)
			if err != nil {
				return nil, err
			}
			out.identity = append(out.identity, sp)
		}
		if stored.Boundary != nil {
			b := *stored.Boundary
			if out.boundary, err = storedPolicy(b.Name[strings.LastIndexByte(b.Name, '/')+1:], b); err != nil {
				return nil, err
			}
		}
		return &out, nil
	})
}

// storedPolicy parses a stored identity policy, which was valid when it was stored.
func storedPolicy(id string, t store.PolicyText) (*simPolicy, error) {
	d, err := policy.Parse(t.Document, policy.KindIdentity)
	if err != nil {
		return nil, errors.New("iam: stored policy " + t.Name + " does not parse: " + err.Error())
	}
	return &simPolicy{id: id, typ: SourceIAMPolicy, doc: d}, nil
}
