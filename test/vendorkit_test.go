package test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/allot-dev/allot/client"
)

// kit is seed 000's world for the vendor kit, built with the AWS SDK: an organization whose
// management account (rootAccount) is the billing account; a vendor account that issues the
// DataMasque license (one-minute checkouts) and grants it to the billing account, as AWS
// Marketplace does for a purchase; and two deployment accounts that run the product — one
// for assume-role setups and grants that are accepted, one whose grant stays pending.
type kit struct {
	s                                      *server
	admin                                  creds // the billing account's administrator
	vendor, deployment, pending            string
	vendorAdmin, deployAdmin, pendingAdmin creds
	license, fingerprint                   string
}

const kitSKU = "DM-ENT"

func newKit(t *testing.T, seats int64) *kit {
	t.Helper()
	ctx := context.Background()
	k := &kit{s: startServer(t, serverOptions{})}
	k.admin = orgAdmin(t, k.s)
	org := organizations.NewFromConfig(k.s.configFor(k.admin))
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatalf("CreateOrganization: %v", err)
	}
	account := func(name string) string {
		out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com")})
		if err != nil {
			t.Fatalf("CreateAccount %s: %v", name, err)
		}
		return aws.ToString(out.CreateAccountStatus.AccountId)
	}
	k.vendor, k.deployment, k.pending = account("vendor"), account("deployment"), account("pending")
	k.vendorAdmin = assumeOrgRole(t, k.s, k.admin, k.vendor)
	k.deployAdmin = assumeOrgRole(t, k.s, k.admin, k.deployment)
	k.pendingAdmin = assumeOrgRole(t, k.s, k.admin, k.pending)

	now := time.Now().UTC()
	vendorLM := lm.NewFromConfig(k.s.configFor(k.vendorAdmin))
	created, err := vendorLM.CreateLicense(ctx, &lm.CreateLicenseInput{
		LicenseName: aws.String("DataMasque Enterprise"), ProductName: aws.String("DataMasque"), ProductSKU: aws.String(kitSKU),
		Issuer: &lmtypes.Issuer{Name: aws.String("DataMasque")}, HomeRegion: aws.String(region),
		Validity:     &lmtypes.DatetimeRange{Begin: aws.String(now.Add(-time.Hour).Format(time.RFC3339)), End: aws.String(now.Add(365 * 24 * time.Hour).Format(time.RFC3339))},
		Entitlements: []lmtypes.Entitlement{{Name: aws.String("Seats"), Unit: lmtypes.EntitlementUnitCount, MaxCount: aws.Int64(seats), AllowCheckIn: aws.Bool(true)}},
		Beneficiary:  aws.String(rootAccount),
		ConsumptionConfiguration: &lmtypes.ConsumptionConfiguration{
			ProvisionalConfiguration: &lmtypes.ProvisionalConfiguration{MaxTimeToLiveInMinutes: aws.Int32(1)},
		},
		ClientToken: aws.String("kit-license"),
	})
	if err != nil {
		t.Fatalf("CreateLicense: %v", err)
	}
	k.license = aws.ToString(created.LicenseArn)
	k.fingerprint = "aws:" + k.vendor + ":DataMasque:issuer-fingerprint"
	purchase := grant(t, vendorLM, "purchase", k.license, accountPrincipal(rootAccount), lmtypes.AllowedOperationCreateGrant,
		lmtypes.AllowedOperationCheckoutLicense, lmtypes.AllowedOperationCheckInLicense, lmtypes.AllowedOperationExtendConsumptionLicense,
		lmtypes.AllowedOperationListPurchasedLicenses)
	acceptAndActivate(t, lm.NewFromConfig(k.s.configFor(k.admin)), purchase)
	return k
}

// fill replaces seed 000's placeholders.
func (k *kit) fill(doc string) string {
	return strings.NewReplacer("<deployment-account-id>", k.deployment, "<billing-account-id>", rootAccount,
		"<datamasque-role-name>", "DataMasque-EC2-Role", "<license-arn>", k.license).Replace(doc)
}

