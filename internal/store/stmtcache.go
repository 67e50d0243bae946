package store

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStatements bounds a statement cache. Queries are string constants, so a server
// uses a few hundred at most; the bound only matters against queries built with varying
// text (IN lists of varying length), which past it run unprepared.
const maxCachedStatements = 1024

// stmtCache keeps a prepared statement per query for one SQLite pool. Parsing a statement
// costs SQLite more than running a point query, and the driver prepares every statement it
// is given afresh, so the store prepares each query once and lets database/sql keep it
// prepared on each connection it runs on (Tx.StmtContext re-uses or prepares it there).
// PostgreSQL needs none: pgx caches prepared statements per connection itself.
//
// A query seen for the first time runs unprepared and is prepared in the background, on a
// connection of the pool when one is free: preparing it at once could wait for a connection
// that the caller's own transaction holds. Safe for concurrent use.
type stmtCache struct {
	db *sql.DB

	mu      sync.RWMutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool // being prepared
	failed  map[string]bool // could not be prepared: run unprepared
	closed  bool
	wg      sync.WaitGroup
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, pending: map[string]bool{}, failed: map[string]bool{}}
}

// get returns the prepared statement of query, or nil when it is not prepared yet (it then
// is prepared in the background) or the cache is full.
func (c *stmtCache) get(query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	st := c.stmts[query]
	c.mu.RUnlock()
	if st != nil {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stmts[query]; st != nil {
		return st
	}
	if c.closed || c.pending[query] || c.failed[query] || len(c.stmts)+len(c.pending)+len(c.failed) >= maxCachedStatements {
		return nil
	}
	c.pending[query] = true
	c.wg.Go(func() { c.prepare(query) })
	return nil
}

// add prepares query now and keeps it; for statements known before the pool is in use.
func (c *stmtCache) add(ctx context.Context, query string) error {
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.stmts[query] = st
	c.mu.Unlock()
	return nil
}

func (c *stmtCache) prepare(query string) {
	st, err := c.db.PrepareContext(context.Background(), query)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, query)
	switch {
	case err != nil:
		// Not a statement SQLite can prepare on its own (or the pool closed): it keeps
		// running unprepared, and reports its error when it does.
		c.failed[query] = true
	case c.closed:
		st.Close()
	default:
		c.stmts[query] = st
	}
}

// close waits for background preparations and closes every statement.
func (c *stmtCache) close() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	clear(c.stmts)
}
