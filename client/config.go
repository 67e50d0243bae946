package client

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Mode is how a product reaches its license: the three approaches of the cross-account
// licensing guide.
type Mode string

// The modes. The zero Mode is ModeSameAccount.
const (
	// ModeSameAccount uses the product's own credentials in the account that holds the
	// license (the billing account is the deployment account).
	ModeSameAccount Mode = "same-account"
	// ModeAssumeRole assumes a role in the billing account (Config.RoleARN) for every
	// license operation; the license stays in the billing account.
	ModeAssumeRole Mode = "assume-role"
	// ModeGrants uses the product's own credentials in a deployment account that received
	// the license through an accepted, active grant. No role is involved.
	ModeGrants Mode = "grants"
)

// ParseMode returns the Mode named s: "same-account", "assume-role" or "grants".
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeSameAccount, ModeAssumeRole, ModeGrants:
		return m, nil
	}
	return "", fmt.Errorf("client: unknown mode %q: want %s, %s or %s", s, ModeSameAccount, ModeAssumeRole, ModeGrants)
}

// Entitlement is an entitlement a product asks for, or one a checkout was given: a counted
// Unit ("Count", "Bytes", …) with Value the number of units, or Unit "None" for a feature,
// where Value, if set, must be the license's value.
type Entitlement struct {
	Name  string
	Unit  string // "Count" when empty
	Value string
}

// GracePolicy says what a lease does when its checkout runs out while the license server
// cannot be reached (network errors, throttling, server errors). A refusal from the server
// (the grant was deactivated, a permission was removed) is not covered: the license is lost
// when the checkout it holds expires, whatever the policy.
type GracePolicy int

// The grace policies. The zero GracePolicy is GraceStop.
const (
	// GraceStop loses the license when the checkout expires: the product should stop.
	GraceStop GracePolicy = iota
	// GraceWarn keeps the license for as long as the server cannot be reached, with an
	// EventUnreachable after each failed attempt: the product keeps running and warns.
	GraceWarn
	// GraceContinue keeps the license for Config.GracePeriod after the checkout expires,
	// then loses it.
	GraceContinue
)

// String returns "stop", "warn" or "continue".
func (g GracePolicy) String() string {
	switch g {
	case GraceWarn:
		return "warn"
	case GraceContinue:
		return "continue"
	}
	return "stop"
}

// Config configures a Client. AWS and, for a checkout, ProductSKU, KeyFingerprint and
// Entitlements are needed; the rest have defaults.
type Config struct {
	// AWS is the SDK configuration of the product's own identity (its instance role): the
	// region, the credentials and, for Allot, BaseEndpoint. Load it with
	// config.LoadDefaultConfig. In ModeAssumeRole these credentials only call
	// sts:AssumeRole; the role's session makes the license calls.
	AWS aws.Config

	// Mode is the approach: ModeSameAccount (the default), ModeAssumeRole or ModeGrants.
	Mode Mode
	// RoleARN is the billing account's role, arn:aws:iam::<12-digit account>:role/<name>;
	// required in ModeAssumeRole and refused in the other modes.
	RoleARN string
	// RoleSessionName names the role's sessions (in the billing account's audit trail);
	// default "licensed-product".
	RoleSessionName string
	// ExternalID is sent with sts:AssumeRole when the trust policy requires one.
	ExternalID string

	// ProductSKU and KeyFingerprint say which license Checkout uses ("automatic"
	// checkout): the product's SKU and its issuer's key fingerprint,
	// aws:<account>:<issuer>:issuer-fingerprint. CheckoutProduct ("specific" checkout)
	// takes them from the product chosen instead.
	ProductSKU     string
	KeyFingerprint string
	// Entitlements are what a checkout asks for, such as one unit of "Seats".
	Entitlements []Entitlement
	// Beneficiary is sent with each checkout; needed only when the account that issued the
	// license checks out (for a customer).
	Beneficiary string
	// NodeID is sent with each checkout to name the machine (for the audit trail).
	NodeID string

	// ExtendBefore is how long before a checkout expires the lease extends it; default
	// half the checkout's lifetime (30 minutes for AWS Marketplace's 60). Each extension
	// comes up to a tenth of the interval earlier, at random, so copies started together
	// spread out.
	ExtendBefore time.Duration
	// WarnBefore is how long before expiry a failing lease sends EventAboutToExpire;
	// default a quarter of the checkout's lifetime.
	WarnBefore time.Duration
	// RetryMax caps the wait between retries of a failing extension or checkout (which
	// start at a second and double); default one minute.
	RetryMax time.Duration
	// Grace and GracePeriod choose what happens when the checkout expires while the
	// server cannot be reached; see GracePolicy. GracePeriod is used by GraceContinue.
	Grace       GracePolicy
	GracePeriod time.Duration

	// Verifier, when set, verifies each checkout's signed token offline (issuer and
	// product SKU included) before the license counts as held.
	Verifier *Verifier
	// OnEvent, when set, is told of each change of a lease: held, extended, about to
	// expire, lost, regained, closed. Calls for one lease are never concurrent; it must not
	// block for long, as the lease waits for it, and must not call Lease.Close.
	OnEvent func(Event)
	// Clock replaces the system clock, for tests of the extension timing.
	Clock Clock
	// Logger receives the lease's log; default slog.Default().
	Logger *slog.Logger
}

