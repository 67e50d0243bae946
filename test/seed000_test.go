package test

import (
	"strings"
	"testing"
	"time"
)

// seed000 is seed 000's world built with the AWS CLI: an organization whose management
// account is the billing account, a vendor account that issues the DataMasque license and
// grants it to the billing account (as AWS Marketplace does for a purchase), and a
// deployment account running the product under its instance role.
type seed000 struct {
	s                          *server
	cli                        string
	vendor, deployment         string // account IDs
	admin, vendorAdmin, deploy creds  // administrators of the billing, vendor and deployment accounts
	license, fingerprint       string
	fill                       *strings.Replacer
}

func newSeed000(t *testing.T) *seed000 {
	t.Helper()
	w := &seed000{s: startServer(t, serverOptions{}), cli: requireTool(t, "AWS CLI v2", awsCLIs(t)["v2"])}
	s, cli := w.s, w.cli
	root := creds{keyID: rootKeyID, secret: rootSecret}
	mustCLI(t, s, cli, root, nil, "organizations", "create-organization", "--feature-set", "ALL")
	account := func(name string) string {
		var created struct{ CreateAccountStatus struct{ AccountId string } }
		mustCLI(t, s, cli, root, &created, "organizations", "create-account", "--account-name", name, "--email", name+"@example.com")
		return created.CreateAccountStatus.AccountId
	}
	w.vendor, w.deployment = account("vendor"), account("deployment")
	mustCLI(t, s, cli, root, nil, "iam", "create-user", "--user-name", "admin")
	mustCLI(t, s, cli, root, nil, "iam", "attach-user-policy", "--user-name", "admin", "--policy-arn", "arn:aws:iam::aws:policy/AdministratorAccess")
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	mustCLI(t, s, cli, root, &key, "iam", "create-access-key", "--user-name", "admin")
	w.admin = creds{keyID: key.AccessKey.AccessKeyId, secret: key.AccessKey.SecretAccessKey}
	into := func(account string) creds {
		var out assumeRoleOutput
		mustCLI(t, s, cli, w.admin, &out, "sts", "assume-role", "--role-arn", "arn:aws:iam::"+account+":role/OrganizationAccountAccessRole", "--role-session-name", "setup")
		return out.creds()
	}
	w.vendorAdmin, w.deploy = into(w.vendor), into(w.deployment)
	w.fill = strings.NewReplacer("<deployment-account-id>", w.deployment, "<billing-account-id>", rootAccount, "<datamasque-role-name>", "DataMasque-EC2-Role")

	// The vendor issues the license (two seats, check-in allowed) and grants it to the billing
	// account, which accepts and activates it.
	now := time.Now().UTC()
	var created struct{ LicenseArn string }
	mustCLI(t, s, cli, w.vendorAdmin, &created, "license-manager", "create-license", "--license-name", "DataMasque Enterprise",
		"--product-name", "DataMasque", "--product-sku", "DM-ENT", "--issuer", "Name=DataMasque", "--home-region", region,
		"--validity", "Begin="+now.Add(-time.Hour).Format(time.RFC3339)+",End="+now.Add(365*24*time.Hour).Format(time.RFC3339),
		"--entitlements", "Name=Seats,Unit=Count,MaxCount=2,AllowCheckIn=true",
		"--beneficiary", rootAccount, "--consumption-configuration", "ProvisionalConfiguration={MaxTimeToLiveInMinutes=60}",
		"--client-token", "seed000-license")
	w.license = created.LicenseArn
	w.fingerprint = "aws:" + w.vendor + ":DataMasque:issuer-fingerprint"
	var g struct{ GrantArn, Status string }
	mustCLI(t, s, cli, w.vendorAdmin, &g, "license-manager", "create-grant", "--client-token", "seed000-purchase", "--grant-name", "purchase",
		"--license-arn", w.license, "--principals", "arn:aws:iam::"+rootAccount+":root", "--home-region", region,
		"--allowed-operations", "CreateGrant", "CheckoutLicense", "CheckInLicense", "ExtendConsumptionLicense", "ListPurchasedLicenses")
	w.acceptAndActivate(t, w.admin, g.GrantArn)
	return w
}

