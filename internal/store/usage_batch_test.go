package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

// TestBatchedUsage runs, on both stores, checkouts, check-ins and requests that fail after
// taking units (some after reading the counters, which writes the batch's changes so far)
// from many goroutines at once, so that group-commit batches mix them: no count ever passes
// MaxCount, neither as stored nor as the clients hold it, the stored count always equals the
// ACTIVE checkouts, a failed request keeps nothing, a checkout is checked in once, and at the
// end every unit is back.
func TestBatchedUsage(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		testBatchedUsage(t, storetest.OpenDSN(t, sqliteDSN(t), storetest.NewBox(t), store.Options{}))
	})
	t.Run("postgres", func(t *testing.T) {
		testBatchedUsage(t, storetest.OpenDSN(t, postgresDSN(t), storetest.NewBox(t), store.Options{}))
	})
}

func testBatchedUsage(t *testing.T, db *store.DB) {
	ctx := context.Background()
	const maxCount = 25
	acct, arn := newLicense(t, db, store.EntitlementLimit{Name: "Seats", Unit: "Count", MaxCount: ptr[int64](maxCount)})
	other := fmt.Sprintf("%012d", (time.Now().UnixNano()+7)%1_000_000_000_000)
	now := time.Now().UTC().Truncate(time.Second)
	seat := store.CheckoutEntitlement{Name: "Seats", Unit: "Count", Value: "1", Units: 1, AllowCheckIn: true}
	newCheckout := func(token string) *store.Checkout {
		return &store.Checkout{Token: token, AccountID: acct, LicenseARN: arn, LicenseVersion: 1, Beneficiary: "cust",
			CheckoutType: "PROVISIONAL", EarlyCheckIn: true, Entitlements: []store.CheckoutEntitlement{seat}, IssuedAt: now,
			ExpiresAt: now.Add(time.Hour), Status: store.CheckoutActive, ClientToken: "ct-" + token, Request: "digest"}
	}
	checkIn := func(token, account string) (bool, error) {
		var ok bool
		err := db.Update(ctx, func(tx *store.Tx) (err error) {
			ok, err = tx.CheckInIf(ctx, token, account, "", now, func(*store.Checkout) error { return nil })
			return err
		})
		return ok, err
	}
	errFail := errors.New("failed after taking a unit")

	var held atomic.Int64 // checkouts answered and not yet checked in
	var heldMax atomic.Int64
	stop := make(chan struct{})
	polled := make(chan error, 1)
	go func() { // the stored count, as another reader sees it, during the run
		defer close(polled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			if u := usageOf(t, db, arn, now); u["Seats"] > maxCount {
				polled <- fmt.Errorf("stored count %d > MaxCount %d", u["Seats"], maxCount)
				return
			}
		}
	}()

	const workers, rounds = 48, 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	report := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				token := fmt.Sprintf("tok-%02d-%02d", w, r)
				switch (w + r) % 4 {
				case 0: // takes a unit, then fails: nothing stays
					err := db.Update(ctx, func(tx *store.Tx) error {
						if _, err := tx.ConsumeEntitlement(ctx, arn, "Seats", 1); err != nil {
							return err
						}
						return errFail
					})
					if !errors.Is(err, errFail) {
						report(fmt.Errorf("%s: failing request = %v", token, err))
					}
				case 1: // takes a unit, reads the counters, stores a checkout, then fails
					err := db.Update(ctx, func(tx *store.Tx) error {
						ok, err := tx.ConsumeEntitlement(ctx, arn, "Seats", 1)
						if err != nil || !ok {
							return errors.Join(err, errFail)
						}
						if _, err := tx.EntitlementCounters(ctx, arn); err != nil {
							return err
						}
						if err := tx.CreateCheckout(ctx, newCheckout(token)); err != nil {
							return err
						}
						return errFail
					})
					if !errors.Is(err, errFail) {
						report(fmt.Errorf("%s: failing request = %v", token, err))
					}
					err = db.View(ctx, func(tx *store.Tx) error { _, err := tx.Checkout(ctx, token); return err })
					if !errors.Is(err, store.ErrNotFound) {
						report(fmt.Errorf("%s: checkout of a failed request: %v; want ErrNotFound", token, err))
					}
					if ok, err := checkIn(token, acct); ok || err != nil {
						report(fmt.Errorf("%s: check-in of a failed request's checkout = %v, %v", token, ok, err))
					}
				default: // checks out, holds, checks in (twice, and once as another account)
					var taken bool
					err := db.Update(ctx, func(tx *store.Tx) (err error) {
						taken, err = takeAndCreate(ctx, tx, newCheckout(token), "Seats", 1)
						return err
					})
					if err != nil {
						report(fmt.Errorf("%s: checkout: %v", token, err))
						continue
					}
					if !taken {
						continue
					}
					for h := held.Add(1); ; {
						if m := heldMax.Load(); h <= m || heldMax.CompareAndSwap(m, h) {
							break
						}
					}
					if ok, err := checkIn(token, other); ok || err != nil {
						report(fmt.Errorf("%s: check-in by another account = %v, %v", token, ok, err))
					}
					if r%3 == 0 {
						err := db.Update(ctx, func(tx *store.Tx) error {
							_, err := tx.ExtendCheckout(ctx, token, now.Add(2*time.Hour), now)
							return err
						})
						if err != nil {
							report(fmt.Errorf("%s: extend: %v", token, err))
						}
					}
					held.Add(-1) // before the check-ins are sent: they may return the unit at once
					var ended [2]bool
					var ewg sync.WaitGroup
					for i := range ended {
						ewg.Go(func() {
							ok, err := checkIn(token, acct)
							if err != nil {
								report(fmt.Errorf("%s: check-in: %v", token, err))
							}
							ended[i] = ok
						})
					}
					ewg.Wait()
					if ended[0] == ended[1] {
						report(fmt.Errorf("%s: two check-ins ended it %v, %v times; want once", token, ended[0], ended[1]))
					}
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	if err := <-polled; err != nil {
		t.Error(err)
	}
	for _, err := range errs {
		t.Error(err)
	}
	if heldMax.Load() > maxCount {
		t.Errorf("clients held %d checkouts at once, MaxCount %d", heldMax.Load(), maxCount)
	}
	var active int64
	err := db.View(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM license_checkouts WHERE license_arn = ? AND status = 'ACTIVE'`, arn).Scan(&active)
	})
	if err != nil {
		t.Fatal(err)
	}
	if u := usageOf(t, db, arn, now); u["Seats"] != 0 || active != 0 {
		t.Errorf("after every check-in: consumed %d, %d checkouts ACTIVE; want 0, 0", u["Seats"], active)
	}
}
