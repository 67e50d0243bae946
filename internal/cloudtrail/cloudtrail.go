// Package cloudtrail implements CloudTrail's LookupEvents over Allot's audit trail, so that
// `aws cloudtrail lookup-events` shows an account's API calls.
package cloudtrail

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awstime"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/pagetoken"
)

// Error codes LookupEvents returns.
const (
	ErrInvalidLookupAttributes = "InvalidLookupAttributesException"
	ErrInvalidTimeRange        = "InvalidTimeRangeException"
	ErrInvalidMaxResults       = "InvalidMaxResultsException"
	ErrInvalidNextToken        = "InvalidNextTokenException"
	ErrInvalidEventCategory    = "InvalidEventCategoryException"
)

// Retention is how far back LookupEvents looks when no start time is given, as in CloudTrail.
const Retention = 90 * 24 * time.Hour

// Store is what the service needs from storage.
type Store interface {
	LookupAudit(ctx context.Context, q audit.Query) ([]*audit.Record, *audit.Cursor, error)
}

// Service answers CloudTrail operations. Safe for concurrent use.
type Service struct {
	Store Store
	Now   func() time.Time
}

// LookupAttribute is one lookup condition.
type LookupAttribute struct {
	AttributeKey   *string
	AttributeValue *string
}

// LookupEventsInput is the input of LookupEvents.
type LookupEventsInput struct {
	LookupAttributes []LookupAttribute
	StartTime        *awstime.Epoch
	EndTime          *awstime.Epoch
	EventCategory    *string
	MaxResults       *int32
	NextToken        *string
}

// Event is an event as LookupEvents returns it.
type Event struct {
	EventID         string        `json:"EventId"`
	EventName       string        `json:"EventName"`
	ReadOnly        string        `json:"ReadOnly"`
	AccessKeyID     string        `json:"AccessKeyId,omitempty"`
	EventTime       awstime.Epoch `json:"EventTime"`
	EventSource     string        `json:"EventSource"`
	Username        string        `json:"Username,omitempty"`
	Resources       []Resource    `json:"Resources"`
	CloudTrailEvent string        `json:"CloudTrailEvent"`
}

// Resource is a resource an event touched.
type Resource struct {
	ResourceType string `json:"ResourceType,omitempty"`
	ResourceName string `json:"ResourceName,omitempty"`
}

// LookupEventsOutput is the output of LookupEvents.
type LookupEventsOutput struct {
	Events    []Event `json:"Events"`
	NextToken *string `json:"NextToken,omitempty"`
}

var attributeKeys = map[string]bool{
	"EventId": true, "EventName": true, "ReadOnly": true, "Username": true, "ResourceType": true,
	"ResourceName": true, "EventSource": true, "AccessKeyId": true,
}

// cursor is the position a NextToken stands for, bound to the query it continues.
type cursor struct {
	Time    int64  `json:"t"`
	ChainID string `json:"c"`
	Seq     int64  `json:"s"`
	Query   string `json:"q"`
}

