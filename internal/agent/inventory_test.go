package agent

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestInstanceID(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "allot-agent")
	if id, err := ReadInstanceID(dir); id != "" || err != nil {
		t.Fatalf("ReadInstanceID before any = %q, %v; want none", id, err)
	}

	// Concurrent first runs agree on one ID, created once.
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			id, err := InstanceID(dir)
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	if !regexp.MustCompile(`^mi-[0-9a-f]{17}$`).MatchString(ids[0]) {
		t.Fatalf("instance ID %q, want mi- and 17 hex digits", ids[0])
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent first runs got %q: want one ID", ids)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != InstanceIDFile {
		t.Errorf("state directory holds %v, want only %s (no temporary files left)", entries, InstanceIDFile)
	}

	// Stable: later runs read it back.
	if id, err := InstanceID(dir); id != ids[0] || err != nil {
		t.Errorf("InstanceID again = %q, %v; want %q", id, err, ids[0])
	}

	// A file that does not hold an ID is refused, not replaced.
	if err := os.WriteFile(filepath.Join(dir, InstanceIDFile), []byte("i-0123456789abcdef0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := InstanceID(dir); err == nil || !strings.Contains(err.Error(), "not a managed-instance ID") {
		t.Errorf("InstanceID over a bad file: %v, want it refused", err)
	}
}

func TestDefaultStateDir(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, tc := range []struct {
		euid int
		env  map[string]string
		want string
	}{
		{0, map[string]string{"XDG_STATE_HOME": "/x", "HOME": "/root"}, "/var/lib/allot-agent"},
		{1000, map[string]string{"XDG_STATE_HOME": "/home/u/.state", "HOME": "/home/u"}, "/home/u/.state/allot-agent"},
		{1000, map[string]string{"XDG_STATE_HOME": "relative", "HOME": "/home/u"}, "/home/u/.local/state/allot-agent"},
		{1000, map[string]string{"HOME": "/home/u"}, "/home/u/.local/state/allot-agent"},
	} {
		got, err := DefaultStateDir(tc.euid, env(tc.env))
		if err != nil || got != tc.want {
			t.Errorf("DefaultStateDir(%d, %v) = %q, %v; want %q", tc.euid, tc.env, got, err, tc.want)
		}
	}
}

func TestItems(t *testing.T) {
	c := &Collector{Root: "testdata/two-socket"}
	f, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f.IPAddress = "10.0.0.5" // the fixture's facts, whatever this machine's address
	t1 := time.Date(2026, 12, 6, 19, 47, 16, 123, time.FixedZone("CET", 3600))
	items, dropped := Items(f, "mi-0123456789abcdef0", "1.2.3", 5*time.Minute, t1)
	if dropped != nil {
		t.Errorf("attributes %q left out of five applications", dropped)
	}

	want := map[string]struct {
		schema  string
		entries int
	}{TypeInstanceInformation: {"1.0", 1}, TypeInstanceDetailedInformation: {"1.0", 1}, TypeApplication: {"1.1", 5}, TypeAgent: {"1.0", 1}}
	if len(items) != len(want) {
		t.Fatalf("%d items, want %d", len(items), len(want))
	}
	for _, it := range items {
		w, ok := want[it.TypeName]
		if !ok || it.SchemaVersion != w.schema || len(it.Content) != w.entries {
			t.Errorf("item %s: schema %s, %d entries; want %+v", it.TypeName, it.SchemaVersion, len(it.Content), w)
		}
		if it.CaptureTime != "2026-12-06T18:47:16Z" {
			t.Errorf("%s CaptureTime %q, want 2026-12-06T18:47:16Z (UTC, seconds)", it.TypeName, it.CaptureTime)
		}
		if it.ContentHash != ContentHash(it.Content) || len(it.ContentHash) != 64 {
			t.Errorf("%s ContentHash %q, want the SHA-256 of its content", it.TypeName, it.ContentHash)
		}
		for _, e := range it.Content {
			if len(e) > 50 {
				t.Errorf("%s entry with %d attributes; SSM allows 50", it.TypeName, len(e))
			}
		}
	}
	info, detail, apps, agent := items[0].Content[0], items[1].Content[0], items[2].Content, items[3].Content[0]
	if agent["HeartbeatSeconds"] != "300" || agent["Architecture"] != Architecture() || len(agent) != 2 {
		t.Errorf("Custom:AllotAgent = %v, want HeartbeatSeconds 300 and Architecture %s", agent, Architecture())
	}
	for k, v := range map[string]string{"AgentType": "allot-agent", "AgentVersion": "1.2.3", "ComputerName": "db-01.example.internal",
		"InstanceId": "mi-0123456789abcdef0", "InstanceStatus": "Active", "IpAddress": "10.0.0.5", "PlatformName": "Ubuntu",
		"PlatformType": "Linux", "PlatformVersion": "22.04", "ResourceType": "ManagedInstance"} {
		if info[k] != v {
			t.Errorf("AWS:InstanceInformation %s = %q, want %q", k, info[k], v)
		}
	}
	for k, v := range map[string]string{"CPUModel": "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz", "CPUs": "16", "CPUCores": "8",
		"CPUSockets": "2", "CPUSpeedMHz": "2100", "CPUHyperThreadEnabled": "true", "OSServicePack": ""} {
		if got, ok := detail[k]; !ok || got != v {
			t.Errorf("AWS:InstanceDetailedInformation %s = %q, want %q", k, got, v)
		}
	}
	pg := apps[slices.IndexFunc(apps, func(e map[string]string) bool { return e["Name"] == "postgresql-15" })]
	for k, v := range map[string]string{"Name": "postgresql-15", "Version": "15.6-0+deb12u1", "Architecture": "x86_64",
		"Publisher": "Debian PostgreSQL Maintainers <team+postgresql@tracker.debian.org>", "ApplicationType": "database",
		"URL": "http://www.postgresql.org/", "PackageId": "postgresql-15_15.6-0+deb12u1_amd64.deb"} {
		if pg[k] != v {
			t.Errorf("AWS:Application postgresql-15 %s = %q, want %q", k, pg[k], v)
		}
	}
	if _, ok := pg["Epoch"]; ok {
		t.Errorf("empty optional attributes are left out: %v", pg)
	}

	// Stable across runs: collected again, later, the hashes are the same.
	f2, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f2.IPAddress = "10.0.0.5"
	items2, _ := Items(f2, "mi-0123456789abcdef0", "1.2.3", 5*time.Minute, t1.Add(time.Hour))
	for i := range items {
		if items2[i].ContentHash != items[i].ContentHash {
			t.Errorf("%s hash changed between runs with the same facts", items[i].TypeName)
		}
	}
	// A package more changes the applications' hash only.
	f2.Applications = append(f2.Applications, Application{Name: "zsh", Version: "5.9-4", Architecture: "x86_64"})
	items3, _ := Items(f2, "mi-0123456789abcdef0", "1.2.3", 5*time.Minute, t1)
	if items3[2].ContentHash == items[2].ContentHash || items3[0].ContentHash != items[0].ContentHash || items3[1].ContentHash != items[1].ContentHash {
		t.Errorf("a new package: hashes %s/%s/%s → %s/%s/%s; want only AWS:Application's changed",
			items[0].ContentHash[:8], items[1].ContentHash[:8], items[2].ContentHash[:8], items3[0].ContentHash[:8], items3[1].ContentHash[:8], items3[2].ContentHash[:8])
	}
}

