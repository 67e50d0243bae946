package ssm

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/authz"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awsproto"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/licenseconfig"
	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

// clock is a settable time source shared by the store and the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	t      *testing.T
	ctx    context.Context
	db     *store.DB
	clock  *clock
	svc    *Service
	lc     *licenseconfig.Service
	caller *identity.Principal
	other  *identity.Principal
}

func newFixture(t *testing.T) *fixture {
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	db := storetest.OpenDSN(t, filepath.Join(t.TempDir(), "allot.db"), storetest.NewBox(t), store.Options{Now: c.Now})
	lc := &licenseconfig.Service{DB: db, Now: c.Now, Logger: storetest.Quiet()}
	f := &fixture{t: t, ctx: authz.WithOrigin(context.Background(), authz.Origin{Region: "us-east-1"}), db: db, clock: c,
		svc: &Service{DB: db, Licenses: lc, Now: c.Now, Logger: storetest.Quiet()}, lc: lc,
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

const (
	mi1 = "mi-0123456789abcdef0"
	mi2 = "mi-0123456789abcdef1"
)

func ptr[T any](v T) *T { return &v }

// info is an AWS:InstanceInformation item.
func info(id, platformType string) InventoryItem {
	return InventoryItem{TypeName: TypeInstanceInformation, SchemaVersion: "1.0", CaptureTime: "2026-03-01T12:00:00Z",
		ContentHash: ptr("info-1"), Content: []map[string]string{{"AgentType": "allot-agent", "AgentVersion": "1.2.3",
			"ComputerName": "db1.example.com", "InstanceId": id, "IpAddress": "192.0.2.10", "PlatformName": "Ubuntu",
			"PlatformType": platformType, "PlatformVersion": "24.04", "ResourceType": "ManagedInstance"}}}
}

// cpu is an AWS:InstanceDetailedInformation item of cores physical cores with hyper-threading.
func cpu(sockets, cores int) InventoryItem {
	return InventoryItem{TypeName: TypeInstanceDetailedInformation, SchemaVersion: "1.0", CaptureTime: "2026-03-01T12:00:00Z",
		ContentHash: ptr(fmt.Sprint("cpu-", cores)), Content: []map[string]string{{"CPUModel": "Xeon", "CPUs": fmt.Sprint(cores * 2),
			"CPUCores": fmt.Sprint(cores), "CPUSockets": fmt.Sprint(sockets), "CPUHyperThreadEnabled": "true", "CPUSpeedMHz": "2400"}}}
}

// apps is an AWS:Application item with the named applications.
func apps(hash string, names ...string) InventoryItem {
	it := InventoryItem{TypeName: TypeApplication, SchemaVersion: "1.1", CaptureTime: "2026-03-01T12:00:00Z", ContentHash: ptr(hash),
		Content: []map[string]string{}}
	for _, n := range names {
		it.Content = append(it.Content, map[string]string{"Name": n, "Version": "19.3", "Publisher": "Example Corp", "Architecture": "x86_64"})
	}
	return it
}

// agent is a Custom:AllotAgent item with a heartbeat interval.
func agent(seconds int) InventoryItem {
	return InventoryItem{TypeName: TypeAgent, SchemaVersion: "1.0", CaptureTime: "2026-03-01T12:00:00Z", ContentHash: ptr(fmt.Sprint("agent-", seconds)),
		Content: []map[string]string{{"HeartbeatSeconds": fmt.Sprint(seconds), "Architecture": "x86_64"}}}
}

// heartbeat is an item of typ named by hash alone.
func heartbeat(typ, version, hash string) InventoryItem {
	return InventoryItem{TypeName: typ, SchemaVersion: version, CaptureTime: "2026-03-01T12:05:00Z", ContentHash: ptr(hash)}
}

func (f *fixture) put(p *identity.Principal, id string, items ...InventoryItem) error {
	_, err := f.svc.PutInventory(f.ctx, p, &PutInventoryInput{InstanceId: id, Items: items})
	return err
}

func (f *fixture) mustPut(id string, items ...InventoryItem) {
	f.t.Helper()
	if err := f.put(f.caller, id, items...); err != nil {
		f.t.Fatalf("PutInventory(%s): %v", id, err)
	}
}

func (f *fixture) resource(id string) *store.Resource {
	f.t.Helper()
	r, err := store.Read(f.ctx, f.db, func(tx *store.Tx) (*store.Resource, error) {
		return tx.Resource(f.ctx, InstanceARN(f.ctx, f.caller, id))
	})
	if err != nil {
		f.t.Fatalf("resource %s: %v", id, err)
	}
	return r
}

func (f *fixture) describe(in *DescribeInstanceInformationInput) []InstanceInformation {
	f.t.Helper()
	out, err := f.svc.DescribeInstanceInformation(f.ctx, f.caller, in)
	if err != nil {
		f.t.Fatalf("DescribeInstanceInformation: %v", err)
	}
	return out.InstanceInformationList
}

func wantCode(t *testing.T, what string, err error, code string) *awserr.Error {
	t.Helper()
	e, ok := awserr.As(err)
	if !ok || e.Code != code {
		t.Fatalf("%s: error %v, want %s", what, err, code)
	}
	return e
}

func TestErrorCodesHaveStatuses(t *testing.T) {
	for _, code := range codes() {
		want := 400
		if code == ErrInternalServer {
			want = 500
		}
		if !awsproto.KnownCode(code) || awsproto.Status(code) != want {
			t.Errorf("%s: known %v, status %d; want an entry of %d in awsproto's status table", code, awsproto.KnownCode(code), awsproto.Status(code), want)
		}
	}
}

func TestPutInventory_Invalid(t *testing.T) {
	f := newFixture(t)
	big := strings.Repeat("x", 4000)
	entries := func(n int) []map[string]string {
		out := make([]map[string]string, n)
		for i := range out {
			out[i] = map[string]string{"Name": fmt.Sprint("pkg-", i), "Summary": big}
		}
		return out
	}
	appsWith := func(content []map[string]string) InventoryItem {
		it := apps("h")
		it.Content = content
		return it
	}
	wide := map[string]string{}
	for i := range 51 {
		wide[fmt.Sprint("k", i)] = "v"
	}
	for _, tt := range []struct {
		name  string
		id    string
		items []InventoryItem
		code  string
		msg   string
	}{
		{"NoInstanceId", "", []InventoryItem{info(mi1, "Linux")}, ErrValidation, "InstanceId is required"},
		{"EC2InstanceId", "i-0123456789abcdef0", []InventoryItem{info(mi1, "Linux")}, ErrInvalidInstanceID, "registers managed instances only"},
		{"MalformedId", "mi-XYZ", []InventoryItem{info(mi1, "Linux")}, ErrInvalidInstanceID, "not a managed instance ID"},
		{"NoItems", mi1, nil, ErrValidation, "at least one"},
		{"TooManyItems", mi1, make([]InventoryItem, 31), ErrValidation, "at most 30"},
		{"NoTypeName", mi1, []InventoryItem{{SchemaVersion: "1.0", CaptureTime: "2026-03-01T12:00:00Z"}}, ErrValidation, "TypeName is required"},
		{"MalformedTypeName", mi1, []InventoryItem{{TypeName: "Inventory:X", SchemaVersion: "1.0", CaptureTime: "2026-03-01T12:00:00Z"}}, ErrValidation, "AWS: or Custom:"},
		{"UnknownAWSType", mi1, []InventoryItem{{TypeName: "AWS:Network", SchemaVersion: "1.0", CaptureTime: "2026-03-01T12:00:00Z"}}, ErrInvalidTypeName, "AWS:Network is not supported"},
		{"DuplicateType", mi1, []InventoryItem{apps("a", "x"), apps("b", "y")}, ErrValidation, "more than one item of type AWS:Application"},
		{"MalformedSchemaVersion", mi1, []InventoryItem{{TypeName: "Custom:X", SchemaVersion: "1", CaptureTime: "2026-03-01T12:00:00Z"}}, ErrValidation, "SchemaVersion"},
		{"UnsupportedSchemaVersion", mi1, []InventoryItem{{TypeName: TypeApplication, SchemaVersion: "1.0", CaptureTime: "2026-03-01T12:00:00Z"}}, ErrUnsupportedSchemaVersion, "has schema version 1.1"},
		{"MalformedCaptureTime", mi1, []InventoryItem{{TypeName: "Custom:X", SchemaVersion: "1.0", CaptureTime: "2026-03-01 12:00:00"}}, ErrValidation, "CaptureTime"},
		{"UnknownAttribute", mi1, []InventoryItem{appsWith([]map[string]string{{"Name": "a", "Colour": "red"}})}, ErrInvalidItemContent, `"Colour"`},
		{"ApplicationWithoutName", mi1, []InventoryItem{appsWith([]map[string]string{{"Version": "1"}})}, ErrInvalidItemContent, "no Name"},
		{"TwoInstanceInformations", mi1, []InventoryItem{func() InventoryItem {
			it := info(mi1, "Linux")
			it.Content = append(it.Content, it.Content[0])
			return it
		}()}, ErrInvalidItemContent, "exactly one"},
		{"NoInstanceInformation", mi1, []InventoryItem{func() InventoryItem { it := info(mi1, "Linux"); it.Content, it.ContentHash = nil, nil; return it }()}, ErrInvalidItemContent, "exactly one"},
		{"PlatformType", mi1, []InventoryItem{info(mi1, "Solaris")}, ErrInvalidItemContent, "PlatformType"},
		{"OtherInstanceId", mi1, []InventoryItem{info(mi2, "Linux")}, ErrInvalidItemContent, "reported for " + mi1},
		{"CPUs", mi1, []InventoryItem{func() InventoryItem { it := cpu(1, 4); it.Content[0]["CPUs"] = "many"; return it }()}, ErrInvalidItemContent, "CPUs"},
		{"Heartbeat", mi1, []InventoryItem{agent(5)}, ErrInvalidItemContent, "HeartbeatSeconds"},
		{"Context", mi1, []InventoryItem{func() InventoryItem { it := apps("h", "a"); it.Context = map[string]string{"k": "v"}; return it }()}, ErrUnsupportedItemContext, "takes no Context"},
		{"TooManyAttributes", mi1, []InventoryItem{{TypeName: "Custom:X", SchemaVersion: "1.0", CaptureTime: "2026-03-01T12:00:00Z", Content: []map[string]string{wide}}}, ErrValidation, "at most 50 attributes"},
		{"LongValue", mi1, []InventoryItem{appsWith([]map[string]string{{"Name": strings.Repeat("n", 4097)}})}, ErrValidation, "at most 4096 characters"},
		{"ItemSize", mi1, []InventoryItem{{TypeName: "Custom:X", SchemaVersion: "1.0", CaptureTime: "2026-03-01T12:00:00Z", Content: entries(60)}},
			ErrItemSizeLimitExceeded, "a custom inventory item may have at most"},
		{"ApplicationsOverTotal", mi1, []InventoryItem{appsWith(entries(260))}, ErrTotalSizeLimitExceeded, "one call may send at most"},
		{"TotalSize", mi1, []InventoryItem{appsWith(entries(45)), func() InventoryItem {
			return InventoryItem{TypeName: "Custom:A", SchemaVersion: "1.0", CaptureTime: "2026-03-01T12:00:00Z", Content: entries(45)}
		}(), {TypeName: "Custom:B", SchemaVersion: "1.0", CaptureTime: "2026-03-01T12:00:00Z", Content: entries(45)},
			{TypeName: "Custom:C", SchemaVersion: "1.0", CaptureTime: "2026-03-01T12:00:00Z", Content: entries(45)},
			{TypeName: "Custom:D", SchemaVersion: "1.0", CaptureTime: "2026-03-01T12:00:00Z", Content: entries(45)},
			{TypeName: "Custom:E", SchemaVersion: "1.0", CaptureTime: "2026-03-01T12:00:00Z", Content: entries(45)}}, ErrTotalSizeLimitExceeded, "one call may send at most"},
		{"HashOfNothingStored", mi1, []InventoryItem{heartbeat(TypeInstanceInformation, "1.0", "info-1")}, ErrItemContentMismatch, "send the item with its content"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := f.put(f.caller, tt.id, tt.items...)
			e := wantCode(t, "PutInventory", err, tt.code)
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tt.msg)
			}
			switch tt.code {
			case ErrInvalidItemContent, ErrItemSizeLimitExceeded, ErrItemContentMismatch, ErrUnsupportedItemContext:
				if e.Fields["TypeName"] == "" {
					t.Errorf("%s has no TypeName member", tt.code)
				}
			}
		})
	}
	// Nothing was written by any of them.
	if got := f.describe(&DescribeInstanceInformationInput{}); len(got) != 0 {
		t.Fatalf("instances after refused reports: %+v, want none", got)
	}
}

