package images

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"
	"time"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		ref  string
		want string // "" means not built in
	}{
		{"nginx", "nginx 1.27.3"},
		{"nginx:latest", "nginx 1.27.3"},
		{"nginx:stable", "nginx 1.26.2"},
		{"nginx:1.25.3", "nginx 1.25.3"},
		{"nginx:1.25", "nginx 1.25.5"},
		{"nginx:1.25.3-alpine", "nginx 1.25.3"},
		{"nginx:alpine", "nginx 1.27.3"},
		{"docker.io/library/nginx:latest", "nginx 1.27.3"},
		{"docker.io/nginx", "nginx 1.27.3"},
		{"index.docker.io/library/nginx:1.27.3", "nginx 1.27.3"},
		{"library/nginx", "nginx 1.27.3"},
		{"nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "nginx 1.27.3"},
		{"public.ecr.aws/nginx/nginx:1.26", "nginx 1.26.2"},
		{"jmalloc/echo-server", "echo-server"},
		{"jmalloc/echo-server:latest", "echo-server"},
		{"docker.io/jmalloc/echo-server:v0.3.7", "echo-server"},
		{"k8s.gcr.io/echoserver:1.5", "echoserver 1.13.0"},
		{"registry.k8s.io/echoserver:1.10", "echoserver 1.13.3"},
		{"gcr.io/google_containers/echoserver:1.4", "echoserver 1.10.0"},
		{"registry.k8s.io/e2e-test-images/echoserver:2.5", "echoserver 1.14.2"},
		{"public.ecr.aws/l6m2t8p7/docker-2048:latest", "2048"},
		{"public.ecr.aws/l6m2t8p7/docker-2048", "2048"},
		{"alexwhen/docker-2048", "2048"},
		{"gcr.io/google-samples/hello-app:1.0", "hello-app 1.0.0"},
		{"gcr.io/google-samples/hello-app:2.0", "hello-app 2.0.0"},
		{"busybox", ""},
		{"busybox:1.36", ""},
		{"ubuntu:20.04", ""},
		{"nicolaka/netshoot", ""},
		{"curlimages/curl", ""},
		{"example.com/nginx", ""},
		{"nginxx", ""},
		{"", ""},
		{"nginx:", ""},
		{"nginx@", ""},
		{"/nginx", ""},
	}
	for _, tt := range tests {
		img, ok := Lookup(tt.ref)
		got := ""
		if ok {
			switch i := img.(type) {
			case *nginxImage:
				got = "nginx " + i.version
			case *echoServer:
				got = "echo-server"
			case *echoserver:
				got = "echoserver " + i.nginx
			case *game2048:
				got = "2048"
			case *helloApp:
				got = "hello-app " + i.version
			default:
				t.Fatalf("Lookup(%q) returned unexpected %T", tt.ref, img)
			}
		}
		if got != tt.want {
			t.Errorf("Lookup(%q) = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

func TestNames(t *testing.T) {
	names := Names()
	for _, want := range []string{"nginx", "jmalloc/echo-server", "registry.k8s.io/echoserver", "k8s.gcr.io/echoserver", "alexwhen/docker-2048", "public.ecr.aws/l6m2t8p7/docker-2048"} {
		if !slices.Contains(names, want) {
			t.Errorf("Names() = %v, missing %q", names, want)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("Names() is not sorted: %v", names)
	}
	for _, n := range names {
		if _, ok := Lookup(n); !ok {
			t.Errorf("Lookup(%q) of a listed name failed", n)
		}
	}
}

// TestRunStops checks for every image that Run returns nil on cancel, closes
// its listeners and drops open connections.
func TestRunStops(t *testing.T) {
	tests := []struct {
		ref  string
		port string
	}{
		{"nginx", ":80"},
		{"jmalloc/echo-server", ":8080"},
		{"registry.k8s.io/echoserver:1.10", ":8080"},
		{"k8s.gcr.io/echoserver:1.5", ":8080"},
		{"alexwhen/docker-2048", ":80"},
		{"gcr.io/google-samples/hello-app:1.0", ":8080"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			img, ok := Lookup(tt.ref)
			if !ok {
				t.Fatalf("Lookup(%q) failed", tt.ref)
			}
			r := startImage(t, img, Env{PodName: "p"}, tt.port)
			addr := r.addr(tt.port)
			c := dial(t, addr)
			c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			if resp := c.read("GET"); resp.resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.resp.StatusCode)
			}
			if err := r.stop(); err != nil {
				t.Fatalf("Run returned %v after cancel, want nil", err)
			}
			if !c.closedByPeer() {
				t.Errorf("keep-alive connection still open after stop")
			}
			if cn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				cn.Close()
				t.Errorf("listener %s still accepts after stop", addr)
			}
		})
	}
}

// TestRunListenFailure checks that an image whose port cannot be bound
// crashes: Run returns the error.
func TestRunListenFailure(t *testing.T) {
	for _, ref := range []string{"nginx", "jmalloc/echo-server", "registry.k8s.io/echoserver", "alexwhen/docker-2048", "gcr.io/google-samples/hello-app"} {
		img, _ := Lookup(ref)
		out := &syncBuffer{}
		bindErr := errors.New("listen tcp :80: bind: address already in use")
		env := Env{
			Stdout: out,
			Listen: func(network, addr string) (net.Listener, error) { return nil, bindErr },
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := img.Run(ctx, env)
		cancel()
		if !errors.Is(err, bindErr) {
			t.Errorf("%s: Run = %v, want the bind error", ref, err)
		}
	}
}
