package policy

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// Policies from the seed documents (retyped, placeholders filled in): the DataMasque
// cross-account licensing guide (000) and cross-account access guide (002).
const (
	// 000, Step 1: the billing-account role's permissions policy.
	seedLicensePermissions = `{
"Version": "2012-10-17",
"Statement": [
{
"Sid": "DataMasqueLicenseOperations",
"Effect": "Allow",
"Action": [
"license-manager:CheckoutLicense",
"license-manager:CheckInLicense",
"license-manager:ListReceivedLicenses",
"license-manager:GetLicense",
"aws-marketplace:SearchAgreements"
],
"Resource": "*"
}
]
}`
	// 000, Step 1: the billing-account role's trust policy.
	seedLicenseTrust = `{
"Version": "2012-10-17",
"Statement": [
{
"Effect": "Allow",
"Principal": {
"AWS": "arn:aws:iam::111111111111:role/DataMasque-EC2-Role"
},
"Action": "sts:AssumeRole"
}
]
}`
	// 000, Step 2: the deployment role's statement, wrapped in a document (wildcard variant).
	seedDeploymentAssume = `{"Version": "2012-10-17", "Statement": [{
"Sid": "DataMasqueLicenseAssumeRole",
"Effect": "Allow",
"Action": "sts:AssumeRole",
"Resource": "arn:aws:iam::222222222222:role/DataMasqueLicense*"
}]}`
	// 002: the S3 bucket policy in the target account.
	seedBucketPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "SourceBucketRead",
      "Effect": "Allow",
      "Principal": {"AWS": ["arn:aws:iam::111111111111:role/DM-Role"]},
      "Action": ["s3:GetObject"],
      "Resource": ["arn:aws:s3:::dm-bucket", "arn:aws:s3:::dm-bucket/*"]
    },
    {
      "Sid": "SourceBucketPermissionCheck",
      "Effect": "Allow",
      "Principal": {"AWS": ["arn:aws:iam::111111111111:role/DM-Role"]},
      "Action": ["s3:ListBucket*", "s3:GetBucketAcl", "s3:GetBucketPolicyStatus", "s3:GetBucketPublicAccessBlock"],
      "Resource": ["arn:aws:s3:::dm-bucket", "arn:aws:s3:::dm-bucket/*"]
    },
    {
      "Sid": "DestinationBucketWrite",
      "Effect": "Allow",
      "Principal": {"AWS": ["arn:aws:iam::111111111111:role/DM-Role"]},
      "Action": ["s3:PutObject", "s3:GetObject*"],
      "Resource": ["arn:aws:s3:::dm-bucket", "arn:aws:s3:::dm-bucket/*"]
    },
    {
      "Sid": "DestinationBucketSecurityCheck",
      "Effect": "Allow",
      "Principal": {"AWS": ["arn:aws:iam::111111111111:role/DM-Role"]},
      "Action": ["s3:ListBucket*", "s3:GetBucketAcl", "s3:GetBucketPolicyStatus", "s3:GetBucketObjectLockConfiguration"],
      "Resource": ["arn:aws:s3:::dm-bucket", "arn:aws:s3:::dm-bucket/*"]
    },
    {
      "Sid": "AllowSSLRequestsOnly",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:*",
      "Resource": ["arn:aws:s3:::dm-bucket", "arn:aws:s3:::dm-bucket/*"],
      "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    }
  ]
}`
	// 002: the source account's S3 policy (first statements).
	seedSourceS3 = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "SourceBucketRead", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*"},
    {"Sid": "SourceBucketPermissionCheck", "Effect": "Allow",
     "Action": ["s3:ListBucket", "s3:GetBucketAcl", "s3:GetBucketPolicyStatus", "s3:GetBucketPublicAccessBlock"],
     "Resource": ["arn:aws:s3:::*"]},
    {"Sid": "AllowEventLogging", "Effect": "Allow",
     "Action": ["logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:CreateLogGroup", "logs:PutLogEvents"],
     "Resource": "*"}
  ]
}`
	// 002: Source-DM-Role may assume the target roles.
	seedSourceAssume = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "sts:AssumeRole",
      "Resource": [
        "arn:aws:iam::222222222222:role/Target-DM-Role",
        "arn:aws:iam::333333333333:role/Target-DM-Role"
      ]
    }
  ]
}`
	// 002: the DynamoDB statements, region and account filled in.
	seedDynamoDB = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "SourceTableExport", "Effect": "Allow",
     "Action": ["dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:ExportTableToPointInTime"],
     "Resource": ["arn:aws:dynamodb:eu-west-1:222222222222:table/orders"]},
    {"Sid": "ExportProcessStatus", "Effect": "Allow", "Action": ["dynamodb:DescribeExport"],
     "Resource": ["arn:aws:dynamodb:eu-west-1:222222222222:table/orders/*"]},
    {"Sid": "ImportProcessStatus", "Effect": "Allow", "Action": ["dynamodb:DescribeImport"],
     "Resource": ["arn:aws:dynamodb:eu-west-1:222222222222:table/orders*/*"]}
  ]
}`
	// 002: the KMS statement as printed, without Version or Statement array, wrapped.
	seedKMSStatement = `{"Statement": {
  "Effect": "Allow",
  "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
  "Resource": "arn:aws:kms:region:account-id:key/key-id"
}}`
	// 002: the KMS key policy in the target account.
	seedKeyPolicy = `{
  "Version": "2012-10-17",
  "Id": "key-policy",
  "Statement": [
    {
      "Sid": "Allow use of the key cross account",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111111111111:role/DM-Role"},
      "Action": ["kms:Decrypt", "kms:Encrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
      "Resource": "*"
    }
  ]
}`
)

