package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Resource types of the inventory, as License Manager names them.
const (
	ResourceInstance = "EC2_INSTANCE"
	ResourceHost     = "EC2_HOST"
	ResourceImage    = "EC2_AMI"
	ResourceManaged  = "SYSTEMS_MANAGER_MANAGED_INSTANCE" // a machine the inventory agent reports
)

// States of managed instances.
const (
	ManagedActive       = "active"       // reporting, or silent for less than the stale period
	ManagedInactive     = "inactive"     // silent for the stale period: its units released
	ManagedDeregistered = "deregistered" // DeregisterManagedInstance: never counted again
)

// Resource is one resource of the inventory: an instance, a Dedicated Host or an image.
type Resource struct {
	ARN              string
	ID               string // i-…, h-…, ami-…
	Type             string // ResourceInstance, ResourceHost or ResourceImage
	AccountID        string
	Region           string
	State            string // instances: EC2 states; hosts: available, released; images: available, deregistered
	InstanceType     string
	InstanceFamily   string
	Platform         string
	Architecture     string
	VCPUs            int64 // instances: the type's default vCPUs; hosts: total vCPUs
	Cores            int64 // physical cores (an instance's CpuOptions applied)
	ThreadsPerCore   int64 // an instance's CpuOptions applied; Cores × ThreadsPerCore are the vCPUs running
	Sockets          int64 // hosts; an instance on a host: the host's
	CPUOptions       bool  // an instance launched with CpuOptions
	Tenancy          string
	HostID           string
	ImageID          string
	AvailabilityZone string
	Name             string
	Description      string
	ReservationID    string
	LaunchIndex      int64
	ClientToken      string
	UsedVCPUs        int64 // hosts: vCPUs of the running instances placed on it
	CreatedAt        time.Time
	UpdatedAt        time.Time
	LastSeenAt       time.Time
	PlatformType     string // managed instances: Linux, Windows, MacOS
	PlatformVersion  string // managed instances
	ComputerName     string // managed instances
	IPAddress        string // managed instances
	AgentVersion     string // managed instances
}

const resourceColumns = `arn, resource_id, resource_type, account_id, region, state, instance_type, instance_family, platform,
	architecture, vcpus, cores, threads_per_core, sockets, cpu_options, tenancy, host_id, image_id, availability_zone, name, description,
	reservation_id, launch_index, client_token, used_vcpus, created_at, updated_at, last_seen_at,
	platform_type, platform_version, computer_name, ip_address, agent_version`

func scanResource(sc interface{ Scan(...any) error }) (*Resource, error) {
	r := &Resource{}
	err := sc.Scan(&r.ARN, &r.ID, &r.Type, &r.AccountID, &r.Region, &r.State, &r.InstanceType, &r.InstanceFamily, &r.Platform,
		&r.Architecture, &r.VCPUs, &r.Cores, &r.ThreadsPerCore, &r.Sockets, &r.CPUOptions, &r.Tenancy, &r.HostID, &r.ImageID, &r.AvailabilityZone,
		&r.Name, &r.Description, &r.ReservationID, &r.LaunchIndex, &r.ClientToken, &r.UsedVCPUs,
		ScanTime(&r.CreatedAt), ScanTime(&r.UpdatedAt), ScanTime(&r.LastSeenAt),
		&r.PlatformType, &r.PlatformVersion, &r.ComputerName, &r.IPAddress, &r.AgentVersion)
	return r, err
}

