package loadgen

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/secrets"
	"github.com/allot-dev/allot/internal/store"
)

// measureCeilings measures the in-process baselines into b.
func measureCeilings(ctx context.Context, cfg Config, b *Baselines) error {
	rate, batch, dialect, err := StoreCeiling(ctx, cfg.Ceiling, 64)
	if err != nil {
		return err
	}
	b.StoreWritesPerSec, b.StoreBatch, b.StoreDialect = rate, batch, dialect
	if b.SignsPerSec, err = SigningCeiling(ctx, cfg.KeyAlg, cfg.Ceiling.Duration); err != nil {
		return err
	}
	b.SignAlg = cfg.KeyAlg
	return nil
}

// StoreCeiling measures the store's durable group-commit rate in process, as
// internal/store's BenchmarkUpdate does: goroutines concurrent Update calls for
// cfg.Duration, each inserting a small row and an audit event of a checkout's size and
// waiting until it is durable. It opens a temporary SQLite database in cfg.Dir, or the
// scratch database cfg.Database (a table of its own is made there and dropped after). It
// returns writes per second, the mean requests per transaction and the dialect.
func StoreCeiling(ctx context.Context, cfg CeilingConfig, goroutines int) (rate, batch float64, dialect string, err error) {
	// A fixed master key: the scratch database holds no secret, and a second run can reuse it.
	key := sha256.Sum256([]byte("allot bench ceiling"))
	box, err := secrets.New(key[:])
	if err != nil {
		return 0, 0, "", err
	}
	dsn := cfg.Database
	if dsn == "" {
		dir, err := os.MkdirTemp(cfg.Dir, "allot-bench-ceiling-")
		if err != nil {
			return 0, 0, "", fmt.Errorf("loadgen: store ceiling: %w", err)
		}
		defer os.RemoveAll(dir)
		dsn = filepath.Join(dir, "ceiling.db")
	}
	db, err := store.Open(ctx, dsn, store.Options{Box: box, Logger: slog.New(slog.DiscardHandler), Writers: cfg.Writers, NodeID: "allot-bench-ceiling"})
	if err != nil {
		return 0, 0, "", fmt.Errorf("loadgen: store ceiling: %w", err)
	}
	defer db.Close()
	table := "allot_bench_ceiling_" + randomID(8)
	if err := db.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `CREATE TABLE `+table+` (id BIGINT PRIMARY KEY, payload TEXT NOT NULL)`)
		return err
	}); err != nil {
		return 0, 0, "", fmt.Errorf("loadgen: store ceiling: %w", err)
	}
	defer db.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		_, err := tx.Exec(ctx, `DROP TABLE `+table)
		return err
	})
	payload := strings.Repeat("x", 200)
	params, _ := json.Marshal(map[string]any{"productSKU": "BENCH", "checkoutType": "PROVISIONAL",
		"keyFingerprint": "aws:123456789012:AllotBench:issuer-fingerprint", "clientToken": uuid.NewString(),
		"entitlements": []map[string]string{{"name": "Seats", "unit": "Count", "value": "1"}}, "beneficiary": "allot-bench"})
	before := db.WriteStats()
	var seq, done atomic.Int64
	var firstErr error
	var once sync.Once
	deadline := time.Now().Add(cfg.Duration)
	start := time.Now()
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				id := seq.Add(1)
				p := audit.NewPending(ceilingEvent(params))
				err := db.Update(audit.WithPending(ctx, p), func(tx *store.Tx) error {
					_, err := tx.Exec(ctx, `INSERT INTO `+table+` (id, payload) VALUES (?, ?)`, id, payload)
					return err
				})
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return 0, 0, "", fmt.Errorf("loadgen: store ceiling: %w", firstErr)
	}
	after := db.WriteStats()
	if txs := after.Transactions - before.Transactions; txs > 0 {
		batch = float64(after.Requests-before.Requests) / float64(txs)
	}
	return float64(done.Load()) / elapsed.Seconds(), batch, db.Dialect(), nil
}

// ceilingEvent is an audit event of the size a CheckoutLicense call records.
func ceilingEvent(params json.RawMessage) audit.Event {
	const account = "123456789012"
	return audit.Event{
		EventVersion: audit.EventVersion,
		UserIdentity: audit.UserIdentity{Type: "AssumedRole", PrincipalID: "AROAEXAMPLE:bench", ARN: "arn:aws:sts::" + account + ":assumed-role/bench/bench",
			AccountID: account, AccessKeyID: "ASIAEXAMPLE"},
		EventTime: audit.FormatTime(time.Now()), EventSource: "license-manager.amazonaws.com", EventName: "CheckoutLicense",
		AWSRegion: "us-east-1", SourceIPAddress: "127.0.0.1", UserAgent: "allot-bench",
		RequestParameters: params, ResponseElements: json.RawMessage("null"),
		RequestID: uuid.NewString(), EventID: uuid.NewString(), EventType: "AwsApiCall", ManagementEvent: true,
		RecipientAccountID: account, EventCategory: "Management",
	}
}

// SigningCeiling measures how many checkout tokens per second alg (ES256 or PS384, on the key
// sizes Allot's issuer keys have) signs in process on every core, for d.
func SigningCeiling(ctx context.Context, alg string, d time.Duration) (float64, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case AlgPS384:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		alg = AlgES256
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return 0, fmt.Errorf("loadgen: signing ceiling: %w", err)
	}
	payload, _ := json.Marshal(map[string]any{
		"iss": "aws:123456789012:AllotBench:issuer-fingerprint", "sub": "allot-bench", "iat": time.Now().Unix(), "nbf": time.Now().Unix(),
		"exp": time.Now().Add(time.Hour).Unix(), "jti": strings.Repeat("a", 32),
		"licenseArn": "arn:aws:license-manager::123456789012:license:l-" + strings.Repeat("b", 32), "productSKU": "BENCH",
		"productName": "Allot bench", "issuerName": "AllotBench", "checkoutType": "PROVISIONAL", "nodeId": "bench-node-1",
		"entitlements": []map[string]string{{"Name": "Seats", "Unit": "Count", "Value": "1"}},
	})
	var n atomic.Int64
	var firstErr error
	var once sync.Once
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jose.JSONWebKey{Key: priv, KeyID: "bench", Algorithm: alg}},
				(&jose.SignerOptions{}).WithType("JWT"))
			for err == nil && time.Now().Before(deadline) && ctx.Err() == nil {
				var jws *jose.JSONWebSignature
				if jws, err = s.Sign(payload); err == nil {
					_, err = jws.CompactSerialize()
				}
				if err == nil {
					n.Add(1)
				}
			}
			if err != nil {
				once.Do(func() { firstErr = err })
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, fmt.Errorf("loadgen: signing ceiling: %w", firstErr)
	}
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}
