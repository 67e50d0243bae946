package test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
)

// hostsClient drives Dedicated Hosts and their licenses with the AWS SDK for Go, as root.
type hostsClient struct {
	t   *testing.T
	s   *server
	lm  *lm.Client
	ec2 *ec2.Client
}

func newHostsClient(t *testing.T, s *server) *hostsClient {
	cfg := s.awsConfig(rootKeyID, rootSecret)
	return &hostsClient{t: t, s: s, lm: lm.NewFromConfig(cfg), ec2: ec2.NewFromConfig(cfg)}
}

func (c *hostsClient) configuration(name string, typ lmtypes.LicenseCountingType, count int64, rules ...string) string {
	c.t.Helper()
	out, err := c.lm.CreateLicenseConfiguration(context.Background(), &lm.CreateLicenseConfigurationInput{Name: aws.String(name),
		LicenseCountingType: typ, LicenseCount: aws.Int64(count), LicenseCountHardLimit: aws.Bool(true), LicenseRules: rules})
	if err != nil {
		c.t.Fatalf("CreateLicenseConfiguration(%s): %v", name, err)
	}
	return aws.ToString(out.LicenseConfigurationArn)
}

// hosts allocates n m5 Dedicated Hosts (2 sockets, 48 cores, 96 vCPUs each).
func (c *hostsClient) hosts(n int32) []string {
	c.t.Helper()
	out, err := c.ec2.AllocateHosts(context.Background(), &ec2.AllocateHostsInput{InstanceFamily: aws.String("m5"),
		AvailabilityZone: aws.String(region + "a"), Quantity: aws.Int32(n)})
	if err != nil || len(out.HostIds) != int(n) {
		c.t.Fatalf("AllocateHosts(%d) = %+v, %v", n, out, err)
	}
	return out.HostIds
}

func (c *hostsClient) image(name string) string {
	c.t.Helper()
	out, err := c.ec2.RegisterImage(context.Background(), &ec2.RegisterImageInput{Name: aws.String(name)})
	if err != nil {
		c.t.Fatalf("RegisterImage: %v", err)
	}
	return aws.ToString(out.ImageId)
}

// associate adds (or, with remove, removes) a configuration on a resource ARN.
func (c *hostsClient) associate(resourceARN, configARN string, remove bool) error {
	in := &lm.UpdateLicenseSpecificationsForResourceInput{ResourceArn: aws.String(resourceARN)}
	spec := []lmtypes.LicenseSpecification{{LicenseConfigurationArn: aws.String(configARN)}}
	if remove {
		in.RemoveLicenseSpecifications = spec
	} else {
		in.AddLicenseSpecifications = spec
	}
	_, err := c.lm.UpdateLicenseSpecificationsForResource(context.Background(), in)
	return err
}

// hostARN returns the ARN of a Dedicated Host of the root account.
func hostARN(id string) string {
	return fmt.Sprintf("arn:aws:ec2:%s:%s:dedicated-host/%s", region, rootAccount, id)
}

// launch runs one instance of typ from image on host, with the configurations named.
func (c *hostsClient) launch(image string, typ ec2types.InstanceType, host string, configs ...string) (string, error) {
	in := &ec2.RunInstancesInput{ImageId: aws.String(image), InstanceType: typ, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		Placement: &ec2types.Placement{Tenancy: ec2types.TenancyHost, HostId: aws.String(host)}}
	for _, a := range configs {
		in.LicenseSpecifications = append(in.LicenseSpecifications, ec2types.LicenseConfigurationRequest{LicenseConfigurationArn: aws.String(a)})
	}
	out, err := c.ec2.RunInstances(context.Background(), in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Instances[0].InstanceId), nil
}

func (c *hostsClient) consumed(arn string) int64 {
	c.t.Helper()
	out, err := c.lm.GetLicenseConfiguration(context.Background(), &lm.GetLicenseConfigurationInput{LicenseConfigurationArn: aws.String(arn)})
	if err != nil {
		c.t.Fatalf("GetLicenseConfiguration: %v", err)
	}
	return aws.ToInt64(out.ConsumedLicenses)
}