// AddResource stores a new resource. It returns an error wrapping ErrConflict when its ARN
// or ID exists.
func (tx *Tx) AddResource(ctx context.Context, r *Resource) error {
	res, err := tx.Exec(ctx, `INSERT INTO inventory_resources (`+resourceColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		r.ARN, r.ID, r.Type, r.AccountID, r.Region, r.State, r.InstanceType, r.InstanceFamily, r.Platform,
		r.Architecture, r.VCPUs, r.Cores, r.ThreadsPerCore, r.Sockets, r.CPUOptions, r.Tenancy, r.HostID, r.ImageID, r.AvailabilityZone,
		r.Name, r.Description, r.ReservationID, r.LaunchIndex, r.ClientToken, r.UsedVCPUs, r.CreatedAt, r.UpdatedAt, r.LastSeenAt,
		r.PlatformType, r.PlatformVersion, r.ComputerName, r.IPAddress, r.AgentVersion)
	if err != nil {
		return fmt.Errorf("store: add resource %s: %w", r.ARN, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: add resource %s: %w", r.ARN, ErrConflict)
	}
	return nil
}

// Resource returns a resource by ARN, or an error wrapping ErrNotFound.
func (tx *Tx) Resource(ctx context.Context, arn string) (*Resource, error) {
	r, err := scanResource(tx.QueryRow(ctx, `SELECT `+resourceColumns+` FROM inventory_resources WHERE arn = ?`, arn))
	if err != nil {
		return nil, fmt.Errorf("store: resource %s: %w", arn, tx.noRows(err))
	}
	return r, nil
}

// LockResource returns a resource by ARN and locks its row for the rest of the transaction,
// or an error wrapping ErrNotFound.
func (tx *Tx) LockResource(ctx context.Context, arn string) (*Resource, error) {
	r, err := scanResource(tx.QueryRow(ctx, `UPDATE inventory_resources SET state = state WHERE arn = ? RETURNING `+resourceColumns, arn))
	if err != nil {
		return nil, fmt.Errorf("store: resource %s: %w", arn, tx.noRows(err))
	}
	return r, nil
}

// SetResourceState moves a resource to state to if it is in one of from, and reports whether
// it did. Only one of several concurrent transactions sees a given transition succeed.
func (tx *Tx) SetResourceState(ctx context.Context, arn string, from []string, to string, now time.Time) (bool, error) {
	var b strings.Builder
	b.WriteString(`UPDATE inventory_resources SET state = ?, updated_at = ?, last_seen_at = ? WHERE arn = ?`)
	args := []any{to, now, now, arn}
	inFilter(&b, &args)("state", from)
	res, err := tx.Exec(ctx, b.String(), args...)
	if err != nil {
		return false, fmt.Errorf("store: %s → %s: %w", arn, to, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: %s → %s: %w", arn, to, err)
	}
	return n == 1, nil
}

// TakeHostCapacity places vcpus on an available host if they fit beside the running
// instances already on it, in one conditional UPDATE, and reports whether they did.
func (tx *Tx) TakeHostCapacity(ctx context.Context, hostARN string, vcpus int64) (bool, error) {
	res, err := tx.Exec(ctx, `UPDATE inventory_resources SET used_vcpus = used_vcpus + ?
		WHERE arn = ? AND resource_type = 'EC2_HOST' AND state = 'available' AND used_vcpus + ? <= vcpus`, vcpus, hostARN, vcpus)
	if err != nil {
		return false, fmt.Errorf("store: place %d vCPUs on %s: %w", vcpus, hostARN, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: place %d vCPUs on %s: %w", vcpus, hostARN, err)
	}
	return n == 1, nil
}

// ReleaseHostCapacity returns vcpus an instance held on a host.
func (tx *Tx) ReleaseHostCapacity(ctx context.Context, hostARN string, vcpus int64) error {
	if _, err := tx.Exec(ctx, `UPDATE inventory_resources SET used_vcpus = used_vcpus - ? WHERE arn = ?`, vcpus, hostARN); err != nil {
		return fmt.Errorf("store: release %d vCPUs of %s: %w", vcpus, hostARN, err)
	}
	return nil
}

// Inventory filter conditions.
const (
	ConditionEquals     = "EQUALS"
	ConditionNotEquals  = "NOT_EQUALS"
	ConditionBeginsWith = "BEGINS_WITH"
	ConditionContains   = "CONTAINS"
)

// InventoryCondition compares a resource attribute with a value: Attribute is "account_id",
// "platform", "resource_id", "resource_type" or "application_name" (some installed
// application's name compares, or for NOT_EQUALS none does); Condition one of the Condition
// constants.
type InventoryCondition struct {
	Attribute string
	Condition string
	Value     string
}

// inventoryColumn returns the column of an attribute InventoryCondition may name.
func inventoryColumn(attribute string) (string, bool) {
	switch attribute {
	case "account_id", "platform", "resource_id", "resource_type":
		return attribute, true
	}
	return "", false
}

// ResourceQuery selects resources of an account in a region, in resource ID order. Empty
// lists match everything.
type ResourceQuery struct {
	AccountID     string
	AccountIDs    []string // when set, the resources of these accounts instead of AccountID's
	Region        string
	Types         []string
	IDs           []string
	States        []string
	InstanceTypes []string
	ImageIDs      []string
	HostIDs       []string
	ClientToken   string
	Conditions    []InventoryCondition // all must hold
	After         string               // resource ID of the last resource of the previous page
	Limit         int
}

// Resources returns the resources q selects.
func (tx *Tx) Resources(ctx context.Context, q ResourceQuery) ([]*Resource, error) {
	var b strings.Builder
	b.WriteString(`SELECT ` + resourceColumns + ` FROM inventory_resources WHERE region = ? AND resource_id > ?`)
	args := []any{q.Region, q.After}
	in := inFilter(&b, &args)
	if q.AccountIDs != nil {
		if len(q.AccountIDs) == 0 {
			return nil, nil
		}
		in("account_id", q.AccountIDs)
	} else {
		b.WriteString(" AND account_id = ?")
		args = append(args, q.AccountID)
	}
	in("resource_type", q.Types)
	in("resource_id", q.IDs)
	in("state", q.States)
	in("instance_type", q.InstanceTypes)
	in("image_id", q.ImageIDs)
	in("host_id", q.HostIDs)
	if q.ClientToken != "" {
		b.WriteString(" AND client_token = ?")
		args = append(args, q.ClientToken)
	}
	for _, c := range q.Conditions {
		if c.Attribute == "application_name" {
			if err := tx.applicationCondition(&b, &args, c); err != nil {
				return nil, err
			}
			continue
		}
		col, ok := inventoryColumn(c.Attribute)
		if !ok {
			return nil, fmt.Errorf("store: resources: no attribute %q", c.Attribute)
		}
		switch c.Condition {
		case ConditionEquals:
			b.WriteString(" AND " + col + " = ?")
			args = append(args, c.Value)
		case ConditionNotEquals:
			b.WriteString(" AND " + col + " <> ?")
			args = append(args, c.Value)
		case ConditionBeginsWith:
			b.WriteString(" AND substr(" + col + ", 1, length(CAST(? AS TEXT))) = ?")
			args = append(args, c.Value, c.Value)
		case ConditionContains:
			b.WriteString(" AND " + tx.containsSQL(col))
			args = append(args, c.Value)
		default:
			return nil, fmt.Errorf("store: resources: no condition %q", c.Condition)
		}
	}
	b.WriteString(" ORDER BY resource_id")
	if q.Limit > 0 {
		fmt.Fprintf(&b, " LIMIT %d", q.Limit)
	}
	rows, err := tx.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("store: resources: %w", err)
	}
	defer rows.Close()
	var out []*Resource
	for rows.Next() {
		r, err := scanResource(rows)
		if err != nil {
			return nil, fmt.Errorf("store: resources: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: resources: %w", err)
	}
	return out, nil
}

// containsSQL returns the condition that col contains the next argument.
func (tx *Tx) containsSQL(col string) string {
	if tx.db.dialect == DialectPostgres {
		return "strpos(" + col + ", ?) > 0"
	}
	return "instr(" + col + ", ?) > 0"
}

// applicationCondition writes the condition on installed applications' names: some
// application's name compares, or for NOT_EQUALS, no application has that name.
func (tx *Tx) applicationCondition(b *strings.Builder, args *[]any, c InventoryCondition) error {
	const exists = " AND EXISTS (SELECT 1 FROM inventory_applications a WHERE a.resource_arn = inventory_resources.arn AND "
	switch c.Condition {
	case ConditionEquals:
		b.WriteString(exists + "a.name = ?)")
		*args = append(*args, c.Value)
	case ConditionNotEquals:
		b.WriteString(" AND NOT EXISTS (SELECT 1 FROM inventory_applications a WHERE a.resource_arn = inventory_resources.arn AND a.name = ?)")
		*args = append(*args, c.Value)
	case ConditionBeginsWith:
		b.WriteString(exists + "substr(a.name, 1, length(CAST(? AS TEXT))) = ?)")
		*args = append(*args, c.Value, c.Value)
	case ConditionContains:
		b.WriteString(exists + tx.containsSQL("a.name") + ")")
		*args = append(*args, c.Value)
	default:
		return fmt.Errorf("store: resources: no condition %q", c.Condition)
	}
	return nil
}

// HostInstances returns the instances placed on a host that are not terminated, in ID order.
func (tx *Tx) HostInstances(ctx context.Context, hostID string) ([]*Resource, error) {
	rows, err := tx.Query(ctx, `SELECT `+resourceColumns+` FROM inventory_resources
		WHERE host_id = ? AND resource_type = 'EC2_INSTANCE' AND state <> 'terminated' ORDER BY resource_id`, hostID)
	if err != nil {
		return nil, fmt.Errorf("store: instances of host %s: %w", hostID, err)
	}
	defer rows.Close()
	var out []*Resource
	for rows.Next() {
		r, err := scanResource(rows)
		if err != nil {
			return nil, fmt.Errorf("store: instances of host %s: %w", hostID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, fmt.Errorf("store: instances of host %s: %w", hostID, err)
	}
	return out, nil
}
