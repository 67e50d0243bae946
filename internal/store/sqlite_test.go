package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

// sqliteDSN returns the path of a new SQLite database in a temporary directory.
func sqliteDSN(t testing.TB) string { return filepath.Join(t.TempDir(), "allot.db") }

func openSQLite(t testing.TB, opts store.Options) *store.DB {
	t.Helper()
	return storetest.OpenDSN(t, sqliteDSN(t), storetest.NewBox(t), opts)
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t testing.TB) *store.DB { return openSQLite(t, store.Options{}) })
}

func TestSQLiteReopen(t *testing.T) {
	storetest.RunReopen(t, sqliteDSN)
}

// TestSQLiteExternalWrite checks that a commit made by another process on the same file
// (an operator command such as allot keys rotate) changes the generation by the writer's next
// batch, while the process's own checkpoints do not.
func TestSQLiteExternalWrite(t *testing.T) {
	ctx := context.Background()
	dsn, box := sqliteDSN(t), storetest.NewBox(t)
	db := storetest.OpenDSN(t, dsn, box, store.Options{})
	noop := func(*store.Tx) error { return nil }
	if err := db.Update(ctx, noop); err != nil {
		t.Fatal(err)
	}
	g0 := db.Generation()
	payload := strings.Repeat("x", 4000)
	for i := range 300 { // enough WAL pages for the checkpointer to run meanwhile
		err := db.Update(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO audit_chains (id, node_id, writer, started_at) VALUES (?, ?, 99, 0)`, fmt.Sprint("ext-", i), payload)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			time.Sleep(120 * time.Millisecond)
		}
	}
	if g := db.Generation(); g != g0 {
		t.Errorf("generation after the process's own volatile writes and checkpoints = %d, want %d", g, g0)
	}
	other := storetest.OpenDSN(t, dsn, box, store.Options{})
	if err := other.Update(ctx, func(tx *store.Tx) error { return tx.PutSetting(ctx, "external", "1") }); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(ctx, noop); err != nil {
		t.Fatal(err)
	}
	if g := db.Generation(); g == g0 {
		t.Errorf("generation after another process's commit and a batch = %d, want a change", g)
	}
}
