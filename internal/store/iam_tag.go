package store

import (
	"context"
	"fmt"
)

// TagEntity adds tags to a user, role or managed policy (name is the policy's ARN), replacing
// the value of a key it has already in any case. It returns an error wrapping ErrNotFound,
// or ErrLimitExceeded when the entity would have more than MaxTags tags.
func (tx *Tx) TagEntity(ctx context.Context, t EntityType, accountID, name string, tags []Tag) error {
	id, err := tx.lockTagged(ctx, t, accountID, name)
	if err == nil {
		err = tx.putTags(ctx, id, tags)
	}
	if err != nil {
		return fmt.Errorf("store: tag %s %s: %w", t, name, err)
	}
	return nil
}

// UntagEntity removes the tags with the given keys (in any case) from a user, role or managed
// policy; keys it does not have are ignored. It returns an error wrapping ErrNotFound.
func (tx *Tx) UntagEntity(ctx context.Context, t EntityType, accountID, name string, keys []string) error {
	id, err := tx.lockTagged(ctx, t, accountID, name)
	if err != nil {
		return fmt.Errorf("store: untag %s %s: %w", t, name, err)
	}
	for _, k := range keys {
		if _, err := tx.Exec(ctx, `DELETE FROM iam_tags WHERE entity_id = ? AND key_fold = ?`, id, tagKey(k)); err != nil {
			return fmt.Errorf("store: untag %s %s: %w", t, name, err)
		}
	}
	return nil
}

// EntityTags returns the tags of a user, role or managed policy in the order they were added,
// or an error wrapping ErrNotFound.
func (tx *Tx) EntityTags(ctx context.Context, t EntityType, accountID, name string) ([]Tag, error) {
	var id string
	var err error
	if t == EntityPolicy {
		err = tx.QueryRow(ctx, `SELECT id FROM iam_policies WHERE arn = ?`, name).Scan(&id)
		err = tx.noRows(err)
	} else {
		id, err = tx.entityID(ctx, t, accountID, name)
	}
	var tags []Tag
	if err == nil {
		tags, err = tx.tags(ctx, id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: tags of %s %s: %w", t, name, err)
	}
	return tags, nil
}

func (tx *Tx) lockTagged(ctx context.Context, t EntityType, accountID, name string) (string, error) {
	if t == EntityPolicy {
		return tx.lockPolicy(ctx, name)
	}
	id, _, err := tx.lockEntity(ctx, t, accountID, name)
	return id, err
}

// putTags adds or replaces tags of the entity with ID id, refusing to have more than
// MaxTags.
func (tx *Tx) putTags(ctx context.Context, id string, tags []Tag) error {
	if len(tags) == 0 {
		return nil
	}
	current, err := tx.tags(ctx, id)
	if err != nil {
		return err
	}
	keys := make(map[string]bool, len(current)+len(tags))
	for _, t := range current {
		keys[tagKey(t.Key)] = true
	}
	for _, t := range tags {
		keys[tagKey(t.Key)] = true
	}
	if len(keys) > MaxTags {
		return fmt.Errorf("%d tags: %w", len(keys), ErrLimitExceeded)
	}
	var seq int64
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM iam_tags WHERE entity_id = ?`, id).Scan(&seq); err != nil {
		tx.noteErr(err)
		return err
	}
	for _, t := range tags {
		seq++
		_, err := tx.Exec(ctx, `INSERT INTO iam_tags (entity_id, key_fold, key, value, seq) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (entity_id, key_fold) DO UPDATE SET key = excluded.key, value = excluded.value`,
			id, tagKey(t.Key), t.Key, t.Value, seq)
		if err != nil {
			return err
		}
	}
	return nil
}

// tags returns the tags of the entity with ID id, nil when none.
func (tx *Tx) tags(ctx context.Context, id string) ([]Tag, error) {
	rows, err := tx.Query(ctx, `SELECT key, value FROM iam_tags WHERE entity_id = ? ORDER BY seq`, id)
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
