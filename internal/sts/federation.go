package sts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/licensemanager"
	"github.com/allot-dev/allot/internal/store"
)

// LicenseTokens verifies the access tokens of License Manager's token issuer
// (openid-license-manager.amazonaws.com) for AssumeRoleWithWebIdentity; the server's is the
// licensemanager.Service.
type LicenseTokens interface {
	// VerifyAccessToken returns the verified access token, or a *licensemanager.TokenError
	// saying why it is refused (not the issuer's, expired, its token deleted).
	VerifyAccessToken(ctx context.Context, token string, now time.Time) (*licensemanager.AccessToken, error)
}

// federation is a verified web identity token and the provider it came from.
type federation struct {
	// provider is the provider as policies name it in {"Federated": …} and as
	// aws:FederatedProvider has it: an OpenID Connect provider's ARN, or a built-in provider's
	// name (openid-license-manager.amazonaws.com).
	provider string
	// keyPrefix prefixes the condition keys PREFIX:aud, PREFIX:sub and PREFIX:amr: the OpenID
	// Connect provider's URL (host and path), or the built-in provider's name.
	keyPrefix string
	web       *webToken
	// roleARNs are the roles the token may be used for; none means any role that trusts it.
	roleARNs []string
}

// oidcFederation verifies a token of an IAM OpenID Connect provider registered in the role's
// account for iss (the token's unverified issuer).
func (s *Service) oidcFederation(ctx context.Context, tok *jwt.JSONWebToken, iss, roleAccount string, now time.Time) (*federation, error) {
	url, scheme := issuerURL(iss)
	providerARN := store.OIDCProviderARN(roleAccount, url)
	var provider *store.OIDCProvider
	err := s.DB.View(ctx, func(tx *store.Tx) error {
		var err error
		provider, err = tx.OIDCProvider(ctx, providerARN)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || err == nil && !issuerMatches(scheme, url, provider) {
		return nil, invalidToken("No OpenIDConnect provider found in your account for %s", iss)
	}
	if err != nil {
		return nil, fmt.Errorf("sts: OpenID Connect provider %s: %w", providerARN, err)
	}
	web, err := s.verifyWebToken(ctx, tok, provider, now)
	if err != nil {
		return nil, err
	}
	return &federation{provider: provider.ARN, keyPrefix: provider.URL, web: web}, nil
}

// licenseFederation verifies an access token of License Manager's token issuer with
// LicenseTokens: no provider is registered and no key is fetched.
func (s *Service) licenseFederation(ctx context.Context, raw string, now time.Time) (*federation, error) {
	if s.LicenseTokens == nil {
		return nil, invalidToken("This server accepts no License Manager access tokens.")
	}
	t, err := s.LicenseTokens.VerifyAccessToken(ctx, raw, now)
	var terr *licensemanager.TokenError
	switch {
	case errors.As(err, &terr) && terr.Expired:
		return nil, awserr.New("ExpiredTokenException", "%s", terr.Reason)
	case errors.As(err, &terr):
		return nil, invalidToken("%s", terr.Reason)
	case err != nil:
		return nil, fmt.Errorf("sts: License Manager access token: %w", err)
	}
	return &federation{
		provider:  licensemanager.TokenProvider,
		keyPrefix: licensemanager.TokenProvider,
		web:       &webToken{Issuer: licensemanager.TokenIssuer, Subject: t.TokenID, Audience: t.LicenseARN, AMR: t.AMR, Expiry: t.Expiry},
		roleARNs:  t.RoleARNs,
	}, nil
}
