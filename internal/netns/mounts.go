package netns

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// mountInfo is one line of /proc/thread-self/mountinfo (the calling
// thread's view, which is the machine's on any thread but a sandbox's).
type mountInfo struct {
	mountPoint string
	optional   []string // e.g. "shared:1", "master:2"
}

func readMountInfo() ([]mountInfo, error) {
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("netns: %w", err)
	}
	defer f.Close()
	var out []mountInfo
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 7 {
			continue
		}
		mi := mountInfo{mountPoint: unescapeMountInfo(fields[4])}
		for _, f := range fields[6:] {
			if f == "-" {
				break
			}
			mi.optional = append(mi.optional, f)
		}
		out = append(out, mi)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("netns: read mountinfo: %w", err)
	}
	return out, nil
}

// unescapeMountInfo undoes the octal escapes (\040 for a space) of mountinfo.
func unescapeMountInfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, ok := octal(s[i+1 : i+4]); ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func octal(s string) (byte, bool) {
	if len(s) != 3 {
		return 0, false
	}
	v := 0
	for _, c := range s {
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v*8 + int(c-'0')
	}
	return byte(v), v < 256
}

// mountPointsUnder returns the mount points at or below dir, in mount order.
func mountPointsUnder(dir string) ([]string, error) {
	mis, err := readMountInfo()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, mi := range mis {
		if mi.mountPoint == dir || strings.HasPrefix(mi.mountPoint, dir+"/") {
			out = append(out, mi.mountPoint)
		}
	}
	return out, nil
}

// topMount returns the optional fields of the topmost mount at path and
// whether path is a mount point.
func topMount(path string) ([]string, bool, error) {
	mis, err := readMountInfo()
	if err != nil {
		return nil, false, err
	}
	var opt []string
	found := false
	for _, mi := range mis {
		if mi.mountPoint == path {
			opt, found = mi.optional, true
		}
	}
	return opt, found, nil
}

var (
	runDirMu    sync.Mutex
	runDirReady bool
	netnsMu     sync.Mutex
	netnsReady  bool
)

// ensureRunDir makes RunDir a private mount, once per process: a mount
// namespace file can only be bind-mounted where the mount does not propagate
// to other mount namespaces. A tmpfs is mounted there when RunDir is not a
// mount point yet; its files are runtime state like the namespaces
// themselves, and file operations on it are cheap even where /run is on disk.
func ensureRunDir() error {
	runDirMu.Lock()
	defer runDirMu.Unlock()
	if runDirReady {
		return nil
	}
	if err := os.MkdirAll(RunDir, 0o755); err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	// Other kin processes (other clusters) may do the same at once.
	lock, err := os.OpenFile(filepath.Join(RunDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("netns: lock %s: %w", RunDir, err)
	}
	opt, isMount, err := topMount(RunDir)
	if err != nil {
		return err
	}
	if !isMount {
		if err := unix.Mount("kin", RunDir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0755"); err != nil {
			return fmt.Errorf("netns: mount a tmpfs on %s: %w", RunDir, err)
		}
		opt = []string{"new"}
	}
	if len(opt) > 0 {
		if err := unix.Mount("", RunDir, "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("netns: make %s private: %w", RunDir, err)
		}
	}
	runDirReady = true
	return nil
}

// ensureNetNSDir makes NetNSDir a shared mount point as iproute2 does, so
// that unmounting a named network namespace reaches every mount namespace.
func ensureNetNSDir() error {
	netnsMu.Lock()
	defer netnsMu.Unlock()
	if netnsReady {
		return nil
	}
	if err := os.MkdirAll(NetNSDir, 0o755); err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	madeMount := false
	for {
		err := unix.Mount("", NetNSDir, "none", unix.MS_SHARED|unix.MS_REC, "")
		if err == nil {
			break
		}
		if err != unix.EINVAL || madeMount {
			return fmt.Errorf("netns: make %s shared: %w", NetNSDir, err)
		}
		if err := unix.Mount(NetNSDir, NetNSDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("netns: bind-mount %s on itself: %w", NetNSDir, err)
		}
		madeMount = true
	}
	netnsReady = true
	return nil
}
