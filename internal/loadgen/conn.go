package loadgen

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// conn is one keep-alive HTTP/1.1 connection, used by one client goroutine at a time. The
// load generator writes requests itself and reads responses with net/http's parser: a
// client per connection needs no pool, no per-request goroutine hand-offs and no header
// maps on the way out, which keeps the client's share of the machine small.
type conn struct {
	addr    string      // host:port to dial
	tlsConf *tls.Config // nil for http
	timeout time.Duration

	c  net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

func (c *conn) close() {
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
}

func (c *conn) dial(ctx context.Context) error {
	d := net.Dialer{Timeout: c.timeout, KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return fmt.Errorf("loadgen: dial %s: %w", c.addr, err)
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	if c.tlsConf != nil {
		tc := tls.Client(nc, c.tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return fmt.Errorf("loadgen: TLS handshake with %s: %w", c.addr, err)
		}
		nc = tc
	}
	c.c = nc
	if c.br == nil {
		c.br = bufio.NewReaderSize(nc, 16<<10)
		c.bw = bufio.NewWriterSize(nc, 8<<10)
	} else {
		c.br.Reset(nc)
		c.bw.Reset(nc)
	}
	return nil
}

// roundTrip writes head (the request line and headers, ending in an empty line) and body,
// and returns the response status, its X-Amzn-ErrorType header and its body, read into
// dst's storage. A broken connection is redialled once when nothing of the request can have
// reached the server; otherwise its error is returned, and the request's outcome is unknown.
func (c *conn) roundTrip(ctx context.Context, head, body, dst []byte) (status int, errType string, out []byte, err error) {
	fresh := false
	if c.c == nil {
		if err := c.dial(ctx); err != nil {
			return 0, "", dst, err
		}
		fresh = true
	}
	status, errType, out, err = c.exchange(head, body, dst)
	if err != nil && !fresh && errors.Is(err, errStaleConn) {
		// The server closed an idle connection before reading anything: send it again.
		c.close()
		if err := c.dial(ctx); err != nil {
			return 0, "", dst, err
		}
		status, errType, out, err = c.exchange(head, body, dst)
	}
	if err != nil {
		c.close()
	}
	return status, errType, out, err
}

// errStaleConn reports a connection the server had closed before the request was sent.
var errStaleConn = errors.New("loadgen: connection closed by the server before the request")

func (c *conn) exchange(head, body, dst []byte) (int, string, []byte, error) {
	if c.timeout > 0 {
		c.c.SetDeadline(time.Now().Add(c.timeout))
	}
	c.bw.Write(head)
	c.bw.Write(body)
	if err := c.bw.Flush(); err != nil {
		return 0, "", dst, fmt.Errorf("loadgen: write request: %w", err)
	}
	// A server that closed the idle connection answers nothing: the first read sees EOF.
	if _, err := c.br.Peek(1); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
			return 0, "", dst, errStaleConn
		}
		return 0, "", dst, fmt.Errorf("loadgen: read response: %w", err)
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, "", dst, fmt.Errorf("loadgen: read response: %w", err)
	}
	out := dst[:0]
	if n := resp.ContentLength; n > 0 && int64(cap(out)) < n {
		out = make([]byte, 0, n)
	}
	for {
		if len(out) == cap(out) {
			out = append(out, 0)[:len(out)]
		}
		n, rerr := resp.Body.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return 0, "", dst, fmt.Errorf("loadgen: read response body: %w", rerr)
		}
	}
	resp.Body.Close()
	if resp.Close {
		c.close()
	}
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), out, nil
}

// isReset reports a connection reset by the peer.
func isReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && !ne.Timeout()
}

// appendHead appends an HTTP/1.1 POST request line and headers for a body of n bytes.
func appendHead(b []byte, host string, hdrs []header, auth string, n int) []byte {
	b = append(b, "POST / HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\nUser-Agent: allot-bench\r\n"...)
	for _, h := range hdrs {
		if h.name == "host" {
			continue
		}
		b = append(b, h.name...)
		b = append(b, ": "...)
		b = append(b, h.value...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "Authorization: "...)
	b = append(b, auth...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, "\r\n\r\n"...)
	return b
}
