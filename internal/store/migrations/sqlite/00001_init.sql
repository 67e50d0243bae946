-- Times are Unix microseconds (UTC). Tables are STRICT so a value of the wrong type is refused
-- rather than stored. Constraints are the second line of defence behind the Go checks.

-- +goose Up
CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

CREATE TABLE accounts (
	id         TEXT PRIMARY KEY CHECK (length(id) = 12 AND id NOT GLOB '*[^0-9]*'),
	name       TEXT NOT NULL,
	email      TEXT NOT NULL DEFAULT '',
	status     TEXT NOT NULL CHECK (status <> ''),
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE access_keys (
	id            TEXT PRIMARY KEY CHECK (length(id) BETWEEN 16 AND 128),
	account_id    TEXT NOT NULL REFERENCES accounts (id),
	kind          TEXT NOT NULL CHECK (kind IN ('Root', 'IAMUser', 'AssumedRole')),
	user_name     TEXT NOT NULL DEFAULT '',
	secret_sealed TEXT NOT NULL CHECK (secret_sealed LIKE 'v1:%'),
	status        TEXT NOT NULL CHECK (status IN ('Active', 'Inactive')),
	created_at    INTEGER NOT NULL,
	CHECK (kind <> 'Root' OR user_name = ''),
	CHECK (kind <> 'IAMUser' OR user_name <> '')
) STRICT;
CREATE INDEX access_keys_account ON access_keys (account_id, user_name);

-- One chain per writer (process × writer index); records of a chain link by hash.
CREATE TABLE audit_chains (
	id         TEXT PRIMARY KEY,
	node_id    TEXT NOT NULL,
	writer     INTEGER NOT NULL CHECK (writer >= 0),
	started_at INTEGER NOT NULL
) STRICT;

CREATE TABLE audit_events (
	chain_id      TEXT NOT NULL REFERENCES audit_chains (id),
	seq           INTEGER NOT NULL CHECK (seq >= 1),
	prev_hash     TEXT NOT NULL CHECK (length(prev_hash) = 64),
	hash          TEXT NOT NULL CHECK (length(hash) = 64),
	event_id      TEXT NOT NULL UNIQUE,
	account_id    TEXT NOT NULL,
	event_time    INTEGER NOT NULL,
	event_name    TEXT NOT NULL,
	event_source  TEXT NOT NULL,
	username      TEXT NOT NULL,
	access_key_id TEXT NOT NULL,
	read_only     INTEGER NOT NULL CHECK (read_only IN (0, 1)),
	body          TEXT NOT NULL, -- the event as JSON, exactly as hashed
	PRIMARY KEY (chain_id, seq),
	CHECK (seq > 1 OR prev_hash = '0000000000000000000000000000000000000000000000000000000000000000')
) STRICT;
CREATE INDEX audit_events_account_time ON audit_events (account_id, event_time DESC, chain_id DESC, seq DESC);
CREATE INDEX audit_events_account_name ON audit_events (account_id, event_name, event_time DESC, chain_id DESC, seq DESC);
CREATE INDEX audit_events_account_user ON audit_events (account_id, username, event_time DESC, chain_id DESC, seq DESC);

-- The resources an event touched, in the event's order (idx), for ResourceType/ResourceName lookups.
CREATE TABLE audit_resources (
	chain_id   TEXT NOT NULL,
	seq        INTEGER NOT NULL,
	idx        INTEGER NOT NULL CHECK (idx >= 0),
	type       TEXT NOT NULL,
	name       TEXT NOT NULL,
	account_id TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (chain_id, seq, idx),
	FOREIGN KEY (chain_id, seq) REFERENCES audit_events (chain_id, seq)
) STRICT;
CREATE INDEX audit_resources_name ON audit_resources (name);

-- +goose Down
DROP TABLE audit_resources;
DROP TABLE audit_events;
DROP TABLE audit_chains;
DROP TABLE access_keys;
DROP TABLE accounts;
DROP TABLE settings;
