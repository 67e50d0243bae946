package sts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/authz"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/licensemanager"
	"github.com/allot-dev/allot/internal/policy"
	"github.com/allot-dev/allot/internal/store"
)

// Limits of AssumeRoleWithWebIdentity's input, from STS's model.
const (
	minWebIdentityToken = 4
	maxWebIdentityToken = 20000
)

// AssumeRoleWithWebIdentityInput is the input of AssumeRoleWithWebIdentity.
type AssumeRoleWithWebIdentityInput struct {
	RoleARN          string             `query:"RoleArn" json:"RoleArn"`
	RoleSessionName  string             `json:"RoleSessionName"`
	WebIdentityToken string             `json:"WebIdentityToken"` // never recorded (audit hides it)
	ProviderID       *string            `query:"ProviderId" json:"ProviderId,omitempty"`
	PolicyARNs       []PolicyDescriptor `query:"PolicyArns" json:"PolicyArns,omitempty"`
	Policy           *string            `json:"Policy,omitempty"`
	DurationSeconds  *int32             `json:"DurationSeconds,omitempty"`
}

// AssumeRoleWithWebIdentityOutput is the output of AssumeRoleWithWebIdentity.
type AssumeRoleWithWebIdentityOutput struct {
	Credentials                 Credentials     `json:"Credentials"`
	SubjectFromWebIdentityToken string          `json:"SubjectFromWebIdentityToken"`
	AssumedRoleUser             AssumedRoleUser `json:"AssumedRoleUser"`
	PackedPolicySize            *int32          `xml:",omitempty" json:"PackedPolicySize,omitempty"`
	Provider                    string          `json:"Provider"` // the token's iss
	Audience                    string          `json:"Audience"` // the client ID the token was issued to
	SourceIdentity              string          `xml:",omitempty" json:"SourceIdentity,omitempty"`
}

