package licenseconfig

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
)

// Resource ARNs, as License Manager names the EC2 resources it associates.

// InstanceARN returns the ARN of an EC2 instance.
func InstanceARN(region, accountID, id string) string {
	return "arn:aws:ec2:" + region + ":" + accountID + ":instance/" + id
}

// HostARN returns the ARN of a Dedicated Host.
func HostARN(region, accountID, id string) string {
	return "arn:aws:ec2:" + region + ":" + accountID + ":dedicated-host/" + id
}

// ImageARN returns the ARN of an image (AMI): it names no account.
func ImageARN(region, id string) string { return "arn:aws:ec2:" + region + "::image/" + id }

var resourceARNPattern = regexp.MustCompile(`^arn:aws:ec2:([a-z0-9-]+):(\d{12})?:(instance/i-[0-9a-f]{8,17}|dedicated-host/h-[0-9a-f]{8,17}|image/ami-[0-9a-f]{8,17})$`)

// Refusal is a launch or association that a license configuration refused: a rule it breaks,
// a hard limit it would exceed, or a DISABLED configuration. It unwraps to the
// LicenseUsageException the caller sees.
type Refusal struct {
	ConfigARN string
	Err       *awserr.Error
}

func (r *Refusal) Error() string { return r.Err.Error() }

// Unwrap returns the *awserr.Error.
func (r *Refusal) Unwrap() error { return r.Err }

func refuse(c *store.LicenseConfiguration, format string, args ...any) error {
	msg := fmt.Sprintf("License configuration %q (%s) ", c.Name, c.ARN) + fmt.Sprintf(format, args...)
	return &Refusal{ConfigARN: c.ARN, Err: &awserr.Error{Code: ErrLicenseUsage, Message: msg}}
}

// unitName names what a counting type counts.
func unitName(countingType string) string {
	switch countingType {
	case CountVCPU:
		return "vCPUs"
	case CountCore:
		return "cores"
	case CountSocket:
		return "sockets"
	}
	return "instances"
}

// ruleTenancy names an EC2 tenancy as #allowedTenancy does.
func ruleTenancy(t string) string {
	switch t {
	case "dedicated":
		return TenancyDedicatedInstance
	case "host":
		return TenancyDedicatedHost
	}
	return TenancyDefault
}

// describe names a resource in messages: "instance i-… (m5.large)", or "this launch (…)" for
// one not stored yet.
func describe(r *store.Resource) string {
	var s string
	switch {
	case r.ID == "":
		s = "this launch"
	case r.Type == store.ResourceHost:
		s = "Dedicated Host " + r.ID
	case r.Type == store.ResourceImage:
		s = "image " + r.ID
	case r.Type == store.ResourceManaged:
		s = "managed instance " + r.ID
		if r.ComputerName != "" {
			return s + " (" + r.ComputerName + ")"
		}
	default:
		s = "instance " + r.ID
	}
	if r.InstanceType != "" {
		s += " (" + r.InstanceType + ")"
	}
	return s
}

