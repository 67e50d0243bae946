package policy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/allot-dev/allot/internal/identity"
)

const (
	bucketObj = "arn:aws:s3:::bucket/key"
	roleR     = "arn:aws:iam::111122223333:role/R"
	roleRB    = "arn:aws:iam::444455556666:role/R"
)

// allowDoc returns an identity-style policy allowing action on resource.
func allowDoc(action, resource string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":%q,"Resource":%q}}`, action, resource)
}

// denyDoc returns an identity-style policy denying action on resource.
func denyDoc(action, resource string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":%q,"Resource":%q}}`, action, resource)
}

// resourceDoc returns a resource policy allowing action on resource to the AWS principal.
func resourceDoc(principal, action, resource string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":%q},"Action":%q,"Resource":%q}}`, principal, action, resource)
}

// pol builds Policies from JSON texts; empty strings mean "none".
type pol struct {
	identity, boundary, session, resource string
	resourceKind                          Kind
	scps                                  [][]string
}

func (p pol) build(t *testing.T) *Policies {
	t.Helper()
	out := &Policies{}
	if p.identity != "" {
		out.Identity = []*Document{mustParse(t, "identity", p.identity, KindIdentity)}
	}
	if p.boundary != "" {
		out.Boundary = mustParse(t, "boundary", p.boundary, KindIdentity)
	}
	if p.session != "" {
		out.Session = []*Document{mustParse(t, "session", p.session, KindSession)}
	}
	if p.resource != "" {
		k := p.resourceKind
		if k == 0 {
			k = KindResource
		}
		out.Resource = mustParse(t, "resource", p.resource, k)
	}
	if p.scps != nil {
		out.SCPs = make([][]*Document, len(p.scps))
		for i, level := range p.scps {
			out.SCPs[i] = []*Document{}
			for j, doc := range level {
				out.SCPs[i] = append(out.SCPs[i], mustParse(t, fmt.Sprintf("scp-%d-%d", i, j), doc, KindSCP))
			}
		}
	}
	return out
}

// decisionCase is one evaluation and its expected outcome.
type decisionCase struct {
	name      string
	principal *identity.Principal
	account   string // ResourceAccount
	action    string
	resource  string
	ctx       map[string][]string
	p         pol
	want      Decision
	by        PolicyType
}

func runDecisions(t *testing.T, tests []decisionCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			action, resource := tt.action, tt.resource
			if action == "" {
				action = "s3:GetObject"
			}
			if resource == "" {
				resource = bucketObj
			}
			req := &Request{Principal: tt.principal, Action: action, Resource: resource,
				ResourceAccount: tt.account, Context: tt.ctx, Time: fixedTime}
			res := Evaluate(req, tt.p.build(t))
			if res.Decision != tt.want || res.DecidedBy != tt.by {
				t.Errorf("got %v by %q, want %v by %q\nmessage: %s\ntrace: %+v",
					res.Decision, res.DecidedBy, tt.want, tt.by, res.Message(req), res.Trace)
			}
		})
	}
}

var (
	idS3       = allowDoc("s3:GetObject", "arn:aws:s3:::bucket/*")
	boundEC2   = allowDoc("ec2:*", "*") // a boundary that does not allow s3
	boundS3    = allowDoc("s3:*", "*")
	sessLM     = allowDoc("license-manager:GetLicense", "*") // a session policy that does not allow s3
	sessS3     = allowDoc("s3:Get*", "*")
	fullAccess = allowDoc("*", "*")
)

