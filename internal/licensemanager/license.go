package licensemanager

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awstime"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// licenseDoc is a version of a license as stored: the License and what outputs do not show.
type licenseDoc struct {
	License
	Alg string
}

// content is the part of a license that CreateLicense and CreateLicenseVersion both send.
type content struct {
	LicenseName              string
	ProductName              string
	Issuer                   *Issuer
	HomeRegion               string
	Validity                 *DatetimeRange
	Entitlements             []Entitlement
	ConsumptionConfiguration *ConsumptionConfiguration
	LicenseMetadata          []Metadata
}

// check validates c; every error is a ValidationException.
func (c *content) check() error {
	for _, m := range []struct {
		name, v string
	}{{"LicenseName", c.LicenseName}, {"ProductName", c.ProductName}, {"HomeRegion", c.HomeRegion}} {
		if err := checkString(ErrValidation, m.name, m.v, true, 255); err != nil {
			return err
		}
	}
	if c.Issuer == nil {
		return validation("Issuer is required: send Issuer.Name (and Issuer.SignKey RSA for a PS384 key).")
	}
	if err := checkString(ErrValidation, "Issuer.Name", c.Issuer.Name, true, 255); err != nil {
		return err
	}
	if _, err := signKeyAlg(c.Issuer.SignKey); err != nil {
		return err
	}
	if err := checkValidity(c.Validity); err != nil {
		return err
	}
	if err := checkEntitlements(c.Entitlements); err != nil {
		return err
	}
	if err := checkConsumption(c.ConsumptionConfiguration); err != nil {
		return err
	}
	for i, m := range c.LicenseMetadata {
		if m.Name == nil || *m.Name == "" {
			return validation("LicenseMetadata[%d].Name is required.", i)
		}
		if err := checkString(ErrValidation, fmt.Sprintf("LicenseMetadata[%d].Name", i), *m.Name, true, 255); err != nil {
			return err
		}
		if m.Value != nil && len(*m.Value) > 1024 {
			return validation("LicenseMetadata[%d].Value must have at most 1024 characters.", i)
		}
	}
	if len(c.LicenseMetadata) > 50 {
		return validation("LicenseMetadata may have at most 50 entries, not %d.", len(c.LicenseMetadata))
	}
	return nil
}

func parseDate(member string, v *string) (time.Time, error) {
	if v == nil || *v == "" {
		return time.Time{}, nil
	}
	if len(*v) > 50 {
		return time.Time{}, validation("%s must be an ISO 8601 date and time such as 2026-01-01T00:00:00Z, not %q.", member, *v)
	}
	t, err := awstime.ParseISO8601(*v)
	if err != nil {
		return time.Time{}, validation("%s must be an ISO 8601 date and time such as 2026-01-01T00:00:00Z, not %q.", member, *v)
	}
	return t, nil
}

func checkValidity(v *DatetimeRange) error {
	if v == nil || v.Begin == nil || *v.Begin == "" {
		return validation("Validity.Begin is required: an ISO 8601 date and time such as 2026-01-01T00:00:00Z.")
	}
	begin, err := parseDate("Validity.Begin", v.Begin)
	if err != nil {
		return err
	}
	end, err := parseDate("Validity.End", v.End)
	if err != nil {
		return err
	}
	if !end.IsZero() && !end.After(begin) {
		return validation("Validity.End (%s) must be after Validity.Begin (%s).", *v.End, *v.Begin)
	}
	return nil
}

