package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/allot-dev/allot/internal/licenseconfig"
)

// defaultEndpoint is where `allot server` listens by default.
const defaultEndpoint = "http://127.0.0.1:7373"

// apiFlags are the flags of the commands that call a running server's API.
type apiFlags struct {
	endpoint, region, profile string
}

func (f *apiFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.endpoint, "endpoint-url", "", "the Allot server, e.g. "+defaultEndpoint+" (the default, unless AWS_ENDPOINT_URL is set)")
	fs.StringVar(&f.region, "region", "", "region to sign for and read; default from the environment or profile, else us-east-1")
	fs.StringVar(&f.profile, "profile", "", "shared-config profile to take credentials from (default AWS_PROFILE)")
}

// client loads the AWS configuration as the SDKs do (environment, profile, shared files)
// and returns a caller of Allot's own operations.
func (f *apiFlags) client(ctx context.Context) (*allotClient, error) {
	var opts []func(*config.LoadOptions) error
	if f.region != "" {
		opts = append(opts, config.WithRegion(f.region))
	}
	if f.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(f.profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	endpoint := f.endpoint
	if endpoint == "" {
		endpoint = aws.ToString(cfg.BaseEndpoint)
	}
	if endpoint == "" {
		endpoint = defaultEndpoint
	}
	if cfg.Credentials == nil {
		return nil, errors.New("no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or --profile")
	}
	return &allotClient{cfg: cfg, endpoint: strings.TrimSuffix(endpoint, "/"), http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// allotClient calls Allot's own License Manager operations (X-Amz-Target
// AllotLicenseManager.<Op>, AWS JSON 1.1), signed with SigV4 for license-manager by the AWS
// SDK's signer. The SDKs have no client for them: AWS has no such operations.
type allotClient struct {
	cfg      aws.Config
	endpoint string
	http     *http.Client
}

// apiError is an error the server answered.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// call sends in to operation op and returns the response body.
func (c *allotClient) call(ctx context.Context, op string, in any) ([]byte, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("%s: encode the request: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AllotLicenseManager."+op)
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: retrieve the AWS credentials: %w", op, err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "license-manager", c.cfg.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("%s: sign the request: %w", op, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: read the response: %w", op, err)
	}
	if resp.StatusCode == http.StatusOK {
		return out, nil
	}
	e := &apiError{Status: resp.StatusCode}
	var doc struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	_ = json.Unmarshal(out, &doc) // a body that is not an AWS error leaves the header's code and the status
	e.Code, _, _ = strings.Cut(resp.Header.Get("X-Amzn-ErrorType"), ":")
	if e.Code == "" {
		e.Code = doc.Type[strings.LastIndexByte(doc.Type, '#')+1:]
	}
	if e.Code == "" {
		e.Code = fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	e.Message = doc.Message + doc.Message2
	if e.Message == "" {
		e.Message = strings.TrimSpace(string(out))
	}
	return nil, e
}

func newDashboardCommand() *cobra.Command {
	var (
		api      apiFlags
		arns     []string
		filters  []string
		output   string
		watch    time.Duration
		barWidth int
	)
	cmd := &cobra.Command{
		Use:   "dashboard [--endpoint-url URL] [--watch 5s] [--output table|json]",
		Short: "Show license consumption per license configuration, with usage bars and alerts",
		Long: `Dashboard shows, for each license configuration of the caller's account in the region, what
the seed's License Manager dashboard shows: its name and license type, the licenses consumed and
remaining (a usage bar of consumed against the license count), whether the count is enforced
(a hard limit) or not (soft), the hosts of each tenancy its resources run on (shared,
dedicated instance, Dedicated Host) and its alerts of the last 30 days. Rows whose consumption
is over the license count are marked with "!".

It calls GetLicenseDashboard, an operation of Allot's own (AWS License Manager has none), on a
running server, signed with SigV4 like the AWS CLI: credentials come from the usual AWS chain
(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE or --profile, the
shared files). The caller needs license-manager:GetLicenseDashboard.

--output json prints the operation's JSON response as it is. --watch DURATION fetches and
redraws the dashboard at that interval until interrupted; the screen is cleared between
redraws only when standard output is a terminal.

Exit status: 0 on success, 1 when the server refused or could not be reached, 2 on a usage error.`,
		Example: `  # Against a local server, with the credentials of the environment:
  allot dashboard --endpoint-url http://127.0.0.1:7373

  # Only the configurations over their count, redrawn every 5 seconds:
  allot dashboard --filter usagelimitExceeded=true --watch 5s

  # For a script:
  allot dashboard --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			usage := func(err error) error {
				fmt.Fprintln(cmd.ErrOrStderr(), "allot dashboard:", err)
				return exitCode(2)
			}
			if err := checkOutput(output); err != nil {
				return usage(err)
			}
			if watch < 0 || watch > 0 && watch < 100*time.Millisecond {
				return usage(fmt.Errorf("--watch %s: want an interval of at least 100ms", watch))
			}
			if barWidth < 1 || barWidth > 100 {
				return usage(fmt.Errorf("--bar-width %d: want 1 to 100", barWidth))
			}
			in := &licenseconfig.GetLicenseDashboardInput{LicenseConfigurationArns: arns}
			for _, f := range filters {
				name, values, ok := strings.Cut(f, "=")
				if !ok || name == "" || values == "" {
					return usage(fmt.Errorf("--filter %q: want NAME=VALUE[,VALUE…]", f))
				}
				in.Filters = append(in.Filters, licenseconfig.Filter{Name: &name, Values: strings.Split(values, ",")})
			}
			ctx := cmd.Context()
			c, err := api.client(ctx)
			if err != nil {
				return usage(err)
			}
			w := cmd.OutOrStdout()
			tty := isTerminal(w)
			for {
				err := showDashboard(ctx, w, c, in, output, barWidth, watch > 0 && tty)
				if watch == 0 {
					if err != nil {
						fmt.Fprintln(cmd.ErrOrStderr(), "allot dashboard:", err)
						return exitCode(1)
					}
					return nil
				}
				if err != nil {
					if ctx.Err() != nil {
						return nil
					}
					fmt.Fprintln(w, "allot dashboard:", err)
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(watch):
				}
				if !tty {
					fmt.Fprintln(w)
				}
			}
		},
	}
	fs := cmd.Flags()
	api.register(fs)
	fs.StringArrayVar(&arns, "configuration", nil, "show only this license configuration ARN (repeatable, up to 100)")
	fs.StringArrayVar(&filters, "filter", nil, "filter as ListLicenseConfigurations does: licenseCountingType=Core, enforceLicenseCount=true, usagelimitExceeded=true (repeatable)")
	fs.StringVarP(&output, "output", "o", "table", "output format: table or json")
	fs.DurationVar(&watch, "watch", 0, "redraw at this interval (e.g. 5s) until interrupted")
	fs.IntVar(&barWidth, "bar-width", 10, "width of the usage bars, in characters")
	return cmd
}

// showDashboard fetches the dashboard once and prints it, clearing the screen first when
// clear is set.
func showDashboard(ctx context.Context, w io.Writer, c *allotClient, in *licenseconfig.GetLicenseDashboardInput, output string, barWidth int, clear bool) error {
	body, err := c.call(ctx, "GetLicenseDashboard", in)
	if err != nil {
		return err
	}
	if clear {
		fmt.Fprint(w, "\x1b[H\x1b[2J")
	}
	if output == "json" {
		var b bytes.Buffer
		if err := json.Indent(&b, body, "", "  "); err != nil {
			return fmt.Errorf("GetLicenseDashboard: the response is not JSON: %w", err)
		}
		b.WriteByte('\n')
		_, err := w.Write(b.Bytes())
		return err
	}
	var out licenseconfig.GetLicenseDashboardOutput
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("GetLicenseDashboard: decode the response: %w", err)
	}
	return printDashboard(w, &out, c.cfg.Region, barWidth)
}

// printDashboard writes the dashboard as a table for people.
func printDashboard(w io.Writer, d *licenseconfig.GetLicenseDashboardOutput, region string, barWidth int) error {
	fmt.Fprintf(w, "License configurations in %s at %s\n\n", region, d.GeneratedAt.UTC().Format("2006-01-02 15:04:05 MST"))
	if len(d.Configurations) == 0 {
		fmt.Fprintln(w, "No license configurations.")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tNAME\tTYPE\tCONSUMED\tREMAINING\tLIMIT\tHOSTS shared/dedicated/host\tALERTS 30d")
	over := 0
	for _, c := range d.Configurations {
		mark := ""
		if c.OverLimit {
			mark = "!"
			over++
		}
		name := c.Name
		if c.Status != "AVAILABLE" {
			name += " (" + strings.ToLower(c.Status) + ")"
		}
		remaining, limit := "-", "none"
		if c.Remaining != nil {
			remaining = fmt.Sprint(*c.Remaining)
			limit = "soft"
			if c.Enforced {
				limit = "hard"
			}
		}
		hosts := fmt.Sprintf("%d/%d/%d", c.HostsByTenancy["default"], c.HostsByTenancy["dedicated"], c.HostsByTenancy["host"])
		alerts := fmt.Sprint(c.Alerts.Last30Days)
		if c.Alerts.Latest != nil && c.Alerts.Last30Days > 0 {
			alerts += " (latest " + c.Alerts.Latest.Kind + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", mark, name, c.CountingType, usageCell(c, barWidth), remaining, limit, hosts, alerts)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if over > 0 {
		fmt.Fprintf(w, "\n! %d configuration(s) consume more than their license count.\n", over)
	}
	return nil
}

// usageCell is "█████░░░░░ 48/96 cores", or "48 cores" for a configuration without a count.
func usageCell(c licenseconfig.DashboardConfiguration, width int) string {
	unit := countingUnit(c.CountingType)
	if c.LicenseCount == nil {
		return fmt.Sprintf("%d %s (no count)", c.Consumed, unit)
	}
	return fmt.Sprintf("%s %d/%d %s", usageBar(c.Consumed, *c.LicenseCount, width), c.Consumed, *c.LicenseCount, unit)
}

// usageBar draws consumed against count in width cells, rounded to the nearest cell: empty
// only when nothing is consumed, full only when the count is reached or exceeded.
func usageBar(consumed, count int64, width int) string {
	filled := width
	switch {
	case consumed <= 0:
		filled = 0
	case consumed < count:
		filled = int((consumed*int64(width)*2 + count) / (count * 2))
		filled = min(max(filled, 1), width-1) // some use shows; a full bar means the count is reached
	}
	return strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
}

// countingUnit names what a counting type counts.
func countingUnit(countingType string) string {
	switch countingType {
	case "vCPU":
		return "vCPUs"
	case "Core":
		return "cores"
	case "Socket":
		return "sockets"
	}
	return "instances"
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
