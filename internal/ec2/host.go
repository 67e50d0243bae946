package ec2

import (
	"context"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/licenseconfig"
	"github.com/allot-dev/allot/internal/store"
)

// Host states.
const (
	HostAvailable = "available"
	HostReleased  = "released"
)

const maxHostsPerCall = 100

// AllocateHostsInput is the input of AllocateHosts.
type AllocateHostsInput struct {
	InstanceType      string
	InstanceFamily    string
	Quantity          *int32
	AvailabilityZone  string
	AutoPlacement     string
	HostRecovery      string
	ClientToken       string
	TagSpecifications []TagSpecification `query:"TagSpecification"`
	DryRun            *bool
}

// AllocateHostsOutput is the output of AllocateHosts.
type AllocateHostsOutput struct {
	HostIDs []string `xml:"hostIdSet>item"`
}

// AllocateHosts allocates Dedicated Hosts for an instance type (only that type runs on them)
// or an instance family (any size of it). A host's sockets, cores and vCPUs come from its
// family (instancetypes.go). A repeated ClientToken returns the hosts of the first call.
// TagSpecification (resource type dedicated-host) tags them in the same transaction, with
// ec2:CreateTags allowed too. Errors: MissingParameter, InvalidParameterValue,
// InvalidParameterCombination, InvalidTagKey.Malformed, TagLimitExceeded,
// UnauthorizedOperation, Unsupported.
func (s *Service) AllocateHosts(ctx context.Context, caller *identity.Principal, in *AllocateHostsInput) (*AllocateHostsOutput, error) {
	if in.AvailabilityZone == "" {
		return nil, missing("AvailabilityZone")
	}
	if in.Quantity == nil {
		return nil, missing("Quantity")
	}
	if *in.Quantity < 1 || *in.Quantity > maxHostsPerCall {
		return nil, invalid("Quantity must be between 1 and %d, not %d.", maxHostsPerCall, *in.Quantity)
	}
	if (in.InstanceType == "") == (in.InstanceFamily == "") {
		return nil, awserr.New(ErrInvalidParameterCombination, "Specify either InstanceType or InstanceFamily.")
	}
	switch in.AutoPlacement {
	case "", "off":
	case "on":
		return nil, awserr.New(ErrUnsupported, "AutoPlacement on is not supported: launch instances on a host by naming its HostId.")
	default:
		return nil, invalid("Invalid value '%s' for AutoPlacement: it is on or off.", clipTag(in.AutoPlacement))
	}
	if in.HostRecovery != "" && in.HostRecovery != "on" && in.HostRecovery != "off" {
		return nil, invalid("Invalid value '%s' for HostRecovery: it is on or off.", clipTag(in.HostRecovery))
	}
	if err := checkClientToken(in.ClientToken); err != nil {
		return nil, err
	}
	family := in.InstanceFamily
	if in.InstanceType != "" {
		t, ok := LookupInstanceType(in.InstanceType)
		if !ok {
			return nil, invalid("Invalid instance type %q: this server knows %s.", in.InstanceType, strings.Join(InstanceTypes(), ", "))
		}
		family = t.Family()
	}
	hf, ok := LookupHostFamily(family)
	if !ok {
		return nil, invalid("Dedicated Hosts of instance family %q are not supported: this server knows %s.", family, strings.Join(Families(), ", "))
	}
	region := licenseconfig.RequestRegion(ctx)
	if !strings.HasPrefix(in.AvailabilityZone, region) {
		return nil, invalid("Invalid availability zone: [%s]; this request is for region %s.", in.AvailabilityZone, region)
	}
	tags, err := tagsOnCreate(in.TagSpecifications, TypeDedicatedHost)
	if err != nil {
		return nil, err
	}
	ids := make([]string, *in.Quantity)
	arns := make([]string, len(ids))
	for i := range ids {
		ids[i] = newID("h")
		arns[i] = licenseconfig.HostARN(region, caller.AccountID, ids[i])
	}
	if err := s.authorizeTagOnCreate(ctx, caller, "AllocateHosts", arns, tags); err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	out, err := store.Apply(ctx, s.DB, func(tx *store.Tx) (*AllocateHostsOutput, error) {
		if in.ClientToken != "" {
			prev, err := tx.Resources(ctx, store.ResourceQuery{AccountID: caller.AccountID, Region: region, Types: []string{store.ResourceHost}, ClientToken: in.ClientToken})
			if err != nil {
				return nil, err
			}
			if len(prev) > 0 {
				out := &AllocateHostsOutput{}
				for _, h := range prev {
					out.HostIDs = append(out.HostIDs, h.ID)
				}
				return out, nil
			}
		}
		now := tx.Now()
		for _, id := range ids {
			h := &store.Resource{
				ARN: licenseconfig.HostARN(region, caller.AccountID, id), ID: id, Type: store.ResourceHost, AccountID: caller.AccountID,
				Region: region, State: HostAvailable, InstanceType: in.InstanceType, InstanceFamily: family, VCPUs: hf.VCPUs, Cores: hf.Cores,
				ThreadsPerCore: hf.VCPUs / hf.Cores, Sockets: hf.Sockets, Tenancy: "host", AvailabilityZone: in.AvailabilityZone,
				ClientToken: in.ClientToken, CreatedAt: now, UpdatedAt: now, LastSeenAt: now,
			}
			if err := tx.AddResource(ctx, h); err != nil {
				return nil, err
			}
			if err := putTags(ctx, tx, tags, h.ARN); err != nil {
				return nil, err
			}
		}
		return &AllocateHostsOutput{HostIDs: ids}, nil
	})
	return out, wrap("AllocateHosts", err)
}

