package images

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// echoServer is jmalloc/echo-server: a Go server on $PORT (default 8080)
// that answers every request with "Request served by <hostname>", the
// request line, the Host header and the other headers sorted, then the body.
// It also echoes WebSocket messages, streams the request as server-sent
// events on /.sse and serves a small WebSocket client page on /.ws.
type echoServer struct{}

// echoHandler serves one echo-server container.
type echoHandler struct {
	env      Env
	log      *logWriter
	hostname string

	mu       sync.Mutex
	hijacked map[net.Conn]struct{}
	closed   bool
}

// Run serves jmalloc/echo-server until ctx is cancelled.
func (echoServer) Run(ctx context.Context, env Env) error {
	logw := newLogWriter(env.Stdout)
	port := "8080"
	if p, _ := envValue(env, "PORT"); p != "" {
		port = p
	}
	logw.printf("Echo server listening on port %s.\n", port)
	ln, err := listen(env, port)
	if err != nil {
		logw.printf("panic: %v\n", errors.Unwrap(err))
		return err
	}
	h := &echoHandler{env: env, log: logw, hostname: hostname(env), hijacked: map[net.Conn]struct{}{}}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Handler:   h,
		Protocols: &protocols,
		ErrorLog:  log.New(logw, "", log.LstdFlags),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		srv.Close()
		h.closeHijacked()
		<-errc
		return nil
	case err := <-errc:
		h.closeHijacked()
		return fmt.Errorf("images: echo-server: %w", err)
	}
}

func (h *echoHandler) getenv(name string) string {
	v, _ := envValue(h.env, name)
	return v
}

// ServeHTTP is the image's handler.
func (h *echoHandler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	defer req.Body.Close()
	if h.getenv("LOG_HTTP_BODY") != "" || h.getenv("LOG_HTTP_HEADERS") != "" {
		h.log.printf("--------  %s | %s %s\n", req.RemoteAddr, req.Method, req.URL)
	} else {
		h.log.printf("%s | %s %s\n", req.RemoteAddr, req.Method, req.URL)
	}
	if h.getenv("LOG_HTTP_HEADERS") != "" {
		var b strings.Builder
		b.WriteString("Headers\n")
		printHeaders(&b, req.Header)
		h.log.printf("%s", b.String())
	}
	if h.getenv("LOG_HTTP_BODY") != "" {
		var buf bytes.Buffer
		buf.ReadFrom(req.Body)
		if buf.Len() != 0 {
			var dump strings.Builder
			d := hex.Dumper(&dump)
			d.Write(buf.Bytes())
			d.Close()
			h.log.printf("%s", dump.String())
		}
		req.Body = io.NopCloser(bytes.NewReader(buf.Bytes()))
	}

	sendHostname := h.getenv("SEND_SERVER_HOSTNAME")
	if v := req.Header.Get("X-Send-Server-Hostname"); v != "" {
		sendHostname = v
	}
	send := !strings.EqualFold(sendHostname, "false")

	for key, value := range h.env.Env {
		if name, ok := strings.CutPrefix(key, "SEND_HEADER_"); ok {
			w.Header().Set(strings.ReplaceAll(name, "_", "-"), value)
		}
	}

	switch {
	case isWebSocketUpgrade(req):
		h.serveWebSocket(w, req, send)
	case req.URL.Path == "/.ws":
		h.serveFrontend(w)
	case req.URL.Path == "/.sse":
		h.serveSSE(w, req, send)
	default:
		h.serveHTTP(w, req, send)
	}
}

func (h *echoHandler) serveHTTP(w http.ResponseWriter, req *http.Request, send bool) {
	w.Header().Add("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	if send {
		fmt.Fprintf(w, "Request served by %s\n\n", h.hostname)
	}
	writeRequest(w, req)
}

// writeRequest writes the request line, Host, the sorted headers and, if
// there is one, the body.
func writeRequest(w io.Writer, req *http.Request) {
	fmt.Fprintf(w, "%s %s %s\n", req.Method, req.URL, req.Proto)
	fmt.Fprintln(w, "")
	fmt.Fprintf(w, "Host: %s\n", req.Host)
	printHeaders(w, req.Header)
	var body bytes.Buffer
	io.Copy(&body, req.Body)
	if body.Len() > 0 {
		fmt.Fprintln(w, "")
		body.WriteTo(w)
	}
}

func printHeaders(w io.Writer, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(w, "%s: %s\n", k, v)
		}
	}
}

