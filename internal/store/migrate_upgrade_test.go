package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/secrets"
)

// This file is in package store, to migrate a database only part of the way; storetest
// imports store, so the little it would give is written out here.

// upgradeFrom is the last schema version before managed instances (migration 00013).
const upgradeFrom = 12

func TestMigrateUpgrade_SQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "allot.db")
	testMigrateUpgrade(t, DialectSQLite, "sqlite", "file:"+path+"?_pragma=foreign_keys(1)", path)
}

func TestMigrateUpgrade_PostgreSQL(t *testing.T) {
	dsn := upgradePostgresDSN(t)
	testMigrateUpgrade(t, DialectPostgres, "pgx", dsn, dsn)
}

// testMigrateUpgrade migrates a database to schema version 12, stores an account, a license
// configuration, an instance, its association and an alert as a server of that version did,
// then opens it (which applies the remaining migrations) and checks that every row survived,
// foreign keys hold, and a managed instance can be stored.
func testMigrateUpgrade(t *testing.T, dialect, driver, rawDSN, dsn string) {
	ctx := context.Background()
	raw, err := sql.Open(driver, rawDSN)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateTo(ctx, raw, dialect, upgradeFrom); err != nil {
		raw.Close()
		t.Fatalf("migrate to %d: %v", upgradeFrom, err)
	}
	const (
		account  = "123456789012"
		config   = "arn:aws:license-manager:us-east-1:123456789012:license-configuration:lic-0123456789abcdef0123456789abcdef"
		instance = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"
		t0       = int64(1767225600000000) // 2026-01-01, in microseconds
	)
	exec := func(q string, args ...any) {
		t.Helper()
		if dialect == DialectPostgres {
			q = Rebind(q)
		}
		if _, err := raw.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO accounts (id, name, email, status, created_at) VALUES (?, 'prod', 'ops@example.com', 'ACTIVE', ?)`, account, t0)
	exec(`INSERT INTO license_configurations (arn, id, account_id, region, name, description, counting_type, license_count, hard_limit,
		consumed, status, rules, product_information, disassociate_when_not_found, license_expiry, created_at, updated_at)
		VALUES (?, 'lic-0123456789abcdef0123456789abcdef', ?, 'us-east-1', 'Server OS', 'cores', 'Core', 96, ?, 16, 'AVAILABLE',
		'["#minimumCores=8"]', '[]', ?, NULL, ?, ?)`, config, account, true, false, t0, t0)
	exec(`INSERT INTO inventory_resources (arn, resource_id, resource_type, account_id, region, state, instance_type, instance_family,
		platform, architecture, vcpus, cores, threads_per_core, sockets, cpu_options, tenancy, host_id, image_id, availability_zone,
		name, description, reservation_id, launch_index, client_token, used_vcpus, created_at, updated_at, last_seen_at)
		VALUES (?, 'i-0123456789abcdef0', 'EC2_INSTANCE', ?, 'us-east-1', 'running', 'm5.8xlarge', 'm5', 'Linux/UNIX', 'x86_64',
		32, 16, 2, 0, ?, 'default', '', 'ami-0123456789abcdef0', 'us-east-1a', '', '', 'r-0123456789abcdef0', 0, '', 0, ?, ?, ?)`,
		instance, account, false, t0, t0, t0)
	exec(`INSERT INTO license_configuration_usage (config_arn, resource_arn, resource_type, resource_account, ami_association_scope,
		consumed, associated_at) VALUES (?, ?, 'EC2_INSTANCE', ?, '', 16, ?)`, config, instance, account, t0)
	exec(`INSERT INTO license_configuration_alerts (id, config_arn, account_id, kind, resource_arn, consumed, license_count, message,
		created_at, topic_arn, delivery_attempts, next_delivery_at, delivered_at)
		VALUES ('0000000000001-a', ?, ?, 'SOFT_LIMIT_EXCEEDED', ?, 112, 96, 'over its soft limit', ?, 'arn:aws:sns:us-east-1:123456789012:t', 2, ?, NULL)`,
		config, account, instance, t0, t0+1)
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	key := make([]byte, secrets.KeySize)
	rand.Read(key)
	box, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, dsn, Options{Box: box, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("Open (the remaining migrations): %v", err)
	}
	defer db.Close()

	at := time.UnixMicro(t0).UTC()
	err = db.View(ctx, func(tx *Tx) error {
		a, err := tx.Account(ctx, account)
		if err != nil {
			return err
		}
		if a.Name != "prod" || a.Email != "ops@example.com" || !a.CreatedAt.Equal(at) {
			t.Errorf("account = %+v", a)
		}
		c, err := tx.LicenseConfiguration(ctx, config)
		if err != nil {
			return err
		}
		if c.Name != "Server OS" || c.CountingType != "Core" || c.LicenseCount == nil || *c.LicenseCount != 96 || !c.HardLimit || c.Consumed != 16 ||
			len(c.Rules) != 1 || c.Rules[0] != "#minimumCores=8" || !c.CreatedAt.Equal(at) {
			t.Errorf("configuration = %+v", c)
		}
		r, err := tx.Resource(ctx, instance)
		if err != nil {
			return err
		}
		if r.Type != ResourceInstance || r.State != "running" || r.Cores != 16 || r.VCPUs != 32 || r.Tenancy != "default" ||
			r.ImageID != "ami-0123456789abcdef0" || !r.LastSeenAt.Equal(at) || r.PlatformType != "" || r.AgentVersion != "" {
			t.Errorf("instance = %+v", r)
		}
		us, err := tx.ResourceLicenseUsage(ctx, instance)
		if err != nil {
			return err
		}
		if len(us) != 1 || us[0].ConfigARN != config || us[0].Consumed != 16 || !us[0].AssociatedAt.Equal(at) {
			t.Errorf("usage = %+v", us)
		}
		alerts, err := tx.LicenseAlerts(ctx, config)
		if err != nil {
			return err
		}
		if len(alerts) != 1 || alerts[0].ID != "0000000000001-a" || alerts[0].Kind != "SOFT_LIMIT_EXCEEDED" || alerts[0].Consumed != 112 ||
			alerts[0].LicenseCount != 96 || alerts[0].ResourceARN != instance {
			t.Errorf("alerts = %+v", alerts)
		}
		// Still pending delivery to its topic, after two failed attempts.
		pending, err := tx.PendingLicenseAlerts(ctx, time.Now(), []string{"arn:aws:sns:us-east-1:123456789012:t"}, 10)
		if err != nil {
			return err
		}
		if len(pending) != 1 || pending[0].ID != "0000000000001-a" || pending[0].DeliveryAttempts != 2 {
			t.Errorf("pending alerts = %+v", pending)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Foreign keys still hold, with the rebuilt tables (SQLite) and the swapped constraints
	// (PostgreSQL).
	if dialect == DialectSQLite {
		rows, err := db.rdb.QueryContext(ctx, `PRAGMA foreign_key_check`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var table, parent string
			var rowid sql.NullInt64
			var fk int
			if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
				t.Fatal(err)
			}
			t.Errorf("foreign_key_check: %s row %v references a missing %s row", table, rowid, parent)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			t.Fatal(err)
		}
	} else {
		var n int
		if err := db.rdb.QueryRowContext(ctx, `SELECT count(*) FROM pg_constraint WHERE NOT convalidated`).Scan(&n); err != nil || n != 0 {
			t.Errorf("constraints not validated: %d, %v", n, err)
		}
	}

	// A managed instance, its association and a stale-inventory alert can now be stored.
	managed := "arn:aws:ssm:us-east-1:123456789012:managed-instance/mi-0123456789abcdef0"
	err = db.Update(ctx, func(tx *Tx) error {
		now := tx.Now()
		if err := tx.AddResource(ctx, &Resource{ARN: managed, ID: "mi-0123456789abcdef0", Type: ResourceManaged, AccountID: account,
			Region: "us-east-1", State: ManagedActive, PlatformType: "Linux", ThreadsPerCore: 1, CreatedAt: now, UpdatedAt: now, LastSeenAt: now}); err != nil {
			return err
		}
		if err := tx.AddLicenseUsage(ctx, &LicenseUsage{ConfigARN: config, ResourceARN: managed, ResourceType: ResourceManaged,
			ResourceAccount: account, AssociatedAt: now}); err != nil {
			return err
		}
		return tx.AddLicenseAlert(ctx, &LicenseAlert{ConfigARN: config, AccountID: account, Kind: "STALE_INVENTORY", ResourceARN: managed,
			Message: "stale", CreatedAt: now})
	})
	if err != nil {
		t.Fatalf("storing a managed instance after the upgrade: %v", err)
	}
	r, err := Read(ctx, db, func(tx *Tx) (*Resource, error) { return tx.Resource(ctx, managed) })
	if err != nil || r.Type != ResourceManaged || r.PlatformType != "Linux" {
		t.Fatalf("managed instance = %+v, %v", r, err)
	}
}

// upgradePostgresDSN creates an empty database on the PostgreSQL server named by
// ALLOT_TEST_POSTGRES_DSN, dropped when the test ends, and returns its DSN; without that
// variable it skips the test (fails it when ALLOT_TEST_REQUIRE_POSTGRES=1).
func upgradePostgresDSN(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("ALLOT_TEST_POSTGRES_DSN")
	if admin == "" {
		if os.Getenv("ALLOT_TEST_REQUIRE_POSTGRES") == "1" {
			t.Fatal("ALLOT_TEST_REQUIRE_POSTGRES=1 but ALLOT_TEST_POSTGRES_DSN is not set")
		}
		t.Skip("PostgreSQL skipped: set ALLOT_TEST_POSTGRES_DSN to an admin DSN")
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("ALLOT_TEST_POSTGRES_DSN: %v", err)
	}
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "allot_upgrade_" + hex.EncodeToString(b)
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
