package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// EnabledService is a service principal with trusted access to an organization.
type EnabledService struct {
	Principal string
	EnabledAt time.Time
}

// EnableServiceAccess gives a service principal trusted access to an organization and reports
// whether it did not have it already. It returns an error wrapping ErrNotFound when there is
// no such organization.
func (tx *Tx) EnableServiceAccess(ctx context.Context, orgID, principal string) (bool, error) {
	err := tx.lockOrg(ctx, orgID)
	if err == nil {
		err = tx.insertOnce(ctx, `INSERT INTO org_service_access (org_id, service_principal, enabled_at) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, orgID, principal, tx.Now())
	}
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrConflict):
		return false, nil
	}
	return false, fmt.Errorf("store: enable service access for %s in %s: %w", principal, orgID, err)
}

// DisableServiceAccess takes trusted access to an organization away from a service principal.
// It returns an error wrapping ErrNotFound when the principal does not have it.
func (tx *Tx) DisableServiceAccess(ctx context.Context, orgID, principal string) error {
	err := tx.lockOrg(ctx, orgID)
	if err == nil {
		err = tx.affected(ctx, `DELETE FROM org_service_access WHERE org_id = ? AND service_principal = ?`, orgID, principal)
	}
	if err != nil {
		return fmt.Errorf("store: disable service access for %s in %s: %w", principal, orgID, err)
	}
	return nil
}

// ServiceAccess returns one page of the service principals with trusted access to an
// organization, in order of principal (q.After is the last principal of the previous page;
// q.ParentID is ignored).
func (tx *Tx) ServiceAccess(ctx context.Context, orgID string, q OrgQuery) ([]EnabledService, error) {
	rows, err := tx.Query(ctx, `SELECT service_principal, enabled_at FROM org_service_access
		WHERE org_id = ? AND service_principal > ? ORDER BY service_principal`+limitClause(q.Limit), orgID, q.After)
	if err != nil {
		return nil, fmt.Errorf("store: service access of %s: %w", orgID, err)
	}
	defer rows.Close()
	var out []EnabledService
	for rows.Next() {
		var e EnabledService
		if err := rows.Scan(&e.Principal, ScanTime(&e.EnabledAt)); err != nil {
			return nil, fmt.Errorf("store: service access of %s: %w", orgID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: service access of %s: %w", orgID, err)
	}
	return out, nil
}

// ServiceAccessEnabled returns the organization of an account when it has given the service
// principal trusted access, and "" when it has not or the account is in no organization.
func (tx *Tx) ServiceAccessEnabled(ctx context.Context, accountID, principal string) (string, error) {
	var orgID string
	err := tx.QueryRow(ctx, `SELECT s.org_id FROM org_accounts a JOIN org_service_access s ON s.org_id = a.org_id
		WHERE a.account_id = ? AND s.service_principal = ?`, accountID, principal).Scan(&orgID)
	if err := tx.noRows(err); err != nil && !errors.Is(err, ErrNotFound) {
		return "", fmt.Errorf("store: service access of %s for %s: %w", accountID, principal, err)
	}
	return orgID, nil
}

// MaxOrgTags is the number of tags an organization resource may have.
const MaxOrgTags = 50

// OrgTags returns the tags of an organization resource (an account, OU, root or policy, by
// ID) in the order they were added; nil when it has none.
func (tx *Tx) OrgTags(ctx context.Context, resourceID string) ([]Tag, error) {
	rows, err := tx.Query(ctx, `SELECT key, value FROM org_tags WHERE resource_id = ? ORDER BY seq`, resourceID)
	if err != nil {
		return nil, fmt.Errorf("store: tags of %s: %w", resourceID, err)
	}
	defer rows.Close()
	var tags []Tag
	for rows.Next() {
		var t Tag
		if err := rows.Scan(&t.Key, &t.Value); err != nil {
			return nil, fmt.Errorf("store: tags of %s: %w", resourceID, err)
		}
		tags = append(tags, t)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: tags of %s: %w", resourceID, err)
	}
	return tags, nil
}

// PutOrgTags adds tags to an organization resource, replacing the values of keys it has
// (keys are case-sensitive). It returns an error wrapping ErrLimitExceeded when the resource
// would have more than MaxOrgTags tags. The caller checks that the resource exists.
func (tx *Tx) PutOrgTags(ctx context.Context, resourceID string, tags []Tag) error {
	if err := tx.putOrgTags(ctx, resourceID, tags); err != nil {
		return fmt.Errorf("store: tag %s: %w", resourceID, err)
	}
	return nil
}

func (tx *Tx) putOrgTags(ctx context.Context, resourceID string, tags []Tag) error {
	if len(tags) == 0 {
		return nil
	}
	current, err := tx.OrgTags(ctx, resourceID)
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
	if len(keys) > MaxOrgTags {
		return fmt.Errorf("%d tags: %w", len(keys), ErrLimitExceeded)
	}
	var seq int64
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM org_tags WHERE resource_id = ?`, resourceID).Scan(&seq); err != nil {
		tx.noteErr(err)
		return err
	}
	for _, t := range tags {
		seq++
		_, err := tx.Exec(ctx, `INSERT INTO org_tags (resource_id, key, value, seq) VALUES (?, ?, ?, ?)
			ON CONFLICT (resource_id, key) DO UPDATE SET value = excluded.value`, resourceID, t.Key, t.Value, seq)
		if err != nil {
			return err
		}
	}
	return nil
}

// DeleteOrgTags removes the tags with the given keys from an organization resource; keys it
// does not have are ignored.
func (tx *Tx) DeleteOrgTags(ctx context.Context, resourceID string, keys []string) error {
	for _, k := range keys {
		if _, err := tx.Exec(ctx, `DELETE FROM org_tags WHERE resource_id = ? AND key = ?`, resourceID, k); err != nil {
			return fmt.Errorf("store: untag %s: %w", resourceID, err)
		}
	}
	return nil
}

// SLRDeletionTask is the deletion task of a service-linked role (IAM's
// DeleteServiceLinkedRole): whether it succeeded and, when it failed, why and which resources
// use the role.
type SLRDeletionTask struct {
	ID        string // task/aws-service-role/SERVICE/ROLE/…
	AccountID string
	RoleName  string
	Status    string // SUCCEEDED, IN_PROGRESS, FAILED or NOT_STARTED
	Reason    string // when FAILED
	Resources []string
	CreatedAt time.Time
}

// CreateSLRDeletionTask stores a deletion task. It returns an error wrapping ErrConflict when
// the ID exists.
func (tx *Tx) CreateSLRDeletionTask(ctx context.Context, t *SLRDeletionTask) error {
	resources, err := json.Marshal(nonNil(t.Resources))
	if err == nil {
		err = tx.insertOnce(ctx, `INSERT INTO iam_slr_deletion_tasks (id, account_id, role_name, status, reason, resources, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			t.ID, t.AccountID, t.RoleName, t.Status, t.Reason, string(resources), t.CreatedAt)
	}
	if err != nil {
		return fmt.Errorf("store: create deletion task %s: %w", t.ID, err)
	}
	return nil
}

// SLRDeletionTask returns a deletion task of an account, or an error wrapping ErrNotFound.
func (tx *Tx) SLRDeletionTask(ctx context.Context, accountID, id string) (*SLRDeletionTask, error) {
	t := &SLRDeletionTask{}
	var resources string
	err := tx.QueryRow(ctx, `SELECT id, account_id, role_name, status, reason, resources, created_at
		FROM iam_slr_deletion_tasks WHERE account_id = ? AND id = ?`, accountID, id).
		Scan(&t.ID, &t.AccountID, &t.RoleName, &t.Status, &t.Reason, &resources, ScanTime(&t.CreatedAt))
	if err == nil {
		err = json.Unmarshal([]byte(resources), &t.Resources)
	} else {
		err = tx.noRows(err)
	}
	if err != nil {
		return nil, fmt.Errorf("store: deletion task %s: %w", id, err)
	}
	return t, nil
}
