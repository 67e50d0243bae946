package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"
)

// The inventory types the agent reports, with the schema versions of SSM's inventory schema.
const (
	TypeInstanceInformation         = "AWS:InstanceInformation"
	TypeInstanceDetailedInformation = "AWS:InstanceDetailedInformation"
	TypeApplication                 = "AWS:Application"
	// TypeAgent is Allot's custom type for what SSM's types have no attribute for: the
	// agent's heartbeat interval (how soon the server may call it lost) and the architecture.
	TypeAgent = "Custom:AllotAgent"

	schemaInstanceInformation         = "1.0"
	schemaInstanceDetailedInformation = "1.0"
	schemaApplication                 = "1.1"
	schemaAgent                       = "1.0"
)

// MaxApplicationBytes is the largest AWS:Application content the agent sends (bytes of
// JSON). The server takes at most 1,000,000 bytes of content in one report (SSM's own types
// have no item limit of their own there), and the other items are a few hundred bytes: this
// leaves room for them and keeps the request under the server's default body limit (1 MiB).
// A list larger than that is sent without its longest optional attributes.
const MaxApplicationBytes = 900_000

// optionalApplicationAttributes are the AWS:Application attributes left out, in this order,
// while the list is larger than MaxApplicationBytes. Name, Version, Publisher, Architecture, Release
// and Epoch (what discovery and version matching read) always stay.
var optionalApplicationAttributes = []string{"Summary", "URL", "PackageId", "ApplicationType", "InstalledTime"}

// AgentType is the AgentType the agent reports in AWS:InstanceInformation.
const AgentType = "allot-agent"

// captureTimeFormat is the form of CaptureTime PutInventory requires: yyyy-MM-ddTHH:mm:ssZ.
const captureTimeFormat = "2006-01-02T15:04:05Z"

// maxValueLen is the longest attribute value SSM inventory accepts.
const maxValueLen = 4096

// Item is one inventory item of a PutInventory call. A nil Content sends the item by its
// hash alone, for a server that already has that content; an empty, non-nil Content sends an
// empty list.
type Item struct {
	TypeName      string
	SchemaVersion string
	CaptureTime   string
	ContentHash   string
	Content       []map[string]string `json:",omitzero"`
}

// Items returns the inventory items describing f as managed instance instanceID, captured
// at now: AWS:InstanceInformation, AWS:InstanceDetailedInformation, AWS:Application and
// Custom:AllotAgent (with heartbeat, the time between the agent's reports, when it reports
// periodically), each with its ContentHash. It also returns the application attributes left
// out to fit MaxApplicationBytes, if any.
func Items(f *Facts, instanceID, agentVersion string, heartbeat time.Duration, now time.Time) ([]Item, []string) {
	capture := now.UTC().Format(captureTimeFormat)
	info := map[string]string{
		"AgentType":       AgentType,
		"AgentVersion":    agentVersion,
		"ComputerName":    f.ComputerName,
		"InstanceId":      instanceID,
		"InstanceStatus":  "Active",
		"IpAddress":       f.IPAddress,
		"PlatformName":    f.Platform.Name,
		"PlatformType":    f.Platform.Type,
		"PlatformVersion": f.Platform.Version,
		"ResourceType":    "ManagedInstance",
	}
	detail := map[string]string{
		"CPUModel":              f.CPU.Model,
		"CPUs":                  strconv.Itoa(f.CPU.Logical),
		"CPUCores":              strconv.Itoa(f.CPU.Cores),
		"CPUSockets":            strconv.Itoa(f.CPU.Sockets),
		"CPUHyperThreadEnabled": strconv.FormatBool(f.CPU.HyperThreading),
		"OSServicePack":         "",
	}
	if f.CPU.SpeedMHz > 0 {
		detail["CPUSpeedMHz"] = strconv.Itoa(f.CPU.SpeedMHz)
	}
	apps := make([]map[string]string, 0, len(f.Applications))
	for _, a := range f.Applications {
		e := map[string]string{"Name": a.Name, "Version": a.Version, "Publisher": a.Publisher, "Architecture": a.Architecture}
		for k, v := range map[string]string{"Release": a.Release, "Epoch": a.Epoch, "InstalledTime": a.InstalledTime,
			"ApplicationType": a.ApplicationType, "URL": a.URL, "Summary": a.Summary, "PackageId": a.PackageID} {
			if v != "" {
				e[k] = v
			}
		}
		apps = append(apps, e)
	}
	dropped := fitApplications(apps)
	agent := map[string]string{"Architecture": f.Architecture}
	if heartbeat > 0 {
		agent["HeartbeatSeconds"] = strconv.Itoa(int(min(max(heartbeat, minHeartbeat), maxHeartbeat) / time.Second))
	}
	return []Item{
		newItem(TypeInstanceInformation, schemaInstanceInformation, capture, []map[string]string{info}),
		newItem(TypeInstanceDetailedInformation, schemaInstanceDetailedInformation, capture, []map[string]string{detail}),
		newItem(TypeApplication, schemaApplication, capture, apps),
		newItem(TypeAgent, schemaAgent, capture, []map[string]string{agent}),
	}, dropped
}

// The heartbeat interval Custom:AllotAgent may report.
const (
	minHeartbeat = 10 * time.Second
	maxHeartbeat = 24 * time.Hour
)

// fitApplications leaves optional attributes out of every entry, one attribute at a time in
// the order of optionalApplicationAttributes, while the list's JSON is larger than
// MaxApplicationBytes, and returns the attributes it left out.
func fitApplications(apps []map[string]string) []string {
	var dropped []string
	for _, k := range optionalApplicationAttributes {
		if b, _ := json.Marshal(apps); len(b) <= MaxApplicationBytes {
			break
		}
		for _, e := range apps {
			delete(e, k)
		}
		dropped = append(dropped, k)
	}
	return dropped
}

// newItem returns an item with its content, values cut to the length SSM accepts, and its
// hash.
func newItem(typeName, schema, capture string, content []map[string]string) Item {
	for _, e := range content {
		for k, v := range e {
			if len(v) > maxValueLen {
				e[k] = cutUTF8(v, maxValueLen)
			}
		}
	}
	return Item{TypeName: typeName, SchemaVersion: schema, CaptureTime: capture, ContentHash: ContentHash(content), Content: content}
}

// ContentHash returns the SHA-256, in hex, of content's canonical JSON: entries in the given
// order, keys sorted. It does not depend on the capture time, so unchanged facts hash
// equally from one report to the next.
func ContentHash(content []map[string]string) string {
	b, _ := json.Marshal(content) // strings only, so it cannot fail; maps marshal with sorted keys
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// cutUTF8 returns the longest prefix of s of at most n bytes that does not split a character.
func cutUTF8(s string, n int) string {
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
