package store

import "testing"

func TestChangesConfig(t *testing.T) {
	for _, c := range []struct {
		query string
		want  bool
	}{
		{`SELECT value FROM settings WHERE key = ?`, false},
		{`SELECT remaining FROM licenses WHERE arn = ? FOR UPDATE`, false},
		{"SAVEPOINT request", false},
		{"PRAGMA data_version", false},
		{`INSERT INTO audit_events (chain_id) VALUES (?)`, false},
		{"\n\t\tUPDATE license_entitlement_usage SET consumed = consumed + ?", false},
		{`UPDATE license_checkouts SET status = ? WHERE token = ? RETURNING license_arn`, false},
		{`INSERT INTO license_checkouts (token) VALUES (?) ON CONFLICT DO NOTHING`, false},
		{`DELETE FROM sessions WHERE expires_at < ?`, false},
		{`-- a comment
		INSERT INTO "sessions" (access_key_id) VALUES (?)`, false},
		{`INSERT INTO settings (key, value) VALUES (?, ?)`, true},
		{`INSERT OR IGNORE INTO iam_inline_policies (entity_id) VALUES (?)`, true},
		{`UPDATE access_keys SET status = ? WHERE id = ?`, true},
		{`UPDATE OR ROLLBACK iam_roles SET description = ?`, true},
		{`DELETE FROM license_grants WHERE arn = ?`, true},
		{`/* c */ DELETE FROM org_accounts WHERE account_id = ?`, true},
		{`REPLACE INTO licenses (arn) VALUES (?)`, true},
		{`WITH u AS (UPDATE license_entitlement_usage SET consumed = 1) SELECT 1`, true},
		{`CREATE TABLE bench (id BIGINT)`, true},
		{`INSERT INTO public.licenses (arn) VALUES (?)`, true},
		{`INSERT INTO public.audit_events (chain_id) VALUES (?)`, false},
		{`UPDATE iam_roles SET last_used_at = ?, last_used_region = ? WHERE account_id = ? AND name_key = ?`, false},
		{`UPDATE iam_roles SET description = ?, last_used_at = ? WHERE id = ?`, true},
	} {
		if got := changesConfig(c.query); got != c.want {
			t.Errorf("changesConfig(%q) = %v, want %v", c.query, got, c.want)
		}
	}
}
