package policy

import (
	"bytes"
	"encoding/base64"
	"net/netip"
	"strings"
)

// Condition is one condition of a statement: an operator, a key and the policy's values. The
// conditions of a statement are ANDed; the values of one condition are ORed (for negated
// operators: the request value must match none of them).
type Condition struct {
	Operator string   // as written, e.g. "ForAnyValue:StringLikeIfExists"
	Key      string   // the condition key as written; matched case-insensitively
	Values   []string // the policy's values, JSON numbers and booleans as their text

	op       opSpec
	set      setOp
	ifExists bool
	timeKey  timeKey
	vals     []condValue
	why      string // "condition " + Key
}

// family is an operator family.
type family uint8

const (
	famString family = iota + 1
	famNumeric
	famDate
	famBool
	famBinary
	famIP
	famARN
	famNull
)

// cmpKind is what an operator compares.
type cmpKind uint8

const (
	cmpEq   cmpKind = iota // equality (Like for the ARN family)
	cmpFold                // StringEqualsIgnoreCase
	cmpLike                // StringLike
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

// opSpec describes a base operator. neg operators (StringNotEquals, NotIpAddress, ArnNotLike, …)
// are the negation of their positive counterpart: the request value matches none of the values.
type opSpec struct {
	fam family
	cmp cmpKind
	neg bool
}

// operators are the base condition operators
// (reference_policies_elements_condition_operators.html). Names are case-sensitive, as in IAM.
var operators = map[string]opSpec{
	"StringEquals":              {famString, cmpEq, false},
	"StringNotEquals":           {famString, cmpEq, true},
	"StringEqualsIgnoreCase":    {famString, cmpFold, false},
	"StringNotEqualsIgnoreCase": {famString, cmpFold, true},
	"StringLike":                {famString, cmpLike, false},
	"StringNotLike":             {famString, cmpLike, true},
	"NumericEquals":             {famNumeric, cmpEq, false},
	"NumericNotEquals":          {famNumeric, cmpEq, true},
	"NumericLessThan":           {famNumeric, cmpLt, false},
	"NumericLessThanEquals":     {famNumeric, cmpLe, false},
	"NumericGreaterThan":        {famNumeric, cmpGt, false},
	"NumericGreaterThanEquals":  {famNumeric, cmpGe, false},
	"DateEquals":                {famDate, cmpEq, false},
	"DateNotEquals":             {famDate, cmpEq, true},
	"DateLessThan":              {famDate, cmpLt, false},
	"DateLessThanEquals":        {famDate, cmpLe, false},
	"DateGreaterThan":           {famDate, cmpGt, false},
	"DateGreaterThanEquals":     {famDate, cmpGe, false},
	"Bool":                      {famBool, cmpEq, false},
	"BinaryEquals":              {famBinary, cmpEq, false},
	"IpAddress":                 {famIP, cmpEq, false},
	"NotIpAddress":              {famIP, cmpEq, true},
	"ArnEquals":                 {famARN, cmpEq, false},
	"ArnLike":                   {famARN, cmpEq, false},
	"ArnNotEquals":              {famARN, cmpEq, true},
	"ArnNotLike":                {famARN, cmpEq, true},
	"Null":                      {famNull, cmpEq, false},
}

// setOp is a set qualifier for multivalued keys.
type setOp uint8

const (
	setNone setOp = iota
	setForAll
	setForAny
)

// timeKey marks the keys Evaluate can supply from Request.Time when the context lacks them.
type timeKey uint8

const (
	timeNone    timeKey = iota
	timeCurrent         // aws:CurrentTime
	timeEpoch           // aws:EpochTime
)

// condValue is one compiled policy value.
type condValue struct {
	raw     string
	dynamic bool // holds policy variables: resolved, then parsed, at evaluation
	str     glob // string family (all comparisons), and dynamic values of other families
	arn     arnPattern
	num     decimal
	at      instant
	b       bool
	bin     []byte
	prefix  netip.Prefix
}

// parseOperator splits an operator name into its qualifier, base and IfExists suffix.
func parseOperator(name string) (opSpec, setOp, bool, string) {
	base := name
	set := setNone
	if b, ok := strings.CutPrefix(base, "ForAllValues:"); ok {
		base, set = b, setForAll
	} else if b, ok := strings.CutPrefix(base, "ForAnyValue:"); ok {
		base, set = b, setForAny
	}
	ifExists := false
	if b, ok := strings.CutSuffix(base, "IfExists"); ok {
		base, ifExists = b, true
	}
	spec, ok := operators[base]
	if !ok {
		return opSpec{}, 0, false, "Invalid Condition type : " + name
	}
	if spec.fam == famNull && ifExists {
		return opSpec{}, 0, false, "Invalid Condition type : " + name + " (IfExists cannot be used with Null)"
	}
	if spec.fam == famNull && set != setNone {
		return opSpec{}, 0, false, "Invalid Condition type : " + name + " (Null takes no set qualifier)"
	}
	return spec, set, ifExists, ""
}

// compileCondition compiles c's values; vars says whether policy variables apply (Version
// 2012-10-17). It returns an error message for an invalid value.
func compileCondition(c *Condition, vars bool) string {
	spec, set, ifExists, msg := parseOperator(c.Operator)
	if msg != "" {
		return msg
	}
	c.op, c.set, c.ifExists = spec, set, ifExists
	c.why = "condition " + c.Key
	switch {
	case strings.EqualFold(c.Key, "aws:CurrentTime"):
		c.timeKey = timeCurrent
	case strings.EqualFold(c.Key, "aws:EpochTime"):
		c.timeKey = timeEpoch
	}
	c.vals = make([]condValue, len(c.Values))
	for i, raw := range c.Values {
		v := &c.vals[i]
		v.raw = raw
		useVars := vars && spec.fam != famNull && strings.Contains(raw, "${")
		switch spec.fam {
		case famString:
			g, msg := compileGlob(raw, useVars, spec.cmp == cmpLike, spec.cmp == cmpFold)
			if msg != "" {
				return msg
			}
			v.str = g
			continue
		case famARN:
			a, msg := compileARN(raw, useVars)
			if msg != "" {
				return msg
			}
			v.arn = a
			continue
		}
		if useVars {
			g, msg := compileGlob(raw, true, false, false)
			if msg != "" {
				return msg
			}
			if g.vars {
				v.dynamic, v.str = true, g
				continue
			}
			raw = joinLiterals(g.toks) // only escapes: ${$} and friends
		}
		if !v.parse(spec.fam, raw) {
			return "invalid value " + quote(c.Values[i]) + " for " + c.Operator + ": " + expected(spec.fam)
		}
	}
	return ""
}

// parse sets the typed value of a non-string family from s.
func (v *condValue) parse(fam family, s string) bool {
	var ok bool
	switch fam {
	case famNumeric:
		v.num, ok = parseDecimal(s)
	case famDate:
		v.at, ok = parseDate(s)
	case famBool, famNull:
		switch {
		case strings.EqualFold(s, "true"):
			v.b, ok = true, true
		case strings.EqualFold(s, "false"):
			v.b, ok = false, true
		}
	case famBinary:
		b, err := decodeBase64(s)
		v.bin, ok = b, err == nil
	case famIP:
		v.prefix, ok = parseIPPrefix(s)
	}
	return ok
}

func expected(f family) string {
	switch f {
	case famNumeric:
		return "must be a number"
	case famDate:
		return "must be an ISO 8601 date or epoch seconds"
	case famBool, famNull:
		return "must be true or false"
	case famBinary:
		return "must be base64"
	case famIP:
		return "must be an IP address or CIDR block"
	}
	return "invalid"
}

func decodeBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return base64.RawStdEncoding.DecodeString(s)
	}
	return b, nil
}

