package licensemanager

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awstime"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// Checkout types (CheckoutType) and the one DigitalSignatureMethod.
const (
	CheckoutProvisional = "PROVISIONAL"
	CheckoutPerpetual   = "PERPETUAL"
	SignatureJWTPS384   = "JWT_PS384"
)

var checkoutTypes = []string{CheckoutProvisional, CheckoutPerpetual}

// reclaimBatch is how many expired checkouts one transaction reclaims.
const reclaimBatch = 500

// EntitlementData is an entitlement a checkout asks for or was allowed; Value is the units of a counted unit.
type EntitlementData struct {
	Name  string
	Value *string `json:",omitempty"`
	Unit  string
}

// wanted is a requested entitlement, checked: units is what to take of a counted unit.
type wanted struct {
	EntitlementData
	index int // in the request
	units int64
}

// checkEntitlementData checks the Entitlements member of a checkout and returns them in name
// order (the order counters are locked in).
func checkEntitlementData(es []EntitlementData) ([]wanted, error) {
	if len(es) == 0 {
		return nil, validation("Entitlements is required: name the entitlements to check out, such as {Name: Seats, Unit: Count, Value: \"1\"}.")
	}
	if len(es) > 100 {
		return nil, validation("Entitlements may have at most 100 entries, not %d.", len(es))
	}
	seen := map[string]bool{}
	ws := make([]wanted, 0, len(es))
	for i, e := range es {
		m := fmt.Sprintf("Entitlements[%d]", i)
		if err := checkString(ErrValidation, m+".Name", e.Name, true, 255); err != nil {
			return nil, err
		}
		if seen[e.Name] {
			return nil, validation("%s.Name %q appears twice: ask for each entitlement once.", m, e.Name)
		}
		seen[e.Name] = true
		if err := checkEnum(ErrValidation, m+".Unit", e.Unit, true, entitlementUnits); err != nil {
			return nil, err
		}
		w := wanted{EntitlementData: e, index: i}
		switch {
		case e.Unit == "None":
			if e.Value != nil && len(*e.Value) > 1024 {
				return nil, validation("%s.Value must have at most 1024 characters.", m)
			}
		case e.Value == nil || *e.Value == "":
			return nil, validation("%s (%s) needs Value: the number of %s to check out, a whole number such as \"1\".", m, e.Name, e.Unit)
		default:
			n, err := strconv.ParseInt(*e.Value, 10, 64)
			if err != nil || n < 1 {
				return nil, validation("%s (%s).Value must be a whole number of %s of at least 1, not %q.", m, e.Name, e.Unit, *e.Value)
			}
			w.units = n
		}
		ws = append(ws, w)
	}
	slices.SortFunc(ws, func(a, b wanted) int { return strings.Compare(a.Name, b.Name) })
	return ws, nil
}

func checkMetadata(member string, ms []Metadata) error {
	if len(ms) > 50 {
		return validation("%s may have at most 50 entries, not %d.", member, len(ms))
	}
	for i, m := range ms {
		name := ""
		if m.Name != nil {
			name = *m.Name
		}
		if err := checkString(ErrValidation, fmt.Sprintf("%s[%d].Name", member, i), name, true, 255); err != nil {
			return err
		}
		if m.Value != nil && len(*m.Value) > 1024 {
			return validation("%s[%d].Value must have at most 1024 characters.", member, i)
		}
	}
	return nil
}

// limitsOf returns the usage limits of a license version's entitlements.
func limitsOf(es []Entitlement) []store.EntitlementLimit {
	out := make([]store.EntitlementLimit, 0, len(es))
	for _, e := range es {
		l := store.EntitlementLimit{Name: deref(e.Name), Unit: deref(e.Unit), Overage: deref(e.Overage)}
		if l.Unit != "None" {
			switch {
			case e.MaxCount != nil:
				l.MaxCount = e.MaxCount
			case e.Value != nil:
				if n, err := strconv.ParseInt(*e.Value, 10, 64); err == nil && n >= 0 {
					l.MaxCount = &n
				}
			}
		}
		out = append(out, l)
	}
	return out
}