// Same account, by which principal the resource policy names × implicit deny in the identity
// policy, the boundary or the session policy.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html ("Resource-based policies")
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
func TestEvaluate_SameAccountPrincipalKinds(t *testing.T) {
	userRes := resourceDoc(userCI.ARN, "s3:GetObject", "arn:aws:s3:::bucket/*")
	rootRes := resourceDoc("arn:aws:iam::111122223333:root", "s3:GetObject", "arn:aws:s3:::bucket/*")
	idRes := resourceDoc(acctA, "s3:GetObject", "arn:aws:s3:::bucket/*")
	sessRes := resourceDoc(sessionDeployer.ARN, "s3:GetObject", "arn:aws:s3:::bucket/*")
	roleRes := resourceDoc(sessionDeployer.RoleARN, "s3:GetObject", "arn:aws:s3:::bucket/*")
	starRes := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}}`
	tests := []decisionCase{
		// No resource policy: identity ∧ boundary ∧ session.
		{name: "user/noResource/identity", principal: userCI, p: pol{identity: idS3}, want: Allow, by: TypeIdentity},
		{name: "user/noResource/noIdentity", principal: userCI, p: pol{}, want: ImplicitDeny, by: TypeIdentity},
		{name: "user/noResource/boundaryLacks", principal: userCI, p: pol{identity: idS3, boundary: boundEC2}, want: ImplicitDeny, by: TypeBoundary},
		{name: "user/noResource/boundaryAllows", principal: userCI, p: pol{identity: idS3, boundary: boundS3}, want: Allow, by: TypeIdentity},
		{name: "user/noResource/boundaryAloneGrantsNothing", principal: userCI, p: pol{boundary: boundS3}, want: ImplicitDeny, by: TypeIdentity},
		{name: "session/noResource/sessionLacks", principal: sessionDeployer, p: pol{identity: idS3, session: sessLM}, want: ImplicitDeny, by: TypeSession},
		{name: "session/noResource/sessionAllows", principal: sessionDeployer, p: pol{identity: idS3, session: sessS3}, want: Allow, by: TypeIdentity},
		{name: "session/noResource/sessionAloneGrantsNothing", principal: sessionDeployer, p: pol{session: sessS3}, want: ImplicitDeny, by: TypeIdentity},

		// Resource policy names the IAM user: identity and boundary implicit denies are ignored.
		{name: "user/userARN/noIdentity", principal: userCI, p: pol{resource: userRes}, want: Allow, by: TypeResource},
		{name: "user/userARN/boundaryLacks", principal: userCI, p: pol{resource: userRes, boundary: boundEC2}, want: Allow, by: TypeResource},

		// Resource policy names the account: delegation to IAM, the identity side decides.
		{name: "user/rootARN/noIdentity", principal: userCI, p: pol{resource: rootRes}, want: ImplicitDeny, by: TypeIdentity},
		{name: "user/accountID/noIdentity", principal: userCI, p: pol{resource: idRes}, want: ImplicitDeny, by: TypeIdentity},
		{name: "user/rootARN/identity", principal: userCI, p: pol{resource: rootRes, identity: idS3}, want: Allow, by: TypeIdentity},
		{name: "user/rootARN/boundaryLacks", principal: userCI, p: pol{resource: rootRes, identity: idS3, boundary: boundEC2}, want: ImplicitDeny, by: TypeBoundary},
		{name: "session/rootARN/sessionLacks", principal: sessionDeployer, p: pol{resource: rootRes, identity: idS3, session: sessLM}, want: ImplicitDeny, by: TypeSession},

		// Resource policy names the session ARN: identity, boundary and session implicit denies are
		// all ignored.
		{name: "session/sessionARN/nothingElse", principal: sessionDeployer, p: pol{resource: sessRes}, want: Allow, by: TypeResource},
		{name: "session/sessionARN/boundaryAndSessionLack", principal: sessionDeployer, p: pol{resource: sessRes, boundary: boundEC2, session: sessLM}, want: Allow, by: TypeResource},

		// Resource policy names the role ARN: no identity policy needed, but the boundary and the
		// session policy still limit it.
		{name: "session/roleARN/noIdentity", principal: sessionDeployer, p: pol{resource: roleRes}, want: Allow, by: TypeResource},
		{name: "session/roleARN/boundaryAllows", principal: sessionDeployer, p: pol{resource: roleRes, boundary: boundS3}, want: Allow, by: TypeResource},
		{name: "session/roleARN/boundaryLacks", principal: sessionDeployer, p: pol{resource: roleRes, identity: idS3, boundary: boundEC2}, want: ImplicitDeny, by: TypeBoundary},
		{name: "session/roleARN/boundaryLacksNoIdentity", principal: sessionDeployer, p: pol{resource: roleRes, boundary: boundEC2}, want: ImplicitDeny, by: TypeIdentity},
		{name: "session/roleARN/sessionLacks", principal: sessionDeployer, p: pol{resource: roleRes, identity: idS3, session: sessLM}, want: ImplicitDeny, by: TypeSession},
		{name: "session/roleARN/sessionAllows", principal: sessionDeployer, p: pol{resource: roleRes, session: sessS3}, want: Allow, by: TypeResource},

		// A user ARN does not name a session and vice versa.
		{name: "session/userARN", principal: sessionDeployer, p: pol{resource: userRes}, want: ImplicitDeny, by: TypeIdentity},
		{name: "user/sessionARN", principal: userCI, p: pol{resource: sessRes}, want: ImplicitDeny, by: TypeIdentity},

		// "*" names everyone directly.
		{name: "session/star/boundaryLacks", principal: sessionDeployer, p: pol{resource: starRes, boundary: boundEC2, session: sessLM}, want: Allow, by: TypeResource},

		// The resource-policy Allow must match action and resource too.
		{name: "user/userARN/otherAction", principal: userCI, action: "s3:PutObject", p: pol{resource: userRes}, want: ImplicitDeny, by: TypeIdentity},
	}
	runDecisions(t, tests)
}

// Cross-account: the identity side (limited by boundary and session policy) and the resource
// policy must both allow, whichever principal the resource policy names.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
func TestEvaluate_CrossAccount(t *testing.T) {
	userBRes := resourceDoc(userB.ARN, "s3:GetObject", "arn:aws:s3:::bucket/*")
	acctBRes := resourceDoc("arn:aws:iam::444455556666:root", "s3:GetObject", "arn:aws:s3:::bucket/*")
	sessBRes := resourceDoc(sessionB.ARN, "s3:GetObject", "arn:aws:s3:::bucket/*")
	roleBRes := resourceDoc(sessionB.RoleARN, "s3:GetObject", "arn:aws:s3:::bucket/*")
	tests := []decisionCase{
		{name: "bothAllow/user", principal: userB, account: acctA, p: pol{identity: idS3, resource: userBRes}, want: Allow, by: TypeResource},
		{name: "bothAllow/account", principal: userB, account: acctA, p: pol{identity: idS3, resource: acctBRes}, want: Allow, by: TypeResource},
		{name: "bothAllow/role", principal: sessionB, account: acctA, p: pol{identity: idS3, resource: roleBRes}, want: Allow, by: TypeResource},
		{name: "noIdentity/userNamed", principal: userB, account: acctA, p: pol{resource: userBRes}, want: ImplicitDeny, by: TypeIdentity},
		{name: "noIdentity/sessionNamed", principal: sessionB, account: acctA, p: pol{resource: sessBRes}, want: ImplicitDeny, by: TypeIdentity},
		{name: "noResourcePolicy", principal: userB, account: acctA, p: pol{identity: idS3}, want: ImplicitDeny, by: TypeResource},
		{name: "resourceNamesOtherAccount", principal: userB, account: acctA, p: pol{identity: idS3, resource: resourceDoc("arn:aws:iam::999988887777:root", "s3:GetObject", "*")}, want: ImplicitDeny, by: TypeResource},
		{name: "resourceNamesOtherUser", principal: userB, account: acctA, p: pol{identity: idS3, resource: resourceDoc("arn:aws:iam::444455556666:user/other", "s3:GetObject", "*")}, want: ImplicitDeny, by: TypeResource},
		{name: "boundaryLacks", principal: userB, account: acctA, p: pol{identity: idS3, resource: userBRes, boundary: boundEC2}, want: ImplicitDeny, by: TypeBoundary},
		{name: "sessionPolicyLacks/sessionNamed", principal: sessionB, account: acctA, p: pol{identity: idS3, resource: sessBRes, session: sessLM}, want: ImplicitDeny, by: TypeSession},
		{name: "nothing", principal: userB, account: acctA, p: pol{}, want: ImplicitDeny, by: TypeResource},
		// The root user of another account still needs the resource policy; its own identity side
		// is implicit.
		{name: "foreignRoot/accountNamed", principal: identity.Root(acctB, ""), account: acctA, p: pol{resource: acctBRes}, want: Allow, by: TypeResource},
		{name: "foreignRoot/noResourcePolicy", principal: identity.Root(acctB, ""), account: acctA, p: pol{}, want: ImplicitDeny, by: TypeResource},
	}
	runDecisions(t, tests)
}

// An explicit Deny in any policy wins, and the result names the policy type.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
func TestEvaluate_ExplicitDeny(t *testing.T) {
	userRes := resourceDoc(userCI.ARN, "s3:GetObject", "arn:aws:s3:::bucket/*")
	resDeny := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}}`
	tests := []decisionCase{
		{name: "identity", principal: userCI, p: pol{identity: `{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}`}, want: ExplicitDeny, by: TypeIdentity},
		{name: "identityOverResourceGrant", principal: userCI, p: pol{resource: userRes, identity: denyDoc("s3:*", "*")}, want: ExplicitDeny, by: TypeIdentity},
		{name: "resource", principal: userCI, p: pol{identity: idS3, resource: resDeny}, want: ExplicitDeny, by: TypeResource},
		{name: "boundary", principal: userCI, p: pol{identity: idS3, boundary: `{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`}, want: ExplicitDeny, by: TypeBoundary},
		{name: "session", principal: sessionDeployer, p: pol{identity: idS3, session: denyDoc("s3:*", "*")}, want: ExplicitDeny, by: TypeSession},
		{name: "scp", principal: userCI, p: pol{identity: idS3, scps: [][]string{{fullAccess, denyDoc("s3:*", "*")}}}, want: ExplicitDeny, by: TypeSCP},
		{name: "scpOverRoot", principal: rootA, p: pol{scps: [][]string{{fullAccess, denyDoc("s3:*", "*")}}}, want: ExplicitDeny, by: TypeSCP},
		{name: "denyNotAction", principal: userCI, p: pol{identity: `{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","NotAction":"iam:*","Resource":"*"}]}`}, want: ExplicitDeny, by: TypeIdentity},
		{name: "denyNotActionSpares", principal: userCI, action: "iam:GetUser", resource: "arn:aws:iam::111122223333:user/ci", p: pol{identity: `{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","NotAction":"iam:*","Resource":"*"}]}`}, want: Allow, by: TypeIdentity},
		{name: "denyNotResource", principal: userCI, action: "license-manager:GetLicense", resource: "arn:aws:license-manager::111122223333:license:l-2", p: pol{identity: `{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"license-manager:*","NotResource":"arn:aws:license-manager::111122223333:license:l-1"}]}`}, want: ExplicitDeny, by: TypeIdentity},
		{name: "denyNotResourceSpares", principal: userCI, action: "license-manager:GetLicense", resource: "arn:aws:license-manager::111122223333:license:l-1", p: pol{identity: `{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"license-manager:*","NotResource":"arn:aws:license-manager::111122223333:license:l-1"}]}`}, want: Allow, by: TypeIdentity},
		// A Deny with StringNotEquals on a key the request lacks denies (the missing-key rule).
		{name: "denyOutsideOrg", principal: userB, account: acctA, p: pol{identity: idS3, resource: `{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"s3:*","Resource":"*"},` +
			`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-1"}}}]}`}, want: ExplicitDeny, by: TypeResource},
		// Allow NotAction grants everything else but does not deny the listed actions.
		{name: "allowNotAction", principal: userCI, action: "license-manager:CheckoutLicense", resource: "*", p: pol{identity: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`}, want: Allow, by: TypeIdentity},
		{name: "allowNotActionListed", principal: userCI, action: "iam:CreateUser", resource: "*", p: pol{identity: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`}, want: ImplicitDeny, by: TypeIdentity},
		// sts:GetCallerIdentity is always allowed, even against an explicit deny.
		{name: "getCallerIdentity", principal: userCI, action: "sts:GetCallerIdentity", resource: "*", p: pol{identity: denyDoc("*", "*")}, want: Allow, by: ""},
	}
	runDecisions(t, tests)
}

