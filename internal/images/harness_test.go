package images

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a container log that tests can read while images write.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// running is an image started by startImage.
type running struct {
	t      *testing.T
	mu     sync.Mutex
	addrs  map[string]string // requested address -> real 127.0.0.1 address
	out    *syncBuffer
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returns
	err    error         // what Run returned, once done is closed
}

// testEnv returns an Env whose Listen opens 127.0.0.1 listeners on free
// ports and records which port the image asked for.
func (r *running) testEnv(env Env) Env {
	env.Stdout = r.out
	env.Listen = func(network, addr string) (net.Listener, error) {
		ln, err := net.Listen(network, "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		r.addrs[addr] = ln.Addr().String()
		r.mu.Unlock()
		return ln, nil
	}
	return env
}

// startImage runs img and waits until it listens on every wanted address
// (as the image asks for it, e.g. ":80").
func startImage(t *testing.T, img Image, env Env, want ...string) *running {
	t.Helper()
	r := &running{t: t, addrs: map[string]string{}, out: &syncBuffer{}, done: make(chan struct{})}
	env = r.testEnv(env)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		r.err = img.Run(ctx, env)
		close(r.done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		n := 0
		for _, w := range want {
			if _, ok := r.addrs[w]; ok {
				n++
			}
		}
		r.mu.Unlock()
		if n == len(want) {
			return r
		}
		select {
		case <-r.done:
			t.Fatalf("image stopped before listening on %v: %v", want, r.err)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("image did not listen on %v", want)
		}
	}
}

// addr is the real address of the listener the image opened for requested.
func (r *running) addr(requested string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.addrs[requested]
	if !ok {
		r.t.Fatalf("image has no listener for %s", requested)
	}
	return a
}

// stop cancels the image and returns what Run returned.
func (r *running) stop() error {
	r.t.Helper()
	r.cancel()
	select {
	case <-r.done:
		return r.err
	case <-time.After(5 * time.Second):
		r.t.Fatal("Run did not return after cancel")
		return nil
	}
}

// waitLog waits until the container log contains substr and returns it.
func (r *running) waitLog(substr string) string {
	r.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := r.out.String()
		if strings.Contains(s, substr) {
			return s
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("log does not contain %q; log:\n%s", substr, s)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// conn is a client connection that sends raw requests and reads responses.
type conn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return &conn{t: t, c: c, br: bufio.NewReader(c)}
}

func (c *conn) send(raw string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, raw); err != nil {
		c.t.Fatalf("write request: %v", err)
	}
}

// response is one raw response: the header block as sent and the body.
type response struct {
	head string // status line and headers, each ending in CRLF, without the blank line
	resp *http.Response
	body string
}

// read reads one response to a request with the given method.
func (c *conn) read(method string) *response {
	c.t.Helper()
	// Keep the header block's exact bytes: look at what is buffered and
	// read more only while the blank line has not arrived.
	var head []byte
	for {
		buf, _ := c.br.Peek(c.br.Buffered())
		if i := bytes.Index(buf, []byte("\r\n\r\n")); i >= 0 {
			head = buf[:i+2] // keep the last header's CRLF
			break
		}
		if _, err := c.br.Peek(c.br.Buffered() + 1); err != nil {
			c.t.Fatalf("read response head: %v (got %q)", err, buf)
		}
	}
	headText := string(head)
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		c.t.Fatalf("parse response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read body: %v", err)
	}
	return &response{head: headText, resp: resp, body: string(body)}
}

// roundTrip sends raw on a new connection and reads one response.
func roundTrip(t *testing.T, addr, method, raw string) *response {
	t.Helper()
	c := dial(t, addr)
	c.send(raw)
	return c.read(method)
}

// headerNames lists the header names of a raw header block in order.
func headerNames(head string) []string {
	var names []string
	for i, line := range strings.Split(strings.TrimSuffix(head, "\r\n"), "\r\n") {
		if i == 0 {
			continue
		}
		name, _, _ := strings.Cut(line, ":")
		names = append(names, name)
	}
	return names
}

// closedByPeer reports whether the server closed c.
func (c *conn) closedByPeer() bool {
	c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.br.ReadByte()
	return errors.Is(err, io.EOF) || err != nil && !isTimeout(err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// fixedClock is the time tests pin images' clocks to.
var fixedClock = time.Date(2026, time.November, 24, 5, 39, 18, 0, time.UTC)
