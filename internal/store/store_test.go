package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitTimeout bounds every wait on a channel in these tests.
const waitTimeout = 10 * time.Second

// openStore opens a store in dir and closes it when the test ends.
func openStore(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(dir, "kin.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// body returns a build callback whose value embeds name and the new revision,
// as the API server embeds metadata.resourceVersion.
func body(name string) func(int64) ([]byte, error) {
	return func(rev int64) ([]byte, error) {
		return fmt.Appendf(nil, `{"name":%q,"rv":%d}`, name, rev), nil
	}
}

// set returns an update or delete callback that stores name with the new
// revision.
func set(name string) func(Object, int64) ([]byte, error) {
	return func(_ Object, rev int64) ([]byte, error) { return body(name)(rev) }
}

func mustCreate(t testing.TB, s *Store, key string) Object {
	t.Helper()
	o, err := s.Create(key, body(key))
	if err != nil {
		t.Fatalf("Create(%q): %v", key, err)
	}
	return o
}

// recv reads n events from ch, failing on timeout or a closed channel.
func recv(t *testing.T, ch <-chan Event, n int) []Event {
	t.Helper()
	var evs []Event
	for len(evs) < n {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("watch closed after %d of %d events", len(evs), n)
			}
			evs = append(evs, ev)
		case <-time.After(waitTimeout):
			t.Fatalf("timed out after %d of %d events", len(evs), n)
		}
	}
	return evs
}

// expectClosed fails unless ch is closed without carrying another event.
func expectClosed(t *testing.T, ch <-chan Event) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if ok {
			t.Fatalf("unexpected event %v rev %d on %q", ev.Type, ev.Object.Rev, ev.Object.Key)
		}
	case <-time.After(waitTimeout):
		t.Fatal("watch channel not closed")
	}
}

// expectQuiet fails if ch carries anything within a short time.
func expectQuiet(t *testing.T, ch <-chan Event) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		t.Fatalf("unexpected receive (open=%v): %v rev %d", ok, ev.Type, ev.Object.Rev)
	case <-time.After(50 * time.Millisecond):
	}
}

// summary renders events compactly for comparisons.
func summary(evs []Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, fmt.Sprintf("%v %s %d %s <- %s", ev.Type, ev.Object.Key, ev.Object.Rev, ev.Object.Value, ev.PrevValue))
	}
	return out
}

func TestCRUD(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	if got := s.Rev(); got != 1 {
		t.Fatalf("empty store Rev = %d, want 1", got)
	}

	a := mustCreate(t, s, "core/pods/default/a")
	if a.Rev != 2 || string(a.Value) != `{"name":"core/pods/default/a","rv":2}` {
		t.Fatalf("Create = %+v (%s)", a, a.Value)
	}
	if _, err := s.Create("core/pods/default/a", body("x")); !errors.Is(err, ErrExists) {
		t.Fatalf("second Create err = %v, want ErrExists", err)
	}
	got, err := s.Get("core/pods/default/a")
	if err != nil || got.Rev != 2 || string(got.Value) != string(a.Value) {
		t.Fatalf("Get = %+v, %v", got, err)
	}

	u, err := s.Update("core/pods/default/a", func(cur Object, rev int64) ([]byte, error) {
		if cur.Rev != 2 || rev != 3 {
			t.Errorf("update callback got cur.Rev %d newRev %d, want 2 and 3", cur.Rev, rev)
		}
		return body("a2")(rev)
	})
	if err != nil || u.Rev != 3 || string(u.Value) != `{"name":"a2","rv":3}` {
		t.Fatalf("Update = %+v, %v", u, err)
	}
	mustCreate(t, s, "core/pods/default/b")
	items, rev := s.List("core/pods/")
	if rev != 4 || len(items) != 2 || items[0].Rev != 3 || items[1].Key != "core/pods/default/b" {
		t.Fatalf("List = %+v at %d", items, rev)
	}

	d, err := s.Delete("core/pods/default/a", set("gone"))
	if err != nil || d.Rev != 5 || string(d.Value) != `{"name":"gone","rv":5}` {
		t.Fatalf("Delete = %+v, %v", d, err)
	}
	if _, err := s.Get("core/pods/default/a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete err = %v, want ErrNotFound", err)
	}
	if _, err := s.Update("core/pods/default/a", set("x")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Update of missing err = %v, want ErrNotFound", err)
	}
	if _, err := s.Delete("core/pods/default/a", set("x")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete of missing err = %v, want ErrNotFound", err)
	}
	if _, err := s.Create("", body("x")); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("Create of empty key err = %v, want ErrInvalidKey", err)
	}
	if got := s.Rev(); got != 5 {
		t.Fatalf("Rev = %d after 4 writes and 5 failures, want 5", got)
	}
}