func TestItems_LongValuesCut(t *testing.T) {
	long := strings.Repeat("é", 3000) // 6000 bytes
	f := &Facts{Applications: []Application{{Name: "x", Summary: long}}}
	items, _ := Items(f, "mi-0123456789abcdef0", "1", 0, time.Now())
	got := items[2].Content[0]["Summary"]
	if len(got) > maxValueLen || !strings.HasPrefix(long, got) || len(got) < maxValueLen-1 {
		t.Errorf("summary cut to %d bytes; want at most %d, on a character boundary", len(got), maxValueLen)
	}
}

func TestItems_NoApplications(t *testing.T) {
	// A machine without a package database reports an empty list, not a missing one.
	items, _ := Items(&Facts{}, "mi-0123456789abcdef0", "1", 0, time.Now())
	if items[2].Content == nil || len(items[2].Content) != 0 {
		t.Errorf("AWS:Application content %#v, want an empty, non-nil list", items[2].Content)
	}
	// Reported once, not periodically: no heartbeat interval.
	if _, ok := items[3].Content[0]["HeartbeatSeconds"]; ok {
		t.Errorf("Custom:AllotAgent %v: a one-off report has no heartbeat interval", items[3].Content[0])
	}
}

func TestItems_HeartbeatBounds(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Second: "10", 90 * time.Second: "90", 30 * time.Minute: "1800", 48 * time.Hour: "86400"} {
		items, _ := Items(&Facts{}, "mi-0123456789abcdef0", "1", d, time.Now())
		if got := items[3].Content[0]["HeartbeatSeconds"]; got != want {
			t.Errorf("heartbeat %s reported as %q, want %q (10 s to a day)", d, got, want)
		}
	}
}

func TestItems_ManyApplicationsFit(t *testing.T) {
	// A machine with thousands of packages: the list is sent without its optional attributes,
	// the longest first, as far as it takes to fit; what discovery reads stays.
	const packages = 3000
	f := &Facts{}
	for i := range packages {
		f.Applications = append(f.Applications, Application{Name: "package-" + strconv.Itoa(i), Version: "1.2.3-4", Publisher: "Maintainers <team@example.org>",
			Architecture: "x86_64", Release: "1", Summary: strings.Repeat("a description ", 5), URL: "https://example.org/projects/package",
			PackageID: "package_1.2.3-4_amd64.deb", ApplicationType: "libs", InstalledTime: "2026-01-02T03:04:05Z"})
	}
	items, dropped := Items(f, "mi-0123456789abcdef0", "1", 0, time.Now())
	b, _ := json.Marshal(items[2].Content)
	if len(b) > MaxApplicationBytes {
		t.Errorf("applications are %d bytes, more than %d", len(b), MaxApplicationBytes)
	}
	if len(dropped) == 0 || dropped[0] != "Summary" {
		t.Errorf("left out %q, want Summary first", dropped)
	}
	for _, k := range []string{"Name", "Version", "Publisher", "Architecture", "Release"} {
		if items[2].Content[0][k] == "" {
			t.Errorf("%s left out: discovery reads it", k)
		}
	}
	if len(items[2].Content) != packages {
		t.Errorf("%d applications sent, want all %d", len(items[2].Content), packages)
	}
}
