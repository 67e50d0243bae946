package licenseconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/allot-dev/allot/internal/awstime"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// Product information (automated discovery) as §5.2 of the reference lists it.
const (
	productSSM = "SSM_MANAGED"
	productRDS = "RDS"
)

// productFilter returns the comparators and values a product-information filter name allows
// for a resource type (values nil: any), and whether the name is known.
func productFilter(resourceType, name string) (comparators, values []string, ok bool) {
	eq := []string{"EQUALS"}
	switch resourceType {
	case productSSM:
		switch {
		case name == "Application Name", name == "Application Publisher", name == "Application Version",
			name == "Platform Name", name == "Platform Type":
			return eq, nil, true
		case strings.HasPrefix(name, "Tag:") && len(name) > len("Tag:"), name == "AccountId":
			return []string{"NOT_EQUALS"}, nil, true
		case name == "License Included":
			return []string{"EQUALS", "NOT_EQUALS"}, []string{"sql-server-enterprise", "sql-server-standard", "sql-server-web", "windows-server-datacenter"}, true
		}
	case productRDS:
		switch name {
		case "Engine Edition":
			return eq, []string{"oracle-ee", "oracle-se", "oracle-se1", "oracle-se2", "db2-se", "db2-ae"}, true
		case "License Pack":
			return eq, []string{"data guard", "diagnostic pack sqlt", "tuning pack sqlt", "ols", "olap"}, true
		}
	}
	return nil, nil, false
}

