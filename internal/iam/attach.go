package iam

import (
	"context"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// holder is a kind of entity that has policies: users and roles.
type holder struct {
	t      store.EntityType
	member string // the name member of its operations, as validation messages call it
	max    int    // longest name
	quota  string // the quota name of attached policies in LimitExceeded messages
}

var (
	userHolder = holder{store.EntityUser, "userName", maxUserName, "PoliciesPerUser"}
	roleHolder = holder{store.EntityRole, "roleName", maxRoleName, "PoliciesPerRole"}
)

// exists checks that the user or role exists, and for a change (modify) that callers may
// change it.
func (h holder) exists(ctx context.Context, tx *store.Tx, accountID, name string, modify bool) error {
	if h.t == store.EntityRole {
		var err error
		if modify {
			_, err = modifiableRole(ctx, tx, accountID, name)
		} else {
			_, err = role(ctx, tx, accountID, name)
		}
		return err
	}
	_, err := tx.User(ctx, accountID, name)
	if is(err, store.ErrNotFound) {
		return noSuchUser(name)
	}
	return err
}

// AttachUserPolicyInput is the input of AttachUserPolicy.
type AttachUserPolicyInput struct {
	UserName  string
	PolicyARN string `query:"PolicyArn" json:"PolicyArn"`
}

// AttachUserPolicy attaches a managed policy (the account's or AWS's) to a user; attaching
// it again does nothing. A user has at most ten. Errors: NoSuchEntity, LimitExceeded,
// InvalidInput, ValidationError.
func (s *Service) AttachUserPolicy(ctx context.Context, caller *identity.Principal, in *AttachUserPolicyInput) (*Empty, error) {
	return s.attach(ctx, caller, userHolder, in.UserName, in.PolicyARN)
}

// AttachRolePolicyInput is the input of AttachRolePolicy.
type AttachRolePolicyInput struct {
	RoleName  string
	PolicyARN string `query:"PolicyArn" json:"PolicyArn"`
}

// AttachRolePolicy attaches a managed policy (the account's or AWS's) to a role; attaching it
// again does nothing. A role has at most ten. Errors: NoSuchEntity, LimitExceeded,
// UnmodifiableEntity, InvalidInput, ValidationError.
func (s *Service) AttachRolePolicy(ctx context.Context, caller *identity.Principal, in *AttachRolePolicyInput) (*Empty, error) {
	return s.attach(ctx, caller, roleHolder, in.RoleName, in.PolicyARN)
}

func (s *Service) attach(ctx context.Context, caller *identity.Principal, h holder, name, arn string) (*Empty, error) {
	if err := checkName(h.member, name, h.max); err != nil {
		return nil, err
	}
	if err := checkPolicyARN("policyArn", arn, caller.AccountID); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		if err := h.exists(ctx, tx, caller.AccountID, name, true); err != nil {
			return nil, err
		}
		err := tx.AttachPolicy(ctx, h.t, caller.AccountID, name, arn)
		switch {
		case is(err, store.ErrNotFound):
			return nil, noSuchPolicy(arn)
		case is(err, store.ErrLimitExceeded):
			return nil, awserr.New(ErrLimitExceeded, "Cannot exceed quota for %s: %d", h.quota, store.MaxAttachedPolicies)
		case err != nil:
			return nil, err
		}
		return &Empty{}, nil
	})
}

// DetachUserPolicyInput is the input of DetachUserPolicy.
type DetachUserPolicyInput struct {
	UserName  string
	PolicyARN string `query:"PolicyArn" json:"PolicyArn"`
}

// DetachUserPolicy detaches a managed policy from a user. Errors: NoSuchEntity (also when
// not attached), InvalidInput, ValidationError.
func (s *Service) DetachUserPolicy(ctx context.Context, caller *identity.Principal, in *DetachUserPolicyInput) (*Empty, error) {
	return s.detach(ctx, caller, userHolder, in.UserName, in.PolicyARN)
}

// DetachRolePolicyInput is the input of DetachRolePolicy.
type DetachRolePolicyInput struct {
	RoleName  string
	PolicyARN string `query:"PolicyArn" json:"PolicyArn"`
}

