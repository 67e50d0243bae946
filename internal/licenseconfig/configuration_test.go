package licenseconfig

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/allot-dev/allot/internal/authz"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

type fixture struct {
	t      *testing.T
	ctx    context.Context
	db     *store.DB
	svc    *Service
	caller *identity.Principal
	other  *identity.Principal
}

func newFixture(t *testing.T) *fixture {
	db := storetest.OpenDSN(t, filepath.Join(t.TempDir(), "allot.db"), storetest.NewBox(t), store.Options{})
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

// create makes a configuration and returns its ARN.
func (f *fixture) create(in *CreateLicenseConfigurationInput) string {
	f.t.Helper()
	out, err := f.svc.CreateLicenseConfiguration(f.ctx, f.caller, in)
	if err != nil {
		f.t.Fatalf("CreateLicenseConfiguration: %v", err)
	}
	return out.LicenseConfigurationArn
}

// resource stores an inventory resource of the caller's: an instance in state, a host or an image.
func (f *fixture) resource(typ, id, state string, cores int64) *store.Resource {
	f.t.Helper()
	r := &store.Resource{ID: id, Type: typ, AccountID: f.caller.AccountID, Region: "us-east-1", State: state, Platform: "Linux/UNIX",
		InstanceType: "m5.8xlarge", VCPUs: cores * 2, Cores: cores, ThreadsPerCore: 2, Tenancy: "host"}
	switch typ {
	case store.ResourceInstance:
		r.ARN = InstanceARN("us-east-1", f.caller.AccountID, id)
		r.Sockets = 2
	case store.ResourceHost:
		r.ARN, r.InstanceType, r.Sockets = HostARN("us-east-1", f.caller.AccountID, id), "", 2
	default:
		r.ARN, r.InstanceType, r.Tenancy = ImageARN("us-east-1", id), "", ""
	}
	if err := f.db.Update(f.ctx, func(tx *store.Tx) error { return tx.AddResource(f.ctx, r) }); err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *fixture) get(arn string) *GetLicenseConfigurationOutput {
	f.t.Helper()
	out, err := f.svc.GetLicenseConfiguration(f.ctx, f.caller, &GetLicenseConfigurationInput{LicenseConfigurationArn: arn})
	if err != nil {
		f.t.Fatalf("GetLicenseConfiguration: %v", err)
	}
	return out
}

func (f *fixture) associate(arn string, add, remove []string) error {
	in := &UpdateLicenseSpecificationsForResourceInput{ResourceArn: arn}
	for _, a := range add {
		in.AddLicenseSpecifications = append(in.AddLicenseSpecifications, LicenseSpecification{LicenseConfigurationArn: ptr(a)})
	}
	for _, a := range remove {
		in.RemoveLicenseSpecifications = append(in.RemoveLicenseSpecifications, LicenseSpecification{LicenseConfigurationArn: ptr(a)})
	}
	_, err := f.svc.UpdateLicenseSpecificationsForResource(f.ctx, f.caller, in)
	return err
}

// wantCode checks err's AWS error code and that its message contains msg.
func wantCode(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	var e *awserr.Error
	if !errors.As(err, &e) || e.Code != code || !strings.Contains(e.Message, msg) {
		t.Fatalf("%s = %v, want %s containing %q", what, err, code, msg)
	}
}

func seedConfig() *CreateLicenseConfigurationInput {
	return &CreateLicenseConfigurationInput{
		Name: "OS", Description: ptr("server OS"), LicenseCountingType: CountCore, LicenseCount: ptr[int64](96), LicenseCountHardLimit: ptr(true),
		LicenseRules: []string{"#minimumCores=8", "#maximumCores=16", "#allowedTenancy=EC2-DedicatedHost"},
		Tags:         []Tag{{Key: ptr("team"), Value: ptr("it")}},
	}
}

func TestService_CreateLicenseConfiguration(t *testing.T) {
	f := newFixture(t)
	arn := f.create(seedConfig())
	if !IsConfigurationARN(arn) || !strings.HasPrefix(arn, "arn:aws:license-manager:us-east-1:111122223333:license-configuration:lic-") {
		t.Fatalf("ARN %s", arn)
	}
	got := f.get(arn)
	if got.Name != "OS" || got.Description != "server OS" || got.LicenseCountingType != CountCore || *got.LicenseCount != 96 || !got.LicenseCountHardLimit ||
		got.Status != "AVAILABLE" || got.OwnerAccountId != "111122223333" || len(got.LicenseRules) != 3 || len(got.Tags) != 1 ||
		len(got.ConsumedLicenseSummaryList) != 4 || got.LicenseConfigurationId != arn[strings.LastIndex(arn, ":")+1:] {
		t.Fatalf("GetLicenseConfiguration = %+v", got)
	}
	// In another region the configuration does not exist, and the error says where it is.
	west := authz.WithOrigin(f.ctx, authz.Origin{Region: "us-west-2"})
	_, err := f.svc.GetLicenseConfiguration(west, f.caller, &GetLicenseConfigurationInput{LicenseConfigurationArn: arn})
	wantCode(t, "GetLicenseConfiguration(other region)", err, ErrInvalidParameterValue, "is in region us-east-1")
	_, err = f.svc.GetLicenseConfiguration(f.ctx, f.other, &GetLicenseConfigurationInput{LicenseConfigurationArn: arn})
	wantCode(t, "GetLicenseConfiguration(other account)", err, ErrInvalidParameterValue, "does not exist in account 444455556666")

	cases := []struct {
		name string
		edit func(*CreateLicenseConfigurationInput)
		msg  string
	}{
		{"ErrNoName", func(in *CreateLicenseConfigurationInput) { in.Name = "" }, "Name is required"},
		{"ErrCountingType", func(in *CreateLicenseConfigurationInput) { in.LicenseCountingType = "cores" }, "LicenseCountingType must be one of vCPU, Instance, Core, Socket"},
		{"ErrNegativeCount", func(in *CreateLicenseConfigurationInput) { in.LicenseCount = ptr[int64](-1) }, "must not be negative"},
		{"ErrRule", func(in *CreateLicenseConfigurationInput) { in.LicenseRules = []string{"#minimumSockets=1"} }, "applies to Socket counting, not Core"},
		{"ErrTagKey", func(in *CreateLicenseConfigurationInput) { in.Tags = []Tag{{Value: ptr("v")}} }, "Tags[0].Key is required"},
		{"ErrProduct", func(in *CreateLicenseConfigurationInput) {
			in.ProductInformationList = []ProductInformation{{ResourceType: ptr("SSM_MANAGED"), ProductInformationFilterList: []ProductInformationFilter{
				{ProductInformationFilterName: ptr("Application Name"), ProductInformationFilterComparator: ptr("BEGINS_WITH"), ProductInformationFilterValue: []string{"x"}}}}}
		}, "takes the comparator EQUALS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := seedConfig()
			c.edit(in)
			_, err := f.svc.CreateLicenseConfiguration(f.ctx, f.caller, in)
			wantCode(t, "CreateLicenseConfiguration", err, ErrInvalidParameterValue, c.msg)
		})
	}
}

