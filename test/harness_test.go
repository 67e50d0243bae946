// Package test holds end-to-end tests: they build the allot binary, run it as a real server
// and drive it with real AWS clients (the AWS SDK for Go v2, the AWS CLI v1 and v2, boto3).
package test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Root credentials the tests give the server through the environment.
const (
	rootAccount = "123456789012"
	rootKeyID   = "AKIAALLOTTESTROOT001"
	rootSecret  = "allot/test/root/secret/0123456789abcdefXY"
	region      = "us-east-1"
)

var allotBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "allot-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	allotBin = filepath.Join(dir, "allot")
	build := exec.Command("go", "build", "-o", allotBin, "../cmd/allot")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build allot:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running allot process.
type server struct {
	t       testing.TB
	cmd     *exec.Cmd
	dataDir string
	addr    string
	url     string
	stdout  *syncBuffer
	stderr  *syncBuffer
	done    chan error
}

type serverOptions struct {
	dataDir   string   // reuse a data directory (restart); new temp dir when empty
	database  string   // --database DSN; SQLite in the data dir when empty
	env       []string // extra environment; root credentials from the constants unless noRootEnv
	noRootEnv bool
	args      []string // extra `allot server` flags
}

// startServer runs `allot server` on a free port and waits until /healthz answers.
func startServer(t testing.TB, o serverOptions) *server {
	t.Helper()
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	args := []string{"server", "--listen", "127.0.0.1:0", "--data-dir", o.dataDir, "--log-format", "json"}
	if o.database != "" {
		args = append(args, "--database", o.database)
	}
	args = append(args, o.args...)
	cmd := exec.Command(allotBin, args...)
	cmd.Env = append(os.Environ(), o.env...)
	if !o.noRootEnv {
		cmd.Env = append(cmd.Env, "ALLOT_ROOT_ACCOUNT_ID="+rootAccount, "ALLOT_ROOT_ACCESS_KEY_ID="+rootKeyID, "ALLOT_ROOT_SECRET_ACCESS_KEY="+rootSecret)
	}
	s := &server{t: t, cmd: cmd, dataDir: o.dataDir, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout = s.stdout
	pr, pw := io.Pipe()
	cmd.Stderr = io.MultiWriter(s.stderr, pw)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start allot: %v", err)
	}
	go func() { s.done <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() { s.kill() })

	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "allot listening" {
				addrc <- line.Addr
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case s.addr = <-addrc:
	case err := <-s.done:
		t.Fatalf("allot exited before listening: %v\nstderr:\n%s", err, s.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("allot did not start within 30s; stderr:\n%s", s.stderr.String())
	}
	s.url = "http://" + s.addr
	resp, err := http.Get(s.url + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", err, resp)
	}
	resp.Body.Close()
	return s
}

// stop sends SIGTERM and returns the exit code.
func (s *server) stop() int {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.t.Fatalf("allot did not exit within 30s of SIGTERM")
	}
	return s.cmd.ProcessState.ExitCode()
}

func (s *server) kill() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Kill()
		<-s.done
	}
}

// awsConfig returns an SDK configuration for the server with the given keys.
func (s *server) awsConfig(keyID, secret string) aws.Config {
	return aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		BaseEndpoint:     aws.String(s.url),
		RetryMaxAttempts: 1,
	}
}

// cli runs an AWS CLI binary against the server with the given keys and returns stdout,
// stderr and the exit code.
func (s *server) cli(t testing.TB, bin, keyID, secret string, args ...string) (string, string, int) {
	t.Helper()
	return s.cliAs(t, bin, creds{keyID: keyID, secret: secret}, args...)
}

// creds are the credentials a CLI call runs with; token is set for temporary credentials.
type creds struct{ keyID, secret, token string }

// cliAs runs an AWS CLI binary against the server as c, in the test's working directory, and
// returns stdout, stderr and the exit code.
func (s *server) cliAs(t testing.TB, bin string, c creds, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--endpoint-url", s.url, "--region", region, "--output", "json"}, args...)...)
	cmd.Env = append(cleanAWSEnv(), "AWS_ACCESS_KEY_ID="+c.keyID, "AWS_SECRET_ACCESS_KEY="+c.secret,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	if c.token != "" {
		cmd.Env = append(cmd.Env, "AWS_SESSION_TOKEN="+c.token)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run %s: %v", bin, err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

// cleanAWSEnv is the environment without any AWS_ variable, so tests never pick up the
// machine's own AWS configuration.
func cleanAWSEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}

// requireTool returns the path of an external client, skipping the test when it is absent
// unless ALLOT_TEST_REQUIRE_CLIENTS=1 (as in CI), where a missing client fails the test.
func requireTool(t *testing.T, what string, path string) string {
	t.Helper()
	if path != "" {
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	msg := fmt.Sprintf("%s not found (looked for %q); install it or run ./scripts/test, which does", what, path)
	if os.Getenv("ALLOT_TEST_REQUIRE_CLIENTS") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startCmd returns an `allot server` command on a data directory with the given environment,
// not started.
func startCmd(dataDir string, env ...string) *exec.Cmd {
	cmd := exec.Command(allotBin, "server", "--listen", "127.0.0.1:0", "--data-dir", dataDir)
	cmd.Env = append(cleanAWSEnv(), env...)
	return cmd
}
