package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/secrets"
	"github.com/allot-dev/allot/internal/store"
)

// RunReopen runs the cases that open one database several times: durability across Close,
// the master key check, migrations, several processes' chains. dsn returns the DSN of a fresh
// empty database and removes it when the test ends.
func RunReopen(t *testing.T, dsn func(t testing.TB) string) {
	t.Run("DurableAfterClose", func(t *testing.T) { testDurableAfterClose(t, dsn(t)) })
	t.Run("CloseDrains", func(t *testing.T) { testCloseDrains(t, dsn(t)) })
	t.Run("WrongMasterKey", func(t *testing.T) { testWrongMasterKey(t, dsn(t)) })
	t.Run("MigrationsOnce", func(t *testing.T) { testMigrationsOnce(t, dsn(t)) })
	t.Run("SeveralChains", func(t *testing.T) { testSeveralChains(t, dsn(t)) })
	t.Run("Writers", func(t *testing.T) { testWriters(t, dsn(t)) })
	t.Run("ReadOnly", func(t *testing.T) { testReadOnly(t, dsn(t)) })
}

// OpenDSN opens dsn with box and a quiet logger, and closes the database when the test ends.
func OpenDSN(t testing.TB, dsn string, box *secrets.Box, opts store.Options) *store.DB {
	t.Helper()
	opts.Box = box
	if opts.Logger == nil {
		opts.Logger = Quiet()
	}
	db, err := store.Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func testDurableAfterClose(t *testing.T, dsn string) {
	box := NewBox(t)
	db := OpenDSN(t, dsn, box, store.Options{})
	const goroutines, each = 200, 20
	acct := newAccountID()
	if ok := Hammer(t, db, "durable", acct, goroutines, each); ok != goroutines*each {
		t.Fatalf("%d of %d updates succeeded", ok, goroutines*each)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(context.Background(), func(*store.Tx) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Update after Close = %v, want ErrClosed", err)
	}
	db = OpenDSN(t, dsn, box, store.Options{})
	if n := CountSettings(t, db, "durable-"); n != goroutines*each {
		t.Fatalf("after reopening: %d rows, want %d", n, goroutines*each)
	}
	if n := VerifyChains(t, db); n != goroutines*each {
		t.Fatalf("after reopening: %d audit records, want %d", n, goroutines*each)
	}
	if n := countLookup(t, db, audit.Query{AccountID: acct}); n != goroutines*each {
		t.Fatalf("after reopening: LookupAudit finds %d events, want %d", n, goroutines*each)
	}
}

// testCloseDrains closes the database while writers are busy: every acknowledged write must
// be there after reopening, and Update after Close says ErrClosed.
func testCloseDrains(t *testing.T, dsn string) {
	box := NewBox(t)
	db := OpenDSN(t, dsn, box, store.Options{})
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	for g := range 50 {
		wg.Go(func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("drain-%d-%d", g, i)
				err := db.Update(context.Background(), func(tx *store.Tx) error {
					return tx.PutSetting(context.Background(), key, "v")
				})
				switch {
				case errors.Is(err, store.ErrClosed):
					return
				case err != nil:
					t.Errorf("Update %s: %v", key, err)
					return
				}
				mu.Lock()
				acked = append(acked, key)
				mu.Unlock()
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged before Close")
	}
	db = OpenDSN(t, dsn, box, store.Options{})
	if n := CountSettings(t, db, "drain-"); n < len(acked) {
		t.Fatalf("after reopening: %d rows, but %d writes were acknowledged", n, len(acked))
	}
	for _, key := range acked {
		if setting(t, db, key) != "v" {
			t.Fatalf("acknowledged write %s is missing after reopening", key)
		}
	}
}

func testWrongMasterKey(t *testing.T, dsn string) {
	ctx := context.Background()
	box := NewBox(t)
	db := OpenDSN(t, dsn, box, store.Options{})
	acct := createAccount(t, db)
	key := &store.AccessKey{ID: newKeyID(), AccountID: acct, Kind: identity.KindRoot, Secret: "s3cret", Status: "Active"}
	update(t, db, func(tx *store.Tx) error { return tx.CreateAccessKey(ctx, key) })
	db.Close()

	other, err := store.Open(ctx, dsn, store.Options{Box: NewBox(t), Logger: Quiet()})
	if err == nil {
		other.Close()
		t.Fatal("Open with another master key succeeded, want ErrWrongMasterKey")
	}
	if !errors.Is(err, store.ErrWrongMasterKey) {
		t.Fatalf("Open with another master key = %v, want ErrWrongMasterKey", err)
	}
	db = OpenDSN(t, dsn, box, store.Options{})
	got, err := db.AccessKey(ctx, key.ID)
	if err != nil || got.Secret != "s3cret" {
		t.Fatalf("after reopening with the right key: %+v, %v", got, err)
	}
}

func testMigrationsOnce(t *testing.T, dsn string) {
	box := NewBox(t)
	db := OpenDSN(t, dsn, box, store.Options{})
	if n, err := db.Migrate(context.Background()); err != nil || n != 0 {
		t.Fatalf("Migrate on an open database applied %d, %v; want 0", n, err)
	}
	db.Close()
	db = OpenDSN(t, dsn, box, store.Options{})
	if n, err := db.Migrate(context.Background()); err != nil || n != 0 {
		t.Fatalf("Migrate after reopening applied %d, %v; want 0", n, err)
	}
}

// testSeveralChains writes through two processes' worth of writers at once, as two nodes (or
// two starts of one) do, and checks lookups and chains across them.
func testSeveralChains(t *testing.T, dsn string) {
	box := NewBox(t)
	dbs := []*store.DB{
		OpenDSN(t, dsn, box, store.Options{NodeID: "node-a", Writers: 2}),
		OpenDSN(t, dsn, box, store.Options{NodeID: "node-b", Writers: 2}),
	}
	acct := newAccountID()
	base := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	evs := mixedEvents(acct, base, 80)
	var wg sync.WaitGroup
	for i, w := range evs {
		db := dbs[i%2]
		wg.Go(func() {
			ctx := audit.WithPending(context.Background(), audit.NewPending(w.ev))
			if err := db.Update(ctx, func(*store.Tx) error { return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	chains, err := dbs[0].AuditChains(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	nodes := map[string]int64{}
	for _, c := range chains {
		nodes[c.NodeID] += c.Length
	}
	if nodes["node-a"] != 40 || nodes["node-b"] != 40 {
		t.Fatalf("records per node = %v, want 40 each", nodes)
	}
	for _, db := range dbs {
		checkLookups(t, db, acct, base, evs)
		VerifyChains(t, db)
	}
}

// testWriters checks that on PostgreSQL several writers share the load, each on its own
// chain, and that every chain verifies.
func testWriters(t *testing.T, dsn string) {
	db := OpenDSN(t, dsn, NewBox(t), store.Options{Writers: 4})
	const goroutines, each = 100, 20
	if ok := Hammer(t, db, "w", newAccountID(), goroutines, each); ok != goroutines*each {
		t.Fatalf("%d of %d updates succeeded", ok, goroutines*each)
	}
	if n := VerifyChains(t, db); n != goroutines*each {
		t.Fatalf("%d audit records, want %d", n, goroutines*each)
	}
	chains, err := db.AuditChains(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, used := 1, 0
	if db.Dialect() == store.DialectPostgres {
		want = 4
	}
	writers := map[int]bool{}
	for _, c := range chains {
		if c.NodeID != db.NodeID() {
			t.Errorf("chain %s names node %q, want %q", c.ID, c.NodeID, db.NodeID())
		}
		writers[c.Writer] = true
		if c.Length > 0 {
			used++
		}
	}
	if len(chains) != want || len(writers) != want {
		t.Fatalf("%d chains for writers %v, want %d", len(chains), writers, want)
	}
	if want > 1 && used < 2 {
		t.Errorf("only %d of %d writers wrote under load", used, want)
	}
}

// testReadOnly opens a database read-only beside a writing one, as allot audit verify does
// beside a running server.
func testReadOnly(t *testing.T, dsn string) {
	ctx := context.Background()
	box := NewBox(t)
	if db, err := store.Open(ctx, dsn, store.Options{Box: box, Logger: Quiet(), ReadOnly: true}); err == nil {
		db.Close()
		t.Fatal("read-only Open of a database never initialized succeeded, want an error")
	}
	rw := OpenDSN(t, dsn, box, store.Options{})
	acct := newAccountID()
	Hammer(t, rw, "ro", acct, 10, 10)

	if db, err := store.Open(ctx, dsn, store.Options{Box: NewBox(t), Logger: Quiet(), ReadOnly: true}); !errors.Is(err, store.ErrWrongMasterKey) {
		if err == nil {
			db.Close()
		}
		t.Fatalf("read-only Open with another key = %v, want ErrWrongMasterKey", err)
	}
	chainsBefore, err := rw.AuditChains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ro := OpenDSN(t, dsn, box, store.Options{ReadOnly: true})
	// The writer keeps writing while the read-only handle reads.
	done := make(chan int64)
	go func() { done <- Hammer(t, rw, "ro2", acct, 10, 10) }()
	chains, err := ro.AuditChains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chains {
		v := audit.NewChainVerifier(c.ID)
		if err := ro.ScanAuditChain(ctx, c.ID, func(r *audit.Record) error { v.Add(r); return nil }); err != nil {
			t.Fatal(err)
		}
		if rep := v.Report(); !rep.Intact || rep.Records < c.Length {
			t.Errorf("chain %s read while written: %+v, want intact with at least %d records", c.ID, rep, c.Length)
		}
	}
	if n := <-done; n != 100 {
		t.Fatalf("%d of 100 updates succeeded", n)
	}
	if n := VerifyChains(t, ro); n != 200 {
		t.Errorf("read-only handle sees %d audit records, want 200", n)
	}
	chainsAfter, err := ro.AuditChains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(chainsAfter) != len(chainsBefore) {
		t.Errorf("read-only Open added chains: %d, then %d", len(chainsBefore), len(chainsAfter))
	}
	if err := ro.Update(ctx, func(*store.Tx) error { return nil }); !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("Update on a read-only handle = %v, want ErrReadOnly", err)
	}
	if _, err := ro.Migrate(ctx); !errors.Is(err, store.ErrReadOnly) {
		t.Errorf("Migrate on a read-only handle = %v, want ErrReadOnly", err)
	}
	if n := countLookup(t, ro, audit.Query{AccountID: acct}); n != 200 {
		t.Errorf("read-only LookupAudit finds %d events, want 200", n)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
}
