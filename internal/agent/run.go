package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/smithy-go"
)

// Defaults of Agent.
const (
	DefaultInterval  = 30 * time.Minute // between full reports
	DefaultHeartbeat = 5 * time.Minute  // between heartbeats
	maxRetryWait     = 5 * time.Minute  // the longest wait after a failed report
)

// Agent reports one machine to Allot as a managed instance. Not safe for concurrent use: it
// remembers the content hashes the server has acknowledged.
type Agent struct {
	Collector         *Collector
	Client            *Client
	InstanceID        string
	Version           string        // the AgentVersion reported; Version() when empty
	Interval          time.Duration // between full reports in Run; DefaultInterval when 0
	HeartbeatInterval time.Duration // between heartbeats in Run; DefaultHeartbeat when 0, none when negative
	RetryWait         time.Duration // the first wait after a failed report in Run, doubled for each further one; 15 s when 0
	Logger            *slog.Logger  // slog.Default() when nil
	Now               func() time.Time

	acked map[string]string // inventory type → the content hash the server acknowledged
	every time.Duration     // the time between reports Run makes, reported to the server; 0 outside Run
}

// Report is what one report collected and sent.
type Report struct {
	InstanceID string
	Endpoint   string // the server's host[:port]
	Heartbeat  bool   // a heartbeat: unchanged items were sent by hash alone
	Facts      *Facts
	Items      []SentItem
	Message    string // the server's answer
}

// SentItem is one item of a report.
type SentItem struct {
	TypeName    string
	ContentHash string
	Entries     int  // entries of content sent
	HashOnly    bool // sent by its hash alone: the server has this content
}

// Report collects the machine's facts and sends every item with its content.
func (a *Agent) Report(ctx context.Context) (*Report, error) { return a.send(ctx, false) }

// Heartbeat collects the machine's facts and sends them, the items the server already has
// (same content hash as last acknowledged) by their hash alone. If the server refuses a
// heartbeat that has such items, a full report follows at once.
func (a *Agent) Heartbeat(ctx context.Context) (*Report, error) {
	r, err := a.send(ctx, true)
	var ae *APIError
	if errors.As(err, &ae) && r != nil && r.hashOnly() && ae.ErrorFault() == smithy.FaultClient {
		a.logger().Warn("heartbeat refused; sending a full report", "instance_id", a.InstanceID, "error", err)
		return a.send(ctx, false)
	}
	return r, err
}

func (r *Report) hashOnly() bool {
	for _, it := range r.Items {
		if it.HashOnly {
			return true
		}
	}
	return false
}

// send collects the facts and sends them; with heartbeat, acknowledged items go by hash.
// The report is returned with the error when the call was made and failed.
func (a *Agent) send(ctx context.Context, heartbeat bool) (*Report, error) {
	facts, err := a.Collector.Collect(ctx)
	if err != nil {
		return nil, err
	}
	facts.InstanceID = a.InstanceID
	version := a.Version
	if version == "" {
		version = Version()
	}
	items, dropped := Items(facts, a.InstanceID, version, a.every, a.now())
	if len(dropped) > 0 {
		facts.Notes = append(facts.Notes, fmt.Sprintf("%d applications are more than a report may hold (%d bytes): sent without %s",
			len(facts.Applications), MaxApplicationBytes, strings.Join(dropped, ", ")))
	}
	r := &Report{InstanceID: a.InstanceID, Endpoint: a.Client.Host(), Heartbeat: heartbeat, Facts: facts}
	for i := range items {
		it := &items[i]
		s := SentItem{TypeName: it.TypeName, ContentHash: it.ContentHash, Entries: len(it.Content)}
		if heartbeat && a.acked[it.TypeName] == it.ContentHash {
			it.Content, s.Entries, s.HashOnly = nil, 0, true
		}
		r.Items = append(r.Items, s)
	}
	out, err := a.Client.PutInventory(ctx, &PutInventoryInput{InstanceID: a.InstanceID, Items: items})
	if err != nil {
		clear(a.acked) // the server's state is unknown now: the next heartbeat sends content
		return r, err
	}
	if a.acked == nil {
		a.acked = map[string]string{}
	}
	for _, it := range items {
		a.acked[it.TypeName] = it.ContentHash
	}
	r.Message = out.Message
	return r, nil
}

// Run reports at once, then every Interval (with up to a tenth of it as jitter either way),
// and sends a heartbeat every HeartbeatInterval in between, until ctx is done; it then returns nil.
// A failed report is logged and retried as a full report after a growing wait (RetryWait,
// twice that, … up to 5 minutes, or the interval if shorter).
func (a *Agent) Run(ctx context.Context) error {
	log := a.logger().With("instance_id", a.InstanceID)
	interval, beat := a.Interval, a.HeartbeatInterval
	if interval <= 0 {
		interval = DefaultInterval
	}
	if beat == 0 {
		beat = DefaultHeartbeat
	}
	if beat < 0 || beat >= interval {
		beat = 0 // no heartbeats: every report is full
	}
	log.Info("agent started", "endpoint", a.Client.Host(), "interval", interval, "heartbeat", beat)
	a.every = interval
	if beat > 0 {
		a.every = beat
	}
	defer func() { a.every = 0 }()

	retry := a.RetryWait
	if retry <= 0 {
		retry = 15 * time.Second
	}
	nextFull, nextBeat := a.now(), time.Time{}
	failures := 0
	for {
		next := nextFull
		if !nextBeat.IsZero() && nextBeat.Before(next) {
			next = nextBeat
		}
		t := time.NewTimer(max(0, next.Sub(a.now())))
		select {
		case <-ctx.Done():
			t.Stop()
			log.Info("agent stopped")
			return nil
		case <-t.C:
		}

		full := !a.now().Before(nextFull)
		var (
			r   *Report
			err error
		)
		if full {
			r, err = a.Report(ctx)
		} else {
			r, err = a.Heartbeat(ctx)
		}
		now := a.now()
		switch {
		case ctx.Err() != nil:
			log.Info("agent stopped")
			return nil
		case err != nil:
			failures++
			wait := min(retry<<min(failures-1, 10), maxRetryWait, interval)
			log.Error("report failed", "error", err, "retry_in", wait)
			nextFull, nextBeat = now.Add(wait), time.Time{}
			continue
		}
		failures = 0
		attrs := []any{"heartbeat", r.Heartbeat, "cpus", r.Facts.CPU.Logical, "cores", r.Facts.CPU.Cores,
			"sockets", r.Facts.CPU.Sockets, "applications", len(r.Facts.Applications)}
		if r.Message != "" {
			attrs = append(attrs, "message", r.Message)
		}
		if full && len(r.Facts.Notes) > 0 {
			attrs = append(attrs, "notes", r.Facts.Notes)
		}
		var unchanged []string
		for _, it := range r.Items {
			if it.HashOnly {
				unchanged = append(unchanged, it.TypeName)
			}
		}
		if len(unchanged) > 0 {
			attrs = append(attrs, "sent_by_hash", unchanged)
		}
		log.Info("reported", attrs...)
		if full {
			nextFull = now.Add(jitter(interval))
		}
		if beat > 0 {
			nextBeat = now.Add(jitter(beat))
		}
	}
}

// jitter returns d changed by up to a tenth of it, either way, so that many machines
// started together do not report together.
func jitter(d time.Duration) time.Duration {
	span := int64(d / 5)
	if span <= 0 {
		return d
	}
	return d - d/10 + time.Duration(rand.Int64N(span+1))
}

func (a *Agent) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Agent) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}
