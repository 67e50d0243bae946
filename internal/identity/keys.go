package identity

import (
	"crypto/rand"
	"encoding/base64"
	"math/big"
	"strings"
)

// Access key ID prefixes, as AWS uses them.
const (
	LongTermKeyPrefix  = "AKIA" // IAM users and root
	TemporaryKeyPrefix = "ASIA" // STS sessions
)

const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// NewAccessKeyID returns a random 20-character access key ID with the given 4-letter prefix.
func NewAccessKeyID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	var sb strings.Builder
	sb.Grow(20)
	sb.WriteString(prefix)
	for _, c := range b {
		sb.WriteByte(keyAlphabet[c%32])
	}
	return sb.String()
}

// NewSecretAccessKey returns a random 40-character secret access key.
func NewSecretAccessKey() string {
	var b [30]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// NewAccountID returns a random 12-digit account ID that does not start with 0.
func NewAccountID() string {
	n, err := rand.Int(rand.Reader, big.NewInt(900_000_000_000))
	if err != nil {
		panic("identity: crypto/rand failed: " + err.Error())
	}
	return big.NewInt(0).Add(n, big.NewInt(100_000_000_000)).String()
}

// ValidAccessKeyID reports whether s looks like an AWS access key ID: 16 to 128 word
// characters.
func ValidAccessKeyID(s string) bool {
	if len(s) < 16 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
