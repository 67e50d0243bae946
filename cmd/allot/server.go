package main

import (
	"cmp"
	"context"
	"fmt"
	"github.com/allot-dev/allot/internal/alerts"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/authz"
	"github.com/allot-dev/allot/internal/bootstrap"
	"github.com/allot-dev/allot/internal/cloudtrail"
	"github.com/allot-dev/allot/internal/ec2"
	"github.com/allot-dev/allot/internal/iam"
	"github.com/allot-dev/allot/internal/licenseconfig"
	"github.com/allot-dev/allot/internal/licensemanager"
	"github.com/allot-dev/allot/internal/oidc"
	"github.com/allot-dev/allot/internal/organizations"
	"github.com/allot-dev/allot/internal/server"
	"github.com/allot-dev/allot/internal/ssm"
	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/sts"
)

// DefaultListen is the address `allot server` listens on unless told otherwise.
const DefaultListen = "127.0.0.1:7373"

type serverCommand struct {
	storage   storageFlags
	listen    string
	maxBody   int64
	drain     time.Duration
	writers   int
	nodeID    string
	logFormat string
	logLevel  string
	accessLog bool
	httpOIDC  bool
	pprof     string // address of the profiling listener; "" for none
	// licenseClock runs the license service's clock ahead of wall time (a duration; tests only).
	licenseClock string
	// alertWebhooks are --alert-webhook values, TOPIC_ARN=URL#SECRET.
	alertWebhooks []string
	// alertRetry is the first wait after a failed alert delivery.
	alertRetry time.Duration
	// reportDir is where report generators write their reports: one directory per S3 bucket.
	reportDir string
	getenv    func(string) string
}

