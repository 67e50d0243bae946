// Package storetest is the conformance suite every store dialect must pass. sqlite_test.go
// runs it on a temporary SQLite file; postgres_test.go on a fresh PostgreSQL database when
// ALLOT_TEST_POSTGRES_DSN is set.
package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/secrets"
	"github.com/allot-dev/allot/internal/store"
)

// Run runs the cases that need one fresh, open database each; open returns one and closes it
// when the test ends.
func Run(t *testing.T, open func(t testing.TB) *store.DB) {
	t.Run("Accounts", func(t *testing.T) { testAccounts(t, open(t)) })
	t.Run("AccessKeys", func(t *testing.T) { testAccessKeys(t, open(t)) })
	t.Run("SecretsSealed", func(t *testing.T) { testSecretsSealed(t, open(t)) })
	t.Run("Settings", func(t *testing.T) { testSettings(t, open(t)) })
	t.Run("ConflictThenContinue", func(t *testing.T) { testConflictThenContinue(t, open(t)) })
	t.Run("RawExecErrors", func(t *testing.T) { testRawExecErrors(t, open(t)) })
	t.Run("Rollback", func(t *testing.T) { testRollback(t, open(t)) })
	t.Run("Panic", func(t *testing.T) { testPanic(t, open(t)) })
	t.Run("Context", func(t *testing.T) { testContext(t, open(t)) })
	t.Run("TxAfterFunc", func(t *testing.T) { testTxAfterFunc(t, open(t)) })
	t.Run("ViewReadOnly", func(t *testing.T) { testViewReadOnly(t, open(t)) })
	t.Run("Times", func(t *testing.T) { testTimes(t, open(t)) })
	t.Run("ConcurrentUpdates", func(t *testing.T) { testConcurrentUpdates(t, open(t)) })
	t.Run("MixedBatch", func(t *testing.T) { testMixedBatch(t, open(t)) })
	t.Run("AuditWithChange", func(t *testing.T) { testAuditWithChange(t, open(t)) })
	t.Run("AuditLookup", func(t *testing.T) { testAuditLookup(t, open(t)) })
	t.Run("AuditLookupErrors", func(t *testing.T) { testAuditLookupErrors(t, open(t)) })
	t.Run("Generation", func(t *testing.T) { testGeneration(t, open(t)) })
	t.Run("Cache", func(t *testing.T) { testCache(t, open(t)) })
	runIAM(t, open)
	runOrganizations(t, open)
	runLicenses(t, open)
	runCheckouts(t, open)
	runTokens(t, open)
	runLicenseConfigurations(t, open)
}

