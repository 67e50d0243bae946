package licenseconfig

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awstime"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// ownResource reads a resource of the inventory by ARN; it must be the caller's (an image:
// owned by the caller's account) and in the request's region.
func ownResource(ctx context.Context, tx *store.Tx, caller *identity.Principal, arn string, lock bool) (*store.Resource, error) {
	m := resourceARNPattern.FindStringSubmatch(arn)
	if m == nil {
		return nil, invalid("ResourceArn must be the ARN of an instance (arn:aws:ec2:REGION:ACCOUNT:instance/i-…), a Dedicated Host (…:dedicated-host/h-…) or an image (arn:aws:ec2:REGION::image/ami-…), not %q; launch templates and CloudFormation templates are not updated here.", clip(arn))
	}
	if strings.HasPrefix(m[3], "image/") != (m[2] == "") {
		return nil, invalid("ResourceArn %q: an image's ARN names no account (arn:aws:ec2:REGION::image/ami-…), an instance's or host's names one.", arn)
	}
	var r *store.Resource
	var err error
	if lock {
		r, err = tx.LockResource(ctx, arn)
	} else {
		r, err = tx.Resource(ctx, arn)
	}
	if isNotFound(err) || err == nil && (r.AccountID != caller.AccountID || r.Region != RequestRegion(ctx)) {
		return nil, invalid("Resource %s does not exist in account %s and region %s.", arn, caller.AccountID, RequestRegion(ctx))
	}
	return r, err
}

// managedARNPattern matches the ARN of a managed instance (ManagedInstanceARN).
var managedARNPattern = regexp.MustCompile(`^arn:aws:ssm:[a-z0-9-]+:\d{12}:managed-instance/mi-[0-9a-f]{17}$`)

// listedResource reads a resource whose license specifications are listed: one ownResource
// accepts, or a managed instance of the caller's account in the request's region, which
// automated discovery associates with configurations.
func listedResource(ctx context.Context, tx *store.Tx, caller *identity.Principal, arn string) (*store.Resource, error) {
	if !managedARNPattern.MatchString(arn) {
		if !resourceARNPattern.MatchString(arn) {
			return nil, invalid("ResourceArn must be the ARN of an instance (arn:aws:ec2:REGION:ACCOUNT:instance/i-…), a Dedicated Host (…:dedicated-host/h-…), an image (arn:aws:ec2:REGION::image/ami-…) or a managed instance (arn:aws:ssm:REGION:ACCOUNT:managed-instance/mi-…), not %q.", clip(arn))
		}
		return ownResource(ctx, tx, caller, arn, false)
	}
	r, err := tx.Resource(ctx, arn)
	if isNotFound(err) || err == nil && (r.Type != store.ResourceManaged || r.AccountID != caller.AccountID || r.Region != RequestRegion(ctx)) {
		return nil, invalid("Resource %s does not exist in account %s and region %s.", arn, caller.AccountID, RequestRegion(ctx))
	}
	return r, err
}

// consuming reports whether a resource in its state holds licenses.
func consuming(r *store.Resource) bool {
	switch r.Type {
	case store.ResourceInstance:
		return r.State == "pending" || r.State == "running"
	case store.ResourceHost:
		return r.State == "available"
	}
	return false
}

// gone reports whether a resource can no longer be associated.
func gone(r *store.Resource) bool {
	return r.State == "terminated" || r.State == "shutting-down" || r.State == "released" || r.State == "deregistered"
}

// UpdateLicenseSpecificationsForResourceInput is the input of UpdateLicenseSpecificationsForResource.
type UpdateLicenseSpecificationsForResourceInput struct {
	ResourceArn                 string
	AddLicenseSpecifications    []LicenseSpecification
	RemoveLicenseSpecifications []LicenseSpecification
}

// UpdateLicenseSpecificationsForResourceOutput is the (empty) output of UpdateLicenseSpecificationsForResource.
type UpdateLicenseSpecificationsForResourceOutput struct{}

