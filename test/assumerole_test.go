package test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/secrets"
	"github.com/allot-dev/allot/internal/store"
)

// The policies of seed 000's assume-role setup, with its placeholders filled for one account
// that is both the billing and the deployment account.
const (
	seedPermissionsPolicy = `{
"Version": "2012-10-17",
"Statement": [
{
"Sid": "DataMasqueLicenseOperations",
"Effect": "Allow",
"Action": [
"license-manager:CheckoutLicense",
"license-manager:CheckInLicense",
"license-manager:ListReceivedLicenses",
"license-manager:GetLicense",
"aws-marketplace:SearchAgreements"
],
"Resource": "*"
}
]
}`
	seedTrustPolicy = `{
"Version": "2012-10-17",
"Statement": [
{
"Effect": "Allow",
"Principal": {
"AWS": "arn:aws:iam::<deployment-account-id>:role/<datamasque-role-name>"
},
"Action": "sts:AssumeRole"
}
]
}`
	seedDeploymentStatement = `{
"Sid": "DataMasqueLicenseAssumeRole",
"Effect": "Allow",
"Action": "sts:AssumeRole",
"Resource": "arn:aws:iam::<billing-account-id>:role/DataMasqueLicenseRole"
}`
)

// writePolicy fills a seed document's placeholders and writes it to a file for file:// use.
func writePolicy(t *testing.T, name, doc string) string {
	t.Helper()
	doc = strings.NewReplacer("<deployment-account-id>", rootAccount, "<billing-account-id>", rootAccount,
		"<datamasque-role-name>", "DataMasque-EC2-Role").Replace(doc)
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return "file://" + path
}

// mustCLI runs a CLI command that must succeed and decodes its JSON output into out.
func mustCLI(t *testing.T, s *server, bin string, c creds, out any, args ...string) {
	t.Helper()
	stdout, stderr, code := s.cliAs(t, bin, c, args...)
	if code != 0 {
		t.Fatalf("aws %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(stdout), out); err != nil {
			t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, stdout)
		}
	}
}

type assumeRoleOutput struct {
	Credentials struct {
		AccessKeyId, SecretAccessKey, SessionToken, Expiration string
	}
	AssumedRoleUser struct{ AssumedRoleId, Arn string }
}

func (o assumeRoleOutput) creds() creds {
	return creds{o.Credentials.AccessKeyId, o.Credentials.SecretAccessKey, o.Credentials.SessionToken}
}

