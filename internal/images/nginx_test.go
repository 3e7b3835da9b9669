package images

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func startNginx(t *testing.T, tag string) *running {
	t.Helper()
	n := newNginx(tag)
	n.now = func() time.Time { return fixedClock }
	return startImage(t, n, Env{PodName: "nginx-deployment-5c4856dfd6-j2srr"}, ":80")
}

func TestNginxWelcome(t *testing.T) {
	r := startNginx(t, "latest")
	resp := roundTrip(t, r.addr(":80"), "GET", "GET / HTTP/1.1\r\nHost: 10.103.98.179\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n")
	lines := strings.Split(strings.TrimSuffix(resp.head, "\r\n"), "\r\n")
	if lines[0] != "HTTP/1.1 200 OK" {
		t.Errorf("status line %q", lines[0])
	}
	wantHead := []string{
		"HTTP/1.1 200 OK",
		"Server: nginx/1.27.3",
		"Date: Tue, 24 Nov 2026 05:39:18 GMT",
		"Content-Type: text/html",
		"Content-Length: 615",
		"Last-Modified: Tue, 26 Nov 2024 15:55:00 GMT",
		"Connection: keep-alive",
		`ETag: "6745ef54-267"`,
		"Accept-Ranges: bytes",
	}
	if !slices.Equal(lines, wantHead) {
		t.Errorf("head:\n%s\nwant:\n%s", resp.head, strings.Join(wantHead, "\r\n"))
	}
	if resp.body != nginxWelcome {
		t.Errorf("body is not the welcome page:\n%s", resp.body)
	}
	if !strings.HasPrefix(resp.body, "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>") {
		t.Errorf("welcome page starts %q", resp.body[:60])
	}
	log := r.waitLog(`"GET / HTTP/1.1" 200`)
	want := `127.0.0.1 - - [24/Nov/2026:05:39:18 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/8.5.0" "-"` + "\n"
	if !strings.Contains(log, want) {
		t.Errorf("access log:\n%s\nwant line:\n%s", log, want)
	}
}

func TestNginxHeadAndKeepAlive(t *testing.T) {
	r := startNginx(t, "1.25.3")
	c := dial(t, r.addr(":80"))
	c.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
	head := c.read("HEAD")
	if head.resp.StatusCode != 200 || head.body != "" || head.resp.Header.Get("Content-Length") != "615" {
		t.Errorf("HEAD: status %d, body %q, Content-Length %q", head.resp.StatusCode, head.body, head.resp.Header.Get("Content-Length"))
	}
	if got := head.resp.Header.Get("Server"); got != "nginx/1.25.3" {
		t.Errorf("Server %q, want nginx/1.25.3", got)
	}
	// Pipelined requests on the same connection.
	c.send("GET /index.html HTTP/1.1\r\nHost: a\r\n\r\nGET /50x.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	if got := c.read("GET"); got.body != nginxWelcome {
		t.Errorf("GET /index.html on a kept-alive connection: %d %q", got.resp.StatusCode, got.body)
	}
	last := c.read("GET")
	if last.resp.StatusCode != 200 || last.body != nginx50x || !strings.Contains(last.head, "\r\nConnection: close\r\n") {
		t.Errorf("GET /50x.html: %d\n%s", last.resp.StatusCode, last.head)
	}
	if !c.closedByPeer() {
		t.Errorf("connection open after Connection: close")
	}
	log := r.waitLog(`"GET /50x.html HTTP/1.1" 200 497`)
	if !strings.Contains(log, `"HEAD / HTTP/1.1" 200 0 "-" "-" "-"`) {
		t.Errorf("HEAD access log line missing:\n%s", log)
	}

	// HTTP/1.0 closes unless it asks for keep-alive.
	c10 := dial(t, r.addr(":80"))
	c10.send("GET / HTTP/1.0\r\n\r\n")
	if got := c10.read("GET"); !strings.Contains(got.head, "\r\nConnection: close\r\n") || got.resp.StatusCode != 200 {
		t.Errorf("HTTP/1.0: %d\n%s", got.resp.StatusCode, got.head)
	}
	if !c10.closedByPeer() {
		t.Errorf("HTTP/1.0 connection left open")
	}
}

