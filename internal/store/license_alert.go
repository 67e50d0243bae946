package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Reads for the license dashboard and the alert list: alerts with their delivery state, and
// per-configuration aggregates computed in SQL (GROUP BY) so that a configuration with many
// associations is summed by the database, not loaded row by row.

// LicenseAlertRecord is an alert as stored, with its delivery state.
type LicenseAlertRecord struct {
	LicenseAlert
	// DeliveredAt is when a webhook took the alert; zero while it is pending or has no topic.
	DeliveredAt time.Time
}

const licenseAlertRecordColumns = `a.id, a.config_arn, a.account_id, a.kind, a.resource_arn, a.consumed, a.license_count, a.message,
	a.created_at, a.topic_arn, a.delivery_attempts, a.delivered_at`

func scanLicenseAlertRecord(sc interface{ Scan(...any) error }) (*LicenseAlertRecord, error) {
	a := &LicenseAlertRecord{}
	err := sc.Scan(&a.ID, &a.ConfigARN, &a.AccountID, &a.Kind, &a.ResourceARN, &a.Consumed, &a.LicenseCount, &a.Message,
		ScanTime(&a.CreatedAt), &a.TopicARN, &a.DeliveryAttempts, ScanTime(&a.DeliveredAt))
	return a, err
}

// alertIDBound returns the smallest alert ID made at t or later: alert IDs begin with 16 hex
// digits of their Unix microseconds (timeOrderedID). Times before 1970 give the empty string,
// which every ID follows.
func alertIDBound(t time.Time) string {
	if t.UnixMicro() <= 0 {
		return ""
	}
	return fmt.Sprintf("%016x", t.UnixMicro())
}

// LicenseAlertQuery selects the alerts of an account's configurations in one region, newest
// first. Empty and zero members match everything.
type LicenseAlertQuery struct {
	AccountID string
	Region    string // of the configuration that raised the alert
	ConfigARN string
	Kinds     []string
	Since     time.Time // raised at or after
	Until     time.Time // raised before
	Before    string    // only alerts whose ID sorts before this one (the previous page's last)
	Limit     int
}

// LicenseAlertRecords returns the alerts q selects, newest first. It reads the
// (account_id, id) index backwards from Before or Until.
func (tx *Tx) LicenseAlertRecords(ctx context.Context, q LicenseAlertQuery) ([]*LicenseAlertRecord, error) {
	var b strings.Builder
	b.WriteString(`SELECT ` + licenseAlertRecordColumns + ` FROM license_configuration_alerts a
		JOIN license_configurations c ON c.arn = a.config_arn
		WHERE a.account_id = ? AND c.region = ?`)
	args := []any{q.AccountID, q.Region}
	if q.ConfigARN != "" {
		b.WriteString(" AND a.config_arn = ?")
		args = append(args, q.ConfigARN)
	}
	inFilter(&b, &args)("a.kind", q.Kinds)
	if bound := alertIDBound(q.Since); bound != "" {
		b.WriteString(" AND a.id >= ?")
		args = append(args, bound)
	}
	if !q.Until.IsZero() {
		b.WriteString(" AND a.id < ?")
		args = append(args, alertIDBound(q.Until))
	}
	if q.Before != "" {
		b.WriteString(" AND a.id < ?")
		args = append(args, q.Before)
	}
	b.WriteString(" ORDER BY a.id DESC")
	if q.Limit > 0 {
		fmt.Fprintf(&b, " LIMIT %d", q.Limit)
	}
	rows, err := tx.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("store: alerts of %s: %w", q.AccountID, err)
	}
	defer rows.Close()
	var out []*LicenseAlertRecord
	for rows.Next() {
		a, err := scanLicenseAlertRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("store: alerts of %s: %w", q.AccountID, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: alerts of %s: %w", q.AccountID, err)
	}
	return out, nil
}

// AlertSummary is what one configuration's alerts add up to.
type AlertSummary struct {
	Since  int64               // alerts raised at or after the time asked for
	Latest *LicenseAlertRecord // the newest alert, however old; nil when there is none
}

