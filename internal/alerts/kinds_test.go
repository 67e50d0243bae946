package alerts

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/licenseconfig"
	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

// TestDeliverer_DiscoveryKinds raises the alerts of automated discovery and of the stale
// sweep for an account with an SNS topic, and delivers them to the topic's webhook: each
// payload carries its kind and a message naming the machine.
func TestDeliverer_DiscoveryKinds(t *testing.T) {
	ctx := context.Background()
	db := storetest.OpenDSN(t, filepath.Join(t.TempDir(), "allot.db"), storetest.NewBox(t), store.Options{})
	caller := identity.Root("111122223333", "AKIACALLER")
	if err := db.Update(ctx, func(tx *store.Tx) error {
		return tx.CreateAccount(ctx, &store.Account{ID: caller.AccountID, Name: "a", Status: "ACTIVE", CreatedAt: tx.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	svc := &licenseconfig.Service{DB: db, Logger: storetest.Quiet()}
	const topic = "arn:aws:sns:us-east-1:111122223333:aws-license-manager-service-alerts"
	if _, err := svc.UpdateServiceSettings(ctx, caller, &licenseconfig.UpdateServiceSettingsInput{SnsTopicArn: ptr(topic)}); err != nil {
		t.Fatal(err)
	}
	_, err := svc.CreateLicenseConfiguration(ctx, caller, &licenseconfig.CreateLicenseConfigurationInput{
		Name: "web", LicenseCountingType: licenseconfig.CountCore, LicenseCount: ptr[int64](8), LicenseCountHardLimit: ptr(true),
		LicenseRules: []string{"#minimumCores=4"},
		ProductInformationList: []licenseconfig.ProductInformation{{ResourceType: ptr("SSM_MANAGED"),
			ProductInformationFilterList: []licenseconfig.ProductInformationFilter{{ProductInformationFilterName: ptr("Application Name"),
				ProductInformationFilterComparator: ptr("EQUALS"), ProductInformationFilterValue: []string{"nginx"}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	register := func(id string, cores int64, seen time.Time) {
		t.Helper()
		r := &store.Resource{ARN: licenseconfig.ManagedInstanceARN("us-east-1", caller.AccountID, id), ID: id, Type: store.ResourceManaged,
			AccountID: caller.AccountID, Region: "us-east-1", State: store.ManagedActive, Platform: "Ubuntu", PlatformType: "Linux",
			VCPUs: cores * 2, Cores: cores, ThreadsPerCore: 2, Sockets: 1, CreatedAt: seen, UpdatedAt: seen, LastSeenAt: seen}
		err := db.Update(ctx, func(tx *store.Tx) error {
			if err := tx.AddResource(ctx, r); err != nil {
				return err
			}
			if err := tx.ReplaceApplications(ctx, r.ARN, []store.Application{{Name: "nginx", Architecture: "x86_64"}}); err != nil {
				return err
			}
			return svc.Discover(ctx, tx, r)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	register("mi-00000000000000001", 2, now)                                           // RULE_VIOLATION
	register("mi-00000000000000002", 8, now.Add(-licenseconfig.StalePeriod-time.Hour)) // associated, then stale
	register("mi-00000000000000003", 8, now)                                           // LIMIT_EXCEEDED
	if n, err := svc.SweepStale(ctx, now); err != nil || n != 1 {
		t.Fatalf("SweepStale = %d, %v; want 1", n, err)
	}

	secret := []byte("s3cret")
	var mu sync.Mutex
	got := map[string]Payload{}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p Payload
		if !Verify(secret, body, r.Header.Get(SignatureHeader)) || json.Unmarshal(body, &p) != nil {
			http.Error(w, "bad delivery", http.StatusBadRequest)
			return
		}
		mu.Lock()
		got[p.Kind] = p
		mu.Unlock()
	}))
	defer hook.Close()
	d := &Deliverer{DB: db, Webhooks: map[string]Webhook{topic: {URL: hook.URL, Secret: secret}}, Logger: storetest.Quiet()}
	if err := d.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		licenseconfig.AlertRuleViolation:  "needs at least 4 cores per resource (#minimumCores=4), and managed instance mi-00000000000000001 has 2",
		licenseconfig.AlertLimitExceeded:  "has a hard limit of 8 cores: 8 are in use, and managed instance mi-00000000000000003 needs 8 more",
		licenseconfig.AlertStaleInventory: "managed instance mi-00000000000000002 has not reported since",
	}
	if len(got) != len(want) {
		t.Errorf("delivered kinds %v, want %d kinds", got, len(want))
	}
	for kind, msg := range want {
		p := got[kind]
		if p.Kind != kind || p.TopicArn != topic || p.AccountID != caller.AccountID || !strings.Contains(p.Message, msg) {
			t.Errorf("%s payload = %+v, want a message containing %q", kind, p, msg)
		}
	}
}

func ptr[T any](v T) *T { return &v }
