package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// IAM storage: users, roles, managed policies and their versions, inline policies,
// attachments and tags. The store keeps the invariants that concurrent writers could break
// (unique names, the quotas below, nothing deleted while something depends on it); the iam
// package checks input and says what went wrong in AWS's words.
//
// Names of users, roles, managed and inline policies are unique case-insensitively, as in
// AWS: lookups by name ignore case and return the name as it was created. Methods that change
// a user, role or policy lock its row first (with an UPDATE that changes nothing, which both
// dialects accept), so that checks and changes of concurrent transactions on PostgreSQL
// happen one after the other: always a user or role before a policy. Several writers'
// batches may still lock rows in opposite orders; PostgreSQL then fails one request with a
// deadlock, which Retryable recognizes.
//
// A method that returns ErrNotFound, ErrConflict, ErrLimitExceeded or ErrInUse has changed
// nothing and no statement failed, so the transaction may go on (on PostgreSQL too); one
// that returns ErrConstraint or another error has failed a statement.

// Errors returned by the IAM methods besides ErrNotFound and ErrConflict; match them with
// errors.Is.
var (
	// ErrLimitExceeded reports a quota that a change would exceed: MaxPolicyVersions,
	// MaxAttachedPolicies, MaxAccessKeys or MaxTags.
	ErrLimitExceeded = errors.New("store: limit exceeded")
	// ErrInUse reports a delete refused because something depends on the entity. The error is
	// an *InUseError naming what.
	ErrInUse = errors.New("store: in use")
)

// Quotas the store enforces, AWS's defaults.
const (
	MaxPolicyVersions   = 5  // versions of one managed policy
	MaxAttachedPolicies = 10 // managed policies attached to one user or role
	MaxAccessKeys       = 2  // access keys of one user (or of an account's root)
	MaxTags             = 50 // tags of one user, role or policy
)

// AWSAccount is the AccountID of AWS managed policies, as in their ARNs
// (arn:aws:iam::aws:policy/…). Every account sees and may attach them.
const AWSAccount = "aws"

// InUseError is the error of a delete refused because other things depend on the entity.
type InUseError struct {
	Entity string     // what was to be deleted, e.g. "user alice"
	Reason Dependents // what depends on it
}

// Dependents says what keeps an entity from being deleted.
type Dependents string

// Dependents.
const (
	DependentAccessKeys       Dependents = "access keys"
	DependentInlinePolicies   Dependents = "inline policies"
	DependentAttachedPolicies Dependents = "attached policies"
	DependentAttachments      Dependents = "attachments"            // a managed policy attached to users or roles
	DependentBoundaryUses     Dependents = "permissions boundaries" // a managed policy used as a boundary
	DependentVersions         Dependents = "non-default versions"   // a managed policy with more than one version
	DependentDefaultVersion   Dependents = "default version"        // the default version of a policy
)

func (e *InUseError) Error() string {
	return fmt.Sprintf("store: %s is in use: it has %s", e.Entity, e.Reason)
}

// Is makes errors.Is(err, ErrInUse) true.
func (e *InUseError) Is(target error) bool { return target == ErrInUse }

// EntityType is the kind of IAM entity a method acts on.
type EntityType string

// Entity types.
const (
	EntityUser   EntityType = "user"
	EntityRole   EntityType = "role"
	EntityPolicy EntityType = "policy" // a managed policy, named by its ARN
)

// Tag is a tag of a user, role or managed policy.
type Tag struct{ Key, Value string }

// User is an IAM user.
type User struct {
	AccountID, Name, Path, ID, ARN string
	PermissionsBoundary            string // a managed policy's ARN, or ""
	CreatedAt                      time.Time
	Tags                           []Tag
}

// Role is an IAM role.
type Role struct {
	AccountID, Name, Path, ID, ARN, Description string
	AssumeRolePolicy                            string // the trust policy document
	MaxSessionDuration                          int32  // seconds
	PermissionsBoundary                         string // a managed policy's ARN, or ""
	CreatedAt                                   time.Time
	LastUsedAt                                  time.Time // zero when never used
	LastUsedRegion                              string
	Tags                                        []Tag
}

// ManagedPolicy is a customer or AWS managed policy, without its documents.
type ManagedPolicy struct {
	ARN         string
	AccountID   string // AWSAccount for AWS managed policies
	Name, Path  string
	ID          string
	Description string
	// DefaultVersion is the ID of the default version, "v1", "v2", …
	DefaultVersion string
	// AttachmentCount and BoundaryUsageCount count the users and roles of the account the
	// policy was read for that have it attached or as their permissions boundary.
	AttachmentCount    int32
	BoundaryUsageCount int32
	CreatedAt          time.Time
	UpdatedAt          time.Time // when the newest version was created
	Tags               []Tag
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	PolicyARN string
	VersionID string // "v1", "v2", …
	Document  string
	IsDefault bool
	CreatedAt time.Time
}

