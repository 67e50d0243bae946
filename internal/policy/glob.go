package policy

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind is the kind of one token of a compiled pattern.
type tokKind uint8

const (
	tokLit  tokKind = iota // literal text
	tokStar                // * : any run of characters, including none
	tokOne                 // ? : exactly one character
	tokVar                 // ${key} or ${key, 'default'}: the key's single value, matched literally
)

// token is one element of a compiled pattern.
type token struct {
	kind   tokKind
	text   string // tokLit: the text; tokVar: the key
	def    string // tokVar: the default value
	hasDef bool
}

// glob is a compiled pattern: literal text, the wildcards * and ? (when enabled) and policy
// variables (Version 2012-10-17 only). A zero glob matches only the empty string.
type glob struct {
	toks []token
	fold bool // case-insensitive (Unicode simple folding, as strings.EqualFold)
	any  bool // the pattern is a lone *: matches everything
	vars bool // the pattern holds at least one variable
}

// compileGlob compiles s. With vars, ${…} are policy variables and ${*} ${?} ${$} escapes; with
// wild, * and ? are wildcards. Malformed variables are reported as an error message.
func compileGlob(s string, vars, wild, fold bool) (glob, string) {
	toks, msg := tokenize(s, vars, wild)
	if msg != "" {
		return glob{}, msg
	}
	g := glob{toks: toks, fold: fold}
	for _, t := range toks {
		if t.kind == tokVar {
			g.vars = true
		}
	}
	g.any = len(toks) == 1 && toks[0].kind == tokStar
	return g, ""
}

// tokenize splits s into tokens, merging adjacent literals and collapsing runs of *.
func tokenize(s string, vars, wild bool) ([]token, string) {
	var toks []token
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, token{kind: tokLit, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case vars && c == '$' && i+1 < len(s) && s[i+1] == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				// An unterminated ${ is literal text.
				lit.WriteString("${")
				i += 2
				continue
			}
			body := s[i+2 : i+2+end]
			i += 2 + end + 1
			switch strings.TrimSpace(body) {
			case "*", "?", "$":
				lit.WriteString(strings.TrimSpace(body))
				continue
			}
			key, def, hasDef, msg := parseVariable(body)
			if msg != "" {
				return nil, msg
			}
			flush()
			toks = append(toks, token{kind: tokVar, text: key, def: def, hasDef: hasDef})
		case wild && c == '*':
			flush()
			if len(toks) == 0 || toks[len(toks)-1].kind != tokStar {
				toks = append(toks, token{kind: tokStar})
			}
			i++
		case wild && c == '?':
			flush()
			toks = append(toks, token{kind: tokOne})
			i++
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return toks, ""
}

// parseVariable parses the inside of ${…}: a key, optionally followed by a comma and a default
// value in single quotes.
func parseVariable(body string) (key, def string, hasDef bool, msg string) {
	k, d, comma := strings.Cut(body, ",")
	key = strings.TrimSpace(k)
	if key == "" || strings.ContainsAny(key, "${}'") {
		return "", "", false, "invalid policy variable ${" + body + "}"
	}
	if !comma {
		return key, "", false, ""
	}
	d = strings.TrimSpace(d)
	if len(d) < 2 || d[0] != '\'' || d[len(d)-1] != '\'' || strings.ContainsRune(d[1:len(d)-1], '\'') {
		return "", "", false, "invalid default value in policy variable ${" + body + "}: it must be in single quotes"
	}
	return key, d[1 : len(d)-1], true, ""
}

// static reports whether g is a plain literal (no wildcard, no variable) and returns its text.
func (g *glob) static() (string, bool) {
	switch {
	case len(g.toks) == 0:
		return "", true
	case len(g.toks) == 1 && g.toks[0].kind == tokLit:
		return g.toks[0].text, true
	}
	return "", false
}

// match reports whether s matches g. Variables are resolved through ec; a variable with no value
// (and no default) makes the pattern match nothing.
func (g *glob) match(s string, ec *evalCtx) bool {
	if g.any {
		return true
	}
	toks := g.toks
	p, i := 0, 0
	starP, starI := -1, 0
	for {
		if p < len(toks) {
			t := &toks[p]
			switch t.kind {
			case tokStar:
				if p == len(toks)-1 {
					return true
				}
				starP, starI = p, i
				p++
				continue
			case tokOne:
				if i < len(s) {
					_, n := utf8.DecodeRuneInString(s[i:])
					i += n
					p++
					continue
				}
			case tokLit:
				if n, ok := hasPrefix(s[i:], t.text, g.fold); ok {
					i += n
					p++
					continue
				}
			case tokVar:
				v, ok := ec.variable(t)
				if !ok {
					return false
				}
				if n, ok := hasPrefix(s[i:], v, g.fold); ok {
					i += n
					p++
					continue
				}
			}
		} else if i == len(s) {
			return true
		}
		// Mismatch: let the last * swallow one more character, or fail.
		if starP < 0 || starI >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starI:])
		starI += n
		i = starI
		p = starP + 1
	}
}

// hasPrefix reports whether s begins with prefix (case-insensitively with fold) and how many
// bytes of s the prefix covers.
func hasPrefix(s, prefix string, fold bool) (int, bool) {
	if !fold {
		if strings.HasPrefix(s, prefix) {
			return len(prefix), true
		}
		return 0, false
	}
	i := 0
	for j := 0; j < len(prefix); {
		if i >= len(s) {
			return 0, false
		}
		a, b := s[i], prefix[j]
		if a < utf8.RuneSelf && b < utf8.RuneSelf {
			if a != b && lowerASCII(a) != lowerASCII(b) {
				return 0, false
			}
			i++
			j++
			continue
		}
		r1, n1 := utf8.DecodeRuneInString(s[i:])
		r2, n2 := utf8.DecodeRuneInString(prefix[j:])
		if !equalFoldRune(r1, r2) {
			return 0, false
		}
		i += n1
		j += n2
	}
	return i, true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFoldRune reports whether r1 and r2 are equal under Unicode simple case folding.
func equalFoldRune(r1, r2 rune) bool {
	if r1 == r2 {
		return true
	}
	for r := unicode.SimpleFold(r1); r != r1; r = unicode.SimpleFold(r) {
		if r == r2 {
			return true
		}
	}
	return false
}

// MatchWildcard reports whether s matches pattern, where * matches any run of characters
// (including / and :) and ? exactly one, case-sensitively; everything else is literal.
func MatchWildcard(pattern, s string) bool {
	g, _ := compileGlob(pattern, false, true, false)
	return g.match(s, nil)
}