// syncUsage makes the usage counters of a license follow the version d being written, in
// its transaction: limits from d, units out kept; an entitlement d no longer has keeps its
// units out until they return, and gives no more.
func syncUsage(ctx context.Context, tx *store.Tx, d *licenseDoc) error {
	return tx.PutEntitlementLimits(ctx, d.LicenseArn, limitsOf(d.Entitlements))
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// docOf decodes a stored license version with what outputs do not show.
func docOf(l *store.License) (*licenseDoc, error) {
	var d licenseDoc
	if err := json.Unmarshal([]byte(l.Body), &d); err != nil {
		return nil, fmt.Errorf("licensemanager: license %s version %d: %w", l.ARN, l.Version, err)
	}
	return &d, nil
}

// take takes the entitlements ws of license d at now: each one not counted that d has (with
// the value asked, when one is), and the units of each counted one that its counter allows
// (one conditional UPDATE each). When a counted one does not fit, it reclaims the license's
// expired checkouts and tries once more. It returns what it took, in request order, and a
// sentence per entitlement it could not take; unknown reports which of those d lacks (or
// counts in another unit).
func take(ctx context.Context, tx *store.Tx, d *licenseDoc, ws []wanted, now time.Time) (got []store.CheckoutEntitlement, why []string, unknown bool, err error) {
	arn := d.LicenseArn
	byName := make(map[string]*Entitlement, len(d.Entitlements))
	for i := range d.Entitlements {
		byName[deref(d.Entitlements[i].Name)] = &d.Entitlements[i]
	}
	type took struct {
		index int
		e     store.CheckoutEntitlement
	}
	var taken []took
	var pending []wanted
	counted := func(w wanted) store.CheckoutEntitlement { return granted(w, byName[w.Name]) }
	for _, w := range ws {
		e := byName[w.Name]
		if reason, unk := refused(w, e); reason != "" {
			why, unknown = append(why, reason), unknown || unk
			continue
		}
		switch {
		case w.Unit == "None":
			taken = append(taken, took{w.index, granted(w, e)})
		default:
			ok, err := tx.ConsumeEntitlement(ctx, arn, w.Name, w.units)
			if err != nil {
				return nil, nil, false, err
			}
			if ok {
				taken = append(taken, took{w.index, counted(w)})
			} else {
				pending = append(pending, w)
			}
		}
	}
	if len(pending) > 0 {
		// Expired checkouts may hold the units; a license older than its counters has none.
		counters, err := tx.EntitlementCounters(ctx, arn)
		if err != nil {
			return nil, nil, false, err
		}
		if len(counters) == 0 {
			if err := syncUsage(ctx, tx, d); err != nil {
				return nil, nil, false, err
			}
		}
		if _, err := tx.ReclaimExpiredCheckouts(ctx, now, arn, reclaimBatch); err != nil {
			return nil, nil, false, err
		}
		var still []wanted
		for _, w := range pending {
			ok, err := tx.ConsumeEntitlement(ctx, arn, w.Name, w.units)
			if err != nil {
				return nil, nil, false, err
			}
			if ok {
				taken = append(taken, took{w.index, counted(w)})
			} else {
				still = append(still, w)
			}
		}
		if len(still) > 0 {
			if counters, err = tx.EntitlementCounters(ctx, arn); err != nil {
				return nil, nil, false, err
			}
			for _, w := range still {
				why = append(why, exhausted(w, counters))
			}
		}
	}
	slices.SortFunc(taken, func(a, b took) int { return cmp.Compare(a.index, b.index) })
	for _, t := range taken {
		got = append(got, t.e)
	}
	return got, why, unknown, nil
}

// refused returns why w cannot be taken from the license's entitlement e (nil: none of
// that name) whatever its counter says, and whether the license lacks it (or counts it in
// another unit); "" when it can be.
func refused(w wanted, e *Entitlement) (reason string, unknown bool) {
	switch {
	case e == nil:
		return fmt.Sprintf("%s: the license has no such entitlement", w.Name), true
	case deref(e.Unit) != w.Unit:
		return fmt.Sprintf("%s: the license counts it in %s, not %s", w.Name, deref(e.Unit), w.Unit), true
	case w.Unit == "None" && w.Value != nil && *w.Value != "" && *w.Value != deref(e.Value):
		return fmt.Sprintf("%s: the license has %q, not %q", w.Name, deref(e.Value), *w.Value), false
	}
	return "", false
}

// granted is what a checkout records of w taken from the license's entitlement e.
func granted(w wanted, e *Entitlement) store.CheckoutEntitlement {
	if w.Unit == "None" {
		return store.CheckoutEntitlement{Name: w.Name, Unit: "None", Value: deref(e.Value), AllowCheckIn: deref(e.AllowCheckIn)}
	}
	return store.CheckoutEntitlement{Name: w.Name, Unit: w.Unit, Value: itoa(w.units), Units: w.units, AllowCheckIn: deref(e.AllowCheckIn)}
}

// exhausted says why w does not fit its counter: "Seats: 5 of 5 in use".
func exhausted(w wanted, counters []store.EntitlementUsage) string {
	unit := " " + w.Unit
	if w.Unit == "Count" {
		unit = ""
	}
	for _, c := range counters {
		if c.Name != w.Name || c.MaxCount == nil {
			continue
		}
		if c.Consumed >= *c.MaxCount {
			return fmt.Sprintf("%s: %d of %d%s in use", w.Name, c.Consumed, *c.MaxCount, unit)
		}
		return fmt.Sprintf("%s: %d of %d%s in use, %d more asked for", w.Name, c.Consumed, *c.MaxCount, unit, w.units)
	}
	return fmt.Sprintf("%s: the license does not count it", w.Name)
}

// newConsumptionToken returns a LicenseConsumptionToken for a checkout of the license
// whose shard (licenseShard) is shard: 32 hex digits, 12 of the time in milliseconds, 2 of
// the shard and 18 random (72 bits). Tokens made in time order keep the checkouts' primary
// key growing at its end, rather than at a random page per checkout, which is much of a
// write transaction's cost; the shard lets a check-in or an extension go to the store writer
// that the license's checkouts go to (see store.DB.UpdateAffine) without reading anything;
// the random part keeps tokens unguessable.
func newConsumptionToken(shard int) string {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	b[6] = byte(shard)
	rand.Read(b[7:])
	return hex.EncodeToString(b[:])
}

// licenseShard maps a license ARN to one of 256 shards: the store writer affinity of the
// writes that change its usage counters.
func licenseShard(arn string) int {
	h := fnv.New32a()
	h.Write([]byte(arn))
	return int(h.Sum32() & 0xff)
}

// tokenShard returns the shard a consumption token carries, or -1 (any writer) for a token
// not made by newConsumptionToken.
func tokenShard(token string) int {
	if len(token) != 32 {
		return -1
	}
	b, err := hex.DecodeString(token[12:14])
	if err != nil {
		return -1
	}
	return int(b[0])
}

// errClientTokenRace reports that a concurrent request with the same ClientToken committed
// first: the operation runs again and answers with that request's result.
var errClientTokenRace = errors.New("licensemanager: concurrent request with the same client token")

// checkoutReplay returns the checkout an account made with a ClientToken, nil when none; a
// token used for another request is a ValidationException.
func checkoutReplay(ctx context.Context, tx *store.Tx, caller *identity.Principal, op, token, dgst string) (*store.Checkout, error) {
	c, err := tx.CheckoutByClientToken(ctx, caller.AccountID, token)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if c.Request != dgst {
		return nil, validation("ClientToken %q was already used for a different %s request: send a new ClientToken for a new checkout, or the same parameters to retry.", token, op)
	}
	return c, nil
}

// issued is a checkout made (or found again) in a transaction: what the answer and its
// signed token are made of.
type issued struct {
	checkout *store.Checkout
	doc      *licenseDoc // the version checked out
	key      *store.IssuerKey
}

// issue completes a checkout c of license version d in tx: it reads the issuer's current
// key and, for a new checkout (stored false), stores c.
func issue(ctx context.Context, tx *store.Tx, c *store.Checkout, licenseAccount string, d *licenseDoc, stored bool) (*issued, error) {
	key, err := tx.IssuerKey(ctx, licenseAccount, d.Issuer.Name, d.Alg)
	if err != nil {
		return nil, fmt.Errorf("licensemanager: signing key of license %s: %w", d.LicenseArn, err)
	}
	if stored {
		return &issued{checkout: c, doc: d, key: key}, nil
	}
	return issueWith(ctx, tx, c, licenseAccount, d, key)
}

// issueWith stores a new checkout c of license version d in tx, to be signed with key (read
// from tx when nil).
func issueWith(ctx context.Context, tx *store.Tx, c *store.Checkout, licenseAccount string, d *licenseDoc, key *store.IssuerKey) (*issued, error) {
	if key == nil {
		var err error
		if key, err = tx.IssuerKey(ctx, licenseAccount, d.Issuer.Name, d.Alg); err != nil {
			return nil, fmt.Errorf("licensemanager: signing key of license %s: %w", d.LicenseArn, err)
		}
	}
	if err := tx.CreateCheckout(ctx, c); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, errClientTokenRace
		}
		return nil, err
	}
	return &issued{checkout: c, doc: d, key: key}, nil
}

