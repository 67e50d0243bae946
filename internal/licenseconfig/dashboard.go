package licenseconfig

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/awstime"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// The dashboard and the alert list are Allot's own operations: AWS License Manager has no
// operation for either (its dashboard is a console page built from GetLicenseConfiguration
// and the usage lists). They are served under the X-Amz-Target prefix AllotLicenseManager,
// signed for license-manager, and answer License Manager's errors.

// Alert kinds, as ListLicenseConfigurationAlerts names them.
const (
	AlertSoftLimitExceeded = "SOFT_LIMIT_EXCEEDED" // a launch or association allowed over a soft limit
	AlertRuleViolation     = "RULE_VIOLATION"      // a discovered resource breaks the rules, so it was not associated
	AlertLimitExceeded     = "LIMIT_EXCEEDED"      // a discovered resource would exceed a hard limit, so it was not associated
	AlertStaleInventory    = "STALE_INVENTORY"     // a managed instance stopped reporting and its units were released
)

var alertKinds = []string{AlertSoftLimitExceeded, AlertRuleViolation, AlertLimitExceeded, AlertStaleInventory}

// Delivery statuses of an alert.
const (
	DeliveryPending       = "PENDING"        // a topic is set and no webhook has taken the alert yet
	DeliveryDelivered     = "DELIVERED"      // a webhook answered 2xx
	DeliveryNoDestination = "NO_DESTINATION" // no SNS topic was set when the alert was raised
)

// Tenancies as the dashboard counts them, EC2's Placement.Tenancy values: default is shared
// tenancy.
var dashboardTenancies = []string{"default", "dedicated", "host"}

// alertWindow is the period the dashboard counts alerts over.
const alertWindow = 30 * 24 * time.Hour

// maxAlertResults bounds MaxResults of ListLicenseConfigurationAlerts.
const maxAlertResults = 100

// maxDashboardConfigurations bounds LicenseConfigurationArns of GetLicenseDashboard.
const maxDashboardConfigurations = 100

// AlertDelivery is where an alert went.
type AlertDelivery struct {
	Status        string         // PENDING, DELIVERED or NO_DESTINATION
	Attempts      int64          // failed deliveries so far
	DeliveredTime *awstime.Epoch `json:",omitempty"`
	TopicArn      *string        `json:",omitempty"` // the SNS topic set when the alert was raised
}

// Alert is an alert a license configuration raised.
type Alert struct {
	AlertId                 string
	Kind                    string
	LicenseConfigurationArn string
	ResourceArn             string
	Consumed                int64 // units consumed after the event
	LicenseCount            int64
	Message                 string
	CreateTime              awstime.Epoch
	Delivery                AlertDelivery
}

func alertView(a *store.LicenseAlertRecord) Alert {
	out := Alert{
		AlertId: a.ID, Kind: a.Kind, LicenseConfigurationArn: a.ConfigARN, ResourceArn: a.ResourceARN, Consumed: a.Consumed,
		LicenseCount: a.LicenseCount, Message: a.Message, CreateTime: awstime.Epoch{Time: a.CreatedAt},
		Delivery: AlertDelivery{Status: DeliveryNoDestination, Attempts: int64(a.DeliveryAttempts)},
	}
	if a.TopicARN != "" {
		topic := a.TopicARN
		out.Delivery.TopicArn = &topic
		out.Delivery.Status = DeliveryPending
		if !a.DeliveredAt.IsZero() {
			out.Delivery.Status = DeliveryDelivered
			out.Delivery.DeliveredTime = &awstime.Epoch{Time: a.DeliveredAt}
		}
	}
	return out
}

// ListLicenseConfigurationAlertsInput is the input of ListLicenseConfigurationAlerts.
type ListLicenseConfigurationAlertsInput struct {
	LicenseConfigurationArn *string
	Kinds                   []string
	StartTime               *awstime.Epoch // alerts raised at or after
	EndTime                 *awstime.Epoch // alerts raised before
	MaxResults              *int32
	NextToken               *string
}

// ListLicenseConfigurationAlertsOutput is the output of ListLicenseConfigurationAlerts.
type ListLicenseConfigurationAlertsOutput struct {
	Alerts    []Alert
	NextToken *string `json:",omitempty"`
}

