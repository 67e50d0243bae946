package store

import (
	"context"
	"fmt"
)

// PolicyARN returns arn:aws:iam::ACCOUNT:policy/PATH/NAME (path "/" or "/…/"); ACCOUNT is
// AWSAccount for AWS managed policies.
func PolicyARN(accountID, path, name string) string {
	return "arn:aws:iam::" + accountID + ":policy" + path + name
}

// PolicyScope selects managed policies by owner.
type PolicyScope int

// Policy scopes.
const (
	ScopeAll   PolicyScope = iota // the account's and AWS's
	ScopeAWS                      // AWS managed policies only
	ScopeLocal                    // the account's own (customer managed) policies only
)

// PolicyQuery selects one page of the managed policies an account sees, ordered by
// lower-cased name, then ARN.
type PolicyQuery struct {
	Scope          PolicyScope
	OnlyAttached   bool   // only policies attached to a user or role of the account
	OnlyBoundaries bool   // only policies a user or role of the account has as its boundary
	PathPrefix     string // only policies whose path starts with it; "" for all
	AfterName      string // the lower-cased name of the last policy of the previous page
	AfterARN       string // … and its ARN; both "" for the first page
	Limit          int    // at most this many; 0 for no limit
}

// CreateManagedPolicy stores a new managed policy with document as its default version v1,
// and its tags. It returns an error wrapping ErrConflict when the account has a policy of that
// name in any case (or the ARN or ID exists), and ErrLimitExceeded for more than MaxTags
// tags. p.DefaultVersion and p.UpdatedAt are set.
func (tx *Tx) CreateManagedPolicy(ctx context.Context, p *ManagedPolicy, document string) error {
	if err := tx.createManagedPolicy(ctx, p, document); err != nil {
		return fmt.Errorf("store: create policy %s: %w", p.Name, err)
	}
	return nil
}

