package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/allot-dev/allot/internal/identity"
)

// Session is a set of temporary credentials issued by STS: an assumed-role session, or a
// GetSessionToken session of an IAM user or root.
type Session struct {
	AccessKeyID string // ASIA…
	AccountID   string
	Kind        identity.Kind // AssumedRole, or IAMUser or Root for GetSessionToken sessions
	PrincipalID string        // the role's AROA… ID, the user's AIDA… ID, or the account ID

	RoleARN, RoleName string // assumed-role sessions
	SessionName       string // assumed-role sessions
	UserName          string // GetSessionToken sessions of IAM users

	Secret string // plaintext in memory; stored sealed (context "session-secret:"+AccessKeyID)
	Token  string // plaintext in memory; stored sealed (context "session-token:"+AccessKeyID)

	Policies       []string       // session policy documents, fixed when the session was made
	SourceIdentity string         //
	Tags           []identity.Tag // session tags
	SourceARN      string         // the principal that created the session (that signed the request)
	// FederatedProvider and WebIdentitySubject are the identity provider's ARN and the token's
	// subject (sub) of a session AssumeRoleWithWebIdentity created; empty otherwise.
	FederatedProvider  string
	WebIdentitySubject string
	CreatedAt          time.Time
	ExpiresAt          time.Time
}

// CreateSession stores new temporary credentials, sealing the secret and the token.
func (tx *Tx) CreateSession(ctx context.Context, s *Session) error {
	secret, err := tx.db.box.Seal([]byte(s.Secret), "session-secret:"+s.AccessKeyID)
	if err != nil {
		return fmt.Errorf("store: create session %s: %w", s.AccessKeyID, err)
	}
	token, err := tx.db.box.Seal([]byte(s.Token), "session-token:"+s.AccessKeyID)
	if err != nil {
		return fmt.Errorf("store: create session %s: %w", s.AccessKeyID, err)
	}
	policies, err := json.Marshal(nonNil(s.Policies))
	if err != nil {
		return fmt.Errorf("store: create session %s: %w", s.AccessKeyID, err)
	}
	tags, err := json.Marshal(nonNil(s.Tags))
	if err != nil {
		return fmt.Errorf("store: create session %s: %w", s.AccessKeyID, err)
	}
	res, err := tx.Exec(ctx, `INSERT INTO sessions (access_key_id, account_id, kind, role_arn, role_name, principal_id,
		session_name, user_name, secret_sealed, token_sealed, policies, source_identity, tags, source_arn,
		federated_provider, web_identity_subject, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (access_key_id) DO NOTHING`,
		s.AccessKeyID, s.AccountID, string(s.Kind), s.RoleARN, s.RoleName, s.PrincipalID, s.SessionName, s.UserName,
		secret, token, string(policies), s.SourceIdentity, string(tags), s.SourceARN,
		s.FederatedProvider, s.WebIdentitySubject, s.CreatedAt, s.ExpiresAt)
	if err != nil {
		return fmt.Errorf("store: create session %s: %w", s.AccessKeyID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: create session %s: %w", s.AccessKeyID, err)
	} else if n == 0 {
		return fmt.Errorf("store: create session %s: %w", s.AccessKeyID, ErrConflict)
	}
	return nil
}

// Session returns temporary credentials with the secret and token decrypted, expired or not,
// or an error wrapping ErrNotFound: one point read on the read pool.
func (db *DB) Session(ctx context.Context, accessKeyID string) (*Session, error) {
	tx := &Tx{q: db.rdb, st: &txStmts{cache: db.rstmts}, db: db}
	return tx.Session(ctx, accessKeyID)
}

// Session returns temporary credentials; see DB.Session.
func (tx *Tx) Session(ctx context.Context, accessKeyID string) (*Session, error) {
	s := &Session{AccessKeyID: accessKeyID}
	var kind, secret, token, policies, tags string
	err := tx.QueryRow(ctx, `SELECT account_id, kind, role_arn, role_name, principal_id, session_name, user_name,
		secret_sealed, token_sealed, policies, source_identity, tags, source_arn, federated_provider, web_identity_subject,
		created_at, expires_at
		FROM sessions WHERE access_key_id = ?`, accessKeyID).
		Scan(&s.AccountID, &kind, &s.RoleARN, &s.RoleName, &s.PrincipalID, &s.SessionName, &s.UserName,
			&secret, &token, &policies, &s.SourceIdentity, &tags, &s.SourceARN, &s.FederatedProvider, &s.WebIdentitySubject,
			ScanTime(&s.CreatedAt), ScanTime(&s.ExpiresAt))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: session %s: %w", accessKeyID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: session %s: %w", accessKeyID, err)
	}
	s.Kind = identity.Kind(kind)
	plainSecret, err := tx.db.box.Open(secret, "session-secret:"+accessKeyID)
	if err != nil {
		return nil, fmt.Errorf("store: session %s: %w", accessKeyID, err)
	}
	plainToken, err := tx.db.box.Open(token, "session-token:"+accessKeyID)
	if err != nil {
		return nil, fmt.Errorf("store: session %s: %w", accessKeyID, err)
	}
	s.Secret, s.Token = string(plainSecret), string(plainToken)
	if err := json.Unmarshal([]byte(policies), &s.Policies); err != nil {
		return nil, fmt.Errorf("store: session %s policies: %w", accessKeyID, err)
	}
	if err := json.Unmarshal([]byte(tags), &s.Tags); err != nil {
		return nil, fmt.Errorf("store: session %s tags: %w", accessKeyID, err)
	}
	return s, nil
}

// DeleteExpiredSessions removes sessions that expired before t and returns how many.
func (tx *Tx) DeleteExpiredSessions(ctx context.Context, t time.Time) (int64, error) {
	res, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at < ?`, t)
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return n, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
