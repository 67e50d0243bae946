package licenseconfig

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Counting types (LicenseCountingType).
const (
	CountVCPU     = "vCPU"
	CountInstance = "Instance"
	CountCore     = "Core"
	CountSocket   = "Socket"
)

var countingTypes = []string{CountVCPU, CountInstance, CountCore, CountSocket}

// Tenancies as the allowedTenancy rule names them.
const (
	TenancyDefault           = "EC2-Default"
	TenancyDedicatedInstance = "EC2-DedicatedInstance"
	TenancyDedicatedHost     = "EC2-DedicatedHost"
)

var tenancies = []string{TenancyDefault, TenancyDedicatedInstance, TenancyDedicatedHost}

// Rule names.
const (
	ruleAllowedTenancy        = "allowedTenancy"
	ruleHonorVCPUOptimization = "honorVcpuOptimization"
	ruleLicenseAffinityToHost = "licenseAffinityToHost"
	ruleMinimumVCPUs          = "minimumVcpus"
	ruleMaximumVCPUs          = "maximumVcpus"
	ruleMinimumCores          = "minimumCores"
	ruleMaximumCores          = "maximumCores"
	ruleMinimumSockets        = "minimumSockets"
	ruleMaximumSockets        = "maximumSockets"
)

// ruleTypes returns the counting types a rule applies to (as the current License Manager API
// documents them), or nil for a name that is no rule.
func ruleTypes(name string) []string {
	switch name {
	case ruleAllowedTenancy:
		return countingTypes
	case ruleLicenseAffinityToHost:
		return []string{CountCore, CountSocket}
	case ruleMinimumCores, ruleMaximumCores:
		return []string{CountCore}
	case ruleMinimumSockets, ruleMaximumSockets:
		return []string{CountSocket}
	case ruleMinimumVCPUs, ruleMaximumVCPUs:
		return []string{CountVCPU, CountInstance}
	case ruleHonorVCPUOptimization:
		return []string{CountVCPU}
	}
	return nil
}

var ruleNames = []string{
	ruleAllowedTenancy, ruleHonorVCPUOptimization, ruleLicenseAffinityToHost, ruleMaximumCores, ruleMaximumSockets,
	ruleMaximumVCPUs, ruleMinimumCores, ruleMinimumSockets, ruleMinimumVCPUs,
}

// maxRuleValue bounds the integer rules (vCPUs, cores, sockets).
const maxRuleValue = 1 << 20

// Rules are a configuration's LicenseRules, parsed. Nil pointers are rules not given.
type Rules struct {
	MinimumVCPUs, MaximumVCPUs     *int64
	MinimumCores, MaximumCores     *int64
	MinimumSockets, MaximumSockets *int64
	HonorVCPUOptimization          bool
	AllowedTenancy                 []string // none: every tenancy
	LicenseAffinityToHost          *int64   // days, 1 to 180
}

