package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

// Environment of the PostgreSQL tests.
const (
	// envPostgresDSN is an admin DSN, e.g.
	// postgres://postgres@127.0.0.1:54329/postgres?sslmode=disable; each test creates a fresh
	// database through it and drops it afterwards.
	envPostgresDSN = "ALLOT_TEST_POSTGRES_DSN"
	// envRequirePostgres=1 turns the skip without a DSN into a failure (for CI).
	envRequirePostgres = "ALLOT_TEST_REQUIRE_POSTGRES"
)

// postgresDSN creates a fresh database and returns its DSN, or skips the test when no
// PostgreSQL server is configured.
func postgresDSN(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(envPostgresDSN)
	if admin == "" {
		if os.Getenv(envRequirePostgres) == "1" {
			t.Fatalf("%s=1 but %s is not set", envRequirePostgres, envPostgresDSN)
		}
		t.Skipf("PostgreSQL tests skipped: set %s to an admin DSN such as "+
			"postgres://postgres@127.0.0.1:54329/postgres?sslmode=disable", envPostgresDSN)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", envPostgresDSN, err)
	}
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "allot_test_" + hex.EncodeToString(b)
	if _, err := adb.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		adb.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		defer adb.Close()
		if _, err := adb.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

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
