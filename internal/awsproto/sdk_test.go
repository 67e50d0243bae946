package awsproto_test

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awsproto"
	"github.com/allot-dev/allot/internal/awstime"
	"github.com/allot-dev/allot/internal/pagetoken"
)

const requestID = "6f0c1f0e-3a49-4d7c-9a1d-2b7d3f5d7a10"

// capture is what the test server received.
type capture struct {
	mu     sync.Mutex
	header http.Header
	body   []byte
	n      int
}

func (c *capture) get() (http.Header, []byte, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.header, c.body, c.n
}

// mustServe starts a server that records each request and answers with respond, and returns
// an AWS config pointing at it that never retries.
func mustServe(tb testing.TB, respond func(w http.ResponseWriter)) (aws.Config, *capture) {
	tb.Helper()
	c := &capture{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.header, c.body = r.Header.Clone(), body
		c.n++
		c.mu.Unlock()
		respond(w)
	}))
	tb.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIAEXAMPLETEST00001", "secret", ""),
		RetryMaxAttempts: 1,
		BaseEndpoint:     aws.String(srv.URL),
	}
	return cfg, c
}

// mustParseForm parses a captured Query body.
func mustParseForm(tb testing.TB, body []byte) url.Values {
	tb.Helper()
	form, err := url.ParseQuery(string(body))
	if err != nil {
		tb.Fatalf("parse form %q: %v", body, err)
	}
	return form
}

func TestSDK_STSGetCallerIdentity(t *testing.T) {
	type result struct {
		UserId  string
		Account string
		Arn     string
	}
	cfg, c := mustServe(t, func(w http.ResponseWriter) {
		awsproto.WriteQuery(w, requestID, awsproto.STSNamespace, "GetCallerIdentity", &result{
			UserId: "AIDAEXAMPLEUSER00001", Account: "210987654321", Arn: "arn:aws:iam::210987654321:user/ci",
		})
	})
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(out.UserId), "AIDAEXAMPLEUSER00001"; got != want {
		t.Errorf("UserId = %q, want %q", got, want)
	}
	if got, want := aws.ToString(out.Account), "210987654321"; got != want {
		t.Errorf("Account = %q, want %q", got, want)
	}
	if got, want := aws.ToString(out.Arn), "arn:aws:iam::210987654321:user/ci"; got != want {
		t.Errorf("Arn = %q, want %q", got, want)
	}
	if got, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); got != requestID {
		t.Errorf("request ID = %q, want %q", got, requestID)
	}
	_, body, _ := c.get()
	form := mustParseForm(t, body)
	var in struct{}
	if err := awsproto.DecodeQuery(form, &in); err != nil {
		t.Errorf("DecodeQuery(%q) = %v, want nil", body, err)
	}
}

// iamTag, iamRole and friends mirror IAM's XML output shapes.
type iamTag struct {
	Key   string
	Value string
}

type iamBoundary struct {
	PermissionsBoundaryType string
	PermissionsBoundaryArn  string
}

type iamRoleLastUsed struct {
	LastUsedDate *time.Time
	Region       string `xml:",omitempty"`
}

type iamRole struct {
	Path                     string
	RoleName                 string
	RoleId                   string
	Arn                      string
	CreateDate               time.Time
	AssumeRolePolicyDocument string `xml:",omitempty"`
	Description              string `xml:",omitempty"`
	MaxSessionDuration       int32
	PermissionsBoundary      *iamBoundary
	Tags                     []iamTag
	RoleLastUsed             *iamRoleLastUsed
}

const trustPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"Allow CI","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"a+b&c<d>"}}}]}`

