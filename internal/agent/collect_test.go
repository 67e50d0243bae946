package agent

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCollector_CPU(t *testing.T) {
	for _, tc := range []struct {
		root string
		want CPU
		note string // a substring of the note, "" for none
	}{
		{"two-socket", CPU{Model: "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz", SpeedMHz: 2100, Logical: 16, Cores: 8, Sockets: 2, ThreadsPerCore: 2, HyperThreading: true, Source: SourceSysfs}, ""},
		{"two-socket-cpuinfo", CPU{Model: "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz", SpeedMHz: 2100, Logical: 16, Cores: 8, Sockets: 2, ThreadsPerCore: 2, HyperThreading: true, Source: SourceCPUInfo}, ""},
		{"container", CPU{Model: "AMD EPYC 7R13 Processor", SpeedMHz: 2650, Logical: 4, Cores: 2, Sockets: 1, ThreadsPerCore: 2, HyperThreading: true, Source: SourceSiblings}, "1 socket assumed"},
		{"bare", CPU{Logical: 3, Cores: 3, Sockets: 1, ThreadsPerCore: 1, Source: SourceCount}, "assumed 1 thread per core and 1 socket"},
		{"arm", CPU{Logical: 4, Cores: 4, Sockets: 1, ThreadsPerCore: 1, Source: SourceSysfs}, ""},
	} {
		t.Run(tc.root, func(t *testing.T) {
			got, err := (&Collector{Root: filepath.Join("testdata", tc.root)}).cpu()
			if err != nil {
				t.Fatal(err)
			}
			note := got.Note
			got.Note = ""
			if got != tc.want {
				t.Errorf("cpu() =\n  %+v\nwant\n  %+v", got, tc.want)
			}
			if (tc.note == "") != (note == "") || !strings.Contains(note, tc.note) {
				t.Errorf("note %q, want one containing %q", note, tc.note)
			}
		})
	}
}

func TestCollector_CPUFrequencyFallback(t *testing.T) {
	// cpuinfo without "cpu MHz": the speed comes from cpufreq's maximum.
	root := t.TempDir()
	writeFile(t, root, "proc/cpuinfo", "processor\t: 0\nmodel name\t: Test CPU\n")
	writeFile(t, root, "sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "3900000\n")
	got, err := (&Collector{Root: root}).cpu()
	if err != nil {
		t.Fatal(err)
	}
	if got.SpeedMHz != 3900 || got.Model != "Test CPU" {
		t.Errorf("cpu() = %+v, want 3900 MHz and model Test CPU", got)
	}
}

func TestParseOSRelease(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
	}{
		{"Ubuntu", "NAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nID=ubuntu\nPRETTY_NAME=\"Ubuntu 24.04 LTS\"\n",
			map[string]string{"NAME": "Ubuntu", "VERSION_ID": "24.04", "ID": "ubuntu", "PRETTY_NAME": "Ubuntu 24.04 LTS"}},
		{"Debian", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
			map[string]string{"NAME": "Debian GNU/Linux", "VERSION_ID": "12", "ID": "debian", "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)"}},
		{"unquoted", "NAME=Alpine\nVERSION_ID=3.19.1\n", map[string]string{"NAME": "Alpine", "VERSION_ID": "3.19.1"}},
		{"single quotes are literal", `NAME='It\'s "x"'` + "\n", map[string]string{"NAME": `It\'s "x"`}},
		{"escapes in double quotes", `PRETTY_NAME="RHEL \"Plow\" \$HOME \\ \n"` + "\n", map[string]string{"PRETTY_NAME": `RHEL "Plow" $HOME \ \n`}},
		{"comments, blanks and junk skipped", "# a comment\n\n  NAME=\"Arch Linux\"  \nnot a pair\nBAD KEY=x\n=novalue\nBUILD_ID=rolling\n",
			map[string]string{"NAME": "Arch Linux", "BUILD_ID": "rolling"}},
		{"empty value", "VERSION_ID=\n", map[string]string{"VERSION_ID": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := parseOSRelease([]byte(tc.in))
			if len(got) != len(tc.want) {
				t.Errorf("parseOSRelease(%q) = %q, want %q", tc.in, got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("parseOSRelease(%q)[%s] = %q, want %q", tc.in, k, got[k], v)
				}
			}
		})
	}
}

