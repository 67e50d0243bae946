package licensemanager

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awstime"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// License Manager's token issuer: refresh tokens (CreateToken) and the access tokens
// GetAccessToken exchanges them for, which STS AssumeRoleWithWebIdentity accepts for roles that
// trust the issuer.
const (
	// TokenProvider is the token issuer's name as roles' trust policies name it,
	// {"Federated": "openid-license-manager.amazonaws.com"}, and the prefix of the condition
	// keys AssumeRoleWithWebIdentity sets (openid-license-manager.amazonaws.com:aud, :sub, :amr).
	TokenProvider = "openid-license-manager.amazonaws.com"
	// TokenIssuer is the iss claim of the tokens.
	TokenIssuer = "https://" + TokenProvider
	// AccessTokenLifetime is how long an access token is valid (never past its refresh token).
	AccessTokenLifetime = time.Hour
	// IssuerAccountAMR prefixes the amr value naming the account that created a token, which
	// AWS's consumption role trust policy tests: aws:license-manager:token-issuer-account-id:ACCOUNT.
	IssuerAccountAMR = "aws:license-manager:token-issuer-account-id:"
	// TokenTypeRefresh is the TokenType of CreateToken's tokens.
	TokenTypeRefresh = "REFRESH_TOKEN"
)

// Limits of tokens. AWS documents only the default expiration and the three TokenProperties;
// the other bounds are Allot's.
const (
	defaultExpirationDays = 365
	maxExpirationDays     = 730
	maxTokenProperties    = 3
	maxTokenProperty      = 255 // characters
	maxTokenRoleARNs      = 10
	maxTokenChars         = 4096 // Token and AccessToken, as the model bounds them
	// maxTokensPerLicense is how many AVAILABLE tokens an account may have for one license.
	maxTokensPerLicense = 100
)

// token_use claim values.
const (
	useRefresh = "refresh"
	useAccess  = "access"
)

var (
	tokenRoleARNPattern = regexp.MustCompile(`^arn:aws:iam::\d{12}:role(/(?:[\x21-\x7E]*/)?)?[\w+=,.@-]{1,64}$`)
	tokenIDPattern      = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// tokenClaims are the claims of refresh and access tokens.
type tokenClaims struct {
	jwt.Claims
	AMR      []string `json:"amr,omitempty"`
	Use      string   `json:"token_use"`
	RoleARNs []string `json:"role_arns,omitempty"`
}

func newTokenID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func tokenHash(raw string) string {
	h := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(h[:])
}

// amr returns the amr claim of a token: the account that created it, then its properties.
func amr(t *store.Token) []string {
	return append([]string{IssuerAccountAMR + t.AccountID}, t.Properties...)
}

// currentTokenKey returns the token issuer's current signing key, making it on first use.
// The key is stored in a transaction of its own that records no audit event: it belongs to
// the server, not to the call that happened to need it first.
func (s *Service) currentTokenKey(ctx context.Context) (*store.TokenKey, error) {
	k, err := store.Read(ctx, s.DB, func(tx *store.Tx) (*store.TokenKey, error) { return tx.TokenKey(ctx, "") })
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return k, err
	}
	k, err = newTokenKey()
	if err != nil {
		return nil, err
	}
	var cur *store.TokenKey
	err = s.DB.Update(audit.WithPending(ctx, nil), func(tx *store.Tx) error {
		k.CreatedAt = tx.Now()
		var err error
		cur, err = tx.AddTokenKey(ctx, k)
		return err
	})
	return cur, err
}

// newTokenKey generates an Ed25519 key: its signatures are deterministic, so a token signed
// again from its stored claims (a CreateToken retry) is the same string.
func newTokenKey() (*store.TokenKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("licensemanager: generate token key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("licensemanager: encode token key: %w", err)
	}
	jwk := jose.JSONWebKey{Key: pub, Algorithm: string(jose.EdDSA), Use: "sig"}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("licensemanager: thumbprint: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	pubJWK, err := jwk.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("licensemanager: encode token key: %w", err)
	}
	return &store.TokenKey{KID: jwk.KeyID, Alg: string(jose.EdDSA), PublicJWK: string(pubJWK), PrivateKey: der, Current: true}, nil
}

