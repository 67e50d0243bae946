package licenseconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/allot-dev/allot/internal/awstime"
	"github.com/allot-dev/allot/internal/store"
)

// Automated discovery associates managed instances (machines the inventory agent reports)
// with the configurations whose ProductInformationList describes them, as License Manager
// does with Systems Manager inventory.
//
// A configuration matches an instance when one of its SSM_MANAGED product information
// entries does: every filter of the entry holds. Filters compare exactly (case-sensitive):
//   - "Application Name", "Application Publisher", "Application Version" (EQUALS): one
//     installed application has one of the values of each of these filters of the entry;
//   - "Platform Name" (EQUALS): the operating system's name, such as "Ubuntu";
//   - "Platform Type" (EQUALS): Linux, Windows or MacOS;
//   - "AccountId" (NOT_EQUALS): the instance's account is none of the values;
//   - "License Included" (EQUALS, NOT_EQUALS) and "Tag:<key>" (NOT_EQUALS): managed instances
//     have no included licenses or tags, so EQUALS never holds and NOT_EQUALS always does.
//
// Discovery cannot refuse a machine, which runs already: one that breaks a rule or would
// exceed a hard limit is not associated, the refusal is recorded for
// ListFailuresForLicenseConfigurationOperations (operation AutomatedDiscovery) and an alert
// (RULE_VIOLATION, LIMIT_EXCEEDED) is raised. Instances report every few minutes, so a
// refusal is recorded and alerted once, when the outcome for that configuration and instance
// changes (store.SetDiscoveryOutcome), not on every report.

// StalePeriod is how long a managed instance that stopped reporting stays counted before it
// becomes inactive and its units are released: the 30 days SSM keeps inventory (seed 001).
const StalePeriod = 30 * 24 * time.Hour

const (
	// discoveryOperation names automated discovery in the failures it records.
	discoveryOperation = "AutomatedDiscovery"
	// discoveryRequester is who the failures discovery records are requested by when it runs
	// on an instance's report rather than on a configuration change.
	discoveryRequester = "license-manager.amazonaws.com"
	// discoveryPage is how many configurations, associations or instances discovery reads
	// at a time.
	discoveryPage = 100
)

// Product information filter names of SSM_MANAGED entries.
const (
	filterApplicationName      = "Application Name"
	filterApplicationPublisher = "Application Publisher"
	filterApplicationVersion   = "Application Version"
	filterPlatformName         = "Platform Name"
	filterPlatformType         = "Platform Type"
	filterAccountID            = "AccountId"
	filterLicenseIncluded      = "License Included"
)

// ManagedInstanceARN returns the ARN of a managed instance (a machine the inventory agent
// reports), as SSM names it.
func ManagedInstanceARN(region, accountID, id string) string {
	return "arn:aws:ssm:" + region + ":" + accountID + ":managed-instance/" + id
}

// Discover runs automated discovery for one managed instance, in the transaction that stored
// its latest inventory (its applications already replaced, its row written, and so locked,
// by that transaction): it associates the instance with every AVAILABLE configuration of its
// account and region whose ProductInformationList matches it, and with those of its
// organization's management account once that account has linked the organization to License
// Manager (as UpdateLicenseSpecificationsForResource may), taking its units as
// UpdateLicenseSpecificationsForResource does; it releases it from configurations with
// DisassociateWhenNotFound whose products it no longer has, when discovery made the
// association (never one made by hand); an instance active again after going stale takes
// the units of its associations again; and an instance whose CPUs changed holds what its
// associations count now (see recountDiscovered). It refuses nothing: a rule broken or a hard
// limit reached leaves the instance unassociated (or holding nothing), recorded as a failure
// and alerted once. It records that discovery ran for each configuration it matched the
// instance against (AutomatedDiscoveryInformation.LastRunTime). Instances that are not
// active, and other resources, are left alone. It reads the configurations a page at a time,
// and a few small queries about the instance and its organization.
func (s *Service) Discover(ctx context.Context, tx *store.Tx, r *store.Resource) error {
	if r.Type != store.ResourceManaged || r.State != store.ManagedActive {
		return nil
	}
	sub, err := loadSubject(ctx, tx, r, discoveryRequester)
	if err != nil {
		return err
	}
	accounts := []string{r.AccountID}
	l, err := linkOf(ctx, tx, r.AccountID, r.Region)
	if err != nil {
		return err
	}
	if l.linked && !l.management(r.AccountID) {
		accounts = append(accounts, l.org.ManagementAccount)
	}
	seen := map[string]bool{}
	var ran []string
	err = eachConfiguration(ctx, tx, accounts, r.Region, func(c *store.LicenseConfiguration) error {
		seen[c.ARN] = true
		if ok, err := discoverable(c); err != nil {
			return err
		} else if ok {
			ran = append(ran, c.ARN)
		}
		return s.reconcile(ctx, tx, c, sub)
	})
	if err != nil {
		return err
	}
	// Associations with configurations of another account that discovery no longer
	// considers (the organization was unlinked) take their units again too, and are
	// recounted; discovery adds none.
	for _, arn := range sortedKeys(sub.usage) {
		if seen[arn] {
			continue
		}
		c, err := tx.LicenseConfiguration(ctx, arn)
		if err != nil {
			return err
		}
		if err := s.reconcile(ctx, tx, c, sub); err != nil {
			return err
		}
	}
	// Last, after every unit taken: a configuration's row is always locked before its run's.
	return tx.TouchDiscoveryRuns(ctx, ran, tx.Now())
}

