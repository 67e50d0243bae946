package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

// TestCheckoutRace runs the checkout hot path's store statements on both stores.
func TestCheckoutRace(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dsn, box := sqliteDSN(t), storetest.NewBox(t)
		testCheckoutRace(t, storetest.OpenDSN(t, dsn, box, store.Options{}))
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, box := postgresDSN(t), storetest.NewBox(t)
		// Two stores on one database: two server processes, four writers each.
		a := storetest.OpenDSN(t, dsn, box, store.Options{})
		b := storetest.OpenDSN(t, dsn, box, store.Options{})
		testCheckoutRace(t, a, b)
	})
}

// testCheckoutRace checks out one unit at a time (ConsumeEntitlement, then CreateCheckout,
// in one Update, as CheckoutLicense does) from many goroutines spread over dbs (stores on one
// database), every ClientToken sent twice at once: no more units are taken than MaxCount,
// every stored checkout holds its unit and no other request does, a ClientToken is stored
// once, and the second request with it fails with ErrConflict having kept nothing. Then
// checking everything in through the other store returns every unit once, also of a checkout
// of two counted entitlements and one not counted, and no configuration generation passed.
func testCheckoutRace(t *testing.T, dbs ...*store.DB) {
	ctx := context.Background()
	db := dbs[0]
	const maxCount, tokens = 40, 60
	acct, arn := newLicense(t, db,
		store.EntitlementLimit{Name: "Seats", Unit: "Count", MaxCount: ptr[int64](maxCount)},
		store.EntitlementLimit{Name: "Cores", Unit: "Count", MaxCount: ptr[int64](100)},
		store.EntitlementLimit{Name: "Edition", Unit: "None"})
	now := time.Now().UTC().Truncate(time.Second)
	newCheckout := func(token, clientToken string, es ...store.CheckoutEntitlement) *store.Checkout {
		return &store.Checkout{Token: token, AccountID: acct, LicenseARN: arn, LicenseVersion: 1, Beneficiary: "cust",
			CheckoutType: "PROVISIONAL", EarlyCheckIn: true, Entitlements: es, IssuedAt: now, ExpiresAt: now.Add(time.Hour),
			Status: store.CheckoutActive, ClientToken: clientToken, Request: "digest"}
	}
	seat := store.CheckoutEntitlement{Name: "Seats", Unit: "Count", Value: "1", Units: 1, AllowCheckIn: true}

	type result struct {
		token, clientToken string
		taken              bool
		err                error
	}
	gen := db.Generation()
	results := make(chan result, 2*tokens)
	var wg sync.WaitGroup
	for i := range 2 * tokens {
		wg.Go(func() {
			r := result{token: fmt.Sprintf("tok-%03d", i), clientToken: fmt.Sprintf("ct-%03d", i%tokens)}
			c := newCheckout(r.token, r.clientToken, seat)
			r.err = dbs[i%len(dbs)].Update(ctx, func(tx *store.Tx) (err error) {
				r.taken, err = takeAndCreate(ctx, tx, c, "Seats", 1)
				return err
			})
			results <- r
		})
	}
	wg.Wait()
	close(results)
	stored := map[string]string{} // client token → token
	refused := 0
	for r := range results {
		switch {
		case r.err == nil && r.taken:
			if other, dup := stored[r.clientToken]; dup {
				t.Errorf("client token %s stored twice: %s and %s", r.clientToken, other, r.token)
			}
			stored[r.clientToken] = r.token
		case r.err == nil:
			refused++
		case errors.Is(r.err, store.ErrConflict) && r.taken:
		default:
			t.Errorf("checkout %s = %v, %v", r.token, r.taken, r.err)
		}
	}
	if len(stored) != maxCount {
		t.Errorf("%d checkouts stored, want %d (MaxCount; %d client tokens)", len(stored), maxCount, tokens)
	}
	if u := usageOf(t, db, arn, now); u["Seats"] != int64(len(stored)) {
		t.Errorf("Seats consumed = %d with %d checkouts stored", u["Seats"], len(stored))
	}
	for ct, token := range stored {
		var c *store.Checkout
		err := db.View(ctx, func(tx *store.Tx) (err error) {
			c, err = tx.CheckoutByClientToken(ctx, acct, ct)
			return err
		})
		if err != nil || c.Token != token || c.Status != store.CheckoutActive || len(c.Entitlements) != 1 || c.Entitlements[0].Units != 1 {
			t.Errorf("checkout with client token %s = %+v, %v; want token %s", ct, c, err, token)
		}
	}

	// Refused: nothing written, not even the checkout.
	var taken bool
	err := db.Update(ctx, func(tx *store.Tx) (err error) {
		taken, err = takeAndCreate(ctx, tx, newCheckout("tok-full", "ct-full", seat), "Seats", 1)
		return err
	})
	if taken || err != nil {
		t.Errorf("checkout of a full license = %v, %v; want false, nil", taken, err)
	}
	err = db.View(ctx, func(tx *store.Tx) error { _, err := tx.Checkout(ctx, "tok-full"); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("checkout refused for want of units: Checkout = %v, want ErrNotFound", err)
	}

	// Every checkout checked in through the other store gives its unit back once.
	checkIn := func(db *store.DB, token string) bool {
		t.Helper()
		var ok bool
		err := db.Update(ctx, func(tx *store.Tx) (err error) {
			ok, err = tx.CheckInIf(ctx, token, acct, "", now, func(*store.Checkout) error { return nil })
			return err
		})
		if err != nil {
			t.Fatalf("CheckInIf(%s): %v", token, err)
		}
		return ok
	}
	for _, token := range stored {
		if !checkIn(dbs[len(dbs)-1], token) || checkIn(db, token) {
			t.Errorf("CheckInIf(%s): want true once, then false", token)
		}
	}
	if u := usageOf(t, db, arn, now); u["Seats"] != 0 {
		t.Errorf("Seats consumed after every check-in = %d, want 0", u["Seats"])
	}

	// A checkout of two counted entitlements and one not counted (its other counter taken
	// first, as the service does): the check-in returns each counter's units.
	multi := newCheckout("tok-multi", "ct-multi",
		store.CheckoutEntitlement{Name: "Cores", Unit: "Count", Value: "3", Units: 3, AllowCheckIn: true},
		store.CheckoutEntitlement{Name: "Edition", Unit: "None", Value: "Pro"},
		store.CheckoutEntitlement{Name: "Seats", Unit: "Count", Value: "1", Units: 1, AllowCheckIn: true})
	err = db.Update(ctx, func(tx *store.Tx) error {
		if ok, err := tx.ConsumeEntitlement(ctx, arn, "Cores", 3); err != nil || !ok {
			return fmt.Errorf("consume Cores: %v, %w", ok, err)
		}
		taken, err = takeAndCreate(ctx, tx, multi, "Seats", 1)
		return err
	})
	if !taken || err != nil {
		t.Fatalf("checkout of two counted entitlements = %v, %v", taken, err)
	}
	if u := usageOf(t, db, arn, now); u["Seats"] != 1 || u["Cores"] != 3 {
		t.Errorf("usage with the checkout of two counted entitlements out = %v, want Seats 1, Cores 3", u)
	}
	if !checkIn(dbs[len(dbs)-1], "tok-multi") || checkIn(db, "tok-multi") {
		t.Error("CheckInIf(tok-multi): want true once, then false")
	}
	if u := usageOf(t, db, arn, now); u["Seats"] != 0 || u["Cores"] != 0 {
		t.Errorf("usage after every check-in = %v, want none", u)
	}
	// Checkouts change no configuration: the caches stay valid.
	if g := db.Generation(); g != gen {
		t.Errorf("Generation changed from %d to %d by checkouts and check-ins", gen, g)
	}
}

// takeAndCreate takes units of one entitlement of c's license and, when it could, stores c.
func takeAndCreate(ctx context.Context, tx *store.Tx, c *store.Checkout, name string, units int64) (bool, error) {
	ok, err := tx.ConsumeEntitlement(ctx, c.LicenseARN, name, units)
	if err != nil || !ok {
		return false, err
	}
	return true, tx.CreateCheckout(ctx, c)
}

// newLicense stores an account and a license of it with the given limits.
func newLicense(t *testing.T, db *store.DB, limits ...store.EntitlementLimit) (acct, arn string) {
	t.Helper()
	ctx := context.Background()
	acct = fmt.Sprintf("%012d", time.Now().UnixNano()%1_000_000_000_000)
	arn = "arn:aws:license-manager::" + acct + ":license:l-" + fmt.Sprintf("%032x", time.Now().UnixNano())
	err := db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.CreateAccount(ctx, &store.Account{ID: acct, Name: "acct", Status: "ACTIVE", CreatedAt: tx.Now()}); err != nil {
			return err
		}
		l := &store.License{ARN: arn, AccountID: acct, HomeRegion: "us-east-1", Version: 1, Status: "AVAILABLE",
			ProductSKU: "sku", Beneficiary: "b", Fingerprint: "fp", Body: `{}`, CreatedAt: tx.Now(), VersionAt: tx.Now()}
		if err := tx.CreateLicense(ctx, l); err != nil {
			return err
		}
		return tx.PutEntitlementLimits(ctx, arn, limits)
	})
	if err != nil {
		t.Fatal(err)
	}
	return acct, arn
}

// usageOf returns a license's consumed units by entitlement name.
func usageOf(t *testing.T, db *store.DB, arn string, now time.Time) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := db.View(context.Background(), func(tx *store.Tx) error {
		us, err := tx.EntitlementUsage(context.Background(), arn, now)
		for _, u := range us {
			out[u.Name] = u.Consumed
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ptr[T any](v T) *T { return &v }
