package test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// Seed 002's policies, as the seed writes them, with its placeholders filled: the source
// account A (111111111111) runs DataMasque as role DM-Role; the target account B
// (222222222222) holds the bucket and the KMS key.
const (
	seed002Source  = "111111111111"
	seed002Target  = "222222222222"
	seed002Role    = "arn:aws:iam::111111111111:role/DM-Role"
	seed002Bucket  = "dm-target-bucket"
	seed002Object  = "arn:aws:s3:::dm-target-bucket/masking/customers.csv"
	seed002KeyARN  = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	seed002Managed = "arn:aws:kms:us-east-1:222222222222:key/0a1b2c3d-aws-s3-managed-key"

	// "Account A Setup", step 1: the source account's policy.
	seed002SourcePolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "SourceBucketRead",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::*"
    },
    {
      "Sid": "SourceBucketPermissionCheck",
      "Effect": "Allow",
      "Action": [
        "s3:ListBucket",
        "s3:GetBucketAcl",
        "s3:GetBucketPolicyStatus",
        "s3:GetBucketPublicAccessBlock"
      ],
      "Resource": [
        "arn:aws:s3:::*"
      ]
    },
    {
      "Sid": "DestinationBucketWrite",
      "Effect": "Allow",
      "Action": [
        "s3:PutObject"
      ],
      "Resource": "arn:aws:s3:::*"
    },
    {
      "Sid": "DestinationBucketSecurityCheck",
      "Effect": "Allow",
      "Action": [
        "s3:ListBucket",
        "s3:GetBucketAcl",
        "s3:GetBucketPolicyStatus",
        "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketObjectLockConfiguration"
      ],
      "Resource": [
        "arn:aws:s3:::*"
      ]
    },
    {
      "Sid": "AllowEventLogging",
      "Effect": "Allow",
      "Action": [
        "logs:CreateLogStream",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
        "logs:CreateLogGroup",
        "logs:PutLogEvents"
      ],
      "Resource": "*"
    },
    {
      "Sid": "ExportedDataAccess",
      "Effect": "Allow",
      "Action": [
        "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketPolicyStatus",
        "s3:GetBucketObjectLockConfiguration",
        "s3:PutObject",
        "s3:GetObject",
        "s3:GetEncryptionConfiguration",
        "s3:ListBucket",
        "s3:GetBucketAcl",
        "s3:DeleteObject"
      ],
      "Resource": [
        "arn:aws:s3:::*"
      ]
    }
  ]
}`

	// "Target Accounts Setup": the bucket policy in the target account.
	seed002BucketPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "SourceBucketRead",
      "Effect": "Allow",
      "Principal": {
        "AWS": [
          "arn:aws:iam::111111111111:role/DM-Role"
        ]
      },
      "Action": [
        "s3:GetObject"
      ],
      "Resource": [
        "arn:aws:s3:::<bucket-name>",
        "arn:aws:s3:::<bucket-name>/*"
      ]
    },
    {
      "Sid": "SourceBucketPermissionCheck",
      "Effect": "Allow",
      "Principal": {
        "AWS": [
          "arn:aws:iam::111111111111:role/DM-Role"
        ]
      },
      "Action": [
        "s3:ListBucket*",
        "s3:GetBucketAcl",
        "s3:GetBucketPolicyStatus",
        "s3:GetBucketPublicAccessBlock"
      ],
      "Resource": [
        "arn:aws:s3:::<bucket-name>",
        "arn:aws:s3:::<bucket-name>/*"
      ]
    },
    {
      "Sid": "DestinationBucketWrite",
      "Effect": "Allow",
      "Principal": {
        "AWS": [
          "arn:aws:iam::111111111111:role/DM-Role"
        ]
      },
      "Action": [
        "s3:PutObject",
        "s3:GetObject*"
      ],
      "Resource": [
        "arn:aws:s3:::<bucket-name>",
        "arn:aws:s3:::<bucket-name>/*"
      ]
    },
    {
      "Sid": "DestinationBucketSecurityCheck",
      "Effect": "Allow",
      "Principal": {
        "AWS": [
          "arn:aws:iam::111111111111:role/DM-Role"
        ]
      },
      "Action": [
        "s3:ListBucket*",
        "s3:GetBucketAcl",
        "s3:GetBucketPolicyStatus",
        "s3:GetBucketObjectLockConfiguration"
      ],
      "Resource": [
        "arn:aws:s3:::<bucket-name>",
        "arn:aws:s3:::<bucket-name>/*"
      ]
    },
    {
      "Sid": "AllowSSLRequestsOnly",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:*",
      "Resource": [
        "arn:aws:s3:::<bucket-name>",
        "arn:aws:s3:::<bucket-name>/*"
      ],
      "Condition": {
        "Bool": {
          "aws:SecureTransport": "false"
        }
      }
    }
  ]
}`

	// "SSE-KMS … Using Cross Account Roles", step 1: the source role's KMS permissions.
	seed002KMSPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "KMSPolicy",
      "Effect": "Allow",
      "Action": [
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKey"
      ],
      "Resource": "*"
    }
  ]
}`

	// Step 2: the key policy on the KMS key in the target account.
	seed002KeyPolicy = `{
  "Version": "2012-10-17",
  "Id": "key-policy",
  "Statement": [
    {
      "Sid": "Allow use of the key cross account",
      "Effect": "Allow",
      "Principal": {
        "AWS": "arn:aws:iam::111111111111:role/DM-Role"
      },
      "Action": [
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKey"
      ],
      "Resource": "*"
    }
  ]
}`

	// "AWS S3 Key Specified Directly": the key policy AWS gives its aws/s3 managed key, which
	// nobody can change: only principals of its own account, through S3, may use it.
	seed002ManagedKeyPolicy = `{"Version":"2012-10-17","Id":"auto-s3-2","Statement":[{"Sid":"Allow access through S3 for all principals in the account that are authorized to use S3","Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*","Condition":{"StringEquals":{"kms:CallerAccount":"222222222222","kms:ViaService":"s3.us-east-1.amazonaws.com"}}},{"Sid":"Allow direct access to key metadata to the account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":["kms:Describe*","kms:Get*","kms:List*"],"Resource":"*"}]}`
)

// seed002 fills the bucket-name placeholder of a seed 002 policy.
func seed002(doc string) string { return strings.ReplaceAll(doc, "<bucket-name>", seed002Bucket) }

// ctxEntry is one context entry for the SDK.
func ctxEntry(name, typ string, values ...string) types.ContextEntry {
	return types.ContextEntry{ContextKeyName: aws.String(name), ContextKeyType: types.ContextKeyTypeEnum(typ), ContextKeyValues: values}
}

// stmt is a matched statement in short.
type stmt struct {
	id, typ                  string
	line1, col1, line2, col2 int32
}

func stmts(ms []types.Statement) []stmt {
	out := []stmt{}
	for _, m := range ms {
		s := stmt{id: aws.ToString(m.SourcePolicyId), typ: string(m.SourcePolicyType)}
		if m.StartPosition != nil && m.EndPosition != nil {
			s.line1, s.col1, s.line2, s.col2 = m.StartPosition.Line, m.StartPosition.Column, m.EndPosition.Line, m.EndPosition.Column
		}
		out = append(out, s)
	}
	return out
}

// decisions maps each action of a simulation to its decision.
func decisions(rs []types.EvaluationResult) map[string]string {
	m := map[string]string{}
	for _, r := range rs {
		m[aws.ToString(r.EvalActionName)] = string(r.EvalDecision)
	}
	return m
}

func details(m map[string]types.PolicyEvaluationDecisionType) map[string]string {
	if m == nil {
		return nil
	}
	out := map[string]string{}
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

// TestSimulator_Seed002Bucket simulates seed 002's cross-account S3 access "before use", as the
// seed recommends: the role DM-Role of the source account reads and writes a bucket of the
// target account. Access needs both the bucket policy and the role's own policy.
func TestSimulator_Seed002Bucket(t *testing.T) {
	s := startServer(t, serverOptions{})
	ctx := context.Background()
	c := rootIAM(s)
	logsOnly := `{"Version":"2012-10-17","Statement":[{"Sid":"AllowEventLogging","Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`
	simulate := func(identityPolicy, secure string) *iam.SimulateCustomPolicyOutput {
		t.Helper()
		out, err := c.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
			PolicyInputList: []string{identityPolicy},
			ResourcePolicy:  aws.String(seed002(seed002BucketPolicy)),
			CallerArn:       aws.String(seed002Role),
			ResourceOwner:   aws.String("arn:aws:iam::" + seed002Target + ":root"),
			ActionNames:     []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
			ResourceArns:    []string{seed002Object},
			ContextEntries:  []types.ContextEntry{ctxEntry("aws:SecureTransport", "boolean", secure)},
		})
		if err != nil {
			t.Fatalf("SimulateCustomPolicy: %v", err)
		}
		return out
	}

	// Both sides allow GetObject and PutObject; DeleteObject only the role's policy allows.
	out := simulate(seed002SourcePolicy, "true")
	if got, want := decisions(out.EvaluationResults), map[string]string{"s3:GetObject": "allowed", "s3:PutObject": "allowed", "s3:DeleteObject": "implicitDeny"}; !reflect.DeepEqual(got, want) {
		t.Errorf("with both policies: %v, want %v", got, want)
	}
	get := out.EvaluationResults[0]
	// The bucket policy's SourceBucketRead and DestinationBucketWrite (s3:GetObject*), and the
	// role policy's SourceBucketRead and ExportedDataAccess.
	wantGet := []stmt{
		{"ResourcePolicy", "Resource Policy", 3, 17, 19, 6},
		{"ResourcePolicy", "Resource Policy", 38, 6, 55, 6},
		{"PolicyInputList.1", "IAM Policy", 3, 17, 9, 6},
		{"PolicyInputList.1", "IAM Policy", 56, 6, 74, 6},
	}
	if got := stmts(get.MatchedStatements); !reflect.DeepEqual(got, wantGet) {
		t.Errorf("GetObject matched %v, want %v", got, wantGet)
	}
	wantDetails := map[string]string{"IAM Policy": "allowed", "Resource Policy": "allowed"}
	if aws.ToString(get.EvalResourceName) != seed002Object || !reflect.DeepEqual(details(get.EvalDecisionDetails), wantDetails) ||
		len(get.ResourceSpecificResults) != 1 || aws.ToString(get.ResourceSpecificResults[0].EvalResourceName) != seed002Object ||
		get.ResourceSpecificResults[0].EvalResourceDecision != types.PolicyEvaluationDecisionTypeAllowed {
		t.Errorf("GetObject result %+v", get)
	}
	del := out.EvaluationResults[2]
	if want := map[string]string{"IAM Policy": "allowed", "Resource Policy": "implicitDeny"}; !reflect.DeepEqual(details(del.EvalDecisionDetails), want) {
		t.Errorf("DeleteObject details %v, want %v", details(del.EvalDecisionDetails), want)
	}

	// Without the role's S3 permissions the bucket policy alone grants nothing across accounts.
	out = simulate(logsOnly, "true")
	for _, r := range out.EvaluationResults {
		if r.EvalDecision != types.PolicyEvaluationDecisionTypeImplicitDeny {
			t.Errorf("without the identity policy, %s is %s", aws.ToString(r.EvalActionName), r.EvalDecision)
		}
	}
	if got, want := details(out.EvaluationResults[0].EvalDecisionDetails), map[string]string{"IAM Policy": "implicitDeny", "Resource Policy": "allowed"}; !reflect.DeepEqual(got, want) {
		t.Errorf("GetObject without the identity policy: details %v, want %v", got, want)
	}

	// Over plain HTTP the bucket policy's AllowSSLRequestsOnly denies everything.
	out = simulate(seed002SourcePolicy, "false")
	for _, r := range out.EvaluationResults {
		if want := []stmt{{"ResourcePolicy", "Resource Policy", 74, 6, 89, 6}}; r.EvalDecision != types.PolicyEvaluationDecisionTypeExplicitDeny || !reflect.DeepEqual(stmts(r.MatchedStatements)[:1], want) {
			t.Errorf("over HTTP, %s is %s by %v; want explicitDeny by %v", aws.ToString(r.EvalActionName), r.EvalDecision, stmts(r.MatchedStatements), want)
		}
	}

	// Without the context key the Deny's condition cannot match, and the key is reported, per
	// resource and for the action. Resource-scoped statements do not match "*": the objects
	// to simulate must be named, as in AWS's simulator.
	out, err := c.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
		PolicyInputList: []string{seed002SourcePolicy}, ResourcePolicy: aws.String(seed002(seed002BucketPolicy)),
		CallerArn: aws.String(seed002Role), ResourceOwner: aws.String(seed002Target), ActionNames: []string{"s3:GetObject"},
		ResourceArns: []string{seed002Object, "arn:aws:s3:::dm-target-bucket/masking/orders.csv"},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := out.EvaluationResults[0]
	if r.EvalDecision != types.PolicyEvaluationDecisionTypeAllowed || !reflect.DeepEqual(r.MissingContextValues, []string{"aws:SecureTransport"}) ||
		aws.ToString(r.EvalResourceName) != "*" || len(r.ResourceSpecificResults) != 2 ||
		!reflect.DeepEqual(r.ResourceSpecificResults[1].MissingContextValues, []string{"aws:SecureTransport"}) {
		t.Errorf("GetObject without aws:SecureTransport: %s, missing %v, %+v", r.EvalDecision, r.MissingContextValues, r)
	}
	out, err = c.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
		PolicyInputList: []string{seed002SourcePolicy}, ResourcePolicy: aws.String(seed002(seed002BucketPolicy)),
		CallerArn: aws.String(seed002Role), ResourceOwner: aws.String(seed002Target), ActionNames: []string{"s3:GetObject"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := out.EvaluationResults[0]; r.EvalDecision != types.PolicyEvaluationDecisionTypeImplicitDeny || aws.ToString(r.EvalResourceName) != "*" || r.ResourceSpecificResults != nil {
		t.Errorf("GetObject on *: %+v", r)
	}
}

// TestSimulator_Seed002KMS: a bucket policy grants nothing on the bucket's KMS key; the key
// policy must grant the other account, and the role's own policy must allow KMS too. AWS's
// managed aws/s3 key cannot be shared at all.
func TestSimulator_Seed002KMS(t *testing.T) {
	s := startServer(t, serverOptions{})
	ctx := context.Background()
	c := rootIAM(s)
	both := []string{seed002SourcePolicy, seed002KMSPolicy}
	for _, tt := range []struct {
		name           string
		identity       []string
		resourcePolicy string
		key            string
		context        []types.ContextEntry
		want           string
	}{
		{"BucketPolicyOnly", both, seed002(seed002BucketPolicy), seed002KeyARN, nil, "implicitDeny"},
		{"KeyPolicyAndIdentityPolicy", both, seed002KeyPolicy, seed002KeyARN, nil, "allowed"},
		{"KeyPolicyWithoutKMSPermissions", []string{seed002SourcePolicy}, seed002KeyPolicy, seed002KeyARN, nil, "implicitDeny"},
		{"AWSManagedKey", both, seed002ManagedKeyPolicy, seed002Managed, []types.ContextEntry{
			ctxEntry("kms:CallerAccount", "string", seed002Source), ctxEntry("kms:ViaService", "string", "s3.us-east-1.amazonaws.com"),
		}, "implicitDeny"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
				PolicyInputList: tt.identity, ResourcePolicy: aws.String(tt.resourcePolicy), CallerArn: aws.String(seed002Role),
				ActionNames: []string{"kms:Decrypt", "kms:GenerateDataKey"}, ResourceArns: []string{tt.key}, ContextEntries: tt.context,
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range out.EvaluationResults {
				if string(r.EvalDecision) != tt.want {
					t.Errorf("%s: %s, want %s (details %v)", aws.ToString(r.EvalActionName), r.EvalDecision, tt.want, details(r.EvalDecisionDetails))
				}
			}
		})
	}
	// The key policy's statement is what allowed, with the role's KMSPolicy.
	out, err := c.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
		PolicyInputList: both, ResourcePolicy: aws.String(seed002KeyPolicy), CallerArn: aws.String(seed002Role),
		ActionNames: []string{"kms:Decrypt"}, ResourceArns: []string{seed002KeyARN},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := stmts(out.EvaluationResults[0].MatchedStatements), []stmt{{"ResourcePolicy", "Resource Policy", 4, 17, 18, 6}, {"PolicyInputList.2", "IAM Policy", 3, 17, 14, 6}}; !reflect.DeepEqual(got, want) {
		t.Errorf("kms:Decrypt matched %v, want %v", got, want)
	}
}

