package ec2

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/licenseconfig"
	"github.com/allot-dev/allot/internal/store"
)

const maxInstancesPerLaunch = 100

// maxUserDataBytes is the most user data an instance takes, before base64 encoding (16 KB).
const maxUserDataBytes = 16 << 10

// Placement is where an instance runs.
type Placement struct {
	AvailabilityZone string `xml:"availabilityZone"`
	Tenancy          string `xml:"tenancy"`
	HostID           string `query:"HostId" xml:"hostId,omitempty"`
	GroupName        string `xml:"groupName,omitempty"`
	Affinity         string `xml:"affinity,omitempty"`
}

// CPUOptionsRequest asks for fewer cores or threads than an instance type's default.
type CPUOptionsRequest struct {
	CoreCount      *int32
	ThreadsPerCore *int32
}

// LicenseConfigurationRequest names a license configuration a launch is associated with.
type LicenseConfigurationRequest struct {
	LicenseConfigurationArn string
}

// RunInstancesInput is the input of RunInstances. Members the subset does not model are
// refused as unknown parameters.
type RunInstancesInput struct {
	ImageID               string `query:"ImageId"`
	InstanceType          string
	MinCount              *int32
	MaxCount              *int32
	Placement             *Placement
	CPUOptions            *CPUOptionsRequest            `query:"CpuOptions"`
	LicenseSpecifications []LicenseConfigurationRequest `query:"LicenseSpecification"`
	ClientToken           string
	KeyName               string
	SubnetID              string   `query:"SubnetId"`
	SecurityGroupIDs      []string `query:"SecurityGroupId"`
	SecurityGroups        []string `query:"SecurityGroup"`
	UserData              string
	TagSpecifications     []TagSpecification `query:"TagSpecification"`
	DryRun                *bool
}

// CPUOptions is an instance's CPU topology.
type CPUOptions struct {
	CoreCount      int64 `xml:"coreCount"`
	ThreadsPerCore int64 `xml:"threadsPerCore"`
}

// LicenseConfiguration names a license configuration an instance is associated with.
type LicenseConfiguration struct {
	LicenseConfigurationArn string `xml:"licenseConfigurationArn"`
}

// Instance is an instance as EC2 describes it.
type Instance struct {
	InstanceID         string                 `xml:"instanceId"`
	ImageID            string                 `xml:"imageId"`
	InstanceState      stateXML               `xml:"instanceState"`
	PrivateDNSName     string                 `xml:"privateDnsName"`
	DNSName            string                 `xml:"dnsName"`
	AmiLaunchIndex     int64                  `xml:"amiLaunchIndex"`
	InstanceType       string                 `xml:"instanceType"`
	LaunchTime         time.Time              `xml:"launchTime"`
	Placement          Placement              `xml:"placement"`
	Monitoring         Monitoring             `xml:"monitoring"`
	Architecture       string                 `xml:"architecture"`
	RootDeviceType     string                 `xml:"rootDeviceType"`
	VirtualizationType string                 `xml:"virtualizationType"`
	Hypervisor         string                 `xml:"hypervisor"`
	PlatformDetails    string                 `xml:"platformDetails"`
	UsageOperation     string                 `xml:"usageOperation"`
	CPUOptions         CPUOptions             `xml:"cpuOptions"`
	Licenses           []LicenseConfiguration `xml:"licenseSet>item,omitempty"`
	ClientToken        string                 `xml:"clientToken,omitempty"`
	Tags               []TagXML               `xml:"tagSet>item,omitempty"`
}

// Monitoring says whether detailed monitoring is on: never here.
type Monitoring struct {
	State string `xml:"state"`
}

// RunInstancesOutput is the output of RunInstances: a reservation.
type RunInstancesOutput struct {
	ReservationID string     `xml:"reservationId"`
	OwnerID       string     `xml:"ownerId"`
	Groups        []struct{} `xml:"groupSet>item"`
	Instances     []Instance `xml:"instancesSet>item"`
}

// launch is a checked RunInstances request.
type launch struct {
	typ     InstanceType
	image   *store.Resource
	host    *store.Resource // nil unless on a Dedicated Host
	tenancy string
	cores   int64
	threads int64
	cpuOpts bool
	az      string
}

