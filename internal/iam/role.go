package iam

import (
	"context"
	"strings"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/policy"
	"github.com/allot-dev/allot/internal/store"
)

// DefaultMaxSessionDuration is a role's MaxSessionDuration unless given, in seconds.
const DefaultMaxSessionDuration = 3600

// ServiceLinkedRolePath is the path prefix of service-linked roles, which only AWS (here:
// Allot itself) may create or change.
const ServiceLinkedRolePath = "/aws-service-role/"

// reservedPaths are role paths the API does not let callers use.
var reservedPaths = []string{ServiceLinkedRolePath, "/aws-reserved/"}

// CreateRoleInput is the input of CreateRole.
type CreateRoleInput struct {
	Path                     string `json:",omitempty"`
	RoleName                 string
	AssumeRolePolicyDocument string
	Description              string `json:",omitempty"`
	MaxSessionDuration       *int32 `json:",omitempty"`
	PermissionsBoundary      string `json:",omitempty"`
	Tags                     []Tag  `json:",omitempty"`
}

// CreateRoleOutput is the output of CreateRole.
type CreateRoleOutput struct {
	Role *Role
}

// CreateRole creates a role with a trust policy (AssumeRolePolicyDocument, which must name a
// Principal). Errors: ValidationError, MalformedPolicyDocument, LimitExceeded (trust policy
// size, tags), EntityAlreadyExists (a role of that name in any case), NoSuchEntity (the
// boundary policy), InvalidInput.
func (s *Service) CreateRole(ctx context.Context, caller *identity.Principal, in *CreateRoleInput) (*CreateRoleOutput, error) {
	r, err := newRole(caller.AccountID, in, false)
	if err != nil {
		return nil, err
	}
	r.ID = s.newID(RoleIDPrefix)
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*CreateRoleOutput, error) {
		role, err := insertRole(ctx, tx, r)
		if err != nil {
			return nil, err
		}
		return &CreateRoleOutput{Role: role}, nil
	})
}

// CreateRoleTx creates a role in accountID inside the caller's transaction tx, with the
// checks and errors of CreateRole (*awserr.Error values), and returns it as CreateRole does.
// It is for other services that create roles as part of their own change, such as
// Organizations creating OrganizationAccountAccessRole in a new account; unlike CreateRole
// it accepts the reserved paths /aws-service-role/ and /aws-reserved/. The account must
// exist in tx. The caller's audit event records the caller's own response, not this role.
func CreateRoleTx(ctx context.Context, tx *store.Tx, accountID string, in *CreateRoleInput) (*Role, error) {
	r, err := newRole(accountID, in, true)
	if err != nil {
		return nil, err
	}
	r.ID = NewEntityID(RoleIDPrefix)
	return insertRole(ctx, tx, r)
}

// newRole checks a CreateRole input and returns the role to store, without ID and time.
func newRole(accountID string, in *CreateRoleInput, reservedOK bool) (*store.Role, error) {
	if err := checkName("roleName", in.RoleName, maxRoleName); err != nil {
		return nil, err
	}
	path, err := checkPath("path", in.Path)
	if err != nil {
		return nil, err
	}
	if !reservedOK {
		for _, p := range reservedPaths {
			if strings.HasPrefix(path, p) {
				return nil, awserr.New(ErrInvalidInput, "The path %s is reserved for roles created by AWS.", path)
			}
		}
	}
	if err := checkTrustPolicy("assumeRolePolicyDocument", in.AssumeRolePolicyDocument); err != nil {
		return nil, err
	}
	if err := checkDescription("description", in.Description); err != nil {
		return nil, err
	}
	if err := checkMaxSession(in.MaxSessionDuration); err != nil {
		return nil, err
	}
	if err := checkBoundary("permissionsBoundary", in.PermissionsBoundary, accountID); err != nil {
		return nil, noSuchBoundaryFor(err, in.PermissionsBoundary)
	}
	tags, err := checkTags("tags", in.Tags, false)
	if err != nil {
		return nil, err
	}
	r := &store.Role{
		AccountID: accountID, Name: in.RoleName, Path: path, Description: in.Description,
		AssumeRolePolicy: in.AssumeRolePolicyDocument, MaxSessionDuration: DefaultMaxSessionDuration,
		PermissionsBoundary: in.PermissionsBoundary, Tags: tags,
	}
	if in.MaxSessionDuration != nil {
		r.MaxSessionDuration = *in.MaxSessionDuration
	}
	return r, nil
}

// checkTrustPolicy checks a role's trust policy: a valid trust policy within the size quota.
func checkTrustPolicy(member, doc string) error {
	size, err := checkDocument(member, doc, policy.KindTrust)
	if err != nil {
		return err
	}
	if size > maxTrustPolicy {
		return awserr.New(ErrLimitExceeded, "Cannot exceed quota for ACLSizePerRole: %d", maxTrustPolicy)
	}
	return nil
}