// unitsFor checks the rules of c against r and returns the units r takes of c: vCPUs (the
// running ones under #honorVcpuOptimization=True, else the type's), physical cores, the
// sockets of the Dedicated Host (once per host: see perHost), or 1 per instance. Images take
// nothing and are not checked.
func unitsFor(c *store.LicenseConfiguration, r *store.Resource) (int64, error) {
	if r.Type == store.ResourceImage {
		return 0, nil
	}
	rules, err := ParseRules(c.CountingType, c.Rules)
	if err != nil {
		return 0, fmt.Errorf("licenseconfig: stored rules of %s: %w", c.ARN, err)
	}
	subject := describe(r)
	if len(rules.AllowedTenancy) > 0 && !slices.Contains(rules.AllowedTenancy, ruleTenancy(r.Tenancy)) {
		return 0, refuse(c, "allows only tenancy %s (#allowedTenancy), and %s has tenancy %s (%s).",
			strings.Join(rules.AllowedTenancy, ", "), subject, cmp.Or(r.Tenancy, "default"), ruleTenancy(r.Tenancy))
	}
	vcpus := r.VCPUs
	if rules.HonorVCPUOptimization && r.CPUOptions {
		vcpus = r.Cores * r.ThreadsPerCore
	}
	check := func(what string, n int64, lo, hi *int64, loRule, hiRule string) error {
		if lo != nil && n < *lo {
			return refuse(c, "needs at least %d %s per resource (#%s=%d), and %s has %d.", *lo, what, loRule, *lo, subject, n)
		}
		if hi != nil && n > *hi {
			return refuse(c, "allows at most %d %s per resource (#%s=%d), and %s has %d.", *hi, what, hiRule, *hi, subject, n)
		}
		return nil
	}
	if err := check("vCPUs", vcpus, rules.MinimumVCPUs, rules.MaximumVCPUs, ruleMinimumVCPUs, ruleMaximumVCPUs); err != nil {
		return 0, err
	}
	if err := check("cores", r.Cores, rules.MinimumCores, rules.MaximumCores, ruleMinimumCores, ruleMaximumCores); err != nil {
		return 0, err
	}
	if c.CountingType == CountSocket && r.Sockets == 0 && r.Type == store.ResourceManaged {
		return 0, refuse(c, "counts sockets, and %s reported none.", subject)
	}
	if c.CountingType == CountSocket && r.Sockets == 0 {
		return 0, refuse(c, "counts sockets, which only a Dedicated Host has, and %s does not run on one: launch it with Placement.Tenancy=host and a HostId, or associate the host.", subject)
	}
	if err := check("sockets", r.Sockets, rules.MinimumSockets, rules.MaximumSockets, ruleMinimumSockets, ruleMaximumSockets); err != nil {
		return 0, err
	}
	switch c.CountingType {
	case CountVCPU:
		return vcpus, nil
	case CountCore:
		return r.Cores, nil
	case CountSocket:
		return r.Sockets, nil
	}
	return 1, nil
}

// Admission is what a launch is checked against: the configurations its resources are to be
// associated with and the units each resource takes of them. Made by Admit, used by Consume
// in the same transaction.
type Admission struct {
	caller  *identity.Principal
	entries []admitted // in ARN order
}

type admitted struct {
	c     *store.LicenseConfiguration
	units int64
	// once: the units are the host's sockets, taken once for the launch and held by its first
	// instance (perHost); none when another instance on the host holds them already.
	once bool
	// from is that instance's association when its units are held for #licenseAffinityToHost
	// (hold): the launch's first instance takes them over (takeOver).
	from *store.LicenseUsage
	hold *store.AffinityHold
}

// Configurations returns the ARNs of the configurations admitted, in order.
func (a *Admission) Configurations() []string {
	out := make([]string, len(a.entries))
	for i, e := range a.entries {
		out[i] = e.c.ARN
	}
	return out
}

// Admit resolves the configurations a launch of resources like r uses, those named by specs
// and those associated with r's image, and checks their rules against r. A named
// configuration must be AVAILABLE and exist in the request's region, in the caller's account
// or shared by the management account of its organization (see
// UpdateLicenseSpecificationsForResource); the image's DISABLED configurations are skipped,
// as License Manager stops tracking them. Errors: a
// *Refusal (LicenseUsageException), or InvalidParameterValueException for an unknown or
// malformed configuration ARN.
func (s *Service) Admit(ctx context.Context, tx *store.Tx, caller *identity.Principal, r *store.Resource, specs []string) (*Admission, error) {
	arns := map[string]bool{}
	for i, a := range specs {
		if err := checkConfigurationARN(fmt.Sprintf("LicenseSpecification.%d.LicenseConfigurationArn", i+1), a); err != nil {
			return nil, err
		}
		arns[a] = true
	}
	if r.ImageID != "" {
		us, err := tx.ResourceLicenseUsage(ctx, ImageARN(r.Region, r.ImageID))
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			if !arns[u.ConfigARN] {
				arns[u.ConfigARN] = false // from the image
			}
		}
	}
	if len(arns) > MaxConfigurationsPerResource {
		return nil, invalid("A resource may be associated with at most %d license configurations; this launch names %d (with its image's).", MaxConfigurationsPerResource, len(arns))
	}
	a := &Admission{caller: caller}
	for _, arn := range sortedKeys(arns) {
		named := arns[arn]
		c, err := tx.LicenseConfiguration(ctx, arn)
		if isNotFound(err) {
			return nil, notFound(ctx, caller, arn)
		}
		if err != nil {
			return nil, err
		}
		if named {
			if err := checkUsable(ctx, tx, caller, c, r.Region); err != nil {
				return nil, err
			}
		}
		if c.Status != store.ConfigurationAvailable {
			if !named {
				continue // the image's: launches from it go untracked
			}
			return nil, refuse(c, "is %s: it takes no new launches or associations. Set its status to AVAILABLE with UpdateLicenseConfiguration to use it again.", c.Status)
		}
		units, err := unitsFor(c, r)
		if err != nil {
			return nil, err
		}
		covered, err := hostCovers(ctx, tx, c, r)
		if err != nil {
			return nil, err
		}
		e := admitted{c: c, units: units}
		switch {
		case covered:
			e.units = 0
		case perHost(c, r):
			e.once = true
			holder, hold, err := hostHolder(ctx, tx, c, r)
			if err != nil {
				return nil, err
			}
			if holder != nil {
				e.units, e.from, e.hold = 0, holder, hold
			}
		}
		a.entries = append(a.entries, e)
	}
	return a, nil
}

