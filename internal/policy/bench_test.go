package policy

import "testing"

// benchRolePolicy is a role's policy of 10 statements, several with conditions, as a License
// Manager consumer might have.
const benchRolePolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Checkout", "Effect": "Allow", "Action": ["license-manager:CheckoutLicense", "license-manager:CheckInLicense", "license-manager:ExtendLicenseConsumption"], "Resource": "*",
     "Condition": {"StringEquals": {"aws:PrincipalTag/team": ["blue", "green"]}, "Bool": {"aws:SecureTransport": "true"}}},
    {"Sid": "Read", "Effect": "Allow", "Action": ["license-manager:Get*", "license-manager:List*"], "Resource": "arn:aws:license-manager::111122223333:license:*"},
    {"Sid": "Grants", "Effect": "Allow", "Action": "license-manager:CreateGrant", "Resource": "*",
     "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost"]}, "StringEquals": {"aws:RequestTag/team": "${aws:PrincipalTag/team}"}}},
    {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "arn:aws:logs:*:111122223333:log-group:/allot/*"},
    {"Sid": "Home", "Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::home/${aws:PrincipalTag/team}", "arn:aws:s3:::home/${aws:PrincipalTag/team}/*"]},
    {"Sid": "Assume", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::444455556666:role/License*"},
    {"Sid": "Network", "Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}, "BoolIfExists": {"aws:ViaAWSService": "false"}}},
    {"Sid": "Window", "Effect": "Deny", "Action": "license-manager:*", "Resource": "*", "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}},
    {"Sid": "NoIAM", "Effect": "Deny", "Action": ["iam:*", "organizations:*"], "Resource": "*"},
    {"Sid": "Regions", "Effect": "Deny", "NotAction": ["sts:*", "iam:*"], "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}
  ]
}`

func benchRequest() *Request {
	return &Request{
		Principal: sessionDeployer,
		Action:    "license-manager:CheckoutLicense",
		Resource:  "*",
		Context: map[string][]string{
			"aws:PrincipalArn":      {sessionDeployer.RoleARN},
			"aws:PrincipalAccount":  {acctA},
			"aws:PrincipalTag/team": {"blue"},
			"aws:SecureTransport":   {"true"},
			"aws:SourceIp":          {"10.1.2.3"},
			"aws:RequestedRegion":   {"us-east-1"},
			"aws:CurrentTime":       {"2024-06-01T12:00:00Z"},
			"aws:userid":            {sessionDeployer.PrincipalID},
		},
		Time: fixedTime,
	}
}

// BenchmarkEvaluate decides CheckoutLicense for a role session with one 10-statement policy.
func BenchmarkEvaluate(b *testing.B) {
	d := mustParse(b, "role-policy", benchRolePolicy, KindIdentity)
	p := &Policies{Identity: []*Document{d}}
	req := benchRequest()
	if res := Evaluate(req, p); res.Decision != Allow {
		b.Fatalf("got %v (%s), want Allow", res.Decision, res.Message(req))
	}
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(req, p)
	}
}

// BenchmarkEvaluateAllLayers adds an SCP, a boundary and a session policy.
func BenchmarkEvaluateAllLayers(b *testing.B) {
	p := &Policies{
		Identity: []*Document{mustParse(b, "role-policy", benchRolePolicy, KindIdentity)},
		Boundary: mustParse(b, "boundary", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["license-manager:*","s3:*","sts:AssumeRole"],"Resource":"*"}}`, KindIdentity),
		Session:  []*Document{mustParse(b, "session", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"license-manager:*","Resource":"*"}}`, KindSession)},
		SCPs:     [][]*Document{{mustParse(b, "FullAWSAccess", allowAll, KindSCP)}, {mustParse(b, "ou", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}`, KindSCP)}},
	}
	req := benchRequest()
	if res := Evaluate(req, p); res.Decision != Allow {
		b.Fatalf("got %v (%s), want Allow", res.Decision, res.Message(req))
	}
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(req, p)
	}
}

// BenchmarkParse parses the 10-statement role policy.
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(benchRolePolicy, KindIdentity); err != nil {
			b.Fatal(err)
		}
	}
}
