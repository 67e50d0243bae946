package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"sync"
)

// keyCacheSize bounds the number of derived signing keys a Verifier keeps. A key is valid for
// one (secret, day, region, service), so an active deployment needs a handful per access key
// per day; the bound only matters against a flood of distinct scopes.
const keyCacheSize = 4096

// cacheKey identifies one derived signing key. The secret is part of the key so that a
// rotated or re-issued secret never reuses a stale derived key.
type cacheKey struct {
	secret, date, region, service string
}

// keyCache is a bounded, concurrency-safe map from scope to derived signing key. When full it
// evicts an arbitrary entry: Go's randomised map iteration makes that a random eviction, which
// is good enough for a cache whose entries all expire with the day anyway.
type keyCache struct {
	mu  sync.RWMutex
	m   map[cacheKey][sha256.Size]byte
	max int
}

// init prepares the cache to hold at most max keys.
func (c *keyCache) init(max int) {
	c.m = make(map[cacheKey][sha256.Size]byte)
	c.max = max
}

// get returns the signing key for the scope, deriving and caching it on a miss.
func (c *keyCache) get(secret, date, region, service string) [sha256.Size]byte {
	k := cacheKey{secret, date, region, service}
	c.mu.RLock()
	key, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return key
	}
	key = deriveSigningKey(secret, date, region, service)
	// Clone the strings: date, region and service point into the request's headers.
	k = cacheKey{strings.Clone(secret), strings.Clone(date), strings.Clone(region), strings.Clone(service)}
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[cacheKey][sha256.Size]byte)
	}
	if c.max <= 0 {
		c.max = keyCacheSize
	}
	if _, present := c.m[k]; !present && len(c.m) >= c.max {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = key
	c.mu.Unlock()
	return key
}

// len reports the number of cached keys.
func (c *keyCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// deriveSigningKey computes kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region),
// service), "aws4_request").
func deriveSigningKey(secret, date, region, service string) [sha256.Size]byte {
	k := hmacSum([]byte("AWS4"+secret), date)
	k = hmacSum(k, region)
	k = hmacSum(k, service)
	k = hmacSum(k, terminator)
	var out [sha256.Size]byte
	copy(out[:], k)
	return out
}

// hmacSum returns HMAC-SHA256(key, msg).
func hmacSum(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// hmacInPlace returns HMAC-SHA256(key, msg) where buf is 64 spare bytes followed by msg; it
// overwrites the spare bytes with the inner pad so that the inner hash needs no copy or
// allocation. The key is a derived signing key (32 bytes, shorter than the block size).
func hmacInPlace(key *[sha256.Size]byte, buf []byte) [sha256.Size]byte {
	const blockSize = sha256.BlockSize
	pad := buf[:blockSize]
	for i := range pad {
		pad[i] = 0x36
	}
	for i, b := range key {
		pad[i] ^= b
	}
	inner := sha256.Sum256(buf)

	var outer [blockSize + sha256.Size]byte
	for i := range blockSize {
		outer[i] = 0x5c
	}
	for i, b := range key {
		outer[i] ^= b
	}
	copy(outer[blockSize:], inner[:])
	return sha256.Sum256(outer[:])
}
