package images

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestEchoServerSeedOutput(t *testing.T) {
	r := startImage(t, echoServer{}, Env{PodName: "nginx1-deployment-8458b98748-75hlx"}, ":8080")
	resp := roundTrip(t, r.addr(":8080"), "GET", "GET / HTTP/1.1\r\nHost: 10.105.151.217\r\nUser-Agent: curl/7.29.0\r\nAccept: */*\r\n\r\n")
	want := "Request served by nginx1-deployment-8458b98748-75hlx\n\nGET / HTTP/1.1\n\nHost: 10.105.151.217\nAccept: */*\nUser-Agent: curl/7.29.0\n"
	if resp.body != want {
		t.Errorf("body:\n%q\nwant:\n%q", resp.body, want)
	}
	if !strings.HasPrefix(resp.head, "HTTP/1.1 200 OK\r\n") || resp.resp.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("head:\n%s", resp.head)
	}
	log := r.waitLog(" | GET /\n")
	if !strings.HasPrefix(log, "Echo server listening on port 8080.\n127.0.0.1:") {
		t.Errorf("log:\n%s", log)
	}
}

func TestEchoServerOptions(t *testing.T) {
	env := Env{PodName: "echo-0", Env: map[string]string{"PORT": "9090", "SEND_HEADER_X_Served_By": "kin", "LOG_HTTP_HEADERS": "1"}}
	r := startImage(t, echoServer{}, env, ":9090")
	addr := r.addr(":9090")
	resp := roundTrip(t, addr, "POST", "POST /a?b=c HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 192.168.1.1\r\nContent-Length: 5\r\n\r\nhello")
	want := "Request served by echo-0\n\nPOST /a?b=c HTTP/1.1\n\nHost: x\nContent-Length: 5\nX-Forwarded-For: 192.168.1.1\n\nhello"
	if resp.body != want {
		t.Errorf("body:\n%q\nwant:\n%q", resp.body, want)
	}
	if got := resp.resp.Header.Get("X-Served-By"); got != "kin" {
		t.Errorf("SEND_HEADER_ header: %q", got)
	}
	r.waitLog("Headers\nContent-Length: 5\nX-Forwarded-For: 192.168.1.1\n")
	r.waitLog("--------  127.0.0.1:")

	quiet := roundTrip(t, addr, "GET", "GET / HTTP/1.1\r\nHost: x\r\nX-Send-Server-Hostname: false\r\n\r\n")
	if !strings.HasPrefix(quiet.body, "GET / HTTP/1.1\n") {
		t.Errorf("X-Send-Server-Hostname: false still names the server:\n%s", quiet.body)
	}
	page := roundTrip(t, addr, "GET", "GET /.ws HTTP/1.1\r\nHost: x\r\n\r\n")
	if !strings.Contains(page.body, "new WebSocket(") || !strings.HasPrefix(page.resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("/.ws page: %q\n%s", page.resp.Header.Get("Content-Type"), page.body)
	}
}

func TestEchoServerH2C(t *testing.T) {
	r := startImage(t, echoServer{}, Env{PodName: "echo-0"}, ":8080")
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &p}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("http://" + r.addr(":8080") + "/h2")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || !strings.Contains(string(body), "GET /h2 HTTP/2.0\n") {
		t.Errorf("h2c: %s\n%s", resp.Proto, body)
	}
}

// wsFrame builds a masked client frame.
func wsFrame(op byte, payload []byte) []byte {
	mask := [4]byte{1, 2, 3, 4}
	f := []byte{0x80 | op, 0x80 | byte(len(payload))}
	f = append(f, mask[:]...)
	for i, b := range payload {
		f = append(f, b^mask[i%4])
	}
	return f
}

// readFrame reads one unmasked server frame.
func readFrame(t *testing.T, br *bufio.Reader) (byte, []byte) {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		t.Fatalf("read frame: %v", err)
	}
	if h[1]&0x80 != 0 {
		t.Fatalf("server frame is masked")
	}
	n := int(h[1] & 0x7F)
	if n == 126 {
		var ext [2]byte
		io.ReadFull(br, ext[:])
		n = int(binary.BigEndian.Uint16(ext[:]))
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		t.Fatalf("read payload: %v", err)
	}
	return h[0] & 0x0F, p
}

