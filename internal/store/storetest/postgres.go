package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
)

// PostgresDSN creates a fresh PostgreSQL database through the admin DSN in
// ALLOT_TEST_POSTGRES_DSN, drops it when the test ends and returns its DSN; without that
// variable it skips the test (fails it when ALLOT_TEST_REQUIRE_POSTGRES=1).
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	admin := os.Getenv("ALLOT_TEST_POSTGRES_DSN")
	if admin == "" {
		if os.Getenv("ALLOT_TEST_REQUIRE_POSTGRES") == "1" {
			tb.Fatal("ALLOT_TEST_REQUIRE_POSTGRES=1 but ALLOT_TEST_POSTGRES_DSN is not set")
		}
		tb.Skip("PostgreSQL skipped: set ALLOT_TEST_POSTGRES_DSN to an admin DSN")
	}
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatalf("ALLOT_TEST_POSTGRES_DSN: %v", err)
	}
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		tb.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "allot_test_" + hex.EncodeToString(b)
	if _, err := adb.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		adb.Close()
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		defer adb.Close()
		if _, err := adb.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
