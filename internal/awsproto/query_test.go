package awsproto_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awsproto"
	"github.com/allot-dev/allot/internal/awstime"
)

// Tag, PolicyDescriptor, ProvidedContext and AssumeRoleInput mirror STS's AssumeRole input.
type Tag struct {
	Key   string
	Value string
}

type PolicyDescriptor struct {
	ARN *string `query:"arn"`
}

type ProvidedContext struct {
	ProviderArn      *string
	ContextAssertion *string
}

type AssumeRoleInput struct {
	RoleArn                 *string
	RoleSessionName         *string
	PolicyArns              []PolicyDescriptor
	Policy                  *string
	DurationSeconds         *int32
	Tags                    []Tag
	TransitiveTagKeys       []string
	ExternalId              *string
	SerialNumber            *string
	TokenCode               *string
	SourceIdentity          *string
	ProvidedContexts        []ProvidedContext
	MinimumSessionTokenSize *int32
}

// CreateRoleInput mirrors IAM's CreateRole input.
type CreateRoleInput struct {
	Path                     *string
	RoleName                 *string
	AssumeRolePolicyDocument *string
	Description              *string
	MaxSessionDuration       *int32
	PermissionsBoundary      *string
	Tags                     []Tag
}

// mustCaptureQuery runs call against a server answering with an empty Query result and
// returns the form the client sent.
func mustCaptureQuery(t *testing.T, xmlns, action string, call func(aws.Config) error) url.Values {
	t.Helper()
	cfg, c := mustServe(t, func(w http.ResponseWriter) {
		awsproto.WriteQuery(w, requestID, xmlns, action, &struct{}{})
	})
	if err := call(cfg); err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	h, body, _ := c.get()
	if got := h.Get("Content-Type"); !strings.HasPrefix(got, "application/x-www-form-urlencoded") {
		t.Errorf("Content-Type = %q, want a form", got)
	}
	return mustParseForm(t, body)
}

