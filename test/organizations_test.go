package test

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const (
	orgAccessRole   = "OrganizationAccountAccessRole"
	lmPrincipal     = "license-manager.amazonaws.com"
	lmRole          = "AWSServiceRoleForAWSLicenseManagerRole"
	lmMasterRole    = "AWSServiceRoleForAWSLicenseManagerMasterAccountRole"
	lmMemberRole    = "AWSServiceRoleForAWSLicenseManagerMemberAccountRole"
	scpDenyLicenses = `{"Version":"2012-10-17","Statement":[{"Sid":"NoLicenses","Effect":"Deny","Action":"license-manager:*","Resource":"*"}]}`
)

// TestOrganizations_Postgres runs the Organizations end-to-end test with the SDK against a
// server on PostgreSQL.
func TestOrganizations_Postgres(t *testing.T) {
	testOrganizationsSDK(t, startServer(t, serverOptions{database: postgresDatabase(t)}))
}

// TestOrganizations_SDK drives Organizations with the AWS SDK for Go: an organization, accounts,
// OUs, service control policies and their constraints, what a member account may do, tags and
// the audit trail.
func TestOrganizations_SDK(t *testing.T) { testOrganizationsSDK(t, startServer(t, serverOptions{})) }

// orgAdmin creates an IAM user with AdministratorAccess in the management account, for the
// calls root cannot make (assuming roles), and returns its keys.
func orgAdmin(t *testing.T, s *server) creds {
	t.Helper()
	ctx := context.Background()
	c := rootIAM(s)
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("admin")}); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("admin"), PolicyArn: aws.String(adminPolicyARN)}); err != nil {
		t.Fatalf("AttachUserPolicy: %v", err)
	}
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("admin")})
	if err != nil {
		t.Fatalf("CreateAccessKey: %v", err)
	}
	return creds{keyID: *key.AccessKey.AccessKeyId, secret: *key.AccessKey.SecretAccessKey}
}

// configFor returns an SDK configuration with the given credentials.
func (s *server) configFor(c creds) aws.Config {
	cfg := s.awsConfig(c.keyID, c.secret)
	cfg.Credentials = credentials.NewStaticCredentialsProvider(c.keyID, c.secret, c.token)
	return cfg
}

// assumeOrgRole assumes OrganizationAccountAccessRole in a member account as c.
func assumeOrgRole(t *testing.T, s *server, c creds, account string) creds {
	t.Helper()
	out, err := sts.NewFromConfig(s.configFor(c)).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + account + ":role/" + orgAccessRole), RoleSessionName: aws.String("org-admin"),
	})
	if err != nil {
		t.Fatalf("AssumeRole into %s: %v", account, err)
	}
	return creds{*out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken}
}