// role creates a role with a trust policy and an inline permissions policy as c, and
// returns its ARN.
func (k *kit) role(t *testing.T, c creds, name, trust, permissions string) string {
	t.Helper()
	ctx := context.Background()
	ic := iam.NewFromConfig(k.s.configFor(c))
	out, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(k.fill(trust))})
	if err != nil {
		t.Fatalf("CreateRole %s: %v", name, err)
	}
	if permissions != "" {
		if _, err := ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("permissions"),
			PolicyDocument: aws.String(k.fill(permissions))}); err != nil {
			t.Fatalf("PutRolePolicy %s: %v", name, err)
		}
	}
	return aws.ToString(out.Role.Arn)
}

// instance creates a role for the product in a deployment account (as c, its
// administrator), with the given policy, and an operator user standing in for EC2 that
// assumes it; it returns the role session's credentials, the product's identity.
func (k *kit) instance(t *testing.T, c creds, account, roleName, policy string) creds {
	t.Helper()
	ctx := context.Background()
	user := "op-" + roleName
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:user/` + user + `"},"Action":"sts:AssumeRole"}]}`
	roleARN := k.role(t, c, roleName, trust, policy)
	ic := iam.NewFromConfig(k.s.configFor(c))
	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if _, err := ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String("assume"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + roleARN + `"}]}`)}); err != nil {
		t.Fatalf("PutUserPolicy: %v", err)
	}
	key, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatalf("CreateAccessKey: %v", err)
	}
	out, err := sts.NewFromConfig(k.s.configFor(creds{keyID: *key.AccessKey.AccessKeyId, secret: *key.AccessKey.SecretAccessKey})).AssumeRole(ctx,
		&sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("i-0123456789abcdef0")})
	if err != nil {
		t.Fatalf("AssumeRole %s: %v", roleARN, err)
	}
	return creds{*out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken}
}

// grantTo makes the billing account grant the license to an account (CheckoutLicense,
// CheckInLicense, ExtendConsumptionLicense) and returns the grant's ARN, pending acceptance.
func (k *kit) grantTo(t *testing.T, account string) string {
	t.Helper()
	return grant(t, lm.NewFromConfig(k.s.configFor(k.admin)), "deployment-"+account, k.license, accountPrincipal(account),
		lmtypes.AllowedOperationCheckoutLicense, lmtypes.AllowedOperationCheckInLicense, lmtypes.AllowedOperationExtendConsumptionLicense)
}

// seatsInUse returns the Seats consumed, as the billing account sees them.
func (k *kit) seatsInUse(t *testing.T) string {
	t.Helper()
	return consumedSeats(t, lm.NewFromConfig(k.s.configFor(k.admin)), k.license)
}

// config returns a client configuration for the product running as c.
func (k *kit) config(t *testing.T, c creds, mode client.Mode, roleARN string) client.Config {
	return client.Config{AWS: k.s.configFor(c), Mode: mode, RoleARN: roleARN, ProductSKU: kitSKU, KeyFingerprint: k.fingerprint,
		Entitlements: []client.Entitlement{{Name: "Seats", Value: "1"}}, Logger: testLogger(t)}
}

// The policies the kit's tests use, with seed 000's placeholders.
const (
	// The deployment account's statement, with the seed's wildcard form so one instance
	// role can try several billing roles.
	kitDeploymentPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"DataMasqueLicenseAssumeRole","Effect":"Allow","Action":"sts:AssumeRole",
		"Resource":"arn:aws:iam::<billing-account-id>:role/DataMasqueLicense*"}]}`
	// The seed's billing role permissions, plus ExtendLicenseConsumption and GetLicenseUsage.
	kitFullPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"DataMasqueLicenseOperations","Effect":"Allow","Action":[
		"license-manager:CheckoutLicense","license-manager:CheckInLicense","license-manager:ExtendLicenseConsumption",
		"license-manager:ListReceivedLicenses","license-manager:GetLicense","license-manager:GetLicenseUsage"],"Resource":"*"}]}`
	kitCheckoutOnlyPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
		"license-manager:CheckoutLicense","license-manager:CheckInLicense","license-manager:ExtendLicenseConsumption"],"Resource":"*"}]}`
	kitListOnlyPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[
		"license-manager:ListReceivedLicenses","license-manager:GetLicense"],"Resource":"*"}]}`
	kitScopedPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"Scoped","Effect":"Allow","Action":[
		"license-manager:CheckoutLicense","license-manager:CheckInLicense"],"Resource":"<license-arn>"},
		{"Effect":"Allow","Action":"license-manager:ListReceivedLicenses","Resource":"*"}]}`
	kitTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::<deployment-account-id>:role/DataMasque-EC2-Role"},"Action":"sts:AssumeRole"}]}`
)

