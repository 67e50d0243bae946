package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const (
	testRole        = "arn:aws:iam::111122223333:role/DataMasqueLicenseRole"
	testFingerprint = "aws:444455556666:DataMasque:issuer-fingerprint"
	testCaller      = "arn:aws:sts::222233334444:assumed-role/DataMasque-EC2-Role/i-0123"
)

func opErr(service, op string, err error) error {
	return &smithy.OperationError{ServiceID: service, OperationName: op, Err: err}
}

func denial(action, because string) string {
	return "User: " + testCaller + " is not authorized to perform: " + action + " on resource: * " + because
}

// TestMapError maps each row of the troubleshooting table's AWS error to its typed error,
// whose cause and fix name what to change.
func TestMapError(t *testing.T) {
	for _, tc := range []struct {
		name       string
		mode       Mode
		op         string
		err        error
		check      func(error) bool
		cause, fix string
	}{
		{"CheckoutDeniedSameAccount", ModeSameAccount, "CheckoutLicense",
			&lmtypes.AccessDeniedException{Message: aws.String(denial("license-manager:CheckoutLicense", "because no identity-based policy allows the license-manager:CheckoutLicense action"))},
			is[*PermissionDeniedError], "the product's role (" + testCaller + ") lacks license-manager:CheckoutLicense", "to the policy of the product's role"},
		{"CheckInDeniedGrants", ModeGrants, "CheckInLicense",
			&lmtypes.AccessDeniedException{Message: aws.String(denial("license-manager:CheckInLicense", "because no identity-based policy allows the license-manager:CheckInLicense action"))},
			is[*PermissionDeniedError], "lacks license-manager:CheckInLicense", `add "license-manager:CheckInLicense" with "Resource": "*"`},
		{"CheckoutDeniedBillingRole", ModeAssumeRole, "CheckoutLicense",
			&lmtypes.AccessDeniedException{Message: aws.String("User: arn:aws:sts::111122223333:assumed-role/DataMasqueLicenseRole/s is not authorized to perform: license-manager:CheckoutLicense on resource: * because no identity-based policy allows the license-manager:CheckoutLicense action")},
			is[*PermissionDeniedError], "the billing account role " + testRole + " lacks license-manager:CheckoutLicense", "to the permissions policy of " + testRole},
		{"CheckoutDeniedBySCP", ModeGrants, "CheckoutLicense",
			&lmtypes.AccessDeniedException{Message: aws.String(denial("license-manager:CheckoutLicense", "with an explicit deny in a service control policy"))},
			is[*PermissionDeniedError], "a service control policy of the organization denies license-manager:CheckoutLicense", "service control policies"},
		{"CheckoutScopedPolicy", ModeAssumeRole, "CheckoutLicense",
			&lmtypes.AuthorizationException{Message: aws.String(denial("license-manager:CheckoutLicense", "because no identity-based policy allows it"))},
			is[*ScopedPolicyError], "supports no resource-level permissions", `change "Resource" to "*"`},
		{"ListReceivedDenied", ModeAssumeRole, "ListReceivedLicenses",
			&lmtypes.AccessDeniedException{Message: aws.String(denial("license-manager:ListReceivedLicenses", "because no identity-based policy allows the license-manager:ListReceivedLicenses action"))},
			is[*ProductListDeniedError], testRole + " lacks license-manager:ListReceivedLicenses", `add "license-manager:ListReceivedLicenses"`},
		{"GrantPendingAccept", ModeGrants, "CheckoutLicense",
			&lmtypes.NoEntitlementsAllowedException{Message: aws.String("No entitlement asked for could be checked out of the licenses for ProductSKU \"DM-ENT\" in account 222233334444: grant arn:aws:license-manager::111122223333:grant:g-0123 is PENDING_ACCEPT: accept it (AcceptGrant) and activate it.")},
			is[*GrantNotActiveError], "grant arn:aws:license-manager::111122223333:grant:g-0123 of the license to this account has not been accepted yet", "accept the grant"},
		{"GrantParentDisabled", ModeGrants, "CheckoutLicense",
			&lmtypes.NoEntitlementsAllowedException{Message: aws.String("…: grant arn:aws:license-manager::111122223333:grant:g-1 was made under grant arn:aws:license-manager::444455556666:grant:g-2, which is DISABLED: account 111122223333 must activate it first.")},
			is[*GrantNotActiveError], "grant arn:aws:license-manager::444455556666:grant:g-2 was accepted but is not active", "activate the grant"},
		{"AllSeatsInUse", ModeAssumeRole, "CheckoutLicense",
			&lmtypes.NoEntitlementsAllowedException{Message: aws.String("No entitlement asked for could be checked out of the licenses for ProductSKU \"DM-ENT\" in account 111122223333: license arn:aws:license-manager::444455556666:license:l-1: Seats: 2 of 2 in use.")},
			is[*NoEntitlementsError], "all units of the entitlements asked for are in use", "stop another copy of the product"},
		{"LicenseNotFoundGrants", ModeGrants, "CheckoutLicense",
			&lmtypes.ResourceNotFoundException{Message: aws.String("No license for ProductSKU \"DM-ENT\" …")},
			is[*LicenseNotFoundError], "the grant was not created or not accepted, an AWS Organizations SCP hides it", "accept the grant here"},
		{"ExtendRefusedGrantDisabled", ModeGrants, "ExtendLicenseConsumption",
			&lmtypes.AccessDeniedException{Message: aws.String("The checkout of license arn:aws:license-manager::444455556666:license:l-1 cannot be extended: grant arn:aws:license-manager::111122223333:grant:g-9 is DISABLED: activate it with CreateGrantVersion and Status ACTIVE in account 222233334444.")},
			is[*GrantNotActiveError], "grant arn:aws:license-manager::111122223333:grant:g-9 was accepted but is not active", "activate the grant"},
		{"ExtendDenied", ModeAssumeRole, "ExtendLicenseConsumption",
			&lmtypes.AccessDeniedException{Message: aws.String(denial("license-manager:ExtendLicenseConsumption", "because no identity-based policy allows the license-manager:ExtendLicenseConsumption action"))},
			is[*PermissionDeniedError], "lacks license-manager:ExtendLicenseConsumption", "ExtendLicenseConsumption"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(Config{AWS: staticAWS(), Mode: tc.mode, RoleARN: map[bool]string{true: testRole}[tc.mode == ModeAssumeRole]})
			if err != nil {
				t.Fatal(err)
			}
			cause := opErr("License Manager", tc.op, tc.err)
			got := c.mapError(tc.op, "DM-ENT", testFingerprint, cause)
			if !tc.check(got) {
				t.Fatalf("mapError(%s, %T) = %T %v", tc.op, tc.err, got, got)
			}
			var d Diagnosis
			if !errors.As(got, &d) {
				t.Fatalf("mapError = %T, not a Diagnosis", got)
			}
			if !strings.Contains(d.Cause(), tc.cause) || !strings.Contains(d.Fix(), tc.fix) {
				t.Errorf("cause %q, fix %q; want them to contain %q and %q", d.Cause(), d.Fix(), tc.cause, tc.fix)
			}
			if msg := got.Error(); !strings.HasPrefix(msg, "client: ") || !strings.Contains(msg, d.Cause()) || !strings.Contains(msg, d.Fix()) {
				t.Errorf("Error() = %q, want the cause and the fix", msg)
			}
			// The AWS error stays reachable.
			if !errors.Is(got, tc.err) {
				t.Errorf("the mapped error does not wrap the %T", tc.err)
			}
		})
	}
}