// eachConfiguration calls fn for every configuration of the accounts in region, in ARN order
// across the accounts (the order units are taken in), reading a page of each account's at a
// time.
func eachConfiguration(ctx context.Context, tx *store.Tx, accounts []string, region string, fn func(*store.LicenseConfiguration) error) error {
	type cursor struct {
		q    store.LicenseConfigurationQuery
		buf  []*store.LicenseConfiguration
		done bool
	}
	cs := make([]*cursor, len(accounts))
	for i, a := range accounts {
		cs[i] = &cursor{q: store.LicenseConfigurationQuery{AccountID: a, Region: region, Limit: discoveryPage}}
	}
	for {
		var next *cursor
		for _, c := range cs {
			if len(c.buf) == 0 && !c.done {
				page, err := tx.LicenseConfigurations(ctx, c.q)
				if err != nil {
					return err
				}
				c.buf, c.done = page, len(page) < discoveryPage
				if len(page) > 0 {
					c.q.After = page[len(page)-1].ARN
				}
			}
			if len(c.buf) > 0 && (next == nil || c.buf[0].ARN < next.buf[0].ARN) {
				next = c
			}
		}
		if next == nil {
			return nil
		}
		c := next.buf[0]
		next.buf = next.buf[1:]
		if err := fn(c); err != nil {
			return err
		}
	}
}

// discoverable reports whether automated discovery runs for c: it is AVAILABLE and has
// SSM_MANAGED product information.
func discoverable(c *store.LicenseConfiguration) (bool, error) {
	if c.Status != store.ConfigurationAvailable {
		return false, nil
	}
	products, err := ssmProducts(c)
	return len(products) > 0, err
}

// lastRunTime returns when automated discovery last ran for a configuration, or nil when it
// never has.
func lastRunTime(ctx context.Context, tx *store.Tx, configARN string) (*awstime.Epoch, error) {
	t, ok, err := tx.DiscoveryLastRun(ctx, configARN)
	if err != nil || !ok {
		return nil, err
	}
	return &awstime.Epoch{Time: t}, nil
}

