package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Organizations storage: organizations and their root, organizational units, member accounts,
// organization policies (service control policies) and where they are attached, trusted
// service access, CreateAccount requests and tags. As for IAM, the store keeps the invariants
// that concurrent writers could break (one organization per account, unique names, the quotas
// below, no policy deleted while attached, no target left without an SCP) and the
// organizations package checks input and answers in AWS's words.
//
// Every method that changes an organization locks the organization's row first (an UPDATE
// that changes nothing), so that on PostgreSQL the changes of concurrent transactions to one
// organization happen one after the other; LockOrganization takes the same lock for a
// caller's own checks. Organization rows are locked before IAM rows (roles created in member
// accounts), never after.
//
// Methods returning ErrNotFound, ErrConflict, ErrLimitExceeded, ErrInUse or ErrLastPolicy have
// changed nothing and failed no statement, so the transaction may go on.

// ErrLastPolicy is returned (wrapped) by DetachOrgPolicy for the last service control policy of
// a root, OU or account: while SCPs are enabled every target keeps at least one. Match it with
// errors.Is.
var ErrLastPolicy = errors.New("store: the target's last policy of its type")

// Organizations quotas the store enforces, AWS's defaults.
const (
	MaxOrgPoliciesPerTarget = 5    // policies of one type attached to one root, OU or account
	MaxOrgPolicies          = 1000 // customer managed policies of one type in an organization
	MaxOUs                  = 1000 // OUs of an organization
	MaxOUDepth              = 5    // OUs nested under a root
)

// Organization policy types and the AWS managed policy every organization sees.
const (
	PolicyTypeSCP = "SERVICE_CONTROL_POLICY"
	// AWSOrganization is the OrgID of AWS managed organization policies.
	AWSOrganization = "aws"
	// FullAWSAccessID is the ID of the AWS managed SCP that allows everything, attached to every
	// root, OU and account when SCPs are enabled.
	FullAWSAccessID = "p-FullAWSAccess"
)

// Dependents of organization entities (see InUseError).
const (
	DependentChildren Dependents = "child OUs or accounts" // an OU that is not empty
	DependentMembers  Dependents = "member accounts"       // an organization with members
	DependentTargets  Dependents = "targets"               // an organization policy attached to roots, OUs or accounts
)

// Organization is an AWS Organizations organization with its one root.
type Organization struct {
	ID                string // o-…
	ManagementAccount string
	ManagementEmail   string // the management account's email, "" when it has none
	FeatureSet        string // ALL or CONSOLIDATED_BILLING
	RootID            string // r-…
	PolicyTypes       []string
	CreatedAt         time.Time
}

// SCPsEnabled reports whether service control policies are enabled on the root.
func (o *Organization) SCPsEnabled() bool { return o.PolicyTypeEnabled(PolicyTypeSCP) }

// PolicyTypeEnabled reports whether a policy type is enabled on the root.
func (o *Organization) PolicyTypeEnabled(typ string) bool {
	for _, t := range o.PolicyTypes {
		if t == typ {
			return true
		}
	}
	return false
}

// OrganizationARN returns arn:aws:organizations::MGMT:organization/o-….
func OrganizationARN(mgmt, orgID string) string {
	return "arn:aws:organizations::" + mgmt + ":organization/" + orgID
}

// OrgRootARN returns arn:aws:organizations::MGMT:root/o-…/r-….
func OrgRootARN(mgmt, orgID, rootID string) string {
	return "arn:aws:organizations::" + mgmt + ":root/" + orgID + "/" + rootID
}

// OrgAccountARN returns arn:aws:organizations::MGMT:account/o-…/ACCOUNT.
func OrgAccountARN(mgmt, orgID, accountID string) string {
	return "arn:aws:organizations::" + mgmt + ":account/" + orgID + "/" + accountID
}

// OUARN returns arn:aws:organizations::MGMT:ou/o-…/ou-….
func OUARN(mgmt, orgID, ouID string) string {
	return "arn:aws:organizations::" + mgmt + ":ou/" + orgID + "/" + ouID
}

// OrgPolicyARN returns a policy's ARN: arn:aws:organizations::MGMT:policy/o-…/TYPE/p-… for the
// organization's own, arn:aws:organizations::aws:policy/TYPE/p-… for AWS managed ones (TYPE is
// the lower-cased policy type, service_control_policy).
func OrgPolicyARN(mgmt, orgID, policyType, policyID string, awsManaged bool) string {
	typ := strings.ToLower(policyType)
	if awsManaged {
		return "arn:aws:organizations::aws:policy/" + typ + "/" + policyID
	}
	return "arn:aws:organizations::" + mgmt + ":policy/" + orgID + "/" + typ + "/" + policyID
}

