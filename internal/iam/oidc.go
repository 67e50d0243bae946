package iam

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// Limits of OpenID Connect providers, from IAM's model and quotas.
const (
	maxOIDCURL        = 255
	maxClientIDs      = 100
	maxClientID       = 255
	maxThumbprints    = 5
	thumbprintLength  = 40
	thumbprintPattern = `[0-9A-Fa-f]{40}`
)

// OIDCIssuer is an OpenID Connect provider's URL, checked and normalized.
type OIDCIssuer struct {
	Issuer string // scheme, host and path: where the discovery document is
	URL    string // host and path without the scheme, as in the provider's ARN and tokens' iss
}

// ParseOIDCIssuer checks an OpenID Connect provider URL: https:// (or http:// when allowHTTP),
// a host, an optional port and path, no user, query or fragment. The scheme and host are
// lower-cased and a trailing slash dropped, so that https://Example.com/ and
// https://example.com name one provider. Errors are InvalidInput.
func ParseOIDCIssuer(raw string, allowHTTP bool) (*OIDCIssuer, error) {
	u, err := url.Parse(raw)
	bad := func(why string) error {
		return awserr.New(ErrInvalidInput, "The URL %s is not a valid OpenID Connect provider URL: %s.", clip(raw), why)
	}
	if err != nil {
		return nil, bad("it cannot be parsed")
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme == "https":
	case scheme == "http" && allowHTTP:
	case scheme == "http":
		return nil, bad("it must begin with https:// (this server does not allow http:// issuers)")
	default:
		return nil, bad("it must begin with https://")
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#") {
		return nil, bad("it must be a host and optional path, without user, query or fragment")
	}
	host := strings.ToLower(u.Host)
	path := strings.TrimRight(u.EscapedPath(), "/")
	return &OIDCIssuer{Issuer: scheme + "://" + host + path, URL: host + path}, nil
}

// OIDCProviderResource returns the ARN CreateOpenIDConnectProvider is authorized against: the
// ARN of the provider the URL names in the caller's account (the URL as given when it is not
// valid; the operation then fails).
func OIDCProviderResource(caller *identity.Principal, rawURL string) string {
	if iss, err := ParseOIDCIssuer(rawURL, true); err == nil {
		return store.OIDCProviderARN(caller.AccountID, iss.URL)
	}
	_, rest, _ := strings.Cut(rawURL, "://")
	return store.OIDCProviderARN(caller.AccountID, rest)
}

// CreateOpenIDConnectProviderInput is the input of CreateOpenIDConnectProvider.
type CreateOpenIDConnectProviderInput struct {
	URL            string   `query:"Url" json:"Url"`
	ClientIDList   []string `json:",omitempty"`
	ThumbprintList []string `json:",omitempty"`
	Tags           []Tag    `json:",omitempty"`
}

// CreateOpenIDConnectProviderOutput is the output of CreateOpenIDConnectProvider.
type CreateOpenIDConnectProviderOutput struct {
	OpenIDConnectProviderARN string `xml:"OpenIDConnectProviderArn" json:"OpenIDConnectProviderArn"`
	Tags                     []Tag  `xml:",omitempty" json:",omitempty"`
}

