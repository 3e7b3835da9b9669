package netns

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Processes returns the pids of the processes whose network namespace is the
// sandbox's, sorted. A sandbox that does not exist has none.
func Processes(cluster, name string) ([]int, error) {
	if err := checkNames(cluster, name); err != nil {
		return nil, err
	}
	return processesIn(nsInodes([]*Sandbox{newSandbox(cluster, name)}))
}

// nsInodes returns the links ("net:[4026532]") of the mounted network
// namespaces of sbs, as /proc/PID/ns/net shows them.
func nsInodes(sbs []*Sandbox) map[string]bool {
	set := map[string]bool{}
	for _, s := range sbs {
		if ino := nsInode(s.NetPath); ino != 0 {
			set["net:["+strconv.FormatUint(ino, 10)+"]"] = true
		}
	}
	return set
}

// processesIn scans /proc for processes in any of the namespaces in set.
func processesIn(set map[string]bool) ([]int, error) {
	if len(set) == 0 {
		return nil, nil
	}
	d, err := os.Open("/proc")
	if err != nil {
		return nil, fmt.Errorf("netns: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("netns: read /proc: %w", err)
	}
	self := os.Getpid()
	var pids []int
	buf := make([]byte, 64)
	for _, n := range names {
		if n[0] < '0' || n[0] > '9' {
			continue
		}
		pid, err := strconv.Atoi(n)
		if err != nil || pid == self {
			continue
		}
		// Zombies and processes that exited meanwhile have no link.
		k, err := unix.Readlink("/proc/"+n+"/ns/net", buf)
		if err == nil && set[string(buf[:k])] {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids, nil
}

// killAll kills every process in the namespaces of set and waits until none
// is left (processes may fork while being killed).
func killAll(set map[string]bool) error {
	if len(set) == 0 {
		return nil
	}
	deadline := time.Now().Add(5 * time.Second)
	wait := time.Millisecond
	for {
		pids, err := processesIn(set)
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			strs := make([]string, len(pids))
			for i, p := range pids {
				strs[i] = strconv.Itoa(p)
			}
			return fmt.Errorf("netns: processes still running after SIGKILL: %s", strings.Join(strs, " "))
		}
		for _, pid := range pids {
			if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("netns: kill %d: %w", pid, err)
			}
		}
		time.Sleep(wait)
		if wait < 50*time.Millisecond {
			wait *= 2
		}
	}
}
