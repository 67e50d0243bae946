package ssm

import (
	"testing"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awsproto"
	"github.com/allot-dev/allot/internal/store"
)

// clientError fails unless err is an *awserr.Error whose code answers with a 4xx status.
func clientError(t *testing.T, body []byte, err error) {
	t.Helper()
	e, ok := awserr.As(err)
	if !ok || e.Message == "" || e.Code == ErrInternalServer || awsproto.Status(e.Code) < 400 || awsproto.Status(e.Code) > 499 {
		t.Fatalf("body %q: %#v, want a client error with a message", body, err)
	}
}

// FuzzPutInventory decodes PutInventory bodies as the server does and checks them as
// PutInventory does before it writes: every refusal is a client error, and what is accepted
// keeps the promises the write relies on (one entry for single-entry types, attributes of
// the type's schema, sizes within the limits).
func FuzzPutInventory(f *testing.F) {
	for _, seed := range []string{
		`{}`, `[]`, `{"InstanceId":"mi-0123456789abcdef0"}`,
		`{"InstanceId":"mi-0123456789abcdef0","Items":[{"TypeName":"Custom:X","SchemaVersion":"1.0","CaptureTime":"2026-01-02T03:04:05Z","Content":[{"a":"b"}]}]}`,
		`{"InstanceId":"mi-0123456789abcdef0","Items":[{"TypeName":"AWS:InstanceDetailedInformation","SchemaVersion":"1.0","CaptureTime":"2026-01-02T03:04:05Z","Content":[{"CPUs":"8","CPUCores":"4","CPUSockets":"1","CPUHyperThreadEnabled":"true","CPUSpeedMHz":"2.5e3"}]}]}`,
		`{"InstanceId":"mi-0123456789abcdef0","Items":[{"TypeName":"AWS:InstanceInformation","SchemaVersion":"1.0","CaptureTime":"2026-01-02T03:04:05Z","Content":[{"PlatformType":"Linux","InstanceId":"mi-0123456789abcdef0"}]}]}`,
		`{"InstanceId":"mi-0123456789abcdef0","Items":[{"TypeName":"AWS:Application","SchemaVersion":"1.1","CaptureTime":"2026-01-02T03:04:05Z","Content":[{"Name":"nginx","Version":"1.2"}]}]}`,
		`{"InstanceId":"mi-0123456789abcdef0","Items":[{"TypeName":"Custom:AllotAgent","SchemaVersion":"1.0","CaptureTime":"2026-01-02T03:04:05Z","Content":[{"HeartbeatSeconds":"60"}]}]}`,
		`{"InstanceId":"mi-0123456789abcdef0","Items":[{"TypeName":"AWS:Application","SchemaVersion":"1.1","CaptureTime":"2026-01-02T03:04:05Z","ContentHash":"abc"}]}`,
		`{"InstanceId":"i-0123456789abcdef0","Items":[{"TypeName":"Custom:X","Context":{"a":"b"}}]}`,
		`{"InstanceId":"mi-0123456789abcdef0","Items":[{"TypeName":"AWS:InstanceDetailedInformation","SchemaVersion":"1.0","CaptureTime":"2026-01-02T03:04:05Z","Content":[{"CPUs":"-1"},{}]}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in PutInventoryInput
		if err := awsproto.DecodeJSON(body, &in); err != nil {
			clientError(t, body, err)
			return
		}
		if err := checkInstanceID(in.InstanceId); err != nil {
			clientError(t, body, err)
		}
		items, err := checkItems(in.InstanceId, in.Items)
		if err != nil {
			clientError(t, body, err)
			return
		}
		total := 0
		for _, it := range items {
			total += len(it.content)
			if it.schema == nil || it.hashOnly() {
				continue
			}
			if it.schema.single && len(it.Content) != 1 {
				t.Fatalf("body %q: %s accepted with %d entries, want 1", body, it.TypeName, len(it.Content))
			}
			for _, e := range it.Content {
				if it.schema.single {
					r := &store.Resource{ThreadsPerCore: 1} // as register makes it
					applyFacts(r, it.TypeName, e)
					if r.VCPUs < 0 || r.Cores < 0 || r.Sockets < 0 || r.ThreadsPerCore < 1 {
						t.Fatalf("body %q: facts %+v from an accepted %s", body, r, it.TypeName)
					}
				}
			}
			if it.TypeName == TypeAgent {
				if n := heartbeatSeconds(it.Content); n < minHeartbeatSeconds || n > maxHeartbeatSeconds {
					t.Fatalf("body %q: heartbeat %d s accepted", body, n)
				}
			}
		}
		if total > MaxTotalSize {
			t.Fatalf("body %q: %d bytes of content accepted, more than %d", body, total, MaxTotalSize)
		}
	})
}

// FuzzListInventoryEntries decodes ListInventoryEntries bodies and runs their filters over a
// few entries: refusals are client errors and matching never panics.
func FuzzListInventoryEntries(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"InstanceId":"mi-0123456789abcdef0","TypeName":"AWS:Application"}`,
		`{"TypeName":"AWS:Application","Filters":[{"Key":"AWS:Application.Name","Values":["ng"],"Type":"BeginWith"}]}`,
		`{"TypeName":"Custom:X","Filters":[{"Key":"size","Values":["10","1e3"],"Type":"GreaterThan"}]}`,
		`{"TypeName":"Custom:X","Filters":[{"Key":"size","Values":["NaN"],"Type":"LessThan"},{"Key":"a","Values":["x"],"Type":"Exists"}]}`,
		`{"TypeName":"AWS:Application","Filters":[{"Key":"Colour","Values":["x"]}]}`,
	} {
		f.Add([]byte(seed))
	}
	entries := []map[string]string{{}, {"Name": "nginx", "Version": "1.2"}, {"size": "10"}, {"size": "NaN", "a": ""}, {"size": "-Inf"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in ListInventoryEntriesInput
		if err := awsproto.DecodeJSON(body, &in); err != nil {
			clientError(t, body, err)
			return
		}
		sc, err := checkTypeName("TypeName", in.TypeName)
		if err != nil {
			clientError(t, body, err)
			return
		}
		filters, err := checkEntryFilters(in.TypeName, sc, in.Filters)
		if err != nil {
			clientError(t, body, err)
			return
		}
		for _, e := range entries {
			matchAll(filters, e)
		}
	})
}
