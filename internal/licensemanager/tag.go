package licensemanager

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// Tag limits, as in License Manager: keys are case-sensitive.
const (
	maxTags        = store.MaxLicenseTags
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

// checkTagKey checks a tag key of member.
func checkTagKey(member, k string) error {
	if k == "" {
		return validation("%s is required: a tag key of 1 to %d characters.", member, maxTagKeyLen)
	}
	if n := utf8.RuneCountInString(k); n > maxTagKeyLen {
		return validation("%s must have at most %d characters, not %d.", member, maxTagKeyLen, n)
	}
	return nil
}

// checkTags checks the Tags member of CreateLicense and TagResource: at most 50 tags, keys
// of 1 to 128 characters, unique (case-sensitively), values of at most 256 characters.
func checkTags(tags []Tag) error {
	if len(tags) > maxTags {
		return validation("Tags may have at most %d tags, not %d.", maxTags, len(tags))
	}
	seen := map[string]bool{}
	for i, t := range tags {
		k := ""
		if t.Key != nil {
			k = *t.Key
		}
		if err := checkTagKey(fmt.Sprintf("Tags[%d].Key", i), k); err != nil {
			return err
		}
		if t.Value != nil {
			if n := utf8.RuneCountInString(*t.Value); n > maxTagValueLen {
				return validation("Tags[%d].Value must have at most %d characters, not %d.", i, maxTagValueLen, n)
			}
		}
		if seen[k] {
			return validation("Tags has the key %q twice: tag keys must be unique.", k)
		}
		seen[k] = true
	}
	return nil
}

func storeTags(tags []Tag) []store.Tag {
	out := make([]store.Tag, 0, len(tags))
	for _, t := range tags {
		st := store.Tag{}
		if t.Key != nil {
			st.Key = *t.Key
		}
		if t.Value != nil {
			st.Value = *t.Value
		}
		out = append(out, st)
	}
	return out
}

// checkResourceARN checks a ResourceArn member: required, and a license's or a grant's,
// the resources License Manager tags here.
func checkResourceARN(arn string) error {
	if arn == "" {
		return validation("ResourceArn is required.")
	}
	if !licenseARNPattern.MatchString(arn) && !grantARNPattern.MatchString(arn) {
		return awserr.New(ErrInvalidParameterValue, "ResourceArn %q is not a resource this server can tag: send a license (arn:aws:license-manager::ACCOUNT:license:l-…) or a grant (arn:aws:license-manager::ACCOUNT:grant:g-…).", arn)
	}
	return nil
}

// ownResource checks that a license or grant exists in the caller's account (a grant: that
// the caller's account made it).
func ownResource(ctx context.Context, tx *store.Tx, caller *identity.Principal, arn string) error {
	if licenseARNPattern.MatchString(arn) {
		_, err := ownLicense(ctx, tx, caller, ErrInvalidParameterValue, arn, 0)
		return err
	}
	g, err := tx.Grant(ctx, arn, 0)
	if errors.Is(err, store.ErrNotFound) || (err == nil && g.AccountID != caller.AccountID) {
		return awserr.New(ErrInvalidParameterValue, "Grant %s does not exist in account %s: a grant's tags belong to its grantor.", arn, caller.AccountID)
	}
	return err
}

// TagResourceInput is the input of TagResource.
type TagResourceInput struct {
	ResourceArn string
	Tags        []Tag
}

// TagResourceOutput is the (empty) output of TagResource.
type TagResourceOutput struct{}

// TagResource adds tags to a license or a grant of the caller's account, replacing the value of a key
// it has already. Errors: ValidationException (no tags, a bad tag, more than 50 tags in all),
// InvalidParameterValueException (not a license ARN, or no such license).
func (s *Service) TagResource(ctx context.Context, caller *identity.Principal, in *TagResourceInput) (*TagResourceOutput, error) {
	if err := checkResourceARN(in.ResourceArn); err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, validation("Tags is required: send 1 to %d tags.", maxTags)
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*TagResourceOutput, error) {
		if err := ownResource(ctx, tx, caller, in.ResourceArn); err != nil {
			return nil, err
		}
		if err := tx.TagLicenseResource(ctx, in.ResourceArn, storeTags(in.Tags)); err != nil {
			if errors.Is(err, store.ErrLimitExceeded) {
				return nil, validation("%s would have more than %d tags: remove some with UntagResource first.", in.ResourceArn, maxTags)
			}
			return nil, err
		}
		return &TagResourceOutput{}, nil
	})
}

// UntagResourceInput is the input of UntagResource.
type UntagResourceInput struct {
	ResourceArn string
	TagKeys     []string
}

// UntagResourceOutput is the (empty) output of UntagResource.
type UntagResourceOutput struct{}

// UntagResource removes tags from a license or a grant of the caller's account by key (case-sensitive);
// keys it does not have are ignored. Errors: ValidationException (no keys, a bad key),
// InvalidParameterValueException (not a license ARN, or no such license).
func (s *Service) UntagResource(ctx context.Context, caller *identity.Principal, in *UntagResourceInput) (*UntagResourceOutput, error) {
	if err := checkResourceARN(in.ResourceArn); err != nil {
		return nil, err
	}
	if len(in.TagKeys) == 0 {
		return nil, validation("TagKeys is required: send 1 to %d tag keys.", maxTags)
	}
	if len(in.TagKeys) > maxTags {
		return nil, validation("TagKeys may have at most %d keys, not %d.", maxTags, len(in.TagKeys))
	}
	for i, k := range in.TagKeys {
		if err := checkTagKey(fmt.Sprintf("TagKeys[%d]", i), k); err != nil {
			return nil, err
		}
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*UntagResourceOutput, error) {
		if err := ownResource(ctx, tx, caller, in.ResourceArn); err != nil {
			return nil, err
		}
		if err := tx.UntagLicenseResource(ctx, in.ResourceArn, in.TagKeys); err != nil {
			return nil, err
		}
		return &UntagResourceOutput{}, nil
	})
}

// ListTagsForResourceInput is the input of ListTagsForResource.
type ListTagsForResourceInput struct {
	ResourceArn string
}

// ListTagsForResourceOutput is the output of ListTagsForResource.
type ListTagsForResourceOutput struct {
	Tags []Tag
}

// ListTagsForResource returns the tags of a license or a grant of the caller's account, in the order
// they were first added. Errors: ValidationException (no ResourceArn),
// InvalidParameterValueException (not a license ARN, or no such license).
func (s *Service) ListTagsForResource(ctx context.Context, caller *identity.Principal, in *ListTagsForResourceInput) (*ListTagsForResourceOutput, error) {
	if err := checkResourceARN(in.ResourceArn); err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListTagsForResourceOutput, error) {
		if err := ownResource(ctx, tx, caller, in.ResourceArn); err != nil {
			return nil, err
		}
		tags, err := tx.LicenseResourceTags(ctx, in.ResourceArn)
		if err != nil {
			return nil, err
		}
		out := &ListTagsForResourceOutput{Tags: make([]Tag, 0, len(tags))}
		for _, t := range tags {
			out.Tags = append(out.Tags, Tag{Key: &t.Key, Value: &t.Value})
		}
		return out, nil
	})
}
