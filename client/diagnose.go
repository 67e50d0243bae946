package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/uuid"
)

// CheckStatus is the outcome of one check of Diagnose.
type CheckStatus string

// The outcomes of a check. Only CheckFail means checkout does not work.
const (
	CheckOK   CheckStatus = "ok"
	CheckWarn CheckStatus = "warn" // an optional part is missing; checkout works without it
	CheckFail CheckStatus = "fail"
	CheckSkip CheckStatus = "skip" // not applicable, or not possible after an earlier failure
)

// The names of Diagnose's checks, in the order it runs them.
const (
	CheckCredentials     = "credentials"
	CheckCallerIdentity  = "caller-identity"
	CheckAssumeRole      = "assume-role"
	CheckLicenseVisible  = "license-visible"
	CheckCheckout        = "checkout"
	CheckSignedToken     = "signed-token"
	CheckExtend          = "extend"
	CheckCheckIn         = "check-in"
	CheckGetLicense      = "get-license"
	CheckGetLicenseUsage = "get-license-usage"
	CheckListReceived    = "list-received-licenses"
)

// Check is one line of a Report: what was checked, the outcome, and for a failure or a
// warning its cause and fix.
type Check struct {
	Name   string      `json:"name"`
	Title  string      `json:"title"`
	Status CheckStatus `json:"status"`
	Detail string      `json:"detail"`
	Cause  string      `json:"cause,omitempty"`
	Fix    string      `json:"fix,omitempty"`
	Error  string      `json:"error,omitempty"` // the server's error, CODE: message, or the error's text
	Err    error       `json:"-"`
}

// Report is the checklist Diagnose returns.
type Report struct {
	Mode           Mode    `json:"mode"`
	RoleARN        string  `json:"roleArn,omitempty"`
	ProductSKU     string  `json:"productSku"`
	KeyFingerprint string  `json:"keyFingerprint"`
	Checks         []Check `json:"checks"`
}

// OK reports whether no check failed: the product can check out, and check in.
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if c.Status == CheckFail {
			return false
		}
	}
	return true
}

// Check returns the check of the given name, or nil.
func (r *Report) Check(name string) *Check {
	for i := range r.Checks {
		if r.Checks[i].Name == name {
			return &r.Checks[i]
		}
	}
	return nil
}

// DiagnoseOptions adjust Diagnose.
type DiagnoseOptions struct {
	// SkipCheckout leaves out the real checkout (and the checks that need it); the report
	// then cannot say whether checkout works.
	SkipCheckout bool
}

var titles = map[string]string{
	CheckCredentials:     "credentials found",
	CheckCallerIdentity:  "who am I (sts get-caller-identity)",
	CheckAssumeRole:      "assume the billing account role",
	CheckLicenseVisible:  "license visible (list-received-licenses)",
	CheckCheckout:        "checkout (a real one, checked in at once)",
	CheckSignedToken:     "signed token verifies offline",
	CheckExtend:          "extend (ExtendLicenseConsumption, dry run)",
	CheckCheckIn:         "check in",
	CheckGetLicense:      "optional: license-manager:GetLicense",
	CheckGetLicenseUsage: "optional: license-manager:GetLicenseUsage",
	CheckListReceived:    "optional: license-manager:ListReceivedLicenses",
}

