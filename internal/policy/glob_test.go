package policy

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMatchWildcard(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything/at:all", true},
		{"a*", "a", true},
		{"a*", "abc", true},
		{"a*", "ba", false},
		{"*c", "abc", true},
		{"a*c", "ac", true},
		{"a*c", "abcbc", true},
		{"a*c", "abcb", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "abbc", false},
		{"?", "é", true}, // one character, not one byte
		{"??", "é", false},
		{"a**b", "ab", true},
		{"*a*b*", "xxaxxbxx", true},
		{"*a*b*", "xxbxxaxx", false},
		{"b/*", "b/x/y", true}, // * crosses /
		{"a*b?c*d", "aXbYcZd", true},
		{"a*b?c*d", "abcd", false},
		{"Bob", "bob", false},
	}
	for _, tt := range tests {
		if got := MatchWildcard(tt.pattern, tt.s); got != tt.want {
			t.Errorf("MatchWildcard(%q, %q): got %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// Action matching is case-insensitive on prefix and name; * and ? are wildcards.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
func TestStatement_ActionMatching(t *testing.T) {
	tests := []struct {
		pattern, action string
		want            bool
	}{
		{"iam:ListAccessKeys", "IAM:listaccesskeys", true},
		{"license-manager:CheckoutLicense", "LICENSE-MANAGER:checkoutlicense", true},
		{"license-manager:Get*", "license-manager:GetLicense", true},
		{"license-manager:get*", "License-Manager:GetLicenseUsage", true},
		{"license-manager:Get*", "license-manager:ListLicenses", false},
		{"s3:Get?bject", "s3:GetObject", true},
		{"s3:Get?bject", "s3:GetObjekt", false},
		{"*", "sts:AssumeRole", true},
		{"sts:*", "sts:AssumeRole", true},
		{"sts:*", "iam:GetRole", false},
		{"s3:*Object", "s3:PutObject", true},
	}
	for _, tt := range tests {
		doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"` + tt.pattern + `","Resource":"*"}}`
		d := mustParse(t, "p", doc, KindIdentity)
		if got := d.Statements[0].matchAction(tt.action); got != tt.want {
			t.Errorf("Action %q vs %q: got %v, want %v", tt.pattern, tt.action, got, tt.want)
		}
	}
}

// Resource matching is case-sensitive; each of the six ARN parts is globbed; * crosses / in the
// resource part; ? matches one character; "*" alone matches everything.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
func TestARNPattern(t *testing.T) {
	tests := []struct {
		pattern, arn string
		want         bool
	}{
		{"*", "*", true},
		{"*", "arn:aws:s3:::b", true},
		{"arn:aws:s3:::b/?", "arn:aws:s3:::b/k", true},
		{"arn:aws:s3:::b/?", "arn:aws:s3:::b/kk", false},
		{"arn:aws:iam::111122223333:user/Bob", "arn:aws:iam::111122223333:user/bob", false},
		{"arn:aws:iam::111122223333:user/Bob", "arn:aws:iam::111122223333:user/Bob", true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y/z", true},
		{"arn:aws:s3:::b*", "arn:aws:s3:::b/x", true},
		{"arn:aws:iam::*:role/R", "arn:aws:iam::444455556666:role/R", true},
		{"arn:aws:iam::*:role/R", "arn:aws:iam::444455556666:user/R", false},
		// A wildcard in one part never swallows the colons between parts.
		{"arn:aws:iam::*", "arn:aws:iam::444455556666:role/R", false},
		{"arn:aws:*:*:*:*", "arn:aws:iam::444455556666:role/R", true},
		{"arn:*:iam::*:role/*", "arn:aws-cn:iam::444455556666:role/p/R", true},
		// The resource part may contain colons.
		{"arn:aws:license-manager::111122223333:license:l-*", "arn:aws:license-manager::111122223333:license:l-1", true},
		{"arn:aws:logs:us-east-1:111122223333:log-group:g:*", "arn:aws:logs:us-east-1:111122223333:log-group:g:log-stream:s", true},
		// A resource-less action is evaluated with resource "*": only "*" matches it.
		{"arn:aws:license-manager::111122223333:license:l-1", "*", false},
		{"arn:aws:license-manager::*:license:*", "*", false},
		{"arn:*", "*", false},
	}
	for _, tt := range tests {
		a, msg := compileARN(tt.pattern, true)
		if msg != "" {
			t.Fatalf("compileARN(%q): %s", tt.pattern, msg)
		}
		if got := a.match(tt.arn, &evalCtx{req: &Request{}}); got != tt.want {
			t.Errorf("pattern %q vs %q: got %v, want %v", tt.pattern, tt.arn, got, tt.want)
		}
	}
}

// globRegexp is the reference translation of a glob: * → .*, ? → ., everything else quoted.
func globRegexp(pattern string, fold bool) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?s)")
	if fold {
		b.WriteString("(?i)")
	}
	b.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func FuzzGlob(f *testing.F) {
	seeds := [][2]string{
		{"a*c", "abc"}, {"a?c", "abc"}, {"*", ""}, {"**a", "ba"}, {"a*b*c", "aXbYbc"},
		{"?é", "xé"}, {"arn:aws:s3:::b/*", "arn:aws:s3:::b/k"}, {"Get*", "getobject"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(s) {
			t.Skip() // regexp reads invalid bytes as U+FFFD, which is not the same byte
		}
		got := MatchWildcard(pattern, s)
		want := globRegexp(pattern, false).MatchString(s)
		if got != want {
			t.Errorf("MatchWildcard(%q, %q): got %v, regexp says %v", pattern, s, got, want)
		}
		if isASCII(pattern) && isASCII(s) {
			g, _ := compileGlob(pattern, false, true, true)
			got := g.match(s, nil)
			want := globRegexp(pattern, true).MatchString(s)
			if got != want {
				t.Errorf("fold glob %q vs %q: got %v, regexp says %v", pattern, s, got, want)
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
