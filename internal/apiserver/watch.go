package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"kin/internal/store"
)

// bookmarkInterval is how often an idle watch that asked for bookmarks gets one.
const bookmarkInterval = 30 * time.Second

// watch streams changes as newline-delimited watch events, the way
// kube-apiserver does, including the watch-list protocol
// (sendInitialEvents=true) that client-go informers use.
func (s *Server) watch(w http.ResponseWriter, r *http.Request, info *requestInfo) {
	sel, err := parseSelectors(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if info.name != "" {
		sel.fields = fields.AndSelectors(sel.fields, fields.OneTermEqualSelector("metadata.name", info.name))
	}
	q := r.URL.Query()
	timeout := time.Duration(1800+rand.IntN(1800)) * time.Second
	if v := q.Get("timeoutSeconds"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			timeout = time.Duration(n) * time.Second
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()

	rv := q.Get("resourceVersion")
	sendInitial := q.Get("sendInitialEvents") == "true"
	initialEventsAsked := q.Has("sendInitialEvents")
	bookmarks := q.Get("allowWatchBookmarks") == "true"
	asTable := wantAs(r) == "Table"
	prefix := info.res.listPrefix(info.namespace)

	var initial []store.Object
	var ch <-chan store.Event
	var lastRev int64
	if sendInitial || !initialEventsAsked && (rv == "" || rv == "0") {
		initial, lastRev, ch, err = s.store.ListAndWatch(ctx, prefix)
	} else {
		from, perr := strconv.ParseInt(rv, 10, 64)
		if perr != nil && rv != "" {
			writeError(w, apierrors.NewBadRequest(fmt.Sprintf("invalid resource version %q", rv)))
			return
		}
		if rv == "" || from == 0 {
			from = s.store.Rev()
		}
		lastRev = from
		ch, err = s.store.Watch(ctx, prefix, from)
	}
	ew := &eventWriter{w: w, s: s, r: r, info: info, table: asTable}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Transfer-Encoding", "chunked")
	w.WriteHeader(http.StatusOK)
	if errors.Is(err, store.ErrCompacted) {
		st := apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %s (%d)", rv, s.store.Rev())).ErrStatus
		st.Kind, st.APIVersion = "Status", "v1"
		ew.writeStatus(&st)
		return
	}
	if err != nil {
		st := toStatus(err)
		ew.writeStatus(st)
		return
	}
	for _, obj := range initial {
		if sel.matches(obj.Value) {
			if ew.write("ADDED", obj.Value) != nil {
				return
			}
		}
	}
	if sendInitial && bookmarks {
		if ew.bookmark(lastRev, true) != nil {
			return
		}
	}
	ew.flush()
	ticker := time.NewTicker(bookmarkInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if bookmarks && ew.bookmark(lastRev, false) != nil {
				return
			}
			ew.flush()
		case ev, ok := <-ch:
			if !ok {
				return
			}
			lastRev = ev.Object.Rev
			typ := filterEvent(sel, ev)
			if typ == "" {
				continue
			}
			if ew.write(typ, ev.Object.Value) != nil {
				return
			}
			// Send what is queued before flushing, so bursts go out together.
			if len(ch) == 0 {
				ew.flush()
			}
		}
	}
}

// filterEvent maps a store event through the selectors: an object that
// starts matching is ADDED, one that stops matching is DELETED.
func filterEvent(sel *selector, ev store.Event) string {
	if sel.empty() {
		return ev.Type.String()
	}
	now := sel.matches(ev.Object.Value)
	switch ev.Type {
	case store.Added:
		if now {
			return "ADDED"
		}
	case store.Deleted:
		if now || ev.PrevValue != nil && sel.matches(ev.PrevValue) {
			return "DELETED"
		}
	case store.Modified:
		before := ev.PrevValue != nil && sel.matches(ev.PrevValue)
		switch {
		case now && before:
			return "MODIFIED"
		case now:
			return "ADDED"
		case before:
			return "DELETED"
		}
	}
	return ""
}

// eventWriter writes watch events to one client.
type eventWriter struct {
	w           http.ResponseWriter
	s           *Server
	r           *http.Request
	info        *requestInfo
	table       bool
	buf         bytes.Buffer
	sentColumns bool
}

func (e *eventWriter) write(typ string, raw []byte) error {
	if e.table {
		one := []store.Object{{Value: raw}}
		t, err := e.s.tableFor(e.r, e.info, one)
		if err != nil {
			return err
		}
		if e.sentColumns {
			t.ColumnDefinitions = nil
		}
		e.sentColumns = true
		t.ResourceVersion = resourceVersionOf(raw)
		raw, err = json.Marshal(t)
		if err != nil {
			return err
		}
	}
	e.buf.Reset()
	e.buf.WriteString(`{"type":"`)
	e.buf.WriteString(typ)
	e.buf.WriteString(`","object":`)
	e.buf.Write(raw)
	e.buf.WriteString("}\n")
	_, err := e.w.Write(e.buf.Bytes())
	return err
}

func resourceVersionOf(raw []byte) string {
	var m struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	json.Unmarshal(raw, &m)
	return m.Metadata.ResourceVersion
}

// bookmark sends a BOOKMARK event: an empty object of the watched kind that
// carries only a resourceVersion (and, at the end of the initial events of
// a watch-list, the k8s.io/initial-events-end annotation).
func (e *eventWriter) bookmark(rev int64, initialEnd bool) error {
	obj := map[string]any{
		"kind":       e.info.res.kind,
		"apiVersion": e.info.res.gvr.GroupVersion().String(),
	}
	md := map[string]any{"resourceVersion": strconv.FormatInt(rev, 10)}
	if initialEnd {
		md["annotations"] = map[string]string{metav1.InitialEventsAnnotationKey: "true"}
	}
	obj["metadata"] = md
	raw, _ := json.Marshal(obj)
	table := e.table
	e.table = false
	defer func() { e.table = table }()
	return e.write("BOOKMARK", raw)
}

func (e *eventWriter) writeStatus(st *metav1.Status) {
	raw, _ := json.Marshal(st)
	e.table = false
	e.write("ERROR", raw)
	e.flush()
}

func (e *eventWriter) flush() {
	if f, ok := e.w.(http.Flusher); ok {
		f.Flush()
	}
}