// replayed reads what the answer to an earlier checkout c is made of.
func replayed(ctx context.Context, tx *store.Tx, c *store.Checkout) (*issued, error) {
	l, err := tx.License(ctx, c.LicenseARN, c.LicenseVersion)
	if err != nil {
		return nil, err
	}
	d, err := docOf(l)
	if err != nil {
		return nil, err
	}
	return issue(ctx, tx, c, l.AccountID, d, true)
}

// allowed returns the entitlements of a checkout as outputs show them.
func (is *issued) allowed() []EntitlementData {
	out := make([]EntitlementData, 0, len(is.checkout.Entitlements))
	for _, e := range is.checkout.Entitlements {
		d := EntitlementData{Name: e.Name, Unit: e.Unit}
		if e.Value != "" {
			d.Value = &e.Value
		}
		out = append(out, d)
	}
	return out
}

func (is *issued) metadata() []Metadata {
	var ms []Metadata
	if is.checkout.Metadata != "" {
		json.Unmarshal([]byte(is.checkout.Metadata), &ms)
	}
	return ms
}

func isoTime(t time.Time) awstime.ISO8601 { return awstime.ISO8601{Time: t} }

// runCheckout runs fn, a checkout's transaction, in store.Apply; when a concurrent request
// with the same ClientToken won, it runs it again so that it answers with that request's
// result. It then signs the token, after the commit.
func runCheckout[Out any](ctx context.Context, s *Service, fn func(tx *store.Tx) (*Out, *issued, error)) (*Out, *issued, error) {
	for attempt := 0; ; attempt++ {
		var is *issued
		out, err := store.Apply(ctx, s.DB, func(tx *store.Tx) (*Out, error) {
			var (
				out *Out
				err error
			)
			out, is, err = fn(tx)
			return out, err
		})
		if errors.Is(err, errClientTokenRace) && attempt == 0 {
			continue
		}
		return out, is, err
	}
}