// Fit returns how many resources, up to want, fit under the hard limits as Admit read them.
// It is an estimate for choosing how many of MinCount to MaxCount instances to launch:
// Consume decides.
func (a *Admission) Fit(want int) int {
	n := int64(want)
	for _, e := range a.entries {
		c := e.c
		if !c.HardLimit || c.LicenseCount == nil || e.units == 0 {
			continue
		}
		if e.once {
			if *c.LicenseCount-c.Consumed < e.units {
				n = 0
			}
			continue
		}
		n = min(n, max(*c.LicenseCount-c.Consumed, 0)/e.units)
	}
	return int(n)
}

// Consume takes the units of the admitted configurations for rs, the instances of one launch
// (stored already in this transaction), with one conditional UPDATE per configuration in ARN order, associates them
// and records an alert for each configuration left over a soft limit. A Socket configuration's
// units, the host's sockets, are taken once and held by the first instance (perHost). It returns a *Refusal
// when a hard limit has no room or the configuration was disabled meanwhile; the caller's
// transaction then rolls back whatever was written.
func (s *Service) Consume(ctx context.Context, tx *store.Tx, a *Admission, rs []*store.Resource) error {
	if len(rs) == 0 {
		return nil
	}
	subject := "this launch (" + rs[0].InstanceType + ")"
	if len(rs) > 1 {
		subject = fmt.Sprintf("this launch of %d %s instances", len(rs), rs[0].InstanceType)
	}
	now := tx.Now()
	for _, e := range a.entries {
		n := int64(len(rs))
		if e.once {
			n = 1
		}
		if err := s.take(ctx, tx, e.c, e.units, n, subject, rs[0].ARN); err != nil {
			return err
		}
		for i, r := range rs {
			units := e.units
			if e.once && i > 0 {
				units = 0
			}
			err := tx.AddLicenseUsage(ctx, &store.LicenseUsage{ConfigARN: e.c.ARN, ResourceARN: r.ARN, ResourceType: r.Type,
				ResourceAccount: r.AccountID, Consumed: units, AssociatedAt: now})
			if err != nil {
				return err
			}
		}
		if e.from != nil && e.hold != nil {
			if err := s.takeOver(ctx, tx, e.c, e.from, e.hold, rs[0]); err != nil {
				return err
			}
		}
	}
	return nil
}

// take takes units×n of c in one conditional UPDATE, or refuses, explaining why from the row
// as it is now; over a soft limit it records an alert.
func (s *Service) take(ctx context.Context, tx *store.Tx, c *store.LicenseConfiguration, units, n int64, subject, resourceARN string) error {
	total := units * n
	if total == 0 {
		cur, err := tx.LockLicenseConfiguration(ctx, c.ARN)
		if err != nil {
			return err
		}
		if cur.Status != store.ConfigurationAvailable {
			return refuse(cur, "is %s: it takes no new launches or associations.", cur.Status)
		}
		return nil
	}
	after, ok, err := tx.ConsumeLicenses(ctx, c.ARN, total)
	if err != nil {
		return err
	}
	if !ok {
		cur, err := tx.LicenseConfiguration(ctx, c.ARN)
		if err != nil {
			return err
		}
		if cur.Status != store.ConfigurationAvailable {
			return refuse(cur, "is %s: it takes no new launches or associations.", cur.Status)
		}
		return refuse(cur, "has a hard limit of %d %s: %d are in use, and %s needs %d more.",
			deref(cur.LicenseCount), unitName(cur.CountingType), cur.Consumed, subject, total)
	}
	if after.Exceeded() {
		msg := fmt.Sprintf("License configuration %q (%s) is over its soft limit: %d %s consumed of %d, after %s took %d.",
			c.Name, c.ARN, after.Consumed, unitName(c.CountingType), *after.LicenseCount, subject, total)
		return raiseAlert(ctx, tx, c, AlertSoftLimitExceeded, resourceARN, after.Consumed, *after.LicenseCount, msg)
	}
	return nil
}

