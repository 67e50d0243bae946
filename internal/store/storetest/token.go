package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/store"
)

func runTokens(t *testing.T, open func(t testing.TB) *store.DB) {
	t.Run("IssuerKeyRotation", func(t *testing.T) { testIssuerKeyRotation(t, open(t)) })
	t.Run("TokenKeys", func(t *testing.T) { testTokenKeys(t, open(t)) })
	t.Run("Tokens", func(t *testing.T) { testTokens(t, open(t)) })
}

func publishedKIDs(t testing.TB, db *store.DB) []string {
	t.Helper()
	var kids []string
	err := db.View(context.Background(), func(tx *store.Tx) error {
		ks, err := tx.IssuerPublicKeys(context.Background())
		for _, k := range ks {
			kids = append(kids, k.KID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return kids
}

func testIssuerKeyRotation(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct := createAccount(t, db)
	first := &store.IssuerKey{KID: "kid-1-" + newKeyID(), AccountID: acct, IssuerName: "Vendor", Alg: "ES256", PublicJWK: `{"kty":"EC","n":1}`, PrivateKey: []byte("first")}
	update(t, db, func(tx *store.Tx) error {
		first.CreatedAt = tx.Now()
		_, err := tx.AddIssuerKey(ctx, first)
		return err
	})

	// Rotating an issuer, or an algorithm, without a key finds nothing to rotate.
	for _, k := range []*store.IssuerKey{
		{KID: "kid-x-" + newKeyID(), AccountID: acct, IssuerName: "Other", Alg: "ES256", PublicJWK: `{}`, PrivateKey: []byte("x")},
		{KID: "kid-y-" + newKeyID(), AccountID: acct, IssuerName: "Vendor", Alg: "PS384", PublicJWK: `{}`, PrivateKey: []byte("y")},
	} {
		err := db.Update(ctx, func(tx *store.Tx) error { _, err := tx.RotateIssuerKey(ctx, k); return err })
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RotateIssuerKey(%s %s) error = %v, want ErrNotFound", k.IssuerName, k.Alg, err)
		}
	}

	second := &store.IssuerKey{KID: "kid-2-" + newKeyID(), AccountID: acct, IssuerName: "Vendor", Alg: "ES256", PublicJWK: `{"kty":"EC","n":2}`, PrivateKey: []byte("second")}
	var prev *store.IssuerKey
	update(t, db, func(tx *store.Tx) (err error) {
		second.CreatedAt = tx.Now()
		prev, err = tx.RotateIssuerKey(ctx, second)
		return err
	})
	if prev.KID != first.KID || prev.Current || !prev.RetiredAt.IsZero() || prev.PrivateKey != nil {
		t.Fatalf("RotateIssuerKey previous = %+v, want the first key, not current, not retired, no private key", prev)
	}
	// The new key signs; both are published.
	err := db.View(ctx, func(tx *store.Tx) error {
		cur, err := tx.IssuerKey(ctx, acct, "Vendor", "ES256")
		if err != nil || cur.KID != second.KID || !bytes.Equal(cur.PrivateKey, []byte("second")) {
			t.Errorf("IssuerKey after rotation = %+v, %v; want the second key with its private key", cur, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := publishedKIDs(t, db); !slices.Contains(got, first.KID) || !slices.Contains(got, second.KID) || len(got) != 2 {
		t.Errorf("IssuerPublicKeys after rotation = %v, want %s and %s", got, first.KID, second.KID)
	}

	// The current key cannot be retired; the previous one can, once (again is a no-op).
	err = db.Update(ctx, func(tx *store.Tx) error { _, err := tx.RetireIssuerKey(ctx, second.KID, tx.Now()); return err })
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("RetireIssuerKey(current) error = %v, want ErrConflict", err)
	}
	err = db.Update(ctx, func(tx *store.Tx) error { _, err := tx.RetireIssuerKey(ctx, "no-such-kid", tx.Now()); return err })
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RetireIssuerKey(unknown) error = %v, want ErrNotFound", err)
	}
	var retired *store.IssuerKey
	var at time.Time
	update(t, db, func(tx *store.Tx) (err error) {
		at = tx.Now()
		retired, err = tx.RetireIssuerKey(ctx, first.KID, at)
		return err
	})
	if retired.KID != first.KID || !retired.RetiredAt.Equal(at) {
		t.Errorf("RetireIssuerKey = %+v, want %s retired at %s", retired, first.KID, at)
	}
	var again *store.IssuerKey
	update(t, db, func(tx *store.Tx) (err error) {
		again, err = tx.RetireIssuerKey(ctx, first.KID, tx.Now().Add(time.Hour))
		return err
	})
	if !again.RetiredAt.Equal(at) {
		t.Errorf("RetireIssuerKey(again) retired at %s, want the first retirement %s", again.RetiredAt, at)
	}
	if got := publishedKIDs(t, db); len(got) != 1 || got[0] != second.KID {
		t.Errorf("IssuerPublicKeys after retirement = %v, want only %s", got, second.KID)
	}

	// IssuerKeys lists every key with its state, oldest first; filters narrow it.
	other := createAccount(t, db)
	update(t, db, func(tx *store.Tx) error {
		_, err := tx.AddIssuerKey(ctx, &store.IssuerKey{KID: "kid-o-" + newKeyID(), AccountID: other, IssuerName: "Vendor", Alg: "ES256",
			PublicJWK: `{}`, PrivateKey: []byte("o"), CreatedAt: tx.Now()})
		return err
	})
	err = db.View(ctx, func(tx *store.Tx) error {
		ks, err := tx.IssuerKeys(ctx, store.IssuerKeyQuery{AccountID: acct, IssuerName: "Vendor"})
		if err != nil {
			return err
		}
		if len(ks) != 2 || ks[0].KID != first.KID || ks[0].RetiredAt.IsZero() || ks[0].Current ||
			ks[1].KID != second.KID || !ks[1].Current || !ks[1].RetiredAt.IsZero() || ks[0].PrivateKey != nil {
			t.Errorf("IssuerKeys(acct, Vendor) = %+v, want the retired first key then the current second", ks)
		}
		all, err := tx.IssuerKeys(ctx, store.IssuerKeyQuery{})
		if len(all) != 3 {
			t.Errorf("IssuerKeys(all) = %d keys, want 3", len(all))
		}
		one, err := tx.IssuerKeys(ctx, store.IssuerKeyQuery{KID: second.KID})
		if len(one) != 1 || one[0].KID != second.KID {
			t.Errorf("IssuerKeys(kid) = %+v, want the second key", one)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testTokenKeys(t *testing.T, db *store.DB) {
	ctx := context.Background()
	err := db.View(ctx, func(tx *store.Tx) error {
		_, err := tx.TokenKey(ctx, "")
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TokenKey(current) on a new database error = %v, want ErrNotFound", err)
	}
	k := &store.TokenKey{KID: "tk-" + newKeyID(), Alg: "EdDSA", PublicJWK: `{"kty":"OKP"}`, PrivateKey: []byte("token key " + newKeyID())}
	var got *store.TokenKey
	update(t, db, func(tx *store.Tx) (err error) {
		k.CreatedAt = tx.Now()
		got, err = tx.AddTokenKey(ctx, k)
		return err
	})
	if got.KID != k.KID || !got.Current || !bytes.Equal(got.PrivateKey, k.PrivateKey) {
		t.Fatalf("AddTokenKey = %+v, want the key back with its private key", got)
	}
	// A second first key loses: one current key.
	update(t, db, func(tx *store.Tx) (err error) {
		got, err = tx.AddTokenKey(ctx, &store.TokenKey{KID: "tk2-" + newKeyID(), Alg: "EdDSA", PublicJWK: `{}`, PrivateKey: []byte("other"), CreatedAt: tx.Now()})
		return err
	})
	if got.KID != k.KID {
		t.Fatalf("AddTokenKey(second) = %s, want the first key %s", got.KID, k.KID)
	}
	var raw string
	err = db.View(ctx, func(tx *store.Tx) error {
		byKID, err := tx.TokenKey(ctx, k.KID)
		if err != nil || byKID.KID != k.KID || !bytes.Equal(byKID.PrivateKey, k.PrivateKey) {
			t.Errorf("TokenKey(kid) = %+v, %v", byKID, err)
		}
		if _, err := tx.TokenKey(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TokenKey(unknown) error = %v, want ErrNotFound", err)
		}
		return tx.QueryRow(ctx, `SELECT private_key FROM license_token_keys WHERE kid = ?`, k.KID).Scan(&raw)
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, "token key") || !strings.HasPrefix(raw, "v1:") {
		t.Errorf("stored token key = %q, want it sealed", raw)
	}
}

func newTokenID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func testTokens(t *testing.T, db *store.DB) {
	ctx := context.Background()
	acct, other := createAccount(t, db), createAccount(t, db)
	key := &store.TokenKey{KID: "tk-" + newKeyID(), Alg: "EdDSA", PublicJWK: `{}`, PrivateKey: []byte("k")}
	update(t, db, func(tx *store.Tx) error {
		key.CreatedAt = tx.Now()
		_, err := tx.AddTokenKey(ctx, key)
		return err
	})
	lic := func(acct string) string {
		l := &store.License{ARN: newLicenseARN(acct), AccountID: acct, HomeRegion: "eu-west-1", Version: 1, Status: "AVAILABLE",
			ProductSKU: "sku", Beneficiary: "b", Fingerprint: "fp", Body: `{}`}
		update(t, db, func(tx *store.Tx) error {
			l.CreatedAt, l.VersionAt = tx.Now(), tx.Now()
			return tx.CreateLicense(ctx, l)
		})
		return l.ARN
	}
	l1, l2 := lic(acct), lic(acct)
	created := time.Now().UTC().Truncate(time.Second)
	mk := func(acct, license string, roles, props []string) *store.Token {
		tok := &store.Token{ID: newTokenID(), AccountID: acct, LicenseARN: license, HomeRegion: "eu-west-1", RoleARNs: roles, Properties: props,
			Hash: "h-" + newKeyID(), KID: key.KID, Status: store.TokenAvailable, ExpiresAt: created.Add(365 * 24 * time.Hour), CreatedAt: created}
		update(t, db, func(tx *store.Tx) error { return tx.CreateToken(ctx, tok) })
		return tok
	}
	a := mk(acct, l1, []string{"arn:aws:iam::" + acct + ":role/Consumer"}, []string{"customer-1", "tier:gold"})
	b := mk(acct, l1, nil, nil)
	c := mk(acct, l2, nil, []string{"x"})
	mk(other, l1, nil, nil)

	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.CreateToken(ctx, a) }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateToken(existing ID) error = %v, want ErrConflict", err)
	}
	bad := *b
	bad.ID, bad.KID = newTokenID(), "no-such-key"
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.CreateToken(ctx, &bad) }); !errors.Is(err, store.ErrConstraint) {
		t.Errorf("CreateToken(unknown key) error = %v, want ErrConstraint", err)
	}

	err := db.View(ctx, func(tx *store.Tx) error {
		got, err := tx.Token(ctx, a.ID)
		if err != nil {
			return err
		}
		if got.AccountID != acct || got.LicenseARN != l1 || got.HomeRegion != "eu-west-1" || !slices.Equal(got.RoleARNs, a.RoleARNs) ||
			!slices.Equal(got.Properties, a.Properties) || got.Hash != a.Hash || got.KID != key.KID || got.Status != store.TokenAvailable ||
			!got.ExpiresAt.Equal(a.ExpiresAt) || !got.CreatedAt.Equal(created) || !got.DeletedAt.IsZero() {
			t.Errorf("Token = %+v, want %+v", got, a)
		}
		if nb, _ := tx.Token(ctx, b.ID); nb == nil || nb.RoleARNs == nil || len(nb.RoleARNs) != 0 || len(nb.Properties) != 0 {
			t.Errorf("Token(no roles) = %+v, want empty lists", nb)
		}
		if _, err := tx.Token(ctx, newTokenID()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Token(unknown) error = %v, want ErrNotFound", err)
		}
		all, err := tx.Tokens(ctx, store.TokenQuery{AccountID: acct})
		if err != nil || len(all) != 3 || all[0].ID > all[1].ID || all[1].ID > all[2].ID {
			t.Errorf("Tokens(account) = %d tokens, %v; want 3 in ID order", len(all), err)
		}
		byLicense, _ := tx.Tokens(ctx, store.TokenQuery{AccountID: acct, LicenseARNs: []string{l2}})
		if len(byLicense) != 1 || byLicense[0].ID != c.ID {
			t.Errorf("Tokens(license 2) = %+v, want token c", byLicense)
		}
		byID, _ := tx.Tokens(ctx, store.TokenQuery{AccountID: acct, IDs: []string{a.ID, c.ID, newTokenID()}})
		if len(byID) != 2 {
			t.Errorf("Tokens(IDs) = %d, want 2", len(byID))
		}
		page, _ := tx.Tokens(ctx, store.TokenQuery{AccountID: acct, After: all[0].ID, Limit: 1})
		if len(page) != 1 || page[0].ID != all[1].ID {
			t.Errorf("Tokens(after first, limit 1) = %+v, want the second", page)
		}
		n, err := tx.CountTokens(ctx, acct, l1, store.TokenAvailable)
		if err != nil || n != 2 {
			t.Errorf("CountTokens(acct, l1) = %d, %v; want 2", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var at time.Time
	update(t, db, func(tx *store.Tx) error {
		at = tx.Now()
		return tx.DeleteToken(ctx, a.ID, at)
	})
	update(t, db, func(tx *store.Tx) error { return tx.DeleteToken(ctx, a.ID, tx.Now().Add(time.Hour)) })
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.DeleteToken(ctx, newTokenID(), tx.Now()) }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteToken(unknown) error = %v, want ErrNotFound", err)
	}
	err = db.View(ctx, func(tx *store.Tx) error {
		got, err := tx.Token(ctx, a.ID)
		if err != nil || got.Status != store.TokenDeleted || !got.DeletedAt.Equal(at) {
			t.Errorf("Token after DeleteToken = %+v, %v; want DELETED at %s (the first deletion)", got, err, at)
		}
		n, _ := tx.CountTokens(ctx, acct, l1, store.TokenAvailable)
		deleted, _ := tx.Tokens(ctx, store.TokenQuery{AccountID: acct, Statuses: []string{store.TokenDeleted}})
		if n != 1 || len(deleted) != 1 {
			t.Errorf("after delete: %d available for l1, %d deleted; want 1 and 1", n, len(deleted))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
