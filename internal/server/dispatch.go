package server

import (
	"context"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/allot-dev/allot/internal/audit"
	"github.com/allot-dev/allot/internal/authz"
	"github.com/allot-dev/allot/internal/awserr"
	"github.com/allot-dev/allot/internal/awsproto"
	"github.com/allot-dev/allot/internal/identity"
	"github.com/allot-dev/allot/internal/sigv4"
	"github.com/allot-dev/allot/internal/store"
)

// call is the state of one API request on its way through the server.
type call struct {
	start     time.Time
	requestID string
	protocol  Protocol
	svc       *Service   // nil until known
	opName    string     // the operation the client asked for, known or not
	op        *Operation // nil until known
	scope     *sigv4.Scope
	principal *identity.Principal // who the access key belongs to, once looked up
	pending   *audit.Pending
	outcome   string
}

type callKey struct{}

// serveAPI runs one AWS API request through the request path: read, authenticate, route,
// decode, authorise, invoke, audit, respond.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	c := &call{start: s.cfg.Now(), requestID: uuid.NewString(), protocol: protocolOf(r)}
	if svc := s.bySigner[credentialService(r)]; c.protocol == ProtocolQuery && svc != nil && svc.Protocol == ProtocolEC2 {
		// Known from the credential scope before the body is read, so that a body too large
		// or not form-encoded is answered in EC2's error envelope too.
		c.protocol = ProtocolEC2
	}
	ctx := context.WithValue(r.Context(), callKey{}, c)
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic serving request", "request_id", c.requestID, "operation", c.opName, "panic", v)
			c.outcome = outcomeServerError
			s.writeError(w, c, &awserr.Error{Code: c.internalCode(), Message: "An internal error occurred."})
		}
		s.finish(r, c)
	}()

	if r.Method != http.MethodPost && !(r.Method == http.MethodGet && c.protocol != ProtocolJSON) {
		s.reject(w, c, awserr.New(c.validationCode(), "Method %s is not allowed; AWS APIs are called with POST.", r.Method))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.reject(w, c, awserr.New(c.validationCode(), "The request body is larger than the limit of %d bytes.", s.cfg.MaxBodyBytes))
			return
		}
		s.reject(w, c, awserr.New(c.validationCode(), "The request body could not be read."))
		return
	}

	// Route enough to know the protocol's error names and the event source before
	// authenticating; the operation itself is looked up only for authenticated callers.
	var form url.Values
	switch c.protocol {
	case ProtocolJSON:
		target := r.Header.Get("X-Amz-Target")
		prefix, name, _ := strings.Cut(target, ".")
		if i := strings.LastIndexByte(target, '.'); i >= 0 {
			prefix, name = target[:i], target[i+1:]
		}
		c.svc, c.opName = s.byTarget[prefix], name
	case ProtocolQuery, ProtocolEC2:
		form, err = queryForm(r, body)
		if err != nil {
			s.reject(w, c, err)
			return
		}
		c.svc, c.opName = s.bySigner[credentialService(r)], form.Get("Action")
		if c.svc != nil && c.svc.Protocol == ProtocolEC2 {
			c.protocol = ProtocolEC2 // its errors and lists differ from Query's (dispatch_ec2.go)
		}
	}

	if svc := s.tokenAuthenticated(r, c, form); svc != nil {
		// Authenticated by the token in its input, as AWS's clients expect: no signature.
		c.svc = svc
	} else {
		c.scope, err = s.verifier.Verify(ctx, r, body)
		if err != nil {
			s.authFailed(ctx, w, r, c, err)
			return
		}
	}
	if c.svc == nil && c.protocol == ProtocolJSON {
		s.reject(w, c, awserr.New("UnknownOperationException", "X-Amz-Target %q names no service or operation this server provides.", r.Header.Get("X-Amz-Target")))
		return
	}
	if c.svc == nil || c.scope != nil && c.svc.SigningName != c.scope.Service {
		s.reject(w, c, awserr.New(c.signatureCode(), "Credential should be scoped to correct service: %s.", c.expectedService()))
		return
	}
	c.op = c.svc.Operations[c.opName]
	c.pending = audit.NewPending(s.newEvent(r, c))
	ctx = audit.WithPending(ctx, c.pending)

	if c.op == nil {
		s.fail(ctx, w, c, s.unknownOperation(c, form))
		return
	}
	if c.protocol != ProtocolJSON {
		if v := form.Get("Version"); v != c.svc.Version {
			s.fail(ctx, w, c, awserr.New("InvalidAction", "Could not find operation %s for version %s.", c.opName, v))
			return
		}
	}

	in := c.op.newInput()
	switch c.protocol {
	case ProtocolJSON:
		err = awsproto.DecodeJSON(body, in)
	case ProtocolEC2:
		err = awsproto.DecodeEC2(form, in)
	default:
		err = awsproto.DecodeQuery(form, in)
	}
	if err != nil {
		s.fail(ctx, w, c, err)
		return
	}
	c.pending.SetRequest(in)
	ctx = authz.WithOrigin(ctx, authz.Origin{SourceIP: sourceIP(r), Region: c.region(r), Secure: r.TLS != nil})
	// A token-authenticated operation called unsigned has no principal to authorize: its token
	// decides. Called signed, it is authorized as any other.
	if !c.op.Unauthorized && !(c.op.TokenAuthenticated && c.principal == nil) {
		req := &authz.Request{Principal: c.principal, Action: c.op.Action, Resource: "*"}
		if c.op.Resource != nil {
			req.Resource, req.ResourceAccount = c.op.Resource(ctx, c.principal, in)
		}
		if err := s.cfg.Authorizer.Authorize(ctx, req); err != nil {
			s.fail(ctx, w, c, err)
			return
		}
		if c.op.MoreResources != nil {
			for _, arn := range c.op.MoreResources(ctx, c.principal, in) {
				if err := s.cfg.Authorizer.Authorize(ctx, &authz.Request{Principal: c.principal, Action: c.op.Action, Resource: arn}); err != nil {
					s.fail(ctx, w, c, err)
					return
				}
			}
		}
	}
	out, err := c.op.run(ctx, c.principal, in)
	if err != nil {
		s.fail(ctx, w, c, err)
		return
	}
	if err := s.record(ctx, c); err != nil {
		s.log.Error("audit write failed", "request_id", c.requestID, "operation", c.opName, "err", err)
		s.writeError(w, c, &awserr.Error{Code: c.internalCode(), Message: "The call could not be recorded in the audit trail; nothing was returned."})
		c.outcome = outcomeServerError
		return
	}
	c.outcome = outcomeOK
	switch c.protocol {
	case ProtocolJSON:
		awsproto.WriteJSON(w, c.requestID, out)
	case ProtocolEC2:
		awsproto.WriteEC2(w, c.requestID, c.opName, out)
	default:
		awsproto.WriteQuery(w, c.requestID, c.svc.XMLNamespace, c.opName, out)
	}
}

