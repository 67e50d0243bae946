package test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

const hostSockets = 2 // an m5 Dedicated Host's

// runningByHost returns, per Dedicated Host, the IDs of the running instances on it, as
// DescribeInstances describes them.
func (c *hostsClient) runningByHost() map[string][]string {
	c.t.Helper()
	out := map[string][]string{}
	p := ec2.NewDescribeInstancesPaginator(c.ec2, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(1000),
		Filters: []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"running"}}}})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			c.t.Fatalf("DescribeInstances: %v", err)
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				if h := aws.ToString(i.Placement.HostId); h != "" {
					out[h] = append(out[h], aws.ToString(i.InstanceId))
				}
			}
		}
	}
	return out
}

// checkSockets checks a Socket configuration whose hosts are not associated with it, used by
// instances on hosts (hostOf: each instance's host): ConsumedLicenses is the sum of what
// ListUsageForLicenseConfiguration lists, and that is each host's sockets once for every host
// with a running instance, held by one of those instances. It returns the units consumed.
func (c *hostsClient) checkSockets(what, arn string, hostOf map[string]string) int64 {
	c.t.Helper()
	running := c.runningByHost()
	consumed := c.consumed(arn)
	usage := c.usage(arn)
	var sum int64
	holders := map[string][]string{}
	for id, u := range usage {
		n := aws.ToInt64(u.ConsumedLicenses)
		sum += n
		h, ok := hostOf[id]
		if !ok || n != hostSockets {
			c.t.Errorf("%s: usage lists %s consuming %d, want only instances on hosts holding %d", what, id, n, hostSockets)
			continue
		}
		holders[h] = append(holders[h], id)
	}
	if consumed != sum {
		c.t.Errorf("%s: ConsumedLicenses = %d, but the usage listed sums to %d", what, consumed, sum)
	}
	var want int64
	for h, ids := range running {
		want += hostSockets
		if len(holders[h]) != 1 {
			c.t.Errorf("%s: host %s runs %d instances and %d of them hold its sockets (%v), want 1", what, h, len(ids), len(holders[h]), holders[h])
		}
	}
	for h, ids := range holders {
		if len(running[h]) == 0 {
			c.t.Errorf("%s: host %s runs no instance, yet %v hold its sockets", what, h, ids)
		}
	}
	if consumed != want {
		c.t.Errorf("%s: ConsumedLicenses = %d, want %d: %d sockets for each of the %d hosts running instances", what, consumed, want, hostSockets, len(running))
	}
	return consumed
}

// TestSockets_OncePerHost launches, stops, starts and terminates many instances on a few
// Dedicated Hosts at once, with a Socket configuration the hosts are not associated with, on
// SQLite and PostgreSQL: each host's sockets are consumed once, however many of its
// instances use the configuration, and go back to the pool with the last one; the counter is
// always what the associations hold.
func TestSockets_OncePerHost(t *testing.T) {
	bothStores(t, func(t *testing.T, o serverOptions) {
		const perHost = 8
		c := newHostsClient(t, startServer(t, o))
		sockets := c.configuration("SQL Server Enterprise", lmtypes.LicenseCountingTypeSocket, 1000)
		image := c.image("sql-byol")
		hosts := c.hosts(3)

		var mu sync.Mutex
		hostOf := map[string]string{}
		onHost := map[string][]string{}
		launch := func(h string) {
			id, err := c.launch(image, ec2types.InstanceTypeM5Large, h, sockets)
			if err != nil {
				t.Errorf("launch on %s: %v", h, err)
				return
			}
			mu.Lock()
			hostOf[id] = h
			onHost[h] = append(onHost[h], id)
			mu.Unlock()
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 3 * perHost {
			wg.Go(func() { <-start; launch(hosts[i%3]) })
		}
		close(start)
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		if got := c.checkSockets("after the launches", sockets, hostOf); got != 3*hostSockets {
			t.Fatalf("sockets consumed = %d, want %d", got, 3*hostSockets)
		}

		// At once: every instance on host 0 stops or terminates, all but one on host 1
		// terminate, half of host 2's stop while as many more launch there.
		act := func(id, action string) {
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
				t.Errorf("%s %s: %v", action, id, err)
			}
		}
		h0, h1, h2 := onHost[hosts[0]], onHost[hosts[1]], onHost[hosts[2]]
		start = make(chan struct{})
		for i, id := range h0 {
			wg.Go(func() { <-start; act(id, map[bool]string{true: "stop", false: "terminate"}[i%2 == 0]) })
		}
		for _, id := range h1[1:] {
			wg.Go(func() { <-start; act(id, "terminate") })
		}
		for _, id := range h2[:perHost/2] {
			wg.Go(func() { <-start; act(id, "stop") })
			wg.Go(func() { <-start; launch(hosts[2]) })
		}
		close(start)
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		if got := c.checkSockets("after the stops, terminations and launches", sockets, hostOf); got != 2*hostSockets {
			t.Fatalf("sockets consumed = %d, want %d: hosts 1 and 2 run instances, host 0 none", got, 2*hostSockets)
		}

		// At once: host 0's stopped instances start, host 2's stopped ones too while its
		// running ones terminate.
		start = make(chan struct{})
		for i, id := range h0 {
			if i%2 == 0 {
				wg.Go(func() { <-start; act(id, "start") })
			}
		}
		mu.Lock()
		h2 = onHost[hosts[2]]
		mu.Unlock()
		for i, id := range h2 {
			wg.Go(func() { <-start; act(id, map[bool]string{true: "start", false: "terminate"}[i < perHost/2]) })
		}
		close(start)
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		if got := c.checkSockets("after the starts", sockets, hostOf); got != 3*hostSockets {
			t.Fatalf("sockets consumed = %d, want %d", got, 3*hostSockets)
		}

		// Removing the association of the instance that holds a host's sockets passes them to
		// another instance on the host using the configuration.
		var holder string
		for id, u := range c.usage(sockets) {
			if hostOf[id] == hosts[0] && aws.ToInt64(u.ConsumedLicenses) == hostSockets {
				holder = id
			}
		}
		if holder == "" {
			t.Fatalf("no instance on host 0 holds its sockets")
		}
		if err := c.associate(fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", region, rootAccount, holder), sockets, true); err != nil {
			t.Fatalf("disassociate the holder %s: %v", holder, err)
		}
		delete(hostOf, holder)
		if got := c.checkSockets("after the holder's association was removed", sockets, hostOf); got != 3*hostSockets {
			t.Fatalf("sockets consumed = %d, want %d", got, 3*hostSockets)
		}

		// Everything terminated at once: nothing is consumed or listed.
		start = make(chan struct{})
		for _, ids := range c.runningByHost() {
			for _, id := range ids {
				wg.Go(func() { <-start; act(id, "terminate") })
			}
		}
		close(start)
		wg.Wait()
		if got := c.checkSockets("after terminating everything", sockets, hostOf); got != 0 {
			t.Fatalf("sockets consumed = %d, want 0", got)
		}
	})
}

