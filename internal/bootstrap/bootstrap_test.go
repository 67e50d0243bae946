package bootstrap_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/allot-dev/allot/internal/bootstrap"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/store"
	"github.com/allot-dev/allot/internal/store/storetest"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnv(t *testing.T) {
	good := map[string]string{
		bootstrap.EnvAccountID: "123456789012", bootstrap.EnvAccessKeyID: "AKIAEXAMPLEROOT00001",
		bootstrap.EnvSecretAccessKey: "0123456789abcdef0123",
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantNil bool
		wantErr string
	}{
		{"none", map[string]string{}, true, ""},
		{"all", good, false, ""},
		{"only some", with(bootstrap.EnvSecretAccessKey, ""), false, "or none"},
		{"short account", with(bootstrap.EnvAccountID, "12345"), false, "12-digit"},
		{"letters in account", with(bootstrap.EnvAccountID, "12345678901a"), false, "12-digit"},
		{"bad key ID", with(bootstrap.EnvAccessKeyID, "AKIA-NOT-VALID-KEY!"), false, "not an access key ID"},
		{"short secret", with(bootstrap.EnvSecretAccessKey, "short"), false, "at least 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := bootstrap.FromEnv(env(tt.env))
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
			case err != nil:
				t.Errorf("err = %v", err)
			case tt.wantNil != (r == nil):
				t.Errorf("root = %+v, want nil: %v", r, tt.wantNil)
			}
		})
	}
}

func openDB(t *testing.T, path string) *store.DB {
	return storetest.OpenDSN(t, path, storetest.NewBox(t), store.Options{})
}

func TestEnsure(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "allot.db")
	db := openDB(t, path)

	root, created, err := bootstrap.Ensure(ctx, db, nil)
	if err != nil || !created {
		t.Fatalf("first Ensure = %+v, %v, %v", root, created, err)
	}
	if !identity.ValidAccountID(root.AccountID) || !strings.HasPrefix(root.AccessKeyID, "AKIA") || len(root.SecretAccessKey) != 40 {
		t.Errorf("generated root = %+v", root)
	}
	k, err := db.AccessKey(ctx, root.AccessKeyID)
	if err != nil || k.Secret != root.SecretAccessKey || k.Kind != identity.KindRoot || k.Status != "Active" {
		t.Fatalf("stored key = %+v, %v", k, err)
	}

	again, created, err := bootstrap.Ensure(ctx, db, nil)
	if err != nil || created || again.AccountID != root.AccountID || again.SecretAccessKey != "" {
		t.Errorf("second Ensure = %+v, created %v, %v; want the same account, nothing created", again, created, err)
	}

	// Given credentials must match the account; a new key of the same account is added.
	other := &bootstrap.Root{AccountID: "999999999999", AccessKeyID: "AKIAOTHERKEY00000001", SecretAccessKey: "0123456789abcdefghij"}
	if _, _, err := bootstrap.Ensure(ctx, db, other); err == nil || !strings.Contains(err.Error(), root.AccountID) {
		t.Errorf("Ensure with another account: %v, want a refusal naming %s", err, root.AccountID)
	}
	added := &bootstrap.Root{AccountID: root.AccountID, AccessKeyID: "AKIASECONDROOTKEY001", SecretAccessKey: "0123456789abcdefghij"}
	if _, _, err := bootstrap.Ensure(ctx, db, added); err != nil {
		t.Fatalf("Ensure with a new root key: %v", err)
	}
	if k, err := db.AccessKey(ctx, added.AccessKeyID); err != nil || k.AccountID != root.AccountID || k.Kind != identity.KindRoot {
		t.Errorf("added key = %+v, %v", k, err)
	}
	changed := &bootstrap.Root{AccountID: root.AccountID, AccessKeyID: added.AccessKeyID, SecretAccessKey: "another-secret-0123456"}
	if _, _, err := bootstrap.Ensure(ctx, db, changed); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("Ensure with a changed secret: %v, want a refusal", err)
	}

	file, err := bootstrap.WriteCredentialsFile(dir, root)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file %v, %v; want mode 600", fi, err)
	}
	content, _ := os.ReadFile(file)
	for _, want := range []string{"[default]", "aws_access_key_id = " + root.AccessKeyID, "aws_secret_access_key = " + root.SecretAccessKey} {
		if !strings.Contains(string(content), want) {
			t.Errorf("credentials file lacks %q:\n%s", want, content)
		}
	}
}
