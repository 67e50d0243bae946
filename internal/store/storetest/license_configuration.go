package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/store"
)

func runLicenseConfigurations(t *testing.T, open func(t testing.TB) *store.DB) {
	t.Run("LicenseConfigurations", func(t *testing.T) { testLicenseConfigurations(t, open(t)) })
	t.Run("ConsumeLicenses", func(t *testing.T) { testConsumeLicenses(t, open(t)) })
	t.Run("LicenseUsage", func(t *testing.T) { testLicenseUsage(t, open(t)) })
	t.Run("ConcurrentLaunches", func(t *testing.T) { testConcurrentLaunches(t, open(t)) })
	t.Run("ConcurrentStartStop", func(t *testing.T) { testConcurrentStartStop(t, open(t)) })
	t.Run("LicenseConfigurationExtras", func(t *testing.T) { testLicenseConfigurationExtras(t, open(t)) })
	t.Run("Inventory", func(t *testing.T) { testInventory(t, open(t)) })
}

func hex16() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newConfiguration stores a configuration (count nil: none) and returns it.
func newConfiguration(t testing.TB, db *store.DB, acct, countingType string, count *int64, hard bool) *store.LicenseConfiguration {
	t.Helper()
	id := "lic-" + hex16()
	c := &store.LicenseConfiguration{
		ARN: "arn:aws:license-manager:us-east-1:" + acct + ":license-configuration:" + id, ID: id, AccountID: acct, Region: "us-east-1",
		Name: "cfg " + id[:8], CountingType: countingType, LicenseCount: count, HardLimit: hard, Status: store.ConfigurationAvailable,
		Rules: []string{"#allowedTenancy=EC2-DedicatedHost"}, ProductInformation: "[]",
	}
	update(t, db, func(tx *store.Tx) error {
		c.CreatedAt, c.UpdatedAt = tx.Now(), tx.Now()
		return tx.CreateLicenseConfiguration(context.Background(), c)
	})
	return c
}

// newInstance stores a running instance and returns it.
func newInstance(t testing.TB, db *store.DB, acct string) *store.Resource {
	t.Helper()
	r := instanceRow(acct)
	update(t, db, func(tx *store.Tx) error { return tx.AddResource(context.Background(), r) })
	return r
}

func instanceRow(acct string) *store.Resource {
	id := "i-" + hex16()[:17]
	return &store.Resource{ARN: "arn:aws:ec2:us-east-1:" + acct + ":instance/" + id, ID: id, Type: store.ResourceInstance, AccountID: acct,
		Region: "us-east-1", State: "running", InstanceType: "m5.large", InstanceFamily: "m5", Platform: "Linux/UNIX", Architecture: "x86_64",
		VCPUs: 2, Cores: 1, ThreadsPerCore: 2, Tenancy: "default"}
}

