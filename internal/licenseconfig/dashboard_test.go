package licenseconfig

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/authz"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awstime"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

// onEachStore runs test on a fresh fixture over SQLite and, when ALLOT_TEST_POSTGRES_DSN is
// set, over PostgreSQL.
func onEachStore(t *testing.T, test func(t *testing.T, f *fixture)) {
	t.Run("SQLite", func(t *testing.T) { test(t, newFixtureOn(t, filepath.Join(t.TempDir(), "allot.db"))) })
	t.Run("PostgreSQL", func(t *testing.T) { test(t, newFixtureOn(t, storetest.PostgresDSN(t))) })
}

// newFixtureOn is newFixture on the database dsn names.
func newFixtureOn(t *testing.T, dsn string) *fixture {
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

// instance stores a running (or state) instance of the caller's with a tenancy, on a
// Dedicated Host when host is set.
func (f *fixture) instance(n int, state, tenancy, host string, cores int64) *store.Resource {
	f.t.Helper()
	id := fmt.Sprintf("i-%017x", n)
	r := &store.Resource{ID: id, Type: store.ResourceInstance, ARN: InstanceARN("us-east-1", f.caller.AccountID, id), AccountID: f.caller.AccountID,
		Region: "us-east-1", State: state, Platform: "Linux/UNIX", InstanceType: "m5.8xlarge", VCPUs: cores * 2, Cores: cores, ThreadsPerCore: 2,
		Tenancy: tenancy, HostID: host}
	if host != "" {
		r.Sockets = 2
	}
	if err := f.db.Update(f.ctx, func(tx *store.Tx) error { return tx.AddResource(f.ctx, r) }); err != nil {
		f.t.Fatal(err)
	}
	return r
}

// alert stores an alert of a configuration raised at t.
func (f *fixture) alert(config, kind string, t time.Time, topic string) *store.LicenseAlert {
	f.t.Helper()
	a := &store.LicenseAlert{ConfigARN: config, AccountID: f.caller.AccountID, Kind: kind, ResourceARN: "arn:aws:ec2:us-east-1:111122223333:instance/i-0000000000000000f",
		Consumed: 3, LicenseCount: 2, Message: kind + " at " + t.Format(time.RFC3339Nano), CreatedAt: t, TopicARN: topic}
	if err := f.db.Update(f.ctx, func(tx *store.Tx) error { return tx.AddLicenseAlert(f.ctx, a) }); err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *fixture) dashboard(in *GetLicenseDashboardInput) map[string]DashboardConfiguration {
	f.t.Helper()
	out, err := f.svc.GetLicenseDashboard(f.ctx, f.caller, in)
	if err != nil {
		f.t.Fatalf("GetLicenseDashboard: %v", err)
	}
	m := map[string]DashboardConfiguration{}
	for i, c := range out.Configurations {
		if i > 0 && out.Configurations[i-1].LicenseConfigurationArn >= c.LicenseConfigurationArn {
			f.t.Errorf("configurations not in ARN order: %s before %s", out.Configurations[i-1].LicenseConfigurationArn, c.LicenseConfigurationArn)
		}
		m[c.Name] = c
	}
	return m
}

func TestService_GetLicenseDashboard(t *testing.T) {
	onEachStore(t, func(t *testing.T, f *fixture) {
		// Seed 001's operating system with a soft limit of 64 cores: three 16-core servers on
		// two Dedicated Hosts, then a 48-core host associated itself, which goes over.
		osCfg := f.create(&CreateLicenseConfigurationInput{Name: "OS", LicenseCountingType: CountCore, LicenseCount: ptr[int64](64),
			LicenseRules: []string{"#allowedTenancy=EC2-DedicatedHost"}})
		perInstance := f.create(&CreateLicenseConfigurationInput{Name: "agent", LicenseCountingType: CountInstance})
		empty := f.create(&CreateLicenseConfigurationInput{Name: "unused", LicenseCountingType: CountVCPU, LicenseCount: ptr[int64](8), LicenseCountHardLimit: ptr(true)})
		if _, err := f.svc.CreateLicenseConfiguration(f.ctx, f.other, &CreateLicenseConfigurationInput{Name: "theirs", LicenseCountingType: CountCore}); err != nil {
			t.Fatal(err)
		}
		host := f.resource(store.ResourceHost, "h-000000000000000a3", "available", 48)
		for i, h := range []string{"h-000000000000000a1", "h-000000000000000a1", "h-000000000000000a2"} {
			if err := f.associate(f.instance(i+1, "running", "host", h, 16).ARN, []string{osCfg}, nil); err != nil {
				t.Fatalf("associate server %d: %v", i+1, err)
			}
		}
		if err := f.associate(host.ARN, []string{osCfg}, nil); err != nil { // 48 more cores: 96 of 64
			t.Fatalf("associate host: %v", err)
		}
		// Lower the count below what is consumed: a hard limit no longer blocks the existing ones.
		if _, err := f.svc.UpdateLicenseConfiguration(f.ctx, f.caller, &UpdateLicenseConfigurationInput{LicenseConfigurationArn: osCfg, LicenseCount: ptr[int64](32)}); err != nil {
			t.Fatal(err)
		}
		for i, ten := range []string{"default", "default", "dedicated"} {
			if err := f.associate(f.instance(10+i, "running", ten, "", 2).ARN, []string{perInstance}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.associate(f.instance(20, "stopped", "default", "", 2).ARN, []string{perInstance}, nil); err != nil {
			t.Fatal(err)
		}
		img := f.resource(store.ResourceImage, "ami-00000000000000001", "available", 0)
		if err := f.associate(img.ARN, []string{perInstance}, nil); err != nil {
			t.Fatal(err)
		}
		old := f.alert(perInstance, AlertStaleInventory, time.Now().Add(-40*24*time.Hour), "")

		d := f.dashboard(&GetLicenseDashboardInput{})
		if len(d) != 3 {
			t.Fatalf("dashboard has %d configurations, want the caller's 3: %+v", len(d), d)
		}
		os := d["OS"]
		got := f.get(osCfg)
		if os.Consumed != got.ConsumedLicenses || os.Consumed != 96 || *os.LicenseCount != 32 || *os.Remaining != 0 || !os.OverLimit || os.Enforced ||
			os.CountingType != CountCore || os.Status != "AVAILABLE" || os.LicenseConfigurationArn != osCfg {
			t.Errorf("OS = %+v; GetLicenseConfiguration consumed %d", os, got.ConsumedLicenses)
		}
		for _, m := range got.ManagedResourceSummaryList {
			if os.ResourcesByType[m.ResourceType] != m.AssociationCount {
				t.Errorf("OS ResourcesByType[%s] = %d, GetLicenseConfiguration says %d", m.ResourceType, os.ResourcesByType[m.ResourceType], m.AssociationCount)
			}
		}
		if want := map[string]int64{"default": 0, "dedicated": 0, "host": 3}; !equalCounts(os.InstancesByTenancy, want) {
			t.Errorf("OS InstancesByTenancy = %v, want %v", os.InstancesByTenancy, want)
		}
		if want := map[string]int64{"default": 0, "dedicated": 0, "host": 3}; !equalCounts(os.HostsByTenancy, want) { // a1, a2 and the associated a3
			t.Errorf("OS HostsByTenancy = %v, want %v", os.HostsByTenancy, want)
		}
		// Only the host went over (96 of 64): one alert. Lowering the count raises none.
		if os.Alerts.Last30Days != 1 || os.Alerts.Latest == nil || os.Alerts.Latest.Kind != AlertSoftLimitExceeded ||
			os.Alerts.Latest.ResourceArn != host.ARN || os.Alerts.Latest.Consumed != 96 || os.Alerts.Latest.Delivery.Status != DeliveryNoDestination {
			t.Errorf("OS alerts = %+v (latest %+v)", os.Alerts, os.Alerts.Latest)
		}

		agent := d["agent"]
		if agent.Consumed != 3 || agent.LicenseCount != nil || agent.Remaining != nil || agent.OverLimit ||
			agent.ResourcesByType[store.ResourceInstance] != 4 || agent.ResourcesByType[store.ResourceImage] != 1 {
			t.Errorf("agent = %+v", agent)
		}
		if want := map[string]int64{"default": 3, "dedicated": 1, "host": 0}; !equalCounts(agent.InstancesByTenancy, want) || !equalCounts(agent.HostsByTenancy, want) {
			t.Errorf("agent tenancy = %v / %v, want %v", agent.InstancesByTenancy, agent.HostsByTenancy, want)
		}
		if agent.Alerts.Last30Days != 0 || agent.Alerts.Latest == nil || agent.Alerts.Latest.AlertId != old.ID {
			t.Errorf("agent alerts = %+v: want none in 30 days, the 40-day-old one latest", agent.Alerts)
		}
		if u := d["unused"]; u.Consumed != 0 || *u.Remaining != 8 || !u.Enforced || u.Alerts.Latest != nil || len(u.HostsByTenancy) != 3 || len(u.ResourcesByType) != 4 {
			t.Errorf("unused = %+v", u)
		}

		// Selections.
		if d := f.dashboard(&GetLicenseDashboardInput{Filters: []Filter{{Name: ptr("usagelimitExceeded"), Values: []string{"true"}}}}); len(d) != 1 || d["OS"].Name != "OS" {
			t.Errorf("usagelimitExceeded=true: %v", d)
		}
		if d := f.dashboard(&GetLicenseDashboardInput{Filters: []Filter{{Name: ptr("enforceLicenseCount"), Values: []string{"true"}}}}); len(d) != 1 || d["unused"].Name != "unused" {
			t.Errorf("enforceLicenseCount=true: %v", d)
		}
		if d := f.dashboard(&GetLicenseDashboardInput{LicenseConfigurationArns: []string{empty, perInstance}}); len(d) != 2 || d["OS"].Name != "" {
			t.Errorf("by ARN: %v", d)
		}
		euCtx := authz.WithOrigin(f.ctx, authz.Origin{Region: "eu-west-1"})
		if out, err := f.svc.GetLicenseDashboard(euCtx, f.caller, &GetLicenseDashboardInput{}); err != nil || len(out.Configurations) != 0 {
			t.Errorf("in eu-west-1: %+v, %v; want no configurations", out, err)
		}

		// Bad input.
		many := make([]string, 101)
		for i := range many {
			many[i] = osCfg
		}
		_, err := f.svc.GetLicenseDashboard(f.ctx, f.caller, &GetLicenseDashboardInput{LicenseConfigurationArns: many})
		wantCode(t, "101 ARNs", err, ErrInvalidParameterValue, "at most 100")
		_, err = f.svc.GetLicenseDashboard(f.ctx, f.caller, &GetLicenseDashboardInput{LicenseConfigurationArns: []string{"lic-1"}})
		wantCode(t, "malformed ARN", err, ErrInvalidParameterValue, "LicenseConfigurationArns[0]")
		_, err = f.svc.GetLicenseDashboard(f.ctx, f.caller, &GetLicenseDashboardInput{Filters: []Filter{{Name: ptr("name"), Values: []string{"x"}}}})
		wantCode(t, "unknown filter", err, ErrInvalidParameterValue, "Filters[0].Name")
		_, err = f.svc.GetLicenseDashboard(f.ctx, f.caller, &GetLicenseDashboardInput{Filters: []Filter{{Name: ptr("licenseCountingType"), Values: []string{"cores"}}}})
		wantCode(t, "bad counting type", err, ErrInvalidParameterValue, `not "cores"`)
	})
}

func equalCounts(got, want map[string]int64) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if n, ok := got[k]; !ok || n != v {
			return false
		}
	}
	return true
}

func TestService_ListLicenseConfigurationAlerts(t *testing.T) {
	onEachStore(t, func(t *testing.T, f *fixture) {
		a := f.create(&CreateLicenseConfigurationInput{Name: "a", LicenseCountingType: CountInstance, LicenseCount: ptr[int64](1)})
		b := f.create(&CreateLicenseConfigurationInput{Name: "b", LicenseCountingType: CountInstance, LicenseCount: ptr[int64](1)})
		theirs, err := f.svc.CreateLicenseConfiguration(f.ctx, f.other, &CreateLicenseConfigurationInput{Name: "theirs", LicenseCountingType: CountCore})
		if err != nil {
			t.Fatal(err)
		}
		base := time.Now().Add(-time.Hour).Truncate(time.Second)
		topic := "arn:aws:sns:us-east-1:111122223333:aws-license-manager-service-alerts"
		var made []*store.LicenseAlert // oldest first
		for i, k := range []string{AlertSoftLimitExceeded, AlertRuleViolation, AlertLimitExceeded, AlertStaleInventory, AlertSoftLimitExceeded} {
			cfg := a
			if i%2 == 1 {
				cfg = b
			}
			tp := ""
			if i >= 2 {
				tp = topic
			}
			made = append(made, f.alert(cfg, k, base.Add(time.Duration(i)*time.Minute), tp))
		}
		other := &store.LicenseAlert{ConfigARN: theirs.LicenseConfigurationArn, AccountID: f.other.AccountID, Kind: AlertSoftLimitExceeded,
			ResourceARN: "x", Message: "theirs", CreatedAt: base}
		if err := f.db.Update(f.ctx, func(tx *store.Tx) error {
			if err := tx.AddLicenseAlert(f.ctx, other); err != nil {
				return err
			}
			if err := tx.RetryLicenseAlert(f.ctx, made[2].ID, time.Now()); err != nil {
				return err
			}
			return tx.MarkLicenseAlertDelivered(f.ctx, made[3].ID, base.Add(10*time.Minute))
		}); err != nil {
			t.Fatal(err)
		}
		list := func(in *ListLicenseConfigurationAlertsInput) *ListLicenseConfigurationAlertsOutput {
			t.Helper()
			out, err := f.svc.ListLicenseConfigurationAlerts(f.ctx, f.caller, in)
			if err != nil {
				t.Fatalf("ListLicenseConfigurationAlerts(%+v): %v", in, err)
			}
			return out
		}
		ids := func(as []Alert) []string {
			var out []string
			for _, a := range as {
				out = append(out, a.AlertId)
			}
			return out
		}
		want := func(what string, got []Alert, idx ...int) {
			t.Helper()
			var w []string
			for _, i := range idx {
				w = append(w, made[i].ID)
			}
			if fmt.Sprint(ids(got)) != fmt.Sprint(w) {
				t.Errorf("%s = %v, want %v", what, ids(got), w)
			}
		}

		all := list(&ListLicenseConfigurationAlertsInput{})
		want("all, newest first", all.Alerts, 4, 3, 2, 1, 0)
		if all.NextToken != nil {
			t.Errorf("NextToken %q on the only page", *all.NextToken)
		}
		byID := map[string]Alert{}
		for _, a := range all.Alerts {
			byID[a.AlertId] = a
		}
		if d := byID[made[0].ID].Delivery; d.Status != DeliveryNoDestination || d.TopicArn != nil || d.Attempts != 0 {
			t.Errorf("no topic: %+v", d)
		}
		if d := byID[made[2].ID].Delivery; d.Status != DeliveryPending || *d.TopicArn != topic || d.Attempts != 1 || d.DeliveredTime != nil {
			t.Errorf("pending after a failed attempt: %+v", d)
		}
		if d := byID[made[3].ID].Delivery; d.Status != DeliveryDelivered || d.DeliveredTime == nil || !d.DeliveredTime.Equal(base.Add(10*time.Minute)) {
			t.Errorf("delivered: %+v", d)
		}
		if x := byID[made[1].ID]; x.Kind != AlertRuleViolation || x.LicenseConfigurationArn != b || x.Consumed != 3 || x.LicenseCount != 2 ||
			!x.CreateTime.Equal(base.Add(time.Minute)) || x.Message == "" {
			t.Errorf("alert = %+v", x)
		}

		// Pages of two.
		var paged []Alert
		in := &ListLicenseConfigurationAlertsInput{MaxResults: ptr[int32](2)}
		for range 5 {
			out := list(in)
			paged = append(paged, out.Alerts...)
			if out.NextToken == nil {
				break
			}
			in.NextToken = out.NextToken
		}
		want("pages of 2", paged, 4, 3, 2, 1, 0)

		want("configuration b", list(&ListLicenseConfigurationAlertsInput{LicenseConfigurationArn: &b}).Alerts, 3, 1)
		want("kinds", list(&ListLicenseConfigurationAlertsInput{Kinds: []string{AlertSoftLimitExceeded, AlertStaleInventory}}).Alerts, 4, 3, 0)
		want("time window", list(&ListLicenseConfigurationAlertsInput{StartTime: &awstime.Epoch{Time: base.Add(time.Minute)},
			EndTime: &awstime.Epoch{Time: base.Add(3 * time.Minute)}}).Alerts, 2, 1)
		euCtx := authz.WithOrigin(f.ctx, authz.Origin{Region: "eu-west-1"})
		if out, err := f.svc.ListLicenseConfigurationAlerts(euCtx, f.caller, &ListLicenseConfigurationAlertsInput{}); err != nil || len(out.Alerts) != 0 {
			t.Errorf("in eu-west-1: %+v, %v; want none", out, err)
		}

		// Bad input.
		bad := map[string]struct {
			in  *ListLicenseConfigurationAlertsInput
			msg string
		}{
			"unknown kind":          {&ListLicenseConfigurationAlertsInput{Kinds: []string{"soft_limit_exceeded"}}, "Kinds[0] must be one of"},
			"MaxResults 0":          {&ListLicenseConfigurationAlertsInput{MaxResults: ptr[int32](0)}, "from 1 to 100"},
			"MaxResults 101":        {&ListLicenseConfigurationAlertsInput{MaxResults: ptr[int32](101)}, "from 1 to 100"},
			"start after end":       {&ListLicenseConfigurationAlertsInput{StartTime: &awstime.Epoch{Time: base}, EndTime: &awstime.Epoch{Time: base.Add(-time.Second)}}, "must not be after EndTime"},
			"malformed ARN":         {&ListLicenseConfigurationAlertsInput{LicenseConfigurationArn: ptr("lic-1")}, "must be a license configuration ARN"},
			"another account's ARN": {&ListLicenseConfigurationAlertsInput{LicenseConfigurationArn: &theirs.LicenseConfigurationArn}, "does not exist in account 111122223333"},
			"foreign NextToken":     {&ListLicenseConfigurationAlertsInput{NextToken: ptr("AT1bm90LWEtdG9rZW4")}, "NextToken"},
		}
		for name, c := range bad {
			_, err := f.svc.ListLicenseConfigurationAlerts(f.ctx, f.caller, c.in)
			wantCode(t, name, err, ErrInvalidParameterValue, c.msg)
		}
		first := list(&ListLicenseConfigurationAlertsInput{MaxResults: ptr[int32](1)})
		_, err = f.svc.ListLicenseConfigurationAlerts(f.ctx, f.caller, &ListLicenseConfigurationAlertsInput{Kinds: []string{AlertRuleViolation}, NextToken: first.NextToken})
		wantCode(t, "NextToken of other parameters", err, ErrInvalidParameterValue, "NextToken")
	})
}

// TestService_GetLicenseDashboard_Concurrent associates 60 instances at once with a hard
// limit of 25 Instance licenses while dashboards are read: every dashboard is one snapshot
// (what is consumed equals the consuming instances it counts, never above the limit), and
// afterwards exactly 25 were taken.
func TestService_GetLicenseDashboard_Concurrent(t *testing.T) {
	onEachStore(t, func(t *testing.T, f *fixture) {
		const limit, instances = 25, 60
		cfg := f.create(&CreateLicenseConfigurationInput{Name: "pool", LicenseCountingType: CountInstance, LicenseCount: ptr[int64](limit), LicenseCountHardLimit: ptr(true)})
		rs := make([]*store.Resource, instances)
		for i := range rs {
			ten := []string{"default", "dedicated"}[i%2]
			rs[i] = f.instance(100+i, "running", ten, "", 2)
		}
		var ok, refused atomic.Int64
		var writers, readers sync.WaitGroup
		done := make(chan struct{})
		start := make(chan struct{})
		for _, r := range rs {
			writers.Go(func() {
				<-start
				err := f.associate(r.ARN, []string{cfg}, nil)
				switch {
				case err == nil:
					ok.Add(1)
				case isCode(err, ErrLicenseUsage):
					refused.Add(1)
				default:
					t.Errorf("associate %s: %v", r.ID, err)
				}
			})
		}
		var snapshots atomic.Int64
		for range 4 {
			readers.Go(func() {
				<-start
				for {
					out, err := f.svc.GetLicenseDashboard(f.ctx, f.caller, &GetLicenseDashboardInput{LicenseConfigurationArns: []string{cfg}})
					if err != nil {
						t.Errorf("GetLicenseDashboard: %v", err)
						return
					}
					d := out.Configurations[0]
					inst := d.InstancesByTenancy["default"] + d.InstancesByTenancy["dedicated"]
					if d.Consumed > limit || d.Consumed != inst || d.Consumed != d.ResourcesByType[store.ResourceInstance] || *d.Remaining != limit-d.Consumed {
						t.Errorf("inconsistent dashboard: consumed %d, instances %v, resources %v, remaining %d", d.Consumed, d.InstancesByTenancy, d.ResourcesByType, *d.Remaining)
						return
					}
					snapshots.Add(1)
					select {
					case <-done:
						return
					default:
					}
				}
			})
		}
		close(start)
		writers.Wait()
		close(done)
		readers.Wait()
		if ok.Load() != limit || refused.Load() != instances-limit {
			t.Fatalf("%d associations succeeded and %d were refused; want %d and %d", ok.Load(), refused.Load(), limit, instances-limit)
		}
		d := f.dashboard(&GetLicenseDashboardInput{})["pool"]
		if got := f.get(cfg).ConsumedLicenses; d.Consumed != limit || got != limit || *d.Remaining != 0 || d.OverLimit {
			t.Fatalf("after: dashboard %+v, GetLicenseConfiguration consumed %d; want %d", d, got, limit)
		}
		t.Logf("%d consistent dashboards read during the associations", snapshots.Load())
	})
}

func isCode(err error, code string) bool {
	var e *awserr.Error
	return errors.As(err, &e) && e.Code == code
}
