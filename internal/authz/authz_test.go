package authz

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

const (
	acct = "111122223333"
	// rolePolicy is a role's identity policy of 10 statements, several with conditions, as a
	// License Manager consumer might have.
	rolePolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Checkout", "Effect": "Allow", "Action": ["license-manager:CheckoutLicense", "license-manager:CheckInLicense", "license-manager:ExtendLicenseConsumption"], "Resource": "*",
     "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}, "Bool": {"aws:MultiFactorAuthPresent": "false"}}},
    {"Sid": "Read", "Effect": "Allow", "Action": ["license-manager:Get*", "license-manager:List*"], "Resource": "arn:aws:license-manager::111122223333:license:*"},
    {"Sid": "Grants", "Effect": "Allow", "Action": "license-manager:CreateGrant", "Resource": "*", "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost"]}}},
    {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "arn:aws:logs:*:111122223333:log-group:/allot/*"},
    {"Sid": "Home", "Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::home/${aws:username}", "arn:aws:s3:::home/${aws:username}/*"]},
    {"Sid": "Identity", "Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"},
    {"Sid": "Network", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": ["127.0.0.0/8", "10.0.0.0/8"]}}},
    {"Sid": "Window", "Effect": "Deny", "Action": "license-manager:*", "Resource": "*", "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2099-01-01T00:00:00Z"}}},
    {"Sid": "NoIAM", "Effect": "Deny", "Action": ["iam:*", "organizations:*"], "Resource": "*"},
    {"Sid": "Regions", "Effect": "Deny", "NotAction": ["sts:*", "iam:*"], "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1"]}}}
  ]
}`
	readOnlyPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"license-manager:Get*","Resource":"*"}]}`
)

// fixture returns an authorizer over a fresh SQLite store holding role "consumer" with
// rolePolicy, and a session of that role.
func fixture(tb testing.TB) (*Authorizer, *store.DB, *identity.Principal) {
	tb.Helper()
	ctx := context.Background()
	db := storetest.OpenDSN(tb, filepath.Join(tb.TempDir(), "allot.db"), storetest.NewBox(tb), store.Options{})
	err := db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.CreateAccount(ctx, &store.Account{ID: acct, Name: "a", Status: "ACTIVE", CreatedAt: tx.Now()}); err != nil {
			return err
		}
		r := &store.Role{AccountID: acct, Name: "consumer", Path: "/", ID: "AROACONSUMEREXAMPLE1", ARN: "arn:aws:iam::" + acct + ":role/consumer",
			AssumeRolePolicy: `{"Version":"2012-10-17","Statement":[]}`, MaxSessionDuration: 3600, CreatedAt: tx.Now()}
		if err := tx.CreateRole(ctx, r); err != nil {
			return err
		}
		return tx.PutInlinePolicy(ctx, store.EntityRole, acct, "consumer", "consume", rolePolicy)
	})
	if err != nil {
		tb.Fatal(err)
	}
	p := &identity.Principal{Kind: identity.KindAssumedRole, AccountID: acct, ARN: "arn:aws:sts::" + acct + ":assumed-role/consumer/s",
		PrincipalID: "AROACONSUMEREXAMPLE1:s", AccessKeyID: "ASIAEXAMPLE", RoleARN: "arn:aws:iam::" + acct + ":role/consumer", RoleName: "consumer",
		SessionName: "s", Temporary: true, IssuedAt: time.Now().Add(-time.Minute)}
	return New(db, nil), db, p
}

func checkoutRequest(p *identity.Principal) *Request {
	return &Request{Principal: p, Action: "license-manager:CheckoutLicense", Resource: "*",
		Origin: &Origin{SourceIP: "127.0.0.1", Region: "us-east-1"}}
}

// TestAuthorize_PolicyChangeAppliesAtOnce checks that the cached policies of a role are
// dropped when its policy changes: the next request is decided on the new policy.
func TestAuthorize_PolicyChangeAppliesAtOnce(t *testing.T) {
	ctx := context.Background()
	a, db, p := fixture(t)
	for range 3 { // the second and third from the cache
		if err := a.Authorize(ctx, checkoutRequest(p)); err != nil {
			t.Fatalf("Authorize = %v, want allowed", err)
		}
	}
	err := db.Update(ctx, func(tx *store.Tx) error {
		return tx.PutInlinePolicy(ctx, store.EntityRole, acct, "consumer", "consume", readOnlyPolicy)
	})
	if err != nil {
		t.Fatal(err)
	}
	var e *awserr.Error
	if err := a.Authorize(ctx, checkoutRequest(p)); !errors.As(err, &e) || e.Code != "AccessDenied" {
		t.Fatalf("Authorize after the policy lost the action = %v, want AccessDenied", err)
	}
	err = db.Update(ctx, func(tx *store.Tx) error {
		return tx.DeleteInlinePolicy(ctx, store.EntityRole, acct, "consumer", "consume")
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Authorize(ctx, &Request{Principal: p, Action: "license-manager:GetLicense", Resource: "*"}); err == nil {
		t.Fatal("Authorize after the policy was deleted: allowed, want denied by default")
	}
}

// BenchmarkAuthorize decides CheckoutLicense for a role session whose policy has 10
// statements with conditions, with the principal's policies and organization cached: the
// work of every signed request.
func BenchmarkAuthorize(b *testing.B) {
	ctx := context.Background()
	a, _, p := fixture(b)
	req := checkoutRequest(p)
	if err := a.Authorize(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Authorize(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
