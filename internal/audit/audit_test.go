package audit

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/identity"
)

func TestParams(t *testing.T) {
	type tag struct{ Key, Value string }
	type creds struct {
		AccessKeyId     string
		SecretAccessKey string
		SessionToken    string
	}
	in := struct {
		RoleArn     string
		Tags        []tag
		Credentials creds
		Password    string
	}{
		RoleArn:     "arn:aws:iam::123456789012:role/R",
		Tags:        []tag{{"team", "a"}},
		Credentials: creds{"ASIAEXAMPLE", "s3cr3t", "tok"},
		Password:    "hunter2",
	}
	got := string(Params(in))
	want := `{"credentials":{"accessKeyId":"ASIAEXAMPLE","secretAccessKey":"HIDDEN_DUE_TO_SECURITY_REASONS","sessionToken":"HIDDEN_DUE_TO_SECURITY_REASONS"},` +
		`"password":"HIDDEN_DUE_TO_SECURITY_REASONS","roleArn":"arn:aws:iam::123456789012:role/R","tags":[{"key":"team","value":"a"}]}`
	if got != want {
		t.Errorf("Params =\n%s\nwant\n%s", got, want)
	}
	for _, secret := range []string{"s3cr3t", "tok", "hunter2"} {
		if strings.Contains(got, secret) {
			t.Errorf("Params leaks %q", secret)
		}
	}
	for _, v := range []any{nil, struct{}{}, map[string]string{}} {
		if got := string(Params(v)); got != "null" {
			t.Errorf("Params(%#v) = %s, want null", v, got)
		}
	}
}

func TestIdentityOf(t *testing.T) {
	root := IdentityOf(identity.Root("123456789012", "AKIAROOT"))
	if root.Type != "Root" || root.PrincipalID != "123456789012" || root.ARN != "arn:aws:iam::123456789012:root" || root.SessionContext != nil {
		t.Errorf("root identity = %+v", root)
	}
	sess := IdentityOf(&identity.Principal{
		Kind: identity.KindAssumedRole, AccountID: "123456789012", PrincipalID: "AROAEXAMPLE:build-42",
		ARN: "arn:aws:sts::123456789012:assumed-role/Consumer/build-42", RoleARN: "arn:aws:iam::123456789012:role/Consumer",
		RoleName: "Consumer", SessionName: "build-42", AccessKeyID: "ASIAEXAMPLE",
	})
	if sess.SessionContext == nil || sess.SessionContext.SessionIssuer.PrincipalID != "AROAEXAMPLE" ||
		sess.SessionContext.SessionIssuer.UserName != "Consumer" || sess.SessionContext.SessionIssuer.ARN != "arn:aws:iam::123456789012:role/Consumer" {
		t.Errorf("session identity = %+v", sess)
	}
}

// chain builds an intact chain of n records.
func chain(t *testing.T, n int) []*Record {
	t.Helper()
	var recs []*Record
	prev := GenesisHash
	base := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		ev := &Event{
			EventVersion: EventVersion, UserIdentity: IdentityOf(identity.Root("123456789012", "AKIAROOT")),
			EventTime: FormatTime(base.Add(time.Duration(i) * time.Second)), EventSource: "sts.amazonaws.com",
			EventName: "GetCallerIdentity", RequestParameters: json.RawMessage("null"), ResponseElements: json.RawMessage("null"),
			EventID: fmt.Sprintf("event-%d", i), EventType: "AwsApiCall", RecipientAccountID: "123456789012", ReadOnly: true,
			Resources: []Resource{{ARN: fmt.Sprintf("arn:aws:iam::123456789012:user/u%d", i), Type: "AWS::IAM::User"}},
		}
		r, err := NewRecord(ev)
		if err != nil {
			t.Fatal(err)
		}
		r.Place("chain-1", int64(i), prev)
		prev = r.Hash
		recs = append(recs, r)
	}
	return recs
}

func verify(recs []*Record) ChainReport {
	v := NewChainVerifier("chain-1")
	for _, r := range recs {
		v.Add(r)
	}
	return v.Report()
}

func TestChainVerifier(t *testing.T) {
	if got := verify(chain(t, 5)); !got.Intact || got.Records != 5 {
		t.Fatalf("intact chain reported %+v", got)
	}
	tests := []struct {
		name     string
		tamper   func([]*Record) []*Record
		brokenAt int64
		problem  string
	}{
		{"body edited", func(r []*Record) []*Record {
			r[2].Body = []byte(strings.Replace(string(r[2].Body), "GetCallerIdentity", "AssumeRole", 1))
			return r
		}, 3, "changed after it was written"},
		{"body edited and rehashed", func(r []*Record) []*Record {
			r[2].Body = []byte(strings.Replace(string(r[2].Body), "GetCallerIdentity", "AssumeRole", 1))
			r[2].Hash = Link(r[2].ChainID, r[2].Seq, r[2].PrevHash, r[2].Body)
			return r
		}, 3, "lookups were changed"},
		{"body, columns and hash edited", func(r []*Record) []*Record {
			r[2].Body = []byte(strings.Replace(string(r[2].Body), "GetCallerIdentity", "AssumeRole", 1))
			r[2].EventName = "AssumeRole"
			r[2].Hash = Link(r[2].ChainID, r[2].Seq, r[2].PrevHash, r[2].Body)
			return r
		}, 4, "does not link"},
		{"lookup column edited", func(r []*Record) []*Record { r[1].Username = "alice"; return r }, 2, "lookups were changed"},
		{"resource edited", func(r []*Record) []*Record { r[1].Resources[0].ARN = "arn:aws:iam::123456789012:user/x"; return r }, 2, "lookups were changed"},
		{"record removed", func(r []*Record) []*Record { return append(r[:1], r[2:]...) }, 3, "missing"},
		{"records swapped", func(r []*Record) []*Record { r[1], r[2] = r[2], r[1]; return r }, 3, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := verify(tt.tamper(chain(t, 5)))
			if got.Intact || got.BrokenAt != tt.brokenAt || !strings.Contains(got.Problem, tt.problem) {
				t.Errorf("got %+v, want broken at %d with %q", got, tt.brokenAt, tt.problem)
			}
		})
	}
}

func TestPendingClaim(t *testing.T) {
	p := NewPending(Event{EventTime: "2026-11-23T10:00:00Z", EventID: "e1", RecipientAccountID: "123456789012"})
	p.SetRequest(struct{ RoleArn string }{"arn"})
	p.SetError("AccessDenied", "no")
	r, err := p.Claim()
	if err != nil || r == nil {
		t.Fatalf("Claim = %v, %v", r, err)
	}
	ev, err := r.Event()
	if err != nil || string(ev.RequestParameters) != `{"roleArn":"arn"}` || ev.ErrorCode != "AccessDenied" {
		t.Errorf("claimed event = %+v, %v", ev, err)
	}
	p.Done(false)
	if r, _ := p.Claim(); r == nil {
		t.Error("a rolled-back event can no longer be claimed")
	}
	p.Done(true)
	if r, _ := p.Claim(); r != nil || !p.Recorded() {
		t.Error("a written event can be claimed again")
	}
}