// checkProductInformation checks a ProductInformationList.
func checkProductInformation(list []ProductInformation) error {
	for i, p := range list {
		m := fmt.Sprintf("ProductInformationList[%d]", i)
		rt := deref(p.ResourceType)
		if rt != productSSM && rt != productRDS {
			return invalid("%s.ResourceType must be SSM_MANAGED or RDS, not %q.", m, rt)
		}
		if len(p.ProductInformationFilterList) == 0 {
			return invalid("%s.ProductInformationFilterList is required: at least one filter.", m)
		}
		for j, f := range p.ProductInformationFilterList {
			fm := fmt.Sprintf("%s.ProductInformationFilterList[%d]", m, j)
			name, cmp := deref(f.ProductInformationFilterName), deref(f.ProductInformationFilterComparator)
			comparators, values, ok := productFilter(rt, name)
			if !ok {
				return invalid("%s: %q is not a product information filter of %s.", fm, name, rt)
			}
			if !slices.Contains(comparators, cmp) {
				return invalid("%s: filter %q takes the comparator %s, not %q.", fm, name, strings.Join(comparators, " or "), cmp)
			}
			if len(f.ProductInformationFilterValue) == 0 && !strings.HasPrefix(name, "Tag:") {
				return invalid("%s: filter %q needs a value.", fm, name)
			}
			for _, v := range f.ProductInformationFilterValue {
				if values != nil && !slices.Contains(values, v) {
					return invalid("%s: filter %q takes one of %s, not %q.", fm, name, strings.Join(values, ", "), v)
				}
				if err := checkString(fm+".ProductInformationFilterValue", v, false, 1024); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func productJSON(list []ProductInformation) string {
	if list == nil {
		list = []ProductInformation{}
	}
	b, _ := json.Marshal(list) // strings only: always encodes
	return string(b)
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// checkCount checks a LicenseCount.
func checkCount(n *int64) error {
	if n != nil && *n < 0 {
		return invalid("LicenseCount must not be negative, not %d.", *n)
	}
	return nil
}

// CreateLicenseConfigurationInput is the input of CreateLicenseConfiguration.
type CreateLicenseConfigurationInput struct {
	Name                     string
	Description              *string
	LicenseCountingType      string
	LicenseCount             *int64
	LicenseCountHardLimit    *bool
	LicenseRules             []string
	Tags                     []Tag
	DisassociateWhenNotFound *bool
	ProductInformationList   []ProductInformation
	LicenseExpiry            *int64
}

// CreateLicenseConfigurationOutput is the output of CreateLicenseConfiguration.
type CreateLicenseConfigurationOutput struct {
	LicenseConfigurationArn string
}

// CreateLicenseConfiguration creates a license configuration in the caller's account and the
// request's region, AVAILABLE and with nothing consumed; with a ProductInformationList, the
// managed instances that match it are associated at once (see Discover). Errors:
// InvalidParameterValueException (a missing name, an unknown counting type, a rule the
// counting type does not allow, a bad tag or product information filter).
func (s *Service) CreateLicenseConfiguration(ctx context.Context, caller *identity.Principal, in *CreateLicenseConfigurationInput) (*CreateLicenseConfigurationOutput, error) {
	if err := checkString("Name", in.Name, true, maxNameLen); err != nil {
		return nil, err
	}
	if err := checkString("Description", deref(in.Description), false, maxDescriptionLen); err != nil {
		return nil, err
	}
	if !slices.Contains(countingTypes, in.LicenseCountingType) {
		if in.LicenseCountingType == "" {
			return nil, invalid("LicenseCountingType is required: one of %s.", strings.Join(countingTypes, ", "))
		}
		return nil, invalid("LicenseCountingType must be one of %s (case-sensitive), not %q.", strings.Join(countingTypes, ", "), in.LicenseCountingType)
	}
	if err := checkCount(in.LicenseCount); err != nil {
		return nil, err
	}
	if len(in.LicenseRules) > maxRules {
		return nil, invalid("LicenseRules may have at most %d rules, not %d.", maxRules, len(in.LicenseRules))
	}
	if _, err := ParseRules(in.LicenseCountingType, in.LicenseRules); err != nil {
		return nil, err
	}
	if err := checkProductInformation(in.ProductInformationList); err != nil {
		return nil, err
	}
	if err := checkTags(ErrInvalidParameterValue, in.Tags); err != nil {
		return nil, err
	}
	region := RequestRegion(ctx)
	id := newConfigurationID()
	arn := ConfigurationARN(region, caller.AccountID, id)
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*CreateLicenseConfigurationOutput, error) {
		now := tx.Now()
		c := &store.LicenseConfiguration{
			ARN: arn, ID: id, AccountID: caller.AccountID, Region: region, Name: in.Name, Description: deref(in.Description),
			CountingType: in.LicenseCountingType, LicenseCount: in.LicenseCount, HardLimit: deref(in.LicenseCountHardLimit),
			Status: store.ConfigurationAvailable, Rules: slices.Clone(in.LicenseRules), ProductInformation: productJSON(in.ProductInformationList),
			DisassociateWhenNotFound: deref(in.DisassociateWhenNotFound), LicenseExpiry: in.LicenseExpiry, CreatedAt: now, UpdatedAt: now,
		}
		if err := tx.CreateLicenseConfiguration(ctx, c); err != nil {
			return nil, err
		}
		if err := tx.TagLicenseResource(ctx, arn, storeTags(in.Tags)); err != nil {
			return nil, err
		}
		// Managed instances that report the products already are associated now.
		if err := s.discoverConfiguration(ctx, tx, c, caller.ARN); err != nil {
			return nil, err
		}
		return &CreateLicenseConfigurationOutput{LicenseConfigurationArn: arn}, nil
	})
}

// view returns a configuration as the API shows it, with its consumption summaries.
func view(c *store.LicenseConfiguration, sums map[string]store.UsageSummary) (*LicenseConfiguration, error) {
	out := &LicenseConfiguration{
		LicenseConfigurationId: c.ID, LicenseConfigurationArn: c.ARN, Name: c.Name, Description: c.Description,
		LicenseCountingType: c.CountingType, LicenseRules: c.Rules, LicenseCount: c.LicenseCount, LicenseCountHardLimit: c.HardLimit,
		DisassociateWhenNotFound: c.DisassociateWhenNotFound, ConsumedLicenses: c.Consumed, Status: c.Status, OwnerAccountId: c.AccountID,
		LicenseExpiry: c.LicenseExpiry,
	}
	if out.LicenseRules == nil {
		out.LicenseRules = []string{}
	}
	if err := json.Unmarshal([]byte(c.ProductInformation), &out.ProductInformationList); err != nil {
		return nil, fmt.Errorf("licenseconfig: %s: product information: %w", c.ARN, err)
	}
	if len(out.ProductInformationList) > 0 {
		out.AutomatedDiscoveryInformation = &AutomatedDiscoveryInformation{}
	}
	// AWS lists every resource type, with zero counts too.
	for _, t := range []string{store.ResourceInstance, store.ResourceHost, store.ResourceImage, "SYSTEMS_MANAGER_MANAGED_INSTANCE"} {
		out.ConsumedLicenseSummaryList = append(out.ConsumedLicenseSummaryList, ConsumedLicenseSummary{ResourceType: t, ConsumedLicenses: sums[t].Consumed})
		out.ManagedResourceSummaryList = append(out.ManagedResourceSummaryList, ManagedResourceSummary{ResourceType: t, AssociationCount: sums[t].Associations})
	}
	return out, nil
}

// GetLicenseConfigurationInput is the input of GetLicenseConfiguration.
type GetLicenseConfigurationInput struct {
	LicenseConfigurationArn string
}

// GetLicenseConfigurationOutput is the output of GetLicenseConfiguration.
type GetLicenseConfigurationOutput struct {
	LicenseConfiguration
	Tags []Tag
}

// GetLicenseConfiguration returns a configuration of the caller's account with what it
// consumes by resource type, and its tags. Errors: InvalidParameterValueException (a malformed
// ARN, or no such configuration in this account and region).
func (s *Service) GetLicenseConfiguration(ctx context.Context, caller *identity.Principal, in *GetLicenseConfigurationInput) (*GetLicenseConfigurationOutput, error) {
	if err := checkConfigurationARN("LicenseConfigurationArn", in.LicenseConfigurationArn); err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*GetLicenseConfigurationOutput, error) {
		c, err := ownConfiguration(ctx, tx, caller, in.LicenseConfigurationArn, false)
		if err != nil {
			return nil, err
		}
		sums, err := tx.LicenseUsageSummaries(ctx, []string{c.ARN})
		if err != nil {
			return nil, err
		}
		v, err := view(c, sums[c.ARN])
		if err != nil {
			return nil, err
		}
		if d := v.AutomatedDiscoveryInformation; d != nil {
			if d.LastRunTime, err = lastRunTime(ctx, tx, c.ARN); err != nil {
				return nil, err
			}
		}
		tags, err := tx.LicenseResourceTags(ctx, c.ARN)
		if err != nil {
			return nil, err
		}
		return &GetLicenseConfigurationOutput{LicenseConfiguration: *v, Tags: apiTags(tags)}, nil
	})
}

// ListLicenseConfigurationsInput is the input of ListLicenseConfigurations.
type ListLicenseConfigurationsInput struct {
	LicenseConfigurationArns []string
	MaxResults               *int32
	NextToken                *string
	Filters                  []Filter
}

// ListLicenseConfigurationsOutput is the output of ListLicenseConfigurations.
type ListLicenseConfigurationsOutput struct {
	LicenseConfigurations []LicenseConfiguration
	NextToken             *string `json:",omitempty"`
}

// ListLicenseConfigurations lists the configurations of the caller's account in the request's
// region, in ARN order, optionally only those named or those the filters select:
// licenseCountingType, enforceLicenseCount (the hard limit), usagelimitExceeded (more
// consumed than the count). Several values of one filter match any of them. Each
// configuration is shown as GetLicenseConfiguration shows it, without its tags. Errors:
// InvalidParameterValueException, FilterLimitExceededException.
func (s *Service) ListLicenseConfigurations(ctx context.Context, caller *identity.Principal, in *ListLicenseConfigurationsInput) (*ListLicenseConfigurationsOutput, error) {
	for i, a := range in.LicenseConfigurationArns {
		if err := checkConfigurationARN(fmt.Sprintf("LicenseConfigurationArns[%d]", i), a); err != nil {
			return nil, err
		}
	}
	fs, err := filterValues(in.Filters, "licenseCountingType", "enforceLicenseCount", "usagelimitExceeded")
	if err != nil {
		return nil, err
	}
	for _, v := range fs["licenseCountingType"] {
		if !slices.Contains(countingTypes, v) {
			return nil, invalid("Filter licenseCountingType takes %s, not %q.", strings.Join(countingTypes, ", "), v)
		}
	}
	hard, err := boolFilter("enforceLicenseCount", fs["enforceLicenseCount"])
	if err != nil {
		return nil, err
	}
	exceeded, err := boolFilter("usagelimitExceeded", fs["usagelimitExceeded"])
	if err != nil {
		return nil, err
	}
	key := digestKey(in.LicenseConfigurationArns, in.Filters)
	p, err := readPage("ListLicenseConfigurations", key, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListLicenseConfigurationsOutput, error) {
		cs, err := tx.LicenseConfigurations(ctx, store.LicenseConfigurationQuery{
			AccountID: caller.AccountID, Region: RequestRegion(ctx), ARNs: in.LicenseConfigurationArns,
			CountingTypes: fs["licenseCountingType"], HardLimit: hard, LimitExceeded: exceeded, After: p.after, Limit: p.limit + 1,
		})
		if err != nil {
			return nil, err
		}
		cs, next := cut(p, cs, func(c *store.LicenseConfiguration) string { return c.ARN })
		views, err := listViews(ctx, tx, cs)
		if err != nil {
			return nil, err
		}
		return &ListLicenseConfigurationsOutput{LicenseConfigurations: views, NextToken: next}, nil
	})
}

