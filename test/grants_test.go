package test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// grantWorld is an organization of three accounts for grant tests: the management account
// (rootAccount) as the billing account, and two members, the vendor that issues licenses
// and the deployment account that runs the product.
type grantWorld struct {
	orgID, orgARN      string
	vendor, deployment string // account IDs
	billingC, vendorC  *lm.Client
	deploymentC        *lm.Client
}

func newGrantWorld(t *testing.T, s *server) *grantWorld {
	t.Helper()
	ctx := context.Background()
	admin := orgAdmin(t, s)
	org := organizations.NewFromConfig(s.configFor(admin))
	created, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	if err != nil {
		t.Fatalf("CreateOrganization: %v", err)
	}
	w := &grantWorld{orgID: aws.ToString(created.Organization.Id), orgARN: aws.ToString(created.Organization.Arn)}
	account := func(name string) string {
		out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		if err != nil {
			t.Fatalf("CreateAccount %s: %v", name, err)
		}
		return aws.ToString(out.CreateAccountStatus.AccountId)
	}
	w.vendor, w.deployment = account("vendor"), account("deployment")
	w.billingC = lm.NewFromConfig(s.configFor(admin))
	w.vendorC = lm.NewFromConfig(s.configFor(assumeOrgRole(t, s, admin, w.vendor)))
	w.deploymentC = lm.NewFromConfig(s.configFor(assumeOrgRole(t, s, admin, w.deployment)))
	return w
}

// issueLicense creates a license in the vendor account, valid from a day ago for a year.
func (w *grantWorld) issueLicense(t *testing.T, sku string, maxCount int64) string {
	t.Helper()
	in := newLicenseInput(sku, "issue-"+sku)
	in.Validity = &lmtypes.DatetimeRange{Begin: aws.String(time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339)),
		End: aws.String(time.Now().Add(365 * 24 * time.Hour).UTC().Format(time.RFC3339))}
	in.Entitlements[0].MaxCount = aws.Int64(maxCount)
	in.Beneficiary = aws.String(rootAccount)
	out, err := w.vendorC.CreateLicense(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateLicense: %v", err)
	}
	return aws.ToString(out.LicenseArn)
}

func accountPrincipal(account string) string { return "arn:aws:iam::" + account + ":root" }

// grant creates a grant as c and returns its ARN.
func grant(t *testing.T, c *lm.Client, name, license, principal string, ops ...lmtypes.AllowedOperation) string {
	t.Helper()
	out, err := c.CreateGrant(context.Background(), &lm.CreateGrantInput{
		ClientToken: aws.String("grant-" + name), GrantName: aws.String(name), LicenseArn: aws.String(license),
		Principals: []string{principal}, HomeRegion: aws.String(region), AllowedOperations: ops,
	})
	if err != nil {
		t.Fatalf("CreateGrant %s: %v", name, err)
	}
	if aws.ToString(out.Version) != "1" || out.Status != lmtypes.GrantStatusPendingAccept {
		t.Fatalf("CreateGrant %s = %+v, want version 1 PENDING_ACCEPT", name, out)
	}
	return aws.ToString(out.GrantArn)
}

// acceptAndActivate accepts a grant as c and activates it.
func acceptAndActivate(t *testing.T, c *lm.Client, grantARN string) {
	t.Helper()
	ctx := context.Background()
	acc, err := c.AcceptGrant(ctx, &lm.AcceptGrantInput{GrantArn: aws.String(grantARN)})
	if err != nil || acc.Status != lmtypes.GrantStatusDisabled {
		t.Fatalf("AcceptGrant = %+v, %v; want DISABLED (accepted, not yet active)", acc, err)
	}
	act, err := c.CreateGrantVersion(ctx, &lm.CreateGrantVersionInput{GrantArn: aws.String(grantARN), Status: lmtypes.GrantStatusActive,
		ClientToken: aws.String("activate-" + grantARN)})
	if err != nil || act.Status != lmtypes.GrantStatusActive {
		t.Fatalf("CreateGrantVersion(ACTIVE) = %+v, %v", act, err)
	}
}

func receivedLicenses(t *testing.T, c *lm.Client, filters ...lmtypes.Filter) map[string]lmtypes.GrantedLicense {
	t.Helper()
	out, err := c.ListReceivedLicenses(context.Background(), &lm.ListReceivedLicensesInput{Filters: filters})
	if err != nil {
		t.Fatalf("ListReceivedLicenses: %v", err)
	}
	m := map[string]lmtypes.GrantedLicense{}
	for _, l := range out.Licenses {
		m[aws.ToString(l.LicenseArn)] = l
	}
	return m
}

