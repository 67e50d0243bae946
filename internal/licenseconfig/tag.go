package licenseconfig

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}

func checkTagKey(code, member, k string) error {
	if k == "" {
		return awserr.New(code, "%s is required: a tag key of 1 to %d characters.", member, maxTagKeyLen)
	}
	if n := utf8.RuneCountInString(k); n > maxTagKeyLen {
		return awserr.New(code, "%s must have at most %d characters, not %d.", member, maxTagKeyLen, n)
	}
	return nil
}

// checkTags checks Tags: at most 50, keys of 1 to 128 characters, unique, values of at most
// 256 characters; errors carry code.
func checkTags(code string, tags []Tag) error {
	if len(tags) > maxTags {
		return awserr.New(code, "Tags may have at most %d tags, not %d.", maxTags, len(tags))
	}
	seen := map[string]bool{}
	for i, t := range tags {
		k := deref(t.Key)
		if err := checkTagKey(code, fmt.Sprintf("Tags[%d].Key", i), k); err != nil {
			return err
		}
		if n := utf8.RuneCountInString(deref(t.Value)); n > maxTagValueLen {
			return awserr.New(code, "Tags[%d].Value must have at most %d characters, not %d.", i, maxTagValueLen, n)
		}
		if seen[k] {
			return awserr.New(code, "Tags has the key %q twice: tag keys must be unique.", k)
		}
		seen[k] = true
	}
	return nil
}

func storeTags(tags []Tag) []store.Tag {
	out := make([]store.Tag, 0, len(tags))
	for _, t := range tags {
		out = append(out, store.Tag{Key: deref(t.Key), Value: deref(t.Value)})
	}
	return out
}

func apiTags(tags []store.Tag) []Tag {
	out := make([]Tag, 0, len(tags))
	for _, t := range tags {
		out = append(out, Tag{Key: &t.Key, Value: &t.Value})
	}
	return out
}

// TagResource adds tags to a license configuration of the caller's account, replacing the
// value of a key it has already. License Manager's TagResource routes configuration ARNs
// here. Errors: ValidationException (no tags, a bad tag, more than 50 in all),
// InvalidParameterValueException (no such configuration).
func (s *Service) TagResource(ctx context.Context, caller *identity.Principal, arn string, tags []Tag) error {
	return s.tagResource(ctx, arn, tags, func(ctx context.Context, tx *store.Tx, forUpdate bool) error {
		_, err := ownConfiguration(ctx, tx, caller, arn, forUpdate)
		return err
	})
}

// UntagResource removes tags from a license configuration of the caller's account by key;
// keys it does not have are ignored. Errors: ValidationException (no keys, a bad key),
// InvalidParameterValueException (no such configuration).
func (s *Service) UntagResource(ctx context.Context, caller *identity.Principal, arn string, keys []string) error {
	return s.untagResource(ctx, arn, keys, func(ctx context.Context, tx *store.Tx, forUpdate bool) error {
		_, err := ownConfiguration(ctx, tx, caller, arn, forUpdate)
		return err
	})
}

// ListTagsForResource returns the tags of a license configuration of the caller's account,
// in the order they were first added. Errors: InvalidParameterValueException.
func (s *Service) ListTagsForResource(ctx context.Context, caller *identity.Principal, arn string) ([]Tag, error) {
	return s.resourceTags(ctx, arn, func(ctx context.Context, tx *store.Tx, forUpdate bool) error {
		_, err := ownConfiguration(ctx, tx, caller, arn, forUpdate)
		return err
	})
}

// ownerCheck refuses, in tx, a caller who does not own the resource being tagged, locking the
// resource when forUpdate.
type ownerCheck func(ctx context.Context, tx *store.Tx, forUpdate bool) error

// tagResource adds tags to the resource arn that own lets the caller tag.
func (s *Service) tagResource(ctx context.Context, arn string, tags []Tag, own ownerCheck) error {
	if len(tags) == 0 {
		return awserr.New(ErrValidation, "Tags is required: send 1 to %d tags.", maxTags)
	}
	if err := checkTags(ErrValidation, tags); err != nil {
		return err
	}
	_, err := store.Apply(ctx, s.DB, func(tx *store.Tx) (*struct{}, error) {
		if err := own(ctx, tx, true); err != nil {
			return nil, err
		}
		err := tx.TagLicenseResource(ctx, arn, storeTags(tags))
		if errors.Is(err, store.ErrLimitExceeded) {
			return nil, awserr.New(ErrValidation, "%s would have more than %d tags: remove some with UntagResource first.", arn, maxTags)
		}
		if err != nil {
			return nil, err
		}
		return &struct{}{}, nil
	})
	return err
}

// untagResource removes tags by key from the resource arn that own lets the caller tag.
func (s *Service) untagResource(ctx context.Context, arn string, keys []string, own ownerCheck) error {
	if len(keys) == 0 {
		return awserr.New(ErrValidation, "TagKeys is required: send 1 to %d tag keys.", maxTags)
	}
	if len(keys) > maxTags {
		return awserr.New(ErrValidation, "TagKeys may have at most %d keys, not %d.", maxTags, len(keys))
	}
	for i, k := range keys {
		if err := checkTagKey(ErrValidation, fmt.Sprintf("TagKeys[%d]", i), k); err != nil {
			return err
		}
	}
	_, err := store.Apply(ctx, s.DB, func(tx *store.Tx) (*struct{}, error) {
		if err := own(ctx, tx, true); err != nil {
			return nil, err
		}
		if err := tx.UntagLicenseResource(ctx, arn, keys); err != nil {
			return nil, err
		}
		return &struct{}{}, nil
	})
	return err
}

// resourceTags returns the tags of the resource arn that own lets the caller read, in the
// order they were first added.
func (s *Service) resourceTags(ctx context.Context, arn string, own ownerCheck) ([]Tag, error) {
	out, err := store.Read(ctx, s.DB, func(tx *store.Tx) (*[]Tag, error) {
		if err := own(ctx, tx, false); err != nil {
			return nil, err
		}
		tags, err := tx.LicenseResourceTags(ctx, arn)
		if err != nil {
			return nil, err
		}
		t := apiTags(tags)
		return &t, nil
	})
	if err != nil {
		return nil, err
	}
	return *out, nil
}
