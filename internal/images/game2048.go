package images

import (
	"context"
	_ "embed"
	"net"
	"time"
)

// game2048Page is the game kin serves: a self-contained 2048 in one page.
//
//go:embed game2048.html
var game2048Page []byte

// game2048Version is the nginx the image's Alpine base installed.
const game2048Version = "1.18.0"

// game2048Time is the modification time of the game's files in the image.
var game2048Time = time.Date(2020, time.June, 19, 5, 43, 12, 0, time.UTC)

// game2048 is the docker-2048 image (alexwhen/docker-2048 and the AWS load
// balancer controller's copy of it): Alpine's nginx serving the 2048 game on
// port 80. Alpine's nginx logs to files inside the container, so kubectl
// logs shows nothing for it.
type game2048 struct{}

// Run serves the game until ctx is cancelled.
func (game2048) Run(ctx context.Context, env Env) error {
	log := newLogWriter(env.Stdout)
	ln, err := listen(env, "80")
	if err != nil {
		ngxBindError(log, time.Now().UTC(), "80", err)
		return err
	}
	files := map[string]*staticFile{
		"/index.html": {contentType: "text/html", body: game2048Page, modTime: game2048Time},
	}
	s := &ngxServer{
		version:       game2048Version,
		scheme:        "http",
		port:          "80",
		keepalive:     65 * time.Second,
		keepaliveReqs: 100,
		maxBody:       1 << 20,
		log:           log,
		now:           func() time.Time { return time.Now().UTC() },
	}
	s.handle = func(r *ngxRequest) *ngxResponse { return serveStatic(s, files, r) }
	return serveListeners(ctx, []net.Listener{ln}, s.serveConn)
}