// acceptAndActivate accepts a grant and activates it with the CLI, as the console's
// "Accept and activate" does.
func (w *seed000) acceptAndActivate(t *testing.T, c creds, grantARN string) {
	t.Helper()
	var out struct{ GrantArn, Status, Version string }
	mustCLI(t, w.s, w.cli, c, &out, "license-manager", "accept-grant", "--grant-arn", grantARN)
	if out.Status != "DISABLED" {
		t.Fatalf("accept-grant: status %s, want DISABLED until activated", out.Status)
	}
	mustCLI(t, w.s, w.cli, c, &out, "license-manager", "create-grant-version", "--grant-arn", grantARN, "--status", "ACTIVE",
		"--client-token", "activate-"+grantARN[len(grantARN)-8:])
	if out.Status != "ACTIVE" {
		t.Fatalf("create-grant-version --status ACTIVE: status %s", out.Status)
	}
}

// instanceRole creates the deployment account's DataMasque-EC2-Role with the given inline
// policy, and an operator user (standing in for EC2) that assumes it; it returns the
// instance role's credentials.
func (w *seed000) instanceRole(t *testing.T, policy string) creds {
	t.Helper()
	s, cli := w.s, w.cli
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + w.deployment + `:user/operator"},"Action":"sts:AssumeRole"}]}`
	mustCLI(t, s, cli, w.deploy, nil, "iam", "create-role", "--role-name", "DataMasque-EC2-Role", "--assume-role-policy-document", writePolicy(t, "instance-trust.json", trust))
	mustCLI(t, s, cli, w.deploy, nil, "iam", "put-role-policy", "--role-name", "DataMasque-EC2-Role", "--policy-name", "deployment",
		"--policy-document", writePolicy(t, "deployment.json", w.fill.Replace(policy)))
	mustCLI(t, s, cli, w.deploy, nil, "iam", "create-user", "--user-name", "operator")
	mustCLI(t, s, cli, w.deploy, nil, "iam", "put-user-policy", "--user-name", "operator", "--policy-name", "assume-instance-role",
		"--policy-document", writePolicy(t, "operator.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::`+w.deployment+`:role/DataMasque-EC2-Role"}]}`))
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	mustCLI(t, s, cli, w.deploy, &key, "iam", "create-access-key", "--user-name", "operator")
	var instance assumeRoleOutput
	mustCLI(t, s, cli, creds{keyID: key.AccessKey.AccessKeyId, secret: key.AccessKey.SecretAccessKey}, &instance,
		"sts", "assume-role", "--role-arn", "arn:aws:iam::"+w.deployment+":role/DataMasque-EC2-Role", "--role-session-name", "i-0123456789abcdef0")
	return instance.creds()
}

type checkoutResult struct {
	LicenseConsumptionToken, SignedToken, Expiration, LicenseArn, CheckoutType string
	EntitlementsAllowed                                                        []struct{ Name, Value, Unit string }
}

// checkout checks out one seat as c with the CLI.
func (w *seed000) checkout(t *testing.T, c creds, token string) checkoutResult {
	t.Helper()
	var out checkoutResult
	mustCLI(t, w.s, w.cli, c, &out, "license-manager", "checkout-license", "--product-sku", "DM-ENT", "--checkout-type", "PROVISIONAL",
		"--key-fingerprint", w.fingerprint, "--entitlements", "Name=Seats,Value=1,Unit=Count", "--client-token", token)
	if out.LicenseArn != w.license || out.LicenseConsumptionToken == "" || out.SignedToken == "" || len(out.EntitlementsAllowed) != 1 {
		t.Fatalf("checkout-license = %+v", out)
	}
	return out
}

// seatsInUse returns the Seats consumed as GetLicenseUsage reports them to c.
func (w *seed000) seatsInUse(t *testing.T, c creds) string {
	t.Helper()
	var usage struct {
		LicenseUsage struct {
			EntitlementUsages []struct{ Name, ConsumedValue, MaxCount string }
		}
	}
	mustCLI(t, w.s, w.cli, c, &usage, "license-manager", "get-license-usage", "--license-arn", w.license)
	for _, u := range usage.LicenseUsage.EntitlementUsages {
		if u.Name == "Seats" {
			if u.MaxCount != "2" {
				t.Errorf("get-license-usage: Seats MaxCount %q, want 2", u.MaxCount)
			}
			return u.ConsumedValue
		}
	}
	t.Fatalf("get-license-usage: no Seats in %+v", usage)
	return ""
}

// wantCLIError runs a CLI command that must fail with code, its message containing msg.
func (w *seed000) wantCLIError(t *testing.T, c creds, code, msg string, args ...string) {
	t.Helper()
	_, stderr, exit := w.s.cliAs(t, w.cli, c, args...)
	if exit == 0 || !strings.Contains(stderr, "("+code+")") || !strings.Contains(stderr, msg) {
		t.Errorf("aws %s: exit %d, stderr %q; want (%s) …%s", strings.Join(args, " "), exit, stderr, code, msg)
	}
}

// TestSeed000_AssumeRoleCheckout runs seed 000's assume-role approach end to end with the AWS
// CLI: the billing account holds the license, the deployment account's instance role
// assumes DataMasqueLicenseRole (set up from the seed's own policies), lists received
// licenses, checks out, extends and checks in, and GetLicenseUsage shows the seat come and
// go. It also walks the troubleshooting rows about checkout permissions.
func TestSeed000_AssumeRoleCheckout(t *testing.T) {
	w := newSeed000(t)
	s, cli := w.s, w.cli
	licenseRole := "arn:aws:iam::" + rootAccount + ":role/DataMasqueLicenseRole"
	mustCLI(t, s, cli, w.admin, nil, "iam", "create-role", "--role-name", "DataMasqueLicenseRole",
		"--assume-role-policy-document", writePolicy(t, "trust.json", w.fill.Replace(seedTrustPolicy)))
	mustCLI(t, s, cli, w.admin, nil, "iam", "put-role-policy", "--role-name", "DataMasqueLicenseRole",
		"--policy-name", "DataMasqueLicenseOperations", "--policy-document", writePolicy(t, "permissions.json", w.fill.Replace(seedPermissionsPolicy)))
	instance := w.instanceRole(t, `{"Version":"2012-10-17","Statement":[`+seedDeploymentStatement+`]}`)

	var assumed assumeRoleOutput
	mustCLI(t, s, cli, instance, &assumed, "sts", "assume-role", "--role-arn", licenseRole, "--role-session-name", "datamasque-verify-session")
	product := assumed.creds()

	// Verifying the setup: the license is visible from the role, and ACTIVE.
	var received struct {
		Licenses []struct {
			LicenseArn, ProductSKU, Status string
			ReceivedMetadata               struct{ ReceivedStatus string }
		}
	}
	mustCLI(t, s, cli, product, &received, "license-manager", "list-received-licenses")
	if len(received.Licenses) != 1 || received.Licenses[0].LicenseArn != w.license || received.Licenses[0].Status != "AVAILABLE" ||
		received.Licenses[0].ReceivedMetadata.ReceivedStatus != "ACTIVE" {
		t.Fatalf("list-received-licenses = %+v, want the DataMasque license ACTIVE", received.Licenses)
	}

	// Check out both seats; a third copy of the product gets none.
	first := w.checkout(t, product, "instance-1")
	w.checkout(t, product, "instance-2")
	w.wantCLIError(t, product, "NoEntitlementsAllowedException", "Seats", "license-manager", "checkout-license", "--product-sku", "DM-ENT",
		"--checkout-type", "PROVISIONAL", "--key-fingerprint", w.fingerprint, "--entitlements", "Name=Seats,Value=1,Unit=Count", "--client-token", "instance-3")

	// The seed's policy has neither ExtendLicenseConsumption nor GetLicenseUsage: denied, with the reason.
	w.wantCLIError(t, product, "AccessDeniedException", "because no identity-based policy allows the license-manager:ExtendLicenseConsumption action",
		"license-manager", "extend-license-consumption", "--license-consumption-token", first.LicenseConsumptionToken)
	mustCLI(t, s, cli, w.admin, nil, "iam", "put-role-policy", "--role-name", "DataMasqueLicenseRole", "--policy-name", "OptionalOperations",
		"--policy-document", writePolicy(t, "optional.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["license-manager:ExtendLicenseConsumption","license-manager:GetLicenseUsage"],"Resource":"*"}]}`))
	if got := w.seatsInUse(t, product); got != "2" {
		t.Errorf("Seats in use after two checkouts = %s, want 2", got)
	}
	var ext struct{ LicenseConsumptionToken, Expiration string }
	mustCLI(t, s, cli, product, &ext, "license-manager", "extend-license-consumption", "--license-consumption-token", first.LicenseConsumptionToken)
	if ext.LicenseConsumptionToken != first.LicenseConsumptionToken || ext.Expiration < first.Expiration {
		t.Errorf("extend-license-consumption = %+v, want the same token expiring no earlier than %s", ext, first.Expiration)
	}
	mustCLI(t, s, cli, product, nil, "license-manager", "check-in-license", "--license-consumption-token", first.LicenseConsumptionToken)
	if got := w.seatsInUse(t, product); got != "1" {
		t.Errorf("Seats in use after a check-in = %s, want 1", got)
	}
	w.checkout(t, product, "instance-3") // the seat is free again

	// Troubleshooting: "AuthorizationException when checking out, even though IAM policy
	// references a specific license ARN".
	mustCLI(t, s, cli, w.admin, nil, "iam", "put-role-policy", "--role-name", "DataMasqueLicenseRole",
		"--policy-name", "DataMasqueLicenseOperations", "--policy-document", writePolicy(t, "scoped.json",
			`{"Version":"2012-10-17","Statement":[{"Sid":"Scoped","Effect":"Allow","Action":["license-manager:CheckoutLicense","license-manager:CheckInLicense"],"Resource":"`+w.license+`"}]}`))
	w.wantCLIError(t, product, "AuthorizationException", `statement "Scoped" of DataMasqueLicenseOperations`, "license-manager", "checkout-license",
		"--product-sku", "DM-ENT", "--checkout-type", "PROVISIONAL", "--key-fingerprint", w.fingerprint,
		"--entitlements", "Name=Seats,Value=1,Unit=Count", "--client-token", "scoped")
	// "AccessDenied when checking out a license": the permission is missing altogether.
	mustCLI(t, s, cli, w.admin, nil, "iam", "delete-role-policy", "--role-name", "DataMasqueLicenseRole", "--policy-name", "DataMasqueLicenseOperations")
	w.wantCLIError(t, product, "AccessDeniedException", "because no identity-based policy allows the license-manager:CheckoutLicense action",
		"license-manager", "checkout-license", "--product-sku", "DM-ENT", "--checkout-type", "PROVISIONAL", "--key-fingerprint", w.fingerprint,
		"--entitlements", "Name=Seats,Value=1,Unit=Count", "--client-token", "unpermitted")
}

