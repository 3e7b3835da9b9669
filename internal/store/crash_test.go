package store

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// crashChildEnv, when set to a file path, makes TestCrashKeepsAcknowledgedWrites
// run as the child that writes to the store at that path until it is killed.
const crashChildEnv = "KIN_STORE_CRASH_CHILD"

// TestCrashKeepsAcknowledgedWrites re-executes the test binary as a child that
// creates keys from several goroutines and prints "ACK key rev" after each
// Create returns, kills it with SIGKILL mid-way, reopens the file and checks
// that every acknowledged write is there with its revision.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashKeepsAcknowledgedWrites$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	const killAfter = 1000
	acked := make(map[string]int64)
	killed := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] != "ACK" {
			continue
		}
		rev, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		acked[f[1]] = rev
		if len(acked) == killAfter && !killed {
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			killed = true
		}
	}
	// Lines read after the kill were written before it: also acknowledged.
	werr := cmd.Wait()
	if !killed {
		t.Fatalf("child ended after %d acks without being killed: %v\n%s", len(acked), werr, stderr.String())
	}
	t.Logf("child killed after %d acknowledged writes", len(acked))

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer s.Close()
	for key, rev := range acked {
		o, err := s.Get(key)
		if err != nil {
			t.Fatalf("acknowledged key lost: %v", err)
		}
		if o.Rev != rev || string(o.Value) != key {
			t.Fatalf("%s = %q at rev %d, want rev %d", key, o.Value, o.Rev, rev)
		}
	}
	before := s.Rev()
	o, err := s.Create("after-crash", func(int64) ([]byte, error) { return []byte("x"), nil })
	if err != nil || o.Rev != before+1 {
		t.Fatalf("write after crash = rev %d, %v; want %d", o.Rev, err, before+1)
	}
}

// crashChild writes keys from 8 goroutines, acknowledging each on stdout,
// until it is killed (or gives up after a minute, should the parent be gone).
func crashChild(path string) {
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	deadline := time.Now().Add(time.Minute)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				key := fmt.Sprintf("crash/%d/%06d", g, i)
				o, err := s.Create(key, func(int64) ([]byte, error) { return []byte(key), nil })
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "ACK %s %d\n", key, o.Rev)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	os.Exit(3)
}
