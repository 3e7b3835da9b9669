package images

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// This file is the WebSocket side of jmalloc/echo-server: the RFC 6455
// handshake and framing that its WebSocket library (gorilla/websocket)
// performs, with the same checks and error texts.

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// WebSocket opcodes.
const (
	wsContinuation = 0x0
	wsText         = 0x1
	wsBinary       = 0x2
	wsClose        = 0x8
	wsPing         = 0x9
	wsPong         = 0xA
)

// wsMaxMessage bounds one reassembled message.
const wsMaxMessage = 32 << 20

// isWebSocketUpgrade reports whether the request asks for a WebSocket.
func isWebSocketUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// wsUpgradeError refuses a handshake as the WebSocket library does.
func wsUpgradeError(w http.ResponseWriter, status int, reason string) error {
	w.Header().Set("Sec-Websocket-Version", "13")
	http.Error(w, http.StatusText(status), status)
	return errors.New(reason)
}

// wsUpgrade checks the handshake, hijacks the connection and answers 101.
func wsUpgrade(w http.ResponseWriter, r *http.Request) (net.Conn, *bufio.ReadWriter, error) {
	const badHandshake = "websocket: the client is not using the websocket protocol: "
	if !headerHasToken(r.Header, "Connection", "upgrade") {
		return nil, nil, wsUpgradeError(w, http.StatusBadRequest, badHandshake+"'upgrade' token not found in 'Connection' header")
	}
	if !headerHasToken(r.Header, "Upgrade", "websocket") {
		return nil, nil, wsUpgradeError(w, http.StatusBadRequest, badHandshake+"'websocket' token not found in 'Upgrade' header")
	}
	if r.Method != http.MethodGet {
		return nil, nil, wsUpgradeError(w, http.StatusMethodNotAllowed, badHandshake+"request method is not GET")
	}
	if !headerHasToken(r.Header, "Sec-Websocket-Version", "13") {
		return nil, nil, wsUpgradeError(w, http.StatusBadRequest, "websocket: unsupported version: 13 not found in 'Sec-Websocket-Version' header")
	}
	key := r.Header.Get("Sec-Websocket-Key")
	if raw, err := base64.StdEncoding.DecodeString(key); err != nil || len(raw) != 16 {
		return nil, nil, wsUpgradeError(w, http.StatusBadRequest, "websocket: not a websocket handshake: 'Sec-WebSocket-Key' header must be Base64 encoded value of 16-byte in length")
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, wsUpgradeError(w, http.StatusInternalServerError, "websocket: response does not implement http.Hijacker")
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	sum := sha1.Sum([]byte(key + wsGUID))
	accept := base64.StdEncoding.EncodeToString(sum[:])
	rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n")
	if err := rw.Flush(); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, rw, nil
}

// wsConn is the server end of a WebSocket connection.
type wsConn struct {
	conn net.Conn
	rw   *bufio.ReadWriter
}

// wsCloseError is a close frame received from the peer, or an abnormal end.
type wsCloseError struct {
	code int
	text string
}

var wsCloseNames = map[int]string{
	1000: "normal", 1001: "going away", 1002: "protocol error", 1003: "unsupported data",
	1005: "no status", 1006: "abnormal closure", 1007: "invalid payload data",
	1008: "policy violation", 1009: "message too big", 1010: "mandatory extension missing",
	1011: "internal server error", 1012: "service restart", 1013: "try again later",
	1015: "TLS handshake error",
}

func (e *wsCloseError) Error() string {
	s := "websocket: close " + strconv.Itoa(e.code)
	if name, ok := wsCloseNames[e.code]; ok {
		s += " (" + name + ")"
	}
	if e.text != "" {
		s += ": " + e.text
	}
	return s
}

// writeFrame sends one unmasked, final frame.
func (c *wsConn) writeFrame(op byte, payload []byte) error {
	hdr := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, byte(n))
	case n <= 0xFFFF:
		hdr = append(hdr, 126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, 127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	c.rw.Write(hdr)
	c.rw.Write(payload)
	return c.rw.Flush()
}

// protocolError closes the connection with 1002 and returns the error.
func (c *wsConn) protocolError(msg string) error {
	c.writeFrame(wsClose, closePayload(1002, msg))
	return errors.New("websocket: " + msg)
}

func closePayload(code int, text string) []byte {
	if code == 1005 {
		return nil
	}
	p := binary.BigEndian.AppendUint16(nil, uint16(code))
	return append(p, text...)
}

// readMessage returns the next data message, answering pings and close
// frames on the way as the WebSocket library's default handlers do.
func (c *wsConn) readMessage() (int, []byte, error) {
	var (
		op      byte
		message []byte
		started bool
	)
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.rw, h[:]); err != nil {
			return 0, nil, wsReadError(err)
		}
		fin := h[0]&0x80 != 0
		if h[0]&0x70 != 0 {
			return 0, nil, c.protocolError("unexpected reserved bits 0x" + strconv.FormatInt(int64(h[0]&0x70), 16))
		}
		frameOp := h[0] & 0x0F
		if h[1]&0x80 == 0 {
			return 0, nil, c.protocolError("incorrect mask flag")
		}
		n := uint64(h[1] & 0x7F)
		switch n {
		case 126:
			var ext [2]byte
			if _, err := io.ReadFull(c.rw, ext[:]); err != nil {
				return 0, nil, wsReadError(err)
			}
			n = uint64(binary.BigEndian.Uint16(ext[:]))
		case 127:
			var ext [8]byte
			if _, err := io.ReadFull(c.rw, ext[:]); err != nil {
				return 0, nil, wsReadError(err)
			}
			n = binary.BigEndian.Uint64(ext[:])
		}
		control := frameOp >= wsClose
		if control && (n > 125 || !fin) {
			return 0, nil, c.protocolError("control frame length > 125 or fragmented")
		}
		if n > wsMaxMessage || uint64(len(message))+n > wsMaxMessage {
			c.writeFrame(wsClose, closePayload(1009, ""))
			return 0, nil, errors.New("websocket: read limit exceeded")
		}
		var mask [4]byte
		if _, err := io.ReadFull(c.rw, mask[:]); err != nil {
			return 0, nil, wsReadError(err)
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(c.rw, payload); err != nil {
			return 0, nil, wsReadError(err)
		}
		for i := range payload {
			payload[i] ^= mask[i%4]
		}
		switch frameOp {
		case wsPing:
			if err := c.writeFrame(wsPong, payload); err != nil {
				return 0, nil, err
			}
			continue
		case wsPong:
			continue
		case wsClose:
			code, text := 1005, ""
			if len(payload) == 1 {
				return 0, nil, c.protocolError("invalid close frame")
			}
			if len(payload) >= 2 {
				code, text = int(binary.BigEndian.Uint16(payload)), string(payload[2:])
			}
			c.writeFrame(wsClose, closePayload(code, ""))
			return 0, nil, &wsCloseError{code: code, text: text}
		case wsText, wsBinary:
			if started {
				return 0, nil, c.protocolError("data before FIN")
			}
			op, started = frameOp, true
		case wsContinuation:
			if !started {
				return 0, nil, c.protocolError("continuation after FIN")
			}
		default:
			return 0, nil, c.protocolError("unknown opcode " + strconv.Itoa(int(frameOp)))
		}
		message = append(message, payload...)
		if fin {
			return int(op), message, nil
		}
	}
}

