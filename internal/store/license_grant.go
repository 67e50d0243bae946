package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Grant is one version of a grant of a managed license. Body is its content as the
// licensemanager package encodes it (JSON); the other fields are what lookups use.
type Grant struct {
	ARN         string
	AccountID   string // the grantor
	LicenseARN  string
	ParentARN   string
	Grantee     string // the principal ARN
	GranteeKind string // "account", "organization" or "ou"
	GranteeID   string // the account ID, o-… or ou-…
	HomeRegion  string
	Version     int64
	Status      string
	Body        string
	CreatedAt   time.Time // of the grant (its first version)
	VersionAt   time.Time // of this version
}

// CreateGrant stores a new grant with its first version (g.Version 1). It returns an error
// wrapping ErrConflict when the ARN exists.
func (tx *Tx) CreateGrant(ctx context.Context, g *Grant) error {
	res, err := tx.Exec(ctx, `INSERT INTO license_grants (arn, account_id, license_arn, parent_arn, grantee, grantee_kind, grantee_id,
			home_region, version, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		g.ARN, g.AccountID, g.LicenseARN, g.ParentARN, g.Grantee, g.GranteeKind, g.GranteeID, g.HomeRegion, g.Version, g.Status, g.CreatedAt)
	if err != nil {
		return fmt.Errorf("store: create grant %s: %w", g.ARN, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: create grant %s: %w", g.ARN, ErrConflict)
	}
	return tx.addGrantVersion(ctx, g)
}

func (tx *Tx) addGrantVersion(ctx context.Context, g *Grant) error {
	if _, err := tx.Exec(ctx, `INSERT INTO license_grant_versions (arn, version, body, created_at) VALUES (?, ?, ?, ?)`,
		g.ARN, g.Version, g.Body, g.VersionAt); err != nil {
		return fmt.Errorf("store: add version %d of grant %s: %w", g.Version, g.ARN, err)
	}
	return nil
}

// PutGrantVersion stores g as the new current version of its grant when the current version
// is g.Version-1. It returns an error wrapping ErrNotFound when the grant does not exist, or
// ErrConflict when its current version is another.
func (tx *Tx) PutGrantVersion(ctx context.Context, g *Grant) error {
	var cur int64
	err := tx.QueryRow(ctx, `UPDATE license_grants SET version = version WHERE arn = ? RETURNING version`, g.ARN).Scan(&cur)
	if err != nil {
		return fmt.Errorf("store: grant %s: %w", g.ARN, tx.noRows(err))
	}
	if cur != g.Version-1 {
		return fmt.Errorf("store: grant %s is at version %d, not %d: %w", g.ARN, cur, g.Version-1, ErrConflict)
	}
	if _, err := tx.Exec(ctx, `UPDATE license_grants SET version = ?, status = ? WHERE arn = ?`, g.Version, g.Status, g.ARN); err != nil {
		return fmt.Errorf("store: grant %s: %w", g.ARN, err)
	}
	return tx.addGrantVersion(ctx, g)
}

const grantColumns = `g.arn, g.account_id, g.license_arn, g.parent_arn, g.grantee, g.grantee_kind, g.grantee_id, g.home_region,
	v.version, g.status, v.body, g.created_at, v.created_at`

func scanGrant(sc interface{ Scan(...any) error }) (*Grant, error) {
	g := &Grant{}
	err := sc.Scan(&g.ARN, &g.AccountID, &g.LicenseARN, &g.ParentARN, &g.Grantee, &g.GranteeKind, &g.GranteeID, &g.HomeRegion,
		&g.Version, &g.Status, &g.Body, ScanTime(&g.CreatedAt), ScanTime(&g.VersionAt))
	return g, err
}

// Grant returns a grant at a version (0: the current one), or an error wrapping
// ErrNotFound. Status is the current version's.
func (tx *Tx) Grant(ctx context.Context, arn string, version int64) (*Grant, error) {
	q := `SELECT ` + grantColumns + ` FROM license_grants g JOIN license_grant_versions v ON v.arn = g.arn AND v.version = `
	args := []any{arn}
	if version == 0 {
		q += `g.version WHERE g.arn = ?`
	} else {
		q += `? WHERE g.arn = ?`
		args = []any{version, arn}
	}
	g, err := scanGrant(tx.QueryRow(ctx, q, args...))
	if err != nil {
		return nil, fmt.Errorf("store: grant %s version %d: %w", arn, version, tx.noRows(err))
	}
	return g, nil
}

// GrantQuery selects grants (current versions) in ARN order. Empty fields and lists match
// everything.
type GrantQuery struct {
	GrantorAccount string   // grants this account made
	GranteeIDs     []string // grants to these account IDs, organizations (o-…) or OUs (ou-…)
	ARNs           []string
	LicenseARNs    []string
	ParentARNs     []string
	Grantees       []string // principal ARNs
	Statuses       []string
	GrantorIDs     []string // grantor account IDs
	ProductSKUs    []string // of the granted license
	IssuerNames    []string // of the granted license's issuer, as its fingerprint names it
	Fingerprints   []string // of the granted license's issuer
	After          string   // ARN of the last grant of the previous page
	Limit          int
}

// Grants returns the current versions of the grants q selects.
func (tx *Tx) Grants(ctx context.Context, q GrantQuery) ([]*Grant, error) {
	var b strings.Builder
	b.WriteString(`SELECT ` + grantColumns + ` FROM license_grants g JOIN license_grant_versions v ON v.arn = g.arn AND v.version = g.version
		JOIN licenses l ON l.arn = g.license_arn WHERE g.arn > ?`)
	args := []any{q.After}
	if q.GrantorAccount != "" {
		b.WriteString(" AND g.account_id = ?")
		args = append(args, q.GrantorAccount)
	}
	in := inFilter(&b, &args)
	in("g.grantee_id", q.GranteeIDs)
	in("g.arn", q.ARNs)
	in("g.license_arn", q.LicenseARNs)
	in("g.parent_arn", q.ParentARNs)
	in("g.grantee", q.Grantees)
	in("g.status", q.Statuses)
	in("g.account_id", q.GrantorIDs)
	in("l.product_sku", q.ProductSKUs)
	in("l.fingerprint", q.Fingerprints)
	if len(q.IssuerNames) > 0 {
		// The fingerprint is aws:ACCOUNT:ISSUER:issuer-fingerprint, ACCOUNT the license's.
		b.WriteString(" AND (")
		for i, n := range q.IssuerNames {
			if i > 0 {
				b.WriteString(" OR ")
			}
			b.WriteString("l.fingerprint = 'aws:' || l.account_id || ':' || ? || ':issuer-fingerprint'")
			args = append(args, n)
		}
		b.WriteString(")")
	}
	b.WriteString(" ORDER BY g.arn")
	if q.Limit > 0 {
		b.WriteString(fmt.Sprintf(" LIMIT %d", q.Limit))
	}
	rows, err := tx.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("store: grants: %w", err)
	}
	defer rows.Close()
	var out []*Grant
	for rows.Next() {
		g, err := scanGrant(rows)
		if err != nil {
			return nil, fmt.Errorf("store: grants: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: grants: %w", err)
	}
	return out, nil
}
