// Package store is kin's durable, versioned object store: the role etcd plays
// for kube-apiserver.
//
// The store knows nothing about Kubernetes types. Keys are opaque strings
// (kin uses "group/resource/namespace/name", cluster-scoped objects have an
// empty namespace) and values are opaque byte slices. Prefixes of keys matter
// only for List and Watch.
//
// Every successful write advances one global revision, which only grows and
// survives restarts, and every object remembers the revision that last
// modified it. Writes go through a single writer goroutine that commits
// queued requests in groups: one bbolt transaction and one fsync per group.
// A write is acknowledged only after it is on disk, applied to the in-memory
// copy and published to watchers. Reads are served from memory.
//
// A history of recent events is kept in memory and in bbolt, so that watches
// can resume from a past revision, also across a restart, until the history
// has been compacted past it (ErrCompacted, which the API server turns into
// 410 Gone).
//
// Byte slices are shared, never copied: the store takes ownership of the
// slices returned by write callbacks, and callers must not modify the Value
// or PrevValue of anything the store returns.
package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Errors returned by the store. Callers test for them with errors.Is.
var (
	// ErrNotFound is returned when the key does not exist.
	ErrNotFound = errors.New("key not found")
	// ErrExists is returned by Create when the key already exists.
	ErrExists = errors.New("key already exists")
	// ErrCompacted is returned by Watch when events after the requested
	// revision are no longer in the history.
	ErrCompacted = errors.New("requested revision has been compacted")
	// ErrClosed is returned by operations on a closed store.
	ErrClosed = errors.New("store is closed")
	// ErrInvalidKey is returned for an empty key or one too long for bbolt.
	ErrInvalidKey = errors.New("invalid key")
)

const (
	// defaultHistorySize is the number of events kept when
	// Options.HistorySize is not set.
	defaultHistorySize = 10000
	// defaultWatchBuffer is the per-watcher buffer when
	// Options.WatchBuffer is not set.
	defaultWatchBuffer = 1000
	// maxBatch is the largest number of writes committed in one transaction.
	maxBatch = 256
	// queueSize is the capacity of the writer's request queue.
	queueSize = 1024
	// openTimeout bounds the wait for bbolt's file lock, held by another
	// process that has the same file open.
	openTimeout = 2 * time.Second
	// initialRev is the revision of an empty store.
	initialRev = 1
)

// bbolt layout: objects maps key to an 8-byte big-endian revision followed by
// the value; events maps an 8-byte big-endian revision to an encoded Event;
// meta holds the current revision and the compaction revision.
var (
	bucketMeta    = []byte("meta")
	bucketObjects = []byte("objects")
	bucketEvents  = []byte("events")
	keyRev        = []byte("rev")
	keyCompact    = []byte("compact")
)

// Options configures a Store. The zero value is valid.
type Options struct {
	// HistorySize is the number of most recent events kept for watches that
	// resume from a past revision (default 10000).
	HistorySize int
	// WatchBuffer is the number of events buffered per watcher before the
	// watcher is considered too slow and its channel is closed (default 1000).
	WatchBuffer int
}

// withDefaults returns o with zero or negative fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.HistorySize <= 0 {
		o.HistorySize = defaultHistorySize
	}
	if o.WatchBuffer <= 0 {
		o.WatchBuffer = defaultWatchBuffer
	}
	return o
}

// Object is one stored value and the revision that last modified it.
type Object struct {
	Key   string
	Value []byte
	Rev   int64
}

// EventType says what kind of change an Event reports.
type EventType int

// The event types, named as in Kubernetes watch events.
const (
	Added EventType = iota + 1
	Modified
	Deleted
)

