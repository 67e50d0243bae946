package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/store"
)

func runCheckouts(t *testing.T, open func(t testing.TB) *store.DB) {
	t.Run("EntitlementLimits", func(t *testing.T) { testEntitlementLimits(t, open(t)) })
	t.Run("ConcurrentConsume", func(t *testing.T) { testConcurrentConsume(t, open(t)) })
	t.Run("Checkouts", func(t *testing.T) { testCheckouts(t, open(t)) })
	t.Run("ConcurrentReclaim", func(t *testing.T) { testConcurrentReclaim(t, open(t)) })
	t.Run("CheckInIf", func(t *testing.T) { testCheckInIf(t, open(t)) })
}

// testCheckInIf checks the one-statement check-in: it ends only an ACTIVE, unexpired checkout
// of the account (and beneficiary, when given), returns its units once, and changes nothing
// when its allow function refuses.
func testCheckInIf(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct := createAccount(t, db)
	arn := newStoredLicense(t, db, acct, store.EntitlementLimit{Name: "Seats", Unit: "Count", MaxCount: count(10)})
	now := time.Now().UTC().Truncate(time.Second)
	a := newCheckout(acct, arn, "tok-a", 2, now, now.Add(time.Hour))
	old := newCheckout(acct, arn, "tok-old", 3, now, now.Add(time.Minute))
	checkout(t, db, a)
	checkout(t, db, old)
	allowAll := func(*store.Checkout) error { return nil }
	checkIn := func(token, account, beneficiary string, at time.Time, allow func(*store.Checkout) error) (bool, error) {
		var ok bool
		err := db.Update(ctx, func(tx *store.Tx) (err error) {
			ok, err = tx.CheckInIf(ctx, token, account, beneficiary, at, allow)
			return err
		})
		return ok, err
	}
	for _, c := range []struct {
		name, token, account, beneficiary string
		at                                time.Time
	}{
		{"OtherAccount", "tok-a", newAccountID(), "", now},
		{"OtherBeneficiary", "tok-a", acct, "someone-else", now},
		{"Unknown", "tok-none", acct, "", now},
		{"Expired", "tok-old", acct, "", now.Add(2 * time.Minute)},
	} {
		if ok, err := checkIn(c.token, c.account, c.beneficiary, c.at, allowAll); ok || err != nil {
			t.Errorf("%s: CheckInIf = %v, %v; want false, nil", c.name, ok, err)
		}
	}
	refuse := errors.New("refused")
	var seen *store.Checkout
	if ok, err := checkIn("tok-a", acct, "cust", now, func(c *store.Checkout) error { seen = c; return refuse }); ok || !errors.Is(err, refuse) {
		t.Errorf("CheckInIf(refused) = %v, %v; want false, %v", ok, err, refuse)
	}
	if seen == nil || seen.LicenseARN != arn || seen.Borrow || len(seen.Entitlements) != 1 || seen.Entitlements[0].Units != 2 || !seen.ExpiresAt.Equal(a.ExpiresAt) {
		t.Errorf("allow was given %+v", seen)
	}
	if u := usage(t, db, arn, now); u["Seats"].Consumed != 5 {
		t.Fatalf("consumed after refused check-ins = %d, want 5", u["Seats"].Consumed)
	}
	if ok, err := checkIn("tok-a", acct, "cust", now, allowAll); !ok || err != nil {
		t.Fatalf("CheckInIf = %v, %v; want true", ok, err)
	}
	if ok, err := checkIn("tok-a", acct, "", now, allowAll); ok || err != nil {
		t.Errorf("CheckInIf again = %v, %v; want false, nil", ok, err)
	}
	if u := usage(t, db, arn, now); u["Seats"].Consumed != 3 {
		t.Errorf("consumed after the check-in = %d, want 3", u["Seats"].Consumed)
	}
}

// newStoredLicense stores a license with the given limits and returns its ARN.
func newStoredLicense(t testing.TB, db *store.DB, acct string, limits ...store.EntitlementLimit) string {
	t.Helper()
	ctx := context.Background()
	l := &store.License{ARN: newLicenseARN(acct), AccountID: acct, HomeRegion: "us-east-1", Version: 1, Status: "AVAILABLE",
		ProductSKU: "sku", Beneficiary: "b", Fingerprint: "fp", Body: `{}`}
	update(t, db, func(tx *store.Tx) error {
		l.CreatedAt, l.VersionAt = tx.Now(), tx.Now()
		if err := tx.CreateLicense(ctx, l); err != nil {
			return err
		}
		return tx.PutEntitlementLimits(ctx, l.ARN, limits)
	})
	return l.ARN
}

