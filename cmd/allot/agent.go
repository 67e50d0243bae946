package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/agent"
)

func newAgentCommand(getenv func(string) string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Report this machine (CPUs, OS, installed packages) to Allot's inventory",
		Long: `The inventory agent runs on a machine and reports its real facts to Allot, as AWS Systems
Manager's agent reports a managed instance to SSM Inventory: the CPU topology (logical
processors, physical cores, sockets, model, speed, hyper-threading), the operating system
(os-release, host name, primary IP address) and the installed packages (dpkg, or rpm).

It sends them with the SSM API's PutInventory (signing name ssm), as a managed instance
with an ID of its own (mi- and 17 hex digits) kept in its state directory. The first report
registers the machine in the account of the credentials; Allot's automated discovery then
associates it with the license configurations whose product information (for example an
application name) it matches.

Credentials come from the usual AWS chain, as for the AWS CLI: AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), AWS_PROFILE or --profile, the shared files.
The identity needs ssm:PutInventory on its managed instance's ARN,
arn:aws:ssm:REGION:ACCOUNT:managed-instance/mi-….

  allot agent facts                 what would be reported; sends nothing
  allot agent report --once         one report now, printed as a table (or --output json)
  allot agent run                   report now and every --interval, with heartbeats between`,
	}
	cmd.AddCommand(newAgentFactsCommand(getenv), newAgentReportCommand(getenv), newAgentRunCommand(getenv))
	return cmd
}

// agentFlags are the flags the agent's commands share.
type agentFlags struct {
	endpoint, region, profile string
	stateDir                  string
	output                    string
}

func (f *agentFlags) registerState(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.stateDir, "state-dir", "", "directory keeping the machine's managed-instance ID; default /var/lib/allot-agent for root, else $XDG_STATE_HOME/allot-agent or ~/.local/state/allot-agent")
}

func (f *agentFlags) registerClient(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.endpoint, "endpoint-url", "", "Allot's URL, e.g. https://allot.example.com:7373; default AWS_ENDPOINT_URL_SSM, AWS_ENDPOINT_URL or the profile's endpoint_url, else AWS's SSM endpoint")
	fs.StringVar(&f.region, "region", "", "region the machine is registered in (the license configurations' region); default from the environment or profile")
	fs.StringVar(&f.profile, "profile", "", "shared-config profile to take credentials from (default AWS_PROFILE)")
}

// dir returns the state directory: --state-dir, else the default for this user.
func (f *agentFlags) dir(getenv func(string) string) (string, error) {
	if f.stateDir != "" {
		return f.stateDir, nil
	}
	return agent.DefaultStateDir(os.Geteuid(), getenv)
}

// client loads the AWS configuration as the AWS CLI does and returns a PutInventory client
// for the endpoint.
func (f *agentFlags) client(ctx context.Context, getenv func(string) string) (*agent.Client, error) {
	opts := []func(*config.LoadOptions) error{}
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
		return nil, fmt.Errorf("no region: give --region, or set AWS_REGION or a profile's region (the machine is registered in it)")
	}
	endpoint := f.endpoint
	if endpoint == "" {
		endpoint = getenv("AWS_ENDPOINT_URL_SSM")
	}
	if endpoint == "" && cfg.BaseEndpoint != nil {
		endpoint = aws.ToString(cfg.BaseEndpoint)
	}
	if endpoint == "" {
		endpoint = "https://ssm." + cfg.Region + ".amazonaws.com"
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("no credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE or --profile): %w", err)
	}
	return agent.NewClient(endpoint, cfg.Region, cfg.Credentials)
}

