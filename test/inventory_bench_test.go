package test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/allot-dev/allot/internal/loadgen"
	"github.com/allot-dev/allot/internal/secrets"
	"github.com/allot-dev/allot/internal/store"
)

// inventoryServer starts a server whose database holds the synthetic inventory spec
// describes (loadgen.InventorySpec), written straight into it through the store between a
// first start (which makes the database, its accounts and master key) and a second.
func inventoryServer(t testing.TB, spec loadgen.InventorySpec, database string) *server {
	t.Helper()
	dir := t.TempDir()
	o := serverOptions{dataDir: dir, database: database, args: []string{"--access-log=false"}}
	startServer(t, o).stop()
	ctx := context.Background()
	key, _, err := secrets.LoadKey(dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	box, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	dsn := database
	if dsn == "" {
		dsn = filepath.Join(dir, "allot.db")
	}
	db, err := store.Open(ctx, dsn, store.Options{Box: box, NodeID: "inventory-seed", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(ctx, func(tx *store.Tx) error { return loadgen.SeedInventory(ctx, tx, spec) })
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return startServer(t, o)
}

// retryClosedConnections lets a client retry, as the SDK's default retryer does, a read
// call whose response the SDK's HTTP transport cut off by closing the connection (the
// server answered while the transport was still finishing the request; the SDK's "use of
// closed network connection", aws-sdk-go-v2#2737). The harness's clients retry nothing, so
// that a test sees every error; hundreds of pages in a row meet this race.
func retryClosedConnections(o *lm.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = 3
		so.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
	})
}

// inventoryFilter is a ListResourceInventory filter of the tests and benchmarks below.
type inventoryFilter struct {
	name, cond, value string
}

// inventoryQueries are the filters users send, each with a name.
func inventoryQueries() []struct {
	name    string
	filters []inventoryFilter
} {
	// The second rarest platform (nine instances in a thousand): the rarest has too few
	// resources in the test's smaller inventory.
	platforms, apps := loadgen.InventoryPlatforms(), loadgen.InventoryApplications()
	rarePlatform, rareApp := platforms[len(platforms)-2], apps[len(apps)-1]
	return []struct {
		name    string
		filters []inventoryFilter
	}{
		{"no-filter", nil},
		{"platform-EQUALS-rare", []inventoryFilter{{"platform", "EQUALS", rarePlatform}}},
		{"platform-EQUALS-common", []inventoryFilter{{"platform", "EQUALS", "Windows"}}},
		{"platform-BEGINS_WITH-common", []inventoryFilter{{"platform", "BEGINS_WITH", "Windows"}}},
		{"platform-BEGINS_WITH-rare", []inventoryFilter{{"platform", "BEGINS_WITH", "Windows with SQL Server E"}}},
		{"resource_id-NOT_EQUALS", []inventoryFilter{{"resource_id", "NOT_EQUALS", "i-00000000000000000"}}},
		{"account_id-EQUALS", []inventoryFilter{{"account_id", "EQUALS", rootAccount}}},
		{"application_name-EQUALS-rare", []inventoryFilter{{"application_name", "EQUALS", rareApp}}},
		{"application_name-EQUALS-common", []inventoryFilter{{"application_name", "EQUALS", "nginx"}}},
		{"application_name-BEGINS_WITH", []inventoryFilter{{"application_name", "BEGINS_WITH", "Oracle"}}},
		{"platform-and-application", []inventoryFilter{{"platform", "BEGINS_WITH", "Ubuntu"}, {"application_name", "EQUALS", "docker-ce"}}},
	}
}

func (f inventoryFilter) sdk() lmtypes.InventoryFilter {
	return lmtypes.InventoryFilter{Name: aws.String(f.name), Condition: lmtypes.InventoryFilterCondition(f.cond), Value: aws.String(f.value)}
}

// passes reports whether a resource of the synthetic inventory passes f, as License Manager
// defines the filter.
func (f inventoryFilter) passes(r loadgen.InventoryResource) bool {
	test := func(v string) bool {
		switch f.cond {
		case "EQUALS":
			return v == f.value
		case "NOT_EQUALS":
			return v != f.value
		case "BEGINS_WITH":
			return strings.HasPrefix(v, f.value)
		}
		panic("no condition " + f.cond)
	}
	switch f.name {
	case "platform":
		return test(r.Platform)
	case "resource_id":
		return test(r.ID)
	case "account_id":
		return test(r.AccountID)
	case "application_name":
		return slices.ContainsFunc(r.Applications, test)
	}
	panic("no filter " + f.name)
}

// inventoryStates are the states in which ListResourceInventory lists a resource.
var inventoryStates = []string{"pending", "running", "stopping", "stopped", "available", store.ManagedActive}

// wantInventory returns the resources of spec, in ID order, that ListResourceInventory lists
// to the root account in the test region with filters.
func wantInventory(spec loadgen.InventorySpec, filters []inventoryFilter) []loadgen.InventoryResource {
	var out []loadgen.InventoryResource
	for i := range spec.Resources {
		r := spec.Resource(i)
		if r.AccountID != rootAccount || r.Region != region || !slices.Contains(inventoryStates, r.State) {
			continue
		}
		if !slices.ContainsFunc(filters, func(f inventoryFilter) bool { return !f.passes(r) }) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b loadgen.InventoryResource) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// listInventory lists every page of ListResourceInventory with filters, maxResults per
// page (0: the default), and returns the resources and the number of pages.
func listInventory(ctx context.Context, c *lm.Client, filters []inventoryFilter, maxResults int32) ([]lmtypes.ResourceInventory, int, error) {
	in := &lm.ListResourceInventoryInput{}
	for _, f := range filters {
		in.Filters = append(in.Filters, f.sdk())
	}
	if maxResults > 0 {
		in.MaxResults = aws.Int32(maxResults)
	}
	var all []lmtypes.ResourceInventory
	for pages := 1; ; pages++ {
		out, err := c.ListResourceInventory(ctx, in)
		if err != nil {
			return all, pages, err
		}
		all = append(all, out.ResourceInventoryList...)
		if aws.ToString(out.NextToken) == "" {
			return all, pages, nil
		}
		in.NextToken = out.NextToken
	}
}

// TestListResourceInventory_Filters checks, with the AWS SDK for Go, that ListResourceInventory
// pages through a synthetic inventory of 12,000 resources (instances of eight platforms, hosts,
// images, managed instances with applications; some in another account or region) and returns
// exactly, in order, the resources each filter selects, on SQLite and PostgreSQL. It is the
// correctness side of BenchmarkListResourceInventory.
func TestListResourceInventory_Filters(t *testing.T) {
	spec := loadgen.InventorySpec{Resources: 12_000, Accounts: []string{rootAccount, "210987654321"}, Region: region, OtherRegion: "eu-west-1",
		Seed: 7, Time: time.Now().UTC().Add(-time.Hour)} // recent: managed instances silent for 30 days leave the inventory
	t.Run("SQLite", func(t *testing.T) { checkInventoryFilters(t, inventoryServer(t, spec, ""), spec) })
	t.Run("PostgreSQL", func(t *testing.T) { checkInventoryFilters(t, inventoryServer(t, spec, postgresDatabase(t)), spec) })
}

func checkInventoryFilters(t *testing.T, s *server, spec loadgen.InventorySpec) {
	ctx := context.Background()
	c := lm.NewFromConfig(s.awsConfig(rootKeyID, rootSecret), retryClosedConnections)
	for _, q := range inventoryQueries() {
		t.Run(q.name, func(t *testing.T) {
			want := wantInventory(spec, q.filters)
			if len(want) == 0 {
				t.Fatalf("the inventory has nothing for %v: the test would prove nothing", q.filters)
			}
			got, pages, err := listInventory(ctx, c, q.filters, 37)
			if err != nil {
				t.Fatalf("ListResourceInventory(%v): %v", q.filters, err)
			}
			gotIDs, wantIDs := make([]string, len(got)), make([]string, len(want))
			for i, r := range got {
				gotIDs[i] = aws.ToString(r.ResourceId)
			}
			for i, r := range want {
				wantIDs[i] = r.ID
			}
			if !slices.Equal(gotIDs, wantIDs) {
				t.Fatalf("ListResourceInventory(%v) in %d pages: %d resources, want %d\n got %s\nwant %s", q.filters, pages, len(gotIDs), len(wantIDs),
					abbreviate(gotIDs), abbreviate(wantIDs))
			}
			for i, r := range got {
				w := want[i]
				if aws.ToString(r.ResourceArn) != w.ARN || string(r.ResourceType) != w.Type || aws.ToString(r.Platform) != w.Platform ||
					aws.ToString(r.ResourceOwningAccountId) != w.AccountID || aws.ToString(r.Region) != w.Region {
					t.Errorf("%s: got %s %s %q %s %s; want %s %s %q %s %s", w.ID, aws.ToString(r.ResourceArn), r.ResourceType, aws.ToString(r.Platform),
						aws.ToString(r.ResourceOwningAccountId), aws.ToString(r.Region), w.ARN, w.Type, w.Platform, w.AccountID, w.Region)
				}
			}
			if wantPages := (len(want) + 36) / 37; pages != wantPages && pages != wantPages+1 {
				t.Errorf("%d pages of at most 37 for %d resources, want %d", pages, len(want), wantPages)
			}
		})
	}
}

// abbreviate shows the first and last few of a long list.
func abbreviate(xs []string) string {
	if len(xs) <= 8 {
		return fmt.Sprint(xs)
	}
	return fmt.Sprint(xs[:4], " … ", xs[len(xs)-4:])
}

// BenchmarkListResourceInventory measures ListResourceInventory end to end, through the AWS
// SDK for Go over HTTP, against a server whose database holds 100,000 resources (the synthetic
// inventory of loadgen.InventorySpec, all the caller's; seeded once, in a few seconds): the
// first page of each filter users send, and every page of the selective ones (NextToken by
// NextToken: License Manager's SDK has no paginator). GetCallerIdentity, the cheapest signed
// call, is the baseline measured in the same run. It reports ms per page and the rows.
func BenchmarkListResourceInventory(b *testing.B) {
	spec := loadgen.InventorySpec{Resources: 100_000, Accounts: []string{rootAccount}, Region: region, OtherRegion: "eu-west-1",
		Seed: 7, Time: time.Now().UTC().Add(-time.Hour)}
	s := inventoryServer(b, spec, "")
	ctx := context.Background()
	cfg := s.awsConfig(rootKeyID, rootSecret)
	c := lm.NewFromConfig(cfg, retryClosedConnections)
	b.Run("GetCallerIdentity", func(b *testing.B) {
		stsc := sts.NewFromConfig(cfg)
		for b.Loop() {
			if _, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, q := range inventoryQueries() {
		in := &lm.ListResourceInventoryInput{}
		for _, f := range q.filters {
			in.Filters = append(in.Filters, f.sdk())
		}
		b.Run(q.name+"/first-page", func(b *testing.B) {
			var rows int
			for b.Loop() {
				out, err := c.ListResourceInventory(ctx, in)
				if err != nil {
					b.Fatal(err)
				}
				rows = len(out.ResourceInventoryList)
			}
			b.ReportMetric(float64(rows), "rows")
		})
		if !strings.Contains(q.name, "rare") {
			continue
		}
		b.Run(q.name+"/all-pages", func(b *testing.B) {
			var rows, pages int
			for b.Loop() {
				all, n, err := listInventory(ctx, c, q.filters, 0)
				if err != nil {
					b.Fatal(err)
				}
				rows, pages = len(all), n
			}
			b.ReportMetric(float64(rows), "rows")
			b.ReportMetric(float64(pages), "pages")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*pages), "ms/page")
		})
	}
}
