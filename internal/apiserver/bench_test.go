package apiserver

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkCreateConfigMapsParallel measures the create path in process
// (plain HTTP, no TLS); bench/ measures the real daemon.
func BenchmarkCreateConfigMapsParallel(b *testing.B) {
	t := &testing.T{}
	ts := startTestServer(t, b.TempDir())
	defer ts.stop()
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			_, err := ts.client.CoreV1().ConfigMaps("default").Create(context.Background(), &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%d", i)}, Data: map[string]string{"k": "v"},
			}, metav1.CreateOptions{})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkCreateConfigMapsSerial(b *testing.B) {
	t := &testing.T{}
	ts := startTestServer(t, b.TempDir())
	defer ts.stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := ts.client.CoreV1().ConfigMaps("default").Create(context.Background(), &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%d", i)}, Data: map[string]string{"k": "v"},
		}, metav1.CreateOptions{})
		if err != nil {
			b.Fatal(err)
		}
	}
}
