package test

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
)

const reportBucket = "aws-license-manager-service-audit"

// reportSetUp sets the account's report bucket and makes a Core configuration with two
// instances launched through the EC2 subset; it returns the configuration's ARN.
func reportSetUp(t *testing.T, ctx context.Context, lmc *lm.Client, ec2c *ec2.Client) string {
	t.Helper()
	if _, err := lmc.UpdateServiceSettings(ctx, &lm.UpdateServiceSettingsInput{S3BucketArn: aws.String("arn:aws:s3:::" + reportBucket)}); err != nil {
		t.Fatalf("UpdateServiceSettings: %v", err)
	}
	cfg, err := lmc.CreateLicenseConfiguration(ctx, &lm.CreateLicenseConfigurationInput{Name: aws.String("Server OS"),
		LicenseCountingType: lmtypes.LicenseCountingTypeCore, LicenseCount: aws.Int64(32), LicenseCountHardLimit: aws.Bool(true)})
	if err != nil {
		t.Fatalf("CreateLicenseConfiguration: %v", err)
	}
	image, err := ec2c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("server-os")})
	if err != nil {
		t.Fatalf("RegisterImage: %v", err)
	}
	for _, typ := range []ec2types.InstanceType{ec2types.InstanceTypeM52xlarge, ec2types.InstanceTypeM5Xlarge} {
		if _, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: image.ImageId, InstanceType: typ, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			LicenseSpecifications: []ec2types.LicenseConfigurationRequest{{LicenseConfigurationArn: cfg.LicenseConfigurationArn}}}); err != nil {
			t.Fatalf("RunInstances(%s): %v", typ, err)
		}
	}
	return aws.ToString(cfg.LicenseConfigurationArn)
}

