package cni

import (
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/vishvananda/netns"
)

// Benchmarks of the per-pod data path on a real kernel (root only). Pod
// namespaces are created with the timer stopped: creating the sandbox is
// the node agent's cost, not the CNI's. Run for example with
//
//	go test -run '^$' -bench . -benchtime 200x ./internal/cni/

func benchNode(b *testing.B) (*testLab, NodeConfig) {
	l := newTestLab(b)
	node := l.addNode("n1", 11, cidr("172.16.0.0/26"))
	if err := l.net.SetupNode(node); err != nil {
		b.Fatal(err)
	}
	return l, node
}

// podIP returns the i-th pod address of a benchmark (172.16.64.0/18).
func podIP(i int) net.IP {
	return net.IPv4(172, 16, byte(64+i/250%64), byte(1+i%250)).To4()
}

// tempNS creates a pod namespace that the caller deletes with the
// returned function (benchmarks create too many to keep them all).
func tempNS(b *testing.B, l *testLab, name string) (string, func()) {
	full := l.prefix + "-" + name
	path := l.newNSNoCleanup(full)
	return path, func() { netns.DeleteNamed(full) }
}

// BenchmarkAddPod measures AddPod for a new pod: one op is one pod.
func BenchmarkAddPod(b *testing.B) {
	l, node := benchNode(b)
	var cleanups []func()
	defer func() {
		for _, c := range cleanups {
			c()
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		path, del := tempNS(b, l, fmt.Sprintf("p%d", i))
		cleanups = append(cleanups, del)
		b.StartTimer()
		if _, err := l.net.AddPod(node, PodConfig{ID: fmt.Sprintf("default/p%d", i), NetNSPath: path, IP: podIP(i)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddPodAgain measures AddPod for a pod that is already attached
// (the idempotent repair check).
func BenchmarkAddPodAgain(b *testing.B) {
	l, node := benchNode(b)
	path, del := tempNS(b, l, "p")
	defer del()
	pod := PodConfig{ID: "default/p", NetNSPath: path, IP: podIP(0)}
	if _, err := l.net.AddPod(node, pod); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.net.AddPod(node, pod); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDelPod measures DelPod: one op is one pod.
func BenchmarkDelPod(b *testing.B) {
	l, node := benchNode(b)
	var cleanups []func()
	defer func() {
		for _, c := range cleanups {
			c()
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		path, del := tempNS(b, l, fmt.Sprintf("p%d", i))
		cleanups = append(cleanups, del)
		id := fmt.Sprintf("default/p%d", i)
		if _, err := l.net.AddPod(node, PodConfig{ID: id, NetNSPath: path, IP: podIP(i)}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := l.net.DelPod(node, id, podIP(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAdd100Pods measures attaching 100 pods to one node from 4
// goroutines, as a node agent starting a deployment would: one op is 100
// pods.
func BenchmarkAdd100Pods(b *testing.B) {
	l, node := benchNode(b)
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		paths := make([]string, 100)
		dels := make([]func(), 100)
		for i := range paths {
			paths[i], dels[i] = tempNS(b, l, fmt.Sprintf("r%d-%d", n, i))
		}
		b.StartTimer()
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < 100; i += 4 {
					_, err := l.net.AddPod(node, PodConfig{ID: fmt.Sprintf("default/r%d-%d", n, i), NetNSPath: paths[i], IP: podIP(i)})
					if err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		for i := range paths {
			if err := l.net.DelPod(node, fmt.Sprintf("default/r%d-%d", n, i), podIP(i)); err != nil {
				b.Fatal(err)
			}
			dels[i]()
		}
		b.StartTimer()
	}
}
