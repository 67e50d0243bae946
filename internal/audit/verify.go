package audit

import (
	"bytes"
	"fmt"
	"time"
)

// ChainReport is the result of verifying one chain.
type ChainReport struct {
	ChainID string `json:"chainId"`
	Records int64  `json:"records"`
	Intact  bool   `json:"intact"`
	// BrokenAt is the sequence number of the first record that does not verify; 0 when intact.
	BrokenAt int64  `json:"brokenAt,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

// ChainVerifier checks records of one chain fed to it in sequence order: each record's hash
// covers its body and the hash before it, sequence numbers have no gaps, and the columns kept
// for lookups agree with the body. The zero value is not usable; use NewChainVerifier.
type ChainVerifier struct {
	report ChainReport
	prev   string
	seq    int64
}

// NewChainVerifier returns a verifier for chain id.
func NewChainVerifier(id string) *ChainVerifier {
	return &ChainVerifier{report: ChainReport{ChainID: id, Intact: true}, prev: GenesisHash}
}

// Add checks the next record. After the first broken record the rest are only counted.
func (v *ChainVerifier) Add(r *Record) {
	v.report.Records++
	if !v.report.Intact {
		return
	}
	if problem := v.check(r); problem != "" {
		v.report.Intact = false
		v.report.BrokenAt = r.Seq
		v.report.Problem = problem
	}
	v.prev, v.seq = r.Hash, r.Seq
}

func (v *ChainVerifier) check(r *Record) string {
	if r.Seq != v.seq+1 {
		return fmt.Sprintf("record %d follows record %d: records are missing", r.Seq, v.seq)
	}
	if r.PrevHash != v.prev {
		return fmt.Sprintf("record %d does not link to the record before it", r.Seq)
	}
	if got := Link(r.ChainID, r.Seq, r.PrevHash, r.Body); got != r.Hash {
		return fmt.Sprintf("record %d (event %s) was changed after it was written: its hash does not match its content", r.Seq, r.EventID)
	}
	ev, err := r.Event()
	if err != nil {
		return fmt.Sprintf("record %d: %v", r.Seq, err)
	}
	want, err := recordFromEvent(ev, r.Body)
	if err != nil {
		return fmt.Sprintf("record %d: %v", r.Seq, err)
	}
	if !sameIndex(r, want) {
		return fmt.Sprintf("record %d (event %s): the columns used for lookups were changed and no longer match the event", r.Seq, r.EventID)
	}
	return ""
}

func sameIndex(got, want *Record) bool {
	if got.EventID != want.EventID || got.AccountID != want.AccountID || got.EventName != want.EventName ||
		got.EventSource != want.EventSource || got.Username != want.Username || got.AccessKeyID != want.AccessKeyID ||
		got.ReadOnly != want.ReadOnly || !got.EventTime.Truncate(time.Second).Equal(want.EventTime) {
		return false
	}
	if len(got.Resources) != len(want.Resources) {
		return false
	}
	for i := range got.Resources {
		if got.Resources[i].ARN != want.Resources[i].ARN || got.Resources[i].Type != want.Resources[i].Type {
			return false
		}
	}
	return bytes.Equal(got.Body, want.Body)
}

// Report returns the result so far.
func (v *ChainVerifier) Report() ChainReport { return v.report }
