// Package netns manages sandboxes: named sets of persistent Linux namespaces
// (network, UTS and mount) that a node, an external host or a pod lives in,
// and runs code, sockets and host programs inside them.
//
// A sandbox of cluster C named N keeps its namespaces alive as bind mounts of
// namespace files:
//
//	/run/kin/C/sandboxes/N/net     network namespace
//	/run/kin/C/sandboxes/N/uts     UTS namespace (hostname)
//	/run/kin/C/sandboxes/N/mnt     mount namespace (files such as /etc/hosts)
//	/run/kin/C/sandboxes/N/files/  sources of the files bind-mounted inside
//	/run/kin/C/sandboxes/N/named   present when the network namespace is also
//	                               /run/netns/kin-C-N (for `ip netns exec`)
//
// /run/kin is a private tmpfs mount: a mount namespace file can only be
// bind-mounted where the mount does not propagate into other mount
// namespaces. The namespaces are created on a dedicated locked OS thread that
// unshares them (unshare of a mount namespace also unshares the thread's
// filesystem information, so it works in a multi-threaded Go process), sets
// the hostname, brings loopback up, mounts a sysfs of the new network
// namespace on /sys and bind-mounts the files, exactly once; the thread then
// exits. Nothing is executed, so creating a sandbox takes well under a
// millisecond of CPU.
//
// Inside a sandbox's mount namespace the root is a recursive slave of the
// machine's (as `ip netns exec` does), so unmounts under /run/netns reach it,
// and /run/kin is detached, so a sandbox never pins another sandbox's
// namespaces.
package netns

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// RunDir is the directory that holds every cluster's sandboxes.
const RunDir = "/run/kin"

// NetNSDir is where iproute2 looks for named network namespaces.
const NetNSDir = "/run/netns"

// SandboxSpec describes a sandbox to create or resume.
type SandboxSpec struct {
	// Cluster is the cluster name, part of every path and name.
	Cluster string
	// Name is unique within the cluster, e.g. "node-w1-k8s", "host-client",
	// "pod-<uid>".
	Name string
	// Hostname is set in the sandbox's UTS namespace; empty means Name.
	Hostname string
	// Files are bind-mounted in the sandbox's mount namespace over these
	// absolute paths, e.g. /etc/resolv.conf, /etc/hosts, /etc/hostname. Each
	// path must already exist on the machine as a file.
	Files map[string][]byte
	// NamedNetNS also exposes the network namespace as
	// /run/netns/kin-<cluster>-<name> so that `ip netns exec` works.
	NamedNetNS bool
}

