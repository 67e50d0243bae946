package licenseconfig

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/allot-dev/allot/internal/store"
)

// Scheduling of report runs.
const (
	// reportLease is how long a claimed run keeps other processes off the generator: a run
	// whose process died is due again after it.
	reportLease = 10 * time.Minute
	// reportBatch is how many due runs one RunDueReports call takes on at most.
	reportBatch = 100
	// maxKeySegment bounds the bytes of the generator name in a report's path, well below
	// the 255 that file systems allow a name.
	maxKeySegment = 200
)

// Reports runs report generators when their runs are due and writes their reports as CSV
// files into Dir, which stands for S3: a report for bucket B with key K is the file
// Dir/B/K (see ReportKey). Several processes sharing a database may each run one: every run
// is claimed by one of them only. Safe for concurrent use once its fields are set.
type Reports struct {
	DB  *store.DB
	Dir string
	// Logger logs runs and what fails; slog.Default() when nil.
	Logger *slog.Logger
}

func (r *Reports) logger() *slog.Logger {
	if r.Logger != nil {
		return r.Logger
	}
	return slog.Default()
}

// RunReportScheduler runs the due reports (RunDueReports) at once and then every interval,
// until ctx ends.
func (r *Reports) RunReportScheduler(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if _, err := r.RunDueReports(ctx, time.Now()); err != nil && ctx.Err() == nil {
			r.logger().Warn("running due reports failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// RunDueReports runs the report generators whose run is due at now, up to reportBatch of
// them, one after the other, and returns how many runs it made. A run claimed by another
// process meanwhile is left to it. Each run writes one report per report type and records
// its outcome (LastRunStatus SUCCESS or FAILED with the reason); a ONE_TIME generator is then
// done until it is updated, the others are due again one period after the last due time.
func (r *Reports) RunDueReports(ctx context.Context, now time.Time) (int, error) {
	now = now.UTC().Truncate(time.Microsecond)
	due, err := store.Read(ctx, r.DB, func(tx *store.Tx) (*[]string, error) {
		arns, err := tx.DueReportGenerators(ctx, now, reportBatch)
		return &arns, err
	})
	if err != nil {
		return 0, err
	}
	runs := 0
	for _, arn := range *due {
		if ctx.Err() != nil {
			return runs, ctx.Err()
		}
		ran, err := r.run(ctx, arn, now)
		if err != nil {
			return runs, err
		}
		if ran {
			runs++
		}
	}
	return runs, nil
}

// run claims the due run of one generator and makes it; it reports whether it did.
func (r *Reports) run(ctx context.Context, arn string, now time.Time) (bool, error) {
	var g *store.ReportGenerator
	err := r.DB.Update(ctx, func(tx *store.Tx) error {
		var err error
		g, err = tx.ClaimReportRun(ctx, arn, now, now.Add(reportLease))
		return err
	})
	if err != nil || g == nil {
		return false, err
	}
	bucket, reason := r.generate(ctx, g, now)
	if err := ctx.Err(); err != nil {
		// Stopped mid-run (a shutdown): record nothing; the run is made again when the claim
		// expires.
		return true, err
	}
	status := store.ReportRunSuccess
	if reason != "" {
		status = store.ReportRunFailed
	}
	next := nextReportRun(g.Period, g.ScheduledFrom, now)
	err = r.DB.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		return tx.FinishReportRun(ctx, store.ReportRun{ARN: g.ARN, Run: g.Runs, Version: g.Version, Status: status,
			Reason: reason, At: now, Bucket: bucket, NextRun: next})
	})
	if err != nil {
		return true, err
	}
	r.logger().Info("report generated", "report_generator", g.ARN, "run", g.Runs, "status", status, "reason", reason)
	return true, nil
}

// generate writes the reports of one run and returns the bucket written to, or the reason
// the run failed.
func (r *Reports) generate(ctx context.Context, g *store.ReportGenerator, now time.Time) (bucket, reason string) {
	var failure string
	snap, err := store.Read(ctx, r.DB, func(tx *store.Tx) (*reportSnapshot, error) {
		st, err := readServiceSettings(ctx, tx, g.AccountID, g.Region)
		if err != nil {
			return nil, err
		}
		if st.S3BucketArn == "" {
			failure = fmt.Sprintf("No S3 bucket is set for License Manager in account %s, region %s: set one with UpdateServiceSettings (S3BucketArn), then update the report generator to run it again.", g.AccountID, g.Region)
			return nil, nil
		}
		bucket = bucketName(st.S3BucketArn)
		return readReportSnapshot(ctx, tx, g, &failure)
	})
	switch {
	case err != nil:
		r.logger().Error("reading a report's data failed", "report_generator", g.ARN, "err", err)
		return "", "An internal error occurred while reading the report's data."
	case failure != "":
		return "", failure
	}
	if bucket == "" || bucket != filepath.Base(bucket) || bucket == "." || bucket == ".." {
		return "", fmt.Sprintf("The S3 bucket name %q cannot be written to.", bucket)
	}
	for _, typ := range g.ReportTypes {
		key := ReportKey(g, typ, now)
		if err := writeFileAtomic(r.Dir, filepath.Join(bucket, filepath.FromSlash(key)), func(w io.Writer) error {
			return writeReportCSV(w, typ, snap, now)
		}); err != nil {
			r.logger().Error("writing a report failed", "report_generator", g.ARN, "bucket", bucket, "key", key, "err", err)
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the caller sees what went wrong, not the server's paths
			}
			return "", fmt.Sprintf("Could not write s3://%s/%s: %v.", bucket, key, err)
		}
	}
	return bucket, ""
}

