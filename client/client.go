package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Client makes a product's license calls in one of the three modes. It is safe for
// concurrent use; its zero value is not usable: make one with New.
type Client struct {
	cfg   Config
	lm    *lm.Client // license calls: the product's identity, or the role's session
	sts   *sts.Client
	role  *roleProvider // ModeAssumeRole only
	creds aws.CredentialsProvider
	clock Clock
	log   *slog.Logger
}

// New checks cfg and returns a Client. It calls nothing: an invalid role ARN is refused
// here with an *InvalidRoleARNError, and the role is assumed on the first license call.
func New(cfg Config) (*Client, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, clock: clockOr(cfg.Clock), log: cfg.Logger, creds: cfg.AWS.Credentials}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.sts = sts.NewFromConfig(cfg.AWS)
	lmCfg := cfg.AWS.Copy()
	if cfg.mode() == ModeAssumeRole {
		name := cfg.RoleSessionName
		if name == "" {
			name = "licensed-product"
		}
		c.role = &roleProvider{sts: c.sts, roleARN: cfg.RoleARN, session: name, externalID: cfg.ExternalID}
		c.creds = aws.NewCredentialsCache(c.role, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = 5 * time.Minute })
		lmCfg.Credentials = c.creds
	}
	c.lm = lm.NewFromConfig(lmCfg)
	return c, nil
}

// Mode returns the client's mode.
func (c *Client) Mode() Mode { return c.cfg.mode() }

// roleProvider assumes the billing account's role; its errors are typed.
type roleProvider struct {
	sts                          *sts.Client
	roleARN, session, externalID string
}

// Retrieve assumes the role and returns the session's credentials, or an
// *AssumeRoleDeniedError when STS answers AccessDenied.
func (p *roleProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	in := &sts.AssumeRoleInput{RoleArn: aws.String(p.roleARN), RoleSessionName: aws.String(p.session)}
	if p.externalID != "" {
		in.ExternalId = aws.String(p.externalID)
	}
	out, err := p.sts.AssumeRole(ctx, in)
	if err != nil {
		return aws.Credentials{}, assumeRoleError(p.roleARN, err)
	}
	cr := out.Credentials
	return aws.Credentials{AccessKeyID: aws.ToString(cr.AccessKeyId), SecretAccessKey: aws.ToString(cr.SecretAccessKey),
		SessionToken: aws.ToString(cr.SessionToken), CanExpire: true, Expires: aws.ToTime(cr.Expiration), Source: "AssumeRole " + p.roleARN}, nil
}

// assumeRoleError types an AssumeRole failure: AccessDenied is an *AssumeRoleDeniedError.
func assumeRoleError(roleARN string, err error) error {
	if code, msg := apiError(err); code == "AccessDenied" {
		return &AssumeRoleDeniedError{RoleARN: roleARN, Caller: callerIn(msg), DeniedBy: deniedBy(msg), Err: err}
	}
	return fmt.Errorf("client: assume role %s: %w", roleARN, err)
}

// LicenseEntitlement is an entitlement as a license defines it: a counted unit with its
// MaxCount, or a feature (Unit "None") with its Value.
type LicenseEntitlement struct {
	Name     string
	Unit     string
	MaxCount int64
	Value    string
}

// Product is a license the caller received, one entry of "specific checkout" mode's list.
type Product struct {
	Name                 string // the license's ProductName
	SKU                  string
	KeyFingerprint       string // the issuer's, for CheckoutLicense
	IssuerName           string
	LicenseARN           string
	LicenseName          string
	LicenseStatus        string // AVAILABLE, SUSPENDED, …
	ReceivedStatus       string // the grant's: ACTIVE, PENDING_ACCEPT, DISABLED, …
	ReceivedStatusReason string
	Begin, End           time.Time // the contract's validity; End is zero when open-ended
	Entitlements         []LicenseEntitlement
}