// signToken signs claims with a token key.
func signToken(k *store.TokenKey, c *tokenClaims) (string, error) {
	priv, err := x509.ParsePKCS8PrivateKey(k.PrivateKey)
	if err != nil {
		return "", fmt.Errorf("licensemanager: token key %s: %w", k.KID, err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: priv},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.KID))
	if err != nil {
		return "", fmt.Errorf("licensemanager: token signer: %w", err)
	}
	raw, err := jwt.Signed(signer).Claims(c).Serialize()
	if err != nil {
		return "", fmt.Errorf("licensemanager: sign token: %w", err)
	}
	return raw, nil
}

// refreshToken returns the refresh token of a stored token, signed with k (the key it names).
func refreshToken(k *store.TokenKey, t *store.Token) (string, error) {
	return signToken(k, &tokenClaims{
		Claims: jwt.Claims{
			Issuer: TokenIssuer, Subject: t.ID, Audience: jwt.Audience{t.LicenseARN}, ID: t.ID,
			IssuedAt: jwt.NewNumericDate(t.CreatedAt), NotBefore: jwt.NewNumericDate(t.CreatedAt),
			Expiry: jwt.NewNumericDate(t.ExpiresAt),
		},
		AMR: amr(t), Use: useRefresh, RoleARNs: t.RoleARNs,
	})
}

// TokenError is why a refresh or access token is refused: it is not one this server issued
// (or it was tampered with), it expired, or its token was deleted. Reason is a sentence for
// the caller.
type TokenError struct {
	Reason  string
	Expired bool
}

// Error returns the reason.
func (e *TokenError) Error() string { return e.Reason }

