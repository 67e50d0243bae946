-- AWS Organizations: organizations with their root, organizational units, member accounts,
-- policies (service control policies) and their attachments, trusted service access, create
-- account requests and tags; the deletion tasks of IAM service-linked roles; the AWS managed
-- policies of License Manager's service-linked roles. Times are Unix microseconds (UTC) in BIGINT columns.

-- +goose Up
CREATE TABLE org_organizations (
	id                 TEXT PRIMARY KEY CHECK (id ~ '^o-[a-z0-9]{10,32}$'),
	management_account TEXT NOT NULL UNIQUE REFERENCES accounts (id),
	feature_set        TEXT NOT NULL CHECK (feature_set IN ('ALL', 'CONSOLIDATED_BILLING')),
	root_id            TEXT NOT NULL UNIQUE CHECK (root_id ~ '^r-[0-9a-z]{4,32}$'),
	created_at         BIGINT NOT NULL
);

-- The policy types enabled on an organization's root.
CREATE TABLE org_policy_types (
	org_id     TEXT NOT NULL REFERENCES org_organizations (id),
	type       TEXT NOT NULL CHECK (type <> ''),
	enabled_at BIGINT NOT NULL,
	PRIMARY KEY (org_id, type)
);

-- Organizational units; parent_id is the root's ID or another OU's.
CREATE TABLE org_units (
	id         TEXT PRIMARY KEY CHECK (id LIKE 'ou-%'),
	org_id     TEXT NOT NULL REFERENCES org_organizations (id),
	parent_id  TEXT NOT NULL,
	name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
	created_at BIGINT NOT NULL,
	UNIQUE (parent_id, name)
);
CREATE INDEX org_units_org ON org_units (org_id, parent_id, id);

-- The accounts of each organization, the management account included; an account belongs to
-- at most one organization.
CREATE TABLE org_accounts (
	account_id    TEXT PRIMARY KEY REFERENCES accounts (id),
	org_id        TEXT NOT NULL REFERENCES org_organizations (id),
	parent_id     TEXT NOT NULL,
	joined_method TEXT NOT NULL CHECK (joined_method IN ('INVITED', 'CREATED')),
	joined_at     BIGINT NOT NULL
);
CREATE INDEX org_accounts_parent ON org_accounts (org_id, parent_id, account_id);

-- Organization policies; org_id is 'aws' for AWS managed policies, which every organization sees.
CREATE TABLE org_policies (
	id          TEXT PRIMARY KEY CHECK (id LIKE 'p-%'),
	org_id      TEXT NOT NULL,
	type        TEXT NOT NULL CHECK (type <> ''),
	name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
	description TEXT NOT NULL DEFAULT '',
	content     TEXT NOT NULL CHECK (content <> ''),
	created_at  BIGINT NOT NULL,
	UNIQUE (org_id, name)
);
CREATE INDEX org_policies_type ON org_policies (org_id, type, name, id);

-- Policies attached to roots, OUs and accounts (target_id); org_id names the organization, as
-- AWS managed policies are shared.
CREATE TABLE org_policy_attachments (
	org_id      TEXT NOT NULL REFERENCES org_organizations (id),
	target_id   TEXT NOT NULL,
	policy_id   TEXT NOT NULL REFERENCES org_policies (id),
	attached_at BIGINT NOT NULL,
	PRIMARY KEY (org_id, target_id, policy_id)
);
CREATE INDEX org_policy_attachments_policy ON org_policy_attachments (org_id, policy_id, target_id);

-- Service principals with trusted access to an organization.
CREATE TABLE org_service_access (
	org_id            TEXT NOT NULL REFERENCES org_organizations (id),
	service_principal TEXT NOT NULL CHECK (length(service_principal) BETWEEN 1 AND 128),
	enabled_at        BIGINT NOT NULL,
	PRIMARY KEY (org_id, service_principal)
);

-- CreateAccount requests and their outcome.
CREATE TABLE org_create_account_requests (
	id             TEXT PRIMARY KEY CHECK (id LIKE 'car-%'),
	org_id         TEXT NOT NULL REFERENCES org_organizations (id),
	account_name   TEXT NOT NULL,
	state          TEXT NOT NULL CHECK (state IN ('IN_PROGRESS', 'SUCCEEDED', 'FAILED')),
	account_id     TEXT NOT NULL DEFAULT '',
	failure_reason TEXT NOT NULL DEFAULT '',
	requested_at   BIGINT NOT NULL,
	completed_at   BIGINT NOT NULL DEFAULT 0, -- 0: not completed
	CHECK (state <> 'SUCCEEDED' OR account_id <> ''),
	CHECK (state <> 'FAILED' OR failure_reason <> '')
);
CREATE INDEX org_create_account_requests_org ON org_create_account_requests (org_id, requested_at, id);

