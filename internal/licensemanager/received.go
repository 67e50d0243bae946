package licensemanager

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awstime"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// AllowedOperation values: what a grant lets its grantee do with the license. Two are not
// operation names: ExtendConsumptionLicense allows ExtendLicenseConsumption, and
// ListPurchasedLicenses is recorded but restricts nothing (received licenses are listed
// whatever the grant allows).
const (
	OpCreateGrant              = "CreateGrant"
	OpCheckoutLicense          = "CheckoutLicense"
	OpCheckoutBorrowLicense    = "CheckoutBorrowLicense"
	OpCheckInLicense           = "CheckInLicense"
	OpExtendConsumptionLicense = "ExtendConsumptionLicense"
	OpListPurchasedLicenses    = "ListPurchasedLicenses"
	OpCreateToken              = "CreateToken"
)

// allowedOperations are the AllowedOperation values, in the model's order.
var allowedOperations = []string{OpCreateGrant, OpCheckoutLicense, OpCheckoutBorrowLicense, OpCheckInLicense,
	OpExtendConsumptionLicense, OpListPurchasedLicenses, OpCreateToken}

// reachable is a license that has reached an account: one it issued, or one a grant gave
// it (directly, or through its organization or an organizational unit it is in).
type reachable struct {
	License *store.License // current version
	// GrantARN is the grant it came through; "" when the account issued the license.
	GrantARN string
	// Grant is that grant's current version; nil when the account issued the license.
	Grant *Grant
	// Operations are the AllowedOperation values the account may perform on it: every one
	// for the issuer, the grant's for a grantee.
	Operations []string
	// Reason is why the account cannot use the license for the operation asked about, in a
	// sentence that says what to change ("grant g-… is PENDING_ACCEPT: accept it and
	// activate it in account 222222222222"); "" when it can.
	Reason string

	end   time.Time   // the license's Validity.End; zero when it has none
	doc   *licenseDoc // License decoded
	chain []*Grant    // the grants Grant was made under, nearest first
}

// Issued reports whether the account the license reached is its issuer.
func (r *reachable) Issued() bool { return r.GrantARN == "" }

// licenseQuery selects the licenses reachable licenses are looked up among.
type licenseQuery struct {
	ARN         string // one license; "" for any
	ProductSKU  string // "" for any
	Fingerprint string // the issuer's KeyFingerprint; "" for any
	// Operation is the AllowedOperation the caller wants to perform: it decides Reason. ""
	// asks only whether the license is usable at all (status, validity, grant status).
	Operation string
	// ReceivedOnly leaves out the licenses the caller's account issued.
	ReceivedOnly bool
}

