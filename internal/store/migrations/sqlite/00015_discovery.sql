-- Automated discovery (licenseconfig.Discover): which associations it made, so that
-- DisassociateWhenNotFound removes only those, and the last refusal it recorded for each
-- configuration and managed instance, so that an instance reporting every few minutes raises
-- a rule-violation or limit alert once, when the outcome changes, not on every report.

-- +goose Up
-- 1: made by automated discovery; 0: by UpdateLicenseSpecificationsForResource, a launch or an image.
ALTER TABLE license_configuration_usage ADD COLUMN discovered INTEGER NOT NULL DEFAULT 0 CHECK (discovered IN (0, 1));

-- One row per configuration and resource that discovery matched but did not associate (or
-- whose association could not take its units again): outcome RULE_VIOLATION, LIMIT_EXCEEDED
-- or TOO_MANY_CONFIGURATIONS. Deleted when the outcome clears, and with the configuration.
CREATE TABLE license_discovery_outcomes (
	config_arn   TEXT NOT NULL REFERENCES license_configurations (arn) ON DELETE CASCADE,
	resource_arn TEXT NOT NULL REFERENCES inventory_resources (arn) ON DELETE CASCADE,
	outcome      TEXT NOT NULL CHECK (outcome IN ('RULE_VIOLATION', 'LIMIT_EXCEEDED', 'TOO_MANY_CONFIGURATIONS')),
	updated_at   INTEGER NOT NULL,
	PRIMARY KEY (resource_arn, config_arn)
) STRICT;
CREATE INDEX license_discovery_outcomes_config ON license_discovery_outcomes (config_arn);

-- +goose Down
DROP TABLE license_discovery_outcomes;
ALTER TABLE license_configuration_usage DROP COLUMN discovered;
