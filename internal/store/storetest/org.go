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
	"time"

	"github.com/allot-dev/allot/internal/store"
)

// runOrganizations runs the Organizations storage cases.
func runOrganizations(t *testing.T, open func(t testing.TB) *store.DB) {
	t.Run("OrgCreate", func(t *testing.T) { testOrgCreate(t, open(t)) })
	t.Run("OrgAccounts", func(t *testing.T) { testOrgAccounts(t, open(t)) })
	t.Run("OrgUnits", func(t *testing.T) { testOrgUnits(t, open(t)) })
	t.Run("OrgPolicies", func(t *testing.T) { testOrgPolicies(t, open(t)) })
	t.Run("OrgContext", func(t *testing.T) { testOrgContext(t, open(t)) })
	t.Run("OrgServiceAccessAndTags", func(t *testing.T) { testOrgServiceAccessAndTags(t, open(t)) })
	t.Run("OrgCreateAccountRequests", func(t *testing.T) { testOrgCreateAccountRequests(t, open(t)) })
	t.Run("OrgConcurrentAttachments", func(t *testing.T) { testOrgConcurrentAttachments(t, open(t)) })
}

const (
	denyIAM  = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`
	allowLM  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"license-manager:*","Resource":"*"}]}`
	orgIDSep = "abcdefghij"
)

var orgSeq atomic.Int64

// newOrg returns a new organization managed by a new account, not stored.
func newOrg(t testing.TB, db *store.DB) *store.Organization {
	n := orgSeq.Add(1)
	return &store.Organization{
		ID: fmt.Sprintf("o-%s%06d", orgIDSep[:4], n), ManagementAccount: createAccount(t, db), FeatureSet: "ALL",
		RootID: fmt.Sprintf("r-%06d", n),
	}
}

// createOrg stores a new organization and returns it.
func createOrg(t testing.TB, db *store.DB) *store.Organization {
	t.Helper()
	o := newOrg(t, db)
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		o.CreatedAt = tx.Now()
		return tx.CreateOrganization(ctx, o)
	})
	return o
}

// addAccount creates a member account of an organization under parent.
func addAccount(t testing.TB, db *store.DB, o *store.Organization, parent string) string {
	t.Helper()
	a := &store.OrgAccount{ID: newAccountID(), OrgID: o.ID, ParentID: parent, Name: "member", Status: "ACTIVE", JoinedMethod: store.JoinedCreated}
	a.Email = "m" + a.ID + "@example.com"
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		a.JoinedAt = tx.Now()
		return tx.CreateOrgAccount(ctx, a)
	})
	return a.ID
}

func addOU(t testing.TB, db *store.DB, o *store.Organization, parent, name string) string {
	t.Helper()
	u := &store.OrganizationalUnit{ID: "ou-" + o.RootID[2:] + "-" + fmt.Sprintf("%08d", orgSeq.Add(1)), OrgID: o.ID, ParentID: parent, Name: name}
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		u.CreatedAt = tx.Now()
		return tx.CreateOrganizationalUnit(ctx, u)
	})
	return u.ID
}

func addOrgPolicy(t testing.TB, db *store.DB, o *store.Organization, name, content string) string {
	t.Helper()
	p := &store.OrgPolicy{ID: fmt.Sprintf("p-%08d", orgSeq.Add(1)), OrgID: o.ID, Type: store.PolicyTypeSCP, Name: name, Content: content}
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		p.CreatedAt = tx.Now()
		return tx.CreateOrgPolicy(ctx, p)
	})
	return p.ID
}

