package test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/allot-dev/allot/internal/agent"
)

// agentPolicy lets an agent report any managed instance of the account, and nothing else:
// the policy docs/inventory.md gives.
const agentPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:PutInventory",
  "Resource":"arn:aws:ssm:us-east-1:123456789012:managed-instance/*"}]}`

// agentReport is what `allot agent report --once --output json` prints.
type agentReport struct {
	InstanceID string
	Endpoint   string
	Facts      struct {
		ComputerName string
		IPAddress    string
		Platform     struct{ Name, Type, Version string }
		CPU          struct{ Logical, Cores, Sockets int }
		Applications []struct{ Name, Version, Architecture string }
	}
	Items []struct {
		TypeName    string
		ContentHash string
		Entries     int
		HashOnly    bool
	}
}

// agentUser creates an IAM user with the given inline policy ("" for none) and returns its
// keys.
func agentUser(t *testing.T, s *server, name, policy string) creds {
	t.Helper()
	ctx := context.Background()
	c := rootIAM(s)
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if policy != "" {
		if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("agent"), PolicyDocument: aws.String(policy)}); err != nil {
			t.Fatalf("PutUserPolicy: %v", err)
		}
	}
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateAccessKey: %v", err)
	}
	return creds{keyID: aws.ToString(k.AccessKey.AccessKeyId), secret: aws.ToString(k.AccessKey.SecretAccessKey)}
}

// agentCmd returns an `allot agent` command against the server with c's credentials, the
// way a machine runs it: keys in the environment, no AWS configuration files.
func agentCmd(ctx context.Context, s *server, c creds, stateDir string, args ...string) *exec.Cmd {
	args = append(append([]string{"agent"}, args...), "--endpoint-url", s.url, "--region", region, "--state-dir", stateDir)
	cmd := exec.CommandContext(ctx, allotBin, args...)
	cmd.Env = append(cleanAWSEnv(), "AWS_ACCESS_KEY_ID="+c.keyID, "AWS_SECRET_ACCESS_KEY="+c.secret,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	return cmd
}

// agentReportOnce runs `allot agent report --once` and returns its output, stderr and exit code.
func agentReportOnce(t *testing.T, s *server, c creds, stateDir string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := agentCmd(ctx, s, c, stateDir, append([]string{"report", "--once"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	case err != nil:
		t.Fatalf("allot agent report: %v", err)
	}
	return out.String(), errb.String(), 0
}

// installedPackage returns a package dpkg-query says is installed here, and its version; the
// test is skipped when this machine has no dpkg.
func installedPackage(t *testing.T) (string, string) {
	t.Helper()
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("dpkg is not installed on this machine: the test reports its real packages and needs one dpkg says is installed")
	}
	out, err := exec.Command("dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Package} ${Version}\n").Output()
	if err != nil {
		t.Fatalf("dpkg-query: %v", err)
	}
	var name, version string
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "ii" && (name == "" || f[1] == "dpkg") {
			name, version = f[1], f[2]
		}
	}
	if name == "" {
		t.Fatal("dpkg-query lists no installed package")
	}
	return name, version
}

// processors counts /proc/cpuinfo's processors: what a vCPU license counts on this machine.
func processors(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skipf("no /proc/cpuinfo (%s): the agent's CPU facts are Linux's", runtime.GOOS)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if k, _, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "processor" {
			n++
		}
	}
	return n
}

// discoveryConfiguration creates a configuration counting counting that automated discovery
// associates with machines that have app installed.
func discoveryConfiguration(t *testing.T, c *lm.Client, name, app string, counting lmtypes.LicenseCountingType, count int64, hard bool) string {
	t.Helper()
	in := &lm.CreateLicenseConfigurationInput{Name: aws.String(name), LicenseCountingType: counting,
		ProductInformationList: []lmtypes.ProductInformation{{ResourceType: aws.String("SSM_MANAGED"),
			ProductInformationFilterList: []lmtypes.ProductInformationFilter{{ProductInformationFilterName: aws.String("Application Name"),
				ProductInformationFilterValue: []string{app}, ProductInformationFilterComparator: aws.String("EQUALS")}}}}}
	if count > 0 {
		in.LicenseCount, in.LicenseCountHardLimit = aws.Int64(count), aws.Bool(hard)
	}
	out, err := c.CreateLicenseConfiguration(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateLicenseConfiguration: %v", err)
	}
	return aws.ToString(out.LicenseConfigurationArn)
}

// TestAgent_ReportsThisMachine is the agent's done-when: `allot agent report --once`, run on
// this machine with the keys of a user allowed only ssm:PutInventory, registers it with its
// real CPU count and installed packages, and the automated-discovery rule of a configuration
// made before, on a package installed here, associates it. On SQLite and PostgreSQL.
func TestAgent_ReportsThisMachine(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { agentReportsThisMachine(t, startServer(t, serverOptions{})) })
	t.Run("PostgreSQL", func(t *testing.T) {
		agentReportsThisMachine(t, startServer(t, serverOptions{database: postgresDatabase(t)}))
	})
}

func agentReportsThisMachine(t *testing.T, s *server) {
	ctx := context.Background()
	pkg, version := installedPackage(t)
	cpus := processors(t)
	hostname, _ := os.Hostname()
	admin := s.awsConfig(rootKeyID, rootSecret)
	lmc, sc := lm.NewFromConfig(admin), ssm.NewFromConfig(admin)
	byCore := discoveryConfiguration(t, lmc, "Installed here, by core", pkg, lmtypes.LicenseCountingTypeCore, 0, false)
	byVCPU := discoveryConfiguration(t, lmc, "Installed here, by vCPU", pkg, lmtypes.LicenseCountingTypeVcpu, 0, false)
	elsewhere := discoveryConfiguration(t, lmc, "Not installed here", "no-such-package-"+pkg, lmtypes.LicenseCountingTypeInstance, 0, false)
	agent := agentUser(t, s, "inventory-agent", agentPolicy)
	state := t.TempDir()

	stdout, stderr, code := agentReportOnce(t, s, agent, state, "--output", "json")
	if code != 0 {
		t.Fatalf("allot agent report --once: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var r agentReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("report output %q: %v", stdout, err)
	}
	id := r.InstanceID
	saved, err := os.ReadFile(filepath.Join(state, "instance-id"))
	if err != nil || strings.TrimSpace(string(saved)) != id || !strings.HasPrefix(id, "mi-") || len(id) != 20 {
		t.Fatalf("instance ID %q, state file %q (%v): want one mi- ID kept in the state directory", id, saved, err)
	}
	if r.Facts.CPU.Logical != cpus {
		t.Errorf("the agent found %d CPUs, /proc/cpuinfo lists %d", r.Facts.CPU.Logical, cpus)
	}
	if len(r.Items) != 4 {
		t.Errorf("report sent %+v, want four items", r.Items)
	}

	// SSM: the machine is registered, online, with its real facts.
	desc, err := sc.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{
		Filters: []ssmtypes.InstanceInformationStringFilter{{Key: aws.String("InstanceIds"), Values: []string{id}}}})
	if err != nil || len(desc.InstanceInformationList) != 1 {
		t.Fatalf("DescribeInstanceInformation(%s) = %+v, %v", id, desc, err)
	}
	info := desc.InstanceInformationList[0]
	if info.PingStatus != ssmtypes.PingStatusOnline || info.PlatformType != ssmtypes.PlatformTypeLinux || aws.ToString(info.ComputerName) != hostname ||
		aws.ToString(info.PlatformName) != r.Facts.Platform.Name || aws.ToString(info.PlatformVersion) != r.Facts.Platform.Version ||
		aws.ToString(info.IPAddress) != r.Facts.IPAddress || info.ResourceType != ssmtypes.ResourceTypeManagedInstance {
		t.Errorf("DescribeInstanceInformation: %+v; want online, Linux, %s, %s %s", info, hostname, r.Facts.Platform.Name, r.Facts.Platform.Version)
	}
	detail, err := sc.ListInventoryEntries(ctx, &ssm.ListInventoryEntriesInput{InstanceId: aws.String(id), TypeName: aws.String("AWS:InstanceDetailedInformation")})
	if err != nil || len(detail.Entries) != 1 {
		t.Fatalf("ListInventoryEntries(AWS:InstanceDetailedInformation) = %+v, %v", detail, err)
	}
	if got := detail.Entries[0]["CPUs"]; got != strconv.Itoa(cpus) {
		t.Errorf("registered with %s CPUs, this machine has %d", got, cpus)
	}
	if got := detail.Entries[0]["CPUCores"]; got != strconv.Itoa(r.Facts.CPU.Cores) {
		t.Errorf("registered with %s cores, the agent found %d", got, r.Facts.CPU.Cores)
	}
	apps, err := sc.ListInventoryEntries(ctx, &ssm.ListInventoryEntriesInput{InstanceId: aws.String(id), TypeName: aws.String("AWS:Application"),
		Filters: []ssmtypes.InventoryFilter{{Key: aws.String("Name"), Values: []string{pkg}, Type: ssmtypes.InventoryQueryOperatorTypeEqual}}})
	if err != nil || len(apps.Entries) == 0 || apps.Entries[0]["Version"] != version {
		t.Fatalf("ListInventoryEntries(AWS:Application, Name=%s) = %+v, %v; want version %s", pkg, apps, err, version)
	}
	all := 0
	for in := (&ssm.ListInventoryEntriesInput{InstanceId: aws.String(id), TypeName: aws.String("AWS:Application")}); ; {
		page, err := sc.ListInventoryEntries(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		all += len(page.Entries)
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	if all != len(r.Facts.Applications) || all == 0 {
		t.Errorf("%d applications registered, the agent found %d", all, len(r.Facts.Applications))
	}

	// License Manager: the machine is in the inventory, found by the package's name.
	arn := "arn:aws:ssm:" + region + ":" + rootAccount + ":managed-instance/" + id
	inv, err := lmc.ListResourceInventory(ctx, &lm.ListResourceInventoryInput{Filters: []lmtypes.InventoryFilter{
		{Name: aws.String("application_name"), Condition: lmtypes.InventoryFilterConditionEquals, Value: aws.String(pkg)}}})
	if err != nil || len(inv.ResourceInventoryList) != 1 || aws.ToString(inv.ResourceInventoryList[0].ResourceArn) != arn ||
		inv.ResourceInventoryList[0].ResourceType != lmtypes.ResourceTypeSystemsManagerManagedInstance ||
		aws.ToString(inv.ResourceInventoryList[0].Platform) != r.Facts.Platform.Name {
		t.Errorf("ListResourceInventory(application_name=%s) = %+v, %v; want %s", pkg, inv, err, arn)
	}

	// Automated discovery: the configurations on a package installed here have the machine,
	// counted with its real topology; the other has nothing.
	for _, tc := range []struct {
		arn   string
		units int64
	}{{byCore, int64(r.Facts.CPU.Cores)}, {byVCPU, int64(cpus)}, {elsewhere, 0}} {
		assoc, err := lmc.ListAssociationsForLicenseConfiguration(ctx, &lm.ListAssociationsForLicenseConfigurationInput{LicenseConfigurationArn: aws.String(tc.arn)})
		if err != nil {
			t.Fatal(err)
		}
		associated := len(assoc.LicenseConfigurationAssociations) == 1 && aws.ToString(assoc.LicenseConfigurationAssociations[0].ResourceArn) == arn
		if associated != (tc.units > 0) || (tc.units == 0 && len(assoc.LicenseConfigurationAssociations) != 0) {
			t.Errorf("ListAssociationsForLicenseConfiguration(%s) = %+v; want the machine associated: %v", tc.arn, assoc.LicenseConfigurationAssociations, tc.units > 0)
		}
		usage, err := lmc.ListUsageForLicenseConfiguration(ctx, &lm.ListUsageForLicenseConfigurationInput{LicenseConfigurationArn: aws.String(tc.arn)})
		if err != nil {
			t.Fatal(err)
		}
		var consumed int64
		for _, u := range usage.LicenseConfigurationUsageList {
			consumed += aws.ToInt64(u.ConsumedLicenses)
		}
		if consumed != tc.units {
			t.Errorf("ListUsageForLicenseConfiguration(%s): %d units consumed, want %d", tc.arn, consumed, tc.units)
		}
	}

	// A second report is the same machine: same ID, still one instance, nothing counted twice.
	stdout, stderr, code = agentReportOnce(t, s, agent, state)
	if code != 0 || !strings.Contains(stdout, id) || !strings.Contains(stdout, "INSTANCE ID") {
		t.Fatalf("second report: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	desc, err = sc.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{})
	if err != nil || len(desc.InstanceInformationList) != 1 {
		t.Errorf("after a second report: %d instances, %v; want 1", len(desc.InstanceInformationList), err)
	}
	if consumed, sum, n := usageOf(t, lmc, byCore); consumed != int64(r.Facts.CPU.Cores) || sum != consumed || n != 1 {
		t.Errorf("after a second report: %d consumed, %d held by %d resources; want %d by 1", consumed, sum, n, r.Facts.CPU.Cores)
	}
}

// TestAgent_Refusals checks what the user sees when the server refuses a report: the AWS
// error code and message, and exit status 1. The policy scoped to one managed instance
// allows that machine only.
func TestAgent_Refusals(t *testing.T) {
	s := startServer(t, serverOptions{})
	installedPackage(t)

	none := agentUser(t, s, "no-permission", "")
	_, stderr, code := agentReportOnce(t, s, none, t.TempDir())
	if code != 1 || !strings.Contains(stderr, "AccessDeniedException") || !strings.Contains(stderr, "ssm:PutInventory") {
		t.Errorf("report without permission: exit %d, stderr %q; want 1 and AccessDeniedException naming ssm:PutInventory", code, stderr)
	}

	// A machine's own key, allowed its own managed instance only.
	state := t.TempDir()
	id := "mi-0a1b2c3d4e5f60718"
	if err := os.WriteFile(filepath.Join(state, "instance-id"), []byte(id+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	own := agentUser(t, s, "machine-1", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:PutInventory",
  "Resource":"arn:aws:ssm:us-east-1:123456789012:managed-instance/`+id+`"}]}`)
	if stdout, stderr, code := agentReportOnce(t, s, own, state); code != 0 || !strings.Contains(stdout, id) {
		t.Errorf("report of its own instance: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, stderr, code := agentReportOnce(t, s, own, t.TempDir()); code != 1 || !strings.Contains(stderr, "AccessDeniedException") {
		t.Errorf("report as another instance: exit %d, stderr %q; want AccessDeniedException", code, stderr)
	}

	// Usage errors need no server.
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"report", "--once=false"}, `use "allot agent run"`},
		{[]string{"report", "--once", "--output", "yaml"}, "want table or json"},
		{[]string{"run", "--interval", "0s"}, "--interval"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := agentCmd(ctx, s, own, t.TempDir(), tc.args...)
		out, err := cmd.CombinedOutput()
		cancel()
		if err == nil || !strings.Contains(string(out), tc.msg) {
			t.Errorf("allot agent %s: %v, %q; want an error saying %q", strings.Join(tc.args, " "), err, out, tc.msg)
		}
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "instance-id"), []byte("not-an-id\n"), 0o644)
	if _, stderr, code := agentReportOnce(t, s, own, bad); code != 1 || !strings.Contains(stderr, "not a managed-instance ID") {
		t.Errorf("report with a corrupt state file: exit %d, stderr %q", code, stderr)
	}
}

