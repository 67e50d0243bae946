package test

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// explain runs `allot explain` on a server's data directory and returns its output and exit
// code.
func explain(t *testing.T, s *server, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(allotBin, append([]string{"explain", "--data-dir", s.dataDir}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		t.Fatal(err)
	}
	return string(out), 0
}

// TestExplain_SeedTroubleshooting checks `allot explain` on seed 000's troubleshooting rows
// that concern License Manager permissions: a role with the checkout permission on "*" may
// check out; one whose policy names a license ARN may not, because CheckoutLicense has no
// resource type; one without the permission may not.
func TestExplain_SeedTroubleshooting(t *testing.T) {
	s := startServer(t, serverOptions{})
	ctx := context.Background()
	client := iam.NewFromConfig(s.awsConfig(rootKeyID, rootSecret))
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + rootAccount + `:root"},"Action":"sts:AssumeRole"}]}`
	licenseARN := "arn:aws:license-manager::" + rootAccount + ":license:l-0123456789abcdef0123456789abcdef"
	roles := map[string]string{
		"Good":       strings.ReplaceAll(seedPermissionsPolicy, "\n", ""),
		"ScopedARN":  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["license-manager:CheckoutLicense","license-manager:CheckInLicense"],"Resource":"` + licenseARN + `"}]}`,
		"NoCheckout": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"license-manager:ListReceivedLicenses","Resource":"*"}]}`,
	}
	for name, doc := range roles {
		if _, err := client.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			t.Fatal(err)
		}
		if _, err := client.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("license"), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	role := func(name string) string { return "arn:aws:iam::" + rootAccount + ":role/" + name }

	out, code := explain(t, s, "--principal", role("Good"), "--action", "license-manager:CheckoutLicense")
	if code != 0 || !strings.Contains(out, "ALLOW") || !strings.Contains(out, "DataMasqueLicenseOperations") {
		t.Errorf("Good role: exit %d\n%s", code, out)
	}

	for _, tt := range []struct{ role, action string }{
		{"ScopedARN", "license-manager:CheckoutLicense"},
		{"NoCheckout", "license-manager:CheckoutLicense"},
		{"ScopedARN", "license-manager:CheckInLicense"},
	} {
		out, code := explain(t, s, "--principal", role(tt.role), "--action", tt.action, "--resource", licenseARN, "--output", "json")
		var got struct {
			Decision, DecidedBy, Message, Resource string
			Trace                                  []struct {
				Matched bool
				WhyNot  string
			}
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("explain --output json: %v\n%s", err, out)
		}
		want := "is not authorized to perform: " + tt.action + " on resource: * because no identity-based policy allows the " + tt.action + " action"
		if code != 1 || got.Resource != "*" || !strings.Contains(got.Message, want) || len(got.Trace) == 0 || got.Trace[0].Matched {
			t.Errorf("%s %s: exit %d, %+v; want a denial decided against * saying %q", tt.role, tt.action, code, got, want)
		}
	}
	if out, _ := explain(t, s, "--principal", role("ScopedARN"), "--action", "license-manager:CheckoutLicense"); !strings.Contains(out, "the resource does not match") {
		t.Errorf("the trace does not say the resource did not match:\n%s", out)
	}
}
