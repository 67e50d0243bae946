package ssm

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awstime"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/licenseconfig"
	"github.com/allot-dev/allot/internal/store"
)

// Ping statuses, as DescribeInstanceInformation reports them.
const (
	PingOnline         = "Online"
	PingConnectionLost = "ConnectionLost"
	PingInactive       = "Inactive"
)

// ResourceTypeManaged is DescribeInstanceInformation's ResourceType of a managed instance.
const ResourceTypeManaged = "ManagedInstance"

const (
	minInstancePage     = 5
	maxInstancePage     = 50
	defaultInstancePage = 10
	maxFilterValues     = 100
	scanBatch           = 200 // resources read at a time while filtering
)

// instanceFilter is DescribeInstanceInformation's filters, checked: nil lists match
// everything.
type instanceFilter struct {
	ids, ping, platforms, resourceTypes, agentVersions []string
	none                                               bool // a filter on something no managed instance has here
}

func (f *instanceFilter) match(info *InstanceInformation) bool {
	in := func(vs []string, v string) bool { return vs == nil || slices.Contains(vs, v) }
	return in(f.ping, info.PingStatus) && in(f.platforms, info.PlatformType) && in(f.resourceTypes, info.ResourceType) &&
		in(f.agentVersions, info.AgentVersion)
}

// add reads one filter. legacy is set for InstanceInformationFilterList, whose keys are an
// enum without the tag and source keys.
func (f *instanceFilter) add(member, key string, values []string, legacy bool) error {
	if len(values) == 0 || len(values) > maxFilterValues {
		return validation("%s must have 1 to %d values, not %d.", member, maxFilterValues, len(values))
	}
	allow := func(ok ...string) error {
		for _, v := range values {
			if !slices.Contains(ok, v) {
				return awserr.New(ErrInvalidFilterValue, "%s: %s takes %s, not %q.", member, key, strings.Join(ok, ", "), clip(v))
			}
		}
		return nil
	}
	join := func(dst *[]string) { *dst = append(*dst, values...) }
	switch {
	case key == "InstanceIds":
		for _, v := range values {
			if !nodeIDPattern.MatchString(v) {
				return awserr.New(ErrInvalidFilterValue, "%s: %q is not an instance ID.", member, clip(v))
			}
		}
		join(&f.ids)
	case key == "PingStatus":
		if err := allow(PingOnline, PingConnectionLost, PingInactive); err != nil {
			return err
		}
		join(&f.ping)
	case key == "PlatformTypes":
		if err := allow(PlatformLinux, PlatformWindows, PlatformMacOS); err != nil {
			return err
		}
		join(&f.platforms)
	case key == "ResourceType":
		if err := allow(ResourceTypeManaged, "EC2Instance"); err != nil {
			return err
		}
		join(&f.resourceTypes)
	case key == "AgentVersion":
		join(&f.agentVersions)
	case key == "ActivationIds", key == "IamRole", key == "AssociationStatus",
		!legacy && (key == "SourceIds" || key == "SourceTypes" || key == "tag-key" || strings.HasPrefix(key, "tag:") && len(key) > len("tag:")):
		// Managed instances here have no activation, role, association, source or tags.
		f.none = true
	default:
		return awserr.New(ErrInvalidFilterKey, "%s: %q is not a filter key of DescribeInstanceInformation.", member, clip(key))
	}
	return nil
}

