package test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestSCP_DeniesMemberNotManagement attaches service control policies to a member account and
// checks that they bind its roles but not the management account: license-manager:* decided
// through `allot explain` (the server's own decision path), and cloudtrail:LookupEvents through
// real calls.
func TestSCP_DeniesMemberNotManagement(t *testing.T) {
	s := startServer(t, serverOptions{})
	cli := requireTool(t, "AWS CLI v2", awsCLIs(t)["v2"])
	root := creds{keyID: rootKeyID, secret: rootSecret}

	mustCLI(t, s, cli, root, nil, "organizations", "create-organization", "--feature-set", "ALL")
	var created struct{ CreateAccountStatus struct{ AccountId string } }
	mustCLI(t, s, cli, root, &created, "organizations", "create-account", "--account-name", "member", "--email", "member@example.com")
	member := created.CreateAccountStatus.AccountId
	var roots struct{ Roots []struct{ Id string } }
	mustCLI(t, s, cli, root, &roots, "organizations", "list-roots")
	mustCLI(t, s, cli, root, nil, "organizations", "enable-policy-type", "--root-id", roots.Roots[0].Id, "--policy-type", "SERVICE_CONTROL_POLICY")

	scp := func(name, action string) {
		var p struct {
			Policy struct{ PolicySummary struct{ Id string } }
		}
		mustCLI(t, s, cli, root, &p, "organizations", "create-policy", "--name", name, "--type", "SERVICE_CONTROL_POLICY",
			"--description", "deny "+action, "--content", writePolicy(t, name+".json",
				`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"`+action+`","Resource":"*"}]}`))
		mustCLI(t, s, cli, root, nil, "organizations", "attach-policy", "--policy-id", p.Policy.PolicySummary.Id, "--target-id", member)
	}
	scp("DenyLicenseManager", "license-manager:*")
	scp("DenyLookupEvents", "cloudtrail:LookupEvents")

	// An administrator in the management account, and its session in the member account.
	mustCLI(t, s, cli, root, nil, "iam", "create-user", "--user-name", "admin")
	mustCLI(t, s, cli, root, nil, "iam", "attach-user-policy", "--user-name", "admin", "--policy-arn", "arn:aws:iam::aws:policy/AdministratorAccess")
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	mustCLI(t, s, cli, root, &key, "iam", "create-access-key", "--user-name", "admin")
	admin := creds{keyID: key.AccessKey.AccessKeyId, secret: key.AccessKey.SecretAccessKey}
	var inMember assumeRoleOutput
	mustCLI(t, s, cli, admin, &inMember, "sts", "assume-role", "--role-arn", "arn:aws:iam::"+member+":role/OrganizationAccountAccessRole",
		"--role-session-name", "ops")

	// license-manager:*: the member account's administrator role is denied, the management
	// account's administrator is not.
	out, code := explain(t, s, "--principal", "arn:aws:iam::"+member+":role/OrganizationAccountAccessRole", "--action", "license-manager:CheckoutLicense")
	if code != 1 || !strings.Contains(out, "with an explicit deny in a service control policy") {
		t.Errorf("member role, license-manager:CheckoutLicense: exit %d\n%s", code, out)
	}
	mustCLI(t, s, cli, inMember.creds(), nil, "iam", "create-user", "--user-name", "dev")
	mustCLI(t, s, cli, inMember.creds(), nil, "iam", "attach-user-policy", "--user-name", "dev", "--policy-arn", "arn:aws:iam::aws:policy/AdministratorAccess")
	out, code = explain(t, s, "--principal", "arn:aws:iam::"+member+":user/dev", "--action", "license-manager:CheckoutLicense")
	if code != 1 || !strings.Contains(out, "with an explicit deny in a service control policy") {
		t.Errorf("member user, license-manager:CheckoutLicense: exit %d\n%s", code, out)
	}
	out, code = explain(t, s, "--principal", "arn:aws:iam::"+rootAccount+":user/admin", "--action", "license-manager:CheckoutLicense")
	if code != 0 {
		t.Errorf("management account admin, license-manager:CheckoutLicense: exit %d\n%s", code, out)
	}

	// A real call the SCP denies in the member account only.
	ctx := context.Background()
	cfg := s.awsConfig("", "")
	cfg.Credentials = credentials.NewStaticCredentialsProvider(inMember.Credentials.AccessKeyId, inMember.Credentials.SecretAccessKey, inMember.Credentials.SessionToken)
	_, err := cloudtrail.NewFromConfig(cfg).LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
	if msg := apiMessage(err); !strings.HasPrefix(msg, "AccessDeniedException") || !strings.Contains(msg, "with an explicit deny in a service control policy") {
		t.Errorf("member session LookupEvents: %v, want AccessDeniedException from the SCP", err)
	}
	if _, err := cloudtrail.NewFromConfig(s.awsConfig(admin.keyID, admin.secret)).LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
		t.Errorf("management account admin LookupEvents: %v", err)
	}

	// The simulator, asked inside the member account, reports the SCP's decision too.
	sim, err := iam.NewFromConfig(cfg).SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::" + member + ":role/OrganizationAccountAccessRole"),
		ActionNames:     []string{"license-manager:CheckoutLicense", "iam:ListRoles"},
	})
	if err != nil {
		t.Fatalf("SimulatePrincipalPolicy: %v", err)
	}
	got := map[string]string{}
	for _, r := range sim.EvaluationResults {
		got[*r.EvalActionName] = string(r.EvalDecision)
		if r.OrganizationsDecisionDetail == nil {
			t.Errorf("%s: no OrganizationsDecisionDetail", *r.EvalActionName)
		} else if allowed := r.OrganizationsDecisionDetail.AllowedByOrganizations; allowed != (*r.EvalActionName == "iam:ListRoles") {
			t.Errorf("%s: AllowedByOrganizations = %v", *r.EvalActionName, allowed)
		}
	}
	if got["license-manager:CheckoutLicense"] != "explicitDeny" || got["iam:ListRoles"] != "allowed" {
		t.Errorf("simulated decisions = %v, want CheckoutLicense explicitDeny and ListRoles allowed", got)
	}
}
