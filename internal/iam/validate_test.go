package iam

import (
	"testing"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/policy"
)

func TestValidation(t *testing.T) {
	code := func(err error) string { return awserr.Code(err) }
	path := func(v string) error { _, err := checkPath("path", v); return err }
	policyPath := func(v string) error { _, err := checkPolicyPath("path", v); return err }
	name := func(v string) error { return checkName("userName", v, maxUserName) }
	version := func(v string) error { return checkVersionID("versionId", v) }
	arn := func(v string) error { return checkPolicyARN("policyArn", v, "123456789012") }
	for _, c := range []struct {
		what  string
		check func(string) error
		value string
		want  string // error code, "" for valid
	}{
		{"name", name, "alice", ""},
		{"name", name, "a+b=c,d.e@f-g_h", ""},
		{"name", name, "", "ValidationError"},
		{"name", name, "bad name", "ValidationError"},
		{"name", name, "é", "ValidationError"},
		{"name", name, string(make([]byte, 65)), "ValidationError"},
		{"path", path, "", ""},
		{"path", path, "/", ""},
		{"path", path, "/a/b/", ""},
		{"path", path, "/a", "ValidationError"},
		{"path", path, "a/", "ValidationError"},
		{"path", path, "/a b/", "ValidationError"},
		{"policy path", policyPath, "/service-role/", ""},
		{"policy path", policyPath, "/a//b/", "ValidationError"},
		{"policy path", policyPath, "/a!/", "ValidationError"},
		{"version", version, "v1", ""},
		{"version", version, "v12.beta-1", ""},
		{"version", version, "v0", "ValidationError"},
		{"version", version, "1", "ValidationError"},
		{"arn", arn, "arn:aws:iam::123456789012:policy/Mine", ""},
		{"arn", arn, "arn:aws:iam::aws:policy/service-role/AWSLicenseManagerConsumptionPolicy", ""},
		{"arn", arn, "arn:aws:iam::999999999999:policy/Theirs", "NoSuchEntity"},
		{"arn", arn, "arn:aws:iam::123456789012:role/NotAPolicy", "InvalidInput"},
		{"arn", arn, "short", "ValidationError"},
	} {
		if got := code(c.check(c.value)); got != c.want {
			t.Errorf("%s %q: error code %q, want %q", c.what, c.value, got, c.want)
		}
	}
}

func TestCheckDocument(t *testing.T) {
	if _, err := checkDocument("policyDocument", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, policy.KindIdentity); err != nil {
		t.Errorf("valid identity policy: %v", err)
	}
	if _, err := checkDocument("policyDocument", `{"Version":"2012-10-17","Statement":[]`, policy.KindIdentity); awserr.Code(err) != ErrMalformedPolicyDocument {
		t.Errorf("truncated JSON: %v, want MalformedPolicyDocument", err)
	}
	if _, err := checkDocument("policyDocument", "{\"a\":\"\u0100\"}", policy.KindIdentity); awserr.Code(err) != ErrValidation {
		t.Errorf("character beyond U+00FF: %v, want ValidationError", err)
	}
	if n := policySize("{ \"a\" :\n\t\"b\" }"); n != 9 {
		t.Errorf("policySize = %d, want 9 (white space is free)", n)
	}
}
