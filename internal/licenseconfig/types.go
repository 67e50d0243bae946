package licenseconfig

import "github.com/allot-dev/allot/internal/awstime"

// The structures below are License Manager's shapes, with AWS's member names. Timestamps in
// them (AssociationTime, FailureTime, LastRunTime) are epoch seconds on the wire.

// Tag is a tag of a license configuration.
type Tag struct {
	Key   *string `json:",omitempty"`
	Value *string `json:",omitempty"`
}

// Filter selects items by a member's values.
type Filter struct {
	Name   *string  `json:",omitempty"`
	Values []string `json:",omitempty"`
}

// InventoryFilter selects resources of the inventory.
type InventoryFilter struct {
	Name      *string `json:",omitempty"`
	Condition *string `json:",omitempty"`
	Value     *string `json:",omitempty"`
}

// ProductInformationFilter is one condition of automated discovery.
type ProductInformationFilter struct {
	ProductInformationFilterName       *string  `json:",omitempty"`
	ProductInformationFilterValue      []string `json:",omitempty"`
	ProductInformationFilterComparator *string  `json:",omitempty"`
}

// ProductInformation describes software that automated discovery associates.
type ProductInformation struct {
	ResourceType                 *string                    `json:",omitempty"`
	ProductInformationFilterList []ProductInformationFilter `json:",omitempty"`
}

// ConsumedLicenseSummary is what the resources of one type consume of a configuration.
type ConsumedLicenseSummary struct {
	ResourceType     string
	ConsumedLicenses int64
}

// ManagedResourceSummary counts the resources of one type associated with a configuration.
type ManagedResourceSummary struct {
	ResourceType     string
	AssociationCount int64
}

// AutomatedDiscoveryInformation says when automated discovery last ran.
type AutomatedDiscoveryInformation struct {
	LastRunTime *awstime.Epoch `json:",omitempty"`
}

// LicenseConfiguration is a license configuration as the list and get operations show it.
type LicenseConfiguration struct {
	LicenseConfigurationId        string
	LicenseConfigurationArn       string
	Name                          string
	Description                   string `json:",omitempty"`
	LicenseCountingType           string
	LicenseRules                  []string
	LicenseCount                  *int64 `json:",omitempty"`
	LicenseCountHardLimit         bool
	DisassociateWhenNotFound      bool
	ConsumedLicenses              int64
	Status                        string
	OwnerAccountId                string
	ConsumedLicenseSummaryList    []ConsumedLicenseSummary
	ManagedResourceSummaryList    []ManagedResourceSummary
	ProductInformationList        []ProductInformation           `json:",omitempty"`
	AutomatedDiscoveryInformation *AutomatedDiscoveryInformation `json:",omitempty"`
	LicenseExpiry                 *int64                         `json:",omitempty"`
}

// LicenseSpecification names a configuration to associate with a resource.
type LicenseSpecification struct {
	LicenseConfigurationArn *string `json:",omitempty"`
	AmiAssociationScope     *string `json:",omitempty"`
}

// LicenseConfigurationAssociation is a resource associated with a configuration.
type LicenseConfigurationAssociation struct {
	ResourceArn         string
	ResourceType        string
	ResourceOwnerId     string
	AssociationTime     awstime.Epoch
	AmiAssociationScope string `json:",omitempty"`
}

// LicenseConfigurationUsage is what one resource consumes of a configuration.
type LicenseConfigurationUsage struct {
	ResourceArn      string
	ResourceType     string
	ResourceStatus   string
	ResourceOwnerId  string
	AssociationTime  awstime.Epoch
	ConsumedLicenses int64
}

// Metadata is a name and value (reserved in LicenseOperationFailure).
type Metadata struct {
	Name  *string `json:",omitempty"`
	Value *string `json:",omitempty"`
}

// LicenseOperationFailure is an operation refused against a configuration.
type LicenseOperationFailure struct {
	ResourceArn          string
	ResourceType         string
	ErrorMessage         string
	FailureTime          awstime.Epoch
	OperationName        string
	ResourceOwnerId      string
	OperationRequestedBy string
	MetadataList         []Metadata
}

// ResourceInventory is a resource of the inventory.
type ResourceInventory struct {
	ResourceId              string
	ResourceType            string
	ResourceArn             string
	Platform                string `json:",omitempty"`
	PlatformVersion         string `json:",omitempty"`
	ResourceOwningAccountId string
	MarketplaceProductCodes []string `json:",omitempty"`
	UsageOperation          string   `json:",omitempty"`
	AmiId                   string   `json:",omitempty"`
	HostId                  string   `json:",omitempty"`
	Region                  string
	InstanceType            string `json:",omitempty"`
}