// AssumeRoleWithWebIdentity returns temporary credentials for a role to the user of an OpenID
// Connect provider registered in the role's account, who proves who they are with an ID
// token (a JWT) of that provider. The token must be signed with one of the keys the issuer
// publishes (fetched through its discovery document, cached), issued to one of the provider's
// client IDs, and current (exp, nbf, iat, within TokenClockSkew). The role's trust policy
// must allow sts:AssumeRoleWithWebIdentity for {"Federated": PROVIDER-ARN}, with the condition
// keys URL:aud, URL:sub, URL:amr (URL being the provider's host and path) and
// aws:FederatedProvider.
//
// It also accepts License Manager's access tokens (GetAccessToken), as AWS's built-in
// providers work: no IAM provider is registered; the trust policy names {"Federated":
// "openid-license-manager.amazonaws.com"}, with the condition keys
// openid-license-manager.amazonaws.com:aud (the license ARN), :sub (the token ID) and :amr
// (aws:license-manager:token-issuer-account-id:ACCOUNT and the token's properties). The token
// is verified by LicenseTokens, without any fetch; one whose token was deleted is refused.
// When the token names roles (CreateToken's RoleArns), the role must be one of them.
//
// The token authenticates the call: as in AWS, it needs no signature (caller is nil), and the
// decision rests on the token and the trust policy alone. A signed call is accepted too; its
// signer is recorded as the session's SourceARN and the audit event's accessKeyId. The
// event's userIdentity is the web identity (WebIdentityUser), in the role's account, once the
// token has been verified; a call whose token does not verify is attributed to nobody and
// not recorded.
//
// Errors: InvalidIdentityToken (malformed, unknown issuer, signature, key, audience, nbf,
// iat), ExpiredTokenException, IDPCommunicationError (the issuer's keys cannot be fetched),
// AccessDenied (trust policy; a role that does not exist), MalformedPolicyDocument,
// PackedPolicyTooLarge, ValidationError.
func (s *Service) AssumeRoleWithWebIdentity(ctx context.Context, caller *identity.Principal, in *AssumeRoleWithWebIdentityInput) (*AssumeRoleWithWebIdentityOutput, error) {
	if err := validateAssumeRoleWithWebIdentity(in); err != nil {
		return nil, err
	}
	m := roleARNPattern.FindStringSubmatch(in.RoleARN)
	roleAccount, rolePath, roleName := m[1], m[2], m[3]
	if rolePath == "" {
		rolePath = "/"
	}
	now := s.now().UTC()

	tok, iss, err := parseWebToken(in.WebIdentityToken)
	if err != nil {
		return nil, err
	}
	var fed *federation
	if iss == licensemanager.TokenIssuer {
		fed, err = s.licenseFederation(ctx, in.WebIdentityToken, now)
	} else {
		fed, err = s.oidcFederation(ctx, tok, iss, roleAccount, now)
	}
	if err != nil {
		return nil, err
	}
	web := fed.web
	var role *store.Role
	err = s.DB.View(ctx, func(tx *store.Tx) error {
		var err error
		role, err = tx.Role(ctx, roleAccount, roleName)
		if errors.Is(err, store.ErrNotFound) {
			role, err = nil, nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sts: assume role with web identity %s: %w", in.RoleARN, err)
	}

	// From here on the call is the web identity's, recorded in the role's account.
	// AWS's clients send this call unsigned (caller is nil); a signed call names its signer.
	var signer, signerKey string
	if caller != nil {
		signer, signerKey = caller.ARN, caller.AccessKeyID
	}
	caller = &identity.Principal{
		Kind:              identity.KindWebIdentity,
		AccountID:         roleAccount,
		ARN:               fed.provider,
		PrincipalID:       fed.keyPrefix + ":" + web.Audience + ":" + web.Subject,
		UserName:          web.Subject,
		AccessKeyID:       signerKey,
		SourceIdentity:    web.SourceIdentity,
		FederatedProvider: fed.provider,
	}
	audit.PendingFrom(ctx).SetUserIdentity(audit.IdentityOf(caller), roleAccount)

	if role == nil || role.Path != rolePath {
		// As AWS: a role that does not exist is indistinguishable from one that does not trust you.
		return nil, awserr.New("AccessDenied", "User: %s is not authorized to perform: sts:AssumeRoleWithWebIdentity on resource: %s", caller.ARN, in.RoleARN)
	}
	if len(fed.roleARNs) > 0 && !slices.Contains(fed.roleARNs, role.ARN) {
		return nil, awserr.New("AccessDenied", "User: %s is not authorized to perform: sts:AssumeRoleWithWebIdentity on resource: %s because the token names only the roles %s: use one of them, or a token that names this role",
			caller.ARN, in.RoleARN, strings.Join(fed.roleARNs, ", "))
	}
	trust, err := s.Authz.Parse(role.AssumeRolePolicy, policy.KindTrust)
	if err != nil {
		return nil, fmt.Errorf("sts: trust policy of %s: %w", role.ARN, err)
	}
	trust.Name = "trust policy of " + role.ARN
	req := &authz.Request{
		Principal:       caller,
		Action:          "sts:AssumeRoleWithWebIdentity",
		Resource:        role.ARN,
		ResourceAccount: role.AccountID,
		ResourcePolicy:  trust,
		Context:         webIdentityContext(in, fed),
		Time:            now,
	}
	if err := s.Authz.Authorize(ctx, req); err != nil {
		return nil, err
	}
	if web.SourceIdentity != "" {
		if err := checkString("sourceIdentity", web.SourceIdentity, 2, 64, sessionNamePattern); err != nil {
			return nil, invalidToken("The token's https://aws.amazon.com/source_identity claim is not a valid source identity.")
		}
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
	if maxRole := time.Duration(role.MaxSessionDuration) * time.Second; duration > maxRole {
		return nil, awserr.New("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	sessionPolicies, packed, err := sessionPolicies(in.Policy, in.PolicyARNs)
	if err != nil {
		return nil, err
	}

	created := now.Truncate(time.Second)
	keyID, secret, token := newSessionCredentials()
	sess := &store.Session{
		AccessKeyID:        keyID,
		AccountID:          role.AccountID,
		Kind:               identity.KindAssumedRole,
		PrincipalID:        role.ID,
		RoleARN:            role.ARN,
		RoleName:           role.Name,
		SessionName:        in.RoleSessionName,
		Secret:             secret,
		Token:              token,
		SourceIdentity:     web.SourceIdentity,
		SourceARN:          signer,
		FederatedProvider:  fed.provider,
		WebIdentitySubject: web.Subject,
		CreatedAt:          created,
		ExpiresAt:          created.Add(duration),
	}
	out := &AssumeRoleWithWebIdentityOutput{
		Credentials:                 Credentials{AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: token, Expiration: sess.ExpiresAt},
		SubjectFromWebIdentityToken: web.Subject,
		AssumedRoleUser: AssumedRoleUser{
			AssumedRoleID: role.ID + ":" + in.RoleSessionName,
			ARN:           "arn:aws:sts::" + role.AccountID + ":assumed-role/" + role.Name + "/" + in.RoleSessionName,
		},
		Provider:       web.Issuer,
		Audience:       web.Audience,
		SourceIdentity: web.SourceIdentity,
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

// issuerMatches reports whether a token's issuer (split by issuerURL) is provider p's: the
// same URL, and the same scheme when the token names one.
func issuerMatches(scheme, url string, p *store.OIDCProvider) bool {
	if url != p.URL {
		return false
	}
	return scheme == "" || scheme+"://"+url == p.Issuer
}

func validateAssumeRoleWithWebIdentity(in *AssumeRoleWithWebIdentityInput) error {
	switch {
	case in.RoleARN == "":
		return awserr.New("MissingParameter", "The request must contain the parameter RoleArn.")
	case in.RoleSessionName == "":
		return awserr.New("MissingParameter", "The request must contain the parameter RoleSessionName.")
	case in.WebIdentityToken == "":
		return awserr.New("MissingParameter", "The request must contain the parameter WebIdentityToken.")
	}
	if !roleARNPattern.MatchString(in.RoleARN) {
		return validationError("roleArn", in.RoleARN, "Member must be the ARN of an IAM role: arn:aws:iam::<12-digit account>:role/<name>")
	}
	if err := checkString("roleSessionName", in.RoleSessionName, 2, 64, sessionNamePattern); err != nil {
		return err
	}
	if n := len(in.WebIdentityToken); n < minWebIdentityToken || n > maxWebIdentityToken {
		return validationError("webIdentityToken", "…", fmt.Sprintf("Member must have length between %d and %d", minWebIdentityToken, maxWebIdentityToken))
	}
	if in.ProviderID != nil {
		if err := checkString("providerId", *in.ProviderID, 4, 2048, nil); err != nil {
			return err
		}
	}
	if in.DurationSeconds != nil {
		if d := time.Duration(*in.DurationSeconds) * time.Second; d < MinSessionDuration || d > MaxSessionDuration {
			return validationError("durationSeconds", fmt.Sprint(*in.DurationSeconds), "Member must have value between 900 and 43200")
		}
	}
	if in.Policy != nil && (len(*in.Policy) < 1 || len(*in.Policy) > maxSessionPolicyChars) {
		return validationError("policy", "…", fmt.Sprintf("Member must have length between 1 and %d", maxSessionPolicyChars))
	}
	if len(in.PolicyARNs) > maxPolicyARNs {
		return validationError("policyArns", fmt.Sprint(len(in.PolicyARNs)), fmt.Sprintf("Member must have at most %d items", maxPolicyARNs))
	}
	return nil
}

// webIdentityContext returns the condition keys of an AssumeRoleWithWebIdentity call: the
// provider's PREFIX:aud, PREFIX:sub and PREFIX:amr (PREFIX being an OpenID Connect provider's
// URL, or the name of a built-in provider), aws:FederatedProvider and sts:RoleSessionName.
func webIdentityContext(in *AssumeRoleWithWebIdentityInput, fed *federation) map[string][]string {
	t := fed.web
	c := map[string][]string{
		"sts:RoleSessionName":   {in.RoleSessionName},
		"aws:FederatedProvider": {fed.provider},
		fed.keyPrefix + ":aud":  {t.Audience},
		fed.keyPrefix + ":sub":  {t.Subject},
	}
	if len(t.AMR) > 0 {
		c[fed.keyPrefix+":amr"] = t.AMR
	}
	if t.SourceIdentity != "" {
		c["sts:SourceIdentity"] = []string{t.SourceIdentity}
	}
	return c
}

// sessionPolicies checks the session policies of a request (the inline Policy and the ARNs of
// PolicyArns) and returns the inline one as a list, with their packed size in characters.
// Errors: MalformedPolicyDocument, PackedPolicyTooLarge.
func sessionPolicies(doc *string, arns []PolicyDescriptor) ([]string, int, error) {
	var docs []string
	packed := 0
	if doc != nil {
		if _, err := policy.Parse(*doc, policy.KindSession); err != nil {
			var perr *policy.Error
			if errors.As(err, &perr) {
				return nil, 0, awserr.New("MalformedPolicyDocument", "%s", perr.Reason)
			}
			return nil, 0, err
		}
		docs = append(docs, *doc)
		packed = len(*doc)
	}
	for _, pa := range arns {
		packed += len(pa.ARN)
	}
	if packed > maxSessionPolicyChars {
		return nil, 0, awserr.New("PackedPolicyTooLarge", "The session policies (Policy and PolicyArns) are %d characters; the limit is %d.", packed, maxSessionPolicyChars)
	}
	return docs, packed, nil
}

// createSession stores a new session of role with its session policies (inline documents and
// the managed policies arns name), in one write that also records out and the role in the
// request's audit event.
func (s *Service) createSession(ctx context.Context, sess *store.Session, docs []string, arns []PolicyDescriptor, role *store.Role, out any) error {
	return s.DB.Update(ctx, func(tx *store.Tx) error {
		policies, err := withManagedPolicies(ctx, tx, docs, arns)
		if err != nil {
			return err
		}
		sess.Policies = policies
		if err := tx.CreateSession(ctx, sess); err != nil {
			return err
		}
		audit.PendingFrom(ctx).SetResponse(out)
		audit.PendingFrom(ctx).SetResources(audit.Resource{ARN: role.ARN, AccountID: role.AccountID, Type: "AWS::IAM::Role"})
		return nil
	})
}

// withManagedPolicies returns docs followed by the default versions of the managed policies
// arns names, read in tx. A policy that does not exist is a ValidationError.
func withManagedPolicies(ctx context.Context, tx *store.Tx, docs []string, arns []PolicyDescriptor) ([]string, error) {
	out := slices.Clip(docs) // appending never writes into docs: Update may run this again
	for _, pa := range arns {
		doc, err := tx.ManagedPolicyDocument(ctx, pa.ARN)
		if errors.Is(err, store.ErrNotFound) {
			return nil, awserr.New("ValidationError", "The policy %s given in PolicyArns does not exist.", pa.ARN)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, doc)
	}
	return out, nil
}
