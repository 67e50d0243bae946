package iam

import (
	"context"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// UserResource returns the resource an operation on a user is authorized against: the
// user's ARN, with its path, or without a name the caller's own ARN. A user that does not
// exist gets the path "/".
func (s *Service) UserResource(ctx context.Context, caller *identity.Principal, name string) string {
	if name == "" {
		return caller.ARN
	}
	path := "/"
	s.DB.View(ctx, func(tx *store.Tx) error {
		if u, err := tx.User(ctx, caller.AccountID, name); err == nil {
			path, name = u.Path, u.Name
		}
		return nil
	})
	return store.UserARN(caller.AccountID, path, name)
}

// RoleResource returns the resource an operation on a role is authorized against: the
// role's ARN, with its path ("/" for a role that does not exist).
func (s *Service) RoleResource(ctx context.Context, caller *identity.Principal, name string) string {
	path := "/"
	s.DB.View(ctx, func(tx *store.Tx) error {
		if r, err := tx.Role(ctx, caller.AccountID, name); err == nil {
			path, name = r.Path, r.Name
		}
		return nil
	})
	return store.RoleARN(caller.AccountID, path, name)
}
