package licensemanager

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// Grant statuses (GrantStatus).
const (
	GrantPendingWorkflow   = "PENDING_WORKFLOW"
	GrantPendingAccept     = "PENDING_ACCEPT"
	GrantRejected          = "REJECTED"
	GrantActive            = "ACTIVE"
	GrantFailedWorkflow    = "FAILED_WORKFLOW"
	GrantDeleted           = "DELETED"
	GrantPendingDelete     = "PENDING_DELETE"
	GrantDisabled          = "DISABLED"
	GrantWorkflowCompleted = "WORKFLOW_COMPLETED"
)

var grantStatuses = []string{GrantPendingWorkflow, GrantPendingAccept, GrantRejected, GrantActive, GrantFailedWorkflow,
	GrantDeleted, GrantPendingDelete, GrantDisabled, GrantWorkflowCompleted}

var activationOverrides = []string{"DISTRIBUTED_GRANTS_ONLY", "ALL_GRANTS_PERMITTED_BY_ISSUER"}

// MaxGrantsPerLicense is how many grants a license may have, as AWS documents.
const MaxGrantsPerLicense = 2000

// Options are the options of a grant version.
type Options struct {
	ActivationOverrideBehavior *string `json:",omitempty"`
}

// Grant is one version of a grant.
type Grant struct {
	GrantArn            string
	GrantName           string
	ParentArn           string
	LicenseArn          string
	GranteePrincipalArn string
	HomeRegion          string
	GrantStatus         string
	StatusReason        *string `json:",omitempty"`
	Version             string
	GrantedOperations   []string
	Options             *Options `json:",omitempty"`
}

var (
	grantARNPattern     = regexp.MustCompile(`^arn:aws:license-manager::(\d{12}):grant:g-[0-9a-f]{32}$`)
	accountPrincipalRE  = regexp.MustCompile(`^arn:aws:iam::(\d{12}):root$`)
	orgPrincipalRE      = regexp.MustCompile(`^arn:aws:organizations::(\d{12}):organization/(o-[a-z0-9]{10,32})$`)
	ouPrincipalRE       = regexp.MustCompile(`^arn:aws:organizations::(\d{12}):ou/(o-[a-z0-9]{10,32})/(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32})$`)
	statusReasonPattern = regexp.MustCompile(`^[\s\S]+$`)
)

// GrantARN returns the ARN of a grant: as in AWS, it has no region.
func GrantARN(accountID, id string) string {
	return "arn:aws:license-manager::" + accountID + ":grant:" + id
}

func newGrantID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "g-" + hex.EncodeToString(b)
}

// Grantee kinds.
const (
	granteeKindAccount      = "account"
	granteeKindOrganization = "organization"
	granteeKindOU           = "ou"
)

type principal struct {
	kind, id, management, org string
}

// parsePrincipal parses a grantee principal ARN.
func parsePrincipal(arn string) (*principal, error) {
	if m := accountPrincipalRE.FindStringSubmatch(arn); m != nil {
		return &principal{kind: granteeKindAccount, id: m[1]}, nil
	}
	if m := orgPrincipalRE.FindStringSubmatch(arn); m != nil {
		return &principal{kind: granteeKindOrganization, id: m[2], management: m[1], org: m[2]}, nil
	}
	if m := ouPrincipalRE.FindStringSubmatch(arn); m != nil {
		return &principal{kind: granteeKindOU, id: m[3], management: m[1], org: m[2]}, nil
	}
	return nil, validation("Principals[0] %q is not a grantee: send an account (arn:aws:iam::ACCOUNT:root), an organization (arn:aws:organizations::MANAGEMENT-ACCOUNT:organization/o-…) or an organizational unit (arn:aws:organizations::MANAGEMENT-ACCOUNT:ou/o-…/ou-…).", arn)
}

