// Package images holds kin's built-in container images: servers that run as
// goroutines inside kin's daemon, listen inside a pod's network namespace and
// answer the way the popular images used in networking labs do, so kin never
// pulls an image.
//
// Lookup maps an image reference as written in a pod spec ("nginx",
// "docker.io/library/nginx:1.25.3", "registry.k8s.io/echoserver:1.10", ...) to
// an Image; the node agent calls Image.Run with an Env that describes the
// container and opens sockets inside the pod's namespace. Images that run a
// command (busybox, ubuntu, netshoot, ...) are not built in: the node agent
// runs their command itself, so Lookup reports false for them.
//
// Each image reproduces what its real counterpart prints: status lines,
// header order, bodies, error pages and access log lines. The nginx-based
// images (nginx, echoserver, docker-2048) share a small HTTP/1.x server that
// follows nginx's rules; the Go-based images (jmalloc/echo-server, hello-app)
// use net/http as the real ones do.
package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
)

// Env is what a built-in image gets from the node agent.
type Env struct {
	PodName, PodNamespace, PodIP, NodeName, ContainerName string

	// Env is the container's resolved environment, including downward API
	// values.
	Env map[string]string
	// Args are the container's args, if any.
	Args  []string
	Ports []corev1.ContainerPort

	// Listen opens a TCP listener inside the pod's network namespace.
	Listen func(network, addr string) (net.Listener, error)
	// ListenPacket opens a packet socket inside the pod's network namespace.
	ListenPacket func(network, addr string) (net.PacketConn, error)

	// Stdout is the container's log (what kubectl logs shows).
	Stdout io.Writer
	// Files is a scratch directory for the container; it may be empty.
	Files string
}

// Image is a built-in container image.
type Image interface {
	// Run opens the image's listeners first thing and serves until ctx is
	// cancelled, then closes them and returns nil. An error means the
	// container crashed (for example, its port could not be bound).
	Run(ctx context.Context, env Env) error
}

// builtin describes one built-in image: the repositories it answers to and a
// constructor that receives the tag.
type builtin struct {
	repos []string // normalized "host/path" repositories
	make  func(tag string) Image
}

var builtins = []builtin{
	{
		repos: []string{
			"docker.io/library/nginx",
			"public.ecr.aws/nginx/nginx",
			"public.ecr.aws/docker/library/nginx",
		},
		make: func(tag string) Image { return newNginx(tag) },
	},
	{
		repos: []string{
			"docker.io/jmalloc/echo-server",
			"ghcr.io/jmalloc/echo-server",
		},
		make: func(tag string) Image { return &echoServer{} },
	},
	{
		repos: []string{
			"registry.k8s.io/echoserver",
			"k8s.gcr.io/echoserver",
			"gcr.io/google_containers/echoserver",
			"gcr.io/google-containers/echoserver",
		},
		make: func(tag string) Image { return newEchoserver(tag, false) },
	},
	{
		repos: []string{
			"registry.k8s.io/e2e-test-images/echoserver",
			"k8s.gcr.io/e2e-test-images/echoserver",
		},
		make: func(tag string) Image { return newEchoserver(tag, true) },
	},
	{
		repos: []string{
			"public.ecr.aws/l6m2t8p7/docker-2048",
			"docker.io/alexwhen/docker-2048",
		},
		make: func(tag string) Image { return &game2048{} },
	},
	{
		repos: []string{
			"gcr.io/google-samples/hello-app",
			"us-docker.pkg.dev/google-samples/containers/gke/hello-app",
		},
		make: func(tag string) Image { return newHelloApp(tag) },
	},
}

// Lookup finds the built-in image for an image reference as written in a pod
// spec. It normalizes Docker Hub's implicit registry and "library/" prefix,
// tags and digests: "nginx", "nginx:stable", "docker.io/library/nginx:latest"
// and "nginx@sha256:..." all find nginx. The tag selects version-specific
// behaviour where the real images differ between tags.
func Lookup(ref string) (Image, bool) {
	repo, tag, ok := parseRef(ref)
	if !ok {
		return nil, false
	}
	for _, b := range builtins {
		for _, r := range b.repos {
			if r == repo {
				return b.make(tag), true
			}
		}
	}
	return nil, false
}

// Names lists the built-in images, as a user would write them, for error
// messages such as the one the node agent shows for an unknown image.
func Names() []string {
	var names []string
	for _, b := range builtins {
		for _, r := range b.repos {
			names = append(names, displayName(r))
		}
	}
	sort.Strings(names)
	return names
}

// displayName turns a normalized repository back into its shortest usual
// spelling: "docker.io/library/nginx" is "nginx".
func displayName(repo string) string {
	if rest, ok := strings.CutPrefix(repo, "docker.io/"); ok {
		return strings.TrimPrefix(rest, "library/")
	}
	return repo
}

// parseRef splits an image reference into a normalized repository
// ("host/path", lower case, Docker Hub spelled "docker.io" with its "library/"
// namespace) and a tag ("latest" when the reference has neither tag nor
// digest, "" when it has only a digest).
func parseRef(ref string) (repo, tag string, ok bool) {
	ref = strings.TrimSpace(ref)
	digest := ""
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref, digest = ref[:i], ref[i+1:]
		if digest == "" {
			return "", "", false
		}
	}
	if i := strings.LastIndexByte(ref, ':'); i >= 0 && !strings.Contains(ref[i:], "/") {
		ref, tag = ref[:i], ref[i+1:]
		if tag == "" {
			return "", "", false
		}
	} else if digest == "" {
		tag = "latest"
	}
	if ref == "" || strings.HasPrefix(ref, "/") || strings.HasSuffix(ref, "/") || strings.Contains(ref, "//") {
		return "", "", false
	}
	host, path := "docker.io", ref
	if i := strings.IndexByte(ref, '/'); i >= 0 {
		first := ref[:i]
		if strings.ContainsAny(first, ".:") || first == "localhost" {
			host, path = first, ref[i+1:]
		}
	}
	host = strings.ToLower(host)
	switch host {
	case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com", "mirror.gcr.io":
		host = "docker.io"
	}
	path = strings.ToLower(path)
	if host == "docker.io" && !strings.Contains(path, "/") {
		path = "library/" + path
	}
	return host + "/" + path, tag, true
}

// envValue returns the container's environment variable name, and whether it
// is set.
func envValue(env Env, name string) (string, bool) {
	v, ok := env.Env[name]
	return v, ok
}

// hostname is what os.Hostname returns inside the container: the HOSTNAME
// the runtime sets, which is the pod's name unless the pod sets its own.
func hostname(env Env) string {
	if h, ok := envValue(env, "HOSTNAME"); ok && h != "" {
		return h
	}
	return env.PodName
}

// logWriter serializes writes to a container's log so that lines written by
// concurrent connections never interleave.
type logWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func newLogWriter(w io.Writer) *logWriter {
	if w == nil {
		w = io.Discard
	}
	return &logWriter{w: w}
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// printf writes one formatted chunk of log output with a single Write.
func (l *logWriter) printf(format string, args ...any) {
	_, _ = l.Write([]byte(fmt.Sprintf(format, args...)))
}

// listen opens a listener for the image's port inside the pod's namespace.
func listen(env Env, port string) (net.Listener, error) {
	if env.Listen == nil {
		return nil, errors.New("images: env has no Listen function")
	}
	ln, err := env.Listen("tcp", ":"+port)
	if err != nil {
		return nil, fmt.Errorf("images: listen on port %s: %w", port, err)
	}
	return ln, nil
}
