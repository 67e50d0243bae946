package test

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
)

type doctorCheck struct{ Name, Title, Status, Detail, Cause, Fix, Error string }

type doctorReport struct {
	Mode, RoleArn, ProductSku, KeyFingerprint string
	OK                                        bool
	Checks                                    []doctorCheck
}

func (r doctorReport) check(t *testing.T, name string) doctorCheck {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("doctor report has no %q check: %+v", name, r.Checks)
	return doctorCheck{}
}

// doctor runs `allot doctor` against the kit's server as c (the product's credentials, from
// the environment as the SDK's default chain reads them) and returns its output and exit code.
func (k *kit) doctor(t *testing.T, c creds, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, allotBin, append([]string{"doctor", "--endpoint-url", k.s.url, "--region", region,
		"--product-sku", kitSKU, "--key-fingerprint", k.fingerprint}, args...)...)
	cmd.Env = append(cleanAWSEnv(), "AWS_ACCESS_KEY_ID="+c.keyID, "AWS_SECRET_ACCESS_KEY="+c.secret, "AWS_SESSION_TOKEN="+c.token,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	case err != nil:
		t.Fatalf("allot doctor: %v", err)
	}
	return out.String(), errb.String(), 0
}

// doctorJSON runs `allot doctor --output json` and decodes the report.
func (k *kit) doctorJSON(t *testing.T, c creds, args ...string) (doctorReport, int) {
	t.Helper()
	stdout, stderr, code := k.doctor(t, c, append(args, "--output", "json")...)
	var r doctorReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("allot doctor --output json: exit %d, %v\nstdout: %s\nstderr: %s", code, err, stdout, stderr)
	}
	if r.OK != (code == 0) {
		t.Errorf("allot doctor: ok %v with exit %d", r.OK, code)
	}
	return r, code
}

// wantCheck checks one line of a report: its status, and that its cause and fix say
// cause and fix.
func wantCheck(t *testing.T, r doctorReport, name, status, cause, fix string) {
	t.Helper()
	c := r.check(t, name)
	if c.Status != status || !strings.Contains(c.Cause, cause) || !strings.Contains(c.Fix, fix) {
		t.Errorf("check %s = %s %q\n  cause %q\n  fix   %q\nwant %s, cause with %q, fix with %q", name, c.Status, c.Detail, c.Cause, c.Fix, status, cause, fix)
	}
}

