package server

import (
	"context"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/licensemanager"
)

// grantOperations returns License Manager's grant operations and the received-license views.
// Operations on one grant are authorized against its ARN; CreateGrant against the license's;
// the lists against "*", as the Service Authorization Reference lists them.
func grantOperations(s *licensemanager.Service) []*Operation {
	return []*Operation{
		onLicense(op("CreateGrant", "license-manager:CreateGrant", false, s.CreateGrant), func(in *licensemanager.CreateGrantInput) string { return in.LicenseArn }),
		onGrant(op("CreateGrantVersion", "license-manager:CreateGrantVersion", false, s.CreateGrantVersion), func(in *licensemanager.CreateGrantVersionInput) string { return in.GrantArn }),
		onGrant(op("GetGrant", "license-manager:GetGrant", true, s.GetGrant), func(in *licensemanager.GetGrantInput) string { return in.GrantArn }),
		onGrant(op("AcceptGrant", "license-manager:AcceptGrant", false, s.AcceptGrant), func(in *licensemanager.AcceptGrantInput) string { return in.GrantArn }),
		onGrant(op("RejectGrant", "license-manager:RejectGrant", false, s.RejectGrant), func(in *licensemanager.AcceptGrantInput) string { return in.GrantArn }),
		onGrant(op("DeleteGrant", "license-manager:DeleteGrant", false, s.DeleteGrant), func(in *licensemanager.DeleteGrantInput) string { return in.GrantArn }),
		op("ListDistributedGrants", "license-manager:ListDistributedGrants", true, s.ListDistributedGrants),
		op("ListReceivedGrants", "license-manager:ListReceivedGrants", true, s.ListReceivedGrants),
		op("ListReceivedGrantsForOrganization", "license-manager:ListReceivedGrantsForOrganization", true, s.ListReceivedGrantsForOrganization),
		op("ListReceivedLicenses", "license-manager:ListReceivedLicenses", true, s.ListReceivedLicenses),
		op("ListReceivedLicensesForOrganization", "license-manager:ListReceivedLicensesForOrganization", true, s.ListReceivedLicensesForOrganization),
	}
}

// onGrant authorizes o against the grant ARN its input names. As for licenses, the grant is
// the other side of a cross-account use, and the operation checks it: the caller's own
// policies decide here.
func onGrant[In any](o *Operation, arn func(*In) string) *Operation {
	o.Resource = func(_ context.Context, _ *identity.Principal, in any) (string, string) {
		return licensemanager.GrantResource(arn(in.(*In))), ""
	}
	return o
}
