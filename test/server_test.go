package test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func TestBootstrap_GeneratedCredentials(t *testing.T) {
	s := startServer(t, serverOptions{noRootEnv: true})
	credFile := filepath.Join(s.dataDir, "credentials")

	printed := s.stdout.String()
	if !strings.Contains(printed, "aws_secret_access_key") {
		t.Fatalf("first start did not print the generated root credentials; stdout:\n%s", printed)
	}
	fi, err := os.Stat(credFile)
	if err != nil {
		t.Fatalf("credentials file: %v", err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("credentials file mode = %o, want 600", mode)
	}

	// The file is a shared-credentials file the SDK loads as it is.
	call := func(s *server) *sts.GetCallerIdentityOutput {
		t.Helper()
		cfg, err := config.LoadDefaultConfig(context.Background(),
			config.WithSharedCredentialsFiles([]string{credFile}), config.WithSharedConfigFiles([]string{}),
			config.WithRegion(region), config.WithBaseEndpoint(s.url))
		if err != nil {
			t.Fatal(err)
		}
		out, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity with the generated credentials: %v", err)
		}
		return out
	}
	first := call(s)
	if !strings.HasSuffix(*first.Arn, ":root") || !strings.Contains(printed, *first.Account) {
		t.Errorf("caller = %s, want the root of the printed account", *first.Arn)
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("SIGTERM: exit code %d, want 0", code)
	}

	// A restart keeps the account and the keys and prints no secret.
	s2 := startServer(t, serverOptions{dataDir: s.dataDir, noRootEnv: true})
	if strings.Contains(s2.stdout.String(), "aws_secret_access_key") {
		t.Error("restart printed credentials again")
	}
	if again := call(s2); *again.Arn != *first.Arn {
		t.Errorf("after restart caller = %s, want %s", *again.Arn, *first.Arn)
	}
}

func TestBootstrap_EnvMismatchRefused(t *testing.T) {
	s := startServer(t, serverOptions{})
	s.stop()
	cmd := startCmd(s.dataDir, "ALLOT_ROOT_ACCOUNT_ID=999999999999", "ALLOT_ROOT_ACCESS_KEY_ID="+rootKeyID, "ALLOT_ROOT_SECRET_ACCESS_KEY="+rootSecret)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "management account is "+rootAccount) {
		t.Errorf("start with another account ID: err %v, want a refusal naming the stored account\n%s", err, out)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	s := startServer(t, serverOptions{})
	makeCalls(t, s)

	resp, err := http.Get(s.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("healthz = %d %q", resp.StatusCode, body)
	}

	resp, err = http.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`allot_requests_total{operation="GetCallerIdentity",outcome="ok",service="sts"} 2`,
		`allot_requests_total{operation="unknown",outcome="unauthenticated",service="sts"} 1`,
		`allot_request_duration_seconds_bucket{operation="GetCallerIdentity",service="sts",le="+Inf"}`,
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// signedRequest builds a request signed with the root key by the SDK's own signer.
func signedRequest(t *testing.T, s *server, service, target, contentType string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.url+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: rootKeyID, SecretAccessKey: rootSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, region, time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

type jsonError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

type queryError struct {
	Error struct {
		Type, Code, Message string
	}
	RequestID string `xml:"RequestId"`
}

// TestBadInput sends malformed, oversized and unknown requests: each gets a 4xx error in the
// protocol's own shape, never a 500.
func TestBadInput(t *testing.T) {
	s := startServer(t, serverOptions{})
	const lookup = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
	const jsonCT = "application/x-amz-json-1.1"
	const formCT = "application/x-www-form-urlencoded; charset=utf-8"
	huge := append([]byte(`{"NextToken":"`), bytes.Repeat([]byte("a"), 2<<20)...)
	huge = append(huge, `"}`...)

	jsonCases := []struct {
		name, service, target string
		body                  string
		status                int
		code                  string
	}{
		{"malformed JSON", "cloudtrail", lookup, `{"MaxResults":`, 400, "SerializationException"},
		{"not an object", "cloudtrail", lookup, `[1,2]`, 400, "SerializationException"},
		{"wrong type", "cloudtrail", lookup, `{"MaxResults":"5"}`, 400, "SerializationException"},
		{"float for integer", "cloudtrail", lookup, `{"MaxResults":5.5}`, 400, "SerializationException"},
		{"unknown member", "cloudtrail", lookup, `{"Colour":"blue"}`, 400, "SerializationException"},
		{"trailing data", "cloudtrail", lookup, `{} {}`, 400, "SerializationException"},
		{"oversized body", "cloudtrail", lookup, string(huge), 400, "SerializationException"},
		{"unknown operation", "cloudtrail", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.StopLogging", `{}`, 400, "UnknownOperationException"},
		{"unknown service", "cloudtrail", "NoSuchService.DoThing", `{}`, 400, "UnknownOperationException"},
		{"scope names another service", "license-manager", lookup, `{}`, 403, "InvalidSignatureException"},
		{"empty body is {}", "cloudtrail", lookup, ``, 200, ""},
	}
	for _, tt := range jsonCases {
		t.Run("json/"+tt.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(signedRequest(t, s, tt.service, tt.target, jsonCT, []byte(tt.body)))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.status, body)
			}
			if tt.code == "" {
				return
			}
			var e jsonError
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("error body is not JSON: %s", body)
			}
			if e.Type != tt.code || e.Message == "" || resp.Header.Get("X-Amzn-Errortype") != tt.code || resp.Header.Get("X-Amzn-Requestid") == "" {
				t.Errorf("got %s %q (header %q), want %s with a message and a request ID", e.Type, e.Message, resp.Header.Get("X-Amzn-Errortype"), tt.code)
			}
		})
	}

	queryCases := []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"unknown action", formCT, "Action=DeleteEverything&Version=2011-06-15", 400, "InvalidAction"},
		{"missing action", formCT, "Version=2011-06-15", 400, "MissingAction"},
		{"wrong version", formCT, "Action=GetCallerIdentity&Version=2099-01-01", 400, "InvalidAction"},
		{"unknown parameter", formCT, "Action=GetCallerIdentity&Version=2011-06-15&Bogus=1", 400, "ValidationError"},
		{"bad encoding", formCT, "Action=GetCallerIdentity&Version=%zz", 400, "MalformedQueryString"},
		{"not a form", "text/plain", "Action=GetCallerIdentity&Version=2011-06-15", 400, "ValidationError"},
	}
	for _, tt := range queryCases {
		t.Run("query/"+tt.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(signedRequest(t, s, "sts", "", tt.contentType, []byte(tt.body)))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.status, body)
			}
			var e queryError
			if err := xml.Unmarshal(body, &e); err != nil {
				t.Fatalf("error body is not XML: %s", body)
			}
			if e.Error.Code != tt.code || e.Error.Message == "" || e.Error.Type != "Sender" || e.RequestID == "" {
				t.Errorf("got %+v, want code %s", e, tt.code)
			}
		})
	}

	t.Run("unsigned", func(t *testing.T) {
		resp, err := http.Post(s.url+"/", formCT, strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var e queryError
		xml.Unmarshal(body, &e)
		if resp.StatusCode != 403 || e.Error.Code != "MissingAuthenticationToken" {
			t.Errorf("unsigned request: %d %s, want 403 MissingAuthenticationToken", resp.StatusCode, body)
		}
	})
}