// listViews returns a page of configurations as a list answers them: usage summaries and
// discovery's last run read with one query each for the page.
func listViews(ctx context.Context, tx *store.Tx, cs []*store.LicenseConfiguration) ([]LicenseConfiguration, error) {
	arns := make([]string, len(cs))
	for i, c := range cs {
		arns[i] = c.ARN
	}
	sums, err := tx.LicenseUsageSummaries(ctx, arns)
	if err != nil {
		return nil, err
	}
	runs, err := tx.DiscoveryLastRuns(ctx, arns)
	if err != nil {
		return nil, err
	}
	views := make([]LicenseConfiguration, 0, len(cs))
	for _, c := range cs {
		v, err := view(c, sums[c.ARN])
		if err != nil {
			return nil, err
		}
		if t, ok := runs[c.ARN]; ok && v.AutomatedDiscoveryInformation != nil {
			v.AutomatedDiscoveryInformation.LastRunTime = &awstime.Epoch{Time: t}
		}
		views = append(views, *v)
	}
	return views, nil
}

// digestKey names what a list call selects, so that its NextToken is not used for another.
func digestKey(parts ...any) string {
	b, _ := json.Marshal(parts)
	if len(b) > 64 {
		return digest(b)
	}
	return string(b)
}

// UpdateLicenseConfigurationInput is the input of UpdateLicenseConfiguration. Members not
// sent are not changed.
type UpdateLicenseConfigurationInput struct {
	LicenseConfigurationArn    string
	LicenseConfigurationStatus *string
	LicenseRules               []string
	LicenseCount               *int64
	LicenseCountHardLimit      *bool
	Name                       *string
	Description                *string
	ProductInformationList     []ProductInformation
	DisassociateWhenNotFound   *bool
	LicenseExpiry              *int64
}

