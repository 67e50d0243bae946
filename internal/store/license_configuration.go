package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// License configuration statuses.
const (
	ConfigurationAvailable = "AVAILABLE"
	ConfigurationDisabled  = "DISABLED"
)

// LicenseConfiguration is a self-managed license: what it counts, how many, and its rules.
type LicenseConfiguration struct {
	ARN                      string
	ID                       string // lic-…
	AccountID                string
	Region                   string
	Name                     string
	Description              string
	CountingType             string // vCPU, Instance, Core or Socket
	LicenseCount             *int64 // nil: not counted against a number
	HardLimit                bool
	Consumed                 int64 // units held by associated resources
	Status                   string
	Rules                    []string
	ProductInformation       string // JSON, as the licenseconfig package writes it
	DisassociateWhenNotFound bool
	LicenseExpiry            *int64
	CreatedAt                time.Time
	UpdatedAt                time.Time
}

const licenseConfigurationColumns = `arn, id, account_id, region, name, description, counting_type, license_count, hard_limit,
	consumed, status, rules, product_information, disassociate_when_not_found, license_expiry, created_at, updated_at`

func scanLicenseConfiguration(sc interface{ Scan(...any) error }) (*LicenseConfiguration, error) {
	c := &LicenseConfiguration{}
	var count, expiry sql.NullInt64
	var rules string
	err := sc.Scan(&c.ARN, &c.ID, &c.AccountID, &c.Region, &c.Name, &c.Description, &c.CountingType, &count, &c.HardLimit,
		&c.Consumed, &c.Status, &rules, &c.ProductInformation, &c.DisassociateWhenNotFound, &expiry,
		ScanTime(&c.CreatedAt), ScanTime(&c.UpdatedAt))
	if err != nil {
		return nil, err
	}
	if count.Valid {
		c.LicenseCount = &count.Int64
	}
	if expiry.Valid {
		c.LicenseExpiry = &expiry.Int64
	}
	if err := json.Unmarshal([]byte(rules), &c.Rules); err != nil {
		return nil, fmt.Errorf("license configuration %s: rules: %w", c.ARN, err)
	}
	return c, nil
}

func rulesJSON(rules []string) string {
	if rules == nil {
		rules = []string{}
	}
	b, _ := json.Marshal(rules) // strings always encode
	return string(b)
}

