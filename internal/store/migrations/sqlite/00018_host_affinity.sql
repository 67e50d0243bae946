-- #licenseAffinityToHost: units a configuration keeps consumed for a resource on a Dedicated
-- Host (the host itself, or an instance placed on it) after the resource stopped using them
-- (a released host, a stopped or terminated instance, a removed association), until the
-- affinity period since they were first consumed there has passed. The units stay on the
-- association row (license_configuration_usage.consumed), so a configuration's consumed is
-- still the sum over its associations; a hold only says when they go back to the pool. Times
-- are Unix microseconds (UTC).

-- +goose Up
CREATE TABLE license_affinity_holds (
	config_arn   TEXT NOT NULL REFERENCES license_configurations (arn) ON DELETE CASCADE,
	resource_arn TEXT NOT NULL REFERENCES inventory_resources (arn) ON DELETE CASCADE,
	host_arn     TEXT NOT NULL, -- the Dedicated Host the licenses are tied to
	disassociate INTEGER NOT NULL CHECK (disassociate IN (0, 1)), -- 1: the association goes when the hold ends; 0: it stays, holding nothing
	held_at      INTEGER NOT NULL,
	release_at   INTEGER NOT NULL,
	PRIMARY KEY (config_arn, resource_arn)
) STRICT;
CREATE INDEX license_affinity_holds_release ON license_affinity_holds (release_at);

-- +goose Down
DROP TABLE license_affinity_holds;
