package store_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/loadgen"
	"github.com/allot-dev/allot/internal/secrets"
	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

// The inventory benchmarks run ListResourceInventory's query (Tx.Resources) over a synthetic
// inventory of 1,000,000 resources (loadgen.InventorySpec: instances of eight platforms,
// hosts, images, managed instances with applications, four accounts, two regions), or
// ALLOT_BENCH_INVENTORY_RESOURCES of them. Seeding takes minutes (2 to 5 on SQLite, 2 on
// PostgreSQL here), so the seeded database is kept and reused by later runs: on SQLite a file
// in the OS temporary directory ($TMPDIR), allot-bench-inventory-KEY.db (1 GB); on PostgreSQL
// (when ALLOT_TEST_POSTGRES_DSN is set) a database allot_bench_inventory_KEY on that server.
// KEY hashes inventorySeedVersion, the size, the seed's code (loadgen/inventory.go) and the
// dialect's migrations of the inventory tables, so a changed seed or inventory migration makes
// a new database (other new migrations are applied to the kept one when it is opened); older
// SQLite files are deleted when a new one is made. Delete the file to force a reseed.

// inventorySeedVersion names the shape of the seeded inventory: change it to reseed.
const inventorySeedVersion = "inventory-v1"

// inventorySeedSetting marks a seeded database: it is written in the seed's transaction.
const inventorySeedSetting = "bench_inventory_seed"

// Accounts of the synthetic inventory: a management account and three members.
var inventoryAccounts = []string{"111111111111", "222222222222", "333333333333", "444444444444"}

func inventorySize(tb testing.TB) int {
	n := 1_000_000
	if v := os.Getenv("ALLOT_BENCH_INVENTORY_RESOURCES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			tb.Fatalf("ALLOT_BENCH_INVENTORY_RESOURCES=%q: want a positive number", v)
		}
	}
	return n
}

func inventorySpec(n int) loadgen.InventorySpec {
	return loadgen.InventorySpec{Resources: n, Accounts: inventoryAccounts, Region: "us-east-1", OtherRegion: "eu-west-1", Seed: 1}
}