// assumeRoleSetup builds seed 000's assume-role setup: the instance role DataMasque-EC2-Role
// in the deployment account and DataMasqueLicenseRole in the billing account with policy
// as its permissions. It returns the instance role's credentials and the role's ARN.
func (k *kit) assumeRoleSetup(t *testing.T, policy string) (creds, string) {
	t.Helper()
	instance := k.instance(t, k.deployAdmin, k.deployment, "DataMasque-EC2-Role", kitDeploymentPolicy)
	return instance, k.role(t, k.admin, "DataMasqueLicenseRole", kitTrust, policy)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// manualClock is a client.Clock that moves only when the test advances it.
type manualClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	changed chan struct{} // closed and replaced when a waiter is added
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Now(), changed: make(chan struct{})}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), ch: ch})
	close(c.changed)
	c.changed = make(chan struct{})
	return ch
}

// Advance waits until something sleeps on the clock (the lease's loop is idle), then moves
// the clock on by d and wakes those whose time has come.
func (c *manualClock) Advance(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		if len(c.waiters) > 0 {
			break
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("nothing waits on the clock after 10s")
		}
	}
	c.now = c.now.Add(d)
	var keep []waiter
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			keep = append(keep, w)
		}
	}
	c.waiters = keep
	c.mu.Unlock()
}

// Skip moves the clock on by d without waiting for or waking sleepers, for a Verifier,
// which only reads the time.
func (c *manualClock) Skip(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// events collects a lease's events.
type events chan client.Event

func (e events) record(ev client.Event) { e <- ev }

// next returns the next event, failing after 10 seconds.
func (e events) next(t *testing.T) client.Event {
	t.Helper()
	select {
	case ev := <-e:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatalf("no lease event within 10s")
		return client.Event{}
	}
}

// want returns the next event of type typ, failing on any other event but those in skip.
func (e events) want(t *testing.T, typ client.EventType, skip ...client.EventType) client.Event {
	t.Helper()
	for {
		ev := e.next(t)
		if ev.Type == typ {
			return ev
		}
		if !slices.Contains(skip, ev.Type) {
			t.Fatalf("lease event %s (state %s, err %v), want %s", ev.Type, ev.State, ev.Err, typ)
		}
	}
}

// advanceUntil advances the clock by step until an event of type typ arrives, failing on
// any other event but those in skip.
func (e events) advanceUntil(t *testing.T, clock *manualClock, step time.Duration, typ client.EventType, skip ...client.EventType) client.Event {
	t.Helper()
	for range 200 {
		clock.Advance(t, step)
		for drained := false; !drained; {
			select {
			case ev := <-e:
				if ev.Type == typ {
					return ev
				}
				if !slices.Contains(skip, ev.Type) {
					t.Fatalf("lease event %s (state %s, err %v), want %s", ev.Type, ev.State, ev.Err, typ)
				}
			case <-time.After(50 * time.Millisecond):
				drained = true
			}
		}
	}
	t.Fatalf("no %s event after advancing the clock 200 times by %v", typ, step)
	return client.Event{}
}

// none checks that no event arrives for a moment.
func (e events) none(t *testing.T) {
	t.Helper()
	select {
	case ev := <-e:
		t.Errorf("unexpected lease event %s (state %s, err %v)", ev.Type, ev.State, ev.Err)
	case <-time.After(300 * time.Millisecond):
	}
}

// cutProxy forwards to a server until cut, then drops every connection, as a network
// partition would.
type cutProxy struct {
	url string
	cut atomic.Bool
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.cut.Load() {
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			http.Error(w, "cut", http.StatusBadGateway)
			return
		}
		rp.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	p.url = "http://" + ln.Addr().String()
	return p
}
