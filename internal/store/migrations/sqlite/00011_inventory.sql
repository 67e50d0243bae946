-- Resource inventory (EC2 instances, Dedicated Hosts and images, as the EC2 subset launches
-- and registers them) and the license configurations associated with each resource. Times
-- are Unix microseconds (UTC).

-- +goose Up
-- One row per resource. Instances keep their row when terminated (state 'terminated'), hosts
-- when released ('released'), images when deregistered ('deregistered').
CREATE TABLE inventory_resources (
	arn               TEXT PRIMARY KEY,
	resource_id       TEXT NOT NULL UNIQUE, -- i-…, h-…, ami-…
	resource_type     TEXT NOT NULL CHECK (resource_type IN ('EC2_INSTANCE', 'EC2_HOST', 'EC2_AMI')),
	account_id        TEXT NOT NULL REFERENCES accounts (id),
	region            TEXT NOT NULL,
	state             TEXT NOT NULL,
	instance_type     TEXT NOT NULL, -- instances; hosts: the type they were allocated for, or ''
	instance_family   TEXT NOT NULL, -- instances and hosts
	platform          TEXT NOT NULL,
	architecture      TEXT NOT NULL, -- x86_64, arm64, …
	vcpus             INTEGER NOT NULL CHECK (vcpus >= 0),
	cores             INTEGER NOT NULL CHECK (cores >= 0),
	threads_per_core  INTEGER NOT NULL CHECK (threads_per_core >= 0),
	sockets           INTEGER NOT NULL CHECK (sockets >= 0),
	cpu_options       INTEGER NOT NULL CHECK (cpu_options IN (0, 1)), -- CpuOptions were given at launch
	tenancy           TEXT NOT NULL CHECK (tenancy IN ('', 'default', 'dedicated', 'host')),
	host_id           TEXT NOT NULL, -- the Dedicated Host an instance runs on
	image_id          TEXT NOT NULL, -- the image an instance was launched from
	availability_zone TEXT NOT NULL,
	name              TEXT NOT NULL, -- images
	description       TEXT NOT NULL, -- images
	reservation_id    TEXT NOT NULL, -- instances
	launch_index      INTEGER NOT NULL,
	client_token      TEXT NOT NULL,
	used_vcpus        INTEGER NOT NULL DEFAULT 0 CHECK (used_vcpus >= 0), -- hosts: vCPUs of the running instances on it
	created_at        INTEGER NOT NULL,
	updated_at        INTEGER NOT NULL, -- last state change
	last_seen_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX inventory_resources_account ON inventory_resources (account_id, region, resource_type, resource_id);
CREATE INDEX inventory_resources_client_token ON inventory_resources (account_id, client_token) WHERE client_token <> '';
CREATE INDEX inventory_resources_host ON inventory_resources (host_id) WHERE host_id <> '';

-- One row per (configuration, resource) association. consumed is what the resource holds of
-- the configuration now: 0 for images, stopped instances and resources associated while the
-- configuration was DISABLED. Releasing sets it to 0 (or deletes the row) and subtracts it
-- from license_configurations.consumed in the same transaction.
CREATE TABLE license_configuration_usage (
	config_arn            TEXT NOT NULL REFERENCES license_configurations (arn),
	resource_arn          TEXT NOT NULL REFERENCES inventory_resources (arn),
	resource_type         TEXT NOT NULL CHECK (resource_type IN ('EC2_INSTANCE', 'EC2_HOST', 'EC2_AMI')),
	resource_account      TEXT NOT NULL,
	ami_association_scope TEXT NOT NULL,
	consumed              INTEGER NOT NULL CHECK (consumed >= 0),
	associated_at         INTEGER NOT NULL,
	PRIMARY KEY (config_arn, resource_arn)
) STRICT;
CREATE INDEX license_configuration_usage_resource ON license_configuration_usage (resource_arn, config_arn);

-- +goose Down
DROP TABLE license_configuration_usage;
DROP TABLE inventory_resources;
