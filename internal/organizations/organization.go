package organizations

import (
	"context"
	"errors"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// CreateOrganizationInput is the input of CreateOrganization.
type CreateOrganizationInput struct {
	FeatureSet string `json:",omitempty"`
}

// CreateOrganizationOutput is the output of CreateOrganization.
type CreateOrganizationOutput struct {
	Organization *Organization
}

// CreateOrganization creates an organization with the caller's account as its management
// account and one root; FeatureSet is ALL unless CONSOLIDATED_BILLING is asked for. Errors:
// AlreadyInOrganizationException, InvalidInputException.
func (s *Service) CreateOrganization(ctx context.Context, caller *identity.Principal, in *CreateOrganizationInput) (*CreateOrganizationOutput, error) {
	if err := checkEnum("FeatureSet", in.FeatureSet, false, FeatureSetAll, FeatureSetConsolidatedBilling); err != nil {
		return nil, err
	}
	featureSet := in.FeatureSet
	if featureSet == "" {
		featureSet = FeatureSetAll
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*CreateOrganizationOutput, error) {
		o := &store.Organization{
			ID: newOrgID(), ManagementAccount: caller.AccountID, FeatureSet: featureSet, RootID: newRootID(), CreatedAt: tx.Now(),
		}
		err := tx.CreateOrganization(ctx, o)
		if errors.Is(err, store.ErrConflict) {
			if _, inOrg := tx.Organization(ctx, caller.AccountID); inOrg == nil {
				return nil, awserr.New(ErrAlreadyInOrganization, "The AWS account is already a member of an organization.")
			}
		}
		if err != nil {
			return nil, err
		}
		if o, err = tx.Organization(ctx, caller.AccountID); err != nil {
			return nil, err
		}
		return &CreateOrganizationOutput{Organization: organizationOf(o)}, nil
	})
}

// DescribeOrganizationInput is the (empty) input of DescribeOrganization.
type DescribeOrganizationInput struct{}

// DescribeOrganizationOutput is the output of DescribeOrganization.
type DescribeOrganizationOutput struct {
	Organization *Organization
}

// DescribeOrganization returns the organization of the caller's account; member accounts may
// call it. Errors: AWSOrganizationsNotInUseException.
func (s *Service) DescribeOrganization(ctx context.Context, caller *identity.Principal, _ *DescribeOrganizationInput) (*DescribeOrganizationOutput, error) {
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*DescribeOrganizationOutput, error) {
		o, err := organization(ctx, tx, caller, false)
		if err != nil {
			return nil, err
		}
		return &DescribeOrganizationOutput{Organization: organizationOf(o)}, nil
	})
}

// DeleteOrganizationInput is the (empty) input of DeleteOrganization.
type DeleteOrganizationInput struct{}

// DeleteOrganization deletes the caller's organization, which must have no member accounts
// besides the management account, with its OUs and policies. Errors:
// AWSOrganizationsNotInUseException, AccessDeniedException, OrganizationNotEmptyException.
func (s *Service) DeleteOrganization(ctx context.Context, caller *identity.Principal, _ *DeleteOrganizationInput) (*Empty, error) {
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		o, err := managed(ctx, tx, caller, "DeleteOrganization", true)
		if err != nil {
			return nil, err
		}
		err = tx.DeleteOrganization(ctx, o.ID)
		if errors.Is(err, store.ErrInUse) {
			return nil, awserr.New(ErrOrganizationNotEmpty, "The organization isn't empty. To delete an organization, you must first remove all accounts except the management account.")
		}
		if err != nil {
			return nil, err
		}
		return &Empty{}, nil
	})
}

// ListRootsInput is the input of ListRoots.
type ListRootsInput struct {
	MaxResults *int32  `json:",omitempty"`
	NextToken  *string `json:",omitempty"`
}

// ListRootsOutput is the output of ListRoots.
type ListRootsOutput struct {
	Roots     []Root
	NextToken *string `json:",omitempty"`
}

