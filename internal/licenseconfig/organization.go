package licenseconfig

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// servicePrincipal is License Manager's service principal, the one an organization gives
// trusted access to (organizations enable-aws-service-access).
const servicePrincipal = "license-manager.amazonaws.com"

// orgLink is what an account's organization means to License Manager in one region.
type orgLink struct {
	org *store.Organization // nil when the account is in no organization
	// mgmt are the settings of the organization's management account in the region.
	mgmt ServiceSettings
	// linked: the management account has turned Organizations integration on in the region
	// (OrganizationConfiguration.EnableIntegration) and the organization still gives License
	// Manager trusted access.
	linked bool
}

// management reports whether accountID is the management account of the organization.
func (l *orgLink) management(accountID string) bool {
	return l.org != nil && l.org.ManagementAccount == accountID
}

// crossAccountDiscovery reports whether the management account's inventory covers every
// account of the organization.
func (l *orgLink) crossAccountDiscovery() bool {
	return l.linked && l.mgmt.EnableCrossAccountsDiscovery
}

// linkOf returns the organization of an account and whether its management account has
// linked it to License Manager in a region.
func linkOf(ctx context.Context, tx *store.Tx, accountID, region string) (*orgLink, error) {
	l := &orgLink{}
	o, err := tx.Organization(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return l, nil
	}
	if err != nil {
		return nil, err
	}
	l.org = o
	if l.mgmt, err = readServiceSettings(ctx, tx, o.ManagementAccount, region); err != nil {
		return nil, err
	}
	if !l.mgmt.EnableIntegration {
		return l, nil
	}
	orgID, err := tx.ServiceAccessEnabled(ctx, o.ManagementAccount, servicePrincipal)
	if err != nil {
		return nil, err
	}
	l.linked = orgID == o.ID
	return l, nil
}

// checkLinkable refuses to turn Organizations integration on (or cross-account discovery)
// unless the caller's account is the management account of an organization with all
// features that gives License Manager trusted access, as the User Guide (Settings) requires.
func checkLinkable(ctx context.Context, tx *store.Tx, caller *identity.Principal) error {
	o, err := tx.Organization(ctx, caller.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return awserr.New(ErrAccessDenied, "Account %s is in no organization: Organizations integration needs one (organizations create-organization --feature-set ALL).", caller.AccountID)
	}
	if err != nil {
		return err
	}
	if o.ManagementAccount != caller.AccountID {
		return awserr.New(ErrAccessDenied, "Only the management account of organization %s (%s) can link it to License Manager; account %s is a member.", o.ID, o.ManagementAccount, caller.AccountID)
	}
	if o.FeatureSet != "ALL" { // Organizations' FeatureSetAll
		return awserr.New(ErrAccessDenied, "Organization %s has the feature set %s: linking it to License Manager needs all features enabled.", o.ID, o.FeatureSet)
	}
	orgID, err := tx.ServiceAccessEnabled(ctx, caller.AccountID, servicePrincipal)
	if err != nil {
		return err
	}
	if orgID != o.ID {
		return awserr.New(ErrAccessDenied, "Organization %s does not give License Manager trusted access: run organizations enable-aws-service-access --service-principal %s first.", o.ID, servicePrincipal)
	}
	return nil
}

// usableConfiguration reads a configuration that the caller's resources may be associated
// with in the request's region: one of the caller's account, or one of the management account
// of its organization once that account has linked the organization to License Manager. Any
// other is an InvalidParameterValueException, as an unknown one is.
func usableConfiguration(ctx context.Context, tx *store.Tx, caller *identity.Principal, arn string) (*store.LicenseConfiguration, error) {
	c, err := tx.LicenseConfiguration(ctx, arn)
	if isNotFound(err) {
		return nil, notFound(ctx, caller, arn)
	}
	if err != nil {
		return nil, err
	}
	if err := checkUsable(ctx, tx, caller, c, RequestRegion(ctx)); err != nil {
		return nil, err
	}
	return c, nil
}

// checkUsable checks that resources of the caller's account in region may be associated with
// c (see usableConfiguration).
func checkUsable(ctx context.Context, tx *store.Tx, caller *identity.Principal, c *store.LicenseConfiguration, region string) error {
	if c.Region != region {
		return notFound(ctx, caller, c.ARN)
	}
	if c.AccountID == caller.AccountID {
		return nil
	}
	l, err := linkOf(ctx, tx, caller.AccountID, c.Region)
	if err != nil {
		return err
	}
	switch {
	case l.linked && l.management(c.AccountID):
		return nil
	case l.management(c.AccountID):
		return invalid("License configuration %s does not exist in account %s. It is a configuration of %s, the management account of organization %s, which shares its configurations with member accounts only once it links the organization to License Manager (update-service-settings --organization-configuration EnableIntegration=true, with trusted access for %s).",
			c.ARN, caller.AccountID, c.AccountID, l.org.ID, servicePrincipal)
	}
	return notFound(ctx, caller, c.ARN)
}