func testOrgCreate(t *testing.T, db *store.DB) {
	o := newOrg(t, db)
	outsider := createAccount(t, db)
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		o.CreatedAt = tx.Now()
		if err := tx.CreateOrganization(ctx, o); err != nil {
			return err
		}
		// The management account cannot found a second one: a conflict that leaves the
		// transaction usable.
		again := *o
		again.ID, again.RootID = "o-zzzzzzzzzz", "r-zzzz"
		wantErr(t, "CreateOrganization(again)", tx.CreateOrganization(ctx, &again), store.ErrConflict)
		// Nor can another account take its ID.
		dup := *o
		dup.ManagementAccount = outsider
		wantErr(t, "CreateOrganization(same ID)", tx.CreateOrganization(ctx, &dup), store.ErrConflict)
		locked, err := tx.LockOrganization(ctx, o.ManagementAccount)
		if err != nil || locked.ID != o.ID {
			t.Errorf("LockOrganization = %+v, %v", locked, err)
		}
		_, err = tx.LockOrganization(ctx, outsider)
		wantErr(t, "LockOrganization(outsider)", err, store.ErrNotFound)
		return nil
	})
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		got, err := tx.Organization(ctx, o.ManagementAccount)
		if err != nil {
			return err
		}
		if got.ID != o.ID || got.RootID != o.RootID || got.FeatureSet != "ALL" || got.ManagementAccount != o.ManagementAccount ||
			!got.CreatedAt.Equal(o.CreatedAt) || len(got.PolicyTypes) != 0 || got.SCPsEnabled() {
			t.Errorf("Organization = %+v, want %+v", got, o)
		}
		_, err = tx.Organization(ctx, outsider)
		wantErr(t, "Organization(outsider)", err, store.ErrNotFound)
		// The management account is a member, joined when the organization was created.
		m, err := tx.OrgAccount(ctx, o.ID, o.ManagementAccount)
		if err != nil {
			return err
		}
		if m.ParentID != o.RootID || m.JoinedMethod != store.JoinedInvited || !m.JoinedAt.Equal(o.CreatedAt) || m.Status != "ACTIVE" {
			t.Errorf("management account as a member = %+v", m)
		}
		return nil
	})
	// Outside any organization: a zero context, not an error.
	for _, acct := range []string{outsider, "999999999999"} {
		oc, err := db.OrgContext(context.Background(), acct)
		if err != nil || oc == nil || oc.OrgID != "" || oc.ManagementAccount != "" || oc.SCPsEnabled || oc.Levels != nil || oc.Path != "" {
			t.Errorf("OrgContext(%s) = %+v, %v; want a zero context", acct, oc, err)
		}
	}

	t.Run("Delete", func(t *testing.T) {
		o := createOrg(t, db)
		member := addAccount(t, db, o, o.RootID)
		addOrgPolicy(t, db, o, "p", denyIAM)
		wantInUse(t, "DeleteOrganization with a member", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
			return tx.DeleteOrganization(ctx, o.ID)
		}), store.DependentMembers)
		// A second organization without members goes, with its policies.
		lone := createOrg(t, db)
		addOU(t, db, lone, lone.RootID, "empty")
		addOrgPolicy(t, db, lone, "p", denyIAM)
		mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteOrganization(ctx, lone.ID) })
		mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Organization(ctx, lone.ManagementAccount)
			wantErr(t, "Organization after delete", err, store.ErrNotFound)
			if _, err := tx.Organization(ctx, member); err != nil {
				t.Errorf("the other organization: %v", err)
			}
			return nil
		})
		wantErr(t, "DeleteOrganization(again)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
			return tx.DeleteOrganization(ctx, lone.ID)
		}), store.ErrNotFound)
		// Its management account may found another.
		again := *lone
		again.ID, again.RootID = lone.ID[:len(lone.ID)-1]+"x", lone.RootID+"x"
		mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.CreateOrganization(ctx, &again) })
	})
}

func testOrgAccounts(t *testing.T, db *store.DB) {
	o := createOrg(t, db)
	other := createOrg(t, db)
	ou := addOU(t, db, o, o.RootID, "prod")
	a := &store.OrgAccount{ID: newAccountID(), OrgID: o.ID, ParentID: o.RootID, Name: "dev", Email: "Dev@Example.com",
		Status: "ACTIVE", JoinedMethod: store.JoinedCreated}
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		a.JoinedAt = tx.Now()
		if err := tx.CreateOrgAccount(ctx, a); err != nil {
			return err
		}
		// The email address in another case, or the ID again: conflicts that leave the
		// transaction usable.
		dup := *a
		dup.ID, dup.Email = newAccountID(), "dev@EXAMPLE.com"
		wantErr(t, "CreateOrgAccount(same email)", tx.CreateOrgAccount(ctx, &dup), store.ErrConflict)
		dup.Email = "other@example.com"
		dup.ID = a.ID
		wantErr(t, "CreateOrgAccount(same ID)", tx.CreateOrgAccount(ctx, &dup), store.ErrConflict)
		used, err := tx.EmailInUse(ctx, "DEV@example.COM")
		if err != nil || !used {
			t.Errorf("EmailInUse(DEV@example.COM) = %v, %v", used, err)
		}
		return nil
	})
	b := addAccount(t, db, o, ou)
	c := addAccount(t, db, o, o.RootID)
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		got, err := tx.OrgAccount(ctx, o.ID, a.ID)
		if err != nil {
			return err
		}
		if *got != *a {
			t.Errorf("OrgAccount = %+v, want %+v", *got, *a)
		}
		acct, err := tx.Account(ctx, a.ID)
		if err != nil || acct.Name != "dev" || acct.Email != a.Email {
			t.Errorf("Account(%s) = %+v, %v", a.ID, acct, err)
		}
		_, err = tx.OrgAccount(ctx, other.ID, a.ID)
		wantErr(t, "OrgAccount(other organization)", err, store.ErrNotFound)
		if org, err := tx.Organization(ctx, b); err != nil || org.ID != o.ID {
			t.Errorf("Organization(member) = %+v, %v", org, err)
		}

		all, err := tx.OrgAccounts(ctx, o.ID, store.OrgQuery{})
		if err != nil {
			return err
		}
		want := []string{o.ManagementAccount, a.ID, b, c}
		slices.Sort(want)
		if ids := orgAccountIDs(all); !slices.Equal(ids, want) {
			t.Errorf("OrgAccounts = %v, want %v", ids, want)
		}
		page, err := tx.OrgAccounts(ctx, o.ID, store.OrgQuery{After: want[0], Limit: 2})
		if err != nil {
			return err
		}
		if ids := orgAccountIDs(page); !slices.Equal(ids, want[1:3]) {
			t.Errorf("OrgAccounts after %s, limit 2 = %v, want %v", want[0], ids, want[1:3])
		}
		under, err := tx.OrgAccounts(ctx, o.ID, store.OrgQuery{ParentID: ou})
		if err != nil {
			return err
		}
		if ids := orgAccountIDs(under); !slices.Equal(ids, []string{b}) {
			t.Errorf("OrgAccounts under %s = %v, want [%s]", ou, ids, b)
		}
		return nil
	})

	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.MoveOrgAccount(ctx, o.ID, c, o.RootID, ou) })
	wantErr(t, "MoveOrgAccount(wrong source)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.MoveOrgAccount(ctx, o.ID, c, o.RootID, ou)
	}), store.ErrNotFound)
	wantErr(t, "MoveOrgAccount(unknown destination)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.MoveOrgAccount(ctx, o.ID, c, ou, "ou-0000-00000000")
	}), store.ErrNotFound)
	wantErr(t, "MoveOrgAccount(another organization's root)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.MoveOrgAccount(ctx, o.ID, c, ou, other.RootID)
	}), store.ErrNotFound)
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		got, err := tx.OrgAccount(ctx, o.ID, c)
		if err == nil && got.ParentID != ou {
			t.Errorf("parent after MoveOrgAccount = %s, want %s", got.ParentID, ou)
		}
		return err
	})
}

