-- Grants of managed licenses: a license's issuer (or a grantee the grant allows to) gives
-- one principal — an account, an organization or an organizational unit — the right to use
-- a license. Times are Unix microseconds (UTC). A grant's content is a JSON document the
-- licensemanager package writes and reads; the columns beside it are what lookups use.

-- +goose Up
CREATE TABLE license_grants (
	arn          TEXT PRIMARY KEY CHECK (arn GLOB 'arn:aws:license-manager::*:grant:g-*'),
	account_id   TEXT NOT NULL REFERENCES accounts (id), -- the grantor
	license_arn  TEXT NOT NULL REFERENCES licenses (arn),
	parent_arn   TEXT NOT NULL, -- the grant it was made under, or the license for the issuer's grants
	grantee      TEXT NOT NULL, -- the principal ARN
	grantee_kind TEXT NOT NULL CHECK (grantee_kind IN ('account', 'organization', 'ou')),
	grantee_id   TEXT NOT NULL, -- the account ID, o-… or ou-…
	home_region  TEXT NOT NULL,
	version      INTEGER NOT NULL CHECK (version >= 1), -- the current version
	status       TEXT NOT NULL,
	created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX license_grants_grantor ON license_grants (account_id, arn);
CREATE INDEX license_grants_grantee ON license_grants (grantee_id, arn);
CREATE INDEX license_grants_license ON license_grants (license_arn, arn);

-- Every version of every grant, immutable.
CREATE TABLE license_grant_versions (
	arn        TEXT NOT NULL REFERENCES license_grants (arn),
	version    INTEGER NOT NULL,
	body       TEXT NOT NULL, -- JSON
	created_at INTEGER NOT NULL,
	PRIMARY KEY (arn, version)
) STRICT;

-- Tags of grants, as license_tags are of licenses.
CREATE TABLE license_grant_tags (
	arn   TEXT NOT NULL REFERENCES license_grants (arn),
	key   TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
	value TEXT NOT NULL,
	seq   INTEGER NOT NULL,
	PRIMARY KEY (arn, key)
) STRICT;

-- +goose Down
DROP TABLE license_grant_tags;
DROP TABLE license_grant_versions;
DROP TABLE license_grants;
