// Package store keeps Allot's state in SQLite (the embedded default) or PostgreSQL (several
// stateless nodes sharing one database) behind one API and one set of SQL statements.
//
// Writes go through group-commit writers: Update hands its function to a writer goroutine
// that runs the functions of concurrent callers in one transaction, each isolated by a
// savepoint, and answers them all after one durable COMMIT. Each writer appends the audit
// events of the changes it commits to its own hash chain, in the same transaction.
//
// SQL conventions, shared by both dialects:
//   - Placeholders are `?`; on PostgreSQL they are rewritten to $1, $2, … (outside quoted
//     strings, quoted identifiers and comments).
//   - Times are stored as BIGINT Unix microseconds (UTC). A time.Time argument is converted to
//     that form; read one back with ScanTime.
//   - Booleans are BOOLEAN on PostgreSQL and INTEGER 0/1 on SQLite; pass and scan Go bools.
//   - On PostgreSQL a failed statement aborts the rest of the transaction: a function given to
//     Update that meets a statement error must return an error. The store's own methods
//     avoid this by using INSERT … ON CONFLICT DO NOTHING for their conflicts.
package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "modernc.org/sqlite"             // driver "sqlite"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/secrets"
)

// Dialects, as Dialect reports them.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Errors returned by the store, wrapped with context; match them with errors.Is.
var (
	ErrNotFound       = errors.New("store: not found")
	ErrConflict       = errors.New("store: already exists")
	ErrWrongMasterKey = errors.New("store: master key does not match this database")
	// ErrConstraint reports a value refused by a CHECK, NOT NULL or FOREIGN KEY constraint.
	ErrConstraint = errors.New("store: constraint violated")
	// ErrClosed is returned by Update after Close.
	ErrClosed = errors.New("store: closed")
	// ErrReadOnly is returned by Update and Migrate on a database opened with Options.ReadOnly.
	ErrReadOnly = errors.New("store: opened read-only")
)

// Defaults for Options.
const (
	DefaultWriters  = 4
	DefaultMaxBatch = 128
	// postgresReadConns is the PostgreSQL pool size left for reads beside the writers' connections.
	postgresReadConns = 16
)

// Options configure Open.
type Options struct {
	Box      *secrets.Box     // required
	Logger   *slog.Logger     // nil → slog.Default()
	Now      func() time.Time // nil → time.Now
	Writers  int              // PostgreSQL: group-commit writers in this process (default 4); SQLite: always 1
	MaxBatch int              // max requests per transaction (default 128); 1 disables group commit (for benchmarks)
	NodeID   string           // names this process in audit chains; default the host name and a random suffix
	// CacheTTL is how long a Cache entry may be used (default DefaultCacheTTL; negative: no
	// caching). It bounds how long a change committed by another process goes unseen.
	CacheTTL time.Duration
	// ReadOnly opens an existing database for reading only (e.g. allot audit verify beside a
	// running server): no migrations, no writers and so no new audit chain; Update returns
	// ErrReadOnly.
	ReadOnly bool
}

// DB is an open database. Safe for concurrent use.
type DB struct {
	dialect  string
	dsn      string
	box      *secrets.Box
	log      *slog.Logger
	now      func() time.Time
	nodeID   string
	maxBatch int
	readOnly bool

	writerDSN string  // SQLite: the writer connection's DSN
	wdb       *sql.DB // SQLite: the one writer connection; PostgreSQL: the pool, shared with reads
	rdb       *sql.DB // SQLite: the read-only pool; PostgreSQL: the same pool as wdb
	ckpt      *sql.DB // SQLite: the checkpointer's connection; nil on PostgreSQL
	stopCkpt  chan struct{}

	readOpts *sql.TxOptions
	// wstmts and rstmts keep prepared statements for the writer's and the readers' pools
	// (SQLite only; nil on PostgreSQL).
	wstmts, rstmts *stmtCache

	gen         atomic.Uint64 // see Generation
	cacheTTL    time.Duration
	classes     writeClass
	dataVersion int64 // SQLite: the writer connection's PRAGMA data_version last seen

	batches  atomic.Int64 // write transactions begun
	requests atomic.Int64 // requests run in them

	queue   chan *request
	mu      sync.RWMutex // guards closed; Update holds it shared while handing a request over
	closed  bool
	writers []*writer
	wg      sync.WaitGroup
}