// TestAssumeRole_SeedSetup builds seed 000's assume-role setup with the AWS CLI, using the
// seed's own policy documents, then runs its "Verifying the setup → Assume role" commands as
// written (with --endpoint-url added): the DataMasque instance role assumes the billing
// account's DataMasqueLicenseRole and get-caller-identity shows the assumed-role ARN.
func TestAssumeRole_SeedSetup(t *testing.T) {
	s := startServer(t, serverOptions{})
	cli := requireTool(t, "AWS CLI v2", awsCLIs(t)["v2"])
	root := creds{keyID: rootKeyID, secret: rootSecret}
	licenseRoleARN := "arn:aws:iam::" + rootAccount + ":role/DataMasqueLicenseRole"
	instanceRoleARN := "arn:aws:iam::" + rootAccount + ":role/DataMasque-EC2-Role"

	// Billing account, step 1: the cross-account role with the seed's permissions and trust.
	mustCLI(t, s, cli, root, nil, "iam", "create-role", "--role-name", "DataMasqueLicenseRole",
		"--assume-role-policy-document", writePolicy(t, "trust.json", seedTrustPolicy))
	mustCLI(t, s, cli, root, nil, "iam", "put-role-policy", "--role-name", "DataMasqueLicenseRole",
		"--policy-name", "DataMasqueLicenseOperations", "--policy-document", writePolicy(t, "permissions.json", seedPermissionsPolicy))

	// Deployment account, step 2: the DataMasque instance role with the seed's statement. The
	// "instance" here is an operator user allowed to assume the instance role, standing in for EC2.
	instanceTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + rootAccount + `:user/operator"},"Action":"sts:AssumeRole"}]}`
	mustCLI(t, s, cli, root, nil, "iam", "create-role", "--role-name", "DataMasque-EC2-Role",
		"--assume-role-policy-document", writePolicy(t, "instance-trust.json", instanceTrust))
	mustCLI(t, s, cli, root, nil, "iam", "put-role-policy", "--role-name", "DataMasque-EC2-Role", "--policy-name", "deployment",
		"--policy-document", writePolicy(t, "deployment.json", `{"Version":"2012-10-17","Statement":[`+seedDeploymentStatement+`]}`))
	mustCLI(t, s, cli, root, nil, "iam", "create-user", "--user-name", "operator")
	mustCLI(t, s, cli, root, nil, "iam", "put-user-policy", "--user-name", "operator", "--policy-name", "assume-instance-role",
		"--policy-document", writePolicy(t, "operator.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"`+instanceRoleARN+`"}]}`))
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	mustCLI(t, s, cli, root, &key, "iam", "create-access-key", "--user-name", "operator")
	operator := creds{keyID: key.AccessKey.AccessKeyId, secret: key.AccessKey.SecretAccessKey}

	var instance assumeRoleOutput
	mustCLI(t, s, cli, operator, &instance, "sts", "assume-role", "--role-arn", instanceRoleARN, "--role-session-name", "i-0123456789abcdef0")

	// Verifying the setup, as the seed writes it.
	var verify assumeRoleOutput
	mustCLI(t, s, cli, instance.creds(), &verify, "sts", "assume-role",
		"--role-arn", licenseRoleARN,
		"--role-session-name", "datamasque-verify-session")
	if !strings.HasPrefix(verify.Credentials.AccessKeyId, "ASIA") || verify.Credentials.SessionToken == "" {
		t.Fatalf("assume-role returned %+v, want temporary credentials", verify.Credentials)
	}
	wantARN := "arn:aws:sts::" + rootAccount + ":assumed-role/DataMasqueLicenseRole/datamasque-verify-session"
	if verify.AssumedRoleUser.Arn != wantARN || !strings.HasSuffix(verify.AssumedRoleUser.AssumedRoleId, ":datamasque-verify-session") ||
		!strings.HasPrefix(verify.AssumedRoleUser.AssumedRoleId, "AROA") {
		t.Errorf("AssumedRoleUser = %+v, want Arn %s", verify.AssumedRoleUser, wantARN)
	}
	var who struct{ UserId, Account, Arn string }
	mustCLI(t, s, cli, verify.creds(), &who, "sts", "get-caller-identity")
	if who.Arn != wantARN || who.Account != rootAccount || who.UserId != verify.AssumedRoleUser.AssumedRoleId {
		t.Errorf("get-caller-identity with the session = %+v, want %s", who, wantARN)
	}

	// A chained session is limited to one hour.
	_, stderr, code := s.cliAs(t, cli, instance.creds(), "sts", "assume-role", "--role-arn", licenseRoleARN,
		"--role-session-name", "long", "--duration-seconds", "7200")
	if code == 0 || !strings.Contains(stderr, "ValidationError") || !strings.Contains(stderr, "1 hour session limit") {
		t.Errorf("chained assume-role for 2 hours: exit %d, stderr %q; want the 1-hour role-chaining ValidationError", code, stderr)
	}

	// Troubleshooting row: the trust policy references a wrong role ARN.
	wrongTrust := strings.Replace(seedTrustPolicy, "<datamasque-role-name>", "DataMasque-Old-Role", 1)
	mustCLI(t, s, cli, root, nil, "iam", "update-assume-role-policy", "--role-name", "DataMasqueLicenseRole",
		"--policy-document", writePolicy(t, "wrong-trust.json", wrongTrust))
	_, stderr, code = s.cliAs(t, cli, instance.creds(), "sts", "assume-role", "--role-arn", licenseRoleARN,
		"--role-session-name", "datamasque-verify-session")
	wantMsg := "User: " + instance.AssumedRoleUser.Arn + " is not authorized to perform: sts:AssumeRole on resource: " +
		licenseRoleARN + " because no role trust policy allows the sts:AssumeRole action"
	if code == 0 || !strings.Contains(stderr, "(AccessDenied)") || !strings.Contains(stderr, wantMsg) {
		t.Errorf("assume-role with a wrong trust ARN: exit %d, stderr %q; want AccessDenied: %s", code, stderr, wantMsg)
	}

	// As in AWS, root credentials cannot assume roles.
	_, stderr, code = s.cliAs(t, cli, root, "sts", "assume-role", "--role-arn", instanceRoleARN, "--role-session-name", "root")
	if code == 0 || !strings.Contains(stderr, "Roles may not be assumed by root accounts") {
		t.Errorf("root assume-role: exit %d, stderr %q", code, stderr)
	}
}

// TestAssumeRole_SDK checks the Go SDK's view of AssumeRole and session credentials: the
// session authenticates, its permissions are the role's narrowed by the session policy, and
// its expiry is what was asked for.
func TestAssumeRole_SDK(t *testing.T) {
	s := startServer(t, serverOptions{})
	ctx := context.Background()
	cli := requireTool(t, "AWS CLI v2", awsCLIs(t)["v2"])
	root := creds{keyID: rootKeyID, secret: rootSecret}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + rootAccount + `:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"partner-7"}}}]}`
	mustCLI(t, s, cli, root, nil, "iam", "create-role", "--role-name", "Consumer", "--max-session-duration", "7200",
		"--assume-role-policy-document", writePolicy(t, "trust.json", trust))
	mustCLI(t, s, cli, root, nil, "iam", "create-user", "--user-name", "ci")
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	mustCLI(t, s, cli, root, &key, "iam", "create-access-key", "--user-name", "ci")
	client := sts.NewFromConfig(s.awsConfig(key.AccessKey.AccessKeyId, key.AccessKey.SecretAccessKey))
	roleARN := "arn:aws:iam::" + rootAccount + ":role/Consumer"

	// The trust policy names the account, so the user also needs an identity policy.
	_, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("build-42"), ExternalId: aws.String("partner-7")})
	if msg := apiMessage(err); !strings.Contains(msg, "because no identity-based policy allows the sts:AssumeRole action") {
		t.Errorf("AssumeRole without an identity policy: %v", err)
	}
	mustCLI(t, s, cli, root, nil, "iam", "put-user-policy", "--user-name", "ci", "--policy-name", "assume",
		"--policy-document", writePolicy(t, "assume.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"`+roleARN+`"}]}`))

	// The trust policy's condition: ExternalId must match.
	_, err = client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("build-42"), ExternalId: aws.String("someone-else")})
	if msg := apiMessage(err); !strings.Contains(msg, "because no role trust policy allows") {
		t.Errorf("AssumeRole with a wrong ExternalId: %v", err)
	}

	start := time.Now()
	out, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("build-42"), ExternalId: aws.String("partner-7"),
		DurationSeconds: aws.Int32(5400),
		Policy:          aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudtrail:LookupEvents","Resource":"*"}]}`),
	})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	if exp := out.Credentials.Expiration.Sub(start); exp < 89*time.Minute || exp > 91*time.Minute {
		t.Errorf("session expires in %v, want 90 minutes", exp)
	}
	if out.PackedPolicySize == nil {
		t.Error("PackedPolicySize missing although a session policy was passed")
	}
	cfg := s.awsConfig("", "")
	cfg.Credentials = credentials.NewStaticCredentialsProvider(*out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken)
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || *who.Arn != "arn:aws:sts::"+rootAccount+":assumed-role/Consumer/build-42" {
		t.Fatalf("GetCallerIdentity with the session: %v %v", who, err)
	}

	// Beyond the role's MaxSessionDuration.
	_, err = client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("x1"),
		ExternalId: aws.String("partner-7"), DurationSeconds: aws.Int32(7201)})
	if !strings.Contains(apiMessage(err), "MaxSessionDuration") {
		t.Errorf("AssumeRole beyond MaxSessionDuration: %v", err)
	}
	// A malformed session policy.
	_, err = client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("x2"),
		ExternalId: aws.String("partner-7"), Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Maybe"}]}`)})
	if got := errorCode(err); got != "MalformedPolicyDocument" {
		t.Errorf("AssumeRole with a malformed session policy: %v, want MalformedPolicyDocument", err)
	}
	// A bad session name.
	_, err = client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("has space"), ExternalId: aws.String("partner-7")})
	if got := errorCode(err); got != "ValidationError" {
		t.Errorf("AssumeRole with a bad session name: %v, want ValidationError", err)
	}
}