// InlinePolicy is a policy embedded in a user or role.
type InlinePolicy struct{ Name, Document string }

// AttachedPolicy names a managed policy attached to a user or role.
type AttachedPolicy struct{ ARN, Name string }

// PolicyText is a policy document with the name traces and messages give it.
type PolicyText struct {
	Name     string // the inline policy's name, or the managed policy's ARN
	Document string
}

// PrincipalPolicies are the policies that decide what a user or role may do.
type PrincipalPolicies struct {
	Identity []PolicyText // inline policies, then the default versions of attached managed policies
	Boundary *PolicyText  // the permissions boundary's default version; nil when none
}

// ListQuery selects one page of a list ordered by name.
type ListQuery struct {
	PathPrefix string // only entities whose path starts with it; "" for all
	After      string // the sort key (lower-cased name) of the last item of the previous page; "" for the first page
	AfterARN   string // lists of managed policies: the ARN of that item, which breaks ties between names
	Limit      int    // at most this many; 0 for no limit
}

// nameKey is the key names are unique under: the lower-cased name (IAM names are ASCII).
func nameKey(name string) string { return strings.ToLower(name) }

// tagKey is the key tags are unique under.
func tagKey(key string) string { return strings.ToLower(key) }

// VersionID returns the ID of policy version n: "v1", "v2", …
func VersionID(n int64) string { return "v" + strconv.FormatInt(n, 10) }

// versionNumber parses a version ID; ok is false for anything but v1, v2, …
func versionNumber(id string) (int64, bool) {
	rest, ok := strings.CutPrefix(id, "v")
	if !ok || rest == "" || rest[0] == '0' || len(rest) > 9 {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	return n, err == nil
}

// limitClause returns " LIMIT n" for a positive limit and "" otherwise.
func limitClause(limit int) string {
	if limit <= 0 {
		return ""
	}
	return " LIMIT " + strconv.Itoa(limit)
}

// pathPrefixClause is a condition on column path that is true when it starts with prefix
// (substr, not LIKE, because paths may contain % and _).
func pathPrefixClause(prefix string) (string, []any) {
	if prefix == "" || prefix == "/" {
		return "", nil
	}
	return " AND substr(path, 1, ?) = ?", []any{len(prefix), prefix}
}

// lockEntity locks the row of a user or role and returns its ID and name as stored, or
// ErrNotFound.
func (tx *Tx) lockEntity(ctx context.Context, t EntityType, accountID, name string) (id, stored string, err error) {
	table, err := entityTable(t)
	if err != nil {
		return "", "", err
	}
	err = tx.QueryRow(ctx, `UPDATE `+table+` SET path = path WHERE account_id = ? AND name_key = ? RETURNING id, name`,
		accountID, nameKey(name)).Scan(&id, &stored)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", ErrNotFound
	}
	if err != nil {
		tx.noteErr(err)
		return "", "", translate(err)
	}
	return id, stored, nil
}

// entityID returns the ID of a user or role without locking it, or ErrNotFound.
func (tx *Tx) entityID(ctx context.Context, t EntityType, accountID, name string) (string, error) {
	table, err := entityTable(t)
	if err != nil {
		return "", err
	}
	var id string
	err = tx.QueryRow(ctx, `SELECT id FROM `+table+` WHERE account_id = ? AND name_key = ?`, accountID, nameKey(name)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		tx.noteErr(err)
		return "", err
	}
	return id, nil
}

// lockPolicy locks a managed policy's row and returns its ID, or ErrNotFound.
func (tx *Tx) lockPolicy(ctx context.Context, arn string) (string, error) {
	var id string
	err := tx.QueryRow(ctx, `UPDATE iam_policies SET path = path WHERE arn = ? RETURNING id`, arn).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		tx.noteErr(err)
		return "", translate(err)
	}
	return id, nil
}

func entityTable(t EntityType) (string, error) {
	switch t {
	case EntityUser:
		return "iam_users", nil
	case EntityRole:
		return "iam_roles", nil
	}
	return "", fmt.Errorf("store: entity type %q is not a user or role", t)
}

// count runs a COUNT query.
func (tx *Tx) count(ctx context.Context, query string, args ...any) (int, error) {
	var n int
	if err := tx.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		tx.noteErr(err)
		return 0, err
	}
	return n, nil
}

// insertOnce runs an INSERT … ON CONFLICT DO NOTHING and returns ErrConflict when it inserted
// nothing.
func (tx *Tx) insertOnce(ctx context.Context, query string, args ...any) error {
	res, err := tx.Exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrConflict
	}
	return nil
}

// affected runs a statement and returns ErrNotFound when it changed no row.
func (tx *Tx) affected(ctx context.Context, query string, args ...any) error {
	res, err := tx.Exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// noRows turns sql.ErrNoRows from a Scan into ErrNotFound and notes any other error.
func (tx *Tx) noRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	tx.noteErr(err)
	return err
}
