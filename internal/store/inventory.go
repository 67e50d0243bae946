package store

import (
	"context"
	"fmt"
	"slices"
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
// "platform", "resource_id", "resource_type", "application_name" (some installed
// application's name compares, or for NOT_EQUALS none does) or "tag:<key>" (EQUALS or
// NOT_EQUALS only: the resource has, or has not, the tag with that value); Condition one of
// the Condition constants.
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
	Tags          []TagFilter          // the resource's tags must pass each
	Conditions    []InventoryCondition // all must hold
	After         string               // resource ID of the last resource of the previous page
	Limit         int

	// TerminatedSince, when set, leaves out the instances terminated before it.
	TerminatedSince time.Time
}

// Resources returns the resources q selects.
//
// The query is shaped for the indexes of migration 00016, so that a page of a large inventory
// reads about as many rows as it returns, whatever the filter's selectivity (docs/performance.md,
// "Inventory filters"). With an application_name EQUALS or BEGINS_WITH condition it walks the
// installations of the applications that pass in resource ID order
// (inventory_applications_name_resource); platform BEGINS_WITH and CONTAINS become the list
// of the platforms present that pass, each walked in resource ID order
// (inventory_resources_platform); resource_id BEGINS_WITH on SQLite also bounds resource_id to
// the prefix's range. A list of several applications is a UNION ALL of one walk per name, and
// so is one of platforms on PostgreSQL (SQLite walks an IN list's values in order by itself).
// The lists are read in the query's transaction and the conditions are applied as well, so the
// results are the same. A query with a ClientToken reads that token's rows first.
func (tx *Tx) Resources(ctx context.Context, q ResourceQuery) ([]*Resource, error) {
	if q.AccountIDs != nil && len(q.AccountIDs) == 0 {
		return nil, nil
	}
	p := &resourcePlan{lowerOp: ">", lower: q.After, platforms: make([][]string, len(q.Conditions))}
	// On SQLite, which compares text bytewise, an ID that begins with a prefix is at least the
	// prefix: the tightest lower bound starts the index range.
	for _, c := range q.Conditions {
		if c.Attribute == "resource_id" && c.Condition == ConditionBeginsWith && tx.db.dialect == DialectSQLite && c.Value > p.lower {
			p.lowerOp, p.lower = ">=", c.Value
		}
	}
	var err error
	if p.drive, p.names, err = tx.drivingApplications(ctx, q.Conditions); err != nil {
		return nil, err
	}
	if p.drive >= 0 && len(p.names) == 0 {
		return nil, nil
	}
	split := -1 // the condition whose list the query walks value by value (p.drive: the names)
	if len(p.names) > 1 {
		split = p.drive
	}
	for i, c := range q.Conditions {
		if c.Attribute != "platform" || (c.Condition != ConditionBeginsWith && c.Condition != ConditionContains) {
			continue
		}
		platforms, ok, err := tx.platformsPassing(ctx, c)
		if err != nil {
			return nil, err
		}
		if ok && len(platforms) == 0 {
			return nil, nil
		}
		if ok {
			p.platforms[i] = platforms
			if tx.db.dialect == DialectPostgres && split < 0 && len(platforms) > 1 {
				split = i
			}
		}
	}
	var b strings.Builder
	var args []any
	switch {
	case split < 0:
		if err := tx.resourcesSelect(&b, &args, q, p, p.names, p.platforms); err != nil {
			return nil, err
		}
		b.WriteString(" ORDER BY " + p.order(tx))
		if q.Limit > 0 {
			fmt.Fprintf(&b, " LIMIT %d", q.Limit)
		}
	default:
		values := p.names
		if split != p.drive {
			values = p.platforms[split]
		}
		b.WriteString("SELECT * FROM (")
		for k, v := range values {
			names, platforms := p.names, slices.Clone(p.platforms)
			if split == p.drive {
				names = []string{v}
			} else {
				platforms[split] = []string{v}
			}
			if k > 0 {
				b.WriteString(" UNION ALL ")
			}
			b.WriteString("SELECT * FROM (")
			if err := tx.resourcesSelect(&b, &args, q, p, names, platforms); err != nil {
				return nil, err
			}
			b.WriteString(" ORDER BY " + p.order(tx))
			if q.Limit > 0 {
				fmt.Fprintf(&b, " LIMIT %d", q.Limit)
			}
			fmt.Fprintf(&b, ") AS v%d", k)
		}
		b.WriteString(") AS u ORDER BY resource_id")
		if q.Limit > 0 {
			fmt.Fprintf(&b, " LIMIT %d", q.Limit)
		}
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

// resourcePlan is how Resources reads a query.
type resourcePlan struct {
	lowerOp, lower string     // the lower bound of resource_id: "> After", or ">= prefix"
	drive          int        // the application_name condition the query walks from, or -1
	names          []string   // the applications that pass it
	platforms      [][]string // per condition, the platforms that pass it when listed
}

// order returns the column a query of p is in order of.
func (p *resourcePlan) order(tx *Tx) string {
	if p.drive >= 0 {
		return tx.arnResourceID("a.resource_arn")
	}
	return "resource_id"
}

// resourcesSelect writes the SELECT of q's resources, without ORDER BY, walking the
// installations of the applications named when p drives from one, with resources of the
// listed platforms only.
func (tx *Tx) resourcesSelect(b *strings.Builder, args *[]any, q ResourceQuery, p *resourcePlan, names []string, platforms [][]string) error {
	in := inFilter(b, args)
	switch {
	case p.drive < 0 && q.ClientToken != "":
		// A launch's retry: the resources of a ClientToken, found through its (partial) index
		// first, whatever else the query says. SQLite's planner, without statistics, would
		// rather read all of an account's instances in ID order; CROSS JOIN makes it read the
		// token's rows first.
		join := "CROSS JOIN"
		if tx.db.dialect == DialectPostgres {
			join = "JOIN"
		}
		b.WriteString(`SELECT ` + resourceColumns + ` FROM (SELECT arn AS token_arn FROM inventory_resources
			WHERE client_token = ? AND client_token <> ''`)
		*args = append(*args, q.ClientToken)
		if q.AccountIDs != nil {
			in("account_id", q.AccountIDs)
		} else {
			b.WriteString(" AND account_id = ?")
			*args = append(*args, q.AccountID)
		}
		b.WriteString(`) AS t ` + join + ` inventory_resources ON inventory_resources.arn = t.token_arn
			WHERE region = ? AND resource_id ` + p.lowerOp + ` ?`)
	case p.drive < 0:
		b.WriteString(`SELECT ` + resourceColumns + ` FROM inventory_resources WHERE region = ? AND resource_id ` + p.lowerOp + ` ?`)
	default:
		// One row per resource: of its installations that pass (one per name and
		// architecture), the least. An ARN ends in "/" and the resource ID, so ordering by
		// that suffix orders by resource ID.
		b.WriteString(`SELECT ` + qualifiedResourceColumns + ` FROM inventory_applications a
			JOIN inventory_resources ON inventory_resources.arn = a.resource_arn WHERE ` + p.order(tx) + ` > ?`)
		*args = append(*args, q.After)
		in("a.name", names)
		b.WriteString(` AND NOT EXISTS (SELECT 1 FROM inventory_applications b WHERE b.resource_arn = a.resource_arn`)
		in("b.name", p.names)
		b.WriteString(` AND (b.name < a.name OR b.name = a.name AND b.architecture < a.architecture))
			AND region = ? AND resource_id ` + p.lowerOp + ` ?`)
	}
	*args = append(*args, q.Region, p.lower)
	if q.AccountIDs != nil {
		in("account_id", q.AccountIDs)
	} else {
		b.WriteString(" AND account_id = ?")
		*args = append(*args, q.AccountID)
	}
	in("resource_type", q.Types)
	in("resource_id", q.IDs)
	in("state", q.States)
	in("instance_type", q.InstanceTypes)
	in("image_id", q.ImageIDs)
	in("host_id", q.HostIDs)
	tagFilters(b, args, q.Tags)
	if !q.TerminatedSince.IsZero() {
		b.WriteString(" AND (inventory_resources.state <> 'terminated' OR inventory_resources.updated_at >= ?)")
		*args = append(*args, q.TerminatedSince)
	}
	if q.ClientToken != "" {
		b.WriteString(" AND client_token = ?")
		*args = append(*args, q.ClientToken)
	}
	for i, c := range q.Conditions {
		if i == p.drive {
			continue
		}
		if c.Attribute == "application_name" {
			if err := tx.applicationCondition(b, args, c); err != nil {
				return err
			}
			continue
		}
		if key, ok := strings.CutPrefix(c.Attribute, "tag:"); ok {
			if err := tagCondition(b, args, key, c); err != nil {
				return err
			}
			continue
		}
		col, ok := inventoryColumn(c.Attribute)
		if !ok {
			return fmt.Errorf("store: resources: no attribute %q", c.Attribute)
		}
		switch c.Condition {
		case ConditionEquals:
			b.WriteString(" AND " + col + " = ?")
			*args = append(*args, c.Value)
		case ConditionNotEquals:
			b.WriteString(" AND " + col + " <> ?")
			*args = append(*args, c.Value)
		case ConditionBeginsWith:
			b.WriteString(" AND substr(" + col + ", 1, length(CAST(? AS TEXT))) = ?")
			*args = append(*args, c.Value, c.Value)
			if col == "resource_id" && tx.db.dialect == DialectSQLite {
				// Bytewise, every ID with the prefix is below upper: the index range ends there.
				if upper, ok := prefixUpperBound(c.Value); ok {
					b.WriteString(" AND resource_id < ?")
					*args = append(*args, upper)
				}
			}
		case ConditionContains:
			b.WriteString(" AND " + tx.containsSQL(col))
			*args = append(*args, c.Value)
		default:
			return fmt.Errorf("store: resources: no condition %q", c.Condition)
		}
		in("platform", platforms[i])
	}
	return nil
}

// maxApplicationList is how many application names a BEGINS_WITH condition may become a list
// of for the query to walk from; with more, the condition is applied to each resource.
const maxApplicationList = 1000

// maxApplicationNames is how many distinct application names PostgreSQL reads to find those
// that begin with a prefix; with more, the condition is applied to each resource.
const maxApplicationNames = 5000

// drivingApplications picks the application_name condition a query walks
// inventory_applications from: the first EQUALS, else the first BEGINS_WITH whose prefix at
// most maxApplicationList names have. It returns the condition's index (-1: none) and the
// names that pass it, read in the query's transaction: the same installations as the
// condition selects.
func (tx *Tx) drivingApplications(ctx context.Context, conds []InventoryCondition) (int, []string, error) {
	if i := slices.IndexFunc(conds, func(c InventoryCondition) bool {
		return c.Attribute == "application_name" && c.Condition == ConditionEquals
	}); i >= 0 {
		return i, []string{conds[i].Value}, nil
	}
	for i, c := range conds {
		if c.Attribute != "application_name" || c.Condition != ConditionBeginsWith {
			continue
		}
		// One index seek per distinct name. SQLite compares text bytewise, so the names with
		// the prefix are those in [prefix, upper); PostgreSQL compares by the database's
		// collation, where they need not be together: it reads every name.
		q, args, limit := `WITH RECURSIVE n (v) AS (
				SELECT min(name) FROM inventory_applications
				UNION ALL
				SELECT (SELECT min(name) FROM inventory_applications WHERE name > n.v) FROM n WHERE n.v IS NOT NULL
			) SELECT v FROM n WHERE v IS NOT NULL LIMIT ?`, []any{maxApplicationNames + 1}, maxApplicationNames
		if tx.db.dialect == DialectSQLite {
			upper, ok := prefixUpperBound(c.Value)
			if !ok {
				continue
			}
			q = `WITH RECURSIVE n (v) AS (
				SELECT min(name) FROM inventory_applications WHERE name >= ? AND name < ?
				UNION ALL
				SELECT (SELECT min(name) FROM inventory_applications WHERE name > n.v AND name < ?) FROM n WHERE n.v IS NOT NULL
			) SELECT v FROM n WHERE v IS NOT NULL LIMIT ?`
			args, limit = []any{c.Value, upper, upper, maxApplicationList + 1}, maxApplicationList
		}
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return 0, nil, fmt.Errorf("store: resources: applications: %w", err)
		}
		var names []string
		read := 0
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return 0, nil, fmt.Errorf("store: resources: applications: %w", err)
			}
			if read++; strings.HasPrefix(v, c.Value) {
				names = append(names, v)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			tx.noteErr(err)
			return 0, nil, fmt.Errorf("store: resources: applications: %w", err)
		}
		if read <= limit && len(names) <= maxApplicationList {
			return i, names, nil
		}
	}
	return -1, nil, nil
}

