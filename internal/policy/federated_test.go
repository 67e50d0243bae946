package policy

import (
	"testing"

	"github.com/allot-dev/allot/internal/identity"
)

const (
	githubProvider = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
	deployRole     = "arn:aws:iam::111122223333:role/Deploy"
)

// webIdentity is a user of an OpenID Connect provider as AssumeRoleWithWebIdentity sees them.
func webIdentity(provider string) *identity.Principal {
	return &identity.Principal{
		Kind: identity.KindWebIdentity, AccountID: "111122223333", ARN: provider,
		PrincipalID: "token.actions.githubusercontent.com:sts.amazonaws.com:repo:acme/app:ref:refs/heads/main",
		UserName:    "repo:acme/app:ref:refs/heads/main", FederatedProvider: provider,
	}
}

const githubTrust = `{"Version":"2012-10-17","Statement":[{
	"Effect":"Allow",
	"Principal":{"Federated":"` + githubProvider + `"},
	"Action":"sts:AssumeRoleWithWebIdentity",
	"Condition":{
		"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},
		"StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/app:*"}
	}
}]}`

func webRequest(pr *identity.Principal, sub string) *Request {
	return &Request{
		Principal: pr, Action: "sts:AssumeRoleWithWebIdentity", Resource: deployRole, ResourceAccount: "111122223333",
		Context: map[string][]string{
			"token.actions.githubusercontent.com:aud": {"sts.amazonaws.com"},
			"token.actions.githubusercontent.com:sub": {sub},
			"aws:FederatedProvider":                   {pr.FederatedProvider},
		},
	}
}

func TestEvaluate_FederatedPrincipal(t *testing.T) {
	trust := mustParse(t, "trust", githubTrust, KindTrust)

	t.Run("OK", func(t *testing.T) {
		res := Evaluate(webRequest(webIdentity(githubProvider), "repo:acme/app:ref:refs/heads/main"), &Policies{Resource: trust})
		if res.Decision != Allow || res.DecidedBy != TypeTrust {
			t.Fatalf("got %v by %q, want Allow by the trust policy; trace %+v", res.Decision, res.DecidedBy, res.Trace)
		}
		if res.Trace[0].Principal != MatchFederated {
			t.Fatalf("got principal match %v, want federated", res.Trace[0].Principal)
		}
	})
	t.Run("ErrCondition", func(t *testing.T) {
		res := Evaluate(webRequest(webIdentity(githubProvider), "repo:evil/app:ref:refs/heads/main"), &Policies{Resource: trust})
		if res.Decision != ImplicitDeny || res.DecidedBy != TypeTrust {
			t.Fatalf("got %v by %q, want ImplicitDeny by the trust policy", res.Decision, res.DecidedBy)
		}
		if res.Trace[0].Why != "condition token.actions.githubusercontent.com:sub" {
			t.Fatalf("got why %q", res.Trace[0].Why)
		}
	})
	t.Run("ErrOtherProvider", func(t *testing.T) {
		other := webIdentity("arn:aws:iam::111122223333:oidc-provider/evil.example.com")
		res := Evaluate(webRequest(other, "repo:acme/app:ref:refs/heads/main"), &Policies{Resource: trust})
		if res.Decision != ImplicitDeny || res.Trace[0].Why != whyPrincipal {
			t.Fatalf("got %v, trace %+v; want an implicit deny on the principal", res.Decision, res.Trace)
		}
	})
	t.Run("ErrAWSPrincipalsDoNotNameWebIdentities", func(t *testing.T) {
		d := mustParse(t, "trust", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`, KindTrust)
		res := Evaluate(webRequest(webIdentity(githubProvider), "x"), &Policies{Resource: d})
		if res.Decision != ImplicitDeny {
			t.Fatalf("an account principal allowed a web identity: %+v", res)
		}
	})
	t.Run("ErrFederatedDoesNotNameIAMPrincipals", func(t *testing.T) {
		// A session created by web identity carries its provider, but is an AssumedRole
		// principal: a Federated entry does not name it.
		sess := &identity.Principal{
			Kind: identity.KindAssumedRole, AccountID: "111122223333", ARN: "arn:aws:sts::111122223333:assumed-role/Deploy/ci",
			RoleARN: deployRole, RoleName: "Deploy", SessionName: "ci", FederatedProvider: githubProvider,
		}
		res := Evaluate(webRequest(sess, "repo:acme/app:ref:refs/heads/main"), &Policies{Resource: trust})
		if res.Decision != ImplicitDeny {
			t.Fatalf("a Federated entry named an assumed-role session: %+v", res)
		}
	})
	t.Run("OKEveryone", func(t *testing.T) {
		d := mustParse(t, "trust", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRoleWithWebIdentity"}]}`, KindTrust)
		res := Evaluate(webRequest(webIdentity(githubProvider), "x"), &Policies{Resource: d})
		if res.Decision != Allow {
			t.Fatalf("got %v, want Allow", res.Decision)
		}
	})
	t.Run("ExplicitDeny", func(t *testing.T) {
		d := mustParse(t, "trust", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Principal":{"Federated":"`+githubProvider+`"},"Action":"sts:AssumeRoleWithWebIdentity"},
			{"Effect":"Deny","Principal":{"Federated":"`+githubProvider+`"},"Action":"sts:AssumeRoleWithWebIdentity",
			 "Condition":{"StringEquals":{"aws:FederatedProvider":"`+githubProvider+`"}}}]}`, KindTrust)
		res := Evaluate(webRequest(webIdentity(githubProvider), "x"), &Policies{Resource: d})
		if res.Decision != ExplicitDeny {
			t.Fatalf("got %v, want ExplicitDeny", res.Decision)
		}
	})
}

func TestSCPsApply_WebIdentity(t *testing.T) {
	if SCPsApply(webIdentity(githubProvider), "999999999999") {
		t.Fatal("SCPs apply to a web identity")
	}
}
