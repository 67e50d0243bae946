package agent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

	"github.com/allot-dev/allot/internal/sigv4"
)

// wire records the PutInventory calls a test endpoint received, after checking each with
// Allot's own SigV4 verifier, and answers them with answer (nil: success).
type wire struct {
	t      *testing.T
	mu     sync.Mutex
	calls  []map[string]any
	answer func(call map[string]any) (status int, body string)
}

const (
	testKeyID  = "AKIAAGENTTEST0000001"
	testSecret = "agent/test/secret/0123456789abcdefXYZ"
)

func (wi *wire) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	v := sigv4.NewVerifier(func(_ context.Context, id string) (sigv4.Credentials, error) {
		if id != testKeyID {
			return sigv4.Credentials{}, sigv4.ErrUnknownAccessKey
		}
		return sigv4.Credentials{SecretAccessKey: testSecret}, nil
	}, nil, 0)
	scope, err := v.Verify(r.Context(), r, body)
	if err != nil {
		wi.t.Errorf("signature: %v", err)
	} else if scope.Service != "ssm" || scope.Region != "eu-west-1" {
		wi.t.Errorf("signed for %s in %s, want ssm in eu-west-1", scope.Service, scope.Region)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("X-Amz-Target") != "AmazonSSM.PutInventory" ||
		r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		wi.t.Errorf("%s %s, X-Amz-Target %q, Content-Type %q: want a JSON 1.1 PutInventory", r.Method, r.URL.Path, r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"))
	}
	var call map[string]any
	if err := json.Unmarshal(body, &call); err != nil {
		wi.t.Errorf("body %q: %v", body, err)
	}
	wi.mu.Lock()
	wi.calls = append(wi.calls, call)
	answer := wi.answer
	wi.mu.Unlock()
	status, out := http.StatusOK, `{"Message":"ok"}`
	if answer != nil {
		status, out = answer(call)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if status != http.StatusOK {
		var e struct {
			Type string `json:"__type"`
		}
		json.Unmarshal([]byte(out), &e)
		w.Header().Set("X-Amzn-ErrorType", e.Type)
	}
	w.WriteHeader(status)
	io.WriteString(w, out)
}

func (wi *wire) call(i int) map[string]any {
	wi.mu.Lock()
	defer wi.mu.Unlock()
	return wi.calls[i]
}

func (wi *wire) count() int {
	wi.mu.Lock()
	defer wi.mu.Unlock()
	return len(wi.calls)
}

// items returns the items of a recorded call by type name.
func items(call map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	list, _ := call["Items"].([]any)
	for _, it := range list {
		m, _ := it.(map[string]any)
		name, _ := m["TypeName"].(string)
		out[name] = m
	}
	return out
}

func newTestAgent(t *testing.T, wi *wire) *Agent {
	t.Helper()
	srv := httptest.NewServer(wi)
	t.Cleanup(srv.Close)
	c, err := NewClient(srv.URL, "eu-west-1", credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""))
	if err != nil {
		t.Fatal(err)
	}
	return &Agent{Collector: &Collector{Root: "testdata/two-socket"}, Client: c, InstanceID: "mi-0123456789abcdef0", Version: "test",
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
}

func TestAgent_ReportAndHeartbeat(t *testing.T) {
	wi := &wire{t: t}
	a := newTestAgent(t, wi)
	ctx := context.Background()

	r, err := a.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Message != "ok" || r.Heartbeat || len(r.Items) != 4 {
		t.Errorf("report %+v", r)
	}
	call := wi.call(0)
	if call["InstanceId"] != "mi-0123456789abcdef0" {
		t.Errorf("InstanceId %v", call["InstanceId"])
	}
	for name, it := range items(call) {
		if _, ok := it["Content"]; !ok || it["ContentHash"] == "" || it["CaptureTime"] == "" || it["SchemaVersion"] == "" {
			t.Errorf("full report: item %s = %v, want content, hash, capture time and schema", name, it)
		}
	}

	// A heartbeat with nothing changed sends every item by its hash alone.
	r, err = a.Heartbeat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for name, it := range items(wi.call(1)) {
		if _, ok := it["Content"]; ok {
			t.Errorf("heartbeat: item %s sent with content; want its hash alone", name)
		}
		if it["ContentHash"] != items(call)[name]["ContentHash"] {
			t.Errorf("heartbeat: item %s hash %v, the report's was %v", name, it["ContentHash"], items(call)[name]["ContentHash"])
		}
	}
	if !r.Heartbeat || !r.Items[0].HashOnly {
		t.Errorf("heartbeat report %+v", r)
	}

	// A changed item goes in full at the next heartbeat; the others still by hash.
	a.acked[TypeApplication] = "something else"
	if _, err := a.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	got := items(wi.call(2))
	if _, ok := got[TypeApplication]["Content"]; !ok {
		t.Errorf("changed AWS:Application sent without its content")
	}
	if _, ok := got[TypeInstanceInformation]["Content"]; ok {
		t.Errorf("unchanged AWS:InstanceInformation sent with its content")
	}
}

func TestAgent_HeartbeatRefusedFallsBackToFullReport(t *testing.T) {
	wi := &wire{t: t}
	a := newTestAgent(t, wi)
	ctx := context.Background()
	if _, err := a.Report(ctx); err != nil {
		t.Fatal(err)
	}
	// The server has lost the content: it refuses items sent by hash alone.
	wi.answer = func(call map[string]any) (int, string) {
		for _, it := range items(call) {
			if _, ok := it["Content"]; !ok {
				return http.StatusBadRequest, `{"__type":"ItemContentMismatchException","Message":"no content with that hash"}`
			}
		}
		return http.StatusOK, `{"Message":"stored"}`
	}
	r, err := a.Heartbeat(ctx)
	if err != nil || r.Message != "stored" || r.Heartbeat {
		t.Fatalf("heartbeat after a refusal = %+v, %v; want a full report stored", r, err)
	}
	if wi.count() != 3 {
		t.Errorf("%d calls, want report, refused heartbeat, full report", wi.count())
	}
}

func TestClient_Errors(t *testing.T) {
	wi := &wire{t: t, answer: func(map[string]any) (int, string) {
		return http.StatusBadRequest, `{"__type":"com.amazonaws.ssm#InvalidItemContentException","message":"Items[2].Content[0]: Name is required."}`
	}}
	a := newTestAgent(t, wi)
	_, err := a.Report(context.Background())
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "InvalidItemContentException" || ae.Message != "Items[2].Content[0]: Name is required." || ae.StatusCode != 400 {
		t.Fatalf("error %#v, want InvalidItemContentException with its message", err)
	}
	if err.Error() != "InvalidItemContentException: Items[2].Content[0]: Name is required." {
		t.Errorf("error text %q", err.Error())
	}

	// Not JSON at all (a proxy's page): the status and the text.
	resp := &http.Response{StatusCode: 502, Header: http.Header{}}
	if e := decodeError(resp, []byte("<html>Bad Gateway</html>")); e.Code != "HTTP502" || !strings.Contains(e.Message, "Bad Gateway") || e.ErrorFault() != smithy.FaultServer {
		t.Errorf("decodeError(502 html) = %+v", e)
	}
	// The code in the header wins, without its namespace or suffix.
	resp = &http.Response{StatusCode: 403, Header: http.Header{"X-Amzn-Errortype": {"AccessDeniedException:http://internal.amazon.com/"}}}
	if e := decodeError(resp, []byte(`{"Message":"not allowed"}`)); e.Code != "AccessDeniedException" || e.Message != "not allowed" {
		t.Errorf("decodeError(403) = %+v", e)
	}
}

func TestNewClient_Refusals(t *testing.T) {
	creds := credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")
	for _, tc := range []struct{ endpoint, region, msg string }{
		{"127.0.0.1:7373", "us-east-1", "want http://"},
		{"ftp://host", "us-east-1", "want http://"},
		{"http://127.0.0.1:7373", "", "no region"},
	} {
		if _, err := NewClient(tc.endpoint, tc.region, creds); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("NewClient(%q, %q) = %v, want an error saying %q", tc.endpoint, tc.region, err, tc.msg)
		}
	}
}

