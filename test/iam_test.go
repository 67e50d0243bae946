package test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const (
	iamTrustPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"Allow CI","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"a+b&c<d> e"}}}]}`
	iamListPolicy  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["license-manager:List*","license-manager:Get*"],"Resource":"*"}]}`
	adminPolicyARN = "arn:aws:iam::aws:policy/AdministratorAccess"
	readOnlyARN    = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	consumptionARN = "arn:aws:iam::aws:policy/service-role/AWSLicenseManagerConsumptionPolicy"
)

// TestIAM_Postgres runs the IAM end-to-end tests against a server on PostgreSQL, each on a
// database of its own.
func TestIAM_Postgres(t *testing.T) {
	for name, test := range map[string]func(*testing.T, *server){
		"UserAndAccessKeys": testIAMUserAndAccessKeys,
		"Roles":             testIAMRoles,
		"ManagedPolicies":   testIAMManagedPolicies,
		"Paging":            testIAMPaging,
		"AuditTrail":        testIAMAuditTrail,
		"Concurrent":        testIAMConcurrent,
	} {
		t.Run(name, func(t *testing.T) { test(t, startServer(t, serverOptions{database: postgresDatabase(t)})) })
	}
}

// rootIAM returns an IAM client with the root credentials.
func rootIAM(s *server) *iam.Client { return iam.NewFromConfig(s.awsConfig(rootKeyID, rootSecret)) }

// wantAPIError checks that err is an AWS error with the given code (and, when given, a
// message containing msg).
func wantAPIError(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	if got := errorCode(err); got != code {
		t.Errorf("%s: error %v, want %s", what, err, code)
		return
	}
	if msg != "" && !strings.Contains(apiMessage(err), msg) {
		t.Errorf("%s: message %q does not contain %q", what, apiMessage(err), msg)
	}
}

// wantTyped checks that err is (or wraps) the SDK's typed error T.
func wantTyped[T error](t *testing.T, what string, err error) {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Errorf("%s: error %v (%T), want %T", what, err, err, target)
	}
}

func unescape(t *testing.T, doc *string) string {
	t.Helper()
	s, err := url.QueryUnescape(aws.ToString(doc))
	if err != nil {
		t.Fatalf("policy document %q is not URL-encoded: %v", aws.ToString(doc), err)
	}
	return s
}

// TestIAM_UserAndAccessKeys creates a user and an access key with the SDK, signs with the new
// key, and deactivates it.
func TestIAM_UserAndAccessKeys(t *testing.T) {
	testIAMUserAndAccessKeys(t, startServer(t, serverOptions{}))
}

func testIAMUserAndAccessKeys(t *testing.T, s *server) {
	ctx := context.Background()
	c := rootIAM(s)

	created, err := c.CreateUser(ctx, &iam.CreateUserInput{
		UserName: aws.String("Alice"), Path: aws.String("/eng/"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("licensing")}},
	})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	u := created.User
	wantARN := "arn:aws:iam::" + rootAccount + ":user/eng/Alice"
	if aws.ToString(u.Arn) != wantARN || aws.ToString(u.Path) != "/eng/" || aws.ToString(u.UserName) != "Alice" ||
		!strings.HasPrefix(aws.ToString(u.UserId), "AIDA") || len(aws.ToString(u.UserId)) != 21 || u.CreateDate == nil {
		t.Errorf("CreateUser returned %+v", u)
	}
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ALICE")})
	wantTyped[*types.EntityAlreadyExistsException](t, "CreateUser(ALICE)", err)
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bad name!")})
	wantAPIError(t, "CreateUser(bad name!)", err, "ValidationError", `[\w+=,.@-]+`)

	got, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if aws.ToString(got.User.Arn) != wantARN || aws.ToString(got.User.UserId) != aws.ToString(u.UserId) ||
		len(got.User.Tags) != 1 || aws.ToString(got.User.Tags[0].Value) != "licensing" {
		t.Errorf("GetUser(alice) = %+v", got.User)
	}
	_, err = c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	wantTyped[*types.NoSuchEntityException](t, "GetUser(nobody)", err)
	wantAPIError(t, "GetUser(nobody)", err, "NoSuchEntity", "The user with name nobody cannot be found.")

	// Without a name, root gets the account's root user.
	me, err := c.GetUser(ctx, &iam.GetUserInput{})
	if err != nil {
		t.Fatalf("GetUser as root: %v", err)
	}
	if aws.ToString(me.User.Arn) != "arn:aws:iam::"+rootAccount+":root" || aws.ToString(me.User.UserId) != rootAccount || me.User.UserName != nil {
		t.Errorf("GetUser as root = %+v", me.User)
	}

	// An access key for the user authenticates as the user.
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatalf("CreateAccessKey: %v", err)
	}
	k := key.AccessKey
	if !strings.HasPrefix(aws.ToString(k.AccessKeyId), "AKIA") || len(aws.ToString(k.SecretAccessKey)) != 40 ||
		k.Status != types.StatusTypeActive || aws.ToString(k.UserName) != "Alice" {
		t.Errorf("CreateAccessKey = %+v", k)
	}
	stsAs := func(id, secret string) (*sts.GetCallerIdentityOutput, error) {
		return sts.NewFromConfig(s.awsConfig(id, secret)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	}
	who, err := stsAs(aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey))
	if err != nil {
		t.Fatalf("GetCallerIdentity with the user's key: %v", err)
	}
	if aws.ToString(who.Arn) != wantARN || aws.ToString(who.Account) != rootAccount {
		t.Errorf("GetCallerIdentity with the user's key = %s %s, want %s", aws.ToString(who.Arn), aws.ToString(who.Account), wantARN)
	}

	// Two keys per user.
	key2, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("Alice")})
	if err != nil {
		t.Fatalf("second CreateAccessKey: %v", err)
	}
	_, err = c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("Alice")})
	wantTyped[*types.LimitExceededException](t, "third CreateAccessKey", err)
	list, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("Alice")})
	if err != nil || len(list.AccessKeyMetadata) != 2 {
		t.Fatalf("ListAccessKeys = %+v, %v; want two keys", list, err)
	}

	// An inactive key no longer authenticates; reactivated, it does again.
	_, err = c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("Alice"), AccessKeyId: k.AccessKeyId, Status: types.StatusTypeInactive})
	if err != nil {
		t.Fatalf("UpdateAccessKey(Inactive): %v", err)
	}
	_, err = stsAs(aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey))
	wantAPIError(t, "GetCallerIdentity with an inactive key", err, "InvalidClientTokenId", "")
	list, _ = c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("Alice")})
	for _, m := range list.AccessKeyMetadata {
		if want := map[bool]types.StatusType{true: types.StatusTypeInactive, false: types.StatusTypeActive}[aws.ToString(m.AccessKeyId) == aws.ToString(k.AccessKeyId)]; m.Status != want {
			t.Errorf("key %s status %s, want %s", aws.ToString(m.AccessKeyId), m.Status, want)
		}
	}
	if _, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("Alice"), AccessKeyId: k.AccessKeyId, Status: types.StatusTypeActive}); err != nil {
		t.Fatal(err)
	}
	if _, err := stsAs(aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey)); err != nil {
		t.Errorf("GetCallerIdentity with the reactivated key: %v", err)
	}
	// Another user's key is not this user's.
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: k.AccessKeyId, Status: types.StatusTypeInactive})
	wantTyped[*types.NoSuchEntityException](t, "UpdateAccessKey of another user's key", err)

	// A user with keys cannot be deleted.
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
	wantTyped[*types.DeleteConflictException](t, "DeleteUser with access keys", err)
	wantAPIError(t, "DeleteUser with access keys", err, "DeleteConflict", "must delete access keys first")
	for _, id := range []*string{k.AccessKeyId, key2.AccessKey.AccessKeyId} {
		if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: id}); err != nil {
			t.Fatalf("DeleteAccessKey: %v", err)
		}
	}
	_, err = stsAs(aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey))
	wantAPIError(t, "GetCallerIdentity with a deleted key", err, "InvalidClientTokenId", "")
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err = c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("Alice")})
	wantTyped[*types.NoSuchEntityException](t, "GetUser after DeleteUser", err)

	// Tags.
	if _, err := c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("bob"), Tags: []types.Tag{
		{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("bob"), TagKeys: []string{"A"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("bob")})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "b" || tags.IsTruncated {
		t.Errorf("ListUserTags = %+v, %v; want only b", tags, err)
	}
	_, err = c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("bob"), Tags: []types.Tag{
		{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("K"), Value: aws.String("2")},
	}})
	wantAPIError(t, "TagUser with duplicate keys", err, "InvalidInput", "Duplicate tag keys")
}

// TestIAM_RootAccessKeys checks that CreateAccessKey without a user name makes a root key.
func TestIAM_RootAccessKeys(t *testing.T) {
	s := startServer(t, serverOptions{})
	ctx := context.Background()
	c := rootIAM(s)
	out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
	if err != nil {
		t.Fatalf("CreateAccessKey as root: %v", err)
	}
	who, err := sts.NewFromConfig(s.awsConfig(aws.ToString(out.AccessKey.AccessKeyId), aws.ToString(out.AccessKey.SecretAccessKey))).
		GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:iam::"+rootAccount+":root" {
		t.Fatalf("GetCallerIdentity with the new root key = %v, %v", who, err)
	}
	list, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
	if err != nil || len(list.AccessKeyMetadata) != 2 {
		t.Fatalf("ListAccessKeys as root = %+v, %v; want the two root keys", list, err)
	}
	_, err = c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
	wantTyped[*types.LimitExceededException](t, "third root key", err)
}

// TestIAM_Roles creates a role with a trust policy and reads it back with the SDK and with
// both AWS CLIs, which decode the URL-encoded document themselves.
func TestIAM_Roles(t *testing.T) { testIAMRoles(t, startServer(t, serverOptions{})) }

func testIAMRoles(t *testing.T, s *server) {
	ctx := context.Background()
	c := rootIAM(s)

	out, err := c.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("LicenseConsumer"), AssumeRolePolicyDocument: aws.String(iamTrustPolicy),
		Description: aws.String("consumes licenses"), MaxSessionDuration: aws.Int32(7200), Path: aws.String("/apps/"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("db")}},
	})
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	wantARN := "arn:aws:iam::" + rootAccount + ":role/apps/LicenseConsumer"
	r := out.Role
	if aws.ToString(r.Arn) != wantARN || !strings.HasPrefix(aws.ToString(r.RoleId), "AROA") || aws.ToInt32(r.MaxSessionDuration) != 7200 ||
		unescape(t, r.AssumeRolePolicyDocument) != iamTrustPolicy {
		t.Errorf("CreateRole = %+v", r)
	}
	got, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("licenseconsumer")})
	if err != nil {
		t.Fatalf("GetRole: %v", err)
	}
	r = got.Role
	if aws.ToString(r.Arn) != wantARN || aws.ToString(r.RoleName) != "LicenseConsumer" || aws.ToString(r.Description) != "consumes licenses" ||
		unescape(t, r.AssumeRolePolicyDocument) != iamTrustPolicy || r.RoleLastUsed == nil || len(r.Tags) != 1 {
		t.Errorf("GetRole = %+v", r)
	}
	if strings.Contains(aws.ToString(r.AssumeRolePolicyDocument), "{") {
		t.Errorf("the SDK got the document %q, want it URL-encoded as IAM sends it", aws.ToString(r.AssumeRolePolicyDocument))
	}

	// Both AWS CLIs decode the document into JSON.
	for name, path := range awsCLIs(t) {
		t.Run("CLI-"+name, func(t *testing.T) {
			bin := requireTool(t, "AWS CLI "+name, path)
			var res struct {
				Role struct {
					Arn                      string
					AssumeRolePolicyDocument any
					MaxSessionDuration       int
				}
			}
			mustCLI(t, s, bin, creds{keyID: rootKeyID, secret: rootSecret}, &res, "iam", "get-role", "--role-name", "LicenseConsumer")
			var want any
			json.Unmarshal([]byte(iamTrustPolicy), &want)
			if res.Role.Arn != wantARN || res.Role.MaxSessionDuration != 7200 || !reflect.DeepEqual(res.Role.AssumeRolePolicyDocument, want) {
				t.Errorf("aws iam get-role = %+v, want the trust policy as JSON %v", res.Role, want)
			}
			_, stderr, code := s.cli(t, bin, rootKeyID, rootSecret, "iam", "get-role", "--role-name", "missing")
			if code == 0 || !strings.Contains(stderr, "NoSuchEntity") {
				t.Errorf("get-role missing: exit %d, %s", code, stderr)
			}
		})
	}

	// Bad input.
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("LICENSECONSUMER"), AssumeRolePolicyDocument: aws.String(iamTrustPolicy)})
	wantTyped[*types.EntityAlreadyExistsException](t, "CreateRole(duplicate)", err)
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(iamTrustPolicy), MaxSessionDuration: aws.Int32(100)})
	wantAPIError(t, "CreateRole(MaxSessionDuration 100)", err, "ValidationError", "maxSessionDuration")
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(iamListPolicy)})
	wantTyped[*types.MalformedPolicyDocumentException](t, "CreateRole(trust policy without Principal)", err)
	if msg := apiMessage(err); !strings.Contains(strings.ToLower(msg), "principal") {
		t.Errorf("trust policy without Principal: message %q does not name the problem", msg)
	}
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(`{"Version":`)})
	wantTyped[*types.MalformedPolicyDocumentException](t, "CreateRole(not JSON)", err)
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("missing")})
	wantTyped[*types.NoSuchEntityException](t, "GetRole(missing)", err)

	// Updates.
	if _, err := c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("LicenseConsumer"), MaxSessionDuration: aws.Int32(43200)}); err != nil {
		t.Fatal(err)
	}
	desc, err := c.UpdateRoleDescription(ctx, &iam.UpdateRoleDescriptionInput{RoleName: aws.String("LicenseConsumer"), Description: aws.String("new")})
	if err != nil || aws.ToString(desc.Role.Description) != "new" || aws.ToInt32(desc.Role.MaxSessionDuration) != 43200 {
		t.Errorf("UpdateRoleDescription = %+v, %v", desc, err)
	}
	newTrust := strings.Replace(iamTrustPolicy, "444455556666", "777788889999", 1)
	if _, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("LicenseConsumer"), PolicyDocument: aws.String(newTrust)}); err != nil {
		t.Fatal(err)
	}
	got, _ = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("LicenseConsumer")})
	if unescape(t, got.Role.AssumeRolePolicyDocument) != newTrust {
		t.Errorf("trust policy after UpdateAssumeRolePolicy = %s", unescape(t, got.Role.AssumeRolePolicyDocument))
	}
	_, err = c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("LicenseConsumer"), PolicyDocument: aws.String(iamListPolicy)})
	wantTyped[*types.MalformedPolicyDocumentException](t, "UpdateAssumeRolePolicy(identity policy)", err)

	// Inline policies, and the conflict they make for DeleteRole.
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("LicenseConsumer"), PolicyName: aws.String("list"), PolicyDocument: aws.String(iamListPolicy)}); err != nil {
		t.Fatalf("PutRolePolicy: %v", err)
	}
	rp, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("LicenseConsumer"), PolicyName: aws.String("LIST")})
	if err != nil || aws.ToString(rp.PolicyName) != "list" || unescape(t, rp.PolicyDocument) != iamListPolicy {
		t.Errorf("GetRolePolicy = %+v, %v", rp, err)
	}
	names, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("LicenseConsumer")})
	if err != nil || !slices.Equal(names.PolicyNames, []string{"list"}) {
		t.Errorf("ListRolePolicies = %+v, %v", names, err)
	}
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("LicenseConsumer")})
	wantTyped[*types.DeleteConflictException](t, "DeleteRole with an inline policy", err)
	if _, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("LicenseConsumer"), PolicyName: aws.String("list")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("LicenseConsumer"), PolicyName: aws.String("list")})
	wantAPIError(t, "DeleteRolePolicy twice", err, "NoSuchEntity", "The role policy with name list cannot be found.")
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("LicenseConsumer")}); err != nil {
		t.Fatalf("DeleteRole: %v", err)
	}
}

// TestIAM_ManagedPolicies exercises managed policies: versions, attachments, inline policies,
// permissions boundaries and the AWS managed policies every installation has.
func TestIAM_ManagedPolicies(t *testing.T) {
	testIAMManagedPolicies(t, startServer(t, serverOptions{}))
}

func testIAMManagedPolicies(t *testing.T, s *server) {
	ctx := context.Background()
	c := rootIAM(s)

	created, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName: aws.String("Consumers"), PolicyDocument: aws.String(iamListPolicy), Description: aws.String("who consumes"),
	})
	if err != nil {
		t.Fatalf("CreatePolicy: %v", err)
	}
	arn := aws.ToString(created.Policy.Arn)
	if arn != "arn:aws:iam::"+rootAccount+":policy/Consumers" || aws.ToString(created.Policy.DefaultVersionId) != "v1" ||
		!strings.HasPrefix(aws.ToString(created.Policy.PolicyId), "ANPA") || !created.Policy.IsAttachable || aws.ToInt32(created.Policy.AttachmentCount) != 0 {
		t.Errorf("CreatePolicy = %+v", created.Policy)
	}
	_, err = c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("consumers"), PolicyDocument: aws.String(iamListPolicy)})
	wantTyped[*types.EntityAlreadyExistsException](t, "CreatePolicy(duplicate)", err)
	_, err = c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Bad"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}`)})
	wantTyped[*types.MalformedPolicyDocumentException](t, "CreatePolicy(Effect Maybe)", err)
	if msg := apiMessage(err); !strings.Contains(msg, "Effect") {
		t.Errorf("malformed policy message %q does not name Effect", msg)
	}

	// Versions: at most five; the default cannot be deleted.
	doc := func(i int) string { return strings.Replace(iamListPolicy, "List*", fmt.Sprintf("List%d*", i), 1) }
	for i := 2; i <= 5; i++ {
		v, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(doc(i)), SetAsDefault: i == 3})
		if err != nil {
			t.Fatalf("CreatePolicyVersion %d: %v", i, err)
		}
		if aws.ToString(v.PolicyVersion.VersionId) != fmt.Sprint("v", i) || v.PolicyVersion.IsDefaultVersion != (i == 3) {
			t.Errorf("CreatePolicyVersion %d = %+v", i, v.PolicyVersion)
		}
	}
	_, err = c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(doc(6))})
	wantTyped[*types.LimitExceededException](t, "sixth version", err)
	versions, err := c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
	if err != nil || len(versions.Versions) != 5 {
		t.Fatalf("ListPolicyVersions = %+v, %v", versions, err)
	}
	pv, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v3")})
	if err != nil || unescape(t, pv.PolicyVersion.Document) != doc(3) || !pv.PolicyVersion.IsDefaultVersion {
		t.Errorf("GetPolicyVersion(v3) = %+v, %v", pv, err)
	}
	_, err = c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v9")})
	wantTyped[*types.NoSuchEntityException](t, "GetPolicyVersion(v9)", err)
	_, err = c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v3")})
	wantTyped[*types.DeleteConflictException](t, "DeletePolicyVersion(default)", err)
	if _, err := c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v5")}); err != nil {
		t.Fatal(err)
	}
	p, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil || aws.ToString(p.Policy.DefaultVersionId) != "v5" || aws.ToString(p.Policy.Description) != "who consumes" {
		t.Errorf("GetPolicy = %+v, %v; want default v5", p, err)
	}
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	wantTyped[*types.DeleteConflictException](t, "DeletePolicy with versions", err)
	for _, v := range []string{"v1", "v2", "v3", "v4"} {
		if _, err := c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(v)}); err != nil {
			t.Fatalf("DeletePolicyVersion(%s): %v", v, err)
		}
	}

	// AWS managed policies: listed with Scope=AWS, readable, attachable, not deletable.
	awsList, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws})
	if err != nil {
		t.Fatal(err)
	}
	var awsARNs []string
	for _, p := range awsList.Policies {
		awsARNs = append(awsARNs, aws.ToString(p.Arn))
	}
	for _, want := range []string{adminPolicyARN, readOnlyARN, consumptionARN} {
		if !slices.Contains(awsARNs, want) {
			t.Errorf("ListPolicies(Scope=AWS) lacks %s: %v", want, awsARNs)
		}
	}
	if slices.Contains(awsARNs, arn) {
		t.Errorf("ListPolicies(Scope=AWS) lists the customer policy %s", arn)
	}
	cv, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(consumptionARN), VersionId: aws.String("v1")})
	if err != nil || !strings.Contains(unescape(t, cv.PolicyVersion.Document), "license-manager:CheckoutLicense") {
		t.Errorf("GetPolicyVersion(AWSLicenseManagerConsumptionPolicy) = %+v, %v", cv, err)
	}
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(adminPolicyARN)})
	wantAPIError(t, "DeletePolicy(AdministratorAccess)", err, "UnmodifiableEntity", "")
	_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::999999999999:policy/Theirs")})
	wantTyped[*types.NoSuchEntityException](t, "GetPolicy(another account's)", err)

	// Attach the customer policy and an AWS managed one to a user and a role.
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carol")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("worker"), AssumeRolePolicyDocument: aws.String(iamTrustPolicy)}); err != nil {
		t.Fatal(err)
	}
	for _, pa := range []string{arn, consumptionARN} {
		if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("carol"), PolicyArn: aws.String(pa)}); err != nil {
			t.Fatalf("AttachUserPolicy(%s): %v", pa, err)
		}
		if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("worker"), PolicyArn: aws.String(pa)}); err != nil {
			t.Fatalf("AttachRolePolicy(%s): %v", pa, err)
		}
	}
	_, err = c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("carol"), PolicyArn: aws.String("arn:aws:iam::" + rootAccount + ":policy/Missing")})
	wantTyped[*types.NoSuchEntityException](t, "AttachUserPolicy(unknown policy)", err)
	_, err = c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("nobody"), PolicyArn: aws.String(arn)})
	wantTyped[*types.NoSuchEntityException](t, "AttachUserPolicy(unknown user)", err)
	_, err = c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("carol"), PolicyArn: aws.String("not-an-arn-but-long-enough")})
	wantTyped[*types.InvalidInputException](t, "AttachUserPolicy(not an ARN)", err)
	attached, err := c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("carol")})
	if err != nil || len(attached.AttachedPolicies) != 2 {
		t.Errorf("ListAttachedUserPolicies = %+v, %v", attached, err)
	}
	ra, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("worker"), PathPrefix: aws.String("/service-role/")})
	if err != nil || len(ra.AttachedPolicies) != 1 || aws.ToString(ra.AttachedPolicies[0].PolicyArn) != consumptionARN {
		t.Errorf("ListAttachedRolePolicies(/service-role/) = %+v, %v", ra, err)
	}
	p, _ = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if aws.ToInt32(p.Policy.AttachmentCount) != 2 {
		t.Errorf("AttachmentCount = %d, want 2", aws.ToInt32(p.Policy.AttachmentCount))
	}
	onlyAttached, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{OnlyAttached: true})
	if err != nil || len(onlyAttached.Policies) != 2 {
		t.Errorf("ListPolicies(OnlyAttached) = %d policies, %v; want 2", len(onlyAttached.Policies), err)
	}
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	wantTyped[*types.DeleteConflictException](t, "DeletePolicy while attached", err)
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("carol")})
	wantAPIError(t, "DeleteUser with attached policies", err, "DeleteConflict", "detach all policies")

	// Inline user policies.
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("carol"), PolicyName: aws.String("inline"), PolicyDocument: aws.String(iamListPolicy)}); err != nil {
		t.Fatalf("PutUserPolicy: %v", err)
	}
	up, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("CAROL"), PolicyName: aws.String("inline")})
	if err != nil || aws.ToString(up.UserName) != "carol" || unescape(t, up.PolicyDocument) != iamListPolicy {
		t.Errorf("GetUserPolicy = %+v, %v", up, err)
	}
	un, err := c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("carol")})
	if err != nil || !slices.Equal(un.PolicyNames, []string{"inline"}) {
		t.Errorf("ListUserPolicies = %+v, %v", un, err)
	}
	_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("carol"), PolicyName: aws.String("bad"), PolicyDocument: aws.String(iamTrustPolicy)})
	wantTyped[*types.MalformedPolicyDocumentException](t, "PutUserPolicy(with a Principal)", err)
	if _, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("carol"), PolicyName: aws.String("inline")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("carol"), PolicyName: aws.String("inline")})
	wantTyped[*types.NoSuchEntityException](t, "GetUserPolicy after delete", err)

	// Permissions boundaries.
	if _, err := c.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("carol"), PermissionsBoundary: aws.String(readOnlyARN)}); err != nil {
		t.Fatalf("PutUserPermissionsBoundary: %v", err)
	}
	if _, err := c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("worker"), PermissionsBoundary: aws.String(arn)}); err != nil {
		t.Fatalf("PutRolePermissionsBoundary: %v", err)
	}
	gu, _ := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("carol")})
	if gu.User.PermissionsBoundary == nil || aws.ToString(gu.User.PermissionsBoundary.PermissionsBoundaryArn) != readOnlyARN ||
		gu.User.PermissionsBoundary.PermissionsBoundaryType != types.PermissionsBoundaryAttachmentTypePolicy {
		t.Errorf("user boundary = %+v", gu.User.PermissionsBoundary)
	}
	p, _ = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if aws.ToInt32(p.Policy.PermissionsBoundaryUsageCount) != 1 {
		t.Errorf("PermissionsBoundaryUsageCount = %d, want 1", aws.ToInt32(p.Policy.PermissionsBoundaryUsageCount))
	}
	_, err = c.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("carol"), PermissionsBoundary: aws.String("arn:aws:iam::" + rootAccount + ":policy/Missing")})
	wantTyped[*types.NoSuchEntityException](t, "PutUserPermissionsBoundary(missing policy)", err)
	for _, step := range []func() error{
		func() error {
			_, err := c.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String("carol")})
			return err
		},
		func() error {
			_, err := c.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String("worker")})
			return err
		},
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	gu, _ = c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("carol")})
	if gu.User.PermissionsBoundary != nil {
		t.Errorf("user boundary after delete = %+v", gu.User.PermissionsBoundary)
	}

	// Detach everything; then the policy and the user can go.
	for _, pa := range []string{arn, consumptionARN} {
		if _, err := c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("carol"), PolicyArn: aws.String(pa)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("worker"), PolicyArn: aws.String(pa)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("carol"), PolicyArn: aws.String(arn)})
	wantTyped[*types.NoSuchEntityException](t, "DetachUserPolicy(not attached)", err)
	if _, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)}); err != nil {
		t.Fatalf("DeletePolicy: %v", err)
	}
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("carol")}); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	wantTyped[*types.NoSuchEntityException](t, "GetPolicy after DeletePolicy", err)
}

