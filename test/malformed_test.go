package test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	lm "github.com/aws/aws-sdk-go-v2/service/licensemanager"
	lmtypes "github.com/aws/aws-sdk-go-v2/service/licensemanager/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// malformedClient sends raw requests and never waits forever: a hung handler fails the
// case instead of the whole run.
var malformedClient = &http.Client{Timeout: time.Minute}

// rawReply is what a raw request got back: status, error code and message in the
// protocol's shape, and the body.
type rawReply struct {
	status        int
	code, message string
	headerCode    string
	requestID     string
	body          []byte
}

// sendJSON sends a JSON 1.1 request signed with the root key and parses its error, if any.
func sendJSON(t *testing.T, s *server, service, target string, body []byte) rawReply {
	t.Helper()
	resp, err := malformedClient.Do(signedRequest(t, s, service, target, "application/x-amz-json-1.1", body))
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := rawReply{status: resp.StatusCode, body: raw, headerCode: resp.Header.Get("X-Amzn-Errortype"), requestID: resp.Header.Get("X-Amzn-Requestid")}
	if resp.StatusCode != http.StatusOK {
		var e jsonError
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatalf("%s: HTTP %d with a body that is not a JSON error: %.300s", target, resp.StatusCode, raw)
		}
		r.code, r.message = e.Type, e.Message
	}
	return r
}

// ec2ErrorResponse is EC2's error envelope.
type ec2ErrorResponse struct {
	XMLName xml.Name `xml:"Response"`
	Errors  []struct {
		Code, Message string
	} `xml:"Errors>Error"`
	RequestID string `xml:"RequestID"`
}