// SCPs: every level of the principal's organization path needs an Allow; an empty level denies;
// an SCP never grants by itself; they apply to a member account's root user.
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
func TestEvaluate_SCPs(t *testing.T) {
	ec2Only := allowDoc("ec2:*", "*")
	tests := []decisionCase{
		{name: "notApplicable", principal: userCI, p: pol{identity: idS3}, want: Allow, by: TypeIdentity},
		{name: "fullAccessAtRootOnly", principal: userCI, p: pol{identity: idS3, scps: [][]string{{fullAccess}}}, want: Allow, by: TypeIdentity},
		{name: "fullAccessAtEveryLevel", principal: userCI, p: pol{identity: idS3, scps: [][]string{{fullAccess}, {fullAccess}, {fullAccess}}}, want: Allow, by: TypeIdentity},
		{name: "emptyLevel", principal: userCI, p: pol{identity: idS3, scps: [][]string{{fullAccess}, {}}}, want: ImplicitDeny, by: TypeSCP},
		{name: "ouAllowsOnlyEC2", principal: userCI, p: pol{identity: idS3, scps: [][]string{{fullAccess}, {ec2Only}}}, want: ImplicitDeny, by: TypeSCP},
		{name: "levelIsUnionOfItsPolicies", principal: userCI, p: pol{identity: idS3, scps: [][]string{{fullAccess}, {ec2Only, allowDoc("s3:GetObject", "*")}}}, want: Allow, by: TypeIdentity},
		{name: "scpAllowDoesNotGrant", principal: userCI, p: pol{scps: [][]string{{fullAccess}}}, want: ImplicitDeny, by: TypeIdentity},
		{name: "memberRoot", principal: rootA, p: pol{scps: [][]string{{ec2Only}}}, want: ImplicitDeny, by: TypeSCP},
		{name: "memberRootAllowed", principal: rootA, p: pol{scps: [][]string{{fullAccess}}}, want: Allow, by: ""},
		{name: "noLevels", principal: userCI, p: pol{identity: idS3, scps: [][]string{}}, want: Allow, by: TypeIdentity},
		{name: "scpLimitsResourceGrant", principal: userCI, p: pol{resource: resourceDoc(userCI.ARN, "s3:GetObject", "*"), scps: [][]string{{ec2Only}}}, want: ImplicitDeny, by: TypeSCP},
		{name: "regionDeny", principal: userCI, ctx: map[string][]string{"aws:RequestedRegion": {"eu-west-1"}}, p: pol{identity: idS3, scps: [][]string{{fullAccess,
			`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":"iam:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1"]}}}}`}}}, want: ExplicitDeny, by: TypeSCP},
	}
	runDecisions(t, tests)
}