// Open opens (creating and migrating) the database: dsn "postgres://…"/"postgresql://…" is
// PostgreSQL, anything else a SQLite file path. It returns an error wrapping
// ErrWrongMasterKey when opts.Box cannot read the secrets already stored.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if opts.Box == nil {
		return nil, errors.New("store: open: Options.Box is required")
	}
	db := &DB{
		dsn:      dsn,
		box:      opts.Box,
		log:      opts.Logger,
		now:      opts.Now,
		nodeID:   opts.NodeID,
		maxBatch: opts.MaxBatch,
		readOnly: opts.ReadOnly,
		cacheTTL: opts.CacheTTL,
	}
	switch {
	case db.cacheTTL == 0:
		db.cacheTTL = DefaultCacheTTL
	case db.cacheTTL < 0:
		db.cacheTTL = 0
	}
	if db.log == nil {
		db.log = slog.Default()
	}
	if db.now == nil {
		db.now = time.Now
	}
	if db.nodeID == "" {
		db.nodeID = defaultNodeID()
	}
	if db.maxBatch <= 0 {
		db.maxBatch = DefaultMaxBatch
	}
	writers := 1
	if db.readOnly {
		writers = 0
	}
	var err error
	if IsPostgres(dsn) {
		if !db.readOnly {
			writers = cmp.Or(max(opts.Writers, 0), DefaultWriters)
		}
		err = db.openPostgres(writers)
	} else {
		err = db.openSQLite(dsn)
	}
	if err != nil {
		return nil, err
	}
	db.log = db.log.With("store", db.dialect, "node", db.nodeID)
	if err := db.start(ctx, writers); err != nil {
		db.closeDBs()
		return nil, err
	}
	return db, nil
}

// IsPostgres reports whether dsn names a PostgreSQL database rather than a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

