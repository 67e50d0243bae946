package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/store"
)

// EventOpts vary the events NewEvent makes; zero fields take defaults.
type EventOpts struct {
	Name         string    // default "CreateLicense"
	Source       string    // default "license-manager.amazonaws.com"
	Time         time.Time // default now
	User         string    // IAM user name; default "alice"
	KeyID        string    // default "AKIAIOSFODNN7EXAMPLE"
	ReadOnly     bool
	Resource     string // ARN of a resource the event touched; none when empty
	ResourceType string // default "AWS::LicenseManager::License" when Resource is set
}

// NewEvent returns a CloudTrail event of an IAM user's call in account, with a fresh event ID.
func NewEvent(account string, o EventOpts) audit.Event {
	if o.Name == "" {
		o.Name = "CreateLicense"
	}
	if o.Source == "" {
		o.Source = "license-manager.amazonaws.com"
	}
	if o.Time.IsZero() {
		o.Time = time.Now()
	}
	if o.User == "" {
		o.User = "alice"
	}
	if o.KeyID == "" {
		o.KeyID = "AKIAIOSFODNN7EXAMPLE"
	}
	ev := audit.Event{
		EventVersion: audit.EventVersion,
		UserIdentity: audit.UserIdentity{
			Type:        "IAMUser",
			PrincipalID: "AIDAEXAMPLE",
			ARN:         "arn:aws:iam::" + account + ":user/" + o.User,
			AccountID:   account,
			AccessKeyID: o.KeyID,
			UserName:    o.User,
		},
		EventTime:          audit.FormatTime(o.Time),
		EventSource:        o.Source,
		EventName:          o.Name,
		AWSRegion:          "us-east-1",
		SourceIPAddress:    "127.0.0.1",
		UserAgent:          "storetest",
		RequestParameters:  json.RawMessage("null"),
		ResponseElements:   json.RawMessage("null"),
		RequestID:          uuid.NewString(),
		EventID:            uuid.NewString(),
		ReadOnly:           o.ReadOnly,
		EventType:          "AwsApiCall",
		ManagementEvent:    true,
		RecipientAccountID: account,
		EventCategory:      "Management",
	}
	if o.Resource != "" {
		if o.ResourceType == "" {
			o.ResourceType = "AWS::LicenseManager::License"
		}
		ev.Resources = []audit.Resource{{ARN: o.Resource, AccountID: account, Type: o.ResourceType}}
	}
	return ev
}

// VerifyChains checks every audit chain of db with audit.ChainVerifier and by recomputing each
// link with audit.Link, and returns the number of records in all chains. Call it while no
// write is in progress: it compares each chain with its length read just before.
func VerifyChains(t testing.TB, db *store.DB) int64 {
	t.Helper()
	ctx := context.Background()
	chains, err := db.AuditChains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, c := range chains {
		if c.ID == "" || c.NodeID == "" || c.StartedAt.IsZero() || c.Writer < 0 {
			t.Errorf("chain %+v: missing fields", c)
		}
		v := audit.NewChainVerifier(c.ID)
		seq, prev := int64(0), audit.GenesisHash
		err := db.ScanAuditChain(ctx, c.ID, func(r *audit.Record) error {
			v.Add(r)
			if r.ChainID != c.ID || r.Seq != seq+1 || r.PrevHash != prev || r.Hash != audit.Link(c.ID, r.Seq, prev, r.Body) {
				return fmt.Errorf("record %d of chain %s does not link (seq %d after %d)", r.Seq, c.ID, r.Seq, seq)
			}
			seq, prev = r.Seq, r.Hash
			return nil
		})
		if err != nil {
			t.Fatalf("chain %s: %v", c.ID, err)
		}
		rep := v.Report()
		if !rep.Intact {
			t.Fatalf("chain %s is broken at %d: %s", c.ID, rep.BrokenAt, rep.Problem)
		}
		if rep.Records != c.Length || seq != c.Length {
			t.Fatalf("chain %s: AuditChains says length %d, scan found %d records ending at %d", c.ID, c.Length, rep.Records, seq)
		}
		total += c.Length
	}
	return total
}

