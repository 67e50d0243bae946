package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Diagnosis is implemented by the errors that stand for a row of the cross-account
// licensing guide's troubleshooting table. Cause says what is wrong and Fix what to change,
// in words a product can show its user; Error says both.
type Diagnosis interface {
	error
	Cause() string
	Fix() string
}

// DeniedBy names the kind of policy that denied a request, as the server's message says
// ("… because no role trust policy allows …"). It is empty when the message does not say.
type DeniedBy string

// The kinds of policy a denial may name.
const (
	DeniedByIdentityPolicy DeniedBy = "identity-based policy"
	DeniedByTrustPolicy    DeniedBy = "role trust policy"
	DeniedBySCP            DeniedBy = "service control policy"
	DeniedByBoundary       DeniedBy = "permissions boundary"
	DeniedBySessionPolicy  DeniedBy = "session policy"
)

// deniedBy reads which kind of policy denied a request from AWS's denial message.
func deniedBy(msg string) DeniedBy {
	for _, d := range []DeniedBy{DeniedByTrustPolicy, DeniedBySCP, DeniedByBoundary, DeniedBySessionPolicy, DeniedByIdentityPolicy} {
		if strings.Contains(msg, " no "+string(d)+" allows") || strings.Contains(msg, "deny in a "+string(d)) || strings.Contains(msg, "deny in an "+string(d)) {
			return d
		}
	}
	return ""
}

var callerPattern = regexp.MustCompile(`User: (\S+) is not authorized`)

// callerIn returns the caller ARN an AWS denial message names, or "".
func callerIn(msg string) string {
	if m := callerPattern.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return ""
}

// format is the shape of every Diagnosis's message.
func format(what, cause, fix string, err error) string {
	s := "client: " + what + ": " + cause + "; to fix, " + fix
	if err != nil {
		if code, msg := apiError(err); code != "" {
			s += " (" + code + ": " + msg + ")"
		} else {
			s += " (" + err.Error() + ")"
		}
	}
	return s
}

// InvalidRoleARNError reports a role ARN that is not arn:aws:iam::<12-digit account>:role/<name>
// (troubleshooting: "Save is disabled in the configure panel"). Nothing was called.
type InvalidRoleARNError struct {
	ARN    string
	Reason string // what is wrong with it
}

// Error returns the message: the ARN, what is wrong and the format wanted.
func (e *InvalidRoleARNError) Error() string {
	return format(fmt.Sprintf("invalid role ARN %q", e.ARN), e.Cause(), e.Fix(), nil)
}

// Cause says what is wrong with the ARN.
func (e *InvalidRoleARNError) Cause() string { return e.Reason }

// Fix says the format wanted.
func (e *InvalidRoleARNError) Fix() string {
	return "give the billing account role's full ARN, arn:aws:iam::<12-digit account ID>:role/<role name>"
}

// AssumeRoleDeniedError reports sts:AssumeRole answering AccessDenied (troubleshooting:
// "AccessDenied when assuming the billing account role"): the deployment account's policy
// does not allow sts:AssumeRole on the role, or the role's trust policy does not name the
// product's role. DeniedBy says which when the server's message does.
type AssumeRoleDeniedError struct {
	RoleARN  string
	Caller   string // the product's identity, when the message names it
	DeniedBy DeniedBy
	Err      error
}

// Error returns the message with the likely cause and the fix.
func (e *AssumeRoleDeniedError) Error() string {
	return format("assuming "+e.RoleARN+" was denied", e.Cause(), e.Fix(), e.Err)
}

// Unwrap returns the STS error.
func (e *AssumeRoleDeniedError) Unwrap() error { return e.Err }

// Cause says which policy denied the role assumption, or both candidates.
func (e *AssumeRoleDeniedError) Cause() string {
	who := "the product's role"
	if e.Caller != "" {
		who += " (" + e.Caller + ")"
	}
	switch e.DeniedBy {
	case DeniedByIdentityPolicy:
		return "the deployment account's policy of " + who + " does not allow sts:AssumeRole on " + e.RoleARN
	case DeniedByTrustPolicy:
		return "the trust policy of " + e.RoleARN + " does not allow " + who + " to assume it (it names another role ARN, or none)"
	case DeniedBySCP:
		return "a service control policy of the organization denies sts:AssumeRole to " + who
	case DeniedByBoundary, DeniedBySessionPolicy:
		return "a " + string(e.DeniedBy) + " of " + who + " does not allow sts:AssumeRole"
	}
	return "the deployment account's policy of " + who + " lacks sts:AssumeRole on " + e.RoleARN + ", or the role's trust policy references a wrong role ARN"
}