func TestCallbackErrorsAbort(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	mustCreate(t, s, "k")
	errConflict := errors.New("conflict")
	fail := func(Object, int64) ([]byte, error) { return nil, errConflict }

	tests := []struct {
		name string
		op   func() error
	}{
		{"create", func() error {
			_, err := s.Create("other", func(int64) ([]byte, error) { return nil, errConflict })
			return err
		}},
		{"update", func() error { _, err := s.Update("k", fail); return err }},
		{"delete", func() error { _, err := s.Delete("k", fail); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.op(); err != errConflict {
				t.Fatalf("err = %v, want the callback's error unchanged", err)
			}
			o, err := s.Get("k")
			if err != nil || o.Rev != 2 {
				t.Fatalf("Get = %+v, %v; want the object untouched", o, err)
			}
			if _, err := s.Get("other"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("aborted create left an object: %v", err)
			}
			if s.Rev() != 2 {
				t.Fatalf("Rev = %d, want 2", s.Rev())
			}
		})
	}

	_, err := s.Update("k", func(Object, int64) ([]byte, error) { panic("boom") })
	if err == nil {
		t.Fatal("panicking callback: want error")
	}
	if o := mustCreate(t, s, "after-panic"); o.Rev != 3 {
		t.Fatalf("write after a panicking callback got rev %d, want 3", o.Rev)
	}
}

func TestReopenKeepsObjectsRevisionsAndHistory(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	mustCreate(t, s, "a")
	mustCreate(t, s, "b")
	if _, err := s.Update("a", set("a2")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete("b", set("b-final")); err != nil {
		t.Fatal(err)
	}
	wantItems, wantRev := s.List("")
	ch, err := s.Watch(context.Background(), "", 1)
	if err != nil {
		t.Fatal(err)
	}
	wantEvents := summary(recv(t, ch, 4))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, dir, Options{})
	items, rev := s.List("")
	if rev != wantRev || rev != 5 || fmt.Sprint(items) != fmt.Sprint(wantItems) {
		t.Fatalf("after reopen List = %v at %d, want %v at %d", items, rev, wantItems, wantRev)
	}
	if _, err := s.Get("b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted key came back: %v", err)
	}
	// The persisted history lets a watch resume from before the restart.
	ch, err = s.Watch(context.Background(), "", 1)
	if err != nil {
		t.Fatal(err)
	}
	got := summary(recv(t, ch, 4))
	if !slices.Equal(got, wantEvents) {
		t.Fatalf("replay after reopen:\n%q\nwant\n%q", got, wantEvents)
	}
	// Revisions keep growing across the restart, and the watch goes live.
	if o := mustCreate(t, s, "c"); o.Rev != 6 {
		t.Fatalf("first write after reopen got rev %d, want 6", o.Rev)
	}
	if ev := recv(t, ch, 1)[0]; ev.Type != Added || ev.Object.Key != "c" || ev.Object.Rev != 6 {
		t.Fatalf("live event = %v", summary([]Event{ev}))
	}
}

func TestWatchReplaysFromRevision(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	// Revisions: create a 2, create b 3, update a 4, delete b 5.
	mustCreate(t, s, "a")
	mustCreate(t, s, "b")
	if _, err := s.Update("a", set("a2")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete("b", set("b-final")); err != nil {
		t.Fatal(err)
	}
	ch, err := s.Watch(context.Background(), "", 2)
	if err != nil {
		t.Fatal(err)
	}
	got := summary(recv(t, ch, 3))
	want := []string{
		`ADDED b 3 {"name":"b","rv":3} <- `,
		`MODIFIED a 4 {"name":"a2","rv":4} <- {"name":"a","rv":2}`,
		`DELETED b 5 {"name":"b-final","rv":5} <- {"name":"b","rv":3}`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("replay:\n%q\nwant\n%q", got, want)
	}
	expectQuiet(t, ch)
}

func TestWatchFromZeroSeesOnlyNewEvents(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	mustCreate(t, s, "old")
	ch, err := s.Watch(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "new")
	if ev := recv(t, ch, 1)[0]; ev.Object.Key != "new" || ev.Object.Rev != 3 {
		t.Fatalf("event = %v", summary([]Event{ev}))
	}
}

func TestWatchFromFutureRevisionSkipsEarlierEvents(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	ch, err := s.Watch(context.Background(), "", 3)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "a") // 2
	mustCreate(t, s, "b") // 3
	mustCreate(t, s, "c") // 4
	if ev := recv(t, ch, 1)[0]; ev.Object.Key != "c" {
		t.Fatalf("event = %v, want c at 4", summary([]Event{ev}))
	}
}