// TestAgent_Run checks the loop: a full report first, heartbeats by hash after, retries after
// a failure, and a clean stop when its context ends.
func TestAgent_Run(t *testing.T) {
	wi := &wire{t: t}
	fail := true
	wi.answer = func(map[string]any) (int, string) {
		if fail { // the first call fails: the server is not up yet
			fail = false
			return http.StatusServiceUnavailable, `{"__type":"InternalServerError","Message":"starting"}`
		}
		return http.StatusOK, `{"Message":"ok"}`
	}
	a := newTestAgent(t, wi)
	a.Interval, a.HeartbeatInterval, a.RetryWait = time.Hour, 20*time.Millisecond, 10*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	deadline := time.After(30 * time.Second)
	for wi.count() < 4 {
		select {
		case <-deadline:
			t.Fatalf("%d calls in 30s, want 4", wi.count())
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil when stopped", err)
	}
	hashOnly := func(i int) bool {
		for _, it := range items(wi.call(i)) {
			if _, ok := it["Content"]; ok {
				return false
			}
		}
		return true
	}
	if hashOnly(0) || hashOnly(1) || !hashOnly(2) || !hashOnly(3) {
		t.Errorf("calls by hash only: %v %v %v %v; want a failed full report, its full retry, then heartbeats by hash",
			hashOnly(0), hashOnly(1), hashOnly(2), hashOnly(3))
	}
}
