package images

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"
)

// echoserverLayout is one of the page layouts the echoserver image had over
// its releases.
type echoserverLayout int

const (
	// layoutClientValues is 1.4 and before: "CLIENT VALUES:", "SERVER
	// VALUES:", "HEADERS RECEIVED:", "BODY:".
	layoutClientValues echoserverLayout = iota
	// layoutPrinted is 1.5 to 1.9: "Hostname:", "Pod Information:", ...,
	// written line by line with ngx.say, without request_scheme.
	layoutPrinted
	// layoutTemplate is 1.10 and the e2e-test-images 2.x releases: the same
	// sections rendered by lua-resty-template (values HTML-escaped), with
	// request_scheme and an HTTPS listener on 8443.
	layoutTemplate
)

// echoserver is registry.k8s.io/echoserver (formerly k8s.gcr.io and
// gcr.io/google_containers): nginx with a Lua handler that prints the pod
// and the request it received, as plain text, on port 8080.
type echoserver struct {
	layout      echoserverLayout
	nginx       string        // nginx version the image was built with
	lua         string        // ngx_lua version number
	keepalive   time.Duration // keepalive_timeout of the image's nginx.conf
	tlsListener bool          // the image also serves HTTPS on 8443
	now         func() time.Time
}

func newEchoserver(tag string, e2e bool) *echoserver {
	e := &echoserver{keepalive: 75 * time.Second, now: time.Now}
	switch {
	case e2e:
		e.layout, e.nginx, e.lua = layoutTemplate, "1.14.2", "10015"
		e.keepalive = 620 * time.Second
	case tag == "1.0" || tag == "1.1" || tag == "1.2" || tag == "1.3" || tag == "1.4":
		e.layout, e.nginx, e.lua = layoutClientValues, "1.10.0", "10001"
	case tag == "1.5":
		e.layout, e.nginx, e.lua = layoutPrinted, "1.13.0", "10008"
	case tag == "1.6" || tag == "1.7" || tag == "1.8" || tag == "1.9":
		e.layout, e.nginx, e.lua = layoutPrinted, "1.13.1", "10008"
	default:
		e.layout, e.nginx, e.lua = layoutTemplate, "1.13.3", "10008"
	}
	e.tlsListener = e.layout == layoutTemplate
	return e
}

// echoserverBodyBuffer is client_body_buffer_size on 64-bit platforms:
// larger bodies go to a temporary file and $request_body is empty, so the
// page says there is no body.
const echoserverBodyBuffer = 16 << 10

// Run serves the echoserver image until ctx is cancelled.
func (e *echoserver) Run(ctx context.Context, env Env) error {
	log := newLogWriter(env.Stdout)
	var lns []net.Listener
	ln, err := listen(env, "8080")
	if err != nil {
		ngxBindError(log, e.now().UTC(), "8080", err)
		return err
	}
	lns = append(lns, ln)
	if e.tlsListener {
		cert, err := selfSignedCert(hostname(env))
		if err != nil {
			closeListeners(lns)
			return fmt.Errorf("images: echoserver certificate: %w", err)
		}
		tln, err := listen(env, "8443")
		if err != nil {
			closeListeners(lns)
			ngxBindError(log, e.now().UTC(), "8443", err)
			return err
		}
		lns = append(lns, tls.NewListener(tln, &tls.Config{
			Certificates: []tls.Certificate{cert},
			NextProtos:   []string{"http/1.1"},
		}))
	}
	servers := map[string]*ngxServer{}
	for _, port := range []string{"8080", "8443"} {
		scheme := "http"
		if port == "8443" {
			scheme = "https"
		}
		s := &ngxServer{
			version:       e.nginx,
			scheme:        scheme,
			port:          port,
			keepalive:     e.keepalive,
			keepaliveReqs: 100,
			maxBody:       10 << 20,
			accessLog:     logCombined,
			log:           log,
			now:           func() time.Time { return e.now().UTC() },
		}
		s.handle = func(r *ngxRequest) *ngxResponse { return e.respond(env, r) }
		servers[port] = s
	}
	return serveListeners(ctx, lns, func(ctx context.Context, c net.Conn) {
		port := "8080"
		if _, ok := c.(*tls.Conn); ok {
			port = "8443"
		}
		servers[port].serveConn(ctx, c)
	})
}

