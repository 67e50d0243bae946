package awsproto_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awsproto"
	"github.com/allot-dev/allot/internal/ec2"
)

// ec2Server answers every request with respond, after decoding its form into the input of the
// action it names (RunInstances or DescribeInstances); it keeps the last decoded input and
// decoding error.
type ec2Server struct {
	run      ec2.RunInstancesInput
	describe ec2.DescribeInstancesInput
	err      error
	respond  func(w http.ResponseWriter, action string)
}

func (s *ec2Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	action := form.Get("Action")
	switch action {
	case "RunInstances":
		s.err = awsproto.DecodeEC2(form, &s.run)
	case "DescribeInstances":
		s.err = awsproto.DecodeEC2(form, &s.describe)
	}
	s.respond(w, action)
}

func ec2Client(t *testing.T, s *ec2Server) *sdkec2.Client {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return sdkec2.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}, BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1})
}

// TestEC2_SDKRoundTrip decodes what the AWS SDK for Go's EC2 client sends (flat lists,
// nested structures, filters) and checks the client reads what WriteEC2 writes.
func TestEC2_SDKRoundTrip(t *testing.T) {
	launch := time.Date(2026, 3, 1, 10, 15, 0, 0, time.UTC)
	s := &ec2Server{respond: func(w http.ResponseWriter, action string) {
		inst := ec2.Instance{InstanceID: "i-0123456789abcdef0", ImageID: "ami-0123456789abcdef0", InstanceType: "m5.8xlarge", LaunchTime: launch,
			Placement:  ec2.Placement{AvailabilityZone: "us-east-1a", Tenancy: "host", HostID: "h-0123456789abcdef0"},
			CPUOptions: ec2.CPUOptions{CoreCount: 8, ThreadsPerCore: 1}, Architecture: "x86_64",
			Licenses: []ec2.LicenseConfiguration{{LicenseConfigurationArn: "arn:aws:license-manager:us-east-1:111122223333:license-configuration:lic-1"}}}
		if action == "RunInstances" {
			awsproto.WriteEC2(w, "req-1", action, &ec2.RunInstancesOutput{ReservationID: "r-1", OwnerID: "111122223333", Groups: []struct{}{}, Instances: []ec2.Instance{inst}})
			return
		}
		awsproto.WriteEC2(w, "req-2", action, &ec2.DescribeInstancesOutput{Reservations: []ec2.Reservation{{ReservationID: "r-1", Instances: []ec2.Instance{inst}}}, NextToken: aws.String("next")})
	}}
	c := ec2Client(t, s)
	out, err := c.RunInstances(context.Background(), &sdkec2.RunInstancesInput{
		ImageId: aws.String("ami-0123456789abcdef0"), InstanceType: ec2types.InstanceTypeM58xlarge, MinCount: aws.Int32(1), MaxCount: aws.Int32(2),
		Placement:             &ec2types.Placement{Tenancy: ec2types.TenancyHost, HostId: aws.String("h-0123456789abcdef0")},
		CpuOptions:            &ec2types.CpuOptionsRequest{CoreCount: aws.Int32(8), ThreadsPerCore: aws.Int32(1)},
		LicenseSpecifications: []ec2types.LicenseConfigurationRequest{{LicenseConfigurationArn: aws.String("arn:a")}, {LicenseConfigurationArn: aws.String("arn:b")}},
	})
	if err != nil || s.err != nil {
		t.Fatalf("RunInstances = %v; server decoding: %v", err, s.err)
	}
	in := s.run
	if in.ImageID != "ami-0123456789abcdef0" || in.InstanceType != "m5.8xlarge" || *in.MinCount != 1 || *in.MaxCount != 2 || in.ClientToken == "" ||
		in.Placement.Tenancy != "host" || in.Placement.HostID != "h-0123456789abcdef0" || *in.CPUOptions.CoreCount != 8 ||
		len(in.LicenseSpecifications) != 2 || in.LicenseSpecifications[1].LicenseConfigurationArn != "arn:b" {
		t.Fatalf("decoded %+v", in)
	}
	got := out.Instances[0]
	if aws.ToString(out.ReservationId) != "r-1" || len(out.Instances) != 1 || aws.ToString(got.InstanceId) != "i-0123456789abcdef0" ||
		got.Placement.Tenancy != ec2types.TenancyHost || aws.ToString(got.Placement.HostId) != "h-0123456789abcdef0" ||
		aws.ToInt32(got.CpuOptions.CoreCount) != 8 || !aws.ToTime(got.LaunchTime).Equal(launch) || len(got.Licenses) != 1 ||
		aws.ToString(got.Licenses[0].LicenseConfigurationArn) == "" || got.State == nil {
		t.Fatalf("RunInstances output %+v", out)
	}

	d, err := c.DescribeInstances(context.Background(), &sdkec2.DescribeInstancesInput{
		InstanceIds: []string{"i-1", "i-2"},
		Filters:     []ec2types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"running", "stopped"}}},
	})
	if err != nil || s.err != nil {
		t.Fatalf("DescribeInstances = %v; server decoding: %v", err, s.err)
	}
	if f := s.describe.Filters; len(s.describe.InstanceIDs) != 2 || len(f) != 1 || f[0].Name != "instance-state-name" || len(f[0].Value) != 2 || f[0].Value[1] != "stopped" {
		t.Fatalf("decoded %+v", s.describe)
	}
	if len(d.Reservations) != 1 || len(d.Reservations[0].Instances) != 1 || aws.ToString(d.NextToken) != "next" {
		t.Fatalf("DescribeInstances output %+v", d)
	}
}

