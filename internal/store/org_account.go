package store

import (
	"context"
	"fmt"
	"time"
)

// How an account joined its organization.
const (
	JoinedInvited = "INVITED" // the management account, and accounts invited (not served)
	JoinedCreated = "CREATED" // accounts made with CreateAccount
)

// OrgAccount is an account as a member of an organization.
type OrgAccount struct {
	ID, OrgID    string
	ParentID     string // the root's or an OU's ID
	Name, Email  string // the account's
	Status       string // the account's: ACTIVE
	JoinedMethod string // JoinedInvited or JoinedCreated
	JoinedAt     time.Time
}

// EmailInUse reports whether an account has the email address, in any case.
func (tx *Tx) EmailInUse(ctx context.Context, email string) (bool, error) {
	n, err := tx.count(ctx, `SELECT COUNT(*) FROM accounts WHERE lower(email) = lower(?) AND email <> ''`, email)
	if err != nil {
		return false, fmt.Errorf("store: email in use: %w", err)
	}
	return n > 0, nil
}

// CreateOrgAccount creates a new account (a.ID, a.Name, a.Email, a.Status, created at
// a.JoinedAt) as a member of the organization a.OrgID under a.ParentID. It returns an error
// wrapping ErrConflict when the ID or the email address (in any case) is taken, and
// ErrNotFound when there is no such organization.
func (tx *Tx) CreateOrgAccount(ctx context.Context, a *OrgAccount) error {
	if err := tx.createOrgAccount(ctx, a); err != nil {
		return fmt.Errorf("store: create account %s: %w", a.ID, err)
	}
	return nil
}

func (tx *Tx) createOrgAccount(ctx context.Context, a *OrgAccount) error {
	if err := tx.lockOrg(ctx, a.OrgID); err != nil {
		return err
	}
	if a.Email != "" {
		if used, err := tx.EmailInUse(ctx, a.Email); err != nil {
			return err
		} else if used {
			return fmt.Errorf("email %s: %w", a.Email, ErrConflict)
		}
	}
	err := tx.insertOnce(ctx, `INSERT INTO accounts (id, name, email, status, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, a.ID, a.Name, a.Email, a.Status, a.JoinedAt)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO org_accounts (account_id, org_id, parent_id, joined_method, joined_at) VALUES (?, ?, ?, ?, ?)`,
		a.ID, a.OrgID, a.ParentID, a.JoinedMethod, a.JoinedAt)
	return err
}

const orgAccountSelect = `SELECT a.account_id, a.org_id, a.parent_id, acc.name, acc.email, acc.status, a.joined_method, a.joined_at
	FROM org_accounts a JOIN accounts acc ON acc.id = a.account_id`

func scanOrgAccount(sc interface{ Scan(...any) error }) (*OrgAccount, error) {
	a := &OrgAccount{}
	err := sc.Scan(&a.ID, &a.OrgID, &a.ParentID, &a.Name, &a.Email, &a.Status, &a.JoinedMethod, ScanTime(&a.JoinedAt))
	if err != nil {
		return nil, err
	}
	return a, nil
}

// OrgAccount returns a member account of an organization, or an error wrapping ErrNotFound.
func (tx *Tx) OrgAccount(ctx context.Context, orgID, accountID string) (*OrgAccount, error) {
	a, err := scanOrgAccount(tx.QueryRow(ctx, orgAccountSelect+` WHERE a.org_id = ? AND a.account_id = ?`, orgID, accountID))
	if err != nil {
		return nil, fmt.Errorf("store: account %s of %s: %w", accountID, orgID, tx.noRows(err))
	}
	return a, nil
}

