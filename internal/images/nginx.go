package images

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// nginxWelcome is /usr/share/nginx/html/index.html of the nginx image.
const nginxWelcome = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`

// nginx50x is /usr/share/nginx/html/50x.html of the nginx image.
const nginx50x = `<!DOCTYPE html>
<html>
<head>
<title>Error</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
<p>If you are the system administrator of this resource then you should check
the error log for details.</p>
<p><em>Faithfully yours, nginx.</em></p>
</body>
</html>
`

// Versions the nginx image's moving tags stood for when kin's copy was made,
// and the newest patch release of older minor series, for tags like "1.25".
const (
	nginxMainline = "1.27.3"
	nginxStable   = "1.26.2"
)

var nginxSeries = map[string]string{
	"1.14": "1.14.2", "1.15": "1.15.12", "1.16": "1.16.1", "1.17": "1.17.10",
	"1.18": "1.18.0", "1.19": "1.19.10", "1.20": "1.20.2", "1.21": "1.21.6",
	"1.22": "1.22.1", "1.23": "1.23.4", "1.24": "1.24.0", "1.25": "1.25.5",
	"1.26": nginxStable, "1.27": nginxMainline,
}

// nginxFileTime is the modification time of the image's html files, which
// Last-Modified and ETag are derived from.
var nginxFileTime = time.Date(2024, time.November, 26, 15, 55, 0, 0, time.UTC)

var nginxVersionTag = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?$`)

// nginxVersion maps an image tag to the nginx version it runs: "1.25.3" and
// "1.25.3-alpine" name it, "1.25" is that series' last release, "stable" and
// "stable-alpine" the stable release, anything else the mainline release.
func nginxVersion(tag string) string {
	base, _, _ := strings.Cut(tag, "-")
	if m := nginxVersionTag.FindStringSubmatch(base); m != nil {
		if m[3] != "" {
			return base
		}
		if v, ok := nginxSeries[base]; ok {
			return v
		}
		return base + ".0"
	}
	if base == "stable" {
		return nginxStable
	}
	return nginxMainline
}

