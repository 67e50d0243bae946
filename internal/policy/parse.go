package policy

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// jkind is the kind of a JSON value.
type jkind uint8

const (
	jObject jkind = iota + 1
	jArray
	jString
	jNumber
	jBool
	jNull
)

// jnode is a JSON value that keeps object members in document order, duplicates included.
type jnode struct {
	kind  jkind
	str   string // string, number (its literal text) or bool ("true"/"false")
	keys  []string
	elems []*jnode // object member values (parallel to keys) or array elements
	open  int      // objects: byte offsets of the opening { and the closing }
	close int
}

func (k jkind) String() string {
	switch k {
	case jObject:
		return "an object"
	case jArray:
		return "an array"
	case jString:
		return "a string"
	case jNumber:
		return "a number"
	case jBool:
		return "a boolean"
	}
	return "null"
}

// decodeTree parses doc into a tree. It assumes doc is valid JSON (checked by the caller).
func decodeTree(doc string) (*jnode, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	return decodeValue(dec)
}

func decodeValue(dec *json.Decoder) (*jnode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &jnode{kind: jObject, open: int(dec.InputOffset()) - 1}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, key)
				n.elems = append(n.elems, v)
			}
			_, err := dec.Token() // }
			n.close = int(dec.InputOffset()) - 1
			return n, err
		case '[':
			n := &jnode{kind: jArray}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, v)
			}
			_, err := dec.Token() // ]
			return n, err
		}
	case string:
		return &jnode{kind: jString, str: t}, nil
	case json.Number:
		return &jnode{kind: jNumber, str: t.String()}, nil
	case bool:
		return &jnode{kind: jBool, str: strconv.FormatBool(t)}, nil
	case nil:
		return &jnode{kind: jNull}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// parser validates a tree against the policy grammar of one kind.
type parser struct {
	kind Kind
	vars bool
}

func malformed(format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...)}
}

// Parse parses and validates a policy document of the given kind. Malformed documents return an
// *Error whose Reason names the element, e.g. "Statement[0].Effect: must be Allow or Deny",
// "Unknown element Foo in Statement[2]", "Missing required field Action in Statement[1]",
// "Syntax errors in policy: unexpected end of JSON input".
func Parse(doc string, kind Kind) (*Document, error) {
	if kind < KindIdentity || kind > KindSession {
		return nil, malformed("unknown policy kind %d", int(kind))
	}
	if len(doc) > MaxDocumentSize {
		return nil, malformed("Policy document exceeds the maximum size of %d bytes (it has %d)", MaxDocumentSize, len(doc))
	}
	var raw json.RawMessage
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, malformed("Syntax errors in policy: %v", err)
	}
	root, err := decodeTree(doc)
	if err != nil {
		return nil, malformed("Syntax errors in policy: %v", err)
	}
	if root.kind != jObject {
		return nil, malformed("Syntax errors in policy: the policy must be a JSON object, not %s", root.kind)
	}
	d := &Document{kind: kind, text: doc}
	if err := checkDuplicates(root, "policy"); err != nil {
		return nil, err
	}
	var stmts *jnode
	for i, key := range root.keys {
		v := root.elems[i]
		switch key {
		case "Version":
			if v.kind != jString {
				return nil, malformed("Version: must be a string")
			}
			if v.str != Version2012 && v.str != Version2008 {
				return nil, malformed("Version: %q is not a valid policy version; use %s or %s", v.str, Version2012, Version2008)
			}
			d.Version = v.str
		case "Id":
			if v.kind != jString {
				return nil, malformed("Id: must be a string")
			}
			d.ID = v.str
		case "Statement":
			stmts = v
		default:
			return nil, malformed("Unknown element %s in policy", key)
		}
	}
	if stmts == nil {
		return nil, malformed("Missing required field Statement")
	}
	p := parser{kind: kind, vars: d.Version == Version2012}
	var list []*jnode
	switch stmts.kind {
	case jObject:
		list = []*jnode{stmts}
	case jArray:
		if len(stmts.elems) == 0 {
			return nil, malformed("Statement: must not be empty")
		}
		list = stmts.elems
	default:
		return nil, malformed("Statement: must be an object or an array of objects, not %s", stmts.kind)
	}
	d.Statements = make([]Statement, len(list))
	sids := make(map[string]int)
	lines := lineCounter{text: doc, line: 1}
	for i, n := range list {
		where := fmt.Sprintf("Statement[%d]", i)
		if err := p.statement(&d.Statements[i], n, where); err != nil {
			return nil, err
		}
		d.Statements[i].Start = lines.advance(n.open)
		d.Statements[i].End = lines.advance(n.close)
		if sid := d.Statements[i].Sid; sid != "" {
			if j, dup := sids[sid]; dup {
				return nil, malformed("%s.Sid: duplicate Sid %q (also in Statement[%d]); Statement IDs (SID) in a single policy must be unique", where, sid, j)
			}
			sids[sid] = i
		}
	}
	return d, nil
}

