package test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	_ "modernc.org/sqlite" // reads the soft-limit alerts the server recorded
)

// osCLI drives seed 001's license administrator with the AWS CLI v2.
type osCLI struct {
	t   *testing.T
	s   *server
	bin string
}

func newOSCLI(t *testing.T, o serverOptions) *osCLI {
	return &osCLI{t: t, s: startServer(t, o), bin: requireTool(t, "AWS CLI v2", awsCLIs(t)["v2"])}
}

// ok runs a command that must succeed and decodes its JSON output into out (nil: ignored).
func (c *osCLI) ok(out any, args ...string) {
	c.t.Helper()
	mustCLI(c.t, c.s, c.bin, creds{keyID: rootKeyID, secret: rootSecret}, out, args...)
}

// text runs a command that must succeed with --output text and returns its trimmed output.
func (c *osCLI) text(args ...string) string {
	c.t.Helper()
	stdout, stderr, code := c.s.cli(c.t, c.bin, rootKeyID, rootSecret, append(args, "--output", "text")...)
	if code != 0 {
		c.t.Fatalf("aws %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	return strings.TrimSpace(stdout)
}

// refused runs a command that must fail with the error code, its message containing msg.
func (c *osCLI) refused(code, msg string, args ...string) {
	c.t.Helper()
	_, stderr, exit := c.s.cli(c.t, c.bin, rootKeyID, rootSecret, args...)
	if exit == 0 || !strings.Contains(stderr, "("+code+")") || !strings.Contains(stderr, msg) {
		c.t.Fatalf("aws %s: exit %d, stderr %q; want %s containing %q", strings.Join(args, " "), exit, stderr, code, msg)
	}
}

// launch runs one instance of typ from image, on host (none: default tenancy), and returns
// its ID.
func (c *osCLI) launch(image, typ, host string) string {
	c.t.Helper()
	args := []string{"ec2", "run-instances", "--image-id", image, "--instance-type", typ, "--count", "1", "--query", "Instances[0].InstanceId"}
	if host != "" {
		args = append(args, "--placement", "Tenancy=host,HostId="+host)
	}
	return c.text(args...)
}

func (c *osCLI) launchArgs(image, typ, host string) []string {
	args := []string{"ec2", "run-instances", "--image-id", image, "--instance-type", typ, "--count", "1"}
	if host != "" {
		args = append(args, "--placement", "Tenancy=host,HostId="+host)
	}
	return args
}

// setUp makes seed 001's operating-system license configuration (hard or soft limit of
// count cores), an image it is associated with, and three m5 Dedicated Hosts. It returns the
// configuration ARN, the image ID and the host IDs.
func (c *osCLI) setUp(count string, hard bool) (string, string, []string) {
	c.t.Helper()
	limit := "--license-count-hard-limit"
	if !hard {
		limit = "--no-license-count-hard-limit"
	}
	arn := c.text("license-manager", "create-license-configuration", "--name", "Server OS", "--description", "seed 001: operating system",
		"--license-counting-type", "Core", "--license-count", count, limit,
		"--license-rules", "#minimumCores=8", "#maximumCores=16", "#allowedTenancy=EC2-DedicatedHost",
		"--query", "LicenseConfigurationArn")
	image := c.text("ec2", "register-image", "--name", "server-os-2026", "--query", "ImageId")
	c.ok(nil, "license-manager", "update-license-specifications-for-resource", "--resource-arn", "arn:aws:ec2:"+region+"::image/"+image,
		"--add-license-specifications", "LicenseConfigurationArn="+arn)
	hosts := strings.Fields(c.text("ec2", "allocate-hosts", "--instance-family", "m5", "--availability-zone", region+"a", "--quantity", "3", "--query", "HostIds"))
	if len(hosts) != 3 {
		c.t.Fatalf("allocate-hosts: %v", hosts)
	}
	return arn, image, hosts
}

// TestSeed001_OperatingSystem reproduces seed 001's example with the AWS CLI v2: a server
// operating system licensed by physical core, 96 cores bought, 8 to 16 cores per server, a
// hard limit, Dedicated Hosts only; the configuration is attached to the image IT launches
// from.
func TestSeed001_OperatingSystem(t *testing.T) {
	c := newOSCLI(t, serverOptions{})
	arn, image, hosts := c.setUp("96", true)

	// Six servers of 16 cores, two per host: 96 cores, the whole pool.
	var servers []string
	for i := range 6 {
		servers = append(servers, c.launch(image, "m5.8xlarge", hosts[i%3]))
	}
	if got := c.text("license-manager", "get-license-configuration", "--license-configuration-arn", arn, "--query", "ConsumedLicenses"); got != "96" {
		t.Fatalf("ConsumedLicenses = %s, want 96", got)
	}
	// The seventh is refused, with the reason; so are a 4-core server, a 24-core one and one on
	// shared tenancy, whatever the pool.
	c.refused("LicenseUsageException", "has a hard limit of 96 cores: 96 are in use, and this launch (m5.8xlarge) needs 16 more", c.launchArgs(image, "m5.8xlarge", hosts[0])...)
	c.refused("LicenseUsageException", "needs at least 8 cores per resource (#minimumCores=8), and this launch (m5.2xlarge) has 4", c.launchArgs(image, "m5.2xlarge", hosts[0])...)
	c.refused("LicenseUsageException", "allows at most 16 cores per resource (#maximumCores=16), and this launch (m5.12xlarge) has 24", c.launchArgs(image, "m5.12xlarge", hosts[1])...)
	c.refused("LicenseUsageException", "allows only tenancy EC2-DedicatedHost (#allowedTenancy), and this launch (m5.8xlarge) has tenancy default", c.launchArgs(image, "m5.8xlarge", "")...)
	if n := c.text("ec2", "describe-instances", "--query", "length(Reservations[].Instances[])"); n != "6" {
		t.Fatalf("%s instances after the refusals, want 6: a refused launch must leave nothing", n)
	}

	// Terminating one server returns its 16 cores: the next launch gets in.
	c.ok(nil, "ec2", "terminate-instances", "--instance-ids", servers[0])
	if got := c.text("license-manager", "get-license-configuration", "--license-configuration-arn", arn, "--query", "ConsumedLicenses"); got != "80" {
		t.Fatalf("ConsumedLicenses after a terminate = %s, want 80", got)
	}
	next := c.launch(image, "m5.8xlarge", hosts[0])

	// Stopping one returns its cores too, and starting it again is refused while the pool is
	// full, then allowed once cores are free.
	c.ok(nil, "ec2", "stop-instances", "--instance-ids", servers[1])
	c.launch(image, "m5.8xlarge", hosts[2])
	c.refused("LicenseUsageException", "96 are in use, and instance "+servers[1]+" (m5.8xlarge) needs 16 more", "ec2", "start-instances", "--instance-ids", servers[1])
	c.ok(nil, "ec2", "terminate-instances", "--instance-ids", next)
	c.ok(nil, "ec2", "start-instances", "--instance-ids", servers[1])

	var usage struct {
		LicenseConfigurationUsageList []struct {
			ResourceArn, ResourceType, ResourceStatus string
			ConsumedLicenses                          int64
		}
	}
	c.ok(&usage, "license-manager", "list-usage-for-license-configuration", "--license-configuration-arn", arn)
	if len(usage.LicenseConfigurationUsageList) != 6 {
		t.Fatalf("list-usage-for-license-configuration: %d resources, want 6: %+v", len(usage.LicenseConfigurationUsageList), usage)
	}
	for _, u := range usage.LicenseConfigurationUsageList {
		if u.ResourceType != "EC2_INSTANCE" || u.ResourceStatus != "running" || u.ConsumedLicenses != 16 {
			t.Errorf("usage %+v, want a running instance with 16 cores", u)
		}
	}
	if n := c.text("license-manager", "list-associations-for-license-configuration", "--license-configuration-arn", arn,
		"--query", "length(LicenseConfigurationAssociations[?ResourceType=='EC2_AMI'])"); n != "1" {
		t.Errorf("associated images = %s, want 1", n)
	}
	failures := c.text("license-manager", "list-failures-for-license-configuration-operations", "--license-configuration-arn", arn,
		"--query", "LicenseOperationFailureList[].OperationName")
	if got := strings.Fields(failures); len(got) != 5 || got[0] != "RunInstances" || got[3] != "RunInstances" || got[4] != "StartInstances" {
		t.Errorf("failures = %v, want 4 refused launches and 1 refused start", got)
	}
	c.refused("InvalidParameterValueException", "cannot be deleted while 7 resources are associated with it", "license-manager", "delete-license-configuration", "--license-configuration-arn", arn)

	// DISABLED: existing servers keep their licenses; the image launches untracked; a launch
	// naming the configuration is refused.
	c.ok(nil, "license-manager", "update-license-configuration", "--license-configuration-arn", arn, "--license-configuration-status", "DISABLED")
	untracked := c.launch(image, "m5.large", "")
	if n := c.text("ec2", "describe-instances", "--instance-ids", untracked, "--query", "length(Reservations[0].Instances[0].Licenses || `[]`)"); n != "0" {
		t.Errorf("an instance launched from the image of a DISABLED configuration has %s licenses, want 0", n)
	}
	c.refused("LicenseUsageException", "is DISABLED", append(c.launchArgs(image, "m5.8xlarge", hosts[0]), "--license-specifications", "LicenseConfigurationArn="+arn)...)
	if got := c.text("license-manager", "get-license-configuration", "--license-configuration-arn", arn, "--query", "[Status,ConsumedLicenses]"); strings.Join(strings.Fields(got), " ") != "DISABLED 96" {
		t.Errorf("after DISABLED: %s, want DISABLED 96", got)
	}
}

// TestSeed001_SoftLimit runs the example with a soft limit: the launch over the count passes
// and an alert is recorded.
func TestSeed001_SoftLimit(t *testing.T) {
	c := newOSCLI(t, serverOptions{})
	arn, image, hosts := c.setUp("32", false)
	for i := range 3 {
		c.launch(image, "m5.8xlarge", hosts[i])
	}
	if got := c.text("license-manager", "get-license-configuration", "--license-configuration-arn", arn, "--query", "ConsumedLicenses"); got != "48" {
		t.Fatalf("ConsumedLicenses = %s, want 48 (over the soft limit of 32)", got)
	}
	if got := c.text("license-manager", "list-license-configurations", "--filters", "Name=usagelimitExceeded,Values=true",
		"--query", "LicenseConfigurations[].LicenseConfigurationArn"); got != arn {
		t.Errorf("usagelimitExceeded=true lists %q, want %s", got, arn)
	}
	// The rules still refuse.
	c.refused("LicenseUsageException", "needs at least 8 cores", c.launchArgs(image, "m5.2xlarge", hosts[0])...)

	db, err := sql.Open("sqlite", "file:"+filepath.Join(c.s.dataDir, "allot.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	var msg string
	err = db.QueryRow(`SELECT COUNT(*), COALESCE(MAX(message), '') FROM license_configuration_alerts WHERE config_arn = ? AND kind = 'SOFT_LIMIT_EXCEEDED'`, arn).Scan(&n, &msg)
	if err != nil || n != 1 || !strings.Contains(msg, "is over its soft limit: 48 cores consumed of 32") {
		t.Fatalf("alerts: %d %q %v; want one for the third launch", n, msg, err)
	}
}

// TestEC2_ConcurrentLaunches sends 100 launches at once with the AWS SDK for Go against a hard
// limit of 40 Instance-counted licenses: exactly 40 consume, on SQLite and on PostgreSQL.
func TestEC2_ConcurrentLaunches(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { concurrentLaunches(t, startServer(t, serverOptions{})) })
	t.Run("PostgreSQL", func(t *testing.T) {
		concurrentLaunches(t, startServer(t, serverOptions{database: postgresDatabase(t)}))
	})
}

func concurrentLaunches(t *testing.T, s *server) {
	const limit, launches = 40, 100
	ctx := context.Background()
	cfg := s.awsConfig(rootKeyID, rootSecret)
	lmc, ec2c := lm.NewFromConfig(cfg), ec2.NewFromConfig(cfg)
	out, err := lmc.CreateLicenseConfiguration(ctx, &lm.CreateLicenseConfigurationInput{Name: aws.String("per instance"),
		LicenseCountingType: lmtypes.LicenseCountingTypeInstance, LicenseCount: aws.Int64(limit), LicenseCountHardLimit: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.LicenseConfigurationArn)
	img, err := ec2c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("app-image")})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var ok, refused int
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range launches {
		wg.Go(func() {
			<-start
			_, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: img.ImageId, InstanceType: ec2types.InstanceTypeT3Micro,
				MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
				LicenseSpecifications: []ec2types.LicenseConfigurationRequest{{LicenseConfigurationArn: aws.String(arn)}}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errorCode(err) == "LicenseUsageException" && httpStatus(err) == http.StatusBadRequest:
				refused++
			default:
				t.Errorf("RunInstances: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok != limit || refused != launches-limit {
		t.Fatalf("%d launches succeeded and %d were refused; want exactly %d and %d", ok, refused, limit, launches-limit)
	}
	got, err := lmc.GetLicenseConfiguration(ctx, &lm.GetLicenseConfigurationInput{LicenseConfigurationArn: aws.String(arn)})
	if err != nil || aws.ToInt64(got.ConsumedLicenses) != limit {
		t.Fatalf("ConsumedLicenses = %v, %v; want %d", got, err, limit)
	}
	running := 0
	p := ec2.NewDescribeInstancesPaginator(ec2c, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(25)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Reservations {
			running += len(r.Instances)
		}
	}
	if running != limit {
		t.Fatalf("DescribeInstances lists %d instances, want %d: a refused launch must leave nothing", running, limit)
	}
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// TestSelfManaged_SDK drives the configurations, tags, associations and EC2 with the AWS SDK
// for Go, and checks malformed input gets each protocol's 4xx error.
func TestSelfManaged_SDK(t *testing.T) {
	ctx := context.Background()
	s := startServer(t, serverOptions{})
	cfg := s.awsConfig(rootKeyID, rootSecret)
	lmc, ec2c := lm.NewFromConfig(cfg), ec2.NewFromConfig(cfg)

	out, err := lmc.CreateLicenseConfiguration(ctx, &lm.CreateLicenseConfigurationInput{Name: aws.String("db"), LicenseCountingType: lmtypes.LicenseCountingTypeVcpu,
		LicenseCount: aws.Int64(4), LicenseCountHardLimit: aws.Bool(true), LicenseRules: []string{"#honorVcpuOptimization=true"},
		Tags: []lmtypes.Tag{{Key: aws.String("team"), Value: aws.String("data")}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := out.LicenseConfigurationArn
	if _, err := lmc.TagResource(ctx, &lm.TagResourceInput{ResourceArn: arn, Tags: []lmtypes.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatalf("TagResource(configuration): %v", err)
	}
	tags, err := lmc.ListTagsForResource(ctx, &lm.ListTagsForResourceInput{ResourceArn: arn})
	if err != nil || len(tags.Tags) != 2 {
		t.Fatalf("ListTagsForResource = %+v, %v; want 2 tags", tags, err)
	}

	img, err := ec2c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("db-image")})
	if err != nil {
		t.Fatal(err)
	}
	// 8 vCPUs by default, but 2 cores × 1 thread honored: 2 vCPUs counted.
	run, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: img.ImageId, InstanceType: ec2types.InstanceTypeM52xlarge, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		CpuOptions: &ec2types.CpuOptionsRequest{CoreCount: aws.Int32(2), ThreadsPerCore: aws.Int32(1)}})
	if err != nil {
		t.Fatal(err)
	}
	instanceARN := fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", region, rootAccount, aws.ToString(run.Instances[0].InstanceId))
	if _, err := lmc.UpdateLicenseSpecificationsForResource(ctx, &lm.UpdateLicenseSpecificationsForResourceInput{ResourceArn: aws.String(instanceARN),
		AddLicenseSpecifications: []lmtypes.LicenseSpecification{{LicenseConfigurationArn: arn}}}); err != nil {
		t.Fatalf("UpdateLicenseSpecificationsForResource: %v", err)
	}
	got, err := lmc.GetLicenseConfiguration(ctx, &lm.GetLicenseConfigurationInput{LicenseConfigurationArn: arn})
	if err != nil || aws.ToInt64(got.ConsumedLicenses) != 2 || len(got.Tags) != 2 {
		t.Fatalf("GetLicenseConfiguration = %+v, %v; want 2 vCPUs consumed", got, err)
	}
	specs, err := lmc.ListLicenseSpecificationsForResource(ctx, &lm.ListLicenseSpecificationsForResourceInput{ResourceArn: aws.String(instanceARN)})
	if err != nil || len(specs.LicenseSpecifications) != 1 {
		t.Fatalf("ListLicenseSpecificationsForResource = %+v, %v", specs, err)
	}
	inv, err := lmc.ListResourceInventory(ctx, &lm.ListResourceInventoryInput{Filters: []lmtypes.InventoryFilter{
		{Name: aws.String("resource_id"), Condition: lmtypes.InventoryFilterConditionEquals, Value: run.Instances[0].InstanceId}}})
	if err != nil || len(inv.ResourceInventoryList) != 1 || inv.ResourceInventoryList[0].ResourceType != lmtypes.ResourceTypeEc2Instance {
		t.Fatalf("ListResourceInventory = %+v, %v", inv, err)
	}

	// A second, full-size instance would need 8 more vCPUs than the 2 left: typed refusal.
	run2, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: img.ImageId, InstanceType: ec2types.InstanceTypeM52xlarge, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = lmc.UpdateLicenseSpecificationsForResource(ctx, &lm.UpdateLicenseSpecificationsForResourceInput{
		ResourceArn:              aws.String(fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", region, rootAccount, aws.ToString(run2.Instances[0].InstanceId))),
		AddLicenseSpecifications: []lmtypes.LicenseSpecification{{LicenseConfigurationArn: arn}}})
	wantTyped[*lmtypes.LicenseUsageException](t, "UpdateLicenseSpecificationsForResource(over the hard limit)", err)

	// Malformed input: License Manager's InvalidParameterValueException, EC2's codes, all 400.
	_, err = lmc.CreateLicenseConfiguration(ctx, &lm.CreateLicenseConfigurationInput{Name: aws.String("x"), LicenseCountingType: "cores"})
	wantTyped[*lmtypes.InvalidParameterValueException](t, "CreateLicenseConfiguration(cores)", err)
	_, err = lmc.CreateLicenseConfiguration(ctx, &lm.CreateLicenseConfigurationInput{Name: aws.String("x"), LicenseCountingType: lmtypes.LicenseCountingTypeCore,
		LicenseRules: []string{"#minimumVcpus=2"}})
	wantAPIError(t, "CreateLicenseConfiguration(rule)", err, "InvalidParameterValueException", "#minimumVcpus applies to vCPU and Instance counting, not Core")
	_, err = lmc.GetLicenseConfiguration(ctx, &lm.GetLicenseConfigurationInput{LicenseConfigurationArn: aws.String("arn:aws:license-manager:us-east-1:123456789012:license-configuration:x")})
	wantTyped[*lmtypes.InvalidParameterValueException](t, "GetLicenseConfiguration(malformed ARN)", err)
	for name, call := range map[string]func() error{
		"DescribeInstances(MaxResults 2)": func() error {
			_, err := ec2c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(2)})
			return err
		},
		"RunInstances(no such image)": func() error {
			_, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-00000000000000000"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
			return err
		},
		"StopInstances(malformed)": func() error {
			_, err := ec2c.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{"instance-1"}})
			return err
		},
	} {
		if err := call(); httpStatus(err) != http.StatusBadRequest || errorCode(err) == "" {
			t.Errorf("%s = %v (HTTP %d), want an EC2 error with status 400", name, err, httpStatus(err))
		}
	}

	// An IAM user without permissions is denied, in EC2's words.
	admin := rootIAM(s)
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dev")}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dev")})
	if err != nil {
		t.Fatal(err)
	}
	dev := ec2.NewFromConfig(s.awsConfig(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)))
	_, err = dev.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if errorCode(err) != "UnauthorizedOperation" || httpStatus(err) != http.StatusForbidden || !strings.Contains(apiMessage(err), "ec2:DescribeInstances") {
		t.Errorf("DescribeInstances as a user without permissions = %v (HTTP %d), want UnauthorizedOperation 403 naming ec2:DescribeInstances", err, httpStatus(err))
	}
	bad := ec2.NewFromConfig(s.awsConfig(rootKeyID, wrongSecret))
	_, err = bad.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if errorCode(err) != "AuthFailure" || httpStatus(err) != http.StatusUnauthorized {
		t.Errorf("DescribeInstances with a wrong secret = %v (HTTP %d), want AuthFailure 401", err, httpStatus(err))
	}
}

// TestEC2_CLIMalformed checks that the AWS CLI v2 shows EC2's errors for malformed requests.
func TestEC2_CLIMalformed(t *testing.T) {
	c := newOSCLI(t, serverOptions{})
	c.refused("UnknownParameter", "Monitoring", "ec2", "run-instances", "--image-id", "ami-00000000000000000", "--count", "1",
		"--monitoring", "Enabled=true")
	c.refused("InvalidAMIID.Malformed", "ami-1", "ec2", "run-instances", "--image-id", "ami-1", "--count", "1")
	c.refused("InvalidParameterCombination", "Placement.HostId", "ec2", "run-instances", "--image-id", "ami-00000000000000000", "--count", "1", "--placement", "Tenancy=host")
	c.refused("MissingParameter", "AvailabilityZone", "ec2", "allocate-hosts", "--instance-family", "m5", "--quantity", "1", "--availability-zone", "")
	c.refused("InvalidParameterValueException", "#allowedTenancy must be one of", "license-manager", "create-license-configuration", "--name", "x",
		"--license-counting-type", "Instance", "--license-rules", "#allowedTenancy=Shared")
}
