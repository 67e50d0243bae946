-- Managed instances: machines that report themselves with the inventory agent (allot agent,
-- through the SSM subset's PutInventory), their inventory items and installed applications;
-- and alerts for rule violations, refused discoveries and stale inventory.

-- +goose Up
-- Managed instances (resource_type SYSTEMS_MANAGER_MANAGED_INSTANCE, IDs mi-…) are in state
-- 'active' while they report, 'inactive' once they have not reported for 30 days (their
-- units released), 'deregistered' after DeregisterManagedInstance. platform is the OS name
-- ("Ubuntu"), platform_type Linux/Windows/MacOS, platform_version its version.
ALTER TABLE inventory_resources DROP CONSTRAINT inventory_resources_resource_type_check;
ALTER TABLE inventory_resources ADD CONSTRAINT inventory_resources_resource_type_check
	CHECK (resource_type IN ('EC2_INSTANCE', 'EC2_HOST', 'EC2_AMI', 'SYSTEMS_MANAGER_MANAGED_INSTANCE'));
ALTER TABLE inventory_resources ADD COLUMN platform_type TEXT NOT NULL DEFAULT '';
ALTER TABLE inventory_resources ADD COLUMN platform_version TEXT NOT NULL DEFAULT '';
ALTER TABLE inventory_resources ADD COLUMN computer_name TEXT NOT NULL DEFAULT '';
ALTER TABLE inventory_resources ADD COLUMN ip_address TEXT NOT NULL DEFAULT '';
ALTER TABLE inventory_resources ADD COLUMN agent_version TEXT NOT NULL DEFAULT '';
-- The stale-inventory sweep: active managed instances by last report.
CREATE INDEX inventory_resources_last_seen ON inventory_resources (last_seen_at)
	WHERE resource_type = 'SYSTEMS_MANAGER_MANAGED_INSTANCE' AND state = 'active';

ALTER TABLE license_configuration_usage DROP CONSTRAINT license_configuration_usage_resource_type_check;
ALTER TABLE license_configuration_usage ADD CONSTRAINT license_configuration_usage_resource_type_check
	CHECK (resource_type IN ('EC2_INSTANCE', 'EC2_HOST', 'EC2_AMI', 'SYSTEMS_MANAGER_MANAGED_INSTANCE'));

-- Alert kinds: SOFT_LIMIT_EXCEEDED (allowed over a soft limit), RULE_VIOLATION (a discovered
-- resource breaks a configuration's rules, so it was not associated), LIMIT_EXCEEDED (a
-- discovered resource would exceed a hard limit, so it was not associated), STALE_INVENTORY
-- (a managed instance stopped reporting for 30 days and its units were released).
ALTER TABLE license_configuration_alerts DROP CONSTRAINT license_configuration_alerts_kind_check;
ALTER TABLE license_configuration_alerts ADD CONSTRAINT license_configuration_alerts_kind_check
	CHECK (kind IN ('SOFT_LIMIT_EXCEEDED', 'RULE_VIOLATION', 'LIMIT_EXCEEDED', 'STALE_INVENTORY'));
CREATE INDEX license_configuration_alerts_account ON license_configuration_alerts (account_id, id);

-- The latest inventory of each type a managed instance reported (PutInventory): content is
-- the JSON array of its entries, as sent.
CREATE TABLE inventory_items (
	resource_arn   TEXT NOT NULL REFERENCES inventory_resources (arn),
	type_name      TEXT NOT NULL, -- AWS:InstanceInformation, AWS:Application, …
	schema_version TEXT NOT NULL,
	capture_time   TEXT NOT NULL, -- as the agent sent it
	content_hash   TEXT NOT NULL,
	content        TEXT NOT NULL,
	updated_at     BIGINT NOT NULL,
	PRIMARY KEY (resource_arn, type_name)
);

-- Applications installed on a managed instance, from its latest AWS:Application inventory.
CREATE TABLE inventory_applications (
	resource_arn TEXT NOT NULL REFERENCES inventory_resources (arn),
	name         TEXT NOT NULL,
	architecture TEXT NOT NULL,
	version      TEXT NOT NULL,
	publisher    TEXT NOT NULL,
	PRIMARY KEY (resource_arn, name, architecture)
);
CREATE INDEX inventory_applications_name ON inventory_applications (name, resource_arn);

-- +goose Down
DROP TABLE inventory_applications;
DROP TABLE inventory_items;
DROP INDEX license_configuration_alerts_account;
DROP INDEX inventory_resources_last_seen;
ALTER TABLE inventory_resources DROP COLUMN agent_version;
ALTER TABLE inventory_resources DROP COLUMN ip_address;
ALTER TABLE inventory_resources DROP COLUMN computer_name;
ALTER TABLE inventory_resources DROP COLUMN platform_version;
ALTER TABLE inventory_resources DROP COLUMN platform_type;
