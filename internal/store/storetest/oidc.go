package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

func testIAMOIDCProviders(t *testing.T, db *store.DB) {
	acct, other := createAccount(t, db), createAccount(t, db)
	p := &store.OIDCProvider{
		AccountID: acct, URL: "issuer.example.com/tenant", Issuer: "https://issuer.example.com/tenant",
		ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{"9e99a48a9960b14926bb7f3b02e22da2b0ab7280"},
		Tags: []store.Tag{{Key: "team", Value: "ci"}},
	}
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		p.CreatedAt = tx.Now()
		return tx.CreateOIDCProvider(ctx, p)
	})
	if want := "arn:aws:iam::" + acct + ":oidc-provider/issuer.example.com/tenant"; p.ARN != want {
		t.Fatalf("ARN = %s, want %s", p.ARN, want)
	}
	dup := *p
	wantErr(t, "same URL", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error { return tx.CreateOIDCProvider(ctx, &dup) }), store.ErrConflict)
	elsewhere := *p
	elsewhere.AccountID, elsewhere.Tags = other, nil
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.CreateOIDCProvider(ctx, &elsewhere) })

	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		got, err := tx.OIDCProvider(ctx, p.ARN)
		if err != nil {
			return err
		}
		if got.Issuer != p.Issuer || got.URL != p.URL || !slices.Equal(got.ClientIDs, p.ClientIDs) ||
			!slices.Equal(got.Thumbprints, p.Thumbprints) || !got.CreatedAt.Equal(p.CreatedAt) || len(got.Tags) != 1 {
			t.Errorf("got %+v, want %+v", got, p)
		}
		list, err := tx.OIDCProviders(ctx, acct)
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].ARN != p.ARN {
			t.Errorf("list: got %v", list)
		}
		_, err = tx.OIDCProvider(ctx, p.ARN+"x")
		wantErr(t, "missing provider", err, store.ErrNotFound)
		return nil
	})

	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		got, err := tx.OIDCProvider(ctx, p.ARN) // locks in an Update
		if err != nil {
			return err
		}
		got.ClientIDs, got.Thumbprints = append(got.ClientIDs, "my-app"), nil
		return tx.UpdateOIDCProvider(ctx, got)
	})
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		got, err := tx.OIDCProvider(ctx, p.ARN)
		if err == nil && (!slices.Equal(got.ClientIDs, []string{"sts.amazonaws.com", "my-app"}) || len(got.Thumbprints) != 0) {
			t.Errorf("after update: got %+v", got)
		}
		return err
	})

	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteOIDCProvider(ctx, p.ARN) })
	wantErr(t, "delete again", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteOIDCProvider(ctx, p.ARN) }), store.ErrNotFound)
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		list, err := tx.OIDCProviders(ctx, acct)
		if len(list) != 0 {
			t.Errorf("list after delete: %v", list)
		}
		return err
	})
	// Its tags went with it: a new provider for the URL starts without them.
	again := &store.OIDCProvider{AccountID: acct, URL: p.URL, Issuer: p.Issuer}
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		again.CreatedAt = tx.Now()
		return tx.CreateOIDCProvider(ctx, again)
	})
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		got, err := tx.OIDCProvider(ctx, again.ARN)
		if err == nil && (len(got.Tags) != 0 || len(got.ClientIDs) != 0) {
			t.Errorf("recreated provider: got %+v", got)
		}
		return err
	})

	// A web identity session keeps its provider and subject.
	role := createRole(t, db, acct, "ci")
	now := time.Now().UTC().Truncate(time.Second)
	sess := &store.Session{
		AccessKeyID: "ASIA" + newKeyID()[4:], AccountID: acct, Kind: identity.KindAssumedRole, PrincipalID: role.ID,
		RoleARN: role.ARN, RoleName: role.Name, SessionName: "run-1", Secret: "s", Token: "t",
		SourceARN: "arn:aws:iam::" + other + ":user/signer", FederatedProvider: p.ARN, WebIdentitySubject: "repo:acme/app",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	}
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.CreateSession(ctx, sess) })
	got, err := db.Session(context.Background(), sess.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	if got.FederatedProvider != p.ARN || got.WebIdentitySubject != "repo:acme/app" || got.SourceARN != sess.SourceARN {
		t.Errorf("session: got %+v", got)
	}
}
