// Package licensemanager implements AWS License Manager's managed licenses: the issuer's
// side (CreateLicense, CreateLicenseVersion, GetLicense, ListLicenses, ListLicenseVersions,
// DeleteLicense), grants that carry a license to other accounts and organizations (CreateGrant
// and the grant lifecycle, the received-license views), the consumption side (CheckoutLicense,
// CheckoutBorrowLicense, ExtendLicenseConsumption, CheckInLicense, GetLicenseUsage) with
// tokens signed by the issuers' keys, tokens for consumers without an account, tags, and the
// issuers' keys, published as a JWKS.
//
// Each operation is a method named after the AWS operation. Read operations run in one
// store.Read; each mutating operation makes its change in one store.Apply (or store.Update),
// which also records its response in the request's audit event. Authorization by policies
// happens before an operation runs; grants, the other side of a cross-account use, are checked
// by the operations. Every error is one the operation's own error list names, since the Go SDK
// types only those.
package licensemanager

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/allot-dev/allot/internal/authz"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/pagetoken"
	"github.com/allot-dev/allot/internal/store"
)

// Error codes License Manager operations return, as it spells them on the wire.
const (
	ErrAccessDenied          = "AccessDeniedException"
	ErrConflict              = "ConflictException"
	ErrInvalidParameterValue = "InvalidParameterValueException"
	ErrRedirect              = "RedirectException"
	ErrResourceLimitExceeded = "ResourceLimitExceededException"
	ErrResourceNotFound      = "ResourceNotFoundException"
	ErrValidation            = "ValidationException"

	// Checkout errors.
	ErrEntitlementNotAllowed             = "EntitlementNotAllowedException"
	ErrNoEntitlementsAllowed             = "NoEntitlementsAllowedException"
	ErrUnsupportedDigitalSignatureMethod = "UnsupportedDigitalSignatureMethodException"
)

// License statuses (LicenseStatus) and deletion statuses (LicenseDeletionStatus).
const (
	StatusAvailable        = "AVAILABLE"
	StatusPendingAvailable = "PENDING_AVAILABLE"
	StatusDeactivated      = "DEACTIVATED"
	StatusSuspended        = "SUSPENDED"
	StatusExpired          = "EXPIRED"
	StatusPendingDelete    = "PENDING_DELETE"
	StatusDeleted          = "DELETED"
)

var licenseStatuses = []string{StatusAvailable, StatusPendingAvailable, StatusDeactivated, StatusSuspended, StatusExpired, StatusPendingDelete, StatusDeleted}

// entitlementUnits are the values of EntitlementUnit.
var entitlementUnits = []string{
	"Count", "None", "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
	"Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
	"Terabits/Second", "Count/Second",
}

var renewTypes = []string{"None", "Weekly", "Monthly"}

// Service answers License Manager operations. Safe for concurrent use once its fields are set.
type Service struct {
	DB *store.DB
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// Logger logs the background work (RunReclaimer); slog.Default() when nil.
	Logger *slog.Logger

	keys sync.Map // key ID → jose.Signer: issuer keys, parsed once (signing.go)

	cacheOnce sync.Once
	cache     *caches
}

// caches are the service's caches of what the hot path reads (store.Cache: dropped when
// this process commits a change to licenses, grants, organizations or issuer keys, and used
// at most the store's cache TTL). The hard limit is never decided from them: units are
// counted by the write transaction's own conditional UPDATE.
type caches struct {
	reach *store.Cache[reachKey, []*reachable]        // unjudged reachable licenses
	keys  *store.Cache[issuerKeyID, *store.IssuerKey] // issuers' current keys
}

// maxCachedQueries bounds each of the service's caches.
const maxCachedQueries = 1 << 14

func (s *Service) caches() *caches {
	s.cacheOnce.Do(func() {
		s.cache = &caches{
			reach: store.NewCache[reachKey, []*reachable](s.DB, maxCachedQueries),
			keys:  store.NewCache[issuerKeyID, *store.IssuerKey](s.DB, maxCachedQueries),
		}
	})
	return s.cache
}

// issuerKeyID names an issuer's current key of an algorithm.
type issuerKeyID struct{ account, issuer, alg string }