// lookupAll pages through LookupAudit with the given page size and returns every record.
func lookupAll(t testing.TB, db *store.DB, q audit.Query, pageSize int) []*audit.Record {
	t.Helper()
	var all []*audit.Record
	q.Limit, q.After = pageSize, nil
	for pages := 0; ; pages++ {
		recs, next, err := db.LookupAudit(context.Background(), q)
		if err != nil {
			t.Fatalf("LookupAudit(%+v): %v", q, err)
		}
		if len(recs) > pageSize {
			t.Fatalf("LookupAudit returned %d records for limit %d", len(recs), pageSize)
		}
		all = append(all, recs...)
		if next == nil {
			return all
		}
		if len(recs) != pageSize {
			t.Fatalf("LookupAudit returned a short page (%d of %d) and a next cursor", len(recs), pageSize)
		}
		if pages > 100000 {
			t.Fatal("LookupAudit paging does not end")
		}
		q.After = next
	}
}

func countLookup(t testing.TB, db *store.DB, q audit.Query) int {
	t.Helper()
	return len(lookupAll(t, db, q, 500))
}

func testAuditWithChange(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct := newAccountID()
	ev := NewEvent(acct, EventOpts{Name: "CreateAccount", Resource: "arn:aws:organizations::" + acct + ":account/x"})
	p := audit.NewPending(ev)
	update(t, db, func(tx *store.Tx) error {
		p.SetResponse(map[string]string{"AccountId": acct})
		return tx.CreateAccount(ctx, &store.Account{ID: acct, Name: "a", Status: "ACTIVE", CreatedAt: tx.Now()})
	}, p)
	if !p.Recorded() {
		t.Fatal("pending event not marked recorded after a successful Update")
	}
	recs := lookupAll(t, db, audit.Query{AccountID: acct}, 10)
	if len(recs) != 1 {
		t.Fatalf("LookupAudit found %d records, want 1", len(recs))
	}
	want, err := audit.NewRecord(ptr(p.Event()))
	if err != nil {
		t.Fatal(err)
	}
	got := recs[0]
	if !bytes.Equal(got.Body, want.Body) || !strings.Contains(string(got.Body), `"responseElements":{"accountId":"`+acct+`"}`) {
		t.Errorf("stored body = %s\nwant %s", got.Body, want.Body)
	}
	if got.EventID != ev.EventID || got.AccountID != acct || got.EventName != "CreateAccount" || got.Username != "alice" ||
		got.AccessKeyID != ev.UserIdentity.AccessKeyID || got.EventSource != ev.EventSource || got.ReadOnly ||
		!got.EventTime.Equal(want.EventTime) || !slices.Equal(got.Resources, ev.Resources) {
		t.Errorf("stored record = %+v, want fields of %+v", got, want)
	}
	if got.Hash != audit.Link(got.ChainID, got.Seq, got.PrevHash, got.Body) {
		t.Errorf("stored hash does not match the record")
	}

	t.Run("NotTwice", func(t *testing.T) {
		update(t, db, func(tx *store.Tx) error { return tx.PutSetting(ctx, "again", "1") }, p)
		if n := countLookup(t, db, audit.Query{AccountID: acct}); n != 1 {
			t.Fatalf("a recorded pending event was appended again: %d records", n)
		}
	})
	t.Run("NotWhenFnFails", func(t *testing.T) {
		acct := newAccountID()
		p := audit.NewPending(NewEvent(acct, EventOpts{}))
		err := db.Update(audit.WithPending(ctx, p), func(tx *store.Tx) error { return errBoom })
		if !errors.Is(err, errBoom) {
			t.Fatalf("Update error = %v, want fn's", err)
		}
		if p.Recorded() || countLookup(t, db, audit.Query{AccountID: acct}) != 0 {
			t.Fatal("the event of a failed Update was recorded")
		}
		// The request path then records the failure on its own, as the server does.
		p.SetError("ValidationException", "bad")
		update(t, db, func(*store.Tx) error { return nil }, p)
		recs := lookupAll(t, db, audit.Query{AccountID: acct}, 10)
		if len(recs) != 1 || !p.Recorded() || !strings.Contains(string(recs[0].Body), `"errorCode":"ValidationException"`) {
			t.Fatalf("record-only Update wrote %d records (recorded=%v)", len(recs), p.Recorded())
		}
	})
	t.Run("WithoutPending", func(t *testing.T) {
		before := VerifyChains(t, db)
		update(t, db, func(tx *store.Tx) error { return tx.PutSetting(ctx, "no-audit", "1") })
		if after := VerifyChains(t, db); after != before {
			t.Fatalf("an Update without a pending event appended %d records", after-before)
		}
	})
	t.Run("ErrDuplicateEventID", func(t *testing.T) {
		dup := audit.NewPending(ev) // same event ID as the first
		err := db.Update(audit.WithPending(ctx, dup), func(tx *store.Tx) error { return tx.PutSetting(ctx, "dup-event", "1") })
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("Update with a duplicate event ID = %v, want ErrConflict", err)
		}
		if dup.Recorded() || setting(t, db, "dup-event") != "" {
			t.Fatal("the change of an Update whose audit append failed was kept")
		}
		VerifyChains(t, db)
	})
}