// ListLicenseConfigurationsForOrganizationInput is the input of
// ListLicenseConfigurationsForOrganization.
type ListLicenseConfigurationsForOrganizationInput struct {
	LicenseConfigurationArns []string
	MaxResults               *int32
	NextToken                *string
	Filters                  []Filter
}

// ListLicenseConfigurationsForOrganizationOutput is the output of
// ListLicenseConfigurationsForOrganization.
type ListLicenseConfigurationsForOrganizationOutput struct {
	LicenseConfigurations []LicenseConfiguration
	NextToken             *string `json:",omitempty"`
}

// ListLicenseConfigurationsForOrganization lists, for the management account of an
// organization linked to License Manager in the request's region, the configurations of every
// account of the organization in that region, in ARN order, optionally only those named or
// those the filters of ListLicenseConfigurations select. Errors: AccessDeniedException (not
// the management account, or the organization is not linked), InvalidParameterValueException,
// FilterLimitExceededException.
func (s *Service) ListLicenseConfigurationsForOrganization(ctx context.Context, caller *identity.Principal, in *ListLicenseConfigurationsForOrganizationInput) (*ListLicenseConfigurationsForOrganizationOutput, error) {
	const op = "ListLicenseConfigurationsForOrganization"
	q, err := configurationQuery(in.LicenseConfigurationArns, in.Filters)
	if err != nil {
		return nil, err
	}
	p, err := readPage(op, digestKey(in.LicenseConfigurationArns, in.Filters), in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	region := RequestRegion(ctx)
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListLicenseConfigurationsForOrganizationOutput, error) {
		l, err := linkOf(ctx, tx, caller.AccountID, region)
		if err != nil {
			return nil, err
		}
		switch {
		case !l.management(caller.AccountID):
			return nil, awserr.New(ErrAccessDenied, "%s is for the management account of an organization; account %s is not one.", op, caller.AccountID)
		case !l.linked:
			return nil, awserr.New(ErrAccessDenied, "Organization %s is not linked to License Manager in %s: turn on update-service-settings --organization-configuration EnableIntegration=true (with trusted access for %s) first.", l.org.ID, region, servicePrincipal)
		}
		accounts, err := tx.OrgAccounts(ctx, l.org.ID, store.OrgQuery{})
		if err != nil {
			return nil, err
		}
		// ARNs differ first in their account IDs (all of 12 digits), so the configurations of
		// the accounts in ID order are in ARN order.
		var cs []*store.LicenseConfiguration
		for _, a := range accounts {
			if len(cs) > p.limit {
				break
			}
			if p.after != "" && ConfigurationARN(region, a.ID, "~") < p.after {
				continue // all of its ARNs ("…:license-configuration:lic-…" < "…:~") were on earlier pages
			}
			q.AccountID, q.Region, q.After, q.Limit = a.ID, region, p.after, p.limit+1-len(cs)
			more, err := tx.LicenseConfigurations(ctx, q)
			if err != nil {
				return nil, err
			}
			cs = append(cs, more...)
		}
		cs, next := cut(p, cs, func(c *store.LicenseConfiguration) string { return c.ARN })
		views, err := listViews(ctx, tx, cs)
		if err != nil {
			return nil, err
		}
		return &ListLicenseConfigurationsForOrganizationOutput{LicenseConfigurations: views, NextToken: next}, nil
	})
}

// configurationQuery checks the LicenseConfigurationArns and Filters of a list of
// configurations and returns the query they make (without account, region or page): filters
// licenseCountingType, enforceLicenseCount and usagelimitExceeded, several values of one
// filter matching any of them.
func configurationQuery(arns []string, filters []Filter) (store.LicenseConfigurationQuery, error) {
	var q store.LicenseConfigurationQuery
	for i, a := range arns {
		if err := checkConfigurationARN(fmt.Sprintf("LicenseConfigurationArns[%d]", i), a); err != nil {
			return q, err
		}
	}
	fs, err := filterValues(filters, "licenseCountingType", "enforceLicenseCount", "usagelimitExceeded")
	if err != nil {
		return q, err
	}
	for _, v := range fs["licenseCountingType"] {
		if !slices.Contains(countingTypes, v) {
			return q, invalid("Filter licenseCountingType takes %s, not %q.", strings.Join(countingTypes, ", "), v)
		}
	}
	if q.HardLimit, err = boolFilter("enforceLicenseCount", fs["enforceLicenseCount"]); err != nil {
		return q, err
	}
	if q.LimitExceeded, err = boolFilter("usagelimitExceeded", fs["usagelimitExceeded"]); err != nil {
		return q, err
	}
	q.ARNs, q.CountingTypes = arns, fs["licenseCountingType"]
	return q, nil
}