// String returns the Kubernetes name of the event type ("ADDED", ...).
func (t EventType) String() string {
	switch t {
	case Added:
		return "ADDED"
	case Modified:
		return "MODIFIED"
	case Deleted:
		return "DELETED"
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// Event is one change to one key. Object.Rev is the revision of the change.
// For Deleted events, Object.Value holds the bytes returned by Delete's
// callback. PrevValue is the value before the change (nil for Added).
type Event struct {
	Type      EventType
	Object    Object
	PrevValue []byte
}

// Store is a durable, versioned key-value store with watches. All methods are
// safe for concurrent use.
type Store struct {
	db   *bolt.DB
	opts Options

	// reqs queues write requests for the writer goroutine. closing is closed
	// by Close; stopped is closed when the writer has exited.
	reqs      chan *request
	closing   chan struct{}
	stopped   chan struct{}
	closeOnce sync.Once

	// mu guards the fields below. The writer goroutine is their only mutator
	// and takes mu for writing; it reads them without the lock.
	mu         sync.RWMutex
	objects    map[string]Object
	rev        int64
	compactRev int64   // every event with Rev > compactRev is in history
	history    []Event // in revision order, at most opts.HistorySize
	watchers   map[*watcher]struct{}
	closed     bool

	// testHookBeforeCommit, when set, runs at the end of each write
	// transaction; an error it returns aborts the transaction.
	testHookBeforeCommit func() error
}

// Open opens (creating if needed) the store in the bbolt file at path and
// loads its contents into memory.
func Open(path string, opts Options) (*Store, error) {
	// The freelist is rebuilt on open instead of written on every commit,
	// as etcd does: commits write fewer pages, and durability is unchanged.
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: openTimeout, NoFreelistSync: true, FreelistType: bolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Store{
		db:       db,
		opts:     opts.withDefaults(),
		reqs:     make(chan *request, queueSize),
		closing:  make(chan struct{}),
		stopped:  make(chan struct{}),
		objects:  make(map[string]Object),
		watchers: make(map[*watcher]struct{}),
	}
	if err := db.Update(s.load); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: load %s: %w", path, err)
	}
	go s.run()
	return s, nil
}

// load initialises an empty file and reads a non-empty one into memory. It
// trims a history longer than Options.HistorySize (the option may have been
// lowered since the file was written).
func (s *Store) load(tx *bolt.Tx) error {
	var bs [3]*bolt.Bucket
	for i, name := range [][]byte{bucketMeta, bucketObjects, bucketEvents} {
		b, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
		bs[i] = b
	}
	meta, objects, events := bs[0], bs[1], bs[2]

	s.rev, s.compactRev = initialRev, initialRev
	if v := meta.Get(keyRev); v != nil {
		s.rev = decodeRev(v)
	} else if err := meta.Put(keyRev, encodeRev(s.rev)); err != nil {
		return err
	}
	if v := meta.Get(keyCompact); v != nil {
		s.compactRev = decodeRev(v)
	} else if err := meta.Put(keyCompact, encodeRev(s.compactRev)); err != nil {
		return err
	}

	err := objects.ForEach(func(k, v []byte) error {
		if len(v) < 8 {
			return fmt.Errorf("object %q: short record", k)
		}
		key := string(k)
		s.objects[key] = Object{Key: key, Value: clone(v[8:]), Rev: decodeRev(v)}
		return nil
	})
	if err != nil {
		return err
	}
	err = events.ForEach(func(k, v []byte) error {
		ev, err := decodeEvent(decodeRev(k), v)
		if err != nil {
			return fmt.Errorf("event %d: %w", decodeRev(k), err)
		}
		s.history = append(s.history, ev)
		return nil
	})
	if err != nil {
		return err
	}
	if drop := len(s.history) - s.opts.HistorySize; drop > 0 {
		revs := make([]int64, drop)
		for i := range revs {
			revs[i] = s.history[i].Object.Rev
		}
		if err := compactTx(meta, events, revs); err != nil {
			return err
		}
		s.compactRev = revs[drop-1]
		s.history = append([]Event(nil), s.history[drop:]...)
	}
	return nil
}

// Close stops the writer, fails queued writes with ErrClosed, closes every
// watch channel and closes the bbolt file. Acknowledged writes are already
// durable. Close is idempotent.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.closing)
		<-s.stopped
		s.mu.Lock()
		s.closed = true
		for w := range s.watchers {
			s.dropLocked(w)
		}
		s.mu.Unlock()
		if cerr := s.db.Close(); cerr != nil {
			err = fmt.Errorf("store: close: %w", cerr)
		}
	})
	return err
}