// ListRoots returns the organization's one root with its enabled policy types. Errors:
// AWSOrganizationsNotInUseException, AccessDeniedException, InvalidInputException.
func (s *Service) ListRoots(ctx context.Context, caller *identity.Principal, in *ListRootsInput) (*ListRootsOutput, error) {
	p, err := readPage("ListRoots", in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ListRootsOutput{Roots: []Root{}}
	err = s.readManaged(ctx, caller, "ListRoots", func(tx *store.Tx, o *store.Organization) error {
		if p.pos.After == "" {
			out.Roots = append(out.Roots, *rootOf(o))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EnablePolicyTypeInput is the input of EnablePolicyType.
type EnablePolicyTypeInput struct {
	RootID     string `json:"RootId"`
	PolicyType string
}

// EnablePolicyTypeOutput is the output of EnablePolicyType and DisablePolicyType.
type EnablePolicyTypeOutput struct {
	Root *Root
}

// EnablePolicyType enables a policy type (SERVICE_CONTROL_POLICY) on the root and, as AWS
// does, attaches FullAWSAccess to the root and to every OU and account. Errors:
// AWSOrganizationsNotInUseException, AccessDeniedException, RootNotFoundException,
// PolicyTypeAlreadyEnabledException, PolicyTypeNotAvailableForOrganizationException,
// InvalidInputException.
func (s *Service) EnablePolicyType(ctx context.Context, caller *identity.Principal, in *EnablePolicyTypeInput) (*EnablePolicyTypeOutput, error) {
	if err := checkTargetID("RootId", in.RootID, rootIDPattern); err != nil {
		return nil, err
	}
	if err := checkPolicyType("PolicyType", in.PolicyType); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*EnablePolicyTypeOutput, error) {
		o, err := s.managedRoot(ctx, tx, caller, "EnablePolicyType", in.RootID)
		if err != nil {
			return nil, err
		}
		if o.FeatureSet != FeatureSetAll {
			return nil, awserr.New(ErrPolicyTypeNotAvailable, "You can't use the specified policy type with the feature set currently enabled for this organization (%s).", o.FeatureSet)
		}
		err = tx.EnablePolicyType(ctx, o.ID, in.PolicyType)
		if errors.Is(err, store.ErrConflict) {
			return nil, awserr.New(ErrPolicyTypeAlreadyEnabled, "The specified policy type %s is already enabled in the specified root.", in.PolicyType)
		}
		if err != nil {
			return nil, err
		}
		if in.PolicyType == store.PolicyTypeSCP {
			if err := tx.AttachOrgPolicyEverywhere(ctx, o.ID, store.FullAWSAccessID); err != nil {
				return nil, err
			}
		}
		if o, err = tx.Organization(ctx, caller.AccountID); err != nil {
			return nil, err
		}
		return &EnablePolicyTypeOutput{Root: rootOf(o)}, nil
	})
}

// DisablePolicyTypeInput is the input of DisablePolicyType.
type DisablePolicyTypeInput struct {
	RootID     string `json:"RootId"`
	PolicyType string
}

// DisablePolicyType disables a policy type on the root, detaching every policy of the type
// from the root, OUs and accounts, as AWS does. Errors: AWSOrganizationsNotInUseException,
// AccessDeniedException, RootNotFoundException, PolicyTypeNotEnabledException,
// InvalidInputException.
func (s *Service) DisablePolicyType(ctx context.Context, caller *identity.Principal, in *DisablePolicyTypeInput) (*EnablePolicyTypeOutput, error) {
	if err := checkTargetID("RootId", in.RootID, rootIDPattern); err != nil {
		return nil, err
	}
	if err := checkPolicyType("PolicyType", in.PolicyType); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*EnablePolicyTypeOutput, error) {
		o, err := s.managedRoot(ctx, tx, caller, "DisablePolicyType", in.RootID)
		if err != nil {
			return nil, err
		}
		err = tx.DisablePolicyType(ctx, o.ID, in.PolicyType)
		if errors.Is(err, store.ErrNotFound) {
			return nil, policyTypeNotEnabled()
		}
		if err != nil {
			return nil, err
		}
		if o, err = tx.Organization(ctx, caller.AccountID); err != nil {
			return nil, err
		}
		return &EnablePolicyTypeOutput{Root: rootOf(o)}, nil
	})
}

// managedRoot returns the caller's organization, locked, when the caller manages it and
// rootID is its root.
func (s *Service) managedRoot(ctx context.Context, tx *store.Tx, caller *identity.Principal, op, rootID string) (*store.Organization, error) {
	o, err := managed(ctx, tx, caller, op, true)
	if err != nil {
		return nil, err
	}
	if o.RootID != rootID {
		return nil, awserr.New(ErrRootNotFound, "We can't find a root with the RootId %s.", rootID)
	}
	return o, nil
}

func policyTypeNotEnabled() error {
	return awserr.New(ErrPolicyTypeNotEnabled, "The specified policy type isn't currently enabled in this root. You can't attach policies of the specified type to entities in a root until you enable that type in the root (EnablePolicyType).")
}