// TestSimulator_CheckoutLicenseScope: seed 000's troubleshooting row. CheckoutLicense has no
// resource type, so a policy naming a license ARN does not grant it, in a simulation as in a
// real call; one granting it on "*" does.
func TestSimulator_CheckoutLicenseScope(t *testing.T) {
	s := startServer(t, serverOptions{})
	ctx := context.Background()
	c := rootIAM(s)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + rootAccount + `:root"},"Action":"sts:AssumeRole"}]}`
	license := "arn:aws:license-manager::" + rootAccount + ":license:l-0123456789abcdef0123456789abcdef"
	for name, doc := range map[string]string{
		"Good":      strings.ReplaceAll(seedPermissionsPolicy, "\n", ""),
		"ScopedARN": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["license-manager:CheckoutLicense","license-manager:CheckInLicense"],"Resource":"` + license + `"}]}`,
	} {
		if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("license"), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		role      string
		resources []string
		want      string
	}{
		{"ScopedARN", nil, "implicitDeny"},
		{"ScopedARN", []string{license}, "implicitDeny"},
		{"Good", nil, "allowed"},
		{"Good", []string{license}, "allowed"},
	} {
		out, err := c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: aws.String("arn:aws:iam::" + rootAccount + ":role/" + tt.role),
			ActionNames:     []string{"license-manager:CheckoutLicense", "license-manager:CheckInLicense"}, ResourceArns: tt.resources,
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.EvaluationResults {
			if string(r.EvalDecision) != tt.want {
				t.Errorf("%s %s on %v: %s, want %s", tt.role, aws.ToString(r.EvalActionName), tt.resources, r.EvalDecision, tt.want)
			}
		}
	}
	// The same as `allot explain` decides for a real call.
	out, code := explain(t, s, "--principal", "arn:aws:iam::"+rootAccount+":role/ScopedARN", "--action", "license-manager:CheckoutLicense")
	if code != 1 || !strings.Contains(out, "DENY") && !strings.Contains(out, "not authorized") {
		t.Errorf("allot explain disagrees with the simulator: exit %d\n%s", code, out)
	}
}

// TestSimulator_PrincipalPolicy simulates a role created through IAM, with seed 002's source
// policy inline and a permissions boundary: matched statements point at the statements of the
// inline policy, and the boundary's effect is reported. A user allowed to simulate only that
// role cannot simulate another, and what the simulator says of the user's own permissions is
// what real calls do.
func TestSimulator_PrincipalPolicy(t *testing.T) {
	testSimulatorPrincipalPolicy(t, startServer(t, serverOptions{}))
}

func TestSimulator_PrincipalPolicyPostgres(t *testing.T) {
	testSimulatorPrincipalPolicy(t, startServer(t, serverOptions{database: postgresDatabase(t)}))
}

func testSimulatorPrincipalPolicy(t *testing.T, s *server) {
	ctx := context.Background()
	c := rootIAM(s)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	boundary := `{"Version":"2012-10-17","Statement":[{"Sid":"ReadAndLog","Effect":"Allow","Action":["s3:Get*","s3:List*","logs:*"],"Resource":"*"}]}`
	bp, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("DataMasqueBoundary"), PolicyDocument: aws.String(boundary)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("DM-Role"), Path: aws.String("/datamasque/"),
		AssumeRolePolicyDocument: aws.String(trust), PermissionsBoundary: bp.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("DM-Role"), PolicyName: aws.String("Source-DM-Policy"), PolicyDocument: aws.String(seed002SourcePolicy)}); err != nil {
		t.Fatal(err)
	}
	roleARN := "arn:aws:iam::" + rootAccount + ":role/datamasque/DM-Role"

	out, err := c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String(roleARN),
		ActionNames:     []string{"s3:GetObject", "logs:PutLogEvents", "s3:PutObject", "s3:DeleteBucket"},
		ResourceArns:    []string{seed002Object},
	})
	if err != nil {
		t.Fatalf("SimulatePrincipalPolicy: %v", err)
	}
	id := "role_DM-Role_Source-DM-Policy"
	want := []struct {
		decision  string
		matched   []stmt
		pbAllowed bool
	}{
		{"allowed", []stmt{{id, "IAM Policy", 3, 17, 9, 6}, {id, "IAM Policy", 56, 6, 74, 6}}, true},
		{"allowed", []stmt{{id, "IAM Policy", 44, 6, 56, 6}}, true},
		// Allowed by DestinationBucketWrite and ExportedDataAccess, but not by the boundary.
		{"implicitDeny", []stmt{{id, "IAM Policy", 22, 6, 30, 6}, {id, "IAM Policy", 56, 6, 74, 6}}, false},
		{"implicitDeny", []stmt{}, false},
	}
	for i, r := range out.EvaluationResults {
		pb := r.PermissionsBoundaryDecisionDetail
		if string(r.EvalDecision) != want[i].decision || !reflect.DeepEqual(stmts(r.MatchedStatements), want[i].matched) ||
			pb == nil || pb.AllowedByPermissionsBoundary != want[i].pbAllowed || aws.ToString(r.EvalResourceName) != seed002Object ||
			len(r.ResourceSpecificResults) != 1 || r.ResourceSpecificResults[0].EvalResourceDecision != r.EvalDecision {
			t.Errorf("%s: %s %v boundary %+v; want %s %v boundary allows %v", aws.ToString(r.EvalActionName), r.EvalDecision,
				stmts(r.MatchedStatements), pb, want[i].decision, want[i].matched, want[i].pbAllowed)
		}
	}

	// Errors: an entity that does not exist, or is not one of the caller's.
	for _, arn := range []string{"arn:aws:iam::" + rootAccount + ":role/DM-Role", "arn:aws:iam::" + rootAccount + ":user/nobody", "arn:aws:iam::" + seed002Target + ":role/DM-Role"} {
		_, err := c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(arn), ActionNames: []string{"s3:GetObject"}})
		wantTyped[*types.NoSuchEntityException](t, "SimulatePrincipalPolicy("+arn+")", err)
	}
	_, err = c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(roleARN), ActionNames: []string{"s3:GetObject"},
		PolicyInputList: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*"}}`}})
	wantAPIError(t, "malformed PolicyInputList", err, "MalformedPolicyDocument", "Missing required field Resource")

	// An auditor may simulate DM-Role and run custom simulations, nothing else.
	auditorPolicy := `{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Action":"iam:SimulatePrincipalPolicy","Resource":"` + roleARN + `"},
{"Effect":"Allow","Action":"iam:SimulateCustomPolicy","Resource":"*"},
{"Effect":"Allow","Action":"iam:GetRole","Resource":"arn:aws:iam::` + rootAccount + `:role/datamasque/*"}]}`
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("auditor")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("auditor"), PolicyName: aws.String("simulate"), PolicyDocument: aws.String(auditorPolicy)}); err != nil {
		t.Fatal(err)
	}
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("auditor")})
	if err != nil {
		t.Fatal(err)
	}
	auditor := iam.NewFromConfig(s.awsConfig(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)))
	if _, err := auditor.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(roleARN), ActionNames: []string{"s3:GetObject"}}); err != nil {
		t.Errorf("auditor simulating DM-Role: %v", err)
	}
	if _, err := auditor.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{boundary}, ActionNames: []string{"s3:GetObject"}}); err != nil {
		t.Errorf("auditor running a custom simulation: %v", err)
	}
	auditorARN := "arn:aws:iam::" + rootAccount + ":user/auditor"
	_, err = auditor.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(auditorARN), ActionNames: []string{"iam:GetRole"}})
	wantAPIError(t, "auditor simulating itself", err, "AccessDenied", "iam:SimulatePrincipalPolicy on resource: "+auditorARN)

	// What the simulator says of the auditor, real calls do.
	sim, err := c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String(auditorARN), ActionNames: []string{"iam:GetRole", "iam:DeleteRole"}, ResourceArns: []string{roleARN},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := decisions(sim.EvaluationResults), map[string]string{"iam:GetRole": "allowed", "iam:DeleteRole": "implicitDeny"}; !reflect.DeepEqual(got, want) {
		t.Errorf("simulating the auditor: %v, want %v", got, want)
	}
	if _, err := auditor.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("DM-Role")}); err != nil {
		t.Errorf("auditor GetRole, which the simulator allows: %v", err)
	}
	_, err = auditor.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("DM-Role")})
	wantAPIError(t, "auditor DeleteRole, which the simulator denies", err, "AccessDenied", "")
}