func checkEntitlements(es []Entitlement) error {
	if len(es) == 0 {
		return validation("Entitlements is required: a license grants at least one entitlement.")
	}
	if len(es) > 100 {
		return validation("Entitlements may have at most 100 entries, not %d.", len(es))
	}
	seen := map[string]bool{}
	for i, e := range es {
		m := fmt.Sprintf("Entitlements[%d]", i)
		if e.Name == nil || *e.Name == "" {
			return validation("%s.Name is required.", m)
		}
		if err := checkString(ErrValidation, m+".Name", *e.Name, true, 255); err != nil {
			return err
		}
		if seen[*e.Name] {
			return validation("%s.Name %q appears twice: entitlement names must be unique.", m, *e.Name)
		}
		seen[*e.Name] = true
		unit := ""
		if e.Unit != nil {
			unit = *e.Unit
		}
		if err := checkEnum(ErrValidation, m+".Unit", unit, true, entitlementUnits); err != nil {
			return err
		}
		switch {
		case unit == "None":
			if e.MaxCount != nil {
				return validation("%s (%s) has Unit None: send Value, not MaxCount.", m, *e.Name)
			}
			if e.Value != nil && len(*e.Value) > 1024 {
				return validation("%s.Value must have at most 1024 characters.", m)
			}
		case e.MaxCount == nil && e.Value == nil:
			return validation("%s (%s) needs MaxCount: the number of %s it grants.", m, *e.Name, unit)
		case e.MaxCount != nil && e.Value != nil:
			return validation("%s (%s) has both MaxCount and Value: send one.", m, *e.Name)
		case e.MaxCount != nil && *e.MaxCount < 0:
			return validation("%s.MaxCount must not be negative, not %d.", m, *e.MaxCount)
		case e.Value != nil:
			if _, err := strconv.ParseInt(*e.Value, 10, 64); err != nil {
				return validation("%s.Value must be a whole number for Unit %s, or use MaxCount.", m, unit)
			}
		}
	}
	return nil
}

func checkConsumption(c *ConsumptionConfiguration) error {
	if c == nil {
		return validation("ConsumptionConfiguration is required: send ProvisionalConfiguration or BorrowConfiguration.")
	}
	if c.RenewType != nil {
		if err := checkEnum(ErrValidation, "ConsumptionConfiguration.RenewType", *c.RenewType, false, renewTypes); err != nil {
			return err
		}
	}
	p, b := c.ProvisionalConfiguration, c.BorrowConfiguration
	switch {
	case p == nil && b == nil:
		return validation("ConsumptionConfiguration needs ProvisionalConfiguration or BorrowConfiguration.")
	case p != nil && b != nil:
		return validation("ConsumptionConfiguration has both ProvisionalConfiguration and BorrowConfiguration: send one.")
	case p != nil:
		if p.MaxTimeToLiveInMinutes == nil {
			return validation("ConsumptionConfiguration.ProvisionalConfiguration.MaxTimeToLiveInMinutes is required.")
		}
		if *p.MaxTimeToLiveInMinutes < 1 {
			return validation("ConsumptionConfiguration.ProvisionalConfiguration.MaxTimeToLiveInMinutes must be at least 1, not %d.", *p.MaxTimeToLiveInMinutes)
		}
	default:
		if b.MaxTimeToLiveInMinutes == nil || b.AllowEarlyCheckIn == nil {
			return validation("ConsumptionConfiguration.BorrowConfiguration needs AllowEarlyCheckIn and MaxTimeToLiveInMinutes.")
		}
		if *b.MaxTimeToLiveInMinutes < 1 {
			return validation("ConsumptionConfiguration.BorrowConfiguration.MaxTimeToLiveInMinutes must be at least 1, not %d.", *b.MaxTimeToLiveInMinutes)
		}
	}
	return nil
}

