package sigv4

import (
	"fmt"
	"strings"
	"time"
)

// Names and limits of the SigV4 wire format.
const (
	algorithm  = "AWS4-HMAC-SHA256"
	terminator = "aws4_request"
	// amzDateFormat is the layout of X-Amz-Date (ISO 8601 basic format, UTC).
	amzDateFormat = "20060102T150405Z"

	// maxAuthorizationLen caps the Authorization header (and the X-Amz-Credential and
	// X-Amz-SignedHeaders query values): 64 signed headers of 64 bytes fit comfortably.
	maxAuthorizationLen = 8 << 10
	// maxSignedHeaders caps the number of names in SignedHeaders.
	maxSignedHeaders = 64
	// maxHeaderNameLen caps one signed header name.
	maxHeaderNameLen = 256
	// maxHeaderBytes caps the canonical-headers block (all signed values together).
	maxHeaderBytes = 64 << 10
	// maxPathLen caps the request path.
	maxPathLen = 16 << 10
	// maxQueryLen caps the raw query string.
	maxQueryLen = 64 << 10
	// maxQueryParams caps the number of query parameters.
	maxQueryParams = 1024
	// maxExpires is the longest presigned validity AWS accepts: 7 days.
	maxExpires = 7 * 24 * 60 * 60
)

// Messages AWS uses for these failures (reproduced so that clients and people see the text
// they know).
const (
	msgMissingAuth     = "Request is missing Authentication Token"
	msgBothAuth        = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified"
	msgInvalidToken    = "The security token included in the request is invalid."
	msgExpiredToken    = "The security token included in the request is expired"
	msgSignature       = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgHostNotSigned   = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
	msgAmzDateFormat   = "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
	msgDateFormat      = "Date must be in the RFC 1123 format \"EEE, dd MMM yyyy HH:mm:ss 'GMT'\""
	msgNoDate          = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
	msgRegion          = "Credential should be scoped to a valid region."
	msgRequestExpired  = "Request has expired"
	msgContentSHA256   = "The provided 'x-amz-content-sha256' header does not match what was computed."
	msgSignedHeaders   = "SignedHeaders must be a ';'-separated list of distinct lowercase header names in ascending order."
	msgTooManyHeaders  = "SignedHeaders lists too many headers."
	msgHeadersTooLarge = "The signed headers are too large to verify."
	msgQueryTooLarge   = "The query string is too large to verify."
	msgPathTooLarge    = "The request path is too long to verify."
)

// credential is a parsed credential: <AccessKeyID>/<yyyymmdd>/<region>/<service>/aws4_request.
type credential struct {
	accessKeyID, date, region, service, terminator string
	// scope is everything after the access key ID, as it goes into the string to sign.
	scope string
}

// parseCredential splits a credential into its five slash-separated elements.
func parseCredential(s string) (credential, bool) {
	var c credential
	akid, scope, ok := strings.Cut(s, "/")
	if !ok {
		return c, false
	}
	c.accessKeyID, c.scope = akid, scope
	var rest string
	if c.date, rest, ok = strings.Cut(scope, "/"); !ok {
		return c, false
	}
	if c.region, rest, ok = strings.Cut(rest, "/"); !ok {
		return c, false
	}
	if c.service, c.terminator, ok = strings.Cut(rest, "/"); !ok {
		return c, false
	}
	if strings.IndexByte(c.terminator, '/') >= 0 || c.accessKeyID == "" {
		return c, false
	}
	return c, true
}

// accessKeyOf returns the access key ID a credential names, or "" when it does not look like
// one (the value ends up in logs and audit records, so it must be short and plain).
func accessKeyOf(credential string) string {
	akid, _, _ := strings.Cut(credential, "/")
	if akid == "" || len(akid) > 128 {
		return ""
	}
	for i := 0; i < len(akid); i++ {
		c := akid[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return ""
		}
	}
	return akid
}

// authorization holds the components of an Authorization header.
type authorization struct {
	credential    string
	signedHeaders string
	signature     string
}