// checkLaunch checks what RunInstances can check before its transaction.
func checkLaunch(in *RunInstancesInput) (min, max int, err error) {
	if in.ImageID == "" {
		return 0, 0, missing("ImageId")
	}
	if !imageIDPattern.MatchString(in.ImageID) {
		return 0, 0, awserr.New("InvalidAMIID.Malformed", "Invalid id: %q (expecting \"ami-...\")", in.ImageID)
	}
	if in.MinCount == nil {
		return 0, 0, missing("MinCount")
	}
	if in.MaxCount == nil {
		return 0, 0, missing("MaxCount")
	}
	min, max = int(*in.MinCount), int(*in.MaxCount)
	if min < 1 || max < 1 {
		return 0, 0, invalid("MinCount and MaxCount must be at least 1, not %d and %d.", min, max)
	}
	if min > max {
		return 0, 0, invalid("MinCount (%d) must not be more than MaxCount (%d).", min, max)
	}
	if max > maxInstancesPerLaunch {
		return 0, 0, invalid("MaxCount must be at most %d on this server, not %d.", maxInstancesPerLaunch, max)
	}
	if err := checkClientToken(in.ClientToken); err != nil {
		return 0, 0, err
	}
	if len(in.UserData) > base64.StdEncoding.EncodedLen(maxUserDataBytes) {
		return 0, 0, invalid("User data is limited to %d bytes before base64 encoding; this is %d base64 characters.", maxUserDataBytes, len(in.UserData))
	}
	if in.InstanceType == "" {
		in.InstanceType = "m5.large"
	}
	if _, ok := LookupInstanceType(in.InstanceType); !ok {
		return 0, 0, invalid("Invalid value '%s' for InstanceType: this server knows %s.", in.InstanceType, strings.Join(InstanceTypes(), ", "))
	}
	if p := in.Placement; p != nil {
		switch p.Tenancy {
		case "", "default", "dedicated", "host":
		default:
			return 0, 0, invalid("Invalid value '%s' for Placement.Tenancy: default, dedicated or host.", p.Tenancy)
		}
		if p.HostID != "" && !hostIDPattern.MatchString(p.HostID) {
			return 0, 0, awserr.New("InvalidHostID.Malformed", "Invalid id: %q (expecting \"h-...\")", p.HostID)
		}
		if p.HostID != "" && p.Tenancy != "" && p.Tenancy != "host" {
			return 0, 0, awserr.New(ErrInvalidParameterCombination, "Placement.HostId needs Placement.Tenancy host, not %s.", p.Tenancy)
		}
		if p.Tenancy == "host" && p.HostID == "" {
			return 0, 0, awserr.New(ErrInvalidParameterCombination, "Placement.Tenancy host needs Placement.HostId: this server does not place instances on hosts automatically.")
		}
	}
	for i, l := range in.LicenseSpecifications {
		if l.LicenseConfigurationArn == "" {
			return 0, 0, missing(fmt.Sprintf("LicenseSpecification.%d.LicenseConfigurationArn", i+1))
		}
	}
	return min, max, nil
}

