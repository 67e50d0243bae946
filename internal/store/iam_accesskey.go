package store

import (
	"context"
	"fmt"

	"github.com/allot-dev/allot/internal/identity"
)

// AddAccessKey stores a new long-term access key of an IAM user (k.Kind KindIAMUser) or of an
// account's root (KindRoot) as CreateAccessKey does, refusing more than MaxAccessKeys keys per
// user or root. For a user's key, k.UserName may name the user in any case and is set to the
// name as stored. It returns an error wrapping ErrNotFound when the user or account does not
// exist, ErrLimitExceeded, or ErrConflict when the key ID exists.
func (tx *Tx) AddAccessKey(ctx context.Context, k *AccessKey) error {
	if err := tx.addAccessKey(ctx, k); err != nil {
		return fmt.Errorf("store: add access key %s: %w", k.ID, err)
	}
	return nil
}

func (tx *Tx) addAccessKey(ctx context.Context, k *AccessKey) error {
	switch k.Kind {
	case identity.KindIAMUser:
		_, name, err := tx.lockEntity(ctx, EntityUser, k.AccountID, k.UserName)
		if err != nil {
			return fmt.Errorf("user %s: %w", k.UserName, err)
		}
		k.UserName = name
	case identity.KindRoot:
		var id string
		err := tx.QueryRow(ctx, `UPDATE accounts SET status = status WHERE id = ? RETURNING id`, k.AccountID).Scan(&id)
		if err != nil {
			return fmt.Errorf("account %s: %w", k.AccountID, tx.noRows(err))
		}
	default:
		return fmt.Errorf("kind %q is not a long-term key's: %w", k.Kind, ErrConstraint)
	}
	n, err := tx.count(ctx, `SELECT COUNT(*) FROM access_keys WHERE account_id = ? AND kind = ? AND user_name = ?`,
		k.AccountID, string(k.Kind), k.UserName)
	if err != nil {
		return err
	}
	if n >= MaxAccessKeys {
		return fmt.Errorf("%d keys: %w", n, ErrLimitExceeded)
	}
	return tx.CreateAccessKey(ctx, k)
}

// AccessKeys returns the long-term access keys of an IAM user (kind KindIAMUser, userName as
// stored) or of an account's root (KindRoot, userName ""), oldest first, without their
// secrets.
func (tx *Tx) AccessKeys(ctx context.Context, accountID string, kind identity.Kind, userName string) ([]*AccessKey, error) {
	rows, err := tx.Query(ctx, `SELECT id, status, created_at FROM access_keys
		WHERE account_id = ? AND kind = ? AND user_name = ? ORDER BY created_at, id`, accountID, string(kind), userName)
	if err != nil {
		return nil, fmt.Errorf("store: access keys of %s %q: %w", kind, userName, err)
	}
	defer rows.Close()
	var out []*AccessKey
	for rows.Next() {
		k := &AccessKey{AccountID: accountID, Kind: kind, UserName: userName}
		if err := rows.Scan(&k.ID, &k.Status, ScanTime(&k.CreatedAt)); err != nil {
			return nil, fmt.Errorf("store: access keys of %s %q: %w", kind, userName, err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: access keys of %s %q: %w", kind, userName, err)
	}
	return out, nil
}

// SetAccessKeyStatus sets the status of an access key, "Active" or "Inactive" (an inactive
// key does not authenticate). It returns an error wrapping ErrNotFound.
func (tx *Tx) SetAccessKeyStatus(ctx context.Context, id, status string) error {
	if err := tx.affected(ctx, `UPDATE access_keys SET status = ? WHERE id = ?`, status, id); err != nil {
		return fmt.Errorf("store: set status of access key %s: %w", id, err)
	}
	return nil
}

// DeleteAccessKey deletes an access key. It returns an error wrapping ErrNotFound.
func (tx *Tx) DeleteAccessKey(ctx context.Context, id string) error {
	if err := tx.affected(ctx, `DELETE FROM access_keys WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store: delete access key %s: %w", id, err)
	}
	return nil
}
