package test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
	"github.com/go-jose/go-jose/v4"
)

// allot runs the allot binary with args and returns stdout, stderr and the exit code.
func allot(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, allotBin, args...)
	cmd.Env = cleanAWSEnv()
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return out.String(), errb.String(), ee.ExitCode()
	case err != nil:
		t.Fatalf("allot %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), 0
}

// jwks fetches the server's JWKS.
func (s *server) jwks(t *testing.T) jose.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(s.url + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatalf("JWKS is not a key set: %v\n%s", err, b)
	}
	return set
}

func kids(set jose.JSONWebKeySet) []string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	slices.Sort(out)
	return out
}

// verifyWithJWKS verifies a signed token as a product does: with the key of the JWKS its kid
// names. It returns the token's kid.
func verifyWithJWKS(set jose.JSONWebKeySet, token string) (string, error) {
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.PS384})
	if err != nil {
		return "", err
	}
	kid := jws.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	if len(keys) == 0 {
		return kid, fmt.Errorf("no key %q in the JWKS", kid)
	}
	_, err = jws.Verify(keys[0].Key)
	return kid, err
}

type keyRow struct {
	KID, Account, Issuer, Alg, State, Created string
}

// keysList runs `allot keys list --output json` with the storage flags.
func keysList(t *testing.T, storage []string) []keyRow {
	t.Helper()
	stdout, stderr, code := allot(t, append([]string{"keys", "list", "--output", "json"}, storage...)...)
	if code != 0 {
		t.Fatalf("allot keys list: exit %d\n%s", code, stderr)
	}
	var out struct{ Keys []keyRow }
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("allot keys list --output json: %v\n%s", err, stdout)
	}
	return out.Keys
}

// TestKeys_RotateAndRetire rotates a license issuer's key with `allot keys rotate` against the
// data directory of a running server (while it serves requests), sees both keys in the JWKS
// and new checkouts signed with the new one while tokens of the old one still verify offline;
// then `allot keys retire` takes the old key out of the JWKS, so its tokens no longer verify.
func TestKeys_RotateAndRetire(t *testing.T) {
	s := startServer(t, serverOptions{})
	testKeysRotateAndRetire(t, s, []string{"--data-dir", s.dataDir})
}

// TestKeys_Postgres does the same against a server on PostgreSQL.
func TestKeys_Postgres(t *testing.T) {
	dsn := postgresDatabase(t)
	s := startServer(t, serverOptions{database: dsn})
	testKeysRotateAndRetire(t, s, []string{"--data-dir", s.dataDir, "--database", dsn})
}

