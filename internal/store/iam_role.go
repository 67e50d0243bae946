package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RoleARN returns arn:aws:iam::ACCOUNT:role/PATH/NAME (path "/" or "/…/").
func RoleARN(accountID, path, name string) string {
	return "arn:aws:iam::" + accountID + ":role" + path + name
}

// CreateRole stores a new role with its tags. It returns an error wrapping ErrConflict when
// the account has a role of that name in any case (or the ID exists), ErrNotFound when
// r.PermissionsBoundary names no managed policy, and ErrLimitExceeded for more than MaxTags
// tags. r.ARN is set.
func (tx *Tx) CreateRole(ctx context.Context, r *Role) error {
	if err := tx.createRole(ctx, r); err != nil {
		return fmt.Errorf("store: create role %s: %w", r.Name, err)
	}
	return nil
}

func (tx *Tx) createRole(ctx context.Context, r *Role) error {
	if len(r.Tags) > MaxTags {
		return fmt.Errorf("%d tags: %w", len(r.Tags), ErrLimitExceeded)
	}
	if r.PermissionsBoundary != "" {
		if _, err := tx.lockPolicy(ctx, r.PermissionsBoundary); err != nil {
			return fmt.Errorf("permissions boundary %s: %w", r.PermissionsBoundary, err)
		}
	}
	var lastUsed int64
	if !r.LastUsedAt.IsZero() {
		lastUsed = r.LastUsedAt.UnixMicro()
	}
	err := tx.insertOnce(ctx, `INSERT INTO iam_roles (id, account_id, name, name_key, path, description, assume_role_policy,
			max_session_duration, permissions_boundary, created_at, last_used_at, last_used_region)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		r.ID, r.AccountID, r.Name, nameKey(r.Name), r.Path, r.Description, r.AssumeRolePolicy,
		r.MaxSessionDuration, r.PermissionsBoundary, r.CreatedAt, lastUsed, r.LastUsedRegion)
	if err != nil {
		return err
	}
	r.ARN = RoleARN(r.AccountID, r.Path, r.Name)
	return tx.putTags(ctx, r.ID, r.Tags)
}

const roleColumns = `id, account_id, name, path, description, assume_role_policy, max_session_duration,
	permissions_boundary, created_at, last_used_at, last_used_region`

func scanRole(sc interface{ Scan(...any) error }) (*Role, error) {
	r := &Role{}
	var lastUsed int64
	err := sc.Scan(&r.ID, &r.AccountID, &r.Name, &r.Path, &r.Description, &r.AssumeRolePolicy, &r.MaxSessionDuration,
		&r.PermissionsBoundary, ScanTime(&r.CreatedAt), &lastUsed, &r.LastUsedRegion)
	if err != nil {
		return nil, err
	}
	if lastUsed != 0 {
		r.LastUsedAt = time.UnixMicro(lastUsed).UTC()
	}
	r.ARN = RoleARN(r.AccountID, r.Path, r.Name)
	return r, nil
}

// Role returns a role, named in any case, with its tags, or an error wrapping ErrNotFound.
func (tx *Tx) Role(ctx context.Context, accountID, name string) (*Role, error) {
	r, err := scanRole(tx.QueryRow(ctx, `SELECT `+roleColumns+` FROM iam_roles WHERE account_id = ? AND name_key = ?`,
		accountID, nameKey(name)))
	if err != nil {
		err = tx.noRows(err)
	} else {
		r.Tags, err = tx.tags(ctx, r.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("store: role %s: %w", name, err)
	}
	return r, nil
}

// Roles returns one page of an account's roles in order of their lower-cased names, without
// tags. q.After is the lower-cased name of the last role of the previous page.
func (tx *Tx) Roles(ctx context.Context, accountID string, q ListQuery) ([]*Role, error) {
	cond, args := pathPrefixClause(q.PathPrefix)
	args = append([]any{accountID, q.After}, args...)
	rows, err := tx.Query(ctx, `SELECT `+roleColumns+` FROM iam_roles WHERE account_id = ? AND name_key > ?`+cond+
		` ORDER BY name_key`+limitClause(q.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list roles: %w", err)
	}
	defer rows.Close()
	var roles []*Role
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list roles: %w", err)
		}
		roles = append(roles, r)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: list roles: %w", err)
	}
	return roles, nil
}

// UpdateRole writes the description, maximum session duration and trust policy of the role
// r.Name (in any case) of r.AccountID. It returns an error wrapping ErrNotFound.
func (tx *Tx) UpdateRole(ctx context.Context, r *Role) error {
	err := tx.affected(ctx, `UPDATE iam_roles SET description = ?, max_session_duration = ?, assume_role_policy = ?
		WHERE account_id = ? AND name_key = ?`,
		r.Description, r.MaxSessionDuration, r.AssumeRolePolicy, r.AccountID, nameKey(r.Name))
	if err != nil {
		return fmt.Errorf("store: update role %s: %w", r.Name, err)
	}
	return nil
}

// SetRoleLastUsed records that a role was assumed at a time in a region. It returns an error
// wrapping ErrNotFound.
func (tx *Tx) SetRoleLastUsed(ctx context.Context, accountID, name string, at time.Time, region string) error {
	err := tx.affected(ctx, `UPDATE iam_roles SET last_used_at = ?, last_used_region = ? WHERE account_id = ? AND name_key = ?`,
		at, region, accountID, nameKey(name))
	if err != nil {
		return fmt.Errorf("store: role %s last used: %w", name, err)
	}
	return nil
}

// DeleteRole deletes a role and its tags. It returns an error wrapping ErrNotFound, or an
// *InUseError while the role has inline or attached policies.
func (tx *Tx) DeleteRole(ctx context.Context, accountID, name string) error {
	if err := tx.deleteEntity(ctx, EntityRole, accountID, name); err != nil {
		return fmt.Errorf("store: delete role %s: %w", name, err)
	}
	return nil
}

// RolePolicies returns the identity policies and permissions boundary of a role, or an error
// wrapping ErrNotFound when the account has no such role.
func (tx *Tx) RolePolicies(ctx context.Context, accountID, roleName string) (*PrincipalPolicies, error) {
	p, err := tx.principalPolicies(ctx, EntityRole, accountID, roleName)
	if err != nil {
		return nil, fmt.Errorf("store: policies of role %s: %w", roleName, err)
	}
	return p, nil
}

// UserPolicies returns the identity policies and permissions boundary of a user, or an error
// wrapping ErrNotFound when the account has no such user.
func (tx *Tx) UserPolicies(ctx context.Context, accountID, userName string) (*PrincipalPolicies, error) {
	p, err := tx.principalPolicies(ctx, EntityUser, accountID, userName)
	if err != nil {
		return nil, fmt.Errorf("store: policies of user %s: %w", userName, err)
	}
	return p, nil
}

// RolePolicies is Tx.RolePolicies in a read transaction of its own.
func (db *DB) RolePolicies(ctx context.Context, accountID, roleName string) (p *PrincipalPolicies, err error) {
	err = db.View(ctx, func(tx *Tx) error {
		p, err = tx.RolePolicies(ctx, accountID, roleName)
		return err
	})
	return p, err
}

// UserPolicies is Tx.UserPolicies in a read transaction of its own.
func (db *DB) UserPolicies(ctx context.Context, accountID, userName string) (p *PrincipalPolicies, err error) {
	err = db.View(ctx, func(tx *Tx) error {
		p, err = tx.UserPolicies(ctx, accountID, userName)
		return err
	})
	return p, err
}

func (tx *Tx) principalPolicies(ctx context.Context, t EntityType, accountID, name string) (*PrincipalPolicies, error) {
	table, err := entityTable(t)
	if err != nil {
		return nil, err
	}
	var id, boundary string
	err = tx.QueryRow(ctx, `SELECT id, permissions_boundary FROM `+table+` WHERE account_id = ? AND name_key = ?`,
		accountID, nameKey(name)).Scan(&id, &boundary)
	if err != nil {
		return nil, tx.noRows(err)
	}
	p := &PrincipalPolicies{Identity: []PolicyText{}}
	rows, err := tx.Query(ctx, `SELECT name, document FROM iam_inline_policies WHERE entity_id = ? ORDER BY name_key`, id)
	if err != nil {
		return nil, err
	}
	if p.Identity, err = scanPolicyTexts(tx, rows, p.Identity); err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `SELECT a.policy_arn, v.document FROM iam_attachments a
		JOIN iam_policies p ON p.arn = a.policy_arn
		JOIN iam_policy_versions v ON v.policy_arn = p.arn AND v.version = p.default_version
		WHERE a.entity_id = ? ORDER BY a.policy_arn`, id)
	if err != nil {
		return nil, err
	}
	if p.Identity, err = scanPolicyTexts(tx, rows, p.Identity); err != nil {
		return nil, err
	}
	if boundary != "" {
		doc, err := tx.ManagedPolicyDocument(ctx, boundary)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil, fmt.Errorf("permissions boundary %s is missing", boundary)
			}
			return nil, err
		}
		p.Boundary = &PolicyText{Name: boundary, Document: doc}
	}
	return p, nil
}

func scanPolicyTexts(tx *Tx, rows *sql.Rows, into []PolicyText) ([]PolicyText, error) {
	defer rows.Close()
	for rows.Next() {
		var pt PolicyText
		if err := rows.Scan(&pt.Name, &pt.Document); err != nil {
			return nil, err
		}
		into = append(into, pt)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, err
	}
	return into, nil
}
