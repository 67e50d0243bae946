// Package organizations implements the parts of AWS Organizations that Allot serves: an
// organization with its management account and root, member accounts made with CreateAccount
// (each with OrganizationAccountAccessRole, so that the management account can act in it with
// sts:AssumeRole), organizational units, service control policies and where they are attached,
// trusted access for AWS services (License Manager's creates its service-linked roles) and tags.
//
// Each operation is a method named after the AWS operation. Read operations run in one
// store.View; each mutating operation makes its change in one store.Update, with the
// organization's row locked, and records its response in the request's audit event inside it.
// Authorization happens before an operation runs; besides it, as in AWS, only the management
// account may call the operations other than DescribeOrganization (AccessDeniedException).
//
// Allot's organizations have every feature of AWS's that it serves, and SERVICE_CONTROL_POLICY
// is the only policy type available. Accounts are created synchronously: CreateAccount returns
// SUCCEEDED (or FAILED) at once.
package organizations

import (
	"context"
	"crypto/rand"
	"errors"
	"regexp"
	"strconv"
	"unicode/utf8"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/pagetoken"
	"github.com/allot-dev/allot/internal/store"
)

// Error codes Organizations operations return, as Organizations spells them on the wire.
const (
	ErrAccessDenied                = "AccessDeniedException"
	ErrNotInUse                    = "AWSOrganizationsNotInUseException"
	ErrAlreadyInOrganization       = "AlreadyInOrganizationException"
	ErrAccountNotFound             = "AccountNotFoundException"
	ErrChildNotFound               = "ChildNotFoundException"
	ErrConstraintViolation         = "ConstraintViolationException"
	ErrCreateAccountStatusNotFound = "CreateAccountStatusNotFoundException"
	ErrDestinationParentNotFound   = "DestinationParentNotFoundException"
	ErrDuplicateAccount            = "DuplicateAccountException"
	ErrDuplicateOU                 = "DuplicateOrganizationalUnitException"
	ErrDuplicatePolicy             = "DuplicatePolicyException"
	ErrDuplicatePolicyAttachment   = "DuplicatePolicyAttachmentException"
	ErrInvalidInput                = "InvalidInputException"
	ErrMalformedPolicyDocument     = "MalformedPolicyDocumentException"
	ErrOrganizationNotEmpty        = "OrganizationNotEmptyException"
	ErrOUNotEmpty                  = "OrganizationalUnitNotEmptyException"
	ErrOUNotFound                  = "OrganizationalUnitNotFoundException"
	ErrParentNotFound              = "ParentNotFoundException"
	ErrPolicyInUse                 = "PolicyInUseException"
	ErrPolicyNotAttached           = "PolicyNotAttachedException"
	ErrPolicyNotFound              = "PolicyNotFoundException"
	ErrPolicyTypeAlreadyEnabled    = "PolicyTypeAlreadyEnabledException"
	ErrPolicyTypeNotAvailable      = "PolicyTypeNotAvailableForOrganizationException"
	ErrPolicyTypeNotEnabled        = "PolicyTypeNotEnabledException"
	ErrRootNotFound                = "RootNotFoundException"
	ErrSourceParentNotFound        = "SourceParentNotFoundException"
	ErrTargetNotFound              = "TargetNotFoundException"
)