// digest returns a digest of a request, to tell a retry with a ClientToken from another request.
func digest(v any) string {
	b, _ := json.Marshal(v)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// replay returns the first answer to a request with the same ClientToken, or nil; a token
// used before for another request is a ValidationException.
func replay[Out any](ctx context.Context, tx *store.Tx, caller *identity.Principal, op, token, dgst string) (*Out, error) {
	c, err := tx.ClientToken(ctx, caller.AccountID, op, token)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if c.Request != dgst {
		return nil, validation("ClientToken %q was already used for a different %s request: send a new ClientToken for a new request, or the same parameters to retry.", token, op)
	}
	out := new(Out)
	if err := json.Unmarshal([]byte(c.Response), out); err != nil {
		return nil, fmt.Errorf("licensemanager: client token %q: %w", token, err)
	}
	return out, nil
}

func remember(ctx context.Context, tx *store.Tx, caller *identity.Principal, op, token, dgst string, out any, now time.Time) error {
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	return tx.PutClientToken(ctx, &store.ClientToken{AccountID: caller.AccountID, Operation: op, Token: token, Request: dgst, Response: string(b), CreatedAt: now})
}

// build returns a license version from content.
func (s *Service) build(c *content, arn, accountID, status string, version int64, now time.Time) (*licenseDoc, error) {
	alg, _ := signKeyAlg(c.Issuer.SignKey)
	d := &licenseDoc{
		License: License{
			LicenseArn: arn, LicenseName: c.LicenseName, ProductName: c.ProductName,
			Issuer:     IssuerDetails{Name: c.Issuer.Name, SignKey: c.Issuer.SignKey, KeyFingerprint: KeyFingerprint(accountID, c.Issuer.Name)},
			HomeRegion: c.HomeRegion, Status: status, Validity: *c.Validity,
			Entitlements: c.Entitlements, ConsumptionConfiguration: *c.ConsumptionConfiguration,
			LicenseMetadata: c.LicenseMetadata, CreateTime: awstime.ISO8601{Time: now}, Version: itoa(version),
		},
		Alg: alg,
	}
	return d, nil
}

func (d *licenseDoc) row(accountID, beneficiary string, version int64, created, now time.Time) (*store.License, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("licensemanager: encode license: %w", err)
	}
	return &store.License{
		ARN: d.LicenseArn, AccountID: accountID, HomeRegion: d.HomeRegion, Version: version, Status: d.Status,
		ProductSKU: d.ProductSKU, Beneficiary: beneficiary, Fingerprint: d.Issuer.KeyFingerprint, Body: string(b),
		CreatedAt: created, VersionAt: now,
	}, nil
}

func licenseOf(l *store.License) (*License, error) {
	var d licenseDoc
	if err := json.Unmarshal([]byte(l.Body), &d); err != nil {
		return nil, fmt.Errorf("licensemanager: license %s version %d: %w", l.ARN, l.Version, err)
	}
	return &d.License, nil
}

// CreateLicenseInput is the input of CreateLicense.
type CreateLicenseInput struct {
	LicenseName              string
	ProductName              string
	ProductSKU               string
	Issuer                   *Issuer
	HomeRegion               string
	Validity                 *DatetimeRange
	Entitlements             []Entitlement
	Beneficiary              string
	ConsumptionConfiguration *ConsumptionConfiguration
	LicenseMetadata          []Metadata
	ClientToken              string
	Tags                     []Tag
}

// CreateLicenseOutput is the output of CreateLicense.
type CreateLicenseOutput struct {
	LicenseArn string
	Status     string
	Version    string
}

func (in *CreateLicenseInput) content() *content {
	return &content{LicenseName: in.LicenseName, ProductName: in.ProductName, Issuer: in.Issuer, HomeRegion: in.HomeRegion,
		Validity: in.Validity, Entitlements: in.Entitlements, ConsumptionConfiguration: in.ConsumptionConfiguration, LicenseMetadata: in.LicenseMetadata}
}

// CreateLicense creates a managed license in the caller's account, at version 1 and status
// AVAILABLE, making the issuer's signing key on first use. A HomeRegion other than the
// request's is accepted; the license's later changes must then be made there. Tags are the
// license's, as TagResource adds them. A repeated ClientToken with the same input returns
// the first answer. Errors: ValidationException.
func (s *Service) CreateLicense(ctx context.Context, caller *identity.Principal, in *CreateLicenseInput) (*CreateLicenseOutput, error) {
	c := in.content()
	if err := c.check(); err != nil {
		return nil, err
	}
	if err := checkString(ErrValidation, "ProductSKU", in.ProductSKU, true, 1024); err != nil {
		return nil, err
	}
	if err := checkString(ErrValidation, "Beneficiary", in.Beneficiary, true, 1024); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if err := checkClientToken(in.ClientToken); err != nil {
		return nil, err
	}
	alg, _ := signKeyAlg(in.Issuer.SignKey)
	key, err := s.newKeyFor(ctx, caller.AccountID, in.Issuer.Name, alg)
	if err != nil {
		return nil, err
	}
	dgst := digest(in)
	arn := LicenseARN(caller.AccountID, newLicenseID())
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*CreateLicenseOutput, error) {
		if out, err := replay[CreateLicenseOutput](ctx, tx, caller, "CreateLicense", in.ClientToken, dgst); out != nil || err != nil {
			return out, err
		}
		if err := addKey(ctx, tx, key); err != nil {
			return nil, err
		}
		now := tx.Now().UTC()
		d, err := s.build(c, arn, caller.AccountID, StatusAvailable, 1, now)
		if err != nil {
			return nil, err
		}
		d.ProductSKU, d.Beneficiary = in.ProductSKU, in.Beneficiary
		row, err := d.row(caller.AccountID, in.Beneficiary, 1, now, now)
		if err != nil {
			return nil, err
		}
		if err := tx.CreateLicense(ctx, row); err != nil {
			return nil, err
		}
		if err := syncUsage(ctx, tx, d); err != nil {
			return nil, err
		}
		if err := tx.TagLicenseResource(ctx, arn, storeTags(in.Tags)); err != nil {
			return nil, err
		}
		out := &CreateLicenseOutput{LicenseArn: arn, Status: StatusAvailable, Version: "1"}
		return out, remember(ctx, tx, caller, "CreateLicense", in.ClientToken, dgst, out, now)
	})
}