func TestCollector_PlatformAndHostname(t *testing.T) {
	for _, tc := range []struct {
		root     string
		want     Platform
		hostname string
	}{
		{"two-socket", Platform{Name: "Ubuntu", Type: "Linux", Version: "22.04", ID: "ubuntu", PrettyName: "Ubuntu 22.04.4 LTS"}, "db-01.example.internal"},
		{"container", Platform{Name: "Debian GNU/Linux", Type: "Linux", Version: "12", ID: "debian", PrettyName: "Debian GNU/Linux 12 (bookworm)"}, "3f2a9c1d7e0b"},
		{"bare", Platform{Name: "Red Hat Enterprise Linux", Type: "Linux", Version: "9.3", ID: "rhel", PrettyName: `Red Hat Enterprise Linux 9.3 "Plow"`}, "build-runner"},
		{"arm", Platform{Name: "Alpine Linux", Type: "Linux", Version: "3.19.1", ID: "alpine", PrettyName: "Alpine Linux v3.19"}, "arm-01"},
		{"two-socket-cpuinfo", Platform{Type: "Linux"}, ""}, // no os-release, no host name
	} {
		t.Run(tc.root, func(t *testing.T) {
			if runtime.GOOS != "linux" {
				t.Skip("the fixtures are Linux machines")
			}
			c := &Collector{Root: filepath.Join("testdata", tc.root)}
			got, err := c.platform()
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("platform() = %+v, want %+v", got, tc.want)
			}
			h, err := c.hostname()
			if err != nil || h != tc.hostname {
				t.Errorf("hostname() = %q, %v; want %q", h, err, tc.hostname)
			}
		})
	}
}

func TestParseDpkgStatus(t *testing.T) {
	data, err := os.ReadFile("testdata/two-socket/var/lib/dpkg/status")
	if err != nil {
		t.Fatal(err)
	}
	apps := parseDpkgStatus(data, nil)
	sortApplications(apps)
	var got []string
	for _, a := range apps {
		got = append(got, a.Name+"/"+a.Architecture)
	}
	// Installed ("install ok installed") and held ("hold ok installed") packages only: not the
	// deinstalled oracle-java17 (config-files), the half-installed nginx-core, the unpacked
	// openssh-server nor the purged package.
	want := []string{"adduser/all", "docker-ce/x86_64", "libc6/i386", "libc6/x86_64", "postgresql-15/x86_64"}
	if !slices.Equal(got, want) {
		t.Fatalf("installed packages %q, want %q", got, want)
	}
	pg := apps[4]
	wantPG := Application{Name: "postgresql-15", Version: "15.6-0+deb12u1", Publisher: "Debian PostgreSQL Maintainers <team+postgresql@tracker.debian.org>",
		Architecture: "x86_64", ApplicationType: "database", URL: "http://www.postgresql.org/",
		Summary: "The World's Most Advanced Open Source Relational Database", PackageID: "postgresql-15_15.6-0+deb12u1_amd64.deb"}
	if pg != wantPG {
		t.Errorf("postgresql-15 =\n  %+v\nwant\n  %+v", pg, wantPG)
	}
	if apps[0].Summary != "add and remove users and groups" {
		t.Errorf("adduser summary %q: want the description's first line only", apps[0].Summary)
	}
	if apps[1].Version != "5:24.0.7-1~debian.12~bookworm" {
		t.Errorf("docker-ce version %q: want dpkg's whole version, epoch included", apps[1].Version)
	}
}

func TestDpkgStatus_StatusValues(t *testing.T) {
	for status, want := range map[string]bool{
		"install ok installed":             true,
		"hold ok installed":                true,
		"deinstall ok config-files":        false,
		"install reinstreq half-installed": false,
		"install ok half-configured":       false,
		"install ok unpacked":              false,
		"purge ok not-installed":           false,
		"deinstall ok installed":           false, // marked for removal
		"install ok triggers-pending":      false,
		"":                                 false,
	} {
		if got := dpkgInstalled(status); got != want {
			t.Errorf("dpkgInstalled(%q) = %v, want %v", status, got, want)
		}
	}
}