// TestSimulator_Context: typed context entries decide conditions on aws:SourceIp (ip), a number
// and a date, and keys the policies need but the simulation lacks are listed.
func TestSimulator_Context(t *testing.T) {
	s := startServer(t, serverOptions{})
	ctx := context.Background()
	c := rootIAM(s)
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"OfficeHoursCheckout","Effect":"Allow","Action":"license-manager:CheckoutLicense","Resource":"*","Condition":{
"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]},
"NumericLessThanEquals":{"license-manager:EntitlementUnits":"16"},
"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}]}`
	run := func(entries ...types.ContextEntry) types.EvaluationResult {
		t.Helper()
		out, err := c.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{
			PolicyInputList: []string{doc}, ActionNames: []string{"license-manager:CheckoutLicense"}, ContextEntries: entries,
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.EvaluationResults[0]
	}
	ip := func(v string) types.ContextEntry { return ctxEntry("aws:SourceIp", "ip", v) }
	units := func(v string) types.ContextEntry { return ctxEntry("license-manager:EntitlementUnits", "numeric", v) }
	when := func(v string) types.ContextEntry { return ctxEntry("aws:CurrentTime", "date", v) }
	for _, tt := range []struct {
		name    string
		entries []types.ContextEntry
		want    string
		missing []string
	}{
		{"AllMatch", []types.ContextEntry{ip("10.20.30.40"), units("8"), when("2026-03-01T09:00:00Z")}, "allowed", []string{}},
		{"OtherNetwork", []types.ContextEntry{ip("203.0.113.7"), units("8"), when("2026-03-01T09:00:00Z")}, "implicitDeny", []string{}},
		{"TooManyUnits", []types.ContextEntry{ip("192.168.1.1"), units("32"), when("2026-03-01T09:00:00Z")}, "implicitDeny", []string{}},
		{"TooLate", []types.ContextEntry{ip("192.168.1.1"), units("16"), when("2031-01-01T00:00:00Z")}, "implicitDeny", []string{}},
		{"EpochDate", []types.ContextEntry{ip("192.168.1.1"), units("16.0"), when("1767225600")}, "allowed", []string{}},
		{"Missing", []types.ContextEntry{when("2026-03-01T09:00:00Z")}, "implicitDeny", []string{"aws:SourceIp", "license-manager:EntitlementUnits"}},
	} {
		r := run(tt.entries...)
		if string(r.EvalDecision) != tt.want || !reflect.DeepEqual(r.MissingContextValues, tt.missing) {
			t.Errorf("%s: %s missing %q, want %s missing %q", tt.name, r.EvalDecision, r.MissingContextValues, tt.want, tt.missing)
		}
	}
	_, err := c.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{doc}, ActionNames: []string{"license-manager:CheckoutLicense"},
		ContextEntries: []types.ContextEntry{ip("10.0.0.0/33")}})
	wantTyped[*types.InvalidInputException](t, "a bad ip value", err)
	_, err = c.SimulateCustomPolicy(ctx, &iam.SimulateCustomPolicyInput{PolicyInputList: []string{doc}, ActionNames: []string{"license-manager:CheckoutLicense"},
		ContextEntries: []types.ContextEntry{units("sixteen")}})
	wantTyped[*types.InvalidInputException](t, "a bad numeric value", err)
}

