package server

import (
	"context"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/licensemanager"
)

// licenseManagerOperations returns License Manager's operations. Those on one license or
// grant (the tag operations included) are authorized against its ARN; CreateLicense and
// ListLicenses against "*", as the Service Authorization Reference lists them.
func licenseManagerOperations(s *licensemanager.Service) []*Operation {
	ops := []*Operation{
		op("CreateLicense", "license-manager:CreateLicense", false, s.CreateLicense),
		op("ListLicenses", "license-manager:ListLicenses", true, s.ListLicenses),
		onLicense(op("GetLicense", "license-manager:GetLicense", true, s.GetLicense), func(in *licensemanager.GetLicenseInput) string { return in.LicenseArn }),
		onLicense(op("CreateLicenseVersion", "license-manager:CreateLicenseVersion", false, s.CreateLicenseVersion), func(in *licensemanager.CreateLicenseVersionInput) string { return in.LicenseArn }),
		onLicense(op("ListLicenseVersions", "license-manager:ListLicenseVersions", true, s.ListLicenseVersions), func(in *licensemanager.ListLicenseVersionsInput) string { return in.LicenseArn }),
		onLicense(op("DeleteLicense", "license-manager:DeleteLicense", false, s.DeleteLicense), func(in *licensemanager.DeleteLicenseInput) string { return in.LicenseArn }),
		onTagged(op("TagResource", "license-manager:TagResource", false, s.TagResource), func(in *licensemanager.TagResourceInput) string { return in.ResourceArn }),
		onTagged(op("UntagResource", "license-manager:UntagResource", false, s.UntagResource), func(in *licensemanager.UntagResourceInput) string { return in.ResourceArn }),
		onTagged(op("ListTagsForResource", "license-manager:ListTagsForResource", true, s.ListTagsForResource), func(in *licensemanager.ListTagsForResourceInput) string { return in.ResourceArn }),
	}
	ops = append(ops, grantOperations(s)...)
	ops = append(ops, checkoutOperations(s)...)
	return append(ops, tokenOperations(s)...)
}

// onLicense authorizes o against the license ARN its input names. License Manager resources
// have no resource policies: when the license is another account's, the grant that brought
// it is the other side of the cross-account use, and the operation checks it, so only the
// caller's own policies decide here.
func onLicense[In any](o *Operation, arn func(*In) string) *Operation {
	o.Resource = func(_ context.Context, _ *identity.Principal, in any) (string, string) {
		resource, _ := licensemanager.LicenseResource(arn(in.(*In)))
		return resource, ""
	}
	return o
}

// onTagged authorizes o against the license or grant ARN its input names, as onLicense does.
func onTagged[In any](o *Operation, arn func(*In) string) *Operation {
	o.Resource = func(_ context.Context, _ *identity.Principal, in any) (string, string) {
		a := arn(in.(*In))
		if resource, _ := licensemanager.LicenseResource(a); resource != "*" {
			return resource, ""
		}
		return licensemanager.GrantResource(a), ""
	}
	return o
}