// TestDoctor_Troubleshooting breaks seed 000's setup in the way of each row of its
// troubleshooting table and checks that `allot doctor` pinpoints the cause, with the fix,
// and exits non-zero when checkout would fail.
func TestDoctor_Troubleshooting(t *testing.T) {
	k := newKit(t, 5)
	instance := k.instance(t, k.deployAdmin, k.deployment, "DataMasque-EC2-Role", kitDeploymentPolicy)
	noAssume := k.instance(t, k.deployAdmin, k.deployment, "NoAssume-Role", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"license-manager:ListReceivedLicenses","Resource":"*"}]}`)
	untrusted := k.instance(t, k.deployAdmin, k.deployment, "Untrusted-Role", kitDeploymentPolicy)
	trustBoth := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::<deployment-account-id>:role/DataMasque-EC2-Role",
		"arn:aws:iam::<deployment-account-id>:role/NoAssume-Role"]},"Action":"sts:AssumeRole"}]}`
	full := k.role(t, k.admin, "DataMasqueLicenseRole", trustBoth, kitFullPolicy)
	listOnly := k.role(t, k.admin, "DataMasqueLicenseListOnly", kitTrust, kitListOnlyPolicy)
	scoped := k.role(t, k.admin, "DataMasqueLicenseScoped", kitTrust, kitScopedPolicy)
	noList := k.role(t, k.admin, "DataMasqueLicenseNoList", kitTrust, kitCheckoutOnlyPolicy)
	acceptAndActivate(t, lm.NewFromConfig(k.s.configFor(k.deployAdmin)), k.grantTo(t, k.deployment))
	noCheckout := k.instance(t, k.deployAdmin, k.deployment, "NoCheckout-Role", kitListOnlyPolicy)
	noCheckIn := k.instance(t, k.deployAdmin, k.deployment, "NoCheckIn-Role",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["license-manager:CheckoutLicense","license-manager:ListReceivedLicenses"],"Resource":"*"}]}`)
	k.grantTo(t, k.pending) // never accepted
	pendingProduct := k.instance(t, k.pendingAdmin, k.pending, "DataMasque-EC2-Role", kitFullPolicy)

	t.Run("AccessDeniedCheckingOut", func(t *testing.T) {
		r, code := k.doctorJSON(t, noCheckout, "--mode", "grants")
		wantCheck(t, r, "checkout", "fail", "lacks license-manager:CheckoutLicense", `add "license-manager:CheckoutLicense" with "Resource": "*" to the policy of the product's role`)
		wantCheck(t, r, "license-visible", "ok", "", "")
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
	})
	t.Run("AccessDeniedCheckingIn", func(t *testing.T) {
		r, code := k.doctorJSON(t, noCheckIn, "--mode", "grants")
		wantCheck(t, r, "checkout", "ok", "", "")
		wantCheck(t, r, "check-in", "fail", "lacks license-manager:CheckInLicense", `add "license-manager:CheckInLicense"`)
		if c := r.check(t, "check-in"); !strings.Contains(c.Detail, "the units return when the checkout expires") || code != 1 {
			t.Errorf("check-in detail %q, exit %d; want the units' return explained and exit 1", c.Detail, code)
		}
	})
	t.Run("AccessDeniedAssumingRole/DeploymentPolicy", func(t *testing.T) {
		r, code := k.doctorJSON(t, noAssume, "--mode", "assume-role", "--role-arn", full)
		wantCheck(t, r, "caller-identity", "ok", "", "")
		wantCheck(t, r, "assume-role", "fail", "the deployment account's policy of the product's role (arn:aws:sts::"+k.deployment+":assumed-role/NoAssume-Role/",
			`"Action": "sts:AssumeRole", "Resource": "`+full+`"`)
		wantCheck(t, r, "checkout", "skip", "", "")
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
	})
	t.Run("AccessDeniedAssumingRole/TrustPolicy", func(t *testing.T) {
		r, code := k.doctorJSON(t, untrusted, "--mode", "assume-role", "--role-arn", full)
		wantCheck(t, r, "assume-role", "fail", "the trust policy of "+full+" does not allow the product's role", "trust policy")
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
	})
	t.Run("RoleAcceptedButCheckoutDenied", func(t *testing.T) {
		r, code := k.doctorJSON(t, instance, "--mode", "assume-role", "--role-arn", listOnly)
		wantCheck(t, r, "assume-role", "ok", "", "")
		wantCheck(t, r, "license-visible", "ok", "", "")
		wantCheck(t, r, "checkout", "fail", "the billing account role "+listOnly+" lacks license-manager:CheckoutLicense", "to the permissions policy of "+listOnly)
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
	})
	t.Run("NoProductsInSpecificMode", func(t *testing.T) {
		r, code := k.doctorJSON(t, instance, "--mode", "assume-role", "--role-arn", noList, "--entitlement", "Name=Seats,Unit=Count,Value=1")
		wantCheck(t, r, "list-received-licenses", "warn", noList+" lacks license-manager:ListReceivedLicenses, so specific checkout shows no products",
			`add "license-manager:ListReceivedLicenses"`)
		wantCheck(t, r, "license-visible", "warn", "lacks license-manager:ListReceivedLicenses", "")
		wantCheck(t, r, "checkout", "ok", "", "")
		wantCheck(t, r, "get-license", "warn", "lacks license-manager:GetLicense, which is optional", "")
		if c := r.check(t, "get-license"); !strings.Contains(c.Detail, "product name and contract expiry") || code != 0 {
			t.Errorf("get-license detail %q, exit %d; want what is lost and exit 0 (checkout works)", c.Detail, code)
		}
	})
	t.Run("AuthorizationException", func(t *testing.T) {
		r, code := k.doctorJSON(t, instance, "--mode", "assume-role", "--role-arn", scoped)
		wantCheck(t, r, "checkout", "fail", "supports no resource-level permissions", `change "Resource" to "*"`)
		if c := r.check(t, "checkout"); !strings.Contains(c.Error, "AuthorizationException") || code != 1 {
			t.Errorf("checkout error %q, exit %d", c.Error, code)
		}
	})
	t.Run("GrantNotVisible", func(t *testing.T) {
		r, code := k.doctorJSON(t, pendingProduct, "--mode", "grants")
		wantCheck(t, r, "license-visible", "fail", "has not been accepted yet", "accept the grant in this account's License Manager console")
		wantCheck(t, r, "checkout", "fail", "has not been accepted yet", "accept the grant")
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
	})
	t.Run("SaveDisabled", func(t *testing.T) {
		r, code := k.doctorJSON(t, instance, "--mode", "assume-role", "--role-arn", "arn:aws:iam::billing:role/DataMasqueLicenseRole")
		wantCheck(t, r, "role-arn", "fail", `account "billing" is not 12 digits`, "arn:aws:iam::<12-digit account ID>:role/<role name>")
		if len(r.Checks) != 1 || code != 1 {
			t.Errorf("checks %+v, exit %d; want only the role ARN refused, before any call", r.Checks, code)
		}
	})
}