// roleARNPattern is the role ARN the configure panel accepts: the aws partitions, a 12-digit
// account and a role name, optionally under a path.
var (
	roleARNPattern = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:iam::(\d{12}):role/((?:[\x21-\x7e]+/)*)([\w+=,.@-]{1,64})$`)
	accountPattern = regexp.MustCompile(`^\d{12}$`)
)

// ValidateRoleARN checks that arn is a role ARN, arn:aws:iam::<12-digit account>:role/<name>,
// before any call is made (as a configure panel disables Save until it is). It returns nil
// or an *InvalidRoleARNError that says what is wrong.
func ValidateRoleARN(arn string) error {
	bad := func(reason string) error { return &InvalidRoleARNError{ARN: arn, Reason: reason} }
	switch {
	case strings.TrimSpace(arn) == "":
		return bad("it is empty")
	case arn != strings.TrimSpace(arn):
		return bad("it has spaces around it")
	case roleARNPattern.MatchString(arn):
		return nil
	}
	parts := strings.SplitN(arn, ":", 6)
	switch {
	case len(parts) < 6 || parts[0] != "arn":
		return bad("it is not an ARN (arn:partition:service:region:account:resource)")
	case parts[1] != "aws" && parts[1] != "aws-cn" && parts[1] != "aws-us-gov":
		return bad(fmt.Sprintf("partition %q is not aws, aws-cn or aws-us-gov", parts[1]))
	case parts[2] != "iam":
		return bad(fmt.Sprintf("service %q is not iam", parts[2]))
	case parts[3] != "":
		return bad("IAM ARNs have no region: the fourth field must be empty")
	case !accountPattern.MatchString(parts[4]):
		return bad(fmt.Sprintf("account %q is not 12 digits", parts[4]))
	case !strings.HasPrefix(parts[5], "role/"):
		return bad(fmt.Sprintf("resource %q is not a role (role/<name>)", parts[5]))
	}
	return bad("the role name is empty, longer than 64 characters or has characters other than letters, digits and +=,.@_-")
}

// check validates the configuration without calling anything.
func (c *Config) check() error {
	switch c.Mode {
	case "", ModeSameAccount, ModeGrants:
		if c.RoleARN != "" {
			return fmt.Errorf("client: RoleARN is set but Mode is %s: a role is only assumed in %s mode", c.mode(), ModeAssumeRole)
		}
	case ModeAssumeRole:
		if err := ValidateRoleARN(c.RoleARN); err != nil {
			return err
		}
	default:
		_, err := ParseMode(string(c.Mode))
		return err
	}
	if c.AWS.Credentials == nil {
		return errors.New("client: Config.AWS has no credentials: load it with config.LoadDefaultConfig")
	}
	if c.Grace == GraceContinue && c.GracePeriod <= 0 {
		return errors.New("client: GraceContinue needs a GracePeriod")
	}
	for _, e := range c.Entitlements {
		if e.Name == "" {
			return errors.New("client: an entitlement has no Name")
		}
	}
	return nil
}

func (c *Config) mode() Mode {
	if c.Mode == "" {
		return ModeSameAccount
	}
	return c.Mode
}
