package ssm

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/allot-dev/allot/internal/store"
)

// Inventory types Allot reads, with SSM's names, and the custom type its agent adds.
const (
	TypeInstanceInformation         = "AWS:InstanceInformation"
	TypeInstanceDetailedInformation = "AWS:InstanceDetailedInformation"
	TypeApplication                 = "AWS:Application"
	// TypeAgent is the custom inventory type the Allot agent reports what SSM's own types
	// have no attribute for: its heartbeat interval and the machine's architecture.
	TypeAgent = "Custom:AllotAgent"
)

// Platform types, as AWS:InstanceInformation's PlatformType names them.
const (
	PlatformLinux   = "Linux"
	PlatformWindows = "Windows"
	PlatformMacOS   = "MacOS"
)

// Heartbeats.
const (
	// DefaultHeartbeatSeconds is the heartbeat interval assumed for an agent that does not report its own.
	DefaultHeartbeatSeconds = 300
	minHeartbeatSeconds     = 10
	maxHeartbeatSeconds     = 86400
	// missedHeartbeats is how many heartbeats an instance may miss before it is shown
	// ConnectionLost.
	missedHeartbeats = 3
)

// schema describes an inventory type Allot reads: its schema version, the attributes an
// entry may have, and what each must hold.
type schema struct {
	version  string
	keys     []string // the attributes an entry may have
	required []string // attributes every entry must have, not empty
	single   bool     // the content is exactly one entry
	// check returns what is wrong with an entry's values ("" when nothing); instanceID is the
	// reporting instance.
	check func(instanceID string, e map[string]string) string
}

// schemaOf returns the schema of a type Allot reads, or nil for a Custom: type it stores
// without reading. ok is false for an AWS: type it does not accept.
func schemaOf(typeName string) (s *schema, ok bool) {
	switch typeName {
	case TypeInstanceInformation:
		return &schema{version: "1.0", single: true, check: checkInstanceInformation,
			keys: []string{"AgentType", "AgentVersion", "AgentStatus", "ComputerName", "InstanceId", "InstanceStatus",
				"IpAddress", "PlatformName", "PlatformType", "PlatformVersion", "ResourceType"}}, true
	case TypeInstanceDetailedInformation:
		return &schema{version: "1.0", single: true, check: checkDetailedInformation,
			keys: []string{"CPUModel", "CPUCores", "CPUs", "CPUSpeedMHz", "CPUSockets", "CPUHyperThreadEnabled", "OSServicePack"}}, true
	case TypeApplication:
		return &schema{version: "1.1", required: []string{"Name"},
			keys: []string{"Name", "ApplicationType", "Publisher", "Version", "Release", "Epoch", "InstalledTime",
				"Architecture", "URL", "Summary", "PackageId"}}, true
	case TypeAgent:
		return &schema{version: "1.0", single: true, check: checkAgent, keys: []string{"HeartbeatSeconds", "Architecture"}}, true
	}
	return nil, strings.HasPrefix(typeName, "Custom:")
}

// acceptedTypes names the types schemaOf accepts, for messages.
const acceptedTypes = TypeInstanceInformation + ", " + TypeInstanceDetailedInformation + ", " + TypeApplication +
	", " + TypeAgent + " and other Custom: types"

// checkContent checks an item's entries against its type's schema and returns what is wrong
// ("" when nothing).
func (s *schema) checkContent(instanceID string, content []map[string]string) string {
	if s.single && len(content) != 1 {
		return fmt.Sprintf("has %d entries; this type has exactly one", len(content))
	}
	for i, e := range content {
		for k := range e {
			if !slices.Contains(s.keys, k) {
				return fmt.Sprintf("entry %d has the attribute %q, which the type's schema (version %s) does not have; its attributes are %s",
					i, clip(k), s.version, strings.Join(s.keys, ", "))
			}
		}
		for _, k := range s.required {
			if e[k] == "" {
				return fmt.Sprintf("entry %d has no %s, which is required", i, k)
			}
		}
		if s.check != nil {
			if msg := s.check(instanceID, e); msg != "" {
				return fmt.Sprintf("entry %d: %s", i, msg)
			}
		}
	}
	return ""
}

