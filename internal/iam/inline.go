package iam

import (
	"context"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/policy"
	"github.com/allot-dev/allot/internal/store"
)

// inlineQuota is the most characters (white space not counted) all inline policies of a user
// or role may have together.
func (h holder) inlineQuota() int {
	if h.t == store.EntityRole {
		return maxRoleInline
	}
	return maxUserInline
}

func (h holder) noSuchInline(name string) error {
	return awserr.New(ErrNoSuchEntity, "The %s policy with name %s cannot be found.", h.t, name)
}

// PutUserPolicyInput is the input of PutUserPolicy.
type PutUserPolicyInput struct {
	UserName       string
	PolicyName     string
	PolicyDocument string
}

// PutUserPolicy adds or replaces an inline policy of a user. A user's inline policies have at
// most 2,048 characters together, white space not counted. Errors: NoSuchEntity,
// MalformedPolicyDocument, LimitExceeded, ValidationError.
func (s *Service) PutUserPolicy(ctx context.Context, caller *identity.Principal, in *PutUserPolicyInput) (*Empty, error) {
	return s.putInline(ctx, caller, userHolder, in.UserName, in.PolicyName, in.PolicyDocument)
}

// PutRolePolicyInput is the input of PutRolePolicy.
type PutRolePolicyInput struct {
	RoleName       string
	PolicyName     string
	PolicyDocument string
}

// PutRolePolicy adds or replaces an inline policy of a role. A role's inline policies have at
// most 10,240 characters together, white space not counted. Errors: NoSuchEntity,
// MalformedPolicyDocument, LimitExceeded, UnmodifiableEntity, ValidationError.
func (s *Service) PutRolePolicy(ctx context.Context, caller *identity.Principal, in *PutRolePolicyInput) (*Empty, error) {
	return s.putInline(ctx, caller, roleHolder, in.RoleName, in.PolicyName, in.PolicyDocument)
}

func (s *Service) putInline(ctx context.Context, caller *identity.Principal, h holder, entity, name, doc string) (*Empty, error) {
	// PutUserPolicy's model allows user names of up to 128 characters.
	max := h.max
	if h.t == store.EntityUser {
		max = 128
	}
	if err := checkName(h.member, entity, max); err != nil {
		return nil, err
	}
	if err := checkName("policyName", name, maxPolicyName); err != nil {
		return nil, err
	}
	size, err := checkDocument("policyDocument", doc, policy.KindIdentity)
	if err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		if err := h.exists(ctx, tx, caller.AccountID, entity, true); err != nil {
			return nil, err
		}
		existing, err := tx.InlinePolicies(ctx, h.t, caller.AccountID, entity, store.ListQuery{})
		if err != nil {
			return nil, err
		}
		total := size
		for _, p := range existing {
			if lowerName(p.Name) != lowerName(name) {
				total += policySize(p.Document)
			}
		}
		if total > h.inlineQuota() {
			return nil, awserr.New(ErrLimitExceeded, "Maximum policy size of %d bytes exceeded for %s %s", h.inlineQuota(), h.t, entity)
		}
		if err := tx.PutInlinePolicy(ctx, h.t, caller.AccountID, entity, name, doc); err != nil {
			return nil, err
		}
		return &Empty{}, nil
	})
}

// GetUserPolicyInput is the input of GetUserPolicy.
type GetUserPolicyInput struct {
	UserName   string
	PolicyName string
}

// GetUserPolicyOutput is the output of GetUserPolicy.
type GetUserPolicyOutput struct {
	UserName       string
	PolicyName     string
	PolicyDocument PolicyDocument
}

// GetUserPolicy returns an inline policy of a user. Errors: NoSuchEntity, ValidationError.
func (s *Service) GetUserPolicy(ctx context.Context, caller *identity.Principal, in *GetUserPolicyInput) (*GetUserPolicyOutput, error) {
	if err := checkName("userName", in.UserName, maxUserName); err != nil {
		return nil, err
	}
	if err := checkName("policyName", in.PolicyName, maxPolicyName); err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*GetUserPolicyOutput, error) {
		u, err := tx.User(ctx, caller.AccountID, in.UserName)
		if is(err, store.ErrNotFound) {
			return nil, noSuchUser(in.UserName)
		}
		if err != nil {
			return nil, err
		}
		p, err := inline(ctx, tx, userHolder, caller.AccountID, in.UserName, in.PolicyName)
		if err != nil {
			return nil, err
		}
		return &GetUserPolicyOutput{UserName: u.Name, PolicyName: p.Name, PolicyDocument: PolicyDocument(p.Document)}, nil
	})
}

// GetRolePolicyInput is the input of GetRolePolicy.
type GetRolePolicyInput struct {
	RoleName   string
	PolicyName string
}

// GetRolePolicyOutput is the output of GetRolePolicy.
type GetRolePolicyOutput struct {
	RoleName       string
	PolicyName     string
	PolicyDocument PolicyDocument
}

