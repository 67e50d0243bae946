package licenseconfig

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

// onStores runs test on SQLite and, when ALLOT_TEST_POSTGRES_DSN names a server, on
// PostgreSQL (skipped otherwise).
func onStores(t *testing.T, test func(t *testing.T, f *fixture)) {
	t.Run("SQLite", func(t *testing.T) { test(t, newFixture(t)) })
	t.Run("PostgreSQL", func(t *testing.T) { test(t, newFixtureDSN(t, storetest.PostgresDSN(t))) })
}

// newFixtureDSN is newFixture on the database dsn names.
func newFixtureDSN(t *testing.T, dsn string) *fixture {
	db := storetest.OpenDSN(t, dsn, storetest.NewBox(t), store.Options{})
	f := &fixture{t: t, ctx: context.Background(), db: db, svc: &Service{DB: db, Logger: storetest.Quiet()},
		caller: identity.Root("111122223333", "AKIACALLER"), other: identity.Root("444455556666", "AKIAOTHER")}
	for _, p := range []*identity.Principal{f.caller, f.other} {
		if err := db.Update(f.ctx, func(tx *store.Tx) error {
			return tx.CreateAccount(f.ctx, &store.Account{ID: p.AccountID, Name: "a", Status: "ACTIVE", CreatedAt: tx.Now()})
		}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func pfilter(name, comparator string, values ...string) ProductInformationFilter {
	return ProductInformationFilter{ProductInformationFilterName: ptr(name), ProductInformationFilterComparator: ptr(comparator), ProductInformationFilterValue: values}
}

// ssm returns one SSM_MANAGED product information entry with filters.
func ssm(filters ...ProductInformationFilter) ProductInformation {
	return ProductInformation{ResourceType: ptr(productSSM), ProductInformationFilterList: filters}
}

var (
	oracleDB = store.Application{Name: "Oracle Database", Publisher: "Oracle", Version: "19.3", Architecture: "x86_64"}
	nginx    = store.Application{Name: "nginx", Publisher: "F5", Version: "1.24", Architecture: "x86_64"}
)

// machine returns a managed instance of the caller's, an Ubuntu server last seen at seen.
func (f *fixture) machine(id string, cores int64, seen time.Time) *store.Resource {
	return &store.Resource{ARN: ManagedInstanceARN("us-east-1", f.caller.AccountID, id), ID: id, Type: store.ResourceManaged,
		AccountID: f.caller.AccountID, Region: "us-east-1", State: store.ManagedActive, Platform: "Ubuntu", PlatformType: "Linux",
		PlatformVersion: "22.04", Architecture: "x86_64", VCPUs: cores * 2, Cores: cores, ThreadsPerCore: 2, Sockets: 1,
		ComputerName: "host-" + id, CreatedAt: seen, UpdatedAt: seen, LastSeenAt: seen}
}

// register stores a new managed instance with its applications and runs discovery for it,
// in one transaction, as the inventory agent's first report does.
func (f *fixture) register(r *store.Resource, apps ...store.Application) {
	f.t.Helper()
	if err := f.registerErr(r, apps...); err != nil {
		f.t.Fatalf("register %s: %v", r.ID, err)
	}
}

func (f *fixture) registerErr(r *store.Resource, apps ...store.Application) error {
	return f.db.Update(f.ctx, func(tx *store.Tx) error {
		if err := tx.AddResource(f.ctx, r); err != nil {
			return err
		}
		if err := tx.ReplaceApplications(f.ctx, r.ARN, apps); err != nil {
			return err
		}
		return f.svc.Discover(f.ctx, tx, r)
	})
}

// report stores a later report of a managed instance, active again, and runs discovery.
func (f *fixture) report(r *store.Resource, apps ...store.Application) {
	f.t.Helper()
	err := f.db.Update(f.ctx, func(tx *store.Tx) error {
		r.State, r.LastSeenAt, r.UpdatedAt = store.ManagedActive, tx.Now(), tx.Now()
		if err := tx.UpdateManagedInstance(f.ctx, r); err != nil {
			return err
		}
		if err := tx.ReplaceApplications(f.ctx, r.ARN, apps); err != nil {
			return err
		}
		return f.svc.Discover(f.ctx, tx, r)
	})
	if err != nil {
		f.t.Fatalf("report %s: %v", r.ID, err)
	}
}

// associated returns the resources associated with a configuration and what each holds.
func (f *fixture) associated(config string) map[string]int64 {
	f.t.Helper()
	out := map[string]int64{}
	err := f.db.View(f.ctx, func(tx *store.Tx) error {
		us, err := tx.LicenseUsages(f.ctx, store.LicenseUsageQuery{ConfigARN: config})
		for _, u := range us {
			out[u.ResourceARN] = u.Consumed
		}
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// alerts returns a configuration's alerts of one kind.
func (f *fixture) alerts(config, kind string) []*store.LicenseAlert {
	f.t.Helper()
	var out []*store.LicenseAlert
	err := f.db.View(f.ctx, func(tx *store.Tx) error {
		as, err := tx.LicenseAlerts(f.ctx, config)
		for _, a := range as {
			if a.Kind == kind {
				out = append(out, a)
			}
		}
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// failures returns the messages of a configuration's recorded failures of automated discovery.
func (f *fixture) failures(config string) []string {
	f.t.Helper()
	out, err := f.svc.ListFailuresForLicenseConfigurationOperations(f.ctx, f.caller, &ListFailuresForLicenseConfigurationOperationsInput{LicenseConfigurationArn: config})
	if err != nil {
		f.t.Fatalf("ListFailuresForLicenseConfigurationOperations: %v", err)
	}
	var msgs []string
	for _, x := range out.LicenseOperationFailureList {
		if x.OperationName != "AutomatedDiscovery" {
			f.t.Errorf("failure of operation %q, want AutomatedDiscovery", x.OperationName)
		}
		msgs = append(msgs, x.ErrorMessage)
	}
	return msgs
}

// checkConsumed checks a configuration's ConsumedLicenses and that it is the sum of what its
// associations hold.
func (f *fixture) checkConsumed(config string, want int64) {
	f.t.Helper()
	var sum int64
	for _, n := range f.associated(config) {
		sum += n
	}
	if got := f.get(config).ConsumedLicenses; got != want || sum != want {
		f.t.Errorf("ConsumedLicenses = %d, associations hold %d; want %d", got, sum, want)
	}
}

func TestDiscover_Filters(t *testing.T) {
	cases := []struct {
		name     string
		products []ProductInformation
		want     bool
	}{
		{"ApplicationName", []ProductInformation{ssm(pfilter("Application Name", "EQUALS", "nginx"))}, true},
		{"ApplicationNameCase", []ProductInformation{ssm(pfilter("Application Name", "EQUALS", "NGINX"))}, false},
		{"ApplicationNameOneOf", []ProductInformation{ssm(pfilter("Application Name", "EQUALS", "mysql", "nginx"))}, true},
		{"ApplicationNameAbsent", []ProductInformation{ssm(pfilter("Application Name", "EQUALS", "mysql"))}, false},
		{"ApplicationPublisher", []ProductInformation{ssm(pfilter("Application Publisher", "EQUALS", "Oracle"))}, true},
		{"ApplicationVersion", []ProductInformation{ssm(pfilter("Application Version", "EQUALS", "19.3"))}, true},
		{"OneApplicationHasAll", []ProductInformation{ssm(pfilter("Application Name", "EQUALS", "Oracle Database"),
			pfilter("Application Publisher", "EQUALS", "Oracle"), pfilter("Application Version", "EQUALS", "19.3"))}, true},
		{"NoApplicationHasAll", []ProductInformation{ssm(pfilter("Application Name", "EQUALS", "nginx"), pfilter("Application Version", "EQUALS", "19.3"))}, false},
		{"PlatformName", []ProductInformation{ssm(pfilter("Platform Name", "EQUALS", "Ubuntu"))}, true},
		{"PlatformNameOther", []ProductInformation{ssm(pfilter("Platform Name", "EQUALS", "Red Hat Enterprise Linux"))}, false},
		{"PlatformType", []ProductInformation{ssm(pfilter("Platform Type", "EQUALS", "Linux"))}, true},
		{"PlatformTypeOther", []ProductInformation{ssm(pfilter("Application Name", "EQUALS", "nginx"), pfilter("Platform Type", "EQUALS", "Windows"))}, false},
		{"AccountExcluded", []ProductInformation{ssm(pfilter("Application Name", "EQUALS", "nginx"), pfilter("AccountId", "NOT_EQUALS", "111122223333"))}, false},
		{"OtherAccountExcluded", []ProductInformation{ssm(pfilter("Application Name", "EQUALS", "nginx"), pfilter("AccountId", "NOT_EQUALS", "444455556666"))}, true},
		{"LicenseIncluded", []ProductInformation{ssm(pfilter("Platform Type", "EQUALS", "Linux"), pfilter("License Included", "EQUALS", "sql-server-web"))}, false},
		{"LicenseIncludedNot", []ProductInformation{ssm(pfilter("Platform Type", "EQUALS", "Linux"), pfilter("License Included", "NOT_EQUALS", "sql-server-web"))}, true},
		{"TagExclusion", []ProductInformation{ssm(pfilter("Application Name", "EQUALS", "nginx"), pfilter("Tag:env", "NOT_EQUALS"))}, true},
		{"SecondEntry", []ProductInformation{ssm(pfilter("Application Name", "EQUALS", "mysql")), ssm(pfilter("Application Publisher", "EQUALS", "F5"))}, true},
		{"RDSOnly", []ProductInformation{{ResourceType: ptr(productRDS), ProductInformationFilterList: []ProductInformationFilter{pfilter("Engine Edition", "EQUALS", "oracle-ee")}}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			// Reported before the configuration exists: CreateLicenseConfiguration discovers it.
			before := f.machine("mi-00000000000000001", 8, time.Now())
			f.register(before, oracleDB, nginx)
			cfg := f.create(&CreateLicenseConfigurationInput{Name: c.name, LicenseCountingType: CountInstance, ProductInformationList: c.products})
			// Reported after: its report discovers it.
			after := f.machine("mi-00000000000000002", 8, time.Now())
			f.register(after, oracleDB, nginx)
			got := f.associated(cfg)
			_, gotBefore := got[before.ARN]
			_, gotAfter := got[after.ARN]
			if gotBefore != c.want || gotAfter != c.want {
				t.Fatalf("associated: existing instance %v, new instance %v; want %v", gotBefore, gotAfter, c.want)
			}
			if c.want {
				f.checkConsumed(cfg, 2)
			}
		})
	}
}

func TestDiscover_RulesAndLimits(t *testing.T) {
	onStores(t, func(t *testing.T, f *fixture) {
		oracle := []ProductInformation{ssm(pfilter("Application Name", "EQUALS", "Oracle Database"))}
		hard := f.create(&CreateLicenseConfigurationInput{Name: "Oracle cores", LicenseCountingType: CountCore, LicenseCount: ptr[int64](16),
			LicenseCountHardLimit: ptr(true), LicenseRules: []string{"#minimumCores=8"}, ProductInformationList: oracle})
		soft := f.create(&CreateLicenseConfigurationInput{Name: "Oracle servers", LicenseCountingType: CountInstance, LicenseCount: ptr[int64](1),
			ProductInformationList: oracle})

		small := f.machine("mi-00000000000000001", 4, time.Now())
		f.register(small, oracleDB)
		big1 := f.machine("mi-00000000000000002", 16, time.Now())
		f.register(big1, oracleDB)
		big2 := f.machine("mi-00000000000000003", 8, time.Now())
		f.register(big2, oracleDB)
		// Later reports of the same machines change nothing and alert nothing more.
		for range 2 {
			f.report(small, oracleDB)
			f.report(big2, oracleDB)
		}

		if got := f.associated(hard); len(got) != 1 || got[big1.ARN] != 16 {
			t.Fatalf("hard-limited associations = %v, want %s with 16 cores only", got, big1.ARN)
		}
		f.checkConsumed(hard, 16)
		rule, limit := f.alerts(hard, AlertRuleViolation), f.alerts(hard, AlertLimitExceeded)
		if len(rule) != 1 || rule[0].ResourceARN != small.ARN || !strings.Contains(rule[0].Message, "needs at least 8 cores per resource (#minimumCores=8), and managed instance mi-00000000000000001 (host-mi-00000000000000001) has 4") {
			t.Errorf("RULE_VIOLATION alerts = %+v, want one for %s", rule, small.ARN)
		}
		if len(limit) != 1 || limit[0].ResourceARN != big2.ARN || limit[0].Consumed != 16 || limit[0].LicenseCount != 16 ||
			!strings.Contains(limit[0].Message, "has a hard limit of 16 cores: 16 are in use, and managed instance mi-00000000000000003 (host-mi-00000000000000003) needs 8 more") {
			t.Errorf("LIMIT_EXCEEDED alerts = %+v, want one for %s", limit, big2.ARN)
		}
		if fails := f.failures(hard); len(fails) != 2 {
			t.Errorf("failures = %q, want the rule violation and the limit, once each", fails)
		}

		// Over the soft limit all three are associated, and the second and third alert.
		if got := f.associated(soft); len(got) != 3 {
			t.Errorf("soft-limited associations = %v, want all three", got)
		}
		f.checkConsumed(soft, 3)
		if got := f.alerts(soft, AlertSoftLimitExceeded); len(got) != 2 {
			t.Errorf("SOFT_LIMIT_EXCEEDED alerts = %d, want 2", len(got))
		}

		// With room, the next report of the refused machine associates it; a later refusal
		// would be news again.
		if _, err := f.svc.UpdateLicenseConfiguration(f.ctx, f.caller, &UpdateLicenseConfigurationInput{LicenseConfigurationArn: hard, LicenseCount: ptr[int64](24)}); err != nil {
			t.Fatal(err)
		}
		f.report(big2, oracleDB)
		if got := f.associated(hard); len(got) != 2 || got[big2.ARN] != 8 {
			t.Errorf("after raising the count: associations = %v, want %s with 8", got, big2.ARN)
		}
		f.checkConsumed(hard, 24)
		var outcomes map[string]string
		f.db.View(f.ctx, func(tx *store.Tx) (err error) { outcomes, err = tx.DiscoveryOutcomes(f.ctx, big2.ARN); return err })
		if len(outcomes) != 0 {
			t.Errorf("outcomes of %s after its association = %v, want none", big2.ARN, outcomes)
		}
	})
}

// associateByHand stores an association as UpdateLicenseSpecificationsForResource does.
func (f *fixture) associateByHand(config string, r *store.Resource, units int64) {
	f.t.Helper()
	err := f.db.Update(f.ctx, func(tx *store.Tx) error {
		if _, ok, err := tx.ConsumeLicenses(f.ctx, config, units); err != nil || !ok {
			return fmt.Errorf("consume: %v %v", ok, err)
		}
		return tx.AddLicenseUsage(f.ctx, &store.LicenseUsage{ConfigARN: config, ResourceARN: r.ARN, ResourceType: r.Type,
			ResourceAccount: r.AccountID, Consumed: units, AssociatedAt: tx.Now()})
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func TestDiscover_DisassociateWhenNotFound(t *testing.T) {
	onStores(t, func(t *testing.T, f *fixture) {
		web := []ProductInformation{ssm(pfilter("Application Name", "EQUALS", "nginx"))}
		drop := f.create(&CreateLicenseConfigurationInput{Name: "drop", LicenseCountingType: CountVCPU, DisassociateWhenNotFound: ptr(true), ProductInformationList: web})
		keep := f.create(&CreateLicenseConfigurationInput{Name: "keep", LicenseCountingType: CountVCPU, ProductInformationList: web})
		m1 := f.machine("mi-00000000000000001", 2, time.Now())
		f.register(m1, nginx)
		m2 := f.machine("mi-00000000000000002", 2, time.Now())
		f.register(m2, oracleDB)
		f.associateByHand(drop, m2, 4)
		f.checkConsumed(drop, 8)

		// nginx is uninstalled from both: only the discovered association goes.
		f.report(m1, oracleDB)
		f.report(m2, oracleDB)
		if got := f.associated(drop); len(got) != 1 || got[m2.ARN] != 4 {
			t.Errorf("drop: associations = %v, want only the one made by hand (%s)", got, m2.ARN)
		}
		f.checkConsumed(drop, 4)
		if got := f.associated(keep); len(got) != 1 || got[m1.ARN] != 4 {
			t.Errorf("keep (no DisassociateWhenNotFound): associations = %v, want %s kept", got, m1.ARN)
		}
		// Installed again: associated again.
		f.report(m1, nginx, oracleDB)
		if got := f.associated(drop); len(got) != 2 || got[m1.ARN] != 4 {
			t.Errorf("drop after reinstalling: associations = %v", got)
		}
		f.checkConsumed(drop, 8)
		f.checkConsumed(keep, 4)
	})
}

func TestDiscover_ConfigurationChanges(t *testing.T) {
	onStores(t, func(t *testing.T, f *fixture) {
		// More instances than one page of discovery: 120 with Oracle, 5 with nginx, one
		// inactive with Oracle, and one of another account with Oracle.
		const n = 120
		now := time.Now()
		err := f.db.Update(f.ctx, func(tx *store.Tx) error {
			add := func(r *store.Resource, app store.Application) error {
				if err := tx.AddResource(f.ctx, r); err != nil {
					return err
				}
				return tx.ReplaceApplications(f.ctx, r.ARN, []store.Application{app})
			}
			for i := range n + 5 {
				app := oracleDB
				if i >= n {
					app = nginx
				}
				if err := add(f.machine(fmt.Sprintf("mi-%017d", i), 4, now), app); err != nil {
					return err
				}
			}
			idle := f.machine("mi-10000000000000000", 4, now)
			idle.State = store.ManagedInactive
			if err := add(idle, oracleDB); err != nil {
				return err
			}
			foreign := f.machine("mi-20000000000000000", 4, now)
			foreign.AccountID, foreign.ARN = f.other.AccountID, ManagedInstanceARN("us-east-1", f.other.AccountID, foreign.ID)
			return add(foreign, oracleDB)
		})
		if err != nil {
			t.Fatal(err)
		}
		cfg := f.create(&CreateLicenseConfigurationInput{Name: "Oracle", LicenseCountingType: CountCore, DisassociateWhenNotFound: ptr(true),
			ProductInformationList: []ProductInformation{ssm(pfilter("Application Name", "EQUALS", "Oracle Database"), pfilter("Platform Name", "EQUALS", "Ubuntu"))}})
		if got := f.associated(cfg); len(got) != n {
			t.Fatalf("after CreateLicenseConfiguration: %d associated, want %d (the account's active Oracle servers)", len(got), n)
		}
		f.checkConsumed(cfg, 4*n)

		// Now it describes nginx: the Oracle servers it discovered are released, the nginx ones associated.
		_, err = f.svc.UpdateLicenseConfiguration(f.ctx, f.caller, &UpdateLicenseConfigurationInput{LicenseConfigurationArn: cfg,
			ProductInformationList: []ProductInformation{ssm(pfilter("Application Name", "EQUALS", "nginx"))}})
		if err != nil {
			t.Fatal(err)
		}
		if got := f.associated(cfg); len(got) != 5 {
			t.Fatalf("after UpdateLicenseConfiguration: %d associated, want the 5 nginx servers", len(got))
		}
		f.checkConsumed(cfg, 4*5)

		// DISABLED discovers nothing; AVAILABLE again discovers what was missed meanwhile.
		set := func(status string) {
			t.Helper()
			if _, err := f.svc.UpdateLicenseConfiguration(f.ctx, f.caller, &UpdateLicenseConfigurationInput{LicenseConfigurationArn: cfg, LicenseConfigurationStatus: ptr(status)}); err != nil {
				t.Fatal(err)
			}
		}
		set("DISABLED")
		late := f.machine("mi-30000000000000000", 4, time.Now())
		f.register(late, nginx)
		if got := f.associated(cfg); len(got) != 5 {
			t.Fatalf("DISABLED: %d associated, want 5", len(got))
		}
		set("AVAILABLE")
		if got := f.associated(cfg); len(got) != 6 || got[late.ARN] != 4 {
			t.Fatalf("AVAILABLE again: %v, want %s associated too", got, late.ARN)
		}
	})
}

func TestSweepStale(t *testing.T) {
	onStores(t, func(t *testing.T, f *fixture) {
		cfg := f.create(&CreateLicenseConfigurationInput{Name: "web", LicenseCountingType: CountInstance, LicenseCount: ptr[int64](2),
			LicenseCountHardLimit: ptr(true), ProductInformationList: []ProductInformation{ssm(pfilter("Application Name", "EQUALS", "nginx"))}})
		now := time.Now().UTC().Truncate(time.Microsecond)
		gone := f.machine("mi-00000000000000001", 2, now.Add(-StalePeriod-time.Hour))
		f.register(gone, nginx)
		quiet := f.machine("mi-00000000000000002", 2, now.Add(-StalePeriod+time.Hour))
		f.register(quiet, nginx)
		f.checkConsumed(cfg, 2)

		n, err := f.svc.SweepStale(f.ctx, now)
		if err != nil || n != 1 {
			t.Fatalf("SweepStale = %d, %v; want 1", n, err)
		}
		var r *store.Resource
		f.db.View(f.ctx, func(tx *store.Tx) (err error) { r, err = tx.Resource(f.ctx, gone.ARN); return err })
		if r.State != store.ManagedInactive || !r.LastSeenAt.Equal(gone.LastSeenAt) {
			t.Errorf("after the sweep: state %s, last seen %v; want inactive, last seen %v", r.State, r.LastSeenAt, gone.LastSeenAt)
		}
		if got := f.associated(cfg); len(got) != 2 || got[gone.ARN] != 0 || got[quiet.ARN] != 1 {
			t.Errorf("associations = %v, want the stale instance's kept, holding nothing", got)
		}
		f.checkConsumed(cfg, 1)
		stale := f.alerts(cfg, AlertStaleInventory)
		if len(stale) != 1 || stale[0].ResourceARN != gone.ARN || !strings.Contains(stale[0].Message, "has not reported since "+gone.LastSeenAt.Format(time.RFC3339)) {
			t.Errorf("STALE_INVENTORY alerts = %+v, want one for %s", stale, gone.ARN)
		}
		// Again: nothing more to do.
		if n, err := f.svc.SweepStale(f.ctx, now); err != nil || n != 0 {
			t.Errorf("second SweepStale = %d, %v; want 0", n, err)
		}
		if got := len(f.alerts(cfg, AlertStaleInventory)); got != 1 {
			t.Errorf("STALE_INVENTORY alerts after a second sweep = %d, want 1", got)
		}

		// Its license goes to a new server; when the stale one reports again there is no room,
		// and it waits, holding nothing, until there is.
		f.register(f.machine("mi-00000000000000003", 2, now), nginx)
		f.checkConsumed(cfg, 2)
		f.report(gone, nginx)
		f.report(gone, nginx)
		if got := f.associated(cfg); got[gone.ARN] != 0 || len(f.alerts(cfg, AlertLimitExceeded)) != 1 {
			t.Errorf("back without room: holds %d, %d LIMIT_EXCEEDED alerts; want 0 and 1", got[gone.ARN], len(f.alerts(cfg, AlertLimitExceeded)))
		}
		if _, err := f.svc.UpdateLicenseConfiguration(f.ctx, f.caller, &UpdateLicenseConfigurationInput{LicenseConfigurationArn: cfg, LicenseCount: ptr[int64](3)}); err != nil {
			t.Fatal(err)
		}
		f.report(gone, nginx)
		if got := f.associated(cfg); got[gone.ARN] != 1 {
			t.Errorf("back with room: holds %d, want 1", got[gone.ARN])
		}
		f.checkConsumed(cfg, 3)
	})
}

// TestDiscover_ConcurrentHardLimit registers 100 matching machines at once against a hard
// limit of 40 instances: exactly 40 are associated, and the counter is the sum of what the
// associations hold.
func TestDiscover_ConcurrentHardLimit(t *testing.T) {
	onStores(t, func(t *testing.T, f *fixture) {
		const machines, limit = 100, 40
		cfg := f.create(&CreateLicenseConfigurationInput{Name: "agents", LicenseCountingType: CountInstance, LicenseCount: ptr[int64](limit),
			LicenseCountHardLimit: ptr(true), ProductInformationList: []ProductInformation{ssm(pfilter("Application Name", "EQUALS", "nginx"))}})
		var wg sync.WaitGroup
		errs := make(chan error, machines)
		for i := range machines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- f.registerErr(f.machine(fmt.Sprintf("mi-%017d", i), 2, time.Now()), nginx)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("register: %v", err)
			}
		}
		got := f.associated(cfg)
		if len(got) != limit {
			t.Errorf("%d associated, want %d", len(got), limit)
		}
		f.checkConsumed(cfg, limit)
		if n := len(f.alerts(cfg, AlertLimitExceeded)); n != machines-limit {
			t.Errorf("%d LIMIT_EXCEEDED alerts, want one per refused machine (%d)", n, machines-limit)
		}
	})
}

// TestDiscover_UnitsAndTooMany discovers one machine (4 cores, 8 vCPUs, 2 sockets) for
// configurations of every counting type, and for more configurations than a resource may have.
func TestDiscover_UnitsAndTooMany(t *testing.T) {
	f := newFixture(t)
	web := []ProductInformation{ssm(pfilter("Application Name", "EQUALS", "nginx"))}
	want := map[string]int64{}
	var order []string
	for i, ct := range []string{CountVCPU, CountCore, CountSocket, CountInstance} {
		for j := range 3 {
			arn := f.create(&CreateLicenseConfigurationInput{Name: fmt.Sprintf("%s-%d", ct, j), LicenseCountingType: ct, ProductInformationList: web})
			want[arn] = []int64{8, 4, 2, 1}[i]
			order = append(order, arn)
		}
	}
	m := f.machine("mi-00000000000000001", 4, time.Now())
	m.Sockets = 2
	f.register(m, nginx)
	f.report(m, nginx)
	slices.Sort(order) // discovery goes in ARN order: the last two find no room
	for i, arn := range order {
		got, ok := f.associated(arn)[m.ARN]
		switch {
		case i < MaxConfigurationsPerResource && (!ok || got != want[arn]):
			t.Errorf("%s (%s): holds %d (associated %v), want %d", f.get(arn).Name, arn, got, ok, want[arn])
		case i >= MaxConfigurationsPerResource:
			if ok {
				t.Errorf("%s: associated beyond the %d configurations a resource may have", arn, MaxConfigurationsPerResource)
			}
			if fails := f.failures(arn); len(fails) != 1 || !strings.Contains(fails[0], "associated with 10 license configurations already") {
				t.Errorf("%s: failures %q, want one saying the instance has 10 configurations", arn, fails)
			}
			if n := len(f.alerts(arn, AlertRuleViolation)) + len(f.alerts(arn, AlertLimitExceeded)); n != 0 {
				t.Errorf("%s: %d alerts, want none", arn, n)
			}
		}
	}
}
