package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/allot-dev/allot/internal/store"
)

func runLicenses(t *testing.T, open func(t testing.TB) *store.DB) {
	t.Run("IssuerKeys", func(t *testing.T) { testIssuerKeys(t, open(t)) })
	t.Run("Licenses", func(t *testing.T) { testLicenses(t, open(t)) })
	t.Run("LicenseClientTokens", func(t *testing.T) { testLicenseClientTokens(t, open(t)) })
	t.Run("LicenseTags", func(t *testing.T) { testLicenseTags(t, open(t)) })
	t.Run("Grants", func(t *testing.T) { testGrants(t, open(t)) })
}

func testIssuerKeys(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct := createAccount(t, db)
	priv := []byte("private key material " + newKeyID())
	k := &store.IssuerKey{KID: "kid-" + newKeyID(), AccountID: acct, IssuerName: "Vendor", Alg: "ES256", PublicJWK: `{"kty":"EC"}`, PrivateKey: priv}
	var got *store.IssuerKey
	update(t, db, func(tx *store.Tx) (err error) {
		got, err = tx.AddIssuerKey(ctx, k)
		return err
	})
	if got.KID != k.KID || !bytes.Equal(got.PrivateKey, priv) || !got.Current {
		t.Fatalf("AddIssuerKey = %+v, want the key back with its private key", got)
	}
	// A second first key of the same issuer and algorithm loses: the first stays current.
	k2 := &store.IssuerKey{KID: "kid-" + newKeyID(), AccountID: acct, IssuerName: "Vendor", Alg: "ES256", PublicJWK: `{}`, PrivateKey: []byte("other")}
	update(t, db, func(tx *store.Tx) (err error) {
		got, err = tx.AddIssuerKey(ctx, k2)
		return err
	})
	if got.KID != k.KID {
		t.Fatalf("AddIssuerKey(second) = %s, want the first key %s", got.KID, k.KID)
	}
	// Another algorithm is another key.
	k3 := &store.IssuerKey{KID: "kid-" + newKeyID(), AccountID: acct, IssuerName: "Vendor", Alg: "PS384", PublicJWK: `{"kty":"RSA"}`, PrivateKey: []byte("rsa")}
	update(t, db, func(tx *store.Tx) (err error) {
		_, err = tx.AddIssuerKey(ctx, k3)
		return err
	})
	var raw string
	var pub []*store.IssuerKey
	err := db.View(ctx, func(tx *store.Tx) (err error) {
		if err := tx.QueryRow(ctx, `SELECT private_key FROM license_issuer_keys WHERE kid = ?`, k.KID).Scan(&raw); err != nil {
			return err
		}
		if _, err := tx.IssuerKey(ctx, acct, "Other", "ES256"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("IssuerKey(unknown issuer) error = %v, want ErrNotFound", err)
		}
		pub, err = tx.IssuerPublicKeys(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, string(priv)) || !strings.HasPrefix(raw, "v1:") {
		t.Fatalf("stored private key = %q, want it sealed", raw)
	}
	if len(pub) != 2 || pub[0].PrivateKey != nil {
		t.Fatalf("IssuerPublicKeys = %d keys (%+v), want 2 without private keys", len(pub), pub)
	}
}

func newLicenseARN(acct string) string {
	b := make([]byte, 16)
	rand.Read(b)
	return "arn:aws:license-manager::" + acct + ":license:l-" + hex.EncodeToString(b)
}

func testLicenses(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct, other := createAccount(t, db), createAccount(t, db)
	mk := func(acct, sku, status string) *store.License {
		l := &store.License{ARN: newLicenseARN(acct), AccountID: acct, HomeRegion: "us-east-1", Version: 1, Status: status,
			ProductSKU: sku, Beneficiary: "b", Fingerprint: "fp", Body: `{"v":1}`}
		update(t, db, func(tx *store.Tx) error {
			l.CreatedAt, l.VersionAt = tx.Now(), tx.Now()
			return tx.CreateLicense(ctx, l)
		})
		return l
	}
	a := mk(acct, "sku-a", "AVAILABLE")
	mk(acct, "sku-b", "AVAILABLE")
	mk(other, "sku-a", "AVAILABLE")

	err := db.Update(ctx, func(tx *store.Tx) error { return tx.CreateLicense(ctx, a) })
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateLicense(existing) error = %v, want ErrConflict", err)
	}

	v2 := *a
	v2.Version, v2.Status, v2.Body = 2, "SUSPENDED", `{"v":2}`
	update(t, db, func(tx *store.Tx) error { return tx.PutLicenseVersion(ctx, &v2) })
	// A stale version conflicts.
	stale := v2
	err = db.Update(ctx, func(tx *store.Tx) error { return tx.PutLicenseVersion(ctx, &stale) })
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutLicenseVersion(stale) error = %v, want ErrConflict", err)
	}
	err = db.View(ctx, func(tx *store.Tx) error {
		cur, err := tx.License(ctx, a.ARN, 0)
		if err != nil || cur.Version != 2 || cur.Body != `{"v":2}` || cur.Status != "SUSPENDED" {
			t.Errorf("License(current) = %+v, %v; want version 2", cur, err)
		}
		old, err := tx.License(ctx, a.ARN, 1)
		if err != nil || old.Body != `{"v":1}` {
			t.Errorf("License(version 1) = %+v, %v; want the first body", old, err)
		}
		if _, err := tx.License(ctx, a.ARN, 3); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("License(version 3) error = %v, want ErrNotFound", err)
		}
		vs, err := tx.LicenseVersions(ctx, a.ARN)
		if err != nil || len(vs) != 2 || vs[0].Version != 1 || vs[1].Version != 2 {
			t.Errorf("LicenseVersions = %d, %v; want versions 1 and 2", len(vs), err)
		}
		all, err := tx.Licenses(ctx, store.LicenseQuery{AccountID: acct})
		if err != nil || len(all) != 2 {
			t.Errorf("Licenses(account) = %d, %v; want 2", len(all), err)
		}
		sku, err := tx.Licenses(ctx, store.LicenseQuery{AccountID: acct, ProductSKUs: []string{"sku-a"}, Statuses: []string{"SUSPENDED"}})
		if err != nil || len(sku) != 1 || sku[0].ARN != a.ARN {
			t.Errorf("Licenses(sku-a, SUSPENDED) = %d, %v; want %s", len(sku), err, a.ARN)
		}
		page, err := tx.Licenses(ctx, store.LicenseQuery{AccountID: acct, Limit: 1})
		if err != nil || len(page) != 1 {
			t.Fatalf("Licenses(limit 1) = %d, %v", len(page), err)
		}
		rest, err := tx.Licenses(ctx, store.LicenseQuery{AccountID: acct, After: page[0].ARN})
		if err != nil || len(rest) != 1 || rest[0].ARN == page[0].ARN {
			t.Errorf("Licenses(after) = %d, %v; want the other license", len(rest), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testLicenseClientTokens(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct := createAccount(t, db)
	c := &store.ClientToken{AccountID: acct, Operation: "CreateLicense", Token: "tok", Request: "d1", Response: `{"a":1}`}
	update(t, db, func(tx *store.Tx) error { c.CreatedAt = tx.Now(); return tx.PutClientToken(ctx, c) })
	err := db.Update(ctx, func(tx *store.Tx) error { return tx.PutClientToken(ctx, c) })
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutClientToken(again) error = %v, want ErrConflict", err)
	}
	err = db.View(ctx, func(tx *store.Tx) error {
		got, err := tx.ClientToken(ctx, acct, "CreateLicense", "tok")
		if err != nil || got.Request != "d1" || got.Response != `{"a":1}` {
			t.Errorf("ClientToken = %+v, %v", got, err)
		}
		if _, err := tx.ClientToken(ctx, acct, "CreateLicenseVersion", "tok"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ClientToken(other operation) error = %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testLicenseTags(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct := createAccount(t, db)
	l := &store.License{ARN: newLicenseARN(acct), AccountID: acct, HomeRegion: "us-east-1", Version: 1, Status: "AVAILABLE",
		ProductSKU: "sku", Beneficiary: "b", Fingerprint: "fp", Body: `{}`}
	update(t, db, func(tx *store.Tx) error {
		l.CreatedAt, l.VersionAt = tx.Now(), tx.Now()
		if err := tx.CreateLicense(ctx, l); err != nil {
			return err
		}
		return tx.TagLicenseResource(ctx, l.ARN, []store.Tag{{Key: "team", Value: "sales"}, {Key: "Team", Value: "ops"}})
	})
	tags := func() []store.Tag {
		var got []store.Tag
		err := db.View(ctx, func(tx *store.Tx) (err error) {
			got, err = tx.LicenseResourceTags(ctx, l.ARN)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// Keys are case-sensitive; a key tagged again keeps its place and takes the new value.
	update(t, db, func(tx *store.Tx) error {
		return tx.TagLicenseResource(ctx, l.ARN, []store.Tag{{Key: "cost", Value: ""}, {Key: "team", Value: "support"}})
	})
	want := []store.Tag{{Key: "team", Value: "support"}, {Key: "Team", Value: "ops"}, {Key: "cost", Value: ""}}
	if got := tags(); len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("LicenseTags = %+v, want %+v", got, want)
	}
	update(t, db, func(tx *store.Tx) error {
		return tx.UntagLicenseResource(ctx, l.ARN, []string{"TEAM", "Team", "absent"})
	})
	if got := tags(); len(got) != 2 || got[0] != want[0] || got[1] != want[2] {
		t.Fatalf("LicenseTags after untag = %+v, want team and cost", got)
	}
	// At most MaxLicenseTags: 2 + 49 new keys is one too many, and nothing is written.
	var many []store.Tag
	for i := range store.MaxLicenseTags - 1 {
		many = append(many, store.Tag{Key: "k" + string(rune('A'+i%26)) + string(rune('a'+i/26)), Value: "v"})
	}
	err := db.Update(ctx, func(tx *store.Tx) error { return tx.TagLicenseResource(ctx, l.ARN, many) })
	if !errors.Is(err, store.ErrLimitExceeded) {
		t.Errorf("TagLicense(51 in all) error = %v, want ErrLimitExceeded", err)
	}
	if got := tags(); len(got) != 2 {
		t.Errorf("LicenseTags after refused tags = %d, want 2", len(got))
	}
	update(t, db, func(tx *store.Tx) error { return tx.TagLicenseResource(ctx, l.ARN, many[:48]) })
	if got := tags(); len(got) != store.MaxLicenseTags {
		t.Errorf("LicenseTags = %d, want %d", len(got), store.MaxLicenseTags)
	}
	// An unknown license is ErrNotFound for each operation.
	unknown := newLicenseARN(acct)
	err = db.Update(ctx, func(tx *store.Tx) error { return tx.TagLicenseResource(ctx, unknown, []store.Tag{{Key: "a"}}) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TagLicense(unknown) error = %v, want ErrNotFound", err)
	}
	err = db.Update(ctx, func(tx *store.Tx) error { return tx.UntagLicenseResource(ctx, unknown, []string{"a"}) })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UntagLicense(unknown) error = %v, want ErrNotFound", err)
	}
	err = db.View(ctx, func(tx *store.Tx) error {
		_, err := tx.LicenseResourceTags(ctx, unknown)
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LicenseTags(unknown) error = %v, want ErrNotFound", err)
	}
}
