package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/licenseconfig"
	"github.com/allot-dev/allot/internal/store"
)

// InventorySpec describes a synthetic inventory for measuring ListResourceInventory: EC2
// instances of several platforms and types, Dedicated Hosts, images and managed instances
// with installed applications, over a few accounts and two regions, in the proportions of a
// large estate. Resource i is a function of the spec and i alone, so a test can work out what
// a filter must find without holding the inventory in memory.
type InventorySpec struct {
	Resources   int      // how many
	Accounts    []string // owners: the first owns half, the others share the rest (all when alone)
	Region      string   // nine resources in ten; the others are in OtherRegion
	OtherRegion string
	Seed        uint64    // varies the resource IDs and the draws
	Time        time.Time // when they were made and last seen (resource i: i ms later); the zero time: 2026-01-01
	EC2Only     bool      // instances instead of managed instances
}

// InventoryResource is one resource of a synthetic inventory and the names of the
// applications installed on it (managed instances only).
type InventoryResource struct {
	*store.Resource
	Applications []string
}

// Platforms of the synthetic inventory's instances (EC2's PlatformDetails), with their share
// in thousandths. The last is the rare one: one instance in a thousand.
var inventoryPlatforms = []weighted{
	{"Linux/UNIX", 550}, {"Windows", 180}, {"Red Hat Enterprise Linux", 100}, {"Windows with SQL Server Standard", 60},
	{"SUSE Linux", 50}, {"Ubuntu Pro", 50}, {"Windows with SQL Server Enterprise", 9},
	{"Red Hat Enterprise Linux with SQL Server Enterprise", 1},
}

// Operating systems of the managed instances (the agent's platform name), with their share
// in thousandths, and whether each is Windows.
var inventoryManagedPlatforms = []weighted{
	{"Ubuntu", 350}, {"Amazon Linux", 300}, {"Microsoft Windows Server 2022 Datacenter", 200},
	{"Red Hat Enterprise Linux", 100}, {"Debian GNU/Linux", 50},
}

// Applications of managed instances: each has two to six, drawn with these shares (per
// thousand draws). The last is the rare one.
var inventoryApplications = []weighted{
	{"openssl", 220}, {"curl", 200}, {"python3", 170}, {"nginx", 120}, {"docker-ce", 100}, {"amazon-ssm-agent", 100},
	{"Microsoft SQL Server 2019 Enterprise", 60}, {"postgresql-15", 28}, {"Oracle Database 19c", 2},
}

// Instance types of the synthetic inventory: name, vCPUs, cores, threads per core.
var inventoryTypes = []struct {
	name         string
	vcpus, cores int64
}{
	{"t3.micro", 2, 1}, {"m5.large", 2, 1}, {"m5.xlarge", 4, 2}, {"m5.2xlarge", 8, 4}, {"c5.4xlarge", 16, 8}, {"r5.8xlarge", 32, 16},
}

type weighted struct {
	name string
	per  int // thousandths
}

// draw picks a name of ws by their shares (which sum to 1000).
func draw(r *rand.Rand, ws []weighted) string {
	n := r.IntN(1000)
	for _, w := range ws {
		if n < w.per {
			return w.name
		}
		n -= w.per
	}
	return ws[len(ws)-1].name
}

// InventoryPlatforms returns the platforms of the synthetic inventory's instances, the rare
// one last.
func InventoryPlatforms() []string { return names(inventoryPlatforms) }

// InventoryApplications returns the applications of the synthetic inventory's managed
// instances, the rare one last.
func InventoryApplications() []string { return names(inventoryApplications) }

func names(ws []weighted) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.name
	}
	return out
}

