package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// MaxResourceTags is how many tags one inventory resource may have, as in EC2.
const MaxResourceTags = 50

// PutResourceTags adds tags to a resource, replacing the value of a key it has already (keys
// are case-sensitive). It returns an error wrapping ErrLimitExceeded when the resource would
// have more than MaxResourceTags tags. Callers tagging an existing resource lock its row first
// (LockResource), so that concurrent calls cannot together pass the limit.
func (tx *Tx) PutResourceTags(ctx context.Context, arn string, tags []Tag) error {
	if len(tags) == 0 {
		return nil
	}
	keys := map[string]bool{}
	rows, err := tx.Query(ctx, `SELECT key FROM resource_tags WHERE resource_arn = ?`, arn)
	if err != nil {
		return fmt.Errorf("store: tag %s: %w", arn, err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return fmt.Errorf("store: tag %s: %w", arn, err)
		}
		keys[k] = true
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		tx.noteErr(err)
		return fmt.Errorf("store: tag %s: %w", arn, err)
	}
	for _, t := range tags {
		keys[t.Key] = true
	}
	if len(keys) > MaxResourceTags {
		return fmt.Errorf("store: tag %s: %d tags: %w", arn, len(keys), ErrLimitExceeded)
	}
	for _, t := range tags {
		if _, err := tx.Exec(ctx, `INSERT INTO resource_tags (resource_arn, key, value) VALUES (?, ?, ?)
			ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value`, arn, t.Key, t.Value); err != nil {
			return fmt.Errorf("store: tag %s: %w", arn, err)
		}
	}
	return nil
}

// TagMatch names tags to delete: those with Key, and when Value is not nil, that value.
type TagMatch struct {
	Key   string
	Value *string
}

// DeleteResourceTags deletes the tags of a resource that match one of matches, or all its tags
// when matches is nil. Tags that do not exist are ignored.
func (tx *Tx) DeleteResourceTags(ctx context.Context, arn string, matches []TagMatch) error {
	if matches == nil {
		if _, err := tx.Exec(ctx, `DELETE FROM resource_tags WHERE resource_arn = ?`, arn); err != nil {
			return fmt.Errorf("store: untag %s: %w", arn, err)
		}
		return nil
	}
	for _, m := range matches {
		q, args := `DELETE FROM resource_tags WHERE resource_arn = ? AND key = ?`, []any{arn, m.Key}
		if m.Value != nil {
			q, args = q+` AND value = ?`, append(args, *m.Value)
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("store: untag %s: %w", arn, err)
		}
	}
	return nil
}

// ResourceTags returns the tags of the resources named by ARN, each resource's in key order;
// resources without tags are absent from the map.
func (tx *Tx) ResourceTags(ctx context.Context, arns []string) (map[string][]Tag, error) {
	out := map[string][]Tag{}
	const chunk = 500 // below every driver's limit of parameters
	for len(arns) > 0 {
		n := min(len(arns), chunk)
		var b strings.Builder
		var args []any
		b.WriteString(`SELECT resource_arn, key, value FROM resource_tags WHERE 1 = 1`)
		inFilter(&b, &args)("resource_arn", arns[:n])
		b.WriteString(` ORDER BY resource_arn, key`)
		if err := tx.scanTags(ctx, b.String(), args, func(arn string, t Tag) { out[arn] = append(out[arn], t) }); err != nil {
			return nil, fmt.Errorf("store: resource tags: %w", err)
		}
		arns = arns[n:]
	}
	return out, nil
}

func (tx *Tx) scanTags(ctx context.Context, q string, args []any, each func(arn string, t Tag)) error {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var arn string
		var t Tag
		if err := rows.Scan(&arn, &t.Key, &t.Value); err != nil {
			return err
		}
		each(arn, t)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return err
	}
	return nil
}

// TagFilter selects the resources that have a tag with one of Keys and, unless Values is
// empty, one of Values: EC2's tag:<key> filter (one key, its values) and tag-key filter (keys
// only).
type TagFilter struct {
	Keys   []string
	Values []string
}