// UpdateLicenseSpecificationsForResource associates configurations with an instance, a
// Dedicated Host or an image of the caller's account, and disassociates others. An added
// configuration is the caller's account's, or one its organization's management account
// shares (it has linked the organization to License Manager): the units are then taken from
// the management account's configuration. Removals come first and return the units held. An
// added configuration's rules are checked against the resource; a running instance or an
// available host takes its units at once (a stopped instance when it starts, an image never:
// instances launched from it do). A configuration associated already is left as it is. All
// or nothing: a refusal changes nothing and is recorded for
// ListFailuresForLicenseConfigurationOperations. Errors: LicenseUsageException
// (a rule, a hard limit, a DISABLED configuration), InvalidResourceStateException (a
// terminated instance, a released host, a deregistered image), InvalidParameterValueException.
func (s *Service) UpdateLicenseSpecificationsForResource(ctx context.Context, caller *identity.Principal, in *UpdateLicenseSpecificationsForResourceInput) (*UpdateLicenseSpecificationsForResourceOutput, error) {
	if in.ResourceArn == "" {
		return nil, invalid("ResourceArn is required.")
	}
	if len(in.AddLicenseSpecifications)+len(in.RemoveLicenseSpecifications) == 0 {
		return nil, invalid("Send AddLicenseSpecifications, RemoveLicenseSpecifications or both.")
	}
	isImage := strings.Contains(in.ResourceArn, ":image/")
	seen := map[string]string{}
	specs := func(member string, list []LicenseSpecification) ([]string, map[string]string, error) {
		var arns []string
		scopes := map[string]string{}
		for i, sp := range list {
			m := fmt.Sprintf("%s[%d]", member, i)
			a := deref(sp.LicenseConfigurationArn)
			if err := checkConfigurationARN(m+".LicenseConfigurationArn", a); err != nil {
				return nil, nil, err
			}
			if prev, dup := seen[a]; dup {
				return nil, nil, invalid("%s names %s, which %s names already.", m, a, prev)
			}
			seen[a] = m
			if sc := deref(sp.AmiAssociationScope); sc != "" {
				if sc != "cross-account" {
					return nil, nil, invalid("%s.AmiAssociationScope must be cross-account, not %q.", m, sc)
				}
				if !isImage {
					return nil, nil, invalid("%s.AmiAssociationScope applies to images only.", m)
				}
				scopes[a] = sc
			}
			arns = append(arns, a)
		}
		slices.Sort(arns)
		return arns, scopes, nil
	}
	remove, _, err := specs("RemoveLicenseSpecifications", in.RemoveLicenseSpecifications)
	if err != nil {
		return nil, err
	}
	add, scopes, err := specs("AddLicenseSpecifications", in.AddLicenseSpecifications)
	if err != nil {
		return nil, err
	}
	var res *store.Resource
	out, err := store.Apply(ctx, s.DB, func(tx *store.Tx) (*UpdateLicenseSpecificationsForResourceOutput, error) {
		r, err := ownResource(ctx, tx, caller, in.ResourceArn, true)
		if err != nil {
			return nil, err
		}
		res = r
		if r.Type == store.ResourceInstance && r.HostID != "" {
			// Whether its host covers it (hostCovers) must not change under this call.
			if _, err := tx.LockResource(ctx, HostARN(r.Region, r.AccountID, r.HostID)); err != nil && !isNotFound(err) {
				return nil, err
			}
		}
		current, err := tx.ResourceLicenseUsage(ctx, r.ARN)
		if err != nil {
			return nil, err
		}
		have := map[string]*store.LicenseUsage{}
		for _, u := range current {
			have[u.ConfigARN] = u
		}
		for _, a := range remove {
			u := have[a]
			if u == nil {
				return nil, invalid("%s is not associated with license configuration %s.", r.ARN, a)
			}
			// The host's sockets stay with another of its instances using them; else a host's
			// or its instance's licenses may stay tied to the host (#licenseAffinityToHost).
			passed, err := s.passOn(ctx, tx, r, u)
			if err != nil {
				return nil, err
			}
			held := false
			if !passed {
				if held, err = s.hold(ctx, tx, r, u, true); err != nil {
					return nil, err
				}
			}
			if !held {
				if _, err := tx.ReleaseLicenseUsage(ctx, a, r.ARN, true); err != nil {
					return nil, err
				}
				delete(have, a)
			}
			if r.Type == store.ResourceHost && consuming(r) {
				c, err := tx.LicenseConfiguration(ctx, a)
				if err != nil {
					return nil, err
				}
				if err := s.uncoverInstances(ctx, tx, c, r); err != nil {
					return nil, err
				}
			}
		}
		if len(add) == 0 {
			return &UpdateLicenseSpecificationsForResourceOutput{}, nil
		}
		if gone(r) {
			return nil, awserr.New(ErrInvalidResourceState, "%s is %s: it can no longer be associated with license configurations.", describe(r), r.State)
		}
		var fresh []string
		for _, a := range add {
			if have[a] == nil {
				fresh = append(fresh, a)
				continue
			}
			// Associated again while its units were held for #licenseAffinityToHost: in use again.
			if h, err := tx.AffinityHoldOf(ctx, a, r.ARN); err == nil && h.Disassociate && consuming(r) {
				if _, err := tx.CancelAffinityHold(ctx, a, r.ARN); err != nil {
					return nil, err
				}
				if r.Type == store.ResourceHost {
					c, err := tx.LicenseConfiguration(ctx, a)
					if err != nil {
						return nil, err
					}
					if err := coverInstances(ctx, tx, c, r); err != nil {
						return nil, err
					}
				}
			} else if err != nil && !isNotFound(err) {
				return nil, err
			}
		}
		if n := len(have) + len(fresh); n > MaxConfigurationsPerResource {
			return nil, invalid("%s would be associated with %d license configurations; at most %d are allowed.", r.ARN, n, MaxConfigurationsPerResource)
		}
		now := tx.Now()
		for _, a := range fresh { // in ARN order
			c, err := usableConfiguration(ctx, tx, caller, a)
			if err != nil {
				return nil, err
			}
			if c.Status != store.ConfigurationAvailable {
				return nil, refuse(c, "is %s: it takes no new launches or associations. Set its status to AVAILABLE with UpdateLicenseConfiguration to use it again.", c.Status)
			}
			units, err := unitsFor(c, r)
			if err != nil {
				return nil, err
			}
			covered, err := hostCovers(ctx, tx, c, r)
			if err != nil {
				return nil, err
			}
			if !consuming(r) || covered {
				units = 0
			}
			// The host's sockets, held already by another of its instances: shared (perHost).
			var holder *store.LicenseUsage
			var hold *store.AffinityHold
			if units > 0 && perHost(c, r) {
				if holder, hold, err = hostHolder(ctx, tx, c, r); err != nil {
					return nil, err
				}
				if holder != nil {
					units = 0
				}
			}
			if r.Type == store.ResourceHost && units > 0 {
				// The host covers its instances from now on: they give back what they hold
				// first, so that a hard limit counts the host's units once.
				if err := coverInstances(ctx, tx, c, r); err != nil {
					return nil, err
				}
			}
			if err := s.take(ctx, tx, c, units, 1, describe(r), r.ARN); err != nil {
				return nil, err
			}
			if err := tx.AddLicenseUsage(ctx, &store.LicenseUsage{ConfigARN: a, ResourceARN: r.ARN, ResourceType: r.Type,
				ResourceAccount: r.AccountID, AmiAssociationScope: scopes[a], Consumed: units, AssociatedAt: now}); err != nil {
				return nil, err
			}
			if hold != nil {
				if err := s.takeOver(ctx, tx, c, holder, hold, r); err != nil {
					return nil, err
				}
			}
		}
		return &UpdateLicenseSpecificationsForResourceOutput{}, nil
	})
	if err != nil && res != nil {
		s.recordFailure(ctx, caller, "UpdateLicenseSpecificationsForResource", res, err)
	}
	return out, err
}

