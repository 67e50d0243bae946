package iam

import (
	"context"
	"strings"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

func lowerName(name string) string { return strings.ToLower(name) }

// noSuchEntity returns the NoSuchEntity error for a user, role or policy (name: its ARN).
func noSuchEntity(t store.EntityType, name string) error {
	switch t {
	case store.EntityUser:
		return noSuchUser(name)
	case store.EntityRole:
		return noSuchRole(name)
	}
	return noSuchPolicy(name)
}

// tag adds tags to a user, role or customer managed policy.
func (s *Service) tag(ctx context.Context, caller *identity.Principal, t store.EntityType, name string, tags []Tag) (*Empty, error) {
	st, err := checkTags("tags", tags, true)
	if err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		err := tx.TagEntity(ctx, t, caller.AccountID, name, st)
		switch {
		case is(err, store.ErrNotFound):
			return nil, noSuchEntity(t, name)
		case is(err, store.ErrLimitExceeded):
			return nil, tooManyTags()
		case err != nil:
			return nil, err
		}
		return &Empty{}, nil
	})
}

// untag removes tags from a user, role or customer managed policy.
func (s *Service) untag(ctx context.Context, caller *identity.Principal, t store.EntityType, name string, keys []string) (*Empty, error) {
	if err := checkTagKeys("tagKeys", keys); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		err := tx.UntagEntity(ctx, t, caller.AccountID, name, keys)
		if is(err, store.ErrNotFound) {
			return nil, noSuchEntity(t, name)
		}
		if err != nil {
			return nil, err
		}
		return &Empty{}, nil
	})
}

// listTags returns one page of the tags of a user, role or managed policy.
func (s *Service) listTags(ctx context.Context, caller *identity.Principal, op string, t store.EntityType, name string, maxItems *int32, marker string) (*ListTagsOutput, error) {
	p, err := readPage(op, maxItems, marker)
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListTagsOutput, error) {
		tags, err := tx.EntityTags(ctx, t, caller.AccountID, name)
		if is(err, store.ErrNotFound) {
			return nil, noSuchEntity(t, name)
		}
		if err != nil {
			return nil, err
		}
		all := tagsOf(tags)
		items, truncated, next := pageOf(p, all)
		out := &ListTagsOutput{Tags: make([]Tag, 0, len(items)), IsTruncated: truncated, Marker: next}
		out.Tags = append(out.Tags, items...)
		return out, nil
	})
}