// discoverConfiguration runs automated discovery for one configuration, in the transaction
// that created or changed it (c locked): over the managed instances associated with it
// (DisassociateWhenNotFound, units again) and the account's active managed instances in its
// region that may match (an entry's single Application Name and Platform Name narrow the
// query), and those of every account of its organization when c's account is the management
// account and has linked the organization to License Manager; then records that discovery
// ran. It reads a page of instances at a time and four small queries per instance, and
// locks an instance's row only when it changes something for it. requester is who changed
// the configuration, named in the failures recorded.
func (s *Service) discoverConfiguration(ctx context.Context, tx *store.Tx, c *store.LicenseConfiguration, requester string) error {
	if c.Status != store.ConfigurationAvailable {
		return nil
	}
	after := ""
	for {
		us, err := tx.LicenseUsages(ctx, store.LicenseUsageQuery{ConfigARN: c.ARN, ResourceTypes: []string{store.ResourceManaged}, After: after, Limit: discoveryPage})
		if err != nil {
			return err
		}
		for _, u := range us {
			r, err := tx.Resource(ctx, u.ResourceARN)
			if err != nil {
				return err
			}
			if err := s.reconcileOne(ctx, tx, c, r, requester); err != nil {
				return err
			}
		}
		if len(us) < discoveryPage {
			break
		}
		after = us[len(us)-1].ResourceARN
	}
	products, err := ssmProducts(c)
	if err != nil || len(products) == 0 {
		return err
	}
	// A configuration of a management account that has linked its organization is discovered
	// on the machines of every account of the organization, as Discover does on a report.
	accounts := []string{c.AccountID}
	l, err := linkOf(ctx, tx, c.AccountID, c.Region)
	if err != nil {
		return err
	}
	if l.linked && l.management(c.AccountID) {
		members, err := tx.OrgAccounts(ctx, l.org.ID, store.OrgQuery{})
		if err != nil {
			return err
		}
		for _, a := range members {
			if a.ID != c.AccountID {
				accounts = append(accounts, a.ID)
			}
		}
	}
	for _, account := range accounts {
		q := store.ResourceQuery{AccountID: account, Region: c.Region, Types: []string{store.ResourceManaged},
			States: []string{store.ManagedActive}, Conditions: narrowing(products), Limit: discoveryPage}
		for {
			rs, err := tx.Resources(ctx, q)
			if err != nil {
				return err
			}
			for _, r := range rs {
				if err := s.reconcileOne(ctx, tx, c, r, requester); err != nil {
					return err
				}
			}
			if len(rs) < discoveryPage {
				break
			}
			q.After = rs[len(rs)-1].ID
		}
	}
	// Last: the configuration's row is locked before its run's, as in Discover.
	return tx.RecordDiscoveryRun(ctx, c.ARN, tx.Now())
}

// reconcileOne brings one instance in line with c, read first without a lock: when something
// is to change, the instance's row is locked and read again, so that a report or the stale
// sweep running at the same time is not overtaken.
func (s *Service) reconcileOne(ctx context.Context, tx *store.Tx, c *store.LicenseConfiguration, r *store.Resource, requester string) error {
	if r.State != store.ManagedActive {
		return nil
	}
	sub, err := loadSubject(ctx, tx, r, requester)
	if err != nil {
		return err
	}
	if next, err := plan(c, sub); err != nil || next == stepNone {
		return err
	}
	locked, err := tx.LockResource(ctx, r.ARN)
	if err != nil {
		return err
	}
	if locked.State != store.ManagedActive {
		return nil
	}
	if sub, err = loadSubject(ctx, tx, locked, requester); err != nil {
		return err
	}
	return s.reconcile(ctx, tx, c, sub)
}

// subject is what discovery knows about one managed instance.
type subject struct {
	r          *store.Resource
	apps       []store.Application
	usage      map[string]*store.LicenseUsage // by configuration ARN
	discovered map[string]bool                // configurations discovery associated it with
	outcomes   map[string]string              // refusals recorded, by configuration ARN
	requester  string
}

func loadSubject(ctx context.Context, tx *store.Tx, r *store.Resource, requester string) (*subject, error) {
	sub := &subject{r: r, usage: map[string]*store.LicenseUsage{}, requester: requester}
	var err error
	if sub.apps, err = tx.Applications(ctx, r.ARN); err != nil {
		return nil, err
	}
	us, err := tx.ResourceLicenseUsage(ctx, r.ARN)
	if err != nil {
		return nil, err
	}
	for _, u := range us {
		sub.usage[u.ConfigARN] = u
	}
	sub.discovered = map[string]bool{}
	if len(us) > 0 {
		if sub.discovered, err = tx.DiscoveredLicenseUsage(ctx, r.ARN); err != nil {
			return nil, err
		}
	}
	if sub.outcomes, err = tx.DiscoveryOutcomes(ctx, r.ARN); err != nil {
		return nil, err
	}
	return sub, nil
}

// step is what discovery is to do about one configuration and one instance.
type step int

const (
	stepNone         step = iota
	stepClear             // forget a refusal recorded: the instance holds the units, or no longer matches
	stepDisassociate      // DisassociateWhenNotFound: the products are gone
	stepResume            // an association holding nothing takes its units again
	stepAssociate         // a match not associated yet
	stepRecount           // an association holds other units than the instance's CPUs count now
)

// plan returns the step to take for c and sub's instance.
func plan(c *store.LicenseConfiguration, sub *subject) (step, error) {
	if c.Status != store.ConfigurationAvailable {
		return stepNone, nil
	}
	products, err := ssmProducts(c)
	if err != nil {
		return stepNone, err
	}
	match := matchesAny(products, sub)
	u := sub.usage[c.ARN]
	switch {
	case u != nil && !match && c.DisassociateWhenNotFound && sub.discovered[c.ARN]:
		return stepDisassociate, nil
	case u != nil && u.Consumed == 0:
		return stepResume, nil
	case u == nil && match:
		return stepAssociate, nil
	case u != nil:
		units, err := unitsFor(c, sub.r)
		var ref *Refusal
		if errors.As(err, &ref) || err == nil && units != u.Consumed {
			return stepRecount, nil
		}
		if err != nil {
			return stepNone, err
		}
	}
	if sub.outcomes[c.ARN] != "" {
		return stepClear, nil
	}
	return stepNone, nil
}