func TestService_ListLicenseConfigurations(t *testing.T) {
	f := newFixture(t)
	core := f.create(seedConfig())
	soft := f.create(&CreateLicenseConfigurationInput{Name: "soft", LicenseCountingType: CountInstance, LicenseCount: ptr[int64](0)})
	vcpu := f.create(&CreateLicenseConfigurationInput{Name: "v", LicenseCountingType: CountVCPU})
	i := f.resource(store.ResourceInstance, "i-00000000000000001", "running", 8)
	if err := f.associate(i.ARN, []string{soft}, nil); err != nil {
		t.Fatal(err)
	}
	list := func(in *ListLicenseConfigurationsInput) ([]string, *string) {
		t.Helper()
		out, err := f.svc.ListLicenseConfigurations(f.ctx, f.caller, in)
		if err != nil {
			t.Fatalf("ListLicenseConfigurations: %v", err)
		}
		var names []string
		for _, c := range out.LicenseConfigurations {
			names = append(names, c.Name)
		}
		return names, out.NextToken
	}
	filter := func(name string, values ...string) []Filter { return []Filter{{Name: ptr(name), Values: values}} }
	cases := []struct {
		name string
		in   *ListLicenseConfigurationsInput
		want int
		has  string
	}{
		{"All", &ListLicenseConfigurationsInput{}, 3, ""},
		{"ARNs", &ListLicenseConfigurationsInput{LicenseConfigurationArns: []string{core, vcpu}}, 2, "OS"},
		{"CountingType", &ListLicenseConfigurationsInput{Filters: filter("licenseCountingType", "vCPU")}, 1, "v"},
		{"Enforced", &ListLicenseConfigurationsInput{Filters: filter("enforceLicenseCount", "true")}, 1, "OS"},
		{"Exceeded", &ListLicenseConfigurationsInput{Filters: filter("usagelimitExceeded", "True")}, 1, "soft"},
	}
	for _, c := range cases {
		names, _ := list(c.in)
		if len(names) != c.want || c.has != "" && !strings.Contains(strings.Join(names, ","), c.has) {
			t.Errorf("%s: %v, want %d with %q", c.name, names, c.want, c.has)
		}
	}
	// Paging: one at a time, three pages, the last without a token.
	var seen []string
	var tok *string
	for range 3 {
		names, next := list(&ListLicenseConfigurationsInput{MaxResults: ptr[int32](1), NextToken: tok})
		seen = append(seen, names...)
		tok = next
	}
	if len(seen) != 3 || tok != nil {
		t.Fatalf("paged %v, last token %v", seen, tok)
	}
	_, err := f.svc.ListLicenseConfigurations(f.ctx, f.caller, &ListLicenseConfigurationsInput{Filters: filter("status", "x")})
	wantCode(t, "ListLicenseConfigurations(unknown filter)", err, ErrInvalidParameterValue, "must be one of licenseCountingType")
	many := make([]Filter, 11)
	for i := range many {
		many[i] = Filter{Name: ptr("licenseCountingType"), Values: []string{"Core"}}
	}
	_, err = f.svc.ListLicenseConfigurations(f.ctx, f.caller, &ListLicenseConfigurationsInput{Filters: many})
	wantCode(t, "ListLicenseConfigurations(11 filters)", err, ErrFilterLimitExceeded, "at most 10")
	_, err = f.svc.ListLicenseConfigurations(f.ctx, f.caller, &ListLicenseConfigurationsInput{NextToken: ptr("bogus")})
	wantCode(t, "ListLicenseConfigurations(bad token)", err, ErrInvalidParameterValue, "NextToken")
}