// resolve reads what a launch runs from and on, inside its transaction.
func (s *Service) resolve(ctx context.Context, tx *store.Tx, caller *identity.Principal, region string, in *RunInstancesInput) (*launch, error) {
	t, _ := LookupInstanceType(in.InstanceType)
	l := &launch{typ: t, tenancy: "default", cores: t.Cores, threads: t.ThreadsPerCore, az: region + "a"}
	img, err := tx.Resource(ctx, licenseconfig.ImageARN(region, in.ImageID))
	if isNotFound(err) || err == nil && (img.AccountID != caller.AccountID || img.State != ImageAvailable) {
		return nil, awserr.New("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", in.ImageID)
	}
	if err != nil {
		return nil, err
	}
	l.image = img
	if p := in.Placement; p != nil {
		l.tenancy = cmp.Or(p.Tenancy, l.tenancy)
		if p.AvailabilityZone != "" {
			l.az = p.AvailabilityZone
		}
		if p.HostID != "" {
			l.tenancy = "host"
			// Locked: whether the host's own license covers the launch (licenseconfig.Admit)
			// must not change until it commits.
			h, err := tx.LockResource(ctx, licenseconfig.HostARN(region, caller.AccountID, p.HostID))
			if isNotFound(err) || err == nil && h.State != HostAvailable {
				return nil, awserr.New("InvalidHostID.NotFound", "The host ID '%s' does not exist or is released.", p.HostID)
			}
			if err != nil {
				return nil, err
			}
			if h.InstanceFamily != t.Family() || h.InstanceType != "" && h.InstanceType != t.Name {
				return nil, invalid("Host %s runs %s instances, not %s.", h.ID, cmp.Or(h.InstanceType, h.InstanceFamily+" family"), t.Name)
			}
			if p.AvailabilityZone != "" && p.AvailabilityZone != h.AvailabilityZone {
				return nil, invalid("Host %s is in %s, not %s.", h.ID, h.AvailabilityZone, p.AvailabilityZone)
			}
			l.host, l.az = h, h.AvailabilityZone
		}
	}
	if !strings.HasPrefix(l.az, region) {
		return nil, invalid("Invalid availability zone: [%s]; this request is for region %s.", l.az, region)
	}
	if o := in.CPUOptions; o != nil {
		l.cpuOpts = true
		if o.CoreCount != nil {
			if *o.CoreCount < 1 || int64(*o.CoreCount) > t.Cores {
				return nil, invalid("CpuOptions.CoreCount of %s must be between 1 and %d, not %d.", t.Name, t.Cores, *o.CoreCount)
			}
			l.cores = int64(*o.CoreCount)
		}
		if o.ThreadsPerCore != nil {
			if *o.ThreadsPerCore < 1 || int64(*o.ThreadsPerCore) > t.ThreadsPerCore {
				return nil, invalid("CpuOptions.ThreadsPerCore of %s must be between 1 and %d, not %d.", t.Name, t.ThreadsPerCore, *o.ThreadsPerCore)
			}
			l.threads = int64(*o.ThreadsPerCore)
		}
	}
	return l, nil
}

// resource returns the inventory row of an instance of l (ID empty for the template Admit
// checks).
func (l *launch) resource(caller *identity.Principal, region, id, reservation, clientToken string, index int, now time.Time) *store.Resource {
	r := &store.Resource{
		ID: id, Type: store.ResourceInstance, AccountID: caller.AccountID, Region: region, State: StateRunning,
		InstanceType: l.typ.Name, InstanceFamily: l.typ.Family(), Platform: l.image.Platform, Architecture: l.typ.Architecture, VCPUs: l.typ.VCPUs, Cores: l.cores,
		ThreadsPerCore: l.threads, CPUOptions: l.cpuOpts, Tenancy: l.tenancy, ImageID: l.image.ID, AvailabilityZone: l.az,
		ReservationID: reservation, LaunchIndex: int64(index), ClientToken: clientToken, CreatedAt: now, UpdatedAt: now, LastSeenAt: now,
	}
	if id != "" {
		r.ARN = licenseconfig.InstanceARN(region, caller.AccountID, id)
	}
	if l.host != nil {
		r.HostID, r.Sockets = l.host.ID, l.host.Sockets
	}
	return r
}