// DetachRolePolicy detaches a managed policy from a role. Errors: NoSuchEntity (also when
// not attached), UnmodifiableEntity, InvalidInput, ValidationError.
func (s *Service) DetachRolePolicy(ctx context.Context, caller *identity.Principal, in *DetachRolePolicyInput) (*Empty, error) {
	return s.detach(ctx, caller, roleHolder, in.RoleName, in.PolicyARN)
}

func (s *Service) detach(ctx context.Context, caller *identity.Principal, h holder, name, arn string) (*Empty, error) {
	if err := checkName(h.member, name, h.max); err != nil {
		return nil, err
	}
	if err := checkPolicyARN("policyArn", arn, caller.AccountID); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		if err := h.exists(ctx, tx, caller.AccountID, name, true); err != nil {
			return nil, err
		}
		err := tx.DetachPolicy(ctx, h.t, caller.AccountID, name, arn)
		if is(err, store.ErrNotFound) {
			return nil, awserr.New(ErrNoSuchEntity, "Policy %s was not found.", arn)
		}
		if err != nil {
			return nil, err
		}
		return &Empty{}, nil
	})
}

// ListAttachedUserPoliciesInput is the input of ListAttachedUserPolicies.
type ListAttachedUserPoliciesInput struct {
	UserName   string
	PathPrefix string `json:",omitempty"`
	Marker     string `json:",omitempty"`
	MaxItems   *int32 `json:",omitempty"`
}

// ListAttachedPoliciesOutput is the output of ListAttachedUserPolicies and
// ListAttachedRolePolicies.
type ListAttachedPoliciesOutput struct {
	AttachedPolicies []AttachedPolicy
	IsTruncated      bool
	Marker           string `xml:",omitempty" json:",omitempty"`
}

// ListAttachedUserPolicies returns the managed policies attached to a user whose path starts
// with PathPrefix, in order of name. Errors: NoSuchEntity, InvalidInput (Marker),
// ValidationError.
func (s *Service) ListAttachedUserPolicies(ctx context.Context, caller *identity.Principal, in *ListAttachedUserPoliciesInput) (*ListAttachedPoliciesOutput, error) {
	return s.listAttached(ctx, caller, "ListAttachedUserPolicies", userHolder, in.UserName, in.PathPrefix, in.MaxItems, in.Marker)
}

// ListAttachedRolePoliciesInput is the input of ListAttachedRolePolicies.
type ListAttachedRolePoliciesInput struct {
	RoleName   string
	PathPrefix string `json:",omitempty"`
	Marker     string `json:",omitempty"`
	MaxItems   *int32 `json:",omitempty"`
}

// ListAttachedRolePolicies returns the managed policies attached to a role whose path starts
// with PathPrefix, in order of name. Errors: NoSuchEntity, InvalidInput (Marker),
// ValidationError.
func (s *Service) ListAttachedRolePolicies(ctx context.Context, caller *identity.Principal, in *ListAttachedRolePoliciesInput) (*ListAttachedPoliciesOutput, error) {
	return s.listAttached(ctx, caller, "ListAttachedRolePolicies", roleHolder, in.RoleName, in.PathPrefix, in.MaxItems, in.Marker)
}

func (s *Service) listAttached(ctx context.Context, caller *identity.Principal, op string, h holder, name, prefix string, maxItems *int32, marker string) (*ListAttachedPoliciesOutput, error) {
	if err := checkName(h.member, name, h.max); err != nil {
		return nil, err
	}
	if prefix != "" {
		if _, err := checkPolicyPath("pathPrefix", prefix); err != nil {
			return nil, err
		}
	}
	p, err := readPage(op, maxItems, marker)
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListAttachedPoliciesOutput, error) {
		if err := h.exists(ctx, tx, caller.AccountID, name, false); err != nil {
			return nil, err
		}
		list, err := tx.AttachedPolicies(ctx, h.t, caller.AccountID, name,
			store.ListQuery{PathPrefix: prefix, After: p.pos.Name, AfterARN: p.pos.ARN, Limit: p.limit + 1})
		if err != nil {
			return nil, err
		}
		truncated := len(list) > p.limit
		list = list[:min(len(list), p.limit)]
		out := &ListAttachedPoliciesOutput{AttachedPolicies: make([]AttachedPolicy, 0, len(list)), IsTruncated: truncated}
		for _, ap := range list {
			out.AttachedPolicies = append(out.AttachedPolicies, AttachedPolicy{PolicyName: ap.Name, PolicyARN: ap.ARN})
		}
		if truncated {
			last := list[len(list)-1]
			out.Marker = p.next(true, position{Name: lowerName(last.Name), ARN: last.ARN})
		}
		return out, nil
	})
}