// Fix says which policy to change.
func (e *AssumeRoleDeniedError) Fix() string {
	switch e.DeniedBy {
	case DeniedByIdentityPolicy:
		return `add a statement {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "` + e.RoleARN + `"} to the product's role in the deployment account`
	case DeniedByTrustPolicy:
		return `make the role's trust policy allow sts:AssumeRole to {"AWS": "<the product's role ARN>"} in the billing account`
	case DeniedBySCP:
		return "ask the organization's administrator to allow sts:AssumeRole in the service control policies"
	}
	return "verify both the deployment account policy (sts:AssumeRole on " + e.RoleARN + ") and the trust policy of " + e.RoleARN + " (it must name the product's role)"
}

// PermissionDeniedError reports AccessDeniedException from CheckoutLicense, CheckInLicense
// or ExtendLicenseConsumption (troubleshooting: "AccessDenied when checking out a license",
// and "Role ARN accepted but checkout still fails with AccessDenied" in assume-role mode):
// the role that makes license calls lacks the permission.
type PermissionDeniedError struct {
	Action   string // e.g. license-manager:CheckoutLicense
	Mode     Mode
	RoleARN  string // the billing account's role in ModeAssumeRole
	Caller   string // the identity denied, when the message names it
	DeniedBy DeniedBy
	Err      error
}

// Error returns the message with the cause and the fix.
func (e *PermissionDeniedError) Error() string {
	return format(e.Action+" was denied", e.Cause(), e.Fix(), e.Err)
}

// Unwrap returns the License Manager error.
func (e *PermissionDeniedError) Unwrap() error { return e.Err }

func (e *PermissionDeniedError) role() string {
	if e.Mode == ModeAssumeRole {
		return "the billing account role " + e.RoleARN
	}
	if e.Caller != "" {
		return "the product's role (" + e.Caller + ")"
	}
	return "the product's role"
}

// Cause names the role that lacks the permission, or the policy that denies it.
func (e *PermissionDeniedError) Cause() string {
	switch e.DeniedBy {
	case DeniedBySCP:
		return "a service control policy of the organization denies " + e.Action + " to " + e.role()
	case DeniedByBoundary, DeniedBySessionPolicy:
		return "a " + string(e.DeniedBy) + " of " + e.role() + " does not allow " + e.Action
	}
	if strings.Contains(errorMessage(e.Err), "explicit deny") {
		return "a policy of " + e.role() + " explicitly denies " + e.Action
	}
	return e.role() + " lacks " + e.Action
}

// Fix says where to add the permission.
func (e *PermissionDeniedError) Fix() string {
	switch e.DeniedBy {
	case DeniedBySCP:
		return "ask the organization's administrator to allow " + e.Action + " in the service control policies"
	}
	if e.Mode == ModeAssumeRole {
		return `add "` + e.Action + `" with "Resource": "*" to the permissions policy of ` + e.RoleARN
	}
	return `add "` + e.Action + `" with "Resource": "*" to the policy of the product's role`
}

// ScopedPolicyError reports AuthorizationException from CheckoutLicense, CheckInLicense or
// ExtendLicenseConsumption (troubleshooting: "AuthorizationException when checking out, even
// though IAM policy references a specific license ARN"): these actions support no
// resource-level permissions, so a statement naming a license ARN grants nothing.
type ScopedPolicyError struct {
	Action string
	Err    error
}

// Error returns the message with the cause and the fix.
func (e *ScopedPolicyError) Error() string {
	return format(e.Action+" was not authorized", e.Cause(), e.Fix(), e.Err)
}

// Unwrap returns the License Manager error.
func (e *ScopedPolicyError) Unwrap() error { return e.Err }

// Cause explains why a policy naming the license grants nothing.
func (e *ScopedPolicyError) Cause() string {
	return "the IAM policy allows " + e.Action + " only on named resources (a license ARN), but License Manager supports no resource-level permissions for CheckoutLicense, CheckInLicense or ExtendLicenseConsumption, so the statement grants nothing"
}

// Fix says to use "Resource": "*".
func (e *ScopedPolicyError) Fix() string {
	return `change "Resource" to "*" in the statement that allows ` + e.Action + ` (scoping it to a license ARN always fails, however the ARN is written)`
}

// ProductListDeniedError reports ListReceivedLicenses being denied (troubleshooting: "No
// products shown in Specific checkout mode"). Automatic checkout by SKU still works.
type ProductListDeniedError struct {
	Mode    Mode
	RoleARN string
	Err     error
}

// Error returns the message with the cause and the fix.
func (e *ProductListDeniedError) Error() string {
	return format("the products cannot be listed", e.Cause(), e.Fix(), e.Err)
}

// Unwrap returns the License Manager error.
func (e *ProductListDeniedError) Unwrap() error { return e.Err }