// versionAtLeast compares dotted versions numerically.
func versionAtLeast(v string, major, minor int) bool {
	parts := strings.Split(v, ".")
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// nginxImage is the official nginx image with its default configuration:
// port 80, the welcome page and 50x.html under /usr/share/nginx/html, the
// "main" access log format on stdout and error log on stderr.
type nginxImage struct {
	version string
	alpine  bool
	now     func() time.Time
}

func newNginx(tag string) *nginxImage {
	return &nginxImage{version: nginxVersion(tag), alpine: strings.Contains(tag, "alpine"), now: time.Now}
}

type staticFile struct {
	contentType string
	body        []byte
	modTime     time.Time
}

func (f *staticFile) etag() string {
	return fmt.Sprintf("\"%x-%x\"", f.modTime.Unix(), len(f.body))
}

// Run serves the nginx image until ctx is cancelled.
func (n *nginxImage) Run(ctx context.Context, env Env) error {
	log := newLogWriter(env.Stdout)
	ln, err := listen(env, "80")
	if err != nil {
		n.entrypointLog(log, env)
		ngxBindError(log, n.now().UTC(), "80", err)
		return err
	}
	n.entrypointLog(log, env)
	workers := n.startLog(log)
	files := map[string]*staticFile{
		"/index.html": {contentType: "text/html", body: []byte(nginxWelcome), modTime: nginxFileTime},
		"/50x.html":   {contentType: "text/html", body: []byte(nginx50x), modTime: nginxFileTime},
	}
	s := &ngxServer{
		version:       n.version,
		scheme:        "http",
		port:          "80",
		keepalive:     65 * time.Second,
		keepaliveReqs: 1000,
		maxBody:       1 << 20,
		accessLog:     logMain,
		log:           log,
		now:           func() time.Time { return n.now().UTC() },
	}
	s.handle = func(r *ngxRequest) *ngxResponse { return serveStatic(s, files, r) }
	err = serveListeners(ctx, []net.Listener{ln}, s.serveConn)
	n.stopLog(log, workers)
	return err
}

// entrypointLog prints what /docker-entrypoint.sh prints before it starts
// nginx (images from 1.19 on), unless NGINX_ENTRYPOINT_QUIET_LOGS is set.
func (n *nginxImage) entrypointLog(log *logWriter, env Env) {
	if !versionAtLeast(n.version, 1, 19) {
		return
	}
	if q, _ := envValue(env, "NGINX_ENTRYPOINT_QUIET_LOGS"); q != "" {
		return
	}
	var b strings.Builder
	b.WriteString("/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration\n")
	b.WriteString("/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/\n")
	b.WriteString("/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh\n")
	b.WriteString("10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf\n")
	b.WriteString("10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf\n")
	if versionAtLeast(n.version, 1, 25) {
		b.WriteString("/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh\n")
	}
	b.WriteString("/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh\n")
	if versionAtLeast(n.version, 1, 21) {
		b.WriteString("/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh\n")
	}
	b.WriteString("/docker-entrypoint.sh: Configuration complete; ready for start up\n")
	log.printf("%s", b.String())
}

// nginxFirstWorkerPID is the PID the first worker process usually gets in
// the container, after the entrypoint's helper processes.
const nginxFirstWorkerPID = 29

// startLog prints nginx's start-up notices and returns the worker PIDs
// (worker_processes auto: one per CPU).
func (n *nginxImage) startLog(log *logWriter) []int {
	ts := n.now().UTC().Format("2006/01/02 15:04:05")
	var b strings.Builder
	notice := func(pid int, format string, args ...any) {
		fmt.Fprintf(&b, "%s [notice] %d#%d: %s\n", ts, pid, pid, fmt.Sprintf(format, args...))
	}
	notice(1, `using the "epoll" event method`)
	notice(1, "nginx/%s", n.version)
	switch {
	case n.alpine:
		notice(1, "built by gcc 13.2.1 20240309 (Alpine 13.2.1_git20240309) ")
	case versionAtLeast(n.version, 1, 25):
		notice(1, "built by gcc 12.2.0 (Debian 12.2.0-14) ")
	default:
		notice(1, "built by gcc 10.2.1 20210110 (Debian 10.2.1-6) ")
	}
	if rel, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		notice(1, "OS: Linux %s", strings.TrimSpace(string(rel)))
	}
	notice(1, "getrlimit(RLIMIT_NOFILE): 1048576:1048576")
	notice(1, "start worker processes")
	var workers []int
	for i := 0; i < runtime.NumCPU(); i++ {
		pid := nginxFirstWorkerPID + i
		workers = append(workers, pid)
		notice(1, "start worker process %d", pid)
	}
	log.printf("%s", b.String())
	return workers
}

// stopLog prints what nginx prints on SIGQUIT, the image's stop signal.
func (n *nginxImage) stopLog(log *logWriter, workers []int) {
	ts := n.now().UTC().Format("2006/01/02 15:04:05")
	var b strings.Builder
	notice := func(pid int, format string, args ...any) {
		fmt.Fprintf(&b, "%s [notice] %d#%d: %s\n", ts, pid, pid, fmt.Sprintf(format, args...))
	}
	notice(1, "signal 3 (SIGQUIT) received, shutting down")
	for _, pid := range workers {
		notice(pid, "gracefully shutting down")
		notice(pid, "exiting")
		notice(pid, "exit")
	}
	for _, pid := range workers {
		notice(1, "signal 17 (SIGCHLD) received from %d", pid)
		notice(1, "worker process %d exited with code 0", pid)
	}
	notice(1, "exit")
	log.printf("%s", b.String())
}