func TestPutInventory_RegisterAndHeartbeat(t *testing.T) {
	f := newFixture(t)
	registered := f.clock.Now()
	f.mustPut(mi1, info(mi1, "Linux"), cpu(2, 16), apps("apps-1", "oracle-db", "nginx"), agent(60),
		InventoryItem{TypeName: "Custom:Rack", SchemaVersion: "1.0", CaptureTime: "2026-03-01T12:00:00Z", Content: []map[string]string{{"Row": "A"}}})

	r := f.resource(mi1)
	want := store.Resource{Type: store.ResourceManaged, AccountID: f.caller.AccountID, Region: "us-east-1", State: store.ManagedActive,
		Platform: "Ubuntu", PlatformType: "Linux", PlatformVersion: "24.04", ComputerName: "db1.example.com", IPAddress: "192.0.2.10",
		AgentVersion: "1.2.3", Architecture: "x86_64", VCPUs: 32, Cores: 16, ThreadsPerCore: 2, Sockets: 2}
	got := store.Resource{Type: r.Type, AccountID: r.AccountID, Region: r.Region, State: r.State, Platform: r.Platform, PlatformType: r.PlatformType,
		PlatformVersion: r.PlatformVersion, ComputerName: r.ComputerName, IPAddress: r.IPAddress, AgentVersion: r.AgentVersion,
		Architecture: r.Architecture, VCPUs: r.VCPUs, Cores: r.Cores, ThreadsPerCore: r.ThreadsPerCore, Sockets: r.Sockets}
	if got != want {
		t.Fatalf("registered instance:\n got %+v\nwant %+v", got, want)
	}
	if r.ARN != "arn:aws:ssm:us-east-1:111122223333:managed-instance/"+mi1 || !r.LastSeenAt.Equal(registered) {
		t.Errorf("ARN %s, last seen %v; want the managed-instance ARN, seen at %v", r.ARN, r.LastSeenAt, registered)
	}
	list := f.describe(&DescribeInstanceInformationInput{})
	if len(list) != 1 || list[0].InstanceId != mi1 || list[0].PingStatus != PingOnline || list[0].ResourceType != ResourceTypeManaged ||
		list[0].PlatformName != "Ubuntu" || list[0].IPAddress != "192.0.2.10" || !list[0].RegistrationDate.Equal(registered) {
		t.Fatalf("DescribeInstanceInformation = %+v", list)
	}

	// A heartbeat: every type by its hash alone. The content stays; the report time moves.
	f.clock.advance(5 * time.Minute)
	f.mustPut(mi1, heartbeat(TypeInstanceInformation, "1.0", "info-1"), heartbeat(TypeApplication, "1.1", "apps-1"), heartbeat(TypeAgent, "1.0", "agent-60"))
	if r := f.resource(mi1); !r.LastSeenAt.Equal(f.clock.Now()) || r.Cores != 16 || r.Platform != "Ubuntu" {
		t.Fatalf("after a heartbeat: last seen %v, cores %d, platform %q; want %v, 16, Ubuntu", r.LastSeenAt, r.Cores, r.Platform, f.clock.Now())
	}
	entries, err := f.svc.ListInventoryEntries(f.ctx, f.caller, &ListInventoryEntriesInput{InstanceId: mi1, TypeName: TypeApplication})
	if err != nil || len(entries.Entries) != 2 || entries.CaptureTime != "2026-03-01T12:05:00Z" || entries.SchemaVersion != "1.1" {
		t.Fatalf("ListInventoryEntries after a heartbeat = %+v, %v; want the 2 applications captured at the heartbeat", entries, err)
	}

	// A hash that is not the stored one, without content: refused, nothing changes.
	before := f.resource(mi1)
	f.clock.advance(time.Minute)
	err = f.put(f.caller, mi1, heartbeat(TypeInstanceInformation, "1.0", "info-1"), heartbeat(TypeApplication, "1.1", "apps-2"))
	if e := wantCode(t, "PutInventory(stale hash)", err, ErrItemContentMismatch); e.Fields["TypeName"] != TypeApplication {
		t.Errorf("TypeName = %q, want %s", e.Fields["TypeName"], TypeApplication)
	}
	if r := f.resource(mi1); !r.LastSeenAt.Equal(before.LastSeenAt) {
		t.Errorf("a refused report moved the last report from %v to %v", before.LastSeenAt, r.LastSeenAt)
	}

	// New content replaces the applications; the same hash with content keeps the stored one.
	f.mustPut(mi1, apps("apps-2", "postgres"))
	f.mustPut(mi1, apps("apps-2", "ignored, as the hash says nothing changed"))
	got2, err := store.Read(f.ctx, f.db, func(tx *store.Tx) (*[]store.Application, error) {
		a, err := tx.Applications(f.ctx, InstanceARN(f.ctx, f.caller, mi1))
		return &a, err
	})
	if err != nil || len(*got2) != 1 || (*got2)[0].Name != "postgres" {
		t.Fatalf("applications = %+v, %v; want postgres alone", got2, err)
	}

	// An explicit empty list with a new hash: no applications.
	empty := apps("apps-3")
	f.mustPut(mi1, empty)
	entries, err = f.svc.ListInventoryEntries(f.ctx, f.caller, &ListInventoryEntriesInput{InstanceId: mi1, TypeName: TypeApplication})
	if err != nil || len(entries.Entries) != 0 {
		t.Fatalf("ListInventoryEntries after an empty list = %+v, %v", entries, err)
	}
}

