package main

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/loadgen"
)

func newBenchCommand(getenv func(string) string) *cobra.Command {
	var (
		cfg       loadgen.Config
		scenarios []string
		output    string
		quiet     bool
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load a running server with signed requests and check the licensing invariants",
		Long: `Load a running Allot server with SigV4-signed requests from many concurrent clients, each
on its own keep-alive HTTP connection, and report throughput, latency (p50, p90, p99, max) and
errors by code per scenario. Run it against a test server: it creates licenses, an IAM role
and users (named allot-bench-RUN) in the account whose credentials it is given.

Scenarios (--scenario, default all, in this order):
  identity   GetCallerIdentity, the cheapest signed request: the baseline of the others
  checkout   CheckoutLicense + CheckInLicense pairs on one hot license whose Seats have a
             hard limit (--max-count, default one per client)
  spread     the same pairs spread over --licenses licenses
  extend     ExtendLicenseConsumption of a checkout each client holds
  launches   EC2 RunInstances against a license configuration with a hard limit, then
             TerminateInstances (only when named: --scenario launches)

The load is sent as --principal: "role" (default) makes an IAM role with a 10-statement
policy with conditions and sends the load with a session of it, as a product on an instance
would; "user" makes an IAM user with that policy; "root" uses the credentials given.
Every --retry-every-th checkout is sent again with its ClientToken and must answer the same
checkout.

After each scenario it checks the invariants: the license's usage (GetLicenseUsage) equals
the checkouts the clients still hold; no count ever passed MaxCount, neither as seen by the
clients nor in the usage polled during the run; checking every held checkout in brings the
usage back to zero; ClientToken retries answer the first checkout; no answer was a server
error.

In the same run it measures the ceilings the rates are judged against, and reports ratios:
the identity scenario's rate on the same server, and in process the store's durable
group-commit rate (a temporary SQLite file in --ceiling-dir, or the scratch PostgreSQL
database --ceiling-database; never the server's own) and the issuer key's signing rate. CPU
per operation is reported for the load generator (from the operating system) and for the
server (from its /metrics).

Credentials: --access-key-id and --secret-access-key, else AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, else ALLOT_ROOT_ACCESS_KEY_ID and ALLOT_ROOT_SECRET_ACCESS_KEY.

  allot bench --endpoint http://127.0.0.1:7373 --clients 256 --duration 10s
  allot bench --scenario checkout --key-alg PS384 --output json

Exit status: 0 when every invariant held, 2 when one was violated, 1 when the run could not
be made.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, s := range scenarios {
				for p := range strings.SplitSeq(s, ",") {
					if p = strings.TrimSpace(p); p != "" {
						cfg.Scenarios = append(cfg.Scenarios, p)
					}
				}
			}
			if output != "table" && output != "json" {
				return fmt.Errorf("--output %q: want table or json", output)
			}
			if cfg.Credentials.AccessKeyID == "" {
				cfg.Credentials.AccessKeyID = envOr(getenv, "AWS_ACCESS_KEY_ID", getenv("ALLOT_ROOT_ACCESS_KEY_ID"))
			}
			if cfg.Credentials.SecretAccessKey == "" {
				cfg.Credentials.SecretAccessKey = envOr(getenv, "AWS_SECRET_ACCESS_KEY", getenv("ALLOT_ROOT_SECRET_ACCESS_KEY"))
			}
			if cfg.Credentials.SessionToken == "" {
				cfg.Credentials.SessionToken = getenv("AWS_SESSION_TOKEN")
			}
			level := slog.LevelInfo
			if quiet {
				level = slog.LevelWarn
			}
			cfg.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			rep, err := loadgen.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if output == "json" {
				err = rep.WriteJSON(cmd.OutOrStdout())
			} else {
				err = rep.WriteTable(cmd.OutOrStdout())
			}
			if err != nil {
				return err
			}
			if len(rep.Violations) > 0 {
				return exitCode(2)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cfg.Endpoint, "endpoint", envOr(getenv, "ALLOT_ENDPOINT", "http://"+DefaultListen), "the server's URL (env ALLOT_ENDPOINT)")
	fs.StringVar(&cfg.Region, "region", envOr(getenv, "AWS_REGION", envOr(getenv, "AWS_DEFAULT_REGION", "us-east-1")), "region to sign for, and the licenses' home region (env AWS_REGION)")
	fs.StringVar(&cfg.Credentials.AccessKeyID, "access-key-id", "", "access key ID of the account to set up in (default $AWS_ACCESS_KEY_ID)")
	fs.StringVar(&cfg.Credentials.SecretAccessKey, "secret-access-key", "", "its secret access key (default $AWS_SECRET_ACCESS_KEY)")
	fs.StringVar(&cfg.Principal, "principal", loadgen.PrincipalRole, "who sends the load: role, user or root")
	fs.StringSliceVar(&scenarios, "scenario", nil, "scenarios to run, comma-separated or repeated: identity, checkout, spread, extend, launches (default all but launches)")
	fs.IntVar(&cfg.Clients, "clients", 64, "concurrent clients, one connection each")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured time per scenario")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "time each scenario runs before it is measured (0s: none)")
	fs.Int64Var(&cfg.MaxCount, "max-count", 0, "Seats of the hot license (default: one per client)")
	fs.IntVar(&cfg.Licenses, "licenses", 64, "licenses the spread scenario spreads over")
	fs.StringVar(&cfg.KeyAlg, "key-alg", loadgen.AlgES256, "the issuer's key: ES256 or PS384")
	fs.IntVar(&cfg.RetryEvery, "retry-every", 100, "send every n-th checkout again with its ClientToken (0: never)")
	fs.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "per request")
	fs.StringVar(&output, "output", "table", "report format: table or json")
	fs.BoolVarP(&quiet, "quiet", "q", false, "no progress messages on standard error")
	fs.BoolVar(&cfg.Ceiling.Skip, "no-ceiling", false, "skip the in-process store and signing measurements")
	fs.StringVar(&cfg.Ceiling.Database, "ceiling-database", "", "a scratch PostgreSQL database (DSN) for the store's group-commit rate; default a temporary SQLite file (never the server's database)")
	fs.StringVar(&cfg.Ceiling.Dir, "ceiling-dir", "", "directory for the temporary SQLite file (default the system's temporary directory; put it on the server's disk)")
	fs.DurationVar(&cfg.Ceiling.Duration, "ceiling-duration", 3*time.Second, "time per in-process measurement")
	return cmd
}