// reconcile takes the step plan returns for c and sub's instance, whose row this transaction
// has written or locked.
func (s *Service) reconcile(ctx context.Context, tx *store.Tx, c *store.LicenseConfiguration, sub *subject) error {
	next, err := plan(c, sub)
	if err != nil {
		return err
	}
	r := sub.r
	switch next {
	case stepClear:
		return s.settle(ctx, tx, c, sub, "", "", "")
	case stepDisassociate:
		if _, err := tx.RemoveLicenseUsage(ctx, c.ARN, r.ARN); err != nil {
			return err
		}
		delete(sub.usage, c.ARN)
		delete(sub.discovered, c.ARN)
		s.logger().Debug("automated discovery disassociated a managed instance whose products are gone",
			"configuration", c.ARN, "resource", r.ARN)
		return s.settle(ctx, tx, c, sub, "", "", "")
	case stepResume:
		return s.resumeDiscovered(ctx, tx, c, sub)
	case stepAssociate:
		return s.associateDiscovered(ctx, tx, c, sub)
	case stepRecount:
		return s.recountDiscovered(ctx, tx, c, sub)
	}
	return nil
}

// associateDiscovered associates sub's instance with c, checked and counted as
// UpdateLicenseSpecificationsForResource does, or records why it could not.
func (s *Service) associateDiscovered(ctx context.Context, tx *store.Tx, c *store.LicenseConfiguration, sub *subject) error {
	r := sub.r
	lead := "Automated discovery found " + describe(r) + " but did not associate it: "
	if n := len(sub.usage); n >= MaxConfigurationsPerResource {
		msg := fmt.Sprintf("License configuration %q (%s) matches %s, which is associated with %d license configurations already, the most allowed.",
			c.Name, c.ARN, describe(r), n)
		return s.settle(ctx, tx, c, sub, store.DiscoveryTooManyConfigs, msg, lead+msg)
	}
	units, err := unitsFor(c, r)
	var ref *Refusal
	if errors.As(err, &ref) {
		return s.settle(ctx, tx, c, sub, store.DiscoveryRuleViolation, ref.Err.Message, lead+ref.Err.Message)
	}
	if err != nil {
		return err
	}
	taken, err := s.takeDiscovered(ctx, tx, c, sub, units, lead)
	if err != nil || !taken {
		return err
	}
	u := &store.LicenseUsage{ConfigARN: c.ARN, ResourceARN: r.ARN, ResourceType: r.Type, ResourceAccount: r.AccountID,
		Consumed: units, AssociatedAt: tx.Now()}
	if err := tx.AddLicenseUsage(ctx, u); err != nil {
		return err
	}
	if err := tx.MarkLicenseUsageDiscovered(ctx, c.ARN, r.ARN); err != nil {
		return err
	}
	sub.usage[c.ARN], sub.discovered[c.ARN] = u, true
	return s.settle(ctx, tx, c, sub, "", "", "")
}

// resumeDiscovered has an association of sub's instance that holds nothing (the instance
// went stale and reports again) take its units again, or records why it could not; the
// association stays, and the next report tries again.
func (s *Service) resumeDiscovered(ctx context.Context, tx *store.Tx, c *store.LicenseConfiguration, sub *subject) error {
	r := sub.r
	lead := describe(r) + " reports again but does not hold its license again: "
	units, err := unitsFor(c, r)
	var ref *Refusal
	if errors.As(err, &ref) {
		return s.settle(ctx, tx, c, sub, store.DiscoveryRuleViolation, ref.Err.Message, lead+ref.Err.Message)
	}
	if err != nil {
		return err
	}
	if units == 0 {
		return s.settle(ctx, tx, c, sub, "", "", "")
	}
	taken, err := s.takeDiscovered(ctx, tx, c, sub, units, lead)
	if err != nil || !taken {
		return err
	}
	ok, err := tx.ResumeLicenseUsage(ctx, c.ARN, r.ARN, units)
	if err != nil {
		return err
	}
	if !ok { // the instance's row lock keeps other writers of its associations out
		return fmt.Errorf("licenseconfig: resume %s on %s: the association changed meanwhile", c.ARN, r.ARN)
	}
	sub.usage[c.ARN].Consumed = units
	return s.settle(ctx, tx, c, sub, "", "", "")
}

