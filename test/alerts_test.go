package test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/alerts"
)

// TestSettings_ServiceSettings sets and reads License Manager's settings with the AWS CLI v2:
// a fresh account has both switches off, members not given stay as they are, and
// cross-account discovery cannot be turned off once on (seed 001, Troubleshooting).
func TestSettings_ServiceSettings(t *testing.T) {
	c := newOSCLI(t, serverOptions{})
	var got struct {
		S3BucketArn, SnsTopicArn     string
		OrganizationConfiguration    struct{ EnableIntegration bool }
		EnableCrossAccountsDiscovery bool
	}
	c.ok(&got, "license-manager", "get-service-settings")
	if got.SnsTopicArn != "" || got.OrganizationConfiguration.EnableIntegration || got.EnableCrossAccountsDiscovery {
		t.Fatalf("fresh settings = %+v", got)
	}
	topic := "arn:aws:sns:" + region + ":" + rootAccount + ":aws-license-manager-service-alerts"
	bucket := "arn:aws:s3:::aws-license-manager-service-reports"
	// Linking License Manager to the organization needs an organization with all features
	// and License Manager's trusted access, as in AWS.
	c.refused("AccessDeniedException", "", "license-manager", "update-service-settings", "--organization-configuration", "EnableIntegration=true")
	c.ok(nil, "organizations", "create-organization", "--feature-set", "ALL")
	c.ok(nil, "organizations", "enable-aws-service-access", "--service-principal", "license-manager.amazonaws.com")
	c.ok(nil, "license-manager", "update-service-settings", "--sns-topic-arn", topic, "--s3-bucket-arn", bucket,
		"--organization-configuration", "EnableIntegration=true", "--enable-cross-accounts-discovery")
	c.ok(nil, "license-manager", "update-service-settings", "--s3-bucket-arn", bucket)
	c.ok(&got, "license-manager", "get-service-settings")
	if got.SnsTopicArn != topic || got.S3BucketArn != bucket || !got.OrganizationConfiguration.EnableIntegration || !got.EnableCrossAccountsDiscovery {
		t.Fatalf("settings = %+v", got)
	}
	c.refused("InvalidParameterValueException", "cannot be disabled", "license-manager", "update-service-settings", "--no-enable-cross-accounts-discovery")
	c.refused("InvalidParameterValueException", "aws-license-manager-service-", "license-manager", "update-service-settings",
		"--sns-topic-arn", "arn:aws:sns:"+region+":"+rootAccount+":other")
}

// TestAlert_SoftLimitWebhook is seed 001's soft limit with delivery: the account's SNS topic
// is mapped to a webhook with --alert-webhook; the third launch passes over the soft limit and
// its alert is posted, signed, to the webhook, which fails twice before taking it.
func TestAlert_SoftLimitWebhook(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { softLimitWebhook(t, "") })
	t.Run("PostgreSQL", func(t *testing.T) { softLimitWebhook(t, postgresDatabase(t)) })
}

func softLimitWebhook(t *testing.T, database string) {
	const secret = "s3cret"
	var mu sync.Mutex
	var attempts []string // alert IDs, one per request
	var delivered []alerts.Payload
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		attempts = append(attempts, r.Header.Get(alerts.IDHeader))
		if !alerts.Verify([]byte(secret), body, r.Header.Get(alerts.SignatureHeader)) {
			t.Errorf("bad signature %q", r.Header.Get(alerts.SignatureHeader))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if len(attempts) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var p alerts.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("body %s: %v", body, err)
		}
		delivered = append(delivered, p)
	}))
	defer hook.Close()

	topic := "arn:aws:sns:" + region + ":" + rootAccount + ":aws-license-manager-service-alerts"
	c := newOSCLI(t, serverOptions{database: database,
		args: []string{"--alert-webhook", topic + "=" + hook.URL + "/alerts#" + secret, "--alert-retry-base", "100ms"}})
	c.ok(nil, "license-manager", "update-service-settings", "--sns-topic-arn", topic)
	arn, image, hosts := c.setUp("32", false)
	for i := range 3 {
		c.launch(image, "m5.8xlarge", hosts[i])
	}

	deadline := time.Now().Add(30 * time.Second) // a bound, not an expectation
	for {
		mu.Lock()
		n := len(delivered)
		mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // room for a wrong second delivery
	mu.Lock()
	defer mu.Unlock()
	if len(delivered) != 1 {
		t.Fatalf("delivered %d alerts after %d attempts (%v); want 1 after 3\nserver log:\n%s", len(delivered), len(attempts), attempts, c.s.stderr.String())
	}
	p := delivered[0]
	if len(attempts) != 3 || attempts[0] != p.AlertID || attempts[2] != p.AlertID {
		t.Errorf("attempts %v; want three for %s", attempts, p.AlertID)
	}
	if p.LicenseConfigurationArn != arn || p.AccountID != rootAccount || p.Kind != "SOFT_LIMIT_EXCEEDED" || p.TopicArn != topic ||
		!strings.Contains(p.Message, "is over its soft limit: 48 cores consumed of 32") || !strings.Contains(p.ResourceArn, ":instance/i-") || p.Time.IsZero() {
		t.Errorf("alert = %+v", p)
	}
}

// TestAlert_DeliveredAfterRestart raises an alert while its webhook is down, restarts the
// server, and checks that the stored pending delivery is made after the restart.
func TestAlert_DeliveredAfterRestart(t *testing.T) {
	const secret = "restart-secret"
	topic := "arn:aws:sns:" + region + ":" + rootAccount + ":aws-license-manager-service-alerts"
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer down.Close()
	c := newOSCLI(t, serverOptions{args: []string{"--alert-webhook", topic + "=" + down.URL + "#" + secret, "--alert-retry-base", "100ms"}})
	c.ok(nil, "license-manager", "update-service-settings", "--sns-topic-arn", topic)
	_, image, hosts := c.setUp("16", false)
	for i := range 2 {
		c.launch(image, "m5.8xlarge", hosts[i])
	}
	if code := c.s.stop(); code != 0 {
		t.Fatalf("stop: exit %d", code)
	}

	got := make(chan alerts.Payload, 4)
	up := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p alerts.Payload
		if alerts.Verify([]byte(secret), body, r.Header.Get(alerts.SignatureHeader)) && json.Unmarshal(body, &p) == nil {
			got <- p
		}
	}))
	defer up.Close()
	s := startServer(t, serverOptions{dataDir: c.s.dataDir, args: []string{"--alert-webhook", topic + "=" + up.URL + "#" + secret, "--alert-retry-base", "100ms"}})
	select {
	case p := <-got:
		if p.Kind != "SOFT_LIMIT_EXCEEDED" || !strings.Contains(p.Message, "32 cores consumed of 16") {
			t.Errorf("alert = %+v", p)
		}
	case <-time.After(60 * time.Second): // a bound: the retry stored before the stop falls due well within it
		t.Fatalf("no delivery after restart\nserver log:\n%s", s.stderr.String())
	}
}