// ListLicenseSpecificationsForResourceInput is the input of ListLicenseSpecificationsForResource.
type ListLicenseSpecificationsForResourceInput struct {
	ResourceArn string
	MaxResults  *int32
	NextToken   *string
}

// ListLicenseSpecificationsForResourceOutput is the output of ListLicenseSpecificationsForResource.
type ListLicenseSpecificationsForResourceOutput struct {
	LicenseSpecifications []LicenseSpecification
	NextToken             *string `json:",omitempty"`
}

// ListLicenseSpecificationsForResource lists the configurations associated with a resource
// of the caller's account, in ARN order: an instance, a Dedicated Host, an image, or a managed
// instance (arn:aws:ssm:REGION:ACCOUNT:managed-instance/mi-…) with the associations automated
// discovery made. Errors: InvalidParameterValueException.
func (s *Service) ListLicenseSpecificationsForResource(ctx context.Context, caller *identity.Principal, in *ListLicenseSpecificationsForResourceInput) (*ListLicenseSpecificationsForResourceOutput, error) {
	if in.ResourceArn == "" {
		return nil, invalid("ResourceArn is required.")
	}
	p, err := readPage("ListLicenseSpecificationsForResource", in.ResourceArn, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListLicenseSpecificationsForResourceOutput, error) {
		r, err := listedResource(ctx, tx, caller, in.ResourceArn)
		if err != nil {
			return nil, err
		}
		us, err := tx.ResourceLicenseUsage(ctx, r.ARN)
		if err != nil {
			return nil, err
		}
		i, _ := slices.BinarySearchFunc(us, p.after, func(u *store.LicenseUsage, a string) int { return strings.Compare(u.ConfigARN, a) })
		if i < len(us) && us[i].ConfigARN == p.after {
			i++
		}
		us, next := cut(p, us[i:], func(u *store.LicenseUsage) string { return u.ConfigARN })
		out := &ListLicenseSpecificationsForResourceOutput{LicenseSpecifications: []LicenseSpecification{}, NextToken: next}
		for _, u := range us {
			sp := LicenseSpecification{LicenseConfigurationArn: &u.ConfigARN}
			if u.AmiAssociationScope != "" {
				sp.AmiAssociationScope = &u.AmiAssociationScope
			}
			out.LicenseSpecifications = append(out.LicenseSpecifications, sp)
		}
		return out, nil
	})
}

