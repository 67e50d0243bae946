-- Managed instances: machines that report themselves with the inventory agent (allot agent,
-- through the SSM subset's PutInventory), their inventory items and installed applications;
-- and alerts for rule violations, refused discoveries and stale inventory.
--
-- SQLite cannot change a CHECK constraint in place, so inventory_resources,
-- license_configuration_usage and license_configuration_alerts are rebuilt with SQLite's
-- documented procedure (foreign keys off, new table, copy, drop, rename, foreign_key_check),
-- in one transaction on the migration's one connection (goose runs a NO TRANSACTION
-- migration's statements on one connection). Re-running it after a crash between
-- its COMMIT and goose's version row gives the same result.

-- +goose NO TRANSACTION
-- +goose Up
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

-- Managed instances (resource_type SYSTEMS_MANAGER_MANAGED_INSTANCE, IDs mi-…) are in state
-- 'active' while they report, 'inactive' once they have not reported for 30 days (their
-- units released), 'deregistered' after DeregisterManagedInstance. platform is the OS name
-- ("Ubuntu"), platform_type Linux/Windows/MacOS, platform_version its version.
CREATE TABLE inventory_resources_new (
	arn               TEXT PRIMARY KEY,
	resource_id       TEXT NOT NULL UNIQUE, -- i-…, h-…, ami-…, mi-…
	resource_type     TEXT NOT NULL CHECK (resource_type IN ('EC2_INSTANCE', 'EC2_HOST', 'EC2_AMI', 'SYSTEMS_MANAGER_MANAGED_INSTANCE')),
	account_id        TEXT NOT NULL REFERENCES accounts (id),
	region            TEXT NOT NULL,
	state             TEXT NOT NULL,
	instance_type     TEXT NOT NULL,
	instance_family   TEXT NOT NULL,
	platform          TEXT NOT NULL,
	architecture      TEXT NOT NULL,
	vcpus             INTEGER NOT NULL CHECK (vcpus >= 0),
	cores             INTEGER NOT NULL CHECK (cores >= 0),
	threads_per_core  INTEGER NOT NULL CHECK (threads_per_core >= 0),
	sockets           INTEGER NOT NULL CHECK (sockets >= 0),
	cpu_options       INTEGER NOT NULL CHECK (cpu_options IN (0, 1)),
	tenancy           TEXT NOT NULL CHECK (tenancy IN ('', 'default', 'dedicated', 'host')),
	host_id           TEXT NOT NULL,
	image_id          TEXT NOT NULL,
	availability_zone TEXT NOT NULL,
	name              TEXT NOT NULL,
	description       TEXT NOT NULL,
	reservation_id    TEXT NOT NULL,
	launch_index      INTEGER NOT NULL,
	client_token      TEXT NOT NULL,
	used_vcpus        INTEGER NOT NULL DEFAULT 0 CHECK (used_vcpus >= 0),
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL,
	last_seen_at      INTEGER NOT NULL,
	platform_type     TEXT NOT NULL DEFAULT '', -- managed instances: Linux, Windows, MacOS
	platform_version  TEXT NOT NULL DEFAULT '', -- managed instances: "22.04", …
	computer_name     TEXT NOT NULL DEFAULT '', -- managed instances: host name
	ip_address        TEXT NOT NULL DEFAULT '', -- managed instances
	agent_version     TEXT NOT NULL DEFAULT ''  -- managed instances: the reporting agent's version
) STRICT;
INSERT INTO inventory_resources_new (arn, resource_id, resource_type, account_id, region, state, instance_type, instance_family,
	platform, architecture, vcpus, cores, threads_per_core, sockets, cpu_options, tenancy, host_id, image_id, availability_zone,
	name, description, reservation_id, launch_index, client_token, used_vcpus, created_at, updated_at, last_seen_at)
SELECT arn, resource_id, resource_type, account_id, region, state, instance_type, instance_family,
	platform, architecture, vcpus, cores, threads_per_core, sockets, cpu_options, tenancy, host_id, image_id, availability_zone,
	name, description, reservation_id, launch_index, client_token, used_vcpus, created_at, updated_at, last_seen_at
FROM inventory_resources;
DROP TABLE inventory_resources;
ALTER TABLE inventory_resources_new RENAME TO inventory_resources;
CREATE INDEX inventory_resources_account ON inventory_resources (account_id, region, resource_type, resource_id);
CREATE INDEX inventory_resources_client_token ON inventory_resources (account_id, client_token) WHERE client_token <> '';
CREATE INDEX inventory_resources_host ON inventory_resources (host_id) WHERE host_id <> '';
-- The stale-inventory sweep: active managed instances by last report.
CREATE INDEX inventory_resources_last_seen ON inventory_resources (last_seen_at)
	WHERE resource_type = 'SYSTEMS_MANAGER_MANAGED_INSTANCE' AND state = 'active';

CREATE TABLE license_configuration_usage_new (
	config_arn            TEXT NOT NULL REFERENCES license_configurations (arn),
	resource_arn          TEXT NOT NULL REFERENCES inventory_resources (arn),
	resource_type         TEXT NOT NULL CHECK (resource_type IN ('EC2_INSTANCE', 'EC2_HOST', 'EC2_AMI', 'SYSTEMS_MANAGER_MANAGED_INSTANCE')),
	resource_account      TEXT NOT NULL,
	ami_association_scope TEXT NOT NULL,
	consumed              INTEGER NOT NULL CHECK (consumed >= 0),
	associated_at         INTEGER NOT NULL,
	PRIMARY KEY (config_arn, resource_arn)
) STRICT;
INSERT INTO license_configuration_usage_new SELECT * FROM license_configuration_usage;
DROP TABLE license_configuration_usage;
ALTER TABLE license_configuration_usage_new RENAME TO license_configuration_usage;
CREATE INDEX license_configuration_usage_resource ON license_configuration_usage (resource_arn, config_arn);

-- Alert kinds: SOFT_LIMIT_EXCEEDED (allowed over a soft limit), RULE_VIOLATION (a discovered
-- resource breaks a configuration's rules, so it was not associated), LIMIT_EXCEEDED (a
-- discovered resource would exceed a hard limit, so it was not associated), STALE_INVENTORY
-- (a managed instance stopped reporting for 30 days and its units were released).
CREATE TABLE license_configuration_alerts_new (
	id                TEXT PRIMARY KEY,
	config_arn        TEXT NOT NULL REFERENCES license_configurations (arn),
	account_id        TEXT NOT NULL,
	kind              TEXT NOT NULL CHECK (kind IN ('SOFT_LIMIT_EXCEEDED', 'RULE_VIOLATION', 'LIMIT_EXCEEDED', 'STALE_INVENTORY')),
	resource_arn      TEXT NOT NULL,
	consumed          INTEGER NOT NULL,
	license_count     INTEGER NOT NULL,
	message           TEXT NOT NULL,
	created_at        INTEGER NOT NULL,
	topic_arn         TEXT NOT NULL DEFAULT '',
	delivery_attempts INTEGER NOT NULL DEFAULT 0,
	next_delivery_at  INTEGER NOT NULL DEFAULT 0,
	delivered_at      INTEGER
) STRICT;
INSERT INTO license_configuration_alerts_new (id, config_arn, account_id, kind, resource_arn, consumed, license_count, message,
	created_at, topic_arn, delivery_attempts, next_delivery_at, delivered_at)
SELECT id, config_arn, account_id, kind, resource_arn, consumed, license_count, message,
	created_at, topic_arn, delivery_attempts, next_delivery_at, delivered_at
FROM license_configuration_alerts;
DROP TABLE license_configuration_alerts;
ALTER TABLE license_configuration_alerts_new RENAME TO license_configuration_alerts;
CREATE INDEX license_configuration_alerts_config ON license_configuration_alerts (config_arn, id);
CREATE INDEX license_configuration_alerts_account ON license_configuration_alerts (account_id, id);
CREATE INDEX license_configuration_alerts_pending ON license_configuration_alerts (next_delivery_at)
	WHERE topic_arn <> '' AND delivered_at IS NULL;

-- The latest inventory of each type a managed instance reported (PutInventory): content is
-- the JSON array of its entries, as sent.
CREATE TABLE IF NOT EXISTS inventory_items (
	resource_arn   TEXT NOT NULL REFERENCES inventory_resources (arn),
	type_name      TEXT NOT NULL, -- AWS:InstanceInformation, AWS:Application, …
	schema_version TEXT NOT NULL,
	capture_time   TEXT NOT NULL, -- as the agent sent it
	content_hash   TEXT NOT NULL,
	content        TEXT NOT NULL,
	updated_at     INTEGER NOT NULL,
	PRIMARY KEY (resource_arn, type_name)
) STRICT;

-- Applications installed on a managed instance, from its latest AWS:Application inventory.
CREATE TABLE IF NOT EXISTS inventory_applications (
	resource_arn TEXT NOT NULL REFERENCES inventory_resources (arn),
	name         TEXT NOT NULL,
	architecture TEXT NOT NULL,
	version      TEXT NOT NULL,
	publisher    TEXT NOT NULL,
	PRIMARY KEY (resource_arn, name, architecture)
) STRICT;
CREATE INDEX IF NOT EXISTS inventory_applications_name ON inventory_applications (name, resource_arn);

COMMIT;
PRAGMA foreign_keys = ON;

-- +goose Down
-- Not reversible on SQLite: restore a backup taken before upgrading instead.
