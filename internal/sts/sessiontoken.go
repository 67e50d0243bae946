package sts

import (
	"context"
	"fmt"
	"time"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// Limits of GetSessionToken, as in AWS.
const (
	DefaultUserSessionDuration = 12 * time.Hour
	MaxUserSessionDuration     = 36 * time.Hour
	MaxRootSessionDuration     = time.Hour
)

// GetSessionTokenInput is the input of GetSessionToken.
type GetSessionTokenInput struct {
	DurationSeconds *int32  `json:"DurationSeconds,omitempty"`
	SerialNumber    *string `json:"SerialNumber,omitempty"`
	TokenCode       *string `json:"TokenCode,omitempty"`
}

// GetSessionTokenOutput is the output of GetSessionToken.
type GetSessionTokenOutput struct {
	Credentials Credentials `json:"Credentials"`
}

// GetSessionToken returns temporary credentials for the calling IAM user or root, with the
// caller's own permissions. It needs no permission, as in AWS, and cannot be called with
// temporary credentials. Errors: AccessDenied (session credentials), ValidationError.
func (s *Service) GetSessionToken(ctx context.Context, caller *identity.Principal, in *GetSessionTokenInput) (*GetSessionTokenOutput, error) {
	if caller.Temporary {
		return nil, awserr.New("AccessDenied", "Cannot call GetSessionToken with session credentials")
	}
	if in.SerialNumber != nil || in.TokenCode != nil {
		return nil, awserr.New("InvalidParameterValue", "MFA devices are not supported by this server: omit SerialNumber and TokenCode.")
	}
	duration := DefaultUserSessionDuration
	if in.DurationSeconds != nil {
		duration = time.Duration(*in.DurationSeconds) * time.Second
		if duration < MinSessionDuration || duration > MaxUserSessionDuration {
			return nil, validationError("durationSeconds", fmt.Sprint(*in.DurationSeconds), "Member must have value between 900 and 129600")
		}
	}
	if caller.Kind == identity.KindRoot && duration > MaxRootSessionDuration {
		duration = MaxRootSessionDuration // AWS caps root sessions at one hour rather than failing
	}
	now := s.now().UTC().Truncate(time.Second)
	keyID, secret, token := newSessionCredentials()
	sess := &store.Session{
		AccessKeyID: keyID,
		AccountID:   caller.AccountID,
		Kind:        caller.Kind,
		PrincipalID: caller.PrincipalID,
		UserName:    caller.UserName,
		Secret:      secret,
		Token:       token,
		SourceARN:   caller.ARN,
		CreatedAt:   now,
		ExpiresAt:   now.Add(duration),
	}
	out := &GetSessionTokenOutput{Credentials: Credentials{AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: token, Expiration: sess.ExpiresAt}}
	err := s.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		audit.PendingFrom(ctx).SetResponse(out)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