// CreateOpenIDConnectProvider registers an OpenID Connect identity provider, whose tokens
// AssumeRoleWithWebIdentity accepts for roles of this account that trust it. Errors:
// InvalidInput (URL), ValidationError, EntityAlreadyExists (a provider for that URL),
// LimitExceeded (providers per account, tags).
func (s *Service) CreateOpenIDConnectProvider(ctx context.Context, caller *identity.Principal, in *CreateOpenIDConnectProviderInput) (*CreateOpenIDConnectProviderOutput, error) {
	if in.URL == "" {
		return nil, missing("url")
	}
	if err := checkLength("url", in.URL, 1, maxOIDCURL); err != nil {
		return nil, err
	}
	iss, err := ParseOIDCIssuer(in.URL, s.AllowHTTPIssuers)
	if err != nil {
		return nil, err
	}
	clientIDs, err := checkClientIDs(in.ClientIDList)
	if err != nil {
		return nil, err
	}
	if err := checkThumbprints(in.ThumbprintList); err != nil {
		return nil, err
	}
	tags, err := checkTags("tags", in.Tags, false)
	if err != nil {
		return nil, err
	}
	p := &store.OIDCProvider{
		AccountID: caller.AccountID, URL: iss.URL, Issuer: iss.Issuer,
		ClientIDs: clientIDs, Thumbprints: in.ThumbprintList, Tags: tags,
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*CreateOpenIDConnectProviderOutput, error) {
		p.CreatedAt = tx.Now()
		err := tx.CreateOIDCProvider(ctx, p)
		switch {
		case is(err, store.ErrConflict):
			return nil, awserr.New(ErrEntityAlreadyExists, "Provider with url %s already exists.", in.URL)
		case is(err, store.ErrLimitExceeded):
			return nil, awserr.New(ErrLimitExceeded, "Cannot exceed quota for OpenIdConnectProvidersPerAccount: %d", store.MaxOIDCProviders)
		case err != nil:
			return nil, err
		}
		return &CreateOpenIDConnectProviderOutput{OpenIDConnectProviderARN: p.ARN, Tags: tagsOf(tags)}, nil
	})
}

// checkClientIDs checks a list of client IDs (audiences) and returns it without duplicates.
func checkClientIDs(ids []string) ([]string, error) {
	if len(ids) > maxClientIDs {
		return nil, invalid("clientIDList", itoa(len(ids))+" client IDs", "Member must have length less than or equal to "+itoa(maxClientIDs))
	}
	out := make([]string, 0, len(ids))
	for i, id := range ids {
		if err := checkClientID("clientIDList.member."+itoa(i+1), id); err != nil {
			return nil, err
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

func checkClientID(member, id string) error {
	if id == "" {
		return missing(member)
	}
	return checkLength(member, id, 1, maxClientID)
}

// checkThumbprints checks a list of certificate thumbprints: at most five of 40 hex digits.
func checkThumbprints(list []string) error {
	if len(list) > maxThumbprints {
		return invalid("thumbprintList", itoa(len(list))+" thumbprints", "Member must have length less than or equal to "+itoa(maxThumbprints))
	}
	for i, t := range list {
		m := "thumbprintList.member." + itoa(i+1)
		if len(t) != thumbprintLength {
			return invalid(m, t, "Member must have length "+itoa(thumbprintLength))
		}
		for j := 0; j < len(t); j++ {
			c := t[j]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return invalid(m, t, "Member must satisfy regular expression pattern: "+thumbprintPattern)
			}
		}
	}
	return nil
}

// checkOIDCProviderARN checks the ARN of a provider of the caller's account: InvalidInput for
// something that is no provider ARN, NoSuchEntity for another account's.
func checkOIDCProviderARN(caller *identity.Principal, arn string) error {
	if arn == "" {
		return missing("openIDConnectProviderArn")
	}
	if err := checkLength("openIDConnectProviderArn", arn, 20, 2048); err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::")
	owner, resource, ok2 := strings.Cut(rest, ":")
	name, ok3 := strings.CutPrefix(resource, "oidc-provider/")
	if !ok || !ok2 || !ok3 || name == "" || !identity.ValidAccountID(owner) {
		return awserr.New(ErrInvalidInput, "ARN %s is not valid.", arn)
	}
	if owner != caller.AccountID {
		return noSuchOIDCProvider(arn)
	}
	return nil
}

func noSuchOIDCProvider(arn string) error {
	return awserr.New(ErrNoSuchEntity, "OpenIDConnect Provider not found for arn %s", arn)
}

// oidcProvider reads a provider, NoSuchEntity when there is none.
func oidcProvider(ctx context.Context, tx *store.Tx, arn string) (*store.OIDCProvider, error) {
	p, err := tx.OIDCProvider(ctx, arn)
	if is(err, store.ErrNotFound) {
		return nil, noSuchOIDCProvider(arn)
	}
	return p, err
}

// GetOpenIDConnectProviderInput is the input of GetOpenIDConnectProvider.
type GetOpenIDConnectProviderInput struct {
	OpenIDConnectProviderARN string `query:"OpenIDConnectProviderArn" json:"OpenIDConnectProviderArn"`
}

// GetOpenIDConnectProviderOutput is the output of GetOpenIDConnectProvider. As in AWS, Url has
// no scheme.
type GetOpenIDConnectProviderOutput struct {
	URL            string `xml:"Url" json:"Url"`
	ClientIDList   []string
	ThumbprintList []string
	CreateDate     time.Time
	Tags           []Tag `xml:",omitempty" json:",omitempty"`
}

// GetOpenIDConnectProvider returns a provider's URL, client IDs, thumbprints and tags. Errors:
// NoSuchEntity, InvalidInput, ValidationError.
func (s *Service) GetOpenIDConnectProvider(ctx context.Context, caller *identity.Principal, in *GetOpenIDConnectProviderInput) (*GetOpenIDConnectProviderOutput, error) {
	if err := checkOIDCProviderARN(caller, in.OpenIDConnectProviderARN); err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*GetOpenIDConnectProviderOutput, error) {
		p, err := oidcProvider(ctx, tx, in.OpenIDConnectProviderARN)
		if err != nil {
			return nil, err
		}
		return &GetOpenIDConnectProviderOutput{
			URL: p.URL, ClientIDList: nonNilStrings(p.ClientIDs), ThumbprintList: nonNilStrings(p.Thumbprints),
			CreateDate: seconds(p.CreatedAt), Tags: tagsOf(p.Tags),
		}, nil
	})
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ListOpenIDConnectProvidersInput is the (empty) input of ListOpenIDConnectProviders.
type ListOpenIDConnectProvidersInput struct{}

// OpenIDConnectProviderListEntry names one provider.
type OpenIDConnectProviderListEntry struct {
	ARN string `xml:"Arn" json:"Arn"`
}

// ListOpenIDConnectProvidersOutput is the output of ListOpenIDConnectProviders.
type ListOpenIDConnectProvidersOutput struct {
	OpenIDConnectProviderList []OpenIDConnectProviderListEntry
}

// ListOpenIDConnectProviders returns the ARNs of the account's providers (not paged, as in AWS).
func (s *Service) ListOpenIDConnectProviders(ctx context.Context, caller *identity.Principal, _ *ListOpenIDConnectProvidersInput) (*ListOpenIDConnectProvidersOutput, error) {
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListOpenIDConnectProvidersOutput, error) {
		ps, err := tx.OIDCProviders(ctx, caller.AccountID)
		if err != nil {
			return nil, err
		}
		out := &ListOpenIDConnectProvidersOutput{OpenIDConnectProviderList: make([]OpenIDConnectProviderListEntry, 0, len(ps))}
		for _, p := range ps {
			out.OpenIDConnectProviderList = append(out.OpenIDConnectProviderList, OpenIDConnectProviderListEntry{ARN: p.ARN})
		}
		return out, nil
	})
}