func (db *DB) openSQLite(path string) error {
	db.dialect = DialectSQLite
	uri := sqliteURI(path)
	if db.readOnly {
		if !strings.HasPrefix(path, "file:") {
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("store: open %s: %w", path, err)
			}
		}
		r, err := db.openSQLiteReaders(uri)
		if err != nil {
			return fmt.Errorf("store: open %s: %w", path, err)
		}
		db.wdb, db.rdb = r, r
		db.rstmts = newStmtCache(r)
		db.wstmts = db.rstmts
		return nil
	}
	// A pool of writer connections is no faster than one and starves writers under
	// contention (reference/deps.md §1), so all writes go through one connection.
	db.writerDSN = uri + "_txlock=immediate&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)" +
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", writerAutocheckpoint)
	w, err := sql.Open("sqlite", db.writerDSN)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := w.Ping(); err != nil { // creates the file and switches it to WAL before readers open it
		w.Close()
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	r, err := db.openSQLiteReaders(uri)
	if err != nil {
		w.Close()
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	db.wdb, db.rdb = w, r
	db.wstmts, db.rstmts = newStmtCache(w), newStmtCache(r)
	if err := db.openCheckpointer(uri); err != nil {
		w.Close()
		r.Close()
		return err
	}
	return nil
}

// openSQLiteReaders opens the read pool: query_only connections, each transaction on one WAL
// snapshot.
func (db *DB) openSQLiteReaders(uri string) (*sql.DB, error) {
	r, err := sql.Open("sqlite", uri+"_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	db.readOpts = &sql.TxOptions{ReadOnly: true}
	return r, nil
}

// sqliteURI returns a "file:" URI for path ending in "?" or "&", ready for parameters.
func sqliteURI(path string) string {
	if strings.HasPrefix(path, "file:") {
		if strings.Contains(path, "?") {
			return path + "&"
		}
		return path + "?"
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?"
}

func (db *DB) openPostgres(writers int) error {
	db.dialect = DialectPostgres
	p, err := sql.Open("pgx", db.dsn)
	if err != nil {
		return fmt.Errorf("store: open postgres: %w", err)
	}
	p.SetMaxOpenConns(postgresReadConns + writers)
	p.SetMaxIdleConns(postgresReadConns + writers)
	p.SetConnMaxIdleTime(5 * time.Minute)
	db.wdb, db.rdb = p, p
	// Read-only repeatable read: one snapshot for the whole View, as SQLite's WAL gives, and
	// never a serialization failure.
	db.readOpts = &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
	return nil
}

// start migrates, checks the master key and starts the writers.
func (db *DB) start(ctx context.Context, writers int) error {
	if err := db.wdb.PingContext(ctx); err != nil {
		return fmt.Errorf("store: connect: %w", err)
	}
	if db.readOnly {
		return db.checkMasterKeyReadOnly(ctx)
	}
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	if err := db.checkMasterKey(ctx); err != nil {
		return err
	}
	if err := db.prepareWriterStatements(ctx); err != nil {
		return err
	}
	db.queue = make(chan *request, db.maxBatch*writers)
	for i := range writers {
		w := &writer{db: db, index: i, own: make(chan *request, db.maxBatch)}
		if err := w.prepare(ctx); err != nil {
			for _, w := range db.writers {
				w.closeConn()
			}
			return err
		}
		db.writers = append(db.writers, w)
	}
	for _, w := range db.writers {
		db.wg.Go(func() { w.run(db.queue, w.own) })
	}
	if db.ckpt != nil {
		db.stopCkpt = make(chan struct{})
		db.wg.Go(func() { db.runCheckpointer(db.stopCkpt) })
	}
	return nil
}

func defaultNodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	b := make([]byte, 4)
	rand.Read(b)
	return host + "-" + hex.EncodeToString(b)
}

// Close stops accepting writes, waits for the queued writes to commit and closes the
// database. Calling it again does nothing.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil
	}
	db.closed = true
	if db.queue != nil {
		close(db.queue)
	}
	for _, w := range db.writers {
		close(w.own)
	}
	if db.stopCkpt != nil {
		close(db.stopCkpt)
	}
	db.mu.Unlock()
	db.wg.Wait()
	for _, w := range db.writers {
		w.closeConn()
	}
	return db.closeDBs()
}

