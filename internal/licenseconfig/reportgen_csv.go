package licenseconfig

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/store"
)

// reportTime is how reports write times: ISO 8601, UTC, whole seconds.
const reportTime = "2006-01-02T15:04:05Z"

// reportResourceTypes are the resource types the summary report gives a column pair each, in
// the order GetLicenseConfiguration lists them.
var reportResourceTypes = []string{store.ResourceInstance, store.ResourceHost, store.ResourceImage, store.ResourceManaged}

// reportSnapshot is what one run reads, in one read transaction: the configurations the
// generator reports on, what their resources consume by type, and the resources consuming.
type reportSnapshot struct {
	Configs []*store.LicenseConfiguration
	Sums    map[string]map[string]store.UsageSummary // configuration ARN → resource type → summary
	Usage   []reportUsage                            // in configuration, then resource ARN order
}

// reportUsage is one resource consuming units of a configuration.
type reportUsage struct {
	Config   *store.LicenseConfiguration
	Usage    *store.LicenseUsage
	Resource *store.Resource
}

// summaryHeader is the header of a LicenseConfigurationSummaryReport: one row per license
// configuration, as of the report's time.
func summaryHeader() []string {
	h := []string{"ReportTime", "LicenseConfigurationArn", "LicenseConfigurationId", "Name", "Description",
		"LicenseCountingType", "LicenseCount", "LicenseCountHardLimit", "ConsumedLicenses", "Status", "OwnerAccountId", "LicenseRules"}
	for _, t := range reportResourceTypes {
		h = append(h, "ConsumedLicenses:"+t)
	}
	for _, t := range reportResourceTypes {
		h = append(h, "AssociationCount:"+t)
	}
	return h
}

// usageHeader is the header of a LicenseConfigurationUsageReport: one row per resource
// consuming licenses of a configuration, as ListUsageForLicenseConfiguration lists them.
func usageHeader() []string {
	return []string{"ReportTime", "LicenseConfigurationArn", "LicenseConfigurationId", "LicenseConfigurationName", "LicenseCountingType",
		"ResourceArn", "ResourceId", "ResourceType", "ResourceStatus", "ResourceOwnerId", "Region", "Platform", "InstanceType",
		"AssociationTime", "ConsumedLicenses"}
}

// writeReportCSV writes one report of snapshot, of type typ, made at t.
func writeReportCSV(w io.Writer, typ string, snap *reportSnapshot, t time.Time) error {
	cw := csv.NewWriter(w)
	at := t.UTC().Format(reportTime)
	switch typ {
	case ReportLicenseConfigurationSummary:
		if err := cw.Write(summaryHeader()); err != nil {
			return err
		}
		for _, c := range snap.Configs {
			count := ""
			if c.LicenseCount != nil {
				count = strconv.FormatInt(*c.LicenseCount, 10)
			}
			row := []string{at, c.ARN, c.ID, c.Name, c.Description, c.CountingType, count, strconv.FormatBool(c.HardLimit),
				strconv.FormatInt(c.Consumed, 10), c.Status, c.AccountID, strings.Join(c.Rules, " ")}
			for _, rt := range reportResourceTypes {
				row = append(row, strconv.FormatInt(snap.Sums[c.ARN][rt].Consumed, 10))
			}
			for _, rt := range reportResourceTypes {
				row = append(row, strconv.FormatInt(snap.Sums[c.ARN][rt].Associations, 10))
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	case ReportLicenseConfigurationUsage:
		if err := cw.Write(usageHeader()); err != nil {
			return err
		}
		for _, u := range snap.Usage {
			r := u.Resource
			row := []string{at, u.Config.ARN, u.Config.ID, u.Config.Name, u.Config.CountingType,
				u.Usage.ResourceARN, r.ID, u.Usage.ResourceType, r.State, u.Usage.ResourceAccount, r.Region, r.Platform, r.InstanceType,
				u.Usage.AssociatedAt.UTC().Format(reportTime), strconv.FormatInt(u.Usage.Consumed, 10)}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}