// UpdateLicenseConfigurationOutput is the (empty) output of UpdateLicenseConfiguration.
type UpdateLicenseConfigurationOutput struct{}

// UpdateLicenseConfiguration changes the members sent. A count lowered below what is
// consumed is accepted: resources keep their licenses and a hard limit refuses new ones. Status
// DISABLED stops tracking: the configuration refuses new launches and associations, images
// associated with it launch untracked, and resources associated already keep what they hold.
// While resources are associated, the rules may change only in #licenseAffinityToHost.
// A new ProductInformationList, the status set back to AVAILABLE or DisassociateWhenNotFound
// turned on runs automated discovery for the configuration again (see Discover).
// Errors: InvalidParameterValueException.
func (s *Service) UpdateLicenseConfiguration(ctx context.Context, caller *identity.Principal, in *UpdateLicenseConfigurationInput) (*UpdateLicenseConfigurationOutput, error) {
	if err := checkConfigurationARN("LicenseConfigurationArn", in.LicenseConfigurationArn); err != nil {
		return nil, err
	}
	if st := in.LicenseConfigurationStatus; st != nil && *st != store.ConfigurationAvailable && *st != store.ConfigurationDisabled {
		return nil, invalid("LicenseConfigurationStatus must be AVAILABLE or DISABLED, not %q.", *st)
	}
	if in.Name != nil {
		if err := checkString("Name", *in.Name, true, maxNameLen); err != nil {
			return nil, err
		}
	}
	if err := checkString("Description", deref(in.Description), false, maxDescriptionLen); err != nil {
		return nil, err
	}
	if err := checkCount(in.LicenseCount); err != nil {
		return nil, err
	}
	if len(in.LicenseRules) > maxRules {
		return nil, invalid("LicenseRules may have at most %d rules, not %d.", maxRules, len(in.LicenseRules))
	}
	if err := checkProductInformation(in.ProductInformationList); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*UpdateLicenseConfigurationOutput, error) {
		c, err := ownConfiguration(ctx, tx, caller, in.LicenseConfigurationArn, true)
		if err != nil {
			return nil, err
		}
		if in.LicenseRules != nil {
			if _, err := ParseRules(c.CountingType, in.LicenseRules); err != nil {
				return nil, err
			}
			if changed := changedRules(c.Rules, in.LicenseRules); len(changed) > 0 && !slices.Equal(changed, []string{ruleLicenseAffinityToHost}) {
				sums, err := tx.LicenseUsageSummaries(ctx, []string{c.ARN})
				if err != nil {
					return nil, err
				}
				var n int64
				for _, s := range sums[c.ARN] {
					n += s.Associations
				}
				if n > 0 {
					return nil, invalid("License configuration %s has %d associated resources: while resources are associated only #licenseAffinityToHost may change, not %s. Disassociate them first.",
						c.ARN, n, strings.Join(changed, ", "))
				}
			}
			c.Rules = slices.Clone(in.LicenseRules)
		}
		if in.Name != nil {
			c.Name = *in.Name
		}
		if in.Description != nil {
			c.Description = *in.Description
		}
		if in.LicenseCount != nil {
			c.LicenseCount = in.LicenseCount
		}
		if in.LicenseCountHardLimit != nil {
			c.HardLimit = *in.LicenseCountHardLimit
		}
		// Discovery runs again when what it matches, or whether it may, changes.
		rediscover := in.ProductInformationList != nil ||
			in.LicenseConfigurationStatus != nil && c.Status != store.ConfigurationAvailable ||
			in.DisassociateWhenNotFound != nil && *in.DisassociateWhenNotFound && !c.DisassociateWhenNotFound
		if in.LicenseConfigurationStatus != nil {
			c.Status = *in.LicenseConfigurationStatus
		}
		if in.ProductInformationList != nil {
			c.ProductInformation = productJSON(in.ProductInformationList)
		}
		if in.DisassociateWhenNotFound != nil {
			c.DisassociateWhenNotFound = *in.DisassociateWhenNotFound
		}
		if in.LicenseExpiry != nil {
			c.LicenseExpiry = in.LicenseExpiry
		}
		c.UpdatedAt = tx.Now()
		if err := tx.PutLicenseConfiguration(ctx, c); err != nil {
			return nil, err
		}
		if rediscover {
			if err := s.discoverConfiguration(ctx, tx, c, caller.ARN); err != nil {
				return nil, err
			}
		}
		return &UpdateLicenseConfigurationOutput{}, nil
	})
}

