package test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

const wrongSecret = "this/is/not/the/secret/0123456789abcdefXY"

const signatureMismatch = "The request signature we calculated does not match the signature you provided."

// TestGetCallerIdentity_SDK is the smoke test of the request path: the AWS SDK for Go signs,
// the server verifies, and the root identity comes back.
func TestGetCallerIdentity_SDK(t *testing.T) {
	s := startServer(t, serverOptions{})
	ctx := context.Background()

	out, err := sts.NewFromConfig(s.awsConfig(rootKeyID, rootSecret)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if got, want := *out.Arn, "arn:aws:iam::"+rootAccount+":root"; got != want {
		t.Errorf("Arn = %q, want %q", got, want)
	}
	if got := *out.Account; got != rootAccount {
		t.Errorf("Account = %q, want %q", got, rootAccount)
	}
	if got := *out.UserId; got != rootAccount {
		t.Errorf("UserId = %q, want the account ID %q (root's principal ID)", got, rootAccount)
	}

	_, err = sts.NewFromConfig(s.awsConfig(rootKeyID, wrongSecret)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("GetCallerIdentity with a wrong secret: got %v, want an API error", err)
	}
	if apiErr.ErrorCode() != "SignatureDoesNotMatch" || !strings.Contains(apiErr.ErrorMessage(), signatureMismatch) {
		t.Errorf("wrong secret: got %s: %s, want SignatureDoesNotMatch", apiErr.ErrorCode(), apiErr.ErrorMessage())
	}

	_, err = sts.NewFromConfig(s.awsConfig("AKIANOSUCHKEY0000001", rootSecret)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidClientTokenId" {
		t.Errorf("unknown key: got %v, want InvalidClientTokenId", err)
	}
}

// awsCLIs returns the AWS CLI binaries to test: v1 (pip, on PATH on these machines) and v2
// (Debian's awscli package, which ./scripts/test installs).
func awsCLIs(t *testing.T) map[string]string {
	t.Helper()
	v1 := os.Getenv("ALLOT_TEST_AWSCLI1")
	if v1 == "" {
		if p, err := exec.LookPath("aws"); err == nil {
			if out, err := exec.Command(p, "--version").CombinedOutput(); err == nil && strings.HasPrefix(string(out), "aws-cli/1.") {
				v1 = p
			}
		}
	}
	v2 := os.Getenv("ALLOT_TEST_AWSCLI2")
	if v2 == "" {
		v2 = "/usr/bin/aws"
	}
	return map[string]string{"v1": v1, "v2": v2}
}

func TestGetCallerIdentity_AWSCLI(t *testing.T) {
	s := startServer(t, serverOptions{})
	for name, path := range awsCLIs(t) {
		t.Run(name, func(t *testing.T) {
			bin := requireTool(t, "AWS CLI "+name, path)
			stdout, stderr, code := s.cli(t, bin, rootKeyID, rootSecret, "sts", "get-caller-identity")
			if code != 0 {
				t.Fatalf("aws sts get-caller-identity: exit %d\n%s", code, stderr)
			}
			var out struct{ UserId, Account, Arn string }
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, stdout)
			}
			if want := "arn:aws:iam::" + rootAccount + ":root"; out.Arn != want || out.Account != rootAccount {
				t.Errorf("got %+v, want Arn %s and Account %s", out, want, rootAccount)
			}

			_, stderr, code = s.cli(t, bin, rootKeyID, wrongSecret, "sts", "get-caller-identity")
			if code == 0 {
				t.Fatalf("wrong secret: exit 0, want a failure")
			}
			if !strings.Contains(stderr, "(SignatureDoesNotMatch)") || !strings.Contains(stderr, signatureMismatch) {
				t.Errorf("wrong secret: stderr = %q, want the SignatureDoesNotMatch error", stderr)
			}
		})
	}
}

// botoScript calls GetCallerIdentity with boto3 and prints the result or the error code.
const botoScript = `
import json, sys, boto3, botocore
c = boto3.client("sts", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
try:
    r = c.get_caller_identity()
    print(json.dumps({"Arn": r["Arn"], "Account": r["Account"]}))
except botocore.exceptions.ClientError as e:
    print(json.dumps({"Code": e.response["Error"]["Code"], "Message": e.response["Error"]["Message"]}))
`

func TestGetCallerIdentity_Boto3(t *testing.T) {
	python := requireTool(t, "python3", lookPath("python3"))
	if err := exec.Command(python, "-c", "import boto3").Run(); err != nil {
		requireTool(t, "boto3", "")
	}
	s := startServer(t, serverOptions{})
	run := func(secret string) map[string]string {
		cmd := exec.Command(python, "-c", botoScript, s.url, rootKeyID, secret)
		cmd.Env = append(cleanAWSEnv(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("boto3: %v\n%s", err, out)
		}
		var m map[string]string
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("boto3 output %q: %v", out, err)
		}
		return m
	}
	if got := run(rootSecret); got["Arn"] != "arn:aws:iam::"+rootAccount+":root" || got["Account"] != rootAccount {
		t.Errorf("boto3 get_caller_identity = %v, want the root ARN", got)
	}
	if got := run(wrongSecret); got["Code"] != "SignatureDoesNotMatch" || !strings.Contains(got["Message"], signatureMismatch) {
		t.Errorf("boto3 with a wrong secret = %v, want SignatureDoesNotMatch", got)
	}
}

func lookPath(name string) string {
	p, _ := exec.LookPath(name)
	return p
}

// TestGetCallerIdentity_Presigned is what Kubernetes' aws-iam-authenticator and Vault do: a
// presigned GetCallerIdentity URL, sent later by someone else.
func TestGetCallerIdentity_Presigned(t *testing.T) {
	s := startServer(t, serverOptions{})
	ctx := context.Background()
	for _, tt := range []struct {
		name, secret string
		status       int
		want         string
	}{
		{"valid", rootSecret, 200, "<Arn>arn:aws:iam::" + rootAccount + ":root</Arn>"},
		{"wrong secret", wrongSecret, 403, "<Code>SignatureDoesNotMatch</Code>"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			presigned, err := sts.NewPresignClient(sts.NewFromConfig(s.awsConfig(rootKeyID, tt.secret))).
				PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			req, err := http.NewRequest(presigned.Method, presigned.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range presigned.SignedHeader {
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.want) {
				t.Errorf("%s %s: %d %s, want %d with %s", presigned.Method, presigned.URL, resp.StatusCode, body, tt.status, tt.want)
			}
		})
	}
}

// TestJSONProtocolAuthErrors checks that JSON 1.1 services name signature failures as their
// SDKs expect.
func TestJSONProtocolAuthErrors(t *testing.T) {
	s := startServer(t, serverOptions{})
	ctx := context.Background()
	tests := []struct{ keyID, secret, want string }{
		{rootKeyID, wrongSecret, "InvalidSignatureException"},
		{"AKIANOSUCHKEY0000001", rootSecret, "UnrecognizedClientException"},
	}
	for _, tt := range tests {
		_, err := cloudtrail.NewFromConfig(s.awsConfig(tt.keyID, tt.secret)).LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
		if got := errorCode(err); got != tt.want {
			t.Errorf("LookupEvents with key %s: got %v, want %s", tt.keyID, err, tt.want)
		}
	}
}
