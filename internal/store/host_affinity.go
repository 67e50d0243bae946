package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// AffinityHold is an association whose units a configuration keeps consumed under
// #licenseAffinityToHost: its resource, a Dedicated Host or an instance placed on one, no
// longer uses them (released, stopped, terminated or disassociated), and they return to the
// pool at ReleaseAt. The units stay on the association row while it is held.
type AffinityHold struct {
	ConfigARN   string
	ResourceARN string
	HostARN     string // the Dedicated Host the licenses are tied to
	// Disassociate says whether the association goes when the hold ends (a terminated
	// instance, a released host, a removed association) or stays, holding nothing (a stopped
	// instance).
	Disassociate bool
	HeldAt       time.Time
	ReleaseAt    time.Time
}

const affinityHoldColumns = `config_arn, resource_arn, host_arn, disassociate, held_at, release_at`

func scanAffinityHold(sc interface{ Scan(...any) error }) (*AffinityHold, error) {
	h := &AffinityHold{}
	err := sc.Scan(&h.ConfigARN, &h.ResourceARN, &h.HostARN, &h.Disassociate, ScanTime(&h.HeldAt), ScanTime(&h.ReleaseAt))
	return h, err
}

// HoldLicenseUsage records that an association keeps its units until h.ReleaseAt. Held
// already, the hold keeps its times, and it disassociates if either says so.
func (tx *Tx) HoldLicenseUsage(ctx context.Context, h *AffinityHold) error {
	_, err := tx.Exec(ctx, `INSERT INTO license_affinity_holds (`+affinityHoldColumns+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (config_arn, resource_arn) DO UPDATE SET
		disassociate = CASE WHEN excluded.disassociate THEN excluded.disassociate ELSE license_affinity_holds.disassociate END`,
		h.ConfigARN, h.ResourceARN, h.HostARN, h.Disassociate, h.HeldAt, h.ReleaseAt)
	if err != nil {
		return fmt.Errorf("store: hold %s on %s: %w", h.ConfigARN, h.ResourceARN, err)
	}
	return nil
}

// AffinityHoldOf returns the hold of an association, or an error wrapping ErrNotFound.
func (tx *Tx) AffinityHoldOf(ctx context.Context, configARN, resourceARN string) (*AffinityHold, error) {
	h, err := scanAffinityHold(tx.QueryRow(ctx, `SELECT `+affinityHoldColumns+` FROM license_affinity_holds
		WHERE config_arn = ? AND resource_arn = ?`, configARN, resourceARN))
	if err != nil {
		return nil, fmt.Errorf("store: hold of %s on %s: %w", configARN, resourceARN, tx.noRows(err))
	}
	return h, nil
}

// CancelAffinityHold deletes the hold of an association whose resource uses its units again
// (an instance started, a host associated again) and reports whether there was one.
func (tx *Tx) CancelAffinityHold(ctx context.Context, configARN, resourceARN string) (bool, error) {
	res, err := tx.Exec(ctx, `DELETE FROM license_affinity_holds WHERE config_arn = ? AND resource_arn = ?`, configARN, resourceARN)
	if err != nil {
		return false, fmt.Errorf("store: cancel hold of %s on %s: %w", configARN, resourceARN, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: cancel hold of %s on %s: %w", configARN, resourceARN, err)
	}
	return n == 1, nil
}

// DueAffinityHolds returns up to limit holds whose ReleaseAt is not after now, earliest first.
func (tx *Tx) DueAffinityHolds(ctx context.Context, now time.Time, limit int) ([]*AffinityHold, error) {
	rows, err := tx.Query(ctx, `SELECT `+affinityHoldColumns+` FROM license_affinity_holds WHERE release_at <= ?
		ORDER BY release_at, config_arn, resource_arn LIMIT ?`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("store: due affinity holds: %w", err)
	}
	defer rows.Close()
	var out []*AffinityHold
	for rows.Next() {
		h, err := scanAffinityHold(rows)
		if err != nil {
			return nil, fmt.Errorf("store: due affinity holds: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: due affinity holds: %w", err)
	}
	return out, nil
}

// EndAffinityHold deletes a hold that is due at now and returns its units to the
// configuration, deleting the association (h.Disassociate) or keeping it holding nothing. It
// reports the association as it was, or nil when the hold was not due or another transaction
// ended it first.
func (tx *Tx) EndAffinityHold(ctx context.Context, configARN, resourceARN string, now time.Time) (*LicenseUsage, error) {
	var disassociate bool
	err := tx.QueryRow(ctx, `DELETE FROM license_affinity_holds WHERE config_arn = ? AND resource_arn = ? AND release_at <= ?
		RETURNING disassociate`, configARN, resourceARN, now).Scan(&disassociate)
	if err = tx.noRows(err); err == ErrNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: end hold of %s on %s: %w", configARN, resourceARN, err)
	}
	u, err := tx.ReleaseLicenseUsage(ctx, configARN, resourceARN, disassociate)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return u, err
}

// ReleaseLicenseUsage returns the units one association holds to its configuration, deleting
// the association (remove) or keeping it holding nothing, and deletes its hold if it has one.
// It returns the association as it was, or an error wrapping ErrNotFound.
func (tx *Tx) ReleaseLicenseUsage(ctx context.Context, configARN, resourceARN string, remove bool) (*LicenseUsage, error) {
	// Read first: a write to license_affinity_holds changes Generation, and most associations
	// have no hold.
	if _, err := tx.AffinityHoldOf(ctx, configARN, resourceARN); err == nil {
		if _, err := tx.CancelAffinityHold(ctx, configARN, resourceARN); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if remove {
		return tx.RemoveLicenseUsage(ctx, configARN, resourceARN)
	}
	us, err := tx.licenseUsages(ctx, `WHERE config_arn = ? AND resource_arn = ?`, configARN, resourceARN)
	if err != nil {
		return nil, err
	}
	if len(us) == 0 {
		return nil, fmt.Errorf("store: association of %s with %s: %w", resourceARN, configARN, ErrNotFound)
	}
	u := us[0]
	if u.Consumed == 0 {
		return u, nil
	}
	// Compare and swap the units held, as ReleaseResourceLicenses does: only the transaction
	// whose UPDATE matched returns them.
	res, err := tx.Exec(ctx, `UPDATE license_configuration_usage SET consumed = 0 WHERE config_arn = ? AND resource_arn = ? AND consumed = ?`,
		configARN, resourceARN, u.Consumed)
	if err != nil {
		return nil, fmt.Errorf("store: release %s on %s: %w", configARN, resourceARN, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return u, nil
	}
	if err := tx.releaseLicenses(ctx, map[string]int64{configARN: u.Consumed}); err != nil {
		return nil, err
	}
	return u, nil
}
