package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// runIAM runs the IAM storage cases.
func runIAM(t *testing.T, open func(t testing.TB) *store.DB) {
	t.Run("IAMUsers", func(t *testing.T) { testIAMUsers(t, open(t)) })
	t.Run("IAMRoles", func(t *testing.T) { testIAMRoles(t, open(t)) })
	t.Run("IAMTags", func(t *testing.T) { testIAMTags(t, open(t)) })
	t.Run("IAMAccessKeys", func(t *testing.T) { testIAMAccessKeys(t, open(t)) })
	t.Run("IAMManagedPolicies", func(t *testing.T) { testIAMManagedPolicies(t, open(t)) })
	t.Run("IAMPolicyVersions", func(t *testing.T) { testIAMPolicyVersions(t, open(t)) })
	t.Run("IAMAttachments", func(t *testing.T) { testIAMAttachments(t, open(t)) })
	t.Run("IAMInlinePolicies", func(t *testing.T) { testIAMInlinePolicies(t, open(t)) })
	t.Run("IAMPrincipalPolicies", func(t *testing.T) { testIAMPrincipalPolicies(t, open(t)) })
	t.Run("IAMConcurrentLimits", func(t *testing.T) { testIAMConcurrentLimits(t, open(t)) })
	t.Run("IAMOIDCProviders", func(t *testing.T) { testIAMOIDCProviders(t, open(t)) })
}

const (
	adminARN    = "arn:aws:iam::aws:policy/AdministratorAccess"
	readOnlyARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	allowAll    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	trustRoot   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}`
)

func iamID(prefix string) string {
	return prefix + strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", ""))[:17]
}

func doc(n int) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"S%d","Effect":"Allow","Action":"license-manager:List*","Resource":"*"}]}`, n)
}

// tryUpdate runs fn in an Update and returns its error.
func tryUpdate(db *store.DB, fn func(ctx context.Context, tx *store.Tx) error) error {
	ctx := context.Background()
	return db.Update(ctx, func(tx *store.Tx) error { return fn(ctx, tx) })
}

// mustUpdate runs fn in an Update and fails the test on an error.
func mustUpdate(t testing.TB, db *store.DB, fn func(ctx context.Context, tx *store.Tx) error) {
	t.Helper()
	if err := tryUpdate(db, fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// mustView runs fn in a View and fails the test on an error.
func mustView(t testing.TB, db *store.DB, fn func(ctx context.Context, tx *store.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := db.View(ctx, func(tx *store.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func newUser(acct, name, path string) *store.User {
	return &store.User{AccountID: acct, Name: name, Path: path, ID: iamID("AIDA")}
}

func newRole(acct, name string) *store.Role {
	return &store.Role{AccountID: acct, Name: name, Path: "/", ID: iamID("AROA"), AssumeRolePolicy: trustRoot, MaxSessionDuration: 3600}
}

func newPolicy(acct, name string) *store.ManagedPolicy {
	return &store.ManagedPolicy{ARN: store.PolicyARN(acct, "/", name), AccountID: acct, Name: name, Path: "/", ID: iamID("ANPA")}
}

func createUser(t testing.TB, db *store.DB, acct, name string) *store.User {
	t.Helper()
	u := newUser(acct, name, "/")
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { u.CreatedAt = tx.Now(); return tx.CreateUser(ctx, u) })
	return u
}

func createRole(t testing.TB, db *store.DB, acct, name string) *store.Role {
	t.Helper()
	r := newRole(acct, name)
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { r.CreatedAt = tx.Now(); return tx.CreateRole(ctx, r) })
	return r
}

func createPolicy(t testing.TB, db *store.DB, acct, name, document string) *store.ManagedPolicy {
	t.Helper()
	p := newPolicy(acct, name)
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		p.CreatedAt = tx.Now()
		return tx.CreateManagedPolicy(ctx, p, document)
	})
	return p
}

func wantErr(t testing.TB, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error = %v, want %v", what, err, target)
	}
}

func wantInUse(t testing.TB, what string, err error, reason store.Dependents) {
	t.Helper()
	var inUse *store.InUseError
	if !errors.As(err, &inUse) || !errors.Is(err, store.ErrInUse) || inUse.Reason != reason {
		t.Errorf("%s: error = %v, want an InUseError for %s", what, err, reason)
	}
}

func testIAMUsers(t *testing.T, db *store.DB) {
	acct, other := createAccount(t, db), createAccount(t, db)
	alice := newUser(acct, "Alice", "/eng/")
	alice.Tags = []store.Tag{{Key: "team", Value: "db"}, {Key: "cost", Value: ""}}
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		alice.CreatedAt = tx.Now()
		if err := tx.CreateUser(ctx, alice); err != nil {
			return err
		}
		// Same name in another case: a conflict that leaves the transaction usable.
		err := tx.CreateUser(ctx, newUser(acct, "ALICE", "/"))
		wantErr(t, "CreateUser(ALICE)", err, store.ErrConflict)
		// The same name in another account is another user.
		return tx.CreateUser(ctx, newUser(other, "alice", "/"))
	})
	if want := "arn:aws:iam::" + acct + ":user/eng/Alice"; alice.ARN != want {
		t.Errorf("ARN = %q, want %q", alice.ARN, want)
	}
	for _, name := range []string{"b", "c", "d"} {
		createUser(t, db, acct, name)
	}
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		got, err := tx.User(ctx, acct, "aLiCe")
		if err != nil {
			return err
		}
		if got.Name != "Alice" || got.ID != alice.ID || got.Path != "/eng/" || got.ARN != alice.ARN ||
			!got.CreatedAt.Equal(alice.CreatedAt) || !slices.Equal(got.Tags, alice.Tags) {
			t.Errorf("User(aLiCe) = %+v, want %+v", got, alice)
		}
		_, err = tx.User(ctx, acct, "nobody")
		wantErr(t, "User(nobody)", err, store.ErrNotFound)

		all, err := tx.Users(ctx, acct, store.ListQuery{})
		if err != nil {
			return err
		}
		if names := userNames(all); !slices.Equal(names, []string{"Alice", "b", "c", "d"}) {
			t.Errorf("Users = %v, want [Alice b c d]", names)
		}
		page, err := tx.Users(ctx, acct, store.ListQuery{After: "b", Limit: 1})
		if err != nil {
			return err
		}
		if names := userNames(page); !slices.Equal(names, []string{"c"}) {
			t.Errorf("Users after b, limit 1 = %v, want [c]", names)
		}
		eng, err := tx.Users(ctx, acct, store.ListQuery{PathPrefix: "/eng"})
		if err != nil {
			return err
		}
		if names := userNames(eng); !slices.Equal(names, []string{"Alice"}) {
			t.Errorf("Users with prefix /eng = %v, want [Alice]", names)
		}
		return nil
	})
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteUser(ctx, acct, "ALICE") })
	err := tryUpdate(db, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteUser(ctx, acct, "alice") })
	wantErr(t, "DeleteUser(deleted)", err, store.ErrNotFound)
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.User(ctx, other, "alice")
		return err
	})
	// Its name is free again.
	createUser(t, db, acct, "alice")
}

