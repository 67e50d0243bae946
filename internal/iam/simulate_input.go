package iam

import (
	"encoding/base64"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/policy"
)

// simulateInput is what the two simulate operations have in common.
type simulateInput struct {
	policies, boundaries []string
	actions, resources   []string
	resourcePolicy       string
	owner, callerARN     string
	context              []ContextEntry
	handling             string
	maxItems             *int32
	marker               string
}

// maxContextKey is the longest context key name.
const maxContextKey = 256

// check validates the input of a simulation and returns the simulation it asks for (without
// the stored policies of SimulatePrincipalPolicy, and without a principal unless CallerArn
// names one) and the page of results to return.
func (in *simulateInput) check(op string) (*simulation, *page, error) {
	if len(in.actions) == 0 {
		return nil, nil, missing("actionNames")
	}
	for i, a := range in.actions {
		if err := checkLength("actionNames."+itoa(i+1)+".member", a, 3, 128); err != nil {
			return nil, nil, err
		}
		prefix, name, ok := strings.Cut(a, ":")
		if !ok || prefix == "" || name == "" || strings.ContainsAny(a, "*? \t\r\n") || strings.Contains(name, ":") {
			return nil, nil, awserr.New(ErrInvalidInput, "Invalid action name %s: an action is a service prefix and an operation, such as iam:CreateUser, without wildcards.", a)
		}
	}
	sim := &simulation{actions: in.actions, resources: []string{"*"}, now: time.Now()}
	for i, doc := range in.policies {
		d, err := checkInputPolicy("policyInputList."+itoa(i+1)+".member", doc, policy.KindIdentity)
		if err != nil {
			return nil, nil, err
		}
		sim.identity = append(sim.identity, &simPolicy{id: "PolicyInputList." + itoa(i+1), typ: SourceIAMPolicy, doc: d})
	}
	if len(in.boundaries) > 1 {
		return nil, nil, awserr.New(ErrInvalidInput, "PermissionsBoundaryPolicyInputList can hold only one permissions boundary, not %d: an entity has at most one.", len(in.boundaries))
	}
	for _, doc := range in.boundaries {
		d, err := checkInputPolicy("permissionsBoundaryPolicyInputList.1.member", doc, policy.KindIdentity)
		if err != nil {
			return nil, nil, err
		}
		sim.boundary = &simPolicy{id: "PermissionsBoundaryPolicyInputList.1", typ: SourceIAMPolicy, doc: d}
	}
	if in.resources != nil {
		if len(in.resources) == 0 {
			return nil, nil, invalid("resourceArns", "", "Member must have length greater than or equal to 1")
		}
		for i, r := range in.resources {
			if err := checkLength("resourceArns."+itoa(i+1)+".member", r, 1, 2048); err != nil {
				return nil, nil, err
			}
			if r != "*" && (!strings.HasPrefix(r, "arn:") || strings.Count(r, ":") < 5) {
				return nil, nil, awserr.New(ErrInvalidInput, "Invalid resource ARN %s: give ARNs, such as arn:aws:s3:::bucket/key, or *.", r)
			}
		}
		sim.resources = in.resources
	}
	if in.resourcePolicy != "" {
		d, err := checkInputPolicy("resourcePolicy", in.resourcePolicy, policy.KindResource)
		if err != nil {
			return nil, nil, err
		}
		sim.resource = &simPolicy{id: "ResourcePolicy", typ: SourceResourcePolicy, doc: d}
		// The same document as a role's trust policy, which must itself allow sts:AssumeRole*
		// on a role: used for those actions when it is one.
		if t, err := policy.Parse(in.resourcePolicy, policy.KindTrust); err == nil {
			sim.trust = t
		}
	}
	if in.owner != "" {
		if err := checkLength("resourceOwner", in.owner, 1, 2048); err != nil {
			return nil, nil, err
		}
		acct, ok := strings.CutPrefix(in.owner, "arn:aws:iam::")
		if ok {
			acct, ok = strings.CutSuffix(acct, ":root")
		} else {
			acct, ok = in.owner, true
		}
		if !ok || !identity.ValidAccountID(acct) {
			return nil, nil, awserr.New(ErrInvalidInput, "Invalid ResourceOwner %s: give an account ID or its ARN, arn:aws:iam::123456789012:root.", in.owner)
		}
		sim.owner = acct
	}
	if in.callerARN != "" {
		if err := checkLength("callerArn", in.callerARN, 1, 2048); err != nil {
			return nil, nil, err
		}
		e, err := parseEntityARN(in.callerARN)
		if err != nil {
			return nil, nil, awserr.New(ErrInvalidInput, "Invalid CallerArn %s: give the ARN of an IAM user, group or role, not of an assumed role, federated user or service principal.", in.callerARN)
		}
		sim.principal = e.principal()
	}
	var err error
	if sim.context, err = checkContext(in.context); err != nil {
		return nil, nil, err
	}
	if in.handling != "" {
		if err := checkLength("resourceHandlingOption", in.handling, 1, 64); err != nil {
			return nil, nil, err
		}
	}
	if in.marker != "" {
		if err := checkLength("marker", in.marker, 1, 320); err != nil {
			return nil, nil, err
		}
	}
	p, err := readPage(op, in.maxItems, in.marker)
	if err != nil {
		return nil, nil, err
	}
	return sim, p, nil
}

