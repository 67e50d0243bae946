package licensemanager

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/allot-dev/allot/internal/store"
)

// Signing algorithms of issuer keys.
const (
	// AlgES256 is ECDSA on P-256 with SHA-256: the default, ≈ 10–17 µs per signature.
	AlgES256 = "ES256"
	// AlgPS384 is RSASSA-PSS with SHA-384 on an RSA-2048 key, the method AWS uses (and the only
	// one CheckoutBorrowLicense's JWT_PS384 names): ≈ 0.4 ms of CPU per signature.
	AlgPS384 = "PS384"
)

// SignKey values (Issuer.SignKey) Allot understands. In AWS SignKey names a KMS key; Allot
// has no KMS, so it names the kind of key instead: empty or "ES256" for the default elliptic
// curve key, "RSA" or "PS384" for an RSA-2048 key signing with PS384.
var signKeyAlgs = map[string]string{"": AlgES256, "ES256": AlgES256, "RSA": AlgPS384, "PS384": AlgPS384}

// signKeyAlg returns the algorithm an Issuer.SignKey value asks for.
func signKeyAlg(signKey string) (string, error) {
	if alg, ok := signKeyAlgs[strings.ToUpper(signKey)]; ok {
		return alg, nil
	}
	return "", validation("Issuer.SignKey %q is not a key kind Allot makes: leave it empty (or ES256) for an ES256 key, or send RSA (or PS384) for an RSA-2048 key signing with PS384.", signKey)
}

// KeyFingerprint returns the issuer fingerprint of an Allot issuer, in the form AWS
// Marketplace's has (aws:294406891311:AWS/Marketplace:issuer-fingerprint): it names the
// issuing account and the issuer, and so stays the same when the issuer's keys rotate.
func KeyFingerprint(accountID, issuerName string) string {
	return "aws:" + accountID + ":" + issuerName + ":issuer-fingerprint"
}

// newKeyFor returns a new key for an issuer and alg when the issuer has no current key for
// alg yet, or nil. Keys are generated before the write transaction (an RSA key takes tens of
// milliseconds) and stored in it with addKey.
func (s *Service) newKeyFor(ctx context.Context, accountID, issuerName, alg string) (*store.IssuerKey, error) {
	_, err := store.Read(ctx, s.DB, func(tx *store.Tx) (*store.IssuerKey, error) {
		return tx.IssuerKey(ctx, accountID, issuerName, alg)
	})
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return newIssuerKey(accountID, issuerName, alg)
}

// addKey stores k, made by newKeyFor, in the operation's transaction; when another request
// stored a key for the issuer first, that one stays and k is dropped.
func addKey(ctx context.Context, tx *store.Tx, k *store.IssuerKey) error {
	if k == nil {
		return nil
	}
	k.CreatedAt = tx.Now()
	_, err := tx.AddIssuerKey(ctx, k)
	return err
}

// newIssuerKey generates a key for alg.
func newIssuerKey(accountID, issuerName, alg string) (*store.IssuerKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case AlgES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgPS384:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return nil, fmt.Errorf("licensemanager: unknown algorithm %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("licensemanager: generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("licensemanager: encode %s key: %w", alg, err)
	}
	jwk := jose.JSONWebKey{Key: priv.Public(), Algorithm: alg, Use: "sig"}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("licensemanager: thumbprint: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	pub, err := jwk.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("licensemanager: encode public key: %w", err)
	}
	return &store.IssuerKey{KID: jwk.KeyID, AccountID: accountID, IssuerName: issuerName, Alg: alg, PublicJWK: string(pub), PrivateKey: der, Current: true}, nil
}

// JWKS returns the JSON Web Key Set of every issuer's public keys, current and previous, as
// GET /.well-known/jwks.json serves it.
func (s *Service) JWKS(ctx context.Context) ([]byte, error) {
	keys, err := store.Read(ctx, s.DB, func(tx *store.Tx) (*[]*store.IssuerKey, error) {
		ks, err := tx.IssuerPublicKeys(ctx)
		return &ks, err
	})
	if err != nil {
		return nil, err
	}
	set := struct {
		Keys []json.RawMessage `json:"keys"`
	}{Keys: []json.RawMessage{}}
	for _, k := range *keys {
		set.Keys = append(set.Keys, json.RawMessage(k.PublicJWK))
	}
	return json.Marshal(set)
}
