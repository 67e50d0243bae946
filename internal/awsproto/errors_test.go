package awsproto_test

import (
	"testing"

	"github.com/allot-dev/allot/internal/awsproto"
)

func TestStatus(t *testing.T) {
	tests := []struct {
		code  string
		want  int
		fault string
	}{
		// Query.
		{"MissingAuthenticationToken", 403, "Sender"},
		{"IncompleteSignature", 400, "Sender"},
		{"InvalidClientTokenId", 403, "Sender"},
		{"ExpiredToken", 403, "Sender"},
		{"SignatureDoesNotMatch", 403, "Sender"},
		{"AccessDenied", 403, "Sender"},
		{"InvalidAction", 400, "Sender"},
		{"ValidationError", 400, "Sender"},
		{"MissingParameter", 400, "Sender"},
		{"InvalidParameterValue", 400, "Sender"},
		{"InvalidParameterCombination", 400, "Sender"},
		{"MalformedPolicyDocument", 400, "Sender"},
		{"NoSuchEntity", 404, "Sender"},
		{"EntityAlreadyExists", 409, "Sender"},
		{"LimitExceeded", 409, "Sender"},
		{"DeleteConflict", 409, "Sender"},
		{"UnmodifiableEntity", 400, "Sender"},
		{"ConcurrentModification", 409, "Sender"},
		{"InternalFailure", 500, "Receiver"},
		{"ServiceFailure", 500, "Receiver"},
		{"ServiceUnavailable", 503, "Receiver"},
		{"Throttling", 400, "Sender"},
		{"RequestEntityTooLarge", 413, "Sender"},
		{"PackedPolicyTooLarge", 400, "Sender"},
		{"RegionDisabledException", 403, "Sender"},
		{"IDPCommunicationError", 400, "Sender"},
		// JSON 1.1.
		{"MissingAuthenticationTokenException", 403, "Sender"},
		{"IncompleteSignatureException", 400, "Sender"},
		{"UnrecognizedClientException", 403, "Sender"},
		{"ExpiredTokenException", 403, "Sender"},
		{"InvalidSignatureException", 403, "Sender"},
		{"AccessDeniedException", 400, "Sender"},
		{"UnknownOperationException", 400, "Sender"},
		{"SerializationException", 400, "Sender"},
		{"ValidationException", 400, "Sender"},
		{"InvalidParameterValueException", 400, "Sender"},
		{"ResourceNotFoundException", 400, "Sender"},
		{"ConflictException", 400, "Sender"},
		{"ServerInternalException", 500, "Receiver"},
		{"ServiceException", 500, "Receiver"},
		{"RateLimitExceededException", 429, "Sender"},
		{"ThrottlingException", 400, "Sender"},
		{"TooManyRequestsException", 400, "Sender"},
		{"InvalidLookupAttributesException", 400, "Sender"},
		{"InvalidTimeRangeException", 400, "Sender"},
		{"InvalidMaxResultsException", 400, "Sender"},
		{"InvalidNextTokenException", 400, "Sender"},
		{"InvalidEventCategoryException", 400, "Sender"},
		{"UnsupportedOperationException", 400, "Sender"},
		{"OperationNotPermittedException", 400, "Sender"},
	}
	for _, tt := range tests {
		if got := awsproto.Status(tt.code); got != tt.want {
			t.Errorf("Status(%q) = %d, want %d", tt.code, got, tt.want)
		}
		if got := awsproto.Fault(tt.code); got != tt.fault {
			t.Errorf("Fault(%q) = %q, want %q", tt.code, got, tt.fault)
		}
		if !awsproto.KnownCode(tt.code) {
			t.Errorf("KnownCode(%q) = false, want true", tt.code)
		}
	}
	if got, want := awsproto.Status("NoSuchThing"), 400; got != want {
		t.Errorf("Status(unknown) = %d, want %d", got, want)
	}
	if awsproto.KnownCode("NoSuchThing") {
		t.Errorf("KnownCode(unknown) = true, want false")
	}
}