// RunInstances launches MinCount to MaxCount instances of an image, as many as the hard
// limits of their license configurations leave room for. The configurations are those named
// in LicenseSpecification and those associated with the image; each instance is checked
// against their rules and takes its units (vCPUs, cores, the host's sockets, or one
// instance) in the same transaction that creates it, so a launch that a rule or a hard limit
// refuses writes nothing and is answered LicenseUsageException with the reason (and recorded
// for ListFailuresForLicenseConfigurationOperations). On a Dedicated Host (Placement.HostId)
// the instances must be of the host's family and fit in its vCPUs. Instances run at once. A
// repeated ClientToken returns the first reservation. TagSpecification tags the instances
// (resource type instance) in the same transaction; tags for volume and network-interface are
// checked and dropped, as those do not exist here; tagging needs ec2:CreateTags too, as in EC2
// (authorizeTagOnCreate). Errors: MissingParameter, InvalidParameterValue,
// InvalidParameterCombination, InvalidAMIID.*, InvalidHostID.*, InvalidTagKey.Malformed,
// TagLimitExceeded, UnauthorizedOperation, InsufficientHostCapacity, LicenseUsageException,
// DryRunOperation.
func (s *Service) RunInstances(ctx context.Context, caller *identity.Principal, in *RunInstancesInput) (*RunInstancesOutput, error) {
	minCount, maxCount, err := checkLaunch(in)
	if err != nil {
		return nil, err
	}
	// Volumes and network interfaces do not exist here: their tags are checked and dropped.
	tags, err := tagsOnCreate(in.TagSpecifications, TypeInstance, "volume", "network-interface")
	if err != nil {
		return nil, err
	}
	region := licenseconfig.RequestRegion(ctx)
	reservation := newID("r")
	ids := make([]string, maxCount)
	arns := make([]string, maxCount)
	for i := range ids {
		ids[i] = newID("i")
		arns[i] = licenseconfig.InstanceARN(region, caller.AccountID, ids[i])
	}
	if err := s.authorizeTagOnCreate(ctx, caller, "RunInstances", arns, tags); err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	specs := make([]string, len(in.LicenseSpecifications))
	for i, l := range in.LicenseSpecifications {
		specs[i] = l.LicenseConfigurationArn
	}
	var refused *store.Resource // the first instance of a refused launch, for the failure record
	out, err := store.Apply(ctx, s.DB, func(tx *store.Tx) (*RunInstancesOutput, error) {
		refused = nil
		if in.ClientToken != "" {
			prev, err := tx.Resources(ctx, store.ResourceQuery{AccountID: caller.AccountID, Region: region,
				Types: []string{store.ResourceInstance}, ClientToken: in.ClientToken})
			if err != nil {
				return nil, err
			}
			if len(prev) > 0 {
				slices.SortFunc(prev, func(a, b *store.Resource) int { return cmp.Compare(a.LaunchIndex, b.LaunchIndex) })
				return s.reservation(ctx, tx, prev)
			}
		}
		l, err := s.resolve(ctx, tx, caller, region, in)
		if err != nil {
			return nil, err
		}
		now := tx.Now()
		refused = l.resource(caller, region, ids[0], reservation, in.ClientToken, 0, now)
		adm, err := s.Licenses.Admit(ctx, tx, caller, l.resource(caller, region, "", "", "", 0, now), specs)
		if err != nil {
			return nil, licenseError(err)
		}
		n := max(adm.Fit(maxCount), minCount) // fewer than MinCount: Consume refuses with the reason
		insts := make([]*store.Resource, n)
		for i := range insts {
			insts[i] = l.resource(caller, region, ids[i], reservation, in.ClientToken, i, now)
			if err := tx.AddResource(ctx, insts[i]); err != nil {
				return nil, err
			}
			if err := putTags(ctx, tx, tags, insts[i].ARN); err != nil {
				return nil, err
			}
		}
		if err := s.Licenses.Consume(ctx, tx, adm, insts); err != nil {
			return nil, licenseError(err)
		}
		if l.host != nil {
			if ok, err := tx.TakeHostCapacity(ctx, l.host.ARN, l.typ.VCPUs*int64(n)); err != nil {
				return nil, err
			} else if !ok {
				return nil, awserr.New(ErrInsufficientHostCapacity, "Host %s has room for %d more vCPUs; %d %s instances need %d.",
					l.host.ID, max(l.host.VCPUs-l.host.UsedVCPUs, 0), n, l.typ.Name, l.typ.VCPUs*int64(n))
			}
		}
		return s.reservation(ctx, tx, insts)
	})
	if err != nil && refused != nil {
		if rerr := s.Licenses.RecordFailure(ctx, caller, "RunInstances", refused, err); rerr != nil {
			return nil, fmt.Errorf("ec2: RunInstances: record the refusal: %w", rerr)
		}
	}
	return out, wrap("RunInstances", err)
}

// reservation describes instances of one reservation.
func (s *Service) reservation(ctx context.Context, tx *store.Tx, insts []*store.Resource) (*RunInstancesOutput, error) {
	out := &RunInstancesOutput{ReservationID: insts[0].ReservationID, OwnerID: insts[0].AccountID, Groups: []struct{}{}}
	tags, err := resourceTags(ctx, tx, insts)
	if err != nil {
		return nil, err
	}
	for _, r := range insts {
		v, err := describeInstance(ctx, tx, r, tags[r.ARN])
		if err != nil {
			return nil, err
		}
		out.Instances = append(out.Instances, *v)
	}
	return out, nil
}