// respond renders the page for one request.
func (e *echoserver) respond(env Env, r *ngxRequest) *ngxResponse {
	resp := &ngxResponse{
		status:      http.StatusOK,
		server:      "echoserver",
		contentType: "text/plain",
		chunked:     true,
	}
	switch e.layout {
	case layoutClientValues:
		resp.server = ""
		resp.body = []byte(e.clientValuesPage(r))
	case layoutPrinted:
		resp.body = []byte(e.printedPage(env, r))
	default:
		resp.body = []byte(e.templatePage(env, r))
	}
	return resp
}

// echoHeader is one request header as ngx.req.get_headers returns it: the
// lower-cased name and its values in order.
type echoHeader struct {
	name   string
	values []string
}

// echoHeaders lists the request headers nginx passes to Lua, sorted by
// name. nginx drops headers with underscores in their names and keeps Host.
func echoHeaders(r *ngxRequest) []echoHeader {
	byName := map[string][]string{}
	for k, vs := range r.Header {
		if strings.Contains(k, "_") {
			continue
		}
		name := strings.ToLower(k)
		byName[name] = append(byName[name], vs...)
	}
	if r.Host != "" {
		byName["host"] = []string{r.Host}
	}
	if len(r.TransferEncoding) > 0 {
		byName["transfer-encoding"] = append(byName["transfer-encoding"], strings.Join(r.TransferEncoding, ", "))
	}
	var out []echoHeader
	for name, vs := range byName {
		out = append(out, echoHeader{name: name, values: vs})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// luaVersion is ngx.req.http_version() as Lua prints it: 1.1, 1 or 2.
func luaVersion(r *http.Request) string {
	if r.ProtoMinor == 0 {
		return fmt.Sprint(r.ProtoMajor)
	}
	return fmt.Sprintf("%d.%d", r.ProtoMajor, r.ProtoMinor)
}

// requestURI is the page's request_uri: $scheme://$host:$server_port$request_uri.
func requestURI(r *ngxRequest) string {
	return r.scheme + "://" + r.host + ":" + r.serverPort + r.RequestURI
}

// queryString is $query_string and whether the request had one.
func queryString(r *ngxRequest) (string, bool) {
	_, q, ok := strings.Cut(r.RequestURI, "?")
	return q, ok
}

// requestBody is $request_body: nil when there is no body or when it did not
// fit the in-memory buffer.
func requestBody(r *ngxRequest) ([]byte, bool) {
	if len(r.body) == 0 || len(r.body) > echoserverBodyBuffer {
		return nil, false
	}
	return r.body, true
}

func (e *echoserver) serverVersion() string {
	return "nginx: " + e.nginx + " - lua: " + e.lua
}

// clientValuesPage is the page of echoserver 1.4 and before.
func (e *echoserver) clientValuesPage(r *ngxRequest) string {
	var b strings.Builder
	b.WriteString("CLIENT VALUES:\n")
	b.WriteString("client_address=" + r.remoteAddr + "\n")
	b.WriteString("command=" + r.Method + "\n")
	b.WriteString("real path=" + r.RequestURI + "\n")
	if q, ok := queryString(r); ok {
		b.WriteString("query=" + q + "\n")
	} else {
		b.WriteString("query=nil\n")
	}
	b.WriteString("request_version=" + luaVersion(r.Request) + "\n")
	b.WriteString("request_uri=" + requestURI(r) + "\n")
	b.WriteString("\n")
	b.WriteString("SERVER VALUES:\n")
	b.WriteString("server_version=" + e.serverVersion() + "\n")
	b.WriteString("\n")
	b.WriteString("HEADERS RECEIVED:\n")
	for _, h := range echoHeaders(r) {
		b.WriteString(h.name + "=" + strings.Join(h.values, "") + "\n")
	}
	b.WriteString("BODY:\n")
	if body, ok := requestBody(r); ok {
		b.Write(body)
	}
	return b.String()
}

// podInfo returns the downward API values the pod passes in its env, if it
// sets POD_NAME; the image reads nothing else about the pod.
func podInfo(env Env) (node, pod, ns, ip string, ok bool) {
	if _, ok := envValue(env, "POD_NAME"); !ok {
		return "", "", "", "", false
	}
	get := func(name string) string {
		if v, ok := envValue(env, name); ok {
			return v
		}
		return "N/A"
	}
	return get("NODE_NAME"), get("POD_NAME"), get("POD_NAMESPACE"), get("POD_IP"), true
}

// echoHostname is the page's Hostname: $HOSTNAME, "N/A" when unset.
func echoHostname(env Env) string {
	if h := hostname(env); h != "" {
		return h
	}
	return "N/A"
}

// printedPage is the page of echoserver 1.5 to 1.9.
func (e *echoserver) printedPage(env Env, r *ngxRequest) string {
	var b strings.Builder
	b.WriteString("\n\n")
	b.WriteString("Hostname: " + echoHostname(env) + "\n\n")
	b.WriteString("Pod Information:\n")
	if node, pod, ns, ip, ok := podInfo(env); ok {
		b.WriteString("\tnode name:\t " + node + "\n")
		b.WriteString("\tpod name:\t " + pod + "\n")
		b.WriteString("\tpod namespace:\t " + ns + "\n")
		b.WriteString("\tpod IP:  \t " + ip + "\n")
	} else {
		b.WriteString("\t-no pod information available-\n")
	}
	b.WriteString("\n")
	b.WriteString("Server values:\n")
	b.WriteString("\tserver_version=" + e.serverVersion() + "\n\n")
	b.WriteString("Request Information:\n")
	b.WriteString("\tclient_address=" + r.remoteAddr + "\n")
	b.WriteString("\tmethod=" + r.Method + "\n")
	b.WriteString("\treal path=" + r.RequestURI + "\n")
	q, _ := queryString(r)
	b.WriteString("\tquery=" + q + "\n")
	b.WriteString("\trequest_version=" + luaVersion(r.Request) + "\n")
	b.WriteString("\trequest_uri=" + requestURI(r) + "\n\n")
	b.WriteString("Request Headers:\n")
	for _, h := range echoHeaders(r) {
		// ngx.say concatenates the values of a repeated header.
		b.WriteString("\t" + h.name + "=" + strings.Join(h.values, "") + "\n")
	}
	b.WriteString("\n")
	b.WriteString("Request Body:\n")
	if body, ok := requestBody(r); ok {
		b.Write(body)
		b.WriteString("\n")
	} else {
		b.WriteString("\t-no body in request-\n")
	}
	b.WriteString("\n")
	return b.String()
}

// htmlEscape is lua-resty-template's {{ }} escaping as the image uses it:
// & < > " and ' become entities; "/" is left alone.
var htmlEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace

// templatePage is the page of echoserver 1.10 and the 2.x releases.
func (e *echoserver) templatePage(env Env, r *ngxRequest) string {
	x := htmlEscape
	var b strings.Builder
	b.WriteString("\n\n")
	b.WriteString("Hostname: " + x(echoHostname(env)) + "\n\n")
	b.WriteString("Pod Information:\n")
	if node, pod, ns, ip, ok := podInfo(env); ok {
		b.WriteString("\tnode name:\t" + x(node) + "\n")
		b.WriteString("\tpod name:\t" + x(pod) + "\n")
		b.WriteString("\tpod namespace:\t" + x(ns) + "\n")
		b.WriteString("\tpod IP:\t" + x(ip) + "\n")
	} else {
		b.WriteString("\t-no pod information available-\n")
	}
	b.WriteString("\n")
	b.WriteString("Server values:\n")
	b.WriteString("\tserver_version=" + x(e.serverVersion()) + "\n\n")
	b.WriteString("Request Information:\n")
	b.WriteString("\tclient_address=" + x(r.remoteAddr) + "\n")
	b.WriteString("\tmethod=" + x(r.Method) + "\n")
	b.WriteString("\treal path=" + x(r.RequestURI) + "\n")
	q, _ := queryString(r)
	b.WriteString("\tquery=" + x(q) + "\n")
	b.WriteString("\trequest_version=" + luaVersion(r.Request) + "\n")
	b.WriteString("\trequest_scheme=" + x(r.scheme) + "\n")
	b.WriteString("\trequest_uri=" + x(requestURI(r)) + "\n\n")
	b.WriteString("Request Headers:\n")
	for _, h := range echoHeaders(r) {
		for _, v := range h.values {
			b.WriteString("\t" + x(h.name) + "=" + x(v) + "\n")
		}
	}
	b.WriteString("\n")
	b.WriteString("Request Body:\n")
	if body, ok := requestBody(r); ok {
		b.WriteString(x(string(body)))
	} else {
		b.WriteString("\t-no body in request-")
	}
	b.WriteString("\n\n")
	return b.String()
}

// selfSignedCert makes the certificate the image generates at start for
// its HTTPS listener.
func selfSignedCert(cn string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	if cn == "" {
		cn = "echoserver"
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{cn},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
