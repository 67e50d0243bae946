package policy

import (
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/identity"
)

// Accounts and principals shared by the tests.
const (
	acctA = "111122223333"
	acctB = "444455556666"
)

var (
	userCI = &identity.Principal{
		Kind: identity.KindIAMUser, AccountID: acctA, ARN: "arn:aws:iam::111122223333:user/ci",
		PrincipalID: "AIDAEXAMPLEUSER00001", UserName: "ci",
	}
	sessionDeployer = &identity.Principal{
		Kind: identity.KindAssumedRole, AccountID: acctA, ARN: "arn:aws:sts::111122223333:assumed-role/Deployer/s1",
		PrincipalID: "AROAEXAMPLEROLE00001:s1", RoleARN: "arn:aws:iam::111122223333:role/Deployer",
		RoleName: "Deployer", SessionName: "s1",
	}
	rootA = identity.Root(acctA, "")
	userB = &identity.Principal{
		Kind: identity.KindIAMUser, AccountID: acctB, ARN: "arn:aws:iam::444455556666:user/ops",
		PrincipalID: "AIDAEXAMPLEUSER00002", UserName: "ops",
	}
	sessionB = &identity.Principal{
		Kind: identity.KindAssumedRole, AccountID: acctB, ARN: "arn:aws:sts::444455556666:assumed-role/App/i-1",
		PrincipalID: "AROAEXAMPLEROLE00002:i-1", RoleARN: "arn:aws:iam::444455556666:role/App",
		RoleName: "App", SessionName: "i-1",
	}
)

// fixedTime is the request time of the tests.
var fixedTime = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

// mustParse parses doc as kind and names it name, failing the test on error.
func mustParse(tb testing.TB, name, doc string, kind Kind) *Document {
	tb.Helper()
	d, err := Parse(doc, kind)
	if err != nil {
		tb.Fatalf("Parse(%s): %v\n%s", name, err, doc)
	}
	d.Name = name
	return d
}

// allowAll is an identity policy allowing everything.
const allowAll = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`

// identityPrincipal builds an assumed-role session principal.
type identityPrincipal struct{ account, role, session string }

func (p *identityPrincipal) principal() *identity.Principal {
	return &identity.Principal{
		Kind: identity.KindAssumedRole, AccountID: p.account,
		ARN:         "arn:aws:sts::" + p.account + ":assumed-role/" + p.role + "/" + p.session,
		PrincipalID: "AROAEXAMPLE:" + p.session, RoleARN: "arn:aws:iam::" + p.account + ":role/" + p.role,
		RoleName: p.role, SessionName: p.session,
	}
}
