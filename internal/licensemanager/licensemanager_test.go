package licensemanager

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/allot-dev/allot/internal/awserr"
)

func ptr[T any](v T) *T { return &v }

func validContent() *content {
	return &content{
		LicenseName: "L", ProductName: "P", Issuer: &Issuer{Name: "Vendor"}, HomeRegion: "us-east-1",
		Validity:                 &DatetimeRange{Begin: ptr("2026-01-01T00:00:00Z")},
		Entitlements:             []Entitlement{{Name: ptr("Seats"), Unit: ptr("Count"), MaxCount: ptr(int64(5))}},
		ConsumptionConfiguration: &ConsumptionConfiguration{ProvisionalConfiguration: &ProvisionalConfiguration{MaxTimeToLiveInMinutes: ptr(int32(60))}},
	}
}

func TestContentCheck(t *testing.T) {
	if err := validContent().check(); err != nil {
		t.Fatalf("check(valid) = %v", err)
	}
	cases := map[string]struct {
		edit func(*content)
		msg  string
	}{
		"ErrNoIssuer":         {func(c *content) { c.Issuer = nil }, "Issuer is required"},
		"ErrKMSSignKey":       {func(c *content) { c.Issuer.SignKey = "arn:aws:kms:us-east-1:1:key/x" }, "RSA"},
		"ErrBadBegin":         {func(c *content) { c.Validity.Begin = ptr("2026-01-01") }, "Validity.Begin"},
		"ErrEndBeforeBegin":   {func(c *content) { c.Validity.End = ptr("2025-01-01T00:00:00Z") }, "must be after"},
		"ErrNoEntitlements":   {func(c *content) { c.Entitlements = nil }, "Entitlements is required"},
		"ErrBadUnit":          {func(c *content) { c.Entitlements[0].Unit = ptr("count") }, "Unit must be one of"},
		"ErrNoMaxCount":       {func(c *content) { c.Entitlements[0].MaxCount = nil }, "needs MaxCount"},
		"ErrNoneWithMaxCount": {func(c *content) { c.Entitlements[0].Unit = ptr("None") }, "send Value"},
		"ErrDuplicate":        {func(c *content) { c.Entitlements = append(c.Entitlements, c.Entitlements[0]) }, "appears twice"},
		"ErrNoConsumption":    {func(c *content) { c.ConsumptionConfiguration = nil }, "ConsumptionConfiguration is required"},
		"ErrBothConsumption":  {func(c *content) { c.ConsumptionConfiguration.BorrowConfiguration = &BorrowConfiguration{} }, "send one"},
		"ErrBadRenewType":     {func(c *content) { c.ConsumptionConfiguration.RenewType = ptr("Daily") }, "RenewType"},
		"ErrZeroTTL": {func(c *content) {
			c.ConsumptionConfiguration.ProvisionalConfiguration.MaxTimeToLiveInMinutes = ptr(int32(0))
		}, "at least 1"},
		"ErrControlCharInName": {func(c *content) { c.LicenseName = "a\nb" }, "control characters"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := validContent()
			tc.edit(c)
			err := c.check()
			var e *awserr.Error
			if !errors.As(err, &e) || e.Code != ErrValidation || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("check() = %v, want a ValidationException containing %q", err, tc.msg)
			}
		})
	}
}

func TestNewIssuerKey(t *testing.T) {
	for _, alg := range []string{AlgES256, AlgPS384} {
		k, err := newIssuerKey("111122223333", "Vendor", alg)
		if err != nil {
			t.Fatal(err)
		}
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON([]byte(k.PublicJWK)); err != nil {
			t.Fatal(err)
		}
		tp, _ := jwk.Thumbprint(crypto.SHA256)
		if !jwk.IsPublic() || jwk.Algorithm != alg || jwk.KeyID != k.KID || k.KID != base64.RawURLEncoding.EncodeToString(tp) {
			t.Errorf("%s: public JWK %s with kid %s: want a public key whose kid is its RFC 7638 thumbprint", alg, k.PublicJWK, k.KID)
		}
		if _, err := x509.ParsePKCS8PrivateKey(k.PrivateKey); err != nil {
			t.Errorf("%s: private key: %v", alg, err)
		}
	}
}

func TestSignKeyAlg(t *testing.T) {
	for in, want := range map[string]string{"": AlgES256, "ES256": AlgES256, "rsa": AlgPS384, "RSA": AlgPS384, "PS384": AlgPS384} {
		if got, err := signKeyAlg(in); err != nil || got != want {
			t.Errorf("signKeyAlg(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if KeyFingerprint("111122223333", "Vendor") != "aws:111122223333:Vendor:issuer-fingerprint" {
		t.Errorf("KeyFingerprint = %q", KeyFingerprint("111122223333", "Vendor"))
	}
}
