package policy

import (
	"strings"

	"github.com/allot-dev/allot/internal/identity"
)

// Principals is a parsed Principal or NotPrincipal element.
type Principals struct {
	All           bool     // "*", or {"AWS": "*"}: everyone, including anonymous callers
	AWS           []string // account IDs and IAM/STS ARNs, as written
	Service       []string // service principals, e.g. "ec2.amazonaws.com"
	Federated     []string // identity providers, e.g. "cognito-identity.amazonaws.com"
	CanonicalUser []string // S3 canonical user IDs
}

// PrincipalMatch is which entry of a Principal element named the request's principal; the
// same-account rules depend on it (reference_policies_evaluation-logic_policy-eval-basics.html).
type PrincipalMatch uint8

// Principal matches, weakest first: an account match delegates to the identity side, a role
// match is still limited by the boundary and session policies, the rest grant directly.
const (
	MatchNone      PrincipalMatch = iota // nothing named the principal (or the statement has no Principal element)
	MatchAccount                         // the principal's account: its ID or arn:aws:iam::A:root
	MatchRole                            // the role ARN of an assumed-role session
	MatchUser                            // the IAM user's ARN
	MatchSession                         // the assumed-role session ARN
	MatchFederated                       // a web identity's provider, named in a "Federated" entry
	MatchEveryone                        // "*" or {"AWS": "*"}, or an Allow NotPrincipal that does not exclude it
)

func (m PrincipalMatch) String() string {
	switch m {
	case MatchAccount:
		return "account"
	case MatchRole:
		return "role"
	case MatchUser:
		return "user"
	case MatchSession:
		return "session"
	case MatchFederated:
		return "federated"
	case MatchEveryone:
		return "everyone"
	}
	return "none"
}

// direct reports whether a resource-policy grant of this match needs nothing from the identity
// side, the boundary or the session policies in the same account.
func (m PrincipalMatch) direct() bool { return m >= MatchUser }

// compiledPrincipals is Principals indexed for matching.
type compiledPrincipals struct {
	all      bool
	accounts []string // account IDs
	arns     []string // user, role, session and federated-user ARNs
	// federated are the "Federated" entries: identity provider ARNs (or names such as
	// cognito-identity.amazonaws.com), matched exactly against a web identity's provider.
	federated []string
}

// parsePrincipalARN classifies one "AWS" principal entry and reports whether it is valid: "*",
// a 12-digit account ID, arn:P:iam::A:root|user/…|role/…,
// arn:P:sts::A:assumed-role/R/S|federated-user/N, or a unique ID (AIDA…/AROA…) left behind by a
// deleted principal, which matches nobody.
func parsePrincipalARN(s string) (account string, arn string, valid bool) {
	if s == "*" {
		return "", "", true
	}
	if identity.ValidAccountID(s) {
		return s, "", true
	}
	if isUniqueID(s) {
		return "", "", true
	}
	parts, ok := splitARN(s)
	if !ok || parts[0] != "arn" || parts[1] == "" || parts[3] != "" || !identity.ValidAccountID(parts[4]) {
		return "", "", false
	}
	res := parts[5]
	if strings.ContainsAny(s, "*?") {
		return "", "", false
	}
	switch parts[2] {
	case "iam":
		if res == "root" {
			return parts[4], "", true
		}
		for _, prefix := range []string{"user/", "role/"} {
			if strings.HasPrefix(res, prefix) && len(res) > len(prefix) && !strings.HasSuffix(res, "/") {
				return "", s, true
			}
		}
	case "sts":
		if r, ok := strings.CutPrefix(res, "assumed-role/"); ok {
			role, session, ok := strings.Cut(r, "/")
			if ok && role != "" && session != "" {
				return "", s, true
			}
		}
		if r, ok := strings.CutPrefix(res, "federated-user/"); ok && r != "" {
			return "", s, true
		}
	}
	return "", "", false
}

// isUniqueID reports whether s looks like an IAM unique ID (AIDA… user, AROA… role).
func isUniqueID(s string) bool {
	if len(s) < 16 || !(strings.HasPrefix(s, "AIDA") || strings.HasPrefix(s, "AROA")) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// compilePrincipals indexes p.
func compilePrincipals(p *Principals) compiledPrincipals {
	c := compiledPrincipals{all: p.All}
	for _, s := range p.AWS {
		account, arn, _ := parsePrincipalARN(s)
		switch {
		case s == "*":
			c.all = true
		case account != "":
			c.accounts = append(c.accounts, account)
		case arn != "":
			c.arns = append(c.arns, arn)
		}
	}
	c.federated = p.Federated
	return c
}

// match reports how pr matches the principal entries; a nil pr is an anonymous caller, which
// only "*" matches. A web identity (identity.KindWebIdentity) matches only "*" and the
// "Federated" entry naming its provider; Service, Federated and CanonicalUser entries never
// name an IAM principal.
func (c *compiledPrincipals) match(pr *identity.Principal) PrincipalMatch {
	if c.all {
		return MatchEveryone
	}
	if pr == nil {
		return MatchNone
	}
	if pr.Kind == identity.KindWebIdentity {
		if c.hasFederated(pr.FederatedProvider) {
			return MatchFederated
		}
		return MatchNone
	}
	best := MatchNone
	for _, a := range c.arns {
		switch {
		case a == pr.ARN && pr.Kind == identity.KindAssumedRole:
			return MatchSession
		case a == pr.ARN && pr.Kind == identity.KindIAMUser:
			return MatchUser
		case pr.Kind == identity.KindAssumedRole && a == pr.RoleARN:
			best = MatchRole
		}
	}
	if best == MatchNone && c.hasAccount(pr.AccountID) {
		best = MatchAccount
	}
	return best
}

func (c *compiledPrincipals) hasAccount(id string) bool {
	for _, a := range c.accounts {
		if a == id {
			return true
		}
	}
	return false
}

func (c *compiledPrincipals) hasFederated(provider string) bool {
	if provider == "" {
		return false
	}
	for _, f := range c.federated {
		if f == provider {
			return true
		}
	}
	return false
}

func (c *compiledPrincipals) hasARN(arn string) bool {
	for _, a := range c.arns {
		if a == arn {
			return true
		}
	}
	return false
}

// excludes reports whether a NotPrincipal element with these entries exempts pr. AWS checks the
// whole chain of identities (reference_policies_elements_notprincipal.html): the account, then
// the role, then the session (or the user), so every link must be listed: a session is exempt
// only if its session ARN, its role ARN and its account are all named.
func (c *compiledPrincipals) excludes(pr *identity.Principal) bool {
	if c.all {
		return true
	}
	if pr == nil {
		return false
	}
	if pr.Kind == identity.KindWebIdentity {
		return c.hasFederated(pr.FederatedProvider)
	}
	if !c.hasAccount(pr.AccountID) {
		return false
	}
	switch pr.Kind {
	case identity.KindRoot:
		return true
	case identity.KindAssumedRole:
		return c.hasARN(pr.RoleARN) && c.hasARN(pr.ARN)
	default:
		return c.hasARN(pr.ARN)
	}
}
