package organizations

import (
	"context"
	"errors"
	"strings"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// checkTags checks the tags of a create or tag operation and returns them for the store.
func checkTags(member string, tags []Tag) ([]store.Tag, error) {
	if len(tags) > store.MaxOrgTags {
		return nil, constraint(ReasonMaxTagLimit, "You have exceeded the number of tags allowed on this resource: at most %d.", store.MaxOrgTags)
	}
	seen := make(map[string]bool, len(tags))
	out := make([]store.Tag, 0, len(tags))
	for i, t := range tags {
		m := member + "[" + itoa(i) + "]"
		if err := checkString(m+".Key", t.Key, true, 1, 128, tagPattern); err != nil {
			return nil, err
		}
		if err := checkString(m+".Value", t.Value, false, 0, 256, tagPattern); err != nil {
			return nil, err
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return nil, invalidInput(ReasonInvalidSystemTags, "You provided a tag key that isn't valid: keys beginning with aws: are reserved for AWS use (%s).", t.Key)
		}
		if seen[t.Key] {
			return nil, invalidInput(ReasonDuplicateTagKey, "Tag keys must be unique among the tags attached to a specific resource: %s is given twice.", t.Key)
		}
		seen[t.Key] = true
		out = append(out, store.Tag{Key: t.Key, Value: t.Value})
	}
	return out, nil
}

// resourceIDPattern matches the IDs of taggable resources: roots, OUs, accounts and policies.
func checkResourceID(id string) error {
	if policyIDPattern.MatchString(id) {
		return nil
	}
	return checkTargetID("ResourceId", id, targetIDPattern)
}

// taggable checks that a resource of the organization exists and may be tagged.
func taggable(ctx context.Context, tx *store.Tx, o *store.Organization, id string, change bool) error {
	if !policyIDPattern.MatchString(id) {
		_, err := target(ctx, tx, o, id)
		return err
	}
	p, err := tx.OrgPolicy(ctx, o.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return policyNotFound(id)
	}
	if err != nil {
		return err
	}
	if change && p.AWSManaged() {
		return immutablePolicy(id)
	}
	return nil
}

// TagResourceInput is the input of TagResource.
type TagResourceInput struct {
	ResourceID string `json:"ResourceId"`
	Tags       []Tag
}

// TagResource adds tags to an account, OU, root or policy, replacing the values of keys it
// has. Errors: AWSOrganizationsNotInUseException, AccessDeniedException,
// TargetNotFoundException, ConstraintViolationException (MAX_TAG_LIMIT_EXCEEDED),
// InvalidInputException.
func (s *Service) TagResource(ctx context.Context, caller *identity.Principal, in *TagResourceInput) (*Empty, error) {
	if err := checkResourceID(in.ResourceID); err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, required("Tags")
	}
	tags, err := checkTags("Tags", in.Tags)
	if err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		o, err := managed(ctx, tx, caller, "TagResource", true)
		if err != nil {
			return nil, err
		}
		if err := taggable(ctx, tx, o, in.ResourceID, true); err != nil {
			return nil, err
		}
		err = tx.PutOrgTags(ctx, in.ResourceID, tags)
		if errors.Is(err, store.ErrLimitExceeded) {
			return nil, constraint(ReasonMaxTagLimit, "You have exceeded the number of tags allowed on this resource: at most %d.", store.MaxOrgTags)
		}
		if err != nil {
			return nil, err
		}
		return &Empty{}, nil
	})
}

// UntagResourceInput is the input of UntagResource.
type UntagResourceInput struct {
	ResourceID string `json:"ResourceId"`
	TagKeys    []string
}

// UntagResource removes tags from an account, OU, root or policy; keys it lacks are ignored.
// Errors: AWSOrganizationsNotInUseException, AccessDeniedException, TargetNotFoundException,
// InvalidInputException.
func (s *Service) UntagResource(ctx context.Context, caller *identity.Principal, in *UntagResourceInput) (*Empty, error) {
	if err := checkResourceID(in.ResourceID); err != nil {
		return nil, err
	}
	if len(in.TagKeys) == 0 {
		return nil, required("TagKeys")
	}
	for i, k := range in.TagKeys {
		if err := checkString("TagKeys["+itoa(i)+"]", k, true, 1, 128, tagPattern); err != nil {
			return nil, err
		}
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		o, err := managed(ctx, tx, caller, "UntagResource", true)
		if err != nil {
			return nil, err
		}
		if err := taggable(ctx, tx, o, in.ResourceID, true); err != nil {
			return nil, err
		}
		if err := tx.DeleteOrgTags(ctx, in.ResourceID, in.TagKeys); err != nil {
			return nil, err
		}
		return &Empty{}, nil
	})
}

// ListTagsForResourceInput is the input of ListTagsForResource.
type ListTagsForResourceInput struct {
	ResourceID string  `json:"ResourceId"`
	NextToken  *string `json:",omitempty"`
}

// ListTagsForResourceOutput is the output of ListTagsForResource.
type ListTagsForResourceOutput struct {
	Tags      []Tag
	NextToken *string `json:",omitempty"`
}

// ListTagsForResource returns the tags of an account, OU, root or policy, all on one page.
// Errors: AWSOrganizationsNotInUseException, AccessDeniedException, TargetNotFoundException,
// InvalidInputException.
func (s *Service) ListTagsForResource(ctx context.Context, caller *identity.Principal, in *ListTagsForResourceInput) (*ListTagsForResourceOutput, error) {
	if err := checkResourceID(in.ResourceID); err != nil {
		return nil, err
	}
	p, err := readPage("ListTagsForResource", nil, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &ListTagsForResourceOutput{Tags: []Tag{}}
	err = s.readManaged(ctx, caller, "ListTagsForResource", func(tx *store.Tx, o *store.Organization) error {
		if err := taggable(ctx, tx, o, in.ResourceID, false); err != nil {
			return err
		}
		if p.pos.After != "" {
			return nil
		}
		tags, err := tx.OrgTags(ctx, in.ResourceID)
		if err != nil {
			return err
		}
		out.Tags = tagsOf(tags)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
