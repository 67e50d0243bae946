// Package alerts delivers the alerts license configurations raise (a launch or association
// allowed over a soft limit; a machine automated discovery did not associate because it
// breaks the rules or would exceed a hard limit; a machine that stopped reporting and whose
// licenses were released) to the SNS topic an account set with UpdateServiceSettings.
//
// Allot has no SNS: the server maps topic ARNs to HTTP webhooks (--alert-webhook
// TOPIC_ARN=URL#SECRET). An alert is stored with its topic in the transaction that raises it;
// a Deliverer posts pending alerts after they commit, as JSON signed with HMAC-SHA256, and
// marks them delivered. A failed post is retried with exponential backoff; since what is
// pending is stored, a restart resumes. Delivery is at least once: a receiver deduplicates
// by the X-Allot-Alert-Id header.
package alerts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/store"
)

// Headers of a delivery.
const (
	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body under the
	// webhook's secret.
	SignatureHeader = "X-Allot-Signature"
	// IDHeader carries the alert's ID, the same on every attempt.
	IDHeader = "X-Allot-Alert-Id"
)

// Webhook is where one topic's alerts are posted.
type Webhook struct {
	URL    string
	Secret []byte
}

// ParseWebhook parses an --alert-webhook value, TOPIC_ARN=URL#SECRET or TOPIC_ARN=URL#@FILE
// (the secret is FILE's content, trailing newlines removed). The secret is required.
func ParseWebhook(v string, readFile func(string) ([]byte, error)) (topic string, w Webhook, err error) {
	topic, rest, ok := strings.Cut(v, "=")
	if !ok || !strings.HasPrefix(topic, "arn:aws:sns:") {
		return "", w, fmt.Errorf("alerts: webhook %q: want TOPIC_ARN=URL#SECRET with an SNS topic ARN", v)
	}
	i := strings.LastIndex(rest, "#")
	if i < 0 || i == len(rest)-1 {
		return "", w, fmt.Errorf("alerts: webhook for %s: want URL#SECRET or URL#@FILE: a secret is required", topic)
	}
	raw, secret := rest[:i], rest[i+1:]
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", w, fmt.Errorf("alerts: webhook for %s: %q is not an http(s) URL", topic, raw)
	}
	if file, ok := strings.CutPrefix(secret, "@"); ok {
		if readFile == nil {
			readFile = os.ReadFile
		}
		b, err := readFile(file)
		if err != nil {
			return "", w, fmt.Errorf("alerts: webhook secret for %s: %w", topic, err)
		}
		secret = strings.TrimRight(string(b), "\r\n")
		if secret == "" {
			return "", w, fmt.Errorf("alerts: webhook secret file %s for %s is empty", file, topic)
		}
	}
	return topic, Webhook{URL: raw, Secret: []byte(secret)}, nil
}

// Sign returns the SignatureHeader value for body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether sig is body's SignatureHeader value under secret, in constant time.
func Verify(secret, body []byte, sig string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(sig))
}

// Backoff returns how long to wait after the attempts-th failed delivery (1 for the first):
// base doubled for each earlier failure, at most maxWait.
func Backoff(attempts int, base, maxWait time.Duration) time.Duration {
	d := base
	for i := 1; i < attempts; i++ {
		d *= 2
		if d >= maxWait || d <= 0 {
			return maxWait
		}
	}
	return min(d, maxWait)
}

// Payload is the JSON body of a delivery. Kind says what happened: SOFT_LIMIT_EXCEEDED (a
// launch or association allowed over a soft limit), RULE_VIOLATION (a discovered machine
// breaks the configuration's rules, so it was not associated), LIMIT_EXCEEDED (a discovered
// machine would exceed a hard limit, so it was not associated or holds nothing) or
// STALE_INVENTORY (a machine silent for 30 days is inactive and its licenses released);
// Message explains it, naming the configuration and the resource. Consumed and LicenseCount
// are the configuration's counter and count when the alert was raised (0 without a count).
type Payload struct {
	AlertID                 string    `json:"AlertId"`
	AccountID               string    `json:"AccountId"`
	LicenseConfigurationArn string    `json:"LicenseConfigurationArn"`
	Kind                    string    `json:"Kind"`
	Message                 string    `json:"Message"`
	ResourceArn             string    `json:"ResourceArn"`
	Consumed                int64     `json:"Consumed"`
	LicenseCount            int64     `json:"LicenseCount"`
	TopicArn                string    `json:"TopicArn"`
	Time                    time.Time `json:"Time"`
}