// DeleteLicenseConfigurationInput is the input of DeleteLicenseConfiguration.
type DeleteLicenseConfigurationInput struct {
	LicenseConfigurationArn string
}

// DeleteLicenseConfigurationOutput is the (empty) output of DeleteLicenseConfiguration.
type DeleteLicenseConfigurationOutput struct{}

// DeleteLicenseConfiguration deletes a configuration with its tags, alerts and recorded
// failures. It is refused while resources (images included) are associated with it, naming
// them. Errors: InvalidParameterValueException.
func (s *Service) DeleteLicenseConfiguration(ctx context.Context, caller *identity.Principal, in *DeleteLicenseConfigurationInput) (*DeleteLicenseConfigurationOutput, error) {
	if err := checkConfigurationARN("LicenseConfigurationArn", in.LicenseConfigurationArn); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*DeleteLicenseConfigurationOutput, error) {
		if _, err := ownConfiguration(ctx, tx, caller, in.LicenseConfigurationArn, true); err != nil {
			return nil, err
		}
		err := tx.DeleteLicenseConfiguration(ctx, in.LicenseConfigurationArn)
		var used *store.AssociatedError
		if errors.As(err, &used) {
			more := ""
			if used.Count > int64(len(used.Resources)) {
				more = fmt.Sprintf(" and %d more", used.Count-int64(len(used.Resources)))
			}
			return nil, invalid("License configuration %s cannot be deleted while %d resources are associated with it (%s%s): disassociate them first with UpdateLicenseSpecificationsForResource (RemoveLicenseSpecifications), or terminate them.",
				in.LicenseConfigurationArn, used.Count, strings.Join(used.Resources, ", "), more)
		}
		if err != nil {
			return nil, err
		}
		return &DeleteLicenseConfigurationOutput{}, nil
	})
}
