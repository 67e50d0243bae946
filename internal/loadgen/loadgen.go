// Package loadgen is Allot's load generator (`allot bench`): many concurrent clients send
// SigV4-signed requests over keep-alive HTTP connections to a running server, in scenarios
// that follow the checkout hot path, and it checks the licensing invariants at the end of
// each. Beside the server's rates it measures, in the same run, the ceilings they are judged
// against: the cheapest signed request (GetCallerIdentity) on the same server, and in
// process the store's group-commit rate and the issuer key's signing rate.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Scenarios, in the order a run without --scenario runs them.
const (
	ScenarioIdentity = "identity" // GetCallerIdentity: the cheapest signed request, the baseline
	ScenarioCheckout = "checkout" // CheckoutLicense + CheckInLicense pairs on one hot license with a hard limit
	ScenarioSpread   = "spread"   // the same pairs spread over many licenses
	ScenarioExtend   = "extend"   // ExtendLicenseConsumption of checkouts each client holds
	ScenarioLaunches = "launches" // EC2 RunInstances + TerminateInstances against a license configuration with a hard limit
)

// DefaultScenarios returns the scenarios a run makes when none is named, in order.
func DefaultScenarios() []string {
	return []string{ScenarioIdentity, ScenarioCheckout, ScenarioSpread, ScenarioExtend}
}

// OptionalScenarios returns the scenarios a run makes only when they are named.
func OptionalScenarios() []string { return []string{ScenarioLaunches} }

// Config configures a run. Zero fields take the defaults their comments give.
type Config struct {
	Endpoint    string      // the server, http://host:port
	Region      string      // signing region and the licenses' home region; us-east-1
	Credentials Credentials // an account's credentials (its root's, or an administrator's): they set up the run
	// Principal is who sends the load: PrincipalRole (default), PrincipalUser or PrincipalRoot.
	Principal string
	Scenarios []string      // default DefaultScenarios()
	Clients   int           // concurrent clients, each with its own connection; 64
	Duration  time.Duration // measured time per scenario; 10s
	Warmup    time.Duration // time run before the measurement of each scenario; 1s (negative: none)
	MaxCount  int64         // Seats of the hot license, and instances the launches scenario's configuration allows; Clients
	Licenses  int           // licenses the spread scenario spreads over; 64
	KeyAlg    string        // the issuer key: AlgES256 (default) or AlgPS384
	// RetryEvery sends every n-th checkout of each client again with its ClientToken, which
	// must answer the same checkout and take nothing more; 0 never.
	RetryEvery int
	Timeout    time.Duration // per request; 30s
	Ceiling    CeilingConfig
	Logger     *slog.Logger // progress; discarded when nil
}

// CeilingConfig configures the in-process baselines.
type CeilingConfig struct {
	Skip     bool
	Database string        // a scratch database for the store's rate: a PostgreSQL DSN, or "" for a temporary SQLite file
	Dir      string        // where the temporary SQLite file goes; os.TempDir()
	Duration time.Duration // per measurement; 3s
	Writers  int           // PostgreSQL group-commit writers; the store's default
}

