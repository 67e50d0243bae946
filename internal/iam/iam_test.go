package iam_test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"testing"

	"github.com/allot-dev/allot/internal/awsproto"
	"github.com/allot-dev/allot/internal/iam"
)

func TestPolicyDocument(t *testing.T) {
	for _, doc := range []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
		"{\n  \"Sid\": \"a+b&c<d> e~é\"\n}",
		"",
	} {
		text, err := iam.PolicyDocument(doc).MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		if want := awsproto.URLEncodePolicy(doc); string(text) != want {
			t.Errorf("MarshalText(%q) = %q, want %q", doc, text, want)
		}
		if back, err := url.QueryUnescape(string(text)); err != nil || back != doc {
			t.Errorf("QueryUnescape(MarshalText(%q)) = %q, %v", doc, back, err)
		}
		// Audit records keep the document as it is.
		js, err := json.Marshal(struct{ D iam.PolicyDocument }{iam.PolicyDocument(doc)})
		if err != nil {
			t.Fatal(err)
		}
		var back struct{ D string }
		if err := json.Unmarshal(js, &back); err != nil || back.D != doc {
			t.Errorf("JSON round trip of %q = %q, %v", doc, back.D, err)
		}
	}
}

func TestNewEntityID(t *testing.T) {
	re := regexp.MustCompile(`^AIDA[A-Z0-9]{17}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := iam.NewEntityID(iam.UserIDPrefix)
		if !re.MatchString(id) {
			t.Fatalf("NewEntityID = %q, want AIDA and 17 upper-case letters and digits", id)
		}
		if seen[id] {
			t.Fatalf("NewEntityID repeated %q", id)
		}
		seen[id] = true
	}
}