func userNames(us []*store.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.Name)
	}
	return out
}

func testIAMRoles(t *testing.T, db *store.DB) {
	acct := createAccount(t, db)
	r := newRole(acct, "LicenseConsumer")
	r.Description, r.MaxSessionDuration = "consumes", 7200
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		r.CreatedAt = tx.Now()
		if err := tx.CreateRole(ctx, r); err != nil {
			return err
		}
		wantErr(t, "CreateRole(licenseconsumer)", tx.CreateRole(ctx, newRole(acct, "licenseconsumer")), store.ErrConflict)
		return nil
	})
	if want := "arn:aws:iam::" + acct + ":role/LicenseConsumer"; r.ARN != want {
		t.Errorf("ARN = %q, want %q", r.ARN, want)
	}
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		got, err := tx.Role(ctx, acct, "LICENSECONSUMER")
		if err != nil {
			return err
		}
		if got.Name != r.Name || got.AssumeRolePolicy != trustRoot || got.MaxSessionDuration != 7200 || got.Description != "consumes" || !got.LastUsedAt.IsZero() {
			t.Errorf("Role = %+v", got)
		}
		got.Description, got.MaxSessionDuration, got.AssumeRolePolicy = "", 43200, allowAll
		if err := tx.UpdateRole(ctx, got); err != nil {
			return err
		}
		return tx.SetRoleLastUsed(ctx, acct, "licenseconsumer", tx.Now(), "eu-west-1")
	})
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		got, err := tx.Role(ctx, acct, "LicenseConsumer")
		if err != nil {
			return err
		}
		if got.Description != "" || got.MaxSessionDuration != 43200 || got.AssumeRolePolicy != allowAll || got.LastUsedAt.IsZero() || got.LastUsedRegion != "eu-west-1" {
			t.Errorf("Role after update = %+v", got)
		}
		roles, err := tx.Roles(ctx, acct, store.ListQuery{})
		if err != nil || len(roles) != 1 {
			t.Errorf("Roles = %v, %v; want one", roles, err)
		}
		return nil
	})
	wantErr(t, "UpdateRole(missing)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.UpdateRole(ctx, newRole(acct, "missing"))
	}), store.ErrNotFound)
	// Constraint: the session duration is 1 to 12 hours.
	bad := newRole(acct, "bad")
	bad.MaxSessionDuration = 60
	wantErr(t, "CreateRole(60s)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error { return tx.CreateRole(ctx, bad) }), store.ErrConstraint)

	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		return tx.PutInlinePolicy(ctx, store.EntityRole, acct, "LicenseConsumer", "inline", allowAll)
	})
	wantInUse(t, "DeleteRole with an inline policy", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.DeleteRole(ctx, acct, "LicenseConsumer")
	}), store.DependentInlinePolicies)
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.DeleteInlinePolicy(ctx, store.EntityRole, acct, "LicenseConsumer", "INLINE"); err != nil {
			return err
		}
		if err := tx.AttachPolicy(ctx, store.EntityRole, acct, "LicenseConsumer", adminARN); err != nil {
			return err
		}
		wantInUse(t, "DeleteRole with an attached policy", tx.DeleteRole(ctx, acct, "LicenseConsumer"), store.DependentAttachedPolicies)
		return nil
	})
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.DetachPolicy(ctx, store.EntityRole, acct, "LicenseConsumer", adminARN); err != nil {
			return err
		}
		return tx.DeleteRole(ctx, acct, "licenseConsumer")
	})
	wantErr(t, "Role(deleted)", db.View(context.Background(), func(tx *store.Tx) error {
		_, err := tx.Role(context.Background(), acct, "LicenseConsumer")
		return err
	}), store.ErrNotFound)
}

