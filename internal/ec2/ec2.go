// Package ec2 implements the subset of Amazon EC2 that self-managed licenses need: Dedicated
// Hosts (AllocateHosts, ReleaseHosts, DescribeHosts), instances (RunInstances, StartInstances,
// StopInstances, TerminateInstances, DescribeInstances) and images (RegisterImage,
// CreateImage, DescribeImages, DeregisterImage). Nothing runs: each resource is a row of the
// inventory with the CPU topology of its instance type (instancetypes.go), and every launch
// and start goes through the license configurations it is associated with (package
// licenseconfig) in the same transaction, so a launch that breaks a rule or a hard limit is
// refused before anything is written.
//
// Operations are methods named after the EC2 actions; their inputs and outputs carry the
// ec2Query protocol's names in `query` and `xml` tags. Errors carry EC2's codes.
package ec2

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/licenseconfig"
	"github.com/allot-dev/allot/internal/store"
)

// EC2 error codes.
const (
	ErrInvalidParameterValue       = "InvalidParameterValue"
	ErrInvalidParameterCombination = "InvalidParameterCombination"
	ErrMissingParameter            = "MissingParameter"
	ErrDryRunOperation             = "DryRunOperation"
	ErrIncorrectInstanceState      = "IncorrectInstanceState"
	ErrInsufficientHostCapacity    = "InsufficientHostCapacity"
	ErrUnsupported                 = "Unsupported"
	// ErrLicenseUsage is a launch or start refused by a license configuration: Allot names it
	// as License Manager does.
	ErrLicenseUsage = licenseconfig.ErrLicenseUsage
)

// Service answers the EC2 actions. Safe for concurrent use once its fields are set.
type Service struct {
	DB *store.DB
	// Licenses enforces license configurations on launches and starts; required.
	Licenses *licenseconfig.Service
	// Now is when DescribeInstances and the state changes look from, to leave out the
	// instances terminated more than an hour before; stored times (launch, state changes)
	// come from the store's transaction clock. time.Now when nil.
	Now func() time.Time
	// Authz decides the ec2:CreateTags that tagging on creation (TagSpecification) also needs;
	// when nil, an authz.Authorizer reading DB's policies does.
	Authz Authorizer

	authzOnce    sync.Once
	defaultAuthz Authorizer
}

// Instance states and their codes, as EC2 reports them.
const (
	StatePending      = "pending"
	StateRunning      = "running"
	StateShuttingDown = "shutting-down"
	StateTerminated   = "terminated"
	StateStopping     = "stopping"
	StateStopped      = "stopped"
)

func stateCode(s string) int {
	switch s {
	case StatePending:
		return 0
	case StateRunning:
		return 16
	case StateShuttingDown:
		return 32
	case StateTerminated:
		return 48
	case StateStopping:
		return 64
	case StateStopped:
		return 80
	}
	return 0
}

// newID returns prefix, a dash and 17 random hex digits, as EC2's long IDs.
func newID(prefix string) string {
	b := make([]byte, 9)
	rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)[:17]
}

var (
	instanceIDPattern = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)
	hostIDPattern     = regexp.MustCompile(`^h-[0-9a-f]{8,17}$`)
	imageIDPattern    = regexp.MustCompile(`^ami-[0-9a-f]{8,17}$`)
)

func invalid(format string, args ...any) error {
	return awserr.New(ErrInvalidParameterValue, format, args...)
}

func missing(name string) error {
	return awserr.New(ErrMissingParameter, "The request must contain the parameter %s.", name)
}

// maxClientTokenLen is the longest ClientToken EC2 accepts, in ASCII characters.
const maxClientTokenLen = 64

// checkClientToken checks a ClientToken member: at most 64 ASCII characters, as in EC2.
func checkClientToken(token string) error {
	if len(token) > maxClientTokenLen {
		return invalid("ClientToken must have at most %d ASCII characters, not %d.", maxClientTokenLen, len(token))
	}
	for i := 0; i < len(token); i++ {
		if token[i] >= utf8.RuneSelf {
			return invalid("ClientToken must have ASCII characters only.")
		}
	}
	return nil
}

func dryRun(dry *bool) error {
	if dry != nil && *dry {
		return awserr.New(ErrDryRunOperation, "Request would have succeeded, but DryRun flag is set.")
	}
	return nil
}

// licenseError gives a License Manager error EC2's spelling: InvalidParameterValueException
// (an unknown configuration) becomes InvalidParameterValue; LicenseUsageException stays.
func licenseError(err error) error {
	if e, ok := awserr.As(err); ok && e.Code == licenseconfig.ErrInvalidParameterValue {
		return &awserr.Error{Code: ErrInvalidParameterValue, Message: e.Message, Err: err}
	}
	return err
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

func isLimit(err error) bool { return errors.Is(err, store.ErrLimitExceeded) }

// checkIDs checks a list of resource IDs against their pattern; kind names them in errors
// (InvalidInstanceID.Malformed and the like).
func checkIDs(kind string, pattern *regexp.Regexp, ids []string) error {
	for _, id := range ids {
		if !pattern.MatchString(id) {
			return awserr.New(kind+".Malformed", "Invalid id: %q", id)
		}
	}
	return nil
}

// Filter is an EC2 filter: a name and values, any of which matches.
type Filter struct {
	Name  string
	Value []string
}

// filters reads Filter.N into a map of name to values; names must be among allowed, where
// "tag:<key>" allows every tag:KEY.
func filters(fs []Filter, allowed ...string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, f := range fs {
		ok := false
		for _, a := range allowed {
			ok = ok || a == f.Name || a == "tag:<key>" && strings.HasPrefix(f.Name, "tag:") && len(f.Name) > len("tag:")
		}
		if !ok {
			return nil, invalid("The filter '%s' is invalid; this server supports %v.", f.Name, allowed)
		}
		out[f.Name] = append(out[f.Name], f.Value...)
	}
	return out, nil
}

// stateXML is an instance state.
type stateXML struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

func stateOf(s string) stateXML { return stateXML{Code: stateCode(s), Name: s} }

// UnsuccessfulItem is a resource an action could not act on, and why.
type UnsuccessfulItem struct {
	Error      UnsuccessfulItemError `xml:"error"`
	ResourceID string                `xml:"resourceId"`
}

// UnsuccessfulItemError is the error of an UnsuccessfulItem.
type UnsuccessfulItemError struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

// page reads MaxResults (lo to 1000; 1000 when absent) and NextToken (the ID to continue
// after, as returned by the previous page).
func page(maxResults *int32, nextToken *string, lo int32) (limit int, after string, err error) {
	limit = 1000
	if maxResults != nil {
		if *maxResults < lo || *maxResults > 1000 {
			return 0, "", invalid("MaxResults must be between %d and 1000, not %d.", lo, *maxResults)
		}
		limit = int(*maxResults)
	}
	if nextToken != nil && *nextToken != "" {
		tok, err := hex.DecodeString(*nextToken)
		if err != nil || len(tok) == 0 {
			return 0, "", awserr.New("InvalidPaginationToken", "The token '%s' is invalid.", *nextToken)
		}
		after = string(tok)
	}
	return limit, after, nil
}

// nextToken returns the NextToken after id when a page is full.
func nextToken(id string) *string {
	t := hex.EncodeToString([]byte(id))
	return &t
}

func wrap(op string, err error) error {
	if _, ok := awserr.As(err); ok || err == nil {
		return err
	}
	return fmt.Errorf("ec2: %s: %w", op, err)
}