// checkGrantee checks that a grantee exists on this server.
func checkGrantee(ctx context.Context, tx *store.Tx, p *principal, arn string) error {
	switch p.kind {
	case granteeKindAccount:
		if _, err := tx.Account(ctx, p.id); errors.Is(err, store.ErrNotFound) {
			return validation("Principals[0] %s: there is no account %s.", arn, p.id)
		} else if err != nil {
			return err
		}
	default:
		o, err := tx.Organization(ctx, p.management)
		if errors.Is(err, store.ErrNotFound) || (err == nil && (o.ID != p.org || o.ManagementAccount != p.management)) {
			return validation("Principals[0] %s: there is no organization %s with management account %s.", arn, p.org, p.management)
		}
		if err != nil {
			return err
		}
		if p.kind == granteeKindOU {
			if _, err := tx.OrganizationalUnit(ctx, o.ID, p.id); errors.Is(err, store.ErrNotFound) {
				return validation("Principals[0] %s: organization %s has no organizational unit %s.", arn, o.ID, p.id)
			} else if err != nil {
				return err
			}
		}
	}
	return nil
}

func checkGrantARN(code, member, v string) error {
	if v == "" {
		return awserr.New(code, "%s is required.", member)
	}
	if len(v) > 2048 || !grantARNPattern.MatchString(v) {
		return awserr.New(code, "%s must be a grant ARN (arn:aws:license-manager::ACCOUNT:grant:g-…), not %q.", member, v)
	}
	return nil
}

func checkOperations(member string, ops []string, req bool) error {
	if len(ops) == 0 {
		if req {
			return validation("%s is required: send 1 to %d of %s.", member, len(allowedOperations), strings.Join(allowedOperations, ", "))
		}
		return nil
	}
	if len(ops) > len(allowedOperations) {
		return validation("%s may have at most %d values, not %d.", member, len(allowedOperations), len(ops))
	}
	seen := map[string]bool{}
	for i, op := range ops {
		if err := checkEnum(ErrValidation, fmt.Sprintf("%s[%d]", member, i), op, true, allowedOperations); err != nil {
			return err
		}
		if seen[op] {
			return validation("%s has %s twice.", member, op)
		}
		seen[op] = true
	}
	return nil
}

func checkStatusReason(v *string) error {
	if v == nil {
		return nil
	}
	if len(*v) > 400 || !statusReasonPattern.MatchString(*v) {
		return validation("StatusReason must have 1 to 400 characters.")
	}
	return nil
}

// grantRow encodes a grant version for the store.
func grantRow(g *Grant, accountID string, p *principal, version int64, created, now time.Time) (*store.Grant, error) {
	g.Version = itoa(version)
	b, err := json.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("licensemanager: encode grant: %w", err)
	}
	return &store.Grant{
		ARN: g.GrantArn, AccountID: accountID, LicenseARN: g.LicenseArn, ParentARN: g.ParentArn, Grantee: g.GranteePrincipalArn,
		GranteeKind: p.kind, GranteeID: p.id, HomeRegion: g.HomeRegion, Version: version, Status: g.GrantStatus, Body: string(b),
		CreatedAt: created, VersionAt: now,
	}, nil
}

// subsetOf returns the operations of ops not in of.
func notIn(ops, of []string) []string {
	var out []string
	for _, op := range ops {
		if !slices.Contains(of, op) {
			out = append(out, op)
		}
	}
	return out
}

// CreateGrantInput is the input of CreateGrant.
type CreateGrantInput struct {
	ClientToken       string
	GrantName         string
	LicenseArn        string
	Principals        []string
	HomeRegion        string
	AllowedOperations []string
	Tags              []Tag
}

// GrantOutput is the output of CreateGrant, CreateGrantVersion, AcceptGrant, RejectGrant and
// DeleteGrant.
type GrantOutput struct {
	GrantArn string
	Status   string
	Version  string
}