func testIAMTags(t *testing.T, db *store.DB) {
	acct := createAccount(t, db)
	createUser(t, db, acct, "tagged")
	p := createPolicy(t, db, acct, "TaggedPolicy", allowAll)
	tags := func(typ store.EntityType, name string) []store.Tag {
		var out []store.Tag
		mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
			var err error
			out, err = tx.EntityTags(ctx, typ, acct, name)
			return err
		})
		return out
	}
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.TagEntity(ctx, store.EntityUser, acct, "TAGGED", []store.Tag{{Key: "Team", Value: "a"}, {Key: "env", Value: "prod"}}); err != nil {
			return err
		}
		// A key in another case replaces the tag, in place.
		return tx.TagEntity(ctx, store.EntityUser, acct, "tagged", []store.Tag{{Key: "team", Value: "b"}, {Key: "owner", Value: "me"}})
	})
	if got, want := tags(store.EntityUser, "tagged"), []store.Tag{{Key: "team", Value: "b"}, {Key: "env", Value: "prod"}, {Key: "owner", Value: "me"}}; !slices.Equal(got, want) {
		t.Errorf("tags = %v, want %v", got, want)
	}
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		return tx.UntagEntity(ctx, store.EntityUser, acct, "tagged", []string{"ENV", "absent"})
	})
	if got, want := tags(store.EntityUser, "tagged"), []store.Tag{{Key: "team", Value: "b"}, {Key: "owner", Value: "me"}}; !slices.Equal(got, want) {
		t.Errorf("tags after untag = %v, want %v", got, want)
	}
	// At most MaxTags.
	many := make([]store.Tag, store.MaxTags-1)
	for i := range many {
		many[i] = store.Tag{Key: fmt.Sprint("k", i), Value: "v"}
	}
	err := tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.TagEntity(ctx, store.EntityUser, acct, "tagged", many)
	})
	wantErr(t, "TagEntity beyond MaxTags", err, store.ErrLimitExceeded)
	if got := tags(store.EntityUser, "tagged"); len(got) != 2 {
		t.Errorf("after a refused TagEntity the user has %d tags, want 2", len(got))
	}
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		return tx.TagEntity(ctx, store.EntityPolicy, acct, p.ARN, []store.Tag{{Key: "k", Value: "v"}})
	})
	if got := tags(store.EntityPolicy, p.ARN); !slices.Equal(got, []store.Tag{{Key: "k", Value: "v"}}) {
		t.Errorf("policy tags = %v", got)
	}
	wantErr(t, "TagEntity(missing user)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.TagEntity(ctx, store.EntityUser, acct, "missing", []store.Tag{{Key: "k", Value: "v"}})
	}), store.ErrNotFound)
}

func testIAMAccessKeys(t *testing.T, db *store.DB) {
	acct := createAccount(t, db)
	createUser(t, db, acct, "Bob")
	key := func(kind identity.Kind, user string) *store.AccessKey {
		return &store.AccessKey{ID: newKeyID(), AccountID: acct, Kind: kind, UserName: user, Secret: "s-" + uuid.NewString(), Status: "Active"}
	}
	k1, k2 := key(identity.KindIAMUser, "bob"), key(identity.KindIAMUser, "BOB")
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		k1.CreatedAt, k2.CreatedAt = tx.Now(), tx.Now()
		if err := tx.AddAccessKey(ctx, k1); err != nil {
			return err
		}
		if err := tx.AddAccessKey(ctx, k2); err != nil {
			return err
		}
		wantErr(t, "third key", tx.AddAccessKey(ctx, key(identity.KindIAMUser, "Bob")), store.ErrLimitExceeded)
		wantErr(t, "key of a missing user", tx.AddAccessKey(ctx, key(identity.KindIAMUser, "nobody")), store.ErrNotFound)
		// Root has two keys too.
		if err := tx.AddAccessKey(ctx, key(identity.KindRoot, "")); err != nil {
			return err
		}
		if err := tx.AddAccessKey(ctx, key(identity.KindRoot, "")); err != nil {
			return err
		}
		wantErr(t, "third root key", tx.AddAccessKey(ctx, key(identity.KindRoot, "")), store.ErrLimitExceeded)
		return nil
	})
	if k1.UserName != "Bob" || k2.UserName != "Bob" {
		t.Errorf("key user names = %q, %q; want the user's name as stored, Bob", k1.UserName, k2.UserName)
	}
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		keys, err := tx.AccessKeys(ctx, acct, identity.KindIAMUser, "Bob")
		if err != nil {
			return err
		}
		if len(keys) != 2 || keys[0].Secret != "" {
			t.Errorf("AccessKeys = %+v, want two without secrets", keys)
		}
		roots, err := tx.AccessKeys(ctx, acct, identity.KindRoot, "")
		if err != nil || len(roots) != 2 {
			t.Errorf("root AccessKeys = %v, %v; want two", roots, err)
		}
		return nil
	})
	wantInUse(t, "DeleteUser with access keys", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.DeleteUser(ctx, acct, "bob")
	}), store.DependentAccessKeys)
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.SetAccessKeyStatus(ctx, k1.ID, "Inactive") })
	if k, err := db.AccessKey(context.Background(), k1.ID); err != nil || k.Status != "Inactive" {
		t.Errorf("key after SetAccessKeyStatus = %+v, %v; want Inactive", k, err)
	}
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.DeleteAccessKey(ctx, k1.ID); err != nil {
			return err
		}
		wantErr(t, "DeleteAccessKey twice", tx.DeleteAccessKey(ctx, k1.ID), store.ErrNotFound)
		wantErr(t, "SetAccessKeyStatus(deleted)", tx.SetAccessKeyStatus(ctx, k1.ID, "Active"), store.ErrNotFound)
		return tx.DeleteAccessKey(ctx, k2.ID)
	})
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteUser(ctx, acct, "bob") })
}

