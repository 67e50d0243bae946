package agent

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"runtime"
	"strings"
)

// platform reads the operating system from etc/os-release, or usr/lib/os-release when that
// is missing (as os-release(5) says); the type comes from the running system.
func (c *Collector) platform() (Platform, error) {
	p := Platform{Type: platformType(runtime.GOOS)}
	for _, name := range []string{"etc/os-release", "usr/lib/os-release"} {
		data, ok, err := c.readFile(name)
		if err != nil {
			return p, err
		}
		if !ok {
			continue
		}
		kv := parseOSRelease(data)
		p.Name, p.Version, p.ID, p.PrettyName = kv["NAME"], kv["VERSION_ID"], kv["ID"], kv["PRETTY_NAME"]
		if p.Name == "" && runtime.GOOS == "linux" {
			p.Name = "Linux" // os-release(5): NAME defaults to "Linux"
		}
		if p.ID == "" && runtime.GOOS == "linux" {
			p.ID = "linux"
		}
		return p, nil
	}
	return p, nil
}

// platformType names a GOOS as SSM's PlatformType does.
func platformType(goos string) string {
	switch goos {
	case "windows":
		return "Windows"
	case "darwin":
		return "MacOS"
	default:
		return "Linux"
	}
}

// parseOSRelease reads the KEY=value lines of an os-release file: values may be quoted with
// double or single quotes, with backslash escapes in double quotes; comments and malformed
// lines are skipped.
func parseOSRelease(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			continue
		}
		out[k] = unquoteShell(v)
	}
	return out
}

// unquoteShell removes the shell quoting os-release allows: "…" with \" \\ \$ \` escapes,
// '…' taken literally, or a bare word.
func unquoteShell(v string) string {
	switch {
	case len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'':
		return v[1 : len(v)-1]
	case len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"':
		v = v[1 : len(v)-1]
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' && i+1 < len(v) && strings.IndexByte("\"\\$`", v[i+1]) >= 0 {
				i++
			}
			b.WriteByte(v[i])
		}
		return b.String()
	}
	return v
}

// hostname returns the machine's name: proc/sys/kernel/hostname, else etc/hostname, else (on
// the machine's own root) what the system says.
func (c *Collector) hostname() (string, error) {
	for _, name := range []string{"proc/sys/kernel/hostname", "etc/hostname"} {
		data, ok, err := c.readFile(name)
		if err != nil {
			return "", err
		}
		if h := strings.TrimSpace(string(data)); ok && h != "" {
			return h, nil
		}
	}
	if c.Root == "" || c.Root == "/" {
		h, err := os.Hostname()
		if err == nil {
			return h, nil
		}
	}
	return "", nil
}

// defaultRouteProbe is an address on the default route: TEST-NET-1 (RFC 5737), which is
// never answered. Nothing is sent to it: a UDP "connection" only picks the source address.
const defaultRouteProbe = "192.0.2.1:9"

// primaryIP returns the address this machine uses to reach probe (host or host:port), else
// the one of its default route, else its first non-loopback interface address, else "".
// No packet is sent.
func primaryIP(ctx context.Context, probe string) string {
	var targets []string
	if probe != "" {
		if _, _, err := net.SplitHostPort(probe); err != nil {
			probe = net.JoinHostPort(strings.Trim(probe, "[]"), "443")
		}
		targets = append(targets, probe)
	}
	targets = append(targets, defaultRouteProbe)
	var d net.Dialer
	for _, t := range targets {
		conn, err := d.DialContext(ctx, "udp", t)
		if err != nil {
			continue
		}
		addr, _ := conn.LocalAddr().(*net.UDPAddr)
		conn.Close()
		if addr != nil && !addr.IP.IsLoopback() && !addr.IP.IsUnspecified() {
			return addr.IP.String()
		}
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}