// CreateGrant grants a license to one principal: an account, an organization or an
// organizational unit. The caller's account is the license's issuer, or a grantee whose
// active grant allows CreateGrant (its new grant may allow only what its own allows). The
// grant starts PENDING_ACCEPT: the grantee accepts it, then activates it. It must be made in
// the license's home region. Errors: ValidationException, InvalidParameterValueException (no
// such license reached the account), AccessDeniedException (the grant the account holds does
// not allow it), ResourceLimitExceededException.
func (s *Service) CreateGrant(ctx context.Context, caller *identity.Principal, in *CreateGrantInput) (*GrantOutput, error) {
	if err := checkString(ErrValidation, "GrantName", in.GrantName, true, 255); err != nil {
		return nil, err
	}
	if err := checkLicenseARN(ErrValidation, "LicenseArn", in.LicenseArn); err != nil {
		return nil, err
	}
	if len(in.Principals) != 1 {
		return nil, validation("Principals must have exactly one principal, not %d: make one grant per grantee.", len(in.Principals))
	}
	p, err := parsePrincipal(in.Principals[0])
	if err != nil {
		return nil, err
	}
	if err := checkString(ErrValidation, "HomeRegion", in.HomeRegion, true, 64); err != nil {
		return nil, err
	}
	if err := checkOperations("AllowedOperations", in.AllowedOperations, true); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if err := checkClientToken(in.ClientToken); err != nil {
		return nil, err
	}
	if p.kind == granteeKindAccount && p.id == caller.AccountID {
		return nil, validation("Principals[0] is the caller's own account %s: a grant gives a license to another account.", caller.AccountID)
	}
	dgst := digest(in)
	region := requestRegion(ctx)
	arn := GrantARN(caller.AccountID, newGrantID())
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*GrantOutput, error) {
		if out, err := replay[GrantOutput](ctx, tx, caller, "CreateGrant", in.ClientToken, dgst); out != nil || err != nil {
			return out, err
		}
		rs, err := s.reachableLicenses(ctx, tx, caller, licenseQuery{ARN: in.LicenseArn, Operation: OpCreateGrant})
		if err != nil {
			return nil, err
		}
		if len(rs) == 0 {
			return nil, awserr.New(ErrInvalidParameterValue, "License %s does not exist or has not been granted to account %s.", in.LicenseArn, caller.AccountID)
		}
		r := rs[0]
		if r.Reason != "" {
			return nil, awserr.New(ErrAccessDenied, "Account %s cannot grant license %s: %s.", caller.AccountID, in.LicenseArn, r.Reason)
		}
		if in.HomeRegion != r.License.HomeRegion || (region != "" && region != r.License.HomeRegion) {
			return nil, validation("Grants of license %s are made in its home Region, %s: send the request to %s with HomeRegion %s.",
				in.LicenseArn, r.License.HomeRegion, r.License.HomeRegion, r.License.HomeRegion)
		}
		parent := in.LicenseArn
		if !r.Issued() {
			parent = r.GrantARN
			if extra := notIn(in.AllowedOperations, r.Operations); len(extra) > 0 {
				return nil, validation("AllowedOperations has %s, which grant %s (the account's own) does not allow: a grant can pass on only %s.",
					strings.Join(extra, ", "), r.GrantARN, strings.Join(r.Operations, ", "))
			}
			if p.kind == granteeKindAccount && p.id == r.License.AccountID {
				return nil, validation("Principals[0] is account %s, the license's issuer.", p.id)
			}
		}
		if err := checkGrantee(ctx, tx, p, in.Principals[0]); err != nil {
			return nil, err
		}
		existing, err := tx.Grants(ctx, store.GrantQuery{LicenseARNs: []string{in.LicenseArn}, Limit: MaxGrantsPerLicense})
		if err != nil {
			return nil, err
		}
		if len(existing) >= MaxGrantsPerLicense {
			return nil, awserr.New(ErrResourceLimitExceeded, "License %s has %d grants, the most a license may have: delete grants it no longer needs.", in.LicenseArn, MaxGrantsPerLicense)
		}
		now := tx.Now().UTC()
		g := &Grant{GrantArn: arn, GrantName: in.GrantName, ParentArn: parent, LicenseArn: in.LicenseArn, GranteePrincipalArn: in.Principals[0],
			HomeRegion: r.License.HomeRegion, GrantStatus: GrantPendingAccept, GrantedOperations: in.AllowedOperations}
		row, err := grantRow(g, caller.AccountID, p, 1, now, now)
		if err != nil {
			return nil, err
		}
		if err := tx.CreateGrant(ctx, row); err != nil {
			return nil, err
		}
		if err := tx.TagLicenseResource(ctx, arn, storeTags(in.Tags)); err != nil {
			return nil, err
		}
		out := &GrantOutput{GrantArn: arn, Status: GrantPendingAccept, Version: "1"}
		return out, remember(ctx, tx, caller, "CreateGrant", in.ClientToken, dgst, out, now)
	})
}

