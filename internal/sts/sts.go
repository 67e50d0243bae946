// Package sts implements the parts of AWS Security Token Service that Allot serves: who am I,
// and temporary credentials for roles (AssumeRole, and AssumeRoleWithWebIdentity for users of
// OpenID Connect providers) and users (GetSessionToken).
package sts

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"regexp"
	"time"

	"github.com/allot-dev/allot/internal/authz"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// Service answers STS operations. Safe for concurrent use once its fields are set; it must
// not be copied after first use.
type Service struct {
	DB    *store.DB
	Authz *authz.Authorizer
	Now   func() time.Time
	// Keys fetches OpenID Connect issuers' signing keys for AssumeRoleWithWebIdentity; nil
	// refuses web identity tokens with IDPCommunicationError.
	Keys KeyFetcher
	// KeyCacheTTL is how long fetched keys are used; DefaultKeyCacheTTL when zero.
	KeyCacheTTL time.Duration
	// LicenseTokens verifies License Manager's access tokens for AssumeRoleWithWebIdentity;
	// nil refuses them with InvalidIdentityToken.
	LicenseTokens LicenseTokens

	keys keyCache // issuers' keys, by issuer URL
}

// GetCallerIdentityInput is the (empty) input of GetCallerIdentity.
type GetCallerIdentityInput struct{}

// GetCallerIdentityOutput says who signed the request.
type GetCallerIdentityOutput struct {
	UserID  string `xml:"UserId" json:"UserId"`
	Account string `xml:"Account" json:"Account"`
	ARN     string `xml:"Arn" json:"Arn"`
}

// GetCallerIdentity returns the caller's user ID, account and ARN. It cannot be denied by any
// policy, as in AWS.
func (s *Service) GetCallerIdentity(ctx context.Context, caller *identity.Principal, _ *GetCallerIdentityInput) (*GetCallerIdentityOutput, error) {
	return &GetCallerIdentityOutput{
		UserID:  caller.PrincipalID,
		Account: caller.AccountID,
		ARN:     caller.ARN,
	}, nil
}

// Credentials are temporary security credentials.
type Credentials struct {
	AccessKeyID     string    `xml:"AccessKeyId" json:"AccessKeyId"`
	SecretAccessKey string    `json:"SecretAccessKey"`
	SessionToken    string    `json:"SessionToken"`
	Expiration      time.Time `json:"Expiration"`
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// newSessionCredentials returns a fresh temporary key, secret and token.
func newSessionCredentials() (keyID, secret, token string) {
	var b [96]byte
	rand.Read(b[:])
	return identity.NewAccessKeyID(identity.TemporaryKeyPrefix), identity.NewSecretAccessKey(),
		base64.StdEncoding.EncodeToString(b[:])
}

// validationError returns AWS's "1 validation error detected" ValidationError for one member.
func validationError(member, value, constraint string) error {
	return awserr.New("ValidationError", "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s",
		value, member, constraint)
}

// checkString validates a string member's length and pattern.
func checkString(member, value string, minLen, maxLen int, pattern *regexp.Regexp) error {
	if n := len([]rune(value)); n < minLen || n > maxLen {
		return validationError(member, value, fmt.Sprintf("Member must have length between %d and %d", minLen, maxLen))
	}
	if pattern != nil && !pattern.MatchString(value) {
		return validationError(member, value, "Member must satisfy regular expression pattern: "+pattern.String())
	}
	return nil
}