func orgAccountIDs(as []*store.OrgAccount) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func testOrgUnits(t *testing.T, db *store.DB) {
	o := createOrg(t, db)
	// A chain MaxOUDepth deep.
	parent := o.RootID
	var chain []string
	for i := range store.MaxOUDepth {
		parent = addOU(t, db, o, parent, fmt.Sprint("level", i))
		chain = append(chain, parent)
	}
	deep := &store.OrganizationalUnit{ID: "ou-" + o.RootID[2:] + "-deeper00", OrgID: o.ID, ParentID: parent, Name: "too deep"}
	wantErr(t, "CreateOrganizationalUnit(too deep)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		deep.CreatedAt = tx.Now()
		return tx.CreateOrganizationalUnit(ctx, deep)
	}), store.ErrLimitExceeded)
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		got, err := tx.OUChain(ctx, o.ID, parent)
		if err != nil || !slices.Equal(got, chain) {
			t.Errorf("OUChain(%s) = %v, %v; want %v", parent, got, err, chain)
		}
		if got, err := tx.OUChain(ctx, o.ID, o.RootID); err != nil || len(got) != 0 {
			t.Errorf("OUChain(root) = %v, %v; want none", got, err)
		}
		_, err = tx.OUChain(ctx, o.ID, "ou-0000-00000000")
		wantErr(t, "OUChain(unknown)", err, store.ErrNotFound)
		return nil
	})

	prod := addOU(t, db, o, o.RootID, "prod")
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		// Names are unique among siblings only.
		dup := &store.OrganizationalUnit{ID: "ou-" + o.RootID[2:] + "-dup00000", OrgID: o.ID, ParentID: o.RootID, Name: "prod", CreatedAt: tx.Now()}
		wantErr(t, "CreateOrganizationalUnit(same name)", tx.CreateOrganizationalUnit(ctx, dup), store.ErrConflict)
		orphan := &store.OrganizationalUnit{ID: "ou-" + o.RootID[2:] + "-orphan00", OrgID: o.ID, ParentID: "ou-0000-00000000", Name: "x", CreatedAt: tx.Now()}
		wantErr(t, "CreateOrganizationalUnit(unknown parent)", tx.CreateOrganizationalUnit(ctx, orphan), store.ErrNotFound)
		dup.ParentID = prod
		return tx.CreateOrganizationalUnit(ctx, dup)
	})
	addOU(t, db, o, o.RootID, "test")
	wantErr(t, "RenameOrganizationalUnit(to a sibling's name)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.RenameOrganizationalUnit(ctx, o.ID, prod, "test")
	}), store.ErrConflict)
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		return tx.RenameOrganizationalUnit(ctx, o.ID, prod, "production")
	})
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		u, err := tx.OrganizationalUnit(ctx, o.ID, prod)
		if err == nil && (u.Name != "production" || u.ParentID != o.RootID) {
			t.Errorf("OU after rename = %+v", u)
		}
		top, err2 := tx.OrganizationalUnits(ctx, o.ID, store.OrgQuery{ParentID: o.RootID})
		if err2 == nil && len(top) != 3 {
			t.Errorf("%d OUs under the root, want 3 (level0, production, test)", len(top))
		}
		return errors.Join(err, err2)
	})
	wantInUse(t, "DeleteOrganizationalUnit(with a child OU)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.DeleteOrganizationalUnit(ctx, o.ID, prod)
	}), store.DependentChildren)
	acct := addAccount(t, db, o, chain[len(chain)-1])
	wantInUse(t, "DeleteOrganizationalUnit(with an account)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.DeleteOrganizationalUnit(ctx, o.ID, chain[len(chain)-1])
	}), store.DependentChildren)
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.MoveOrgAccount(ctx, o.ID, acct, chain[len(chain)-1], o.RootID); err != nil {
			return err
		}
		if err := tx.PutOrgTags(ctx, chain[len(chain)-1], []store.Tag{{Key: "k", Value: "v"}}); err != nil {
			return err
		}
		return tx.DeleteOrganizationalUnit(ctx, o.ID, chain[len(chain)-1])
	})
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.OrganizationalUnit(ctx, o.ID, chain[len(chain)-1])
		wantErr(t, "OrganizationalUnit(deleted)", err, store.ErrNotFound)
		tags, err := tx.OrgTags(ctx, chain[len(chain)-1])
		if err != nil || len(tags) != 0 {
			t.Errorf("tags of a deleted OU = %v, %v", tags, err)
		}
		return nil
	})
}