// parseAuthorization splits an "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…"
// header value into its components, reporting malformed values as ErrIncompleteSignature.
// The credential is filled in even when another component is missing, so that the caller can
// attribute the failure to a key.
func parseAuthorization(v string) (authorization, *Error) {
	var a authorization
	if len(v) > maxAuthorizationLen {
		return a, &Error{Kind: ErrIncompleteSignature, Message: "Authorization header is too long."}
	}
	alg, rest, _ := strings.Cut(strings.TrimLeft(v, " \t"), " ")
	var badAlg *Error
	if alg != algorithm {
		// Still read the components below, for the credential.
		badAlg = &Error{Kind: ErrIncompleteSignature, Message: fmt.Sprintf("Unsupported AWS 'algorithm': '%s'.", truncate(alg, 64))}
	}
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		part = strings.Trim(part, " \t")
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, "=")
		if !ok && badAlg != nil {
			return a, badAlg
		}
		if !ok {
			return a, &Error{Kind: ErrIncompleteSignature, Message: fmt.Sprintf(
				"'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", truncate(part, 256), truncate(v, 1024))}
		}
		var dst *string
		switch key {
		case "Credential":
			dst = &a.credential
		case "SignedHeaders":
			dst = &a.signedHeaders
		case "Signature":
			dst = &a.signature
		default:
			// AWS ignores components it does not know; so do we.
			continue
		}
		if *dst != "" && badAlg != nil {
			return a, badAlg
		}
		if *dst != "" {
			return a, &Error{Kind: ErrIncompleteSignature, Message: fmt.Sprintf("Authorization header has more than one '%s' parameter.", key)}
		}
		*dst = val
	}
	if badAlg != nil {
		return a, badAlg
	}
	var missing []string
	if a.credential == "" {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if a.signature == "" {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if a.signedHeaders == "" {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if missing != nil {
		return a, &Error{Kind: ErrIncompleteSignature, Message: strings.Join(missing, " ")}
	}
	return a, nil
}

// checkSignedHeaders validates a SignedHeaders list: ';'-separated lowercase header names,
// strictly ascending (sorted, no duplicates), at most maxSignedHeaders, including host.
func checkSignedHeaders(list string) *Error {
	if list == "" {
		return &Error{Kind: ErrIncompleteSignature, Message: msgSignedHeaders}
	}
	n := 0
	prev := ""
	hasHost := false
	for rest := list; ; {
		name, tail, more := strings.Cut(rest, ";")
		n++
		if n > maxSignedHeaders {
			return &Error{Kind: ErrIncompleteSignature, Message: msgTooManyHeaders}
		}
		if !validHeaderName(name) || (n > 1 && name <= prev) {
			return &Error{Kind: ErrIncompleteSignature, Message: msgSignedHeaders}
		}
		if name == "host" {
			hasHost = true
		}
		prev = name
		if !more {
			break
		}
		rest = tail
	}
	if !hasHost {
		return &Error{Kind: ErrIncompleteSignature, Message: msgHostNotSigned}
	}
	return nil
}

// validHeaderName reports whether s is a non-empty lowercase HTTP header name (an RFC 9110
// token without uppercase letters).
func validHeaderName(s string) bool {
	if s == "" || len(s) > maxHeaderNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// parseAmzDate parses an X-Amz-Date value (yyyymmddTHHMMSSZ) without allocating.
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != len(amzDateFormat) || s[8] != 'T' || s[15] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, j int) (int, bool) {
		n := 0
		for ; i < j; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(4, 6)
	day, ok3 := num(6, 8)
	hour, ok4 := num(9, 11)
	minute, ok5 := num(11, 13)
	sec, ok6 := num(13, 15)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // 31 April and the like roll over into the next month
		return time.Time{}, false
	}
	return t, true
}

// formatAmzDate formats t as yyyymmddTHHMMSSZ in UTC.
func formatAmzDate(t time.Time) string { return t.UTC().Format(amzDateFormat) }

// truncate shortens s to at most n bytes for inclusion in an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Names of the presigned-URL query parameters.
const (
	qAlgorithm     = "X-Amz-Algorithm"
	qCredential    = "X-Amz-Credential"
	qDate          = "X-Amz-Date"
	qExpires       = "X-Amz-Expires"
	qSignedHeaders = "X-Amz-SignedHeaders"
	qSignature     = "X-Amz-Signature"
	qSecurityToken = "X-Amz-Security-Token"
)

// queryAuth holds the authentication parameters found in a query string, decoded.
type queryAuth struct {
	algorithm, credential, date, expires, signedHeaders, signature, token string
	// has records which parameters were present, one bit per parameter (see queryAuthParams).
	has uint8
	// dup names a parameter that appeared more than once.
	dup string
}

// queryAuthParams lists the parameters queryAuth collects, in bit order.
var queryAuthParams = [...]string{qAlgorithm, qCredential, qDate, qExpires, qSignedHeaders, qSignature, qSecurityToken}

// Bits of queryAuth.has.
const (
	hasAlgorithm uint8 = 1 << iota
	hasCredential
	hasDate
	hasExpires
	hasSignedHeaders
	hasSignature
	hasToken
)

// presigned reports whether the query carries presigned-URL authentication.
func (q *queryAuth) presigned() bool {
	return q.has&(hasAlgorithm|hasCredential|hasSignature) != 0
}

// scanQuery finds the authentication parameters in a raw query string. It allocates only for
// values that need decoding, and fails when the query exceeds the size limits.
func scanQuery(raw string) (queryAuth, *Error) {
	var q queryAuth
	if len(raw) > maxQueryLen {
		return q, &Error{Kind: ErrIncompleteSignature, Message: msgQueryTooLarge}
	}
	n := 0
	for rest := raw; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" {
			continue
		}
		n++
		if n > maxQueryParams {
			return q, &Error{Kind: ErrIncompleteSignature, Message: msgQueryTooLarge}
		}
		name, value, _ := strings.Cut(pair, "=")
		// Every parameter name of interest starts with "X-Amz-" (possibly percent-encoded);
		// skip the rest cheaply.
		if len(name) < len("X-Amz-") || (name[0] != 'X' && name[0] != '%') {
			continue
		}
		for i, want := range queryAuthParams {
			if !decodedEquals(name, want) {
				continue
			}
			bit := uint8(1) << i
			if q.has&bit != 0 && q.dup == "" {
				q.dup = want
			}
			q.has |= bit
			v := queryUnescape(value)
			switch bit {
			case hasAlgorithm:
				q.algorithm = v
			case hasCredential:
				q.credential = v
			case hasDate:
				q.date = v
			case hasExpires:
				q.expires = v
			case hasSignedHeaders:
				q.signedHeaders = v
			case hasSignature:
				q.signature = v
			case hasToken:
				q.token = v
			}
			break
		}
	}
	return q, nil
}

// unhex returns the value of a hex digit and whether c is one.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// nextQueryByte decodes one byte of a raw query component starting at s[i]: "%XX" is the
// byte it encodes, "+" a space (form encoding, as url.ParseQuery and the AWS SDKs read it),
// and anything else, including a '%' not followed by two hex digits, itself. It returns the
// byte and the index of the next one.
func nextQueryByte(s string, i int) (byte, int) {
	c := s[i]
	switch c {
	case '+':
		return ' ', i + 1
	case '%':
		if i+2 < len(s) {
			if hi, ok := unhex(s[i+1]); ok {
				if lo, ok := unhex(s[i+2]); ok {
					return hi<<4 | lo, i + 3
				}
			}
		}
	}
	return c, i + 1
}

// decodedEquals reports whether the raw query component s decodes to want.
func decodedEquals(s, want string) bool {
	j := 0
	for i := 0; i < len(s); j++ {
		var c byte
		c, i = nextQueryByte(s, i)
		if j >= len(want) || want[j] != c {
			return false
		}
	}
	return j == len(want)
}

// queryUnescape decodes a raw query component (see nextQueryByte).
func queryUnescape(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		var c byte
		c, i = nextQueryByte(s, i)
		b = append(b, c)
	}
	return string(b)
}
