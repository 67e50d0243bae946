package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// A group-commit batch on SQLite writes each entitlement counter it changes once, at its end,
// rather than once per checkout or check-in: the first checkout of a batch reads the counter
// (consumed, max_count, overage) inside the batch's transaction, later ones decide the limit
// against that value plus the units the batch took and returned so far, and the batch writes
// the sum of its changes before its audit records and COMMIT. Only the writer writes the
// SQLite file, and a transaction's reads see its own snapshot, so every checkout still sees
// the exact units out: the limit is decided by the same arithmetic as the conditional UPDATE,
// on the same numbers. Every other statement on license_entitlement_usage first writes the
// pending changes and forgets what was read (flushUsage). PostgreSQL, with several writers
// and nodes, keeps one conditional UPDATE per checkout.

// sqlUsageCounter reads one counter for usageBatch.
const sqlUsageCounter = `SELECT consumed, max_count, overage FROM license_entitlement_usage WHERE license_arn = ? AND name = ?`

// sqlUsageAdd writes a batch's change to one counter.
const sqlUsageAdd = `UPDATE license_entitlement_usage SET consumed = consumed + ? WHERE license_arn = ? AND name = ?`

// usageKey names one entitlement counter.
type usageKey struct{ arn, name string }

// usageCounter is what a batch knows of one counter.
type usageCounter struct {
	loaded   bool          // read in this transaction: stored, maxCount and overage are valid
	exists   bool          // the row exists (when loaded)
	stored   int64         // consumed as stored (when loaded)
	maxCount sql.NullInt64 // NULL: not counted
	overage  bool
	delta    int64 // units taken (+) and returned (−) by the batch and not written yet
}

// usageBatch holds the counters of one write transaction of the writer, and the checkouts it
// stored. It is used by the writer's goroutine only.
type usageBatch struct {
	stmts    *txStmts // the transaction it belongs to
	counters map[usageKey]*usageCounter
	// saved holds, for the request running, each counter it changed as it was before (nil:
	// absent), so that a request that fails can be undone alone (see writer.apply).
	saved map[usageKey]*usageCounter
	// open are the checkouts stored in the transaction, for the writer's checkoutCache once
	// it commits; mark is their number before the request running.
	open      []openCheckout
	mark      int
	checkouts *checkoutCache // the writer's
}

func newUsageBatch(stmts *txStmts, checkouts *checkoutCache) *usageBatch {
	return &usageBatch{stmts: stmts, counters: map[usageKey]*usageCounter{}, saved: map[usageKey]*usageCounter{}, checkouts: checkouts}
}

// beginRequest starts the record of what the next request changes.
func (u *usageBatch) beginRequest() {
	clear(u.saved)
	u.mark = len(u.open)
}

// undoRequest puts back every counter the request running changed and forgets the checkouts
// it stored.
func (u *usageBatch) undoRequest() {
	clear(u.open[u.mark:])
	u.open = u.open[:u.mark]
	for k, c := range u.saved {
		if c == nil {
			delete(u.counters, k)
		} else {
			u.counters[k] = c
		}
	}
	clear(u.saved)
}

// save records k's state before the request running first changes it.
func (u *usageBatch) save(k usageKey) {
	if _, ok := u.saved[k]; ok {
		return
	}
	if c := u.counters[k]; c != nil {
		cp := *c
		u.saved[k] = &cp
	} else {
		u.saved[k] = nil
	}
}

// counter returns k's counter, read in the transaction if it was not yet.
func (u *usageBatch) counter(ctx context.Context, tx *Tx, k usageKey) (*usageCounter, error) {
	c := u.counters[k]
	if c != nil && c.loaded {
		return c, nil
	}
	var stored int64
	var maxCount sql.NullInt64
	var overage bool
	err := tx.QueryRow(ctx, sqlUsageCounter, k.arn, k.name).Scan(&stored, &maxCount, &overage)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		tx.noteErr(err)
		return nil, err
	}
	u.save(k)
	if c == nil {
		c = &usageCounter{}
		u.counters[k] = c
	}
	c.loaded, c.exists = true, err == nil
	c.stored, c.maxCount, c.overage = stored, maxCount, overage
	return c, nil
}

// take takes units of k if its limit allows, as ConsumeEntitlement's UPDATE would.
func (u *usageBatch) take(ctx context.Context, tx *Tx, k usageKey, units int64) (bool, error) {
	c, err := u.counter(ctx, tx, k)
	if err != nil {
		return false, err
	}
	if !c.exists || !c.maxCount.Valid || !(c.overage || c.stored+c.delta+units <= c.maxCount.Int64) {
		return false, nil
	}
	u.save(k)
	c.delta += units
	tx.wrote = true
	return true, nil
}

// give returns units to k (written at the end of the batch).
func (u *usageBatch) give(tx *Tx, k usageKey, units int64) {
	u.save(k)
	c := u.counters[k]
	if c == nil {
		c = &usageCounter{}
		u.counters[k] = c
	}
	c.delta -= units
	tx.wrote = true
}

