package test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDomainPackagesStayOffTheWire checks the layering DESIGN.md asks for: domain packages
// know nothing of HTTP or SQL; only the server and the store do.
func TestDomainPackagesStayOffTheWire(t *testing.T) {
	domain := []string{"audit", "awserr", "awstime", "cloudtrail", "identity", "pagetoken", "sts"}
	forbidden := []string{"net/http", "database/sql"}
	for _, pkg := range domain {
		out, err := exec.Command("go", "list", "-deps", "github.com/allot-dev/allot/internal/"+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		for _, dep := range deps {
			for _, f := range forbidden {
				if dep == f {
					t.Errorf("internal/%s depends on %s", pkg, f)
				}
			}
		}
	}
}
