package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/allot-dev/allot/internal/secrets"
	"github.com/allot-dev/allot/internal/store"
)

// Environment variables the storage flags default from.
const (
	envDataDir       = "ALLOT_DATA_DIR"
	envDatabase      = "ALLOT_DATABASE"
	envMasterKey     = "ALLOT_MASTER_KEY"
	envMasterKeyFile = "ALLOT_MASTER_KEY_FILE"
)

// storageFlags locate the database and the master key; every command that opens the
// database shares them.
type storageFlags struct {
	dataDir       string
	database      string
	masterKeyFile string
	masterKey     string // from the environment only: never a flag, so it stays out of ps
}

func (f *storageFlags) register(fs *pflag.FlagSet, getenv func(string) string) {
	fs.StringVar(&f.dataDir, "data-dir", envOr(getenv, envDataDir, "allot-data"),
		"directory for the embedded database, the master key and generated credentials (env "+envDataDir+")")
	fs.StringVar(&f.database, "database", getenv(envDatabase),
		"database DSN: postgres://user@host:port/db?sslmode=… for PostgreSQL; default SQLite at DATA-DIR/allot.db (env "+envDatabase+")")
	fs.StringVar(&f.masterKeyFile, "master-key-file", getenv(envMasterKeyFile),
		"file holding the base64 master key that encrypts secrets at rest; default DATA-DIR/master.key, generated on first start; "+
			envMasterKey+" (base64 of 32 bytes) takes precedence (env "+envMasterKeyFile+")")
	f.masterKey = getenv(envMasterKey)
}

func (f *storageFlags) dsn() string {
	if f.database != "" {
		return f.database
	}
	return filepath.Join(f.dataDir, "allot.db")
}

func (f *storageFlags) postgres() bool {
	return strings.HasPrefix(f.database, "postgres://") || strings.HasPrefix(f.database, "postgresql://")
}

// open loads the master key and opens the database. A server (opts.ReadOnly false) creates
// the data directory and generates the master key on first start; read-only commands change
// nothing and fail when there is nothing to read.
func (f *storageFlags) open(ctx context.Context, log *slog.Logger, opts store.Options) (*store.DB, error) {
	var key []byte
	if opts.ReadOnly {
		if !f.postgres() {
			if _, err := os.Stat(f.dsn()); err != nil {
				return nil, fmt.Errorf("no database at %s: %w", f.dsn(), err)
			}
		}
		k, err := secrets.ReadKey(f.dataDir, f.masterKeyFile, f.masterKey)
		if err != nil {
			return nil, err
		}
		key = k
	} else {
		if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		k, created, err := secrets.LoadKey(f.dataDir, f.masterKeyFile, f.masterKey)
		if err != nil {
			return nil, err
		}
		if created {
			log.Info("generated master key", "path", filepath.Join(f.dataDir, secrets.KeyFile))
		}
		key = k
	}
	box, err := secrets.New(key)
	if err != nil {
		return nil, err
	}
	opts.Box, opts.Logger = box, log
	return store.Open(ctx, f.dsn(), opts)
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}
