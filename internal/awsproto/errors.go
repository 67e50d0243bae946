package awsproto

import "net/http"

// statuses maps AWS error codes to the HTTP status AWS answers them with. Clients dispatch on
// the code, not the status, but the status decides retries: Go and botocore retry every 5xx
// (and botocore legacy mode also 429), so only server faults may be 5xx.
//
// Codes not listed answer 400. The table lists them anyway when a service declares them, so a
// test can check that every declared code has an entry (see KnownCode).
var statuses = map[string]int{
	// Query (IAM, STS): common errors (https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html).
	"AccessDenied":                http.StatusForbidden,
	"IncompleteSignature":         http.StatusBadRequest,
	"InternalFailure":             http.StatusInternalServerError,
	"InvalidAction":               http.StatusBadRequest,
	"InvalidClientTokenId":        http.StatusForbidden,
	"InvalidParameterCombination": http.StatusBadRequest,
	"InvalidParameterValue":       http.StatusBadRequest,
	"InvalidQueryParameter":       http.StatusBadRequest,
	"MissingAction":               http.StatusBadRequest,
	"MissingAuthenticationToken":  http.StatusForbidden,
	"MissingParameter":            http.StatusBadRequest,
	"OptInRequired":               http.StatusForbidden,
	"RequestExpired":              http.StatusBadRequest,
	"ServiceUnavailable":          http.StatusServiceUnavailable,
	"SignatureDoesNotMatch":       http.StatusForbidden,
	"ExpiredToken":                http.StatusForbidden,
	"Throttling":                  http.StatusBadRequest,
	"ValidationError":             http.StatusBadRequest,
	// RequestEntityTooLarge keeps AWS's 413: the Go SDK and botocore parse the error body of any
	// non-2xx status and retry neither 400 nor 413, so the code still reaches the caller typed.
	"RequestEntityTooLarge": http.StatusRequestEntityTooLarge,

	// IAM (status codes from the service model).
	"ConcurrentModification":        http.StatusConflict,
	"CredentialReportExpired":       http.StatusGone,
	"CredentialReportNotPresent":    http.StatusGone,
	"CredentialReportNotReady":      http.StatusNotFound,
	"DeleteConflict":                http.StatusConflict,
	"DuplicateCertificate":          http.StatusConflict,
	"DuplicateSSHPublicKey":         http.StatusBadRequest,
	"EntityAlreadyExists":           http.StatusConflict,
	"EntityTemporarilyUnmodifiable": http.StatusConflict,
	"InvalidAuthenticationCode":     http.StatusForbidden,
	"InvalidCertificate":            http.StatusBadRequest,
	"InvalidInput":                  http.StatusBadRequest,
	"InvalidPublicKey":              http.StatusBadRequest,
	"InvalidUserType":               http.StatusBadRequest,
	"KeyPairMismatch":               http.StatusBadRequest,
	"LimitExceeded":                 http.StatusConflict,
	"MalformedCertificate":          http.StatusBadRequest,
	"MalformedPolicyDocument":       http.StatusBadRequest,
	"NoSuchEntity":                  http.StatusNotFound,
	"PasswordPolicyViolation":       http.StatusBadRequest,
	"PolicyEvaluation":              http.StatusInternalServerError,
	"PolicyNotAttachable":           http.StatusBadRequest,
	"ReportGenerationLimitExceeded": http.StatusConflict,
	"ServiceFailure":                http.StatusInternalServerError,
	"ServiceNotSupported":           http.StatusNotFound,
	"UnmodifiableEntity":            http.StatusBadRequest,
	"UnrecognizedPublicKeyEncoding": http.StatusBadRequest,
	"OpenIdIdpCommunicationError":   http.StatusBadRequest,

	// STS (status codes from the service model).
	"ExpiredTokenException":                http.StatusForbidden, // 400 in the STS model; 403 as a common JSON error
	"IDPCommunicationError":                http.StatusBadRequest,
	"IDPRejectedClaim":                     http.StatusForbidden,
	"InvalidAuthorizationMessageException": http.StatusBadRequest,
	"InvalidIdentityToken":                 http.StatusBadRequest,
	"PackedPolicyTooLarge":                 http.StatusBadRequest,
	"RegionDisabledException":              http.StatusForbidden,

	// JSON 1.1: common errors.
	"AccessDeniedException":               http.StatusBadRequest, // License Manager convention; 403 in some other models
	"IncompleteSignatureException":        http.StatusBadRequest,
	"InvalidSignatureException":           http.StatusForbidden,
	"MissingAuthenticationTokenException": http.StatusForbidden,
	"SerializationException":              http.StatusBadRequest,
	"ThrottlingException":                 http.StatusBadRequest,
	"UnknownOperationException":           http.StatusBadRequest,
	"UnrecognizedClientException":         http.StatusForbidden,
	"ValidationException":                 http.StatusBadRequest,

	// License Manager (the model has no status codes: client faults 400, server faults 500).
	"AuthorizationException":                     http.StatusBadRequest,
	"ConflictException":                          http.StatusBadRequest,
	"EntitlementNotAllowedException":             http.StatusBadRequest,
	"FailedDependencyException":                  http.StatusBadRequest,
	"FilterLimitExceededException":               http.StatusBadRequest,
	"InvalidParameterValueException":             http.StatusBadRequest,
	"InvalidResourceStateException":              http.StatusBadRequest,
	"LicenseUsageException":                      http.StatusBadRequest,
	"NoEntitlementsAllowedException":             http.StatusBadRequest,
	"RedirectException":                          http.StatusBadRequest,
	"ResourceLimitExceededException":             http.StatusBadRequest,
	"ResourceNotFoundException":                  http.StatusBadRequest,
	"ServerInternalException":                    http.StatusInternalServerError,
	"UnsupportedDigitalSignatureMethodException": http.StatusBadRequest,
	// RateLimitExceededException: 429 makes botocore legacy mode back off; Go keeps it typed
	// and does not retry either way.
	"RateLimitExceededException": http.StatusTooManyRequests,

	// Organizations (status codes from the current Smithy model, except TooManyRequestsException
	// which stays 400 as botocore's legacy retry rule expects, and AccessDeniedException above).
	"AWSOrganizationsNotInUseException":              http.StatusNotFound,
	"AccessDeniedForDependencyException":             http.StatusForbidden,
	"AccountAlreadyRegisteredException":              http.StatusConflict,
	"AccountNotFoundException":                       http.StatusNotFound,
	"AccountNotRegisteredException":                  http.StatusNotFound,
	"AccountOwnerNotVerifiedException":               http.StatusForbidden,
	"AlreadyInOrganizationException":                 http.StatusConflict,
	"ChildNotFoundException":                         http.StatusNotFound,
	"ConcurrentModificationException":                http.StatusConflict,
	"ConstraintViolationException":                   http.StatusConflict,
	"CreateAccountStatusNotFoundException":           http.StatusNotFound,
	"DestinationParentNotFoundException":             http.StatusNotFound,
	"DuplicateAccountException":                      http.StatusConflict,
	"DuplicateHandshakeException":                    http.StatusConflict,
	"DuplicateOrganizationalUnitException":           http.StatusConflict,
	"DuplicatePolicyAttachmentException":             http.StatusConflict,
	"DuplicatePolicyException":                       http.StatusConflict,
	"EffectivePolicyNotFoundException":               http.StatusNotFound,
	"FinalizingOrganizationException":                http.StatusConflict,
	"HandshakeAlreadyInStateException":               http.StatusConflict,
	"HandshakeConstraintViolationException":          http.StatusConflict,
	"HandshakeNotFoundException":                     http.StatusNotFound,
	"InvalidHandshakeTransitionException":            http.StatusConflict,
	"InvalidInputException":                          http.StatusBadRequest,
	"MalformedPolicyDocumentException":               http.StatusBadRequest,
	"MasterCannotLeaveOrganizationException":         http.StatusConflict,
	"OrganizationNotEmptyException":                  http.StatusConflict,
	"OrganizationalUnitNotEmptyException":            http.StatusConflict,
	"OrganizationalUnitNotFoundException":            http.StatusNotFound,
	"ParentNotFoundException":                        http.StatusNotFound,
	"PolicyChangesInProgressException":               http.StatusConflict,
	"PolicyInUseException":                           http.StatusConflict,
	"PolicyNotAttachedException":                     http.StatusConflict,
	"PolicyNotFoundException":                        http.StatusNotFound,
	"PolicyTypeAlreadyEnabledException":              http.StatusConflict,
	"PolicyTypeNotAvailableForOrganizationException": http.StatusConflict,
	"PolicyTypeNotEnabledException":                  http.StatusConflict,
	"ResourcePolicyNotFoundException":                http.StatusNotFound,
	"RootNotFoundException":                          http.StatusNotFound,
	"ServiceException":                               http.StatusInternalServerError,
	"SourceParentNotFoundException":                  http.StatusNotFound,
	"TargetNotFoundException":                        http.StatusNotFound,
	"TooManyRequestsException":                       http.StatusBadRequest,
	"UnsupportedAPIEndpointException":                http.StatusForbidden,

	// Systems Manager, the inventory subset (the model has no status codes: client faults 400,
	// server faults 500).
	"InternalServerError":                        http.StatusInternalServerError,
	"InvalidFilter":                              http.StatusBadRequest,
	"InvalidFilterKey":                           http.StatusBadRequest,
	"InvalidInstanceId":                          http.StatusBadRequest,
	"InvalidInstanceInformationFilterValue":      http.StatusBadRequest,
	"InvalidItemContentException":                http.StatusBadRequest,
	"InvalidNextToken":                           http.StatusBadRequest,
	"InvalidTypeNameException":                   http.StatusBadRequest,
	"ItemContentMismatchException":               http.StatusBadRequest,
	"ItemSizeLimitExceededException":             http.StatusBadRequest,
	"TotalSizeLimitExceededException":            http.StatusBadRequest,
	"UnsupportedInventoryItemContextException":   http.StatusBadRequest,
	"UnsupportedInventorySchemaVersionException": http.StatusBadRequest,

	// CloudTrail (LookupEvents).
	"InvalidEventCategoryException":    http.StatusBadRequest,
	"InvalidLookupAttributesException": http.StatusBadRequest,
	"InvalidMaxResultsException":       http.StatusBadRequest,
	"InvalidNextTokenException":        http.StatusBadRequest,
	"InvalidTimeRangeException":        http.StatusBadRequest,
	"OperationNotPermittedException":   http.StatusBadRequest,
	"UnsupportedOperationException":    http.StatusBadRequest,
}

// Status returns the HTTP status AWS uses for an error code, or 400 when the code is not in the
// table.
func Status(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusBadRequest
}

// KnownCode reports whether code has its own entry in the status table.
func KnownCode(code string) bool {
	_, ok := statuses[code]
	return ok
}

// Fault returns the Query protocol's <Type> for an error code: "Receiver" when the status is
// 5xx (a server fault), otherwise "Sender".
func Fault(code string) string {
	if Status(code) >= 500 {
		return "Receiver"
	}
	return "Sender"
}
