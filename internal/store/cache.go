package store

import (
	"context"
	"strings"
	"sync"
	"time"
)

// DefaultCacheTTL is how long a Cache entry is used at most (Options.CacheTTL).
const DefaultCacheTTL = time.Second

// Generation returns the database's configuration generation: a number that changes when
// this process commits a write to a table of configuration (identities and their keys,
// policies, organizations, licenses, grants, issuer keys: every table but the volatile ones,
// see volatileTables), and, on SQLite, when the writer sees that another process committed
// anything. It changes after the COMMIT and before the writing request is answered. Caches
// derived from configuration tag their entries with it (see Cache).
func (db *DB) Generation() uint64 { return db.gen.Load() }

// volatileTables are the tables written on the hot path that no Cache derives anything
// from: writes to them leave Generation alone. A write to any other table, or a statement the
// store cannot classify, changes it, so that a table added later is safe by default.
var volatileTables = map[string]bool{
	"audit_events":                true,
	"audit_resources":             true,
	"audit_chains":                true,
	"license_checkouts":           true,
	"license_entitlement_usage":   true,
	"license_client_tokens":       true,
	"license_tokens":              true,
	"sessions":                    true, // new sessions are new keys; expired ones are purged
	"inventory_resources":         true,
	"license_configuration_usage": true,
}

// writeClass caches, per query text, what a statement may change.
type writeClass struct{ m sync.Map } // query → stmtClass

// stmtClass is what a statement may change.
type stmtClass struct {
	writes bool // anything (it is not a plain read)
	config bool // a table of configuration (see Generation)
}

func (c *writeClass) of(query string) stmtClass {
	if v, ok := c.m.Load(query); ok {
		return v.(stmtClass)
	}
	v := stmtClass{writes: writes(query), config: changesConfig(query)}
	c.m.Store(query, v)
	return v
}

// writes reports whether a statement may write anything: all do but plain reads.
func writes(query string) bool {
	words := sqlWords(query, 1)
	if len(words) == 0 {
		return false
	}
	switch words[0] {
	case "select", "pragma", "values", "show":
		return false
	}
	return true
}

// changesConfig reports whether a statement may write a table outside volatileTables.
// Reads (SELECT, also with FOR UPDATE) and savepoints change nothing; INSERT, UPDATE, DELETE
// and REPLACE change the table they name; anything else (WITH, DDL, …) counts as a change.
func changesConfig(query string) bool {
	words := sqlWords(query, 6)
	if len(words) == 0 {
		return false
	}
	table := ""
	switch words[0] {
	case "select", "savepoint", "release", "rollback", "pragma", "values", "show", "set":
		return false
	case "insert", "replace":
		// INSERT [OR …] INTO t, REPLACE INTO t
		for i, w := range words {
			if w == "into" && i+1 < len(words) {
				table = words[i+1]
				break
			}
		}
	case "update":
		// UPDATE [OR …] t
		table = words[min(1, len(words)-1)]
		if table == "or" && len(words) > 3 {
			table = words[3]
		}
		if setsOnlyUsage(query) {
			return false
		}
	case "delete":
		if len(words) > 2 && words[1] == "from" {
			table = words[2]
		}
	}
	if table == "" {
		return true
	}
	if i := strings.LastIndexByte(table, '.'); i >= 0 {
		table = table[i+1:]
	}
	return !volatileTables[strings.Trim(table, `"`+"`")]
}

// setsOnlyUsage reports whether an UPDATE sets only last_used… columns (a role's or a key's
// last use), which nothing cached derives from.
func setsOnlyUsage(query string) bool {
	q := strings.Join(strings.Fields(strings.ToLower(query)), " ")
	i := strings.Index(q, " set ")
	if i < 0 {
		return false
	}
	set := q[i+5:]
	if j := strings.Index(set, " where "); j >= 0 {
		set = set[:j]
	}
	for _, a := range strings.Split(set, ",") {
		col, _, ok := strings.Cut(a, "=")
		if !ok || !strings.HasPrefix(strings.TrimSpace(col), "last_used") {
			return false
		}
	}
	return true
}

// sqlWords returns the first n words of a statement in lower case, skipping comments; a word
// ends at white space or "(".
func sqlWords(q string, n int) []string {
	var out []string
	for i := 0; i < len(q) && len(out) < n; {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ',' || c == ';':
			i++
		case c == '-' && strings.HasPrefix(q[i:], "--"):
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				return out
			}
			i += j
		case c == '/' && strings.HasPrefix(q[i:], "/*"):
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				return out
			}
			i += j + 4
		default:
			j := i
			for j < len(q) && !strings.ContainsRune(" \t\n\r(,;", rune(q[j])) {
				j++
			}
			out = append(out, strings.ToLower(q[i:j]))
			i = j
		}
	}
	return out
}

// Cache keeps values derived from the database's configuration (a principal's policies, an
// account's organization, the licenses a query reaches) for a short time. An entry is used
// only while Generation is what it was before the entry was read, and for at most the
// database's CacheTTL: a change committed through this process is seen at once by the next
// request, and one committed elsewhere (another node on PostgreSQL, or an operator command
// on SQLite while no write wakes the writer) within the TTL. Values must not be modified
// once stored. Safe for concurrent use; the zero value is not usable (see NewCache).
type Cache[K comparable, V any] struct {
	db  *DB
	max int

	mu sync.RWMutex
	m  map[K]cacheEntry[V]
}

type cacheEntry[V any] struct {
	v   V
	gen uint64
	at  time.Time
}

// NewCache returns a cache over db that holds at most max entries (it empties itself when
// full).
func NewCache[K comparable, V any](db *DB, max int) *Cache[K, V] {
	return &Cache[K, V]{db: db, max: max, m: make(map[K]cacheEntry[V])}
}

// Get returns the value of k, from the cache when a valid entry exists, otherwise from load
// (whose errors are returned, and not cached).
func (c *Cache[K, V]) Get(ctx context.Context, k K, load func(context.Context) (V, error)) (V, error) {
	gen, now := c.db.Generation(), time.Now()
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if ok && e.gen == gen && now.Sub(e.at) < c.db.cacheTTL {
		return e.v, nil
	}
	v, err := load(ctx)
	if err != nil || c.db.cacheTTL <= 0 {
		return v, err
	}
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[k] = cacheEntry[V]{v: v, gen: gen, at: now}
	c.mu.Unlock()
	return v, nil
}