// flush writes every pending change, in (license, name) order, and forgets the counters, so
// that the statements that follow read and write the table itself.
func (u *usageBatch) flush(exec func(query string, args ...any) error) error {
	if len(u.counters) == 0 {
		return nil
	}
	keys := make([]usageKey, 0, len(u.counters))
	for k, c := range u.counters {
		u.save(k)
		if c.delta != 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b usageKey) int { return cmp.Or(strings.Compare(a.arn, b.arn), strings.Compare(a.name, b.name)) })
	for _, k := range keys {
		if err := exec(sqlUsageAdd, u.counters[k].delta, k.arn, k.name); err != nil {
			return fmt.Errorf("store: usage of %s, %s: %w", k.arn, k.name, err)
		}
	}
	clear(u.counters)
	return nil
}

// flushUsage writes the batch's pending counter changes; every statement on
// license_entitlement_usage but usageBatch's own comes after it.
func (tx *Tx) flushUsage(ctx context.Context) error {
	u := tx.usage
	if u == nil {
		return nil
	}
	return u.flush(func(query string, args ...any) error {
		_, err := tx.Exec(ctx, query, args...)
		return err
	})
}

// sqlCheckInKnown is sqlCheckInIf without RETURNING, for a checkout whose license and
// entitlements are known (see checkoutCache): returning a row through database/sql costs a
// check-in about as much again as the UPDATE.
const sqlCheckInKnown = `UPDATE license_checkouts SET status = ?, ended_at = ?
	WHERE token = ? AND account_id = ? AND status = 'ACTIVE' AND (expires_at IS NULL OR expires_at > ?) AND early_check_in
		AND (? = '' OR beneficiary = ?)`

// openCheckout is what a check-in needs of an ACTIVE checkout: the columns that never change
// once it is stored, and its expiry, which only ExtendCheckout changes.
type openCheckout struct {
	token        string
	licenseARN   string
	borrow       bool
	expiresAt    time.Time
	entitlements []CheckoutEntitlement
}

// checkoutCacheSize bounds a checkoutCache: about 200 bytes an entry.
const checkoutCacheSize = 1 << 15

// checkoutCache keeps the last checkoutCacheSize checkouts the SQLite writer committed, so
// that checking one of them in is one UPDATE without RETURNING. A token is never stored
// twice, and an entry is dropped when it is used or its checkout extended; a check-in
// still decides by its UPDATE alone whether the checkout is ACTIVE, unexpired and the
// caller's. Used by the writer's goroutine only.
type checkoutCache struct {
	m    map[string]*openCheckout
	ring []string // tokens in the order added
	next int
}

func newCheckoutCache() *checkoutCache {
	return &checkoutCache{m: make(map[string]*openCheckout), ring: make([]string, checkoutCacheSize)}
}

// add keeps c, dropping the oldest entry when the cache is full.
func (cc *checkoutCache) add(c openCheckout) {
	if old := cc.ring[cc.next]; old != "" {
		delete(cc.m, old)
	}
	cc.ring[cc.next] = c.token
	cc.next = (cc.next + 1) % len(cc.ring)
	cc.m[c.token] = &c
}

// take returns and drops token's entry, or nil.
func (cc *checkoutCache) take(token string) *openCheckout {
	c := cc.m[token]
	if c != nil {
		delete(cc.m, token)
	}
	return c
}

// created notes a checkout stored in the batch.
func (u *usageBatch) created(c *Checkout) {
	if u.checkouts == nil || c.Status != CheckoutActive {
		return
	}
	u.open = append(u.open, openCheckout{token: c.Token, licenseARN: c.LicenseARN, borrow: c.Borrow, expiresAt: c.ExpiresAt,
		entitlements: slices.Clone(c.Entitlements)})
}

// committed hands the batch's checkouts to the writer's cache, after its COMMIT.
func (u *usageBatch) committed() {
	for _, c := range u.open {
		u.checkouts.add(c)
	}
}

// checkInKnown is CheckInIf for a checkout in the writer's cache; done false: it is not,
// or allow refused it (the caller then reads the checkout with its UPDATE, and allow
// decides on what is stored).
func (tx *Tx) checkInKnown(ctx context.Context, u *usageBatch, token, accountID, beneficiary string, now time.Time, allow func(*Checkout) error) (ended, done bool, err error) {
	if u.checkouts == nil {
		return false, false, nil
	}
	oc := u.checkouts.take(token)
	if oc == nil {
		return false, false, nil
	}
	c := &Checkout{Token: token, LicenseARN: oc.licenseARN, Borrow: oc.borrow, ExpiresAt: oc.expiresAt, Entitlements: oc.entitlements}
	if allow(c) != nil {
		return false, false, nil
	}
	res, err := tx.Exec(ctx, sqlCheckInKnown, CheckoutCheckedIn, now, token, accountID, now, beneficiary, beneficiary)
	if err != nil {
		return false, true, fmt.Errorf("store: check in %q: %w", token, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, true, err
	}
	units := map[string]int64{}
	for _, e := range c.Entitlements {
		if e.Units > 0 {
			units[e.Name] += e.Units
		}
	}
	for n, v := range units {
		u.give(tx, usageKey{c.LicenseARN, n}, v)
	}
	return true, true, nil
}