// DeleteOpenIDConnectProviderInput is the input of DeleteOpenIDConnectProvider.
type DeleteOpenIDConnectProviderInput struct {
	OpenIDConnectProviderARN string `query:"OpenIDConnectProviderArn" json:"OpenIDConnectProviderArn"`
}

// DeleteOpenIDConnectProvider deletes a provider; roles that trust it keep their trust
// policies but its tokens are refused from then on. Errors: NoSuchEntity, InvalidInput.
func (s *Service) DeleteOpenIDConnectProvider(ctx context.Context, caller *identity.Principal, in *DeleteOpenIDConnectProviderInput) (*Empty, error) {
	if err := checkOIDCProviderARN(caller, in.OpenIDConnectProviderARN); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		err := tx.DeleteOIDCProvider(ctx, in.OpenIDConnectProviderARN)
		if is(err, store.ErrNotFound) {
			return nil, noSuchOIDCProvider(in.OpenIDConnectProviderARN)
		}
		if err != nil {
			return nil, err
		}
		return &Empty{}, nil
	})
}

// AddClientIDToOpenIDConnectProviderInput is the input of AddClientIDToOpenIDConnectProvider.
type AddClientIDToOpenIDConnectProviderInput struct {
	OpenIDConnectProviderARN string `query:"OpenIDConnectProviderArn" json:"OpenIDConnectProviderArn"`
	ClientID                 string
}

