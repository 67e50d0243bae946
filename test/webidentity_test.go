package test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	smithyauth "github.com/aws/smithy-go/auth"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// oidcIssuer is an OpenID Connect issuer for tests: a discovery document and a JWKS served
// over HTTP on loopback, and an EC key that signs its ID tokens.
type oidcIssuer struct {
	srv       *httptest.Server
	key       *ecdsa.PrivateKey
	kid       string
	jwksFetch atomic.Int32
}

func newOIDCIssuer(t *testing.T) *oidcIssuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	iss := &oidcIssuer{key: key, kid: "test-key-1"}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss.srv.URL, "jwks_uri": iss.srv.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"ES256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		iss.jwksFetch.Add(1)
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &key.PublicKey, KeyID: iss.kid, Algorithm: string(jose.ES256), Use: "sig"},
		}})
	})
	iss.srv = httptest.NewServer(mux)
	t.Cleanup(iss.srv.Close)
	return iss
}

// host is the issuer's URL without the scheme: the provider's name in ARNs and condition keys.
func (i *oidcIssuer) host() string { return strings.TrimPrefix(i.srv.URL, "http://") }

// token returns an ID token for sub and aud, valid from now for ttl (negative: expired).
func (i *oidcIssuer) token(t *testing.T, sub, aud string, ttl time.Duration) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: i.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", i.kid))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := jwt.Signed(signer).Claims(jwt.Claims{
		Issuer: i.srv.URL, Subject: sub, Audience: jwt.Audience{aud},
		IssuedAt: jwt.NewNumericDate(now.Add(-time.Minute)), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
		Expiry: jwt.NewNumericDate(now.Add(ttl)),
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// signedSTS returns an STS client that signs every call, AssumeRoleWithWebIdentity included,
// which AWS's SDK otherwise sends unsigned: SigV4 as the auth scheme, and the payload hash the
// SDK computes only for operations it signs. Signed calls are accepted too.
func signedSTS(s *server, c creds) *sts.Client {
	return sts.NewFromConfig(s.configFor(c), func(o *sts.Options) {
		o.AuthSchemeResolver = signEveryCall{}
		o.APIOptions = append(o.APIOptions, v4.AddComputePayloadSHA256Middleware)
	})
}

type signEveryCall struct{}

func (signEveryCall) ResolveAuthSchemes(_ context.Context, p *sts.AuthResolverParameters) ([]*smithyauth.Option, error) {
	var props smithy.Properties
	smithyhttp.SetSigV4SigningName(&props, "sts")
	smithyhttp.SetSigV4SigningRegion(&props, p.Region)
	return []*smithyauth.Option{{SchemeID: smithyauth.SchemeIDSigV4, SignerProperties: props}}, nil
}

const webSubject = "repo:acme/app:ref:refs/heads/main"