// TestAgent_Run runs `allot agent run` as a service would: it registers the machine at once,
// sends heartbeats by hash, and stops cleanly on SIGTERM.
func TestAgent_Run(t *testing.T) {
	s := startServer(t, serverOptions{})
	installedPackage(t)
	agent := agentUser(t, s, "inventory-agent", agentPolicy)
	state := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := agentCmd(ctx, s, agent, state, "run", "--interval", "1h", "--heartbeat", "1s", "--log-format", "json")
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	// Wait (up to a minute) for a full report and then a heartbeat that sent everything by hash.
	var full, beat bool
	for deadline := time.Now().Add(time.Minute); !(full && beat); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no report and heartbeat within a minute; logs:\n%s", logs.String())
		}
		for line := range strings.Lines(logs.String()) {
			var l struct {
				Msg       string
				Heartbeat bool     `json:"heartbeat"`
				ByHash    []string `json:"sent_by_hash"`
			}
			if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "reported" {
				continue
			}
			full = full || !l.Heartbeat
			beat = beat || l.Heartbeat && len(l.ByHash) == 4
		}
	}
	id, err := os.ReadFile(filepath.Join(state, "instance-id"))
	if err != nil {
		t.Fatal(err)
	}
	desc, err := ssm.NewFromConfig(s.awsConfig(rootKeyID, rootSecret)).DescribeInstanceInformation(context.Background(), &ssm.DescribeInstanceInformationInput{})
	if err != nil || len(desc.InstanceInformationList) != 1 || aws.ToString(desc.InstanceInformationList[0].InstanceId) != strings.TrimSpace(string(id)) {
		t.Errorf("DescribeInstanceInformation = %+v, %v; want the machine %s", desc, err, id)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("allot agent run after SIGTERM: %v; want exit 0\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("allot agent run did not stop within 30s of SIGTERM")
	}
	if !strings.Contains(logs.String(), `"msg":"agent stopped"`) {
		t.Errorf("no \"agent stopped\" log line:\n%s", logs.String())
	}
}

