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
	own   chan *request // requests for this writer alone (UpdateAffine)
	conn  *sql.Conn     // PostgreSQL: the writer's own connection
	// q is what the writer runs on: conn on PostgreSQL; on SQLite the writer pool (of one
	// connection), which the connection stays in between batches so that statements can be
	// prepared on it (see stmtCache).
	q connection

	chainID string
	seq     int64  // sequence number of the chain's last record (0: none yet)
	hash    string // hash of the chain's last record (audit.GenesisHash: none yet)
	// stale is set when the transaction outcome or the connection is in doubt: before the next
	// batch the writer checks its connection and reads its chain head back from the database.
	stale bool
	// usage holds the entitlement counters of the batch's transaction on SQLite (see
	// usageBatch); nil between batches.
	usage *usageBatch
	// checkouts are the checkouts last committed, on SQLite (see checkoutCache).
	checkouts *checkoutCache
}

// connection is what *sql.DB and *sql.Conn have in common that a writer needs.
type connection interface {
	PingContext(ctx context.Context) error
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// prepareTimeout bounds reconnecting and reading the chain head.
const prepareTimeout = 30 * time.Second

// prepare makes sure the writer has a working connection and a chain: it claims a fresh chain
// the first time, and rereads the chain's head after a failure.
func (w *writer) prepare(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), prepareTimeout)
	defer cancel()
	switch {
	case w.db.dialect == DialectSQLite:
		// database/sql replaces a broken connection of the pool by itself.
		if err := w.db.wdb.PingContext(ctx); err != nil {
			return fmt.Errorf("store: writer %d: connect: %w", w.index, err)
		}
		w.q = w.db.wdb
	case w.conn != nil:
		if err := w.conn.PingContext(ctx); err != nil {
			w.closeConn()
		}
	}
	if w.q == nil {
		conn, err := w.db.wdb.Conn(ctx)
		if err != nil {
			return fmt.Errorf("store: writer %d: connect: %w", w.index, err)
		}
		// Durable whatever the server's default: Update promises an fsync'd commit.
		if _, err := conn.ExecContext(ctx, "SET synchronous_commit = on"); err != nil {
			conn.Close()
			return fmt.Errorf("store: writer %d: %w", w.index, err)
		}
		w.conn, w.q = conn, conn
	}
	if w.chainID == "" {
		id := uuid.NewString()
		_, err := w.q.ExecContext(ctx, w.db.rebind(
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
	err := w.q.QueryRowContext(ctx, w.db.rebind(
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
	w.q = nil
}

// run takes the first request queued for this writer (own, see UpdateAffine) or for any
// writer (shared), drains up to MaxBatch-1 more without waiting, its own first, and commits
// them together, until both queues are closed and empty.
func (w *writer) run(shared, own <-chan *request) {
	batch := make([]*request, 0, w.db.maxBatch)
	for shared != nil || own != nil {
		var first *request
		select {
		case r, ok := <-own:
			if !ok {
				own = nil
				continue
			}
			first = r
		case r, ok := <-shared:
			if !ok {
				shared = nil
				continue
			}
			first = r
		}
		batch = append(batch[:0], first)
		batch = drain(batch, own, w.db.maxBatch)
		batch = drain(batch, shared, w.db.maxBatch)
		w.commit(batch)
		clear(batch) // drop references to finished requests
	}
}

// drain appends to batch the requests queue holds now, up to max in all.
func drain(batch []*request, queue <-chan *request, max int) []*request {
	for queue != nil && len(batch) < max {
		select {
		case r, ok := <-queue:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// outcome is what happened to one request of a batch.
type outcome struct {
	r       *request
	err     error
	pending *audit.Pending // claimed and placed; Done after COMMIT or rollback
	rec     *audit.Record  // pending's record, placed in the chain, written before COMMIT
	touched bool           // the request may have changed configuration (see Generation)
	dirty   bool           // it failed after writing (or failing a statement): only a rollback undoes it
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
	if w.stale || w.q == nil {
		if err := w.prepare(context.Background()); err != nil {
			w.db.log.Error("store writer cannot write", "writer", w.index, "err", err)
			fail(err)
			return
		}
	}
	bg := context.Background()
	defer func() { w.usage = nil }()
	w.db.batches.Add(1)
	w.db.requests.Add(int64(len(outs)))
	preSeq, preHash := w.seq, w.hash
	var tx *sql.Tx
	abort := func(err error) {
		tx.Rollback()
		w.seq, w.hash, w.stale = preSeq, preHash, true
		w.db.log.Error("store write transaction failed", "writer", w.index, "requests", len(outs), "err", err)
		fail(err)
	}
	// The batch runs first without a savepoint per request (two statements each, and on
	// PostgreSQL two round trips), which is enough while every request either succeeds or
	// fails without having written anything. When one fails after writing, the transaction is
	// rolled back and the batch runs again with savepoints, which undo that request alone.
	// A batch of one is rolled back whole when it fails, and needs none.
	optimistic := len(outs) > 1
	var succeeded int
	var touched bool
	var stmts *txStmts
	for {
		var err error
		if tx, err = w.q.BeginTx(bg, nil); err != nil {
			w.seq, w.hash, w.stale = preSeq, preHash, true
			fail(fmt.Errorf("store: begin: %w", err))
			return
		}
		claimed := make(map[*audit.Pending]bool)
		stmts = &txStmts{sqlTx: tx, cache: w.db.wstmts}
		if w.db.dialect == DialectSQLite {
			w.checkExternalWrites(stmts)
			if w.checkouts == nil {
				w.checkouts = newCheckoutCache()
			}
			w.usage = newUsageBatch(stmts, w.checkouts)
		}
		savepoints := len(outs) > 1 && !optimistic
		succeeded, touched = 0, false
		dirty := false
		for i := range outs {
			o := &outs[i]
			if err := w.apply(stmts, o, savepoints, claimed); err != nil {
				abort(err)
				return
			}
			if o.err == nil {
				succeeded++
				touched = touched || o.touched
			} else if o.dirty && optimistic {
				dirty = true
				break
			}
		}
		if !dirty {
			break
		}
		// Start over with savepoints: nothing of this attempt stays.
		if err := tx.Rollback(); err != nil {
			w.stale = true
		}
		for i := range outs {
			o := &outs[i]
			if o.pending != nil {
				o.pending.Done(false)
			}
			outs[i] = outcome{r: o.r}
		}
		w.seq, w.hash = preSeq, preHash
		optimistic = false
	}
	if succeeded > 0 && w.usage != nil {
		err := w.usage.flush(func(query string, args ...any) error {
			_, err := w.db.execTx(bg, stmts, query, args...)
			return translate(err)
		})
		if err != nil {
			abort(err)
			return
		}
	}
	if succeeded > 0 {
		recs := make([]*audit.Record, 0, len(outs))
		for _, o := range outs {
			if o.err == nil && o.rec != nil {
				recs = append(recs, o.rec)
			}
		}
		if err := w.db.insertRecords(bg, stmts, recs); err != nil {
			abort(err)
			return
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
		w.db.gen.Add(1) // the COMMIT may have happened
		err = fmt.Errorf("store: commit: %w", translate(err))
		w.db.log.Error("store commit failed", "writer", w.index, "requests", len(outs), "err", err)
		fail(err)
		return
	}
	if w.usage != nil {
		w.usage.committed()
	}
	if touched {
		w.db.gen.Add(1) // before anyone is answered: a request that follows sees the change
	}
	for _, o := range outs {
		if o.pending != nil {
			o.pending.Done(true)
		}
		o.r.done <- o.err
	}
}

// sqlDataVersion reads SQLite's count of commits made by other connections.
const sqlDataVersion = "PRAGMA data_version"

// checkExternalWrites changes the generation when another process (an operator command such
// as allot keys rotate) committed to the SQLite file since the last batch: PRAGMA
// data_version changes on a connection only for commits made through other connections, and
// all of this process's writes go through the writer's one connection.
func (w *writer) checkExternalWrites(stmts *txStmts) {
	bg := context.Background()
	var row *sql.Row
	if st := stmts.get(bg, sqlDataVersion); st != nil {
		row = st.QueryRowContext(bg)
	} else {
		row = stmts.sqlTx.QueryRowContext(bg, sqlDataVersion)
	}
	var v int64
	if err := row.Scan(&v); err != nil {
		w.db.gen.Add(1)
		return
	}
	if v != w.db.dataVersion {
		w.db.gen.Add(1)
		w.db.dataVersion = v
	}
}

// apply runs one request inside the batch's transaction, under a savepoint when savepoints
// is set, and records its result in o. The error it returns is fatal to the whole batch:
// the transaction can no longer be trusted.
func (w *writer) apply(stmts *txStmts, o *outcome, savepoints bool, claimed map[*audit.Pending]bool) error {
	bg := context.Background()
	if savepoints {
		if _, err := w.db.execTx(bg, stmts, sqlSavepoint); err != nil {
			return fmt.Errorf("store: savepoint: %w", err)
		}
	}
	seq, hash := w.seq, w.hash
	if w.usage != nil {
		w.usage.beginRequest()
	}
	tx := &Tx{q: stmts.sqlTx, st: stmts, db: w.db, now: w.db.timestamp(), write: true, usage: w.usage}
	err := w.call(tx, o.r.fn)
	tx.finish()
	if err == nil && tx.failed != nil && w.db.dialect == DialectPostgres {
		err = fmt.Errorf("store: a statement failed, which aborts the transaction on PostgreSQL: %w", tx.failed)
	}
	if err == nil {
		err = w.appendPending(o, claimed)
	}
	o.touched = tx.touched
	o.dirty = o.dirty || tx.wrote || tx.failed != nil
	if err == nil && savepoints {
		if _, rerr := w.db.execTx(bg, stmts, sqlRelease); rerr != nil {
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
	if w.usage != nil {
		w.usage.undoRequest()
	}
	if o.pending != nil {
		o.pending.Done(false)
		o.pending, o.rec = nil, nil
	}
	if !savepoints {
		// A batch of one is rolled back whole; a batch run without savepoints starts over
		// with them when o is dirty (see commit).
		return nil
	}
	if _, rerr := w.db.execTx(bg, stmts, sqlRollbackTo); rerr != nil {
		return fmt.Errorf("store: rollback to savepoint: %w", rerr)
	}
	if _, rerr := w.db.execTx(bg, stmts, sqlRelease); rerr != nil {
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

// appendPending places the request's pending audit event, if it has one not yet recorded,
// next in the writer's chain; commit writes the placed records of the batch's requests that
// succeeded before its COMMIT.
func (w *writer) appendPending(o *outcome, claimed map[*audit.Pending]bool) error {
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
	w.seq, w.hash = rec.Seq, rec.Hash
	o.pending, o.rec = p, rec
	claimed[p] = true
	return nil
}

// prepareWriterStatements prepares the writer's own statements on SQLite, before the
// writer's first batch. PostgreSQL needs none: pgx caches prepared statements itself.
func (db *DB) prepareWriterStatements(ctx context.Context) error {
	if db.dialect != DialectSQLite {
		return nil
	}
	for _, q := range []string{sqlSavepoint, sqlRelease, sqlRollbackTo, sqlInsertEvent, sqlInsertResource, sqlDataVersion,
		sqlUsageCounter, sqlUsageAdd, sqlCheckInKnown} {
		if err := db.wstmts.add(ctx, q); err != nil {
			return fmt.Errorf("store: prepare: %w", err)
		}
	}
	return nil
}

// execTx runs one of the writer's own statements in the batch's transaction, prepared when
// it can be.
func (db *DB) execTx(ctx context.Context, stmts *txStmts, query string, args ...any) (sql.Result, error) {
	if st := stmts.get(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return stmts.sqlTx.ExecContext(ctx, db.rebind(query), args...)
}
