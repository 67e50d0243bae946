package policy

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/allot-dev/allot/internal/identity"
)

// Property tests over generated policies and requests (fixed seeds, so failures reproduce).

const propertyRuns = 3000

var (
	genPrincipals = []*identity.Principal{userCI, sessionDeployer, rootA, userB, sessionB}
	genActions    = []string{"s3:GetObject", "s3:PutObject", "license-manager:CheckoutLicense", "license-manager:GetLicense", "sts:AssumeRole", "iam:GetUser"}
	genResources  = []string{"arn:aws:s3:::bucket/key", "arn:aws:s3:::other/x", "*", "arn:aws:license-manager::111122223333:license:l-1", roleR, "arn:aws:iam::111122223333:user/ci"}
	genAccounts   = []string{"", acctA, acctB}

	patActions   = []any{"*", "s3:*", "s3:Get*", "s3:GetObject", "S3:getobject", "license-manager:*", "license-manager:CheckoutLicense", "license-manager:Get?icense", "sts:AssumeRole", "iam:*", "*:Get*"}
	patResources = []any{"*", "arn:aws:s3:::bucket/*", "arn:aws:s3:::*", "arn:aws:s3:::other/?", "arn:aws:license-manager::*:license:*", "arn:aws:iam::*:role/*", "arn:aws:iam::111122223333:user/${aws:username}", "arn:aws:s3:::${aws:PrincipalTag/team, 'bucket'}/*"}
	patPrincipal = []any{"*", acctA, acctB, "arn:aws:iam::111122223333:root", userCI.ARN, sessionDeployer.ARN, sessionDeployer.RoleARN, userB.ARN, sessionB.RoleARN, sessionB.ARN}
	conditions   = []map[string]any{
		{"IpAddress": map[string]any{"aws:SourceIp": []any{"10.0.0.0/8"}}},
		{"NotIpAddress": map[string]any{"aws:SourceIp": []any{"10.0.0.0/8", "172.16.0.0/12"}}},
		{"StringEquals": map[string]any{"aws:PrincipalTag/team": []any{"blue", "green"}}},
		{"StringNotEqualsIfExists": map[string]any{"aws:PrincipalTag/team": "red"}},
		{"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": []any{"a", "b"}}},
		{"ForAnyValue:StringLike": map[string]any{"aws:TagKeys": []any{"b*"}}},
		{"Bool": map[string]any{"aws:SecureTransport": "false"}},
		{"BoolIfExists": map[string]any{"aws:SecureTransport": "true"}},
		{"Null": map[string]any{"aws:username": "false"}},
		{"StringLike": map[string]any{"aws:username": "c*"}},
		{"DateLessThan": map[string]any{"aws:CurrentTime": "2025-01-01T00:00:00Z"}},
		{"NumericGreaterThan": map[string]any{"aws:EpochTime": []any{"1800000000", "1"}}},
		{"ArnLike": map[string]any{"aws:PrincipalArn": []any{"arn:aws:iam::*:role/*"}}},
		{"StringEquals": map[string]any{"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
	}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func pickSome(r *rand.Rand, xs []any, max int) []any {
	n := 1 + r.IntN(max)
	out := make([]any, n)
	for i := range out {
		out[i] = pick(r, xs)
	}
	return out
}

// genStatement returns a random statement for a document of kind.
func genStatement(r *rand.Rand, kind Kind, effect string) map[string]any {
	s := map[string]any{"Effect": effect}
	if effect == "" {
		s["Effect"] = pick(r, []string{"Allow", "Allow", "Deny"})
	}
	if r.IntN(5) == 0 {
		s["NotAction"] = pickSome(r, patActions, 2)
	} else {
		s["Action"] = pickSome(r, patActions, 3)
	}
	switch {
	case (kind == KindResource || kind == KindTrust) && r.IntN(3) == 0:
		// No Resource: the attached resource.
	case r.IntN(6) == 0:
		s["NotResource"] = pickSome(r, patResources, 2)
	default:
		s["Resource"] = pickSome(r, patResources, 2)
	}
	if kind == KindResource || kind == KindTrust {
		p := map[string]any{"AWS": pickSome(r, patPrincipal, 3)}
		if kind == KindResource && s["Effect"] == "Deny" && r.IntN(4) == 0 {
			s["NotPrincipal"] = p
		} else {
			s["Principal"] = p
		}
	}
	if r.IntN(2) == 0 {
		cond := map[string]any{}
		for range 1 + r.IntN(2) {
			for op, v := range pick(r, conditions) {
				cond[op] = v
			}
		}
		s["Condition"] = cond
	}
	if kind == KindTrust {
		// Trust policies take STS actions only.
		delete(s, "NotAction")
		s["Action"] = []any{pick(r, []any{"sts:AssumeRole", "sts:*", "*"})}
	}
	return s
}

// genDoc is a generated document: its kind and statements.
type genDoc struct {
	kind  Kind
	stmts []any
}

func newGenDoc(r *rand.Rand, kind Kind) genDoc {
	d := genDoc{kind: kind}
	for range 1 + r.IntN(4) {
		d.stmts = append(d.stmts, genStatement(r, kind, ""))
	}
	return d
}

func (d genDoc) json() string {
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": d.stmts})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// genSet is a generated set of policies.
type genSet struct {
	identity []genDoc
	boundary *genDoc
	session  []genDoc
	resource *genDoc
	scps     [][]genDoc // nil: SCPs do not apply
}

func newGenSet(r *rand.Rand) genSet {
	var g genSet
	for range r.IntN(3) {
		g.identity = append(g.identity, newGenDoc(r, KindIdentity))
	}
	if r.IntN(3) == 0 {
		d := newGenDoc(r, KindIdentity)
		g.boundary = &d
	}
	if r.IntN(3) == 0 {
		g.session = []genDoc{newGenDoc(r, KindSession)}
	}
	if r.IntN(2) == 0 {
		kind := KindResource
		if r.IntN(3) == 0 {
			kind = KindTrust
		}
		d := newGenDoc(r, kind)
		g.resource = &d
	}
	if r.IntN(2) == 0 {
		g.scps = [][]genDoc{}
		for range 1 + r.IntN(3) {
			var level []genDoc
			for range r.IntN(3) {
				level = append(level, newGenDoc(r, KindSCP))
			}
			g.scps = append(g.scps, level)
		}
	}
	return g
}

func (g genSet) policies(t *testing.T) *Policies {
	t.Helper()
	p := &Policies{}
	for i, d := range g.identity {
		p.Identity = append(p.Identity, mustParse(t, fmt.Sprint("id", i), d.json(), KindIdentity))
	}
	if g.boundary != nil {
		p.Boundary = mustParse(t, "pb", g.boundary.json(), KindIdentity)
	}
	for i, d := range g.session {
		p.Session = append(p.Session, mustParse(t, fmt.Sprint("sess", i), d.json(), KindSession))
	}
	if g.resource != nil {
		p.Resource = mustParse(t, "res", g.resource.json(), g.resource.kind)
	}
	if g.scps != nil {
		p.SCPs = [][]*Document{}
		for i, level := range g.scps {
			docs := []*Document{}
			for j, d := range level {
				docs = append(docs, mustParse(t, fmt.Sprint("scp", i, j), d.json(), KindSCP))
			}
			p.SCPs = append(p.SCPs, docs)
		}
	}
	return p
}

// clone deep-copies g; with r, it also shuffles every array (statements, documents within a
// type or SCP level, and every list inside a statement).
func (g genSet) clone(r *rand.Rand) genSet {
	cd := func(d genDoc) genDoc { return genDoc{kind: d.kind, stmts: copyValue(d.stmts, r).([]any)} }
	cds := func(ds []genDoc) []genDoc {
		if ds == nil {
			return nil
		}
		out := make([]genDoc, len(ds))
		for i, d := range ds {
			out[i] = cd(d)
		}
		if r != nil {
			r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		}
		return out
	}
	out := genSet{identity: cds(g.identity), session: cds(g.session)}
	if g.boundary != nil {
		d := cd(*g.boundary)
		out.boundary = &d
	}
	if g.resource != nil {
		d := cd(*g.resource)
		out.resource = &d
	}
	if g.scps != nil {
		out.scps = make([][]genDoc, len(g.scps))
		for i, level := range g.scps {
			out.scps[i] = cds(level)
			if out.scps[i] == nil {
				out.scps[i] = []genDoc{}
			}
		}
	}
	return out
}

func copyValue(v any, r *rand.Rand) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i := range v {
			out[i] = copyValue(v[i], r)
		}
		if r != nil {
			r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = copyValue(x, r)
		}
		return out
	}
	return v
}

func genRequest(r *rand.Rand) *Request {
	ctx := map[string][]string{}
	if r.IntN(2) == 0 {
		ctx["aws:SourceIp"] = []string{pick(r, []string{"10.1.2.3", "192.168.0.1", "172.16.5.4"})}
	}
	if r.IntN(2) == 0 {
		ctx["aws:PrincipalTag/team"] = []string{pick(r, []string{"blue", "red", "bucket"})}
	}
	if r.IntN(2) == 0 {
		ctx["aws:TagKeys"] = pick(r, [][]string{{}, {"a"}, {"a", "b"}, {"c", "b"}})
	}
	if r.IntN(2) == 0 {
		ctx["aws:SecureTransport"] = []string{pick(r, []string{"true", "false"})}
	}
	if r.IntN(2) == 0 {
		ctx["aws:username"] = []string{pick(r, []string{"ci", "ops"})}
	}
	if r.IntN(3) == 0 {
		ctx["aws:ResourceTag/team"] = []string{pick(r, []string{"blue", "red"})}
	}
	return &Request{
		Principal:       pick(r, genPrincipals),
		Action:          pick(r, genActions),
		Resource:        pick(r, genResources),
		ResourceAccount: pick(r, genAccounts),
		Context:         ctx,
		Time:            fixedTime,
	}
}

// Adding a Deny statement to any policy never turns a denial into an Allow.
func TestProperty_AddingDenyNeverAllows(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range propertyRuns {
		g, req := newGenSet(r), genRequest(r)
		before := Evaluate(req, g.policies(t))
		if before.Decision == Allow {
			continue
		}
		h := g.clone(nil)
		docs := h.allDocs()
		if len(docs) == 0 {
			continue
		}
		d := pick(r, docs)
		d.stmts = append(d.stmts, genStatement(r, d.kind, "Deny"))
		after := Evaluate(req, h.policies(t))
		if after.Decision == Allow {
			t.Fatalf("run %d: adding a Deny turned %v into Allow\nrequest %+v\nadded to %v: %s", i, before.Decision, req, d.kind, d.json())
		}
	}
}

// allDocs returns pointers to every document of g.
func (g *genSet) allDocs() []*genDoc {
	var out []*genDoc
	for i := range g.identity {
		out = append(out, &g.identity[i])
	}
	if g.boundary != nil {
		out = append(out, g.boundary)
	}
	for i := range g.session {
		out = append(out, &g.session[i])
	}
	if g.resource != nil {
		out = append(out, g.resource)
	}
	for i := range g.scps {
		for j := range g.scps[i] {
			out = append(out, &g.scps[i][j])
		}
	}
	return out
}

// Permuting statements, documents and the elements of every array never changes the decision.
func TestProperty_PermutationInvariant(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range propertyRuns {
		g, req := newGenSet(r), genRequest(r)
		before := Evaluate(req, g.policies(t))
		after := Evaluate(req, g.clone(r).policies(t))
		if after.Decision != before.Decision || after.DecidedBy != before.DecidedBy {
			t.Fatalf("run %d: permuting changed %v by %q into %v by %q\nrequest %+v", i, before.Decision, before.DecidedBy, after.Decision, after.DecidedBy, req)
		}
	}
}

// Adding an Allow statement to an existing SCP, boundary or session policy never turns an Allow
// into a denial.
func TestProperty_AddingAllowToLimitsNeverDenies(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	checked := 0
	for i := range propertyRuns * 3 {
		g, req := newGenSet(r), genRequest(r)
		before := Evaluate(req, g.policies(t))
		if before.Decision != Allow {
			continue
		}
		h := g.clone(nil)
		var limits []*genDoc
		if h.boundary != nil {
			limits = append(limits, h.boundary)
		}
		for j := range h.session {
			limits = append(limits, &h.session[j])
		}
		for j := range h.scps {
			for k := range h.scps[j] {
				limits = append(limits, &h.scps[j][k])
			}
		}
		if len(limits) == 0 {
			continue
		}
		d := pick(r, limits)
		d.stmts = append(d.stmts, genStatement(r, d.kind, "Allow"))
		after := Evaluate(req, h.policies(t))
		checked++
		if after.Decision != Allow {
			t.Fatalf("run %d: adding an Allow to a %v turned Allow into %v by %q\nrequest %+v", i, d.kind, after.Decision, after.DecidedBy, req)
		}
	}
	if checked < 50 {
		t.Errorf("only %d cases checked", checked)
	}
}

// Across accounts an Allow needs both sides: without the resource policy, or without the
// identity policies (for IAM principals), the same request is denied.
func TestProperty_CrossAccountNeedsBothSides(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := range propertyRuns * 3 {
		g, req := newGenSet(r), genRequest(r)
		if req.ResourceAccount == "" || req.ResourceAccount == req.Principal.AccountID || req.Action == "sts:GetCallerIdentity" {
			continue
		}
		if Evaluate(req, g.policies(t)).Decision != Allow {
			continue
		}
		noRes := g.clone(nil)
		noRes.resource = nil
		if got := Evaluate(req, noRes.policies(t)); got.Decision == Allow {
			t.Fatalf("run %d: cross-account Allow without a resource policy\nrequest %+v", i, req)
		}
		if req.Principal.Kind != identity.KindRoot {
			noID := g.clone(nil)
			noID.identity = nil
			if got := Evaluate(req, noID.policies(t)); got.Decision == Allow {
				t.Fatalf("run %d: cross-account Allow without identity policies\nrequest %+v", i, req)
			}
		}
	}
}

// condEval evaluates one condition directly.
func condEval(t *testing.T, op, key string, values []string, ctx map[string][]string) bool {
	t.Helper()
	c := Condition{Operator: op, Key: key, Values: values}
	if msg := compileCondition(&c, true); msg != "" {
		t.Fatalf("compileCondition(%s %q): %s", op, values, msg)
	}
	return c.eval(&evalCtx{req: &Request{Context: ctx, Time: fixedTime}})
}

// valuePools are random values per operator family.
var valuePools = map[family][]string{
	famString:  {"a", "A", "ab", "b*", "a?", "", "x-1", "X-1"},
	famNumeric: {"0", "-1", "1", "1.0", "2.5", "10", "-0.5", "007"},
	famDate:    {"2020-01-01T00:00:00Z", "1577836800", "2024-06-01", "2024-06-01T12:00:00+02:00", "0"},
	famIP:      {"10.0.0.0/8", "10.1.2.3", "192.168.0.0/16", "192.168.3.4", "2001:db8::/32", "2001:db8::5"},
	famARN:     {"arn:aws:iam::111122223333:role/R", "arn:aws:iam::*:role/*", "arn:aws:s3:::b/?", "arn:aws:s3:::b/k", "*"},
	famBool:    {"true", "false"},
}

// StringNotEquals ≡ ¬StringEquals (and likewise for every negated operator) when the key is
// present and single-valued.
func TestProperty_NegatedOperatorIsNegation(t *testing.T) {
	pairs := [][2]string{
		{"StringEquals", "StringNotEquals"}, {"StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"},
		{"StringLike", "StringNotLike"}, {"NumericEquals", "NumericNotEquals"}, {"DateEquals", "DateNotEquals"},
		{"IpAddress", "NotIpAddress"}, {"ArnLike", "ArnNotLike"}, {"ArnEquals", "ArnNotEquals"},
	}
	r := rand.New(rand.NewPCG(9, 10))
	for range propertyRuns {
		pair := pick(r, pairs)
		pool := valuePools[operators[pair[0]].fam]
		values := make([]string, 1+r.IntN(3))
		for i := range values {
			values[i] = pick(r, pool)
		}
		if operators[pair[0]].fam == famIP || operators[pair[0]].fam == famARN {
			// Request values are addresses / ARNs without wildcards.
			for i := range values {
				values[i] = pick(r, pool)
			}
		}
		ctx := map[string][]string{"k": {pick(r, pool)}}
		pos := condEval(t, pair[0], "k", values, ctx)
		neg := condEval(t, pair[1], "k", values, ctx)
		if pos == neg {
			t.Fatalf("%s and %s of %q with %q: both %v", pair[0], pair[1], values, ctx["k"], pos)
		}
	}
}

// …IfExists with the key present is the base operator.
func TestProperty_IfExistsWithKeyPresent(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	names := make([]string, 0, len(operators))
	for name, spec := range operators {
		if spec.fam != famNull && spec.fam != famBinary {
			names = append(names, name)
		}
	}
	for range propertyRuns {
		op := names[r.IntN(len(names))]
		pool := valuePools[operators[op].fam]
		values := []string{pick(r, pool)}
		if operators[op].fam == famARN || operators[op].fam == famString {
			values = append(values, pick(r, pool))
		}
		var ctx map[string][]string
		switch r.IntN(3) {
		case 0:
			ctx = map[string][]string{"k": {pick(r, pool)}}
		case 1:
			ctx = map[string][]string{"K": {pick(r, pool), pick(r, pool)}}
		default:
			ctx = map[string][]string{"k": {pick(r, pool)}, "other": {"x"}}
		}
		for _, qualifier := range []string{"", "ForAllValues:", "ForAnyValue:"} {
			base := condEval(t, qualifier+op, "k", values, ctx)
			ifx := condEval(t, qualifier+op+"IfExists", "k", values, ctx)
			if base != ifx {
				t.Fatalf("%s%s(%q) with %v: got %v, IfExists form %v", qualifier, op, values, ctx, base, ifx)
			}
		}
	}
}

// A policy variable without a value never lets a Resource entry or a positive condition match.
func TestProperty_MissingVariableNeverMatches(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for range propertyRuns {
		tail := pick(r, []string{"", "*", "?", "/x", "/*"})
		pattern := "arn:aws:s3:::b/${aws:username}" + tail
		a, msg := compileARN(pattern, true)
		if msg != "" {
			t.Fatal(msg)
		}
		resource := "arn:aws:s3:::b/" + pick(r, []string{"", "ci", "ci/x", "*", "${aws:username}"}) + pick(r, []string{"", "/x"})
		if a.match(resource, &evalCtx{req: &Request{}}) {
			t.Fatalf("%q matched %q without aws:username", pattern, resource)
		}
		if condEval(t, pick(r, []string{"StringEquals", "StringLike", "StringEqualsIgnoreCase", "ArnLike"}), "k", []string{"${aws:username}" + tail}, map[string][]string{"k": {resource}}) {
			t.Fatalf("condition on %q matched %q without aws:username", "${aws:username}"+tail, resource)
		}
	}
}
