package awsproto

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"reflect"

	"github.com/allot-dev/allot/internal/awserr"
)

// EC2Namespace is the XML namespace of EC2's responses.
const EC2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// EC2 protocol error codes of malformed requests.
const (
	ec2InvalidCode = "InvalidParameterValue"
	ec2UnknownCode = "UnknownParameter"
)

// DecodeEC2 decodes the parameters of an EC2 request (the ec2Query protocol: a Query form
// whose lists are flat, Name.1, Name.2, …) into v, a pointer to a struct. Fields take the
// parameter named by their `query` tag, else their Go name, as DecodeQuery's do; a list
// field's name is its items' (InstanceId.1 fills the field tagged `query:"InstanceId"`).
// Unknown parameters fail with code UnknownParameter, malformed values with
// InvalidParameterValue, as EC2 answers them.
func DecodeEC2(form url.Values, v any) error {
	return queryDecoder{code: ec2InvalidCode, unknownCode: ec2UnknownCode, flat: true}.decode(form, v)
}

// WriteEC2 writes a successful EC2 response, whose members sit directly in the action's
// element beside the request ID:
//
//	<ActionResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>id</requestId>…</ActionResponse>
//
// result is a struct or a pointer to one (nil for none) whose fields are encoded as EncodeXML
// does; EC2's lists are tagged `xml:"instancesSet>item"`. If it cannot be encoded, a 500
// InternalError is written instead.
func WriteEC2(w http.ResponseWriter, requestID, action string, result any) {
	var b bytes.Buffer
	if err := encodeEC2(&b, requestID, action, result); err != nil {
		WriteEC2Error(w, requestID, &awserr.Error{Code: "InternalError", Message: "An internal error occurred while encoding the response."})
		return
	}
	writeXMLBody(w, requestID, http.StatusOK, b.Bytes())
}

func encodeEC2(b *bytes.Buffer, requestID, action string, result any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("awsproto: encoding %T panicked: %v", result, r)
		}
	}()
	if !validXMLName(action) {
		return fmt.Errorf("awsproto: invalid action %q", action)
	}
	b.WriteString(xmlHeader + "<" + action + `Response xmlns="` + EC2Namespace + `"><requestId>`)
	escapeXML(b, requestID)
	b.WriteString("</requestId>")
	v := reflect.ValueOf(result)
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && !v.IsNil() {
		v = v.Elem()
	}
	if v.IsValid() && v.Kind() == reflect.Struct {
		enc := xmlEncoder{b: b}
		t := v.Type()
		for _, f := range fieldsOf(t, "xml").list {
			if f.typ == xmlNameType {
				continue
			}
			if err := checkXMLTag(t, f); err != nil {
				return err
			}
			fv, ok := fieldForGet(v, f.index)
			if !ok {
				continue
			}
			if err := enc.element(f.name, fv, f.omitEmpty, 1); err != nil {
				return err
			}
		}
	} else if v.IsValid() && !(v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		return fmt.Errorf("awsproto: EC2 result must be a struct, got %s", v.Type())
	}
	b.WriteString("</" + action + "Response>")
	return nil
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// WriteEC2Error writes an EC2 error with status EC2Status(e.Code), in EC2's envelope, which
// the AWS SDK for Go (ec2query.GetErrorResponseComponents) and botocore (EC2QueryParser) read:
//
//	<Response><Errors><Error><Code>…</Code><Message>…</Message></Error></Errors><RequestID>…</RequestID></Response>
//
// A nil e or one without a valid code writes InternalError.
func WriteEC2Error(w http.ResponseWriter, requestID string, e *awserr.Error) {
	if e == nil || e.Code == "" || !validXMLName(e.Code) {
		e = &awserr.Error{Code: "InternalError", Message: "An internal error occurred."}
	}
	var b bytes.Buffer
	b.WriteString(xmlHeader + "<Response><Errors><Error><Code>" + e.Code + "</Code><Message>")
	escapeXML(&b, e.Message)
	b.WriteString("</Message></Error></Errors><RequestID>")
	escapeXML(&b, requestID)
	b.WriteString("</RequestID></Response>")
	writeXMLBody(w, requestID, EC2Status(e.Code), b.Bytes())
}

// EC2Status returns the HTTP status EC2 answers an error code with: 401 for AuthFailure,
// 403 for UnauthorizedOperation, 412 for DryRunOperation, 500 for InternalError, 503 for
// Unavailable and RequestLimitExceeded, 400 for every other (client) error.
func EC2Status(code string) int {
	switch code {
	case "DryRunOperation":
		return http.StatusPreconditionFailed
	case "AuthFailure":
		return http.StatusUnauthorized
	case "UnauthorizedOperation", "Blocked", "OptInRequired":
		return http.StatusForbidden
	case "InternalError", "InternalFailure", "ServerInternal":
		return http.StatusInternalServerError
	case "Unavailable", "ServiceUnavailable", "RequestLimitExceeded":
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}