// grantParty is how the caller's account stands to a grant.
type grantParty struct {
	grant    *store.Grant
	doc      *Grant
	p        *principal
	grantor  bool // the caller's account made the grant
	acceptor bool // the caller's account accepts, activates and rejects it
	grantee  bool // the grant reaches the caller's account
}

// partyTo reads a grant and how the caller's account stands to it; a grant that neither
// came from nor reached the account is code.
func (s *Service) partyTo(ctx context.Context, tx *store.Tx, caller *identity.Principal, code, arn string, version int64) (*grantParty, error) {
	g, err := tx.Grant(ctx, arn, version)
	notFound := awserr.New(code, "Grant %s does not exist, or was neither made by nor made to account %s.", arn, caller.AccountID)
	if version != 0 {
		notFound = awserr.New(code, "Grant %s has no version %d that account %s can see.", arn, version, caller.AccountID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	doc, err := grantOf(g)
	if err != nil {
		return nil, err
	}
	p, err := parsePrincipal(g.Grantee)
	if err != nil {
		return nil, fmt.Errorf("licensemanager: grant %s: %w", arn, err)
	}
	gp := &grantParty{grant: g, doc: doc, p: p, grantor: g.AccountID == caller.AccountID}
	switch p.kind {
	case granteeKindAccount:
		gp.acceptor = p.id == caller.AccountID
		gp.grantee = gp.acceptor
	default:
		gp.acceptor = p.management == caller.AccountID
		ids, _, err := granteeIDs(ctx, tx, caller.AccountID)
		if err != nil {
			return nil, err
		}
		gp.grantee = slices.Contains(ids, p.id)
	}
	if !gp.grantor && !gp.grantee && !gp.acceptor {
		return nil, notFound
	}
	return gp, nil
}

// GetGrantInput is the input of GetGrant.
type GetGrantInput struct {
	GrantArn string
	Version  string
}

// GetGrantOutput is the output of GetGrant.
type GetGrantOutput struct {
	Grant *Grant
}

// GetGrant returns a grant the caller's account made or received, at its current version or
// at Version. Errors: ValidationException, InvalidParameterValueException (no such grant).
func (s *Service) GetGrant(ctx context.Context, caller *identity.Principal, in *GetGrantInput) (*GetGrantOutput, error) {
	if err := checkGrantARN(ErrValidation, "GrantArn", in.GrantArn); err != nil {
		return nil, err
	}
	v, err := parseVersion(ErrValidation, "Version", in.Version, false)
	if err != nil {
		return nil, err
	}
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*GetGrantOutput, error) {
		gp, err := s.partyTo(ctx, tx, caller, ErrInvalidParameterValue, in.GrantArn, v)
		if err != nil {
			return nil, err
		}
		return &GetGrantOutput{Grant: gp.doc}, nil
	})
}

// newGrantVersion writes the next version of gp's grant, made from doc.
func newGrantVersion(ctx context.Context, tx *store.Tx, gp *grantParty, doc *Grant) (*GrantOutput, error) {
	v := gp.grant.Version + 1
	row, err := grantRow(doc, gp.grant.AccountID, gp.p, v, gp.grant.CreatedAt, tx.Now().UTC())
	if err != nil {
		return nil, err
	}
	if err := tx.PutGrantVersion(ctx, row); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, validation("Grant %s changed while this version was written: read it again and retry.", gp.grant.ARN)
		}
		return nil, err
	}
	return &GrantOutput{GrantArn: doc.GrantArn, Status: doc.GrantStatus, Version: itoa(v)}, nil
}

// AcceptGrantInput is the input of AcceptGrant and RejectGrant.
type AcceptGrantInput struct {
	GrantArn string
}

