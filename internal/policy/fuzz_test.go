package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// fuzzRequests are fixed requests a fuzzed document is evaluated against.
var fuzzRequests = []*Request{
	{Principal: userCI, Action: "s3:GetObject", Resource: "arn:aws:s3:::bucket/key", Time: fixedTime,
		Context: map[string][]string{"aws:SourceIp": {"10.1.2.3"}, "aws:username": {"ci"}, "aws:TagKeys": {"a", "b"}}},
	{Principal: sessionB, Action: "sts:AssumeRole", Resource: roleR, ResourceAccount: acctA, Time: fixedTime},
	{Principal: sessionDeployer, Action: "license-manager:CheckoutLicense", Resource: "*", Time: fixedTime,
		Context: map[string][]string{"aws:SecureTransport": {"true"}}},
}

// placed evaluates req with d in the slot its kind belongs to.
func placed(d *Document, req *Request) *Result {
	p := &Policies{}
	switch d.Kind() {
	case KindIdentity:
		p.Identity = []*Document{d}
	case KindResource, KindTrust:
		p.Resource = d
	case KindSession:
		p.Identity = []*Document{mustParseQuiet(allowAll)}
		p.Session = []*Document{d}
	case KindSCP:
		p.Identity = []*Document{mustParseQuiet(allowAll)}
		p.SCPs = [][]*Document{{d}}
	}
	return Evaluate(req, p)
}

func mustParseQuiet(doc string) *Document {
	d, err := Parse(doc, KindIdentity)
	if err != nil {
		panic(err)
	}
	return d
}

func sameResult(a, b *Result) bool {
	if a.Decision != b.Decision || a.DecidedBy != b.DecidedBy || len(a.Trace) != len(b.Trace) {
		return false
	}
	for i := range a.Trace {
		if a.Trace[i] != b.Trace[i] {
			return false
		}
	}
	return true
}

// FuzzParse: Parse never panics; a malformed document is an *Error; statements' positions point
// at their braces; a parsed document re-parses from Text() and from a re-encoding of its JSON to
// the same decisions.
func FuzzParse(f *testing.F) {
	for _, doc := range []string{
		seedLicensePermissions, seedLicenseTrust, seedBucketPolicy, seedKeyPolicy, seedDynamoDB,
		seedKMSStatement, allowAll, everyOperatorDoc(),
		`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["111122223333","arn:aws:iam::111122223333:user/ci"]},"NotAction":"iam:*","NotResource":"arn:aws:s3:::b/${aws:username, 'x'}${*}"}}`,
		`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":["a*",1,true]}}}]}`,
		`{"Version":"2012-10-17","Statement":[`,
	} {
		for kind := KindIdentity; kind <= KindSession; kind++ {
			f.Add(doc, uint8(kind))
		}
	}
	f.Fuzz(func(t *testing.T, doc string, k uint8) {
		kind := Kind(k%5) + KindIdentity
		d, err := Parse(doc, kind)
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) || perr.Reason == "" {
				t.Fatalf("Parse error is not an *Error with a Reason: %v", err)
			}
			return
		}
		again, err := Parse(d.Text(), kind)
		if err != nil {
			t.Fatalf("re-parse of Text(): %v", err)
		}
		for i, s := range d.Statements {
			if doc[s.Start.Offset] != '{' || doc[s.End.Offset] != '}' || s.End.Offset <= s.Start.Offset {
				t.Fatalf("Statement[%d] spans offsets %d to %d", i, s.Start.Offset, s.End.Offset)
			}
			if got := d.PositionAt(s.End.Offset); got != s.End {
				t.Fatalf("Statement[%d].End = %+v, PositionAt says %+v", i, s.End, got)
			}
		}
		// Re-encode the JSON (member order and spacing change, meaning does not).
		dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("document parsed but does not decode: %v", err)
		}
		enc, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var reenc *Document
		if len(enc) <= MaxDocumentSize {
			reenc, err = Parse(string(enc), kind)
			if err != nil {
				t.Fatalf("re-encoded document does not parse: %v\n%s", err, enc)
			}
		}
		for _, req := range fuzzRequests {
			want := placed(d, req)
			if got := placed(again, req); !sameResult(got, want) {
				t.Fatalf("re-parsed Text() decides %v by %q, original %v by %q", got.Decision, got.DecidedBy, want.Decision, want.DecidedBy)
			}
			if reenc != nil {
				if got := placed(reenc, req); got.Decision != want.Decision || got.DecidedBy != want.DecidedBy {
					t.Fatalf("re-encoded document decides %v by %q, original %v by %q\n%s", got.Decision, got.DecidedBy, want.Decision, want.DecidedBy, enc)
				}
			}
			_ = want.Message(req)
		}
	})
}
