package store_test

import (
	"path/filepath"
	"testing"

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
