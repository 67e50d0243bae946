package server

import "github.com/allot-dev/allot/internal/licensemanager"

// tokenOperations returns License Manager's token operations, for consumers without an
// account of their own. CreateToken is authorized against the license's ARN, ListTokens and
// DeleteToken against "*", as the Service Authorization Reference lists them. GetAccessToken
// is authenticated by the refresh token it carries: AWS's clients send it unsigned (as
// AssumeRoleWithWebIdentity), and then only the token decides; a signed call is authorized
// against "*" as usual.
func tokenOperations(s *licensemanager.Service) []*Operation {
	return []*Operation{
		onLicense(op("CreateToken", "license-manager:CreateToken", false, s.CreateToken), func(in *licensemanager.CreateTokenInput) string { return in.LicenseArn }),
		op("ListTokens", "license-manager:ListTokens", true, s.ListTokens),
		op("DeleteToken", "license-manager:DeleteToken", false, s.DeleteToken),
		tokenAuthenticated(op("GetAccessToken", "license-manager:GetAccessToken", false, s.GetAccessToken)),
	}
}
