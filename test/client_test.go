package test

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"

	"github.com/allot-dev/allot/client"
)

// TestClient_AssumeRoleLifecycle runs the client in seed 000's assume-role mode against the
// real server: it checks out through the billing account's role, keeps the checkout through
// several extensions driven by a test clock (one-minute checkouts, extended every half
// minute), verifies the signed token offline, shows the status area, and checks in on Close,
// after which the seat is free.
func TestClient_AssumeRoleLifecycle(t *testing.T) {
	ctx := context.Background()
	k := newKit(t, 2)
	instance, roleARN := k.assumeRoleSetup(t, kitFullPolicy)
	clock, evs := newManualClock(), make(events, 100)
	verifier, err := client.NewVerifier(client.VerifierConfig{JWKSURL: k.s.url + "/.well-known/jwks.json"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := k.config(t, instance, client.ModeAssumeRole, roleARN)
	cfg.Clock, cfg.OnEvent, cfg.Verifier = clock, evs.record, verifier
	c, err := client.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	lease, err := c.Checkout(ctx)
	if err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	held := evs.want(t, client.EventHeld)
	first := lease.Info()
	if !lease.Licensed() || held.LicenseARN != k.license || first.LicenseARN != k.license || first.ConsumptionToken == "" ||
		first.Expiration.Sub(first.IssuedAt) != time.Minute || len(first.Entitlements) != 1 || first.Entitlements[0].Name != "Seats" {
		t.Fatalf("after Checkout: licensed %v, info %+v", lease.Licensed(), first)
	}
	if got := k.seatsInUse(t); got != "1/2" {
		t.Errorf("seats in use after Checkout = %s, want 1/2", got)
	}

	// Three extensions, each when half the minute has passed on the lease's clock.
	for i := range 3 {
		clock.Advance(t, 31*time.Second)
		ev := evs.want(t, client.EventExtended)
		info := lease.Info()
		if ev.Renewed || info.ConsumptionToken != first.ConsumptionToken || info.State != client.StateHeld || info.Err != nil ||
			!info.ExpiresAt.After(clock.Now()) || info.Expiration.Before(first.Expiration) {
			t.Fatalf("extension %d: event %+v, info %+v; want the same checkout extended", i+1, ev, info)
		}
	}
	evs.none(t)
	if got := k.seatsInUse(t); got != "1/2" {
		t.Errorf("seats in use after three extensions = %s, want 1/2", got)
	}

	// The status area: product name and contract end (GetLicense), seats (GetLicenseUsage).
	st := lease.Status(ctx)
	if st.State != client.StateHeld || st.ProductName != "DataMasque" || st.ProductSKU != kitSKU || st.LicenseName != "DataMasque Enterprise" ||
		st.End.Before(time.Now().Add(300*24*time.Hour)) || len(st.Unavailable) != 0 ||
		len(st.Entitlements) != 1 || st.Entitlements[0].Consumed != 1 || st.Entitlements[0].Available() != 1 {
		t.Errorf("Status = %+v", st)
	}

	// The signed token verified at checkout verifies offline, and a tampered one does not.
	claims, err := verifier.Verify(ctx, first.SignedToken)
	if err != nil || claims.Issuer != k.fingerprint || claims.LicenseARN != k.license || claims.ID != first.ConsumptionToken || claims.Subject != rootAccount {
		t.Errorf("Verify = %+v, %v", claims, err)
	}
	parts := strings.Split(first.SignedToken, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := strings.Replace(string(payload), `"Value":"1"`, `"Value":"9"`, 1)
	if _, err := verifier.Verify(ctx, parts[0]+"."+base64.RawURLEncoding.EncodeToString([]byte(forged))+"."+parts[2]); !errors.Is(err, client.ErrTokenSignature) {
		t.Errorf("Verify(tampered) = %v, want ErrTokenSignature", err)
	}

	if err := lease.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if ev := evs.want(t, client.EventClosed); ev.Err != nil || ev.State != client.StateClosed {
		t.Errorf("closed event = %+v", ev)
	}
	if got := k.seatsInUse(t); got != "0/2" {
		t.Errorf("seats in use after Close = %s, want 0/2", got)
	}
	if lease.Licensed() || lease.Close(ctx) != nil {
		t.Errorf("after Close: licensed %v; a second Close must be a no-op", lease.Licensed())
	}
}

// TestClient_Grants runs the client in seed 000's grants mode: the billing account grants
// the license to the deployment account, which accepts and activates it; the product lists
// it (specific checkout), checks out the product chosen with no role, and checks in.
func TestClient_Grants(t *testing.T) {
	ctx := context.Background()
	k := newKit(t, 2)
	acceptAndActivate(t, lm.NewFromConfig(k.s.configFor(k.deployAdmin)), k.grantTo(t, k.deployment))
	instance := k.instance(t, k.deployAdmin, k.deployment, "DataMasque-EC2-Role", kitFullPolicy)
	cfg := k.config(t, instance, client.ModeGrants, "")
	cfg.ProductSKU, cfg.KeyFingerprint = "", "" // specific checkout: chosen from the list
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	products, err := c.Products(ctx)
	if err != nil {
		t.Fatalf("Products: %v", err)
	}
	if len(products) != 1 || products[0].LicenseARN != k.license || products[0].SKU != kitSKU || products[0].KeyFingerprint != k.fingerprint ||
		products[0].Name != "DataMasque" || products[0].ReceivedStatus != "ACTIVE" || !products[0].Usable() ||
		len(products[0].Entitlements) != 1 || products[0].Entitlements[0].MaxCount != 2 {
		t.Fatalf("Products = %+v", products)
	}
	if _, err := c.Checkout(ctx); err == nil || !strings.Contains(err.Error(), "product SKU") {
		t.Errorf("Checkout with no SKU configured = %v, want a refusal naming the SKU", err)
	}
	lease, err := c.CheckoutProduct(ctx, products[0])
	if err != nil {
		t.Fatalf("CheckoutProduct: %v", err)
	}
	if got := k.seatsInUse(t); got != "1/2" {
		t.Errorf("seats in use = %s, want 1/2", got)
	}
	if st := lease.Status(ctx); st.ProductName != "DataMasque" || len(st.Entitlements) != 1 || st.Entitlements[0].Consumed != 1 {
		t.Errorf("Status = %+v", st)
	}
	if err := lease.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := k.seatsInUse(t); got != "0/2" {
		t.Errorf("seats in use after Close = %s, want 0/2", got)
	}

	// CloseOnSignal checks in when the process gets the signal (SIGUSR1 here, so that the
	// test process survives it), then ends its context.
	lease, err = c.CheckoutProduct(ctx, products[0])
	if err != nil {
		t.Fatalf("CheckoutProduct: %v", err)
	}
	sigCtx, stop := lease.CloseOnSignal(ctx, syscall.SIGUSR1)
	defer stop()
	if got := k.seatsInUse(t); got != "1/2" {
		t.Errorf("seats in use = %s, want 1/2", got)
	}
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	select {
	case <-sigCtx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("CloseOnSignal: the context did not end within 10s of the signal")
	}
	if got := k.seatsInUse(t); got != "0/2" || lease.State() != client.StateClosed {
		t.Errorf("after the signal: seats in use %s, state %s; want 0/2 and closed", got, lease.State())
	}
}

// TestClient_OneSeat starts two copies of the product when the license has one seat: the
// second gets the typed no-entitlements error with a clear message, and the seat once the
// first copy closes. The second copy runs with seed 000's own role policy, which has no
// ExtendLicenseConsumption: it keeps its only seat by renewing (check in, check out again).
func TestClient_OneSeat(t *testing.T) {
	ctx := context.Background()
	k := newKit(t, 1)
	seedPolicy := strings.ReplaceAll(seedPermissionsPolicy, `"aws-marketplace:SearchAgreements"`, `"license-manager:GetLicenseUsage"`)
	instance, roleARN := k.assumeRoleSetup(t, seedPolicy)
	c, err := client.New(k.config(t, instance, client.ModeAssumeRole, roleARN))
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.Checkout(ctx)
	if err != nil {
		t.Fatalf("first copy: Checkout: %v", err)
	}
	_, err = c.Checkout(ctx)
	var none *client.NoEntitlementsError
	if !errors.As(err, &none) || !none.InUse() {
		t.Fatalf("second copy: Checkout = %v (%T), want *client.NoEntitlementsError", err, err)
	}
	for _, want := range []string{"all units of the entitlements asked for are in use", "stop another copy of the product", "Seats: 1 of 1 in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no-entitlements message %q lacks %q", err, want)
		}
	}
	wantTyped[*lmtypes.NoEntitlementsAllowedException](t, "the AWS error under NoEntitlementsError", err)
	if err := first.Close(ctx); err != nil {
		t.Fatalf("first copy: Close: %v", err)
	}

	clock, evs := newManualClock(), make(events, 100)
	cfg := k.config(t, instance, client.ModeAssumeRole, roleARN)
	cfg.Clock, cfg.OnEvent = clock, evs.record
	c2, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c2.Checkout(ctx)
	if err != nil {
		t.Fatalf("second copy after the first closed: Checkout: %v", err)
	}
	defer second.Close(ctx)
	evs.want(t, client.EventHeld)
	token := second.Info().ConsumptionToken
	for i := range 2 {
		clock.Advance(t, 31*time.Second)
		ev := evs.want(t, client.EventExtended)
		info := second.Info()
		if !ev.Renewed || info.ConsumptionToken == token || info.State != client.StateHeld {
			t.Fatalf("renewal %d without ExtendLicenseConsumption: event %+v, info %+v; want a new checkout", i+1, ev, info)
		}
		token = info.ConsumptionToken
	}
	if got := k.seatsInUse(t); got != "1/1" {
		t.Errorf("seats in use after renewals = %s, want 1/1", got)
	}
}

// TestClient_Troubleshooting produces each row of seed 000's troubleshooting table with the
// real server and checks the client's typed error, its cause and its fix.
func TestClient_Troubleshooting(t *testing.T) {
	ctx := context.Background()
	k := newKit(t, 5)
	instance := k.instance(t, k.deployAdmin, k.deployment, "DataMasque-EC2-Role", kitDeploymentPolicy)
	noAssume := k.instance(t, k.deployAdmin, k.deployment, "NoAssume-Role", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"license-manager:ListReceivedLicenses","Resource":"*"}]}`)
	untrusted := k.instance(t, k.deployAdmin, k.deployment, "Untrusted-Role", kitDeploymentPolicy)
	trustBoth := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::<deployment-account-id>:role/DataMasque-EC2-Role",
		"arn:aws:iam::<deployment-account-id>:role/NoAssume-Role"]},"Action":"sts:AssumeRole"}]}`
	full := k.role(t, k.admin, "DataMasqueLicenseRole", trustBoth, kitFullPolicy)
	noCheckout := k.role(t, k.admin, "DataMasqueLicenseListOnly", kitTrust, kitListOnlyPolicy)
	scoped := k.role(t, k.admin, "DataMasqueLicenseScoped", kitTrust, kitScopedPolicy)
	noList := k.role(t, k.admin, "DataMasqueLicenseNoList", kitTrust, kitCheckoutOnlyPolicy)

	checkout := func(t *testing.T, c creds, mode client.Mode, role string) error {
		t.Helper()
		cl, err := client.New(k.config(t, c, mode, role))
		if err != nil {
			return err
		}
		l, err := cl.Checkout(ctx)
		if err == nil {
			l.Close(ctx)
		}
		return err
	}
	wantDiagnosis := func(t *testing.T, err error, cause, fix string) {
		t.Helper()
		var d client.Diagnosis
		if !errors.As(err, &d) {
			t.Fatalf("error %v (%T) is not a client.Diagnosis", err, err)
		}
		if !strings.Contains(d.Cause(), cause) || !strings.Contains(d.Fix(), fix) {
			t.Errorf("cause %q, fix %q; want %q and %q", d.Cause(), d.Fix(), cause, fix)
		}
	}

	t.Run("SaveDisabled", func(t *testing.T) {
		_, err := client.New(k.config(t, instance, client.ModeAssumeRole, "arn:aws:iam::12345:role/DataMasqueLicenseRole"))
		var bad *client.InvalidRoleARNError
		if !errors.As(err, &bad) {
			t.Fatalf("New(invalid ARN) = %v", err)
		}
		wantDiagnosis(t, err, `account "12345" is not 12 digits`, "arn:aws:iam::<12-digit account ID>:role/<role name>")
	})
	t.Run("AssumeRoleDeniedByDeploymentPolicy", func(t *testing.T) {
		err := checkout(t, noAssume, client.ModeAssumeRole, full)
		var d *client.AssumeRoleDeniedError
		if !errors.As(err, &d) || d.DeniedBy != client.DeniedByIdentityPolicy || d.RoleARN != full {
			t.Fatalf("Checkout = %v (%T), want *client.AssumeRoleDeniedError by the identity-based policy", err, err)
		}
		wantDiagnosis(t, err, "deployment account's policy", `"Action": "sts:AssumeRole", "Resource": "`+full+`"`)
	})
	t.Run("AssumeRoleDeniedByTrustPolicy", func(t *testing.T) {
		err := checkout(t, untrusted, client.ModeAssumeRole, full)
		var d *client.AssumeRoleDeniedError
		if !errors.As(err, &d) || d.DeniedBy != client.DeniedByTrustPolicy {
			t.Fatalf("Checkout = %v (%T), want *client.AssumeRoleDeniedError by the trust policy", err, err)
		}
		wantDiagnosis(t, err, "the trust policy of "+full+" does not allow", "trust policy")
	})
	t.Run("BillingRoleLacksCheckout", func(t *testing.T) {
		err := checkout(t, instance, client.ModeAssumeRole, noCheckout)
		var d *client.PermissionDeniedError
		if !errors.As(err, &d) || d.Action != "license-manager:CheckoutLicense" || d.Mode != client.ModeAssumeRole {
			t.Fatalf("Checkout = %v (%T), want *client.PermissionDeniedError", err, err)
		}
		wantDiagnosis(t, err, "the billing account role "+noCheckout+" lacks license-manager:CheckoutLicense", "to the permissions policy of "+noCheckout)
	})
	t.Run("ScopedToLicenseARN", func(t *testing.T) {
		err := checkout(t, instance, client.ModeAssumeRole, scoped)
		var d *client.ScopedPolicyError
		if !errors.As(err, &d) {
			t.Fatalf("Checkout = %v (%T), want *client.ScopedPolicyError", err, err)
		}
		wantDiagnosis(t, err, "supports no resource-level permissions", `change "Resource" to "*"`)
		wantTyped[*lmtypes.AuthorizationException](t, "the AWS error under ScopedPolicyError", err)
	})
	t.Run("NoProductsInSpecificMode", func(t *testing.T) {
		c, err := client.New(k.config(t, instance, client.ModeAssumeRole, noList))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Products(ctx)
		var d *client.ProductListDeniedError
		if !errors.As(err, &d) {
			t.Fatalf("Products = %v (%T), want *client.ProductListDeniedError", err, err)
		}
		wantDiagnosis(t, err, noList+" lacks license-manager:ListReceivedLicenses", `add "license-manager:ListReceivedLicenses"`)
		// Missing optional permissions degrade the status, never the checkout.
		l, err := c.Checkout(ctx)
		if err != nil {
			t.Fatalf("Checkout without the optional permissions: %v", err)
		}
		defer l.Close(ctx)
		st := l.Status(ctx)
		if len(st.Unavailable) != 2 || st.Unavailable[0].Action != "license-manager:GetLicense" || st.Unavailable[1].Action != "license-manager:GetLicenseUsage" ||
			!strings.Contains(st.Unavailable[0].Lost, "contract expiry") || st.ProductName != "DataMasque" || st.State != client.StateHeld {
			t.Errorf("Status without GetLicense and GetLicenseUsage = %+v; want the product name from the token and both listed as unavailable", st)
		}
	})

	// Grants mode, in the deployment account.
	product := k.instance(t, k.deployAdmin, k.deployment, "Product-Role", kitFullPolicy)
	noCheckoutProduct := k.instance(t, k.deployAdmin, k.deployment, "NoCheckout-Role", kitListOnlyPolicy)
	t.Run("GrantNotCreated", func(t *testing.T) {
		err := checkout(t, product, client.ModeGrants, "")
		var d *client.LicenseNotFoundError
		if !errors.As(err, &d) || d.ProductSKU != kitSKU {
			t.Fatalf("Checkout = %v (%T), want *client.LicenseNotFoundError", err, err)
		}
		wantDiagnosis(t, err, "the grant was not created or not accepted", "have the billing account grant the license to this account")
	})
	grantARN := k.grantTo(t, k.deployment)
	deployLM := lm.NewFromConfig(k.s.configFor(k.deployAdmin))
	t.Run("GrantNotAccepted", func(t *testing.T) {
		err := checkout(t, product, client.ModeGrants, "")
		var d *client.GrantNotActiveError
		if !errors.As(err, &d) || d.Status != "PENDING_ACCEPT" || d.GrantARN != grantARN {
			t.Fatalf("Checkout = %v (%T), want *client.GrantNotActiveError PENDING_ACCEPT of %s", err, err, grantARN)
		}
		wantDiagnosis(t, err, "has not been accepted yet", "accept the grant")
	})
	if _, err := deployLM.AcceptGrant(ctx, &lm.AcceptGrantInput{GrantArn: aws.String(grantARN)}); err != nil {
		t.Fatal(err)
	}
	t.Run("GrantNotActivated", func(t *testing.T) {
		err := checkout(t, product, client.ModeGrants, "")
		var d *client.GrantNotActiveError
		if !errors.As(err, &d) || d.Status != "DISABLED" {
			t.Fatalf("Checkout = %v (%T), want *client.GrantNotActiveError DISABLED", err, err)
		}
		wantDiagnosis(t, err, "was accepted but is not active", "activate the grant")
	})
	if _, err := deployLM.CreateGrantVersion(ctx, &lm.CreateGrantVersionInput{GrantArn: aws.String(grantARN), Status: lmtypes.GrantStatusActive,
		ClientToken: aws.String("activate")}); err != nil {
		t.Fatal(err)
	}
	t.Run("InstanceRoleLacksCheckout", func(t *testing.T) {
		err := checkout(t, noCheckoutProduct, client.ModeGrants, "")
		var d *client.PermissionDeniedError
		if !errors.As(err, &d) || d.Mode != client.ModeGrants || d.Action != "license-manager:CheckoutLicense" {
			t.Fatalf("Checkout = %v (%T), want *client.PermissionDeniedError", err, err)
		}
		wantDiagnosis(t, err, "the product's role (arn:aws:sts::"+k.deployment+":assumed-role/NoCheckout-Role/", "to the policy of the product's role")
	})
	t.Run("GrantActive", func(t *testing.T) {
		if err := checkout(t, product, client.ModeGrants, ""); err != nil {
			t.Errorf("Checkout once the grant is active: %v", err)
		}
	})
}

