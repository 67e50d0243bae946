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
// MalformedPolicyDocument messages do (e.g. "Statement[1]: Effect must be Allow or Deny").
type Error struct {
	Reason string
}

func (e *Error) Error() string { return "policy: " + e.Reason }

// Document is a parsed, validated policy. Safe for concurrent use once parsed.
type Document struct {
	Name    string // for traces and messages: a policy ARN or an inline policy's name; set by the caller
	Version string
	ID      string
	// Statements and the rest are the helper's to design.
}

// Parse parses and validates a policy document of the given kind. Malformed documents return an
// *Error.
func Parse(doc string, kind Kind) (*Document, error) {
	panic("policy: Parse not implemented yet")
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
	Principal       *identity.Principal
	Action          string // "service:Operation"
	Resource        string // an ARN, or "*" for actions without a resource type
	ResourceAccount string // the account that owns Resource; "" means the principal's account
	// Context holds condition keys (case-insensitive names) and their values; multivalued keys
	// (aws:TagKeys) have several. Evaluate fills nothing itself: the caller supplies
	// aws:PrincipalArn, aws:CurrentTime and the rest.
	Context map[string][]string
	Time    time.Time // request time for date conditions without aws:CurrentTime; zero = now
}

// Policies are the policies that apply to a request.
type Policies struct {
	Identity []*Document   // the principal's identity policies
	Boundary *Document     // the principal's permissions boundary, if any
	Session  []*Document   // session policies of an assumed-role session, if any
	Resource *Document     // the resource's resource-based policy (or a role's trust policy), if any
	SCPs     [][]*Document // SCPs per level of the principal's organization path (root first); nil when SCPs do not apply
}

// Decision is the outcome of an evaluation.
type Decision int

// Decisions.
const (
	ImplicitDeny Decision = iota
	Allow
	ExplicitDeny
)

// Result is a decision with its explanation.
type Result struct {
	Decision  Decision
	DecidedBy PolicyType // the policy type that allowed or denied
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
	Why       string // when not matched: which element did not match ("action", "resource", "principal", "condition aws:SourceIp")
}

// Evaluate decides req against p following AWS's policy evaluation logic.
func Evaluate(req *Request, p *Policies) *Result {
	panic("policy: Evaluate not implemented yet")
}

// Message returns AWS's denial message for a denied result, e.g. "User: arn:… is not authorized
// to perform: license-manager:CheckoutLicense on resource: * because no identity-based policy
// allows the license-manager:CheckoutLicense action".
func (r *Result) Message(req *Request) string {
	panic("policy: Message not implemented yet")
}
