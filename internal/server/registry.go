package server

import (
	"context"

	"github.com/allot-dev/allot/internal/identity"
)

// Protocol is an AWS wire protocol.
type Protocol int

// Wire protocols.
const (
	ProtocolJSON  Protocol = iota + 1 // awsJson1_1: X-Amz-Target selects the operation
	ProtocolQuery                     // awsQuery: Action= selects the operation, XML responses
	// ProtocolEC2 is ec2Query: requests as Query's but with flat lists (Name.N), responses
	// without a Result wrapper, errors in EC2's <Response><Errors> envelope.
	ProtocolEC2
)

// Service is one AWS service as the server exposes it: how requests reach it and its
// operations.
type Service struct {
	Name         string   // short name for logs and metrics, e.g. "sts"
	Protocol     Protocol //
	SigningName  string   // the SigV4 credential-scope service, e.g. "license-manager"
	TargetPrefix string   // JSON: the X-Amz-Target prefix before the dot
	// TargetAliases are other prefixes clients send for the service: the Go SDK sends
	// CloudTrail's shape name without its namespace.
	TargetAliases []string
	Version       string // Query: the API version clients send
	XMLNamespace  string // Query: the response namespace
	EventSource   string // CloudTrail eventSource, e.g. "sts.amazonaws.com"
	InternalCode  string // the service's internal-error code
	Operations    map[string]*Operation
}

// Operation is one API operation: its name, the IAM action that authorises it and the
// function that performs it.
type Operation struct {
	Name     string
	Action   string // IAM action, e.g. "sts:GetCallerIdentity"
	ReadOnly bool   // CloudTrail readOnly; read-only calls are audited after they run
	// Unauthorized marks operations the server does not authorise before running them: those no
	// policy can deny (sts:GetCallerIdentity) and those that decide for themselves because a
	// resource policy takes part (sts:AssumeRole and its trust policy).
	Unauthorized bool
	// TokenAuthenticated marks operations whose caller is authenticated by a token in their
	// input rather than by the request's signature: STS AssumeRoleWithWebIdentity and License
	// Manager GetAccessToken, which AWS's clients send unsigned. Such a request is accepted
	// without a signature (the operation verifies the token; its caller is nil, and it is not
	// authorized before it runs); a signed one is verified and authorized as usual.
	TokenAuthenticated bool
	// Resource returns the ARN the operation acts on and the account that owns it ("" for the
	// caller's), for resource-level permissions; nil means "*".
	Resource func(ctx context.Context, caller *identity.Principal, in any) (arn, account string)
	// MoreResources returns further ARNs of the caller's account the operation acts on, each
	// authorized as Resource is (UpdateLicenseSpecificationsForResource: every configuration
	// it adds or removes); nil for none.
	MoreResources func(ctx context.Context, caller *identity.Principal, in any) []string

	newInput func() any // a pointer to the operation's zero input
	run      func(ctx context.Context, caller *identity.Principal, in any) (any, error)
}

// opFunc is the shape of every service operation.
type opFunc[In, Out any] func(ctx context.Context, caller *identity.Principal, in *In) (*Out, error)

// op adapts a typed service operation to the dispatcher.
func op[In, Out any](name, action string, readOnly bool, fn opFunc[In, Out]) *Operation {
	return &Operation{
		Name:     name,
		Action:   action,
		ReadOnly: readOnly,
		newInput: func() any { return new(In) },
		run: func(ctx context.Context, caller *identity.Principal, in any) (any, error) {
			out, err := fn(ctx, caller, in.(*In))
			if err != nil {
				return nil, err
			}
			return out, nil
		},
	}
}

func newService(s Service, ops ...*Operation) *Service {
	s.Operations = make(map[string]*Operation, len(ops))
	for _, o := range ops {
		s.Operations[o.Name] = o
	}
	return &s
}
