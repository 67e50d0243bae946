package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// querier is what a Tx runs statements on: a transaction, or the read pool for single reads.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is a transaction handle, valid only inside the function given to Update or View. It is
// not safe for concurrent use. SQL uses `?` placeholders (rewritten to $n on PostgreSQL,
// skipping quoted strings); see the package documentation for the conventions.
type Tx struct {
	q     querier
	st    *txStmts // prepared statements (SQLite); nil runs every statement unprepared
	db    *DB
	now   time.Time
	write bool
	// usage is the SQLite writer's batch of entitlement counters this write runs in (see
	// usageBatch); nil when each counter change is written at once (PostgreSQL, reads).
	usage *usageBatch

	done    bool
	touched bool        // a statement may have changed configuration (see Generation)
	wrote   bool        // a statement may have written something
	rows    []*sql.Rows // closed when fn returns, so a forgotten Rows cannot block the batch
	failed  error       // first statement error: PostgreSQL aborts the transaction on it
}

var errTxDone = errors.New("store: transaction used after its function returned")

// finish closes what fn left open and invalidates tx.
func (tx *Tx) finish() {
	for _, r := range tx.rows {
		r.Close()
	}
	tx.rows, tx.done = nil, true
}

// ctx returns the context for a statement: inside Update, statements are not cancelled by the
// caller's context, because they share the transaction of other callers.
func (tx *Tx) ctx(ctx context.Context) context.Context {
	if tx.write {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (tx *Tx) noteErr(err error) {
	if err != nil && tx.failed == nil {
		tx.failed = err
	}
}

// Exec runs a statement. Unique violations are returned wrapping ErrConflict, other
// constraint violations wrapping ErrConstraint.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if tx.done {
		return nil, errTxDone
	}
	tx.note(query)
	cctx, query, args := tx.ctx(ctx), tx.db.rebind(query), convertArgs(args)
	var res sql.Result
	var err error
	if st := tx.st.get(cctx, query); st != nil {
		res, err = st.ExecContext(cctx, args...)
	} else {
		res, err = tx.q.ExecContext(cctx, query, args...)
	}
	if err != nil {
		tx.noteErr(err)
		return nil, tx.translate(err)
	}
	return res, nil
}

// Query runs a query. The rows are closed when the transaction's function returns at the
// latest; close them as soon as they are read: on PostgreSQL no other statement of the
// transaction can run while they are open.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if tx.done {
		return nil, errTxDone
	}
	tx.note(query)
	cctx, query, args := tx.ctx(ctx), tx.db.rebind(query), convertArgs(args)
	var rows *sql.Rows
	var err error
	if st := tx.st.get(cctx, query); st != nil {
		rows, err = st.QueryContext(cctx, args...)
	} else {
		rows, err = tx.q.QueryContext(cctx, query, args...)
	}
	if err != nil {
		tx.noteErr(err)
		return nil, tx.translate(err)
	}
	tx.rows = append(tx.rows, rows)
	return rows, nil
}

// QueryRow runs a query expected to return at most one row; its error is reported by Scan.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if tx.done {
		cctx, cancel := context.WithCancel(ctx)
		cancel() // a Row carrying context.Canceled, without touching the connection
		return tx.q.QueryRowContext(cctx, "SELECT 1")
	}
	tx.note(query)
	cctx, query, args := tx.ctx(ctx), tx.db.rebind(query), convertArgs(args)
	if st := tx.st.get(cctx, query); st != nil {
		return st.QueryRowContext(cctx, args...)
	}
	return tx.q.QueryRowContext(cctx, query, args...)
}

// txStmts hands out the prepared statements of one database transaction (or of single
// statements on the pool): each query's statement is bound to the transaction once and
// re-used for the rest of it. Not safe for concurrent use, as a transaction is not.
type txStmts struct {
	sqlTx *sql.Tx    // nil: statements run on the pool
	cache *stmtCache // nil: nothing is prepared (PostgreSQL, whose driver prepares itself)
	bound map[string]*sql.Stmt
}