// checkDuplicates rejects an object with a repeated member name: JSON parsers disagree on which
// one wins, so such a document has no single meaning.
func checkDuplicates(n *jnode, where string) *Error {
	if len(n.keys) <= 8 {
		for i := 1; i < len(n.keys); i++ {
			for j := 0; j < i; j++ {
				if n.keys[i] == n.keys[j] {
					return malformed("Duplicate element %s in %s", n.keys[i], where)
				}
			}
		}
		return nil
	}
	seen := make(map[string]bool, len(n.keys))
	for _, k := range n.keys {
		if seen[k] {
			return malformed("Duplicate element %s in %s", k, where)
		}
		seen[k] = true
	}
	return nil
}

func (k Kind) String() string {
	switch k {
	case KindIdentity:
		return "identity-based policy"
	case KindResource:
		return "resource-based policy"
	case KindTrust:
		return "role trust policy"
	case KindSCP:
		return "service control policy"
	case KindSession:
		return "session policy"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

func (k Kind) withArticle() string {
	if k == KindIdentity {
		return "an " + k.String()
	}
	return "a " + k.String()
}

// statement validates and compiles one statement.
func (p *parser) statement(s *Statement, n *jnode, where string) error {
	if n.kind != jObject {
		return malformed("%s: must be an object, not %s", where, n.kind)
	}
	if err := checkDuplicates(n, where); err != nil {
		return err
	}
	var effect, action, notAction, resource, notResource, principal, notPrincipal, condition *jnode
	for i, key := range n.keys {
		v := n.elems[i]
		switch key {
		case "Sid":
			if v.kind != jString {
				return malformed("%s.Sid: must be a string, not %s", where, v.kind)
			}
			s.Sid = v.str
		case "Effect":
			effect = v
		case "Action":
			action = v
		case "NotAction":
			notAction = v
		case "Resource":
			resource = v
		case "NotResource":
			notResource = v
		case "Principal":
			principal = v
		case "NotPrincipal":
			notPrincipal = v
		case "Condition":
			condition = v
		default:
			return malformed("Unknown element %s in %s", key, where)
		}
	}

	// Effect.
	if effect == nil {
		return malformed("Missing required field Effect in %s", where)
	}
	if effect.kind != jString || effect.str != "Allow" && effect.str != "Deny" {
		return malformed("%s.Effect: must be Allow or Deny", where)
	}
	s.Effect = effect.str
	s.deny = effect.str == "Deny"

	// Principal / NotPrincipal.
	switch p.kind {
	case KindResource, KindTrust:
		switch {
		case principal != nil && notPrincipal != nil:
			return malformed("%s: must contain exactly one of Principal and NotPrincipal", where)
		case principal == nil && notPrincipal == nil:
			return malformed("Missing required field Principal in %s", where)
		case notPrincipal != nil && p.kind == KindTrust:
			return malformed("Has prohibited field NotPrincipal in %s: a role trust policy cannot use NotPrincipal", where)
		}
		if principal != nil {
			pr, err := parsePrincipals(principal, where+".Principal")
			if err != nil {
				return err
			}
			s.Principal = pr
			s.principals = compilePrincipals(pr)
		} else {
			pr, err := parsePrincipals(notPrincipal, where+".NotPrincipal")
			if err != nil {
				return err
			}
			s.NotPrincipal = pr
			s.principals = compilePrincipals(pr)
			s.notPrincipal = true
		}
		s.hasPrincipal = true
	default:
		if principal != nil {
			return malformed("Has prohibited field Principal in %s: %s does not specify a principal", where, p.kind.withArticle())
		}
		if notPrincipal != nil {
			return malformed("Has prohibited field NotPrincipal in %s: %s does not specify a principal", where, p.kind.withArticle())
		}
	}

	// Action / NotAction.
	switch {
	case action != nil && notAction != nil:
		return malformed("%s: must contain exactly one of Action and NotAction", where)
	case action == nil && notAction == nil:
		return malformed("Missing required field Action in %s", where)
	}
	elem, node := "Action", action
	if notAction != nil {
		elem, node, s.notAction = "NotAction", notAction, true
	}
	list, err := stringList(node, where+"."+elem)
	if err != nil {
		return err
	}
	s.actions = make([]glob, len(list))
	for i, a := range list {
		if !validAction(a) {
			return malformed("%s.%s: invalid action %q: an action must be \"prefix:name\" (Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.) or \"*\"", where, elem, a)
		}
		if p.kind == KindTrust && a != "*" && !strings.EqualFold(a[:strings.IndexByte(a, ':')], "sts") {
			return malformed("%s.%s: invalid action %q: AssumeRole policy may only specify STS AssumeRole actions", where, elem, a)
		}
		s.actions[i], _ = compileGlob(a, false, true, true)
	}
	if s.notAction {
		s.NotAction = list
	} else {
		s.Action = list
	}

	// Resource / NotResource.
	switch {
	case resource != nil && notResource != nil:
		return malformed("%s: must contain exactly one of Resource and NotResource", where)
	case resource == nil && notResource == nil:
		if p.kind != KindResource && p.kind != KindTrust {
			return malformed("Missing required field Resource in %s", where)
		}
		s.anyResource = true
	default:
		elem, node := "Resource", resource
		if notResource != nil {
			elem, node, s.notResource = "NotResource", notResource, true
		}
		list, err := stringList(node, where+"."+elem)
		if err != nil {
			return err
		}
		s.resources = make([]arnPattern, len(list))
		for i, r := range list {
			a, msg := compileARN(r, p.vars)
			if msg != "" {
				return malformed("%s.%s: %s", where, elem, msg)
			}
			if !a.any && (!strings.HasPrefix(r, "arn:") || !a.split && !a.exact && a.dynamic.toks == nil || a.exact && strings.Count(r, ":") < arnParts-1) {
				return malformed("%s.%s: Resource %s must be in ARN format or \"*\"", where, elem, r)
			}
			s.resources[i] = a
		}
		if s.notResource {
			s.NotResource = list
		} else {
			s.Resource = list
		}
	}

	// Condition.
	if condition != nil {
		conds, err := p.conditions(condition, where+".Condition")
		if err != nil {
			return err
		}
		s.Condition = conds
	}
	return nil
}

// validAction reports whether a is "*" or "prefix:name" with a non-empty prefix of letters,
// digits, hyphens and wildcards and a non-empty name without spaces or colons.
func validAction(a string) bool {
	if a == "*" {
		return true
	}
	prefix, name, ok := strings.Cut(a, ":")
	if !ok || prefix == "" || name == "" || strings.ContainsAny(name, ": \t\r\n") {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := prefix[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '*' || c == '?') {
			return false
		}
	}
	return true
}

// stringList reads a string or a non-empty array of strings.
func stringList(n *jnode, where string) ([]string, error) {
	switch n.kind {
	case jString:
		return []string{n.str}, nil
	case jArray:
		if len(n.elems) == 0 {
			return nil, malformed("%s: must not be empty", where)
		}
		out := make([]string, len(n.elems))
		for i, e := range n.elems {
			if e.kind != jString {
				return nil, malformed("%s[%d]: must be a string, not %s", where, i, e.kind)
			}
			out[i] = e.str
		}
		return out, nil
	}
	return nil, malformed("%s: must be a string or an array of strings, not %s", where, n.kind)
}

// parsePrincipals reads a Principal or NotPrincipal element: "*" or an object of AWS, Service,
// Federated and CanonicalUser entries.
func parsePrincipals(n *jnode, where string) (*Principals, error) {
	pr := &Principals{}
	switch n.kind {
	case jString:
		if n.str != "*" {
			return nil, malformed("%s: Invalid principal in policy: %q (use \"*\" or an object such as {\"AWS\": \"arn:aws:iam::123456789012:root\"})", where, n.str)
		}
		pr.All = true
		return pr, nil
	case jObject:
	default:
		return nil, malformed("%s: must be \"*\" or an object, not %s", where, n.kind)
	}
	if len(n.keys) == 0 {
		return nil, malformed("%s: must not be empty", where)
	}
	if err := checkDuplicates(n, where); err != nil {
		return nil, err
	}
	for i, key := range n.keys {
		list, err := stringList(n.elems[i], where+"."+key)
		if err != nil {
			return nil, err
		}
		switch key {
		case "AWS":
			for _, s := range list {
				if _, _, ok := parsePrincipalARN(s); !ok {
					return nil, malformed("%s: Invalid principal in policy: \"AWS\":%q", where, s)
				}
				if s == "*" {
					pr.All = true
				}
			}
			pr.AWS = list
		case "Service":
			for _, s := range list {
				if s == "" || strings.ContainsAny(s, " */:") {
					return nil, malformed("%s: Invalid principal in policy: \"Service\":%q", where, s)
				}
			}
			pr.Service = list
		case "Federated":
			for _, s := range list {
				if s == "" {
					return nil, malformed("%s: Invalid principal in policy: \"Federated\":%q", where, s)
				}
			}
			pr.Federated = list
		case "CanonicalUser":
			for _, s := range list {
				if s == "" {
					return nil, malformed("%s: Invalid principal in policy: \"CanonicalUser\":%q", where, s)
				}
			}
			pr.CanonicalUser = list
		default:
			return nil, malformed("%s: unknown principal type %s (use AWS, Service, Federated or CanonicalUser)", where, key)
		}
	}
	return pr, nil
}

// conditions reads a Condition element: operator → key → value or values.
func (p *parser) conditions(n *jnode, where string) ([]Condition, error) {
	if n.kind != jObject {
		return nil, malformed("%s: must be an object, not %s", where, n.kind)
	}
	if err := checkDuplicates(n, where); err != nil {
		return nil, err
	}
	var out []Condition
	for i, op := range n.keys {
		block := n.elems[i]
		if _, _, _, msg := parseOperator(op); msg != "" {
			return nil, malformed("%s: %s", where, msg)
		}
		bwhere := where + "." + op
		if block.kind != jObject {
			return nil, malformed("%s: must be an object of condition keys, not %s", bwhere, block.kind)
		}
		if err := checkDuplicates(block, bwhere); err != nil {
			return nil, err
		}
		for j, key := range block.keys {
			kwhere := bwhere + "." + key
			if key == "" {
				return nil, malformed("%s: condition key must not be empty", bwhere)
			}
			vals, err := conditionValues(block.elems[j], kwhere)
			if err != nil {
				return nil, err
			}
			c := Condition{Operator: op, Key: key, Values: vals}
			if msg := compileCondition(&c, p.vars); msg != "" {
				return nil, malformed("%s: %s", kwhere, msg)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// conditionValues reads a condition value: a string, number or boolean, or a non-empty array of
// them; numbers and booleans become their JSON text.
func conditionValues(n *jnode, where string) ([]string, error) {
	switch n.kind {
	case jString, jNumber, jBool:
		return []string{n.str}, nil
	case jArray:
		if len(n.elems) == 0 {
			return nil, malformed("%s: must not be empty", where)
		}
		out := make([]string, len(n.elems))
		for i, e := range n.elems {
			switch e.kind {
			case jString, jNumber, jBool:
				out[i] = e.str
			default:
				return nil, malformed("%s[%d]: must be a string, number or boolean, not %s", where, i, e.kind)
			}
		}
		return out, nil
	}
	return nil, malformed("%s: must be a string, number, boolean or an array of them, not %s", where, n.kind)
}
