package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/allot-dev/allot/client"
)

func TestParseEntitlements(t *testing.T) {
	for _, tc := range []struct {
		specs []string
		want  []client.Entitlement
		err   string
	}{
		{[]string{"Name=Seats,Unit=Count,Value=1"}, []client.Entitlement{{Name: "Seats", Unit: "Count", Value: "1"}}, ""},
		{[]string{"Name=Seats", "Name=Edition,Unit=None"}, []client.Entitlement{{Name: "Seats"}, {Name: "Edition", Unit: "None"}}, ""},
		{[]string{"Seats"}, nil, "want Name=NAME,Unit=UNIT,Value=VALUE"},
		{[]string{"Name=Seats,Count=1"}, nil, `unknown key "Count"`},
		{[]string{"Unit=Count,Value=1"}, nil, "Name is required"},
	} {
		got, err := parseEntitlements(tc.specs)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseEntitlements(%q) = %v, want an error saying %q", tc.specs, err, tc.err)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("parseEntitlements(%q) = %v, %v; want %v", tc.specs, got, err, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("parseEntitlements(%q)[%d] = %+v, want %+v", tc.specs, i, got[i], tc.want[i])
			}
		}
	}
}

// TestDoctor_Usage checks the refusals that need no server: exit 2 for bad flags, and an
// invalid role ARN reported as a failed check (exit 1) before any call.
func TestDoctor_Usage(t *testing.T) {
	env := func(string) string { return "" }
	run := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := Run(context.Background(), append([]string{"doctor"}, args...), &out, &errb, env)
		return out.String(), errb.String(), code
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--mode", "cross"}, `unknown mode "cross"`},
		{[]string{"--mode", "grants", "--role-arn", "arn:aws:iam::111122223333:role/R"}, "--role-arn is only used with --mode assume-role"},
		{[]string{"--output", "yaml"}, "want table or json"},
		{[]string{"--entitlement", "Seats"}, "want Name=NAME"},
	} {
		if _, stderr, code := run(tc.args...); code != 2 || !strings.Contains(stderr, tc.msg) {
			t.Errorf("allot doctor %s: exit %d, %q; want 2 and %q", strings.Join(tc.args, " "), code, stderr, tc.msg)
		}
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	stdout, _, code := run("--endpoint-url", "http://127.0.0.1:1", "--mode", "assume-role", "--role-arn", "arn:aws:iam::1234:role/R", "--output", "json")
	var r struct {
		OK     bool
		Checks []client.Check
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || code != 1 || r.OK || len(r.Checks) != 1 ||
		r.Checks[0].Name != "role-arn" || !strings.Contains(r.Checks[0].Cause, "not 12 digits") {
		t.Errorf("allot doctor with an invalid role ARN: exit %d, %v\n%s", code, err, stdout)
	}
}