// TestSimulator_Paging pages through the results with MaxItems=1 using the SDK's paginators.
func TestSimulator_Paging(t *testing.T) {
	s := startServer(t, serverOptions{})
	ctx := context.Background()
	c := rootIAM(s)
	actions := []string{"s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject", "logs:PutLogEvents"}
	want := map[string]string{"s3:GetObject": "allowed", "s3:PutObject": "allowed", "s3:ListBucket": "allowed", "s3:DeleteObject": "allowed", "logs:PutLogEvents": "allowed"}

	var got []types.EvaluationResult
	pages := 0
	p := iam.NewSimulateCustomPolicyPaginator(c, &iam.SimulateCustomPolicyInput{
		PolicyInputList: []string{seed002SourcePolicy}, ActionNames: actions, MaxItems: aws.Int32(1), ResourceArns: []string{seed002Object},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.EvaluationResults) != 1 || page.IsTruncated != (page.Marker != nil) {
			t.Fatalf("page %d: %d results, truncated %v, marker %v", pages, len(page.EvaluationResults), page.IsTruncated, page.Marker)
		}
		got = append(got, page.EvaluationResults...)
		pages++
	}
	if pages != len(actions) || !reflect.DeepEqual(decisions(got), want) {
		t.Errorf("%d pages giving %v, want %d pages giving %v", pages, decisions(got), len(actions), want)
	}
	for i, r := range got {
		if aws.ToString(r.EvalActionName) != actions[i] {
			t.Errorf("result %d is %s, want %s: pages keep the order of ActionNames", i, aws.ToString(r.EvalActionName), actions[i])
		}
	}

	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dm")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dm"), PolicyName: aws.String("source"), PolicyDocument: aws.String(seed002SourcePolicy)}); err != nil {
		t.Fatal(err)
	}
	pp := iam.NewSimulatePrincipalPolicyPaginator(c, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::" + rootAccount + ":user/dm"), ActionNames: actions, MaxItems: aws.Int32(1),
		ResourceArns: []string{"arn:aws:s3:::a/k", "arn:aws:s3:::b/k"},
	})
	got, pages = nil, 0
	for pp.HasMorePages() {
		page, err := pp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page.EvaluationResults...)
		pages++
	}
	if pages != len(actions) || !reflect.DeepEqual(decisions(got), want) {
		t.Errorf("principal: %d pages giving %v", pages, decisions(got))
	}
	for _, r := range got {
		if len(r.ResourceSpecificResults) != 2 || aws.ToString(r.EvalResourceName) != "*" {
			t.Errorf("%s on two resources: %+v", aws.ToString(r.EvalActionName), r)
		}
	}
}