// lookupKey finds the secret of an access key (long-term, or an STS session's) for the
// verifier and remembers who it belongs to in the call, so the principal is known without a
// second read. Keys are cached (see keys.go).
func (s *Server) lookupKey(ctx context.Context, id string) (sigv4.Credentials, error) {
	k, err := s.keys.Get(ctx, id, func(ctx context.Context) (*keyInfo, error) { return s.loadKey(ctx, id) })
	if err != nil {
		return sigv4.Credentials{}, err
	}
	if c, _ := ctx.Value(callKey{}).(*call); c != nil {
		c.principal = k.principal
	}
	return k.creds, nil
}

// sessionPrincipal returns the principal behind temporary credentials.
func sessionPrincipal(s *store.Session) *identity.Principal {
	p := &identity.Principal{
		Kind:           s.Kind,
		AccountID:      s.AccountID,
		PrincipalID:    s.PrincipalID,
		AccessKeyID:    s.AccessKeyID,
		Temporary:      true,
		SessionPolicy:  s.Policies,
		Tags:           s.Tags,
		SourceIdentity: s.SourceIdentity,
		IssuedAt:       s.CreatedAt,

		FederatedProvider: s.FederatedProvider,
	}
	switch s.Kind {
	case identity.KindAssumedRole:
		p.ARN = "arn:aws:sts::" + s.AccountID + ":assumed-role/" + s.RoleName + "/" + s.SessionName
		p.PrincipalID = s.PrincipalID + ":" + s.SessionName
		p.RoleARN, p.RoleName, p.SessionName = s.RoleARN, s.RoleName, s.SessionName
	case identity.KindIAMUser:
		p.ARN = "arn:aws:iam::" + s.AccountID + ":user/" + s.UserName
		p.UserName = s.UserName
	default:
		p.ARN = identity.RootARN(s.AccountID)
	}
	return p
}