-- Tags of accounts, OUs, roots and policies (by ID); keys are case-sensitive, seq keeps the order
-- they were added in.
CREATE TABLE org_tags (
	resource_id TEXT NOT NULL,
	key         TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
	value       TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	PRIMARY KEY (resource_id, key)
);

-- An email address names one account.
CREATE UNIQUE INDEX accounts_email ON accounts (lower(email)) WHERE email <> '';

-- The deletion tasks of service-linked roles (DeleteServiceLinkedRole).
CREATE TABLE iam_slr_deletion_tasks (
	id         TEXT PRIMARY KEY,
	account_id TEXT NOT NULL REFERENCES accounts (id),
	role_name  TEXT NOT NULL,
	status     TEXT NOT NULL CHECK (status IN ('SUCCEEDED', 'IN_PROGRESS', 'FAILED', 'NOT_STARTED')),
	reason     TEXT NOT NULL DEFAULT '',
	resources  TEXT NOT NULL DEFAULT '[]', -- JSON array of the ARNs that use the role
	created_at BIGINT NOT NULL,
	CHECK (status <> 'FAILED' OR reason <> '')
);

-- AWS managed policies.
INSERT INTO org_policies (id, org_id, type, name, description, content, created_at) VALUES
	('p-FullAWSAccess', 'aws', 'SERVICE_CONTROL_POLICY', 'FullAWSAccess', 'Allows access to every operation',
	 '{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "*",
      "Resource": "*"
    }
  ]
}', 1484611200000000);

INSERT INTO iam_policies (arn, id, account_id, name, name_key, path, description, default_version, last_version, created_at, updated_at) VALUES
	('arn:aws:iam::aws:policy/aws-service-role/AWSLicenseManagerServiceRolePolicy', 'ANPAUJZDE8GXD6NCF10EP', 'aws',
	 'AWSLicenseManagerServiceRolePolicy', 'awslicensemanagerservicerolepolicy', '/aws-service-role/',
	 'Service Linked Role Policy for AWS License Manager', 1, 1, 1543363200000000, 1543363200000000),
	('arn:aws:iam::aws:policy/aws-service-role/AWSLicenseManagerMasterAccountRolePolicy', 'ANPAF91DHODZDOC9IS0J8', 'aws',
	 'AWSLicenseManagerMasterAccountRolePolicy', 'awslicensemanagermasteraccountrolepolicy', '/aws-service-role/',
	 'AWS License Manager Master Account Role Policy', 1, 1, 1543363200000000, 1543363200000000),
	('arn:aws:iam::aws:policy/aws-service-role/AWSLicenseManagerMemberAccountRolePolicy', 'ANPAHT9LGMXG9EDN581U3', 'aws',
	 'AWSLicenseManagerMemberAccountRolePolicy', 'awslicensemanagermemberaccountrolepolicy', '/aws-service-role/',
	 'AWS License Manager Member Account Role Policy', 1, 1, 1543363200000000, 1543363200000000);