// TestSimulator_AWSCLI runs seed 002's cross-account simulation with the AWS CLI, the policies
// given as files, as an operator testing delegated access before use would.
func TestSimulator_AWSCLI(t *testing.T) {
	s := startServer(t, serverOptions{})
	root := creds{keyID: rootKeyID, secret: rootSecret}
	dir := t.TempDir()
	file := func(name, doc string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return "file://" + p
	}
	// --policy-input-list is a list: the CLI reads a file:// for it as a JSON list of policy
	// documents (a bare policy document it would send character by character, to AWS too).
	list := func(name string, docs ...string) string {
		b, err := json.Marshal(docs)
		if err != nil {
			t.Fatal(err)
		}
		return file(name, string(b))
	}
	source := list("source-policies.json", seed002SourcePolicy)
	bucket := file("bucket-policy.json", seed002(seed002BucketPolicy))
	logsOnly := list("logs-policies.json", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}`)

	type result struct {
		EvaluationResults []struct {
			EvalActionName, EvalResourceName, EvalDecision string
			MatchedStatements                              []struct {
				SourcePolicyId, SourcePolicyType string
				StartPosition, EndPosition       struct{ Line, Column int }
			}
			MissingContextValues    []string
			EvalDecisionDetails     map[string]string
			ResourceSpecificResults []struct{ EvalResourceName, EvalResourceDecision string }
		}
	}
	for name, bin := range awsCLIs(t) {
		t.Run(name, func(t *testing.T) {
			bin = requireTool(t, "AWS CLI "+name, bin)
			simulate := func(policy string) result {
				var out result
				mustCLI(t, s, bin, root, &out, "iam", "simulate-custom-policy",
					"--policy-input-list", policy,
					"--action-names", "s3:GetObject", "s3:DeleteObject",
					"--resource-arns", seed002Object,
					"--resource-policy", bucket,
					"--caller-arn", seed002Role,
					"--resource-owner", "arn:aws:iam::"+seed002Target+":root",
					"--context-entries", "ContextKeyName=aws:SecureTransport,ContextKeyValues=true,ContextKeyType=boolean")
				return out
			}
			out := simulate(source)
			if len(out.EvaluationResults) != 2 {
				t.Fatalf("%+v", out)
			}
			get, del := out.EvaluationResults[0], out.EvaluationResults[1]
			if get.EvalActionName != "s3:GetObject" || get.EvalDecision != "allowed" || get.EvalResourceName != seed002Object ||
				len(get.MatchedStatements) != 4 || get.MatchedStatements[0].SourcePolicyId != "ResourcePolicy" ||
				get.MatchedStatements[0].SourcePolicyType != "Resource Policy" || get.MatchedStatements[0].StartPosition.Line != 3 ||
				get.MatchedStatements[0].StartPosition.Column != 17 || get.MatchedStatements[0].EndPosition.Line != 19 ||
				get.MissingContextValues == nil || len(get.ResourceSpecificResults) != 1 || get.ResourceSpecificResults[0].EvalResourceDecision != "allowed" ||
				get.EvalDecisionDetails["Resource Policy"] != "allowed" || get.EvalDecisionDetails["IAM Policy"] != "allowed" {
				t.Errorf("GetObject: %+v", get)
			}
			if del.EvalDecision != "implicitDeny" || del.EvalDecisionDetails["Resource Policy"] != "implicitDeny" {
				t.Errorf("DeleteObject: %+v", del)
			}
			if out := simulate(logsOnly); out.EvaluationResults[0].EvalDecision != "implicitDeny" {
				t.Errorf("GetObject without the identity policy: %+v", out.EvaluationResults[0])
			}

			// A resource policy needs a caller to match its Principal against.
			_, stderr, code := s.cliAs(t, bin, root, "iam", "simulate-custom-policy", "--policy-input-list", source,
				"--action-names", "s3:GetObject", "--resource-policy", bucket)
			if code == 0 || !strings.Contains(stderr, "InvalidInput") {
				t.Errorf("without --caller-arn: exit %d\n%s", code, stderr)
			}
		})
	}
	// The CLI's JSON is the SDK's: decode once more to be sure the numbers are numbers.
	var raw map[string]any
	stdout, _, _ := s.cliAs(t, requireTool(t, "AWS CLI v2", awsCLIs(t)["v2"]), root, "iam", "simulate-custom-policy",
		"--policy-input-list", source, "--action-names", "s3:GetObject", "--resource-arns", seed002Object)
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	pos := raw["EvaluationResults"].([]any)[0].(map[string]any)["MatchedStatements"].([]any)[0].(map[string]any)["StartPosition"].(map[string]any)
	if pos["Line"] != float64(3) || pos["Column"] != float64(17) {
		t.Errorf("StartPosition %v, want line 3 column 17", pos)
	}
}