func TestSDK_IAMGetRole(t *testing.T) {
	created := time.Date(2025, 2, 1, 8, 0, 0, 250_000_000, time.UTC)
	used := time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)
	cfg, _ := mustServe(t, func(w http.ResponseWriter) {
		awsproto.WriteQuery(w, requestID, awsproto.IAMNamespace, "GetRole", &struct{ Role iamRole }{iamRole{
			Path: "/", RoleName: "LicenseConsumer", RoleId: "AROAEXAMPLEROLEID123",
			Arn:                      "arn:aws:iam::210987654321:role/LicenseConsumer",
			CreateDate:               created,
			AssumeRolePolicyDocument: awsproto.URLEncodePolicy(trustPolicy),
			Description:              "Consumes <licenses> & \"more\"\nline two",
			MaxSessionDuration:       3600,
			PermissionsBoundary:      &iamBoundary{"Policy", "arn:aws:iam::aws:policy/PowerUserAccess"},
			Tags:                     []iamTag{{"team", "db"}, {"cost-center", ""}},
			RoleLastUsed:             &iamRoleLastUsed{LastUsedDate: &used, Region: "eu-west-1"},
		}})
	})
	out, err := iam.NewFromConfig(cfg).GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("LicenseConsumer")})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Role
	if r == nil {
		t.Fatal("Role = nil")
	}
	for _, c := range []struct{ name, got, want string }{
		{"Path", aws.ToString(r.Path), "/"},
		{"RoleName", aws.ToString(r.RoleName), "LicenseConsumer"},
		{"RoleId", aws.ToString(r.RoleId), "AROAEXAMPLEROLEID123"},
		{"Arn", aws.ToString(r.Arn), "arn:aws:iam::210987654321:role/LicenseConsumer"},
		{"Description", aws.ToString(r.Description), "Consumes <licenses> & \"more\"\nline two"},
		{"PermissionsBoundaryArn", aws.ToString(r.PermissionsBoundary.PermissionsBoundaryArn), "arn:aws:iam::aws:policy/PowerUserAccess"},
		{"PermissionsBoundaryType", string(r.PermissionsBoundary.PermissionsBoundaryType), "Policy"},
		{"RoleLastUsed.Region", aws.ToString(r.RoleLastUsed.Region), "eu-west-1"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	// The Go SDK hands back the encoded document; both unescapers restore it exactly.
	doc := aws.ToString(r.AssumeRolePolicyDocument)
	for name, unescape := range map[string]func(string) (string, error){"QueryUnescape": url.QueryUnescape, "PathUnescape": url.PathUnescape} {
		got, err := unescape(doc)
		if err != nil || got != trustPolicy {
			t.Errorf("%s(AssumeRolePolicyDocument) = %q, %v; want %q", name, got, err, trustPolicy)
		}
	}
	if got := aws.ToTime(r.CreateDate); !got.Equal(created) {
		t.Errorf("CreateDate = %v, want %v", got, created)
	}
	if got := aws.ToTime(r.RoleLastUsed.LastUsedDate); !got.Equal(used) {
		t.Errorf("LastUsedDate = %v, want %v", got, used)
	}
	if got, want := aws.ToInt32(r.MaxSessionDuration), int32(3600); got != want {
		t.Errorf("MaxSessionDuration = %d, want %d", got, want)
	}
	wantTags := []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("db")}, {Key: aws.String("cost-center"), Value: aws.String("")}}
	if len(r.Tags) != len(wantTags) {
		t.Fatalf("Tags = %d items, want %d", len(r.Tags), len(wantTags))
	}
	for i := range wantTags {
		if got, want := aws.ToString(r.Tags[i].Key)+"="+aws.ToString(r.Tags[i].Value), aws.ToString(wantTags[i].Key)+"="+aws.ToString(wantTags[i].Value); got != want {
			t.Errorf("Tags[%d] = %q, want %q", i, got, want)
		}
	}
}

