// Package apiserver is kin's Kubernetes REST server: discovery, OpenAPI,
// create/get/list/update/patch/delete with resourceVersions, watch,
// subresources, server-side tables and bearer-token authentication, on top of
// the versioned object store. It behaves like kube-apiserver for what kubectl
// and client-go use (see shared/notes/kubectl-requests.md).
package apiserver

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"kin/internal/store"
)

// Config is what a Server needs.
type Config struct {
	Store *store.Store
	// Listener is where the server accepts connections (the caller chooses
	// the address so it can print it before serving).
	Listener net.Listener
	// Certificate is the TLS serving certificate; plain HTTP is served when nil (tests).
	Certificate *tls.Certificate
	// Token is the bearer token every request must carry; empty disables authentication (tests).
	Token string
	// Logs serves pods/log; nil answers that logs are not available.
	Logs LogSource
	// Exec serves pods/exec; nil answers that exec is not available.
	Exec Executor
	// Logger receives one line per failed request; nil discards.
	Logger *slog.Logger
	// ServiceCIDR is the range Service cluster IPs come from (default 10.96.0.0/12).
	ServiceCIDR string
	// NodePortRange is the range node ports come from (default 30000-32767).
	NodePortRange string
	// MaxBodyBytes caps request bodies (413 above it); 0 means 3 MiB, as Kubernetes.
	MaxBodyBytes int64
}

// LogSource serves container logs for pods/log.
type LogSource interface {
	// PodLogs writes the log of one container to w; follow keeps streaming until ctx ends.
	PodLogs(ctx context.Context, namespace, pod, container string, opts LogOptions, w LogWriter) error
}

// LogOptions are the pods/log query parameters kin honours.
type LogOptions struct {
	Follow     bool
	Previous   bool
	TailLines  *int64
	Timestamps bool
}

// LogWriter is where log bytes go; Flush pushes them to the client.
type LogWriter interface {
	Write(p []byte) (int, error)
	Flush()
}

// Server serves the Kubernetes API.
type Server struct {
	cfg     Config
	store   *store.Store
	reg     *registry
	log     *slog.Logger
	maxBody int64
	openapi *openAPICache
	// services allocates cluster IPs and node ports.
	services *serviceAllocator
}

// New returns a server for the built-in resource table.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("apiserver: no store")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, store: cfg.Store, reg: newRegistry(builtinResources), log: logger, maxBody: cfg.MaxBodyBytes}
	if s.maxBody == 0 {
		s.maxBody = 3 << 20
	}
	s.openapi = newOpenAPICache(s.reg)
	if cfg.ServiceCIDR == "" {
		cfg.ServiceCIDR = "10.96.0.0/12"
	}
	if cfg.NodePortRange == "" {
		cfg.NodePortRange = "30000-32767"
	}
	alloc, err := newServiceAllocator(cfg.ServiceCIDR, cfg.NodePortRange)
	if err != nil {
		return nil, fmt.Errorf("apiserver: %w", err)
	}
	s.services = alloc
	if err := s.loadServiceAllocations(); err != nil {
		return nil, err
	}
	return s, nil
}

// Run serves until ctx is cancelled, then shuts down.
func (s *Server) Run(ctx context.Context) error {
	return s.Serve(ctx, s.cfg.Listener)
}

// Serve serves the API on one more listener until ctx is cancelled (kin
// also serves it inside the control-plane node, behind the kubernetes
// Service).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}
	if s.cfg.Certificate != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*s.cfg.Certificate}, NextProtos: []string{"h2", "http/1.1"}}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
		srv.Close()
		return nil
	case err := <-errc:
		return fmt.Errorf("apiserver: %w", err)
	}
}

