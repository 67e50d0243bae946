package iam

import (
	"context"
	"errors"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// CreateUserInput is the input of CreateUser.
type CreateUserInput struct {
	Path                string `json:",omitempty"`
	UserName            string
	PermissionsBoundary string `json:",omitempty"`
	Tags                []Tag  `json:",omitempty"`
}

// CreateUserOutput is the output of CreateUser.
type CreateUserOutput struct {
	User *User
}

// CreateUser creates an IAM user without credentials. Errors: ValidationError,
// EntityAlreadyExists (a user of that name in any case), NoSuchEntity (the boundary policy),
// InvalidInput, LimitExceeded.
func (s *Service) CreateUser(ctx context.Context, caller *identity.Principal, in *CreateUserInput) (*CreateUserOutput, error) {
	if err := checkName("userName", in.UserName, maxUserName); err != nil {
		return nil, err
	}
	path, err := checkPath("path", in.Path)
	if err != nil {
		return nil, err
	}
	if err := checkBoundary("permissionsBoundary", in.PermissionsBoundary, caller.AccountID); err != nil {
		return nil, noSuchBoundaryFor(err, in.PermissionsBoundary)
	}
	tags, err := checkTags("tags", in.Tags, false)
	if err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*CreateUserOutput, error) {
		u := &store.User{
			AccountID: caller.AccountID, Name: in.UserName, Path: path, ID: s.newID(UserIDPrefix),
			PermissionsBoundary: in.PermissionsBoundary, CreatedAt: tx.Now(), Tags: tags,
		}
		err := tx.CreateUser(ctx, u)
		switch {
		case is(err, store.ErrConflict):
			return nil, awserr.New(ErrEntityAlreadyExists, "User with name %s already exists.", in.UserName)
		case is(err, store.ErrNotFound):
			return nil, noSuchBoundary(in.PermissionsBoundary)
		case is(err, store.ErrLimitExceeded):
			return nil, tooManyTags()
		case err != nil:
			return nil, err
		}
		return &CreateUserOutput{User: userOf(u)}, nil
	})
}

// noSuchBoundaryFor words a NoSuchEntity about a boundary policy as IAM does.
func noSuchBoundaryFor(err error, arn string) error {
	if awserr.Code(err) == ErrNoSuchEntity {
		return noSuchBoundary(arn)
	}
	return err
}

// GetUserInput is the input of GetUser.
type GetUserInput struct {
	UserName string `json:",omitempty"`
}

// GetUserOutput is the output of GetUser.
type GetUserOutput struct {
	User *User
}

// GetUser returns a user with its tags and boundary. Without UserName it returns the caller:
// an IAM user, or for the root user the account's root (ID and ARN, no name or path). Errors:
// NoSuchEntity, ValidationError (no UserName from a role session).
func (s *Service) GetUser(ctx context.Context, caller *identity.Principal, in *GetUserInput) (*GetUserOutput, error) {
	if in.UserName != "" {
		if err := checkName("userName", in.UserName, maxUserName); err != nil {
			return nil, err
		}
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*GetUserOutput, error) {
		name := in.UserName
		if name == "" {
			switch caller.Kind {
			case identity.KindRoot:
				a, err := tx.Account(ctx, caller.AccountID)
				if err != nil {
					return nil, err
				}
				return &GetUserOutput{User: &User{UserID: caller.AccountID, ARN: identity.RootARN(caller.AccountID), CreateDate: seconds(a.CreatedAt)}}, nil
			case identity.KindIAMUser:
				name = caller.UserName
			default:
				return nil, awserr.New(ErrValidation, "Must specify userName when calling with non-User credentials")
			}
		}
		u, err := tx.User(ctx, caller.AccountID, name)
		if is(err, store.ErrNotFound) {
			return nil, noSuchUser(name)
		}
		if err != nil {
			return nil, err
		}
		return &GetUserOutput{User: userOf(u)}, nil
	})
}

// ListUsersInput is the input of ListUsers.
type ListUsersInput struct {
	PathPrefix string `json:",omitempty"`
	Marker     string `json:",omitempty"`
	MaxItems   *int32 `json:",omitempty"`
}

// ListUsersOutput is the output of ListUsers.
type ListUsersOutput struct {
	Users       []User
	IsTruncated bool
	Marker      string `xml:",omitempty" json:",omitempty"`
}