// Quiet returns a logger that drops everything, for tests whose failures log on purpose.
func Quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// NewBox returns a Box under a fresh random key.
func NewBox(t testing.TB) *secrets.Box {
	t.Helper()
	key := make([]byte, secrets.KeySize)
	rand.Read(key)
	box, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// newAccountID returns a random 12-digit account ID.
func newAccountID() string { return fmt.Sprintf("%012d", 100000000000+mrand.Int64N(900000000000)) }

func newKeyID() string {
	return "AKIA" + strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", ""))[:16]
}

// update runs fn through db.Update, with the pending audit event p when one is given.
func update(t testing.TB, db *store.DB, fn func(*store.Tx) error, p ...*audit.Pending) {
	t.Helper()
	ctx := context.Background()
	if len(p) > 0 {
		ctx = audit.WithPending(ctx, p[0])
	}
	if err := db.Update(ctx, fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func createAccount(t testing.TB, db *store.DB) string {
	t.Helper()
	id := newAccountID()
	update(t, db, func(tx *store.Tx) error {
		return tx.CreateAccount(context.Background(), &store.Account{ID: id, Name: "acct", Status: "ACTIVE", CreatedAt: tx.Now()})
	})
	return id
}

func testAccounts(t *testing.T, db *store.DB) {
	ctx := context.Background()
	id := newAccountID()
	var created time.Time
	update(t, db, func(tx *store.Tx) error {
		created = tx.Now()
		return tx.CreateAccount(ctx, &store.Account{ID: id, Name: "prod", Email: "ops@example.com", Status: "ACTIVE", CreatedAt: created})
	})
	err := db.View(ctx, func(tx *store.Tx) error {
		got, err := tx.Account(ctx, id)
		if err != nil {
			return err
		}
		want := store.Account{ID: id, Name: "prod", Email: "ops@example.com", Status: "ACTIVE", CreatedAt: created}
		if *got != want {
			t.Errorf("Account(%s) = %+v, want %+v", id, *got, want)
		}
		if _, err := tx.Account(ctx, "999999999999"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Account(missing) error = %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("ErrConflict", func(t *testing.T) {
		err := db.Update(ctx, func(tx *store.Tx) error {
			return tx.CreateAccount(ctx, &store.Account{ID: id, Name: "again", Status: "ACTIVE", CreatedAt: tx.Now()})
		})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("CreateAccount(existing) error = %v, want ErrConflict", err)
		}
		if !strings.Contains(err.Error(), id) {
			t.Errorf("error %q does not name the account", err)
		}
	})
	t.Run("ErrConstraint", func(t *testing.T) {
		for _, bad := range []string{"12345", "12345678901a", ""} {
			err := db.Update(ctx, func(tx *store.Tx) error {
				return tx.CreateAccount(ctx, &store.Account{ID: bad, Name: "x", Status: "ACTIVE", CreatedAt: tx.Now()})
			})
			if !errors.Is(err, store.ErrConstraint) {
				t.Errorf("CreateAccount(%q) error = %v, want ErrConstraint", bad, err)
			}
		}
	})
}

func testAccessKeys(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct := createAccount(t, db)
	root := &store.AccessKey{ID: newKeyID(), AccountID: acct, Kind: identity.KindRoot, Secret: "root/secret+" + uuid.NewString(), Status: "Active"}
	user := &store.AccessKey{ID: newKeyID(), AccountID: acct, Kind: identity.KindIAMUser, UserName: "alice", Secret: "user/secret+" + uuid.NewString(), Status: "Inactive"}
	update(t, db, func(tx *store.Tx) error {
		root.CreatedAt, user.CreatedAt = tx.Now(), tx.Now()
		if err := tx.CreateAccessKey(ctx, root); err != nil {
			return err
		}
		// Read-your-writes inside the transaction.
		got, err := tx.AccessKey(ctx, root.ID)
		if err != nil {
			return err
		}
		if *got != *root {
			t.Errorf("tx.AccessKey inside Update = %+v, want %+v", *got, *root)
		}
		return tx.CreateAccessKey(ctx, user)
	})
	for _, want := range []*store.AccessKey{root, user} {
		got, err := db.AccessKey(ctx, want.ID)
		if err != nil {
			t.Fatalf("db.AccessKey(%s): %v", want.ID, err)
		}
		if *got != *want {
			t.Errorf("db.AccessKey(%s) = %+v, want %+v", want.ID, *got, *want)
		}
		err = db.View(ctx, func(tx *store.Tx) error {
			got, err := tx.AccessKey(ctx, want.ID)
			if err == nil && *got != *want {
				t.Errorf("tx.AccessKey(%s) = %+v, want %+v", want.ID, *got, *want)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.AccessKey(ctx, "AKIADOESNOTEXIST0000"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("db.AccessKey(missing) error = %v, want ErrNotFound", err)
	}

	t.Run("ErrConflict", func(t *testing.T) {
		err := db.Update(ctx, func(tx *store.Tx) error {
			dup := *user
			dup.Secret = "other"
			return tx.CreateAccessKey(ctx, &dup)
		})
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("CreateAccessKey(existing) error = %v, want ErrConflict", err)
		}
		got, err := db.AccessKey(ctx, user.ID)
		if err != nil || got.Secret != user.Secret {
			t.Fatalf("after a conflicting create the key is %+v, %v; want it unchanged", got, err)
		}
	})
	t.Run("ErrConstraint", func(t *testing.T) {
		cases := map[string]*store.AccessKey{
			"unknown account":   {ID: newKeyID(), AccountID: "000000000001", Kind: identity.KindRoot, Secret: "s", Status: "Active"},
			"bad status":        {ID: newKeyID(), AccountID: acct, Kind: identity.KindRoot, Secret: "s", Status: "Enabled"},
			"user without name": {ID: newKeyID(), AccountID: acct, Kind: identity.KindIAMUser, Secret: "s", Status: "Active"},
			"bad kind":          {ID: newKeyID(), AccountID: acct, Kind: "Service", Secret: "s", Status: "Active"},
		}
		for name, k := range cases {
			err := db.Update(ctx, func(tx *store.Tx) error { return tx.CreateAccessKey(ctx, k) })
			if !errors.Is(err, store.ErrConstraint) {
				t.Errorf("CreateAccessKey(%s) error = %v, want ErrConstraint", name, err)
			}
		}
	})
}

func testSecretsSealed(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct := createAccount(t, db)
	secret := "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + uuid.NewString()
	a := &store.AccessKey{ID: newKeyID(), AccountID: acct, Kind: identity.KindRoot, Secret: secret, Status: "Active"}
	b := &store.AccessKey{ID: newKeyID(), AccountID: acct, Kind: identity.KindRoot, Secret: "another", Status: "Active"}
	update(t, db, func(tx *store.Tx) error {
		if err := tx.CreateAccessKey(ctx, a); err != nil {
			return err
		}
		return tx.CreateAccessKey(ctx, b)
	})
	var raw string
	err := db.View(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `SELECT secret_sealed FROM access_keys WHERE id = ?`, a.ID).Scan(&raw)
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, secret) || strings.Contains(raw, secret[:20]) || !strings.HasPrefix(raw, "v1:") {
		t.Fatalf("stored secret column = %q: want a sealed value without the plaintext", raw)
	}
	// A sealed secret moved to another row does not open there: it is bound to its key ID.
	update(t, db, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE access_keys SET secret_sealed = ? WHERE id = ?`, raw, b.ID)
		return err
	})
	if k, err := db.AccessKey(ctx, b.ID); err == nil {
		t.Fatalf("AccessKey(%s) with a secret sealed for %s = %q, want an error", b.ID, a.ID, k.Secret)
	}
}

func testSettings(t *testing.T, db *store.DB) {
	ctx := context.Background()
	update(t, db, func(tx *store.Tx) error {
		if _, err := tx.Setting(ctx, "colour"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Setting(missing) error = %v, want ErrNotFound", err)
		}
		if err := tx.PutSetting(ctx, "colour", "red"); err != nil {
			return err
		}
		if err := tx.PutSetting(ctx, "colour", "blue"); err != nil {
			return err
		}
		if v, err := tx.Setting(ctx, "colour"); err != nil || v != "blue" {
			t.Errorf("Setting after PutSetting twice = %q, %v; want blue", v, err)
		}
		v, err := tx.PutSettingIfAbsent(ctx, "colour", "green")
		if err != nil || v != "blue" {
			t.Errorf("PutSettingIfAbsent(existing) = %q, %v; want blue", v, err)
		}
		v, err = tx.PutSettingIfAbsent(ctx, "shape", "round")
		if err != nil || v != "round" {
			t.Errorf("PutSettingIfAbsent(new) = %q, %v; want round", v, err)
		}
		return nil
	})

	// Many callers bootstrapping at once agree on one value.
	const n = 32
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := db.Update(ctx, func(tx *store.Tx) error {
				v, err := tx.PutSettingIfAbsent(ctx, "bootstrap", fmt.Sprint("value-", i))
				got[i] = v
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] || got[0] == "" {
			t.Fatalf("concurrent PutSettingIfAbsent returned %q and %q", got[0], got[i])
		}
	}
	err := db.View(ctx, func(tx *store.Tx) error {
		v, err := tx.Setting(ctx, "bootstrap")
		if err == nil && v != got[0] {
			t.Errorf("stored %q, callers were told %q", v, got[0])
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testConflictThenContinue checks that a conflict reported by the store's own methods leaves
// the transaction usable, on PostgreSQL too.
func testConflictThenContinue(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct := createAccount(t, db)
	update(t, db, func(tx *store.Tx) error {
		err := tx.CreateAccount(ctx, &store.Account{ID: acct, Name: "dup", Status: "ACTIVE", CreatedAt: tx.Now()})
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateAccount(existing) error = %v, want ErrConflict", err)
		}
		return tx.PutSetting(ctx, "after-conflict", "yes")
	})
	if v := setting(t, db, "after-conflict"); v != "yes" {
		t.Fatalf("setting written after a conflict = %q, want yes", v)
	}
}

func testRawExecErrors(t *testing.T, db *store.DB) {
	ctx := context.Background()
	update(t, db, func(tx *store.Tx) error { return tx.PutSetting(ctx, "raw", "1") })
	err := db.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)`, "raw", "2")
		return err
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("raw duplicate INSERT error = %v, want ErrConflict", err)
	}
	err = db.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, NULL)`, "null")
		return err
	})
	if !errors.Is(err, store.ErrConstraint) {
		t.Errorf("raw NULL INSERT error = %v, want ErrConstraint", err)
	}
	// A '?' inside a string literal is not a placeholder.
	update(t, db, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, 'what?') -- really?`, "literal")
		return err
	})
	if v := setting(t, db, "literal"); v != "what?" {
		t.Errorf("value with a literal '?' = %q, want what?", v)
	}
}

var errBoom = errors.New("boom")

func testRollback(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct := newAccountID()
	p := audit.NewPending(NewEvent(acct, EventOpts{}))
	err := db.Update(audit.WithPending(ctx, p), func(tx *store.Tx) error {
		if err := tx.CreateAccount(ctx, &store.Account{ID: acct, Name: "x", Status: "ACTIVE", CreatedAt: tx.Now()}); err != nil {
			return err
		}
		if err := tx.PutSetting(ctx, "rolled-back", "1"); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", errBoom)
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update error = %v, want fn's error", err)
	}
	assertNoTrace(t, db, acct, "rolled-back", p)
}

// assertNoTrace checks that a failed request wrote nothing: no account, no setting, no audit event.
func assertNoTrace(t testing.TB, db *store.DB, acct, settingKey string, p *audit.Pending) {
	t.Helper()
	ctx := context.Background()
	err := db.View(ctx, func(tx *store.Tx) error {
		if _, err := tx.Account(ctx, acct); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("account %s of a failed request: %v, want ErrNotFound", acct, err)
		}
		if _, err := tx.Setting(ctx, settingKey); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("setting %s of a failed request: %v, want ErrNotFound", settingKey, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if p == nil {
		return
	}
	if p.Recorded() {
		t.Errorf("pending event of a failed request is marked recorded")
	}
	recs, _, err := db.LookupAudit(ctx, audit.Query{AccountID: acct, Attribute: "EventId", Value: p.Event().EventID, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 0 {
		t.Errorf("failed request left %d audit records", len(recs))
	}
}

func testPanic(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct := newAccountID()
	p := audit.NewPending(NewEvent(acct, EventOpts{}))
	err := db.Update(audit.WithPending(ctx, p), func(tx *store.Tx) error {
		if err := tx.PutSetting(ctx, "panicked", "1"); err != nil {
			return err
		}
		var m map[string]int
		m["x"]++ // panics
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "panic") {
		t.Fatalf("Update with a panicking fn = %v, want a panic error", err)
	}
	assertNoTrace(t, db, acct, "panicked", p)
	// The writer survived.
	for i := range 3 {
		update(t, db, func(tx *store.Tx) error { return tx.PutSetting(ctx, fmt.Sprint("after-panic-", i), "ok") })
	}
	if v := setting(t, db, "after-panic-2"); v != "ok" {
		t.Fatalf("write after a panic = %q, want ok", v)
	}
}

func testContext(t *testing.T, db *store.DB) {
	t.Run("CancelledBeforeStart", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ran := false
		err := db.Update(ctx, func(tx *store.Tx) error { ran = true; return nil })
		if !errors.Is(err, context.Canceled) || ran {
			t.Fatalf("Update with a cancelled context = %v, ran=%v; want context.Canceled, not run", err, ran)
		}
	})
	t.Run("CancelledWhileQueued", func(t *testing.T) {
		release := blockWriters(t, db)
		ctx, cancel := context.WithCancel(context.Background())
		var ran atomic.Bool
		done := make(chan error, 1)
		go func() {
			done <- db.Update(ctx, func(tx *store.Tx) error {
				ran.Store(true)
				return tx.PutSetting(context.Background(), "queued-cancelled", "1")
			})
		}()
		time.Sleep(50 * time.Millisecond) // let it queue behind the blocked writers
		cancel()
		release()
		err := <-done
		if !errors.Is(err, context.Canceled) || ran.Load() {
			t.Fatalf("Update cancelled in the queue = %v, ran=%v; want context.Canceled, not run", err, ran.Load())
		}
	})
	t.Run("CancelledWhileRunning", func(t *testing.T) {
		// Once started, a request completes and is durable although its context ends.
		ctx, cancel := context.WithCancel(context.Background())
		err := db.Update(ctx, func(tx *store.Tx) error {
			cancel()
			return tx.PutSetting(ctx, "started-then-cancelled", "1")
		})
		if err != nil {
			t.Fatalf("Update whose context ended while running = %v, want nil", err)
		}
		if v := setting(t, db, "started-then-cancelled"); v != "1" {
			t.Fatalf("write of a request cancelled while running = %q, want it durable", v)
		}
	})
}

// blockWriters occupies every writer (up to 16) with a request that waits, so that the requests
// made next queue up and share a batch. It returns the function that lets them go.
func blockWriters(t testing.TB, db *store.DB) (release func()) {
	t.Helper()
	ch := make(chan struct{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if err := db.Update(context.Background(), func(*store.Tx) error { <-ch; return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(func() { release(); wg.Wait() })
	return release
}

func testTxAfterFunc(t *testing.T, db *store.DB) {
	ctx := context.Background()
	var leaked *store.Tx
	update(t, db, func(tx *store.Tx) error { leaked = tx; return nil })
	if _, err := leaked.Exec(ctx, `DELETE FROM settings`); err == nil {
		t.Error("Exec on a Tx after its function returned succeeded, want an error")
	}
	if _, err := leaked.Query(ctx, `SELECT key FROM settings`); err == nil {
		t.Error("Query on a Tx after its function returned succeeded, want an error")
	}
	var n int
	if err := leaked.QueryRow(ctx, `SELECT COUNT(*) FROM settings`).Scan(&n); err == nil {
		t.Error("QueryRow on a Tx after its function returned succeeded, want an error")
	}
}

func testViewReadOnly(t *testing.T, db *store.DB) {
	ctx := context.Background()
	err := db.View(ctx, func(tx *store.Tx) error {
		if tx.Dialect() != db.Dialect() {
			t.Errorf("Tx.Dialect() = %q, DB.Dialect() = %q", tx.Dialect(), db.Dialect())
		}
		return tx.PutSetting(ctx, "from-view", "1")
	})
	if err == nil {
		t.Fatal("a write inside View succeeded, want an error")
	}
	// Rows left open by fn are closed for it.
	err = db.View(ctx, func(tx *store.Tx) error {
		_, err := tx.Query(ctx, `SELECT key FROM settings`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	update(t, db, func(tx *store.Tx) error {
		if err := tx.PutSetting(ctx, "before-open-rows", "1"); err != nil {
			return err
		}
		_, err := tx.Query(ctx, `SELECT key FROM settings`)
		return err
	})
	update(t, db, func(tx *store.Tx) error { return tx.PutSetting(ctx, "after-open-rows", "1") })
	if setting(t, db, "before-open-rows") != "1" || setting(t, db, "after-open-rows") != "1" {
		t.Fatal("writes around an Update that left rows open are missing")
	}
}

func testTimes(t *testing.T, db *store.DB) {
	ctx := context.Background()
	want := time.Date(2026, 11, 23, 10, 11, 12, 123456000, time.FixedZone("x", 3600))
	update(t, db, func(tx *store.Tx) error {
		if now := tx.Now(); now.Location() != time.UTC || now.Nanosecond()%1000 != 0 {
			t.Errorf("Tx.Now() = %v, want UTC at microsecond precision", now)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE storetest_times (id INTEGER PRIMARY KEY, at BIGINT NOT NULL)`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO storetest_times (id, at) VALUES (?, ?)`, 1, want)
		return err
	})
	var got time.Time
	err := db.View(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `SELECT at FROM storetest_times WHERE id = ?`, 1).Scan(store.ScanTime(&got))
	})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("time read back = %v, want %v in UTC", got, want)
	}
}

func setting(t testing.TB, db *store.DB, key string) string {
	t.Helper()
	var v string
	err := db.View(context.Background(), func(tx *store.Tx) error {
		var err error
		v, err = tx.Setting(context.Background(), key)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return v
}

// CountSettings returns the number of settings whose key starts with prefix.
func CountSettings(t testing.TB, db *store.DB, prefix string) int {
	t.Helper()
	var n int
	err := db.View(context.Background(), func(tx *store.Tx) error {
		return tx.QueryRow(context.Background(), `SELECT COUNT(*) FROM settings WHERE key LIKE ?`, prefix+"%").Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Hammer makes goroutines × perGoroutine Updates concurrently, each writing the setting
// prefix-G-I with an audit event for account, and returns how many succeeded.
func Hammer(t testing.TB, db *store.DB, prefix, account string, goroutines, perGoroutine int) (ok int64) {
	t.Helper()
	var n atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range goroutines {
		wg.Go(func() {
			<-start
			for i := range perGoroutine {
				key := fmt.Sprintf("%s-%d-%d", prefix, g, i)
				p := audit.NewPending(NewEvent(account, EventOpts{Name: "PutSetting", Resource: key}))
				err := db.Update(audit.WithPending(context.Background(), p), func(tx *store.Tx) error {
					return tx.PutSetting(context.Background(), key, "v")
				})
				if err != nil {
					t.Errorf("Update %s: %v", key, err)
					return
				}
				if !p.Recorded() {
					t.Errorf("Update %s succeeded but its audit event is not marked recorded", key)
				}
				n.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	return n.Load()
}

func testConcurrentUpdates(t *testing.T, db *store.DB) {
	const goroutines, each = 200, 20
	acct := newAccountID()
	before := VerifyChains(t, db)
	ok := Hammer(t, db, "item", acct, goroutines, each)
	if ok != goroutines*each {
		t.Fatalf("%d of %d updates succeeded", ok, goroutines*each)
	}
	if n := CountSettings(t, db, "item-"); n != goroutines*each {
		t.Fatalf("%d rows after %d successful updates", n, goroutines*each)
	}
	if n := VerifyChains(t, db) - before; n != goroutines*each {
		t.Fatalf("chains grew by %d records, want %d", n, goroutines*each)
	}
	if n := countLookup(t, db, audit.Query{AccountID: acct}); n != goroutines*each {
		t.Fatalf("LookupAudit finds %d events of the account, want %d", n, goroutines*each)
	}
}

// testMixedBatch queues succeeding and failing requests behind blocked writers so that they
// share transactions, and checks the failures leave no trace and the successes all land.
func testMixedBatch(t *testing.T, db *store.DB) {
	ctx := context.Background()
	release := blockWriters(t, db)
	before := db.WriteStats()
	const n = 72
	type result struct {
		acct, key string
		p         *audit.Pending
		err       error
		mode      int
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		r := &results[i]
		r.acct, r.key, r.mode = newAccountID(), fmt.Sprint("mixed-", i), i%6
		r.p = audit.NewPending(NewEvent(r.acct, EventOpts{Name: "Mixed"}))
		wg.Go(func() {
			r.err = db.Update(audit.WithPending(ctx, r.p), func(tx *store.Tx) error {
				if err := tx.CreateAccount(ctx, &store.Account{ID: r.acct, Name: "m", Status: "ACTIVE", CreatedAt: tx.Now()}); err != nil {
					return err
				}
				if err := tx.PutSetting(ctx, r.key, "v"); err != nil {
					return err
				}
				switch r.mode {
				case 1: // fails after writing
					return errBoom
				case 2: // panics after writing
					panic("mixed batch panic")
				case 3: // a statement fails; fn returns its error
					_, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)`, r.key, "dup")
					return err
				case 5: // a statement fails; fn ignores it
					tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)`, r.key, "dup")
				}
				return nil
			})
		})
	}
	time.Sleep(100 * time.Millisecond) // let them queue
	release()
	wg.Wait()
	st := db.WriteStats()
	if txs, reqs := st.Transactions-before.Transactions, st.Requests-before.Requests; txs == 0 || reqs < 2*txs {
		t.Errorf("%d requests ran in %d transactions: no group commit", reqs, txs)
	}
	// A statement error that fn ignores is harmless on SQLite; on PostgreSQL it aborts the
	// transaction, so the request fails — without harming the others in its batch.
	okModes := []int{0, 4}
	if db.Dialect() == store.DialectSQLite {
		okModes = append(okModes, 5)
	}
	for _, r := range results {
		switch {
		case slices.Contains(okModes, r.mode):
			if r.err != nil {
				t.Errorf("request %s failed: %v", r.key, r.err)
				continue
			}
			if v := setting(t, db, r.key); v != "v" {
				t.Errorf("request %s succeeded but its setting = %q", r.key, v)
			}
			if !r.p.Recorded() || countLookup(t, db, audit.Query{AccountID: r.acct}) != 1 {
				t.Errorf("request %s succeeded but its audit event is missing", r.key)
			}
		default:
			if r.err == nil {
				t.Errorf("request %s (mode %d) succeeded, want an error", r.key, r.mode)
			}
			if r.mode == 3 && !errors.Is(r.err, store.ErrConflict) {
				t.Errorf("request %s error = %v, want ErrConflict", r.key, r.err)
			}
			assertNoTrace(t, db, r.acct, r.key, r.p)
		}
	}
	VerifyChains(t, db)
}
