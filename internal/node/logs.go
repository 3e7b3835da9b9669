package node

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Container logs are stored as the CRI runtimes store them, one entry per
// line: "<RFC3339Nano time> <stdout|stderr> <F|P> <content>", where P marks
// a partial line that the next entry continues.
const (
	criTimeFormat = "2006-01-02T15:04:05.000000000Z07:00"
	// maxLogLine is the longest content of one entry; longer lines are
	// split into partial entries, as containerd does.
	maxLogLine = 16 << 10
	// defaultLogMaxSize and defaultLogMaxFiles are the kubelet's
	// containerLogMaxSize and containerLogMaxFiles: a log that grows past
	// the size is rotated, and the rotated files beyond the count go.
	defaultLogMaxSize  = 10 << 20
	defaultLogMaxFiles = 5
)

// logFile is a container's log being written.
type logFile struct {
	mu       sync.Mutex
	path     string
	f        *os.File
	w        *bufio.Writer
	size     int64
	maxSize  int64
	maxFiles int
	now      func() time.Time
	closed   bool
}

// createLog creates (or truncates) a container log.
func createLog(path string, now func() time.Time) (*logFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("creating log directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("creating log: %w", err)
	}
	return &logFile{path: path, f: f, w: bufio.NewWriter(f), now: now,
		maxSize: defaultLogMaxSize, maxFiles: defaultLogMaxFiles}, nil
}

// entry writes one log entry.
func (l *logFile) entry(stream, tag string, content []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	if l.size >= l.maxSize {
		l.rotate()
	}
	l.w.WriteString(l.now().UTC().Format(criTimeFormat))
	l.w.WriteByte(' ')
	l.w.WriteString(stream)
	l.w.WriteByte(' ')
	l.w.WriteString(tag)
	l.w.WriteByte(' ')
	l.w.Write(content)
	l.w.WriteByte('\n')
	l.size += int64(len(criTimeFormat) + len(stream) + len(tag) + len(content) + 4)
	l.w.Flush()
}

// rotate moves the log aside with a timestamp suffix, starts a new file at
// the same path and removes the oldest rotated files; l.mu is held.
func (l *logFile) rotate() {
	l.w.Flush()
	l.f.Close()
	rotated := l.path + "." + l.now().UTC().Format("20060102-150405.000000000")
	if err := os.Rename(l.path, rotated); err == nil {
		matches, _ := filepath.Glob(l.path + ".*")
		sort.Strings(matches)
		for len(matches) > l.maxFiles-1 {
			os.Remove(matches[0])
			matches = matches[1:]
		}
	}
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		l.closed = true
		return
	}
	l.f, l.size = f, 0
	l.w.Reset(f)
}

// Close closes the log; later writes are dropped.
func (l *logFile) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	l.w.Flush()
	l.f.Close()
}

// stream returns a writer for one of the container's output streams.
func (l *logFile) stream(name string) *logStream { return &logStream{l: l, name: name} }

// logStream turns writes into log entries, a line at a time.
type logStream struct {
	l    *logFile
	name string
	mu   sync.Mutex
	buf  []byte
}

// Write logs every complete line of p and keeps the rest for later.
func (s *logStream) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, p...)
	for {
		i := bytes.IndexByte(s.buf, '\n')
		if i < 0 {
			break
		}
		line := s.buf[:i]
		for len(line) > maxLogLine {
			s.l.entry(s.name, "P", line[:maxLogLine])
			line = line[maxLogLine:]
		}
		s.l.entry(s.name, "F", line)
		s.buf = s.buf[i+1:]
	}
	for len(s.buf) >= maxLogLine {
		s.l.entry(s.name, "P", s.buf[:maxLogLine])
		s.buf = s.buf[maxLogLine:]
	}
	if len(s.buf) == 0 {
		s.buf = nil
	}
	return len(p), nil
}

// flush logs a last line that had no newline.
func (s *logStream) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.buf) > 0 {
		s.l.entry(s.name, "F", s.buf)
		s.buf = nil
	}
}

// logEntry is one parsed log entry.
type logEntry struct {
	timestamp []byte
	partial   bool
	content   []byte
}

// parseLogEntry parses a log line (without its newline).
func parseLogEntry(line []byte) (logEntry, bool) {
	ts, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return logEntry{}, false
	}
	_, rest, ok = bytes.Cut(rest, []byte{' '}) // stream
	if !ok {
		return logEntry{}, false
	}
	tag, content, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		// An empty line has no space after its tag.
		tag, content = rest, nil
	}
	return logEntry{timestamp: ts, partial: string(tag) == "P", content: content}, true
}

// logWriter writes entries as kubectl logs shows them.
type logWriter struct {
	w          io.Writer
	timestamps bool
	midLine    bool
}

