package licenseconfig

import (
	"context"
	"slices"
	"strings"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// inventoryStates are the states in which a resource is in the inventory: instances not
// terminated, hosts not released, images not deregistered, and managed instances still
// reporting. An inactive managed instance (silent for the stale period, its inventory purged
// as SSM purges it, seed 001) and a deregistered one are not.
var inventoryStates = []string{"pending", "running", "stopping", "stopped", "available", store.ManagedActive}

// licenseIncludedValues are the values of the license_included filter.
var licenseIncludedValues = []string{"sql-server-enterprise", "sql-server-standard", "sql-server-web", "windows-server-datacenter"}

// inventoryConditions returns the conditions an InventoryFilter name allows, as the License
// Manager API documents them; cross says whether the inventory covers the organization
// (cross-account discovery), where tag filters also take NOT_EQUALS.
func inventoryConditions(name string, cross bool) []string {
	switch {
	case name == "account_id", name == "license_included", name == "resource_id":
		return []string{store.ConditionEquals, store.ConditionNotEquals}
	case name == "application_name", name == "platform":
		return []string{store.ConditionEquals, store.ConditionBeginsWith}
	case strings.HasPrefix(name, "tag:") && len(name) > len("tag:"):
		if cross {
			return []string{store.ConditionEquals, store.ConditionNotEquals}
		}
		return []string{store.ConditionEquals}
	}
	return nil
}

// ListResourceInventoryInput is the input of ListResourceInventory.
type ListResourceInventoryInput struct {
	MaxResults *int32
	NextToken  *string
	Filters    []InventoryFilter
}

// ListResourceInventoryOutput is the output of ListResourceInventory.
type ListResourceInventoryOutput struct {
	ResourceInventoryList []ResourceInventory
	NextToken             *string `json:",omitempty"`
}

// ListResourceInventory lists the resources of the request's region in resource ID order:
// instances not terminated, Dedicated Hosts not released, images not deregistered and managed
// instances still active. They are the caller's account's, or, for the management account of
// an organization linked to License Manager with cross-account discovery on, those of every
// account of the organization. Filters, all of which must hold: account_id, resource_id and
// license_included (EQUALS, NOT_EQUALS), platform and application_name (EQUALS, BEGINS_WITH;
// an application installed on a managed instance), tag:<key> (the resource's EC2 tag with
// that key and value: EQUALS; NOT_EQUALS too, which untagged resources pass, with
// cross-account discovery; managed instances have no EC2 tags). The inventory records no
// included licenses, so a license_included EQUALS matches nothing. Errors:
// InvalidParameterValueException, FilterLimitExceededException.
func (s *Service) ListResourceInventory(ctx context.Context, caller *identity.Principal, in *ListResourceInventoryInput) (*ListResourceInventoryOutput, error) {
	if len(in.Filters) > maxFilters {
		return nil, awserr.New(ErrFilterLimitExceeded, "Filters may have at most %d filters, not %d.", maxFilters, len(in.Filters))
	}
	var conds []store.InventoryCondition
	none := false      // a filter no resource can pass
	tagNotEquals := -1 // a tag filter with NOT_EQUALS, allowed with cross-account discovery only
	for i, f := range in.Filters {
		name, cond, value := deref(f.Name), deref(f.Condition), deref(f.Value)
		allowed := inventoryConditions(name, true)
		if allowed == nil {
			return nil, invalid("Filters[%d].Name must be account_id, application_name, license_included, platform, resource_id or tag:<key>, not %q.", i, name)
		}
		if !slices.Contains(allowed, cond) {
			return nil, invalid("Filters[%d] (%s) takes the condition %s, not %q.", i, name, strings.Join(allowed, ", "), cond)
		}
		switch name {
		case "account_id", "platform", "resource_id", "application_name":
			conds = append(conds, store.InventoryCondition{Attribute: name, Condition: cond, Value: value})
		case "license_included":
			if !slices.Contains(licenseIncludedValues, value) {
				return nil, invalid("Filters[%d] (license_included) takes %s, not %q.", i, strings.Join(licenseIncludedValues, ", "), value)
			}
			none = none || cond != store.ConditionNotEquals // none recorded
		default: // tag:<key>
			if cond == store.ConditionNotEquals && tagNotEquals < 0 {
				tagNotEquals = i
			}
			conds = append(conds, store.InventoryCondition{Attribute: name, Condition: cond, Value: value})
		}
	}
	p, err := readPage("ListResourceInventory", digestKey(in.Filters), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	region := RequestRegion(ctx)
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListResourceInventoryOutput, error) {
		q := store.ResourceQuery{AccountID: caller.AccountID, Region: region, States: inventoryStates,
			Conditions: conds, After: p.after, Limit: p.limit + 1}
		l, err := linkOf(ctx, tx, caller.AccountID, region)
		if err != nil {
			return nil, err
		}
		cross := l.management(caller.AccountID) && l.crossAccountDiscovery()
		if tagNotEquals >= 0 && !cross {
			f := in.Filters[tagNotEquals]
			return nil, invalid("Filters[%d] (%s) takes the condition %s, not %q: NOT_EQUALS on tags needs cross-account discovery.",
				tagNotEquals, deref(f.Name), strings.Join(inventoryConditions(deref(f.Name), false), ", "), deref(f.Condition))
		}
		out := &ListResourceInventoryOutput{ResourceInventoryList: []ResourceInventory{}}
		if none {
			return out, nil
		}
		if cross {
			accounts, err := tx.OrgAccounts(ctx, l.org.ID, store.OrgQuery{})
			if err != nil {
				return nil, err
			}
			q.AccountIDs = make([]string, len(accounts))
			for i, a := range accounts {
				q.AccountIDs[i] = a.ID
			}
		}
		rs, err := tx.Resources(ctx, q)
		if err != nil {
			return nil, err
		}
		rs, out.NextToken = cut(p, rs, func(r *store.Resource) string { return r.ID })
		for _, r := range rs {
			out.ResourceInventoryList = append(out.ResourceInventoryList, inventoryItem(r))
		}
		return out, nil
	})
}

// inventoryItem returns a resource as the inventory shows it.
func inventoryItem(r *store.Resource) ResourceInventory {
	ri := ResourceInventory{ResourceId: r.ID, ResourceType: r.Type, ResourceArn: r.ARN, Platform: r.Platform,
		ResourceOwningAccountId: r.AccountID, Region: r.Region, InstanceType: r.InstanceType, HostId: r.HostID}
	switch r.Type {
	case store.ResourceInstance:
		ri.AmiId = r.ImageID
	case store.ResourceManaged:
		ri.PlatformVersion = r.PlatformVersion
	}
	return ri
}
