package agent

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Application is one installed package, with the attributes of SSM's AWS:Application
// inventory type.
type Application struct {
	Name            string
	Version         string // dpkg: the whole version, epoch and revision included; rpm: %{VERSION}
	Release         string `json:",omitempty"` // rpm's %{RELEASE}
	Epoch           string `json:",omitempty"` // rpm's %{EPOCH}, when set
	Publisher       string // dpkg: Maintainer; rpm: Vendor
	Architecture    string // x86_64, i386, all, noarch, …
	InstalledTime   string `json:",omitempty"` // yyyy-MM-ddTHH:mm:ssZ
	ApplicationType string `json:",omitempty"` // dpkg: Section; rpm: Group
	URL             string `json:",omitempty"` // Homepage or URL
	Summary         string `json:",omitempty"` // the first line of the description
	PackageID       string `json:",omitempty"` // the package file: name_version_arch.deb, or the source RPM
}

// packages returns the installed packages: from dpkg's database when the machine has one,
// else from rpm when it has an rpm database and the rpm command, else "none" and an error
// wrapping errNoPackages that says why.
func (c *Collector) packages(ctx context.Context) (string, []Application, error) {
	data, ok, err := c.readFile("var/lib/dpkg/status")
	if err != nil {
		return "", nil, err
	}
	if ok {
		apps := parseDpkgStatus(data, c.dpkgInstalledTime)
		sortApplications(apps)
		return "dpkg", apps, nil
	}
	for _, db := range []string{"var/lib/rpm", "usr/lib/sysimage/rpm"} {
		if _, err := os.Stat(c.path(db)); err != nil {
			continue
		}
		bin, err := exec.LookPath("rpm")
		if err != nil {
			return "none", nil, fmt.Errorf("%w: an rpm database (%s) but no rpm command to read it", errNoPackages, db)
		}
		apps, err := c.rpmPackages(ctx, bin)
		if err != nil {
			return "", nil, err
		}
		sortApplications(apps)
		return "rpm", apps, nil
	}
	return "none", nil, fmt.Errorf("%w: no dpkg or rpm database", errNoPackages)
}

// errNoPackages is returned by packages when the machine's packages cannot be listed, which
// is reported, not a failure.
var errNoPackages = errors.New("no applications are reported")

// sortApplications orders applications by name, architecture and version, so equal lists
// hash equally.
func sortApplications(apps []Application) {
	slices.SortFunc(apps, func(a, b Application) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Architecture, b.Architecture), cmp.Compare(a.Version, b.Version))
	})
}

// parseDpkgStatus reads dpkg's status database (deb822 paragraphs) and returns the packages
// that are installed: Status "install ok installed", or "hold ok installed" for a package
// held at its version. Deinstalled, half-installed, unpacked and config-files packages are
// left out. installedTime, when not nil, gives a package's InstalledTime from its name and
// dpkg architecture.
func parseDpkgStatus(data []byte, installedTime func(name, arch string) string) []Application {
	var out []Application
	for _, para := range deb822Paragraphs(data) {
		if !dpkgInstalled(para["status"]) || para["package"] == "" {
			continue
		}
		arch := para["architecture"]
		summary, _, _ := strings.Cut(para["description"], "\n")
		var installed string
		if installedTime != nil {
			installed = installedTime(para["package"], arch)
		}
		out = append(out, Application{
			Name:            para["package"],
			Version:         para["version"],
			Publisher:       para["maintainer"],
			Architecture:    normalizeArch(arch),
			InstalledTime:   installed,
			ApplicationType: para["section"],
			URL:             para["homepage"],
			Summary:         strings.TrimSpace(summary),
			PackageID:       para["package"] + "_" + para["version"] + "_" + arch + ".deb",
		})
	}
	return out
}

// dpkgInstalled reports whether a dpkg Status (want, error flag, status) is an installed
// package that is meant to stay installed.
func dpkgInstalled(status string) bool {
	f := strings.Fields(status)
	return len(f) == 3 && (f[0] == "install" || f[0] == "hold") && f[1] == "ok" && f[2] == "installed"
}

