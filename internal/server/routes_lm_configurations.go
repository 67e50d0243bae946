package server

import (
	"context"
	"slices"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/licenseconfig"
	"github.com/allot-dev/allot/internal/licensemanager"
)

// licenseConfigurationOperations returns License Manager's self-managed license operations.
// Those on one configuration are authorized against its ARN; the others against "*".
//
// It also returns TagResource, UntagResource and ListTagsForResource, which replace
// licenseManagerOperations' (they come later in the service's list): they send configuration
// and report generator ARNs to lc and every other ARN to lm, so each service tags only what
// it owns.
func licenseConfigurationOperations(lc *licenseconfig.Service, lm *licensemanager.Service) []*Operation {
	return []*Operation{
		op("CreateLicenseConfiguration", "license-manager:CreateLicenseConfiguration", false, lc.CreateLicenseConfiguration),
		op("ListLicenseConfigurations", "license-manager:ListLicenseConfigurations", true, lc.ListLicenseConfigurations),
		op("ListLicenseConfigurationsForOrganization", "license-manager:ListLicenseConfigurationsForOrganization", true, lc.ListLicenseConfigurationsForOrganization),
		onConfiguration(op("GetLicenseConfiguration", "license-manager:GetLicenseConfiguration", true, lc.GetLicenseConfiguration),
			func(in *licenseconfig.GetLicenseConfigurationInput) string { return in.LicenseConfigurationArn }),
		onConfiguration(op("UpdateLicenseConfiguration", "license-manager:UpdateLicenseConfiguration", false, lc.UpdateLicenseConfiguration),
			func(in *licenseconfig.UpdateLicenseConfigurationInput) string { return in.LicenseConfigurationArn }),
		onConfiguration(op("DeleteLicenseConfiguration", "license-manager:DeleteLicenseConfiguration", false, lc.DeleteLicenseConfiguration),
			func(in *licenseconfig.DeleteLicenseConfigurationInput) string { return in.LicenseConfigurationArn }),
		onConfiguration(op("ListAssociationsForLicenseConfiguration", "license-manager:ListAssociationsForLicenseConfiguration", true, lc.ListAssociationsForLicenseConfiguration),
			func(in *licenseconfig.ListAssociationsForLicenseConfigurationInput) string {
				return in.LicenseConfigurationArn
			}),
		onConfiguration(op("ListUsageForLicenseConfiguration", "license-manager:ListUsageForLicenseConfiguration", true, lc.ListUsageForLicenseConfiguration),
			func(in *licenseconfig.ListUsageForLicenseConfigurationInput) string {
				return in.LicenseConfigurationArn
			}),
		onConfiguration(op("ListFailuresForLicenseConfigurationOperations", "license-manager:ListFailuresForLicenseConfigurationOperations", true, lc.ListFailuresForLicenseConfigurationOperations),
			func(in *licenseconfig.ListFailuresForLicenseConfigurationOperationsInput) string {
				return in.LicenseConfigurationArn
			}),
		onConfigurations(op("UpdateLicenseSpecificationsForResource", "license-manager:UpdateLicenseSpecificationsForResource", false, lc.UpdateLicenseSpecificationsForResource),
			func(in *licenseconfig.UpdateLicenseSpecificationsForResourceInput) []string {
				var arns []string
				for _, l := range [][]licenseconfig.LicenseSpecification{in.AddLicenseSpecifications, in.RemoveLicenseSpecifications} {
					for _, sp := range l {
						if sp.LicenseConfigurationArn != nil {
							arns = append(arns, *sp.LicenseConfigurationArn)
						}
					}
				}
				return arns
			}),
		op("ListLicenseSpecificationsForResource", "license-manager:ListLicenseSpecificationsForResource", true, lc.ListLicenseSpecificationsForResource),
		op("ListResourceInventory", "license-manager:ListResourceInventory", true, lc.ListResourceInventory),
		op("GetServiceSettings", "license-manager:GetServiceSettings", true, lc.GetServiceSettings),
		op("UpdateServiceSettings", "license-manager:UpdateServiceSettings", false, lc.UpdateServiceSettings),

		onAnyTagged(op("TagResource", "license-manager:TagResource", false,
			func(ctx context.Context, caller *identity.Principal, in *licensemanager.TagResourceInput) (*licensemanager.TagResourceOutput, error) {
				if !isSelfManagedARN(in.ResourceArn) {
					return lm.TagResource(ctx, caller, in)
				}
				tags := make([]licenseconfig.Tag, len(in.Tags))
				for i, t := range in.Tags {
					tags[i] = licenseconfig.Tag{Key: t.Key, Value: t.Value}
				}
				if err := tagSelfManaged(lc, in.ResourceArn)(ctx, caller, in.ResourceArn, tags); err != nil {
					return nil, err
				}
				return &licensemanager.TagResourceOutput{}, nil
			}), func(in *licensemanager.TagResourceInput) string { return in.ResourceArn }),
		onAnyTagged(op("UntagResource", "license-manager:UntagResource", false,
			func(ctx context.Context, caller *identity.Principal, in *licensemanager.UntagResourceInput) (*licensemanager.UntagResourceOutput, error) {
				if !isSelfManagedARN(in.ResourceArn) {
					return lm.UntagResource(ctx, caller, in)
				}
				if err := untagSelfManaged(lc, in.ResourceArn)(ctx, caller, in.ResourceArn, in.TagKeys); err != nil {
					return nil, err
				}
				return &licensemanager.UntagResourceOutput{}, nil
			}), func(in *licensemanager.UntagResourceInput) string { return in.ResourceArn }),
		onAnyTagged(op("ListTagsForResource", "license-manager:ListTagsForResource", true,
			func(ctx context.Context, caller *identity.Principal, in *licensemanager.ListTagsForResourceInput) (*licensemanager.ListTagsForResourceOutput, error) {
				if !isSelfManagedARN(in.ResourceArn) {
					return lm.ListTagsForResource(ctx, caller, in)
				}
				tags, err := listTagsSelfManaged(lc, in.ResourceArn)(ctx, caller, in.ResourceArn)
				if err != nil {
					return nil, err
				}
				out := &licensemanager.ListTagsForResourceOutput{Tags: make([]licensemanager.Tag, len(tags))}
				for i, t := range tags {
					out.Tags[i] = licensemanager.Tag{Key: t.Key, Value: t.Value}
				}
				return out, nil
			}), func(in *licensemanager.ListTagsForResourceInput) string { return in.ResourceArn }),
	}
}