// ownLicense reads a license of the caller's account; one that does not exist, or is
// another account's, is code.
func ownLicense(ctx context.Context, tx *store.Tx, caller *identity.Principal, code, arn string, version int64) (*store.License, error) {
	l, err := tx.License(ctx, arn, version)
	if errors.Is(err, store.ErrNotFound) || (err == nil && l.AccountID != caller.AccountID) {
		if version != 0 {
			return nil, awserr.New(code, "License %s has no version %d in account %s.", arn, version, caller.AccountID)
		}
		return nil, awserr.New(code, "License %s does not exist in account %s.", arn, caller.AccountID)
	}
	return l, err
}

// visibleLicense reads a license the caller's account issued or received; one that does
// not exist, or has not reached the account, is code.
func (s *Service) visibleLicense(ctx context.Context, tx *store.Tx, caller *identity.Principal, code, arn string, version int64) (*store.License, error) {
	l, err := tx.License(ctx, arn, version)
	if err == nil && l.AccountID != caller.AccountID {
		rs, rerr := s.reachableLicenses(ctx, tx, caller, licenseQuery{ARN: arn, ReceivedOnly: true})
		if rerr != nil {
			return nil, rerr
		}
		if len(rs) == 0 {
			err = store.ErrNotFound
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		if version != 0 {
			return nil, awserr.New(code, "License %s has no version %d that account %s can see.", arn, version, caller.AccountID)
		}
		return nil, awserr.New(code, "License %s does not exist, or was neither issued by nor granted to account %s.", arn, caller.AccountID)
	}
	return l, err
}

func parseVersion(code, member, v string, req bool) (int64, error) {
	if v == "" {
		if req {
			return 0, awserr.New(code, "%s is required: the license's current version.", member)
		}
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, awserr.New(code, "%s must be a version number such as \"1\", not %q.", member, v)
	}
	return n, nil
}

// GetLicenseInput is the input of GetLicense.
type GetLicenseInput struct {
	LicenseArn string
	Version    string
}

// GetLicenseOutput is the output of GetLicense.
type GetLicenseOutput struct {
	License *License
}

// GetLicense returns a license the caller's account issued or received (through a grant
// in any status but rejected or deleted) at its current version or at Version. Errors:
// ValidationException (a malformed ARN or version), InvalidParameterValueException (no such
// license or version).
func (s *Service) GetLicense(ctx context.Context, caller *identity.Principal, in *GetLicenseInput) (*GetLicenseOutput, error) {
	if err := checkLicenseARN(ErrValidation, "LicenseArn", in.LicenseArn); err != nil {
		return nil, err
	}
	v, err := parseVersion(ErrValidation, "Version", in.Version, false)
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*GetLicenseOutput, error) {
		l, err := s.visibleLicense(ctx, tx, caller, ErrInvalidParameterValue, in.LicenseArn, v)
		if err != nil {
			return nil, err
		}
		out, err := licenseOf(l)
		return &GetLicenseOutput{License: out}, err
	})
}