func testOrganizationsSDK(t *testing.T, s *server) {
	ctx := context.Background()
	org := organizations.NewFromConfig(s.awsConfig(rootKeyID, rootSecret))

	_, err := org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	wantTyped[*types.AWSOrganizationsNotInUseException](t, "DescribeOrganization before CreateOrganization", err)
	_, err = org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("x"), Email: aws.String("x@example.com")})
	wantTyped[*types.AWSOrganizationsNotInUseException](t, "CreateAccount before CreateOrganization", err)

	created, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	if err != nil {
		t.Fatalf("CreateOrganization: %v", err)
	}
	o := created.Organization
	orgID := aws.ToString(o.Id)
	if !regexp.MustCompile(`^o-[a-z0-9]{10}$`).MatchString(orgID) || o.FeatureSet != types.OrganizationFeatureSetAll ||
		aws.ToString(o.MasterAccountId) != rootAccount ||
		aws.ToString(o.Arn) != "arn:aws:organizations::"+rootAccount+":organization/"+orgID ||
		aws.ToString(o.MasterAccountArn) != "arn:aws:organizations::"+rootAccount+":account/"+orgID+"/"+rootAccount {
		t.Errorf("CreateOrganization = %+v", o)
	}
	_, err = org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetAll})
	wantTyped[*types.AlreadyInOrganizationException](t, "CreateOrganization again", err)

	// An account, synchronously created.
	acct, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{
		AccountName: aws.String("deployment"), Email: aws.String("deploy@example.com"),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}},
	})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	st := acct.CreateAccountStatus
	member := aws.ToString(st.AccountId)
	if st.State != types.CreateAccountStateSucceeded || !regexp.MustCompile(`^\d{12}$`).MatchString(member) ||
		!regexp.MustCompile(`^car-[a-z0-9]{8,32}$`).MatchString(aws.ToString(st.Id)) || st.RequestedTimestamp == nil || st.CompletedTimestamp == nil {
		t.Fatalf("CreateAccount = %+v", st)
	}
	desc, err := org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: st.Id})
	if err != nil || aws.ToString(desc.CreateAccountStatus.AccountId) != member {
		t.Errorf("DescribeCreateAccountStatus = %+v, %v", desc, err)
	}
	_, err = org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String("car-00000000")})
	wantTyped[*types.CreateAccountStatusNotFoundException](t, "DescribeCreateAccountStatus(unknown)", err)
	// The same email address again: the request fails, as AWS reports it.
	dup, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("again"), Email: aws.String("DEPLOY@example.com")})
	if err != nil || dup.CreateAccountStatus.State != types.CreateAccountStateFailed ||
		dup.CreateAccountStatus.FailureReason != types.CreateAccountFailureReasonEmailAlreadyExists || dup.CreateAccountStatus.AccountId != nil {
		t.Errorf("CreateAccount(same email) = %+v, %v; want FAILED with EMAIL_ALREADY_EXISTS", dup, err)
	}
	failed, err := org.ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{States: []types.CreateAccountState{types.CreateAccountStateFailed}})
	if err != nil || len(failed.CreateAccountStatuses) != 1 || aws.ToString(failed.CreateAccountStatuses[0].AccountName) != "again" {
		t.Errorf("ListCreateAccountStatus(FAILED) = %+v, %v", failed, err)
	}
	_, err = org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("bad"), Email: aws.String("not-an-email")})
	if wantTyped[*types.InvalidInputException](t, "CreateAccount(bad email)", err); orgReason(err) != string(types.InvalidInputExceptionReasonInvalidPattern) {
		t.Errorf("CreateAccount(bad email): reason %s, want INVALID_PATTERN", orgReason(err))
	}

	// Listing, one account a page.
	var ids []string
	pages := organizations.NewListAccountsPaginator(org, &organizations.ListAccountsInput{MaxResults: aws.Int32(1)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListAccounts: %v", err)
		}
		if len(page.Accounts) > 1 {
			t.Errorf("ListAccounts returned %d accounts with MaxResults 1", len(page.Accounts))
		}
		for _, a := range page.Accounts {
			ids = append(ids, aws.ToString(a.Id))
			if aws.ToString(a.Arn) != "arn:aws:organizations::"+rootAccount+":account/"+orgID+"/"+aws.ToString(a.Id) || a.Status != types.AccountStatusActive || a.JoinedTimestamp == nil {
				t.Errorf("ListAccounts: %+v", a)
			}
		}
	}
	if want := sorted(rootAccount, member); !slices.Equal(ids, want) {
		t.Errorf("ListAccounts = %v, want %v", ids, want)
	}
	_, err = org.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(21)})
	if wantTyped[*types.InvalidInputException](t, "ListAccounts(MaxResults 21)", err); orgReason(err) != string(types.InvalidInputExceptionReasonMaxValueExceeded) {
		t.Errorf("ListAccounts(MaxResults 21): %v, want InvalidInputException MAX_VALUE_EXCEEDED", err)
	}
	_, err = org.ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: aws.String("bogus")})
	if wantTyped[*types.InvalidInputException](t, "ListAccounts(bogus NextToken)", err); orgReason(err) != string(types.InvalidInputExceptionReasonInvalidPaginationToken) {
		t.Errorf("ListAccounts(bogus NextToken): %v, want INVALID_NEXT_TOKEN", err)
	}
	da, err := org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(member)})
	if err != nil || aws.ToString(da.Account.Name) != "deployment" || aws.ToString(da.Account.Email) != "deploy@example.com" ||
		da.Account.JoinedMethod != types.AccountJoinedMethodCreated {
		t.Errorf("DescribeAccount = %+v, %v", da, err)
	}
	_, err = org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("000000000000")})
	wantTyped[*types.AccountNotFoundException](t, "DescribeAccount(unknown)", err)
	tags, err := org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(member)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Errorf("ListTagsForResource(account) = %+v, %v", tags, err)
	}

	// The tree: one root, an OU, the account moved into it.
	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 {
		t.Fatalf("ListRoots = %+v, %v", roots, err)
	}
	root := roots.Roots[0]
	rootID := aws.ToString(root.Id)
	if aws.ToString(root.Name) != "Root" || aws.ToString(root.Arn) != "arn:aws:organizations::"+rootAccount+":root/"+orgID+"/"+rootID || len(root.PolicyTypes) != 0 {
		t.Errorf("root = %+v", root)
	}
	ou, err := org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(rootID), Name: aws.String("workloads")})
	if err != nil {
		t.Fatalf("CreateOrganizationalUnit: %v", err)
	}
	ouID := aws.ToString(ou.OrganizationalUnit.Id)
	if !strings.HasPrefix(ouID, "ou-"+rootID[2:]+"-") {
		t.Errorf("OU ID %s does not name its root %s", ouID, rootID)
	}
	_, err = org.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(rootID), Name: aws.String("workloads")})
	wantTyped[*types.DuplicateOrganizationalUnitException](t, "CreateOrganizationalUnit(same name)", err)
	_, err = org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(member), SourceParentId: aws.String(rootID), DestinationParentId: aws.String(ouID)})
	if err != nil {
		t.Fatalf("MoveAccount: %v", err)
	}
	parents, err := org.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(member)})
	if err != nil || len(parents.Parents) != 1 || aws.ToString(parents.Parents[0].Id) != ouID || parents.Parents[0].Type != types.ParentTypeOrganizationalUnit {
		t.Errorf("ListParents(account) = %+v, %v", parents, err)
	}
	children, err := org.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(rootID), ChildType: types.ChildTypeAccount})
	if err != nil || len(children.Children) != 1 || aws.ToString(children.Children[0].Id) != rootAccount {
		t.Errorf("ListChildren(root, ACCOUNT) = %+v, %v", children, err)
	}
	children, err = org.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: aws.String(rootID), ChildType: types.ChildTypeOrganizationalUnit})
	if err != nil || len(children.Children) != 1 || aws.ToString(children.Children[0].Id) != ouID {
		t.Errorf("ListChildren(root, ORGANIZATIONAL_UNIT) = %+v, %v", children, err)
	}
	_, err = org.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: aws.String(ouID)})
	wantTyped[*types.OrganizationalUnitNotEmptyException](t, "DeleteOrganizationalUnit(with an account)", err)
	da, err = org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(member)})
	if want := orgID + "/" + rootID + "/" + ouID + "/" + member + "/"; err != nil || !slices.Equal(da.Account.Paths, []string{want}) {
		t.Errorf("DescribeAccount after the move: %+v, %v; want path %s", da, err, want)
	}

	// Service control policies.
	pol, err := org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("NoLicenses"), Description: aws.String("no License Manager"),
		Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(scpDenyLicenses)})
	if err != nil {
		t.Fatalf("CreatePolicy: %v", err)
	}
	polID := aws.ToString(pol.Policy.PolicySummary.Id)
	if want := "arn:aws:organizations::" + rootAccount + ":policy/" + orgID + "/service_control_policy/" + polID; aws.ToString(pol.Policy.PolicySummary.Arn) != want ||
		pol.Policy.PolicySummary.AwsManaged || aws.ToString(pol.Policy.Content) != scpDenyLicenses {
		t.Errorf("CreatePolicy = %+v, want ARN %s", pol.Policy.PolicySummary, want)
	}
	_, err = org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("NoLicenses"), Description: aws.String(""),
		Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(scpDenyLicenses)})
	wantTyped[*types.DuplicatePolicyException](t, "CreatePolicy(same name)", err)
	_, err = org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("bad"), Description: aws.String(""),
		Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`)})
	wantTyped[*types.MalformedPolicyDocumentException](t, "CreatePolicy(with a Principal)", err)
	_, err = org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("tag"), Description: aws.String(""),
		Type: types.PolicyTypeTagPolicy, Content: aws.String(`{}`)})
	wantTyped[*types.PolicyTypeNotAvailableForOrganizationException](t, "CreatePolicy(TAG_POLICY)", err)
	_, err = org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(polID), TargetId: aws.String(ouID)})
	wantTyped[*types.PolicyTypeNotEnabledException](t, "AttachPolicy before EnablePolicyType", err)

	enabled, err := org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: types.PolicyTypeServiceControlPolicy})
	if err != nil || len(enabled.Root.PolicyTypes) != 1 || enabled.Root.PolicyTypes[0].Status != types.PolicyTypeStatusEnabled {
		t.Fatalf("EnablePolicyType = %+v, %v", enabled, err)
	}
	_, err = org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: types.PolicyTypeServiceControlPolicy})
	wantTyped[*types.PolicyTypeAlreadyEnabledException](t, "EnablePolicyType again", err)
	_, err = org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String("r-zzzz"), PolicyType: types.PolicyTypeServiceControlPolicy})
	wantTyped[*types.RootNotFoundException](t, "EnablePolicyType(unknown root)", err)
	// FullAWSAccess is now on the root, the OU and every account.
	targets, err := org.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String("p-FullAWSAccess")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range targets.Targets {
		got = append(got, string(tg.Type)+" "+aws.ToString(tg.TargetId)+" "+aws.ToString(tg.Name))
	}
	slices.Sort(got)
	want := sorted("ACCOUNT "+member+" deployment", "ACCOUNT "+rootAccount+" management", "ORGANIZATIONAL_UNIT "+ouID+" workloads", "ROOT "+rootID+" Root")
	if !slices.Equal(got, want) {
		t.Errorf("ListTargetsForPolicy(FullAWSAccess) = %v, want %v", got, want)
	}
	_, err = org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String("p-FullAWSAccess"), TargetId: aws.String(member)})
	if wantTyped[*types.ConstraintViolationException](t, "DetachPolicy(the last SCP)", err); orgReason(err) != string(types.ConstraintViolationExceptionReasonMinPolicyTypeAttachmentLimitExceeded) {
		t.Errorf("DetachPolicy(the last SCP): %v, want ConstraintViolationException MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED", err)
	}
	if _, err := org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(polID), TargetId: aws.String(ouID)}); err != nil {
		t.Fatalf("AttachPolicy: %v", err)
	}
	_, err = org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(polID), TargetId: aws.String(ouID)})
	wantTyped[*types.DuplicatePolicyAttachmentException](t, "AttachPolicy again", err)
	_, err = org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(polID), TargetId: aws.String("111111111111")})
	wantTyped[*types.TargetNotFoundException](t, "AttachPolicy(unknown account)", err)
	_, err = org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String("p-00000000"), TargetId: aws.String(ouID)})
	wantTyped[*types.PolicyNotFoundException](t, "AttachPolicy(unknown policy)", err)
	_, err = org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(polID), TargetId: aws.String(member)})
	wantTyped[*types.PolicyNotAttachedException](t, "DetachPolicy(not attached)", err)
	forOU, err := org.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(ouID), Filter: types.PolicyTypeServiceControlPolicy})
	if err != nil || len(forOU.Policies) != 2 {
		t.Errorf("ListPoliciesForTarget(OU) = %+v, %v; want FullAWSAccess and NoLicenses", forOU, err)
	}
	_, err = org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: aws.String(polID)})
	wantTyped[*types.PolicyInUseException](t, "DeletePolicy(attached)", err)
	_, err = org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: aws.String("p-FullAWSAccess")})
	if wantTyped[*types.InvalidInputException](t, "DeletePolicy(FullAWSAccess)", err); orgReason(err) != string(types.InvalidInputExceptionReasonImmutablePolicy) {
		t.Errorf("DeletePolicy(FullAWSAccess): %v, want InvalidInputException IMMUTABLE_POLICY", err)
	}
	updated, err := org.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String(polID), Name: aws.String("NoLicensesAtAll")})
	if err != nil || aws.ToString(updated.Policy.PolicySummary.Name) != "NoLicensesAtAll" || aws.ToString(updated.Policy.Content) != scpDenyLicenses {
		t.Errorf("UpdatePolicy = %+v, %v", updated, err)
	}
	_, err = org.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String(polID), Content: aws.String(`{"Statement":[]}`)})
	wantTyped[*types.MalformedPolicyDocumentException](t, "UpdatePolicy(empty Statement)", err)
	_, err = org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("huge"), Description: aws.String(""),
		Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("x", 5200) + `","Effect":"Deny","Action":"*","Resource":"*"}]}`)})
	if wantTyped[*types.ConstraintViolationException](t, "CreatePolicy(6 KB)", err); orgReason(err) != string(types.ConstraintViolationExceptionReasonPolicyContentLimitExceeded) {
		t.Errorf("CreatePolicy(6 KB): %v, want ConstraintViolationException POLICY_CONTENT_LIMIT_EXCEEDED", err)
	}
	list, err := org.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: types.PolicyTypeServiceControlPolicy})
	if err != nil || len(list.Policies) != 2 {
		t.Errorf("ListPolicies = %+v, %v; want FullAWSAccess and one more", list, err)
	}

	// A member account, through OrganizationAccountAccessRole from an administrator of the
	// management account: it may describe its organization, not manage it.
	admin := orgAdmin(t, s)
	memberCreds := assumeOrgRole(t, s, admin, member)
	memberOrg := organizations.NewFromConfig(s.configFor(memberCreds))
	mo, err := memberOrg.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil || aws.ToString(mo.Organization.Id) != orgID {
		t.Errorf("DescribeOrganization from the member account = %+v, %v", mo, err)
	}
	_, err = memberOrg.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("rogue"), Email: aws.String("rogue@example.com")})
	wantTyped[*types.AccessDeniedException](t, "CreateAccount from the member account", err)
	_, err = memberOrg.ListAccounts(ctx, &organizations.ListAccountsInput{})
	wantTyped[*types.AccessDeniedException](t, "ListAccounts from the member account", err)
	// The administrator may manage the organization.
	adminOrg := organizations.NewFromConfig(s.configFor(admin))
	if _, err := adminOrg.ListAccounts(ctx, &organizations.ListAccountsInput{}); err != nil {
		t.Errorf("ListAccounts as the administrator: %v", err)
	}

	// Disabling SCPs detaches them all.
	if _, err := org.DisablePolicyType(ctx, &organizations.DisablePolicyTypeInput{RootId: aws.String(rootID), PolicyType: types.PolicyTypeServiceControlPolicy}); err != nil {
		t.Fatalf("DisablePolicyType: %v", err)
	}
	forOU, err = org.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(ouID), Filter: types.PolicyTypeServiceControlPolicy})
	if err != nil || len(forOU.Policies) != 0 {
		t.Errorf("ListPoliciesForTarget(OU) after DisablePolicyType = %+v, %v", forOU, err)
	}
	if _, err := org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: aws.String(polID)}); err != nil {
		t.Errorf("DeletePolicy: %v", err)
	}
	_, err = org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(polID)})
	wantTyped[*types.PolicyNotFoundException](t, "DescribePolicy(deleted)", err)
	_, err = org.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{})
	wantTyped[*types.OrganizationNotEmptyException](t, "DeleteOrganization with a member", err)

	// Every change is in the audit trail, with organizations.amazonaws.com as its source.
	trail := cloudtrail.NewFromConfig(s.awsConfig(rootKeyID, rootSecret))
	events, err := trail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("CreateAccount")}}})
	if err != nil {
		t.Fatal(err)
	}
	var sources []string
	for _, e := range events.Events {
		sources = append(sources, aws.ToString(e.EventSource))
	}
	if len(sources) < 3 || sources[0] != "organizations.amazonaws.com" {
		t.Errorf("CreateAccount events: %v, want the calls of the root and the member account", sources)
	}
}