// AddClientIDToOpenIDConnectProvider adds a client ID (audience) to a provider; adding one it
// has already does nothing. Errors: NoSuchEntity, InvalidInput, ValidationError, LimitExceeded.
func (s *Service) AddClientIDToOpenIDConnectProvider(ctx context.Context, caller *identity.Principal, in *AddClientIDToOpenIDConnectProviderInput) (*Empty, error) {
	if err := checkOIDCProviderARN(caller, in.OpenIDConnectProviderARN); err != nil {
		return nil, err
	}
	if err := checkClientID("clientID", in.ClientID); err != nil {
		return nil, err
	}
	return s.changeOIDCProvider(ctx, in.OpenIDConnectProviderARN, func(p *store.OIDCProvider) error {
		if slices.Contains(p.ClientIDs, in.ClientID) {
			return nil
		}
		if len(p.ClientIDs) >= maxClientIDs {
			return awserr.New(ErrLimitExceeded, "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", maxClientIDs)
		}
		p.ClientIDs = append(p.ClientIDs, in.ClientID)
		return nil
	})
}

// RemoveClientIDFromOpenIDConnectProviderInput is the input of
// RemoveClientIDFromOpenIDConnectProvider.
type RemoveClientIDFromOpenIDConnectProviderInput struct {
	OpenIDConnectProviderARN string `query:"OpenIDConnectProviderArn" json:"OpenIDConnectProviderArn"`
	ClientID                 string
}

// RemoveClientIDFromOpenIDConnectProvider removes a client ID from a provider; removing one it
// does not have does nothing, as in AWS. Errors: NoSuchEntity, InvalidInput, ValidationError.
func (s *Service) RemoveClientIDFromOpenIDConnectProvider(ctx context.Context, caller *identity.Principal, in *RemoveClientIDFromOpenIDConnectProviderInput) (*Empty, error) {
	if err := checkOIDCProviderARN(caller, in.OpenIDConnectProviderARN); err != nil {
		return nil, err
	}
	if err := checkClientID("clientID", in.ClientID); err != nil {
		return nil, err
	}
	return s.changeOIDCProvider(ctx, in.OpenIDConnectProviderARN, func(p *store.OIDCProvider) error {
		p.ClientIDs = slices.DeleteFunc(p.ClientIDs, func(id string) bool { return id == in.ClientID })
		return nil
	})
}

// UpdateOpenIDConnectProviderThumbprintInput is the input of
// UpdateOpenIDConnectProviderThumbprint.
type UpdateOpenIDConnectProviderThumbprintInput struct {
	OpenIDConnectProviderARN string `query:"OpenIDConnectProviderArn" json:"OpenIDConnectProviderArn"`
	ThumbprintList           []string
}

// UpdateOpenIDConnectProviderThumbprint replaces a provider's list of certificate thumbprints.
// Errors: NoSuchEntity, InvalidInput, ValidationError.
func (s *Service) UpdateOpenIDConnectProviderThumbprint(ctx context.Context, caller *identity.Principal, in *UpdateOpenIDConnectProviderThumbprintInput) (*Empty, error) {
	if err := checkOIDCProviderARN(caller, in.OpenIDConnectProviderARN); err != nil {
		return nil, err
	}
	if in.ThumbprintList == nil {
		return nil, missing("thumbprintList")
	}
	if err := checkThumbprints(in.ThumbprintList); err != nil {
		return nil, err
	}
	return s.changeOIDCProvider(ctx, in.OpenIDConnectProviderARN, func(p *store.OIDCProvider) error {
		p.Thumbprints = in.ThumbprintList
		return nil
	})
}

// changeOIDCProvider reads a provider (locking it), lets change modify its client IDs or
// thumbprints and writes them back, in one transaction.
func (s *Service) changeOIDCProvider(ctx context.Context, arn string, change func(p *store.OIDCProvider) error) (*Empty, error) {
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*Empty, error) {
		p, err := oidcProvider(ctx, tx, arn)
		if err != nil {
			return nil, err
		}
		if err := change(p); err != nil {
			return nil, err
		}
		if err := tx.UpdateOIDCProvider(ctx, p); err != nil {
			return nil, err
		}
		return &Empty{}, nil
	})
}
