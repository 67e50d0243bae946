package licensemanager

import "github.com/allot-dev/allot/internal/awstime"

// The structures below are License Manager's shapes, with AWS's member names. Dates in them
// are ISO 8601 strings, as the ISO8601DateTime members are on the wire.

// Issuer names the issuer of a new license and the kind of key it signs with.
type Issuer struct {
	Name    string
	SignKey string `json:",omitempty"`
}

// IssuerDetails is a license's issuer as outputs show it.
type IssuerDetails struct {
	Name           string
	SignKey        string `json:",omitempty"`
	KeyFingerprint string
}

// DatetimeRange is a validity window; End is optional.
type DatetimeRange struct {
	Begin *string `json:",omitempty"`
	End   *string `json:",omitempty"`
}

// Entitlement is a right a license grants: a count (MaxCount) or a value (Unit None).
type Entitlement struct {
	Name         *string `json:",omitempty"`
	Value        *string `json:",omitempty"`
	MaxCount     *int64  `json:",omitempty"`
	Overage      *bool   `json:",omitempty"`
	Unit         *string `json:",omitempty"`
	AllowCheckIn *bool   `json:",omitempty"`
}

// ProvisionalConfiguration bounds provisional checkouts.
type ProvisionalConfiguration struct {
	MaxTimeToLiveInMinutes *int32 `json:",omitempty"`
}

// BorrowConfiguration bounds borrowed (offline) checkouts.
type BorrowConfiguration struct {
	AllowEarlyCheckIn      *bool  `json:",omitempty"`
	MaxTimeToLiveInMinutes *int32 `json:",omitempty"`
}

// ConsumptionConfiguration says how a license's entitlements are consumed.
type ConsumptionConfiguration struct {
	RenewType                *string                   `json:",omitempty"`
	ProvisionalConfiguration *ProvisionalConfiguration `json:",omitempty"`
	BorrowConfiguration      *BorrowConfiguration      `json:",omitempty"`
}

// Metadata is a name and value of a license's metadata.
type Metadata struct {
	Name  *string `json:",omitempty"`
	Value *string `json:",omitempty"`
}

// Tag is a tag of a license.
type Tag struct {
	Key   *string `json:",omitempty"`
	Value *string `json:",omitempty"`
}

// Filter selects licenses by a member's values.
type Filter struct {
	Name   *string  `json:",omitempty"`
	Values []string `json:",omitempty"`
}

// License is one version of a managed license.
type License struct {
	LicenseArn               string
	LicenseName              string
	ProductName              string
	ProductSKU               string
	Issuer                   IssuerDetails
	HomeRegion               string
	Status                   string
	Validity                 DatetimeRange
	Beneficiary              string
	Entitlements             []Entitlement
	ConsumptionConfiguration ConsumptionConfiguration
	LicenseMetadata          []Metadata `json:",omitempty"`
	CreateTime               awstime.ISO8601
	Version                  string
}
