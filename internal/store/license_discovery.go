package store

import (
	"context"
	"fmt"
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
