package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestDownLeavesNothing runs a pod with a host process, then checks that
// `kin down` removes every namespace, mount and process the cluster made.
func TestDownLeavesNothing(t *testing.T) {
	c := newCluster(t)
	client := c.client()
	ctx := context.Background()
	marker := fmt.Sprintf("%d", 3000000+time.Now().UnixNano()%1000000)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "sleeper"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "sleep", Image: "busybox", Command: []string{"/bin/sleep", marker},
		}}},
	}
	if _, err := client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !processRunning(marker) {
		if time.Now().After(deadline) {
			t.Fatal("the pod's process never started")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out, err := c.kin("down"); err != nil {
		t.Fatalf("kin down: %v\n%s", err, out)
	}
	if processRunning(marker) {
		t.Error("the pod's process survived kin down")
	}
	if left, _ := filepath.Glob("/run/netns/kin-" + c.name + "-*"); len(left) > 0 {
		t.Errorf("network namespaces left: %v", left)
	}
	if _, err := os.Stat("/run/kin/" + c.name); err == nil {
		t.Errorf("/run/kin/%s left", c.name)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), "/run/kin/"+c.name+"/") {
		t.Errorf("mounts left under /run/kin/%s", c.name)
	}
	if _, err := os.Stat(filepath.Join(c.stateDir, c.name)); err == nil {
		t.Errorf("state directory left")
	}
}

// processRunning reports whether a process has arg in its command line.
func processRunning(arg string) bool {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, a := range strings.Split(string(data), "\x00") {
			if a == arg {
				return true
			}
		}
	}
	return false
}
