// Package policy is the IAM policy language: parsing and validating policy documents, matching
// statements against a request, and deciding requests with AWS's evaluation logic, explaining
// every decision with a trace.
package policy

import (
	"time"

	"github.com/allot-dev/allot/internal/identity"
)

// Kind is the kind of policy a document is parsed as; it decides which elements are allowed.
type Kind int

// Policy kinds.
const (
	KindIdentity Kind = iota + 1 // identity-based (inline or managed) and permissions boundaries: no Principal
	KindResource                 // resource-based: Principal or NotPrincipal required
	KindTrust                    // a role's trust policy: Principal required, no NotPrincipal, sts:* actions
	KindSCP                      // service control policy: no Principal
	KindSession                  // session policy passed to AssumeRole: no Principal
)

// Error is a malformed policy document; Reason says what is wrong and where, as AWS's
// MalformedPolicyDocument messages do (e.g. "Statement[1].Effect: must be Allow or Deny",
// "Missing required field Action in Statement[0]").
type Error struct {
	Reason string
}

func (e *Error) Error() string { return "policy: " + e.Reason }

// Document is a parsed, validated policy. Safe for concurrent use once parsed; set Name before
// sharing it and treat the other fields as read-only. Only Parse makes usable Documents.
type Document struct {
	Name       string // for traces and messages: a policy ARN or an inline policy's name; set by the caller
	Version    string // "2012-10-17", "2008-10-17", or "" (absent: 2008-10-17 semantics)
	ID         string
	Statements []Statement

	kind Kind
	text string
}

// Text returns the document exactly as it was parsed, as IAM returns policies as stored.
func (d *Document) Text() string { return d.text }

// Kind returns the kind the document was parsed as.
func (d *Document) Kind() Kind { return d.kind }

// Variables reports whether policy variables are substituted: only in Version 2012-10-17; with
// 2008-10-17 or no Version, ${…} is literal text.
func (d *Document) Variables() bool { return d.Version == Version2012 }

// Policy language versions.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// MaxDocumentSize is the largest document Parse accepts, in bytes.
const MaxDocumentSize = 131072

// Statement is one parsed statement. A statement applies to a request when its action,
// resource, principal and conditions all match.
type Statement struct {
	Sid          string
	Effect       string // "Allow" or "Deny"
	Action       []string
	NotAction    []string
	Resource     []string // for resource and trust policies, empty with NotResource empty means the resource the policy is attached to
	NotResource  []string
	Principal    *Principals // resource and trust policies only
	NotPrincipal *Principals // resource policies only
	Condition    []Condition
	// Start and End are where the statement is in the document's text: its opening { and its
	// closing }.
	Start, End Position

	actions      []glob
	notAction    bool
	resources    []arnPattern
	notResource  bool
	anyResource  bool // no Resource element: the attached resource
	principals   compiledPrincipals
	hasPrincipal bool
	notPrincipal bool
	deny         bool
}

// PolicyType names the kind of policy that decided a request, as AWS's denial messages do.
type PolicyType string

// Policy types.
const (
	TypeIdentity PolicyType = "identity-based policy"
	TypeResource PolicyType = "resource-based policy"
	TypeTrust    PolicyType = "role trust policy"
	TypeBoundary PolicyType = "permissions boundary"
	TypeSession  PolicyType = "session policy"
	TypeSCP      PolicyType = "service control policy"
)

// Request is one authorization question: may Principal perform Action on Resource?
type Request struct {
	Principal *identity.Principal
	Action    string // "service:Operation"
	// Resource is an ARN, or "*" for actions without a resource type. License Manager's
	// CheckoutLicense, CheckInLicense and ExtendLicenseConsumption (and the other actions
	// WildcardOnly lists) have none, so the caller passes "*": a statement naming a license ARN
	// then grants nothing for them, as in AWS.
	Resource        string
	ResourceAccount string // the account that owns Resource; "" means the principal's account
	// Context holds condition keys (case-insensitive names) and their values; multivalued keys
	// (aws:TagKeys) have several. Evaluate fills nothing itself: the caller supplies
	// aws:PrincipalArn, aws:SourceIp and the rest. Only aws:CurrentTime and aws:EpochTime fall
	// back to Time when absent. Lookups try the name as the policy writes it first, so canonical
	// spellings (aws:SourceIp) are fastest; names differing only in case must not both appear.
	Context map[string][]string
	Time    time.Time // request time for aws:CurrentTime/aws:EpochTime when Context lacks them; zero = now
}

// Policies are the policies that apply to a request.
type Policies struct {
	Identity []*Document // the principal's identity policies (its own and its groups')
	Boundary *Document   // the principal's permissions boundary, if any
	Session  []*Document // session policies of an assumed-role session, if any; together they are one session policy (their union)
	Resource *Document   // the resource's resource-based policy (parsed as KindTrust for a role's trust policy), if any
	// SCPs are the SCPs per level of the principal's organization path (root, each OU, the
	// account); every level needs an Allow and an empty level denies. Nil when SCPs do not
	// apply: no organization, the management account, or a service-linked role.
	SCPs [][]*Document
}

// Decision is the outcome of an evaluation.
type Decision int

// Decisions.
const (
	ImplicitDeny Decision = iota
	Allow
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return "ImplicitDeny"
}

// Result is a decision with its explanation.
type Result struct {
	Decision  Decision
	DecidedBy PolicyType // the policy type that allowed or denied; "" when no policy was needed (root of the resource account, sts:GetCallerIdentity)
	Trace     []Step     // every statement evaluated, in order
	// MissingContextKeys are condition keys statements referred to that the request lacked.
	MissingContextKeys []string
}

// Step is one statement's part in a decision.
type Step struct {
	Type      PolicyType
	Policy    string // Document.Name
	Statement int    // index in the document
	Sid       string
	Effect    string // "Allow" or "Deny"
	Matched   bool
	Why       string         // when not matched: which element did not match ("action", "resource", "principal", "condition aws:SourceIp")
	Principal PrincipalMatch // when matched and the statement has a Principal element: which entry named the principal
}
