package iam_test

import (
	"bytes"
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awsproto"
	"github.com/allot-dev/allot/internal/bootstrap"
	"github.com/allot-dev/allot/internal/iam"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

const simAccount = "112233445566"

var simRoot = identity.Root(simAccount, "")

// span is a MatchedStatement in short: source, type and positions.
type span struct {
	id, typ                  string
	line1, col1, line2, col2 int32
}

func spans(ms []iam.MatchedStatement) []span {
	out := []span{}
	for _, m := range ms {
		out = append(out, span{m.SourcePolicyID, m.SourcePolicyType, m.StartPosition.Line, m.StartPosition.Column, m.EndPosition.Line, m.EndPosition.Column})
	}
	return out
}

func custom(t *testing.T, in *iam.SimulateCustomPolicyInput) *iam.SimulatePolicyOutput {
	t.Helper()
	out, err := (&iam.Service{}).SimulateCustomPolicy(context.Background(), simRoot, in)
	if err != nil {
		t.Fatalf("SimulateCustomPolicy: %v", err)
	}
	return out
}

// TestSimulateCustomPolicy_CLIExample replays the AWS CLI's simulate-custom-policy examples
// (awscli/examples/iam/simulate-custom-policy.rst), positions included: a lone statement
// object starts just after its { and ends just after its }.
func TestSimulateCustomPolicy_CLIExample(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}`
	for _, tt := range []struct {
		when, decision string
		matched        []span
	}{
		{"2019-04-25T11:00:00Z", iam.DecisionAllowed, []span{{"PolicyInputList.1", iam.SourceIAMPolicy, 1, 38, 1, 167}}},
		{"2014-04-25T11:00:00Z", iam.DecisionImplicitDeny, []span{}},
	} {
		out := custom(t, &iam.SimulateCustomPolicyInput{
			PolicyInputList: []string{doc}, ActionNames: []string{"dynamodb:CreateBackup"},
			ContextEntries: []iam.ContextEntry{{ContextKeyName: "aws:CurrentTime", ContextKeyValues: []string{tt.when}, ContextKeyType: "date"}},
		})
		if len(out.EvaluationResults) != 1 || out.IsTruncated {
			t.Fatalf("%s: %+v", tt.when, out)
		}
		r := out.EvaluationResults[0]
		if r.EvalActionName != "dynamodb:CreateBackup" || r.EvalResourceName != "*" || r.EvalDecision != tt.decision ||
			!reflect.DeepEqual(spans(r.MatchedStatements), tt.matched) || r.MissingContextValues == nil || len(r.MissingContextValues) != 0 {
			t.Errorf("%s: %+v, matched %v; want %s, matched %v", tt.when, r, spans(r.MatchedStatements), tt.decision, tt.matched)
		}
		// Without a resource ARN: no per-resource results and, within one account, no details.
		if r.ResourceSpecificResults != nil || r.EvalDecisionDetails != nil || r.PermissionsBoundaryDecisionDetail != nil || r.OrganizationsDecisionDetail != nil {
			t.Errorf("%s: unexpected details %+v", tt.when, r)
		}
	}
}

// TestSimulateCustomPolicy_BucketPolicy replays a published SimulateCustomPolicy session
// against AWS: a role's policy (as Python's json.dumps writes it) and a bucket policy (as S3
// stores it), simulated for a user of the account. The positions are AWS's: a statement of an
// array starts just after the [ or after the } of the statement before it.
func TestSimulateCustomPolicy_BucketPolicy(t *testing.T) {
	rolePolicy := `{"Version": "2012-10-17", "Statement": [{"Sid": "s3", "Effect": "Allow", "Action": ["s3:GetObject", "s3:DeleteObject"], "Resource": ["arn:aws:s3:::tims-fancy-bucket/only-here/*"]}]}`
	bucketPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"*","Resource":["arn:aws:s3:::tims-fancy-bucket/*","arn:aws:s3:::tims-fancy-bucket"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}},` +
		`{"Sid":"DenyTimDelete","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::tims-fancy-bucket/*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::112233445566:role/tims-test-role"}}}]}`
	object := "arn:aws:s3:::tims-fancy-bucket/only-here/some-obj"
	in := func(secure string) *iam.SimulateCustomPolicyInput {
		return &iam.SimulateCustomPolicyInput{
			PolicyInputList: []string{rolePolicy}, ResourcePolicy: bucketPolicy, CallerARN: "arn:aws:iam::112233445566:user/dummy",
			ActionNames: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, ResourceARNs: []string{object},
			ContextEntries: []iam.ContextEntry{
				{ContextKeyName: "aws:principalarn", ContextKeyValues: []string{"arn:aws:iam::112233445566:role/tims-test-role"}, ContextKeyType: "string"},
				{ContextKeyName: "aws:SecureTransport", ContextKeyValues: []string{secure}, ContextKeyType: "boolean"},
			},
		}
	}
	identityAllow := span{"PolicyInputList.1", iam.SourceIAMPolicy, 1, 41, 1, 180}
	out := custom(t, in("true"))
	want := []struct {
		decision string
		matched  []span
	}{
		{iam.DecisionAllowed, []span{identityAllow}},
		{iam.DecisionImplicitDeny, []span{}},
		{iam.DecisionExplicitDeny, []span{{"ResourcePolicy", iam.SourceResourcePolicy, 1, 248, 1, 470}, identityAllow}},
	}
	for i, r := range out.EvaluationResults {
		if r.EvalResourceName != object || r.EvalDecision != want[i].decision || !reflect.DeepEqual(spans(r.MatchedStatements), want[i].matched) {
			t.Errorf("%s: %s %s %v; want %s %v", r.EvalActionName, r.EvalResourceName, r.EvalDecision, spans(r.MatchedStatements), want[i].decision, want[i].matched)
		}
		// One resource: its own result too, and an empty EvalDecisionDetails within one account.
		if len(r.ResourceSpecificResults) != 1 || r.ResourceSpecificResults[0].EvalResourceName != object ||
			r.ResourceSpecificResults[0].EvalResourceDecision != r.EvalDecision || r.ResourceSpecificResults[0].EvalDecisionDetails != nil ||
			r.EvalDecisionDetails == nil || len(r.EvalDecisionDetails) != 0 {
			t.Errorf("%s: resource-specific results %+v, details %v", r.EvalActionName, r.ResourceSpecificResults, r.EvalDecisionDetails)
		}
	}
	// Over plain HTTP the bucket policy's first statement denies GetObject.
	r := custom(t, in("FALSE")).EvaluationResults[0]
	if want := []span{{"ResourcePolicy", iam.SourceResourcePolicy, 1, 38, 1, 248}, identityAllow}; r.EvalDecision != iam.DecisionExplicitDeny || !reflect.DeepEqual(spans(r.MatchedStatements), want) {
		t.Errorf("GetObject over HTTP: %s %v, want explicitDeny %v", r.EvalDecision, spans(r.MatchedStatements), want)
	}
}

