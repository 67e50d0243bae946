-- IAM: users, roles, customer and AWS managed policies with their versions, inline policies,
-- attachments and tags. Names are unique per account case-insensitively, as in AWS: name_key
-- is the lower-cased name (names are ASCII). Times are Unix microseconds (UTC) in BIGINT columns.

-- +goose Up
CREATE TABLE iam_users (
	id                   TEXT PRIMARY KEY CHECK (length(id) BETWEEN 16 AND 128),
	account_id           TEXT NOT NULL REFERENCES accounts (id),
	name                 TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
	name_key             TEXT NOT NULL,
	path                 TEXT NOT NULL CHECK (path = '/' OR (length(path) BETWEEN 3 AND 512 AND path LIKE '/%/')),
	permissions_boundary TEXT NOT NULL DEFAULT '', -- a managed policy's ARN, or ''
	created_at           BIGINT NOT NULL,
	UNIQUE (account_id, name_key),
	CHECK (name_key = lower(name))
);
CREATE INDEX iam_users_boundary ON iam_users (permissions_boundary) WHERE permissions_boundary <> '';

CREATE TABLE iam_roles (
	id                   TEXT PRIMARY KEY CHECK (length(id) BETWEEN 16 AND 128),
	account_id           TEXT NOT NULL REFERENCES accounts (id),
	name                 TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
	name_key             TEXT NOT NULL,
	path                 TEXT NOT NULL CHECK (path = '/' OR (length(path) BETWEEN 3 AND 512 AND path LIKE '/%/')),
	description          TEXT NOT NULL DEFAULT '',
	assume_role_policy   TEXT NOT NULL CHECK (assume_role_policy <> ''),
	max_session_duration INTEGER NOT NULL CHECK (max_session_duration BETWEEN 3600 AND 43200),
	permissions_boundary TEXT NOT NULL DEFAULT '',
	created_at           BIGINT NOT NULL,
	last_used_at         BIGINT NOT NULL DEFAULT 0, -- 0: never used
	last_used_region     TEXT NOT NULL DEFAULT '',
	UNIQUE (account_id, name_key),
	CHECK (name_key = lower(name))
);
CREATE INDEX iam_roles_boundary ON iam_roles (permissions_boundary) WHERE permissions_boundary <> '';

-- Managed policies: account_id is 'aws' for AWS managed policies, which every account sees.
CREATE TABLE iam_policies (
	arn             TEXT PRIMARY KEY,
	id              TEXT NOT NULL UNIQUE CHECK (length(id) BETWEEN 16 AND 128),
	account_id      TEXT NOT NULL CHECK (account_id = 'aws' OR account_id ~ '^[0-9]{12}$'),
	name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
	name_key        TEXT NOT NULL,
	path            TEXT NOT NULL CHECK (path = '/' OR (length(path) BETWEEN 3 AND 512 AND path LIKE '/%/')),
	description     TEXT NOT NULL DEFAULT '',
	default_version INTEGER NOT NULL CHECK (default_version >= 1), -- n of version vn
	last_version    INTEGER NOT NULL CHECK (last_version >= default_version), -- version numbers are never reused
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL,
	UNIQUE (account_id, name_key),
	CHECK (name_key = lower(name))
);

CREATE TABLE iam_policy_versions (
	policy_arn TEXT NOT NULL REFERENCES iam_policies (arn) ON DELETE CASCADE,
	version    INTEGER NOT NULL CHECK (version >= 1),
	document   TEXT NOT NULL CHECK (document <> ''),
	created_at BIGINT NOT NULL,
	PRIMARY KEY (policy_arn, version)
);

-- Inline policies of users and roles (entity_id is the user's or role's ID).
CREATE TABLE iam_inline_policies (
	entity_id TEXT NOT NULL,
	name      TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
	name_key  TEXT NOT NULL,
	document  TEXT NOT NULL CHECK (document <> ''),
	PRIMARY KEY (entity_id, name_key),
	CHECK (name_key = lower(name))
);