// LicenseAlertSummaries returns, per configuration ARN among configARNs, the number of
// alerts raised at or after since and the newest alert. Configurations without alerts are
// left out. The count reads the (config_arn, id) index from since on; the newest alert is
// one index lookup per configuration.
func (tx *Tx) LicenseAlertSummaries(ctx context.Context, configARNs []string, since time.Time) (map[string]*AlertSummary, error) {
	out := map[string]*AlertSummary{}
	if len(configARNs) == 0 {
		return out, nil
	}
	var b strings.Builder
	b.WriteString(`SELECT config_arn, COUNT(*) FROM license_configuration_alerts WHERE id >= ?`)
	args := []any{alertIDBound(since)}
	inFilter(&b, &args)("config_arn", configARNs)
	b.WriteString(" GROUP BY config_arn")
	rows, err := tx.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("store: alert summaries: %w", err)
	}
	for rows.Next() {
		var arn string
		var n int64
		if err := rows.Scan(&arn, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: alert summaries: %w", err)
		}
		out[arn] = &AlertSummary{Since: n}
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		rows.Close()
		return nil, fmt.Errorf("store: alert summaries: %w", err)
	}
	rows.Close()

	b.Reset()
	b.WriteString(`SELECT ` + licenseAlertRecordColumns + ` FROM license_configuration_alerts a WHERE a.id IN (
		SELECT (SELECT MAX(m.id) FROM license_configuration_alerts m WHERE m.config_arn = c.arn)
		FROM license_configurations c WHERE 1 = 1`)
	args = args[:0]
	inFilter(&b, &args)("c.arn", configARNs)
	b.WriteString(")")
	rows, err = tx.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("store: latest alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanLicenseAlertRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("store: latest alerts: %w", err)
		}
		if out[a.ConfigARN] == nil {
			out[a.ConfigARN] = &AlertSummary{}
		}
		out[a.ConfigARN].Latest = a
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: latest alerts: %w", err)
	}
	return out, nil
}

// TenancySummary counts, per EC2 tenancy (default, dedicated, host), the instances
// associated with a configuration and the servers its instances and hosts occupy.
type TenancySummary struct {
	Instances map[string]int64
	// Servers counts each instance of default or dedicated tenancy as one server, and each
	// Dedicated Host once: an associated host and the host of every associated instance
	// placed on one.
	Servers map[string]int64
}

// LicenseTenancySummaries returns the TenancySummary of each configuration among configARNs
// that has instances or hosts associated, in two GROUP BY queries over the associations (the
// primary key's config_arn prefix) joined to the inventory by primary key.
func (tx *Tx) LicenseTenancySummaries(ctx context.Context, configARNs []string) (map[string]*TenancySummary, error) {
	out := map[string]*TenancySummary{}
	if len(configARNs) == 0 {
		return out, nil
	}
	get := func(arn string) *TenancySummary {
		if out[arn] == nil {
			out[arn] = &TenancySummary{Instances: map[string]int64{}, Servers: map[string]int64{}}
		}
		return out[arn]
	}
	var b strings.Builder
	b.WriteString(`SELECT u.config_arn, r.tenancy, COUNT(*) FROM license_configuration_usage u
		JOIN inventory_resources r ON r.arn = u.resource_arn
		WHERE u.resource_type = 'EC2_INSTANCE'`)
	var args []any
	inFilter(&b, &args)("u.config_arn", configARNs)
	b.WriteString(" GROUP BY u.config_arn, r.tenancy")
	if err := tx.scanCounts(ctx, b.String(), args, func(arn, tenancy string, n int64) {
		if tenancy == "" {
			tenancy = "default"
		}
		s := get(arn)
		s.Instances[tenancy] += n
		if tenancy != "host" {
			s.Servers[tenancy] += n
		}
	}); err != nil {
		return nil, fmt.Errorf("store: tenancy summaries: %w", err)
	}

	// Distinct Dedicated Hosts: associated themselves, or carrying an associated instance.
	b.Reset()
	args = args[:0]
	b.WriteString(`SELECT h.config_arn, 'host', COUNT(*) FROM (
		SELECT u.config_arn, r.resource_id AS host_id FROM license_configuration_usage u
		JOIN inventory_resources r ON r.arn = u.resource_arn WHERE u.resource_type = 'EC2_HOST'`)
	inFilter(&b, &args)("u.config_arn", configARNs)
	b.WriteString(`
		UNION
		SELECT u.config_arn, r.host_id FROM license_configuration_usage u
		JOIN inventory_resources r ON r.arn = u.resource_arn WHERE u.resource_type = 'EC2_INSTANCE' AND r.host_id <> ''`)
	inFilter(&b, &args)("u.config_arn", configARNs)
	b.WriteString(`) h GROUP BY h.config_arn`)
	if err := tx.scanCounts(ctx, b.String(), args, func(arn, tenancy string, n int64) {
		get(arn).Servers[tenancy] += n
	}); err != nil {
		return nil, fmt.Errorf("store: host summaries: %w", err)
	}
	return out, nil
}

// scanCounts runs a query returning (text, text, count) rows and calls fn for each.
func (tx *Tx) scanCounts(ctx context.Context, query string, args []any, fn func(a, b string, n int64)) error {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a, b string
		var n int64
		if err := rows.Scan(&a, &b, &n); err != nil {
			return err
		}
		fn(a, b, n)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return err
	}
	return nil
}
