-- When automated discovery last ran for each license configuration, for
-- GetLicenseConfiguration's AutomatedDiscoveryInformation.LastRunTime. A table of its own, not
-- a column of license_configurations: every managed instance's report touches it, and the
-- configuration's row is the one units are counted on.

-- +goose Up
CREATE TABLE license_discovery_runs (
	config_arn  TEXT PRIMARY KEY REFERENCES license_configurations (arn) ON DELETE CASCADE,
	last_run_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE license_discovery_runs;