// ListLicenseConfigurationAlerts lists the alerts the configurations of the caller's account
// in the request's region raised, newest first, with their delivery state: all of them, or
// one configuration's, of the kinds asked for, raised from StartTime (included) to EndTime
// (excluded); pages of 1 to 100 (100 by default). It is an Allot extension. Errors:
// InvalidParameterValueException (a malformed or unknown configuration ARN, an unknown kind,
// StartTime after EndTime, MaxResults out of range, a NextToken of other parameters).
func (s *Service) ListLicenseConfigurationAlerts(ctx context.Context, caller *identity.Principal, in *ListLicenseConfigurationAlertsInput) (*ListLicenseConfigurationAlertsOutput, error) {
	arn := deref(in.LicenseConfigurationArn)
	if in.LicenseConfigurationArn != nil {
		if err := checkConfigurationARN("LicenseConfigurationArn", arn); err != nil {
			return nil, err
		}
	}
	kinds := slices.Clone(in.Kinds)
	for i, k := range kinds {
		if !slices.Contains(alertKinds, k) {
			return nil, invalid("Kinds[%d] must be one of %s (case-sensitive), not %q.", i, strings.Join(alertKinds, ", "), k)
		}
	}
	slices.Sort(kinds)
	kinds = slices.Compact(kinds)
	var since, until time.Time
	if in.StartTime != nil {
		since = in.StartTime.Time
	}
	if in.EndTime != nil {
		until = in.EndTime.Time
	}
	if !since.IsZero() && !until.IsZero() && since.After(until) {
		return nil, invalid("StartTime (%s) must not be after EndTime (%s).", awstime.FormatISO8601(since), awstime.FormatISO8601(until))
	}
	if in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > maxAlertResults) {
		return nil, invalid("MaxResults must be from 1 to %d, not %d.", maxAlertResults, *in.MaxResults)
	}
	key := digestKey(RequestRegion(ctx), arn, kinds, since.UnixMicro(), until.UnixMicro())
	p, err := readPage("ListLicenseConfigurationAlerts", key, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListLicenseConfigurationAlertsOutput, error) {
		if arn != "" {
			if _, err := ownConfiguration(ctx, tx, caller, arn, false); err != nil {
				return nil, err
			}
		}
		as, err := tx.LicenseAlertRecords(ctx, store.LicenseAlertQuery{
			AccountID: caller.AccountID, Region: RequestRegion(ctx), ConfigARN: arn, Kinds: kinds,
			Since: since, Until: until, Before: p.after, Limit: p.limit + 1,
		})
		if err != nil {
			return nil, err
		}
		as, next := cut(p, as, func(a *store.LicenseAlertRecord) string { return a.ID })
		out := &ListLicenseConfigurationAlertsOutput{Alerts: make([]Alert, 0, len(as)), NextToken: next}
		for _, a := range as {
			out.Alerts = append(out.Alerts, alertView(a))
		}
		return out, nil
	})
}

// DashboardAlerts sums up a configuration's alerts.
type DashboardAlerts struct {
	Last30Days int64  // alerts raised in the 30 days before GeneratedAt
	Latest     *Alert `json:",omitempty"` // the newest, however old
}

// DashboardConfiguration is one configuration as the dashboard shows it.
type DashboardConfiguration struct {
	LicenseConfigurationArn string
	Name                    string
	CountingType            string
	Status                  string
	LicenseCount            *int64 `json:",omitempty"`
	Enforced                bool   // the count is a hard limit
	Consumed                int64
	Remaining               *int64 `json:",omitempty"` // the count less what is consumed, never below 0; absent without a count
	OverLimit               bool   // more is consumed than the count (possible under a soft limit, or after the count was lowered)
	// ResourcesByType counts the associated resources of each type, as
	// GetLicenseConfiguration's ManagedResourceSummaryList does.
	ResourcesByType map[string]int64
	// InstancesByTenancy counts the associated EC2 instances of each tenancy: default
	// (shared), dedicated, host.
	InstancesByTenancy map[string]int64
	// HostsByTenancy counts the servers the associated resources occupy, per tenancy: an
	// instance of default or dedicated tenancy is one server, and each Dedicated Host counts
	// once, whether it is associated itself or runs associated instances.
	HostsByTenancy map[string]int64
	Alerts         DashboardAlerts
}

// GetLicenseDashboardInput is the input of GetLicenseDashboard.
type GetLicenseDashboardInput struct {
	LicenseConfigurationArns []string
	Filters                  []Filter
}

// GetLicenseDashboardOutput is the output of GetLicenseDashboard.
type GetLicenseDashboardOutput struct {
	Configurations []DashboardConfiguration
	GeneratedAt    awstime.Epoch
}