// TestAgent_ConcurrentMachinesHardLimit reports several machines at once (each agent with a
// state directory of its own is a machine of its own, with this machine's facts) to a
// hard-limited configuration that discovery fills: the invariant holds afterwards, units
// consumed never above the limit and equal to what the associated machines hold.
func TestAgent_ConcurrentMachinesHardLimit(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { agentConcurrentMachines(t, startServer(t, serverOptions{})) })
	t.Run("PostgreSQL", func(t *testing.T) {
		agentConcurrentMachines(t, startServer(t, serverOptions{database: postgresDatabase(t)}))
	})
}

func agentConcurrentMachines(t *testing.T, s *server) {
	pkg, _ := installedPackage(t)
	cpus := processors(t)
	const machines, room = 8, 3 // the configuration holds three machines' vCPUs
	lmc := lm.NewFromConfig(s.awsConfig(rootKeyID, rootSecret))
	arn := discoveryConfiguration(t, lmc, "Three machines", pkg, lmtypes.LicenseCountingTypeVcpu, int64(room*cpus), true)
	agent := agentUser(t, s, "inventory-agent", agentPolicy)

	var wg sync.WaitGroup
	errs := make(chan string, machines)
	for i := range machines {
		wg.Go(func() {
			if stdout, stderr, code := agentReportOnce(t, s, agent, t.TempDir()); code != 0 {
				errs <- fmt.Sprintf("machine %d: exit %d\n%s\n%s", i, code, stdout, stderr)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e) // a machine over the limit is not associated, but its report is accepted
	}
	consumed, sum, n := usageOf(t, lmc, arn)
	if consumed > int64(room*cpus) || consumed != sum || n != room || consumed != int64(room*cpus) {
		t.Errorf("%d machines reported at once: %d vCPUs consumed (%d held by %d machines); want %d by %d, never more than the hard limit",
			machines, consumed, sum, n, room*cpus, room)
	}
	desc, err := ssm.NewFromConfig(s.awsConfig(rootKeyID, rootSecret)).DescribeInstanceInformation(context.Background(), &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(50)})
	if err != nil || len(desc.InstanceInformationList) != machines {
		t.Errorf("DescribeInstanceInformation: %d machines, %v; want %d registered (over the limit or not)", len(desc.InstanceInformationList), err, machines)
	}
}

// TestAgent_ThreeThousandPackages reports a machine with 3,000 installed packages (a build
// server's dpkg database, in a fixture tree the agent's collector reads as the machine's
// files) with the agent's own client to a server on SQLite and PostgreSQL: the report is
// accepted with every package, each with what discovery matches, and discovery finds one.
func TestAgent_ThreeThousandPackages(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { agentThreeThousandPackages(t, startServer(t, serverOptions{})) })
	t.Run("PostgreSQL", func(t *testing.T) {
		agentThreeThousandPackages(t, startServer(t, serverOptions{database: postgresDatabase(t)}))
	})
}

