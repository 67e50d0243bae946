-- The indexes every checkout and every audited request writes (docs/performance.md, "Where
-- the targets are missed"). Each serves a query that would otherwise read a whole account's
-- audit trail or every checkout, so none is dropped:
--   audit_events, primary key (chain_id, seq): a writer's chain head, allot audit verify, the
--     resources' foreign key; event_id UNIQUE: LookupEvents by EventId (both are part of the
--     table: dropping one means copying the whole trail);
--   audit_events_account_time / _name / _user: LookupEvents newest first, with no attribute
--     (or one that filters, such as EventSource), by EventName, by Username;
--   license_checkouts, primary key (token): check-in, extension; _client_token (unique):
--     ClientToken retries; _license: a license's expired checkouts (its usage, and the reclaim
--     a full license runs before refusing); _expiry: the reclaimer across licenses; _ended:
--     the purge a day after a checkout ends.
--
-- The three audit indexes were declared newest first (event_time DESC, …): every new event
-- went to the start of its account's range, where B-trees split pages in two and leave them
-- half full. Declared ascending they grow at their end; LookupEvents reads them backwards.
--
-- A statement on one checkout (check-in, extension) must find it by its token. PostgreSQL
-- planned the check-in on the partial index of a license's open checkouts, filtered by token,
-- when its statistics saw few ACTIVE rows (or none, on a new database), reading every checkout
-- made since the last vacuum; or on the ClientToken index through account_id alone, reading
-- every checkout of the account. The open-checkout indexes now also require ended_at IS NULL
-- (true of every ACTIVE checkout), which only the reclaim and usage queries state, and the
-- ClientToken index starts with client_token.
--
-- Rebuilding these indexes reads audit_events and license_checkouts once.

-- +goose Up
DROP INDEX audit_events_account_time;
DROP INDEX audit_events_account_name;
DROP INDEX audit_events_account_user;
CREATE INDEX audit_events_account_time ON audit_events (account_id, event_time, chain_id, seq);
CREATE INDEX audit_events_account_name ON audit_events (account_id, event_name, event_time, chain_id, seq);
CREATE INDEX audit_events_account_user ON audit_events (account_id, username, event_time, chain_id, seq);
DROP INDEX license_checkouts_expiry;
DROP INDEX license_checkouts_license;
CREATE INDEX license_checkouts_expiry ON license_checkouts (expires_at) WHERE status = 'ACTIVE' AND ended_at IS NULL;
CREATE INDEX license_checkouts_license ON license_checkouts (license_arn, expires_at) WHERE status = 'ACTIVE' AND ended_at IS NULL;
DROP INDEX license_checkouts_client_token;
CREATE UNIQUE INDEX license_checkouts_client_token ON license_checkouts (client_token, account_id);

-- +goose Down
DROP INDEX audit_events_account_time;
DROP INDEX audit_events_account_name;
DROP INDEX audit_events_account_user;
CREATE INDEX audit_events_account_time ON audit_events (account_id, event_time DESC, chain_id DESC, seq DESC);
CREATE INDEX audit_events_account_name ON audit_events (account_id, event_name, event_time DESC, chain_id DESC, seq DESC);
CREATE INDEX audit_events_account_user ON audit_events (account_id, username, event_time DESC, chain_id DESC, seq DESC);
DROP INDEX license_checkouts_expiry;
DROP INDEX license_checkouts_license;
CREATE INDEX license_checkouts_expiry ON license_checkouts (expires_at) WHERE status = 'ACTIVE';
CREATE INDEX license_checkouts_license ON license_checkouts (license_arn, expires_at) WHERE status = 'ACTIVE';
DROP INDEX license_checkouts_client_token;
CREATE UNIQUE INDEX license_checkouts_client_token ON license_checkouts (account_id, client_token);
