package awsproto_test

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awsproto"
	"github.com/allot-dev/allot/internal/awstime"
)

type textValue struct{ s string }

func (t textValue) MarshalText() ([]byte, error) { return []byte("text:" + t.s), nil }

type embedded struct {
	Inner string
}

func TestEncodeXML(t *testing.T) {
	ts := time.Date(2025, 3, 1, 11, 15, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"String", "a<&>\"'\n", `<X>a&lt;&amp;&gt;&#34;&#39;&#xA;</X>`},
		{"InvalidXMLChar", "a\x00b", "<X>a\uFFFDb</X>"},
		{"Bool", false, `<X>false</X>`},
		{"Int", int32(-5), `<X>-5</X>`},
		{"Float", 0.5, `<X>0.5</X>`},
		{"Time", ts, `<X>2025-03-01T10:15:00Z</X>`},
		{"TimeFraction", ts.Add(250 * time.Millisecond), `<X>2025-03-01T10:15:00.25Z</X>`},
		{"Epoch", awstime.Epoch{Time: ts}, `<X>2025-03-01T10:15:00Z</X>`},
		{"ISO", awstime.ISO8601{Time: ts}, `<X>2025-03-01T10:15:00Z</X>`},
		{"TextMarshaler", textValue{"v"}, `<X>text:v</X>`},
		{"Bytes", []byte("hi"), `<X>aGk=</X>`},
		{"NilPointer", (*string)(nil), ``},
		{"Struct", struct {
			A       string
			B       *string
			C       int    `xml:"Renamed"`
			D       string `xml:"-"`
			E       string `xml:",omitempty"`
			F       bool   `xml:",omitempty"`
			G       int
			XMLName xml.Name
			embedded
		}{A: "a", C: 3, D: "d"}, `<X><A>a</A><Renamed>3</Renamed><G>0</G><Inner></Inner></X>`},
		{"Lists", struct {
			Nil       []string
			Empty     []string
			EmptyOmit []string `xml:",omitempty"`
			Strings   []string
			Structs   []struct{ K, V string }
			Explicit  []string `xml:"Wrap>item"`
			Nested    [][]int
		}{
			Empty: []string{}, EmptyOmit: []string{}, Strings: []string{"a", "b"},
			Structs: []struct{ K, V string }{{"k", "v"}}, Explicit: []string{"x"}, Nested: [][]int{{1}, {}},
		}, `<X><Empty/><Strings><member>a</member><member>b</member></Strings>` +
			`<Structs><member><K>k</K><V>v</V></member></Structs><Wrap><item>x</item></Wrap>` +
			`<Nested><member><member>1</member></member><member/></Nested></X>`},
		{"ExplicitMemberEqualsDefault", struct {
			Tags []string `xml:"Tags>member"`
		}{[]string{"t"}}, `<X><Tags><member>t</member></Tags></X>`},
		{"Map", map[string]string{"b": "2", "a": "1"}, `<X><entry><key>a</key><value>1</value></entry><entry><key>b</key><value>2</value></entry></X>`},
		{"Path", struct {
			P string `xml:"Outer>Inner"`
		}{"p"}, `<X><Outer><Inner>p</Inner></Outer></X>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := awsproto.EncodeXML(&b, "X", tt.v); err != nil {
				t.Fatalf("EncodeXML(%#v) = %v", tt.v, err)
			}
			if got := b.String(); got != tt.want {
				t.Errorf("EncodeXML(%#v)\n got %s\nwant %s", tt.v, got, tt.want)
			}
		})
	}
}

func TestEncodeXML_Errors(t *testing.T) {
	type cycle struct{ Next *cycle }
	c := &cycle{}
	c.Next = c
	tests := []struct {
		name string
		v    any
	}{
		{"Chan", struct{ C chan int }{make(chan int)}},
		{"Func", func() {}},
		{"Cycle", c},
		{"IntKeys", map[int]string{1: "a"}},
		{"AttrOption", struct {
			A string `xml:"a,attr"`
		}{"x"}},
		{"BadName", struct {
			A string `xml:"1a"`
		}{"x"}},
		{"Panic", struct{ P *panicker }{&panicker{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := awsproto.EncodeXML(&b, "X", tt.v); err == nil {
				t.Errorf("EncodeXML(%T) = nil, want error (wrote %s)", tt.v, b.String())
			}
		})
	}
}

type panicker struct{}

func (*panicker) MarshalText() ([]byte, error) { panic("boom") }

func TestWriteQuery(t *testing.T) {
	tests := []struct {
		name   string
		result any
		want   string
	}{
		{"Nil", nil, `<DeleteRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DeleteRoleResponse>`},
		{"NilPointer", (*struct{ A string })(nil), `<DeleteRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DeleteRoleResponse>`},
		{"Struct", struct{ A string }{"a"}, `<DeleteRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><DeleteRoleResult><A>a</A></DeleteRoleResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DeleteRoleResponse>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			awsproto.WriteQuery(w, "rid", awsproto.IAMNamespace, "DeleteRole", tt.result)
			if got, want := w.Code, http.StatusOK; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			if got := w.Body.String(); got != tt.want {
				t.Errorf("body\n got %s\nwant %s", got, tt.want)
			}
			checkHeaders(t, w, awsproto.QueryContentType)
		})
	}
}