// authFailed answers a request whose signature did not verify. When the request named a
// known access key, the failure is recorded in that account's trail.
func (s *Server) authFailed(ctx context.Context, w http.ResponseWriter, r *http.Request, c *call, err error) {
	c.outcome = outcomeUnauthenticated
	var verr *sigv4.Error
	if !errors.As(err, &verr) {
		s.log.Error("signature verification failed", "request_id", c.requestID, "err", err)
		c.outcome = outcomeServerError
		s.writeError(w, c, &awserr.Error{Code: c.internalCode(), Message: "An internal error occurred."})
		return
	}
	e := &awserr.Error{Code: authCode(c.protocol, verr.Kind), Message: verr.Message}
	if c.principal != nil && c.svc != nil {
		c.pending = audit.NewPending(s.newEvent(r, c))
		c.pending.SetError(e.Code, e.Message)
		if err := s.record(ctx, c); err != nil {
			s.log.Error("audit write failed", "request_id", c.requestID, "err", err)
		}
	}
	s.writeError(w, c, e)
}

// reject answers a request that failed before it was authenticated; nothing is recorded.
func (s *Server) reject(w http.ResponseWriter, c *call, err error) {
	c.outcome = outcomeClientError
	e, _ := awserr.As(err)
	s.writeError(w, c, e)
}

// fail answers an authenticated request that did not succeed and records the failure.
func (s *Server) fail(ctx context.Context, w http.ResponseWriter, c *call, err error) {
	e, ok := awserr.As(err)
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		e = &awserr.Error{Code: "RequestTimeout", Message: "The request was cancelled or timed out before it completed."}
	case !ok:
		s.log.Error("operation failed", "request_id", c.requestID, "service", c.svc.Name, "operation", c.opName, "err", err)
		e = &awserr.Error{Code: c.internalCode(), Message: "An internal error occurred. Request ID: " + c.requestID + "."}
	}
	e = protocolError(c.protocol, e)
	if c.outcome == "" && (e.Code == "AccessDenied" || e.Code == "AccessDeniedException" || e.Code == authz.CodeScopedToResource || e.Code == ec2Denied) {
		c.outcome = outcomeDenied
	}
	if c.outcome == "" {
		c.outcome = outcomeClientError
		if awsproto.Status(e.Code) >= 500 || c.protocol == ProtocolEC2 && awsproto.EC2Status(e.Code) >= 500 {
			c.outcome = outcomeServerError
		}
	}
	c.pending.SetError(e.Code, e.Message)
	if err := s.record(ctx, c); err != nil {
		s.log.Error("audit write failed", "request_id", c.requestID, "err", err)
	}
	s.writeError(w, c, e)
}

// record writes the call's audit event unless the operation's own transaction wrote it. The
// write outlives a client that hangs up: every authenticated call is recorded.
func (s *Server) record(ctx context.Context, c *call) error {
	if c.pending == nil || c.pending.Recorded() {
		return nil
	}
	if c.pending.Event().RecipientAccountID == "" {
		// A token-authenticated call whose token did not verify: nobody to attribute it to.
		return nil
	}
	ctx = audit.WithPending(context.WithoutCancel(ctx), c.pending)
	return s.db.Update(ctx, func(*store.Tx) error { return nil })
}