// AcceptGrant accepts a PENDING_ACCEPT grant made to the caller's account (or, for a grant
// to an organization or organizational unit, to the organization whose management account
// the caller's is). An accepted grant is DISABLED until it is activated with
// CreateGrantVersion and Status ACTIVE. Errors: ValidationException,
// InvalidParameterValueException (no such grant), AccessDeniedException (the caller's account
// is not the one that accepts it).
func (s *Service) AcceptGrant(ctx context.Context, caller *identity.Principal, in *AcceptGrantInput) (*GrantOutput, error) {
	return s.answerGrant(ctx, caller, in, GrantDisabled, "accept")
}

// RejectGrant rejects a PENDING_ACCEPT grant, for good: a rejected grant gives nothing and
// cannot be accepted later. Who may reject it and the errors are as for AcceptGrant.
func (s *Service) RejectGrant(ctx context.Context, caller *identity.Principal, in *AcceptGrantInput) (*GrantOutput, error) {
	return s.answerGrant(ctx, caller, in, GrantRejected, "reject")
}

func (s *Service) answerGrant(ctx context.Context, caller *identity.Principal, in *AcceptGrantInput, status, verb string) (*GrantOutput, error) {
	if err := checkGrantARN(ErrValidation, "GrantArn", in.GrantArn); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*GrantOutput, error) {
		gp, err := s.partyTo(ctx, tx, caller, ErrInvalidParameterValue, in.GrantArn, 0)
		if err != nil {
			return nil, err
		}
		if !gp.acceptor {
			return nil, awserr.New(ErrAccessDenied, "Account %s cannot %s grant %s: %s does.", caller.AccountID, verb, in.GrantArn, acceptor(gp.doc))
		}
		if gp.doc.GrantStatus != GrantPendingAccept {
			return nil, validation("Grant %s is %s: only a PENDING_ACCEPT grant can be %s.", in.GrantArn, gp.doc.GrantStatus, verb+"ed")
		}
		doc := *gp.doc
		doc.GrantStatus, doc.StatusReason = status, nil
		return newGrantVersion(ctx, tx, gp, &doc)
	})
}

// CreateGrantVersionInput is the input of CreateGrantVersion.
type CreateGrantVersionInput struct {
	ClientToken       string
	GrantArn          string
	GrantName         *string
	AllowedOperations []string
	Status            string
	StatusReason      *string
	SourceVersion     string
	Options           *Options
}