// TestSeed000_GrantsCheckout runs seed 000's license-grants approach end to end with the AWS
// CLI: the billing account grants the license to the deployment account, which accepts and
// activates it; list-received-licenses there shows it ACTIVE, and the instance role checks
// out and checks in with no role assumption. Before the grant is accepted the checkout
// fails saying so.
func TestSeed000_GrantsCheckout(t *testing.T) {
	w := newSeed000(t)
	s, cli := w.s, w.cli
	instance := w.instanceRole(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["license-manager:CheckoutLicense",
		"license-manager:CheckInLicense","license-manager:ListReceivedLicenses","license-manager:GetLicense","license-manager:GetLicenseUsage"],"Resource":"*"}]}`)

	// Step 1, billing account: create the grant (CheckoutLicense and CheckInLicense at minimum).
	var g struct{ GrantArn, Status string }
	mustCLI(t, s, cli, w.admin, &g, "license-manager", "create-grant", "--client-token", "seed000-deployment", "--grant-name", "DataMasque deployment",
		"--license-arn", w.license, "--principals", "arn:aws:iam::"+w.deployment+":root", "--home-region", region,
		"--allowed-operations", "CheckoutLicense", "CheckInLicense")
	if g.Status != "PENDING_ACCEPT" {
		t.Fatalf("create-grant: status %s, want PENDING_ACCEPT", g.Status)
	}
	// Troubleshooting: "Grant not visible in the deployment account — grant not yet accepted".
	w.wantCLIError(t, instance, "NoEntitlementsAllowedException", "PENDING_ACCEPT: accept it", "license-manager", "checkout-license",
		"--product-sku", "DM-ENT", "--checkout-type", "PROVISIONAL", "--key-fingerprint", w.fingerprint,
		"--entitlements", "Name=Seats,Value=1,Unit=Count", "--client-token", "too-early")

	// Step 2, deployment account: accept (and activate) the grant.
	var pending struct {
		Grants []struct{ GrantArn, GrantStatus string }
	}
	mustCLI(t, s, cli, w.deploy, &pending, "license-manager", "list-received-grants")
	if len(pending.Grants) != 1 || pending.Grants[0].GrantArn != g.GrantArn || pending.Grants[0].GrantStatus != "PENDING_ACCEPT" {
		t.Fatalf("list-received-grants = %+v", pending.Grants)
	}
	w.acceptAndActivate(t, w.deploy, g.GrantArn)

	// Verifying the setup: the license is visible and ACTIVE in the deployment account.
	var received struct {
		Licenses []struct {
			LicenseArn       string
			ReceivedMetadata struct {
				ReceivedStatus    string
				AllowedOperations []string
			}
		}
	}
	mustCLI(t, s, cli, instance, &received, "license-manager", "list-received-licenses")
	if len(received.Licenses) != 1 || received.Licenses[0].LicenseArn != w.license || received.Licenses[0].ReceivedMetadata.ReceivedStatus != "ACTIVE" {
		t.Fatalf("list-received-licenses = %+v, want the license ACTIVE", received.Licenses)
	}

	// The product checks out with no role assumption, and checks in at shutdown.
	out := w.checkout(t, instance, "deployment-1")
	if got := w.seatsInUse(t, instance); got != "1" {
		t.Errorf("Seats in use = %s, want 1", got)
	}
	mustCLI(t, s, cli, instance, nil, "license-manager", "check-in-license", "--license-consumption-token", out.LicenseConsumptionToken)
	if got := w.seatsInUse(t, instance); got != "0" {
		t.Errorf("Seats in use after check-in = %s, want 0", got)
	}

	// The billing account deactivates its own grant from the vendor: the deployment account's
	// grant, made under it, stops working, and the checkout says why.
	var billingGrants struct{ Grants []struct{ GrantArn string } }
	mustCLI(t, s, cli, w.admin, &billingGrants, "license-manager", "list-received-grants")
	if len(billingGrants.Grants) != 1 {
		t.Fatalf("list-received-grants(billing) = %+v", billingGrants)
	}
	mustCLI(t, s, cli, w.admin, nil, "license-manager", "create-grant-version", "--grant-arn", billingGrants.Grants[0].GrantArn,
		"--status", "DISABLED", "--status-reason", "contract paused", "--client-token", "pause")
	w.wantCLIError(t, instance, "NoEntitlementsAllowedException", "was made under grant "+billingGrants.Grants[0].GrantArn, "license-manager", "checkout-license",
		"--product-sku", "DM-ENT", "--checkout-type", "PROVISIONAL", "--key-fingerprint", w.fingerprint,
		"--entitlements", "Name=Seats,Value=1,Unit=Count", "--client-token", "paused")
}