func count(n int64) *int64 { return &n }

// consume runs one ConsumeEntitlement in its own Update.
func consume(t testing.TB, db *store.DB, arn, name string, units int64) bool {
	t.Helper()
	var ok bool
	update(t, db, func(tx *store.Tx) (err error) {
		ok, err = tx.ConsumeEntitlement(context.Background(), arn, name, units)
		return err
	})
	return ok
}

// usage returns a license's counters by name, exact at now.
func usage(t testing.TB, db *store.DB, arn string, now time.Time) map[string]store.EntitlementUsage {
	t.Helper()
	out := map[string]store.EntitlementUsage{}
	err := db.View(context.Background(), func(tx *store.Tx) error {
		us, err := tx.EntitlementUsage(context.Background(), arn, now)
		for _, u := range us {
			out[u.Name] = u
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func testEntitlementLimits(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct := createAccount(t, db)
	arn := newStoredLicense(t, db, acct,
		store.EntitlementLimit{Name: "Seats", Unit: "Count", MaxCount: count(3)},
		store.EntitlementLimit{Name: "Cores", Unit: "Count", MaxCount: count(1), Overage: true},
		store.EntitlementLimit{Name: "Edition", Unit: "None"})
	steps := []struct {
		name  string
		units int64
		want  bool
	}{
		{"Seats", 2, true}, {"Seats", 2, false}, {"Seats", 1, true}, {"Seats", 1, false},
		{"Cores", 5, true}, {"Cores", 5, true}, // overage
		{"Edition", 1, false}, {"Absent", 1, false}, // not counted, no such entitlement
	}
	for _, s := range steps {
		if got := consume(t, db, arn, s.name, s.units); got != s.want {
			t.Errorf("ConsumeEntitlement(%s, %d) = %v, want %v", s.name, s.units, got, s.want)
		}
	}
	u := usage(t, db, arn, time.Now())
	if u["Seats"].Consumed != 3 || *u["Seats"].MaxCount != 3 || u["Cores"].Consumed != 10 || !u["Cores"].Overage || u["Edition"].MaxCount != nil {
		t.Fatalf("usage = %+v", u)
	}
	// A new version: Seats grows, Cores is removed; units out stay, nothing more is taken.
	update(t, db, func(tx *store.Tx) error {
		return tx.PutEntitlementLimits(ctx, arn, []store.EntitlementLimit{{Name: "Seats", Unit: "Count", MaxCount: count(5)}})
	})
	u = usage(t, db, arn, time.Now())
	if u["Seats"].Consumed != 3 || *u["Seats"].MaxCount != 5 || u["Cores"].Consumed != 10 || *u["Cores"].MaxCount != 0 || u["Cores"].Overage {
		t.Fatalf("usage after a new version = %+v", u)
	}
	if consume(t, db, arn, "Cores", 1) {
		t.Errorf("ConsumeEntitlement(removed Cores) = true, want false")
	}
	if !consume(t, db, arn, "Seats", 2) || consume(t, db, arn, "Seats", 1) {
		t.Errorf("Seats after MaxCount 5: want 2 more and then none")
	}
}

// testConcurrentConsume takes one unit at a time from many goroutines: exactly MaxCount
// succeed, whatever the batching and (on PostgreSQL) the number of writers.
func testConcurrentConsume(t *testing.T, db *store.DB) {
	const maxCount, callers = 25, 200
	acct := createAccount(t, db)
	arn := newStoredLicense(t, db, acct, store.EntitlementLimit{Name: "Seats", Unit: "Count", MaxCount: count(maxCount)})
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			var got bool
			err := db.Update(context.Background(), func(tx *store.Tx) (err error) {
				got, err = tx.ConsumeEntitlement(context.Background(), arn, "Seats", 1)
				return err
			})
			if err != nil {
				t.Error(err)
			}
			if got {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != maxCount {
		t.Errorf("%d of %d concurrent consumes succeeded, want %d", ok.Load(), callers, maxCount)
	}
	if u := usage(t, db, arn, time.Now()); u["Seats"].Consumed != maxCount {
		t.Errorf("consumed = %d, want %d", u["Seats"].Consumed, maxCount)
	}
}

func newCheckout(acct, arn, token string, units int64, issued, expires time.Time) *store.Checkout {
	return &store.Checkout{Token: token, AccountID: acct, LicenseARN: arn, LicenseVersion: 1, Beneficiary: "cust", NodeID: "node",
		CheckoutType: "PROVISIONAL", EarlyCheckIn: true,
		Entitlements: []store.CheckoutEntitlement{{Name: "Seats", Unit: "Count", Value: fmt.Sprint(units), Units: units, AllowCheckIn: true}},
		Metadata:     `[]`, IssuedAt: issued, ExpiresAt: expires, Status: store.CheckoutActive, ClientToken: "ct-" + token, Request: "d-" + token}
}

// checkout takes c's units and stores c in one Update.
func checkout(t testing.TB, db *store.DB, c *store.Checkout) {
	t.Helper()
	update(t, db, func(tx *store.Tx) error {
		ok, err := tx.ConsumeEntitlement(context.Background(), c.LicenseARN, "Seats", c.Entitlements[0].Units)
		if err == nil && !ok {
			err = errors.New("no units left")
		}
		if err != nil {
			return err
		}
		return tx.CreateCheckout(context.Background(), c)
	})
}

func testCheckouts(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct := createAccount(t, db)
	arn := newStoredLicense(t, db, acct, store.EntitlementLimit{Name: "Seats", Unit: "Count", MaxCount: count(10)})
	now := time.Now().UTC().Truncate(time.Second)
	a := newCheckout(acct, arn, "tok-a", 2, now, now.Add(time.Hour))
	b := newCheckout(acct, arn, "tok-b", 3, now, now.Add(time.Minute))
	p := newCheckout(acct, arn, "tok-p", 1, now, time.Time{})
	p.CheckoutType, p.Status, p.EndedAt = "PERPETUAL", store.CheckoutConsumed, now
	for _, c := range []*store.Checkout{a, b, p} {
		checkout(t, db, c)
	}

	// Read back, by token and by ClientToken.
	err := db.View(ctx, func(tx *store.Tx) error {
		got, err := tx.Checkout(ctx, "tok-a")
		if err != nil {
			return err
		}
		if got.AccountID != acct || got.LicenseARN != arn || got.Beneficiary != "cust" || got.NodeID != "node" || !got.IssuedAt.Equal(now) ||
			!got.ExpiresAt.Equal(a.ExpiresAt) || got.Status != store.CheckoutActive || len(got.Entitlements) != 1 || got.Entitlements[0] != a.Entitlements[0] ||
			got.Borrow || !got.EarlyCheckIn || !got.EndedAt.IsZero() {
			t.Errorf("Checkout(tok-a) = %+v, want %+v", got, a)
		}
		if got, err := tx.CheckoutByClientToken(ctx, acct, "ct-tok-p"); err != nil || got.Token != "tok-p" || !got.ExpiresAt.IsZero() || got.Status != store.CheckoutConsumed {
			t.Errorf("CheckoutByClientToken(ct-tok-p) = %+v, %v", got, err)
		}
		if _, err := tx.Checkout(ctx, "tok-none"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Checkout(unknown) error = %v, want ErrNotFound", err)
		}
		if _, err := tx.CheckoutByClientToken(ctx, newAccountID(), "ct-tok-a"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("CheckoutByClientToken(other account) error = %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A ClientToken is unique per account.
	dup := newCheckout(acct, arn, "tok-dup", 1, now, now.Add(time.Hour))
	dup.ClientToken = a.ClientToken
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.CreateCheckout(ctx, dup) }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateCheckout(same ClientToken) error = %v, want ErrConflict", err)
	}
	if u := usage(t, db, arn, now); u["Seats"].Consumed != 6 {
		t.Fatalf("consumed = %d, want 6", u["Seats"].Consumed)
	}

	// Two minutes later b has expired: usage leaves its units out before any reclaim.
	later := now.Add(2 * time.Minute)
	if u := usage(t, db, arn, later); u["Seats"].Consumed != 3 {
		t.Errorf("consumed at +2m before reclaim = %d, want 3", u["Seats"].Consumed)
	}
	var extended, checkedIn bool
	update(t, db, func(tx *store.Tx) (err error) {
		if extended, err = tx.ExtendCheckout(ctx, "tok-b", later.Add(time.Hour), later); err != nil {
			return err
		}
		checkedIn, err = tx.CheckInCheckout(ctx, "tok-b", later)
		return err
	})
	if extended || checkedIn {
		t.Errorf("ExtendCheckout, CheckInCheckout of an expired checkout = %v, %v; want false, false", extended, checkedIn)
	}
	var n, again int
	update(t, db, func(tx *store.Tx) (err error) {
		if n, err = tx.ReclaimExpiredCheckouts(ctx, later, "", 100); err != nil {
			return err
		}
		again, err = tx.ReclaimExpiredCheckouts(ctx, later, arn, 100)
		return err
	})
	if n != 1 || again != 0 {
		t.Errorf("ReclaimExpiredCheckouts = %d then %d, want 1 then 0", n, again)
	}
	err = db.View(ctx, func(tx *store.Tx) error {
		got, err := tx.Checkout(ctx, "tok-b")
		if err == nil && (got.Status != store.CheckoutExpired || !got.EndedAt.Equal(later)) {
			t.Errorf("reclaimed checkout = %s ended %v, want EXPIRED at %v", got.Status, got.EndedAt, later)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if u := usage(t, db, arn, later); u["Seats"].Consumed != 3 {
		t.Errorf("consumed after reclaim = %d, want 3", u["Seats"].Consumed)
	}

	// a: extend, then check in (once).
	update(t, db, func(tx *store.Tx) (err error) {
		if extended, err = tx.ExtendCheckout(ctx, "tok-a", later.Add(time.Hour), later); err != nil {
			return err
		}
		checkedIn, err = tx.CheckInCheckout(ctx, "tok-a", later)
		return err
	})
	if !extended || !checkedIn {
		t.Errorf("ExtendCheckout, CheckInCheckout = %v, %v; want true, true", extended, checkedIn)
	}
	update(t, db, func(tx *store.Tx) (err error) {
		checkedIn, err = tx.CheckInCheckout(ctx, "tok-a", later)
		return err
	})
	if checkedIn {
		t.Errorf("CheckInCheckout(twice) = true, want false")
	}
	if u := usage(t, db, arn, later); u["Seats"].Consumed != 1 {
		t.Errorf("consumed after check-in = %d, want 1 (the perpetual one)", u["Seats"].Consumed)
	}

	// Purge: the ended checkouts go once the retention passes; nothing else does.
	var purged int
	update(t, db, func(tx *store.Tx) (err error) { purged, err = tx.PurgeCheckouts(ctx, later, 100); return err })
	if purged != 1 { // p ended at now
		t.Errorf("PurgeCheckouts(before +2m) = %d, want 1", purged)
	}
	update(t, db, func(tx *store.Tx) (err error) {
		purged, err = tx.PurgeCheckouts(ctx, later.Add(time.Second), 100)
		return err
	})
	if purged != 2 {
		t.Errorf("PurgeCheckouts(after) = %d, want 2", purged)
	}
}

// testConcurrentReclaim reclaims the same expired checkouts from many transactions at once:
// each checkout's units return once.
func testConcurrentReclaim(t *testing.T, db *store.DB) {
	const checkouts = 40
	acct := createAccount(t, db)
	arn := newStoredLicense(t, db, acct, store.EntitlementLimit{Name: "Seats", Unit: "Count", MaxCount: count(checkouts)})
	now := time.Now().UTC().Truncate(time.Second)
	for i := range checkouts {
		checkout(t, db, newCheckout(acct, arn, fmt.Sprint("tok-", i), 1, now, now.Add(time.Minute)))
	}
	later := now.Add(time.Hour)
	var total atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			var n int
			err := db.Update(context.Background(), func(tx *store.Tx) (err error) {
				n, err = tx.ReclaimExpiredCheckouts(context.Background(), later, "", 7)
				return err
			})
			if err != nil {
				t.Error(err)
			}
			total.Add(int64(n))
		})
	}
	wg.Wait()
	var rest int
	update(t, db, func(tx *store.Tx) (err error) {
		rest, err = tx.ReclaimExpiredCheckouts(context.Background(), later, arn, 1000)
		return err
	})
	if got := total.Load() + int64(rest); got != checkouts {
		t.Errorf("reclaimed %d checkouts in all, want %d", got, checkouts)
	}
	err := db.View(context.Background(), func(tx *store.Tx) error {
		cs, err := tx.EntitlementCounters(context.Background(), arn)
		if err == nil && (len(cs) != 1 || cs[0].Consumed != 0) {
			t.Errorf("counters after reclaim = %+v, want 0 consumed", cs)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