// granteeIDs returns the grantee IDs grants to an account are made to: the account, its
// organization and every organizational unit on its path.
func granteeIDs(ctx context.Context, tx *store.Tx, accountID string) ([]string, *store.OrgContext, error) {
	oc, err := tx.OrgContext(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	ids := []string{accountID}
	if oc.OrgID != "" {
		ids = append(ids, oc.OrgID)
		for _, p := range strings.Split(oc.Path, "/") {
			if strings.HasPrefix(p, "ou-") {
				ids = append(ids, p)
			}
		}
	}
	return ids, oc, nil
}

// reachableLicenses returns the licenses q selects that have reached the caller's account,
// usable ones first, in the order CheckoutLicense tries them (see docs/licenses.md): the
// license whose validity ends first (one without an end last), then by ARN. A license that
// reached the account twice (issued and granted, or by two grants) appears once, through
// the way that lets it do the most. Rejected and deleted grants reach nobody. Reason is set
// on those it cannot use for q.Operation now: license not AVAILABLE, outside its validity,
// grant (or a grant it was made under) not ACTIVE, or the operation not allowed by the grant.
func (s *Service) reachableLicenses(ctx context.Context, tx *store.Tx, caller *identity.Principal, q licenseQuery) ([]*reachable, error) {
	cands, err := s.reachCandidates(ctx, tx, caller.AccountID, q)
	if err != nil {
		return nil, err
	}
	return judgeAll(cands, q.Operation, s.now())
}

// reachCandidates returns every way a license q selects reaches an account, unjudged: the
// licenses it issued and the grants made to it, its organization or its organizational units
// (not rejected or deleted ones), with their decoded documents and parent grants. The result
// depends only on the database, so it can be cached (see reachableCached).
func (s *Service) reachCandidates(ctx context.Context, tx *store.Tx, accountID string, q licenseQuery) ([]*reachable, error) {
	var arns, skus, fps []string
	if q.ARN != "" {
		arns = []string{q.ARN}
	}
	if q.ProductSKU != "" {
		skus = []string{q.ProductSKU}
	}
	if q.Fingerprint != "" {
		fps = []string{q.Fingerprint}
	}
	var out []*reachable
	issued := map[string]bool{}
	if !q.ReceivedOnly {
		rows, err := tx.Licenses(ctx, store.LicenseQuery{AccountID: accountID, ARNs: arns, ProductSKUs: skus, Fingerprints: fps})
		if err != nil {
			return nil, err
		}
		for _, l := range rows {
			d, err := docOf(l)
			if err != nil {
				return nil, err
			}
			out = append(out, &reachable{License: l, Operations: allowedOperations, doc: d})
			issued[l.ARN] = true
		}
	}
	ids, _, err := granteeIDs(ctx, tx, accountID)
	if err != nil {
		return nil, err
	}
	grants, err := tx.Grants(ctx, store.GrantQuery{GranteeIDs: ids, LicenseARNs: arns, ProductSKUs: skus, Fingerprints: fps})
	if err != nil {
		return nil, err
	}
	type decoded struct {
		l *store.License
		d *licenseDoc
	}
	licenses := map[string]decoded{}
	for _, g := range grants {
		if g.Status == GrantRejected || g.Status == GrantDeleted || g.AccountID == accountID || issued[g.LicenseARN] {
			continue
		}
		l, ok := licenses[g.LicenseARN]
		if !ok {
			row, err := tx.License(ctx, g.LicenseARN, 0)
			if err != nil {
				return nil, err
			}
			d, err := docOf(row)
			if err != nil {
				return nil, err
			}
			l = decoded{row, d}
			licenses[g.LicenseARN] = l
		}
		doc, err := grantOf(g)
		if err != nil {
			return nil, err
		}
		chain, err := s.parentChain(ctx, tx, doc)
		if err != nil {
			return nil, err
		}
		out = append(out, &reachable{License: l.l, GrantARN: g.ARN, Grant: doc, Operations: doc.GrantedOperations, doc: l.d, chain: chain})
	}
	return out, nil
}

// judgeAll judges copies of the candidates cands for op at now and returns, per license,
// the best way it reaches the account, in the order reachableLicenses documents. cands are
// not modified (they may be shared through a cache).
func judgeAll(cands []*reachable, op string, now time.Time) ([]*reachable, error) {
	best := make(map[string]*reachable, len(cands))
	for _, c := range cands {
		r := *c
		if err := r.judge(op, now, r.chain); err != nil {
			return nil, err
		}
		if cur := best[r.License.ARN]; cur == nil || (!cur.Issued() && (r.Issued() || r.better(cur))) {
			best[r.License.ARN] = &r
		}
	}
	out := make([]*reachable, 0, len(best))
	for _, r := range best {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *reachable) int {
		if (a.Reason == "") != (b.Reason == "") {
			if a.Reason == "" {
				return -1
			}
			return 1
		}
		if !a.end.Equal(b.end) {
			switch {
			case a.end.IsZero():
				return 1
			case b.end.IsZero():
				return -1
			}
			return a.end.Compare(b.end)
		}
		return cmp.Compare(a.License.ARN, b.License.ARN)
	})
	return out, nil
}