func testIAMManagedPolicies(t *testing.T, db *store.DB) {
	acct := createAccount(t, db)
	// AWS managed policies exist in every database.
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		for _, arn := range []string{adminARN, readOnlyARN, "arn:aws:iam::aws:policy/service-role/AWSLicenseManagerConsumptionPolicy"} {
			p, err := tx.ManagedPolicy(ctx, acct, arn)
			if err != nil {
				return err
			}
			if p.AccountID != store.AWSAccount || p.DefaultVersion != "v1" || p.AttachmentCount != 0 {
				t.Errorf("ManagedPolicy(%s) = %+v", arn, p)
			}
			if _, err := tx.ManagedPolicyDocument(ctx, arn); err != nil {
				return err
			}
		}
		d, err := tx.ManagedPolicyDocument(ctx, adminARN)
		if err != nil || !strings.Contains(d, `"Action":"*"`) {
			t.Errorf("AdministratorAccess document = %q, %v", d, err)
		}
		return nil
	})
	p := newPolicy(acct, "Consumers")
	p.Description, p.Tags = "who consumes", []store.Tag{{Key: "a", Value: "b"}}
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		p.CreatedAt = tx.Now()
		if err := tx.CreateManagedPolicy(ctx, p, doc(1)); err != nil {
			return err
		}
		dup := newPolicy(acct, "CONSUMERS")
		dup.Path, dup.ARN = "/other/", store.PolicyARN(acct, "/other/", "CONSUMERS")
		wantErr(t, "CreateManagedPolicy(CONSUMERS)", tx.CreateManagedPolicy(ctx, dup, doc(1)), store.ErrConflict)
		return nil
	})
	if p.DefaultVersion != "v1" || !p.UpdatedAt.Equal(p.CreatedAt) {
		t.Errorf("created policy = %+v", p)
	}
	for _, n := range []string{"Bravo", "Delta"} {
		createPolicy(t, db, acct, n, doc(1))
	}
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		got, err := tx.ManagedPolicy(ctx, acct, p.ARN)
		if err != nil {
			return err
		}
		if got.Name != "Consumers" || got.Description != "who consumes" || !slices.Equal(got.Tags, p.Tags) || got.ID != p.ID {
			t.Errorf("ManagedPolicy = %+v", got)
		}
		local, err := tx.ManagedPolicies(ctx, acct, store.PolicyQuery{Scope: store.ScopeLocal})
		if err != nil {
			return err
		}
		if names := policyNames(local); !slices.Equal(names, []string{"Bravo", "Consumers", "Delta"}) {
			t.Errorf("local policies = %v", names)
		}
		aws, err := tx.ManagedPolicies(ctx, acct, store.PolicyQuery{Scope: store.ScopeAWS})
		if err != nil {
			return err
		}
		if len(aws) < 3 || !slices.Contains(policyNames(aws), "AdministratorAccess") || slices.Contains(policyNames(aws), "Consumers") {
			t.Errorf("AWS policies = %v", policyNames(aws))
		}
		// Paging through all, two at a time, sees each policy once.
		var seen []string
		q := store.PolicyQuery{Limit: 2}
		for range 100 {
			page, err := tx.ManagedPolicies(ctx, acct, q)
			if err != nil {
				return err
			}
			seen = append(seen, policyNames(page)...)
			if len(page) < 2 {
				break
			}
			last := page[len(page)-1]
			q.AfterName, q.AfterARN = strings.ToLower(last.Name), last.ARN
		}
		if len(seen) != len(local)+len(aws) {
			t.Errorf("paging saw %d policies, want %d: %v", len(seen), len(local)+len(aws), seen)
		}
		return nil
	})
	wantErr(t, "DeleteManagedPolicy(missing)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.DeleteManagedPolicy(ctx, store.PolicyARN(acct, "/", "missing"))
	}), store.ErrNotFound)
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteManagedPolicy(ctx, p.ARN) })
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.ManagedPolicy(ctx, acct, p.ARN)
		wantErr(t, "ManagedPolicy(deleted)", err, store.ErrNotFound)
		tags, err := tx.EntityTags(ctx, store.EntityPolicy, acct, p.ARN)
		wantErr(t, "EntityTags(deleted policy)", err, store.ErrNotFound)
		if len(tags) != 0 {
			t.Errorf("deleted policy has tags %v", tags)
		}
		return nil
	})
	// The name is free again.
	createPolicy(t, db, acct, "consumers", doc(2))
}

