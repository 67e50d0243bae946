// Package iam implements the parts of AWS Identity and Access Management that Allot serves:
// users and their access keys, roles and their trust policies, customer and AWS managed
// policies with their versions, inline policies, attachments, permissions boundaries and tags.
//
// Each operation is a method named after the AWS operation. Read operations run in one
// store.View; each mutating operation makes its change in one store.Update and records its
// response in the request's audit event inside it, so that the change and its event commit
// together. Authorization happens before an operation runs.
//
// As in AWS, user, role and policy names are unique per account whatever their case, and
// lookups by name ignore case. Every account sees the AWS managed policies
// (arn:aws:iam::aws:policy/…), which cannot be changed or deleted.
package iam

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/pagetoken"
	"github.com/allot-dev/allot/internal/policy"
	"github.com/allot-dev/allot/internal/store"
)

// Error codes IAM operations return, as IAM spells them on the wire.
const (
	ErrNoSuchEntity            = "NoSuchEntity"
	ErrEntityAlreadyExists     = "EntityAlreadyExists"
	ErrMalformedPolicyDocument = "MalformedPolicyDocument"
	ErrLimitExceeded           = "LimitExceeded"
	ErrDeleteConflict          = "DeleteConflict"
	ErrValidation              = "ValidationError"
	ErrInvalidInput            = "InvalidInput"
	ErrUnmodifiableEntity      = "UnmodifiableEntity"
	ErrServiceFailure          = "ServiceFailure"
)

// ID prefixes of IAM's unique IDs.
const (
	UserIDPrefix   = "AIDA"
	RoleIDPrefix   = "AROA"
	PolicyIDPrefix = "ANPA"
)

// Service answers IAM operations. Safe for concurrent use once its fields are set.
type Service struct {
	DB *store.DB
	// NewID returns a new unique ID with the given prefix; NewEntityID when nil.
	NewID func(prefix string) string
	// SCPs returns the service control policies that restrict a principal, one slice per level
	// of its organization path (root first), or nil when none do (see policy.Policies.SCPs).
	// SimulatePrincipalPolicy includes them and reports OrganizationsDecisionDetail. Nil: no
	// organizations.
	SCPs func(ctx context.Context, pr *identity.Principal) ([][]*policy.Document, error)
	// AllowHTTPIssuers lets CreateOpenIDConnectProvider register http:// provider URLs (for
	// tests against an issuer on loopback); otherwise only https:// URLs are accepted.
	AllowHTTPIssuers bool
}

func (s *Service) newID(prefix string) string {
	if s.NewID != nil {
		return s.NewID(prefix)
	}
	return NewEntityID(prefix)
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// NewEntityID returns prefix followed by 17 random upper-case letters and digits, the form of
// IAM's unique IDs (AIDA… users, AROA… roles, ANPA… policies).
func NewEntityID(prefix string) string {
	var b strings.Builder
	b.Grow(len(prefix) + 17)
	b.WriteString(prefix)
	buf := make([]byte, 32)
	for b.Len() < len(prefix)+17 {
		rand.Read(buf)
		for _, c := range buf {
			// 252 = 7×36: drop the top bytes so that every character is equally likely.
			if c < 252 && b.Len() < len(prefix)+17 {
				b.WriteByte(idAlphabet[c%36])
			}
		}
	}
	return b.String()
}

// PolicyDocument is a policy document in an operation's output. IAM's Query responses carry
// documents percent-encoded (clients decode them), so its text form, which the XML encoder
// writes, is percent-encoded; audit records (JSON) keep the document as it is.
type PolicyDocument string

// MarshalText returns the document percent-encoded as IAM returns it: every byte except
// A–Z a–z 0–9 - _ . ~ becomes %XX (spaces %20), which url.QueryUnescape, url.PathUnescape and
// Python's unquote all reverse.
func (d PolicyDocument) MarshalText() ([]byte, error) {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(d)*3)
	for i := range len(d) {
		c := d[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return b, nil
}

// MarshalJSON returns the document as a JSON string, not encoded.
func (d PolicyDocument) MarshalJSON() ([]byte, error) { return json.Marshal(string(d)) }

// Empty is the output of operations that return nothing but success.
type Empty struct{}

// Default and largest MaxItems of list operations.
const (
	defaultMaxItems = 100
	maxMaxItems     = 1000
)

// position is where a list operation's Marker says the next page starts.
type position struct {
	Name  string `json:"n,omitempty"` // lower-cased name of the last item returned
	ARN   string `json:"a,omitempty"` // its ARN, for lists of managed policies
	Index int    `json:"i,omitempty"` // or the number of items returned, for short lists
	Op    string `json:"o"`           // the operation, so that a marker is not used for another list
}

// page is the paging request of a list operation.
type page struct {
	op    string
	limit int
	pos   position
}

// readPage checks MaxItems and Marker.
func readPage(op string, maxItems *int32, marker string) (*page, error) {
	p := &page{op: op, limit: defaultMaxItems, pos: position{Op: op}}
	if maxItems != nil {
		if *maxItems < 1 || *maxItems > maxMaxItems {
			return nil, invalid("maxItems", itoa(int(*maxItems)), "Member must have value between 1 and 1000")
		}
		p.limit = int(*maxItems)
	}
	if marker != "" {
		var pos position
		if err := pagetoken.Decode(marker, &pos); err != nil || pos.Op != op {
			return nil, awserr.New(ErrInvalidInput, "Invalid Marker: it was not returned by a previous %s call.", op)
		}
		p.pos = pos
	}
	return p, nil
}

// next returns the Marker of the page after one that ended at pos, when truncated.
func (p *page) next(truncated bool, pos position) string {
	if !truncated {
		return ""
	}
	pos.Op = p.op
	return pagetoken.Encode(pos)
}

// slice returns the items of a short list (held in memory) on this page, and the next Marker.
func pageOf[T any](p *page, all []T) ([]T, bool, string) {
	start := min(p.pos.Index, len(all))
	end := min(start+p.limit, len(all))
	truncated := end < len(all)
	return all[start:end], truncated, p.next(truncated, position{Index: end})
}

// is reports whether err wraps target.
func is(err, target error) bool { return errors.Is(err, target) }