func TestService_UpdateAndDeleteLicenseConfiguration(t *testing.T) {
	f := newFixture(t)
	arn := f.create(seedConfig())
	_, err := f.svc.UpdateLicenseConfiguration(f.ctx, f.caller, &UpdateLicenseConfigurationInput{LicenseConfigurationArn: arn,
		Name: ptr("OS 2"), LicenseCount: ptr[int64](48), LicenseCountHardLimit: ptr(false), LicenseRules: []string{"#minimumCores=4"}})
	if err != nil {
		t.Fatalf("UpdateLicenseConfiguration: %v", err)
	}
	got := f.get(arn)
	if got.Name != "OS 2" || got.Description != "server OS" || *got.LicenseCount != 48 || got.LicenseCountHardLimit || len(got.LicenseRules) != 1 {
		t.Fatalf("after update: %+v", got)
	}
	_, err = f.svc.UpdateLicenseConfiguration(f.ctx, f.caller, &UpdateLicenseConfigurationInput{LicenseConfigurationArn: arn, LicenseConfigurationStatus: ptr("ACTIVE")})
	wantCode(t, "UpdateLicenseConfiguration(ACTIVE)", err, ErrInvalidParameterValue, "AVAILABLE or DISABLED")

	// With a resource associated, rules other than #licenseAffinityToHost cannot change; the
	// configuration cannot be deleted.
	i := f.resource(store.ResourceInstance, "i-00000000000000001", "running", 8)
	if err := f.associate(i.ARN, []string{arn}, nil); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.UpdateLicenseConfiguration(f.ctx, f.caller, &UpdateLicenseConfigurationInput{LicenseConfigurationArn: arn, LicenseRules: []string{"#minimumCores=2"}})
	wantCode(t, "UpdateLicenseConfiguration(rules while associated)", err, ErrInvalidParameterValue, "only #licenseAffinityToHost may change, not minimumCores")
	_, err = f.svc.UpdateLicenseConfiguration(f.ctx, f.caller, &UpdateLicenseConfigurationInput{LicenseConfigurationArn: arn, LicenseRules: []string{"#minimumCores=4", "#licenseAffinityToHost=30"}})
	if err != nil {
		t.Fatalf("UpdateLicenseConfiguration(add licenseAffinityToHost): %v", err)
	}
	_, err = f.svc.DeleteLicenseConfiguration(f.ctx, f.caller, &DeleteLicenseConfigurationInput{LicenseConfigurationArn: arn})
	wantCode(t, "DeleteLicenseConfiguration(associated)", err, ErrInvalidParameterValue, "while 1 resources are associated with it ("+i.ARN)
	if err := f.associate(i.ARN, nil, []string{arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.DeleteLicenseConfiguration(f.ctx, f.caller, &DeleteLicenseConfigurationInput{LicenseConfigurationArn: arn}); err != nil {
		t.Fatalf("DeleteLicenseConfiguration: %v", err)
	}
	_, err = f.svc.GetLicenseConfiguration(f.ctx, f.caller, &GetLicenseConfigurationInput{LicenseConfigurationArn: arn})
	wantCode(t, "GetLicenseConfiguration(deleted)", err, ErrInvalidParameterValue, "does not exist")
}

func TestService_Tags(t *testing.T) {
	f := newFixture(t)
	arn := f.create(seedConfig())
	if err := f.svc.TagResource(f.ctx, f.caller, arn, []Tag{{Key: ptr("env"), Value: ptr("prod")}, {Key: ptr("team"), Value: ptr("ops")}}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.UntagResource(f.ctx, f.caller, arn, []string{"env"}); err != nil {
		t.Fatal(err)
	}
	tags, err := f.svc.ListTagsForResource(f.ctx, f.caller, arn)
	if err != nil || len(tags) != 1 || *tags[0].Key != "team" || *tags[0].Value != "ops" {
		t.Fatalf("ListTagsForResource = %v, %v; want team=ops", tags, err)
	}
	wantCode(t, "TagResource(no tags)", f.svc.TagResource(f.ctx, f.caller, arn, nil), ErrValidation, "Tags is required")
	wantCode(t, "TagResource(other account)", f.svc.TagResource(f.ctx, f.other, arn, tags), ErrInvalidParameterValue, "does not exist")
}

func TestService_UpdateLicenseSpecificationsForResource(t *testing.T) {
	f := newFixture(t)
	cfg := f.create(&CreateLicenseConfigurationInput{Name: "cores", LicenseCountingType: CountCore, LicenseCount: ptr[int64](20),
		LicenseCountHardLimit: ptr(true), LicenseRules: []string{"#minimumCores=8"}})
	soft := f.create(&CreateLicenseConfigurationInput{Name: "soft", LicenseCountingType: CountInstance, LicenseCount: ptr[int64](1)})
	running := f.resource(store.ResourceInstance, "i-00000000000000001", "running", 16)
	running2 := f.resource(store.ResourceInstance, "i-00000000000000002", "running", 16)
	small := f.resource(store.ResourceInstance, "i-00000000000000003", "running", 4)
	stopped := f.resource(store.ResourceInstance, "i-00000000000000004", "stopped", 16)
	gone := f.resource(store.ResourceInstance, "i-00000000000000005", "terminated", 16)
	image := f.resource(store.ResourceImage, "ami-00000000000000001", "available", 0)

	if err := f.associate(running.ARN, []string{cfg, soft}, nil); err != nil {
		t.Fatalf("associate a running instance: %v", err)
	}
	wantCode(t, "associate over the hard limit", f.associate(running2.ARN, []string{cfg}, nil), ErrLicenseUsage, "has a hard limit of 20 cores: 16 are in use, and instance i-00000000000000002 (m5.8xlarge) needs 16 more")
	wantCode(t, "associate a 4-core instance", f.associate(small.ARN, []string{cfg}, nil), ErrLicenseUsage, "needs at least 8 cores")
	if err := f.associate(stopped.ARN, []string{cfg}, nil); err != nil {
		t.Fatalf("associate a stopped instance (takes nothing until it starts): %v", err)
	}
	if err := f.associate(image.ARN, []string{cfg}, nil); err != nil {
		t.Fatalf("associate an image: %v", err)
	}
	wantCode(t, "associate a terminated instance", f.associate(gone.ARN, []string{cfg}, nil), ErrInvalidResourceState, "is terminated")
	if err := f.associate(running2.ARN, []string{soft}, nil); err != nil {
		t.Fatalf("associate over a soft limit: %v", err)
	}
	if err := f.associate(running.ARN, []string{cfg}, nil); err != nil {
		t.Fatalf("associate again (no change): %v", err)
	}

	got := f.get(cfg)
	if got.ConsumedLicenses != 16 {
		t.Errorf("cores consumed = %d, want 16", got.ConsumedLicenses)
	}
	counts := map[string]int64{}
	for _, m := range got.ManagedResourceSummaryList {
		counts[m.ResourceType] = m.AssociationCount
	}
	if counts[store.ResourceInstance] != 2 || counts[store.ResourceImage] != 1 {
		t.Errorf("ManagedResourceSummaryList = %+v, want 2 instances and 1 image", got.ManagedResourceSummaryList)
	}
	if got := f.get(soft); got.ConsumedLicenses != 2 {
		t.Errorf("soft consumed = %d, want 2 (over its count of 1)", got.ConsumedLicenses)
	}
	var alerts []*store.LicenseAlert
	f.db.View(f.ctx, func(tx *store.Tx) (err error) { alerts, err = tx.LicenseAlerts(f.ctx, soft); return err })
	if len(alerts) != 1 || alerts[0].Consumed != 2 || alerts[0].LicenseCount != 1 || alerts[0].ResourceARN != running2.ARN {
		t.Errorf("soft-limit alerts = %+v, want one for %s", alerts, running2.ARN)
	}

	assoc, err := f.svc.ListAssociationsForLicenseConfiguration(f.ctx, f.caller, &ListAssociationsForLicenseConfigurationInput{LicenseConfigurationArn: cfg})
	if err != nil || len(assoc.LicenseConfigurationAssociations) != 3 {
		t.Fatalf("ListAssociationsForLicenseConfiguration = %+v, %v; want 3", assoc, err)
	}
	usage, err := f.svc.ListUsageForLicenseConfiguration(f.ctx, f.caller, &ListUsageForLicenseConfigurationInput{LicenseConfigurationArn: cfg})
	if err != nil || len(usage.LicenseConfigurationUsageList) != 1 || usage.LicenseConfigurationUsageList[0].ResourceArn != running.ARN ||
		usage.LicenseConfigurationUsageList[0].ConsumedLicenses != 16 || usage.LicenseConfigurationUsageList[0].ResourceStatus != "running" {
		t.Fatalf("ListUsageForLicenseConfiguration = %+v, %v; want the running instance with 16", usage, err)
	}
	usage, err = f.svc.ListUsageForLicenseConfiguration(f.ctx, f.caller, &ListUsageForLicenseConfigurationInput{LicenseConfigurationArn: soft,
		Filters: []Filter{{Name: ptr("resourceArn"), Values: []string{running2.ARN}}}})
	if err != nil || len(usage.LicenseConfigurationUsageList) != 1 {
		t.Fatalf("ListUsageForLicenseConfiguration(resourceArn) = %+v, %v", usage, err)
	}
	specs, err := f.svc.ListLicenseSpecificationsForResource(f.ctx, f.caller, &ListLicenseSpecificationsForResourceInput{ResourceArn: running.ARN})
	if err != nil || len(specs.LicenseSpecifications) != 2 {
		t.Fatalf("ListLicenseSpecificationsForResource = %+v, %v; want 2", specs, err)
	}
	fails, err := f.svc.ListFailuresForLicenseConfigurationOperations(f.ctx, f.caller, &ListFailuresForLicenseConfigurationOperationsInput{LicenseConfigurationArn: cfg})
	if err != nil || len(fails.LicenseOperationFailureList) != 2 || fails.LicenseOperationFailureList[0].OperationName != "UpdateLicenseSpecificationsForResource" ||
		fails.LicenseOperationFailureList[0].ResourceArn != running2.ARN || fails.LicenseOperationFailureList[1].ResourceArn != small.ARN {
		t.Fatalf("ListFailuresForLicenseConfigurationOperations = %+v, %v; want the two refusals in order", fails, err)
	}

	// Removal returns the units; DISABLED refuses new associations.
	if err := f.associate(running.ARN, nil, []string{cfg}); err != nil {
		t.Fatal(err)
	}
	if got := f.get(cfg).ConsumedLicenses; got != 0 {
		t.Errorf("consumed after removal = %d, want 0", got)
	}
	wantCode(t, "remove again", f.associate(running.ARN, nil, []string{cfg}), ErrInvalidParameterValue, "is not associated")
	if _, err := f.svc.UpdateLicenseConfiguration(f.ctx, f.caller, &UpdateLicenseConfigurationInput{LicenseConfigurationArn: cfg, LicenseConfigurationStatus: ptr("DISABLED")}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "associate with a DISABLED configuration", f.associate(running.ARN, []string{cfg}, nil), ErrLicenseUsage, "is DISABLED")
	wantCode(t, "same ARN added and removed", f.associate(running.ARN, []string{soft}, []string{soft}), ErrInvalidParameterValue, "names already")
	wantCode(t, "launch template ARN", f.associate("arn:aws:ec2:us-east-1:111122223333:launch-template/lt-0123456789abcdef0", []string{soft}, nil), ErrInvalidParameterValue, "launch templates")
	_, err = f.svc.UpdateLicenseSpecificationsForResource(f.ctx, f.other, &UpdateLicenseSpecificationsForResourceInput{ResourceArn: running.ARN,
		AddLicenseSpecifications: []LicenseSpecification{{LicenseConfigurationArn: ptr(soft)}}})
	wantCode(t, "another account's instance", err, ErrInvalidParameterValue, "does not exist in account 444455556666")
}

func TestService_ListResourceInventory(t *testing.T) {
	f := newFixture(t)
	f.resource(store.ResourceInstance, "i-00000000000000001", "running", 8)
	f.resource(store.ResourceInstance, "i-00000000000000002", "terminated", 8)
	f.resource(store.ResourceHost, "h-00000000000000001", "available", 48)
	f.resource(store.ResourceImage, "ami-00000000000000001", "available", 0)
	list := func(filters ...InventoryFilter) ([]string, error) {
		out, err := f.svc.ListResourceInventory(f.ctx, f.caller, &ListResourceInventoryInput{Filters: filters})
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, r := range out.ResourceInventoryList {
			ids = append(ids, r.ResourceId)
		}
		return ids, nil
	}
	filter := func(name, cond, value string) InventoryFilter {
		return InventoryFilter{Name: ptr(name), Condition: ptr(cond), Value: ptr(value)}
	}
	cases := []struct {
		name    string
		filters []InventoryFilter
		want    string
		err     string
	}{
		{"All", nil, "ami-00000000000000001 h-00000000000000001 i-00000000000000001", ""},
		{"ResourceID", []InventoryFilter{filter("resource_id", "EQUALS", "h-00000000000000001")}, "h-00000000000000001", ""},
		{"BeginsWith", []InventoryFilter{filter("platform", "BEGINS_WITH", "Linux"), filter("resource_id", "NOT_EQUALS", "h-00000000000000001")}, "ami-00000000000000001 i-00000000000000001", ""},
		{"Platform", []InventoryFilter{filter("platform", "EQUALS", "Linux/UNIX"), filter("resource_id", "NOT_EQUALS", "ami-00000000000000001")}, "h-00000000000000001 i-00000000000000001", ""},
		{"Account", []InventoryFilter{filter("account_id", "NOT_EQUALS", "111122223333")}, "", ""},
		{"ApplicationNothingRecorded", []InventoryFilter{filter("application_name", "EQUALS", "nginx")}, "", ""},
		{"LicenseIncludedNotEquals", []InventoryFilter{filter("license_included", "NOT_EQUALS", "sql-server-web")}, "ami-00000000000000001 h-00000000000000001 i-00000000000000001", ""},
		{"ErrName", []InventoryFilter{filter("state", "EQUALS", "running")}, "", "Filters[0].Name must be"},
		{"ErrCondition", []InventoryFilter{filter("account_id", "BEGINS_WITH", "1")}, "", "takes the condition EQUALS, NOT_EQUALS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ids, err := list(c.filters...)
			if c.err != "" {
				wantCode(t, "ListResourceInventory", err, ErrInvalidParameterValue, c.err)
				return
			}
			if err != nil || strings.Join(ids, " ") != c.want {
				t.Fatalf("ListResourceInventory = %v, %v; want %s", ids, err, c.want)
			}
		})
	}
	out, err := f.svc.ListResourceInventory(f.ctx, f.caller, &ListResourceInventoryInput{MaxResults: ptr[int32](2)})
	if err != nil || len(out.ResourceInventoryList) != 2 || out.NextToken == nil {
		t.Fatalf("page 1 = %+v, %v", out, err)
	}
	out, err = f.svc.ListResourceInventory(f.ctx, f.caller, &ListResourceInventoryInput{MaxResults: ptr[int32](2), NextToken: out.NextToken})
	if err != nil || len(out.ResourceInventoryList) != 1 || out.NextToken != nil || out.ResourceInventoryList[0].ResourceArn == "" {
		t.Fatalf("page 2 = %+v, %v", out, err)
	}

}
