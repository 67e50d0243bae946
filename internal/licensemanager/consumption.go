package licensemanager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awstime"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// checkoutRetention is how long a checkout that ended is kept: the window in which a retry
// with its ClientToken still gets the first answer.
const checkoutRetention = 24 * time.Hour

func checkConsumptionToken(v string) error {
	if v == "" {
		return validation("LicenseConsumptionToken is required: the token CheckoutLicense returned.")
	}
	if len(v) > 2048 {
		return validation("LicenseConsumptionToken must have at most 2048 characters.")
	}
	return nil
}

// ownCheckout reads a checkout of the caller's account by its token; an unknown token, or
// another account's, is a ResourceNotFoundException.
func ownCheckout(ctx context.Context, tx *store.Tx, caller *identity.Principal, token string) (*store.Checkout, error) {
	c, err := tx.Checkout(ctx, token)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.AccountID != caller.AccountID) {
		return nil, awserr.New(ErrResourceNotFound, "License consumption token %q is not a checkout of account %s (checkouts are forgotten a day after they end): check out again.", token, caller.AccountID)
	}
	return c, err
}

// expired returns the ResourceNotFoundException for a checkout that expired at t.
func expired(c *store.Checkout, t time.Time) error {
	return awserr.New(ErrResourceNotFound, "The checkout %s of license %s expired at %s and its units were returned: check out again.",
		c.Token, c.LicenseARN, awstime.FormatISO8601(t))
}

// hasExpired reports whether an ACTIVE checkout's time ran out by now.
func hasExpired(c *store.Checkout, now time.Time) bool {
	return !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt)
}

// ExtendLicenseConsumptionInput is the input of ExtendLicenseConsumption.
type ExtendLicenseConsumptionInput struct {
	LicenseConsumptionToken string
	DryRun                  bool
}

// ExtendLicenseConsumptionOutput is the output of ExtendLicenseConsumption.
type ExtendLicenseConsumptionOutput struct {
	LicenseConsumptionToken string
	Expiration              awstime.ISO8601
}