// deb822Paragraphs splits a deb822 file into paragraphs of fields, names in lower case.
// Continuation lines are appended after a newline; a lone "." stands for an empty line.
func deb822Paragraphs(data []byte) []map[string]string {
	var (
		out  []map[string]string
		cur  map[string]string
		last string
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "":
			cur, last = nil, ""
		case line[0] == ' ' || line[0] == '\t':
			if cur != nil && last != "" {
				v := strings.TrimSpace(line)
				if v == "." {
					v = ""
				}
				cur[last] += "\n" + v
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			if cur == nil {
				cur = map[string]string{}
				out = append(out, cur)
			}
			last = strings.ToLower(strings.TrimSpace(k))
			cur[last] = strings.TrimSpace(v)
		}
	}
	return out
}

// dpkgInstalledTime returns when dpkg last wrote a package's file list
// (var/lib/dpkg/info/NAME:ARCH.list for multi-arch packages, else NAME.list), "" when it
// has none.
func (c *Collector) dpkgInstalledTime(name, arch string) string {
	for _, list := range []string{name + ":" + arch, name} {
		if st, err := os.Stat(c.path("var/lib/dpkg/info/" + list + ".list")); err == nil {
			return st.ModTime().UTC().Format(time.RFC3339)
		}
	}
	return ""
}

// rpmFields are the rpm tags the agent reads, in the order of rpmQueryFormat's columns.
var rpmFields = []string{"NAME", "VERSION", "RELEASE", "EPOCH", "VENDOR", "ARCH", "INSTALLTIME", "GROUP", "URL", "SUMMARY", "SOURCERPM"}

// rpmQueryFormat prints each package as one record: its fields separated by a unit separator
// (0x1f) and the record ended by a record separator (0x1e), characters no package field
// holds, so a summary with a newline or a tab cannot shift the columns.
func rpmQueryFormat() string {
	var b strings.Builder
	for i, f := range rpmFields {
		if i > 0 {
			b.WriteByte(0x1f)
		}
		b.WriteString("%{" + f + "}")
	}
	b.WriteByte(0x1e)
	return b.String()
}

// rpmPackages lists the installed packages with rpm.
func (c *Collector) rpmPackages(ctx context.Context, bin string) ([]Application, error) {
	args := []string{"-qa", "--qf", rpmQueryFormat()}
	if c.Root != "" && c.Root != "/" {
		args = append([]string{"--root", c.Root}, args...)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("agent: rpm -qa: %w: %s", err, strings.TrimSpace(stderr.String()))
		}
		return nil, fmt.Errorf("agent: rpm -qa: %w", err)
	}
	return parseRPM(out), nil
}

// parseRPM reads the output of rpm -qa --qf rpmQueryFormat(). rpm prints "(none)" for tags a
// package does not set; those are left empty. gpg-pubkey entries (keys, not software) are
// left out.
func parseRPM(out []byte) []Application {
	var apps []Application
	for rec := range bytes.SplitSeq(out, []byte{0x1e}) {
		rec = bytes.TrimLeft(rec, "\n")
		if len(bytes.TrimSpace(rec)) == 0 {
			continue
		}
		f := strings.Split(string(rec), "\x1f")
		if len(f) != len(rpmFields) {
			continue
		}
		for i := range f {
			if f[i] = strings.TrimSpace(f[i]); f[i] == "(none)" {
				f[i] = ""
			}
		}
		if f[0] == "" || f[0] == "gpg-pubkey" {
			continue
		}
		a := Application{Name: f[0], Version: f[1], Release: f[2], Epoch: f[3], Publisher: f[4], Architecture: normalizeArch(f[5]),
			ApplicationType: f[7], URL: f[8], PackageID: f[10]}
		a.Summary, _, _ = strings.Cut(f[9], "\n")
		if sec, err := strconv.ParseInt(f[6], 10, 64); err == nil && sec > 0 {
			a.InstalledTime = time.Unix(sec, 0).UTC().Format(time.RFC3339)
		}
		apps = append(apps, a)
	}
	return apps
}
