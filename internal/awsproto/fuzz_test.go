package awsproto_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awsproto"
	"github.com/allot-dev/allot/internal/awstime"
)

// fuzzJSON has nested lists, maps, times and numbers.
type fuzzJSON struct {
	Name  *string
	Count *int64
	Small int32
	Flag  *bool
	Ratio float64
	Items []struct {
		Key    string
		Values []int64
		Sub    *struct{ Deep []map[string]*int32 }
	}
	Labels   map[string][]string
	When     *awstime.Epoch
	ISO      *awstime.ISO8601
	Anything any
	Camel    *struct {
		Start *awstime.Epoch `json:"reportStartDate"`
	} `json:"ReportContext"`
}

func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `[]`, `null`, `{"Name":"x","Count":1}`, `{"Count":1.0}`, `{"Count":"5"}`,
		`{"Items":[{"Key":"k","Values":[1,2],"Sub":{"Deep":[{"a":1,"b":null}]}}]}`,
		`{"Labels":{"a":["b"]},"When":1740823200.25,"ISO":"2025-03-01T10:15:00Z"}`,
		`{"ReportContext":{"reportStartDate":-1.5e3}}`, `{"Anything":{"x":[1,{"y":null}]}}`,
		`{"Foo":1}`, `{} {}`, "{\"Name\":\"\xff\"}", `{"When":1e400}`, `{"Small":99999999999}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v fuzzJSON
		err := awsproto.DecodeJSON(body, &v)
		if err == nil {
			return
		}
		if e, ok := awserr.As(err); !ok || e.Code != "SerializationException" || e.Message == "" {
			t.Errorf("DecodeJSON(%q) = %#v, want a SerializationException with a message", body, err)
		}
	})
}

// fuzzQuery has nested lists, maps, structs and times.
type fuzzQuery struct {
	Name   *string
	Count  *int32
	Big    int64
	Flag   bool
	When   *time.Time
	Tags   []struct{ Key, Value string }
	Lists  []struct{ Items []string }
	Attrs  map[string]string
	Nested *struct{ Inner *struct{ Values []int } }
	Lower  []struct {
		ARN string `query:"arn"`
	}
	ISO    *awstime.ISO8601
	Matrix [][]string
}

func FuzzDecodeQuery(f *testing.F) {
	for _, seed := range []string{
		``, `Action=X&Version=1`, `Name=a&Count=5&Flag=true&When=2025-03-01T10:15:00Z`,
		`Tags.member.1.Key=k&Tags.member.1.Value=v&Tags.member.2.Key=k2`,
		`Lists.member.1.Items.member.1=a&Lists.member.1.Items.member.2=b`,
		`Attrs.entry.1.key=a&Attrs.entry.1.value=b`, `Nested.Inner.Values.member.1=3`,
		`Lower.member.1.arn=x`, `Tags=&Lists=`, `Tags.member.0.Key=a`, `Tags.member.3.Key=a`,
		`Matrix.member.1.member.1=x`, `Count=99999999999`, `Foo.Bar=1`, `Name=a&Name=b`,
		`Tags.member.1=x`, `Attrs.entry.1.key=a&Attrs.entry.2.key=a`, `..=.&.a.=b`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, _ := url.ParseQuery(body) // keeps the pairs it could parse
		var v fuzzQuery
		err := awsproto.DecodeQuery(form, &v)
		if err == nil {
			return
		}
		if e, ok := awserr.As(err); !ok || e.Code != "ValidationError" || e.Message == "" {
			t.Errorf("DecodeQuery(%q) = %#v, want a ValidationError with a message", body, err)
		}
	})
}