// verifyToken checks raw, a token of use (refresh or access), in tx: its signature with the
// token issuer's key it names, its claims, and its stored token (not deleted; for a refresh
// token, the very string CreateToken returned). It returns the claims and the stored token; a
// genuine token refused because it was deleted or expired comes back with its stored token
// and the *TokenError, so that the refusal can be recorded in the token's account.
func verifyToken(ctx context.Context, tx *store.Tx, raw, use string, now time.Time) (*tokenClaims, *store.Token, error) {
	what := "refresh token"
	if use == useAccess {
		what = "access token"
	}
	invalid := func(format string, args ...any) error {
		return &TokenError{Reason: fmt.Sprintf("The "+what+" "+format, args...)}
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil || len(tok.Headers) != 1 {
		return nil, nil, invalid("is not a License Manager token (a JWT signed by %s).", TokenIssuer)
	}
	kid := tok.Headers[0].KeyID
	if kid == "" {
		return nil, nil, invalid("names no signing key (kid): it was not issued by %s.", TokenIssuer)
	}
	k, err := tx.TokenKey(ctx, kid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, invalid("was not issued by this server: its signing key (kid %q) is not one of %s's.", kid, TokenIssuer)
	}
	if err != nil {
		return nil, nil, err
	}
	var pub jose.JSONWebKey
	if err := pub.UnmarshalJSON([]byte(k.PublicJWK)); err != nil {
		return nil, nil, fmt.Errorf("licensemanager: token key %s: %w", k.KID, err)
	}
	var c tokenClaims
	if err := tok.Claims(pub.Key, &c); err != nil {
		return nil, nil, invalid("does not verify: its signature is not %s's.", TokenIssuer)
	}
	if c.Issuer != TokenIssuer || c.Use != use || c.Subject == "" || c.Expiry == nil || len(c.Audience) != 1 {
		switch c.Use {
		case useAccess:
			return nil, nil, invalid("is an access token: send the refresh token CreateToken returned.")
		case useRefresh:
			return nil, nil, invalid("is a refresh token: send the access token GetAccessToken returned.")
		}
		return nil, nil, invalid("is not a License Manager %s.", what)
	}
	t, err := tx.Token(ctx, c.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, invalid("names token %s, which does not exist.", c.Subject)
	}
	if err != nil {
		return nil, nil, err
	}
	if use == useRefresh && tokenHash(raw) != t.Hash {
		return nil, nil, invalid("is not the one CreateToken returned for token %s.", t.ID)
	}
	if c.Audience[0] != t.LicenseARN {
		return nil, nil, invalid("names license %s, not token %s's license.", c.Audience[0], t.ID)
	}
	if t.Status == store.TokenDeleted {
		return nil, t, &TokenError{Reason: fmt.Sprintf("Token %s was deleted (DeleteToken) on %s: its refresh and access tokens no longer work; ask the license's owner for a new token.",
			t.ID, awstime.FormatISO8601(t.DeletedAt))}
	}
	if exp := c.Expiry.Time(); !now.Before(exp) {
		next := "ask the license's owner for a new token (CreateToken)"
		if use == useAccess {
			next = "get a new one with GetAccessToken"
		}
		return nil, t, &TokenError{Expired: true, Reason: fmt.Sprintf("The %s expired at %s: %s.", what, awstime.FormatISO8601(exp), next)}
	}
	return &c, t, nil
}

// CreateTokenInput is the input of CreateToken.
type CreateTokenInput struct {
	LicenseArn       string
	RoleArns         []string
	ExpirationInDays *int32
	TokenProperties  []string
	ClientToken      string
}

// CreateTokenOutput is the output of CreateToken.
type CreateTokenOutput struct {
	TokenId   string
	TokenType string
	Token     string `json:",omitempty"` // empty only in the record of the first answer, which never keeps it
}

func checkTokenProperties(props []string) error {
	if len(props) > maxTokenProperties {
		return validation("TokenProperties may have at most %d entries, not %d.", maxTokenProperties, len(props))
	}
	for i, p := range props {
		m := fmt.Sprintf("TokenProperties[%d]", i)
		if err := checkString(ErrValidation, m, p, true, maxTokenProperty); err != nil {
			return err
		}
		if strings.HasPrefix(strings.ToLower(p), "aws:") {
			return validation("%s %q starts with \"aws:\", which is reserved for the values License Manager adds to the amr claim: choose another property.", m, p)
		}
		if slices.Contains(props[:i], p) {
			return validation("%s %q appears twice: send each property once.", m, p)
		}
	}
	return nil
}

// CreateToken creates a refresh token for a license that has reached the caller's account
// (one it issued, or one a grant allowing CreateToken gave it), for a consumer without an
// account of its own: a JWT signed by the License Manager token issuer whose aud is the
// license ARN, whose amr names the caller's account and carries TokenProperties, and which
// embeds RoleArns (the roles AssumeRoleWithWebIdentity will accept it for; any role that
// trusts the issuer when there are none). It expires after ExpirationInDays (default 365,
// at most 730). It must be called in the license's home region. A repeated ClientToken with
// the same input returns the first answer, the same token. Errors: ValidationException,
// ResourceNotFoundException (no such license in reach), AccessDeniedException (the license
// is not AVAILABLE, or its grant is not active or does not allow CreateToken),
// ResourceLimitExceededException, RedirectException.
func (s *Service) CreateToken(ctx context.Context, caller *identity.Principal, in *CreateTokenInput) (*CreateTokenOutput, error) {
	if err := checkLicenseARN(ErrValidation, "LicenseArn", in.LicenseArn); err != nil {
		return nil, err
	}
	if len(in.RoleArns) > maxTokenRoleARNs {
		return nil, validation("RoleArns may have at most %d roles, not %d.", maxTokenRoleARNs, len(in.RoleArns))
	}
	for i, r := range in.RoleArns {
		if len(r) > 2048 || !tokenRoleARNPattern.MatchString(r) {
			return nil, validation("RoleArns[%d] must be the ARN of an IAM role (arn:aws:iam::ACCOUNT:role/NAME), not %q.", i, r)
		}
		if slices.Contains(in.RoleArns[:i], r) {
			return nil, validation("RoleArns[%d] %q appears twice: send each role once.", i, r)
		}
	}
	days := int32(defaultExpirationDays)
	if in.ExpirationInDays != nil {
		days = *in.ExpirationInDays
		if days < 1 || days > maxExpirationDays {
			return nil, validation("ExpirationInDays must be between 1 and %d, not %d (leave it out for %d).", maxExpirationDays, days, defaultExpirationDays)
		}
	}
	if err := checkTokenProperties(in.TokenProperties); err != nil {
		return nil, err
	}
	if err := checkClientToken(in.ClientToken); err != nil {
		return nil, err
	}
	key, err := s.currentTokenKey(ctx)
	if err != nil {
		return nil, err
	}
	// The token is signed before the write transaction; a retry's is signed again after it.
	created := s.now().Truncate(time.Second)
	t := &store.Token{
		ID: newTokenID(), AccountID: caller.AccountID, LicenseARN: in.LicenseArn,
		RoleARNs: in.RoleArns, Properties: in.TokenProperties, KID: key.KID, Status: store.TokenAvailable,
		ExpiresAt: created.Add(time.Duration(days) * 24 * time.Hour), CreatedAt: created,
	}
	raw, err := refreshToken(key, t)
	if err != nil {
		return nil, err
	}
	if len(raw) > maxTokenChars {
		return nil, validation("The token would be %d characters, more than the %d allowed: send fewer or shorter RoleArns and TokenProperties.", len(raw), maxTokenChars)
	}
	t.Hash = tokenHash(raw)
	dgst := digest(in)
	region := requestRegion(ctx)
	var out *CreateTokenOutput
	var replayed *store.Token
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		out, replayed = nil, nil
		first, err := replay[CreateTokenOutput](ctx, tx, caller, "CreateToken", in.ClientToken, dgst)
		if err != nil {
			return err
		}
		if first != nil {
			if replayed, err = tx.Token(ctx, first.TokenId); err != nil {
				return err
			}
			out = first
			audit.PendingFrom(ctx).SetResponse(out)
			return nil
		}
		rs, err := s.reachableLicenses(ctx, tx, caller, licenseQuery{ARN: in.LicenseArn, Operation: OpCreateToken})
		if err != nil {
			return err
		}
		if len(rs) == 0 {
			return awserr.New(ErrResourceNotFound, "License %s has not reached account %s: it is neither a license the account issued nor one a grant gave it.", in.LicenseArn, caller.AccountID)
		}
		r := rs[0]
		if r.Reason == "" && r.License.Status != StatusAvailable {
			r.Reason = fmt.Sprintf("the license is %s: tokens can be created only for AVAILABLE licenses", r.License.Status)
		}
		if r.Reason != "" {
			return awserr.New(ErrAccessDenied, "Account %s cannot create a token for license %s: %s.", caller.AccountID, in.LicenseArn, r.Reason)
		}
		if region != "" && r.License.HomeRegion != region {
			return redirect(r.License.HomeRegion)
		}
		n, err := tx.CountTokens(ctx, caller.AccountID, in.LicenseArn, store.TokenAvailable)
		if err != nil {
			return err
		}
		if n >= maxTokensPerLicense {
			return awserr.New(ErrResourceLimitExceeded, "Account %s has %d AVAILABLE tokens for license %s, the most allowed: delete one (DeleteToken) first.",
				caller.AccountID, n, in.LicenseArn)
		}
		t.HomeRegion = r.License.HomeRegion
		if err := tx.CreateToken(ctx, t); err != nil {
			return err
		}
		rec := &CreateTokenOutput{TokenId: t.ID, TokenType: TokenTypeRefresh} // never the token itself
		if err := remember(ctx, tx, caller, "CreateToken", in.ClientToken, dgst, rec, tx.Now()); err != nil {
			return err
		}
		out = &CreateTokenOutput{TokenId: t.ID, TokenType: TokenTypeRefresh, Token: raw}
		audit.PendingFrom(ctx).SetResponse(out) // Token is hidden in the record
		return nil
	})
	if err != nil {
		return nil, err
	}
	if replayed != nil {
		k, err := store.Read(ctx, s.DB, func(tx *store.Tx) (*store.TokenKey, error) { return tx.TokenKey(ctx, replayed.KID) })
		if err != nil {
			return nil, err
		}
		if out.Token, err = refreshToken(k, replayed); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// TokenData is a token as ListTokens shows it: never the token string.
type TokenData struct {
	TokenId         string
	TokenType       string
	LicenseArn      string
	ExpirationTime  awstime.ISO8601
	TokenProperties []string
	RoleArns        []string
	Status          string
}

// ListTokensInput is the input of ListTokens.
type ListTokensInput struct {
	TokenIds   []string
	Filters    []Filter
	NextToken  *string
	MaxResults *int32
}

// ListTokensOutput is the output of ListTokens.
type ListTokensOutput struct {
	Tokens    []TokenData
	NextToken *string `json:",omitempty"`
}

// ListTokens lists the tokens the caller's account created, AVAILABLE and DELETED, in token
// ID order: all, those TokenIds names, or those of the licenses the LicenseArns filter names.
// Errors: ValidationException (an unknown filter, a malformed ARN, MaxResults, NextToken).
func (s *Service) ListTokens(ctx context.Context, caller *identity.Principal, in *ListTokensInput) (*ListTokensOutput, error) {
	q := store.TokenQuery{AccountID: caller.AccountID}
	if len(in.TokenIds) > 100 {
		return nil, validation("TokenIds may name at most 100 tokens, not %d.", len(in.TokenIds))
	}
	for i, id := range in.TokenIds {
		if !tokenIDPattern.MatchString(id) {
			return nil, validation("TokenIds[%d] must be a token ID (32 hexadecimal digits, as CreateToken returns), not %q.", i, id)
		}
	}
	q.IDs = in.TokenIds
	if len(in.Filters) > 10 {
		return nil, validation("Filters may have at most 10 filters, not %d.", len(in.Filters))
	}
	for _, f := range in.Filters {
		name := ""
		if f.Name != nil {
			name = *f.Name
		}
		if name != "LicenseArns" {
			return nil, validation("Filter name %q is not one ListTokens supports: use LicenseArns.", name)
		}
		if len(f.Values) == 0 || len(f.Values) > 50 {
			return nil, validation("Filter LicenseArns needs 1 to 50 values, not %d.", len(f.Values))
		}
		for i, v := range f.Values {
			if err := checkLicenseARN(ErrValidation, fmt.Sprintf("Filter LicenseArns value %d", i+1), v); err != nil {
				return nil, err
			}
		}
		q.LicenseARNs = append(q.LicenseARNs, f.Values...)
	}
	p, err := readPage(ErrValidation, "ListTokens", digest(in.Filters)[:16]+digest(in.TokenIds)[:16], in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	q.After, q.Limit = p.after, p.limit+1
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListTokensOutput, error) {
		rows, err := tx.Tokens(ctx, q)
		if err != nil {
			return nil, err
		}
		rows, next := cut(p, rows, func(t *store.Token) string { return t.ID })
		out := &ListTokensOutput{Tokens: []TokenData{}, NextToken: next}
		for _, t := range rows {
			out.Tokens = append(out.Tokens, TokenData{
				TokenId: t.ID, TokenType: TokenTypeRefresh, LicenseArn: t.LicenseARN,
				ExpirationTime: awstime.ISO8601{Time: t.ExpiresAt}, TokenProperties: t.Properties, RoleArns: t.RoleARNs, Status: t.Status,
			})
		}
		return out, nil
	})
}