// write writes one entry: the timestamp at the start of a line when asked,
// the content, and a newline unless the entry is partial.
func (lw *logWriter) write(e logEntry) error {
	var b bytes.Buffer
	if lw.timestamps && !lw.midLine {
		b.Write(e.timestamp)
		b.WriteByte(' ')
	}
	b.Write(e.content)
	if !e.partial {
		b.WriteByte('\n')
	}
	lw.midLine = e.partial
	_, err := lw.w.Write(b.Bytes())
	return err
}

// Logs writes a container's log to w as kubectl logs shows it: the current
// instance's, or with opts.Previous the one before; the last
// opts.TailLines lines; with opts.Follow it keeps writing new lines until
// the instance exits or ctx ends. flush, when not nil, is called whenever
// written lines should reach the client.
func (a *Agent) Logs(ctx context.Context, namespace, pod, container string, opts LogOptions, w io.Writer, flush func()) error {
	if flush == nil {
		flush = func() {}
	}
	wk := a.workerByName(namespace, pod)
	if wk == nil {
		return fmt.Errorf("pod %q not found on node %q", namespace+"/"+pod, a.cfg.NodeName)
	}
	path, inst, err := wk.logSource(container, opts.Previous)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading log of container %q: %w", container, err)
	}
	defer func() { f.Close() }()
	if opts.TailLines != nil && *opts.TailLines >= 0 {
		off, err := tailOffset(f, *opts.TailLines)
		if err != nil {
			return fmt.Errorf("reading log of container %q: %w", container, err)
		}
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return fmt.Errorf("reading log of container %q: %w", container, err)
		}
	}
	lw := &logWriter{w: w, timestamps: opts.Timestamps}
	r := bufio.NewReader(f)
	var pending []byte
	exited := false
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			line = append(pending, line[:len(line)-1]...)
			pending = nil
			if e, ok := parseLogEntry(line); ok {
				if werr := lw.write(e); werr != nil {
					return werr
				}
			}
			continue
		}
		// At the end of what is written so far; keep a torn last line.
		pending = append(pending, line...)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("reading log of container %q: %w", container, err)
		}
		flush()
		if !opts.Follow || inst == nil || exited {
			return nil
		}
		if inst.exited() {
			// The log is complete once the instance has exited: one more
			// pass reads what was written since.
			exited = true
			continue
		}
		if rotated(f, path) {
			// The writer rotated the log: what is left of the old file
			// was read, the rest is in the new one.
			nf, err := os.Open(path)
			if err == nil {
				f.Close()
				f = nf
				r.Reset(f)
				pending = nil
				continue
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-inst.done:
		case <-time.After(a.logPoll):
		}
	}
}

// rotated reports whether path no longer names the open file f.
func rotated(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && !os.SameFile(a, b)
}

// tailOffset finds where the last n lines of a log start.
func tailOffset(f *os.File, n int64) (int64, error) {
	if n == 0 {
		return f.Seek(0, io.SeekEnd)
	}
	starts := make([]int64, 0, n)
	r := bufio.NewReader(f)
	var off int64
	lineStart := true
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			if e, ok := parseLogEntry(line[:len(line)-1]); ok {
				if lineStart {
					if int64(len(starts)) == n {
						starts = starts[1:]
					}
					starts = append(starts, off)
				}
				lineStart = !e.partial
			}
		}
		off += int64(len(line))
		if err != nil {
			break
		}
	}
	if len(starts) == 0 {
		return off, nil
	}
	return starts[0], nil
}

// logSource finds the log file of a container's current or previous
// instance and, for the current one, the instance (to follow it).
func (w *podWorker) logSource(container string, previous bool) (string, *instance, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	pod := w.pod
	rec := w.records[container]
	if rec == nil {
		if !hasContainer(pod, container) {
			return "", nil, fmt.Errorf("container %s is not valid for pod %s", container, w.name)
		}
		return "", nil, fmt.Errorf("container %q in pod %q is waiting to start: ContainerCreating", container, w.name)
	}
	if previous {
		if rec.prev == nil {
			return "", nil, fmt.Errorf("previous terminated container %q in pod %q not found", container, w.name)
		}
		return rec.prev.logPath, nil, nil
	}
	if rec.cur == nil {
		reason := "ContainerCreating"
		if rec.waiting != nil {
			reason = rec.waiting.Reason
		} else if rec.kind != regularContainer || !w.initDone {
			reason = "PodInitializing"
		}
		if reason == "ErrImagePull" || reason == "ImagePullBackOff" {
			reason = "trying and failing to pull image"
		}
		return "", nil, fmt.Errorf("container %q in pod %q is waiting to start: %s", container, w.name, reason)
	}
	return rec.cur.logPath, rec.cur, nil
}

// hasContainer reports whether the pod spec has a container of that name.
func hasContainer(pod *corev1.Pod, name string) bool {
	if pod == nil {
		return false
	}
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			if c.Name == name {
				return true
			}
		}
	}
	return false
}
