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
// sockets of the Dedicated Host, or 1 per instance. Images take nothing and are not checked.
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
		if covered, err := hostCovers(ctx, tx, c, r); err != nil {
			return nil, err
		} else if covered {
			units = 0
		}
		a.entries = append(a.entries, admitted{c: c, units: units})
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
		n = min(n, max(*c.LicenseCount-c.Consumed, 0)/e.units)
	}
	return int(n)
}

// Consume takes the units of the admitted configurations for rs, the instances of one launch
// (stored already in this transaction), with one conditional UPDATE per configuration in ARN order, associates them
// and records an alert for each configuration left over a soft limit. It returns a *Refusal
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
		if err := s.take(ctx, tx, e.c, e.units, int64(len(rs)), subject, rs[0].ARN); err != nil {
			return err
		}
		for _, r := range rs {
			err := tx.AddLicenseUsage(ctx, &store.LicenseUsage{ConfigARN: e.c.ARN, ResourceARN: r.ARN, ResourceType: r.Type,
				ResourceAccount: r.AccountID, Consumed: e.units, AssociatedAt: now})
			if err != nil {
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
// associations with an AVAILABLE configuration, the rules are checked and the units taken.
// Associations with a DISABLED configuration stay untracked. Errors: a *Refusal.
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
		if covered, err := hostCovers(ctx, tx, c, r); err != nil {
			return err
		} else if covered {
			units = 0
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
// then.
func (s *Service) Release(ctx context.Context, tx *store.Tx, r *store.Resource, remove bool) error {
	if r.Type != store.ResourceHost && r.HostID == "" {
		_, err := tx.ReleaseResourceLicenses(ctx, r.ARN, remove)
		return err
	}
	us, err := tx.ResourceLicenseUsage(ctx, r.ARN)
	if err != nil {
		return err
	}
	for _, u := range us { // in configuration ARN order, as ReleaseResourceLicenses
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
// launch. Errors: a *Refusal.
func (s *Service) uncoverInstances(ctx context.Context, tx *store.Tx, c *store.LicenseConfiguration, h *store.Resource) error {
	if c.CountingType != CountCore && c.CountingType != CountSocket || c.Status != store.ConfigurationAvailable {
		return nil
	}
	insts, err := tx.HostInstances(ctx, h.ID)
	if err != nil {
		return err
	}
	for _, i := range insts {
		if i.AccountID != h.AccountID || i.Region != h.Region || !consuming(i) {
			continue
		}
		us, err := tx.LicenseUsages(ctx, store.LicenseUsageQuery{ConfigARN: c.ARN, ResourceARNs: []string{i.ARN}, Limit: 1})
		if err != nil {
			return err
		}
		if len(us) == 0 || us[0].Consumed > 0 {
			continue
		}
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