// Cause names the role that lacks license-manager:ListReceivedLicenses.
func (e *ProductListDeniedError) Cause() string {
	if e.Mode == ModeAssumeRole {
		return "the billing account role " + e.RoleARN + " lacks license-manager:ListReceivedLicenses, so specific checkout shows no products (checkout by product SKU still works)"
	}
	return "the product's role lacks license-manager:ListReceivedLicenses, so specific checkout shows no products (checkout by product SKU still works)"
}

// Fix says where to add the permission.
func (e *ProductListDeniedError) Fix() string {
	if e.Mode == ModeAssumeRole {
		return `add "license-manager:ListReceivedLicenses" with "Resource": "*" to the permissions policy of ` + e.RoleARN
	}
	return `add "license-manager:ListReceivedLicenses" with "Resource": "*" to the policy of the product's role`
}

// GrantNotActiveError reports a license that reached the account through a grant that is
// not active (troubleshooting: "Grant not visible in the deployment account"): not yet
// accepted, accepted but not activated, or made under a grant that is not active.
type GrantNotActiveError struct {
	ProductSKU string
	LicenseARN string // when known
	GrantARN   string // the grant to act on, when known
	Status     string // PENDING_ACCEPT, DISABLED, …
	Err        error
}

// Error returns the message with the cause and the fix.
func (e *GrantNotActiveError) Error() string {
	return format("the license for "+e.ProductSKU+" cannot be used", e.Cause(), e.Fix(), e.Err)
}

// Unwrap returns the License Manager error.
func (e *GrantNotActiveError) Unwrap() error { return e.Err }

// Cause says what state the grant is in.
func (e *GrantNotActiveError) Cause() string {
	g := "the grant"
	if e.GrantARN != "" {
		g += " " + e.GrantARN
	}
	switch e.Status {
	case "PENDING_ACCEPT":
		return g + " of the license to this account has not been accepted yet"
	case "DISABLED":
		return g + " was accepted but is not active"
	case "":
		return g + " of the license is not active"
	}
	return g + " is " + e.Status
}

// Fix says how to accept and activate the grant.
func (e *GrantNotActiveError) Fix() string {
	switch e.Status {
	case "PENDING_ACCEPT":
		return "accept the grant in this account's License Manager console (Received grants, Accept and activate), or with aws license-manager accept-grant and create-grant-version --status ACTIVE; check for service control policies if it does not appear"
	case "DISABLED":
		return "activate the grant (License Manager console, Received grants, Activate; or aws license-manager create-grant-version --status ACTIVE) in the account that accepted it"
	}
	return "have the grant's owner activate it, and accept and activate it in this account"
}

// LicenseNotFoundError reports CheckoutLicense finding no license for the product SKU and key
// fingerprint in the account (troubleshooting: "Grant not visible in the deployment
// account"): it was not granted here, the grant is hidden by a service control policy, or
// the SKU, fingerprint or role names another account.
type LicenseNotFoundError struct {
	ProductSKU     string
	KeyFingerprint string
	Mode           Mode
	RoleARN        string
	Err            error
}

// Error returns the message with the cause and the fix.
func (e *LicenseNotFoundError) Error() string {
	return format("no license for "+e.ProductSKU, e.Cause(), e.Fix(), e.Err)
}

// Unwrap returns the License Manager error.
func (e *LicenseNotFoundError) Unwrap() error { return e.Err }

// Cause lists why no license is visible, for the mode.
func (e *LicenseNotFoundError) Cause() string {
	base := "no license for product SKU " + e.ProductSKU + " from issuer " + e.KeyFingerprint + " has reached "
	switch e.Mode {
	case ModeAssumeRole:
		return base + "the account of " + e.RoleARN + ": the role is in another account than the license, or the SKU or key fingerprint is wrong"
	case ModeGrants:
		return base + "this account: the grant was not created or not accepted, an AWS Organizations SCP hides it, or the SKU or key fingerprint is wrong"
	}
	return base + "this account: the license is held by another account (use assume-role or grants mode), or the SKU or key fingerprint is wrong"
}

// Fix says what to check.
func (e *LicenseNotFoundError) Fix() string {
	switch e.Mode {
	case ModeAssumeRole:
		return "give the ARN of the role in the billing account that holds the license, and check the SKU and fingerprint with aws license-manager list-received-licenses as that role"
	case ModeGrants:
		return "have the billing account grant the license to this account, accept the grant here (Received grants), and check for SCPs if it does not appear"
	}
	return "check the SKU and fingerprint with aws license-manager list-received-licenses, or configure assume-role or grants mode"
}

// NoEntitlementsError reports NoEntitlementsAllowedException: none of the entitlements asked
// for could be given, usually because every unit is in use by other copies of the product.
type NoEntitlementsError struct {
	ProductSKU string
	Err        error
}