func policyNames(ps []*store.ManagedPolicy) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func testIAMPolicyVersions(t *testing.T, db *store.DB) {
	acct := createAccount(t, db)
	p := createPolicy(t, db, acct, "Versioned", doc(1))
	for i := 2; i <= store.MaxPolicyVersions; i++ {
		mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
			v, err := tx.CreatePolicyVersion(ctx, p.ARN, doc(i), i == 3)
			if err == nil && (v.VersionID != fmt.Sprint("v", i) || v.IsDefault != (i == 3)) {
				t.Errorf("CreatePolicyVersion #%d = %+v", i, v)
			}
			return err
		})
	}
	err := tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.CreatePolicyVersion(ctx, p.ARN, doc(6), true)
		return err
	})
	wantErr(t, "sixth version", err, store.ErrLimitExceeded)
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		vs, err := tx.PolicyVersions(ctx, p.ARN)
		if err != nil {
			return err
		}
		var ids []string
		for _, v := range vs {
			ids = append(ids, v.VersionID)
			if v.IsDefault != (v.VersionID == "v3") {
				t.Errorf("version %s IsDefault = %v", v.VersionID, v.IsDefault)
			}
		}
		if !slices.Equal(ids, []string{"v5", "v4", "v3", "v2", "v1"}) {
			t.Errorf("versions = %v, want v5 … v1", ids)
		}
		if d, err := tx.ManagedPolicyDocument(ctx, p.ARN); err != nil || d != doc(3) {
			t.Errorf("default document = %q, %v; want v3's", d, err)
		}
		got, err := tx.ManagedPolicy(ctx, acct, p.ARN)
		if err != nil {
			return err
		}
		if got.DefaultVersion != "v3" || got.UpdatedAt.Before(got.CreatedAt) {
			t.Errorf("policy = %+v, want default v3", got)
		}
		v, err := tx.PolicyVersion(ctx, p.ARN, "v2")
		if err != nil || v.Document != doc(2) || v.IsDefault {
			t.Errorf("PolicyVersion(v2) = %+v, %v", v, err)
		}
		_, err = tx.PolicyVersion(ctx, p.ARN, "v9")
		wantErr(t, "PolicyVersion(v9)", err, store.ErrNotFound)
		_, err = tx.PolicyVersion(ctx, p.ARN, "x1")
		wantErr(t, "PolicyVersion(x1)", err, store.ErrNotFound)
		return nil
	})
	wantInUse(t, "DeletePolicyVersion(default)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.DeletePolicyVersion(ctx, p.ARN, "v3")
	}), store.DependentDefaultVersion)
	wantInUse(t, "DeleteManagedPolicy with versions", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.DeleteManagedPolicy(ctx, p.ARN)
	}), store.DependentVersions)
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.DeletePolicyVersion(ctx, p.ARN, "v2"); err != nil {
			return err
		}
		wantErr(t, "DeletePolicyVersion twice", tx.DeletePolicyVersion(ctx, p.ARN, "v2"), store.ErrNotFound)
		wantErr(t, "SetDefaultPolicyVersion(v2 deleted)", tx.SetDefaultPolicyVersion(ctx, p.ARN, "v2"), store.ErrNotFound)
		// Version numbers are not reused.
		v, err := tx.CreatePolicyVersion(ctx, p.ARN, doc(6), false)
		if err != nil {
			return err
		}
		if v.VersionID != "v6" {
			t.Errorf("version after deleting v2 = %s, want v6", v.VersionID)
		}
		return tx.SetDefaultPolicyVersion(ctx, p.ARN, "v6")
	})
	if d, err := db.ManagedPolicyDocument(context.Background(), p.ARN); err != nil || d != doc(6) {
		t.Errorf("default document = %q, %v; want v6's", d, err)
	}
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		for _, v := range []string{"v1", "v3", "v4", "v5"} {
			if err := tx.DeletePolicyVersion(ctx, p.ARN, v); err != nil {
				return err
			}
		}
		return tx.DeleteManagedPolicy(ctx, p.ARN)
	})
	wantErr(t, "CreatePolicyVersion(deleted)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.CreatePolicyVersion(ctx, p.ARN, doc(1), false)
		return err
	}), store.ErrNotFound)
}

