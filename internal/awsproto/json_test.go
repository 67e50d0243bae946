package awsproto_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"

	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awsproto"
	"github.com/allot-dev/allot/internal/awstime"
)

// dump renders a value for failure messages.
func dump(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// EntitlementData and CheckoutLicenseInput mirror License Manager's CheckoutLicense input.
type EntitlementData struct {
	Name  *string
	Value *string
	Unit  *string
}

type CheckoutLicenseInput struct {
	ProductSKU     *string
	CheckoutType   *string
	KeyFingerprint *string
	Entitlements   []EntitlementData
	ClientToken    *string
	Beneficiary    *string
	NodeId         *string
}

func checkoutInput() *licensemanager.CheckoutLicenseInput {
	return &licensemanager.CheckoutLicenseInput{
		ProductSKU:     aws.String("sku-1"),
		CheckoutType:   lmtypes.CheckoutTypeProvisional,
		KeyFingerprint: aws.String("aws:294406891311:AWS/Marketplace:issuer-fingerprint"),
		Entitlements: []lmtypes.EntitlementData{
			{Name: aws.String("Users"), Value: aws.String("5"), Unit: lmtypes.EntitlementDataUnitCount},
			{Name: aws.String("Feature \"X\""), Unit: lmtypes.EntitlementDataUnitNone},
		},
		ClientToken: aws.String("token-1"),
		Beneficiary: aws.String("user@example.com"),
		NodeId:      aws.String("node-ü"),
	}
}

func TestDecodeJSON_LicenseManagerCheckoutLicense(t *testing.T) {
	cfg, c := mustServe(t, func(w http.ResponseWriter) {
		awsproto.WriteJSON(w, requestID, nil)
	})
	if _, err := licensemanager.NewFromConfig(cfg).CheckoutLicense(context.Background(), checkoutInput()); err != nil {
		t.Fatalf("CheckoutLicense: %v", err)
	}
	h, body, _ := c.get()
	if got, want := h.Get("X-Amz-Target"), "AWSLicenseManager.CheckoutLicense"; got != want {
		t.Errorf("X-Amz-Target = %q, want %q", got, want)
	}
	var got CheckoutLicenseInput
	if err := awsproto.DecodeJSON(body, &got); err != nil {
		t.Fatalf("DecodeJSON(%s) = %v", body, err)
	}
	want := CheckoutLicenseInput{
		ProductSKU:     aws.String("sku-1"),
		CheckoutType:   aws.String("PROVISIONAL"),
		KeyFingerprint: aws.String("aws:294406891311:AWS/Marketplace:issuer-fingerprint"),
		Entitlements: []EntitlementData{
			{Name: aws.String("Users"), Value: aws.String("5"), Unit: aws.String("Count")},
			{Name: aws.String("Feature \"X\""), Unit: aws.String("None")},
		},
		ClientToken: aws.String("token-1"),
		Beneficiary: aws.String("user@example.com"),
		NodeId:      aws.String("node-ü"),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeJSON(%s)\n got %s\nwant %s", body, dump(got), dump(want))
	}
}

// lmInput has the member types License Manager inputs use.
type lmInput struct {
	Name         *string
	Count        *int64
	Small        *int32
	HardLimit    *bool
	Ratio        *float64
	Rules        []string
	Entitlements []struct {
		Name     *string
		MaxCount *int64
		Overage  *bool
	}
	Validity *struct {
		Begin *awstime.ISO8601
		End   *awstime.ISO8601
	}
	Report *struct {
		Start *awstime.Epoch `json:"reportStartDate"`
	} `json:"ReportContext"`
	Labels map[string]string
	Raw    json.RawMessage
	Any    any
	Number json.Number
}

func TestDecodeJSON_OK(t *testing.T) {
	tests := []struct {
		name string
		body string
		want lmInput
	}{
		{"Empty", "", lmInput{}},
		{"Whitespace", " \n\t ", lmInput{}},
		{"EmptyObject", "{}", lmInput{}},
		{"NullsLeaveUnset", `{"Name":null,"Count":null,"Rules":null,"Entitlements":[{"Name":null}],"Validity":null}`,
			lmInput{Entitlements: []struct {
				Name     *string
				MaxCount *int64
				Overage  *bool
			}{{}}}},
		{"Scalars", `{"Name":"n\u00e9","Count":9007199254740993,"Small":-5,"HardLimit":false,"Ratio":1e2,"Number":1.50}`,
			lmInput{Name: aws.String("né"), Count: aws.Int64(9007199254740993), Small: aws.Int32(-5), HardLimit: aws.Bool(false), Ratio: aws.Float64(100), Number: "1.50"}},
		{"Lists", `{"Rules":[],"Entitlements":[{"Name":"a","MaxCount":3,"Overage":true}]}`,
			lmInput{Rules: []string{}, Entitlements: []struct {
				Name     *string
				MaxCount *int64
				Overage  *bool
			}{{aws.String("a"), aws.Int64(3), aws.Bool(true)}}}},
		{"Times", `{"Validity":{"Begin":"2025-03-01T10:15:00Z","End":"2025-03-01T12:15:00.5+02:00"},"ReportContext":{"reportStartDate":1740823200.25}}`,
			lmInput{
				Validity: &struct {
					Begin *awstime.ISO8601
					End   *awstime.ISO8601
				}{&awstime.ISO8601{Time: time.Date(2025, 3, 1, 10, 15, 0, 0, time.UTC)}, &awstime.ISO8601{Time: time.Date(2025, 3, 1, 10, 15, 0, 500_000_000, time.UTC)}},
				Report: &struct {
					Start *awstime.Epoch `json:"reportStartDate"`
				}{&awstime.Epoch{Time: time.Unix(1740823200, 250_000_000).UTC()}},
			}},
		{"MapRawAny", `{"Labels":{"a":"1"},"Raw":{"x": [1, 2]},"Any":{"n":1}}`,
			lmInput{Labels: map[string]string{"a": "1"}, Raw: json.RawMessage(`{"x": [1, 2]}`), Any: map[string]any{"n": json.Number("1")}}},
		{"DuplicateKeyLastWins", `{"Name":"a","Name":"b"}`, lmInput{Name: aws.String("b")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got lmInput
			if err := awsproto.DecodeJSON([]byte(tt.body), &got); err != nil {
				t.Fatalf("DecodeJSON(%q) = %v", tt.body, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeJSON(%q)\n got %s\nwant %s", tt.body, dump(got), dump(tt.want))
			}
		})
	}
}

func TestDecodeJSON_Errors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string // substring of the message
	}{
		{"Array", `[]`, "Request body must be a JSON object, not a list"},
		{"String", `"x"`, "Request body must be a JSON object, not a string"},
		{"Number", `1`, "Request body must be a JSON object, not a number"},
		{"Null", `null`, "Request body must be a JSON object, not null"},
		{"TrailingObject", `{}{}`, "found more data after byte 2"},
		{"TrailingGarbage", `{} x`, "found more data after byte 2"},
		{"Truncated", `{"Name":`, "Request body is not valid JSON: unexpected end of input"},
		{"BadSyntax", `{"Name" "x"}`, "Request body is not valid JSON: invalid character"},
		{"RawNUL", "{\"Name\":\"a\x00\"}", "Request body is not valid JSON"},
		{"UnknownMember", `{"Foo":1}`, `Unknown member "Foo"`},
		{"UnknownCase", `{"name":"x"}`, `Unknown member "name"`},
		{"UnknownNested", `{"Entitlements":[{"Name":"a"},{"Nope":1}]}`, `Unknown member "Entitlements[1].Nope"`},
		{"UnknownCamelIsland", `{"ReportContext":{"ReportStartDate":1}}`, `Unknown member "ReportContext.ReportStartDate"`},
		{"IntAsFloat", `{"Count":1.0}`, `Value at "Count" must be an integer`},
		{"IntAsString", `{"Count":"5"}`, `Value at "Count" must be an integer`},
		{"IntExponent", `{"Count":1e3}`, `Value at "Count" must be an integer`},
		{"NestedInt", `{"Entitlements":[{"MaxCount":1.5}]}`, `Value at "Entitlements[0].MaxCount" must be an integer`},
		{"IntOverflow", `{"Small":2147483648}`, `Value 2147483648 at "Small" is out of range for an integer`},
		{"StringAsNumber", `{"Name":5}`, `Value at "Name" must be a string`},
		{"BoolAsString", `{"HardLimit":"true"}`, `Value at "HardLimit" must be a boolean`},
		{"ListAsObject", `{"Rules":{}}`, `Value at "Rules" must be a list`},
		{"ListItemType", `{"Rules":["a",1]}`, `Value at "Rules[1]" must be a string`},
		{"StructAsList", `{"Validity":[]}`, `Value at "Validity" must be an object`},
		{"EpochAsString", `{"ReportContext":{"reportStartDate":"2025-03-01T00:00:00Z"}}`, `Value at "ReportContext.reportStartDate" must be a timestamp in epoch seconds`},
		{"ISOAsNumber", `{"Validity":{"Begin":1740823200}}`, `Value at "Validity.Begin" must be an ISO 8601 timestamp string`},
		{"ISOUnparsable", `{"Validity":{"Begin":"tomorrow"}}`, `Value at "Validity.Begin" must be an ISO 8601 timestamp string`},
		{"MapValueType", `{"Labels":{"a":1}}`, `Value at "Labels[a]" must be a string`},
		{"NumberAsString", `{"Number":"1"}`, `Value at "Number" must be a number`},
		{"FloatOverflow", `{"Ratio":1e999}`, `Value 1e999 at "Ratio" is out of range`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v lmInput
			err := awsproto.DecodeJSON([]byte(tt.body), &v)
			e, ok := awserr.As(err)
			if !ok {
				t.Fatalf("DecodeJSON(%q) = %v, want *awserr.Error", tt.body, err)
			}
			if e.Code != "SerializationException" {
				t.Errorf("DecodeJSON(%q) code = %q, want SerializationException", tt.body, e.Code)
			}
			if !strings.Contains(e.Message, tt.want) {
				t.Errorf("DecodeJSON(%q) message = %q, want it to contain %q", tt.body, e.Message, tt.want)
			}
		})
	}
}

