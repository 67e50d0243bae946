package ec2

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/licenseconfig"
	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

func ptr[T any](v T) *T { return &v }

type fixture struct {
	t      *testing.T
	ctx    context.Context
	db     *store.DB
	lc     *licenseconfig.Service
	svc    *Service
	caller *identity.Principal
	image  string
}

func newFixture(t *testing.T) *fixture {
	db := storetest.OpenDSN(t, filepath.Join(t.TempDir(), "allot.db"), storetest.NewBox(t), store.Options{})
	lc := &licenseconfig.Service{DB: db, Logger: storetest.Quiet()}
	f := &fixture{t: t, ctx: context.Background(), db: db, lc: lc, svc: &Service{DB: db, Licenses: lc}, caller: identity.Root("111122223333", "AKIACALLER")}
	if err := db.Update(f.ctx, func(tx *store.Tx) error {
		return tx.CreateAccount(f.ctx, &store.Account{ID: f.caller.AccountID, Name: "a", Status: "ACTIVE", CreatedAt: tx.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	img, err := f.svc.RegisterImage(f.ctx, f.caller, &RegisterImageInput{Name: "os-image"})
	if err != nil {
		t.Fatal(err)
	}
	f.image = img.ImageID
	return f
}

func (f *fixture) config(typ string, count int64, hard bool, rules ...string) string {
	f.t.Helper()
	out, err := f.lc.CreateLicenseConfiguration(f.ctx, f.caller, &licenseconfig.CreateLicenseConfigurationInput{
		Name: "cfg", LicenseCountingType: typ, LicenseCount: &count, LicenseCountHardLimit: &hard, LicenseRules: rules})
	if err != nil {
		f.t.Fatal(err)
	}
	return out.LicenseConfigurationArn
}

func (f *fixture) consumed(arn string) int64 {
	f.t.Helper()
	out, err := f.lc.GetLicenseConfiguration(f.ctx, f.caller, &licenseconfig.GetLicenseConfigurationInput{LicenseConfigurationArn: arn})
	if err != nil {
		f.t.Fatal(err)
	}
	return out.ConsumedLicenses
}

// run launches instances of typ with the configurations named; min and max counts.
func (f *fixture) run(typ string, min, max int32, edit func(*RunInstancesInput), configs ...string) (*RunInstancesOutput, error) {
	in := &RunInstancesInput{ImageID: f.image, InstanceType: typ, MinCount: &min, MaxCount: &max}
	for _, c := range configs {
		in.LicenseSpecifications = append(in.LicenseSpecifications, LicenseConfigurationRequest{LicenseConfigurationArn: c})
	}
	if edit != nil {
		edit(in)
	}
	return f.svc.RunInstances(f.ctx, f.caller, in)
}

func wantCode(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	var e *awserr.Error
	if !errors.As(err, &e) || e.Code != code || !strings.Contains(e.Message, msg) {
		t.Fatalf("%s = %v, want %s containing %q", what, err, code, msg)
	}
}

func TestRunInstances_Validation(t *testing.T) {
	f := newFixture(t)
	host, err := f.svc.AllocateHosts(f.ctx, f.caller, &AllocateHostsInput{InstanceFamily: "m5", AvailabilityZone: "us-east-1a", Quantity: ptr[int32](1)})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		edit func(*RunInstancesInput)
		code string
		msg  string
	}{
		{"ErrNoImage", func(in *RunInstancesInput) { in.ImageID = "" }, ErrMissingParameter, "ImageId"},
		{"ErrMalformedImage", func(in *RunInstancesInput) { in.ImageID = "ami-x" }, "InvalidAMIID.Malformed", "ami-x"},
		{"ErrNoSuchImage", func(in *RunInstancesInput) { in.ImageID = "ami-00000000000000000" }, "InvalidAMIID.NotFound", "ami-00000000000000000"},
		{"ErrNoMinCount", func(in *RunInstancesInput) { in.MinCount = nil }, ErrMissingParameter, "MinCount"},
		{"ErrMinAboveMax", func(in *RunInstancesInput) { in.MinCount = ptr[int32](3) }, ErrInvalidParameterValue, "MinCount (3) must not be more than MaxCount (1)"},
		{"ErrType", func(in *RunInstancesInput) { in.InstanceType = "m5.huge" }, ErrInvalidParameterValue, "Invalid value 'm5.huge' for InstanceType"},
		{"ErrTenancy", func(in *RunInstancesInput) { in.Placement = &Placement{Tenancy: "shared"} }, ErrInvalidParameterValue, "Placement.Tenancy"},
		{"ErrHostWithoutID", func(in *RunInstancesInput) { in.Placement = &Placement{Tenancy: "host"} }, ErrInvalidParameterCombination, "needs Placement.HostId"},
		{"ErrNoSuchHost", func(in *RunInstancesInput) { in.Placement = &Placement{HostID: "h-00000000000000000"} }, "InvalidHostID.NotFound", "h-00000000000000000"},
		{"ErrHostFamily", func(in *RunInstancesInput) {
			in.InstanceType, in.Placement = "c5.large", &Placement{HostID: host.HostIDs[0]}
		}, ErrInvalidParameterValue, "runs m5 family instances, not c5.large"},
		{"ErrCoreCount", func(in *RunInstancesInput) { in.CPUOptions = &CPUOptionsRequest{CoreCount: ptr[int32](2)} }, ErrInvalidParameterValue, "CoreCount of m5.large must be between 1 and 1"},
		{"ErrThreads", func(in *RunInstancesInput) { in.CPUOptions = &CPUOptionsRequest{ThreadsPerCore: ptr[int32](3)} }, ErrInvalidParameterValue, "ThreadsPerCore"},
		{"ErrConfiguration", func(in *RunInstancesInput) {
			in.LicenseSpecifications = []LicenseConfigurationRequest{{LicenseConfigurationArn: "arn:aws:license-manager:us-east-1:111122223333:license-configuration:lic-00000000000000000000000000000000"}}
		}, ErrInvalidParameterValue, "does not exist in account"},
		{"ErrAZ", func(in *RunInstancesInput) { in.Placement = &Placement{AvailabilityZone: "eu-west-1a"} }, ErrInvalidParameterValue, "Invalid availability zone"},
		{"DryRun", func(in *RunInstancesInput) { in.DryRun = ptr(true) }, ErrDryRunOperation, "DryRun flag is set"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.run("m5.large", 1, 1, c.edit)
			wantCode(t, "RunInstances", err, c.code, c.msg)
		})
	}
	out, err := f.svc.DescribeInstances(f.ctx, f.caller, &DescribeInstancesInput{})
	if err != nil || len(out.Reservations) != 0 {
		t.Fatalf("refused launches left instances: %+v, %v", out, err)
	}
}

// TestRunInstances_Counts launches as many of MinCount..MaxCount as a hard limit allows.
func TestRunInstances_Counts(t *testing.T) {
	f := newFixture(t)
	cfg := f.config(licenseconfig.CountInstance, 5, true)
	out, err := f.run("t3.micro", 1, 8, nil, cfg)
	if err != nil || len(out.Instances) != 5 {
		t.Fatalf("RunInstances(1..8 under a limit of 5) = %d instances, %v; want 5", len(out.Instances), err)
	}
	for i, inst := range out.Instances {
		if inst.InstanceState.Name != StateRunning || inst.AmiLaunchIndex != int64(i) || len(inst.Licenses) != 1 || inst.Licenses[0].LicenseConfigurationArn != cfg {
			t.Fatalf("instance %d = %+v", i, inst)
		}
	}
	_, err = f.run("t3.micro", 1, 1, nil, cfg)
	wantCode(t, "RunInstances(full)", err, ErrLicenseUsage, "has a hard limit of 5 instances: 5 are in use, and this launch (t3.micro) needs 1 more")
	if got := f.consumed(cfg); got != 5 {
		t.Fatalf("consumed = %d, want 5", got)
	}
	// MinCount above what fits: refused, naming the launch.
	if _, err := f.svc.TerminateInstances(f.ctx, f.caller, &InstanceIDsInput{InstanceIDs: []string{out.Instances[0].InstanceID, out.Instances[1].InstanceID}}); err != nil {
		t.Fatal(err)
	}
	_, err = f.run("t3.micro", 3, 3, nil, cfg)
	wantCode(t, "RunInstances(3 when 2 fit)", err, ErrLicenseUsage, "3 are in use, and this launch of 3 t3.micro instances needs 3 more")
	fails, err := f.lc.ListFailuresForLicenseConfigurationOperations(f.ctx, f.caller, &licenseconfig.ListFailuresForLicenseConfigurationOperationsInput{LicenseConfigurationArn: cfg})
	if err != nil || len(fails.LicenseOperationFailureList) != 2 || fails.LicenseOperationFailureList[1].OperationName != "RunInstances" {
		t.Fatalf("failures = %+v, %v; want the two refused launches", fails, err)
	}
}

// TestRunInstances_Image checks that an image's configurations apply to its launches, and
// what DISABLED does.
func TestRunInstances_Image(t *testing.T) {
	f := newFixture(t)
	viaImage := f.config(licenseconfig.CountVCPU, 100, true, "#honorVcpuOptimization=true")
	named := f.config(licenseconfig.CountCore, 100, false)
	imageARN := licenseconfig.ImageARN("us-east-1", f.image)
	if _, err := f.lc.UpdateLicenseSpecificationsForResource(f.ctx, f.caller, &licenseconfig.UpdateLicenseSpecificationsForResourceInput{
		ResourceArn: imageARN, AddLicenseSpecifications: []licenseconfig.LicenseSpecification{{LicenseConfigurationArn: &viaImage}}}); err != nil {
		t.Fatal(err)
	}
	// m5.4xlarge: 16 vCPUs, 8 cores; launched with 4 cores × 2 threads = 8 vCPUs.
	out, err := f.run("m5.4xlarge", 1, 1, func(in *RunInstancesInput) { in.CPUOptions = &CPUOptionsRequest{CoreCount: ptr[int32](4)} }, named)
	if err != nil || len(out.Instances[0].Licenses) != 2 || out.Instances[0].CPUOptions.CoreCount != 4 {
		t.Fatalf("RunInstances = %+v, %v; want both configurations", out, err)
	}
	if got, want := f.consumed(viaImage), int64(8); got != want {
		t.Errorf("vCPUs consumed with honorVcpuOptimization = %d, want %d", got, want)
	}
	if got, want := f.consumed(named), int64(4); got != want {
		t.Errorf("cores consumed = %d, want %d", got, want)
	}
	// The image's configuration DISABLED: launches from it go untracked. A DISABLED
	// configuration named in the launch refuses it.
	for _, arn := range []string{viaImage, named} {
		if _, err := f.lc.UpdateLicenseConfiguration(f.ctx, f.caller, &licenseconfig.UpdateLicenseConfigurationInput{LicenseConfigurationArn: arn, LicenseConfigurationStatus: ptr("DISABLED")}); err != nil {
			t.Fatal(err)
		}
	}
	out, err = f.run("m5.4xlarge", 1, 1, nil)
	if err != nil || len(out.Instances[0].Licenses) != 0 {
		t.Fatalf("RunInstances from an image with a DISABLED configuration = %+v, %v; want an untracked launch", out, err)
	}
	_, err = f.run("m5.4xlarge", 1, 1, nil, named)
	wantCode(t, "RunInstances(DISABLED named)", err, ErrLicenseUsage, "is DISABLED")
	if got := f.consumed(viaImage); got != 8 {
		t.Errorf("DISABLED configuration's consumption changed to %d; existing resources are unaffected (8)", got)
	}
}

// TestStartStop: stopping returns units, starting takes them again or is refused.
func TestStartStop(t *testing.T) {
	f := newFixture(t)
	cfg := f.config(licenseconfig.CountVCPU, 8, true)
	a, err := f.run("m5.xlarge", 1, 1, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.run("m5.xlarge", 1, 1, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(o *RunInstancesOutput) *InstanceIDsInput {
		return &InstanceIDsInput{InstanceIDs: []string{o.Instances[0].InstanceID}}
	}
	stop, err := f.svc.StopInstances(f.ctx, f.caller, ids(a))
	if err != nil || stop.Instances[0].CurrentState.Code != 80 || stop.Instances[0].PreviousState.Code != 16 {
		t.Fatalf("StopInstances = %+v, %v", stop, err)
	}
	if got := f.consumed(cfg); got != 4 {
		t.Fatalf("consumed after a stop = %d, want 4", got)
	}
	c, err := f.run("m5.xlarge", 1, 1, nil, cfg) // takes the stopped instance's place
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.StartInstances(f.ctx, f.caller, ids(a))
	wantCode(t, "StartInstances(full)", err, ErrLicenseUsage, "has a hard limit of 8 vCPUs: 8 are in use, and instance "+a.Instances[0].InstanceID)
	d, err := f.svc.DescribeInstances(f.ctx, f.caller, &DescribeInstancesInput{InstanceIDs: []string{a.Instances[0].InstanceID}})
	if err != nil || d.Reservations[0].Instances[0].InstanceState.Name != StateStopped {
		t.Fatalf("refused start left %+v, %v; want stopped", d, err)
	}
	if _, err := f.svc.TerminateInstances(f.ctx, f.caller, ids(c)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.StartInstances(f.ctx, f.caller, ids(a)); err != nil {
		t.Fatalf("StartInstances after a terminate: %v", err)
	}
	if got := f.consumed(cfg); got != 8 {
		t.Fatalf("consumed = %d, want 8", got)
	}
	_, err = f.svc.StartInstances(f.ctx, f.caller, ids(c))
	wantCode(t, "StartInstances(terminated)", err, ErrIncorrectInstanceState, "terminated")
	_, err = f.svc.StopInstances(f.ctx, f.caller, &InstanceIDsInput{InstanceIDs: []string{"i-00000000000000000"}})
	wantCode(t, "StopInstances(no such)", err, "InvalidInstanceID.NotFound", "i-00000000000000000")
	_ = b
	// A terminated instance keeps nothing: its associations are gone.
	specs, err := f.lc.ListLicenseSpecificationsForResource(f.ctx, f.caller, &licenseconfig.ListLicenseSpecificationsForResourceInput{
		ResourceArn: licenseconfig.InstanceARN("us-east-1", f.caller.AccountID, c.Instances[0].InstanceID)})
	if err != nil || len(specs.LicenseSpecifications) != 0 {
		t.Fatalf("a terminated instance's specifications = %+v, %v; want none", specs, err)
	}
}

func TestHosts(t *testing.T) {
	f := newFixture(t)
	cfg := f.config(licenseconfig.CountSocket, 4, true)
	hosts, err := f.svc.AllocateHosts(f.ctx, f.caller, &AllocateHostsInput{InstanceType: "m5.8xlarge", AvailabilityZone: "us-east-1b", Quantity: ptr[int32](1), ClientToken: "h1"})
	if err != nil || len(hosts.HostIDs) != 1 {
		t.Fatalf("AllocateHosts = %+v, %v", hosts, err)
	}
	again, err := f.svc.AllocateHosts(f.ctx, f.caller, &AllocateHostsInput{InstanceType: "m5.8xlarge", AvailabilityZone: "us-east-1b", Quantity: ptr[int32](1), ClientToken: "h1"})
	if err != nil || len(again.HostIDs) != 1 || again.HostIDs[0] != hosts.HostIDs[0] {
		t.Fatalf("AllocateHosts(same ClientToken) = %+v, %v; want the same host", again, err)
	}
	h := hosts.HostIDs[0]
	onHost := func(in *RunInstancesInput) { in.Placement = &Placement{Tenancy: "host", HostID: h} }
	var launched []string
	for range 3 { // an m5 host has 96 vCPUs: three m5.8xlarge of 32
		out, err := f.run("m5.8xlarge", 1, 1, onHost)
		if err != nil {
			t.Fatalf("RunInstances on the host: %v", err)
		}
		if p := out.Instances[0].Placement; p.HostID != h || p.Tenancy != "host" || p.AvailabilityZone != "us-east-1b" {
			t.Fatalf("placement = %+v", p)
		}
		launched = append(launched, out.Instances[0].InstanceID)
	}
	_, err = f.run("m5.8xlarge", 1, 1, onHost)
	wantCode(t, "RunInstances(host full)", err, ErrInsufficientHostCapacity, "room for 0 more vCPUs")
	_, err = f.run("m5.4xlarge", 1, 1, onHost)
	wantCode(t, "RunInstances(other size on a typed host)", err, ErrInvalidParameterValue, "runs m5.8xlarge instances")

	// Sockets are counted for the host when it is associated.
	hostARN := licenseconfig.HostARN("us-east-1", f.caller.AccountID, h)
	if _, err := f.lc.UpdateLicenseSpecificationsForResource(f.ctx, f.caller, &licenseconfig.UpdateLicenseSpecificationsForResourceInput{
		ResourceArn: hostARN, AddLicenseSpecifications: []licenseconfig.LicenseSpecification{{LicenseConfigurationArn: &cfg}}}); err != nil {
		t.Fatal(err)
	}
	if got := f.consumed(cfg); got != 2 {
		t.Fatalf("sockets consumed by an m5 host = %d, want 2", got)
	}
	desc, err := f.svc.DescribeHosts(f.ctx, f.caller, &DescribeHostsInput{HostIDs: []string{h}})
	if err != nil || len(desc.Hosts) != 1 || len(desc.Hosts[0].Instances) != 3 || desc.Hosts[0].HostProperties.Sockets != 2 ||
		desc.Hosts[0].HostProperties.Cores != 48 || desc.Hosts[0].HostProperties.TotalVCpus != 96 || desc.Hosts[0].AllowsMultipleInstanceTypes != "off" {
		t.Fatalf("DescribeHosts = %+v, %v", desc, err)
	}
	rel, err := f.svc.ReleaseHosts(f.ctx, f.caller, &ReleaseHostsInput{HostIDs: []string{h}})
	if err != nil || len(rel.Successful) != 0 || len(rel.Unsuccessful) != 1 || rel.Unsuccessful[0].Error.Code != "Client.InvalidHost.Occupied" {
		t.Fatalf("ReleaseHosts(occupied) = %+v, %v", rel, err)
	}
	if _, err := f.svc.TerminateInstances(f.ctx, f.caller, &InstanceIDsInput{InstanceIDs: launched}); err != nil {
		t.Fatal(err)
	}
	rel, err = f.svc.ReleaseHosts(f.ctx, f.caller, &ReleaseHostsInput{HostIDs: []string{h}})
	if err != nil || len(rel.Successful) != 1 {
		t.Fatalf("ReleaseHosts = %+v, %v", rel, err)
	}
	if got := f.consumed(cfg); got != 0 {
		t.Fatalf("sockets consumed after the host's release = %d, want 0", got)
	}
	_, err = f.svc.AllocateHosts(f.ctx, f.caller, &AllocateHostsInput{InstanceFamily: "p4", AvailabilityZone: "us-east-1a", Quantity: ptr[int32](1)})
	wantCode(t, "AllocateHosts(unknown family)", err, ErrInvalidParameterValue, "p4")
}

func TestRunInstances_ClientToken(t *testing.T) {
	f := newFixture(t)
	cfg := f.config(licenseconfig.CountInstance, 10, true)
	first, err := f.run("t3.small", 2, 2, func(in *RunInstancesInput) { in.ClientToken = "tok" }, cfg)
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.run("t3.small", 2, 2, func(in *RunInstancesInput) { in.ClientToken = "tok" }, cfg)
	if err != nil || again.ReservationID != first.ReservationID || len(again.Instances) != 2 || again.Instances[0].InstanceID != first.Instances[0].InstanceID {
		t.Fatalf("RunInstances(retry) = %+v, %v; want reservation %s", again, err, first.ReservationID)
	}
	if got := f.consumed(cfg); got != 2 {
		t.Fatalf("consumed after a retry = %d, want 2", got)
	}
}

func TestInstanceTypes(t *testing.T) {
	cases := []struct {
		name                  string
		vcpus, cores, threads int64
	}{
		{"m5.large", 2, 1, 2}, {"m5.8xlarge", 32, 16, 2}, {"c5.9xlarge", 36, 18, 2}, {"t3.nano", 2, 1, 2}, {"m6g.xlarge", 4, 4, 1}, {"m6i.32xlarge", 128, 64, 2},
	}
	for _, c := range cases {
		it, ok := LookupInstanceType(c.name)
		if !ok || it.VCPUs != c.vcpus || it.Cores != c.cores || it.ThreadsPerCore != c.threads {
			t.Errorf("LookupInstanceType(%s) = %+v, %v", c.name, it, ok)
		}
	}
	for _, name := range InstanceTypes() {
		it, _ := LookupInstanceType(name)
		if it.Cores*it.ThreadsPerCore != it.VCPUs {
			t.Errorf("%s: %d cores × %d threads ≠ %d vCPUs", name, it.Cores, it.ThreadsPerCore, it.VCPUs)
		}
		h, ok := LookupHostFamily(it.Family())
		if !ok || h.VCPUs < it.VCPUs {
			t.Errorf("%s: its host %+v cannot hold it", name, h)
		}
	}
	if _, ok := LookupInstanceType("m5"); ok {
		t.Errorf("LookupInstanceType(m5) found a family")
	}
}
