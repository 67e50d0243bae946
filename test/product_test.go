package test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	productOnce sync.Once
	productBin  string
	productErr  error
)

// buildProduct builds examples/licensed-product once per test run.
func buildProduct(t *testing.T) string {
	t.Helper()
	productOnce.Do(func() {
		productBin = filepath.Join(filepath.Dir(allotBin), "licensed-product")
		out, err := exec.Command("go", "build", "-o", productBin, "../examples/licensed-product").CombinedOutput()
		if err != nil {
			productErr = err
			productBin = string(out)
		}
	})
	if productErr != nil {
		t.Fatalf("build examples/licensed-product: %v\n%s", productErr, productBin)
	}
	return productBin
}

// runningProduct is a started copy of the reference product.
type runningProduct struct {
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
	done   chan error
}

// startProduct starts the reference product as c with args and waits until it listens.
func startProduct(t *testing.T, c creds, args ...string) *runningProduct {
	t.Helper()
	cmd := exec.Command(buildProduct(t), append([]string{"--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(cleanAWSEnv(), "AWS_ACCESS_KEY_ID="+c.keyID, "AWS_SECRET_ACCESS_KEY="+c.secret, "AWS_SESSION_TOKEN="+c.token,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	p := &runningProduct{cmd: cmd, stderr: &syncBuffer{}, done: make(chan error, 1)}
	pr, pw := io.Pipe()
	cmd.Stderr = io.MultiWriter(p.stderr, pw)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "licensed-product listening" {
				addr <- line.Addr
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case a := <-addr:
		p.url = "http://" + a
	case err := <-p.done:
		t.Fatalf("licensed-product exited before listening: %v\n%s", err, p.stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("licensed-product did not listen within 20s:\n%s", p.stderr.String())
	}
	return p
}

// get returns the status code and body of a page.
func (p *runningProduct) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(p.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type productStatus struct {
	Licensed     bool
	State        string
	ProductName  string
	Extensions   int
	Entitlements []struct {
		Name                     string
		Consumed, Max, Available int64
	}
	Problem *struct{ Error, Cause, Fix string }
}

func (p *runningProduct) status(t *testing.T) productStatus {
	t.Helper()
	code, body := p.get(t, "/license.json")
	var st productStatus
	if code != http.StatusOK || json.Unmarshal([]byte(body), &st) != nil {
		t.Fatalf("GET /license.json: %d %s", code, body)
	}
	return st
}

// eventually polls cond for up to d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("not within %v: %s", d, what)
}

// stop sends SIGTERM and returns the exit code.
func (p *runningProduct) stop(t *testing.T) int {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("licensed-product did not exit within 20s of SIGTERM")
	}
	return p.cmd.ProcessState.ExitCode()
}

// TestProduct_LicensedService starts the reference licensed product in seed 000's deployment
// account, configured for assume role, against the real server: it checks out, serves, keeps
// its seat through several extensions (with --extend-before close to the one-minute
// lifetime, so they come every two seconds) and shows them on its status page. A second copy,
// the license having one seat, is told no seat is free, with the cause and fix, and serves
// nothing; when the first copy gets SIGTERM it checks in and exits, the second copy gets the
// seat, and after its own SIGTERM the seats in use are back to zero.
func TestProduct_LicensedService(t *testing.T) {
	k := newKit(t, 1)
	instance, roleARN := k.assumeRoleSetup(t, kitFullPolicy)
	args := []string{"--endpoint-url", k.s.url, "--mode", "assume-role", "--role-arn", roleARN, "--product-sku", kitSKU,
		"--key-fingerprint", k.fingerprint, "--jwks-url", k.s.url + "/.well-known/jwks.json", "--extend-before", "58s"}

	first := startProduct(t, instance, args...)
	eventually(t, 10*time.Second, "the first copy serves", func() bool { code, _ := first.get(t, "/"); return code == http.StatusOK })
	if got := k.seatsInUse(t); got != "1/1" {
		t.Errorf("seats in use with the first copy running = %s, want 1/1", got)
	}
	eventually(t, 15*time.Second, "two extensions", func() bool { return first.status(t).Extensions >= 2 })
	st := first.status(t)
	if !st.Licensed || st.State != "held" || st.ProductName != "DataMasque" || len(st.Entitlements) != 1 || st.Entitlements[0].Consumed != 1 {
		t.Errorf("status of the first copy = %+v", st)
	}
	if code, page := first.get(t, "/license"); code != http.StatusOK || !strings.Contains(page, "License: licensed (held)") ||
		!strings.Contains(page, "DataMasque (DM-ENT)") || !strings.Contains(page, "1 of 1 in use") {
		t.Errorf("GET /license: %d\n%s", code, page)
	}

	second := startProduct(t, instance, append(args, "--wait-for-seat", "--retry-interval", "300ms")...)
	eventually(t, 10*time.Second, "the second copy reports that no seat is free", func() bool {
		st := second.status(t)
		return st.Problem != nil && strings.Contains(st.Problem.Cause, "all units of the entitlements asked for are in use")
	})
	if code, _ := second.get(t, "/"); code != http.StatusServiceUnavailable {
		t.Errorf("second copy without a seat: GET / = %d, want 503", code)
	}
	if st := second.status(t); st.Licensed || !strings.Contains(st.Problem.Fix, "stop another copy") || !strings.Contains(st.Problem.Error, "1 of 1 in use") {
		t.Errorf("second copy status = %+v", st)
	}

	if code := first.stop(t); code != 0 {
		t.Errorf("first copy: exit %d after SIGTERM\n%s", code, first.stderr.String())
	}
	if !strings.Contains(first.stderr.String(), "checked in; bye") {
		t.Errorf("first copy did not log its check-in:\n%s", first.stderr.String())
	}
	eventually(t, 10*time.Second, "the second copy gets the seat", func() bool { code, _ := second.get(t, "/"); return code == http.StatusOK })
	if got := k.seatsInUse(t); got != "1/1" {
		t.Errorf("seats in use with the second copy running = %s, want 1/1", got)
	}
	if code := second.stop(t); code != 0 {
		t.Errorf("second copy: exit %d after SIGTERM\n%s", code, second.stderr.String())
	}
	if got := k.seatsInUse(t); got != "0/1" {
		t.Errorf("seats in use after both copies stopped = %s, want 0/1", got)
	}
}
