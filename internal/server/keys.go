package server

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/sigv4"
	"github.com/allot-dev/allot/internal/store"
)

// keyInfo is what an access key stands for: its secret and its principal. Cached and
// shared between requests: never modified once made.
type keyInfo struct {
	creds     sigv4.Credentials
	principal *identity.Principal
}

// maxCachedKeys bounds the access-key cache.
const maxCachedKeys = 1 << 16

// newKeyCache returns the cache of access keys. Reading a key costs a query and a
// decryption (two, and two JSON documents, for a session); the cache is dropped whenever
// identities or keys change (store.Generation), so a key deactivated or deleted, or a user
// deleted, stops working at once on this node and within the cache TTL on others. Unknown
// keys are not cached.
func newKeyCache(db *store.DB) *store.Cache[string, *keyInfo] {
	return store.NewCache[string, *keyInfo](db, maxCachedKeys)
}

// loadKey reads an access key (long-term, or an STS session's) and its principal.
func (s *Server) loadKey(ctx context.Context, id string) (*keyInfo, error) {
	if strings.HasPrefix(id, identity.TemporaryKeyPrefix) {
		sess, err := s.db.Session(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, sigv4.ErrUnknownAccessKey
		}
		if err != nil {
			return nil, err
		}
		return &keyInfo{
			creds:     sigv4.Credentials{SecretAccessKey: sess.Secret, SessionToken: sess.Token, Expires: sess.ExpiresAt},
			principal: sessionPrincipal(sess),
		}, nil
	}
	k, err := s.db.AccessKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && k.Status != "Active" {
		return nil, sigv4.ErrUnknownAccessKey
	}
	if err != nil {
		return nil, err
	}
	p := identity.Root(k.AccountID, k.ID)
	if k.Kind == identity.KindIAMUser {
		var u *store.User
		err := s.db.View(ctx, func(tx *store.Tx) error {
			var err error
			u, err = tx.User(ctx, k.AccountID, k.UserName)
			return err
		})
		if errors.Is(err, store.ErrNotFound) {
			return nil, sigv4.ErrUnknownAccessKey // the user was deleted
		}
		if err != nil {
			return nil, err
		}
		p = &identity.Principal{Kind: identity.KindIAMUser, AccountID: k.AccountID, ARN: u.ARN, PrincipalID: u.ID, UserName: u.Name, AccessKeyID: k.ID}
	}
	return &keyInfo{creds: sigv4.Credentials{SecretAccessKey: k.Secret}, principal: p}, nil
}

// newEventID returns an audit event ID: a UUID, time-ordered (version 7) so that the audit
// trail's event ID index grows at its end instead of at a random page for every event,
// which is a good part of the cost of each group commit.
func newEventID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