// Diagnose runs the cross-account licensing guide's "Verifying the setup" steps for the
// client's configuration and returns a checklist: credentials found; who the caller is;
// the role assumed (assume-role mode); the license visible in ListReceivedLicenses with an
// active grant; a checkout; its signed token (with Config.Verifier); extending, as a dry
// run; checking in; and the optional permissions GetLicense, GetLicenseUsage and
// ListReceivedLicenses with what the product's user loses without each.
//
// The checkout is real: it takes Config.Entitlements (or one unit of the license's first
// counted entitlement) for a moment, and checks them in at once; if checking in is not
// allowed, the units return when the checkout expires. CheckoutLicense has no dry run.
func (c *Client) Diagnose(ctx context.Context, opts DiagnoseOptions) *Report {
	r := &Report{Mode: c.cfg.mode(), RoleARN: c.cfg.RoleARN, ProductSKU: c.cfg.ProductSKU, KeyFingerprint: c.cfg.KeyFingerprint}
	add := func(name string, st CheckStatus, detail string, err error) {
		ch := Check{Name: name, Title: titles[name], Status: st, Detail: detail, Err: err}
		if err != nil {
			ch.Error = err.Error()
			var d Diagnosis
			if errors.As(err, &d) {
				ch.Cause, ch.Fix = d.Cause(), d.Fix()
				if code, msg := apiError(err); code != "" {
					ch.Error = code + ": " + msg // the cause and fix are already said
				}
			}
		}
		r.Checks = append(r.Checks, ch)
	}
	fail := func(name, detail, cause, fix string, err error) {
		add(name, CheckFail, detail, err)
		ch := &r.Checks[len(r.Checks)-1]
		if ch.Cause == "" {
			ch.Cause, ch.Fix = cause, fix
		}
	}
	skipRest := func(from int, why string) {
		all := []string{CheckCredentials, CheckCallerIdentity, CheckAssumeRole, CheckLicenseVisible, CheckCheckout, CheckSignedToken,
			CheckExtend, CheckCheckIn, CheckGetLicense, CheckGetLicenseUsage, CheckListReceived}
		for _, n := range all[from:] {
			add(n, CheckSkip, why, nil)
		}
	}

	// 1. Credentials from the environment, profile or instance.
	cr, err := c.cfg.AWS.Credentials.Retrieve(ctx)
	if err != nil {
		fail(CheckCredentials, "no AWS credentials were found", "no credentials in the environment, the shared files or the instance",
			"set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or AWS_PROFILE, or run with an instance role", err)
		skipRest(1, "needs credentials")
		return r
	}
	add(CheckCredentials, CheckOK, fmt.Sprintf("access key %s from %s", maskKey(cr.AccessKeyID), orDash(cr.Source)), nil)

	// 2. Who am I.
	id, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		cause, fix := "the credentials are not accepted", "check the access key and secret, and that the session has not expired"
		if transient(err) {
			cause, fix = "the endpoint cannot be reached", "check the endpoint URL and the network"
		}
		fail(CheckCallerIdentity, "GetCallerIdentity failed", cause, fix, err)
		skipRest(2, "needs a working identity")
		return r
	}
	add(CheckCallerIdentity, CheckOK, fmt.Sprintf("%s (account %s)", aws.ToString(id.Arn), aws.ToString(id.Account)), nil)

	// 3. Assume the billing account's role.
	if c.role == nil {
		add(CheckAssumeRole, CheckSkip, "no role in "+string(r.Mode)+" mode: license calls use the identity above", nil)
	} else {
		if _, err := c.creds.Retrieve(ctx); err != nil {
			fail(CheckAssumeRole, "sts:AssumeRole on "+c.cfg.RoleARN+" failed", "the role could not be assumed", "check the role ARN and the network", err)
			skipRest(3, "needs the role's session")
			return r
		}
		roleID, err := sts.NewFromConfig(c.cfg.AWS, func(o *sts.Options) { o.Credentials = c.creds }).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		detail := "assumed " + c.cfg.RoleARN
		if err == nil {
			detail = "session " + aws.ToString(roleID.Arn)
		}
		add(CheckAssumeRole, CheckOK, detail, nil)
	}

	// 4. The license is visible, through an active grant.
	var license *Product
	var listErr error
	switch {
	case r.ProductSKU == "" || r.KeyFingerprint == "":
		add(CheckLicenseVisible, CheckSkip, "no product SKU and key fingerprint given", nil)
	default:
		ps, err := c.products(ctx, []lmtypes.Filter{{Name: aws.String("ProductSKU"), Values: []string{r.ProductSKU}}})
		listErr = err
		for i := range ps {
			if ps[i].KeyFingerprint == r.KeyFingerprint && (license == nil || ps[i].Usable() && !license.Usable()) {
				license = &ps[i]
			}
		}
		switch {
		case err != nil:
			add(CheckLicenseVisible, CheckWarn, "cannot tell: listing received licenses is not allowed", err)
		case license == nil:
			add(CheckLicenseVisible, CheckWarn, fmt.Sprintf("no license for %s from %s in list-received-licenses (a license the account issued itself is not listed)", r.ProductSKU, r.KeyFingerprint),
				&LicenseNotFoundError{ProductSKU: r.ProductSKU, KeyFingerprint: r.KeyFingerprint, Mode: r.Mode, RoleARN: r.RoleARN})
		case license.ReceivedStatus != "" && license.ReceivedStatus != string(lmtypes.ReceivedStatusActive):
			fail(CheckLicenseVisible, fmt.Sprintf("%s (%s) is visible, its grant is %s", license.LicenseARN, license.LicenseName, license.ReceivedStatus), "", "",
				&GrantNotActiveError{ProductSKU: r.ProductSKU, LicenseARN: license.LicenseARN, Status: license.ReceivedStatus})
		case license.LicenseStatus != string(lmtypes.LicenseStatusAvailable):
			fail(CheckLicenseVisible, fmt.Sprintf("%s (%s) is %s", license.LicenseARN, license.LicenseName, license.LicenseStatus),
				"the license is "+license.LicenseStatus+", not AVAILABLE", "ask the license's issuer to make it AVAILABLE (a new license version)", nil)
		default:
			detail := fmt.Sprintf("%s (%s, %s), %s", license.LicenseARN, license.Name, license.LicenseName, license.LicenseStatus)
			if license.ReceivedStatus != "" {
				detail += ", grant " + license.ReceivedStatus
			}
			add(CheckLicenseVisible, CheckOK, detail, nil)
		}
	}

	// 5–8. A real checkout, its token, a dry-run extension and the check-in.
	licenseARN := ""
	if license != nil {
		licenseARN = license.LicenseARN
	}
	ents := c.cfg.Entitlements
	if len(ents) == 0 && license != nil {
		ents = defaultEntitlements(license.Entitlements)
	}
	switch {
	case opts.SkipCheckout:
		for _, n := range []string{CheckCheckout, CheckSignedToken, CheckExtend, CheckCheckIn} {
			add(n, CheckSkip, "skipped on request: whether checkout works is not known", nil)
		}
	case r.ProductSKU == "" || r.KeyFingerprint == "":
		fail(CheckCheckout, "nothing to check out", "no product SKU and key fingerprint given", "give the product's SKU and its issuer's key fingerprint", nil)
		skipRestOf(add, "needs a checkout", CheckSignedToken, CheckExtend, CheckCheckIn)
	case len(ents) == 0:
		fail(CheckCheckout, "nothing to check out", "no entitlement to ask for, and none could be read from the license",
			"name one, such as Name=Seats,Unit=Count,Value=1", nil)
		skipRestOf(add, "needs a checkout", CheckSignedToken, CheckExtend, CheckCheckIn)
	default:
		licenseARN = c.diagnoseCheckout(ctx, r, ents, add, fail, licenseARN)
	}

	// 9–11. Optional permissions.
	if licenseARN == "" {
		add(CheckGetLicense, CheckSkip, "no license ARN known to try it on", nil)
		add(CheckGetLicenseUsage, CheckSkip, "no license ARN known to try it on", nil)
	} else {
		st := c.LicenseStatus(ctx, licenseARN)
		gl, gu := unavailable(st, actionGetLicense), unavailable(st, actionGetUsage)
		if gl == nil {
			end := "no end"
			if !st.End.IsZero() {
				end = "ends " + st.End.UTC().Format(time.RFC3339)
			}
			add(CheckGetLicense, CheckOK, fmt.Sprintf("allowed: product %q, contract %s", st.ProductName, end), nil)
		} else {
			c.optional(add, CheckGetLicense, actionGetLicense, lostGetLicense, gl.Err)
		}
		if gu == nil {
			var parts []string
			for _, u := range st.Entitlements {
				parts = append(parts, fmt.Sprintf("%s %d of %d in use", u.Name, u.Consumed, u.Max))
			}
			add(CheckGetLicenseUsage, CheckOK, "allowed: "+orDash(strings.Join(parts, ", ")), nil)
		} else {
			c.optional(add, CheckGetLicenseUsage, actionGetUsage, lostGetLicenseUsage, gu.Err)
		}
	}
	switch {
	case r.ProductSKU == "" || r.KeyFingerprint == "":
		if _, err := c.products(ctx, nil); err != nil {
			c.optional(add, CheckListReceived, actionListReceived, lostListReceived, err)
		} else {
			add(CheckListReceived, CheckOK, "allowed: specific checkout can list products", nil)
		}
	case listErr != nil:
		c.optional(add, CheckListReceived, actionListReceived, lostListReceived, listErr)
	default:
		add(CheckListReceived, CheckOK, "allowed: specific checkout can list products", nil)
	}
	return r
}