// DeleteTokenInput is the input of DeleteToken.
type DeleteTokenInput struct {
	TokenId string
}

// DeleteTokenOutput is the (empty) output of DeleteToken.
type DeleteTokenOutput struct{}

// DeleteToken deletes a token the caller's account created: from then on GetAccessToken
// refuses its refresh token and AssumeRoleWithWebIdentity the access tokens already issued
// for it. It stays listed, DELETED; deleting it again changes nothing. It must be called in
// the license's home region. Errors: ValidationException, ResourceNotFoundException,
// RedirectException.
func (s *Service) DeleteToken(ctx context.Context, caller *identity.Principal, in *DeleteTokenInput) (*DeleteTokenOutput, error) {
	if in.TokenId == "" {
		return nil, validation("TokenId is required: the ID CreateToken returned (ListTokens lists them).")
	}
	if len(in.TokenId) > 2048 {
		return nil, validation("TokenId must have at most 2048 characters.")
	}
	region := requestRegion(ctx)
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*DeleteTokenOutput, error) {
		t, err := tx.Token(ctx, in.TokenId)
		if errors.Is(err, store.ErrNotFound) || err == nil && t.AccountID != caller.AccountID {
			return nil, awserr.New(ErrResourceNotFound, "Token %s does not exist in account %s.", in.TokenId, caller.AccountID)
		}
		if err != nil {
			return nil, err
		}
		if region != "" && t.HomeRegion != region {
			return nil, redirect(t.HomeRegion)
		}
		if err := tx.DeleteToken(ctx, t.ID, tx.Now()); err != nil {
			return nil, err
		}
		return &DeleteTokenOutput{}, nil
	})
}

