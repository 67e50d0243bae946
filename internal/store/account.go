package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/allot-dev/allot/internal/identity"
)

// Account is an AWS account: a 12-digit ID.
type Account struct {
	ID, Name, Email, Status string
	CreatedAt               time.Time
}

// CreateAccount stores a new account. It returns an error wrapping ErrConflict when the ID
// exists.
func (tx *Tx) CreateAccount(ctx context.Context, a *Account) error {
	res, err := tx.Exec(ctx, `INSERT INTO accounts (id, name, email, status, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		a.ID, a.Name, a.Email, a.Status, a.CreatedAt)
	if err != nil {
		return fmt.Errorf("store: create account %s: %w", a.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: create account %s: %w", a.ID, err)
	} else if n == 0 {
		return fmt.Errorf("store: create account %s: %w", a.ID, ErrConflict)
	}
	return nil
}

// Account returns an account, or an error wrapping ErrNotFound.
func (tx *Tx) Account(ctx context.Context, id string) (*Account, error) {
	a := &Account{ID: id}
	err := tx.QueryRow(ctx, `SELECT name, email, status, created_at FROM accounts WHERE id = ?`, id).
		Scan(&a.Name, &a.Email, &a.Status, ScanTime(&a.CreatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: account %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: account %s: %w", id, err)
	}
	return a, nil
}

// AccessKey is a long-term access key of an account's root or of an IAM user.
type AccessKey struct {
	ID, AccountID string
	Kind          identity.Kind // identity.KindRoot or identity.KindIAMUser (sessions come later)
	UserName      string
	Secret        string // plaintext in memory; stored sealed with the Box (context "access-key:"+ID)
	Status        string // "Active" or "Inactive"
	CreatedAt     time.Time
}

func accessKeyContext(id string) string { return "access-key:" + id }

// CreateAccessKey stores a new access key, its secret sealed. It returns an error wrapping
// ErrConflict when the ID exists and ErrConstraint when the account does not.
func (tx *Tx) CreateAccessKey(ctx context.Context, k *AccessKey) error {
	sealed, err := tx.db.box.Seal([]byte(k.Secret), accessKeyContext(k.ID))
	if err != nil {
		return fmt.Errorf("store: create access key %s: %w", k.ID, err)
	}
	res, err := tx.Exec(ctx, `INSERT INTO access_keys (id, account_id, kind, user_name, secret_sealed, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		k.ID, k.AccountID, string(k.Kind), k.UserName, sealed, k.Status, k.CreatedAt)
	if err != nil {
		return fmt.Errorf("store: create access key %s: %w", k.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: create access key %s: %w", k.ID, err)
	} else if n == 0 {
		return fmt.Errorf("store: create access key %s: %w", k.ID, ErrConflict)
	}
	return nil
}

// AccessKey returns an access key with its secret decrypted, or an error wrapping ErrNotFound.
func (tx *Tx) AccessKey(ctx context.Context, id string) (*AccessKey, error) {
	k := &AccessKey{ID: id}
	var kind, sealed string
	err := tx.QueryRow(ctx, `SELECT account_id, kind, user_name, secret_sealed, status, created_at
		FROM access_keys WHERE id = ?`, id).
		Scan(&k.AccountID, &kind, &k.UserName, &sealed, &k.Status, ScanTime(&k.CreatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: access key %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: access key %s: %w", id, err)
	}
	k.Kind = identity.Kind(kind)
	secret, err := tx.db.box.Open(sealed, accessKeyContext(id))
	if err != nil {
		return nil, fmt.Errorf("store: access key %s: %w", id, err)
	}
	k.Secret = string(secret)
	return k, nil
}

// AccessKey returns an access key with its secret decrypted, or an error wrapping
// ErrNotFound: one point read on the read pool, outside any transaction.
func (db *DB) AccessKey(ctx context.Context, id string) (*AccessKey, error) {
	tx := &Tx{q: db.rdb, st: &txStmts{cache: db.rstmts}, db: db}
	return tx.AccessKey(ctx, id)
}