// reachKey is what reachable licenses are cached by: the account and the query, without the
// operation (which only the judging depends on).
type reachKey struct {
	account, arn, sku, fingerprint string
	receivedOnly                   bool
}

// reachableCached is reachableLicenses read outside any write transaction, from committed
// state, through the service's cache (see caches): the hot path (CheckoutLicense,
// ExtendLicenseConsumption) decides on it before its write transaction, which then
// re-checks what must not be stale (units, checkout status) in its own statements.
func (s *Service) reachableCached(ctx context.Context, caller *identity.Principal, q licenseQuery) ([]*reachable, error) {
	key := reachKey{caller.AccountID, q.ARN, q.ProductSKU, q.Fingerprint, q.ReceivedOnly}
	cands, err := s.caches().reach.Get(ctx, key, func(ctx context.Context) ([]*reachable, error) {
		out, err := store.Read(ctx, s.DB, func(tx *store.Tx) (*[]*reachable, error) {
			cands, err := s.reachCandidates(ctx, tx, caller.AccountID, q)
			return &cands, err
		})
		if err != nil {
			return nil, err
		}
		return *out, nil
	})
	if err != nil {
		return nil, err
	}
	return judgeAll(cands, q.Operation, s.now())
}

// better reports whether r is a better way for a license to reach an account than o: usable
// over not, an active grant over another, more operations over fewer.
func (r *reachable) better(o *reachable) bool {
	if (r.Reason == "") != (o.Reason == "") {
		return r.Reason == ""
	}
	ra, oa := r.Grant.GrantStatus == GrantActive, o.Grant.GrantStatus == GrantActive
	if ra != oa {
		return ra
	}
	if len(r.Operations) != len(o.Operations) {
		return len(r.Operations) > len(o.Operations)
	}
	return r.GrantARN < o.GrantARN
}

// parentChain returns the grants g was made under, nearest first (none for a grant of the
// license's issuer).
func (s *Service) parentChain(ctx context.Context, tx *store.Tx, g *Grant) ([]*Grant, error) {
	var chain []*Grant
	for parent := g.ParentArn; grantARNPattern.MatchString(parent) && len(chain) < 16; {
		row, err := tx.Grant(ctx, parent, 0)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		p, err := grantOf(row)
		if err != nil {
			return nil, err
		}
		chain = append(chain, p)
		parent = p.ParentArn
	}
	return chain, nil
}

// judge sets r.Reason (and r.end) for op at now; chain is the grants r's grant was made under.
func (r *reachable) judge(op string, now time.Time, chain []*Grant) error {
	var l *License
	if r.doc != nil {
		l = &r.doc.License
	} else {
		var err error
		if l, err = licenseOf(r.License); err != nil {
			return err
		}
	}
	if l.Validity.End != nil && *l.Validity.End != "" {
		if end, err := awstime.ParseISO8601(*l.Validity.End); err == nil {
			r.end = end
		}
	}
	switch {
	case l.Status != StatusAvailable:
		r.Reason = fmt.Sprintf("license %s is %s, not AVAILABLE: its issuer (account %s) must make a new version with Status AVAILABLE", l.LicenseArn, l.Status, r.License.AccountID)
		return nil
	case l.Validity.Begin != nil:
		if begin, err := awstime.ParseISO8601(*l.Validity.Begin); err == nil && now.Before(begin) {
			r.Reason = fmt.Sprintf("license %s is valid from %s", l.LicenseArn, *l.Validity.Begin)
			return nil
		}
	}
	if !r.end.IsZero() && !now.Before(r.end) {
		r.Reason = fmt.Sprintf("license %s expired at %s: its issuer (account %s) must extend its validity", l.LicenseArn, *l.Validity.End, r.License.AccountID)
		return nil
	}
	if r.Issued() {
		return nil
	}
	g := r.Grant
	switch g.GrantStatus {
	case GrantActive:
	case GrantPendingAccept:
		r.Reason = fmt.Sprintf("grant %s is PENDING_ACCEPT: accept it (AcceptGrant) and activate it (CreateGrantVersion with Status ACTIVE) in %s", g.GrantArn, acceptor(g))
		return nil
	case GrantDisabled:
		r.Reason = fmt.Sprintf("grant %s is DISABLED: activate it with CreateGrantVersion and Status ACTIVE in %s", g.GrantArn, acceptor(g))
		return nil
	default:
		r.Reason = fmt.Sprintf("grant %s is %s", g.GrantArn, g.GrantStatus)
		return nil
	}
	for _, p := range chain {
		if p.GrantStatus != GrantActive {
			r.Reason = fmt.Sprintf("grant %s was made under grant %s, which is %s: account %s must activate it first", g.GrantArn, p.GrantArn, p.GrantStatus, granteeAccount(p))
			return nil
		}
	}
	if op != "" && !slices.Contains(g.GrantedOperations, op) {
		r.Reason = fmt.Sprintf("grant %s does not allow %s (it allows %s): its grantor, account %s, can add it with CreateGrantVersion",
			g.GrantArn, op, strings.Join(g.GrantedOperations, ", "), grantorAccount(g.GrantArn))
	}
	return nil
}