func testOrgPolicies(t *testing.T, db *store.DB) {
	o := createOrg(t, db)
	other := createOrg(t, db)
	acct := addAccount(t, db, o, o.RootID)
	deny := addOrgPolicy(t, db, o, "DenyIAM", denyIAM)
	addOrgPolicy(t, db, other, "DenyIAM", denyIAM) // names are per organization
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		for _, name := range []string{"DenyIAM", "FullAWSAccess"} {
			p := &store.OrgPolicy{ID: fmt.Sprintf("p-%08d", orgSeq.Add(1)), OrgID: o.ID, Type: store.PolicyTypeSCP, Name: name, Content: allowLM, CreatedAt: tx.Now()}
			wantErr(t, "CreateOrgPolicy("+name+")", tx.CreateOrgPolicy(ctx, p), store.ErrConflict)
		}
		return nil
	})
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		p, err := tx.OrgPolicy(ctx, o.ID, deny)
		if err != nil {
			return err
		}
		if p.Name != "DenyIAM" || p.Content != denyIAM || p.Type != store.PolicyTypeSCP || p.AWSManaged() {
			t.Errorf("OrgPolicy = %+v", p)
		}
		full, err := tx.OrgPolicy(ctx, o.ID, store.FullAWSAccessID)
		if err != nil {
			return err
		}
		if !full.AWSManaged() || full.Name != "FullAWSAccess" || !strings.Contains(full.Content, `"Action": "*"`) {
			t.Errorf("FullAWSAccess = %+v", full)
		}
		_, err = tx.OrgPolicy(ctx, other.ID, deny)
		wantErr(t, "OrgPolicy(another organization's)", err, store.ErrNotFound)
		all, err := tx.OrgPolicies(ctx, o.ID, store.PolicyTypeSCP, store.OrgQuery{})
		if err != nil {
			return err
		}
		if ids := orgPolicyIDs(all); !slices.Equal(ids, sorted(store.FullAWSAccessID, deny)) {
			t.Errorf("OrgPolicies = %v", ids)
		}
		return nil
	})
	want := "arn:aws:organizations::" + o.ManagementAccount + ":policy/" + o.ID + "/service_control_policy/" + deny
	if got := store.OrgPolicyARN(o.ManagementAccount, o.ID, store.PolicyTypeSCP, deny, false); got != want {
		t.Errorf("OrgPolicyARN = %s, want %s", got, want)
	}
	if got := store.OrgPolicyARN(o.ManagementAccount, o.ID, store.PolicyTypeSCP, store.FullAWSAccessID, true); got != "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess" {
		t.Errorf("OrgPolicyARN(FullAWSAccess) = %s", got)
	}

	// Enabling SCPs, then FullAWSAccess everywhere.
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.EnablePolicyType(ctx, o.ID, store.PolicyTypeSCP); err != nil {
			return err
		}
		wantErr(t, "EnablePolicyType(again)", tx.EnablePolicyType(ctx, o.ID, store.PolicyTypeSCP), store.ErrConflict)
		if err := tx.AttachOrgPolicyEverywhere(ctx, o.ID, store.FullAWSAccessID); err != nil {
			return err
		}
		return tx.AttachOrgPolicyEverywhere(ctx, o.ID, store.FullAWSAccessID) // twice is harmless
	})
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		targets, err := tx.OrgPolicyTargets(ctx, o.ID, store.FullAWSAccessID, store.OrgQuery{})
		if err != nil {
			return err
		}
		want := []string{o.ManagementAccount, acct, o.RootID}
		slices.Sort(want)
		if !slices.Equal(targets, want) {
			t.Errorf("FullAWSAccess attached to %v, want %v", targets, want)
		}
		if others, err := tx.OrgPolicyTargets(ctx, other.ID, store.FullAWSAccessID, store.OrgQuery{}); err != nil || len(others) != 0 {
			t.Errorf("FullAWSAccess attached in the other organization to %v, %v", others, err)
		}
		org, err := tx.Organization(ctx, acct)
		if err == nil && !org.SCPsEnabled() {
			t.Errorf("SCPs not enabled: %+v", org)
		}
		return err
	})

	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		wantErr(t, "DetachOrgPolicy(last SCP)", tx.DetachOrgPolicy(ctx, o.ID, store.FullAWSAccessID, acct), store.ErrLastPolicy)
		wantErr(t, "DetachOrgPolicy(not attached)", tx.DetachOrgPolicy(ctx, o.ID, deny, acct), store.ErrNotFound)
		if err := tx.AttachOrgPolicy(ctx, o.ID, deny, acct); err != nil {
			return err
		}
		wantErr(t, "AttachOrgPolicy(again)", tx.AttachOrgPolicy(ctx, o.ID, deny, acct), store.ErrConflict)
		wantErr(t, "AttachOrgPolicy(unknown)", tx.AttachOrgPolicy(ctx, o.ID, "p-unknown0", acct), store.ErrNotFound)
		return nil
	})
	wantInUse(t, "DeleteOrgPolicy(attached)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.DeleteOrgPolicy(ctx, o.ID, deny)
	}), store.DependentTargets)
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		pols, err := tx.OrgPoliciesForTarget(ctx, o.ID, acct, store.PolicyTypeSCP, store.OrgQuery{})
		if ids := orgPolicyIDs(pols); err == nil && !slices.Equal(ids, sorted(store.FullAWSAccessID, deny)) {
			t.Errorf("OrgPoliciesForTarget = %v", ids)
		}
		return err
	})
	// With two, one may go.
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		return tx.DetachOrgPolicy(ctx, o.ID, store.FullAWSAccessID, acct)
	})

	// Five per target.
	for i := range store.MaxOrgPoliciesPerTarget - 1 {
		id := addOrgPolicy(t, db, o, fmt.Sprint("extra", i), allowLM)
		mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.AttachOrgPolicy(ctx, o.ID, id, acct) })
	}
	sixth := addOrgPolicy(t, db, o, "sixth", allowLM)
	wantErr(t, "AttachOrgPolicy(sixth)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.AttachOrgPolicy(ctx, o.ID, sixth, acct)
	}), store.ErrLimitExceeded)
	wantErr(t, "AttachOrgPolicy(attached, at the limit)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.AttachOrgPolicy(ctx, o.ID, deny, acct)
	}), store.ErrConflict)

	// Update, and names stay unique.
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		p, err := tx.OrgPolicy(ctx, o.ID, sixth)
		if err != nil {
			return err
		}
		p.Name = "DenyIAM"
		wantErr(t, "UpdateOrgPolicy(taken name)", tx.UpdateOrgPolicy(ctx, p), store.ErrConflict)
		p.Name, p.Description, p.Content = "renamed", "now denying", denyIAM
		return tx.UpdateOrgPolicy(ctx, p)
	})
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		p, err := tx.OrgPolicy(ctx, o.ID, sixth)
		if err == nil && (p.Name != "renamed" || p.Description != "now denying" || p.Content != denyIAM) {
			t.Errorf("policy after update = %+v", p)
		}
		return err
	})
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteOrgPolicy(ctx, o.ID, sixth) })
	wantErr(t, "DeleteOrgPolicy(deleted)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.DeleteOrgPolicy(ctx, o.ID, sixth)
	}), store.ErrNotFound)

	// Disabling SCPs detaches them all; disabling again finds nothing.
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		return tx.DisablePolicyType(ctx, o.ID, store.PolicyTypeSCP)
	})
	wantErr(t, "DisablePolicyType(again)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.DisablePolicyType(ctx, o.ID, store.PolicyTypeSCP)
	}), store.ErrNotFound)
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		pols, err := tx.OrgPoliciesForTarget(ctx, o.ID, acct, store.PolicyTypeSCP, store.OrgQuery{})
		if err == nil && len(pols) != 0 {
			t.Errorf("%d SCPs still attached after DisablePolicyType", len(pols))
		}
		return err
	})
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.DeleteOrgPolicy(ctx, o.ID, deny) })
}

