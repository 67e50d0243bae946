package server

import "github.com/allot-dev/allot/internal/licensemanager"

// checkoutOperations returns License Manager's consumption operations: checkouts,
// extensions, check-ins and usage. CheckoutLicense, CheckInLicense and
// ExtendLicenseConsumption support no resource-level permission and are authorized against
// "*"; CheckoutBorrowLicense and GetLicenseUsage against the license's ARN.
func checkoutOperations(s *licensemanager.Service) []*Operation {
	return []*Operation{
		op("CheckoutLicense", "license-manager:CheckoutLicense", false, s.CheckoutLicense),
		onLicense(op("CheckoutBorrowLicense", "license-manager:CheckoutBorrowLicense", false, s.CheckoutBorrowLicense),
			func(in *licensemanager.CheckoutBorrowLicenseInput) string { return in.LicenseArn }),
		op("CheckInLicense", "license-manager:CheckInLicense", false, s.CheckInLicense),
		op("ExtendLicenseConsumption", "license-manager:ExtendLicenseConsumption", false, s.ExtendLicenseConsumption),
		onLicense(op("GetLicenseUsage", "license-manager:GetLicenseUsage", true, s.GetLicenseUsage),
			func(in *licensemanager.GetLicenseUsageInput) string { return in.LicenseArn }),
	}
}
