-- Delivery of license configuration alerts to the SNS topic set with UpdateServiceSettings
-- (which Allot maps to HTTP webhooks: see docs/self-managed.md). An alert is recorded with
-- the topic it is for, in the transaction that raises it; a background deliverer posts it
-- after that commits and marks it delivered. Times are Unix microseconds (UTC).

-- +goose Up
ALTER TABLE license_configuration_alerts ADD COLUMN topic_arn TEXT NOT NULL DEFAULT ''; -- '': none set
ALTER TABLE license_configuration_alerts ADD COLUMN delivery_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE license_configuration_alerts ADD COLUMN next_delivery_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE license_configuration_alerts ADD COLUMN delivered_at BIGINT; -- NULL: pending
CREATE INDEX license_configuration_alerts_pending ON license_configuration_alerts (next_delivery_at)
	WHERE topic_arn <> '' AND delivered_at IS NULL;

-- +goose Down
DROP INDEX license_configuration_alerts_pending;
ALTER TABLE license_configuration_alerts DROP COLUMN delivered_at;
ALTER TABLE license_configuration_alerts DROP COLUMN next_delivery_at;
ALTER TABLE license_configuration_alerts DROP COLUMN delivery_attempts;
ALTER TABLE license_configuration_alerts DROP COLUMN topic_arn;