// TestClient_Grace cuts the network between the product and the server and checks both
// grace policies with a test clock: with GraceContinue the license is kept past expiry
// for the grace period, then lost, and regained once the server answers again; with
// GraceStop it is lost when the checkout expires.
func TestClient_Grace(t *testing.T) {
	ctx := context.Background()
	k := newKit(t, 2)
	instance, roleARN := k.assumeRoleSetup(t, kitFullPolicy)
	proxy := newCutProxy(t, k.s.url)
	start := func(t *testing.T, grace client.GracePolicy, period time.Duration) (*client.Lease, *manualClock, events) {
		t.Helper()
		clock, evs := newManualClock(), make(events, 100)
		cfg := k.config(t, instance, client.ModeAssumeRole, roleARN)
		cfg.AWS.BaseEndpoint = aws.String(proxy.url)
		cfg.Clock, cfg.OnEvent, cfg.Grace, cfg.GracePeriod = clock, evs.record, grace, period
		c, err := client.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		l, err := c.Checkout(ctx)
		if err != nil {
			t.Fatalf("Checkout: %v", err)
		}
		t.Cleanup(func() { proxy.cut.Store(false); l.Close(ctx) })
		evs.want(t, client.EventHeld)
		return l, clock, evs
	}

	t.Run("Continue", func(t *testing.T) {
		l, clock, evs := start(t, client.GraceContinue, 2*time.Minute)
		clock.Advance(t, 31*time.Second)
		evs.want(t, client.EventExtended)
		expires := l.Info().ExpiresAt

		proxy.cut.Store(true)
		ev := evs.advanceUntil(t, clock, 5*time.Second, client.EventAboutToExpire)
		if !l.Licensed() || l.State() != client.StateExpiring || ev.Err == nil || !strings.Contains(ev.Err.Error(), "ExtendLicenseConsumption") {
			t.Fatalf("about to expire: state %s, event %+v", l.State(), ev)
		}
		ev = evs.advanceUntil(t, clock, 5*time.Second, client.EventGrace)
		if !l.Licensed() || l.State() != client.StateGrace || !ev.GraceUntil.Equal(expires.Add(2*time.Minute)) || clock.Now().Before(expires) {
			t.Fatalf("grace: state %s at %s, event %+v; want grace from %s until %s", l.State(), clock.Now(), ev, expires, expires.Add(2*time.Minute))
		}
		ev = evs.advanceUntil(t, clock, 10*time.Second, client.EventLost, client.EventUnreachable)
		if l.Licensed() || l.State() != client.StateLost || ev.Err == nil || clock.Now().Before(expires.Add(2*time.Minute)) {
			t.Fatalf("after grace: state %s at %s, event %+v", l.State(), clock.Now(), ev)
		}

		// The server answers again: the next attempt regains the license.
		proxy.cut.Store(false)
		evs.advanceUntil(t, clock, 10*time.Second, client.EventRegained, client.EventUnreachable)
		if !l.Licensed() || l.State() != client.StateHeld {
			t.Errorf("regained: state %s", l.State())
		}
	})
	t.Run("Stop", func(t *testing.T) {
		l, clock, evs := start(t, client.GraceStop, 0)
		proxy.cut.Store(true)
		expires := l.Info().ExpiresAt
		evs.advanceUntil(t, clock, 5*time.Second, client.EventLost, client.EventAboutToExpire)
		if l.Licensed() || clock.Now().Before(expires) {
			t.Errorf("GraceStop: licensed %v at %s; want the license lost when the checkout expires at %s", l.Licensed(), clock.Now(), expires)
		}
	})
	if got := k.seatsInUse(t); got != "0/2" {
		t.Errorf("seats in use after both leases closed = %s, want 0/2", got)
	}
}