// ListAssociationsForLicenseConfigurationInput is the input of ListAssociationsForLicenseConfiguration.
type ListAssociationsForLicenseConfigurationInput struct {
	LicenseConfigurationArn string
	MaxResults              *int32
	NextToken               *string
}

// ListAssociationsForLicenseConfigurationOutput is the output of ListAssociationsForLicenseConfiguration.
type ListAssociationsForLicenseConfigurationOutput struct {
	LicenseConfigurationAssociations []LicenseConfigurationAssociation
	NextToken                        *string `json:",omitempty"`
}

// ListAssociationsForLicenseConfiguration lists the resources associated with a configuration
// of the caller's account, consuming or not (images, stopped instances), in ARN order.
// Errors: InvalidParameterValueException.
func (s *Service) ListAssociationsForLicenseConfiguration(ctx context.Context, caller *identity.Principal, in *ListAssociationsForLicenseConfigurationInput) (*ListAssociationsForLicenseConfigurationOutput, error) {
	if err := checkConfigurationARN("LicenseConfigurationArn", in.LicenseConfigurationArn); err != nil {
		return nil, err
	}
	p, err := readPage("ListAssociationsForLicenseConfiguration", in.LicenseConfigurationArn, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListAssociationsForLicenseConfigurationOutput, error) {
		if _, err := ownConfiguration(ctx, tx, caller, in.LicenseConfigurationArn, false); err != nil {
			return nil, err
		}
		us, err := tx.LicenseUsages(ctx, store.LicenseUsageQuery{ConfigARN: in.LicenseConfigurationArn, After: p.after, Limit: p.limit + 1})
		if err != nil {
			return nil, err
		}
		us, next := cut(p, us, func(u *store.LicenseUsage) string { return u.ResourceARN })
		out := &ListAssociationsForLicenseConfigurationOutput{LicenseConfigurationAssociations: []LicenseConfigurationAssociation{}, NextToken: next}
		for _, u := range us {
			out.LicenseConfigurationAssociations = append(out.LicenseConfigurationAssociations, LicenseConfigurationAssociation{
				ResourceArn: u.ResourceARN, ResourceType: u.ResourceType, ResourceOwnerId: u.ResourceAccount,
				AssociationTime: awstime.Epoch{Time: u.AssociatedAt}, AmiAssociationScope: u.AmiAssociationScope,
			})
		}
		return out, nil
	})
}