func (tx *Tx) createManagedPolicy(ctx context.Context, p *ManagedPolicy, document string) error {
	if len(p.Tags) > MaxTags {
		return fmt.Errorf("%d tags: %w", len(p.Tags), ErrLimitExceeded)
	}
	err := tx.insertOnce(ctx, `INSERT INTO iam_policies (arn, id, account_id, name, name_key, path, description,
			default_version, last_version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?) ON CONFLICT DO NOTHING`,
		p.ARN, p.ID, p.AccountID, p.Name, nameKey(p.Name), p.Path, p.Description, p.CreatedAt, p.CreatedAt)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO iam_policy_versions (policy_arn, version, document, created_at) VALUES (?, 1, ?, ?)`,
		p.ARN, document, p.CreatedAt)
	if err != nil {
		return err
	}
	p.DefaultVersion, p.UpdatedAt = VersionID(1), p.CreatedAt
	return tx.putTags(ctx, p.ID, p.Tags)
}

// policySelect selects policies with their attachment and boundary counts in the account
// given as its first three arguments.
const policySelect = `SELECT p.arn, p.id, p.account_id, p.name, p.path, p.description, p.default_version,
	p.created_at, p.updated_at,
	(SELECT COUNT(*) FROM iam_attachments a WHERE a.policy_arn = p.arn AND a.account_id = ?),
	(SELECT COUNT(*) FROM iam_users u WHERE u.permissions_boundary = p.arn AND u.account_id = ?) +
	(SELECT COUNT(*) FROM iam_roles r WHERE r.permissions_boundary = p.arn AND r.account_id = ?)
	FROM iam_policies p`

func scanPolicy(sc interface{ Scan(...any) error }) (*ManagedPolicy, error) {
	p := &ManagedPolicy{}
	var def int64
	err := sc.Scan(&p.ARN, &p.ID, &p.AccountID, &p.Name, &p.Path, &p.Description, &def,
		ScanTime(&p.CreatedAt), ScanTime(&p.UpdatedAt), &p.AttachmentCount, &p.BoundaryUsageCount)
	if err != nil {
		return nil, err
	}
	p.DefaultVersion = VersionID(def)
	return p, nil
}

// ManagedPolicy returns a managed policy with its tags, and its attachment and boundary
// counts in the account viewerAccountID, or an error wrapping ErrNotFound.
func (tx *Tx) ManagedPolicy(ctx context.Context, viewerAccountID, arn string) (*ManagedPolicy, error) {
	p, err := scanPolicy(tx.QueryRow(ctx, policySelect+` WHERE p.arn = ?`, viewerAccountID, viewerAccountID, viewerAccountID, arn))
	if err != nil {
		err = tx.noRows(err)
	} else {
		p.Tags, err = tx.tags(ctx, p.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("store: policy %s: %w", arn, err)
	}
	return p, nil
}

// ManagedPolicies returns one page of the managed policies the account sees (its own and
// AWS's), without tags, with their counts in the account.
func (tx *Tx) ManagedPolicies(ctx context.Context, accountID string, q PolicyQuery) ([]*ManagedPolicy, error) {
	query := policySelect + ` WHERE (p.name_key > ? OR (p.name_key = ? AND p.arn > ?))`
	args := []any{accountID, accountID, accountID, q.AfterName, q.AfterName, q.AfterARN}
	switch q.Scope {
	case ScopeAWS:
		query += ` AND p.account_id = ?`
		args = append(args, AWSAccount)
	case ScopeLocal:
		query += ` AND p.account_id = ?`
		args = append(args, accountID)
	default:
		query += ` AND p.account_id IN (?, ?)`
		args = append(args, accountID, AWSAccount)
	}
	if q.OnlyAttached {
		query += ` AND EXISTS (SELECT 1 FROM iam_attachments a WHERE a.policy_arn = p.arn AND a.account_id = ?)`
		args = append(args, accountID)
	}
	if q.OnlyBoundaries {
		query += ` AND (EXISTS (SELECT 1 FROM iam_users u WHERE u.permissions_boundary = p.arn AND u.account_id = ?)
			OR EXISTS (SELECT 1 FROM iam_roles r WHERE r.permissions_boundary = p.arn AND r.account_id = ?))`
		args = append(args, accountID, accountID)
	}
	if q.PathPrefix != "" && q.PathPrefix != "/" {
		query += ` AND substr(p.path, 1, ?) = ?`
		args = append(args, len(q.PathPrefix), q.PathPrefix)
	}
	rows, err := tx.Query(ctx, query+` ORDER BY p.name_key, p.arn`+limitClause(q.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list policies: %w", err)
	}
	defer rows.Close()
	var out []*ManagedPolicy
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list policies: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: list policies: %w", err)
	}
	return out, nil
}

// DeleteManagedPolicy deletes a managed policy with its versions and tags. It returns an
// error wrapping ErrNotFound, or an *InUseError while the policy is attached to a user or
// role, is a permissions boundary, or has versions besides its default one.
func (tx *Tx) DeleteManagedPolicy(ctx context.Context, arn string) error {
	if err := tx.deleteManagedPolicy(ctx, arn); err != nil {
		return fmt.Errorf("store: delete policy %s: %w", arn, err)
	}
	return nil
}

func (tx *Tx) deleteManagedPolicy(ctx context.Context, arn string) error {
	// Attaching a policy or making it a boundary locks its row first: once locked here, no
	// new use can appear before this transaction ends.
	id, err := tx.lockPolicy(ctx, arn)
	if err != nil {
		return err
	}
	inUse := func(d Dependents) error { return &InUseError{Entity: "policy " + arn, Reason: d} }
	if n, err := tx.count(ctx, `SELECT COUNT(*) FROM iam_attachments WHERE policy_arn = ?`, arn); err != nil {
		return err
	} else if n > 0 {
		return inUse(DependentAttachments)
	}
	n, err := tx.count(ctx, `SELECT (SELECT COUNT(*) FROM iam_users WHERE permissions_boundary = ?) +
		(SELECT COUNT(*) FROM iam_roles WHERE permissions_boundary = ?)`, arn, arn)
	if err != nil {
		return err
	}
	if n > 0 {
		return inUse(DependentBoundaryUses)
	}
	if n, err := tx.count(ctx, `SELECT COUNT(*) FROM iam_policy_versions WHERE policy_arn = ?`, arn); err != nil {
		return err
	} else if n > 1 {
		return inUse(DependentVersions)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM iam_tags WHERE entity_id = ?`, id); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM iam_policy_versions WHERE policy_arn = ?`, arn); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `DELETE FROM iam_policies WHERE arn = ?`, arn)
	return err
}

// CreatePolicyVersion adds a version to a managed policy, making it the default one when
// setDefault is set, and returns it. Version numbers are never reused. It returns an error
// wrapping ErrNotFound, or ErrLimitExceeded when the policy has MaxPolicyVersions versions.
func (tx *Tx) CreatePolicyVersion(ctx context.Context, arn, document string, setDefault bool) (*PolicyVersion, error) {
	v, err := tx.createPolicyVersion(ctx, arn, document, setDefault)
	if err != nil {
		return nil, fmt.Errorf("store: create version of policy %s: %w", arn, err)
	}
	return v, nil
}

func (tx *Tx) createPolicyVersion(ctx context.Context, arn, document string, setDefault bool) (*PolicyVersion, error) {
	if _, err := tx.lockPolicyVersions(ctx, arn); err != nil {
		return nil, err
	}
	count, err := tx.count(ctx, `SELECT COUNT(*) FROM iam_policy_versions WHERE policy_arn = ?`, arn)
	if err != nil {
		return nil, err
	}
	if count >= MaxPolicyVersions {
		return nil, fmt.Errorf("%d versions: %w", count, ErrLimitExceeded)
	}
	now := tx.Now()
	var n int64
	err = tx.QueryRow(ctx, `UPDATE iam_policies SET last_version = last_version + 1, updated_at = ?,
			default_version = CASE WHEN ? THEN last_version + 1 ELSE default_version END
		WHERE arn = ? RETURNING last_version`, now, setDefault, arn).Scan(&n)
	if err != nil {
		return nil, tx.noRows(err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO iam_policy_versions (policy_arn, version, document, created_at) VALUES (?, ?, ?, ?)`,
		arn, n, document, now)
	if err != nil {
		return nil, err
	}
	return &PolicyVersion{PolicyARN: arn, VersionID: VersionID(n), Document: document, IsDefault: setDefault, CreatedAt: now}, nil
}

