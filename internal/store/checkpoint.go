package store

import (
	"database/sql"
	"fmt"
	"time"
)

const (
	// checkpointInterval is how often the checkpointer copies the WAL into the database file.
	checkpointInterval = 100 * time.Millisecond
	// writerAutocheckpoint is the WAL size, in pages, at which the writer checkpoints by
	// itself: a backstop should the checkpointer fall behind (SQLite's default is 1000).
	writerAutocheckpoint = 10000
)

// openCheckpointer opens the SQLite connection the checkpointer uses.
func (db *DB) openCheckpointer(uri string) error {
	c, err := sql.Open("sqlite", uri+"_pragma=busy_timeout(5000)")
	if err != nil {
		return fmt.Errorf("store: open checkpointer: %w", err)
	}
	c.SetMaxOpenConns(1)
	c.SetMaxIdleConns(1)
	c.SetConnMaxIdleTime(0)
	db.ckpt = c
	return nil
}

// runCheckpointer copies committed pages from the WAL into the database file
// (wal_checkpoint(PASSIVE)) on its own connection until stop is closed, so that the writer
// seldom spends a batch's time on it. PASSIVE never waits for the writer or readers; SQLite
// starts the WAL over once all of it is checkpointed, which keeps the file bounded.
func (db *DB) runCheckpointer(stop <-chan struct{}) {
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		var busy, logFrames, done int64
		err := db.ckpt.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &done)
		if err != nil && !failing {
			db.log.Warn("WAL checkpoint failed; the writer will checkpoint by itself", "err", err)
		}
		failing = err != nil
	}
}