// serveStatic is nginx's index and static modules for a root holding files:
// "/" serves index.html, GET and HEAD serve files (POST finds them, then is
// refused), other methods are not allowed, conditional and single range
// requests are honoured.
func serveStatic(s *ngxServer, files map[string]*staticFile, r *ngxRequest) *ngxResponse {
	p, ok := cleanURIPath(r.URL.Path)
	if !ok {
		return s.errorPage(http.StatusBadRequest)
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	default:
		return s.errorPage(http.StatusMethodNotAllowed)
	}
	if strings.HasSuffix(p, "/") {
		if p != "/" {
			return s.errorPage(http.StatusNotFound)
		}
		p = "/index.html"
	}
	f, ok := files[p]
	if !ok {
		return s.errorPage(http.StatusNotFound)
	}
	if r.Method == http.MethodPost {
		return s.errorPage(http.StatusMethodNotAllowed)
	}
	etag := f.etag()
	if notModified(r.Request, etag, f.modTime) {
		return &ngxResponse{
			status:       http.StatusNotModified,
			lastModified: f.modTime,
			headers:      [][2]string{{"ETag", etag}},
		}
	}
	resp := &ngxResponse{
		status:       http.StatusOK,
		contentType:  f.contentType,
		body:         f.body,
		lastModified: f.modTime,
		headers:      [][2]string{{"ETag", etag}, {"Accept-Ranges", "bytes"}},
	}
	if r.Method != http.MethodGet || !rangeApplies(r.Request, etag, f.modTime) {
		return resp
	}
	size := int64(len(f.body))
	start, end, ok := parseRange(r.Header.Get("Range"), size)
	switch {
	case !ok:
		return resp
	case start < 0:
		e := s.errorPage(http.StatusRequestedRangeNotSatisfiable)
		e.headers = [][2]string{{"Content-Range", fmt.Sprintf("bytes */%d", size)}}
		return e
	}
	resp.status = http.StatusPartialContent
	resp.body = f.body[start : end+1]
	resp.headers = [][2]string{{"ETag", etag}, {"Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, size)}}
	return resp
}

// cleanURIPath resolves "." and ".." segments and merges slashes as nginx
// does; a path that climbs above the root is a bad request.
func cleanURIPath(p string) (string, bool) {
	if p == "" {
		return "/", true
	}
	if !strings.HasPrefix(p, "/") {
		return "", false
	}
	var segs []string
	parts := strings.Split(p[1:], "/")
	for _, seg := range parts {
		switch seg {
		case "", ".":
		case "..":
			if len(segs) == 0 {
				return "", false
			}
			segs = segs[:len(segs)-1]
		default:
			segs = append(segs, seg)
		}
	}
	out := "/" + strings.Join(segs, "/")
	last := parts[len(parts)-1]
	if len(segs) > 0 && (last == "" || last == "." || last == "..") {
		out += "/"
	}
	return out, true
}

// notModified applies If-None-Match and, without it, If-Modified-Since with
// nginx's default "exact" matching.
func notModified(req *http.Request, etag string, mod time.Time) bool {
	if inm := req.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == "*" || t == etag {
				return true
			}
		}
		return false
	}
	if ims := req.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && t.Unix() == mod.Unix()
	}
	return false
}

// rangeApplies checks If-Range against the file's validators.
func rangeApplies(req *http.Request, etag string, mod time.Time) bool {
	ir := req.Header.Get("If-Range")
	if ir == "" {
		return true
	}
	if strings.HasPrefix(ir, "\"") {
		return ir == etag
	}
	t, err := http.ParseTime(ir)
	return err == nil && t.Unix() == mod.Unix()
}

// parseRange parses a single "bytes=" range against size. ok is false when
// the header is absent, malformed or asks for several ranges (the whole file
// is served then); start < 0 means the range is not satisfiable.
func parseRange(h string, size int64) (start, end int64, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false
	}
	if first == "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, false
		}
		if n == 0 {
			return -1, 0, true
		}
		return max(size-n, 0), size - 1, true
	}
	s, err := strconv.ParseInt(first, 10, 64)
	if err != nil || s < 0 {
		return 0, 0, false
	}
	e := size - 1
	if last != "" {
		if e, err = strconv.ParseInt(last, 10, 64); err != nil || e < s {
			return 0, 0, false
		}
		e = min(e, size-1)
	}
	if s >= size {
		return -1, 0, true
	}
	return s, e, true
}