// TestDoctor_WorkingSetups runs `allot doctor` on seed 000's working setups: assume role with
// the seed's own role policy (checkout works; the optional GetLicenseUsage and
// ExtendLicenseConsumption it lacks are warnings) and grants with every permission (all ok,
// the token verified offline). The doctor's checkouts are checked in.
func TestDoctor_WorkingSetups(t *testing.T) {
	k := newKit(t, 2)
	instance, roleARN := k.assumeRoleSetup(t, seedPermissionsPolicy)
	t.Run("AssumeRole", func(t *testing.T) {
		r, code := k.doctorJSON(t, instance, "--mode", "assume-role", "--role-arn", roleARN)
		for _, name := range []string{"credentials", "caller-identity", "assume-role", "license-visible", "checkout", "check-in", "get-license", "list-received-licenses"} {
			wantCheck(t, r, name, "ok", "", "")
		}
		wantCheck(t, r, "extend", "warn", "lacks license-manager:ExtendLicenseConsumption", "")
		wantCheck(t, r, "get-license-usage", "warn", "lacks license-manager:GetLicenseUsage", "")
		if c := r.check(t, "assume-role"); !strings.Contains(c.Detail, "assumed-role/DataMasqueLicenseRole/allot-doctor") || code != 0 {
			t.Errorf("assume-role detail %q, exit %d", c.Detail, code)
		}
		if got := k.seatsInUse(t); got != "0/2" {
			t.Errorf("seats in use after allot doctor = %s, want 0/2 (its checkout checked in)", got)
		}

		stdout, _, code := k.doctor(t, instance, "--mode", "assume-role", "--role-arn", roleARN)
		for _, want := range []string{"allot doctor: assume-role mode, product DM-ENT", "ok    assume the billing account role",
			"warn  optional: license-manager:GetLicenseUsage", "without license-manager:GetLicenseUsage the product loses consumed and available entitlement counts",
			"Checkout works (2 warning(s))."} {
			if !strings.Contains(stdout, want) {
				t.Errorf("allot doctor (table) lacks %q:\n%s", want, stdout)
			}
		}
		if code != 0 {
			t.Errorf("allot doctor (table): exit %d", code)
		}
	})
	t.Run("Grants", func(t *testing.T) {
		acceptAndActivate(t, lm.NewFromConfig(k.s.configFor(k.deployAdmin)), k.grantTo(t, k.deployment))
		product := k.instance(t, k.deployAdmin, k.deployment, "Product-Role", kitFullPolicy)
		r, code := k.doctorJSON(t, product, "--mode", "grants", "--jwks-url", k.s.url+"/.well-known/jwks.json")
		for _, c := range r.Checks {
			want := "ok"
			if c.Name == "assume-role" {
				want = "skip"
			}
			if c.Status != want {
				t.Errorf("check %s = %s (%s: %s), want %s", c.Name, c.Status, c.Detail, c.Error, want)
			}
		}
		if len(r.Checks) != 11 || code != 0 || !strings.Contains(r.check(t, "license-visible").Detail, "grant ACTIVE") {
			t.Errorf("%d checks, exit %d, license-visible %q", len(r.Checks), code, r.check(t, "license-visible").Detail)
		}
		if got := k.seatsInUse(t); got != "0/2" {
			t.Errorf("seats in use after allot doctor = %s, want 0/2", got)
		}
	})
	t.Run("Help", func(t *testing.T) {
		stdout, _, code := allot(t, "doctor", "--help")
		for _, want := range []string{"--mode", "--role-arn", "--product-sku", "--key-fingerprint", "--output", "REAL CheckoutLicense", "Exit status"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("allot doctor --help lacks %q", want)
			}
		}
		if code != 0 {
			t.Errorf("allot doctor --help: exit %d", code)
		}
		_, stderr, code := allot(t, "doctor", "--mode", "cross-account")
		if code != 2 || !strings.Contains(stderr, `unknown mode "cross-account"`) {
			t.Errorf("allot doctor --mode cross-account: exit %d, %s; want 2 and the modes", code, stderr)
		}
	})
}