// ListUsageForLicenseConfigurationInput is the input of ListUsageForLicenseConfiguration.
type ListUsageForLicenseConfigurationInput struct {
	LicenseConfigurationArn string
	MaxResults              *int32
	NextToken               *string
	Filters                 []Filter
}

// ListUsageForLicenseConfigurationOutput is the output of ListUsageForLicenseConfiguration.
type ListUsageForLicenseConfigurationOutput struct {
	LicenseConfigurationUsageList []LicenseConfigurationUsage
	NextToken                     *string `json:",omitempty"`
}

// ListUsageForLicenseConfiguration lists the resources that consume a configuration of the
// caller's account now, with what each consumes and its state, in ARN order; the filters
// resourceArn, resourceType and resourceAccount narrow it. Errors:
// InvalidParameterValueException, FilterLimitExceededException.
func (s *Service) ListUsageForLicenseConfiguration(ctx context.Context, caller *identity.Principal, in *ListUsageForLicenseConfigurationInput) (*ListUsageForLicenseConfigurationOutput, error) {
	if err := checkConfigurationARN("LicenseConfigurationArn", in.LicenseConfigurationArn); err != nil {
		return nil, err
	}
	fs, err := filterValues(in.Filters, "resourceArn", "resourceType", "resourceAccount")
	if err != nil {
		return nil, err
	}
	for _, v := range fs["resourceType"] {
		if !slices.Contains([]string{store.ResourceInstance, store.ResourceHost, store.ResourceImage, "RDS", "SYSTEMS_MANAGER_MANAGED_INSTANCE"}, v) {
			return nil, invalid("Filter resourceType takes EC2_INSTANCE, EC2_HOST, EC2_AMI, RDS or SYSTEMS_MANAGER_MANAGED_INSTANCE, not %q.", v)
		}
	}
	p, err := readPage("ListUsageForLicenseConfiguration", digestKey(in.LicenseConfigurationArn, in.Filters), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListUsageForLicenseConfigurationOutput, error) {
		if _, err := ownConfiguration(ctx, tx, caller, in.LicenseConfigurationArn, false); err != nil {
			return nil, err
		}
		us, err := tx.LicenseUsages(ctx, store.LicenseUsageQuery{
			ConfigARN: in.LicenseConfigurationArn, ResourceARNs: fs["resourceArn"], ResourceTypes: fs["resourceType"],
			ResourceAccounts: fs["resourceAccount"], ConsumingOnly: true, After: p.after, Limit: p.limit + 1,
		})
		if err != nil {
			return nil, err
		}
		us, next := cut(p, us, func(u *store.LicenseUsage) string { return u.ResourceARN })
		out := &ListUsageForLicenseConfigurationOutput{LicenseConfigurationUsageList: []LicenseConfigurationUsage{}, NextToken: next}
		for _, u := range us {
			r, err := tx.Resource(ctx, u.ResourceARN)
			if err != nil {
				return nil, err
			}
			status := r.State
			if r.Type == store.ResourceHost || r.HostID != "" {
				h, err := tx.AffinityHoldOf(ctx, u.ConfigARN, u.ResourceARN)
				if err != nil && !isNotFound(err) {
					return nil, err
				}
				if h != nil {
					status = heldStatus(r, h)
				}
			}
			out.LicenseConfigurationUsageList = append(out.LicenseConfigurationUsageList, LicenseConfigurationUsage{
				ResourceArn: u.ResourceARN, ResourceType: u.ResourceType, ResourceStatus: status, ResourceOwnerId: u.ResourceAccount,
				AssociationTime: awstime.Epoch{Time: u.AssociatedAt}, ConsumedLicenses: u.Consumed,
			})
		}
		return out, nil
	})
}

