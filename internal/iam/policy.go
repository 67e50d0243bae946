package iam

import (
	"context"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/policy"
	"github.com/allot-dev/allot/internal/store"
)

// CreatePolicyInput is the input of CreatePolicy.
type CreatePolicyInput struct {
	PolicyName     string
	Path           string `json:",omitempty"`
	PolicyDocument string
	Description    string `json:",omitempty"`
	Tags           []Tag  `json:",omitempty"`
}

// CreatePolicyOutput is the output of CreatePolicy.
type CreatePolicyOutput struct {
	Policy *Policy
}

// CreatePolicy creates a customer managed policy whose version v1 is the document given.
// Errors: ValidationError, MalformedPolicyDocument, LimitExceeded (size, tags),
// EntityAlreadyExists (a policy of that name in any case), InvalidInput.
func (s *Service) CreatePolicy(ctx context.Context, caller *identity.Principal, in *CreatePolicyInput) (*CreatePolicyOutput, error) {
	if err := checkName("policyName", in.PolicyName, maxPolicyName); err != nil {
		return nil, err
	}
	path, err := checkPolicyPath("path", in.Path)
	if err != nil {
		return nil, err
	}
	if err := checkManagedDocument("policyDocument", in.PolicyDocument); err != nil {
		return nil, err
	}
	if err := checkLength("description", in.Description, 0, maxDescription); err != nil {
		return nil, err
	}
	tags, err := checkTags("tags", in.Tags, false)
	if err != nil {
		return nil, err
	}
	p := &store.ManagedPolicy{
		ARN: store.PolicyARN(caller.AccountID, path, in.PolicyName), AccountID: caller.AccountID,
		Name: in.PolicyName, Path: path, ID: s.newID(PolicyIDPrefix), Description: in.Description, Tags: tags,
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*CreatePolicyOutput, error) {
		p.CreatedAt = tx.Now()
		err := tx.CreateManagedPolicy(ctx, p, in.PolicyDocument)
		switch {
		case is(err, store.ErrConflict):
			return nil, awserr.New(ErrEntityAlreadyExists, "A policy called %s already exists. Duplicate names are not allowed.", in.PolicyName)
		case is(err, store.ErrLimitExceeded):
			return nil, tooManyTags()
		case err != nil:
			return nil, err
		}
		return &CreatePolicyOutput{Policy: policyOf(p)}, nil
	})
}

// checkManagedDocument checks the document of a managed policy version.
func checkManagedDocument(member, doc string) error {
	size, err := checkDocument(member, doc, policy.KindIdentity)
	if err != nil {
		return err
	}
	if size > maxManagedPolicy {
		return awserr.New(ErrLimitExceeded, "Cannot exceed quota for PolicySize: %d", maxManagedPolicy)
	}
	return nil
}

// managedPolicy reads a managed policy the caller's account sees, NoSuchEntity when none.
func managedPolicy(ctx context.Context, tx *store.Tx, caller *identity.Principal, arn string) (*store.ManagedPolicy, error) {
	p, err := tx.ManagedPolicy(ctx, caller.AccountID, arn)
	if is(err, store.ErrNotFound) {
		return nil, noSuchPolicy(arn)
	}
	return p, err
}

// checkCustomerPolicy checks the ARN of a policy an operation changes: the caller's own.
func checkCustomerPolicy(caller *identity.Principal, arn string) error {
	if err := checkPolicyARN("policyArn", arn, caller.AccountID); err != nil {
		return err
	}
	if isAWSManaged(arn) {
		return unmodifiablePolicy(arn)
	}
	return nil
}

// GetPolicyInput is the input of GetPolicy.
type GetPolicyInput struct {
	PolicyARN string `query:"PolicyArn" json:"PolicyArn"`
}

// GetPolicyOutput is the output of GetPolicy.
type GetPolicyOutput struct {
	Policy *Policy
}

// GetPolicy returns a managed policy of the caller's account or an AWS managed policy, with
// its attachment counts in the caller's account. Errors: NoSuchEntity, InvalidInput,
// ValidationError.
func (s *Service) GetPolicy(ctx context.Context, caller *identity.Principal, in *GetPolicyInput) (*GetPolicyOutput, error) {
	if err := checkPolicyARN("policyArn", in.PolicyARN, caller.AccountID); err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*GetPolicyOutput, error) {
		p, err := managedPolicy(ctx, tx, caller, in.PolicyARN)
		if err != nil {
			return nil, err
		}
		return &GetPolicyOutput{Policy: policyOf(p)}, nil
	})
}

