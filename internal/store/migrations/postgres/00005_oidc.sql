-- IAM OpenID Connect identity providers, and the web identity behind the sessions that
-- AssumeRoleWithWebIdentity creates. Times are Unix microseconds (UTC) in BIGINT columns. A
-- provider's tags are in iam_tags under its ARN.

-- +goose Up
CREATE TABLE iam_oidc_providers (
	arn         TEXT PRIMARY KEY CHECK (arn ~ '^arn:aws:iam::[0-9]{12}:oidc-provider/.+$'),
	account_id  TEXT NOT NULL REFERENCES accounts (id),
	url         TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 255), -- host and path, no scheme: as in the ARN
	issuer      TEXT NOT NULL CHECK (issuer ~ '^https?://.+$'),      -- the URL with its scheme
	client_ids  TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
	thumbprints TEXT NOT NULL DEFAULT '[]', -- JSON array of 40-digit hex strings
	created_at  BIGINT NOT NULL,
	UNIQUE (account_id, url)
);

-- The identity provider's ARN and the token's subject (sub) of a web identity session.
ALTER TABLE sessions ADD COLUMN federated_provider TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN web_identity_subject TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE sessions DROP COLUMN web_identity_subject;
ALTER TABLE sessions DROP COLUMN federated_provider;
DELETE FROM iam_tags WHERE entity_id IN (SELECT arn FROM iam_oidc_providers);
DROP TABLE iam_oidc_providers;
