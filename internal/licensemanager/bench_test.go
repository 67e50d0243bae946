package licensemanager

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

// BenchmarkCheckout measures the checkout hot path in process, without HTTP: ~64 goroutines
// each check out one seat of one hot license and check it in again, each call with its
// audit event as the server gives it, on SQLite (durable, group commit) and, when
// ALLOT_TEST_POSTGRES_DSN is set, PostgreSQL. An op is one checkout or one check-in; the
// ES256 token is signed as the server signs it. It fails if a seat is left out at the end.
func BenchmarkCheckout(b *testing.B) {
	dbs := []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "allot.db") }}}
	if os.Getenv("ALLOT_TEST_POSTGRES_DSN") != "" {
		dbs = append(dbs, struct {
			name string
			dsn  func(testing.TB) string
		}{"postgres", storetest.PostgresDSN})
	}
	for _, d := range dbs {
		for _, licenses := range []int{1, 64} {
			name := d.name + "/hot"
			if licenses > 1 {
				name = fmt.Sprintf("%s/spread%d", d.name, licenses)
			}
			b.Run(name, func(b *testing.B) {
				db := storetest.OpenDSN(b, d.dsn(b), storetest.NewBox(b), store.Options{})
				benchmarkCheckout(b, db, licenses)
			})
		}
	}
}

func benchmarkCheckout(b *testing.B, db *store.DB, licenses int) {
	ctx := context.Background()
	svc := &Service{DB: db}
	issuer := identity.Root("111122223333", "AKIAISSUER")
	if err := db.Update(ctx, func(tx *store.Tx) error {
		return tx.CreateAccount(ctx, &store.Account{ID: issuer.AccountID, Name: "a", Status: "ACTIVE", CreatedAt: tx.Now()})
	}); err != nil {
		b.Fatal(err)
	}
	arns := make([]string, licenses)
	year := time.Now().UTC().Year()
	for i := range arns {
		in := seatLicenseInput(fmt.Sprint("BENCH-", i), 1<<20)
		in.Validity = &DatetimeRange{Begin: ptr(fmt.Sprintf("%d-01-01T00:00:00Z", year-1)), End: ptr(fmt.Sprintf("%d-01-01T00:00:00Z", year+2))}
		in.ClientToken = fmt.Sprint("create-", i)
		out, err := svc.CreateLicense(ctx, issuer, in)
		if err != nil {
			b.Fatal(err)
		}
		arns[i] = out.LicenseArn
	}
	withEvent := func(name string) context.Context {
		return audit.WithPending(ctx, audit.NewPending(storetest.NewEvent(issuer.AccountID, storetest.EventOpts{Name: name})))
	}
	var seq atomic.Int64
	b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0))) // 64 goroutines on 2 cores
	before := db.WriteStats()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			in := seatCheckoutInput(fmt.Sprint("BENCH-", n%int64(licenses)), fmt.Sprint("bench-", n), 1)
			out, err := svc.CheckoutLicense(withEvent("CheckoutLicense"), issuer, in)
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := svc.CheckInLicense(withEvent("CheckInLicense"), issuer, &CheckInLicenseInput{LicenseConsumptionToken: out.LicenseConsumptionToken}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	after := db.WriteStats()
	b.ReportMetric(float64(2*b.N)/elapsed.Seconds(), "ops/s")
	if txs := after.Transactions - before.Transactions; txs > 0 {
		b.ReportMetric(float64(after.Requests-before.Requests)/float64(txs), "req/tx")
	}
	for _, arn := range arns {
		u, err := svc.GetLicenseUsage(ctx, issuer, &GetLicenseUsageInput{LicenseArn: arn})
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range u.LicenseUsage.EntitlementUsages {
			if e.Name == "Seats" && e.ConsumedValue != "0" {
				b.Fatalf("license %s: %s seats out after every checkout was checked in", arn, e.ConsumedValue)
			}
		}
	}
}
