package secrets_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/allot-dev/allot/internal/secrets"
)

func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, secrets.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func mustBox(t testing.TB, key []byte) *secrets.Box {
	t.Helper()
	b, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBox_RoundTrip(t *testing.T) {
	box := mustBox(t, newKey(t))
	for _, plain := range [][]byte{nil, []byte("x"), []byte("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), bytes.Repeat([]byte{0}, 4096)} {
		sealed, err := box.Seal(plain, "access-key:AKIAEXAMPLE")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(sealed, "v1:") {
			t.Fatalf("Seal() = %q, want v1: prefix", sealed)
		}
		if len(plain) > 8 && strings.Contains(sealed, string(plain)) {
			t.Fatalf("sealed value contains the plaintext")
		}
		got, err := box.Open(sealed, "access-key:AKIAEXAMPLE")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("Open() = %q, want %q", got, plain)
		}
	}
}

func TestBox_NonceIsFresh(t *testing.T) {
	box := mustBox(t, newKey(t))
	a, _ := box.Seal([]byte("same"), "c")
	b, _ := box.Seal([]byte("same"), "c")
	if a == b {
		t.Fatalf("two seals of the same value are equal: %q", a)
	}
}

func TestBox_OpenErrors(t *testing.T) {
	box := mustBox(t, newKey(t))
	sealed, err := box.Seal([]byte("secret"), "access-key:A")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, "v1:"))
	raw[len(raw)-1] ^= 1
	tampered := "v1:" + base64.StdEncoding.EncodeToString(raw)

	tests := []struct {
		name    string
		box     *secrets.Box
		sealed  string
		context string
		want    error
	}{
		{"ErrWrongKey", mustBox(t, newKey(t)), sealed, "access-key:A", secrets.ErrDecrypt},
		{"ErrWrongContext", box, sealed, "access-key:B", secrets.ErrDecrypt},
		{"ErrTampered", box, tampered, "access-key:A", secrets.ErrDecrypt},
		{"ErrNoPrefix", box, strings.TrimPrefix(sealed, "v1:"), "access-key:A", secrets.ErrMalformed},
		{"ErrUnknownVersion", box, "v2:" + strings.TrimPrefix(sealed, "v1:"), "access-key:A", secrets.ErrMalformed},
		{"ErrBadBase64", box, "v1:!!!", "access-key:A", secrets.ErrMalformed},
		{"ErrTooShort", box, "v1:AAAA", "access-key:A", secrets.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.box.Open(tt.sealed, tt.context)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open() = %q, %v; want error %v", got, err, tt.want)
			}
		})
	}
}

func TestNew_KeyLength(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := secrets.New(make([]byte, n)); err == nil {
			t.Errorf("New(%d bytes) succeeded, want error", n)
		}
	}
}

func TestBox_Concurrent(t *testing.T) {
	box := mustBox(t, newKey(t))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 200 {
				s, err := box.Seal([]byte{byte(i)}, "c")
				if err != nil {
					t.Error(err)
					return
				}
				if p, err := box.Open(s, "c"); err != nil || p[0] != byte(i) {
					t.Errorf("Open() = %v, %v", p, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestLoadKey_GeneratesOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")
	key, created, err := secrets.LoadKey(dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if !created || len(key) != secrets.KeySize {
		t.Fatalf("LoadKey() = %d bytes, created=%v; want %d bytes, created", len(key), created, secrets.KeySize)
	}
	fi, err := os.Stat(filepath.Join(dir, secrets.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %o, want 600", perm)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := di.Mode().Perm(); perm != 0o700 {
		t.Errorf("data directory mode = %o, want 700", perm)
	}
	again, created, err := secrets.LoadKey(dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if created || !bytes.Equal(again, key) {
		t.Fatalf("second LoadKey() created=%v, same key=%v; want the stored key", created, bytes.Equal(again, key))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data directory holds %d entries, want only %s", len(entries), secrets.KeyFile)
	}
}

func TestLoadKey_ConcurrentGeneration(t *testing.T) {
	dir := t.TempDir()
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, _, err := secrets.LoadKey(dir, "", "")
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for i := range keys {
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("concurrent LoadKey calls returned different keys")
		}
	}
}

func TestLoadKey_Precedence(t *testing.T) {
	dir := t.TempDir()
	fileKey := newKey(t)
	keyFile := filepath.Join(dir, "given.key")
	if err := os.WriteFile(keyFile, []byte(secrets.EncodeKey(fileKey)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	envKey := newKey(t)

	got, created, err := secrets.LoadKey(dir, keyFile, secrets.EncodeKey(envKey))
	if err != nil || created || !bytes.Equal(got, envKey) {
		t.Fatalf("env+file: got env key=%v, created=%v, err=%v; want the env key", bytes.Equal(got, envKey), created, err)
	}
	got, created, err = secrets.LoadKey(dir, keyFile, "")
	if err != nil || created || !bytes.Equal(got, fileKey) {
		t.Fatalf("file: got file key=%v, created=%v, err=%v; want the file's key", bytes.Equal(got, fileKey), created, err)
	}
	if _, err := os.Stat(filepath.Join(dir, secrets.KeyFile)); !os.IsNotExist(err) {
		t.Fatalf("a key was generated although one was given: %v", err)
	}
}

func TestLoadKey_Errors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	tests := []struct {
		name                  string
		dataDir, keyFile, env string
	}{
		{"ErrEnvNotBase64", dir, "", "not base64!"},
		{"ErrEnvShort", dir, "", short},
		{"ErrFileNotBase64", dir, write("bad.key", "%%%"), ""},
		{"ErrFileShort", dir, write("short.key", short), ""},
		{"ErrFileMissing", dir, filepath.Join(dir, "missing.key"), ""},
		{"ErrNothingGiven", "", "", ""},
		{"ErrDataDirIsAFile", write("notadir", "x"), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if key, _, err := secrets.LoadKey(tt.dataDir, tt.keyFile, tt.env); err == nil {
				t.Fatalf("LoadKey(%q, %q, %q) = %d bytes, want error", tt.dataDir, tt.keyFile, tt.env, len(key))
			}
		})
	}
	// A corrupt generated key is reported, never silently replaced.
	corrupt := t.TempDir()
	os.WriteFile(filepath.Join(corrupt, secrets.KeyFile), []byte("garbage"), 0o600)
	if _, _, err := secrets.LoadKey(corrupt, "", ""); err == nil {
		t.Fatal("LoadKey with a corrupt master.key succeeded, want error")
	}
}

func TestDecodeKey_Forms(t *testing.T) {
	key := newKey(t)
	for _, s := range []string{
		base64.StdEncoding.EncodeToString(key),
		base64.RawStdEncoding.EncodeToString(key),
		"  " + base64.StdEncoding.EncodeToString(key) + "\n",
	} {
		got, err := secrets.DecodeKey(s)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("DecodeKey(%q) = %v; want the key", s, err)
		}
	}
}