// The root user of the resource account needs no identity policy; explicit denies still apply.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
func TestEvaluate_Root(t *testing.T) {
	tests := []decisionCase{
		{name: "noPolicies", principal: rootA, p: pol{}, want: Allow, by: ""},
		{name: "resourceDeny", principal: rootA, p: pol{resource: `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}}`}, want: ExplicitDeny, by: TypeResource},
		{name: "resourceNamesOtherUser", principal: rootA, p: pol{resource: resourceDoc(userCI.ARN, "s3:*", "*")}, want: Allow, by: ""},
	}
	runDecisions(t, tests)
}

// Role trust policies (resource = the role) must themselves allow sts:AssumeRole. Naming the
// caller's ARN suffices in the same account; naming the account root also needs the identity
// side; across accounts both sides always.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_manage-assume.html
func TestEvaluate_TrustPolicies(t *testing.T) {
	trust := func(principal string) string {
		return fmt.Sprintf(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":%q},"Action":"sts:AssumeRole"}}`, principal)
	}
	idAssume := allowDoc("sts:AssumeRole", "arn:aws:iam::*:role/R")
	ext := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/App"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"abc-123"}}}}`
	service := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}`
	tests := []decisionCase{
		{name: "same/namesUser/noIdentity", principal: userCI, resource: roleR, action: "sts:AssumeRole", p: pol{resource: trust(userCI.ARN), resourceKind: KindTrust}, want: Allow, by: TypeTrust},
		{name: "same/namesCallerRole/noIdentity", principal: sessionDeployer, resource: roleR, action: "sts:AssumeRole", p: pol{resource: trust(sessionDeployer.RoleARN), resourceKind: KindTrust}, want: Allow, by: TypeTrust},
		{name: "same/namesRoot/noIdentity", principal: userCI, resource: roleR, action: "sts:AssumeRole", p: pol{resource: trust("arn:aws:iam::111122223333:root"), resourceKind: KindTrust}, want: ImplicitDeny, by: TypeIdentity},
		{name: "same/namesRoot/identity", principal: userCI, resource: roleR, action: "sts:AssumeRole", p: pol{resource: trust("arn:aws:iam::111122223333:root"), resourceKind: KindTrust, identity: idAssume}, want: Allow, by: TypeIdentity},
		{name: "same/namesOther/identity", principal: userCI, resource: roleR, action: "sts:AssumeRole", p: pol{resource: trust("arn:aws:iam::111122223333:user/other"), resourceKind: KindTrust, identity: idAssume}, want: ImplicitDeny, by: TypeTrust},
		{name: "same/serviceOnly/identity", principal: userCI, resource: roleR, action: "sts:AssumeRole", p: pol{resource: service, resourceKind: KindTrust, identity: idAssume}, want: ImplicitDeny, by: TypeTrust},
		{name: "cross/namesRole/noIdentity", principal: sessionB, account: acctA, resource: roleR, action: "sts:AssumeRole", p: pol{resource: trust(sessionB.RoleARN), resourceKind: KindTrust}, want: ImplicitDeny, by: TypeIdentity},
		{name: "cross/namesRole/identity", principal: sessionB, account: acctA, resource: roleR, action: "sts:AssumeRole", p: pol{resource: trust(sessionB.RoleARN), resourceKind: KindTrust, identity: idAssume}, want: Allow, by: TypeTrust},
		{name: "cross/namesRoot/identity", principal: sessionB, account: acctA, resource: roleR, action: "sts:AssumeRole", p: pol{resource: trust(acctB), resourceKind: KindTrust, identity: idAssume}, want: Allow, by: TypeTrust},
		{name: "cross/namesOther/identity", principal: sessionB, account: acctA, resource: roleR, action: "sts:AssumeRole", p: pol{resource: trust("arn:aws:iam::444455556666:role/Other"), resourceKind: KindTrust, identity: idAssume}, want: ImplicitDeny, by: TypeTrust},
		{name: "cross/externalId/right", principal: sessionB, account: acctA, resource: roleR, action: "sts:AssumeRole", ctx: map[string][]string{"sts:ExternalId": {"abc-123"}}, p: pol{resource: ext, resourceKind: KindTrust, identity: idAssume}, want: Allow, by: TypeTrust},
		{name: "cross/externalId/wrong", principal: sessionB, account: acctA, resource: roleR, action: "sts:AssumeRole", ctx: map[string][]string{"sts:ExternalId": {"nope"}}, p: pol{resource: ext, resourceKind: KindTrust, identity: idAssume}, want: ImplicitDeny, by: TypeTrust},
		{name: "cross/externalId/absent", principal: sessionB, account: acctA, resource: roleR, action: "sts:AssumeRole", p: pol{resource: ext, resourceKind: KindTrust, identity: idAssume}, want: ImplicitDeny, by: TypeTrust},
		{name: "cross/identityResourceMismatch", principal: sessionB, account: acctA, resource: roleR, action: "sts:AssumeRole", p: pol{resource: trust(sessionB.RoleARN), resourceKind: KindTrust, identity: allowDoc("sts:AssumeRole", "arn:aws:iam::111122223333:role/Other")}, want: ImplicitDeny, by: TypeIdentity},
	}
	runDecisions(t, tests)
}

// NotPrincipal with Deny exempts a principal only when its whole chain is listed: the account
// and the user, or the account, the role and the session. A Deny with NotPrincipal always denies
// a principal that has a permissions boundary.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
func TestEvaluate_NotPrincipal(t *testing.T) {
	denyExcept := func(arns ...string) string {
		list := `"` + strings.Join(arns, `","`) + `"`
		return `{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"*"},` +
			`{"Effect":"Deny","NotPrincipal":{"AWS":[` + list + `]},"Action":"s3:*","Resource":"*"}]}`
	}
	other := &identity.Principal{Kind: identity.KindIAMUser, AccountID: acctA, ARN: "arn:aws:iam::111122223333:user/other", UserName: "other"}
	rootARN := "arn:aws:iam::111122223333:root"
	tests := []decisionCase{
		{name: "userAndAccountListed", principal: userCI, p: pol{identity: idS3, resource: denyExcept(userCI.ARN, rootARN)}, want: Allow, by: TypeIdentity},
		{name: "otherUserDenied", principal: other, p: pol{identity: idS3, resource: denyExcept(userCI.ARN, rootARN)}, want: ExplicitDeny, by: TypeResource},
		{name: "userWithoutAccountDenied", principal: userCI, p: pol{identity: idS3, resource: denyExcept(userCI.ARN)}, want: ExplicitDeny, by: TypeResource},
		{name: "accountOnlyDoesNotExemptUser", principal: userCI, p: pol{identity: idS3, resource: denyExcept(rootARN)}, want: ExplicitDeny, by: TypeResource},
		{name: "accountExemptsRoot", principal: rootA, p: pol{resource: denyExcept(rootARN)}, want: Allow, by: ""},
		{name: "sessionRoleAccountListed", principal: sessionDeployer, p: pol{identity: idS3, resource: denyExcept(sessionDeployer.ARN, sessionDeployer.RoleARN, rootARN)}, want: Allow, by: TypeIdentity},
		{name: "roleAndAccountOnly", principal: sessionDeployer, p: pol{identity: idS3, resource: denyExcept(sessionDeployer.RoleARN, rootARN)}, want: ExplicitDeny, by: TypeResource},
		{name: "sessionAndAccountOnly", principal: sessionDeployer, p: pol{identity: idS3, resource: denyExcept(sessionDeployer.ARN, rootARN)}, want: ExplicitDeny, by: TypeResource},
		{name: "boundaryQuirk", principal: userCI, p: pol{identity: idS3, boundary: boundS3, resource: denyExcept(userCI.ARN, rootARN)}, want: ExplicitDeny, by: TypeResource},
		{name: "allowNotPrincipal", principal: userCI, p: pol{resource: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/other"},"Action":"s3:*","Resource":"*"}}`}, want: Allow, by: TypeResource},
	}
	runDecisions(t, tests)
}