// OrgAccounts returns one page of the accounts of an organization (those directly under
// q.ParentID when given) in order of ID.
func (tx *Tx) OrgAccounts(ctx context.Context, orgID string, q OrgQuery) ([]*OrgAccount, error) {
	query := orgAccountSelect + ` WHERE a.org_id = ? AND a.account_id > ?`
	args := []any{orgID, q.After}
	if q.ParentID != "" {
		query += ` AND a.parent_id = ?`
		args = append(args, q.ParentID)
	}
	rows, err := tx.Query(ctx, query+` ORDER BY a.account_id`+limitClause(q.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("store: accounts of %s: %w", orgID, err)
	}
	defer rows.Close()
	var out []*OrgAccount
	for rows.Next() {
		a, err := scanOrgAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("store: accounts of %s: %w", orgID, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: accounts of %s: %w", orgID, err)
	}
	return out, nil
}

// MoveOrgAccount moves a member account from parent from to parent to (the root or an OU of
// the organization). It returns an error wrapping ErrNotFound when the account is not directly
// under from, or to is neither the root nor an OU of the organization.
func (tx *Tx) MoveOrgAccount(ctx context.Context, orgID, accountID, from, to string) error {
	err := tx.lockOrg(ctx, orgID)
	if err == nil {
		err = tx.checkParent(ctx, orgID, to)
	}
	if err == nil {
		err = tx.affected(ctx, `UPDATE org_accounts SET parent_id = ? WHERE org_id = ? AND account_id = ? AND parent_id = ?`,
			to, orgID, accountID, from)
	}
	if err != nil {
		return fmt.Errorf("store: move account %s from %s to %s: %w", accountID, from, to, err)
	}
	return nil
}

// checkParent returns ErrNotFound unless id is the organization's root or one of its OUs.
func (tx *Tx) checkParent(ctx context.Context, orgID, id string) error {
	n, err := tx.count(ctx, `SELECT (SELECT COUNT(*) FROM org_organizations WHERE id = ? AND root_id = ?) +
		(SELECT COUNT(*) FROM org_units WHERE org_id = ? AND id = ?)`, orgID, id, orgID, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("parent %s: %w", id, ErrNotFound)
	}
	return nil
}

// OrganizationalUnit is an OU of an organization.
type OrganizationalUnit struct {
	ID, OrgID string
	ParentID  string // the root's or another OU's ID
	Name      string
	CreatedAt time.Time
}

// CreateOrganizationalUnit stores a new OU. It returns an error wrapping ErrConflict when its
// parent has a child OU of that name (or the ID exists), ErrNotFound when the parent is
// neither the organization's root nor one of its OUs, and ErrLimitExceeded when the
// organization has MaxOUs OUs or the parent is MaxOUDepth deep.
func (tx *Tx) CreateOrganizationalUnit(ctx context.Context, u *OrganizationalUnit) error {
	if err := tx.createOU(ctx, u); err != nil {
		return fmt.Errorf("store: create OU %s: %w", u.Name, err)
	}
	return nil
}

func (tx *Tx) createOU(ctx context.Context, u *OrganizationalUnit) error {
	if err := tx.lockOrg(ctx, u.OrgID); err != nil {
		return err
	}
	chain, err := tx.OUChain(ctx, u.OrgID, u.ParentID)
	if err != nil {
		return err
	}
	if len(chain) >= MaxOUDepth {
		return fmt.Errorf("parent %s is %d OUs deep: %w", u.ParentID, len(chain), ErrLimitExceeded)
	}
	if n, err := tx.count(ctx, `SELECT COUNT(*) FROM org_units WHERE org_id = ?`, u.OrgID); err != nil {
		return err
	} else if n >= MaxOUs {
		return fmt.Errorf("%d OUs: %w", n, ErrLimitExceeded)
	}
	return tx.insertOnce(ctx, `INSERT INTO org_units (id, org_id, parent_id, name, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, u.ID, u.OrgID, u.ParentID, u.Name, u.CreatedAt)
}

const ouSelect = `SELECT id, org_id, parent_id, name, created_at FROM org_units`

func scanOU(sc interface{ Scan(...any) error }) (*OrganizationalUnit, error) {
	u := &OrganizationalUnit{}
	if err := sc.Scan(&u.ID, &u.OrgID, &u.ParentID, &u.Name, ScanTime(&u.CreatedAt)); err != nil {
		return nil, err
	}
	return u, nil
}

// OrganizationalUnit returns an OU of an organization, or an error wrapping ErrNotFound.
func (tx *Tx) OrganizationalUnit(ctx context.Context, orgID, id string) (*OrganizationalUnit, error) {
	u, err := scanOU(tx.QueryRow(ctx, ouSelect+` WHERE org_id = ? AND id = ?`, orgID, id))
	if err != nil {
		return nil, fmt.Errorf("store: OU %s: %w", id, tx.noRows(err))
	}
	return u, nil
}

// OrganizationalUnits returns one page of the OUs of an organization (those directly under
// q.ParentID when given) in order of ID.
func (tx *Tx) OrganizationalUnits(ctx context.Context, orgID string, q OrgQuery) ([]*OrganizationalUnit, error) {
	query := ouSelect + ` WHERE org_id = ? AND id > ?`
	args := []any{orgID, q.After}
	if q.ParentID != "" {
		query += ` AND parent_id = ?`
		args = append(args, q.ParentID)
	}
	rows, err := tx.Query(ctx, query+` ORDER BY id`+limitClause(q.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("store: OUs of %s: %w", orgID, err)
	}
	defer rows.Close()
	var out []*OrganizationalUnit
	for rows.Next() {
		u, err := scanOU(rows)
		if err != nil {
			return nil, fmt.Errorf("store: OUs of %s: %w", orgID, err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: OUs of %s: %w", orgID, err)
	}
	return out, nil
}

// RenameOrganizationalUnit renames an OU. It returns an error wrapping ErrNotFound, or
// ErrConflict when its parent has another child OU of that name.
func (tx *Tx) RenameOrganizationalUnit(ctx context.Context, orgID, id, name string) error {
	if err := tx.renameOU(ctx, orgID, id, name); err != nil {
		return fmt.Errorf("store: rename OU %s: %w", id, err)
	}
	return nil
}

func (tx *Tx) renameOU(ctx context.Context, orgID, id, name string) error {
	if err := tx.lockOrg(ctx, orgID); err != nil {
		return err
	}
	u, err := tx.OrganizationalUnit(ctx, orgID, id)
	if err != nil {
		return err
	}
	n, err := tx.count(ctx, `SELECT COUNT(*) FROM org_units WHERE parent_id = ? AND name = ? AND id <> ?`, u.ParentID, name, id)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("name %s: %w", name, ErrConflict)
	}
	return tx.affected(ctx, `UPDATE org_units SET name = ? WHERE org_id = ? AND id = ?`, name, orgID, id)
}

// DeleteOrganizationalUnit deletes an empty OU with its policy attachments and tags. It
// returns an error wrapping ErrNotFound, or an *InUseError while accounts or OUs are under it.
func (tx *Tx) DeleteOrganizationalUnit(ctx context.Context, orgID, id string) error {
	if err := tx.deleteOU(ctx, orgID, id); err != nil {
		return fmt.Errorf("store: delete OU %s: %w", id, err)
	}
	return nil
}

func (tx *Tx) deleteOU(ctx context.Context, orgID, id string) error {
	if err := tx.lockOrg(ctx, orgID); err != nil {
		return err
	}
	if _, err := tx.OrganizationalUnit(ctx, orgID, id); err != nil {
		return err
	}
	n, err := tx.count(ctx, `SELECT (SELECT COUNT(*) FROM org_units WHERE org_id = ? AND parent_id = ?) +
		(SELECT COUNT(*) FROM org_accounts WHERE org_id = ? AND parent_id = ?)`, orgID, id, orgID, id)
	if err != nil {
		return err
	}
	if n > 0 {
		return &InUseError{Entity: "OU " + id, Reason: DependentChildren}
	}
	for _, q := range []string{
		`DELETE FROM org_policy_attachments WHERE org_id = ? AND target_id = ?`,
		`DELETE FROM org_units WHERE org_id = ? AND id = ?`,
	} {
		if _, err := tx.Exec(ctx, q, orgID, id); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `DELETE FROM org_tags WHERE resource_id = ?`, id)
	return err
}

// CreateAccountRequest is a CreateAccount request and its outcome.
type CreateAccountRequest struct {
	ID, OrgID     string // car-…
	AccountName   string
	State         string // IN_PROGRESS, SUCCEEDED or FAILED
	AccountID     string // when SUCCEEDED
	FailureReason string // when FAILED
	RequestedAt   time.Time
	CompletedAt   time.Time // zero while IN_PROGRESS
}

// PutCreateAccountRequest stores a CreateAccount request, or its new state, failure reason,
// account and completion time when it exists.
func (tx *Tx) PutCreateAccountRequest(ctx context.Context, r *CreateAccountRequest) error {
	var completed int64
	if !r.CompletedAt.IsZero() {
		completed = r.CompletedAt.UnixMicro()
	}
	_, err := tx.Exec(ctx, `INSERT INTO org_create_account_requests (id, org_id, account_name, state, account_id,
			failure_reason, requested_at, completed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET state = excluded.state, account_id = excluded.account_id,
			failure_reason = excluded.failure_reason, completed_at = excluded.completed_at`,
		r.ID, r.OrgID, r.AccountName, r.State, r.AccountID, r.FailureReason, r.RequestedAt, completed)
	if err != nil {
		return fmt.Errorf("store: put create account request %s: %w", r.ID, err)
	}
	return nil
}

const carSelect = `SELECT id, org_id, account_name, state, account_id, failure_reason, requested_at, completed_at
	FROM org_create_account_requests`

func scanCreateAccountRequest(sc interface{ Scan(...any) error }) (*CreateAccountRequest, error) {
	r := &CreateAccountRequest{}
	var completed int64
	err := sc.Scan(&r.ID, &r.OrgID, &r.AccountName, &r.State, &r.AccountID, &r.FailureReason, ScanTime(&r.RequestedAt), &completed)
	if err != nil {
		return nil, err
	}
	if completed != 0 {
		r.CompletedAt = time.UnixMicro(completed).UTC()
	}
	return r, nil
}

// CreateAccountRequest returns a CreateAccount request of an organization, or an error
// wrapping ErrNotFound.
func (tx *Tx) CreateAccountRequest(ctx context.Context, orgID, id string) (*CreateAccountRequest, error) {
	r, err := scanCreateAccountRequest(tx.QueryRow(ctx, carSelect+` WHERE org_id = ? AND id = ?`, orgID, id))
	if err != nil {
		return nil, fmt.Errorf("store: create account request %s: %w", id, tx.noRows(err))
	}
	return r, nil
}

// CreateAccountRequestQuery selects one page of CreateAccount requests, oldest first.
type CreateAccountRequestQuery struct {
	States    []string  // only requests in these states; all when empty
	AfterTime time.Time // the request time of the last request of the previous page …
	AfterID   string    // … and its ID; both zero for the first page
	Limit     int       // at most this many; 0 for no limit
}

// CreateAccountRequests returns one page of an organization's CreateAccount requests, in the
// order they were made.
func (tx *Tx) CreateAccountRequests(ctx context.Context, orgID string, q CreateAccountRequestQuery) ([]*CreateAccountRequest, error) {
	after := int64(-1)
	if q.AfterID != "" {
		after = q.AfterTime.UnixMicro()
	}
	query := carSelect + ` WHERE org_id = ? AND (requested_at > ? OR (requested_at = ? AND id > ?))`
	args := []any{orgID, after, after, q.AfterID}
	if len(q.States) > 0 {
		query += ` AND state IN (` + placeholders(len(q.States)) + `)`
		for _, s := range q.States {
			args = append(args, s)
		}
	}
	rows, err := tx.Query(ctx, query+` ORDER BY requested_at, id`+limitClause(q.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("store: create account requests of %s: %w", orgID, err)
	}
	defer rows.Close()
	var out []*CreateAccountRequest
	for rows.Next() {
		r, err := scanCreateAccountRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("store: create account requests of %s: %w", orgID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: create account requests of %s: %w", orgID, err)
	}
	return out, nil
}
