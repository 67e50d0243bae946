package licenseconfig

import (
	"context"
	"fmt"
	"time"

	"github.com/allot-dev/allot/internal/store"
)

// sweepBatch is how many stale instances SweepStale retires per transaction.
const sweepBatch = 100

// SweepStale retires the managed instances that have not reported since now−StalePeriod, as
// License Manager does once SSM has purged their inventory (seed 001): each becomes inactive,
// the units its associations hold are released (the associations stay, holding nothing, and
// take their units again when it reports: see Discover), and a STALE_INVENTORY alert is raised
// for each configuration it held units of. It works a batch per transaction and returns how
// many instances it retired. An instance that reported meanwhile is left alone.
func (s *Service) SweepStale(ctx context.Context, now time.Time) (int, error) {
	cutoff := now.Add(-StalePeriod)
	total := 0
	for {
		var seen, retired int
		err := s.DB.Update(ctx, func(tx *store.Tx) error {
			seen, retired = 0, 0 // the function may run again
			rs, err := tx.StaleManagedInstances(ctx, cutoff, sweepBatch)
			if err != nil {
				return err
			}
			seen = len(rs)
			for _, r := range rs {
				ok, err := s.retire(ctx, tx, r.ARN, cutoff)
				if err != nil {
					return err
				}
				if ok {
					retired++
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("licenseconfig: sweep stale managed instances: %w", err)
		}
		total += retired
		if seen < sweepBatch || retired == 0 {
			return total, nil
		}
	}
}

// retire makes a managed instance that last reported before cutoff inactive, releases its
// units and alerts, and reports whether it did (not when it reported meanwhile).
func (s *Service) retire(ctx context.Context, tx *store.Tx, arn string, cutoff time.Time) (bool, error) {
	r, err := tx.LockResource(ctx, arn)
	if err != nil {
		return false, err
	}
	if r.Type != store.ResourceManaged || r.State != store.ManagedActive || !r.LastSeenAt.Before(cutoff) {
		return false, nil
	}
	// The instance's own record, not SetResourceState: its last report stays when it was.
	r.State, r.UpdatedAt = store.ManagedInactive, tx.Now()
	if err := tx.UpdateManagedInstance(ctx, r); err != nil {
		return false, err
	}
	released, err := tx.ReleaseResourceLicenses(ctx, r.ARN, false)
	if err != nil {
		return false, err
	}
	// A machine that comes back is news: its refusals are reported again.
	if err := tx.ClearDiscoveryOutcomes(ctx, r.ARN); err != nil {
		return false, err
	}
	since := r.LastSeenAt.UTC().Format(time.RFC3339)
	for _, u := range released { // in configuration ARN order
		c, err := tx.LicenseConfiguration(ctx, u.ConfigARN)
		if err != nil {
			return false, err
		}
		msg := fmt.Sprintf("%s has not reported since %s (%d days): it is inactive, and the %d %s it held of license configuration %q (%s) are released. It takes them again when it reports.",
			describe(r), since, int(StalePeriod/(24*time.Hour)), u.Consumed, unitName(c.CountingType), c.Name, c.ARN)
		if err := raiseAlert(ctx, tx, c, AlertStaleInventory, r.ARN, c.Consumed, deref(c.LicenseCount), msg); err != nil {
			return false, err
		}
	}
	s.logger().Debug("managed instance stopped reporting: inactive, its licenses released",
		"resource", r.ARN, "last_seen", since, "configurations", len(released))
	return true, nil
}

// SweepAffinity returns to their configurations the units held for #licenseAffinityToHost
// whose period ended by now (see Service.Release): each association is deleted, or kept
// holding nothing for a stopped instance. It works a batch per transaction and returns how
// many associations it released.
func (s *Service) SweepAffinity(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for {
		var seen, released int
		err := s.DB.Update(ctx, func(tx *store.Tx) error {
			seen, released = 0, 0 // the function may run again
			hs, err := tx.DueAffinityHolds(ctx, now, sweepBatch)
			if err != nil {
				return err
			}
			seen = len(hs)
			for _, h := range hs {
				u, err := tx.EndAffinityHold(ctx, h.ConfigARN, h.ResourceARN, now)
				if err != nil {
					return err
				}
				if u != nil {
					released++
					s.logger().Debug("license affinity to host ended: licenses released",
						"configuration", h.ConfigARN, "resource", h.ResourceARN, "host", h.HostARN, "units", u.Consumed)
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("licenseconfig: sweep license affinity holds: %w", err)
		}
		total += released
		if seen < sweepBatch {
			return total, nil
		}
	}
}

// RunStaleSweeper calls SweepStale and SweepAffinity now and then every interval until ctx
// ends, logging what they released and their failures.
func (s *Service) RunStaleSweeper(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		now := s.now()
		n, err := s.SweepStale(ctx, now)
		switch {
		case err != nil && ctx.Err() == nil:
			s.logger().Warn("sweeping stale managed instances failed", "retired", n, "err", err)
		case n > 0:
			s.logger().Info("retired stale managed instances", "count", n)
		}
		n, err = s.SweepAffinity(ctx, now)
		switch {
		case err != nil && ctx.Err() == nil:
			s.logger().Warn("releasing licenses held by license affinity to host failed", "released", n, "err", err)
		case n > 0:
			s.logger().Info("released licenses whose affinity to host ended", "associations", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