// KMS key policies, like trust policies, must themselves allow: an identity policy alone is not
// enough in the same account. https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
func TestEvaluate_KMSKeyPolicy(t *testing.T) {
	key := "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	idKMS := allowDoc("kms:Decrypt", "*")
	tests := []decisionCase{
		{name: "noKeyPolicyMatch", principal: userCI, action: "kms:Decrypt", resource: key, p: pol{identity: idKMS, resource: resourceDoc("arn:aws:iam::111122223333:user/other", "kms:*", "*")}, want: ImplicitDeny, by: TypeResource},
		{name: "keyPolicyEnablesIAM", principal: userCI, action: "kms:Decrypt", resource: key, p: pol{identity: idKMS, resource: resourceDoc("arn:aws:iam::111122223333:root", "kms:*", "*")}, want: Allow, by: TypeIdentity},
		{name: "keyPolicyNamesUser", principal: userCI, action: "kms:Decrypt", resource: key, p: pol{resource: resourceDoc(userCI.ARN, "kms:Decrypt", "*")}, want: Allow, by: TypeResource},
	}
	runDecisions(t, tests)
}

// Resource-based and trust policies without a Resource element apply to the resource they are
// attached to.
func TestEvaluate_ResourcePolicyWithoutResource(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/ci"},"Action":"license-manager:GetLicense"}}`
	runDecisions(t, []decisionCase{
		{name: "attached", principal: userCI, action: "license-manager:GetLicense", resource: "arn:aws:license-manager::111122223333:license:l-1", p: pol{resource: doc}, want: Allow, by: TypeResource},
	})
}