// CreateGrantVersion writes a new version of a grant. Its grantor may change GrantName and
// AllowedOperations (within what its own grant allows, for a grant made under another); the
// grantor or the account that accepted it may set Status to ACTIVE (activate) or DISABLED
// (deactivate) once the grant is accepted, with a StatusReason. SourceVersion, when sent,
// must be the current version. Errors: ValidationException, InvalidParameterValueException
// (no such grant), AccessDeniedException (a change the caller's account may not make).
func (s *Service) CreateGrantVersion(ctx context.Context, caller *identity.Principal, in *CreateGrantVersionInput) (*GrantOutput, error) {
	if err := checkClientToken(in.ClientToken); err != nil {
		return nil, err
	}
	if err := checkGrantARN(ErrValidation, "GrantArn", in.GrantArn); err != nil {
		return nil, err
	}
	if in.GrantName != nil {
		if err := checkString(ErrValidation, "GrantName", *in.GrantName, true, 255); err != nil {
			return nil, err
		}
	}
	if err := checkOperations("AllowedOperations", in.AllowedOperations, false); err != nil {
		return nil, err
	}
	if err := checkEnum(ErrValidation, "Status", in.Status, false, grantStatuses); err != nil {
		return nil, err
	}
	if in.Status != "" && in.Status != GrantActive && in.Status != GrantDisabled {
		return nil, validation("Status %s is not set with CreateGrantVersion: send ACTIVE or DISABLED, and use AcceptGrant, RejectGrant or DeleteGrant for the rest.", in.Status)
	}
	if err := checkStatusReason(in.StatusReason); err != nil {
		return nil, err
	}
	if in.Options != nil && in.Options.ActivationOverrideBehavior != nil {
		if err := checkEnum(ErrValidation, "Options.ActivationOverrideBehavior", *in.Options.ActivationOverrideBehavior, true, activationOverrides); err != nil {
			return nil, err
		}
		if in.Status != GrantActive {
			return nil, validation("Options.ActivationOverrideBehavior goes with Status ACTIVE.")
		}
	}
	src, err := parseVersion(ErrValidation, "SourceVersion", in.SourceVersion, false)
	if err != nil {
		return nil, err
	}
	if in.GrantName == nil && len(in.AllowedOperations) == 0 && in.Status == "" && in.StatusReason == nil {
		return nil, validation("CreateGrantVersion needs a change: GrantName, AllowedOperations, Status or StatusReason.")
	}
	dgst := digest(in)
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*GrantOutput, error) {
		if out, err := replay[GrantOutput](ctx, tx, caller, "CreateGrantVersion", in.ClientToken, dgst); out != nil || err != nil {
			return out, err
		}
		gp, err := s.partyTo(ctx, tx, caller, ErrInvalidParameterValue, in.GrantArn, 0)
		if err != nil {
			return nil, err
		}
		if src != 0 && src != gp.grant.Version {
			return nil, validation("SourceVersion %d is not the current version of grant %s, %d: read it again and base the change on it.", src, in.GrantArn, gp.grant.Version)
		}
		doc := *gp.doc
		if (in.GrantName != nil || len(in.AllowedOperations) > 0) && !gp.grantor {
			return nil, awserr.New(ErrAccessDenied, "Only the grantor, account %s, can change the name or the allowed operations of grant %s.", gp.grant.AccountID, in.GrantArn)
		}
		switch doc.GrantStatus {
		case GrantRejected, GrantDeleted:
			return nil, validation("Grant %s is %s: it takes no new versions.", in.GrantArn, doc.GrantStatus)
		}
		if in.GrantName != nil {
			doc.GrantName = *in.GrantName
		}
		if len(in.AllowedOperations) > 0 {
			if grantARNPattern.MatchString(doc.ParentArn) {
				parent, err := tx.Grant(ctx, doc.ParentArn, 0)
				if err != nil {
					return nil, err
				}
				pd, err := grantOf(parent)
				if err != nil {
					return nil, err
				}
				if extra := notIn(in.AllowedOperations, pd.GrantedOperations); len(extra) > 0 {
					return nil, validation("AllowedOperations has %s, which grant %s (the one this grant was made under) does not allow.", strings.Join(extra, ", "), pd.GrantArn)
				}
			}
			doc.GrantedOperations = in.AllowedOperations
		}
		if in.Status != "" {
			if !gp.grantor && !gp.acceptor {
				return nil, awserr.New(ErrAccessDenied, "Account %s cannot change the status of grant %s: %s or its grantor, account %s, can.", caller.AccountID, in.GrantArn, acceptor(gp.doc), gp.grant.AccountID)
			}
			if doc.GrantStatus == GrantPendingAccept {
				return nil, validation("Grant %s is PENDING_ACCEPT: %s must accept it (AcceptGrant) before it can be activated.", in.GrantArn, acceptor(gp.doc))
			}
			doc.GrantStatus = in.Status
		}
		if in.StatusReason != nil || in.Status != "" {
			doc.StatusReason = in.StatusReason
		}
		if in.Options != nil {
			doc.Options = in.Options
		}
		out, err := newGrantVersion(ctx, tx, gp, &doc)
		if err != nil {
			return nil, err
		}
		return out, remember(ctx, tx, caller, "CreateGrantVersion", in.ClientToken, dgst, out, tx.Now().UTC())
	})
}

// DeleteGrantInput is the input of DeleteGrant.
type DeleteGrantInput struct {
	GrantArn     string
	StatusReason *string
	Version      string
}

