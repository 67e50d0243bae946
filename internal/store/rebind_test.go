package store

import "testing"

func TestRebind(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = $1 AND b = $2"},
		{"INSERT INTO t VALUES (?, 'a?b', ?)", "INSERT INTO t VALUES ($1, 'a?b', $2)"},
		{"SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"},
		{`SELECT "odd?col" FROM t WHERE x = ?`, `SELECT "odd?col" FROM t WHERE x = $1`},
		{"SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"},
		{"SELECT ? /* what? */, ?", "SELECT $1 /* what? */, $2"},
		{"SELECT 'unterminated ?", "SELECT 'unterminated ?"},
		{"SELECT ? -- trailing?", "SELECT $1 -- trailing?"},
		{"SELECT ? /* open?", "SELECT $1 /* open?"},
		{"SELECT a-b, ?/2", "SELECT a-b, $1/2"},
	}
	for _, tt := range tests {
		if got := Rebind(tt.in); got != tt.want {
			t.Errorf("Rebind(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSQLiteURI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/data/allot.db", "file:/data/allot.db?"},
		{"allot-data/allot.db", "file:allot-data/allot.db?"},
		{"/tmp/a b?c#d.db", "file:/tmp/a%20b%3Fc%23d.db?"},
		{"file:/x.db", "file:/x.db?"},
		{"file:/x.db?cache=private", "file:/x.db?cache=private&"},
	}
	for _, tt := range tests {
		if got := sqliteURI(tt.in); got != tt.want {
			t.Errorf("sqliteURI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
