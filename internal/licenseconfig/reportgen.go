package licenseconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awstime"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// Report types a report generator writes, as License Manager names them.
const (
	ReportLicenseConfigurationSummary = "LicenseConfigurationSummaryReport"
	ReportLicenseConfigurationUsage   = "LicenseConfigurationUsageReport"
	reportLicenseAssetGroupUsage      = "LicenseAssetGroupUsageReport" // no license asset groups here
)

// codeResourceNotFound is the error of a report generator operation naming a generator that
// does not exist (the configuration operations do not model it; these do).
const codeResourceNotFound = "ResourceNotFoundException"

// Report generator limits, as the License Manager API models them.
const (
	maxReportNameLen   = 100
	maxReportTokenLen  = 36
	maxReportARNLen    = 2048
	maxReportListLimit = 100
)

var (
	reportGeneratorARNPattern = regexp.MustCompile(`^arn:aws:license-manager:([a-z0-9-]+):(\d{12}):report-generator:(r-[0-9a-f]{32})$`)
	// reportARNShape is the model's pattern of every ARN member (pattern LP1), the last part's
	// bound (1024) left to the whole ARN's (2048).
	reportARNShape      = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:[A-Za-z0-9][A-Za-z0-9_/.-]{0,62}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]*$`)
	reportRegionPattern = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)
)

// IsReportGeneratorARN reports whether arn has the form of a report generator's ARN.
func IsReportGeneratorARN(arn string) bool { return reportGeneratorARNPattern.MatchString(arn) }

// ReportGeneratorARN returns the ARN of a report generator; like configurations, report
// generators are regional.
func ReportGeneratorARN(region, accountID, id string) string {
	return "arn:aws:license-manager:" + region + ":" + accountID + ":report-generator:" + id
}

// ReportContext says what a report generator reports on. Its members are camelCase on the
// wire, unlike the rest of the API.
type ReportContext struct {
	LicenseConfigurationArns []string       `json:"licenseConfigurationArns"`
	LicenseAssetGroupArns    []string       `json:"licenseAssetGroupArns,omitempty"`
	ReportStartDate          *awstime.Epoch `json:"reportStartDate,omitempty"`
	ReportEndDate            *awstime.Epoch `json:"reportEndDate,omitempty"`
}

// ReportFrequency says how often a report generator runs: once (ONE_TIME) or once a DAY,
// WEEK or MONTH (value, the number of reports per period, is always 1).
type ReportFrequency struct {
	Value  *int32  `json:"value,omitempty"`
	Period *string `json:"period,omitempty"`
}

// S3Location is the bucket and key prefix reports are published to.
type S3Location struct {
	Bucket    string `json:"bucket"`
	KeyPrefix string `json:"keyPrefix"`
}

// ReportGenerator is a report generator as the get and list operations show it.
type ReportGenerator struct {
	ReportGeneratorName              string
	ReportType                       []string
	ReportContext                    ReportContext
	ReportFrequency                  ReportFrequency
	LicenseManagerReportGeneratorArn string
	LastRunStatus                    string           `json:",omitempty"`
	LastRunFailureReason             string           `json:",omitempty"`
	LastReportGenerationTime         *awstime.ISO8601 `json:",omitempty"`
	ReportCreatorAccount             string
	Description                      string      `json:",omitempty"`
	S3Location                       *S3Location `json:",omitempty"`
	CreateTime                       awstime.ISO8601
	Tags                             []Tag
}

// reportDefinition is a checked create or update input.
type reportDefinition struct {
	Name        string
	Description string
	Types       []string
	ConfigARNs  []string
	Start, End  time.Time
	Period      string
	Value       int64
}

func reportInvalid(format string, args ...any) error {
	return awserr.New(ErrValidation, format, args...)
}

// checkReportDefinition checks the members create and update share. Model constraints
// (required members, lengths, enumerations) are ValidationException; values the service
// refuses are InvalidParameterValueException.
func checkReportDefinition(name string, types []string, rc *ReportContext, rf *ReportFrequency, desc *string, token string) (*reportDefinition, error) {
	d := &reportDefinition{Name: name, Description: deref(desc)}
	if name == "" {
		return nil, reportInvalid("ReportGeneratorName is required: 1 to %d characters.", maxReportNameLen)
	}
	if n := utf8.RuneCountInString(name); n > maxReportNameLen {
		return nil, reportInvalid("ReportGeneratorName must have at most %d characters, not %d.", maxReportNameLen, n)
	}
	if err := checkString("ReportGeneratorName", name, true, maxReportNameLen); err != nil {
		return nil, err
	}
	if err := checkString("Description", d.Description, false, maxDescriptionLen); err != nil {
		return nil, err
	}
	if token == "" {
		return nil, reportInvalid("ClientToken is required: 1 to %d characters.", maxReportTokenLen)
	}
	if n := utf8.RuneCountInString(token); n > maxReportTokenLen {
		return nil, reportInvalid("ClientToken must have at most %d characters, not %d.", maxReportTokenLen, n)
	}
	if len(types) == 0 {
		return nil, reportInvalid("Type is required: %s or %s.", ReportLicenseConfigurationSummary, ReportLicenseConfigurationUsage)
	}
	for i, t := range types {
		switch t {
		case ReportLicenseConfigurationSummary, ReportLicenseConfigurationUsage:
		case reportLicenseAssetGroupUsage:
			return nil, invalid("Type[%d]: %s is not supported: there are no license asset groups here.", i, t)
		default:
			return nil, reportInvalid("Type[%d] must be %s or %s (case-sensitive), not %q.", i, ReportLicenseConfigurationSummary, ReportLicenseConfigurationUsage, clip(t))
		}
		if slices.Contains(types[:i], t) {
			return nil, invalid("Type has %s twice.", t)
		}
		d.Types = append(d.Types, t)
	}
	if rc == nil {
		return nil, reportInvalid("ReportContext is required: the license configuration to report on (licenseConfigurationArns).")
	}
	for i, a := range rc.LicenseConfigurationArns {
		m := fmt.Sprintf("ReportContext.licenseConfigurationArns[%d]", i)
		if len(a) > maxReportARNLen || !reportARNShape.MatchString(a) {
			return nil, reportInvalid("%s must be an ARN of at most %d characters, not %q.", m, maxReportARNLen, clip(a))
		}
		if err := checkConfigurationARN(m, a); err != nil {
			return nil, err
		}
	}
	if len(rc.LicenseAssetGroupArns) > 0 {
		return nil, invalid("ReportContext.licenseAssetGroupArns is not supported: there are no license asset groups here.")
	}
	if len(rc.LicenseConfigurationArns) != 1 {
		return nil, invalid("ReportContext.licenseConfigurationArns must name exactly one license configuration, not %d.", len(rc.LicenseConfigurationArns))
	}
	d.ConfigARNs = slices.Clone(rc.LicenseConfigurationArns)
	if rc.ReportStartDate != nil {
		d.Start = rc.ReportStartDate.UTC().Truncate(time.Microsecond)
	}
	if rc.ReportEndDate != nil {
		d.End = rc.ReportEndDate.UTC().Truncate(time.Microsecond)
	}
	if !d.Start.IsZero() && !d.End.IsZero() && d.End.Before(d.Start) {
		return nil, invalid("ReportContext.reportEndDate (%s) is before reportStartDate (%s).", d.End.Format(time.RFC3339), d.Start.Format(time.RFC3339))
	}
	if rf == nil {
		return nil, reportInvalid("ReportFrequency is required: period DAY, WEEK, MONTH or ONE_TIME, value 1.")
	}
	periods := []string{store.ReportDay, store.ReportWeek, store.ReportMonth, store.ReportOneTime}
	switch p := deref(rf.Period); {
	case p == "":
		return nil, reportInvalid("ReportFrequency.period is required: one of %s.", strings.Join(periods, ", "))
	case !slices.Contains(periods, p):
		return nil, reportInvalid("ReportFrequency.period must be one of %s (case-sensitive), not %q.", strings.Join(periods, ", "), clip(p))
	default:
		d.Period = p
	}
	d.Value = 1
	if rf.Value != nil && *rf.Value != 1 {
		return nil, invalid("ReportFrequency.value must be 1, not %d: it is the number of reports per period, and License Manager supports only one.", *rf.Value)
	}
	return d, nil
}

// digest names the definition (and tags) so that a retried call can be told from another
// call with the same ClientToken.
func (d *reportDefinition) digest(tags []Tag) string {
	b, _ := json.Marshal(struct {
		D    *reportDefinition
		Tags []Tag
	}{d, tags}) // strings, times and numbers always encode
	return digest(b)
}

// checkReportGeneratorARN checks a LicenseManagerReportGeneratorArn member.
func checkReportGeneratorARN(arn string) error {
	if arn == "" {
		return reportInvalid("LicenseManagerReportGeneratorArn is required.")
	}
	if len(arn) > maxReportARNLen || !reportARNShape.MatchString(arn) {
		return reportInvalid("LicenseManagerReportGeneratorArn must be an ARN of at most %d characters, not %q.", maxReportARNLen, clip(arn))
	}
	if !IsReportGeneratorARN(arn) {
		return invalid("LicenseManagerReportGeneratorArn must be a report generator ARN (arn:aws:license-manager:REGION:ACCOUNT:report-generator:r-…), not %q.", clip(arn))
	}
	return nil
}

// ownReportGenerator reads a report generator of the caller's account in the request's
// region; one that does not exist there is an error with code.
func ownReportGenerator(ctx context.Context, tx *store.Tx, caller *identity.Principal, arn string, lock bool, code string) (*store.ReportGenerator, error) {
	var g *store.ReportGenerator
	var err error
	if lock {
		g, err = tx.LockReportGenerator(ctx, arn)
	} else {
		g, err = tx.ReportGenerator(ctx, arn)
	}
	if isNotFound(err) || (err == nil && (g.AccountID != caller.AccountID || g.Region != RequestRegion(ctx))) {
		if m := reportGeneratorARNPattern.FindStringSubmatch(arn); m != nil && m[1] != RequestRegion(ctx) {
			return nil, awserr.New(code, "Report generator %s is in region %s, not %s: send the request to %s.", arn, m[1], RequestRegion(ctx), m[1])
		}
		return nil, awserr.New(code, "Report generator %s does not exist in account %s.", arn, caller.AccountID)
	}
	return g, err
}

// checkReportConfigurations checks that the configurations a definition names are the
// caller's, in the request's region.
func checkReportConfigurations(ctx context.Context, tx *store.Tx, caller *identity.Principal, d *reportDefinition) error {
	for _, a := range d.ConfigARNs {
		if _, err := ownConfiguration(ctx, tx, caller, a, false); err != nil {
			return err
		}
	}
	return nil
}

// reportBucket returns the bucket of the caller's service settings in the request's region.
// With none set it sets one, as License Manager creates a bucket for the first usage report
// of an account that has none: aws-license-manager-service-ACCOUNT.
// The settings row is locked before it is changed, so that a concurrent change of the other
// settings on another server is not lost.
func reportBucket(ctx context.Context, tx *store.Tx, accountID, region string) (string, error) {
	key := settingsKey(accountID, region)
	bucket := "arn:aws:s3:::aws-license-manager-service-" + accountID
	for {
		v, err := tx.LockSetting(ctx, key)
		if isNotFound(err) {
			b, _ := json.Marshal(ServiceSettings{S3BucketArn: bucket}) // strings and bools always encode
			stored, err := tx.PutSettingIfAbsent(ctx, key, string(b))
			if err != nil {
				return "", err
			}
			if stored == string(b) {
				return bucketName(bucket), nil
			}
			continue // another call stored settings first: lock them and add the bucket
		}
		if err != nil {
			return "", err
		}
		var st ServiceSettings
		if err := json.Unmarshal([]byte(v), &st); err != nil {
			return "", fmt.Errorf("licenseconfig: service settings of %s in %s: %w", accountID, region, err)
		}
		if st.S3BucketArn == "" {
			st.S3BucketArn = bucket
			b, err := json.Marshal(st)
			if err != nil {
				return "", fmt.Errorf("licenseconfig: encode service settings: %w", err)
			}
			if err := tx.PutSetting(ctx, key, string(b)); err != nil {
				return "", err
			}
		}
		return bucketName(st.S3BucketArn), nil
	}
}

// bucketName returns the name of the bucket an S3 bucket ARN names.
func bucketName(arn string) string { return strings.TrimPrefix(arn, "arn:aws:s3:::") }

// reportView returns a report generator as the API shows it.
func reportView(g *store.ReportGenerator, tags []store.Tag) *ReportGenerator {
	v := &ReportGenerator{
		ReportGeneratorName: g.Name, ReportType: slices.Clone(g.ReportTypes),
		ReportContext:                    ReportContext{LicenseConfigurationArns: slices.Clone(g.ConfigARNs)},
		ReportFrequency:                  ReportFrequency{Value: ptrTo(int32(g.FrequencyValue)), Period: ptrTo(g.Period)},
		LicenseManagerReportGeneratorArn: g.ARN, LastRunStatus: g.LastRunStatus, LastRunFailureReason: g.LastRunReason,
		ReportCreatorAccount: g.AccountID, Description: g.Description,
		S3Location: &S3Location{Bucket: g.Bucket, KeyPrefix: reportKeyPrefix(g.Name)},
		CreateTime: awstime.ISO8601{Time: g.CreatedAt}, Tags: apiTags(tags),
	}
	if !g.ReportStart.IsZero() {
		v.ReportContext.ReportStartDate = &awstime.Epoch{Time: g.ReportStart}
	}
	if !g.ReportEnd.IsZero() {
		v.ReportContext.ReportEndDate = &awstime.Epoch{Time: g.ReportEnd}
	}
	if !g.LastRunAt.IsZero() {
		v.LastReportGenerationTime = &awstime.ISO8601{Time: g.LastRunAt}
	}
	return v
}

func ptrTo[T any](v T) *T { return &v }

// CreateLicenseManagerReportGeneratorInput is the input of CreateLicenseManagerReportGenerator.
type CreateLicenseManagerReportGeneratorInput struct {
	ReportGeneratorName string
	Type                []string
	ReportContext       *ReportContext
	ReportFrequency     *ReportFrequency
	ClientToken         string
	Description         *string
	Tags                []Tag
}

// CreateLicenseManagerReportGeneratorOutput is the output of CreateLicenseManagerReportGenerator.
type CreateLicenseManagerReportGeneratorOutput struct {
	LicenseManagerReportGeneratorArn string
}

// CreateLicenseManagerReportGenerator creates a report generator in the caller's account and
// the request's region over one license configuration of theirs. Its first run is due at
// once; a DAY, WEEK or MONTH generator then runs once a period from its creation (see
// Reports). Without a bucket in the service settings it sets one, as License Manager does. A
// retry with the same ClientToken and parameters returns the first generator. Errors:
// ValidationException (a missing or malformed member), InvalidParameterValueException (an
// unknown configuration, value other than 1, asset groups, a ClientToken used with other
// parameters).
func (s *Service) CreateLicenseManagerReportGenerator(ctx context.Context, caller *identity.Principal, in *CreateLicenseManagerReportGeneratorInput) (*CreateLicenseManagerReportGeneratorOutput, error) {
	d, err := checkReportDefinition(in.ReportGeneratorName, in.Type, in.ReportContext, in.ReportFrequency, in.Description, in.ClientToken)
	if err != nil {
		return nil, err
	}
	if err := checkTags(ErrValidation, in.Tags); err != nil {
		return nil, err
	}
	region := RequestRegion(ctx)
	if !reportRegionPattern.MatchString(region) {
		return nil, invalid("Region %q is not a region name such as us-east-1.", clip(region))
	}
	dig := d.digest(in.Tags)
	id := newReportGeneratorID()
	arn := ReportGeneratorARN(region, caller.AccountID, id)
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*CreateLicenseManagerReportGeneratorOutput, error) {
		retried := func() (*CreateLicenseManagerReportGeneratorOutput, error) {
			g, err := tx.ReportGeneratorByClientToken(ctx, caller.AccountID, region, in.ClientToken)
			if err != nil {
				return nil, err
			}
			if g.CreateDigest != dig {
				return nil, invalid("ClientToken %q was used to create report generator %s with other parameters: use a new ClientToken for a new report generator.", in.ClientToken, g.ARN)
			}
			return &CreateLicenseManagerReportGeneratorOutput{LicenseManagerReportGeneratorArn: g.ARN}, nil
		}
		if out, err := retried(); !isNotFound(err) {
			return out, err
		}
		if err := checkReportConfigurations(ctx, tx, caller, d); err != nil {
			return nil, err
		}
		bucket, err := reportBucket(ctx, tx, caller.AccountID, region)
		if err != nil {
			return nil, err
		}
		now := tx.Now()
		g := &store.ReportGenerator{
			ARN: arn, ID: id, AccountID: caller.AccountID, Region: region, Name: d.Name, Description: d.Description,
			ReportTypes: d.Types, ConfigARNs: d.ConfigARNs, ReportStart: d.Start, ReportEnd: d.End, Period: d.Period,
			FrequencyValue: d.Value, ClientToken: in.ClientToken, CreateDigest: dig, Version: 1, Bucket: bucket,
			ScheduledFrom: now, NextRunAt: now, CreatedAt: now, UpdatedAt: now,
		}
		err = tx.CreateReportGenerator(ctx, g)
		if errors.Is(err, store.ErrConflict) {
			return retried() // a concurrent call with the same ClientToken created it
		}
		if err != nil {
			return nil, err
		}
		if err := tx.TagLicenseResource(ctx, arn, storeTags(in.Tags)); err != nil {
			return nil, err
		}
		return &CreateLicenseManagerReportGeneratorOutput{LicenseManagerReportGeneratorArn: arn}, nil
	})
}

// newReportGeneratorID returns "r-" and 32 random hex digits.
func newReportGeneratorID() string { return "r-" + strings.TrimPrefix(newConfigurationID(), "lic-") }

// GetLicenseManagerReportGeneratorInput is the input of GetLicenseManagerReportGenerator.
type GetLicenseManagerReportGeneratorInput struct {
	LicenseManagerReportGeneratorArn string
}

// GetLicenseManagerReportGeneratorOutput is the output of GetLicenseManagerReportGenerator.
type GetLicenseManagerReportGeneratorOutput struct {
	ReportGenerator *ReportGenerator
}

// GetLicenseManagerReportGenerator returns a report generator of the caller's account with its
// last run and tags. Errors: ValidationException, InvalidParameterValueException (not a
// report generator ARN), ResourceNotFoundException.
func (s *Service) GetLicenseManagerReportGenerator(ctx context.Context, caller *identity.Principal, in *GetLicenseManagerReportGeneratorInput) (*GetLicenseManagerReportGeneratorOutput, error) {
	if err := checkReportGeneratorARN(in.LicenseManagerReportGeneratorArn); err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*GetLicenseManagerReportGeneratorOutput, error) {
		g, err := ownReportGenerator(ctx, tx, caller, in.LicenseManagerReportGeneratorArn, false, codeResourceNotFound)
		if err != nil {
			return nil, err
		}
		tags, err := tx.LicenseResourceTags(ctx, g.ARN)
		if err != nil {
			return nil, err
		}
		return &GetLicenseManagerReportGeneratorOutput{ReportGenerator: reportView(g, tags)}, nil
	})
}

// ListLicenseManagerReportGeneratorsInput is the input of ListLicenseManagerReportGenerators.
type ListLicenseManagerReportGeneratorsInput struct {
	Filters    []Filter
	MaxResults *int32
	NextToken  *string
}

// ListLicenseManagerReportGeneratorsOutput is the output of ListLicenseManagerReportGenerators.
type ListLicenseManagerReportGeneratorsOutput struct {
	ReportGenerators []ReportGenerator
	NextToken        *string `json:",omitempty"`
}

// ListLicenseManagerReportGenerators lists the report generators of the caller's account in
// the request's region, in ARN order, optionally only those reporting on the configuration
// the LicenseConfigurationArn filter names (one value). Errors: ValidationException
// (MaxResults outside 1 to 100), InvalidParameterValueException (another filter, a bad
// NextToken).
func (s *Service) ListLicenseManagerReportGenerators(ctx context.Context, caller *identity.Principal, in *ListLicenseManagerReportGeneratorsInput) (*ListLicenseManagerReportGeneratorsOutput, error) {
	if m := in.MaxResults; m != nil && (*m < 1 || *m > maxReportListLimit) {
		return nil, reportInvalid("MaxResults must be 1 to %d, not %d.", maxReportListLimit, *m)
	}
	var config string
	for i, f := range in.Filters {
		if deref(f.Name) != "LicenseConfigurationArn" {
			return nil, invalid("Filters[%d].Name must be LicenseConfigurationArn (case-sensitive), not %q.", i, clip(deref(f.Name)))
		}
		if len(f.Values) != 1 || config != "" {
			return nil, invalid("Filter LicenseConfigurationArn takes one value, the ARN of a license configuration.")
		}
		if err := checkConfigurationARN("Filter LicenseConfigurationArn", f.Values[0]); err != nil {
			return nil, err
		}
		config = f.Values[0]
	}
	p, err := readPage("ListLicenseManagerReportGenerators", config, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListLicenseManagerReportGeneratorsOutput, error) {
		gs, err := tx.ReportGenerators(ctx, store.ReportGeneratorQuery{
			AccountID: caller.AccountID, Region: RequestRegion(ctx), ConfigARN: config, After: p.after, Limit: p.limit + 1,
		})
		if err != nil {
			return nil, err
		}
		gs, next := cut(p, gs, func(g *store.ReportGenerator) string { return g.ARN })
		out := &ListLicenseManagerReportGeneratorsOutput{ReportGenerators: []ReportGenerator{}, NextToken: next}
		for _, g := range gs {
			tags, err := tx.LicenseResourceTags(ctx, g.ARN)
			if err != nil {
				return nil, err
			}
			out.ReportGenerators = append(out.ReportGenerators, *reportView(g, tags))
		}
		return out, nil
	})
}

// UpdateLicenseManagerReportGeneratorInput is the input of UpdateLicenseManagerReportGenerator.
// It replaces the whole definition: a Description not sent is cleared.
type UpdateLicenseManagerReportGeneratorInput struct {
	LicenseManagerReportGeneratorArn string
	ReportGeneratorName              string
	Type                             []string
	ReportContext                    *ReportContext
	ReportFrequency                  *ReportFrequency
	ClientToken                      string
	Description                      *string
}

// UpdateLicenseManagerReportGeneratorOutput is the (empty) output of
// UpdateLicenseManagerReportGenerator.
type UpdateLicenseManagerReportGeneratorOutput struct{}

// UpdateLicenseManagerReportGenerator replaces a report generator's definition and, as in
// License Manager, starts generating new reports: a run is due at once and the schedule
// starts again from now. A retry with the ClientToken of the last update and the same
// parameters changes nothing (and asks for no further run). Errors: ValidationException,
// InvalidParameterValueException, ResourceNotFoundException.
func (s *Service) UpdateLicenseManagerReportGenerator(ctx context.Context, caller *identity.Principal, in *UpdateLicenseManagerReportGeneratorInput) (*UpdateLicenseManagerReportGeneratorOutput, error) {
	if err := checkReportGeneratorARN(in.LicenseManagerReportGeneratorArn); err != nil {
		return nil, err
	}
	d, err := checkReportDefinition(in.ReportGeneratorName, in.Type, in.ReportContext, in.ReportFrequency, in.Description, in.ClientToken)
	if err != nil {
		return nil, err
	}
	dig := d.digest(nil)
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*UpdateLicenseManagerReportGeneratorOutput, error) {
		g, err := ownReportGenerator(ctx, tx, caller, in.LicenseManagerReportGeneratorArn, true, codeResourceNotFound)
		if err != nil {
			return nil, err
		}
		if g.UpdateToken == in.ClientToken {
			if g.UpdateDigest != dig {
				return nil, invalid("ClientToken %q was used for an update of %s with other parameters: use a new ClientToken for a new update.", in.ClientToken, g.ARN)
			}
			return &UpdateLicenseManagerReportGeneratorOutput{}, nil
		}
		if err := checkReportConfigurations(ctx, tx, caller, d); err != nil {
			return nil, err
		}
		now := tx.Now()
		g.Name, g.Description, g.ReportTypes, g.ConfigARNs = d.Name, d.Description, d.Types, d.ConfigARNs
		g.ReportStart, g.ReportEnd, g.Period, g.FrequencyValue = d.Start, d.End, d.Period, d.Value
		g.UpdateDigest, g.UpdateToken = dig, in.ClientToken
		g.ScheduledFrom, g.NextRunAt, g.UpdatedAt = now, now, now
		if err := tx.PutReportGenerator(ctx, g); err != nil {
			return nil, err
		}
		return &UpdateLicenseManagerReportGeneratorOutput{}, nil
	})
}

// DeleteLicenseManagerReportGeneratorInput is the input of DeleteLicenseManagerReportGenerator.
type DeleteLicenseManagerReportGeneratorInput struct {
	LicenseManagerReportGeneratorArn string
}

// DeleteLicenseManagerReportGeneratorOutput is the (empty) output of
// DeleteLicenseManagerReportGenerator.
type DeleteLicenseManagerReportGeneratorOutput struct{}

// DeleteLicenseManagerReportGenerator deletes a report generator and its tags; the reports it
// wrote stay where they are. Errors: ValidationException, InvalidParameterValueException,
// ResourceNotFoundException.
func (s *Service) DeleteLicenseManagerReportGenerator(ctx context.Context, caller *identity.Principal, in *DeleteLicenseManagerReportGeneratorInput) (*DeleteLicenseManagerReportGeneratorOutput, error) {
	if err := checkReportGeneratorARN(in.LicenseManagerReportGeneratorArn); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*DeleteLicenseManagerReportGeneratorOutput, error) {
		if _, err := ownReportGenerator(ctx, tx, caller, in.LicenseManagerReportGeneratorArn, true, codeResourceNotFound); err != nil {
			return nil, err
		}
		if err := tx.DeleteReportGenerator(ctx, in.LicenseManagerReportGeneratorArn); err != nil {
			return nil, err
		}
		return &DeleteLicenseManagerReportGeneratorOutput{}, nil
	})
}

// TagReportGenerator adds tags to a report generator of the caller's account, replacing the
// value of a key it has already; License Manager's TagResource routes report generator ARNs
// here. Errors: ValidationException (no tags, a bad tag, more than 50 in all),
// InvalidParameterValueException (no such report generator: TagResource models no
// not-found error).
func (s *Service) TagReportGenerator(ctx context.Context, caller *identity.Principal, arn string, tags []Tag) error {
	return s.tagResource(ctx, arn, tags, func(ctx context.Context, tx *store.Tx, forUpdate bool) error {
		_, err := ownReportGenerator(ctx, tx, caller, arn, forUpdate, ErrInvalidParameterValue)
		return err
	})
}

// UntagReportGenerator removes tags from a report generator of the caller's account by key;
// keys it does not have are ignored. Errors: ValidationException, InvalidParameterValueException.
func (s *Service) UntagReportGenerator(ctx context.Context, caller *identity.Principal, arn string, keys []string) error {
	return s.untagResource(ctx, arn, keys, func(ctx context.Context, tx *store.Tx, forUpdate bool) error {
		_, err := ownReportGenerator(ctx, tx, caller, arn, forUpdate, ErrInvalidParameterValue)
		return err
	})
}

// ReportGeneratorTags returns the tags of a report generator of the caller's account, in the
// order they were first added. Errors: InvalidParameterValueException.
func (s *Service) ReportGeneratorTags(ctx context.Context, caller *identity.Principal, arn string) ([]Tag, error) {
	return s.resourceTags(ctx, arn, func(ctx context.Context, tx *store.Tx, forUpdate bool) error {
		_, err := ownReportGenerator(ctx, tx, caller, arn, forUpdate, ErrInvalidParameterValue)
		return err
	})
}