// Resource matching in identity policies: case-sensitive, ? and * (crossing /), variables.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
func TestEvaluate_ResourceMatching(t *testing.T) {
	user := func(ctx map[string][]string) map[string][]string { return ctx }
	selfDoc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::111122223333:user/${aws:username}"}}`
	defDoc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username, 'shared'}/*"}}`
	oldDoc := `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}}`
	escDoc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${*}/x"}}`
	tests := []decisionCase{
		{name: "caseSensitive", principal: userCI, resource: "arn:aws:s3:::Bucket/key", p: pol{identity: idS3}, want: ImplicitDeny, by: TypeIdentity},
		{name: "starCrossesSlash", principal: userCI, resource: "arn:aws:s3:::bucket/a/b/c", p: pol{identity: idS3}, want: Allow, by: TypeIdentity},
		{name: "questionMark", principal: userCI, resource: "arn:aws:s3:::b/k", p: pol{identity: allowDoc("s3:GetObject", "arn:aws:s3:::b/?")}, want: Allow, by: TypeIdentity},
		{name: "questionMarkOneChar", principal: userCI, resource: "arn:aws:s3:::b/kk", p: pol{identity: allowDoc("s3:GetObject", "arn:aws:s3:::b/?")}, want: ImplicitDeny, by: TypeIdentity},
		{name: "variablePresent", principal: userCI, action: "iam:GetUser", resource: userCI.ARN, ctx: user(map[string][]string{"aws:username": {"ci"}}), p: pol{identity: selfDoc}, want: Allow, by: TypeIdentity},
		{name: "variableOtherUser", principal: userCI, action: "iam:GetUser", resource: "arn:aws:iam::111122223333:user/bob", ctx: map[string][]string{"aws:username": {"ci"}}, p: pol{identity: selfDoc}, want: ImplicitDeny, by: TypeIdentity},
		{name: "variableAbsent", principal: sessionDeployer, action: "iam:GetUser", resource: "arn:aws:iam::111122223333:user/", p: pol{identity: selfDoc}, want: ImplicitDeny, by: TypeIdentity},
		{name: "variableDefault", principal: sessionDeployer, resource: "arn:aws:s3:::home/shared/x", p: pol{identity: defDoc}, want: Allow, by: TypeIdentity},
		{name: "variableDefaultUnused", principal: userCI, resource: "arn:aws:s3:::home/ci/x", ctx: map[string][]string{"aws:username": {"ci"}}, p: pol{identity: defDoc}, want: Allow, by: TypeIdentity},
		{name: "version2008Literal", principal: userCI, resource: "arn:aws:s3:::home/ci/x", ctx: map[string][]string{"aws:username": {"ci"}}, p: pol{identity: oldDoc}, want: ImplicitDeny, by: TypeIdentity},
		{name: "version2008LiteralText", principal: userCI, resource: "arn:aws:s3:::home/${aws:username}/x", ctx: map[string][]string{"aws:username": {"ci"}}, p: pol{identity: oldDoc}, want: Allow, by: TypeIdentity},
		{name: "escapedStarIsLiteral", principal: userCI, resource: "arn:aws:s3:::b/*/x", p: pol{identity: escDoc}, want: Allow, by: TypeIdentity},
		{name: "escapedStarNotWildcard", principal: userCI, resource: "arn:aws:s3:::b/y/x", p: pol{identity: escDoc}, want: ImplicitDeny, by: TypeIdentity},
		{name: "variableValueIsLiteral", principal: userCI, resource: "arn:aws:s3:::home/x/y", ctx: map[string][]string{"aws:username": {"*"}}, p: pol{identity: defDoc}, want: ImplicitDeny, by: TypeIdentity},
	}
	runDecisions(t, tests)
}

// License Manager's CheckoutLicense, CheckInLicense and ExtendLicenseConsumption have no
// resource type: callers evaluate them with Resource "*", so a statement naming a license ARN
// grants nothing for them. GetLicense takes a license ARN.
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslicensemanager.html
func TestEvaluate_LicenseManager(t *testing.T) {
	license := "arn:aws:license-manager::111122223333:license:l-0123456789abcdef0123456789abcdef"
	scoped := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["license-manager:CheckoutLicense","license-manager:CheckInLicense","license-manager:ExtendLicenseConsumption","license-manager:GetLicense"],"Resource":"` + license + `"}}`
	wildScoped := allowDoc("license-manager:*", "arn:aws:license-manager::*:license:*")
	star := allowDoc("license-manager:CheckoutLicense", "*")
	var tests []decisionCase
	for _, action := range []string{"license-manager:CheckoutLicense", "license-manager:CheckInLicense", "license-manager:ExtendLicenseConsumption"} {
		if !WildcardOnly(action) {
			t.Errorf("WildcardOnly(%q): got false, want true", action)
		}
		tests = append(tests,
			decisionCase{name: action + "/licenseARN", principal: sessionDeployer, action: action, resource: "*", p: pol{identity: scoped}, want: ImplicitDeny, by: TypeIdentity},
			decisionCase{name: action + "/licenseWildcard", principal: sessionDeployer, action: action, resource: "*", p: pol{identity: wildScoped}, want: ImplicitDeny, by: TypeIdentity},
		)
	}
	tests = append(tests,
		decisionCase{name: "checkout/star", principal: sessionDeployer, action: "license-manager:CheckoutLicense", resource: "*", p: pol{identity: star}, want: Allow, by: TypeIdentity},
		decisionCase{name: "getLicense/licenseARN", principal: sessionDeployer, action: "license-manager:GetLicense", resource: license, p: pol{identity: scoped}, want: Allow, by: TypeIdentity},
		decisionCase{name: "getLicense/licenseWildcard", principal: sessionDeployer, action: "license-manager:GetLicense", resource: license, p: pol{identity: allowDoc("license-manager:GetLicense", "arn:aws:license-manager::111122223333:license:*")}, want: Allow, by: TypeIdentity},
		// License ARNs have no region and use "license:" before the ID; "license/*" matches none.
		decisionCase{name: "getLicense/slashForm", principal: sessionDeployer, action: "license-manager:GetLicense", resource: license, p: pol{identity: allowDoc("license-manager:GetLicense", "arn:aws:license-manager::111122223333:license/*")}, want: ImplicitDeny, by: TypeIdentity},
		decisionCase{name: "getLicense/regionalForm", principal: sessionDeployer, action: "license-manager:GetLicense", resource: license, p: pol{identity: allowDoc("license-manager:GetLicense", "arn:aws:license-manager:us-east-1:111122223333:license:*")}, want: ImplicitDeny, by: TypeIdentity},
		decisionCase{name: "createGrant/tags", principal: sessionDeployer, action: "license-manager:CreateGrant", resource: license,
			ctx: map[string][]string{"aws:RequestTag/team": {"blue"}, "aws:TagKeys": {"team"}},
			p:   pol{identity: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"license-manager:CreateGrant","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"blue"},"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}}}`}, want: Allow, by: TypeIdentity},
		decisionCase{name: "createGrant/extraTag", principal: sessionDeployer, action: "license-manager:CreateGrant", resource: license,
			ctx: map[string][]string{"aws:RequestTag/team": {"blue"}, "aws:TagKeys": {"team", "cost"}},
			p:   pol{identity: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"license-manager:CreateGrant","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"blue"},"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}}}`}, want: ImplicitDeny, by: TypeIdentity},
	)
	runDecisions(t, tests)
	for _, action := range []string{"license-manager:CheckoutBorrowLicense", "license-manager:GetLicense", "license-manager:CreateGrant", "sts:AssumeRole", "checkoutlicense"} {
		if WildcardOnly(action) {
			t.Errorf("WildcardOnly(%q): got true, want false", action)
		}
	}
	if !WildcardOnly("LICENSE-MANAGER:checkoutlicense") {
		t.Error(`WildcardOnly("LICENSE-MANAGER:checkoutlicense"): got false, want true`)
	}
}

// Anonymous callers (nil Principal) are allowed only by a resource policy naming "*".
func TestEvaluate_Anonymous(t *testing.T) {
	public := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}}`
	runDecisions(t, []decisionCase{
		{name: "public", principal: nil, account: acctA, p: pol{resource: public}, want: Allow, by: TypeResource},
		{name: "accountOnly", principal: nil, account: acctA, p: pol{resource: resourceDoc(acctA, "s3:*", "*")}, want: ImplicitDeny, by: TypeResource},
	})
}