// GetPolicyVersionInput is the input of GetPolicyVersion.
type GetPolicyVersionInput struct {
	PolicyARN string `query:"PolicyArn" json:"PolicyArn"`
	VersionID string `query:"VersionId" json:"VersionId"`
}

// GetPolicyVersionOutput is the output of GetPolicyVersion.
type GetPolicyVersionOutput struct {
	PolicyVersion *PolicyVersion
}

// GetPolicyVersion returns a version of a managed policy with its document. Errors:
// NoSuchEntity, InvalidInput, ValidationError.
func (s *Service) GetPolicyVersion(ctx context.Context, caller *identity.Principal, in *GetPolicyVersionInput) (*GetPolicyVersionOutput, error) {
	if err := checkPolicyARN("policyArn", in.PolicyARN, caller.AccountID); err != nil {
		return nil, err
	}
	if err := checkVersionID("versionId", in.VersionID); err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*GetPolicyVersionOutput, error) {
		if _, err := managedPolicy(ctx, tx, caller, in.PolicyARN); err != nil {
			return nil, err
		}
		v, err := tx.PolicyVersion(ctx, in.PolicyARN, in.VersionID)
		if is(err, store.ErrNotFound) {
			return nil, noSuchVersion(in.PolicyARN, in.VersionID)
		}
		if err != nil {
			return nil, err
		}
		return &GetPolicyVersionOutput{PolicyVersion: &PolicyVersion{
			Document: PolicyDocument(v.Document), VersionID: v.VersionID, IsDefaultVersion: v.IsDefault, CreateDate: seconds(v.CreatedAt),
		}}, nil
	})
}

// CreatePolicyVersionInput is the input of CreatePolicyVersion.
type CreatePolicyVersionInput struct {
	PolicyARN      string `query:"PolicyArn" json:"PolicyArn"`
	PolicyDocument string
	SetAsDefault   bool
}

// CreatePolicyVersionOutput is the output of CreatePolicyVersion.
type CreatePolicyVersionOutput struct {
	PolicyVersion *PolicyVersion
}

// CreatePolicyVersion adds a version to a customer managed policy, the default one when
// SetAsDefault is set. A policy has at most five versions. Errors: NoSuchEntity,
// LimitExceeded, MalformedPolicyDocument, UnmodifiableEntity (AWS managed), InvalidInput,
// ValidationError.
func (s *Service) CreatePolicyVersion(ctx context.Context, caller *identity.Principal, in *CreatePolicyVersionInput) (*CreatePolicyVersionOutput, error) {
	if err := checkCustomerPolicy(caller, in.PolicyARN); err != nil {
		return nil, err
	}
	if err := checkManagedDocument("policyDocument", in.PolicyDocument); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*CreatePolicyVersionOutput, error) {
		v, err := tx.CreatePolicyVersion(ctx, in.PolicyARN, in.PolicyDocument, in.SetAsDefault)
		switch {
		case is(err, store.ErrNotFound):
			return nil, noSuchPolicy(in.PolicyARN)
		case is(err, store.ErrLimitExceeded):
			return nil, awserr.New(ErrLimitExceeded, "A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", store.MaxPolicyVersions)
		case err != nil:
			return nil, err
		}
		return &CreatePolicyVersionOutput{PolicyVersion: &PolicyVersion{
			VersionID: v.VersionID, IsDefaultVersion: v.IsDefault, CreateDate: seconds(v.CreatedAt),
		}}, nil
	})
}

// DeletePolicyVersionInput is the input of DeletePolicyVersion.
type DeletePolicyVersionInput struct {
	PolicyARN string `query:"PolicyArn" json:"PolicyArn"`
	VersionID string `query:"VersionId" json:"VersionId"`
}

// DeletePolicyVersion deletes a version of a customer managed policy other than the default
// one. Errors: NoSuchEntity, DeleteConflict (the default version), UnmodifiableEntity,
// InvalidInput, ValidationError.
func (s *Service) DeletePolicyVersion(ctx context.Context, caller *identity.Principal, in *DeletePolicyVersionInput) (*Empty, error) {
	if err := checkCustomerPolicy(caller, in.PolicyARN); err != nil {
		return nil, err
	}
	if err := checkVersionID("versionId", in.VersionID); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		if _, err := managedPolicy(ctx, tx, caller, in.PolicyARN); err != nil {
			return nil, err
		}
		err := tx.DeletePolicyVersion(ctx, in.PolicyARN, in.VersionID)
		if is(err, store.ErrNotFound) {
			return nil, noSuchVersion(in.PolicyARN, in.VersionID)
		}
		if err != nil {
			return nil, deleteConflict(err)
		}
		return &Empty{}, nil
	})
}