// onConfiguration authorizes o against the license configuration ARN its input names ("*"
// for a malformed one, which the operation refuses).
func onConfiguration[In any](o *Operation, arn func(*In) string) *Operation {
	o.Resource = func(_ context.Context, _ *identity.Principal, in any) (string, string) {
		if a := arn(in.(*In)); licenseconfig.IsConfigurationARN(a) {
			return a, ""
		}
		return "*", ""
	}
	return o
}

// onConfigurations authorizes o against each license configuration ARN its input names, as
// the Service Authorization Reference lists the license-configuration resource type for it
// ("*" when it names none well-formed: the operation refuses malformed ones).
func onConfigurations[In any](o *Operation, arns func(*In) []string) *Operation {
	valid := func(in any) []string {
		var out []string
		for _, a := range arns(in.(*In)) {
			if licenseconfig.IsConfigurationARN(a) && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
		return out
	}
	o.Resource = func(_ context.Context, _ *identity.Principal, in any) (string, string) {
		if v := valid(in); len(v) > 0 {
			return v[0], ""
		}
		return "*", ""
	}
	o.MoreResources = func(_ context.Context, _ *identity.Principal, in any) []string {
		if v := valid(in); len(v) > 1 {
			return v[1:]
		}
		return nil
	}
	return o
}

// onAnyTagged authorizes a tag operation against the configuration or report generator ARN it
// names, or as onTagged does for licenses and grants.
func onAnyTagged[In any](o *Operation, arn func(*In) string) *Operation {
	o = onTagged(o, arn)
	license := o.Resource
	o.Resource = func(ctx context.Context, caller *identity.Principal, in any) (string, string) {
		if a := arn(in.(*In)); isSelfManagedARN(a) {
			return a, ""
		}
		return license(ctx, caller, in)
	}
	return o
}