// TestEC2_Errors checks that the SDK reads WriteEC2Error's code and message, and which
// decoding failures get which code.
func TestEC2_Errors(t *testing.T) {
	s := &ec2Server{respond: func(w http.ResponseWriter, _ string) {
		awsproto.WriteEC2Error(w, "req-3", &awserr.Error{Code: "LicenseUsageException", Message: "License configuration \"OS\" has a hard limit <96>"})
	}}
	_, err := ec2Client(t, s).RunInstances(context.Background(), &sdkec2.RunInstancesInput{ImageId: aws.String("ami-1"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "LicenseUsageException" || ae.ErrorMessage() != `License configuration "OS" has a hard limit <96>` {
		t.Fatalf("RunInstances error = %v", err)
	}
	rec := httptest.NewRecorder()
	awsproto.WriteEC2Error(rec, "r", &awserr.Error{Code: "UnauthorizedOperation", Message: "no"})
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "<Response><Errors><Error><Code>UnauthorizedOperation</Code>") ||
		!strings.Contains(rec.Body.String(), "<RequestID>r</RequestID>") {
		t.Fatalf("WriteEC2Error = %d %s", rec.Code, rec.Body)
	}

	for code, want := range map[string]int{"AuthFailure": 401, "UnauthorizedOperation": 403, "DryRunOperation": 412, "InternalError": 500,
		"RequestLimitExceeded": 503, "InvalidInstanceID.NotFound": 400, "LicenseUsageException": 400} {
		if got := awsproto.EC2Status(code); got != want {
			t.Errorf("EC2Status(%s) = %d, want %d", code, got, want)
		}
	}

	cases := []struct {
		name string
		form url.Values
		code string
		msg  string
	}{
		{"Unknown", url.Values{"ImageId": {"ami-1"}, "Bogus": {"1"}}, "UnknownParameter", "Bogus"},
		{"MemberList", url.Values{"LicenseSpecification.member.1.LicenseConfigurationArn": {"a"}}, "InvalidParameterValue", "invalid index 'member'"},
		{"Gap", url.Values{"SecurityGroupId.2": {"sg-1"}}, "InvalidParameterValue", "SecurityGroupId.1' is missing"},
		{"NotNumber", url.Values{"MinCount": {"one"}}, "InvalidParameterValue", "MinCount"},
		{"NotBool", url.Values{"DryRun": {"yes"}}, "InvalidParameterValue", "DryRun"},
	}
	for _, c := range cases {
		var in ec2.RunInstancesInput
		err := awsproto.DecodeEC2(c.form, &in)
		var e *awserr.Error
		if !errors.As(err, &e) || e.Code != c.code || !strings.Contains(e.Message, c.msg) {
			t.Errorf("%s: DecodeEC2 = %v, want %s containing %q", c.name, err, c.code, c.msg)
		}
	}
	var in ec2.RunInstancesInput
	if err := awsproto.DecodeEC2(url.Values{"SecurityGroupId.1": {"sg-1"}, "SecurityGroupId.2": {"sg-2"}}, &in); err != nil || len(in.SecurityGroupIDs) != 2 {
		t.Errorf("DecodeEC2(flat list) = %v, %v", in.SecurityGroupIDs, err)
	}
}