func TestParse_Seeds(t *testing.T) {
	tests := []struct {
		name       string
		doc        string
		kind       Kind
		statements int
		id         string
		version    string
	}{
		{"licensePermissions", seedLicensePermissions, KindIdentity, 1, "", "2012-10-17"},
		{"licenseTrust", seedLicenseTrust, KindTrust, 1, "", "2012-10-17"},
		{"deploymentAssume", seedDeploymentAssume, KindIdentity, 1, "", "2012-10-17"},
		{"bucketPolicy", seedBucketPolicy, KindResource, 5, "", "2012-10-17"},
		{"sourceS3", seedSourceS3, KindIdentity, 3, "", "2012-10-17"},
		{"sourceAssume", seedSourceAssume, KindIdentity, 1, "", "2012-10-17"},
		{"dynamoDB", seedDynamoDB, KindIdentity, 3, "", "2012-10-17"},
		{"kmsStatement", seedKMSStatement, KindIdentity, 1, "", ""},
		{"keyPolicy", seedKeyPolicy, KindResource, 1, "key-policy", "2012-10-17"},
		{"licensePermissionsAsSession", seedLicensePermissions, KindSession, 1, "", "2012-10-17"},
		{"licensePermissionsAsSCP", seedLicensePermissions, KindSCP, 1, "", "2012-10-17"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.doc, tt.kind)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(d.Statements) != tt.statements || d.ID != tt.id || d.Version != tt.version {
				t.Errorf("got %d statements, Id %q, Version %q; want %d, %q, %q", len(d.Statements), d.ID, d.Version, tt.statements, tt.id, tt.version)
			}
			if d.Text() != tt.doc {
				t.Error("Text() does not return the document as parsed")
			}
			if d.Kind() != tt.kind {
				t.Errorf("Kind(): got %v, want %v", d.Kind(), tt.kind)
			}
		})
	}

	// The parsed elements.
	d := mustParse(t, "bucket", seedBucketPolicy, KindResource)
	s := d.Statements[4]
	if s.Sid != "AllowSSLRequestsOnly" || s.Effect != "Deny" || !s.Principal.All ||
		!slices.Equal(s.Action, []string{"s3:*"}) || len(s.Resource) != 2 ||
		len(s.Condition) != 1 || s.Condition[0].Operator != "Bool" || s.Condition[0].Key != "aws:SecureTransport" ||
		!slices.Equal(s.Condition[0].Values, []string{"false"}) {
		t.Errorf("Statement[4]: got %+v", s)
	}
	if got := d.Statements[0].Principal.AWS; !slices.Equal(got, []string{"arn:aws:iam::111111111111:role/DM-Role"}) {
		t.Errorf("Statement[0].Principal.AWS: got %q", got)
	}
}

