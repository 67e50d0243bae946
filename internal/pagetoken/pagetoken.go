// Package pagetoken makes the opaque pagination tokens (NextToken, Marker) that list
// operations return, from any JSON-encodable position.
package pagetoken

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrInvalid is returned (wrapped) by Decode for a token it did not make; match it
// with errors.Is and answer with the service's own code (InvalidNextTokenException,
// InvalidParameterValueException, ValidationError, …).
var ErrInvalid = errors.New("pagetoken: invalid pagination token")

// tokenPrefix marks the token format version.
const tokenPrefix = "AT1"

// tokenSumLen is the length of the checksum appended to the payload.
const tokenSumLen = 8

// Encode makes an opaque pagination token (NextToken, Marker) from a JSON-encodable
// position value. The token is URL-safe and stable across restarts and servers. It is not
// secret and not signed: it only detects tokens that were not made here or were damaged, so
// the position it carries must be re-checked against the caller's own query.
func Encode(v any) string {
	payload, err := json.Marshal(v)
	if err != nil {
		// Positions are plain values; failing to encode one is a programming error.
		panic(fmt.Sprintf("pagetoken: cannot encode pagination position %T: %v", v, err))
	}
	sum := sha256.Sum256(append([]byte(tokenPrefix), payload...))
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(append(payload, sum[:tokenSumLen]...))
}

// Decode reads a token made by Encode into v (a pointer). Any other string, the empty
// one included, fails with an error wrapping ErrInvalid.
func Decode(s string, v any) error {
	rest, ok := bytes.CutPrefix([]byte(s), []byte(tokenPrefix))
	if !ok {
		return ErrInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(string(rest))
	if err != nil || len(raw) <= tokenSumLen {
		return ErrInvalid
	}
	payload, got := raw[:len(raw)-tokenSumLen], raw[len(raw)-tokenSumLen:]
	want := sha256.Sum256(append([]byte(tokenPrefix), payload...))
	if !bytes.Equal(got, want[:tokenSumLen]) {
		return ErrInvalid
	}
	if err := json.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}