func testIAMAttachments(t *testing.T, db *store.DB) {
	acct, other := createAccount(t, db), createAccount(t, db)
	createUser(t, db, acct, "carol")
	createRole(t, db, acct, "worker")
	createUser(t, db, other, "dave")
	p := createPolicy(t, db, acct, "Shared", allowAll)
	counts := func(account, arn string) (int32, int32) {
		var mp *store.ManagedPolicy
		mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
			var err error
			mp, err = tx.ManagedPolicy(ctx, account, arn)
			return err
		})
		return mp.AttachmentCount, mp.BoundaryUsageCount
	}
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		for _, step := range []struct {
			t          store.EntityType
			acct, name string
			arn        string
		}{
			{store.EntityUser, acct, "Carol", p.ARN},
			{store.EntityUser, acct, "carol", p.ARN}, // again: nothing changes
			{store.EntityRole, acct, "WORKER", p.ARN},
			{store.EntityUser, acct, "carol", adminARN},
			{store.EntityUser, other, "dave", adminARN},
		} {
			if err := tx.AttachPolicy(ctx, step.t, step.acct, step.name, step.arn); err != nil {
				return err
			}
		}
		wantErr(t, "attach a missing policy", tx.AttachPolicy(ctx, store.EntityUser, acct, "carol", store.PolicyARN(acct, "/", "missing")), store.ErrNotFound)
		wantErr(t, "attach to a missing user", tx.AttachPolicy(ctx, store.EntityUser, acct, "nobody", p.ARN), store.ErrNotFound)
		return nil
	})
	if a, _ := counts(acct, p.ARN); a != 2 {
		t.Errorf("AttachmentCount of the customer policy = %d, want 2", a)
	}
	// An AWS managed policy's count is the viewing account's.
	if a, _ := counts(acct, adminARN); a != 1 {
		t.Errorf("AttachmentCount of AdministratorAccess in %s = %d, want 1", acct, a)
	}
	if a, _ := counts(other, adminARN); a != 1 {
		t.Errorf("AttachmentCount of AdministratorAccess in %s = %d, want 1", other, a)
	}
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		list, err := tx.AttachedPolicies(ctx, store.EntityUser, acct, "carol", store.ListQuery{})
		if err != nil {
			return err
		}
		want := []store.AttachedPolicy{{ARN: adminARN, Name: "AdministratorAccess"}, {ARN: p.ARN, Name: "Shared"}}
		if !slices.Equal(list, want) {
			t.Errorf("AttachedPolicies = %v, want %v", list, want)
		}
		page, err := tx.AttachedPolicies(ctx, store.EntityUser, acct, "carol", store.ListQuery{After: "administratoraccess", AfterARN: adminARN})
		if err != nil || len(page) != 1 || page[0].Name != "Shared" {
			t.Errorf("AttachedPolicies after AdministratorAccess = %v, %v", page, err)
		}
		attached, err := tx.ManagedPolicies(ctx, acct, store.PolicyQuery{OnlyAttached: true})
		if err != nil {
			return err
		}
		if names := policyNames(attached); !slices.Equal(names, []string{"AdministratorAccess", "Shared"}) {
			t.Errorf("attached policies = %v", names)
		}
		_, err = tx.AttachedPolicies(ctx, store.EntityRole, acct, "nobody", store.ListQuery{})
		wantErr(t, "AttachedPolicies(missing role)", err, store.ErrNotFound)
		return nil
	})
	wantInUse(t, "DeleteManagedPolicy while attached", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.DeleteManagedPolicy(ctx, p.ARN)
	}), store.DependentAttachments)
	wantInUse(t, "DeleteUser with attached policies", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.DeleteUser(ctx, acct, "carol")
	}), store.DependentAttachedPolicies)

	// At most MaxAttachedPolicies per user.
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		for i := 0; i < store.MaxAttachedPolicies-2; i++ {
			q := newPolicy(acct, fmt.Sprint("extra", i))
			q.CreatedAt = tx.Now()
			if err := tx.CreateManagedPolicy(ctx, q, allowAll); err != nil {
				return err
			}
			if err := tx.AttachPolicy(ctx, store.EntityUser, acct, "carol", q.ARN); err != nil {
				return err
			}
		}
		wantErr(t, "attach beyond the limit", tx.AttachPolicy(ctx, store.EntityUser, acct, "carol", readOnlyARN), store.ErrLimitExceeded)
		// Attaching one already attached is still fine.
		return tx.AttachPolicy(ctx, store.EntityUser, acct, "carol", p.ARN)
	})

	// Detach; detaching what is not attached is ErrNotFound.
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		for _, d := range []struct {
			t    store.EntityType
			name string
		}{{store.EntityUser, "carol"}, {store.EntityRole, "worker"}} {
			if err := tx.DetachPolicy(ctx, d.t, acct, d.name, p.ARN); err != nil {
				return err
			}
		}
		wantErr(t, "DetachPolicy twice", tx.DetachPolicy(ctx, store.EntityRole, acct, "worker", p.ARN), store.ErrNotFound)
		return nil
	})
	if a, _ := counts(acct, p.ARN); a != 0 {
		t.Errorf("AttachmentCount after detaching = %d, want 0", a)
	}

	// Permissions boundaries.
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.SetPermissionsBoundary(ctx, store.EntityRole, acct, "worker", p.ARN); err != nil {
			return err
		}
		wantErr(t, "boundary of a missing policy", tx.SetPermissionsBoundary(ctx, store.EntityUser, acct, "carol", store.PolicyARN(acct, "/", "missing")), store.ErrNotFound)
		wantErr(t, "boundary of a missing user", tx.SetPermissionsBoundary(ctx, store.EntityUser, acct, "nobody", p.ARN), store.ErrNotFound)
		return nil
	})
	if a, b := counts(acct, p.ARN); a != 0 || b != 1 {
		t.Errorf("counts with a boundary use = %d, %d; want 0, 1", a, b)
	}
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		r, err := tx.Role(ctx, acct, "worker")
		if err == nil && r.PermissionsBoundary != p.ARN {
			t.Errorf("role boundary = %q, want %q", r.PermissionsBoundary, p.ARN)
		}
		bs, err := tx.ManagedPolicies(ctx, acct, store.PolicyQuery{OnlyBoundaries: true})
		if err == nil && !slices.Equal(policyNames(bs), []string{"Shared"}) {
			t.Errorf("boundary policies = %v", policyNames(bs))
		}
		return err
	})
	wantInUse(t, "DeleteManagedPolicy used as a boundary", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.DeleteManagedPolicy(ctx, p.ARN)
	}), store.DependentBoundaryUses)
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.SetPermissionsBoundary(ctx, store.EntityRole, acct, "worker", ""); err != nil {
			return err
		}
		return tx.DeleteManagedPolicy(ctx, p.ARN)
	})
}