// parseIPPrefix parses a CIDR block or a single address (a /32 or /128).
func parseIPPrefix(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if p.Addr().Is4In6() {
			bits := p.Bits() - 96
			if bits < 0 {
				return netip.Prefix{}, false
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), bits)
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), true
}

func quote(s string) string { return `"` + s + `"` }

// eval reports whether the condition holds for the request: the missing-key rule, IfExists, Null
// and the set qualifiers (reference_policies_elements_condition_operators.html,
// reference_policies_condition-single-vs-multi-valued-context-keys.html).
func (c *Condition) eval(ec *evalCtx) bool {
	vals, present := ec.lookup(c.Key)
	if !present {
		vals, present = ec.timeValue(c.timeKey)
	}
	if c.op.fam == famNull {
		want := !(present && len(vals) > 0) // Null:true holds when the key is absent
		for i := range c.vals {
			if c.vals[i].b == want {
				return true
			}
		}
		return false
	}
	if !present || len(vals) == 0 {
		if !present {
			ec.missingKey(c.Key)
		}
		switch {
		case c.set == setForAll:
			return true // vacuous truth: no values, so all of them match
		case c.ifExists:
			return true
		case c.set == setForAny:
			return false
		default:
			return c.op.neg // positive operators false, negated operators true
		}
	}
	switch c.set {
	case setForAll:
		for _, v := range vals {
			if c.matchOne(v, ec) == c.op.neg {
				return false
			}
		}
		return true
	case setForAny:
		for _, v := range vals {
			if c.matchOne(v, ec) != c.op.neg {
				return true
			}
		}
		return false
	}
	// No qualifier: any request value matching any policy value makes a positive operator true;
	// a negated operator is true when no request value matches any policy value (NOR).
	for _, v := range vals {
		if c.matchOne(v, ec) {
			return !c.op.neg
		}
	}
	return c.op.neg
}

