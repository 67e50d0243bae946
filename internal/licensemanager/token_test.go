package licensemanager

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/authz"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

// tokenFixture is a Service on a fresh SQLite store with a clock the test moves, the
// license's issuer and another account, and one license in eu-west-1.
type tokenFixture struct {
	t       *testing.T
	ctx     context.Context // signed for the license's home region
	svc     *Service
	clock   atomic.Int64 // Unix microseconds
	issuer  *identity.Principal
	other   *identity.Principal
	license string
}

func newTokenFixture(t *testing.T) *tokenFixture {
	t.Helper()
	db := storetest.OpenDSN(t, filepath.Join(t.TempDir(), "allot.db"), storetest.NewBox(t), store.Options{})
	f := &tokenFixture{t: t, issuer: identity.Root("111122223333", "AKIAISSUER"), other: identity.Root("444455556666", "AKIAOTHER")}
	f.ctx = authz.WithOrigin(context.Background(), authz.Origin{Region: "eu-west-1"})
	f.clock.Store(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC).UnixMicro())
	f.svc = &Service{DB: db, Now: func() time.Time { return time.UnixMicro(f.clock.Load()) }}
	for _, p := range []*identity.Principal{f.issuer, f.other} {
		err := db.Update(f.ctx, func(tx *store.Tx) error {
			return tx.CreateAccount(f.ctx, &store.Account{ID: p.AccountID, Name: "a", Status: "ACTIVE", CreatedAt: tx.Now()})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	out, err := f.svc.CreateLicense(f.ctx, f.issuer, euLicense("SKU", "license-1"))
	if err != nil {
		t.Fatal(err)
	}
	f.license = out.LicenseArn
	return f
}

// euLicense returns a CreateLicense input for a license of issuer Vendor in eu-west-1.
func euLicense(sku, clientToken string) *CreateLicenseInput {
	c := validContent()
	return &CreateLicenseInput{LicenseName: c.LicenseName, ProductName: c.ProductName, ProductSKU: sku, Issuer: c.Issuer,
		HomeRegion: "eu-west-1", Validity: c.Validity, Entitlements: c.Entitlements, Beneficiary: "b",
		ConsumptionConfiguration: c.ConsumptionConfiguration, ClientToken: clientToken}
}

func (f *tokenFixture) advance(d time.Duration) { f.clock.Add(d.Microseconds()) }

func (f *tokenFixture) createToken(in *CreateTokenInput) *CreateTokenOutput {
	f.t.Helper()
	out, err := f.svc.CreateToken(f.ctx, f.issuer, in)
	if err != nil {
		f.t.Fatalf("CreateToken: %v", err)
	}
	return out
}

// claimsOf returns the claims of a JWT, unverified.
func claimsOf(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("%q is not a compact JWS", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func wantCode(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	var e *awserr.Error
	if !errors.As(err, &e) || e.Code != code || !strings.Contains(e.Message, msg) {
		t.Errorf("%s: error = %v, want %s containing %q", what, err, code, msg)
	}
}

func TestTokens_Lifecycle(t *testing.T) {
	f := newTokenFixture(t)
	role := "arn:aws:iam::444455556666:role/Consumer"
	in := &CreateTokenInput{LicenseArn: f.license, RoleArns: []string{role}, TokenProperties: []string{"customer-7", "site:a"}, ClientToken: "tok-1"}
	created := f.createToken(in)
	if created.TokenType != TokenTypeRefresh || !tokenIDPattern.MatchString(created.TokenId) || len(created.Token) > maxTokenChars {
		t.Fatalf("CreateToken = %+v", created)
	}
	c := claimsOf(t, created.Token)
	wantAMR := []any{IssuerAccountAMR + f.issuer.AccountID, "customer-7", "site:a"}
	if c["iss"] != TokenIssuer || c["aud"] != f.license || c["sub"] != created.TokenId || c["token_use"] != "refresh" ||
		!slices.Equal(c["amr"].([]any), wantAMR) || !slices.Equal(c["role_arns"].([]any), []any{role}) {
		t.Errorf("refresh token claims = %v", c)
	}
	if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 365*24*3600 {
		t.Errorf("refresh token lives %v s, want 365 days", exp-iat)
	}

	// A retry returns the very same token; the token string is stored nowhere.
	again := f.createToken(in)
	if again.TokenId != created.TokenId || again.Token != created.Token {
		t.Errorf("CreateToken(same ClientToken) = %+v, want the first answer", again)
	}
	var leaked int
	err := f.svc.DB.View(f.ctx, func(tx *store.Tx) error {
		return tx.QueryRow(f.ctx, `SELECT COUNT(*) FROM license_client_tokens WHERE response LIKE ?`, "%"+created.Token[:40]+"%").Scan(&leaked)
	})
	if err != nil || leaked != 0 {
		t.Errorf("the token is stored with the client token (%d rows, %v)", leaked, err)
	}
	other := *in
	other.ExpirationInDays = ptr(int32(30))
	_, err = f.svc.CreateToken(f.ctx, f.issuer, &other)
	wantCode(t, "CreateToken(same ClientToken, other input)", err, ErrValidation, "already used")

	// GetAccessToken: unsigned (caller nil), with a subset of the properties or none.
	got, err := f.svc.GetAccessToken(f.ctx, nil, &GetAccessTokenInput{Token: created.Token, TokenProperties: []string{"site:a"}})
	if err != nil {
		t.Fatalf("GetAccessToken: %v", err)
	}
	ac := claimsOf(t, got.AccessToken)
	if ac["token_use"] != "access" || ac["sub"] != created.TokenId || ac["aud"] != f.license || ac["exp"].(float64)-ac["iat"].(float64) != 3600 {
		t.Errorf("access token claims = %v", ac)
	}
	_, err = f.svc.GetAccessToken(f.ctx, f.other, &GetAccessTokenInput{Token: created.Token, TokenProperties: []string{"customer-8"}})
	wantCode(t, "GetAccessToken(a property the token lacks)", err, ErrValidation, `"customer-8" is not a property`)
	_, err = f.svc.GetAccessToken(f.ctx, nil, &GetAccessTokenInput{Token: got.AccessToken})
	wantCode(t, "GetAccessToken(an access token)", err, ErrAccessDenied, "is an access token")
	_, err = f.svc.GetAccessToken(f.ctx, nil, &GetAccessTokenInput{Token: "not-a-jwt"})
	wantCode(t, "GetAccessToken(garbage)", err, ErrAccessDenied, "is not a License Manager token")
	tampered := strings.Split(created.Token, ".")
	tampered[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(must(base64.RawURLEncoding.DecodeString(tampered[1]))), "customer-7", "customer-9", 1)))
	_, err = f.svc.GetAccessToken(f.ctx, nil, &GetAccessTokenInput{Token: strings.Join(tampered, ".")})
	wantCode(t, "GetAccessToken(tampered)", err, ErrAccessDenied, "does not verify")

	// VerifyAccessToken (STS) accepts the access token, not the refresh token.
	at, err := f.svc.VerifyAccessToken(f.ctx, got.AccessToken, f.svc.now())
	if err != nil || at.TokenID != created.TokenId || at.LicenseARN != f.license || at.AccountID != f.issuer.AccountID ||
		!slices.Equal(at.RoleARNs, []string{role}) || len(at.AMR) != 3 {
		t.Errorf("VerifyAccessToken = %+v, %v", at, err)
	}
	var terr *TokenError
	if _, err := f.svc.VerifyAccessToken(f.ctx, created.Token, f.svc.now()); !errors.As(err, &terr) || terr.Expired {
		t.Errorf("VerifyAccessToken(refresh token) = %v, want a TokenError", err)
	}
	// An hour later the access token has expired; the refresh token still works.
	f.advance(time.Hour)
	if _, err := f.svc.VerifyAccessToken(f.ctx, got.AccessToken, f.svc.now()); !errors.As(err, &terr) || !terr.Expired {
		t.Errorf("VerifyAccessToken(an hour later) = %v, want an expired TokenError", err)
	}
	fresh, err := f.svc.GetAccessToken(f.ctx, nil, &GetAccessTokenInput{Token: created.Token})
	if err != nil {
		t.Fatalf("GetAccessToken(an hour later): %v", err)
	}

	// ListTokens shows it, never the token.
	list, err := f.svc.ListTokens(f.ctx, f.issuer, &ListTokensInput{})
	if err != nil || len(list.Tokens) != 1 || list.Tokens[0].TokenId != created.TokenId || list.Tokens[0].Status != store.TokenAvailable ||
		!slices.Equal(list.Tokens[0].RoleArns, []string{role}) || list.Tokens[0].LicenseArn != f.license {
		t.Errorf("ListTokens = %+v, %v", list, err)
	}
	if b, _ := json.Marshal(list); strings.Contains(string(b), created.Token[:40]) {
		t.Errorf("ListTokens shows the token: %s", b)
	}

	// DeleteToken: the refresh token and the access tokens already issued stop working.
	if _, err := f.svc.DeleteToken(f.ctx, f.other, &DeleteTokenInput{TokenId: created.TokenId}); err == nil {
		t.Errorf("DeleteToken by another account succeeded")
	}
	if _, err := f.svc.DeleteToken(f.ctx, f.issuer, &DeleteTokenInput{TokenId: created.TokenId}); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	_, err = f.svc.GetAccessToken(f.ctx, nil, &GetAccessTokenInput{Token: created.Token})
	wantCode(t, "GetAccessToken(deleted)", err, ErrAccessDenied, "was deleted")
	if _, err := f.svc.VerifyAccessToken(f.ctx, fresh.AccessToken, f.svc.now()); !errors.As(err, &terr) || !strings.Contains(terr.Reason, "was deleted") {
		t.Errorf("VerifyAccessToken(token deleted) = %v, want a TokenError saying it was deleted", err)
	}
	if _, err := f.svc.DeleteToken(f.ctx, f.issuer, &DeleteTokenInput{TokenId: created.TokenId}); err != nil {
		t.Errorf("DeleteToken(again) = %v, want no error", err)
	}
	list, _ = f.svc.ListTokens(f.ctx, f.issuer, &ListTokensInput{})
	if len(list.Tokens) != 1 || list.Tokens[0].Status != store.TokenDeleted {
		t.Errorf("ListTokens after delete = %+v, want the token DELETED", list)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestTokens_Expiry(t *testing.T) {
	f := newTokenFixture(t)
	created := f.createToken(&CreateTokenInput{LicenseArn: f.license, ExpirationInDays: ptr(int32(1)), ClientToken: "short"})
	f.advance(23*time.Hour + 30*time.Minute)
	got, err := f.svc.GetAccessToken(f.ctx, nil, &GetAccessTokenInput{Token: created.Token})
	if err != nil {
		t.Fatal(err)
	}
	if c := claimsOf(t, got.AccessToken); c["exp"].(float64)-c["iat"].(float64) != 1800 {
		t.Errorf("access token lives %v s, want 1800 (no longer than its refresh token)", c["exp"].(float64)-c["iat"].(float64))
	}
	f.advance(time.Hour)
	_, err = f.svc.GetAccessToken(f.ctx, nil, &GetAccessTokenInput{Token: created.Token})
	wantCode(t, "GetAccessToken(expired)", err, ErrAccessDenied, "expired at")
}

func TestTokens_Errors(t *testing.T) {
	f := newTokenFixture(t)
	ok := func() *CreateTokenInput { return &CreateTokenInput{LicenseArn: f.license, ClientToken: "c"} }
	cases := map[string]struct {
		edit       func(*CreateTokenInput)
		caller     *identity.Principal
		code, msg  string
		wrongRegon bool
	}{
		"ErrNoLicense":      {func(in *CreateTokenInput) { in.LicenseArn = "" }, nil, ErrValidation, "LicenseArn is required", false},
		"ErrNotALicense":    {func(in *CreateTokenInput) { in.LicenseArn = "arn:aws:iam::111122223333:role/x" }, nil, ErrValidation, "license ARN", false},
		"ErrOtherAccounts":  {func(*CreateTokenInput) {}, identity.Root("444455556666", "AKIAOTHER"), ErrResourceNotFound, "has not reached account 444455556666", false},
		"ErrBadRole":        {func(in *CreateTokenInput) { in.RoleArns = []string{"arn:aws:iam::111122223333:user/bob"} }, nil, ErrValidation, "ARN of an IAM role", false},
		"ErrDaysZero":       {func(in *CreateTokenInput) { in.ExpirationInDays = ptr(int32(0)) }, nil, ErrValidation, "between 1 and 730", false},
		"ErrFourProperties": {func(in *CreateTokenInput) { in.TokenProperties = []string{"a", "b", "c", "d"} }, nil, ErrValidation, "at most 3", false},
		"ErrReservedProperty": {func(in *CreateTokenInput) {
			in.TokenProperties = []string{"aws:license-manager:token-issuer-account-id:999999999999"}
		}, nil, ErrValidation, "reserved", false},
		"ErrDuplicateProperty": {func(in *CreateTokenInput) { in.TokenProperties = []string{"a", "a"} }, nil, ErrValidation, "appears twice", false},
		"ErrNoClientToken":     {func(in *CreateTokenInput) { in.ClientToken = "" }, nil, ErrValidation, "ClientToken is required", false},
		"ErrTooLong": {func(in *CreateTokenInput) {
			in.TokenProperties = []string{strings.Repeat("a", 255), strings.Repeat("b", 255), strings.Repeat("c", 255)}
			for i := range 10 {
				in.RoleArns = append(in.RoleArns, "arn:aws:iam::111122223333:role/"+strings.Repeat("p", 300)+"/"+strings.Repeat(string(rune('a'+i)), 64))
			}
		}, nil, ErrValidation, "more than the 4096 allowed", false},
		"ErrWrongRegion": {func(*CreateTokenInput) {}, nil, ErrRedirect, "eu-west-1", true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := ok()
			in.ClientToken = name
			tc.edit(in)
			caller := f.issuer
			if tc.caller != nil {
				caller = tc.caller
			}
			ctx := f.ctx
			if tc.wrongRegon {
				ctx = authz.WithOrigin(ctx, authz.Origin{Region: "us-east-1"})
			}
			_, err := f.svc.CreateToken(ctx, caller, in)
			wantCode(t, "CreateToken", err, tc.code, tc.msg)
		})
	}
	// A deleted license takes no tokens.
	_, err := f.svc.DeleteLicense(f.ctx, f.issuer, &DeleteLicenseInput{LicenseArn: f.license, SourceVersion: "1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CreateToken(f.ctx, f.issuer, ok())
	wantCode(t, "CreateToken(deleted license)", err, ErrAccessDenied, "is DELETED")

	// DeleteToken and ListTokens errors.
	_, err = f.svc.DeleteToken(f.ctx, f.issuer, &DeleteTokenInput{})
	wantCode(t, "DeleteToken(no ID)", err, ErrValidation, "TokenId is required")
	_, err = f.svc.DeleteToken(f.ctx, f.issuer, &DeleteTokenInput{TokenId: strings.Repeat("0", 32)})
	wantCode(t, "DeleteToken(unknown)", err, ErrResourceNotFound, "does not exist")
	_, err = f.svc.ListTokens(f.ctx, f.issuer, &ListTokensInput{Filters: []Filter{{Name: ptr("Status"), Values: []string{"AVAILABLE"}}}})
	wantCode(t, "ListTokens(unknown filter)", err, ErrValidation, "use LicenseArns")
	_, err = f.svc.ListTokens(f.ctx, f.issuer, &ListTokensInput{MaxResults: ptr(int32(0))})
	wantCode(t, "ListTokens(MaxResults 0)", err, ErrValidation, "MaxResults")
	_, err = f.svc.GetAccessToken(f.ctx, nil, &GetAccessTokenInput{})
	wantCode(t, "GetAccessToken(no token)", err, ErrValidation, "Token is required")
}

func TestTokens_ListPaging(t *testing.T) {
	f := newTokenFixture(t)
	var ids []string
	for i := range 5 {
		ids = append(ids, f.createToken(&CreateTokenInput{LicenseArn: f.license, ClientToken: "p" + string(rune('0'+i))}).TokenId)
	}
	slices.Sort(ids)
	var seen []string
	var next *string
	for {
		out, err := f.svc.ListTokens(f.ctx, f.issuer, &ListTokensInput{MaxResults: ptr(int32(2)), NextToken: next,
			Filters: []Filter{{Name: ptr("LicenseArns"), Values: []string{f.license}}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range out.Tokens {
			seen = append(seen, tk.TokenId)
		}
		if next = out.NextToken; next == nil {
			break
		}
	}
	if !slices.Equal(seen, ids) {
		t.Errorf("paged ListTokens = %v, want %v", seen, ids)
	}
	out, err := f.svc.ListTokens(f.ctx, f.issuer, &ListTokensInput{TokenIds: ids[1:2]})
	if err != nil || len(out.Tokens) != 1 || out.Tokens[0].TokenId != ids[1] {
		t.Errorf("ListTokens(TokenIds) = %+v, %v", out, err)
	}
	out, _ = f.svc.ListTokens(f.ctx, f.other, &ListTokensInput{})
	if len(out.Tokens) != 0 {
		t.Errorf("ListTokens(other account) = %d tokens, want none", len(out.Tokens))
	}
}

// TestTokens_AuditHidesTokens checks that neither the refresh token nor the access token
// reaches the audit record, and that an unsigned GetAccessToken is the token's.
func TestTokens_AuditHidesTokens(t *testing.T) {
	f := newTokenFixture(t)
	p := audit.NewPending(storetest.NewEvent(f.issuer.AccountID, storetest.EventOpts{Name: "CreateToken"}))
	ctx := audit.WithPending(f.ctx, p)
	created, err := f.svc.CreateToken(ctx, f.issuer, &CreateTokenInput{LicenseArn: f.license, ClientToken: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if ev := p.Event(); strings.Contains(string(ev.ResponseElements), created.Token[:40]) || !strings.Contains(string(ev.ResponseElements), audit.Hidden) {
		t.Errorf("CreateToken's audit response = %s, want the token hidden", ev.ResponseElements)
	}
	p = audit.NewPending(storetest.NewEvent("", storetest.EventOpts{Name: "GetAccessToken"}))
	got, err := f.svc.GetAccessToken(audit.WithPending(f.ctx, p), nil, &GetAccessTokenInput{Token: created.Token})
	if err != nil {
		t.Fatal(err)
	}
	ev := p.Event()
	if strings.Contains(string(ev.ResponseElements), got.AccessToken[:40]) || ev.RecipientAccountID != f.issuer.AccountID ||
		ev.UserIdentity.Type != "WebIdentityUser" || ev.UserIdentity.IdentityProvider != TokenProvider || ev.UserIdentity.UserName != created.TokenId {
		t.Errorf("GetAccessToken's audit event = %+v", ev)
	}
}