// serveSSE sends a "server" event, a "request" event echoing the request,
// then a "time" event every second until the client goes away.
func (h *echoHandler) serveSSE(w http.ResponseWriter, req *http.Request, send bool) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "Streaming unsupported!", http.StatusInternalServerError)
		return
	}
	var echo strings.Builder
	writeRequest(&echo, req)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Connection", "keep-alive")
	w.Header().Set("Access-Control-Allow-Origin", "*")

	id := 0
	event := func(name, data string) {
		id++
		var b strings.Builder
		for _, f := range [][2]string{{"event", name}, {"data", data}, {"id", strconv.Itoa(id)}} {
			for _, line := range strings.Split(f[1], "\n") {
				fmt.Fprintf(w, "%s: %s\n", f[0], line)
				fmt.Fprintf(&b, "%s | sse | %s: %s\n", req.RemoteAddr, f[0], line)
			}
		}
		fmt.Fprintf(w, "\n")
		flusher.Flush()
		h.log.printf("%s", b.String())
	}
	if send && h.hostname != "" {
		event("server", h.hostname)
	}
	event("request", echo.String())
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		select {
		case <-req.Context().Done():
			return
		case t := <-ticker.C:
			event("time", t.Format(time.RFC3339))
		}
	}
}

// serveFrontend serves the WebSocket client page. The real handler writes
// the page before setting any header, so the content type is sniffed.
func (h *echoHandler) serveFrontend(w http.ResponseWriter) {
	path, _ := json.Marshal(h.getenv("FRONTEND_WS_PATH"))
	io.WriteString(w, strings.Replace(echoFrontend, "__WS_PATH__", string(path), 1))
}

// track remembers a hijacked WebSocket connection so that stopping the
// container closes it; it reports false when the container is stopping.
func (h *echoHandler) track(c net.Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.hijacked[c] = struct{}{}
	return true
}

func (h *echoHandler) untrack(c net.Conn) {
	h.mu.Lock()
	delete(h.hijacked, c)
	h.mu.Unlock()
}

func (h *echoHandler) closeHijacked() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for c := range h.hijacked {
		c.Close()
	}
}

// echoFrontend is the page on /.ws: it connects back over WebSocket, sends
// a counter every 1.5s and shows what the server echoes.
const echoFrontend = `<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>websocket</title>
<style>
body { font-family: sans-serif; margin: 1em; }
#log { font-family: monospace; border-top: 1px dashed #ccc; margin-top: 1em; }
#log div { border-bottom: 1px dashed #ccc; padding: 2px 0; }
#log .send { color: #24c; } #log .recv { color: #282; }
#log .info { color: #555; } #log .error { color: #c22; }
textarea { width: 100%; min-height: 5em; }
</style>
</head>
<body>
<div>
<button id="toggle">Pause</button>
<button id="connect">Reconnect</button>
</div>
<p><textarea id="msg" placeholder="message"></textarea><br><button id="send">Send</button></p>
<div id="log"></div>
<script>
(function () {
  var path = __WS_PATH__;
  var ws = null, counter = 0, timer = null, paused = false;
  function log(text, kind) {
    var d = document.createElement("div");
    d.className = kind;
    d.textContent = "[" + kind + "] " + text;
    document.getElementById("log").appendChild(d);
    window.scrollTo(0, document.body.scrollHeight);
  }
  function tick() {
    if (!ws || ws.readyState !== 1 || paused) return;
    var data = counter + " = 0x" + counter.toString(16);
    counter++;
    ws.send(data);
    log(data, "send");
  }
  function connect() {
    if (ws) ws.close();
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
    log("connecting to " + url, "info");
    ws = new WebSocket(url);
    ws.onopen = function () { log("connected", "info"); };
    ws.onmessage = function (ev) { log(ev.data, "recv"); };
    ws.onerror = function () { log("connection error", "error"); };
    ws.onclose = function () { log("disconnected", "info"); };
  }
  document.getElementById("toggle").onclick = function () {
    paused = !paused;
    this.textContent = paused ? "Resume" : "Pause";
  };
  document.getElementById("connect").onclick = connect;
  document.getElementById("send").onclick = function () {
    var v = document.getElementById("msg").value;
    if (ws && ws.readyState === 1) { ws.send(v); log(v, "send"); }
  };
  timer = setInterval(tick, 1500);
  connect();
})();
</script>
</body>
</html>
`