func TestEchoServerWebSocket(t *testing.T) {
	r := startImage(t, echoServer{}, Env{PodName: "echo-0"}, ":8080")
	c := dial(t, r.addr(":8080"))
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	c.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + "\r\n\r\n")
	status, _ := c.br.ReadString('\n')
	if status != "HTTP/1.1 101 Switching Protocols\r\n" {
		t.Fatalf("handshake status %q", status)
	}
	sum := sha1.Sum([]byte(key + wsGUID))
	accept := base64.StdEncoding.EncodeToString(sum[:])
	sawAccept := false
	for {
		line, err := c.br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
		if line == "Sec-WebSocket-Accept: "+accept+"\r\n" {
			sawAccept = true
		}
	}
	if !sawAccept {
		t.Errorf("no matching Sec-WebSocket-Accept")
	}
	if op, p := readFrame(t, c.br); op != wsText || string(p) != "Request served by echo-0" {
		t.Errorf("greeting: op %d %q", op, p)
	}
	c.c.Write(wsFrame(wsText, []byte("hello")))
	if op, p := readFrame(t, c.br); op != wsText || string(p) != "hello" {
		t.Errorf("echo: op %d %q", op, p)
	}
	c.c.Write(wsFrame(wsPing, []byte("pp")))
	if op, p := readFrame(t, c.br); op != wsPong || string(p) != "pp" {
		t.Errorf("pong: op %d %q", op, p)
	}
	c.c.Write(wsFrame(wsBinary, []byte{0, 1, 2}))
	if op, p := readFrame(t, c.br); op != wsBinary || len(p) != 3 {
		t.Errorf("binary echo: op %d %v", op, p)
	}
	c.c.Write(wsFrame(wsClose, []byte{0x03, 0xE8}))
	if op, p := readFrame(t, c.br); op != wsClose || binary.BigEndian.Uint16(p) != 1000 {
		t.Errorf("close reply: op %d %v", op, p)
	}
	log := r.waitLog("websocket: close 1000 (normal)\n")
	for _, want := range []string{" | upgraded to websocket\n", " | txt | hello\n", " | bin | 3 byte(s)\n"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}

	bad := roundTrip(t, r.addr(":8080"), "GET", "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: "+key+"\r\n\r\n")
	if bad.resp.StatusCode != 400 || bad.resp.Header.Get("Sec-Websocket-Version") != "13" {
		t.Errorf("bad version: %d\n%s", bad.resp.StatusCode, bad.head)
	}
	r.waitLog("websocket: unsupported version: 13 not found in 'Sec-Websocket-Version' header\n")
}

func TestEchoServerSSE(t *testing.T) {
	r := startImage(t, echoServer{}, Env{PodName: "echo-0"}, ":8080")
	c := dial(t, r.addr(":8080"))
	c.send("GET /.sse HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(c.br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	br := bufio.NewReader(resp.Body)
	var got []string
	for len(got) < 9 {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("read events: %v (got %q)", err, got)
		}
		got = append(got, line)
	}
	want := []string{"event: server\n", "data: echo-0\n", "id: 1\n", "\n", "event: request\n", "data: GET /.sse HTTP/1.1\n", "data: \n", "data: Host: x\n", "data: \n"}
	if strings.Join(got, "") != strings.Join(want, "") {
		t.Errorf("events:\n%q\nwant:\n%q", got, want)
	}
}

func TestGame2048(t *testing.T) {
	r := startImage(t, game2048{}, Env{PodName: "deployment-2048-abc"}, ":80")
	resp := roundTrip(t, r.addr(":80"), "GET", "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp.resp.StatusCode != 200 || !strings.Contains(resp.body, "<title>2048</title>") || !strings.Contains(resp.body, "function move(dir)") {
		t.Errorf("game page: %d\n%.200s", resp.resp.StatusCode, resp.body)
	}
	if got := resp.resp.Header.Get("Server"); got != "nginx/"+game2048Version {
		t.Errorf("Server %q", got)
	}
	if nf := roundTrip(t, r.addr(":80"), "GET", "GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n"); nf.resp.StatusCode != 404 {
		t.Errorf("/favicon.ico: %d", nf.resp.StatusCode)
	}
	if log := r.out.String(); log != "" {
		t.Errorf("docker-2048 logged to stdout:\n%s", log)
	}
}

func TestHelloApp(t *testing.T) {
	img, _ := Lookup("gcr.io/google-samples/hello-app:2.0")
	r := startImage(t, img, Env{PodName: "hello-7d9c8b4f5-x2x9z"}, ":8080")
	resp := roundTrip(t, r.addr(":8080"), "GET", "GET /greet HTTP/1.1\r\nHost: x\r\n\r\n")
	if want := "Hello, world!\nVersion: 2.0.0\nHostname: hello-7d9c8b4f5-x2x9z\n"; resp.body != want {
		t.Errorf("body %q, want %q", resp.body, want)
	}
	log := r.waitLog("Serving request: /greet\n")
	if !strings.Contains(log, " Server listening on port 8080\n") {
		t.Errorf("log:\n%s", log)
	}
}