// CheckoutLicenseInput is the input of CheckoutLicense.
type CheckoutLicenseInput struct {
	ProductSKU     string
	CheckoutType   string
	KeyFingerprint string
	Entitlements   []EntitlementData
	ClientToken    string
	Beneficiary    string
	NodeId         string
	// LicenseArn is an Allot extension (AWS's model has no such member, so stock SDKs never
	// send it): the license to check out, among those ProductSKU and KeyFingerprint select.
	LicenseArn string
}

// CheckoutLicenseOutput is the output of CheckoutLicense.
type CheckoutLicenseOutput struct {
	CheckoutType            string
	LicenseConsumptionToken string
	EntitlementsAllowed     []EntitlementData
	SignedToken             string `json:",omitempty"`
	NodeId                  string `json:",omitempty"`
	IssuedAt                awstime.ISO8601
	Expiration              awstime.ISO8601 `json:",omitzero"`
	LicenseArn              string
}

func (in *CheckoutLicenseInput) check() ([]wanted, error) {
	if err := checkString(ErrValidation, "ProductSKU", in.ProductSKU, true, 1024); err != nil {
		return nil, err
	}
	if err := checkEnum(ErrValidation, "CheckoutType", in.CheckoutType, true, checkoutTypes); err != nil {
		return nil, err
	}
	if err := checkString(ErrValidation, "KeyFingerprint", in.KeyFingerprint, true, 1024); err != nil {
		return nil, err
	}
	for _, m := range []struct{ name, v string }{{"Beneficiary", in.Beneficiary}, {"NodeId", in.NodeId}} {
		if err := checkString(ErrValidation, m.name, m.v, false, 1024); err != nil {
			return nil, err
		}
	}
	if in.LicenseArn != "" {
		if err := checkLicenseARN(ErrValidation, "LicenseArn", in.LicenseArn); err != nil {
			return nil, err
		}
	}
	if err := checkClientToken(in.ClientToken); err != nil {
		return nil, err
	}
	return checkEntitlementData(in.Entitlements)
}

