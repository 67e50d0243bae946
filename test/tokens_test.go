package test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

const (
	lmProvider        = "openid-license-manager.amazonaws.com"
	consumptionPolicy = "arn:aws:iam::aws:policy/service-role/AWSLicenseManagerConsumptionPolicy"
)

// consumptionTrust is the trust policy of AWS's AWSLicenseManagerConsumptionRole (License
// Manager User Guide, seller-issued license requirements), for tokens created by account.
func consumptionTrust(account string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + lmProvider + `"},
		"Action":"sts:AssumeRoleWithWebIdentity",
		"Condition":{"ForAnyValue:StringLike":{"` + lmProvider + `:amr":"aws:license-manager:token-issuer-account-id:` + account + `"}}}]}`
}

// anonymous returns an SDK configuration without credentials: the SDK sends no signature, as
// a customer without an AWS account calls GetAccessToken and AssumeRoleWithWebIdentity.
func (s *server) anonymous() aws.Config {
	cfg := s.awsConfig("unused", "unused")
	cfg.Credentials = aws.AnonymousCredentials{}
	return cfg
}

// jwtClaims returns the claims of a JWT, unverified.
func jwtClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("%.40q… is not a JWT", raw)
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

// tokenWorld is the AWS User Guide's setup for customers without an AWS account: a vendor
// account issues a license and grants it to a buyer account (CreateToken allowed); the buyer
// has the consumption role and creates tokens for its own customers.
type tokenWorld struct {
	vendor, buyer string // account IDs
	license       string
	fingerprint   string
	buyerCreds    creds
	buyerLM       *lm.Client
	roleARN       string // the buyer's AWSLicenseManagerConsumptionRole
}

func newTokenWorld(t *testing.T, s *server) *tokenWorld {
	t.Helper()
	ctx := context.Background()
	admin := orgAdmin(t, s)
	org := organizations.NewFromConfig(s.configFor(admin))
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatalf("CreateOrganization: %v", err)
	}
	w := &tokenWorld{}
	for name, id := range map[string]*string{"vendor": &w.vendor, "buyer": &w.buyer} {
		out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		if err != nil {
			t.Fatalf("CreateAccount %s: %v", name, err)
		}
		*id = aws.ToString(out.CreateAccountStatus.AccountId)
	}
	vendorLM := lm.NewFromConfig(s.configFor(assumeOrgRole(t, s, admin, w.vendor)))
	w.buyerCreds = assumeOrgRole(t, s, admin, w.buyer)
	w.buyerLM = lm.NewFromConfig(s.configFor(w.buyerCreds))

	in := newLicenseInput("DM-TOKEN", "issue-token-license")
	in.Validity = &lmtypes.DatetimeRange{Begin: aws.String(time.Now().Add(-24 * time.Hour).UTC().Format(time.RFC3339)),
		End: aws.String(time.Now().Add(365 * 24 * time.Hour).UTC().Format(time.RFC3339))}
	created, err := vendorLM.CreateLicense(ctx, in)
	if err != nil {
		t.Fatalf("CreateLicense: %v", err)
	}
	w.license = aws.ToString(created.LicenseArn)
	w.fingerprint = "aws:" + w.vendor + ":Vendor:issuer-fingerprint"
	g, err := vendorLM.CreateGrant(ctx, &lm.CreateGrantInput{
		ClientToken: aws.String("grant-buyer"), GrantName: aws.String("buyer"), LicenseArn: aws.String(w.license),
		Principals: []string{"arn:aws:iam::" + w.buyer + ":root"}, HomeRegion: aws.String(region),
		AllowedOperations: []lmtypes.AllowedOperation{lmtypes.AllowedOperationCheckoutLicense, lmtypes.AllowedOperationCheckInLicense,
			lmtypes.AllowedOperationExtendConsumptionLicense, lmtypes.AllowedOperationCreateToken},
	})
	if err != nil {
		t.Fatalf("CreateGrant: %v", err)
	}
	if _, err := w.buyerLM.AcceptGrant(ctx, &lm.AcceptGrantInput{GrantArn: g.GrantArn}); err != nil {
		t.Fatalf("AcceptGrant: %v", err)
	}
	if _, err := w.buyerLM.CreateGrantVersion(ctx, &lm.CreateGrantVersionInput{GrantArn: g.GrantArn, Status: lmtypes.GrantStatusActive,
		ClientToken: aws.String("activate-buyer")}); err != nil {
		t.Fatalf("CreateGrantVersion(ACTIVE): %v", err)
	}

	// The buyer's consumption role, as the User Guide makes it.
	w.roleARN = createConsumptionRole(t, s, w.buyerCreds, "AWSLicenseManagerConsumptionRole", consumptionTrust(w.buyer))
	return w
}