// ListUsers returns the account's users whose path starts with PathPrefix, in order of name,
// without tags or boundaries. Errors: ValidationError, InvalidInput (Marker).
func (s *Service) ListUsers(ctx context.Context, caller *identity.Principal, in *ListUsersInput) (*ListUsersOutput, error) {
	if err := checkPathPrefix("pathPrefix", in.PathPrefix); err != nil {
		return nil, err
	}
	p, err := readPage("ListUsers", in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListUsersOutput, error) {
		users, err := tx.Users(ctx, caller.AccountID, store.ListQuery{PathPrefix: in.PathPrefix, After: p.pos.Name, Limit: p.limit + 1})
		if err != nil {
			return nil, err
		}
		truncated := len(users) > p.limit
		users = users[:min(len(users), p.limit)]
		out := &ListUsersOutput{Users: make([]User, 0, len(users)), IsTruncated: truncated}
		for _, u := range users {
			v := userOf(u)
			v.PermissionsBoundary, v.Tags = nil, nil
			out.Users = append(out.Users, *v)
		}
		if truncated {
			out.Marker = p.next(true, position{Name: lowerName(users[len(users)-1].Name)})
		}
		return out, nil
	})
}

// DeleteUserInput is the input of DeleteUser.
type DeleteUserInput struct {
	UserName string
}

// DeleteUser deletes a user. Errors: NoSuchEntity, DeleteConflict (while it has access keys,
// inline or attached policies), ValidationError.
func (s *Service) DeleteUser(ctx context.Context, caller *identity.Principal, in *DeleteUserInput) (*Empty, error) {
	if err := checkName("userName", in.UserName, maxUserName); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		err := tx.DeleteUser(ctx, caller.AccountID, in.UserName)
		if is(err, store.ErrNotFound) {
			return nil, noSuchUser(in.UserName)
		}
		if err != nil {
			return nil, deleteConflict(err)
		}
		return &Empty{}, nil
	})
}

// deleteConflict words a store.InUseError as IAM's DeleteConflict.
func deleteConflict(err error) error {
	var inUse *store.InUseError
	if !errors.As(err, &inUse) {
		return err
	}
	msg := "Cannot delete entity, it is in use."
	switch inUse.Reason {
	case store.DependentAccessKeys:
		msg = "Cannot delete entity, must delete access keys first."
	case store.DependentInlinePolicies:
		msg = "Cannot delete entity, must delete policies first."
	case store.DependentAttachedPolicies:
		msg = "Cannot delete entity, must detach all policies first."
	case store.DependentAttachments:
		msg = "Cannot delete a policy attached to entities."
	case store.DependentBoundaryUses:
		msg = "Cannot delete a policy used as a permissions boundary; remove it from the users and roles that use it first."
	case store.DependentVersions:
		msg = "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy."
	case store.DependentDefaultVersion:
		msg = "Cannot delete the default version of a policy."
	}
	return awserr.Wrap(err, ErrDeleteConflict, "%s", msg)
}

// TagUserInput is the input of TagUser.
type TagUserInput struct {
	UserName string
	Tags     []Tag
}

// TagUser adds tags to a user, replacing the values of keys it has (in any case). Errors:
// NoSuchEntity, InvalidInput, LimitExceeded, ValidationError.
func (s *Service) TagUser(ctx context.Context, caller *identity.Principal, in *TagUserInput) (*Empty, error) {
	if err := checkName("userName", in.UserName, maxUserName); err != nil {
		return nil, err
	}
	return s.tag(ctx, caller, store.EntityUser, in.UserName, in.Tags)
}

// UntagUserInput is the input of UntagUser.
type UntagUserInput struct {
	UserName string
	TagKeys  []string
}

// UntagUser removes tags from a user; keys it lacks are ignored. Errors: NoSuchEntity,
// ValidationError.
func (s *Service) UntagUser(ctx context.Context, caller *identity.Principal, in *UntagUserInput) (*Empty, error) {
	if err := checkName("userName", in.UserName, maxUserName); err != nil {
		return nil, err
	}
	return s.untag(ctx, caller, store.EntityUser, in.UserName, in.TagKeys)
}

// ListUserTagsInput is the input of ListUserTags.
type ListUserTagsInput struct {
	UserName string
	Marker   string `json:",omitempty"`
	MaxItems *int32 `json:",omitempty"`
}

// ListTagsOutput is the output of ListUserTags, ListRoleTags and ListPolicyTags.
type ListTagsOutput struct {
	Tags        []Tag
	IsTruncated bool
	Marker      string `xml:",omitempty" json:",omitempty"`
}

// ListUserTags returns a user's tags in the order they were added. Errors: NoSuchEntity,
// ValidationError, InvalidInput (Marker).
func (s *Service) ListUserTags(ctx context.Context, caller *identity.Principal, in *ListUserTagsInput) (*ListTagsOutput, error) {
	if err := checkName("userName", in.UserName, maxUserName); err != nil {
		return nil, err
	}
	return s.listTags(ctx, caller, "ListUserTags", store.EntityUser, in.UserName, in.MaxItems, in.Marker)
}