// sendEC2 sends an EC2 Query request (a form body) signed for ec2 with the root key and
// parses its error, if any.
func sendEC2(t *testing.T, s *server, body string) rawReply {
	t.Helper()
	resp, err := malformedClient.Do(signedRequest(t, s, "ec2", "", "application/x-www-form-urlencoded; charset=utf-8", []byte(body)))
	if err != nil {
		t.Fatalf("EC2 %.100s: %v", body, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := rawReply{status: resp.StatusCode, body: raw}
	if resp.StatusCode != http.StatusOK {
		var e ec2ErrorResponse
		if err := xml.Unmarshal(raw, &e); err != nil || len(e.Errors) != 1 {
			t.Fatalf("EC2 %.100s: HTTP %d with a body that is not EC2's <Response><Errors><Error>: %.300s", body, resp.StatusCode, raw)
		}
		r.code, r.message, r.requestID = e.Errors[0].Code, e.Errors[0].Message, e.RequestID
	}
	return r
}

// checkJSONError fails unless r is a 4xx JSON 1.1 error with code want, a message, the
// X-Amzn-ErrorType header and a request ID.
func checkJSONError(t *testing.T, r rawReply, want string) {
	t.Helper()
	if r.status < 400 || r.status > 499 {
		t.Fatalf("HTTP %d %s (%.200s), want a 4xx %s", r.status, r.code, r.message, want)
	}
	if r.code != want || r.message == "" || r.headerCode != want || r.requestID == "" {
		t.Errorf("HTTP %d __type %q (header %q) message %.200q request ID %q, want %s with a message and a request ID",
			r.status, r.code, r.headerCode, r.message, r.requestID, want)
	}
}

// checkEC2Error fails unless r is a 4xx EC2 error with code want, a message and a request ID.
func checkEC2Error(t *testing.T, r rawReply, want string) {
	t.Helper()
	if r.status < 400 || r.status > 499 {
		t.Fatalf("HTTP %d %s (%.200s), want a 4xx %s", r.status, r.code, r.message, want)
	}
	if r.code != want || r.message == "" || r.requestID == "" {
		t.Errorf("HTTP %d code %q message %.200q request ID %q, want %s with a message and a request ID", r.status, r.code, r.message, r.requestID, want)
	}
}

// Member kinds, for the wrong-type cases.
const (
	kString = "string"
	kList   = "list"
	kObject = "object"
	kInt    = "integer"
	kTime   = "timestamp"
	kMap    = "map"
)

// wrongValues are JSON values of every other type than a member of the kind expects.
var wrongValues = map[string][]string{
	kString: {`12`, `["x"]`, `{}`, `true`},
	kList:   {`{}`, `"x"`, `1`, `[1]`},
	kObject: {`[]`, `"x"`, `1`, `false`},
	kInt:    {`"5"`, `5.5`, `true`, `[]`, `2147483648`, `-2147483649`, `1e3`},
	kTime:   {`"2026-01-01T00:00:00Z"`, `true`, `{}`, `[]`},
	kMap:    {`[]`, `"x"`, `{"k":1}`},
}

// jsonOp is one JSON 1.1 operation under test: how to reach it, its members' kinds and the
// cases its own rules refuse.
type jsonOp struct {
	service, target string
	members         map[string]string // top-level member → kind
	nested          []string          // bodies with a wrongly typed nested member
	cases           []jsonCase
}

type jsonCase struct {
	name, body, code string
}

// bigString is a JSON string of n copies of c.
func bigString(c string, n int) string { return `"` + strings.Repeat(c, n) + `"` }

// bigList is a JSON list of n copies of item.
func bigList(item string, n int) string {
	return "[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]"
}

// TestMalformed_JSON sends every JSON 1.1 operation of self-managed licensing, the
// extensions and the Systems Manager subset bodies that are not JSON, not an object, of the
// wrong types, with unknown members, over the size limits, and with out-of-range paging:
// each gets a 4xx error in JSON 1.1's shape with the operation's code, and no create or
// update writes anything.
func TestMalformed_JSON(t *testing.T) {
	s := startServer(t, serverOptions{})
	ctx := context.Background()
	cfg := s.awsConfig(rootKeyID, rootSecret)
	lmc, ec2c, ssmc := lm.NewFromConfig(cfg), ec2.NewFromConfig(cfg), ssm.NewFromConfig(cfg)

	conf, err := lmc.CreateLicenseConfiguration(ctx, &lm.CreateLicenseConfigurationInput{Name: aws.String("malformed"),
		LicenseCountingType: lmtypes.LicenseCountingTypeVcpu, LicenseCount: aws.Int64(10), LicenseCountHardLimit: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	confARN := aws.ToString(conf.LicenseConfigurationArn)
	img, err := ec2c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("malformed")})
	if err != nil {
		t.Fatal(err)
	}
	run, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: img.ImageId, InstanceType: ec2types.InstanceTypeM5Large, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	instanceARN := "arn:aws:ec2:" + region + ":" + rootAccount + ":instance/" + aws.ToString(run.Instances[0].InstanceId)
	gen, err := lmc.CreateLicenseManagerReportGenerator(ctx, &lm.CreateLicenseManagerReportGeneratorInput{
		ReportGeneratorName: aws.String("kept"), Type: []lmtypes.ReportType{lmtypes.ReportTypeLicenseConfigurationSummaryReport},
		ReportContext:   &lmtypes.ReportContext{LicenseConfigurationArns: []string{confARN}},
		ReportFrequency: &lmtypes.ReportFrequency{Period: lmtypes.ReportFrequencyTypeDay, Value: aws.Int32(1)},
		ClientToken:     aws.String("malformed-1")})
	if err != nil {
		t.Fatal(err)
	}
	genARN := aws.ToString(gen.LicenseManagerReportGeneratorArn)
	const mi = "mi-0123456789abcdef0"
	if _, err := ssmc.PutInventory(ctx, &ssm.PutInventoryInput{InstanceId: aws.String(mi), Items: []ssmtypes.InventoryItem{{
		TypeName: aws.String("Custom:Malformed"), SchemaVersion: aws.String("1.0"), CaptureTime: aws.String("2026-01-02T03:04:05Z"),
		Content: []map[string]string{{"Colour": "blue"}}}}}); err != nil {
		t.Fatal(err)
	}

	garbageToken := `"not-a-token"`
	longToken := bigString("Q", 200_000)
	validItem := `{"TypeName":"Custom:Malformed","SchemaVersion":"1.0","CaptureTime":"2026-01-02T03:04:05Z","Content":[{"Colour":"red"}]}`
	item := func(members string) string {
		return `{"InstanceId":"` + mi + `","Items":[{"TypeName":"Custom:Malformed","SchemaVersion":"1.0","CaptureTime":"2026-01-02T03:04:05Z"` + members + `}]}`
	}
	rgDef := func(extra string) string {
		return `{"ReportGeneratorName":"x","Type":["LicenseConfigurationSummaryReport"],"ReportContext":{"licenseConfigurationArns":["` + confARN +
			`"]},"ReportFrequency":{"period":"DAY","value":1},"ClientToken":"t-2"` + extra + `}`
	}
	rgUpd := func(extra string) string {
		return strings.Replace(rgDef(extra), `{`, `{"LicenseManagerReportGeneratorArn":"`+genARN+`",`, 1)
	}

	ops := []jsonOp{
		{service: "license-manager", target: "AWSLicenseManager.CreateLicenseManagerReportGenerator",
			members: map[string]string{"ReportGeneratorName": kString, "Type": kList, "ReportContext": kObject, "ReportFrequency": kObject, "ClientToken": kString, "Description": kString, "Tags": kList},
			nested: []string{`{"ReportContext":{"licenseConfigurationArns":"x"}}`, `{"ReportContext":{"reportStartDate":"yesterday"}}`,
				`{"ReportFrequency":{"value":"1"}}`, `{"ReportFrequency":{"period":1}}`, `{"Tags":[{"Key":1}]}`, `{"Type":[1]}`,
				`{"ReportContext":{"LicenseConfigurationArns":[]}}`, `{"ReportFrequency":{"Value":1}}`},
			cases: []jsonCase{
				{"NameTooLong", strings.Replace(rgDef(""), `"ReportGeneratorName":"x"`, `"ReportGeneratorName":`+bigString("n", 101), 1), "ValidationException"},
				{"NameHuge", strings.Replace(rgDef(""), `"ReportGeneratorName":"x"`, `"ReportGeneratorName":`+bigString("n", 300_000), 1), "ValidationException"},
				{"ClientTokenTooLong", strings.Replace(rgDef(""), `"ClientToken":"t-2"`, `"ClientToken":`+bigString("t", 37), 1), "ValidationException"},
				{"DescriptionHuge", rgDef(`,"Description":` + bigString("d", 300_000)), "InvalidParameterValueException"},
				{"TypesMany", strings.Replace(rgDef(""), `["LicenseConfigurationSummaryReport"]`, bigList(`"LicenseConfigurationSummaryReport"`, 10_000), 1), "InvalidParameterValueException"},
				{"ArnsMany", strings.Replace(rgDef(""), `["`+confARN+`"]`, bigList(`"`+confARN+`"`, 5_000), 1), "InvalidParameterValueException"},
				{"ArnHuge", strings.Replace(rgDef(""), `"`+confARN+`"`, bigString("a", 300_000), 1), "ValidationException"},
				{"TagsMany", rgDef(`,"Tags":` + bigList(`{"Key":"k","Value":"v"}`, 10_000)), "ValidationException"},
				{"TagKeyHuge", rgDef(`,"Tags":[{"Key":` + bigString("k", 300_000) + `,"Value":"v"}]`), "ValidationException"},
				{"ValueNegative", strings.Replace(rgDef(""), `"value":1`, `"value":-1`, 1), "InvalidParameterValueException"},
				{"ValueZero", strings.Replace(rgDef(""), `"value":1`, `"value":0`, 1), "InvalidParameterValueException"},
				{"PeriodUnknown", strings.Replace(rgDef(""), `"DAY"`, `"FORTNIGHT"`, 1), "ValidationException"},
				{"StartAfterEnd", strings.Replace(rgDef(""), `"]}`, `"],"reportStartDate":1900000000,"reportEndDate":1800000000}`, 1), "InvalidParameterValueException"},
				{"StartOutOfRange", strings.Replace(rgDef(""), `"]}`, `"],"reportStartDate":1e300}`, 1), "SerializationException"},
			}},
		{service: "license-manager", target: "AWSLicenseManager.GetLicenseManagerReportGenerator",
			members: map[string]string{"LicenseManagerReportGeneratorArn": kString},
			cases: []jsonCase{
				{"ArnHuge", `{"LicenseManagerReportGeneratorArn":` + bigString("a", 300_000) + `}`, "ValidationException"},
				{"ArnGarbage", `{"LicenseManagerReportGeneratorArn":"garbage"}`, "ValidationException"},
				{"ArnMissing", `{}`, "ValidationException"},
			}},
		{service: "license-manager", target: "AWSLicenseManager.ListLicenseManagerReportGenerators",
			members: map[string]string{"Filters": kList, "MaxResults": kInt, "NextToken": kString},
			nested:  []string{`{"Filters":[{"Name":1}]}`, `{"Filters":[{"Values":"x"}]}`, `{"Filters":[{"Name":"LicenseConfigurationArn","Values":[1]}]}`},
			cases: []jsonCase{
				{"MaxResultsZero", `{"MaxResults":0}`, "ValidationException"},
				{"MaxResultsNegative", `{"MaxResults":-1}`, "ValidationException"},
				{"MaxResultsTooMany", `{"MaxResults":101}`, "ValidationException"},
				{"NextTokenGarbage", `{"NextToken":` + garbageToken + `}`, "InvalidParameterValueException"},
				{"NextTokenHuge", `{"NextToken":` + longToken + `}`, "InvalidParameterValueException"},
				{"FilterUnknown", `{"Filters":[{"Name":"Colour","Values":["x"]}]}`, "InvalidParameterValueException"},
				{"FiltersMany", `{"Filters":` + bigList(`{"Name":"LicenseConfigurationArn","Values":["`+confARN+`"]}`, 5_000) + `}`, "InvalidParameterValueException"},
			}},
		{service: "license-manager", target: "AWSLicenseManager.UpdateLicenseManagerReportGenerator",
			members: map[string]string{"LicenseManagerReportGeneratorArn": kString, "ReportGeneratorName": kString, "Type": kList, "ReportContext": kObject, "ReportFrequency": kObject, "ClientToken": kString, "Description": kString},
			nested:  []string{`{"ReportContext":{"licenseConfigurationArns":{}}}`, `{"ReportFrequency":{"value":true}}`},
			cases: []jsonCase{
				{"ArnGarbage", `{"LicenseManagerReportGeneratorArn":"garbage"}`, "ValidationException"},
				{"NameHuge", strings.Replace(rgUpd(""), `"ReportGeneratorName":"x"`, `"ReportGeneratorName":`+bigString("n", 300_000), 1), "ValidationException"},
				{"DescriptionHuge", rgUpd(`,"Description":` + bigString("d", 300_000)), "InvalidParameterValueException"},
				{"ArnsMany", strings.Replace(rgUpd(""), `["`+confARN+`"]`, bigList(`"`+confARN+`"`, 5_000), 1), "InvalidParameterValueException"},
				{"ValueNegative", strings.Replace(rgUpd(""), `"value":1`, `"value":-1`, 1), "InvalidParameterValueException"},
				{"TagsNotAMember", rgUpd(`,"Tags":[]`), "SerializationException"},
			}},
		{service: "license-manager", target: "AWSLicenseManager.DeleteLicenseManagerReportGenerator",
			members: map[string]string{"LicenseManagerReportGeneratorArn": kString},
			cases: []jsonCase{
				{"ArnHuge", `{"LicenseManagerReportGeneratorArn":` + bigString("a", 300_000) + `}`, "ValidationException"},
				{"ArnGarbage", `{"LicenseManagerReportGeneratorArn":"garbage"}`, "ValidationException"},
				{"ArnOfConfiguration", `{"LicenseManagerReportGeneratorArn":"` + confARN + `"}`, "InvalidParameterValueException"},
			}},
		{service: "license-manager", target: "AWSLicenseManager.ListLicenseConfigurationsForOrganization",
			members: map[string]string{"LicenseConfigurationArns": kList, "MaxResults": kInt, "NextToken": kString, "Filters": kList},
			nested:  []string{`{"Filters":[{"Name":["x"]}]}`, `{"LicenseConfigurationArns":[{}]}`},
			cases: []jsonCase{
				{"MaxResultsZero", `{"MaxResults":0}`, "InvalidParameterValueException"},
				{"MaxResultsNegative", `{"MaxResults":-7}`, "InvalidParameterValueException"},
				{"NextTokenGarbage", `{"NextToken":` + garbageToken + `}`, "InvalidParameterValueException"},
				{"NextTokenHuge", `{"NextToken":` + longToken + `}`, "InvalidParameterValueException"},
				{"ArnsMany", `{"LicenseConfigurationArns":` + bigList(`"garbage"`, 10_000) + `}`, "InvalidParameterValueException"},
				{"ArnHuge", `{"LicenseConfigurationArns":[` + bigString("a", 300_000) + `]}`, "InvalidParameterValueException"},
				{"FilterUnknown", `{"Filters":[{"Name":"colour","Values":["x"]}]}`, "InvalidParameterValueException"},
			}},
		{service: "license-manager", target: "AWSLicenseManager.ListResourceInventory",
			members: map[string]string{"MaxResults": kInt, "NextToken": kString, "Filters": kList},
			nested:  []string{`{"Filters":[{"Name":1}]}`, `{"Filters":[{"Name":"platform","Condition":["EQUALS"]}]}`, `{"Filters":[{"Value":{}}]}`},
			cases: []jsonCase{
				{"MaxResultsZero", `{"MaxResults":0}`, "InvalidParameterValueException"},
				{"MaxResultsNegative", `{"MaxResults":-1}`, "InvalidParameterValueException"},
				{"NextTokenGarbage", `{"NextToken":` + garbageToken + `}`, "InvalidParameterValueException"},
				{"FilterNameUnknown", `{"Filters":[{"Name":"colour","Condition":"EQUALS","Value":"x"}]}`, "InvalidParameterValueException"},
				{"FilterConditionUnknown", `{"Filters":[{"Name":"platform","Condition":"RESEMBLES","Value":"x"}]}`, "InvalidParameterValueException"},
				{"FilterNoCondition", `{"Filters":[{"Name":"platform","Value":"x"}]}`, "InvalidParameterValueException"},
				// The model bounds neither a filter's value nor the number of filters with one name.
				{"FilterValueHuge", `{"Filters":[{"Name":"platform","Condition":"EQUALS","Value":` + bigString("v", 300_000) + `}]}`, ""},
				{"FiltersMany", `{"Filters":` + bigList(`{"Name":"platform","Condition":"EQUALS","Value":"x"}`, 5_000) + `}`, "FilterLimitExceededException"},
			}},
		{service: "license-manager", target: "AWSLicenseManager.UpdateLicenseSpecificationsForResource",
			members: map[string]string{"ResourceArn": kString, "AddLicenseSpecifications": kList, "RemoveLicenseSpecifications": kList},
			nested: []string{`{"ResourceArn":"` + instanceARN + `","AddLicenseSpecifications":[{"LicenseConfigurationArn":1}]}`,
				`{"ResourceArn":"` + instanceARN + `","AddLicenseSpecifications":["` + confARN + `"]}`,
				`{"ResourceArn":"` + instanceARN + `","AddLicenseSpecifications":[{"LicenseConfigurationArn":"` + confARN + `","AmiAssociationScope":{}}]}`},
			cases: []jsonCase{
				{"ResourceArnMissing", `{"AddLicenseSpecifications":[{"LicenseConfigurationArn":"` + confARN + `"}]}`, "InvalidParameterValueException"},
				{"ResourceArnGarbage", `{"ResourceArn":"garbage","AddLicenseSpecifications":[{"LicenseConfigurationArn":"` + confARN + `"}]}`, "InvalidParameterValueException"},
				{"ResourceArnHuge", `{"ResourceArn":` + bigString("a", 300_000) + `,"AddLicenseSpecifications":[{"LicenseConfigurationArn":"` + confARN + `"}]}`, "InvalidParameterValueException"},
				{"AddArnGarbage", `{"ResourceArn":"` + instanceARN + `","AddLicenseSpecifications":[{"LicenseConfigurationArn":"garbage"}]}`, "InvalidParameterValueException"},
				{"AddArnMissing", `{"ResourceArn":"` + instanceARN + `","AddLicenseSpecifications":[{}]}`, "InvalidParameterValueException"},
				{"AddMany", `{"ResourceArn":"` + instanceARN + `","AddLicenseSpecifications":` + bigList(`{"LicenseConfigurationArn":"`+confARN+`"}`, 5_000) + `}`, "InvalidParameterValueException"},
				{"AddThenGarbage", `{"ResourceArn":"` + instanceARN + `","AddLicenseSpecifications":[{"LicenseConfigurationArn":"` + confARN + `"},{"LicenseConfigurationArn":"garbage"}]}`, "InvalidParameterValueException"},
			}},
		{service: "license-manager", target: "AWSLicenseManager.ListLicenseSpecificationsForResource",
			members: map[string]string{"ResourceArn": kString, "MaxResults": kInt, "NextToken": kString},
			cases: []jsonCase{
				{"MaxResultsZero", `{"ResourceArn":"` + instanceARN + `","MaxResults":0}`, "InvalidParameterValueException"},
				{"MaxResultsNegative", `{"ResourceArn":"` + instanceARN + `","MaxResults":-1}`, "InvalidParameterValueException"},
				{"NextTokenGarbage", `{"ResourceArn":"` + instanceARN + `","NextToken":` + garbageToken + `}`, "InvalidParameterValueException"},
				{"ResourceArnGarbage", `{"ResourceArn":"garbage"}`, "InvalidParameterValueException"},
				{"ResourceArnHuge", `{"ResourceArn":` + bigString("a", 300_000) + `}`, "InvalidParameterValueException"},
			}},
		{service: "license-manager", target: "AllotLicenseManager.GetLicenseDashboard",
			members: map[string]string{"LicenseConfigurationArns": kList, "Filters": kList},
			nested:  []string{`{"LicenseConfigurationArns":[1]}`, `{"Filters":[{"Values":[true]}]}`},
			cases: []jsonCase{
				{"ArnGarbage", `{"LicenseConfigurationArns":["garbage"]}`, "InvalidParameterValueException"},
				{"ArnsMany", `{"LicenseConfigurationArns":` + bigList(`"`+confARN+`"`, 5_000) + `}`, "InvalidParameterValueException"},
				{"ArnHuge", `{"LicenseConfigurationArns":[` + bigString("a", 300_000) + `]}`, "InvalidParameterValueException"},
				{"FilterUnknown", `{"Filters":[{"Name":"colour","Values":["x"]}]}`, "InvalidParameterValueException"},
			}},
		{service: "license-manager", target: "AllotLicenseManager.ListLicenseConfigurationAlerts",
			members: map[string]string{"LicenseConfigurationArn": kString, "Kinds": kList, "StartTime": kTime, "EndTime": kTime, "MaxResults": kInt, "NextToken": kString},
			nested:  []string{`{"Kinds":[1]}`},
			cases: []jsonCase{
				{"MaxResultsZero", `{"MaxResults":0}`, "InvalidParameterValueException"},
				{"MaxResultsNegative", `{"MaxResults":-1}`, "InvalidParameterValueException"},
				{"NextTokenGarbage", `{"NextToken":` + garbageToken + `}`, "InvalidParameterValueException"},
				{"ArnGarbage", `{"LicenseConfigurationArn":"garbage"}`, "InvalidParameterValueException"},
				{"KindUnknown", `{"Kinds":["Colour"]}`, "InvalidParameterValueException"},
				{"KindsMany", `{"Kinds":` + bigList(`"garbage"`, 10_000) + `}`, "InvalidParameterValueException"},
				{"StartAfterEnd", `{"StartTime":1900000000,"EndTime":1800000000}`, "InvalidParameterValueException"},
				{"TimeOutOfRange", `{"StartTime":1e300}`, "SerializationException"},
			}},
		{service: "ssm", target: "AmazonSSM.PutInventory",
			members: map[string]string{"InstanceId": kString, "Items": kList},
			nested: []string{item(`,"Content":{}`), item(`,"Content":[{"a":1}]`), item(`,"Content":[["a"]]`), item(`,"Context":[]`),
				item(`,"Context":{"a":1}`), item(`,"ContentHash":5`), `{"InstanceId":"` + mi + `","Items":[{"TypeName":1}]}`, `{"Items":["x"]}`},
			cases: []jsonCase{
				{"InstanceIdMissing", `{"Items":[` + validItem + `]}`, "ValidationException"},
				{"InstanceIdGarbage", `{"InstanceId":"garbage","Items":[` + validItem + `]}`, "InvalidInstanceId"},
				{"InstanceIdHuge", `{"InstanceId":` + bigString("i", 300_000) + `,"Items":[` + validItem + `]}`, "InvalidInstanceId"},
				{"ItemsEmpty", `{"InstanceId":"` + mi + `","Items":[]}`, "ValidationException"},
				{"ItemsTooMany", `{"InstanceId":"` + mi + `","Items":` + bigList(validItem, 31) + `}`, "ValidationException"},
				{"ItemsRepeated", `{"InstanceId":"` + mi + `","Items":[` + validItem + `,` + validItem + `]}`, "ValidationException"},
				{"TypeNameTooLong", strings.Replace(item(""), `"Custom:Malformed"`, `"Custom:`+strings.Repeat("x", 100)+`"`, 1), "ValidationException"},
				{"TypeNameUnknownAWS", strings.Replace(item(""), `"Custom:Malformed"`, `"AWS:Colour"`, 1), "InvalidTypeNameException"},
				{"TypeNameOther", strings.Replace(item(""), `"Custom:Malformed"`, `"Colour"`, 1), "ValidationException"},
				{"SchemaVersionGarbage", strings.Replace(item(""), `"1.0"`, `"one"`, 1), "ValidationException"},
				{"CaptureTimeGarbage", strings.Replace(item(""), `"2026-01-02T03:04:05Z"`, `"yesterday"`, 1), "ValidationException"},
				{"ContentHashHuge", item(`,"ContentHash":` + bigString("h", 257)), "ValidationException"},
				{"EntriesTooMany", item(`,"Content":` + bigList(`{}`, 10_001)), "ValidationException"},
				{"KeysTooMany", item(`,"Content":[{` + manyKeys(51) + `}]`), "ValidationException"},
				{"KeyTooLong", item(`,"Content":[{` + bigString("k", 65) + `:"v"}]`), "ValidationException"},
				{"KeyEmpty", item(`,"Content":[{"":"v"}]`), "ValidationException"},
				{"ValueTooLong", item(`,"Content":[{"k":` + bigString("v", 4097) + `}]`), "ValidationException"},
				{"ItemTooLarge", item(`,"Content":` + bigList(`{"k":`+bigString("v", 4000)+`}`, 60)), "ItemSizeLimitExceededException"},
				{"Context", item(`,"Content":[{"k":"v"}],"Context":{"a":"b"}`), "UnsupportedInventoryItemContextException"},
				{"SchemaMismatch", `{"InstanceId":"` + mi + `","Items":[{"TypeName":"AWS:Application","SchemaVersion":"1.0","CaptureTime":"2026-01-02T03:04:05Z","Content":[{"Name":"x"}]}]}`, "UnsupportedInventorySchemaVersionException"},
				{"ContentBad", `{"InstanceId":"` + mi + `","Items":[{"TypeName":"AWS:InstanceDetailedInformation","SchemaVersion":"1.0","CaptureTime":"2026-01-02T03:04:05Z","Content":[{"CPUs":"-1"}]}]}`, "InvalidItemContentException"},
				{"HashMismatch", item(`,"ContentHash":"nothing-stored"`), "ItemContentMismatchException"},
			}},
		{service: "ssm", target: "AmazonSSM.DescribeInstanceInformation",
			members: map[string]string{"InstanceInformationFilterList": kList, "Filters": kList, "MaxResults": kInt, "NextToken": kString},
			nested:  []string{`{"Filters":[{"Key":"PingStatus","Values":"Online"}]}`, `{"InstanceInformationFilterList":[{"key":"PingStatus"}]}`, `{"Filters":[{"Key":1}]}`},
			cases: []jsonCase{
				{"MaxResultsZero", `{"MaxResults":0}`, "ValidationException"},
				{"MaxResultsNegative", `{"MaxResults":-1}`, "ValidationException"},
				{"MaxResultsTooMany", `{"MaxResults":51}`, "ValidationException"},
				{"NextTokenGarbage", `{"NextToken":` + garbageToken + `}`, "InvalidNextToken"},
				{"NextTokenHuge", `{"NextToken":` + longToken + `}`, "InvalidNextToken"},
				{"FilterKeyUnknown", `{"Filters":[{"Key":"Colour","Values":["x"]}]}`, "InvalidFilterKey"},
				{"FilterNoValues", `{"Filters":[{"Key":"PingStatus","Values":[]}]}`, "ValidationException"},
				{"FilterValueHuge", `{"Filters":[{"Key":"PingStatus","Values":[` + bigString("v", 300_000) + `]}]}`, "InvalidInstanceInformationFilterValue"},
				{"FilterValuesMany", `{"Filters":[{"Key":"InstanceIds","Values":` + bigList(`"`+mi+`"`, 10_000) + `}]}`, "ValidationException"},
				// SSM's model does not bound the number of filters.
				{"FiltersMany", `{"Filters":` + bigList(`{"Key":"PingStatus","Values":["Online"]}`, 1_000) + `}`, ""},
				{"LegacyFilterKeyUnknown", `{"InstanceInformationFilterList":[{"key":"Colour","valueSet":["x"]}]}`, "SerializationException"},
				{"LegacyFilterValueBad", `{"InstanceInformationFilterList":[{"Key":"PingStatus","ValueSet":["Sleepy"]}]}`, "InvalidInstanceInformationFilterValue"},
			}},
		{service: "ssm", target: "AmazonSSM.ListInventoryEntries",
			members: map[string]string{"InstanceId": kString, "TypeName": kString, "Filters": kList, "MaxResults": kInt, "NextToken": kString},
			nested:  []string{`{"Filters":[{"Key":"x","Values":"y"}]}`, `{"Filters":[{"Key":"x","Values":["y"],"Type":1}]}`},
			cases: []jsonCase{
				{"MaxResultsZero", `{"InstanceId":"` + mi + `","TypeName":"Custom:Malformed","MaxResults":0}`, "ValidationException"},
				{"MaxResultsNegative", `{"InstanceId":"` + mi + `","TypeName":"Custom:Malformed","MaxResults":-1}`, "ValidationException"},
				{"NextTokenGarbage", `{"InstanceId":"` + mi + `","TypeName":"Custom:Malformed","NextToken":` + garbageToken + `}`, "InvalidNextToken"},
				{"NextTokenHuge", `{"InstanceId":"` + mi + `","TypeName":"Custom:Malformed","NextToken":` + longToken + `}`, "InvalidNextToken"},
				{"InstanceIdGarbage", `{"InstanceId":"garbage","TypeName":"Custom:Malformed"}`, "InvalidInstanceId"},
				{"InstanceIdMissing", `{"TypeName":"Custom:Malformed"}`, "ValidationException"},
				{"TypeNameHuge", `{"InstanceId":"` + mi + `","TypeName":` + bigString("t", 300_000) + `}`, "ValidationException"},
				{"FiltersMany", `{"InstanceId":"` + mi + `","TypeName":"Custom:Malformed","Filters":` + bigList(`{"Key":"Colour","Values":["x"]}`, 6) + `}`, "ValidationException"},
				{"FilterTypeUnknown", `{"InstanceId":"` + mi + `","TypeName":"Custom:Malformed","Filters":[{"Key":"Colour","Values":["x"],"Type":"Resembles"}]}`, "ValidationException"},
				{"FilterValuesMany", `{"InstanceId":"` + mi + `","TypeName":"Custom:Malformed","Filters":[{"Key":"Colour","Values":` + bigList(`"x"`, 41) + `}]}`, "ValidationException"},
				{"FilterKeyHuge", `{"InstanceId":"` + mi + `","TypeName":"Custom:Malformed","Filters":[{"Key":` + bigString("k", 300_000) + `,"Values":["x"]}]}`, "ValidationException"},
			}},
		{service: "ssm", target: "AmazonSSM.DeregisterManagedInstance",
			members: map[string]string{"InstanceId": kString},
			cases: []jsonCase{
				{"InstanceIdMissing", `{}`, "ValidationException"},
				{"InstanceIdGarbage", `{"InstanceId":"garbage"}`, "InvalidInstanceId"},
				{"InstanceIdHuge", `{"InstanceId":` + bigString("i", 300_000) + `}`, "InvalidInstanceId"},
				{"InstanceIdUnknown", `{"InstanceId":"mi-0000000000000000f"}`, "InvalidInstanceId"},
			}},
	}

	oversized := `{"NextToken":` + bigString("a", 2<<20) + `}`
	for _, o := range ops {
		op := o.target[strings.IndexByte(o.target, '.')+1:]
		t.Run(op, func(t *testing.T) {
			send := func(t *testing.T, body, code string) {
				t.Helper()
				r := sendJSON(t, s, o.service, o.target, []byte(body))
				if code == "" {
					if r.status != http.StatusOK {
						t.Fatalf("HTTP %d %s (%.200s), want 200", r.status, r.code, r.message)
					}
					return
				}
				checkJSONError(t, r, code)
			}
			for name, body := range map[string]string{
				"NotJSON": `hello`, "Truncated": `{"` + firstMember(o.members) + `":`, "Open": `{`, "Unterminated": `{"a":"b`,
				"Array": `[]`, "ArrayOfObject": `[{}]`, "String": `"x"`, "Number": `42`, "Null": `null`,
				"TwoObjects": `{} {}`, "BadUTF8": "{\xff}", "ControlChar": "{\"NextToken\":\"a\x01\"}",
				"Oversized": oversized, "UnknownMember": `{"Colour":"blue"}`, "WrongCase": `{"` + strings.ToLower(firstMember(o.members)) + `":"x"}`,
			} {
				t.Run(name, func(t *testing.T) { send(t, body, "SerializationException") })
			}
			for m, kind := range o.members {
				for _, v := range wrongValues[kind] {
					t.Run("WrongType/"+m+"="+v, func(t *testing.T) { send(t, `{"`+m+`":`+v+`}`, "SerializationException") })
				}
			}
			for i, body := range o.nested {
				t.Run(fmt.Sprintf("WrongNested/%d", i), func(t *testing.T) { send(t, body, "SerializationException") })
			}
			for _, c := range o.cases {
				t.Run(c.name, func(t *testing.T) { send(t, c.body, c.code) })
			}
		})
	}

	// Nothing was written: the one report generator is as created, the instance has no
	// configuration, the managed instance is the only one and its inventory is unchanged.
	gens, err := lmc.ListLicenseManagerReportGenerators(ctx, &lm.ListLicenseManagerReportGeneratorsInput{})
	if err != nil || len(gens.ReportGenerators) != 1 || aws.ToString(gens.ReportGenerators[0].ReportGeneratorName) != "kept" ||
		len(gens.ReportGenerators[0].ReportType) != 1 || gens.ReportGenerators[0].ReportType[0] != lmtypes.ReportTypeLicenseConfigurationSummaryReport {
		t.Errorf("report generators after malformed calls = %+v, %v; want only %q as created", gens, err, "kept")
	}
	specs, err := lmc.ListLicenseSpecificationsForResource(ctx, &lm.ListLicenseSpecificationsForResourceInput{ResourceArn: aws.String(instanceARN)})
	if err != nil || len(specs.LicenseSpecifications) != 0 {
		t.Errorf("configurations of the instance after malformed calls = %+v, %v; want none", specs, err)
	}
	usage, err := lmc.ListUsageForLicenseConfiguration(ctx, &lm.ListUsageForLicenseConfigurationInput{LicenseConfigurationArn: aws.String(confARN)})
	if err != nil || len(usage.LicenseConfigurationUsageList) != 0 {
		t.Errorf("usage of the configuration after malformed calls = %+v, %v; want none", usage, err)
	}
	infos, err := ssmc.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{})
	if err != nil || len(infos.InstanceInformationList) != 1 || aws.ToString(infos.InstanceInformationList[0].InstanceId) != mi {
		t.Errorf("managed instances after malformed calls = %+v, %v; want only %s", infos, err, mi)
	}
	entries, err := ssmc.ListInventoryEntries(ctx, &ssm.ListInventoryEntriesInput{InstanceId: aws.String(mi), TypeName: aws.String("Custom:Malformed")})
	if err != nil || len(entries.Entries) != 1 || entries.Entries[0]["Colour"] != "blue" {
		t.Errorf("inventory after malformed calls = %+v, %v; want the one entry reported first", entries, err)
	}
	checkNoServerError(t, s)
}

// firstMember returns the alphabetically first member name of an operation.
func firstMember(members map[string]string) string {
	first := ""
	for m := range members {
		if first == "" || m < first {
			first = m
		}
	}
	return first
}

// manyKeys returns n distinct JSON object members "k0":"v", "k1":"v", ….
func manyKeys(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"k%d":"v"`, i)
	}
	return strings.Join(parts, ",")
}

// checkNoServerError fails if the server logged a panic or an operation it could not answer.
func checkNoServerError(t *testing.T, s *server) {
	t.Helper()
	for _, line := range strings.Split(s.stderr.String(), "\n") {
		if strings.Contains(line, `"panic serving request"`) || strings.Contains(line, `"operation failed"`) || strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("server logged: %s", line)
		}
	}
}

// TestMalformed_EC2 sends EC2's actions of launching and tagging malformed Query
// parameters: non-numeric and missing list indices, repeated and unknown parameters, values
// of the wrong type and a 300 KB value. Each gets a 4xx error in EC2's <Response><Errors>
// envelope with EC2's code, and nothing is launched, allocated or tagged.
func TestMalformed_EC2(t *testing.T) {
	s := startServer(t, serverOptions{})
	ctx := context.Background()
	ec2c := ec2.NewFromConfig(s.awsConfig(rootKeyID, rootSecret))
	img, err := ec2c.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("malformed")})
	if err != nil {
		t.Fatal(err)
	}
	run, err := ec2c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: img.ImageId, InstanceType: ec2types.InstanceTypeM5Large, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{{Key: aws.String("kept"), Value: aws.String("yes")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	instance := aws.ToString(run.Instances[0].InstanceId)
	huge := url.QueryEscape(strings.Repeat("v", 300_000))

	const v = "&Version=2016-11-15"
	runBase := "Action=RunInstances" + v + "&ImageId=" + aws.ToString(img.ImageId) + "&InstanceType=m5.large&MinCount=1&MaxCount=1"
	hostBase := "Action=AllocateHosts" + v + "&InstanceFamily=m5&AvailabilityZone=" + region + "a&Quantity=1"
	tagBase := "Action=CreateTags" + v + "&ResourceId.1=" + instance
	untagBase := "Action=DeleteTags" + v + "&ResourceId.1=" + instance
	tagSpec := func(base, typ string) []struct{ name, body, code string } {
		return []struct{ name, body, code string }{
			{"NonNumericIndex", base + "&TagSpecification.x.ResourceType=instance", "InvalidParameterValue"},
			{"ZeroIndex", base + "&TagSpecification.0.ResourceType=instance", "InvalidParameterValue"},
			{"NegativeIndex", base + "&TagSpecification.-1.ResourceType=instance", "InvalidParameterValue"},
			{"HugeIndex", base + "&TagSpecification.99999999999999999999.ResourceType=instance", "InvalidParameterValue"},
			{"Gap", base + "&TagSpecification.3.ResourceType=instance&TagSpecification.3.Tag.1.Key=a&TagSpecification.3.Tag.1.Value=b", "InvalidParameterValue"},
			{"TagGap", base + "&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.2.Key=a", "InvalidParameterValue"},
			{"Duplicate", base + "&TagSpecification.1.ResourceType=instance&TagSpecification.1.ResourceType=dedicated-host", "InvalidParameterValue"},
			{"DuplicateKey", base + "&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=a&TagSpecification.1.Tag.1.Key=b", "InvalidParameterValue"},
			{"ValueOnList", base + "&TagSpecification=instance", "InvalidParameterValue"},
			{"ValueOnStruct", base + "&TagSpecification.1=instance", "InvalidParameterValue"},
			{"UnknownMember", base + "&TagSpecification.1.ResourceType=instance&TagSpecification.1.Colour=blue", "UnknownParameter"},
			{"MemberStyleList", base + "&TagSpecification.member.1.ResourceType=instance", "InvalidParameterValue"},
			{"HugeTagValue", base + "&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=a&TagSpecification.1.Tag.1.Value=" + huge, "InvalidParameterValue"},
			{"HugeTagKey", base + "&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=" + huge, "InvalidParameterValue"},
			{"HugeResourceType", base + "&TagSpecification.1.ResourceType=" + huge + "&TagSpecification.1.Tag.1.Key=a", "InvalidParameterValue"},
			{"TooManyTags", base + "&TagSpecification.1.ResourceType=" + typ + manyTags("TagSpecification.1.Tag", 51), "TagLimitExceeded"},
		}
	}
	filters := func(base string, extra ...struct{ name, body, code string }) []struct{ name, body, code string } {
		return append([]struct{ name, body, code string }{
			{"FilterNonNumeric", base + "&Filter.x.Name=tag:a&Filter.x.Value.1=b", "InvalidParameterValue"},
			{"FilterGap", base + "&Filter.2.Name=tag:a&Filter.2.Value.1=b", "InvalidParameterValue"},
			{"FilterValueGap", base + "&Filter.1.Name=tag:a&Filter.1.Value.3=b", "InvalidParameterValue"},
			{"FilterDuplicateName", base + "&Filter.1.Name=tag:a&Filter.1.Name=tag:b&Filter.1.Value.1=c", "InvalidParameterValue"},
			{"FilterUnknownName", base + "&Filter.1.Name=colour&Filter.1.Value.1=blue", "InvalidParameterValue"},
			{"FilterUnknownMember", base + "&Filter.1.Name=tag:a&Filter.1.Colour=blue", "UnknownParameter"},
			{"FilterHugeValue", base + "&Filter.1.Name=tag:a&Filter.1.Value.1=" + huge, ""}, // EC2 bounds no filter value
			{"FilterHugeName", base + "&Filter.1.Name=" + huge + "&Filter.1.Value.1=b", "InvalidParameterValue"},
			{"MaxResultsText", base + "&MaxResults=ten", "InvalidParameterValue"},
			{"MaxResultsZero", base + "&MaxResults=0", "InvalidParameterValue"},
			{"MaxResultsNegative", base + "&MaxResults=-5", "InvalidParameterValue"},
			{"MaxResultsOverflow", base + "&MaxResults=99999999999", "InvalidParameterValue"},
			{"NextTokenGarbage", base + "&NextToken=garbage", "InvalidPaginationToken"},
			{"NextTokenHuge", base + "&NextToken=" + huge, "InvalidPaginationToken"},
			{"Unknown", base + "&Colour=blue", "UnknownParameter"},
			{"UnknownHugeName", base + "&" + strings.Repeat("C", 300_000) + "=blue", "UnknownParameter"},
		}, extra...)
	}
	dryRunText := func(base string) struct{ name, body, code string } {
		return struct{ name, body, code string }{"DryRunText", base + "&DryRun=perhaps", "InvalidParameterValue"}
	}
	groups := map[string][]struct{ name, body, code string }{
		"RunInstances": append(tagSpec(runBase, "instance"), []struct{ name, body, code string }{
			{"MinCountText", strings.Replace(runBase, "MinCount=1", "MinCount=one", 1), "InvalidParameterValue"},
			{"MinCountNegative", strings.Replace(runBase, "MinCount=1", "MinCount=-1", 1), "InvalidParameterValue"},
			{"MinCountZero", strings.Replace(runBase, "MinCount=1", "MinCount=0", 1), "InvalidParameterValue"},
			{"MaxCountOverflow", strings.Replace(runBase, "MaxCount=1", "MaxCount=99999999999", 1), "InvalidParameterValue"},
			{"MaxBelowMin", strings.Replace(runBase, "MinCount=1", "MinCount=2", 1), "InvalidParameterValue"},
			{"DuplicateImage", runBase + "&ImageId=ami-0123456789abcdef0", "InvalidParameterValue"},
			{"ResourceTypeUnknown", runBase + "&TagSpecification.1.ResourceType=colour&TagSpecification.1.Tag.1.Key=a", "InvalidParameterValue"},
			{"ResourceTypeOther", runBase + "&TagSpecification.1.ResourceType=dedicated-host&TagSpecification.1.Tag.1.Key=a", "InvalidParameterValue"},
			{"ReservedKey", runBase + "&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=aws:x", "InvalidTagKey.Malformed"},
			{"HugeClientToken", runBase + "&ClientToken=" + huge, "InvalidParameterValue"},
			{"ClientTokenTooLong", runBase + "&ClientToken=" + strings.Repeat("t", 65), "InvalidParameterValue"},
			{"UserDataTooLong", runBase + "&UserData=" + strings.Repeat("A", 21_852), "InvalidParameterValue"},
			{"HugeUserData", runBase + "&UserData=" + huge, "InvalidParameterValue"},
			{"HugeInstanceType", strings.Replace(runBase, "InstanceType=m5.large", "InstanceType="+huge, 1), "InvalidParameterValue"},
			{"DryRunText", runBase + "&DryRun=perhaps", "InvalidParameterValue"},
			{"Unknown", runBase + "&Colour=blue", "UnknownParameter"},
		}...),
		"AllocateHosts": append(tagSpec(hostBase, "dedicated-host"), []struct{ name, body, code string }{
			{"QuantityText", strings.Replace(hostBase, "Quantity=1", "Quantity=one", 1), "InvalidParameterValue"},
			{"QuantityZero", strings.Replace(hostBase, "Quantity=1", "Quantity=0", 1), "InvalidParameterValue"},
			{"QuantityNegative", strings.Replace(hostBase, "Quantity=1", "Quantity=-3", 1), "InvalidParameterValue"},
			{"AutoPlacementUnknown", hostBase + "&AutoPlacement=sometimes", "InvalidParameterValue"},
			{"HugeFamily", strings.Replace(hostBase, "InstanceFamily=m5", "InstanceFamily="+huge, 1), "InvalidParameterValue"},
			{"HugeClientToken", hostBase + "&ClientToken=" + huge, "InvalidParameterValue"},
			{"ClientTokenTooLong", hostBase + "&ClientToken=" + strings.Repeat("t", 65), "InvalidParameterValue"},
			{"HostRecoveryUnknown", hostBase + "&HostRecovery=sometimes", "InvalidParameterValue"},
		}...),
		"CreateTags": {
			{"NonNumericIndex", tagBase + "&Tag.x.Key=a", "InvalidParameterValue"},
			{"Gap", tagBase + "&Tag.3.Key=a&Tag.3.Value=b", "InvalidParameterValue"},
			{"ResourceGap", "Action=CreateTags" + v + "&ResourceId.2=" + instance + "&Tag.1.Key=a", "InvalidParameterValue"},
			{"Duplicate", tagBase + "&Tag.1.Key=a&Tag.1.Key=b", "InvalidParameterValue"},
			{"DuplicateResource", tagBase + "&ResourceId.1=" + instance + "&Tag.1.Key=a", "InvalidParameterValue"},
			{"HugeValue", tagBase + "&Tag.1.Key=a&Tag.1.Value=" + huge, "InvalidParameterValue"},
			{"HugeKey", tagBase + "&Tag.1.Key=" + huge, "InvalidParameterValue"},
			{"HugeResourceID", "Action=CreateTags" + v + "&ResourceId.1=" + huge + "&Tag.1.Key=a", "InvalidID"},
			{"GarbageResourceID", "Action=CreateTags" + v + "&ResourceId.1=garbage&Tag.1.Key=a", "InvalidID"},
			{"NoResource", "Action=CreateTags" + v + "&Tag.1.Key=a", "MissingParameter"},
			{"NoTag", tagBase, "MissingParameter"},
			{"TooManyTags", tagBase + manyTags("Tag", 51), "TagLimitExceeded"},
			{"ReservedKey", tagBase + "&Tag.1.Key=aws:x", "InvalidTagKey.Malformed"},
			{"UnknownTagMember", tagBase + "&Tag.1.Key=a&Tag.1.Colour=b", "UnknownParameter"},
			{"Unknown", tagBase + "&Tag.1.Key=a&Colour=blue", "UnknownParameter"},
			{"DryRunText", tagBase + "&Tag.1.Key=a&DryRun=perhaps", "InvalidParameterValue"},
		},
		"DeleteTags": {
			{"NonNumericIndex", untagBase + "&Tag.x.Key=kept", "InvalidParameterValue"},
			{"Gap", untagBase + "&Tag.2.Key=kept", "InvalidParameterValue"},
			{"Duplicate", untagBase + "&Tag.1.Key=kept&Tag.1.Key=b", "InvalidParameterValue"},
			{"HugeKey", untagBase + "&Tag.1.Key=" + huge, "InvalidParameterValue"},
			{"HugeResourceID", "Action=DeleteTags" + v + "&ResourceId.1=" + huge, "InvalidID"},
			{"GarbageResourceID", "Action=DeleteTags" + v + "&ResourceId.1=garbage&Tag.1.Key=kept", "InvalidID"},
			{"NoResource", "Action=DeleteTags" + v + "&Tag.1.Key=kept", "MissingParameter"},
			{"UnknownTagMember", untagBase + "&Tag.1.Key=kept&Tag.1.Colour=b", "UnknownParameter"},
			{"Unknown", untagBase + "&Colour=blue", "UnknownParameter"},
			{"TooManyTags", untagBase + manyTags("Tag", 1001), "InvalidParameterValue"},
		},
		"DescribeTags": filters("Action=DescribeTags"+v, dryRunText("Action=DescribeTags"+v)),
		"DescribeInstances": filters("Action=DescribeInstances"+v, dryRunText("Action=DescribeInstances"+v),
			struct{ name, body, code string }{"GarbageID", "Action=DescribeInstances" + v + "&InstanceId.1=garbage", "InvalidInstanceID.Malformed"}),
		// DescribeHosts has no DryRun parameter in EC2.
		"DescribeHosts": filters("Action=DescribeHosts"+v,
			struct{ name, body, code string }{"DryRun", "Action=DescribeHosts" + v + "&DryRun=true", "UnknownParameter"},
			struct{ name, body, code string }{"GarbageID", "Action=DescribeHosts" + v + "&HostId.1=garbage", "InvalidHostID.Malformed"}),
		"DescribeImages": filters("Action=DescribeImages"+v, dryRunText("Action=DescribeImages"+v),
			struct{ name, body, code string }{"GarbageID", "Action=DescribeImages" + v + "&ImageId.1=garbage", "InvalidAMIID.Malformed"}),
		"Envelope": {
			{"BadEncoding", "Action=DescribeTags" + v + "&Filter.1.Name=%zz", "MalformedQueryString"},
			{"Oversized", "Action=DescribeTags" + v + "&NextToken=" + strings.Repeat("a", 2<<20), "InvalidParameterValue"},
			{"NoAction", "Version=2016-11-15", "MissingAction"},
			{"UnknownAction", "Action=LaunchEverything" + v, "InvalidAction"},
			{"WrongVersion", "Action=DescribeTags&Version=2099-01-01", "InvalidAction"},
		},
	}
	for group, cases := range groups {
		t.Run(group, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					r := sendEC2(t, s, c.body)
					if c.code == "" {
						if r.status != http.StatusOK {
							t.Fatalf("HTTP %d %s (%.200s), want 200", r.status, r.code, r.message)
						}
						return
					}
					checkEC2Error(t, r, c.code)
				})
			}
		})
	}

	// Nothing was launched, allocated or tagged: one instance, no host, the one tag.
	inst, err := ec2c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if n := countReservations(inst); err != nil || n != 1 {
		t.Errorf("instances after malformed calls = %d, %v; want 1", n, err)
	}
	hosts, err := ec2c.DescribeHosts(ctx, &ec2.DescribeHostsInput{})
	if err != nil || len(hosts.Hosts) != 0 {
		t.Errorf("hosts after malformed calls = %+v, %v; want none", hosts, err)
	}
	tags, err := ec2c.DescribeTags(ctx, &ec2.DescribeTagsInput{})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "kept" || aws.ToString(tags.Tags[0].Value) != "yes" {
		t.Errorf("tags after malformed calls = %+v, %v; want only kept=yes", tags, err)
	}
	checkNoServerError(t, s)
}

// countReservations counts the instances of a DescribeInstances answer.
func countReservations(out *ec2.DescribeInstancesOutput) int {
	if out == nil {
		return -1
	}
	n := 0
	for _, r := range out.Reservations {
		n += len(r.Instances)
	}
	return n
}

// manyTags returns n parameters prefix.i.Key=k<i>&prefix.i.Value=v, each after an &.
func manyTags(prefix string, n int) string {
	var b bytes.Buffer
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "&%s.%d.Key=k%d&%s.%d.Value=v", prefix, i, i, prefix, i)
	}
	return b.String()
}
