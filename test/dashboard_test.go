package test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
)

// The JSON shapes of Allot's two extension operations, as docs/self-managed.md documents
// them; decoded here from the wire, not from the server's own Go types.

type extAlert struct {
	AlertId, Kind, LicenseConfigurationArn, ResourceArn, Message string
	Consumed, LicenseCount                                       int64
	CreateTime                                                   float64
	Delivery                                                     struct {
		Status        string
		Attempts      int64
		DeliveredTime *float64
		TopicArn      *string
	}
}

type extAlerts struct {
	Alerts    []extAlert
	NextToken *string
}

type extDashboardConfiguration struct {
	LicenseConfigurationArn, Name, CountingType, Status string
	LicenseCount, Remaining                             *int64
	Enforced, OverLimit                                 bool
	Consumed                                            int64
	ResourcesByType, InstancesByTenancy, HostsByTenancy map[string]int64
	Alerts                                              struct {
		Last30Days int64
		Latest     *extAlert
	}
}

type extDashboard struct {
	Configurations []extDashboardConfiguration
	GeneratedAt    float64
}

func (d extDashboard) byName(t *testing.T, name string) extDashboardConfiguration {
	t.Helper()
	for _, c := range d.Configurations {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("dashboard has no %q: %+v", name, d)
	return extDashboardConfiguration{}
}

// extCall sends one of Allot's extension operations (X-Amz-Target AllotLicenseManager.<op>)
// as c, signed for license-manager by the AWS SDK's SigV4 signer, and returns the status, the
// error code (X-Amzn-ErrorType) and the body.
func extCall(t *testing.T, s *server, c creds, op string, body []byte) (int, string, []byte) {
	t.Helper()
	return extSigned(t, s, c, "license-manager", "AllotLicenseManager."+op, body)
}

func extSigned(t *testing.T, s *server, c creds, service, target string, body []byte) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	sum := sha256.Sum256(body)
	cr := aws.Credentials{AccessKeyID: c.keyID, SecretAccessKey: c.secret, SessionToken: c.token}
	if err := v4.NewSigner().SignHTTP(context.Background(), cr, req, hex.EncodeToString(sum[:]), service, region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	code, _, _ := strings.Cut(resp.Header.Get("X-Amzn-ErrorType"), ":")
	return resp.StatusCode, code, out
}

// extOK calls op with in, which must succeed, and decodes the response into out.
func extOK(t *testing.T, s *server, c creds, op string, in, out any) {
	t.Helper()
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	status, code, resp := extCall(t, s, c, op, body)
	if status != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d %s %s", op, body, status, code, resp)
	}
	if err := json.Unmarshal(resp, out); err != nil {
		t.Fatalf("%s: %v\n%s", op, err, resp)
	}
}

// allotAs runs the allot binary with c's credentials in the environment, as a user would,
// and returns stdout, stderr and the exit code.
func allotAs(t *testing.T, c creds, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, allotBin, args...)
	cmd.Env = append(cleanAWSEnv(), "AWS_ACCESS_KEY_ID="+c.keyID, "AWS_SECRET_ACCESS_KEY="+c.secret, "AWS_SESSION_TOKEN="+c.token,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	case err != nil:
		t.Fatalf("allot %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), 0
}

// TestDashboard is seed 001's operating-system license with a soft limit, driven through the
// AWS SDK for Go and the EC2 subset, then read back through Allot's dashboard and alert
// list: by API, and with `allot dashboard` and `allot alerts list`.
func TestDashboard(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { dashboardScenario(t, "") })
	t.Run("PostgreSQL", func(t *testing.T) { dashboardScenario(t, postgresDatabase(t)) })
}