// acceptor names who accepts and activates g: its grantee account, or for a grant to an
// organization or an organizational unit, the organization's management account.
func acceptor(g *Grant) string {
	if a := granteeAccount(g); a != "" {
		return "account " + a
	}
	return "the management account of the organization"
}

// granteeAccount returns the account g is granted to, or "" for a grant to an organization
// or an organizational unit.
func granteeAccount(g *Grant) string {
	if p, err := parsePrincipal(g.GranteePrincipalArn); err == nil && p.kind == granteeKindAccount {
		return p.id
	}
	return ""
}

// grantorAccount returns the account in a grant ARN.
func grantorAccount(grantARN string) string {
	if m := grantARNPattern.FindStringSubmatch(grantARN); m != nil {
		return m[1]
	}
	return ""
}

// ReceivedMetadata is how a license reached the caller's account.
type ReceivedMetadata struct {
	ReceivedStatus       string   `json:",omitempty"`
	ReceivedStatusReason *string  `json:",omitempty"`
	AllowedOperations    []string `json:",omitempty"`
}

// GrantedLicense is a license as its grantees see it.
type GrantedLicense struct {
	License
	ReceivedMetadata ReceivedMetadata
}

func grantedLicense(r *reachable) (*GrantedLicense, error) {
	l, err := licenseOf(r.License)
	if err != nil {
		return nil, err
	}
	gl := &GrantedLicense{License: *l}
	if r.Grant != nil {
		gl.ReceivedMetadata = ReceivedMetadata{ReceivedStatus: r.Grant.GrantStatus, ReceivedStatusReason: r.Grant.StatusReason,
			AllowedOperations: r.Grant.GrantedOperations}
	}
	return gl, nil
}

// ListReceivedLicensesInput is the input of ListReceivedLicenses.
type ListReceivedLicensesInput struct {
	LicenseArns []string
	Filters     []Filter
	NextToken   *string
	MaxResults  *int32
}

// ListReceivedLicensesOutput is the output of ListReceivedLicenses.
type ListReceivedLicensesOutput struct {
	Licenses  []*GrantedLicense
	NextToken *string `json:",omitempty"`
}