func TestGetSessionToken(t *testing.T) {
	s := startServer(t, serverOptions{})
	ctx := context.Background()
	out, err := sts.NewFromConfig(s.awsConfig(rootKeyID, rootSecret)).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatalf("GetSessionToken: %v", err)
	}
	if d := time.Until(*out.Credentials.Expiration); d > time.Hour+time.Minute {
		t.Errorf("root session lasts %v, want at most 1 hour", d)
	}
	cfg := s.awsConfig("", "")
	cfg.Credentials = credentials.NewStaticCredentialsProvider(*out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken)
	session := sts.NewFromConfig(cfg)
	who, err := session.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || *who.Arn != "arn:aws:iam::"+rootAccount+":root" {
		t.Fatalf("GetCallerIdentity with the session: %v %v", who, err)
	}
	if _, err := session.GetSessionToken(ctx, &sts.GetSessionTokenInput{}); errorCode(err) != "AccessDenied" {
		t.Errorf("GetSessionToken with session credentials: %v, want AccessDenied", err)
	}

	// The token is part of the credentials: without it, or with another, the key is refused.
	for name, token := range map[string]string{"no token": "", "wrong token": "bm90LXRoZS10b2tlbg=="} {
		cfg.Credentials = credentials.NewStaticCredentialsProvider(*out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, token)
		if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); errorCode(err) != "InvalidClientTokenId" {
			t.Errorf("%s: %v, want InvalidClientTokenId", name, err)
		}
	}
}