// DeleteGrant deletes a grant the caller's account made: it writes a last version with
// status DELETED. The license stops reaching the grantee, and every grant made under this
// one stops working; checkouts already made run until they expire. Version must be the
// current version. Errors: ValidationException, InvalidParameterValueException (no such
// grant), AccessDeniedException (not the grantor).
func (s *Service) DeleteGrant(ctx context.Context, caller *identity.Principal, in *DeleteGrantInput) (*GrantOutput, error) {
	if err := checkGrantARN(ErrValidation, "GrantArn", in.GrantArn); err != nil {
		return nil, err
	}
	v, err := parseVersion(ErrValidation, "Version", in.Version, true)
	if err != nil {
		return nil, err
	}
	if err := checkStatusReason(in.StatusReason); err != nil {
		return nil, err
	}
	return store.Apply(ctx, s.DB, func(tx *store.Tx) (*GrantOutput, error) {
		gp, err := s.partyTo(ctx, tx, caller, ErrInvalidParameterValue, in.GrantArn, 0)
		if err != nil {
			return nil, err
		}
		if !gp.grantor {
			return nil, awserr.New(ErrAccessDenied, "Only the grantor, account %s, can delete grant %s; the grantee can reject or deactivate it.", gp.grant.AccountID, in.GrantArn)
		}
		if gp.doc.GrantStatus == GrantDeleted {
			return nil, validation("Grant %s is already deleted.", in.GrantArn)
		}
		if v != gp.grant.Version {
			return nil, validation("Version %d is not the current version of grant %s, %d.", v, in.GrantArn, gp.grant.Version)
		}
		doc := *gp.doc
		doc.GrantStatus, doc.StatusReason = GrantDeleted, in.StatusReason
		return newGrantVersion(ctx, tx, gp, &doc)
	})
}

// ListDistributedGrantsInput is the input of ListDistributedGrants.
type ListDistributedGrantsInput struct {
	GrantArns  []string
	Filters    []Filter
	NextToken  *string
	MaxResults *int32
}

// ListGrantsOutput is the output of the grant lists.
type ListGrantsOutput struct {
	Grants    []*Grant
	NextToken *string `json:",omitempty"`
}

// ListDistributedGrants lists the grants the caller's account made, current versions, in
// ARN order. Filters: LicenseArn, GrantStatus, GranteePrincipalARN, ProductSKU,
// LicenseIssuerName. Errors: ValidationException, InvalidParameterValueException.
func (s *Service) ListDistributedGrants(ctx context.Context, caller *identity.Principal, in *ListDistributedGrantsInput) (*ListGrantsOutput, error) {
	q := store.GrantQuery{GrantorAccount: caller.AccountID}
	err := grantFilters("ListDistributedGrants", in.Filters, &q, map[string]*[]string{
		"LicenseArn": &q.LicenseARNs, "GrantStatus": &q.Statuses, "GranteePrincipalARN": &q.Grantees,
		"ProductSKU": &q.ProductSKUs, "LicenseIssuerName": &q.IssuerNames,
	})
	if err != nil {
		return nil, err
	}
	return s.listGrants(ctx, caller, "ListDistributedGrants", in.GrantArns, in.Filters, in.MaxResults, in.NextToken, q, nil)
}

// ListReceivedGrantsInput is the input of ListReceivedGrants.
type ListReceivedGrantsInput struct {
	GrantArns  []string
	Filters    []Filter
	NextToken  *string
	MaxResults *int32
}

// ListReceivedGrants lists the grants made to the caller's account, to its organization or
// to an organizational unit it is in, current versions, in ARN order. Filters: ProductSKU,
// LicenseIssuerName, LicenseArn, GrantStatus, GranterAccountId. Errors: ValidationException,
// InvalidParameterValueException.
func (s *Service) ListReceivedGrants(ctx context.Context, caller *identity.Principal, in *ListReceivedGrantsInput) (*ListGrantsOutput, error) {
	q := store.GrantQuery{}
	err := grantFilters("ListReceivedGrants", in.Filters, &q, map[string]*[]string{
		"ProductSKU": &q.ProductSKUs, "LicenseIssuerName": &q.IssuerNames, "LicenseArn": &q.LicenseARNs,
		"GrantStatus": &q.Statuses, "GranterAccountId": &q.GrantorIDs,
	})
	if err != nil {
		return nil, err
	}
	return s.listGrants(ctx, caller, "ListReceivedGrants", in.GrantArns, in.Filters, in.MaxResults, in.NextToken, q,
		func(tx *store.Tx) ([]string, error) {
			ids, _, err := granteeIDs(ctx, tx, caller.AccountID)
			return ids, err
		})
}