// readReportSnapshot reads what g reports on; when a configuration is gone it sets *failure.
func readReportSnapshot(ctx context.Context, tx *store.Tx, g *store.ReportGenerator, failure *string) (*reportSnapshot, error) {
	snap := &reportSnapshot{}
	for _, a := range g.ConfigARNs {
		c, err := tx.LicenseConfiguration(ctx, a)
		if isNotFound(err) || err == nil && (c.AccountID != g.AccountID || c.Region != g.Region) {
			*failure = fmt.Sprintf("License configuration %s no longer exists in account %s, region %s: update the report generator with one that does.", a, g.AccountID, g.Region)
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		snap.Configs = append(snap.Configs, c)
	}
	sums, err := tx.LicenseUsageSummaries(ctx, g.ConfigARNs)
	if err != nil {
		return nil, err
	}
	snap.Sums = sums
	for _, c := range snap.Configs {
		us, err := tx.LicenseUsages(ctx, store.LicenseUsageQuery{ConfigARN: c.ARN, ConsumingOnly: true})
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			res, err := tx.Resource(ctx, u.ResourceARN)
			if err != nil {
				return nil, err
			}
			snap.Usage = append(snap.Usage, reportUsage{Config: c, Usage: u, Resource: res})
		}
	}
	return snap, nil
}

// ReportKey returns the S3 key of g's report of type typ made at t, after License Manager's
// layout Reports/NAME/YEAR/MONTH/DAY/REPORT-ID.csv: the report ID is the generator's ID, the
// run's number and the report type, so that runs and types never share a key.
func ReportKey(g *store.ReportGenerator, typ string, t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%s/%04d/%02d/%02d/%s-%06d-%s.csv", reportKeyPrefix(g.Name), t.Year(), t.Month(), t.Day(), g.ID, g.Runs, typ)
}

// reportKeyPrefix returns the key prefix of a generator's reports: Reports/ and its name, as
// one path segment (see reportKeySegment).
func reportKeyPrefix(name string) string { return "Reports/" + reportKeySegment(name) }

// reportKeySegment returns name as one safe path segment: "/", "\", "%" and a leading "."
// are percent-encoded, and a name longer than maxKeySegment bytes is cut (the report ID in
// the file name keeps reports apart).
func reportKeySegment(name string) string {
	var b strings.Builder
	for i, c := range name {
		if c == '/' || c == '\\' || c == '%' || c < 0x20 || c == 0x7f || i == 0 && c == '.' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteRune(c)
	}
	s := b.String()
	for len(s) > maxKeySegment {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return s
}

// nextReportRun returns the first scheduled run after after of a generator scheduled from
// from: whole days or weeks later, or whole months later on the same day of the month (the
// month's last day when it is shorter); zero for ONE_TIME.
func nextReportRun(period string, from, after time.Time) time.Time {
	var d time.Duration
	switch period {
	case store.ReportDay:
		d = 24 * time.Hour
	case store.ReportWeek:
		d = 7 * 24 * time.Hour
	case store.ReportMonth:
		months := (after.Year()-from.Year())*12 + int(after.Month()) - int(from.Month())
		for k := max(months, 1); ; k++ {
			if t := addMonths(from, k); t.After(after) {
				return t
			}
		}
	default:
		return time.Time{}
	}
	k := max(after.Sub(from)/d+1, 1)
	return from.Add(k * d)
}

// addMonths returns t k months later, on the same day or the month's last.
func addMonths(t time.Time, k int) time.Time {
	first := time.Date(t.Year(), t.Month()+time.Month(k), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(t.Day(), last)-1)
}

// writeFileAtomic writes the file rel under root through a temporary file in its directory,
// synced and renamed into place, then syncs the directories up to root: a reader sees the
// whole file or none, and after a crash the file is either complete or absent.
func writeFileAtomic(root, rel string, write func(io.Writer) error) (err error) {
	path := filepath.Join(root, rel)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o640); err != nil {
		return err
	}
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if err := syncDir(d); err != nil {
			return err
		}
		if rel, err := filepath.Rel(root, d); err != nil || rel == "." || d == filepath.Dir(d) {
			return nil
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