// sorted returns its arguments in order, as the store orders IDs.
func sorted(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

func orgPolicyIDs(ps []*store.OrgPolicy) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

// testOrgContext checks the SCP levels and path of accounts at several depths.
func testOrgContext(t *testing.T, db *store.DB) {
	ctx := context.Background()
	o := createOrg(t, db)
	ou1 := addOU(t, db, o, o.RootID, "workloads")
	ou2 := addOU(t, db, o, ou1, "prod")
	deep := addAccount(t, db, o, ou2)
	top := addAccount(t, db, o, o.RootID)

	// SCPs not enabled: a path and no levels.
	oc, err := db.OrgContext(ctx, deep)
	if err != nil {
		t.Fatal(err)
	}
	wantPath := o.ID + "/" + o.RootID + "/" + ou1 + "/" + ou2 + "/"
	if oc.OrgID != o.ID || oc.ManagementAccount != o.ManagementAccount || oc.SCPsEnabled || oc.Levels != nil || oc.Path != wantPath {
		t.Errorf("OrgContext without SCPs = %+v, want path %s and no levels", oc, wantPath)
	}

	deny := addOrgPolicy(t, db, o, "DenyIAM", denyIAM)
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.EnablePolicyType(ctx, o.ID, store.PolicyTypeSCP); err != nil {
			return err
		}
		if err := tx.AttachOrgPolicyEverywhere(ctx, o.ID, store.FullAWSAccessID); err != nil {
			return err
		}
		return tx.AttachOrgPolicy(ctx, o.ID, deny, ou2)
	})
	fullARN := "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"
	denyARN := store.OrgPolicyARN(o.ManagementAccount, o.ID, store.PolicyTypeSCP, deny, false)
	full := store.PolicyText{Name: fullARN}
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		p, err := tx.OrgPolicy(ctx, o.ID, store.FullAWSAccessID)
		full.Document = p.Content
		return err
	})
	denyText := store.PolicyText{Name: denyARN, Document: denyIAM}

	oc, err = db.OrgContext(ctx, deep)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]store.PolicyText{{full}, {full}, {denyText, full}, {full}}
	if deny > store.FullAWSAccessID {
		want[2] = []store.PolicyText{full, denyText}
	}
	if !oc.SCPsEnabled || oc.Path != wantPath || !equalLevels(oc.Levels, want) {
		t.Errorf("OrgContext(deep) = %+v\nwant levels %+v", oc, want)
	}
	oc, err = db.OrgContext(ctx, top)
	if err != nil {
		t.Fatal(err)
	}
	if !oc.SCPsEnabled || oc.Path != o.ID+"/"+o.RootID+"/" || !equalLevels(oc.Levels, [][]store.PolicyText{{full}, {full}}) {
		t.Errorf("OrgContext(top) = %+v", oc)
	}
	oc, err = db.OrgContext(ctx, o.ManagementAccount)
	if err != nil || oc.ManagementAccount != o.ManagementAccount || len(oc.Levels) != 2 {
		t.Errorf("OrgContext(management) = %+v, %v", oc, err)
	}

	// After re-enabling without attaching, every level is empty (and would deny), not nil.
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.DisablePolicyType(ctx, o.ID, store.PolicyTypeSCP); err != nil {
			return err
		}
		return tx.EnablePolicyType(ctx, o.ID, store.PolicyTypeSCP)
	})
	oc, err = db.OrgContext(ctx, deep)
	if err != nil {
		t.Fatal(err)
	}
	if len(oc.Levels) != 4 {
		t.Fatalf("OrgContext levels = %+v, want 4 empty levels", oc.Levels)
	}
	for i, l := range oc.Levels {
		if l == nil || len(l) != 0 {
			t.Errorf("level %d = %#v, want an empty, non-nil slice", i, l)
		}
	}
	// Inside a transaction too.
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		oc, err := tx.OrgContext(ctx, top)
		if err == nil && (oc.OrgID != o.ID || len(oc.Levels) != 2) {
			t.Errorf("Tx.OrgContext(top) = %+v", oc)
		}
		return err
	})
}