// TestSockets_HardLimit launches on three Dedicated Hosts at once under a hard limit of two
// hosts' sockets, on SQLite and PostgreSQL: the launches on two of the hosts all pass, those on
// the third are all refused.
func TestSockets_HardLimit(t *testing.T) {
	bothStores(t, func(t *testing.T, o serverOptions) {
		const perHost = 6
		c := newHostsClient(t, startServer(t, o))
		sockets := c.configuration("Oracle EE", lmtypes.LicenseCountingTypeSocket, 2*hostSockets)
		image := c.image("oracle-byol")
		hosts := c.hosts(3)
		var mu sync.Mutex
		hostOf := map[string]string{}
		refused := map[string]int{}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 3 * perHost {
			h := hosts[i%3]
			wg.Go(func() {
				<-start
				id, err := c.launch(image, ec2types.InstanceTypeM5Large, h, sockets)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					wantAPIError(t, "a launch over the hard limit", err, "LicenseUsageException", "has a hard limit of 4 sockets")
					refused[h]++
					return
				}
				hostOf[id] = h
			})
		}
		close(start)
		wg.Wait()
		if got := c.checkSockets("after the launches", sockets, hostOf); got != 2*hostSockets {
			t.Fatalf("sockets consumed = %d, want %d", got, 2*hostSockets)
		}
		if len(hostOf) != 2*perHost || len(refused) != 1 {
			t.Errorf("%d launches passed and launches on %d hosts were refused (%v), want %d on two hosts and the third's refused",
				len(hostOf), len(refused), refused, 2*perHost)
		}
	})
}

// TestSockets_AffinityTakenOver checks that an instance launched on a Dedicated Host whose
// sockets a stopped instance holds for #licenseAffinityToHost takes them over rather than
// taking more, on SQLite and PostgreSQL.
func TestSockets_AffinityTakenOver(t *testing.T) {
	bothStores(t, func(t *testing.T, o serverOptions) {
		c := newHostsClient(t, startServer(t, o))
		sockets := c.configuration("Windows Server Datacenter", lmtypes.LicenseCountingTypeSocket, hostSockets, "#licenseAffinityToHost=90")
		image := c.image("windows-byol")
		host := c.hosts(1)[0]
		a, err := c.launch(image, ec2types.InstanceTypeM5Large, host, sockets)
		if err != nil {
			t.Fatal(err)
		}
		c.instanceState(a, "stop")
		if got := c.consumed(sockets); got != hostSockets {
			t.Fatalf("sockets consumed after the only instance stopped = %d, want %d: held for 90 days", got, hostSockets)
		}
		b, err := c.launch(image, ec2types.InstanceTypeM5Large, host, sockets)
		if err != nil {
			t.Fatalf("a launch on the host whose sockets are held: %v", err)
		}
		usage := c.usage(sockets)
		if got := c.consumed(sockets); got != hostSockets || len(usage) != 1 || aws.ToInt64(usage[b].ConsumedLicenses) != hostSockets {
			t.Fatalf("after the launch: %d consumed, usage %+v; want %d, held by %s alone", got, usage, hostSockets, b)
		}
		c.instanceState(a, "start")
		c.checkSockets("after the stopped instance started", sockets, map[string]string{a: host, b: host})
	})
}

