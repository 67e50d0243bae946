package test

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// benchReport is the part of `allot bench --output json` the smoke test reads.
type benchReport struct {
	Principal string `json:"principal"`
	Scenarios []struct {
		Name      string  `json:"name"`
		Ops       int64   `json:"ops"`
		OpsPerSec float64 `json:"ops_per_sec"`
		// RawLatency is the latency summary: p50_ms, p90_ms, p99_ms, max_ms, ….
		RawLatency map[string]float64 `json:"latency"`
		Errors     map[string]int64   `json:"errors"`
		Checks     []struct {
			Name   string `json:"name"`
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		} `json:"checks"`
		Ratios map[string]float64 `json:"ratios"`
	} `json:"scenarios"`
	Baselines struct {
		IdentityOpsPerSec float64 `json:"identity_ops_per_sec"`
		StoreWritesPerSec float64 `json:"store_writes_per_sec"`
		SignsPerSec       float64 `json:"signs_per_sec"`
	} `json:"baselines"`
	Violations []string `json:"violations"`
}

// TestBench_Smoke runs `allot bench` for a couple of seconds per scenario against a fresh
// server and checks that its invariant checks pass and its report is sane. It measures no
// speed: it checks the load generator itself, as CI runs it.
func TestBench_Smoke(t *testing.T) {
	s := startServer(t, serverOptions{args: []string{"--access-log=false"}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Fewer seats than clients: refusals happen, and the limit checks have something to check.
	cmd := exec.CommandContext(ctx, allotBin, "bench", "--endpoint", s.url, "--clients", "8", "--max-count", "6",
		"--duration", "1500ms", "--warmup", "200ms", "--licenses", "4", "--retry-every", "5",
		"--ceiling-duration", "300ms", "--ceiling-dir", t.TempDir(), "--output", "json", "--quiet",
		"--scenario", "identity,checkout,spread,extend,launches")
	cmd.Env = append(cleanAWSEnv(), "AWS_ACCESS_KEY_ID="+rootKeyID, "AWS_SECRET_ACCESS_KEY="+rootSecret)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("allot bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	var rep benchReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("allot bench --output json: %v\n%s", err, stdout.String())
	}
	if len(rep.Violations) != 0 {
		t.Errorf("violations: %q", rep.Violations)
	}
	if !strings.Contains(rep.Principal, ":assumed-role/allot-bench-") {
		t.Errorf("principal = %q, want a session of the role the bench made", rep.Principal)
	}
	want := map[string]bool{"identity": true, "checkout": true, "spread": true, "extend": true, "launches": true}
	for _, sc := range rep.Scenarios {
		delete(want, sc.Name)
		l := sc.RawLatency
		if sc.Ops <= 0 || sc.OpsPerSec <= 0 {
			t.Errorf("%s: %d ops (%.0f/s), want some", sc.Name, sc.Ops, sc.OpsPerSec)
		}
		if !(l["p50_ms"] > 0 && l["p50_ms"] <= l["p90_ms"] && l["p90_ms"] <= l["p99_ms"] && l["p99_ms"] <= l["max_ms"]) {
			t.Errorf("%s: latency %v, want 0 < p50 <= p90 <= p99 <= max", sc.Name, l)
		}
		for code, n := range sc.Errors {
			// Only the hot license and the launches' configuration, with fewer seats than
			// clients, may refuse.
			if !(sc.Name == "checkout" && code == "CheckoutLicense: NoEntitlementsAllowedException" ||
				sc.Name == "launches" && code == "RunInstances: LicenseUsageException") {
				t.Errorf("%s: %d errors %s", sc.Name, n, code)
			}
		}
		checks := map[string]bool{}
		for _, c := range sc.Checks {
			checks[c.Name] = true
			if !c.OK {
				t.Errorf("%s: check %q failed: %s", sc.Name, c.Name, c.Detail)
			}
		}
		wantChecks := []string{"no server errors"}
		switch sc.Name {
		case "identity":
		case "launches":
			wantChecks = append(wantChecks, "consumed equals the sum of the usage rows", "consumed equals the instances clients run",
				"never over the limit", "every termination returned its license")
		default:
			wantChecks = append(wantChecks, "usage equals the checkouts clients hold", "never over MaxCount", "every check-in returned its units")
		}
		for _, c := range wantChecks {
			if !checks[c] {
				t.Errorf("%s: no %q check in %v", sc.Name, c, sc.Checks)
			}
		}
		if sc.Name != "identity" && sc.Ratios["identity"] <= 0 {
			t.Errorf("%s: ratios %v, want one to identity", sc.Name, sc.Ratios)
		}
	}
	if len(want) != 0 {
		t.Errorf("scenarios missing from the report: %v", want)
	}
	if b := rep.Baselines; b.IdentityOpsPerSec <= 0 || b.StoreWritesPerSec <= 0 || b.SignsPerSec <= 0 {
		t.Errorf("baselines = %+v, want all measured", b)
	}

	out, err := exec.CommandContext(ctx, allotBin, "bench", "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--scenario") || !strings.Contains(string(out), "Exit status") {
		t.Errorf("allot bench --help: %v\n%s", err, out)
	}
}