// ListReceivedLicenses lists the licenses granted to the caller's account — directly, or
// to its organization or an organizational unit it is in — whatever the grant's status
// (ReceivedMetadata.ReceivedStatus is ACTIVE once the grant is accepted and activated), in
// ARN order. Rejected and deleted grants give nothing. Filters: ProductSKU, Status (the
// license's), Fingerprint, IssuerName, Beneficiary. Errors: ValidationException,
// InvalidParameterValueException.
func (s *Service) ListReceivedLicenses(ctx context.Context, caller *identity.Principal, in *ListReceivedLicensesInput) (*ListReceivedLicensesOutput, error) {
	for i, a := range in.LicenseArns {
		if err := checkLicenseARN(ErrValidation, fmt.Sprintf("LicenseArns[%d]", i), a); err != nil {
			return nil, err
		}
	}
	match, err := licenseFilters("ListReceivedLicenses", in.Filters, "ProductSKU", "Status", "Fingerprint", "IssuerName", "Beneficiary")
	if err != nil {
		return nil, err
	}
	p, err := readPage(ErrInvalidParameterValue, "ListReceivedLicenses", digest(in.Filters)[:16]+digest(in.LicenseArns)[:16], in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListReceivedLicensesOutput, error) {
		rs, err := s.reachableLicenses(ctx, tx, caller, licenseQuery{ReceivedOnly: true})
		if err != nil {
			return nil, err
		}
		sel, err := selectLicenses(rs, in.LicenseArns, match, p.after)
		if err != nil {
			return nil, err
		}
		sel, next := cut(p, sel, func(g *GrantedLicense) string { return g.LicenseArn })
		return &ListReceivedLicensesOutput{Licenses: sel, NextToken: next}, nil
	})
}

// selectLicenses returns the granted licenses of rs that arns (when given) and match select,
// after the ARN after, in ARN order.
func selectLicenses(rs []*reachable, arns []string, match func(*License) bool, after string) ([]*GrantedLicense, error) {
	var out []*GrantedLicense
	for _, r := range rs {
		if r.License.ARN <= after || (len(arns) > 0 && !slices.Contains(arns, r.License.ARN)) {
			continue
		}
		gl, err := grantedLicense(r)
		if err != nil {
			return nil, err
		}
		if match(&gl.License) {
			out = append(out, gl)
		}
	}
	slices.SortFunc(out, func(a, b *GrantedLicense) int { return cmp.Compare(a.LicenseArn, b.LicenseArn) })
	return out, nil
}

// licenseFilters checks Filters against the names op supports and returns a function that
// tells whether a license passes them all (a filter passes when any of its values matches).
func licenseFilters(op string, filters []Filter, names ...string) (func(*License) bool, error) {
	if len(filters) > 10 {
		return nil, awserr.New(ErrInvalidParameterValue, "Filters may have at most 10 filters, not %d.", len(filters))
	}
	field := map[string]func(*License) string{
		"ProductSKU":  func(l *License) string { return l.ProductSKU },
		"Status":      func(l *License) string { return l.Status },
		"Fingerprint": func(l *License) string { return l.Issuer.KeyFingerprint },
		"IssuerName":  func(l *License) string { return l.Issuer.Name },
		"Beneficiary": func(l *License) string { return l.Beneficiary },
	}
	type check struct {
		get    func(*License) string
		values []string
	}
	var checks []check
	for _, f := range filters {
		name := ""
		if f.Name != nil {
			name = *f.Name
		}
		if !slices.Contains(names, name) {
			return nil, awserr.New(ErrInvalidParameterValue, "Filter name %q is not one %s supports: use %s.", name, op, strings.Join(names, ", "))
		}
		if len(f.Values) == 0 || len(f.Values) > 50 {
			return nil, awserr.New(ErrInvalidParameterValue, "Filter %s needs 1 to 50 values.", name)
		}
		checks = append(checks, check{field[name], f.Values})
	}
	return func(l *License) bool {
		for _, c := range checks {
			if !slices.Contains(c.values, c.get(l)) {
				return false
			}
		}
		return true
	}, nil
}

// ListReceivedLicensesForOrganizationInput is the input of ListReceivedLicensesForOrganization.
type ListReceivedLicensesForOrganizationInput struct {
	Filters    []Filter
	NextToken  *string
	MaxResults *int32
}

// ListReceivedLicensesForOrganizationOutput is the output of ListReceivedLicensesForOrganization.
type ListReceivedLicensesForOrganizationOutput struct {
	Licenses  []*GrantedLicense
	NextToken *string `json:",omitempty"`
}

