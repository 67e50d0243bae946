package server

import (
	"github.com/allot-dev/allot/internal/awsproto"
	"github.com/allot-dev/allot/internal/cloudtrail"
	"github.com/allot-dev/allot/internal/ec2"
	"github.com/allot-dev/allot/internal/iam"
	"github.com/allot-dev/allot/internal/licenseconfig"
	"github.com/allot-dev/allot/internal/licensemanager"
	"github.com/allot-dev/allot/internal/organizations"
	"github.com/allot-dev/allot/internal/ssm"
	"github.com/allot-dev/allot/internal/sts"
)

// Services are the domain services the server exposes.
type Services struct {
	STS            *sts.Service
	IAM            *iam.Service
	Organizations  *organizations.Service
	CloudTrail     *cloudtrail.Service
	LicenseManager *licensemanager.Service
	// LicenseConfigurations answers License Manager's self-managed license operations.
	LicenseConfigurations *licenseconfig.Service
	EC2                   *ec2.Service // the EC2 subset launches go through
	SSM                   *ssm.Service // the Systems Manager subset the inventory agent reports through
}

// services returns the table of every service and operation the server dispatches. Each
// operation names the IAM action that authorises it.
func services(s Services) []*Service {
	return []*Service{
		newService(Service{
			Name: "sts", Protocol: ProtocolQuery, SigningName: "sts", Version: "2011-06-15",
			XMLNamespace: awsproto.STSNamespace, EventSource: "sts.amazonaws.com", InternalCode: "InternalFailure",
		},
			unauthorized(op("GetCallerIdentity", "sts:GetCallerIdentity", true, s.STS.GetCallerIdentity)),
			unauthorized(op("AssumeRole", "sts:AssumeRole", false, s.STS.AssumeRole)),
			unauthorized(op("GetSessionToken", "sts:GetSessionToken", false, s.STS.GetSessionToken)),
			// Signed by any valid key; the web identity token and the role's trust policy decide.
			tokenAuthenticated(unauthorized(op("AssumeRoleWithWebIdentity", "sts:AssumeRoleWithWebIdentity", false, s.STS.AssumeRoleWithWebIdentity))),
		),
		newService(Service{
			Name: "iam", Protocol: ProtocolQuery, SigningName: "iam", Version: "2010-05-08",
			XMLNamespace: awsproto.IAMNamespace, EventSource: "iam.amazonaws.com", InternalCode: "ServiceFailure",
		}, iamOperations(s.IAM)...),
		newService(Service{
			Name: "license-manager", Protocol: ProtocolJSON, SigningName: "license-manager", TargetPrefix: "AWSLicenseManager",
			EventSource: "license-manager.amazonaws.com", InternalCode: "ServerInternalException",
		}, append(append(licenseManagerOperations(s.LicenseManager), licenseConfigurationOperations(s.LicenseConfigurations, s.LicenseManager)...), reportGeneratorOperations(s.LicenseConfigurations)...)...),
		// Allot's extensions to License Manager (routes_allot.go): same signing name, own target prefix.
		newService(Service{
			Name: "allot-license-manager", Protocol: ProtocolJSON, SigningName: "license-manager", TargetPrefix: "AllotLicenseManager",
			EventSource: "license-manager.amazonaws.com", InternalCode: "ServerInternalException",
		}, allotLicenseManagerOperations(s.LicenseConfigurations)...),
		newService(Service{
			Name: "ec2", Protocol: ProtocolEC2, SigningName: "ec2", Version: "2016-11-15",
			XMLNamespace: awsproto.EC2Namespace, EventSource: "ec2.amazonaws.com", InternalCode: "InternalError",
		}, ec2Operations(s.EC2)...),
		newService(Service{
			Name: "ssm", Protocol: ProtocolJSON, SigningName: "ssm", TargetPrefix: "AmazonSSM",
			EventSource: "ssm.amazonaws.com", InternalCode: ssm.ErrInternalServer,
		}, ssmOperations(s.SSM)...),
		newService(Service{
			Name: "organizations", Protocol: ProtocolJSON, SigningName: "organizations", TargetPrefix: "AWSOrganizationsV20161128",
			EventSource: "organizations.amazonaws.com", InternalCode: "ServiceException",
		}, organizationsOperations(s.Organizations)...),
		newService(Service{
			Name: "cloudtrail", Protocol: ProtocolJSON, SigningName: "cloudtrail",
			TargetPrefix:  "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101",
			TargetAliases: []string{"CloudTrail_20131101"},
			EventSource:   "cloudtrail.amazonaws.com", InternalCode: "InternalFailure",
		},
			op("LookupEvents", "cloudtrail:LookupEvents", true, s.CloudTrail.LookupEvents),
		),
	}
}

func tokenAuthenticated(o *Operation) *Operation {
	o.TokenAuthenticated = true
	return o
}

func unauthorized(o *Operation) *Operation {
	o.Unauthorized = true
	return o
}
