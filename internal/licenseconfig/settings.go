package licenseconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// OrganizationConfiguration is License Manager's Organizations integration switch.
type OrganizationConfiguration struct {
	EnableIntegration bool `json:"EnableIntegration"`
}

// GetServiceSettingsInput has no members: the SDKs send {}.
type GetServiceSettingsInput struct{}

// GetServiceSettingsOutput is the caller's settings in the request's region.
type GetServiceSettingsOutput struct {
	S3BucketArn                    string                    `json:"S3BucketArn,omitempty"`
	SnsTopicArn                    string                    `json:"SnsTopicArn,omitempty"`
	OrganizationConfiguration      OrganizationConfiguration `json:"OrganizationConfiguration"`
	EnableCrossAccountsDiscovery   bool                      `json:"EnableCrossAccountsDiscovery"`
	LicenseManagerResourceShareArn string                    `json:"LicenseManagerResourceShareArn,omitempty"`
}

// UpdateServiceSettingsInput changes the members it sets and leaves the others as they are.
type UpdateServiceSettingsInput struct {
	S3BucketArn                   *string                    `json:"S3BucketArn"`
	SnsTopicArn                   *string                    `json:"SnsTopicArn"`
	OrganizationConfiguration     *OrganizationConfiguration `json:"OrganizationConfiguration"`
	EnableCrossAccountsDiscovery  *bool                      `json:"EnableCrossAccountsDiscovery"`
	EnabledDiscoverySourceRegions []string                   `json:"EnabledDiscoverySourceRegions"`
}

// UpdateServiceSettingsOutput has no members.
type UpdateServiceSettingsOutput struct{}

// ServiceSettings is what is stored for one account in one region.
type ServiceSettings struct {
	S3BucketArn                  string `json:"s3BucketArn,omitempty"`
	SnsTopicArn                  string `json:"snsTopicArn,omitempty"`
	EnableIntegration            bool   `json:"enableIntegration,omitempty"`
	EnableCrossAccountsDiscovery bool   `json:"enableCrossAccountsDiscovery,omitempty"`
}

var (
	// The User Guide (Settings) requires the service's naming for both.
	snsTopicARNPattern = regexp.MustCompile(`^arn:aws:sns:[a-z0-9-]+:\d{12}:aws-license-manager-service-[A-Za-z0-9_-]{1,228}$`)
	s3BucketARNPattern = regexp.MustCompile(`^arn:aws:s3:::aws-license-manager-service-[a-z0-9.-]{1,35}$`)
)

// settingsKey is the settings-table key of an account's service settings in a region.
func settingsKey(accountID, region string) string {
	return "license-manager/service-settings/" + accountID + "/" + region
}

// readServiceSettings returns an account's settings in a region, the zero value when none
// were stored.
func readServiceSettings(ctx context.Context, tx *store.Tx, accountID, region string) (ServiceSettings, error) {
	var st ServiceSettings
	v, err := tx.Setting(ctx, settingsKey(accountID, region))
	if errors.Is(err, store.ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal([]byte(v), &st); err != nil {
		return st, fmt.Errorf("licenseconfig: service settings of %s in %s: %w", accountID, region, err)
	}
	return st, nil
}

// GetServiceSettings returns the caller's settings in the request's region; a fresh account
// has none set and both switches off.
func (s *Service) GetServiceSettings(ctx context.Context, caller *identity.Principal, _ *GetServiceSettingsInput) (*GetServiceSettingsOutput, error) {
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*GetServiceSettingsOutput, error) {
		st, err := readServiceSettings(ctx, tx, caller.AccountID, RequestRegion(ctx))
		if err != nil {
			return nil, err
		}
		return &GetServiceSettingsOutput{
			S3BucketArn: st.S3BucketArn, SnsTopicArn: st.SnsTopicArn,
			OrganizationConfiguration:    OrganizationConfiguration{EnableIntegration: st.EnableIntegration},
			EnableCrossAccountsDiscovery: st.EnableCrossAccountsDiscovery,
		}, nil
	})
}

// UpdateServiceSettings changes the members the input sets. An empty S3BucketArn or
// SnsTopicArn clears it. Organizations integration (and cross-account discovery, which needs
// it) is turned on only by the management account of an organization with all features that
// gives License Manager trusted access (User Guide, Settings). Cross-account discovery cannot
// be turned off once on (User Guide, Troubleshooting: "Cross-Account Discovery Cannot Be
// Disabled"). Errors: InvalidParameterValueException, AccessDeniedException (integration
// asked for outside such a management account).
func (s *Service) UpdateServiceSettings(ctx context.Context, caller *identity.Principal, in *UpdateServiceSettingsInput) (*UpdateServiceSettingsOutput, error) {
	if in.S3BucketArn != nil && *in.S3BucketArn != "" && !s3BucketARNPattern.MatchString(*in.S3BucketArn) {
		return nil, invalid("S3BucketArn must be the ARN of a bucket named aws-license-manager-service-*, not %q.", clip(*in.S3BucketArn))
	}
	if in.SnsTopicArn != nil && *in.SnsTopicArn != "" && !snsTopicARNPattern.MatchString(*in.SnsTopicArn) {
		return nil, invalid("SnsTopicArn must be the ARN of an SNS topic named aws-license-manager-service-*, not %q.", clip(*in.SnsTopicArn))
	}
	if len(in.EnabledDiscoverySourceRegions) > 0 {
		return nil, invalid("EnabledDiscoverySourceRegions is not supported: Allot has no cross-Region discovery.")
	}
	region := RequestRegion(ctx)
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*UpdateServiceSettingsOutput, error) {
		st, err := readServiceSettings(ctx, tx, caller.AccountID, region)
		if err != nil {
			return nil, err
		}
		if in.S3BucketArn != nil {
			st.S3BucketArn = *in.S3BucketArn
		}
		if in.SnsTopicArn != nil {
			st.SnsTopicArn = *in.SnsTopicArn
		}
		if in.OrganizationConfiguration != nil {
			st.EnableIntegration = in.OrganizationConfiguration.EnableIntegration
		}
		if in.EnableCrossAccountsDiscovery != nil {
			if st.EnableCrossAccountsDiscovery && !*in.EnableCrossAccountsDiscovery {
				return nil, invalid("Cross-account discovery cannot be disabled once it is enabled.")
			}
			if *in.EnableCrossAccountsDiscovery && !st.EnableIntegration {
				return nil, invalid("Cross-account discovery needs OrganizationConfiguration.EnableIntegration.")
			}
			st.EnableCrossAccountsDiscovery = *in.EnableCrossAccountsDiscovery
		}
		if st.EnableCrossAccountsDiscovery && !st.EnableIntegration {
			return nil, invalid("Organizations integration cannot be turned off while cross-account discovery is on.")
		}
		turnsOn := in.OrganizationConfiguration != nil && in.OrganizationConfiguration.EnableIntegration ||
			in.EnableCrossAccountsDiscovery != nil && *in.EnableCrossAccountsDiscovery
		if turnsOn {
			if err := checkLinkable(ctx, tx, caller); err != nil {
				return nil, err
			}
		}
		b, err := json.Marshal(st)
		if err != nil {
			return nil, fmt.Errorf("licenseconfig: encode service settings: %w", err)
		}
		if err := tx.PutSetting(ctx, settingsKey(caller.AccountID, region), string(b)); err != nil {
			return nil, err
		}
		return &UpdateServiceSettingsOutput{}, nil
	})
}