// ParseRules parses and checks LicenseRules for a counting type: each rule "#name=value", a
// name the counting type allows, once (allowedTenancy may repeat, once per tenancy), a value
// of the right kind, and minimums not above maximums. Errors are InvalidParameterValueException
// naming the rule.
func ParseRules(countingType string, rules []string) (*Rules, error) {
	r := &Rules{}
	seen := map[string]int{}
	for i, raw := range rules {
		m := fmt.Sprintf("LicenseRules[%d]", i)
		body, ok := strings.CutPrefix(strings.TrimSpace(raw), "#")
		name, value, hasEq := strings.Cut(body, "=")
		if !ok || !hasEq || name == "" {
			return nil, invalid("%s %q must be written #name=value, such as #minimumCores=8.", m, raw)
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		types := ruleTypes(name)
		if types == nil {
			for _, n := range ruleNames {
				if strings.EqualFold(n, name) {
					return nil, invalid("%s: there is no rule %q; rule names are case-sensitive: did you mean #%s?", m, name, n)
				}
			}
			return nil, invalid("%s: there is no rule %q; the rules are %s.", m, name, strings.Join(ruleNames, ", "))
		}
		if !slices.Contains(types, countingType) {
			return nil, invalid("%s: #%s applies to %s counting, not %s.%s", m, name, strings.Join(types, " and "), countingType, ruleHint(name, countingType))
		}
		if prev, dup := seen[name]; dup && name != ruleAllowedTenancy {
			return nil, invalid("%s: #%s is given twice (also at LicenseRules[%d]).", m, name, prev)
		}
		seen[name] = i
		switch name {
		case ruleAllowedTenancy:
			if !slices.Contains(tenancies, value) {
				return nil, invalid("%s: #allowedTenancy must be one of %s, not %q.", m, strings.Join(tenancies, ", "), value)
			}
			if slices.Contains(r.AllowedTenancy, value) {
				return nil, invalid("%s: #allowedTenancy=%s is given twice.", m, value)
			}
			r.AllowedTenancy = append(r.AllowedTenancy, value)
		case ruleHonorVCPUOptimization:
			switch strings.ToLower(value) {
			case "true":
				r.HonorVCPUOptimization = true
			case "false":
			default:
				return nil, invalid("%s: #honorVcpuOptimization must be True or False, not %q.", m, value)
			}
		case ruleLicenseAffinityToHost:
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 1 || n > 180 {
				return nil, invalid("%s: #licenseAffinityToHost must be a number of days from 1 to 180, not %q.", m, value)
			}
			r.LicenseAffinityToHost = &n
		default:
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 1 || n > maxRuleValue {
				return nil, invalid("%s: #%s must be a whole number from 1 to %d, not %q.", m, name, maxRuleValue, value)
			}
			*r.bound(name) = &n
		}
	}
	for _, p := range []struct {
		min, max string
		lo, hi   *int64
	}{
		{ruleMinimumVCPUs, ruleMaximumVCPUs, r.MinimumVCPUs, r.MaximumVCPUs},
		{ruleMinimumCores, ruleMaximumCores, r.MinimumCores, r.MaximumCores},
		{ruleMinimumSockets, ruleMaximumSockets, r.MinimumSockets, r.MaximumSockets},
	} {
		if p.lo != nil && p.hi != nil && *p.lo > *p.hi {
			return nil, invalid("LicenseRules: #%s=%d is more than #%s=%d.", p.min, *p.lo, p.max, *p.hi)
		}
	}
	return r, nil
}

// bound returns the field of a minimum or maximum rule.
func (r *Rules) bound(name string) **int64 {
	switch name {
	case ruleMinimumVCPUs:
		return &r.MinimumVCPUs
	case ruleMaximumVCPUs:
		return &r.MaximumVCPUs
	case ruleMinimumCores:
		return &r.MinimumCores
	case ruleMaximumCores:
		return &r.MaximumCores
	case ruleMinimumSockets:
		return &r.MinimumSockets
	default:
		return &r.MaximumSockets
	}
}

// ruleHint suggests the rule of the same kind that countingType allows.
func ruleHint(name, countingType string) string {
	kind := ""
	switch {
	case strings.HasPrefix(name, "minimum"):
		kind = "minimum"
	case strings.HasPrefix(name, "maximum"):
		kind = "maximum"
	default:
		return ""
	}
	unit := map[string]string{CountVCPU: "Vcpus", CountInstance: "Vcpus", CountCore: "Cores", CountSocket: "Sockets"}[countingType]
	return fmt.Sprintf(" For %s counting use #%s%s.", countingType, kind, unit)
}

// changedRules returns the names of the rules whose values differ between two rule lists.
func changedRules(a, b []string) []string {
	values := func(rules []string) map[string][]string {
		m := map[string][]string{}
		for _, raw := range rules {
			body, _ := strings.CutPrefix(strings.TrimSpace(raw), "#")
			name, value, _ := strings.Cut(body, "=")
			name, value = strings.TrimSpace(name), strings.ToLower(strings.TrimSpace(value))
			m[name] = append(m[name], value)
		}
		for _, vs := range m {
			slices.Sort(vs)
		}
		return m
	}
	va, vb := values(a), values(b)
	var out []string
	for _, n := range ruleNames {
		if !slices.Equal(va[n], vb[n]) {
			out = append(out, n)
		}
	}
	return out
}
