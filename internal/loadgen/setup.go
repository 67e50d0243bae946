package loadgen

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Principals the load can be sent as (Config.Principal).
const (
	PrincipalRoot = "root" // the credentials given
	PrincipalUser = "user" // an IAM user the setup makes, with benchPolicy
	PrincipalRole = "role" // a session of an IAM role the setup makes, with benchPolicy
)

// Issuer key algorithms (Config.KeyAlg).
const (
	AlgES256 = "ES256"
	AlgPS384 = "PS384"
)

func tlsConfig(host string) *tls.Config {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	return &tls.Config{ServerName: name, MinVersion: tls.VersionTLS12}
}

// randomID returns n random hex digits, naming what one run sets up.
func randomID(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// whoAmI returns the account and ARN of the caller.
func whoAmI(ctx context.Context, c *client) (account, arn string, err error) {
	var out struct {
		Account string `xml:"GetCallerIdentityResult>Account"`
		ARN     string `xml:"GetCallerIdentityResult>Arn"`
	}
	if err := c.query(ctx, "sts", "2011-06-15", "GetCallerIdentity", nil, &out); err != nil {
		return "", "", err
	}
	return out.Account, out.ARN, nil
}

// benchPolicy is the identity policy of the principal the setup makes: 10 statements, several
// with conditions, as a License Manager consumer's role might have. It allows what the
// scenarios do, from loopback and private addresses, in the run's region.
func benchPolicy(account, region string) string {
	return `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Checkout", "Effect": "Allow", "Action": ["license-manager:CheckoutLicense", "license-manager:CheckInLicense", "license-manager:ExtendLicenseConsumption", "ec2:RunInstances", "ec2:TerminateInstances"], "Resource": "*",
     "Condition": {"StringEquals": {"aws:RequestedRegion": "` + region + `"}, "Bool": {"aws:MultiFactorAuthPresent": "false"}}},
    {"Sid": "Read", "Effect": "Allow", "Action": ["license-manager:Get*", "license-manager:List*"], "Resource": "arn:aws:license-manager::` + account + `:license:*"},
    {"Sid": "Grants", "Effect": "Allow", "Action": "license-manager:CreateGrant", "Resource": "*",
     "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost"]}}},
    {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "arn:aws:logs:*:` + account + `:log-group:/allot/*"},
    {"Sid": "Home", "Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::home/${aws:username}", "arn:aws:s3:::home/${aws:username}/*"]},
    {"Sid": "Identity", "Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"},
    {"Sid": "Network", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}}},
    {"Sid": "Window", "Effect": "Deny", "Action": "license-manager:*", "Resource": "*", "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2099-01-01T00:00:00Z"}}},
    {"Sid": "NoIAM", "Effect": "Deny", "Action": ["iam:*", "organizations:*"], "Resource": "*"},
    {"Sid": "Regions", "Effect": "Deny", "NotAction": ["sts:*", "iam:*"], "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["` + region + `"]}}}
  ]
}`
}

// accessKeyResult is the part of CreateAccessKey's answer the setup needs.
type accessKeyResult struct {
	ID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
	Secret string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
}

const iamVersion = "2010-05-08"

// makeUser creates an IAM user with an inline policy and an access key, and returns its
// credentials.
func makeUser(ctx context.Context, c *client, name, policyName, policy string) (Credentials, error) {
	if err := c.query(ctx, "iam", iamVersion, "CreateUser", url.Values{"UserName": {name}, "Path": {"/allot-bench/"}}, nil); err != nil {
		return Credentials{}, fmt.Errorf("loadgen: set up user: %w", err)
	}
	if err := c.query(ctx, "iam", iamVersion, "PutUserPolicy", url.Values{"UserName": {name}, "PolicyName": {policyName}, "PolicyDocument": {policy}}, nil); err != nil {
		return Credentials{}, fmt.Errorf("loadgen: set up user: %w", err)
	}
	var key accessKeyResult
	if err := c.query(ctx, "iam", iamVersion, "CreateAccessKey", url.Values{"UserName": {name}}, &key); err != nil {
		return Credentials{}, fmt.Errorf("loadgen: set up user: %w", err)
	}
	return Credentials{AccessKeyID: key.ID, SecretAccessKey: key.Secret}, nil
}

// setUpPrincipal returns the credentials the load is sent with, making the IAM user or role
// (and a user to assume it) that kind asks for.
func setUpPrincipal(ctx context.Context, ep *endpoint, root *client, account, kind, runID string, session time.Duration) (Credentials, string, error) {
	policy := benchPolicy(account, ep.region)
	switch kind {
	case PrincipalRoot:
		return root.sign.creds, "root of " + account, nil
	case PrincipalUser:
		name := "allot-bench-" + runID
		creds, err := makeUser(ctx, root, name, "bench", policy)
		return creds, "arn:aws:iam::" + account + ":user/allot-bench/" + name, err
	case PrincipalRole:
	default:
		return Credentials{}, "", fmt.Errorf("loadgen: principal %q: want root, user or role", kind)
	}
	role := "allot-bench-" + runID
	roleARN := "arn:aws:iam::" + account + ":role/allot-bench/" + role
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"sts:AssumeRole"}]}`
	maxSession := max(int(session.Seconds()), 3600)
	if err := root.query(ctx, "iam", iamVersion, "CreateRole", url.Values{"RoleName": {role}, "Path": {"/allot-bench/"},
		"AssumeRolePolicyDocument": {trust}, "MaxSessionDuration": {strconv.Itoa(maxSession)}}, nil); err != nil {
		return Credentials{}, "", fmt.Errorf("loadgen: set up role: %w", err)
	}
	if err := root.query(ctx, "iam", iamVersion, "PutRolePolicy", url.Values{"RoleName": {role}, "PolicyName": {"bench"}, "PolicyDocument": {policy}}, nil); err != nil {
		return Credentials{}, "", fmt.Errorf("loadgen: set up role: %w", err)
	}
	// Roles may not be assumed by root: a user that may assume it does that.
	callerPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + roleARN + `"}]}`
	callerCreds, err := makeUser(ctx, root, role+"-caller", "assume", callerPolicy)
	if err != nil {
		return Credentials{}, "", err
	}
	caller := ep.newClient(newSigner(callerCreds, ep.region))
	defer caller.close()
	var out struct {
		ID     string `xml:"AssumeRoleResult>Credentials>AccessKeyId"`
		Secret string `xml:"AssumeRoleResult>Credentials>SecretAccessKey"`
		Token  string `xml:"AssumeRoleResult>Credentials>SessionToken"`
		ARN    string `xml:"AssumeRoleResult>AssumedRoleUser>Arn"`
	}
	params := url.Values{"RoleArn": {roleARN}, "RoleSessionName": {"bench"}, "DurationSeconds": {strconv.Itoa(maxSession)}}
	// A new access key is usable at once; the retry only covers a server still warming up.
	for attempt := 0; ; attempt++ {
		err = caller.query(ctx, "sts", "2011-06-15", "AssumeRole", params, &out)
		if err == nil || attempt == 2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return Credentials{}, "", fmt.Errorf("loadgen: set up role: %w", err)
	}
	return Credentials{AccessKeyID: out.ID, SecretAccessKey: out.Secret, SessionToken: out.Token}, out.ARN, nil
}

