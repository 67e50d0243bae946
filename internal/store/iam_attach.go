package store

import (
	"context"
	"fmt"
)

// AttachPolicy attaches a managed policy to a user or role; attaching it again does nothing.
// It returns an error wrapping ErrNotFound when the user, role or policy does not exist, and
// ErrLimitExceeded when the entity has MaxAttachedPolicies policies attached already.
func (tx *Tx) AttachPolicy(ctx context.Context, t EntityType, accountID, name, arn string) error {
	if err := tx.attachPolicy(ctx, t, accountID, name, arn); err != nil {
		return fmt.Errorf("store: attach policy %s to %s %s: %w", arn, t, name, err)
	}
	return nil
}

func (tx *Tx) attachPolicy(ctx context.Context, t EntityType, accountID, name, arn string) error {
	id, _, err := tx.lockEntity(ctx, t, accountID, name)
	if err != nil {
		return err
	}
	if _, err := tx.lockPolicy(ctx, arn); err != nil {
		return fmt.Errorf("policy %s: %w", arn, err)
	}
	if n, err := tx.count(ctx, `SELECT COUNT(*) FROM iam_attachments WHERE entity_id = ? AND policy_arn = ?`, id, arn); err != nil {
		return err
	} else if n > 0 {
		return nil
	}
	if n, err := tx.count(ctx, `SELECT COUNT(*) FROM iam_attachments WHERE entity_id = ?`, id); err != nil {
		return err
	} else if n >= MaxAttachedPolicies {
		return fmt.Errorf("%d policies attached: %w", n, ErrLimitExceeded)
	}
	_, err = tx.Exec(ctx, `INSERT INTO iam_attachments (entity_id, account_id, policy_arn) VALUES (?, ?, ?)`, id, accountID, arn)
	return err
}

// DetachPolicy detaches a managed policy from a user or role. It returns an error wrapping
// ErrNotFound when the user or role does not exist or the policy is not attached to it.
func (tx *Tx) DetachPolicy(ctx context.Context, t EntityType, accountID, name, arn string) error {
	id, _, err := tx.lockEntity(ctx, t, accountID, name)
	if err == nil {
		err = tx.affected(ctx, `DELETE FROM iam_attachments WHERE entity_id = ? AND policy_arn = ?`, id, arn)
	}
	if err != nil {
		return fmt.Errorf("store: detach policy %s from %s %s: %w", arn, t, name, err)
	}
	return nil
}

// AttachedPolicies returns one page of the managed policies attached to a user or role,
// ordered by lower-cased name, then ARN (q.After and q.AfterARN are those of the last policy
// of the previous page). It returns an error wrapping ErrNotFound when the
// user or role does not exist.
func (tx *Tx) AttachedPolicies(ctx context.Context, t EntityType, accountID, name string, q ListQuery) ([]AttachedPolicy, error) {
	out, err := tx.attachedPolicies(ctx, t, accountID, name, q)
	if err != nil {
		return nil, fmt.Errorf("store: policies attached to %s %s: %w", t, name, err)
	}
	return out, nil
}

