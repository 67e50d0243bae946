package licenseconfig

import (
	"context"
	"slices"
	"strings"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// inventoryConditions returns the conditions an InventoryFilter name allows: those the
// License Manager API documents, and CONTAINS for the text attributes.
func inventoryConditions(name string) []string {
	switch {
	case name == "account_id", name == "license_included", strings.HasPrefix(name, "tag:"):
		return []string{store.ConditionEquals, store.ConditionNotEquals}
	case name == "application_name":
		return []string{store.ConditionEquals, store.ConditionBeginsWith, store.ConditionContains}
	case name == "platform":
		return []string{store.ConditionEquals, store.ConditionNotEquals, store.ConditionBeginsWith, store.ConditionContains}
	case name == "resource_id":
		return []string{store.ConditionEquals, store.ConditionNotEquals, store.ConditionBeginsWith}
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

// ListResourceInventory lists the caller's resources in the request's region (instances not
// terminated, hosts not released, images not deregistered) in resource ID order, filtered by
// account_id, platform, resource_id, application_name, license_included or tag:<key>, all of
// which must hold. The inventory records no applications, included licenses or resource tags
// yet, so a filter on those that needs a value to be present matches nothing. Errors:
// InvalidParameterValueException, FilterLimitExceededException.
func (s *Service) ListResourceInventory(ctx context.Context, caller *identity.Principal, in *ListResourceInventoryInput) (*ListResourceInventoryOutput, error) {
	if len(in.Filters) > maxFilters {
		return nil, awserr.New(ErrFilterLimitExceeded, "Filters may have at most %d filters, not %d.", maxFilters, len(in.Filters))
	}
	var conds []store.InventoryCondition
	none := false // a filter no resource can pass
	for i, f := range in.Filters {
		name, cond, value := deref(f.Name), deref(f.Condition), deref(f.Value)
		allowed := inventoryConditions(name)
		if allowed == nil {
			return nil, invalid("Filters[%d].Name must be account_id, application_name, license_included, platform, resource_id or tag:<key>, not %q.", i, name)
		}
		if !slices.Contains(allowed, cond) {
			return nil, invalid("Filters[%d] (%s) takes the condition %s, not %q.", i, name, strings.Join(allowed, ", "), cond)
		}
		switch name {
		case "account_id", "platform", "resource_id":
			conds = append(conds, store.InventoryCondition{Attribute: name, Condition: cond, Value: value})
		default: // nothing recorded: only NOT_EQUALS passes
			none = none || cond != store.ConditionNotEquals
		}
	}
	p, err := readPage("ListResourceInventory", digestKey(in.Filters), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ListResourceInventoryOutput{ResourceInventoryList: []ResourceInventory{}}
	if none {
		return out, nil
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListResourceInventoryOutput, error) {
		rs, err := tx.Resources(ctx, store.ResourceQuery{
			AccountID: caller.AccountID, Region: RequestRegion(ctx), States: []string{"pending", "running", "stopping", "stopped", "available"},
			Conditions: conds, After: p.after, Limit: p.limit + 1,
		})
		if err != nil {
			return nil, err
		}
		rs, out.NextToken = cut(p, rs, func(r *store.Resource) string { return r.ID })
		for _, r := range rs {
			ri := ResourceInventory{ResourceId: r.ID, ResourceType: r.Type, ResourceArn: r.ARN, Platform: r.Platform,
				ResourceOwningAccountId: r.AccountID, Region: r.Region, InstanceType: r.InstanceType, HostId: r.HostID}
			if r.Type == store.ResourceInstance {
				ri.AmiId = r.ImageID
			}
			out.ResourceInventoryList = append(out.ResourceInventoryList, ri)
		}
		return out, nil
	})
}