func TestPrefixFiltering(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	keys := []string{"core/pods/default/web-1", "core/pods/kube-system/dns", "core/nodes//w1", "apps/deployments/default/web"}
	for _, k := range keys {
		mustCreate(t, s, k)
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"apps/deployments/default/web", "core/nodes//w1", "core/pods/default/web-1", "core/pods/kube-system/dns"}},
		{"core/pods/", []string{"core/pods/default/web-1", "core/pods/kube-system/dns"}},
		{"core/pods/default/", []string{"core/pods/default/web-1"}},
		{"core/", []string{"core/nodes//w1", "core/pods/default/web-1", "core/pods/kube-system/dns"}},
		{"x/", nil},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			items, _ := s.List(tt.prefix)
			var listed []string
			for _, o := range items {
				listed = append(listed, o.Key)
			}
			if !slices.Equal(listed, tt.want) {
				t.Errorf("List = %q, want %q", listed, tt.want)
			}
			ch, err := s.Watch(context.Background(), tt.prefix, 1)
			if err != nil {
				t.Fatal(err)
			}
			var watched []string
			for _, ev := range recv(t, ch, len(tt.want)) {
				watched = append(watched, ev.Object.Key)
			}
			sort.Strings(watched)
			if !slices.Equal(watched, tt.want) {
				t.Errorf("Watch = %q, want %q", watched, tt.want)
			}
			// A live event under another prefix must not arrive either.
			if tt.prefix != "" {
				mustCreate(t, s, "zz/"+tt.prefix)
				expectQuiet(t, ch)
			}
		})
	}
}