// CreateLicenseConfiguration stores a new configuration with nothing consumed. It returns an
// error wrapping ErrConflict when the ARN exists.
func (tx *Tx) CreateLicenseConfiguration(ctx context.Context, c *LicenseConfiguration) error {
	res, err := tx.Exec(ctx, `INSERT INTO license_configurations (`+licenseConfigurationColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		c.ARN, c.ID, c.AccountID, c.Region, c.Name, c.Description, c.CountingType, c.LicenseCount, c.HardLimit,
		c.Status, rulesJSON(c.Rules), c.ProductInformation, c.DisassociateWhenNotFound, c.LicenseExpiry, c.CreatedAt, c.UpdatedAt)
	if err != nil {
		return fmt.Errorf("store: create license configuration %s: %w", c.ARN, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: create license configuration %s: %w", c.ARN, ErrConflict)
	}
	return nil
}

// LicenseConfiguration returns a configuration by ARN, or an error wrapping ErrNotFound.
func (tx *Tx) LicenseConfiguration(ctx context.Context, arn string) (*LicenseConfiguration, error) {
	c, err := scanLicenseConfiguration(tx.QueryRow(ctx, `SELECT `+licenseConfigurationColumns+` FROM license_configurations WHERE arn = ?`, arn))
	if err != nil {
		return nil, fmt.Errorf("store: license configuration %s: %w", arn, tx.noRows(err))
	}
	return c, nil
}

// LockLicenseConfiguration returns a configuration and locks its row for the rest of the
// transaction (PostgreSQL; SQLite has one writer), or an error wrapping ErrNotFound.
func (tx *Tx) LockLicenseConfiguration(ctx context.Context, arn string) (*LicenseConfiguration, error) {
	c, err := scanLicenseConfiguration(tx.QueryRow(ctx, `UPDATE license_configurations SET consumed = consumed WHERE arn = ?
		RETURNING `+licenseConfigurationColumns, arn))
	if err != nil {
		return nil, fmt.Errorf("store: license configuration %s: %w", arn, tx.noRows(err))
	}
	return c, nil
}

// LicenseConfigurationQuery selects configurations of an account in a region, in ARN order.
// Empty lists and nil pointers match everything.
type LicenseConfigurationQuery struct {
	AccountID     string
	Region        string
	ARNs          []string
	CountingTypes []string
	HardLimit     *bool // LicenseCountHardLimit is
	LimitExceeded *bool // consumed > license_count is
	After         string
	Limit         int
}

// LicenseConfigurations returns the configurations q selects.
func (tx *Tx) LicenseConfigurations(ctx context.Context, q LicenseConfigurationQuery) ([]*LicenseConfiguration, error) {
	var b strings.Builder
	b.WriteString(`SELECT ` + licenseConfigurationColumns + ` FROM license_configurations WHERE account_id = ? AND region = ? AND arn > ?`)
	args := []any{q.AccountID, q.Region, q.After}
	in := inFilter(&b, &args)
	in("arn", q.ARNs)
	in("counting_type", q.CountingTypes)
	if q.HardLimit != nil {
		b.WriteString(" AND hard_limit = ?")
		args = append(args, *q.HardLimit)
	}
	if q.LimitExceeded != nil {
		if *q.LimitExceeded {
			b.WriteString(" AND license_count IS NOT NULL AND consumed > license_count")
		} else {
			b.WriteString(" AND (license_count IS NULL OR consumed <= license_count)")
		}
	}
	b.WriteString(" ORDER BY arn")
	if q.Limit > 0 {
		fmt.Fprintf(&b, " LIMIT %d", q.Limit)
	}
	rows, err := tx.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("store: license configurations: %w", err)
	}
	defer rows.Close()
	var out []*LicenseConfiguration
	for rows.Next() {
		c, err := scanLicenseConfiguration(rows)
		if err != nil {
			return nil, fmt.Errorf("store: license configurations: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: license configurations: %w", err)
	}
	return out, nil
}

// PutLicenseConfiguration stores c's changeable members (name, description, count, hard
// limit, status, rules, product information, DisassociateWhenNotFound, expiry, UpdatedAt);
// the counter is left alone. It returns an error wrapping ErrNotFound.
func (tx *Tx) PutLicenseConfiguration(ctx context.Context, c *LicenseConfiguration) error {
	res, err := tx.Exec(ctx, `UPDATE license_configurations SET name = ?, description = ?, license_count = ?, hard_limit = ?,
		status = ?, rules = ?, product_information = ?, disassociate_when_not_found = ?, license_expiry = ?, updated_at = ?
		WHERE arn = ?`,
		c.Name, c.Description, c.LicenseCount, c.HardLimit, c.Status, rulesJSON(c.Rules), c.ProductInformation,
		c.DisassociateWhenNotFound, c.LicenseExpiry, c.UpdatedAt, c.ARN)
	if err != nil {
		return fmt.Errorf("store: put license configuration %s: %w", c.ARN, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: put license configuration %s: %w", c.ARN, ErrNotFound)
	}
	return nil
}

// DeleteLicenseConfiguration deletes a configuration with its tags, alerts and recorded
// failures. It returns an error wrapping ErrNotFound, or ErrInUse (an *AssociatedError naming
// up to five resources) while resources are associated with it.
func (tx *Tx) DeleteLicenseConfiguration(ctx context.Context, arn string) error {
	if _, err := tx.LockLicenseConfiguration(ctx, arn); err != nil {
		return err
	}
	var n int64
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM license_configuration_usage WHERE config_arn = ?`, arn).Scan(&n); err != nil {
		tx.noteErr(err)
		return fmt.Errorf("store: delete license configuration %s: %w", arn, err)
	}
	if n > 0 {
		rows, err := tx.Query(ctx, `SELECT resource_arn FROM license_configuration_usage WHERE config_arn = ? ORDER BY resource_arn LIMIT 5`, arn)
		if err != nil {
			return fmt.Errorf("store: delete license configuration %s: %w", arn, err)
		}
		var names []string
		for rows.Next() {
			var r string
			if err := rows.Scan(&r); err != nil {
				rows.Close()
				return fmt.Errorf("store: delete license configuration %s: %w", arn, err)
			}
			names = append(names, r)
		}
		rows.Close()
		return fmt.Errorf("store: delete license configuration %s: %w", arn, &AssociatedError{Count: n, Resources: names})
	}
	for _, q := range []string{
		`DELETE FROM license_configuration_tags WHERE arn = ?`,
		`DELETE FROM license_configuration_alerts WHERE config_arn = ?`,
		`DELETE FROM license_configuration_failures WHERE config_arn = ?`,
		`DELETE FROM license_configurations WHERE arn = ?`,
	} {
		if _, err := tx.Exec(ctx, q, arn); err != nil {
			return fmt.Errorf("store: delete license configuration %s: %w", arn, err)
		}
	}
	return nil
}

// Consumption is a configuration's counter after units were taken from it.
type Consumption struct {
	Consumed     int64
	LicenseCount *int64
	HardLimit    bool
}

// Exceeded reports whether the counter is over the license count (possible under a soft limit).
func (c Consumption) Exceeded() bool { return c.LicenseCount != nil && c.Consumed > *c.LicenseCount }

// ConsumeLicenses takes units from an AVAILABLE configuration in one conditional UPDATE: under
// a hard limit only if they fit in the license count. It reports whether it took them and the
// counter afterwards. Callers taking from several configurations take them in ARN order.
func (tx *Tx) ConsumeLicenses(ctx context.Context, arn string, units int64) (Consumption, bool, error) {
	var c Consumption
	var count sql.NullInt64
	err := tx.QueryRow(ctx, `UPDATE license_configurations SET consumed = consumed + ?
		WHERE arn = ? AND status = 'AVAILABLE' AND (NOT hard_limit OR license_count IS NULL OR consumed + ? <= license_count)
		RETURNING consumed, license_count, hard_limit`, units, arn, units).Scan(&c.Consumed, &count, &c.HardLimit)
	if err = tx.noRows(err); err == ErrNotFound {
		return Consumption{}, false, nil
	}
	if err != nil {
		return Consumption{}, false, fmt.Errorf("store: consume %d of %s: %w", units, arn, err)
	}
	if count.Valid {
		c.LicenseCount = &count.Int64
	}
	return c, true, nil
}

// releaseLicenses returns units to configurations, in ARN order.
func (tx *Tx) releaseLicenses(ctx context.Context, units map[string]int64) error {
	arns := make([]string, 0, len(units))
	for a, n := range units {
		if n > 0 {
			arns = append(arns, a)
		}
	}
	slices.Sort(arns)
	for _, a := range arns {
		if _, err := tx.Exec(ctx, `UPDATE license_configurations SET consumed = consumed - ? WHERE arn = ?`, units[a], a); err != nil {
			return fmt.Errorf("store: release %d of %s: %w", units[a], a, err)
		}
	}
	return nil
}

// LicenseUsage is one association of a resource with a configuration, and what it holds.
type LicenseUsage struct {
	ConfigARN           string
	ResourceARN         string
	ResourceType        string // EC2_INSTANCE, EC2_HOST or EC2_AMI
	ResourceAccount     string
	AmiAssociationScope string
	Consumed            int64
	AssociatedAt        time.Time
}

const licenseUsageColumns = `config_arn, resource_arn, resource_type, resource_account, ami_association_scope, consumed, associated_at`

func scanLicenseUsage(sc interface{ Scan(...any) error }) (*LicenseUsage, error) {
	u := &LicenseUsage{}
	err := sc.Scan(&u.ConfigARN, &u.ResourceARN, &u.ResourceType, &u.ResourceAccount, &u.AmiAssociationScope, &u.Consumed, ScanTime(&u.AssociatedAt))
	return u, err
}

// AddLicenseUsage stores an association holding u.Consumed units, which the caller took with
// ConsumeLicenses in the same transaction. It returns an error wrapping ErrConflict when the
// resource is associated with the configuration already.
func (tx *Tx) AddLicenseUsage(ctx context.Context, u *LicenseUsage) error {
	res, err := tx.Exec(ctx, `INSERT INTO license_configuration_usage (`+licenseUsageColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		u.ConfigARN, u.ResourceARN, u.ResourceType, u.ResourceAccount, u.AmiAssociationScope, u.Consumed, u.AssociatedAt)
	if err != nil {
		return fmt.Errorf("store: associate %s with %s: %w", u.ResourceARN, u.ConfigARN, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: associate %s with %s: %w", u.ResourceARN, u.ConfigARN, ErrConflict)
	}
	return nil
}

// ResumeLicenseUsage sets the units an association holds when it holds none (a stopped
// instance started again), which the caller took with ConsumeLicenses, and reports whether
// it did.
func (tx *Tx) ResumeLicenseUsage(ctx context.Context, configARN, resourceARN string, units int64) (bool, error) {
	res, err := tx.Exec(ctx, `UPDATE license_configuration_usage SET consumed = ? WHERE config_arn = ? AND resource_arn = ? AND consumed = 0`,
		units, configARN, resourceARN)
	if err != nil {
		return false, fmt.Errorf("store: resume %s on %s: %w", configARN, resourceARN, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: resume %s on %s: %w", configARN, resourceARN, err)
	}
	return n == 1, nil
}

// ReleaseResourceLicenses returns every unit a resource holds to its configurations, keeping
// the associations (remove false: a stopped instance) or deleting them (remove true: a
// terminated instance, a released host). It returns the associations as they were.
func (tx *Tx) ReleaseResourceLicenses(ctx context.Context, resourceARN string, remove bool) ([]*LicenseUsage, error) {
	if remove {
		return tx.releaseUsage(ctx, `DELETE FROM license_configuration_usage WHERE resource_arn = ? RETURNING `+licenseUsageColumns, resourceARN)
	}
	// RETURNING gives the new row, so each association is zeroed by comparing and swapping
	// the units it held: only the transaction whose UPDATE matched returns them.
	us, err := tx.licenseUsages(ctx, `WHERE resource_arn = ? AND consumed > 0 ORDER BY config_arn`, resourceARN)
	if err != nil {
		return nil, err
	}
	var out []*LicenseUsage
	units := map[string]int64{}
	for _, u := range us {
		res, err := tx.Exec(ctx, `UPDATE license_configuration_usage SET consumed = 0 WHERE config_arn = ? AND resource_arn = ? AND consumed = ?`,
			u.ConfigARN, u.ResourceARN, u.Consumed)
		if err != nil {
			return nil, fmt.Errorf("store: release licenses of %s: %w", resourceARN, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			units[u.ConfigARN] += u.Consumed
			out = append(out, u)
		}
	}
	if err := tx.releaseLicenses(ctx, units); err != nil {
		return nil, err
	}
	return out, nil
}

// RemoveLicenseUsage deletes one association and returns its units to the configuration. It
// returns the association as it was, or an error wrapping ErrNotFound.
func (tx *Tx) RemoveLicenseUsage(ctx context.Context, configARN, resourceARN string) (*LicenseUsage, error) {
	us, err := tx.releaseUsage(ctx, `DELETE FROM license_configuration_usage WHERE resource_arn = ? AND config_arn = ? RETURNING `+licenseUsageColumns,
		resourceARN, configARN)
	if err != nil {
		return nil, err
	}
	if len(us) == 0 {
		return nil, fmt.Errorf("store: association of %s with %s: %w", resourceARN, configARN, ErrNotFound)
	}
	return us[0], nil
}

// releaseUsage runs a DELETE … RETURNING of usage rows and returns their units.
func (tx *Tx) releaseUsage(ctx context.Context, query string, args ...any) ([]*LicenseUsage, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: release licenses of %v: %w", args[0], err)
	}
	var out []*LicenseUsage
	units := map[string]int64{}
	for rows.Next() {
		u, err := scanLicenseUsage(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: release licenses of %v: %w", args[0], err)
		}
		out = append(out, u)
		units[u.ConfigARN] += u.Consumed
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		rows.Close()
		return nil, fmt.Errorf("store: release licenses of %v: %w", args[0], err)
	}
	rows.Close()
	if err := tx.releaseLicenses(ctx, units); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b *LicenseUsage) int { return strings.Compare(a.ConfigARN, b.ConfigARN) })
	return out, nil
}

// ResourceLicenseUsage returns a resource's associations in configuration ARN order.
func (tx *Tx) ResourceLicenseUsage(ctx context.Context, resourceARN string) ([]*LicenseUsage, error) {
	return tx.licenseUsages(ctx, `WHERE resource_arn = ? ORDER BY config_arn`, resourceARN)
}

// LicenseUsageQuery selects the associations of a configuration, in resource ARN order.
// Empty lists match everything.
type LicenseUsageQuery struct {
	ConfigARN        string
	ResourceARNs     []string
	ResourceTypes    []string
	ResourceAccounts []string
	ConsumingOnly    bool // only associations holding units
	After            string
	Limit            int
}

// LicenseUsages returns the associations q selects.
func (tx *Tx) LicenseUsages(ctx context.Context, q LicenseUsageQuery) ([]*LicenseUsage, error) {
	var b strings.Builder
	b.WriteString(`WHERE config_arn = ? AND resource_arn > ?`)
	args := []any{q.ConfigARN, q.After}
	in := inFilter(&b, &args)
	in("resource_arn", q.ResourceARNs)
	in("resource_type", q.ResourceTypes)
	in("resource_account", q.ResourceAccounts)
	if q.ConsumingOnly {
		b.WriteString(" AND consumed > 0")
	}
	b.WriteString(" ORDER BY resource_arn")
	if q.Limit > 0 {
		fmt.Fprintf(&b, " LIMIT %d", q.Limit)
	}
	return tx.licenseUsages(ctx, b.String(), args...)
}

func (tx *Tx) licenseUsages(ctx context.Context, where string, args ...any) ([]*LicenseUsage, error) {
	rows, err := tx.Query(ctx, `SELECT `+licenseUsageColumns+` FROM license_configuration_usage `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: license usage: %w", err)
	}
	defer rows.Close()
	var out []*LicenseUsage
	for rows.Next() {
		u, err := scanLicenseUsage(rows)
		if err != nil {
			return nil, fmt.Errorf("store: license usage: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: license usage: %w", err)
	}
	return out, nil
}

// UsageSummary is what the associations of one resource type hold of a configuration.
type UsageSummary struct {
	Associations int64
	Consumed     int64
}

// LicenseUsageSummaries returns, per configuration ARN and resource type, the number of
// associations and the units they hold.
func (tx *Tx) LicenseUsageSummaries(ctx context.Context, configARNs []string) (map[string]map[string]UsageSummary, error) {
	out := map[string]map[string]UsageSummary{}
	if len(configARNs) == 0 {
		return out, nil
	}
	var b strings.Builder
	b.WriteString(`SELECT config_arn, resource_type, COUNT(*), COALESCE(SUM(consumed), 0) FROM license_configuration_usage WHERE 1 = 1`)
	var args []any
	inFilter(&b, &args)("config_arn", configARNs)
	b.WriteString(" GROUP BY config_arn, resource_type")
	rows, err := tx.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("store: license usage summaries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var arn, typ string
		var s UsageSummary
		if err := rows.Scan(&arn, &typ, &s.Associations, &s.Consumed); err != nil {
			return nil, fmt.Errorf("store: license usage summaries: %w", err)
		}
		if out[arn] == nil {
			out[arn] = map[string]UsageSummary{}
		}
		out[arn][typ] = s
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: license usage summaries: %w", err)
	}
	return out, nil
}

// LicenseAlert is an alert a configuration raised.
type LicenseAlert struct {
	ID           string // sorts by time
	ConfigARN    string
	AccountID    string
	Kind         string // SOFT_LIMIT_EXCEEDED
	ResourceARN  string
	Consumed     int64
	LicenseCount int64
	Message      string
	CreatedAt    time.Time
	// TopicARN is the SNS topic the alert is to be delivered to; empty for none.
	TopicARN string
	// DeliveryAttempts counts failed deliveries.
	DeliveryAttempts int
}

// AddLicenseAlert stores an alert; a.ID is made from a.CreatedAt when empty.
func (tx *Tx) AddLicenseAlert(ctx context.Context, a *LicenseAlert) error {
	if a.ID == "" {
		a.ID = timeOrderedID(a.CreatedAt)
	}
	_, err := tx.Exec(ctx, `INSERT INTO license_configuration_alerts (id, config_arn, account_id, kind, resource_arn, consumed,
		license_count, message, created_at, topic_arn, next_delivery_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.ConfigARN, a.AccountID, a.Kind, a.ResourceARN, a.Consumed, a.LicenseCount, a.Message, a.CreatedAt, a.TopicARN, a.CreatedAt)
	if err != nil {
		return fmt.Errorf("store: alert of %s: %w", a.ConfigARN, err)
	}
	return nil
}

// LicenseAlerts returns a configuration's alerts, oldest first.
func (tx *Tx) LicenseAlerts(ctx context.Context, configARN string) ([]*LicenseAlert, error) {
	rows, err := tx.Query(ctx, `SELECT id, config_arn, account_id, kind, resource_arn, consumed, license_count, message, created_at
		FROM license_configuration_alerts WHERE config_arn = ? ORDER BY id`, configARN)
	if err != nil {
		return nil, fmt.Errorf("store: alerts of %s: %w", configARN, err)
	}
	defer rows.Close()
	var out []*LicenseAlert
	for rows.Next() {
		a := &LicenseAlert{}
		if err := rows.Scan(&a.ID, &a.ConfigARN, &a.AccountID, &a.Kind, &a.ResourceARN, &a.Consumed, &a.LicenseCount, &a.Message, ScanTime(&a.CreatedAt)); err != nil {
			return nil, fmt.Errorf("store: alerts of %s: %w", configARN, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: alerts of %s: %w", configARN, err)
	}
	return out, nil
}

// PendingLicenseAlerts returns up to limit alerts for one of topics, not delivered yet and due
// for a delivery attempt at now, oldest first.
func (tx *Tx) PendingLicenseAlerts(ctx context.Context, now time.Time, topics []string, limit int) ([]*LicenseAlert, error) {
	if len(topics) == 0 {
		return nil, nil
	}
	args := []any{now}
	for _, t := range topics {
		args = append(args, t)
	}
	args = append(args, limit)
	rows, err := tx.Query(ctx, `SELECT id, config_arn, account_id, kind, resource_arn, consumed, license_count, message, created_at,
		topic_arn, delivery_attempts FROM license_configuration_alerts
		WHERE topic_arn <> '' AND delivered_at IS NULL AND next_delivery_at <= ?
		AND topic_arn IN (?`+strings.Repeat(", ?", len(topics)-1)+`) ORDER BY next_delivery_at, id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: pending alerts: %w", err)
	}
	defer rows.Close()
	var out []*LicenseAlert
	for rows.Next() {
		a := &LicenseAlert{}
		if err := rows.Scan(&a.ID, &a.ConfigARN, &a.AccountID, &a.Kind, &a.ResourceARN, &a.Consumed, &a.LicenseCount, &a.Message,
			ScanTime(&a.CreatedAt), &a.TopicARN, &a.DeliveryAttempts); err != nil {
			return nil, fmt.Errorf("store: pending alerts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: pending alerts: %w", err)
	}
	return out, nil
}

// MarkLicenseAlertDelivered records that an alert was delivered at t.
func (tx *Tx) MarkLicenseAlertDelivered(ctx context.Context, id string, t time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE license_configuration_alerts SET delivered_at = ? WHERE id = ?`, t, id); err != nil {
		return fmt.Errorf("store: alert %s delivered: %w", id, err)
	}
	return nil
}

// RetryLicenseAlert records a failed delivery of an alert and when to try again.
func (tx *Tx) RetryLicenseAlert(ctx context.Context, id string, next time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE license_configuration_alerts SET delivery_attempts = delivery_attempts + 1,
		next_delivery_at = ? WHERE id = ?`, next, id); err != nil {
		return fmt.Errorf("store: alert %s retry: %w", id, err)
	}
	return nil
}

// LicenseFailure is an operation refused against a configuration.
type LicenseFailure struct {
	ID              string // sorts by time
	ConfigARN       string
	ResourceARN     string
	ResourceType    string
	ResourceOwnerID string
	OperationName   string
	RequestedBy     string
	ErrorMessage    string
	FailureTime     time.Time
}

// AddLicenseFailure records a refused operation; f.ID is made from f.FailureTime when empty.
// A failure against a configuration that no longer exists is dropped.
func (tx *Tx) AddLicenseFailure(ctx context.Context, f *LicenseFailure) error {
	if f.ID == "" {
		f.ID = timeOrderedID(f.FailureTime)
	}
	_, err := tx.Exec(ctx, `INSERT INTO license_configuration_failures (id, config_arn, resource_arn, resource_type, resource_owner_id,
		operation_name, requested_by, error_message, failure_time)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM license_configurations WHERE arn = ?)`,
		f.ID, f.ConfigARN, f.ResourceARN, f.ResourceType, f.ResourceOwnerID, f.OperationName, f.RequestedBy, f.ErrorMessage, f.FailureTime, f.ConfigARN)
	if err != nil {
		return fmt.Errorf("store: failure of %s: %w", f.ConfigARN, err)
	}
	return nil
}

// LicenseFailures returns a configuration's recorded failures after the ID after, oldest
// first, at most limit (0: all).
func (tx *Tx) LicenseFailures(ctx context.Context, configARN, after string, limit int) ([]*LicenseFailure, error) {
	q := `SELECT id, config_arn, resource_arn, resource_type, resource_owner_id, operation_name, requested_by, error_message, failure_time
		FROM license_configuration_failures WHERE config_arn = ? AND id > ? ORDER BY id`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := tx.Query(ctx, q, configARN, after)
	if err != nil {
		return nil, fmt.Errorf("store: failures of %s: %w", configARN, err)
	}
	defer rows.Close()
	var out []*LicenseFailure
	for rows.Next() {
		f := &LicenseFailure{}
		if err := rows.Scan(&f.ID, &f.ConfigARN, &f.ResourceARN, &f.ResourceType, &f.ResourceOwnerID, &f.OperationName, &f.RequestedBy,
			&f.ErrorMessage, ScanTime(&f.FailureTime)); err != nil {
			return nil, fmt.Errorf("store: failures of %s: %w", configARN, err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: failures of %s: %w", configARN, err)
	}
	return out, nil
}

// AssociatedError is the ErrInUse of a license configuration that resources are associated with.
type AssociatedError struct {
	Count     int64    // associated resources
	Resources []string // the ARNs of the first five, in ARN order
}

func (e *AssociatedError) Error() string {
	return fmt.Sprintf("store: %d resources are associated (%s)", e.Count, strings.Join(e.Resources, ", "))
}

// Is makes errors.Is(err, ErrInUse) true.
func (e *AssociatedError) Is(target error) bool { return target == ErrInUse }

// timeOrderedID returns an ID that sorts by t: 16 hex digits of Unix microseconds, a dash
// and 8 random hex digits.
func timeOrderedID(t time.Time) string {
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%016x-%s", t.UnixMicro(), hex.EncodeToString(b))
}

// MoveLicenseUsage moves the units one association of a configuration holds (units) to
// another association of the same configuration that holds none, leaving the configuration's
// counter as it is: the licenses of a Dedicated Host's sockets passing from one of its
// instances to another. It reports whether it moved them; false, with nothing written, when
// the first association no longer holds units. Compared and swapped as
// ReleaseLicenseUsage does; an error wrapping ErrConflict when the second association is gone
// or holds units (the caller rolls back).
func (tx *Tx) MoveLicenseUsage(ctx context.Context, configARN, fromARN, toARN string, units int64) (bool, error) {
	res, err := tx.Exec(ctx, `UPDATE license_configuration_usage SET consumed = 0 WHERE config_arn = ? AND resource_arn = ? AND consumed = ?`,
		configARN, fromARN, units)
	if err != nil {
		return false, fmt.Errorf("store: move %s from %s: %w", configARN, fromARN, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: move %s from %s: %w", configARN, fromARN, err)
	}
	if n != 1 {
		return false, nil
	}
	ok, err := tx.ResumeLicenseUsage(ctx, configARN, toARN, units)
	if err != nil {
		return false, err
	}
	if !ok {
		return false, fmt.Errorf("store: move %s from %s to %s: %w", configARN, fromARN, toARN, ErrConflict)
	}
	return true, nil
}
