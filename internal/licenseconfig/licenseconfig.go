// Package licenseconfig implements AWS License Manager's self-managed licenses: license
// configurations (CreateLicenseConfiguration and the rest, with their tags), the association
// of resources with them (UpdateLicenseSpecificationsForResource and the lists of
// associations, usage and failures), the resource inventory (ListResourceInventory) and the
// enforcement that EC2 launches go through: rules checked and units counted before anything
// is written.
//
// Each operation is a method named after the AWS operation, reading in one store.Read or
// changing in one store.Apply. Every error is one the operation's own error list names: the
// configuration operations model no ValidationException and no not-found error, so bad input
// and unknown configurations are InvalidParameterValueException.
package licenseconfig

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/allot-dev/allot/internal/authz"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/pagetoken"
	"github.com/allot-dev/allot/internal/store"
)

// Error codes the operations return, as License Manager spells them.
const (
	ErrInvalidParameterValue = "InvalidParameterValueException"
	ErrFilterLimitExceeded   = "FilterLimitExceededException"
	ErrInvalidResourceState  = "InvalidResourceStateException"
	ErrLicenseUsage          = "LicenseUsageException"
	ErrAccessDenied          = "AccessDeniedException"
	ErrValidation            = "ValidationException" // the tag operations only
)

// Limits.
const (
	maxNameLen        = 255
	maxDescriptionLen = 1024
	maxRules          = 50
	maxFilters        = 10 // filters per list call
	maxFilterValues   = 10 // values per filter
	// MaxConfigurationsPerResource is how many configurations one resource may be associated
	// with, as in License Manager.
	MaxConfigurationsPerResource = 10
	defaultRegion                = "us-east-1"
)

// Service answers the self-managed license operations and enforces configurations on the EC2
// subset's launches. Safe for concurrent use once its fields are set.
type Service struct {
	DB *store.DB
	// Now is the clock of RunStaleSweeper (stale machines, the end of #licenseAffinityToHost
	// periods); stored times (associations, alerts, failures) come from the store's
	// transaction clock. time.Now when nil.
	Now func() time.Time
	// Logger logs what cannot be answered to a caller; slog.Default() when nil.
	Logger *slog.Logger
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// RequestRegion returns the region the request was signed for, us-east-1 outside a request or
// when the signature names none.
func RequestRegion(ctx context.Context) string {
	if o, ok := authz.OriginFrom(ctx); ok && o.Region != "" {
		return o.Region
	}
	return defaultRegion
}

// ConfigurationARN returns the ARN of a license configuration; unlike managed licenses,
// configurations are regional.
func ConfigurationARN(region, accountID, id string) string {
	return "arn:aws:license-manager:" + region + ":" + accountID + ":license-configuration:" + id
}

var configurationARNPattern = regexp.MustCompile(`^arn:aws:license-manager:([a-z0-9-]+):(\d{12}):license-configuration:(lic-[0-9a-f]{32})$`)

// IsConfigurationARN reports whether arn has the form of a license configuration's ARN.
func IsConfigurationARN(arn string) bool { return configurationARNPattern.MatchString(arn) }

// newConfigurationID returns "lic-" and 32 random hex digits.
func newConfigurationID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "lic-" + hex.EncodeToString(b)
}

func invalid(format string, args ...any) error {
	return awserr.New(ErrInvalidParameterValue, format, args...)
}

// checkConfigurationARN checks a LicenseConfigurationArn member.
func checkConfigurationARN(member, arn string) error {
	if arn == "" {
		return invalid("%s is required.", member)
	}
	if !configurationARNPattern.MatchString(arn) {
		return invalid("%s must be a license configuration ARN (arn:aws:license-manager:REGION:ACCOUNT:license-configuration:lic-…), not %q.", member, clip(arn))
	}
	return nil
}

// ownConfiguration reads a configuration of the caller's account in the request's region;
// one that does not exist there is an InvalidParameterValueException.
func ownConfiguration(ctx context.Context, tx *store.Tx, caller *identity.Principal, arn string, lock bool) (*store.LicenseConfiguration, error) {
	var c *store.LicenseConfiguration
	var err error
	if lock {
		c, err = tx.LockLicenseConfiguration(ctx, arn)
	} else {
		c, err = tx.LicenseConfiguration(ctx, arn)
	}
	if isNotFound(err) || (err == nil && (c.AccountID != caller.AccountID || c.Region != RequestRegion(ctx))) {
		return nil, notFound(ctx, caller, arn)
	}
	return c, err
}

