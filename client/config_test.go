package client

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

func TestValidateRoleARN(t *testing.T) {
	for _, tc := range []struct {
		arn    string
		reason string // "" when valid
	}{
		{"arn:aws:iam::111122223333:role/DataMasqueLicenseRole", ""},
		{"arn:aws:iam::111122223333:role/licensing/DataMasqueLicenseRole", ""},
		{"arn:aws-us-gov:iam::111122223333:role/R", ""},
		{"arn:aws:iam::111122223333:role/a+=,.@_-b", ""},
		{"", "empty"},
		{"   ", "empty"},
		{" arn:aws:iam::111122223333:role/R", "spaces"},
		{"DataMasqueLicenseRole", "not an ARN"},
		{"arn:aws:iam::111122223333", "not an ARN"},
		{"arn:aws-xx:iam::111122223333:role/R", `partition "aws-xx"`},
		{"arn:aws:sts::111122223333:role/R", `service "sts"`},
		{"arn:aws:iam:us-east-1:111122223333:role/R", "no region"},
		{"arn:aws:iam::11112222333:role/R", `account "11112222333" is not 12 digits`},
		{"arn:aws:iam::<billing-account-id>:role/R", "is not 12 digits"},
		{"arn:aws:iam::111122223333:user/R", `"user/R" is not a role`},
		{"arn:aws:iam::111122223333:role/", "role name"},
		{"arn:aws:iam::111122223333:role/has space", "role name"},
		{"arn:aws:iam::111122223333:role/" + strings.Repeat("r", 65), "role name"},
	} {
		err := ValidateRoleARN(tc.arn)
		if tc.reason == "" {
			if err != nil {
				t.Errorf("ValidateRoleARN(%q) = %v, want nil", tc.arn, err)
			}
			continue
		}
		var bad *InvalidRoleARNError
		if !errors.As(err, &bad) || !strings.Contains(bad.Reason, tc.reason) || bad.ARN != tc.arn {
			t.Errorf("ValidateRoleARN(%q) = %v, want an *InvalidRoleARNError saying %q", tc.arn, err, tc.reason)
			continue
		}
		if !strings.Contains(err.Error(), "arn:aws:iam::<12-digit account ID>:role/<role name>") {
			t.Errorf("ValidateRoleARN(%q): message %q does not give the format", tc.arn, err)
		}
	}
}

func staticAWS() aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLE", "secret", "")}
}

func TestNew_Config(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // "" when valid
	}{
		{"SameAccount", Config{AWS: staticAWS()}, ""},
		{"AssumeRole", Config{AWS: staticAWS(), Mode: ModeAssumeRole, RoleARN: "arn:aws:iam::111122223333:role/R"}, ""},
		{"Grants", Config{AWS: staticAWS(), Mode: ModeGrants}, ""},
		{"ErrInvalidRoleARN", Config{AWS: staticAWS(), Mode: ModeAssumeRole, RoleARN: "arn:aws:iam::1111:role/R"}, "invalid role ARN"},
		{"ErrNoRoleARN", Config{AWS: staticAWS(), Mode: ModeAssumeRole}, "it is empty"},
		{"ErrRoleInGrantsMode", Config{AWS: staticAWS(), Mode: ModeGrants, RoleARN: "arn:aws:iam::111122223333:role/R"}, "only assumed in assume-role mode"},
		{"ErrUnknownMode", Config{AWS: staticAWS(), Mode: "cross"}, `unknown mode "cross"`},
		{"ErrNoCredentials", Config{AWS: aws.Config{Region: "us-east-1"}}, "no credentials"},
		{"ErrGraceWithoutPeriod", Config{AWS: staticAWS(), Grace: GraceContinue}, "GracePeriod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("New = %v, want no error", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("New = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for _, s := range []string{"same-account", "assume-role", "grants"} {
		if m, err := ParseMode(s); err != nil || string(m) != s {
			t.Errorf("ParseMode(%q) = %q, %v", s, m, err)
		}
	}
	if _, err := ParseMode("assume_role"); err == nil {
		t.Errorf("ParseMode(assume_role) = nil error")
	}
}