func agentThreeThousandPackages(t *testing.T, s *server) {
	const packages = 3000
	ctx := context.Background()
	root := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/os-release", "NAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nID=ubuntu\nPRETTY_NAME=\"Ubuntu 24.04 LTS\"\n")
	write("proc/cpuinfo", "processor\t: 0\nmodel name\t: Example CPU\n\nprocessor\t: 1\nmodel name\t: Example CPU\n\n")
	var status strings.Builder
	for i := range packages {
		fmt.Fprintf(&status, "Package: lib%s-package-%04d\nStatus: install ok installed\nPriority: optional\nSection: libs\n"+
			"Maintainer: Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>\nArchitecture: amd64\nVersion: 2.%d.1-1ubuntu3.24.04.1\n"+
			"Homepage: https://example.org/projects/package-%04d\nDescription: shared library for the example project, number %d of many\n"+
			" A longer description that the agent does not send.\n\n", strings.Repeat("x", i%7), i, i%40, i, i)
	}
	write("var/lib/dpkg/status", status.String())
	want := fmt.Sprintf("lib%s-package-%04d", strings.Repeat("x", 2999%7), 2999)

	lmc := lm.NewFromConfig(s.awsConfig(rootKeyID, rootSecret))
	arn := discoveryConfiguration(t, lmc, "The last package", want, lmtypes.LicenseCountingTypeInstance, 0, false)
	keys := agentUser(t, s, "inventory-agent", agentPolicy)
	client, err := agent.NewClient(s.url, region, credentials.NewStaticCredentialsProvider(keys.keyID, keys.secret, ""))
	if err != nil {
		t.Fatal(err)
	}
	id := "mi-0000000000003000a"
	a := &agent.Agent{Collector: &agent.Collector{Root: root}, Client: client, InstanceID: id}
	rep, err := a.Report(ctx)
	if err != nil {
		t.Fatalf("a report of %d packages: %v", packages, err)
	}
	if n := len(rep.Facts.Applications); n != packages {
		t.Fatalf("the agent read %d packages from the fixture, want %d", n, packages)
	}

	sc := ssm.NewFromConfig(s.awsConfig(rootKeyID, rootSecret))
	got := 0
	in := &ssm.ListInventoryEntriesInput{InstanceId: aws.String(id), TypeName: aws.String("AWS:Application"), MaxResults: aws.Int32(50)}
	for {
		page, err := sc.ListInventoryEntries(ctx, in)
		if err != nil {
			t.Fatalf("ListInventoryEntries: %v", err)
		}
		for _, e := range page.Entries {
			if e["Name"] == "" || e["Version"] == "" || e["Publisher"] == "" || e["Architecture"] != "x86_64" {
				t.Fatalf("entry %d lacks what discovery matches: %v", got, e)
			}
			got++
		}
		if page.NextToken == nil {
			break
		}
		in.NextToken = page.NextToken
	}
	if got != packages {
		t.Errorf("ListInventoryEntries lists %d applications, want %d", got, packages)
	}
	if consumed, _, n := usageOf(t, lmc, arn); consumed != 1 || n != 1 {
		t.Errorf("discovery of %s among %d packages: %d consumed by %d resources; want 1 by the machine", want, packages, consumed, n)
	}
}
