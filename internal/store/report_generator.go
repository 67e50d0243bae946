package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Report generator periods and the statuses of their runs.
const (
	ReportDay     = "DAY"
	ReportWeek    = "WEEK"
	ReportMonth   = "MONTH"
	ReportOneTime = "ONE_TIME"

	ReportRunSuccess = "SUCCESS"
	ReportRunFailed  = "FAILED"
)

// ReportGenerator is a report generator: what it reports on, how often, when it runs next
// and how its last run went. Zero times stand for NULL columns.
type ReportGenerator struct {
	ARN            string
	ID             string // r-…
	AccountID      string
	Region         string
	Name           string
	Description    string
	ReportTypes    []string
	ConfigARNs     []string // ReportContext.licenseConfigurationArns
	ReportStart    time.Time
	ReportEnd      time.Time
	Period         string // ReportDay, ReportWeek, ReportMonth or ReportOneTime
	FrequencyValue int64
	ClientToken    string // the create call's
	CreateDigest   string // digest of the create call's parameters
	UpdateToken    string // the last update call's ClientToken
	UpdateDigest   string // digest of the last update call's parameters
	Version        int64  // counts changes of the definition
	Bucket         string // the bucket reports go to
	ScheduledFrom  time.Time
	NextRunAt      time.Time // zero: no run due
	Runs           int64     // runs claimed so far
	LastRunStatus  string    // "", ReportRunSuccess or ReportRunFailed
	LastRunReason  string
	LastRunAt      time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

const reportGeneratorColumns = `arn, id, account_id, region, name, description, report_types, config_arns, report_start, report_end,
	period, frequency_value, client_token, create_digest, update_token, update_digest, version, bucket, scheduled_from, next_run_at, runs,
	last_run_status, last_run_reason, last_run_at, created_at, updated_at`

func scanReportGenerator(sc interface{ Scan(...any) error }) (*ReportGenerator, error) {
	g := &ReportGenerator{}
	var types, configs string
	err := sc.Scan(&g.ARN, &g.ID, &g.AccountID, &g.Region, &g.Name, &g.Description, &types, &configs,
		ScanTime(&g.ReportStart), ScanTime(&g.ReportEnd), &g.Period, &g.FrequencyValue, &g.ClientToken, &g.CreateDigest,
		&g.UpdateToken, &g.UpdateDigest, &g.Version, &g.Bucket, ScanTime(&g.ScheduledFrom), ScanTime(&g.NextRunAt), &g.Runs,
		&g.LastRunStatus, &g.LastRunReason, ScanTime(&g.LastRunAt), ScanTime(&g.CreatedAt), ScanTime(&g.UpdatedAt))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(types), &g.ReportTypes); err != nil {
		return nil, fmt.Errorf("report generator %s: report types: %w", g.ARN, err)
	}
	if err := json.Unmarshal([]byte(configs), &g.ConfigARNs); err != nil {
		return nil, fmt.Errorf("report generator %s: configurations: %w", g.ARN, err)
	}
	return g, nil
}