func TestDecodeJSON_InvalidUTF8(t *testing.T) {
	var v lmInput
	if err := awsproto.DecodeJSON([]byte("{\"Name\":\"a\xffb\"}"), &v); err != nil {
		t.Fatalf("DecodeJSON(invalid UTF-8) = %v", err)
	}
	if got, want := aws.ToString(v.Name), "a\uFFFDb"; got != want {
		t.Errorf("Name = %q, want %q", got, want)
	}
}

func TestDecodeJSON_ValidatesTarget(t *testing.T) {
	var s lmInput
	for name, v := range map[string]any{"nil": nil, "non-pointer": s, "nil pointer": (*lmInput)(nil)} {
		if err := awsproto.DecodeJSON([]byte("{}"), v); awserr.Code(err) != "InternalFailure" {
			t.Errorf("DecodeJSON(%s) = %v, want InternalFailure", name, err)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"Nil", nil, `{}`},
		{"NilPointer", (*lmInput)(nil), `{}`},
		{"NoHTMLEscape", map[string]string{"a": "<&>"}, `{"a":"<&>"}`},
		{"Epoch", struct {
			T awstime.Epoch
			Z awstime.Epoch `json:",omitzero"`
		}{T: awstime.Epoch{Time: time.Unix(1740823200, 250_000_000)}}, `{"T":1740823200.25}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			awsproto.WriteJSON(w, "rid", tt.v)
			if got, want := w.Code, http.StatusOK; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			if got := w.Body.String(); got != tt.want {
				t.Errorf("body = %s, want %s", got, tt.want)
			}
			checkHeaders(t, w, awsproto.JSONContentType)
		})
	}
}

func TestWriteJSONError(t *testing.T) {
	tests := []struct {
		name       string
		err        *awserr.Error
		wantStatus int
		wantType   string
		wantBody   map[string]string
	}{
		{"Throttle", awserr.New("RateLimitExceededException", "Rate exceeded"), 429, "RateLimitExceededException",
			map[string]string{"__type": "RateLimitExceededException", "message": "Rate exceeded"}},
		{"Fields", &awserr.Error{Code: "RedirectException", Message: "go", Fields: map[string]string{"Location": "https://x", "__type": "Nope", "Message": "other", "Code": "c"}}, 400, "RedirectException",
			map[string]string{"__type": "RedirectException", "message": "go", "Location": "https://x"}},
		{"Server", awserr.New("ServerInternalException", "x"), 500, "ServerInternalException",
			map[string]string{"__type": "ServerInternalException", "message": "x"}},
		{"UnknownCode", awserr.New("SomethingNew", "x"), 400, "SomethingNew",
			map[string]string{"__type": "SomethingNew", "message": "x"}},
		{"Nil", nil, 500, "InternalFailure", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			awsproto.WriteJSONError(w, "rid", tt.err)
			if got := w.Code; got != tt.wantStatus {
				t.Errorf("status = %d, want %d", got, tt.wantStatus)
			}
			if got := w.Header().Get("X-Amzn-ErrorType"); got != tt.wantType {
				t.Errorf("X-Amzn-ErrorType = %q, want %q", got, tt.wantType)
			}
			var body map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %s: %v", w.Body, err)
			}
			if body["__type"] != tt.wantType {
				t.Errorf("__type = %q, want %q", body["__type"], tt.wantType)
			}
			if tt.wantBody != nil && !reflect.DeepEqual(body, tt.wantBody) {
				t.Errorf("body = %v, want %v", body, tt.wantBody)
			}
			checkHeaders(t, w, awsproto.JSONContentType)
		})
	}
}

// checkHeaders checks the headers every response carries.
func checkHeaders(t *testing.T, w *httptest.ResponseRecorder, contentType string) {
	t.Helper()
	if got := w.Header().Get("Content-Type"); got != contentType {
		t.Errorf("Content-Type = %q, want %q", got, contentType)
	}
	if got, want := w.Header().Get("Content-Length"), strconv.Itoa(w.Body.Len()); got != want {
		t.Errorf("Content-Length = %q, want %q", got, want)
	}
	if got := w.Header().Get("X-Amzn-RequestId"); got != "rid" {
		t.Errorf("x-amzn-RequestId = %q, want %q", got, "rid")
	}
}
