package images

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ngxServer is a small HTTP/1.x server that behaves like nginx on the wire:
// nginx's status lines and reason phrases, its header order, its error pages,
// its keep-alive rules and its access log formats. The nginx-based images
// (nginx, echoserver, docker-2048) put their content handlers on it.
type ngxServer struct {
	version       string        // nginx version: Server header and error pages
	scheme        string        // "http" or "https"
	port          string        // $server_port: the port nginx is configured to listen on
	keepalive     time.Duration // keepalive_timeout
	keepaliveReqs int           // keepalive_requests
	maxBody       int64         // client_max_body_size
	accessLog     logFormat     // nil: no access log on stdout
	log           *logWriter
	handle        func(r *ngxRequest) *ngxResponse
	now           func() time.Time
}

// ngxRequest is one parsed request with nginx's view of it.
type ngxRequest struct {
	*http.Request
	line       string // $request: the request line as received
	body       []byte // the request body, nil if there is none
	remoteAddr string // $remote_addr
	remoteUser string // $remote_user
	host       string // $host
	scheme     string // $scheme
	serverPort string // $server_port
}

// ngxResponse is what a content handler returns. The server adds Server,
// Date, Content-Length or Transfer-Encoding and Connection in nginx's order.
type ngxResponse struct {
	status       int
	server       string // Server header value; "" means "nginx/VERSION"
	contentType  string
	body         []byte
	chunked      bool // send the body as one chunk, without Content-Length
	lastModified time.Time
	headers      [][2]string // written after Connection, in this order
	close        bool        // close the connection after this response
}

// logFormat renders one access log line (with its newline).
type logFormat func(e *accessEntry) string

// accessEntry holds the variables nginx's access log formats use.
type accessEntry struct {
	remoteAddr, remoteUser string
	time                   time.Time
	request                string
	status                 int
	bodyBytesSent          int64
	referer, userAgent     string
	forwardedFor           string
}

// logMain is the "main" format of the nginx image's /etc/nginx/nginx.conf.
func logMain(e *accessEntry) string {
	return fmt.Sprintf("%s - %s [%s] \"%s\" %d %d \"%s\" \"%s\" \"%s\"\n",
		e.remoteAddr, logVar(e.remoteUser), e.time.Format(timeLocal), logEscape(e.request),
		e.status, e.bodyBytesSent, logVar(e.referer), logVar(e.userAgent), logVar(e.forwardedFor))
}

// logCombined is nginx's predefined "combined" format.
func logCombined(e *accessEntry) string {
	return fmt.Sprintf("%s - %s [%s] \"%s\" %d %d \"%s\" \"%s\"\n",
		e.remoteAddr, logVar(e.remoteUser), e.time.Format(timeLocal), logEscape(e.request),
		e.status, e.bodyBytesSent, logVar(e.referer), logVar(e.userAgent))
}

// timeLocal is the layout of nginx's $time_local.
const timeLocal = "02/Jan/2006:15:04:05 -0700"

// logVar renders a variable the way nginx's access log does: "-" when it is
// empty, otherwise escaped.
func logVar(s string) string {
	if s == "" {
		return "-"
	}
	return logEscape(s)
}