// createConsumptionRole creates a role with the given trust policy and AWS's consumption
// policy, as c, and returns its ARN.
func createConsumptionRole(t *testing.T, s *server, c creds, name, trust string) string {
	t.Helper()
	ctx := context.Background()
	client := iam.NewFromConfig(s.configFor(c))
	role, err := client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust),
		MaxSessionDuration: aws.Int32(3600)})
	if err != nil {
		t.Fatalf("CreateRole %s: %v", name, err)
	}
	if _, err := client.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(consumptionPolicy)}); err != nil {
		t.Fatalf("AttachRolePolicy: %v", err)
	}
	return aws.ToString(role.Role.Arn)
}

// TestTokens_CustomerWithoutAccount follows the License Manager User Guide ("Get temporary
// credentials for ISV customers without an AWS account") with the AWS SDK for Go: the buyer
// creates a token for a granted license; the customer, with no credentials at all, exchanges
// it for an access token (GetAccessToken, unsigned), assumes the consumption role with it
// (AssumeRoleWithWebIdentity, unsigned) and checks a seat out and in with the session.
// Then: what the trust policy and the token's roles refuse, the region rule, ListTokens,
// and DeleteToken stopping the refresh token and the access tokens already issued.
func TestTokens_CustomerWithoutAccount(t *testing.T) {
	testTokensCustomer(t, startServer(t, serverOptions{}))
}

// TestTokens_Postgres runs the same test against a server on PostgreSQL.
func TestTokens_Postgres(t *testing.T) {
	testTokensCustomer(t, startServer(t, serverOptions{database: postgresDatabase(t)}))
}