func (s *Server) writeError(w http.ResponseWriter, c *call, e *awserr.Error) {
	if e == nil {
		e = &awserr.Error{Code: c.internalCode(), Message: "An internal error occurred."}
	}
	e = protocolError(c.protocol, e)
	if c.protocol == ProtocolJSON {
		awsproto.WriteJSONError(w, c.requestID, e)
		return
	}
	if c.protocol == ProtocolEC2 {
		awsproto.WriteEC2Error(w, c.requestID, e)
		return
	}
	ns := awsproto.STSNamespace
	if c.svc != nil {
		ns = c.svc.XMLNamespace
	}
	awsproto.WriteQueryError(w, c.requestID, ns, e)
}

func (s *Server) unknownOperation(c *call, form url.Values) error {
	if c.protocol != ProtocolJSON {
		if c.opName == "" {
			return awserr.New("MissingAction", "The request must contain the parameter Action.")
		}
		return awserr.New("InvalidAction", "Could not find operation %s for version %s.", c.opName, form.Get("Version"))
	}
	return awserr.New("UnknownOperationException", "Operation %s is not supported by this server.", c.opName)
}

// finish logs the request and updates metrics.
func (s *Server) finish(r *http.Request, c *call) {
	svc, opName := "unknown", "unknown"
	if c.svc != nil {
		svc = c.svc.Name
		if c.op != nil {
			opName = c.op.Name
		}
	}
	if c.outcome == "" {
		c.outcome = outcomeClientError
	}
	elapsed := s.cfg.Now().Sub(c.start)
	s.metrics.requests.WithLabelValues(svc, opName, c.outcome).Inc()
	s.metrics.duration.WithLabelValues(svc, opName).Observe(elapsed.Seconds())
	if s.cfg.AccessLog {
		attrs := []any{"request_id", c.requestID, "service", svc, "operation", c.opName, "outcome", c.outcome,
			"duration_ms", float64(elapsed.Microseconds()) / 1000, "remote", r.RemoteAddr}
		if c.principal != nil {
			attrs = append(attrs, "principal", c.principal.ARN)
		}
		s.log.Info("request", attrs...)
	}
}

func (s *Server) newEvent(r *http.Request, c *call) audit.Event {
	ev := audit.Event{
		EventVersion:      audit.EventVersion,
		EventTime:         audit.FormatTime(c.start),
		EventName:         c.opName,
		SourceIPAddress:   sourceIP(r),
		UserAgent:         r.UserAgent(),
		RequestParameters: []byte("null"),
		ResponseElements:  []byte("null"),
		RequestID:         c.requestID,
		EventID:           newEventID(),
		EventType:         "AwsApiCall",
		ManagementEvent:   true,
		EventCategory:     "Management",
	}
	if c.principal != nil { // nil for token-authenticated calls until the operation knows who called
		ev.UserIdentity = audit.IdentityOf(c.principal)
		ev.RecipientAccountID = c.principal.AccountID
	}
	if c.svc != nil {
		ev.EventSource = c.svc.EventSource
	}
	if c.op != nil {
		ev.ReadOnly = c.op.ReadOnly
	}
	ev.AWSRegion = c.region(r)
	return ev
}

// region is the call's region: the credential scope's, or us-east-1 for an unsigned call
// (AWS's global STS endpoint).
func (c *call) region(r *http.Request) string {
	if c.scope != nil {
		return c.scope.Region
	}
	if region := credentialRegion(r); region != "" {
		return region
	}
	return "us-east-1"
}

// tokenAuthenticated returns the service of an unsigned request for an operation that
// authenticates its caller from a token in its input, or nil when the request is signed or
// names another operation. A JSON request names its service (X-Amz-Target); an unsigned
// Query request names none, so its operation is looked up in every Query service.
func (s *Server) tokenAuthenticated(r *http.Request, c *call, form url.Values) *Service {
	if r.Header.Get("Authorization") != "" || r.URL.Query().Has("X-Amz-Signature") {
		return nil
	}
	if c.protocol == ProtocolJSON {
		if c.svc != nil {
			if op := c.svc.Operations[c.opName]; op != nil && op.TokenAuthenticated {
				return c.svc
			}
		}
		return nil
	}
	for _, svc := range s.bySigner {
		if op := svc.Operations[c.opName]; op != nil && op.TokenAuthenticated {
			return svc
		}
	}
	return nil
}