// CheckoutLicense checks out entitlements of a license that has reached the caller's
// account, chosen by ProductSKU and the issuer's KeyFingerprint (and LicenseArn, an Allot
// extension). It tries the usable licenses in the order reachableLicenses gives (the one
// that ends first first) and checks out of the first that can give at least one of the
// entitlements asked for: each counted one it has units for, and each Unit None one it has.
// A PROVISIONAL checkout expires after the license's MaxTimeToLiveInMinutes unless extended;
// a PERPETUAL one consumes its units for good. The answer carries a token signed with the
// issuer's key (see docs/licenses.md), signed after the commit. A repeated ClientToken with
// the same input returns the first answer and takes nothing more. Errors:
// ValidationException, ResourceNotFoundException (no such license reached the account),
// NoEntitlementsAllowedException (none could give anything; the message says why for each),
// RedirectException (the license chosen has another home region).
func (s *Service) CheckoutLicense(ctx context.Context, caller *identity.Principal, in *CheckoutLicenseInput) (*CheckoutLicenseOutput, error) {
	ws, err := in.check()
	if err != nil {
		return nil, err
	}
	dgst := digest(struct {
		Op string
		In *CheckoutLicenseInput
	}{"CheckoutLicense", in})
	region := requestRegion(ctx)
	output := func(is *issued) *CheckoutLicenseOutput {
		c := is.checkout
		return &CheckoutLicenseOutput{CheckoutType: c.CheckoutType, LicenseConsumptionToken: c.Token, EntitlementsAllowed: is.allowed(),
			NodeId: c.NodeID, IssuedAt: isoTime(c.IssuedAt), Expiration: isoTime(c.ExpiresAt), LicenseArn: c.LicenseARN}
	}
	for attempt := 0; ; attempt++ {
		// A retry with the same ClientToken is answered from committed state. The first
		// attempt does not look for one: the transaction finds it (the checkout's INSERT
		// conflicts, or a refusal finds it) and rolls back, and the next attempt answers it.
		rep, err := (*issued)(nil), error(nil)
		if attempt > 0 {
			if rep, err = readReplay(ctx, s, caller, "CheckoutLicense", in.ClientToken, dgst); err != nil {
				return nil, err
			}
		}
		if rep != nil {
			out := output(rep)
			audit.PendingFrom(ctx).SetResponse(out)
			if out.SignedToken, err = s.signCheckout(rep); err != nil {
				return nil, err
			}
			return out, nil
		}
		// Which licenses can give what is decided from cached, committed state; the write
		// transaction then takes units with conditional UPDATEs, which alone decide the limit.
		rs, err := s.reachableCached(ctx, caller, licenseQuery{ARN: in.LicenseArn, ProductSKU: in.ProductSKU, Fingerprint: in.KeyFingerprint, Operation: OpCheckoutLicense})
		if err != nil {
			return nil, err
		}
		// The checkout's token and its writer follow the first license it will try.
		affinity := -1
		if len(rs) > 0 && rs[0].Reason == "" {
			affinity = licenseShard(rs[0].License.ARN)
		}
		q := &checkoutRequest{caller: caller, in: in, ws: ws, dgst: dgst, region: region, rs: rs, keys: s.usableKeys(ctx, rs),
			token: newConsumptionToken(max(affinity, 0)), now: s.now().Truncate(time.Second)}
		p := audit.PendingFrom(ctx)
		var predicted *CheckoutLicenseOutput
		if c := q.predict(); c != nil {
			predicted = output(&issued{checkout: c})
			p.SetResponse(predicted)
		}
		var is *issued
		var out *CheckoutLicenseOutput
		err = s.DB.UpdateAffine(ctx, affinity, func(tx *store.Tx) error {
			var err error
			if is, err = s.checkoutLicense(ctx, tx, q); err != nil {
				return refusalOrRace(ctx, tx, caller, "CheckoutLicense", in.ClientToken, dgst, err)
			}
			if out = output(is); predicted == nil || !sameCheckout(out, predicted) {
				p.SetResponse(out)
			}
			return nil
		})
		if err != nil {
			p.SetResponse(nil)
		}
		if errors.Is(err, errClientTokenRace) && attempt < 2 {
			continue
		}
		if err != nil {
			return nil, err
		}
		if out.SignedToken, err = s.signCheckout(is); err != nil {
			return nil, err
		}
		return out, nil
	}
}

// sameCheckout reports whether two CheckoutLicense answers (without their signed tokens)
// are the same.
func sameCheckout(a, b *CheckoutLicenseOutput) bool {
	if a.CheckoutType != b.CheckoutType || a.LicenseConsumptionToken != b.LicenseConsumptionToken || a.NodeId != b.NodeId ||
		!a.IssuedAt.Equal(b.IssuedAt.Time) || !a.Expiration.Equal(b.Expiration.Time) || a.LicenseArn != b.LicenseArn ||
		a.SignedToken != b.SignedToken || len(a.EntitlementsAllowed) != len(b.EntitlementsAllowed) {
		return false
	}
	for i, e := range a.EntitlementsAllowed {
		f := b.EntitlementsAllowed[i]
		if e.Name != f.Name || e.Unit != f.Unit || deref(e.Value) != deref(f.Value) || (e.Value == nil) != (f.Value == nil) {
			return false
		}
	}
	return true
}

// readReplay returns, from committed state, what answers a retry of an earlier checkout the
// caller's account made with clientToken, or nil when there was none. A token used for
// another request is a ValidationException.
func readReplay(ctx context.Context, s *Service, caller *identity.Principal, op, clientToken, dgst string) (*issued, error) {
	return store.Read(ctx, s.DB, func(tx *store.Tx) (*issued, error) {
		c, err := checkoutReplay(ctx, tx, caller, op, clientToken, dgst)
		if c == nil || err != nil {
			return nil, err
		}
		return replayed(ctx, tx, c)
	})
}

// refusalOrRace returns err, the refusal of a checkout, unless a concurrent request with the
// same ClientToken committed a checkout since readReplay looked: then errClientTokenRace,
// so that the operation runs again and answers that checkout.
func refusalOrRace(ctx context.Context, tx *store.Tx, caller *identity.Principal, op, clientToken, dgst string, err error) error {
	if _, refusal := awserr.As(err); !refusal {
		return err // a statement failed: on PostgreSQL the transaction can run no other
	}
	c, rerr := checkoutReplay(ctx, tx, caller, op, clientToken, dgst)
	switch {
	case rerr != nil:
		return rerr
	case c != nil:
		return errClientTokenRace
	}
	return err
}

