// Package identity describes who signed a request: an account's root, an IAM user or an
// assumed-role session; and the web identity that AssumeRoleWithWebIdentity decides for. It
// is a leaf package shared by the request path, the services and audit.
package identity

import (
	"strings"
	"time"
)

// Kind is the kind of principal, named as CloudTrail's userIdentity.type names it.
type Kind string

// Principal kinds.
const (
	KindRoot        Kind = "Root"
	KindIAMUser     Kind = "IAMUser"
	KindAssumedRole Kind = "AssumedRole"
	// KindWebIdentity is the user of an OpenID Connect provider, as AssumeRoleWithWebIdentity's
	// trust policy sees it. It signs no request and has no policies of its own: its AccountID
	// is the role's (where its provider is registered), its ARN and FederatedProvider the
	// provider's ARN, its PrincipalID "URL:aud:sub" and its UserName the token's subject, as
	// CloudTrail's WebIdentityUser shows them.
	KindWebIdentity Kind = "WebIdentityUser"
)

// Principal is an authenticated caller. The zero value is not a valid principal.
type Principal struct {
	Kind        Kind
	AccountID   string
	ARN         string
	PrincipalID string // AIDA… for users, AROA…:session for sessions, the account ID for root
	UserName    string // IAM user name; empty for root and sessions
	AccessKeyID string // the key that signed the request

	// Session fields, set for KindAssumedRole.
	RoleARN     string
	RoleName    string
	SessionName string

	// Temporary-credential fields, set for every session (AssumeRole or GetSessionToken).
	Temporary      bool
	SessionPolicy  []string  // session policy documents that narrow the session
	Tags           []Tag     // session tags
	SourceIdentity string    //
	IssuedAt       time.Time // when the session was created

	// FederatedProvider is the identity provider's ARN of a KindWebIdentity principal and of
	// the sessions AssumeRoleWithWebIdentity created (aws:FederatedProvider); "" otherwise.
	// Only a KindWebIdentity principal matches a policy's {"Federated": …} principal.
	FederatedProvider string
}

// Root returns the root principal of an account.
func Root(accountID, accessKeyID string) *Principal {
	return &Principal{
		Kind:        KindRoot,
		AccountID:   accountID,
		ARN:         RootARN(accountID),
		PrincipalID: accountID,
		AccessKeyID: accessKeyID,
	}
}

// RootARN returns arn:aws:iam::ACCOUNT:root.
func RootARN(accountID string) string { return "arn:aws:iam::" + accountID + ":root" }

// DisplayName is the name CloudTrail's LookupEvents shows as Username: the user name, the
// session name, or "root".
func (p *Principal) DisplayName() string {
	switch p.Kind {
	case KindRoot:
		return "root"
	case KindAssumedRole:
		return p.SessionName
	default:
		if p.UserName != "" {
			return p.UserName
		}
		return p.ARN[strings.LastIndexByte(p.ARN, '/')+1:]
	}
}

// ValidAccountID reports whether s is a 12-digit account ID.
func ValidAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Tag is a key-value tag of a principal or a session.
type Tag struct {
	Key   string
	Value string
	// Transitive marks a session tag that passes on to sessions this session creates by
	// assuming further roles (role chaining), where it cannot be overridden.
	Transitive bool `json:",omitempty"`
}