// currentKey returns the current key of an issuer, through the cache.
func (s *Service) currentKey(ctx context.Context, accountID, issuerName, alg string) (*store.IssuerKey, error) {
	return s.caches().keys.Get(ctx, issuerKeyID{accountID, issuerName, alg}, func(ctx context.Context) (*store.IssuerKey, error) {
		return store.Read(ctx, s.DB, func(tx *store.Tx) (*store.IssuerKey, error) {
			return tx.IssuerKey(ctx, accountID, issuerName, alg)
		})
	})
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// requestRegion returns the region the request was signed for ("" outside a request).
func requestRegion(ctx context.Context) string {
	o, _ := authz.OriginFrom(ctx)
	return o.Region
}

// LicenseARN returns the ARN of a license: as in AWS, it has no region.
func LicenseARN(accountID, id string) string {
	return "arn:aws:license-manager::" + accountID + ":license:" + id
}

// newLicenseID returns "l-" and 32 random hex digits.
func newLicenseID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "l-" + hex.EncodeToString(b)
}

var (
	// arnPattern is the model's pattern of ARN members (LP1).
	arnPattern        = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:[A-Za-z0-9][A-Za-z0-9_/.-]{0,62}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]*$`) // the model says {0,1023}; Go allows 1000 repeats, and the length is checked apart
	licenseARNPattern = regexp.MustCompile(`^arn:aws:license-manager::(\d{12}):license:l-[0-9a-f]{32}$`)
	clientTokenRE     = regexp.MustCompile(`^\S+$`)
)

// Errors.

func validation(format string, args ...any) error { return awserr.New(ErrValidation, format, args...) }

func redirect(home string) error {
	e := awserr.New(ErrRedirect, "This license's home Region is %s: send the request to %s.", home, home)
	e.Fields = map[string]string{"Location": home}
	return e
}

// checkString checks a required or optional string member's length in characters; errors
// carry code.
func checkString(code, member, v string, req bool, hi int) error {
	if v == "" {
		if req {
			return awserr.New(code, "%s is required.", member)
		}
		return nil
	}
	if n := utf8.RuneCountInString(v); n > hi {
		return awserr.New(code, "%s must have at most %d characters, not %d.", member, hi, n)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return awserr.New(code, "%s must not contain control characters.", member)
		}
	}
	return nil
}

func checkEnum(code, member, v string, req bool, values []string) error {
	if v == "" {
		if req {
			return awserr.New(code, "%s is required.", member)
		}
		return nil
	}
	for _, x := range values {
		if v == x {
			return nil
		}
	}
	return awserr.New(code, "%s must be one of %v, not %q.", member, values, v)
}

// checkLicenseARN checks a LicenseArn member: an ARN, and a license's.
func checkLicenseARN(code, member, v string) error {
	if v == "" {
		return awserr.New(code, "%s is required.", member)
	}
	if len(v) > 2048 || !arnPattern.MatchString(v) {
		return awserr.New(code, "%s must be an ARN, not %q.", member, v)
	}
	if !licenseARNPattern.MatchString(v) {
		return awserr.New(code, "%s must be a license ARN (arn:aws:license-manager::ACCOUNT:license:l-…), not %q.", member, v)
	}
	return nil
}

func checkClientToken(v string) error {
	if v == "" {
		return validation("ClientToken is required: send a unique string per request so that a retry returns the first answer.")
	}
	if len(v) > 2048 || !clientTokenRE.MatchString(v) {
		return validation("ClientToken must be 1 to 2048 characters without white space.")
	}
	return nil
}

// Paging.

const (
	defaultMaxResults = 100
	maxMaxResults     = 100
)

type position struct {
	After string `json:"a,omitempty"`
	Op    string `json:"o"`
	Key   string `json:"k,omitempty"` // what the list is of (a license ARN), so a token is not used for another
}

type page struct {
	op, key string
	limit   int
	after   string
}

func readPage(code, op, key string, maxResults *int32, nextToken *string) (*page, error) {
	p := &page{op: op, key: key, limit: defaultMaxResults}
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > maxMaxResults {
			return nil, awserr.New(code, "MaxResults must be between 1 and %d, not %d.", maxMaxResults, *maxResults)
		}
		p.limit = int(*maxResults)
	}
	if nextToken != nil && *nextToken != "" {
		var pos position
		if err := pagetoken.Decode(*nextToken, &pos); err != nil || pos.Op != op || pos.Key != key {
			return nil, awserr.New(code, "NextToken was not returned by a previous %s call with these parameters.", op)
		}
		p.after = pos.After
	}
	return p, nil
}

// cut cuts items (read with a limit one more than the page's) to the page and returns the
// NextToken of the next page, nil on the last one.
func cut[T any](p *page, items []T, key func(T) string) ([]T, *string) {
	if len(items) <= p.limit {
		return items, nil
	}
	items = items[:p.limit]
	tok := pagetoken.Encode(position{After: key(items[len(items)-1]), Op: p.op, Key: p.key})
	return items, &tok
}

func itoa(v int64) string { return fmt.Sprint(v) }