// Deliverer posts pending alerts to their topics' webhooks. Set its fields, then call Run.
type Deliverer struct {
	DB *store.DB
	// Webhooks maps SNS topic ARNs to webhooks. An alert whose topic has none is left
	// pending, untouched, so that adding the webhook and restarting delivers it.
	Webhooks map[string]Webhook
	// Client posts; a client with a 10-second timeout when nil.
	Client *http.Client
	// Poll is how often pending alerts are looked for; 1s when zero.
	Poll time.Duration
	// BaseBackoff and MaxBackoff bound the wait after a failure; 1s and 1h when zero.
	BaseBackoff, MaxBackoff time.Duration
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
}

// Run delivers until ctx is done.
func (d *Deliverer) Run(ctx context.Context) {
	poll := d.Poll
	if poll <= 0 {
		poll = time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if err := d.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			d.logger().Warn("alert delivery", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Deliverer) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.Default()
}

// DeliverDue makes one attempt at each alert due, outside any transaction, and records the
// outcome of each in its own.
func (d *Deliverer) DeliverDue(ctx context.Context) error {
	topics := make([]string, 0, len(d.Webhooks))
	for t := range d.Webhooks {
		topics = append(topics, t)
	}
	slices.Sort(topics)
	var due []*store.LicenseAlert
	err := d.DB.View(ctx, func(tx *store.Tx) error {
		var err error
		due, err = tx.PendingLicenseAlerts(ctx, tx.Now(), topics, 100)
		return err
	})
	if err != nil {
		return fmt.Errorf("alerts: read pending: %w", err)
	}
	for _, a := range due {
		if ctx.Err() != nil {
			return nil
		}
		perr := d.post(ctx, a)
		err := d.DB.Update(ctx, func(tx *store.Tx) error {
			if perr == nil {
				return tx.MarkLicenseAlertDelivered(ctx, a.ID, tx.Now())
			}
			base, maxWait := d.BaseBackoff, d.MaxBackoff
			if base <= 0 {
				base = time.Second
			}
			if maxWait <= 0 {
				maxWait = time.Hour
			}
			return tx.RetryLicenseAlert(ctx, a.ID, tx.Now().Add(Backoff(a.DeliveryAttempts+1, base, maxWait)))
		})
		if perr != nil {
			d.logger().Warn("alert not delivered; will retry", "alert", a.ID, "topic", a.TopicARN, "attempt", a.DeliveryAttempts+1, "err", perr)
		}
		if err != nil {
			return fmt.Errorf("alerts: record delivery of %s: %w", a.ID, err)
		}
	}
	return nil
}

func (d *Deliverer) post(ctx context.Context, a *store.LicenseAlert) error {
	w, ok := d.Webhooks[a.TopicARN]
	if !ok {
		return fmt.Errorf("no --alert-webhook for topic %s", a.TopicARN)
	}
	body, err := json.Marshal(Payload{AlertID: a.ID, AccountID: a.AccountID, LicenseConfigurationArn: a.ConfigARN, Kind: a.Kind,
		Message: a.Message, ResourceArn: a.ResourceARN, Consumed: a.Consumed, LicenseCount: a.LicenseCount,
		TopicArn: a.TopicARN, Time: a.CreatedAt.UTC()})
	if err != nil {
		return fmt.Errorf("encode alert: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(w.Secret, body))
	req.Header.Set(IDHeader, a.ID)
	c := d.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("post: %s", resp.Status)
	}
	return nil
}