// Reasons of InvalidInputException and ConstraintViolationException (their Reason member).
const (
	ReasonInputRequired         = "INPUT_REQUIRED"
	ReasonInvalidEnum           = "INVALID_ENUM"
	ReasonInvalidEnumPolicyType = "INVALID_ENUM_POLICY_TYPE"
	ReasonInvalidNextToken      = "INVALID_NEXT_TOKEN"
	ReasonInvalidPattern        = "INVALID_PATTERN"
	ReasonInvalidPatternTarget  = "INVALID_PATTERN_TARGET_ID"
	ReasonInvalidSyntaxPolicyID = "INVALID_SYNTAX_POLICY_ID"
	ReasonMaxLengthExceeded     = "MAX_LENGTH_EXCEEDED"
	ReasonMinLengthExceeded     = "MIN_LENGTH_EXCEEDED"
	ReasonMaxValueExceeded      = "MAX_VALUE_EXCEEDED"
	ReasonMinValueExceeded      = "MIN_VALUE_EXCEEDED"
	ReasonImmutablePolicy       = "IMMUTABLE_POLICY"
	ReasonInvalidRoleName       = "INVALID_ROLE_NAME"
	ReasonDuplicateTagKey       = "DUPLICATE_TAG_KEY"
	ReasonInvalidSystemTags     = "INVALID_SYSTEM_TAGS_PARAMETER"

	ReasonMinPolicyAttachments = "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"
	ReasonMaxPolicyAttachments = "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"
	ReasonPolicyContentLimit   = "POLICY_CONTENT_LIMIT_EXCEEDED"
	ReasonPolicyNumberLimit    = "POLICY_NUMBER_LIMIT_EXCEEDED"
	ReasonOUNumberLimit        = "OU_NUMBER_LIMIT_EXCEEDED"
	ReasonOUDepthLimit         = "OU_DEPTH_LIMIT_EXCEEDED"
	ReasonMaxTagLimit          = "MAX_TAG_LIMIT_EXCEEDED"
	ReasonNotAllFeatures       = "ORGANIZATION_NOT_IN_ALL_FEATURES_MODE"
)

// Enum values.
const (
	FeatureSetAll                 = "ALL"
	FeatureSetConsolidatedBilling = "CONSOLIDATED_BILLING"

	StateInProgress = "IN_PROGRESS"
	StateSucceeded  = "SUCCEEDED"
	StateFailed     = "FAILED"

	FailureEmailAlreadyExists = "EMAIL_ALREADY_EXISTS"

	TypeAccount = "ACCOUNT"
	TypeOU      = "ORGANIZATIONAL_UNIT"
	TypeRoot    = "ROOT"

	// DefaultRoleName is the role CreateAccount makes in a new account unless told otherwise.
	DefaultRoleName = "OrganizationAccountAccessRole"
	// RootName is the name of every root.
	RootName = "Root"
	// MaxSCPSize is the largest SCP, in characters.
	MaxSCPSize = 5120
)

// policyTypes are the values of the PolicyType enum; only SERVICE_CONTROL_POLICY is available.
var policyTypes = []string{
	store.PolicyTypeSCP, "RESOURCE_CONTROL_POLICY", "TAG_POLICY", "BACKUP_POLICY", "AISERVICES_OPT_OUT_POLICY",
	"CHATBOT_POLICY", "DECLARATIVE_POLICY_EC2", "SECURITYHUB_POLICY", "INSPECTOR_POLICY", "UPGRADE_ROLLOUT_POLICY",
	"BEDROCK_POLICY", "S3_POLICY", "NETWORK_SECURITY_DIRECTOR_POLICY",
}

// Service answers Organizations operations. Safe for concurrent use once its fields are set.
type Service struct {
	DB *store.DB
	// NewAccountID returns a new 12-digit account ID; identity.NewAccountID when nil.
	NewAccountID func() string
}

func (s *Service) newAccountID() string {
	if s.NewAccountID != nil {
		return s.NewAccountID()
	}
	return identity.NewAccountID()
}

// Empty is the output of operations that return nothing but success.
type Empty struct{}

