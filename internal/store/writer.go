package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/google/uuid"

	"github.com/allot-dev/allot/internal/audit"
)

// request is one Update call waiting for a writer.
type request struct {
	ctx  context.Context
	fn   func(*Tx) error
	done chan error // buffered: the writer never blocks on a caller
}

// writer is a group-commit writer: one goroutine, one dedicated connection, one audit chain.
type writer struct {
	db    *DB
	index int
	conn  *sql.Conn

	chainID string
	seq     int64  // sequence number of the chain's last record (0: none yet)
	hash    string // hash of the chain's last record (audit.GenesisHash: none yet)
	// stale is set when the transaction outcome or the connection is in doubt: before the next
	// batch the writer checks its connection and reads its chain head back from the database.
	stale bool
}

// prepareTimeout bounds reconnecting and reading the chain head.
const prepareTimeout = 30 * time.Second

// prepare makes sure the writer has a working connection and a chain: it claims a fresh chain
// the first time, and rereads the chain's head after a failure.
func (w *writer) prepare(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), prepareTimeout)
	defer cancel()
	if w.conn != nil {
		if err := w.conn.PingContext(ctx); err != nil {
			w.closeConn()
		}
	}
	if w.conn == nil {
		conn, err := w.db.wdb.Conn(ctx)
		if err != nil {
			return fmt.Errorf("store: writer %d: connect: %w", w.index, err)
		}
		if w.db.dialect == DialectPostgres {
			// Durable whatever the server's default: Update promises an fsync'd commit.
			if _, err := conn.ExecContext(ctx, "SET synchronous_commit = on"); err != nil {
				conn.Close()
				return fmt.Errorf("store: writer %d: %w", w.index, err)
			}
		}
		w.conn = conn
	}
	if w.chainID == "" {
		id := uuid.NewString()
		_, err := w.conn.ExecContext(ctx, w.db.rebind(
			"INSERT INTO audit_chains (id, node_id, writer, started_at) VALUES (?, ?, ?, ?)"),
			id, w.db.nodeID, w.index, w.db.timestamp().UnixMicro())
		if err != nil {
			return fmt.Errorf("store: writer %d: claim audit chain: %w", w.index, translate(err))
		}
		w.chainID, w.seq, w.hash = id, 0, audit.GenesisHash
		w.db.log.Info("audit chain started", "chain", id, "writer", w.index)
		w.stale = false
		return nil
	}
	seq, hash := int64(0), audit.GenesisHash
	err := w.conn.QueryRowContext(ctx, w.db.rebind(
		"SELECT seq, hash FROM audit_events WHERE chain_id = ? ORDER BY seq DESC LIMIT 1"), w.chainID).Scan(&seq, &hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: writer %d: read audit chain head: %w", w.index, err)
	}
	w.seq, w.hash, w.stale = seq, hash, false
	return nil
}

func (w *writer) closeConn() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