// GetRolePolicy returns an inline policy of a role. Errors: NoSuchEntity, ValidationError.
func (s *Service) GetRolePolicy(ctx context.Context, caller *identity.Principal, in *GetRolePolicyInput) (*GetRolePolicyOutput, error) {
	if err := checkName("roleName", in.RoleName, maxRoleName); err != nil {
		return nil, err
	}
	if err := checkName("policyName", in.PolicyName, maxPolicyName); err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*GetRolePolicyOutput, error) {
		r, err := role(ctx, tx, caller.AccountID, in.RoleName)
		if err != nil {
			return nil, err
		}
		p, err := inline(ctx, tx, roleHolder, caller.AccountID, in.RoleName, in.PolicyName)
		if err != nil {
			return nil, err
		}
		return &GetRolePolicyOutput{RoleName: r.Name, PolicyName: p.Name, PolicyDocument: PolicyDocument(p.Document)}, nil
	})
}

func inline(ctx context.Context, tx *store.Tx, h holder, accountID, entity, name string) (*store.InlinePolicy, error) {
	p, err := tx.InlinePolicy(ctx, h.t, accountID, entity, name)
	if is(err, store.ErrNotFound) {
		return nil, h.noSuchInline(name)
	}
	return p, err
}

// DeleteUserPolicyInput is the input of DeleteUserPolicy.
type DeleteUserPolicyInput struct {
	UserName   string
	PolicyName string
}

// DeleteUserPolicy deletes an inline policy of a user. Errors: NoSuchEntity, ValidationError.
func (s *Service) DeleteUserPolicy(ctx context.Context, caller *identity.Principal, in *DeleteUserPolicyInput) (*Empty, error) {
	return s.deleteInline(ctx, caller, userHolder, in.UserName, in.PolicyName)
}

// DeleteRolePolicyInput is the input of DeleteRolePolicy.
type DeleteRolePolicyInput struct {
	RoleName   string
	PolicyName string
}

// DeleteRolePolicy deletes an inline policy of a role. Errors: NoSuchEntity,
// UnmodifiableEntity, ValidationError.
func (s *Service) DeleteRolePolicy(ctx context.Context, caller *identity.Principal, in *DeleteRolePolicyInput) (*Empty, error) {
	return s.deleteInline(ctx, caller, roleHolder, in.RoleName, in.PolicyName)
}

func (s *Service) deleteInline(ctx context.Context, caller *identity.Principal, h holder, entity, name string) (*Empty, error) {
	if err := checkName(h.member, entity, h.max); err != nil {
		return nil, err
	}
	if err := checkName("policyName", name, maxPolicyName); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		if err := h.exists(ctx, tx, caller.AccountID, entity, true); err != nil {
			return nil, err
		}
		err := tx.DeleteInlinePolicy(ctx, h.t, caller.AccountID, entity, name)
		if is(err, store.ErrNotFound) {
			return nil, h.noSuchInline(name)
		}
		if err != nil {
			return nil, err
		}
		return &Empty{}, nil
	})
}

// ListUserPoliciesInput is the input of ListUserPolicies.
type ListUserPoliciesInput struct {
	UserName string
	Marker   string `json:",omitempty"`
	MaxItems *int32 `json:",omitempty"`
}

// ListPolicyNamesOutput is the output of ListUserPolicies and ListRolePolicies.
type ListPolicyNamesOutput struct {
	PolicyNames []string
	IsTruncated bool
	Marker      string `xml:",omitempty" json:",omitempty"`
}

// ListUserPolicies returns the names of a user's inline policies in order. Errors:
// NoSuchEntity, InvalidInput (Marker), ValidationError.
func (s *Service) ListUserPolicies(ctx context.Context, caller *identity.Principal, in *ListUserPoliciesInput) (*ListPolicyNamesOutput, error) {
	return s.listInline(ctx, caller, "ListUserPolicies", userHolder, in.UserName, in.MaxItems, in.Marker)
}

// ListRolePoliciesInput is the input of ListRolePolicies.
type ListRolePoliciesInput struct {
	RoleName string
	Marker   string `json:",omitempty"`
	MaxItems *int32 `json:",omitempty"`
}

// ListRolePolicies returns the names of a role's inline policies in order. Errors:
// NoSuchEntity, InvalidInput (Marker), ValidationError.
func (s *Service) ListRolePolicies(ctx context.Context, caller *identity.Principal, in *ListRolePoliciesInput) (*ListPolicyNamesOutput, error) {
	return s.listInline(ctx, caller, "ListRolePolicies", roleHolder, in.RoleName, in.MaxItems, in.Marker)
}

func (s *Service) listInline(ctx context.Context, caller *identity.Principal, op string, h holder, entity string, maxItems *int32, marker string) (*ListPolicyNamesOutput, error) {
	if err := checkName(h.member, entity, h.max); err != nil {
		return nil, err
	}
	p, err := readPage(op, maxItems, marker)
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListPolicyNamesOutput, error) {
		if err := h.exists(ctx, tx, caller.AccountID, entity, false); err != nil {
			return nil, err
		}
		list, err := tx.InlinePolicies(ctx, h.t, caller.AccountID, entity, store.ListQuery{After: p.pos.Name, Limit: p.limit + 1})
		if err != nil {
			return nil, err
		}
		truncated := len(list) > p.limit
		list = list[:min(len(list), p.limit)]
		out := &ListPolicyNamesOutput{PolicyNames: make([]string, 0, len(list)), IsTruncated: truncated}
		for _, ip := range list {
			out.PolicyNames = append(out.PolicyNames, ip.Name)
		}
		if truncated {
			out.Marker = p.next(true, position{Name: lowerName(list[len(list)-1].Name)})
		}
		return out, nil
	})
}