// TestIAM_AttachedPolicyGrantsAccess checks that what IAM stores decides what a user may do:
// a new user may do nothing but GetCallerIdentity; with ReadOnlyAccess attached it may read
// but not write.
func TestIAM_AttachedPolicyGrantsAccess(t *testing.T) {
	s := startServer(t, serverOptions{})
	ctx := context.Background()
	c := rootIAM(s)
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("reader")}); err != nil {
		t.Fatal(err)
	}
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("reader")})
	if err != nil {
		t.Fatal(err)
	}
	reader := iam.NewFromConfig(s.awsConfig(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)))
	_, err = reader.GetUser(ctx, &iam.GetUserInput{})
	wantAPIError(t, "GetUser without policies", err, "AccessDenied", "iam:GetUser")

	if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("reader"), PolicyArn: aws.String(readOnlyARN)}); err != nil {
		t.Fatal(err)
	}
	me, err := reader.GetUser(ctx, &iam.GetUserInput{})
	if err != nil || aws.ToString(me.User.UserName) != "reader" {
		t.Errorf("GetUser (own) with ReadOnlyAccess = %+v, %v", me, err)
	}
	_, err = reader.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("intruder")})
	wantAPIError(t, "CreateUser with ReadOnlyAccess", err, "AccessDenied", "iam:CreateUser")
}