func (c *call) internalCode() string {
	if c.svc != nil {
		return c.svc.InternalCode
	}
	return "InternalFailure"
}

func (c *call) validationCode() string {
	if c.protocol == ProtocolJSON {
		return "SerializationException"
	}
	return "ValidationError"
}

func (c *call) signatureCode() string {
	return authCode(c.protocol, sigv4.ErrSignatureDoesNotMatch)
}

func (c *call) expectedService() string {
	if c.svc != nil {
		return "'" + c.svc.SigningName + "'"
	}
	return "'sts' or 'iam'"
}

// protocolOf tells JSON 1.1 requests (X-Amz-Target or an x-amz-json content type) from
// Query requests.
func protocolOf(r *http.Request) Protocol {
	if r.Header.Get("X-Amz-Target") != "" {
		return ProtocolJSON
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); strings.HasPrefix(mt, "application/x-amz-json") {
		return ProtocolJSON
	}
	return ProtocolQuery
}

// queryForm parses the Query protocol's parameters from the URL and a form body, leaving out
// presigned-URL authentication parameters.
func queryForm(r *http.Request, body []byte) (url.Values, error) {
	form, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, awserr.New("MalformedQueryString", "The query string is not valid URL encoding.")
	}
	if len(body) > 0 {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
			return nil, awserr.New("ValidationError", "Content-Type must be application/x-www-form-urlencoded for this API, not %q.", r.Header.Get("Content-Type"))
		}
		bodyForm, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, awserr.New("MalformedQueryString", "The request body is not valid form encoding.")
		}
		for k, vs := range bodyForm {
			form[k] = append(form[k], vs...)
		}
	}
	for k := range form {
		if strings.HasPrefix(k, "X-Amz-") {
			delete(form, k)
		}
	}
	return form, nil
}

// credentialService returns the service of the SigV4 credential scope the request names, or
// "" when it names none.
func credentialService(r *http.Request) string { return credentialPart(r, 3) }

// credentialRegion returns the region of the credential scope the request names.
func credentialRegion(r *http.Request) string { return credentialPart(r, 2) }

func credentialPart(r *http.Request, i int) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if h := r.Header.Get("Authorization"); h != "" {
		_, rest, ok := strings.Cut(h, "Credential=")
		if !ok {
			return ""
		}
		cred, _, _ = strings.Cut(rest, ",")
	}
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[i]
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authCode names a signature failure as the protocol does.
func authCode(p Protocol, kind error) string {
	type pair struct{ query, json string }
	var names pair
	switch {
	case errors.Is(kind, sigv4.ErrMissingAuthentication):
		names = pair{"MissingAuthenticationToken", "MissingAuthenticationTokenException"}
	case errors.Is(kind, sigv4.ErrIncompleteSignature):
		names = pair{"IncompleteSignature", "IncompleteSignatureException"}
	case errors.Is(kind, sigv4.ErrUnknownAccessKey), errors.Is(kind, sigv4.ErrInvalidToken):
		names = pair{"InvalidClientTokenId", "UnrecognizedClientException"}
	case errors.Is(kind, sigv4.ErrExpiredToken):
		names = pair{"ExpiredToken", "ExpiredTokenException"}
	default:
		names = pair{"SignatureDoesNotMatch", "InvalidSignatureException"}
	}
	if p == ProtocolJSON {
		return names.json
	}
	if p == ProtocolEC2 {
		return ec2AuthCode(names.query)
	}
	return names.query
}

// protocolError renames the few codes whose spelling differs between the Query and JSON
// protocols (AccessDenied / AccessDeniedException).
func protocolError(p Protocol, e *awserr.Error) *awserr.Error {
	if p == ProtocolEC2 {
		return ec2ProtocolError(e)
	}
	if p == ProtocolJSON && e.Code == "AccessDenied" {
		c := *e
		c.Code = "AccessDeniedException"
		return &c
	}
	if p == ProtocolQuery && e.Code == "AccessDeniedException" {
		c := *e
		c.Code = "AccessDenied"
		return &c
	}
	return e
}
