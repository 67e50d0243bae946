package server

import (
	"context"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/licenseconfig"
)

// reportGeneratorOperations returns License Manager's report generator operations. Those on
// one generator are authorized against its ARN; create and list against "*".
func reportGeneratorOperations(lc *licenseconfig.Service) []*Operation {
	return []*Operation{
		op("CreateLicenseManagerReportGenerator", "license-manager:CreateLicenseManagerReportGenerator", false, lc.CreateLicenseManagerReportGenerator),
		op("ListLicenseManagerReportGenerators", "license-manager:ListLicenseManagerReportGenerators", true, lc.ListLicenseManagerReportGenerators),
		onReportGenerator(op("GetLicenseManagerReportGenerator", "license-manager:GetLicenseManagerReportGenerator", true, lc.GetLicenseManagerReportGenerator),
			func(in *licenseconfig.GetLicenseManagerReportGeneratorInput) string {
				return in.LicenseManagerReportGeneratorArn
			}),
		onReportGenerator(op("UpdateLicenseManagerReportGenerator", "license-manager:UpdateLicenseManagerReportGenerator", false, lc.UpdateLicenseManagerReportGenerator),
			func(in *licenseconfig.UpdateLicenseManagerReportGeneratorInput) string {
				return in.LicenseManagerReportGeneratorArn
			}),
		onReportGenerator(op("DeleteLicenseManagerReportGenerator", "license-manager:DeleteLicenseManagerReportGenerator", false, lc.DeleteLicenseManagerReportGenerator),
			func(in *licenseconfig.DeleteLicenseManagerReportGeneratorInput) string {
				return in.LicenseManagerReportGeneratorArn
			}),
	}
}

// onReportGenerator authorizes o against the report generator ARN its input names ("*" for
// a malformed one, which the operation refuses).
func onReportGenerator[In any](o *Operation, arn func(*In) string) *Operation {
	o.Resource = func(_ context.Context, _ *identity.Principal, in any) (string, string) {
		if a := arn(in.(*In)); licenseconfig.IsReportGeneratorARN(a) {
			return a, ""
		}
		return "*", ""
	}
	return o
}

// isSelfManagedARN reports whether arn names a license configuration or a report generator:
// the resources whose tags the licenseconfig service keeps.
func isSelfManagedARN(arn string) bool {
	return licenseconfig.IsConfigurationARN(arn) || licenseconfig.IsReportGeneratorARN(arn)
}

// tagSelfManaged returns the TagResource of the self-managed resource arn names.
func tagSelfManaged(lc *licenseconfig.Service, arn string) func(ctx context.Context, caller *identity.Principal, arn string, tags []licenseconfig.Tag) error {
	if licenseconfig.IsReportGeneratorARN(arn) {
		return lc.TagReportGenerator
	}
	return lc.TagResource
}

// untagSelfManaged returns the UntagResource of the self-managed resource arn names.
func untagSelfManaged(lc *licenseconfig.Service, arn string) func(ctx context.Context, caller *identity.Principal, arn string, keys []string) error {
	if licenseconfig.IsReportGeneratorARN(arn) {
		return lc.UntagReportGenerator
	}
	return lc.UntagResource
}

// listTagsSelfManaged returns the ListTagsForResource of the self-managed resource arn names.
func listTagsSelfManaged(lc *licenseconfig.Service, arn string) func(ctx context.Context, caller *identity.Principal, arn string) ([]licenseconfig.Tag, error) {
	if licenseconfig.IsReportGeneratorARN(arn) {
		return lc.ReportGeneratorTags
	}
	return lc.ListTagsForResource
}