func TestSDK_IAMListRoles(t *testing.T) {
	type listRolesResult struct {
		Roles       []iamRole
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}
	created := time.Date(2025, 2, 1, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		result     listRolesResult
		wantRoles  []string
		wantMarker string
	}{
		{
			name: "TwoRolesTruncated",
			result: listRolesResult{
				Roles: []iamRole{
					{Path: "/", RoleName: "A", RoleId: "AROAA", Arn: "arn:aws:iam::210987654321:role/A", CreateDate: created, Tags: []iamTag{}},
					{Path: "/svc/", RoleName: "B", RoleId: "AROAB", Arn: "arn:aws:iam::210987654321:role/svc/B", CreateDate: created},
				},
				IsTruncated: true,
				Marker:      pagetoken.Encode("B"),
			},
			wantRoles:  []string{"A", "B"},
			wantMarker: pagetoken.Encode("B"),
		},
		{
			name:      "Empty",
			result:    listRolesResult{Roles: []iamRole{}},
			wantRoles: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _ := mustServe(t, func(w http.ResponseWriter) {
				awsproto.WriteQuery(w, requestID, awsproto.IAMNamespace, "ListRoles", &tt.result)
			})
			out, err := iam.NewFromConfig(cfg).ListRoles(context.Background(), &iam.ListRolesInput{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range out.Roles {
				got = append(got, aws.ToString(r.RoleName))
			}
			if len(got) != len(tt.wantRoles) {
				t.Fatalf("roles = %q, want %q", got, tt.wantRoles)
			}
			for i := range got {
				if got[i] != tt.wantRoles[i] {
					t.Errorf("roles = %q, want %q", got, tt.wantRoles)
				}
			}
			if got, want := out.IsTruncated, tt.result.IsTruncated; got != want {
				t.Errorf("IsTruncated = %v, want %v", got, want)
			}
			if got := aws.ToString(out.Marker); got != tt.wantMarker {
				t.Errorf("Marker = %q, want %q", got, tt.wantMarker)
			}
		})
	}
}

func TestSDK_IAMNoOutput(t *testing.T) {
	cfg, _ := mustServe(t, func(w http.ResponseWriter) {
		awsproto.WriteQuery(w, requestID, awsproto.IAMNamespace, "DeleteRole", nil)
	})
	out, err := iam.NewFromConfig(cfg).DeleteRole(context.Background(), &iam.DeleteRoleInput{RoleName: aws.String("R")})
	if err != nil {
		t.Fatalf("DeleteRole: %v", err)
	}
	if got, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); got != requestID {
		t.Errorf("request ID = %q, want %q", got, requestID)
	}
}

// lmTag and lmConfiguration mirror License Manager's JSON output shapes.
type lmTag struct {
	Key   *string `json:",omitempty"`
	Value *string `json:",omitempty"`
}

type lmDiscovery struct {
	LastRunTime *awstime.Epoch `json:",omitempty"`
}

type lmConfiguration struct {
	LicenseConfigurationArn       string
	LicenseConfigurationId        string
	Name                          string
	LicenseCountingType           string
	LicenseCount                  int64
	LicenseCountHardLimit         bool
	LicenseRules                  []string
	ConsumedLicenses              int64
	Status                        string
	OwnerAccountId                string
	AutomatedDiscoveryInformation *lmDiscovery `json:",omitempty"`
	Tags                          []lmTag
}