// wsReadError turns an end of stream into the abnormal-closure error the
// WebSocket library reports.
func wsReadError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &wsCloseError{code: 1006, text: io.ErrUnexpectedEOF.Error()}
	}
	return err
}

// serveWebSocket greets the client with the server's hostname and echoes
// every message back with its type.
func (h *echoHandler) serveWebSocket(w http.ResponseWriter, req *http.Request, send bool) {
	conn, rw, err := wsUpgrade(w, req)
	if err != nil {
		h.log.printf("%s | %s\n", req.RemoteAddr, err)
		return
	}
	defer conn.Close()
	if !h.track(conn) {
		return
	}
	defer h.untrack(conn)
	h.log.printf("%s | upgraded to websocket\n", req.RemoteAddr)
	c := &wsConn{conn: conn, rw: rw}
	var message []byte
	if send {
		message = []byte("Request served by " + h.hostname)
	}
	err = c.writeFrame(wsText, message)
	for err == nil {
		var op int
		op, message, err = c.readMessage()
		if err != nil {
			break
		}
		if op == wsText {
			h.log.printf("%s | txt | %s\n", req.RemoteAddr, message)
		} else {
			h.log.printf("%s | bin | %d byte(s)\n", req.RemoteAddr, len(message))
		}
		err = c.writeFrame(byte(op), message)
	}
	h.log.printf("%s | %s\n", req.RemoteAddr, err)
}
