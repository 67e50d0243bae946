package test

import (
	"strings"
	"testing"
)

// TestAssumeRole_SeedCrossAccount builds seed 000's assume-role setup across two accounts of an
// organization — the management account as the billing account, a new member account as the
// deployment account — with the AWS CLI and the seed's own policies, runs the seed's
// verification commands, and checks the troubleshooting row "AccessDenied when assuming the
// billing account role: deployment account policy missing sts:AssumeRole".
func TestAssumeRole_SeedCrossAccount(t *testing.T) {
	s := startServer(t, serverOptions{})
	cli := requireTool(t, "AWS CLI v2", awsCLIs(t)["v2"])
	root := creds{keyID: rootKeyID, secret: rootSecret}

	// The management (billing) account: an organization, a deployment account, an administrator.
	mustCLI(t, s, cli, root, nil, "organizations", "create-organization", "--feature-set", "ALL")
	var created struct {
		CreateAccountStatus struct{ AccountId, State string }
	}
	mustCLI(t, s, cli, root, &created, "organizations", "create-account", "--account-name", "deployment", "--email", "deploy@example.com")
	deployment := created.CreateAccountStatus.AccountId
	if created.CreateAccountStatus.State != "SUCCEEDED" || len(deployment) != 12 {
		t.Fatalf("create-account = %+v", created)
	}
	mustCLI(t, s, cli, root, nil, "iam", "create-user", "--user-name", "admin")
	mustCLI(t, s, cli, root, nil, "iam", "attach-user-policy", "--user-name", "admin", "--policy-arn", "arn:aws:iam::aws:policy/AdministratorAccess")
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	mustCLI(t, s, cli, root, &key, "iam", "create-access-key", "--user-name", "admin")
	admin := creds{keyID: key.AccessKey.AccessKeyId, secret: key.AccessKey.SecretAccessKey}

	// Into the deployment account through OrganizationAccountAccessRole, as in AWS.
	var orgAccess assumeRoleOutput
	mustCLI(t, s, cli, admin, &orgAccess, "sts", "assume-role", "--role-arn", "arn:aws:iam::"+deployment+":role/OrganizationAccountAccessRole",
		"--role-session-name", "setup")
	deploy := orgAccess.creds()

	fill := strings.NewReplacer("<deployment-account-id>", deployment, "<billing-account-id>", rootAccount,
		"<datamasque-role-name>", "DataMasque-EC2-Role")
	file := func(name, doc string) string { return writePolicy(t, name, fill.Replace(doc)) }
	licenseRoleARN := "arn:aws:iam::" + rootAccount + ":role/DataMasqueLicenseRole"

	// Billing account, step 1.
	mustCLI(t, s, cli, admin, nil, "iam", "create-role", "--role-name", "DataMasqueLicenseRole",
		"--assume-role-policy-document", file("trust.json", seedTrustPolicy))
	mustCLI(t, s, cli, admin, nil, "iam", "put-role-policy", "--role-name", "DataMasqueLicenseRole",
		"--policy-name", "DataMasqueLicenseOperations", "--policy-document", file("permissions.json", seedPermissionsPolicy))

	// Deployment account, step 2: the instance role (trusting an operator user, standing in for
	// EC2) with the seed's statement.
	instanceTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + deployment + `:user/operator"},"Action":"sts:AssumeRole"}]}`
	mustCLI(t, s, cli, deploy, nil, "iam", "create-role", "--role-name", "DataMasque-EC2-Role",
		"--assume-role-policy-document", file("instance-trust.json", instanceTrust))
	mustCLI(t, s, cli, deploy, nil, "iam", "put-role-policy", "--role-name", "DataMasque-EC2-Role", "--policy-name", "deployment",
		"--policy-document", file("deployment.json", `{"Version":"2012-10-17","Statement":[`+seedDeploymentStatement+`]}`))
	mustCLI(t, s, cli, deploy, nil, "iam", "create-user", "--user-name", "operator")
	mustCLI(t, s, cli, deploy, nil, "iam", "put-user-policy", "--user-name", "operator", "--policy-name", "assume-instance-role",
		"--policy-document", file("operator.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::`+deployment+`:role/DataMasque-EC2-Role"}]}`))
	mustCLI(t, s, cli, deploy, &key, "iam", "create-access-key", "--user-name", "operator")
	operator := creds{keyID: key.AccessKey.AccessKeyId, secret: key.AccessKey.SecretAccessKey}
	var instance assumeRoleOutput
	mustCLI(t, s, cli, operator, &instance, "sts", "assume-role", "--role-arn", "arn:aws:iam::"+deployment+":role/DataMasque-EC2-Role",
		"--role-session-name", "i-0123456789abcdef0")

	// Verifying the setup, as the seed writes it: from the deployment account's instance role.
	var verify assumeRoleOutput
	mustCLI(t, s, cli, instance.creds(), &verify, "sts", "assume-role",
		"--role-arn", licenseRoleARN,
		"--role-session-name", "datamasque-verify-session")
	var who struct{ Account, Arn string }
	mustCLI(t, s, cli, verify.creds(), &who, "sts", "get-caller-identity")
	if want := "arn:aws:sts::" + rootAccount + ":assumed-role/DataMasqueLicenseRole/datamasque-verify-session"; who.Arn != want || who.Account != rootAccount {
		t.Errorf("get-caller-identity = %+v, want %s in the billing account", who, want)
	}

	// Troubleshooting: the deployment account's policy lacks sts:AssumeRole. Across accounts the
	// trust policy alone is not enough.
	mustCLI(t, s, cli, deploy, nil, "iam", "delete-role-policy", "--role-name", "DataMasque-EC2-Role", "--policy-name", "deployment")
	_, stderr, code := s.cliAs(t, cli, instance.creds(), "sts", "assume-role", "--role-arn", licenseRoleARN,
		"--role-session-name", "datamasque-verify-session")
	want := "is not authorized to perform: sts:AssumeRole on resource: " + licenseRoleARN + " because no identity-based policy allows the sts:AssumeRole action"
	if code == 0 || !strings.Contains(stderr, "(AccessDenied)") || !strings.Contains(stderr, want) {
		t.Errorf("assume-role without the deployment policy: exit %d, stderr %q; want AccessDenied …%s", code, stderr, want)
	}
}