// configuration reads a configuration back.
func configuration(t testing.TB, db *store.DB, arn string) *store.LicenseConfiguration {
	t.Helper()
	var c *store.LicenseConfiguration
	err := db.View(context.Background(), func(tx *store.Tx) (err error) {
		c, err = tx.LicenseConfiguration(context.Background(), arn)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkCounter checks that a configuration's counter is want and equals the sum of what its
// associations hold.
func checkCounter(t testing.TB, db *store.DB, arn string, want int64) {
	t.Helper()
	var sum int64
	err := db.View(context.Background(), func(tx *store.Tx) error {
		us, err := tx.LicenseUsages(context.Background(), store.LicenseUsageQuery{ConfigARN: arn})
		for _, u := range us {
			sum += u.Consumed
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := configuration(t, db, arn).Consumed; got != want || sum != want {
		t.Fatalf("%s: counter %d, associations hold %d; want both %d", arn, got, sum, want)
	}
}

func testLicenseConfigurations(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct := createAccount(t, db)
	other := createAccount(t, db)
	core := newConfiguration(t, db, acct, "Core", count(96), true)
	vcpu := newConfiguration(t, db, acct, "vCPU", nil, false)
	inst := newConfiguration(t, db, acct, "Instance", count(0), false)
	newConfiguration(t, db, other, "Core", count(1), true)

	update(t, db, func(tx *store.Tx) error {
		err := tx.CreateLicenseConfiguration(ctx, core)
		if !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("CreateLicenseConfiguration(same ARN) = %v, want ErrConflict", err)
		}
		return nil
	})
	got := configuration(t, db, core.ARN)
	if got.Name != core.Name || *got.LicenseCount != 96 || !got.HardLimit || got.Consumed != 0 || !slices.Equal(got.Rules, core.Rules) ||
		got.Status != store.ConfigurationAvailable || got.LicenseExpiry != nil || got.CreatedAt.IsZero() {
		t.Fatalf("LicenseConfiguration = %+v", got)
	}
	if configuration(t, db, vcpu.ARN).LicenseCount != nil {
		t.Errorf("a configuration without a count reads back with one")
	}

	// An instance over a soft count of 0 makes inst exceeded.
	update(t, db, func(tx *store.Tx) error {
		_, ok, err := tx.ConsumeLicenses(ctx, inst.ARN, 1)
		if !ok {
			return fmt.Errorf("ConsumeLicenses(soft) refused")
		}
		return err
	})
	list := func(q store.LicenseConfigurationQuery) []string {
		t.Helper()
		var out []string
		err := db.View(ctx, func(tx *store.Tx) error {
			cs, err := tx.LicenseConfigurations(ctx, q)
			for _, c := range cs {
				out = append(out, c.ARN)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	sorted := func(arns ...string) []string { slices.Sort(arns); return arns }
	yes, no := true, false
	cases := []struct {
		name string
		q    store.LicenseConfigurationQuery
		want []string
	}{
		{"All", store.LicenseConfigurationQuery{}, sorted(core.ARN, vcpu.ARN, inst.ARN)},
		{"ByARN", store.LicenseConfigurationQuery{ARNs: []string{vcpu.ARN}}, []string{vcpu.ARN}},
		{"ByCountingType", store.LicenseConfigurationQuery{CountingTypes: []string{"Core", "Instance"}}, sorted(core.ARN, inst.ARN)},
		{"HardLimit", store.LicenseConfigurationQuery{HardLimit: &yes}, []string{core.ARN}},
		{"SoftLimit", store.LicenseConfigurationQuery{HardLimit: &no}, sorted(vcpu.ARN, inst.ARN)},
		{"Exceeded", store.LicenseConfigurationQuery{LimitExceeded: &yes}, []string{inst.ARN}},
		{"NotExceeded", store.LicenseConfigurationQuery{LimitExceeded: &no}, sorted(core.ARN, vcpu.ARN)},
		{"Page", store.LicenseConfigurationQuery{After: sorted(core.ARN, vcpu.ARN, inst.ARN)[0], Limit: 1}, sorted(core.ARN, vcpu.ARN, inst.ARN)[1:2]},
		{"OtherRegion", store.LicenseConfigurationQuery{Region: "eu-west-1"}, nil},
	}
	for _, c := range cases {
		q := c.q
		q.AccountID = acct
		if q.Region == "" {
			q.Region = "us-east-1"
		}
		if got := list(q); !slices.Equal(got, c.want) {
			t.Errorf("%s: LicenseConfigurations = %v, want %v", c.name, got, c.want)
		}
	}

	// Put changes the members but not the counter.
	got.Name, got.Description, got.LicenseCount, got.HardLimit, got.Status = "renamed", "d", nil, false, store.ConfigurationDisabled
	got.Rules, got.LicenseExpiry, got.Consumed = nil, count(1700000000), 999
	update(t, db, func(tx *store.Tx) error { got.UpdatedAt = tx.Now(); return tx.PutLicenseConfiguration(ctx, got) })
	again := configuration(t, db, core.ARN)
	if again.Name != "renamed" || again.LicenseCount != nil || again.HardLimit || again.Status != store.ConfigurationDisabled ||
		len(again.Rules) != 0 || *again.LicenseExpiry != 1700000000 || again.Consumed != 0 {
		t.Fatalf("after PutLicenseConfiguration: %+v", again)
	}

	// Delete: refused while associated, then gone with its tags, alerts and failures.
	r := newInstance(t, db, acct)
	update(t, db, func(tx *store.Tx) error {
		if err := tx.TagLicenseResource(ctx, vcpu.ARN, []store.Tag{{Key: "k", Value: "v"}}); err != nil {
			return err
		}
		if err := tx.AddLicenseAlert(ctx, &store.LicenseAlert{ConfigARN: vcpu.ARN, AccountID: acct, Kind: "SOFT_LIMIT_EXCEEDED", ResourceARN: r.ARN, Message: "m", CreatedAt: tx.Now()}); err != nil {
			return err
		}
		if err := tx.AddLicenseFailure(ctx, &store.LicenseFailure{ConfigARN: vcpu.ARN, ResourceARN: r.ARN, ResourceType: r.Type, OperationName: "RunInstances", FailureTime: tx.Now()}); err != nil {
			return err
		}
		return tx.AddLicenseUsage(ctx, &store.LicenseUsage{ConfigARN: vcpu.ARN, ResourceARN: r.ARN, ResourceType: r.Type, ResourceAccount: acct, AssociatedAt: tx.Now()})
	})
	update(t, db, func(tx *store.Tx) error {
		err := tx.DeleteLicenseConfiguration(ctx, vcpu.ARN)
		var used *store.AssociatedError
		if !errors.As(err, &used) || !errors.Is(err, store.ErrInUse) || used.Count != 1 || !slices.Equal(used.Resources, []string{r.ARN}) {
			return fmt.Errorf("DeleteLicenseConfiguration(associated) = %v, want an AssociatedError naming %s", err, r.ARN)
		}
		if _, err := tx.RemoveLicenseUsage(ctx, vcpu.ARN, r.ARN); err != nil {
			return err
		}
		return tx.DeleteLicenseConfiguration(ctx, vcpu.ARN)
	})
	update(t, db, func(tx *store.Tx) error {
		if _, err := tx.LicenseConfiguration(ctx, vcpu.ARN); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("LicenseConfiguration(deleted) = %v, want ErrNotFound", err)
		}
		if err := tx.DeleteLicenseConfiguration(ctx, vcpu.ARN); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("DeleteLicenseConfiguration(deleted) = %v, want ErrNotFound", err)
		}
		// Its tags went with it.
		if tags, err := tx.LicenseResourceTags(ctx, vcpu.ARN); !errors.Is(err, store.ErrNotFound) || len(tags) != 0 {
			return fmt.Errorf("tags of a deleted configuration: %v, %v; want none and ErrNotFound", tags, err)
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM license_configuration_tags WHERE arn = ?`, vcpu.ARN).Scan(&n); err != nil || n != 0 {
			return fmt.Errorf("tag rows of a deleted configuration: %d, %v; want 0", n, err)
		}
		return nil
	})
}

func testConsumeLicenses(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct := createAccount(t, db)
	hard := newConfiguration(t, db, acct, "Core", count(10), true)
	soft := newConfiguration(t, db, acct, "Core", count(10), false)
	none := newConfiguration(t, db, acct, "Core", nil, true)
	steps := []struct {
		name     string
		arn      string
		units    int64
		ok       bool
		after    int64
		exceeded bool
	}{
		{"HardFits", hard.ARN, 8, true, 8, false},
		{"HardOver", hard.ARN, 3, false, 0, false},
		{"HardExactly", hard.ARN, 2, true, 10, false},
		{"HardFull", hard.ARN, 1, false, 0, false},
		{"SoftUnder", soft.ARN, 10, true, 10, false},
		{"SoftOver", soft.ARN, 5, true, 15, true},
		{"NoCount", none.ARN, 1000, true, 1000, false},
		{"NoSuch", "arn:aws:license-manager:us-east-1:" + acct + ":license-configuration:lic-" + hex16(), 1, false, 0, false},
	}
	for _, s := range steps {
		var c store.Consumption
		var ok bool
		update(t, db, func(tx *store.Tx) (err error) {
			c, ok, err = tx.ConsumeLicenses(ctx, s.arn, s.units)
			return err
		})
		if ok != s.ok || ok && (c.Consumed != s.after || c.Exceeded() != s.exceeded) {
			t.Errorf("%s: ConsumeLicenses(%d) = %+v, %v; want ok %v, consumed %d, exceeded %v", s.name, s.units, c, ok, s.ok, s.after, s.exceeded)
		}
	}
	// A DISABLED configuration takes nothing, even without a limit.
	c := configuration(t, db, none.ARN)
	c.Status = store.ConfigurationDisabled
	update(t, db, func(tx *store.Tx) error { return tx.PutLicenseConfiguration(ctx, c) })
	update(t, db, func(tx *store.Tx) error {
		if _, ok, err := tx.ConsumeLicenses(ctx, none.ARN, 1); ok || err != nil {
			return fmt.Errorf("ConsumeLicenses(DISABLED) = %v, %v; want refused", ok, err)
		}
		return nil
	})
	if got := configuration(t, db, hard.ARN).Consumed; got != 10 {
		t.Errorf("hard counter = %d, want 10", got)
	}
}

func testLicenseUsage(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct := createAccount(t, db)
	a := newConfiguration(t, db, acct, "Core", count(100), true)
	b := newConfiguration(t, db, acct, "Instance", nil, false)
	r := newInstance(t, db, acct)
	take := func(c *store.LicenseConfiguration, units int64) {
		t.Helper()
		update(t, db, func(tx *store.Tx) error {
			if _, ok, err := tx.ConsumeLicenses(ctx, c.ARN, units); !ok || err != nil {
				return fmt.Errorf("ConsumeLicenses: %v %v", ok, err)
			}
			return tx.AddLicenseUsage(ctx, &store.LicenseUsage{ConfigARN: c.ARN, ResourceARN: r.ARN, ResourceType: r.Type, ResourceAccount: acct,
				Consumed: units, AssociatedAt: tx.Now()})
		})
	}
	take(a, 4)
	take(b, 1)
	checkCounter(t, db, a.ARN, 4)
	checkCounter(t, db, b.ARN, 1)
	update(t, db, func(tx *store.Tx) error {
		err := tx.AddLicenseUsage(ctx, &store.LicenseUsage{ConfigARN: a.ARN, ResourceARN: r.ARN, ResourceType: r.Type, ResourceAccount: acct, AssociatedAt: tx.Now()})
		if !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("AddLicenseUsage(again) = %v, want ErrConflict", err)
		}
		return nil
	})

	// Stop: the associations stay, holding nothing; a second release returns nothing more.
	for range 2 {
		update(t, db, func(tx *store.Tx) error {
			_, err := tx.ReleaseResourceLicenses(ctx, r.ARN, false)
			return err
		})
		checkCounter(t, db, a.ARN, 0)
		checkCounter(t, db, b.ARN, 0)
	}
	// Start: resume once.
	update(t, db, func(tx *store.Tx) error {
		if _, ok, err := tx.ConsumeLicenses(ctx, a.ARN, 4); !ok || err != nil {
			return fmt.Errorf("ConsumeLicenses: %v %v", ok, err)
		}
		if ok, err := tx.ResumeLicenseUsage(ctx, a.ARN, r.ARN, 4); !ok || err != nil {
			return fmt.Errorf("ResumeLicenseUsage = %v, %v", ok, err)
		}
		if ok, err := tx.ResumeLicenseUsage(ctx, a.ARN, r.ARN, 4); ok || err != nil {
			return fmt.Errorf("ResumeLicenseUsage(holding already) = %v, %v; want false", ok, err)
		}
		return nil
	})
	checkCounter(t, db, a.ARN, 4)
	var us []*store.LicenseUsage
	update(t, db, func(tx *store.Tx) (err error) { us, err = tx.ResourceLicenseUsage(ctx, r.ARN); return err })
	if len(us) != 2 || us[0].ConfigARN > us[1].ConfigARN {
		t.Fatalf("ResourceLicenseUsage = %+v, want 2 in ARN order", us)
	}
	// Remove one association; terminate the resource: everything returns, nothing is left.
	update(t, db, func(tx *store.Tx) error {
		u, err := tx.RemoveLicenseUsage(ctx, a.ARN, r.ARN)
		if err != nil || u.Consumed != 4 {
			return fmt.Errorf("RemoveLicenseUsage = %+v, %v", u, err)
		}
		if _, err := tx.RemoveLicenseUsage(ctx, a.ARN, r.ARN); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("RemoveLicenseUsage(again) = %v, want ErrNotFound", err)
		}
		return nil
	})
	checkCounter(t, db, a.ARN, 0)
	update(t, db, func(tx *store.Tx) error {
		gone, err := tx.ReleaseResourceLicenses(ctx, r.ARN, true)
		if err != nil || len(gone) != 1 || gone[0].ConfigARN != b.ARN {
			return fmt.Errorf("ReleaseResourceLicenses(remove) = %+v, %v; want b's association", gone, err)
		}
		us, err := tx.ResourceLicenseUsage(ctx, r.ARN)
		if err != nil || len(us) != 0 {
			return fmt.Errorf("associations after removal: %+v, %v", us, err)
		}
		return nil
	})
	checkCounter(t, db, b.ARN, 0)
}

// testConcurrentLaunches launches one instance per goroutine against a hard limit, each in
// one Update that stores the instance, takes a unit and associates it: exactly the limit
// succeed, and the counter equals the associations.
func testConcurrentLaunches(t *testing.T, db *store.DB) {
	const limit, callers = 40, 200
	ctx := context.Background()
	acct := createAccount(t, db)
	c := newConfiguration(t, db, acct, "Instance", count(limit), true)
	var ok atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range callers {
		wg.Go(func() {
			<-start
			r := instanceRow(acct)
			refused := errors.New("refused")
			err := db.Update(ctx, func(tx *store.Tx) error {
				if err := tx.AddResource(ctx, r); err != nil {
					return err
				}
				if _, took, err := tx.ConsumeLicenses(ctx, c.ARN, 1); err != nil || !took {
					return cmpErr(err, refused)
				}
				return tx.AddLicenseUsage(ctx, &store.LicenseUsage{ConfigARN: c.ARN, ResourceARN: r.ARN, ResourceType: r.Type,
					ResourceAccount: acct, Consumed: 1, AssociatedAt: tx.Now()})
			})
			switch {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, refused):
				t.Errorf("launch: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != limit {
		t.Fatalf("%d launches succeeded, want exactly %d", ok.Load(), limit)
	}
	checkCounter(t, db, c.ARN, limit)
	// The refused launches left no instance behind.
	var n int
	update(t, db, func(tx *store.Tx) error {
		rs, err := tx.Resources(ctx, store.ResourceQuery{AccountID: acct, Region: "us-east-1"})
		n = len(rs)
		return err
	})
	if n != limit {
		t.Fatalf("%d instances stored, want %d (refused launches must write nothing)", n, limit)
	}
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// testConcurrentStartStop stops and starts instances from many goroutines against a hard
// limit smaller than the instances: the counter never passes the limit and always equals
// what the associations hold.
func testConcurrentStartStop(t *testing.T, db *store.DB) {
	const limit, instances, rounds = 5, 10, 20
	ctx := context.Background()
	acct := createAccount(t, db)
	c := newConfiguration(t, db, acct, "Core", count(limit), true)
	rs := make([]*store.Resource, instances)
	for i := range rs {
		rs[i] = newInstance(t, db, acct)
		update(t, db, func(tx *store.Tx) error {
			return tx.AddLicenseUsage(ctx, &store.LicenseUsage{ConfigARN: c.ARN, ResourceARN: rs[i].ARN, ResourceType: rs[i].Type,
				ResourceAccount: acct, AssociatedAt: tx.Now()})
		})
	}
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Go(func() {
			for range rounds {
				err := db.Update(ctx, func(tx *store.Tx) error {
					if _, took, err := tx.ConsumeLicenses(ctx, c.ARN, 1); err != nil || !took {
						return err
					}
					ok, err := tx.ResumeLicenseUsage(ctx, c.ARN, r.ARN, 1)
					if err == nil && !ok {
						err = fmt.Errorf("resume %s: held already", r.ID)
					}
					return err
				})
				if err != nil {
					t.Errorf("start: %v", err)
					return
				}
				if err := db.Update(ctx, func(tx *store.Tx) error {
					_, err := tx.ReleaseResourceLicenses(ctx, r.ARN, false)
					return err
				}); err != nil {
					t.Errorf("stop: %v", err)
					return
				}
				if got := configuration(t, db, c.ARN).Consumed; got > limit || got < 0 {
					t.Errorf("counter %d outside 0..%d", got, limit)
					return
				}
			}
		})
	}
	wg.Wait()
	checkCounter(t, db, c.ARN, 0)
}

func testLicenseConfigurationExtras(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct := createAccount(t, db)
	c := newConfiguration(t, db, acct, "vCPU", nil, false)
	r := newInstance(t, db, acct)
	update(t, db, func(tx *store.Tx) error {
		if err := tx.TagLicenseResource(ctx, c.ARN, []store.Tag{{Key: "b", Value: "1"}, {Key: "a", Value: "2"}}); err != nil {
			return err
		}
		if err := tx.TagLicenseResource(ctx, c.ARN, []store.Tag{{Key: "b", Value: "3"}}); err != nil {
			return err
		}
		if err := tx.UntagLicenseResource(ctx, c.ARN, []string{"a", "absent"}); err != nil {
			return err
		}
		many := make([]store.Tag, store.MaxLicenseTags)
		for i := range many {
			many[i] = store.Tag{Key: fmt.Sprint("k", i)}
		}
		if err := tx.TagLicenseResource(ctx, c.ARN, many); !errors.Is(err, store.ErrLimitExceeded) {
			return fmt.Errorf("TagLicenseResource(51 tags) = %v, want ErrLimitExceeded", err)
		}
		if err := tx.TagLicenseResource(ctx, "arn:aws:license-manager:us-east-1:"+acct+":license-configuration:lic-"+hex16(), many[:1]); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("TagLicenseResource(no such) = %v, want ErrNotFound", err)
		}
		for i := range 3 {
			f := &store.LicenseFailure{ConfigARN: c.ARN, ResourceARN: r.ARN, ResourceType: r.Type, ResourceOwnerID: acct,
				OperationName: fmt.Sprint("op", i), RequestedBy: "arn:aws:iam::" + acct + ":root", ErrorMessage: "no", FailureTime: tx.Now().Add(-time.Duration(i) * time.Second)}
			if err := tx.AddLicenseFailure(ctx, f); err != nil {
				return err
			}
		}
		// A failure against a configuration that is gone is dropped without an error.
		return tx.AddLicenseFailure(ctx, &store.LicenseFailure{ConfigARN: "arn:aws:license-manager:us-east-1:" + acct + ":license-configuration:lic-" + hex16(),
			ResourceARN: r.ARN, FailureTime: tx.Now()})
	})
	update(t, db, func(tx *store.Tx) error {
		tags, err := tx.LicenseResourceTags(ctx, c.ARN)
		if err != nil || !slices.Equal(tags, []store.Tag{{Key: "b", Value: "3"}}) {
			return fmt.Errorf("tags = %v, %v; want b=3", tags, err)
		}
		fs, err := tx.LicenseFailures(ctx, c.ARN, "", 2)
		if err != nil || len(fs) != 2 || fs[0].OperationName != "op2" || fs[1].OperationName != "op1" {
			return fmt.Errorf("LicenseFailures(limit 2) = %v, %v; want op2, op1 (oldest first)", fs, err)
		}
		rest, err := tx.LicenseFailures(ctx, c.ARN, fs[1].ID, 0)
		if err != nil || len(rest) != 1 || rest[0].OperationName != "op0" {
			return fmt.Errorf("LicenseFailures(after) = %v, %v; want op0", rest, err)
		}
		return nil
	})
}

func testInventory(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct := createAccount(t, db)
	i1, i2 := instanceRow(acct), instanceRow(acct)
	i1.ID, i1.ARN = "i-00000000000000001", "arn:aws:ec2:us-east-1:"+acct+":instance/i-00000000000000001"
	i2.ID, i2.ARN, i2.Platform = "i-00000000000000002", "arn:aws:ec2:us-east-1:"+acct+":instance/i-00000000000000002", "Windows"
	host := &store.Resource{ARN: "arn:aws:ec2:us-east-1:" + acct + ":dedicated-host/h-00000000000000001", ID: "h-00000000000000001",
		Type: store.ResourceHost, AccountID: acct, Region: "us-east-1", State: "available", InstanceFamily: "m5", VCPUs: 96, Cores: 48,
		ThreadsPerCore: 2, Sockets: 2, Tenancy: "host"}
	update(t, db, func(tx *store.Tx) error {
		for _, r := range []*store.Resource{i1, i2, host} {
			if err := tx.AddResource(ctx, r); err != nil {
				return err
			}
		}
		if err := tx.AddResource(ctx, i1); !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("AddResource(again) = %v, want ErrConflict", err)
		}
		return nil
	})
	query := func(conds ...store.InventoryCondition) []string {
		t.Helper()
		var ids []string
		update(t, db, func(tx *store.Tx) error {
			rs, err := tx.Resources(ctx, store.ResourceQuery{AccountID: acct, Region: "us-east-1", Conditions: conds})
			for _, r := range rs {
				ids = append(ids, r.ID)
			}
			return err
		})
		return ids
	}
	cases := []struct {
		name string
		cond store.InventoryCondition
		want []string
	}{
		{"Equals", store.InventoryCondition{Attribute: "platform", Condition: store.ConditionEquals, Value: "Windows"}, []string{i2.ID}},
		{"NotEquals", store.InventoryCondition{Attribute: "platform", Condition: store.ConditionNotEquals, Value: "Windows"}, []string{host.ID, i1.ID}},
		{"BeginsWith", store.InventoryCondition{Attribute: "resource_id", Condition: store.ConditionBeginsWith, Value: "i-"}, []string{i1.ID, i2.ID}},
		{"BeginsWithPercent", store.InventoryCondition{Attribute: "resource_id", Condition: store.ConditionBeginsWith, Value: "%"}, nil},
		{"Contains", store.InventoryCondition{Attribute: "platform", Condition: store.ConditionContains, Value: "UNI"}, []string{i1.ID}},
		{"ContainsCase", store.InventoryCondition{Attribute: "platform", Condition: store.ConditionContains, Value: "uni"}, nil},
		{"Account", store.InventoryCondition{Attribute: "account_id", Condition: store.ConditionEquals, Value: acct}, []string{host.ID, i1.ID, i2.ID}},
	}
	for _, c := range cases {
		if got := query(c.cond); !slices.Equal(got, c.want) {
			t.Errorf("%s: Resources = %v, want %v", c.name, got, c.want)
		}
	}
	update(t, db, func(tx *store.Tx) error {
		if ok, err := tx.SetResourceState(ctx, i1.ARN, []string{"running"}, "stopped", tx.Now()); !ok || err != nil {
			return fmt.Errorf("running → stopped = %v, %v", ok, err)
		}
		if ok, err := tx.SetResourceState(ctx, i1.ARN, []string{"running"}, "stopped", tx.Now()); ok || err != nil {
			return fmt.Errorf("running → stopped again = %v, %v; want false", ok, err)
		}
		for _, step := range []struct {
			vcpus int64
			want  bool
		}{{64, true}, {32, true}, {2, false}} {
			if ok, err := tx.TakeHostCapacity(ctx, host.ARN, step.vcpus); ok != step.want || err != nil {
				return fmt.Errorf("TakeHostCapacity(%d) = %v, %v; want %v", step.vcpus, ok, err, step.want)
			}
		}
		if err := tx.ReleaseHostCapacity(ctx, host.ARN, 32); err != nil {
			return err
		}
		if ok, err := tx.TakeHostCapacity(ctx, host.ARN, 2); !ok || err != nil {
			return fmt.Errorf("TakeHostCapacity after a release = %v, %v", ok, err)
		}
		r, err := tx.Resource(ctx, host.ARN)
		if err != nil || r.UsedVCPUs != 66 || r.Sockets != 2 || r.Cores != 48 {
			return fmt.Errorf("host = %+v, %v; want 66 vCPUs used", r, err)
		}
		return nil
	})
}