// run takes the first queued request, drains up to MaxBatch-1 more without waiting and
// commits them together, until the queue is closed and empty.
func (w *writer) run(queue <-chan *request) {
	batch := make([]*request, 0, w.db.maxBatch)
	for first := range queue {
		batch = append(batch[:0], first)
	drain:
		for len(batch) < w.db.maxBatch {
			select {
			case r, ok := <-queue:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		w.commit(batch)
		clear(batch) // drop references to finished requests
	}
}

// outcome is what happened to one request of a batch.
type outcome struct {
	r       *request
	err     error
	pending *audit.Pending // claimed and appended; Done after COMMIT or rollback
}

// commit runs a batch in one transaction and answers every request after COMMIT.
func (w *writer) commit(batch []*request) {
	outs := make([]outcome, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err // never started: nothing was written
			continue
		}
		outs = append(outs, outcome{r: r})
	}
	if len(outs) == 0 {
		return
	}
	fail := func(err error) {
		for _, o := range outs {
			if o.pending != nil {
				o.pending.Done(false)
			}
			o.r.done <- err
		}
	}
	if w.stale || w.conn == nil {
		if err := w.prepare(context.Background()); err != nil {
			w.db.log.Error("store writer cannot write", "writer", w.index, "err", err)
			fail(err)
			return
		}
	}
	bg := context.Background()
	tx, err := w.conn.BeginTx(bg, nil)
	if err != nil {
		w.stale = true
		fail(fmt.Errorf("store: begin: %w", err))
		return
	}
	w.db.batches.Add(1)
	w.db.requests.Add(int64(len(outs)))
	preSeq, preHash := w.seq, w.hash
	abort := func(err error) {
		tx.Rollback()
		w.seq, w.hash, w.stale = preSeq, preHash, true
		w.db.log.Error("store write transaction failed", "writer", w.index, "requests", len(outs), "err", err)
		fail(err)
	}
	savepoints := len(outs) > 1 // a batch of one is rolled back whole when it fails
	claimed := make(map[*audit.Pending]bool)
	succeeded := 0
	for i := range outs {
		o := &outs[i]
		if err := w.apply(tx, o, savepoints, claimed); err != nil {
			abort(err)
			return
		}
		if o.err == nil {
			succeeded++
		}
	}
	if succeeded == 0 {
		// Nothing to make durable: roll back (no fsync) and answer.
		if err := tx.Rollback(); err != nil {
			w.stale = true
		}
		for _, o := range outs {
			o.r.done <- o.err
		}
		return
	}
	if err := tx.Commit(); err != nil {
		// The outcome of a failed COMMIT can be unknown (a lost connection): reread the chain
		// head before the next batch rather than trust either value.
		w.seq, w.hash, w.stale = preSeq, preHash, true
		err = fmt.Errorf("store: commit: %w", translate(err))
		w.db.log.Error("store commit failed", "writer", w.index, "requests", len(outs), "err", err)
		fail(err)
		return
	}
	for _, o := range outs {
		if o.pending != nil {
			o.pending.Done(true)
		}
		o.r.done <- o.err
	}
}

// apply runs one request inside the batch's transaction, under a savepoint when savepoints
// is set, and records its result in o. The error it returns is fatal to the whole batch:
// the transaction can no longer be trusted.
func (w *writer) apply(sqlTx *sql.Tx, o *outcome, savepoints bool, claimed map[*audit.Pending]bool) error {
	bg := context.Background()
	if savepoints {
		if _, err := w.db.execTx(bg, sqlTx, sqlSavepoint); err != nil {
			return fmt.Errorf("store: savepoint: %w", err)
		}
	}
	seq, hash := w.seq, w.hash
	tx := &Tx{q: sqlTx, db: w.db, now: w.db.timestamp(), write: true}
	err := w.call(tx, o.r.fn)
	tx.finish()
	if err == nil && tx.failed != nil && w.db.dialect == DialectPostgres {
		err = fmt.Errorf("store: a statement failed, which aborts the transaction on PostgreSQL: %w", tx.failed)
	}
	if err == nil {
		err = w.appendPending(bg, sqlTx, o, claimed)
	}
	if err == nil && savepoints {
		if _, rerr := w.db.execTx(bg, sqlTx, sqlRelease); rerr != nil {
			// PostgreSQL refuses RELEASE in a transaction a failed statement aborted:
			// undo this request alone below.
			err = fmt.Errorf("store: release savepoint: %w", rerr)
			if o.pending != nil {
				delete(claimed, o.pending)
			}
		} else {
			return nil
		}
	}
	if err == nil {
		return nil
	}
	o.err = err
	w.seq, w.hash = seq, hash
	if o.pending != nil {
		o.pending.Done(false)
		o.pending = nil
	}
	if !savepoints {
		return nil // the caller rolls back the whole transaction
	}
	if _, rerr := w.db.execTx(bg, sqlTx, sqlRollbackTo); rerr != nil {
		return fmt.Errorf("store: rollback to savepoint: %w", rerr)
	}
	if _, rerr := w.db.execTx(bg, sqlTx, sqlRelease); rerr != nil {
		return fmt.Errorf("store: release savepoint: %w", rerr)
	}
	return nil
}

// call runs fn, turning a panic into an error so that the writer goroutine survives it.
func (w *writer) call(tx *Tx, fn func(*Tx) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			w.db.log.Error("panic in store update", "writer", w.index, "panic", v, "stack", string(debug.Stack()))
			err = fmt.Errorf("store: update panicked: %v", v)
		}
	}()
	return fn(tx)
}

// appendPending appends the request's pending audit event, if it has one not yet recorded,
// to the writer's chain.
func (w *writer) appendPending(ctx context.Context, sqlTx *sql.Tx, o *outcome, claimed map[*audit.Pending]bool) error {
	p := audit.PendingFrom(o.r.ctx)
	if p == nil || claimed[p] {
		return nil
	}
	rec, err := p.Claim()
	if err != nil {
		return fmt.Errorf("store: append audit event: %w", err)
	}
	if rec == nil {
		return nil // recorded already
	}
	rec.Place(w.chainID, w.seq+1, w.hash)
	if err := w.db.insertRecord(ctx, sqlTx, rec); err != nil {
		p.Done(false)
		return err
	}
	w.seq, w.hash = rec.Seq, rec.Hash
	o.pending = p
	claimed[p] = true
	return nil
}

// prepareWriterStatements prepares the writer's own statements on SQLite, where parsing them
// for every request is a good part of the writer's work. They are prepared through wdb
// before the writer takes its one connection, so that Tx.StmtContext finds them prepared on
// that connection. PostgreSQL needs none: pgx caches prepared statements itself.
func (db *DB) prepareWriterStatements(ctx context.Context) error {
	if db.dialect != DialectSQLite {
		return nil
	}
	db.prepared = make(map[string]*sql.Stmt)
	for _, q := range []string{sqlSavepoint, sqlRelease, sqlRollbackTo, sqlInsertEvent, sqlInsertResource} {
		st, err := db.wdb.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("store: prepare: %w", err)
		}
		db.prepared[q] = st
	}
	return nil
}

// execTx runs one of the writer's own statements in sqlTx, prepared when it can be.
func (db *DB) execTx(ctx context.Context, sqlTx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := db.prepared[query]; st != nil {
		return sqlTx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return sqlTx.ExecContext(ctx, db.rebind(query), args...)
}
