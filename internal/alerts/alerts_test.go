package alerts

import (
	"errors"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	body := []byte(`{"AlertId":"a"}`)
	sig := Sign([]byte("k"), body)
	// openssl dgst -sha256 -hmac k
	if sig != "sha256=05c5228e34c1ebbb084aadeee6827e4b007baa2d4f621813e8457c44b0400362" {
		t.Fatalf("Sign = %q", sig)
	}
	if !Verify([]byte("k"), body, sig) {
		t.Error("Verify rejects its own signature")
	}
	if Verify([]byte("other"), body, sig) || Verify([]byte("k"), []byte(`{"AlertId":"b"}`), sig) || Verify([]byte("k"), body, "") {
		t.Error("Verify accepts a wrong key, body or empty signature")
	}
}

func TestBackoff(t *testing.T) {
	for _, c := range []struct {
		attempts int
		want     time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {10, 512 * time.Second}, {13, time.Hour}, {200, time.Hour}} {
		if got := Backoff(c.attempts, time.Second, time.Hour); got != c.want {
			t.Errorf("Backoff(%d) = %v, want %v", c.attempts, got, c.want)
		}
	}
}

func TestParseWebhook(t *testing.T) {
	const topic = "arn:aws:sns:us-east-1:123456789012:aws-license-manager-service-x"
	got, w, err := ParseWebhook(topic+"=https://h.example/a?b=c#sec#ret", nil)
	if err != nil || got != topic || w.URL != "https://h.example/a?b=c#sec" || string(w.Secret) != "ret" {
		t.Errorf("ParseWebhook = %q %+v %v", got, w, err)
	}
	read := func(name string) ([]byte, error) {
		if name == "/s" {
			return []byte("fromfile\n"), nil
		}
		return nil, errors.New("no such file")
	}
	if _, w, err := ParseWebhook(topic+"=http://h/#@/s", read); err != nil || string(w.Secret) != "fromfile" {
		t.Errorf("secret file: %+v %v", w, err)
	}
	for _, bad := range []string{"", topic, topic + "=http://h/", topic + "=http://h/#", "x=http://h/#s", topic + "=ftp://h/#s", topic + "=http://h/#@/missing"} {
		if _, _, err := ParseWebhook(bad, read); err == nil {
			t.Errorf("ParseWebhook(%q) accepted", bad)
		}
	}
}
