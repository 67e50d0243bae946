package ssm

import "github.com/allot-dev/allot/internal/awstime"

// The structures below are SSM's shapes, with AWS's member names. Timestamps in them
// (LastPingDateTime, RegistrationDate) are epoch seconds on the wire.

// InventoryItem is the inventory of one type that PutInventory reports.
type InventoryItem struct {
	TypeName      string
	SchemaVersion string
	CaptureTime   string
	ContentHash   *string             `json:",omitempty"`
	Content       []map[string]string `json:",omitempty"`
	Context       map[string]string   `json:",omitempty"`
}

// PutInventoryInput is the input of PutInventory.
type PutInventoryInput struct {
	InstanceId string
	Items      []InventoryItem
}

// PutInventoryOutput is the output of PutInventory.
type PutInventoryOutput struct {
	Message *string `json:",omitempty"`
}

// InstanceInformationFilter is a filter of DescribeInstanceInformation's deprecated
// InstanceInformationFilterList.
type InstanceInformationFilter struct {
	Key      string
	ValueSet []string
}

// InstanceInformationStringFilter is a filter of DescribeInstanceInformation.
type InstanceInformationStringFilter struct {
	Key    string
	Values []string
}

// DescribeInstanceInformationInput is the input of DescribeInstanceInformation.
type DescribeInstanceInformationInput struct {
	InstanceInformationFilterList []InstanceInformationFilter
	Filters                       []InstanceInformationStringFilter
	MaxResults                    *int32
	NextToken                     *string
}

// InstanceInformation describes a managed instance.
type InstanceInformation struct {
	InstanceId       string
	PingStatus       string
	LastPingDateTime *awstime.Epoch `json:",omitempty"`
	AgentVersion     string         `json:",omitempty"`
	PlatformType     string         `json:",omitempty"`
	PlatformName     string         `json:",omitempty"`
	PlatformVersion  string         `json:",omitempty"`
	ResourceType     string
	IPAddress        string         `json:",omitempty"`
	ComputerName     string         `json:",omitempty"`
	Name             string         `json:",omitempty"`
	RegistrationDate *awstime.Epoch `json:",omitempty"`
}

// DescribeInstanceInformationOutput is the output of DescribeInstanceInformation.
type DescribeInstanceInformationOutput struct {
	InstanceInformationList []InstanceInformation
	NextToken               *string `json:",omitempty"`
}

// InventoryFilter selects inventory entries by an attribute.
type InventoryFilter struct {
	Key    string
	Values []string
	Type   *string `json:",omitempty"` // Equal (the default), NotEqual, BeginWith, LessThan, GreaterThan, Exists
}

// ListInventoryEntriesInput is the input of ListInventoryEntries.
type ListInventoryEntriesInput struct {
	InstanceId string
	TypeName   string
	Filters    []InventoryFilter
	MaxResults *int32
	NextToken  *string
}

// ListInventoryEntriesOutput is the output of ListInventoryEntries.
type ListInventoryEntriesOutput struct {
	TypeName      string
	InstanceId    string
	SchemaVersion string `json:",omitempty"`
	CaptureTime   string `json:",omitempty"`
	Entries       []map[string]string
	NextToken     *string `json:",omitempty"`
}

// DeregisterManagedInstanceInput is the input of DeregisterManagedInstance.
type DeregisterManagedInstanceInput struct {
	InstanceId string
}

// DeregisterManagedInstanceOutput is the output of DeregisterManagedInstance: empty.
type DeregisterManagedInstanceOutput struct{}