func ptr[T any](v T) *T { return &v }

// written is an event written by testAuditLookup and where it is expected.
type written struct {
	ev     audit.Event
	offset int // seconds after base
}

// mixedEvents returns n events of an account spread over names, sources, users, keys,
// resources and seven distinct times from base, with the index of each one's time.
func mixedEvents(acct string, base time.Time, n int) []written {
	var evs []written
	for i := range n {
		o := EventOpts{
			Name:     []string{"CheckoutLicense", "CheckInLicense", "ExtendLicenseConsumption"}[i%3],
			Source:   []string{"license-manager.amazonaws.com", "sts.amazonaws.com"}[i%2],
			Time:     base.Add(time.Duration(i%7) * time.Second),
			User:     []string{"alice", "bob", "carol", "dave"}[i%4],
			KeyID:    []string{"AKIAAAAAAAAAAAAAAAAA", "AKIABBBBBBBBBBBBBBBB"}[i%2],
			ReadOnly: i%5 == 0,
		}
		if i%3 == 0 {
			o.Resource = fmt.Sprintf("arn:aws:license-manager::%s:license:l-%d", acct, i%4)
		}
		if i%6 == 0 {
			o.ResourceType = "AWS::LicenseManager::Grant"
		}
		evs = append(evs, written{NewEvent(acct, o), i % 7})
	}
	return evs
}

func testAuditLookup(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct, other := newAccountID(), newAccountID()
	base := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	evs := mixedEvents(acct, base, 60)
	// Write concurrently, so that on PostgreSQL the events spread over the writers' chains.
	var wg sync.WaitGroup
	record := func(ev audit.Event) {
		if err := db.Update(audit.WithPending(ctx, audit.NewPending(ev)), func(*store.Tx) error { return nil }); err != nil {
			t.Error(err)
		}
	}
	for _, w := range evs {
		wg.Go(func() { record(w.ev) })
	}
	for range 5 {
		wg.Go(func() { record(NewEvent(other, EventOpts{Time: base})) })
	}
	wg.Wait()
	checkLookups(t, db, acct, base, evs)
	if n := countLookup(t, db, audit.Query{AccountID: other}); n != 5 {
		t.Errorf("other account has %d events, want 5", n)
	}
	VerifyChains(t, db)
}

