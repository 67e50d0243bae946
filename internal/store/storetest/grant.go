package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/allot-dev/allot/internal/store"
)

func newGrantARN(acct string) string {
	b := make([]byte, 16)
	rand.Read(b)
	return "arn:aws:license-manager::" + acct + ":grant:g-" + hex.EncodeToString(b)
}

func testGrants(t *testing.T, db *store.DB) {
	ctx := context.Background()
	issuer, billing, deploy := createAccount(t, db), createAccount(t, db), createAccount(t, db)
	lic := &store.License{ARN: newLicenseARN(issuer), AccountID: issuer, HomeRegion: "us-east-1", Version: 1, Status: "AVAILABLE",
		ProductSKU: "sku-1", Beneficiary: billing, Fingerprint: "aws:" + issuer + ":Vendor_1%:issuer-fingerprint", Body: `{}`}
	update(t, db, func(tx *store.Tx) error {
		lic.CreatedAt, lic.VersionAt = tx.Now(), tx.Now()
		return tx.CreateLicense(ctx, lic)
	})
	mk := func(grantor, parent, grantee string) *store.Grant {
		g := &store.Grant{ARN: newGrantARN(grantor), AccountID: grantor, LicenseARN: lic.ARN, ParentARN: parent,
			Grantee: "arn:aws:iam::" + grantee + ":root", GranteeKind: "account", GranteeID: grantee, HomeRegion: "us-east-1",
			Version: 1, Status: "PENDING_ACCEPT", Body: `{"v":1}`}
		update(t, db, func(tx *store.Tx) error {
			g.CreatedAt, g.VersionAt = tx.Now(), tx.Now()
			return tx.CreateGrant(ctx, g)
		})
		return g
	}
	top := mk(issuer, lic.ARN, billing)
	sub := mk(billing, top.ARN, deploy)

	grants := func(q store.GrantQuery) []*store.Grant {
		t.Helper()
		var out []*store.Grant
		if err := db.View(ctx, func(tx *store.Tx) (err error) { out, err = tx.Grants(ctx, q); return err }); err != nil {
			t.Fatalf("Grants(%+v): %v", q, err)
		}
		return out
	}
	arns := func(gs []*store.Grant) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.ARN)
		}
		return out
	}
	cases := []struct {
		name string
		q    store.GrantQuery
		want []*store.Grant
	}{
		{"by grantor", store.GrantQuery{GrantorAccount: issuer}, []*store.Grant{top}},
		{"by grantee", store.GrantQuery{GranteeIDs: []string{deploy, "o-nothing"}}, []*store.Grant{sub}},
		{"by parent", store.GrantQuery{ParentARNs: []string{top.ARN}}, []*store.Grant{sub}},
		{"by SKU", store.GrantQuery{LicenseARNs: []string{lic.ARN}, ProductSKUs: []string{"sku-1"}}, sortGrants(top, sub)},
		{"other SKU", store.GrantQuery{ProductSKUs: []string{"sku-2"}, GrantorAccount: issuer}, nil},
		// The issuer name is matched exactly, LIKE wildcards in it included.
		{"by issuer name", store.GrantQuery{GrantorAccount: billing, IssuerNames: []string{"Vendor_1%"}}, []*store.Grant{sub}},
		{"issuer name is not a pattern", store.GrantQuery{GrantorAccount: billing, IssuerNames: []string{"VendorX1x"}}, nil},
		{"by status", store.GrantQuery{LicenseARNs: []string{lic.ARN}, Statuses: []string{"ACTIVE"}}, nil},
		{"by grantor IDs", store.GrantQuery{LicenseARNs: []string{lic.ARN}, GrantorIDs: []string{billing}}, []*store.Grant{sub}},
	}
	for _, c := range cases {
		if got, want := arns(grants(c.q)), arns(c.want); !equalStrings(got, want) {
			t.Errorf("%s: Grants = %v, want %v", c.name, got, want)
		}
	}
	// Paging: after the first, with a limit.
	all := sortGrants(top, sub)
	if got := grants(store.GrantQuery{LicenseARNs: []string{lic.ARN}, After: all[0].ARN, Limit: 1}); len(got) != 1 || got[0].ARN != all[1].ARN {
		t.Errorf("Grants(after first) = %v, want [%s]", arns(got), all[1].ARN)
	}

	// Versions: the next one goes on; a stale one conflicts; old versions stay readable.
	v2 := *top
	v2.Version, v2.Status, v2.Body = 2, "DISABLED", `{"v":2}`
	update(t, db, func(tx *store.Tx) error { return tx.PutGrantVersion(ctx, &v2) })
	stale := v2
	stale.Body = `{"v":"stale"}`
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.PutGrantVersion(ctx, &stale) }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutGrantVersion(stale) error = %v, want ErrConflict", err)
	}
	err := db.View(ctx, func(tx *store.Tx) error {
		cur, err := tx.Grant(ctx, top.ARN, 0)
		if err != nil {
			return err
		}
		if cur.Version != 2 || cur.Status != "DISABLED" || cur.Body != `{"v":2}` || cur.GranteeID != billing {
			t.Errorf("Grant(current) = %+v", cur)
		}
		first, err := tx.Grant(ctx, top.ARN, 1)
		if err != nil {
			return err
		}
		if first.Version != 1 || first.Body != `{"v":1}` {
			t.Errorf("Grant(version 1) = %+v", first)
		}
		if _, err := tx.Grant(ctx, top.ARN, 3); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Grant(version 3) error = %v, want ErrNotFound", err)
		}
		if _, err := tx.Grant(ctx, newGrantARN(issuer), 0); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Grant(unknown) error = %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.CreateGrant(ctx, top) }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateGrant(existing) error = %v, want ErrConflict", err)
	}

	// Tags of grants live apart from the license's.
	update(t, db, func(tx *store.Tx) error {
		return tx.TagLicenseResource(ctx, sub.ARN, []store.Tag{{Key: "team", Value: "ops"}})
	})
	err = db.View(ctx, func(tx *store.Tx) error {
		gt, err := tx.LicenseResourceTags(ctx, sub.ARN)
		if err != nil {
			return err
		}
		lt, err := tx.LicenseResourceTags(ctx, lic.ARN)
		if err != nil {
			return err
		}
		if len(gt) != 1 || gt[0].Key != "team" || len(lt) != 0 {
			t.Errorf("grant tags = %+v, license tags = %+v; want the grant's only on the grant", gt, lt)
		}
		if _, err := tx.LicenseResourceTags(ctx, newGrantARN(issuer)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("LicenseResourceTags(unknown grant) error = %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func sortGrants(gs ...*store.Grant) []*store.Grant {
	if len(gs) == 2 && gs[0].ARN > gs[1].ARN {
		gs[0], gs[1] = gs[1], gs[0]
	}
	return gs
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