// PolicyVersion returns a version of a managed policy, or an error wrapping ErrNotFound.
func (tx *Tx) PolicyVersion(ctx context.Context, arn, versionID string) (*PolicyVersion, error) {
	n, ok := versionNumber(versionID)
	if !ok {
		return nil, fmt.Errorf("store: policy %s version %q: %w", arn, versionID, ErrNotFound)
	}
	v := &PolicyVersion{PolicyARN: arn, VersionID: versionID}
	err := tx.QueryRow(ctx, `SELECT v.document, v.created_at, v.version = p.default_version
		FROM iam_policy_versions v JOIN iam_policies p ON p.arn = v.policy_arn
		WHERE v.policy_arn = ? AND v.version = ?`, arn, n).Scan(&v.Document, ScanTime(&v.CreatedAt), &v.IsDefault)
	if err != nil {
		return nil, fmt.Errorf("store: policy %s version %s: %w", arn, versionID, tx.noRows(err))
	}
	return v, nil
}

// PolicyVersions returns the versions of a managed policy, newest first; none when the
// policy does not exist.
func (tx *Tx) PolicyVersions(ctx context.Context, arn string) ([]*PolicyVersion, error) {
	rows, err := tx.Query(ctx, `SELECT v.version, v.document, v.created_at, v.version = p.default_version
		FROM iam_policy_versions v JOIN iam_policies p ON p.arn = v.policy_arn
		WHERE v.policy_arn = ? ORDER BY v.version DESC`, arn)
	if err != nil {
		return nil, fmt.Errorf("store: versions of policy %s: %w", arn, err)
	}
	defer rows.Close()
	var out []*PolicyVersion
	for rows.Next() {
		v := &PolicyVersion{PolicyARN: arn}
		var n int64
		if err := rows.Scan(&n, &v.Document, ScanTime(&v.CreatedAt), &v.IsDefault); err != nil {
			return nil, fmt.Errorf("store: versions of policy %s: %w", arn, err)
		}
		v.VersionID = VersionID(n)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: versions of policy %s: %w", arn, err)
	}
	return out, nil
}

