package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// trace receives the intermediate strings of a verification (tests only).
type trace struct {
	canonicalRequest string
	stringToSign     string
}

// signedRequest is what the locating and parsing steps learn about a request.
type signedRequest struct {
	presigned     bool
	cred          credential
	signedHeaders string
	signature     string
	// amzDate is the signing time as it goes into the string to sign (yyyymmddTHHMMSSZ).
	amzDate  string
	signedAt time.Time
	expires  time.Duration // presigned only; 0 when X-Amz-Expires is absent

	token        string
	tokenPresent bool
	// tokenInQuery is set when a presigned URL carries X-Amz-Security-Token.
	tokenInQuery bool
}

// errorf returns an *Error of the given kind for the access key akid.
func errorf(kind error, akid, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...), AccessKeyID: akid}
}

// verify is Verify, reporting the canonical request and string to sign to tr when it is not nil.
func (v *Verifier) verify(ctx context.Context, r *http.Request, body []byte, tr *trace) (*Scope, error) {
	sr, e := v.locate(r)
	if e != nil {
		return nil, e
	}
	akid := sr.cred.accessKeyID

	// Credential scope. The service is the caller's to check against the endpoint.
	if sr.cred.terminator != terminator {
		return nil, errorf(ErrSignatureDoesNotMatch, akid, "Credential should be scoped with a valid terminator: '%s', not '%s'.", terminator, truncate(sr.cred.terminator, 64))
	}
	if sr.cred.date != sr.amzDate[:8] {
		return nil, errorf(ErrSignatureDoesNotMatch, akid, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", truncate(sr.cred.date, 64), sr.amzDate[:8], sr.amzDate)
	}
	if sr.cred.region == "" {
		return nil, errorf(ErrSignatureDoesNotMatch, akid, msgRegion)
	}
	if sr.cred.service == "" {
		return nil, errorf(ErrSignatureDoesNotMatch, akid, "Credential should be scoped to correct service.")
	}

	// Key and session token.
	if v.lookup == nil {
		return nil, errorf(ErrUnknownAccessKey, akid, msgInvalidToken)
	}
	creds, err := v.lookup(ctx, akid)
	if err != nil {
		if errors.Is(err, ErrUnknownAccessKey) {
			return nil, errorf(ErrUnknownAccessKey, akid, msgInvalidToken)
		}
		if ve, ok := errors.AsType[*Error](err); ok {
			c := *ve // the lookup's error may be shared; do not write to it
			if c.AccessKeyID == "" {
				c.AccessKeyID = akid
			}
			return nil, &c
		}
		return nil, fmt.Errorf("sigv4: looking up access key %s: %w", akid, err)
	}
	now := time.Now()
	if v.now != nil {
		now = v.now()
	}
	if creds.SessionToken == "" {
		if sr.tokenPresent {
			return nil, errorf(ErrInvalidToken, akid, msgInvalidToken)
		}
	} else if !sr.tokenPresent || subtle.ConstantTimeCompare([]byte(sr.token), []byte(creds.SessionToken)) != 1 {
		return nil, errorf(ErrInvalidToken, akid, msgInvalidToken)
	}
	if !creds.Expires.IsZero() && !now.Before(creds.Expires) {
		return nil, errorf(ErrExpiredToken, akid, msgExpiredToken)
	}

	// Time window.
	if e := v.checkTime(&sr, now); e != nil {
		return nil, e
	}

	// Payload.
	sum := sha256.Sum256(body)
	var payloadHash [2 * sha256.Size]byte
	hex.Encode(payloadHash[:], sum[:])
	if vals, ok := r.Header["X-Amz-Content-Sha256"]; ok && (len(vals) != 1 || vals[0] != string(payloadHash[:])) {
		return nil, errorf(ErrSignatureDoesNotMatch, akid, msgContentSHA256)
	}

	var want [sha256.Size]byte
	if !decodeSignature(&want, sr.signature) {
		return nil, errorf(ErrSignatureDoesNotMatch, akid, msgSignature)
	}
	key := v.keys.get(creds.SecretAccessKey, sr.cred.date, sr.cred.region, sr.cred.service)

	s, _ := v.scratch.Get().(*scratch)
	if s == nil { // a zero Verifier has no pool constructor
		s = new(scratch)
	}
	defer v.putScratch(s)
	ok, e := v.check(s, r, &sr, &payloadHash, &key, &want, false, tr)
	if e == nil && !ok && sr.tokenInQuery {
		// Some callers add the token to a presigned URL after signing it (aws-c-auth's
		// "post-sts-header-after"). The token was checked above; try again without it.
		ok, e = v.check(s, r, &sr, &payloadHash, &key, &want, true, tr)
	}
	if e != nil {
		e.AccessKeyID = akid
		return nil, e
	}
	if !ok {
		return nil, errorf(ErrSignatureDoesNotMatch, akid, msgSignature)
	}
	return &Scope{
		AccessKeyID: akid,
		Date:        sr.cred.date,
		Region:      sr.cred.region,
		Service:     sr.cred.service,
		SignedAt:    sr.signedAt,
		Presigned:   sr.presigned,
	}, nil
}

// putScratch returns s to the pool unless it grew unusually large.
func (v *Verifier) putScratch(s *scratch) {
	if cap(s.buf) > maxPooledScratch || cap(s.arena) > maxPooledScratch || cap(s.pairs) > maxQueryParams || cap(s.segs) > maxPathLen {
		return
	}
	v.scratch.Put(s)
}

// check builds the canonical request and string to sign in s and reports whether the
// signature computed with key equals want. skipToken leaves X-Amz-Security-Token out of the
// canonical query.
func (v *Verifier) check(s *scratch, r *http.Request, sr *signedRequest, payloadHash *[2 * sha256.Size]byte, key, want *[sha256.Size]byte, skipToken bool, tr *trace) (bool, *Error) {
	b := s.buf[:0]
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	b = append(b, method...)
	b = append(b, '\n')
	b = s.appendCanonicalURI(b, rawPath(r), !v.noNormalize)
	b = append(b, '\n')
	b = s.appendCanonicalQuery(b, rawQuery(r), sr.presigned, skipToken)
	b = append(b, '\n')
	b, e := appendCanonicalHeaders(b, r, sr.signedHeaders)
	if e != nil {
		s.buf = b
		return false, e
	}
	b = append(b, '\n')
	b = append(b, sr.signedHeaders...)
	b = append(b, '\n')
	b = append(b, payloadHash[:]...)
	creqHash := sha256.Sum256(b)
	creqEnd := len(b)

	// The string to sign follows a 64-byte gap that hmacInPlace fills with the inner pad.
	b = append(b, make([]byte, sha256.BlockSize)...)
	stsStart := len(b)
	b = append(b, algorithm...)
	b = append(b, '\n')
	b = append(b, sr.amzDate...)
	b = append(b, '\n')
	b = append(b, sr.cred.scope...)
	b = append(b, '\n')
	b = hex.AppendEncode(b, creqHash[:])
	s.buf = b
	if tr != nil {
		tr.canonicalRequest = string(b[:creqEnd])
		tr.stringToSign = string(b[stsStart:])
	}
	got := hmacInPlace(key, b[stsStart-sha256.BlockSize:])
	return hmac.Equal(got[:], want[:]), nil
}

// decodeSignature decodes a signature of 64 lowercase hex digits into dst.
func decodeSignature(dst *[sha256.Size]byte, sig string) bool {
	if len(sig) != 2*sha256.Size {
		return false
	}
	for i := range dst {
		hi, ok1 := lowerHex(sig[2*i])
		lo, ok2 := lowerHex(sig[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// lowerHex returns the value of a lowercase hex digit and whether c is one.
func lowerHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// checkTime enforces the clock-skew window (header auth) or the presigned validity period.
func (v *Verifier) checkTime(sr *signedRequest, now time.Time) *Error {
	akid := sr.cred.accessKeyID
	skew := v.maxSkew
	if skew <= 0 {
		skew = defaultMaxSkew
	}
	earliest, latest := now.Add(-skew), now.Add(skew)
	if sr.signedAt.After(latest) {
		return errorf(ErrRequestExpired, akid, "Signature not yet current: %s is still later than %s (%s + %s.)",
			sr.amzDate, formatAmzDate(latest), formatAmzDate(now), skewText(skew))
	}
	if sr.presigned && sr.expires > 0 {
		if now.After(sr.signedAt.Add(sr.expires)) {
			return errorf(ErrRequestExpired, akid, msgRequestExpired)
		}
		return nil
	}
	if sr.signedAt.Before(earliest) {
		return errorf(ErrRequestExpired, akid, "Signature expired: %s is now earlier than %s (%s - %s.)",
			sr.amzDate, formatAmzDate(earliest), formatAmzDate(now), skewText(skew))
	}
	return nil
}

// skewText renders the skew allowance as AWS does ("5 min").
func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min"
	}
	return d.String()
}

// locate finds the authentication of r (Authorization header or presigned query), parses it
// and checks its form; every failure here is ErrMissingAuthentication or
// ErrIncompleteSignature.
func (v *Verifier) locate(r *http.Request) (signedRequest, *Error) {
	var sr signedRequest
	if r == nil {
		return sr, &Error{Kind: ErrMissingAuthentication, Message: msgMissingAuth}
	}
	if p := rawPath(r); len(p) > maxPathLen {
		return sr, &Error{Kind: ErrIncompleteSignature, Message: msgPathTooLarge}
	}
	q, e := scanQuery(rawQuery(r))
	if e != nil {
		return sr, e
	}
	authz, _ := headerValues(r.Header, "authorization")
	hasHeader := len(authz) > 0
	switch {
	case hasHeader && q.presigned():
		akid := accessKeyOf(q.credential)
		if a, _ := parseAuthorization(authz[0]); a.credential != "" {
			akid = accessKeyOf(a.credential)
		}
		return sr, &Error{Kind: ErrIncompleteSignature, Message: msgBothAuth, AccessKeyID: akid}
	case hasHeader:
		return v.locateHeader(r, authz)
	case q.presigned():
		return v.locatePresigned(r, &q)
	}
	return sr, &Error{Kind: ErrMissingAuthentication, Message: msgMissingAuth}
}

// locateHeader parses Authorization-header authentication.
func (v *Verifier) locateHeader(r *http.Request, authz []string) (signedRequest, *Error) {
	sr := signedRequest{}
	if len(authz) != 1 {
		akid := ""
		if len(authz) > 0 {
			a, _ := parseAuthorization(authz[0])
			akid = accessKeyOf(a.credential)
		}
		return sr, &Error{Kind: ErrIncompleteSignature, Message: "Only one Authorization header is allowed.", AccessKeyID: akid}
	}
	a, e := parseAuthorization(authz[0])
	akid := accessKeyOf(a.credential)

	// The date is needed before the other checks, and its absence is reported with them.
	var dateErr string
	if vals, ok := r.Header["X-Amz-Date"]; ok {
		t, ok := time.Time{}, false
		if len(vals) == 1 {
			t, ok = parseAmzDate(vals[0])
		}
		if !ok {
			dateErr = msgAmzDateFormat
		} else {
			sr.signedAt, sr.amzDate = t, vals[0]
		}
	} else if vals, ok := r.Header["Date"]; ok {
		t, ok := time.Time{}, false
		if len(vals) == 1 {
			var err error
			t, err = http.ParseTime(vals[0])
			ok = err == nil
		}
		if !ok {
			dateErr = msgDateFormat
		} else {
			sr.signedAt, sr.amzDate = t.UTC(), formatAmzDate(t)
		}
	} else {
		dateErr = msgNoDate
	}
	if e != nil {
		if dateErr == msgNoDate {
			e.Message += " " + dateErr
		}
		e.AccessKeyID = akid
		return sr, e
	}
	if dateErr != "" {
		return sr, &Error{Kind: ErrIncompleteSignature, Message: dateErr, AccessKeyID: akid}
	}

	cred, ok := parseCredential(a.credential)
	if !ok {
		return sr, &Error{Kind: ErrIncompleteSignature, AccessKeyID: akid, Message: fmt.Sprintf(
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", truncate(a.credential, 256))}
	}
	if e := checkSignedHeaders(a.signedHeaders); e != nil {
		e.AccessKeyID = akid
		return sr, e
	}
	sr.cred, sr.signedHeaders, sr.signature = cred, a.signedHeaders, a.signature
	if toks, ok := r.Header["X-Amz-Security-Token"]; ok {
		if len(toks) != 1 {
			return sr, &Error{Kind: ErrInvalidToken, Message: msgInvalidToken, AccessKeyID: akid}
		}
		sr.token, sr.tokenPresent = toks[0], true
	}
	return sr, nil
}

// locatePresigned parses presigned-URL authentication from the query parameters q.
func (v *Verifier) locatePresigned(r *http.Request, q *queryAuth) (signedRequest, *Error) {
	sr := signedRequest{presigned: true}
	akid := accessKeyOf(q.credential)
	fail := func(msg string) (signedRequest, *Error) {
		return sr, &Error{Kind: ErrIncompleteSignature, Message: msg, AccessKeyID: akid}
	}
	if q.dup != "" {
		return fail(fmt.Sprintf("The query-string parameter '%s' must appear only once.", q.dup))
	}
	var missing string
	for i, name := range queryAuthParams[:6] { // all but the token and the expiry are required
		if q.has&(1<<i) == 0 && name != qExpires {
			missing += fmt.Sprintf("AWS query-string parameters must include '%s'. ", name)
		}
	}
	if missing != "" {
		return fail(missing + "Re-examine the query-string parameters.")
	}
	if q.algorithm != algorithm {
		return fail(fmt.Sprintf("Unsupported AWS 'algorithm': '%s'.", truncate(q.algorithm, 64)))
	}
	if len(q.credential) > maxAuthorizationLen || len(q.signedHeaders) > maxAuthorizationLen {
		return fail("X-Amz-Credential or X-Amz-SignedHeaders is too long.")
	}
	t, ok := parseAmzDate(q.date)
	if !ok {
		return fail(msgAmzDateFormat)
	}
	sr.signedAt, sr.amzDate = t, q.date
	secs, ok := parseExpires(q.expires)
	switch {
	case q.has&hasExpires == 0:
		// The Go SDK presigns STS GetCallerIdentity without an expiry (as used by
		// aws-iam-authenticator and Vault); like AWS, allow the header skew window instead.
		secs, ok = 0, true
	case !ok:
		return fail("X-Amz-Expires should be a number")
	case secs < 1:
		return fail("X-Amz-Expires must be positive")
	case secs > maxExpires:
		return fail("X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	sr.expires = time.Duration(secs) * time.Second // 0: no X-Amz-Expires
	cred, ok := parseCredential(q.credential)
	if !ok {
		return fail(fmt.Sprintf("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", truncate(q.credential, 256)))
	}
	if e := checkSignedHeaders(q.signedHeaders); e != nil {
		e.AccessKeyID = akid
		return sr, e
	}
	sr.cred, sr.signedHeaders, sr.signature = cred, q.signedHeaders, q.signature

	// The token travels in the query; a copy in a header must agree with it.
	toks, inHeader := r.Header["X-Amz-Security-Token"]
	if inHeader && len(toks) != 1 {
		return sr, &Error{Kind: ErrInvalidToken, Message: msgInvalidToken, AccessKeyID: akid}
	}
	switch {
	case q.has&hasToken != 0:
		if inHeader && toks[0] != q.token {
			return sr, &Error{Kind: ErrInvalidToken, Message: msgInvalidToken, AccessKeyID: akid}
		}
		sr.token, sr.tokenPresent, sr.tokenInQuery = q.token, true, true
	case inHeader:
		sr.token, sr.tokenPresent = toks[0], true
	}
	return sr, nil
}

// parseExpires parses X-Amz-Expires: decimal digits only (no sign), at most 9 of them.
func parseExpires(s string) (int64, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
