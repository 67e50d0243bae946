-- Self-managed licenses: license configurations (counting type, count, limit, rules), their
-- tags, the soft-limit alerts they raise and the failed operations recorded against them.
-- Times are Unix microseconds (UTC).

-- +goose Up
-- One row per license configuration. consumed is the counter every launch and association
-- takes units from, with one conditional UPDATE per configuration (in ARN order):
--   UPDATE … SET consumed = consumed + n WHERE arn = ? AND status = 'AVAILABLE'
--     AND (NOT hard_limit OR license_count IS NULL OR consumed + n <= license_count)
-- It always equals the sum of license_configuration_usage.consumed over its rows.
CREATE TABLE license_configurations (
	arn                         TEXT PRIMARY KEY CHECK (arn GLOB 'arn:aws:license-manager:*:*:license-configuration:lic-*'),
	id                          TEXT NOT NULL UNIQUE,
	account_id                  TEXT NOT NULL REFERENCES accounts (id),
	region                      TEXT NOT NULL,
	name                        TEXT NOT NULL,
	description                 TEXT NOT NULL,
	counting_type               TEXT NOT NULL CHECK (counting_type IN ('vCPU', 'Instance', 'Core', 'Socket')),
	license_count               INTEGER CHECK (license_count >= 0), -- NULL: no count
	hard_limit                  INTEGER NOT NULL CHECK (hard_limit IN (0, 1)),
	consumed                    INTEGER NOT NULL DEFAULT 0 CHECK (consumed >= 0),
	status                      TEXT NOT NULL CHECK (status IN ('AVAILABLE', 'DISABLED')),
	rules                       TEXT NOT NULL, -- JSON array of the LicenseRules strings
	product_information         TEXT NOT NULL, -- JSON ProductInformationList
	disassociate_when_not_found INTEGER NOT NULL CHECK (disassociate_when_not_found IN (0, 1)),
	license_expiry              INTEGER, -- LicenseExpiry as sent; NULL when not sent
	created_at                  INTEGER NOT NULL,
	updated_at                  INTEGER NOT NULL
) STRICT;
CREATE INDEX license_configurations_account ON license_configurations (account_id, region, arn);

-- Tags of license configurations; keys are case-sensitive; seq keeps the order they were
-- first added in.
CREATE TABLE license_configuration_tags (
	arn   TEXT NOT NULL REFERENCES license_configurations (arn),
	key   TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
	value TEXT NOT NULL,
	seq   INTEGER NOT NULL,
	PRIMARY KEY (arn, key)
) STRICT;

-- Alerts a configuration raised: a launch or association allowed over a soft limit. id
-- sorts by time (hex microseconds, then random).
CREATE TABLE license_configuration_alerts (
	id            TEXT PRIMARY KEY,
	config_arn    TEXT NOT NULL REFERENCES license_configurations (arn),
	account_id    TEXT NOT NULL,
	kind          TEXT NOT NULL CHECK (kind IN ('SOFT_LIMIT_EXCEEDED')),
	resource_arn  TEXT NOT NULL,
	consumed      INTEGER NOT NULL,
	license_count INTEGER NOT NULL,
	message       TEXT NOT NULL,
	created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX license_configuration_alerts_config ON license_configuration_alerts (config_arn, id);

-- Operations refused against a configuration (ListFailuresForLicenseConfigurationOperations).
-- id sorts by time, as for alerts.
CREATE TABLE license_configuration_failures (
	id                TEXT PRIMARY KEY,
	config_arn        TEXT NOT NULL REFERENCES license_configurations (arn),
	resource_arn      TEXT NOT NULL,
	resource_type     TEXT NOT NULL,
	resource_owner_id TEXT NOT NULL,
	operation_name    TEXT NOT NULL,
	requested_by      TEXT NOT NULL,
	error_message     TEXT NOT NULL,
	failure_time      INTEGER NOT NULL
) STRICT;
CREATE INDEX license_configuration_failures_config ON license_configuration_failures (config_arn, id);

-- +goose Down
DROP TABLE license_configuration_failures;
DROP TABLE license_configuration_alerts;
DROP TABLE license_configuration_tags;
DROP TABLE license_configurations;