// usage returns what ListUsageForLicenseConfiguration lists, by resource ID.
func (c *hostsClient) usage(arn string) map[string]lmtypes.LicenseConfigurationUsage {
	c.t.Helper()
	out := map[string]lmtypes.LicenseConfigurationUsage{}
	in := &lm.ListUsageForLicenseConfigurationInput{LicenseConfigurationArn: aws.String(arn)}
	for {
		page, err := c.lm.ListUsageForLicenseConfiguration(context.Background(), in)
		if err != nil {
			c.t.Fatalf("ListUsageForLicenseConfiguration: %v", err)
		}
		for _, u := range page.LicenseConfigurationUsageList {
			a := aws.ToString(u.ResourceArn)
			out[a[strings.LastIndex(a, "/")+1:]] = u
		}
		if page.NextToken == nil {
			return out
		}
		in.NextToken = page.NextToken
	}
}

// instanceState stops, starts or terminates (action "stop", "start", "terminate") an instance.
func (c *hostsClient) instanceState(id string, action string) {
	c.t.Helper()
	ctx := context.Background()
	var err error
	switch action {
	case "stop":
		_, err = c.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}})
	case "start":
		_, err = c.ec2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}})
	default:
		_, err = c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}})
	}
	if err != nil {
		c.t.Fatalf("%s %s: %v", action, id, err)
	}
}

// bothStores runs fn on a server backed by SQLite and on one backed by PostgreSQL; fn gets
// the options to start (and restart) its server with.
func bothStores(t *testing.T, fn func(t *testing.T, o serverOptions)) {
	t.Run("SQLite", func(t *testing.T) { fn(t, serverOptions{dataDir: t.TempDir()}) })
	t.Run("PostgreSQL", func(t *testing.T) { fn(t, serverOptions{dataDir: t.TempDir(), database: postgresDatabase(t)}) })
}

// restartAhead stops s and starts a server on its data with the license clock ahead by
// offset, as time passing would.
func restartAhead(t *testing.T, s *server, o serverOptions, offset string) *server {
	t.Helper()
	if code := s.stop(); code != 0 {
		t.Fatalf("SIGTERM: exit %d", code)
	}
	o.args = append(o.args, "--license-clock-offset", offset)
	return startServer(t, o)
}

