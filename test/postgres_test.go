package test

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib"
)

// postgresDatabase creates an empty database on the PostgreSQL server named by
// ALLOT_TEST_POSTGRES_DSN and returns its DSN. Without that variable the test is skipped,
// unless ALLOT_TEST_REQUIRE_POSTGRES=1 (as in ./scripts/test), where it fails.
func postgresDatabase(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("ALLOT_TEST_POSTGRES_DSN")
	if admin == "" {
		msg := "ALLOT_TEST_POSTGRES_DSN is not set; ./scripts/test starts a PostgreSQL server and sets it"
		if os.Getenv("ALLOT_TEST_REQUIRE_POSTGRES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := "allot_e2e_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:16]
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err == nil {
			db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			db.Close()
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// TestPostgres_TwoNodes runs two servers on one PostgreSQL database, as two stateless nodes
// behind a load balancer would: both serve the same account, both record their calls, and
// audit verify finds every node's chains intact.
func TestPostgres_TwoNodes(t *testing.T) {
	dsn := postgresDatabase(t)
	key := "ALLOT_MASTER_KEY=" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // shared by both nodes

	var nodes [2]*server
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Add(1)
		go func() { // start both at once: bootstrap and migrations must cope with a race
			defer wg.Done()
			nodes[i] = startServer(t, serverOptions{database: dsn, env: []string{key, fmt.Sprintf("ALLOT_NODE_ID=node-%d", i)}})
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, n := range nodes {
		makeCalls(t, n)
	}
	// Each node sees the calls of both.
	for i, n := range nodes {
		if got := lookupAll(t, n, "GetCallerIdentity", 50); len(got) != 6 {
			t.Errorf("node %d: %d GetCallerIdentity events, want 6 (3 per node)", i, len(got))
		}
	}
	for _, n := range nodes {
		if code := n.stop(); code != 0 {
			t.Errorf("SIGTERM: exit %d, want 0", code)
		}
	}

	cmd := exec.Command(allotBin, "audit", "verify", "--data-dir", t.TempDir(), "--database", dsn, "--output", "json")
	cmd.Env = append(cleanAWSEnv(), key)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	for i := range nodes {
		if !strings.Contains(string(out), fmt.Sprintf(`"nodeId": "node-%d"`, i)) {
			t.Errorf("audit verify does not report node-%d's chains:\n%s", i, out)
		}
	}

	// A node with another master key refuses to serve.
	bad := exec.Command(allotBin, "server", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--database", dsn)
	bad.Env = append(cleanAWSEnv(), "ALLOT_MASTER_KEY=ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=")
	out, err = bad.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "master key") {
		t.Errorf("server with the wrong master key: err %v, want a refusal\n%s", err, out)
	}
}
