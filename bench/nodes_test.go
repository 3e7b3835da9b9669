package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// BenchmarkDeploy100 times a 100-replica nginx deployment from create to
// all pods Ready (goal: under 3 s), then reports the daemon's RSS with those
// 100 built-in pods running (goal: under 150 MB).
func BenchmarkDeploy100(b *testing.B) {
	c := startCluster(b)
	client := c.client(b)
	ctx := context.Background()
	labels := map[string]string{"app": "bench"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "bench"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](100),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx"}}},
			},
		},
	}
	start := time.Now()
	if _, err := client.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	for {
		got, err := client.AppsV1().Deployments("default").Get(ctx, "bench", metav1.GetOptions{})
		if err == nil && got.Status.ReadyReplicas == 100 {
			break
		}
		if time.Since(start) > 2*time.Minute {
			b.Fatalf("not ready after 2 minutes: %+v", got.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.ReportMetric(time.Since(start).Seconds(), "s-100-ready")
	time.Sleep(2 * time.Second)
	b.ReportMetric(float64(daemonRSS(b, c))/(1<<20), "MB-daemon-rss")
}

// daemonRSS reads the resident set size of the cluster's daemon.
func daemonRSS(b *testing.B, c *benchCluster) int64 {
	data, err := os.ReadFile(filepath.Join(c.state, c.name, "daemon.pid"))
	if err != nil {
		b.Fatal(err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%s/status", strings.TrimSpace(string(data))))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
