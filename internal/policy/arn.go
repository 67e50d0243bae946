package policy

import "strings"

// arnParts is the number of colon-separated parts of an ARN:
// arn:partition:service:region:account:resource (the last may itself contain colons).
const arnParts = 6

// arnPattern is a compiled ARN pattern, as used in Resource/NotResource and by the Arn*
// condition operators: each of the six parts is globbed separately, case-sensitively, so a
// wildcard never crosses the colons between the first five parts. A lone * matches everything,
// including the "*" of actions without a resource type.
type arnPattern struct {
	any     bool
	literal string // when exact: the whole ARN, compared as a string
	exact   bool
	parts   [arnParts]glob
	split   bool // parts are valid
	dynamic glob // when the parts could not be told apart before variables are substituted
}

// compileARN compiles an ARN pattern. It returns an error message for malformed variables.
func compileARN(s string, vars bool) (arnPattern, string) {
	toks, msg := tokenize(s, vars, true)
	if msg != "" {
		return arnPattern{}, msg
	}
	var a arnPattern
	if len(toks) == 1 && toks[0].kind == tokStar {
		a.any = true
		return a, ""
	}
	hasVars := false
	hasWild := false
	for _, t := range toks {
		switch t.kind {
		case tokVar:
			hasVars = true
		case tokStar, tokOne:
			hasWild = true
		}
	}
	if !hasVars && !hasWild {
		a.exact = true
		a.literal = joinLiterals(toks)
		return a, ""
	}
	parts, ok := splitTokens(toks)
	if ok {
		a.split = true
		for i := range parts {
			a.parts[i] = newGlob(parts[i], false)
		}
		return a, ""
	}
	if hasVars {
		// Fewer than six parts before substitution: a variable may supply the colons, so split
		// after substituting (a rare, allocating path).
		a.dynamic = newGlob(toks, false)
	}
	// Without variables a pattern of fewer than six parts matches nothing.
	return a, ""
}

// newGlob builds a glob from tokens.
func newGlob(toks []token, fold bool) glob {
	g := glob{toks: toks, fold: fold}
	for _, t := range toks {
		if t.kind == tokVar {
			g.vars = true
		}
	}
	g.any = len(toks) == 1 && toks[0].kind == tokStar
	return g
}

func joinLiterals(toks []token) string {
	if len(toks) == 1 {
		return toks[0].text
	}
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.text)
	}
	return b.String()
}

// splitTokens splits tokens into the six ARN parts at the first five colons found in literal
// text. It reports false when there are fewer than five.
func splitTokens(toks []token) ([arnParts][]token, bool) {
	var parts [arnParts][]token
	n := 0
	for _, t := range toks {
		if t.kind != tokLit || n == arnParts-1 {
			parts[n] = append(parts[n], t)
			continue
		}
		text := t.text
		for n < arnParts-1 {
			i := strings.IndexByte(text, ':')
			if i < 0 {
				break
			}
			if i > 0 {
				parts[n] = append(parts[n], token{kind: tokLit, text: text[:i]})
			}
			n++
			text = text[i+1:]
		}
		if text != "" {
			parts[n] = append(parts[n], token{kind: tokLit, text: text})
		}
	}
	return parts, n == arnParts-1
}

// splitARN splits s into its six parts without allocating; ok is false for fewer than six.
func splitARN(s string) (parts [arnParts]string, ok bool) {
	for i := 0; i < arnParts-1; i++ {
		j := strings.IndexByte(s, ':')
		if j < 0 {
			return parts, false
		}
		parts[i] = s[:j]
		s = s[j+1:]
	}
	parts[arnParts-1] = s
	return parts, true
}

// match reports whether s matches the pattern.
func (a *arnPattern) match(s string, ec *evalCtx) bool {
	switch {
	case a.any:
		return true
	case a.exact:
		return s == a.literal
	case a.split:
		vp, ok := splitARN(s)
		if !ok {
			return false
		}
		for i := range a.parts {
			if !a.parts[i].match(vp[i], ec) {
				return false
			}
		}
		return true
	case a.dynamic.toks != nil:
		return a.matchDynamic(s, ec)
	}
	return false
}

// matchDynamic substitutes the pattern's variables (their values are literal text), then splits
// and matches.
func (a *arnPattern) matchDynamic(s string, ec *evalCtx) bool {
	toks := make([]token, 0, len(a.dynamic.toks))
	for i := range a.dynamic.toks {
		t := a.dynamic.toks[i]
		if t.kind == tokVar {
			v, ok := ec.variable(&t)
			if !ok {
				return false
			}
			t = token{kind: tokLit, text: v}
		}
		if t.kind == tokLit && len(toks) > 0 && toks[len(toks)-1].kind == tokLit {
			toks[len(toks)-1].text += t.text
			continue
		}
		toks = append(toks, t)
	}
	parts, ok := splitTokens(toks)
	if !ok {
		return false
	}
	vp, ok := splitARN(s)
	if !ok {
		return false
	}
	for i := range parts {
		g := newGlob(parts[i], false)
		if !g.match(vp[i], ec) {
			return false
		}
	}
	return true
}