// logEscape escapes '"', '\\' and bytes outside printable ASCII as \xHH, as
// nginx's access log does by default.
func logEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' || c == '\\' || c < 0x20 || c >= 0x7f {
			fmt.Fprintf(&b, "\\x%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// ngxReason holds nginx's own reason phrases, which differ from Go's for
// some codes (405 is "Not Allowed").
var ngxReason = map[int]string{
	200: "OK",
	206: "Partial Content",
	301: "Moved Permanently",
	302: "Moved Temporarily",
	304: "Not Modified",
	400: "Bad Request",
	403: "Forbidden",
	404: "Not Found",
	405: "Not Allowed",
	408: "Request Time-out",
	411: "Length Required",
	413: "Request Entity Too Large",
	414: "Request-URI Too Large",
	416: "Requested Range Not Satisfiable",
	500: "Internal Server Error",
	501: "Not Implemented",
	502: "Bad Gateway",
	503: "Service Temporarily Unavailable",
	504: "Gateway Time-out",
}

func statusLine(code int) string {
	reason, ok := ngxReason[code]
	if !ok {
		reason = http.StatusText(code)
	}
	return fmt.Sprintf("%d %s", code, reason)
}

// errorPage is nginx's built-in error page for code, as served with
// server_tokens on.
func (s *ngxServer) errorPage(code int) *ngxResponse {
	line := statusLine(code)
	body := "<html>\r\n<head><title>" + line + "</title></head>\r\n<body>\r\n" +
		"<center><h1>" + line + "</h1></center>\r\n" +
		"<hr><center>nginx/" + s.version + "</center>\r\n</body>\r\n</html>\r\n"
	return &ngxResponse{status: code, contentType: "text/html", body: []byte(body)}
}

// Timeouts nginx applies while reading a request.
const (
	ngxHeaderTimeout = 60 * time.Second // client_header_timeout
	ngxBodyTimeout   = 60 * time.Second // client_body_timeout
)

// serveConn serves requests on one connection until the client closes it,
// keep-alive ends or ctx is cancelled.
func (s *ngxServer) serveConn(ctx context.Context, c net.Conn) {
	stop := context.AfterFunc(ctx, func() { c.SetReadDeadline(time.Now()) })
	defer stop()
	br := bufio.NewReaderSize(c, 8192)
	bw := bufio.NewWriterSize(c, 16384)
	remote := remoteIP(c.RemoteAddr())
	for n := 1; ctx.Err() == nil; n++ {
		wait := ngxHeaderTimeout
		if n > 1 {
			wait = s.keepalive
		}
		c.SetReadDeadline(time.Now().Add(wait))
		if _, err := br.Peek(1); err != nil {
			return // closed, idle timeout or shutdown: nginx logs nothing
		}
		if ctx.Err() != nil {
			return
		}
		line := bufferedLine(br)
		c.SetReadDeadline(time.Now().Add(ngxHeaderTimeout))
		req, err := http.ReadRequest(br)
		if err != nil {
			s.finish(bw, &ngxRequest{line: line, remoteAddr: remote}, s.withClose(s.errorPage(http.StatusBadRequest)), false)
			return
		}
		if !validRequest(req) {
			// nginx has read the headers by now, so they make it to the log.
			s.finish(bw, &ngxRequest{Request: req, line: line, remoteAddr: remote}, s.withClose(s.errorPage(http.StatusBadRequest)), false)
			return
		}
		r := &ngxRequest{
			Request:    req,
			line:       line,
			remoteAddr: remote,
			remoteUser: basicUser(req),
			host:       ngxHost(req),
			scheme:     s.scheme,
			serverPort: s.port,
		}
		keep := wantsKeepAlive(req) && n < s.keepaliveReqs
		if req.ContentLength > s.maxBody {
			s.finish(bw, r, s.withClose(s.errorPage(http.StatusRequestEntityTooLarge)), false)
			return
		}
		if hasBody(req) {
			if strings.EqualFold(req.Header.Get("Expect"), "100-continue") && req.ProtoAtLeast(1, 1) {
				bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
				if bw.Flush() != nil {
					return
				}
			}
			c.SetReadDeadline(time.Now().Add(ngxBodyTimeout))
			body, err := io.ReadAll(io.LimitReader(req.Body, s.maxBody+1))
			if err != nil {
				return
			}
			if int64(len(body)) > s.maxBody {
				s.finish(bw, r, s.withClose(s.errorPage(http.StatusRequestEntityTooLarge)), false)
				return
			}
			if len(body) > 0 {
				r.body = body
			}
		}
		resp := s.handle(r)
		if resp.close {
			keep = false
		}
		if !s.finish(bw, r, resp, keep) || !keep {
			return
		}
	}
}

func (s *ngxServer) withClose(r *ngxResponse) *ngxResponse {
	r.close = true
	return r
}

// finish writes resp and its access log line. It reports whether the
// connection is still usable.
func (s *ngxServer) finish(bw *bufio.Writer, r *ngxRequest, resp *ngxResponse, keep bool) bool {
	sent, err := s.write(bw, r, resp, keep && !resp.close)
	if s.accessLog != nil {
		e := &accessEntry{
			remoteAddr:    r.remoteAddr,
			remoteUser:    r.remoteUser,
			time:          s.now(),
			request:       r.line,
			status:        resp.status,
			bodyBytesSent: sent,
		}
		if r.Request != nil {
			e.referer = r.Header.Get("Referer")
			e.userAgent = r.Header.Get("User-Agent")
			e.forwardedFor = strings.Join(r.Header.Values("X-Forwarded-For"), ", ")
		}
		s.log.printf("%s", s.accessLog(e))
	}
	return err == nil
}

// write sends resp; it returns $body_bytes_sent, which for chunked responses
// includes the chunk framing, as in nginx.
func (s *ngxServer) write(bw *bufio.Writer, r *ngxRequest, resp *ngxResponse, keep bool) (int64, error) {
	head := r.Request != nil && r.Method == http.MethodHead
	server := resp.server
	if server == "" {
		server = "nginx/" + s.version
	}
	var b strings.Builder
	b.WriteString("HTTP/1.1 " + statusLine(resp.status) + "\r\n")
	b.WriteString("Server: " + server + "\r\n")
	b.WriteString("Date: " + s.now().UTC().Format(http.TimeFormat) + "\r\n")
	if resp.contentType != "" {
		b.WriteString("Content-Type: " + resp.contentType + "\r\n")
	}
	noBody := resp.status == http.StatusNotModified || resp.status == http.StatusNoContent
	if !resp.chunked && !noBody {
		b.WriteString("Content-Length: " + strconv.Itoa(len(resp.body)) + "\r\n")
	}
	if !resp.lastModified.IsZero() {
		b.WriteString("Last-Modified: " + resp.lastModified.UTC().Format(http.TimeFormat) + "\r\n")
	}
	if resp.chunked && !head {
		b.WriteString("Transfer-Encoding: chunked\r\n")
	}
	if keep {
		b.WriteString("Connection: keep-alive\r\n")
	} else {
		b.WriteString("Connection: close\r\n")
	}
	for _, h := range resp.headers {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString("\r\n")
	bw.WriteString(b.String())
	var sent int64
	if !head && !noBody {
		if resp.chunked {
			var c strings.Builder
			if len(resp.body) > 0 {
				fmt.Fprintf(&c, "%x\r\n", len(resp.body))
				c.Write(resp.body)
				c.WriteString("\r\n")
			}
			c.WriteString("0\r\n\r\n")
			bw.WriteString(c.String())
			sent = int64(c.Len())
		} else {
			bw.Write(resp.body)
			sent = int64(len(resp.body))
		}
	}
	return sent, bw.Flush()
}

// bufferedLine returns the request line if it is already buffered, which
// it is for any request that fits one read; the access log needs it even
// when the request cannot be parsed.
func bufferedLine(br *bufio.Reader) string {
	buf, _ := br.Peek(br.Buffered())
	if i := strings.IndexByte(string(buf), '\n'); i >= 0 {
		buf = buf[:i]
	}
	return strings.TrimRight(string(buf), "\r")
}

// validRequest applies the checks nginx makes that http.ReadRequest does
// not: upper-case methods, HTTP/1.x, and a host in HTTP/1.1 requests.
// (ReadRequest itself refuses repeated Host headers.)
func validRequest(req *http.Request) bool {
	for _, c := range req.Method {
		if (c < 'A' || c > 'Z') && c != '_' && c != '-' {
			return false
		}
	}
	if req.ProtoMajor != 1 {
		return false
	}
	return req.Host != "" || !req.ProtoAtLeast(1, 1)
}

// wantsKeepAlive applies HTTP/1.0 and HTTP/1.1 keep-alive defaults.
func wantsKeepAlive(req *http.Request) bool {
	conn := strings.ToLower(strings.Join(req.Header.Values("Connection"), ","))
	if req.ProtoAtLeast(1, 1) {
		return !strings.Contains(conn, "close")
	}
	return strings.Contains(conn, "keep-alive")
}

func hasBody(req *http.Request) bool {
	return req.ContentLength > 0 || req.ContentLength < 0 && len(req.TransferEncoding) > 0
}

// ngxHost is $host: the host from the request line, else the Host header,
// lower-cased and without its port, else the server name ("_" in the
// images' configurations).
func ngxHost(req *http.Request) string {
	h := req.Host // the request line's host, else the Host header
	if h == "" {
		return "_"
	}
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
		if strings.Contains(h, ":") {
			h = "[" + h + "]"
		}
	}
	return strings.ToLower(h)
}

// basicUser is $remote_user: the user name of a Basic Authorization header.
func basicUser(req *http.Request) string {
	auth := req.Header.Get("Authorization")
	scheme, cred, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return ""
	}
	user, _, _ := strings.Cut(string(raw), ":")
	return user
}

// remoteIP is the address part of a peer address.
func remoteIP(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		if ip4 := ta.IP.To4(); ip4 != nil {
			return ip4.String()
		}
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// ngxBindError logs a failed bind the way nginx does before it exits.
func ngxBindError(log *logWriter, now time.Time, port string, err error) {
	msg := err.Error()
	var errno syscall.Errno
	if errors.As(err, &errno) {
		text := errno.Error()
		if text != "" {
			text = strings.ToUpper(text[:1]) + text[1:]
		}
		msg = fmt.Sprintf("%d: %s", int(errno), text)
	}
	log.printf("%s [emerg] 1#1: bind() to 0.0.0.0:%s failed (%s)\nnginx: [emerg] bind() to 0.0.0.0:%s failed (%s)\n",
		now.Format("2006/01/02 15:04:05"), port, msg, port, msg)
}