func newAgentFactsCommand(getenv func(string) string) *cobra.Command {
	var f agentFlags
	cmd := &cobra.Command{
		Use:   "facts",
		Short: "Collect and print this machine's facts; send nothing",
		Long: `Collect this machine's facts and print them, as "allot agent report" would send them,
without sending anything or creating the managed-instance ID (shown once a report made it).

What is read, and from where:
  CPUs          /proc/cpuinfo: logical processors (the "processor" entries), model, MHz
  cores/sockets /sys/devices/system/cpu/cpuN/topology (physical_package_id, core_id), else
                /proc/cpuinfo's physical id and core id, else its siblings and cpu cores
                (one socket assumed), else one core per processor; the SOURCE column says
                which
  platform      /etc/os-release (else /usr/lib/os-release): NAME, VERSION_ID, ID, PRETTY_NAME
  host name     /proc/sys/kernel/hostname
  IP address    the source address of the route to --endpoint-url's host (no packet is
                sent), else of the default route
  packages      /var/lib/dpkg/status (installed packages only: "install ok installed" or
                "hold ok installed"), else "rpm -qa" when there is an rpm database, else none

--output json prints the facts as JSON, for scripts.`,
		Example: `  allot agent facts
  allot agent facts --output json | jq '.CPU'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(f.output); err != nil {
				return err
			}
			dir, err := f.dir(getenv)
			if err != nil {
				return err
			}
			id, err := agent.ReadInstanceID(dir)
			if err != nil {
				return err
			}
			facts, err := (&agent.Collector{Probe: f.endpoint}).Collect(cmd.Context())
			if err != nil {
				return err
			}
			facts.InstanceID = id
			if f.output == "json" {
				return writeJSON(cmd.OutOrStdout(), facts)
			}
			printFacts(cmd.OutOrStdout(), facts)
			return nil
		},
	}
	f.registerState(cmd)
	cmd.Flags().StringVar(&f.endpoint, "endpoint-url", "", "Allot's URL, only to choose the IP address reported (the one of the route to it)")
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "output format: table or json")
	return cmd
}

func newAgentReportCommand(getenv func(string) string) *cobra.Command {
	var (
		f    agentFlags
		once bool
	)
	cmd := &cobra.Command{
		Use:   "report --once",
		Short: "Report this machine to Allot once, and print what was sent",
		Long: `Collect this machine's facts and send them to Allot once, every inventory item with its
content: AWS:InstanceInformation (platform, host name, IP address, agent),
AWS:InstanceDetailedInformation (CPUs, cores, sockets, model, speed, hyper-threading),
AWS:Application (the installed packages) and Custom:AllotAgent (the architecture, and the
heartbeat interval when run by "allot agent run"). The first report registers the machine;
the managed-instance ID is created in the state directory then and kept for every later
report.

It prints the instance ID, platform, CPUs/cores/sockets and the number of packages sent,
with the server's answer; --output json prints the facts and the items sent as JSON. An
error answer is shown with its AWS error code and message, and the exit status is 1.
For periodic reports, run "allot agent run" (as a service).`,
		Example: `  AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… \
    allot agent report --once --endpoint-url https://allot.example.com:7373 --region us-east-1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !once {
				return fmt.Errorf(`"allot agent report" sends one report (--once); for periodic reports use "allot agent run"`)
			}
			if err := checkOutput(f.output); err != nil {
				return err
			}
			ctx := cmd.Context()
			a, err := f.agent(ctx, getenv)
			if err != nil {
				return err
			}
			r, err := a.Report(ctx)
			if err != nil {
				return fmt.Errorf("report to %s: %w", a.Client.Host(), err)
			}
			if f.output == "json" {
				return writeJSON(cmd.OutOrStdout(), r)
			}
			printAgentReport(cmd.OutOrStdout(), r)
			return nil
		},
	}
	f.registerClient(cmd)
	f.registerState(cmd)
	cmd.Flags().BoolVar(&once, "once", true, "send one report and exit (the only mode of report)")
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "output format: table or json")
	return cmd
}

// agent returns an agent for this machine: its client, and its managed-instance ID (created
// the first time).
func (f *agentFlags) agent(ctx context.Context, getenv func(string) string) (*agent.Agent, error) {
	c, err := f.client(ctx, getenv)
	if err != nil {
		return nil, err
	}
	dir, err := f.dir(getenv)
	if err != nil {
		return nil, err
	}
	id, err := agent.InstanceID(dir)
	if err != nil {
		return nil, err
	}
	return &agent.Agent{Collector: &agent.Collector{Probe: c.Host()}, Client: c, InstanceID: id}, nil
}