// TestWebIdentity registers a test issuer as an IAM OpenID Connect provider with the AWS CLI,
// makes a role that trusts it for one subject, and assumes the role with its tokens through
// the Go SDK (signing the call): a good token gives a session of the role; a token for
// another subject is denied by the trust policy; an expired one and one of an unregistered
// issuer are refused. The unmodified CLI and SDK send the call unsigned, with no credentials,
// and it works as in AWS. The AssumeRoleWithWebIdentity event records the web identity.
func TestWebIdentity(t *testing.T) {
	iss := newOIDCIssuer(t)
	s := startServer(t, serverOptions{args: []string{"--allow-http-oidc-issuers"}})
	cli := requireTool(t, "AWS CLI v2", awsCLIs(t)["v2"])
	root := creds{keyID: rootKeyID, secret: rootSecret}
	admin := orgAdmin(t, s)
	ctx := context.Background()
	providerARN := "arn:aws:iam::" + rootAccount + ":oidc-provider/" + iss.host()
	roleARN := "arn:aws:iam::" + rootAccount + ":role/WebRole"

	// The provider, with the AWS CLI.
	var created struct{ OpenIDConnectProviderArn string }
	mustCLI(t, s, cli, root, &created, "iam", "create-open-id-connect-provider", "--url", iss.srv.URL,
		"--client-id-list", "sts.amazonaws.com", "--thumbprint-list", strings.Repeat("a", 40), "--tags", "Key=team,Value=ci")
	if created.OpenIDConnectProviderArn != providerARN {
		t.Fatalf("provider ARN %s, want %s", created.OpenIDConnectProviderArn, providerARN)
	}
	if _, stderr, code := s.cliAs(t, cli, root, "iam", "create-open-id-connect-provider", "--url", iss.srv.URL+"/",
		"--client-id-list", "x", "--thumbprint-list", strings.Repeat("c", 40)); code == 0 || !strings.Contains(stderr, "EntityAlreadyExists") {
		t.Errorf("second provider for the same URL: exit %d, %s", code, stderr)
	}
	mustCLI(t, s, cli, root, nil, "iam", "add-client-id-to-open-id-connect-provider", "--open-id-connect-provider-arn", providerARN, "--client-id", "my-app")
	mustCLI(t, s, cli, root, nil, "iam", "add-client-id-to-open-id-connect-provider", "--open-id-connect-provider-arn", providerARN, "--client-id", "gone")
	mustCLI(t, s, cli, root, nil, "iam", "remove-client-id-from-open-id-connect-provider", "--open-id-connect-provider-arn", providerARN, "--client-id", "gone")
	mustCLI(t, s, cli, root, nil, "iam", "update-open-id-connect-provider-thumbprint", "--open-id-connect-provider-arn", providerARN,
		"--thumbprint-list", strings.Repeat("b", 40))
	var got struct {
		Url                          string
		ClientIDList, ThumbprintList []string
		CreateDate                   string
		Tags                         []struct{ Key, Value string }
	}
	mustCLI(t, s, cli, root, &got, "iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn", providerARN)
	if got.Url != iss.host() || strings.Join(got.ClientIDList, ",") != "sts.amazonaws.com,my-app" ||
		strings.Join(got.ThumbprintList, ",") != strings.Repeat("b", 40) || got.CreateDate == "" || len(got.Tags) != 1 {
		t.Errorf("get-open-id-connect-provider: %+v", got)
	}
	var list struct{ OpenIDConnectProviderList []struct{ Arn string } }
	mustCLI(t, s, cli, root, &list, "iam", "list-open-id-connect-providers")
	if len(list.OpenIDConnectProviderList) != 1 || list.OpenIDConnectProviderList[0].Arn != providerARN {
		t.Errorf("list-open-id-connect-providers: %+v", list)
	}
	if _, stderr, code := s.cliAs(t, cli, root, "iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn", providerARN+"x"); code == 0 || !strings.Contains(stderr, "NoSuchEntity") {
		t.Errorf("get of a missing provider: exit %d, %s", code, stderr)
	}

	// A role trusting the provider for one repository's main branch.
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + providerARN + `"},
		"Action":"sts:AssumeRoleWithWebIdentity",
		"Condition":{"StringEquals":{"` + iss.host() + `:aud":"sts.amazonaws.com","` + iss.host() + `:sub":"` + webSubject + `"}}}]}`
	mustCLI(t, s, cli, root, nil, "iam", "create-role", "--role-name", "WebRole", "--assume-role-policy-document", trust)

	assume := func(token string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		return signedSTS(s, admin).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(roleARN), RoleSessionName: aws.String("ci-run-1"), WebIdentityToken: aws.String(token),
		})
	}

	t.Run("OK", func(t *testing.T) {
		out, err := assume(iss.token(t, webSubject, "sts.amazonaws.com", 10*time.Minute))
		if err != nil {
			t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
		}
		wantARN := "arn:aws:sts::" + rootAccount + ":assumed-role/WebRole/ci-run-1"
		if aws.ToString(out.AssumedRoleUser.Arn) != wantARN || aws.ToString(out.SubjectFromWebIdentityToken) != webSubject ||
			aws.ToString(out.Provider) != iss.srv.URL || aws.ToString(out.Audience) != "sts.amazonaws.com" ||
			!strings.HasPrefix(aws.ToString(out.Credentials.AccessKeyId), "ASIA") {
			t.Errorf("output: %+v / %+v", out, out.AssumedRoleUser)
		}
		session := creds{*out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken}
		me, err := sts.NewFromConfig(s.configFor(session)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil || aws.ToString(me.Arn) != wantARN {
			t.Fatalf("GetCallerIdentity with the session: %v, %v", me, err)
		}
		var cliMe struct{ Arn string }
		mustCLI(t, s, cli, session, &cliMe, "sts", "get-caller-identity")
		if cliMe.Arn != wantARN {
			t.Errorf("aws sts get-caller-identity: %s, want %s", cliMe.Arn, wantARN)
		}
		// A second token is verified with the cached keys.
		if _, err := assume(iss.token(t, webSubject, "sts.amazonaws.com", 10*time.Minute)); err != nil {
			t.Fatalf("second AssumeRoleWithWebIdentity: %v", err)
		}
		if n := iss.jwksFetch.Load(); n != 1 {
			t.Errorf("the JWKS was fetched %d times, want once", n)
		}
	})
	t.Run("ErrWrongSubject", func(t *testing.T) {
		_, err := assume(iss.token(t, "repo:evil/app:ref:refs/heads/main", "sts.amazonaws.com", 10*time.Minute))
		wantAPIError(t, "token for another subject", err, "AccessDenied", "sts:AssumeRoleWithWebIdentity")
	})
	t.Run("ErrWrongAudience", func(t *testing.T) {
		_, err := assume(iss.token(t, webSubject, "someone-else", 10*time.Minute))
		wantAPIError(t, "token for another audience", err, "InvalidIdentityToken", "audience")
	})
	t.Run("ErrExpired", func(t *testing.T) {
		_, err := assume(iss.token(t, webSubject, "sts.amazonaws.com", -10*time.Minute))
		wantAPIError(t, "expired token", err, "ExpiredTokenException", "expired")
		wantTyped[*ststypes.ExpiredTokenException](t, "expired token", err)
	})
	t.Run("ErrUnregisteredIssuer", func(t *testing.T) {
		other := newOIDCIssuer(t)
		_, err := assume(other.token(t, webSubject, "sts.amazonaws.com", 10*time.Minute))
		wantAPIError(t, "token of an unregistered issuer", err, "InvalidIdentityToken", "No OpenIDConnect provider")
		if other.jwksFetch.Load() != 0 {
			t.Error("the server fetched the keys of an issuer no provider names")
		}
	})
	t.Run("UnmodifiedClients", func(t *testing.T) {
		// AWS's clients send the call unsigned, with no credentials at all: the token is the
		// credential.
		token := iss.token(t, webSubject, "sts.amazonaws.com", 10*time.Minute)
		cfg := s.awsConfig("", "")
		cfg.Credentials = nil
		out, err := sts.NewFromConfig(cfg).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(roleARN), RoleSessionName: aws.String("sdk"), WebIdentityToken: aws.String(token),
		})
		if err != nil || aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::"+rootAccount+":assumed-role/WebRole/sdk" {
			t.Fatalf("unsigned SDK call: %v, %v", out, err)
		}
		var cliOut struct{ AssumedRoleUser struct{ Arn string } }
		mustCLI(t, s, cli, creds{}, &cliOut, "sts", "assume-role-with-web-identity", "--role-arn", roleARN,
			"--role-session-name", "cli", "--web-identity-token", token)
		if cliOut.AssumedRoleUser.Arn != "arn:aws:sts::"+rootAccount+":assumed-role/WebRole/cli" {
			t.Errorf("aws sts assume-role-with-web-identity: %+v", cliOut)
		}
		// Without a signature the token is still checked.
		_, err = sts.NewFromConfig(cfg).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(roleARN), RoleSessionName: aws.String("sdk"),
			WebIdentityToken: aws.String(iss.token(t, "repo:evil/app:ref:refs/heads/main", "sts.amazonaws.com", 10*time.Minute)),
		})
		wantAPIError(t, "unsigned call with another subject's token", err, "AccessDenied", "sts:AssumeRoleWithWebIdentity")
		// No other operation goes unsigned.
		_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err == nil {
			t.Error("an unsigned GetCallerIdentity succeeded")
		}
	})
	t.Run("AuditEvent", func(t *testing.T) {
		out, err := cloudtrail.NewFromConfig(s.awsConfig(rootKeyID, rootSecret)).LookupEvents(ctx, &cloudtrail.LookupEventsInput{
			LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("AssumeRoleWithWebIdentity")}},
		})
		if err != nil {
			t.Fatalf("LookupEvents: %v", err)
		}
		var ok, denied, unsigned int
		for _, e := range out.Events {
			raw := aws.ToString(e.CloudTrailEvent)
			if strings.Contains(raw, "eyJ") {
				t.Errorf("the event records the token: %s", raw)
			}
			var ev struct {
				ErrorCode    string `json:"errorCode"`
				UserIdentity struct {
					Type, PrincipalID, UserName, IdentityProvider, AccessKeyID, ARN string
				} `json:"userIdentity"`
			}
			json.Unmarshal([]byte(raw), &ev)
			u := ev.UserIdentity
			switch ev.ErrorCode {
			case "":
				ok++
			case "AccessDenied":
				denied++
			default:
				continue
			}
			if u.Type != "WebIdentityUser" || u.IdentityProvider != iss.host() || u.UserName == "" || u.ARN != "" ||
				!strings.HasPrefix(u.PrincipalID, iss.host()+":sts.amazonaws.com:") || u.AccessKeyID != admin.keyID && u.AccessKeyID != "" {
				t.Errorf("userIdentity of %s event: %+v", ev.ErrorCode, u)
			}
			if u.AccessKeyID == "" {
				unsigned++
			}
		}
		// Signed: two successes and a wrong subject; unsigned: the SDK's, the CLI's and a wrong subject.
		if ok != 4 || denied != 2 || unsigned != 3 {
			t.Errorf("%d successful, %d denied and %d unsigned AssumeRoleWithWebIdentity events, want 4, 2 and 3", ok, denied, unsigned)
		}

		// The session's own calls name the provider it came from.
		calls, err := cloudtrail.NewFromConfig(s.awsConfig(rootKeyID, rootSecret)).LookupEvents(ctx, &cloudtrail.LookupEventsInput{
			LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyUsername, AttributeValue: aws.String("WebRole")}},
		})
		if err != nil {
			t.Fatalf("LookupEvents: %v", err)
		}
		found := false
		for _, e := range calls.Events {
			var ev struct {
				UserIdentity struct {
					SessionContext struct {
						WebIDFederationData struct{ FederatedProvider string } `json:"webIdFederationData"`
					} `json:"sessionContext"`
				} `json:"userIdentity"`
			}
			json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &ev)
			found = found || ev.UserIdentity.SessionContext.WebIDFederationData.FederatedProvider == providerARN
		}
		if !found {
			t.Errorf("no event of the web identity session names its provider in webIdFederationData (%d events)", len(calls.Events))
		}
	})
	t.Run("DeletedProvider", func(t *testing.T) {
		mustCLI(t, s, cli, root, nil, "iam", "delete-open-id-connect-provider", "--open-id-connect-provider-arn", providerARN)
		_, err := assume(iss.token(t, webSubject, "sts.amazonaws.com", 10*time.Minute))
		wantAPIError(t, "token of a deleted provider", err, "InvalidIdentityToken", "No OpenIDConnect provider")
	})
}

// TestWebIdentity_HTTPIssuerRefused checks that without --allow-http-oidc-issuers a provider
// must have an https:// URL.
func TestWebIdentity_HTTPIssuerRefused(t *testing.T) {
	s := startServer(t, serverOptions{})
	cli := requireTool(t, "AWS CLI v2", awsCLIs(t)["v2"])
	_, stderr, code := s.cliAs(t, cli, creds{keyID: rootKeyID, secret: rootSecret}, "iam", "create-open-id-connect-provider",
		"--url", "http://127.0.0.1:1/issuer", "--client-id-list", "sts.amazonaws.com", "--thumbprint-list", strings.Repeat("a", 40))
	if code == 0 || !strings.Contains(stderr, "InvalidInput") || !strings.Contains(stderr, "https://") {
		t.Errorf("http:// provider: exit %d, %s", code, stderr)
	}
}