// organization returns the caller's organization (locked in an Update), or
// AWSOrganizationsNotInUseException.
func organization(ctx context.Context, tx *store.Tx, caller *identity.Principal, lock bool) (*store.Organization, error) {
	var o *store.Organization
	var err error
	if lock {
		o, err = tx.LockOrganization(ctx, caller.AccountID)
	} else {
		o, err = tx.Organization(ctx, caller.AccountID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, awserr.New(ErrNotInUse, "Your account is not a member of an organization.")
	}
	return o, err
}

// managed returns the caller's organization when the caller is its management account:
// AccessDeniedException for a member account, as AWS answers the operations only the
// management account may call.
func managed(ctx context.Context, tx *store.Tx, caller *identity.Principal, op string, lock bool) (*store.Organization, error) {
	o, err := organization(ctx, tx, caller, lock)
	if err != nil {
		return nil, err
	}
	if o.ManagementAccount != caller.AccountID {
		return nil, awserr.New(ErrAccessDenied, "You don't have permissions to access this resource: %s can be called only from the organization's management account (%s), and account %s is a member account.",
			op, o.ManagementAccount, caller.AccountID)
	}
	return o, nil
}

// readManaged is managed in a read transaction.
func (s *Service) readManaged(ctx context.Context, caller *identity.Principal, op string, fn func(tx *store.Tx, o *store.Organization) error) error {
	return s.DB.View(ctx, func(tx *store.Tx) error {
		o, err := managed(ctx, tx, caller, op, false)
		if err != nil {
			return err
		}
		return fn(tx, o)
	})
}

// Errors in Organizations' words.

func reasoned(code, reason, format string, args ...any) error {
	e := awserr.New(code, format, args...)
	e.Fields = map[string]string{"Reason": reason}
	return e
}

func invalidInput(reason, format string, args ...any) error {
	return reasoned(ErrInvalidInput, reason, format, args...)
}

func constraint(reason, format string, args ...any) error {
	return reasoned(ErrConstraintViolation, reason, format, args...)
}

func required(member string) error {
	return invalidInput(ReasonInputRequired, "You must include a value for all required parameters: %s is missing.", member)
}

// checkString checks a string member's length in characters and, when pattern is not nil,
// that it matches pattern entirely. An empty required member is INPUT_REQUIRED.
func checkString(member, v string, req bool, lo, hi int, pattern *regexp.Regexp) error {
	if v == "" {
		if req {
			return required(member)
		}
		return nil
	}
	n := utf8.RuneCountInString(v)
	if n < lo {
		return invalidInput(ReasonMinLengthExceeded, "You provided a string parameter that is shorter than allowed: %s must have at least %d characters.", member, lo)
	}
	if n > hi {
		return invalidInput(ReasonMaxLengthExceeded, "You provided a string parameter that is longer than allowed: %s must have at most %d characters.", member, hi)
	}
	if pattern != nil && !pattern.MatchString(v) {
		return invalidInput(ReasonInvalidPattern, "You provided a value that doesn't match the required pattern: %s must match %s.", member, pattern)
	}
	return nil
}

// checkEnum checks an enum member; an empty one is INPUT_REQUIRED when required.
func checkEnum(member, v string, req bool, values ...string) error {
	if v == "" {
		if req {
			return required(member)
		}
		return nil
	}
	for _, x := range values {
		if v == x {
			return nil
		}
	}
	return invalidInput(ReasonInvalidEnum, "You specified an invalid value: %s must be one of %v, not %q.", member, values, v)
}

// checkPolicyType checks a PolicyType member: an enum value, and available here.
func checkPolicyType(member, v string) error {
	if v == "" {
		return required(member)
	}
	for _, x := range policyTypes {
		if v == x {
			if v != store.PolicyTypeSCP {
				return awserr.New(ErrPolicyTypeNotAvailable, "You can't use the specified policy type with the feature set currently enabled for this organization: only %s is available here, not %s.",
					store.PolicyTypeSCP, v)
			}
			return nil
		}
	}
	return invalidInput(ReasonInvalidEnumPolicyType, "You specified an invalid policy type string: %q.", v)
}

// Patterns of IDs and members, from the service model.
var (
	rootIDPattern    = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	ouIDPattern      = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	accountIDPattern = regexp.MustCompile(`^\d{12}$`)
	policyIDPattern  = regexp.MustCompile(`^p-[0-9a-zA-Z_]{8,128}$`)
	carIDPattern     = regexp.MustCompile(`^car-[a-z0-9]{8,32}$`)
	emailPattern     = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
	accountName      = regexp.MustCompile(`^[\x20-\x7E]+$`)
	roleNamePattern  = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	principalPattern = regexp.MustCompile(`^[\w+=,.@-]*$`)
	tagPattern       = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	targetIDPattern  = regexp.MustCompile(`^(?:r-[0-9a-z]{4,32}|\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)
	parentIDPattern  = regexp.MustCompile(`^(?:r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)
	childIDPattern   = regexp.MustCompile(`^(?:\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)
)

func checkPolicyID(member, v string) error {
	if v == "" {
		return required(member)
	}
	if len(v) > 130 || !policyIDPattern.MatchString(v) {
		return invalidInput(ReasonInvalidSyntaxPolicyID, "You provided a policy ID that doesn't match the required pattern: %s must match %s.", member, policyIDPattern)
	}
	return nil
}

func checkTargetID(member, v string, pattern *regexp.Regexp) error {
	if v == "" {
		return required(member)
	}
	if len(v) > 100 || !pattern.MatchString(v) {
		return invalidInput(ReasonInvalidPatternTarget, "You specified a target ID that doesn't match the required pattern: %s must match %s.", member, pattern)
	}
	return nil
}

// targetType returns the type of a root, OU or account ID.
func targetType(id string) string {
	switch {
	case rootIDPattern.MatchString(id):
		return TypeRoot
	case ouIDPattern.MatchString(id):
		return TypeOU
	}
	return TypeAccount
}

// IDs.

const lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomString returns n random lower-case letters and digits.
func randomString(n int) string {
	b := make([]byte, 0, n)
	buf := make([]byte, n+8)
	for len(b) < n {
		rand.Read(buf)
		for _, c := range buf {
			// 252 = 7×36: drop the top bytes so that every character is equally likely.
			if c < 252 && len(b) < n {
				b = append(b, lowerAlnum[c%36])
			}
		}
	}
	return string(b)
}

func newOrgID() string  { return "o-" + randomString(10) }
func newRootID() string { return "r-" + randomString(4) }
func newOUID(rootID string) string {
	return "ou-" + rootID[2:] + "-" + randomString(8)
}
func newPolicyID() string { return "p-" + randomString(8) }
func newCARID() string    { return "car-" + randomString(32) }

// Paging.

// Default and largest MaxResults of list operations.
const (
	defaultMaxResults = 20
	maxMaxResults     = 20
)

// position is where a list operation's NextToken says the next page starts.
type position struct {
	After string `json:"a,omitempty"` // the key of the last item returned
	Time  int64  `json:"t,omitempty"` // its time, for lists in time order
	Op    string `json:"o"`           // the operation, so that a token is not used for another list
}

// page is the paging request of a list operation.
type page struct {
	op    string
	limit int
	pos   position
}

// readPage checks MaxResults and NextToken.
func readPage(op string, maxResults *int32, nextToken *string) (*page, error) {
	p := &page{op: op, limit: defaultMaxResults, pos: position{Op: op}}
	if maxResults != nil {
		switch {
		case *maxResults < 1:
			return nil, invalidInput(ReasonMinValueExceeded, "You provided a numeric parameter that has a smaller value than allowed: MaxResults must be at least 1.")
		case *maxResults > maxMaxResults:
			return nil, invalidInput(ReasonMaxValueExceeded, "You provided a numeric parameter that has a larger value than allowed: MaxResults must be at most %d.", maxMaxResults)
		}
		p.limit = int(*maxResults)
	}
	if nextToken != nil && *nextToken != "" {
		var pos position
		if err := pagetoken.Decode(*nextToken, &pos); err != nil || pos.Op != op {
			return nil, invalidInput(ReasonInvalidNextToken, "You specified an invalid value for the NextToken request parameter: it was not returned by a previous %s call.", op)
		}
		p.pos = pos
	}
	return p, nil
}

// query returns the store query of the page: one more item than the limit, to know whether
// there are more.
func (p *page) query(parentID string) store.OrgQuery {
	return store.OrgQuery{ParentID: parentID, After: p.pos.After, Limit: p.limit + 1}
}

// cut cuts the items read with query to the page and returns them with the NextToken of the
// next page (nil when this is the last one); key returns an item's key.
func cut[T any](p *page, items []T, key func(T) (string, int64)) ([]T, *string) {
	if len(items) <= p.limit {
		return items, nil
	}
	items = items[:p.limit]
	after, t := key(items[len(items)-1])
	tok := pagetoken.Encode(position{After: after, Time: t, Op: p.op})
	return items, &tok
}

func itoa(i int) string { return strconv.Itoa(i) }
