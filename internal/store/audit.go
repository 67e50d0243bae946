package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/audit"
)

// The writer's own statements, prepared once on SQLite (see DB.prepareWriterStatements).
const (
	sqlSavepoint   = "SAVEPOINT request"
	sqlRelease     = "RELEASE SAVEPOINT request"
	sqlRollbackTo  = "ROLLBACK TO SAVEPOINT request"
	sqlInsertEvent = `INSERT INTO audit_events (chain_id, seq, prev_hash, hash, event_id, account_id, event_time,
		event_name, event_source, username, access_key_id, read_only, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlInsertResource = `INSERT INTO audit_resources (chain_id, seq, idx, type, name, account_id) VALUES (?, ?, ?, ?, ?, ?)`
)

// maxRecordsPerInsert bounds the rows of one multi-row INSERT of audit records.
const maxRecordsPerInsert = 64

// insertRecords writes placed audit records and their resources, several rows per
// statement: a batch's records go in at its end, in a few statements rather than one per
// request (on PostgreSQL, a round trip each).
func (db *DB) insertRecords(ctx context.Context, stmts *txStmts, recs []*audit.Record) error {
	for len(recs) > 0 {
		n := min(len(recs), maxRecordsPerInsert)
		args := make([]any, 0, 13*n)
		var resources []any
		for _, rec := range recs[:n] {
			args = append(args, rec.ChainID, rec.Seq, rec.PrevHash, rec.Hash,
				rec.EventID, rec.AccountID, rec.EventTime.UnixMicro(), rec.EventName, rec.EventSource,
				rec.Username, rec.AccessKeyID, rec.ReadOnly, string(rec.Body))
			for i, r := range rec.Resources {
				resources = append(resources, rec.ChainID, rec.Seq, i, r.Type, r.ARN, r.AccountID)
			}
		}
		if _, err := db.execTx(ctx, stmts, multiRow(sqlInsertEvent, 13, n), args...); err != nil {
			return fmt.Errorf("store: append %d audit events from %s: %w", n, recs[0].EventID, translate(err))
		}
		for len(resources) > 0 {
			m := min(len(resources)/6, maxRecordsPerInsert)
			if _, err := db.execTx(ctx, stmts, multiRow(sqlInsertResource, 6, m), resources[:6*m]...); err != nil {
				return fmt.Errorf("store: append audit event resources: %w", translate(err))
			}
			resources = resources[6*m:]
		}
		recs = recs[n:]
	}
	return nil
}

// multiRow returns insert, a single-row INSERT … VALUES (?, …) of cols columns, with n rows.
func multiRow(insert string, cols, n int) string {
	if n == 1 {
		return insert
	}
	row := ", (?" + strings.Repeat(", ?", cols-1) + ")"
	return insert + strings.Repeat(row, n-1)
}

// recordColumns are the columns scanRecords reads, events aliased e and resources r.
const recordColumns = `e.chain_id, e.seq, e.prev_hash, e.hash, e.body, e.event_id, e.account_id,
	e.event_time, e.event_name, e.event_source, e.username, e.access_key_id, e.read_only,
	r.type, r.name, r.account_id`

// LookupAudit returns matching records newest first and the cursor of the next page (nil
// when none).
func (db *DB) LookupAudit(ctx context.Context, q audit.Query) ([]*audit.Record, *audit.Cursor, error) {
	if q.AccountID == "" {
		return nil, nil, errors.New("store: lookup audit: account ID is required")
	}
	if q.Limit < 1 {
		return nil, nil, fmt.Errorf("store: lookup audit: limit %d is less than 1", q.Limit)
	}
	page, args, err := db.lookupAuditQuery(q)
	if err != nil {
		return nil, nil, err
	}
	query := `SELECT ` + recordColumns + `
		FROM (` + page + `) e
		LEFT JOIN audit_resources r ON r.chain_id = e.chain_id AND r.seq = e.seq
		ORDER BY e.event_time DESC, e.chain_id DESC, e.seq DESC, r.idx`
	rows, err := db.rdb.QueryContext(ctx, db.rebind(query), args...)
	if err != nil {
		return nil, nil, fmt.Errorf("store: lookup audit: %w", err)
	}
	defer rows.Close()
	var recs []*audit.Record
	err = scanRecords(rows, func(r *audit.Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: lookup audit: %w", err)
	}
	if len(recs) <= q.Limit {
		return recs, nil, nil
	}
	recs = recs[:q.Limit]
	last := recs[len(recs)-1]
	return recs, &audit.Cursor{Time: last.EventTime, ChainID: last.ChainID, Seq: last.Seq}, nil
}

// lookupAuditQuery returns the query of a page of LookupAudit's records (the events alone,
// newest first, one more than q.Limit) and its arguments.
func (db *DB) lookupAuditQuery(q audit.Query) (string, []any, error) {
	var (
		where = []string{"account_id = ?"}
		args  = []any{q.AccountID}
		// index is the index SQLite is told to read (INDEXED BY). Without statistics its
		// planner reads the account's whole trail in time order for an EventName or Username
		// lookup within a time range (every LookupEvents has one) rather than that name's or
		// user's index.
		index string
	)
	end, after := q.End, q.After
	if after != nil && !end.IsZero() {
		// One upper bound on event_time, the tighter: with both, SQLite seeks to End and
		// reads everything newer than the cursor again on every page.
		if after.Time.After(end) {
			after = nil
		} else {
			end = time.Time{}
		}
	}
	if !q.Start.IsZero() {
		where, args = append(where, "event_time >= ?"), append(args, q.Start.UnixMicro())
	}
	if !end.IsZero() {
		where, args = append(where, "event_time <= ?"), append(args, end.UnixMicro())
	}
	switch q.Attribute {
	case "":
	case "EventId":
		where, args = append(where, "event_id = ?"), append(args, q.Value)
	case "EventName":
		where, args = append(where, "event_name = ?"), append(args, q.Value)
		index = "audit_events_account_name"
	case "Username":
		where, args = append(where, "username = ?"), append(args, q.Value)
		index = "audit_events_account_user"
	case "EventSource":
		where, args = append(where, "event_source = ?"), append(args, q.Value)
	case "AccessKeyId":
		where, args = append(where, "access_key_id = ?"), append(args, q.Value)
	case "ReadOnly":
		switch q.Value {
		case "true", "false":
			where, args = append(where, "read_only = ?"), append(args, q.Value == "true")
		default:
			return "", nil, fmt.Errorf("store: lookup audit: ReadOnly is %q, want true or false", q.Value)
		}
	case "ResourceType":
		where = append(where, `EXISTS (SELECT 1 FROM audit_resources x
			WHERE x.chain_id = audit_events.chain_id AND x.seq = audit_events.seq AND x.type = ?)`)
		args = append(args, q.Value)
	case "ResourceName":
		where = append(where, `(chain_id, seq) IN (SELECT x.chain_id, x.seq FROM audit_resources x WHERE x.name = ?)`)
		args = append(args, q.Value)
	default:
		return "", nil, fmt.Errorf("store: lookup audit: unknown attribute %q", q.Attribute)
	}
	if c := after; c != nil {
		where = append(where, "(event_time, chain_id, seq) < (?, ?, ?)")
		args = append(args, c.Time.UnixMicro(), c.ChainID, c.Seq)
	}
	args = append(args, q.Limit+1)
	from := "audit_events"
	if index != "" && db.dialect == DialectSQLite {
		from += " INDEXED BY " + index
	}
	return `SELECT * FROM ` + from + ` WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY event_time DESC, chain_id DESC, seq DESC LIMIT ?`, args, nil
}

// scanRecords reads rows of recordColumns, one row per resource of a record (or one row with
// NULL resource columns for a record without), ordered by record, and calls fn per record.
func scanRecords(rows *sql.Rows, fn func(*audit.Record) error) error {
	var cur *audit.Record
	for rows.Next() {
		var (
			r                      audit.Record
			eventTime              int64
			rType, rName, rAccount sql.NullString
		)
		err := rows.Scan(&r.ChainID, &r.Seq, &r.PrevHash, &r.Hash, &r.Body, &r.EventID, &r.AccountID,
			&eventTime, &r.EventName, &r.EventSource, &r.Username, &r.AccessKeyID, &r.ReadOnly,
			&rType, &rName, &rAccount)
		if err != nil {
			return err
		}
		if cur == nil || cur.ChainID != r.ChainID || cur.Seq != r.Seq {
			if cur != nil {
				if err := fn(cur); err != nil {
					return err
				}
			}
			r.EventTime = time.UnixMicro(eventTime).UTC()
			cur = &r
		}
		if rName.Valid {
			cur.Resources = append(cur.Resources, audit.Resource{ARN: rName.String, Type: rType.String, AccountID: rAccount.String})
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if cur != nil {
		return fn(cur)
	}
	return nil
}

// AuditChain describes one writer's audit chain.
type AuditChain struct {
	ID, NodeID string
	Writer     int
	StartedAt  time.Time
	Length     int64 // sequence number of the last record; 0 for a chain without records
}

// AuditChains returns every audit chain, oldest first.
func (db *DB) AuditChains(ctx context.Context) ([]AuditChain, error) {
	var chains []AuditChain
	err := db.View(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `SELECT c.id, c.node_id, c.writer, c.started_at,
			COALESCE((SELECT MAX(e.seq) FROM audit_events e WHERE e.chain_id = c.id), 0)
			FROM audit_chains c ORDER BY c.started_at, c.id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c AuditChain
			if err := rows.Scan(&c.ID, &c.NodeID, &c.Writer, ScanTime(&c.StartedAt), &c.Length); err != nil {
				return err
			}
			chains = append(chains, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: audit chains: %w", err)
	}
	return chains, nil
}

// ScanAuditChain calls fn for every record of a chain in sequence order (Body, PrevHash, Hash
// and the indexed columns exactly as stored) and stops at fn's first error, which it returns.
// It returns an error wrapping ErrNotFound when the chain does not exist.
func (db *DB) ScanAuditChain(ctx context.Context, chainID string, fn func(*audit.Record) error) error {
	var fnErr error
	err := db.View(ctx, func(tx *Tx) error {
		var one int
		err := tx.QueryRow(ctx, `SELECT 1 FROM audit_chains WHERE id = ?`, chainID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+recordColumns+`
			FROM audit_events e LEFT JOIN audit_resources r ON r.chain_id = e.chain_id AND r.seq = e.seq
			WHERE e.chain_id = ? ORDER BY e.seq, r.idx`, chainID)
		if err != nil {
			return err
		}
		defer rows.Close()
		return scanRecords(rows, func(r *audit.Record) error {
			if err := fn(r); err != nil {
				fnErr = err
				return err
			}
			return nil
		})
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("store: scan audit chain %s: %w", chainID, err)
	}
	return nil
}