-- The permissions seed 001 lists for the three roles (its typos "s3>", "ssm>", "ram>" and
-- "arn:aws:s3::" corrected as its bullet lists have them).
INSERT INTO iam_policy_versions (policy_arn, version, document, created_at) VALUES
	('arn:aws:iam::aws:policy/aws-service-role/AWSLicenseManagerServiceRolePolicy', 1,
	 '{"Version":"2012-10-17","Statement":[{"Sid":"S3BucketPermissions","Effect":"Allow","Action":["s3:GetBucketLocation","s3:ListBucket"],"Resource":["arn:aws:s3:::aws-license-manager-service-*"]},{"Sid":"S3ObjectPermissions","Effect":"Allow","Action":["s3:PutObject"],"Resource":["arn:aws:s3:::aws-license-manager-service-*"]},{"Sid":"SNSAccountPermissions","Effect":"Allow","Action":["sns:Publish"],"Resource":["arn:aws:sns:*:*:aws-license-manager-service-*"]},{"Sid":"SNSTopicPermissions","Effect":"Allow","Action":["sns:ListTopics"],"Resource":["*"]},{"Sid":"EC2Permissions","Effect":"Allow","Action":["ec2:DescribeInstances","ec2:DescribeImages","ec2:DescribeHosts"],"Resource":["*"]},{"Sid":"SSMPermissions","Effect":"Allow","Action":["ssm:ListInventoryEntries","ssm:GetInventory","ssm:CreateAssociation"],"Resource":["*"]},{"Sid":"OrganizationPermissions","Effect":"Allow","Action":["organizations:ListAWSServiceAccessForOrganization","organizations:DescribeOrganization"],"Resource":["*"]}]}',
	 1543363200000000),
	('arn:aws:iam::aws:policy/aws-service-role/AWSLicenseManagerMasterAccountRolePolicy', 1,
	 '{"Version":"2012-10-17","Statement":[{"Sid":"S3BucketPermissions","Effect":"Allow","Action":["s3:GetBucketLocation","s3:ListBucket","s3:GetLifecycleConfiguration","s3:PutLifecycleConfiguration","s3:GetBucketPolicy","s3:PutBucketPolicy"],"Resource":["arn:aws:s3:::aws-license-manager-service-*"]},{"Sid":"S3ObjectPermissions1","Effect":"Allow","Action":["s3:AbortMultipartUpload","s3:PutObject","s3:GetObject","s3:ListBucketMultipartUploads","s3:ListMultipartUploadParts"],"Resource":["arn:aws:s3:::aws-license-manager-service-*"]},{"Sid":"S3ObjectPermissions2","Effect":"Allow","Action":["s3:DeleteObject"],"Resource":["arn:aws:s3:::aws-license-manager-service-*/resource_sync/*"]},{"Sid":"AthenaPermissions","Effect":"Allow","Action":["athena:GetQueryExecution","athena:GetQueryResults","athena:StartQueryExecution"],"Resource":["*"]},{"Sid":"GluePermissions","Effect":"Allow","Action":["glue:GetTable","glue:GetPartition","glue:GetPartitions"],"Resource":["*"]},{"Sid":"OrganizationPermissions","Effect":"Allow","Action":["organizations:DescribeOrganization","organizations:ListAccounts","organizations:DescribeAccount","organizations:ListChildren","organizations:ListParents","organizations:ListAccountsForParent","organizations:ListRoots","organizations:ListAWSServiceAccessForOrganization"],"Resource":["*"]},{"Sid":"RAMPermissions1","Effect":"Allow","Action":["ram:GetResourceShares","ram:GetResourceShareAssociations","ram:TagResource"],"Resource":["*"]},{"Sid":"RAMPermissions2","Effect":"Allow","Action":["ram:CreateResourceShare"],"Resource":["*"],"Condition":{"StringEquals":{"aws:RequestTag/Service":"LicenseManager"}}},{"Sid":"RAMPermissions3","Effect":"Allow","Action":["ram:AssociateResourceShare","ram:DisassociateResourceShare","ram:UpdateResourceShare","ram:DeleteResourceShare"],"Resource":["*"],"Condition":{"StringEquals":{"ram:ResourceTag/Service":"LicenseManager"}}}]}',
	 1543363200000000),
	('arn:aws:iam::aws:policy/aws-service-role/AWSLicenseManagerMemberAccountRolePolicy', 1,
	 '{"Version":"2012-10-17","Statement":[{"Sid":"LicenseManagerPermissions","Effect":"Allow","Action":["license-manager:UpdateLicenseSpecificationsForResource"],"Resource":["*"]},{"Sid":"SSMPermissions","Effect":"Allow","Action":["ssm:ListInventoryEntries","ssm:GetInventory","ssm:CreateAssociation","ssm:CreateResourceDataSync","ssm:DeleteResourceDataSync","ssm:ListResourceDataSync","ssm:ListAssociations"],"Resource":["*"]},{"Sid":"RAMPermissions","Effect":"Allow","Action":["ram:AcceptResourceShareInvitation","ram:GetResourceShareInvitations"],"Resource":["*"]}]}',
	 1543363200000000);

-- +goose Down
DELETE FROM iam_attachments WHERE policy_arn LIKE 'arn:aws:iam::aws:policy/aws-service-role/AWSLicenseManager%';
DELETE FROM iam_policy_versions WHERE policy_arn LIKE 'arn:aws:iam::aws:policy/aws-service-role/AWSLicenseManager%';
DELETE FROM iam_policies WHERE arn LIKE 'arn:aws:iam::aws:policy/aws-service-role/AWSLicenseManager%';
DROP TABLE iam_slr_deletion_tasks;
DROP INDEX accounts_email;
DROP TABLE org_tags;
DROP TABLE org_create_account_requests;
DROP TABLE org_service_access;
DROP TABLE org_policy_attachments;
DROP TABLE org_policies;
DROP TABLE org_accounts;
DROP TABLE org_units;
DROP TABLE org_policy_types;
DROP TABLE org_organizations;