-- Managed policies attached to users and roles; account_id is the entity's account, so that
-- an AWS managed policy's attachment count can be given per account.
CREATE TABLE iam_attachments (
	entity_id  TEXT NOT NULL,
	account_id TEXT NOT NULL,
	policy_arn TEXT NOT NULL REFERENCES iam_policies (arn),
	PRIMARY KEY (entity_id, policy_arn)
);
CREATE INDEX iam_attachments_policy ON iam_attachments (policy_arn, account_id);

-- Tags of users, roles and managed policies (entity_id is their ID). Keys are unique
-- case-insensitively; seq keeps the order they were added in.
CREATE TABLE iam_tags (
	entity_id TEXT NOT NULL,
	key_fold  TEXT NOT NULL,
	key       TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
	value     TEXT NOT NULL,
	seq       INTEGER NOT NULL,
	PRIMARY KEY (entity_id, key_fold)
);

-- AWS managed policies present in every installation.
INSERT INTO iam_policies (arn, id, account_id, name, name_key, path, description, default_version, last_version, created_at, updated_at) VALUES
	('arn:aws:iam::aws:policy/AdministratorAccess', 'ANPAY0MRU4NSSREEH1HXC', 'aws', 'AdministratorAccess', 'administratoraccess', '/',
	 'Provides full access to AWS services and resources.', 1, 1, 1423247986000000, 1423247986000000),
	('arn:aws:iam::aws:policy/ReadOnlyAccess', 'ANPACKMGR02AP2RNUPHZ3', 'aws', 'ReadOnlyAccess', 'readonlyaccess', '/',
	 'Provides read-only access to AWS services and resources.', 1, 1, 1423247988000000, 1423247988000000),
	('arn:aws:iam::aws:policy/IAMFullAccess', 'ANPAWPBF9UKY4NSN6IYAK', 'aws', 'IAMFullAccess', 'iamfullaccess', '/',
	 'Provides full access to IAM via the AWS Management Console.', 1, 1, 1423248038000000, 1423248038000000),
	('arn:aws:iam::aws:policy/IAMReadOnlyAccess', 'ANPA7X5PNPMPVQJT0RQWE', 'aws', 'IAMReadOnlyAccess', 'iamreadonlyaccess', '/',
	 'Provides read only access to IAM via the AWS Management Console.', 1, 1, 1423248039000000, 1423248039000000),
	('arn:aws:iam::aws:policy/service-role/AWSLicenseManagerConsumptionPolicy', 'ANPAVXY43V2VBRGM577M4', 'aws', 'AWSLicenseManagerConsumptionPolicy', 'awslicensemanagerconsumptionpolicy', '/service-role/',
	 'Provides permissions to allow access to the AWS License Manager API actions required to consume upon licenses that the user has entitlements.', 1, 1, 1628723880000000, 1628723880000000);

INSERT INTO iam_policy_versions (policy_arn, version, document, created_at) VALUES
	('arn:aws:iam::aws:policy/AdministratorAccess', 1,
	 '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}', 1423247986000000),
	('arn:aws:iam::aws:policy/ReadOnlyAccess', 1,
	 '{"Version":"2012-10-17","Statement":[{"Sid":"AllotReadOnly","Effect":"Allow","Action":["license-manager:Get*","license-manager:List*","iam:Get*","iam:List*","organizations:Describe*","organizations:List*","sts:GetCallerIdentity","cloudtrail:LookupEvents"],"Resource":"*"}]}', 1423247988000000),
	('arn:aws:iam::aws:policy/IAMFullAccess', 1,
	 '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]}', 1423248038000000),
	('arn:aws:iam::aws:policy/IAMReadOnlyAccess', 1,
	 '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}', 1423248039000000),
	('arn:aws:iam::aws:policy/service-role/AWSLicenseManagerConsumptionPolicy', 1,
	 '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["license-manager:CheckoutLicense","license-manager:CheckInLicense","license-manager:ExtendLicenseConsumption","license-manager:GetLicense"],"Resource":"*"}}', 1628723880000000);

-- +goose Down
DROP TABLE iam_tags;
DROP TABLE iam_attachments;
DROP TABLE iam_inline_policies;
DROP TABLE iam_policy_versions;
DROP TABLE iam_policies;
DROP TABLE iam_roles;
DROP TABLE iam_users;