func TestListInventoryEntries(t *testing.T) {
	f := newFixture(t)
	var names []string
	for i := range 12 {
		names = append(names, fmt.Sprintf("pkg-%02d", i))
	}
	f.mustPut(mi1, info(mi1, "Linux"), apps("a", names...))

	var all []string
	in := &ListInventoryEntriesInput{InstanceId: mi1, TypeName: TypeApplication, MaxResults: ptr[int32](5),
		Filters: []InventoryFilter{{Key: "AWS:Application.Name", Values: []string{"pkg-0"}, Type: ptr("BeginWith")}}}
	for pages := 0; ; pages++ {
		out, err := f.svc.ListInventoryEntries(f.ctx, f.caller, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Entries {
			all = append(all, e["Name"])
		}
		if out.NextToken == nil {
			if pages != 1 {
				t.Errorf("%d pages, want 2", pages+1)
			}
			break
		}
		in.NextToken = out.NextToken
	}
	if strings.Join(all, ",") != strings.Join(names[:10], ",") {
		t.Errorf("entries beginning with pkg-0 = %v, want %v", all, names[:10])
	}
	out, err := f.svc.ListInventoryEntries(f.ctx, f.caller, &ListInventoryEntriesInput{InstanceId: mi1, TypeName: "Custom:Nothing"})
	if err != nil || len(out.Entries) != 0 || out.TypeName != "Custom:Nothing" || out.InstanceId != mi1 {
		t.Errorf("a type never reported = %+v, %v; want no entries", out, err)
	}
	for _, tt := range []struct {
		name string
		in   ListInventoryEntriesInput
		code string
	}{
		{"NoInstance", ListInventoryEntriesInput{TypeName: TypeApplication}, ErrValidation},
		{"Malformed", ListInventoryEntriesInput{InstanceId: "x", TypeName: TypeApplication}, ErrInvalidInstanceID},
		{"Unknown", ListInventoryEntriesInput{InstanceId: mi2, TypeName: TypeApplication}, ErrInvalidInstanceID},
		{"EC2", ListInventoryEntriesInput{InstanceId: "i-0123456789abcdef0", TypeName: TypeApplication}, ErrInvalidInstanceID},
		{"UnknownType", ListInventoryEntriesInput{InstanceId: mi1, TypeName: "AWS:Service"}, ErrInvalidTypeName},
		{"FilterKey", ListInventoryEntriesInput{InstanceId: mi1, TypeName: TypeApplication, Filters: []InventoryFilter{{Key: "Colour", Values: []string{"x"}}}}, ErrInvalidFilter},
		{"FilterType", ListInventoryEntriesInput{InstanceId: mi1, TypeName: TypeApplication, Filters: []InventoryFilter{{Key: "Name", Values: []string{"x"}, Type: ptr("Like")}}}, ErrValidation},
		{"MaxResults", ListInventoryEntriesInput{InstanceId: mi1, TypeName: TypeApplication, MaxResults: ptr[int32](51)}, ErrValidation},
		{"NextToken", ListInventoryEntriesInput{InstanceId: mi1, TypeName: TypeApplication, NextToken: ptr("nope")}, ErrInvalidNextToken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.ListInventoryEntries(f.ctx, f.caller, &tt.in)
			wantCode(t, "ListInventoryEntries", err, tt.code)
		})
	}
	_, err = f.svc.ListInventoryEntries(f.ctx, f.other, &ListInventoryEntriesInput{InstanceId: mi1, TypeName: TypeApplication})
	wantCode(t, "ListInventoryEntries(another account's instance)", err, ErrInvalidInstanceID)
}