// CreateOrganization stores a new organization with o.ManagementAccount as its management
// account, a member since o.CreatedAt (joined INVITED, as AWS shows it). It returns an error
// wrapping ErrConflict when that account belongs to an organization already, or the ID or root
// ID exists, and ErrConstraint when the account does not exist.
func (tx *Tx) CreateOrganization(ctx context.Context, o *Organization) error {
	if err := tx.createOrganization(ctx, o); err != nil {
		return fmt.Errorf("store: create organization %s: %w", o.ID, err)
	}
	return nil
}

func (tx *Tx) createOrganization(ctx context.Context, o *Organization) error {
	n, err := tx.count(ctx, `SELECT COUNT(*) FROM org_accounts WHERE account_id = ?`, o.ManagementAccount)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("account %s is in an organization: %w", o.ManagementAccount, ErrConflict)
	}
	err = tx.insertOnce(ctx, `INSERT INTO org_organizations (id, management_account, feature_set, root_id, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, o.ID, o.ManagementAccount, o.FeatureSet, o.RootID, o.CreatedAt)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO org_accounts (account_id, org_id, parent_id, joined_method, joined_at) VALUES (?, ?, ?, ?, ?)`,
		o.ManagementAccount, o.ID, o.RootID, JoinedInvited, o.CreatedAt)
	return err
}

const orgSelect = `SELECT o.id, o.management_account, COALESCE(acc.email, ''), o.feature_set, o.root_id, o.created_at
	FROM org_organizations o LEFT JOIN accounts acc ON acc.id = o.management_account`

// Organization returns the organization an account belongs to (as its management account or a
// member), with its enabled policy types, or an error wrapping ErrNotFound.
func (tx *Tx) Organization(ctx context.Context, accountID string) (*Organization, error) {
	o, err := tx.organization(ctx, orgSelect+` WHERE o.id = (SELECT org_id FROM org_accounts WHERE account_id = ?)`, accountID)
	if err != nil {
		return nil, fmt.Errorf("store: organization of account %s: %w", accountID, err)
	}
	return o, nil
}

// LockOrganization is Organization, locking the organization's row until the transaction
// ends (Update only): the organization cannot change, and no account can join it, meanwhile.
func (tx *Tx) LockOrganization(ctx context.Context, accountID string) (*Organization, error) {
	var orgID string
	err := tx.QueryRow(ctx, `UPDATE org_organizations SET feature_set = feature_set
		WHERE id = (SELECT org_id FROM org_accounts WHERE account_id = ?) RETURNING id`, accountID).Scan(&orgID)
	if err == nil {
		return tx.Organization(ctx, accountID)
	}
	return nil, fmt.Errorf("store: lock organization of account %s: %w", accountID, tx.noRows(err))
}

// lockOrg locks an organization's row, or returns ErrNotFound.
func (tx *Tx) lockOrg(ctx context.Context, orgID string) error {
	var id string
	err := tx.QueryRow(ctx, `UPDATE org_organizations SET feature_set = feature_set WHERE id = ? RETURNING id`, orgID).Scan(&id)
	if err != nil {
		return fmt.Errorf("organization %s: %w", orgID, tx.noRows(err))
	}
	return nil
}

func (tx *Tx) organization(ctx context.Context, query string, args ...any) (*Organization, error) {
	o := &Organization{}
	err := tx.QueryRow(ctx, query, args...).Scan(&o.ID, &o.ManagementAccount, &o.ManagementEmail, &o.FeatureSet, &o.RootID, ScanTime(&o.CreatedAt))
	if err != nil {
		return nil, tx.noRows(err)
	}
	rows, err := tx.Query(ctx, `SELECT type FROM org_policy_types WHERE org_id = ? ORDER BY type`, o.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		o.PolicyTypes = append(o.PolicyTypes, t)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, err
	}
	return o, nil
}

// DeleteOrganization deletes an organization that has no member accounts besides its
// management account, with its OUs, policies, attachments, trusted access, CreateAccount
// requests and tags. It returns an error wrapping ErrNotFound, or an *InUseError while it has
// member accounts.
func (tx *Tx) DeleteOrganization(ctx context.Context, orgID string) error {
	if err := tx.deleteOrganization(ctx, orgID); err != nil {
		return fmt.Errorf("store: delete organization %s: %w", orgID, err)
	}
	return nil
}

