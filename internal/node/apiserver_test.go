package node

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"kin/internal/apiserver"
	"kin/internal/store"
)

// TestAgainstKinAPIServer runs the agent against kin's own API server:
// field-selected watches, the pods/status subresource, events, leases and
// graceful deletion finished by the agent.
func TestAgainstKinAPIServer(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "store.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := apiserver.New(apiserver.Config{Store: st, Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srvDone := make(chan struct{})
	go func() { srv.Run(ctx); close(srvDone) }()
	t.Cleanup(func() { cancel(); <-srvDone; st.Close() })
	client := kubernetes.NewForConfigOrDie(&rest.Config{Host: "http://" + ln.Addr().String(), QPS: 1000, Burst: 1000})
	for _, ns := range []string{"default", "kube-node-lease"} {
		if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}

	h := newHarness(t, func(c *Config) { c.Client = client })
	// A pod of another node must be left alone.
	other := h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "elsewhere"},
		Spec: corev1.PodSpec{NodeName: "w2-k8s", Containers: []corev1.Container{{
			Name: "c", Image: "busybox", Command: []string{"sleep", "60"},
		}}},
	})
	h.createPod(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "web", Image: "web", Ports: []corev1.ContainerPort{{ContainerPort: 80}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intOrString(80)}}, PeriodSeconds: 1},
		}}},
	})
	p := h.waitPod("default", "nginx", "Running and Ready", running)
	if p.Status.PodIP == "" || p.Status.HostIP != "192.168.1.101" {
		t.Errorf("status = %s", describeStatus(p))
	}
	h.waitEvent("Started: Started container web")
	// A settled pod's status is not written again and again.
	rv := h.getPod("default", "nginx").ResourceVersion
	time.Sleep(time.Second)
	if now := h.getPod("default", "nginx").ResourceVersion; now != rv {
		t.Errorf("status of a settled pod keeps being written: resourceVersion %s -> %s", rv, now)
	}
	waitFor(t, "lease", func() bool {
		_, err := client.CoordinationV1().Leases("kube-node-lease").Get(ctx, testNode, metav1.GetOptions{})
		return err == nil
	})

	// kubectl delete: the server marks the pod; the agent stops it and
	// removes the object.
	if err := client.CoreV1().Pods("default").Delete(ctx, "nginx", metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(5))}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitFor(t, "pod removed", func() bool {
		_, err := client.CoreV1().Pods("default").Get(ctx, "nginx", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("deletion took %v", took)
	}
	if got := h.getPod("default", "elsewhere"); got == nil {
		t.Errorf("the other node's pod is gone")
	} else if got.Status.Phase != corev1.PodPending || got.Status.PodIP != "" || h.sandboxes.get(string(other.UID)) != nil {
		t.Errorf("the agent touched another node's pod: %s", describeStatus(got))
	}
}