// optTime is a time argument for a nullable column: nil for the zero time.
func optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// CreateReportGenerator stores a new report generator. It returns an error wrapping
// ErrConflict when its ARN exists or its account and region have a generator with its
// ClientToken already.
func (tx *Tx) CreateReportGenerator(ctx context.Context, g *ReportGenerator) error {
	res, err := tx.Exec(ctx, `INSERT INTO report_generators (`+reportGeneratorColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		g.ARN, g.ID, g.AccountID, g.Region, g.Name, g.Description, rulesJSON(g.ReportTypes), rulesJSON(g.ConfigARNs),
		optTime(g.ReportStart), optTime(g.ReportEnd), g.Period, g.FrequencyValue, g.ClientToken, g.CreateDigest, g.UpdateToken,
		g.UpdateDigest, g.Version, g.Bucket, g.ScheduledFrom, optTime(g.NextRunAt), g.Runs, g.LastRunStatus, g.LastRunReason, optTime(g.LastRunAt),
		g.CreatedAt, g.UpdatedAt)
	if err != nil {
		return fmt.Errorf("store: create report generator %s: %w", g.ARN, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: create report generator %s: %w", g.ARN, ErrConflict)
	}
	return nil
}

// ReportGenerator returns a report generator by ARN, or an error wrapping ErrNotFound.
func (tx *Tx) ReportGenerator(ctx context.Context, arn string) (*ReportGenerator, error) {
	g, err := scanReportGenerator(tx.QueryRow(ctx, `SELECT `+reportGeneratorColumns+` FROM report_generators WHERE arn = ?`, arn))
	if err != nil {
		return nil, fmt.Errorf("store: report generator %s: %w", arn, tx.noRows(err))
	}
	return g, nil
}

// ReportGeneratorByClientToken returns the report generator an account created in a region
// with a ClientToken, or an error wrapping ErrNotFound.
func (tx *Tx) ReportGeneratorByClientToken(ctx context.Context, accountID, region, token string) (*ReportGenerator, error) {
	g, err := scanReportGenerator(tx.QueryRow(ctx, `SELECT `+reportGeneratorColumns+` FROM report_generators
		WHERE account_id = ? AND region = ? AND client_token = ?`, accountID, region, token))
	if err != nil {
		return nil, fmt.Errorf("store: report generator with client token %q: %w", token, tx.noRows(err))
	}
	return g, nil
}

// LockReportGenerator returns a report generator and locks its row for the rest of the
// transaction (PostgreSQL; SQLite has one writer), or an error wrapping ErrNotFound.
func (tx *Tx) LockReportGenerator(ctx context.Context, arn string) (*ReportGenerator, error) {
	g, err := scanReportGenerator(tx.QueryRow(ctx, `UPDATE report_generators SET version = version WHERE arn = ?
		RETURNING `+reportGeneratorColumns, arn))
	if err != nil {
		return nil, fmt.Errorf("store: report generator %s: %w", arn, tx.noRows(err))
	}
	return g, nil
}

// ReportGeneratorQuery selects the report generators of an account in a region, in ARN
// order; ConfigARN, when set, only those reporting on that license configuration.
type ReportGeneratorQuery struct {
	AccountID string
	Region    string
	ConfigARN string
	After     string
	Limit     int
}

// ReportGenerators returns the report generators q selects.
func (tx *Tx) ReportGenerators(ctx context.Context, q ReportGeneratorQuery) ([]*ReportGenerator, error) {
	query := `SELECT ` + reportGeneratorColumns + ` FROM report_generators WHERE account_id = ? AND region = ? AND arn > ?`
	args := []any{q.AccountID, q.Region, q.After}
	if q.ConfigARN != "" {
		// config_arns is a JSON array of strings: match the quoted ARN, its LIKE wildcards escaped.
		b, _ := json.Marshal(q.ConfigARN) // a string always encodes
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(string(b))
		query += ` AND config_arns LIKE ? ESCAPE '\'`
		args = append(args, "%"+esc+"%")
	}
	query += ` ORDER BY arn`
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	return tx.reportGenerators(ctx, query, args...)
}

func (tx *Tx) reportGenerators(ctx context.Context, query string, args ...any) ([]*ReportGenerator, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: report generators: %w", err)
	}
	defer rows.Close()
	var out []*ReportGenerator
	for rows.Next() {
		g, err := scanReportGenerator(rows)
		if err != nil {
			return nil, fmt.Errorf("store: report generators: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: report generators: %w", err)
	}
	return out, nil
}

// PutReportGenerator stores g's definition (name, description, report types, context,
// frequency, update token and digest, bucket, schedule and next run) with UpdatedAt, and
// counts a new version; the runs and their outcome are left alone. It returns an error
// wrapping ErrNotFound.
func (tx *Tx) PutReportGenerator(ctx context.Context, g *ReportGenerator) error {
	res, err := tx.Exec(ctx, `UPDATE report_generators SET name = ?, description = ?, report_types = ?, config_arns = ?,
		report_start = ?, report_end = ?, period = ?, frequency_value = ?, update_token = ?, update_digest = ?, bucket = ?,
		scheduled_from = ?, next_run_at = ?, version = version + 1, updated_at = ? WHERE arn = ?`,
		g.Name, g.Description, rulesJSON(g.ReportTypes), rulesJSON(g.ConfigARNs), optTime(g.ReportStart), optTime(g.ReportEnd),
		g.Period, g.FrequencyValue, g.UpdateToken, g.UpdateDigest, g.Bucket, g.ScheduledFrom, optTime(g.NextRunAt), g.UpdatedAt, g.ARN)
	if err != nil {
		return fmt.Errorf("store: put report generator %s: %w", g.ARN, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: put report generator %s: %w", g.ARN, ErrNotFound)
	}
	return nil
}

// DeleteReportGenerator deletes a report generator with its tags. It returns an error
// wrapping ErrNotFound.
func (tx *Tx) DeleteReportGenerator(ctx context.Context, arn string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM report_generator_tags WHERE arn = ?`, arn); err != nil {
		return fmt.Errorf("store: delete report generator %s: %w", arn, err)
	}
	res, err := tx.Exec(ctx, `DELETE FROM report_generators WHERE arn = ?`, arn)
	if err != nil {
		return fmt.Errorf("store: delete report generator %s: %w", arn, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: delete report generator %s: %w", arn, ErrNotFound)
	}
	return nil
}

// DueReportGenerators returns the ARNs of up to limit report generators whose next run is
// due at now, the longest due first.
func (tx *Tx) DueReportGenerators(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT arn FROM report_generators WHERE next_run_at IS NOT NULL AND next_run_at <= ?
		ORDER BY next_run_at, arn LIMIT ?`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("store: due report generators: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("store: due report generators: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: due report generators: %w", err)
	}
	return out, nil
}

// ClaimReportRun claims the due run of a report generator for the caller: in one
// conditional UPDATE it counts the run and moves next_run_at to leaseUntil, so that no other
// process claims it meanwhile, and a run that never finishes (its process died) is due
// again then. It returns the generator as claimed (Runs is the run's number), or nil when
// no run was due at now (another process claimed it, or it was deleted).
func (tx *Tx) ClaimReportRun(ctx context.Context, arn string, now, leaseUntil time.Time) (*ReportGenerator, error) {
	g, err := scanReportGenerator(tx.QueryRow(ctx, `UPDATE report_generators SET runs = runs + 1, next_run_at = ?
		WHERE arn = ? AND next_run_at IS NOT NULL AND next_run_at <= ? RETURNING `+reportGeneratorColumns, leaseUntil, arn, now))
	if err = tx.noRows(err); err == ErrNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: claim report run of %s: %w", arn, err)
	}
	return g, nil
}

// ReportRun is the outcome of a claimed run.
type ReportRun struct {
	ARN     string
	Run     int64 // the run's number, as ClaimReportRun returned it
	Version int64 // the generator's version when the run was claimed
	Status  string
	Reason  string // why it failed
	At      time.Time
	Bucket  string    // the bucket written to; "" keeps the generator's
	NextRun time.Time // the next scheduled run; zero for none
}

// FinishReportRun records the outcome of a run, unless a later run was claimed since. The
// next run becomes r.NextRun unless the generator's definition changed since the claim (an
// update asked for a run of its own). A generator deleted meanwhile is left deleted.
func (tx *Tx) FinishReportRun(ctx context.Context, r ReportRun) error {
	_, err := tx.Exec(ctx, `UPDATE report_generators SET last_run_status = ?, last_run_reason = ?, last_run_at = ?,
		bucket = CASE WHEN ? = '' THEN bucket ELSE ? END,
		next_run_at = CASE WHEN version = ? THEN ? ELSE next_run_at END
		WHERE arn = ? AND runs = ?`,
		r.Status, r.Reason, r.At, r.Bucket, r.Bucket, r.Version, optTime(r.NextRun), r.ARN, r.Run)
	if err != nil {
		return fmt.Errorf("store: finish report run %d of %s: %w", r.Run, r.ARN, err)
	}
	return nil
}

// LockSetting returns the value of a setting and locks its row for the rest of the
// transaction (PostgreSQL; SQLite has one writer), so that a change derived from the value
// is not lost to a concurrent one; it returns an error wrapping ErrNotFound when the setting
// does not exist. (Report generators use it to set the account's report bucket.)
func (tx *Tx) LockSetting(ctx context.Context, key string) (string, error) {
	var v string
	if err := tx.QueryRow(ctx, `UPDATE settings SET value = value WHERE key = ? RETURNING value`, key).Scan(&v); err != nil {
		return "", fmt.Errorf("store: setting %q: %w", key, tx.noRows(err))
	}
	return v, nil
}
