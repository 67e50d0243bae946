package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// GenesisHash is the previous-hash of the first record in every chain.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Record is an event as stored: the serialised event, its place in its writer's chain and the
// hash that links it to the record before. The other fields are copies of event fields kept
// for lookups; Verify checks that they agree with Body.
type Record struct {
	ChainID  string
	Seq      int64 // 1 for the first record of a chain
	PrevHash string
	Hash     string
	Body     []byte // the event as JSON, exactly as hashed

	EventID     string
	AccountID   string // recipientAccountId: whose trail the event belongs to
	EventTime   time.Time
	EventName   string
	EventSource string
	Username    string
	AccessKeyID string
	ReadOnly    bool
	Resources   []Resource
}

// Link returns the hash of a record given its chain position, the previous record's hash and
// its body: hex(SHA-256(chainID \n seq \n prevHash \n body)).
func Link(chainID string, seq int64, prevHash string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(chainID))
	h.Write([]byte{'\n'})
	h.Write([]byte(strconv.FormatInt(seq, 10)))
	h.Write([]byte{'\n'})
	h.Write([]byte(prevHash))
	h.Write([]byte{'\n'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// NewRecord serialises ev and returns a record not yet placed in a chain.
func NewRecord(ev *Event) (*Record, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("audit: encode event: %w", err)
	}
	return recordFromEvent(ev, body)
}

func recordFromEvent(ev *Event, body []byte) (*Record, error) {
	t, err := time.Parse(time.RFC3339, ev.EventTime)
	if err != nil {
		return nil, fmt.Errorf("audit: event time %q: %w", ev.EventTime, err)
	}
	username := ev.UserIdentity.UserName
	switch {
	case ev.UserIdentity.Type == "Root":
		username = "root"
	case ev.UserIdentity.SessionContext != nil:
		username = ev.UserIdentity.SessionContext.SessionIssuer.UserName
	}
	return &Record{
		Body:        body,
		EventID:     ev.EventID,
		AccountID:   ev.RecipientAccountID,
		EventTime:   t,
		EventName:   ev.EventName,
		EventSource: ev.EventSource,
		Username:    username,
		AccessKeyID: ev.UserIdentity.AccessKeyID,
		ReadOnly:    ev.ReadOnly,
		Resources:   ev.Resources,
	}, nil
}

// Place puts r at position seq of chain chainID after prevHash and computes its hash.
func (r *Record) Place(chainID string, seq int64, prevHash string) {
	r.ChainID, r.Seq, r.PrevHash = chainID, seq, prevHash
	r.Hash = Link(chainID, seq, prevHash, r.Body)
}

// Event decodes the record's body.
func (r *Record) Event() (*Event, error) {
	var ev Event
	if err := json.Unmarshal(r.Body, &ev); err != nil {
		return nil, fmt.Errorf("audit: decode event %s/%d: %w", r.ChainID, r.Seq, err)
	}
	return &ev, nil
}

// Query selects an account's audit records, as LookupEvents asks for them.
type Query struct {
	AccountID  string    // recipient account; required
	Start, End time.Time // inclusive range on event time; zero = unbounded
	// Attribute is "" or one of EventId, EventName, ReadOnly ("true"/"false"), Username,
	// ResourceType, ResourceName, EventSource, AccessKeyId; Value is what it must equal.
	Attribute string
	Value     string
	Limit     int     // ≥1
	After     *Cursor // continue after this position
}

// Cursor is a position in lookup order: newest event time first, then chain ID
// and sequence number descending.
type Cursor struct {
	Time    time.Time
	ChainID string
	Seq     int64
}