// DeletePolicyVersion deletes a version of a managed policy. It returns an error wrapping
// ErrNotFound, or an *InUseError for the default version.
func (tx *Tx) DeletePolicyVersion(ctx context.Context, arn, versionID string) error {
	if err := tx.deletePolicyVersion(ctx, arn, versionID); err != nil {
		return fmt.Errorf("store: delete policy %s version %s: %w", arn, versionID, err)
	}
	return nil
}

func (tx *Tx) deletePolicyVersion(ctx context.Context, arn, versionID string) error {
	def, err := tx.lockPolicyVersions(ctx, arn)
	if err != nil {
		return err
	}
	n, ok := versionNumber(versionID)
	if !ok {
		return ErrNotFound
	}
	if n == def {
		return &InUseError{Entity: "policy " + arn + " version " + versionID, Reason: DependentDefaultVersion}
	}
	return tx.affected(ctx, `DELETE FROM iam_policy_versions WHERE policy_arn = ? AND version = ?`, arn, n)
}

// SetDefaultPolicyVersion makes a version the default version of its managed policy. It
// returns an error wrapping ErrNotFound.
func (tx *Tx) SetDefaultPolicyVersion(ctx context.Context, arn, versionID string) error {
	if err := tx.setDefaultPolicyVersion(ctx, arn, versionID); err != nil {
		return fmt.Errorf("store: set default version of policy %s to %s: %w", arn, versionID, err)
	}
	return nil
}

func (tx *Tx) setDefaultPolicyVersion(ctx context.Context, arn, versionID string) error {
	if _, err := tx.lockPolicyVersions(ctx, arn); err != nil {
		return err
	}
	n, ok := versionNumber(versionID)
	if !ok {
		return ErrNotFound
	}
	if c, err := tx.count(ctx, `SELECT COUNT(*) FROM iam_policy_versions WHERE policy_arn = ? AND version = ?`, arn, n); err != nil {
		return err
	} else if c == 0 {
		return ErrNotFound
	}
	_, err := tx.Exec(ctx, `UPDATE iam_policies SET default_version = ? WHERE arn = ?`, n, arn)
	return err
}

// lockPolicyVersions locks a policy's row and returns its default version number.
func (tx *Tx) lockPolicyVersions(ctx context.Context, arn string) (int64, error) {
	var def int64
	err := tx.QueryRow(ctx, `UPDATE iam_policies SET path = path WHERE arn = ? RETURNING default_version`, arn).Scan(&def)
	if err != nil {
		return 0, tx.noRows(err)
	}
	return def, nil
}

// ManagedPolicyDocument returns the document of a managed policy's default version, or an
// error wrapping ErrNotFound.
func (tx *Tx) ManagedPolicyDocument(ctx context.Context, arn string) (string, error) {
	var doc string
	err := tx.QueryRow(ctx, `SELECT v.document FROM iam_policies p
		JOIN iam_policy_versions v ON v.policy_arn = p.arn AND v.version = p.default_version
		WHERE p.arn = ?`, arn).Scan(&doc)
	if err != nil {
		return "", fmt.Errorf("store: policy %s: %w", arn, tx.noRows(err))
	}
	return doc, nil
}

// ManagedPolicyDocument is Tx.ManagedPolicyDocument in a read transaction of its own.
func (db *DB) ManagedPolicyDocument(ctx context.Context, arn string) (doc string, err error) {
	err = db.View(ctx, func(tx *Tx) error {
		doc, err = tx.ManagedPolicyDocument(ctx, arn)
		return err
	})
	return doc, err
}
