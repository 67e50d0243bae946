package test

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
	"github.com/go-jose/go-jose/v4"
)

var licenseARNRE = regexp.MustCompile(`^arn:aws:license-manager::\d{12}:license:l-[0-9a-f]{32}$`)

// newLicenseInput returns a valid CreateLicense input.
func newLicenseInput(sku, token string) *lm.CreateLicenseInput {
	return &lm.CreateLicenseInput{
		LicenseName: aws.String("DataMasque " + sku), ProductName: aws.String("DataMasque"), ProductSKU: aws.String(sku),
		Issuer:     &lmtypes.Issuer{Name: aws.String("Vendor")},
		HomeRegion: aws.String(region),
		Validity:   &lmtypes.DatetimeRange{Begin: aws.String("2026-01-01T00:00:00Z"), End: aws.String("2027-01-01T00:00:00Z")},
		Entitlements: []lmtypes.Entitlement{
			{Name: aws.String("Seats"), Unit: lmtypes.EntitlementUnitCount, MaxCount: aws.Int64(10), Overage: aws.Bool(false), AllowCheckIn: aws.Bool(true)},
			{Name: aws.String("Edition"), Unit: lmtypes.EntitlementUnitNone, Value: aws.String("Enterprise")},
		},
		Beneficiary: aws.String("billing"),
		ConsumptionConfiguration: &lmtypes.ConsumptionConfiguration{
			RenewType:                lmtypes.RenewTypeNone,
			ProvisionalConfiguration: &lmtypes.ProvisionalConfiguration{MaxTimeToLiveInMinutes: aws.Int32(60)},
		},
		LicenseMetadata: []lmtypes.Metadata{{Name: aws.String("tier"), Value: aws.String("gold")}},
		ClientToken:     aws.String(token),
		Tags:            []lmtypes.Tag{{Key: aws.String("team"), Value: aws.String("sales")}},
	}
}

// TestLicenses_SDK drives the issuer's side of managed licenses with the AWS SDK for Go:
// create, idempotent retries, get, list with filters, versions, delete, typed errors, the
// home region, the JWKS, the audit trail and a denial naming its cause.
func TestLicenses_SDK(t *testing.T) { testLicensesSDK(t, startServer(t, serverOptions{})) }

// TestLicenses_Postgres runs the same test against a server on PostgreSQL.
func TestLicenses_Postgres(t *testing.T) {
	testLicensesSDK(t, startServer(t, serverOptions{database: postgresDatabase(t)}))
}