// diagnoseCheckout checks out, verifies the token, extends as a dry run and checks in, and
// returns the license ARN checked out of (or licenseARN when the checkout failed).
func (c *Client) diagnoseCheckout(ctx context.Context, r *Report, ents []Entitlement, add func(string, CheckStatus, string, error),
	fail func(name, detail, cause, fix string, err error), licenseARN string) string {
	cc := *c
	cc.cfg.Entitlements, cc.cfg.Verifier = ents, nil
	l := &Lease{c: &cc, sku: r.ProductSKU, fingerprint: r.KeyFingerprint, ctx: ctx, clientToken: "allot-doctor-" + uuid.NewString()}
	h, err := l.checkoutOnce(ctx)
	if err != nil {
		fail(CheckCheckout, "CheckoutLicense of "+entitlementList(ents)+" failed: checkout would fail",
			"the checkout failed", "see the error below", err)
		skipRestOf(add, "needs a checkout", CheckSignedToken, CheckExtend, CheckCheckIn)
		return licenseARN
	}
	add(CheckCheckout, CheckOK, fmt.Sprintf("checked out %s of %s until %s (a real checkout, checked in below)",
		entitlementList(h.entitlements), h.licenseARN, h.expiration.UTC().Format(time.RFC3339)), nil)

	if v := c.cfg.Verifier; v == nil {
		add(CheckSignedToken, CheckSkip, "no JWKS URL given to verify it with", nil)
	} else if err := l.verify(ctx, v, h); err != nil {
		fail(CheckSignedToken, "the checkout's signed token was refused", "the token does not verify against the issuer's published keys",
			"check the JWKS URL and the key fingerprint; a product verifying tokens would refuse this license", err)
	} else {
		add(CheckSignedToken, CheckOK, "verified with the issuer's published key", nil)
	}

	if _, err := c.lm.ExtendLicenseConsumption(ctx, &lm.ExtendLicenseConsumptionInput{LicenseConsumptionToken: aws.String(h.token), DryRun: true}); err != nil {
		c.optional(add, CheckExtend, actionExtendLicense, lostExtendLicense, c.mapError("ExtendLicenseConsumption", r.ProductSKU, r.KeyFingerprint, err))
	} else {
		add(CheckExtend, CheckOK, "allowed: the product extends its checkout before it expires", nil)
	}

	if err := l.checkIn(ctx, h); err != nil {
		fail(CheckCheckIn, "CheckInLicense failed: the units return when the checkout expires, at "+h.expiration.UTC().Format(time.RFC3339),
			"the check-in failed", "see the error below", err)
	} else {
		add(CheckCheckIn, CheckOK, "checked in: the units are free again", nil)
	}
	return h.licenseARN
}