// Rev returns the current revision of the store.
func (s *Store) Rev() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rev
}

// Get returns the object stored at key, or an error wrapping ErrNotFound.
func (s *Store) Get(key string) (Object, error) {
	s.mu.RLock()
	o, ok := s.objects[key]
	s.mu.RUnlock()
	if !ok {
		return Object{}, fmt.Errorf("store: get %q: %w", key, ErrNotFound)
	}
	return o, nil
}

// List returns the objects whose keys start with prefix, sorted by key, and
// the store revision they are a consistent snapshot of.
func (s *Store) List(prefix string) (items []Object, rev int64) {
	s.mu.RLock()
	items, rev = s.listLocked(prefix), s.rev
	s.mu.RUnlock()
	sortObjects(items)
	return items, rev
}

// listLocked collects the objects under prefix, unsorted. It requires mu.
func (s *Store) listLocked(prefix string) []Object {
	var items []Object
	for k, o := range s.objects {
		if strings.HasPrefix(k, prefix) {
			items = append(items, o)
		}
	}
	return items
}

// sortObjects sorts items by key.
func sortObjects(items []Object) {
	sort.Slice(items, func(i, j int) bool { return items[i].Key < items[j].Key })
}

// checkKey rejects keys bbolt cannot store.
func checkKey(key string) error {
	if key == "" || len(key) > bolt.MaxKeySize {
		return fmt.Errorf("store: key of length %d: %w", len(key), ErrInvalidKey)
	}
	return nil
}

// encodeRev encodes a revision as 8 big-endian bytes, so that bbolt orders
// revision keys numerically.
func encodeRev(rev int64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(rev))
}

// decodeRev decodes the revision in the first 8 bytes of b.
func decodeRev(b []byte) int64 {
	return int64(binary.BigEndian.Uint64(b))
}

// encodeObject encodes an object record: its revision, then its value.
func encodeObject(rev int64, value []byte) []byte {
	buf := make([]byte, 8, 8+len(value))
	binary.BigEndian.PutUint64(buf, uint64(rev))
	return append(buf, value...)
}

// encodeEvent encodes an event record (its revision is the bbolt key): the
// type byte, then key, value and previous value, each preceded by its length
// as a uvarint.
func encodeEvent(ev Event) []byte {
	key, val, prev := ev.Object.Key, ev.Object.Value, ev.PrevValue
	buf := make([]byte, 0, 1+3*binary.MaxVarintLen64+len(key)+len(val)+len(prev))
	buf = append(buf, byte(ev.Type))
	buf = binary.AppendUvarint(buf, uint64(len(key)))
	buf = append(buf, key...)
	buf = binary.AppendUvarint(buf, uint64(len(val)))
	buf = append(buf, val...)
	buf = binary.AppendUvarint(buf, uint64(len(prev)))
	return append(buf, prev...)
}

// decodeEvent decodes an event record written by encodeEvent. The result
// does not alias b.
func decodeEvent(rev int64, b []byte) (Event, error) {
	if len(b) < 1 {
		return Event{}, errors.New("empty event record")
	}
	ev := Event{Type: EventType(b[0]), Object: Object{Rev: rev}}
	if ev.Type < Added || ev.Type > Deleted {
		return Event{}, fmt.Errorf("unknown event type %d", b[0])
	}
	b = b[1:]
	var fields [3][]byte
	for i := range fields {
		n, sz := binary.Uvarint(b)
		if sz <= 0 || uint64(len(b)-sz) < n {
			return Event{}, errors.New("truncated event record")
		}
		fields[i] = clone(b[sz : sz+int(n)])
		b = b[sz+int(n):]
	}
	ev.Object.Key, ev.Object.Value, ev.PrevValue = string(fields[0]), fields[1], fields[2]
	return ev, nil
}

// clone copies b, returning nil for an empty slice. bbolt's slices are only
// valid inside their transaction.
func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}
