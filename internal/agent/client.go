package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
)

// APIError is an error answer of the server, with its AWS error code.
type APIError struct {
	StatusCode int
	Code       string // AccessDeniedException, ValidationException, …
	Message    string
	RequestID  string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("%s: %s", e.Code, msg)
}

// ErrorCode returns the AWS error code, as smithy.APIError does.
func (e *APIError) ErrorCode() string { return e.Code }

// ErrorMessage returns the error message, as smithy.APIError does.
func (e *APIError) ErrorMessage() string { return e.Message }

// ErrorFault says whether the client or the server is at fault, as smithy.APIError does.
func (e *APIError) ErrorFault() smithy.ErrorFault {
	if e.StatusCode >= 500 {
		return smithy.FaultServer
	}
	return smithy.FaultClient
}

var _ smithy.APIError = (*APIError)(nil)

// Client calls the SSM API's PutInventory on one endpoint, signing with SigV4 (signing name
// "ssm") and reusing connections. Safe for concurrent use.
type Client struct {
	endpoint    string // base URL, no trailing slash
	region      string
	credentials aws.CredentialsProvider
	http        *http.Client
	signer      *v4.Signer
}

// NewClient returns a client for endpoint (http:// or https://, for example
// http://127.0.0.1:7373) that signs for region with credentials.
func NewClient(endpoint, region string, credentials aws.CredentialsProvider) (*Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("agent: endpoint %q: want http://HOST[:PORT] or https://HOST[:PORT]", endpoint)
	}
	if region == "" {
		return nil, errors.New("agent: no region to sign for")
	}
	if credentials == nil {
		return nil, errors.New("agent: no credentials")
	}
	return &Client{
		endpoint:    strings.TrimSuffix(endpoint, "/"),
		region:      region,
		credentials: credentials,
		http:        &http.Client{Timeout: 60 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()},
		signer:      v4.NewSigner(),
	}, nil
}

// Host returns the host[:port] of the client's endpoint.
func (c *Client) Host() string {
	u, _ := url.Parse(c.endpoint)
	return u.Host
}

// PutInventoryInput is the input of PutInventory.
type PutInventoryInput struct {
	InstanceID string `json:"InstanceId"`
	Items      []Item
}

// PutInventoryOutput is the output of PutInventory.
type PutInventoryOutput struct {
	Message string
}

// PutInventory sends inventory items for a managed instance. An error answer of the server
// is an *APIError.
func (c *Client) PutInventory(ctx context.Context, in *PutInventoryInput) (*PutInventoryOutput, error) {
	out := &PutInventoryOutput{}
	if err := c.call(ctx, "AmazonSSM.PutInventory", in, out); err != nil {
		return nil, err
	}
	return out, nil
}

// call makes one JSON 1.1 call of the SSM API and decodes its answer into out.
func (c *Client) call(ctx context.Context, target string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("agent: encode %s: %w", target, err)
	}
	creds, err := c.credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("agent: credentials: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("agent: %s: %w", target, err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("User-Agent", AgentType+"/"+Version())
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ssm", c.region, time.Now()); err != nil {
		return fmt.Errorf("agent: sign %s: %w", target, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("agent: %s: %w", target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("agent: %s: read the answer: %w", target, err)
	}
	if resp.StatusCode/100 != 2 {
		return decodeError(resp, data)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("agent: %s: decode the answer: %w", target, err)
	}
	return nil
}

// decodeError reads a JSON 1.1 error answer: the code from X-Amzn-ErrorType or __type (after
// any "namespace#" and before any ":"), the message from "message" or "Message".
func decodeError(resp *http.Response, data []byte) *APIError {
	var body struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	json.Unmarshal(data, &body) // a body that is not JSON leaves the fields empty
	e := &APIError{StatusCode: resp.StatusCode, Message: body.Message, RequestID: resp.Header.Get("X-Amzn-Requestid")}
	if e.Message == "" {
		e.Message = body.Message2
	}
	code := resp.Header.Get("X-Amzn-Errortype")
	if code == "" {
		code = body.Type
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	code, _, _ = strings.Cut(code, ":")
	if code == "" {
		code = fmt.Sprintf("HTTP%d", resp.StatusCode)
		if e.Message == "" {
			e.Message = truncate(strings.TrimSpace(string(data)), 200)
		}
	}
	e.Code = code
	return e
}