// raiseAlert records an alert of c (kind one of the Alert constants) with the configuration's
// consumption and count at the time. The topic is read now so that the alert goes where the
// account's settings said when it was raised; the deliverer posts it after this transaction
// commits.
func raiseAlert(ctx context.Context, tx *store.Tx, c *store.LicenseConfiguration, kind, resourceARN string, consumed, count int64, msg string) error {
	st, err := readServiceSettings(ctx, tx, c.AccountID, c.Region)
	if err != nil {
		return err
	}
	return tx.AddLicenseAlert(ctx, &store.LicenseAlert{ConfigARN: c.ARN, AccountID: c.AccountID, Kind: kind, ResourceARN: resourceARN,
		Consumed: consumed, LicenseCount: count, Message: msg, CreatedAt: tx.Now(), TopicARN: st.SnsTopicArn})
}

// Resume takes units again for a resource that starts (a stopped instance): for each of its
// associations with an AVAILABLE configuration, the rules are checked and the units taken
// (a Socket configuration's only when no other instance on its Dedicated Host holds them:
// perHost). Associations with a DISABLED configuration stay untracked. The caller has locked
// the instance's row and its host's. Errors: a *Refusal.
func (s *Service) Resume(ctx context.Context, tx *store.Tx, r *store.Resource) error {
	us, err := tx.ResourceLicenseUsage(ctx, r.ARN)
	if err != nil {
		return err
	}
	for _, u := range us { // in ARN order
		if u.Consumed > 0 {
			// Units kept under #licenseAffinityToHost while it was stopped: in use again.
			if r.HostID != "" {
				if _, err := tx.CancelAffinityHold(ctx, u.ConfigARN, r.ARN); err != nil {
					return err
				}
			}
			continue
		}
		c, err := tx.LicenseConfiguration(ctx, u.ConfigARN)
		if err != nil {
			return err
		}
		if c.Status != store.ConfigurationAvailable {
			continue
		}
		units, err := unitsFor(c, r)
		if err != nil {
			return err
		}
		covered, err := hostCovers(ctx, tx, c, r)
		if err != nil {
			return err
		}
		if covered {
			units = 0
		} else if perHost(c, r) {
			holder, hold, err := hostHolder(ctx, tx, c, r)
			if err != nil {
				return err
			}
			if holder != nil {
				// Another instance on the host holds its sockets: r shares them.
				if hold != nil {
					if err := s.takeOver(ctx, tx, c, holder, hold, r); err != nil {
						return err
					}
				}
				continue
			}
		}
		if units == 0 {
			continue
		}
		if err := s.take(ctx, tx, c, units, 1, describe(r), r.ARN); err != nil {
			return err
		}
		if _, err := tx.ResumeLicenseUsage(ctx, c.ARN, r.ARN, units); err != nil {
			return err
		}
	}
	return nil
}