func newAgentRunCommand(getenv func(string) string) *cobra.Command {
	var (
		f                   agentFlags
		interval, heartbeat time.Duration
		logFormat, logLevel string
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Report this machine now and periodically, with heartbeats (run it as a service)",
		Long: `Report this machine to Allot now, then every --interval (default 30m, with up to a tenth
of it as jitter either way so machines started together do not report together), until
SIGINT or SIGTERM, which stop it cleanly (exit 0).

Between full reports, a heartbeat every --heartbeat (default 5m) collects the facts again
and sends the items the server already has (same content hash as last acknowledged) by
their hash alone, which keeps the machine's last-seen time fresh at little cost; an item
that changed (a package installed or removed) is sent in full at once. --heartbeat 0 turns
heartbeats off. A failed report is logged and retried in full after 15s, 30s, … up to 5
minutes.

It logs one line per report to standard error (--log-format text or json). See
examples/agent/allot-agent.service for a systemd unit.`,
		Example: `  allot agent run --endpoint-url https://allot.example.com:7373 --region us-east-1 \
      --state-dir /var/lib/allot-agent --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(cmd.ErrOrStderr(), logFormat, logLevel)
			if err != nil {
				return err
			}
			if interval <= 0 {
				return fmt.Errorf("--interval %s: want a positive duration, e.g. 30m", interval)
			}
			if heartbeat < 0 {
				return fmt.Errorf("--heartbeat %s: want a duration, or 0 for none", heartbeat)
			}
			if heartbeat == 0 {
				heartbeat = -1 // Agent: negative is none
			}
			ctx := cmd.Context()
			a, err := f.agent(ctx, getenv)
			if err != nil {
				return err
			}
			a.Interval, a.HeartbeatInterval, a.Logger = interval, heartbeat, log
			return a.Run(ctx)
		},
	}
	f.registerClient(cmd)
	f.registerState(cmd)
	fs := cmd.Flags()
	fs.DurationVar(&interval, "interval", agent.DefaultInterval, "time between full reports")
	fs.DurationVar(&heartbeat, "heartbeat", agent.DefaultHeartbeat, "time between heartbeats (unchanged items sent by hash); 0 for none")
	fs.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return cmd
}

// printFacts writes a machine's facts for people.
func printFacts(w io.Writer, f *agent.Facts) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	id := f.InstanceID
	if id == "" {
		id = "(none yet: the first report creates it)"
	}
	fmt.Fprintf(tw, "INSTANCE ID\t%s\n", id)
	fmt.Fprintf(tw, "COMPUTER NAME\t%s\n", f.ComputerName)
	fmt.Fprintf(tw, "IP ADDRESS\t%s\n", orNone(f.IPAddress))
	fmt.Fprintf(tw, "PLATFORM\t%s\n", platformText(f))
	fmt.Fprintf(tw, "ARCHITECTURE\t%s\n", f.Architecture)
	fmt.Fprintf(tw, "CPU MODEL\t%s\n", orNone(f.CPU.Model))
	fmt.Fprintf(tw, "CPUS/CORES/SOCKETS\t%s\n", cpuText(f.CPU))
	fmt.Fprintf(tw, "PACKAGES\t%d (%s)\n", len(f.Applications), f.PackageManager)
	tw.Flush()
	for _, n := range f.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// printAgentReport writes what a report sent, for people.
func printAgentReport(w io.Writer, r *agent.Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE ID\tPLATFORM\tCPUS/CORES/SOCKETS\tPACKAGES")
	fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", r.InstanceID, platformText(r.Facts), cpuText(r.Facts.CPU), len(r.Facts.Applications))
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ITEM\tENTRIES\tCONTENT HASH")
	for _, it := range r.Items {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", it.TypeName, it.Entries, it.ContentHash)
	}
	tw.Flush()
	answer := r.Message
	if answer == "" {
		answer = "accepted"
	}
	fmt.Fprintf(w, "\nSent to %s: %s.\n", r.Endpoint, strings.TrimSuffix(answer, "."))
	for _, n := range r.Facts.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func platformText(f *agent.Facts) string {
	s := strings.TrimSpace(f.Platform.Name + " " + f.Platform.Version)
	if s == "" {
		s = "(unknown)"
	}
	return s + " (" + f.Platform.Type + ")"
}

func cpuText(c agent.CPU) string {
	ht := ""
	if c.HyperThreading {
		ht = ", hyper-threading"
	}
	return fmt.Sprintf("%d/%d/%d (%s%s)", c.Logical, c.Cores, c.Sockets, c.Source, ht)
}