func checkInstanceInformation(instanceID string, e map[string]string) string {
	if v := e["PlatformType"]; v != "" && v != PlatformLinux && v != PlatformWindows && v != PlatformMacOS {
		return fmt.Sprintf("PlatformType must be %s, %s or %s, not %q", PlatformLinux, PlatformWindows, PlatformMacOS, clip(v))
	}
	if v := e["InstanceId"]; v != "" && v != instanceID {
		return fmt.Sprintf("InstanceId is %q, but the inventory is reported for %s", clip(v), instanceID)
	}
	if v := e["ResourceType"]; v != "" && v != "ManagedInstance" {
		return fmt.Sprintf("ResourceType of a managed instance is ManagedInstance, not %q", clip(v))
	}
	return ""
}

func checkDetailedInformation(_ string, e map[string]string) string {
	for _, k := range []string{"CPUs", "CPUCores", "CPUSockets"} {
		if v := e[k]; v != "" {
			if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 || n > 1<<20 {
				return fmt.Sprintf("%s must be a whole number from 0 to %d, not %q", k, 1<<20, clip(v))
			}
		}
	}
	if v := e["CPUSpeedMHz"]; v != "" {
		if f, err := strconv.ParseFloat(v, 64); err != nil || f < 0 {
			return fmt.Sprintf("CPUSpeedMHz must be a number, not %q", clip(v))
		}
	}
	if v := e["CPUHyperThreadEnabled"]; v != "" && !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
		return fmt.Sprintf("CPUHyperThreadEnabled must be true or false, not %q", clip(v))
	}
	return ""
}

func checkAgent(_ string, e map[string]string) string {
	if v := e["HeartbeatSeconds"]; v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < minHeartbeatSeconds || n > maxHeartbeatSeconds {
			return fmt.Sprintf("HeartbeatSeconds must be a whole number from %d to %d, not %q", minHeartbeatSeconds, maxHeartbeatSeconds, clip(v))
		}
	}
	if len(e["Architecture"]) > 64 {
		return "Architecture must have at most 64 characters"
	}
	return ""
}

// applyFacts copies what an entry of typeName says about the machine to r: platform, name,
// address and agent version (AWS:InstanceInformation), CPU topology
// (AWS:InstanceDetailedInformation), architecture (Custom:AllotAgent).
func applyFacts(r *store.Resource, typeName string, e map[string]string) {
	switch typeName {
	case TypeInstanceInformation:
		r.Platform, r.PlatformType, r.PlatformVersion = e["PlatformName"], e["PlatformType"], e["PlatformVersion"]
		r.ComputerName, r.IPAddress, r.AgentVersion = e["ComputerName"], e["IpAddress"], e["AgentVersion"]
	case TypeInstanceDetailedInformation:
		atoi := func(k string) int64 { n, _ := strconv.ParseInt(e[k], 10, 64); return n } // checked already
		vcpus, cores, sockets := atoi("CPUs"), atoi("CPUCores"), atoi("CPUSockets")
		threads := int64(1)
		switch {
		case cores > 0 && vcpus >= cores && vcpus%cores == 0:
			threads = vcpus / cores
		case strings.EqualFold(e["CPUHyperThreadEnabled"], "true"):
			threads = 2
		}
		if vcpus == 0 {
			vcpus = cores * threads
		}
		if cores == 0 {
			cores = vcpus / threads
		}
		r.VCPUs, r.Cores, r.ThreadsPerCore, r.Sockets = vcpus, cores, threads, sockets
	case TypeAgent:
		r.Architecture = e["Architecture"]
	}
}

// heartbeatSeconds returns the heartbeat interval an agent reported in its
// Custom:AllotAgent content, or DefaultHeartbeatSeconds.
func heartbeatSeconds(content []map[string]string) int {
	if len(content) == 1 {
		if n, err := strconv.Atoi(content[0]["HeartbeatSeconds"]); err == nil && n >= minHeartbeatSeconds {
			return n
		}
	}
	return DefaultHeartbeatSeconds
}