// matchOne reports whether the request value s matches any policy value under the positive form
// of the operator.
func (c *Condition) matchOne(s string, ec *evalCtx) bool {
	switch c.op.fam {
	case famString:
		for i := range c.vals {
			g := &c.vals[i].str
			if lit, ok := g.static(); ok {
				if s == lit || g.fold && strings.EqualFold(s, lit) {
					return true
				}
				continue
			}
			if g.match(s, ec) {
				return true
			}
		}
		return false
	case famARN:
		for i := range c.vals {
			if c.vals[i].arn.match(s, ec) {
				return true
			}
		}
		return false
	}
	var rv condValue
	if c.op.fam == famIP {
		// A request value is an address, not a block.
		a, err := netip.ParseAddr(s)
		if err != nil {
			return false
		}
		a = a.Unmap().WithZone("")
		rv.prefix = netip.PrefixFrom(a, a.BitLen())
	} else if !rv.parse(c.op.fam, s) {
		return false
	}
	for i := range c.vals {
		pv := &c.vals[i]
		if pv.dynamic {
			resolved, ok := pv.str.resolve(ec)
			if !ok {
				continue
			}
			var tmp condValue
			if !tmp.parse(c.op.fam, resolved) {
				continue
			}
			pv = &tmp
		}
		if compare(c.op, &rv, pv) {
			return true
		}
	}
	return false
}

// compare applies a non-string operator to a request value and a policy value.
func compare(op opSpec, rv, pv *condValue) bool {
	var c int
	switch op.fam {
	case famNumeric:
		c = rv.num.cmp(pv.num)
	case famDate:
		c = rv.at.cmp(pv.at)
	case famBool:
		return rv.b == pv.b
	case famBinary:
		return bytes.Equal(rv.bin, pv.bin)
	case famIP:
		return pv.prefix.Contains(rv.prefix.Addr())
	}
	switch op.cmp {
	case cmpEq:
		return c == 0
	case cmpLt:
		return c < 0
	case cmpLe:
		return c <= 0
	case cmpGt:
		return c > 0
	case cmpGe:
		return c >= 0
	}
	return false
}

// resolve substitutes g's variables (a pattern without wildcards) and returns the text.
func (g *glob) resolve(ec *evalCtx) (string, bool) {
	var b strings.Builder
	for i := range g.toks {
		t := &g.toks[i]
		switch t.kind {
		case tokVar:
			v, ok := ec.variable(t)
			if !ok {
				return "", false
			}
			b.WriteString(v)
		default:
			b.WriteString(t.text)
		}
	}
	return b.String(), true
}
