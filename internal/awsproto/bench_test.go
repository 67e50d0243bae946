package awsproto_test

import (
	"testing"

	"github.com/allot-dev/allot/internal/awsproto"
	"github.com/allot-dev/allot/internal/licensemanager"
)

// checkoutBody is a CheckoutLicense request as the AWS SDK for Go sends it.
const checkoutBody = `{"Beneficiary":"cust-1","CheckoutType":"PROVISIONAL","ClientToken":"6f1c2d7e-0b4a-4c1e-9a57-2f0e8d3c4b5a",` +
	`"Entitlements":[{"Name":"Seats","Unit":"Count","Value":"1"}],"KeyFingerprint":"aws:123456789012:Vendor:issuer-fingerprint",` +
	`"NodeId":"node-1","ProductSKU":"DM-ENTERPRISE"}`

// BenchmarkDecodeCheckoutLicense decodes a CheckoutLicense request body into its input.
func BenchmarkDecodeCheckoutLicense(b *testing.B) {
	body := []byte(checkoutBody)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var in licensemanager.CheckoutLicenseInput
		if err := awsproto.DecodeJSON(body, &in); err != nil {
			b.Fatal(err)
		}
	}
}
