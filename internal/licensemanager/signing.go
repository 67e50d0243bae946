package licensemanager

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"

	"github.com/allot-dev/allot/internal/awstime"
	"github.com/allot-dev/allot/internal/store"
)

// TokenClaims are the claims of a checkout's SignedToken (docs/licenses.md, "Signed tokens").
type TokenClaims struct {
	Issuer     string `json:"iss"` // the issuer's KeyFingerprint
	Subject    string `json:"sub"` // the beneficiary
	IssuedAt   int64  `json:"iat"`
	NotBefore  int64  `json:"nbf"`
	Expiry     int64  `json:"exp,omitempty"` // the checkout's Expiration; for PERPETUAL the license's end, if any
	ID         string `json:"jti"`           // the LicenseConsumptionToken
	LicenseARN string `json:"licenseArn"`
	ProductSKU string `json:"productSKU"`
	// ProductName and IssuerName are the license's.
	ProductName      string            `json:"productName"`
	IssuerName       string            `json:"issuerName"`
	CheckoutType     string            `json:"checkoutType"` // PROVISIONAL, PERPETUAL or BORROW
	NodeID           string            `json:"nodeId,omitempty"`
	Entitlements     []EntitlementData `json:"entitlements"` // EntitlementsAllowed
	CheckoutMetadata []Metadata        `json:"checkoutMetadata,omitempty"`
}

// claims returns the claims of is's signed token.
func (is *issued) claims() *TokenClaims {
	c, d := is.checkout, is.doc
	tc := &TokenClaims{
		Issuer: d.Issuer.KeyFingerprint, Subject: c.Beneficiary, IssuedAt: c.IssuedAt.Unix(), NotBefore: c.IssuedAt.Unix(),
		ID: c.Token, LicenseARN: c.LicenseARN, ProductSKU: d.ProductSKU, ProductName: d.ProductName, IssuerName: d.Issuer.Name,
		CheckoutType: c.CheckoutType, NodeID: c.NodeID, Entitlements: is.allowed(),
	}
	switch {
	case c.Borrow:
		tc.CheckoutType, tc.CheckoutMetadata = "BORROW", is.metadata()
	case c.CheckoutType == CheckoutPerpetual:
		if end := deref(d.Validity.End); end != "" {
			if t, err := awstime.ParseISO8601(end); err == nil {
				tc.Expiry = t.Unix()
			}
		}
	}
	if !c.ExpiresAt.IsZero() {
		tc.Expiry = c.ExpiresAt.Unix()
	}
	return tc
}

// signCheckout returns the signed token of a checkout. It is called after the checkout's
// transaction committed: signing is not free (PS384 ≈ 0.4 ms) and must not hold the writer.
func (s *Service) signCheckout(is *issued) (string, error) {
	if is == nil {
		return "", errors.New("licensemanager: no checkout to sign")
	}
	payload, err := json.Marshal(is.claims())
	if err != nil {
		return "", fmt.Errorf("licensemanager: encode token claims: %w", err)
	}
	return s.sign(is.key, payload)
}

// sign returns payload as a compact JWS signed with k, typ JWT, naming k's kid.
func (s *Service) sign(k *store.IssuerKey, payload []byte) (string, error) {
	signer, err := s.signer(k)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("licensemanager: sign with key %s: %w", k.KID, err)
	}
	return jws.CompactSerialize()
}

// signer returns a JWS signer for k, made once per key ID and then cached on s (a jose
// Signer only reads its configuration, so it is safe for concurrent use).
func (s *Service) signer(k *store.IssuerKey) (jose.Signer, error) {
	if v, ok := s.keys.Load(k.KID); ok {
		return v.(jose.Signer), nil
	}
	parsed, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("licensemanager: private key %s: %w", k.KID, err)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("licensemanager: private key %s: %T cannot sign", k.KID, parsed)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Alg), Key: jose.JSONWebKey{Key: priv, KeyID: k.KID, Algorithm: k.Alg}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("licensemanager: signer for key %s: %w", k.KID, err)
	}
	v, _ := s.keys.LoadOrStore(k.KID, signer)
	return v.(jose.Signer), nil
}
