package test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	_ "modernc.org/sqlite"
)

// trailEvent is the part of a CloudTrail record the tests look at.
type trailEvent struct {
	EventVersion string `json:"eventVersion"`
	UserIdentity struct {
		Type        string `json:"type"`
		PrincipalID string `json:"principalId"`
		ARN         string `json:"arn"`
		AccountID   string `json:"accountId"`
		AccessKeyID string `json:"accessKeyId"`
	} `json:"userIdentity"`
	EventTime          string          `json:"eventTime"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	SourceIPAddress    string          `json:"sourceIPAddress"`
	UserAgent          string          `json:"userAgent"`
	ErrorCode          string          `json:"errorCode"`
	ErrorMessage       string          `json:"errorMessage"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	RequestID          string          `json:"requestID"`
	EventID            string          `json:"eventID"`
	EventType          string          `json:"eventType"`
	RecipientAccountID string          `json:"recipientAccountId"`
}

// makeCalls makes two good GetCallerIdentity calls and one with a wrong secret.
func makeCalls(t *testing.T, s *server) {
	t.Helper()
	ctx := context.Background()
	for range 2 {
		if _, err := sts.NewFromConfig(s.awsConfig(rootKeyID, rootSecret)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("GetCallerIdentity: %v", err)
		}
	}
	if _, err := sts.NewFromConfig(s.awsConfig(rootKeyID, wrongSecret)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil {
		t.Fatal("GetCallerIdentity with a wrong secret succeeded")
	}
}

// lookupAll pages through LookupEvents for one event name with the SDK.
func lookupAll(t *testing.T, s *server, eventName string, pageSize int32) []trailEvent {
	t.Helper()
	client := cloudtrail.NewFromConfig(s.awsConfig(rootKeyID, rootSecret))
	in := &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(eventName)}},
		MaxResults:       aws.Int32(pageSize),
	}
	var events []trailEvent
	pages := 0
	for p := cloudtrail.NewLookupEventsPaginator(client, in); p.HasMorePages(); {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("LookupEvents: %v", err)
		}
		pages++
		if len(page.Events) > int(pageSize) {
			t.Fatalf("page of %d events, asked for at most %d", len(page.Events), pageSize)
		}
		for _, e := range page.Events {
			var ev trailEvent
			if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &ev); err != nil {
				t.Fatalf("CloudTrailEvent is not JSON: %v", err)
			}
			if aws.ToString(e.EventName) != ev.EventName || aws.ToString(e.EventId) != ev.EventID || e.EventTime == nil {
				t.Errorf("summary %s/%s disagrees with the record %s/%s", aws.ToString(e.EventName), aws.ToString(e.EventId), ev.EventName, ev.EventID)
			}
			events = append(events, ev)
		}
		if pages > 100 {
			t.Fatal("LookupEvents keeps returning NextToken")
		}
	}
	return events
}

func TestLookupEvents_ShowsCallsIncludingFailures(t *testing.T) {
	s := startServer(t, serverOptions{})
	makeCalls(t, s)

	events := lookupAll(t, s, "GetCallerIdentity", 1) // one per page: exercises NextToken
	if len(events) != 3 {
		t.Fatalf("got %d GetCallerIdentity events, want 3: %+v", len(events), events)
	}
	var ok, failed int
	for i, ev := range events {
		if i > 0 && ev.EventTime > events[i-1].EventTime {
			t.Errorf("events not newest first: %s after %s", ev.EventTime, events[i-1].EventTime)
		}
		if ev.EventSource != "sts.amazonaws.com" || ev.EventType != "AwsApiCall" || ev.AWSRegion != region ||
			ev.RecipientAccountID != rootAccount || ev.UserIdentity.Type != "Root" ||
			ev.UserIdentity.ARN != "arn:aws:iam::"+rootAccount+":root" || ev.UserIdentity.AccessKeyID != rootKeyID ||
			ev.SourceIPAddress != "127.0.0.1" || !strings.Contains(ev.UserAgent, "aws-sdk-go-v2") || ev.RequestID == "" {
			t.Errorf("event %d does not describe the call: %+v", i, ev)
		}
		switch ev.ErrorCode {
		case "":
			ok++
		case "SignatureDoesNotMatch":
			failed++
			if !strings.Contains(ev.ErrorMessage, signatureMismatch) {
				t.Errorf("failed event's message = %q", ev.ErrorMessage)
			}
		default:
			t.Errorf("unexpected errorCode %q", ev.ErrorCode)
		}
	}
	if ok != 2 || failed != 1 {
		t.Errorf("got %d successful and %d failed events, want 2 and 1", ok, failed)
	}

	// The LookupEvents calls themselves are recorded too.
	if got := lookupAll(t, s, "LookupEvents", 50); len(got) == 0 {
		t.Error("LookupEvents calls are not in the trail")
	}
}