// Release returns the units a resource holds: on stop (remove false) its associations stay
// and hold nothing; on terminate or release (remove true) they are deleted. A Dedicated Host,
// or an instance on one, keeps the units of a configuration with #licenseAffinityToHost until
// the affinity period since it took them has passed (see hold); RunStaleSweeper returns them
// then. An instance holding its host's sockets for a Socket configuration passes them on to
// another running instance on the host that uses it, if there is one (passOn). The caller has
// locked r's row.
func (s *Service) Release(ctx context.Context, tx *store.Tx, r *store.Resource, remove bool) error {
	if r.Type != store.ResourceHost && r.HostID == "" {
		_, err := tx.ReleaseResourceLicenses(ctx, r.ARN, remove)
		return err
	}
	if r.Type == store.ResourceInstance {
		// The host's row before the configurations', as a launch on the host locks them: which
		// of its instances holds its sockets must not change under this call.
		if _, err := tx.LockResource(ctx, HostARN(r.Region, r.AccountID, r.HostID)); err != nil && !isNotFound(err) {
			return err
		}
	}
	us, err := tx.ResourceLicenseUsage(ctx, r.ARN)
	if err != nil {
		return err
	}
	for _, u := range us { // in configuration ARN order, as ReleaseResourceLicenses
		passed, err := s.passOn(ctx, tx, r, u)
		if err != nil {
			return err
		}
		if passed {
			if remove {
				if _, err := tx.ReleaseLicenseUsage(ctx, u.ConfigARN, r.ARN, true); err != nil && !isNotFound(err) {
					return err
				}
			}
			continue
		}
		held, err := s.hold(ctx, tx, r, u, remove)
		if err != nil {
			return err
		}
		if held || u.Consumed == 0 && !remove {
			continue
		}
		if _, err := tx.ReleaseLicenseUsage(ctx, u.ConfigARN, r.ARN, remove); err != nil && !isNotFound(err) {
			return err
		}
	}
	return nil
}

// hold keeps the units association u holds when r, a Dedicated Host or an instance placed on
// one, stops using them (remove: the association goes with them) before its configuration's
// #licenseAffinityToHost period, counted from when r took them, has passed: License Manager
// ties such licenses to the host for that many days. It records when they go back to the pool
// and reports whether it held them.
func (s *Service) hold(ctx context.Context, tx *store.Tx, r *store.Resource, u *store.LicenseUsage, remove bool) (bool, error) {
	if u.Consumed == 0 || r.Type != store.ResourceHost && r.HostID == "" {
		return false, nil
	}
	c, err := tx.LicenseConfiguration(ctx, u.ConfigARN)
	if err != nil {
		return false, err
	}
	rules, err := ParseRules(c.CountingType, c.Rules)
	if err != nil {
		return false, fmt.Errorf("licenseconfig: stored rules of %s: %w", c.ARN, err)
	}
	if rules.LicenseAffinityToHost == nil {
		return false, nil
	}
	until := u.AssociatedAt.Add(time.Duration(*rules.LicenseAffinityToHost) * 24 * time.Hour)
	if !s.now().Before(until) {
		return false, nil
	}
	host := r.ARN
	if r.Type != store.ResourceHost {
		host = HostARN(r.Region, r.AccountID, r.HostID)
	}
	err = tx.HoldLicenseUsage(ctx, &store.AffinityHold{ConfigARN: c.ARN, ResourceARN: r.ARN, HostARN: host,
		Disassociate: remove, HeldAt: tx.Now(), ReleaseAt: until})
	return err == nil, err
}

// hostCovers reports whether r, an instance on a Dedicated Host, takes nothing of c because
// the host is associated with c itself: a Core or Socket configuration counts a licensed
// host's physical cores or sockets once, for the host and every instance placed on it (a host
// whose association was removed, its units only held for #licenseAffinityToHost, covers
// nothing). Callers lock the host's row first, so that a concurrent association of the host
// with c is seen, or sees them.
func hostCovers(ctx context.Context, tx *store.Tx, c *store.LicenseConfiguration, r *store.Resource) (bool, error) {
	if r.Type != store.ResourceInstance || r.HostID == "" || c.CountingType != CountCore && c.CountingType != CountSocket {
		return false, nil
	}
	host := HostARN(r.Region, r.AccountID, r.HostID)
	us, err := tx.LicenseUsages(ctx, store.LicenseUsageQuery{ConfigARN: c.ARN, ResourceARNs: []string{host}, Limit: 1})
	if err != nil || len(us) == 0 {
		return false, err
	}
	h, err := tx.AffinityHoldOf(ctx, c.ARN, host)
	if isNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return !h.Disassociate, nil
}