func TestSDK_LicenseManagerGetLicenseConfiguration(t *testing.T) {
	lastRun := time.Unix(1740823200, 250_000_000).UTC()
	const arn = "arn:aws:license-manager:us-west-2:210987654321:license-configuration:lic-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	cfg, c := mustServe(t, func(w http.ResponseWriter) {
		awsproto.WriteJSON(w, requestID, &lmConfiguration{
			LicenseConfigurationArn: arn, LicenseConfigurationId: "lic-0f1e2d3c4b5a69788796a5b4c3d2e1f0",
			Name: "sql-ent-cores", LicenseCountingType: "Core", LicenseCount: 1 << 60, LicenseCountHardLimit: true,
			LicenseRules:                  []string{"#licenseAffinityToHost=90", "#allowedTenancy=EC2-DedicatedHost"},
			ConsumedLicenses:              16,
			Status:                        "AVAILABLE",
			OwnerAccountId:                "210987654321",
			AutomatedDiscoveryInformation: &lmDiscovery{LastRunTime: &awstime.Epoch{Time: lastRun}},
			Tags:                          []lmTag{{Key: aws.String("cost-center"), Value: aws.String("db <&>")}},
		})
	})
	out, err := licensemanager.NewFromConfig(cfg).GetLicenseConfiguration(context.Background(),
		&licensemanager.GetLicenseConfigurationInput{LicenseConfigurationArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.LicenseConfigurationArn); got != arn {
		t.Errorf("LicenseConfigurationArn = %q, want %q", got, arn)
	}
	if got, want := out.LicenseCountingType, lmtypes.LicenseCountingTypeCore; got != want {
		t.Errorf("LicenseCountingType = %q, want %q", got, want)
	}
	if got, want := aws.ToInt64(out.LicenseCount), int64(1<<60); got != want {
		t.Errorf("LicenseCount = %d, want %d", got, want)
	}
	if got := aws.ToBool(out.LicenseCountHardLimit); !got {
		t.Errorf("LicenseCountHardLimit = %v, want true", got)
	}
	if got, want := len(out.LicenseRules), 2; got != want || out.LicenseRules[1] != "#allowedTenancy=EC2-DedicatedHost" {
		t.Errorf("LicenseRules = %q, want 2 rules ending in #allowedTenancy=EC2-DedicatedHost", out.LicenseRules)
	}
	if out.AutomatedDiscoveryInformation == nil {
		t.Fatal("AutomatedDiscoveryInformation = nil")
	}
	got := aws.ToTime(out.AutomatedDiscoveryInformation.LastRunTime)
	if d := got.Sub(lastRun); math.Abs(float64(d)) > float64(time.Millisecond) {
		t.Errorf("LastRunTime = %v, want %v", got, lastRun)
	}
	if len(out.Tags) != 1 || aws.ToString(out.Tags[0].Value) != "db <&>" {
		t.Errorf("Tags = %+v, want one tag cost-center=db <&>", out.Tags)
	}
	if got, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); got != requestID {
		t.Errorf("request ID = %q, want %q", got, requestID)
	}
	// What the client sent decodes strictly.
	_, body, _ := c.get()
	var in struct{ LicenseConfigurationArn *string }
	if err := awsproto.DecodeJSON(body, &in); err != nil || aws.ToString(in.LicenseConfigurationArn) != arn {
		t.Errorf("DecodeJSON(%s) = %v, arn %q; want nil, %q", body, err, aws.ToString(in.LicenseConfigurationArn), arn)
	}
}

func TestSDK_CloudTrailLookupEvents(t *testing.T) {
	type resource struct{ ResourceType, ResourceName string }
	type event struct {
		EventId         string
		EventName       string
		ReadOnly        string
		EventTime       awstime.Epoch
		EventSource     string
		Username        string
		Resources       []resource
		CloudTrailEvent string
	}
	eventTime := time.Date(2025, 3, 1, 10, 15, 0, 0, time.UTC)
	cfg, _ := mustServe(t, func(w http.ResponseWriter) {
		awsproto.WriteJSON(w, requestID, &struct {
			Events    []event
			NextToken string
		}{
			Events: []event{{
				EventId: "e-1", EventName: "CheckoutLicense", ReadOnly: "false", EventTime: awstime.Epoch{Time: eventTime},
				EventSource: "license-manager.amazonaws.com", Username: "ci",
				Resources:       []resource{{"AWS::LicenseManager::License", "arn:aws:license-manager::210987654321:license:l-1"}},
				CloudTrailEvent: `{"eventVersion":"1.08"}`,
			}},
			NextToken: pagetoken.Encode(map[string]int{"after": 1}),
		})
	})
	out, err := cloudtrail.NewFromConfig(cfg).LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 1 {
		t.Fatalf("Events = %d, want 1", len(out.Events))
	}
	e := out.Events[0]
	if got := aws.ToTime(e.EventTime); !got.Equal(eventTime) {
		t.Errorf("EventTime = %v, want %v", got, eventTime)
	}
	if got, want := aws.ToString(e.EventName), "CheckoutLicense"; got != want {
		t.Errorf("EventName = %q, want %q", got, want)
	}
	if got, want := aws.ToString(e.CloudTrailEvent), `{"eventVersion":"1.08"}`; got != want {
		t.Errorf("CloudTrailEvent = %q, want %q", got, want)
	}
	if len(e.Resources) != 1 || aws.ToString(e.Resources[0].ResourceType) != "AWS::LicenseManager::License" {
		t.Errorf("Resources = %+v, want one AWS::LicenseManager::License", e.Resources)
	}
	var pos map[string]int
	if err := pagetoken.Decode(aws.ToString(out.NextToken), &pos); err != nil || pos["after"] != 1 {
		t.Errorf("pagetoken.Decode(NextToken) = %v, %v; want after=1", pos, err)
	}
}