// describeInstance returns an instance as EC2 describes it, with its license configurations
// and tags.
func describeInstance(ctx context.Context, tx *store.Tx, r *store.Resource, tags []store.Tag) (*Instance, error) {
	v := &Instance{
		InstanceID: r.ID, ImageID: r.ImageID, InstanceState: stateOf(r.State), AmiLaunchIndex: r.LaunchIndex, InstanceType: r.InstanceType,
		LaunchTime: r.CreatedAt, Placement: Placement{AvailabilityZone: r.AvailabilityZone, Tenancy: r.Tenancy, HostID: r.HostID},
		Architecture: r.Architecture, RootDeviceType: "ebs", VirtualizationType: "hvm", Hypervisor: "xen",
		PlatformDetails: r.Platform, UsageOperation: "RunInstances", CPUOptions: CPUOptions{CoreCount: r.Cores, ThreadsPerCore: r.ThreadsPerCore},
		ClientToken: r.ClientToken, Tags: tagSet(tags),
	}
	v.Monitoring.State = "disabled"
	us, err := tx.ResourceLicenseUsage(ctx, r.ARN)
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		v.Licenses = append(v.Licenses, LicenseConfiguration{LicenseConfigurationArn: u.ConfigARN})
	}
	return v, nil
}

// InstanceIDsInput is the input of StartInstances, StopInstances and TerminateInstances.
type InstanceIDsInput struct {
	InstanceIDs    []string `query:"InstanceId"`
	AdditionalInfo string
	Force          *bool
	Hibernate      *bool
	SkipOsShutdown *bool
	DryRun         *bool
}

// InstanceStateChange is one instance's change of state.
type InstanceStateChange struct {
	InstanceID    string   `xml:"instanceId"`
	CurrentState  stateXML `xml:"currentState"`
	PreviousState stateXML `xml:"previousState"`
}

// InstanceStateChangeOutput is the output of StartInstances, StopInstances and TerminateInstances.
type InstanceStateChangeOutput struct {
	Instances []InstanceStateChange `xml:"instancesSet>item"`
}

// change moves each instance named, in one transaction: all or none.
func (s *Service) change(ctx context.Context, caller *identity.Principal, op string, in *InstanceIDsInput,
	step func(ctx context.Context, tx *store.Tx, r *store.Resource) (string, error)) (*InstanceStateChangeOutput, error) {
	if len(in.InstanceIDs) == 0 {
		return nil, missing("InstanceId")
	}
	if len(in.InstanceIDs) > 1000 {
		return nil, invalid("At most 1000 instance IDs per call, not %d.", len(in.InstanceIDs))
	}
	if err := checkIDs("InvalidInstanceID", instanceIDPattern, in.InstanceIDs); err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	region := licenseconfig.RequestRegion(ctx)
	out, err := store.Apply(ctx, s.DB, func(tx *store.Tx) (*InstanceStateChangeOutput, error) {
		out := &InstanceStateChangeOutput{}
		for _, id := range in.InstanceIDs {
			r, err := tx.LockResource(ctx, licenseconfig.InstanceARN(region, caller.AccountID, id))
			if isNotFound(err) || err == nil && s.longGone(r) {
				return nil, awserr.New("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", id)
			}
			if err != nil {
				return nil, err
			}
			prev := r.State
			next, err := step(ctx, tx, r)
			if err != nil {
				return nil, err
			}
			out.Instances = append(out.Instances, InstanceStateChange{InstanceID: id, CurrentState: stateOf(next), PreviousState: stateOf(prev)})
		}
		return out, nil
	})
	return out, wrap(op, err)
}

// stop moves a locked instance from pending or running to state (stopped or terminated),
// returning its licenses (and its associations when terminated) and its host's vCPUs.
func (s *Service) stop(ctx context.Context, tx *store.Tx, r *store.Resource, state string) error {
	wasRunning := r.State == StatePending || r.State == StateRunning
	if _, err := tx.SetResourceState(ctx, r.ARN, []string{r.State}, state, tx.Now()); err != nil {
		return err
	}
	// The host's row before the configurations', in the order launches lock them.
	if wasRunning && r.HostID != "" {
		t, _ := LookupInstanceType(r.InstanceType)
		if err := tx.ReleaseHostCapacity(ctx, licenseconfig.HostARN(r.Region, r.AccountID, r.HostID), t.VCPUs); err != nil {
			return err
		}
	}
	return s.Licenses.Release(ctx, tx, r, state == StateTerminated)
}