// ListPolicyVersionsInput is the input of ListPolicyVersions.
type ListPolicyVersionsInput struct {
	PolicyARN string `query:"PolicyArn" json:"PolicyArn"`
	Marker    string `json:",omitempty"`
	MaxItems  *int32 `json:",omitempty"`
}

// ListPolicyVersionsOutput is the output of ListPolicyVersions.
type ListPolicyVersionsOutput struct {
	Versions    []PolicyVersion
	IsTruncated bool
	Marker      string `xml:",omitempty" json:",omitempty"`
}

// ListPolicyVersions returns the versions of a managed policy, newest first, without their
// documents. Errors: NoSuchEntity, InvalidInput, ValidationError.
func (s *Service) ListPolicyVersions(ctx context.Context, caller *identity.Principal, in *ListPolicyVersionsInput) (*ListPolicyVersionsOutput, error) {
	if err := checkPolicyARN("policyArn", in.PolicyARN, caller.AccountID); err != nil {
		return nil, err
	}
	p, err := readPage("ListPolicyVersions", in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListPolicyVersionsOutput, error) {
		if _, err := managedPolicy(ctx, tx, caller, in.PolicyARN); err != nil {
			return nil, err
		}
		versions, err := tx.PolicyVersions(ctx, in.PolicyARN)
		if err != nil {
			return nil, err
		}
		items, truncated, next := pageOf(p, versions)
		out := &ListPolicyVersionsOutput{Versions: make([]PolicyVersion, 0, len(items)), IsTruncated: truncated, Marker: next}
		for _, v := range items {
			out.Versions = append(out.Versions, PolicyVersion{VersionID: v.VersionID, IsDefaultVersion: v.IsDefault, CreateDate: seconds(v.CreatedAt)})
		}
		return out, nil
	})
}

// SetDefaultPolicyVersionInput is the input of SetDefaultPolicyVersion.
type SetDefaultPolicyVersionInput struct {
	PolicyARN string `query:"PolicyArn" json:"PolicyArn"`
	VersionID string `query:"VersionId" json:"VersionId"`
}

// SetDefaultPolicyVersion makes a version the default version of a customer managed policy,
// the one that decides what the policy allows. Errors: NoSuchEntity, UnmodifiableEntity,
// InvalidInput, ValidationError.
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, caller *identity.Principal, in *SetDefaultPolicyVersionInput) (*Empty, error) {
	if err := checkCustomerPolicy(caller, in.PolicyARN); err != nil {
		return nil, err
	}
	if err := checkVersionID("versionId", in.VersionID); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		if _, err := managedPolicy(ctx, tx, caller, in.PolicyARN); err != nil {
			return nil, err
		}
		err := tx.SetDefaultPolicyVersion(ctx, in.PolicyARN, in.VersionID)
		if is(err, store.ErrNotFound) {
			return nil, noSuchVersion(in.PolicyARN, in.VersionID)
		}
		if err != nil {
			return nil, err
		}
		return &Empty{}, nil
	})
}

// DeletePolicyInput is the input of DeletePolicy.
type DeletePolicyInput struct {
	PolicyARN string `query:"PolicyArn" json:"PolicyArn"`
}

// DeletePolicy deletes a customer managed policy with its default version. Errors:
// NoSuchEntity, DeleteConflict (while attached, used as a boundary, or with other versions),
// UnmodifiableEntity (AWS managed), InvalidInput, ValidationError.
func (s *Service) DeletePolicy(ctx context.Context, caller *identity.Principal, in *DeletePolicyInput) (*Empty, error) {
	if err := checkCustomerPolicy(caller, in.PolicyARN); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		err := tx.DeleteManagedPolicy(ctx, in.PolicyARN)
		if is(err, store.ErrNotFound) {
			return nil, noSuchPolicy(in.PolicyARN)
		}
		if err != nil {
			return nil, deleteConflict(err)
		}
		return &Empty{}, nil
	})
}

// Values of ListPolicies' Scope and PolicyUsageFilter.
const (
	ScopeAll                 = "All"
	ScopeAWS                 = "AWS"
	ScopeLocal               = "Local"
	UsagePermissionsPolicy   = "PermissionsPolicy"
	UsagePermissionsBoundary = "PermissionsBoundary"
)

// ListPoliciesInput is the input of ListPolicies.
type ListPoliciesInput struct {
	Scope             string `json:",omitempty"`
	OnlyAttached      bool   `json:",omitempty"`
	PathPrefix        string `json:",omitempty"`
	PolicyUsageFilter string `json:",omitempty"`
	Marker            string `json:",omitempty"`
	MaxItems          *int32 `json:",omitempty"`
}