func TestWatchCompacted(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{HistorySize: 5})
	for i := range 20 { // revisions 2..21
		mustCreate(t, s, fmt.Sprintf("k%02d", i))
	}
	check := func(s *Store, fromRev int64, wantFirst int64, wantN int) {
		t.Helper()
		ch, err := s.Watch(context.Background(), "", fromRev)
		if wantN < 0 {
			if !errors.Is(err, ErrCompacted) {
				t.Fatalf("Watch(%d) err = %v, want ErrCompacted", fromRev, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Watch(%d): %v", fromRev, err)
		}
		evs := recv(t, ch, wantN)
		if evs[0].Object.Rev != wantFirst || evs[wantN-1].Object.Rev != 21 {
			t.Fatalf("Watch(%d) replayed %d..%d", fromRev, evs[0].Object.Rev, evs[wantN-1].Object.Rev)
		}
		expectQuiet(t, ch)
	}
	check(s, 15, 0, -1)
	check(s, 1, 0, -1)
	check(s, 16, 17, 5)
	check(s, 19, 20, 2)
	s.Close()

	// The compacted history is what was persisted.
	s = openStore(t, dir, Options{HistorySize: 5})
	check(s, 15, 0, -1)
	check(s, 16, 17, 5)
	s.Close()

	// Reopening with a smaller history compacts further.
	s = openStore(t, dir, Options{HistorySize: 3})
	check(s, 16, 0, -1)
	check(s, 18, 19, 3)
	s.Close()
	s = openStore(t, dir, Options{HistorySize: 3})
	check(s, 17, 0, -1)
	check(s, 18, 19, 3)
}

func TestWatchEndsOnCancelAndClose(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := s.Watch(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	expectClosed(t, ch)
	mustCreate(t, s, "a") // Publishing to a cancelled watcher is harmless.

	ch, err = s.Watch(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, ch)
	if _, err := s.Create("b", body("b")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Create after Close err = %v, want ErrClosed", err)
	}
	if _, err := s.Watch(context.Background(), "", 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Watch after Close err = %v, want ErrClosed", err)
	}
}

func TestSlowWatcherIsClosedWithoutBlockingWriters(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{WatchBuffer: 10})
	slow, err := s.Watch(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := s.Watch(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	fastGot := make(chan []Event)
	go func() {
		var evs []Event
		for ev := range fast {
			if evs = append(evs, ev); len(evs) == n {
				break
			}
		}
		fastGot <- evs
	}()

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			if _, err := s.Create(fmt.Sprintf("k%03d", i), body("v")); err != nil {
				t.Errorf("Create: %v", err)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("writes blocked by a watcher that does not read")
	}
	if evs := <-fastGot; len(evs) != n {
		t.Fatalf("fast watcher got %d events, want %d", len(evs), n)
	}

	// The slow watcher gets a gap-free prefix of the events, then the close.
	var evs []Event
	for ev := range slow {
		evs = append(evs, ev)
	}
	if len(evs) == 0 || len(evs) >= n {
		t.Fatalf("slow watcher got %d events, want some but fewer than %d", len(evs), n)
	}
	for i, ev := range evs {
		if ev.Object.Rev != int64(i)+2 {
			t.Fatalf("slow watcher event %d has rev %d, want %d", i, ev.Object.Rev, i+2)
		}
	}
	// It resumes from its last revision, as a Kubernetes client would.
	again, err := s.Watch(context.Background(), "", evs[len(evs)-1].Object.Rev)
	if err != nil {
		t.Fatal(err)
	}
	rest := recv(t, again, n-len(evs))
	if last := rest[len(rest)-1].Object.Rev; last != n+1 {
		t.Fatalf("resumed watch ended at rev %d, want %d", last, n+1)
	}
}

func TestListAndWatchHasNoGapOrDuplicate(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{WatchBuffer: 10000})
	const writers, perWriter = 4, 150
	var ops atomic.Int64
	halfway := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each writer cycles its own keys through create, update and
			// delete, so every operation succeeds and uses one revision.
			for i := range perWriter {
				key := fmt.Sprintf("w%d/%d", g, i/3)
				var err error
				switch i % 3 {
				case 0:
					_, err = s.Create(key, body(key))
				case 1:
					_, err = s.Update(key, set(key+"-2"))
				case 2:
					if i%2 == 0 {
						_, err = s.Delete(key, set(key+"-del"))
					} else {
						_, err = s.Update(key, set(key+"-3"))
					}
				}
				if err != nil {
					t.Errorf("%s: %v", key, err)
				}
				if ops.Add(1) == writers*perWriter/3 {
					once.Do(func() { close(halfway) })
				}
			}
		}()
	}
	<-halfway
	items, rev, ch, err := s.ListAndWatch(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	final := s.Rev()
	if rev <= 1 || rev >= final {
		t.Fatalf("ListAndWatch at rev %d, want one taken during the writes (final %d)", rev, final)
	}

	state := make(map[string]Object)
	for _, o := range items {
		state[o.Key] = o
	}
	for _, ev := range recv(t, ch, int(final-rev)) {
		rev++
		if ev.Object.Rev != rev {
			t.Fatalf("event rev %d, want %d: a gap or a duplicate", ev.Object.Rev, rev)
		}
		_, had := state[ev.Object.Key]
		if had != (ev.Type != Added) {
			t.Fatalf("%v for %q which the list state has=%v", ev.Type, ev.Object.Key, had)
		}
		if ev.Type == Deleted {
			delete(state, ev.Object.Key)
		} else {
			state[ev.Object.Key] = ev.Object
		}
	}
	expectQuiet(t, ch)
	want, _ := s.List("")
	var got []Object
	for _, o := range state {
		got = append(got, o)
	}
	sortObjects(got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("list + events = %d objects, differ from final List (%d objects)", len(got), len(want))
	}
}

func TestConcurrentWritersGetDistinctIncreasingRevisions(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	const writers, perWriter = 32, 30
	revs := make([][]int64, writers)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				o, err := s.Create(fmt.Sprintf("g%02d/%03d", g, i), body("v"))
				if err != nil {
					t.Errorf("Create: %v", err)
					return
				}
				revs[g] = append(revs[g], o.Rev)
			}
		}()
	}
	wg.Wait()
	var all []int64
	for g, rs := range revs {
		if !slices.IsSorted(rs) {
			t.Fatalf("writer %d got decreasing revisions %v", g, rs)
		}
		all = append(all, rs...)
	}
	slices.Sort(all)
	for i, r := range all {
		if r != int64(i)+2 {
			t.Fatalf("revisions are not distinct and contiguous: sorted[%d] = %d", i, r)
		}
	}
	if s.Rev() != writers*perWriter+1 {
		t.Fatalf("Rev = %d, want %d", s.Rev(), writers*perWriter+1)
	}
}