func TestCollector_Packages(t *testing.T) {
	// The dpkg database of the two-socket fixture, with the times dpkg wrote two file lists.
	root := t.TempDir()
	status, err := os.ReadFile("testdata/two-socket/var/lib/dpkg/status")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, root, "var/lib/dpkg/status", string(status))
	when := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, list := range []string{"libc6:amd64.list", "postgresql-15.list"} {
		p := writeFile(t, root, "var/lib/dpkg/info/"+list, "/.\n")
		if err := os.Chtimes(p, when, when); err != nil {
			t.Fatal(err)
		}
	}
	pm, apps, err := (&Collector{Root: root}).packages(context.Background())
	if err != nil || pm != "dpkg" || len(apps) != 5 {
		t.Fatalf("packages() = %q, %d applications, %v; want dpkg, 5", pm, len(apps), err)
	}
	for _, a := range apps {
		want := ""
		if a.Name == "postgresql-15" || a.Name == "libc6" && a.Architecture == "x86_64" {
			want = "2026-03-04T05:06:07Z"
		}
		if a.InstalledTime != want {
			t.Errorf("%s/%s InstalledTime %q, want %q", a.Name, a.Architecture, a.InstalledTime, want)
		}
	}

	// No dpkg or rpm database: no applications, which is not an error.
	pm, apps, err = (&Collector{Root: "testdata/container"}).packages(context.Background())
	if !errors.Is(err, errNoPackages) || pm != "none" || apps != nil {
		t.Errorf("packages() without a database = %q, %v, %v; want none, nil, errNoPackages", pm, apps, err)
	}
	// An rpm database without the rpm command (when this machine has none) is said so.
	if _, err := exec.LookPath("rpm"); err != nil {
		root := t.TempDir()
		writeFile(t, root, "var/lib/rpm/rpmdb.sqlite", "")
		if _, _, err := (&Collector{Root: root}).packages(context.Background()); !errors.Is(err, errNoPackages) || !strings.Contains(err.Error(), "no rpm command") {
			t.Errorf("packages() with an rpm database and no rpm = %v", err)
		}
	}
}

