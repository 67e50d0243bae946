package agent

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// InstanceIDFile is the name of the file in the state directory that keeps the machine's
// managed-instance ID.
const InstanceIDFile = "instance-id"

// managedInstanceID is the form of a managed-instance ID: "mi-" and 17 hexadecimal digits.
var managedInstanceID = regexp.MustCompile(`^mi-[0-9a-f]{17}$`)

// DefaultStateDir returns where the agent keeps its state: /var/lib/allot-agent for root,
// else $XDG_STATE_HOME/allot-agent, else ~/.local/state/allot-agent.
func DefaultStateDir(euid int, getenv func(string) string) (string, error) {
	if euid == 0 {
		return "/var/lib/allot-agent", nil
	}
	if d := getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "allot-agent"), nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("agent: no state directory: not root, and no XDG_STATE_HOME or home directory (give --state-dir): %w", err)
		}
	}
	return filepath.Join(home, ".local", "state", "allot-agent"), nil
}

// ReadInstanceID returns the managed-instance ID kept in dir, "" when there is none yet.
func ReadInstanceID(dir string) (string, error) {
	path := filepath.Join(dir, InstanceIDFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("agent: read the instance ID: %w", err)
	}
	id := strings.TrimSpace(string(data))
	if !managedInstanceID.MatchString(id) {
		return "", fmt.Errorf("agent: %s holds %q, not a managed-instance ID (mi- and 17 hex digits); remove it to register the machine anew", path, truncate(id, 40))
	}
	return id, nil
}

// InstanceID returns the managed-instance ID kept in dir, creating dir and the ID (mi- and
// 17 random hex digits) the first time. The ID is written to a temporary file and linked
// into place, so concurrent first runs agree on one ID and a crash never leaves a partial
// one.
func InstanceID(dir string) (string, error) {
	if id, err := ReadInstanceID(dir); id != "" || err != nil {
		return id, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("agent: create the state directory: %w", err)
	}
	var b [9]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("agent: new instance ID: %w", err)
	}
	id := "mi-" + hex.EncodeToString(b[:])[:17]
	tmp, err := os.CreateTemp(dir, InstanceIDFile+".*")
	if err != nil {
		return "", fmt.Errorf("agent: write the instance ID: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(id + "\n"); err != nil {
		tmp.Close()
		return "", fmt.Errorf("agent: write the instance ID: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("agent: write the instance ID: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("agent: write the instance ID: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", fmt.Errorf("agent: write the instance ID: %w", err)
	}
	if err := os.Link(tmp.Name(), filepath.Join(dir, InstanceIDFile)); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("agent: write the instance ID: %w", err)
	}
	if d, err := os.Open(dir); err == nil { // make the new name durable too
		d.Sync()
		d.Close()
	}
	// Linked, or another run linked its own first: the file's ID is the machine's.
	return ReadInstanceID(dir)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
