// Package agent is the inventory agent that runs on a machine: it reads the machine's real
// facts (CPU topology, operating system, installed packages) and reports them to Allot as an
// SSM managed instance, with the PutInventory call of the AWS Systems Manager API, signed
// with SigV4. Automated discovery on the server then associates the machine with the
// license configurations whose products it has installed.
package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
)

// Facts are what the agent knows about a machine.
type Facts struct {
	InstanceID     string `json:",omitempty"` // the managed-instance ID, mi-…; empty before the first report
	ComputerName   string
	IPAddress      string
	Platform       Platform
	Architecture   string // x86_64, arm64, …
	CPU            CPU
	PackageManager string // dpkg, rpm or none
	Applications   []Application
	Notes          []string `json:",omitempty"` // what could not be read, and what was assumed instead
}

// Platform is the operating system, from os-release.
type Platform struct {
	Name       string // NAME: "Ubuntu", "Debian GNU/Linux", …
	Type       string // Linux, MacOS or Windows
	Version    string // VERSION_ID: "22.04", "12", …
	ID         string // ID: ubuntu, debian, rhel, …
	PrettyName string // PRETTY_NAME
}

// Collector reads the facts of the machine it runs on. The zero value reads the machine's
// own files; tests point Root at a fixture tree. Safe for concurrent use.
type Collector struct {
	// Root is the directory the machine's files are read under ("" is "/"): proc/cpuinfo,
	// sys/devices/system/cpu, etc/os-release, var/lib/dpkg/status, ….
	Root string
	// Probe is the host or host:port whose route chooses the primary IP address (the
	// server's); "" uses the default route.
	Probe string
}

// Collect returns the machine's facts. What cannot be read is left empty and explained in
// Facts.Notes; only a failure to read a file that exists is an error.
func (c *Collector) Collect(ctx context.Context) (*Facts, error) {
	f := &Facts{Architecture: Architecture()}
	var err error
	if f.CPU, err = c.cpu(); err != nil {
		return nil, err
	}
	if f.CPU.Note != "" {
		f.Notes = append(f.Notes, f.CPU.Note)
	}
	if f.Platform, err = c.platform(); err != nil {
		return nil, err
	}
	if f.Platform.Name == "" {
		f.Notes = append(f.Notes, "no os-release file: the platform name and version are unknown")
	}
	if f.ComputerName, err = c.hostname(); err != nil {
		return nil, err
	}
	f.IPAddress = primaryIP(ctx, c.Probe)
	if f.IPAddress == "" {
		f.Notes = append(f.Notes, "no IP address: no route to the server or default route, and no interface address")
	}
	f.PackageManager, f.Applications, err = c.packages(ctx)
	switch {
	case errors.Is(err, errNoPackages):
		f.Notes = append(f.Notes, err.Error())
	case err != nil:
		return nil, err
	}
	return f, nil
}

// path returns the name of a machine file under the collector's root.
func (c *Collector) path(name string) string {
	root := c.Root
	if root == "" {
		root = "/"
	}
	return filepath.Join(root, filepath.FromSlash(name))
}

// readFile returns the contents of a machine file, or ok false when it does not exist.
func (c *Collector) readFile(name string) (data []byte, ok bool, err error) {
	data, err = os.ReadFile(c.path(name))
	switch {
	case err == nil:
		return data, true, nil
	case os.IsNotExist(err):
		return nil, false, nil
	}
	return nil, false, fmt.Errorf("agent: %w", err)
}

// Architecture returns the machine's architecture as SSM inventory names it: x86_64 for
// amd64, i386 for 386, else Go's name (arm64, …).
func Architecture() string { return normalizeArch(runtime.GOARCH) }

// normalizeArch names an architecture as SSM inventory does: amd64 is x86_64, 386 is i386.
func normalizeArch(arch string) string {
	switch a := strings.ToLower(strings.TrimSpace(arch)); a {
	case "amd64":
		return "x86_64"
	case "386":
		return "i386"
	default:
		return a
	}
}

// Version returns the agent's version: the module version it was built as, with the VCS
// revision when known, or "devel".
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 && v == "devel" {
			v += "+" + s.Value[:12]
		}
	}
	return v
}