// Usable reports whether the product can be checked out as far as the list shows: the
// license is AVAILABLE and its grant ACTIVE.
func (p Product) Usable() bool {
	return p.LicenseStatus == string(lmtypes.LicenseStatusAvailable) && (p.ReceivedStatus == "" || p.ReceivedStatus == string(lmtypes.ReceivedStatusActive))
}

// Products lists the licenses the caller received (ListReceivedLicenses), for a product's
// "specific checkout" mode: show them, let the user choose one, and pass it to
// CheckoutProduct. A license issued by the caller's own account is not listed. It needs
// only license-manager:ListReceivedLicenses; without it the error is a
// *ProductListDeniedError.
func (c *Client) Products(ctx context.Context) ([]Product, error) {
	return c.products(ctx, nil)
}

func (c *Client) products(ctx context.Context, filters []lmtypes.Filter) ([]Product, error) {
	var out []Product
	in := &lm.ListReceivedLicensesInput{Filters: filters, MaxResults: aws.Int32(100)}
	for {
		page, err := c.lm.ListReceivedLicenses(ctx, in)
		if err != nil {
			return nil, c.mapError("ListReceivedLicenses", "", "", err)
		}
		for _, l := range page.Licenses {
			out = append(out, productOf(l))
		}
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

func productOf(l lmtypes.GrantedLicense) Product {
	p := Product{Name: aws.ToString(l.ProductName), SKU: aws.ToString(l.ProductSKU), LicenseARN: aws.ToString(l.LicenseArn),
		LicenseName: aws.ToString(l.LicenseName), LicenseStatus: string(l.Status)}
	if l.Issuer != nil {
		p.KeyFingerprint, p.IssuerName = aws.ToString(l.Issuer.KeyFingerprint), aws.ToString(l.Issuer.Name)
	}
	if m := l.ReceivedMetadata; m != nil {
		p.ReceivedStatus, p.ReceivedStatusReason = string(m.ReceivedStatus), aws.ToString(m.ReceivedStatusReason)
	}
	if v := l.Validity; v != nil {
		p.Begin, p.End = parseTime(v.Begin), parseTime(v.End)
	}
	p.Entitlements = licenseEntitlements(l.Entitlements)
	return p
}

func licenseEntitlements(es []lmtypes.Entitlement) []LicenseEntitlement {
	var out []LicenseEntitlement
	for _, e := range es {
		out = append(out, LicenseEntitlement{Name: aws.ToString(e.Name), Unit: string(e.Unit), MaxCount: aws.ToInt64(e.MaxCount), Value: aws.ToString(e.Value)})
	}
	return out
}

func parseTime(s *string) time.Time {
	t, err := time.Parse(time.RFC3339, aws.ToString(s))
	if err != nil {
		return time.Time{}
	}
	return t
}

// Usage is one counted entitlement's use, as GetLicenseUsage reports it.
type Usage struct {
	Name     string
	Unit     string
	Consumed int64
	Max      int64
}

// Available returns the units left: Max minus Consumed, at least zero.
func (u Usage) Available() int64 { return max(u.Max-u.Consumed, 0) }

// Unavailable is a part of a Status that could not be read: the action that failed, what
// the product's user does without it, and the error.
type Unavailable struct {
	Action string // e.g. license-manager:GetLicense
	Lost   string // e.g. "product name and contract expiry"
	Err    error
}

// Status is what a product's license status area shows. Parts the caller may not read
// (missing optional permissions) are left empty and listed in Unavailable.
type Status struct {
	State       State // the lease's; zero for Client.LicenseStatus
	LicenseARN  string
	LicenseName string
	ProductName string
	ProductSKU  string
	IssuerName  string
	// Begin and End are the contract's validity (GetLicense); End is zero when the license
	// has no end or could not be read.
	Begin, End time.Time
	// Expiration is the lease's current checkout's expiry (Lease.Status only).
	Expiration time.Time
	// Entitlements are the consumed and available units (GetLicenseUsage).
	Entitlements []Usage
	Unavailable  []Unavailable
}

// What the product's user loses without each optional permission.
const (
	lostGetLicense      = "product name and contract expiry in the status area"
	lostGetLicenseUsage = "consumed and available entitlement counts"
	lostListReceived    = "the list of products in specific checkout mode"
	lostExtendLicense   = "extensions: the lease renews with a new checkout before expiry instead"
	actionGetLicense    = "license-manager:GetLicense"
	actionGetUsage      = "license-manager:GetLicenseUsage"
	actionListReceived  = "license-manager:ListReceivedLicenses"
	actionExtendLicense = "license-manager:ExtendLicenseConsumption"
)

// LicenseStatus reads a license's details (GetLicense) and usage (GetLicenseUsage) for a
// status area. It never fails: what cannot be read — a missing optional permission, an
// unreachable server — is listed in Status.Unavailable.
func (c *Client) LicenseStatus(ctx context.Context, licenseARN string) Status {
	st := Status{LicenseARN: licenseARN}
	if l, err := c.lm.GetLicense(ctx, &lm.GetLicenseInput{LicenseArn: aws.String(licenseARN)}); err != nil {
		st.Unavailable = append(st.Unavailable, Unavailable{Action: actionGetLicense, Lost: lostGetLicense, Err: c.mapError("GetLicense", "", "", err)})
	} else if lic := l.License; lic != nil {
		st.LicenseName, st.ProductName, st.ProductSKU = aws.ToString(lic.LicenseName), aws.ToString(lic.ProductName), aws.ToString(lic.ProductSKU)
		if lic.Issuer != nil {
			st.IssuerName = aws.ToString(lic.Issuer.Name)
		}
		if v := lic.Validity; v != nil {
			st.Begin, st.End = parseTime(v.Begin), parseTime(v.End)
		}
	}
	if u, err := c.lm.GetLicenseUsage(ctx, &lm.GetLicenseUsageInput{LicenseArn: aws.String(licenseARN)}); err != nil {
		st.Unavailable = append(st.Unavailable, Unavailable{Action: actionGetUsage, Lost: lostGetLicenseUsage, Err: c.mapError("GetLicenseUsage", "", "", err)})
	} else if u.LicenseUsage != nil {
		for _, e := range u.LicenseUsage.EntitlementUsages {
			consumed, _ := strconv.ParseInt(aws.ToString(e.ConsumedValue), 10, 64)
			limit, _ := strconv.ParseInt(aws.ToString(e.MaxCount), 10, 64)
			st.Entitlements = append(st.Entitlements, Usage{Name: aws.ToString(e.Name), Unit: string(e.Unit), Consumed: consumed, Max: limit})
		}
	}
	return st
}

// grantState looks for a received license of sku (and fingerprint) whose grant is not
// active, to explain a failed checkout; it returns nil when there is none or the list
// cannot be read.
func (c *Client) grantState(ctx context.Context, sku, fingerprint string, cause error) error {
	ps, err := c.products(ctx, []lmtypes.Filter{{Name: aws.String("ProductSKU"), Values: []string{sku}}})
	if err != nil {
		return nil
	}
	for _, p := range ps {
		if p.KeyFingerprint != fingerprint || p.ReceivedStatus == "" || p.ReceivedStatus == string(lmtypes.ReceivedStatusActive) {
			continue
		}
		return &GrantNotActiveError{ProductSKU: sku, LicenseARN: p.LicenseARN, Status: p.ReceivedStatus, Err: cause}
	}
	return nil
}

// explainCheckout refines a checkout's typed error with what ListReceivedLicenses shows,
// where that is allowed: a license that did not reach the account, or gave nothing, may be
// held back by a grant that is not active.
func (c *Client) explainCheckout(ctx context.Context, sku, fingerprint string, err error) error {
	var nf *LicenseNotFoundError
	var ne *NoEntitlementsError
	if errors.As(err, &nf) || (errors.As(err, &ne) && !ne.InUse()) {
		if g := c.grantState(ctx, sku, fingerprint, errors.Unwrap(err)); g != nil {
			return g
		}
	}
	return err
}
