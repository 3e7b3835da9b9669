package images

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"regexp"
)

// helloApp is gcr.io/google-samples/hello-app, the GKE tutorials' sample: a
// Go server on $PORT (default 8080) that answers "Hello, world!", its version
// and the hostname, and logs each request path.
type helloApp struct {
	version string
}

var helloTag = regexp.MustCompile(`^(\d+)\.(\d+)$`)

func newHelloApp(tag string) *helloApp {
	v := "1.0.0"
	if helloTag.MatchString(tag) {
		v = tag + ".0"
	}
	return &helloApp{version: v}
}

// Run serves hello-app until ctx is cancelled.
func (a *helloApp) Run(ctx context.Context, env Env) error {
	logger := log.New(newLogWriter(env.Stdout), "", log.LstdFlags)
	port := "8080"
	if p, _ := envValue(env, "PORT"); p != "" {
		port = p
	}
	ln, err := listen(env, port)
	if err != nil {
		logger.Printf("Server listening on port %s", port)
		logger.Printf("%v", errors.Unwrap(err))
		return err
	}
	host := hostname(env)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		logger.Printf("Serving request: %s", r.URL.Path)
		fmt.Fprintf(w, "Hello, world!\n")
		fmt.Fprintf(w, "Version: %s\n", a.version)
		fmt.Fprintf(w, "Hostname: %s\n", host)
	})
	srv := &http.Server{Handler: mux, ErrorLog: logger}
	logger.Printf("Server listening on port %s", port)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		srv.Close()
		<-errc
		return nil
	case err := <-errc:
		return fmt.Errorf("images: hello-app: %w", err)
	}
}
