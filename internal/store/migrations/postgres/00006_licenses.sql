-- Managed licenses (the issuer side) and the issuers' signing keys. Times are Unix
-- microseconds (UTC). A license's content (entitlements, validity, consumption configuration,
-- metadata …) is a JSON document the licensemanager package writes and reads; the columns
-- beside it are what lists filter on.

-- +goose Up
-- Signing keys of issuers: one per (account, issuer name, algorithm). kid is the RFC 7638
-- thumbprint of the public key; private_key is sealed with the master key.
CREATE TABLE license_issuer_keys (
	kid         TEXT PRIMARY KEY,
	account_id  TEXT NOT NULL REFERENCES accounts (id),
	issuer_name TEXT NOT NULL,
	alg         TEXT NOT NULL CHECK (alg IN ('ES256', 'PS384')),
	public_jwk  TEXT NOT NULL, -- JSON Web Key, public part
	private_key TEXT NOT NULL, -- sealed PKCS #8 DER
	is_current  BOOLEAN NOT NULL DEFAULT TRUE,
	created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX license_issuer_keys_current ON license_issuer_keys (account_id, issuer_name, alg) WHERE is_current;

CREATE TABLE licenses (
	arn         TEXT PRIMARY KEY CHECK (arn ~ '^arn:aws:license-manager::[0-9]{12}:license:l-[0-9a-f]{32}$'),
	account_id  TEXT NOT NULL REFERENCES accounts (id),
	home_region TEXT NOT NULL,
	version     BIGINT NOT NULL CHECK (version >= 1), -- the current version
	status      TEXT NOT NULL,
	product_sku TEXT NOT NULL,
	beneficiary TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	created_at  BIGINT NOT NULL
);
CREATE INDEX licenses_account ON licenses (account_id, arn);

-- Every version of every license, immutable.
CREATE TABLE license_versions (
	arn        TEXT NOT NULL REFERENCES licenses (arn),
	version    BIGINT NOT NULL,
	body       TEXT NOT NULL, -- JSON
	created_at BIGINT NOT NULL,
	PRIMARY KEY (arn, version)
);

-- The first answer to a request with a ClientToken, per account and operation.
CREATE TABLE license_client_tokens (
	account_id TEXT NOT NULL REFERENCES accounts (id),
	operation  TEXT NOT NULL,
	token      TEXT NOT NULL,
	request    TEXT NOT NULL, -- digest of the request
	response   TEXT NOT NULL, -- JSON
	created_at BIGINT NOT NULL,
	PRIMARY KEY (account_id, operation, token)
);

-- Tags belong to the license, not to a version. Keys are case-sensitive, as in License
-- Manager; seq keeps the order tags were first added in.
CREATE TABLE license_tags (
	arn   TEXT NOT NULL REFERENCES licenses (arn),
	key   TEXT NOT NULL CHECK (char_length(key) BETWEEN 1 AND 128),
	value TEXT NOT NULL,
	seq   BIGINT NOT NULL,
	PRIMARY KEY (arn, key)
);

-- +goose Down
DROP TABLE license_tags;
DROP TABLE license_client_tokens;
DROP TABLE license_versions;
DROP TABLE licenses;
DROP TABLE license_issuer_keys;
