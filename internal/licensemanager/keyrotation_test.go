package licensemanager

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

// jwksKIDs returns the key IDs the JWKS publishes.
func jwksKIDs(t *testing.T, s *Service) []string {
	t.Helper()
	b, err := s.JWKS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []struct{ Kid string } }
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func TestIssuerKeyRotation(t *testing.T) {
	f := newTokenFixture(t) // one license: issuer "Vendor", an ES256 key
	acct := f.issuer.AccountID
	keys, err := f.svc.IssuerKeys(f.ctx, acct, "Vendor")
	if err != nil || len(keys) != 1 || keys[0].State != KeyCurrent || keys[0].Alg != AlgES256 {
		t.Fatalf("IssuerKeys = %+v, %v; want one current ES256 key", keys, err)
	}
	first := keys[0].KID

	cur, prev, err := f.svc.RotateIssuerKey(f.ctx, acct, "Vendor", "")
	if err != nil {
		t.Fatalf("RotateIssuerKey: %v", err)
	}
	if prev.KID != first || prev.State != KeyPrevious || cur.State != KeyCurrent || cur.KID == first || cur.Alg != AlgES256 {
		t.Errorf("RotateIssuerKey = %+v, %+v; want a new current key and the first as previous", cur, prev)
	}
	if got := jwksKIDs(t, f.svc); len(got) != 2 || !slices.Contains(got, first) || !slices.Contains(got, cur.KID) {
		t.Errorf("JWKS after rotation = %v, want %s and %s", got, first, cur.KID)
	}

	_, err = f.svc.RetireIssuerKey(f.ctx, cur.KID)
	if !errors.Is(err, ErrCurrentKey) || !strings.Contains(err.Error(), "rotate the issuer's key first") {
		t.Errorf("RetireIssuerKey(current) = %v, want ErrCurrentKey saying to rotate first", err)
	}
	if _, err := f.svc.RetireIssuerKey(f.ctx, "nope"); !errors.Is(err, ErrNoSuchKey) {
		t.Errorf("RetireIssuerKey(unknown) = %v, want ErrNoSuchKey", err)
	}
	retired, err := f.svc.RetireIssuerKey(f.ctx, first)
	if err != nil || retired.State != KeyRetired || retired.RetiredAt == nil {
		t.Fatalf("RetireIssuerKey(previous) = %+v, %v; want it retired", retired, err)
	}
	if got := jwksKIDs(t, f.svc); len(got) != 1 || got[0] != cur.KID {
		t.Errorf("JWKS after retirement = %v, want only %s", got, cur.KID)
	}
	keys, _ = f.svc.IssuerKeys(f.ctx, "", "")
	var states []string
	for _, k := range keys {
		states = append(states, k.State)
	}
	if !slices.Equal(states, []string{KeyRetired, KeyCurrent}) {
		t.Errorf("IssuerKeys states = %v, want [retired current]", states)
	}

	// Nothing to rotate; ambiguous algorithm; a bad algorithm.
	if _, _, err := f.svc.RotateIssuerKey(f.ctx, acct, "Nobody", ""); !errors.Is(err, ErrNoSuchKey) {
		t.Errorf("RotateIssuerKey(unknown issuer) = %v, want ErrNoSuchKey", err)
	}
	if _, _, err := f.svc.RotateIssuerKey(f.ctx, acct, "Vendor", AlgPS384); !errors.Is(err, ErrNoSuchKey) {
		t.Errorf("RotateIssuerKey(PS384 without one) = %v, want ErrNoSuchKey", err)
	}
	if _, _, err := f.svc.RotateIssuerKey(f.ctx, acct, "Vendor", "HS256"); err == nil {
		t.Errorf("RotateIssuerKey(HS256) succeeded")
	}
	in := euLicense("RSA-SKU", "rsa")
	in.Issuer.SignKey = "RSA"
	if _, err := f.svc.CreateLicense(f.ctx, f.issuer, in); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.RotateIssuerKey(f.ctx, acct, "Vendor", ""); err == nil || !strings.Contains(err.Error(), "say which") {
		t.Errorf("RotateIssuerKey(two algorithms, none named) = %v, want an error asking which", err)
	}
	if cur, _, err := f.svc.RotateIssuerKey(f.ctx, acct, "Vendor", AlgPS384); err != nil || cur.Alg != AlgPS384 {
		t.Errorf("RotateIssuerKey(PS384) = %+v, %v", cur, err)
	}
}