// inventoryKey names the seeded database of a dialect and size.
func inventoryKey(tb testing.TB, dialect string, n int) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s %d\n", inventorySeedVersion, n)
	dir := filepath.Join("migrations", dialect)
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	files := []string{filepath.Join("..", "loadgen", "inventory.go")}
	for _, e := range entries {
		files = append(files, filepath.Join(dir, e.Name()))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		// Migrations of other tables do not change what is measured: opening the database
		// applies new ones.
		if strings.HasSuffix(f, ".sql") && !strings.Contains(string(data), "inventory_") {
			continue
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// inventoryBox is the seeded databases' master key: fixed, as they hold no secret and later
// runs must open them.
func inventoryBox(tb testing.TB) *secrets.Box {
	key := sha256.Sum256([]byte("allot bench inventory"))
	box, err := secrets.New(key[:])
	if err != nil {
		tb.Fatal(err)
	}
	return box
}

// openInventory opens the seeded database at dsn, seeding it first unless it has been.
func openInventory(tb testing.TB, dsn, key string, n int) *store.DB {
	tb.Helper()
	ctx := context.Background()
	db := storetest.OpenDSN(tb, dsn, inventoryBox(tb), store.Options{})
	var seeded string
	err := db.View(ctx, func(tx *store.Tx) error {
		var err error
		seeded, err = tx.Setting(ctx, inventorySeedSetting)
		if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	if seeded == key {
		return db
	}
	start := time.Now()
	tb.Logf("seeding %d resources (once; kept for later runs)", n)
	err = db.Update(ctx, func(tx *store.Tx) error {
		if err := loadgen.SeedInventory(ctx, tx, inventorySpec(n)); err != nil {
			return err
		}
		return tx.PutSetting(ctx, inventorySeedSetting, key)
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("seeded %d resources in %s", n, time.Since(start).Round(time.Second))
	return db
}

// inventorySQLite returns the path of the seeded SQLite database, seeding it if needed, and
// deletes files of older seeds.
func inventorySQLite(tb testing.TB, n int) string {
	key := inventoryKey(tb, "sqlite", n)
	path := filepath.Join(os.TempDir(), "allot-bench-inventory-"+key+".db")
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), "allot-bench-inventory-*.db*"))
	for _, f := range old {
		if !strings.HasPrefix(filepath.Base(f), filepath.Base(path)) {
			os.Remove(f)
		}
	}
	db := openInventory(tb, path, key, n)
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// inventoryPostgres returns the DSN of the seeded PostgreSQL database, creating and seeding
// it if needed, or skips without ALLOT_TEST_POSTGRES_DSN.
func inventoryPostgres(tb testing.TB, n int) string {
	admin := os.Getenv("ALLOT_TEST_POSTGRES_DSN")
	if admin == "" {
		tb.Skip("PostgreSQL skipped: set ALLOT_TEST_POSTGRES_DSN to an admin DSN")
	}
	key := inventoryKey(tb, "postgres", n)
	name := "allot_bench_inventory_" + key
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		tb.Fatal(err)
	}
	defer adb.Close()
	var exists bool
	if err := adb.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		tb.Fatal(err)
	}
	if !exists {
		if _, err := adb.Exec("CREATE DATABASE " + name); err != nil {
			tb.Fatal(err)
		}
	}
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	dsn := u.String()
	db := openInventory(tb, dsn, key, n)
	if err := db.Update(context.Background(), func(tx *store.Tx) error {
		_, err := tx.Exec(context.Background(), `ANALYZE inventory_resources`)
		if err == nil {
			_, err = tx.Exec(context.Background(), `ANALYZE inventory_applications`)
		}
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	db.Close()
	return dsn
}

// inventoryCase is one ListResourceInventory query of the benchmark.
type inventoryCase struct {
	name  string
	q     store.ResourceQuery
	pages bool // walk every page, not only the first
}

// listedStates are the states ListResourceInventory lists.
var listedStates = []string{"pending", "running", "stopping", "stopped", "available", store.ManagedActive}

// inventoryCases are the queries users send, over the whole organization's inventory (the
// management account's view) unless named "own account".
func inventoryCases() []inventoryCase {
	platforms, apps := loadgen.InventoryPlatforms(), loadgen.InventoryApplications()
	rarePlatform, rareApp := platforms[len(platforms)-1], apps[len(apps)-1]
	org := func(conds ...store.InventoryCondition) store.ResourceQuery {
		return store.ResourceQuery{AccountIDs: inventoryAccounts, Region: "us-east-1", States: listedStates, Conditions: conds}
	}
	c := func(attr, cond, value string) store.InventoryCondition {
		return store.InventoryCondition{Attribute: attr, Condition: cond, Value: value}
	}
	own := org(c("platform", store.ConditionEquals, rarePlatform))
	own.AccountIDs, own.AccountID = nil, inventoryAccounts[0]
	return []inventoryCase{
		{name: "no-filter/first-page", q: org()},
		{name: "platform-EQUALS-rare/first-page", q: org(c("platform", store.ConditionEquals, rarePlatform))},
		{name: "platform-EQUALS-rare/all-pages", q: org(c("platform", store.ConditionEquals, rarePlatform)), pages: true},
		{name: "platform-EQUALS-rare/own-account/all-pages", q: own, pages: true},
		{name: "platform-EQUALS-common/first-page", q: org(c("platform", store.ConditionEquals, "Windows"))},
		{name: "platform-BEGINS_WITH-common/first-page", q: org(c("platform", store.ConditionBeginsWith, "Windows"))},
		{name: "platform-BEGINS_WITH-rare/first-page", q: org(c("platform", store.ConditionBeginsWith, "Red Hat Enterprise Linux with"))},
		{name: "platform-NOT_EQUALS/first-page", q: org(c("platform", store.ConditionNotEquals, "Linux/UNIX"))},
		{name: "platform-CONTAINS/first-page", q: org(c("platform", store.ConditionContains, "SQL Server Enterprise"))},
		{name: "resource_id-BEGINS_WITH/first-page", q: org(c("resource_id", store.ConditionBeginsWith, "i-0ab"))},
		{name: "resource_id-BEGINS_WITH/all-pages", q: org(c("resource_id", store.ConditionBeginsWith, "i-0ab")), pages: true},
		{name: "resource_id-NOT_EQUALS/first-page", q: org(c("resource_id", store.ConditionNotEquals, "i-0"))},
		{name: "account_id-EQUALS/first-page", q: org(c("account_id", store.ConditionEquals, inventoryAccounts[2]))},
		{name: "account_id-EQUALS-instances-mi/first-page", q: org(c("account_id", store.ConditionEquals, inventoryAccounts[2]),
			c("resource_id", store.ConditionBeginsWith, "mi-"))},
		{name: "application_name-EQUALS-rare/first-page", q: org(c("application_name", store.ConditionEquals, rareApp))},
		{name: "application_name-EQUALS-rare/all-pages", q: org(c("application_name", store.ConditionEquals, rareApp)), pages: true},
		{name: "application_name-EQUALS-common/first-page", q: org(c("application_name", store.ConditionEquals, "nginx"))},
		{name: "application_name-BEGINS_WITH/first-page", q: org(c("application_name", store.ConditionBeginsWith, "Oracle"))},
		{name: "application_name-BEGINS_WITH-several/first-page", q: org(c("application_name", store.ConditionBeginsWith, "p"))},
	}
}

// pageSize is ListResourceInventory's default (and largest) page.
const pageSize = 100

// listInventory runs c's query as ListResourceInventory does, one read transaction per page
// of pageSize (a page asks for one row more, to know whether another follows), and returns
// the rows and pages it read.
func listInventory(ctx context.Context, db *store.DB, c inventoryCase) (rows, pages int, err error) {
	rs, pages, err := pageInventory(ctx, db, c.q, pageSize, c.pages)
	return len(rs), pages, err
}

// pageInventory reads q's pages of size rows (the first only unless all) and returns the
// resources and the pages read.
func pageInventory(ctx context.Context, db *store.DB, q store.ResourceQuery, size int, all bool) ([]*store.Resource, int, error) {
	q.Limit = size + 1
	var out []*store.Resource
	for pages := 1; ; pages++ {
		var rs []*store.Resource
		err := db.View(ctx, func(tx *store.Tx) error {
			var err error
			rs, err = tx.Resources(ctx, q)
			return err
		})
		if err != nil {
			return out, pages, err
		}
		out = append(out, rs[:min(len(rs), size)]...)
		if len(rs) <= size || !all {
			return out, pages, nil
		}
		q.After = rs[size-1].ID
	}
}

// TestInventoryQueries checks that the benchmark's queries, and others of each attribute and
// condition, page through a synthetic inventory of 8,000 resources and return exactly the
// resources, in ID order, that a plain reading of the conditions selects: the shapes
// Resources gives its SQL for the indexes (walking an application's installations, lists of
// platforms or application names, ID ranges) must not change what it returns. Some
// applications are installed for two architectures, which must not repeat a resource.
func TestInventoryQueries(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { testInventoryQueries(t, sqliteDSN(t)) })
	t.Run("PostgreSQL", func(t *testing.T) { testInventoryQueries(t, postgresDSN(t)) })
}

func testInventoryQueries(t *testing.T, dsn string) {
	ctx := context.Background()
	spec := inventorySpec(8_000)
	db := storetest.OpenDSN(t, dsn, storetest.NewBox(t), store.Options{})
	apps := map[string][]string{} // by resource ARN
	err := db.Update(ctx, func(tx *store.Tx) error {
		if err := loadgen.SeedInventory(ctx, tx, spec); err != nil {
			return err
		}
		for i := range spec.Resources {
			r := spec.Resource(i)
			apps[r.ARN] = r.Applications
			if i%7 != 0 {
				continue
			}
			for _, a := range r.Applications {
				if _, err := tx.Exec(ctx, `INSERT INTO inventory_applications (resource_arn, name, architecture, version, publisher)
					VALUES (?, ?, 'arm64', '1.0', 'synthetic')`, r.ARN, a); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c := func(attr, cond, value string) store.InventoryCondition {
		return store.InventoryCondition{Attribute: attr, Condition: cond, Value: value}
	}
	cases := inventoryCases()
	scope := cases[0].q
	scope.Conditions = nil
	var listed string // the ID of a resource the cases' scope lists
	for i := range spec.Resources {
		if r := spec.Resource(i); selects(scope, r.Resource, nil) {
			listed = r.ID
			break
		}
	}
	more := []struct {
		name  string
		conds []store.InventoryCondition
	}{
		{"application_name-CONTAINS", []store.InventoryCondition{c("application_name", store.ConditionContains, "SQL")}},
		{"application_name-NOT_EQUALS", []store.InventoryCondition{c("application_name", store.ConditionNotEquals, "nginx")}},
		{"application_name-BEGINS_WITH-none", []store.InventoryCondition{c("application_name", store.ConditionBeginsWith, "zz")}},
		{"two-applications", []store.InventoryCondition{c("application_name", store.ConditionEquals, "nginx"), c("application_name", store.ConditionBeginsWith, "doc")}},
		{"application-and-platform", []store.InventoryCondition{c("application_name", store.ConditionBeginsWith, "py"), c("platform", store.ConditionBeginsWith, "Ubuntu")}},
		{"platform-BEGINS_WITH-none", []store.InventoryCondition{c("platform", store.ConditionBeginsWith, "Plan 9")}},
		{"platform-CONTAINS-and-resource_id", []store.InventoryCondition{c("platform", store.ConditionContains, "Linux"), c("resource_id", store.ConditionBeginsWith, "i-0")}},
		{"resource_id-EQUALS", []store.InventoryCondition{c("resource_id", store.ConditionEquals, listed)}},
		{"resource_type-EQUALS", []store.InventoryCondition{c("resource_type", store.ConditionEquals, store.ResourceHost)}},
		{"account_id-NOT_EQUALS", []store.InventoryCondition{c("account_id", store.ConditionNotEquals, inventoryAccounts[0])}},
	}
	for _, m := range more {
		q := cases[0].q
		q.Conditions = m.conds
		cases = append(cases, inventoryCase{name: m.name, q: q, pages: true})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want []string
			for i := range spec.Resources {
				if r := spec.Resource(i); selects(tc.q, r.Resource, apps[r.ARN]) {
					want = append(want, r.ID)
				}
			}
			slices.Sort(want)
			if len(want) == 0 && !strings.HasSuffix(tc.name, "-none") {
				t.Fatalf("%+v selects nothing of the synthetic inventory: the case checks nothing", tc.q.Conditions)
			}
			got, _, err := pageInventory(ctx, db, tc.q, 23, true)
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]string, len(got))
			for i, r := range got {
				ids[i] = r.ID
			}
			if !slices.Equal(ids, want) {
				t.Errorf("%+v: %d resources, want %d\n got %.300v\nwant %.300v", tc.q.Conditions, len(ids), len(want), ids, want)
			}
		})
	}
}

// selects reports whether q selects r, whose installed applications are apps, read plainly.
func selects(q store.ResourceQuery, r *store.Resource, apps []string) bool {
	accounts := q.AccountIDs
	if accounts == nil {
		accounts = []string{q.AccountID}
	}
	if r.Region != q.Region || !slices.Contains(accounts, r.AccountID) || !slices.Contains(q.States, r.State) {
		return false
	}
	for _, c := range q.Conditions {
		test := func(v string) bool {
			switch c.Condition {
			case store.ConditionEquals, store.ConditionNotEquals:
				return v == c.Value
			case store.ConditionBeginsWith:
				return strings.HasPrefix(v, c.Value)
			}
			return strings.Contains(v, c.Value)
		}
		var ok bool
		switch c.Attribute {
		case "application_name":
			ok = slices.ContainsFunc(apps, test)
		case "platform":
			ok = test(r.Platform)
		case "resource_id":
			ok = test(r.ID)
		case "resource_type":
			ok = test(r.Type)
		case "account_id":
			ok = test(r.AccountID)
		}
		if ok == (c.Condition == store.ConditionNotEquals) {
			return false
		}
	}
	return true
}

// BenchmarkInventoryFilter measures ListResourceInventory's query over 1,000,000 resources
// (see above): the first page of each filter users send, and every page of selective ones.
// It reports the rows and pages read; a page should take at most 100 ms.
func BenchmarkInventoryFilter(b *testing.B) {
	n := inventorySize(b)
	dialects := []struct {
		name string
		dsn  func(testing.TB, int) string
	}{{"sqlite", inventorySQLite}, {"postgres", inventoryPostgres}}
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			db := storetest.OpenDSN(b, d.dsn(b, n), inventoryBox(b), store.Options{})
			ctx := context.Background()
			for _, c := range inventoryCases() {
				b.Run(c.name, func(b *testing.B) {
					var rows, pages int
					for b.Loop() {
						var err error
						if rows, pages, err = listInventory(ctx, db, c); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(rows), "rows")
					b.ReportMetric(float64(pages), "pages")
					b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*pages), "ms/page")
				})
			}
		})
	}
}