// AWS's AccessDenied wording (troubleshoot_access-denied.html): "because no <type> allows the
// <action> action" or "with an explicit deny in a(n) <type>"; for a session the user shown is the
// assumed-role session ARN.
func TestResult_Message(t *testing.T) {
	tests := []struct {
		principal *identity.Principal
		action    string
		resource  string
		res       Result
		want      string
	}{
		{userCI, "sts:AssumeRole", roleRB, Result{Decision: ImplicitDeny, DecidedBy: TypeTrust},
			"User: arn:aws:iam::111122223333:user/ci is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444455556666:role/R because no role trust policy allows the sts:AssumeRole action"},
		{sessionDeployer, "license-manager:CheckoutLicense", "*", Result{Decision: ImplicitDeny, DecidedBy: TypeIdentity},
			"User: arn:aws:sts::111122223333:assumed-role/Deployer/s1 is not authorized to perform: license-manager:CheckoutLicense on resource: * because no identity-based policy allows the license-manager:CheckoutLicense action"},
		{userCI, "s3:GetObject", bucketObj, Result{Decision: ExplicitDeny, DecidedBy: TypeSCP},
			"User: arn:aws:iam::111122223333:user/ci is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::bucket/key with an explicit deny in a service control policy"},
		{userCI, "s3:GetObject", bucketObj, Result{Decision: ExplicitDeny, DecidedBy: TypeIdentity},
			"User: arn:aws:iam::111122223333:user/ci is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::bucket/key with an explicit deny in an identity-based policy"},
		{userCI, "s3:GetObject", bucketObj, Result{Decision: ImplicitDeny, DecidedBy: TypeBoundary},
			"User: arn:aws:iam::111122223333:user/ci is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::bucket/key because no permissions boundary allows the s3:GetObject action"},
		{sessionDeployer, "s3:GetObject", bucketObj, Result{Decision: ImplicitDeny, DecidedBy: TypeSession},
			"User: arn:aws:sts::111122223333:assumed-role/Deployer/s1 is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::bucket/key because no session policy allows the s3:GetObject action"},
		{userB, "s3:GetObject", bucketObj, Result{Decision: ImplicitDeny, DecidedBy: TypeResource},
			"User: arn:aws:iam::444455556666:user/ops is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::bucket/key because no resource-based policy allows the s3:GetObject action"},
		{userB, "s3:GetObject", bucketObj, Result{Decision: ExplicitDeny, DecidedBy: TypeResource},
			"User: arn:aws:iam::444455556666:user/ops is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::bucket/key with an explicit deny in a resource-based policy"},
		{userCI, "s3:GetObject", bucketObj, Result{Decision: ImplicitDeny, DecidedBy: TypeSCP},
			"User: arn:aws:iam::111122223333:user/ci is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::bucket/key because no service control policy allows the s3:GetObject action"},
		{userCI, "s3:GetObject", bucketObj, Result{Decision: Allow, DecidedBy: TypeIdentity}, ""},
	}
	for _, tt := range tests {
		req := &Request{Principal: tt.principal, Action: tt.action, Resource: tt.resource}
		if got := tt.res.Message(req); got != tt.want {
			t.Errorf("Message(%v by %q):\n got %s\nwant %s", tt.res.Decision, tt.res.DecidedBy, got, tt.want)
		}
	}
}