func dashboardScenario(t *testing.T, database string) {
	ctx := context.Background()
	delivered := make(chan string, 8)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		delivered <- r.Header.Get("X-Allot-Alert-Id")
	}))
	defer hook.Close()
	unmapped := "arn:aws:sns:" + region + ":" + rootAccount + ":aws-license-manager-service-nowhere"
	mapped := "arn:aws:sns:" + region + ":" + rootAccount + ":aws-license-manager-service-alerts"
	s := startServer(t, serverOptions{database: database, args: []string{"--alert-webhook", mapped + "=" + hook.URL + "#secret", "--alert-retry-base", "100ms"}})
	root := creds{keyID: rootKeyID, secret: rootSecret}
	cfg := s.awsConfig(rootKeyID, rootSecret)
	lmc, ec2c := lm.NewFromConfig(cfg), ec2.NewFromConfig(cfg)

	// The license administrator's two configurations: the server OS (32 cores, soft limit,
	// 8 to 16 cores per server, Dedicated Hosts only) on the image IT launches from, and an
	// agent counted per instance without a count.
	osOut, err := lmc.CreateLicenseConfiguration(ctx, &lm.CreateLicenseConfigurationInput{Name: aws.String("Server OS"),
		LicenseCountingType: lmtypes.LicenseCountingTypeCore, LicenseCount: aws.Int64(32), LicenseCountHardLimit: aws.Bool(false),
		LicenseRules: []string{"#minimumCores=8", "#maximumCores=16", "#allowedTenancy=EC2-DedicatedHost"}})
	if err != nil {
		t.Fatal(err)
	}
	osARN := aws.ToString(osOut.LicenseConfigurationArn)
	agentOut, err := lmc.CreateLicenseConfiguration(ctx, &lm.CreateLicenseConfigurationInput{Name: aws.String("Agent"),
		LicenseCountingType: lmtypes.LicenseCountingTypeInstance})
	if err != nil {
		t.Fatal(err)
	}
	agentARN := aws.ToString(agentOut.LicenseConfigurationArn)
	osImage, err := ec2c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("server-os-2026")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lmc.UpdateLicenseSpecificationsForResource(ctx, &lm.UpdateLicenseSpecificationsForResourceInput{
		ResourceArn:              aws.String("arn:aws:ec2:" + region + "::image/" + aws.ToString(osImage.ImageId)),
		AddLicenseSpecifications: []lmtypes.LicenseSpecification{{LicenseConfigurationArn: aws.String(osARN)}}}); err != nil {
		t.Fatal(err)
	}
	hosts, err := ec2c.AllocateHosts(ctx, &ec2.AllocateHostsInput{InstanceFamily: aws.String("m5"), AvailabilityZone: aws.String(region + "a"), Quantity: aws.Int32(3)})
	if err != nil || len(hosts.HostIds) != 3 {
		t.Fatalf("AllocateHosts = %+v, %v", hosts, err)
	}
	server := func(host string) {
		t.Helper()
		if _, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: osImage.ImageId, InstanceType: ec2types.InstanceTypeM58xlarge,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), Placement: &ec2types.Placement{Tenancy: ec2types.TenancyHost, HostId: aws.String(host)}}); err != nil {
			t.Fatalf("RunInstances on %s: %v", host, err)
		}
	}
	settings := func(topic string) {
		t.Helper()
		if _, err := lmc.UpdateServiceSettings(ctx, &lm.UpdateServiceSettingsInput{SnsTopicArn: aws.String(topic)}); err != nil {
			t.Fatal(err)
		}
	}
	// 16 + 16 cores fit; the third server goes over the soft limit with no topic set, the
	// fourth with a topic no webhook serves, the fifth with the one that is.
	server(hosts.HostIds[0])
	server(hosts.HostIds[1])
	server(hosts.HostIds[2])
	settings(unmapped)
	server(hosts.HostIds[0])
	settings(mapped)
	server(hosts.HostIds[1])

	agentImage, err := ec2c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("agent")})
	if err != nil {
		t.Fatal(err)
	}
	for _, ten := range []ec2types.Tenancy{ec2types.TenancyDefault, ec2types.TenancyDefault, ec2types.TenancyDedicated} {
		if _, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: agentImage.ImageId, InstanceType: ec2types.InstanceTypeT3Micro,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), Placement: &ec2types.Placement{Tenancy: ten},
			LicenseSpecifications: []ec2types.LicenseConfigurationRequest{{LicenseConfigurationArn: aws.String(agentARN)}}}); err != nil {
			t.Fatal(err)
		}
	}

	var alertID string
	select {
	case alertID = <-delivered:
	case <-time.After(30 * time.Second): // a bound: the deliverer looks every second
		t.Fatalf("the alert for the mapped topic was not delivered\nserver log:\n%s", s.stderr.String())
	}
	// The deliverer marks it delivered after the webhook answered: wait for the mark.
	var alerts extAlerts
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		alerts = extAlerts{}
		extOK(t, s, root, "ListLicenseConfigurationAlerts", map[string]any{}, &alerts)
		if len(alerts.Alerts) > 0 && alerts.Alerts[0].Delivery.Status == "DELIVERED" || time.Now().After(deadline) {
			break
		}
	}

	t.Run("ListLicenseConfigurationAlerts", func(t *testing.T) {
		if len(alerts.Alerts) != 3 {
			t.Fatalf("%d alerts, want 3: %+v", len(alerts.Alerts), alerts)
		}
		wantStatus := []string{"DELIVERED", "PENDING", "NO_DESTINATION"} // newest first
		wantConsumed := []int64{80, 64, 48}
		wantTopic := []string{mapped, unmapped, ""}
		for i, a := range alerts.Alerts {
			if a.Kind != "SOFT_LIMIT_EXCEEDED" || a.LicenseConfigurationArn != osARN || a.Delivery.Status != wantStatus[i] ||
				a.Consumed != wantConsumed[i] || a.LicenseCount != 32 || !strings.Contains(a.ResourceArn, ":instance/i-") ||
				aws.ToString(a.Delivery.TopicArn) != wantTopic[i] || a.CreateTime == 0 || !strings.Contains(a.Message, "is over its soft limit") {
				t.Errorf("alert %d = %+v, want %s with %d consumed", i, a, wantStatus[i], wantConsumed[i])
			}
		}
		if a := alerts.Alerts[0]; a.AlertId != alertID || a.Delivery.DeliveredTime == nil {
			t.Errorf("delivered alert %+v, want %s with a DeliveredTime", a, alertID)
		}
		var page extAlerts
		extOK(t, s, root, "ListLicenseConfigurationAlerts", map[string]any{"MaxResults": 2}, &page)
		if len(page.Alerts) != 2 || page.NextToken == nil {
			t.Fatalf("MaxResults 2: %+v", page)
		}
		var second, other, agents extAlerts
		extOK(t, s, root, "ListLicenseConfigurationAlerts", map[string]any{"MaxResults": 2, "NextToken": *page.NextToken}, &second)
		if len(second.Alerts) != 1 || second.Alerts[0].AlertId != alerts.Alerts[2].AlertId || second.NextToken != nil {
			t.Errorf("second page: %+v", second)
		}
		extOK(t, s, root, "ListLicenseConfigurationAlerts", map[string]any{"Kinds": []string{"RULE_VIOLATION", "STALE_INVENTORY"}}, &other)
		if len(other.Alerts) != 0 {
			t.Errorf("RULE_VIOLATION and STALE_INVENTORY: %+v, want none", other)
		}
		extOK(t, s, root, "ListLicenseConfigurationAlerts", map[string]any{"LicenseConfigurationArn": agentARN}, &agents)
		if len(agents.Alerts) != 0 {
			t.Errorf("the agent's alerts: %+v, want none", agents)
		}
	})

	var dash extDashboard
	extOK(t, s, root, "GetLicenseDashboard", map[string]any{}, &dash)
	t.Run("GetLicenseDashboard", func(t *testing.T) {
		if len(dash.Configurations) != 2 || dash.GeneratedAt == 0 {
			t.Fatalf("dashboard = %+v", dash)
		}
		for _, c := range dash.Configurations {
			got, err := lmc.GetLicenseConfiguration(ctx, &lm.GetLicenseConfigurationInput{LicenseConfigurationArn: aws.String(c.LicenseConfigurationArn)})
			if err != nil {
				t.Fatal(err)
			}
			if c.Consumed != aws.ToInt64(got.ConsumedLicenses) || c.Enforced != aws.ToBool(got.LicenseCountHardLimit) ||
				c.CountingType != string(got.LicenseCountingType) || c.Status != aws.ToString(got.Status) || c.Name != aws.ToString(got.Name) ||
				(c.LicenseCount == nil) != (got.LicenseCount == nil) || c.LicenseCount != nil && *c.LicenseCount != aws.ToInt64(got.LicenseCount) {
				t.Errorf("%s: dashboard %+v, GetLicenseConfiguration %+v", c.Name, c, got)
			}
			for _, m := range got.ManagedResourceSummaryList {
				if c.ResourcesByType[string(m.ResourceType)] != aws.ToInt64(m.AssociationCount) {
					t.Errorf("%s: ResourcesByType[%s] = %d, GetLicenseConfiguration %d", c.Name, m.ResourceType, c.ResourcesByType[string(m.ResourceType)], aws.ToInt64(m.AssociationCount))
				}
			}
			usage, err := lmc.ListUsageForLicenseConfiguration(ctx, &lm.ListUsageForLicenseConfigurationInput{LicenseConfigurationArn: aws.String(c.LicenseConfigurationArn)})
			if err != nil {
				t.Fatal(err)
			}
			var sum int64
			var instanceIDs []string
			for _, u := range usage.LicenseConfigurationUsageList {
				sum += aws.ToInt64(u.ConsumedLicenses)
				arn := aws.ToString(u.ResourceArn)
				instanceIDs = append(instanceIDs, arn[strings.LastIndexByte(arn, '/')+1:])
			}
			if sum != c.Consumed {
				t.Errorf("%s: consumed %d, ListUsageForLicenseConfiguration sums %d", c.Name, c.Consumed, sum)
			}
			// Instances per tenancy, and servers: distinct Dedicated Hosts, one per other instance.
			desc, err := ec2c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: instanceIDs})
			if err != nil {
				t.Fatal(err)
			}
			instances, servers := map[string]int64{}, map[string]int64{}
			var seen []string
			for _, r := range desc.Reservations {
				for _, in := range r.Instances {
					ten := string(in.Placement.Tenancy)
					instances[ten]++
					if h := aws.ToString(in.Placement.HostId); h != "" {
						if !slices.Contains(seen, h) {
							seen = append(seen, h)
							servers[ten]++
						}
					} else {
						servers[ten]++
					}
				}
			}
			for _, ten := range []string{"default", "dedicated", "host"} {
				if c.InstancesByTenancy[ten] != instances[ten] || c.HostsByTenancy[ten] != servers[ten] {
					t.Errorf("%s: %s tenancy: dashboard %d instances on %d hosts, EC2 says %d on %d", c.Name, ten, c.InstancesByTenancy[ten], c.HostsByTenancy[ten], instances[ten], servers[ten])
				}
			}
		}
		os := dash.byName(t, "Server OS")
		if os.Consumed != 80 || *os.LicenseCount != 32 || *os.Remaining != 0 || !os.OverLimit || os.Enforced ||
			os.HostsByTenancy["host"] != 3 || os.InstancesByTenancy["host"] != 5 || os.ResourcesByType["EC2_AMI"] != 1 {
			t.Errorf("Server OS = %+v", os)
		}
		if os.Alerts.Last30Days != 3 || os.Alerts.Latest == nil || os.Alerts.Latest.AlertId != alerts.Alerts[0].AlertId {
			t.Errorf("Server OS alerts = %+v, want 3 and the newest", os.Alerts)
		}
		agent := dash.byName(t, "Agent")
		if agent.Consumed != 3 || agent.LicenseCount != nil || agent.Remaining != nil || agent.OverLimit ||
			agent.InstancesByTenancy["default"] != 2 || agent.InstancesByTenancy["dedicated"] != 1 || agent.Alerts.Last30Days != 0 {
			t.Errorf("Agent = %+v", agent)
		}
		var over extDashboard
		extOK(t, s, root, "GetLicenseDashboard", map[string]any{"Filters": []map[string]any{{"Name": "usagelimitExceeded", "Values": []string{"true"}}}}, &over)
		if len(over.Configurations) != 1 || over.Configurations[0].Name != "Server OS" {
			t.Errorf("usagelimitExceeded=true: %+v", over)
		}
	})

	endpoint := []string{"--endpoint-url", s.url, "--region", region}
	t.Run("allot dashboard", func(t *testing.T) {
		out, stderr, code := allotAs(t, root, append([]string{"dashboard"}, endpoint...)...)
		if code != 0 {
			t.Fatalf("allot dashboard: exit %d\n%s", code, stderr)
		}
		osLine, agentLine := lineWith(out, "Server OS"), lineWith(out, "Agent")
		for _, want := range []string{"!", "Core", "██████████ 80/32 cores", "soft", "0/0/3", "3 (latest SOFT_LIMIT_EXCEEDED)"} {
			if !strings.Contains(osLine, want) {
				t.Errorf("Server OS row lacks %q:\n%s", want, out)
			}
		}
		for _, want := range []string{"Instance", "3 instances (no count)", "2/1/0"} {
			if !strings.Contains(agentLine, want) {
				t.Errorf("Agent row lacks %q:\n%s", want, out)
			}
		}
		if strings.HasPrefix(agentLine, "!") || !strings.Contains(out, "1 configuration(s) consume more than their license count") {
			t.Errorf("only Server OS is over its count:\n%s", out)
		}
		if strings.Contains(out, "\x1b[") {
			t.Errorf("escape sequences written to a pipe:\n%q", out)
		}

		out, stderr, code = allotAs(t, root, append([]string{"dashboard", "--output", "json"}, endpoint...)...)
		var got extDashboard
		if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
			t.Fatalf("allot dashboard --output json: exit %d, %v\n%s\n%s", code, err, out, stderr)
		}
		if g := got.byName(t, "Server OS"); g.Consumed != 80 || !g.OverLimit || g.HostsByTenancy["host"] != 3 || g.Alerts.Last30Days != 3 {
			t.Errorf("json Server OS = %+v", g)
		}

		// A half-full bar from a configuration of its own.
		half, err := lmc.CreateLicenseConfiguration(ctx, &lm.CreateLicenseConfigurationInput{Name: aws.String("Half"),
			LicenseCountingType: lmtypes.LicenseCountingTypeInstance, LicenseCount: aws.Int64(4), LicenseCountHardLimit: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: agentImage.ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
				LicenseSpecifications: []ec2types.LicenseConfigurationRequest{{LicenseConfigurationArn: half.LicenseConfigurationArn}}}); err != nil {
				t.Fatal(err)
			}
		}
		out, stderr, code = allotAs(t, root, append([]string{"dashboard", "--configuration", aws.ToString(half.LicenseConfigurationArn)}, endpoint...)...)
		if line := lineWith(out, "Half"); code != 0 || !strings.Contains(line, "█████░░░░░ 2/4 instances") || !strings.Contains(line, "hard") ||
			strings.Contains(out, "Server OS") {
			t.Errorf("allot dashboard --configuration: exit %d\n%s\n%s", code, out, stderr)
		}
	})

	t.Run("allot dashboard --watch", func(t *testing.T) {
		cmd := exec.Command(allotBin, append([]string{"dashboard", "--watch", "100ms"}, endpoint...)...)
		cmd.Env = append(cleanAWSEnv(), "AWS_ACCESS_KEY_ID="+rootKeyID, "AWS_SECRET_ACCESS_KEY="+rootSecret,
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		var out syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		for deadline := time.Now().Add(30 * time.Second); strings.Count(out.String(), "License configurations in") < 2; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) { // a bound, not an expectation
				cmd.Process.Kill()
				t.Fatalf("no second redraw:\n%s", out.String())
			}
		}
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("allot dashboard --watch after SIGINT: %v\n%s", err, out.String())
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatal("allot dashboard --watch did not stop on SIGINT")
		}
		if strings.Contains(out.String(), "\x1b[") || strings.Count(out.String(), "██████████ 80/32 cores") < 2 {
			t.Errorf("--watch to a pipe: want plain redraws without escapes:\n%q", out.String())
		}
	})

	t.Run("allot alerts list", func(t *testing.T) {
		out, stderr, code := allotAs(t, root, append([]string{"alerts", "list"}, endpoint...)...)
		if code != 0 {
			t.Fatalf("allot alerts list: exit %d\n%s", code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[0], "TIME") {
			t.Fatalf("want a header and 3 alerts:\n%s", out)
		}
		for i, want := range [][]string{{"SOFT_LIMIT_EXCEEDED", "80/32", "DELIVERED"}, {"64/32", "PENDING"}, {"48/32", "NO_DESTINATION"}} {
			for _, w := range want {
				if !strings.Contains(lines[i+1], w) {
					t.Errorf("alert line %d lacks %q:\n%s", i+1, w, out)
				}
			}
		}
		out, stderr, code = allotAs(t, root, append([]string{"alerts", "list", "--output", "json", "--kind", "SOFT_LIMIT_EXCEEDED",
			"--configuration", osARN, "--max-items", "2"}, endpoint...)...)
		var got extAlerts
		if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
			t.Fatalf("allot alerts list --output json: exit %d, %v\n%s\n%s", code, err, out, stderr)
		}
		if len(got.Alerts) != 2 || got.NextToken == nil || got.Alerts[0].Delivery.Status != "DELIVERED" || got.Alerts[1].Delivery.Status != "PENDING" {
			t.Errorf("json alerts = %+v", got)
		}
		_, stderr, code = allotAs(t, root, append([]string{"alerts", "list", "--kind", "soft"}, endpoint...)...)
		if code != 1 || !strings.Contains(stderr, "InvalidParameterValueException") {
			t.Errorf("--kind soft: exit %d, %s; want 1 with InvalidParameterValueException", code, stderr)
		}
	})

	t.Run("help", func(t *testing.T) {
		for _, c := range []struct{ args, want []string }{
			{[]string{"dashboard", "--help"}, []string{"GetLicenseDashboard", "--endpoint-url", "--watch", "--output", "Exit status"}},
			{[]string{"alerts", "--help"}, []string{"list", "SOFT_LIMIT_EXCEEDED"}},
			{[]string{"alerts", "list", "--help"}, []string{"ListLicenseConfigurationAlerts", "--configuration", "--kind", "NO_DESTINATION"}},
		} {
			out, stderr, code := allotAs(t, root, c.args...)
			if code != 0 || !strings.Contains(out, "Usage:") {
				t.Errorf("allot %s: exit %d\n%s\n%s", strings.Join(c.args, " "), code, out, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("allot %s lacks %q:\n%s", strings.Join(c.args, " "), w, out)
				}
			}
		}
		if _, stderr, code := allotAs(t, root, "dashboard", "--output", "yaml"); code != 2 || !strings.Contains(stderr, "--output") {
			t.Errorf("--output yaml: exit %d, %s; want 2", code, stderr)
		}
	})

	t.Run("audited", func(t *testing.T) {
		ev, err := cloudtrail.NewFromConfig(cfg).LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
			{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("GetLicenseDashboard")}}})
		if err != nil || len(ev.Events) == 0 || aws.ToString(ev.Events[0].EventSource) != "license-manager.amazonaws.com" {
			t.Errorf("LookupEvents(GetLicenseDashboard) = %+v, %v", ev, err)
		}
	})

	t.Run("AccessDenied", func(t *testing.T) {
		admin := rootIAM(s)
		if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("viewer")}); err != nil {
			t.Fatal(err)
		}
		key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("viewer")})
		if err != nil {
			t.Fatal(err)
		}
		viewer := creds{keyID: aws.ToString(key.AccessKey.AccessKeyId), secret: aws.ToString(key.AccessKey.SecretAccessKey)}
		for op, action := range map[string]string{"GetLicenseDashboard": "license-manager:GetLicenseDashboard", "ListLicenseConfigurationAlerts": "license-manager:ListLicenseConfigurationAlerts"} {
			status, code, body := extCall(t, s, viewer, op, []byte(`{}`))
			if status != http.StatusBadRequest || code != "AccessDeniedException" || !bytes.Contains(body, []byte(action)) {
				t.Errorf("%s without permission: HTTP %d %s %s; want 400 AccessDeniedException naming %s", op, status, code, body, action)
			}
		}
		if _, stderr, code := allotAs(t, viewer, append([]string{"dashboard"}, endpoint...)...); code != 1 || !strings.Contains(stderr, "AccessDeniedException") {
			t.Errorf("allot dashboard without permission: exit %d, %s", code, stderr)
		}
		// Alerts of one configuration: a policy may name its ARN; without an ARN the call is on "*".
		if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("viewer"), PolicyName: aws.String("os-alerts"),
			PolicyDocument: aws.String(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["license-manager:ListLicenseConfigurationAlerts"],"Resource":%q},
				{"Effect":"Allow","Action":"license-manager:GetLicenseDashboard","Resource":"*"}]}`, osARN))}); err != nil {
			t.Fatal(err)
		}
		var page extAlerts
		extOK(t, s, viewer, "ListLicenseConfigurationAlerts", map[string]any{"LicenseConfigurationArn": osARN}, &page)
		if len(page.Alerts) != 3 {
			t.Errorf("viewer's alerts of %s: %d, want 3", osARN, len(page.Alerts))
		}
		if status, code, _ := extCall(t, s, viewer, "ListLicenseConfigurationAlerts", []byte(`{"LicenseConfigurationArn":"`+agentARN+`"}`)); code != "AccessDeniedException" {
			t.Errorf("viewer's alerts of the agent configuration: HTTP %d %s, want AccessDeniedException", status, code)
		}
		if _, code, _ := extCall(t, s, viewer, "ListLicenseConfigurationAlerts", []byte(`{}`)); code != "AccessDeniedException" {
			t.Errorf("viewer's alerts of every configuration: %s, want AccessDeniedException", code)
		}
		var d extDashboard
		extOK(t, s, viewer, "GetLicenseDashboard", map[string]any{}, &d)
		if len(d.Configurations) != 3 {
			t.Errorf("viewer's dashboard: %d configurations, want the account's 3", len(d.Configurations))
		}
	})

	t.Run("BadInput", func(t *testing.T) {
		cases := []struct {
			name, op, body string
			status         int
			code           string
		}{
			{"malformed JSON", "GetLicenseDashboard", `{"Filters":`, 400, "SerializationException"},
			{"not an object", "ListLicenseConfigurationAlerts", `[]`, 400, "SerializationException"},
			{"unknown member", "GetLicenseDashboard", `{"Configurations":[]}`, 400, "SerializationException"},
			{"wrong type", "ListLicenseConfigurationAlerts", `{"MaxResults":"5"}`, 400, "SerializationException"},
			{"float for integer", "ListLicenseConfigurationAlerts", `{"MaxResults":2.5}`, 400, "SerializationException"},
			{"string for time", "ListLicenseConfigurationAlerts", `{"StartTime":"yesterday"}`, 400, "SerializationException"},
			{"unknown kind", "ListLicenseConfigurationAlerts", `{"Kinds":["SOFT"]}`, 400, "InvalidParameterValueException"},
			{"MaxResults out of range", "ListLicenseConfigurationAlerts", `{"MaxResults":1000}`, 400, "InvalidParameterValueException"},
			{"start after end", "ListLicenseConfigurationAlerts", `{"StartTime":1800000000,"EndTime":1700000000}`, 400, "InvalidParameterValueException"},
			{"unknown configuration", "ListLicenseConfigurationAlerts", `{"LicenseConfigurationArn":"arn:aws:license-manager:us-east-1:123456789012:license-configuration:lic-00000000000000000000000000000000"}`, 400, "InvalidParameterValueException"},
			{"bad NextToken", "ListLicenseConfigurationAlerts", `{"NextToken":"x"}`, 400, "InvalidParameterValueException"},
			{"malformed ARN", "GetLicenseDashboard", `{"LicenseConfigurationArns":["lic-1"]}`, 400, "InvalidParameterValueException"},
			{"too many filters", "GetLicenseDashboard", `{"Filters":[` + strings.Repeat(`{"Name":"enforceLicenseCount","Values":["true"]},`, 10) + `{"Name":"enforceLicenseCount","Values":["true"]}]}`, 400, "FilterLimitExceededException"},
			{"unknown operation", "GetLicenseDashboards", `{}`, 400, "UnknownOperationException"},
		}
		for _, c := range cases {
			status, code, body := extCall(t, s, root, c.op, []byte(c.body))
			if status != c.status || code != c.code {
				t.Errorf("%s: HTTP %d %s %s; want %d %s", c.name, status, code, body, c.status, c.code)
			}
		}
		// Signed for another service: the scope must be license-manager's.
		if status, code, _ := extSigned(t, s, root, "ec2", "AllotLicenseManager.GetLicenseDashboard", []byte(`{}`)); status != http.StatusForbidden || code != "InvalidSignatureException" {
			t.Errorf("signed for ec2: HTTP %d %s, want 403 InvalidSignatureException", status, code)
		}
		// The AWS operation names stay AWS's: the AWS prefix does not serve the extensions.
		if _, code, _ := extSigned(t, s, root, "license-manager", "AWSLicenseManager.GetLicenseDashboard", []byte(`{}`)); code != "UnknownOperationException" {
			t.Errorf("AWSLicenseManager.GetLicenseDashboard: %s, want UnknownOperationException", code)
		}
	})
}

// lineWith returns the first line of out containing s.
func lineWith(out, s string) string {
	for line := range strings.SplitSeq(out, "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}
