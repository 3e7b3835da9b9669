// Package bench holds kin's benchmarks. They run on demand, never as part of
// the tests:
//
//	go test ./bench -run '^$' -bench . -benchtime 1x
//
// Each benchmark starts a real kin daemon (root needed) and reports its
// figures as custom metrics, one result line each.
package bench

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

var kinBin string

func TestMain(m *testing.M) {
	flag.Parse()
	// Only benchmarks use the binary: a plain `go test ./...` skips the build.
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run())
	}
	dir, _ := os.MkdirTemp("", "kin-bench-")
	kinBin = filepath.Join(dir, "kin")
	build := exec.Command("go", "build", "-o", kinBin, "kin/cmd/kin")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building kin:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type benchCluster struct {
	name, state string
	env         []string
}

func startCluster(b *testing.B) *benchCluster {
	if os.Geteuid() != 0 {
		b.Skip("benchmarks start real clusters: run as root")
	}
	c := &benchCluster{name: fmt.Sprintf("bench-%06x", rand.IntN(1<<24)), state: b.TempDir()}
	c.env = append(os.Environ(), "KIN_STATE_DIR="+c.state, "KUBECONFIG="+filepath.Join(c.state, "user-kubeconfig"))
	if out, err := c.kin("up"); err != nil {
		b.Fatalf("kin up: %v\n%s", err, out)
	}
	b.Cleanup(func() { c.kin("down") })
	return c
}

func (c *benchCluster) kin(args ...string) (string, error) {
	cmd := exec.Command(kinBin, append([]string{"--name", c.name}, args...)...)
	cmd.Env = c.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (c *benchCluster) client(b *testing.B) *kubernetes.Clientset {
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(c.state, c.name, "kubeconfig"))
	if err != nil {
		b.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 100000, 100000
	return kubernetes.NewForConfigOrDie(cfg)
}

// BenchmarkUp times `kin up` of a new default cluster: to the API answering
// (the network and API server steps it reports) and to returning with all
// four nodes Ready with their pod blocks and the service proxies programmed.
// Goals: API under 300 ms, nodes Ready under 1 s.
func BenchmarkUp(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("run as root")
	}
	var total, api []time.Duration
	for i := 0; i < 5; i++ {
		c := &benchCluster{name: fmt.Sprintf("bench-up-%06x", rand.IntN(1<<24)), state: b.TempDir()}
		c.env = append(os.Environ(), "KIN_STATE_DIR="+c.state, "KUBECONFIG="+filepath.Join(c.state, "user-kubeconfig"))
		start := time.Now()
		out, err := c.kin("up")
		took := time.Since(start)
		c.kin("down")
		if err != nil {
			b.Fatalf("kin up: %v\n%s", err, out)
		}
		total = append(total, took)
		api = append(api, apiSteps(out))
	}
	b.ReportMetric(float64(median(api).Microseconds())/1000, "ms-median-api-ready")
	b.ReportMetric(float64(median(total).Microseconds())/1000, "ms-median-nodes-ready")
}

// apiSteps adds up the durations kin up prints for the steps up to the API
// server answering.
func apiSteps(out string) time.Duration {
	var sum time.Duration
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, "Built the network") && !strings.Contains(line, "Started the API server") {
			continue
		}
		i, j := strings.LastIndex(line, "("), strings.LastIndex(line, ")")
		if i >= 0 && j > i {
			if d, err := time.ParseDuration(line[i+1 : j]); err == nil {
				sum += d
			}
		}
	}
	return sum
}

// BenchmarkCreates measures creates per second for 10k ConfigMaps and 10k
// Services from 32 concurrent clients. Goal: 5k/s.
func BenchmarkCreates(b *testing.B) {
	c := startCluster(b)
	client := c.client(b)
	const n, workers = 10000, 32
	run := func(kind string, create func(ctx context.Context, i int) error) {
		var next atomic.Int64
		var wg sync.WaitGroup
		var failed atomic.Int64
		start := time.Now()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					if err := create(context.Background(), i); err != nil {
						if failed.Add(1) == 1 {
							b.Errorf("create %s %d: %v", kind, i, err)
						}
					}
				}
			}()
		}
		wg.Wait()
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), kind+"-creates/s")
	}
	run("configmap", func(ctx context.Context, i int) error {
		_, err := client.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%d", i)}, Data: map[string]string{"k": "v"},
		}, metav1.CreateOptions{})
		return err
	})
	run("service", func(ctx context.Context, i int) error {
		_, err := client.CoreV1().Services("default").Create(ctx, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("svc-%d", i)},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "x"},
				Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
		}, metav1.CreateOptions{})
		return err
	})
}

// BenchmarkWatchLatency measures, with 100 watchers on ConfigMaps, the time
// from the start of a write to each watcher receiving its event, over 200
// writes; reports p50 and p99. Goal: p99 under 10 ms.
func BenchmarkWatchLatency(b *testing.B) {
	c := startCluster(b)
	client := c.client(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const watchers, writes = 100, 200
	var mu sync.Mutex
	started := map[string]time.Time{}
	var lat []time.Duration
	var wg sync.WaitGroup
	ready := make(chan struct{}, watchers)
	for i := 0; i < watchers; i++ {
		w, err := client.CoreV1().ConfigMaps("default").Watch(ctx, metav1.ListOptions{ResourceVersion: "", AllowWatchBookmarks: false})
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func(w watch.Interface) {
			defer wg.Done()
			ready <- struct{}{}
			got := 0
			for ev := range w.ResultChan() {
				if ev.Type != watch.Added {
					continue
				}
				name := ev.Object.(*corev1.ConfigMap).Name
				if !strings.HasPrefix(name, "lat-") {
					continue
				}
				now := time.Now()
				mu.Lock()
				lat = append(lat, now.Sub(started[name]))
				mu.Unlock()
				if got++; got == writes {
					w.Stop()
					return
				}
			}
		}(w)
	}
	for i := 0; i < watchers; i++ {
		<-ready
	}
	time.Sleep(200 * time.Millisecond)
	for i := 0; i < writes; i++ {
		name := fmt.Sprintf("lat-%d", i)
		mu.Lock()
		started[name] = time.Now()
		mu.Unlock()
		if _, err := client.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-p50")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ms-p99")
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
