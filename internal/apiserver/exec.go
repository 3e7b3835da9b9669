package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	remotecommandconsts "k8s.io/apimachinery/pkg/util/remotecommand"
)

// Executor runs commands inside pods for pods/exec (kubectl exec).
type Executor interface {
	// Exec runs cmd in the container's namespaces and returns its exit code.
	// An error means the command could not be run at all.
	Exec(ctx context.Context, namespace, pod, container string, cmd []string, streams ExecStreams) (int, error)
}

// ExecStreams are a command's standard streams; nil ones were not asked for.
type ExecStreams struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	TTY            bool
	// Resize carries terminal sizes when TTY is set.
	Resize <-chan TerminalSize
}

// TerminalSize is a terminal's width and height in characters.
type TerminalSize struct {
	Width, Height uint16
}

// execProtocols are the WebSocket subprotocols served, newest first; kubectl
// v1.30+ speaks v5 and falls back to SPDY when the upgrade fails.
var execProtocols = []string{remotecommandconsts.StreamProtocolV5Name, remotecommandconsts.StreamProtocolV4Name}

// podExec serves pods/exec over WebSocket with the channel.k8s.io framing:
// every message starts with a stream number (0 stdin, 1 stdout, 2 stderr,
// 3 error/status, 4 resize; 255 closes a stream in v5).
func (s *Server) podExec(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	if s.cfg.Exec == nil {
		writeError(w, apierrors.NewBadRequest("exec is not available: this cluster runs no node agents"))
		return
	}
	q := r.URL.Query()
	cmd := q["command"]
	if len(cmd) == 0 {
		writeError(w, apierrors.NewBadRequest("you must specify at least 1 command"))
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		writeError(w, apierrors.NewGenericServerResponse(http.StatusUpgradeRequired, "exec", info.res.groupResource(), info.name,
			"kin serves exec over WebSocket (v5.channel.k8s.io) only", 0, false))
		return
	}
	up := websocket.Upgrader{Subprotocols: execProtocols, CheckOrigin: func(*http.Request) bool { return true }}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	ws := &wsStreams{conn: conn, v5: conn.Subprotocol() == remotecommandconsts.StreamProtocolV5Name}
	streams := ExecStreams{TTY: q.Get("tty") == "true" || q.Get("tty") == "1"}
	var stdinW *io.PipeWriter
	if q.Get("stdin") == "true" || q.Get("stdin") == "1" {
		var stdinR *io.PipeReader
		stdinR, stdinW = io.Pipe()
		streams.Stdin = stdinR
	}
	if q.Get("stdout") != "false" && q.Get("stdout") != "0" {
		streams.Stdout = ws.writer(remotecommandconsts.StreamStdOut)
	}
	if q.Get("stderr") != "false" && q.Get("stderr") != "0" && !streams.TTY {
		streams.Stderr = ws.writer(remotecommandconsts.StreamStdErr)
	}
	resize := make(chan TerminalSize, 4)
	if streams.TTY {
		streams.Resize = resize
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go ws.readLoop(cancel, stdinW, resize)

	code, execErr := s.cfg.Exec.Exec(ctx, info.namespace, info.name, q.Get("container"), cmd, streams)
	ws.writeStatus(code, execErr)
}

// wsStreams multiplexes the command's streams over one WebSocket.
type wsStreams struct {
	conn *websocket.Conn
	v5   bool
	mu   sync.Mutex
}

func (ws *wsStreams) send(stream byte, data []byte) error {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	msg := make([]byte, 0, len(data)+1)
	msg = append(msg, stream)
	msg = append(msg, data...)
	return ws.conn.WriteMessage(websocket.BinaryMessage, msg)
}

type wsWriter struct {
	ws     *wsStreams
	stream byte
}

func (w wsWriter) Write(p []byte) (int, error) {
	if err := w.ws.send(w.stream, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (ws *wsStreams) writer(stream byte) io.Writer { return wsWriter{ws: ws, stream: stream} }

// readLoop feeds stdin and resize messages until the client goes away.
func (ws *wsStreams) readLoop(cancel context.CancelFunc, stdin *io.PipeWriter, resize chan<- TerminalSize) {
	defer func() {
		if stdin != nil {
			stdin.Close()
		}
	}()
	for {
		typ, data, err := ws.conn.ReadMessage()
		if err != nil {
			cancel()
			return
		}
		if typ != websocket.BinaryMessage || len(data) == 0 {
			continue
		}
		switch data[0] {
		case remotecommandconsts.StreamStdIn:
			if stdin != nil {
				stdin.Write(data[1:])
			}
		case remotecommandconsts.StreamResize:
			var sz TerminalSize
			if json.Unmarshal(data[1:], &sz) == nil {
				select {
				case resize <- sz:
				default:
				}
			}
		case remotecommandconsts.StreamClose:
			if len(data) > 1 && data[1] == remotecommandconsts.StreamStdIn && stdin != nil {
				stdin.Close()
				stdin = nil
			}
		}
	}
}

// writeStatus sends the outcome on the error stream, as the kubelet does:
// Success, a NonZeroExitCode status with the code, or a failure message.
func (ws *wsStreams) writeStatus(code int, execErr error) {
	st := metav1.Status{Status: metav1.StatusSuccess}
	switch {
	case execErr != nil && !errors.Is(execErr, context.Canceled):
		st = metav1.Status{Status: metav1.StatusFailure, Message: execErr.Error()}
	case code != 0:
		st = metav1.Status{
			Status:  metav1.StatusFailure,
			Reason:  remotecommandconsts.NonZeroExitCodeReason,
			Message: fmt.Sprintf("command terminated with non-zero exit code: error executing command, exit status %d", code),
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{
				Type: remotecommandconsts.ExitCodeCauseType, Message: strconv.Itoa(code),
			}}},
		}
	}
	data, _ := json.Marshal(st)
	ws.send(remotecommandconsts.StreamErr, data)
	ws.mu.Lock()
	ws.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), deadline())
	ws.mu.Unlock()
}

// deadline bounds the closing handshake.
func deadline() time.Time { return time.Now().Add(time.Second) }
