package iam

import (
	"testing"

	"github.com/allot-dev/allot/internal/awserr"
)

func TestParseOIDCIssuer(t *testing.T) {
	for _, c := range []struct {
		raw       string
		allowHTTP bool
		issuer    string
		url       string
	}{
		{"https://token.actions.githubusercontent.com", false, "https://token.actions.githubusercontent.com", "token.actions.githubusercontent.com"},
		{"HTTPS://Issuer.Example.com/Tenant/", false, "https://issuer.example.com/Tenant", "issuer.example.com/Tenant"},
		{"https://oidc.eks.us-east-1.amazonaws.com/id/ABC", false, "https://oidc.eks.us-east-1.amazonaws.com/id/ABC", "oidc.eks.us-east-1.amazonaws.com/id/ABC"},
		{"http://127.0.0.1:8080/x", true, "http://127.0.0.1:8080/x", "127.0.0.1:8080/x"},
	} {
		got, err := ParseOIDCIssuer(c.raw, c.allowHTTP)
		if err != nil || got.Issuer != c.issuer || got.URL != c.url {
			t.Errorf("ParseOIDCIssuer(%q) = %+v, %v; want %s, %s", c.raw, got, err, c.issuer, c.url)
		}
	}
	for _, raw := range []string{
		"http://127.0.0.1:8080/x", // not allowed here
		"issuer.example.com",
		"ftp://issuer.example.com",
		"https://",
		"https://user@issuer.example.com",
		"https://issuer.example.com/?a=b",
		"https://issuer.example.com/#frag",
	} {
		_, err := ParseOIDCIssuer(raw, false)
		if e, ok := awserr.As(err); !ok || e.Code != ErrInvalidInput {
			t.Errorf("ParseOIDCIssuer(%q): got %v, want InvalidInput", raw, err)
		}
	}
}

func TestOIDCChecks(t *testing.T) {
	if err := checkThumbprints([]string{"9e99a48a9960b14926bb7f3b02e22da2b0ab7280"}); err != nil {
		t.Errorf("good thumbprint: %v", err)
	}
	for _, bad := range [][]string{{"9e99"}, {"zz99a48a9960b14926bb7f3b02e22da2b0ab7280"}, make([]string, 6)} {
		if err := checkThumbprints(bad); err == nil {
			t.Errorf("thumbprints %q accepted", bad)
		}
	}
	ids, err := checkClientIDs([]string{"a", "b", "a"})
	if err != nil || len(ids) != 2 {
		t.Errorf("client IDs: got %v, %v; want [a b]", ids, err)
	}
	if _, err := checkClientIDs([]string{""}); err == nil {
		t.Error("an empty client ID was accepted")
	}
}