func TestSDK_JSONErrors(t *testing.T) {
	t.Run("AccessDeniedException", func(t *testing.T) {
		cfg, c := mustServe(t, func(w http.ResponseWriter) {
			awsproto.WriteJSONError(w, requestID, awserr.New("AccessDeniedException", "User: %s is not authorized", "arn:aws:iam::1:user/x"))
		})
		_, err := licensemanager.NewFromConfig(cfg).ListLicenseConfigurations(context.Background(), &licensemanager.ListLicenseConfigurationsInput{})
		var ade *lmtypes.AccessDeniedException
		if !errors.As(err, &ade) {
			t.Fatalf("err = %T %v, want *types.AccessDeniedException", err, err)
		}
		if got, want := ade.ErrorMessage(), "User: arn:aws:iam::1:user/x is not authorized"; got != want {
			t.Errorf("message = %q, want %q", got, want)
		}
		if _, _, n := c.get(); n != 1 {
			t.Errorf("requests = %d, want 1", n)
		}
	})
	t.Run("RedirectExceptionLocation", func(t *testing.T) {
		cfg, _ := mustServe(t, func(w http.ResponseWriter) {
			awsproto.WriteJSONError(w, requestID, &awserr.Error{Code: "RedirectException", Message: "home Region is eu-west-1",
				Fields: map[string]string{"Location": "https://license-manager.eu-west-1.amazonaws.com", "message": "ignored"}})
		})
		_, err := licensemanager.NewFromConfig(cfg).CheckoutLicense(context.Background(), checkoutInput())
		var re *lmtypes.RedirectException
		if !errors.As(err, &re) {
			t.Fatalf("err = %T %v, want *types.RedirectException", err, err)
		}
		if got, want := aws.ToString(re.Location), "https://license-manager.eu-west-1.amazonaws.com"; got != want {
			t.Errorf("Location = %q, want %q", got, want)
		}
		if got, want := re.ErrorMessage(), "home Region is eu-west-1"; got != want {
			t.Errorf("message = %q, want %q", got, want)
		}
	})
	t.Run("FailedDependencyErrorCode", func(t *testing.T) {
		cfg, _ := mustServe(t, func(w http.ResponseWriter) {
			awsproto.WriteJSONError(w, requestID, &awserr.Error{Code: "FailedDependencyException", Message: "ssm failed",
				Fields: map[string]string{"ErrorCode": "SSM_ERR"}})
		})
		_, err := licensemanager.NewFromConfig(cfg).ListResourceInventory(context.Background(), &licensemanager.ListResourceInventoryInput{})
		var fe *lmtypes.FailedDependencyException
		if !errors.As(err, &fe) || aws.ToString(fe.ErrorCode_) != "SSM_ERR" {
			t.Fatalf("err = %T %v, want *types.FailedDependencyException with ErrorCode SSM_ERR", err, err)
		}
	})
	t.Run("ServerInternalException", func(t *testing.T) {
		cfg, _ := mustServe(t, func(w http.ResponseWriter) {
			awsproto.WriteJSONError(w, requestID, awserr.New("ServerInternalException", "boom"))
		})
		_, err := licensemanager.NewFromConfig(cfg).ListLicenseConfigurations(context.Background(), &licensemanager.ListLicenseConfigurationsInput{})
		var se *lmtypes.ServerInternalException
		if !errors.As(err, &se) || se.ErrorFault() != smithy.FaultServer {
			t.Fatalf("err = %T %v, want *types.ServerInternalException with server fault", err, err)
		}
	})
	t.Run("OrganizationsTyped", func(t *testing.T) {
		cfg, _ := mustServe(t, func(w http.ResponseWriter) {
			awsproto.WriteJSONError(w, requestID, awserr.New("AWSOrganizationsNotInUseException", "no org"))
		})
		_, err := organizations.NewFromConfig(cfg).DescribeOrganization(context.Background(), &organizations.DescribeOrganizationInput{})
		var ne *orgtypes.AWSOrganizationsNotInUseException
		if !errors.As(err, &ne) || ne.ErrorMessage() != "no org" {
			t.Fatalf("err = %T %v, want *types.AWSOrganizationsNotInUseException \"no org\"", err, err)
		}
	})
	t.Run("EncodeFailure", func(t *testing.T) {
		cfg, _ := mustServe(t, func(w http.ResponseWriter) {
			awsproto.WriteJSON(w, requestID, map[string]any{"bad": math.NaN()})
		})
		_, err := licensemanager.NewFromConfig(cfg).ListLicenseConfigurations(context.Background(), &licensemanager.ListLicenseConfigurationsInput{})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InternalFailure" {
			t.Fatalf("err = %T %v, want API error InternalFailure", err, err)
		}
	})
}