// ListLicensesInput is the input of ListLicenses.
type ListLicensesInput struct {
	LicenseArns []string
	Filters     []Filter
	NextToken   *string
	MaxResults  *int32
}

// ListLicensesOutput is the output of ListLicenses.
type ListLicensesOutput struct {
	Licenses  []*License
	NextToken *string `json:",omitempty"`
}

// ListLicenses lists the licenses the caller's account issued, current versions, in ARN
// order. Filters: Beneficiary, ProductSKU, Fingerprint (the issuer's KeyFingerprint) and
// Status, each with up to 50 values. Errors: ValidationException (a malformed ARN),
// InvalidParameterValueException (an unknown filter, MaxResults, NextToken).
func (s *Service) ListLicenses(ctx context.Context, caller *identity.Principal, in *ListLicensesInput) (*ListLicensesOutput, error) {
	q := store.LicenseQuery{AccountID: caller.AccountID}
	for i, a := range in.LicenseArns {
		if err := checkLicenseARN(ErrValidation, fmt.Sprintf("LicenseArns[%d]", i), a); err != nil {
			return nil, err
		}
	}
	q.ARNs = in.LicenseArns
	if len(in.Filters) > 10 {
		return nil, awserr.New(ErrInvalidParameterValue, "Filters may have at most 10 filters, not %d.", len(in.Filters))
	}
	for _, f := range in.Filters {
		name := ""
		if f.Name != nil {
			name = *f.Name
		}
		if len(f.Values) == 0 || len(f.Values) > 50 {
			return nil, awserr.New(ErrInvalidParameterValue, "Filter %s needs 1 to 50 values.", name)
		}
		switch name {
		case "Beneficiary":
			q.Beneficiaries = append(q.Beneficiaries, f.Values...)
		case "ProductSKU":
			q.ProductSKUs = append(q.ProductSKUs, f.Values...)
		case "Fingerprint":
			q.Fingerprints = append(q.Fingerprints, f.Values...)
		case "Status":
			q.Statuses = append(q.Statuses, f.Values...)
		default:
			return nil, awserr.New(ErrInvalidParameterValue, "Filter name %q is not one ListLicenses supports: use Beneficiary, ProductSKU, Fingerprint or Status.", name)
		}
	}
	p, err := readPage(ErrInvalidParameterValue, "ListLicenses", digest(in.Filters)[:16]+digest(in.LicenseArns)[:16], in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	q.After, q.Limit = p.after, p.limit+1
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListLicensesOutput, error) {
		rows, err := tx.Licenses(ctx, q)
		if err != nil {
			return nil, err
		}
		rows, next := cut(p, rows, func(l *store.License) string { return l.ARN })
		out := &ListLicensesOutput{Licenses: []*License{}, NextToken: next}
		for _, r := range rows {
			l, err := licenseOf(r)
			if err != nil {
				return nil, err
			}
			out.Licenses = append(out.Licenses, l)
		}
		return out, nil
	})
}

// CreateLicenseVersionInput is the input of CreateLicenseVersion.
type CreateLicenseVersionInput struct {
	LicenseArn               string
	LicenseName              string
	ProductName              string
	Issuer                   *Issuer
	HomeRegion               string
	Validity                 *DatetimeRange
	LicenseMetadata          []Metadata
	Entitlements             []Entitlement
	ConsumptionConfiguration *ConsumptionConfiguration
	Status                   string
	ClientToken              string
	SourceVersion            string
}

// CreateLicenseVersionOutput is the output of CreateLicenseVersion.
type CreateLicenseVersionOutput struct {
	LicenseArn string
	Version    string
	Status     string
}

