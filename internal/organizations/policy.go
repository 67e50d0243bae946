package organizations

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/policy"
	"github.com/allot-dev/allot/internal/store"
)

// PolicyOutput is the output of CreatePolicy, DescribePolicy and UpdatePolicy.
type PolicyOutput struct {
	Policy *Policy
}

// CreatePolicyInput is the input of CreatePolicy.
type CreatePolicyInput struct {
	Content     string
	Description string
	Name        string
	Type        string
	Tags        []Tag `json:",omitempty"`
}

// CreatePolicy creates a service control policy in the organization; Content must be a valid
// SCP of at most 5,120 characters. Errors: AWSOrganizationsNotInUseException,
// AccessDeniedException, DuplicatePolicyException, MalformedPolicyDocumentException,
// PolicyTypeNotAvailableForOrganizationException, ConstraintViolationException
// (POLICY_CONTENT_LIMIT_EXCEEDED, POLICY_NUMBER_LIMIT_EXCEEDED, tags), InvalidInputException.
func (s *Service) CreatePolicy(ctx context.Context, caller *identity.Principal, in *CreatePolicyInput) (*PolicyOutput, error) {
	if err := checkString("Name", in.Name, true, 1, 128, nil); err != nil {
		return nil, err
	}
	if err := checkString("Description", in.Description, false, 0, 512, nil); err != nil {
		return nil, err
	}
	if err := checkPolicyType("Type", in.Type); err != nil {
		return nil, err
	}
	if err := checkContent(in.Content); err != nil {
		return nil, err
	}
	tags, err := checkTags("Tags", in.Tags)
	if err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*PolicyOutput, error) {
		o, err := managed(ctx, tx, caller, "CreatePolicy", true)
		if err != nil {
			return nil, err
		}
		if o.FeatureSet != FeatureSetAll {
			return nil, awserr.New(ErrPolicyTypeNotAvailable, "You can't use the specified policy type with the feature set currently enabled for this organization (%s).", o.FeatureSet)
		}
		p := &store.OrgPolicy{
			ID: newPolicyID(), OrgID: o.ID, Type: in.Type, Name: in.Name, Description: in.Description, Content: in.Content, CreatedAt: tx.Now(),
		}
		err = tx.CreateOrgPolicy(ctx, p)
		switch {
		case errors.Is(err, store.ErrConflict):
			return nil, duplicatePolicy(in.Name)
		case errors.Is(err, store.ErrLimitExceeded):
			return nil, constraint(ReasonPolicyNumberLimit, "You attempted to exceed the number of policies of type %s that you can have in an organization (%d).", in.Type, store.MaxOrgPolicies)
		case err != nil:
			return nil, err
		}
		if err := tx.PutOrgTags(ctx, p.ID, tags); err != nil {
			return nil, err
		}
		return &PolicyOutput{Policy: policyOf(o, p)}, nil
	})
}

// checkContent checks an SCP's content: its size, and that it parses as an SCP.
func checkContent(content string) error {
	if content == "" {
		return required("Content")
	}
	if n := utf8.RuneCountInString(content); n > MaxSCPSize {
		return constraint(ReasonPolicyContentLimit, "You attempted to create a policy larger than the maximum size: an SCP has at most %d characters, this one %d.", MaxSCPSize, n)
	}
	if _, err := policy.Parse(content, policy.KindSCP); err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			return awserr.New(ErrMalformedPolicyDocument, "The provided policy document doesn't meet the requirements of the specified policy type: %s", pe.Reason)
		}
		return err
	}
	return nil
}

func duplicatePolicy(name string) error {
	return awserr.New(ErrDuplicatePolicy, "A policy with the same name %q already exists.", name)
}

func policyNotFound(id string) error {
	return awserr.New(ErrPolicyNotFound, "We can't find a policy with the PolicyId %s.", id)
}

func immutablePolicy(id string) error {
	return invalidInput(ReasonImmutablePolicy, "You specified a policy that is managed by AWS and can't be modified: %s.", id)
}

// DescribePolicyInput is the input of DescribePolicy.
type DescribePolicyInput struct {
	PolicyID string `json:"PolicyId"`
}