// PutUserPermissionsBoundaryInput is the input of PutUserPermissionsBoundary.
type PutUserPermissionsBoundaryInput struct {
	UserName            string
	PermissionsBoundary string
}

// PutUserPermissionsBoundary sets a managed policy as a user's permissions boundary, the most
// its identity policies can allow. Errors: NoSuchEntity, InvalidInput, ValidationError.
func (s *Service) PutUserPermissionsBoundary(ctx context.Context, caller *identity.Principal, in *PutUserPermissionsBoundaryInput) (*Empty, error) {
	return s.putBoundary(ctx, caller, userHolder, in.UserName, in.PermissionsBoundary)
}

// PutRolePermissionsBoundaryInput is the input of PutRolePermissionsBoundary.
type PutRolePermissionsBoundaryInput struct {
	RoleName            string
	PermissionsBoundary string
}

// PutRolePermissionsBoundary sets a managed policy as a role's permissions boundary. Errors:
// NoSuchEntity, UnmodifiableEntity, InvalidInput, ValidationError.
func (s *Service) PutRolePermissionsBoundary(ctx context.Context, caller *identity.Principal, in *PutRolePermissionsBoundaryInput) (*Empty, error) {
	return s.putBoundary(ctx, caller, roleHolder, in.RoleName, in.PermissionsBoundary)
}

func (s *Service) putBoundary(ctx context.Context, caller *identity.Principal, h holder, name, arn string) (*Empty, error) {
	if err := checkName(h.member, name, h.max); err != nil {
		return nil, err
	}
	if arn == "" {
		return nil, missing("permissionsBoundary")
	}
	if err := checkBoundary("permissionsBoundary", arn, caller.AccountID); err != nil {
		return nil, noSuchBoundaryFor(err, arn)
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		if err := h.exists(ctx, tx, caller.AccountID, name, true); err != nil {
			return nil, err
		}
		err := tx.SetPermissionsBoundary(ctx, h.t, caller.AccountID, name, arn)
		if is(err, store.ErrNotFound) {
			return nil, noSuchBoundary(arn)
		}
		if err != nil {
			return nil, err
		}
		return &Empty{}, nil
	})
}

// DeleteUserPermissionsBoundaryInput is the input of DeleteUserPermissionsBoundary.
type DeleteUserPermissionsBoundaryInput struct {
	UserName string
}

// DeleteUserPermissionsBoundary removes a user's permissions boundary, if any. Errors:
// NoSuchEntity, ValidationError.
func (s *Service) DeleteUserPermissionsBoundary(ctx context.Context, caller *identity.Principal, in *DeleteUserPermissionsBoundaryInput) (*Empty, error) {
	return s.deleteBoundary(ctx, caller, userHolder, in.UserName)
}

// DeleteRolePermissionsBoundaryInput is the input of DeleteRolePermissionsBoundary.
type DeleteRolePermissionsBoundaryInput struct {
	RoleName string
}

// DeleteRolePermissionsBoundary removes a role's permissions boundary, if any. Errors:
// NoSuchEntity, UnmodifiableEntity, ValidationError.
func (s *Service) DeleteRolePermissionsBoundary(ctx context.Context, caller *identity.Principal, in *DeleteRolePermissionsBoundaryInput) (*Empty, error) {
	return s.deleteBoundary(ctx, caller, roleHolder, in.RoleName)
}

func (s *Service) deleteBoundary(ctx context.Context, caller *identity.Principal, h holder, name string) (*Empty, error) {
	if err := checkName(h.member, name, h.max); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		if err := h.exists(ctx, tx, caller.AccountID, name, true); err != nil {
			return nil, err
		}
		if err := tx.SetPermissionsBoundary(ctx, h.t, caller.AccountID, name, ""); err != nil {
			return nil, err
		}
		return &Empty{}, nil
	})
}