func (tx *Tx) deleteOrganization(ctx context.Context, orgID string) error {
	if err := tx.lockOrg(ctx, orgID); err != nil {
		return err
	}
	n, err := tx.count(ctx, `SELECT COUNT(*) FROM org_accounts a JOIN org_organizations o ON o.id = a.org_id
		WHERE a.org_id = ? AND a.account_id <> o.management_account`, orgID)
	if err != nil {
		return err
	}
	if n > 0 {
		return &InUseError{Entity: "organization " + orgID, Reason: DependentMembers}
	}
	for _, q := range []string{
		`DELETE FROM org_tags WHERE resource_id IN (SELECT id FROM org_units WHERE org_id = ?)`,
		`DELETE FROM org_tags WHERE resource_id IN (SELECT id FROM org_policies WHERE org_id = ?)`,
		`DELETE FROM org_tags WHERE resource_id IN (SELECT root_id FROM org_organizations WHERE id = ?)`,
		`DELETE FROM org_policy_attachments WHERE org_id = ?`,
		`DELETE FROM org_policies WHERE org_id = ?`,
		`DELETE FROM org_policy_types WHERE org_id = ?`,
		`DELETE FROM org_service_access WHERE org_id = ?`,
		`DELETE FROM org_create_account_requests WHERE org_id = ?`,
		`DELETE FROM org_units WHERE org_id = ?`,
		`DELETE FROM org_accounts WHERE org_id = ?`,
		`DELETE FROM org_organizations WHERE id = ?`,
	} {
		if _, err := tx.Exec(ctx, q, orgID); err != nil {
			return err
		}
	}
	return nil
}

