package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Checkout statuses.
const (
	CheckoutActive    = "ACTIVE"     // units out until checked in or expired
	CheckoutCheckedIn = "CHECKED_IN" // units returned by CheckInLicense
	CheckoutExpired   = "EXPIRED"    // units returned at expiry
	CheckoutConsumed  = "CONSUMED"   // PERPETUAL: units out for good
)

// EntitlementLimit is what a license version allows of one entitlement; MaxCount nil: not counted.
type EntitlementLimit struct {
	Name     string
	Unit     string
	MaxCount *int64
	Overage  bool
}

// EntitlementUsage is a license's usage counter of one entitlement.
type EntitlementUsage struct {
	EntitlementLimit
	Consumed int64 // units out in unexpired checkouts
}

// CheckoutEntitlement is an entitlement a checkout was allowed, with the Units it took (0: not counted).
type CheckoutEntitlement struct {
	Name         string
	Unit         string
	Value        string `json:",omitempty"`
	Units        int64  `json:",omitempty"`
	AllowCheckIn bool   `json:",omitempty"`
}

// Checkout is one checkout of a managed license.
type Checkout struct {
	Token          string // LicenseConsumptionToken
	AccountID      string // the account that checked out
	LicenseARN     string
	LicenseVersion int64
	Beneficiary    string
	NodeID         string
	CheckoutType   string // PROVISIONAL or PERPETUAL
	Borrow         bool
	EarlyCheckIn   bool // may be checked in before it expires
	Entitlements   []CheckoutEntitlement
	Metadata       string // JSON
	IssuedAt       time.Time
	ExpiresAt      time.Time // zero: never
	Status         string
	EndedAt        time.Time // zero while ACTIVE
	ClientToken    string
	Request        string // digest of the request
}

// PutEntitlementLimits sets a license's counters to limits, keeping units out; counters not in limits get MaxCount 0.
func (tx *Tx) PutEntitlementLimits(ctx context.Context, arn string, limits []EntitlementLimit) error {
	if err := tx.flushUsage(ctx); err != nil {
		return fmt.Errorf("store: entitlement limits of %s: %w", arn, err)
	}
	names := make([]any, 0, len(limits)+1)
	names = append(names, arn)
	for _, l := range limits {
		if _, err := tx.Exec(ctx, `INSERT INTO license_entitlement_usage (license_arn, name, unit, max_count, overage, consumed)
			VALUES (?, ?, ?, ?, ?, 0)
			ON CONFLICT (license_arn, name) DO UPDATE SET unit = excluded.unit, max_count = excluded.max_count, overage = excluded.overage`,
			arn, l.Name, l.Unit, l.MaxCount, l.Overage); err != nil {
			return fmt.Errorf("store: entitlement limits of %s: %w", arn, err)
		}
		names = append(names, l.Name)
	}
	q := `UPDATE license_entitlement_usage SET max_count = 0, overage = ? WHERE license_arn = ? AND max_count IS NOT NULL`
	args := []any{false, arn}
	if len(limits) > 0 {
		q += ` AND name NOT IN (?` + strings.Repeat(", ?", len(limits)-1) + `)`
		args = append(args, names[1:]...)
	}
	if _, err := tx.Exec(ctx, q, args...); err != nil {
		return fmt.Errorf("store: entitlement limits of %s: %w", arn, err)
	}
	return nil
}

