package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/allot-dev/allot/internal/identity"
)

// UserARN returns arn:aws:iam::ACCOUNT:user/PATH/NAME (path "/" or "/…/").
func UserARN(accountID, path, name string) string {
	return "arn:aws:iam::" + accountID + ":user" + path + name
}

// CreateUser stores a new user with its tags. It returns an error wrapping ErrConflict when
// the account has a user of that name in any case (or the ID exists), ErrNotFound when
// u.PermissionsBoundary names no managed policy, and ErrLimitExceeded for more than MaxTags
// tags. u.ARN is set.
func (tx *Tx) CreateUser(ctx context.Context, u *User) error {
	if err := tx.createUser(ctx, u); err != nil {
		return fmt.Errorf("store: create user %s: %w", u.Name, err)
	}
	return nil
}

func (tx *Tx) createUser(ctx context.Context, u *User) error {
	if len(u.Tags) > MaxTags {
		return fmt.Errorf("%d tags: %w", len(u.Tags), ErrLimitExceeded)
	}
	if u.PermissionsBoundary != "" {
		if _, err := tx.lockPolicy(ctx, u.PermissionsBoundary); err != nil {
			return fmt.Errorf("permissions boundary %s: %w", u.PermissionsBoundary, err)
		}
	}
	err := tx.insertOnce(ctx, `INSERT INTO iam_users (id, account_id, name, name_key, path, permissions_boundary, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		u.ID, u.AccountID, u.Name, nameKey(u.Name), u.Path, u.PermissionsBoundary, u.CreatedAt)
	if err != nil {
		return err
	}
	u.ARN = UserARN(u.AccountID, u.Path, u.Name)
	return tx.putTags(ctx, u.ID, u.Tags)
}

const userColumns = `id, account_id, name, path, permissions_boundary, created_at`

func scanUser(sc interface{ Scan(...any) error }) (*User, error) {
	u := &User{}
	if err := sc.Scan(&u.ID, &u.AccountID, &u.Name, &u.Path, &u.PermissionsBoundary, ScanTime(&u.CreatedAt)); err != nil {
		return nil, err
	}
	u.ARN = UserARN(u.AccountID, u.Path, u.Name)
	return u, nil
}

// User returns a user, named in any case, with its tags, or an error wrapping ErrNotFound.
func (tx *Tx) User(ctx context.Context, accountID, name string) (*User, error) {
	u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM iam_users WHERE account_id = ? AND name_key = ?`,
		accountID, nameKey(name)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: user %s: %w", name, ErrNotFound)
	}
	if err == nil {
		u.Tags, err = tx.tags(ctx, u.ID)
	}
	if err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: user %s: %w", name, err)
	}
	return u, nil
}

// Users returns one page of an account's users in order of their lower-cased names, without
// tags. q.After is the lower-cased name of the last user of the previous page.
func (tx *Tx) Users(ctx context.Context, accountID string, q ListQuery) ([]*User, error) {
	cond, args := pathPrefixClause(q.PathPrefix)
	args = append([]any{accountID, q.After}, args...)
	rows, err := tx.Query(ctx, `SELECT `+userColumns+` FROM iam_users WHERE account_id = ? AND name_key > ?`+cond+
		` ORDER BY name_key`+limitClause(q.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	defer rows.Close()
	var users []*User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return users, nil
}

// DeleteUser deletes a user and its tags. It returns an error wrapping ErrNotFound, or an
// *InUseError while the user has access keys, inline policies or attached policies.
func (tx *Tx) DeleteUser(ctx context.Context, accountID, name string) error {
	if err := tx.deleteEntity(ctx, EntityUser, accountID, name); err != nil {
		return fmt.Errorf("store: delete user %s: %w", name, err)
	}
	return nil
}

// deleteEntity deletes a user or role once nothing depends on it. Its row is locked first:
// a concurrent change to what depends on it either committed before (and is seen here) or
// waits and then finds the entity gone.
func (tx *Tx) deleteEntity(ctx context.Context, t EntityType, accountID, name string) error {
	table, err := entityTable(t)
	if err != nil {
		return err
	}
	id, stored, err := tx.lockEntity(ctx, t, accountID, name)
	if err != nil {
		return err
	}
	inUse := func(d Dependents) error { return &InUseError{Entity: string(t) + " " + stored, Reason: d} }
	if t == EntityUser {
		n, err := tx.count(ctx, `SELECT COUNT(*) FROM access_keys WHERE account_id = ? AND kind = ? AND user_name = ?`,
			accountID, string(identity.KindIAMUser), stored)
		if err != nil {
			return err
		}
		if n > 0 {
			return inUse(DependentAccessKeys)
		}
	}
	if n, err := tx.count(ctx, `SELECT COUNT(*) FROM iam_inline_policies WHERE entity_id = ?`, id); err != nil {
		return err
	} else if n > 0 {
		return inUse(DependentInlinePolicies)
	}
	if n, err := tx.count(ctx, `SELECT COUNT(*) FROM iam_attachments WHERE entity_id = ?`, id); err != nil {
		return err
	} else if n > 0 {
		return inUse(DependentAttachedPolicies)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM iam_tags WHERE entity_id = ?`, id); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `DELETE FROM `+table+` WHERE id = ?`, id)
	return err
}

// SetPermissionsBoundary sets (or with arn "" removes) the permissions boundary of a user or
// role. It returns an error wrapping ErrNotFound when the user, role or policy does not exist.
func (tx *Tx) SetPermissionsBoundary(ctx context.Context, t EntityType, accountID, name, arn string) error {
	if err := tx.setBoundary(ctx, t, accountID, name, arn); err != nil {
		return fmt.Errorf("store: set permissions boundary of %s %s: %w", t, name, err)
	}
	return nil
}

func (tx *Tx) setBoundary(ctx context.Context, t EntityType, accountID, name, arn string) error {
	table, err := entityTable(t)
	if err != nil {
		return err
	}
	id, _, err := tx.lockEntity(ctx, t, accountID, name)
	if err != nil {
		return err
	}
	if arn != "" {
		if _, err := tx.lockPolicy(ctx, arn); err != nil {
			return fmt.Errorf("policy %s: %w", arn, err)
		}
	}
	_, err = tx.Exec(ctx, `UPDATE `+table+` SET permissions_boundary = ? WHERE id = ?`, arn, id)
	return err
}