// checkLookups runs LookupAudit with every attribute, time ranges and page sizes over the
// events evs of account acct, and compares with what evs say.
func checkLookups(t *testing.T, db *store.DB, acct string, base time.Time, evs []written) {
	t.Helper()
	all := lookupAll(t, db, audit.Query{AccountID: acct}, 1000)
	if len(all) != len(evs) {
		t.Fatalf("LookupAudit found %d events, want %d", len(all), len(evs))
	}
	byID := map[string]written{}
	for _, w := range evs {
		byID[w.ev.EventID] = w
	}
	for i, r := range all {
		w, ok := byID[r.EventID]
		if !ok {
			t.Fatalf("LookupAudit returned unknown event %s", r.EventID)
		}
		if want := base.Add(time.Duration(w.offset) * time.Second); !r.EventTime.Equal(want) {
			t.Errorf("event %s time = %v, want %v", r.EventID, r.EventTime, want)
		}
		if !slices.Equal(r.Resources, w.ev.Resources) {
			t.Errorf("event %s resources = %+v, want %+v", r.EventID, r.Resources, w.ev.Resources)
		}
		if i > 0 && !newerFirst(all[i-1], r) {
			t.Fatalf("LookupAudit order: %v/%s/%d before %v/%s/%d", all[i-1].EventTime, all[i-1].ChainID, all[i-1].Seq,
				r.EventTime, r.ChainID, r.Seq)
		}
	}
	for _, size := range []int{1, 7, 59, 60, 61} {
		paged := lookupAll(t, db, audit.Query{AccountID: acct}, size)
		if !sameRecords(paged, all) {
			t.Errorf("paging by %d gives %d records in another order than one page", size, len(paged))
		}
	}

	filter := func(name string, q audit.Query, match func(w written) bool) {
		t.Run(name, func(t *testing.T) {
			q.AccountID = acct
			var want []*audit.Record
			for _, r := range all {
				if match(byID[r.EventID]) {
					want = append(want, r)
				}
			}
			if len(want) == 0 {
				t.Fatalf("test data has no event for %+v", q)
			}
			for _, size := range []int{3, 1000} {
				if got := lookupAll(t, db, q, size); !sameRecords(got, want) {
					t.Errorf("LookupAudit(%+v) by %d = %d records, want %d", q, size, len(got), len(want))
				}
			}
		})
	}
	at := func(s int) time.Time { return base.Add(time.Duration(s) * time.Second) }
	filter("EventName", audit.Query{Attribute: "EventName", Value: "CheckInLicense"},
		func(w written) bool { return w.ev.EventName == "CheckInLicense" })
	filter("EventSource", audit.Query{Attribute: "EventSource", Value: "sts.amazonaws.com"},
		func(w written) bool { return w.ev.EventSource == "sts.amazonaws.com" })
	filter("Username", audit.Query{Attribute: "Username", Value: "bob"},
		func(w written) bool { return w.ev.UserIdentity.UserName == "bob" })
	filter("AccessKeyId", audit.Query{Attribute: "AccessKeyId", Value: "AKIABBBBBBBBBBBBBBBB"},
		func(w written) bool { return w.ev.UserIdentity.AccessKeyID == "AKIABBBBBBBBBBBBBBBB" })
	filter("ReadOnlyTrue", audit.Query{Attribute: "ReadOnly", Value: "true"},
		func(w written) bool { return w.ev.ReadOnly })
	filter("ReadOnlyFalse", audit.Query{Attribute: "ReadOnly", Value: "false"},
		func(w written) bool { return !w.ev.ReadOnly })
	filter("EventId", audit.Query{Attribute: "EventId", Value: evs[17].ev.EventID},
		func(w written) bool { return w.ev.EventID == evs[17].ev.EventID })
	filter("ResourceType", audit.Query{Attribute: "ResourceType", Value: "AWS::LicenseManager::Grant"},
		func(w written) bool {
			return len(w.ev.Resources) > 0 && w.ev.Resources[0].Type == "AWS::LicenseManager::Grant"
		})
	name := fmt.Sprintf("arn:aws:license-manager::%s:license:l-1", acct)
	filter("ResourceName", audit.Query{Attribute: "ResourceName", Value: name},
		func(w written) bool { return len(w.ev.Resources) > 0 && w.ev.Resources[0].ARN == name })
	filter("TimeRange", audit.Query{Start: at(2), End: at(4)},
		func(w written) bool { return w.offset >= 2 && w.offset <= 4 })
	filter("Start", audit.Query{Start: at(5)}, func(w written) bool { return w.offset >= 5 })
	filter("End", audit.Query{End: at(0)}, func(w written) bool { return w.offset == 0 })
	filter("RangeAndName", audit.Query{Start: at(1), End: at(5), Attribute: "EventName", Value: "CheckoutLicense"},
		func(w written) bool { return w.offset >= 1 && w.offset <= 5 && w.ev.EventName == "CheckoutLicense" })
	t.Run("NoMatch", func(t *testing.T) {
		for _, q := range []audit.Query{
			{AccountID: acct, Attribute: "EventName", Value: "Nothing"},
			{AccountID: acct, Start: at(7)},
			{AccountID: acct, End: at(-1)},
			{AccountID: "000000000000"},
		} {
			q.Limit = 10
			recs, next, err := db.LookupAudit(context.Background(), q)
			if err != nil || len(recs) != 0 || next != nil {
				t.Errorf("LookupAudit(%+v) = %d records, next %v, %v; want none", q, len(recs), next, err)
			}
		}
	})
}