func testTokensCustomer(t *testing.T, s *server) {
	ctx := context.Background()
	w := newTokenWorld(t, s)

	in := &lm.CreateTokenInput{LicenseArn: aws.String(w.license), RoleArns: []string{w.roleARN},
		TokenProperties: []string{"customer-42"}, ClientToken: aws.String("token-for-customer-42")}
	created, err := w.buyerLM.CreateToken(ctx, in)
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	refresh := aws.ToString(created.Token)
	if created.TokenType != lmtypes.TokenTypeRefreshToken || aws.ToString(created.TokenId) == "" || len(refresh) > 4096 {
		t.Fatalf("CreateToken = %+v", created)
	}
	c := jwtClaims(t, refresh)
	if c["aud"] != w.license || !slices.Contains(anySlice(c["amr"]), "customer-42") ||
		!slices.Contains(anySlice(c["amr"]), "aws:license-manager:token-issuer-account-id:"+w.buyer) {
		t.Errorf("refresh token claims = %v: want aud the license and amr the properties and the buyer's account", c)
	}
	if exp := time.Unix(int64(c["exp"].(float64)), 0); exp.Sub(time.Now()) < 364*24*time.Hour || exp.Sub(time.Now()) > 366*24*time.Hour {
		t.Errorf("refresh token expires %s, want in 365 days", exp)
	}
	again, err := w.buyerLM.CreateToken(ctx, in)
	if err != nil || aws.ToString(again.TokenId) != aws.ToString(created.TokenId) || aws.ToString(again.Token) != refresh {
		t.Errorf("CreateToken(same ClientToken) = %+v, %v; want the first answer", again, err)
	}

	// The customer has the refresh token and the role ARN, and no AWS credentials.
	customerLM := lm.NewFromConfig(s.anonymous())
	customerSTS := sts.NewFromConfig(s.anonymous())
	access, err := customerLM.GetAccessToken(ctx, &lm.GetAccessTokenInput{Token: aws.String(refresh), TokenProperties: []string{"customer-42"}})
	if err != nil {
		t.Fatalf("GetAccessToken (unsigned): %v", err)
	}
	ac := jwtClaims(t, aws.ToString(access.AccessToken))
	if life := ac["exp"].(float64) - ac["iat"].(float64); life != 3600 || ac["aud"] != w.license {
		t.Errorf("access token claims = %v: want a one-hour token for the license", ac)
	}
	assume := func(role, token string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		return customerSTS.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(role), RoleSessionName: aws.String("customer-42"), WebIdentityToken: aws.String(token),
		})
	}
	session, err := assume(w.roleARN, aws.ToString(access.AccessToken))
	if err != nil {
		t.Fatalf("AssumeRoleWithWebIdentity (unsigned): %v", err)
	}
	wantARN := "arn:aws:sts::" + w.buyer + ":assumed-role/AWSLicenseManagerConsumptionRole/customer-42"
	if aws.ToString(session.AssumedRoleUser.Arn) != wantARN || aws.ToString(session.SubjectFromWebIdentityToken) != aws.ToString(created.TokenId) ||
		aws.ToString(session.Audience) != w.license {
		t.Errorf("AssumeRoleWithWebIdentity = %+v / %+v", session, session.AssumedRoleUser)
	}
	sc := creds{*session.Credentials.AccessKeyId, *session.Credentials.SecretAccessKey, *session.Credentials.SessionToken}
	me, err := sts.NewFromConfig(s.configFor(sc)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(me.Arn) != wantARN {
		t.Fatalf("GetCallerIdentity with the session = %v, %v; want %s", me, err, wantARN)
	}

	// The session checks a seat out of the granted license and back in.
	sessionLM := lm.NewFromConfig(s.configFor(sc))
	co, err := sessionLM.CheckoutLicense(ctx, &lm.CheckoutLicenseInput{
		ProductSKU: aws.String("DM-TOKEN"), KeyFingerprint: aws.String(w.fingerprint), CheckoutType: lmtypes.CheckoutTypeProvisional,
		Entitlements: []lmtypes.EntitlementData{{Name: aws.String("Seats"), Unit: lmtypes.EntitlementDataUnitCount, Value: aws.String("1")}},
		ClientToken:  aws.String("customer-42-checkout-1"),
	})
	if err != nil {
		t.Fatalf("CheckoutLicense with the session: %v", err)
	}
	if aws.ToString(co.LicenseArn) != w.license || len(co.EntitlementsAllowed) != 1 || aws.ToString(co.LicenseConsumptionToken) == "" {
		t.Errorf("CheckoutLicense = %+v", co)
	}
	if _, err := sessionLM.CheckInLicense(ctx, &lm.CheckInLicenseInput{LicenseConsumptionToken: co.LicenseConsumptionToken}); err != nil {
		t.Errorf("CheckInLicense with the session: %v", err)
	}
	// The consumption policy allows consumption only.
	_, err = sessionLM.ListTokens(ctx, &lm.ListTokensInput{})
	wantAPIError(t, "ListTokens with the consumption session", err, "AccessDeniedException", "license-manager:ListTokens")

	t.Run("ErrTrustNamesAnotherAccount", func(t *testing.T) {
		other := createConsumptionRole(t, s, w.buyerCreds, "VendorTokensOnly", consumptionTrust(w.vendor))
		tok := getAccessToken(t, customerLM, refresh)
		// A token naming roles works only for them: create one without roles for this check.
		_, err := assume(other, tok)
		wantAPIError(t, "AssumeRoleWithWebIdentity(trust for the vendor's tokens)", err, "AccessDenied", "")
		open, err := w.buyerLM.CreateToken(ctx, &lm.CreateTokenInput{LicenseArn: aws.String(w.license), ClientToken: aws.String("no-roles")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = assume(other, getAccessToken(t, customerLM, aws.ToString(open.Token)))
		wantAPIError(t, "AssumeRoleWithWebIdentity(trust for the vendor's tokens, token of the buyer)", err, "AccessDenied", "not authorized")
	})
	t.Run("ErrRoleNotInToken", func(t *testing.T) {
		second := createConsumptionRole(t, s, w.buyerCreds, "SecondConsumptionRole", consumptionTrust(w.buyer))
		_, err := assume(second, getAccessToken(t, customerLM, refresh))
		wantAPIError(t, "AssumeRoleWithWebIdentity(a role the token does not name)", err, "AccessDenied", "names only the roles")
	})
	t.Run("ErrProperties", func(t *testing.T) {
		_, err := customerLM.GetAccessToken(ctx, &lm.GetAccessTokenInput{Token: aws.String(refresh), TokenProperties: []string{"customer-43"}})
		wantTyped[*lmtypes.ValidationException](t, "GetAccessToken(a property the token lacks)", err)
		wantAPIError(t, "GetAccessToken(a property the token lacks)", err, "ValidationException", "customer-43")
		_, err = w.buyerLM.CreateToken(ctx, &lm.CreateTokenInput{LicenseArn: aws.String(w.license), ClientToken: aws.String("spoof"),
			TokenProperties: []string{"aws:license-manager:token-issuer-account-id:" + w.vendor}})
		wantAPIError(t, "CreateToken(a reserved property)", err, "ValidationException", "reserved")
	})
	t.Run("ErrBadRefreshToken", func(t *testing.T) {
		_, err := customerLM.GetAccessToken(ctx, &lm.GetAccessTokenInput{Token: aws.String(refresh[:len(refresh)-4] + "AAAA")})
		wantTyped[*lmtypes.AccessDeniedException](t, "GetAccessToken(a forged signature)", err)
		_, err = customerLM.GetAccessToken(ctx, &lm.GetAccessTokenInput{Token: access.AccessToken})
		wantAPIError(t, "GetAccessToken(an access token)", err, "AccessDeniedException", "is an access token")
	})
	t.Run("ErrOtherRegion", func(t *testing.T) {
		cfg := s.configFor(w.buyerCreds)
		cfg.Region = "eu-west-1"
		_, err := lm.NewFromConfig(cfg).DeleteToken(ctx, &lm.DeleteTokenInput{TokenId: created.TokenId})
		var re *lmtypes.RedirectException
		if !errors.As(err, &re) || aws.ToString(re.Location) != region {
			t.Errorf("DeleteToken from eu-west-1 = %v, want RedirectException to %s", err, region)
		}
		_, err = lm.NewFromConfig(cfg).CreateToken(ctx, &lm.CreateTokenInput{LicenseArn: aws.String(w.license), ClientToken: aws.String("eu")})
		if !errors.As(err, &re) {
			t.Errorf("CreateToken from eu-west-1 = %v, want RedirectException", err)
		}
	})
	t.Run("ErrNotReached", func(t *testing.T) {
		// The management account has neither issued nor received the license.
		_, err := lm.NewFromConfig(s.awsConfig(rootKeyID, rootSecret)).CreateToken(ctx, &lm.CreateTokenInput{
			LicenseArn: aws.String(w.license), ClientToken: aws.String("root")})
		wantTyped[*lmtypes.ResourceNotFoundException](t, "CreateToken(a license that has not reached the account)", err)
	})

	// ListTokens shows the tokens, never the token strings.
	list, err := w.buyerLM.ListTokens(ctx, &lm.ListTokensInput{Filters: []lmtypes.Filter{{Name: aws.String("LicenseArns"), Values: []string{w.license}}}})
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	var mine *lmtypes.TokenData
	for i, td := range list.Tokens {
		if aws.ToString(td.TokenId) == aws.ToString(created.TokenId) {
			mine = &list.Tokens[i]
		}
	}
	if len(list.Tokens) != 2 || mine == nil || aws.ToString(mine.Status) != "AVAILABLE" || aws.ToString(mine.LicenseArn) != w.license ||
		!slices.Equal(mine.RoleArns, []string{w.roleARN}) || !slices.Equal(mine.TokenProperties, []string{"customer-42"}) ||
		aws.ToString(mine.TokenType) != "REFRESH_TOKEN" || aws.ToString(mine.ExpirationTime) != time.Unix(int64(c["exp"].(float64)), 0).UTC().Format(time.RFC3339) {
		b, _ := json.Marshal(list.Tokens)
		t.Errorf("ListTokens = %s", b)
	}
	paged, err := w.buyerLM.ListTokens(ctx, &lm.ListTokensInput{MaxResults: aws.Int32(1)})
	if err != nil || len(paged.Tokens) != 1 || paged.NextToken == nil {
		t.Errorf("ListTokens(MaxResults 1) = %+v, %v; want one token and a NextToken", paged, err)
	}

	// DeleteToken: the refresh token and the access token already issued stop working at once.
	stillValid := getAccessToken(t, customerLM, refresh)
	if _, err := w.buyerLM.DeleteToken(ctx, &lm.DeleteTokenInput{TokenId: created.TokenId}); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	_, err = customerLM.GetAccessToken(ctx, &lm.GetAccessTokenInput{Token: aws.String(refresh)})
	wantTyped[*lmtypes.AccessDeniedException](t, "GetAccessToken(deleted token)", err)
	wantAPIError(t, "GetAccessToken(deleted token)", err, "AccessDeniedException", "was deleted")
	_, err = assume(w.roleARN, stillValid)
	wantTyped[*ststypes.InvalidIdentityTokenException](t, "AssumeRoleWithWebIdentity(access token of a deleted token)", err)
	_, err = w.buyerLM.DeleteToken(ctx, &lm.DeleteTokenInput{TokenId: aws.String(strings.Repeat("0", 32))})
	wantTyped[*lmtypes.ResourceNotFoundException](t, "DeleteToken(unknown)", err)
	list, _ = w.buyerLM.ListTokens(ctx, &lm.ListTokensInput{TokenIds: []string{aws.ToString(created.TokenId)}})
	if len(list.Tokens) != 1 || aws.ToString(list.Tokens[0].Status) != "DELETED" {
		t.Errorf("ListTokens after DeleteToken = %+v, want the token DELETED", list.Tokens)
	}

	// The buyer's trail: the unsigned calls are the token's web identity, and no token is
	// recorded in clear.
	trail := cloudtrail.NewFromConfig(s.configFor(w.buyerCreds))
	events := func(name string) []trailEvent {
		out, err := trail.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
			{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(name)}}})
		if err != nil {
			t.Fatalf("LookupEvents %s: %v", name, err)
		}
		var evs []trailEvent
		for _, e := range out.Events {
			raw := aws.ToString(e.CloudTrailEvent)
			if strings.Contains(raw, refresh[:60]) || strings.Contains(raw, aws.ToString(access.AccessToken)[:60]) {
				t.Errorf("%s event records a token in clear: %s", name, raw)
			}
			var ev trailEvent
			json.Unmarshal([]byte(raw), &ev)
			evs = append(evs, ev)
		}
		return evs
	}
	gets := events("GetAccessToken")
	refused := 0
	for _, ev := range gets {
		if ev.UserIdentity.Type != "WebIdentityUser" || ev.UserIdentity.AccessKeyID != "" || ev.RecipientAccountID != w.buyer {
			t.Errorf("GetAccessToken event %+v, want an unsigned call of the token's web identity in the buyer's trail", ev)
		}
		if ev.ErrorCode == "AccessDeniedException" && strings.Contains(ev.ErrorMessage, "was deleted") {
			refused++
		}
	}
	if len(gets) < 5 || refused != 1 {
		t.Errorf("%d GetAccessToken events, %d refused as deleted; want every call with a genuine token, one refused", len(gets), refused)
	}
	if creates := events("CreateToken"); len(creates) == 0 {
		t.Errorf("no CreateToken event in the buyer's trail")
	}
	assumed := events("AssumeRoleWithWebIdentity")
	if len(assumed) == 0 || assumed[len(assumed)-1].UserIdentity.Type != "WebIdentityUser" {
		t.Errorf("AssumeRoleWithWebIdentity events = %+v", assumed)
	}
}

