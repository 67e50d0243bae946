package sts

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/authz"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/policy"
	"github.com/allot-dev/allot/internal/store"
)

// Limits of AssumeRole, as in AWS.
const (
	DefaultSessionDuration = time.Hour
	MinSessionDuration     = 15 * time.Minute
	MaxSessionDuration     = 12 * time.Hour
	ChainedSessionLimit    = time.Hour // a role session assuming a role
	maxSessionPolicyChars  = 2048
	maxPolicyARNs          = 10
	maxSessionTags         = 50
)

var (
	roleARNPattern     = regexp.MustCompile(`^arn:aws:iam::(\d{12}):role(/(?:[\x21-\x7E]*/)?)?([\w+=,.@-]{1,64})$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]*$`)
	externalIDPattern  = regexp.MustCompile(`^[\w+=,.@:/-]*$`)
	tagKeyPattern      = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	tagValuePattern    = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// PolicyDescriptor names a managed policy to use as a session policy.
type PolicyDescriptor struct {
	ARN string `query:"arn" json:"arn"`
}

// Tag is a session tag.
type Tag struct {
	Key   string
	Value string
}

// ProvidedContext is a context assertion from a trusted provider.
type ProvidedContext struct {
	ProviderArn      string
	ContextAssertion string
}

// AssumeRoleInput is the input of AssumeRole.
type AssumeRoleInput struct {
	RoleARN           string             `query:"RoleArn" json:"RoleArn"`
	RoleSessionName   string             `json:"RoleSessionName"`
	PolicyARNs        []PolicyDescriptor `query:"PolicyArns" json:"PolicyArns,omitempty"`
	Policy            *string            `json:"Policy,omitempty"`
	DurationSeconds   *int32             `json:"DurationSeconds,omitempty"`
	Tags              []Tag              `json:"Tags,omitempty"`
	TransitiveTagKeys []string           `json:"TransitiveTagKeys,omitempty"`
	ExternalID        *string            `query:"ExternalId" json:"ExternalId,omitempty"`
	SerialNumber      *string            `json:"SerialNumber,omitempty"`
	TokenCode         *string            `json:"TokenCode,omitempty"`
	SourceIdentity    *string            `json:"SourceIdentity,omitempty"`
	ProvidedContexts  []ProvidedContext  `json:"ProvidedContexts,omitempty"`
}

// AssumedRoleUser identifies the session an AssumeRole call created.
type AssumedRoleUser struct {
	AssumedRoleID string `xml:"AssumedRoleId" json:"AssumedRoleId"`
	ARN           string `xml:"Arn" json:"Arn"`
}

// AssumeRoleOutput is the output of AssumeRole.
type AssumeRoleOutput struct {
	Credentials      Credentials     `json:"Credentials"`
	AssumedRoleUser  AssumedRoleUser `json:"AssumedRoleUser"`
	PackedPolicySize *int32          `xml:",omitempty" json:"PackedPolicySize,omitempty"`
	SourceIdentity   string          `xml:",omitempty" json:"SourceIdentity,omitempty"`
}

// AssumeRole returns temporary credentials for a role after checking the role's trust policy
// and, across accounts or when the trust policy names an account, the caller's own
// permissions. Errors: AccessDenied (trust or identity policy, root caller), ValidationError
// (session name, duration above the role's maximum or the one-hour role-chaining limit, …),
// MalformedPolicyDocument (session policy), PackedPolicyTooLarge.
func (s *Service) AssumeRole(ctx context.Context, caller *identity.Principal, in *AssumeRoleInput) (*AssumeRoleOutput, error) {
	if err := validateAssumeRole(in); err != nil {
		return nil, err
	}
	if caller.Kind == identity.KindRoot {
		return nil, awserr.New("AccessDenied", "Roles may not be assumed by root accounts.")
	}
	m := roleARNPattern.FindStringSubmatch(in.RoleARN)
	roleAccount, rolePath, roleName := m[1], m[2], m[3]
	if rolePath == "" {
		rolePath = "/"
	}
	denied := func(action string) error {
		return awserr.New("AccessDenied", "User: %s is not authorized to perform: %s on resource: %s", caller.ARN, action, in.RoleARN)
	}

	var role *store.Role
	err := s.DB.View(ctx, func(tx *store.Tx) error {
		var err error
		role, err = tx.Role(ctx, roleAccount, roleName)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || err == nil && role.Path != rolePath {
		// As AWS: a role that does not exist is indistinguishable from one that does not trust you.
		return nil, denied("sts:AssumeRole")
	}
	if err != nil {
		return nil, fmt.Errorf("sts: assume role %s: %w", in.RoleARN, err)
	}
	trust, err := s.Authz.Parse(role.AssumeRolePolicy, policy.KindTrust)
	if err != nil {
		return nil, fmt.Errorf("sts: trust policy of %s: %w", role.ARN, err)
	}
	trust.Name = "trust policy of " + role.ARN

	req := &authz.Request{
		Principal:       caller,
		Action:          "sts:AssumeRole",
		Resource:        role.ARN,
		ResourceAccount: role.AccountID,
		ResourcePolicy:  trust,
		Context:         assumeRoleContext(in),
	}
	if err := s.Authz.Authorize(ctx, req); err != nil {
		return nil, err
	}
	// Session tags and source identity need their own permissions on the role.
	if len(in.Tags) > 0 {
		tagReq := *req
		tagReq.Action = "sts:TagSession"
		if err := s.Authz.Authorize(ctx, &tagReq); err != nil {
			return nil, err
		}
	}
	if in.SourceIdentity != nil {
		srcReq := *req
		srcReq.Action = "sts:SetSourceIdentity"
		if err := s.Authz.Authorize(ctx, &srcReq); err != nil {
			return nil, err
		}
	}

	duration := DefaultSessionDuration
	if in.DurationSeconds != nil {
		duration = time.Duration(*in.DurationSeconds) * time.Second
	}
	if caller.Kind == identity.KindAssumedRole && duration > ChainedSessionLimit {
		return nil, awserr.New("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if maxRole := time.Duration(role.MaxSessionDuration) * time.Second; duration > maxRole {
		return nil, awserr.New("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}

	sessionPolicies, packed, err := sessionPolicies(in.Policy, in.PolicyARNs)
	if err != nil {
		return nil, err
	}

	now := s.now().UTC().Truncate(time.Second)
	keyID, secret, token := newSessionCredentials()
	sess := &store.Session{
		AccessKeyID: keyID,
		AccountID:   role.AccountID,
		Kind:        identity.KindAssumedRole,
		PrincipalID: role.ID,
		RoleARN:     role.ARN,
		RoleName:    role.Name,
		SessionName: in.RoleSessionName,
		Secret:      secret,
		Token:       token,
		SourceARN:   caller.ARN,
		CreatedAt:   now,
		ExpiresAt:   now.Add(duration),
	}
	if in.SourceIdentity != nil {
		sess.SourceIdentity = *in.SourceIdentity
	} else {
		sess.SourceIdentity = caller.SourceIdentity // a source identity survives role chaining
	}
	sess.Tags, err = sessionTags(caller, in)
	if err != nil {
		return nil, err
	}
	out := &AssumeRoleOutput{
		Credentials: Credentials{AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: token, Expiration: sess.ExpiresAt},
		AssumedRoleUser: AssumedRoleUser{
			AssumedRoleID: role.ID + ":" + in.RoleSessionName,
			ARN:           "arn:aws:sts::" + role.AccountID + ":assumed-role/" + role.Name + "/" + in.RoleSessionName,
		},
		SourceIdentity: sess.SourceIdentity,
	}
	if len(in.PolicyARNs) > 0 || in.Policy != nil {
		size := int32(packed * 100 / maxSessionPolicyChars)
		out.PackedPolicySize = &size
	}
	if err := s.createSession(ctx, sess, sessionPolicies, in.PolicyARNs, role, out); err != nil {
		return nil, err
	}
	return out, nil
}

func validateAssumeRole(in *AssumeRoleInput) error {
	if in.RoleARN == "" {
		return awserr.New("MissingParameter", "The request must contain the parameter RoleArn.")
	}
	if in.RoleSessionName == "" {
		return awserr.New("MissingParameter", "The request must contain the parameter RoleSessionName.")
	}
	if !roleARNPattern.MatchString(in.RoleARN) {
		return validationError("roleArn", in.RoleARN, "Member must be the ARN of an IAM role: arn:aws:iam::<12-digit account>:role/<name>")
	}
	if err := checkString("roleSessionName", in.RoleSessionName, 2, 64, sessionNamePattern); err != nil {
		return err
	}
	if in.DurationSeconds != nil {
		if d := time.Duration(*in.DurationSeconds) * time.Second; d < MinSessionDuration || d > MaxSessionDuration {
			return validationError("durationSeconds", fmt.Sprint(*in.DurationSeconds), "Member must have value between 900 and 43200")
		}
	}
	if in.ExternalID != nil {
		if err := checkString("externalId", *in.ExternalID, 2, 1224, externalIDPattern); err != nil {
			return err
		}
	}
	if in.SourceIdentity != nil {
		if err := checkString("sourceIdentity", *in.SourceIdentity, 2, 64, sessionNamePattern); err != nil {
			return err
		}
		if strings.HasPrefix(strings.ToLower(*in.SourceIdentity), "aws:") {
			return validationError("sourceIdentity", *in.SourceIdentity, "Member must not begin with aws:")
		}
	}
	if in.Policy != nil && (len(*in.Policy) < 1 || len(*in.Policy) > maxSessionPolicyChars) {
		return validationError("policy", "…", fmt.Sprintf("Member must have length between 1 and %d", maxSessionPolicyChars))
	}
	if len(in.PolicyARNs) > maxPolicyARNs {
		return validationError("policyArns", fmt.Sprint(len(in.PolicyARNs)), fmt.Sprintf("Member must have at most %d items", maxPolicyARNs))
	}
	if len(in.Tags) > maxSessionTags {
		return validationError("tags", fmt.Sprint(len(in.Tags)), fmt.Sprintf("Member must have at most %d items", maxSessionTags))
	}
	seen := map[string]bool{}
	for i, t := range in.Tags {
		if err := checkString(fmt.Sprintf("tags.%d.member.key", i+1), t.Key, 1, 128, tagKeyPattern); err != nil {
			return err
		}
		if err := checkString(fmt.Sprintf("tags.%d.member.value", i+1), t.Value, 0, 256, tagValuePattern); err != nil {
			return err
		}
		if k := strings.ToLower(t.Key); seen[k] {
			return awserr.New("InvalidParameterValue", "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		} else {
			seen[k] = true
		}
	}
	if in.SerialNumber != nil || in.TokenCode != nil {
		return awserr.New("InvalidParameterValue", "MFA devices are not supported by this server: omit SerialNumber and TokenCode.")
	}
	return nil
}

// sessionTags returns the tags of a new session: the caller's transitive session tags, which
// carry over in role chaining and cannot be overridden, then the requested tags, transitive
// when TransitiveTagKeys names them.
func sessionTags(caller *identity.Principal, in *AssumeRoleInput) ([]identity.Tag, error) {
	requested := make(map[string]bool, len(in.Tags))
	for _, t := range in.Tags {
		requested[strings.ToLower(t.Key)] = true
	}
	transitive := make(map[string]bool, len(in.TransitiveTagKeys))
	for _, k := range in.TransitiveTagKeys {
		if !requested[strings.ToLower(k)] {
			return nil, awserr.New("InvalidParameterValue", "The transitive tag key %s is not among the session tags of this request.", k)
		}
		transitive[strings.ToLower(k)] = true
	}
	var tags []identity.Tag
	for _, t := range caller.Tags {
		if !t.Transitive {
			continue
		}
		if requested[strings.ToLower(t.Key)] {
			return nil, awserr.New("InvalidParameterValue", "The session tag %s is a transitive tag of the calling session and cannot be overridden.", t.Key)
		}
		tags = append(tags, t)
	}
	for _, t := range in.Tags {
		tags = append(tags, identity.Tag{Key: t.Key, Value: t.Value, Transitive: transitive[strings.ToLower(t.Key)]})
	}
	return tags, nil
}

// assumeRoleContext returns the sts: and request-tag condition keys of an AssumeRole call.
func assumeRoleContext(in *AssumeRoleInput) map[string][]string {
	c := map[string][]string{"sts:RoleSessionName": {in.RoleSessionName}}
	if in.ExternalID != nil {
		c["sts:ExternalId"] = []string{*in.ExternalID}
	}
	if in.SourceIdentity != nil {
		c["sts:SourceIdentity"] = []string{*in.SourceIdentity}
	}
	if len(in.TransitiveTagKeys) > 0 {
		c["sts:TransitiveTagKeys"] = in.TransitiveTagKeys
	}
	if len(in.Tags) > 0 {
		keys := make([]string, 0, len(in.Tags))
		for _, t := range in.Tags {
			c["aws:RequestTag/"+t.Key] = []string{t.Value}
			keys = append(keys, t.Key)
		}
		c["aws:TagKeys"] = keys
	}
	return c
}