func testLicensesSDK(t *testing.T, s *server) {
	ctx := context.Background()
	admin := orgAdmin(t, s)
	c := lm.NewFromConfig(s.configFor(admin))

	// Create, and retry with the same ClientToken.
	in := newLicenseInput("DM-ENT", "tok-1")
	created, err := c.CreateLicense(ctx, in)
	if err != nil {
		t.Fatalf("CreateLicense: %v", err)
	}
	arn := aws.ToString(created.LicenseArn)
	if !licenseARNRE.MatchString(arn) || !strings.Contains(arn, ":"+rootAccount+":") {
		t.Fatalf("LicenseArn = %q, want a regionless license ARN of %s", arn, rootAccount)
	}
	if created.Status != lmtypes.LicenseStatusAvailable || aws.ToString(created.Version) != "1" {
		t.Errorf("CreateLicense = %s version %s, want AVAILABLE version 1", created.Status, aws.ToString(created.Version))
	}
	again, err := c.CreateLicense(ctx, newLicenseInput("DM-ENT", "tok-1"))
	if err != nil || aws.ToString(again.LicenseArn) != arn {
		t.Errorf("CreateLicense(same ClientToken) = %v, %v; want the first answer %s", again, err, arn)
	}
	_, err = c.CreateLicense(ctx, newLicenseInput("DM-OTHER", "tok-1"))
	wantTyped[*lmtypes.ValidationException](t, "CreateLicense(same ClientToken, other input)", err)
	wantAPIError(t, "CreateLicense(same ClientToken, other input)", err, "ValidationException", "already used")

	// A second license, with an RSA (PS384) key.
	rsaIn := newLicenseInput("DM-STD", "tok-2")
	rsaIn.Issuer.SignKey = aws.String("RSA")
	second, err := c.CreateLicense(ctx, rsaIn)
	if err != nil {
		t.Fatalf("CreateLicense(RSA): %v", err)
	}
	arn2 := aws.ToString(second.LicenseArn)

	// Get.
	got, err := c.GetLicense(ctx, &lm.GetLicenseInput{LicenseArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("GetLicense: %v", err)
	}
	l := got.License
	fingerprint := "aws:" + rootAccount + ":Vendor:issuer-fingerprint"
	if aws.ToString(l.LicenseArn) != arn || aws.ToString(l.ProductSKU) != "DM-ENT" || aws.ToString(l.HomeRegion) != region ||
		aws.ToString(l.Issuer.KeyFingerprint) != fingerprint || aws.ToString(l.Issuer.Name) != "Vendor" ||
		aws.ToString(l.Validity.Begin) != "2026-01-01T00:00:00Z" || aws.ToString(l.Validity.End) != "2027-01-01T00:00:00Z" ||
		aws.ToString(l.Beneficiary) != "billing" || l.Status != lmtypes.LicenseStatusAvailable || aws.ToString(l.Version) != "1" ||
		len(l.Entitlements) != 2 || aws.ToInt64(l.Entitlements[0].MaxCount) != 10 || aws.ToString(l.Entitlements[1].Value) != "Enterprise" ||
		aws.ToInt32(l.ConsumptionConfiguration.ProvisionalConfiguration.MaxTimeToLiveInMinutes) != 60 ||
		len(l.LicenseMetadata) != 1 || aws.ToString(l.CreateTime) == "" {
		b, _ := json.Marshal(l)
		t.Errorf("GetLicense = %s", b)
	}

	// List, with filters and paging.
	list := func(what string, in *lm.ListLicensesInput) []string {
		t.Helper()
		out, err := c.ListLicenses(ctx, in)
		if err != nil {
			t.Fatalf("ListLicenses(%s): %v", what, err)
		}
		var arns []string
		for _, l := range out.Licenses {
			arns = append(arns, aws.ToString(l.LicenseArn))
		}
		return arns
	}
	if got := list("all", &lm.ListLicensesInput{}); len(got) != 2 {
		t.Errorf("ListLicenses = %v, want 2 licenses", got)
	}
	if got := list("ProductSKU", &lm.ListLicensesInput{Filters: []lmtypes.Filter{{Name: aws.String("ProductSKU"), Values: []string{"DM-STD"}}}}); len(got) != 1 || got[0] != arn2 {
		t.Errorf("ListLicenses(ProductSKU DM-STD) = %v, want [%s]", got, arn2)
	}
	if got := list("Fingerprint+Beneficiary", &lm.ListLicensesInput{Filters: []lmtypes.Filter{
		{Name: aws.String("Fingerprint"), Values: []string{fingerprint}}, {Name: aws.String("Beneficiary"), Values: []string{"billing"}}}}); len(got) != 2 {
		t.Errorf("ListLicenses(Fingerprint, Beneficiary) = %v, want 2", got)
	}
	if got := list("LicenseArns", &lm.ListLicensesInput{LicenseArns: []string{arn}}); len(got) != 1 || got[0] != arn {
		t.Errorf("ListLicenses(LicenseArns) = %v, want [%s]", got, arn)
	}
	p1, err := c.ListLicenses(ctx, &lm.ListLicensesInput{MaxResults: aws.Int32(1)})
	if err != nil || len(p1.Licenses) != 1 || p1.NextToken == nil {
		t.Fatalf("ListLicenses(MaxResults 1) = %v, %v; want one license and a NextToken", p1, err)
	}
	p2, err := c.ListLicenses(ctx, &lm.ListLicensesInput{MaxResults: aws.Int32(1), NextToken: p1.NextToken})
	if err != nil || len(p2.Licenses) != 1 || p2.NextToken != nil || aws.ToString(p2.Licenses[0].LicenseArn) == aws.ToString(p1.Licenses[0].LicenseArn) {
		t.Errorf("ListLicenses(page 2) = %v, %v; want the other license and no NextToken", p2, err)
	}
	_, err = c.ListLicenses(ctx, &lm.ListLicensesInput{Filters: []lmtypes.Filter{{Name: aws.String("Color"), Values: []string{"x"}}}})
	wantTyped[*lmtypes.InvalidParameterValueException](t, "ListLicenses(unknown filter)", err)

	// A new version; a stale SourceVersion conflicts.
	vin := &lm.CreateLicenseVersionInput{
		LicenseArn: aws.String(arn), LicenseName: in.LicenseName, ProductName: in.ProductName, Issuer: in.Issuer, HomeRegion: in.HomeRegion,
		Validity: in.Validity, Entitlements: in.Entitlements, ConsumptionConfiguration: in.ConsumptionConfiguration,
		Status: lmtypes.LicenseStatusSuspended, ClientToken: aws.String("v-1"), SourceVersion: aws.String("1"),
	}
	v2, err := c.CreateLicenseVersion(ctx, vin)
	if err != nil || aws.ToString(v2.Version) != "2" || v2.Status != lmtypes.LicenseStatusSuspended {
		t.Fatalf("CreateLicenseVersion = %v, %v; want version 2 SUSPENDED", v2, err)
	}
	vin.ClientToken = aws.String("v-2")
	_, err = c.CreateLicenseVersion(ctx, vin)
	wantTyped[*lmtypes.ConflictException](t, "CreateLicenseVersion(stale SourceVersion)", err)
	old, err := c.GetLicense(ctx, &lm.GetLicenseInput{LicenseArn: aws.String(arn), Version: aws.String("1")})
	if err != nil || old.License.Status != lmtypes.LicenseStatusAvailable || aws.ToString(old.License.Version) != "1" {
		t.Errorf("GetLicense(version 1) = %v, %v; want the first version, AVAILABLE", old, err)
	}
	versions, err := c.ListLicenseVersions(ctx, &lm.ListLicenseVersionsInput{LicenseArn: aws.String(arn)})
	if err != nil || len(versions.Licenses) != 2 || aws.ToString(versions.Licenses[1].Version) != "2" {
		t.Errorf("ListLicenseVersions = %v, %v; want versions 1 and 2", versions, err)
	}

	// Writes from another region are redirected to the home region.
	eu := s.configFor(admin)
	eu.Region = "eu-west-1"
	vin.ClientToken, vin.SourceVersion = aws.String("v-3"), aws.String("2")
	_, err = lm.NewFromConfig(eu).CreateLicenseVersion(ctx, vin)
	var redirect *lmtypes.RedirectException
	if !errors.As(err, &redirect) || aws.ToString(redirect.Location) != region {
		t.Errorf("CreateLicenseVersion from eu-west-1: %v, want RedirectException with Location %s", err, region)
	}

	// Delete.
	_, err = c.DeleteLicense(ctx, &lm.DeleteLicenseInput{LicenseArn: aws.String(arn), SourceVersion: aws.String("1")})
	wantTyped[*lmtypes.ConflictException](t, "DeleteLicense(stale SourceVersion)", err)
	del, err := c.DeleteLicense(ctx, &lm.DeleteLicenseInput{LicenseArn: aws.String(arn), SourceVersion: aws.String("2")})
	if err != nil || del.Status != lmtypes.LicenseDeletionStatusDeleted || aws.ToString(del.DeletionDate) == "" {
		t.Fatalf("DeleteLicense = %v, %v; want DELETED with a DeletionDate", del, err)
	}
	after, err := c.GetLicense(ctx, &lm.GetLicenseInput{LicenseArn: aws.String(arn)})
	if err != nil || after.License.Status != lmtypes.LicenseStatusDeleted {
		t.Errorf("GetLicense(deleted) = %v, %v; want status DELETED", after, err)
	}

	// Typed errors.
	bad := newLicenseInput("X", "tok-bad")
	bad.Entitlements = []lmtypes.Entitlement{} // not nil: the SDK checks that a required member is present
	_, err = c.CreateLicense(ctx, bad)
	wantTyped[*lmtypes.ValidationException](t, "CreateLicense(no entitlements)", err)
	bad = newLicenseInput("X", "tok-bad2")
	bad.Validity.Begin = aws.String("yesterday")
	_, err = c.CreateLicense(ctx, bad)
	wantTyped[*lmtypes.ValidationException](t, "CreateLicense(bad Validity.Begin)", err)
	bad = newLicenseInput("X", "tok-bad3")
	bad.Entitlements[0].Unit = "Apples"
	_, err = c.CreateLicense(ctx, bad)
	wantTyped[*lmtypes.ValidationException](t, "CreateLicense(bad Unit)", err)
	bad = newLicenseInput("X", "tok-bad4")
	bad.Issuer.SignKey = aws.String("arn:aws:kms:us-east-1:123456789012:key/abc")
	_, err = c.CreateLicense(ctx, bad)
	wantAPIError(t, "CreateLicense(KMS SignKey)", err, "ValidationException", "RSA")
	unknown := "arn:aws:license-manager::" + rootAccount + ":license:l-00000000000000000000000000000000"
	_, err = c.GetLicense(ctx, &lm.GetLicenseInput{LicenseArn: aws.String(unknown)})
	wantTyped[*lmtypes.InvalidParameterValueException](t, "GetLicense(unknown)", err)
	vin.LicenseArn, vin.ClientToken = aws.String(unknown), aws.String("v-4")
	_, err = c.CreateLicenseVersion(ctx, vin)
	wantTyped[*lmtypes.ResourceNotFoundException](t, "CreateLicenseVersion(unknown)", err)

	// The JWKS has both issuer keys, public parts only, with RFC 7638 key IDs.
	resp, err := http.Get(s.url + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var set jose.JSONWebKeySet
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &set) != nil {
		t.Fatalf("GET /.well-known/jwks.json = %d %s", resp.StatusCode, body)
	}
	algs := map[string]bool{}
	for _, k := range set.Keys {
		tp, err := k.Thumbprint(crypto.SHA256)
		if err != nil || k.KeyID != base64.RawURLEncoding.EncodeToString(tp) || !k.IsPublic() || !k.Valid() {
			t.Errorf("JWKS key %s (%s): want a valid public key whose kid is its thumbprint", k.KeyID, k.Algorithm)
		}
		algs[k.Algorithm] = true
	}
	if len(set.Keys) != 2 || !algs["ES256"] || !algs["PS384"] || strings.Contains(string(body), `"d"`) {
		t.Errorf("JWKS = %s, want an ES256 and a PS384 public key", body)
	}

	// Each change is in the audit trail with its response: the two creations (a retry with the
	// same ClientToken is recorded too) and the refused reuse of a token.
	var recorded []string
	for _, ev := range lookupAll(t, s, "CreateLicense", 50) {
		var resp struct{ LicenseArn string }
		json.Unmarshal(ev.ResponseElements, &resp)
		if ev.EventSource != "license-manager.amazonaws.com" || (ev.ErrorCode == "" && resp.LicenseArn == "") {
			t.Errorf("CreateLicense event %s: source %s, error %q, response %s", ev.EventID, ev.EventSource, ev.ErrorCode, ev.ResponseElements)
		}
		recorded = append(recorded, resp.LicenseArn)
	}
	if !slices.Contains(recorded, arn) || !slices.Contains(recorded, arn2) {
		t.Errorf("CreateLicense events record %v, want %s and %s", recorded, arn, arn2)
	}

	// A user allowed GetLicense on the other license only is denied this one, with the cause.
	ic := iam.NewFromConfig(s.configFor(admin))
	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("reader")}); err != nil {
		t.Fatal(err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"license-manager:GetLicense","Resource":"` + arn2 + `"}]}`
	if _, err := ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("one"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	key, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("reader")})
	if err != nil {
		t.Fatal(err)
	}
	reader := lm.NewFromConfig(s.configFor(creds{keyID: *key.AccessKey.AccessKeyId, secret: *key.AccessKey.SecretAccessKey}))
	_, err = reader.GetLicense(ctx, &lm.GetLicenseInput{LicenseArn: aws.String(arn)})
	wantTyped[*lmtypes.AccessDeniedException](t, "GetLicense(other license) as reader", err)
	wantAPIError(t, "GetLicense(other license) as reader", err, "AccessDeniedException", "license-manager:GetLicense on resource: "+arn)
	if _, err := reader.GetLicense(ctx, &lm.GetLicenseInput{LicenseArn: aws.String(arn2)}); err != nil {
		t.Errorf("GetLicense(allowed license) as reader: %v", err)
	}
}

// TestLicenses_Tags tags, lists and untags a license with the AWS SDK for Go: CreateLicense's
// tags, the 50-tag limit, case-sensitive keys and the errors for other ARNs.
func TestLicenses_Tags(t *testing.T) { testLicenseTags(t, startServer(t, serverOptions{})) }

// TestLicenses_TagsPostgres runs the same test against a server on PostgreSQL.
func TestLicenses_TagsPostgres(t *testing.T) {
	testLicenseTags(t, startServer(t, serverOptions{database: postgresDatabase(t)}))
}

func testLicenseTags(t *testing.T, s *server) {
	ctx := context.Background()
	admin := orgAdmin(t, s)
	c := lm.NewFromConfig(s.configFor(admin))
	created, err := c.CreateLicense(ctx, newLicenseInput("DM-TAGS", "tags-1"))
	if err != nil {
		t.Fatalf("CreateLicense: %v", err)
	}
	arn := aws.ToString(created.LicenseArn)
	list := func(what string) map[string]string {
		t.Helper()
		out, err := c.ListTagsForResource(ctx, &lm.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("ListTagsForResource(%s): %v", what, err)
		}
		m := map[string]string{}
		for _, tg := range out.Tags {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		return m
	}
	// CreateLicense's tags are the license's.
	if got := list("after CreateLicense"); len(got) != 1 || got["team"] != "sales" {
		t.Errorf("tags after CreateLicense = %v, want team=sales", got)
	}
	// Tag: a new key, an existing key's new value, and a key differing only in case.
	_, err = c.TagResource(ctx, &lm.TagResourceInput{ResourceArn: aws.String(arn), Tags: []lmtypes.Tag{
		{Key: aws.String("cost-center"), Value: aws.String("42")}, {Key: aws.String("team"), Value: aws.String("support")},
		{Key: aws.String("Team"), Value: aws.String("ops")}, {Key: aws.String("empty"), Value: aws.String("")}}})
	if err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if got := list("after TagResource"); len(got) != 4 || got["team"] != "support" || got["Team"] != "ops" || got["cost-center"] != "42" || got["empty"] != "" {
		t.Errorf("tags after TagResource = %v", got)
	}
	// Untag; keys are case-sensitive and unknown ones ignored.
	if _, err := c.UntagResource(ctx, &lm.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"Team", "COST-CENTER", "absent"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	if got := list("after UntagResource"); len(got) != 3 || got["team"] != "support" || got["cost-center"] != "42" {
		t.Errorf("tags after UntagResource = %v, want team, cost-center and empty", got)
	}
	// More than 50 tags, in one request or in all, are refused.
	var many []lmtypes.Tag
	for i := range 51 {
		many = append(many, lmtypes.Tag{Key: aws.String("k" + strconv.Itoa(i)), Value: aws.String("v")})
	}
	_, err = c.TagResource(ctx, &lm.TagResourceInput{ResourceArn: aws.String(arn), Tags: many})
	wantTyped[*lmtypes.ValidationException](t, "TagResource(51 tags)", err)
	_, err = c.TagResource(ctx, &lm.TagResourceInput{ResourceArn: aws.String(arn), Tags: many[:48]})
	wantAPIError(t, "TagResource(51 in all)", err, "ValidationException", "more than 50 tags")
	if got := list("after refused tags"); len(got) != 3 {
		t.Errorf("tags after refused TagResource = %d, want 3", len(got))
	}
	_, err = c.TagResource(ctx, &lm.TagResourceInput{ResourceArn: aws.String(arn), Tags: []lmtypes.Tag{{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("v")}}})
	wantTyped[*lmtypes.ValidationException](t, "TagResource(129-character key)", err)
	// An unknown license, and an ARN of another kind, are InvalidParameterValueException naming it.
	unknown := "arn:aws:license-manager::" + rootAccount + ":license:l-00000000000000000000000000000000"
	other := "arn:aws:license-manager:" + region + ":" + rootAccount + ":license-configuration:lic-0123456789abcdef0123456789abcdef"
	for _, a := range []string{unknown, other} {
		_, err = c.TagResource(ctx, &lm.TagResourceInput{ResourceArn: aws.String(a), Tags: []lmtypes.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
		wantAPIError(t, "TagResource("+a+")", err, "InvalidParameterValueException", a)
		_, err = c.UntagResource(ctx, &lm.UntagResourceInput{ResourceArn: aws.String(a), TagKeys: []string{"a"}})
		wantTyped[*lmtypes.InvalidParameterValueException](t, "UntagResource("+a+")", err)
		_, err = c.ListTagsForResource(ctx, &lm.ListTagsForResourceInput{ResourceArn: aws.String(a)})
		wantAPIError(t, "ListTagsForResource("+a+")", err, "InvalidParameterValueException", a)
	}
	// Each change is in the audit trail.
	if evs := lookupAll(t, s, "TagResource", 50); len(evs) == 0 {
		t.Errorf("no TagResource event in the audit trail")
	}
}

// TestLicenses_CLI creates and reads a license with the AWS CLI v2.
func TestLicenses_CLI(t *testing.T) {
	cli := requireTool(t, "AWS CLI v2", awsCLIs(t)["v2"])
	s := startServer(t, serverOptions{})
	admin := orgAdmin(t, s)
	var created struct{ LicenseArn, Status, Version string }
	args := []string{"license-manager", "create-license", "--license-name", "CLI license", "--product-name", "DataMasque",
		"--product-sku", "DM-CLI", "--issuer", "Name=Vendor", "--home-region", region,
		"--validity", "Begin=2026-01-01T00:00:00Z", "--entitlements", "Name=Seats,Unit=Count,MaxCount=5",
		"--beneficiary", "billing", "--consumption-configuration", "ProvisionalConfiguration={MaxTimeToLiveInMinutes=60}",
		"--client-token", "cli-1"}
	mustCLI(t, s, cli, admin, &created, args...)
	if !licenseARNRE.MatchString(created.LicenseArn) || created.Status != "AVAILABLE" || created.Version != "1" {
		t.Fatalf("create-license = %+v", created)
	}
	var again struct{ LicenseArn string }
	mustCLI(t, s, cli, admin, &again, args...)
	if again.LicenseArn != created.LicenseArn {
		t.Errorf("create-license (same --client-token) = %s, want %s", again.LicenseArn, created.LicenseArn)
	}
	var got struct {
		License struct {
			LicenseArn, ProductSKU, CreateTime string
			Validity                           struct{ Begin string }
			Issuer                             struct{ KeyFingerprint string }
		}
	}
	mustCLI(t, s, cli, admin, &got, "license-manager", "get-license", "--license-arn", created.LicenseArn)
	if got.License.ProductSKU != "DM-CLI" || got.License.Validity.Begin != "2026-01-01T00:00:00Z" || got.License.CreateTime == "" ||
		got.License.Issuer.KeyFingerprint != "aws:"+rootAccount+":Vendor:issuer-fingerprint" {
		t.Errorf("get-license = %+v", got.License)
	}
	// This CLI's create-license has no --tags: tag with the SDK, list with the CLI.
	_, err := lm.NewFromConfig(s.configFor(admin)).TagResource(context.Background(), &lm.TagResourceInput{
		ResourceArn: aws.String(created.LicenseArn), Tags: []lmtypes.Tag{{Key: aws.String("team"), Value: aws.String("cli")}}})
	if err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	var tags struct{ Tags []struct{ Key, Value string } }
	mustCLI(t, s, cli, admin, &tags, "license-manager", "list-tags-for-resource", "--resource-arn", created.LicenseArn)
	if len(tags.Tags) != 1 || tags.Tags[0].Key != "team" || tags.Tags[0].Value != "cli" {
		t.Errorf("list-tags-for-resource = %+v, want team=cli", tags.Tags)
	}
	_, stderr, code := s.cliAs(t, cli, admin, "license-manager", "get-license", "--license-arn",
		"arn:aws:license-manager::"+rootAccount+":license:l-00000000000000000000000000000000")
	if code == 0 || !strings.Contains(stderr, "InvalidParameterValueException") {
		t.Errorf("get-license(unknown): exit %d, %s", code, stderr)
	}
}
