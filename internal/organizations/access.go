package organizations

import (
	"context"
	"errors"

	"github.com/allot-dev/allot/internal/awstime"
	"github.com/allot-dev/allot/internal/iam"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// serviceRoles are the service-linked roles that trusted access for a service principal
// creates (seeds 001 and 003): for License Manager, its core and management-account roles in
// the management account and its member-account role in every member account, those there
// and those created later. The AWS service names of the roles are given.
var serviceRoles = map[string]struct{ management, member []string }{
	iam.LicenseManagerService: {
		management: []string{iam.LicenseManagerService, iam.LicenseManagerMasterAccountService},
		member:     []string{iam.LicenseManagerMemberAccountService},
	},
}

// EnableAWSServiceAccessInput is the input of EnableAWSServiceAccess and
// DisableAWSServiceAccess.
type EnableAWSServiceAccessInput struct {
	ServicePrincipal string
}

// EnableAWSServiceAccess gives a service principal trusted access to the organization;
// enabling it again does nothing more. For license-manager.amazonaws.com it creates License
// Manager's service-linked roles in the organization's accounts; other principals are
// recorded only. Errors: AWSOrganizationsNotInUseException, AccessDeniedException,
// ConstraintViolationException (ORGANIZATION_NOT_IN_ALL_FEATURES_MODE), InvalidInputException.
func (s *Service) EnableAWSServiceAccess(ctx context.Context, caller *identity.Principal, in *EnableAWSServiceAccessInput) (*Empty, error) {
	if err := checkString("ServicePrincipal", in.ServicePrincipal, true, 1, 128, principalPattern); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		o, err := managed(ctx, tx, caller, "EnableAWSServiceAccess", true)
		if err != nil {
			return nil, err
		}
		if o.FeatureSet != FeatureSetAll {
			return nil, constraint(ReasonNotAllFeatures, "You can enable trusted access only in an organization with all features enabled; this one has %s.", o.FeatureSet)
		}
		if _, err := tx.EnableServiceAccess(ctx, o.ID, in.ServicePrincipal); err != nil {
			return nil, err
		}
		roles, ok := serviceRoles[in.ServicePrincipal]
		if !ok {
			return &Empty{}, nil
		}
		accts, err := tx.OrgAccounts(ctx, o.ID, store.OrgQuery{})
		if err != nil {
			return nil, err
		}
		for _, a := range accts {
			names := roles.member
			if a.ID == o.ManagementAccount {
				names = roles.management
			}
			for _, name := range names {
				if _, err := iam.EnsureServiceLinkedRoleTx(ctx, tx, a.ID, name); err != nil {
					return nil, err
				}
			}
		}
		return &Empty{}, nil
	})
}

// createServiceRoles creates in a new member account the service-linked roles of the
// services with trusted access to the organization.
func (s *Service) createServiceRoles(ctx context.Context, tx *store.Tx, o *store.Organization, accountID string) error {
	for principal, roles := range serviceRoles {
		orgID, err := tx.ServiceAccessEnabled(ctx, accountID, principal)
		if err != nil {
			return err
		}
		if orgID == "" {
			continue
		}
		for _, name := range roles.member {
			if _, err := iam.EnsureServiceLinkedRoleTx(ctx, tx, accountID, name); err != nil {
				return err
			}
		}
	}
	return nil
}

// DisableAWSServiceAccess takes trusted access away from a service principal; it does
// nothing for one without it. The service-linked roles stay, and may now be deleted. Errors:
// AWSOrganizationsNotInUseException, AccessDeniedException, InvalidInputException.
func (s *Service) DisableAWSServiceAccess(ctx context.Context, caller *identity.Principal, in *EnableAWSServiceAccessInput) (*Empty, error) {
	if err := checkString("ServicePrincipal", in.ServicePrincipal, true, 1, 128, principalPattern); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		o, err := managed(ctx, tx, caller, "DisableAWSServiceAccess", true)
		if err != nil {
			return nil, err
		}
		if err := tx.DisableServiceAccess(ctx, o.ID, in.ServicePrincipal); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		return &Empty{}, nil
	})
}

// ListAWSServiceAccessForOrganizationInput is the input of ListAWSServiceAccessForOrganization.
type ListAWSServiceAccessForOrganizationInput struct {
	MaxResults *int32  `json:",omitempty"`
	NextToken  *string `json:",omitempty"`
}

// ListAWSServiceAccessForOrganizationOutput is the output of
// ListAWSServiceAccessForOrganization.
type ListAWSServiceAccessForOrganizationOutput struct {
	EnabledServicePrincipals []EnabledServicePrincipal
	NextToken                *string `json:",omitempty"`
}

// ListAWSServiceAccessForOrganization returns the service principals with trusted access to
// the organization and when they got it. Errors: AWSOrganizationsNotInUseException,
// AccessDeniedException, InvalidInputException.
func (s *Service) ListAWSServiceAccessForOrganization(ctx context.Context, caller *identity.Principal, in *ListAWSServiceAccessForOrganizationInput) (*ListAWSServiceAccessForOrganizationOutput, error) {
	p, err := readPage("ListAWSServiceAccessForOrganization", in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ListAWSServiceAccessForOrganizationOutput{EnabledServicePrincipals: []EnabledServicePrincipal{}}
	err = s.readManaged(ctx, caller, "ListAWSServiceAccessForOrganization", func(tx *store.Tx, o *store.Organization) error {
		enabled, err := tx.ServiceAccess(ctx, o.ID, p.query(""))
		if err != nil {
			return err
		}
		enabled, out.NextToken = cut(p, enabled, func(e store.EnabledService) (string, int64) { return e.Principal, 0 })
		for _, e := range enabled {
			out.EnabledServicePrincipals = append(out.EnabledServicePrincipals,
				EnabledServicePrincipal{ServicePrincipal: e.Principal, DateEnabled: awstime.Epoch{Time: e.EnabledAt}})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