// qualifiedResourceColumns are resourceColumns with their table's name, for queries that
// join inventory_applications (which has columns of the same names).
var qualifiedResourceColumns = "inventory_resources." + strings.Join(strings.Fields(strings.ReplaceAll(resourceColumns, ",", " ")), ", inventory_resources.")

// arnResourceID returns the SQL of the resource ID an ARN column ends with (after its "/"),
// as the expression index of migration 00016 spells it.
func (tx *Tx) arnResourceID(col string) string {
	if tx.db.dialect == DialectPostgres {
		return "substr(" + col + ", strpos(" + col + ", '/') + 1)"
	}
	return "substr(" + col + ", instr(" + col + ", '/') + 1)"
}

// prefixUpperBound returns a string above, in bytewise order, every string that begins with
// prefix (prefix with its last byte below 0xff incremented and the rest dropped), or false
// when there is none (a prefix of 0xff bytes only).
func prefixUpperBound(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// maxPlatformList is how many platforms a BEGINS_WITH or CONTAINS condition on platform may
// become a list of; with more, the condition alone is applied.
const maxPlatformList = 200

// platformsPassing returns the distinct platforms of the inventory (of any account or region)
// that pass c, read with one index seek per distinct platform; ok is false when there are
// more than maxPlatformList of them. Read in the query's transaction, the list selects
// exactly the rows c does.
func (tx *Tx) platformsPassing(ctx context.Context, c InventoryCondition) (_ []string, ok bool, _ error) {
	rows, err := tx.Query(ctx, `WITH RECURSIVE p (v) AS (
			SELECT min(platform) FROM inventory_resources
			UNION ALL
			SELECT (SELECT min(platform) FROM inventory_resources WHERE platform > p.v) FROM p WHERE p.v IS NOT NULL
		) SELECT v FROM p WHERE v IS NOT NULL LIMIT ?`, maxPlatformList+1)
	if err != nil {
		return nil, false, fmt.Errorf("store: resources: platforms: %w", err)
	}
	defer rows.Close()
	var all, out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, false, fmt.Errorf("store: resources: platforms: %w", err)
		}
		all = append(all, v)
	}
	if err := rows.Err(); err != nil {
		tx.noteErr(err)
		return nil, false, fmt.Errorf("store: resources: platforms: %w", err)
	}
	if len(all) > maxPlatformList {
		return nil, false, nil
	}
	for _, v := range all {
		if c.Condition == ConditionBeginsWith && strings.HasPrefix(v, c.Value) || c.Condition == ConditionContains && strings.Contains(v, c.Value) {
			out = append(out, v)
		}
	}
	return out, true, nil
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