// ReleaseHostsInput is the input of ReleaseHosts.
type ReleaseHostsInput struct {
	HostIDs []string `query:"HostId"`
}

// ReleaseHostsOutput is the output of ReleaseHosts.
type ReleaseHostsOutput struct {
	Successful   []string           `xml:"successful>item"`
	Unsuccessful []UnsuccessfulItem `xml:"unsuccessful>item"`
}

// ReleaseHosts releases Dedicated Hosts of the caller's. A host with instances that are not
// terminated is not released (it is listed as unsuccessful, Client.InvalidHost.Occupied); a
// released host returns the licenses it held and loses its associations. Errors:
// MissingParameter, InvalidHostID.Malformed.
func (s *Service) ReleaseHosts(ctx context.Context, caller *identity.Principal, in *ReleaseHostsInput) (*ReleaseHostsOutput, error) {
	if len(in.HostIDs) == 0 {
		return nil, missing("HostId")
	}
	if err := checkIDs("InvalidHostID", hostIDPattern, in.HostIDs); err != nil {
		return nil, err
	}
	region := licenseconfig.RequestRegion(ctx)
	out, err := store.Apply(ctx, s.DB, func(tx *store.Tx) (*ReleaseHostsOutput, error) {
		out := &ReleaseHostsOutput{Successful: []string{}, Unsuccessful: []UnsuccessfulItem{}}
		fail := func(id, code, msg string) {
			out.Unsuccessful = append(out.Unsuccessful, UnsuccessfulItem{ResourceID: id, Error: UnsuccessfulItemError{Code: code, Message: msg}})
		}
		for _, id := range in.HostIDs {
			h, err := tx.LockResource(ctx, licenseconfig.HostARN(region, caller.AccountID, id))
			if isNotFound(err) {
				fail(id, "Client.InvalidHostID.NotFound", "Host "+id+" does not exist.")
				continue
			}
			if err != nil {
				return nil, err
			}
			if h.State != HostAvailable {
				fail(id, "Client.InvalidHost.Released", "Host "+id+" is released already.")
				continue
			}
			insts, err := tx.HostInstances(ctx, id)
			if err != nil {
				return nil, err
			}
			if len(insts) > 0 {
				fail(id, "Client.InvalidHost.Occupied", "Host "+id+" has instances that are not terminated, such as "+insts[0].ID+": terminate them first.")
				continue
			}
			if _, err := tx.SetResourceState(ctx, h.ARN, []string{HostAvailable}, HostReleased, tx.Now()); err != nil {
				return nil, err
			}
			if err := s.Licenses.Release(ctx, tx, h, true); err != nil {
				return nil, err
			}
			out.Successful = append(out.Successful, id)
		}
		return out, nil
	})
	return out, wrap("ReleaseHosts", err)
}

// DescribeHostsInput is the input of DescribeHosts.
type DescribeHostsInput struct {
	HostIDs    []string `query:"HostId"`
	Filters    []Filter `query:"Filter"`
	MaxResults *int32
	NextToken  *string
}

// HostProperties is a host's CPU topology.
type HostProperties struct {
	Cores          int64  `xml:"cores"`
	InstanceFamily string `xml:"instanceFamily"`
	InstanceType   string `xml:"instanceType,omitempty"`
	Sockets        int64  `xml:"sockets"`
	TotalVCpus     int64  `xml:"totalVCpus"`
}

// HostInstance is an instance on a host.
type HostInstance struct {
	InstanceID   string `xml:"instanceId"`
	InstanceType string `xml:"instanceType"`
	OwnerID      string `xml:"ownerId"`
}