func TestNginxErrors(t *testing.T) {
	r := startNginx(t, "latest")
	addr := r.addr(":80")
	notFound := roundTrip(t, addr, "GET", "GET /nope HTTP/1.1\r\nHost: a\r\nUser-Agent: curl/8.5.0\r\n\r\n")
	wantBody := "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.27.3</center>\r\n</body>\r\n</html>\r\n"
	if notFound.resp.StatusCode != 404 || notFound.body != wantBody {
		t.Errorf("404: status %d body %q", notFound.resp.StatusCode, notFound.body)
	}
	wantNames := []string{"Server", "Date", "Content-Type", "Content-Length", "Connection"}
	if got := headerNames(notFound.head); !slices.Equal(got, wantNames) {
		t.Errorf("404 headers %v, want %v", got, wantNames)
	}
	if !strings.HasPrefix(notFound.head, "HTTP/1.1 404 Not Found\r\n") || notFound.resp.Header.Get("Content-Type") != "text/html" {
		t.Errorf("404 head:\n%s", notFound.head)
	}
	r.waitLog(`"GET /nope HTTP/1.1" 404 153 "-" "curl/8.5.0" "-"`)

	for _, tt := range []struct {
		raw    string
		status int
		line   string
	}{
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", 405, "HTTP/1.1 405 Not Allowed"},
		{"POST /nope HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", 404, "HTTP/1.1 404 Not Found"},
		{"DELETE /index.html HTTP/1.1\r\nHost: a\r\n\r\n", 405, "HTTP/1.1 405 Not Allowed"},
		{"GET /../etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n", 400, "HTTP/1.1 400 Bad Request"},
		{"GET / HTTP/1.1\r\n\r\n", 400, "HTTP/1.1 400 Bad Request"},
		{"GET //./index.html HTTP/1.1\r\nHost: a\r\n\r\n", 200, "HTTP/1.1 200 OK"},
		{"GET /dir/ HTTP/1.1\r\nHost: a\r\n\r\n", 404, "HTTP/1.1 404 Not Found"},
		{"GET /?a=b HTTP/1.1\r\nHost: a\r\n\r\n", 200, "HTTP/1.1 200 OK"},
	} {
		got := roundTrip(t, addr, "GET", tt.raw)
		if got.resp.StatusCode != tt.status || !strings.HasPrefix(got.head, tt.line+"\r\n") {
			t.Errorf("%q: got %q, want %s", tt.raw, strings.SplitN(got.head, "\r\n", 2)[0], tt.line)
		}
	}

	roundTrip(t, addr, "GET", "GET /nohost HTTP/1.1\r\nUser-Agent: curl/8.5.0\r\n\r\n")
	r.waitLog(`"GET /nohost HTTP/1.1" 400 157 "-" "curl/8.5.0" "-"`)

	bad := roundTrip(t, addr, "GET", "BOGUS\r\n\r\n")
	if bad.resp.StatusCode != 400 || !strings.Contains(bad.head, "\r\nConnection: close\r\n") {
		t.Errorf("malformed request: %d\n%s", bad.resp.StatusCode, bad.head)
	}
	r.waitLog(`"BOGUS" 400 157 "-" "-" "-"`)
}

func TestNginxConditionalAndRange(t *testing.T) {
	r := startNginx(t, "latest")
	addr := r.addr(":80")
	nm := roundTrip(t, addr, "GET", "GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"6745ef54-267\"\r\n\r\n")
	if nm.resp.StatusCode != 304 || nm.body != "" {
		t.Errorf("If-None-Match: %d %q", nm.resp.StatusCode, nm.body)
	}
	ims := roundTrip(t, addr, "GET", "GET / HTTP/1.1\r\nHost: a\r\nIf-Modified-Since: Tue, 26 Nov 2024 15:55:00 GMT\r\n\r\n")
	if ims.resp.StatusCode != 304 {
		t.Errorf("If-Modified-Since: %d", ims.resp.StatusCode)
	}
	part := roundTrip(t, addr, "GET", "GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-14\r\n\r\n")
	if part.resp.StatusCode != 206 || part.body != "<!DOCTYPE html>" || part.resp.Header.Get("Content-Range") != "bytes 0-14/615" {
		t.Errorf("range: %d %q %q", part.resp.StatusCode, part.body, part.resp.Header.Get("Content-Range"))
	}
	suffix := roundTrip(t, addr, "GET", "GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=-8\r\n\r\n")
	if suffix.body != "</html>\n" {
		t.Errorf("suffix range body %q", suffix.body)
	}
	unsat := roundTrip(t, addr, "GET", "GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=700-\r\n\r\n")
	if unsat.resp.StatusCode != 416 || unsat.resp.Header.Get("Content-Range") != "bytes */615" {
		t.Errorf("unsatisfiable range: %d %q", unsat.resp.StatusCode, unsat.resp.Header.Get("Content-Range"))
	}
}

func TestNginxLogs(t *testing.T) {
	r := startNginx(t, "latest")
	log := r.waitLog("start worker process")
	for _, want := range []string{
		"/docker-entrypoint.sh: Configuration complete; ready for start up\n",
		"2026/11/24 05:39:18 [notice] 1#1: nginx/1.27.3\n",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("start-up log lacks %q:\n%s", want, log)
		}
	}
	c := dial(t, r.addr(":80"))
	c.send("GET /x%22y HTTP/1.1\r\nHost: a\r\nUser-Agent: a\"b\r\nReferer: http://r/\r\nX-Forwarded-For: 192.168.1.1\r\nAuthorization: Basic dXNlcjpwdw==\r\n\r\n")
	c.read("GET")
	r.waitLog(`127.0.0.1 - user [24/Nov/2026:05:39:18 +0000] "GET /x%22y HTTP/1.1" 404 153 "http://r/" "a\x22b" "192.168.1.1"`)
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if log := r.out.String(); !strings.HasSuffix(log, "[notice] 1#1: exit\n") {
		t.Errorf("shutdown log:\n%s", log)
	}
}

func TestNginxVersion(t *testing.T) {
	for tag, want := range map[string]string{
		"latest": nginxMainline, "mainline": nginxMainline, "stable": nginxStable,
		"stable-alpine": nginxStable, "1.27.3": "1.27.3", "1.19": "1.19.10", "1.30": "1.30.0",
		"1.14.2-alpine": "1.14.2", "": nginxMainline,
	} {
		if got := nginxVersion(tag); got != want {
			t.Errorf("nginxVersion(%q) = %q, want %q", tag, got, want)
		}
	}
}

func TestCleanURIPath(t *testing.T) {
	for in, want := range map[string]string{
		"": "/", "/": "/", "/a//b": "/a/b", "/a/./b/": "/a/b/", "/a/b/..": "/a/", "/a/../..": "!", "/..": "!",
	} {
		got, ok := cleanURIPath(in)
		if !ok {
			got = "!"
		}
		if got != want {
			t.Errorf("cleanURIPath(%q) = %q, want %q", in, got, want)
		}
	}
}
