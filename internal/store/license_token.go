package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// TokenKey is a signing key of the License Manager token issuer, which signs refresh and
// access tokens (CreateToken, GetAccessToken). PrivateKey is PKCS #8 DER, sealed at rest.
type TokenKey struct {
	KID        string // RFC 7638 thumbprint of the public key
	Alg        string // "EdDSA"
	PublicJWK  string
	PrivateKey []byte
	Current    bool
	CreatedAt  time.Time
}

func tokenKeyContext(kid string) string { return "license_token_keys:" + kid }

// AddTokenKey stores k as the current token key unless there is one, and returns the current
// key afterwards (safe when two requests make the first key at once).
func (tx *Tx) AddTokenKey(ctx context.Context, k *TokenKey) (*TokenKey, error) {
	sealed, err := tx.db.box.Seal(k.PrivateKey, tokenKeyContext(k.KID))
	if err != nil {
		return nil, fmt.Errorf("store: add token key %s: %w", k.KID, err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO license_token_keys (kid, alg, public_jwk, private_key, is_current, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, k.KID, k.Alg, k.PublicJWK, sealed, true, k.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("store: add token key %s: %w", k.KID, err)
	}
	return tx.TokenKey(ctx, "")
}

// TokenKey returns a token key with its private key: the one with key ID kid, or the current
// one when kid is "". It returns an error wrapping ErrNotFound when there is none.
func (tx *Tx) TokenKey(ctx context.Context, kid string) (*TokenKey, error) {
	q := `SELECT kid, alg, public_jwk, private_key, is_current, created_at FROM license_token_keys WHERE is_current`
	args := []any{}
	if kid != "" {
		q, args = `SELECT kid, alg, public_jwk, private_key, is_current, created_at FROM license_token_keys WHERE kid = ?`, []any{kid}
	}
	k := &TokenKey{}
	var sealed string
	err := tx.QueryRow(ctx, q, args...).Scan(&k.KID, &k.Alg, &k.PublicJWK, &sealed, &k.Current, ScanTime(&k.CreatedAt))
	if err != nil {
		return nil, fmt.Errorf("store: token key %q: %w", kid, tx.noRows(err))
	}
	if k.PrivateKey, err = tx.db.box.Open(sealed, tokenKeyContext(k.KID)); err != nil {
		return nil, fmt.Errorf("store: token key %s: %w", k.KID, err)
	}
	return k, nil
}

// Token statuses (TokenData.Status).
const (
	TokenAvailable = "AVAILABLE"
	TokenDeleted   = "DELETED"
)

// Token is a License Manager refresh token, as CreateToken made it. The token string itself
// is not kept: Hash is its SHA-256 (hex), and it can be signed again from the row.
type Token struct {
	ID         string // 32 hex digits
	AccountID  string // the account that created it
	LicenseARN string
	HomeRegion string // the license's
	RoleARNs   []string
	Properties []string // TokenProperties
	Hash       string
	KID        string // the token key that signed it
	Status     string // TokenAvailable or TokenDeleted
	ExpiresAt  time.Time
	CreatedAt  time.Time
	DeletedAt  time.Time // zero unless deleted
}

// CreateToken stores a new token. It returns an error wrapping ErrConflict when the ID exists.
func (tx *Tx) CreateToken(ctx context.Context, t *Token) error {
	roles, err := json.Marshal(nonNil(t.RoleARNs))
	if err != nil {
		return fmt.Errorf("store: create token %s: %w", t.ID, err)
	}
	props, err := json.Marshal(nonNil(t.Properties))
	if err != nil {
		return fmt.Errorf("store: create token %s: %w", t.ID, err)
	}
	res, err := tx.Exec(ctx, `INSERT INTO license_tokens (id, account_id, license_arn, home_region, role_arns, token_properties,
		token_hash, kid, status, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		t.ID, t.AccountID, t.LicenseARN, t.HomeRegion, string(roles), string(props), t.Hash, t.KID, t.Status, t.ExpiresAt, t.CreatedAt)
	if err != nil {
		return fmt.Errorf("store: create token %s: %w", t.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: create token %s: %w", t.ID, ErrConflict)
	}
	return nil
}

const tokenColumns = `id, account_id, license_arn, home_region, role_arns, token_properties, token_hash, kid, status,
	expires_at, created_at, deleted_at`

func scanToken(sc interface{ Scan(...any) error }) (*Token, error) {
	t := &Token{}
	var roles, props string
	err := sc.Scan(&t.ID, &t.AccountID, &t.LicenseARN, &t.HomeRegion, &roles, &props, &t.Hash, &t.KID, &t.Status,
		ScanTime(&t.ExpiresAt), ScanTime(&t.CreatedAt), ScanTime(&t.DeletedAt))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(roles), &t.RoleARNs); err != nil {
		return nil, fmt.Errorf("role_arns of token %s: %w", t.ID, err)
	}
	if err := json.Unmarshal([]byte(props), &t.Properties); err != nil {
		return nil, fmt.Errorf("token_properties of token %s: %w", t.ID, err)
	}
	return t, nil
}

// Token returns a token by ID, or an error wrapping ErrNotFound.
func (tx *Tx) Token(ctx context.Context, id string) (*Token, error) {
	t, err := scanToken(tx.QueryRow(ctx, `SELECT `+tokenColumns+` FROM license_tokens WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("store: token %s: %w", id, tx.noRows(err))
	}
	return t, nil
}

// TokenQuery selects tokens of an account, in ID order. Empty lists match everything.
type TokenQuery struct {
	AccountID   string
	IDs         []string
	LicenseARNs []string
	Statuses    []string
	After       string // ID of the last token of the previous page
	Limit       int
}

// Tokens returns the tokens q selects.
func (tx *Tx) Tokens(ctx context.Context, q TokenQuery) ([]*Token, error) {
	var b strings.Builder
	b.WriteString(`SELECT ` + tokenColumns + ` FROM license_tokens WHERE account_id = ? AND id > ?`)
	args := []any{q.AccountID, q.After}
	in := inFilter(&b, &args)
	in("id", q.IDs)
	in("license_arn", q.LicenseARNs)
	in("status", q.Statuses)
	b.WriteString(" ORDER BY id")
	if q.Limit > 0 {
		b.WriteString(fmt.Sprintf(" LIMIT %d", q.Limit))
	}
	rows, err := tx.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("store: tokens: %w", err)
	}
	defer rows.Close()
	var out []*Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("store: tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: tokens: %w", err)
	}
	return out, nil
}

// CountTokens returns how many tokens of a status an account has for a license.
func (tx *Tx) CountTokens(ctx context.Context, accountID, licenseARN, status string) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM license_tokens WHERE license_arn = ? AND account_id = ? AND status = ?`,
		licenseARN, accountID, status).Scan(&n)
	if err != nil {
		tx.noteErr(err)
		return 0, fmt.Errorf("store: count tokens: %w", err)
	}
	return n, nil
}

// DeleteToken marks a token DELETED at the given time; a deleted token stays DELETED with its
// first deletion time. It returns an error wrapping ErrNotFound when the token does not exist.
func (tx *Tx) DeleteToken(ctx context.Context, id string, at time.Time) error {
	res, err := tx.Exec(ctx, `UPDATE license_tokens SET status = ?, deleted_at = COALESCE(deleted_at, ?) WHERE id = ?`,
		TokenDeleted, at, id)
	if err != nil {
		return fmt.Errorf("store: delete token %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete token %s: %w", id, ErrNotFound)
	}
	return nil
}
