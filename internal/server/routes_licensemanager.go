package server

import (
	"context"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/licensemanager"
)

// licenseManagerOperations returns License Manager's operations. Those on one license (the
// tag operations included: licenses are the only taggable resource so far) are
// authorized against its ARN (owned by the account the ARN names); CreateLicense and
// ListLicenses against "*", as the Service Authorization Reference lists them.
func licenseManagerOperations(s *licensemanager.Service) []*Operation {
	ops := []*Operation{
		op("CreateLicense", "license-manager:CreateLicense", false, s.CreateLicense),
		op("ListLicenses", "license-manager:ListLicenses", true, s.ListLicenses),
		onLicense(op("GetLicense", "license-manager:GetLicense", true, s.GetLicense), func(in *licensemanager.GetLicenseInput) string { return in.LicenseArn }),
		onLicense(op("CreateLicenseVersion", "license-manager:CreateLicenseVersion", false, s.CreateLicenseVersion), func(in *licensemanager.CreateLicenseVersionInput) string { return in.LicenseArn }),
		onLicense(op("ListLicenseVersions", "license-manager:ListLicenseVersions", true, s.ListLicenseVersions), func(in *licensemanager.ListLicenseVersionsInput) string { return in.LicenseArn }),
		onLicense(op("DeleteLicense", "license-manager:DeleteLicense", false, s.DeleteLicense), func(in *licensemanager.DeleteLicenseInput) string { return in.LicenseArn }),
		onLicense(op("TagResource", "license-manager:TagResource", false, s.TagResource), func(in *licensemanager.TagResourceInput) string { return in.ResourceArn }),
		onLicense(op("UntagResource", "license-manager:UntagResource", false, s.UntagResource), func(in *licensemanager.UntagResourceInput) string { return in.ResourceArn }),
		onLicense(op("ListTagsForResource", "license-manager:ListTagsForResource", true, s.ListTagsForResource), func(in *licensemanager.ListTagsForResourceInput) string { return in.ResourceArn }),
	}
	ops = append(ops, grantOperations(s)...)
	ops = append(ops, checkoutOperations(s)...)
	return append(ops, tokenOperations(s)...)
}

// onLicense authorizes o against the license ARN its input names.
func onLicense[In any](o *Operation, arn func(*In) string) *Operation {
	o.Resource = func(_ context.Context, _ *identity.Principal, in any) (string, string) {
		return licensemanager.LicenseResource(arn(in.(*In)))
	}
	return o
}
