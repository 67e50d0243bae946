package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/secrets"
)

// openForPlans opens a new database at dsn for the plan tests.
func openForPlans(t *testing.T, dsn string) *DB {
	t.Helper()
	key := make([]byte, secrets.KeySize)
	rand.Read(key)
	box, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(context.Background(), dsn, Options{Box: box, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// explain returns the plan of query with args, one line per step.
func explain(t *testing.T, db *DB, query string, args ...any) string {
	t.Helper()
	prefix := "EXPLAIN QUERY PLAN "
	if db.dialect == DialectPostgres {
		prefix = "EXPLAIN "
	}
	rows, err := db.rdb.Query(prefix+db.rebind(query), convertArgs(args)...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprint(vals[len(vals)-1])) // SQLite: detail; PostgreSQL: the one column
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// TestLookupAuditPlans checks on SQLite that every LookupEvents page reads one index in the
// order it answers, from where the page starts: a lookup by EventName or Username its own
// index (not the account's whole trail in time order), and a later page from its cursor.
func TestLookupAuditPlans(t *testing.T) {
	db := openForPlans(t, filepath.Join(t.TempDir(), "allot.db"))
	now := time.Now()
	cursor := &audit.Cursor{Time: now.Add(-time.Hour), ChainID: "c", Seq: 7}
	for _, c := range []struct {
		attribute, want string
	}{
		{"", "audit_events_account_time"},
		{"EventName", "audit_events_account_name"},
		{"Username", "audit_events_account_user"},
		{"EventSource", "audit_events_account_time"},
		{"AccessKeyId", "audit_events_account_time"},
		{"EventId", "(event_id=?)"},
	} {
		for _, after := range []*audit.Cursor{nil, cursor} {
			q := audit.Query{AccountID: "123456789012", Attribute: c.attribute, Value: "v", Start: now.Add(-90 * 24 * time.Hour), End: now,
				After: after, Limit: 50}
			query, args, err := db.lookupAuditQuery(q)
			if err != nil {
				t.Fatal(err)
			}
			plan := explain(t, db, query, args...)
			if !strings.Contains(plan, c.want) || strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "SCAN audit_events") {
				t.Errorf("%q (cursor %v): plan\n%s\nwant a search of %s in order", c.attribute, after != nil, plan, c.want)
			}
			if after != nil && c.attribute != "EventId" && !strings.Contains(plan, "(event_time,chain_id,seq)<") {
				t.Errorf("%q after a cursor: plan\n%s\nwant the search to start at the cursor", c.attribute, plan)
			}
		}
	}
}

// TestCheckoutPlansPostgres checks that PostgreSQL finds the checkout of a check-in or an
// extension by its primary key, with and without statistics, after many checkouts ended:
// not through the partial indexes of open checkouts (every checkout made since the last
// vacuum) nor the account's ClientTokens (every checkout of the account).
func TestCheckoutPlansPostgres(t *testing.T) {
	admin := os.Getenv("ALLOT_TEST_POSTGRES_DSN")
	if admin == "" {
		t.Skip("PostgreSQL skipped: set ALLOT_TEST_POSTGRES_DSN to an admin DSN")
	}
	ctx := context.Background()
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer adb.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "allot_plans_" + hex.EncodeToString(b)
	if _, err := adb.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { adb.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	db := openForPlans(t, u.String())

	const acct = "123456789012"
	arn := "arn:aws:license-manager::" + acct + ":license:l-0123456789abcdef0123456789abcdef"
	max := int64(1 << 20)
	now := time.Now().UTC().Truncate(time.Second)
	err = db.Update(ctx, func(tx *Tx) error {
		if err := tx.CreateAccount(ctx, &Account{ID: acct, Name: "a", Status: "ACTIVE", CreatedAt: now}); err != nil {
			return err
		}
		l := &License{ARN: arn, AccountID: acct, HomeRegion: "us-east-1", Version: 1, Status: "AVAILABLE", ProductSKU: "sku",
			Beneficiary: "b", Fingerprint: "fp", Body: `{}`, CreatedAt: now, VersionAt: now}
		if err := tx.CreateLicense(ctx, l); err != nil {
			return err
		}
		return tx.PutEntitlementLimits(ctx, arn, []EntitlementLimit{{Name: "Seats", Unit: "Count", MaxCount: &max}})
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 400 {
		token := fmt.Sprintf("%032x", i)
		err := db.Update(ctx, func(tx *Tx) error {
			if _, err := tx.ConsumeEntitlement(ctx, arn, "Seats", 1); err != nil {
				return err
			}
			return tx.CreateCheckout(ctx, &Checkout{Token: token, AccountID: acct, LicenseARN: arn, LicenseVersion: 1, Beneficiary: "c",
				CheckoutType: "PROVISIONAL", EarlyCheckIn: true, Entitlements: []CheckoutEntitlement{{Name: "Seats", Unit: "Count", Units: 1}},
				IssuedAt: now, ExpiresAt: now.Add(time.Hour), Status: CheckoutActive, ClientToken: token, Request: "r"})
		})
		if err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			continue // left open
		}
		err = db.Update(ctx, func(tx *Tx) error {
			_, err := tx.CheckInIf(ctx, token, acct, "", now, func(*Checkout) error { return nil })
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		t.Helper()
		for name, p := range map[string]string{
			"check-in":  explain(t, db, sqlCheckInIf, CheckoutCheckedIn, now, fmt.Sprintf("%032x", 10), acct, now, "", ""),
			"extension": explain(t, db, sqlExtendCheckout, now.Add(time.Hour), fmt.Sprintf("%032x", 10), now),
		} {
			if !strings.Contains(p, "license_checkouts_pkey") {
				t.Errorf("%s, %s: plan\n%s\nwant the primary key", name, when, p)
			}
		}
	}
	check("without statistics")
	if _, err := db.wdb.Exec("ANALYZE license_checkouts"); err != nil {
		t.Fatal(err)
	}
	check("after ANALYZE")
}