// DescribePolicy returns a policy with its content. Errors: AWSOrganizationsNotInUseException,
// AccessDeniedException, PolicyNotFoundException, InvalidInputException.
func (s *Service) DescribePolicy(ctx context.Context, caller *identity.Principal, in *DescribePolicyInput) (*PolicyOutput, error) {
	if err := checkPolicyID("PolicyId", in.PolicyID); err != nil {
		return nil, err
	}
	var out *PolicyOutput
	err := s.readManaged(ctx, caller, "DescribePolicy", func(tx *store.Tx, o *store.Organization) error {
		p, err := tx.OrgPolicy(ctx, o.ID, in.PolicyID)
		if errors.Is(err, store.ErrNotFound) {
			return policyNotFound(in.PolicyID)
		}
		if err != nil {
			return err
		}
		out = &PolicyOutput{Policy: policyOf(o, p)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdatePolicyInput is the input of UpdatePolicy.
type UpdatePolicyInput struct {
	PolicyID    string  `json:"PolicyId"`
	Name        *string `json:",omitempty"`
	Description *string `json:",omitempty"`
	Content     *string `json:",omitempty"`
}

// UpdatePolicy changes the name, description or content (those given) of one of the
// organization's policies. Errors: AWSOrganizationsNotInUseException, AccessDeniedException,
// PolicyNotFoundException, DuplicatePolicyException, MalformedPolicyDocumentException,
// ConstraintViolationException, InvalidInputException (IMMUTABLE_POLICY for AWS managed ones).
func (s *Service) UpdatePolicy(ctx context.Context, caller *identity.Principal, in *UpdatePolicyInput) (*PolicyOutput, error) {
	if err := checkPolicyID("PolicyId", in.PolicyID); err != nil {
		return nil, err
	}
	if in.Name != nil {
		if err := checkString("Name", *in.Name, true, 1, 128, nil); err != nil {
			return nil, err
		}
	}
	if in.Description != nil {
		if err := checkString("Description", *in.Description, false, 0, 512, nil); err != nil {
			return nil, err
		}
	}
	if in.Content != nil {
		if err := checkContent(*in.Content); err != nil {
			return nil, err
		}
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*PolicyOutput, error) {
		o, err := managed(ctx, tx, caller, "UpdatePolicy", true)
		if err != nil {
			return nil, err
		}
		p, err := tx.OrgPolicy(ctx, o.ID, in.PolicyID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, policyNotFound(in.PolicyID)
		}
		if err != nil {
			return nil, err
		}
		if p.AWSManaged() {
			return nil, immutablePolicy(p.ID)
		}
		if in.Name != nil {
			p.Name = *in.Name
		}
		if in.Description != nil {
			p.Description = *in.Description
		}
		if in.Content != nil {
			p.Content = *in.Content
		}
		err = tx.UpdateOrgPolicy(ctx, p)
		if errors.Is(err, store.ErrConflict) {
			return nil, duplicatePolicy(p.Name)
		}
		if err != nil {
			return nil, err
		}
		return &PolicyOutput{Policy: policyOf(o, p)}, nil
	})
}

// DeletePolicyInput is the input of DeletePolicy.
type DeletePolicyInput struct {
	PolicyID string `json:"PolicyId"`
}

// DeletePolicy deletes one of the organization's policies, which must not be attached to any
// root, OU or account. Errors: AWSOrganizationsNotInUseException, AccessDeniedException,
// PolicyNotFoundException, PolicyInUseException, InvalidInputException (IMMUTABLE_POLICY).
func (s *Service) DeletePolicy(ctx context.Context, caller *identity.Principal, in *DeletePolicyInput) (*Empty, error) {
	if err := checkPolicyID("PolicyId", in.PolicyID); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		o, err := managed(ctx, tx, caller, "DeletePolicy", true)
		if err != nil {
			return nil, err
		}
		if in.PolicyID == store.FullAWSAccessID {
			return nil, immutablePolicy(in.PolicyID)
		}
		err = tx.DeleteOrgPolicy(ctx, o.ID, in.PolicyID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, policyNotFound(in.PolicyID)
		case errors.Is(err, store.ErrInUse):
			return nil, awserr.New(ErrPolicyInUse, "The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts before performing this operation.")
		case err != nil:
			return nil, err
		}
		return &Empty{}, nil
	})
}

// ListPoliciesInput is the input of ListPolicies.
type ListPoliciesInput struct {
	Filter     string
	MaxResults *int32  `json:",omitempty"`
	NextToken  *string `json:",omitempty"`
}

// ListPoliciesOutput is the output of ListPolicies and ListPoliciesForTarget.
type ListPoliciesOutput struct {
	Policies  []PolicySummary
	NextToken *string `json:",omitempty"`
}

// ListPolicies returns the policies of a type in the organization, AWS managed ones included,
// in order of ID. Errors: AWSOrganizationsNotInUseException, AccessDeniedException,
// InvalidInputException.
func (s *Service) ListPolicies(ctx context.Context, caller *identity.Principal, in *ListPoliciesInput) (*ListPoliciesOutput, error) {
	if err := checkPolicyType("Filter", in.Filter); err != nil {
		return nil, err
	}
	p, err := readPage("ListPolicies", in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ListPoliciesOutput{Policies: []PolicySummary{}}
	err = s.readManaged(ctx, caller, "ListPolicies", func(tx *store.Tx, o *store.Organization) error {
		pols, err := tx.OrgPolicies(ctx, o.ID, in.Filter, p.query(""))
		if err != nil {
			return err
		}
		pols, out.NextToken = cut(p, pols, func(x *store.OrgPolicy) (string, int64) { return x.ID, 0 })
		for _, x := range pols {
			out.Policies = append(out.Policies, *policySummaryOf(o, x))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AttachPolicyInput is the input of AttachPolicy and DetachPolicy.
type AttachPolicyInput struct {
	PolicyID string `json:"PolicyId"`
	TargetID string `json:"TargetId"`
}

// AttachPolicy attaches a policy to the root, an OU or an account; its type must be enabled,
// and a target has at most five SCPs. Errors: AWSOrganizationsNotInUseException,
// AccessDeniedException, PolicyNotFoundException, TargetNotFoundException,
// PolicyTypeNotEnabledException, DuplicatePolicyAttachmentException,
// ConstraintViolationException (MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED),
// InvalidInputException.
func (s *Service) AttachPolicy(ctx context.Context, caller *identity.Principal, in *AttachPolicyInput) (*Empty, error) {
	if err := checkPolicyID("PolicyId", in.PolicyID); err != nil {
		return nil, err
	}
	if err := checkTargetID("TargetId", in.TargetID, targetIDPattern); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		o, p, err := s.policyAndTarget(ctx, tx, caller, "AttachPolicy", in.PolicyID, in.TargetID)
		if err != nil {
			return nil, err
		}
		if !o.PolicyTypeEnabled(p.Type) {
			return nil, policyTypeNotEnabled()
		}
		err = tx.AttachOrgPolicy(ctx, o.ID, p.ID, in.TargetID)
		switch {
		case errors.Is(err, store.ErrConflict):
			return nil, awserr.New(ErrDuplicatePolicyAttachment, "The selected policy %s is already attached to the specified target %s.", p.ID, in.TargetID)
		case errors.Is(err, store.ErrLimitExceeded):
			return nil, constraint(ReasonMaxPolicyAttachments, "You attempted to attach more policies of type %s to %s than allowed: a target has at most %d.", p.Type, in.TargetID, store.MaxOrgPoliciesPerTarget)
		case err != nil:
			return nil, err
		}
		return &Empty{}, nil
	})
}

// DetachPolicy detaches a policy from the root, an OU or an account. A target keeps at least
// one SCP while SCPs are enabled. Errors: AWSOrganizationsNotInUseException,
// AccessDeniedException, PolicyNotFoundException, TargetNotFoundException,
// PolicyNotAttachedException, ConstraintViolationException
// (MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED), InvalidInputException.
func (s *Service) DetachPolicy(ctx context.Context, caller *identity.Principal, in *AttachPolicyInput) (*Empty, error) {
	if err := checkPolicyID("PolicyId", in.PolicyID); err != nil {
		return nil, err
	}
	if err := checkTargetID("TargetId", in.TargetID, targetIDPattern); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		o, p, err := s.policyAndTarget(ctx, tx, caller, "DetachPolicy", in.PolicyID, in.TargetID)
		if err != nil {
			return nil, err
		}
		err = tx.DetachOrgPolicy(ctx, o.ID, p.ID, in.TargetID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, awserr.New(ErrPolicyNotAttached, "The policy %s isn't attached to the specified target %s.", p.ID, in.TargetID)
		case errors.Is(err, store.ErrLastPolicy):
			return nil, constraint(ReasonMinPolicyAttachments, "You attempted to detach a policy from an entity that would cause the entity to have fewer than the minimum number of policies of a certain type required: %s would have no %s left. Attach another one first.",
				in.TargetID, p.Type)
		case err != nil:
			return nil, err
		}
		return &Empty{}, nil
	})
}

// policyAndTarget returns the caller's organization (locked) and a policy it sees, checking
// that the target is its root, one of its OUs or one of its accounts.
func (s *Service) policyAndTarget(ctx context.Context, tx *store.Tx, caller *identity.Principal, op, policyID, targetID string) (*store.Organization, *store.OrgPolicy, error) {
	o, err := managed(ctx, tx, caller, op, true)
	if err != nil {
		return nil, nil, err
	}
	p, err := tx.OrgPolicy(ctx, o.ID, policyID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, policyNotFound(policyID)
	}
	if err != nil {
		return nil, nil, err
	}
	if _, err := target(ctx, tx, o, targetID); err != nil {
		return nil, nil, err
	}
	return o, p, nil
}

// target returns the summary of a root, OU or account of the organization, or
// TargetNotFoundException.
func target(ctx context.Context, tx *store.Tx, o *store.Organization, id string) (*PolicyTargetSummary, error) {
	t := &PolicyTargetSummary{TargetID: id, Type: targetType(id)}
	var err error
	switch t.Type {
	case TypeRoot:
		if id != o.RootID {
			err = store.ErrNotFound
		}
		t.ARN, t.Name = store.OrgRootARN(o.ManagementAccount, o.ID, id), RootName
	case TypeOU:
		var u *store.OrganizationalUnit
		if u, err = tx.OrganizationalUnit(ctx, o.ID, id); err == nil {
			t.ARN, t.Name = store.OUARN(o.ManagementAccount, o.ID, id), u.Name
		}
	default:
		var a *store.OrgAccount
		if a, err = tx.OrgAccount(ctx, o.ID, id); err == nil {
			t.ARN, t.Name = store.OrgAccountARN(o.ManagementAccount, o.ID, id), a.Name
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, awserr.New(ErrTargetNotFound, "We can't find a root, OU, account, or policy with the TargetId %s.", id)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// ListPoliciesForTargetInput is the input of ListPoliciesForTarget.
type ListPoliciesForTargetInput struct {
	TargetID   string `json:"TargetId"`
	Filter     string
	MaxResults *int32  `json:",omitempty"`
	NextToken  *string `json:",omitempty"`
}

// ListPoliciesForTarget returns the policies of a type attached directly to the root, an OU or
// an account. Errors: AWSOrganizationsNotInUseException, AccessDeniedException,
// TargetNotFoundException, InvalidInputException.
func (s *Service) ListPoliciesForTarget(ctx context.Context, caller *identity.Principal, in *ListPoliciesForTargetInput) (*ListPoliciesOutput, error) {
	if err := checkTargetID("TargetId", in.TargetID, targetIDPattern); err != nil {
		return nil, err
	}
	if err := checkPolicyType("Filter", in.Filter); err != nil {
		return nil, err
	}
	p, err := readPage("ListPoliciesForTarget", in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ListPoliciesOutput{Policies: []PolicySummary{}}
	err = s.readManaged(ctx, caller, "ListPoliciesForTarget", func(tx *store.Tx, o *store.Organization) error {
		if _, err := target(ctx, tx, o, in.TargetID); err != nil {
			return err
		}
		pols, err := tx.OrgPoliciesForTarget(ctx, o.ID, in.TargetID, in.Filter, p.query(""))
		if err != nil {
			return err
		}
		pols, out.NextToken = cut(p, pols, func(x *store.OrgPolicy) (string, int64) { return x.ID, 0 })
		for _, x := range pols {
			out.Policies = append(out.Policies, *policySummaryOf(o, x))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListTargetsForPolicyInput is the input of ListTargetsForPolicy.
type ListTargetsForPolicyInput struct {
	PolicyID   string  `json:"PolicyId"`
	MaxResults *int32  `json:",omitempty"`
	NextToken  *string `json:",omitempty"`
}

// ListTargetsForPolicyOutput is the output of ListTargetsForPolicy.
type ListTargetsForPolicyOutput struct {
	Targets   []PolicyTargetSummary
	NextToken *string `json:",omitempty"`
}

// ListTargetsForPolicy returns the roots, OUs and accounts a policy is attached to. Errors:
// AWSOrganizationsNotInUseException, AccessDeniedException, PolicyNotFoundException,
// InvalidInputException.
func (s *Service) ListTargetsForPolicy(ctx context.Context, caller *identity.Principal, in *ListTargetsForPolicyInput) (*ListTargetsForPolicyOutput, error) {
	if err := checkPolicyID("PolicyId", in.PolicyID); err != nil {
		return nil, err
	}
	p, err := readPage("ListTargetsForPolicy", in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ListTargetsForPolicyOutput{Targets: []PolicyTargetSummary{}}
	err = s.readManaged(ctx, caller, "ListTargetsForPolicy", func(tx *store.Tx, o *store.Organization) error {
		if _, err := tx.OrgPolicy(ctx, o.ID, in.PolicyID); errors.Is(err, store.ErrNotFound) {
			return policyNotFound(in.PolicyID)
		} else if err != nil {
			return err
		}
		ids, err := tx.OrgPolicyTargets(ctx, o.ID, in.PolicyID, p.query(""))
		if err != nil {
			return err
		}
		ids, out.NextToken = cut(p, ids, func(id string) (string, int64) { return id, 0 })
		for _, id := range ids {
			t, err := target(ctx, tx, o, id)
			if err != nil {
				return err
			}
			out.Targets = append(out.Targets, *t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