// BenchmarkInventoryLaunchWrite measures what the inventory's indexes cost the launch path:
// 64 goroutines each add an instance row and its audit event through Update (as
// RunInstances's transaction does, without its license checks) into a copy of the seeded
// SQLite inventory, with every index and without those of migration 00016, in the same run.
func BenchmarkInventoryLaunchWrite(b *testing.B) {
	n := inventorySize(b)
	seeded := inventorySQLite(b, n)
	for _, variant := range []string{"all-indexes", "without-00016"} {
		b.Run("sqlite/"+variant, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "inventory.db")
			copyFile(b, seeded, path)
			db := storetest.OpenDSN(b, path, inventoryBox(b), store.Options{})
			if variant == "without-00016" {
				dropInventoryIndexes(b, db)
			}
			benchmarkLaunchWrite(b, db)
		})
	}
}

// inventoryIndexes00016 are the indexes migration 00016 adds.
var inventoryIndexes00016 = []string{"inventory_resources_platform", "inventory_resources_scope"}

func dropInventoryIndexes(tb testing.TB, db *store.DB) {
	ctx := context.Background()
	err := db.Update(ctx, func(tx *store.Tx) error {
		for _, ix := range inventoryIndexes00016 {
			if _, err := tx.Exec(ctx, `DROP INDEX IF EXISTS `+ix); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func copyFile(tb testing.TB, from, to string) {
	data, err := os.ReadFile(from)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		tb.Fatal(err)
	}
}

func benchmarkLaunchWrite(b *testing.B, db *store.DB) {
	ctx := context.Background()
	var seq atomic.Int64
	platforms := loadgen.InventoryPlatforms()
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	before := db.WriteStats()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			id := fmt.Sprintf("i-1%016x", uint64(i)*0x9e3779b97f4a7c15)
			now := time.Now()
			r := &store.Resource{ARN: "arn:aws:ec2:us-east-1:" + inventoryAccounts[0] + ":instance/" + id, ID: id, Type: store.ResourceInstance,
				AccountID: inventoryAccounts[0], Region: "us-east-1", State: "running", InstanceType: "m5.large", InstanceFamily: "m5",
				Platform: platforms[i%int64(len(platforms))], Architecture: "x86_64", VCPUs: 2, Cores: 1, ThreadsPerCore: 2, Tenancy: "default",
				ImageID: "ami-0123456789abcdef0", AvailabilityZone: "us-east-1a", ReservationID: "r-" + id[2:], CreatedAt: now, UpdatedAt: now, LastSeenAt: now}
			p := audit.NewPending(storetest.NewEvent(inventoryAccounts[0], storetest.EventOpts{Name: "RunInstances"}))
			if err := db.Update(audit.WithPending(ctx, p), func(tx *store.Tx) error { return tx.AddResource(ctx, r) }); err != nil {
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
}