func newServerCommand(getenv func(string) string) *cobra.Command {
	c := &serverCommand{getenv: getenv}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Allot server (every API on one port)",
		Long: `Run the Allot server. It serves License Manager, Organizations and CloudTrail (AWS JSON 1.1)
and IAM and STS (AWS Query) on one port, every call SigV4-signed (except STS
AssumeRoleWithWebIdentity and License Manager GetAccessToken, which as in AWS the token they
carry authenticates), plus
GET /healthz, GET /metrics (Prometheus) and GET /.well-known/jwks.json (the license issuers'
public keys, for products that verify their license tokens offline) without authentication.

Storage is SQLite in the data directory unless --database names a PostgreSQL database;
several servers may share one PostgreSQL database if they share its master key.

On first start the server creates the management account. Its ID and root access key come
from ALLOT_ROOT_ACCOUNT_ID, ALLOT_ROOT_ACCESS_KEY_ID and ALLOT_ROOT_SECRET_ACCESS_KEY when
set; otherwise they are generated, printed once, and written (mode 0600) to
DATA-DIR/credentials in AWS shared-credentials format:

  AWS_SHARED_CREDENTIALS_FILE=allot-data/credentials \
    aws --endpoint-url http://127.0.0.1:7373 --region us-east-1 sts get-caller-identity

IAM OpenID Connect providers must have https:// URLs, and AssumeRoleWithWebIdentity fetches
their keys over https:// only, unless --allow-http-oidc-issuers (for tests against an issuer
on loopback; never in production).

--license-clock-offset runs the license service's clock ahead of wall time, so that
provisional checkouts expire (and renewals come due) sooner on a test server; SigV4 and STS
keep wall time. Never in production.

SIGTERM or SIGINT stops accepting connections, lets in-flight requests finish (up to
--drain-timeout) and exits 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	c.storage.register(fs, getenv)
	fs.StringVar(&c.listen, "listen", envOr(getenv, "ALLOT_LISTEN", DefaultListen), "address to listen on, host:port (port 0 picks a free one) (env ALLOT_LISTEN)")
	fs.Int64Var(&c.maxBody, "max-body-bytes", server.DefaultMaxBodyBytes, "largest request body accepted; larger requests get a 400 error")
	fs.DurationVar(&c.drain, "drain-timeout", 30*time.Second, "how long SIGTERM waits for in-flight requests")
	fs.IntVar(&c.writers, "writers", 0, "PostgreSQL only: group-commit writers (and audit chains) in this process; 0 for the default (4)")
	fs.StringVar(&c.nodeID, "node-id", envOr(getenv, "ALLOT_NODE_ID", ""), "name of this server in audit chains; default a random ID (env ALLOT_NODE_ID)")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&c.accessLog, "access-log", true, "log one line per API request")
	fs.StringVar(&c.licenseClock, "license-clock-offset", envOr(getenv, "ALLOT_LICENSE_CLOCK_OFFSET", ""), "run the license service's clock this far ahead of wall time, e.g. 2h, to rehearse checkout expiry and renewals on a test server; SigV4 and STS keep wall time (never in production) (env ALLOT_LICENSE_CLOCK_OFFSET)")
	fs.StringVar(&c.pprof, "debug-pprof", "", "serve Go's profiler (net/http/pprof, /debug/pprof/) on this address, e.g. 127.0.0.1:6060: unauthenticated, so loopback only; off by default")
	fs.StringArrayVar(&c.alertWebhooks, "alert-webhook", nil, "deliver license configuration alerts sent to an SNS topic (UpdateServiceSettings SnsTopicArn) to a webhook: TOPIC_ARN=URL#SECRET or TOPIC_ARN=URL#@SECRET_FILE; repeatable")
	fs.DurationVar(&c.alertRetry, "alert-retry-base", time.Second, "wait after a failed alert delivery, doubled for each further failure up to an hour")
	fs.StringVar(&c.reportDir, "report-dir", envOr(getenv, "ALLOT_REPORT_DIR", ""), "directory that stands for S3: report generators write a report for bucket B with key K to REPORT-DIR/B/K; default DATA-DIR/reports (env ALLOT_REPORT_DIR)")
	fs.BoolVar(&c.httpOIDC, "allow-http-oidc-issuers", false, "let IAM OpenID Connect providers have http:// URLs and fetch their keys over plain HTTP (tests only: tokens' keys can then be spoofed on the network)")
	return cmd
}

func (c *serverCommand) run(ctx context.Context, stdout, stderr io.Writer) error {
	log, err := newLogger(stderr, c.logFormat, c.logLevel)
	if err != nil {
		return err
	}
	clockOffset, err := parseClockOffset(c.licenseClock)
	if err != nil {
		return err
	}
	webhooks := map[string]alerts.Webhook{}
	for _, v := range c.alertWebhooks {
		topic, w, err := alerts.ParseWebhook(v, nil)
		if err != nil {
			return err
		}
		webhooks[topic] = w
	}
	given, err := bootstrap.FromEnv(c.getenv)
	if err != nil {
		return err
	}
	db, err := c.storage.open(ctx, log, store.Options{Writers: c.writers, NodeID: c.nodeID})
	if err != nil {
		return err
	}
	defer db.Close()

	root, created, err := bootstrap.Ensure(ctx, db, given)
	if err != nil {
		return err
	}
	switch {
	case created && given == nil:
		path, err := bootstrap.WriteCredentialsFile(c.storage.dataDir, root)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Created management account %s with root credentials (shown once; also written to %s):\n"+
			"  aws_access_key_id     = %s\n  aws_secret_access_key = %s\n", root.AccountID, path, root.AccessKeyID, root.SecretAccessKey)
	case created:
		log.Info("created management account from the environment", "account", root.AccountID, "access_key_id", root.AccessKeyID)
	default:
		log.Info("management account", "account", root.AccountID)
	}

	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	authorizer := authz.New(db, nil)
	licenses := &licensemanager.Service{DB: db, Logger: log}
	if clockOffset != 0 {
		licenses.Now = func() time.Time { return time.Now().Add(clockOffset) }
		log.Warn("the license service's clock runs ahead of wall time: checkouts expire early; never in production", "license_clock_offset", clockOffset.String())
	}
	configs := &licenseconfig.Service{DB: db, Logger: log, Now: licenses.Now}
	srv := server.New(db, server.Services{
		STS:                   &sts.Service{DB: db, Authz: authorizer, Keys: oidc.NewFetcher(c.httpOIDC), LicenseTokens: licenses},
		IAM:                   &iam.Service{DB: db, SCPs: authorizer.SCPs, AllowHTTPIssuers: c.httpOIDC},
		Organizations:         &organizations.Service{DB: db},
		CloudTrail:            &cloudtrail.Service{Store: db},
		LicenseManager:        licenses,
		LicenseConfigurations: configs,
		EC2:                   &ec2.Service{DB: db, Licenses: configs, Now: licenses.Now, Authz: authorizer},
		SSM:                   &ssm.Service{DB: db, Licenses: configs, Logger: log},
	}, server.Config{MaxBodyBytes: c.maxBody, AccessLog: c.accessLog, Logger: log, Authorizer: authorizer})
	if c.pprof != "" {
		if err := servePprof(ctx, c.pprof, log); err != nil {
			return err
		}
	}
	go purgeSessions(ctx, db, log)
	go licenses.RunReclaimer(ctx, time.Minute)
	go (&licenseconfig.Reports{DB: db, Dir: cmp.Or(c.reportDir, filepath.Join(c.storage.dataDir, "reports")), Logger: log}).RunReportScheduler(ctx, time.Second)
	go configs.RunStaleSweeper(ctx, time.Hour)
	if len(webhooks) > 0 {
		// Without webhooks alerts stay pending in the database, delivered once one is configured.
		go (&alerts.Deliverer{DB: db, Webhooks: webhooks, BaseBackoff: c.alertRetry, Logger: log}).Run(ctx)
	}
	log.Info("allot listening", "addr", ln.Addr().String(), "database", db.Dialect())
	if err := srv.Serve(ctx, ln, c.drain); err != nil {
		return err
	}
	log.Info("allot stopped")
	return nil
}

// parseClockOffset parses --license-clock-offset: empty for none, else a duration not below 0.
func parseClockOffset(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--license-clock-offset %q: want a duration of 0 or more, such as 90m or 2h", v)
	}
	return d, nil
}

// purgeSessions deletes STS sessions a day after they expire, every ten minutes, until ctx
// ends. Expired sessions are refused on use anyway; keeping them a day lets a late caller get
// the expired-token error rather than an unknown-key one.
func purgeSessions(ctx context.Context, db *store.DB, log *slog.Logger) {
	tick := time.NewTicker(10 * time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			err := db.Update(ctx, func(tx *store.Tx) error {
				n, err := tx.DeleteExpiredSessions(ctx, now.Add(-24*time.Hour))
				if n > 0 {
					log.Info("purged expired sessions", "count", n)
				}
				return err
			})
			if err != nil && ctx.Err() == nil {
				log.Warn("purging expired sessions failed", "err", err)
			}
		}
	}
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
