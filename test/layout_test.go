package test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDomainPackagesStayOffTheWire checks the layering DESIGN.md asks for: domain packages
// know nothing of HTTP or SQL; only the server and the store do. A domain package may keep
// its state through the store (which speaks SQL), but neither it nor anything it uses may
// depend on net/http, and it may not use database/sql itself.
func TestDomainPackagesStayOffTheWire(t *testing.T) {
	domain := []string{"audit", "authz", "awserr", "awstime", "cloudtrail", "iam", "identity", "organizations", "licensemanager", "licenseconfig", "ec2", "pagetoken", "policy", "ssm", "sts"}
	for _, pkg := range domain {
		path := "github.com/allot-dev/allot/internal/" + pkg
		out, err := exec.Command("go", "list", "-deps", path).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		if slices.Contains(strings.Fields(string(out)), "net/http") {
			t.Errorf("internal/%s depends on net/http", pkg)
		}
		out, err = exec.Command("go", "list", "-f", `{{join .Imports " "}}`, path).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		if slices.Contains(strings.Fields(string(out)), "database/sql") {
			t.Errorf("internal/%s imports database/sql", pkg)
		}
	}
}
