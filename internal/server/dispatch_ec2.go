package server

import "github.com/allot-dev/allot/internal/awserr"

// What sets EC2's protocol (ec2Query) apart from Query's, beside the codec (awsproto/ec2.go):
// the names of a few common errors. Requests are routed as Query's, by the credential scope
// ("ec2"); serveAPI then switches the call to ProtocolEC2.

// ec2Denied is EC2's name for a request that policies deny.
const ec2Denied = "UnauthorizedOperation"

// ec2AuthCode names a signature failure as EC2 does: RequestExpired for expired credentials,
// AuthFailure for every other (unknown key, bad signature, missing authentication). query is
// the Query protocol's name of the failure.
func ec2AuthCode(query string) string {
	if query == "ExpiredToken" {
		return "RequestExpired"
	}
	return "AuthFailure"
}

// ec2ProtocolError renames the errors the server and the shared services raise to EC2's
// spelling: denials become UnauthorizedOperation, internal errors InternalError, and bad
// parameters InvalidParameterValue.
func ec2ProtocolError(e *awserr.Error) *awserr.Error {
	code := e.Code
	switch e.Code {
	case "AccessDenied", "AccessDeniedException", "AuthorizationException":
		code = ec2Denied
	case "InternalFailure", "ServerInternalException":
		code = "InternalError"
	case "ValidationError", "InvalidParameterValueException":
		code = "InvalidParameterValue"
	}
	if code == e.Code {
		return e
	}
	c := *e
	c.Code = code
	return &c
}