// ServeHTTP routes one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p)
			writeError(w, apierrors.NewInternalError(fmt.Errorf("%v", p)))
		}
	}()
	path := strings.TrimSuffix(r.URL.Path, "/")
	// Health and version are public, as kube-apiserver's default
	// system:public-info-viewer role makes them; everything else needs the token.
	if !isPublicPath(path) && !s.authenticated(r) {
		writeError(w, apierrors.NewUnauthorized("Unauthorized"))
		return
	}
	if r.ContentLength > s.maxBody {
		writeError(w, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", s.maxBody)))
		return
	}
	switch {
	case path == "/healthz" || path == "/livez" || path == "/readyz" ||
		strings.HasPrefix(path, "/healthz/") || strings.HasPrefix(path, "/livez/") || strings.HasPrefix(path, "/readyz/"):
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok"))
	case path == "/version":
		writeJSON(w, http.StatusOK, versionInfo())
	case path == "/api" || path == "/apis" || strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/apis/"):
		s.serveAPI(w, r, path)
	case path == "/openapi/v2":
		s.serveOpenAPIV2(w, r)
	case path == "/openapi/v3" || strings.HasPrefix(path, "/openapi/v3/"):
		s.serveOpenAPI(w, r, strings.TrimPrefix(strings.TrimPrefix(path, "/openapi/v3"), "/"))
	default:
		writeError(w, apierrors.NewNotFound(schema.GroupResource{}, ""))
	}
}

func isPublicPath(path string) bool {
	for _, p := range []string{"/healthz", "/livez", "/readyz", "/version"} {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

func (s *Server) authenticated(r *http.Request) bool {
	if s.cfg.Token == "" {
		return true
	}
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.Token)) == 1
}

// requestInfo is a parsed resource URL.
type requestInfo struct {
	res         *resource
	namespace   string
	name        string
	subresource string
	watch       bool // the legacy /watch/ path prefix
}

// serveAPI handles discovery and resource requests under /api and /apis.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, path string) {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var group, version string
	var rest []string
	if parts[0] == "api" {
		if len(parts) == 1 {
			s.serveLegacyVersions(w, r)
			return
		}
		version, rest = parts[1], parts[2:]
	} else {
		switch len(parts) {
		case 1:
			s.serveGroupList(w, r)
			return
		case 2:
			s.serveGroup(w, r, parts[1])
			return
		}
		group, version, rest = parts[1], parts[2], parts[3:]
	}
	if len(s.reg.inGroupVersion(group, version)) == 0 {
		writeError(w, apierrors.NewNotFound(schema.GroupResource{Group: group}, version))
		return
	}
	if len(rest) == 0 {
		s.serveResourceList(w, r, group, version)
		return
	}
	info, err := s.parseResourcePath(group, version, rest)
	if err != nil {
		writeError(w, err)
		return
	}
	s.serveResource(w, r, info)
}

func (s *Server) parseResourcePath(group, version string, rest []string) (*requestInfo, error) {
	info := &requestInfo{}
	if rest[0] == "watch" {
		info.watch = true
		rest = rest[1:]
	}
	notFound := apierrors.NewNotFound(schema.GroupResource{Group: group}, strings.Join(rest, "/"))
	if len(rest) == 0 {
		return nil, notFound
	}
	// namespaces/{ns}/{resource}... addresses a namespaced resource; anything
	// else under namespaces/{ns} is the namespace itself or its subresource.
	if rest[0] == "namespaces" && len(rest) >= 3 {
		if r, ok := s.reg.lookup(group, version, rest[2]); ok && r.namespaced {
			info.namespace = rest[1]
			rest = rest[2:]
		}
	}
	res, ok := s.reg.lookup(group, version, rest[0])
	if !ok {
		return nil, notFound
	}
	info.res = res
	if len(rest) > 1 {
		info.name = rest[1]
	}
	if len(rest) > 2 {
		info.subresource = rest[2]
	}
	if len(rest) > 3 {
		return nil, notFound
	}
	if res.namespaced && info.namespace == "" && info.name != "" {
		return nil, notFound
	}
	return info, nil
}

// loadServiceAllocations marks what stored Services hold, after a restart.
func (s *Server) loadServiceAllocations() error {
	res, _ := s.reg.lookup("", "v1", "services")
	items, _ := s.store.List(res.storagePrefix())
	for _, it := range items {
		obj, err := decodeStored(res, it.Value)
		if err != nil {
			return err
		}
		if errs := s.services.allocate(it.Key, obj.(*corev1.Service)); len(errs) > 0 {
			s.log.Error("stored service holds a conflicting allocation", "key", it.Key, "err", errs.ToAggregate())
		}
	}
	return nil
}