func testIAMInlinePolicies(t *testing.T, db *store.DB) {
	acct := createAccount(t, db)
	createUser(t, db, acct, "erin")
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		for i, name := range []string{"b", "A", "c"} {
			if err := tx.PutInlinePolicy(ctx, store.EntityUser, acct, "ERIN", name, doc(i)); err != nil {
				return err
			}
		}
		// Another case replaces the policy, name spelling included.
		if err := tx.PutInlinePolicy(ctx, store.EntityUser, acct, "erin", "a", doc(9)); err != nil {
			return err
		}
		wantErr(t, "PutInlinePolicy(missing user)", tx.PutInlinePolicy(ctx, store.EntityUser, acct, "nobody", "a", doc(1)), store.ErrNotFound)
		return nil
	})
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		p, err := tx.InlinePolicy(ctx, store.EntityUser, acct, "erin", "A")
		if err != nil {
			return err
		}
		if p.Name != "a" || p.Document != doc(9) {
			t.Errorf("InlinePolicy(A) = %+v", p)
		}
		list, err := tx.InlinePolicies(ctx, store.EntityUser, acct, "erin", store.ListQuery{})
		if err != nil {
			return err
		}
		var names []string
		for _, p := range list {
			names = append(names, p.Name)
		}
		if !slices.Equal(names, []string{"a", "b", "c"}) {
			t.Errorf("InlinePolicies = %v", names)
		}
		page, err := tx.InlinePolicies(ctx, store.EntityUser, acct, "erin", store.ListQuery{After: "a", Limit: 1})
		if err != nil || len(page) != 1 || page[0].Name != "b" {
			t.Errorf("InlinePolicies after a, limit 1 = %v, %v", page, err)
		}
		_, err = tx.InlinePolicy(ctx, store.EntityUser, acct, "erin", "z")
		wantErr(t, "InlinePolicy(z)", err, store.ErrNotFound)
		_, err = tx.InlinePolicies(ctx, store.EntityUser, acct, "nobody", store.ListQuery{})
		wantErr(t, "InlinePolicies(nobody)", err, store.ErrNotFound)
		return nil
	})
	wantInUse(t, "DeleteUser with inline policies", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.DeleteUser(ctx, acct, "erin")
	}), store.DependentInlinePolicies)
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		for _, n := range []string{"A", "B", "C"} {
			if err := tx.DeleteInlinePolicy(ctx, store.EntityUser, acct, "erin", n); err != nil {
				return err
			}
		}
		wantErr(t, "DeleteInlinePolicy twice", tx.DeleteInlinePolicy(ctx, store.EntityUser, acct, "erin", "a"), store.ErrNotFound)
		return tx.DeleteUser(ctx, acct, "erin")
	})
}

