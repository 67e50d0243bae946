package sts

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/licensemanager"
)

// fakeLicenseTokens answers VerifyAccessToken with a fixed result.
type fakeLicenseTokens struct {
	tok *licensemanager.AccessToken
	err error
}

func (f fakeLicenseTokens) VerifyAccessToken(context.Context, string, time.Time) (*licensemanager.AccessToken, error) {
	return f.tok, f.err
}

func TestLicenseFederation(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	ok := &licensemanager.AccessToken{TokenID: "0123456789abcdef0123456789abcdef", LicenseARN: "arn:aws:license-manager::111122223333:license:l-1",
		AccountID: "111122223333", AMR: []string{licensemanager.IssuerAccountAMR + "111122223333", "p"}, RoleARNs: []string{"arn:aws:iam::111122223333:role/R"}}
	fed, err := (&Service{LicenseTokens: fakeLicenseTokens{tok: ok}}).licenseFederation(ctx, "tok", now)
	if err != nil {
		t.Fatal(err)
	}
	if fed.provider != "openid-license-manager.amazonaws.com" || fed.keyPrefix != fed.provider || fed.web.Subject != ok.TokenID ||
		fed.web.Audience != ok.LicenseARN || !slices.Equal(fed.roleARNs, ok.RoleARNs) {
		t.Errorf("federation = %+v / %+v", fed, fed.web)
	}
	c := webIdentityContext(&AssumeRoleWithWebIdentityInput{RoleSessionName: "s"}, fed)
	if c["openid-license-manager.amazonaws.com:aud"][0] != ok.LicenseARN || c["openid-license-manager.amazonaws.com:sub"][0] != ok.TokenID ||
		!slices.Equal(c["openid-license-manager.amazonaws.com:amr"], ok.AMR) || c["aws:FederatedProvider"][0] != "openid-license-manager.amazonaws.com" {
		t.Errorf("condition keys = %v", c)
	}

	for name, tc := range map[string]struct {
		s    *Service
		code string
	}{
		"ErrNoVerifier": {&Service{}, "InvalidIdentityToken"},
		"ErrDeleted":    {&Service{LicenseTokens: fakeLicenseTokens{err: &licensemanager.TokenError{Reason: "Token x was deleted"}}}, "InvalidIdentityToken"},
		"ErrExpired":    {&Service{LicenseTokens: fakeLicenseTokens{err: &licensemanager.TokenError{Reason: "expired", Expired: true}}}, "ExpiredTokenException"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tc.s.licenseFederation(ctx, "tok", now)
			if awserr.Code(err) != tc.code {
				t.Errorf("licenseFederation error = %v, want %s", err, tc.code)
			}
		})
	}
	// Another failure (the database) is not the caller's fault.
	_, err = (&Service{LicenseTokens: fakeLicenseTokens{err: errors.New("disk on fire")}}).licenseFederation(ctx, "tok", now)
	if err == nil || awserr.Code(err) != "" {
		t.Errorf("licenseFederation(internal failure) = %v, want an internal error", err)
	}
}