// TestIAM_Paging pages through users, roles and policies one at a time with the SDK's
// paginators, which must end.
func TestIAM_Paging(t *testing.T) { testIAMPaging(t, startServer(t, serverOptions{})) }

func testIAMPaging(t *testing.T, s *server) {
	ctx := context.Background()
	c := rootIAM(s)
	names := []string{"u1", "U2", "u3", "u4", "u5"}
	for _, n := range names {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p-" + n), PolicyDocument: aws.String(iamListPolicy)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r-" + n), AssumeRolePolicyDocument: aws.String(iamTrustPolicy)}); err != nil {
			t.Fatal(err)
		}
	}

	var users []string
	pages := 0
	for p := iam.NewListUsersPaginator(c, &iam.ListUsersInput{MaxItems: aws.Int32(1)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		if pages++; pages > 20 {
			t.Fatal("ListUsers keeps returning a Marker")
		}
		if len(out.Users) > 1 {
			t.Fatalf("page of %d users with MaxItems=1", len(out.Users))
		}
		for _, u := range out.Users {
			users = append(users, aws.ToString(u.UserName))
		}
	}
	if !slices.Equal(users, names) {
		t.Errorf("paged users = %v, want %v", users, names)
	}

	var roles int
	for p := iam.NewListRolesPaginator(c, &iam.ListRolesInput{MaxItems: aws.Int32(2)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListRoles: %v", err)
		}
		roles += len(out.Roles)
		if roles > 100 {
			t.Fatal("ListRoles does not end")
		}
	}
	if roles != len(names) {
		t.Errorf("paged %d roles, want %d", roles, len(names))
	}

	countPolicies := func(scope types.PolicyScopeType) int {
		n, pages := 0, 0
		for p := iam.NewListPoliciesPaginator(c, &iam.ListPoliciesInput{Scope: scope, MaxItems: aws.Int32(1)}); p.HasMorePages(); {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListPolicies(%s): %v", scope, err)
			}
			if pages++; pages > 100 {
				t.Fatalf("ListPolicies(%s) does not end", scope)
			}
			n += len(out.Policies)
		}
		return n
	}
	local, awsManaged, all := countPolicies(types.PolicyScopeTypeLocal), countPolicies(types.PolicyScopeTypeAws), countPolicies(types.PolicyScopeTypeAll)
	if local != len(names) || awsManaged < 3 || all != local+awsManaged {
		t.Errorf("paged policies: %d local, %d AWS, %d all", local, awsManaged, all)
	}

	_, err := c.ListUsers(ctx, &iam.ListUsersInput{Marker: aws.String("not-a-marker")})
	wantAPIError(t, "ListUsers with a bad Marker", err, "InvalidInput", "")
	_, err = c.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(0)})
	wantAPIError(t, "ListUsers with MaxItems 0", err, "ValidationError", "maxItems")
}