// GetLicenseDashboard returns, for the configurations of the caller's account in the
// request's region (those named, or those the filters of ListLicenseConfigurations select),
// in ARN order: what each consumes and has left, whether its count is enforced, its
// resources by type and tenancy, and its alerts. Everything comes from one consistent read,
// summed by the database. It is an Allot extension. Errors: InvalidParameterValueException
// (a malformed ARN, more than 100 ARNs, a bad filter value), FilterLimitExceededException.
func (s *Service) GetLicenseDashboard(ctx context.Context, caller *identity.Principal, in *GetLicenseDashboardInput) (*GetLicenseDashboardOutput, error) {
	if len(in.LicenseConfigurationArns) > maxDashboardConfigurations {
		return nil, invalid("LicenseConfigurationArns may name at most %d configurations, not %d.", maxDashboardConfigurations, len(in.LicenseConfigurationArns))
	}
	for i, a := range in.LicenseConfigurationArns {
		if err := checkConfigurationARN(fmt.Sprintf("LicenseConfigurationArns[%d]", i), a); err != nil {
			return nil, err
		}
	}
	fs, err := filterValues(in.Filters, "licenseCountingType", "enforceLicenseCount", "usagelimitExceeded")
	if err != nil {
		return nil, err
	}
	for _, v := range fs["licenseCountingType"] {
		if !slices.Contains(countingTypes, v) {
			return nil, invalid("Filter licenseCountingType takes %s, not %q.", strings.Join(countingTypes, ", "), v)
		}
	}
	hard, err := boolFilter("enforceLicenseCount", fs["enforceLicenseCount"])
	if err != nil {
		return nil, err
	}
	exceeded, err := boolFilter("usagelimitExceeded", fs["usagelimitExceeded"])
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*GetLicenseDashboardOutput, error) {
		now := tx.Now()
		cs, err := tx.LicenseConfigurations(ctx, store.LicenseConfigurationQuery{
			AccountID: caller.AccountID, Region: RequestRegion(ctx), ARNs: in.LicenseConfigurationArns,
			CountingTypes: fs["licenseCountingType"], HardLimit: hard, LimitExceeded: exceeded,
		})
		if err != nil {
			return nil, err
		}
		arns := make([]string, len(cs))
		for i, c := range cs {
			arns[i] = c.ARN
		}
		usage, err := tx.LicenseUsageSummaries(ctx, arns)
		if err != nil {
			return nil, err
		}
		tenancy, err := tx.LicenseTenancySummaries(ctx, arns)
		if err != nil {
			return nil, err
		}
		alerts, err := tx.LicenseAlertSummaries(ctx, arns, now.Add(-alertWindow))
		if err != nil {
			return nil, err
		}
		out := &GetLicenseDashboardOutput{Configurations: make([]DashboardConfiguration, 0, len(cs)), GeneratedAt: awstime.Epoch{Time: now}}
		for _, c := range cs {
			out.Configurations = append(out.Configurations, dashboardView(c, usage[c.ARN], tenancy[c.ARN], alerts[c.ARN]))
		}
		return out, nil
	})
}

func dashboardView(c *store.LicenseConfiguration, usage map[string]store.UsageSummary, ten *store.TenancySummary, al *store.AlertSummary) DashboardConfiguration {
	d := DashboardConfiguration{
		LicenseConfigurationArn: c.ARN, Name: c.Name, CountingType: c.CountingType, Status: c.Status, LicenseCount: c.LicenseCount,
		Enforced: c.HardLimit, Consumed: c.Consumed,
		ResourcesByType:    map[string]int64{},
		InstancesByTenancy: map[string]int64{},
		HostsByTenancy:     map[string]int64{},
	}
	if c.LicenseCount != nil {
		left := max(*c.LicenseCount-c.Consumed, 0)
		d.Remaining = &left
		d.OverLimit = c.Consumed > *c.LicenseCount
	}
	for _, t := range []string{store.ResourceInstance, store.ResourceHost, store.ResourceImage, store.ResourceManaged} {
		d.ResourcesByType[t] = usage[t].Associations
	}
	for _, t := range dashboardTenancies {
		if ten != nil {
			d.InstancesByTenancy[t], d.HostsByTenancy[t] = ten.Instances[t], ten.Servers[t]
		} else {
			d.InstancesByTenancy[t], d.HostsByTenancy[t] = 0, 0
		}
	}
	if al != nil {
		d.Alerts.Last30Days = al.Since
		if al.Latest != nil {
			v := alertView(al.Latest)
			d.Alerts.Latest = &v
		}
	}
	return d
}