// The seed scenarios decide as the guides say.
func TestEvaluate_SeedScenarios(t *testing.T) {
	// 000: DataMasque in the deployment account (111111111111) assumes the billing role
	// (222222222222), then checks out a license with the role's permissions.
	deployRole := &identityPrincipal{account: "111111111111", role: "DataMasque-EC2-Role", session: "i-0abc"}
	billingRole := "arn:aws:iam::222222222222:role/DataMasqueLicenseRole"
	trust := mustParse(t, billingRole, seedLicenseTrust, KindTrust)
	assume := mustParse(t, "deployment", seedDeploymentAssume, KindIdentity)
	req := &Request{Principal: deployRole.principal(), Action: "sts:AssumeRole", Resource: billingRole, ResourceAccount: "222222222222"}
	if res := Evaluate(req, &Policies{Identity: []*Document{assume}, Resource: trust}); res.Decision != Allow {
		t.Errorf("AssumeRole: got %v (%s), want Allow", res.Decision, res.Message(req))
	}
	// Without sts:AssumeRole in the deployment account (the troubleshooting table's first cause).
	if res := Evaluate(req, &Policies{Resource: trust}); res.Decision != ImplicitDeny || res.DecidedBy != TypeIdentity {
		t.Errorf("AssumeRole without identity policy: got %v by %q, want ImplicitDeny by identity-based policy", res.Decision, res.DecidedBy)
	}
	// A trust policy naming another role (the table's second cause).
	other := mustParse(t, billingRole, strings.Replace(seedLicenseTrust, "DataMasque-EC2-Role", "Other", 1), KindTrust)
	if res := Evaluate(req, &Policies{Identity: []*Document{assume}, Resource: other}); res.DecidedBy != TypeTrust {
		t.Errorf("AssumeRole with the wrong trust principal: got %v by %q, want ImplicitDeny by role trust policy", res.Decision, res.DecidedBy)
	}

	session := (&identityPrincipal{account: "222222222222", role: "DataMasqueLicenseRole", session: "datamasque-verify-session"}).principal()
	perms := mustParse(t, "perms", seedLicensePermissions, KindIdentity)
	for _, action := range []string{"license-manager:CheckoutLicense", "license-manager:CheckInLicense", "license-manager:ListReceivedLicenses"} {
		req := &Request{Principal: session, Action: action, Resource: "*"}
		if res := Evaluate(req, &Policies{Identity: []*Document{perms}}); res.Decision != Allow {
			t.Errorf("%s: got %v (%s), want Allow", action, res.Decision, res.Message(req))
		}
	}
	req = &Request{Principal: session, Action: "license-manager:ExtendLicenseConsumption", Resource: "*"}
	if res := Evaluate(req, &Policies{Identity: []*Document{perms}}); res.Decision != ImplicitDeny {
		t.Errorf("ExtendLicenseConsumption: got %v, want ImplicitDeny", res.Decision)
	}

	// 002: DM-Role reads the bucket cross-account; plain HTTP is denied by the bucket policy.
	dm := (&identityPrincipal{account: "111111111111", role: "DM-Role", session: "dm"}).principal()
	bucket := mustParse(t, "dm-bucket", seedBucketPolicy, KindResource)
	src := mustParse(t, "source", seedSourceS3, KindIdentity)
	for _, tt := range []struct {
		tls  string
		want Decision
	}{{"true", Allow}, {"false", ExplicitDeny}} {
		req := &Request{Principal: dm, Action: "s3:GetObject", Resource: "arn:aws:s3:::dm-bucket/data.csv", ResourceAccount: "222222222222",
			Context: map[string][]string{"aws:SecureTransport": {tt.tls}}}
		if res := Evaluate(req, &Policies{Identity: []*Document{src}, Resource: bucket}); res.Decision != tt.want {
			t.Errorf("GetObject with SecureTransport %s: got %v (%s), want %v", tt.tls, res.Decision, res.Message(req), tt.want)
		}
	}
	// 002: the KMS key policy grants DM-Role cross-account; the identity side needs kms:* too.
	key := mustParse(t, "key", seedKeyPolicy, KindResource)
	kmsID := mustParse(t, "kms", seedKMSStatement, KindIdentity)
	req = &Request{Principal: dm, Action: "kms:Decrypt", Resource: "arn:aws:kms:region:account-id:key/key-id", ResourceAccount: "222222222222"}
	if res := Evaluate(req, &Policies{Identity: []*Document{kmsID}, Resource: key}); res.Decision != Allow {
		t.Errorf("kms:Decrypt: got %v (%s), want Allow", res.Decision, res.Message(req))
	}
}