// TestClient_VerifyOffline verifies checkouts' signed tokens offline through key rotation:
// a lease with a Verifier accepts the token of a new key after `allot keys rotate` (the
// verifier fetches the JWKS again on the unknown kid); after `allot keys retire`, a token
// of the retired key is refused, and so is an expired one.
func TestClient_VerifyOffline(t *testing.T) {
	ctx := context.Background()
	k := newKit(t, 3)
	instance, roleARN := k.assumeRoleSetup(t, kitFullPolicy)
	clock := newManualClock()
	jwks := k.s.url + "/.well-known/jwks.json"
	verifier, err := client.NewVerifier(client.VerifierConfig{JWKSURL: jwks, Issuer: k.fingerprint, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	cfg := k.config(t, instance, client.ModeAssumeRole, roleARN)
	cfg.Verifier = verifier
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkout := func() string {
		t.Helper()
		l, err := c.Checkout(ctx)
		if err != nil {
			t.Fatalf("Checkout with a Verifier: %v", err)
		}
		defer l.Close(ctx)
		return l.Info().SignedToken
	}
	oldToken := checkout()
	claims, err := verifier.Verify(ctx, oldToken)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	oldKID := claims.KeyID

	storage := []string{"--data-dir", k.s.dataDir}
	if _, stderr, code := allot(t, append([]string{"keys", "rotate", "--account", k.vendor, "--issuer", "DataMasque"}, storage...)...); code != 0 {
		t.Fatalf("allot keys rotate: exit %d: %s", code, stderr)
	}
	// The server signs with the new key from its next token (or within its one-second
	// cache when, as here, another process rotated the key); each checkout is verified
	// with the keys fetched again on the unknown kid.
	var newToken string
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		clock.Skip(16 * time.Second) // past the verifier's MinRefetch
		newToken = checkout()
		cl, err := verifier.Verify(ctx, newToken)
		if err != nil {
			t.Fatalf("Verify(token after rotation) = %v", err)
		}
		if cl.KeyID != oldKID {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("checkouts 5s after allot keys rotate are still signed with the old key %s", oldKID)
		}
	}
	if _, err := verifier.Verify(ctx, oldToken); err != nil {
		t.Errorf("Verify(token of the previous key) = %v, want it still verified", err)
	}

	if _, stderr, code := allot(t, append([]string{"keys", "retire", "--kid", oldKID}, storage...)...); code != 0 {
		t.Fatalf("allot keys retire: exit %d: %s", code, stderr)
	}
	fresh, _ := client.NewVerifier(client.VerifierConfig{JWKSURL: jwks})
	if _, err := fresh.Verify(ctx, oldToken); !errors.Is(err, client.ErrTokenUnknownKey) {
		t.Errorf("Verify(token of the retired key) = %v, want ErrTokenUnknownKey", err)
	}
	if _, err := fresh.Verify(ctx, newToken); err != nil {
		t.Errorf("Verify(token of the current key) = %v", err)
	}
	later := newManualClock()
	later.Skip(3 * time.Minute) // past the one-minute checkout and the minute of leeway
	expired, _ := client.NewVerifier(client.VerifierConfig{JWKSURL: jwks, Clock: later})
	if _, err := expired.Verify(ctx, newToken); !errors.Is(err, client.ErrTokenExpired) {
		t.Errorf("Verify(expired token) = %v, want ErrTokenExpired", err)
	}
}

// TestClient_GrantDeactivated checks that a refusal is not covered by grace: in grants mode,
// the billing account deactivates the deployment account's grant while the product runs;
// extensions are refused with the typed grant error, the license is kept until the checkout
// expires and then lost (though the grace policy would keep it through an outage), and it is
// regained once the grant is active again.
func TestClient_GrantDeactivated(t *testing.T) {
	ctx := context.Background()
	k := newKit(t, 2)
	grantARN := k.grantTo(t, k.deployment)
	acceptAndActivate(t, lm.NewFromConfig(k.s.configFor(k.deployAdmin)), grantARN)
	instance := k.instance(t, k.deployAdmin, k.deployment, "DataMasque-EC2-Role", kitFullPolicy)
	clock, evs := newManualClock(), make(events, 100)
	cfg := k.config(t, instance, client.ModeGrants, "")
	cfg.Clock, cfg.OnEvent, cfg.Grace, cfg.GracePeriod = clock, evs.record, client.GraceContinue, 10*time.Minute
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lease, err := c.Checkout(ctx)
	if err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	defer lease.Close(ctx)
	evs.want(t, client.EventHeld)
	expires := lease.Info().ExpiresAt

	billing := lm.NewFromConfig(k.s.configFor(k.admin))
	setStatus := func(status lmtypes.GrantStatus, token string) {
		t.Helper()
		if _, err := billing.CreateGrantVersion(ctx, &lm.CreateGrantVersionInput{GrantArn: aws.String(grantARN), Status: status, ClientToken: aws.String(token)}); err != nil {
			t.Fatalf("CreateGrantVersion(%s): %v", status, err)
		}
	}
	setStatus(lmtypes.GrantStatusDisabled, "pause")
	ev := evs.advanceUntil(t, clock, 5*time.Second, client.EventAboutToExpire)
	var inactive *client.GrantNotActiveError
	if !errors.As(ev.Err, &inactive) || inactive.Status != "DISABLED" || inactive.GrantARN != grantARN || !lease.Licensed() {
		t.Fatalf("about to expire: %v (%T), licensed %v; want the grant DISABLED and the license kept for now", ev.Err, ev.Err, lease.Licensed())
	}
	ev = evs.advanceUntil(t, clock, 5*time.Second, client.EventLost)
	if lease.Licensed() || clock.Now().Before(expires) || !errors.As(ev.Err, &inactive) {
		t.Fatalf("lost at %s (expiry %s): licensed %v, err %v", clock.Now(), expires, lease.Licensed(), ev.Err)
	}
	if info := lease.Info(); info.ConsumptionToken == "" {
		t.Errorf("the lease gave up its checkout when the grant was deactivated: %+v", info)
	}

	setStatus(lmtypes.GrantStatusActive, "resume")
	evs.advanceUntil(t, clock, 20*time.Second, client.EventRegained)
	if !lease.Licensed() {
		t.Errorf("not licensed after the grant was activated again")
	}
	if err := lease.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := k.seatsInUse(t); got != "0/2" {
		t.Errorf("seats in use after Close = %s, want 0/2", got)
	}
}