func equalLevels(a, b [][]store.PolicyText) bool {
	return slices.EqualFunc(a, b, func(x, y []store.PolicyText) bool { return slices.Equal(x, y) })
}

func testOrgServiceAccessAndTags(t *testing.T, db *store.DB) {
	o := createOrg(t, db)
	member := addAccount(t, db, o, o.RootID)
	outsider := createAccount(t, db)
	const lm = "license-manager.amazonaws.com"
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		if added, err := tx.EnableServiceAccess(ctx, o.ID, lm); err != nil || !added {
			t.Errorf("EnableServiceAccess = %v, %v; want added", added, err)
		}
		if added, err := tx.EnableServiceAccess(ctx, o.ID, lm); err != nil || added {
			t.Errorf("EnableServiceAccess(again) = %v, %v; want not added", added, err)
		}
		_, err := tx.EnableServiceAccess(ctx, o.ID, "ram.amazonaws.com")
		return err
	})
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		for acct, want := range map[string]string{member: o.ID, o.ManagementAccount: o.ID, outsider: ""} {
			if got, err := tx.ServiceAccessEnabled(ctx, acct, lm); err != nil || got != want {
				t.Errorf("ServiceAccessEnabled(%s) = %q, %v; want %q", acct, got, err, want)
			}
		}
		if got, err := tx.ServiceAccessEnabled(ctx, member, "sso.amazonaws.com"); err != nil || got != "" {
			t.Errorf("ServiceAccessEnabled(sso) = %q, %v", got, err)
		}
		all, err := tx.ServiceAccess(ctx, o.ID, store.OrgQuery{})
		if err != nil {
			return err
		}
		if len(all) != 2 || all[0].Principal != lm || all[1].Principal != "ram.amazonaws.com" || all[0].EnabledAt.IsZero() {
			t.Errorf("ServiceAccess = %+v", all)
		}
		page, err := tx.ServiceAccess(ctx, o.ID, store.OrgQuery{After: lm, Limit: 5})
		if err == nil && (len(page) != 1 || page[0].Principal != "ram.amazonaws.com") {
			t.Errorf("ServiceAccess after %s = %+v", lm, page)
		}
		return err
	})
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error { return tx.DisableServiceAccess(ctx, o.ID, lm) })
	wantErr(t, "DisableServiceAccess(again)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.DisableServiceAccess(ctx, o.ID, lm)
	}), store.ErrNotFound)
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		got, err := tx.ServiceAccessEnabled(ctx, member, lm)
		if err == nil && got != "" {
			t.Errorf("ServiceAccessEnabled after disabling = %q", got)
		}
		return err
	})

	// Tags: case-sensitive keys, replaced values, added order, a limit.
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.PutOrgTags(ctx, member, []store.Tag{{Key: "team", Value: "a"}, {Key: "Team", Value: "b"}}); err != nil {
			return err
		}
		return tx.PutOrgTags(ctx, member, []store.Tag{{Key: "team", Value: "c"}, {Key: "cost", Value: ""}})
	})
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		tags, err := tx.OrgTags(ctx, member)
		want := []store.Tag{{Key: "team", Value: "c"}, {Key: "Team", Value: "b"}, {Key: "cost", Value: ""}}
		if err == nil && !slices.Equal(tags, want) {
			t.Errorf("OrgTags = %v, want %v", tags, want)
		}
		return err
	})
	many := make([]store.Tag, store.MaxOrgTags-2)
	for i := range many {
		many[i] = store.Tag{Key: fmt.Sprint("k", i)}
	}
	wantErr(t, "PutOrgTags(over the limit)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.PutOrgTags(ctx, member, many)
	}), store.ErrLimitExceeded)
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		return tx.DeleteOrgTags(ctx, member, []string{"Team", "missing"})
	})
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		tags, err := tx.OrgTags(ctx, member)
		if err == nil && len(tags) != 2 {
			t.Errorf("OrgTags after delete = %v", tags)
		}
		return err
	})

	// Deletion tasks of service-linked roles.
	task := &store.SLRDeletionTask{ID: "task/aws-service-role/" + lm + "/AWSServiceRoleForAWSLicenseManagerRole/1", AccountID: member,
		RoleName: "AWSServiceRoleForAWSLicenseManagerRole", Status: "FAILED", Reason: "in use", Resources: []string{"arn:x"}}
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		task.CreatedAt = tx.Now()
		if err := tx.CreateSLRDeletionTask(ctx, task); err != nil {
			return err
		}
		wantErr(t, "CreateSLRDeletionTask(again)", tx.CreateSLRDeletionTask(ctx, task), store.ErrConflict)
		ok := &store.SLRDeletionTask{ID: task.ID + "0", AccountID: member, RoleName: "r", Status: "SUCCEEDED", CreatedAt: tx.Now()}
		return tx.CreateSLRDeletionTask(ctx, ok)
	})
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		got, err := tx.SLRDeletionTask(ctx, member, task.ID)
		if err != nil {
			return err
		}
		if got.Status != "FAILED" || got.Reason != "in use" || !slices.Equal(got.Resources, task.Resources) || !got.CreatedAt.Equal(task.CreatedAt) {
			t.Errorf("SLRDeletionTask = %+v, want %+v", got, task)
		}
		ok, err := tx.SLRDeletionTask(ctx, member, task.ID+"0")
		if err == nil && (ok.Status != "SUCCEEDED" || len(ok.Resources) != 0) {
			t.Errorf("SLRDeletionTask(succeeded) = %+v", ok)
		}
		_, err = tx.SLRDeletionTask(ctx, outsider, task.ID)
		wantErr(t, "SLRDeletionTask(another account's)", err, store.ErrNotFound)
		return nil
	})
	wantErr(t, "CreateSLRDeletionTask(failed without a reason)", tryUpdate(db, func(ctx context.Context, tx *store.Tx) error {
		return tx.CreateSLRDeletionTask(ctx, &store.SLRDeletionTask{ID: "t2", AccountID: member, RoleName: "r", Status: "FAILED", CreatedAt: tx.Now()})
	}), store.ErrConstraint)
}