func (tx *Tx) attachedPolicies(ctx context.Context, t EntityType, accountID, name string, q ListQuery) ([]AttachedPolicy, error) {
	id, err := tx.entityID(ctx, t, accountID, name)
	if err != nil {
		return nil, err
	}
	query := `SELECT p.arn, p.name FROM iam_attachments a JOIN iam_policies p ON p.arn = a.policy_arn
		WHERE a.entity_id = ? AND (p.name_key > ? OR (p.name_key = ? AND p.arn > ?))`
	args := []any{id, q.After, q.After, q.AfterARN}
	if q.PathPrefix != "" && q.PathPrefix != "/" {
		query += ` AND substr(p.path, 1, ?) = ?`
		args = append(args, len(q.PathPrefix), q.PathPrefix)
	}
	rows, err := tx.Query(ctx, query+` ORDER BY p.name_key, p.arn`+limitClause(q.Limit), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AttachedPolicy
	for rows.Next() {
		var ap AttachedPolicy
		if err := rows.Scan(&ap.ARN, &ap.Name); err != nil {
			return nil, err
		}
		out = append(out, ap)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, err
	}
	return out, nil
}

// PutInlinePolicy adds an inline policy to a user or role, or replaces the document (and the
// spelling of the name) of its inline policy of that name in any case. It returns an error
// wrapping ErrNotFound when the user or role does not exist.
func (tx *Tx) PutInlinePolicy(ctx context.Context, t EntityType, accountID, entity, name, document string) error {
	id, _, err := tx.lockEntity(ctx, t, accountID, entity)
	if err == nil {
		_, err = tx.Exec(ctx, `INSERT INTO iam_inline_policies (entity_id, name, name_key, document) VALUES (?, ?, ?, ?)
			ON CONFLICT (entity_id, name_key) DO UPDATE SET name = excluded.name, document = excluded.document`,
			id, name, nameKey(name), document)
	}
	if err != nil {
		return fmt.Errorf("store: put policy %s of %s %s: %w", name, t, entity, err)
	}
	return nil
}

// InlinePolicy returns an inline policy of a user or role, named in any case, or an error
// wrapping ErrNotFound when the entity or the policy does not exist.
func (tx *Tx) InlinePolicy(ctx context.Context, t EntityType, accountID, entity, name string) (*InlinePolicy, error) {
	id, err := tx.entityID(ctx, t, accountID, entity)
	p := &InlinePolicy{}
	if err == nil {
		err = tx.QueryRow(ctx, `SELECT name, document FROM iam_inline_policies WHERE entity_id = ? AND name_key = ?`,
			id, nameKey(name)).Scan(&p.Name, &p.Document)
		err = tx.noRows(err)
	}
	if err != nil {
		return nil, fmt.Errorf("store: policy %s of %s %s: %w", name, t, entity, err)
	}
	return p, nil
}

// DeleteInlinePolicy deletes an inline policy of a user or role. It returns an error wrapping
// ErrNotFound when the entity or the policy does not exist.
func (tx *Tx) DeleteInlinePolicy(ctx context.Context, t EntityType, accountID, entity, name string) error {
	id, _, err := tx.lockEntity(ctx, t, accountID, entity)
	if err == nil {
		err = tx.affected(ctx, `DELETE FROM iam_inline_policies WHERE entity_id = ? AND name_key = ?`, id, nameKey(name))
	}
	if err != nil {
		return fmt.Errorf("store: delete policy %s of %s %s: %w", name, t, entity, err)
	}
	return nil
}

// InlinePolicies returns one page of the inline policies of a user or role, with their
// documents, ordered by lower-cased name (q.After is the lower-cased name of the last policy
// of the previous page; q.PathPrefix is ignored). It returns an error wrapping ErrNotFound
// when the entity does not exist.
func (tx *Tx) InlinePolicies(ctx context.Context, t EntityType, accountID, entity string, q ListQuery) ([]*InlinePolicy, error) {
	out, err := tx.inlinePolicies(ctx, t, accountID, entity, q)
	if err != nil {
		return nil, fmt.Errorf("store: policies of %s %s: %w", t, entity, err)
	}
	return out, nil
}

func (tx *Tx) inlinePolicies(ctx context.Context, t EntityType, accountID, entity string, q ListQuery) ([]*InlinePolicy, error) {
	id, err := tx.entityID(ctx, t, accountID, entity)
	if err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT name, document FROM iam_inline_policies WHERE entity_id = ? AND name_key > ?
		ORDER BY name_key`+limitClause(q.Limit), id, q.After)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*InlinePolicy
	for rows.Next() {
		p := &InlinePolicy{}
		if err := rows.Scan(&p.Name, &p.Document); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, err
	}
	return out, nil
}