// GetAccessTokenInput is the input of GetAccessToken.
type GetAccessTokenInput struct {
	Token           string
	TokenProperties []string
}

// GetAccessTokenOutput is the output of GetAccessToken.
type GetAccessTokenOutput struct {
	AccessToken string
}

// GetAccessToken exchanges a refresh token for an access token valid for AccessTokenLifetime
// (never past the refresh token), to send to STS AssumeRoleWithWebIdentity. The refresh
// token authenticates the call: as AWS's clients send it, caller is nil (unsigned); a signed
// call is accepted too. The refresh token must be one CreateToken returned, unexpired, of a
// token not deleted; every TokenProperties value sent must be one of the token's. Errors:
// ValidationException (malformed input, a property the token lacks), AccessDeniedException
// (a refresh token that is not valid).
func (s *Service) GetAccessToken(ctx context.Context, caller *identity.Principal, in *GetAccessTokenInput) (*GetAccessTokenOutput, error) {
	if in.Token == "" {
		return nil, validation("Token is required: the refresh token CreateToken returned.")
	}
	if len(in.Token) > maxTokenChars || strings.ContainsAny(in.Token, " \t\r\n") {
		return nil, validation("Token must be a refresh token of at most %d characters without white space, as CreateToken returns it.", maxTokenChars)
	}
	if len(in.TokenProperties) > maxTokenProperties {
		return nil, validation("TokenProperties may have at most %d entries, not %d.", maxTokenProperties, len(in.TokenProperties))
	}
	now := s.now()
	var t *store.Token
	err := s.DB.View(ctx, func(tx *store.Tx) error {
		var err error
		_, t, err = verifyToken(ctx, tx, in.Token, useRefresh, now)
		return err
	})
	if caller == nil && t != nil {
		// Unsigned, as AWS's clients send it: the call is the token's, in its account (a
		// deleted or expired token's too, so that its owner sees it is still used).
		who := &identity.Principal{
			Kind: identity.KindWebIdentity, AccountID: t.AccountID, ARN: TokenProvider,
			PrincipalID: TokenProvider + ":" + t.LicenseARN + ":" + t.ID, UserName: t.ID, FederatedProvider: TokenProvider,
		}
		audit.PendingFrom(ctx).SetUserIdentity(audit.IdentityOf(who), t.AccountID)
	}
	var terr *TokenError
	if errors.As(err, &terr) {
		return nil, awserr.New(ErrAccessDenied, "%s", terr.Reason)
	}
	if err != nil {
		return nil, err
	}
	for i, p := range in.TokenProperties {
		if !slices.Contains(t.Properties, p) {
			return nil, validation("TokenProperties[%d] %q is not a property of this token (it has %q): send only properties the token was created with, or none.", i, p, t.Properties)
		}
	}
	key, err := s.currentTokenKey(ctx)
	if err != nil {
		return nil, err
	}
	exp := now.Add(AccessTokenLifetime)
	if exp.After(t.ExpiresAt) {
		exp = t.ExpiresAt
	}
	raw, err := signToken(key, &tokenClaims{
		Claims: jwt.Claims{
			Issuer: TokenIssuer, Subject: t.ID, Audience: jwt.Audience{t.LicenseARN}, ID: newTokenID(),
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(exp),
		},
		AMR: amr(t), Use: useAccess, RoleARNs: t.RoleARNs,
	})
	if err != nil {
		return nil, err
	}
	out := &GetAccessTokenOutput{AccessToken: raw}
	audit.PendingFrom(ctx).SetResponse(out) // AccessToken is hidden in the record
	return out, nil
}

// AccessToken is an access token VerifyAccessToken accepted.
type AccessToken struct {
	TokenID    string   // sub: the token it was issued for
	LicenseARN string   // aud
	AccountID  string   // the account that created the token
	AMR        []string // amr: IssuerAccountAMR+AccountID, then the token's properties
	RoleARNs   []string // the roles the token names; none means any role that trusts the issuer
	Expiry     time.Time
}

// VerifyAccessToken verifies an access token GetAccessToken returned, for STS
// AssumeRoleWithWebIdentity: signed by the token issuer, unexpired at now, and of a token not
// deleted. A refused token is a *TokenError.
func (s *Service) VerifyAccessToken(ctx context.Context, raw string, now time.Time) (*AccessToken, error) {
	var c *tokenClaims
	var t *store.Token
	err := s.DB.View(ctx, func(tx *store.Tx) error {
		var err error
		c, t, err = verifyToken(ctx, tx, raw, useAccess, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &AccessToken{TokenID: t.ID, LicenseARN: t.LicenseARN, AccountID: t.AccountID, AMR: c.AMR, RoleARNs: c.RoleARNs,
		Expiry: c.Expiry.Time().UTC()}, nil
}