// TestSimulateCustomPolicy_MultiLinePositions checks positions in indented documents against
// AWS's published results: AdministratorAccess (two-space indent) at 3:17–8:6, and the CLI's
// simulate-principal-policy example (four-space indent) at 3:19–9:10.
func TestSimulateCustomPolicy_MultiLinePositions(t *testing.T) {
	admin := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}"
	codecommit := `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "GrantListRepositories",
            "Effect": "Allow",
            "Action": "codecommit:ListRepositories",
            "Resource": "*"
        },
        {
            "Effect": "Deny",
            "Action": "codecommit:DeleteRepository",
            "Resource": "*"
        }
    ]
}`
	out := custom(t, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{admin, codecommit}, ActionNames: []string{"codecommit:ListRepositories", "codecommit:DeleteRepository"}})
	if got, want := spans(out.EvaluationResults[0].MatchedStatements), []span{{"PolicyInputList.1", iam.SourceIAMPolicy, 3, 17, 8, 6}, {"PolicyInputList.2", iam.SourceIAMPolicy, 3, 19, 9, 10}}; !reflect.DeepEqual(got, want) {
		t.Errorf("ListRepositories matched %v, want %v", got, want)
	}
	// The second statement starts where the first ended; only the Deny decides a denial.
	if got, want := spans(out.EvaluationResults[1].MatchedStatements), []span{{"PolicyInputList.1", iam.SourceIAMPolicy, 3, 17, 8, 6}, {"PolicyInputList.2", iam.SourceIAMPolicy, 9, 10, 14, 10}}; out.EvaluationResults[1].EvalDecision != iam.DecisionExplicitDeny || !reflect.DeepEqual(got, want) {
		t.Errorf("DeleteRepository: %s matched %v, want explicitDeny %v", out.EvaluationResults[1].EvalDecision, got, want)
	}
}