// TestIAM_AuditTrail checks the CloudTrail side: IAM calls are recorded with their responses,
// secrets hidden.
func TestIAM_AuditTrail(t *testing.T) { testIAMAuditTrail(t, startServer(t, serverOptions{})) }

func testIAMAuditTrail(t *testing.T, s *server) {
	ctx := context.Background()
	c := rootIAM(s)
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("audited")}); err != nil {
		t.Fatal(err)
	}
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("audited")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("AUDITED")})
	wantTyped[*types.EntityAlreadyExistsException](t, "CreateUser(duplicate)", err)

	events := lookupAll(t, s, "CreateUser", 50)
	if len(events) != 2 {
		t.Fatalf("got %d CreateUser events, want 2", len(events))
	}
	var ok, failed int
	for _, ev := range events {
		if ev.EventSource != "iam.amazonaws.com" {
			t.Errorf("CreateUser eventSource = %q", ev.EventSource)
		}
		var resp struct {
			User struct{ UserName, UserID, Arn string } `json:"user"`
		}
		switch ev.ErrorCode {
		case "":
			ok++
			if err := json.Unmarshal(ev.ResponseElements, &resp); err != nil || resp.User.UserName != "audited" ||
				resp.User.Arn != "arn:aws:iam::"+rootAccount+":user/audited" {
				t.Errorf("CreateUser responseElements = %s", ev.ResponseElements)
			}
			if !strings.Contains(string(ev.RequestParameters), `"userName":"audited"`) {
				t.Errorf("CreateUser requestParameters = %s", ev.RequestParameters)
			}
		case "EntityAlreadyExists":
			failed++
		default:
			t.Errorf("CreateUser event with error %s", ev.ErrorCode)
		}
	}
	if ok != 1 || failed != 1 {
		t.Errorf("%d successful and %d failed CreateUser events, want 1 and 1", ok, failed)
	}

	events = lookupAll(t, s, "CreateAccessKey", 50)
	if len(events) != 1 {
		t.Fatalf("got %d CreateAccessKey events, want 1", len(events))
	}
	body, _ := json.Marshal(events[0])
	secret := aws.ToString(key.AccessKey.SecretAccessKey)
	if strings.Contains(string(body), secret) || strings.Contains(string(events[0].ResponseElements), secret) {
		t.Errorf("CreateAccessKey event contains the secret: %s", events[0].ResponseElements)
	}
	var resp struct {
		AccessKey struct {
			AccessKeyID     string `json:"accessKeyId"`
			SecretAccessKey string `json:"secretAccessKey"`
			UserName        string `json:"userName"`
		} `json:"accessKey"`
	}
	if err := json.Unmarshal(events[0].ResponseElements, &resp); err != nil ||
		resp.AccessKey.SecretAccessKey != "HIDDEN_DUE_TO_SECURITY_REASONS" ||
		resp.AccessKey.AccessKeyID != aws.ToString(key.AccessKey.AccessKeyId) || resp.AccessKey.UserName != "audited" {
		t.Errorf("CreateAccessKey responseElements = %s", events[0].ResponseElements)
	}
}