func TestConcurrentUpdatesSeeEarlierWritesOfTheBatch(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	if _, err := s.Create("counter", func(int64) ([]byte, error) { return []byte("0"), nil }); err != nil {
		t.Fatal(err)
	}
	const writers, perWriter = 32, 20
	incr := func(cur Object, _ int64) ([]byte, error) {
		n, err := strconv.Atoi(string(cur.Value))
		return strconv.AppendInt(nil, int64(n+1), 10), err
	}
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perWriter {
				if _, err := s.Update("counter", incr); err != nil {
					t.Errorf("Update: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	o, _ := s.Get("counter")
	if string(o.Value) != strconv.Itoa(writers*perWriter) || o.Rev != writers*perWriter+2 {
		t.Fatalf("counter = %s at rev %d, want %d at %d (lost updates)", o.Value, o.Rev, writers*perWriter, writers*perWriter+2)
	}
}

func TestFailedCommitFailsBatchAndLeavesMemoryUntouched(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	a := mustCreate(t, s, "a")
	ch, err := s.Watch(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}

	errDisk := errors.New("disk on fire")
	s.testHookBeforeCommit = func() error { return errDisk }
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i == 0 {
				_, err = s.Update("a", set("a2"))
			} else {
				_, err = s.Create(fmt.Sprintf("new%d", i), body("v"))
			}
			if !errors.Is(err, errDisk) {
				t.Errorf("write %d err = %v, want the commit error", i, err)
			}
		}()
	}
	wg.Wait()
	items, rev := s.List("")
	if rev != 2 || len(items) != 1 || string(items[0].Value) != string(a.Value) {
		t.Fatalf("after failed commits List = %v at %d, want only a at 2", items, rev)
	}
	expectQuiet(t, ch)

	s.testHookBeforeCommit = nil
	if o := mustCreate(t, s, "b"); o.Rev != 3 {
		t.Fatalf("write after failed commits got rev %d, want 3", o.Rev)
	}
	if ev := recv(t, ch, 1)[0]; ev.Object.Key != "b" || ev.Object.Rev != 3 {
		t.Fatalf("event = %v", summary([]Event{ev}))
	}
	s.Close()
	s = openStore(t, dir, Options{})
	if items, rev := s.List(""); rev != 3 || len(items) != 2 {
		t.Fatalf("after reopen List = %v at %d, want a and b at 3", items, rev)
	}
}

func TestEventCodecRoundTrip(t *testing.T) {
	tests := []Event{
		{Type: Added, Object: Object{Key: "k", Value: []byte("v"), Rev: 7}},
		{Type: Modified, Object: Object{Key: "core/nodes//w1", Value: []byte("{}"), Rev: 8}, PrevValue: []byte("{\"a\":1}")},
		{Type: Deleted, Object: Object{Key: "x", Rev: 9}, PrevValue: []byte("old")},
	}
	for _, want := range tests {
		got, err := decodeEvent(want.Object.Rev, encodeEvent(want))
		if err != nil {
			t.Fatalf("decode %v: %v", want.Type, err)
		}
		if fmt.Sprint(summary([]Event{got})) != fmt.Sprint(summary([]Event{want})) {
			t.Errorf("round trip = %v, want %v", summary([]Event{got}), summary([]Event{want}))
		}
	}
	bad := [][]byte{nil, {9}, {byte(Added), 5, 'a'}}
	for _, b := range bad {
		if _, err := decodeEvent(1, b); err == nil {
			t.Errorf("decodeEvent(%v): want error", b)
		}
	}
}

// BenchmarkCreateParallel measures durable creates per second from 32
// concurrent callers, the load group commit is built for.
func BenchmarkCreateParallel(b *testing.B) {
	s := openStore(b, b.TempDir(), Options{})
	value := make([]byte, 512)
	for i := range value {
		value[i] = 'x'
	}
	var next atomic.Int64
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((32 + procs - 1) / procs)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprintf("core/pods/default/pod-%d", next.Add(1))
			if _, err := s.Create(key, func(int64) ([]byte, error) { return value, nil }); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
}