// CreateLicenseVersion writes a new, immutable version of a license of the caller's account
// with the content it is sent; ProductSKU, Beneficiary and the license's home region stay.
// It must be called in the license's home region. Errors: ValidationException,
// ResourceNotFoundException (no such license), ConflictException (SourceVersion is not the
// current version, or the license is deleted), RedirectException (another region).
func (s *Service) CreateLicenseVersion(ctx context.Context, caller *identity.Principal, in *CreateLicenseVersionInput) (*CreateLicenseVersionOutput, error) {
	if err := checkLicenseARN(ErrValidation, "LicenseArn", in.LicenseArn); err != nil {
		return nil, err
	}
	c := &content{LicenseName: in.LicenseName, ProductName: in.ProductName, Issuer: in.Issuer, HomeRegion: in.HomeRegion,
		Validity: in.Validity, Entitlements: in.Entitlements, ConsumptionConfiguration: in.ConsumptionConfiguration, LicenseMetadata: in.LicenseMetadata}
	if err := c.check(); err != nil {
		return nil, err
	}
	if err := checkEnum(ErrValidation, "Status", in.Status, true, licenseStatuses); err != nil {
		return nil, err
	}
	if in.Status == StatusDeleted {
		return nil, validation("Status DELETED is set by DeleteLicense, not CreateLicenseVersion.")
	}
	src, err := parseVersion(ErrValidation, "SourceVersion", in.SourceVersion, false)
	if err != nil {
		return nil, err
	}
	if err := checkClientToken(in.ClientToken); err != nil {
		return nil, err
	}
	alg, _ := signKeyAlg(in.Issuer.SignKey)
	key, err := s.newKeyFor(ctx, caller.AccountID, in.Issuer.Name, alg)
	if err != nil {
		return nil, err
	}
	dgst := digest(in)
	region := requestRegion(ctx)
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*CreateLicenseVersionOutput, error) {
		if out, err := replay[CreateLicenseVersionOutput](ctx, tx, caller, "CreateLicenseVersion", in.ClientToken, dgst); out != nil || err != nil {
			return out, err
		}
		cur, err := ownLicense(ctx, tx, caller, ErrResourceNotFound, in.LicenseArn, 0)
		if err != nil {
			return nil, err
		}
		if region != "" && cur.HomeRegion != region {
			return nil, redirect(cur.HomeRegion)
		}
		if cur.Status == StatusDeleted {
			return nil, awserr.New(ErrConflict, "License %s is deleted: it takes no new versions.", in.LicenseArn)
		}
		if err := addKey(ctx, tx, key); err != nil {
			return nil, err
		}
		if src != 0 && src != cur.Version {
			return nil, awserr.New(ErrConflict, "SourceVersion %d is not the current version of %s, %d: read the license again and base the change on it.", src, in.LicenseArn, cur.Version)
		}
		old, err := licenseOf(cur)
		if err != nil {
			return nil, err
		}
		now := tx.Now().UTC()
		v := cur.Version + 1
		c.HomeRegion = cur.HomeRegion
		d, err := s.build(c, in.LicenseArn, caller.AccountID, in.Status, v, now)
		if err != nil {
			return nil, err
		}
		d.ProductSKU, d.Beneficiary = old.ProductSKU, old.Beneficiary
		row, err := d.row(caller.AccountID, old.Beneficiary, v, cur.CreatedAt, now)
		if err != nil {
			return nil, err
		}
		if err := tx.PutLicenseVersion(ctx, row); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return nil, awserr.New(ErrConflict, "License %s changed while this version was written: read it again.", in.LicenseArn)
			}
			return nil, err
		}
		if err := syncUsage(ctx, tx, d); err != nil {
			return nil, err
		}
		out := &CreateLicenseVersionOutput{LicenseArn: in.LicenseArn, Version: itoa(v), Status: in.Status}
		return out, remember(ctx, tx, caller, "CreateLicenseVersion", in.ClientToken, dgst, out, now)
	})
}

// ListLicenseVersionsInput is the input of ListLicenseVersions.
type ListLicenseVersionsInput struct {
	LicenseArn string
	NextToken  *string
	MaxResults *int32
}

// ListLicenseVersionsOutput is the output of ListLicenseVersions.
type ListLicenseVersionsOutput struct {
	Licenses  []*License
	NextToken *string `json:",omitempty"`
}