// LookupEvents returns the caller's account's events, newest first, matching at most one
// lookup attribute within a time range (the last 90 days by default). Errors:
// InvalidLookupAttributesException, InvalidTimeRangeException, InvalidMaxResultsException,
// InvalidNextTokenException, InvalidEventCategoryException.
func (s *Service) LookupEvents(ctx context.Context, caller *identity.Principal, in *LookupEventsInput) (*LookupEventsOutput, error) {
	now := s.now()
	q := audit.Query{AccountID: caller.AccountID, Limit: 50}

	if len(in.LookupAttributes) > 1 {
		return nil, awserr.New(ErrInvalidLookupAttributes, "You cannot specify more than one lookup attribute.")
	}
	if len(in.LookupAttributes) == 1 {
		a := in.LookupAttributes[0]
		if a.AttributeKey == nil || !attributeKeys[*a.AttributeKey] {
			return nil, awserr.New(ErrInvalidLookupAttributes, "Lookup attribute key %q is not valid; valid keys are EventId, EventName, ReadOnly, Username, ResourceType, ResourceName, EventSource and AccessKeyId.", deref(a.AttributeKey))
		}
		if a.AttributeValue == nil || *a.AttributeValue == "" || len(*a.AttributeValue) > 2000 {
			return nil, awserr.New(ErrInvalidLookupAttributes, "Lookup attribute value must be 1 to 2000 characters long.")
		}
		q.Attribute, q.Value = *a.AttributeKey, *a.AttributeValue
	}
	if in.EventCategory != nil && *in.EventCategory != "insight" {
		return nil, awserr.New(ErrInvalidEventCategory, "Event category %q is not valid; the only category is insight.", *in.EventCategory)
	}
	if in.EventCategory != nil {
		// Allot records management events only; there are no Insights events to return.
		return &LookupEventsOutput{Events: []Event{}}, nil
	}
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			return nil, awserr.New(ErrInvalidMaxResults, "MaxResults must be between 1 and 50.")
		}
		q.Limit = int(*in.MaxResults)
	}
	q.Start, q.End = now.Add(-Retention), now
	if in.StartTime != nil {
		q.Start = in.StartTime.Time
	}
	if in.EndTime != nil {
		q.End = in.EndTime.Time
	}
	if q.Start.After(q.End) {
		return nil, awserr.New(ErrInvalidTimeRange, "The start time %s is after the end time %s.", audit.FormatTime(q.Start), audit.FormatTime(q.End))
	}

	fingerprint := fingerprintOf(caller.AccountID, in)
	if in.NextToken != nil {
		var c cursor
		if err := pagetoken.Decode(*in.NextToken, &c); err != nil || c.Query != fingerprint {
			return nil, awserr.New(ErrInvalidNextToken, "The NextToken is not valid for this query; repeat the first request without it.")
		}
		q.After = &audit.Cursor{Time: time.Unix(0, c.Time).UTC(), ChainID: c.ChainID, Seq: c.Seq}
	}

	recs, next, err := s.Store.LookupAudit(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("cloudtrail: lookup events: %w", err)
	}
	out := &LookupEventsOutput{Events: make([]Event, 0, len(recs))}
	for _, r := range recs {
		out.Events = append(out.Events, eventOf(r))
	}
	if next != nil {
		tok := pagetoken.Encode(cursor{Time: next.Time.UnixNano(), ChainID: next.ChainID, Seq: next.Seq, Query: fingerprint})
		out.NextToken = &tok
	}
	return out, nil
}

func eventOf(r *audit.Record) Event {
	ev := Event{
		EventID:         r.EventID,
		EventName:       r.EventName,
		ReadOnly:        fmt.Sprint(r.ReadOnly),
		AccessKeyID:     r.AccessKeyID,
		EventTime:       awstime.Epoch{Time: r.EventTime},
		EventSource:     r.EventSource,
		Username:        r.Username,
		Resources:       []Resource{},
		CloudTrailEvent: string(r.Body),
	}
	for _, res := range r.Resources {
		ev.Resources = append(ev.Resources, Resource{ResourceType: res.Type, ResourceName: res.ARN})
	}
	return ev
}

// fingerprintOf identifies the query a token belongs to, so that a token cannot be replayed
// against other filters or by another account. Defaults (the time range) are left out: they
// move with the clock between pages.
func fingerprintOf(accountID string, in *LookupEventsInput) string {
	var start, end int64
	if in.StartTime != nil {
		start = in.StartTime.UnixNano()
	}
	if in.EndTime != nil {
		end = in.EndTime.UnixNano()
	}
	var key, value string
	if len(in.LookupAttributes) == 1 {
		key, value = deref(in.LookupAttributes[0].AttributeKey), deref(in.LookupAttributes[0].AttributeValue)
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s|%d|%d|%s|%s", accountID, start, end, key, value))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