// StopInstances stops running instances of the caller's: each returns the licenses it holds
// (its associations stay, and take units again when it starts) and its place on a Dedicated
// Host. Stopping a stopped instance does nothing. Errors: MissingParameter,
// InvalidInstanceID.*, IncorrectInstanceState (a terminated instance).
func (s *Service) StopInstances(ctx context.Context, caller *identity.Principal, in *InstanceIDsInput) (*InstanceStateChangeOutput, error) {
	return s.change(ctx, caller, "StopInstances", in, func(ctx context.Context, tx *store.Tx, r *store.Resource) (string, error) {
		switch r.State {
		case StateStopped:
			return StateStopped, nil
		case StateTerminated, StateShuttingDown:
			return "", awserr.New(ErrIncorrectInstanceState, "The instance '%s' is not in a state from which it can be stopped (%s).", r.ID, r.State)
		}
		return StateStopped, s.stop(ctx, tx, r, StateStopped)
	})
}

// TerminateInstances terminates instances of the caller's: each returns the licenses it holds
// and loses its associations. Terminating a terminated instance does nothing. Errors:
// MissingParameter, InvalidInstanceID.*.
func (s *Service) TerminateInstances(ctx context.Context, caller *identity.Principal, in *InstanceIDsInput) (*InstanceStateChangeOutput, error) {
	return s.change(ctx, caller, "TerminateInstances", in, func(ctx context.Context, tx *store.Tx, r *store.Resource) (string, error) {
		if r.State == StateTerminated {
			return StateTerminated, nil
		}
		return StateTerminated, s.stop(ctx, tx, r, StateTerminated)
	})
}

// StartInstances starts stopped instances of the caller's. Each takes the units of its
// license configurations again, checked against their rules and hard limits as at launch
// (configurations DISABLED since do not track it), and its place on its Dedicated Host; if
// one is refused, none starts. Starting a running instance does nothing. Errors:
// MissingParameter, InvalidInstanceID.*, IncorrectInstanceState, LicenseUsageException,
// InsufficientHostCapacity.
func (s *Service) StartInstances(ctx context.Context, caller *identity.Principal, in *InstanceIDsInput) (*InstanceStateChangeOutput, error) {
	var refused *store.Resource
	out, err := s.change(ctx, caller, "StartInstances", in, func(ctx context.Context, tx *store.Tx, r *store.Resource) (string, error) {
		switch r.State {
		case StateRunning, StatePending:
			return r.State, nil
		case StateStopped:
		default:
			return "", awserr.New(ErrIncorrectInstanceState, "The instance '%s' is not in a state from which it can be started (%s).", r.ID, r.State)
		}
		if r.HostID != "" {
			t, _ := LookupInstanceType(r.InstanceType)
			ok, err := tx.TakeHostCapacity(ctx, licenseconfig.HostARN(r.Region, r.AccountID, r.HostID), t.VCPUs)
			if err != nil {
				return "", err
			}
			if !ok {
				return "", awserr.New(ErrInsufficientHostCapacity, "Host %s has no room left for %s (%s) or is released.", r.HostID, r.ID, r.InstanceType)
			}
		}
		if _, err := tx.SetResourceState(ctx, r.ARN, []string{StateStopped}, StateRunning, tx.Now()); err != nil {
			return "", err
		}
		r.State = StateRunning
		if err := s.Licenses.Resume(ctx, tx, r); err != nil {
			refused = r
			return "", licenseError(err)
		}
		return StateRunning, nil
	})
	if err != nil && refused != nil {
		if rerr := s.Licenses.RecordFailure(ctx, caller, "StartInstances", refused, err); rerr != nil {
			return nil, fmt.Errorf("ec2: StartInstances: record the refusal: %w", rerr)
		}
	}
	return out, err
}

