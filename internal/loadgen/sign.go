package loadgen

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// Credentials are the keys requests are signed with; SessionToken is set for temporary ones.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

// signer signs the load generator's requests with SigV4. It signs only what the load
// generator sends (POST to "/", no query, a fixed set of headers), which keeps it to two
// SHA-256 sums and one HMAC per request; the derived signing key is cached per day. Safe for
// concurrent use.
type signer struct {
	creds  Credentials
	region string

	mu   sync.Mutex
	day  string // yyyymmdd of key
	keys map[string][sha256.Size]byte
}

func newSigner(c Credentials, region string) *signer {
	return &signer{creds: c, region: region, keys: map[string][sha256.Size]byte{}}
}

// signingKey returns the derived key for service on the day of amzDate.
func (s *signer) signingKey(day, service string) [sha256.Size]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.day != day {
		clear(s.keys)
		s.day = day
	}
	if k, ok := s.keys[service]; ok {
		return k
	}
	k := hmacSHA256([]byte("AWS4"+s.creds.SecretAccessKey), day)
	k = hmacSHA256(k[:], s.region)
	k = hmacSHA256(k[:], service)
	k = hmacSHA256(k[:], "aws4_request")
	s.keys[service] = k
	return k
}

func hmacSHA256(key []byte, msg string) [sha256.Size]byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// header is one signed header, name in lower case.
type header struct{ name, value string }

// sign returns the Authorization header value of a POST to "/" with the given headers (in
// lower-case name order, host and x-amz-date among them) and body.
func (s *signer) sign(buf []byte, service, amzDate string, headers []header, body []byte) (string, []byte) {
	day := amzDate[:8]
	key := s.signingKey(day, service)
	bodySum := sha256.Sum256(body)

	b := append(buf[:0], "POST\n/\n\n"...)
	for _, h := range headers {
		b = append(b, h.name...)
		b = append(b, ':')
		b = append(b, h.value...)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	signedStart := len(b)
	for i, h := range headers {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, h.name...)
	}
	signedEnd := len(b)
	b = append(b, '\n')
	b = hex.AppendEncode(b, bodySum[:])
	creqSum := sha256.Sum256(b)
	signed := string(b[signedStart:signedEnd])

	scope := day + "/" + s.region + "/" + service + "/aws4_request"
	b = append(b[:0], "AWS4-HMAC-SHA256\n"...)
	b = append(b, amzDate...)
	b = append(b, '\n')
	b = append(b, scope...)
	b = append(b, '\n')
	b = hex.AppendEncode(b, creqSum[:])
	mac := hmac.New(sha256.New, key[:])
	mac.Write(b)
	var sig [sha256.Size]byte
	mac.Sum(sig[:0])

	b = append(b[:0], "AWS4-HMAC-SHA256 Credential="...)
	b = append(b, s.creds.AccessKeyID...)
	b = append(b, '/')
	b = append(b, scope...)
	b = append(b, ", SignedHeaders="...)
	b = append(b, signed...)
	b = append(b, ", Signature="...)
	b = hex.AppendEncode(b, sig[:])
	return string(b), b
}

// amzClock formats the signing time, once per second.
type amzClock struct {
	mu   sync.Mutex
	sec  int64
	text string
}

// now returns the current time as X-Amz-Date wants it (yyyymmddTHHMMSSZ).
func (c *amzClock) now() string {
	t := time.Now().UTC()
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := t.Unix(); s != c.sec {
		c.sec, c.text = s, t.Format("20060102T150405Z")
	}
	return c.text
}