// TestIAM_Concurrent checks that quotas hold and nothing fails otherwise when many calls
// contend for one policy and one user (on PostgreSQL, several writers' batches may deadlock
// and are then run again).
func TestIAM_Concurrent(t *testing.T) { testIAMConcurrent(t, startServer(t, serverOptions{})) }

func testIAMConcurrent(t *testing.T, s *server) {
	ctx := context.Background()
	c := rootIAM(s)
	p, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Contended"), PolicyDocument: aws.String(iamListPolicy)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("grace")}); err != nil {
		t.Fatal(err)
	}
	var arns []string
	for i := range 20 {
		out, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprint("p", i)), PolicyDocument: aws.String(iamListPolicy)})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, aws.ToString(out.Policy.Arn))
	}
	var mu sync.Mutex
	results := map[string]int{}
	note := func(what string, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch code := errorCode(err); {
		case err == nil:
			results[what]++
		case code == "LimitExceeded":
			results[what+" limited"]++
		default:
			t.Errorf("%s: %v", what, err)
		}
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: p.Policy.Arn, PolicyDocument: aws.String(iamListPolicy), SetAsDefault: i%2 == 0})
			note("version", err)
		})
		wg.Go(func() {
			_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("grace"), PolicyArn: aws.String(arns[i])})
			note("attach", err)
		})
	}
	wg.Wait()
	if results["version"] != 4 || results["version limited"] != 16 || results["attach"] != 10 || results["attach limited"] != 10 {
		t.Errorf("results = %v, want 4 versions and 10 attachments, the rest LimitExceeded", results)
	}
	versions, err := c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: p.Policy.Arn})
	if err != nil || len(versions.Versions) != 5 {
		t.Errorf("ListPolicyVersions = %v, %v; want 5 versions", versions, err)
	}
}