func notFound(ctx context.Context, caller *identity.Principal, arn string) error {
	if m := configurationARNPattern.FindStringSubmatch(arn); m != nil && m[1] != RequestRegion(ctx) {
		return invalid("License configuration %s is in region %s, not %s: send the request to %s.", arn, m[1], RequestRegion(ctx), m[1])
	}
	return invalid("License configuration %s does not exist in account %s.", arn, caller.AccountID)
}

// checkString checks a string member's length and characters.
func checkString(member, v string, req bool, hi int) error {
	if v == "" {
		if req {
			return invalid("%s is required.", member)
		}
		return nil
	}
	if n := utf8.RuneCountInString(v); n > hi {
		return invalid("%s must have at most %d characters, not %d.", member, hi, n)
	}
	for _, r := range v {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return invalid("%s must not contain control characters.", member)
		}
	}
	return nil
}

func clip(s string) string {
	if len(s) <= 200 {
		return s
	}
	return s[:200] + "…"
}

// Paging.

const defaultMaxResults = 100

type position struct {
	After string `json:"a,omitempty"`
	Op    string `json:"o"`
	Key   string `json:"k,omitempty"` // what the list is of, so a token is not used for another
}

type page struct {
	op, key string
	limit   int
	after   string
}

// readPage reads MaxResults and NextToken. The models put no bound on MaxResults: a larger
// one is served in pages of at most 100.
func readPage(op, key string, maxResults *int32, nextToken *string) (*page, error) {
	p := &page{op: op, key: key, limit: defaultMaxResults}
	if maxResults != nil {
		if *maxResults < 1 {
			return nil, invalid("MaxResults must be at least 1, not %d.", *maxResults)
		}
		p.limit = min(int(*maxResults), defaultMaxResults)
	}
	if nextToken != nil && *nextToken != "" {
		var pos position
		if err := pagetoken.Decode(*nextToken, &pos); err != nil || pos.Op != op || pos.Key != key {
			return nil, invalid("NextToken was not returned by a previous %s call with these parameters.", op)
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

// Filters.

// filterValues reads generic Filters: names must be among allowed, at most maxFilters filters
// of 1 to maxFilterValues values each. A name given twice has its values joined.
func filterValues(filters []Filter, allowed ...string) (map[string][]string, error) {
	if len(filters) > maxFilters {
		return nil, awserr.New(ErrFilterLimitExceeded, "Filters may have at most %d filters, not %d.", maxFilters, len(filters))
	}
	out := map[string][]string{}
	for i, f := range filters {
		name := ""
		if f.Name != nil {
			name = *f.Name
		}
		if !slices.Contains(allowed, name) {
			return nil, invalid("Filters[%d].Name must be one of %s (case-sensitive), not %q.", i, strings.Join(allowed, ", "), name)
		}
		if len(f.Values) == 0 {
			return nil, invalid("Filters[%d] (%s) needs a value.", i, name)
		}
		if len(f.Values) > maxFilterValues {
			return nil, awserr.New(ErrFilterLimitExceeded, "Filters[%d] (%s) may have at most %d values, not %d.", i, name, maxFilterValues, len(f.Values))
		}
		out[name] = append(out[name], f.Values...)
	}
	return out, nil
}

// boolFilter reads a filter whose values are true or false: nil when absent; both values
// match everything (nil too).
func boolFilter(name string, vs []string) (*bool, error) {
	if len(vs) == 0 {
		return nil, nil
	}
	var seenTrue, seenFalse bool
	for _, v := range vs {
		switch strings.ToLower(v) {
		case "true":
			seenTrue = true
		case "false":
			seenFalse = true
		default:
			return nil, invalid("Filter %s takes true or false, not %q.", name, v)
		}
	}
	if seenTrue && seenFalse {
		return nil, nil
	}
	return &seenTrue, nil
}

func itoa(n int64) string { return fmt.Sprint(n) }