// newerFirst reports whether a comes strictly before b in LookupAudit's order.
func newerFirst(a, b *audit.Record) bool {
	if !a.EventTime.Equal(b.EventTime) {
		return a.EventTime.After(b.EventTime)
	}
	if a.ChainID != b.ChainID {
		return a.ChainID > b.ChainID
	}
	return a.Seq > b.Seq
}

func sameRecords(a, b []*audit.Record) bool {
	return slices.EqualFunc(a, b, func(x, y *audit.Record) bool {
		return x.ChainID == y.ChainID && x.Seq == y.Seq && x.EventID == y.EventID && x.Hash == y.Hash
	})
}

func testAuditLookupErrors(t *testing.T, db *store.DB) {
	for name, q := range map[string]audit.Query{
		"ErrNoAccount":        {Limit: 10},
		"ErrLimit":            {AccountID: "123456789012"},
		"ErrUnknownAttribute": {AccountID: "123456789012", Limit: 10, Attribute: "Colour", Value: "red"},
		"ErrReadOnlyValue":    {AccountID: "123456789012", Limit: 10, Attribute: "ReadOnly", Value: "yes"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := db.LookupAudit(context.Background(), q); err == nil {
				t.Fatalf("LookupAudit(%+v) succeeded, want an error", q)
			}
		})
	}
	t.Run("ErrUnknownChain", func(t *testing.T) {
		err := db.ScanAuditChain(context.Background(), "no-such-chain", func(*audit.Record) error { return nil })
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ScanAuditChain(unknown) = %v, want ErrNotFound", err)
		}
	})
	t.Run("FnErrorStopsScan", func(t *testing.T) {
		for range 3 {
			update(t, db, func(*store.Tx) error { return nil }, audit.NewPending(NewEvent("123456789012", EventOpts{})))
		}
		chains, err := db.AuditChains(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		for _, c := range chains {
			if c.Length == 0 {
				continue
			}
			err := db.ScanAuditChain(context.Background(), c.ID, func(*audit.Record) error { calls++; return errBoom })
			if err != errBoom {
				t.Fatalf("ScanAuditChain with a failing fn = %v, want fn's error unchanged", err)
			}
		}
		if calls == 0 {
			t.Fatal("no chain has records")
		}
	})
}
