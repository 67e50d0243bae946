// Package audit records every authenticated API call as an event in CloudTrail's record shape,
// links the events of each writer into a hash chain, and verifies those chains.
package audit

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/identity"
)

// EventVersion is the CloudTrail record version Allot writes.
const EventVersion = "1.08"

// Event is one audit record, serialised exactly as CloudTrail serialises a management event.
type Event struct {
	EventVersion       string          `json:"eventVersion"`
	UserIdentity       UserIdentity    `json:"userIdentity"`
	EventTime          string          `json:"eventTime"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	SourceIPAddress    string          `json:"sourceIPAddress"`
	UserAgent          string          `json:"userAgent"`
	ErrorCode          string          `json:"errorCode,omitempty"`
	ErrorMessage       string          `json:"errorMessage,omitempty"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	RequestID          string          `json:"requestID"`
	EventID            string          `json:"eventID"`
	ReadOnly           bool            `json:"readOnly"`
	Resources          []Resource      `json:"resources,omitempty"`
	EventType          string          `json:"eventType"`
	ManagementEvent    bool            `json:"managementEvent"`
	RecipientAccountID string          `json:"recipientAccountId"`
	EventCategory      string          `json:"eventCategory"`
}

// UserIdentity is CloudTrail's userIdentity element.
type UserIdentity struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn,omitempty"`       // empty only for WebIdentityUser
	AccountID   string `json:"accountId,omitempty"` // empty only for WebIdentityUser
	AccessKeyID string `json:"accessKeyId,omitempty"`
	UserName    string `json:"userName,omitempty"`
	// IdentityProvider is a WebIdentityUser's OpenID Connect provider: its URL without the
	// scheme, as in the provider's ARN.
	IdentityProvider string          `json:"identityProvider,omitempty"`
	SessionContext   *SessionContext `json:"sessionContext,omitempty"`
}

// SessionContext describes the role session behind temporary credentials.
type SessionContext struct {
	SessionIssuer SessionIssuer `json:"sessionIssuer"`
	// WebIDFederationData names the identity provider of a session AssumeRoleWithWebIdentity
	// created.
	WebIDFederationData *WebIDFederationData `json:"webIdFederationData,omitempty"`
	Attributes          SessionAttributes    `json:"attributes"`
}

// WebIDFederationData is CloudTrail's webIdFederationData: the provider a web identity
// session came from.
type WebIDFederationData struct {
	FederatedProvider string `json:"federatedProvider"`
}

// SessionIssuer names the role a session was issued for.
type SessionIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

// SessionAttributes are the session's creation date and MFA state.
type SessionAttributes struct {
	CreationDate     string `json:"creationDate"`
	MFAAuthenticated string `json:"mfaAuthenticated"`
}

// Resource is a resource an event touched, as LookupEvents reports it.
type Resource struct {
	ARN       string `json:"ARN"`
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type,omitempty"`
}

// IdentityOf returns the userIdentity element for a principal.
func IdentityOf(p *identity.Principal) UserIdentity {
	u := UserIdentity{
		Type:        string(p.Kind),
		PrincipalID: p.PrincipalID,
		ARN:         p.ARN,
		AccountID:   p.AccountID,
		AccessKeyID: p.AccessKeyID,
		UserName:    p.UserName,
	}
	if p.Kind == identity.KindAssumedRole {
		u.SessionContext = &SessionContext{
			SessionIssuer: SessionIssuer{
				Type:        "Role",
				PrincipalID: p.PrincipalID[:max(0, indexByte(p.PrincipalID, ':'))],
				ARN:         p.RoleARN,
				AccountID:   p.AccountID,
				UserName:    p.RoleName,
			},
			Attributes: SessionAttributes{MFAAuthenticated: "false"},
		}
		if p.FederatedProvider != "" {
			u.SessionContext.WebIDFederationData = &WebIDFederationData{FederatedProvider: p.FederatedProvider}
		}
	}
	if p.Kind == identity.KindWebIdentity {
		// CloudTrail's WebIdentityUser: no ARN or account; the access key (if any) is the one
		// that signed the request.
		u.ARN, u.AccountID = "", ""
		u.IdentityProvider = p.FederatedProvider // a built-in provider's name
		if _, url, ok := strings.Cut(p.FederatedProvider, ":oidc-provider/"); ok {
			u.IdentityProvider = url
		}
	}
	return u
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return len(s)
}

// FormatTime renders t as CloudTrail does: UTC, second precision.
func FormatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
