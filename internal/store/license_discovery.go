package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Automated discovery's own records: which associations it made (the usage row's discovered
// flag) and the refusals it last reported for each configuration and managed instance.

// Outcomes of automated discovery that leave a resource without the units of a configuration
// it matches, as SetDiscoveryOutcome records them.
const (
	DiscoveryRuleViolation  = "RULE_VIOLATION"          // the resource breaks the configuration's rules
	DiscoveryLimitExceeded  = "LIMIT_EXCEEDED"          // the units would exceed the hard limit
	DiscoveryTooManyConfigs = "TOO_MANY_CONFIGURATIONS" // the resource has the most associations allowed
)

// MarkLicenseUsageDiscovered records that automated discovery made the association of a
// resource with a configuration. It returns an error wrapping ErrNotFound when there is none.
func (tx *Tx) MarkLicenseUsageDiscovered(ctx context.Context, configARN, resourceARN string) error {
	res, err := tx.Exec(ctx, `UPDATE license_configuration_usage SET discovered = ? WHERE config_arn = ? AND resource_arn = ?`,
		true, configARN, resourceARN)
	if err != nil {
		return fmt.Errorf("store: mark %s on %s discovered: %w", configARN, resourceARN, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: mark %s on %s discovered: %w", configARN, resourceARN, ErrNotFound)
	}
	return nil
}

// DiscoveredLicenseUsage returns the ARNs of the configurations automated discovery
// associated a resource with.
func (tx *Tx) DiscoveredLicenseUsage(ctx context.Context, resourceARN string) (map[string]bool, error) {
	m, err := tx.configValues(ctx, `SELECT config_arn, '' FROM license_configuration_usage WHERE resource_arn = ? AND discovered = ?`,
		resourceARN, true)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out, nil
}

// DiscoveryOutcomes returns the outcomes recorded for a resource, by configuration ARN.
func (tx *Tx) DiscoveryOutcomes(ctx context.Context, resourceARN string) (map[string]string, error) {
	return tx.configValues(ctx, `SELECT config_arn, outcome FROM license_discovery_outcomes WHERE resource_arn = ?`, resourceARN)
}

// configValues runs a query of (config_arn, value) rows about the resource its first
// argument names.
func (tx *Tx) configValues(ctx context.Context, query string, args ...any) (map[string]string, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: discovery of %v: %w", args[0], err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("store: discovery of %v: %w", args[0], err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: discovery of %v: %w", args[0], err)
	}
	return out, nil
}

// SetDiscoveryOutcome records the outcome of automated discovery for a configuration and a
// resource: one of the Discovery constants, or "" when the resource is associated or no
// longer matches (the record is deleted).
func (tx *Tx) SetDiscoveryOutcome(ctx context.Context, configARN, resourceARN, outcome string, now time.Time) error {
	var err error
	if outcome == "" {
		_, err = tx.Exec(ctx, `DELETE FROM license_discovery_outcomes WHERE resource_arn = ? AND config_arn = ?`, resourceARN, configARN)
	} else {
		_, err = tx.Exec(ctx, `INSERT INTO license_discovery_outcomes (config_arn, resource_arn, outcome, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (resource_arn, config_arn) DO UPDATE SET outcome = excluded.outcome, updated_at = excluded.updated_at`,
			configARN, resourceARN, outcome, now)
	}
	if err != nil {
		return fmt.Errorf("store: discovery outcome of %s on %s: %w", configARN, resourceARN, err)
	}
	return nil
}

// ClearDiscoveryOutcomes deletes the outcomes recorded for a resource.
func (tx *Tx) ClearDiscoveryOutcomes(ctx context.Context, resourceARN string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM license_discovery_outcomes WHERE resource_arn = ?`, resourceARN); err != nil {
		return fmt.Errorf("store: discovery outcomes of %s: %w", resourceARN, err)
	}
	return nil
}

// RecordDiscoveryRun records that automated discovery ran for a configuration at t. A run
// recorded less than a second before t is kept, so that many reports at once do not all
// write the configuration's record.
func (tx *Tx) RecordDiscoveryRun(ctx context.Context, configARN string, t time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO license_discovery_runs (config_arn, last_run_at) VALUES (?, ?)
		ON CONFLICT (config_arn) DO UPDATE SET last_run_at = excluded.last_run_at
		WHERE license_discovery_runs.last_run_at < excluded.last_run_at`, configARN, t)
	if err != nil {
		return fmt.Errorf("store: discovery run of %s: %w", configARN, err)
	}
	return nil
}

// TouchDiscoveryRuns records that automated discovery ran at t for configurations whose run
// is recorded already (RecordDiscoveryRun), unless one was recorded less than a second before
// t. It changes no row of a configuration whose run was recorded within that second, so that
// reports arriving together do not wait on each other.
func (tx *Tx) TouchDiscoveryRuns(ctx context.Context, configARNs []string, t time.Time) error {
	if len(configARNs) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(`UPDATE license_discovery_runs SET last_run_at = ? WHERE last_run_at < ?`)
	args := []any{t, t.Add(-time.Second)}
	inFilter(&b, &args)("config_arn", configARNs)
	if _, err := tx.Exec(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("store: discovery runs: %w", err)
	}
	return nil
}

// DiscoveryLastRun returns when automated discovery last ran for a configuration; ok is
// false when it never has.
func (tx *Tx) DiscoveryLastRun(ctx context.Context, configARN string) (t time.Time, ok bool, err error) {
	err = tx.QueryRow(ctx, `SELECT last_run_at FROM license_discovery_runs WHERE config_arn = ?`, configARN).Scan(ScanTime(&t))
	if err = tx.noRows(err); errors.Is(err, ErrNotFound) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: discovery run of %s: %w", configARN, err)
	}
	return t, true, nil
}

// DiscoveryLastRuns returns when automated discovery last ran for each of the configurations
// named that it ran for, in one query: a page of ListLicenseConfigurations.
func (tx *Tx) DiscoveryLastRuns(ctx context.Context, configARNs []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	if len(configARNs) == 0 {
		return out, nil
	}
	var b strings.Builder
	b.WriteString(`SELECT config_arn, last_run_at FROM license_discovery_runs WHERE 1 = 1`)
	var args []any
	inFilter(&b, &args)("config_arn", configARNs)
	rows, err := tx.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("store: discovery runs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var arn string
		var t time.Time
		if err := rows.Scan(&arn, ScanTime(&t)); err != nil {
			return nil, fmt.Errorf("store: discovery runs: %w", err)
		}
		out[arn] = t
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: discovery runs: %w", err)
	}
	return out, nil
}

// RecountLicenseUsage changes the units an association holds from units (what it holds now)
// to want, for a resource whose CPUs changed, and reports whether it did (false: the
// association is gone or holds something else). A decrease returns the difference to the
// configuration; an increase the caller took with ConsumeLicenses in the same transaction.
func (tx *Tx) RecountLicenseUsage(ctx context.Context, configARN, resourceARN string, units, want int64) (bool, error) {
	res, err := tx.Exec(ctx, `UPDATE license_configuration_usage SET consumed = ? WHERE config_arn = ? AND resource_arn = ? AND consumed = ?`,
		want, configARN, resourceARN, units)
	if err != nil {
		return false, fmt.Errorf("store: recount %s on %s: %w", configARN, resourceARN, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: recount %s on %s: %w", configARN, resourceARN, err)
	}
	if n != 1 {
		return false, nil
	}
	if units > want {
		if err := tx.releaseLicenses(ctx, map[string]int64{configARN: units - want}); err != nil {
			return false, err
		}
	}
	return true, nil
}