// ListReceivedLicensesForOrganization lists, for an organization's management account, the
// licenses granted to any account of the organization, to the organization or to one of its
// organizational units, in ARN order; ReceivedMetadata is that of the most usable grant.
// Filters: Beneficiary, ProductSKU. Errors: AccessDeniedException (not the management
// account of an organization), ValidationException, InvalidParameterValueException.
func (s *Service) ListReceivedLicensesForOrganization(ctx context.Context, caller *identity.Principal, in *ListReceivedLicensesForOrganizationInput) (*ListReceivedLicensesForOrganizationOutput, error) {
	match, err := licenseFilters("ListReceivedLicensesForOrganization", in.Filters, "Beneficiary", "ProductSKU")
	if err != nil {
		return nil, err
	}
	p, err := readPage(ErrInvalidParameterValue, "ListReceivedLicensesForOrganization", digest(in.Filters)[:16], in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListReceivedLicensesForOrganizationOutput, error) {
		ids, err := s.organizationIDs(ctx, tx, caller, "ListReceivedLicensesForOrganization")
		if err != nil {
			return nil, err
		}
		grants, err := tx.Grants(ctx, store.GrantQuery{GranteeIDs: ids})
		if err != nil {
			return nil, err
		}
		now := s.now()
		best := map[string]*reachable{}
		for _, g := range grants {
			if g.Status == GrantRejected || g.Status == GrantDeleted {
				continue
			}
			l, err := tx.License(ctx, g.LicenseARN, 0)
			if err != nil {
				return nil, err
			}
			doc, err := grantOf(g)
			if err != nil {
				return nil, err
			}
			r := &reachable{License: l, GrantARN: g.ARN, Grant: doc, Operations: doc.GrantedOperations}
			if err := r.judge("", now, nil); err != nil {
				return nil, err
			}
			if cur := best[l.ARN]; cur == nil || r.better(cur) {
				best[l.ARN] = r
			}
		}
		rs := make([]*reachable, 0, len(best))
		for _, r := range best {
			rs = append(rs, r)
		}
		sel, err := selectLicenses(rs, nil, match, p.after)
		if err != nil {
			return nil, err
		}
		sel, next := cut(p, sel, func(g *GrantedLicense) string { return g.LicenseArn })
		return &ListReceivedLicensesForOrganizationOutput{Licenses: sel, NextToken: next}, nil
	})
}

// organizationIDs returns, for the management account of an organization, the grantee IDs
// of everything in it: the organization, its organizational units and its accounts.
func (s *Service) organizationIDs(ctx context.Context, tx *store.Tx, caller *identity.Principal, op string) ([]string, error) {
	o, err := tx.Organization(ctx, caller.AccountID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && o.ManagementAccount != caller.AccountID) {
		return nil, awserr.New(ErrAccessDenied, "%s is for the management account of an organization; account %s is not one.", op, caller.AccountID)
	}
	if err != nil {
		return nil, err
	}
	ids := []string{o.ID}
	accounts, err := tx.OrgAccounts(ctx, o.ID, store.OrgQuery{})
	if err != nil {
		return nil, err
	}
	for _, a := range accounts {
		ids = append(ids, a.ID)
	}
	ous, err := tx.OrganizationalUnits(ctx, o.ID, store.OrgQuery{})
	if err != nil {
		return nil, err
	}
	for _, u := range ous {
		ids = append(ids, u.ID)
	}
	return ids, nil
}

// grantOf decodes a stored grant version.
func grantOf(g *store.Grant) (*Grant, error) {
	var out Grant
	if err := json.Unmarshal([]byte(g.Body), &out); err != nil {
		return nil, fmt.Errorf("licensemanager: grant %s version %d: %w", g.ARN, g.Version, err)
	}
	out.Version = itoa(g.Version)
	return &out, nil
}
