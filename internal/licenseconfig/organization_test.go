package licenseconfig

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

const (
	testOrgID  = "o-abcdefghij"
	testRootID = "r-abcd"
)

// orgFixture is a fixture whose caller is the management account of an organization with one
// member account; f.other stays outside it.
type orgFixture struct {
	*fixture
	member *identity.Principal
}

// onEachOrgStore runs test on a fresh orgFixture over SQLite and, when ALLOT_TEST_POSTGRES_DSN
// is set, over PostgreSQL.
func onEachOrgStore(t *testing.T, test func(t *testing.T, f *orgFixture)) {
	t.Run("SQLite", func(t *testing.T) { test(t, newOrgFixture(t, filepath.Join(t.TempDir(), "allot.db"))) })
	t.Run("PostgreSQL", func(t *testing.T) { test(t, newOrgFixture(t, storetest.PostgresDSN(t))) })
}

func newOrgFixture(t *testing.T, dsn string) *orgFixture {
	t.Helper()
	db := storetest.OpenDSN(t, dsn, storetest.NewBox(t), store.Options{})
	base := &fixture{t: t, ctx: t.Context(), db: db, svc: &Service{DB: db, Logger: storetest.Quiet()},
		caller: identity.Root("111122223333", "AKIACALLER"), other: identity.Root("444455556666", "AKIAOTHER")}
	f := &orgFixture{fixture: base, member: identity.Root("555566667777", "AKIAMEMBER")}
	err := db.Update(f.ctx, func(tx *store.Tx) error {
		for _, p := range []*identity.Principal{f.caller, f.other} {
			if err := tx.CreateAccount(f.ctx, &store.Account{ID: p.AccountID, Name: "a", Status: "ACTIVE", CreatedAt: tx.Now()}); err != nil {
				return err
			}
		}
		if err := tx.CreateOrganization(f.ctx, &store.Organization{ID: testOrgID, ManagementAccount: f.caller.AccountID, FeatureSet: "ALL",
			RootID: testRootID, CreatedAt: tx.Now()}); err != nil {
			return err
		}
		return tx.CreateOrgAccount(f.ctx, &store.OrgAccount{ID: f.member.AccountID, OrgID: testOrgID, ParentID: testRootID, Name: "member",
			Email: "member@example.com", Status: "ACTIVE", JoinedMethod: store.JoinedCreated, JoinedAt: tx.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// trust gives License Manager trusted access to the organization, or takes it away.
func (f *orgFixture) trust(on bool) {
	f.t.Helper()
	err := f.db.Update(f.ctx, func(tx *store.Tx) error {
		if on {
			_, err := tx.EnableServiceAccess(f.ctx, testOrgID, servicePrincipal)
			return err
		}
		return tx.DisableServiceAccess(f.ctx, testOrgID, servicePrincipal)
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// link gives trusted access and turns Organizations integration on (and cross-account
// discovery when discovery is set) in the management account's settings.
func (f *orgFixture) link(discovery bool) {
	f.t.Helper()
	f.trust(true)
	in := &UpdateServiceSettingsInput{OrganizationConfiguration: &OrganizationConfiguration{EnableIntegration: true}}
	if discovery {
		in.EnableCrossAccountsDiscovery = ptr(true)
	}
	if _, err := f.svc.UpdateServiceSettings(f.ctx, f.caller, in); err != nil {
		f.t.Fatalf("UpdateServiceSettings: %v", err)
	}
}

// instanceOf stores an instance of an account (n numbers it) in a state.
func (f *orgFixture) instanceOf(p *identity.Principal, n int, state string) *store.Resource {
	f.t.Helper()
	id := fmt.Sprintf("i-%017x", n)
	r := &store.Resource{ID: id, Type: store.ResourceInstance, ARN: InstanceARN("us-east-1", p.AccountID, id), AccountID: p.AccountID,
		Region: "us-east-1", State: state, Platform: "Linux/UNIX", InstanceType: "m5.large", VCPUs: 2, Cores: 1, ThreadsPerCore: 2, Tenancy: "default"}
	if err := f.db.Update(f.ctx, func(tx *store.Tx) error { return tx.AddResource(f.ctx, r) }); err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *orgFixture) associateAs(p *identity.Principal, resource, config string) error {
	_, err := f.svc.UpdateLicenseSpecificationsForResource(f.ctx, p, &UpdateLicenseSpecificationsForResourceInput{ResourceArn: resource,
		AddLicenseSpecifications: []LicenseSpecification{{LicenseConfigurationArn: ptr(config)}}})
	return err
}

func TestService_UpdateServiceSettings_Organization(t *testing.T) {
	f := newOrgFixture(t, filepath.Join(t.TempDir(), "allot.db"))
	integration := &UpdateServiceSettingsInput{OrganizationConfiguration: &OrganizationConfiguration{EnableIntegration: true}}
	update := func(p *identity.Principal, in *UpdateServiceSettingsInput) error {
		_, err := f.svc.UpdateServiceSettings(f.ctx, p, in)
		return err
	}
	wantCode(t, "integration outside an organization", update(f.other, integration), ErrAccessDenied, "is in no organization")
	wantCode(t, "integration in a member account", update(f.member, integration), ErrAccessDenied, "account 555566667777 is a member")
	wantCode(t, "integration without trusted access", update(f.caller, integration), ErrAccessDenied, "enable-aws-service-access --service-principal license-manager.amazonaws.com")
	wantCode(t, "discovery without integration", update(f.caller, &UpdateServiceSettingsInput{EnableCrossAccountsDiscovery: ptr(true)}),
		ErrInvalidParameterValue, "needs OrganizationConfiguration.EnableIntegration")
	f.trust(true)
	if err := update(f.caller, integration); err != nil {
		t.Fatalf("integration with trusted access: %v", err)
	}
	// Trusted access taken away: integration stays on, cross-account discovery cannot be
	// turned on, and nothing is linked.
	f.trust(false)
	wantCode(t, "discovery after trusted access was taken away", update(f.caller, &UpdateServiceSettingsInput{EnableCrossAccountsDiscovery: ptr(true)}),
		ErrAccessDenied, "trusted access")
	f.trust(true)
	if err := update(f.caller, &UpdateServiceSettingsInput{EnableCrossAccountsDiscovery: ptr(true)}); err != nil {
		t.Fatalf("discovery: %v", err)
	}
	wantCode(t, "discovery off", update(f.caller, &UpdateServiceSettingsInput{EnableCrossAccountsDiscovery: ptr(false)}),
		ErrInvalidParameterValue, "cannot be disabled")
	wantCode(t, "integration off under discovery", update(f.caller, &UpdateServiceSettingsInput{OrganizationConfiguration: &OrganizationConfiguration{}}),
		ErrInvalidParameterValue, "cannot be turned off while cross-account discovery is on")
	got, err := f.svc.GetServiceSettings(f.ctx, f.caller, &GetServiceSettingsInput{})
	if err != nil || !got.OrganizationConfiguration.EnableIntegration || !got.EnableCrossAccountsDiscovery {
		t.Fatalf("GetServiceSettings = %+v, %v", got, err)
	}

	// An organization of consolidated billing only cannot be linked.
	if err := f.db.Update(f.ctx, func(tx *store.Tx) error {
		return tx.CreateOrganization(f.ctx, &store.Organization{ID: "o-billingonly", ManagementAccount: f.other.AccountID,
			FeatureSet: "CONSOLIDATED_BILLING", RootID: "r-bill", CreatedAt: tx.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "integration with consolidated billing", update(f.other, integration), ErrAccessDenied, "feature set CONSOLIDATED_BILLING")
}

func TestService_SharedConfigurations(t *testing.T) {
	onEachOrgStore(t, func(t *testing.T, f *orgFixture) {
		cfg := f.create(&CreateLicenseConfigurationInput{Name: "shared", LicenseCountingType: CountInstance, LicenseCount: ptr[int64](2), LicenseCountHardLimit: ptr(true)})
		m1, m2, m3 := f.instanceOf(f.member, 1, "running"), f.instanceOf(f.member, 2, "running"), f.instanceOf(f.member, 3, "running")
		outside := f.instanceOf(f.other, 4, "running")

		wantCode(t, "member before the link", f.associateAs(f.member, m1.ARN, cfg), ErrInvalidParameterValue,
			"does not exist in account 555566667777. It is a configuration of 111122223333, the management account of organization o-abcdefghij")
		f.link(false)
		if err := f.associateAs(f.member, m1.ARN, cfg); err != nil {
			t.Fatalf("member after the link: %v", err)
		}
		wantCode(t, "account outside the organization", f.associateAs(f.other, outside.ARN, cfg), ErrInvalidParameterValue, "does not exist in account 444455556666")
		if got := f.get(cfg).ConsumedLicenses; got != 1 {
			t.Fatalf("ConsumedLicenses = %d, want 1 (the member's instance)", got)
		}

		// The member sees the association on its resource; the owner sees the member's usage.
		specs, err := f.svc.ListLicenseSpecificationsForResource(f.ctx, f.member, &ListLicenseSpecificationsForResourceInput{ResourceArn: m1.ARN})
		if err != nil || len(specs.LicenseSpecifications) != 1 || deref(specs.LicenseSpecifications[0].LicenseConfigurationArn) != cfg {
			t.Fatalf("ListLicenseSpecificationsForResource(member) = %+v, %v", specs, err)
		}
		usage, err := f.svc.ListUsageForLicenseConfiguration(f.ctx, f.caller, &ListUsageForLicenseConfigurationInput{LicenseConfigurationArn: cfg})
		if err != nil || len(usage.LicenseConfigurationUsageList) != 1 || usage.LicenseConfigurationUsageList[0].ResourceOwnerId != f.member.AccountID ||
			usage.LicenseConfigurationUsageList[0].ConsumedLicenses != 1 {
			t.Fatalf("ListUsageForLicenseConfiguration(owner) = %+v, %v", usage, err)
		}

		// The configuration's own operations stay the owner's.
		_, err = f.svc.GetLicenseConfiguration(f.ctx, f.member, &GetLicenseConfigurationInput{LicenseConfigurationArn: cfg})
		wantCode(t, "GetLicenseConfiguration by the member", err, ErrInvalidParameterValue, "does not exist in account 555566667777")
		_, err = f.svc.UpdateLicenseConfiguration(f.ctx, f.member, &UpdateLicenseConfigurationInput{LicenseConfigurationArn: cfg, LicenseCount: ptr[int64](100)})
		wantCode(t, "UpdateLicenseConfiguration by the member", err, ErrInvalidParameterValue, "does not exist in account 555566667777")
		_, err = f.svc.ListUsageForLicenseConfiguration(f.ctx, f.member, &ListUsageForLicenseConfigurationInput{LicenseConfigurationArn: cfg})
		wantCode(t, "ListUsageForLicenseConfiguration by the member", err, ErrInvalidParameterValue, "does not exist in account 555566667777")

		// Launches resolve shared configurations as associations do; the hard limit counts
		// every account's units.
		err = f.db.Update(f.ctx, func(tx *store.Tx) error {
			_, err := f.svc.Admit(f.ctx, tx, f.member, m2, []string{cfg})
			return err
		})
		if err != nil {
			t.Fatalf("Admit(member, shared): %v", err)
		}
		err = f.db.Update(f.ctx, func(tx *store.Tx) error {
			_, err := f.svc.Admit(f.ctx, tx, f.other, outside, []string{cfg})
			return err
		})
		wantCode(t, "Admit(outside the organization)", err, ErrInvalidParameterValue, "does not exist in account 444455556666")
		if err := f.associateAs(f.member, m2.ARN, cfg); err != nil {
			t.Fatal(err)
		}
		wantCode(t, "over the hard limit", f.associateAs(f.member, m3.ARN, cfg), ErrLicenseUsage, "has a hard limit of 2 instances: 2 are in use")
		fails, err := f.svc.ListFailuresForLicenseConfigurationOperations(f.ctx, f.caller, &ListFailuresForLicenseConfigurationOperationsInput{LicenseConfigurationArn: cfg})
		if err != nil || len(fails.LicenseOperationFailureList) != 1 || fails.LicenseOperationFailureList[0].ResourceOwnerId != f.member.AccountID {
			t.Fatalf("ListFailuresForLicenseConfigurationOperations(owner) = %+v, %v", fails, err)
		}

		// Trusted access taken away: no new associations; those made stay until removed.
		f.trust(false)
		_, err = f.svc.UpdateLicenseSpecificationsForResource(f.ctx, f.member, &UpdateLicenseSpecificationsForResourceInput{ResourceArn: m2.ARN,
			RemoveLicenseSpecifications: []LicenseSpecification{{LicenseConfigurationArn: ptr(cfg)}}})
		if err != nil {
			t.Fatalf("member removes its association: %v", err)
		}
		wantCode(t, "member after trusted access was taken away", f.associateAs(f.member, m3.ARN, cfg), ErrInvalidParameterValue, "does not exist in account 555566667777")
		if got := f.get(cfg).ConsumedLicenses; got != 1 {
			t.Fatalf("ConsumedLicenses = %d, want 1", got)
		}
	})
}

// TestService_SharedConfigurations_Concurrent associates instances of the management account
// and of a member with one hard-limited configuration, all at once: exactly the limit is
// taken, and what the configuration counts is what its associations hold.
func TestService_SharedConfigurations_Concurrent(t *testing.T) {
	onEachOrgStore(t, func(t *testing.T, f *orgFixture) {
		const limit, perAccount = 10, 15
		cfg := f.create(&CreateLicenseConfigurationInput{Name: "pool", LicenseCountingType: CountInstance, LicenseCount: ptr[int64](limit), LicenseCountHardLimit: ptr(true)})
		f.link(false)
		type job struct {
			p *identity.Principal
			r *store.Resource
		}
		var jobs []job
		for i := range perAccount {
			jobs = append(jobs, job{f.caller, f.instanceOf(f.caller, 100+i, "running")}, job{f.member, f.instanceOf(f.member, 200+i, "running")})
		}
		var mu sync.Mutex
		taken := map[string]int{}
		refused := 0
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, j := range jobs {
			wg.Go(func() {
				<-start
				err := f.associateAs(j.p, j.r.ARN, cfg)
				mu.Lock()
				defer mu.Unlock()
				switch e, _ := awserr.As(err); {
				case err == nil:
					taken[j.p.AccountID]++
				case e != nil && e.Code == ErrLicenseUsage:
					refused++
				default:
					t.Errorf("associate %s as %s: %v", j.r.ID, j.p.AccountID, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := taken[f.caller.AccountID] + taken[f.member.AccountID]; n != limit || refused != 2*perAccount-limit {
			t.Fatalf("%d associations taken (%v), %d refused; want %d and %d", n, taken, refused, limit, 2*perAccount-limit)
		}
		consumed := f.get(cfg).ConsumedLicenses
		usage, err := f.svc.ListUsageForLicenseConfiguration(f.ctx, f.caller, &ListUsageForLicenseConfigurationInput{LicenseConfigurationArn: cfg})
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		byOwner := map[string]int{}
		for _, u := range usage.LicenseConfigurationUsageList {
			sum += u.ConsumedLicenses
			byOwner[u.ResourceOwnerId]++
		}
		if consumed != sum || consumed > limit || byOwner[f.caller.AccountID] != taken[f.caller.AccountID] || byOwner[f.member.AccountID] != taken[f.member.AccountID] {
			t.Fatalf("ConsumedLicenses %d, usage sums to %d by owner %v (taken %v); want equal and at most %d", consumed, sum, byOwner, taken, limit)
		}
	})
}

func TestService_ListLicenseConfigurationsForOrganization(t *testing.T) {
	onEachOrgStore(t, func(t *testing.T, f *orgFixture) {
		list := func(p *identity.Principal, in *ListLicenseConfigurationsForOrganizationInput) ([]string, *string, error) {
			out, err := f.svc.ListLicenseConfigurationsForOrganization(f.ctx, p, in)
			if err != nil {
				return nil, nil, err
			}
			var arns []string
			for _, c := range out.LicenseConfigurations {
				arns = append(arns, c.LicenseConfigurationArn)
			}
			return arns, out.NextToken, nil
		}
		hard := f.create(&CreateLicenseConfigurationInput{Name: "hard", LicenseCountingType: CountCore, LicenseCount: ptr[int64](8), LicenseCountHardLimit: ptr(true)})
		soft := f.create(&CreateLicenseConfigurationInput{Name: "soft", LicenseCountingType: CountVCPU})
		out, err := f.svc.CreateLicenseConfiguration(f.ctx, f.member, &CreateLicenseConfigurationInput{Name: "member's", LicenseCountingType: CountInstance})
		if err != nil {
			t.Fatal(err)
		}
		mine := out.LicenseConfigurationArn
		out, err = f.svc.CreateLicenseConfiguration(f.ctx, f.other, &CreateLicenseConfigurationInput{Name: "outside", LicenseCountingType: CountInstance})
		if err != nil {
			t.Fatal(err)
		}
		outside := out.LicenseConfigurationArn

		_, _, err = list(f.caller, &ListLicenseConfigurationsForOrganizationInput{})
		wantCode(t, "before the link", err, ErrAccessDenied, "is not linked to License Manager")
		f.link(false)
		_, _, err = list(f.member, &ListLicenseConfigurationsForOrganizationInput{})
		wantCode(t, "from a member", err, ErrAccessDenied, "account 555566667777 is not one")
		_, _, err = list(f.other, &ListLicenseConfigurationsForOrganizationInput{})
		wantCode(t, "from outside", err, ErrAccessDenied, "account 444455556666 is not one")

		want := []string{hard, soft, mine}
		slices.Sort(want)
		got, next, err := list(f.caller, &ListLicenseConfigurationsForOrganizationInput{})
		if err != nil || !slices.Equal(got, want) || next != nil {
			t.Fatalf("all = %v, %v, %v; want %v", got, next, err, want)
		}
		var paged []string
		in := &ListLicenseConfigurationsForOrganizationInput{MaxResults: ptr[int32](1)}
		for i := 0; ; i++ {
			page, next, err := list(f.caller, in)
			if err != nil || len(page) > 1 || i > len(want) {
				t.Fatalf("page %d = %v, %v", i, page, err)
			}
			paged = append(paged, page...)
			if next == nil {
				break
			}
			in.NextToken = next
		}
		if !slices.Equal(paged, want) {
			t.Fatalf("paged = %v, want %v", paged, want)
		}
		cases := []struct {
			name string
			in   *ListLicenseConfigurationsForOrganizationInput
			want []string
			err  string
		}{
			{"HardLimit", &ListLicenseConfigurationsForOrganizationInput{Filters: []Filter{{Name: ptr("enforceLicenseCount"), Values: []string{"true"}}}}, []string{hard}, ""},
			{"CountingType", &ListLicenseConfigurationsForOrganizationInput{Filters: []Filter{{Name: ptr("licenseCountingType"), Values: []string{"Instance"}}}}, []string{mine}, ""},
			{"ARNs", &ListLicenseConfigurationsForOrganizationInput{LicenseConfigurationArns: []string{mine, outside}}, []string{mine}, ""},
			{"ErrFilter", &ListLicenseConfigurationsForOrganizationInput{Filters: []Filter{{Name: ptr("status"), Values: []string{"x"}}}}, nil, "Filters[0].Name must be one of"},
			{"ErrARN", &ListLicenseConfigurationsForOrganizationInput{LicenseConfigurationArns: []string{"lic-1"}}, nil, "LicenseConfigurationArns[0] must be"},
			{"ErrToken", &ListLicenseConfigurationsForOrganizationInput{NextToken: ptr("bogus")}, nil, "NextToken was not returned"},
		}
		for _, c := range cases {
			got, _, err := list(f.caller, c.in)
			if c.err != "" {
				wantCode(t, c.name, err, ErrInvalidParameterValue, c.err)
				continue
			}
			if err != nil || !slices.Equal(got, c.want) {
				t.Errorf("%s = %v, %v; want %v", c.name, got, err, c.want)
			}
		}
	})
}

func TestService_ListResourceInventory_CrossAccount(t *testing.T) {
	onEachOrgStore(t, func(t *testing.T, f *orgFixture) {
		own := f.instanceOf(f.caller, 1, "running")
		theirs := f.instanceOf(f.member, 2, "stopped")
		f.instanceOf(f.member, 3, "terminated")
		f.instanceOf(f.other, 4, "running")
		managed := func(p *identity.Principal, id, state string, apps ...string) *store.Resource {
			r := &store.Resource{ID: id, Type: store.ResourceManaged, ARN: ManagedInstanceARN("us-east-1", p.AccountID, id), AccountID: p.AccountID,
				Region: "us-east-1", State: state, Platform: "Ubuntu", PlatformType: "Linux", PlatformVersion: "22.04", VCPUs: 4, Cores: 2, ThreadsPerCore: 2}
			err := f.db.Update(f.ctx, func(tx *store.Tx) error {
				if err := tx.AddResource(f.ctx, r); err != nil {
					return err
				}
				var as []store.Application
				for _, a := range apps {
					as = append(as, store.Application{Name: a, Architecture: "x86_64", Version: "1", Publisher: "p"})
				}
				return tx.ReplaceApplications(f.ctx, r.ARN, as)
			})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		active := managed(f.member, "mi-00000000000000001", store.ManagedActive, "nginx", "postgresql")
		managed(f.member, "mi-00000000000000002", store.ManagedInactive, "nginx")
		mgmtManaged := managed(f.caller, "mi-00000000000000003", store.ManagedActive, "httpd")

		list := func(p *identity.Principal, filters ...InventoryFilter) ([]string, error) {
			out, err := f.svc.ListResourceInventory(f.ctx, p, &ListResourceInventoryInput{Filters: filters})
			if err != nil {
				return nil, err
			}
			var ids []string
			for _, r := range out.ResourceInventoryList {
				ids = append(ids, r.ResourceId)
				if r.ResourceType == store.ResourceManaged && r.PlatformVersion != "22.04" {
					t.Errorf("managed instance %s: PlatformVersion %q, want 22.04", r.ResourceId, r.PlatformVersion)
				}
			}
			return ids, nil
		}
		filter := func(name, cond, value string) InventoryFilter {
			return InventoryFilter{Name: ptr(name), Condition: ptr(cond), Value: ptr(value)}
		}
		check := func(what string, p *identity.Principal, want []string, filters ...InventoryFilter) {
			t.Helper()
			got, err := list(p, filters...)
			slices.Sort(want)
			if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%s = %v, %v; want %v", what, got, err, want)
			}
		}

		check("management, single account", f.caller, []string{own.ID, mgmtManaged.ID})
		_, err := list(f.caller, filter("tag:env", "NOT_EQUALS", "prod"))
		wantCode(t, "tag NOT_EQUALS without cross-account discovery", err, ErrInvalidParameterValue, "(tag:env) takes the condition EQUALS, not \"NOT_EQUALS\"")
		f.link(false)
		check("management, linked without discovery", f.caller, []string{own.ID, mgmtManaged.ID})
		if _, err := f.svc.UpdateServiceSettings(f.ctx, f.caller, &UpdateServiceSettingsInput{EnableCrossAccountsDiscovery: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		all := []string{own.ID, mgmtManaged.ID, theirs.ID, active.ID}
		check("management, cross-account", f.caller, all)
		check("account_id EQUALS", f.caller, []string{theirs.ID, active.ID}, filter("account_id", "EQUALS", f.member.AccountID))
		check("account_id NOT_EQUALS", f.caller, []string{own.ID, mgmtManaged.ID}, filter("account_id", "NOT_EQUALS", f.member.AccountID))
		check("account_id of an account outside", f.caller, nil, filter("account_id", "EQUALS", f.other.AccountID))
		check("application_name EQUALS", f.caller, []string{active.ID}, filter("application_name", "EQUALS", "nginx"))
		check("application_name BEGINS_WITH", f.caller, []string{mgmtManaged.ID}, filter("application_name", "BEGINS_WITH", "ht"), filter("platform", "EQUALS", "Ubuntu"))
		check("application_name BEGINS_WITH, of a member", f.caller, []string{active.ID}, filter("application_name", "BEGINS_WITH", "post"), filter("account_id", "EQUALS", f.member.AccountID))
		check("tag NOT_EQUALS, cross-account", f.caller, all, filter("tag:env", "NOT_EQUALS", "prod"))
		check("tag EQUALS: no tags recorded", f.caller, nil, filter("tag:env", "EQUALS", "prod"))
		check("member, its own inventory only", f.member, []string{theirs.ID, active.ID})

		out, err := f.svc.ListResourceInventory(f.ctx, f.caller, &ListResourceInventoryInput{MaxResults: ptr[int32](3)})
		if err != nil || len(out.ResourceInventoryList) != 3 || out.NextToken == nil {
			t.Fatalf("page 1 = %+v, %v", out, err)
		}
		out, err = f.svc.ListResourceInventory(f.ctx, f.caller, &ListResourceInventoryInput{MaxResults: ptr[int32](3), NextToken: out.NextToken})
		if err != nil || len(out.ResourceInventoryList) != 1 || out.NextToken != nil {
			t.Fatalf("page 2 = %+v, %v", out, err)
		}

		for name, fs := range map[string][]InventoryFilter{
			"platform CONTAINS":          {filter("platform", "CONTAINS", "UNIX")},
			"resource_id BEGINS_WITH":    {filter("resource_id", "BEGINS_WITH", "i-")},
			"application_name NOT_EQUAL": {filter("application_name", "NOT_EQUALS", "nginx")},
			"license_included value":     {filter("license_included", "EQUALS", "oracle-ee")},
			"empty tag key":              {filter("tag:", "EQUALS", "x")},
		} {
			if _, err := list(f.caller, fs...); !isInvalid(err) {
				t.Errorf("%s: %v, want InvalidParameterValueException", name, err)
			}
		}
	})
}

func isInvalid(err error) bool {
	e, ok := awserr.As(err)
	return ok && e.Code == ErrInvalidParameterValue
}