// Host is a Dedicated Host.
type Host struct {
	HostID                      string         `xml:"hostId"`
	AutoPlacement               string         `xml:"autoPlacement"`
	AvailabilityZone            string         `xml:"availabilityZone"`
	HostProperties              HostProperties `xml:"hostProperties"`
	Instances                   []HostInstance `xml:"instances>item"`
	State                       string         `xml:"state"`
	AllocationTime              time.Time      `xml:"allocationTime"`
	ReleaseTime                 *time.Time     `xml:"releaseTime"`
	OwnerID                     string         `xml:"ownerId"`
	AllowsMultipleInstanceTypes string         `xml:"allowsMultipleInstanceTypes"`
	HostRecovery                string         `xml:"hostRecovery"`
	ClientToken                 string         `xml:"clientToken,omitempty"`
	Tags                        []TagXML       `xml:"tagSet>item,omitempty"`
}

// DescribeHostsOutput is the output of DescribeHosts.
type DescribeHostsOutput struct {
	Hosts     []Host  `xml:"hostSet>item"`
	NextToken *string `xml:"nextToken"`
}

// DescribeHosts describes the caller's Dedicated Hosts (those named, or all), released ones
// included, with the instances on them and their tags. Filters: state, instance-type,
// tag:<key>, tag-key (values match exactly). Errors: InvalidHostID.Malformed,
// InvalidHostID.NotFound, InvalidParameterValue.
func (s *Service) DescribeHosts(ctx context.Context, caller *identity.Principal, in *DescribeHostsInput) (*DescribeHostsOutput, error) {
	if err := checkIDs("InvalidHostID", hostIDPattern, in.HostIDs); err != nil {
		return nil, err
	}
	fs, err := filters(in.Filters, "state", "instance-type", "tag:<key>", "tag-key")
	if err != nil {
		return nil, err
	}
	limit, after, err := page(in.MaxResults, in.NextToken, 5)
	if err != nil {
		return nil, err
	}
	region := licenseconfig.RequestRegion(ctx)
	out, err := store.Read(ctx, s.DB, func(tx *store.Tx) (*DescribeHostsOutput, error) {
		hs, err := tx.Resources(ctx, store.ResourceQuery{AccountID: caller.AccountID, Region: region, Types: []string{store.ResourceHost},
			IDs: in.HostIDs, States: fs["state"], InstanceTypes: fs["instance-type"], Tags: tagFilters(fs), After: after, Limit: limit + 1})
		if err != nil {
			return nil, err
		}
		if len(fs) == 0 {
			if err := allFound("InvalidHostID.NotFound", "host", in.HostIDs, hs, after); err != nil {
				return nil, err
			}
		}
		out := &DescribeHostsOutput{Hosts: []Host{}}
		if len(hs) > limit {
			hs = hs[:limit]
			out.NextToken = nextToken(hs[limit-1].ID)
		}
		tags, err := resourceTags(ctx, tx, hs)
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			v := Host{HostID: h.ID, AutoPlacement: "off", AvailabilityZone: h.AvailabilityZone, State: h.State, AllocationTime: h.CreatedAt,
				OwnerID: h.AccountID, HostRecovery: "off", ClientToken: h.ClientToken, Instances: []HostInstance{}, Tags: tagSet(tags[h.ARN]),
				HostProperties: HostProperties{Cores: h.Cores, InstanceFamily: h.InstanceFamily, InstanceType: h.InstanceType, Sockets: h.Sockets, TotalVCpus: h.VCPUs}}
			v.AllowsMultipleInstanceTypes = "on"
			if h.InstanceType != "" {
				v.AllowsMultipleInstanceTypes = "off"
			}
			if h.State == HostReleased {
				t := h.UpdatedAt
				v.ReleaseTime = &t
			}
			insts, err := tx.HostInstances(ctx, h.ID)
			if err != nil {
				return nil, err
			}
			for _, i := range insts {
				v.Instances = append(v.Instances, HostInstance{InstanceID: i.ID, InstanceType: i.InstanceType, OwnerID: i.AccountID})
			}
			out.Hosts = append(out.Hosts, v)
		}
		return out, nil
	})
	return out, wrap("DescribeHosts", err)
}

// allFound checks that every ID asked for was found (on a first page), as EC2's Describe
// actions do: one that was not is code.NotFound.
func allFound(code, kind string, ids []string, got []*store.Resource, after string) error {
	if len(ids) == 0 || after != "" {
		return nil
	}
	found := map[string]bool{}
	for _, r := range got {
		found[r.ID] = true
	}
	for _, id := range ids {
		if !found[id] {
			return awserr.New(code, "The %s ID '%s' does not exist", kind, id)
		}
	}
	return nil
}