func (db *DB) closeDBs() error {
	db.wstmts.close()
	if db.rstmts != db.wstmts {
		db.rstmts.close()
	}
	err := db.wdb.Close()
	if db.rdb != db.wdb {
		err = errors.Join(err, db.rdb.Close())
	}
	if db.ckpt != nil {
		err = errors.Join(err, db.ckpt.Close())
	}
	if err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// WriteStats counts the work of the group-commit writers since Open.
type WriteStats struct {
	Transactions int64 // write transactions begun
	Requests     int64 // Update calls run in them (Requests/Transactions is the mean batch size)
}

// WriteStats returns the writers' counters.
func (db *DB) WriteStats() WriteStats {
	return WriteStats{Transactions: db.batches.Load(), Requests: db.requests.Load()}
}

// DSN returns the data source name db was opened with.
func (db *DB) DSN() string { return db.dsn }

// NodeID returns the name of this process in audit chains.
func (db *DB) NodeID() string { return db.nodeID }

// Update runs fn in a write transaction shared with concurrent callers (group commit),
// isolated from them by a savepoint: when fn returns an error its writes are undone and Update
// returns that error; otherwise Update returns nil only after the transaction is durable
// (fsync'd). If ctx carries an audit.Pending not yet recorded and fn succeeds, the pending
// event's record is appended to this writer's audit chain inside the same savepoint (so a
// change and its audit event commit or roll back together) and marked Done(true) after COMMIT.
//
// Once the writer has taken the request, Update waits for its outcome even if ctx ends: it
// returns ctx.Err() only for a request that was never started. Statements inside fn are not
// cancelled by ctx. A panic in fn is returned as an error. fn may run on another goroutine
// and must not call Update (it would wait for itself). fn may run more than once: when
// PostgreSQL picks its transaction as a deadlock victim, nothing of it was written and Update
// runs it again (up to five times); and when another request of its batch fails after
// writing, the writer rolls the batch back and runs it again with a savepoint per request
// (see writer.commit). So fn must derive everything it returns from tx.
func (db *DB) Update(ctx context.Context, fn func(*Tx) error) error {
	return db.UpdateAffine(ctx, -1, fn)
}

// UpdateAffine is Update run by the writer that affinity picks (any writer when it is
// negative). With several writers (PostgreSQL), writes that change the same rows — the usage
// counters of one license — contend for their row locks across the writers' open
// transactions, and writes that change several such rows in different orders deadlock
// (PostgreSQL breaks a deadlock only after deadlock_timeout, 1 s by default). Giving them the
// same affinity has one writer batch them instead: one lock acquisition per batch, and no
// deadlock between this process's writers. Affinity changes nothing else: every write is as
// isolated and durable as with Update.
func (db *DB) UpdateAffine(ctx context.Context, affinity int, fn func(*Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.update(ctx, affinity, fn)
		if err == nil || attempt == maxAttempts || !Retryable(err) {
			return err
		}
		// PostgreSQL chose this request as a deadlock victim; nothing of it was written.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * time.Duration(1+mrand.IntN(5)) * time.Millisecond):
		}
	}
}

// maxAttempts is how many times Update runs a request that keeps losing deadlocks.
const maxAttempts = 5

// Retryable reports whether err is a PostgreSQL deadlock or serialization failure. With
// several group-commit writers, two batches can lock the rows of their requests in opposite
// orders; PostgreSQL then fails one request's statement and the writer rolls that request
// back alone. Nothing of it was written, so Update runs it again.
func Retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

func (db *DB) update(ctx context.Context, affinity int, fn func(*Tx) error) error {
	if db.readOnly {
		return ErrReadOnly
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Serialise the audit event here, on the caller's goroutine, rather than in the writer
	// that every write waits for (a change fn makes to the event undoes it).
	audit.PendingFrom(ctx).Encode()
	r := &request{ctx: ctx, fn: fn, done: make(chan error, 1)}
	db.mu.RLock()
	if db.closed {
		db.mu.RUnlock()
		return ErrClosed
	}
	queue := db.queue
	if affinity >= 0 && len(db.writers) > 1 {
		queue = db.writers[affinity%len(db.writers)].own
	}
	select {
	case queue <- r:
		db.mu.RUnlock()
	case <-ctx.Done():
		db.mu.RUnlock()
		return ctx.Err()
	}
	return <-r.done
}

// View runs fn in a read-only transaction (SQLite: the separate read pool and one WAL
// snapshot; PostgreSQL: REPEATABLE READ READ ONLY) and returns fn's error.
func (db *DB) View(ctx context.Context, fn func(*Tx) error) error {
	sqlTx, err := db.rdb.BeginTx(ctx, db.readOpts)
	if err != nil {
		return fmt.Errorf("store: begin read: %w", err)
	}
	tx := &Tx{q: sqlTx, st: &txStmts{sqlTx: sqlTx, cache: db.rstmts}, db: db, now: db.timestamp()}
	defer func() {
		tx.finish()
		sqlTx.Rollback()
	}()
	return fn(tx)
}

// timestamp returns the time for one Update or View call, at the precision stored.
func (db *DB) timestamp() time.Time { return db.now().UTC().Truncate(time.Microsecond) }