// ListLicenseVersions lists every version of a license of the caller's account, oldest
// first. Errors: InvalidParameterValueException.
func (s *Service) ListLicenseVersions(ctx context.Context, caller *identity.Principal, in *ListLicenseVersionsInput) (*ListLicenseVersionsOutput, error) {
	if err := checkLicenseARN(ErrInvalidParameterValue, "LicenseArn", in.LicenseArn); err != nil {
		return nil, err
	}
	p, err := readPage(ErrInvalidParameterValue, "ListLicenseVersions", in.LicenseArn, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListLicenseVersionsOutput, error) {
		if _, err := ownLicense(ctx, tx, caller, ErrInvalidParameterValue, in.LicenseArn, 0); err != nil {
			return nil, err
		}
		rows, err := tx.LicenseVersions(ctx, in.LicenseArn)
		if err != nil {
			return nil, err
		}
		after, _ := strconv.ParseInt(p.after, 10, 64)
		var sel []*store.License
		for _, r := range rows {
			if r.Version > after {
				sel = append(sel, r)
			}
		}
		sel, next := cut(p, sel, func(l *store.License) string { return itoa(l.Version) })
		out := &ListLicenseVersionsOutput{Licenses: []*License{}, NextToken: next}
		for _, r := range sel {
			l, err := licenseOf(r)
			if err != nil {
				return nil, err
			}
			out.Licenses = append(out.Licenses, l)
		}
		return out, nil
	})
}

// DeleteLicenseInput is the input of DeleteLicense.
type DeleteLicenseInput struct {
	LicenseArn    string
	SourceVersion string
}

// DeleteLicenseOutput is the output of DeleteLicense.
type DeleteLicenseOutput struct {
	Status       string
	DeletionDate awstime.ISO8601
}

// DeleteLicense deletes a license of the caller's account: it writes a last version with
// status DELETED (the license stays readable, as in AWS) and answers DELETED with the
// deletion date. SourceVersion must be the current version. It must be called in the
// license's home region. Errors: ValidationException, InvalidParameterValueException (no such
// license), ConflictException (SourceVersion is not current, or already deleted),
// RedirectException.
func (s *Service) DeleteLicense(ctx context.Context, caller *identity.Principal, in *DeleteLicenseInput) (*DeleteLicenseOutput, error) {
	if err := checkLicenseARN(ErrValidation, "LicenseArn", in.LicenseArn); err != nil {
		return nil, err
	}
	src, err := parseVersion(ErrValidation, "SourceVersion", in.SourceVersion, true)
	if err != nil {
		return nil, err
	}
	region := requestRegion(ctx)
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*DeleteLicenseOutput, error) {
		cur, err := ownLicense(ctx, tx, caller, ErrInvalidParameterValue, in.LicenseArn, 0)
		if err != nil {
			return nil, err
		}
		if region != "" && cur.HomeRegion != region {
			return nil, redirect(cur.HomeRegion)
		}
		if cur.Status == StatusDeleted {
			return nil, awserr.New(ErrConflict, "License %s is already deleted.", in.LicenseArn)
		}
		if src != cur.Version {
			return nil, awserr.New(ErrConflict, "SourceVersion %d is not the current version of %s, %d.", src, in.LicenseArn, cur.Version)
		}
		var d licenseDoc
		if err := json.Unmarshal([]byte(cur.Body), &d); err != nil {
			return nil, fmt.Errorf("licensemanager: license %s: %w", cur.ARN, err)
		}
		now := tx.Now().UTC()
		v := cur.Version + 1
		d.Status, d.Version, d.CreateTime = StatusDeleted, itoa(v), awstime.ISO8601{Time: now}
		row, err := d.row(caller.AccountID, cur.Beneficiary, v, cur.CreatedAt, now)
		if err != nil {
			return nil, err
		}
		if err := tx.PutLicenseVersion(ctx, row); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return nil, awserr.New(ErrConflict, "License %s changed during the deletion: read it again.", in.LicenseArn)
			}
			return nil, err
		}
		return &DeleteLicenseOutput{Status: StatusDeleted, DeletionDate: awstime.ISO8601{Time: now}}, nil
	})
}

// LicenseResource returns the ARN operations on a license are authorized against: the ARN
// sent when it is a license's, else "*", and the account that owns it.
func LicenseResource(arn string) (string, string) {
	if m := licenseARNPattern.FindStringSubmatch(arn); m != nil {
		return arn, m[1]
	}
	return "*", ""
}