func TestDecodeQuery_STSAssumeRole(t *testing.T) {
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	form := mustCaptureQuery(t, awsproto.STSNamespace, "AssumeRole", func(cfg aws.Config) error {
		_, err := sts.NewFromConfig(cfg).AssumeRole(context.Background(), &sts.AssumeRoleInput{
			RoleArn:         aws.String("arn:aws:iam::111122223333:role/LicenseAdmin"),
			RoleSessionName: aws.String("sess"),
			DurationSeconds: aws.Int32(900),
			ExternalId:      aws.String("ext-1"),
			Policy:          aws.String(policy),
			PolicyArns: []ststypes.PolicyDescriptorType{
				{Arn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")},
				{Arn: aws.String("arn:aws:iam::aws:policy/AWSLicenseManagerConsumptionPolicy")},
			},
			Tags: []ststypes.Tag{
				{Key: aws.String("team"), Value: aws.String("a b+c")},
				{Key: aws.String("project"), Value: aws.String("")},
			},
			TransitiveTagKeys: []string{"team", "project"},
			SerialNumber:      aws.String("arn:aws:iam::111122223333:mfa/ci"),
			TokenCode:         aws.String("123456"),
			SourceIdentity:    aws.String("ci@example.com"),
			ProvidedContexts:  []ststypes.ProvidedContext{{ProviderArn: aws.String("arn:aws:iam::aws:contextProvider/IdentityCenter"), ContextAssertion: aws.String("abc")}},
		})
		return err
	})
	if got, want := form.Get("Action"), "AssumeRole"; got != want {
		t.Errorf("Action = %q, want %q", got, want)
	}
	var got AssumeRoleInput
	if err := awsproto.DecodeQuery(form, &got); err != nil {
		t.Fatalf("DecodeQuery(%v) = %v", form, err)
	}
	want := AssumeRoleInput{
		RoleArn:           aws.String("arn:aws:iam::111122223333:role/LicenseAdmin"),
		RoleSessionName:   aws.String("sess"),
		PolicyArns:        []PolicyDescriptor{{aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}, {aws.String("arn:aws:iam::aws:policy/AWSLicenseManagerConsumptionPolicy")}},
		Policy:            aws.String(policy),
		DurationSeconds:   aws.Int32(900),
		Tags:              []Tag{{"team", "a b+c"}, {"project", ""}},
		TransitiveTagKeys: []string{"team", "project"},
		ExternalId:        aws.String("ext-1"),
		SerialNumber:      aws.String("arn:aws:iam::111122223333:mfa/ci"),
		TokenCode:         aws.String("123456"),
		SourceIdentity:    aws.String("ci@example.com"),
		ProvidedContexts:  []ProvidedContext{{aws.String("arn:aws:iam::aws:contextProvider/IdentityCenter"), aws.String("abc")}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeQuery(%v)\n got %s\nwant %s", form, dump(got), dump(want))
	}
}

func TestDecodeQuery_STSAssumeRoleEmptyLists(t *testing.T) {
	form := mustCaptureQuery(t, awsproto.STSNamespace, "AssumeRole", func(cfg aws.Config) error {
		_, err := sts.NewFromConfig(cfg).AssumeRole(context.Background(), &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::111122223333:role/R"), RoleSessionName: aws.String("s"),
			Tags: []ststypes.Tag{}, TransitiveTagKeys: []string{},
		})
		return err
	})
	var got AssumeRoleInput
	if err := awsproto.DecodeQuery(form, &got); err != nil {
		t.Fatalf("DecodeQuery(%v) = %v", form, err)
	}
	if got.Tags == nil || len(got.Tags) != 0 {
		t.Errorf("Tags = %#v, want empty non-nil (form %v)", got.Tags, form)
	}
	if got.TransitiveTagKeys == nil || len(got.TransitiveTagKeys) != 0 {
		t.Errorf("TransitiveTagKeys = %#v, want empty non-nil (form %v)", got.TransitiveTagKeys, form)
	}
	if got.PolicyArns != nil {
		t.Errorf("PolicyArns = %#v, want nil", got.PolicyArns)
	}
}

func TestDecodeQuery_IAMCreateRole(t *testing.T) {
	form := mustCaptureQuery(t, awsproto.IAMNamespace, "CreateRole", func(cfg aws.Config) error {
		_, err := iam.NewFromConfig(cfg).CreateRole(context.Background(), &iam.CreateRoleInput{
			RoleName:                 aws.String("R"),
			AssumeRolePolicyDocument: aws.String(trustPolicy),
			Path:                     aws.String("/svc/"),
			Description:              aws.String("line one\nline two & <three>"),
			MaxSessionDuration:       aws.Int32(43200),
			PermissionsBoundary:      aws.String("arn:aws:iam::aws:policy/PowerUserAccess"),
			Tags:                     []iamtypes.Tag{{Key: aws.String("k1"), Value: aws.String("v1")}, {Key: aws.String("k2"), Value: aws.String("v=2&x")}},
		})
		return err
	})
	var got CreateRoleInput
	if err := awsproto.DecodeQuery(form, &got); err != nil {
		t.Fatalf("DecodeQuery(%v) = %v", form, err)
	}
	want := CreateRoleInput{
		Path:                     aws.String("/svc/"),
		RoleName:                 aws.String("R"),
		AssumeRolePolicyDocument: aws.String(trustPolicy),
		Description:              aws.String("line one\nline two & <three>"),
		MaxSessionDuration:       aws.Int32(43200),
		PermissionsBoundary:      aws.String("arn:aws:iam::aws:policy/PowerUserAccess"),
		Tags:                     []Tag{{"k1", "v1"}, {"k2", "v=2&x"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeQuery(%v)\n got %s\nwant %s", form, dump(got), dump(want))
	}
}

// kitchenSink has every field type DecodeQuery supports.
type kitchenSink struct {
	S       string
	PS      *string
	B       bool
	PB      *bool
	I       int
	I32     *int32
	I64     int64
	U8      uint8
	F       float64
	T       time.Time
	PT      *time.Time
	ISO     *awstime.ISO8601
	Nested  *struct{ A, B string }
	Strings []string
	Structs []struct {
		Name  string
		Inner []int `query:"Values"`
	}
	M       map[string]string
	Renamed string `query:"other_name"`
	Skipped string `query:"-"`
}

func TestDecodeQuery_Types(t *testing.T) {
	form := url.Values{
		"Action": {"X"}, "Version": {"2010-05-08"},
		"X-Amz-Algorithm": {"AWS4-HMAC-SHA256"}, "X-Amz-Credential": {"AKIA/20251123/us-east-1/sts/aws4_request"},
		"X-Amz-Date": {"20251123T000000Z"}, "X-Amz-Expires": {"60"}, "X-Amz-SignedHeaders": {"host"},
		"X-Amz-Signature": {"abc"}, "X-Amz-Security-Token": {"tok"},
		"S": {"s"}, "PS": {""}, "B": {"TRUE"}, "PB": {"false"},
		"I": {"-7"}, "I32": {"2147483647"}, "I64": {"9007199254740993"}, "U8": {"255"}, "F": {"10.5"},
		"T": {"2025-03-01T10:15:00Z"}, "PT": {"2025-03-01T10:15:00.5+02:00"}, "ISO": {"2025-03-01T10:15:00"},
		"Nested.A": {"a"}, "Nested.B": {"b"},
		"Strings.member.2": {"two"}, "Strings.member.1": {"one"},
		"Structs.member.1.Name": {"n1"}, "Structs.member.1.Values.member.1": {"5"}, "Structs.member.1.Values.member.2": {"6"},
		"Structs.member.2.Name": {"n2"},
		"M.entry.1.key":         {"k1"}, "M.entry.1.value": {"v1"}, "M.entry.2.key": {"k2"}, "M.entry.2.value": {""},
		"other_name": {"r"},
	}
	var got kitchenSink
	if err := awsproto.DecodeQuery(form, &got); err != nil {
		t.Fatalf("DecodeQuery = %v", err)
	}
	want := kitchenSink{
		S: "s", PS: aws.String(""), B: true, PB: aws.Bool(false),
		I: -7, I32: aws.Int32(2147483647), I64: 9007199254740993, U8: 255, F: 10.5,
		T:       time.Date(2025, 3, 1, 10, 15, 0, 0, time.UTC),
		PT:      aws.Time(time.Date(2025, 3, 1, 8, 15, 0, 500_000_000, time.UTC)),
		ISO:     &awstime.ISO8601{Time: time.Date(2025, 3, 1, 10, 15, 0, 0, time.UTC)},
		Nested:  &struct{ A, B string }{"a", "b"},
		Strings: []string{"one", "two"},
		M:       map[string]string{"k1": "v1", "k2": ""},
		Renamed: "r",
	}
	want.Structs = append(want.Structs, struct {
		Name  string
		Inner []int `query:"Values"`
	}{"n1", []int{5, 6}}, struct {
		Name  string
		Inner []int `query:"Values"`
	}{Name: "n2"})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeQuery\n got %s\nwant %s", dump(got), dump(want))
	}
}

func TestDecodeQuery_Errors(t *testing.T) {
	tests := []struct {
		name string
		form string
		want string // substring of the message
	}{
		{"UnknownParameter", "Foo=1", "Unknown parameter 'Foo'"},
		{"UnknownNested", "Nested.C=1", "Unknown parameter 'Nested.C'"},
		{"UnknownDeep", "Structs.member.1.Nope.x=1", "Unknown parameter 'Structs.member.1.Nope.x'"},
		{"CaseSensitive", "s=1", "Unknown parameter 's'"},
		{"SkippedField", "Skipped=1", "Unknown parameter 'Skipped'"},
		{"ChildOfScalar", "S.x=1", "Unknown parameter 'S.x'"},
		{"NotANumber", "I32=abc", "Value 'abc' at 'I32' failed to satisfy constraint: Member must be a number"},
		{"FloatForInt", "I=1.0", "Value '1.0' at 'I' failed to satisfy constraint: Member must be a number"},
		{"EmptyInt", "I=", "Value '' at 'I' failed to satisfy constraint: Member must be a number"},
		{"IntOutOfRange", "I32=2147483648", "Member must have value between -2147483648 and 2147483647"},
		{"UintNegative", "U8=-1", "Value '-1' at 'U8'"},
		{"BadBool", "B=yes", "Value 'yes' at 'B' failed to satisfy constraint: Member must be a boolean"},
		{"BadTime", "T=yesterday", "Value 'yesterday' at 'T' failed to satisfy constraint: Member must be a timestamp in ISO 8601 format"},
		{"BadISO", "ISO=1740823200", "Value '1740823200' at 'ISO' failed to satisfy constraint: Member must be a timestamp in ISO 8601 format"},
		{"ZeroIndex", "Strings.member.0=x", "Parameter 'Strings.member.0' has an invalid index '0'"},
		{"LeadingZeroIndex", "Strings.member.01=x", "invalid index '01'"},
		{"NonNumericIndex", "Strings.member.a=x", "invalid index 'a'"},
		{"NegativeIndex", "Strings.member.-1=x", "invalid index '-1'"},
		{"HugeIndex", "Strings.member.99999999999999999999=x", "invalid index '99999999999999999999'"},
		{"Gap", "Strings.member.1=a&Strings.member.3=c", "Parameter 'Strings.member.2' is missing"},
		{"NoOne", "Strings.member.2=b", "Parameter 'Strings.member.1' is missing"},
		{"StructGap", "Structs.member.2.Name=b", "Parameter 'Structs.member.1' is missing"},
		{"MemberWithoutIndex", "Strings.member=x", "Parameter 'Strings.member' needs an index"},
		{"NotMember", "Strings.item.1=x", "Unknown parameter 'Strings.item.1'"},
		{"ListAsScalar", "Strings=x", "Value 'x' at 'Strings' failed to satisfy constraint: Member must be a list"},
		{"StructAsScalar", "Nested=x", "Value 'x' at 'Nested' failed to satisfy constraint: Member must be a structure"},
		{"Repeated", "S=a&S=b", "Parameter 'S' was given more than once"},
		{"MapNoKey", "M.entry.1.value=v", "at 'M.entry.1.key' failed to satisfy constraint: Member must not be null"},
		{"MapDuplicateKey", "M.entry.1.key=k&M.entry.2.key=k", "Map 'M' has the key 'k' more than once"},
		{"MapUnknown", "M.entry.1.key=k&M.entry.1.val=v", "Unknown parameter 'M.entry.1.val'"},
		{"MapGap", "M.entry.2.key=k", "Parameter 'M.entry.1' is missing"},
		{"EmptySegment", "Nested..A=1", "Unknown parameter 'Nested..A'"},
		{"OtherAmzHeader", "X-Amz-Target=x", "Unknown parameter 'X-Amz-Target'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form, err := url.ParseQuery(tt.form)
			if err != nil {
				t.Fatal(err)
			}
			var v kitchenSink
			err = awsproto.DecodeQuery(form, &v)
			e, ok := awserr.As(err)
			if !ok {
				t.Fatalf("DecodeQuery(%q) = %v, want *awserr.Error", tt.form, err)
			}
			if e.Code != "ValidationError" {
				t.Errorf("DecodeQuery(%q) code = %q, want ValidationError", tt.form, e.Code)
			}
			if !strings.Contains(e.Message, tt.want) {
				t.Errorf("DecodeQuery(%q) message = %q, want it to contain %q", tt.form, e.Message, tt.want)
			}
		})
	}
}

func TestDecodeQuery_ValidatesTarget(t *testing.T) {
	var s kitchenSink
	for name, v := range map[string]any{"nil": nil, "non-pointer": s, "nil pointer": (*kitchenSink)(nil)} {
		if err := awsproto.DecodeQuery(url.Values{}, v); awserr.Code(err) != "InternalFailure" {
			t.Errorf("DecodeQuery(%s) = %v, want InternalFailure", name, err)
		}
	}
	var bad struct{ C chan int }
	if err := awsproto.DecodeQuery(url.Values{"C": {"1"}}, &bad); awserr.Code(err) != "InternalFailure" {
		t.Errorf("DecodeQuery(chan field) = %v, want InternalFailure", err)
	}
}
