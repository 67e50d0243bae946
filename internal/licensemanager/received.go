package licensemanager

import (
	"context"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// AllowedOperation values: what a grant lets its grantee do with the license. Two are not
// operation names: ExtendConsumptionLicense allows ExtendLicenseConsumption, and
// ListPurchasedLicenses is recorded but restricts nothing (received licenses are listed
// whatever the grant allows).
const (
	OpCreateGrant              = "CreateGrant"
	OpCheckoutLicense          = "CheckoutLicense"
	OpCheckoutBorrowLicense    = "CheckoutBorrowLicense"
	OpCheckInLicense           = "CheckInLicense"
	OpExtendConsumptionLicense = "ExtendConsumptionLicense"
	OpListPurchasedLicenses    = "ListPurchasedLicenses"
	OpCreateToken              = "CreateToken"
)

// allowedOperations are the AllowedOperation values, in the model's order.
var allowedOperations = []string{OpCreateGrant, OpCheckoutLicense, OpCheckoutBorrowLicense, OpCheckInLicense,
	OpExtendConsumptionLicense, OpListPurchasedLicenses, OpCreateToken}

// reachable is a license that has reached an account: one it issued, or one a grant gave
// it (directly, or through its organization or an organizational unit it is in).
type reachable struct {
	License *store.License // current version
	// GrantARN is the grant it came through; "" when the account issued the license.
	GrantARN string
	// Operations are the AllowedOperation values the account may perform on it: every one
	// for the issuer, the grant's for a grantee.
	Operations []string
	// Reason is why the account cannot use the license for the operation asked about, in a
	// sentence that says what to change ("grant g-… is PENDING_ACCEPT: accept it and
	// activate it in account 222222222222"); "" when it can.
	Reason string
}

// Issued reports whether the account the license reached is its issuer.
func (r *reachable) Issued() bool { return r.GrantARN == "" }

// licenseQuery selects the licenses reachable licenses are looked up among.
type licenseQuery struct {
	ARN         string // one license; "" for any
	ProductSKU  string // "" for any
	Fingerprint string // the issuer's KeyFingerprint; "" for any
	// Operation is the AllowedOperation the caller wants to perform: it decides Reason.
	Operation string
}

// reachableLicenses returns the licenses q selects that have reached the caller's account,
// usable ones first, in the order CheckoutLicense tries them (see docs/licenses.md): the
// license whose validity ends first (one without an end last), then by ARN. A license that
// reached the account twice (issued and granted, or by two grants) appears once, through
// the way that lets it do the most. Reason is set on those it cannot use for q.Operation at
// now: license not AVAILABLE, outside its validity, grant not ACTIVE, or the operation not
// allowed by the grant.
func (s *Service) reachableLicenses(ctx context.Context, tx *store.Tx, caller *identity.Principal, q licenseQuery) ([]*reachable, error) {
	// Licenses the account issued; grants arrive with the grant operations.
	rows, err := tx.Licenses(ctx, store.LicenseQuery{AccountID: caller.AccountID})
	if err != nil {
		return nil, err
	}
	var out []*reachable
	for _, l := range rows {
		if (q.ARN != "" && l.ARN != q.ARN) || (q.ProductSKU != "" && l.ProductSKU != q.ProductSKU) || (q.Fingerprint != "" && l.Fingerprint != q.Fingerprint) {
			continue
		}
		out = append(out, &reachable{License: l, Operations: allowedOperations})
	}
	return out, nil
}
