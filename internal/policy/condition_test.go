package policy

import (
	"fmt"
	"slices"
	"testing"
)

// condHolds reports whether condition (a JSON Condition element) holds for ctx, by evaluating an
// identity policy that allows everything under that condition.
func condHolds(t *testing.T, version, condition string, ctx map[string][]string) bool {
	t.Helper()
	v := ""
	if version != "" {
		v = `"Version":"` + version + `",`
	}
	doc := `{` + v + `"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":` + condition + `}}`
	d := mustParse(t, "cond", doc, KindIdentity)
	req := &Request{Principal: userCI, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: ctx, Time: fixedTime}
	return Evaluate(req, &Policies{Identity: []*Document{d}}).Decision == Allow
}

// operatorCase is one operator with a policy value, a request value that satisfies the positive
// form and one that does not.
type operatorCase struct {
	op, value, match, noMatch string
}

// Every operator family (reference_policies_elements_condition_operators.html).
var operatorCases = []operatorCase{
	{"StringEquals", "abc", "abc", "ABC"},
	{"StringNotEquals", "abc", "abc", "ABC"},
	{"StringEqualsIgnoreCase", "abc", "ABC", "abd"},
	{"StringNotEqualsIgnoreCase", "abc", "ABC", "abd"},
	{"StringLike", "a*c?", "abbbcd", "abd"},
	{"StringNotLike", "a*c?", "abbbcd", "abd"},
	{"NumericEquals", "10", "10.0", "11"},
	{"NumericNotEquals", "10", "010", "11"},
	{"NumericLessThan", "10", "9.5", "10"},
	{"NumericLessThanEquals", "10", "10", "10.01"},
	{"NumericGreaterThan", "-1.5", "-1.25", "-1.5"},
	{"NumericGreaterThanEquals", "10", "10", "9.99"},
	{"DateEquals", "2020-01-01T00:00:00Z", "1577836800", "2020-01-01T00:00:01Z"},
	{"DateNotEquals", "2020-01-01T00:00:00Z", "2020-01-01T01:00:00+01:00", "2020-01-02"},
	{"DateLessThan", "2020-01-01T00:00:00Z", "2019-12-31T23:59:59Z", "2020-01-01T00:00:00Z"},
	{"DateLessThanEquals", "2020-01-01", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00.5Z"},
	{"DateGreaterThan", "1577836800", "2020-01-01T00:00:01Z", "2020-01-01T00:00:00Z"},
	{"DateGreaterThanEquals", "1577836800", "1577836800", "1577836799"},
	{"Bool", "true", "true", "false"},
	{"BinaryEquals", "QmluYXJ5", "QmluYXJ5", "T3RoZXI="},
	{"IpAddress", "10.0.0.0/8", "10.1.2.3", "192.168.0.1"},
	{"NotIpAddress", "10.0.0.0/8", "10.1.2.3", "192.168.0.1"},
	{"IpAddress", "2001:db8::/32", "2001:db8::1", "2001:db9::1"},
	{"IpAddress", "203.0.113.7", "203.0.113.7", "203.0.113.8"},
	{"ArnEquals", "arn:aws:iam::111122223333:role/*", "arn:aws:iam::111122223333:role/R", "arn:aws:iam::444455556666:role/R"},
	{"ArnLike", "arn:aws:iam::*:role/R?", "arn:aws:iam::444455556666:role/R1", "arn:aws:iam::444455556666:role/R"},
	{"ArnNotEquals", "arn:aws:sts::111122223333:assumed-role/R/*", "arn:aws:sts::111122223333:assumed-role/R/s", "arn:aws:sts::111122223333:assumed-role/Q/s"},
	{"ArnNotLike", "arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y", "arn:aws:s3:::c/x"},
}

func negated(op string) bool {
	return operators[op].neg
}

// The missing-key rule and IfExists, for every operator family: present and matching, present
// and not matching, and absent. "If the key that you specify in a policy condition is not present
// in the request context, the values do not match" for positive operators; negated operators are
// true; …IfExists is true when the key is absent.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
func TestCondition_MissingKeyTruthTable(t *testing.T) {
	const key = "test:Key"
	for _, c := range operatorCases {
		for _, ifExists := range []bool{false, true} {
			op := c.op
			if ifExists {
				op += "IfExists"
			}
			cond := fmt.Sprintf(`{%q:{%q:%q}}`, op, key, c.value)
			neg := negated(c.op)
			tests := []struct {
				name string
				ctx  map[string][]string
				want bool
			}{
				{"match", map[string][]string{key: {c.match}}, !neg},
				{"noMatch", map[string][]string{key: {c.noMatch}}, neg},
				{"absent", nil, neg || ifExists},
				{"otherKey", map[string][]string{"test:Other": {c.match}}, neg || ifExists},
			}
			for _, tt := range tests {
				t.Run(op+"/"+c.value+"/"+tt.name, func(t *testing.T) {
					if got := condHolds(t, "2012-10-17", cond, tt.ctx); got != tt.want {
						t.Errorf("%s with %v: got %v, want %v", cond, tt.ctx, got, tt.want)
					}
				})
			}
		}
	}
}

// Negated operators with several policy values are a NOR: the request value must match none.
// Positive operators OR their values. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_logic_multiple_context_keys_or_values.html
func TestCondition_MultipleValues(t *testing.T) {
	tests := []struct {
		cond, value string
		want        bool
	}{
		{`{"StringEquals":{"k":["a","b"]}}`, "a", true},
		{`{"StringEquals":{"k":["a","b"]}}`, "b", true},
		{`{"StringEquals":{"k":["a","b"]}}`, "c", false},
		{`{"StringNotEquals":{"k":["a","b"]}}`, "a", false},
		{`{"StringNotEquals":{"k":["a","b"]}}`, "b", false},
		{`{"StringNotEquals":{"k":["a","b"]}}`, "c", true},
		{`{"NotIpAddress":{"k":["10.0.0.0/8","192.168.0.0/16"]}}`, "192.168.1.1", false},
		{`{"NotIpAddress":{"k":["10.0.0.0/8","192.168.0.0/16"]}}`, "172.16.0.1", true},
		{`{"NumericEquals":{"k":[1,2.5]}}`, "2.50", true},
		{`{"Bool":{"k":true}}`, "TRUE", true},
	}
	for _, tt := range tests {
		if got := condHolds(t, "2012-10-17", tt.cond, map[string][]string{"k": {tt.value}}); got != tt.want {
			t.Errorf("%s with k=%q: got %v, want %v", tt.cond, tt.value, got, tt.want)
		}
	}
}

// Different operators, and different keys under one operator, are ANDed.
func TestCondition_AndAcrossKeysAndOperators(t *testing.T) {
	cond := `{"StringEquals":{"a":"1","b":"2"},"Bool":{"c":"true"}}`
	tests := []struct {
		ctx  map[string][]string
		want bool
	}{
		{map[string][]string{"a": {"1"}, "b": {"2"}, "c": {"true"}}, true},
		{map[string][]string{"a": {"1"}, "b": {"3"}, "c": {"true"}}, false},
		{map[string][]string{"a": {"1"}, "b": {"2"}, "c": {"false"}}, false},
		{map[string][]string{"a": {"1"}, "b": {"2"}}, false},
	}
	for _, tt := range tests {
		if got := condHolds(t, "2012-10-17", cond, tt.ctx); got != tt.want {
			t.Errorf("%v: got %v, want %v", tt.ctx, got, tt.want)
		}
	}
}

// Condition key names are case-insensitive; values follow each operator's rules.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
func TestCondition_KeyNamesCaseInsensitive(t *testing.T) {
	for _, key := range []string{"aws:SourceIp", "AWS:SOURCEIP", "aws:sourceip"} {
		ctx := map[string][]string{key: {"10.0.0.1"}}
		if !condHolds(t, "2012-10-17", `{"IpAddress":{"aws:SourceIP":"10.0.0.0/8"}}`, ctx) {
			t.Errorf("context key %q: got false, want true", key)
		}
	}
	if condHolds(t, "2012-10-17", `{"StringEquals":{"aws:username":"john"}}`, map[string][]string{"aws:username": {"John"}}) {
		t.Error("StringEquals john vs John: got true, want false (values are case-sensitive)")
	}
}

// ForAllValues / ForAnyValue × {absent, empty, one, many}: ForAllValues is vacuously true for an
// absent or empty key; ForAnyValue is false. A negated operator inside a qualifier negates per
// request value.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
func TestCondition_SetQualifiers(t *testing.T) {
	absent := map[string][]string(nil)
	ctx := func(v ...string) map[string][]string {
		if v == nil {
			v = []string{}
		}
		return map[string][]string{"aws:TagKeys": v}
	}
	tests := []struct {
		op   string
		ctx  map[string][]string
		want bool
	}{
		{"ForAllValues:StringEquals", absent, true},
		{"ForAllValues:StringEquals", ctx(), true},
		{"ForAllValues:StringEquals", ctx("a"), true},
		{"ForAllValues:StringEquals", ctx("c"), false},
		{"ForAllValues:StringEquals", ctx("a", "b"), true},
		{"ForAllValues:StringEquals", ctx("a", "c"), false},

		{"ForAnyValue:StringEquals", absent, false},
		{"ForAnyValue:StringEquals", ctx(), false},
		{"ForAnyValue:StringEquals", ctx("a"), true},
		{"ForAnyValue:StringEquals", ctx("c"), false},
		{"ForAnyValue:StringEquals", ctx("c", "b"), true},
		{"ForAnyValue:StringEquals", ctx("c", "d"), false},

		{"ForAllValues:StringNotEquals", absent, true},
		{"ForAllValues:StringNotEquals", ctx(), true},
		{"ForAllValues:StringNotEquals", ctx("c"), true},
		{"ForAllValues:StringNotEquals", ctx("a"), false},
		{"ForAllValues:StringNotEquals", ctx("c", "d"), true},
		{"ForAllValues:StringNotEquals", ctx("c", "a"), false},

		{"ForAnyValue:StringNotEquals", absent, false},
		{"ForAnyValue:StringNotEquals", ctx(), false},
		{"ForAnyValue:StringNotEquals", ctx("c"), true},
		{"ForAnyValue:StringNotEquals", ctx("a"), false},
		{"ForAnyValue:StringNotEquals", ctx("a", "c"), true},
		{"ForAnyValue:StringNotEquals", ctx("a", "b"), false},

		{"ForAnyValue:StringEqualsIfExists", absent, true},
		{"ForAllValues:StringLike", ctx("abc", "bcd"), true},
		{"ForAllValues:StringLike", ctx("abc", "xyz"), false},
	}
	for _, tt := range tests {
		values := `["a","b"]`
		if tt.op == "ForAllValues:StringLike" {
			values = `["a*","b*"]`
		}
		cond := fmt.Sprintf(`{%q:{"aws:TagKeys":%s}}`, tt.op, values)
		if got := condHolds(t, "2012-10-17", cond, tt.ctx); got != tt.want {
			t.Errorf("%s with %v: got %v, want %v", cond, tt.ctx, got, tt.want)
		}
	}
}

// Without a qualifier, a key with several request values satisfies a positive operator when any
// value matches, and a negated operator when none does (our choice; AWS asks for a qualifier).
func TestCondition_MultivaluedWithoutQualifier(t *testing.T) {
	ctx := map[string][]string{"k": {"b", "a"}}
	if !condHolds(t, "2012-10-17", `{"StringEquals":{"k":"a"}}`, ctx) {
		t.Error("StringEquals a with [b a]: got false, want true")
	}
	if condHolds(t, "2012-10-17", `{"StringNotEquals":{"k":"a"}}`, ctx) {
		t.Error("StringNotEquals a with [b a]: got true, want false")
	}
}

// Null: "true" holds when the key is absent (or has no value), "false" when it is present.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Null
func TestCondition_Null(t *testing.T) {
	tests := []struct {
		value string
		ctx   map[string][]string
		want  bool
	}{
		{"true", nil, true},
		{"false", nil, false},
		{"true", map[string][]string{"aws:TokenIssueTime": {"2024-01-01T00:00:00Z"}}, false},
		{"false", map[string][]string{"aws:TokenIssueTime": {"2024-01-01T00:00:00Z"}}, true},
		{"true", map[string][]string{"aws:TokenIssueTime": {}}, true},
		{"TRUE", nil, true},
	}
	for _, tt := range tests {
		cond := fmt.Sprintf(`{"Null":{"aws:TokenIssueTime":%q}}`, tt.value)
		if got := condHolds(t, "2012-10-17", cond, tt.ctx); got != tt.want {
			t.Errorf("%s with %v: got %v, want %v", cond, tt.ctx, got, tt.want)
		}
	}
	// JSON booleans are normalised to their text.
	if !condHolds(t, "2012-10-17", `{"Null":{"aws:TokenIssueTime":true}}`, nil) {
		t.Error(`Null true (JSON boolean) with the key absent: got false, want true`)
	}
}

// aws:CurrentTime and aws:EpochTime come from Request.Time when the context lacks them.
func TestCondition_CurrentTimeFromRequest(t *testing.T) {
	tests := []struct {
		cond string
		ctx  map[string][]string
		want bool
	}{
		{`{"DateGreaterThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, nil, true},
		{`{"DateLessThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, nil, false},
		{`{"DateLessThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, map[string][]string{"aws:CurrentTime": {"2023-12-31T00:00:00Z"}}, true},
		{`{"NumericGreaterThan":{"aws:EpochTime":1700000000}}`, nil, true},
		{`{"DateLessThan":{"aws:EpochTime":"2025-01-01T00:00:00Z"}}`, nil, true},
		{`{"Null":{"aws:CurrentTime":"false"}}`, nil, true},
	}
	for _, tt := range tests {
		if got := condHolds(t, "2012-10-17", tt.cond, tt.ctx); got != tt.want {
			t.Errorf("%s with %v: got %v, want %v", tt.cond, tt.ctx, got, tt.want)
		}
	}
}

// Policy variables in condition values: present, absent (positive false, negated true), default,
// escapes, and multivalued keys, which cannot be variables.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
func TestCondition_Variables(t *testing.T) {
	tag := map[string][]string{"aws:PrincipalTag/team": {"blue"}, "aws:ResourceTag/team": {"blue"}}
	noTag := map[string][]string{"aws:ResourceTag/team": {"blue"}}
	tests := []struct {
		name    string
		version string
		cond    string
		ctx     map[string][]string
		want    bool
	}{
		{"present", "2012-10-17", `{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}`, tag, true},
		{"presentOtherValue", "2012-10-17", `{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}`, map[string][]string{"aws:PrincipalTag/team": {"red"}, "aws:ResourceTag/team": {"blue"}}, false},
		{"absentPositive", "2012-10-17", `{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}`, noTag, false},
		{"absentNegated", "2012-10-17", `{"StringNotEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}`, noTag, true},
		{"absentLike", "2012-10-17", `{"StringLike":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}*"}}`, noTag, false},
		{"default", "2012-10-17", `{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team, 'blue'}"}}`, noTag, true},
		{"defaultUnused", "2012-10-17", `{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team,'red'}"}}`, tag, true},
		{"multivalued", "2012-10-17", `{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}`, map[string][]string{"aws:PrincipalTag/team": {"blue", "red"}, "aws:ResourceTag/team": {"blue"}}, false},
		{"keyCaseInsensitive", "2012-10-17", `{"StringEquals":{"aws:ResourceTag/team":"${AWS:PRINCIPALTAG/TEAM}"}}`, tag, true},
		{"escapeStar", "2012-10-17", `{"StringEquals":{"k":"a${*}b"}}`, map[string][]string{"k": {"a*b"}}, true},
		{"escapeStarLikeLiteral", "2012-10-17", `{"StringLike":{"k":"a${*}b"}}`, map[string][]string{"k": {"axb"}}, false},
		{"escapeStarLike", "2012-10-17", `{"StringLike":{"k":"a${*}b*"}}`, map[string][]string{"k": {"a*bcd"}}, true},
		{"escapeQuestion", "2012-10-17", `{"StringLike":{"k":"a${?}"}}`, map[string][]string{"k": {"a?"}}, true},
		{"escapeQuestionLiteral", "2012-10-17", `{"StringLike":{"k":"a${?}"}}`, map[string][]string{"k": {"ab"}}, false},
		{"escapeDollar", "2012-10-17", `{"StringEquals":{"k":"${$}{x}"}}`, map[string][]string{"k": {"${x}"}}, true},
		{"version2008Literal", "2008-10-17", `{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}`, tag, false},
		{"version2008LiteralMatch", "2008-10-17", `{"StringEquals":{"k":"${aws:PrincipalTag/team}"}}`, map[string][]string{"k": {"${aws:PrincipalTag/team}"}}, true},
		{"noVersionLiteral", "", `{"StringEquals":{"k":"${aws:PrincipalTag/team}"}}`, map[string][]string{"k": {"${aws:PrincipalTag/team}"}, "aws:PrincipalTag/team": {"blue"}}, true},
		{"numericVariable", "2012-10-17", `{"NumericLessThan":{"k":"${limit}"}}`, map[string][]string{"k": {"5"}, "limit": {"10"}}, true},
		{"numericVariableAbsent", "2012-10-17", `{"NumericLessThan":{"k":"${limit}"}}`, map[string][]string{"k": {"5"}}, false},
		{"arnVariable", "2012-10-17", `{"ArnEquals":{"aws:SourceArn":"${aws:PrincipalArn}"}}`, map[string][]string{"aws:SourceArn": {"arn:aws:iam::111122223333:role/R"}, "aws:PrincipalArn": {"arn:aws:iam::111122223333:role/R"}}, true},
		{"arnVariableAccount", "2012-10-17", `{"ArnLike":{"aws:SourceArn":"arn:aws:iam::${aws:PrincipalAccount}:role/*"}}`, map[string][]string{"aws:SourceArn": {"arn:aws:iam::111122223333:role/R"}, "aws:PrincipalAccount": {acctA}}, true},
		{"ignoreCaseVariable", "2012-10-17", `{"StringEqualsIgnoreCase":{"k":"x-${v}"}}`, map[string][]string{"k": {"X-ABC"}, "v": {"abc"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := condHolds(t, tt.version, tt.cond, tt.ctx); got != tt.want {
				t.Errorf("Version %q %s with %v: got %v, want %v", tt.version, tt.cond, tt.ctx, got, tt.want)
			}
		})
	}
}

// MissingContextKeys lists the condition keys (and variables) the request lacked, once each,
// in the order the statements refer to them; conditions of statements whose action, resource or
// principal did not match are not looked at.
func TestEvaluate_MissingContextKeys(t *testing.T) {
	d := mustParse(t, "p", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/*",
		 "Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1","aws:SourceVpc":"vpc-1"},"StringLike":{"aws:SecureTransport":"${aws:username}*"}}},
		{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::c/*","Condition":{"StringEquals":{"s3:prefix":"x"}}},
		{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:principalorgid":"o-1"},"Null":{"aws:MultiFactorAuthAge":"true"}}}
	]}`, KindIdentity)
	req := &Request{Principal: sessionDeployer, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/x",
		Context: map[string][]string{"aws:SecureTransport": {"true"}}}
	res := Evaluate(req, &Policies{Identity: []*Document{d}})
	want := []string{"aws:PrincipalOrgID", "aws:SourceVpc", "aws:username"}
	if !slices.Equal(res.MissingContextKeys, want) {
		t.Errorf("MissingContextKeys: got %q, want %q", res.MissingContextKeys, want)
	}
}

// Malformed-looking variables: an unterminated ${ is literal text (wildcards after it still
// work); spaces are allowed inside keys (tag keys may contain them).
func TestCondition_VariableEdges(t *testing.T) {
	tests := []struct {
		cond string
		ctx  map[string][]string
		want bool
	}{
		{`{"StringLike":{"k":"a${b*"}}`, map[string][]string{"k": {"a${bcd"}}, true},
		{`{"StringEquals":{"k":"${aws:PrincipalTag/cost center}"}}`, map[string][]string{"k": {"42"}, "aws:PrincipalTag/cost center": {"42"}}, true},
		{`{"StringEquals":{"k":"${ aws:username }"}}`, map[string][]string{"k": {"ci"}, "aws:username": {"ci"}}, true},
	}
	for _, tt := range tests {
		if got := condHolds(t, "2012-10-17", tt.cond, tt.ctx); got != tt.want {
			t.Errorf("%s with %v: got %v, want %v", tt.cond, tt.ctx, got, tt.want)
		}
	}
}

// IpAddress compares request addresses (IPv4, IPv6, IPv4-mapped IPv6) against blocks; a request
// value that is not an address matches nothing.
func TestCondition_IPAddressForms(t *testing.T) {
	tests := []struct {
		policy, source string
		want           bool
	}{
		{"10.0.0.0/8", "::ffff:10.1.2.3", true},
		{"::ffff:10.0.0.0/104", "10.1.2.3", true},
		{"10.1.2.3/8", "10.200.0.1", true}, // host bits in the policy are ignored
		{"10.0.0.0/8", "10.0.0.0/8", false},
		{"10.0.0.0/8", "not-an-ip", false},
		{"2001:db8::/32", "2001:DB8:0:0::7", true},
		{"0.0.0.0/0", "2001:db8::1", false},
	}
	for _, tt := range tests {
		cond := fmt.Sprintf(`{"IpAddress":{"aws:SourceIp":%q}}`, tt.policy)
		if got := condHolds(t, "2012-10-17", cond, map[string][]string{"aws:SourceIp": {tt.source}}); got != tt.want {
			t.Errorf("IpAddress %s with %s: got %v, want %v", tt.policy, tt.source, got, tt.want)
		}
	}
}

// Numeric values compare as exact decimals; dates accept the W3C ISO 8601 forms and epoch
// seconds on either side.
func TestCondition_NumericAndDateForms(t *testing.T) {
	tests := []struct {
		cond, value string
		want        bool
	}{
		{`{"NumericEquals":{"k":"9007199254740993"}}`, "9007199254740993", true},
		{`{"NumericEquals":{"k":"9007199254740993"}}`, "9007199254740992", false},
		{`{"NumericLessThan":{"k":"0.1"}}`, "0.09999999999999999999", true},
		{`{"NumericEquals":{"k":"-0"}}`, "0.000", true},
		{`{"NumericGreaterThan":{"k":"-2"}}`, "-1.5", true},
		{`{"NumericEquals":{"k":"1"}}`, "one", false},
		{`{"NumericNotEquals":{"k":"1"}}`, "one", true},
		{`{"DateEquals":{"k":"2024-06"}}`, "2024-06-01T00:00:00Z", true},
		{`{"DateEquals":{"k":"2024-06-01T12:00Z"}}`, "1717243200", true},
		{`{"DateLessThan":{"k":"1700000000"}}`, "2020-01-01T00:00:00Z", true},
		{`{"DateGreaterThan":{"k":"2020-01-01T00:00:00Z"}}`, "20240601T120000Z", true},
		{`{"DateLessThan":{"k":"2020-01-01T00:00:00.500Z"}}`, "2020-01-01T00:00:00.499Z", true},
		{`{"DateEquals":{"k":"2020-01-01T00:00:00Z"}}`, "yesterday", false},
	}
	for _, tt := range tests {
		if got := condHolds(t, "2012-10-17", tt.cond, map[string][]string{"k": {tt.value}}); got != tt.want {
			t.Errorf("%s with %q: got %v, want %v", tt.cond, tt.value, got, tt.want)
		}
	}
}