// DescribeInstanceInformation lists the caller's managed instances in the request's region
// (not the deregistered ones) in ID order, with their ping status: Online while the agent has
// reported within three of its heartbeat intervals, ConnectionLost after that, Inactive once
// the instance went 30 days without a report. Filters (or the deprecated
// InstanceInformationFilterList, not both) select by InstanceIds, PingStatus,
// PlatformTypes, ResourceType and AgentVersion; activation, IAM role, association, source and
// tag filters match nothing. Pages hold 5 to 50 instances (10 by default).
//
// Errors: InvalidInstanceId (an instance ID filter naming an instance the caller does not
// have), InvalidFilterKey, InvalidInstanceInformationFilterValue, InvalidNextToken,
// ValidationException.
func (s *Service) DescribeInstanceInformation(ctx context.Context, caller *identity.Principal, in *DescribeInstanceInformationInput) (*DescribeInstanceInformationOutput, error) {
	if len(in.Filters) > 0 && len(in.InstanceInformationFilterList) > 0 {
		return nil, validation("Give Filters or InstanceInformationFilterList, not both.")
	}
	f := &instanceFilter{}
	for i, fl := range in.InstanceInformationFilterList {
		if err := f.add(fmt.Sprintf("InstanceInformationFilterList[%d]", i), fl.Key, fl.ValueSet, true); err != nil {
			return nil, err
		}
	}
	for i, fl := range in.Filters {
		if err := f.add(fmt.Sprintf("Filters[%d]", i), fl.Key, fl.Values, false); err != nil {
			return nil, err
		}
	}
	limit := defaultInstancePage
	if in.MaxResults != nil {
		if *in.MaxResults < minInstancePage || *in.MaxResults > maxInstancePage {
			return nil, validation("MaxResults must be from %d to %d, not %d.", minInstancePage, maxInstancePage, *in.MaxResults)
		}
		limit = int(*in.MaxResults)
	}
	key := digest(in.InstanceInformationFilterList, in.Filters)
	after, err := readToken("DescribeInstanceInformation", key, in.NextToken)
	if err != nil {
		return nil, err
	}
	now := s.now()
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*DescribeInstanceInformationOutput, error) {
		// As in SSM, naming an instance the caller does not have is an error, not an empty list.
		for _, id := range f.ids {
			if !managedIDPattern.MatchString(id) {
				return nil, unknownInstance(ctx, caller, id)
			}
			if _, err := ownInstance(ctx, tx, caller, id, false); err != nil {
				return nil, err
			}
		}
		out := &DescribeInstanceInformationOutput{InstanceInformationList: []InstanceInformation{}}
		if f.none {
			return out, nil
		}
		scan, last := after, after // the last instance read, and the last one listed
		for {
			rs, err := tx.Resources(ctx, store.ResourceQuery{AccountID: caller.AccountID, Region: licenseconfig.RequestRegion(ctx),
				Types: []string{store.ResourceManaged}, IDs: f.ids, States: []string{store.ManagedActive, store.ManagedInactive},
				After: scan, Limit: scanBatch})
			if err != nil {
				return nil, err
			}
			for _, r := range rs {
				scan = r.ID
				info, err := s.describe(ctx, tx, r, now)
				if err != nil {
					return nil, err
				}
				if !f.match(info) {
					continue
				}
				if len(out.InstanceInformationList) == limit { // one more passes: there is a next page
					out.NextToken = makeToken("DescribeInstanceInformation", key, last)
					return out, nil
				}
				out.InstanceInformationList = append(out.InstanceInformationList, *info)
				last = r.ID
			}
			if len(rs) < scanBatch {
				return out, nil
			}
		}
	})
}

// describe returns a managed instance as DescribeInstanceInformation shows it at now.
func (s *Service) describe(ctx context.Context, tx *store.Tx, r *store.Resource, now time.Time) (*InstanceInformation, error) {
	info := &InstanceInformation{InstanceId: r.ID, PingStatus: PingInactive, LastPingDateTime: &awstime.Epoch{Time: r.LastSeenAt},
		AgentVersion: r.AgentVersion, PlatformType: r.PlatformType, PlatformName: r.Platform, PlatformVersion: r.PlatformVersion,
		ResourceType: ResourceTypeManaged, IPAddress: r.IPAddress, ComputerName: r.ComputerName, Name: r.Name,
		RegistrationDate: &awstime.Epoch{Time: r.CreatedAt}}
	if r.State != store.ManagedActive {
		return info, nil
	}
	items, err := tx.InventoryItems(ctx, r.ARN, TypeAgent)
	if err != nil {
		return nil, err
	}
	var content []map[string]string
	if len(items) == 1 {
		if err := json.Unmarshal([]byte(items[0].Content), &content); err != nil {
			return nil, fmt.Errorf("ssm: stored %s of %s: %w", TypeAgent, r.ARN, err)
		}
	}
	beat := time.Duration(heartbeatSeconds(content)) * time.Second
	info.PingStatus = PingConnectionLost
	if now.Sub(r.LastSeenAt) <= missedHeartbeats*beat {
		info.PingStatus = PingOnline
	}
	return info, nil
}

// DeregisterManagedInstance removes a managed instance of the caller's from the inventory at
// once: it releases the license units the instance holds and its associations, deletes its
// inventory (every item it reported, and so its installed applications, which discovery can
// no longer match) and what discovery recorded of it, and refuses its later reports. The
// instance is no longer listed, and ListInventoryEntries answers InvalidInstanceId for it.
//
// Errors: InvalidInstanceId (malformed, unknown, another account's or region's, already
// deregistered), ValidationException.
func (s *Service) DeregisterManagedInstance(ctx context.Context, caller *identity.Principal, in *DeregisterManagedInstanceInput) (*DeregisterManagedInstanceOutput, error) {
	if err := checkInstanceID(in.InstanceId); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*DeregisterManagedInstanceOutput, error) {
		r, err := ownInstance(ctx, tx, caller, in.InstanceId, true)
		if err != nil {
			return nil, err
		}
		if err := s.Licenses.Release(ctx, tx, r, true); err != nil {
			return nil, err
		}
		ok, err := tx.SetResourceState(ctx, r.ARN, []string{store.ManagedActive, store.ManagedInactive}, store.ManagedDeregistered, tx.Now())
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, unknownInstance(ctx, caller, in.InstanceId)
		}
		if err := tx.DeleteInventoryItems(ctx, r.ARN); err != nil {
			return nil, err
		}
		if err := tx.ClearDiscoveryOutcomes(ctx, r.ARN); err != nil {
			return nil, err
		}
		return &DeregisterManagedInstanceOutput{}, nil
	})
}