// TestGrants_SDK drives the grant lifecycle with the AWS SDK for Go across three accounts of
// an organization: the vendor grants its license to the billing account, which accepts,
// activates and passes it on to the deployment account; rejections, deletion, grants to the
// organization, filters, versions and the errors of each step.
func TestGrants_SDK(t *testing.T) { testGrantsSDK(t, startServer(t, serverOptions{})) }

// TestGrants_Postgres is TestGrants_SDK on PostgreSQL.
func TestGrants_Postgres(t *testing.T) {
	testGrantsSDK(t, startServer(t, serverOptions{database: postgresDatabase(t)}))
}

func testGrantsSDK(t *testing.T, s *server) {
	ctx := context.Background()
	w := newGrantWorld(t, s)
	license := w.issueLicense(t, "grants-sku", 5)
	vendorOps := []lmtypes.AllowedOperation{lmtypes.AllowedOperationCreateGrant, lmtypes.AllowedOperationCheckoutLicense,
		lmtypes.AllowedOperationCheckInLicense, lmtypes.AllowedOperationExtendConsumptionLicense, lmtypes.AllowedOperationListPurchasedLicenses}

	// Bad grants are refused before anything is written.
	bad := []struct {
		name string
		edit func(*lm.CreateGrantInput)
		msg  string
	}{
		{"two principals", func(in *lm.CreateGrantInput) { in.Principals = append(in.Principals, accountPrincipal(w.deployment)) }, "exactly one principal"},
		{"not a principal", func(in *lm.CreateGrantInput) { in.Principals = []string{"arn:aws:iam::" + rootAccount + ":user/x"} }, "is not a grantee"},
		{"own account", func(in *lm.CreateGrantInput) { in.Principals = []string{accountPrincipal(w.vendor)} }, "own account"},
		{"unknown account", func(in *lm.CreateGrantInput) { in.Principals = []string{accountPrincipal("999999999999")} }, "no account 999999999999"},
		{"other home region", func(in *lm.CreateGrantInput) { in.HomeRegion = aws.String("eu-west-1") }, "home Region, " + region},
		{"unknown operation", func(in *lm.CreateGrantInput) { in.AllowedOperations = []lmtypes.AllowedOperation{"Launch"} }, "AllowedOperations[0]"},
	}
	for _, c := range bad {
		in := &lm.CreateGrantInput{ClientToken: aws.String("bad-" + strings.ReplaceAll(c.name, " ", "-")), GrantName: aws.String("bad"), LicenseArn: aws.String(license),
			Principals: []string{accountPrincipal(rootAccount)}, HomeRegion: aws.String(region), AllowedOperations: vendorOps}
		c.edit(in)
		_, err := w.vendorC.CreateGrant(ctx, in)
		wantTyped[*lmtypes.ValidationException](t, "CreateGrant("+c.name+")", err)
		if err != nil && !strings.Contains(err.Error(), c.msg) {
			t.Errorf("CreateGrant(%s) error = %v, want it to say %q", c.name, err, c.msg)
		}
	}
	_, err := w.deploymentC.CreateGrant(ctx, &lm.CreateGrantInput{ClientToken: aws.String("stranger"), GrantName: aws.String("x"),
		LicenseArn: aws.String(license), Principals: []string{accountPrincipal(rootAccount)}, HomeRegion: aws.String(region), AllowedOperations: vendorOps})
	wantTyped[*lmtypes.InvalidParameterValueException](t, "CreateGrant of a license that never reached the account", err)

	// The vendor grants the license to the billing account.
	toBilling := grant(t, w.vendorC, "to-billing", license, accountPrincipal(rootAccount), vendorOps...)
	again, err := w.vendorC.CreateGrant(ctx, &lm.CreateGrantInput{ClientToken: aws.String("grant-to-billing"), GrantName: aws.String("to-billing"),
		LicenseArn: aws.String(license), Principals: []string{accountPrincipal(rootAccount)}, HomeRegion: aws.String(region), AllowedOperations: vendorOps})
	if err != nil || aws.ToString(again.GrantArn) != toBilling {
		t.Errorf("CreateGrant retried with its ClientToken = %+v, %v; want the first grant %s", again, err, toBilling)
	}

	// Pending: the billing account sees it, cannot use it yet, and cannot activate it before accepting.
	got := receivedLicenses(t, w.billingC)[license]
	if got.ReceivedMetadata == nil || got.ReceivedMetadata.ReceivedStatus != lmtypes.ReceivedStatusPendingAccept || aws.ToString(got.ProductSKU) != "grants-sku" {
		t.Fatalf("ListReceivedLicenses(billing) = %+v, want the license PENDING_ACCEPT", got)
	}
	_, err = w.billingC.CreateGrantVersion(ctx, &lm.CreateGrantVersionInput{GrantArn: aws.String(toBilling), Status: lmtypes.GrantStatusActive, ClientToken: aws.String("early")})
	wantAPIError(t, "activate before accepting", err, "ValidationException", "must accept it")
	_, err = w.deploymentC.AcceptGrant(ctx, &lm.AcceptGrantInput{GrantArn: aws.String(toBilling)})
	wantTyped[*lmtypes.InvalidParameterValueException](t, "AcceptGrant by a stranger", err)
	_, err = w.deploymentC.GetGrant(ctx, &lm.GetGrantInput{GrantArn: aws.String(toBilling)})
	wantTyped[*lmtypes.InvalidParameterValueException](t, "GetGrant by a stranger", err)
	_, err = w.vendorC.AcceptGrant(ctx, &lm.AcceptGrantInput{GrantArn: aws.String(toBilling)})
	wantAPIError(t, "AcceptGrant by the grantor", err, "AccessDeniedException", "account "+rootAccount)

	acceptAndActivate(t, w.billingC, toBilling)
	_, err = w.billingC.AcceptGrant(ctx, &lm.AcceptGrantInput{GrantArn: aws.String(toBilling)})
	wantAPIError(t, "AcceptGrant twice", err, "ValidationException", "is ACTIVE")
	g, err := w.billingC.GetGrant(ctx, &lm.GetGrantInput{GrantArn: aws.String(toBilling)})
	if err != nil || g.Grant.GrantStatus != lmtypes.GrantStatusActive || aws.ToString(g.Grant.Version) != "3" ||
		aws.ToString(g.Grant.ParentArn) != license || aws.ToString(g.Grant.GranteePrincipalArn) != accountPrincipal(rootAccount) ||
		len(g.Grant.GrantedOperations) != len(vendorOps) {
		t.Errorf("GetGrant = %+v, %v; want version 3 ACTIVE", g, err)
	}
	v1, err := w.vendorC.GetGrant(ctx, &lm.GetGrantInput{GrantArn: aws.String(toBilling), Version: aws.String("1")})
	if err != nil || v1.Grant.GrantStatus != lmtypes.GrantStatusPendingAccept {
		t.Errorf("GetGrant(version 1) = %+v, %v; want PENDING_ACCEPT", v1, err)
	}
	if got := receivedLicenses(t, w.billingC)[license]; got.ReceivedMetadata == nil || got.ReceivedMetadata.ReceivedStatus != lmtypes.ReceivedStatusActive {
		t.Errorf("ListReceivedLicenses(billing) after activation = %+v, want ACTIVE", got)
	}
	// The grantee reads the license it received.
	if l, err := w.billingC.GetLicense(ctx, &lm.GetLicenseInput{LicenseArn: aws.String(license)}); err != nil || aws.ToString(l.License.ProductName) != "DataMasque" {
		t.Errorf("GetLicense by the grantee = %+v, %v", l, err)
	}
	_, err = w.deploymentC.GetLicense(ctx, &lm.GetLicenseInput{LicenseArn: aws.String(license)})
	wantTyped[*lmtypes.InvalidParameterValueException](t, "GetLicense by an account the license has not reached", err)

	// The billing account passes it on to the deployment account, within what it holds.
	_, err = w.billingC.CreateGrant(ctx, &lm.CreateGrantInput{ClientToken: aws.String("too-much"), GrantName: aws.String("too-much"),
		LicenseArn: aws.String(license), Principals: []string{accountPrincipal(w.deployment)}, HomeRegion: aws.String(region),
		AllowedOperations: []lmtypes.AllowedOperation{lmtypes.AllowedOperationCheckoutLicense, lmtypes.AllowedOperationCreateToken}})
	wantAPIError(t, "CreateGrant passing on more than it holds", err, "ValidationException", "CreateToken")
	deployOps := []lmtypes.AllowedOperation{lmtypes.AllowedOperationCheckoutLicense, lmtypes.AllowedOperationCheckInLicense, lmtypes.AllowedOperationExtendConsumptionLicense}
	toDeployment := grant(t, w.billingC, "to-deployment", license, accountPrincipal(w.deployment), deployOps...)
	acceptAndActivate(t, w.deploymentC, toDeployment)
	got = receivedLicenses(t, w.deploymentC, lmtypes.Filter{Name: aws.String("ProductSKU"), Values: []string{"grants-sku"}})[license]
	if got.ReceivedMetadata == nil || got.ReceivedMetadata.ReceivedStatus != lmtypes.ReceivedStatusActive || len(got.ReceivedMetadata.AllowedOperations) != 3 {
		t.Errorf("ListReceivedLicenses(deployment) = %+v, want ACTIVE with 3 operations", got)
	}
	if n := len(receivedLicenses(t, w.deploymentC, lmtypes.Filter{Name: aws.String("ProductSKU"), Values: []string{"other"}})); n != 0 {
		t.Errorf("ListReceivedLicenses(ProductSKU other) = %d licenses, want 0", n)
	}
	_, err = w.deploymentC.ListReceivedLicenses(ctx, &lm.ListReceivedLicensesInput{Filters: []lmtypes.Filter{{Name: aws.String("Color"), Values: []string{"x"}}}})
	wantAPIError(t, "ListReceivedLicenses with an unknown filter", err, "InvalidParameterValueException", "IssuerName")
	sub, err := w.deploymentC.GetGrant(ctx, &lm.GetGrantInput{GrantArn: aws.String(toDeployment)})
	if err != nil || aws.ToString(sub.Grant.ParentArn) != toBilling {
		t.Errorf("GetGrant(sub-grant) = %+v, %v; want ParentArn %s", sub, err, toBilling)
	}
	// Only the grantee or the grantor changes a grant, and only the grantor its operations.
	_, err = w.deploymentC.CreateGrantVersion(ctx, &lm.CreateGrantVersionInput{GrantArn: aws.String(toDeployment), ClientToken: aws.String("widen"),
		AllowedOperations: []lmtypes.AllowedOperation{lmtypes.AllowedOperationCreateGrant}})
	wantAPIError(t, "grantee changing operations", err, "AccessDeniedException", "Only the grantor")
	_, err = w.billingC.CreateGrantVersion(ctx, &lm.CreateGrantVersionInput{GrantArn: aws.String(toDeployment), ClientToken: aws.String("stale"),
		GrantName: aws.String("renamed"), SourceVersion: aws.String("1")})
	wantAPIError(t, "CreateGrantVersion on a stale version", err, "ValidationException", "SourceVersion 1")

	// Lists by side and by filter.
	dist, err := w.billingC.ListDistributedGrants(ctx, &lm.ListDistributedGrantsInput{})
	if err != nil || len(dist.Grants) != 1 || aws.ToString(dist.Grants[0].GrantArn) != toDeployment {
		t.Errorf("ListDistributedGrants(billing) = %+v, %v; want the grant to the deployment account", dist, err)
	}
	recv, err := w.billingC.ListReceivedGrants(ctx, &lm.ListReceivedGrantsInput{Filters: []lmtypes.Filter{
		{Name: aws.String("GranterAccountId"), Values: []string{w.vendor}}, {Name: aws.String("LicenseIssuerName"), Values: []string{"Vendor"}}}})
	if err != nil || len(recv.Grants) != 1 || aws.ToString(recv.Grants[0].GrantArn) != toBilling {
		t.Errorf("ListReceivedGrants(billing, from the vendor) = %+v, %v", recv, err)
	}
	recv, err = w.billingC.ListReceivedGrants(ctx, &lm.ListReceivedGrantsInput{Filters: []lmtypes.Filter{{Name: aws.String("GrantStatus"), Values: []string{"DISABLED"}}}})
	if err != nil || len(recv.Grants) != 0 {
		t.Errorf("ListReceivedGrants(DISABLED) = %+v, %v; want none", recv, err)
	}

	// A rejected grant gives nothing and stays rejected.
	rejected := grant(t, w.vendorC, "to-reject", license, accountPrincipal(w.deployment), lmtypes.AllowedOperationCheckoutLicense)
	if out, err := w.deploymentC.RejectGrant(ctx, &lm.RejectGrantInput{GrantArn: aws.String(rejected)}); err != nil || out.Status != lmtypes.GrantStatusRejected {
		t.Errorf("RejectGrant = %+v, %v", out, err)
	}
	_, err = w.deploymentC.AcceptGrant(ctx, &lm.AcceptGrantInput{GrantArn: aws.String(rejected)})
	wantAPIError(t, "AcceptGrant after RejectGrant", err, "ValidationException", "REJECTED")

	// The grantor deletes its grant with the current version; the license stops reaching the grantee.
	_, err = w.billingC.DeleteGrant(ctx, &lm.DeleteGrantInput{GrantArn: aws.String(toDeployment), Version: aws.String("1")})
	wantAPIError(t, "DeleteGrant with an old version", err, "ValidationException", "current version")
	_, err = w.deploymentC.DeleteGrant(ctx, &lm.DeleteGrantInput{GrantArn: aws.String(toDeployment), Version: aws.String("3")})
	wantAPIError(t, "DeleteGrant by the grantee", err, "AccessDeniedException", "Only the grantor")
	del, err := w.billingC.DeleteGrant(ctx, &lm.DeleteGrantInput{GrantArn: aws.String(toDeployment), Version: aws.String("3"), StatusReason: aws.String("contract moved")})
	if err != nil || del.Status != lmtypes.GrantStatusDeleted || aws.ToString(del.Version) != "4" {
		t.Errorf("DeleteGrant = %+v, %v; want DELETED at version 4", del, err)
	}
	if _, ok := receivedLicenses(t, w.deploymentC)[license]; ok {
		t.Errorf("ListReceivedLicenses(deployment) after the grant was deleted still lists %s", license)
	}

	// A grant to the organization: its management account accepts it, and it reaches every member.
	toOrg := grant(t, w.vendorC, "to-org", license, w.orgARN, lmtypes.AllowedOperationCheckoutLicense)
	_, err = w.deploymentC.AcceptGrant(ctx, &lm.AcceptGrantInput{GrantArn: aws.String(toOrg)})
	wantAPIError(t, "AcceptGrant of an organization's grant by a member", err, "AccessDeniedException", "management account")
	acceptAndActivate(t, w.billingC, toOrg)
	if got := receivedLicenses(t, w.deploymentC)[license]; got.ReceivedMetadata == nil || got.ReceivedMetadata.ReceivedStatus != lmtypes.ReceivedStatusActive {
		t.Errorf("ListReceivedLicenses(member) through the organization's grant = %+v, want ACTIVE", got)
	}
	orgLicenses, err := w.billingC.ListReceivedLicensesForOrganization(ctx, &lm.ListReceivedLicensesForOrganizationInput{})
	if err != nil || len(orgLicenses.Licenses) != 1 || aws.ToString(orgLicenses.Licenses[0].LicenseArn) != license {
		t.Errorf("ListReceivedLicensesForOrganization = %+v, %v", orgLicenses, err)
	}
	_, err = w.deploymentC.ListReceivedLicensesForOrganization(ctx, &lm.ListReceivedLicensesForOrganizationInput{})
	wantAPIError(t, "ListReceivedLicensesForOrganization by a member", err, "AccessDeniedException", "management account")
	orgGrants, err := w.billingC.ListReceivedGrantsForOrganization(ctx, &lm.ListReceivedGrantsForOrganizationInput{LicenseArn: aws.String(license)})
	var orgGrantARNs []string
	for _, g := range orgGrants.Grants {
		orgGrantARNs = append(orgGrantARNs, aws.ToString(g.GrantArn))
	}
	if err != nil || !slices.Contains(orgGrantARNs, toOrg) || !slices.Contains(orgGrantARNs, toBilling) || !slices.Contains(orgGrantARNs, toDeployment) {
		t.Errorf("ListReceivedGrantsForOrganization = %v, %v; want the grants to the organization, the billing and the deployment accounts", orgGrantARNs, err)
	}

	// Grants are taggable by their grantor.
	if _, err := w.vendorC.TagResource(ctx, &lm.TagResourceInput{ResourceArn: aws.String(toOrg), Tags: []lmtypes.Tag{{Key: aws.String("contract"), Value: aws.String("C-1")}}}); err != nil {
		t.Fatalf("TagResource(grant): %v", err)
	}
	tags, err := w.vendorC.ListTagsForResource(ctx, &lm.ListTagsForResourceInput{ResourceArn: aws.String(toOrg)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "C-1" {
		t.Errorf("ListTagsForResource(grant) = %+v, %v", tags, err)
	}
	_, err = w.billingC.TagResource(ctx, &lm.TagResourceInput{ResourceArn: aws.String(toOrg), Tags: []lmtypes.Tag{{Key: aws.String("x"), Value: aws.String("y")}}})
	wantTyped[*lmtypes.InvalidParameterValueException](t, "TagResource on another account's grant", err)
}
