package licenseconfig

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/authz"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/secrets"
	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

// rgStores runs test on SQLite and, when ALLOT_TEST_POSTGRES_DSN is set, on PostgreSQL.
func rgStores(t *testing.T, test func(t *testing.T, f *fixture, reports *Reports)) {
	t.Run("sqlite", func(t *testing.T) {
		f := rgFixture(t, filepath.Join(t.TempDir(), "allot.db"), storetest.NewBox(t))
		test(t, f, &Reports{DB: f.db, Dir: t.TempDir(), Logger: storetest.Quiet()})
	})
	t.Run("postgres", func(t *testing.T) {
		f := rgFixture(t, storetest.PostgresDSN(t), storetest.NewBox(t))
		test(t, f, &Reports{DB: f.db, Dir: t.TempDir(), Logger: storetest.Quiet()})
	})
}

// rgFixture opens dsn and makes the two accounts of fixture.
func rgFixture(t *testing.T, dsn string, box *secrets.Box) *fixture {
	db := storetest.OpenDSN(t, dsn, box, store.Options{})
	f := &fixture{t: t, ctx: context.Background(), db: db, svc: &Service{DB: db, Logger: storetest.Quiet()},
		caller: identity.Root("111122223333", "AKIACALLER"), other: identity.Root("444455556666", "AKIAOTHER")}
	for _, p := range []*identity.Principal{f.caller, f.other} {
		if err := db.Update(f.ctx, func(tx *store.Tx) error {
			return tx.CreateAccount(f.ctx, &store.Account{ID: p.AccountID, Name: "a", Status: "ACTIVE", CreatedAt: tx.Now()})
		}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// usedConfig makes a configuration of 64 cores with two running instances of 8 and 16 cores
// and a stopped one (associated, consuming nothing), and returns its ARN.
func (f *fixture) usedConfig() string {
	f.t.Helper()
	arn := f.create(&CreateLicenseConfigurationInput{Name: "Server OS", Description: ptr("cores"), LicenseCountingType: CountCore,
		LicenseCount: ptr[int64](64), LicenseCountHardLimit: ptr(true), LicenseRules: []string{"#minimumCores=4"}})
	for _, r := range []struct {
		id, state string
		cores     int64
	}{{"i-0000000000000000a", "running", 8}, {"i-0000000000000000b", "running", 16}, {"i-0000000000000000c", "stopped", 8}} {
		res := f.resource(store.ResourceInstance, r.id, r.state, r.cores)
		if err := f.associate(res.ARN, []string{arn}, nil); err != nil {
			f.t.Fatalf("associate %s: %v", r.id, err)
		}
	}
	return arn
}

func (f *fixture) setBucket(name string) {
	f.t.Helper()
	arn := ""
	if name != "" {
		arn = "arn:aws:s3:::" + name
	}
	if _, err := f.svc.UpdateServiceSettings(f.ctx, f.caller, &UpdateServiceSettingsInput{S3BucketArn: &arn}); err != nil {
		f.t.Fatalf("UpdateServiceSettings: %v", err)
	}
}

func reportInput(config, period, token string, types ...string) *CreateLicenseManagerReportGeneratorInput {
	return &CreateLicenseManagerReportGeneratorInput{
		ReportGeneratorName: "monthly audit", Type: types, ClientToken: token, Description: ptr("for the vendor audit"),
		ReportContext:   &ReportContext{LicenseConfigurationArns: []string{config}},
		ReportFrequency: &ReportFrequency{Value: ptr[int32](1), Period: ptr(period)},
		Tags:            []Tag{{Key: ptr("team"), Value: ptr("it")}},
	}
}

func (f *fixture) createReport(in *CreateLicenseManagerReportGeneratorInput) string {
	f.t.Helper()
	out, err := f.svc.CreateLicenseManagerReportGenerator(f.ctx, f.caller, in)
	if err != nil {
		f.t.Fatalf("CreateLicenseManagerReportGenerator: %v", err)
	}
	return out.LicenseManagerReportGeneratorArn
}

func (f *fixture) getReport(arn string) *ReportGenerator {
	f.t.Helper()
	out, err := f.svc.GetLicenseManagerReportGenerator(f.ctx, f.caller, &GetLicenseManagerReportGeneratorInput{LicenseManagerReportGeneratorArn: arn})
	if err != nil {
		f.t.Fatalf("GetLicenseManagerReportGenerator: %v", err)
	}
	return out.ReportGenerator
}

// runDue runs the due reports at now and checks how many ran.
func runDue(t *testing.T, r *Reports, now time.Time, want int) {
	t.Helper()
	n, err := r.RunDueReports(context.Background(), now)
	if err != nil {
		t.Fatalf("RunDueReports(%s): %v", now.Format(time.RFC3339), err)
	}
	if n != want {
		t.Fatalf("RunDueReports(%s) made %d runs, want %d", now.Format(time.RFC3339), n, want)
	}
}

// reportFiles returns the report files under dir (paths relative to it, sorted), failing on
// a temporary file left behind.
func reportFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if !strings.HasSuffix(rel, ".csv") || strings.HasPrefix(d.Name(), ".") {
			t.Errorf("unexpected file %s in the report directory", rel)
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// column returns the value of the named column in row.
func column(t *testing.T, header, row []string, name string) string {
	t.Helper()
	i := slices.Index(header, name)
	if i < 0 {
		t.Fatalf("no column %q in %v", name, header)
	}
	return row[i]
}

func TestReports_OneTimeAndUpdate(t *testing.T) {
	rgStores(t, func(t *testing.T, f *fixture, reports *Reports) {
		config := f.usedConfig()
		f.setBucket("aws-license-manager-service-audit")
		arn := f.createReport(reportInput(config, "ONE_TIME", "tok-1", ReportLicenseConfigurationSummary, ReportLicenseConfigurationUsage))
		if !IsReportGeneratorARN(arn) || !strings.HasPrefix(arn, "arn:aws:license-manager:us-east-1:111122223333:report-generator:r-") {
			t.Fatalf("ARN %s", arn)
		}
		g := f.getReport(arn)
		if g.ReportGeneratorName != "monthly audit" || g.Description != "for the vendor audit" || len(g.ReportType) != 2 ||
			!slices.Equal(g.ReportContext.LicenseConfigurationArns, []string{config}) || *g.ReportFrequency.Period != "ONE_TIME" ||
			*g.ReportFrequency.Value != 1 || g.ReportCreatorAccount != "111122223333" || g.LastRunStatus != "" || g.LastReportGenerationTime != nil ||
			g.S3Location == nil || g.S3Location.Bucket != "aws-license-manager-service-audit" || g.S3Location.KeyPrefix != "Reports/monthly audit" ||
			len(g.Tags) != 1 || g.CreateTime.IsZero() {
			t.Fatalf("GetLicenseManagerReportGenerator = %+v", g)
		}
		// A retry with the same ClientToken returns the same generator.
		if again := f.createReport(reportInput(config, "ONE_TIME", "tok-1", ReportLicenseConfigurationSummary, ReportLicenseConfigurationUsage)); again != arn {
			t.Fatalf("retried create = %s, want %s", again, arn)
		}

		now := g.CreateTime.Add(time.Second)
		runDue(t, reports, now, 1)
		runDue(t, reports, now.Add(48*time.Hour), 0) // ONE_TIME: once
		g = f.getReport(arn)
		if g.LastRunStatus != "SUCCESS" || g.LastRunFailureReason != "" || g.LastReportGenerationTime == nil || !g.LastReportGenerationTime.Equal(now.Truncate(time.Microsecond)) {
			t.Fatalf("after the run: status %q reason %q time %v", g.LastRunStatus, g.LastRunFailureReason, g.LastReportGenerationTime)
		}
		id := arn[strings.LastIndex(arn, ":")+1:]
		day := now.UTC().Format("2006/01/02")
		files := reportFiles(t, reports.Dir)
		want := []string{
			"aws-license-manager-service-audit/Reports/monthly audit/" + day + "/" + id + "-000001-LicenseConfigurationSummaryReport.csv",
			"aws-license-manager-service-audit/Reports/monthly audit/" + day + "/" + id + "-000001-LicenseConfigurationUsageReport.csv",
		}
		if !slices.Equal(files, want) {
			t.Fatalf("report files %v, want %v", files, want)
		}

		// The summary: one row, as GetLicenseConfiguration shows the configuration.
		rows := readCSV(t, filepath.Join(reports.Dir, want[0]))
		if len(rows) != 2 {
			t.Fatalf("summary has %d rows, want a header and 1", len(rows))
		}
		h, r := rows[0], rows[1]
		for name, v := range map[string]string{"LicenseConfigurationArn": config, "Name": "Server OS", "LicenseCountingType": "Core",
			"LicenseCount": "64", "LicenseCountHardLimit": "true", "ConsumedLicenses": "24", "Status": "AVAILABLE",
			"OwnerAccountId": "111122223333", "LicenseRules": "#minimumCores=4", "ConsumedLicenses:EC2_INSTANCE": "24",
			"AssociationCount:EC2_INSTANCE": "3", "ConsumedLicenses:EC2_HOST": "0", "ReportTime": now.UTC().Format(reportTime)} {
			if got := column(t, h, r, name); got != v {
				t.Errorf("summary %s = %q, want %q", name, got, v)
			}
		}

		// The usage: the resources ListUsageForLicenseConfiguration lists, with the same values.
		usage, err := f.svc.ListUsageForLicenseConfiguration(f.ctx, f.caller, &ListUsageForLicenseConfigurationInput{LicenseConfigurationArn: config})
		if err != nil {
			t.Fatal(err)
		}
		rows = readCSV(t, filepath.Join(reports.Dir, want[1]))
		if len(rows) != 1+len(usage.LicenseConfigurationUsageList) || len(rows) != 3 {
			t.Fatalf("usage report has %d rows, want a header and %d", len(rows), len(usage.LicenseConfigurationUsageList))
		}
		for i, u := range usage.LicenseConfigurationUsageList {
			r := rows[i+1]
			for name, v := range map[string]string{"LicenseConfigurationArn": config, "ResourceArn": u.ResourceArn, "ResourceType": u.ResourceType,
				"ResourceStatus": u.ResourceStatus, "ResourceOwnerId": u.ResourceOwnerId, "ConsumedLicenses": itoa(u.ConsumedLicenses),
				"AssociationTime": u.AssociationTime.UTC().Format(reportTime)} {
				if got := column(t, rows[0], r, name); got != v {
					t.Errorf("usage row %d %s = %q, want %q", i, name, got, v)
				}
			}
		}

		// An update starts a new report at once: a second run, with the new name and type.
		in := &UpdateLicenseManagerReportGeneratorInput{LicenseManagerReportGeneratorArn: arn, ReportGeneratorName: "renamed",
			Type: []string{ReportLicenseConfigurationUsage}, ReportContext: &ReportContext{LicenseConfigurationArns: []string{config}},
			ReportFrequency: &ReportFrequency{Period: ptr("ONE_TIME")}, ClientToken: "upd-1"}
		if _, err := f.svc.UpdateLicenseManagerReportGenerator(f.ctx, f.caller, in); err != nil {
			t.Fatalf("UpdateLicenseManagerReportGenerator: %v", err)
		}
		later := time.Now().Add(time.Second)
		runDue(t, reports, later, 1)
		// A retried update (same ClientToken, same parameters) asks for no further report.
		if _, err := f.svc.UpdateLicenseManagerReportGenerator(f.ctx, f.caller, in); err != nil {
			t.Fatalf("retried UpdateLicenseManagerReportGenerator: %v", err)
		}
		runDue(t, reports, later.Add(time.Second), 0)
		// So does a late retry of the create.
		if again := f.createReport(reportInput(config, "ONE_TIME", "tok-1", ReportLicenseConfigurationSummary, ReportLicenseConfigurationUsage)); again != arn {
			t.Fatalf("create retried after the update = %s, want %s", again, arn)
		}
		runDue(t, reports, later.Add(2*time.Second), 0)
		files = reportFiles(t, reports.Dir)
		second := "aws-license-manager-service-audit/Reports/renamed/" + later.UTC().Format("2006/01/02") + "/" + id + "-000002-LicenseConfigurationUsageReport.csv"
		if len(files) != 3 || !slices.Contains(files, second) {
			t.Fatalf("report files after the update %v, want the first two and %s", files, second)
		}
		if g := f.getReport(arn); g.ReportGeneratorName != "renamed" || g.Description != "" || g.LastRunStatus != "SUCCESS" || g.S3Location.KeyPrefix != "Reports/renamed" {
			t.Fatalf("after the update: %+v", g)
		}

		// List, with and without the configuration filter; delete leaves the reports.
		list, err := f.svc.ListLicenseManagerReportGenerators(f.ctx, f.caller, &ListLicenseManagerReportGeneratorsInput{
			Filters: []Filter{{Name: ptr("LicenseConfigurationArn"), Values: []string{config}}}})
		if err != nil || len(list.ReportGenerators) != 1 || list.ReportGenerators[0].LicenseManagerReportGeneratorArn != arn {
			t.Fatalf("ListLicenseManagerReportGenerators(config) = %+v, %v", list, err)
		}
		if _, err := f.svc.DeleteLicenseManagerReportGenerator(f.ctx, f.caller, &DeleteLicenseManagerReportGeneratorInput{LicenseManagerReportGeneratorArn: arn}); err != nil {
			t.Fatalf("DeleteLicenseManagerReportGenerator: %v", err)
		}
		_, err = f.svc.GetLicenseManagerReportGenerator(f.ctx, f.caller, &GetLicenseManagerReportGeneratorInput{LicenseManagerReportGeneratorArn: arn})
		wantCode(t, "Get after delete", err, codeResourceNotFound, "does not exist in account 111122223333")
		if n := len(reportFiles(t, reports.Dir)); n != 3 {
			t.Errorf("%d report files after delete, want the 3 written", n)
		}
	})
}

func TestReports_Schedule(t *testing.T) {
	rgStores(t, func(t *testing.T, f *fixture, reports *Reports) {
		config := f.usedConfig()
		arn := f.createReport(reportInput(config, "DAY", "daily", ReportLicenseConfigurationUsage))
		t0 := f.getReport(arn).CreateTime.Time
		runDue(t, reports, t0, 1) // the first run is due at creation
		runDue(t, reports, t0.Add(23*time.Hour), 0)
		runDue(t, reports, t0.Add(24*time.Hour), 1)
		runDue(t, reports, t0.Add(25*time.Hour), 0)
		// Days the server missed are not made up one by one: one run, then the next day's.
		runDue(t, reports, t0.Add(5*24*time.Hour+time.Hour), 1)
		runDue(t, reports, t0.Add(6*24*time.Hour-time.Second), 0)
		runDue(t, reports, t0.Add(6*24*time.Hour), 1)
		if n := len(reportFiles(t, reports.Dir)); n != 4 {
			t.Fatalf("%d reports after 4 runs", n)
		}
		if g := f.getReport(arn); g.LastRunStatus != "SUCCESS" || !g.LastReportGenerationTime.Equal(t0.Add(6*24*time.Hour)) {
			t.Fatalf("last run %q at %v", g.LastRunStatus, g.LastReportGenerationTime)
		}
	})
}

func TestNextReportRun(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct{ period, from, after, want string }{
		{"DAY", "2026-01-31T10:00:00Z", "2026-01-31T10:00:00Z", "2026-02-01T10:00:00Z"},
		{"DAY", "2026-01-31T10:00:00Z", "2026-02-03T09:00:00Z", "2026-02-03T10:00:00Z"},
		{"WEEK", "2026-01-31T10:00:00Z", "2026-02-07T10:00:01Z", "2026-02-14T10:00:00Z"},
		{"MONTH", "2026-01-31T10:00:00Z", "2026-01-31T10:00:00Z", "2026-02-28T10:00:00Z"},
		{"MONTH", "2026-01-31T10:00:00Z", "2026-02-28T10:00:00Z", "2026-03-31T10:00:00Z"},
		{"MONTH", "2026-01-31T10:00:00Z", "2028-02-01T00:00:00Z", "2028-02-29T10:00:00Z"},
		{"MONTH", "2026-12-15T00:00:00Z", "2027-01-14T23:59:59Z", "2027-01-15T00:00:00Z"},
		{"ONE_TIME", "2026-01-31T10:00:00Z", "2026-01-31T10:00:00Z", ""},
	}
	for _, c := range cases {
		got := nextReportRun(c.period, at(c.from), at(c.after))
		if c.want == "" && !got.IsZero() || c.want != "" && !got.Equal(at(c.want)) {
			t.Errorf("nextReportRun(%s, %s, %s) = %v, want %s", c.period, c.from, c.after, got, c.want)
		}
	}
}

func TestReports_Failures(t *testing.T) {
	f := rgFixture(t, filepath.Join(t.TempDir(), "allot.db"), storetest.NewBox(t))
	reports := &Reports{DB: f.db, Dir: t.TempDir(), Logger: storetest.Quiet()}
	config := f.usedConfig()

	// Without a bucket, creating a generator sets one, as License Manager creates a bucket.
	arn := f.createReport(reportInput(config, "WEEK", "w", ReportLicenseConfigurationSummary))
	st, err := f.svc.GetServiceSettings(f.ctx, f.caller, &GetServiceSettingsInput{})
	if err != nil || st.S3BucketArn != "arn:aws:s3:::aws-license-manager-service-111122223333" {
		t.Fatalf("settings after create: %+v, %v", st, err)
	}
	if g := f.getReport(arn); g.S3Location.Bucket != "aws-license-manager-service-111122223333" {
		t.Fatalf("S3Location %+v", g.S3Location)
	}

	// The bucket cleared afterwards: the run fails and says why.
	f.setBucket("")
	runDue(t, reports, time.Now(), 1)
	g := f.getReport(arn)
	if g.LastRunStatus != "FAILED" || !strings.Contains(g.LastRunFailureReason, "No S3 bucket is set") || g.LastReportGenerationTime == nil {
		t.Fatalf("without a bucket: %q %q", g.LastRunStatus, g.LastRunFailureReason)
	}
	if files := reportFiles(t, reports.Dir); len(files) != 0 {
		t.Fatalf("a failed run wrote %v", files)
	}

	// The report directory cannot be written: FAILED, without the server's paths.
	f.setBucket("aws-license-manager-service-x")
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := &Reports{DB: f.db, Dir: blocked, Logger: storetest.Quiet()}
	upd := &UpdateLicenseManagerReportGeneratorInput{LicenseManagerReportGeneratorArn: arn, ReportGeneratorName: "w", Type: []string{ReportLicenseConfigurationSummary},
		ReportContext: &ReportContext{LicenseConfigurationArns: []string{config}}, ReportFrequency: &ReportFrequency{Period: ptr("WEEK")}, ClientToken: "u1"}
	if _, err := f.svc.UpdateLicenseManagerReportGenerator(f.ctx, f.caller, upd); err != nil {
		t.Fatal(err)
	}
	runDue(t, bad, time.Now().Add(time.Second), 1)
	if g := f.getReport(arn); g.LastRunStatus != "FAILED" || !strings.Contains(g.LastRunFailureReason, "Could not write s3://aws-license-manager-service-x/Reports/w/") ||
		strings.Contains(g.LastRunFailureReason, blocked) {
		t.Fatalf("unwritable directory: %q %q", g.LastRunStatus, g.LastRunFailureReason)
	}

	// The configuration deleted (after its resources are gone): the run fails and says why.
	other := f.create(&CreateLicenseConfigurationInput{Name: "gone", LicenseCountingType: CountVCPU})
	upd.ReportContext.LicenseConfigurationArns, upd.ClientToken = []string{other}, "u2"
	if _, err := f.svc.UpdateLicenseManagerReportGenerator(f.ctx, f.caller, upd); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.DeleteLicenseConfiguration(f.ctx, f.caller, &DeleteLicenseConfigurationInput{LicenseConfigurationArn: other}); err != nil {
		t.Fatal(err)
	}
	runDue(t, reports, time.Now().Add(2*time.Second), 1)
	if g := f.getReport(arn); g.LastRunStatus != "FAILED" || !strings.Contains(g.LastRunFailureReason, other+" no longer exists") {
		t.Fatalf("configuration deleted: %q %q", g.LastRunStatus, g.LastRunFailureReason)
	}
}

func TestReports_Validation(t *testing.T) {
	f := rgFixture(t, filepath.Join(t.TempDir(), "allot.db"), storetest.NewBox(t))
	config := f.usedConfig()
	theirs, err := f.svc.CreateLicenseConfiguration(f.ctx, f.other, &CreateLicenseConfigurationInput{Name: "theirs", LicenseCountingType: CountCore})
	if err != nil {
		t.Fatal(err)
	}
	valid := f.createReport(reportInput(config, "MONTH", "valid", ReportLicenseConfigurationUsage))
	cases := []struct {
		name       string
		edit       func(*CreateLicenseManagerReportGeneratorInput)
		code, want string
	}{
		{"ErrNoName", func(in *CreateLicenseManagerReportGeneratorInput) { in.ReportGeneratorName = "" }, ErrValidation, "ReportGeneratorName is required"},
		{"ErrLongName", func(in *CreateLicenseManagerReportGeneratorInput) { in.ReportGeneratorName = strings.Repeat("n", 101) },
			ErrValidation, "at most 100 characters, not 101"},
		{"ErrNoToken", func(in *CreateLicenseManagerReportGeneratorInput) { in.ClientToken = "" }, ErrValidation, "ClientToken is required"},
		{"ErrLongToken", func(in *CreateLicenseManagerReportGeneratorInput) { in.ClientToken = strings.Repeat("t", 37) }, ErrValidation, "at most 36"},
		{"ErrNoType", func(in *CreateLicenseManagerReportGeneratorInput) { in.Type = nil }, ErrValidation, "Type is required"},
		{"ErrType", func(in *CreateLicenseManagerReportGeneratorInput) { in.Type = []string{"UsageReport"} }, ErrValidation, `not "UsageReport"`},
		{"ErrAssetGroupType", func(in *CreateLicenseManagerReportGeneratorInput) { in.Type = []string{"LicenseAssetGroupUsageReport"} },
			ErrInvalidParameterValue, "no license asset groups"},
		{"ErrNoContext", func(in *CreateLicenseManagerReportGeneratorInput) { in.ReportContext = nil }, ErrValidation, "ReportContext is required"},
		{"ErrNoConfig", func(in *CreateLicenseManagerReportGeneratorInput) { in.ReportContext.LicenseConfigurationArns = nil },
			ErrInvalidParameterValue, "exactly one license configuration, not 0"},
		{"ErrTwoConfigs", func(in *CreateLicenseManagerReportGeneratorInput) {
			in.ReportContext.LicenseConfigurationArns = []string{config, config}
		}, ErrInvalidParameterValue, "exactly one license configuration, not 2"},
		{"ErrNotAnARN", func(in *CreateLicenseManagerReportGeneratorInput) {
			in.ReportContext.LicenseConfigurationArns = []string{"lic-1"}
		}, ErrValidation, "must be an ARN"},
		{"ErrUnknownConfig", func(in *CreateLicenseManagerReportGeneratorInput) {
			in.ReportContext.LicenseConfigurationArns = []string{ConfigurationARN("us-east-1", "111122223333", "lic-00000000000000000000000000000000")}
		}, ErrInvalidParameterValue, "does not exist in account 111122223333"},
		{"ErrTheirConfig", func(in *CreateLicenseManagerReportGeneratorInput) {
			in.ReportContext.LicenseConfigurationArns = []string{theirs.LicenseConfigurationArn}
		}, ErrInvalidParameterValue, "does not exist in account 111122223333"},
		{"ErrNoFrequency", func(in *CreateLicenseManagerReportGeneratorInput) { in.ReportFrequency = nil }, ErrValidation, "ReportFrequency is required"},
		{"ErrPeriod", func(in *CreateLicenseManagerReportGeneratorInput) { in.ReportFrequency.Period = ptr("YEAR") }, ErrValidation, `not "YEAR"`},
		{"ErrNoPeriod", func(in *CreateLicenseManagerReportGeneratorInput) { in.ReportFrequency.Period = nil }, ErrValidation, "period is required"},
		{"ErrValueZero", func(in *CreateLicenseManagerReportGeneratorInput) { in.ReportFrequency.Value = ptr[int32](0) },
			ErrInvalidParameterValue, "value must be 1, not 0"},
		{"ErrValueTwo", func(in *CreateLicenseManagerReportGeneratorInput) { in.ReportFrequency.Value = ptr[int32](2) },
			ErrInvalidParameterValue, "value must be 1, not 2"},
		{"ErrTag", func(in *CreateLicenseManagerReportGeneratorInput) { in.Tags = []Tag{{Value: ptr("v")}} }, ErrValidation, "Tags[0].Key is required"},
		{"ErrTokenReused", func(in *CreateLicenseManagerReportGeneratorInput) { in.ClientToken = "valid" }, ErrInvalidParameterValue, "with other parameters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := reportInput(config, "DAY", "case-"+c.name, ReportLicenseConfigurationSummary)
			c.edit(in)
			_, err := f.svc.CreateLicenseManagerReportGenerator(f.ctx, f.caller, in)
			wantCode(t, "CreateLicenseManagerReportGenerator", err, c.code, c.want)
		})
	}
	list, err := f.svc.ListLicenseManagerReportGenerators(f.ctx, f.caller, &ListLicenseManagerReportGeneratorsInput{})
	if err != nil || len(list.ReportGenerators) != 1 {
		t.Fatalf("after the refusals: %d generators (%v), want the valid one only", len(list.ReportGenerators), err)
	}

	// The generator operations.
	get := func(ctx context.Context, who *identity.Principal, arn string) error {
		_, err := f.svc.GetLicenseManagerReportGenerator(ctx, who, &GetLicenseManagerReportGeneratorInput{LicenseManagerReportGeneratorArn: arn})
		return err
	}
	wantCode(t, "Get(no ARN)", get(f.ctx, f.caller, ""), ErrValidation, "is required")
	wantCode(t, "Get(configuration ARN)", get(f.ctx, f.caller, config), ErrInvalidParameterValue, "must be a report generator ARN")
	wantCode(t, "Get(other account)", get(f.ctx, f.other, valid), codeResourceNotFound, "does not exist in account 444455556666")
	west := authz.WithOrigin(f.ctx, authz.Origin{Region: "us-west-2"})
	wantCode(t, "Get(other region)", get(west, f.caller, valid), codeResourceNotFound, "is in region us-east-1")
	_, err = f.svc.ListLicenseManagerReportGenerators(f.ctx, f.caller, &ListLicenseManagerReportGeneratorsInput{MaxResults: ptr[int32](101)})
	wantCode(t, "List(MaxResults 101)", err, ErrValidation, "MaxResults must be 1 to 100")
	_, err = f.svc.ListLicenseManagerReportGenerators(f.ctx, f.caller, &ListLicenseManagerReportGeneratorsInput{Filters: []Filter{{Name: ptr("Name"), Values: []string{"x"}}}})
	wantCode(t, "List(filter Name)", err, ErrInvalidParameterValue, "must be LicenseConfigurationArn")
	_, err = f.svc.UpdateLicenseManagerReportGenerator(f.ctx, f.caller, &UpdateLicenseManagerReportGeneratorInput{LicenseManagerReportGeneratorArn: valid,
		ReportGeneratorName: "x", Type: []string{ReportLicenseConfigurationUsage}, ReportContext: &ReportContext{LicenseConfigurationArns: []string{config}},
		ReportFrequency: &ReportFrequency{Period: ptr("Daily")}, ClientToken: "u"})
	wantCode(t, "Update(period)", err, ErrValidation, `not "Daily"`)
	_, err = f.svc.DeleteLicenseManagerReportGenerator(f.ctx, f.other, &DeleteLicenseManagerReportGeneratorInput{LicenseManagerReportGeneratorArn: valid})
	wantCode(t, "Delete(other account)", err, codeResourceNotFound, "does not exist")

	// Tags, through the functions TagResource and the rest route report generator ARNs to.
	if err := f.svc.TagReportGenerator(f.ctx, f.caller, valid, []Tag{{Key: ptr("cost"), Value: ptr("42")}, {Key: ptr("team"), Value: ptr("ops")}}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.UntagReportGenerator(f.ctx, f.caller, valid, []string{"cost"}); err != nil {
		t.Fatal(err)
	}
	tags, err := f.svc.ReportGeneratorTags(f.ctx, f.caller, valid)
	if err != nil || len(tags) != 1 || *tags[0].Key != "team" || *tags[0].Value != "ops" {
		t.Fatalf("tags = %v, %v; want team=ops", tags, err)
	}
	wantCode(t, "Tag(other account)", f.svc.TagReportGenerator(f.ctx, f.other, valid, []Tag{{Key: ptr("k")}}), ErrInvalidParameterValue, "does not exist")
	wantCode(t, "Tag(none)", f.svc.TagReportGenerator(f.ctx, f.caller, valid, nil), ErrValidation, "Tags is required")
}

// TestReports_ConcurrentSchedulers races schedulers over many due generators: every
// generator runs exactly once, whichever scheduler claims it. On PostgreSQL each scheduler
// has a database handle of its own, as separate servers sharing the database have.
func TestReports_ConcurrentSchedulers(t *testing.T) {
	race := func(t *testing.T, dsn string) {
		box := storetest.NewBox(t)
		f := rgFixture(t, dsn, box)
		config := f.usedConfig()
		const generators, schedulers = 20, 4
		var last string
		for i := range generators {
			last = f.createReport(reportInput(config, "DAY", "race-"+itoa(int64(i)), ReportLicenseConfigurationSummary))
		}
		now := f.getReport(last).CreateTime.Add(time.Second)
		dir := t.TempDir()
		var wg sync.WaitGroup
		runs := make([]int, schedulers)
		start := make(chan struct{})
		for i := range schedulers {
			db := f.db
			if i > 0 && store.IsPostgres(dsn) {
				db = storetest.OpenDSN(t, dsn, box, store.Options{})
			}
			r := &Reports{DB: db, Dir: dir, Logger: storetest.Quiet()}
			wg.Go(func() {
				<-start
				n, err := r.RunDueReports(context.Background(), now)
				if err != nil {
					t.Errorf("scheduler %d: %v", i, err)
				}
				runs[i] = n
			})
		}
		close(start)
		wg.Wait()
		total := 0
		for _, n := range runs {
			total += n
		}
		files := reportFiles(t, dir)
		if total != generators || len(files) != generators {
			t.Fatalf("%d runs (%v) and %d report files for %d due generators, want one each", total, runs, len(files), generators)
		}
		for _, p := range files {
			if !strings.Contains(p, "-000001-") {
				t.Errorf("report %s is not its generator's first run", p)
			}
		}
		list, err := f.svc.ListLicenseManagerReportGenerators(f.ctx, f.caller, &ListLicenseManagerReportGeneratorsInput{})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range list.ReportGenerators {
			if g.LastRunStatus != "SUCCESS" {
				t.Errorf("%s: LastRunStatus %q", g.LicenseManagerReportGeneratorArn, g.LastRunStatus)
			}
		}
		// Nothing more is due until the next day.
		runDue(t, &Reports{DB: f.db, Dir: dir, Logger: storetest.Quiet()}, now, 0)
	}
	t.Run("sqlite", func(t *testing.T) { race(t, filepath.Join(t.TempDir(), "allot.db")) })
	t.Run("postgres", func(t *testing.T) { race(t, storetest.PostgresDSN(t)) })
}

func TestReportKeySegment(t *testing.T) {
	for in, want := range map[string]string{
		"monthly audit": "monthly audit",
		"a/b":           "a%2Fb",
		"..":            "%2E.",
		".hidden":       "%2Ehidden",
		`c:\x%`:         "c:%5Cx%25",
		"Prüfung":       "Prüfung",
	} {
		if got := reportKeySegment(in); got != want {
			t.Errorf("reportKeySegment(%q) = %q, want %q", in, got, want)
		}
	}
	if got := reportKeySegment(strings.Repeat("😀", 100)); len(got) > maxKeySegment || !strings.HasPrefix(got, "😀") {
		t.Errorf("a long name gives %d bytes", len(got))
	}
}