// TestParse_Malformed checks every class of malformed document and its Reason.
func TestParse_Malformed(t *testing.T) {
	const v = `"Version":"2012-10-17",`
	stmt := func(body string) string { return `{` + v + `"Statement":[` + body + `]}` }
	tests := []struct {
		name   string
		doc    string
		kind   Kind
		reason string
	}{
		{"truncated", `{"Version":"2012-10-17","Statement":[`, KindIdentity, "Syntax errors in policy: unexpected end of JSON input"},
		{"empty", ``, KindIdentity, "Syntax errors in policy: unexpected end of JSON input"},
		{"trailingData", allowAll + `x`, KindIdentity, "Syntax errors in policy: invalid character 'x' after top-level value"},
		{"notObject", `["Statement"]`, KindIdentity, "Syntax errors in policy: the policy must be a JSON object, not an array"},
		{"tooLarge", `{"Id":"` + strings.Repeat("x", MaxDocumentSize) + `"}`, KindIdentity, "Policy document exceeds the maximum size of 131072 bytes (it has 131081)"},
		{"unknownTop", `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*"},"Foo":1}`, KindIdentity, "Unknown element Foo in policy"},
		{"badVersion", `{"Version":"2012-10-18","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, KindIdentity, `Version: "2012-10-18" is not a valid policy version; use 2012-10-17 or 2008-10-17`},
		{"versionNotString", `{"Version":2012,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, KindIdentity, "Version: must be a string"},
		{"idNotString", `{"Id":1,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, KindIdentity, "Id: must be a string"},
		{"noStatement", `{` + v + `"Id":"x"}`, KindIdentity, "Missing required field Statement"},
		{"emptyStatements", `{` + v + `"Statement":[]}`, KindIdentity, "Statement: must not be empty"},
		{"statementString", `{` + v + `"Statement":"x"}`, KindIdentity, "Statement: must be an object or an array of objects, not a string"},
		{"statementElementNotObject", stmt(`{"Effect":"Allow","Action":"*","Resource":"*"},1`), KindIdentity, "Statement[1]: must be an object, not a number"},
		{"duplicateTop", `{` + v + `"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, KindIdentity, "Duplicate element Version in policy"},
		{"duplicateInStatement", stmt(`{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}`), KindIdentity, "Duplicate element Effect in Statement[0]"},
		{"unknownInStatement", stmt(`{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*","Foo":"x"}`), KindIdentity, "Unknown element Foo in Statement[2]"},
		{"lowercaseElement", stmt(`{"effect":"Allow","Action":"*","Resource":"*"}`), KindIdentity, "Unknown element effect in Statement[0]"},
		{"sidNotString", stmt(`{"Sid":1,"Effect":"Allow","Action":"*","Resource":"*"}`), KindIdentity, "Statement[0].Sid: must be a string, not a number"},
		{"duplicateSid", stmt(`{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"}`), KindIdentity, `Statement[1].Sid: duplicate Sid "A" (also in Statement[0]); Statement IDs (SID) in a single policy must be unique`},
		{"noEffect", stmt(`{"Action":"*","Resource":"*"}`), KindIdentity, "Missing required field Effect in Statement[0]"},
		{"badEffect", stmt(`{"Effect":"allow","Action":"*","Resource":"*"}`), KindIdentity, "Statement[0].Effect: must be Allow or Deny"},
		{"effectNotString", stmt(`{"Effect":true,"Action":"*","Resource":"*"}`), KindIdentity, "Statement[0].Effect: must be Allow or Deny"},
		{"noAction", stmt(`{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Allow","Resource":"*"}`), KindIdentity, "Missing required field Action in Statement[1]"},
		{"actionAndNotAction", stmt(`{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}`), KindIdentity, "Statement[0]: must contain exactly one of Action and NotAction"},
		{"actionNoPrefix", stmt(`{"Effect":"Allow","Action":"GetObject","Resource":"*"}`), KindIdentity, `Statement[0].Action: invalid action "GetObject": an action must be "prefix:name" (Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.) or "*"`},
		{"actionEmptyName", stmt(`{"Effect":"Allow","NotAction":["s3:*","s3:"],"Resource":"*"}`), KindIdentity, `Statement[0].NotAction: invalid action "s3:": an action must be "prefix:name" (Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.) or "*"`},
		{"actionTwoColons", stmt(`{"Effect":"Allow","Action":"s3:a:b","Resource":"*"}`), KindIdentity, `Statement[0].Action: invalid action "s3:a:b": an action must be "prefix:name" (Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.) or "*"`},
		{"actionEmptyArray", stmt(`{"Effect":"Allow","Action":[],"Resource":"*"}`), KindIdentity, "Statement[0].Action: must not be empty"},
		{"actionNumber", stmt(`{"Effect":"Allow","Action":["s3:*",7],"Resource":"*"}`), KindIdentity, "Statement[0].Action[1]: must be a string, not a number"},
		{"actionObject", stmt(`{"Effect":"Allow","Action":{},"Resource":"*"}`), KindIdentity, "Statement[0].Action: must be a string or an array of strings, not an object"},
		{"noResource", stmt(`{"Effect":"Allow","Action":"*"}`), KindIdentity, "Missing required field Resource in Statement[0]"},
		{"noResourceSCP", stmt(`{"Effect":"Allow","Action":"*"}`), KindSCP, "Missing required field Resource in Statement[0]"},
		{"noResourceSession", stmt(`{"Effect":"Allow","Action":"*"}`), KindSession, "Missing required field Resource in Statement[0]"},
		{"resourceAndNotResource", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}`), KindIdentity, "Statement[0]: must contain exactly one of Resource and NotResource"},
		{"resourceNotARN", stmt(`{"Effect":"Allow","Action":"*","Resource":"bucket"}`), KindIdentity, `Statement[0].Resource: Resource bucket must be in ARN format or "*"`},
		{"resourceShortARN", stmt(`{"Effect":"Allow","Action":"*","NotResource":["arn:aws:s3:::b","arn:aws:s3"]}`), KindIdentity, `Statement[0].NotResource: Resource arn:aws:s3 must be in ARN format or "*"`},
		{"resourceEmptyArray", stmt(`{"Effect":"Allow","Action":"*","Resource":[]}`), KindIdentity, "Statement[0].Resource: must not be empty"},
		{"badVariable", stmt(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:username, nobody}"}`), KindIdentity, "Statement[0].Resource: invalid default value in policy variable ${aws:username, nobody}: it must be in single quotes"},
		{"principalInIdentity", stmt(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}`), KindIdentity, "Has prohibited field Principal in Statement[0]: an identity-based policy does not specify a principal"},
		{"principalInSCP", stmt(`{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"*","Resource":"*"}`), KindSCP, "Has prohibited field NotPrincipal in Statement[0]: a service control policy does not specify a principal"},
		{"noPrincipalResource", stmt(`{"Effect":"Allow","Action":"*","Resource":"*"}`), KindResource, "Missing required field Principal in Statement[0]"},
		{"noPrincipalTrust", stmt(`{"Effect":"Allow","Action":"sts:AssumeRole"}`), KindTrust, "Missing required field Principal in Statement[0]"},
		{"notPrincipalInTrust", stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}`), KindTrust, "Has prohibited field NotPrincipal in Statement[0]: a role trust policy cannot use NotPrincipal"},
		{"principalAndNotPrincipal", stmt(`{"Effect":"Deny","Principal":"*","NotPrincipal":"*","Action":"*"}`), KindResource, "Statement[0]: must contain exactly one of Principal and NotPrincipal"},
		{"principalBadString", stmt(`{"Effect":"Allow","Principal":"111122223333","Action":"*"}`), KindResource, `Statement[0].Principal: Invalid principal in policy: "111122223333" (use "*" or an object such as {"AWS": "arn:aws:iam::123456789012:root"})`},
		{"principalBadARN", stmt(`{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::1234:user/x"]},"Action":"*"}`), KindResource, `Statement[0].Principal: Invalid principal in policy: "AWS":"arn:aws:iam::1234:user/x"`},
		{"principalWildcardARN", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/*"},"Action":"*"}`), KindResource, `Statement[0].Principal: Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:role/*"`},
		{"principalGroup", stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:group/devs"},"Action":"*"}`), KindResource, `Statement[0].Principal: Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:group/devs"`},
		{"principalUnknownType", stmt(`{"Effect":"Allow","Principal":{"User":"x"},"Action":"*"}`), KindResource, "Statement[0].Principal: unknown principal type User (use AWS, Service, Federated or CanonicalUser)"},
		{"principalEmpty", stmt(`{"Effect":"Allow","Principal":{},"Action":"*"}`), KindResource, "Statement[0].Principal: must not be empty"},
		{"principalEmptyList", stmt(`{"Effect":"Allow","Principal":{"AWS":[]},"Action":"*"}`), KindResource, "Statement[0].Principal.AWS: must not be empty"},
		{"trustNonSTSAction", stmt(`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRole","s3:GetObject"]}`), KindTrust, `Statement[0].Action: invalid action "s3:GetObject": AssumeRole policy may only specify STS AssumeRole actions`},
		{"conditionNotObject", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":[]}`), KindIdentity, "Statement[0].Condition: must be an object, not an array"},
		{"unknownOperator", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"a":"b"}}}`), KindIdentity, "Statement[0].Condition: Invalid Condition type : StringEqualz"},
		{"operatorCase", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"stringEquals":{"a":"b"}}}`), KindIdentity, "Statement[0].Condition: Invalid Condition type : stringEquals"},
		{"nullIfExists", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"a":"true"}}}`), KindIdentity, "Statement[0].Condition: Invalid Condition type : NullIfExists (IfExists cannot be used with Null)"},
		{"forAllNull", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:Null":{"a":"true"}}}`), KindIdentity, "Statement[0].Condition: Invalid Condition type : ForAllValues:Null (Null takes no set qualifier)"},
		{"badQualifier", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForSomeValues:StringEquals":{"a":"b"}}}`), KindIdentity, "Statement[0].Condition: Invalid Condition type : ForSomeValues:StringEquals"},
		{"operatorBlockString", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":"a"}}`), KindIdentity, "Statement[0].Condition.StringEquals: must be an object of condition keys, not a string"},
		{"conditionEmptyValues", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a":[]}}}`), KindIdentity, "Statement[0].Condition.StringEquals.a: must not be empty"},
		{"conditionNullValue", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a":null}}}`), KindIdentity, "Statement[0].Condition.StringEquals.a: must be a string, number, boolean or an array of them, not null"},
		{"conditionObjectValue", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a":["x",{}]}}}`), KindIdentity, "Statement[0].Condition.StringEquals.a[1]: must be a string, number or boolean, not an object"},
		{"duplicateConditionKey", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a":"1","a":"2"}}}`), KindIdentity, "Duplicate element a in Statement[0].Condition.StringEquals"},
		{"badNumber", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"a":"ten"}}}`), KindIdentity, `Statement[0].Condition.NumericLessThan.a: invalid value "ten" for NumericLessThan: must be a number`},
		{"badDate", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}`), KindIdentity, `Statement[0].Condition.DateLessThan.aws:CurrentTime: invalid value "tomorrow" for DateLessThan: must be an ISO 8601 date or epoch seconds`},
		{"badBool", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:SecureTransport":"yes"}}}`), KindIdentity, `Statement[0].Condition.BoolIfExists.aws:SecureTransport: invalid value "yes" for BoolIfExists: must be true or false`},
		{"badNull", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"a":"maybe"}}}`), KindIdentity, `Statement[0].Condition.Null.a: invalid value "maybe" for Null: must be true or false`},
		{"badCIDR", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}`), KindIdentity, `Statement[0].Condition.IpAddress.aws:SourceIp: invalid value "10.0.0.0/33" for IpAddress: must be an IP address or CIDR block`},
		{"badBase64", stmt(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"BinaryEquals":{"k":"%%%"}}}`), KindIdentity, `Statement[0].Condition.BinaryEquals.k: invalid value "%%%" for BinaryEquals: must be base64`},
		{"badKind", allowAll, Kind(0), "unknown policy kind 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.doc, tt.kind)
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Parse: got (%v, %v), want *Error %q", d, err, tt.reason)
			}
			if perr.Reason != tt.reason {
				t.Errorf("Reason:\n got %s\nwant %s", perr.Reason, tt.reason)
			}
			if err.Error() != "policy: "+tt.reason {
				t.Errorf("Error(): got %q", err.Error())
			}
		})
	}
}

// Documents AWS accepts that a careless parser might not.
func TestParse_Accepts(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		kind Kind
	}{
		{"noVersion", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, KindIdentity},
		{"version2008", `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, KindIdentity},
		{"statementObject", allowAll, KindIdentity},
		{"sidWithSpaces", `{"Version":"2012-10-17","Statement":{"Sid":"Allow use of the key","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}}`, KindResource},
		{"emptySidsNotUnique", `{"Version":"2012-10-17","Statement":[{"Sid":"","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"","Effect":"Allow","Action":"*","Resource":"*"}]}`, KindIdentity},
		{"allPrincipalForms", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["*","111122223333","arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:user/a/b","arn:aws:iam::111122223333:role/p/R","arn:aws:sts::111122223333:assumed-role/R/s","arn:aws:sts::111122223333:federated-user/f","arn:aws-cn:iam::111122223333:user/x","AIDAJQABLZS4A3QDU576Q"],"Service":["ec2.amazonaws.com"],"Federated":"cognito-identity.amazonaws.com","CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"*","Resource":"*"}}`, KindResource},
		{"trustServiceNoResource", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}}`, KindTrust},
		{"trustWithResource", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole","Resource":"arn:aws:iam::111122223333:role/R"}}`, KindTrust},
		{"conditionTypes", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"a":10,"b":[1.5,"2"]},"Bool":{"c":true},"StringEquals":{"d":[false,"x"]}}}}`, KindIdentity},
		{"emptyCondition", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{}}}`, KindIdentity},
		{"everyOperator", everyOperatorDoc(), KindIdentity},
		{"variableResources", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":["arn:aws:s3:::b/${aws:username}/*","arn:aws:iam::${aws:PrincipalAccount}:user/${aws:username, 'x'}","arn:aws:s3:::b/${*}${?}${$}"]}}`, KindIdentity},
		{"version2008VariableIsText", `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:username, nobody}"}}`, KindIdentity},
		{"wildcardPrefix", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:Get*","*:List*","iam:?et*"],"Resource":"*"}}`, KindIdentity},
		{"maxSize", `{"Id":"` + strings.Repeat("x", MaxDocumentSize-len(`{"Id":"","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)) + `","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, KindIdentity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse(tt.doc, tt.kind); err != nil {
				t.Errorf("Parse: %v", err)
			}
		})
	}
}

// everyOperatorDoc uses every condition operator, with IfExists and both qualifiers.
func everyOperatorDoc() string {
	values := map[family]string{
		famString: `"x*"`, famNumeric: `"1.5"`, famDate: `"2020-01-01T00:00:00Z"`, famBool: `"true"`,
		famBinary: `"QmluYXJ5"`, famIP: `"10.0.0.0/8"`, famARN: `"arn:aws:s3:::b/*"`, famNull: `"true"`,
	}
	names := make([]string, 0, len(operators))
	for name := range operators {
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{`)
	first := true
	for _, name := range names {
		forms := []string{name}
		if name != "Null" {
			forms = append(forms, name+"IfExists", "ForAllValues:"+name, "ForAnyValue:"+name+"IfExists")
		}
		for _, f := range forms {
			if !first {
				b.WriteString(",")
			}
			first = false
			b.WriteString(`"` + f + `":{"k":` + values[operators[name].fam] + `}`)
		}
	}
	b.WriteString(`}}}`)
	return b.String()
}

// Condition values that are JSON numbers and booleans are normalised to their text.
func TestParse_ConditionValuesNormalised(t *testing.T) {
	d := mustParse(t, "p", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"a":[10,1.50]},"Bool":{"b":true}}}}`, KindIdentity)
	got := d.Statements[0].Condition
	if len(got) != 2 || !slices.Equal(got[0].Values, []string{"10", "1.50"}) || !slices.Equal(got[1].Values, []string{"true"}) {
		t.Errorf("conditions: got %+v", got)
	}
}