func (c *Config) defaults() error {
	if c.Endpoint == "" {
		return errors.New("loadgen: no endpoint")
	}
	if c.Credentials.AccessKeyID == "" || c.Credentials.SecretAccessKey == "" {
		return errors.New("loadgen: no credentials: give an access key ID and secret of the account to set up in")
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.Principal == "" {
		c.Principal = PrincipalRole
	}
	if c.Principal != PrincipalRole && c.Principal != PrincipalUser && c.Principal != PrincipalRoot {
		return fmt.Errorf("loadgen: principal %q: want role, user or root", c.Principal)
	}
	if len(c.Scenarios) == 0 {
		c.Scenarios = DefaultScenarios()
	}
	for _, s := range c.Scenarios {
		if !slices.Contains(DefaultScenarios(), s) && !slices.Contains(OptionalScenarios(), s) {
			return fmt.Errorf("loadgen: scenario %q: want one of %s", s, strings.Join(append(DefaultScenarios(), OptionalScenarios()...), ", "))
		}
	}
	if c.Clients <= 0 {
		c.Clients = 64
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	switch {
	case c.Warmup == 0:
		c.Warmup = time.Second
	case c.Warmup < 0:
		c.Warmup = 0
	}
	if c.MaxCount <= 0 {
		c.MaxCount = int64(c.Clients)
	}
	if c.Licenses <= 0 {
		c.Licenses = 64
	}
	switch strings.ToUpper(c.KeyAlg) {
	case "", AlgES256:
		c.KeyAlg = AlgES256
	case AlgPS384, "RSA":
		c.KeyAlg = AlgPS384
	default:
		return fmt.Errorf("loadgen: key algorithm %q: want ES256 or PS384", c.KeyAlg)
	}
	if c.RetryEvery < 0 {
		c.RetryEvery = 0
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Ceiling.Duration <= 0 {
		c.Ceiling.Duration = 3 * time.Second
	}
	if c.Ceiling.Dir == "" {
		c.Ceiling.Dir = os.TempDir()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Report is the outcome of a run.
type Report struct {
	Started   time.Time         `json:"started"`
	Endpoint  string            `json:"endpoint"`
	Machine   Machine           `json:"machine"`
	Principal string            `json:"principal"` // the ARN the load was sent as
	KeyAlg    string            `json:"key_alg"`
	Clients   int               `json:"clients"`
	Scenarios []*ScenarioResult `json:"scenarios"`
	Baselines Baselines         `json:"baselines"`
	// Violations lists every invariant check that failed; empty when all held.
	Violations []string `json:"violations"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPUModel   string `json:"cpu_model,omitempty"`
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
}

// Baselines are the ceilings measured in the same run.
type Baselines struct {
	// IdentityOpsPerSec is the GetCallerIdentity rate of the identity scenario (0: not run).
	IdentityOpsPerSec float64 `json:"identity_ops_per_sec"`
	// StoreWritesPerSec is the store's durable group-commit rate in process: concurrent
	// Update calls that each insert a row and an audit event (0: not measured).
	StoreWritesPerSec float64 `json:"store_writes_per_sec"`
	StoreDialect      string  `json:"store_dialect,omitempty"`
	StoreBatch        float64 `json:"store_requests_per_transaction,omitempty"`
	// SignsPerSec is the issuer key algorithm's token signing rate in process, on every core.
	SignsPerSec float64 `json:"signs_per_sec"`
	SignAlg     string  `json:"sign_alg,omitempty"`
}

// ScenarioResult is what one scenario measured and checked.
type ScenarioResult struct {
	Name    string  `json:"name"`
	Clients int     `json:"clients"`
	Seconds float64 `json:"seconds"`
	// Ops counts the successful operations of the scenario (checkouts, check-ins,
	// extensions or GetCallerIdentity calls; not the ClientToken retries).
	Ops             int64              `json:"ops"`
	OpsPerSec       float64            `json:"ops_per_sec"`
	CheckoutsPerSec float64            `json:"checkouts_per_sec,omitempty"`
	Latency         Latency            `json:"latency"`
	ByOperation     map[string]Latency `json:"by_operation"`
	Errors          map[string]int64   `json:"errors"`
	// ClientCPUPerOp and ServerCPUPerOp are CPU microseconds per operation of the load
	// generator and of the server (from its /metrics; 0 when unavailable).
	ClientCPUPerOp float64 `json:"client_cpu_us_per_op"`
	ServerCPUPerOp float64 `json:"server_cpu_us_per_op,omitempty"`
	ServerRSSBytes int64   `json:"server_rss_bytes,omitempty"`
	// ServerBatch is the server's mean number of write requests per store transaction
	// (group commit) during the scenario, from its /metrics.
	ServerBatch float64 `json:"server_requests_per_transaction,omitempty"`
	// Ratios compare OpsPerSec (CheckoutsPerSec for "signing") with the baselines:
	// "identity", "store" and "signing".
	Ratios map[string]float64 `json:"ratios,omitempty"`
	Checks []Check            `json:"checks"`
}

// Check is one invariant check.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Run sets up what the scenarios need through the API, runs them one after the other,
// measures the in-process baselines and returns the report. An error means the run could
// not be made; violated invariants are in Report.Violations.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	ep, err := parseEndpoint(cfg.Endpoint, cfg.Region, cfg.Timeout)
	if err != nil {
		return nil, err
	}
	r := &runner{cfg: cfg, ep: ep, log: cfg.Logger, runID: randomID(8)}
	r.admin = ep.newClient(newSigner(cfg.Credentials, cfg.Region))
	defer r.admin.close()
	rep := &Report{Started: time.Now().UTC(), Endpoint: cfg.Endpoint, Machine: machine(), KeyAlg: cfg.KeyAlg, Clients: cfg.Clients}

	account, arn, err := whoAmI(ctx, r.admin)
	if err != nil {
		return nil, fmt.Errorf("loadgen: the credentials given do not work against %s: %w", cfg.Endpoint, err)
	}
	r.account = account
	r.log.Info("setting up", "account", account, "as", arn, "principal", cfg.Principal, "run", r.runID)
	session := time.Duration(len(cfg.Scenarios))*(cfg.Duration+cfg.Warmup) + time.Hour
	creds, principalARN, err := setUpPrincipal(ctx, ep, r.admin, account, cfg.Principal, r.runID, session)
	if err != nil {
		return nil, err
	}
	r.load = newSigner(creds, cfg.Region)
	rep.Principal = principalARN

	for _, name := range cfg.Scenarios {
		r.log.Info("running scenario", "scenario", name, "clients", cfg.Clients, "duration", cfg.Duration.String())
		res, err := r.scenario(ctx, name)
		if err != nil {
			return nil, err
		}
		rep.Scenarios = append(rep.Scenarios, res)
		if name == ScenarioIdentity {
			rep.Baselines.IdentityOpsPerSec = res.OpsPerSec
		}
	}
	if !cfg.Ceiling.Skip {
		r.log.Info("measuring the in-process ceilings", "duration", cfg.Ceiling.Duration.String())
		if err := measureCeilings(ctx, cfg, &rep.Baselines); err != nil {
			return nil, err
		}
	}
	for _, s := range rep.Scenarios {
		s.Ratios = ratios(s, &rep.Baselines)
		for _, c := range s.Checks {
			if !c.OK {
				rep.Violations = append(rep.Violations, s.Name+": "+c.Name+": "+c.Detail)
			}
		}
	}
	if rep.Violations == nil {
		rep.Violations = []string{}
	}
	return rep, nil
}

// ratios compares a scenario's rate with the baselines that bound it.
func ratios(s *ScenarioResult, b *Baselines) map[string]float64 {
	out := map[string]float64{}
	if b.IdentityOpsPerSec > 0 && s.Name != ScenarioIdentity {
		out["identity"] = s.OpsPerSec / b.IdentityOpsPerSec
	}
	if b.StoreWritesPerSec > 0 {
		out["store"] = s.OpsPerSec / b.StoreWritesPerSec
	}
	if b.SignsPerSec > 0 && s.CheckoutsPerSec > 0 {
		out["signing"] = s.CheckoutsPerSec / b.SignsPerSec
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}