// Sandbox is an existing set of namespaces. Its paths are bind-mounted
// namespace files that stay valid until Delete.
type Sandbox struct {
	Cluster, Name string
	// NetPath, UTSPath and MntPath are the namespace files.
	NetPath, UTSPath, MntPath string
	// NetNSName is the `ip netns` name of the network namespace, or empty
	// when the sandbox has none.
	NetNSName string
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

func checkNames(cluster, name string) error {
	if !validName.MatchString(cluster) {
		return fmt.Errorf("netns: invalid cluster name %q (letters, digits, '.', '_', '-'; at most 128)", cluster)
	}
	if !validName.MatchString(name) {
		return fmt.Errorf("netns: invalid sandbox name %q (letters, digits, '.', '_', '-'; at most 128)", name)
	}
	return nil
}

// clusterDir returns the directory of a cluster's sandboxes.
func clusterDir(cluster string) string { return filepath.Join(RunDir, cluster) }

func sandboxDir(cluster, name string) string {
	return filepath.Join(RunDir, cluster, "sandboxes", name)
}

// NetNSName returns the `ip netns` name a sandbox gets when NamedNetNS is set.
func NetNSName(cluster, name string) string { return "kin-" + cluster + "-" + name }

func newSandbox(cluster, name string) *Sandbox {
	dir := sandboxDir(cluster, name)
	return &Sandbox{
		Cluster: cluster,
		Name:    name,
		NetPath: filepath.Join(dir, "net"),
		UTSPath: filepath.Join(dir, "uts"),
		MntPath: filepath.Join(dir, "mnt"),
	}
}

func (s *Sandbox) dir() string       { return sandboxDir(s.Cluster, s.Name) }
func (s *Sandbox) filesDir() string  { return filepath.Join(s.dir(), "files") }
func (s *Sandbox) namedMark() string { return filepath.Join(s.dir(), "named") }
func (s *Sandbox) namedPath() string {
	return filepath.Join(NetNSDir, NetNSName(s.Cluster, s.Name))
}

// String returns "cluster/name".
func (s *Sandbox) String() string { return s.Cluster + "/" + s.Name }

// locks serializes Create and Delete of one sandbox within this process.
var locks sync.Map // "cluster/name" -> *sync.Mutex

func lockSandbox(cluster, name string) func() {
	m, _ := locks.LoadOrStore(cluster+"/"+name, new(sync.Mutex))
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// nsInode returns the inode of the namespace bind-mounted at path, or 0 when
// path is not a mounted namespace file.
func nsInode(path string) uint64 {
	var sfs unix.Statfs_t
	if err := unix.Statfs(path, &sfs); err != nil || sfs.Type != unix.NSFS_MAGIC {
		return 0
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0
	}
	return st.Ino
}

// complete reports how many of the three namespace files are mounted.
func (s *Sandbox) mounted() int {
	n := 0
	for _, p := range []string{s.NetPath, s.UTSPath, s.MntPath} {
		if nsInode(p) != 0 {
			n++
		}
	}
	return n
}

// Open returns an existing sandbox, or an error wrapping fs.ErrNotExist.
func Open(cluster, name string) (*Sandbox, error) {
	if err := checkNames(cluster, name); err != nil {
		return nil, err
	}
	s := newSandbox(cluster, name)
	if s.mounted() != 3 {
		return nil, fmt.Errorf("netns: sandbox %s: %w", s, fs.ErrNotExist)
	}
	if _, err := os.Stat(s.namedMark()); err == nil && nsInode(s.namedPath()) == nsInode(s.NetPath) {
		s.NetNSName = NetNSName(cluster, name)
	}
	return s, nil
}

// List returns the names of the cluster's sandboxes, sorted, including ones
// a killed process left half made (Cleanup and Delete remove those too).
func List(cluster string) ([]string, error) {
	if !validName.MatchString(cluster) {
		return nil, fmt.Errorf("netns: invalid cluster name %q", cluster)
	}
	ents, err := os.ReadDir(filepath.Join(clusterDir(cluster), "sandboxes"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("netns: list sandboxes: %w", err)
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() && validName.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// fileSource maps a path inside the sandbox to its source file name.
func fileSource(path string) string { return url.PathEscape(path) }

func checkSpec(spec *SandboxSpec) error {
	if err := checkNames(spec.Cluster, spec.Name); err != nil {
		return err
	}
	if spec.Hostname == "" {
		spec.Hostname = spec.Name
		if len(spec.Hostname) > 64 {
			spec.Hostname = spec.Hostname[:64]
		}
	}
	if len(spec.Hostname) > 64 || strings.ContainsAny(spec.Hostname, "/ \t\n\x00") {
		return fmt.Errorf("netns: sandbox %s/%s: invalid hostname %q", spec.Cluster, spec.Name, spec.Hostname)
	}
	for p := range spec.Files {
		if !filepath.IsAbs(p) || filepath.Clean(p) != p || p == "/" {
			return fmt.Errorf("netns: sandbox %s/%s: file path %q must be absolute and clean", spec.Cluster, spec.Name, p)
		}
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("netns: sandbox %s/%s: file %s must exist on the machine to be mounted over: %w", spec.Cluster, spec.Name, p, err)
		}
		if st.IsDir() {
			return fmt.Errorf("netns: sandbox %s/%s: %s is a directory, not a file", spec.Cluster, spec.Name, p)
		}
	}
	return nil
}

// Create makes the sandbox, or reuses an existing one (resume after a daemon
// restart): its files are rewritten in place, added or removed files are
// mounted or unmounted, the hostname is set again and the named network
// namespace is added or removed as the spec says. A sandbox a killed process
// left half made is removed and made anew.
func Create(spec SandboxSpec) (*Sandbox, error) {
	if err := checkSpec(&spec); err != nil {
		return nil, err
	}
	if err := ensureRunDir(); err != nil {
		return nil, err
	}
	unlock := lockSandbox(spec.Cluster, spec.Name)
	defer unlock()

	s := newSandbox(spec.Cluster, spec.Name)
	switch s.mounted() {
	case 3:
		if err := s.resume(spec); err != nil {
			return nil, err
		}
	case 0:
		if err := s.create(spec); err != nil {
			return nil, err
		}
	default:
		if err := s.teardown(); err != nil {
			return nil, err
		}
		if err := s.create(spec); err != nil {
			return nil, err
		}
	}
	if err := s.ensureNamed(spec.NamedNetNS); err != nil {
		return nil, err
	}
	return s, nil
}

// writeFiles writes the sources of spec.Files in place (a mounted source
// keeps its inode, so the sandbox sees the new content) and removes sources
// the spec no longer has. It returns the paths added and removed.
func (s *Sandbox) writeFiles(files map[string][]byte) (added, removed []string, err error) {
	dir := s.filesDir()
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("netns: sandbox %s: %w", s, err)
	}
	have := map[string]bool{}
	for _, e := range ents {
		p, err := url.PathUnescape(e.Name())
		if err != nil {
			continue
		}
		have[p] = true
		if _, ok := files[p]; !ok {
			removed = append(removed, p)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("netns: sandbox %s: %w", s, err)
	}
	for p, data := range files {
		src := filepath.Join(dir, fileSource(p))
		if have[p] {
			if old, err := os.ReadFile(src); err == nil && bytes.Equal(old, data) {
				continue
			}
		} else {
			added = append(added, p)
		}
		if err := os.WriteFile(src, data, 0o644); err != nil {
			return nil, nil, fmt.Errorf("netns: sandbox %s: write %s: %w", s, p, err)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	return added, removed, nil
}

// create makes new namespaces for s.
func (s *Sandbox) create(spec SandboxSpec) (err error) {
	defer func() {
		if err != nil {
			_ = s.teardown()
		}
	}()
	if err := os.MkdirAll(s.dir(), 0o755); err != nil {
		return fmt.Errorf("netns: sandbox %s: %w", s, err)
	}
	for _, p := range []string{s.NetPath, s.UTSPath, s.MntPath} {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_RDONLY, 0o444)
		if err != nil {
			return fmt.Errorf("netns: sandbox %s: %w", s, err)
		}
		f.Close()
	}
	if _, _, err := s.writeFiles(spec.Files); err != nil {
		return err
	}
	mounts := make([][2]string, 0, len(spec.Files))
	for p := range spec.Files {
		mounts = append(mounts, [2]string{filepath.Join(s.filesDir(), fileSource(p)), p})
	}
	sort.Slice(mounts, func(i, j int) bool { return mounts[i][1] < mounts[j][1] })

	// The namespaces are made on a thread of their own, which binds them
	// to the files while it is still inside and is then discarded: its
	// namespaces and filesystem information are changed for good.
	var bindErr error
	runLocked(func() bool {
		if bindErr = setupNamespaces(spec.Hostname, mounts); bindErr == nil {
			bindErr = s.bindNamespaces(unix.Gettid())
		}
		return false
	})
	if bindErr != nil {
		return fmt.Errorf("netns: sandbox %s: %w", s, bindErr)
	}
	return nil
}

// bindNamespaces bind-mounts the namespaces of thread tid onto the sandbox's
// files. It runs on another thread than tid: the mounts are made in the
// machine's mount namespace.
func (s *Sandbox) bindNamespaces(tid int) error {
	errc := make(chan error, 1)
	go func() { errc <- s.bindFrom(tid) }()
	return <-errc
}

func (s *Sandbox) bindFrom(tid int) error {
	task := fmt.Sprintf("/proc/%d/task/%d/ns/", os.Getpid(), tid)
	for _, m := range [][2]string{{"net", s.NetPath}, {"uts", s.UTSPath}, {"mnt", s.MntPath}} {
		if err := unix.Mount(task+m[0], m[1], "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind-mount %s namespace: %w", m[0], err)
		}
	}
	return nil
}

// setupNamespaces runs on a locked thread that exits afterwards: it moves the
// thread into new network, UTS and mount namespaces and prepares them.
func setupNamespaces(hostname string, mounts [][2]string) error {
	if err := unix.Unshare(unix.CLONE_NEWNET | unix.CLONE_NEWUTS | unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_SLAVE, ""); err != nil {
		return fmt.Errorf("make / a slave mount: %w", err)
	}
	if err := unix.Sethostname([]byte(hostname)); err != nil {
		return fmt.Errorf("set hostname: %w", err)
	}
	if err := loopbackUp(); err != nil {
		return err
	}
	// A sysfs of the new network namespace, as `ip netns exec` mounts, so
	// that /sys/class/net lists the sandbox's own interfaces.
	if err := unix.Unmount("/sys", unix.MNT_DETACH); err != nil && err != unix.EINVAL {
		return fmt.Errorf("unmount /sys: %w", err)
	}
	if err := unix.Mount("sysfs", "/sys", "sysfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount sysfs: %w", err)
	}
	for _, m := range mounts {
		if err := unix.Mount(m[0], m[1], "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind-mount %s: %w", m[1], err)
		}
	}
	// The sandbox must not hold copies of other sandboxes' namespace files.
	if err := unix.Unmount(RunDir, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach %s: %w", RunDir, err)
	}
	return nil
}

// loopbackUp sets lo up in the calling thread's network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	if ifr.Uint16()&unix.IFF_UP != 0 {
		return nil
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	return nil
}

// resume repairs an existing sandbox to match spec.
func (s *Sandbox) resume(spec SandboxSpec) error {
	added, removed, err := s.writeFiles(spec.Files)
	if err != nil {
		return err
	}
	if len(added) > 0 || len(removed) > 0 {
		if err := s.remount(added, removed); err != nil {
			return err
		}
		for _, p := range removed {
			_ = os.Remove(filepath.Join(s.filesDir(), fileSource(p)))
		}
	}
	if err := s.inNS(s.UTSPath, unix.CLONE_NEWUTS, func() error {
		return unix.Sethostname([]byte(spec.Hostname))
	}); err != nil {
		return fmt.Errorf("netns: sandbox %s: set hostname: %w", s, err)
	}
	if err := s.Do(loopbackUp); err != nil {
		return fmt.Errorf("netns: sandbox %s: %w", s, err)
	}
	return nil
}

// remount mounts added files and unmounts removed ones inside the sandbox's
// mount namespace. The sources are not visible there, so each is taken
// along as a detached mount (open_tree) and attached with move_mount.
func (s *Sandbox) remount(added, removed []string) error {
	trees := make([]int, 0, len(added))
	defer func() {
		for _, fd := range trees {
			unix.Close(fd)
		}
	}()
	for _, p := range added {
		fd, err := unix.OpenTree(unix.AT_FDCWD, filepath.Join(s.filesDir(), fileSource(p)),
			unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err != nil {
			return fmt.Errorf("netns: sandbox %s: open_tree %s: %w", s, p, err)
		}
		trees = append(trees, fd)
	}
	mntfd, err := unix.Open(s.MntPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("netns: sandbox %s: %w", s, err)
	}
	defer unix.Close(mntfd)
	var err2 error
	// Entering a mount namespace changes the thread for good.
	runLocked(func() bool {
		err2 = func() error {
			if err := unix.Unshare(unix.CLONE_FS); err != nil {
				return fmt.Errorf("unshare fs: %w", err)
			}
			if err := unix.Setns(mntfd, unix.CLONE_NEWNS); err != nil {
				return fmt.Errorf("enter mount namespace: %w", err)
			}
			for _, p := range removed {
				if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && err != unix.EINVAL {
					return fmt.Errorf("unmount %s: %w", p, err)
				}
			}
			for i, p := range added {
				if err := unix.MoveMount(trees[i], "", unix.AT_FDCWD, p, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
					return fmt.Errorf("mount %s: %w", p, err)
				}
			}
			return nil
		}()
		return false
	})
	if err2 != nil {
		return fmt.Errorf("netns: sandbox %s: %w", s, err2)
	}
	return nil
}

// ensureNamed adds or removes /run/netns/kin-<cluster>-<name>.
func (s *Sandbox) ensureNamed(want bool) error {
	path := s.namedPath()
	if !want {
		s.NetNSName = ""
		return s.removeNamed()
	}
	s.NetNSName = NetNSName(s.Cluster, s.Name)
	ino := nsInode(s.NetPath)
	switch cur := nsInode(path); {
	case cur == ino:
		return touch(s.namedMark())
	case cur != 0:
		return fmt.Errorf("netns: sandbox %s: %s already exists and is another network namespace", s, path)
	}
	if err := ensureNetNSDir(); err != nil {
		return err
	}
	if err := touch(s.namedMark()); err != nil {
		return err
	}
	if err := touch(path); err != nil {
		return err
	}
	if err := unix.Mount(s.NetPath, path, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("netns: sandbox %s: bind-mount %s: %w", s, path, err)
	}
	return nil
}

// removeNamed removes the sandbox's named network namespace if it is its own.
func (s *Sandbox) removeNamed() error {
	if _, err := os.Stat(s.namedMark()); err != nil {
		return nil
	}
	path := s.namedPath()
	cur, own := nsInode(path), nsInode(s.NetPath)
	if cur != 0 && own != 0 && cur != own {
		// Someone else's namespace has that name now: leave it.
		return os.Remove(s.namedMark())
	}
	if cur != 0 {
		if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && err != unix.EINVAL {
			return fmt.Errorf("netns: sandbox %s: unmount %s: %w", s, path, err)
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("netns: sandbox %s: %w", s, err)
	}
	if err := os.Remove(s.namedMark()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("netns: sandbox %s: %w", s, err)
	}
	return nil
}

func touch(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o444)
	if err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	return f.Close()
}

// Delete kills every process still in the sandbox's network namespace,
// unmounts the namespace files and removes the sandbox's directory. Deleting
// a sandbox that is already gone succeeds.
func (s *Sandbox) Delete() error { return Remove(s.Cluster, s.Name) }

// Remove deletes the named sandbox as Delete does, also one that a killed
// process left half made (which Open does not return).
func Remove(cluster, name string) error {
	if err := checkNames(cluster, name); err != nil {
		return err
	}
	unlock := lockSandbox(cluster, name)
	defer unlock()
	s := newSandbox(cluster, name)
	// The namespaces are unmounted first: then no program can enter them
	// any more (nsenter opens the files before it enters them), and one scan
	// of /proc by the namespace's inode finds every process left inside.
	set := nsInodes([]*Sandbox{s})
	if err := s.teardown(); err != nil {
		return err
	}
	return killAll(set)
}

// teardown unmounts everything of s and removes its directory.
func (s *Sandbox) teardown() error {
	var errs []error
	if err := s.removeNamed(); err != nil {
		errs = append(errs, err)
	}
	for _, p := range []string{s.NetPath, s.UTSPath, s.MntPath} {
		for nsInode(p) != 0 {
			if err := unix.Unmount(p, unix.MNT_DETACH); err != nil {
				errs = append(errs, fmt.Errorf("netns: sandbox %s: unmount %s: %w", s, p, err))
				break
			}
		}
	}
	if len(errs) == 0 {
		if err := os.RemoveAll(s.dir()); err != nil {
			errs = append(errs, fmt.Errorf("netns: sandbox %s: %w", s, err))
		}
	}
	return errors.Join(errs...)
}

// Cleanup removes every sandbox of the cluster and the cluster's directory:
// for `kin down` and for what a killed daemon left behind.
func Cleanup(cluster string) error {
	names, err := List(cluster)
	if err != nil {
		return err
	}
	sbs := make([]*Sandbox, 0, len(names))
	for _, n := range names {
		sbs = append(sbs, newSandbox(cluster, n))
	}
	set := nsInodes(sbs)
	var errs []error
	for _, s := range sbs {
		unlock := lockSandbox(s.Cluster, s.Name)
		if err := s.teardown(); err != nil {
			errs = append(errs, err)
		}
		unlock()
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := killAll(set); err != nil {
		return err
	}
	dir := clusterDir(cluster)
	// Anything still mounted below the cluster's directory, deepest first.
	mps, err := mountPointsUnder(dir)
	if err != nil {
		return err
	}
	for i := len(mps) - 1; i >= 0; i-- {
		if err := unix.Unmount(mps[i], unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
			errs = append(errs, fmt.Errorf("netns: cleanup %s: unmount %s: %w", cluster, mps[i], err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("netns: cleanup %s: %w", cluster, err)
	}
	return nil
}
