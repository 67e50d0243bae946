// Package ssm implements the subset of AWS Systems Manager that the inventory agent reports
// through and an administrator reads it with: PutInventory (which also registers a machine
// as a managed instance), DescribeInstanceInformation, ListInventoryEntries and
// DeregisterManagedInstance. A managed instance (mi-…) is a row of the License Manager
// inventory (resource type SYSTEMS_MANAGER_MANAGED_INSTANCE); each report runs automated
// discovery (package licenseconfig) in the transaction that stores it.
//
// Operations are methods named after the SSM operations; their inputs and outputs carry
// SSM's member names. Errors carry SSM's codes; ValidationException stands for the model's
// constraints (required members, patterns, lengths), as SSM answers them.
package ssm

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/licenseconfig"
	"github.com/allot-dev/allot/internal/pagetoken"
	"github.com/allot-dev/allot/internal/store"
)

// Error codes the operations return, as SSM spells them.
const (
	ErrInvalidInstanceID        = "InvalidInstanceId"
	ErrInvalidTypeName          = "InvalidTypeNameException"
	ErrInvalidItemContent       = "InvalidItemContentException"
	ErrItemContentMismatch      = "ItemContentMismatchException"
	ErrItemSizeLimitExceeded    = "ItemSizeLimitExceededException"
	ErrTotalSizeLimitExceeded   = "TotalSizeLimitExceededException"
	ErrUnsupportedSchemaVersion = "UnsupportedInventorySchemaVersionException"
	ErrUnsupportedItemContext   = "UnsupportedInventoryItemContextException"
	ErrInvalidFilter            = "InvalidFilter"
	ErrInvalidFilterKey         = "InvalidFilterKey"
	ErrInvalidFilterValue       = "InvalidInstanceInformationFilterValue"
	ErrInvalidNextToken         = "InvalidNextToken"
	ErrValidation               = "ValidationException"
	ErrInternalServer           = "InternalServerError"
)

// codes lists every error code the operations return, for the check that each has an HTTP
// status.
func codes() []string {
	return []string{ErrInvalidInstanceID, ErrInvalidTypeName, ErrInvalidItemContent, ErrItemContentMismatch,
		ErrItemSizeLimitExceeded, ErrTotalSizeLimitExceeded, ErrUnsupportedSchemaVersion, ErrUnsupportedItemContext,
		ErrInvalidFilter, ErrInvalidFilterKey, ErrInvalidFilterValue, ErrInvalidNextToken, ErrValidation, ErrInternalServer}
}

// Service answers the SSM operations. Safe for concurrent use once its fields are set.
type Service struct {
	DB *store.DB
	// Licenses runs automated discovery on each report and releases a deregistered
	// instance's units; required.
	Licenses *licenseconfig.Service
	// Now is the clock PingStatus is judged by (stored times come from the store's
	// transaction clock); time.Now when nil.
	Now func() time.Time
	// Logger logs what cannot be answered to a caller; slog.Default() when nil.
	Logger *slog.Logger
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

var (
	// managedIDPattern is a managed instance's ID: what Allot registers.
	managedIDPattern = regexp.MustCompile(`^mi-[0-9a-f]{17}$`)
	// nodeIDPattern is any node ID SSM's model accepts (an EC2 instance's or a managed
	// instance's).
	nodeIDPattern = regexp.MustCompile(`^(i-(\w{8}|\w{17})|mi-\w{17})$`)
)

// IsManagedInstanceID reports whether id has the form of a managed instance's ID:
// "mi-" and 17 hex digits.
func IsManagedInstanceID(id string) bool { return managedIDPattern.MatchString(id) }

// InstanceARN returns the ARN of the managed instance id of the caller's account in the
// request's region: what its operations are authorized against.
func InstanceARN(ctx context.Context, caller *identity.Principal, id string) string {
	return licenseconfig.ManagedInstanceARN(licenseconfig.RequestRegion(ctx), caller.AccountID, id)
}

func validation(format string, args ...any) error { return awserr.New(ErrValidation, format, args...) }

// typed returns an error of code with the TypeName member SSM's item errors carry.
func typed(code, typeName, format string, args ...any) error {
	e := awserr.New(code, format, args...)
	e.Fields = map[string]string{"TypeName": typeName}
	return e
}

// unknownInstance is the InvalidInstanceId for an ID that names no managed instance of the
// caller's in this region.
func unknownInstance(ctx context.Context, caller *identity.Principal, id string) error {
	return awserr.New(ErrInvalidInstanceID, "Instance %s is not a managed instance of account %s in %s.",
		id, caller.AccountID, licenseconfig.RequestRegion(ctx))
}

// checkInstanceID checks an InstanceId member: required (ValidationException) and a managed
// instance's ID (InvalidInstanceId otherwise).
func checkInstanceID(id string) error {
	if id == "" {
		return validation("InstanceId is required.")
	}
	if !managedIDPattern.MatchString(id) {
		if nodeIDPattern.MatchString(id) {
			return awserr.New(ErrInvalidInstanceID, "Instance %s is not a managed instance: this server registers managed instances only (mi- and 17 hex digits).", id)
		}
		return awserr.New(ErrInvalidInstanceID, "InstanceId %q is not a managed instance ID (mi- and 17 hex digits).", clip(id))
	}
	return nil
}

// ownInstance reads the managed instance id of the caller's account in the request's region
// (locked for the rest of the transaction when lock is set). One that does not exist there
// or is deregistered is an InvalidInstanceId.
func ownInstance(ctx context.Context, tx *store.Tx, caller *identity.Principal, id string, lock bool) (*store.Resource, error) {
	arn := InstanceARN(ctx, caller, id)
	var r *store.Resource
	var err error
	if lock {
		r, err = tx.LockResource(ctx, arn)
	} else {
		r, err = tx.Resource(ctx, arn)
	}
	if errors.Is(err, store.ErrNotFound) || err == nil && (r.Type != store.ResourceManaged || r.State == store.ManagedDeregistered) {
		return nil, unknownInstance(ctx, caller, id)
	}
	return r, err
}

func clip(s string) string {
	if len(s) <= 200 {
		return s
	}
	for i := 200; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return s[:200] + "…"
}

// Paging.

type position struct {
	After string `json:"a,omitempty"`
	Op    string `json:"o"`
	Key   string `json:"k,omitempty"` // what the list is of, so a token is not used for another
}

// readToken decodes a NextToken of op for key into the position after which the page
// starts; "" starts at the beginning.
func readToken(op, key string, token *string) (string, error) {
	if token == nil || *token == "" {
		return "", nil
	}
	var pos position
	if err := pagetoken.Decode(*token, &pos); err != nil || pos.Op != op || pos.Key != key {
		return "", awserr.New(ErrInvalidNextToken, "NextToken was not returned by a previous %s call with these parameters.", op)
	}
	return pos.After, nil
}

func makeToken(op, key, after string) *string {
	t := pagetoken.Encode(position{After: after, Op: op, Key: key})
	return &t
}