// usableKeys returns the current keys of the issuers of the usable licenses in rs, by
// license ARN, through the cache; a key it cannot find is left for the transaction to read
// (and report).
func (s *Service) usableKeys(ctx context.Context, rs []*reachable) map[string]*store.IssuerKey {
	keys := map[string]*store.IssuerKey{}
	for _, r := range rs {
		if r.Reason != "" || r.doc == nil {
			continue
		}
		if k, err := s.currentKey(ctx, r.License.AccountID, r.doc.Issuer.Name, r.doc.Alg); err == nil {
			keys[r.License.ARN] = k
		}
	}
	return keys
}

// checkoutRequest is a CheckoutLicense call, checked, with what is decided before its write
// transaction: the licenses that reach the caller, their issuers' keys, and the new
// checkout's token and time.
type checkoutRequest struct {
	caller *identity.Principal
	in     *CheckoutLicenseInput
	ws     []wanted
	dgst   string
	region string
	rs     []*reachable
	keys   map[string]*store.IssuerKey
	token  string
	now    time.Time // whole seconds
}

// newCheckout returns the checkout q makes of license r (document d) for beneficiary, with
// the entitlements got.
func (q *checkoutRequest) newCheckout(r *reachable, d *licenseDoc, beneficiary string, got []store.CheckoutEntitlement) *store.Checkout {
	in := q.in
	token := q.token
	if tokenShard(token) != licenseShard(d.LicenseArn) {
		token = newConsumptionToken(licenseShard(d.LicenseArn)) // not the license q.token was made for
	}
	c := &store.Checkout{
		Token: token, AccountID: q.caller.AccountID, LicenseARN: d.LicenseArn, LicenseVersion: r.License.Version,
		Beneficiary: beneficiary, NodeID: in.NodeId, CheckoutType: in.CheckoutType, EarlyCheckIn: true, Entitlements: got,
		IssuedAt: q.now, Status: store.CheckoutActive, ClientToken: in.ClientToken, Request: q.dgst,
	}
	if in.CheckoutType == CheckoutPerpetual {
		c.Status, c.EndedAt = store.CheckoutConsumed, q.now
	} else {
		c.ExpiresAt = q.now.Add(time.Duration(*d.ConsumptionConfiguration.ProvisionalConfiguration.MaxTimeToLiveInMinutes) * time.Minute)
	}
	return c
}

// predict returns the checkout q makes in the usual case, where the first license it tries
// gives everything asked for, or nil when that license cannot. CheckoutLicense records the
// predicted answer in the audit event before the write transaction, so that the event is
// serialised outside the store's writer; the transaction replaces it when the outcome differs.
func (q *checkoutRequest) predict() *store.Checkout {
	countedWanted := slices.ContainsFunc(q.ws, func(w wanted) bool { return w.units > 0 })
	for _, r := range q.rs {
		d := r.doc
		if r.Reason != "" || d == nil || d.ConsumptionConfiguration.ProvisionalConfiguration == nil {
			continue
		}
		beneficiary := q.caller.AccountID
		if r.Issued() {
			beneficiary = q.in.Beneficiary
		}
		if beneficiary == "" || (q.region != "" && d.HomeRegion != q.region) {
			return nil
		}
		byName := make(map[string]*Entitlement, len(d.Entitlements))
		for i := range d.Entitlements {
			byName[deref(d.Entitlements[i].Name)] = &d.Entitlements[i]
		}
		got := make([]store.CheckoutEntitlement, len(q.ws))
		for _, w := range q.ws {
			e := byName[w.Name]
			if reason, _ := refused(w, e); reason != "" {
				return nil
			}
			got[w.index] = granted(w, e)
		}
		if !countedWanted && len(got) == 0 {
			return nil
		}
		return q.newCheckout(r, d, beneficiary, got)
	}
	return nil
}

