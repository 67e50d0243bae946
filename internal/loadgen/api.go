package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// APIError is an error answer of the server: its HTTP status and AWS error code.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, e.Message)
}

// errorCode returns the AWS error code of err, "transport" for a failure to talk to the
// server at all.
func errorCode(err error) string {
	if ae, ok := err.(*APIError); ok {
		return ae.Code
	}
	return "transport"
}

// endpoint is where the server is and how to sign for it.
type endpoint struct {
	host    string // Host header and signed host
	addr    string // host:port to dial
	tls     bool
	region  string
	timeout time.Duration
	clock   *amzClock
}

func parseEndpoint(raw, region string, timeout time.Duration) (*endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("loadgen: endpoint %q: want http://host:port or https://host:port", raw)
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("loadgen: endpoint %q: the API is served at /, leave the path out", raw)
	}
	e := &endpoint{host: u.Host, addr: u.Host, tls: u.Scheme == "https", region: region, timeout: timeout, clock: &amzClock{}}
	if u.Port() == "" {
		port := "80"
		if e.tls {
			port = "443"
		}
		e.addr = u.Host + ":" + port
	}
	return e, nil
}

// client makes signed API calls over one connection as one principal. Not safe for
// concurrent use: each load-generating goroutine has its own.
type client struct {
	ep   *endpoint
	sign *signer
	conn conn

	hdrs []header
	head []byte
	sbuf []byte
	resp []byte
}

func (e *endpoint) newClient(s *signer) *client {
	c := &client{ep: e, sign: s, conn: conn{addr: e.addr, timeout: e.timeout}}
	if e.tls {
		c.conn.tlsConf = tlsConfig(e.host)
	}
	return c
}

func (c *client) close() { c.conn.close() }

// Content types of the two protocols.
const (
	contentJSON  = "application/x-amz-json-1.1"
	contentQuery = "application/x-www-form-urlencoded; charset=utf-8"
)

// call sends a signed POST to service with the given content type and X-Amz-Target ("" for
// the Query protocol) and returns the response body on success (valid until the next call)
// or an *APIError.
func (c *client) call(ctx context.Context, service, contentType, target string, body []byte) ([]byte, error) {
	date := c.ep.clock.now()
	h := append(c.hdrs[:0], header{"content-type", contentType}, header{"host", c.ep.host}, header{"x-amz-date", date})
	if tok := c.sign.creds.SessionToken; tok != "" {
		h = append(h, header{"x-amz-security-token", tok})
	}
	if target != "" {
		h = append(h, header{"x-amz-target", target})
	}
	c.hdrs = h
	var auth string
	auth, c.sbuf = c.sign.sign(c.sbuf, service, date, h, body)
	c.head = appendHead(c.head[:0], c.ep.host, h, auth, len(body))
	status, errType, out, err := c.conn.roundTrip(ctx, c.head, body, c.resp)
	c.resp = out
	if err != nil {
		return nil, err
	}
	if status/100 == 2 {
		return out, nil
	}
	return nil, parseError(status, errType, out)
}

// parseError reads an AWS error answer of either protocol.
func parseError(status int, errType string, body []byte) *APIError {
	e := &APIError{Status: status}
	if bytes.HasPrefix(bytes.TrimSpace(body), []byte("<")) {
		type xmlError struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		}
		var x struct {
			Error xmlError `xml:"Error"`        // Query: <ErrorResponse><Error>…
			EC2   xmlError `xml:"Errors>Error"` // EC2: <Response><Errors><Error>…
		}
		if xml.Unmarshal(body, &x) == nil {
			e.Code, e.Message = x.Error.Code, x.Error.Message
			if e.Code == "" {
				e.Code, e.Message = x.EC2.Code, x.EC2.Message
			}
		}
	} else {
		var j struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &j) == nil {
			e.Code, e.Message = j.Type, j.Message
		}
	}
	if e.Code == "" {
		e.Code, _, _ = strings.Cut(errType, ":")
	}
	if i := strings.LastIndexByte(e.Code, '#'); i >= 0 {
		e.Code = e.Code[i+1:]
	}
	if e.Code == "" {
		e.Code = fmt.Sprintf("HTTP%d", status)
	}
	return e
}

// JSON services' target prefixes.
const (
	targetLicenseManager = "AWSLicenseManager."
)

// lm calls a License Manager operation with a JSON body, decoding the answer into out when
// it is not nil.
func (c *client) lm(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("loadgen: encode %s: %w", op, err)
	}
	resp, err := c.call(ctx, "license-manager", contentJSON, targetLicenseManager+op, body)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if out != nil {
		if err := json.Unmarshal(resp, out); err != nil {
			return fmt.Errorf("loadgen: decode %s: %w", op, err)
		}
	}
	return nil
}

// query calls an IAM or STS operation (the Query protocol), decoding the XML answer into out
// when it is not nil.
func (c *client) query(ctx context.Context, service, version, action string, params url.Values, out any) error {
	form := url.Values{"Action": {action}, "Version": {version}}
	for k, v := range params {
		form[k] = v
	}
	resp, err := c.call(ctx, service, contentQuery, "", []byte(form.Encode()))
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	if out != nil {
		if err := xml.Unmarshal(resp, out); err != nil {
			return fmt.Errorf("loadgen: decode %s: %w", action, err)
		}
	}
	return nil
}

// jsonString returns the string member name of a flat JSON object, found by scanning rather
// than decoding (the hot path's answers carry a large signed token the load generator does
// not need). It returns "" when the member is missing or not a plain string.
func jsonString(body []byte, name string) string {
	key := `"` + name + `":"`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return ""
	}
	rest := body[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 || bytes.IndexByte(rest[:j], '\\') >= 0 {
		return ""
	}
	return string(rest[:j])
}
