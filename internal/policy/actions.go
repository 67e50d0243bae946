package policy

import "strings"

// wildcardOnly are the License Manager actions with no resource type in the Service
// Authorization Reference (list_awslicensemanager.html): a policy must grant them with
// "Resource": "*", and a statement naming a license ARN never matches them. CheckoutBorrowLicense
// is not among them: it requires a license resource.
var wildcardOnly = map[string]bool{
	"checkoutlicense":                          true,
	"checkinlicense":                           true,
	"extendlicenseconsumption":                 true,
	"getaccesstoken":                           true,
	"createlicense":                            true,
	"createlicenseconfiguration":               true,
	"createlicenseassetruleset":                true,
	"createlicenseconversiontaskforresource":   true,
	"createlicensemanagerreportgenerator":      true,
	"deletetoken":                              true,
	"getlicenseconversiontask":                 true,
	"getservicesettings":                       true,
	"updateservicesettings":                    true,
	"listlicenses":                             true,
	"listreceivedlicenses":                     true,
	"listreceivedlicensesfororganization":      true,
	"listreceivedgrants":                       true,
	"listreceivedgrantsfororganization":        true,
	"listdistributedgrants":                    true,
	"listlicenseconfigurations":                true,
	"listlicenseconfigurationsfororganization": true,
	"listlicensespecificationsforresource":     true,
	"listresourceinventory":                    true,
	"listtokens":                               true,
	"listlicenseconversiontasks":               true,
}

// WildcardOnly reports whether action (case-insensitive) is a License Manager action without a
// resource type, which callers must evaluate with Request.Resource "*".
func WildcardOnly(action string) bool {
	prefix, name, ok := strings.Cut(action, ":")
	if !ok || !strings.EqualFold(prefix, "license-manager") {
		return false
	}
	return wildcardOnly[strings.ToLower(name)]
}
