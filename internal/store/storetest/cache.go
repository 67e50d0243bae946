package storetest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/store"
)

// testGeneration checks that the configuration generation changes after, and only after,
// a committed write to a configuration table, before the writer is answered.
func testGeneration(t *testing.T, db *store.DB) {
	ctx := context.Background()
	update(t, db, func(*store.Tx) error { return nil }) // a first batch may note the file's state
	g0 := db.Generation()
	update(t, db, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO audit_chains (id, node_id, writer, started_at) VALUES (?, 'storetest', 99, 0)`, "c-"+newKeyID())
		return err
	})
	if g := db.Generation(); g != g0 {
		t.Errorf("generation after a write to a volatile table = %d, want %d", g, g0)
	}
	errRollback := errors.New("roll back")
	if err := db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.PutSetting(ctx, "storetest.generation", "rolled back"); err != nil {
			return err
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		t.Fatalf("Update = %v, want %v", err, errRollback)
	}
	if g := db.Generation(); g != g0 {
		t.Errorf("generation after a rolled-back write = %d, want %d", g, g0)
	}
	update(t, db, func(tx *store.Tx) error { return tx.PutSetting(ctx, "storetest.generation", "committed") })
	if g := db.Generation(); g == g0 {
		t.Errorf("generation after a committed configuration write = %d, want a change", g)
	}
}

// testCache checks that a Cache entry is used until the generation changes, and not past the
// TTL.
func testCache(t *testing.T, db *store.DB) {
	ctx := context.Background()
	c := store.NewCache[string, string](db, 8)
	var loads atomic.Int64
	get := func() string {
		t.Helper()
		v, err := c.Get(ctx, "k", func(ctx context.Context) (string, error) {
			loads.Add(1)
			var v string
			err := db.View(ctx, func(tx *store.Tx) (err error) {
				v, err = tx.Setting(ctx, "storetest.cache")
				return err
			})
			return v, err
		})
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		return v
	}
	update(t, db, func(tx *store.Tx) error { return tx.PutSetting(ctx, "storetest.cache", "one") })
	if v := get(); v != "one" || loads.Load() != 1 {
		t.Fatalf("first Get = %q after %d loads, want one after 1", v, loads.Load())
	}
	if v := get(); v != "one" || loads.Load() != 1 {
		t.Errorf("second Get = %q after %d loads, want one from the cache", v, loads.Load())
	}
	update(t, db, func(tx *store.Tx) error { return tx.PutSetting(ctx, "storetest.cache", "two") })
	if v := get(); v != "two" || loads.Load() != 2 {
		t.Errorf("Get after a change = %q after %d loads, want two after 2", v, loads.Load())
	}
	if _, err := c.Get(ctx, "missing", func(context.Context) (string, error) { return "", store.ErrNotFound }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of a failing load = %v, want ErrNotFound", err)
	}
	time.Sleep(store.DefaultCacheTTL + 50*time.Millisecond)
	if v := get(); v != "two" || loads.Load() != 3 {
		t.Errorf("Get after the TTL = %q after %d loads, want a fresh load (3)", v, loads.Load())
	}
}
