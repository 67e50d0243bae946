package store

import (
	"context"
	"fmt"
	"time"
)

// OrgPolicy is an organization policy: a service control policy of an organization, or an AWS
// managed one (OrgID AWSOrganization) that every organization sees.
type OrgPolicy struct {
	ID          string // p-…
	OrgID       string
	Type        string // PolicyTypeSCP
	Name        string
	Description string
	Content     string
	CreatedAt   time.Time
}

// AWSManaged reports whether the policy is an AWS managed policy.
func (p *OrgPolicy) AWSManaged() bool { return p.OrgID == AWSOrganization }

// CreateOrgPolicy stores a new policy of an organization. It returns an error wrapping
// ErrConflict when the organization (or AWS) has a policy of that name or the ID exists,
// ErrLimitExceeded when the organization has MaxOrgPolicies policies of the type, and
// ErrNotFound when there is no such organization.
func (tx *Tx) CreateOrgPolicy(ctx context.Context, p *OrgPolicy) error {
	if err := tx.createOrgPolicy(ctx, p); err != nil {
		return fmt.Errorf("store: create policy %s: %w", p.Name, err)
	}
	return nil
}

func (tx *Tx) createOrgPolicy(ctx context.Context, p *OrgPolicy) error {
	if err := tx.lockOrg(ctx, p.OrgID); err != nil {
		return err
	}
	if err := tx.orgPolicyNameFree(ctx, p.OrgID, p.Name, ""); err != nil {
		return err
	}
	n, err := tx.count(ctx, `SELECT COUNT(*) FROM org_policies WHERE org_id = ? AND type = ?`, p.OrgID, p.Type)
	if err != nil {
		return err
	}
	if n >= MaxOrgPolicies {
		return fmt.Errorf("%d policies: %w", n, ErrLimitExceeded)
	}
	return tx.insertOnce(ctx, `INSERT INTO org_policies (id, org_id, type, name, description, content, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, p.ID, p.OrgID, p.Type, p.Name, p.Description, p.Content, p.CreatedAt)
}

// orgPolicyNameFree returns ErrConflict when a policy other than except has the name in the
// organization or among AWS managed policies.
func (tx *Tx) orgPolicyNameFree(ctx context.Context, orgID, name, except string) error {
	n, err := tx.count(ctx, `SELECT COUNT(*) FROM org_policies WHERE org_id IN (?, ?) AND name = ? AND id <> ?`,
		orgID, AWSOrganization, name, except)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("name %s: %w", name, ErrConflict)
	}
	return nil
}

const orgPolicySelect = `SELECT id, org_id, type, name, description, content, created_at FROM org_policies`

func scanOrgPolicy(sc interface{ Scan(...any) error }) (*OrgPolicy, error) {
	p := &OrgPolicy{}
	if err := sc.Scan(&p.ID, &p.OrgID, &p.Type, &p.Name, &p.Description, &p.Content, ScanTime(&p.CreatedAt)); err != nil {
		return nil, err
	}
	return p, nil
}

// OrgPolicy returns a policy an organization sees (its own or an AWS managed one), or an
// error wrapping ErrNotFound.
func (tx *Tx) OrgPolicy(ctx context.Context, orgID, id string) (*OrgPolicy, error) {
	p, err := scanOrgPolicy(tx.QueryRow(ctx, orgPolicySelect+` WHERE id = ? AND org_id IN (?, ?)`, id, orgID, AWSOrganization))
	if err != nil {
		return nil, fmt.Errorf("store: policy %s: %w", id, tx.noRows(err))
	}
	return p, nil
}

// OrgPolicies returns one page of the policies of a type that an organization sees (its own
// and AWS managed ones) in order of ID; q.ParentID is ignored.
func (tx *Tx) OrgPolicies(ctx context.Context, orgID, policyType string, q OrgQuery) ([]*OrgPolicy, error) {
	out, err := tx.orgPolicies(ctx, orgPolicySelect+` WHERE org_id IN (?, ?) AND type = ? AND id > ? ORDER BY id`+limitClause(q.Limit),
		orgID, AWSOrganization, policyType, q.After)
	if err != nil {
		return nil, fmt.Errorf("store: policies of %s: %w", orgID, err)
	}
	return out, nil
}

// OrgPoliciesForTarget returns one page of the policies of a type attached to a root, OU or
// account, in order of ID; q.ParentID is ignored.
func (tx *Tx) OrgPoliciesForTarget(ctx context.Context, orgID, targetID, policyType string, q OrgQuery) ([]*OrgPolicy, error) {
	out, err := tx.orgPolicies(ctx, `SELECT p.id, p.org_id, p.type, p.name, p.description, p.content, p.created_at
		FROM org_policy_attachments a JOIN org_policies p ON p.id = a.policy_id
		WHERE a.org_id = ? AND a.target_id = ? AND p.type = ? AND p.id > ? ORDER BY p.id`+limitClause(q.Limit),
		orgID, targetID, policyType, q.After)
	if err != nil {
		return nil, fmt.Errorf("store: policies of %s: %w", targetID, err)
	}
	return out, nil
}

func (tx *Tx) orgPolicies(ctx context.Context, query string, args ...any) ([]*OrgPolicy, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*OrgPolicy
	for rows.Next() {
		p, err := scanOrgPolicy(rows)
		if err != nil {
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

// UpdateOrgPolicy writes the name, description and content of an organization's own policy
// p.ID. It returns an error wrapping ErrNotFound, or ErrConflict when another policy has the
// name.
func (tx *Tx) UpdateOrgPolicy(ctx context.Context, p *OrgPolicy) error {
	err := tx.lockOrg(ctx, p.OrgID)
	if err == nil {
		err = tx.orgPolicyNameFree(ctx, p.OrgID, p.Name, p.ID)
	}
	if err == nil {
		err = tx.affected(ctx, `UPDATE org_policies SET name = ?, description = ?, content = ? WHERE org_id = ? AND id = ?`,
			p.Name, p.Description, p.Content, p.OrgID, p.ID)
	}
	if err != nil {
		return fmt.Errorf("store: update policy %s: %w", p.ID, err)
	}
	return nil
}

// DeleteOrgPolicy deletes an organization's own policy and its tags. It returns an error
// wrapping ErrNotFound, or an *InUseError while it is attached to a root, OU or account.
func (tx *Tx) DeleteOrgPolicy(ctx context.Context, orgID, id string) error {
	if err := tx.deleteOrgPolicy(ctx, orgID, id); err != nil {
		return fmt.Errorf("store: delete policy %s: %w", id, err)
	}
	return nil
}

func (tx *Tx) deleteOrgPolicy(ctx context.Context, orgID, id string) error {
	if err := tx.lockOrg(ctx, orgID); err != nil {
		return err
	}
	n, err := tx.count(ctx, `SELECT COUNT(*) FROM org_policy_attachments WHERE org_id = ? AND policy_id = ?`, orgID, id)
	if err != nil {
		return err
	}
	if n > 0 {
		if _, err := tx.OrgPolicy(ctx, orgID, id); err != nil {
			return err
		}
		return &InUseError{Entity: "policy " + id, Reason: DependentTargets}
	}
	if err := tx.affected(ctx, `DELETE FROM org_policies WHERE org_id = ? AND id = ?`, orgID, id); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `DELETE FROM org_tags WHERE resource_id = ?`, id)
	return err
}

// AttachOrgPolicy attaches a policy the organization sees to a root, OU or account of it
// (the caller checks that the target exists). It returns an error wrapping ErrNotFound when
// there is no such policy, ErrConflict when it is attached already, and ErrLimitExceeded when
// the target has MaxOrgPoliciesPerTarget policies of its type.
func (tx *Tx) AttachOrgPolicy(ctx context.Context, orgID, policyID, targetID string) error {
	if err := tx.attachOrgPolicy(ctx, orgID, policyID, targetID); err != nil {
		return fmt.Errorf("store: attach policy %s to %s: %w", policyID, targetID, err)
	}
	return nil
}

func (tx *Tx) attachOrgPolicy(ctx context.Context, orgID, policyID, targetID string) error {
	if err := tx.lockOrg(ctx, orgID); err != nil {
		return err
	}
	p, err := tx.OrgPolicy(ctx, orgID, policyID)
	if err != nil {
		return err
	}
	n, err := tx.count(ctx, `SELECT COUNT(*) FROM org_policy_attachments a JOIN org_policies p ON p.id = a.policy_id
		WHERE a.org_id = ? AND a.target_id = ? AND p.type = ?`, orgID, targetID, p.Type)
	if err != nil {
		return err
	}
	if n >= MaxOrgPoliciesPerTarget {
		if attached, err := tx.orgPolicyAttached(ctx, orgID, policyID, targetID); err != nil {
			return err
		} else if attached {
			return ErrConflict
		}
		return fmt.Errorf("%d policies attached: %w", n, ErrLimitExceeded)
	}
	return tx.insertOnce(ctx, `INSERT INTO org_policy_attachments (org_id, target_id, policy_id, attached_at) VALUES (?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, orgID, targetID, policyID, tx.Now())
}

func (tx *Tx) orgPolicyAttached(ctx context.Context, orgID, policyID, targetID string) (bool, error) {
	n, err := tx.count(ctx, `SELECT COUNT(*) FROM org_policy_attachments WHERE org_id = ? AND target_id = ? AND policy_id = ?`,
		orgID, targetID, policyID)
	return n > 0, err
}

// AttachOrgPolicyEverywhere attaches a policy to the organization's root and to every OU and
// account of it that does not have it, whatever their number of policies.
func (tx *Tx) AttachOrgPolicyEverywhere(ctx context.Context, orgID, policyID string) error {
	err := tx.lockOrg(ctx, orgID)
	for _, q := range []string{
		`INSERT INTO org_policy_attachments (org_id, target_id, policy_id, attached_at)
			SELECT id, root_id, ?, ? FROM org_organizations WHERE id = ? ON CONFLICT DO NOTHING`,
		`INSERT INTO org_policy_attachments (org_id, target_id, policy_id, attached_at)
			SELECT org_id, id, ?, ? FROM org_units WHERE org_id = ? ON CONFLICT DO NOTHING`,
		`INSERT INTO org_policy_attachments (org_id, target_id, policy_id, attached_at)
			SELECT org_id, account_id, ?, ? FROM org_accounts WHERE org_id = ? ON CONFLICT DO NOTHING`,
	} {
		if err != nil {
			break
		}
		_, err = tx.Exec(ctx, q, policyID, tx.Now(), orgID)
	}
	if err != nil {
		return fmt.Errorf("store: attach policy %s everywhere in %s: %w", policyID, orgID, err)
	}
	return nil
}

// DetachOrgPolicy detaches a policy from a root, OU or account. It returns an error wrapping
// ErrNotFound when the policy is not attached to it, and ErrLastPolicy when it is a service
// control policy and the target's last one.
func (tx *Tx) DetachOrgPolicy(ctx context.Context, orgID, policyID, targetID string) error {
	if err := tx.detachOrgPolicy(ctx, orgID, policyID, targetID); err != nil {
		return fmt.Errorf("store: detach policy %s from %s: %w", policyID, targetID, err)
	}
	return nil
}

func (tx *Tx) detachOrgPolicy(ctx context.Context, orgID, policyID, targetID string) error {
	if err := tx.lockOrg(ctx, orgID); err != nil {
		return err
	}
	p, err := tx.OrgPolicy(ctx, orgID, policyID)
	if err != nil {
		return err
	}
	if attached, err := tx.orgPolicyAttached(ctx, orgID, policyID, targetID); err != nil {
		return err
	} else if !attached {
		return ErrNotFound
	}
	if p.Type == PolicyTypeSCP {
		n, err := tx.count(ctx, `SELECT COUNT(*) FROM org_policy_attachments a JOIN org_policies p ON p.id = a.policy_id
			WHERE a.org_id = ? AND a.target_id = ? AND p.type = ?`, orgID, targetID, p.Type)
		if err != nil {
			return err
		}
		if n <= 1 {
			return ErrLastPolicy
		}
	}
	_, err = tx.Exec(ctx, `DELETE FROM org_policy_attachments WHERE org_id = ? AND target_id = ? AND policy_id = ?`,
		orgID, targetID, policyID)
	return err
}

// OrgPolicyTargets returns one page of the IDs of the roots, OUs and accounts a policy is
// attached to, in order of ID; q.ParentID is ignored.
func (tx *Tx) OrgPolicyTargets(ctx context.Context, orgID, policyID string, q OrgQuery) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT target_id FROM org_policy_attachments WHERE org_id = ? AND policy_id = ? AND target_id > ?
		ORDER BY target_id`+limitClause(q.Limit), orgID, policyID, q.After)
	if err != nil {
		return nil, fmt.Errorf("store: targets of policy %s: %w", policyID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: targets of policy %s: %w", policyID, err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: targets of policy %s: %w", policyID, err)
	}
	return out, nil
}
