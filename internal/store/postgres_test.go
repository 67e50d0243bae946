package store_test

import (
	"testing"

	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

// postgresDSN creates a fresh database and returns its DSN, or skips the test when no
// PostgreSQL server is configured (ALLOT_TEST_POSTGRES_DSN; see storetest.PostgresDSN).
func postgresDSN(t testing.TB) string { return storetest.PostgresDSN(t) }

func openPostgres(t testing.TB, opts store.Options) *store.DB {
	t.Helper()
	return storetest.OpenDSN(t, postgresDSN(t), storetest.NewBox(t), opts)
}

func TestPostgres(t *testing.T) {
	postgresDSN(t) // skip early, before the subtests
	storetest.Run(t, func(t testing.TB) *store.DB { return openPostgres(t, store.Options{}) })
}

func TestPostgresReopen(t *testing.T) {
	postgresDSN(t)
	storetest.RunReopen(t, postgresDSN)
}