// TestHosts_LicenseAffinity checks #licenseAffinityToHost: the sockets a Dedicated Host took
// stay consumed when it is released, and the cores an instance on a host took stay consumed
// while it is stopped, until the affinity period since they were taken has passed; then the
// sweep returns them and a new launch fits.
func TestHosts_LicenseAffinity(t *testing.T) {
	bothStores(t, func(t *testing.T, o serverOptions) {
		ctx := context.Background()
		c := newHostsClient(t, startServer(t, o))
		sockets := c.configuration("Windows Server Datacenter", lmtypes.LicenseCountingTypeSocket, 2, "#licenseAffinityToHost=90")
		cores := c.configuration("SQL Server", lmtypes.LicenseCountingTypeCore, 8, "#licenseAffinityToHost=30")
		hosts := c.hosts(2)
		image := c.image("byol")

		if err := c.associate(hostARN(hosts[0]), sockets, false); err != nil {
			t.Fatalf("associate host %s: %v", hosts[0], err)
		}
		if got := c.consumed(sockets); got != 2 {
			t.Fatalf("sockets consumed = %d, want 2 (the host's)", got)
		}
		if _, err := c.ec2.ReleaseHosts(ctx, &ec2.ReleaseHostsInput{HostIds: hosts[:1]}); err != nil {
			t.Fatalf("ReleaseHosts: %v", err)
		}
		if got := c.consumed(sockets); got != 2 {
			t.Fatalf("sockets consumed after the host was released = %d, want 2: they stay tied to it for 90 days", got)
		}
		u, ok := c.usage(sockets)[hosts[0]]
		if !ok || aws.ToInt64(u.ConsumedLicenses) != 2 || !strings.Contains(aws.ToString(u.ResourceStatus), "released") ||
			!strings.Contains(aws.ToString(u.ResourceStatus), "#licenseAffinityToHost") {
			t.Fatalf("usage of the released host = %+v (listed %v), want 2 sockets held by #licenseAffinityToHost", u, ok)
		}
		_, err := c.launch(image, ec2types.InstanceTypeM5Large, hosts[1], sockets)
		wantAPIError(t, "a launch while the released host's sockets are held", err, "LicenseUsageException", "has a hard limit of 2 sockets")

		// An instance on a host: its 8 cores stay taken while it is stopped, and are not taken
		// twice when it starts again.
		inst, err := c.launch(image, ec2types.InstanceTypeM54xlarge, hosts[1], cores)
		if err != nil {
			t.Fatalf("launch with the Core configuration: %v", err)
		}
		c.instanceState(inst, "stop")
		if got := c.consumed(cores); got != 8 {
			t.Fatalf("cores consumed while the instance is stopped = %d, want 8 (held for 30 days)", got)
		}
		if st := aws.ToString(c.usage(cores)[inst].ResourceStatus); !strings.HasPrefix(st, "stopped; ") || !strings.Contains(st, hosts[1]) {
			t.Errorf("usage status of the stopped instance = %q, want stopped and held on %s", st, hosts[1])
		}
		c.instanceState(inst, "start")
		c.instanceState(inst, "stop")
		if got := c.consumed(cores); got != 8 {
			t.Fatalf("cores consumed after start and stop = %d, want 8", got)
		}

		// 2,200 hours (about 92 days) later, both periods have passed: the sweep at start-up
		// returns the units.
		c = newHostsClient(t, restartAhead(t, c.s, o, "2200h"))
		deadline := time.Now().Add(30 * time.Second)
		for c.consumed(sockets) != 0 || c.consumed(cores) != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("after the affinity periods: %d sockets and %d cores consumed, want 0 and 0", c.consumed(sockets), c.consumed(cores))
			}
			time.Sleep(100 * time.Millisecond)
		}
		if n := len(c.usage(sockets)); n != 0 {
			t.Errorf("usage lists %d resources of the socket configuration, want none", n)
		}
		assoc, err := c.lm.ListAssociationsForLicenseConfiguration(ctx, &lm.ListAssociationsForLicenseConfigurationInput{LicenseConfigurationArn: aws.String(cores)})
		if err != nil || len(assoc.LicenseConfigurationAssociations) != 1 {
			t.Errorf("associations of the Core configuration = %+v, %v; want the stopped instance's, holding nothing", assoc, err)
		}
		if _, err := c.launch(image, ec2types.InstanceTypeM5Large, hosts[1], sockets); err != nil {
			t.Fatalf("a launch once the released host's sockets returned: %v", err)
		}
		if got := c.consumed(sockets); got != 2 {
			t.Errorf("sockets consumed = %d, want 2", got)
		}
		c.instanceState(inst, "start")
		if got := c.consumed(cores); got != 8 {
			t.Errorf("cores consumed after the stopped instance started = %d, want 8", got)
		}
	})
}