// recountDiscovered has an association of sub's instance that holds units hold what the
// instance's CPUs count now under c's counting type, after the instance reported a new CPU
// topology. Fewer units return the difference. More take the difference, checked as an
// association is: when a hard limit has no room for it, or the instance now breaks c's
// rules, the association stays but holds nothing, as one that cannot take its units again
// after going stale (resumeDiscovered), and the refusal is recorded (LIMIT_EXCEEDED,
// RULE_VIOLATION) and alerted once; each later report tries again. A configuration disabled
// meanwhile is left alone.
func (s *Service) recountDiscovered(ctx context.Context, tx *store.Tx, c *store.LicenseConfiguration, sub *subject) error {
	r, u := sub.r, sub.usage[c.ARN]
	lead := describe(r) + " reports new CPUs and no longer holds its license: "
	outcome := ""
	units, err := unitsFor(c, r)
	var ref *Refusal
	switch {
	case errors.As(err, &ref):
		outcome = store.DiscoveryRuleViolation
	case err != nil:
		return err
	case units > u.Consumed:
		err := s.take(ctx, tx, c, units-u.Consumed, 1, describe(r), r.ARN)
		if !errors.As(err, &ref) {
			if err != nil {
				return err
			}
			break
		}
		cur, err := tx.LicenseConfiguration(ctx, c.ARN)
		if err != nil {
			return err
		}
		if cur.Status != store.ConfigurationAvailable {
			return nil
		}
		outcome = store.DiscoveryLimitExceeded
	}
	if outcome != "" {
		units = 0
	}
	ok, err := tx.RecountLicenseUsage(ctx, c.ARN, r.ARN, u.Consumed, units)
	if err != nil {
		return err
	}
	if !ok { // the instance's row lock keeps other writers of its associations out
		return fmt.Errorf("licenseconfig: recount %s on %s: the association changed meanwhile", c.ARN, r.ARN)
	}
	s.logger().Debug("automated discovery recounted a managed instance whose CPUs changed",
		"configuration", c.ARN, "resource", r.ARN, "from", u.Consumed, "to", units)
	u.Consumed = units
	if outcome == "" {
		return s.settle(ctx, tx, c, sub, "", "", "")
	}
	return s.settle(ctx, tx, c, sub, outcome, ref.Err.Message, lead+ref.Err.Message)
}

// takeDiscovered takes units of c for sub's instance and reports whether it did: a hard limit
// without room is recorded as LIMIT_EXCEEDED; a configuration disabled meanwhile is left
// alone.
func (s *Service) takeDiscovered(ctx context.Context, tx *store.Tx, c *store.LicenseConfiguration, sub *subject, units int64, lead string) (bool, error) {
	err := s.take(ctx, tx, c, units, 1, describe(sub.r), sub.r.ARN)
	var ref *Refusal
	if !errors.As(err, &ref) {
		return err == nil, err
	}
	cur, err := tx.LicenseConfiguration(ctx, c.ARN)
	if err != nil {
		return false, err
	}
	if cur.Status != store.ConfigurationAvailable {
		return false, nil
	}
	return false, s.settle(ctx, tx, cur, sub, store.DiscoveryLimitExceeded, ref.Err.Message, lead+ref.Err.Message)
}

// settle records the outcome of discovery for c and sub's instance when it changed: a
// refusal (one of the store.Discovery constants) is recorded as a failure (failure its
// message) and alerted (alert the alert's message; TOO_MANY_CONFIGURATIONS is not alerted);
// "" forgets the refusal recorded before, so that a new one is reported again.
func (s *Service) settle(ctx context.Context, tx *store.Tx, c *store.LicenseConfiguration, sub *subject, outcome, failure, alert string) error {
	r := sub.r
	if sub.outcomes[c.ARN] == outcome {
		return nil
	}
	if err := tx.SetDiscoveryOutcome(ctx, c.ARN, r.ARN, outcome, tx.Now()); err != nil {
		return err
	}
	if outcome == "" {
		delete(sub.outcomes, c.ARN)
		return nil
	}
	sub.outcomes[c.ARN] = outcome
	err := tx.AddLicenseFailure(ctx, &store.LicenseFailure{ConfigARN: c.ARN, ResourceARN: r.ARN, ResourceType: r.Type,
		ResourceOwnerID: r.AccountID, OperationName: discoveryOperation, RequestedBy: sub.requester, ErrorMessage: failure,
		FailureTime: tx.Now()})
	if err != nil {
		return err
	}
	kind := map[string]string{store.DiscoveryRuleViolation: AlertRuleViolation, store.DiscoveryLimitExceeded: AlertLimitExceeded}[outcome]
	if kind == "" {
		return nil
	}
	cur, err := tx.LicenseConfiguration(ctx, c.ARN) // its counter as this transaction left it
	if err != nil {
		return err
	}
	return raiseAlert(ctx, tx, cur, kind, r.ARN, cur.Consumed, deref(cur.LicenseCount), alert)
}