func TestLookupEvents_AWSCLI(t *testing.T) {
	s := startServer(t, serverOptions{})
	makeCalls(t, s)
	for name, path := range awsCLIs(t) {
		t.Run(name, func(t *testing.T) {
			bin := requireTool(t, "AWS CLI "+name, path)
			stdout, stderr, code := s.cli(t, bin, rootKeyID, rootSecret, "cloudtrail", "lookup-events",
				"--lookup-attributes", "AttributeKey=EventName,AttributeValue=GetCallerIdentity")
			if code != 0 {
				t.Fatalf("aws cloudtrail lookup-events: exit %d\n%s", code, stderr)
			}
			var out struct {
				Events []struct {
					EventName, CloudTrailEvent, Username string
				}
			}
			if err := json.Unmarshal([]byte(stdout), &out); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, stdout)
			}
			codes := map[string]int{}
			for _, e := range out.Events {
				var ev trailEvent
				if err := json.Unmarshal([]byte(e.CloudTrailEvent), &ev); err != nil {
					t.Fatalf("CloudTrailEvent: %v", err)
				}
				if e.EventName != "GetCallerIdentity" || e.Username != "root" {
					t.Errorf("event %+v: want GetCallerIdentity by root", e)
				}
				codes[ev.ErrorCode]++
			}
			if codes[""] != 2 || codes["SignatureDoesNotMatch"] != 1 {
				t.Errorf("error codes of the events = %v, want 2 successes and 1 SignatureDoesNotMatch", codes)
			}
		})
	}
}

func TestLookupEvents_BadInput(t *testing.T) {
	s := startServer(t, serverOptions{})
	client := cloudtrail.NewFromConfig(s.awsConfig(rootKeyID, rootSecret))
	ctx := context.Background()
	now := time.Now()
	tests := []struct {
		name string
		in   *cloudtrail.LookupEventsInput
		want string
	}{
		{"two attributes", &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
			{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("a")},
			{AttributeKey: cttypes.LookupAttributeKeyUsername, AttributeValue: aws.String("b")},
		}}, "InvalidLookupAttributesException"},
		{"unknown attribute", &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
			{AttributeKey: "Color", AttributeValue: aws.String("a")}}}, "InvalidLookupAttributesException"},
		{"start after end", &cloudtrail.LookupEventsInput{StartTime: aws.Time(now), EndTime: aws.Time(now.Add(-time.Hour))}, "InvalidTimeRangeException"},
		{"max results 0", &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(0)}, "InvalidMaxResultsException"},
		{"max results 51", &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)}, "InvalidMaxResultsException"},
		{"forged token", &cloudtrail.LookupEventsInput{NextToken: aws.String("bm90LWEtdG9rZW4")}, "InvalidNextTokenException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.LookupEvents(ctx, tt.in)
			if got := errorCode(err); got != tt.want {
				t.Errorf("got %v, want %s", err, tt.want)
			}
		})
	}
}

func TestAuditVerify_DetectsEditedEvent(t *testing.T) {
	s := startServer(t, serverOptions{})
	makeCalls(t, s)

	// verify runs beside the live server.
	out, code := auditVerify(t, s.dataDir)
	if code != 0 || !strings.Contains(out, "intact") {
		t.Fatalf("audit verify on an untouched trail: exit %d\n%s", code, out)
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("SIGTERM: exit %d, want 0", code)
	}

	db, err := sql.Open("sqlite", filepath.Join(s.dataDir, "allot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE audit_events SET body = replace(body, '"errorCode":"SignatureDoesNotMatch"', '"errorCode":"Nothing"') WHERE body LIKE '%SignatureDoesNotMatch%'`)
	if err != nil {
		t.Fatalf("edit the trail: %v", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("edited %d events, want 1", n)
	}
	db.Close()

	out, code = auditVerify(t, s.dataDir)
	if code != 1 || !strings.Contains(out, "BROKEN") || !strings.Contains(out, "changed after it was written") {
		t.Errorf("audit verify after an edit: exit %d, want 1 and a BROKEN chain\n%s", code, out)
	}
}

func auditVerify(t *testing.T, dataDir string) (string, int) {
	t.Helper()
	cmd := exec.Command(allotBin, "audit", "verify", "--data-dir", dataDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		t.Fatalf("allot audit verify: %v", err)
	}
	return string(out), 0
}