func TestWriteQuery_BadAction(t *testing.T) {
	w := httptest.NewRecorder()
	awsproto.WriteQuery(w, "rid", awsproto.IAMNamespace, "Get<Role>", nil)
	if got, want := w.Code, http.StatusInternalServerError; got != want {
		t.Errorf("status = %d, want %d", got, want)
	}
	if got := w.Body.String(); strings.Contains(got, "Get<Role>") {
		t.Errorf("body = %s, want the action left out", got)
	}
}

func TestWriteQuery_EncodeFailure(t *testing.T) {
	for name, result := range map[string]any{
		"NotStruct": []string{"a"},
		"Chan":      struct{ C chan int }{make(chan int)},
		"Panic":     struct{ P *panicker }{&panicker{}},
	} {
		t.Run(name, func(t *testing.T) {
			w := httptest.NewRecorder()
			awsproto.WriteQuery(w, "rid", awsproto.STSNamespace, "GetCallerIdentity", result)
			if got, want := w.Code, http.StatusInternalServerError; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			want := `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Receiver</Type><Code>InternalFailure</Code>`
			if got := w.Body.String(); !strings.HasPrefix(got, want) {
				t.Errorf("body = %s, want prefix %s", got, want)
			}
			checkHeaders(t, w, awsproto.QueryContentType)
		})
	}
}

func TestWriteQueryError(t *testing.T) {
	tests := []struct {
		name       string
		err        *awserr.Error
		wantStatus int
		want       string
	}{
		{"Sender", awserr.New("NoSuchEntity", "The role <R> cannot be found."), 404,
			`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>` +
				`<Message>The role &lt;R&gt; cannot be found.</Message></Error><RequestId>rid</RequestId></ErrorResponse>`},
		{"Receiver", awserr.New("ServiceFailure", "x"), 500,
			`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Receiver</Type><Code>ServiceFailure</Code>` +
				`<Message>x</Message></Error><RequestId>rid</RequestId></ErrorResponse>`},
		{"Fields", &awserr.Error{Code: "AccessDenied", Message: "no", Fields: map[string]string{"Z": "1", "A": "&", "Code": "x", "bad name": "y"}}, 403,
			`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>AccessDenied</Code>` +
				`<Message>no</Message><A>&amp;</A><Z>1</Z></Error><RequestId>rid</RequestId></ErrorResponse>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			awsproto.WriteQueryError(w, "rid", awsproto.IAMNamespace, tt.err)
			if got := w.Code; got != tt.wantStatus {
				t.Errorf("status = %d, want %d", got, tt.wantStatus)
			}
			if got := w.Body.String(); got != tt.want {
				t.Errorf("body\n got %s\nwant %s", got, tt.want)
			}
			checkHeaders(t, w, awsproto.QueryContentType)
		})
	}
	for name, e := range map[string]*awserr.Error{"Nil": nil, "NoCode": {Message: "x"}, "BadCode": {Code: "a<b"}} {
		t.Run(name, func(t *testing.T) {
			w := httptest.NewRecorder()
			awsproto.WriteQueryError(w, "rid", awsproto.IAMNamespace, e)
			if got, want := w.Code, http.StatusInternalServerError; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			if got := w.Body.String(); !strings.Contains(got, "<Code>InternalFailure</Code>") {
				t.Errorf("body = %s, want InternalFailure", got)
			}
		})
	}
}

func TestURLEncodePolicy(t *testing.T) {
	tests := []struct {
		doc  string
		want string
	}{
		{`{"Version":"2012-10-17"}`, `%7B%22Version%22%3A%222012-10-17%22%7D`},
		{"a b+c\n", `a%20b%2Bc%0A`},
		{"-_.~*/", `-_.~%2A%2F`},
		{"é", `%C3%A9`},
	}
	for _, tt := range tests {
		got := awsproto.URLEncodePolicy(tt.doc)
		if got != tt.want {
			t.Errorf("URLEncodePolicy(%q) = %q, want %q", tt.doc, got, tt.want)
		}
		if back, err := url.PathUnescape(got); err != nil || back != tt.doc {
			t.Errorf("PathUnescape(%q) = %q, %v; want %q", got, back, err, tt.doc)
		}
	}
}
