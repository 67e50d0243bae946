package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/awstime"
	"github.com/allot-dev/allot/internal/licenseconfig"
)

func newAlertsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "List the alerts license configurations raised",
		Long: `Alerts are raised by license configurations: a launch or association allowed over a soft
limit (SOFT_LIMIT_EXCEEDED), a discovered resource that breaks a configuration's rules
(RULE_VIOLATION) or would exceed its hard limit (LIMIT_EXCEEDED), a managed instance that
stopped reporting (STALE_INVENTORY). Each is delivered to the SNS topic the account set with
UpdateServiceSettings when it was raised (see allot server --alert-webhook).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newAlertsListCommand())
	return cmd
}

func newAlertsListCommand() *cobra.Command {
	var (
		api      apiFlags
		config   string
		kinds    []string
		since    time.Duration
		maxItems int
		start    string
		output   string
	)
	cmd := &cobra.Command{
		Use:   "list [--configuration ARN] [--kind KIND] [--since 24h] [--output table|json]",
		Short: "List alerts, newest first, with where each was delivered",
		Long: `List prints the alerts the license configurations of the caller's account in the region
raised, newest first: when, what kind, the configuration and resource, the consumption it
reported (consumed/count) and its delivery: PENDING (a topic was set and no webhook has taken
it yet; ATTEMPTS counts failed posts), DELIVERED, or NO_DESTINATION (no SNS topic was set when
it was raised).

It calls ListLicenseConfigurationAlerts, an operation of Allot's own (AWS License Manager has
none), on a running server, signed with SigV4 like the AWS CLI: credentials come from the usual
AWS chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE or --profile,
the shared files). The caller needs license-manager:ListLicenseConfigurationAlerts (on the
configuration's ARN with --configuration, else on "*").

--output json prints {"Alerts": […]} as the operation returns them, the pages joined, with a
NextToken when --max-items cut the list short (give it to --starting-token to go on).

Exit status: 0 on success, 1 when the server refused or could not be reached, 2 on a usage error.`,
		Example: `  allot alerts list --endpoint-url http://127.0.0.1:7373
  allot alerts list --configuration arn:aws:license-manager:us-east-1:123456789012:license-configuration:lic-0123… \
      --kind SOFT_LIMIT_EXCEEDED --since 168h
  allot alerts list --output json --max-items 0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			usage := func(err error) error {
				fmt.Fprintln(cmd.ErrOrStderr(), "allot alerts list:", err)
				return exitCode(2)
			}
			if err := checkOutput(output); err != nil {
				return usage(err)
			}
			if maxItems < 0 {
				return usage(fmt.Errorf("--max-items %d: want 0 (all) or more", maxItems))
			}
			if since < 0 {
				return usage(fmt.Errorf("--since %s: want a positive duration", since))
			}
			in := &licenseconfig.ListLicenseConfigurationAlertsInput{}
			if config != "" {
				in.LicenseConfigurationArn = &config
			}
			for _, k := range kinds {
				for part := range strings.SplitSeq(k, ",") {
					in.Kinds = append(in.Kinds, strings.TrimSpace(part))
				}
			}
			if since > 0 {
				in.StartTime = &awstime.Epoch{Time: time.Now().Add(-since)}
			}
			if start != "" {
				if since > 0 {
					return usage(fmt.Errorf("--starting-token cannot be used with --since, whose start moves with the clock"))
				}
				in.NextToken = &start
			}
			ctx := cmd.Context()
			c, err := api.client(ctx)
			if err != nil {
				return usage(err)
			}
			var all licenseconfig.ListLicenseConfigurationAlertsOutput
			all.Alerts = []licenseconfig.Alert{}
			for {
				if maxItems > 0 {
					n := int32(min(maxItems-len(all.Alerts), 100))
					in.MaxResults = &n
				}
				body, err := c.call(ctx, "ListLicenseConfigurationAlerts", in)
				if err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), "allot alerts list:", err)
					return exitCode(1)
				}
				var page licenseconfig.ListLicenseConfigurationAlertsOutput
				if err := json.Unmarshal(body, &page); err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), "allot alerts list: decode the response:", err)
					return exitCode(1)
				}
				all.Alerts = append(all.Alerts, page.Alerts...)
				all.NextToken = page.NextToken
				if page.NextToken == nil || maxItems > 0 && len(all.Alerts) >= maxItems {
					break
				}
				in.NextToken = page.NextToken
			}
			if output == "json" {
				return writeJSON(cmd.OutOrStdout(), &all)
			}
			return printAlerts(cmd.OutOrStdout(), all.Alerts, all.NextToken != nil)
		},
	}
	fs := cmd.Flags()
	api.register(fs)
	fs.StringVar(&config, "configuration", "", "only the alerts of this license configuration ARN")
	fs.StringArrayVar(&kinds, "kind", nil, "only alerts of this kind: SOFT_LIMIT_EXCEEDED, RULE_VIOLATION, LIMIT_EXCEEDED, STALE_INVENTORY (repeatable, or comma-separated)")
	fs.DurationVar(&since, "since", 0, "only alerts raised within this long, e.g. 24h")
	fs.IntVar(&maxItems, "max-items", 100, "print at most this many alerts (0: all)")
	fs.StringVar(&start, "starting-token", "", "continue after a list that --max-items cut: the NextToken of its --output json, with the same other flags (not --since)")
	fs.StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

// printAlerts writes alerts as a table for people.
func printAlerts(w io.Writer, alerts []licenseconfig.Alert, more bool) error {
	if len(alerts) == 0 {
		fmt.Fprintln(w, "No alerts.")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tKIND\tCONFIGURATION\tRESOURCE\tCONSUMED\tDELIVERY\tATTEMPTS")
	for _, a := range alerts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%s\t%d\n", a.CreateTime.UTC().Format("2006-01-02 15:04:05"), a.Kind,
			lastPart(a.LicenseConfigurationArn, ':'), lastPart(a.ResourceArn, '/'), a.Consumed, a.LicenseCount, a.Delivery.Status, a.Delivery.Attempts)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if more {
		fmt.Fprintln(w, "\nMore alerts are older: raise --max-items (0 for all) or narrow with --since.")
	}
	return nil
}

// lastPart returns what follows the last sep in s: a configuration's lic-… or a resource's ID.
func lastPart(s string, sep byte) string {
	return s[strings.LastIndexByte(s, sep)+1:]
}