func TestParseRPM(t *testing.T) {
	rec := func(f ...string) string { return strings.Join(f, "\x1f") + "\x1e" }
	out := rec("bash", "5.1.8", "6.el9_1", "(none)", "Red Hat, Inc.", "x86_64", "1700000000", "Unspecified", "https://www.gnu.org/software/bash", "The GNU Bourne Again shell", "bash-5.1.8-6.el9_1.src.rpm") +
		"\n" + rec("gpg-pubkey", "fd431d51", "4ae0493b", "(none)", "(none)", "(none)", "1700000000", "Public Keys", "(none)", "gpg(Red Hat)", "(none)") +
		rec("openssl", "3.0.7", "25.el9_3", "1", "Red Hat, Inc.", "x86_64", "1700000100", "Unspecified", "http://www.openssl.org/", "Utilities from the general purpose cryptography library\nwith TLS implementation", "openssl-3.0.7-25.el9_3.src.rpm") +
		rec("too", "few", "fields")
	got := parseRPM([]byte(out))
	want := []Application{
		{Name: "bash", Version: "5.1.8", Release: "6.el9_1", Publisher: "Red Hat, Inc.", Architecture: "x86_64", InstalledTime: "2023-11-14T22:13:20Z",
			ApplicationType: "Unspecified", URL: "https://www.gnu.org/software/bash", Summary: "The GNU Bourne Again shell", PackageID: "bash-5.1.8-6.el9_1.src.rpm"},
		{Name: "openssl", Version: "3.0.7", Release: "25.el9_3", Epoch: "1", Publisher: "Red Hat, Inc.", Architecture: "x86_64", InstalledTime: "2023-11-14T22:15:00Z",
			ApplicationType: "Unspecified", URL: "http://www.openssl.org/", Summary: "Utilities from the general purpose cryptography library", PackageID: "openssl-3.0.7-25.el9_3.src.rpm"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("parseRPM =\n  %+v\nwant\n  %+v", got, want)
	}
}

func TestCollector_Collect(t *testing.T) {
	f, err := (&Collector{Root: "testdata/two-socket"}).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f.CPU.Logical != 16 || f.Platform.Name != "Ubuntu" || f.ComputerName != "db-01.example.internal" || f.PackageManager != "dpkg" || len(f.Applications) != 5 {
		t.Errorf("Collect = %+v", f)
	}
	if len(f.Notes) != 0 && !(len(f.Notes) == 1 && strings.HasPrefix(f.Notes[0], "no IP address")) {
		t.Errorf("notes %q for a machine whose facts are all there", f.Notes)
	}

	f, err = (&Collector{Root: "testdata/container"}).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(f.Notes, func(n string) bool { return strings.Contains(n, "no dpkg or rpm database") }) ||
		!slices.ContainsFunc(f.Notes, func(n string) bool { return strings.Contains(n, "no CPU topology") }) {
		t.Errorf("container notes %q: want the hidden topology and the missing package database explained", f.Notes)
	}
}

// TestCollector_ThisMachine collects the facts of the machine the test runs on and checks
// them against what the system says: the CPU count is /proc/cpuinfo's processor count (what
// a license counts), cores and sockets are lscpu's, and a package dpkg-query says is
// installed is reported.
func TestCollector_ThisMachine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads Linux's /proc and /sys")
	}
	f, err := (&Collector{}).Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("this machine: %s %s, %d CPUs, %d cores, %d sockets (%s), %d packages (%s), notes %q",
		f.Platform.Name, f.Platform.Version, f.CPU.Logical, f.CPU.Cores, f.CPU.Sockets, f.CPU.Source, len(f.Applications), f.PackageManager, f.Notes)

	cpuinfo, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Fatal(err)
	}
	processors := 0
	sc := bufio.NewScanner(bytes.NewReader(cpuinfo))
	for sc.Scan() {
		if k, _, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "processor" {
			processors++
		}
	}
	if f.CPU.Logical != processors {
		t.Errorf("CPUs = %d, want /proc/cpuinfo's %d processors", f.CPU.Logical, processors)
	}
	// runtime.NumCPU is what this process may run on (affinity, cgroup cpusets): never more
	// than the machine's processors, fewer when limited. The license counts the machine's.
	if n := runtime.NumCPU(); n > processors {
		t.Errorf("runtime.NumCPU() = %d, more than /proc/cpuinfo's %d processors", n, processors)
	} else if n < processors {
		t.Logf("this process is limited to %d of the %d processors (affinity or cpuset); the agent reports %d", n, processors, f.CPU.Logical)
	}
	if f.CPU.Cores < 1 || f.CPU.Cores > f.CPU.Logical || f.CPU.Sockets < 1 || f.CPU.Sockets > f.CPU.Cores ||
		f.CPU.Cores*f.CPU.ThreadsPerCore < f.CPU.Logical {
		t.Errorf("inconsistent topology: %+v", f.CPU)
	}
	if out, err := exec.Command("lscpu", "-p=CPU,CORE,SOCKET").Output(); err == nil && f.CPU.Source == SourceSysfs {
		cores, sockets := map[string]bool{}, map[string]bool{}
		for line := range strings.Lines(string(out)) {
			if strings.HasPrefix(line, "#") {
				continue
			}
			p := strings.Split(strings.TrimSpace(line), ",")
			if len(p) == 3 {
				cores[p[2]+"/"+p[1]], sockets[p[2]] = true, true
			}
		}
		if f.CPU.Cores != len(cores) || f.CPU.Sockets != len(sockets) {
			t.Errorf("cores/sockets = %d/%d, lscpu says %d/%d", f.CPU.Cores, f.CPU.Sockets, len(cores), len(sockets))
		}
	}
	if f.Platform.Name == "" || f.Platform.Type != "Linux" || f.ComputerName == "" {
		t.Errorf("platform %+v, computer name %q: want them read", f.Platform, f.ComputerName)
	}
	if h, _ := os.Hostname(); h != f.ComputerName {
		t.Errorf("computer name %q, the system says %q", f.ComputerName, h)
	}

	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("dpkg is not installed here: the installed-package check needs it")
	}
	out, err := exec.Command("dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Package} ${Version}\n").Output()
	if err != nil {
		t.Fatalf("dpkg-query: %v", err)
	}
	// "ii" is install-ok-installed, "hi" hold-ok-installed: the agent reports both.
	installed := 0
	var pkg, version string
	for line := range strings.Lines(string(out)) {
		fs := strings.Fields(line)
		if len(fs) != 3 || (fs[0] != "ii" && fs[0] != "hi") {
			continue
		}
		installed++
		if pkg == "" || fs[1] == "dpkg" {
			pkg, version = fs[1], fs[2]
		}
	}
	if pkg == "" {
		t.Fatal("dpkg-query lists no installed package")
	}
	if f.PackageManager != "dpkg" {
		t.Fatalf("package manager %q, want dpkg", f.PackageManager)
	}
	if !slices.ContainsFunc(f.Applications, func(a Application) bool { return a.Name == pkg && a.Version == version }) {
		t.Errorf("dpkg-query says %s %s is installed; the agent did not find it", pkg, version)
	}
	if len(f.Applications) != installed {
		t.Errorf("%d applications, dpkg-query says %d are installed", len(f.Applications), installed)
	}
}

// writeFile writes a file under root, making its directories, and returns its path.
func writeFile(t *testing.T, root, name, data string) string {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