// ssmProducts returns a configuration's SSM_MANAGED product information entries.
func ssmProducts(c *store.LicenseConfiguration) ([]ProductInformation, error) {
	if c.ProductInformation == "" || c.ProductInformation == "[]" {
		return nil, nil
	}
	var all []ProductInformation
	if err := json.Unmarshal([]byte(c.ProductInformation), &all); err != nil {
		return nil, fmt.Errorf("licenseconfig: %s: product information: %w", c.ARN, err)
	}
	return slices.DeleteFunc(all, func(p ProductInformation) bool { return deref(p.ResourceType) != productSSM }), nil
}

// matchesAny reports whether one of the entries matches sub's instance.
func matchesAny(products []ProductInformation, sub *subject) bool {
	return slices.ContainsFunc(products, func(p ProductInformation) bool { return matches(p, sub) })
}

// matches reports whether every filter of an entry holds for sub's instance; the application
// filters must all hold for one installed application.
func matches(p ProductInformation, sub *subject) bool {
	r := sub.r
	var appFilters []ProductInformationFilter
	for _, f := range p.ProductInformationFilterList {
		var ok bool
		switch name := deref(f.ProductInformationFilterName); name {
		case filterApplicationName, filterApplicationPublisher, filterApplicationVersion:
			appFilters = append(appFilters, f)
			ok = true
		case filterPlatformName:
			ok = compare(f, r.Platform)
		case filterPlatformType:
			ok = compare(f, r.PlatformType)
		case filterAccountID:
			ok = compare(f, r.AccountID)
		case filterLicenseIncluded:
			ok = compare(f, "") // managed instances include no licenses
		default: // Tag:<key>: managed instances carry no tags, so no exclusion applies
			ok = deref(f.ProductInformationFilterComparator) == "NOT_EQUALS"
		}
		if !ok {
			return false
		}
	}
	if len(appFilters) == 0 {
		return true
	}
	return slices.ContainsFunc(sub.apps, func(a store.Application) bool {
		for _, f := range appFilters {
			v := a.Name
			switch deref(f.ProductInformationFilterName) {
			case filterApplicationPublisher:
				v = a.Publisher
			case filterApplicationVersion:
				v = a.Version
			}
			if !compare(f, v) {
				return false
			}
		}
		return true
	})
}

// compare applies a filter to a value: EQUALS holds when the value is one of the filter's
// values, NOT_EQUALS when it is none of them. The comparators are those CreateLicenseConfiguration
// accepts for SSM_MANAGED filters, as License Manager documents them.
func compare(f ProductInformationFilter, v string) bool {
	in := slices.Contains(f.ProductInformationFilterValue, v)
	if deref(f.ProductInformationFilterComparator) == "NOT_EQUALS" {
		return !in
	}
	return in
}

// narrowing returns inventory conditions every instance a configuration matches meets, to
// narrow the instances discoverConfiguration reads: with one entry, its Application Name and
// Platform Name filters that have one value.
func narrowing(products []ProductInformation) []store.InventoryCondition {
	if len(products) != 1 {
		return nil
	}
	var out []store.InventoryCondition
	for _, f := range products[0].ProductInformationFilterList {
		if len(f.ProductInformationFilterValue) != 1 || deref(f.ProductInformationFilterComparator) != "EQUALS" {
			continue
		}
		v := f.ProductInformationFilterValue[0]
		switch deref(f.ProductInformationFilterName) {
		case filterApplicationName:
			out = append(out, store.InventoryCondition{Attribute: "application_name", Condition: store.ConditionEquals, Value: v})
		case filterPlatformName:
			out = append(out, store.InventoryCondition{Attribute: "platform", Condition: store.ConditionEquals, Value: v})
		}
	}
	return out
}