func testOrgCreateAccountRequests(t *testing.T, db *store.DB) {
	o := createOrg(t, db)
	other := createOrg(t, db)
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	reqs := []*store.CreateAccountRequest{
		{ID: "car-aaaaaaaa", OrgID: o.ID, AccountName: "a", State: "IN_PROGRESS", RequestedAt: base},
		{ID: "car-cccccccc", OrgID: o.ID, AccountName: "c", State: "FAILED", FailureReason: "EMAIL_ALREADY_EXISTS", RequestedAt: base, CompletedAt: base},
		{ID: "car-bbbbbbbb", OrgID: o.ID, AccountName: "b", State: "SUCCEEDED", AccountID: o.ManagementAccount, RequestedAt: base.Add(time.Second), CompletedAt: base.Add(2 * time.Second)},
		{ID: "car-dddddddd", OrgID: other.ID, AccountName: "d", State: "IN_PROGRESS", RequestedAt: base},
	}
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		for _, r := range reqs {
			if err := tx.PutCreateAccountRequest(ctx, r); err != nil {
				return err
			}
		}
		// The first one completes.
		reqs[0].State, reqs[0].AccountID, reqs[0].CompletedAt = "SUCCEEDED", o.ManagementAccount, base.Add(time.Minute)
		return tx.PutCreateAccountRequest(ctx, reqs[0])
	})
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		got, err := tx.CreateAccountRequest(ctx, o.ID, "car-aaaaaaaa")
		if err != nil {
			return err
		}
		if *got != *reqs[0] {
			t.Errorf("CreateAccountRequest = %+v, want %+v", got, reqs[0])
		}
		_, err = tx.CreateAccountRequest(ctx, o.ID, "car-dddddddd")
		wantErr(t, "CreateAccountRequest(another organization's)", err, store.ErrNotFound)
		all, err := tx.CreateAccountRequests(ctx, o.ID, store.CreateAccountRequestQuery{})
		if err != nil {
			return err
		}
		if ids := carIDs(all); !slices.Equal(ids, []string{"car-aaaaaaaa", "car-cccccccc", "car-bbbbbbbb"}) {
			t.Errorf("CreateAccountRequests = %v, want in request order", ids)
		}
		page, err := tx.CreateAccountRequests(ctx, o.ID, store.CreateAccountRequestQuery{AfterTime: base, AfterID: "car-aaaaaaaa", Limit: 1})
		if err != nil {
			return err
		}
		if ids := carIDs(page); !slices.Equal(ids, []string{"car-cccccccc"}) {
			t.Errorf("CreateAccountRequests after car-aaaaaaaa, limit 1 = %v", ids)
		}
		ok, err := tx.CreateAccountRequests(ctx, o.ID, store.CreateAccountRequestQuery{States: []string{"SUCCEEDED"}})
		if ids := carIDs(ok); err == nil && !slices.Equal(ids, []string{"car-aaaaaaaa", "car-bbbbbbbb"}) {
			t.Errorf("SUCCEEDED requests = %v", ids)
		}
		return err
	})
}