func testIAMPrincipalPolicies(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct := createAccount(t, db)
	createUser(t, db, acct, "frank")
	createRole(t, db, acct, "builder")
	managed := createPolicy(t, db, acct, "Managed", doc(1))
	boundary := createPolicy(t, db, acct, "Boundary", doc(50))
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.CreatePolicyVersion(ctx, managed.ARN, doc(2), true); err != nil {
			return err
		}
		if _, err := tx.CreatePolicyVersion(ctx, managed.ARN, doc(3), false); err != nil {
			return err
		}
		for _, e := range []struct {
			t    store.EntityType
			name string
		}{{store.EntityUser, "frank"}, {store.EntityRole, "builder"}} {
			if err := tx.PutInlinePolicy(ctx, e.t, acct, e.name, "Inline", doc(10)); err != nil {
				return err
			}
			if err := tx.AttachPolicy(ctx, e.t, acct, e.name, managed.ARN); err != nil {
				return err
			}
			if err := tx.AttachPolicy(ctx, e.t, acct, e.name, adminARN); err != nil {
				return err
			}
		}
		return tx.SetPermissionsBoundary(ctx, store.EntityUser, acct, "frank", boundary.ARN)
	})
	admin, err := db.ManagedPolicyDocument(ctx, adminARN)
	if err != nil {
		t.Fatal(err)
	}
	// Inline policies come first, then the attached ones (compared in ARN order).
	wantIdentity := []store.PolicyText{{Name: "Inline", Document: doc(10)}, {Name: managed.ARN, Document: doc(2)}, {Name: adminARN, Document: admin}}
	slices.SortFunc(wantIdentity[1:], func(a, b store.PolicyText) int { return strings.Compare(a.Name, b.Name) })
	sorted := func(ps []store.PolicyText) []store.PolicyText {
		ps = slices.Clone(ps)
		if len(ps) > 1 {
			slices.SortFunc(ps[1:], func(a, b store.PolicyText) int { return strings.Compare(a.Name, b.Name) })
		}
		return ps
	}

	up, err := db.UserPolicies(ctx, acct, "FRANK")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sorted(up.Identity), wantIdentity) {
		t.Errorf("UserPolicies.Identity = %v, want %v", up.Identity, wantIdentity)
	}
	if up.Boundary == nil || *up.Boundary != (store.PolicyText{Name: boundary.ARN, Document: doc(50)}) {
		t.Errorf("UserPolicies.Boundary = %v, want the boundary's default version", up.Boundary)
	}
	rp, err := db.RolePolicies(ctx, acct, "Builder")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sorted(rp.Identity), wantIdentity) || rp.Boundary != nil {
		t.Errorf("RolePolicies = %v, boundary %v; want %v and none", rp.Identity, rp.Boundary, wantIdentity)
	}
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		p, err := tx.UserPolicies(ctx, acct, "frank")
		if err == nil && len(p.Identity) != 3 {
			t.Errorf("tx.UserPolicies = %v", p)
		}
		return err
	})
	if _, err := db.UserPolicies(ctx, acct, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserPolicies(nobody) error = %v, want ErrNotFound", err)
	}
	if _, err := db.RolePolicies(ctx, acct, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RolePolicies(nobody) error = %v, want ErrNotFound", err)
	}
	// A principal without policies has an empty list.
	createUser(t, db, acct, "empty")
	if p, err := db.UserPolicies(ctx, acct, "empty"); err != nil || p.Identity == nil || len(p.Identity) != 0 || p.Boundary != nil {
		t.Errorf("UserPolicies(empty) = %+v, %v", p, err)
	}
}

// retryUpdate is tryUpdate, run again while PostgreSQL picks it as a deadlock victim.
func retryUpdate(db *store.DB, fn func(ctx context.Context, tx *store.Tx) error) error {
	for {
		err := tryUpdate(db, fn)
		if !store.Retryable(err) {
			return err
		}
	}
}

// testIAMConcurrentLimits checks that quotas hold under concurrent writers (several
// transactions at once on PostgreSQL, whose batches may deadlock and are then run again).
func testIAMConcurrentLimits(t *testing.T, db *store.DB) {
	acct := createAccount(t, db)
	p := createPolicy(t, db, acct, "Contended", doc(0))
	createUser(t, db, acct, "grace")
	var policies []string
	for i := range 2 * store.MaxAttachedPolicies {
		policies = append(policies, createPolicy(t, db, acct, fmt.Sprint("p", i), doc(i)).ARN)
	}
	var versions, attached, limited atomic.Int64
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			err := retryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
				_, err := tx.CreatePolicyVersion(ctx, p.ARN, doc(i), i%2 == 0)
				return err
			})
			switch {
			case err == nil:
				versions.Add(1)
			case errors.Is(err, store.ErrLimitExceeded):
				limited.Add(1)
			default:
				t.Errorf("CreatePolicyVersion: %v", err)
			}
		})
		wg.Go(func() {
			err := retryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
				return tx.AttachPolicy(ctx, store.EntityUser, acct, "grace", policies[i])
			})
			switch {
			case err == nil:
				attached.Add(1)
			case errors.Is(err, store.ErrLimitExceeded):
				limited.Add(1)
			default:
				t.Errorf("AttachPolicy: %v", err)
			}
		})
	}
	wg.Wait()
	if versions.Load() != store.MaxPolicyVersions-1 || attached.Load() != store.MaxAttachedPolicies {
		t.Errorf("%d versions created and %d policies attached; want %d and %d", versions.Load(), attached.Load(), store.MaxPolicyVersions-1, store.MaxAttachedPolicies)
	}
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		vs, err := tx.PolicyVersions(ctx, p.ARN)
		if err == nil && len(vs) != store.MaxPolicyVersions {
			t.Errorf("%d versions stored, want %d", len(vs), store.MaxPolicyVersions)
		}
		list, err2 := tx.AttachedPolicies(ctx, store.EntityUser, acct, "grace", store.ListQuery{})
		if err2 == nil && len(list) != store.MaxAttachedPolicies {
			t.Errorf("%d policies attached, want %d", len(list), store.MaxAttachedPolicies)
		}
		return errors.Join(err, err2)
	})
}