// DescribeInstancesInput is the input of DescribeInstances.
type DescribeInstancesInput struct {
	InstanceIDs []string `query:"InstanceId"`
	Filters     []Filter `query:"Filter"`
	MaxResults  *int32
	NextToken   *string
	DryRun      *bool
}

// Reservation is a group of instances launched together.
type Reservation struct {
	ReservationID string     `xml:"reservationId"`
	OwnerID       string     `xml:"ownerId"`
	Groups        []struct{} `xml:"groupSet>item"`
	Instances     []Instance `xml:"instancesSet>item"`
}

// DescribeInstancesOutput is the output of DescribeInstances.
type DescribeInstancesOutput struct {
	Reservations []Reservation `xml:"reservationSet>item"`
	NextToken    *string       `xml:"nextToken"`
}

// DescribeInstances describes the caller's instances (those named, or all), grouped by
// reservation, in instance ID order. As in EC2, a terminated instance is shown for an hour
// (TerminatedVisibility), then it is gone: named, it is InvalidInstanceID.NotFound. Filters: instance-state-name,
// instance-id, instance-type, image-id, host-id, tag:<key>, tag-key (values match exactly).
// Errors: InvalidInstanceID.*, InvalidParameterValue.
func (s *Service) DescribeInstances(ctx context.Context, caller *identity.Principal, in *DescribeInstancesInput) (*DescribeInstancesOutput, error) {
	if err := checkIDs("InvalidInstanceID", instanceIDPattern, in.InstanceIDs); err != nil {
		return nil, err
	}
	fs, err := filters(in.Filters, "instance-state-name", "instance-id", "instance-type", "image-id", "host-id", "tag:<key>", "tag-key")
	if err != nil {
		return nil, err
	}
	if len(in.InstanceIDs) > 0 && in.MaxResults != nil {
		return nil, awserr.New(ErrInvalidParameterCombination, "The parameter instancesSet cannot be used with the parameter maxResults")
	}
	limit, after, err := page(in.MaxResults, in.NextToken, 5)
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	ids := append(append([]string(nil), in.InstanceIDs...), fs["instance-id"]...)
	region := licenseconfig.RequestRegion(ctx)
	out, err := store.Read(ctx, s.DB, func(tx *store.Tx) (*DescribeInstancesOutput, error) {
		rs, err := tx.Resources(ctx, store.ResourceQuery{AccountID: caller.AccountID, Region: region, Types: []string{store.ResourceInstance},
			IDs: ids, States: fs["instance-state-name"], InstanceTypes: fs["instance-type"], ImageIDs: fs["image-id"], HostIDs: fs["host-id"],
			Tags: tagFilters(fs), After: after, Limit: limit + 1, TerminatedSince: s.now().Add(-TerminatedVisibility)})
		if err != nil {
			return nil, err
		}
		if len(fs) == 0 {
			if err := allFound("InvalidInstanceID.NotFound", "instance", in.InstanceIDs, rs, after); err != nil {
				return nil, err
			}
		}
		out := &DescribeInstancesOutput{Reservations: []Reservation{}}
		if len(rs) > limit {
			rs = rs[:limit]
			out.NextToken = nextToken(rs[limit-1].ID)
		}
		tags, err := resourceTags(ctx, tx, rs)
		if err != nil {
			return nil, err
		}
		byReservation := map[string]int{}
		for _, r := range rs {
			v, err := describeInstance(ctx, tx, r, tags[r.ARN])
			if err != nil {
				return nil, err
			}
			i, ok := byReservation[r.ReservationID]
			if !ok {
				i = len(out.Reservations)
				byReservation[r.ReservationID] = i
				out.Reservations = append(out.Reservations, Reservation{ReservationID: r.ReservationID, OwnerID: r.AccountID, Groups: []struct{}{}})
			}
			out.Reservations[i].Instances = append(out.Reservations[i].Instances, *v)
		}
		return out, nil
	})
	return out, wrap("DescribeInstances", err)
}

// TerminatedVisibility is how long a terminated instance is still described, as in EC2.
const TerminatedVisibility = time.Hour

// longGone reports whether r is an instance terminated more than TerminatedVisibility ago:
// EC2 no longer knows it.
func (s *Service) longGone(r *store.Resource) bool {
	return r.State == StateTerminated && r.UpdatedAt.Before(s.now().Add(-TerminatedVisibility))
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
