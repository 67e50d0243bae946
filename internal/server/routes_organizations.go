package server

import (
	"context"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/organizations"
)

// organizationsOperations returns Organizations' operations. Each names the resource it is
// authorized against, as AWS's service authorization reference does: the root, OU, account or
// policy it acts on, "*" for operations without a resource type (CreateAccount, ListAccounts,
// …). AttachPolicy and DetachPolicy act on a policy and a target, and AWS authorizes both; here
// they are authorized against the target.
func organizationsOperations(s *organizations.Service) []*Operation {
	target := func(ctx context.Context, c *identity.Principal, id string) string {
		return s.TargetResource(ctx, c, id)
	}
	pol := func(ctx context.Context, c *identity.Principal, id string) string {
		return s.PolicyResource(ctx, c, id)
	}
	return []*Operation{
		// The organization.
		op("CreateOrganization", "organizations:CreateOrganization", false, s.CreateOrganization),
		op("DescribeOrganization", "organizations:DescribeOrganization", true, s.DescribeOrganization),
		op("DeleteOrganization", "organizations:DeleteOrganization", false, s.DeleteOrganization),
		op("ListRoots", "organizations:ListRoots", true, s.ListRoots),
		on(op("EnablePolicyType", "organizations:EnablePolicyType", false, s.EnablePolicyType), func(ctx context.Context, c *identity.Principal, in *organizations.EnablePolicyTypeInput) string {
			return target(ctx, c, in.RootID)
		}),
		on(op("DisablePolicyType", "organizations:DisablePolicyType", false, s.DisablePolicyType), func(ctx context.Context, c *identity.Principal, in *organizations.DisablePolicyTypeInput) string {
			return target(ctx, c, in.RootID)
		}),

		// Accounts.
		op("CreateAccount", "organizations:CreateAccount", false, s.CreateAccount),
		op("DescribeCreateAccountStatus", "organizations:DescribeCreateAccountStatus", true, s.DescribeCreateAccountStatus),
		op("ListCreateAccountStatus", "organizations:ListCreateAccountStatus", true, s.ListCreateAccountStatus),
		op("ListAccounts", "organizations:ListAccounts", true, s.ListAccounts),
		on(op("DescribeAccount", "organizations:DescribeAccount", true, s.DescribeAccount), func(ctx context.Context, c *identity.Principal, in *organizations.DescribeAccountInput) string {
			return target(ctx, c, in.AccountID)
		}),
		on(op("ListAccountsForParent", "organizations:ListAccountsForParent", true, s.ListAccountsForParent), func(ctx context.Context, c *identity.Principal, in *organizations.ListAccountsForParentInput) string {
			return target(ctx, c, in.ParentID)
		}),
		on(op("MoveAccount", "organizations:MoveAccount", false, s.MoveAccount), func(ctx context.Context, c *identity.Principal, in *organizations.MoveAccountInput) string {
			return target(ctx, c, in.AccountID)
		}),

		// Organizational units and the tree.
		on(op("CreateOrganizationalUnit", "organizations:CreateOrganizationalUnit", false, s.CreateOrganizationalUnit), func(ctx context.Context, c *identity.Principal, in *organizations.CreateOrganizationalUnitInput) string {
			return target(ctx, c, in.ParentID)
		}),
		on(op("DescribeOrganizationalUnit", "organizations:DescribeOrganizationalUnit", true, s.DescribeOrganizationalUnit), func(ctx context.Context, c *identity.Principal, in *organizations.DescribeOrganizationalUnitInput) string {
			return target(ctx, c, in.OrganizationalUnitID)
		}),
		on(op("UpdateOrganizationalUnit", "organizations:UpdateOrganizationalUnit", false, s.UpdateOrganizationalUnit), func(ctx context.Context, c *identity.Principal, in *organizations.UpdateOrganizationalUnitInput) string {
			return target(ctx, c, in.OrganizationalUnitID)
		}),
		on(op("DeleteOrganizationalUnit", "organizations:DeleteOrganizationalUnit", false, s.DeleteOrganizationalUnit), func(ctx context.Context, c *identity.Principal, in *organizations.DeleteOrganizationalUnitInput) string {
			return target(ctx, c, in.OrganizationalUnitID)
		}),
		on(op("ListOrganizationalUnitsForParent", "organizations:ListOrganizationalUnitsForParent", true, s.ListOrganizationalUnitsForParent), func(ctx context.Context, c *identity.Principal, in *organizations.ListOrganizationalUnitsForParentInput) string {
			return target(ctx, c, in.ParentID)
		}),
		on(op("ListChildren", "organizations:ListChildren", true, s.ListChildren), func(ctx context.Context, c *identity.Principal, in *organizations.ListChildrenInput) string {
			return target(ctx, c, in.ParentID)
		}),
		on(op("ListParents", "organizations:ListParents", true, s.ListParents), func(ctx context.Context, c *identity.Principal, in *organizations.ListParentsInput) string {
			return target(ctx, c, in.ChildID)
		}),

		// Trusted access.
		op("EnableAWSServiceAccess", "organizations:EnableAWSServiceAccess", false, s.EnableAWSServiceAccess),
		op("DisableAWSServiceAccess", "organizations:DisableAWSServiceAccess", false, s.DisableAWSServiceAccess),
		op("ListAWSServiceAccessForOrganization", "organizations:ListAWSServiceAccessForOrganization", true, s.ListAWSServiceAccessForOrganization),

		// Policies.
		op("CreatePolicy", "organizations:CreatePolicy", false, s.CreatePolicy),
		op("ListPolicies", "organizations:ListPolicies", true, s.ListPolicies),
		on(op("DescribePolicy", "organizations:DescribePolicy", true, s.DescribePolicy), func(ctx context.Context, c *identity.Principal, in *organizations.DescribePolicyInput) string {
			return pol(ctx, c, in.PolicyID)
		}),
		on(op("UpdatePolicy", "organizations:UpdatePolicy", false, s.UpdatePolicy), func(ctx context.Context, c *identity.Principal, in *organizations.UpdatePolicyInput) string {
			return pol(ctx, c, in.PolicyID)
		}),
		on(op("DeletePolicy", "organizations:DeletePolicy", false, s.DeletePolicy), func(ctx context.Context, c *identity.Principal, in *organizations.DeletePolicyInput) string {
			return pol(ctx, c, in.PolicyID)
		}),
		on(op("ListTargetsForPolicy", "organizations:ListTargetsForPolicy", true, s.ListTargetsForPolicy), func(ctx context.Context, c *identity.Principal, in *organizations.ListTargetsForPolicyInput) string {
			return pol(ctx, c, in.PolicyID)
		}),
		on(op("AttachPolicy", "organizations:AttachPolicy", false, s.AttachPolicy), func(ctx context.Context, c *identity.Principal, in *organizations.AttachPolicyInput) string {
			return target(ctx, c, in.TargetID)
		}),
		on(op("DetachPolicy", "organizations:DetachPolicy", false, s.DetachPolicy), func(ctx context.Context, c *identity.Principal, in *organizations.AttachPolicyInput) string {
			return target(ctx, c, in.TargetID)
		}),
		on(op("ListPoliciesForTarget", "organizations:ListPoliciesForTarget", true, s.ListPoliciesForTarget), func(ctx context.Context, c *identity.Principal, in *organizations.ListPoliciesForTargetInput) string {
			return target(ctx, c, in.TargetID)
		}),

		// Tags.
		on(op("TagResource", "organizations:TagResource", false, s.TagResource), func(ctx context.Context, c *identity.Principal, in *organizations.TagResourceInput) string {
			return s.TaggedResource(ctx, c, in.ResourceID)
		}),
		on(op("UntagResource", "organizations:UntagResource", false, s.UntagResource), func(ctx context.Context, c *identity.Principal, in *organizations.UntagResourceInput) string {
			return s.TaggedResource(ctx, c, in.ResourceID)
		}),
		on(op("ListTagsForResource", "organizations:ListTagsForResource", true, s.ListTagsForResource), func(ctx context.Context, c *identity.Principal, in *organizations.ListTagsForResourceInput) string {
			return s.TaggedResource(ctx, c, in.ResourceID)
		}),
	}
}