func carIDs(rs []*store.CreateAccountRequest) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// testOrgConcurrentAttachments checks that the attachment quotas hold under concurrent
// writers: at most MaxOrgPoliciesPerTarget SCPs on a target, and never none.
func testOrgConcurrentAttachments(t *testing.T, db *store.DB) {
	o := createOrg(t, db)
	acct := addAccount(t, db, o, o.RootID)
	mustUpdate(t, db, func(ctx context.Context, tx *store.Tx) error {
		if err := tx.EnablePolicyType(ctx, o.ID, store.PolicyTypeSCP); err != nil {
			return err
		}
		return tx.AttachOrgPolicyEverywhere(ctx, o.ID, store.FullAWSAccessID)
	})
	var ids []string
	for i := range 3 * store.MaxOrgPoliciesPerTarget {
		ids = append(ids, addOrgPolicy(t, db, o, fmt.Sprint("c", i), allowLM))
	}
	var attached, limited atomic.Int64
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			err := retryUpdate(db, func(ctx context.Context, tx *store.Tx) error { return tx.AttachOrgPolicy(ctx, o.ID, id, acct) })
			switch {
			case err == nil:
				attached.Add(1)
			case errors.Is(err, store.ErrLimitExceeded):
				limited.Add(1)
			default:
				t.Errorf("AttachOrgPolicy: %v", err)
			}
		})
	}
	wg.Wait()
	if attached.Load() != store.MaxOrgPoliciesPerTarget-1 {
		t.Errorf("%d policies attached besides FullAWSAccess, want %d", attached.Load(), store.MaxOrgPoliciesPerTarget-1)
	}
	// Detaching them all at once leaves exactly one.
	var pols []*store.OrgPolicy
	mustView(t, db, func(ctx context.Context, tx *store.Tx) error {
		var err error
		pols, err = tx.OrgPoliciesForTarget(ctx, o.ID, acct, store.PolicyTypeSCP, store.OrgQuery{})
		return err
	})
	var detached, last atomic.Int64
	for _, p := range pols {
		wg.Go(func() {
			err := retryUpdate(db, func(ctx context.Context, tx *store.Tx) error { return tx.DetachOrgPolicy(ctx, o.ID, p.ID, acct) })
			switch {
			case err == nil:
				detached.Add(1)
			case errors.Is(err, store.ErrLastPolicy):
				last.Add(1)
			default:
				t.Errorf("DetachOrgPolicy: %v", err)
			}
		})
	}
	wg.Wait()
	if detached.Load() != int64(len(pols)-1) || last.Load() != 1 {
		t.Errorf("%d of %d detached, %d refused as the last; want all but one", detached.Load(), len(pols), last.Load())
	}
}