// tagFilters writes the conditions that inventory_resources rows have the tags fs select.
func tagFilters(b *strings.Builder, args *[]any, fs []TagFilter) {
	for _, f := range fs {
		b.WriteString(" AND EXISTS (SELECT 1 FROM resource_tags rt WHERE rt.resource_arn = inventory_resources.arn")
		in := inFilter(b, args)
		in("rt.key", f.Keys)
		in("rt.value", f.Values)
		b.WriteString(")")
	}
}

// tagCondition writes an inventory condition on a tag (attribute "tag:<key>"): EQUALS, the
// resource has the tag with that value; NOT_EQUALS, it does not (untagged resources pass).
func tagCondition(b *strings.Builder, args *[]any, key string, c InventoryCondition) error {
	const exists = "EXISTS (SELECT 1 FROM resource_tags rt WHERE rt.resource_arn = inventory_resources.arn AND rt.key = ? AND rt.value = ?)"
	switch c.Condition {
	case ConditionEquals:
		b.WriteString(" AND " + exists)
	case ConditionNotEquals:
		b.WriteString(" AND NOT " + exists)
	default:
		return fmt.Errorf("store: resources: no condition %q on tags", c.Condition)
	}
	*args = append(*args, key, c.Value)
	return nil
}

// ResourceTag is one tag of one resource, as DescribeTags lists it.
type ResourceTag struct {
	ResourceID   string
	ResourceType string // ResourceInstance, ResourceHost or ResourceImage
	Key          string
	Value        string
}

// ResourceTagQuery selects the tags of an account's resources in a region, in resource ID and
// key order. Empty lists match everything.
type ResourceTagQuery struct {
	AccountID     string
	Region        string
	Types         []string
	ResourceIDs   []string
	Keys          []string
	Values        []string
	Tags          []TagFilter // the resource's tags must pass each
	ExcludeStates []string    // resources in these states are left out
	// TerminatedSince, when set, leaves out the instances terminated before it.
	TerminatedSince time.Time
	AfterID         string // the resource ID and key of the last tag of the previous page
	AfterKey        string
	Limit           int
}

// ListResourceTags returns the tags q selects.
func (tx *Tx) ListResourceTags(ctx context.Context, q ResourceTagQuery) ([]ResourceTag, error) {
	var b strings.Builder
	var args []any
	in := inFilter(&b, &args)
	b.WriteString(`SELECT inventory_resources.resource_id, inventory_resources.resource_type, t.key, t.value
		FROM inventory_resources JOIN resource_tags t ON t.resource_arn = inventory_resources.arn
		WHERE inventory_resources.account_id = ? AND inventory_resources.region = ?`)
	args = append(args, q.AccountID, q.Region)
	if q.AfterID != "" {
		b.WriteString(` AND (inventory_resources.resource_id > ? OR inventory_resources.resource_id = ? AND t.key > ?)`)
		args = append(args, q.AfterID, q.AfterID, q.AfterKey)
	}
	in("inventory_resources.resource_type", q.Types)
	in("inventory_resources.resource_id", q.ResourceIDs)
	in("t.key", q.Keys)
	in("t.value", q.Values)
	if len(q.ExcludeStates) > 0 {
		b.WriteString(" AND inventory_resources.state NOT IN (?" + strings.Repeat(", ?", len(q.ExcludeStates)-1) + ")")
		for _, s := range q.ExcludeStates {
			args = append(args, s)
		}
	}
	if !q.TerminatedSince.IsZero() {
		b.WriteString(" AND (inventory_resources.state <> 'terminated' OR inventory_resources.updated_at >= ?)")
		args = append(args, q.TerminatedSince)
	}
	tagFilters(&b, &args, q.Tags)
	b.WriteString(" ORDER BY inventory_resources.resource_id, t.key")
	if q.Limit > 0 {
		fmt.Fprintf(&b, " LIMIT %d", q.Limit)
	}
	rows, err := tx.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list resource tags: %w", err)
	}
	defer rows.Close()
	var out []ResourceTag
	for rows.Next() {
		var t ResourceTag
		if err := rows.Scan(&t.ResourceID, &t.ResourceType, &t.Key, &t.Value); err != nil {
			return nil, fmt.Errorf("store: list resource tags: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: list resource tags: %w", err)
	}
	return out, nil
}
