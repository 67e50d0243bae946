-- Temporary credentials (ASIA… keys) issued by STS: AssumeRole sessions and GetSessionToken
-- sessions of IAM users and root. Everything the request path needs to know who is calling is kept
-- here, so authenticating a session is one point read.

-- +goose Up
CREATE TABLE sessions (
	access_key_id   TEXT PRIMARY KEY CHECK (length(access_key_id) BETWEEN 16 AND 128),
	account_id      TEXT NOT NULL REFERENCES accounts (id),
	kind            TEXT NOT NULL CHECK (kind IN ('AssumedRole', 'IAMUser', 'Root')),
	role_arn        TEXT NOT NULL DEFAULT '',
	role_name       TEXT NOT NULL DEFAULT '',
	principal_id    TEXT NOT NULL,              -- AROA… role ID, AIDA… user ID or the account ID (root)
	session_name    TEXT NOT NULL DEFAULT '',
	user_name       TEXT NOT NULL DEFAULT '',
	secret_sealed   TEXT NOT NULL CHECK (secret_sealed LIKE 'v1:%'),
	token_sealed    TEXT NOT NULL CHECK (token_sealed LIKE 'v1:%'),
	policies        TEXT NOT NULL DEFAULT '[]', -- JSON array of session policy documents
	source_identity TEXT NOT NULL DEFAULT '',
	tags            TEXT NOT NULL DEFAULT '[]', -- JSON array of {"Key","Value"}
	source_arn      TEXT NOT NULL DEFAULT '',   -- the principal that created the session
	created_at      INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL CHECK (expires_at > created_at),
	CHECK (kind <> 'AssumedRole' OR (role_arn <> '' AND session_name <> '')),
	CHECK (kind <> 'IAMUser' OR user_name <> '')
) STRICT;
CREATE INDEX sessions_expires ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;
