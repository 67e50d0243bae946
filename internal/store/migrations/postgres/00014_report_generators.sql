-- Report generators (License Manager's usage reports): what each reports on, how often, when
-- it runs next and how its last run went; and their tags. Times are Unix microseconds (UTC).

-- +goose Up
-- One row per report generator. A run is claimed by one conditional UPDATE,
--   UPDATE … SET runs = runs + 1, next_run_at = <now + lease> WHERE arn = ? AND next_run_at <= <now>
-- so of several servers sharing the database only one runs a due report (under READ
-- COMMITTED the second UPDATE waits for the first and then no longer matches); finishing the
-- run sets next_run_at to the next scheduled time (NULL for a ONE_TIME generator) unless the
-- generator was updated meanwhile (version changed), which asked for a new run already.
CREATE TABLE report_generators (
	arn             TEXT PRIMARY KEY CHECK (arn ~ '^arn:aws:license-manager:[a-z0-9-]+:[0-9]{12}:report-generator:r-[0-9a-f]{32}$'),
	id              TEXT NOT NULL UNIQUE,
	account_id      TEXT NOT NULL REFERENCES accounts (id),
	region          TEXT NOT NULL,
	name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	description     TEXT NOT NULL,
	report_types    TEXT NOT NULL, -- JSON array of ReportType values
	config_arns     TEXT NOT NULL, -- JSON array: ReportContext.licenseConfigurationArns
	report_start    BIGINT,        -- ReportContext.reportStartDate; NULL when not sent
	report_end      BIGINT,        -- ReportContext.reportEndDate; NULL when not sent
	period          TEXT NOT NULL CHECK (period IN ('DAY', 'WEEK', 'MONTH', 'ONE_TIME')),
	frequency_value BIGINT NOT NULL CHECK (frequency_value >= 1),
	client_token    TEXT NOT NULL, -- CreateLicenseManagerReportGenerator's ClientToken
	create_digest   TEXT NOT NULL, -- digest of the create call's parameters, for its retries
	update_token    TEXT NOT NULL DEFAULT '', -- the last UpdateLicenseManagerReportGenerator's ClientToken
	update_digest   TEXT NOT NULL DEFAULT '', -- digest of that call's parameters, for its retries
	version         BIGINT NOT NULL DEFAULT 1, -- counts changes of the definition
	bucket          TEXT NOT NULL, -- S3Location.bucket: the bucket reports go to
	scheduled_from  BIGINT NOT NULL, -- runs are due at this time plus whole periods
	next_run_at     BIGINT, -- NULL: no run is due (a ONE_TIME generator that ran)
	runs            BIGINT NOT NULL DEFAULT 0 CHECK (runs >= 0), -- runs claimed so far
	last_run_status TEXT NOT NULL DEFAULT '' CHECK (last_run_status IN ('', 'SUCCESS', 'FAILED')), -- '': never ran
	last_run_reason TEXT NOT NULL DEFAULT '', -- LastRunFailureReason
	last_run_at     BIGINT, -- LastReportGenerationTime
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL
);
CREATE INDEX report_generators_account ON report_generators (account_id, region, arn);
CREATE UNIQUE INDEX report_generators_client_token ON report_generators (account_id, region, client_token);
CREATE INDEX report_generators_due ON report_generators (next_run_at) WHERE next_run_at IS NOT NULL;

-- Tags of report generators; keys are case-sensitive; seq keeps the order they were first
-- added in.
CREATE TABLE report_generator_tags (
	arn   TEXT NOT NULL REFERENCES report_generators (arn),
	key   TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
	value TEXT NOT NULL,
	seq   BIGINT NOT NULL,
	PRIMARY KEY (arn, key)
);

-- +goose Down
DROP TABLE report_generator_tags;
DROP TABLE report_generators;
