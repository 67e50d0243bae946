-- License Manager tokens for consumers without an account (CreateToken, GetAccessToken), the
-- key the License Manager token issuer signs them with, and retired issuer keys. Times are
-- Unix microseconds (UTC).

-- +goose Up
-- Keys of the License Manager token issuer (openid-license-manager.amazonaws.com): Allot's own,
-- not a license issuer's. One is current; older ones stay to verify the tokens they signed.
-- kid is the RFC 7638 thumbprint of the public key; private_key is sealed with the master key.
CREATE TABLE license_token_keys (
	kid         TEXT PRIMARY KEY,
	alg         TEXT NOT NULL CHECK (alg IN ('EdDSA')),
	public_jwk  TEXT NOT NULL, -- JSON Web Key, public part
	private_key TEXT NOT NULL, -- sealed PKCS #8 DER
	is_current  BOOLEAN NOT NULL DEFAULT TRUE,
	created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX license_token_keys_current ON license_token_keys (is_current) WHERE is_current;

-- Refresh tokens (CreateToken). The token string is never stored: token_hash is the SHA-256
-- (hex) of it, and the token can be signed again from the row (its signature is deterministic).
CREATE TABLE license_tokens (
	id               TEXT PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
	account_id       TEXT NOT NULL REFERENCES accounts (id), -- the account that created it
	license_arn      TEXT NOT NULL REFERENCES licenses (arn),
	home_region      TEXT NOT NULL, -- the license's, where DeleteToken must be called
	role_arns        TEXT NOT NULL, -- JSON array of strings
	token_properties TEXT NOT NULL, -- JSON array of strings
	token_hash       TEXT NOT NULL,
	kid              TEXT NOT NULL REFERENCES license_token_keys (kid),
	status           TEXT NOT NULL CHECK (status IN ('AVAILABLE', 'DELETED')),
	expires_at       BIGINT NOT NULL,
	created_at       BIGINT NOT NULL,
	deleted_at       BIGINT
);
CREATE INDEX license_tokens_account ON license_tokens (account_id, id);
CREATE INDEX license_tokens_license ON license_tokens (license_arn, account_id, status);

-- Issuer key rotation: a key that is neither current nor retired is a previous key, still
-- published in the JWKS; a retired key is not published, and tokens it signed no longer verify.
ALTER TABLE license_issuer_keys ADD COLUMN retired_at BIGINT,
	ADD CONSTRAINT license_issuer_keys_retired CHECK (retired_at IS NULL OR NOT is_current);

-- +goose Down
ALTER TABLE license_issuer_keys DROP CONSTRAINT license_issuer_keys_retired, DROP COLUMN retired_at;
DROP TABLE license_tokens;
DROP TABLE license_token_keys;
