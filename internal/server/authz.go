package server

import (
	"context"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
)

// RootOnly allows an account's root user every action and denies everyone else. It stands
// until the IAM policy evaluator decides for other principals.
type RootOnly struct{}

// Authorize allows root and denies other principals with AccessDenied.
func (RootOnly) Authorize(_ context.Context, p *identity.Principal, action string) error {
	if p.Kind == identity.KindRoot {
		return nil
	}
	return awserr.New("AccessDenied", "User: %s is not authorized to perform: %s because no identity-based policy allows the %s action", p.ARN, action, action)
}