// insertRole stores a checked role.
func insertRole(ctx context.Context, tx *store.Tx, r *store.Role) (*Role, error) {
	r.CreatedAt = tx.Now()
	err := tx.CreateRole(ctx, r)
	switch {
	case is(err, store.ErrConflict):
		return nil, awserr.New(ErrEntityAlreadyExists, "Role with name %s already exists.", r.Name)
	case is(err, store.ErrNotFound):
		return nil, noSuchBoundary(r.PermissionsBoundary)
	case is(err, store.ErrLimitExceeded):
		return nil, tooManyTags()
	case err != nil:
		return nil, err
	}
	return roleOf(r), nil
}

// GetRoleInput is the input of GetRole.
type GetRoleInput struct {
	RoleName string
}

// GetRoleOutput is the output of GetRole.
type GetRoleOutput struct {
	Role *Role
}

// GetRole returns a role with its trust policy, tags, boundary and last use. Errors:
// NoSuchEntity, ValidationError.
func (s *Service) GetRole(ctx context.Context, caller *identity.Principal, in *GetRoleInput) (*GetRoleOutput, error) {
	if err := checkName("roleName", in.RoleName, maxRoleName); err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*GetRoleOutput, error) {
		r, err := role(ctx, tx, caller.AccountID, in.RoleName)
		if err != nil {
			return nil, err
		}
		out := roleOf(r)
		out.RoleLastUsed = lastUsedOf(r)
		return &GetRoleOutput{Role: out}, nil
	})
}

// role reads a role, NoSuchEntity when there is none.
func role(ctx context.Context, tx *store.Tx, accountID, name string) (*store.Role, error) {
	r, err := tx.Role(ctx, accountID, name)
	if is(err, store.ErrNotFound) {
		return nil, noSuchRole(name)
	}
	return r, err
}

// modifiableRole reads a role that callers may change: not a service-linked role.
func modifiableRole(ctx context.Context, tx *store.Tx, accountID, name string) (*store.Role, error) {
	r, err := role(ctx, tx, accountID, name)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(r.Path, ServiceLinkedRolePath) {
		return nil, awserr.New(ErrUnmodifiableEntity, "Cannot perform the operation on the protected role '%s' - this role is only modifiable by AWS", r.Name)
	}
	return r, nil
}

// ListRolesInput is the input of ListRoles.
type ListRolesInput struct {
	PathPrefix string `json:",omitempty"`
	Marker     string `json:",omitempty"`
	MaxItems   *int32 `json:",omitempty"`
}

// ListRolesOutput is the output of ListRoles.
type ListRolesOutput struct {
	Roles       []Role
	IsTruncated bool
	Marker      string `xml:",omitempty" json:",omitempty"`
}

// ListRoles returns the account's roles whose path starts with PathPrefix, in order of name,
// with their trust policies but without tags, boundaries or last use. Errors:
// ValidationError, InvalidInput (Marker).
func (s *Service) ListRoles(ctx context.Context, caller *identity.Principal, in *ListRolesInput) (*ListRolesOutput, error) {
	if err := checkPathPrefix("pathPrefix", in.PathPrefix); err != nil {
		return nil, err
	}
	p, err := readPage("ListRoles", in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListRolesOutput, error) {
		roles, err := tx.Roles(ctx, caller.AccountID, store.ListQuery{PathPrefix: in.PathPrefix, After: p.pos.Name, Limit: p.limit + 1})
		if err != nil {
			return nil, err
		}
		truncated := len(roles) > p.limit
		roles = roles[:min(len(roles), p.limit)]
		out := &ListRolesOutput{Roles: make([]Role, 0, len(roles)), IsTruncated: truncated}
		for _, r := range roles {
			v := roleOf(r)
			v.PermissionsBoundary, v.Tags = nil, nil
			out.Roles = append(out.Roles, *v)
		}
		if truncated {
			out.Marker = p.next(true, position{Name: lowerName(roles[len(roles)-1].Name)})
		}
		return out, nil
	})
}

// DeleteRoleInput is the input of DeleteRole.
type DeleteRoleInput struct {
	RoleName string
}

// DeleteRole deletes a role. Errors: NoSuchEntity, DeleteConflict (while it has inline or
// attached policies), UnmodifiableEntity (a service-linked role), ValidationError.
func (s *Service) DeleteRole(ctx context.Context, caller *identity.Principal, in *DeleteRoleInput) (*Empty, error) {
	if err := checkName("roleName", in.RoleName, maxRoleName); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		if _, err := modifiableRole(ctx, tx, caller.AccountID, in.RoleName); err != nil {
			return nil, err
		}
		err := tx.DeleteRole(ctx, caller.AccountID, in.RoleName)
		if is(err, store.ErrNotFound) {
			return nil, noSuchRole(in.RoleName)
		}
		if err != nil {
			return nil, deleteConflict(err)
		}
		return &Empty{}, nil
	})
}

// UpdateRoleInput is the input of UpdateRole.
type UpdateRoleInput struct {
	RoleName           string
	Description        *string `json:",omitempty"`
	MaxSessionDuration *int32  `json:",omitempty"`
}

