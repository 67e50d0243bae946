package store_test

import (
	"context"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

// BenchmarkUpdate measures durable writes through Update from ~64 goroutines, each inserting a
// small row with an audit event (as every real call has one), with group commit (MaxBatch
// default) and without (MaxBatch 1). PostgreSQL runs when ALLOT_TEST_POSTGRES_DSN is set.
func BenchmarkUpdate(b *testing.B) {
	dialects := []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", sqliteDSN}}
	if os.Getenv("ALLOT_TEST_POSTGRES_DSN") != "" {
		dialects = append(dialects, struct {
			name string
			dsn  func(testing.TB) string
		}{"postgres", postgresDSN})
	}
	modes := []struct {
		name     string
		maxBatch int
	}{{"group", 0}, {"single", 1}}
	for _, d := range dialects {
		for _, m := range modes {
			b.Run(d.name+"/"+m.name, func(b *testing.B) {
				benchmarkUpdate(b, storetest.OpenDSN(b, d.dsn(b), storetest.NewBox(b), store.Options{MaxBatch: m.maxBatch}))
			})
		}
	}
}

func benchmarkUpdate(b *testing.B, db *store.DB) {
	ctx := context.Background()
	err := db.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `CREATE TABLE bench_rows (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)`)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	payload := strings.Repeat("x", 200)
	const account = "123456789012"
	var seq atomic.Int64
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	before := db.WriteStats()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := seq.Add(1)
			p := audit.NewPending(storetest.NewEvent(account, storetest.EventOpts{Name: "CheckoutLicense"}))
			err := db.Update(audit.WithPending(ctx, p), func(tx *store.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO bench_rows (id, payload) VALUES (?, ?)`, id, payload)
				return err
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	after := db.WriteStats()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
	if txs := after.Transactions - before.Transactions; txs > 0 {
		b.ReportMetric(float64(after.Requests-before.Requests)/float64(txs), "req/tx")
	}
	var n int64
	err = db.View(ctx, func(tx *store.Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM bench_rows`).Scan(&n)
	})
	if err != nil || n != int64(b.N) {
		b.Fatalf("%d rows after %d writes (%v)", n, b.N, err)
	}
}