// mix64 is a bijection on uint64 (SplitMix64's finaliser): distinct inputs give distinct IDs.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// Resource returns resource i of the inventory (0 <= i < Resources).
func (s InventorySpec) Resource(i int) InventoryResource {
	r := rand.New(rand.NewPCG(s.Seed, uint64(i)))
	at := s.Time
	if at.IsZero() {
		at = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	at = at.Add(time.Duration(i) * time.Millisecond)
	hex := fmt.Sprintf("0%016x", mix64(uint64(i)^s.Seed<<40)) // EC2's 17 hex digits, a leading 0 as its IDs have
	account := s.Accounts[0]
	if n := len(s.Accounts); n > 1 && r.IntN(2) == 1 {
		account = s.Accounts[1+r.IntN(n-1)]
	}
	region := s.Region
	if s.OtherRegion != "" && r.IntN(10) == 0 {
		region = s.OtherRegion
	}
	res := &store.Resource{AccountID: account, Region: region, Tenancy: "", CreatedAt: at, UpdatedAt: at, LastSeenAt: at,
		AvailabilityZone: region + "a", Architecture: "x86_64"}
	out := InventoryResource{Resource: res}
	kind := r.IntN(100)
	if s.EC2Only && kind >= 68 {
		kind = 0
	}
	switch {
	case kind < 62: // instances
		t := inventoryTypes[r.IntN(len(inventoryTypes))]
		res.Type, res.ID = store.ResourceInstance, "i-"+hex
		res.ARN = licenseconfig.InstanceARN(region, account, res.ID)
		res.State = pick(r, []string{"running", "running", "running", "running", "running", "running", "running", "stopped", "terminated", "pending"})
		res.InstanceType, res.InstanceFamily = t.name, strings.SplitN(t.name, ".", 2)[0]
		res.VCPUs, res.Cores, res.ThreadsPerCore = t.vcpus, t.cores, t.vcpus/t.cores
		res.Platform, res.Tenancy = draw(r, inventoryPlatforms), "default"
		res.ImageID = fmt.Sprintf("ami-0%016x", mix64(uint64(r.IntN(max(s.Resources/20, 1)))^s.Seed<<40))
		res.ReservationID = "r-" + hex
	case kind < 63: // Dedicated Hosts
		res.Type, res.ID = store.ResourceHost, "h-"+hex
		res.ARN = licenseconfig.HostARN(region, account, res.ID)
		res.State = pick(r, []string{"available", "available", "available", "released"})
		res.InstanceFamily, res.VCPUs, res.Cores, res.Sockets = "m5", 96, 48, 2
	case kind < 68: // images
		res.Type, res.ID = store.ResourceImage, "ami-"+hex
		res.ARN = licenseconfig.ImageARN(region, res.ID)
		res.State = pick(r, []string{"available", "available", "available", "deregistered"})
		res.Platform = pick(r, []string{"Linux/UNIX", "Linux/UNIX", "Linux/UNIX", "Windows"})
		res.Name, res.Description = "image-"+hex[:8], "synthetic image"
	default: // managed instances
		res.Type, res.ID = store.ResourceManaged, "mi-"+hex
		res.ARN = licenseconfig.ManagedInstanceARN(region, account, res.ID)
		res.State = pick(r, []string{store.ManagedActive, store.ManagedActive, store.ManagedActive, store.ManagedActive, store.ManagedActive,
			store.ManagedActive, store.ManagedActive, store.ManagedActive, store.ManagedActive, store.ManagedInactive})
		res.Platform = draw(r, inventoryManagedPlatforms)
		res.PlatformType = "Linux"
		if strings.HasPrefix(res.Platform, "Microsoft Windows") {
			res.PlatformType = "Windows"
		}
		res.PlatformVersion, res.ComputerName, res.IPAddress, res.AgentVersion = "1", "host-"+hex[:8], "10.0.0.1", "3.3.0.0"
		res.VCPUs, res.Cores, res.ThreadsPerCore = 4, 2, 2
		seen := map[string]bool{}
		for range 2 + r.IntN(5) {
			if a := draw(r, inventoryApplications); !seen[a] {
				seen[a] = true
				out.Applications = append(out.Applications, a)
			}
		}
	}
	return out
}

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

// Rows per INSERT statement while seeding: under SQLite's and PostgreSQL's parameter limits.
const (
	seedResourceRows    = 200
	seedApplicationRows = 1000
)

// seedResourceColumns are the columns SeedInventory writes, in its arguments' order.
const seedResourceColumns = `arn, resource_id, resource_type, account_id, region, state, instance_type, instance_family, platform,
	architecture, vcpus, cores, threads_per_core, sockets, cpu_options, tenancy, host_id, image_id, availability_zone, name, description,
	reservation_id, launch_index, client_token, used_vcpus, created_at, updated_at, last_seen_at,
	platform_type, platform_version, computer_name, ip_address, agent_version`

// SeedInventory writes the spec's resources, their installed applications and the accounts
// that own them (those missing) into db, in tx, with multi-row INSERTs: about a minute for a
// million resources on SQLite. The accounts are created as plain accounts, in no organization.
func SeedInventory(ctx context.Context, tx *store.Tx, s InventorySpec) error {
	if len(s.Accounts) == 0 || s.Region == "" {
		return fmt.Errorf("loadgen: seed inventory: accounts and a region are required")
	}
	for _, a := range s.Accounts {
		err := tx.CreateAccount(ctx, &store.Account{ID: a, Name: "inventory-" + a, Status: "ACTIVE", CreatedAt: tx.Now()})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("loadgen: seed inventory: %w", err)
		}
	}
	var args, appArgs []any
	resRows, appRows := 0, 0
	flushResources := func() error {
		if resRows == 0 {
			return nil
		}
		q := `INSERT INTO inventory_resources (` + seedResourceColumns + `) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ", resRows), ", ")
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("loadgen: seed inventory: %w", err)
		}
		args, resRows = args[:0], 0
		return nil
	}
	flushApplications := func() error {
		if appRows == 0 {
			return nil
		}
		q := `INSERT INTO inventory_applications (resource_arn, name, architecture, version, publisher) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", appRows), ", ")
		if _, err := tx.Exec(ctx, q, appArgs...); err != nil {
			return fmt.Errorf("loadgen: seed inventory: %w", err)
		}
		appArgs, appRows = appArgs[:0], 0
		return nil
	}
	for i := range s.Resources {
		if i%10000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		ir := s.Resource(i)
		r := ir.Resource
		args = append(args, r.ARN, r.ID, r.Type, r.AccountID, r.Region, r.State, r.InstanceType, r.InstanceFamily, r.Platform,
			r.Architecture, r.VCPUs, r.Cores, r.ThreadsPerCore, r.Sockets, r.CPUOptions, r.Tenancy, r.HostID, r.ImageID, r.AvailabilityZone,
			r.Name, r.Description, r.ReservationID, r.LaunchIndex, r.ClientToken, r.UsedVCPUs, r.CreatedAt, r.UpdatedAt, r.LastSeenAt,
			r.PlatformType, r.PlatformVersion, r.ComputerName, r.IPAddress, r.AgentVersion)
		if resRows++; resRows == seedResourceRows {
			if err := flushResources(); err != nil {
				return err
			}
		}
		for _, a := range ir.Applications {
			appArgs = append(appArgs, r.ARN, a, "x86_64", "1.0", "synthetic")
			if appRows++; appRows == seedApplicationRows {
				// The resources they name go first (a foreign key).
				if err := flushResources(); err != nil {
					return err
				}
				if err := flushApplications(); err != nil {
					return err
				}
			}
		}
	}
	if err := flushResources(); err != nil {
		return err
	}
	return flushApplications()
}
