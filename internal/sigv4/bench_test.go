package sigv4

import (
	"context"
	"testing"
)

// BenchmarkVerify verifies a License Manager request as the Go SDK sends it (header auth,
// seven signed headers, 17-byte body) with a warm signing-key cache.
func BenchmarkVerify(b *testing.B) {
	r, body := signedLM(b, testAKID, testSecret, "", testNow)
	v := newTestVerifier()
	ctx := context.Background()
	if _, err := v.Verify(ctx, r, body); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, r, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifySession is BenchmarkVerify with session credentials (token compared too).
func BenchmarkVerifySession(b *testing.B) {
	r, body := signedLM(b, testASIA, testASIASec, testToken, testNow)
	v := newTestVerifier()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, r, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyPresigned verifies a presigned STS GetCallerIdentity URL.
func BenchmarkVerifyPresigned(b *testing.B) {
	r, body := presignedSTS(b, testAKID, testSecret, "", testNow, "900")
	v := newTestVerifier()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, r, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyParallel is BenchmarkVerify from all Ps at once (cache and pool contention).
func BenchmarkVerifyParallel(b *testing.B) {
	r, body := signedLM(b, testAKID, testSecret, "", testNow)
	v := newTestVerifier()
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(ctx, r, body); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkVerifyMismatch measures a request whose signature does not match.
func BenchmarkVerifyMismatch(b *testing.B) {
	r, body := signedLM(b, testAKID, "wrong", "", testNow)
	v := newTestVerifier()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, r, body); err == nil {
			b.Fatal("verified with the wrong secret")
		}
	}
}
