// Package awsproto implements the AWS wire protocols Allot speaks: JSON 1.1 (License Manager,
// Organizations, CloudTrail) and Query (IAM, STS), and their error shapes.
//
// Decoders turn bad input into an *awserr.Error that names the offending member
// ("SerializationException" for JSON 1.1, "ValidationError" for Query); writers set
// Content-Type, Content-Length and x-amzn-RequestId and never panic: a value that cannot be
// encoded becomes a 500 InternalFailure response.
package awsproto

// Content types of response bodies.
const (
	JSONContentType  = "application/x-amz-json-1.1" // awsJson1_1 requests and responses
	QueryContentType = "text/xml"                   // awsQuery responses
)

// XML namespaces of the Query services' responses.
const (
	IAMNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
	STSNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
)

// RequestIDHeader is the response header that carries the request ID (botocore copies it to
// ResponseMetadata.RequestId). net/http sends it in canonical form, X-Amzn-Requestid; header
// names are case-insensitive and every SDK reads it either way.
const RequestIDHeader = "x-amzn-RequestId"

// internalCode and internalMessage are what a response that could not be encoded turns into.
const (
	internalCode    = "InternalFailure"
	internalMessage = "An internal error occurred while encoding the response."
)
