package server

import (
	"github.com/allot-dev/allot/internal/licenseconfig"
)

// allotLicenseManagerOperations returns Allot's own License Manager operations, which AWS
// does not have: the license dashboard and the alert list. They are a service of their own
// (X-Amz-Target prefix AllotLicenseManager) so that no AWS client mistakes them for AWS's,
// signed for license-manager so that the same credentials and policies apply, and named
// license-manager:<Operation> in policies.
//
// ListLicenseConfigurationAlerts is authorized against the configuration ARN it names, as the
// other operations on one configuration are, and against "*" without one; GetLicenseDashboard
// reads many configurations, as ListLicenseConfigurations does, and is authorized against "*".
func allotLicenseManagerOperations(lc *licenseconfig.Service) []*Operation {
	return []*Operation{
		onConfiguration(op("ListLicenseConfigurationAlerts", "license-manager:ListLicenseConfigurationAlerts", true, lc.ListLicenseConfigurationAlerts),
			func(in *licenseconfig.ListLicenseConfigurationAlertsInput) string {
				if in.LicenseConfigurationArn == nil {
					return ""
				}
				return *in.LicenseConfigurationArn
			}),
		op("GetLicenseDashboard", "license-manager:GetLicenseDashboard", true, lc.GetLicenseDashboard),
	}
}
