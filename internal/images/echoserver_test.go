package images

import (
	"crypto/tls"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func startEchoserver(t *testing.T, ref string, env Env, ports ...string) *running {
	t.Helper()
	img, ok := Lookup(ref)
	if !ok {
		t.Fatalf("Lookup(%q) failed", ref)
	}
	e := img.(*echoserver)
	e.now = func() time.Time { return fixedClock }
	if len(ports) == 0 {
		ports = []string{":8080"}
	}
	return startImage(t, e, env, ports...)
}

const curlHi = "GET /hi?x=1 HTTP/1.1\r\nHost: 10.0.0.5:30080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"

func TestEchoserverPage(t *testing.T) {
	r := startEchoserver(t, "registry.k8s.io/echoserver:1.10", Env{PodName: "deploy-echo-5c4856dfd6-j2srr"}, ":8080", ":8443")
	resp := roundTrip(t, r.addr(":8080"), "GET", curlHi)
	want := "\n\nHostname: deploy-echo-5c4856dfd6-j2srr\n\n" +
		"Pod Information:\n\t-no pod information available-\n\n" +
		"Server values:\n\tserver_version=nginx: 1.13.3 - lua: 10008\n\n" +
		"Request Information:\n" +
		"\tclient_address=127.0.0.1\n" +
		"\tmethod=GET\n" +
		"\treal path=/hi?x=1\n" +
		"\tquery=x=1\n" +
		"\trequest_version=1.1\n" +
		"\trequest_scheme=http\n" +
		"\trequest_uri=http://10.0.0.5:8080/hi?x=1\n\n" +
		"Request Headers:\n" +
		"\taccept=*/*\n" +
		"\thost=10.0.0.5:30080\n" +
		"\tuser-agent=curl/8.5.0\n\n" +
		"Request Body:\n\t-no body in request-\n\n"
	if resp.body != want {
		t.Errorf("page:\n%q\nwant:\n%q", resp.body, want)
	}
	wantNames := []string{"Server", "Date", "Content-Type", "Transfer-Encoding", "Connection"}
	if got := headerNames(resp.head); !slices.Equal(got, wantNames) {
		t.Errorf("headers %v, want %v", got, wantNames)
	}
	if resp.resp.Header.Get("Server") != "echoserver" || resp.resp.Header.Get("Content-Type") != "text/plain" ||
		!slices.Equal(resp.resp.TransferEncoding, []string{"chunked"}) {
		t.Errorf("head:\n%s", resp.head)
	}
	// $body_bytes_sent counts the chunk framing: 4 + len + 2 + 5.
	r.waitLog(`127.0.0.1 - - [24/Nov/2026:05:39:18 +0000] "GET /hi?x=1 HTTP/1.1" 200 ` +
		strconv.Itoa(len(want)+len("1e0\r\n")+len("\r\n0\r\n\r\n")) + ` "-" "curl/8.5.0"` + "\n")

	// The HTTPS listener reports its scheme and port.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer client.CloseIdleConnections()
	hresp, err := client.Get("https://" + r.addr(":8443") + "/tls")
	if err != nil {
		t.Fatalf("https: %v", err)
	}
	body, _ := io.ReadAll(hresp.Body)
	hresp.Body.Close()
	for _, line := range []string{"\trequest_scheme=https\n", "\treal path=/tls\n"} {
		if !strings.Contains(string(body), line) {
			t.Errorf("https page lacks %q:\n%s", line, body)
		}
	}
	if !strings.Contains(string(body), ":8443/tls\n") {
		t.Errorf("https request_uri lacks port 8443:\n%s", body)
	}
}

func TestEchoserverPodInformationAndBody(t *testing.T) {
	env := Env{
		PodName: "echo-5599595fd9-2vfnt",
		Env: map[string]string{
			"NODE_NAME": "w1-k8s", "POD_NAME": "echo-5599595fd9-2vfnt",
			"POD_NAMESPACE": "default", "POD_IP": "172.16.1.3",
		},
	}
	r := startEchoserver(t, "registry.k8s.io/echoserver:1.10", env, ":8080", ":8443")
	resp := roundTrip(t, r.addr(":8080"), "POST",
		"POST /form HTTP/1.1\r\nHost: a.com\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nX-A: 1\r\nX-A: <2>\r\nX_Under: dropped\r\n\r\nhello <&'\">")
	for _, want := range []string{
		"Pod Information:\n\tnode name:\tw1-k8s\n\tpod name:\techo-5599595fd9-2vfnt\n\tpod namespace:\tdefault\n\tpod IP:\t172.16.1.3\n\nServer values:",
		"\tmethod=POST\n",
		"\tquery=\n",
		"\trequest_uri=http://a.com:8080/form\n",
		"\tcontent-length=11\n\tcontent-type=text/plain\n\thost=a.com\n\tx-a=1\n\tx-a=&lt;2&gt;\n\nRequest Body:\n",
		"Request Body:\nhello &lt;&amp;&#39;&quot;&gt;\n\n",
	} {
		if !strings.Contains(resp.body, want) {
			t.Errorf("page lacks %q:\n%s", want, resp.body)
		}
	}
	if strings.Contains(resp.body, "under") {
		t.Errorf("header with underscore was passed on:\n%s", resp.body)
	}
	big := roundTrip(t, r.addr(":8080"), "POST", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 20000000\r\n\r\n")
	if big.resp.StatusCode != 413 || !strings.Contains(big.body, "<center><h1>413 Request Entity Too Large</h1></center>") {
		t.Errorf("oversized body: %d\n%s", big.resp.StatusCode, big.body)
	}
	head := roundTrip(t, r.addr(":8080"), "HEAD", "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
	if head.resp.StatusCode != 200 || head.body != "" || strings.Contains(head.head, "Transfer-Encoding") {
		t.Errorf("HEAD:\n%s%q", head.head, head.body)
	}
}

// TestEchoserverPrintedLayout reproduces a response of echoserver 1.6 seen
// in the wild, down to the byte count in its access log line (426 there,
// with a client address one character longer than 127.0.0.1).
func TestEchoserverPrintedLayout(t *testing.T) {
	r := startEchoserver(t, "gcr.io/google_containers/echoserver:1.6", Env{PodName: "hello-minikube-1134960308-shtdv"})
	resp := roundTrip(t, r.addr(":8080"), "GET", "GET / HTTP/1.1\r\nHost: 192.168.64.17:30478\r\nUser-Agent: curl/7.43.0\r\nAccept: */*\r\n\r\n")
	want := "\n\nHostname: hello-minikube-1134960308-shtdv\n\nPod Information:\n\t-no pod information available-\n\n" +
		"Server values:\n\tserver_version=nginx: 1.13.1 - lua: 10008\n\n" +
		"Request Information:\n\tclient_address=127.0.0.1\n\tmethod=GET\n\treal path=/\n\tquery=\n\trequest_version=1.1\n" +
		"\trequest_uri=http://192.168.64.17:8080/\n\n" +
		"Request Headers:\n\taccept=*/*\n\thost=192.168.64.17:30478\n\tuser-agent=curl/7.43.0\n\n" +
		"Request Body:\n\t-no body in request-\n\n"
	if resp.body != want {
		t.Errorf("page:\n%q\nwant:\n%q", resp.body, want)
	}
	r.waitLog(`127.0.0.1 - - [24/Nov/2026:05:39:18 +0000] "GET / HTTP/1.1" 200 425 "-" "curl/7.43.0"` + "\n")

	r5 := startEchoserver(t, "k8s.gcr.io/echoserver:1.5", Env{PodName: "p", Env: map[string]string{"POD_NAME": "p", "POD_IP": "10.1.1.1"}})
	resp = roundTrip(t, r5.addr(":8080"), "GET", "GET / HTTP/1.0\r\n\r\n")
	for _, w := range []string{"\tserver_version=nginx: 1.13.0 - lua: 10008\n", "\tpod name:\t p\n", "\tpod IP:  \t 10.1.1.1\n", "\tnode name:\t N/A\n", "\trequest_version=1\n", "\trequest_uri=http://_:8080/\n"} {
		if !strings.Contains(resp.body, w) {
			t.Errorf("1.5 page lacks %q:\n%s", w, resp.body)
		}
	}
	if strings.Contains(resp.body, "request_scheme") {
		t.Errorf("1.5 page has request_scheme:\n%s", resp.body)
	}
}

func TestEchoserverClientValuesLayout(t *testing.T) {
	r := startEchoserver(t, "gcr.io/google_containers/echoserver:1.4", Env{PodName: "p"})
	resp := roundTrip(t, r.addr(":8080"), "GET", "GET / HTTP/1.1\r\nHost: h:1\r\nAccept: */*\r\n\r\n")
	want := "CLIENT VALUES:\nclient_address=127.0.0.1\ncommand=GET\nreal path=/\nquery=nil\nrequest_version=1.1\nrequest_uri=http://h:8080/\n\n" +
		"SERVER VALUES:\nserver_version=nginx: 1.10.0 - lua: 10001\n\nHEADERS RECEIVED:\naccept=*/*\nhost=h:1\nBODY:\n"
	if resp.body != want {
		t.Errorf("page:\n%q\nwant:\n%q", resp.body, want)
	}
	if got := resp.resp.Header.Get("Server"); got != "nginx/1.10.0" {
		t.Errorf("Server %q", got)
	}
}
