// Package sts implements the parts of AWS Security Token Service that Allot serves.
package sts

import (
	"context"

	"github.com/allot-dev/allot/internal/identity"
)

// Service answers STS operations. The zero value is ready to use.
type Service struct{}

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