func (s *Service) checkoutLicense(ctx context.Context, tx *store.Tx, q *checkoutRequest) (*issued, error) {
	caller, in, ws, region, rs, keys, now := q.caller, q.in, q.ws, q.region, q.rs, q.keys, q.now
	if len(rs) == 0 {
		what := ""
		if in.LicenseArn != "" {
			what = " (license " + in.LicenseArn + ")"
		}
		return nil, awserr.New(ErrResourceNotFound, "No license for ProductSKU %q with KeyFingerprint %q%s has reached account %s: check both values against GetLicense or ListReceivedLicenses, or have the issuer grant the license to this account.",
			in.ProductSKU, in.KeyFingerprint, what, caller.AccountID)
	}
	// The first license that gives a counted entitlement asked for wins; when none does (or
	// none was asked for), the first that gives one not counted.
	countedWanted := slices.ContainsFunc(ws, func(w wanted) bool { return w.units > 0 })
	type choice struct {
		r           *reachable
		d           *licenseDoc
		beneficiary string
		got         []store.CheckoutEntitlement
	}
	finish := func(ch *choice) (*issued, error) {
		d := ch.d
		if region != "" && d.HomeRegion != region {
			return nil, redirect(d.HomeRegion)
		}
		c := q.newCheckout(ch.r, d, ch.beneficiary, ch.got)
		return issueWith(ctx, tx, c, ch.r.License.AccountID, d, keys[d.LicenseArn])
	}
	var fallback *choice
	var reasons []string
	usable, borrowOnly := 0, 0
	for _, r := range rs {
		if r.Reason != "" {
			reasons = append(reasons, r.Reason)
			continue
		}
		usable++
		d := r.doc
		if d.ConsumptionConfiguration.ProvisionalConfiguration == nil {
			borrowOnly++
			reasons = append(reasons, fmt.Sprintf("license %s has only a BorrowConfiguration: check it out with CheckoutBorrowLicense", d.LicenseArn))
			continue
		}
		beneficiary := caller.AccountID
		if r.Issued() {
			if in.Beneficiary == "" {
				return nil, validation("Beneficiary is required when the account that issued license %s (%s) checks it out: name whom the checkout is for, such as a customer ID.", d.LicenseArn, caller.AccountID)
			}
			beneficiary = in.Beneficiary
		}
		got, why, _, err := take(ctx, tx, d, ws, now)
		if err != nil {
			return nil, err
		}
		ch := &choice{r: r, d: d, beneficiary: beneficiary, got: got}
		switch {
		case !countedWanted && len(got) > 0, slices.ContainsFunc(got, func(e store.CheckoutEntitlement) bool { return e.Units > 0 }):
			return finish(ch)
		case len(got) > 0 && fallback == nil:
			fallback = ch
		}
		reasons = append(reasons, fmt.Sprintf("license %s: %s", d.LicenseArn, strings.Join(why, "; ")))
	}
	if fallback != nil {
		return finish(fallback)
	}
	if usable > 0 && usable == borrowOnly {
		return nil, validation("CheckoutLicense checks out licenses with a ProvisionalConfiguration; %s: use CheckoutBorrowLicense with its LicenseArn.", strings.Join(reasons, "; "))
	}
	return nil, awserr.New(ErrNoEntitlementsAllowed, "No entitlement asked for could be checked out of the licenses for ProductSKU %q in account %s: %s.",
		in.ProductSKU, caller.AccountID, strings.Join(reasons, ". "))
}

// CheckoutBorrowLicenseInput is the input of CheckoutBorrowLicense.
type CheckoutBorrowLicenseInput struct {
	LicenseArn             string
	Entitlements           []EntitlementData
	DigitalSignatureMethod string
	NodeId                 string
	CheckoutMetadata       []Metadata
	ClientToken            string
}

// CheckoutBorrowLicenseOutput is the output of CheckoutBorrowLicense.
type CheckoutBorrowLicenseOutput struct {
	LicenseArn              string
	LicenseConsumptionToken string
	EntitlementsAllowed     []EntitlementData
	NodeId                  string `json:",omitempty"`
	SignedToken             string `json:",omitempty"`
	IssuedAt                awstime.ISO8601
	Expiration              awstime.ISO8601
	CheckoutMetadata        []Metadata `json:",omitempty"`
}