// sorted returns its arguments in order.
func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

// orgReason returns the Reason of an InvalidInputException or ConstraintViolationException, as
// the SDK decodes it.
func orgReason(err error) string {
	var ii *types.InvalidInputException
	if errors.As(err, &ii) {
		return string(ii.Reason)
	}
	var cv *types.ConstraintViolationException
	if errors.As(err, &cv) {
		return string(cv.Reason)
	}
	return ""
}

// TestOrganizations_AWSCLI follows seeds 000 and 003 with the AWS CLI: the management account
// creates an organization and a member account, works in the account through
// OrganizationAccountAccessRole (from an administrator, as root may not assume roles), and
// enables trusted access for License Manager, which creates its service-linked roles; those
// cannot be deleted or changed while trusted access is enabled.
func TestOrganizations_AWSCLI(t *testing.T) {
	for name, path := range awsCLIs(t) {
		t.Run(name, func(t *testing.T) {
			cli := requireTool(t, "AWS CLI "+name, path)
			testOrganizationsCLI(t, startServer(t, serverOptions{}), cli)
		})
	}
}

func testOrganizationsCLI(t *testing.T, s *server, cli string) {
	root := creds{keyID: rootKeyID, secret: rootSecret}
	var org struct {
		Organization struct{ Id, MasterAccountId, FeatureSet string }
	}
	mustCLI(t, s, cli, root, &org, "organizations", "create-organization")
	if org.Organization.MasterAccountId != rootAccount || org.Organization.FeatureSet != "ALL" {
		t.Errorf("create-organization = %+v", org)
	}
	var created struct {
		CreateAccountStatus struct{ Id, AccountId, State string }
	}
	mustCLI(t, s, cli, root, &created, "organizations", "create-account", "--account-name", "deployment", "--email", "deploy@example.com")
	member := created.CreateAccountStatus.AccountId
	if created.CreateAccountStatus.State != "SUCCEEDED" || len(member) != 12 {
		t.Fatalf("create-account = %+v", created)
	}
	var accounts struct {
		Accounts []struct{ Id, Name, Status string }
	}
	mustCLI(t, s, cli, root, &accounts, "organizations", "list-accounts")
	if len(accounts.Accounts) != 2 {
		t.Errorf("list-accounts = %+v, want the management and the new account", accounts)
	}

	// Root may not assume roles; an administrator of the management account may.
	roleARN := "arn:aws:iam::" + member + ":role/" + orgAccessRole
	_, stderr, code := s.cliAs(t, cli, root, "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "root")
	if code == 0 || !strings.Contains(stderr, "AccessDenied") {
		t.Errorf("assume-role with root credentials: exit %d, %s; want AccessDenied", code, stderr)
	}
	admin := orgAdmin(t, s)
	var assumed assumeRoleOutput
	mustCLI(t, s, cli, admin, &assumed, "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "setup")
	inMember := assumed.creds()
	var who struct{ Account, Arn string }
	mustCLI(t, s, cli, inMember, &who, "sts", "get-caller-identity")
	if who.Account != member || who.Arn != "arn:aws:sts::"+member+":assumed-role/"+orgAccessRole+"/setup" {
		t.Errorf("get-caller-identity in the member account = %+v", who)
	}
	var roles struct {
		Roles []struct{ RoleName, Arn string }
	}
	mustCLI(t, s, cli, inMember, &roles, "iam", "list-roles")
	if len(roles.Roles) != 1 || roles.Roles[0].Arn != roleARN {
		t.Errorf("list-roles in the member account = %+v, want %s", roles, orgAccessRole)
	}
	// The member account cannot manage the organization.
	_, stderr, code = s.cliAs(t, cli, inMember, "organizations", "create-account", "--account-name", "rogue", "--email", "rogue@example.com")
	if code == 0 || !strings.Contains(stderr, "AccessDeniedException") {
		t.Errorf("create-account from the member account: exit %d, %s; want AccessDeniedException", code, stderr)
	}

	// Trusted access for License Manager (seed 003, with the CLI's real flag name).
	stdout, stderr, code := s.cliAs(t, cli, root, "organizations", "enable-aws-service-access", "--service-principal", lmPrincipal)
	if code != 0 || strings.TrimSpace(stdout) != "" {
		t.Fatalf("enable-aws-service-access: exit %d, stdout %q, stderr %s; want no output", code, stdout, stderr)
	}
	var access struct {
		EnabledServicePrincipals []struct{ ServicePrincipal string }
	}
	mustCLI(t, s, cli, root, &access, "organizations", "list-aws-service-access-for-organization")
	if len(access.EnabledServicePrincipals) != 1 || access.EnabledServicePrincipals[0].ServicePrincipal != lmPrincipal {
		t.Errorf("list-aws-service-access-for-organization = %+v", access)
	}
	// The service-linked roles: two in the management account, one in the member account, and
	// one in an account created afterwards.
	wantRole := func(c creds, account, name, service, policy string) {
		t.Helper()
		var got struct {
			Role struct {
				Arn, Path                string
				AssumeRolePolicyDocument json.RawMessage
			}
		}
		mustCLI(t, s, cli, c, &got, "iam", "get-role", "--role-name", name)
		if want := "arn:aws:iam::" + account + ":role/aws-service-role/" + service + "/" + name; got.Role.Arn != want ||
			!strings.Contains(string(got.Role.AssumeRolePolicyDocument), service) {
			t.Errorf("get-role %s in %s = %+v, want %s trusting %s", name, account, got.Role, want, service)
		}
		var attached struct{ AttachedPolicies []struct{ PolicyArn string } }
		mustCLI(t, s, cli, c, &attached, "iam", "list-attached-role-policies", "--role-name", name)
		if len(attached.AttachedPolicies) != 1 || attached.AttachedPolicies[0].PolicyArn != "arn:aws:iam::aws:policy/aws-service-role/"+policy {
			t.Errorf("policies of %s in %s = %+v, want %s", name, account, attached, policy)
		}
	}
	wantRole(root, rootAccount, lmRole, lmPrincipal, "AWSLicenseManagerServiceRolePolicy")
	wantRole(root, rootAccount, lmMasterRole, "license-manager.master-account.amazonaws.com", "AWSLicenseManagerMasterAccountRolePolicy")
	wantRole(inMember, member, lmMemberRole, "license-manager.member-account.amazonaws.com", "AWSLicenseManagerMemberAccountRolePolicy")
	mustCLI(t, s, cli, root, &created, "organizations", "create-account", "--account-name", "later", "--email", "later@example.com")
	wantRole(assumeOrgRole(t, s, admin, created.CreateAccountStatus.AccountId), created.CreateAccountStatus.AccountId, lmMemberRole,
		"license-manager.member-account.amazonaws.com", "AWSLicenseManagerMemberAccountRolePolicy")

	// Only their description may change.
	for _, args := range [][]string{
		{"iam", "update-role", "--role-name", lmRole, "--max-session-duration", "7200"},
		{"iam", "delete-role", "--role-name", lmRole},
		{"iam", "update-assume-role-policy", "--role-name", lmRole, "--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`},
		{"iam", "put-role-policy", "--role-name", lmRole, "--policy-name", "more", "--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
		{"iam", "attach-role-policy", "--role-name", lmRole, "--policy-arn", adminPolicyARN},
		{"iam", "detach-role-policy", "--role-name", lmRole, "--policy-arn", "arn:aws:iam::aws:policy/aws-service-role/AWSLicenseManagerServiceRolePolicy"},
	} {
		_, stderr, code := s.cliAs(t, cli, root, args...)
		if code == 0 || !strings.Contains(stderr, "UnmodifiableEntity") || !strings.Contains(stderr, lmRole) {
			t.Errorf("aws %s: exit %d, %s; want UnmodifiableEntity naming the role", strings.Join(args[:2], " "), code, stderr)
		}
	}
	var described struct{ Role struct{ Description string } }
	mustCLI(t, s, cli, root, &described, "iam", "update-role-description", "--role-name", lmRole, "--description", "License Manager")
	if described.Role.Description != "License Manager" {
		t.Errorf("update-role-description = %+v", described)
	}

	// Deleting a service-linked role while trusted access is enabled: the task fails, saying why.
	var task struct{ DeletionTaskId string }
	mustCLI(t, s, cli, inMember, &task, "iam", "delete-service-linked-role", "--role-name", lmMemberRole)
	if !strings.HasPrefix(task.DeletionTaskId, "task/aws-service-role/license-manager.member-account.amazonaws.com/"+lmMemberRole+"/") {
		t.Errorf("delete-service-linked-role: task %q", task.DeletionTaskId)
	}
	var status struct {
		Status string
		Reason struct {
			Reason        string
			RoleUsageList []struct{ Resources []string }
		}
	}
	mustCLI(t, s, cli, inMember, &status, "iam", "get-service-linked-role-deletion-status", "--deletion-task-id", task.DeletionTaskId)
	if status.Status != "FAILED" || !strings.Contains(status.Reason.Reason, "trusted access") || !strings.Contains(status.Reason.Reason, lmPrincipal) ||
		len(status.Reason.RoleUsageList) != 1 || !strings.Contains(status.Reason.RoleUsageList[0].Resources[0], ":organization/"+org.Organization.Id) {
		t.Errorf("deletion status while trusted access is enabled = %+v", status)
	}
	mustCLI(t, s, cli, inMember, nil, "iam", "get-role", "--role-name", lmMemberRole)
	// Another account does not see the task.
	_, stderr, code = s.cliAs(t, cli, root, "iam", "get-service-linked-role-deletion-status", "--deletion-task-id", task.DeletionTaskId)
	if code == 0 || !strings.Contains(stderr, "NoSuchEntity") {
		t.Errorf("deletion status from another account: exit %d, %s; want NoSuchEntity", code, stderr)
	}

	// Once trusted access is disabled the roles may go, and be created again.
	stdout, _, code = s.cliAs(t, cli, root, "organizations", "disable-aws-service-access", "--service-principal", lmPrincipal)
	if code != 0 || strings.TrimSpace(stdout) != "" {
		t.Errorf("disable-aws-service-access: exit %d, %q", code, stdout)
	}
	mustCLI(t, s, cli, inMember, &task, "iam", "delete-service-linked-role", "--role-name", lmMemberRole)
	mustCLI(t, s, cli, inMember, &status, "iam", "get-service-linked-role-deletion-status", "--deletion-task-id", task.DeletionTaskId)
	if status.Status != "SUCCEEDED" {
		t.Errorf("deletion status after disabling trusted access = %+v", status)
	}
	_, stderr, code = s.cliAs(t, cli, inMember, "iam", "get-role", "--role-name", lmMemberRole)
	if code == 0 || !strings.Contains(stderr, "NoSuchEntity") {
		t.Errorf("get-role after deletion: exit %d, %s", code, stderr)
	}
	var recreated struct{ Role struct{ Arn, Path string } }
	mustCLI(t, s, cli, inMember, &recreated, "iam", "create-service-linked-role", "--aws-service-name", "license-manager.member-account.amazonaws.com")
	if recreated.Role.Path != "/aws-service-role/license-manager.member-account.amazonaws.com/" {
		t.Errorf("create-service-linked-role = %+v", recreated)
	}
	_, stderr, code = s.cliAs(t, cli, inMember, "iam", "create-service-linked-role", "--aws-service-name", "license-manager.member-account.amazonaws.com")
	if code == 0 || !strings.Contains(stderr, "InvalidInput") || !strings.Contains(stderr, "has been taken") {
		t.Errorf("create-service-linked-role again: exit %d, %s", code, stderr)
	}
	_, stderr, code = s.cliAs(t, cli, inMember, "iam", "create-service-linked-role", "--aws-service-name", "elasticbeanstalk.amazonaws.com")
	if code == 0 || !strings.Contains(stderr, "InvalidInput") {
		t.Errorf("create-service-linked-role for an unknown service: exit %d, %s", code, stderr)
	}
	_, stderr, code = s.cliAs(t, cli, inMember, "iam", "delete-service-linked-role", "--role-name", orgAccessRole)
	if code == 0 || !strings.Contains(stderr, "InvalidInput") {
		t.Errorf("delete-service-linked-role on an ordinary role: exit %d, %s", code, stderr)
	}

	// Policies with the CLI: an SCP from a file, attached to the member account.
	mustCLI(t, s, cli, root, nil, "organizations", "enable-policy-type", "--root-id", rootIDOf(t, s, cli, root), "--policy-type", "SERVICE_CONTROL_POLICY")
	var pol struct {
		Policy struct{ PolicySummary struct{ Id string } }
	}
	mustCLI(t, s, cli, root, &pol, "organizations", "create-policy", "--name", "NoLicenses", "--description", "seed 000's deployment account may not buy",
		"--type", "SERVICE_CONTROL_POLICY", "--content", writePolicy(t, "scp.json", scpDenyLicenses))
	mustCLI(t, s, cli, root, nil, "organizations", "attach-policy", "--policy-id", pol.Policy.PolicySummary.Id, "--target-id", member)
	var forMember struct{ Policies []struct{ Id string } }
	mustCLI(t, s, cli, root, &forMember, "organizations", "list-policies-for-target", "--target-id", member, "--filter", "SERVICE_CONTROL_POLICY")
	if len(forMember.Policies) != 2 {
		t.Errorf("list-policies-for-target = %+v, want FullAWSAccess and NoLicenses", forMember)
	}
	_, stderr, code = s.cliAs(t, cli, root, "organizations", "delete-policy", "--policy-id", pol.Policy.PolicySummary.Id)
	if code == 0 || !strings.Contains(stderr, "PolicyInUseException") {
		t.Errorf("delete-policy while attached: exit %d, %s", code, stderr)
	}
}

// rootIDOf returns the ID of the organization's root.
func rootIDOf(t *testing.T, s *server, cli string, c creds) string {
	t.Helper()
	var roots struct{ Roots []struct{ Id string } }
	mustCLI(t, s, cli, c, &roots, "organizations", "list-roots")
	if len(roots.Roots) != 1 {
		t.Fatalf("list-roots = %+v", roots)
	}
	return roots.Roots[0].Id
}
