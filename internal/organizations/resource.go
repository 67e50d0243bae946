package organizations

import (
	"context"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// The functions below name the resources operations are authorized against, as the Service
// Authorization Reference gives them for Organizations: the organization's root, OUs,
// accounts and policies, by ARN. They read the caller's organization; without one they
// return "*" (the operation then fails with AWSOrganizationsNotInUseException).

// orgOf returns the caller's organization, or nil.
func (s *Service) orgOf(ctx context.Context, caller *identity.Principal) *store.Organization {
	var o *store.Organization
	s.DB.View(ctx, func(tx *store.Tx) error {
		o, _ = tx.Organization(ctx, caller.AccountID)
		return nil
	})
	return o
}

// TargetResource returns the ARN of a root, OU or account (by ID) of the caller's
// organization, whether it exists or not.
func (s *Service) TargetResource(ctx context.Context, caller *identity.Principal, id string) string {
	o := s.orgOf(ctx, caller)
	if o == nil || id == "" {
		return "*"
	}
	switch targetType(id) {
	case TypeRoot:
		return store.OrgRootARN(o.ManagementAccount, o.ID, id)
	case TypeOU:
		return store.OUARN(o.ManagementAccount, o.ID, id)
	}
	return store.OrgAccountARN(o.ManagementAccount, o.ID, id)
}

// PolicyResource returns the ARN of a policy (by ID) the caller's organization sees; one that
// does not exist is named as the organization's own SCP.
func (s *Service) PolicyResource(ctx context.Context, caller *identity.Principal, id string) string {
	var arn string
	s.DB.View(ctx, func(tx *store.Tx) error {
		o, err := tx.Organization(ctx, caller.AccountID)
		if err != nil || id == "" {
			return nil
		}
		typ, aws := store.PolicyTypeSCP, false
		if p, err := tx.OrgPolicy(ctx, o.ID, id); err == nil {
			typ, aws = p.Type, p.AWSManaged()
		}
		arn = store.OrgPolicyARN(o.ManagementAccount, o.ID, typ, id, aws)
		return nil
	})
	if arn == "" {
		return "*"
	}
	return arn
}

// TaggedResource returns the ARN of a root, OU, account or policy (by ID) for the tagging
// operations.
func (s *Service) TaggedResource(ctx context.Context, caller *identity.Principal, id string) string {
	if policyIDPattern.MatchString(id) {
		return s.PolicyResource(ctx, caller, id)
	}
	return s.TargetResource(ctx, caller, id)
}
