package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// IssuerKeyQuery selects issuer keys for IssuerKeys; an empty field matches every key.
type IssuerKeyQuery struct {
	KID        string
	AccountID  string
	IssuerName string
}

const issuerKeyColumns = `kid, account_id, issuer_name, alg, public_jwk, is_current, created_at, retired_at`

func scanIssuerKey(sc interface{ Scan(...any) error }) (*IssuerKey, error) {
	k := &IssuerKey{}
	err := sc.Scan(&k.KID, &k.AccountID, &k.IssuerName, &k.Alg, &k.PublicJWK, &k.Current, ScanTime(&k.CreatedAt), ScanTime(&k.RetiredAt))
	return k, err
}

// IssuerKeys returns the issuer keys q selects, current, previous and retired, without their
// private keys, ordered by account, issuer name, algorithm and creation time.
func (tx *Tx) IssuerKeys(ctx context.Context, q IssuerKeyQuery) ([]*IssuerKey, error) {
	var b strings.Builder
	b.WriteString(`SELECT ` + issuerKeyColumns + ` FROM license_issuer_keys WHERE 1 = 1`)
	var args []any
	for _, f := range []struct{ col, v string }{{"kid", q.KID}, {"account_id", q.AccountID}, {"issuer_name", q.IssuerName}} {
		if f.v != "" {
			b.WriteString(" AND " + f.col + " = ?")
			args = append(args, f.v)
		}
	}
	b.WriteString(" ORDER BY account_id, issuer_name, alg, created_at, kid")
	rows, err := tx.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("store: issuer keys: %w", err)
	}
	defer rows.Close()
	var out []*IssuerKey
	for rows.Next() {
		k, err := scanIssuerKey(rows)
		if err != nil {
			return nil, fmt.Errorf("store: issuer keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: issuer keys: %w", err)
	}
	return out, nil
}

// RotateIssuerKey makes k the current key of its (account, issuer name, algorithm); the key
// that was current stays as a previous key (still published, see IssuerPublicKeys). It
// returns that previous key, without its private key. It returns an error wrapping
// ErrNotFound when the issuer has no key for k.Alg (nothing to rotate), or ErrConflict when a
// concurrent rotation of the same key committed first.
func (tx *Tx) RotateIssuerKey(ctx context.Context, k *IssuerKey) (*IssuerKey, error) {
	prevKID, err := tx.rotateIssuerKey(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("store: rotate key of %s %q %s: %w", k.AccountID, k.IssuerName, k.Alg, err)
	}
	prev, err := scanIssuerKey(tx.QueryRow(ctx, `SELECT `+issuerKeyColumns+` FROM license_issuer_keys WHERE kid = ?`, prevKID))
	if err != nil {
		return nil, fmt.Errorf("store: issuer key %s: %w", prevKID, tx.noRows(err))
	}
	return prev, nil
}

// rotateIssuerKey demotes the current key of k's issuer and algorithm, stores k as the
// current one and returns the demoted key's ID.
func (tx *Tx) rotateIssuerKey(ctx context.Context, k *IssuerKey) (string, error) {
	var prev string
	err := tx.QueryRow(ctx, `UPDATE license_issuer_keys SET is_current = ?
		WHERE account_id = ? AND issuer_name = ? AND alg = ? AND is_current RETURNING kid`,
		false, k.AccountID, k.IssuerName, k.Alg).Scan(&prev)
	if errors.Is(err, sql.ErrNoRows) {
		// No current key: none was ever made, or a concurrent rotation moved it (PostgreSQL
		// re-checks the row it waited for and finds it no longer current).
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM license_issuer_keys WHERE account_id = ? AND issuer_name = ? AND alg = ?`,
			k.AccountID, k.IssuerName, k.Alg).Scan(&n); err != nil {
			tx.noteErr(err)
			return "", err
		}
		if n > 0 {
			return "", fmt.Errorf("rotated concurrently: %w", ErrConflict)
		}
		return "", ErrNotFound
	}
	if err != nil {
		tx.noteErr(err)
		return "", err
	}
	sealed, err := tx.db.box.Seal(k.PrivateKey, issuerKeyContext(k.KID))
	if err != nil {
		return "", err
	}
	res, err := tx.Exec(ctx, `INSERT INTO license_issuer_keys (kid, account_id, issuer_name, alg, public_jwk, private_key, is_current, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		k.KID, k.AccountID, k.IssuerName, k.Alg, k.PublicJWK, sealed, true, k.CreatedAt)
	if err != nil {
		return "", err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", fmt.Errorf("key %s: %w", k.KID, ErrConflict)
	}
	k.Current = true
	return prev, nil
}

// RetireIssuerKey retires a previous issuer key at the given time: it is no longer published
// (IssuerPublicKeys leaves it out), so the tokens it signed no longer verify. Retiring a
// retired key changes nothing. It returns the key afterwards (without its private key), or an
// error wrapping ErrNotFound (no such key) or ErrConflict (it is its issuer's current key:
// rotate first).
func (tx *Tx) RetireIssuerKey(ctx context.Context, kid string, at time.Time) (*IssuerKey, error) {
	k, err := scanIssuerKey(tx.QueryRow(ctx, `SELECT `+issuerKeyColumns+` FROM license_issuer_keys WHERE kid = ?`, kid))
	if err != nil {
		return nil, fmt.Errorf("store: retire issuer key %s: %w", kid, tx.noRows(err))
	}
	switch {
	case k.Current:
		return nil, fmt.Errorf("store: retire issuer key %s: it is the current key: %w", kid, ErrConflict)
	case !k.RetiredAt.IsZero():
		return k, nil
	}
	res, err := tx.Exec(ctx, `UPDATE license_issuer_keys SET retired_at = ? WHERE kid = ? AND NOT is_current AND retired_at IS NULL`, at, kid)
	if err != nil {
		return nil, fmt.Errorf("store: retire issuer key %s: %w", kid, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Retired by a concurrent call (a previous key never becomes current again).
		if k, err = scanIssuerKey(tx.QueryRow(ctx, `SELECT `+issuerKeyColumns+` FROM license_issuer_keys WHERE kid = ?`, kid)); err != nil {
			return nil, fmt.Errorf("store: retire issuer key %s: %w", kid, tx.noRows(err))
		}
		return k, nil
	}
	k.RetiredAt = at.UTC().Truncate(time.Microsecond)
	return k, nil
}