// ListReceivedGrantsForOrganizationInput is the input of ListReceivedGrantsForOrganization.
type ListReceivedGrantsForOrganizationInput struct {
	LicenseArn string
	Filters    []Filter
	NextToken  *string
	MaxResults *int32
}

// ListReceivedGrantsForOrganization lists, for an organization's management account, the
// grants of one license made to any account of the organization, to the organization or to
// one of its organizational units. Filters: ParentArn, GranteePrincipalArn. Errors:
// ValidationException, InvalidParameterValueException, AccessDeniedException (not the
// management account of an organization).
func (s *Service) ListReceivedGrantsForOrganization(ctx context.Context, caller *identity.Principal, in *ListReceivedGrantsForOrganizationInput) (*ListGrantsOutput, error) {
	if err := checkLicenseARN(ErrValidation, "LicenseArn", in.LicenseArn); err != nil {
		return nil, err
	}
	q := store.GrantQuery{LicenseARNs: []string{in.LicenseArn}}
	err := grantFilters("ListReceivedGrantsForOrganization", in.Filters, &q, map[string]*[]string{
		"ParentArn": &q.ParentARNs, "GranteePrincipalArn": &q.Grantees,
	})
	if err != nil {
		return nil, err
	}
	return s.listGrants(ctx, caller, "ListReceivedGrantsForOrganization", nil, in.Filters, in.MaxResults, in.NextToken, q,
		func(tx *store.Tx) ([]string, error) {
			return s.organizationIDs(ctx, tx, caller, "ListReceivedGrantsForOrganization")
		})
}

// grantFilters checks Filters and adds their values to the query fields names maps to.
func grantFilters(op string, filters []Filter, q *store.GrantQuery, names map[string]*[]string) error {
	if len(filters) > 10 {
		return awserr.New(ErrInvalidParameterValue, "Filters may have at most 10 filters, not %d.", len(filters))
	}
	for _, f := range filters {
		name := ""
		if f.Name != nil {
			name = *f.Name
		}
		dst, ok := names[name]
		if !ok {
			known := make([]string, 0, len(names))
			for n := range names {
				known = append(known, n)
			}
			slices.Sort(known)
			return awserr.New(ErrInvalidParameterValue, "Filter name %q is not one %s supports: use %s.", name, op, strings.Join(known, ", "))
		}
		if len(f.Values) == 0 || len(f.Values) > 50 {
			return awserr.New(ErrInvalidParameterValue, "Filter %s needs 1 to 50 values.", name)
		}
		*dst = append(*dst, f.Values...)
	}
	return nil
}

func (s *Service) listGrants(ctx context.Context, caller *identity.Principal, op string, arns []string, filters []Filter,
	maxResults *int32, nextToken *string, q store.GrantQuery, grantees func(*store.Tx) ([]string, error)) (*ListGrantsOutput, error) {
	for i, a := range arns {
		if err := checkGrantARN(ErrValidation, fmt.Sprintf("GrantArns[%d]", i), a); err != nil {
			return nil, err
		}
	}
	q.ARNs = arns
	p, err := readPage(ErrInvalidParameterValue, op, digest(filters)[:16]+digest(arns)[:16]+digest(q.LicenseARNs)[:8], maxResults, nextToken)
	if err != nil {
		return nil, err
	}
	q.After, q.Limit = p.after, p.limit+1
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*ListGrantsOutput, error) {
		if grantees != nil {
			ids, err := grantees(tx)
			if err != nil {
				return nil, err
			}
			q.GranteeIDs = ids
		}
		rows, err := tx.Grants(ctx, q)
		if err != nil {
			return nil, err
		}
		rows, next := cut(p, rows, func(g *store.Grant) string { return g.ARN })
		out := &ListGrantsOutput{Grants: []*Grant{}, NextToken: next}
		for _, r := range rows {
			g, err := grantOf(r)
			if err != nil {
				return nil, err
			}
			out.Grants = append(out.Grants, g)
		}
		return out, nil
	})
}

// GrantResource returns the ARN operations on a grant are authorized against: the ARN sent
// when it is a grant's, else "*".
func GrantResource(arn string) string {
	if grantARNPattern.MatchString(arn) {
		return arn
	}
	return "*"
}