// ListPoliciesOutput is the output of ListPolicies.
type ListPoliciesOutput struct {
	Policies    []Policy
	IsTruncated bool
	Marker      string `xml:",omitempty" json:",omitempty"`
}

// ListPolicies returns the managed policies the account sees (Scope All, AWS or Local) in
// order of name, without descriptions or tags; OnlyAttached keeps those attached to a user
// or role of the account, PolicyUsageFilter those used as permissions policies or as
// boundaries. Errors: ValidationError, InvalidInput (Marker).
func (s *Service) ListPolicies(ctx context.Context, caller *identity.Principal, in *ListPoliciesInput) (*ListPoliciesOutput, error) {
	q := store.PolicyQuery{PathPrefix: in.PathPrefix, OnlyAttached: in.OnlyAttached}
	switch in.Scope {
	case "", ScopeAll:
	case ScopeAWS:
		q.Scope = store.ScopeAWS
	case ScopeLocal:
		q.Scope = store.ScopeLocal
	default:
		return nil, invalid("scope", in.Scope, "Member must satisfy enum value set: [All, AWS, Local]")
	}
	switch in.PolicyUsageFilter {
	case "":
	case UsagePermissionsPolicy:
		q.OnlyAttached = true
	case UsagePermissionsBoundary:
		q.OnlyBoundaries = true
	default:
		return nil, invalid("policyUsageFilter", in.PolicyUsageFilter, "Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]")
	}
	if in.PathPrefix != "" {
		if _, err := checkPolicyPath("pathPrefix", in.PathPrefix); err != nil {
			return nil, err
		}
	}
	p, err := readPage("ListPolicies", in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	q.AfterName, q.AfterARN, q.Limit = p.pos.Name, p.pos.ARN, p.limit+1
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListPoliciesOutput, error) {
		policies, err := tx.ManagedPolicies(ctx, caller.AccountID, q)
		if err != nil {
			return nil, err
		}
		truncated := len(policies) > p.limit
		policies = policies[:min(len(policies), p.limit)]
		out := &ListPoliciesOutput{Policies: make([]Policy, 0, len(policies)), IsTruncated: truncated}
		for _, mp := range policies {
			v := policyOf(mp)
			v.Description, v.Tags = "", nil
			out.Policies = append(out.Policies, *v)
		}
		if truncated {
			last := policies[len(policies)-1]
			out.Marker = p.next(true, position{Name: lowerName(last.Name), ARN: last.ARN})
		}
		return out, nil
	})
}

// TagPolicyInput is the input of TagPolicy.
type TagPolicyInput struct {
	PolicyARN string `query:"PolicyArn" json:"PolicyArn"`
	Tags      []Tag
}

// TagPolicy adds tags to a customer managed policy. Errors: NoSuchEntity, InvalidInput,
// LimitExceeded, UnmodifiableEntity, ValidationError.
func (s *Service) TagPolicy(ctx context.Context, caller *identity.Principal, in *TagPolicyInput) (*Empty, error) {
	if err := checkCustomerPolicy(caller, in.PolicyARN); err != nil {
		return nil, err
	}
	return s.tag(ctx, caller, store.EntityPolicy, in.PolicyARN, in.Tags)
}

// UntagPolicyInput is the input of UntagPolicy.
type UntagPolicyInput struct {
	PolicyARN string `query:"PolicyArn" json:"PolicyArn"`
	TagKeys   []string
}

// UntagPolicy removes tags from a customer managed policy. Errors: NoSuchEntity,
// UnmodifiableEntity, ValidationError.
func (s *Service) UntagPolicy(ctx context.Context, caller *identity.Principal, in *UntagPolicyInput) (*Empty, error) {
	if err := checkCustomerPolicy(caller, in.PolicyARN); err != nil {
		return nil, err
	}
	return s.untag(ctx, caller, store.EntityPolicy, in.PolicyARN, in.TagKeys)
}

// ListPolicyTagsInput is the input of ListPolicyTags.
type ListPolicyTagsInput struct {
	PolicyARN string `query:"PolicyArn" json:"PolicyArn"`
	Marker    string `json:",omitempty"`
	MaxItems  *int32 `json:",omitempty"`
}

// ListPolicyTags returns a managed policy's tags. Errors: NoSuchEntity, InvalidInput,
// ValidationError.
func (s *Service) ListPolicyTags(ctx context.Context, caller *identity.Principal, in *ListPolicyTagsInput) (*ListTagsOutput, error) {
	if err := checkPolicyARN("policyArn", in.PolicyARN, caller.AccountID); err != nil {
		return nil, err
	}
	return s.listTags(ctx, caller, "ListPolicyTags", store.EntityPolicy, in.PolicyARN, in.MaxItems, in.Marker)
}