// coverInstances returns the units of c that the instances on host h hold: h, being
// associated with c, covers them (see hostCovers). Their associations stay.
func coverInstances(ctx context.Context, tx *store.Tx, c *store.LicenseConfiguration, h *store.Resource) error {
	if c.CountingType != CountCore && c.CountingType != CountSocket {
		return nil
	}
	insts, err := tx.HostInstances(ctx, h.ID)
	if err != nil {
		return err
	}
	for _, i := range insts {
		if i.AccountID != h.AccountID || i.Region != h.Region {
			continue
		}
		if _, err := tx.ReleaseLicenseUsage(ctx, c.ARN, i.ARN, false); err != nil && !isNotFound(err) {
			return err
		}
	}
	return nil
}

// uncoverInstances takes units of c again for the running instances on host h associated
// with c, now that h's association with c was removed: they count themselves, checked as at
// launch (a Socket configuration's, the host's sockets, once: perHost). Errors: a *Refusal.
func (s *Service) uncoverInstances(ctx context.Context, tx *store.Tx, c *store.LicenseConfiguration, h *store.Resource) error {
	if c.CountingType != CountCore && c.CountingType != CountSocket || c.Status != store.ConfigurationAvailable {
		return nil
	}
	insts, err := tx.HostInstances(ctx, h.ID)
	if err != nil {
		return err
	}
	shared := false // a Socket configuration's: the host's sockets taken by one of them
	for _, i := range insts {
		if i.AccountID != h.AccountID || i.Region != h.Region || !consuming(i) {
			continue
		}
		us, err := tx.LicenseUsages(ctx, store.LicenseUsageQuery{ConfigARN: c.ARN, ResourceARNs: []string{i.ARN}, Limit: 1})
		if err != nil {
			return err
		}
		if len(us) == 0 || us[0].Consumed > 0 || shared {
			continue
		}
		shared = perHost(c, i)
		units, err := unitsFor(c, i)
		if err != nil {
			return err
		}
		if err := s.take(ctx, tx, c, units, 1, describe(i), i.ARN); err != nil {
			return err
		}
		if _, err := tx.ResumeLicenseUsage(ctx, c.ARN, i.ARN, units); err != nil {
			return err
		}
	}
	return nil
}

// perHost reports whether c counts r's units once per Dedicated Host: a Socket configuration
// counts the sockets of the host an instance is placed on once, however many of the host's
// instances use it, as a per-socket license covers the whole server. One of those instances'
// associations holds them, the others hold nothing; when it stops using them, they pass to
// another (passOn), or go back to the pool with the last one. (A host associated with c
// itself covers its instances instead: hostCovers.)
func perHost(c *store.LicenseConfiguration, r *store.Resource) bool {
	return c.CountingType == CountSocket && r.Type == store.ResourceInstance && r.HostID != ""
}