// UpdateRole changes a role's description and maximum session duration, those given.
// Errors: NoSuchEntity, UnmodifiableEntity, ValidationError.
func (s *Service) UpdateRole(ctx context.Context, caller *identity.Principal, in *UpdateRoleInput) (*Empty, error) {
	if err := checkName("roleName", in.RoleName, maxRoleName); err != nil {
		return nil, err
	}
	if in.Description != nil {
		if err := checkDescription("description", *in.Description); err != nil {
			return nil, err
		}
	}
	if err := checkMaxSession(in.MaxSessionDuration); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		r, err := modifiableRole(ctx, tx, caller.AccountID, in.RoleName)
		if err != nil {
			return nil, err
		}
		if in.Description != nil {
			r.Description = *in.Description
		}
		if in.MaxSessionDuration != nil {
			r.MaxSessionDuration = *in.MaxSessionDuration
		}
		if err := tx.UpdateRole(ctx, r); err != nil {
			return nil, err
		}
		return &Empty{}, nil
	})
}

// UpdateRoleDescriptionInput is the input of UpdateRoleDescription.
type UpdateRoleDescriptionInput struct {
	RoleName    string
	Description string
}

// UpdateRoleDescriptionOutput is the output of UpdateRoleDescription.
type UpdateRoleDescriptionOutput struct {
	Role *Role
}

// UpdateRoleDescription changes a role's description (service-linked roles' too) and returns
// the role. Errors: NoSuchEntity, ValidationError.
func (s *Service) UpdateRoleDescription(ctx context.Context, caller *identity.Principal, in *UpdateRoleDescriptionInput) (*UpdateRoleDescriptionOutput, error) {
	if err := checkName("roleName", in.RoleName, maxRoleName); err != nil {
		return nil, err
	}
	if err := checkDescription("description", in.Description); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*UpdateRoleDescriptionOutput, error) {
		r, err := role(ctx, tx, caller.AccountID, in.RoleName)
		if err != nil {
			return nil, err
		}
		r.Description = in.Description
		if err := tx.UpdateRole(ctx, r); err != nil {
			return nil, err
		}
		out := roleOf(r)
		out.RoleLastUsed = lastUsedOf(r)
		return &UpdateRoleDescriptionOutput{Role: out}, nil
	})
}

// UpdateAssumeRolePolicyInput is the input of UpdateAssumeRolePolicy.
type UpdateAssumeRolePolicyInput struct {
	RoleName       string
	PolicyDocument string
}

// UpdateAssumeRolePolicy replaces a role's trust policy. Errors: NoSuchEntity,
// MalformedPolicyDocument, LimitExceeded, UnmodifiableEntity, ValidationError.
func (s *Service) UpdateAssumeRolePolicy(ctx context.Context, caller *identity.Principal, in *UpdateAssumeRolePolicyInput) (*Empty, error) {
	if err := checkName("roleName", in.RoleName, maxRoleName); err != nil {
		return nil, err
	}
	if err := checkTrustPolicy("policyDocument", in.PolicyDocument); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		r, err := modifiableRole(ctx, tx, caller.AccountID, in.RoleName)
		if err != nil {
			return nil, err
		}
		r.AssumeRolePolicy = in.PolicyDocument
		if err := tx.UpdateRole(ctx, r); err != nil {
			return nil, err
		}
		return &Empty{}, nil
	})
}

// TagRoleInput is the input of TagRole.
type TagRoleInput struct {
	RoleName string
	Tags     []Tag
}

// TagRole adds tags to a role, replacing the values of keys it has (in any case). Errors:
// NoSuchEntity, InvalidInput, LimitExceeded, ValidationError.
func (s *Service) TagRole(ctx context.Context, caller *identity.Principal, in *TagRoleInput) (*Empty, error) {
	if err := checkName("roleName", in.RoleName, maxRoleName); err != nil {
		return nil, err
	}
	return s.tag(ctx, caller, store.EntityRole, in.RoleName, in.Tags)
}

// UntagRoleInput is the input of UntagRole.
type UntagRoleInput struct {
	RoleName string
	TagKeys  []string
}

// UntagRole removes tags from a role; keys it lacks are ignored. Errors: NoSuchEntity,
// ValidationError.
func (s *Service) UntagRole(ctx context.Context, caller *identity.Principal, in *UntagRoleInput) (*Empty, error) {
	if err := checkName("roleName", in.RoleName, maxRoleName); err != nil {
		return nil, err
	}
	return s.untag(ctx, caller, store.EntityRole, in.RoleName, in.TagKeys)
}

// ListRoleTagsInput is the input of ListRoleTags.
type ListRoleTagsInput struct {
	RoleName string
	Marker   string `json:",omitempty"`
	MaxItems *int32 `json:",omitempty"`
}

// ListRoleTags returns a role's tags in the order they were added. Errors: NoSuchEntity,
// ValidationError, InvalidInput (Marker).
func (s *Service) ListRoleTags(ctx context.Context, caller *identity.Principal, in *ListRoleTagsInput) (*ListTagsOutput, error) {
	if err := checkName("roleName", in.RoleName, maxRoleName); err != nil {
		return nil, err
	}
	return s.listTags(ctx, caller, "ListRoleTags", store.EntityRole, in.RoleName, in.MaxItems, in.Marker)
}