func TestSDK_QueryErrors(t *testing.T) {
	t.Run("NoSuchEntity", func(t *testing.T) {
		cfg, _ := mustServe(t, func(w http.ResponseWriter) {
			awsproto.WriteQueryError(w, requestID, awsproto.IAMNamespace, awserr.New("NoSuchEntity", "The role with name R cannot be found."))
		})
		_, err := iam.NewFromConfig(cfg).GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("R")})
		var ne *iamtypes.NoSuchEntityException
		if !errors.As(err, &ne) {
			t.Fatalf("err = %T %v, want *types.NoSuchEntityException", err, err)
		}
		if got, want := ne.ErrorMessage(), "The role with name R cannot be found."; got != want {
			t.Errorf("message = %q, want %q", got, want)
		}
	})
	t.Run("SignatureDoesNotMatch", func(t *testing.T) {
		const msg = "The request signature we calculated does not match the signature you provided. <&>"
		cfg, _ := mustServe(t, func(w http.ResponseWriter) {
			awsproto.WriteQueryError(w, requestID, awsproto.STSNamespace, awserr.New("SignatureDoesNotMatch", msg))
		})
		_, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		var ae smithy.APIError
		if !errors.As(err, &ae) {
			t.Fatalf("err = %T %v, want smithy.APIError", err, err)
		}
		if got, want := ae.ErrorCode(), "SignatureDoesNotMatch"; got != want {
			t.Errorf("code = %q, want %q", got, want)
		}
		if got := ae.ErrorMessage(); got != msg {
			t.Errorf("message = %q, want %q", got, msg)
		}
		var re interface{ ServiceRequestID() string }
		if !errors.As(err, &re) || re.ServiceRequestID() != requestID {
			t.Errorf("request ID missing from %v, want %q", err, requestID)
		}
	})
	t.Run("EncodeFailure", func(t *testing.T) {
		cfg, _ := mustServe(t, func(w http.ResponseWriter) {
			awsproto.WriteQuery(w, requestID, awsproto.STSNamespace, "GetCallerIdentity", &struct{ C chan int }{C: make(chan int)})
		})
		_, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InternalFailure" {
			t.Fatalf("err = %T %v, want API error InternalFailure", err, err)
		}
	})
}