// ConsumeEntitlement takes units of a counted entitlement if MaxCount (or Overage) allows and reports whether it did.
func (tx *Tx) ConsumeEntitlement(ctx context.Context, arn, name string, units int64) (bool, error) {
	if u := tx.usage; u != nil {
		ok, err := u.take(ctx, tx, usageKey{arn, name}, units)
		if err != nil {
			return false, fmt.Errorf("store: consume %s of %s: %w", name, arn, err)
		}
		return ok, nil
	}
	res, err := tx.Exec(ctx, `UPDATE license_entitlement_usage SET consumed = consumed + ?
		WHERE license_arn = ? AND name = ? AND max_count IS NOT NULL AND (overage OR consumed + ? <= max_count)`,
		units, arn, name, units)
	if err != nil {
		return false, fmt.Errorf("store: consume %s of %s: %w", name, arn, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: consume %s of %s: %w", name, arn, err)
	}
	return n == 1, nil
}

// EntitlementCounters returns a license's counters by name as stored (expired units not reclaimed yet included).
func (tx *Tx) EntitlementCounters(ctx context.Context, arn string) ([]EntitlementUsage, error) {
	if err := tx.flushUsage(ctx); err != nil {
		return nil, fmt.Errorf("store: usage of %s: %w", arn, err)
	}
	rows, err := tx.Query(ctx, `SELECT name, unit, max_count, overage, consumed FROM license_entitlement_usage
		WHERE license_arn = ? ORDER BY name`, arn)
	if err != nil {
		return nil, fmt.Errorf("store: usage of %s: %w", arn, err)
	}
	defer rows.Close()
	var out []EntitlementUsage
	for rows.Next() {
		var u EntitlementUsage
		var maxCount sql.NullInt64
		if err := rows.Scan(&u.Name, &u.Unit, &maxCount, &u.Overage, &u.Consumed); err != nil {
			return nil, fmt.Errorf("store: usage of %s: %w", arn, err)
		}
		if maxCount.Valid {
			u.MaxCount = &maxCount.Int64
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: usage of %s: %w", arn, err)
	}
	return out, nil
}

// EntitlementUsage returns a license's counters by name without the units of checkouts expired by now.
func (tx *Tx) EntitlementUsage(ctx context.Context, arn string, now time.Time) ([]EntitlementUsage, error) {
	out, err := tx.EntitlementCounters(ctx, arn)
	if err != nil {
		return nil, err
	}
	// Summed row by row: a license can have very many expired checkouts not reclaimed yet.
	// "ended_at IS NULL" (true of every ACTIVE checkout) lets this use the partial index of
	// a license's open checkouts, whose predicate has it so that a statement on one checkout
	// by its token never uses it (see migration 00017).
	rows, err := tx.Query(ctx, `SELECT entitlements FROM license_checkouts
		WHERE license_arn = ? AND status = 'ACTIVE' AND ended_at IS NULL AND expires_at <= ?`, arn, now)
	if err != nil {
		return nil, fmt.Errorf("store: usage of %s: %w", arn, err)
	}
	defer rows.Close()
	stale := map[string]int64{}
	var es []CheckoutEntitlement
	for rows.Next() {
		var ents string
		if err := rows.Scan(&ents); err != nil {
			return nil, fmt.Errorf("store: usage of %s: %w", arn, err)
		}
		es = es[:0]
		if err := json.Unmarshal([]byte(ents), &es); err != nil {
			return nil, fmt.Errorf("store: usage of %s: checkout entitlements: %w", arn, err)
		}
		for _, e := range es {
			stale[e.Name] += e.Units
		}
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: usage of %s: %w", arn, err)
	}
	for i := range out {
		out[i].Consumed = max(out[i].Consumed-stale[out[i].Name], 0)
	}
	return out, nil
}

// CreateCheckout stores a new checkout, or returns ErrConflict when its account used its ClientToken already.
func (tx *Tx) CreateCheckout(ctx context.Context, c *Checkout) error {
	ents, err := json.Marshal(c.Entitlements)
	if err != nil {
		return fmt.Errorf("store: create checkout: %w", err)
	}
	var expires, ended any
	if !c.ExpiresAt.IsZero() {
		expires = c.ExpiresAt
	}
	if !c.EndedAt.IsZero() {
		ended = c.EndedAt
	}
	res, err := tx.Exec(ctx, `INSERT INTO license_checkouts (token, account_id, license_arn, license_version, beneficiary, node_id,
		checkout_type, borrow, early_check_in, entitlements, metadata, issued_at, expires_at, status, ended_at, client_token, request)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		c.Token, c.AccountID, c.LicenseARN, c.LicenseVersion, c.Beneficiary, c.NodeID, c.CheckoutType, c.Borrow, c.EarlyCheckIn,
		string(ents), cmp.Or(c.Metadata, "[]"), c.IssuedAt, expires, c.Status, ended, c.ClientToken, c.Request)
	if err != nil {
		return fmt.Errorf("store: create checkout: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: create checkout with client token %q: %w", c.ClientToken, ErrConflict)
	}
	if u := tx.usage; u != nil {
		u.created(c)
	}
	return nil
}

const checkoutColumns = `token, account_id, license_arn, license_version, beneficiary, node_id, checkout_type, borrow,
	early_check_in, entitlements, metadata, issued_at, expires_at, status, ended_at, client_token, request`

func scanCheckout(sc interface{ Scan(...any) error }) (*Checkout, error) {
	c := &Checkout{}
	var ents string
	err := sc.Scan(&c.Token, &c.AccountID, &c.LicenseARN, &c.LicenseVersion, &c.Beneficiary, &c.NodeID, &c.CheckoutType, &c.Borrow,
		&c.EarlyCheckIn, &ents, &c.Metadata, ScanTime(&c.IssuedAt), ScanTime(&c.ExpiresAt), &c.Status, ScanTime(&c.EndedAt),
		&c.ClientToken, &c.Request)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(ents), &c.Entitlements); err != nil {
		return nil, fmt.Errorf("checkout %s: entitlements: %w", c.Token, err)
	}
	return c, nil
}

// Checkout returns a checkout by its token, or ErrNotFound.
func (tx *Tx) Checkout(ctx context.Context, token string) (*Checkout, error) {
	c, err := scanCheckout(tx.QueryRow(ctx, `SELECT `+checkoutColumns+` FROM license_checkouts WHERE token = ?`, token))
	if err != nil {
		return nil, fmt.Errorf("store: checkout %q: %w", token, tx.noRows(err))
	}
	return c, nil
}

// CheckoutByClientToken returns an account's checkout made with a ClientToken, or ErrNotFound.
func (tx *Tx) CheckoutByClientToken(ctx context.Context, accountID, clientToken string) (*Checkout, error) {
	c, err := scanCheckout(tx.QueryRow(ctx, `SELECT `+checkoutColumns+` FROM license_checkouts
		WHERE account_id = ? AND client_token = ?`, accountID, clientToken))
	if err != nil {
		return nil, fmt.Errorf("store: checkout with client token %q: %w", clientToken, tx.noRows(err))
	}
	return c, nil
}

func (tx *Tx) checkouts(ctx context.Context, where string, args ...any) ([]*Checkout, error) {
	rows, err := tx.Query(ctx, `SELECT `+checkoutColumns+` FROM license_checkouts `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Checkout
	for rows.Next() {
		c, err := scanCheckout(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, err
	}
	return out, nil
}

// sqlExtendCheckout is ExtendCheckout's statement (see sqlCheckInIf).
const sqlExtendCheckout = `UPDATE license_checkouts SET expires_at = ? WHERE token = ? AND status = 'ACTIVE' AND expires_at > ?`

// ExtendCheckout sets the expiry of a checkout still ACTIVE and unexpired at now and reports whether it did.
func (tx *Tx) ExtendCheckout(ctx context.Context, token string, expiresAt, now time.Time) (bool, error) {
	if u := tx.usage; u != nil && u.checkouts != nil {
		u.checkouts.take(token) // its expiry changes
	}
	res, err := tx.Exec(ctx, sqlExtendCheckout, expiresAt, token, now)
	if err != nil {
		return false, fmt.Errorf("store: extend checkout %q: %w", token, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: extend checkout %q: %w", token, err)
	}
	return n == 1, nil
}

// CheckInCheckout ends a checkout still ACTIVE and unexpired at now, returns its units and reports whether it did.
func (tx *Tx) CheckInCheckout(ctx context.Context, token string, now time.Time) (bool, error) {
	ended, err := tx.endCheckouts(ctx, CheckoutCheckedIn, now,
		`token = ? AND status = 'ACTIVE' AND (expires_at IS NULL OR expires_at > ?)`, token, now)
	if err != nil {
		return false, fmt.Errorf("store: check in %q: %w", token, err)
	}
	return ended == 1, nil
}

// sqlCheckInIf is CheckInIf's statement. Like every statement on one checkout, it finds the
// checkout by its primary key: no other index can serve it (see migration 00017).
const sqlCheckInIf = `UPDATE license_checkouts SET status = ?, ended_at = ?
	WHERE token = ? AND account_id = ? AND status = 'ACTIVE' AND (expires_at IS NULL OR expires_at > ?) AND early_check_in
		AND (? = '' OR beneficiary = ?)
	RETURNING license_arn, borrow, entitlements, expires_at`

// CheckInIf ends, as CheckInCheckout does, a checkout of accountID still ACTIVE and
// unexpired at now that may be checked in early and, unless beneficiary is "", is that
// beneficiary's, in one statement. Before its units are returned it calls allow with the
// checkout (Token, LicenseARN, Borrow, Entitlements and ExpiresAt filled in); an error from
// allow is returned, and the caller's transaction must then be rolled back. It reports
// whether it ended the checkout; when not, nothing was changed.
func (tx *Tx) CheckInIf(ctx context.Context, token, accountID, beneficiary string, now time.Time, allow func(*Checkout) error) (bool, error) {
	if u := tx.usage; u != nil {
		if ended, done, err := tx.checkInKnown(ctx, u, token, accountID, beneficiary, now, allow); done {
			return ended, err
		}
	}
	c := &Checkout{Token: token}
	var ents string
	err := tx.QueryRow(ctx, sqlCheckInIf, CheckoutCheckedIn, now, token, accountID, now, beneficiary, beneficiary).
		Scan(&c.LicenseARN, &c.Borrow, &ents, ScanTime(&c.ExpiresAt))
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		tx.noteErr(err)
		return false, fmt.Errorf("store: check in %q: %w", token, err)
	}
	if err := json.Unmarshal([]byte(ents), &c.Entitlements); err != nil {
		return false, fmt.Errorf("store: check in %q: entitlements: %w", token, err)
	}
	if err := allow(c); err != nil {
		return false, err
	}
	// One counter per entitlement name, in name order (as endCheckouts locks them).
	units := map[string]int64{}
	for _, e := range c.Entitlements {
		if e.Units > 0 {
			units[e.Name] += e.Units
		}
	}
	names := make([]string, 0, len(units))
	for n := range units {
		names = append(names, n)
	}
	slices.Sort(names)
	if u := tx.usage; u != nil {
		for _, n := range names {
			u.give(tx, usageKey{c.LicenseARN, n}, units[n])
		}
		return true, nil
	}
	for _, n := range names {
		if _, err := tx.Exec(ctx, `UPDATE license_entitlement_usage SET consumed = consumed - ? WHERE license_arn = ? AND name = ?`,
			units[n], c.LicenseARN, n); err != nil {
			return false, fmt.Errorf("store: check in %q: %w", token, err)
		}
	}
	return true, nil
}

// ReclaimExpiredCheckouts expires up to limit checkouts (of licenseARN, or all), returns their units once and counts them.
func (tx *Tx) ReclaimExpiredCheckouts(ctx context.Context, now time.Time, licenseARN string, limit int) (int, error) {
	// ended_at IS NULL selects the partial indexes of open checkouts (see EntitlementUsage).
	sub := `SELECT token FROM license_checkouts WHERE status = 'ACTIVE' AND ended_at IS NULL AND expires_at <= ?`
	args := []any{now}
	if licenseARN != "" {
		sub += ` AND license_arn = ?`
		args = append(args, licenseARN)
	}
	sub += fmt.Sprintf(` ORDER BY expires_at LIMIT %d`, max(limit, 1))
	// status and expiry are checked again on the row itself: on PostgreSQL the subquery does
	// not lock, and READ COMMITTED re-evaluates this WHERE on a row another transaction changed.
	n, err := tx.endCheckouts(ctx, CheckoutExpired, now, `token IN (`+sub+`) AND status = 'ACTIVE' AND expires_at <= ?`, append(args, now)...)
	if err != nil {
		return 0, fmt.Errorf("store: reclaim expired checkouts: %w", err)
	}
	return n, nil
}

// endCheckouts sets the status of the checkouts where selects, returns their units and counts them.
func (tx *Tx) endCheckouts(ctx context.Context, status string, now time.Time, where string, args ...any) (int, error) {
	if err := tx.flushUsage(ctx); err != nil {
		return 0, err
	}
	rows, err := tx.Query(ctx, `UPDATE license_checkouts SET status = ?, ended_at = ? WHERE `+where+`
		RETURNING license_arn, entitlements`, append([]any{status, now}, args...)...)
	if err != nil {
		return 0, err
	}
	type key struct{ arn, name string }
	units := map[key]int64{}
	n := 0
	for rows.Next() {
		var arn, ents string
		if err := rows.Scan(&arn, &ents); err != nil {
			rows.Close()
			return 0, err
		}
		var es []CheckoutEntitlement
		if err := json.Unmarshal([]byte(ents), &es); err != nil {
			rows.Close()
			return 0, fmt.Errorf("checkout of %s: entitlements: %w", arn, err)
		}
		for _, e := range es {
			if e.Units > 0 {
				units[key{arn, e.Name}] += e.Units
			}
		}
		n++
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		rows.Close()
		return 0, err
	}
	rows.Close()
	// Counters in one order (license, name) so that concurrent transactions do not deadlock.
	keys := make([]key, 0, len(units))
	for k := range units {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(strings.Compare(a.arn, b.arn), strings.Compare(a.name, b.name)) })
	for _, k := range keys {
		if _, err := tx.Exec(ctx, `UPDATE license_entitlement_usage SET consumed = consumed - ? WHERE license_arn = ? AND name = ?`,
			units[k], k.arn, k.name); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// PurgeCheckouts deletes up to limit checkouts that ended before before and returns how many it deleted.
func (tx *Tx) PurgeCheckouts(ctx context.Context, before time.Time, limit int) (int, error) {
	res, err := tx.Exec(ctx, fmt.Sprintf(`DELETE FROM license_checkouts WHERE token IN (
		SELECT token FROM license_checkouts WHERE status <> 'ACTIVE' AND ended_at < ? ORDER BY ended_at LIMIT %d)`, max(limit, 1)), before)
	if err != nil {
		return 0, fmt.Errorf("store: purge checkouts: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: purge checkouts: %w", err)
	}
	return int(n), nil
}