// waitForRun polls a report generator until a run after the one at prev (nil: none) has
// finished, and returns it; it fails after a deadline.
func waitForRun(t *testing.T, ctx context.Context, lmc *lm.Client, arn string, prev *string) *lmtypes.ReportGenerator {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := lmc.GetLicenseManagerReportGenerator(ctx, &lm.GetLicenseManagerReportGeneratorInput{LicenseManagerReportGeneratorArn: aws.String(arn)})
		if err != nil {
			t.Fatalf("GetLicenseManagerReportGenerator: %v", err)
		}
		g := out.ReportGenerator
		if g.LastRunStatus != nil && (prev == nil || aws.ToString(g.LastReportGenerationTime) != *prev) {
			return g
		}
		if time.Now().After(deadline) {
			t.Fatalf("report generator %s: no new run within 30s (LastRunStatus %v)", arn, aws.ToString(g.LastRunStatus))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// findReports returns the report files of a type under dir/bucket/Reports/name.
func findReports(t *testing.T, dir, name, typ string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, reportBucket, "Reports", name, "*", "*", "*", "*-"+typ+".csv"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

func readReport(t *testing.T, path string) (header []string, rows []map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil || len(all) == 0 {
		t.Fatalf("%s: %d records, %v", path, len(all), err)
	}
	for _, r := range all[1:] {
		m := map[string]string{}
		for i, h := range all[0] {
			m[h] = r[i]
		}
		rows = append(rows, m)
	}
	return all[0], rows
}

// TestReports drives report generators with the AWS SDK for Go v2: a ONE_TIME generator
// writes its reports into the report directory once, with the rows the API lists; an
// update writes new ones; bad input gets the documented errors; tags; delete.
func TestReports(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, serverOptions{args: []string{"--report-dir", dir}})
	ctx := context.Background()
	cfg := s.awsConfig(rootKeyID, rootSecret)
	lmc, ec2c := lm.NewFromConfig(cfg), ec2.NewFromConfig(cfg)
	config := reportSetUp(t, ctx, lmc, ec2c)

	created, err := lmc.CreateLicenseManagerReportGenerator(ctx, &lm.CreateLicenseManagerReportGeneratorInput{
		ReportGeneratorName: aws.String("audit"), ClientToken: aws.String("audit-1"), Description: aws.String("for the vendor"),
		Type:            []lmtypes.ReportType{lmtypes.ReportTypeLicenseConfigurationSummaryReport, lmtypes.ReportTypeLicenseConfigurationUsageReport},
		ReportContext:   &lmtypes.ReportContext{LicenseConfigurationArns: []string{config}},
		ReportFrequency: &lmtypes.ReportFrequency{Period: lmtypes.ReportFrequencyTypeOneTime, Value: aws.Int32(1)},
		Tags:            []lmtypes.Tag{{Key: aws.String("team"), Value: aws.String("it")}},
	})
	if err != nil {
		t.Fatalf("CreateLicenseManagerReportGenerator: %v", err)
	}
	arn := aws.ToString(created.LicenseManagerReportGeneratorArn)
	g := waitForRun(t, ctx, lmc, arn, nil)
	if aws.ToString(g.LastRunStatus) != "SUCCESS" || g.LastRunFailureReason != nil || aws.ToString(g.ReportGeneratorName) != "audit" ||
		aws.ToString(g.ReportCreatorAccount) != rootAccount || g.ReportFrequency.Period != lmtypes.ReportFrequencyTypeOneTime ||
		!slices.Equal(g.ReportContext.LicenseConfigurationArns, []string{config}) || len(g.Tags) != 1 ||
		aws.ToString(g.S3Location.Bucket) != reportBucket || aws.ToString(g.S3Location.KeyPrefix) != "Reports/audit" {
		t.Fatalf("after the first run: %+v", g)
	}
	if _, err := time.Parse(time.RFC3339, aws.ToString(g.CreateTime)); err != nil {
		t.Errorf("CreateTime %q: %v", aws.ToString(g.CreateTime), err)
	}

	// The usage report has the rows ListUsageForLicenseConfiguration lists.
	usage, err := lmc.ListUsageForLicenseConfiguration(ctx, &lm.ListUsageForLicenseConfigurationInput{LicenseConfigurationArn: aws.String(config)})
	if err != nil {
		t.Fatal(err)
	}
	files := findReports(t, dir, "audit", "LicenseConfigurationUsageReport")
	if len(files) != 1 {
		t.Fatalf("usage reports %v, want 1", files)
	}
	_, rows := readReport(t, files[0])
	if len(rows) != len(usage.LicenseConfigurationUsageList) || len(rows) != 2 {
		t.Fatalf("usage report has %d rows, the API lists %d resources", len(rows), len(usage.LicenseConfigurationUsageList))
	}
	for i, u := range usage.LicenseConfigurationUsageList {
		r := rows[i]
		if r["LicenseConfigurationArn"] != config || r["ResourceArn"] != aws.ToString(u.ResourceArn) || r["ResourceType"] != string(u.ResourceType) ||
			r["ResourceStatus"] != aws.ToString(u.ResourceStatus) || r["ResourceOwnerId"] != aws.ToString(u.ResourceOwnerId) ||
			r["ConsumedLicenses"] != strconv.FormatInt(aws.ToInt64(u.ConsumedLicenses), 10) ||
			r["AssociationTime"] != u.AssociationTime.UTC().Format("2006-01-02T15:04:05Z") {
			t.Errorf("usage row %d = %v, API %+v", i, r, u)
		}
	}
	summaries := findReports(t, dir, "audit", "LicenseConfigurationSummaryReport")
	if len(summaries) != 1 {
		t.Fatalf("summary reports %v, want 1", summaries)
	}
	if _, rows := readReport(t, summaries[0]); len(rows) != 1 || rows[0]["ConsumedLicenses"] != "6" || rows[0]["LicenseCount"] != "32" {
		t.Errorf("summary rows %v, want one with 6 of 32 cores consumed", rows)
	}

	// An update starts a new report; the ONE_TIME generator runs once per change, not again.
	if _, err := lmc.UpdateLicenseManagerReportGenerator(ctx, &lm.UpdateLicenseManagerReportGeneratorInput{
		LicenseManagerReportGeneratorArn: aws.String(arn), ReportGeneratorName: aws.String("audit"), ClientToken: aws.String("audit-upd-1"),
		Type:            []lmtypes.ReportType{lmtypes.ReportTypeLicenseConfigurationUsageReport},
		ReportContext:   &lmtypes.ReportContext{LicenseConfigurationArns: []string{config}},
		ReportFrequency: &lmtypes.ReportFrequency{Period: lmtypes.ReportFrequencyTypeOneTime},
	}); err != nil {
		t.Fatalf("UpdateLicenseManagerReportGenerator: %v", err)
	}
	g = waitForRun(t, ctx, lmc, arn, g.LastReportGenerationTime)
	if aws.ToString(g.LastRunStatus) != "SUCCESS" || len(g.ReportType) != 1 {
		t.Fatalf("after the update: %+v", g)
	}
	if files := findReports(t, dir, "audit", "LicenseConfigurationUsageReport"); len(files) != 2 {
		t.Fatalf("usage reports after the update %v, want 2", files)
	}
	if files := findReports(t, dir, "audit", "LicenseConfigurationSummaryReport"); len(files) != 1 {
		t.Fatalf("summary reports after the update %v, want still 1", files)
	}

	// Bad input: the documented errors, typed by the SDK.
	bad := func(edit func(*lm.CreateLicenseManagerReportGeneratorInput)) error {
		in := &lm.CreateLicenseManagerReportGeneratorInput{
			ReportGeneratorName: aws.String("bad"), ClientToken: aws.String(fmt.Sprint("bad-", time.Now().UnixNano())),
			Type:            []lmtypes.ReportType{lmtypes.ReportTypeLicenseConfigurationUsageReport},
			ReportContext:   &lmtypes.ReportContext{LicenseConfigurationArns: []string{config}},
			ReportFrequency: &lmtypes.ReportFrequency{Period: lmtypes.ReportFrequencyTypeDay, Value: aws.Int32(1)},
		}
		edit(in)
		_, err := lmc.CreateLicenseManagerReportGenerator(ctx, in)
		return err
	}
	var validation *lmtypes.ValidationException
	var invalid *lmtypes.InvalidParameterValueException
	var notFound *lmtypes.ResourceNotFoundException
	if err := bad(func(in *lm.CreateLicenseManagerReportGeneratorInput) { in.ReportFrequency.Period = "YEAR" }); !errors.As(err, &validation) {
		t.Errorf("period YEAR: %v, want ValidationException", err)
	}
	if err := bad(func(in *lm.CreateLicenseManagerReportGeneratorInput) { in.ReportFrequency.Value = aws.Int32(0) }); !errors.As(err, &invalid) {
		t.Errorf("value 0: %v, want InvalidParameterValueException", err)
	}
	if err := bad(func(in *lm.CreateLicenseManagerReportGeneratorInput) {
		in.ReportContext.LicenseConfigurationArns = []string{"arn:aws:license-manager:" + region + ":" + rootAccount + ":license-configuration:lic-" + strings.Repeat("0", 32)}
	}); !errors.As(err, &invalid) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("unknown configuration: %v, want InvalidParameterValueException", err)
	}
	if err := bad(func(in *lm.CreateLicenseManagerReportGeneratorInput) {
		in.ReportGeneratorName = aws.String(strings.Repeat("n", 101))
	}); !errors.As(err, &validation) {
		t.Errorf("a name of 101 characters: %v, want ValidationException", err)
	}
	list, err := lmc.ListLicenseManagerReportGenerators(ctx, &lm.ListLicenseManagerReportGeneratorsInput{
		Filters: []lmtypes.Filter{{Name: aws.String("LicenseConfigurationArn"), Values: []string{config}}}})
	if err != nil || len(list.ReportGenerators) != 1 || aws.ToString(list.ReportGenerators[0].LicenseManagerReportGeneratorArn) != arn {
		t.Fatalf("ListLicenseManagerReportGenerators = %+v, %v; want the one generator", list, err)
	}

	// Tags go through TagResource and the rest, as on other License Manager resources.
	if _, err := lmc.TagResource(ctx, &lm.TagResourceInput{ResourceArn: aws.String(arn), Tags: []lmtypes.Tag{{Key: aws.String("cost"), Value: aws.String("42")}}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if _, err := lmc.UntagResource(ctx, &lm.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"team"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	tags, err := lmc.ListTagsForResource(ctx, &lm.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "cost" {
		t.Fatalf("ListTagsForResource = %+v, %v; want cost only", tags, err)
	}

	// Delete: the generator is gone, its reports stay.
	if _, err := lmc.DeleteLicenseManagerReportGenerator(ctx, &lm.DeleteLicenseManagerReportGeneratorInput{LicenseManagerReportGeneratorArn: aws.String(arn)}); err != nil {
		t.Fatalf("DeleteLicenseManagerReportGenerator: %v", err)
	}
	if _, err := lmc.GetLicenseManagerReportGenerator(ctx, &lm.GetLicenseManagerReportGeneratorInput{LicenseManagerReportGeneratorArn: aws.String(arn)}); !errors.As(err, &notFound) {
		t.Errorf("Get after delete: %v, want ResourceNotFoundException", err)
	}
	if n := len(findReports(t, dir, "audit", "LicenseConfigurationUsageReport")); n != 2 {
		t.Errorf("%d usage reports after delete, want the 2 written", n)
	}
}

// TestReports_TwoNodesPostgres runs two servers on one PostgreSQL database with one report
// directory: each due report is written once, by whichever server claims it.
func TestReports_TwoNodesPostgres(t *testing.T) {
	dsn := postgresDatabase(t)
	dir := t.TempDir()
	key := "ALLOT_MASTER_KEY=" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	var nodes [2]*server
	for i := range nodes {
		nodes[i] = startServer(t, serverOptions{database: dsn, env: []string{key, fmt.Sprintf("ALLOT_NODE_ID=reports-%d", i)},
			args: []string{"--report-dir", dir}})
	}
	ctx := context.Background()
	clients := [2]*lm.Client{}
	for i, n := range nodes {
		clients[i] = lm.NewFromConfig(n.awsConfig(rootKeyID, rootSecret))
	}
	cfg := nodes[0].awsConfig(rootKeyID, rootSecret)
	config := reportSetUp(t, ctx, clients[0], ec2.NewFromConfig(cfg))

	const generators = 10
	arns := make([]string, generators)
	var wg sync.WaitGroup
	for i := range generators {
		wg.Go(func() {
			out, err := clients[i%2].CreateLicenseManagerReportGenerator(ctx, &lm.CreateLicenseManagerReportGeneratorInput{
				ReportGeneratorName: aws.String(fmt.Sprint("daily-", i)), ClientToken: aws.String(fmt.Sprint("daily-", i)),
				Type:            []lmtypes.ReportType{lmtypes.ReportTypeLicenseConfigurationSummaryReport},
				ReportContext:   &lmtypes.ReportContext{LicenseConfigurationArns: []string{config}},
				ReportFrequency: &lmtypes.ReportFrequency{Period: lmtypes.ReportFrequencyTypeDay, Value: aws.Int32(1)},
			})
			if err != nil {
				t.Errorf("CreateLicenseManagerReportGenerator %d: %v", i, err)
				return
			}
			arns[i] = aws.ToString(out.LicenseManagerReportGeneratorArn)
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, arn := range arns {
		if g := waitForRun(t, ctx, clients[1], arn, nil); aws.ToString(g.LastRunStatus) != "SUCCESS" {
			t.Errorf("%s: LastRunStatus %q (%s)", arn, aws.ToString(g.LastRunStatus), aws.ToString(g.LastRunFailureReason))
		}
	}
	// Give both schedulers (each looks every second) two more looks, in which a run claimed
	// twice would have written a second report; the test does not fail for being slow.
	time.Sleep(2 * time.Second)
	for i := range generators {
		if files := findReports(t, dir, fmt.Sprint("daily-", i), "LicenseConfigurationSummaryReport"); len(files) != 1 {
			t.Errorf("generator %d wrote %d reports %v, want 1", i, len(files), files)
		}
	}
}