// EnablePolicyType enables a policy type on an organization's root. It returns an error
// wrapping ErrConflict when it is enabled already, ErrNotFound when there is no such
// organization.
func (tx *Tx) EnablePolicyType(ctx context.Context, orgID, policyType string) error {
	err := tx.lockOrg(ctx, orgID)
	if err == nil {
		err = tx.insertOnce(ctx, `INSERT INTO org_policy_types (org_id, type, enabled_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			orgID, policyType, tx.Now())
	}
	if err != nil {
		return fmt.Errorf("store: enable policy type %s in %s: %w", policyType, orgID, err)
	}
	return nil
}

// DisablePolicyType disables a policy type on an organization's root and detaches every
// policy of that type from the organization's roots, OUs and accounts. It returns an error
// wrapping ErrNotFound when the type is not enabled.
func (tx *Tx) DisablePolicyType(ctx context.Context, orgID, policyType string) error {
	err := tx.lockOrg(ctx, orgID)
	if err == nil {
		err = tx.affected(ctx, `DELETE FROM org_policy_types WHERE org_id = ? AND type = ?`, orgID, policyType)
	}
	if err == nil {
		_, err = tx.Exec(ctx, `DELETE FROM org_policy_attachments WHERE org_id = ?
			AND policy_id IN (SELECT id FROM org_policies WHERE type = ?)`, orgID, policyType)
	}
	if err != nil {
		return fmt.Errorf("store: disable policy type %s in %s: %w", policyType, orgID, err)
	}
	return nil
}

// OrgContext is what authorization needs to know about an account's organization.
type OrgContext struct {
	OrgID             string // "" when the account is in no organization
	ManagementAccount string
	SCPsEnabled       bool // SERVICE_CONTROL_POLICY enabled on the root
	// Levels are the SCPs of each level of the account's path: root first, then OUs, then the
	// account itself; a level without SCPs is an empty slice (and denies everything). Nil when
	// SCPs are not enabled.
	Levels [][]PolicyText
	Path   string // "o-…/r-…/" (+ "ou-…/" per OU) for aws:PrincipalOrgPaths
}

// OrgContext returns the organization context of an account, read in one read transaction.
// It never returns ErrNotFound: an account outside any organization (or an unknown account)
// gets a zero OrgContext. Policy texts are named by their ARNs.
func (db *DB) OrgContext(ctx context.Context, accountID string) (*OrgContext, error) {
	var oc *OrgContext
	err := db.View(ctx, func(tx *Tx) error {
		var err error
		oc, err = tx.OrgContext(ctx, accountID)
		return err
	})
	return oc, err
}

// OrgContext is DB.OrgContext inside a transaction.
func (tx *Tx) OrgContext(ctx context.Context, accountID string) (*OrgContext, error) {
	oc, err := tx.orgContext(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("store: organization context of %s: %w", accountID, err)
	}
	return oc, nil
}

func (tx *Tx) orgContext(ctx context.Context, accountID string) (*OrgContext, error) {
	oc := &OrgContext{}
	var rootID, parentID string
	var scps int
	err := tx.QueryRow(ctx, `SELECT o.id, o.management_account, o.root_id, a.parent_id,
			(SELECT COUNT(*) FROM org_policy_types t WHERE t.org_id = o.id AND t.type = ?)
		FROM org_accounts a JOIN org_organizations o ON o.id = a.org_id WHERE a.account_id = ?`, PolicyTypeSCP, accountID).
		Scan(&oc.OrgID, &oc.ManagementAccount, &rootID, &parentID, &scps)
	if errors.Is(err, sql.ErrNoRows) {
		return &OrgContext{}, nil
	}
	if err != nil {
		return nil, err
	}
	ous, err := tx.ouChain(ctx, oc.OrgID, rootID, parentID)
	if err != nil {
		return nil, err
	}
	oc.Path = oc.OrgID + "/" + rootID + "/"
	for _, ou := range ous {
		oc.Path += ou + "/"
	}
	if scps == 0 {
		return oc, nil
	}
	oc.SCPsEnabled = true
	targets := append(append([]string{rootID}, ous...), accountID)
	level := make(map[string]int, len(targets))
	oc.Levels = make([][]PolicyText, len(targets))
	args := []any{oc.OrgID, PolicyTypeSCP}
	for i, t := range targets {
		level[t] = i
		oc.Levels[i] = []PolicyText{}
		args = append(args, t)
	}
	rows, err := tx.Query(ctx, `SELECT a.target_id, p.id, p.org_id, p.content FROM org_policy_attachments a
		JOIN org_policies p ON p.id = a.policy_id
		WHERE a.org_id = ? AND p.type = ? AND a.target_id IN (`+placeholders(len(targets))+`)
		ORDER BY a.target_id, p.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var target, id, owner, content string
		if err := rows.Scan(&target, &id, &owner, &content); err != nil {
			return nil, err
		}
		i := level[target]
		oc.Levels[i] = append(oc.Levels[i], PolicyText{
			Name:     OrgPolicyARN(oc.ManagementAccount, oc.OrgID, PolicyTypeSCP, id, owner == AWSOrganization),
			Document: content,
		})
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, err
	}
	return oc, nil
}

// ouChain returns the OUs from the root down to parentID (which is the root or an OU).
func (tx *Tx) ouChain(ctx context.Context, orgID, rootID, parentID string) ([]string, error) {
	var chain []string
	for p := parentID; p != rootID; {
		if len(chain) > MaxOUDepth+1 {
			return nil, fmt.Errorf("OU %s is nested too deeply (a cycle?)", parentID)
		}
		chain = append(chain, p)
		err := tx.QueryRow(ctx, `SELECT parent_id FROM org_units WHERE org_id = ? AND id = ?`, orgID, p).Scan(&p)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("OU %s of organization %s is missing", p, orgID)
		}
		if err != nil {
			tx.noteErr(err)
			return nil, err
		}
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain, nil
}

// OUChain returns the IDs of the OUs from the root of an organization down to parentID (the
// root's ID or an OU's), root excluded: nil for the root itself. It returns an error wrapping
// ErrNotFound when parentID is neither.
func (tx *Tx) OUChain(ctx context.Context, orgID, parentID string) ([]string, error) {
	var rootID string
	err := tx.QueryRow(ctx, `SELECT root_id FROM org_organizations WHERE id = ?`, orgID).Scan(&rootID)
	if err != nil {
		return nil, fmt.Errorf("store: path of %s: %w", parentID, tx.noRows(err))
	}
	if parentID != rootID {
		if _, err := tx.OrganizationalUnit(ctx, orgID, parentID); err != nil {
			return nil, err
		}
	}
	chain, err := tx.ouChain(ctx, orgID, rootID, parentID)
	if err != nil {
		return nil, fmt.Errorf("store: path of %s: %w", parentID, err)
	}
	return chain, nil
}

// placeholders returns "?, ?, …" with n placeholders.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// OrgQuery selects one page of a list of organization entities ordered by ID.
type OrgQuery struct {
	ParentID string // only the children of this root or OU; "" for all
	After    string // the ID of the last item of the previous page; "" for the first page
	Limit    int    // at most this many; 0 for no limit
}