func testKeysRotateAndRetire(t *testing.T, s *server, storage []string) {
	ctx := context.Background()
	c := lm.NewFromConfig(s.awsConfig(rootKeyID, rootSecret))
	in := newLicenseInput("DM-KEYS", "keys-license")
	in.Validity = &lmtypes.DatetimeRange{Begin: aws.String(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))}
	if _, err := c.CreateLicense(ctx, in); err != nil {
		t.Fatalf("CreateLicense: %v", err)
	}
	checkout := func(n int) string {
		t.Helper()
		out, err := c.CheckoutLicense(ctx, &lm.CheckoutLicenseInput{
			ProductSKU: aws.String("DM-KEYS"), KeyFingerprint: aws.String("aws:" + rootAccount + ":Vendor:issuer-fingerprint"),
			CheckoutType: lmtypes.CheckoutTypeProvisional, Beneficiary: aws.String("customer"),
			Entitlements: []lmtypes.EntitlementData{{Name: aws.String("Seats"), Unit: lmtypes.EntitlementDataUnitCount, Value: aws.String("1")}},
			ClientToken:  aws.String(fmt.Sprint("keys-checkout-", n)),
		})
		if err != nil {
			t.Fatalf("CheckoutLicense: %v", err)
		}
		return aws.ToString(out.SignedToken)
	}
	oldToken := checkout(1)

	keys := keysList(t, storage)
	if len(keys) != 1 || keys[0].State != "current" || keys[0].Account != rootAccount || keys[0].Issuer != "Vendor" || keys[0].Alg != "ES256" {
		t.Fatalf("allot keys list = %+v, want Vendor's current ES256 key", keys)
	}
	oldKID := keys[0].KID
	if got := kids(s.jwks(t)); !slices.Equal(got, []string{oldKID}) {
		t.Fatalf("JWKS = %v, want [%s]", got, oldKID)
	}
	if kid, err := verifyWithJWKS(s.jwks(t), oldToken); err != nil || kid != oldKID {
		t.Fatalf("checkout token: kid %s, %v; want signed by %s", kid, err, oldKID)
	}

	// Rotate from a second process while the server takes writes.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var loadErrs []error
	loadOK := 0
	var mu sync.Mutex
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, err := c.CreateLicense(ctx, newLicenseInput(fmt.Sprint("LOAD-", i), fmt.Sprint("load-", i)))
			mu.Lock()
			if err != nil {
				loadErrs = append(loadErrs, err)
			} else {
				loadOK++
			}
			mu.Unlock()
		}
	})
	stdout, stderr, code := allot(t, append([]string{"keys", "rotate", "--account", rootAccount, "--issuer", "Vendor"}, storage...)...)
	close(stop)
	wg.Wait()
	if code != 0 || !strings.Contains(stdout, "previous: "+oldKID) {
		t.Fatalf("allot keys rotate: exit %d\n%s%s", code, stdout, stderr)
	}
	if len(loadErrs) > 0 || loadOK == 0 {
		t.Errorf("%d API writes succeeded and %d failed while allot keys rotate ran (first error: %v); want all to succeed", loadOK, len(loadErrs), errors.Join(loadErrs...))
	}
	t.Logf("%d API writes while allot keys rotate ran", loadOK)
	var newKID string
	for _, k := range keysList(t, storage) {
		switch {
		case k.KID == oldKID && k.State != "previous":
			t.Errorf("old key %s is %s after rotation, want previous", k.KID, k.State)
		case k.KID != oldKID && k.State == "current" && k.Issuer == "Vendor":
			newKID = k.KID
		}
	}
	if newKID == "" {
		t.Fatalf("no new current key after rotation")
	}
	set := s.jwks(t)
	if got := kids(set); !slices.Equal(got, sorted(oldKID, newKID)) {
		t.Errorf("JWKS after rotation = %v, want both %s and %s", got, oldKID, newKID)
	}
	newToken := checkout(2)
	if kid, err := verifyWithJWKS(set, newToken); err != nil || kid != newKID {
		t.Errorf("checkout after rotation: kid %s, %v; want signed by the new key %s", kid, err, newKID)
	}
	if _, err := verifyWithJWKS(set, oldToken); err != nil {
		t.Errorf("token of the previous key after rotation: %v, want it to verify still", err)
	}

	// The current key cannot be retired; the previous one can.
	_, stderr, code = allot(t, append([]string{"keys", "retire", "--kid", newKID}, storage...)...)
	if code == 0 || !strings.Contains(stderr, "current key") || !strings.Contains(stderr, "rotate") {
		t.Errorf("allot keys retire (current key): exit %d, %s; want a refusal saying to rotate first", code, stderr)
	}
	stdout, stderr, code = allot(t, append([]string{"keys", "retire", "--kid", oldKID}, storage...)...)
	if code != 0 || !strings.Contains(stdout, "Retired key "+oldKID) {
		t.Fatalf("allot keys retire: exit %d\n%s%s", code, stdout, stderr)
	}
	set = s.jwks(t)
	if got := kids(set); !slices.Equal(got, []string{newKID}) {
		t.Errorf("JWKS after retirement = %v, want only %s", got, newKID)
	}
	if _, err := verifyWithJWKS(set, oldToken); err == nil {
		t.Errorf("token of the retired key still verifies against the JWKS")
	}
	if _, err := verifyWithJWKS(set, newToken); err != nil {
		t.Errorf("token of the current key after retirement: %v", err)
	}

	// The table names the states; the audit trail is intact after the second writer.
	stdout, _, code = allot(t, append([]string{"keys", "list", "--issuer", "Vendor"}, storage...)...)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "KID ACCOUNT ISSUER ALG STATE CREATED" ||
		!strings.Contains(stdout, oldKID) || !strings.Contains(stdout, "retired") || !strings.Contains(stdout, "current") {
		t.Errorf("allot keys list (table): exit %d\n%s", code, stdout)
	}
	stdout, stderr, code = allot(t, append([]string{"audit", "verify"}, storage...)...)
	if code != 0 {
		t.Errorf("allot audit verify after the key commands: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestKeys_Errors checks the commands' refusals: missing flags, an issuer without keys, an
// unknown key, and a data directory without a database (nothing is created).
func TestKeys_Errors(t *testing.T) {
	s := startServer(t, serverOptions{})
	dir := []string{"--data-dir", s.dataDir}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"keys", "rotate", "--issuer", "Vendor"}, "--account and --issuer are required"},
		{[]string{"keys", "rotate", "--account", rootAccount, "--issuer", "Nobody"}, `issuer "Nobody" of account ` + rootAccount + " has no key"},
		{[]string{"keys", "rotate", "--account", rootAccount, "--issuer", "Vendor", "--alg", "HS256"}, "want ES256 or PS384"},
		{[]string{"keys", "retire"}, "--kid is required"},
		{[]string{"keys", "retire", "--kid", "no-such-kid"}, "no such issuer key"},
		{[]string{"keys", "list", "--output", "yaml"}, "want table or json"},
	} {
		_, stderr, code := allot(t, append(tc.args, dir...)...)
		if code == 0 || !strings.Contains(stderr, tc.msg) {
			t.Errorf("allot %s: exit %d, %q; want a failure saying %q", strings.Join(tc.args, " "), code, stderr, tc.msg)
		}
	}
	empty := t.TempDir()
	_, stderr, code := allot(t, "keys", "rotate", "--data-dir", empty, "--account", rootAccount, "--issuer", "Vendor")
	if code == 0 || !strings.Contains(stderr, "no database at") {
		t.Errorf("allot keys rotate on an empty directory: exit %d, %s", code, stderr)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("allot keys rotate created %d files in an empty data directory", len(entries))
	}
	stdout, _, code := allot(t, "keys", "--help")
	if code != 0 || !strings.Contains(stdout, "previous") || !strings.Contains(stdout, "retire") || !strings.Contains(stdout, "beside a running server") {
		t.Errorf("allot keys --help: exit %d\n%s", code, stdout)
	}
}