// CheckoutBorrowLicense borrows entitlements of one license, for use offline until the
// license's BorrowConfiguration.MaxTimeToLiveInMinutes runs out: all of them or none. The
// token is signed with PS384, the JWT_PS384 method, so the license must have been issued
// with an RSA key; CheckoutMetadata is echoed and signed into it. A borrowed checkout is
// checked in early only when the license's AllowEarlyCheckIn says so; otherwise its units
// return at expiry. A repeated ClientToken with the same input returns the first answer.
// Errors: ValidationException, UnsupportedDigitalSignatureMethodException,
// ResourceNotFoundException, EntitlementNotAllowedException (the license lacks one),
// NoEntitlementsAllowedException (one is used up, or the license cannot be used),
// RedirectException.
func (s *Service) CheckoutBorrowLicense(ctx context.Context, caller *identity.Principal, in *CheckoutBorrowLicenseInput) (*CheckoutBorrowLicenseOutput, error) {
	if err := checkLicenseARN(ErrValidation, "LicenseArn", in.LicenseArn); err != nil {
		return nil, err
	}
	if in.DigitalSignatureMethod == "" {
		return nil, validation("DigitalSignatureMethod is required: send %s.", SignatureJWTPS384)
	}
	if in.DigitalSignatureMethod != SignatureJWTPS384 {
		return nil, awserr.New(ErrUnsupportedDigitalSignatureMethod, "DigitalSignatureMethod %q is not supported: send %s.", in.DigitalSignatureMethod, SignatureJWTPS384)
	}
	if err := checkString(ErrValidation, "NodeId", in.NodeId, false, 1024); err != nil {
		return nil, err
	}
	if err := checkMetadata("CheckoutMetadata", in.CheckoutMetadata); err != nil {
		return nil, err
	}
	if err := checkClientToken(in.ClientToken); err != nil {
		return nil, err
	}
	ws, err := checkEntitlementData(in.Entitlements)
	if err != nil {
		return nil, err
	}
	dgst := digest(struct {
		Op string
		In *CheckoutBorrowLicenseInput
	}{"CheckoutBorrowLicense", in})
	region := requestRegion(ctx)
	out, is, err := runCheckout(ctx, s, func(tx *store.Tx) (*CheckoutBorrowLicenseOutput, *issued, error) {
		is, err := s.checkoutBorrowLicense(ctx, tx, caller, in, ws, dgst, region)
		if err != nil {
			return nil, nil, err
		}
		c := is.checkout
		out := &CheckoutBorrowLicenseOutput{LicenseArn: c.LicenseARN, LicenseConsumptionToken: c.Token, EntitlementsAllowed: is.allowed(),
			NodeId: c.NodeID, IssuedAt: isoTime(c.IssuedAt), Expiration: isoTime(c.ExpiresAt), CheckoutMetadata: is.metadata()}
		return out, is, nil
	})
	if err != nil {
		return nil, err
	}
	if out.SignedToken, err = s.signCheckout(is); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) checkoutBorrowLicense(ctx context.Context, tx *store.Tx, caller *identity.Principal, in *CheckoutBorrowLicenseInput, ws []wanted, dgst, region string) (*issued, error) {
	if c, err := checkoutReplay(ctx, tx, caller, "CheckoutBorrowLicense", in.ClientToken, dgst); c != nil || err != nil {
		if err != nil {
			return nil, err
		}
		return replayed(ctx, tx, c)
	}
	now := s.now().Truncate(time.Second)
	rs, err := s.reachableLicenses(ctx, tx, caller, licenseQuery{ARN: in.LicenseArn, Operation: OpCheckoutBorrowLicense})
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, awserr.New(ErrResourceNotFound, "License %s has not reached account %s: check the ARN, or have its issuer grant it to this account.", in.LicenseArn, caller.AccountID)
	}
	r := rs[0]
	if r.Reason != "" {
		return nil, awserr.New(ErrNoEntitlementsAllowed, "License %s cannot be borrowed in account %s: %s.", in.LicenseArn, caller.AccountID, r.Reason)
	}
	d, err := docOf(r.License)
	if err != nil {
		return nil, err
	}
	b := d.ConsumptionConfiguration.BorrowConfiguration
	if b == nil {
		return nil, validation("License %s has no BorrowConfiguration, so it cannot be borrowed: check it out with CheckoutLicense.", in.LicenseArn)
	}
	if d.Alg != AlgPS384 {
		return nil, awserr.New(ErrUnsupportedDigitalSignatureMethod, "License %s is signed with %s, not PS384, so it cannot be borrowed with %s: its issuer must issue it with Issuer.SignKey RSA.", in.LicenseArn, cmp.Or(d.Alg, AlgES256), SignatureJWTPS384)
	}
	if region != "" && d.HomeRegion != region {
		return nil, redirect(d.HomeRegion)
	}
	got, why, unknown, err := take(ctx, tx, d, ws, now)
	if err != nil {
		return nil, err
	}
	if len(why) > 0 {
		code := ErrNoEntitlementsAllowed
		if unknown {
			code = ErrEntitlementNotAllowed
		}
		return nil, awserr.New(code, "CheckoutBorrowLicense borrows every entitlement asked for or none; of license %s: %s.", in.LicenseArn, strings.Join(why, "; "))
	}
	ms := in.CheckoutMetadata
	if ms == nil {
		ms = []Metadata{}
	}
	meta, err := json.Marshal(ms)
	if err != nil {
		return nil, err
	}
	c := &store.Checkout{
		Token: newConsumptionToken(licenseShard(d.LicenseArn)), AccountID: caller.AccountID, LicenseARN: d.LicenseArn, LicenseVersion: r.License.Version,
		Beneficiary: caller.AccountID, NodeID: in.NodeId, CheckoutType: CheckoutProvisional, Borrow: true, EarlyCheckIn: deref(b.AllowEarlyCheckIn),
		Entitlements: got, Metadata: string(meta), IssuedAt: now, ExpiresAt: now.Add(time.Duration(*b.MaxTimeToLiveInMinutes) * time.Minute),
		Status: store.CheckoutActive, ClientToken: in.ClientToken, Request: dgst,
	}
	return issue(ctx, tx, c, r.License.AccountID, d, false)
}