// ListFailuresForLicenseConfigurationOperationsInput is the input of ListFailuresForLicenseConfigurationOperations.
type ListFailuresForLicenseConfigurationOperationsInput struct {
	LicenseConfigurationArn string
	MaxResults              *int32
	NextToken               *string
}

// ListFailuresForLicenseConfigurationOperationsOutput is the output of ListFailuresForLicenseConfigurationOperations.
type ListFailuresForLicenseConfigurationOperationsOutput struct {
	LicenseOperationFailureList []LicenseOperationFailure
	NextToken                   *string `json:",omitempty"`
}

// ListFailuresForLicenseConfigurationOperations lists the launches and associations a
// configuration of the caller's account refused, oldest first. Errors:
// InvalidParameterValueException.
func (s *Service) ListFailuresForLicenseConfigurationOperations(ctx context.Context, caller *identity.Principal, in *ListFailuresForLicenseConfigurationOperationsInput) (*ListFailuresForLicenseConfigurationOperationsOutput, error) {
	if err := checkConfigurationARN("LicenseConfigurationArn", in.LicenseConfigurationArn); err != nil {
		return nil, err
	}
	p, err := readPage("ListFailuresForLicenseConfigurationOperations", in.LicenseConfigurationArn, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListFailuresForLicenseConfigurationOperationsOutput, error) {
		if _, err := ownConfiguration(ctx, tx, caller, in.LicenseConfigurationArn, false); err != nil {
			return nil, err
		}
		fs, err := tx.LicenseFailures(ctx, in.LicenseConfigurationArn, p.after, p.limit+1)
		if err != nil {
			return nil, err
		}
		fs, next := cut(p, fs, func(f *store.LicenseFailure) string { return f.ID })
		out := &ListFailuresForLicenseConfigurationOperationsOutput{LicenseOperationFailureList: []LicenseOperationFailure{}, NextToken: next}
		for _, f := range fs {
			out.LicenseOperationFailureList = append(out.LicenseOperationFailureList, LicenseOperationFailure{
				ResourceArn: f.ResourceARN, ResourceType: f.ResourceType, ErrorMessage: f.ErrorMessage,
				FailureTime: awstime.Epoch{Time: f.FailureTime}, OperationName: f.OperationName, ResourceOwnerId: f.ResourceOwnerID,
				OperationRequestedBy: f.RequestedBy, MetadataList: []Metadata{},
			})
		}
		return out, nil
	})
}

// heldStatus is the ResourceStatus of an association whose units are held for
// #licenseAffinityToHost: the resource's state and why it still consumes.
func heldStatus(r *store.Resource, h *store.AffinityHold) string {
	s := fmt.Sprintf("%s; licenses held on Dedicated Host %s by #licenseAffinityToHost until %s",
		r.State, h.HostARN[strings.LastIndex(h.HostARN, "/")+1:], h.ReleaseAt.UTC().Format(time.RFC3339))
	if h.Disassociate && !gone(r) {
		s += "; association removed"
	}
	return s
}
