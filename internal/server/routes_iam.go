package server

import (
	"context"

	"github.com/allot-dev/allot/internal/iam"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// iamOperations returns IAM's operations. Each names the resource it is authorized against,
// as AWS's service authorization reference does: the user, role or managed policy it acts on
// (an entity's ARN includes its path, so it is looked up), "*" for the List operations of
// the whole account.
func iamOperations(s *iam.Service) []*Operation {
	user := func(ctx context.Context, c *identity.Principal, name string) string {
		return s.UserResource(ctx, c, name)
	}
	role := func(ctx context.Context, c *identity.Principal, name string) string {
		return s.RoleResource(ctx, c, name)
	}
	return []*Operation{
		// Users.
		on(op("CreateUser", "iam:CreateUser", false, s.CreateUser), func(ctx context.Context, c *identity.Principal, in *iam.CreateUserInput) string {
			return store.UserARN(c.AccountID, pathOr(in.Path), in.UserName)
		}),
		on(op("GetUser", "iam:GetUser", true, s.GetUser), func(ctx context.Context, c *identity.Principal, in *iam.GetUserInput) string {
			return user(ctx, c, in.UserName)
		}),
		op("ListUsers", "iam:ListUsers", true, s.ListUsers),
		on(op("DeleteUser", "iam:DeleteUser", false, s.DeleteUser), func(ctx context.Context, c *identity.Principal, in *iam.DeleteUserInput) string {
			return user(ctx, c, in.UserName)
		}),
		on(op("TagUser", "iam:TagUser", false, s.TagUser), func(ctx context.Context, c *identity.Principal, in *iam.TagUserInput) string {
			return user(ctx, c, in.UserName)
		}),
		on(op("UntagUser", "iam:UntagUser", false, s.UntagUser), func(ctx context.Context, c *identity.Principal, in *iam.UntagUserInput) string {
			return user(ctx, c, in.UserName)
		}),
		on(op("ListUserTags", "iam:ListUserTags", true, s.ListUserTags), func(ctx context.Context, c *identity.Principal, in *iam.ListUserTagsInput) string {
			return user(ctx, c, in.UserName)
		}),

		// Access keys.
		on(op("CreateAccessKey", "iam:CreateAccessKey", false, s.CreateAccessKey), func(ctx context.Context, c *identity.Principal, in *iam.CreateAccessKeyInput) string {
			return user(ctx, c, in.UserName)
		}),
		on(op("ListAccessKeys", "iam:ListAccessKeys", true, s.ListAccessKeys), func(ctx context.Context, c *identity.Principal, in *iam.ListAccessKeysInput) string {
			return user(ctx, c, in.UserName)
		}),
		on(op("UpdateAccessKey", "iam:UpdateAccessKey", false, s.UpdateAccessKey), func(ctx context.Context, c *identity.Principal, in *iam.UpdateAccessKeyInput) string {
			return user(ctx, c, in.UserName)
		}),
		on(op("DeleteAccessKey", "iam:DeleteAccessKey", false, s.DeleteAccessKey), func(ctx context.Context, c *identity.Principal, in *iam.DeleteAccessKeyInput) string {
			return user(ctx, c, in.UserName)
		}),

		// Roles.
		on(op("CreateRole", "iam:CreateRole", false, s.CreateRole), func(ctx context.Context, c *identity.Principal, in *iam.CreateRoleInput) string {
			return store.RoleARN(c.AccountID, pathOr(in.Path), in.RoleName)
		}),
		on(op("GetRole", "iam:GetRole", true, s.GetRole), func(ctx context.Context, c *identity.Principal, in *iam.GetRoleInput) string {
			return role(ctx, c, in.RoleName)
		}),
		op("ListRoles", "iam:ListRoles", true, s.ListRoles),
		on(op("DeleteRole", "iam:DeleteRole", false, s.DeleteRole), func(ctx context.Context, c *identity.Principal, in *iam.DeleteRoleInput) string {
			return role(ctx, c, in.RoleName)
		}),
		on(op("UpdateRole", "iam:UpdateRole", false, s.UpdateRole), func(ctx context.Context, c *identity.Principal, in *iam.UpdateRoleInput) string {
			return role(ctx, c, in.RoleName)
		}),
		on(op("UpdateRoleDescription", "iam:UpdateRoleDescription", false, s.UpdateRoleDescription), func(ctx context.Context, c *identity.Principal, in *iam.UpdateRoleDescriptionInput) string {
			return role(ctx, c, in.RoleName)
		}),
		on(op("UpdateAssumeRolePolicy", "iam:UpdateAssumeRolePolicy", false, s.UpdateAssumeRolePolicy), func(ctx context.Context, c *identity.Principal, in *iam.UpdateAssumeRolePolicyInput) string {
			return role(ctx, c, in.RoleName)
		}),
		on(op("TagRole", "iam:TagRole", false, s.TagRole), func(ctx context.Context, c *identity.Principal, in *iam.TagRoleInput) string {
			return role(ctx, c, in.RoleName)
		}),
		on(op("UntagRole", "iam:UntagRole", false, s.UntagRole), func(ctx context.Context, c *identity.Principal, in *iam.UntagRoleInput) string {
			return role(ctx, c, in.RoleName)
		}),
		on(op("ListRoleTags", "iam:ListRoleTags", true, s.ListRoleTags), func(ctx context.Context, c *identity.Principal, in *iam.ListRoleTagsInput) string {
			return role(ctx, c, in.RoleName)
		}),

		// Managed policies.
		on(op("CreatePolicy", "iam:CreatePolicy", false, s.CreatePolicy), func(ctx context.Context, c *identity.Principal, in *iam.CreatePolicyInput) string {
			return store.PolicyARN(c.AccountID, pathOr(in.Path), in.PolicyName)
		}),
		on(op("GetPolicy", "iam:GetPolicy", true, s.GetPolicy), func(ctx context.Context, _ *identity.Principal, in *iam.GetPolicyInput) string { return in.PolicyARN }),
		on(op("GetPolicyVersion", "iam:GetPolicyVersion", true, s.GetPolicyVersion), func(ctx context.Context, _ *identity.Principal, in *iam.GetPolicyVersionInput) string {
			return in.PolicyARN
		}),
		on(op("CreatePolicyVersion", "iam:CreatePolicyVersion", false, s.CreatePolicyVersion), func(ctx context.Context, _ *identity.Principal, in *iam.CreatePolicyVersionInput) string {
			return in.PolicyARN
		}),
		on(op("DeletePolicyVersion", "iam:DeletePolicyVersion", false, s.DeletePolicyVersion), func(ctx context.Context, _ *identity.Principal, in *iam.DeletePolicyVersionInput) string {
			return in.PolicyARN
		}),
		on(op("ListPolicyVersions", "iam:ListPolicyVersions", true, s.ListPolicyVersions), func(ctx context.Context, _ *identity.Principal, in *iam.ListPolicyVersionsInput) string {
			return in.PolicyARN
		}),
		on(op("SetDefaultPolicyVersion", "iam:SetDefaultPolicyVersion", false, s.SetDefaultPolicyVersion), func(ctx context.Context, _ *identity.Principal, in *iam.SetDefaultPolicyVersionInput) string {
			return in.PolicyARN
		}),
		on(op("DeletePolicy", "iam:DeletePolicy", false, s.DeletePolicy), func(ctx context.Context, _ *identity.Principal, in *iam.DeletePolicyInput) string {
			return in.PolicyARN
		}),
		op("ListPolicies", "iam:ListPolicies", true, s.ListPolicies),
		on(op("TagPolicy", "iam:TagPolicy", false, s.TagPolicy), func(ctx context.Context, _ *identity.Principal, in *iam.TagPolicyInput) string { return in.PolicyARN }),
		on(op("UntagPolicy", "iam:UntagPolicy", false, s.UntagPolicy), func(ctx context.Context, _ *identity.Principal, in *iam.UntagPolicyInput) string { return in.PolicyARN }),
		on(op("ListPolicyTags", "iam:ListPolicyTags", true, s.ListPolicyTags), func(ctx context.Context, _ *identity.Principal, in *iam.ListPolicyTagsInput) string {
			return in.PolicyARN
		}),

		// Attached managed policies (authorized against the user or role).
		on(op("AttachUserPolicy", "iam:AttachUserPolicy", false, s.AttachUserPolicy), func(ctx context.Context, c *identity.Principal, in *iam.AttachUserPolicyInput) string {
			return user(ctx, c, in.UserName)
		}),
		on(op("DetachUserPolicy", "iam:DetachUserPolicy", false, s.DetachUserPolicy), func(ctx context.Context, c *identity.Principal, in *iam.DetachUserPolicyInput) string {
			return user(ctx, c, in.UserName)
		}),
		on(op("ListAttachedUserPolicies", "iam:ListAttachedUserPolicies", true, s.ListAttachedUserPolicies), func(ctx context.Context, c *identity.Principal, in *iam.ListAttachedUserPoliciesInput) string {
			return user(ctx, c, in.UserName)
		}),
		on(op("AttachRolePolicy", "iam:AttachRolePolicy", false, s.AttachRolePolicy), func(ctx context.Context, c *identity.Principal, in *iam.AttachRolePolicyInput) string {
			return role(ctx, c, in.RoleName)
		}),
		on(op("DetachRolePolicy", "iam:DetachRolePolicy", false, s.DetachRolePolicy), func(ctx context.Context, c *identity.Principal, in *iam.DetachRolePolicyInput) string {
			return role(ctx, c, in.RoleName)
		}),
		on(op("ListAttachedRolePolicies", "iam:ListAttachedRolePolicies", true, s.ListAttachedRolePolicies), func(ctx context.Context, c *identity.Principal, in *iam.ListAttachedRolePoliciesInput) string {
			return role(ctx, c, in.RoleName)
		}),

		// Inline policies.
		on(op("PutUserPolicy", "iam:PutUserPolicy", false, s.PutUserPolicy), func(ctx context.Context, c *identity.Principal, in *iam.PutUserPolicyInput) string {
			return user(ctx, c, in.UserName)
		}),
		on(op("GetUserPolicy", "iam:GetUserPolicy", true, s.GetUserPolicy), func(ctx context.Context, c *identity.Principal, in *iam.GetUserPolicyInput) string {
			return user(ctx, c, in.UserName)
		}),
		on(op("DeleteUserPolicy", "iam:DeleteUserPolicy", false, s.DeleteUserPolicy), func(ctx context.Context, c *identity.Principal, in *iam.DeleteUserPolicyInput) string {
			return user(ctx, c, in.UserName)
		}),
		on(op("ListUserPolicies", "iam:ListUserPolicies", true, s.ListUserPolicies), func(ctx context.Context, c *identity.Principal, in *iam.ListUserPoliciesInput) string {
			return user(ctx, c, in.UserName)
		}),
		on(op("PutRolePolicy", "iam:PutRolePolicy", false, s.PutRolePolicy), func(ctx context.Context, c *identity.Principal, in *iam.PutRolePolicyInput) string {
			return role(ctx, c, in.RoleName)
		}),
		on(op("GetRolePolicy", "iam:GetRolePolicy", true, s.GetRolePolicy), func(ctx context.Context, c *identity.Principal, in *iam.GetRolePolicyInput) string {
			return role(ctx, c, in.RoleName)
		}),
		on(op("DeleteRolePolicy", "iam:DeleteRolePolicy", false, s.DeleteRolePolicy), func(ctx context.Context, c *identity.Principal, in *iam.DeleteRolePolicyInput) string {
			return role(ctx, c, in.RoleName)
		}),
		on(op("ListRolePolicies", "iam:ListRolePolicies", true, s.ListRolePolicies), func(ctx context.Context, c *identity.Principal, in *iam.ListRolePoliciesInput) string {
			return role(ctx, c, in.RoleName)
		}),

		// Permissions boundaries.
		on(op("PutUserPermissionsBoundary", "iam:PutUserPermissionsBoundary", false, s.PutUserPermissionsBoundary), func(ctx context.Context, c *identity.Principal, in *iam.PutUserPermissionsBoundaryInput) string {
			return user(ctx, c, in.UserName)
		}),
		on(op("DeleteUserPermissionsBoundary", "iam:DeleteUserPermissionsBoundary", false, s.DeleteUserPermissionsBoundary), func(ctx context.Context, c *identity.Principal, in *iam.DeleteUserPermissionsBoundaryInput) string {
			return user(ctx, c, in.UserName)
		}),
		on(op("PutRolePermissionsBoundary", "iam:PutRolePermissionsBoundary", false, s.PutRolePermissionsBoundary), func(ctx context.Context, c *identity.Principal, in *iam.PutRolePermissionsBoundaryInput) string {
			return role(ctx, c, in.RoleName)
		}),
		on(op("DeleteRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary", false, s.DeleteRolePermissionsBoundary), func(ctx context.Context, c *identity.Principal, in *iam.DeleteRolePermissionsBoundaryInput) string {
			return role(ctx, c, in.RoleName)
		}),

		// The policy simulator: against the simulated user or role; custom policies against "*".
		on(op("SimulatePrincipalPolicy", "iam:SimulatePrincipalPolicy", true, s.SimulatePrincipalPolicy), func(ctx context.Context, _ *identity.Principal, in *iam.SimulatePrincipalPolicyInput) string {
			return in.PolicySourceARN
		}),
		op("SimulateCustomPolicy", "iam:SimulateCustomPolicy", true, s.SimulateCustomPolicy),

		// Service-linked roles: against the role (a deletion task names its role).
		on(op("CreateServiceLinkedRole", "iam:CreateServiceLinkedRole", false, s.CreateServiceLinkedRole), func(ctx context.Context, c *identity.Principal, in *iam.CreateServiceLinkedRoleInput) string {
			return iam.ServiceLinkedRoleResource(c, in.AWSServiceName)
		}),
		on(op("DeleteServiceLinkedRole", "iam:DeleteServiceLinkedRole", false, s.DeleteServiceLinkedRole), func(ctx context.Context, c *identity.Principal, in *iam.DeleteServiceLinkedRoleInput) string {
			return role(ctx, c, in.RoleName)
		}),
		on(op("GetServiceLinkedRoleDeletionStatus", "iam:GetServiceLinkedRoleDeletionStatus", true, s.GetServiceLinkedRoleDeletionStatus), func(ctx context.Context, c *identity.Principal, in *iam.GetServiceLinkedRoleDeletionStatusInput) string {
			return iam.DeletionTaskRoleARN(c, in.DeletionTaskID)
		}),

		// OpenID Connect identity providers: against the provider; the list against "*".
		on(op("CreateOpenIDConnectProvider", "iam:CreateOpenIDConnectProvider", false, s.CreateOpenIDConnectProvider), func(ctx context.Context, c *identity.Principal, in *iam.CreateOpenIDConnectProviderInput) string {
			return iam.OIDCProviderResource(c, in.URL)
		}),
		on(op("GetOpenIDConnectProvider", "iam:GetOpenIDConnectProvider", true, s.GetOpenIDConnectProvider), func(ctx context.Context, _ *identity.Principal, in *iam.GetOpenIDConnectProviderInput) string {
			return in.OpenIDConnectProviderARN
		}),
		op("ListOpenIDConnectProviders", "iam:ListOpenIDConnectProviders", true, s.ListOpenIDConnectProviders),
		on(op("DeleteOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider", false, s.DeleteOpenIDConnectProvider), func(ctx context.Context, _ *identity.Principal, in *iam.DeleteOpenIDConnectProviderInput) string {
			return in.OpenIDConnectProviderARN
		}),
		on(op("AddClientIDToOpenIDConnectProvider", "iam:AddClientIDToOpenIDConnectProvider", false, s.AddClientIDToOpenIDConnectProvider), func(ctx context.Context, _ *identity.Principal, in *iam.AddClientIDToOpenIDConnectProviderInput) string {
			return in.OpenIDConnectProviderARN
		}),
		on(op("RemoveClientIDFromOpenIDConnectProvider", "iam:RemoveClientIDFromOpenIDConnectProvider", false, s.RemoveClientIDFromOpenIDConnectProvider), func(ctx context.Context, _ *identity.Principal, in *iam.RemoveClientIDFromOpenIDConnectProviderInput) string {
			return in.OpenIDConnectProviderARN
		}),
		on(op("UpdateOpenIDConnectProviderThumbprint", "iam:UpdateOpenIDConnectProviderThumbprint", false, s.UpdateOpenIDConnectProviderThumbprint), func(ctx context.Context, _ *identity.Principal, in *iam.UpdateOpenIDConnectProviderThumbprintInput) string {
			return in.OpenIDConnectProviderARN
		}),
	}
}

// on sets the resource an operation is authorized against, in the caller's account.
func on[In any](o *Operation, resource func(ctx context.Context, caller *identity.Principal, in *In) string) *Operation {
	o.Resource = func(ctx context.Context, caller *identity.Principal, in any) (string, string) {
		return resource(ctx, caller, in.(*In)), ""
	}
	return o
}

// pathOr returns an entity's path as created: "/" when none is given.
func pathOr(path string) string {
	if path == "" {
		return "/"
	}
	return path
}