// TestSimulateCustomPolicy_Resources checks how results are shaped: several resources give one
// result per action with the decision of each resource, the most restrictive decision at the
// top and the statements that made it.
func TestSimulateCustomPolicy_Resources(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a/*"},{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"s3:ExistingObjectTag/team":"blue"}}}]}`
	out := custom(t, &iam.SimulateCustomPolicyInput{
		PolicyInputList: []string{doc}, ActionNames: []string{"s3:GetObject", "s3:PutObject"},
		ResourceARNs: []string{"arn:aws:s3:::a/k", "arn:aws:s3:::b/k"},
	})
	if len(out.EvaluationResults) != 2 {
		t.Fatalf("%d results, want one per action", len(out.EvaluationResults))
	}
	get := out.EvaluationResults[0]
	if get.EvalResourceName != "*" || get.EvalDecision != iam.DecisionImplicitDeny || len(get.MatchedStatements) != 0 ||
		!reflect.DeepEqual(get.MissingContextValues, []string{"s3:ExistingObjectTag/team"}) || get.EvalDecisionDetails == nil || len(get.EvalDecisionDetails) != 0 {
		t.Errorf("GetObject: %+v", get)
	}
	rs := get.ResourceSpecificResults
	if len(rs) != 2 || rs[0].EvalResourceName != "arn:aws:s3:::a/k" || rs[0].EvalResourceDecision != iam.DecisionAllowed ||
		!reflect.DeepEqual(spans(rs[0].MatchedStatements), []span{{"PolicyInputList.1", iam.SourceIAMPolicy, 1, 38, 1, 110}}) || len(rs[0].MissingContextValues) != 0 ||
		rs[1].EvalResourceDecision != iam.DecisionImplicitDeny || !reflect.DeepEqual(rs[1].MissingContextValues, []string{"s3:ExistingObjectTag/team"}) {
		t.Errorf("GetObject per resource: %+v", rs)
	}
	if put := out.EvaluationResults[1]; put.EvalDecision != iam.DecisionImplicitDeny || len(put.ResourceSpecificResults) != 2 {
		t.Errorf("PutObject: %+v", put)
	}
}

// TestSimulateCustomPolicy_CrossAccount simulates seed 002's bucket policy for the role of
// another account: both sides must allow, and EvalDecisionDetails says what each side says.
func TestSimulateCustomPolicy_CrossAccount(t *testing.T) {
	bucket := `{"Version":"2012-10-17","Statement":[{"Sid":"SourceBucketRead","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111111111111:role/DM-Role"]},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::dm-bucket","arn:aws:s3:::dm-bucket/*"]}]}`
	identityPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"SourceBucketRead","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::*"}]}`
	none := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*"}]}`
	for _, tt := range []struct {
		name     string
		identity string
		decision string
		details  map[string]string
	}{
		{"BothSides", identityPolicy, iam.DecisionAllowed, map[string]string{"IAM Policy": iam.DecisionAllowed, "Resource Policy": iam.DecisionAllowed}},
		{"NoIdentityPolicy", none, iam.DecisionImplicitDeny, map[string]string{"IAM Policy": iam.DecisionImplicitDeny, "Resource Policy": iam.DecisionAllowed}},
	} {
		out := custom(t, &iam.SimulateCustomPolicyInput{
			PolicyInputList: []string{tt.identity}, ResourcePolicy: bucket, ResourceOwner: "arn:aws:iam::222222222222:root",
			CallerARN: "arn:aws:iam::111111111111:role/DM-Role", ActionNames: []string{"s3:GetObject"}, ResourceARNs: []string{"arn:aws:s3:::dm-bucket/data.csv"},
		})
		r := out.EvaluationResults[0]
		if r.EvalDecision != tt.decision || !reflect.DeepEqual(r.EvalDecisionDetails, tt.details) || !reflect.DeepEqual(r.ResourceSpecificResults[0].EvalDecisionDetails, tt.details) {
			t.Errorf("%s: %s %v, resource %+v; want %s %v", tt.name, r.EvalDecision, r.EvalDecisionDetails, r.ResourceSpecificResults[0], tt.decision, tt.details)
		}
	}
}

// TestSimulateCustomPolicy_Context checks typed context entries: values are checked against
// their type, and a condition on a key not given is reported missing.
func TestSimulateCustomPolicy_Context(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"license-manager:CheckoutLicense","Resource":"*","Condition":{
"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"NumericLessThan":{"license-manager:Units":"10"},"DateLessThan":{"aws:TokenIssueTime":"2030-01-01T00:00:00Z"},"Bool":{"aws:SecureTransport":"true"}}}]}`
	ctx := func(ip, units string) []iam.ContextEntry {
		return []iam.ContextEntry{
			{ContextKeyName: "aws:SourceIp", ContextKeyValues: []string{ip}, ContextKeyType: "ip"},
			{ContextKeyName: "license-manager:Units", ContextKeyValues: []string{units}, ContextKeyType: "numeric"},
			{ContextKeyName: "aws:TokenIssueTime", ContextKeyValues: []string{"1700000000"}, ContextKeyType: "date"},
		}
	}
	for _, tt := range []struct {
		ip, units, decision string
	}{
		{"10.1.2.3", "5", iam.DecisionImplicitDeny}, // aws:SecureTransport is missing
		{"192.0.2.1", "5", iam.DecisionImplicitDeny},
		{"10.1.2.3", "12.5", iam.DecisionImplicitDeny},
	} {
		r := custom(t, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{doc}, ActionNames: []string{"license-manager:CheckoutLicense"}, ContextEntries: ctx(tt.ip, tt.units)}).EvaluationResults[0]
		if r.EvalDecision != tt.decision || !reflect.DeepEqual(r.MissingContextValues, []string{"aws:SecureTransport"}) {
			t.Errorf("%s %s: %s missing %v", tt.ip, tt.units, r.EvalDecision, r.MissingContextValues)
		}
	}
	entries := append(ctx("10.1.2.3", "5"), iam.ContextEntry{ContextKeyName: "aws:SecureTransport", ContextKeyValues: []string{"True"}, ContextKeyType: "boolean"})
	r := custom(t, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{doc}, ActionNames: []string{"license-manager:CheckoutLicense"}, ContextEntries: entries}).EvaluationResults[0]
	if r.EvalDecision != iam.DecisionAllowed || len(r.MissingContextValues) != 0 {
		t.Errorf("with every key: %s missing %v", r.EvalDecision, r.MissingContextValues)
	}

	for _, tt := range []struct {
		entry iam.ContextEntry
		code  string
	}{
		{iam.ContextEntry{ContextKeyName: "aws:SourceIp", ContextKeyValues: []string{"10.0.0.0/8"}, ContextKeyType: "ip"}, iam.ErrInvalidInput},
		{iam.ContextEntry{ContextKeyName: "aws:SourceIp", ContextKeyValues: []string{"10.0.0.1", "10.0.0.2"}, ContextKeyType: "ip"}, iam.ErrInvalidInput},
		{iam.ContextEntry{ContextKeyName: "aws:SourceIp", ContextKeyValues: []string{"10.0.0.1", "10.0.0.2"}, ContextKeyType: "ipList"}, ""},
		{iam.ContextEntry{ContextKeyName: "s3:max-keys", ContextKeyValues: []string{"ten"}, ContextKeyType: "numeric"}, iam.ErrInvalidInput},
		{iam.ContextEntry{ContextKeyName: "s3:max-keys", ContextKeyValues: []string{"1e3"}, ContextKeyType: "numericList"}, iam.ErrInvalidInput},
		{iam.ContextEntry{ContextKeyName: "aws:MultiFactorAuthPresent", ContextKeyValues: []string{"yes"}, ContextKeyType: "boolean"}, iam.ErrInvalidInput},
		{iam.ContextEntry{ContextKeyName: "aws:CurrentTime", ContextKeyValues: []string{"yesterday"}, ContextKeyType: "date"}, iam.ErrInvalidInput},
		{iam.ContextEntry{ContextKeyName: "aws:CurrentTime", ContextKeyValues: []string{"2024-06-01"}, ContextKeyType: "dateList"}, ""},
		{iam.ContextEntry{ContextKeyName: "kms:Blob", ContextKeyValues: []string{"not base64!"}, ContextKeyType: "binary"}, iam.ErrInvalidInput},
		{iam.ContextEntry{ContextKeyName: "aws:username", ContextKeyValues: []string{"bob"}, ContextKeyType: "text"}, iam.ErrValidation},
		{iam.ContextEntry{ContextKeyName: "aws", ContextKeyValues: []string{"x"}, ContextKeyType: "string"}, iam.ErrValidation},
	} {
		_, err := (&iam.Service{}).SimulateCustomPolicy(context.Background(), simRoot, &iam.SimulateCustomPolicyInput{
			PolicyInputList: []string{doc}, ActionNames: []string{"s3:ListBucket"}, ContextEntries: []iam.ContextEntry{tt.entry},
		})
		if got := awserr.Code(err); tt.code == "" && err != nil || tt.code != "" && got != tt.code {
			t.Errorf("%+v: error %v, want %q", tt.entry, err, tt.code)
		}
	}
}

// TestSimulateCustomPolicy_CheckoutLicense: seed 000's troubleshooting row. CheckoutLicense has
// no resource type, so it is decided against "*" whatever resource is named, as real calls are.
func TestSimulateCustomPolicy_CheckoutLicense(t *testing.T) {
	license := "arn:aws:license-manager::" + simAccount + ":license:l-0123456789abcdef0123456789abcdef"
	scoped := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"license-manager:CheckoutLicense","Resource":"` + license + `"}]}`
	anywhere := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"license-manager:CheckoutLicense","Resource":"*"}]}`
	for _, tt := range []struct {
		doc       string
		resources []string
		want      string
	}{
		{scoped, nil, iam.DecisionImplicitDeny},
		{scoped, []string{license}, iam.DecisionImplicitDeny},
		{anywhere, nil, iam.DecisionAllowed},
		{anywhere, []string{license}, iam.DecisionAllowed},
	} {
		r := custom(t, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{tt.doc}, ActionNames: []string{"license-manager:CheckoutLicense"}, ResourceARNs: tt.resources}).EvaluationResults[0]
		if r.EvalDecision != tt.want {
			t.Errorf("%s on %v: %s, want %s", tt.doc, tt.resources, r.EvalDecision, tt.want)
		}
	}
}

func TestSimulateCustomPolicy_Errors(t *testing.T) {
	ok := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
	bucket := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`
	for _, tt := range []struct {
		name string
		in   iam.SimulateCustomPolicyInput
		code string
		msg  string
	}{
		{"NoPolicies", iam.SimulateCustomPolicyInput{ActionNames: []string{"s3:GetObject"}}, iam.ErrValidation, "policyInputList"},
		{"NoActions", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}}, iam.ErrValidation, "actionNames"},
		{"WildcardAction", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}, ActionNames: []string{"s3:*"}}, iam.ErrInvalidInput, "s3:*"},
		{"Malformed", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok, `{"Statement":{"Effect":"Allow","Action":"s3:*"}}`}, ActionNames: []string{"s3:GetObject"}}, iam.ErrMalformedPolicyDocument, "Missing required field Resource"},
		{"ResourcePolicyAsIdentity", iam.SimulateCustomPolicyInput{PolicyInputList: []string{bucket}, ActionNames: []string{"s3:GetObject"}}, iam.ErrMalformedPolicyDocument, "Principal"},
		{"MalformedResourcePolicy", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}, ResourcePolicy: ok, CallerARN: "arn:aws:iam::" + simAccount + ":user/bob", ActionNames: []string{"s3:GetObject"}}, iam.ErrMalformedPolicyDocument, "Principal"},
		{"ResourcePolicyWithoutCaller", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}, ResourcePolicy: bucket, ActionNames: []string{"s3:GetObject"}}, iam.ErrInvalidInput, "CallerArn"},
		{"SessionCaller", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}, CallerARN: "arn:aws:sts::" + simAccount + ":assumed-role/R/s", ActionNames: []string{"s3:GetObject"}}, iam.ErrInvalidInput, "CallerArn"},
		{"TwoBoundaries", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}, PermissionsBoundaryPolicyInputList: []string{ok, ok}, ActionNames: []string{"s3:GetObject"}}, iam.ErrInvalidInput, "one permissions boundary"},
		{"BadOwner", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}, ResourceOwner: "arn:aws:iam::1:root", ActionNames: []string{"s3:GetObject"}}, iam.ErrInvalidInput, "ResourceOwner"},
		{"BadResource", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}, ResourceARNs: []string{"bucket/key"}, ActionNames: []string{"s3:GetObject"}}, iam.ErrInvalidInput, "bucket/key"},
		{"BadMarker", iam.SimulateCustomPolicyInput{PolicyInputList: []string{ok}, ActionNames: []string{"s3:GetObject"}, Marker: "nonsense"}, iam.ErrInvalidInput, "Marker"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := (&iam.Service{}).SimulateCustomPolicy(context.Background(), simRoot, &tt.in)
			e, _ := awserr.As(err)
			if e == nil || e.Code != tt.code || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("error %v, want %s containing %q", err, tt.code, tt.msg)
			}
		})
	}
}

func TestSimulateCustomPolicy_Paging(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}`
	actions := []string{"s3:GetObject", "s3:PutObject", "s3:GetBucketAcl", "s3:DeleteObject", "s3:GetObjectTagging"}
	var got []string
	marker := ""
	for page := 0; ; page++ {
		if page > len(actions) {
			t.Fatal("paging does not end")
		}
		out := custom(t, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{doc}, ActionNames: actions, MaxItems: new(int32(2)), Marker: marker})
		if len(out.EvaluationResults) > 2 || out.IsTruncated != (out.Marker != "") {
			t.Fatalf("page %d: %+v", page, out)
		}
		for _, r := range out.EvaluationResults {
			got = append(got, r.EvalActionName+"="+r.EvalDecision)
		}
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	want := []string{"s3:GetObject=allowed", "s3:PutObject=implicitDeny", "s3:GetBucketAcl=allowed", "s3:DeleteObject=implicitDeny", "s3:GetObjectTagging=allowed"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pages gave %v, want %v", got, want)
	}
	// A marker of another operation is refused.
	out := custom(t, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{doc}, ActionNames: actions, MaxItems: new(int32(1))})
	_, err := (&iam.Service{}).SimulatePrincipalPolicy(context.Background(), simRoot, &iam.SimulatePrincipalPolicyInput{
		PolicySourceARN: "arn:aws:iam::" + simAccount + ":user/bob", ActionNames: actions, Marker: out.Marker,
	})
	if awserr.Code(err) != iam.ErrInvalidInput {
		t.Errorf("SimulatePrincipalPolicy with SimulateCustomPolicy's marker: %v", err)
	}
}

// openStore returns a service on a new SQLite database.
func openStore(t *testing.T) *iam.Service {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "allot.db"), store.Options{Box: storetest.NewBox(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, _, err := bootstrap.Ensure(context.Background(), db, &bootstrap.Root{AccountID: simAccount, AccessKeyID: "AKIASIMULATORTEST001", SecretAccessKey: "simulator/test/secret/0123456789"}); err != nil {
		t.Fatal(err)
	}
	return &iam.Service{DB: db}
}

// TestSimulatePrincipalPolicy_Sources checks how the stored policies of a role are named: its
// inline policies role_ROLE_POLICY, its managed policies by name; and that the boundary limits
// them and is reported.
func TestSimulatePrincipalPolicy_Sources(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + simAccount + `:root"},"Action":"sts:AssumeRole"}]}`
	boundary := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["license-manager:*","s3:*"],"Resource":"*"}]}`
	must(s.CreatePolicy(ctx, simRoot, &iam.CreatePolicyInput{PolicyName: "LicenseBoundary", PolicyDocument: boundary}))
	must(s.CreatePolicy(ctx, simRoot, &iam.CreatePolicyInput{PolicyName: "Reader", Path: "/team/", PolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","iam:GetRole"],"Resource":"*"}]}`}))
	must(s.CreateRole(ctx, simRoot, &iam.CreateRoleInput{RoleName: "App", Path: "/svc/", AssumeRolePolicyDocument: trust,
		PermissionsBoundary: "arn:aws:iam::" + simAccount + ":policy/LicenseBoundary"}))
	must(s.PutRolePolicy(ctx, simRoot, &iam.PutRolePolicyInput{RoleName: "App", PolicyName: "checkout", PolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"license-manager:CheckoutLicense","Resource":"*"}]}`}))
	must(s.AttachRolePolicy(ctx, simRoot, &iam.AttachRolePolicyInput{RoleName: "App", PolicyARN: "arn:aws:iam::" + simAccount + ":policy/team/Reader"}))

	roleARN := "arn:aws:iam::" + simAccount + ":role/svc/App"
	out, err := s.SimulatePrincipalPolicy(ctx, simRoot, &iam.SimulatePrincipalPolicyInput{
		PolicySourceARN: roleARN, ActionNames: []string{"license-manager:CheckoutLicense", "s3:GetObject", "iam:GetRole"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		decision  string
		matched   []span
		pbAllowed bool
	}{
		{iam.DecisionAllowed, []span{{"role_App_checkout", iam.SourceIAMPolicy, 1, 38, 1, 114}}, true},
		{iam.DecisionAllowed, []span{{"Reader", iam.SourceIAMPolicy, 1, 38, 1, 111}}, true},
		{iam.DecisionImplicitDeny, []span{{"Reader", iam.SourceIAMPolicy, 1, 38, 1, 111}}, false}, // allowed by Reader, not by the boundary
	}
	for i, r := range out.EvaluationResults {
		if r.EvalDecision != want[i].decision || !reflect.DeepEqual(spans(r.MatchedStatements), want[i].matched) ||
			r.PermissionsBoundaryDecisionDetail == nil || r.PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary != want[i].pbAllowed {
			t.Errorf("%s: %s %v %+v; want %s %v boundary %v", r.EvalActionName, r.EvalDecision, spans(r.MatchedStatements), r.PermissionsBoundaryDecisionDetail, want[i].decision, want[i].matched, want[i].pbAllowed)
		}
	}

	// PermissionsBoundaryPolicyInputList replaces the boundary; PolicyInputList adds policies.
	out, err = s.SimulatePrincipalPolicy(ctx, simRoot, &iam.SimulatePrincipalPolicyInput{
		PolicySourceARN: roleARN, ActionNames: []string{"iam:GetRole", "iam:ListRoles"},
		PolicyInputList:                    []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"}]}`},
		PermissionsBoundaryPolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.EvaluationResults {
		if r.EvalDecision != iam.DecisionAllowed || !r.PermissionsBoundaryDecisionDetail.AllowedByPermissionsBoundary {
			t.Errorf("%s with the boundary replaced: %+v", r.EvalActionName, r)
		}
	}
	if got := out.EvaluationResults[1].MatchedStatements; len(got) != 1 || got[0].SourcePolicyID != "PolicyInputList.1" {
		t.Errorf("ListRoles matched %v, want PolicyInputList.1", spans(got))
	}

	for _, tt := range []struct{ arn, code string }{
		{"arn:aws:iam::" + simAccount + ":role/App", iam.ErrNoSuchEntity}, // the path is part of the ARN
		{"arn:aws:iam::" + simAccount + ":role/svc/Nobody", iam.ErrNoSuchEntity},
		{"arn:aws:iam::" + simAccount + ":user/Nobody", iam.ErrNoSuchEntity},
		{"arn:aws:iam::" + simAccount + ":group/Admins", iam.ErrNoSuchEntity},
		{"arn:aws:iam::999999999999:role/svc/App", iam.ErrNoSuchEntity},
		{"arn:aws:sts::" + simAccount + ":assumed-role/App/s", iam.ErrInvalidInput},
	} {
		_, err := s.SimulatePrincipalPolicy(ctx, simRoot, &iam.SimulatePrincipalPolicyInput{PolicySourceARN: tt.arn, ActionNames: []string{"s3:GetObject"}})
		if awserr.Code(err) != tt.code {
			t.Errorf("PolicySourceArn %s: %v, want %s", tt.arn, err, tt.code)
		}
	}
}

// TestSimulatePolicyOutput_XML checks the Query shape of a result: AWS's member names, empty
// lists written (the SDKs read them as empty, not absent), nil details left out.
func TestSimulatePolicyOutput_XML(t *testing.T) {
	out := custom(t, &iam.SimulateCustomPolicyInput{
		PolicyInputList: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`},
		ActionNames:     []string{"s3:GetObject", "s3:PutObject"}, ResourceARNs: []string{"arn:aws:s3:::b/k"},
	})
	var b bytes.Buffer
	if err := awsproto.EncodeXML(&b, "SimulateCustomPolicyResult", out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<EvaluationResults><member><EvalActionName>s3:GetObject</EvalActionName><EvalResourceName>arn:aws:s3:::b/k</EvalResourceName><EvalDecision>allowed</EvalDecision>",
		"<MatchedStatements><member><SourcePolicyId>PolicyInputList.1</SourcePolicyId><SourcePolicyType>IAM Policy</SourcePolicyType><StartPosition><Line>1</Line><Column>38</Column></StartPosition><EndPosition><Line>1</Line><Column>94</Column></EndPosition></member></MatchedStatements>",
		"<MissingContextValues/><EvalDecisionDetails></EvalDecisionDetails><ResourceSpecificResults><member><EvalResourceName>arn:aws:s3:::b/k</EvalResourceName><EvalResourceDecision>allowed</EvalResourceDecision>",
		"<EvalDecision>implicitDeny</EvalDecision><MatchedStatements/><MissingContextValues/>",
		"<IsTruncated>false</IsTruncated></SimulateCustomPolicyResult>",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("XML lacks %s\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "DecisionDetail>") || strings.Contains(b.String(), "<Marker>") {
		t.Errorf("XML has details nobody asked for:\n%s", b.String())
	}
}

// TestSimulateCustomPolicy_TrustPolicy: a ResourcePolicy that is a role trust policy decides
// sts:AssumeRole on a role as a trust policy does in a real call: it must itself allow, even
// within one account. Seed 002's role chaining: Source-DM-Role assumes Target-DM-Role.
func TestSimulateCustomPolicy_TrustPolicy(t *testing.T) {
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/Source-DM-Role"},"Action":"sts:AssumeRole"}]}`
	assume := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":["arn:aws:iam::222222222222:role/Target-DM-Role","arn:aws:iam::333333333333:role/Target-DM-Role","arn:aws:iam::111111111111:role/Other"]}]}`
	logs := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}`
	for _, tt := range []struct {
		name, identity, caller, role, want string
	}{
		{"CrossAccount", assume, "arn:aws:iam::111111111111:role/Source-DM-Role", "arn:aws:iam::222222222222:role/Target-DM-Role", iam.DecisionAllowed},
		{"CrossAccountWithoutIdentityPolicy", logs, "arn:aws:iam::111111111111:role/Source-DM-Role", "arn:aws:iam::222222222222:role/Target-DM-Role", iam.DecisionImplicitDeny},
		{"CrossAccountNotTrusted", assume, "arn:aws:iam::111111111111:role/Intruder", "arn:aws:iam::222222222222:role/Target-DM-Role", iam.DecisionImplicitDeny},
		// Within one account an identity policy alone does not let a role be assumed.
		{"SameAccountNotTrusted", assume, "arn:aws:iam::111111111111:role/Intruder", "arn:aws:iam::111111111111:role/Other", iam.DecisionImplicitDeny},
		{"SameAccountTrusted", logs, "arn:aws:iam::111111111111:role/Source-DM-Role", "arn:aws:iam::111111111111:role/Other", iam.DecisionAllowed},
	} {
		r := custom(t, &iam.SimulateCustomPolicyInput{
			PolicyInputList: []string{tt.identity}, ResourcePolicy: trust, CallerARN: tt.caller,
			ActionNames: []string{"sts:AssumeRole"}, ResourceARNs: []string{tt.role},
		}).EvaluationResults[0]
		if r.EvalDecision != tt.want {
			t.Errorf("%s: %s, want %s (details %v)", tt.name, r.EvalDecision, tt.want, r.EvalDecisionDetails)
		}
	}
}
