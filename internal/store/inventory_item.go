package store

import (
	"context"
	"fmt"
	"time"
)

// InventoryItem is the latest inventory of one type a managed instance reported.
type InventoryItem struct {
	ResourceARN   string
	TypeName      string // AWS:InstanceInformation, AWS:Application, …
	SchemaVersion string
	CaptureTime   string // as the agent sent it
	ContentHash   string
	Content       string // JSON array of the entries
	UpdatedAt     time.Time
}

// Application is one application installed on a managed instance.
type Application struct {
	Name         string
	Architecture string
	Version      string
	Publisher    string
}

// PutInventoryItem stores an item, replacing the one of the same type the resource had.
func (tx *Tx) PutInventoryItem(ctx context.Context, it *InventoryItem) error {
	_, err := tx.Exec(ctx, `INSERT INTO inventory_items (resource_arn, type_name, schema_version, capture_time, content_hash, content, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (resource_arn, type_name) DO UPDATE SET schema_version = excluded.schema_version,
			capture_time = excluded.capture_time, content_hash = excluded.content_hash, content = excluded.content,
			updated_at = excluded.updated_at`,
		it.ResourceARN, it.TypeName, it.SchemaVersion, it.CaptureTime, it.ContentHash, it.Content, it.UpdatedAt)
	if err != nil {
		return fmt.Errorf("store: put inventory %s of %s: %w", it.TypeName, it.ResourceARN, err)
	}
	return nil
}

// InventoryItems returns a resource's items in type name order; typeName "" returns all.
func (tx *Tx) InventoryItems(ctx context.Context, resourceARN, typeName string) ([]*InventoryItem, error) {
	q := `SELECT resource_arn, type_name, schema_version, capture_time, content_hash, content, updated_at
		FROM inventory_items WHERE resource_arn = ?`
	args := []any{resourceARN}
	if typeName != "" {
		q += ` AND type_name = ?`
		args = append(args, typeName)
	}
	rows, err := tx.Query(ctx, q+` ORDER BY type_name`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: inventory of %s: %w", resourceARN, err)
	}
	defer rows.Close()
	var out []*InventoryItem
	for rows.Next() {
		it := &InventoryItem{}
		if err := rows.Scan(&it.ResourceARN, &it.TypeName, &it.SchemaVersion, &it.CaptureTime, &it.ContentHash, &it.Content, ScanTime(&it.UpdatedAt)); err != nil {
			return nil, fmt.Errorf("store: inventory of %s: %w", resourceARN, err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: inventory of %s: %w", resourceARN, err)
	}
	return out, nil
}

// ReplaceApplications sets the applications installed on a resource to apps (by name and
// architecture; the last of duplicates wins).
func (tx *Tx) ReplaceApplications(ctx context.Context, resourceARN string, apps []Application) error {
	if _, err := tx.Exec(ctx, `DELETE FROM inventory_applications WHERE resource_arn = ?`, resourceARN); err != nil {
		return fmt.Errorf("store: applications of %s: %w", resourceARN, err)
	}
	for _, a := range apps {
		_, err := tx.Exec(ctx, `INSERT INTO inventory_applications (resource_arn, name, architecture, version, publisher)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (resource_arn, name, architecture) DO UPDATE SET
				version = excluded.version, publisher = excluded.publisher`,
			resourceARN, a.Name, a.Architecture, a.Version, a.Publisher)
		if err != nil {
			return fmt.Errorf("store: applications of %s: %w", resourceARN, err)
		}
	}
	return nil
}

// Applications returns the applications installed on a resource, by name and architecture.
func (tx *Tx) Applications(ctx context.Context, resourceARN string) ([]Application, error) {
	rows, err := tx.Query(ctx, `SELECT name, architecture, version, publisher FROM inventory_applications
		WHERE resource_arn = ? ORDER BY name, architecture`, resourceARN)
	if err != nil {
		return nil, fmt.Errorf("store: applications of %s: %w", resourceARN, err)
	}
	defer rows.Close()
	var out []Application
	for rows.Next() {
		var a Application
		if err := rows.Scan(&a.Name, &a.Architecture, &a.Version, &a.Publisher); err != nil {
			return nil, fmt.Errorf("store: applications of %s: %w", resourceARN, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: applications of %s: %w", resourceARN, err)
	}
	return out, nil
}

// UpdateManagedInstance stores what a managed instance reported about itself (platform,
// CPU, name, address, agent version, state) and when: every field of r but its identity
// (ARN, ID, type, account, region) and creation time.
func (tx *Tx) UpdateManagedInstance(ctx context.Context, r *Resource) error {
	res, err := tx.Exec(ctx, `UPDATE inventory_resources SET state = ?, platform = ?, platform_type = ?, platform_version = ?,
		architecture = ?, vcpus = ?, cores = ?, threads_per_core = ?, sockets = ?, computer_name = ?, ip_address = ?,
		agent_version = ?, instance_type = ?, updated_at = ?, last_seen_at = ?
		WHERE arn = ? AND resource_type = 'SYSTEMS_MANAGER_MANAGED_INSTANCE'`,
		r.State, r.Platform, r.PlatformType, r.PlatformVersion, r.Architecture, r.VCPUs, r.Cores, r.ThreadsPerCore, r.Sockets,
		r.ComputerName, r.IPAddress, r.AgentVersion, r.InstanceType, r.UpdatedAt, r.LastSeenAt, r.ARN)
	if err != nil {
		return fmt.Errorf("store: update managed instance %s: %w", r.ARN, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: update managed instance %s: %w", r.ARN, ErrNotFound)
	}
	return nil
}

// StaleManagedInstances returns up to limit active managed instances (of every account) that
// last reported before cutoff, oldest first.
func (tx *Tx) StaleManagedInstances(ctx context.Context, cutoff time.Time, limit int) ([]*Resource, error) {
	rows, err := tx.Query(ctx, `SELECT `+resourceColumns+` FROM inventory_resources
		WHERE resource_type = 'SYSTEMS_MANAGER_MANAGED_INSTANCE' AND state = 'active' AND last_seen_at < ?
		ORDER BY last_seen_at, arn LIMIT ?`, cutoff, limit)
	if err != nil {
		return nil, fmt.Errorf("store: stale managed instances: %w", err)
	}
	defer rows.Close()
	var out []*Resource
	for rows.Next() {
		r, err := scanResource(rows)
		if err != nil {
			return nil, fmt.Errorf("store: stale managed instances: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: stale managed instances: %w", err)
	}
	return out, nil
}

// DeleteInventoryItems deletes everything a resource reported of its inventory: its items of
// every type and its installed applications.
func (tx *Tx) DeleteInventoryItems(ctx context.Context, resourceARN string) error {
	for _, q := range []string{
		`DELETE FROM inventory_items WHERE resource_arn = ?`,
		`DELETE FROM inventory_applications WHERE resource_arn = ?`,
	} {
		if _, err := tx.Exec(ctx, q, resourceARN); err != nil {
			return fmt.Errorf("store: delete inventory of %s: %w", resourceARN, err)
		}
	}
	return nil
}
