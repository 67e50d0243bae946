package licensemanager

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/authz"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awsproto"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

// checkoutFixture is a Service on a fresh SQLite store with a clock the test moves, an
// issuer account and another account.
type checkoutFixture struct {
	t      *testing.T
	ctx    context.Context
	svc    *Service
	clock  atomic.Int64 // Unix microseconds
	issuer *identity.Principal
	other  *identity.Principal
	seq    int
}

var fixtureStart = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func newCheckoutFixture(t *testing.T) *checkoutFixture {
	t.Helper()
	db := storetest.OpenDSN(t, filepath.Join(t.TempDir(), "allot.db"), storetest.NewBox(t), store.Options{})
	f := &checkoutFixture{t: t, ctx: context.Background(), issuer: identity.Root("111122223333", "AKIAISSUER"), other: identity.Root("444455556666", "AKIAOTHER")}
	f.clock.Store(fixtureStart.UnixMicro())
	f.svc = &Service{DB: db, Now: func() time.Time { return time.UnixMicro(f.clock.Load()) }}
	for _, p := range []*identity.Principal{f.issuer, f.other} {
		err := db.Update(f.ctx, func(tx *store.Tx) error {
			return tx.CreateAccount(f.ctx, &store.Account{ID: p.AccountID, Name: "a", Status: "ACTIVE", CreatedAt: tx.Now()})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// advance moves the service's clock.
func (f *checkoutFixture) advance(d time.Duration) { f.clock.Add(d.Microseconds()) }

func (f *checkoutFixture) now() time.Time { return time.UnixMicro(f.clock.Load()).UTC() }

// seatLicenseInput is a license for SKU with Seats (MaxCount seats, AllowCheckIn) and an
// Edition, provisional with a 60-minute TTL, valid 2026.
func seatLicenseInput(sku string, seats int64) *CreateLicenseInput {
	return &CreateLicenseInput{
		LicenseName: "L " + sku, ProductName: "DataMasque", ProductSKU: sku, Issuer: &Issuer{Name: "Vendor"}, HomeRegion: "us-east-1",
		Validity: &DatetimeRange{Begin: ptr("2026-01-01T00:00:00Z"), End: ptr("2027-01-01T00:00:00Z")},
		Entitlements: []Entitlement{
			{Name: ptr("Seats"), Unit: ptr("Count"), MaxCount: ptr(seats), AllowCheckIn: ptr(true)},
			{Name: ptr("Edition"), Unit: ptr("None"), Value: ptr("Enterprise")},
		},
		Beneficiary:              "billing",
		ConsumptionConfiguration: &ConsumptionConfiguration{ProvisionalConfiguration: &ProvisionalConfiguration{MaxTimeToLiveInMinutes: ptr(int32(60))}},
	}
}

// create creates a license in the issuer's account and returns its ARN.
func (f *checkoutFixture) create(in *CreateLicenseInput) string {
	f.t.Helper()
	f.seq++
	in.ClientToken = fmt.Sprint("create-", f.seq)
	out, err := f.svc.CreateLicense(f.ctx, f.issuer, in)
	if err != nil {
		f.t.Fatalf("CreateLicense: %v", err)
	}
	return out.LicenseArn
}

func vendorFingerprint() string { return KeyFingerprint("111122223333", "Vendor") }

// seatCheckoutInput asks for n seats of sku for beneficiary cust.
func seatCheckoutInput(sku, token string, n int) *CheckoutLicenseInput {
	return &CheckoutLicenseInput{ProductSKU: sku, CheckoutType: CheckoutProvisional, KeyFingerprint: vendorFingerprint(), ClientToken: token,
		Beneficiary: "cust-1", NodeId: "node-1", Entitlements: []EntitlementData{{Name: "Seats", Unit: "Count", Value: ptr(fmt.Sprint(n))}}}
}

func (f *checkoutFixture) checkout(in *CheckoutLicenseInput) *CheckoutLicenseOutput {
	f.t.Helper()
	out, err := f.svc.CheckoutLicense(f.ctx, f.issuer, in)
	if err != nil {
		f.t.Fatalf("CheckoutLicense(%s): %v", in.ClientToken, err)
	}
	return out
}

// usage returns ConsumedValue/MaxCount by entitlement name.
func (f *checkoutFixture) usage(arn string) map[string]string {
	f.t.Helper()
	out, err := f.svc.GetLicenseUsage(f.ctx, f.issuer, &GetLicenseUsageInput{LicenseArn: arn})
	if err != nil {
		f.t.Fatalf("GetLicenseUsage: %v", err)
	}
	m := map[string]string{}
	for _, u := range out.LicenseUsage.EntitlementUsages {
		m[u.Name] = u.ConsumedValue + "/" + u.MaxCount
	}
	return m
}

// wantCheckoutErr checks that err is an awserr with code whose message contains each of msgs.
func wantCheckoutErr(t *testing.T, what string, err error, code string, msgs ...string) {
	t.Helper()
	e, ok := awserr.As(err)
	if !ok || e.Code != code {
		t.Errorf("%s: error %v, want %s", what, err, code)
		return
	}
	for _, m := range msgs {
		if !strings.Contains(e.Message, m) {
			t.Errorf("%s: message %q does not contain %q", what, e.Message, m)
		}
	}
}

// verifyToken verifies a signed token with the service's JWKS, by kid, and returns its claims
// and header.
func (f *checkoutFixture) verifyToken(token string) (*TokenClaims, jose.Header, error) {
	f.t.Helper()
	raw, err := f.svc.JWKS(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		f.t.Fatal(err)
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.PS384})
	if err != nil {
		return nil, jose.Header{}, err
	}
	h := jws.Signatures[0].Protected
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		return nil, h, fmt.Errorf("kid %q: %d keys in the JWKS", h.KeyID, len(keys))
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		return nil, h, err
	}
	var c TokenClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, h, err
	}
	return &c, h, nil
}

func TestCheckoutLicense_Lifecycle(t *testing.T) {
	f := newCheckoutFixture(t)
	arn := f.create(seatLicenseInput("DM", 5))
	if got := f.usage(arn); got["Seats"] != "0/5" || len(got) != 1 {
		t.Fatalf("usage of a new license = %v, want Seats 0/5 only", got)
	}
	in := seatCheckoutInput("DM", "c-1", 2)
	out := f.checkout(in)
	start := f.now()
	if out.CheckoutType != CheckoutProvisional || out.LicenseArn != arn || out.NodeId != "node-1" || len(out.LicenseConsumptionToken) != 32 ||
		!out.IssuedAt.Equal(start) || !out.Expiration.Equal(start.Add(time.Hour)) || out.SignedToken == "" ||
		len(out.EntitlementsAllowed) != 1 || deref(out.EntitlementsAllowed[0].Value) != "2" {
		t.Fatalf("CheckoutLicense = %+v", out)
	}
	if got := f.usage(arn); got["Seats"] != "2/5" {
		t.Errorf("usage after checkout = %v, want 2/5", got)
	}

	t.Run("ClientTokenReplay", func(t *testing.T) {
		again := f.checkout(seatCheckoutInput("DM", "c-1", 2))
		if again.LicenseConsumptionToken != out.LicenseConsumptionToken || !again.Expiration.Equal(out.Expiration.Time) || again.SignedToken == "" {
			t.Errorf("retry = %+v, want the first answer %+v", again, out)
		}
		if got := f.usage(arn); got["Seats"] != "2/5" {
			t.Errorf("usage after a retry = %v, want 2/5", got)
		}
		_, err := f.svc.CheckoutLicense(f.ctx, f.issuer, seatCheckoutInput("DM", "c-1", 3))
		wantCheckoutErr(t, "same ClientToken, other request", err, ErrValidation, "already used")
	})

	t.Run("Extend", func(t *testing.T) {
		f.advance(30 * time.Minute)
		dry, err := f.svc.ExtendLicenseConsumption(f.ctx, f.issuer, &ExtendLicenseConsumptionInput{LicenseConsumptionToken: out.LicenseConsumptionToken, DryRun: true})
		if err != nil || !dry.Expiration.Equal(f.now().Add(time.Hour)) {
			t.Fatalf("Extend(DryRun) = %+v, %v", dry, err)
		}
		ext, err := f.svc.ExtendLicenseConsumption(f.ctx, f.issuer, &ExtendLicenseConsumptionInput{LicenseConsumptionToken: out.LicenseConsumptionToken})
		if err != nil || !ext.Expiration.Equal(f.now().Add(time.Hour)) || ext.LicenseConsumptionToken != out.LicenseConsumptionToken {
			t.Fatalf("Extend = %+v, %v; want expiry %v", ext, err, f.now().Add(time.Hour))
		}
		_, err = f.svc.ExtendLicenseConsumption(f.ctx, f.other, &ExtendLicenseConsumptionInput{LicenseConsumptionToken: out.LicenseConsumptionToken})
		wantCheckoutErr(t, "Extend from another account", err, ErrResourceNotFound, "444455556666")
	})

	t.Run("ExpiryReturnsUnits", func(t *testing.T) {
		f.advance(61 * time.Minute) // past the extended expiry
		if got := f.usage(arn); got["Seats"] != "0/5" {
			t.Errorf("usage after expiry, before any reclaim = %v, want 0/5", got)
		}
		_, err := f.svc.ExtendLicenseConsumption(f.ctx, f.issuer, &ExtendLicenseConsumptionInput{LicenseConsumptionToken: out.LicenseConsumptionToken})
		wantCheckoutErr(t, "Extend after expiry", err, ErrResourceNotFound, "expired at", "check out again")
		_, err = f.svc.CheckInLicense(f.ctx, f.issuer, &CheckInLicenseInput{LicenseConsumptionToken: out.LicenseConsumptionToken})
		wantCheckoutErr(t, "CheckIn after expiry", err, ErrResourceNotFound, "expired at")
		n, err := f.svc.ReclaimExpired(f.ctx)
		if err != nil || n != 1 {
			t.Fatalf("ReclaimExpired = %d, %v; want 1", n, err)
		}
		if n, _ := f.svc.ReclaimExpired(f.ctx); n != 0 {
			t.Errorf("ReclaimExpired again = %d, want 0", n)
		}
		_, err = f.svc.ExtendLicenseConsumption(f.ctx, f.issuer, &ExtendLicenseConsumptionInput{LicenseConsumptionToken: out.LicenseConsumptionToken})
		wantCheckoutErr(t, "Extend after reclaim", err, ErrResourceNotFound, "expired at "+out.Expiration.Add(30*time.Minute).Format("2006-01-02T15:04:05Z"))
		// The replay window still answers the first checkout.
		if again := f.checkout(seatCheckoutInput("DM", "c-1", 2)); again.LicenseConsumptionToken != out.LicenseConsumptionToken {
			t.Errorf("retry after expiry = %s, want %s", again.LicenseConsumptionToken, out.LicenseConsumptionToken)
		}
	})

	t.Run("CheckIn", func(t *testing.T) {
		c := f.checkout(seatCheckoutInput("DM", "c-2", 5))
		if got := f.usage(arn); got["Seats"] != "5/5" {
			t.Errorf("usage = %v, want 5/5", got)
		}
		_, err := f.svc.CheckInLicense(f.ctx, f.issuer, &CheckInLicenseInput{LicenseConsumptionToken: c.LicenseConsumptionToken, Beneficiary: "someone-else"})
		wantCheckoutErr(t, "CheckIn with another Beneficiary", err, ErrValidation, "cust-1")
		for i := range 2 { // a second check-in answers again without change
			if _, err := f.svc.CheckInLicense(f.ctx, f.issuer, &CheckInLicenseInput{LicenseConsumptionToken: c.LicenseConsumptionToken, Beneficiary: "cust-1"}); err != nil {
				t.Fatalf("CheckIn #%d: %v", i+1, err)
			}
		}
		if got := f.usage(arn); got["Seats"] != "0/5" {
			t.Errorf("usage after check-in = %v, want 0/5", got)
		}
		_, err = f.svc.ExtendLicenseConsumption(f.ctx, f.issuer, &ExtendLicenseConsumptionInput{LicenseConsumptionToken: c.LicenseConsumptionToken})
		wantCheckoutErr(t, "Extend after check-in", err, ErrResourceNotFound, "checked in")
		_, err = f.svc.CheckInLicense(f.ctx, f.issuer, &CheckInLicenseInput{LicenseConsumptionToken: "nope"})
		wantCheckoutErr(t, "CheckIn(unknown)", err, ErrResourceNotFound)
	})

	t.Run("PurgedAfterADay", func(t *testing.T) {
		f.advance(25 * time.Hour)
		if _, err := f.svc.ReclaimExpired(f.ctx); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.ExtendLicenseConsumption(f.ctx, f.issuer, &ExtendLicenseConsumptionInput{LicenseConsumptionToken: out.LicenseConsumptionToken})
		wantCheckoutErr(t, "Extend after purge", err, ErrResourceNotFound, "check out again")
	})
}

func TestCheckoutLicense_Rules(t *testing.T) {
	f := newCheckoutFixture(t)
	arn := f.create(seatLicenseInput("DM", 5))
	borrowIn := seatLicenseInput("DM-BORROW", 5)
	borrowIn.ConsumptionConfiguration = &ConsumptionConfiguration{BorrowConfiguration: &BorrowConfiguration{AllowEarlyCheckIn: ptr(true), MaxTimeToLiveInMinutes: ptr(int32(600))}}
	f.create(borrowIn)
	f.checkout(seatCheckoutInput("DM", "fill", 4)) // 4 of 5 in use

	seats := func(n string) EntitlementData { return EntitlementData{Name: "Seats", Unit: "Count", Value: ptr(n)} }
	cases := []struct {
		name   string
		edit   func(*CheckoutLicenseInput)
		caller *identity.Principal
		code   string
		msgs   []string
		want   []string // EntitlementsAllowed as Name=Value on success
	}{
		{name: "Subset", edit: func(in *CheckoutLicenseInput) {
			in.Entitlements = []EntitlementData{{Name: "Tier2", Unit: "None"}, seats("1"), {Name: "Edition", Unit: "None"}, {Name: "Gold", Unit: "None"}}
		}, want: []string{"Seats=1", "Edition=Enterprise"}},
		{name: "ErrExhausted", edit: func(in *CheckoutLicenseInput) { in.Entitlements = []EntitlementData{seats("1")} },
			code: ErrNoEntitlementsAllowed, msgs: []string{"Seats: 5 of 5 in use", arn}},
		{name: "ErrTooMany", edit: func(in *CheckoutLicenseInput) { in.Entitlements = []EntitlementData{seats("9")} },
			code: ErrNoEntitlementsAllowed, msgs: []string{"Seats: 5 of 5 in use"}},
		{name: "ErrUnitMismatch", edit: func(in *CheckoutLicenseInput) {
			in.Entitlements = []EntitlementData{{Name: "Seats", Unit: "Bytes", Value: ptr("1")}}
		}, code: ErrNoEntitlementsAllowed, msgs: []string{"counts it in Count, not Bytes"}},
		{name: "ErrWrongValue", edit: func(in *CheckoutLicenseInput) {
			in.Entitlements = []EntitlementData{{Name: "Edition", Unit: "None", Value: ptr("Standard")}}
		}, code: ErrNoEntitlementsAllowed, msgs: []string{`has "Enterprise", not "Standard"`}},
		{name: "ErrNoBeneficiary", edit: func(in *CheckoutLicenseInput) { in.Beneficiary = "" },
			code: ErrValidation, msgs: []string{"Beneficiary is required", "111122223333"}},
		{name: "ErrUnknownSKU", edit: func(in *CheckoutLicenseInput) { in.ProductSKU = "NOPE" },
			code: ErrResourceNotFound, msgs: []string{`"NOPE"`, vendorFingerprint(), "111122223333"}},
		{name: "ErrOtherAccount", caller: f.other, code: ErrResourceNotFound, msgs: []string{"444455556666"}},
		{name: "ErrBorrowOnly", edit: func(in *CheckoutLicenseInput) { in.ProductSKU = "DM-BORROW" },
			code: ErrValidation, msgs: []string{"CheckoutBorrowLicense"}},
		{name: "ErrNoValue", edit: func(in *CheckoutLicenseInput) { in.Entitlements = []EntitlementData{{Name: "Seats", Unit: "Count"}} },
			code: ErrValidation, msgs: []string{"needs Value"}},
		{name: "ErrFraction", edit: func(in *CheckoutLicenseInput) { in.Entitlements = []EntitlementData{seats("1.5")} },
			code: ErrValidation, msgs: []string{"whole number"}},
		{name: "ErrCheckoutType", edit: func(in *CheckoutLicenseInput) { in.CheckoutType = "BORROW" },
			code: ErrValidation, msgs: []string{"CheckoutType"}},
		{name: "ErrNoClientToken", edit: func(in *CheckoutLicenseInput) { in.ClientToken = "" },
			code: ErrValidation, msgs: []string{"ClientToken is required"}},
		{name: "ErrDuplicate", edit: func(in *CheckoutLicenseInput) { in.Entitlements = []EntitlementData{seats("1"), seats("1")} },
			code: ErrValidation, msgs: []string{"twice"}},
		{name: "ErrLicenseArnOtherSKU", edit: func(in *CheckoutLicenseInput) { in.ProductSKU, in.LicenseArn = "DM-BORROW", arn },
			code: ErrResourceNotFound, msgs: []string{arn}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := seatCheckoutInput("DM", fmt.Sprint("rule-", i), 1)
			if tc.edit != nil {
				tc.edit(in)
			}
			caller := tc.caller
			if caller == nil {
				caller = f.issuer
			}
			out, err := f.svc.CheckoutLicense(f.ctx, caller, in)
			if tc.code != "" {
				wantCheckoutErr(t, "CheckoutLicense", err, tc.code, tc.msgs...)
				return
			}
			if err != nil {
				t.Fatalf("CheckoutLicense: %v", err)
			}
			var got []string
			for _, e := range out.EntitlementsAllowed {
				got = append(got, e.Name+"="+deref(e.Value))
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("EntitlementsAllowed = %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("Redirect", func(t *testing.T) {
		in := seatLicenseInput("DM-EU", 1)
		in.HomeRegion = "eu-west-1"
		f.create(in)
		ctx := authz.WithOrigin(f.ctx, authz.Origin{Region: "us-east-1"})
		_, err := f.svc.CheckoutLicense(ctx, f.issuer, seatCheckoutInput("DM-EU", "eu-1", 1))
		wantCheckoutErr(t, "CheckoutLicense in another region", err, ErrRedirect, "eu-west-1")
		if e, _ := awserr.As(err); e == nil || e.Fields["Location"] != "eu-west-1" {
			t.Errorf("RedirectException fields = %v, want Location eu-west-1", e)
		}
		// Nothing was taken.
		ctx = authz.WithOrigin(f.ctx, authz.Origin{Region: "eu-west-1"})
		if _, err := f.svc.CheckoutLicense(ctx, f.issuer, seatCheckoutInput("DM-EU", "eu-2", 1)); err != nil {
			t.Errorf("CheckoutLicense in the home region: %v", err)
		}
	})
}

// TestCheckoutLicense_Order checks which license a checkout uses when several match: the one
// that ends first, until it is used up, unless LicenseArn names one.
func TestCheckoutLicense_Order(t *testing.T) {
	f := newCheckoutFixture(t)
	late := seatLicenseInput("DM", 1)
	late.Validity.End = ptr("2028-01-01T00:00:00Z")
	lateARN := f.create(late)
	early := seatLicenseInput("DM", 1)
	earlyARN := f.create(early)
	noEnd := seatLicenseInput("DM", 1)
	noEnd.Validity.End = nil
	noEndARN := f.create(noEnd)

	var used []string
	for i := range 3 {
		used = append(used, f.checkout(seatCheckoutInput("DM", fmt.Sprint("o-", i), 1)).LicenseArn)
	}
	if want := []string{earlyARN, lateARN, noEndARN}; strings.Join(used, " ") != strings.Join(want, " ") {
		t.Errorf("licenses used = %v, want the one ending first first: %v", used, want)
	}
	_, err := f.svc.CheckoutLicense(f.ctx, f.issuer, seatCheckoutInput("DM", "o-3", 1))
	wantCheckoutErr(t, "CheckoutLicense with every license used up", err, ErrNoEntitlementsAllowed, earlyARN, lateARN, noEndARN)

	// LicenseArn picks one.
	f.advance(2 * time.Hour) // all three expired
	in := seatCheckoutInput("DM", "o-arn", 1)
	in.LicenseArn = noEndARN
	if got := f.checkout(in).LicenseArn; got != noEndARN {
		t.Errorf("CheckoutLicense(LicenseArn %s) used %s", noEndARN, got)
	}
	// A license that is not AVAILABLE is skipped, with its reason.
	v := &CreateLicenseVersionInput{LicenseArn: earlyARN, LicenseName: early.LicenseName, ProductName: early.ProductName, Issuer: early.Issuer,
		HomeRegion: early.HomeRegion, Validity: early.Validity, Entitlements: early.Entitlements, ConsumptionConfiguration: early.ConsumptionConfiguration,
		Status: StatusSuspended, ClientToken: "v-1"}
	if _, err := f.svc.CreateLicenseVersion(f.ctx, f.issuer, v); err != nil {
		t.Fatal(err)
	}
	if got := f.checkout(seatCheckoutInput("DM", "o-4", 1)).LicenseArn; got != lateARN {
		t.Errorf("with %s SUSPENDED, CheckoutLicense used %s, want %s", earlyARN, got, lateARN)
	}
	_, err = f.svc.CheckoutLicense(f.ctx, f.issuer, seatCheckoutInput("DM", "o-5", 1))
	wantCheckoutErr(t, "CheckoutLicense with one license SUSPENDED and the others used", err, ErrNoEntitlementsAllowed, "SUSPENDED", "Seats: 1 of 1 in use")
}

// TestCheckoutLicense_CountedFirst checks that a license that gives only an uncounted
// entitlement asked for loses to a later one that gives a counted one, and is used when none does.
func TestCheckoutLicense_CountedFirst(t *testing.T) {
	f := newCheckoutFixture(t)
	early := seatLicenseInput("DM", 1)
	earlyARN := f.create(early)
	late := seatLicenseInput("DM", 1)
	late.Validity.End = ptr("2028-01-01T00:00:00Z")
	lateARN := f.create(late)
	both := func(token string) *CheckoutLicenseInput {
		in := seatCheckoutInput("DM", token, 1)
		in.Entitlements = append(in.Entitlements, EntitlementData{Name: "Edition", Unit: "None"})
		return in
	}
	for i, want := range []struct {
		arn, allowed string
	}{{earlyARN, "Seats,Edition"}, {lateARN, "Seats,Edition"}, {earlyARN, "Edition"}} {
		out := f.checkout(both(fmt.Sprint("cf-", i)))
		var names []string
		for _, e := range out.EntitlementsAllowed {
			names = append(names, e.Name)
		}
		if out.LicenseArn != want.arn || strings.Join(names, ",") != want.allowed {
			t.Errorf("checkout #%d: %s gave %v, want %s to give %s", i+1, out.LicenseArn, names, want.arn, want.allowed)
		}
	}
}

// TestCheckoutLicense_ReclaimOnDemand checks that a checkout takes the units of an expired
// checkout without waiting for the reclaimer.
func TestCheckoutLicense_ReclaimOnDemand(t *testing.T) {
	f := newCheckoutFixture(t)
	arn := f.create(seatLicenseInput("DM", 1))
	first := f.checkout(seatCheckoutInput("DM", "r-1", 1))
	_, err := f.svc.CheckoutLicense(f.ctx, f.issuer, seatCheckoutInput("DM", "r-2", 1))
	wantCheckoutErr(t, "second checkout", err, ErrNoEntitlementsAllowed, "1 of 1 in use")
	f.advance(time.Hour)
	second := f.checkout(seatCheckoutInput("DM", "r-3", 1))
	if second.LicenseArn != arn {
		t.Fatalf("checkout after expiry = %+v", second)
	}
	if got := f.usage(arn); got["Seats"] != "1/1" {
		t.Errorf("usage = %v, want 1/1", got)
	}
	_, err = f.svc.CheckInLicense(f.ctx, f.issuer, &CheckInLicenseInput{LicenseConsumptionToken: first.LicenseConsumptionToken})
	wantCheckoutErr(t, "CheckIn of the reclaimed checkout", err, ErrResourceNotFound, "expired")
}

func TestCheckoutLicense_PerpetualOverageAndVersions(t *testing.T) {
	f := newCheckoutFixture(t)
	in := seatLicenseInput("DM", 2)
	in.Entitlements = append(in.Entitlements,
		Entitlement{Name: ptr("Calls"), Unit: ptr("Count"), MaxCount: ptr(int64(10)), Overage: ptr(true)},
		Entitlement{Name: ptr("Cores"), Unit: ptr("Count"), MaxCount: ptr(int64(4))}) // no AllowCheckIn
	arn := f.create(in)

	calls := seatCheckoutInput("DM", "p-1", 0)
	calls.CheckoutType = CheckoutPerpetual
	calls.Entitlements = []EntitlementData{{Name: "Calls", Unit: "Count", Value: ptr("25")}}
	out := f.checkout(calls)
	if !out.Expiration.IsZero() || out.CheckoutType != CheckoutPerpetual {
		t.Errorf("PERPETUAL checkout = %+v, want no Expiration", out)
	}
	claims, _, err := f.verifyToken(out.SignedToken)
	if err != nil || claims.Expiry != time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Unix() {
		t.Errorf("PERPETUAL token: %+v, %v; want exp at the license's end", claims, err)
	}
	f.advance(48 * time.Hour)
	if _, err := f.svc.ReclaimExpired(f.ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.usage(arn); got["Calls"] != "25/10" {
		t.Errorf("usage = %v, want Calls 25/10 (overage, consumed for good)", got)
	}
	_, err = f.svc.CheckInLicense(f.ctx, f.issuer, &CheckInLicenseInput{LicenseConsumptionToken: out.LicenseConsumptionToken})
	wantCheckoutErr(t, "CheckIn(PERPETUAL), purged after a day", err, ErrResourceNotFound)
	p2 := f.checkout(func() *CheckoutLicenseInput { c := *calls; c.ClientToken = "p-2"; return &c }())
	_, err = f.svc.CheckInLicense(f.ctx, f.issuer, &CheckInLicenseInput{LicenseConsumptionToken: p2.LicenseConsumptionToken})
	wantCheckoutErr(t, "CheckIn(PERPETUAL)", err, ErrConflict, "PERPETUAL")
	_, err = f.svc.ExtendLicenseConsumption(f.ctx, f.issuer, &ExtendLicenseConsumptionInput{LicenseConsumptionToken: p2.LicenseConsumptionToken})
	wantCheckoutErr(t, "Extend(PERPETUAL)", err, ErrValidation, "never expires")

	cores := seatCheckoutInput("DM", "p-3", 0)
	cores.Entitlements = []EntitlementData{{Name: "Cores", Unit: "Count", Value: ptr("3")}}
	c := f.checkout(cores)
	_, err = f.svc.CheckInLicense(f.ctx, f.issuer, &CheckInLicenseInput{LicenseConsumptionToken: c.LicenseConsumptionToken})
	wantCheckoutErr(t, "CheckIn(no AllowCheckIn)", err, ErrConflict, "Cores", "AllowCheckIn", "expires at")

	// A new version without Cores: its units stay out until they return; none are taken.
	v := &CreateLicenseVersionInput{LicenseArn: arn, LicenseName: in.LicenseName, ProductName: in.ProductName, Issuer: in.Issuer,
		HomeRegion: in.HomeRegion, Validity: in.Validity, Entitlements: in.Entitlements[:3], ConsumptionConfiguration: in.ConsumptionConfiguration,
		Status: StatusAvailable, ClientToken: "v-1"}
	v.Entitlements[0].MaxCount = ptr(int64(3))
	if _, err := f.svc.CreateLicenseVersion(f.ctx, f.issuer, v); err != nil {
		t.Fatal(err)
	}
	if got := f.usage(arn); got["Cores"] != "3/0" || got["Seats"] != "0/3" {
		t.Errorf("usage after a version without Cores = %v, want Cores 3/0 and Seats 0/3", got)
	}
	cores.ClientToken = "p-4"
	cores.Entitlements[0].Value = ptr("1")
	_, err = f.svc.CheckoutLicense(f.ctx, f.issuer, cores)
	wantCheckoutErr(t, "Cores after its removal", err, ErrNoEntitlementsAllowed, "no such entitlement")
	f.advance(time.Hour)
	if got := f.usage(arn); got["Cores"] != "" {
		t.Errorf("usage once the removed entitlement's units returned = %v, want no Cores", got)
	}
	// Extending needs the license usable: SUSPENDED refuses, with the reason.
	s := f.checkout(seatCheckoutInput("DM", "p-5", 1))
	v.Status, v.ClientToken = StatusSuspended, "v-2"
	if _, err := f.svc.CreateLicenseVersion(f.ctx, f.issuer, v); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.ExtendLicenseConsumption(f.ctx, f.issuer, &ExtendLicenseConsumptionInput{LicenseConsumptionToken: s.LicenseConsumptionToken})
	wantCheckoutErr(t, "Extend on a SUSPENDED license", err, ErrAccessDenied, "SUSPENDED")
}

func TestCheckoutBorrowLicense(t *testing.T) {
	f := newCheckoutFixture(t)
	mk := func(sku, signKey string, early bool) string {
		in := seatLicenseInput(sku, 3)
		in.Issuer.SignKey = signKey
		in.ConsumptionConfiguration = &ConsumptionConfiguration{BorrowConfiguration: &BorrowConfiguration{AllowEarlyCheckIn: ptr(early), MaxTimeToLiveInMinutes: ptr(int32(1440))}}
		return f.create(in)
	}
	rsa, ec, noEarly := mk("B-RSA", "RSA", true), mk("B-EC", "", true), mk("B-LATE", "RSA", false)
	provisional := f.create(seatLicenseInput("P", 3))
	borrow := func(arn, token string, es ...EntitlementData) (*CheckoutBorrowLicenseOutput, error) {
		return f.svc.CheckoutBorrowLicense(f.ctx, f.issuer, &CheckoutBorrowLicenseInput{LicenseArn: arn, Entitlements: es, DigitalSignatureMethod: SignatureJWTPS384,
			NodeId: "laptop-7", CheckoutMetadata: []Metadata{{Name: ptr("site"), Value: ptr("ship")}}, ClientToken: token})
	}
	seats := func(n string) EntitlementData { return EntitlementData{Name: "Seats", Unit: "Count", Value: ptr(n)} }

	out, err := borrow(rsa, "b-1", seats("2"), EntitlementData{Name: "Edition", Unit: "None"})
	if err != nil {
		t.Fatalf("CheckoutBorrowLicense: %v", err)
	}
	if !out.Expiration.Equal(f.now().Add(24*time.Hour)) || len(out.EntitlementsAllowed) != 2 || len(out.CheckoutMetadata) != 1 || out.NodeId != "laptop-7" {
		t.Errorf("CheckoutBorrowLicense = %+v", out)
	}
	claims, h, err := f.verifyToken(out.SignedToken)
	if err != nil {
		t.Fatalf("verify borrowed token: %v", err)
	}
	if h.Algorithm != "PS384" || claims.CheckoutType != "BORROW" || len(claims.CheckoutMetadata) != 1 || deref(claims.CheckoutMetadata[0].Value) != "ship" ||
		claims.Subject != "111122223333" || claims.Expiry != out.Expiration.Unix() {
		t.Errorf("borrowed token: header %+v, claims %+v", h, claims)
	}

	cases := []struct {
		name   string
		arn    string
		method string
		es     []EntitlementData
		code   string
		msg    string
	}{
		{"ErrAllOrNothing", rsa, "", []EntitlementData{seats("1"), {Name: "Cores", Unit: "Count", Value: ptr("1")}}, ErrEntitlementNotAllowed, "no such entitlement"},
		{"ErrExhausted", rsa, "", []EntitlementData{seats("2")}, ErrNoEntitlementsAllowed, "Seats: 2 of 3 in use, 2 more asked for"},
		{"ErrES256", ec, "", []EntitlementData{seats("1")}, ErrUnsupportedDigitalSignatureMethod, "Issuer.SignKey RSA"},
		{"ErrMethod", rsa, "JWT_RS256", []EntitlementData{seats("1")}, ErrUnsupportedDigitalSignatureMethod, "JWT_PS384"},
		{"ErrNotBorrowable", provisional, "", []EntitlementData{seats("1")}, ErrValidation, "CheckoutLicense"},
		{"ErrUnknown", "arn:aws:license-manager::111122223333:license:l-00000000000000000000000000000000", "", []EntitlementData{seats("1")}, ErrResourceNotFound, "has not reached"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := &CheckoutBorrowLicenseInput{LicenseArn: tc.arn, Entitlements: tc.es, DigitalSignatureMethod: SignatureJWTPS384, ClientToken: fmt.Sprint("bc-", i)}
			if tc.method != "" {
				in.DigitalSignatureMethod = tc.method
			}
			_, err := f.svc.CheckoutBorrowLicense(f.ctx, f.issuer, in)
			wantCheckoutErr(t, "CheckoutBorrowLicense", err, tc.code, tc.msg)
		})
	}
	if got := f.usage(rsa); got["Seats"] != "2/3" {
		t.Errorf("usage after refused borrows = %v, want 2/3 (all or nothing)", got)
	}
	_, err = f.svc.ExtendLicenseConsumption(f.ctx, f.issuer, &ExtendLicenseConsumptionInput{LicenseConsumptionToken: out.LicenseConsumptionToken})
	wantCheckoutErr(t, "Extend(borrowed)", err, ErrValidation, "borrow again")
	if _, err := f.svc.CheckInLicense(f.ctx, f.issuer, &CheckInLicenseInput{LicenseConsumptionToken: out.LicenseConsumptionToken}); err != nil {
		t.Errorf("CheckIn(borrowed, AllowEarlyCheckIn): %v", err)
	}
	late, err := borrow(noEarly, "b-2", seats("1"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CheckInLicense(f.ctx, f.issuer, &CheckInLicenseInput{LicenseConsumptionToken: late.LicenseConsumptionToken})
	wantCheckoutErr(t, "CheckIn(borrowed, no early check-in)", err, ErrConflict, "early check-in")
}

func TestCheckoutLicense_SignedToken(t *testing.T) {
	f := newCheckoutFixture(t)
	for _, signKey := range []string{"", "RSA"} {
		t.Run("SignKey="+signKey, func(t *testing.T) {
			in := seatLicenseInput("T"+signKey, 5)
			in.Issuer.SignKey = signKey
			arn := f.create(in)
			out := f.checkout(seatCheckoutInput("T"+signKey, "t-"+signKey, 1))
			claims, h, err := f.verifyToken(out.SignedToken)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			wantAlg := map[string]string{"": "ES256", "RSA": "PS384"}[signKey]
			if h.Algorithm != wantAlg || h.KeyID == "" || h.ExtraHeaders["typ"] != "JWT" {
				t.Errorf("header = %+v, want alg %s, a kid and typ JWT", h, wantAlg)
			}
			want := TokenClaims{Issuer: vendorFingerprint(), Subject: "cust-1", IssuedAt: out.IssuedAt.Unix(), NotBefore: out.IssuedAt.Unix(),
				Expiry: out.Expiration.Unix(), ID: out.LicenseConsumptionToken, LicenseARN: arn, ProductSKU: "T" + signKey, ProductName: "DataMasque",
				IssuerName: "Vendor", CheckoutType: CheckoutProvisional, NodeID: "node-1"}
			got := *claims
			got.Entitlements = nil
			if fmt.Sprint(got) != fmt.Sprint(want) || len(claims.Entitlements) != 1 || deref(claims.Entitlements[0].Value) != "1" {
				t.Errorf("claims = %+v, want %+v with Seats=1", claims, want)
			}
			// A flipped payload byte breaks the signature.
			parts := strings.Split(out.SignedToken, ".")
			payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
			payload[len(payload)/2] ^= 1
			tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
			if _, _, err := f.verifyToken(tampered); err == nil {
				t.Errorf("a tampered token verified")
			}
		})
	}
}

// TestCheckoutLicense_AuditWithoutSignedToken checks that the recorded response of a
// checkout has no signed token, while the caller gets one.
func TestCheckoutLicense_AuditWithoutSignedToken(t *testing.T) {
	f := newCheckoutFixture(t)
	f.create(seatLicenseInput("DM", 1))
	p := audit.NewPending(storetest.NewEvent(f.issuer.AccountID, storetest.EventOpts{Name: "CheckoutLicense"}))
	out, err := f.svc.CheckoutLicense(audit.WithPending(f.ctx, p), f.issuer, seatCheckoutInput("DM", "a-1", 1))
	if err != nil || out.SignedToken == "" {
		t.Fatalf("CheckoutLicense = %+v, %v; want a signed token", out, err)
	}
	resp := string(p.Event().ResponseElements)
	if !p.Recorded() || !strings.Contains(resp, out.LicenseConsumptionToken) || strings.Contains(resp, "signedToken") || strings.Contains(resp, out.SignedToken[:20]) {
		t.Errorf("recorded %v, response %s: want the checkout without its signed token", p.Recorded(), resp)
	}
}

// TestCheckoutLicense_Concurrent checks that concurrent checkouts never take more than MaxCount.
func TestCheckoutLicense_Concurrent(t *testing.T) {
	f := newCheckoutFixture(t)
	arn := f.create(seatLicenseInput("DM", 7))
	const callers = 60
	var ok, refused atomic.Int64
	done := make(chan struct{})
	for i := range callers {
		go func() {
			defer func() { done <- struct{}{} }()
			_, err := f.svc.CheckoutLicense(f.ctx, f.issuer, seatCheckoutInput("DM", fmt.Sprint("cc-", i), 1))
			switch {
			case err == nil:
				ok.Add(1)
			case awserr.Code(err) == ErrNoEntitlementsAllowed:
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	for range callers {
		<-done
	}
	if ok.Load() != 7 || refused.Load() != callers-7 {
		t.Errorf("%d checkouts succeeded and %d were refused, want 7 and %d", ok.Load(), refused.Load(), callers-7)
	}
	if got := f.usage(arn); got["Seats"] != "7/7" {
		t.Errorf("usage = %v, want 7/7", got)
	}
}

func TestGetLicenseUsage_Errors(t *testing.T) {
	f := newCheckoutFixture(t)
	arn := f.create(seatLicenseInput("DM", 1))
	_, err := f.svc.GetLicenseUsage(f.ctx, f.other, &GetLicenseUsageInput{LicenseArn: arn})
	wantCheckoutErr(t, "GetLicenseUsage(another account's license)", err, ErrInvalidParameterValue, arn)
	_, err = f.svc.GetLicenseUsage(f.ctx, f.issuer, &GetLicenseUsageInput{LicenseArn: "arn:aws:iam::1:role/x"})
	wantCheckoutErr(t, "GetLicenseUsage(not a license ARN)", err, ErrValidation)
	if errors.Is(err, store.ErrNotFound) {
		t.Errorf("store error leaked")
	}
}

func TestCheckoutErrorCodesAre400(t *testing.T) {
	for _, code := range []string{ErrNoEntitlementsAllowed, ErrEntitlementNotAllowed, ErrUnsupportedDigitalSignatureMethod, ErrRedirect, ErrConflict, ErrResourceNotFound} {
		if !awsproto.KnownCode(code) || awsproto.Status(code) != 400 {
			t.Errorf("%s: known %v, status %d; want a 400 entry in awsproto's status table", code, awsproto.KnownCode(code), awsproto.Status(code))
		}
	}
}