// get returns the prepared statement of query, bound to the transaction, or nil when query
// is to run unprepared.
func (s *txStmts) get(ctx context.Context, query string) *sql.Stmt {
	if s == nil || s.cache == nil {
		return nil
	}
	if st := s.bound[query]; st != nil {
		return st
	}
	st := s.cache.get(query)
	if st == nil {
		return nil
	}
	if s.sqlTx != nil {
		st = s.sqlTx.StmtContext(ctx, st)
	}
	if s.bound == nil {
		s.bound = make(map[string]*sql.Stmt, 8)
	}
	s.bound[query] = st
	return st
}

// note records what a statement of a write transaction may change.
func (tx *Tx) note(query string) {
	if !tx.write || tx.touched {
		return
	}
	c := tx.db.classes.of(query)
	tx.wrote = tx.wrote || c.writes
	tx.touched = c.config
}

// Now returns the time of this Update or View call: one timestamp per call, UTC, at
// microsecond precision (the precision stored).
func (tx *Tx) Now() time.Time { return tx.now }

// Dialect returns "sqlite" or "postgres".
func (tx *Tx) Dialect() string { return tx.db.dialect }

// convertArgs converts time.Time arguments to their stored form, Unix microseconds.
func convertArgs(args []any) []any {
	var out []any
	for i, a := range args {
		if t, ok := a.(time.Time); ok {
			if out == nil {
				out = slices.Clone(args)
			}
			out[i] = t.UnixMicro()
		}
	}
	if out == nil {
		return args
	}
	return out
}

// ScanTime returns a Scanner that reads a stored time (Unix microseconds) into *dst, in UTC.
func ScanTime(dst *time.Time) sql.Scanner { return (*timeScanner)(dst) }

type timeScanner time.Time

func (s *timeScanner) Scan(v any) error {
	switch v := v.(type) {
	case int64:
		*s = timeScanner(time.UnixMicro(v).UTC())
	case nil:
		*s = timeScanner(time.Time{})
	default:
		return fmt.Errorf("store: scan time: unexpected %T", v)
	}
	return nil
}

// rebindCache holds PostgreSQL forms of queries; queries are string constants, so it stays small.
var rebindCache sync.Map

// rebind returns query with its placeholders in the dialect's form.
func (db *DB) rebind(query string) string {
	if db.dialect != DialectPostgres || !strings.Contains(query, "?") {
		return query
	}
	if q, ok := rebindCache.Load(query); ok {
		return q.(string)
	}
	q := Rebind(query)
	rebindCache.Store(query, q)
	return q
}

// Rebind returns query with each `?` placeholder replaced by $1, $2, … as PostgreSQL wants,
// leaving `?` inside quoted strings, quoted identifiers and comments alone.
func Rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(query) {
				if query[j] == c {
					if j+1 < len(query) && query[j+1] == c { // doubled quote: escaped
						j += 2
						continue
					}
					break
				}
				j++
			}
			end := min(j+1, len(query))
			b.WriteString(query[i:end])
			i = end - 1
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			b.WriteString(query[i : i+j])
			i += j - 1
		case c == '/' && i+1 < len(query) && query[i+1] == '*':
			j := strings.Index(query[i+2:], "*/")
			end := len(query)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(query[i:end])
			i = end - 1
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// translate is translate plus a hint for the error pgx gives a statement made while the rows
// of another are still open.
func (tx *Tx) translate(err error) error {
	if tx.db.dialect == DialectPostgres && errors.Is(err, driver.ErrBadConn) && len(tx.rows) > 0 {
		return fmt.Errorf("store: statement refused: close the rows of the previous query first (or the connection was lost): %w", err)
	}
	return translate(err)
}

// translate turns driver errors into the store's: unique violations wrap ErrConflict, other
// constraint violations ErrConstraint. Other errors are returned unchanged.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%w: %w", ErrConflict, err)
		default:
			return fmt.Errorf("%w: %w", ErrConstraint, err)
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %w", ErrConflict, err)
		case "23502", "23503", "23514", "23P01": // not_null, foreign_key, check, exclusion
			return fmt.Errorf("%w: %w", ErrConstraint, err)
		}
	}
	return err
}