func TestDescribeInstanceInformation_PingStatus(t *testing.T) {
	f := newFixture(t)
	f.mustPut(mi1, info(mi1, "Linux"), agent(60)) // a heartbeat every minute
	f.mustPut(mi2, info(mi2, "Windows"))          // the default heartbeat, 5 minutes
	ping := func() map[string]string {
		out := map[string]string{}
		for _, i := range f.describe(&DescribeInstanceInformationInput{}) {
			out[i.InstanceId] = i.PingStatus
		}
		return out
	}
	f.clock.advance(3 * time.Minute)
	if got := ping(); got[mi1] != PingOnline || got[mi2] != PingOnline {
		t.Fatalf("after 3 minutes: %v, want both Online", got)
	}
	f.clock.advance(time.Second)
	if got := ping(); got[mi1] != PingConnectionLost || got[mi2] != PingOnline {
		t.Fatalf("after 3 missed heartbeats of mi1: %v, want it ConnectionLost", got)
	}
	f.clock.advance(12 * time.Minute)
	if got := ping(); got[mi2] != PingConnectionLost {
		t.Fatalf("after 15 minutes: %v, want mi2 ConnectionLost", got)
	}
	lost := f.describe(&DescribeInstanceInformationInput{Filters: []InstanceInformationStringFilter{{Key: "PingStatus", Values: []string{PingConnectionLost}}}})
	windows := f.describe(&DescribeInstanceInformationInput{InstanceInformationFilterList: []InstanceInformationFilter{{Key: "PlatformTypes", ValueSet: []string{PlatformWindows}}}})
	if len(lost) != 2 || len(windows) != 1 || windows[0].InstanceId != mi2 {
		t.Fatalf("ConnectionLost: %+v; Windows: %+v", lost, windows)
	}
	f.mustPut(mi1, heartbeat(TypeInstanceInformation, "1.0", "info-1"))
	if got := ping(); got[mi1] != PingOnline {
		t.Fatalf("after a heartbeat: %v, want mi1 Online", got)
	}

	// Silent for the stale period: inactive (what the sweeper does), then back on reporting.
	err := f.db.Update(f.ctx, func(tx *store.Tx) error {
		r, err := tx.LockResource(f.ctx, InstanceARN(f.ctx, f.caller, mi2))
		if err != nil {
			return err
		}
		r.State = store.ManagedInactive
		return tx.UpdateManagedInstance(f.ctx, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := ping(); got[mi2] != PingInactive {
		t.Fatalf("inactive instance: %v, want Inactive", got)
	}
	f.mustPut(mi2, info(mi2, "Windows"))
	if got := ping(); got[mi2] != PingOnline || f.resource(mi2).State != store.ManagedActive {
		t.Fatalf("an inactive instance that reports again: %v, state %s; want Online and active", got, f.resource(mi2).State)
	}
}

func TestDescribeInstanceInformation_PagesAndErrors(t *testing.T) {
	f := newFixture(t)
	var ids []string
	for i := range 12 {
		id := fmt.Sprintf("mi-%017x", i+1)
		ids = append(ids, id)
		f.mustPut(id, info(id, "Linux"))
	}
	f.mustPut("mi-fffffffffffffffff", info("mi-fffffffffffffffff", "MacOS")) // filtered out, last
	var got []string
	in := &DescribeInstanceInformationInput{MaxResults: ptr[int32](5), Filters: []InstanceInformationStringFilter{{Key: "PlatformTypes", Values: []string{"Linux"}}}}
	pages := 0
	for {
		out, err := f.svc.DescribeInstanceInformation(f.ctx, f.caller, in)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, i := range out.InstanceInformationList {
			got = append(got, i.InstanceId)
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if strings.Join(got, ",") != strings.Join(ids, ",") || pages != 3 {
		t.Fatalf("%d pages of %v, want 3 pages of %v", pages, got, ids)
	}
	if list := f.describe(&DescribeInstanceInformationInput{Filters: []InstanceInformationStringFilter{{Key: "InstanceIds", Values: []string{ids[3]}}}}); len(list) != 1 || list[0].InstanceId != ids[3] {
		t.Errorf("InstanceIds filter = %+v", list)
	}
	if list := f.describe(&DescribeInstanceInformationInput{Filters: []InstanceInformationStringFilter{{Key: "tag:team", Values: []string{"db"}}}}); len(list) != 0 {
		t.Errorf("a tag filter = %+v, want nothing (managed instances have no tags here)", list)
	}
	for _, tt := range []struct {
		name string
		in   DescribeInstanceInformationInput
		code string
	}{
		{"Both", DescribeInstanceInformationInput{Filters: []InstanceInformationStringFilter{{Key: "PingStatus", Values: []string{"Online"}}},
			InstanceInformationFilterList: []InstanceInformationFilter{{Key: "PingStatus", ValueSet: []string{"Online"}}}}, ErrValidation},
		{"Key", DescribeInstanceInformationInput{Filters: []InstanceInformationStringFilter{{Key: "Colour", Values: []string{"x"}}}}, ErrInvalidFilterKey},
		{"LegacyTagKey", DescribeInstanceInformationInput{InstanceInformationFilterList: []InstanceInformationFilter{{Key: "tag-key", ValueSet: []string{"x"}}}}, ErrInvalidFilterKey},
		{"PingValue", DescribeInstanceInformationInput{Filters: []InstanceInformationStringFilter{{Key: "PingStatus", Values: []string{"Up"}}}}, ErrInvalidFilterValue},
		{"NoValues", DescribeInstanceInformationInput{Filters: []InstanceInformationStringFilter{{Key: "PingStatus"}}}, ErrValidation},
		{"MaxResults", DescribeInstanceInformationInput{MaxResults: ptr[int32](4)}, ErrValidation},
		{"NextToken", DescribeInstanceInformationInput{NextToken: ptr("AT1garbage")}, ErrInvalidNextToken},
		{"OthersInstance", DescribeInstanceInformationInput{Filters: []InstanceInformationStringFilter{{Key: "InstanceIds", Values: []string{"mi-00000000000000abc"}}}}, ErrInvalidInstanceID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.DescribeInstanceInformation(f.ctx, f.caller, &tt.in)
			wantCode(t, "DescribeInstanceInformation", err, tt.code)
		})
	}
	// Another account sees none of them.
	out, err := f.svc.DescribeInstanceInformation(f.ctx, f.other, &DescribeInstanceInformationInput{})
	if err != nil || len(out.InstanceInformationList) != 0 {
		t.Fatalf("another account's DescribeInstanceInformation = %+v, %v", out, err)
	}
}

func TestCrossAccountAndRegion(t *testing.T) {
	f := newFixture(t)
	f.mustPut(mi1, info(mi1, "Linux"))
	wantCode(t, "PutInventory(another account)", f.put(f.other, mi1, info(mi1, "Linux")), ErrInvalidInstanceID)
	west := authz.WithOrigin(context.Background(), authz.Origin{Region: "eu-west-1"})
	_, err := f.svc.PutInventory(west, f.caller, &PutInventoryInput{InstanceId: mi1, Items: []InventoryItem{info(mi1, "Linux")}})
	wantCode(t, "PutInventory(another region)", err, ErrInvalidInstanceID)
	_, err = f.svc.DeregisterManagedInstance(f.ctx, f.other, &DeregisterManagedInstanceInput{InstanceId: mi1})
	wantCode(t, "DeregisterManagedInstance(another account)", err, ErrInvalidInstanceID)
	if r := f.resource(mi1); r.State != store.ManagedActive || r.AccountID != f.caller.AccountID {
		t.Fatalf("after refused calls from elsewhere: %+v", r)
	}
}

// configuration creates a configuration counting cores that automated discovery associates
// with machines that have the application installed.
func (f *fixture) configuration(application string, count int64, hard bool) string {
	f.t.Helper()
	out, err := f.lc.CreateLicenseConfiguration(f.ctx, f.caller, &licenseconfig.CreateLicenseConfigurationInput{Name: application,
		LicenseCountingType: "Core", LicenseCount: &count, LicenseCountHardLimit: &hard,
		ProductInformationList: []licenseconfig.ProductInformation{{ResourceType: ptr("SSM_MANAGED"),
			ProductInformationFilterList: []licenseconfig.ProductInformationFilter{{ProductInformationFilterName: ptr("Application Name"),
				ProductInformationFilterValue: []string{application}, ProductInformationFilterComparator: ptr("EQUALS")}}}}})
	if err != nil {
		f.t.Fatalf("CreateLicenseConfiguration: %v", err)
	}
	return out.LicenseConfigurationArn
}

// usage returns a configuration's consumed units and the sum of what its associations hold.
func (f *fixture) usage(arn string) (consumed, sum int64, resources int) {
	f.t.Helper()
	type result struct {
		consumed, sum int64
		n             int
	}
	r, err := store.Read(f.ctx, f.db, func(tx *store.Tx) (*result, error) {
		c, err := tx.LicenseConfiguration(f.ctx, arn)
		if err != nil {
			return nil, err
		}
		us, err := tx.LicenseUsages(f.ctx, store.LicenseUsageQuery{ConfigARN: arn, Limit: 1000})
		if err != nil {
			return nil, err
		}
		out := &result{consumed: c.Consumed}
		for _, u := range us {
			out.sum += u.Consumed
			if u.Consumed > 0 {
				out.n++
			}
		}
		return out, nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return r.consumed, r.sum, r.n
}

func TestDeregisterManagedInstance(t *testing.T) {
	f := newFixture(t)
	arn := f.configuration("oracle-db", 100, true)
	f.mustPut(mi1, info(mi1, "Linux"), cpu(2, 16), apps("a", "oracle-db"))
	f.mustPut(mi2, info(mi2, "Linux"), cpu(1, 8), apps("a", "oracle-db"))
	if consumed, sum, n := f.usage(arn); consumed != 24 || sum != 24 || n != 2 {
		t.Fatalf("after discovery: consumed %d, held %d by %d instances; want 24 by 2", consumed, sum, n)
	}

	if _, err := f.svc.DeregisterManagedInstance(f.ctx, f.caller, &DeregisterManagedInstanceInput{InstanceId: mi1}); err != nil {
		t.Fatal(err)
	}
	if consumed, sum, n := f.usage(arn); consumed != 8 || sum != 8 || n != 1 {
		t.Fatalf("after deregistering the 16-core machine: consumed %d, held %d by %d; want 8 by 1", consumed, sum, n)
	}
	if r := f.resource(mi1); r.State != store.ManagedDeregistered {
		t.Fatalf("state %s, want deregistered", r.State)
	}
	if list := f.describe(&DescribeInstanceInformationInput{}); len(list) != 1 || list[0].InstanceId != mi2 {
		t.Fatalf("DescribeInstanceInformation after deregistering = %+v, want mi2 alone", list)
	}
	wantCode(t, "PutInventory(deregistered)", f.put(f.caller, mi1, info(mi1, "Linux")), ErrInvalidInstanceID)
	_, err := f.svc.DeregisterManagedInstance(f.ctx, f.caller, &DeregisterManagedInstanceInput{InstanceId: mi1})
	wantCode(t, "DeregisterManagedInstance(again)", err, ErrInvalidInstanceID)
	_, err = f.svc.ListInventoryEntries(f.ctx, f.caller, &ListInventoryEntriesInput{InstanceId: mi1, TypeName: TypeApplication})
	wantCode(t, "ListInventoryEntries(deregistered)", err, ErrInvalidInstanceID)
	_, err = f.svc.DeregisterManagedInstance(f.ctx, f.caller, &DeregisterManagedInstanceInput{InstanceId: "i-0123456789abcdef0"})
	wantCode(t, "DeregisterManagedInstance(EC2 instance)", err, ErrInvalidInstanceID)
	_, err = f.svc.DeregisterManagedInstance(f.ctx, f.caller, &DeregisterManagedInstanceInput{})
	wantCode(t, "DeregisterManagedInstance(no ID)", err, ErrValidation)
	apps, err := store.Read(f.ctx, f.db, func(tx *store.Tx) (*[]store.Application, error) {
		a, err := tx.Applications(f.ctx, InstanceARN(f.ctx, f.caller, mi1))
		return &a, err
	})
	if err != nil || len(*apps) != 0 {
		t.Errorf("applications of a deregistered instance = %+v, %v; want none", apps, err)
	}
	items, err := store.Read(f.ctx, f.db, func(tx *store.Tx) (*[]*store.InventoryItem, error) {
		it, err := tx.InventoryItems(f.ctx, InstanceARN(f.ctx, f.caller, mi1), "")
		return &it, err
	})
	if err != nil || len(*items) != 0 {
		t.Errorf("inventory items of a deregistered instance = %d, %v; want none", len(*items), err)
	}
	if items, _ := store.Read(f.ctx, f.db, func(tx *store.Tx) (*[]*store.InventoryItem, error) {
		it, err := tx.InventoryItems(f.ctx, InstanceARN(f.ctx, f.caller, mi2), "")
		return &it, err
	}); len(*items) != 3 {
		t.Errorf("the other instance has %d inventory items, want its 3", len(*items))
	}
}

// TestConcurrentReports sends first reports of one new ID, reports of many machines against
// a hard limit, heartbeats and deregistrations at once: one instance per ID, the hard limit
// never exceeded, and the configuration's counter always the sum of its associations.
func TestConcurrentReports(t *testing.T) {
	f := newFixture(t)
	const machines, limit = 30, 40 // 4 cores each: 10 fit
	arn := f.configuration("oracle-db", limit, true)
	ids := make([]string, machines)
	for i := range ids {
		ids[i] = fmt.Sprintf("mi-%017x", 0x100+i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4*machines)
	for i := range machines {
		wg.Go(func() { errs <- f.put(f.caller, mi1, info(mi1, "Linux")) }) // the same new ID, many times
		wg.Go(func() { errs <- f.put(f.caller, ids[i], info(ids[i], "Linux"), cpu(1, 4), apps("a", "oracle-db")) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a concurrent report failed: %v", err)
		}
	}
	if n := len(f.describe(&DescribeInstanceInformationInput{Filters: []InstanceInformationStringFilter{{Key: "InstanceIds", Values: []string{mi1}}}})); n != 1 {
		t.Fatalf("%d instances %s after concurrent first reports, want 1", n, mi1)
	}
	consumed, sum, n := f.usage(arn)
	if consumed != limit || sum != limit || n != limit/4 {
		t.Fatalf("after %d machines reported: consumed %d, held %d by %d; want %d by %d", machines, consumed, sum, n, limit, limit/4)
	}

	// Heartbeats, new reports and deregistrations at once.
	var deregistered sync.Map
	for i, id := range ids {
		wg.Go(func() {
			_ = f.put(f.caller, id, heartbeat(TypeInstanceInformation, "1.0", "info-1"), heartbeat(TypeApplication, "1.1", "a"))
		})
		if i%3 == 0 {
			wg.Go(func() {
				if _, err := f.svc.DeregisterManagedInstance(f.ctx, f.caller, &DeregisterManagedInstanceInput{InstanceId: id}); err == nil {
					deregistered.Store(id, true)
				}
			})
		}
	}
	wg.Wait()
	consumed, sum, _ = f.usage(arn)
	if consumed != sum || consumed > limit {
		t.Fatalf("after concurrent heartbeats and deregistrations: consumed %d, held %d; want equal and at most %d", consumed, sum, limit)
	}
	count := 0
	deregistered.Range(func(_, _ any) bool { count++; return true })
	if count != (machines+2)/3 {
		t.Fatalf("%d deregistrations succeeded, want %d", count, (machines+2)/3)
	}
}
