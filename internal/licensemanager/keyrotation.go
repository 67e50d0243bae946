package licensemanager

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/store"
)

// Issuer key states, as KeyInfo.State names them.
const (
	// KeyCurrent signs new tokens and is published in the JWKS.
	KeyCurrent = "current"
	// KeyPrevious was current before a rotation: still published, so the tokens it signed
	// still verify, but it signs nothing new.
	KeyPrevious = "previous"
	// KeyRetired is no longer published: the tokens it signed no longer verify.
	KeyRetired = "retired"
)

// Errors of the key lifecycle functions, wrapped with a sentence for the operator; match them
// with errors.Is.
var (
	ErrNoSuchKey  = errors.New("licensemanager: no such issuer key")
	ErrCurrentKey = errors.New("licensemanager: the issuer's current key")
)

// KeyInfo describes an issuer key, without its private part.
type KeyInfo struct {
	KID        string     `json:"kid"`
	AccountID  string     `json:"account"`
	IssuerName string     `json:"issuer"`
	Alg        string     `json:"alg"`
	State      string     `json:"state"` // KeyCurrent, KeyPrevious or KeyRetired
	CreatedAt  time.Time  `json:"created"`
	RetiredAt  *time.Time `json:"retired,omitempty"`
}

func keyInfo(k *store.IssuerKey) KeyInfo {
	ki := KeyInfo{KID: k.KID, AccountID: k.AccountID, IssuerName: k.IssuerName, Alg: k.Alg, State: KeyPrevious, CreatedAt: k.CreatedAt}
	switch {
	case k.Current:
		ki.State = KeyCurrent
	case !k.RetiredAt.IsZero():
		ki.State = KeyRetired
		at := k.RetiredAt
		ki.RetiredAt = &at
	}
	return ki
}

// IssuerKeys returns the issuer keys of an account and issuer name ("" for any), current,
// previous and retired, by account, issuer name, algorithm and age.
func (s *Service) IssuerKeys(ctx context.Context, accountID, issuerName string) ([]KeyInfo, error) {
	keys, err := store.Read(ctx, s.DB, func(tx *store.Tx) (*[]*store.IssuerKey, error) {
		ks, err := tx.IssuerKeys(ctx, store.IssuerKeyQuery{AccountID: accountID, IssuerName: issuerName})
		return &ks, err
	})
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, 0, len(*keys))
	for _, k := range *keys {
		out = append(out, keyInfo(k))
	}
	return out, nil
}

// RotateIssuerKey gives an issuer of an account a new current key for alg (ES256 or PS384;
// "" for the algorithm of the issuer's keys when it has keys of one only). New tokens are
// signed with the new key; the key that was current becomes a previous key, still published
// in the JWKS, so the tokens it signed keep verifying until it is retired. It returns the new
// key and the previous one. Errors wrap ErrNoSuchKey when the issuer has no key for alg.
func (s *Service) RotateIssuerKey(ctx context.Context, accountID, issuerName, alg string) (current, previous *KeyInfo, err error) {
	if alg != "" && alg != AlgES256 && alg != AlgPS384 {
		return nil, nil, fmt.Errorf("algorithm %q: want %s or %s", alg, AlgES256, AlgPS384)
	}
	keys, err := s.IssuerKeys(ctx, accountID, issuerName)
	if err != nil {
		return nil, nil, err
	}
	var algs []string
	for _, k := range keys {
		if k.State == KeyCurrent {
			algs = append(algs, k.Alg)
		}
	}
	switch {
	case len(algs) == 0:
		return nil, nil, fmt.Errorf("issuer %q of account %s has no key (it gets one when a license names it): %w", issuerName, accountID, ErrNoSuchKey)
	case alg == "" && len(algs) > 1:
		return nil, nil, fmt.Errorf("issuer %q of account %s has keys for %s: say which to rotate", issuerName, accountID, strings.Join(algs, " and "))
	case alg == "":
		alg = algs[0]
	case !slices.Contains(algs, alg):
		return nil, nil, fmt.Errorf("issuer %q of account %s has no %s key, only %s: %w", issuerName, accountID, alg, strings.Join(algs, " and "), ErrNoSuchKey)
	}
	k, err := newIssuerKey(accountID, issuerName, alg) // before the transaction: an RSA key takes a while
	if err != nil {
		return nil, nil, err
	}
	var prev *store.IssuerKey
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		k.CreatedAt = tx.Now()
		var err error
		prev, err = tx.RotateIssuerKey(ctx, k)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil, fmt.Errorf("issuer %q of account %s has no %s key: %w", issuerName, accountID, alg, ErrNoSuchKey)
	case errors.Is(err, store.ErrConflict):
		return nil, nil, fmt.Errorf("the %s key of issuer %q of account %s was rotated by someone else at the same time: list the keys and try again if needed", alg, issuerName, accountID)
	case err != nil:
		return nil, nil, err
	}
	cur, old := keyInfo(k), keyInfo(prev)
	return &cur, &old, nil
}

// RetireIssuerKey retires a previous issuer key: it leaves the JWKS, so the tokens it signed
// no longer verify. Retiring a retired key changes nothing. Errors wrap ErrNoSuchKey, or
// ErrCurrentKey for the key an issuer signs with (rotate it first).
func (s *Service) RetireIssuerKey(ctx context.Context, kid string) (*KeyInfo, error) {
	var k *store.IssuerKey
	err := s.DB.Update(ctx, func(tx *store.Tx) error {
		var err error
		k, err = tx.RetireIssuerKey(ctx, kid, tx.Now())
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("key %s: %w", kid, ErrNoSuchKey)
	case errors.Is(err, store.ErrConflict):
		return nil, fmt.Errorf("key %s is its issuer's current key, which signs new tokens: rotate the issuer's key first, then retire this one: %w", kid, ErrCurrentKey)
	case err != nil:
		return nil, err
	}
	ki := keyInfo(k)
	return &ki, nil
}