// license is a license the setup made.
type license struct {
	ARN         string
	SKU         string
	Fingerprint string
	MaxCount    int64
}

// createLicense creates a license of maxCount Seats (AllowCheckIn, hard limit) for sku,
// provisional with a 60-minute time to live, signed with an issuer key of alg.
func createLicense(ctx context.Context, c *client, region, issuer, sku, alg string, maxCount int64) (*license, error) {
	now := time.Now().UTC()
	signKey := ""
	if alg == AlgPS384 {
		signKey = "RSA"
	}
	in := map[string]any{
		"LicenseName": "allot bench " + sku, "ProductName": "Allot bench", "ProductSKU": sku,
		"Issuer":     map[string]any{"Name": issuer, "SignKey": signKey},
		"HomeRegion": region,
		"Validity": map[string]any{"Begin": now.Add(-24 * time.Hour).Format(time.RFC3339),
			"End": now.Add(365 * 24 * time.Hour).Format(time.RFC3339)},
		"Entitlements": []map[string]any{
			{"Name": "Seats", "Unit": "Count", "MaxCount": maxCount, "AllowCheckIn": true},
		},
		"Beneficiary":              "allot-bench",
		"ConsumptionConfiguration": map[string]any{"ProvisionalConfiguration": map[string]any{"MaxTimeToLiveInMinutes": 60}},
		"ClientToken":              "create-" + sku,
	}
	var out struct{ LicenseArn string }
	if err := c.lm(ctx, "CreateLicense", in, &out); err != nil {
		return nil, fmt.Errorf("loadgen: set up license %s: %w", sku, err)
	}
	var got struct {
		License struct {
			Issuer struct{ KeyFingerprint string }
		}
	}
	if err := c.lm(ctx, "GetLicense", map[string]any{"LicenseArn": out.LicenseArn}, &got); err != nil {
		return nil, fmt.Errorf("loadgen: set up license %s: %w", sku, err)
	}
	return &license{ARN: out.LicenseArn, SKU: sku, Fingerprint: got.License.Issuer.KeyFingerprint, MaxCount: maxCount}, nil
}

// usage returns the Seats units GetLicenseUsage reports out of a license.
func usage(ctx context.Context, c *client, arn string) (int64, error) {
	var out struct {
		LicenseUsage struct {
			EntitlementUsages []struct {
				Name          string
				ConsumedValue string
			}
		}
	}
	if err := c.lm(ctx, "GetLicenseUsage", map[string]any{"LicenseArn": arn}, &out); err != nil {
		return 0, err
	}
	for _, u := range out.LicenseUsage.EntitlementUsages {
		if u.Name == "Seats" {
			n, err := strconv.ParseInt(strings.TrimSpace(u.ConsumedValue), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("loadgen: GetLicenseUsage of %s: ConsumedValue %q: %w", arn, u.ConsumedValue, err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("loadgen: GetLicenseUsage of %s lists no Seats", arn)
}