// hostHolder returns the association of c with another instance on r's host that holds the
// host's sockets (perHost), with its hold when they are only held for #licenseAffinityToHost
// (the instance stopped, or its association removed), or nil. A running holder is preferred.
// Callers lock the host's row first.
func hostHolder(ctx context.Context, tx *store.Tx, c *store.LicenseConfiguration, r *store.Resource) (*store.LicenseUsage, *store.AffinityHold, error) {
	arns, err := hostSiblings(ctx, tx, r, false)
	if err != nil || len(arns) == 0 {
		return nil, nil, err
	}
	us, err := tx.LicenseUsages(ctx, store.LicenseUsageQuery{ConfigARN: c.ARN, ResourceARNs: arns, ConsumingOnly: true})
	if err != nil || len(us) == 0 {
		return nil, nil, err
	}
	var held *store.LicenseUsage
	var hold *store.AffinityHold
	for _, u := range us {
		h, err := tx.AffinityHoldOf(ctx, c.ARN, u.ResourceARN)
		if isNotFound(err) {
			return u, nil, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if held == nil {
			held, hold = u, h
		}
	}
	return held, hold, nil
}

// hostSiblings returns the ARNs of the other instances of r's account and region on r's
// Dedicated Host that are not terminated, or with running, those that are running.
func hostSiblings(ctx context.Context, tx *store.Tx, r *store.Resource, running bool) ([]string, error) {
	insts, err := tx.HostInstances(ctx, r.HostID)
	if err != nil {
		return nil, err
	}
	var arns []string
	for _, i := range insts {
		if i.ARN != r.ARN && i.AccountID == r.AccountID && i.Region == r.Region && (!running || consuming(i)) {
			arns = append(arns, i.ARN)
		}
	}
	return arns, nil
}

// passOn moves the host's sockets that r, an instance that stops using them (stopped,
// terminated, or its association removed), holds of an AVAILABLE Socket configuration through
// u to another running instance on the host associated with it, and reports whether it did:
// the host's sockets stay consumed once while any of its instances uses them (perHost).
// Callers lock the host's row first.
func (s *Service) passOn(ctx context.Context, tx *store.Tx, r *store.Resource, u *store.LicenseUsage) (bool, error) {
	if u.Consumed == 0 || r.Type != store.ResourceInstance || r.HostID == "" {
		return false, nil
	}
	c, err := tx.LicenseConfiguration(ctx, u.ConfigARN)
	if err != nil {
		return false, err
	}
	if !perHost(c, r) || c.Status != store.ConfigurationAvailable {
		return false, nil
	}
	arns, err := hostSiblings(ctx, tx, r, true)
	if err != nil || len(arns) == 0 {
		return false, err
	}
	us, err := tx.LicenseUsages(ctx, store.LicenseUsageQuery{ConfigARN: c.ARN, ResourceARNs: arns})
	if err != nil {
		return false, err
	}
	for _, o := range us {
		if o.Consumed == 0 {
			return tx.MoveLicenseUsage(ctx, c.ARN, r.ARN, o.ResourceARN, u.Consumed)
		}
	}
	return false, nil
}

// takeOver has r, an instance that starts using c on its Dedicated Host, take over the host's
// sockets that from, another instance's association, holds for #licenseAffinityToHost (hold):
// they are in use on the host again, so the hold ends without returning them, and from's
// association goes if the hold was to remove it. r's association, holding nothing, is stored
// already. Should the hold have ended meanwhile, r takes the sockets itself, checked against a
// hard limit (a *Refusal).
func (s *Service) takeOver(ctx context.Context, tx *store.Tx, c *store.LicenseConfiguration, from *store.LicenseUsage, hold *store.AffinityHold, r *store.Resource) error {
	// The hold's row before the association's, as the sweep ending it takes them.
	cancelled, err := tx.CancelAffinityHold(ctx, c.ARN, from.ResourceARN)
	if err != nil {
		return err
	}
	moved := false
	if cancelled {
		if moved, err = tx.MoveLicenseUsage(ctx, c.ARN, from.ResourceARN, r.ARN, from.Consumed); err != nil {
			return err
		}
	}
	if !moved {
		if err := s.take(ctx, tx, c, r.Sockets, 1, describe(r), r.ARN); err != nil {
			return err
		}
		_, err := tx.ResumeLicenseUsage(ctx, c.ARN, r.ARN, r.Sockets)
		return err
	}
	if hold.Disassociate { // holding nothing now: nothing returns
		if _, err := tx.RemoveLicenseUsage(ctx, c.ARN, from.ResourceARN); err != nil && !isNotFound(err) {
			return err
		}
	}
	return nil
}

// RecordFailure records a refusal (a *Refusal in err) against its configuration for
// ListFailuresForLicenseConfigurationOperations, in a transaction of its own: the refused one
// wrote nothing. Any other err is not recorded; nil is returned for it.
func (s *Service) RecordFailure(ctx context.Context, caller *identity.Principal, operation string, r *store.Resource, err error) error {
	var ref *Refusal
	if !errors.As(err, &ref) || caller == nil {
		return nil
	}
	f := &store.LicenseFailure{ConfigARN: ref.ConfigARN, ResourceARN: r.ARN, ResourceType: r.Type, ResourceOwnerID: r.AccountID,
		OperationName: operation, RequestedBy: caller.ARN, ErrorMessage: ref.Err.Message}
	// The call's own audit event is recorded with its error by the server, not here.
	return s.DB.Update(audit.WithPending(ctx, nil), func(tx *store.Tx) error {
		f.FailureTime = tx.Now()
		return tx.AddLicenseFailure(ctx, f)
	})
}

// recordFailure is RecordFailure that logs its own failure: the refusal is what the caller
// needs to see.
func (s *Service) recordFailure(ctx context.Context, caller *identity.Principal, operation string, r *store.Resource, err error) {
	if rerr := s.RecordFailure(ctx, caller, operation, r, err); rerr != nil {
		s.logger().Error("could not record a refused license operation", "operation", operation, "resource", r.ARN, "err", rerr)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
