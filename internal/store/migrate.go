package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/allot-dev/allot/internal/secrets"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Migrate applies the migrations the database lacks and returns how many it applied. Open
// calls it; on PostgreSQL a session advisory lock lets several nodes start at once.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	if db.readOnly {
		return 0, ErrReadOnly
	}
	if db.dialect != DialectSQLite || len(db.writers) == 0 {
		return db.migrate(ctx, db.wdb)
	}
	// The writer holds the only connection of wdb: use a connection of its own.
	conn, err := sql.Open("sqlite", db.writerDSN)
	if err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Close()
	return db.migrate(ctx, conn)
}

func (db *DB) migrate(ctx context.Context, sqlDB *sql.DB) (int, error) {
	dir, err := fs.Sub(migrations, "migrations/"+db.dialect)
	if err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	dialect := goose.DialectSQLite3
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if db.dialect == DialectPostgres {
		dialect = goose.DialectPostgres
		// Poll for the lock every second (goose's default is every 5 s) for up to 5 minutes.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return 0, fmt.Errorf("store: migrate: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, sqlDB, dir, opts...)
	if err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("store: migrate: %w", err)
	}
	for _, r := range results {
		db.log.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return len(results), nil
}

// migrateTo applies the migrations of dialect up to and including version to sqlDB, leaving
// the database as a release of that schema version did: upgrade tests start from it.
func migrateTo(ctx context.Context, sqlDB *sql.DB, dialect string, version int64) error {
	dir, err := fs.Sub(migrations, "migrations/"+dialect)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	gooseDialect := goose.DialectSQLite3
	if dialect == DialectPostgres {
		gooseDialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(gooseDialect, sqlDB, dir, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("store: migrate to %d: %w", version, err)
	}
	return nil
}

// masterKeyCheck is the setting holding a value sealed with the master key, so that a process
// started with another key notices before serving.
const masterKeyCheck = "master_key_check"

// checkMasterKeyReadOnly checks that the master key opens the value checkMasterKey stored.
func (db *DB) checkMasterKeyReadOnly(ctx context.Context) error {
	var sealed string
	err := db.rdb.QueryRowContext(ctx, db.rebind(`SELECT value FROM settings WHERE key = ?`), masterKeyCheck).Scan(&sealed)
	if err != nil {
		return fmt.Errorf("store: check master key: the database is not initialized (start the server once): %w", err)
	}
	if _, err := db.box.Open(sealed, "setting:"+masterKeyCheck); err != nil {
		return ErrWrongMasterKey
	}
	return nil
}

// checkMasterKey stores a sealed value on first open and checks on later opens that it opens.
func (db *DB) checkMasterKey(ctx context.Context) error {
	const aad = "setting:" + masterKeyCheck
	sealed, err := db.box.Seal([]byte("allot master key check"), aad)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	sqlTx, err := db.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: check master key: %w", err)
	}
	defer sqlTx.Rollback()
	tx := &Tx{q: sqlTx, db: db, now: db.timestamp()}
	stored, err := tx.PutSettingIfAbsent(ctx, masterKeyCheck, sealed)
	if err == nil {
		err = sqlTx.Commit()
	}
	if err != nil {
		return fmt.Errorf("store: check master key: %w", err)
	}
	if _, err := db.box.Open(stored, aad); err != nil {
		if errors.Is(err, secrets.ErrDecrypt) || errors.Is(err, secrets.ErrMalformed) {
			return ErrWrongMasterKey
		}
		return fmt.Errorf("store: check master key: %w", err)
	}
	return nil
}