// TestSelfManaged_ListLastRunTime checks that ListLicenseConfigurations shows when automated
// discovery last ran, as GetLicenseConfiguration does.
func TestSelfManaged_ListLastRunTime(t *testing.T) {
	ctx := context.Background()
	s := startServer(t, serverOptions{})
	lmc := lm.NewFromConfig(s.awsConfig(rootKeyID, rootSecret))
	oracle := oracleConfiguration(t, lmc, 64)
	plain, err := lmc.CreateLicenseConfiguration(ctx, &lm.CreateLicenseConfigurationInput{Name: aws.String("no products"),
		LicenseCountingType: lmtypes.LicenseCountingTypeInstance})
	if err != nil {
		t.Fatal(err)
	}
	got, err := lmc.GetLicenseConfiguration(ctx, &lm.GetLicenseConfigurationInput{LicenseConfigurationArn: aws.String(oracle)})
	if err != nil || got.AutomatedDiscoveryInformation == nil || got.AutomatedDiscoveryInformation.LastRunTime == nil {
		t.Fatalf("GetLicenseConfiguration = %+v, %v; want a LastRunTime", got, err)
	}
	want := *got.AutomatedDiscoveryInformation.LastRunTime
	list, err := lmc.ListLicenseConfigurations(ctx, &lm.ListLicenseConfigurationsInput{})
	if err != nil || len(list.LicenseConfigurations) != 2 {
		t.Fatalf("ListLicenseConfigurations = %+v, %v; want 2", list, err)
	}
	for _, lc := range list.LicenseConfigurations {
		switch d := lc.AutomatedDiscoveryInformation; aws.ToString(lc.LicenseConfigurationArn) {
		case oracle:
			if d == nil || d.LastRunTime == nil || !d.LastRunTime.Equal(want) {
				t.Errorf("listed AutomatedDiscoveryInformation = %+v, want LastRunTime %v", d, want)
			}
		case aws.ToString(plain.LicenseConfigurationArn):
			if d != nil {
				t.Errorf("a configuration without products listed with AutomatedDiscoveryInformation %+v", d)
			}
		}
	}
}

// TestSelfManaged_ManagedInstanceSpecifications checks ListLicenseSpecificationsForResource on
// a managed instance that automated discovery associated, on SQLite and PostgreSQL.
func TestSelfManaged_ManagedInstanceSpecifications(t *testing.T) {
	bothStores(t, func(t *testing.T, o serverOptions) {
		ctx := context.Background()
		s := startServer(t, o)
		cfg := s.awsConfig(rootKeyID, rootSecret)
		sc, lmc := ssm.NewFromConfig(cfg), lm.NewFromConfig(cfg)
		oracle := oracleConfiguration(t, lmc, 64)
		db := machine{id: "mi-0123456789abcdef0", platform: "Linux", cores: 8, apps: []string{"oracle-db"}}
		web := machine{id: "mi-0123456789abcdef1", platform: "Linux", cores: 2, apps: []string{"nginx"}}
		for _, m := range []machine{db, web} {
			if err := m.report(ctx, sc); err != nil {
				t.Fatalf("PutInventory(%s): %v", m.id, err)
			}
		}
		arn := func(id string) *string {
			return aws.String(fmt.Sprintf("arn:aws:ssm:%s:%s:managed-instance/%s", region, rootAccount, id))
		}
		out, err := lmc.ListLicenseSpecificationsForResource(ctx, &lm.ListLicenseSpecificationsForResourceInput{ResourceArn: arn(db.id)})
		if err != nil || len(out.LicenseSpecifications) != 1 || aws.ToString(out.LicenseSpecifications[0].LicenseConfigurationArn) != oracle {
			t.Fatalf("ListLicenseSpecificationsForResource(%s) = %+v, %v; want %s", db.id, out, err, oracle)
		}
		out, err = lmc.ListLicenseSpecificationsForResource(ctx, &lm.ListLicenseSpecificationsForResourceInput{ResourceArn: arn(web.id)})
		if err != nil || out.LicenseSpecifications == nil || len(out.LicenseSpecifications) != 0 {
			t.Errorf("ListLicenseSpecificationsForResource(%s) = %+v, %v; want none", web.id, out, err)
		}
		_, err = lmc.ListLicenseSpecificationsForResource(ctx, &lm.ListLicenseSpecificationsForResourceInput{ResourceArn: arn("mi-0123456789abcdef9")})
		wantAPIError(t, "an unknown managed instance", err, "InvalidParameterValueException", "does not exist")
		_, err = lmc.ListLicenseSpecificationsForResource(ctx, &lm.ListLicenseSpecificationsForResourceInput{
			ResourceArn: aws.String(fmt.Sprintf("arn:aws:ssm:%s:%s:managed-instance/i-0123", region, rootAccount))})
		wantAPIError(t, "a malformed managed-instance ARN", err, "InvalidParameterValueException", "managed instance")
	})
}
