package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// IssuerKey is a license issuer's signing key. PrivateKey is PKCS #8 DER, sealed at rest.
type IssuerKey struct {
	KID        string // RFC 7638 thumbprint of the public key
	AccountID  string
	IssuerName string
	Alg        string // "ES256" or "PS384"
	PublicJWK  string // the public JSON Web Key
	PrivateKey []byte
	Current    bool
	CreatedAt  time.Time
	RetiredAt  time.Time // zero unless retired (RetireIssuerKey)
}

func issuerKeyContext(kid string) string { return "license_issuer_keys:" + kid }

// AddIssuerKey stores k as the current key of its (account, issuer name, algorithm) unless
// one exists, and returns the current key afterwards (safe when two requests make the first
// key at once).
func (tx *Tx) AddIssuerKey(ctx context.Context, k *IssuerKey) (*IssuerKey, error) {
	sealed, err := tx.db.box.Seal(k.PrivateKey, issuerKeyContext(k.KID))
	if err != nil {
		return nil, fmt.Errorf("store: add issuer key %s: %w", k.KID, err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO license_issuer_keys (kid, account_id, issuer_name, alg, public_jwk, private_key, is_current, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		k.KID, k.AccountID, k.IssuerName, k.Alg, k.PublicJWK, sealed, true, k.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("store: add issuer key %s: %w", k.KID, err)
	}
	return tx.IssuerKey(ctx, k.AccountID, k.IssuerName, k.Alg)
}

// IssuerKey returns the current key of an issuer for an algorithm, with its private key, or
// an error wrapping ErrNotFound.
func (tx *Tx) IssuerKey(ctx context.Context, accountID, issuerName, alg string) (*IssuerKey, error) {
	k := &IssuerKey{AccountID: accountID, IssuerName: issuerName, Alg: alg, Current: true}
	var sealed string
	err := tx.QueryRow(ctx, `SELECT kid, public_jwk, private_key, created_at FROM license_issuer_keys
		WHERE account_id = ? AND issuer_name = ? AND alg = ? AND is_current`, accountID, issuerName, alg).
		Scan(&k.KID, &k.PublicJWK, &sealed, ScanTime(&k.CreatedAt))
	if err != nil {
		return nil, fmt.Errorf("store: issuer key of %s %q %s: %w", accountID, issuerName, alg, tx.noRows(err))
	}
	if k.PrivateKey, err = tx.db.box.Open(sealed, issuerKeyContext(k.KID)); err != nil {
		return nil, fmt.Errorf("store: issuer key %s: %w", k.KID, err)
	}
	return k, nil
}

// IssuerPublicKeys returns the public part of every issuer key, current and previous (not
// retired ones), in key ID order (PrivateKey is nil).
func (tx *Tx) IssuerPublicKeys(ctx context.Context) ([]*IssuerKey, error) {
	rows, err := tx.Query(ctx, `SELECT kid, account_id, issuer_name, alg, public_jwk, is_current, created_at
		FROM license_issuer_keys WHERE retired_at IS NULL ORDER BY kid`)
	if err != nil {
		return nil, fmt.Errorf("store: issuer keys: %w", err)
	}
	defer rows.Close()
	var out []*IssuerKey
	for rows.Next() {
		k := &IssuerKey{}
		if err := rows.Scan(&k.KID, &k.AccountID, &k.IssuerName, &k.Alg, &k.PublicJWK, &k.Current, ScanTime(&k.CreatedAt)); err != nil {
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

// License is one version of a managed license. Body is its content as the licensemanager
// package encodes it (JSON); the other fields are what lists filter on.
type License struct {
	ARN         string
	AccountID   string
	HomeRegion  string
	Version     int64
	Status      string
	ProductSKU  string
	Beneficiary string
	Fingerprint string
	Body        string
	CreatedAt   time.Time // of the license (its first version)
	VersionAt   time.Time // of this version
}

// CreateLicense stores a new license with its first version (l.Version 1). It returns an
// error wrapping ErrConflict when the ARN exists.
func (tx *Tx) CreateLicense(ctx context.Context, l *License) error {
	res, err := tx.Exec(ctx, `INSERT INTO licenses (arn, account_id, home_region, version, status, product_sku, beneficiary, fingerprint, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		l.ARN, l.AccountID, l.HomeRegion, l.Version, l.Status, l.ProductSKU, l.Beneficiary, l.Fingerprint, l.CreatedAt)
	if err != nil {
		return fmt.Errorf("store: create license %s: %w", l.ARN, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: create license %s: %w", l.ARN, ErrConflict)
	}
	return tx.addLicenseVersion(ctx, l)
}

func (tx *Tx) addLicenseVersion(ctx context.Context, l *License) error {
	_, err := tx.Exec(ctx, `INSERT INTO license_versions (arn, version, body, created_at) VALUES (?, ?, ?, ?)`,
		l.ARN, l.Version, l.Body, l.VersionAt)
	if err != nil {
		return fmt.Errorf("store: add version %d of license %s: %w", l.Version, l.ARN, err)
	}
	return nil
}

// PutLicenseVersion stores l as the new current version of its license when the current
// version is l.Version-1. It returns an error wrapping ErrNotFound when the license does not
// exist, or ErrConflict when its current version is another.
func (tx *Tx) PutLicenseVersion(ctx context.Context, l *License) error {
	var cur int64
	err := tx.QueryRow(ctx, `UPDATE licenses SET version = version WHERE arn = ? RETURNING version`, l.ARN).Scan(&cur)
	if err != nil {
		return fmt.Errorf("store: license %s: %w", l.ARN, tx.noRows(err))
	}
	if cur != l.Version-1 {
		return fmt.Errorf("store: license %s is at version %d, not %d: %w", l.ARN, cur, l.Version-1, ErrConflict)
	}
	if _, err := tx.Exec(ctx, `UPDATE licenses SET version = ?, status = ?, home_region = ?, product_sku = ?, beneficiary = ?, fingerprint = ?
		WHERE arn = ?`, l.Version, l.Status, l.HomeRegion, l.ProductSKU, l.Beneficiary, l.Fingerprint, l.ARN); err != nil {
		return fmt.Errorf("store: license %s: %w", l.ARN, err)
	}
	return tx.addLicenseVersion(ctx, l)
}

const licenseColumns = `l.arn, l.account_id, l.home_region, v.version, l.status, l.product_sku, l.beneficiary, l.fingerprint,
	v.body, l.created_at, v.created_at`

func scanLicense(sc interface{ Scan(...any) error }) (*License, error) {
	l := &License{}
	err := sc.Scan(&l.ARN, &l.AccountID, &l.HomeRegion, &l.Version, &l.Status, &l.ProductSKU, &l.Beneficiary, &l.Fingerprint,
		&l.Body, ScanTime(&l.CreatedAt), ScanTime(&l.VersionAt))
	return l, err
}

// License returns a license at a version (0: the current one), or an error wrapping
// ErrNotFound. Status and the filter fields are the current version's.
func (tx *Tx) License(ctx context.Context, arn string, version int64) (*License, error) {
	q := `SELECT ` + licenseColumns + ` FROM licenses l JOIN license_versions v ON v.arn = l.arn AND v.version = `
	args := []any{arn}
	if version == 0 {
		q += `l.version WHERE l.arn = ?`
	} else {
		q += `? WHERE l.arn = ?`
		args = []any{version, arn}
	}
	l, err := scanLicense(tx.QueryRow(ctx, q, args...))
	if err != nil {
		return nil, fmt.Errorf("store: license %s version %d: %w", arn, version, tx.noRows(err))
	}
	return l, nil
}

// LicenseQuery selects licenses of an account, in ARN order. Empty lists match everything.
type LicenseQuery struct {
	AccountID     string
	ARNs          []string
	ProductSKUs   []string
	Beneficiaries []string
	Fingerprints  []string
	Statuses      []string
	After         string // ARN of the last license of the previous page
	Limit         int
}

// Licenses returns the current versions of the licenses q selects.
func (tx *Tx) Licenses(ctx context.Context, q LicenseQuery) ([]*License, error) {
	var b strings.Builder
	b.WriteString(`SELECT ` + licenseColumns + ` FROM licenses l JOIN license_versions v ON v.arn = l.arn AND v.version = l.version
		WHERE l.account_id = ? AND l.arn > ?`)
	args := []any{q.AccountID, q.After}
	in := inFilter(&b, &args)
	in("l.arn", q.ARNs)
	in("l.product_sku", q.ProductSKUs)
	in("l.beneficiary", q.Beneficiaries)
	in("l.fingerprint", q.Fingerprints)
	in("l.status", q.Statuses)
	b.WriteString(" ORDER BY l.arn")
	if q.Limit > 0 {
		b.WriteString(fmt.Sprintf(" LIMIT %d", q.Limit))
	}
	return tx.licenses(ctx, b.String(), args...)
}

// LicenseVersions returns every version of a license, oldest first; Status is the current
// one. It returns an error wrapping ErrNotFound when the license does not exist.
func (tx *Tx) LicenseVersions(ctx context.Context, arn string) ([]*License, error) {
	out, err := tx.licenses(ctx, `SELECT `+licenseColumns+` FROM licenses l JOIN license_versions v ON v.arn = l.arn
		WHERE l.arn = ? ORDER BY v.version`, arn)
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("store: license %s: %w", arn, ErrNotFound)
	}
	return out, err
}

func (tx *Tx) licenses(ctx context.Context, query string, args ...any) ([]*License, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: licenses: %w", err)
	}
	defer rows.Close()
	var out []*License
	for rows.Next() {
		l, err := scanLicense(rows)
		if err != nil {
			return nil, fmt.Errorf("store: licenses: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: licenses: %w", err)
	}
	return out, nil
}

// ClientToken is the first answer to a request that carried a ClientToken.
type ClientToken struct {
	AccountID string
	Operation string
	Token     string
	Request   string // a digest of the request, to tell a retry from another request
	Response  string // JSON
	CreatedAt time.Time
}

// ClientToken returns the answer recorded for a token, or an error wrapping ErrNotFound.
func (tx *Tx) ClientToken(ctx context.Context, accountID, operation, token string) (*ClientToken, error) {
	c := &ClientToken{AccountID: accountID, Operation: operation, Token: token}
	err := tx.QueryRow(ctx, `SELECT request, response, created_at FROM license_client_tokens
		WHERE account_id = ? AND operation = ? AND token = ?`, accountID, operation, token).
		Scan(&c.Request, &c.Response, ScanTime(&c.CreatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: client token %q: %w", token, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: client token %q: %w", token, err)
	}
	return c, nil
}

// PutClientToken records the answer to a token. It returns an error wrapping ErrConflict
// when the token already has one.
func (tx *Tx) PutClientToken(ctx context.Context, c *ClientToken) error {
	res, err := tx.Exec(ctx, `INSERT INTO license_client_tokens (account_id, operation, token, request, response, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, c.AccountID, c.Operation, c.Token, c.Request, c.Response, c.CreatedAt)
	if err != nil {
		return fmt.Errorf("store: put client token %q: %w", c.Token, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: put client token %q: %w", c.Token, ErrConflict)
	}
	return nil
}

// MaxLicenseTags is how many tags a license may have, as in License Manager.
const MaxLicenseTags = 50

// tagTables returns the tag table and the resource table of a license, grant, license
// configuration or report generator ARN.
func tagTables(arn string) (tags, resources string) {
	switch {
	case strings.Contains(arn, ":grant:"):
		return "license_grant_tags", "license_grants"
	case strings.Contains(arn, ":license-configuration:"):
		return "license_configuration_tags", "license_configurations"
	case strings.Contains(arn, ":report-generator:"):
		return "report_generator_tags", "report_generators"
	}
	return "license_tags", "licenses"
}

// lockLicenseResource locks the row of a license, grant or license configuration for the rest
// of the transaction. It returns an error wrapping ErrNotFound when it does not exist.
func (tx *Tx) lockLicenseResource(ctx context.Context, arn string) error {
	if strings.Contains(arn, ":license-configuration:") {
		_, err := tx.LockLicenseConfiguration(ctx, arn)
		return err
	}
	_, table := tagTables(arn)
	var v int64
	err := tx.QueryRow(ctx, `UPDATE `+table+` SET version = version WHERE arn = ? RETURNING version`, arn).Scan(&v)
	return tx.noRows(err)
}

// TagLicenseResource adds tags to a license, a grant or a license configuration (by ARN), replacing the value of a
// key (case-sensitive) it has already. It returns an error wrapping ErrNotFound, or
// ErrLimitExceeded when the resource would have more than MaxLicenseTags tags.
func (tx *Tx) TagLicenseResource(ctx context.Context, arn string, tags []Tag) error {
	if err := tx.tagLicenseResource(ctx, arn, tags); err != nil {
		return fmt.Errorf("store: tag %s: %w", arn, err)
	}
	return nil
}

func (tx *Tx) tagLicenseResource(ctx context.Context, arn string, tags []Tag) error {
	if err := tx.lockLicenseResource(ctx, arn); err != nil {
		return err
	}
	if len(tags) == 0 {
		return nil
	}
	current, err := tx.resourceTags(ctx, arn)
	if err != nil {
		return err
	}
	keys := make(map[string]bool, len(current)+len(tags))
	for _, t := range current {
		keys[t.Key] = true
	}
	for _, t := range tags {
		keys[t.Key] = true
	}
	if len(keys) > MaxLicenseTags {
		return fmt.Errorf("%d tags: %w", len(keys), ErrLimitExceeded)
	}
	table, _ := tagTables(arn)
	var seq int64
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM `+table+` WHERE arn = ?`, arn).Scan(&seq); err != nil {
		tx.noteErr(err)
		return err
	}
	for _, t := range tags {
		seq++
		if _, err := tx.Exec(ctx, `INSERT INTO `+table+` (arn, key, value, seq) VALUES (?, ?, ?, ?)
			ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value`, arn, t.Key, t.Value, seq); err != nil {
			return err
		}
	}
	return nil
}

// UntagLicenseResource removes the tags with the given keys (case-sensitive) from a license,
// a grant or a license configuration; keys it does not have are ignored. It returns an error wrapping ErrNotFound.
func (tx *Tx) UntagLicenseResource(ctx context.Context, arn string, keys []string) error {
	table, _ := tagTables(arn)
	err := tx.lockLicenseResource(ctx, arn)
	for _, k := range keys {
		if err != nil {
			break
		}
		_, err = tx.Exec(ctx, `DELETE FROM `+table+` WHERE arn = ? AND key = ?`, arn, k)
	}
	if err != nil {
		return fmt.Errorf("store: untag %s: %w", arn, err)
	}
	return nil
}

// LicenseResourceTags returns the tags of a license, a grant or a license configuration in the
// order they were first added (nil when none), or an error wrapping ErrNotFound.
func (tx *Tx) LicenseResourceTags(ctx context.Context, arn string) ([]Tag, error) {
	_, resources := tagTables(arn)
	var one int
	err := tx.noRows(tx.QueryRow(ctx, `SELECT 1 FROM `+resources+` WHERE arn = ?`, arn).Scan(&one))
	var tags []Tag
	if err == nil {
		tags, err = tx.resourceTags(ctx, arn)
	}
	if err != nil {
		return nil, fmt.Errorf("store: tags of %s: %w", arn, err)
	}
	return tags, nil
}

func (tx *Tx) resourceTags(ctx context.Context, arn string) ([]Tag, error) {
	table, _ := tagTables(arn)
	rows, err := tx.Query(ctx, `SELECT key, value FROM `+table+` WHERE arn = ? ORDER BY seq, key`, arn)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tags []Tag
	for rows.Next() {
		var t Tag
		if err := rows.Scan(&t.Key, &t.Value); err != nil {
			return nil, err
		}
		tags = append(tags, t)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, err
	}
	return tags, nil
}

// inFilter returns a function that adds "AND col IN (…)" for a non-empty list of values to
// the query being built in b, appending the values to args.
func inFilter(b *strings.Builder, args *[]any) func(col string, vs []string) {
	return func(col string, vs []string) {
		if len(vs) == 0 {
			return
		}
		b.WriteString(" AND " + col + " IN (?" + strings.Repeat(", ?", len(vs)-1) + ")")
		for _, v := range vs {
			*args = append(*args, v)
		}
	}
}