// End to end: the seed's cross-account assume-role flow, evaluated and explained.
func TestEvaluate_MessageEndToEnd(t *testing.T) {
	trust := mustParse(t, "arn:aws:iam::444455556666:role/R", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/Other"},"Action":"sts:AssumeRole"}]}`, KindTrust)
	id := mustParse(t, "arn:aws:iam::111122223333:policy/assume", allowDoc("sts:AssumeRole", roleRB), KindIdentity)
	req := &Request{Principal: userCI, Action: "sts:AssumeRole", Resource: roleRB, ResourceAccount: acctB}
	res := Evaluate(req, &Policies{Identity: []*Document{id}, Resource: trust})
	want := "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444455556666:role/R because no role trust policy allows the sts:AssumeRole action"
	if got := res.Message(req); got != want {
		t.Errorf("Message:\n got %s\nwant %s", got, want)
	}
}

// The trace has one Step per statement, in the order SCPs, resource, identity, boundary, session.
func TestEvaluate_Trace(t *testing.T) {
	scp := mustParse(t, "FullAWSAccess", fullAccess, KindSCP)
	res := mustParse(t, "bucket-policy", `{"Version":"2012-10-17","Statement":[{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"*"}]}`, KindResource)
	id := mustParse(t, "inline", `{"Version":"2012-10-17","Statement":[
		{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
		{"Sid":"Other","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"},
		{"Sid":"TLS","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`, KindIdentity)
	pb := mustParse(t, "boundary", boundS3, KindIdentity)
	sess := mustParse(t, "session", sessS3, KindSession)
	req := &Request{Principal: sessionDeployer, Action: "s3:GetObject", Resource: bucketObj,
		Context: map[string][]string{"aws:SourceIp": {"192.168.0.1"}, "aws:SecureTransport": {"true"}}}
	r := Evaluate(req, &Policies{SCPs: [][]*Document{{scp}}, Resource: res, Identity: []*Document{id}, Boundary: pb, Session: []*Document{sess}})
	want := []Step{
		{Type: TypeSCP, Policy: "FullAWSAccess", Statement: 0, Effect: "Allow", Matched: true},
		{Type: TypeResource, Policy: "bucket-policy", Statement: 0, Sid: "Public", Effect: "Allow", Why: "action"},
		{Type: TypeIdentity, Policy: "inline", Statement: 0, Sid: "Read", Effect: "Allow", Why: "condition aws:SourceIp"},
		{Type: TypeIdentity, Policy: "inline", Statement: 1, Sid: "Other", Effect: "Allow", Why: "resource"},
		{Type: TypeIdentity, Policy: "inline", Statement: 2, Sid: "TLS", Effect: "Deny", Why: "condition aws:SecureTransport"},
		{Type: TypeBoundary, Policy: "boundary", Statement: 0, Effect: "Allow", Matched: true},
		{Type: TypeSession, Policy: "session", Statement: 0, Effect: "Allow", Matched: true},
	}
	if len(r.Trace) != len(want) {
		t.Fatalf("trace: got %d steps, want %d: %+v", len(r.Trace), len(want), r.Trace)
	}
	for i := range want {
		if r.Trace[i] != want[i] {
			t.Errorf("trace[%d]: got %+v, want %+v", i, r.Trace[i], want[i])
		}
	}
	if r.Decision != ImplicitDeny || r.DecidedBy != TypeIdentity {
		t.Errorf("decision: got %v by %q, want ImplicitDeny by identity-based policy", r.Decision, r.DecidedBy)
	}
}

// The trace records which kind of principal entry a matched resource-policy statement used.
func TestEvaluate_TracePrincipalMatch(t *testing.T) {
	tests := []struct {
		principal *identity.Principal
		entries   string
		want      PrincipalMatch
	}{
		{userCI, `"111122223333"`, MatchAccount},
		{userCI, `"arn:aws:iam::111122223333:root"`, MatchAccount},
		{userCI, `["arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:user/ci"]`, MatchUser},
		{sessionDeployer, `"arn:aws:iam::111122223333:role/Deployer"`, MatchRole},
		{sessionDeployer, `["arn:aws:iam::111122223333:role/Deployer","arn:aws:sts::111122223333:assumed-role/Deployer/s1"]`, MatchSession},
		{sessionDeployer, `"*"`, MatchEveryone},
		{rootA, `"111122223333"`, MatchAccount},
		{userB, `"*"`, MatchEveryone},
	}
	for _, tt := range tests {
		d := mustParse(t, "res", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":`+tt.entries+`},"Action":"s3:*","Resource":"*"}}`, KindResource)
		req := &Request{Principal: tt.principal, Action: "s3:GetObject", Resource: bucketObj, ResourceAccount: acctA}
		res := Evaluate(req, &Policies{Resource: d})
		if len(res.Trace) != 1 || !res.Trace[0].Matched || res.Trace[0].Principal != tt.want {
			t.Errorf("%s named by %s: got %+v, want a matched step with Principal %v", tt.principal.ARN, tt.entries, res.Trace, tt.want)
		}
	}
}

// Documents are safe for concurrent evaluation (run with -race).
func TestEvaluate_Concurrent(t *testing.T) {
	d := mustParse(t, "role-policy", benchRolePolicy, KindIdentity)
	p := &Policies{Identity: []*Document{d}}
	done := make(chan *Result)
	for range 8 {
		go func() {
			var last *Result
			for range 200 {
				last = Evaluate(benchRequest(), p)
			}
			done <- last
		}()
	}
	for range 8 {
		if res := <-done; res.Decision != Allow {
			t.Errorf("got %v, want Allow", res.Decision)
		}
	}
}

// SCPs do not restrict the management account or service-linked roles, but do restrict a member
// account's root user. https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
func TestSCPsApply(t *testing.T) {
	slr := (&identityPrincipal{account: acctA, role: "aws-service-role/license-manager.amazonaws.com/AWSServiceRoleForAWSLicenseManagerRole", session: "s"}).principal()
	tests := []struct {
		name       string
		principal  *identity.Principal
		management string
		want       bool
	}{
		{"memberUser", userCI, acctB, true},
		{"memberRoot", rootA, acctB, true},
		{"memberSession", sessionDeployer, acctB, true},
		{"managementUser", userCI, acctA, false},
		{"managementRoot", rootA, acctA, false},
		{"serviceLinkedRole", slr, acctB, false},
		{"noOrganization", userCI, "", false},
		{"anonymous", nil, acctB, false},
	}
	for _, tt := range tests {
		if got := SCPsApply(tt.principal, tt.management); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