// TestHosts_CountedOnce checks that an instance on a Dedicated Host associated with a Core
// configuration takes nothing of it when the instance is associated too: the host's cores
// are counted once. Launches on four hosts run at once while one of them is being associated;
// afterwards the count is what the rules say.
func TestHosts_CountedOnce(t *testing.T) {
	bothStores(t, func(t *testing.T, o serverOptions) {
		const perHost = 8 // m5.xlarge: 2 cores, 4 vCPUs
		ctx := context.Background()
		c := newHostsClient(t, startServer(t, o))
		cores := c.configuration("Windows Server", lmtypes.LicenseCountingTypeCore, 1000)
		image := c.image("windows-byol")
		if err := c.associate("arn:aws:ec2:"+region+"::image/"+image, cores, false); err != nil {
			t.Fatal(err)
		}
		hosts := c.hosts(4) // 0, 1: licensed before; 2: never; 3: licensed during the launches
		for _, h := range hosts[:2] {
			if err := c.associate(hostARN(h), cores, false); err != nil {
				t.Fatalf("associate host %s: %v", h, err)
			}
		}

		var wg sync.WaitGroup
		var mu sync.Mutex
		onHost := map[string][]string{}
		start := make(chan struct{})
		for i := range 4 * perHost {
			h := hosts[i%4]
			wg.Go(func() {
				<-start
				id, err := c.launch(image, ec2types.InstanceTypeM5Xlarge, h)
				if err != nil {
					t.Errorf("launch on %s: %v", h, err)
					return
				}
				mu.Lock()
				onHost[h] = append(onHost[h], id)
				mu.Unlock()
			})
		}
		wg.Go(func() {
			<-start
			if err := c.associate(hostARN(hosts[3]), cores, false); err != nil {
				t.Errorf("associate host %s during the launches: %v", hosts[3], err)
			}
		})
		close(start)
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}

		// Three licensed hosts of 48 cores, and the 8 instances of 2 cores on the fourth.
		if got, want := c.consumed(cores), int64(3*48+perHost*2); got != want {
			t.Fatalf("cores consumed = %d, want %d: 3 licensed hosts × 48 and %d instances × 2 on the unlicensed one", got, want, perHost)
		}
		usage := c.usage(cores)
		for i, h := range hosts {
			want := int64(48)
			if i == 2 {
				want = 0
			}
			if got := aws.ToInt64(usage[h].ConsumedLicenses); got != want {
				t.Errorf("host %d consumes %d cores, want %d", i, got, want)
			}
			for _, id := range onHost[h] {
				want := int64(0)
				if i == 2 {
					want = 2
				}
				if got := aws.ToInt64(usage[id].ConsumedLicenses); got != want {
					t.Errorf("instance %s on host %d consumes %d cores, want %d", id, i, got, want)
				}
			}
		}
		specs, err := c.lm.ListLicenseSpecificationsForResource(ctx, &lm.ListLicenseSpecificationsForResourceInput{
			ResourceArn: aws.String(fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", region, rootAccount, onHost[hosts[0]][0]))})
		if err != nil || len(specs.LicenseSpecifications) != 1 {
			t.Errorf("an instance on a licensed host: specifications %+v, %v; want its association, holding nothing", specs, err)
		}

		// Terminating an instance on a licensed host returns nothing; removing the host's
		// association makes its 7 remaining instances count their own cores.
		c.instanceState(onHost[hosts[0]][0], "terminate")
		if got, want := c.consumed(cores), int64(3*48+perHost*2); got != want {
			t.Fatalf("cores consumed after terminating an instance on a licensed host = %d, want %d", got, want)
		}
		if err := c.associate(hostARN(hosts[0]), cores, true); err != nil {
			t.Fatalf("disassociate host: %v", err)
		}
		if got, want := c.consumed(cores), int64(2*48+perHost*2+(perHost-1)*2); got != want {
			t.Fatalf("cores consumed after the host's association was removed = %d, want %d", got, want)
		}
	})
}

// TestHosts_UpdateLicenseSpecificationsAuthorization checks that UpdateLicenseSpecificationsForResource
// is authorized on each license configuration it adds or removes: a policy on one
// configuration's ARN allows it and denies another.
func TestHosts_UpdateLicenseSpecificationsAuthorization(t *testing.T) {
	ctx := context.Background()
	s := startServer(t, serverOptions{})
	c := newHostsClient(t, s)
	allowed := c.configuration("allowed", lmtypes.LicenseCountingTypeInstance, 10)
	other := c.configuration("other", lmtypes.LicenseCountingTypeInstance, 10)
	image := c.image("app")
	run, err := c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(image), InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	instance := fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", region, rootAccount, aws.ToString(run.Instances[0].InstanceId))

	admin := rootIAM(s)
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("licensing")}); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "license-manager:UpdateLicenseSpecificationsForResource", "Resource": "` + allowed + `"}]}`
	if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("licensing"), PolicyName: aws.String("one-configuration"),
		PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("licensing")})
	if err != nil {
		t.Fatal(err)
	}
	user := &hostsClient{t: t, s: s, lm: lm.NewFromConfig(s.awsConfig(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)))}

	if err := user.associate(instance, allowed, false); err != nil {
		t.Fatalf("adding the configuration the policy names: %v", err)
	}
	wantAPIError(t, "adding another configuration", user.associate(instance, other, false), "AccessDeniedException", other)
	_, err = user.lm.UpdateLicenseSpecificationsForResource(ctx, &lm.UpdateLicenseSpecificationsForResourceInput{ResourceArn: aws.String(instance),
		RemoveLicenseSpecifications: []lmtypes.LicenseSpecification{{LicenseConfigurationArn: aws.String(allowed)}},
		AddLicenseSpecifications:    []lmtypes.LicenseSpecification{{LicenseConfigurationArn: aws.String(other)}}})
	wantAPIError(t, "removing the allowed configuration and adding another", err, "AccessDeniedException", other)
	if got := c.consumed(other); got != 0 {
		t.Errorf("the denied configuration consumes %d, want 0", got)
	}
	if err := user.associate(instance, allowed, true); err != nil {
		t.Fatalf("removing the configuration the policy names: %v", err)
	}
	if got := c.consumed(allowed); got != 0 {
		t.Errorf("the allowed configuration consumes %d after its removal, want 0", got)
	}
}

// TestHosts_TerminatedInstancesGone checks that a terminated instance is described for an
// hour, as in EC2, and is then gone: from lists and filters, and named, InvalidInstanceID.NotFound.
func TestHosts_TerminatedInstancesGone(t *testing.T) {
	bothStores(t, func(t *testing.T, o serverOptions) {
		ctx := context.Background()
		c := newHostsClient(t, startServer(t, o))
		image := c.image("app")
		run, err := c.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(image), InstanceType: ec2types.InstanceTypeT3Micro,
			MinCount: aws.Int32(2), MaxCount: aws.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		gone, kept := aws.ToString(run.Instances[0].InstanceId), aws.ToString(run.Instances[1].InstanceId)
		c.instanceState(gone, "terminate")
		ids := func(in *ec2.DescribeInstancesInput) ([]string, error) {
			out, err := c.ec2.DescribeInstances(ctx, in)
			if err != nil {
				return nil, err
			}
			var ids []string
			for _, r := range out.Reservations {
				for _, i := range r.Instances {
					ids = append(ids, aws.ToString(i.InstanceId)+"="+string(i.State.Name))
				}
			}
			return ids, nil
		}
		if got, err := ids(&ec2.DescribeInstancesInput{InstanceIds: []string{gone}}); err != nil || len(got) != 1 || got[0] != gone+"=terminated" {
			t.Fatalf("DescribeInstances(just terminated) = %v, %v; want it, terminated", got, err)
		}

		c = newHostsClient(t, restartAhead(t, c.s, o, "2h"))
		_, err = c.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{gone}})
		wantAPIError(t, "DescribeInstances(terminated 2 hours ago)", err, "InvalidInstanceID.NotFound", gone)
		if got, err := ids(&ec2.DescribeInstancesInput{}); err != nil || len(got) != 1 || got[0] != kept+"=running" {
			t.Errorf("DescribeInstances() = %v, %v; want only %s, running", got, err, kept)
		}
		got, err := ids(&ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"terminated"}}}})
		if err != nil || len(got) != 0 {
			t.Errorf("DescribeInstances(instance-state-name=terminated) = %v, %v; want none", got, err)
		}
		_, err = c.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{gone}})
		wantAPIError(t, "TerminateInstances(terminated 2 hours ago)", err, "InvalidInstanceID.NotFound", gone)
		inv, err := c.lm.ListResourceInventory(ctx, &lm.ListResourceInventoryInput{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range inv.ResourceInventoryList {
			if aws.ToString(r.ResourceId) == gone {
				t.Errorf("ListResourceInventory lists %s, terminated", gone)
			}
		}
	})
}