func anySlice(v any) []string {
	var out []string
	if vs, ok := v.([]any); ok {
		for _, x := range vs {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// getAccessToken exchanges a refresh token for an access token, unsigned.
func getAccessToken(t *testing.T, c *lm.Client, refresh string) string {
	t.Helper()
	out, err := c.GetAccessToken(context.Background(), &lm.GetAccessTokenInput{Token: aws.String(refresh)})
	if err != nil {
		t.Fatalf("GetAccessToken: %v", err)
	}
	return aws.ToString(out.AccessToken)
}

// TestTokens_AWSCLI does the vendor's own flow with the AWS CLI v2: the issuer creates a token
// for its license, the customer runs get-access-token and assume-role-with-web-identity with
// --no-sign-request, and the session is used; list-tokens and delete-token.
func TestTokens_AWSCLI(t *testing.T) {
	s := startServer(t, serverOptions{})
	cli := requireTool(t, "AWS CLI v2", awsCLIs(t)["v2"])
	admin := orgAdmin(t, s)
	ctx := context.Background()
	created, err := lm.NewFromConfig(s.configFor(admin)).CreateLicense(ctx, newLicenseInput("DM-CLI", "cli-license"))
	if err != nil {
		t.Fatal(err)
	}
	license := aws.ToString(created.LicenseArn)
	var role struct{ Role struct{ Arn string } }
	mustCLI(t, s, cli, admin, &role, "iam", "create-role", "--role-name", "AWSLicenseManagerConsumptionRole",
		"--description", "Role used to consume licenses using AWS License Manager", "--max-session-duration", "3600",
		"--assume-role-policy-document", consumptionTrust(rootAccount))
	mustCLI(t, s, cli, admin, nil, "iam", "attach-role-policy", "--role-name", "AWSLicenseManagerConsumptionRole", "--policy-arn", consumptionPolicy)

	var tok struct{ TokenId, TokenType, Token string }
	mustCLI(t, s, cli, admin, &tok, "license-manager", "create-token", "--license-arn", license, "--role-arns", role.Role.Arn,
		"--expiration-in-days", "30", "--token-properties", "site-a", "--client-token", "cli-token-1")
	if tok.TokenType != "REFRESH_TOKEN" || tok.Token == "" {
		t.Fatalf("create-token = %+v", tok)
	}
	var list struct {
		Tokens []struct{ TokenId, Status, ExpirationTime string }
	}
	mustCLI(t, s, cli, admin, &list, "license-manager", "list-tokens")
	if len(list.Tokens) != 1 || list.Tokens[0].TokenId != tok.TokenId || list.Tokens[0].Status != "AVAILABLE" {
		t.Errorf("list-tokens = %+v", list)
	}
	if exp, err := time.Parse(time.RFC3339, list.Tokens[0].ExpirationTime); err != nil || exp.Sub(time.Now()) > 30*24*time.Hour || exp.Sub(time.Now()) < 29*24*time.Hour {
		t.Errorf("ExpirationTime = %q, want in 30 days", list.Tokens[0].ExpirationTime)
	}

	// The customer: no credentials at all.
	nobody := creds{}
	var access struct{ AccessToken string }
	mustCLI(t, s, cli, nobody, &access, "license-manager", "get-access-token", "--token", tok.Token, "--no-sign-request")
	var assumed assumeRoleOutput
	mustCLI(t, s, cli, nobody, &assumed, "sts", "assume-role-with-web-identity", "--role-arn", role.Role.Arn,
		"--role-session-name", "site-a", "--web-identity-token", access.AccessToken, "--no-sign-request")
	var me struct{ Arn string }
	mustCLI(t, s, cli, assumed.creds(), &me, "sts", "get-caller-identity")
	if want := "arn:aws:sts::" + rootAccount + ":assumed-role/AWSLicenseManagerConsumptionRole/site-a"; me.Arn != want {
		t.Errorf("get-caller-identity = %s, want %s", me.Arn, want)
	}
	var got struct{ License struct{ LicenseArn string } }
	mustCLI(t, s, cli, assumed.creds(), &got, "license-manager", "get-license", "--license-arn", license)
	if got.License.LicenseArn != license {
		t.Errorf("get-license with the session = %+v", got)
	}

	mustCLI(t, s, cli, admin, nil, "license-manager", "delete-token", "--token-id", tok.TokenId)
	_, stderr, code := s.cliAs(t, cli, nobody, "license-manager", "get-access-token", "--token", tok.Token, "--no-sign-request")
	if code == 0 || !strings.Contains(stderr, "AccessDeniedException") || !strings.Contains(stderr, "was deleted") {
		t.Errorf("get-access-token after delete-token: exit %d, %s", code, stderr)
	}
	// Without --no-sign-request and without credentials the CLI refuses before sending.
	_, stderr, code = s.cliAs(t, cli, nobody, "license-manager", "list-tokens")
	if code == 0 {
		t.Errorf("list-tokens without credentials succeeded: %s", stderr)
	}
}