// TestMapError_NotIAM keeps a refusal that is not an IAM denial from passing for a missing
// permission: the lease must not stop extending for it.
func TestMapError_NotIAM(t *testing.T) {
	c, _ := New(Config{AWS: staticAWS(), Mode: ModeGrants})
	err := c.mapError("ExtendLicenseConsumption", "DM-ENT", testFingerprint, opErr("License Manager", "ExtendLicenseConsumption",
		&lmtypes.AccessDeniedException{Message: aws.String("License arn:aws:license-manager::444455556666:license:l-1 no longer reaches account 222233334444 (its grant was deleted): the checkout cannot be extended.")}))
	if is[*PermissionDeniedError](err) || !is[*lmtypes.AccessDeniedException](err) || !strings.HasPrefix(err.Error(), "client: ExtendLicenseConsumption: ") {
		t.Errorf("mapError(grant deleted) = %T %v, want the AWS error wrapped, not a permission error", err, err)
	}
}

func is[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

func TestAssumeRoleError(t *testing.T) {
	for _, tc := range []struct {
		name     string
		msg      string
		deniedBy DeniedBy
		cause    string
		fix      string
	}{
		{"DeploymentPolicy", "User: " + testCaller + " is not authorized to perform: sts:AssumeRole on resource: " + testRole + " because no identity-based policy allows the sts:AssumeRole action",
			DeniedByIdentityPolicy, "the deployment account's policy of the product's role (" + testCaller + ") does not allow sts:AssumeRole", `"Action": "sts:AssumeRole", "Resource": "` + testRole + `"`},
		{"TrustPolicy", "User: " + testCaller + " is not authorized to perform: sts:AssumeRole on resource: " + testRole + " because no role trust policy allows the sts:AssumeRole action",
			DeniedByTrustPolicy, "the trust policy of " + testRole + " does not allow", "trust policy allow sts:AssumeRole"},
		{"Unknown", "User: " + testCaller + " is not authorized to perform: sts:AssumeRole on resource: " + testRole,
			"", "lacks sts:AssumeRole on " + testRole + ", or the role's trust policy references a wrong role ARN", "verify both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := assumeRoleError(testRole, opErr("STS", "AssumeRole", &smithy.GenericAPIError{Code: "AccessDenied", Message: tc.msg}))
			var d *AssumeRoleDeniedError
			if !errors.As(err, &d) {
				t.Fatalf("assumeRoleError = %T %v", err, err)
			}
			if d.DeniedBy != tc.deniedBy || d.Caller != testCaller || !strings.Contains(d.Cause(), tc.cause) || !strings.Contains(d.Fix(), tc.fix) {
				t.Errorf("got DeniedBy %q, Caller %q, cause %q, fix %q", d.DeniedBy, d.Caller, d.Cause(), d.Fix())
			}
		})
	}
	other := assumeRoleError(testRole, opErr("STS", "AssumeRole", &smithy.GenericAPIError{Code: "ExpiredToken", Message: "expired"}))
	if is[*AssumeRoleDeniedError](other) || !strings.Contains(other.Error(), "ExpiredToken") {
		t.Errorf("assumeRoleError(ExpiredToken) = %v, want a plain wrapped error", other)
	}
}

func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&smithyhttp.RequestSendError{Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}, true},
		{&lmtypes.RateLimitExceededException{Message: aws.String("slow down")}, true},
		{&smithy.GenericAPIError{Code: "ThrottlingException"}, true},
		{&lmtypes.ServerInternalException{Message: aws.String("oops")}, true},
		{context.DeadlineExceeded, true},
		{context.Canceled, false},
		{&lmtypes.AccessDeniedException{Message: aws.String("no")}, false},
		{&lmtypes.ResourceNotFoundException{Message: aws.String("gone")}, false},
		{nil, false},
	} {
		if got := transient(opErr("License Manager", "ExtendLicenseConsumption", tc.err)); tc.err != nil && got != tc.want {
			t.Errorf("transient(%T) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if transient(nil) {
		t.Errorf("transient(nil) = true")
	}
	if !transient(fmt.Errorf("wrapped: %w", &smithyhttp.RequestSendError{Err: errors.New("EOF")})) {
		t.Errorf("transient(wrapped RequestSendError) = false")
	}
}
