package licensemanager

import (
	"testing"
)

// TestCheckoutLicense_CachedLicenseChanges checks that the cache of reachable licenses never
// lets a checkout use a license state older than the last change committed through the
// service: a new version that deactivates the license refuses the very next checkout, and
// one that makes it available again allows it.
func TestCheckoutLicense_CachedLicenseChanges(t *testing.T) {
	f := newCheckoutFixture(t)
	arn := f.create(seatLicenseInput("DM-CACHE", 10))
	for i := range 3 { // warm the cache
		f.checkout(seatCheckoutInput("DM-CACHE", "cache-"+itoa(int64(i)), 1))
	}
	version := func(status, token string) {
		t.Helper()
		in := seatLicenseInput("DM-CACHE", 10)
		_, err := f.svc.CreateLicenseVersion(f.ctx, f.issuer, &CreateLicenseVersionInput{LicenseArn: arn, LicenseName: in.LicenseName,
			ProductName: in.ProductName, Issuer: in.Issuer, HomeRegion: in.HomeRegion, Validity: in.Validity, Entitlements: in.Entitlements,
			ConsumptionConfiguration: in.ConsumptionConfiguration, Status: status, ClientToken: token})
		if err != nil {
			t.Fatalf("CreateLicenseVersion(%s): %v", status, err)
		}
	}
	version(StatusDeactivated, "v-off")
	_, err := f.svc.CheckoutLicense(f.ctx, f.issuer, seatCheckoutInput("DM-CACHE", "cache-off", 1))
	wantCheckoutErr(t, "CheckoutLicense of a deactivated license", err, ErrNoEntitlementsAllowed, "DEACTIVATED")
	version(StatusAvailable, "v-on")
	f.checkout(seatCheckoutInput("DM-CACHE", "cache-on", 1))
	if got := f.usage(arn)["Seats"]; got != "4/10" {
		t.Errorf("usage = %s, want 4/10", got)
	}
}

// TestConsumptionTokenShard checks that a consumption token carries the shard of its
// license, which routes its check-in to the writer its checkout went to.
func TestConsumptionTokenShard(t *testing.T) {
	arn := LicenseARN("111122223333", newLicenseID())
	tok := newConsumptionToken(licenseShard(arn))
	if len(tok) != 32 || tokenShard(tok) != licenseShard(arn) {
		t.Errorf("token %q has shard %d, want 32 hex digits and shard %d", tok, tokenShard(tok), licenseShard(arn))
	}
	if tokenShard("not a token") != -1 || tokenShard("zz"+tok[2:12]+"zz"+tok[14:]) != -1 {
		t.Error("tokenShard of a foreign token is not -1")
	}
	if a, b := newConsumptionToken(1), newConsumptionToken(1); a == b || a[14:] == b[14:] {
		t.Errorf("two tokens %q and %q share their random part", a, b)
	}
}