// optional adds a check for an optional permission: a warning saying what is lost.
func (c *Client) optional(add func(string, CheckStatus, string, error), name, action, lost string, err error) {
	code, _ := apiError(err)
	var d Diagnosis
	switch {
	case errors.As(err, &d):
		add(name, CheckWarn, "missing: without "+action+" the product loses "+lost, err)
	case code == "AccessDeniedException" || code == "AuthorizationException":
		who := "the product's role"
		if c.cfg.mode() == ModeAssumeRole {
			who = "the billing account role " + c.cfg.RoleARN
		}
		add(name, CheckWarn, "missing: without "+action+" the product loses "+lost, &optionalMissing{action: action, lost: lost, who: who, err: err})
	default:
		add(name, CheckWarn, "could not be checked", err)
	}
}

// optionalMissing is a missing optional permission, as a Diagnosis for the report.
type optionalMissing struct {
	action, lost, who string
	err               error
}

func (e *optionalMissing) Error() string {
	return format(e.action+" was denied", e.Cause(), e.Fix(), e.err)
}
func (e *optionalMissing) Unwrap() error { return e.err }
func (e *optionalMissing) Cause() string {
	return e.who + " lacks " + e.action + ", which is optional: checkout works without it"
}
func (e *optionalMissing) Fix() string {
	return `add "` + e.action + `" with "Resource": "*" to the policy of ` + e.who + `, if the product should show it`
}

func skipRestOf(add func(string, CheckStatus, string, error), why string, names ...string) {
	for _, n := range names {
		add(n, CheckSkip, why, nil)
	}
}

func unavailable(st Status, action string) *Unavailable {
	for i := range st.Unavailable {
		if st.Unavailable[i].Action == action {
			return &st.Unavailable[i]
		}
	}
	return nil
}

// defaultEntitlements asks for one unit of the license's first counted entitlement, or
// for its first feature when nothing is counted.
func defaultEntitlements(es []LicenseEntitlement) []Entitlement {
	for _, e := range es {
		if e.Unit != "" && e.Unit != string(lmtypes.EntitlementUnitNone) {
			return []Entitlement{{Name: e.Name, Unit: e.Unit, Value: "1"}}
		}
	}
	for _, e := range es {
		return []Entitlement{{Name: e.Name, Unit: string(lmtypes.EntitlementUnitNone)}}
	}
	return nil
}

func entitlementList(es []Entitlement) string {
	var parts []string
	for _, e := range es {
		if e.Value == "" {
			parts = append(parts, e.Name)
		} else {
			parts = append(parts, e.Name+"="+e.Value)
		}
	}
	return strings.Join(parts, ", ")
}

func maskKey(id string) string {
	if len(id) <= 8 {
		return id
	}
	return id[:4] + "…" + id[len(id)-4:]
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
