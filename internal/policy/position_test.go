package policy

import (
	"strings"
	"testing"
)

// pos is a position without its offset, for tables.
type pos struct{ line, col int }

func (p Position) short() pos { return pos{p.Line, p.Column} }

func TestParse_StatementPositions(t *testing.T) {
	for _, tt := range []struct {
		name string
		doc  string
		want [][2]pos // Start, End of each statement
	}{
		{
			// The AWS CLI's simulate-custom-policy example: one statement object on one line.
			name: "SingleLineObject",
			doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}`,
			want: [][2]pos{{{1, 37}, {1, 166}}},
		},
		{
			name: "SingleLineArray",
			doc:  `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}`,
			want: [][2]pos{{{1, 41}, {1, 102}}, {{1, 105}, {1, 157}}},
		},
		{
			name: "MultiLine",
			doc: "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"*\",\n      \"Resource\": \"*\"\n    },\n" +
				"    {\"Effect\": \"Deny\", \"Action\": \"iam:*\", \"Resource\": \"*\"}\n  ]\n}",
			want: [][2]pos{{{4, 5}, {8, 5}}, {{9, 5}, {9, 58}}},
		},
		{
			name: "CRLFAndTabs",
			doc:  "{\r\n\t\"Version\": \"2012-10-17\",\r\n\t\"Statement\": [\r\n\t\t{\r\n\t\t\t\"Effect\": \"Allow\",\r\n\t\t\t\"Action\": \"*\",\r\n\t\t\t\"Resource\": \"*\"\r\n\t\t}\r\n\t]\r\n}",
			want: [][2]pos{{{4, 3}, {8, 3}}},
		},
		{
			// Columns count characters: "é" is two bytes and one column.
			name: "Latin1",
			doc:  "{\"Statement\":[{\"Sid\":\"caf\u00e9\",\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"},\n{\"Sid\":\"\u00e9\u00e9\",\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\"}]}",
			want: [][2]pos{{{1, 15}, {1, 73}}, {{2, 1}, {2, 56}}},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.doc, KindIdentity)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Statements) != len(tt.want) {
				t.Fatalf("%d statements, want %d", len(d.Statements), len(tt.want))
			}
			for i, s := range d.Statements {
				if got := [2]pos{s.Start.short(), s.End.short()}; got != tt.want[i] {
					t.Errorf("Statement[%d]: Start, End = %v, want %v", i, got, tt.want[i])
				}
				if c := tt.doc[s.Start.Offset]; c != '{' {
					t.Errorf("Statement[%d].Start.Offset %d is at %q, want {", i, s.Start.Offset, c)
				}
				if c := tt.doc[s.End.Offset]; c != '}' {
					t.Errorf("Statement[%d].End.Offset %d is at %q, want }", i, s.End.Offset, c)
				}
				if got := d.PositionAt(s.Start.Offset); got != s.Start {
					t.Errorf("PositionAt(%d) = %+v, want %+v", s.Start.Offset, got, s.Start)
				}
				if got := d.PositionAt(s.End.Offset); got != s.End {
					t.Errorf("PositionAt(%d) = %+v, want %+v", s.End.Offset, got, s.End)
				}
			}
		})
	}
}

func TestDocument_PositionAt(t *testing.T) {
	d, err := Parse("{\"Statement\":\n\r\n{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}\r}", KindIdentity)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		off  int
		want Position
	}{
		{-5, Position{1, 1, 0}},
		{0, Position{1, 1, 0}},
		{13, Position{1, 14, 13}}, // the "\n" ending line 1
		{14, Position{2, 1, 14}},
		{16, Position{3, 1, 16}},  // after "\r\n": one line break, not two
		{61, Position{3, 46, 61}}, // the statement's }
		{62, Position{3, 47, 62}}, // the lone "\r" ending line 3
		{63, Position{4, 1, 63}},
		{1000, Position{4, 2, 64}},
	} {
		if got := d.PositionAt(tt.off); got != tt.want {
			t.Errorf("PositionAt(%d) = %+v, want %+v", tt.off, got, tt.want)
		}
	}
	// Asked backwards, the counter starts again.
	lc := lineCounter{text: d.Text(), line: 1}
	lc.advance(63)
	if got := lc.advance(14); got != (Position{2, 1, 14}) {
		t.Errorf("advance back to 14 = %+v", got)
	}
}

// TestParse_PositionsOfSeedPolicies checks every statement of the seed policies starts at a {
// and ends at the } that closes it.
func TestParse_PositionsOfSeedPolicies(t *testing.T) {
	for _, tt := range []struct {
		doc  string
		kind Kind
	}{
		{seedLicensePermissions, KindIdentity}, {seedLicenseTrust, KindTrust}, {seedDeploymentAssume, KindIdentity},
		{seedBucketPolicy, KindResource}, {benchRolePolicy, KindIdentity},
	} {
		d, err := Parse(tt.doc, tt.kind)
		if err != nil {
			t.Fatal(err)
		}
		prev := -1
		for i, s := range d.Statements {
			text := tt.doc[s.Start.Offset : s.End.Offset+1]
			if s.Start.Offset <= prev || !strings.HasPrefix(text, "{") || !strings.HasSuffix(text, "}") {
				t.Errorf("Statement[%d] spans %q", i, text)
			}
			if _, err := Parse(`{"Statement":`+text+`}`, tt.kind); err != nil {
				t.Errorf("Statement[%d] %q is not one whole statement: %v", i, text, err)
			}
			prev = s.End.Offset
		}
	}
}