// Error returns the message with the cause and the fix.
func (e *NoEntitlementsError) Error() string {
	return format("no entitlement of "+e.ProductSKU+" could be checked out", e.Cause(), e.Fix(), e.Err)
}

// Unwrap returns the License Manager error.
func (e *NoEntitlementsError) Unwrap() error { return e.Err }

// InUse reports whether the server said the units are all in use (rather than, say, the
// license having expired).
func (e *NoEntitlementsError) InUse() bool { return strings.Contains(errorMessage(e.Err), " in use") }

// Cause says whether all units are in use.
func (e *NoEntitlementsError) Cause() string {
	if e.InUse() {
		return "all units of the entitlements asked for are in use by other checkouts"
	}
	return "no license for the product can give the entitlements asked for (the server's message says why for each)"
}

// Fix says how units come back.
func (e *NoEntitlementsError) Fix() string {
	if e.InUse() {
		return "stop another copy of the product (its units return when it checks in, or when its checkout expires) or buy more units, then try again"
	}
	return "check the entitlement names and the license's status and validity with aws license-manager get-license"
}

// apiError returns the AWS error code and message of err, or "" when err is not an API error.
func apiError(err error) (code, msg string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "", ""
}

// errorMessage returns the API error's message, or err's text.
func errorMessage(err error) string {
	if err == nil {
		return ""
	}
	if _, msg := apiError(err); msg != "" {
		return msg
	}
	return err.Error()
}

// transient reports whether err is worth retrying later: the server could not be reached,
// throttled the call or failed inside (5xx).
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var (
		send *smithyhttp.RequestSendError
		ne   net.Error
		re   *awshttp.ResponseError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &send), errors.As(err, &ne):
		return true
	case errors.As(err, &re) && (re.HTTPStatusCode() >= 500 || re.HTTPStatusCode() == 429):
		return true
	}
	switch code, _ := apiError(err); code {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded", "RateLimitExceededException",
		"ServerInternalException", "InternalFailure", "InternalError", "ServiceUnavailable", "ServiceUnavailableException":
		return true
	}
	return false
}

var grantStatePattern = regexp.MustCompile(`grant (arn:\S+?) (?:is|was made under grant (arn:\S+?), which is) (PENDING_ACCEPT|DISABLED|REJECTED|DELETED|FAILED_WORKFLOW|PENDING_DELETE|WORKFLOW_COMPLETED)`)

// grantError is the GrantNotActiveError of a grantStatePattern match: the grant named, or
// the grant above it that is not active.
func grantError(sku string, m []string, err error) *GrantNotActiveError {
	g := &GrantNotActiveError{ProductSKU: sku, GrantARN: m[1], Status: m[3], Err: err}
	if m[2] != "" {
		g.GrantARN = m[2]
	}
	return g
}

// mapError turns an AWS error of a license operation into the package's typed errors where
// a row of the troubleshooting table applies, and returns other errors wrapped with the
// operation.
func (c *Client) mapError(op, sku, fingerprint string, err error) error {
	if err == nil {
		return nil
	}
	var d Diagnosis
	if errors.As(err, &d) {
		return d // an AssumeRoleDeniedError from the credentials, or already mapped
	}
	code, msg := apiError(err)
	action := "license-manager:" + op
	switch code {
	case "AccessDeniedException", "AccessDenied":
		if !strings.Contains(msg, "is not authorized to perform") {
			// Not IAM: the license can no longer be used (an extension refused because
			// the grant was deactivated, say).
			if m := grantStatePattern.FindStringSubmatch(msg); m != nil {
				return grantError(sku, m, err)
			}
			break
		}
		switch op {
		case "CheckoutLicense", "CheckInLicense", "ExtendLicenseConsumption":
			return &PermissionDeniedError{Action: action, Mode: c.cfg.mode(), RoleARN: c.cfg.RoleARN, Caller: callerIn(msg), DeniedBy: deniedBy(msg), Err: err}
		case "ListReceivedLicenses":
			return &ProductListDeniedError{Mode: c.cfg.mode(), RoleARN: c.cfg.RoleARN, Err: err}
		}
	case "AuthorizationException":
		return &ScopedPolicyError{Action: action, Err: err}
	case "NoEntitlementsAllowedException":
		if m := grantStatePattern.FindStringSubmatch(msg); m != nil {
			return grantError(sku, m, err)
		}
		return &NoEntitlementsError{ProductSKU: sku, Err: err}
	case "ResourceNotFoundException":
		if op == "CheckoutLicense" {
			return &LicenseNotFoundError{ProductSKU: sku, KeyFingerprint: fingerprint, Mode: c.cfg.mode(), RoleARN: c.cfg.RoleARN, Err: err}
		}
	}
	return fmt.Errorf("client: %s: %w", op, err)
}