func apiMessage(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode() + ": " + apiErr.ErrorMessage()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// TestExpiredSession checks that temporary credentials stop working when they expire, with the
// expired-token error of each protocol. The expired session is written straight into the
// server's database, as waiting out the shortest real session (15 minutes) is not a test.
func TestExpiredSession(t *testing.T) {
	s := startServer(t, serverOptions{})
	ctx := context.Background()
	key, _, err := secrets.LoadKey(s.dataDir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	box, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, filepath.Join(s.dataDir, "allot.db"), store.Options{Box: box, NodeID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC().Truncate(time.Second)
	sess := &store.Session{
		AccessKeyID: "ASIAEXPIREDSESSION01", AccountID: rootAccount, Kind: identity.KindRoot, PrincipalID: rootAccount,
		Secret: "expired/session/secret/0123456789abcdef", Token: "ZXhwaXJlZC10b2tlbg==",
		CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour),
	}
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.CreateSession(ctx, sess) }); err != nil {
		t.Fatal(err)
	}
	cfg := s.awsConfig("", "")
	cfg.Credentials = credentials.NewStaticCredentialsProvider(sess.AccessKeyID, sess.Secret, sess.Token)
	_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if got := apiMessage(err); got != "ExpiredToken: The security token included in the request is expired" {
		t.Errorf("STS with an expired session: %q", got)
	}
	_, err = cloudtrail.NewFromConfig(cfg).LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
	if got := errorCode(err); got != "ExpiredTokenException" {
		t.Errorf("CloudTrail with an expired session: %v, want ExpiredTokenException", err)
	}
}

// TestAssumeRole_TransitiveTags checks session tags through role chaining: a transitive tag
// set on the first session reaches the second, where conditions on aws:PrincipalTag see it,
// and it cannot be overridden.
func TestAssumeRole_TransitiveTags(t *testing.T) {
	s := startServer(t, serverOptions{})
	ctx := context.Background()
	admin := iam.NewFromConfig(s.awsConfig(rootKeyID, rootSecret))
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + rootAccount + `:root"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`
	for _, name := range []string{"First", "Second"} {
		if _, err := admin.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			t.Fatal(err)
		}
	}
	mustPut := func(role, doc string) {
		t.Helper()
		if _, err := admin.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	mustPut("First", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession"],"Resource":"*"}]}`)
	mustPut("Second", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudtrail:LookupEvents","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"}}}]}`)
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession"],"Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("u")})
	if err != nil {
		t.Fatal(err)
	}
	user := sts.NewFromConfig(s.awsConfig(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey))
	sessionClient := func(c *ststypes.Credentials) aws.Config {
		cfg := s.awsConfig("", "")
		cfg.Credentials = credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
		return cfg
	}
	role := func(name string) *string { return aws.String("arn:aws:iam::" + rootAccount + ":role/" + name) }

	first, err := user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role("First"), RoleSessionName: aws.String("one"),
		Tags: []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}, TransitiveTagKeys: []string{"team"}})
	if err != nil {
		t.Fatalf("AssumeRole First with a transitive tag: %v", err)
	}
	chained := sts.NewFromConfig(sessionClient(first.Credentials))
	second, err := chained.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role("Second"), RoleSessionName: aws.String("two")})
	if err != nil {
		t.Fatalf("AssumeRole Second from the First session: %v", err)
	}
	if _, err := cloudtrail.NewFromConfig(sessionClient(second.Credentials)).LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
		t.Errorf("LookupEvents with the inherited team=blue tag: %v", err)
	}
	_, err = chained.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role("Second"), RoleSessionName: aws.String("three"),
		Tags: []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("red")}}})
	if got := errorCode(err); got != "InvalidParameterValue" {
		t.Errorf("overriding a transitive tag: %v, want InvalidParameterValue", err)
	}
	// Without the tag, the condition does not hold.
	plain, err := user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role("Second"), RoleSessionName: aws.String("four")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cloudtrail.NewFromConfig(sessionClient(plain.Credentials)).LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); errorCode(err) != "AccessDeniedException" {
		t.Errorf("LookupEvents without the tag: %v, want AccessDeniedException", err)
	}
}