// checkInputPolicy checks a policy document given to a simulation and parses it.
func checkInputPolicy(member, doc string, kind policy.Kind) (*policy.Document, error) {
	if err := checkLength(member, doc, 1, maxDocument); err != nil {
		return nil, err
	}
	for _, r := range doc {
		if !(r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xFF) {
			return nil, invalid(member, doc, "Member must satisfy regular expression pattern: "+documentPattern)
		}
	}
	d, err := policy.Parse(doc, kind)
	if err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			return nil, awserr.New(ErrMalformedPolicyDocument, "%s", pe.Reason)
		}
		return nil, err
	}
	return d, nil
}

// Context key types (ContextKeyTypeEnum).
var contextTypes = map[string]func(string) (string, bool){
	"string":  func(v string) (string, bool) { return v, true },
	"numeric": numericValue,
	"boolean": boolValue,
	"ip":      ipValue,
	"binary":  binaryValue,
	"date":    dateValue,
}

// checkContext checks ContextEntries and returns the request context they make: each value
// checked against its type and written as the evaluator reads it.
func checkContext(entries []ContextEntry) (map[string][]string, error) {
	c := make(map[string][]string, len(entries))
	seen := make(map[string]bool, len(entries))
	for i, e := range entries {
		m := "contextEntries." + itoa(i+1) + ".member"
		if e.ContextKeyName == "" {
			return nil, missing(m + ".contextKeyName")
		}
		if err := checkLength(m+".contextKeyName", e.ContextKeyName, 5, maxContextKey); err != nil {
			return nil, err
		}
		typ := e.ContextKeyType
		if typ == "" {
			typ = "string"
		}
		base, list := strings.CutSuffix(typ, "List")
		conv, ok := contextTypes[base]
		if !ok {
			return nil, invalid(m+".contextKeyType", e.ContextKeyType,
				"Member must satisfy enum value set: [string, stringList, numeric, numericList, boolean, booleanList, ip, ipList, binary, binaryList, date, dateList]")
		}
		key := strings.ToLower(e.ContextKeyName)
		if seen[key] {
			return nil, awserr.New(ErrInvalidInput, "Context key %s is given more than once.", e.ContextKeyName)
		}
		seen[key] = true
		if !list && len(e.ContextKeyValues) > 1 {
			return nil, awserr.New(ErrInvalidInput, "Context key %s of type %s takes one value, not %d; use type %sList for several.", e.ContextKeyName, typ, len(e.ContextKeyValues), typ)
		}
		vals := make([]string, len(e.ContextKeyValues))
		for j, v := range e.ContextKeyValues {
			s, ok := conv(v)
			if !ok {
				return nil, awserr.New(ErrInvalidInput, "Invalid value %q for context key %s of type %s.", clip(v), e.ContextKeyName, typ)
			}
			vals[j] = s
		}
		c[e.ContextKeyName] = vals
	}
	return c, nil
}

// numericValue accepts a decimal number: [+-]digits[.digits].
func numericValue(v string) (string, bool) {
	s := strings.TrimPrefix(strings.TrimPrefix(v, "-"), "+")
	ip, fp, _ := strings.Cut(s, ".")
	if ip == "" && fp == "" || !decimalDigits(ip) || !decimalDigits(fp) {
		return "", false
	}
	return v, true
}

func decimalDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func boolValue(v string) (string, bool) {
	switch strings.ToLower(v) {
	case "true":
		return "true", true
	case "false":
		return "false", true
	}
	return "", false
}

// ipValue accepts an IPv4 or IPv6 address, the value of aws:SourceIp.
func ipValue(v string) (string, bool) {
	a, err := netip.ParseAddr(v)
	if err != nil {
		return "", false
	}
	return a.String(), true
}

// binaryValue accepts base64, as BinaryEquals compares.
func binaryValue(v string) (string, bool) {
	_, err := base64.StdEncoding.DecodeString(v)
	return v, err == nil
}

// contextDateLayouts are the ISO 8601 forms the evaluator reads (W3C profile, with or without a
// zone, and the basic format).
var contextDateLayouts = []string{
	time.RFC3339, "2006-01-02T15:04Z07:00", "2006-01-02", "2006-01",
	"2006-01-02T15:04:05", "2006-01-02T15:04", "20060102T150405Z0700", "20060102T150405Z",
}

// dateValue accepts an ISO 8601 date or date-time, or seconds since the Unix epoch.
func dateValue(v string) (string, bool) {
	if v != "" && decimalDigits(strings.TrimPrefix(v, "-")) && len(v) <= 19 && v != "-" {
		return v, true
	}
	for _, l := range contextDateLayouts {
		if _, err := time.Parse(l, v); err == nil {
			return v, true
		}
	}
	return "", false
}
