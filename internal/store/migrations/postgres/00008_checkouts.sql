-- Checkouts of managed licenses: one usage counter per entitlement of a license, and one row
-- per checkout. Times are Unix microseconds (UTC).

-- +goose Up
-- One row per entitlement of a license, kept in step with its current version. A checkout
-- takes units with one conditional UPDATE per counted entitlement:
--   UPDATE … SET consumed = consumed + n WHERE … AND (overage OR consumed + n <= max_count)
-- max_count is NULL for an entitlement that is not counted (Unit None); an entitlement a new
-- version removed keeps its row with max_count 0, so units out return but none are taken.
CREATE TABLE license_entitlement_usage (
	license_arn TEXT NOT NULL REFERENCES licenses (arn),
	name        TEXT NOT NULL,
	unit        TEXT NOT NULL,
	max_count   BIGINT CHECK (max_count >= 0),
	overage     BOOLEAN NOT NULL DEFAULT FALSE,
	consumed    BIGINT NOT NULL DEFAULT 0 CHECK (consumed >= 0),
	PRIMARY KEY (license_arn, name)
);

-- One row per checkout (CheckoutLicense, CheckoutBorrowLicense). status: ACTIVE (units out),
-- CHECKED_IN, EXPIRED (units returned), CONSUMED (PERPETUAL: units out for good). Rows that
-- ended (ended_at set) are purged a day later; until then a retry with the ClientToken gets
-- the first answer.
CREATE TABLE license_checkouts (
	token           TEXT PRIMARY KEY, -- LicenseConsumptionToken
	account_id      TEXT NOT NULL REFERENCES accounts (id), -- the account that checked out
	license_arn     TEXT NOT NULL REFERENCES licenses (arn),
	license_version BIGINT NOT NULL, -- the version checked out (its issuer key signs the token)
	beneficiary     TEXT NOT NULL,
	node_id         TEXT NOT NULL,
	checkout_type   TEXT NOT NULL CHECK (checkout_type IN ('PROVISIONAL', 'PERPETUAL')),
	borrow          BOOLEAN NOT NULL,
	early_check_in  BOOLEAN NOT NULL, -- may be checked in before expiry
	entitlements    TEXT NOT NULL, -- JSON: the entitlements allowed, with the units taken
	metadata        TEXT NOT NULL, -- JSON: CheckoutMetadata
	issued_at       BIGINT NOT NULL,
	expires_at      BIGINT, -- NULL: never (PERPETUAL)
	status          TEXT NOT NULL CHECK (status IN ('ACTIVE', 'CHECKED_IN', 'EXPIRED', 'CONSUMED')),
	ended_at        BIGINT, -- when it stopped being ACTIVE
	client_token    TEXT NOT NULL,
	request         TEXT NOT NULL -- digest of the request, to tell a retry from another request
);
CREATE UNIQUE INDEX license_checkouts_client_token ON license_checkouts (account_id, client_token);
CREATE INDEX license_checkouts_expiry ON license_checkouts (expires_at) WHERE status = 'ACTIVE';
CREATE INDEX license_checkouts_license ON license_checkouts (license_arn, expires_at) WHERE status = 'ACTIVE';
CREATE INDEX license_checkouts_ended ON license_checkouts (ended_at) WHERE status <> 'ACTIVE';

-- +goose Down
DROP TABLE license_checkouts;
DROP TABLE license_entitlement_usage;