// ExtendLicenseConsumption moves the expiry of a PROVISIONAL checkout of the caller's
// account to now plus the license's MaxTimeToLiveInMinutes; DryRun answers without
// changing it. A checkout that expired is not revived: check out again. Errors:
// ValidationException (a PERPETUAL or borrowed checkout), ResourceNotFoundException
// (unknown, expired or checked-in token), AccessDeniedException (the license can no longer
// be used by the account: the message says why).
func (s *Service) ExtendLicenseConsumption(ctx context.Context, caller *identity.Principal, in *ExtendLicenseConsumptionInput) (*ExtendLicenseConsumptionOutput, error) {
	if err := checkConsumptionToken(in.LicenseConsumptionToken); err != nil {
		return nil, err
	}
	// Everything but the new expiry is decided from committed state, outside the write
	// transaction: its one UPDATE moves the expiry only if the checkout is still ACTIVE and
	// unexpired.
	now := s.now()
	c, err := store.Read(ctx, s.DB, func(tx *store.Tx) (*store.Checkout, error) {
		return ownCheckout(ctx, tx, caller, in.LicenseConsumptionToken)
	})
	if err != nil {
		return nil, err
	}
	switch {
	case c.Status == store.CheckoutConsumed:
		return nil, validation("Checkout %s is PERPETUAL: it never expires, so there is nothing to extend.", c.Token)
	case c.Status == store.CheckoutCheckedIn:
		return nil, awserr.New(ErrResourceNotFound, "The checkout %s of license %s was checked in at %s: check out again.", c.Token, c.LicenseARN, awstime.FormatISO8601(c.EndedAt))
	case c.Status == store.CheckoutExpired:
		return nil, expired(c, c.ExpiresAt)
	case hasExpired(c, now):
		return nil, expired(c, c.ExpiresAt)
	case c.Borrow:
		return nil, validation("Checkout %s is borrowed: it cannot be extended; borrow again with CheckoutBorrowLicense.", c.Token)
	}
	rs, err := s.reachableCached(ctx, caller, licenseQuery{ARN: c.LicenseARN, Operation: OpExtendConsumptionLicense})
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, awserr.New(ErrAccessDenied, "License %s no longer reaches account %s (its grant was deleted): the checkout cannot be extended, and its units return at %s.",
			c.LicenseARN, caller.AccountID, awstime.FormatISO8601(c.ExpiresAt))
	}
	if r := rs[0]; r.Reason != "" {
		return nil, awserr.New(ErrAccessDenied, "The checkout of license %s cannot be extended: %s.", c.LicenseARN, r.Reason)
	}
	p := rs[0].doc.ConsumptionConfiguration.ProvisionalConfiguration
	if p == nil || p.MaxTimeToLiveInMinutes == nil {
		return nil, validation("License %s no longer has a ProvisionalConfiguration, so its checkouts cannot be extended: they end at their expiry.", c.LicenseARN)
	}
	exp := now.Truncate(time.Second).Add(time.Duration(*p.MaxTimeToLiveInMinutes) * time.Minute)
	out := &ExtendLicenseConsumptionOutput{LicenseConsumptionToken: c.Token, Expiration: isoTime(exp)}
	if in.DryRun {
		return out, nil
	}
	err = applyKnown(ctx, s, tokenShard(c.Token), out, func(tx *store.Tx) error {
		ok, err := tx.ExtendCheckout(ctx, c.Token, exp, now)
		if err != nil {
			return err
		}
		if !ok {
			return expired(c, c.ExpiresAt)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// applyKnown is store.Apply for an operation whose answer, out, is known before its write
// transaction: the answer goes into the audit event first, so that the event is serialised
// outside the store's writer. On failure the event records no answer.
func applyKnown(ctx context.Context, s *Service, affinity int, out any, fn func(tx *store.Tx) error) error {
	p := audit.PendingFrom(ctx)
	p.SetResponse(out)
	if err := s.DB.UpdateAffine(ctx, affinity, fn); err != nil {
		p.SetResponse(nil)
		return err
	}
	return nil
}

// CheckInLicenseInput is the input of CheckInLicense.
type CheckInLicenseInput struct {
	LicenseConsumptionToken string
	Beneficiary             string
}

// CheckInLicenseOutput is the output of CheckInLicense: empty.
type CheckInLicenseOutput struct{}

// CheckInLicense ends a checkout of the caller's account and returns its units. A token
// checked in already is answered again without change. Errors: ValidationException
// (Beneficiary is not the checkout's), ResourceNotFoundException (unknown or expired token),
// ConflictException (a PERPETUAL checkout; an entitlement without AllowCheckIn, or a borrowed
// checkout without AllowEarlyCheckIn, whose units return only at expiry).
func (s *Service) CheckInLicense(ctx context.Context, caller *identity.Principal, in *CheckInLicenseInput) (*CheckInLicenseOutput, error) {
	if err := checkConsumptionToken(in.LicenseConsumptionToken); err != nil {
		return nil, err
	}
	if err := checkString(ErrValidation, "Beneficiary", in.Beneficiary, false, 1024); err != nil {
		return nil, err
	}
	// One conditional UPDATE ends the checkout in the usual case; when it does not, the
	// checkout is read to say why (or to answer a repeated check-in).
	now := s.now()
	out := &CheckInLicenseOutput{}
	err := applyKnown(ctx, s, tokenShard(in.LicenseConsumptionToken), out, func(tx *store.Tx) error {
		ok, err := tx.CheckInIf(ctx, in.LicenseConsumptionToken, caller.AccountID, in.Beneficiary, now, checkInUnits)
		if err != nil || ok {
			return err
		}
		c, err := ownCheckout(ctx, tx, caller, in.LicenseConsumptionToken)
		if err != nil {
			return err
		}
		if err := checkInAllowed(c, in.Beneficiary, now); err != nil {
			return err
		}
		if c.Status == store.CheckoutCheckedIn {
			return nil
		}
		return expired(c, c.ExpiresAt) // raced with expiry: its units were returned
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkInUnits refuses the check-in of a checkout (not borrowed) that holds units of an
// entitlement without AllowCheckIn: they return only when it expires.
func checkInUnits(c *store.Checkout) error {
	if c.Borrow {
		return nil
	}
	for _, e := range c.Entitlements {
		if e.Units > 0 && !e.AllowCheckIn {
			return awserr.New(ErrConflict, "Entitlement %s of license %s does not allow check-in (AllowCheckIn is not true): the units of checkout %s return when it expires at %s.",
				e.Name, c.LicenseARN, c.Token, awstime.FormatISO8601(c.ExpiresAt))
		}
	}
	return nil
}

// checkInAllowed returns why checkout c cannot be checked in at now with beneficiary (""
// when the caller sent none), or nil when it can be, or was already.
func checkInAllowed(c *store.Checkout, beneficiary string, now time.Time) error {
	if beneficiary != "" && beneficiary != c.Beneficiary {
		return validation("Beneficiary %q is not the beneficiary of checkout %s: send %q, or leave Beneficiary out.", beneficiary, c.Token, c.Beneficiary)
	}
	switch {
	case c.Status == store.CheckoutCheckedIn:
		return nil
	case c.Status == store.CheckoutConsumed:
		return awserr.New(ErrConflict, "Checkout %s is PERPETUAL: its units are consumed for good and cannot be checked in.", c.Token)
	case c.Status == store.CheckoutExpired, hasExpired(c, now):
		return expired(c, c.ExpiresAt)
	case c.Borrow && !c.EarlyCheckIn:
		return awserr.New(ErrConflict, "Checkout %s is borrowed from license %s, whose BorrowConfiguration does not allow early check-in: its units return when it expires at %s.",
			c.Token, c.LicenseARN, awstime.FormatISO8601(c.ExpiresAt))
	}
	return checkInUnits(c)
}

// GetLicenseUsageInput is the input of GetLicenseUsage.
type GetLicenseUsageInput struct {
	LicenseArn string
}

// EntitlementUsage is the usage of one counted entitlement; the counts are strings, as in AWS.
type EntitlementUsage struct {
	Name          string
	ConsumedValue string
	MaxCount      string `json:",omitempty"`
	Unit          string
}

// LicenseUsage is the usage of a license's entitlements.
type LicenseUsage struct {
	EntitlementUsages []EntitlementUsage
}

// GetLicenseUsageOutput is the output of GetLicenseUsage.
type GetLicenseUsageOutput struct {
	LicenseUsage *LicenseUsage
}

// GetLicenseUsage returns, for each counted entitlement of a license that has reached the
// caller's account (usable or not), the units out in unexpired checkouts of every account
// and the maximum, in the order of the license's entitlements; an entitlement a later
// version removed is listed while it still has units out. Errors: ValidationException (a
// malformed ARN), InvalidParameterValueException (no such license reached the account).
func (s *Service) GetLicenseUsage(ctx context.Context, caller *identity.Principal, in *GetLicenseUsageInput) (*GetLicenseUsageOutput, error) {
	if err := checkLicenseARN(ErrValidation, "LicenseArn", in.LicenseArn); err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*GetLicenseUsageOutput, error) {
		rs, err := s.reachableLicenses(ctx, tx, caller, licenseQuery{ARN: in.LicenseArn})
		if err != nil {
			return nil, err
		}
		if len(rs) == 0 {
			return nil, awserr.New(ErrInvalidParameterValue, "License %s does not exist in account %s and was not granted to it.", in.LicenseArn, caller.AccountID)
		}
		d, err := docOf(rs[0].License)
		if err != nil {
			return nil, err
		}
		us, err := tx.EntitlementUsage(ctx, in.LicenseArn, s.now())
		if err != nil {
			return nil, err
		}
		byName := make(map[string]store.EntitlementUsage, len(us))
		for _, u := range us {
			byName[u.Name] = u
		}
		out := &LicenseUsage{EntitlementUsages: []EntitlementUsage{}}
		add := func(u store.EntitlementUsage) {
			if u.MaxCount != nil {
				out.EntitlementUsages = append(out.EntitlementUsages, EntitlementUsage{Name: u.Name, ConsumedValue: itoa(u.Consumed), MaxCount: itoa(*u.MaxCount), Unit: u.Unit})
			}
		}
		current := map[string]bool{}
		for _, l := range limitsOf(d.Entitlements) {
			current[l.Name] = true
			u, ok := byName[l.Name]
			if !ok { // a license older than its counters
				u = store.EntitlementUsage{EntitlementLimit: l}
			}
			add(u)
		}
		for _, u := range us {
			if !current[u.Name] && u.Consumed > 0 {
				add(u)
			}
		}
		return &GetLicenseUsageOutput{LicenseUsage: out}, nil
	})
}

// ReclaimExpired marks the ACTIVE checkouts that expired by now EXPIRED and returns their
// units, a batch per transaction, then purges the checkouts that ended more than a day ago.
// It returns how many checkouts it reclaimed.
func (s *Service) ReclaimExpired(ctx context.Context) (int, error) {
	total := 0
	for {
		var n int
		err := s.DB.Update(ctx, func(tx *store.Tx) (err error) {
			n, err = tx.ReclaimExpiredCheckouts(ctx, s.now(), "", reclaimBatch)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("licensemanager: reclaim expired checkouts: %w", err)
		}
		total += n
		if n < reclaimBatch {
			break
		}
	}
	for {
		var n int
		err := s.DB.Update(ctx, func(tx *store.Tx) (err error) {
			n, err = tx.PurgeCheckouts(ctx, s.now().Add(-checkoutRetention), reclaimBatch)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("licensemanager: purge checkouts: %w", err)
		}
		if n < reclaimBatch {
			return total, nil
		}
	}
}

// RunReclaimer calls ReclaimExpired now and then every interval until ctx ends, logging what
// it reclaimed and its failures.
func (s *Service) RunReclaimer(ctx context.Context, every time.Duration) {
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		n, err := s.ReclaimExpired(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("reclaiming expired license checkouts failed", "reclaimed", n, "err", err)
		case n > 0:
			log.Info("reclaimed expired license checkouts", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
